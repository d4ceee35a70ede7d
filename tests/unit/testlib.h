/* testlib: what the table-driven unit tests share: checks that count and
 * go on, and their data files.
 *
 * CHECK(cond, fmt, ...) counts a check and, when 'cond' is false, a
 * failure, printing where and why; the test goes on, so that one run shows
 * every failing case, and main() ends with `return failures ? 1 : 0`.
 * REQUIRE(cond) ends the test (exit 1) where going on makes no sense.
 * (test-ovsdb keeps its own CHECK, which stops at the first failure: its
 * steps build on each other.)
 *
 * Data files live in tests/unit/data/ (OSN_TEST_DIR is the tests/
 * directory, set by meson).
 */
#ifndef OSN_TESTLIB_H
#define OSN_TESTLIB_H

#include <stdio.h>

#include "addr.h"
#include "util.h"

extern int failures, checks;

#define CHECK(cond, ...)                                                                           \
        do {                                                                                       \
                checks++;                                                                          \
                if (!(cond)) {                                                                     \
                        failures++;                                                                \
                        fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond);   \
                        fprintf(stderr, __VA_ARGS__);                                              \
                        fputc('\n', stderr);                                                       \
                }                                                                                  \
        } while (0)

#define REQUIRE(cond)                                                                              \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "%s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__, #cond); \
                        exit(1);                                                                   \
                }                                                                                  \
        } while (0)

/* An address ("10.0.0.5") or CIDR ("10.0.0.0/24") that the test writes,
 * parsed; a test that writes a bad one is broken and exits 1. */
struct osn_cidr test_cidr(const char *s);

/* The contents of tests/unit/data/<name>, malloc'd and NUL-terminated, its
 * length in *ret_len (may be NULL); NULL when it cannot be read. */
char *test_data_read(const char *name, size_t *ret_len);

/* Golden file tests/unit/data/<name>: CHECKs that 'text' equals it byte
 * for byte, or, with OSN_UPDATE_GOLDEN set, rewrites it from 'text'
 * (review the diff before committing it). */
void golden(const char *name, const char *text);

#endif
