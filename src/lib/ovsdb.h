/* ovsdb: osn's own OVSDB JSON-RPC client (RFC 7047 + ovsdb-server(7)).
 *
 * One `struct osn_ovsdb` is one connection to one ovsdb-server.  It speaks
 * JSON-RPC 1.0 over a byte stream (stream.h: unix:, tcp:, ssl:), frames
 * messages by scanning for the end of each top-level JSON value (so a message
 * split across reads, or several in one read, is handled), answers the
 * server's "echo" requests itself, and queues "update2" notifications of
 * conditional monitors for the caller.
 *
 * The core is a non-blocking state machine: osn_ovsdb_run() consumes what the
 * socket has, osn_ovsdb_fd() is what to poll().  The blocking wrappers below
 * (transact, monitor, wait_update) are built on it and every one of them is
 * bounded by an absolute deadline on osn_now_ms()'s clock: none ever waits
 * longer.  A deadline that passes yields -ETIMEDOUT.
 *
 * Ownership: functions that take a json_t * documented as "stolen" always
 * take the reference, even on failure.  Returned json_t * are new references
 * that the caller decrefs.  Errors: negative errno; when an error must reach
 * the user, 'err' (may be NULL) is filled too.
 *
 * Not thread-safe: one connection belongs to one thread.
 */
#ifndef OSN_OVSDB_H
#define OSN_OVSDB_H

#include "error.h"
#include "stream.h"
#include "util.h"

struct osn_ovsdb;

/* Connects to the first reachable of the comma-separated 'remotes'
 * ("unix:/run/ovn/ovnnb_db.sock", "tcp:10.0.0.1:6641",
 * "ssl:[fd00::1]:6641,ssl:10.0.0.2:6641").  Remotes are tried in order until
 * one answers; each failure is logged at debug and the last one is reported
 * in 'err' (code OSN_CNI_TRY_AGAIN_LATER, naming every remote tried).
 * 'ssl' is needed only for ssl: remotes (may be NULL otherwise). */
int osn_ovsdb_connect(const char *remotes, const struct osn_ssl_opts *ssl, int64_t deadline,
                      struct osn_ovsdb **ret, struct osn_error *err) _wur_;

/* Closes the connection and frees everything; accepts NULL. */
void osn_ovsdb_close(struct osn_ovsdb *c);
static inline void osn_ovsdb_closep(struct osn_ovsdb **c)
{
        osn_ovsdb_close(*c);
}
#define _cleanup_ovsdb_ _cleanup_(osn_ovsdb_closep)

/* The remote this connection reached, e.g. "unix:/tmp/x/nb.sock". */
const char *osn_ovsdb_remote(const struct osn_ovsdb *c);

/* Runs "transact" on database 'db' with the operations in 'ops' (a JSON
 * array, stolen) and waits for the reply.
 * Returns 0 and *ret_result (the result array, one object per operation) when
 * every operation succeeded.  When the server reports an error for an
 * operation (or for the whole request), fills 'err' with code
 * OSN_CNI_OVSDB_ERROR and a message naming the operation index, its "op", the
 * error and its details, and returns:
 *   -EAGAIN     a "wait" operation failed ("timed out"): a guard did not
 *               hold; the caller re-reads and retries;
 *   -EEXIST     "constraint violation" (e.g. a duplicate indexed name);
 *   -EPROTO     any other error.
 * -ETIMEDOUT on deadline, -ECONNRESET/-EPIPE when the connection is lost. */
int osn_ovsdb_transact(struct osn_ovsdb *c, const char *db, json_t *ops, int64_t deadline,
                       json_t **ret_result, struct osn_error *err) _wur_;

/* Sends "monitor_cond" for one table of 'db': 'monitor_id' is the caller's
 * name for it (any string, unique on this connection), 'where' a JSON array
 * of conditions as in RFC 7047 5.1 (stolen; NULL = all rows), 'columns' a
 * NULL-terminated list (NULL = all columns).  Waits for the reply and
 * returns the initial contents as a <table-updates2> object (new reference,
 * e.g. {"Interface": {"<uuid>": {"initial": {...}}}}; {} when no row
 * matches). */
int osn_ovsdb_monitor_cond(struct osn_ovsdb *c, const char *db, const char *monitor_id,
                           const char *table, json_t *where, const char *const *columns,
                           int64_t deadline, json_t **ret_initial, struct osn_error *err) _wur_;

/* Waits for the next "update2" notification of 'monitor_id' (earlier queued
 * ones first) and returns its <table-updates2> object.  Echo requests are
 * answered meanwhile; notifications of other monitors stay queued.
 * -ETIMEDOUT when 'deadline' passes first. */
int osn_ovsdb_wait_update(struct osn_ovsdb *c, const char *monitor_id, int64_t deadline,
                          json_t **ret_update, struct osn_error *err) _wur_;

/* Sends "monitor_cancel" for 'monitor_id' and waits for its reply; drops
 * queued notifications of that monitor. */
int osn_ovsdb_monitor_cancel(struct osn_ovsdb *c, const char *monitor_id, int64_t deadline);

