/* ovsdb: osn's own OVSDB client (RFC 7047, ovsdb-server(7), ovsdb(7)).
 *
 * One `struct osn_ovsdb` is one logical connection to one database service:
 * a standalone ovsdb-server, or a Raft cluster given as all its members'
 * remotes.  It sits on the JSON-RPC layer (jsonrpc.h: framing, echo, ids)
 * and adds what is about databases: transactions, conditional monitors
 * ("update2" notifications queued for the caller), and the choice of
 * member.
 *
 * Members (clusters, ovsdb(7)).  Remotes are shuffled once per process
 * (OSN_OVSDB_NO_SHUFFLE=1 in the environment keeps the given order, for
 * tests).  The first request naming a database is preceded, in the same
 * write and so in the same round trip, by a select of that database's row
 * in _Server.Database; no reply is handed to a caller before that verdict.
 * A member is used only when the database there is "connected" (in contact
 * with the cluster's majority; a relay with its source) and, for a
 * clustered database, it is the leader, has finished joining, and its
 * "index" is not older than the highest index this connection has seen
 * (ovsdb-idl's min_index).  Leader-only holds for every request, reads too,
 * so that a read that decides a write never sees a follower's older copy.
 * A standalone database always does.
 *
 * Moving to another member happens inside the blocking calls, within the
 * caller's deadline, when the member is unacceptable, when its connection
 * breaks (EOF, e.g. the leader was killed), or when it falls silent: a
 * request unanswered for the stall bound (osn_ovsdb_set_stall_ms(), default
 * 1000 ms) makes the client ask the member's _Server again; a member that
 * answers is live (a slow write is left to finish), one that does not for
 * another stall bound is left.  What was in flight is then sent again to
 * the next member, after the old session is closed (ovsdb-server drops
 * the waiting triggers of a closed session), with these rules:
 *   - reads (transactions of only select/wait/comment/assert, monitor_cond,
 *     echo, list_dbs) are always sent again;
 *   - monitors already set up are set up again; their next update is the
 *     whole current contents as "initial" rows (rows deleted meanwhile are
 *     not reported as deleted);
 *   - a write sent to a member found to be a live follower (before its
 *     verdict arrived) is NOT sent again: the follower forwards it to the
 *     leader and answers once its result is visible there (ovsdb(7)), so
 *     its answer is awaited on that session;
 *   - a write on a member that broke, fell silent or lost the majority may
 *     or may not have committed, and IS sent again.  That is safe only for
 *     transactions whose second run cannot do harm: every write osn makes
 *     is one of them.  Inserts of named rows are guarded by a "wait" on the
 *     name (or by a unique index), so a second run after a commit fails
 *     with -EAGAIN/-EEXIST, the answer of a lost race, which the caller
 *     already handles by re-reading (and then finds its own row: a retried
 *     ADD converges); deletes and "mutate ... delete" by name or uuid find
 *     nothing the second time.  A caller with a write that is not of this
 *     kind must not use a clustered remote list.
 *
 * Pipelining.  Requests may be started one after another and finished
 * later, in any order.  What one sees of another depends on the member:
 *   - standalone server and cluster leader: ovsdb-server runs a session's
 *     requests in the order sent, each to its end (a write on a leader:
 *     until Raft has committed it) before the next, so every request sees
 *     every write started before it on this connection, and the replies
 *     come in that order.  Measured on OVS 3.1 with a 3-member cluster
 *     (test-ovsdb-cluster): a select started right after an insert, in the
 *     same write, saw it 20 times in 20 on the leader;
 *   - follower: the write is forwarded and answered late, reads are
 *     answered at once from the follower's copy: the same select saw the
 *     insert 3 and 6 times in 20 on the two followers, and its reply came
 *     first.
 * That is why followers are never used (see Members): on a connection that
 * has moved, every request runs on a leader.  Monitors are the exception by
 * nature: an update may arrive before or after the reply of the write that
 * caused it.  After a move, requests are sent again in the order they were
 * started.
 *
 * Every blocking call is bounded by an absolute deadline on osn_now_ms()'s
 * clock; a deadline that passes yields -ETIMEDOUT (code 11 in 'err').
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
#include "jsonrpc.h"
#include "stream.h"
#include "util.h"

struct osn_ovsdb;

/* Connects to the first reachable of the comma-separated 'remotes'
 * ("unix:/run/ovn/ovnnb_db.sock", "tcp:10.0.0.1:6641",
 * "ssl:[fd00::1]:6641,ssl:10.0.0.2:6641"; at most 32), shuffled.  Remotes
 * are tried until one accepts the connection; each failure is logged at
 * debug and, when none does, 'err' names every remote tried (code
 * OSN_CNI_TRY_AGAIN_LATER).  Whether that member will do is learnt with the
 * first request (see above), not here, so connecting costs no round trip.
 * 'ssl' is needed only for ssl: remotes (may be NULL otherwise). */
int osn_ovsdb_connect(const char *remotes, const struct osn_ssl_opts *ssl, int64_t deadline,
                      struct osn_ovsdb **ret, struct osn_error *err) _wur_;

/* Closes the connection and frees everything; accepts NULL. */
void osn_ovsdb_close(struct osn_ovsdb *c);
/* Frees everything and closes this process's descriptors without a word to
 * the server (no monitor_cancel, no shutdown): for a process whose fork()ed
 * child carries on with the connection, which a goodbye would end. */
