/* ovn: see ovn.h (not yet written). */
#include "ovn.h"
