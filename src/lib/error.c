/* error: see error.h. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

int osn_error_set(struct osn_error *err, int errno_hint, int code, const char *fmt, ...)
{
        int r = errno_hint < 0 ? errno_hint : -errno_hint;
        if (r == 0)
                r = -EINVAL;
        if (!err || err->code != 0)
                return r;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
        va_end(ap);
        err->code = code;
        err->details[0] = 0;
        err->line = 0;
        err->column = 0;
        err->failed_op = -1;
        return r;
}

void osn_error_details(struct osn_error *err, const char *fmt, ...)
{
        if (!err || err->code == 0)
                return;
        size_t len = strlen(err->details);
        if (len + 1 >= sizeof(err->details))
                return;
        if (len > 0)
                err->details[len++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->details + len, sizeof(err->details) - len, fmt, ap);
        va_end(ap);
}
