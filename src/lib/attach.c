/* attach: see attach.h (not yet written). */
#include "attach.h"
