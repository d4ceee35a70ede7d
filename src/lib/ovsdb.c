/* ovsdb: see ovsdb.h.
 *
 * Design: one input buffer framed incrementally (the scanner keeps its state
 * across reads, so a message that trickles in is scanned once, not once per
 * read), one output buffer flushed whenever the socket allows, and three
 * small JSON containers as the state the blocking wrappers wait on:
 * 'replies' (request id -> reply), 'monitors' (active monitor ids) and
 * 'updates' (queued update2 params, oldest first).  A connection that broke
 * (EOF, malformed input) stays broken: every later call returns the error.
 */
#include "ovsdb.h"

#include <sys/socket.h>

#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

#define MAX_MSG_SIZE      ((size_t)64 << 20) /* one message, in or out */
#define MAX_DEPTH         1000               /* nesting of one message */
#define READ_CHUNK        ((size_t)64 << 10)
#define MAX_READS_PER_RUN 64 /* so that a flooding server cannot starve deadlines */

/* State of the incremental frame scanner; all zero = at a message start. */
struct frame_scan {
        size_t pos;     /* bytes of the current message scanned so far */
        unsigned depth; /* open braces and brackets */
        bool started;   /* first '{' or '[' seen */
        bool in_string;
        bool escape; /* previous byte was a backslash inside a string */
};

struct osn_ovsdb {
        struct osn_stream *stream;
        int error;               /* sticky: set once the connection broke */
        char error_detail[256];  /* what was wrong, for the user */
        int64_t next_id;         /* JSON-RPC ids are integers 1, 2, ... */
        char *ibuf;              /* received bytes ... */
        size_t ioff, ilen, icap; /* ... ibuf[ioff..ilen) not yet parsed */
        struct frame_scan scan;  /* of ibuf[ioff..ilen) */
        char *obuf;              /* bytes to send ... */
        size_t ooff, olen, ocap; /* ... obuf[ooff..olen) not yet sent */
        json_t *replies;         /* "<id>" -> null while awaited, then the reply */
        json_t *monitors;        /* active monitor id -> true */
        json_t *updates;         /* queued update2 params, oldest first */
};

/* Scans buf[f->pos..len) for the end of the message that starts at buf[0].
 * Returns its length (and resets 'f' for the next message), 0 when more
 * bytes are needed (f remembers how far it got), or -EPROTO. */
static ssize_t frame_scan(struct frame_scan *f, const char *buf, size_t len)
{
        for (; f->pos < len; f->pos++) {
                char ch = buf[f->pos];
                if (!f->started) {
                        if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n')
                                continue;
                        if (ch != '{' && ch != '[')
                                return -EPROTO;
                        f->started = true;
                }
                if (f->in_string) {
                        if (f->escape)
                                f->escape = false;
                        else if (ch == '\\')
                                f->escape = true;
                        else if (ch == '"')
                                f->in_string = false;
                } else if (ch == '"') {
                        f->in_string = true;
                } else if (ch == '{' || ch == '[') {
                        if (++f->depth > MAX_DEPTH)
                                return -EPROTO;
                } else if (ch == '}' || ch == ']') {
                        if (--f->depth == 0) {
                                size_t n = f->pos + 1;
                                *f = (struct frame_scan){0};
                                return (ssize_t)n;
                        }
                }
        }
        return 0;
}

ssize_t osn_jsonrpc_frame(const char *buf, size_t len)
{
        struct frame_scan f = {0};
        return frame_scan(&f, buf, len);
}

/* Marks the connection broken with 'r' and remembers why. */
_printf_(3, 4) static int conn_fail(struct osn_ovsdb *c, int r, const char *fmt, ...)
{
        if (c->error)
                return c->error;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->error_detail, sizeof(c->error_detail), fmt, ap);
        va_end(ap);
        c->error = r;
        log_debug("%s: %s", osn_stream_name(c->stream), c->error_detail);
        return r;
}

/* Makes room for 'need' more bytes after *len in a buffer. */
static int buf_reserve(char **buf, size_t *cap, size_t len, size_t need)
{
        if (*cap - len >= need)
                return 0;
        size_t ncap = *cap ? *cap : READ_CHUNK;
        while (ncap - len < need)
                ncap *= 2;
        char *p = realloc(*buf, ncap);
        if (!p)
                return -ENOMEM;
        *buf = p;
        *cap = ncap;
        return 0;
}