/* Pipelining: the two calls above, split into sending the request and
 * waiting for its reply, so that a caller can send several requests (they
 * are answered in order) and do other work, e.g. netlink, while the server
 * works.  *ret_id names the request for its _finish().  transact_start()
 * borrows 'ops', which _finish() needs again (for its error messages);
 * monitor_cond_start() steals 'where' and registers the monitor at once, so
 * that no update is lost before its _finish(). */
int osn_ovsdb_transact_start(struct osn_ovsdb *c, const char *db, const json_t *ops,
                             int64_t *ret_id, struct osn_error *err) _wur_;
int osn_ovsdb_transact_finish(struct osn_ovsdb *c, const char *db, const json_t *ops, int64_t id,
                              int64_t deadline, json_t **ret_result, struct osn_error *err) _wur_;
int osn_ovsdb_monitor_cond_start(struct osn_ovsdb *c, const char *db, const char *monitor_id,
                                 const char *table, json_t *where, const char *const *columns,
                                 int64_t *ret_id, struct osn_error *err) _wur_;
int osn_ovsdb_monitor_cond_finish(struct osn_ovsdb *c, const char *monitor_id, int64_t id,
                                  int64_t deadline, json_t **ret_initial, struct osn_error *err)
    _wur_;

/* Sends "echo" and waits for the reply: a cheap liveness probe. */
int osn_ovsdb_echo(struct osn_ovsdb *c, int64_t deadline, struct osn_error *err) _wur_;

/* Lists the databases the server holds ("list_dbs"), as a JSON array. */
int osn_ovsdb_list_dbs(struct osn_ovsdb *c, int64_t deadline, json_t **ret, struct osn_error *err)
    _wur_;

/* --- Non-blocking core --- */

/* The fd to poll() for POLLIN (and POLLOUT while osn_ovsdb_want_write()). */
int osn_ovsdb_fd(const struct osn_ovsdb *c);
bool osn_ovsdb_want_write(const struct osn_ovsdb *c);

/* Reads and writes what the socket allows without blocking; answers echo;
 * files replies and notifications.  0, or negative errno when the connection
 * is broken (-ECONNRESET on EOF, -EPROTO on a malformed message, -EMSGSIZE
 * for a message over 64 MiB).  A broken connection stays broken: every later
 * call returns the same error at once. */
int osn_ovsdb_run(struct osn_ovsdb *c);

/* For tests and the fuzzer: a connection over an already connected socket
 * (e.g. one end of a socketpair() whose other end plays the server), named
 * 'name'.  Takes 'fd', even on failure. */
int osn_ovsdb_from_fd(int fd, const char *name, struct osn_ovsdb **ret) _wur_;

/* --- Small helpers to build operations (all return new references) --- */

/* ["==", column, value] etc.  'value' is stolen. */
json_t *osn_ovsdb_cond(const char *column, const char *function, json_t *value);
/* ["uuid", "<uuid>"] and ["named-uuid", "<name>"]. */
json_t *osn_ovsdb_uuid(const char *uuid);
json_t *osn_ovsdb_named_uuid(const char *name);
/* ["map", [[k, v], ...]] from a NULL-terminated key, value, key, value... list. */
json_t *osn_ovsdb_map(const char *const *kv);
/* ["set", [...]] from 'array' (stolen); a single-element set stays ["set",[x]]. */
json_t *osn_ovsdb_set(json_t *array);
/* {"op": "select", "table": table, "where": where, "columns": [...]} with
 * 'where' (an array of conditions) stolen and the columns named by the
 * NULL-terminated list 'columns'. */
json_t *osn_ovsdb_op_select(const char *table, json_t *where, const char *const *columns);

/* --- Reading results (borrowed pointers into the result, NULL when absent) --- */

/* The "rows" of operation 'i' of a transact result. */
json_t *osn_ovsdb_result_rows(const json_t *result, size_t i);
/* The uuid of a row read with its "_uuid" column, as a string. */
const char *osn_ovsdb_row_uuid(const json_t *row);

/* Reads an OVSDB map value (["map", [[k, v]...]]) and returns v for key 'k'
 * when it is a string, else NULL.  Borrowed pointer into 'map'. */
const char *osn_ovsdb_map_get(const json_t *map, const char *key);
/* Reads an OVSDB set value (an atom or ["set", [...]]) into its element
 * array: returns the number of elements and stores element i with
 * osn_ovsdb_set_at(). */
size_t osn_ovsdb_set_size(const json_t *set);
const json_t *osn_ovsdb_set_at(const json_t *set, size_t i);

/* --- Framing, exposed for tests and the fuzzer --- */

/* Scans 'buf' (len bytes) for the end of the first complete top-level JSON
 * value (object or array, as JSON-RPC sends), skipping leading whitespace.
 * Returns its length in bytes (so buf[0..n) holds one value), 0 when more
 * bytes are needed, or -EPROTO when the bytes cannot start a JSON-RPC
 * message.  Strings and escapes are honoured; nesting is bounded (1000). */
ssize_t osn_jsonrpc_frame(const char *buf, size_t len);

#endif
