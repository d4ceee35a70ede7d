/* txn: the one place where osn writes OVSDB operations.
 *
 * A `struct osn_txn` is one "transact" request being built for one
 * database (RFC 7047 4.1.3), then committed on a connection (ovsdb.h), then
 * read.  Every operation of RFC 7047 5.2 that osn uses has one builder
 * here; each returns the operation's handle (its index in the request), by
 * which the caller later reads that operation's result and learns whether
 * it is the one that failed.  No other module packs an operation object.
 *
 *     _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
 *     osn_op guard = osn_txn_exists(t, "Logical_Switch", osn_where_eq("name", ...));
 *     osn_op port = osn_txn_insert(t, "Logical_Switch_Port", row, "lsp", NULL);
 *     r = osn_txn_commit(t, nb, deadline, err);
 *     if (r == -EAGAIN && osn_txn_failed(t) == guard) ...   // somebody else won
 *     uuid = osn_txn_uuid(t, port);
 *
 * Conditions ('where') are JSON arrays of conditions (RFC 7047 5.1), built
 * with osn_where_eq()/osn_where_and() or ovsdb.h's osn_ovsdb_cond(); NULL
 * means "every row".  Values are RFC 7047 <value>s (ovsdb.h's
 * osn_ovsdb_uuid/map/set help).
 *
 * Ownership: every json_t * argument is stolen, even on failure.  A builder
 * that cannot allocate marks the transaction broken: the handle it returns
 * is still the index the operation would have had, and committing a broken
 * transaction fails with -ENOMEM (code OSN_CNI_TRY_AGAIN_LATER) without
 * sending anything.  Results are borrowed pointers into the transaction,
 * valid until it is freed or reset.
 *
 * Errors of a commit are those of osn_ovsdb_transact() (ovsdb.h): -EAGAIN
 * when a "wait" did not hold, -EEXIST on a constraint violation, -EPROTO on
 * any other operation error (osn_txn_failed() names the operation in each of
 * these cases), -ETIMEDOUT, -ECONNRESET/-EPIPE.
 */
#ifndef OSN_TXN_H
#define OSN_TXN_H

#include "error.h"
#include "ovsdb.h"
#include "util.h"

struct osn_txn;

/* An operation's handle: its index in the request.  OSN_OP_NONE names no
 * operation (e.g. a guard that was not needed). */
typedef int osn_op;
#define OSN_OP_NONE (-1)

/* A new, empty transaction on database 'db' (e.g. "OVN_Northbound"); NULL
 * when out of memory. */
struct osn_txn *osn_txn_new(const char *db);
void osn_txn_free(struct osn_txn *t);
static inline void osn_txn_freep(struct osn_txn **t)
{
        osn_txn_free(*t);
}
#define _cleanup_txn_ _cleanup_(osn_txn_freep)

/* Drops every operation and result, so that the same object builds the
 * next request (a retry after a re-read). */
void osn_txn_reset(struct osn_txn *t);

/* --- Conditions (new references; arguments stolen) --- */

/* [[column, "==", value]]. */
json_t *osn_where_eq(const char *column, json_t *value);
/* [[column, function, value]]. */
json_t *osn_where1(const char *column, const char *function, json_t *value);
/* Appends the condition 'cond' ([column, function, value]) to 'where'. */
json_t *osn_where_and(json_t *where, json_t *cond);

/* A mutation [column, mutator, value] for osn_txn_mutate(). */
json_t *osn_mutation(const char *column, const char *mutator, json_t *value);
/* The list of mutations 'mutations' (a list, or a single mutation) with
 * 'm' appended: osn_mutation_and(osn_mutation(...), osn_mutation(...)). */
json_t *osn_mutation_and(json_t *mutations, json_t *m);

/* --- Operations (RFC 7047 5.2), each returning its handle --- */

/* "select" of 'columns' (NULL-terminated; NULL = every column). */
osn_op osn_txn_select(struct osn_txn *t, const char *table, json_t *where,
                      const char *const *columns);
