/* placeholder */
#include "osnctl.h"
int osnctl_trace(struct osnctl *ctl, int argc, char **argv)
{
        return 0;
}
