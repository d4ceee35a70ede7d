/* nodeconf: see nodeconf.h (not yet written). */
#include "nodeconf.h"
