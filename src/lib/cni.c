/* cni: see cni.h (not yet written). */
#include "cni.h"