/* "insert" of 'row' (an object, column: value).  'uuid_name' (may be NULL)
 * lets later operations of the request name the row (osn_ovsdb_named_uuid);
 * 'uuid' (may be NULL) asks for that row UUID (ovsdb-server(7)'s "uuid"
 * member of insert), so that a second insert of the same row is refused
 * (-EPROTO, "duplicate uuid"). */
osn_op osn_txn_insert(struct osn_txn *t, const char *table, json_t *row, const char *uuid_name,
                      const char *uuid);
/* "update" of the rows matching 'where' with the columns of 'row'. */
osn_op osn_txn_update(struct osn_txn *t, const char *table, json_t *where, json_t *row);
/* "mutate" with 'mutations': an array of osn_mutation()s, or a single one. */
osn_op osn_txn_mutate(struct osn_txn *t, const char *table, json_t *where, json_t *mutations);
/* "delete" of the rows matching 'where'. */
osn_op osn_txn_delete(struct osn_txn *t, const char *table, json_t *where);
/* "wait" with timeout 0: the rows matching 'where', projected on 'columns'
 * (NULL-terminated), must be exactly 'rows' (until "==", 'equal') or must
 * not be ("!="), else the transaction fails here with -EAGAIN. */
osn_op osn_txn_wait(struct osn_txn *t, const char *table, json_t *where, const char *const *columns,
                    bool equal, json_t *rows);
/* The guards osn uses most: some row matches 'where' / no row does. */
osn_op osn_txn_exists(struct osn_txn *t, const char *table, json_t *where);
osn_op osn_txn_absent(struct osn_txn *t, const char *table, json_t *where);
/* "comment" (printf format): shown in the server's log. */
osn_op osn_txn_comment(struct osn_txn *t, const char *fmt, ...) _printf_(2, 3);

/* How many operations the request holds; whether it holds only comments
 * (nothing worth sending). */
size_t osn_txn_size(const struct osn_txn *t);
bool osn_txn_is_empty(const struct osn_txn *t);
/* The request's operations as they will be sent (for tests and logs). */
const json_t *osn_txn_ops(const struct osn_txn *t);
/* The request as one JSON text, keys sorted, for golden tests (malloc'd). */
char *osn_txn_dump(const struct osn_txn *t);

/* --- Committing --- */

/* Sends the request and waits for its answer. */
int osn_txn_commit(struct osn_txn *t, struct osn_ovsdb *c, int64_t deadline, struct osn_error *err)
    _wur_;
/* The same, split for pipelining (ovsdb.h, "Pipelining"): _start() sends,
 * _finish() waits.  The transaction must not change in between. */
int osn_txn_start(struct osn_txn *t, struct osn_ovsdb *c, struct osn_error *err) _wur_;
int osn_txn_finish(struct osn_txn *t, struct osn_ovsdb *c, int64_t deadline, struct osn_error *err)
    _wur_;
/* Whether _start() sent the request and _finish() has not yet been called. */
bool osn_txn_in_flight(const struct osn_txn *t);

/* For golden tests: 'fn' (NULL: none) sees every request _start() sends,
 * just before it is sent, with 'aux'.  Process-wide; not thread-safe. */
typedef void osn_txn_trace_fn(const char *db, const json_t *ops, void *aux);
void osn_txn_set_trace(osn_txn_trace_fn *fn, void *aux);
/* Calls the trace function, if any (txn.c's _start() does). */
void osn_txn_trace(const char *db, const json_t *ops);

/* --- Results (after a successful commit; borrowed, NULL when absent) --- */

/* The rows a "select" read (a JSON array). */
const json_t *osn_txn_rows(const struct osn_txn *t, osn_op op);
/* The first of them, or NULL when it read none. */
const json_t *osn_txn_row(const struct osn_txn *t, osn_op op);
/* The UUID of the row an "insert" made. */
const char *osn_txn_uuid(const struct osn_txn *t, osn_op op);
/* The rows an "update", "mutate" or "delete" touched; -1 when unknown. */
long long osn_txn_count(const struct osn_txn *t, osn_op op);
/* After a failed commit: the operation the server refused (a guard that did
 * not hold, a constraint), or OSN_OP_NONE (the commit itself, a lost
 * connection, a deadline). */
osn_op osn_txn_failed(const struct osn_txn *t);

#endif