void osn_ovsdb_abandon(struct osn_ovsdb *c);
/* Closes a connection that this process inherited from its fork()ing
 * parent, which went on reading it: without a message (this copy's state
 * is the parent's at the fork), but without a reset either
 * (osn_jsonrpc_hangup()).  The server ends the connection's monitors. */
void osn_ovsdb_hangup(struct osn_ovsdb *c);
static inline void osn_ovsdb_closep(struct osn_ovsdb **c)
{
        osn_ovsdb_close(*c);
}
#define _cleanup_ovsdb_ _cleanup_(osn_ovsdb_closep)

/* The remote in use (or last used), e.g. "unix:/tmp/x/nb.sock". */
const char *osn_ovsdb_remote(const struct osn_ovsdb *c);

/* The stall bound (see above); 'ms' <= 0 restores the default. */
void osn_ovsdb_set_stall_ms(struct osn_ovsdb *c, int ms);
/* The highest _Server index seen (0 for standalone databases), and how many
 * times the connection moved to another member: for tests and logs. */
int64_t osn_ovsdb_min_index(const struct osn_ovsdb *c);
int osn_ovsdb_moves(const struct osn_ovsdb *c);

/* For the rollback of a failed operation.
 *
 * osn_ovsdb_settle() drives every request still in flight (started, not
 * finished) to its answer, moving to other members as above, and keeps the
 * answers for their _finish() calls, which then return at once.  0 when
 * nothing is unanswered any more.  -ETIMEDOUT (and 'err') when some are
 * still unanswered at 'deadline': those are abandoned (their _finish()
 * returns -EINVAL) and their session is closed, so that, with ovsdb-server
 * dropping the waiting triggers of a closed session, what the caller does
 * next is ordered after anything they may still have committed.
 *
 * osn_ovsdb_reconnect() makes the connection usable again, whatever state
 * it is in: requests still unanswered are abandoned (as above; settle
 * first to keep their answers), a working verified member is asked once
 * more whether it still does, and otherwise (broken, silent, not the leader
 * any more) the next acceptable member is found, within 'deadline'.
 * Monitors are set up again there.  0 when a member that does is in use;
 * else -ETIMEDOUT (code 11) naming the last problem seen.
 *
 * An ADD's rollback: settle(c, rollback_deadline), read the outcome of the
 * insert from its _finish(), then (on any failure) reconnect(c,
 * rollback_deadline) and remove by name: the removal runs on a member that
 * has every committed write, after anything the abandoned session could
 * still commit. */
int osn_ovsdb_settle(struct osn_ovsdb *c, int64_t deadline, struct osn_error *err) _wur_;
int osn_ovsdb_reconnect(struct osn_ovsdb *c, int64_t deadline, struct osn_error *err) _wur_;

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
 * waiting for its reply, so that a caller can send several requests (see
 * "Pipelining" above for what one sees of another) and do other work, e.g.
 * netlink, while the server works.  *ret_id names the request for its _finish().  transact_start()
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

/* The fd of the member in use (-1 between members) to poll() for POLLIN
 * (and POLLOUT while osn_ovsdb_want_write()). */
int osn_ovsdb_fd(const struct osn_ovsdb *c);
bool osn_ovsdb_want_write(const struct osn_ovsdb *c);

/* Reads and writes what the socket allows without blocking; answers echo;
 * files replies and notifications.  0, or negative errno when the session
 * to the member is broken (-ECONNRESET on EOF, -EPROTO on a malformed
 * message, -EMSGSIZE for a message over 64 MiB).  On a connection made by
 * osn_ovsdb_from_fd() a broken session stays broken: every later call
 * returns the same error at once; one made by osn_ovsdb_connect() moves to
 * another member in the next blocking call. */
int osn_ovsdb_run(struct osn_ovsdb *c);

/* For tests and the fuzzer: a connection over an already connected socket
 * (e.g. one end of a socketpair() whose other end plays the server), named
 * 'name': one member, no _Server check, no moving.  Takes 'fd', even on
 * failure. */
int osn_ovsdb_from_fd(int fd, const char *name, struct osn_ovsdb **ret) _wur_;

/* --- Small helpers to build the values of operations (all return new
 * references); the operations themselves are txn.h's --- */

/* ["==", column, value] etc.  'value' is stolen. */
json_t *osn_ovsdb_cond(const char *column, const char *function, json_t *value);
/* ["uuid", "<uuid>"] and ["named-uuid", "<name>"]. */
json_t *osn_ovsdb_uuid(const char *uuid);
json_t *osn_ovsdb_named_uuid(const char *name);
/* ["map", [[k, v], ...]] from a NULL-terminated key, value, key, value... list. */
json_t *osn_ovsdb_map(const char *const *kv);
/* ["set", [...]] from 'array' (stolen); a single-element set stays ["set",[x]]. */
json_t *osn_ovsdb_set(json_t *array);

/* --- Reading results (borrowed pointers into the result, NULL when absent) --- */

/* Whether 's' is a UUID as OVSDB writes it ("8-4-4-4-12" hex digits). */
bool osn_ovsdb_is_uuid(const char *s);
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

#endif
