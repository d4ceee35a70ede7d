#ifndef OSN_OVN_H
#define OSN_OVN_H
#include "util.h"
#endif