/* json_dump_callback() sink that appends to the output buffer. */
static int append_output(const char *data, size_t size, void *c_)
{
        struct osn_ovsdb *c = c_;
        if (c->olen - c->ooff + size > MAX_MSG_SIZE)
                return -1;
        if (buf_reserve(&c->obuf, &c->ocap, c->olen, size) < 0)
                return -1;
        memcpy(c->obuf + c->olen, data, size);
        c->olen += size;
        return 0;
}

/* Writes what the socket takes of the output buffer. */
static int flush_output(struct osn_ovsdb *c)
{
        while (c->ooff < c->olen) {
                ssize_t n = osn_stream_send(c->stream, c->obuf + c->ooff, c->olen - c->ooff);
                if (n == -EAGAIN)
                        return 0;
                if (n < 0)
                        return conn_fail(c, (int)n, "send failed: %s", strerror((int)-n));
                c->ooff += n;
        }
        c->ooff = c->olen = 0;
        return 0;
}

/* Queues 'msg' (stolen) for sending and starts sending it. */
static int send_msg(struct osn_ovsdb *c, json_t *msg)
{
        if (!msg)
                return -ENOMEM;
        size_t olen = c->olen;
        int r = json_dump_callback(msg, append_output, c, JSON_COMPACT);
        json_decref(msg);
        if (r < 0) {
                c->olen = olen; /* drop a partial message */
                return conn_fail(c, -ENOBUFS, "output buffer full (the server does not read)");
        }
        return flush_output(c);
}

/* Answers a request from the server: "echo" returns its params, anything
 * else an "unknown method" error (JSON-RPC wants every request answered). */
static int answer_request(struct osn_ovsdb *c, const char *method, json_t *id, json_t *params)
{
        if (streq(method, "echo"))
                return send_msg(c, json_pack("{s:O, s:O, s:n}", "id", id, "result",
                                             params ? params : json_null(), "error"));
        log_debug("%s: answering unknown request \"%s\"", osn_stream_name(c->stream), method);
        return send_msg(
            c, json_pack("{s:O, s:n, s:s}", "id", id, "result", "error", "unknown method"));
}

/* Queues an update2 notification (params [monitor id, table-updates2]) when
 * it belongs to an active monitor. */
static int queue_update(struct osn_ovsdb *c, json_t *params)
{
        if (!json_is_array(params) || json_array_size(params) != 2 ||
            !json_is_object(json_array_get(params, 1)))
                return conn_fail(c, -EPROTO, "malformed update2 notification");
        const char *id = json_string_value(json_array_get(params, 0));
        if (!id || !json_object_get(c->monitors, id)) {
                log_debug("%s: dropping update2 of unknown monitor", osn_stream_name(c->stream));
                return 0;
        }
        return json_array_append(c->updates, params) < 0 ? -ENOMEM : 0;
}

/* Files one received message: answers requests, queues notifications,
 * stores replies that a caller awaits.  Borrows 'msg'. */
static int dispatch(struct osn_ovsdb *c, json_t *msg)
{
        if (!json_is_object(msg))
                return conn_fail(c, -EPROTO, "message is not a JSON object");
        json_t *method = json_object_get(msg, "method");
        json_t *id = json_object_get(msg, "id");
        json_t *params = json_object_get(msg, "params");
        if (method) {
                if (!json_is_string(method))
                        return conn_fail(c, -EPROTO, "\"method\" is not a string");
                const char *m = json_string_value(method);
                if (id && !json_is_null(id))
                        return answer_request(c, m, id, params);
                if (streq(m, "update2"))
                        return queue_update(c, params);
                log_debug("%s: ignoring notification \"%s\"", osn_stream_name(c->stream), m);
                return 0;
        }
        if (!id || (!json_object_get(msg, "result") && !json_object_get(msg, "error")))
                return conn_fail(c, -EPROTO, "message is neither a request nor a reply");
        if (json_is_integer(id)) {
                char key[24];
                snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT, json_integer_value(id));
                json_t *slot = json_object_get(c->replies, key);
                if (json_is_null(slot))
                        return json_object_set(c->replies, key, msg) < 0 ? -ENOMEM : 0;
        }
        log_debug("%s: dropping unexpected reply", osn_stream_name(c->stream));
        return 0;
}

