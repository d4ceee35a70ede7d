/* netconf: see netconf.h (not yet written). */
#include "netconf.h"
