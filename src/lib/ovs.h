#ifndef OSN_OVS_H
#define OSN_OVS_H
#include "util.h"
#endif