/* Parses and dispatches every complete message in the input buffer. */
static int parse_input(struct osn_ovsdb *c)
{
        for (;;) {
                const char *start = c->ibuf + c->ioff;
                ssize_t n = frame_scan(&c->scan, start, c->ilen - c->ioff);
                if (n < 0)
                        return conn_fail(c, -EPROTO, "not a JSON-RPC message (or nested too deep)");
                if (n == 0)
                        break;
                json_error_t jerr;
                json_t *msg = json_loadb(start, n, 0, &jerr);
                c->ioff += n;
                if (!msg)
                        return conn_fail(c, -EPROTO, "invalid JSON: %s", jerr.text);
                int r = dispatch(c, msg);
                json_decref(msg);
                if (r < 0)
                        return r;
        }
        if (c->ilen - c->ioff > MAX_MSG_SIZE)
                return conn_fail(c, -EMSGSIZE, "message larger than %zu bytes", MAX_MSG_SIZE);
        /* Keep the unparsed tail at the start: the scanner's position is
         * relative to it, so it stays valid. */
        memmove(c->ibuf, c->ibuf + c->ioff, c->ilen - c->ioff);
        c->ilen -= c->ioff;
        c->ioff = 0;
        return 0;
}

int osn_ovsdb_run(struct osn_ovsdb *c)
{
        if (c->error)
                return c->error;
        int r = flush_output(c);
        if (r < 0)
                return r;
        for (int i = 0; i < MAX_READS_PER_RUN; i++) {
                if (buf_reserve(&c->ibuf, &c->icap, c->ilen, READ_CHUNK) < 0)
                        return -ENOMEM;
                ssize_t n = osn_stream_recv(c->stream, c->ibuf + c->ilen, c->icap - c->ilen);
                if (n == -EAGAIN)
                        break;
                if (n == -ECONNRESET)
                        return conn_fail(c, -ECONNRESET,
                                         c->ilen > 0 ? "connection closed in "
                                                       "the middle of a message"
                                                     : "connection closed");
                if (n < 0)
                        return conn_fail(c, (int)n, "receive failed: %s", strerror((int)-n));
                c->ilen += n;
                r = parse_input(c);
                if (r < 0)
                        return r;
        }
        /* Echo replies queued by parse_input() go out now. */
        return flush_output(c);
}

int osn_ovsdb_fd(const struct osn_ovsdb *c)
{
        return osn_stream_fd(c->stream);
}

bool osn_ovsdb_want_write(const struct osn_ovsdb *c)
{
        return c->olen > c->ooff;
}

const char *osn_ovsdb_remote(const struct osn_ovsdb *c)
{
        return osn_stream_name(c->stream);
}

/* Polls for what the connection needs, for at most the time left until
 * 'deadline'.  Returns 0 when the caller should run again, -ETIMEDOUT when
 * no time is left. */
static int wait_io(struct osn_ovsdb *c, int64_t deadline)
{
        int left = osn_ms_left(deadline);
        if (left == 0)
                return -ETIMEDOUT;
        struct pollfd p = {.fd = osn_ovsdb_fd(c),
                           .events = osn_stream_poll_events(c->stream, osn_ovsdb_want_write(c))};
        if (poll(&p, 1, left) < 0 && errno != EINTR)
                return -errno;
        return 0;
}

/* Fills 'err' for a failure 'r' of 'what' that is the connection's, not the
 * database's.  Returns r. */
static int conn_error(struct osn_ovsdb *c, const char *what, int r, struct osn_error *err)
{
        const char *remote = osn_ovsdb_remote(c);
        if (r == -ETIMEDOUT)
                return osn_error_set(err, r, OSN_CNI_TRY_AGAIN_LATER,
                                     "OVSDB %s: no answer to \"%s\" before the deadline", remote,
                                     what);
        if (r == -ENOMEM)
                return osn_error_set(err, r, OSN_CNI_INTERNAL, "out of memory");
        int code = r == -EPROTO || r == -EMSGSIZE ? OSN_CNI_OVSDB_ERROR : OSN_CNI_TRY_AGAIN_LATER;
        osn_error_set(err, r, code, "OVSDB %s: \"%s\" failed: %s", remote, what,
                      c->error ? c->error_detail : strerror(-r));
        return r;
}

