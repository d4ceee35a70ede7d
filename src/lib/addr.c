/* addr: see addr.h (not yet written). */
#include "addr.h"
