#ifndef OSN_ATTACH_H
#define OSN_ATTACH_H
#include "util.h"
#endif
