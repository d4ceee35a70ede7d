/* txn: see txn.h. */
#include "txn.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct osn_txn {
        char *db;
        json_t *ops;    /* the request's operations */
        json_t *result; /* the answer of a successful commit */
        bool broken;    /* a builder could not allocate */
        bool in_flight; /* started, not finished */
        int64_t id;     /* the request's id while in flight */
        osn_op failed;  /* the operation the server refused */
};

struct osn_txn *osn_txn_new(const char *db)
{
        struct osn_txn *t = calloc(1, sizeof(*t));
        if (!t)
                return NULL;
        t->db = strdup(db);
        t->ops = json_array();
        t->failed = OSN_OP_NONE;
        if (!t->db || !t->ops) {
                osn_txn_free(t);
                return NULL;
        }
        return t;
}

void osn_txn_free(struct osn_txn *t)
{
        if (!t)
                return;
        free(t->db);
        json_decref(t->ops);
        json_decref(t->result);
        free(t);
}

void osn_txn_reset(struct osn_txn *t)
{
        json_array_clear(t->ops);
        json_decref(t->result);
        t->result = NULL;
        t->broken = t->in_flight = false;
        t->failed = OSN_OP_NONE;
}

/* --- Conditions --- */

json_t *osn_where1(const char *column, const char *function, json_t *value)
{
        return osn_where_and(json_array(), osn_ovsdb_cond(column, function, value));
}

json_t *osn_where_eq(const char *column, json_t *value)
{
        return osn_where1(column, "==", value);
}

json_t *osn_where_and(json_t *where, json_t *cond)
{
        if (!where || !cond || json_array_append_new(where, cond) < 0) {
                json_decref(where);
                if (!where)
                        json_decref(cond);
                return NULL;
        }
        return where;
}

json_t *osn_mutation(const char *column, const char *mutator, json_t *value)
{
        return value ? json_pack("[s, s, o]", column, mutator, value) : NULL;
}

json_t *osn_mutation_and(json_t *mutations, json_t *m)
{
        /* A single mutation ([column, mutator, value]) becomes a list of one. */
        if (mutations && json_is_string(json_array_get(mutations, 0))) {
                json_t *one = json_array();
                if (!one || json_array_append_new(one, mutations) < 0) {
                        json_decref(one);
                        json_decref(m);
                        return NULL;
                }
                mutations = one;
        }
        if (!mutations || !m || json_array_append_new(mutations, m) < 0) {
                json_decref(mutations);
                if (!mutations)
                        json_decref(m);
                return NULL;
        }
        return mutations;
}

/* --- Operations --- */

/* Appends the operation 'op' (stolen; NULL when building it failed) and
 * returns its handle. */
static osn_op add(struct osn_txn *t, json_t *op)
{
        osn_op h = (osn_op)json_array_size(t->ops);
        if (!op || json_array_append_new(t->ops, op) < 0) {
                t->broken = true;
                return h;
        }
        return h;
}

/* {"op": op, "table": table} plus "where" (stolen; NULL = every row, written
 * as []). */
static json_t *with(json_t *o, const char *key, json_t *v);

static json_t *op_base(const char *op, const char *table, json_t *where)
{
        return with(json_pack("{s:s, s:s}", "op", op, "table", table), "where",
                    where ? where : json_array());
}

static json_t *columns_array(const char *const *columns)
{
        json_t *a = json_array();
        for (size_t i = 0; a && columns && columns[i]; i++)
                if (json_array_append_new(a, json_string(columns[i])) < 0)
                        a = (json_decref(a), NULL);
        return a;
}

/* Sets o[key] = v (stolen); NULL when either is missing. */
static json_t *with(json_t *o, const char *key, json_t *v)
{
        if (!o || !v) {
                json_decref(o);
                json_decref(v);
                return NULL;
        }
        if (json_object_set_new(o, key, v) < 0) { /* 'v' is taken even so */
                json_decref(o);
                return NULL;
        }
        return o;
}

osn_op osn_txn_select(struct osn_txn *t, const char *table, json_t *where,
                      const char *const *columns)
{
        json_t *o = op_base("select", table, where);
        if (columns)
                o = with(o, "columns", columns_array(columns));
        return add(t, o);
}

osn_op osn_txn_insert(struct osn_txn *t, const char *table, json_t *row, const char *uuid_name,
                      const char *uuid)
{
        json_t *o = with(json_pack("{s:s, s:s}", "op", "insert", "table", table), "row", row);
        if (uuid_name)
                o = with(o, "uuid-name", json_string(uuid_name));
        if (uuid)
                o = with(o, "uuid", json_string(uuid));
        return add(t, o);
}

osn_op osn_txn_update(struct osn_txn *t, const char *table, json_t *where, json_t *row)
{
        return add(t, with(op_base("update", table, where), "row", row));
}

osn_op osn_txn_mutate(struct osn_txn *t, const char *table, json_t *where, json_t *mutations)
{
        json_t *o = op_base("mutate", table, where);
        /* A single mutation ([column, mutator, value], its first element a
         * string) becomes a list of one. */
        if (mutations && json_is_string(json_array_get(mutations, 0))) {
                json_t *one = json_array();
                if (one && json_array_append_new(one, mutations) == 0)
                        mutations = one;
                else {
                        json_decref(one);
                        json_decref(mutations);
                        mutations = NULL;
                }
        }
        return add(t, with(o, "mutations", mutations));
}

