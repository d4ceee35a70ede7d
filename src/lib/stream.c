/* stream: see stream.h (not yet written). */
#include "stream.h"
