/* util: small helpers shared by every osn module.
 *
 * Contract: header-only; no allocation except where a function says so.
 * Cleanup attributes follow systemd: a variable declared
 * `_cleanup_free_ char *s = NULL;` is freed when it leaves scope, and
 * TAKE_PTR(s) hands ownership out of the scope.  Every destructor used with
 * _cleanup_ accepts NULL.
 */
#ifndef OSN_UTIL_H
#define OSN_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _nonnull_(...) __attribute__((nonnull(__VA_ARGS__)))
#define _wur_          __attribute__((warn_unused_result))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_       __attribute__((unused))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Hands ownership of *p out of a _cleanup_ scope. */
#define TAKE_PTR(p)                                                                                \
        ({                                                                                         \
                __typeof__(p) _p_ = (p);                                                           \
                (p) = NULL;                                                                        \
                _p_;                                                                               \
        })

#define TAKE_FD(fd)                                                                                \
        ({                                                                                         \
                int _fd_ = (fd);                                                                   \
                (fd) = -1;                                                                         \
                _fd_;                                                                              \
        })

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
#define _cleanup_close_ _cleanup_(closep)

/* jansson (>= 2.9) provides json_decrefp() for this. */
#define _cleanup_json_ _cleanup_(json_decrefp)

static inline bool streq(const char *a, const char *b)
{
        return a && b && strcmp(a, b) == 0;
}

static inline bool startswith(const char *s, const char *prefix)
{
        return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The value of hex digit 'c' (either case), or -1. */
static inline int osn_hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Monotonic clock in milliseconds: every deadline in osn is expressed on it. */
static inline int64_t osn_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until 'deadline' (never negative). */
static inline int osn_ms_left(int64_t deadline)
{
        int64_t left = deadline - osn_now_ms();
        if (left < 0)
                return 0;
        if (left > 1000 * 1000 * 1000)
                return 1000 * 1000 * 1000;
        return (int)left;
}

#endif
