/* fuzz-jsonrpc: arbitrary bytes from an OVSDB "server" through the client's
 * framing and message handling (ovsdb.c).
 *
 * Input: one byte that picks a chunk size, then what the server says, in up
 * to five segments separated by "\xff\xff" (never valid JSON text).  Bytes
 * travel over a SOCK_SEQPACKET socketpair in records of the chunk size, so
 * that each recv() returns at most one chunk and messages arrive split at
 * arbitrary points.  Before each client call the next segment is sent; the
 * calls use a deadline that has already passed, so each handles what is
 * there without waiting: monitor_cond (request id 1), wait_update, transact
 * (id 2), echo (id 3).  Then the last segment and a hang-up, and a final
 * monitor_cancel that ends at the EOF.  Replies, errors, echo requests,
 * notifications and garbage are all reachable; nothing ever blocks.
 */
#include "ovsdb.h"

#include <fcntl.h>
#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The stateless scanner on its own: a frame lies within the input, is
 * stable when cut to its own length, and needs its last byte. */
static void check_frame(const char *buf, size_t len)
{
        ssize_t n = osn_jsonrpc_frame(buf, len);
        if (n > (ssize_t)len)
                __builtin_trap();
        if (n > 0 && (osn_jsonrpc_frame(buf, n) != n || osn_jsonrpc_frame(buf, n - 1) != 0))
                __builtin_trap();
}

/* The value helpers on whatever JSON the input holds. */
static void check_helpers(const char *buf, size_t len)
{
        json_t *j = json_loadb(buf, len, JSON_DECODE_ANY, NULL);
        (void)osn_ovsdb_map_get(j, "k");
        size_t n = osn_ovsdb_set_size(j);
        for (size_t i = 0; i <= n; i++)
                if ((i < n) != (osn_ovsdb_set_at(j, i) != NULL))
                        __builtin_trap();
        json_decref(j);
}

/* Sends the next "\xff\xff"-terminated segment of *buf in 'chunk'-byte
 * records (fewer than the socket buffer holds, so never blocking). */
static void send_segment(int fd, const char **buf, size_t *len, size_t chunk)
{
        const char *end = memmem(*buf, *len, "\xff\xff", 2);
        size_t n = end ? (size_t)(end - *buf) : *len;
        for (size_t off = 0; off < n; off += chunk) {
                size_t k = n - off < chunk ? n - off : chunk;
                if (send(fd, *buf + off, k, MSG_DONTWAIT | MSG_NOSIGNAL) != (ssize_t)k)
                        break;
        }
        size_t used = end ? n + 2 : n;
        *buf += used;
        *len -= used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1 || size > 65536)
                return 0;
        const char *buf = (const char *)data + 1;
        size_t len = size - 1;
        check_frame(buf, len);
        check_helpers(buf, len);

        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return 0;
        struct osn_ovsdb *c = NULL;
        if (osn_ovsdb_from_fd(sv[0], "fuzz", &c) < 0) {
                close(sv[1]);
                return 0;
        }
        size_t chunk = data[0] ? data[0] : 1;
        if (chunk < len / 128 + 1)
                chunk = len / 128 + 1;
        int64_t now = osn_now_ms();
        struct osn_error err = {0};
        json_t *j = NULL;

        send_segment(sv[1], &buf, &len, chunk);
        bool monitoring = osn_ovsdb_monitor_cond(c, "db", "m", "T", NULL, NULL, now, &j, &err) == 0;
        if (monitoring)
                json_decref(j);
        send_segment(sv[1], &buf, &len, chunk);
        if (monitoring && osn_ovsdb_wait_update(c, "m", now, &j, &err) == 0)
                json_decref(j);
        send_segment(sv[1], &buf, &len, chunk);
        json_t *ops = json_pack("[{s:s}, {s:s}]", "op", "insert", "op", "wait");
        if (osn_ovsdb_transact(c, "db", ops, now, &j, &err) == 0)
                json_decref(j);
        send_segment(sv[1], &buf, &len, chunk);
        (void)osn_ovsdb_echo(c, now, &err);
        send_segment(sv[1], &buf, &len, chunk);
        shutdown(sv[1], SHUT_WR);
        /* Bounded by the EOF, not by this deadline. */
        (void)osn_ovsdb_monitor_cancel(c, "m", now + 10000);
        osn_ovsdb_close(c);
        close(sv[1]);
        return 0;
}