/* Formats a JSON-RPC or OVSDB <error> (a string, or an object with "error"
 * and "details") into 'buf'. */
static const char *error_text(const json_t *e, char *buf, size_t len)
{
        const char *s = json_string_value(e);
        if (!s)
                s = json_string_value(json_object_get(e, "error"));
        const char *d = json_string_value(json_object_get(e, "details"));
        snprintf(buf, len, "%s%s%s", s ? s : "unknown error", d ? ": " : "", d ? d : "");
        return buf;
}

/* Sends request 'method' with 'params' (stolen) and waits for its reply.
 * Returns 0 and the "result" (new reference), -EPROTO when the server
 * answered with an error, or the connection's failure. */
static int rpc_start(struct osn_ovsdb *c, const char *method, json_t *params, int64_t *ret_id,
                     struct osn_error *err)
{
        if (c->error) {
                json_decref(params);
                return conn_error(c, method, c->error, err);
        }
        char key[24];
        int64_t id = c->next_id++;
        snprintf(key, sizeof(key), "%" PRId64, id);
        if (!params)
                return osn_error_set(err, -EINVAL, OSN_CNI_INTERNAL,
                                     "OVSDB %s: cannot build the \"%s\" request "
                                     "(a name that is not UTF-8?)",
                                     osn_ovsdb_remote(c), method);
        if (json_object_set_new(c->replies, key, json_null()) < 0) {
                json_decref(params);
                return conn_error(c, method, -ENOMEM, err);
        }
        json_t *msg = json_object();
        if (!msg || json_object_set_new(msg, "method", json_string(method)) < 0 ||
            json_object_set_new(msg, "id", json_integer(id)) < 0) {
                json_decref(params);
                json_decref(msg);
                json_object_del(c->replies, key);
                return conn_error(c, method, -ENOMEM, err);
        }
        int r = json_object_set_new(msg, "params", params) < 0 ? -ENOMEM : send_msg(c, msg);
        if (r < 0) {
                json_object_del(c->replies, key);
                return conn_error(c, method, r, err);
        }
        *ret_id = id;
        return 0;
}

/* Waits for the reply to request 'id' (sent by rpc_start()).  Returns 0 and
 * the "result" (new reference), -EPROTO when the server answered with an
 * error, or the connection's failure. */
static int rpc_finish(struct osn_ovsdb *c, const char *method, int64_t id, int64_t deadline,
                      json_t **ret_result, struct osn_error *err)
{
        char key[24];
        snprintf(key, sizeof(key), "%" PRId64, id);
        if (!json_object_get(c->replies, key))
                return osn_error_set(err, -EINVAL, OSN_CNI_INTERNAL,
                                     "OVSDB %s: no %s request %" PRId64 " is pending",
                                     osn_ovsdb_remote(c), method, id);
        int r = 0;
        _cleanup_json_ json_t *reply = NULL;
        while (r >= 0) {
                int run_r = osn_ovsdb_run(c);
                /* A reply that arrived before the connection broke counts. */
                json_t *slot = json_object_get(c->replies, key);
                if (slot && !json_is_null(slot)) {
                        reply = json_incref(slot);
                        break;
                }
                r = run_r < 0 ? run_r : wait_io(c, deadline);
        }
        json_object_del(c->replies, key);
        if (!reply)
                return conn_error(c, method, r, err);

        json_t *error = json_object_get(reply, "error");
        if (error && !json_is_null(error)) {
                char buf[sizeof(err->msg)];
                return osn_error_set(err, -EPROTO, OSN_CNI_OVSDB_ERROR,
                                     "OVSDB %s: \"%s\" failed: %s", osn_ovsdb_remote(c), method,
                                     error_text(error, buf, sizeof(buf)));
        }
        json_t *result = json_object_get(reply, "result");
        *ret_result = json_incref(result ? result : json_null());
        return 0;
}

/* One request, one reply: rpc_start() then rpc_finish(). */
static int rpc(struct osn_ovsdb *c, const char *method, json_t *params, int64_t deadline,
               json_t **ret_result, struct osn_error *err)
{
        int64_t id;
        int r = rpc_start(c, method, params, &id, err);
        return r < 0 ? r : rpc_finish(c, method, id, deadline, ret_result, err);
}

