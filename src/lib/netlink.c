/* netlink: see netlink.h (not yet written). */
#include "netlink.h"
