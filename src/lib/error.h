/* error: the message that travels to the user.
 *
 * Inside osn, failures are negative errno values in an `int r`.  When a
 * failure must reach the user with words (a bad netconf key, an OVSDB error
 * reply, an unmapped physical network), the failing function also fills a
 * `struct osn_error`: a CNI error code, a one-line message that names the
 * exact key, value or variable, and optional details.  Only the program edge
 * (the plugin's main, osnctl) turns it into CNI error JSON or text.  The code
 * is set where the error is made, and is one docs/errors.md documents: the
 * edge does not reclassify it.
 *
 * When the failure is about a place in a document the caller handed in (a
 * JSON syntax error in a netconf), the failing function also records that
 * place as data in 'line' and 'column', so that a tool can point at it
 * (osnctl validate maps it into the file the user edits) without reading
 * it back out of the message.  The message states it in words as well.
 *
 * Ownership: the struct is caller-allocated and fixed-size; nothing to free.
 * The first error set wins: osn_error_set() on an already-set error is a
 * no-op, so the innermost, most precise message survives unwinding.
 */
#ifndef OSN_ERROR_H
#define OSN_ERROR_H

#include "util.h"

/* CNI spec error codes (SPEC.md "Error") plus osn's own (>= 100). */
enum osn_cni_code {
        OSN_CNI_OK = 0,
        OSN_CNI_INCOMPATIBLE_VERSION = 1,
        OSN_CNI_UNSUPPORTED_FIELD = 2,
        OSN_CNI_UNKNOWN_CONTAINER = 3,
        OSN_CNI_INVALID_ENV = 4,
        OSN_CNI_IO_FAILURE = 5,
        OSN_CNI_DECODE_FAILURE = 6,
        OSN_CNI_INVALID_CONFIG = 7,
        OSN_CNI_TRY_AGAIN_LATER = 11,
        OSN_CNI_NOT_AVAILABLE = 50,
        OSN_CNI_LIMITED_CONNECTIVITY = 51,
        /* osn-specific, >= 100 as the spec reserves them for plugins. */
        OSN_CNI_OVSDB_ERROR = 100,   /* the database refused a transaction */
        OSN_CNI_NETLINK_ERROR = 101, /* the kernel refused a link operation */
        OSN_CNI_CONFLICT = 102,      /* network settings or address conflict */
        OSN_CNI_CHECK_FAILED = 103,  /* CHECK found the attachment not as ADD left it */
        OSN_CNI_NOT_GRANTED = 104,   /* the node config does not grant it (tenancy.h) */
};

struct osn_error {
        int code;           /* enum osn_cni_code; 0 = no error set */
        char msg[512];      /* one line, names the key/value/variable */
        char details[1024]; /* optional, may be empty */
        /* Where in the document the caller parsed the error points: 1-based
         * line and column (in characters, as the JSON decoder counts them:
         * only '\n' breaks a line); 0 when unknown or not about a place.
         * osn_error_set() resets both to 0; the function that set the error
         * fills them afterwards. */
        int line;
        int column;
        /* For an OVSDB transaction that failed on one operation: that
         * operation's index in the request (so a caller that built the
         * request can tell which guard failed); -1 otherwise.
         * osn_error_set() resets it; ovsdb.h fills it afterwards. */
        int failed_op;
};

/* Sets code and message (printf format) unless an error is already set.
 * Returns -abs(errno_hint) (or -EINVAL when errno_hint is 0) so that callers
 * can write `return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG, ...)`. */
int osn_error_set(struct osn_error *err, int errno_hint, int code, const char *fmt, ...)
    _printf_(4, 5);

/* Appends to the details of an error that is set (no-op when not set). */
void osn_error_details(struct osn_error *err, const char *fmt, ...) _printf_(2, 3);

static inline bool osn_error_isset(const struct osn_error *err)
{
        return err && err->code != 0;
}

static inline void osn_error_clear(struct osn_error *err)
{
        if (err) {
                err->code = 0;
                err->msg[0] = 0;
                err->details[0] = 0;
                err->line = 0;
                err->column = 0;
                err->failed_op = -1;
        }
}

#endif
