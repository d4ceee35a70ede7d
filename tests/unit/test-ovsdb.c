/* test-ovsdb: the OVSDB client (ovsdb.c, stream.c).
 *
 * Three parts: the frame scanner and the operation helpers on their own; the
 * client against a fake server (a forked child on the other end of a
 * socketpair() that writes raw bytes: split replies, echo requests, errors,
 * garbage, silence); and the client against a real ovsdb-server (unix:,
 * tcp: and ssl: remotes, the OVN Northbound schema) started in a temporary
 * directory and always killed at exit.  Exits 77 when ovsdb-server is not
 * installed (after the first two parts passed).
 */
#include "ovsdb.h"

#include <netinet/in.h>
#include <arpa/inet.h>
#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "testserver.h"

#define CHECK(cond)                                                                                \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);   \
                        exit(1);                                                                   \
                }                                                                                  \
        } while (0)

/* In a forked fake server: fail without running the parent's atexit(). */
#define PCHECK(cond)                                                                               \
        do {                                                                                       \
                if (!(cond)) {                                                                     \
                        fprintf(stderr, "%s:%d: peer: CHECK(%s) failed\n", __FILE__, __LINE__,     \
                                #cond);                                                            \
                        _exit(1);                                                                  \
                }                                                                                  \
        } while (0)

#define NB "OVN_Northbound"

static const char *tmpdir;

static int64_t dl(int ms)
{
        return osn_now_ms() + ms;
}

static bool contains(const char *haystack, const char *needle)
{
        return haystack && strstr(haystack, needle) != NULL;
}

static char *dumps(const json_t *j)
{
        return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
}

/* Checks that 'j' (stolen) serializes to 'expected'. */
static void check_json(json_t *j, const char *expected)
{
        _cleanup_free_ char *s = dumps(j);
        json_decref(j);
        if (!streq(s, expected)) {
                fprintf(stderr, "got %s\nexpected %s\n", s ? s : "(null)", expected);
                CHECK(false);
        }
}

/* --- Part 1: framing and helpers --- */

static void test_frame(void)
{
        static const struct {
                const char *in;
                ssize_t out;
        } cases[] = {
            {"{}", 2},
            {"[1,2]", 5},
            {" \t\r\n{}", 6},
            {"{}{}", 2},
            {"{\"a\":1} trailing", 7},
            {"", 0},
            {"   ", 0},
            {"{", 0},
            {"{\"a\":[1,{}", 0},
            {"{\"a\":\"}\"}", 9},
            {"{\"a\":\"[[[\"}", 11},
            {"{\"a\":\"\\\"}\"}", 11},     /* {"a":"\"}"} */
            {"{\"a\":\"\\\\\"}", 10},      /* {"a":"\\"}: the quote closes */
            {"{\"a\":\"\\\\\\\"}\"}", 13}, /* {"a":"\\\"}"} */
            {"{\"a\":\"\\", 0},            /* ends inside an escape */
            {"[\"\\u007b\"]", 10},
            {"x{}", -EPROTO},
            {"1", -EPROTO},
            {"\"str\"", -EPROTO},
            {"  null", -EPROTO},
            {"}", -EPROTO},
            {"\x00{}", -EPROTO},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                size_t len = strlen(cases[i].in);
                if (i == ARRAY_SIZE(cases) - 1)
                        len = 3; /* the NUL case */
                ssize_t n = osn_jsonrpc_frame(cases[i].in, len);
                if (n != cases[i].out) {
                        fprintf(stderr, "frame(%s) = %zd, expected %zd\n", cases[i].in, n,
                                cases[i].out);
                        CHECK(false);
                }
        }
        /* Nesting: 1000 levels frame, 1001 do not. */
        char deep[2 * 1001 + 1];
        memset(deep, '[', 1000);
        memset(deep + 1000, ']', 1000);
        CHECK(osn_jsonrpc_frame(deep, 2000) == 2000);
        memset(deep, '[', 1001);
        memset(deep + 1001, ']', 1001);
        CHECK(osn_jsonrpc_frame(deep, 2002) == -EPROTO);
        /* Deep but incomplete: more bytes needed. */
        CHECK(osn_jsonrpc_frame(deep, 999) == 0);
}

static void test_helpers(void)
{
        check_json(osn_ovsdb_cond("name", "==", json_string("x")), "[\"name\",\"==\",\"x\"]");
        check_json(osn_ovsdb_uuid("u"), "[\"uuid\",\"u\"]");
        check_json(osn_ovsdb_named_uuid("p"), "[\"named-uuid\",\"p\"]");
        check_json(osn_ovsdb_map((const char *const[]){"a", "1", "b", "2", NULL}),
                   "[\"map\",[[\"a\",\"1\"],[\"b\",\"2\"]]]");
        check_json(osn_ovsdb_map((const char *const[]){NULL}), "[\"map\",[]]");
        check_json(osn_ovsdb_set(json_pack("[s]", "x")), "[\"set\",[\"x\"]]");
        check_json(osn_ovsdb_set(json_array()), "[\"set\",[]]");

        _cleanup_json_ json_t *map = json_loads("[\"map\",[[\"k\",\"v\"],[\"n\",1]]]", 0, NULL);
        CHECK(streq(osn_ovsdb_map_get(map, "k"), "v"));
        CHECK(osn_ovsdb_map_get(map, "n") == NULL); /* not a string */
        CHECK(osn_ovsdb_map_get(map, "z") == NULL);
        CHECK(osn_ovsdb_map_get(NULL, "k") == NULL);

        _cleanup_json_ json_t *set = json_loads("[\"set\",[\"a\",\"b\"]]", 0, NULL);
        _cleanup_json_ json_t *atom = json_loads("[\"uuid\",\"u1\"]", 0, NULL);
        _cleanup_json_ json_t *empty = json_loads("[\"set\",[]]", 0, NULL);
        CHECK(osn_ovsdb_set_size(set) == 2);
        CHECK(streq(json_string_value(osn_ovsdb_set_at(set, 1)), "b"));
        CHECK(osn_ovsdb_set_at(set, 2) == NULL);
        CHECK(osn_ovsdb_set_size(atom) == 1);
        CHECK(osn_ovsdb_set_at(atom, 0) == atom);
        CHECK(osn_ovsdb_set_size(empty) == 0);
        CHECK(osn_ovsdb_set_size(NULL) == 0);

        check_json(test_op_select("T", json_pack("[o]", osn_ovsdb_cond("a", "==", json_true())),
                                  (const char *const[]){"_uuid", "a", NULL}),
                   "{\"columns\":[\"_uuid\",\"a\"],\"op\":\"select\",\"table\":\"T\","
                   "\"where\":[[\"a\",\"==\",true]]}");
        check_json(test_op_select("T", json_array(), NULL),
                   "{\"columns\":[],\"op\":\"select\",\"table\":\"T\",\"where\":[]}");
        _cleanup_json_ json_t *res =
            json_loads("[{\"rows\":[{\"_uuid\":[\"uuid\",\"u1\"]}]},{\"count\":1}]", 0, NULL);
        json_t *rows = test_result_rows(res, 0);
        CHECK(json_array_size(rows) == 1);
        CHECK(streq(osn_ovsdb_row_uuid(json_array_get(rows, 0)), "u1"));
        CHECK(test_result_rows(res, 1) == NULL);
        CHECK(test_result_rows(res, 2) == NULL);
        CHECK(osn_ovsdb_row_uuid(NULL) == NULL);
}

/* --- Part 2: a fake server over socketpair() --- */

/* What the fake server's script may use: the bytes to send for the
 * "malformed" scenarios, chosen before fork(). */
static const char *peer_payload;

static char peer_buf[1 << 16];
static size_t peer_len;

/* Reads one message from the client (5 s bound), or NULL on EOF. */
static json_t *peer_recv(int fd)
{
        for (;;) {
                ssize_t n = osn_jsonrpc_frame(peer_buf, peer_len);
                PCHECK(n >= 0);
                if (n > 0) {
                        json_t *msg = json_loadb(peer_buf, n, 0, NULL);
                        PCHECK(msg);
                        memmove(peer_buf, peer_buf + n, peer_len - n);
                        peer_len -= n;
                        return msg;
                }
                struct pollfd p = {.fd = fd, .events = POLLIN};
                PCHECK(poll(&p, 1, 5000) == 1);
                ssize_t r = read(fd, peer_buf + peer_len, sizeof(peer_buf) - peer_len);
                PCHECK(r >= 0);
                if (r == 0)
                        return NULL;
                peer_len += r;
        }
}

/* Sends 'len' bytes in 'chunk'-byte writes, sleeping 'gap_us' between. */
static void peer_send_raw(int fd, const char *s, size_t len, size_t chunk, int gap_us)
{
        for (size_t off = 0; off < len;) {
                size_t n = len - off < chunk ? len - off : chunk;
                ssize_t w = send(fd, s + off, n, MSG_NOSIGNAL);
                PCHECK(w > 0);
                off += w;
                if (gap_us)
                        usleep(gap_us);
        }
}

/* Sends printf-formatted text in one write. */
_printf_(2, 3) static void peer_sendf(int fd, const char *fmt, ...)
{
        char buf[4096];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        PCHECK(n > 0 && (size_t)n < sizeof(buf));
        peer_send_raw(fd, buf, n, n, 0);
}

/* Reads a request, checks its method, returns its integer id. */
static long long peer_expect(int fd, const char *method)
{
        _cleanup_json_ json_t *m = peer_recv(fd);
        PCHECK(m);
        PCHECK(streq(json_string_value(json_object_get(m, "method")), method));
        PCHECK(json_is_array(json_object_get(m, "params")));
        PCHECK(json_is_integer(json_object_get(m, "id")));
        return json_integer_value(json_object_get(m, "id"));
}

/* Waits until the client hangs up. */
static void peer_drain(int fd)
{
        json_t *m;
        while ((m = peer_recv(fd)) != NULL)
                json_decref(m);
}

/* A reply split into 1-byte writes. */
static void peer_split(int fd)
{
        long long id = peer_expect(fd, "transact");
        char buf[256];
        int n = snprintf(buf, sizeof(buf),
                         " {\"id\": %lld, \"result\": [{\"uuid\": [\"uuid\", \"u-1\"]}, "
                         "{\"rows\": [{\"name\": \"a}\\\"b\"}]}], \"error\": null}",
                         id);
        peer_send_raw(fd, buf, n, 1, 300);
        peer_drain(fd);
}

/* A reply and notifications in one write. */
static void peer_two_in_one(int fd)
{
        long long id = peer_expect(fd, "monitor_cond");
        peer_sendf(fd,
                   "{\"id\":%lld,\"result\":{\"T\":{\"u1\":{\"initial\":{\"a\":1}}}},"
                   "\"error\":null}"
                   "{\"method\":\"update2\",\"params\":[\"zz\",{\"T\":{}}],\"id\":null}"
                   "{\"method\":\"update\",\"params\":[\"m\",{}],\"id\":null}"
                   "{\"method\":\"update2\",\"params\":[\"m\",{\"T\":{\"u1\":{\"modify\":"
                   "{\"a\":2}}}}],\"id\":null}",
                   id);
        peer_drain(fd);
}

/* An echo request from the server in the middle of a transaction. */
static void peer_echo(int fd)
{
        long long id = peer_expect(fd, "transact");
        peer_sendf(fd, "{\"method\":\"echo\",\"params\":[\"ping\",7],\"id\":\"echo\"}");
        _cleanup_json_ json_t *r = peer_recv(fd);
        PCHECK(r);
        PCHECK(streq(json_string_value(json_object_get(r, "id")), "echo"));
        PCHECK(json_is_null(json_object_get(r, "error")));
        _cleanup_free_ char *res = dumps(json_object_get(r, "result"));
        PCHECK(streq(res, "[\"ping\",7]"));
        peer_sendf(fd, "{\"id\":%lld,\"result\":[{}],\"error\":null}", id);
        peer_drain(fd);
}

/* Error replies of each kind, on one connection that stays usable. */
static void peer_errors(int fd)
{
        long long id = peer_expect(fd, "transact");
        peer_sendf(fd,
                   "{\"id\":%lld,\"result\":null,\"error\":{\"error\":\"unknown database\","
                   "\"details\":\"no db X\"}}",
                   id);
        id = peer_expect(fd, "transact");
        peer_sendf(fd, "{\"id\":%lld,\"result\":[{}],\"error\":null}", id);
        id = peer_expect(fd, "transact");
        peer_sendf(fd,
                   "{\"id\":%lld,\"result\":[{},{\"error\":\"referential integrity "
                   "violation\",\"details\":\"row x\"}],\"error\":null}",
                   id);
        id = peer_expect(fd, "transact");
        peer_sendf(fd,
                   "{\"id\":%lld,\"result\":[{\"count\":1},{\"error\":\"constraint "
                   "violation\",\"details\":\"dup\"}],\"error\":null}",
                   id);
        id = peer_expect(fd, "echo");
        peer_sendf(fd, "{\"id\":%lld,\"result\":[\"osn\"],\"error\":null}", id);
        peer_drain(fd);
}

/* Sends 'peer_payload' after the first request, then waits. */
static void peer_payload_after_request(int fd)
{
        peer_expect(fd, "transact");
        peer_send_raw(fd, peer_payload, strlen(peer_payload), 4096, 0);
        peer_drain(fd);
}

/* Sends 'peer_payload' after the first request, then hangs up. */
static void peer_close_after(int fd)
{
        peer_expect(fd, "transact");
        peer_send_raw(fd, peer_payload, strlen(peer_payload), 4096, 0);
}

/* Reads and never answers. */
static void peer_silent(int fd)
{
        peer_drain(fd);
}

/* Answers the first request only after the second arrived. */
static void peer_late(int fd)
{
        long long id1 = peer_expect(fd, "transact");
        long long id2 = peer_expect(fd, "transact");
        PCHECK(id1 != id2);
        peer_sendf(fd,
                   "{\"id\":%lld,\"result\":[{\"count\":1}],\"error\":null}"
                   "{\"id\":%lld,\"result\":[{\"count\":2}],\"error\":null}",
                   id1, id2);
        peer_drain(fd);
}

/* A message larger than the client's bound (64 MiB). */
static void peer_huge(int fd)
{
        peer_expect(fd, "transact");
        static const char head[] = "{\"id\":1,\"result\":[\"";
        peer_send_raw(fd, head, strlen(head), 64, 0);
        size_t len = (size_t)1 << 20;
        char *mb = malloc(len);
        PCHECK(mb);
        memset(mb, 'a', len);
        for (int i = 0; i < 66; i++) {
                /* The client stops reading once it has given up. */
                struct pollfd p = {.fd = fd, .events = POLLOUT};
                if (poll(&p, 1, 5000) != 1 || (p.revents & (POLLERR | POLLHUP)))
                        break;
                if (send(fd, mb, len, MSG_NOSIGNAL) < 0)
                        break;
        }
        free(mb);
}

struct fake {
        struct osn_ovsdb *c;
        pid_t pid;
};

static struct fake fake_start(void (*script)(int fd))
{
        int sv[2];
        CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
        struct fake f = {0};
        f.pid = fork();
        CHECK(f.pid >= 0);
        if (f.pid == 0) {
                close(sv[0]);
                script(sv[1]);
                _exit(0);
        }
        close(sv[1]);
        CHECK(osn_ovsdb_from_fd(sv[0], "fake", &f.c) == 0);
        CHECK(streq(osn_ovsdb_remote(f.c), "fake"));
        return f;
}

/* Closes the client and checks that the fake server's script passed. */
static void fake_end(struct fake *f)
{
        osn_ovsdb_close(f->c);
        int status;
        CHECK(waitpid(f->pid, &status, 0) == f->pid);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static json_t *two_ops(void)
{
        return json_loads("[{\"op\":\"insert\",\"table\":\"T\",\"row\":{}},"
                          "{\"op\":\"select\",\"table\":\"T\",\"where\":[]}]",
                          0, NULL);
}

static void test_fake_split(void)
{
        struct fake f = fake_start(peer_split);
        struct osn_error err = {0};
        json_t *res = NULL;
        CHECK(osn_ovsdb_transact(f.c, "db", two_ops(), dl(5000), &res, &err) == 0);
        check_json(res, "[{\"uuid\":[\"uuid\",\"u-1\"]},{\"rows\":[{\"name\":\"a}\\\"b\"}]}]");
        fake_end(&f);
}

static void test_fake_two_in_one(void)
{
        struct fake f = fake_start(peer_two_in_one);
        struct osn_error err = {0};
        json_t *j = NULL;
        CHECK(osn_ovsdb_monitor_cond(f.c, "db", "m", "T", NULL, NULL, dl(5000), &j, &err) == 0);
        check_json(j, "{\"T\":{\"u1\":{\"initial\":{\"a\":1}}}}");
        /* Already queued: no I/O needed, even with a deadline in the past. */
        CHECK(osn_ovsdb_wait_update(f.c, "m", dl(-1), &j, &err) == 0);
        check_json(j, "{\"T\":{\"u1\":{\"modify\":{\"a\":2}}}}");
        int64_t t0 = osn_now_ms();
        CHECK(osn_ovsdb_wait_update(f.c, "m", dl(100), &j, &err) == -ETIMEDOUT);
        CHECK(osn_now_ms() - t0 < 1000);
        CHECK(err.code == OSN_CNI_TRY_AGAIN_LATER);
        fake_end(&f);
}

static void test_fake_echo(void)
{
        struct fake f = fake_start(peer_echo);
        struct osn_error err = {0};
        json_t *res = NULL;
        CHECK(osn_ovsdb_transact(f.c, "db", json_array(), dl(5000), &res, &err) == 0);
        check_json(res, "[{}]");
        fake_end(&f);
}

static void test_fake_errors(void)
{
        struct fake f = fake_start(peer_errors);
        struct osn_error err = {0};
        json_t *res = NULL;
        CHECK(osn_ovsdb_transact(f.c, "db", two_ops(), dl(5000), &res, &err) == -EPROTO);
        CHECK(err.code == OSN_CNI_OVSDB_ERROR);
        CHECK(contains(err.msg, "unknown database") && contains(err.msg, "no db X"));
        CHECK(contains(err.msg, "fake"));

        osn_error_clear(&err);
        CHECK(osn_ovsdb_transact(f.c, "db", two_ops(), dl(5000), &res, &err) == -EPROTO);
        CHECK(contains(err.msg, "1 results for 2 operations"));

        osn_error_clear(&err);
        CHECK(osn_ovsdb_transact(f.c, "db", two_ops(), dl(5000), &res, &err) == -EPROTO);
        CHECK(contains(err.msg, "operation 1 (select): referential integrity violation"));
        CHECK(streq(err.details, "row x"));

        /* A commit failure is one result more than operations (RFC 7047 4.1.3). */
        osn_error_clear(&err);
        CHECK(osn_ovsdb_transact(f.c, "db", json_loads("[{\"op\":\"delete\"}]", 0, NULL), dl(5000),
                                 &res, &err) == -EEXIST);
        CHECK(contains(err.msg, "operation 1 (commit): constraint violation"));

        osn_error_clear(&err);
        CHECK(osn_ovsdb_echo(f.c, dl(5000), &err) == 0);
        fake_end(&f);
}

static void test_fake_malformed(void)
{
        static const char *const payloads[] = {
            "{\"id\": 1, \"result\": tru}",
            "hello",
            "[1, 2]",
            "{\"foo\": 1}",
            "{\"method\": 5, \"id\": null}",
            "{\"method\": \"update2\", \"params\": 3, \"id\": null}",
            "{\"id\": 1, \"result\": \"\\ud800\"}",
            "{\"id\": 1, \"result\": [\"\xff\"]}",
        };
        for (size_t i = 0; i < ARRAY_SIZE(payloads); i++) {
                peer_payload = payloads[i];
                struct fake f = fake_start(peer_payload_after_request);
                struct osn_error err = {0};
                json_t *res = NULL;
                int r = osn_ovsdb_transact(f.c, "db", json_array(), dl(5000), &res, &err);
                if (r != -EPROTO)
                        fprintf(stderr, "payload %zu: r=%d %s\n", i, r, err.msg);
                CHECK(r == -EPROTO);
                CHECK(err.code == OSN_CNI_OVSDB_ERROR && contains(err.msg, "fake"));
                /* Broken stays broken, without waiting. */
                int64_t t0 = osn_now_ms();
                CHECK(osn_ovsdb_echo(f.c, dl(5000), NULL) == -EPROTO);
                CHECK(osn_ovsdb_run(f.c) == -EPROTO);
                CHECK(osn_now_ms() - t0 < 500);
                fake_end(&f);
        }
}

static void test_fake_close(void)
{
        static const char *const payloads[] = {"{\"id\":1,\"result\":[{\"uu", ""};
        for (size_t i = 0; i < ARRAY_SIZE(payloads); i++) {
                peer_payload = payloads[i];
                struct fake f = fake_start(peer_close_after);
                struct osn_error err = {0};
                json_t *res = NULL;
                CHECK(osn_ovsdb_transact(f.c, "db", json_array(), dl(5000), &res, &err) ==
                      -ECONNRESET);
                CHECK(err.code == OSN_CNI_TRY_AGAIN_LATER && contains(err.msg, "closed"));
                fake_end(&f);
        }
}

static void test_fake_timeout(void)
{
        struct fake f = fake_start(peer_silent);
        struct osn_error err = {0};
        json_t *res = NULL;
        int64_t t0 = osn_now_ms();
        CHECK(osn_ovsdb_transact(f.c, "db", json_array(), t0 + 200, &res, &err) == -ETIMEDOUT);
        int64_t elapsed = osn_now_ms() - t0;
        CHECK(elapsed >= 195 && elapsed < 1000);
        CHECK(err.code == OSN_CNI_TRY_AGAIN_LATER && contains(err.msg, "deadline"));
        /* A passed deadline still fails fast, and the connection is not broken. */
        CHECK(osn_ovsdb_echo(f.c, t0, NULL) == -ETIMEDOUT);
        CHECK(osn_ovsdb_run(f.c) == 0);
        fake_end(&f);
}

static void test_fake_late_reply(void)
{
        struct fake f = fake_start(peer_late);
        struct osn_error err = {0};
        json_t *res = NULL;
        CHECK(osn_ovsdb_transact(f.c, "db", json_array(), dl(100), &res, &err) == -ETIMEDOUT);
        osn_error_clear(&err);
        CHECK(osn_ovsdb_transact(f.c, "db", json_array(), dl(5000), &res, &err) == 0);
        check_json(res, "[{\"count\":2}]");
        fake_end(&f);
}

static void test_fake_huge(void)
{
        struct fake f = fake_start(peer_huge);
        struct osn_error err = {0};
        json_t *res = NULL;
        CHECK(osn_ovsdb_transact(f.c, "db", json_array(), dl(20000), &res, &err) == -EMSGSIZE);
        CHECK(contains(err.msg, "larger than"));
        fake_end(&f);
}

static void test_fake_misuse(void)
{
        struct fake f = fake_start(peer_silent);
        struct osn_error err = {0};
        json_t *j = NULL;
        CHECK(osn_ovsdb_fd(f.c) >= 0 && !osn_ovsdb_want_write(f.c));
        CHECK(osn_ovsdb_run(f.c) == 0);
        /* Misuse of the client is OVSDB's code where it is found (the
         * plugin's edge reclassifies nothing). */
        CHECK(osn_ovsdb_wait_update(f.c, "nope", dl(1000), &j, &err) == -ENOENT);
        CHECK(err.code == OSN_CNI_OVSDB_ERROR);
        osn_error_clear(&err);
        CHECK(osn_ovsdb_transact(f.c, "db", json_object(), dl(1000), &j, &err) == -EINVAL);
        CHECK(err.code == OSN_CNI_OVSDB_ERROR);
        osn_error_clear(&err);
        CHECK(osn_ovsdb_transact(f.c, "\xff", json_array(), dl(1000), &j, &err) == -EINVAL);
        CHECK(contains(err.msg, "cannot build") && err.code == OSN_CNI_OVSDB_ERROR);
        osn_error_clear(&err);
        CHECK(osn_ovsdb_monitor_cond(f.c, "db", "m", "\xff", json_array(), NULL, dl(1000), &j,
                                     &err) == -EINVAL);
        fake_end(&f);
}

/* --- Part 3: a real ovsdb-server --- */

_printf_(1, 2) static char *path_of(const char *fmt, ...)
{
        static char bufs[8][512];
        static int next;
        char *b = bufs[next++ % 8];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b, sizeof(bufs[0]), fmt, ap);
        va_end(ap);
        return b;
}

/* Reads the port that ovsdb-server logged for its one TCP/SSL listener. */
static int wait_port(const char *log)
{
        int64_t deadline = dl(10000);
        while (osn_now_ms() < deadline) {
                FILE *f = fopen(log, "r");
                char line[1024];
                while (f && fgets(line, sizeof(line), f)) {
                        const char *p = strstr(line, "listening on port ");
                        if (p) {
                                fclose(f);
                                return atoi(p + strlen("listening on port "));
                        }
                }
                if (f)
                        fclose(f);
                usleep(20000);
        }
        CHECK(!"ovsdb-server did not log its port");
        return -1;
}

/* Runs ops (JSON text, printf-formatted) and checks the return value;
 * returns the result on success. */
_printf_(4, 5) static json_t *tx(struct osn_ovsdb *c, int expect, struct osn_error *err,
                                 const char *fmt, ...)
{
        char buf[4096];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        json_error_t jerr;
        json_t *ops = json_loads(buf, 0, &jerr);
        if (!ops)
                fprintf(stderr, "bad test JSON: %s: %s\n", jerr.text, buf);
        CHECK(ops);
        osn_error_clear(err);
        json_t *res = NULL;
        int r = osn_ovsdb_transact(c, NB, ops, dl(5000), &res, err);
        if (r != expect)
                fprintf(stderr, "transact %s: %d (%s), expected %d\n", buf, r, err->msg, expect);
        CHECK(r == expect);
        return res;
}

static json_t *select_ls(struct osn_ovsdb *c, const char *name)
{
        struct osn_error err = {0};
        json_t *ops =
            json_pack("[{s:s, s:s, s:[o], s:[s,s,s]}]", "op", "select", "table", "Logical_Switch",
                      "where", osn_ovsdb_cond("name", "==", json_string(name)), "columns", "_uuid",
                      "name", "other_config");
        json_t *res = NULL;
        CHECK(osn_ovsdb_transact(c, NB, ops, dl(5000), &res, &err) == 0);
        json_t *rows = json_incref(json_object_get(json_array_get(res, 0), "rows"));
        json_decref(res);
        CHECK(json_is_array(rows));
        return rows;
}

static void test_real_connect(const char *sock)
{
        struct osn_error err = {0};
        struct osn_ovsdb *c = NULL;
        char remotes[600];
        snprintf(remotes, sizeof(remotes), "unix:/nonexistent/osn.sock, unix:%s", sock);
        CHECK(osn_ovsdb_connect(remotes, NULL, dl(5000), &c, &err) == 0);
        CHECK(streq(osn_ovsdb_remote(c), remotes + strlen("unix:/nonexistent/osn.sock, ")));
        CHECK(!osn_error_isset(&err));
        CHECK(osn_ovsdb_echo(c, dl(5000), &err) == 0);
        json_t *dbs = NULL;
        CHECK(osn_ovsdb_list_dbs(c, dl(5000), &dbs, &err) == 0);
        _cleanup_free_ char *s = dumps(dbs);
        CHECK(contains(s, "\"" NB "\""));
        json_decref(dbs);
        osn_ovsdb_close(c);

        /* Every remote bad: the error names each of them. */
        c = NULL;
        int r =
            osn_ovsdb_connect("unix:/nonexistent/a.sock,tcp:127.0.0.1:1", NULL, dl(5000), &c, &err);
        CHECK(r < 0 && c == NULL);
        CHECK(err.code == OSN_CNI_TRY_AGAIN_LATER);
        CHECK(contains(err.msg, "unix:/nonexistent/a.sock") &&
              contains(err.msg, "tcp:127.0.0.1:1"));

        static const char *const malformed[] = {
            "",
            ",",
            "bogus:x",
            "unix:",
            "tcp:",
            "tcp::80",
            "tcp:[::1",
            "tcp:[::1]x",
            "tcp:1.2.3.4:99999",
            "tcp:1.2.3.4:0",
            "tcp:::1:80",
            "tcp:1.2.3.4:-1",
            "ssl:1.2.3.4:1",
        };
        for (size_t i = 0; i < ARRAY_SIZE(malformed); i++) {
                osn_error_clear(&err);
                r = osn_ovsdb_connect(malformed[i], NULL, dl(1000), &c, &err);
                if (r != -EINVAL)
                        fprintf(stderr, "remote \"%s\": %d %s\n", malformed[i], r, err.msg);
                CHECK(r == -EINVAL);
                CHECK(osn_error_isset(&err));
        }
        char longpath[200] = "unix:/";
        memset(longpath + 6, 'x', sizeof(longpath) - 7);
        osn_error_clear(&err);
        CHECK(osn_ovsdb_connect(longpath, NULL, dl(1000), &c, &err) == -EINVAL);
        CHECK(contains(err.msg, "longer than"));
        /* Bracketed IPv6 parses (whether or not ::1 exists here). */
        osn_error_clear(&err);
        CHECK(osn_ovsdb_connect("tcp:[::1]:1", NULL, dl(1000), &c, &err) < 0);
        CHECK(!contains(err.msg, "invalid"));
}

static void test_real_transact(const char *remote)
{
        struct osn_error err = {0};
        _cleanup_ovsdb_ struct osn_ovsdb *c = NULL;
        CHECK(osn_ovsdb_connect(remote, NULL, dl(5000), &c, &err) == 0);

        /* insert */
        json_t *res = tx(c, 0, &err,
                         "[{\"op\":\"insert\",\"table\":\"Logical_Switch\",\"row\":{\"name\":"
                         "\"ls1\",\"external_ids\":[\"map\",[[\"osn/network\",\"n1\"]]]}}]");
        const char *uuid =
            json_string_value(json_array_get(json_object_get(json_array_get(res, 0), "uuid"), 1));
        CHECK(uuid);
        char u[64];
        snprintf(u, sizeof(u), "%s", uuid);
        json_decref(res);

        /* select */
        json_t *rows = select_ls(c, "ls1");
        CHECK(json_array_size(rows) == 1);
        json_t *row_uuid = json_object_get(json_array_get(rows, 0), "_uuid");
        CHECK(streq(json_string_value(json_array_get(row_uuid, 1)), u));
        json_decref(rows);

        /* mutate, with the helpers */
        json_t *ops = json_pack(
            "[{s:s, s:s, s:[o], s:[[s, s, o]]}]", "op", "mutate", "table", "Logical_Switch",
            "where", osn_ovsdb_cond("_uuid", "==", osn_ovsdb_uuid(u)), "mutations", "other_config",
            "insert", osn_ovsdb_map((const char *const[]){"subnet", "10.0.0.0/24", NULL}));
        CHECK(osn_ovsdb_transact(c, NB, ops, dl(5000), &res, &err) == 0);
        CHECK(json_integer_value(json_object_get(json_array_get(res, 0), "count")) == 1);
        json_decref(res);
        rows = select_ls(c, "ls1");
        CHECK(streq(
            osn_ovsdb_map_get(json_object_get(json_array_get(rows, 0), "other_config"), "subnet"),
            "10.0.0.0/24"));
        json_decref(rows);

        /* delete */
        res = tx(c, 0, &err,
                 "[{\"op\":\"delete\",\"table\":\"Logical_Switch\",\"where\":[[\"name\",\"==\","
                 "\"ls1\"]]}]");
        CHECK(json_integer_value(json_object_get(json_array_get(res, 0), "count")) == 1);
        json_decref(res);
        rows = select_ls(c, "ls1");
        CHECK(json_array_size(rows) == 0);
        json_decref(rows);

        /* A failing "wait" guard: -EAGAIN, and nothing was inserted. */
        json_decref(tx(c, 0, &err,
                       "[{\"op\":\"insert\",\"table\":\"Logical_Switch\",\"row\":{\"name\":"
                       "\"guard\"}}]"));
        tx(c, -EAGAIN, &err,
           "[{\"op\":\"wait\",\"table\":\"Logical_Switch\",\"where\":[[\"name\",\"==\",\"guard\"]],"
           "\"columns\":[\"name\"],\"until\":\"==\",\"rows\":[],\"timeout\":0},"
           "{\"op\":\"insert\",\"table\":\"Logical_Switch\",\"row\":{\"name\":\"guard\"}}]");
        CHECK(err.code == OSN_CNI_OVSDB_ERROR);
        CHECK(contains(err.msg, "operation 0 (wait): timed out") && contains(err.msg, NB));
        rows = select_ls(c, "guard");
        CHECK(json_array_size(rows) == 1);
        json_decref(rows);

        /* A duplicate port name violates the Logical_Switch_Port name index. */
        static const char dup[] =
            "[{\"op\":\"insert\",\"table\":\"Logical_Switch\",\"row\":{\"name\":\"%s\","
            "\"ports\":[\"named-uuid\",\"p\"]}},{\"op\":\"insert\",\"table\":"
            "\"Logical_Switch_Port\",\"uuid-name\":\"p\",\"row\":{\"name\":\"dup-port\"}}]";
        json_decref(tx(c, 0, &err, dup, "dup-a"));
        tx(c, -EEXIST, &err, dup, "dup-b");
        CHECK(err.code == OSN_CNI_OVSDB_ERROR && contains(err.msg, "constraint violation"));
        CHECK(contains(err.details, "dup-port"));

        /* An unknown table is a plain -EPROTO. */
        tx(c, -EPROTO, &err, "[{\"op\":\"select\",\"table\":\"Nope\",\"where\":[]}]");
        /* So is an unknown database (a top-level error reply). */
        osn_error_clear(&err);
        res = NULL;
        CHECK(osn_ovsdb_transact(c, "Nope", json_array(), dl(5000), &res, &err) == -EPROTO);
        CHECK(contains(err.msg, "unknown database"));
        /* The connection survives database errors. */
        CHECK(osn_ovsdb_echo(c, dl(5000), NULL) == 0);
}

static void test_real_monitor(const char *remote)
{
        struct osn_error err = {0};
        _cleanup_ovsdb_ struct osn_ovsdb *c = NULL;
        _cleanup_ovsdb_ struct osn_ovsdb *w = NULL;
        CHECK(osn_ovsdb_connect(remote, NULL, dl(5000), &c, &err) == 0);
        CHECK(osn_ovsdb_connect(remote, NULL, dl(5000), &w, &err) == 0);

        json_t *where = json_pack("[o]", osn_ovsdb_cond("name", "==", json_string("mon-ls")));
        static const char *const cols[] = {"name", "external_ids", NULL};
        json_t *j = NULL;
        CHECK(osn_ovsdb_monitor_cond(c, NB, "mon", "Logical_Switch", where, cols, dl(5000), &j,
                                     &err) == 0);
        CHECK(json_is_object(j));
        CHECK(json_object_size(json_object_get(j, "Logical_Switch")) == 0);
        json_decref(j);
        /* The same id twice is refused locally. */
        CHECK(osn_ovsdb_monitor_cond(c, NB, "mon", "Logical_Switch", NULL, NULL, dl(5000), &j,
                                     &err) == -EEXIST);
        osn_error_clear(&err);

        /* Insert from another connection: an "insert" of the matching row only. */
        json_decref(tx(w, 0, &err,
                       "[{\"op\":\"insert\",\"table\":\"Logical_Switch\",\"row\":{\"name\":"
                       "\"other-ls\"}},{\"op\":\"insert\",\"table\":\"Logical_Switch\",\"row\":"
                       "{\"name\":\"mon-ls\",\"external_ids\":[\"map\",[[\"k\",\"v1\"]]]}}]"));
        CHECK(osn_ovsdb_wait_update(c, "mon", dl(5000), &j, &err) == 0);
        json_t *tbl = json_object_get(j, "Logical_Switch");
        CHECK(json_object_size(tbl) == 1);
        json_t *row = json_object_get(json_object_iter_value(json_object_iter(tbl)), "insert");
        CHECK(streq(json_string_value(json_object_get(row, "name")), "mon-ls"));
        CHECK(streq(osn_ovsdb_map_get(json_object_get(row, "external_ids"), "k"), "v1"));
        json_decref(j);

        /* Modify: a "modify". */
        json_decref(
            tx(w, 0, &err,
               "[{\"op\":\"update\",\"table\":\"Logical_Switch\",\"where\":[[\"name\","
               "\"==\",\"mon-ls\"]],\"row\":{\"external_ids\":[\"map\",[[\"k\",\"v2\"]]]}}]"));
        CHECK(osn_ovsdb_wait_update(c, "mon", dl(5000), &j, &err) == 0);
        tbl = json_object_get(j, "Logical_Switch");
        row = json_object_get(json_object_iter_value(json_object_iter(tbl)), "modify");
        CHECK(json_object_get(row, "external_ids"));
        json_decref(j);

        /* Nothing happens: a bounded -ETIMEDOUT. */
        int64_t t0 = osn_now_ms();
        CHECK(osn_ovsdb_wait_update(c, "mon", t0 + 200, &j, &err) == -ETIMEDOUT);
        int64_t elapsed = osn_now_ms() - t0;
        CHECK(elapsed >= 195 && elapsed < 1000);
        osn_error_clear(&err);

        /* Delete: a "delete". */
        json_decref(tx(w, 0, &err,
                       "[{\"op\":\"delete\",\"table\":\"Logical_Switch\",\"where\":[[\"name\","
                       "\"==\",\"mon-ls\"]]}]"));
        CHECK(osn_ovsdb_wait_update(c, "mon", dl(5000), &j, &err) == 0);
        tbl = json_object_get(j, "Logical_Switch");
        CHECK(json_object_get(json_object_iter_value(json_object_iter(tbl)), "delete"));
        json_decref(j);

        /* An update left queued is dropped by the cancel. */
        json_decref(tx(w, 0, &err,
                       "[{\"op\":\"insert\",\"table\":\"Logical_Switch\",\"row\":{\"name\":"
                       "\"mon-ls\"}}]"));
        CHECK(osn_ovsdb_echo(c, dl(5000), &err) == 0); /* the update is queued by now */
        CHECK(osn_ovsdb_monitor_cancel(c, "mon", dl(5000)) == 0);
        CHECK(osn_ovsdb_wait_update(c, "mon", dl(100), &j, &err) == -ENOENT);
        osn_error_clear(&err);
        /* The id is free again. */
        CHECK(osn_ovsdb_monitor_cond(c, NB, "mon", "Logical_Switch", NULL, NULL, dl(5000), &j,
                                     &err) == 0);
        CHECK(json_object_size(json_object_get(j, "Logical_Switch")) >= 2);
        json_decref(j);
}

/* Pipelining: a monitor and a transact in flight together, finished in the
 * reverse order; the insert's update is queued, not lost. */
static void test_real_pipeline(const char *remote)
{
        struct osn_error err = {0};
        _cleanup_ovsdb_ struct osn_ovsdb *c = NULL;
        CHECK(osn_ovsdb_connect(remote, NULL, dl(5000), &c, &err) == 0);
        int64_t mid = 0, tid = 0;
        json_t *where = json_pack("[o]", osn_ovsdb_cond("name", "==", json_string("pipe-ls")));
        CHECK(osn_ovsdb_monitor_cond_start(c, NB, "pipe", "Logical_Switch", where,
                                           (const char *const[]){"name", NULL}, &mid, &err) == 0);
        _cleanup_json_ json_t *ops =
            json_loads("[{\"op\":\"insert\",\"table\":\"Logical_Switch\",\"row\":{\"name\":"
                       "\"pipe-ls\"}}]",
                       0, NULL);
        CHECK(osn_ovsdb_transact_start(c, NB, ops, &tid, &err) == 0);
        CHECK(mid != tid);
        json_t *res = NULL, *init = NULL, *upd = NULL;
        CHECK(osn_ovsdb_transact_finish(c, NB, ops, tid, dl(5000), &res, &err) == 0);
        CHECK(json_array_size(res) == 1);
        json_decref(res);
        CHECK(osn_ovsdb_monitor_cond_finish(c, "pipe", mid, dl(5000), &init, &err) == 0);
        CHECK(json_object_size(json_object_get(init, "Logical_Switch")) == 0);
        json_decref(init);
        CHECK(osn_ovsdb_wait_update(c, "pipe", dl(5000), &upd, &err) == 0);
        json_t *tbl = json_object_get(upd, "Logical_Switch");
        CHECK(json_object_get(json_object_iter_value(json_object_iter(tbl)), "insert"));
        json_decref(upd);
        /* Finishing a request that is not pending is an error, not a hang. */
        CHECK(osn_ovsdb_transact_finish(c, NB, ops, tid, dl(200), &res, &err) == -EINVAL);
        osn_error_clear(&err);
        json_decref(tx(c, 0, &err,
                       "[{\"op\":\"delete\",\"table\":\"Logical_Switch\",\"where\":[[\"name\","
                       "\"==\",\"pipe-ls\"]]}]"));
}

static void test_real_tcp(int port)
{
        struct osn_error err = {0};
        _cleanup_ovsdb_ struct osn_ovsdb *c = NULL;
        char remote[64];
        snprintf(remote, sizeof(remote), "tcp:127.0.0.1:%d", port);
        CHECK(osn_ovsdb_connect(remote, NULL, dl(5000), &c, &err) == 0);
        json_decref(
            tx(c, 0, &err, "[{\"op\":\"select\",\"table\":\"Logical_Switch\",\"where\":[]}]"));
}

/* Whether the dynamic loader has mapped 'soname' into this process (osn
 * links no OpenSSL: tls.c loads it for the first ssl: remote). */
static bool mapped(const char *soname)
{
        void *h = dlopen(soname, RTLD_LAZY | RTLD_NOLOAD);
        if (h)
                dlclose(h);
        return h != NULL;
}

/* Makes a CA and a certificate signed by it with the openssl CLI. */
static bool make_certs(void)
{
        static const char *const script =
            "set -e; cd '%s'; "
            "K='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes'; "
            "for ca in ca other-ca; do "
            "  openssl req -x509 -new $K -keyout $ca.key -out $ca.pem -days 2 "
            "    -subj /CN=osn-test-$ca; "
            "done; "
            "for who in server client; do "
            "  openssl req -new $K -keyout $who.key -out $who.csr -subj /CN=$who; "
            "  openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
            "    -out $who.pem -days 2; "
            "done";
        char cmd[2048];
        snprintf(cmd, sizeof(cmd), script, tmpdir);
        return testserver_run((char *const[]){"sh", "-c", cmd, NULL}) == 0;
}

static void test_real_ssl(void)
{
        if (!testserver_have_program("openssl") || !make_certs()) {
                fprintf(stderr, "openssl CLI unusable: skipping the ssl: tests\n");
                return;
        }
        const char *const args[] = {
            path_of("--private-key=%s/server.key", tmpdir),
            path_of("--certificate=%s/server.pem", tmpdir),
            path_of("--ca-cert=%s/ca.pem", tmpdir),
            "--remote=pssl:0:127.0.0.1",
            NULL,
        };
        testserver_start_nb("tls", args);
        int port = wait_port(path_of("%s/tls.log", tmpdir));
        char remote[64];
        snprintf(remote, sizeof(remote), "ssl:127.0.0.1:%d", port);

        struct osn_ssl_opts good = {
            .private_key = path_of("%s/client.key", tmpdir),
            .certificate = path_of("%s/client.pem", tmpdir),
            .ca_cert = path_of("%s/ca.pem", tmpdir),
        };
        struct osn_error err = {0};
        struct osn_ovsdb *c = NULL;
        CHECK(osn_ovsdb_connect(remote, &good, dl(5000), &c, &err) == 0);
        CHECK(mapped("libssl.so.3") && mapped("libcrypto.so.3"));
        json_decref(tx(c, 0, &err,
                       "[{\"op\":\"insert\",\"table\":\"Logical_Switch\",\"row\":{\"name\":"
                       "\"over-tls\"}}]"));
        json_t *rows = select_ls(c, "over-tls");
        CHECK(json_array_size(rows) == 1);
        json_decref(rows);
        osn_ovsdb_close(c);

        /* The server's certificate does not chain to the client's CA. */
        struct osn_ssl_opts bad = good;
        bad.ca_cert = path_of("%s/other-ca.pem", tmpdir);
        c = NULL;
        osn_error_clear(&err);
        CHECK(osn_ovsdb_connect(remote, &bad, dl(5000), &c, &err) < 0 && c == NULL);
        CHECK(contains(err.msg, remote) && contains(err.msg, "certificate verify failed"));

        /* A server that accepts but never speaks: the handshake is bounded. */
        int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t slen = sizeof(sin);
        CHECK(lfd >= 0 && bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
        CHECK(listen(lfd, 4) == 0 && getsockname(lfd, (struct sockaddr *)&sin, &slen) == 0);
        snprintf(remote, sizeof(remote), "ssl:127.0.0.1:%d", ntohs(sin.sin_port));
        osn_error_clear(&err);
        int64_t t0 = osn_now_ms();
        CHECK(osn_ovsdb_connect(remote, &good, t0 + 200, &c, &err) == -ETIMEDOUT);
        int64_t elapsed = osn_now_ms() - t0;
        CHECK(elapsed >= 195 && elapsed < 1000);
        CHECK(contains(err.msg, remote) && contains(err.msg, "handshake timed out"));
        close(lfd);

        /* A missing key file is named. */
        bad = good;
        bad.private_key = path_of("%s/missing.key", tmpdir);
        osn_error_clear(&err);
        CHECK(osn_ovsdb_connect(remote, &bad, dl(5000), &c, &err) < 0);
        CHECK(contains(err.msg, "missing.key"));
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN); /* only for the fake servers' plain writes */
        test_frame();
        test_helpers();
        test_fake_split();
        test_fake_two_in_one();
        test_fake_echo();
        test_fake_errors();
        test_fake_malformed();
        test_fake_close();
        test_fake_timeout();
        test_fake_late_reply();
        test_fake_misuse();
        test_fake_huge();

        if (!testserver_init("ovsdb", NULL)) {
                fprintf(stderr, "ovsdb-server or the OVN NB schema not installed: skipping\n");
                return 77;
        }
        tmpdir = testserver_dir();

        testserver_start_nb("nb", (const char *const[]){"--remote=ptcp:0:127.0.0.1", NULL});
        const char *sock = path_of("%s/nb.sock", tmpdir);
        const char *remote = path_of("unix:%s", sock);
        test_real_connect(sock);
        test_real_transact(remote);
        test_real_monitor(remote);
        test_real_pipeline(remote);
        test_real_tcp(wait_port(path_of("%s/nb.log", tmpdir)));
        /* unix: and tcp: remotes (and an ssl: one without TLS files) did
         * not make the process load OpenSSL. */
        CHECK(!mapped("libssl.so.3") && !mapped("libcrypto.so.3"));
        test_real_ssl();
        printf("ok\n");
        return 0;
}
