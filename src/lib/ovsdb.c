/* ovsdb: see ovsdb.h (not yet written). */
#include "ovsdb.h"