/* Finds the first operation error in a transact 'result' (RFC 7047 4.1.3:
 * an element with "error" for the failed operation, followed by nulls, or
 * one element more than 'ops' when the commit itself failed) and maps it. */
static int check_transact(struct osn_ovsdb *c, const char *db, const json_t *ops,
                          const json_t *result, struct osn_error *err)
{
        size_t nops = json_array_size(ops);
        if (!json_is_array(result))
                return osn_error_set(err, -EPROTO, OSN_CNI_OVSDB_ERROR,
                                     "OVSDB %s: transact on %s: the result is not an array",
                                     osn_ovsdb_remote(c), db);
        size_t i;
        const json_t *el;
        json_array_foreach(result, i, el)
        {
                const json_t *e = json_object_get(el, "error");
                if (!e || json_is_null(e))
                        continue;
                const char *what = json_string_value(e);
                const char *op = "commit";
                if (i < nops) {
                        op = json_string_value(json_object_get(json_array_get(ops, i), "op"));
                        op = op ? op : "?";
                }
                int r = streq(what, "timed out")              ? -EAGAIN
                        : streq(what, "constraint violation") ? -EEXIST
                                                              : -EPROTO;
                osn_error_set(err, r, OSN_CNI_OVSDB_ERROR,
                              "OVSDB %s: transaction on %s failed: operation %zu (%s): %s",
                              osn_ovsdb_remote(c), db, i, op, what ? what : "unknown error");
                if (err)
                        err->failed_op = i < nops ? (int)i : -1;
                const char *details = json_string_value(json_object_get(el, "details"));
                if (details)
                        osn_error_details(err, "%s", details);
                return r;
        }
        if (json_array_size(result) < nops)
                return osn_error_set(err, -EPROTO, OSN_CNI_OVSDB_ERROR,
                                     "OVSDB %s: transaction on %s: %zu results for %zu operations",
                                     osn_ovsdb_remote(c), db, json_array_size(result), nops);
        return 0;
}

int osn_ovsdb_transact_start(struct osn_ovsdb *c, const char *db, const json_t *ops,
                             int64_t *ret_id, struct osn_error *err)
{
        if (!json_is_array(ops))
                return osn_error_set(err, -EINVAL, OSN_CNI_INTERNAL,
                                     "OVSDB transact: the operations are not a JSON array");
        json_t *params = json_pack("[s]", db);
        if (params && json_array_extend(params, (json_t *)ops) < 0)
                params = (json_decref(params), NULL);
        return rpc_start(c, "transact", params, ret_id, err);
}

int osn_ovsdb_transact_finish(struct osn_ovsdb *c, const char *db, const json_t *ops, int64_t id,
                              int64_t deadline, json_t **ret_result, struct osn_error *err)
{
        _cleanup_json_ json_t *result = NULL;
        int r = rpc_finish(c, "transact", id, deadline, &result, err);
        if (r < 0)
                return r;
        r = check_transact(c, db, ops, result, err);
        if (r < 0)
                return r;
        *ret_result = TAKE_PTR(result);
        return 0;
}

int osn_ovsdb_transact(struct osn_ovsdb *c, const char *db, json_t *ops, int64_t deadline,
                       json_t **ret_result, struct osn_error *err)
{
        _cleanup_json_ json_t *owned_ops = ops; /* stolen, even on failure */
        int64_t id;
        int r = osn_ovsdb_transact_start(c, db, owned_ops, &id, err);
        return r < 0 ? r
                     : osn_ovsdb_transact_finish(c, db, owned_ops, id, deadline, ret_result, err);
}

/* Drops the queued notifications of 'monitor_id'. */
static void drop_updates(struct osn_ovsdb *c, const char *monitor_id)
{
        for (size_t i = json_array_size(c->updates); i-- > 0;)
                if (streq(json_string_value(json_array_get(json_array_get(c->updates, i), 0)),
                          monitor_id))
                        json_array_remove(c->updates, i);
}