osn_op osn_txn_delete(struct osn_txn *t, const char *table, json_t *where)
{
        return add(t, op_base("delete", table, where));
}

osn_op osn_txn_wait(struct osn_txn *t, const char *table, json_t *where, const char *const *columns,
                    bool equal, json_t *rows)
{
        json_t *o = op_base("wait", table, where);
        o = with(o, "columns", columns_array(columns));
        o = with(o, "until", json_string(equal ? "==" : "!="));
        o = with(o, "rows", rows);
        o = with(o, "timeout", json_integer(0));
        return add(t, o);
}

osn_op osn_txn_exists(struct osn_txn *t, const char *table, json_t *where)
{
        return osn_txn_wait(t, table, where, (const char *const[]){"_uuid", NULL}, false,
                            json_array());
}

osn_op osn_txn_absent(struct osn_txn *t, const char *table, json_t *where)
{
        return osn_txn_wait(t, table, where, (const char *const[]){"_uuid", NULL}, true,
                            json_array());
}

osn_op osn_txn_comment(struct osn_txn *t, const char *fmt, ...)
{
        char *s = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        json_t *o = n < 0 ? NULL : json_pack("{s:s, s:s}", "op", "comment", "comment", s);
        if (n >= 0)
                free(s);
        return add(t, o);
}

size_t osn_txn_size(const struct osn_txn *t)
{
        return json_array_size(t->ops);
}

bool osn_txn_is_empty(const struct osn_txn *t)
{
        size_t i;
        const json_t *op;
        json_array_foreach(t->ops, i, op)
        {
                if (!streq(json_string_value(json_object_get(op, "op")), "comment"))
                        return false;
        }
        return true;
}

const json_t *osn_txn_ops(const struct osn_txn *t)
{
        return t->ops;
}

char *osn_txn_dump(const struct osn_txn *t)
{
        return json_dumps(t->ops, JSON_SORT_KEYS | JSON_COMPACT);
}

/* --- Committing --- */

int osn_txn_start(struct osn_txn *t, struct osn_ovsdb *c, struct osn_error *err)
{
        json_decref(t->result);
        t->result = NULL;
        t->failed = OSN_OP_NONE;
        if (t->broken)
                return osn_error_set(err, -ENOMEM, OSN_CNI_TRY_AGAIN_LATER,
                                     "OVSDB transaction on %s: out of memory while building it",
                                     t->db);
        osn_txn_trace(t->db, t->ops);
        int r = osn_ovsdb_transact_start(c, t->db, t->ops, &t->id, err);
        t->in_flight = r == 0;
        return r;
}

int osn_txn_finish(struct osn_txn *t, struct osn_ovsdb *c, int64_t deadline, struct osn_error *err)
{
        if (!t->in_flight)
                return osn_error_set(err, -EINVAL, OSN_CNI_OVSDB_ERROR,
                                     "OVSDB transaction on %s: finished but never started", t->db);
        t->in_flight = false;
        struct osn_error local = {0};
        int r = osn_ovsdb_transact_finish(c, t->db, t->ops, t->id, deadline, &t->result, &local);
        if (r < 0) {
                t->failed = local.code ? local.failed_op : OSN_OP_NONE;
                if (err && !osn_error_isset(err))
                        *err = local;
        }
        return r;
}

int osn_txn_commit(struct osn_txn *t, struct osn_ovsdb *c, int64_t deadline, struct osn_error *err)
{
        int r = osn_txn_start(t, c, err);
        return r < 0 ? r : osn_txn_finish(t, c, deadline, err);
}

bool osn_txn_in_flight(const struct osn_txn *t)
{
        return t->in_flight;
}

static osn_txn_trace_fn *trace_fn;
static void *trace_aux;

void osn_txn_set_trace(osn_txn_trace_fn *fn, void *aux)
{
        trace_fn = fn;
        trace_aux = aux;
}

void osn_txn_trace(const char *db, const json_t *ops)
{
        if (trace_fn)
                trace_fn(db, ops, trace_aux);
}

/* --- Results --- */

static const json_t *result_of(const struct osn_txn *t, osn_op op)
{
        return op < 0 ? NULL : json_array_get(t->result, (size_t)op);
}

const json_t *osn_txn_rows(const struct osn_txn *t, osn_op op)
{
        return json_object_get(result_of(t, op), "rows");
}

const json_t *osn_txn_row(const struct osn_txn *t, osn_op op)
{
        return json_array_get(osn_txn_rows(t, op), 0);
}

const char *osn_txn_uuid(const struct osn_txn *t, osn_op op)
{
        return json_string_value(json_array_get(json_object_get(result_of(t, op), "uuid"), 1));
}

long long osn_txn_count(const struct osn_txn *t, osn_op op)
{
        const json_t *n = json_object_get(result_of(t, op), "count");
        return json_is_integer(n) ? (long long)json_integer_value(n) : -1;
}

osn_op osn_txn_failed(const struct osn_txn *t)
{
        return t->failed;
}
