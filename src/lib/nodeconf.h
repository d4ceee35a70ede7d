#ifndef OSN_NODECONF_H
#define OSN_NODECONF_H
#include "util.h"
#endif
