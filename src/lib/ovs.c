/* ovs: see ovs.h (not yet written). */
#include "ovs.h"