int osn_ovsdb_monitor_cond_start(struct osn_ovsdb *c, const char *db, const char *monitor_id,
                                 const char *table, json_t *where, const char *const *columns,
                                 int64_t *ret_id, struct osn_error *err)
{
        json_t *req = json_object();
        if (req && where && json_object_set_new(req, "where", where) < 0)
                req = (json_decref(req), NULL);
        else if (!req)
                json_decref(where);
        if (req && columns) {
                json_t *cols = json_array();
                for (size_t i = 0; columns[i]; i++)
                        json_array_append_new(cols, json_string(columns[i]));
                if (json_object_set_new(req, "columns", cols) < 0)
                        req = (json_decref(req), NULL);
        }
        json_t *params = req ? json_pack("[s, s, {s:[o]}]", db, monitor_id, table, req) : NULL;
        if (json_object_get(c->monitors, monitor_id)) {
                json_decref(params);
                return osn_error_set(err, -EEXIST, OSN_CNI_INTERNAL,
                                     "OVSDB %s: monitor \"%s\" already exists", osn_ovsdb_remote(c),
                                     monitor_id);
        }
        if (json_object_set_new(c->monitors, monitor_id, json_true()) < 0) {
                json_decref(params);
                return conn_error(c, "monitor_cond", -ENOMEM, err);
        }
        /* Registered before the request goes out: updates that arrive
         * before the caller finishes are queued, not dropped. */
        int r = rpc_start(c, "monitor_cond", params, ret_id, err);
        if (r < 0) {
                json_object_del(c->monitors, monitor_id);
                return r;
        }
        return 0;
}

int osn_ovsdb_monitor_cond_finish(struct osn_ovsdb *c, const char *monitor_id, int64_t id,
                                  int64_t deadline, json_t **ret_initial, struct osn_error *err)
{
        _cleanup_json_ json_t *result = NULL;
        int r = rpc_finish(c, "monitor_cond", id, deadline, &result, err);
        if (r >= 0 && !json_is_object(result))
                r = osn_error_set(err, -EPROTO, OSN_CNI_OVSDB_ERROR,
                                  "OVSDB %s: monitor_cond: the result is not an object",
                                  osn_ovsdb_remote(c));
        if (r < 0) {
                json_object_del(c->monitors, monitor_id);
                drop_updates(c, monitor_id);
                return r;
        }
        *ret_initial = TAKE_PTR(result);
        return 0;
}

int osn_ovsdb_monitor_cond(struct osn_ovsdb *c, const char *db, const char *monitor_id,
                           const char *table, json_t *where, const char *const *columns,
                           int64_t deadline, json_t **ret_initial, struct osn_error *err)
{
        int64_t id;
        int r = osn_ovsdb_monitor_cond_start(c, db, monitor_id, table, where, columns, &id, err);
        return r < 0 ? r
                     : osn_ovsdb_monitor_cond_finish(c, monitor_id, id, deadline, ret_initial, err);
}

/* Moves the oldest queued update of 'monitor_id' to *ret.  True if found. */
static bool take_update(struct osn_ovsdb *c, const char *monitor_id, json_t **ret)
{
        size_t i;
        json_t *params;
        json_array_foreach(c->updates, i, params)
        {
                if (streq(json_string_value(json_array_get(params, 0)), monitor_id)) {
                        *ret = json_incref(json_array_get(params, 1));
                        json_array_remove(c->updates, i);
                        return true;
                }
        }
        return false;
}

int osn_ovsdb_wait_update(struct osn_ovsdb *c, const char *monitor_id, int64_t deadline,
                          json_t **ret_update, struct osn_error *err)
{
        if (!json_object_get(c->monitors, monitor_id))
                return osn_error_set(err, -ENOENT, OSN_CNI_INTERNAL, "OVSDB %s: no monitor \"%s\"",
                                     osn_ovsdb_remote(c), monitor_id);
        for (;;) {
                if (take_update(c, monitor_id, ret_update))
                        return 0;
                int r = osn_ovsdb_run(c);
                if (take_update(c, monitor_id, ret_update))
                        return 0;
                if (r >= 0)
                        r = wait_io(c, deadline);
                if (r < 0)
                        return conn_error(c, "wait for update2", r, err);
        }
}

int osn_ovsdb_monitor_cancel(struct osn_ovsdb *c, const char *monitor_id, int64_t deadline)
{
        _cleanup_json_ json_t *result = NULL;
        int r = rpc(c, "monitor_cancel", json_pack("[s]", monitor_id), deadline, &result, NULL);
        /* Whatever the server said, the caller is done with this monitor. */
        json_object_del(c->monitors, monitor_id);
        drop_updates(c, monitor_id);
        return r;
}

int osn_ovsdb_echo(struct osn_ovsdb *c, int64_t deadline, struct osn_error *err)
{
        _cleanup_json_ json_t *result = NULL;
        return rpc(c, "echo", json_pack("[s]", "osn"), deadline, &result, err);
}

int osn_ovsdb_list_dbs(struct osn_ovsdb *c, int64_t deadline, json_t **ret, struct osn_error *err)
{
        _cleanup_json_ json_t *result = NULL;
        int r = rpc(c, "list_dbs", json_array(), deadline, &result, err);
        if (r < 0)
                return r;
        if (!json_is_array(result))
                return osn_error_set(err, -EPROTO, OSN_CNI_OVSDB_ERROR,
                                     "OVSDB %s: list_dbs: the result is not an array",
                                     osn_ovsdb_remote(c));
        *ret = TAKE_PTR(result);
        return 0;
}

/* Wraps an open stream (taken, even on failure) in a connection. */
static int conn_new(struct osn_stream *s, struct osn_ovsdb **ret)
{
        struct osn_ovsdb *c = calloc(1, sizeof(*c));
        if (!c) {
                osn_stream_close(s);
                return -ENOMEM;
        }
        c->stream = s;
        c->next_id = 1;
        c->replies = json_object();
        c->monitors = json_object();
        c->updates = json_array();
        if (!c->replies || !c->monitors || !c->updates) {
                osn_ovsdb_close(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

int osn_ovsdb_from_fd(int fd, const char *name, struct osn_ovsdb **ret)
{
        struct osn_stream *s;
        int r = osn_stream_from_fd(fd, name, &s);
        if (r < 0)
                return r;
        return conn_new(s, ret);
}

/* How long osn_ovsdb_close() spends ending the session cleanly. */
#define GOODBYE_MS 50

/* Ends the session cleanly.  A client that closes with bytes unread makes
 * the kernel reset the connection, and ovsdb-server logs a warning for each
 * reset: one per plugin run in a busy cluster.  So cancel the monitors
 * (their updates are what would arrive unread; the replies need no wait),
 * half-close, and read to the server's end of file, within GOODBYE_MS.
 * TLS sessions are left to the stream's own shutdown. */
static void goodbye(struct osn_ovsdb *c)
{
        if (c->error || startswith(osn_ovsdb_remote(c), "ssl:"))
                return;
        const char *id;
        json_t *v;
        json_object_foreach(c->monitors, id, v)
        {
                if (send_msg(c, json_pack("{s:s, s:[s], s:I}", "method", "monitor_cancel", "params",
                                          id, "id", (json_int_t)c->next_id++)) < 0)
                        return;
        }
        int64_t deadline = osn_now_ms() + GOODBYE_MS;
        while (osn_ovsdb_want_write(c))
                if (wait_io(c, deadline) < 0 || flush_output(c) < 0)
                        return;
        if (shutdown(osn_ovsdb_fd(c), SHUT_WR) < 0)
                return;
        /* Replies to the cancels are dropped: nobody awaits their ids. */
        while (osn_ovsdb_run(c) == 0 && wait_io(c, deadline) == 0)
                ;
}

void osn_ovsdb_close(struct osn_ovsdb *c)
{
        if (!c)
                return;
        goodbye(c);
        osn_stream_close(c->stream);
        free(c->ibuf);
        free(c->obuf);
        json_decref(c->replies);
        json_decref(c->monitors);
        json_decref(c->updates);
        free(c);
}

int osn_ovsdb_connect(const char *remotes, const struct osn_ssl_opts *ssl, int64_t deadline,
                      struct osn_ovsdb **ret, struct osn_error *err)
{
        _cleanup_free_ char *copy = strdup(remotes);
        if (!copy)
                return -ENOMEM;
        size_t n = 0;
        for (const char *p = remotes; *p; p++)
                n += *p == ',';
        n++;

        char reasons[sizeof(err->msg)] = "";
        size_t rlen = 0, i = 0;
        int r = -EINVAL;
        char *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save), i++) {
                tok += strspn(tok, " \t");
                tok[strcspn(tok, " \t")] = '\0';
                if (!*tok)
                        continue;
                /* Share the time left among the remotes not yet tried, so
                 * that one black hole does not eat the whole deadline. */
                int64_t now = osn_now_ms();
                int64_t left = deadline > now ? deadline - now : 0;
                int64_t attempt_deadline = now + left / (int64_t)(n > i ? n - i : 1);
                struct osn_error e = {0};
                struct osn_stream *s;
                r = osn_stream_open(tok, ssl, attempt_deadline, &s, &e);
                if (r >= 0)
                        return conn_new(s, ret);
                if (!osn_error_isset(&e))
                        snprintf(e.msg, sizeof(e.msg), "%s: %s", tok, strerror(-r));
                log_debug("%s", e.msg);
                int w = snprintf(reasons + rlen, sizeof(reasons) - rlen, "%s%s", rlen ? "; " : "",
                                 e.msg);
                if (w > 0)
                        rlen = rlen + w < sizeof(reasons) ? rlen + w : sizeof(reasons) - 1;
        }
        if (!rlen)
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "no OVSDB remote given (\"%s\")", remotes);
        return osn_error_set(err, r, OSN_CNI_TRY_AGAIN_LATER, "cannot connect to OVSDB: %s",
                             reasons);
}

/* --- Helpers --- */

/* Appends 'v' (stolen) to 'a'; returns 'a', or NULL (freeing both) when
 * either is NULL or the append fails. */
static json_t *append(json_t *a, json_t *v)
{
        if (!a || !v || json_array_append_new(a, v) < 0) {
                if (a)
                        json_decref(a);
                else
                        json_decref(v);
                return NULL;
        }
        return a;
}

json_t *osn_ovsdb_cond(const char *column, const char *function, json_t *value)
{
        return append(json_pack("[s, s]", column, function), value);
}

json_t *osn_ovsdb_uuid(const char *uuid)
{
        return json_pack("[s, s]", "uuid", uuid);
}

json_t *osn_ovsdb_named_uuid(const char *name)
{
        return json_pack("[s, s]", "named-uuid", name);
}

json_t *osn_ovsdb_map(const char *const *kv)
{
        json_t *pairs = json_array();
        for (size_t i = 0; pairs && kv[i] && kv[i + 1]; i += 2)
                pairs = append(pairs, json_pack("[s, s]", kv[i], kv[i + 1]));
        return append(json_pack("[s]", "map"), pairs);
}

json_t *osn_ovsdb_set(json_t *array)
{
        if (array && !json_is_array(array))
                array = append(json_array(), array);
        return append(json_pack("[s]", "set"), array);
}

json_t *osn_ovsdb_op_select(const char *table, json_t *where, const char *const *columns)
{
        json_t *cols = json_array();
        for (size_t i = 0; columns && columns[i]; i++)
                json_array_append_new(cols, json_string(columns[i]));
        return json_pack("{s:s, s:s, s:o, s:o}", "op", "select", "table", table, "where", where,
                         "columns", cols);
}

json_t *osn_ovsdb_result_rows(const json_t *result, size_t i)
{
        return json_object_get(json_array_get(result, i), "rows");
}

const char *osn_ovsdb_row_uuid(const json_t *row)
{
        return json_string_value(json_array_get(json_object_get(row, "_uuid"), 1));
}

const char *osn_ovsdb_map_get(const json_t *map, const char *key)
{
        if (!streq(json_string_value(json_array_get(map, 0)), "map"))
                return NULL;
        size_t i;
        const json_t *pair;
        json_array_foreach(json_array_get(map, 1), i,
                           pair) if (streq(json_string_value(json_array_get(pair, 0)),
                                           key)) return json_string_value(json_array_get(pair, 1));
        return NULL;
}

/* The element array of a ["set", [...]] value, or NULL for an atom. */
static const json_t *set_elements(const json_t *set)
{
        if (json_array_size(set) == 2 && streq(json_string_value(json_array_get(set, 0)), "set") &&
            json_is_array(json_array_get(set, 1)))
                return json_array_get(set, 1);
        return NULL;
}

size_t osn_ovsdb_set_size(const json_t *set)
{
        const json_t *elems = set_elements(set);
        return elems ? json_array_size(elems) : set ? 1 : 0;
}

const json_t *osn_ovsdb_set_at(const json_t *set, size_t i)
{
        const json_t *elems = set_elements(set);
        if (elems)
                return json_array_get(elems, i);
        return i == 0 ? set : NULL;
}
