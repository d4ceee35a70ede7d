/* ovsdb: see ovsdb.h.
 *
 * Design.  A connection is a list of remotes (shuffled once), the session
 * to the member in use ('rpc', jsonrpc.h), at most one earlier session kept
 * only to hear the answers to writes it already forwarded ('drain'), and
 * the requests in flight ('reqs').  Every request remembers its method and
 * params, so that it can be sent again on another member, and which session
 * carries it (NULL: not sent, waiting for a member).
 *
 * Checking a member.  The first request that names a database other than
 * _Server is preceded, in the same write, by a select of that database's
 * row in _Server.Database.  ovsdb-server answers the requests of one session
 * in order and a _Server select at once, so the verdict arrives before any
 * other reply; until it has, no other reply is handed to a caller.  A
 * member is acceptable when its database is connected (in contact with the
 * cluster's majority, or a relay with its source), clustered databases also
 * need it to be the leader, to have joined (a schema) and an index not below
 * the highest index seen (min_index).  An unacceptable member is left for
 * the next one (move_on()).
 *
 * Moving on.  Replies not yet handed out on the old session are dropped and
 * their requests sent again on the next member, except writes on a member
 * that is a connected follower: that member forwards them to the leader and
 * answers once they are visible (ovsdb(7)), so their answers are waited for
 * on the old session (now 'drain').  Writes on a broken or silent member
 * are sent again after its session is closed (see ovsdb.h for why that is
 * safe for guarded transactions).  Monitors are registered again; their
 * initial contents are queued as an update.
 *
 * Silence.  A request without an answer for 'stall_ms' makes the client ask
 * the member again (the same _Server select): a live member answers at
 * once even while a write waits inside it; a member that lost the majority
 * answers "not connected"; a frozen or cut-off one does not answer for
 * another 'stall_ms' and is left.
 */
#include "ovsdb.h"

#include <ctype.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/random.h>

#include "jsonrpc.h"
#include "log.h"

#define DEFAULT_STALL_MS 1000
#define GOODBYE_MS       50  /* how long closing spends ending sessions cleanly */
#define BACKOFF_MS       100 /* between rounds over remotes none of which would do */
#define MAX_REMOTES      32

enum req_kind {
        REQ_READ,    /* changes nothing: may be sent again anywhere */
        REQ_WRITE,   /* a transaction with an op that changes the database */
        REQ_MONITOR, /* monitor_cond of a caller */
        REQ_RESUME,  /* internal: monitor_cond sent again on a new member */
};

struct req {
        int64_t id; /* the caller's id (REQ_RESUME: 0) */
        enum req_kind kind;
        char *method;
        json_t *params;
        char *monitor_id;       /* REQ_MONITOR, REQ_RESUME */
        struct osn_jsonrpc *on; /* session that carries it; NULL = not sent */
        int64_t wire_id;        /* its id on 'on' */
        int64_t sent_ms;        /* when sent, or when its member last answered a check */
        json_t *reply;          /* the whole reply message, once answered */
};

struct osn_ovsdb {
        struct osn_jsonrpc *rpc;   /* the member in use; NULL between members */
        struct osn_jsonrpc *drain; /* an earlier member answering forwarded writes */
        char *remotes[MAX_REMOTES];
        size_t n_remotes, cur; /* remotes[cur] is (or was last) in use */
        size_t failed_opens;   /* consecutive members that would not do */
        char *ssl_key, *ssl_cert, *ssl_ca;
        bool fixed;                        /* from_fd(): one session, no checks, no moving */
        char *db;                          /* the database members are checked for */
        bool check_wanted;                 /* a check is due before the next request */
        int64_t check_wire, check_sent_ms; /* the check in flight on 'rpc', or 0 */
        bool verified;                     /* 'rpc' passed its check */
        int64_t min_index;                 /* highest _Server index seen */
        int stall_ms;
        int moves;
        unsigned progress; /* bumped by every reply filed and update queued */
        struct req *reqs;
        size_t n_reqs, cap_reqs;
        int64_t next_id;
        json_t *monitors;       /* monitor id -> its monitor_cond params */
        json_t *updates;        /* queued [monitor id, table-updates2], oldest first */
        int error;              /* 'fixed' only: the sticky failure */
        char last_problem[256]; /* why the last member was left, for errors */
        char name[256];         /* remote in use or last used */
};

static void set_name(struct osn_ovsdb *c, const char *name)
{
        snprintf(c->name, sizeof(c->name), "%s", name);
}

_printf_(2, 3) static void note_problem(struct osn_ovsdb *c, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(c->last_problem, sizeof(c->last_problem), fmt, ap);
        va_end(ap);
        if (n >= (int)sizeof(c->last_problem))
                memcpy(c->last_problem + sizeof(c->last_problem) - 4, "...", 4);
}

const char *osn_ovsdb_remote(const struct osn_ovsdb *c)
{
        return c->name;
}

int64_t osn_ovsdb_min_index(const struct osn_ovsdb *c)
{
        return c->min_index;
}

int osn_ovsdb_moves(const struct osn_ovsdb *c)
{
        return c->moves;
}

void osn_ovsdb_set_stall_ms(struct osn_ovsdb *c, int ms)
{
        c->stall_ms = ms > 0 ? ms : DEFAULT_STALL_MS;
}

/* --- Requests --- */

static struct req *find_req(struct osn_ovsdb *c, int64_t id)
{
        for (size_t i = 0; i < c->n_reqs; i++)
                if (c->reqs[i].id == id && c->reqs[i].kind != REQ_RESUME)
                        return &c->reqs[i];
        return NULL;
}

static void req_unsend(struct req *q)
{
        if (q->on)
                osn_jsonrpc_forget(q->on, q->wire_id);
        q->on = NULL;
}

static void remove_req(struct osn_ovsdb *c, struct req *q)
{
        req_unsend(q);
        free(q->method);
        free(q->monitor_id);
        json_decref(q->params);
        json_decref(q->reply);
        size_t i = (size_t)(q - c->reqs);
        memmove(q, q + 1, (c->n_reqs - i - 1) * sizeof(*q));
        c->n_reqs--;
}

/* Sends 'q' on the member in use (when there is one that may carry it). */
static void send_req(struct osn_ovsdb *c, struct req *q)
{
        if (!c->rpc || q->on || q->reply)
                return;
        int64_t wire = 0;
        int r = osn_jsonrpc_start(c->rpc, q->method, json_incref(q->params), &wire);
        if (r < 0)
                return; /* the session broke: step() moves on and sends it again */
        q->on = c->rpc;
        q->wire_id = wire;
        q->sent_ms = osn_now_ms();
}

/* The "rows" of operation 'i' of a transact result (the client's own
 * _Server check; everything else reads results by handle, txn.h). */
static json_t *result_rows(const json_t *result, size_t i)
{
        return json_object_get(json_array_get(result, i), "rows");
}

/* Sends the _Server check on the member in use: the database's row, and
 * (a second select, so that the schema itself, tens of kB, is not sent)
 * whether its schema is still empty, as it is until a member has joined. */
static void send_check(struct osn_ovsdb *c)
{
        c->check_wanted = false;
        json_t *params = json_pack("[s, {s:s, s:s, s:[[s, s, s]], s:[s, s, s, s, s]},"
                                   " {s:s, s:s, s:[[s, s, s], [s, s, [s, []]]], s:[s]}]",
                                   "_Server", "op", "select", "table", "Database", "where", "name",
                                   "==", c->db, "columns", "name", "model", "connected", "leader",
                                   "index", "op", "select", "table", "Database", "where", "name",
                                   "==", c->db, "schema", "==", "set", "columns", "name");
        int64_t wire = 0;
        if (osn_jsonrpc_start(c->rpc, "transact", params, &wire) < 0)
                return;
        c->check_wire = wire;
        c->check_sent_ms = osn_now_ms();
}

/* A transaction changes the database unless all its ops only read. */
static enum req_kind transact_kind(const json_t *ops)
{
        size_t i;
        const json_t *op;
        json_array_foreach(ops, i, op)
        {
                const char *o = json_string_value(json_object_get(op, "op"));
                if (!streq(o, "select") && !streq(o, "wait") && !streq(o, "comment") &&
                    !streq(o, "assert"))
                        return REQ_WRITE;
        }
        return REQ_READ;
}

/* Adds a request (taking 'params', even on failure) and sends it when a
 * member is in use; the first one for a database starts the member's check
 * in the same write. */
static int add_req(struct osn_ovsdb *c, enum req_kind kind, const char *method, const char *db,
                   json_t *params, const char *monitor_id, int64_t *ret_id)
{
        if (!params)
                return -EINVAL;
        if (c->fixed && c->error) {
                json_decref(params);
                return c->error;
        }
        if (c->n_reqs == c->cap_reqs) {
                size_t ncap = c->cap_reqs ? 2 * c->cap_reqs : 8;
                struct req *n = realloc(c->reqs, ncap * sizeof(*n));
                if (!n) {
                        json_decref(params);
                        return -ENOMEM;
                }
                c->reqs = n;
                c->cap_reqs = ncap;
        }
        if (!c->fixed && db && !streq(db, "_Server") && !c->db) {
                c->db = strdup(db);
                if (!c->db) {
                        json_decref(params);
                        return -ENOMEM;
                }
                c->check_wanted = true;
        }
        struct req *q = &c->reqs[c->n_reqs];
        *q = (struct req){.id = kind == REQ_RESUME ? 0 : c->next_id++,
                          .kind = kind,
                          .method = strdup(method),
                          .params = params,
                          .monitor_id = monitor_id ? strdup(monitor_id) : NULL};
        if (!q->method || (monitor_id && !q->monitor_id)) {
                free(q->method);
                free(q->monitor_id);
                json_decref(params);
                return -ENOMEM;
        }
        c->n_reqs++;
        if (c->rpc && c->check_wanted)
                send_check(c);
        send_req(c, q);
        if (ret_id)
                *ret_id = q->id;
        return 0;
}

/* --- Members --- */

static void queue_update_params(struct osn_ovsdb *c, json_t *params)
{
        if (json_array_append(c->updates, params) < 0)
                log_debug("%s: out of memory: update2 dropped", c->name);
        c->progress++;
}

/* Notifications of the member in use: update2 of an active monitor. */
static int on_notify(void *aux, const char *method, json_t *params)
{
        struct osn_ovsdb *c = aux;
        if (!streq(method, "update2")) {
                log_debug("%s: ignoring notification \"%s\"", c->name, method);
                return 0;
        }
        if (json_array_size(params) != 2 || !json_is_object(json_array_get(params, 1)))
                return -EPROTO;
        const char *id = json_string_value(json_array_get(params, 0));
        if (!id || !json_object_get(c->monitors, id)) {
                log_debug("%s: dropping an update2 nobody monitors", c->name);
                return 0;
        }
        queue_update_params(c, params);
        return 0;
}

/* Leaves the member in use ('why' says why, for the log and for errors).
 * 'may_drain': the member is a live follower of a connected cluster, so
 * writes it already received will be answered there. */
static void move_on(struct osn_ovsdb *c, bool may_drain, const char *why)
{
        struct osn_jsonrpc *old = c->rpc;
        if (!old)
                return;
        log_info("OVSDB %s: %s; trying another member", c->name, why);
        note_problem(c, "%s: %s", c->name, why);
        c->rpc = NULL;
        c->verified = false;
        c->check_wire = 0;
        c->check_wanted = c->db != NULL;
        c->moves++;
        c->failed_opens++;
        osn_jsonrpc_set_notify(old, NULL, NULL);
        bool keep = false;
        for (size_t i = 0; i < c->n_reqs; i++) {
                struct req *q = &c->reqs[i];
                if (q->on != old || q->reply)
                        continue;
                if (may_drain && q->kind == REQ_WRITE)
                        keep = true;
                else
                        req_unsend(q);
        }
        if (keep) {
                if (c->drain) {
                        for (size_t i = 0; i < c->n_reqs; i++)
                                if (c->reqs[i].on == c->drain && !c->reqs[i].reply)
                                        c->reqs[i].on = NULL;
                        osn_jsonrpc_close(c->drain);
                }
                c->drain = old;
        } else {
                /* Closed before anything is sent again: ovsdb-server drops
                 * the triggers of a closed session, so a write that waits
                 * inside this member cannot commit later from here. */
                osn_jsonrpc_close(old);
        }
        /* Monitors that were set up there are set up again. */
        const char *mid;
        json_t *mparams;
        json_object_foreach(c->monitors, mid, mparams)
        {
                bool pending = false;
                for (size_t i = 0; i < c->n_reqs; i++)
                        if ((c->reqs[i].kind == REQ_MONITOR || c->reqs[i].kind == REQ_RESUME) &&
                            streq(c->reqs[i].monitor_id, mid))
                                pending = true;
                if (!pending && add_req(c, REQ_RESUME, "monitor_cond", NULL, json_incref(mparams),
                                        mid, NULL) < 0)
                        log_debug("%s: cannot set monitor \"%s\" up again", c->name, mid);
        }
}

/* Appends "; what" to the NUL-terminated 'buf' (size 'len'); a cut is
 * marked with "...". */
static void add_reason(char *buf, size_t len, const char *what)
{
        size_t have = strlen(buf);
        int w = snprintf(buf + have, len - have, "%s%s", have ? "; " : "", what);
        if (w >= (int)(len - have) && len > 4)
                memcpy(buf + len - 4, "...", 4);
}

/* Opens the next member after 'cur' (or 'cur' itself when 'same_first'),
 * sends its check and every request not sent.  0, or the last failure;
 * each failure is added to 'reasons' (size 'len'; may be NULL). */
static int open_member(struct osn_ovsdb *c, bool same_first, int64_t deadline, char *reasons,
                       size_t len)
{
        int r = -ECONNREFUSED;
        for (size_t k = 0; k < c->n_remotes; k++) {
                size_t i = (c->cur + (same_first ? k : k + 1)) % c->n_remotes;
                /* Share the time left among the remotes not yet tried, so
                 * that one black hole does not eat the whole deadline. */
                int64_t now = osn_now_ms();
                int64_t left = deadline > now ? deadline - now : 0;
                int64_t attempt = now + left / (int64_t)(c->n_remotes - k);
                struct osn_ssl_opts ssl = {c->ssl_key, c->ssl_cert, c->ssl_ca};
                struct osn_error e = {0};
                r = osn_jsonrpc_open(c->remotes[i], &ssl, attempt, &c->rpc, &e);
                if (r < 0) {
                        if (!osn_error_isset(&e))
                                snprintf(e.msg, sizeof(e.msg), "%s: %s", c->remotes[i],
                                         strerror(-r));
                        log_debug("%s", e.msg);
                        note_problem(c, "%s", e.msg);
                        if (reasons)
                                add_reason(reasons, len, e.msg);
                        c->failed_opens++;
                        continue;
                }
                c->cur = i;
                set_name(c, c->remotes[i]);
                osn_jsonrpc_set_notify(c->rpc, on_notify, c);
                if (c->db)
                        send_check(c);
                for (size_t j = 0; j < c->n_reqs; j++)
                        send_req(c, &c->reqs[j]);
                return 0;
        }
        return r;
}

/* Reads the verdict of the check reply 'reply' on the member in use. */
static void judge_member(struct osn_ovsdb *c, const json_t *reply)
{
        c->progress++; /* a verdict, whatever it is, is news for step() */
        const json_t *error = json_object_get(reply, "error");
        if (error && !json_is_null(error)) {
                /* A server older than OVS 2.9 has no _Server: nothing to
                 * check, and nothing better to move to. */
                c->verified = true;
                return;
        }
        const json_t *result = json_object_get(reply, "result");
        const json_t *row = json_array_get(result_rows(result, 0), 0);
        if (!row) {
                /* Not this server's database at all: nothing to choose;
                 * the request itself gets the server's own error. */
                c->verified = true;
                return;
        }
        const char *model = json_string_value(json_object_get(row, "model"));
        bool connected = json_is_true(json_object_get(row, "connected"));
        bool leader = json_is_true(json_object_get(row, "leader"));
        const json_t *index = json_object_get(row, "index");
        bool joining = json_array_size(result_rows(result, 1)) > 0;
        bool clustered = streq(model, "clustered");
        char why[128];
        if (!connected) {
                move_on(c, false,
                        clustered ? "not connected to the cluster's majority"
                                  : "not connected to its storage or relay source");
                return;
        }
        if (clustered && joining) {
                move_on(c, false, "still joining the cluster");
                return;
        }
        if (clustered && !leader) {
                move_on(c, true, "not the cluster leader");
                return;
        }
        if (clustered && json_is_integer(index)) {
                int64_t idx = json_integer_value(index);
                if (idx < c->min_index) {
                        snprintf(why, sizeof(why),
                                 "stale: its index %" PRId64 " is older than %" PRId64
                                 " already seen",
                                 idx, c->min_index);
                        move_on(c, false, why);
                        return;
                }
                c->min_index = idx;
        }
        c->verified = true;
        c->failed_opens = 0;
        /* Everything in flight was just answered for by a live member. */
        int64_t now = osn_now_ms();
        for (size_t i = 0; i < c->n_reqs; i++)
                if (c->reqs[i].on == c->rpc)
                        c->reqs[i].sent_ms = now;
}

/* Takes the replies that arrived on 's' into their requests. */
static void collect(struct osn_ovsdb *c, struct osn_jsonrpc *s)
{
        for (size_t i = 0; i < c->n_reqs;) {
                struct req *q = &c->reqs[i];
                json_t *reply = q->on == s && !q->reply ? osn_jsonrpc_reply(s, q->wire_id) : NULL;
                if (!reply) {
                        i++;
                        continue;
                }
                q->reply = json_incref(reply);
                req_unsend(q);
                c->progress++;
                if (q->kind != REQ_RESUME) {
                        i++;
                        continue;
                }
                /* A monitor set up again: its contents now, as an update. */
                const json_t *result = json_object_get(reply, "result");
                if (json_is_object(result) && json_object_get(c->monitors, q->monitor_id)) {
                        json_t *params = json_pack("[s, O]", q->monitor_id, result);
                        if (params)
                                queue_update_params(c, params);
                        json_decref(params);
                }
                remove_req(c, q);
        }
}

/* Whether a request on 's' is unanswered. */
static bool busy(const struct osn_ovsdb *c, const struct osn_jsonrpc *s)
{
        for (size_t i = 0; i < c->n_reqs; i++)
                if (c->reqs[i].on == s && !c->reqs[i].reply)
                        return true;
        return false;
}

/* Runs the session of the member being left ('drain'); once it has
 * nothing unanswered (or broke), closes it and sends what it still owed
 * again.  True when it did. */
static bool run_drain(struct osn_ovsdb *c)
{
        int r = osn_jsonrpc_run(c->drain);
        collect(c, c->drain);
        if (r >= 0 && busy(c, c->drain))
                return false;
        for (size_t i = 0; i < c->n_reqs; i++)
                if (c->reqs[i].on == c->drain && !c->reqs[i].reply)
                        c->reqs[i].on = NULL; /* sent again below */
        if (r < 0)
                osn_jsonrpc_close(c->drain);
        else
                osn_jsonrpc_close_gracefully(c->drain, GOODBYE_MS);
        c->drain = NULL;
        for (size_t i = 0; i < c->n_reqs; i++)
                send_req(c, &c->reqs[i]);
        return true;
}

/* Silence from the member in use: a check unanswered for the stall bound
 * leaves it, a request unanswered for the stall bound makes us check it.
 * True when it acted; else *until is when to look again (0 = never). */
static bool watch_silence(struct osn_ovsdb *c, int64_t now, int64_t *until)
{
        if (c->check_wire) {
                if (now - c->check_sent_ms >= c->stall_ms) {
                        char why[96];
                        snprintf(why, sizeof(why), "no answer for %d ms", c->stall_ms);
                        move_on(c, false, why);
                        return true;
                }
                *until = c->check_sent_ms + c->stall_ms;
                return false;
        }
        for (size_t i = 0; i < c->n_reqs; i++) {
                const struct req *q = &c->reqs[i];
                if (q->on != c->rpc || q->reply)
                        continue;
                if (now - q->sent_ms >= c->stall_ms) {
                        send_check(c); /* still there? */
                        return true;
                }
                if (!*until || q->sent_ms + c->stall_ms < *until)
                        *until = q->sent_ms + c->stall_ms;
        }
        return false;
}

/* One turn of the machine: (re)opens a member when none is in use, runs the
 * sessions, judges checks, files replies, notices silence, then polls until
 * something may have changed.  0 to go on, -ETIMEDOUT at the deadline, or
 * ('fixed' connections) the session's failure. */
static int step(struct osn_ovsdb *c, int64_t deadline)
{
        unsigned progress = c->progress;
        int64_t now = osn_now_ms();
        if (!c->rpc && !c->fixed) {
                if (now >= deadline)
                        return -ETIMEDOUT;
                /* A whole round of members that would not do: pause. */
                if (c->failed_opens >= c->n_remotes) {
                        int64_t until = now + BACKOFF_MS < deadline ? now + BACKOFF_MS : deadline;
                        while (osn_now_ms() < until)
                                poll(NULL, 0, osn_ms_left(until));
                        c->failed_opens = 0;
                }
                int r = open_member(c, false, deadline, NULL, 0);
                if (r == -ENOMEM)
                        return r;
                return 0;
        }
        if (c->rpc) {
                int r = osn_jsonrpc_run(c->rpc);
                if (c->check_wire) {
                        json_t *reply = osn_jsonrpc_reply(c->rpc, c->check_wire);
                        if (reply) {
                                json_incref(reply);
                                osn_jsonrpc_forget(c->rpc, c->check_wire);
                                c->check_wire = 0;
                                judge_member(c, reply);
                                json_decref(reply);
                        }
                }
                if (c->rpc && (c->verified || c->fixed || !c->db))
                        collect(c, c->rpc);
                if (c->rpc && r < 0) {
                        if (c->fixed) {
                                c->error = r;
                                return r;
                        }
                        char why[300];
                        snprintf(why, sizeof(why), "%s", osn_jsonrpc_error_detail(c->rpc));
                        move_on(c, false, why);
                        return 0;
                }
        }
        if (c->drain && run_drain(c))
                return 0;
        if (c->progress != progress || (!c->rpc && !c->fixed))
                return 0; /* something to look at, or a member to find */
        int64_t until = 0;
        now = osn_now_ms();
        if (c->rpc && !c->fixed && c->db && watch_silence(c, now, &until))
                return 0;
        struct pollfd p[2];
        nfds_t n = 0;
        if (c->rpc)
                p[n++] =
                    (struct pollfd){osn_jsonrpc_fd(c->rpc), osn_jsonrpc_poll_events(c->rpc), 0};
        if (c->drain)
                p[n++] =
                    (struct pollfd){osn_jsonrpc_fd(c->drain), osn_jsonrpc_poll_events(c->drain), 0};
        if (now >= deadline)
                return -ETIMEDOUT;
        int64_t end = until && until < deadline ? until : deadline;
        if (poll(p, n, osn_ms_left(end)) < 0 && errno != EINTR)
                return -errno;
        return 0;
}

/* Fills 'err' for a failure 'r' of 'what' that is the connection's, not the
 * database's.  Returns r. */
static int conn_error(struct osn_ovsdb *c, const char *what, int r, struct osn_error *err)
{
        if (r == -ENOMEM)
                return osn_error_set(err, r, OSN_CNI_TRY_AGAIN_LATER, "out of memory");
        if (r == -ETIMEDOUT)
                return osn_error_set(err, r, OSN_CNI_TRY_AGAIN_LATER,
                                     "OVSDB %s: no answer to \"%s\" before the deadline%s%s",
                                     c->name, what, c->last_problem[0] ? " (last problem: " : "",
                                     c->last_problem[0] ? c->last_problem : "");
        int code = r == -EPROTO || r == -EMSGSIZE ? OSN_CNI_OVSDB_ERROR : OSN_CNI_TRY_AGAIN_LATER;
        const char *detail =
            c->rpc && osn_jsonrpc_error(c->rpc) ? osn_jsonrpc_error_detail(c->rpc) : strerror(-r);
        return osn_error_set(err, r, code, "OVSDB %s: \"%s\" failed: %s", c->name, what, detail);
}

/* Waits for the reply to the caller's request 'id' and hands out its
 * "result" (new reference), or -EPROTO for an error reply, or the
 * connection's failure.  The request is done with either way. */
static int finish_req(struct osn_ovsdb *c, const char *method, int64_t id, int64_t deadline,
                      json_t **ret_result, struct osn_error *err)
{
        struct req *q = find_req(c, id);
        if (!q)
                return osn_error_set(err, -EINVAL, OSN_CNI_OVSDB_ERROR,
                                     "OVSDB %s: no %s request %" PRId64 " is pending", c->name,
                                     method, id);
        int r = 0;
        while (!q->reply) {
                r = step(c, deadline);
                q = find_req(c, id);
                if (r < 0 || !q)
                        break;
        }
        if (!q || !q->reply) {
                if (q)
                        remove_req(c, q);
                if (c->fixed && c->error)
                        r = c->error;
                return conn_error(c, method, r < 0 ? r : -ECONNRESET, err);
        }
        _cleanup_json_ json_t *reply = TAKE_PTR(q->reply);
        remove_req(c, q);
        json_t *error = json_object_get(reply, "error");
        if (error && !json_is_null(error)) {
                char buf[sizeof(err->msg)];
                return osn_error_set(err, -EPROTO, OSN_CNI_OVSDB_ERROR,
                                     "OVSDB %s: \"%s\" failed: %s", c->name, method,
                                     osn_jsonrpc_error_text(error, buf, sizeof(buf)));
        }
        json_t *result = json_object_get(reply, "result");
        *ret_result = json_incref(result ? result : json_null());
        return 0;
}

static int start_req(struct osn_ovsdb *c, enum req_kind kind, const char *method, const char *db,
                     json_t *params, const char *monitor_id, int64_t *ret_id, struct osn_error *err)
{
        int r = add_req(c, kind, method, db, params, monitor_id, ret_id);
        if (r == -EINVAL)
                return osn_error_set(err, r, OSN_CNI_OVSDB_ERROR,
                                     "OVSDB %s: cannot build the \"%s\" request "
                                     "(a name that is not UTF-8?)",
                                     c->name, method);
        return r < 0 ? conn_error(c, method, r, err) : 0;
}

static int rpc(struct osn_ovsdb *c, const char *method, const char *db, json_t *params,
               int64_t deadline, json_t **ret_result, struct osn_error *err)
{
        int64_t id = 0;
        int r = start_req(c, REQ_READ, method, db, params, NULL, &id, err);
        return r < 0 ? r : finish_req(c, method, id, deadline, ret_result, err);
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
                return osn_error_set(err, -EINVAL, OSN_CNI_OVSDB_ERROR,
                                     "OVSDB transact: the operations are not a JSON array");
        json_t *params = json_pack("[s]", db);
        if (params && json_array_extend(params, (json_t *)ops) < 0)
                params = (json_decref(params), NULL);
        return start_req(c, transact_kind(ops), "transact", db, params, NULL, ret_id, err);
}

int osn_ovsdb_transact_finish(struct osn_ovsdb *c, const char *db, const json_t *ops, int64_t id,
                              int64_t deadline, json_t **ret_result, struct osn_error *err)
{
        _cleanup_json_ json_t *result = NULL;
        int r = finish_req(c, "transact", id, deadline, &result, err);
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
        int64_t id = 0;
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

/* Forgets monitor 'monitor_id': its registration, queued updates and any
 * setting up again in flight. */
static void forget_monitor(struct osn_ovsdb *c, const char *monitor_id)
{
        json_object_del(c->monitors, monitor_id);
        drop_updates(c, monitor_id);
        for (size_t i = c->n_reqs; i-- > 0;)
                if (c->reqs[i].kind == REQ_RESUME && streq(c->reqs[i].monitor_id, monitor_id))
                        remove_req(c, &c->reqs[i]);
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
                return osn_error_set(err, -EEXIST, OSN_CNI_OVSDB_ERROR,
                                     "OVSDB %s: monitor \"%s\" already exists", c->name,
                                     monitor_id);
        }
        if (!params)
                return start_req(c, REQ_MONITOR, "monitor_cond", db, NULL, monitor_id, ret_id, err);
        if (json_object_set(c->monitors, monitor_id, params) < 0) {
                json_decref(params);
                return conn_error(c, "monitor_cond", -ENOMEM, err);
        }
        /* Registered before the request goes out: updates that arrive
         * before the caller finishes are queued, not dropped. */
        int r = start_req(c, REQ_MONITOR, "monitor_cond", db, params, monitor_id, ret_id, err);
        if (r < 0)
                json_object_del(c->monitors, monitor_id);
        return r;
}

int osn_ovsdb_monitor_cond_finish(struct osn_ovsdb *c, const char *monitor_id, int64_t id,
                                  int64_t deadline, json_t **ret_initial, struct osn_error *err)
{
        _cleanup_json_ json_t *result = NULL;
        int r = finish_req(c, "monitor_cond", id, deadline, &result, err);
        if (r >= 0 && !json_is_object(result))
                r = osn_error_set(err, -EPROTO, OSN_CNI_OVSDB_ERROR,
                                  "OVSDB %s: monitor_cond: the result is not an object", c->name);
        if (r < 0) {
                forget_monitor(c, monitor_id);
                return r;
        }
        *ret_initial = TAKE_PTR(result);
        return 0;
}

int osn_ovsdb_monitor_cond(struct osn_ovsdb *c, const char *db, const char *monitor_id,
                           const char *table, json_t *where, const char *const *columns,
                           int64_t deadline, json_t **ret_initial, struct osn_error *err)
{
        int64_t id = 0;
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
                return osn_error_set(err, -ENOENT, OSN_CNI_OVSDB_ERROR,
                                     "OVSDB %s: no monitor \"%s\"", c->name, monitor_id);
        for (;;) {
                if (take_update(c, monitor_id, ret_update))
                        return 0;
                int r = step(c, deadline);
                if (take_update(c, monitor_id, ret_update))
                        return 0;
                if (r < 0)
                        return conn_error(c, "wait for update2", r, err);
        }
}

int osn_ovsdb_monitor_cancel(struct osn_ovsdb *c, const char *monitor_id, int64_t deadline)
{
        /* Whatever the server says, the caller is done with this monitor. */
        forget_monitor(c, monitor_id);
        _cleanup_json_ json_t *result = NULL;
        return rpc(c, "monitor_cancel", NULL, json_pack("[s]", monitor_id), deadline, &result,
                   NULL);
}

int osn_ovsdb_echo(struct osn_ovsdb *c, int64_t deadline, struct osn_error *err)
{
        _cleanup_json_ json_t *result = NULL;
        return rpc(c, "echo", NULL, json_pack("[s]", "osn"), deadline, &result, err);
}

int osn_ovsdb_list_dbs(struct osn_ovsdb *c, int64_t deadline, json_t **ret, struct osn_error *err)
{
        _cleanup_json_ json_t *result = NULL;
        int r = rpc(c, "list_dbs", NULL, json_array(), deadline, &result, err);
        if (r < 0)
                return r;
        if (!json_is_array(result))
                return osn_error_set(err, -EPROTO, OSN_CNI_OVSDB_ERROR,
                                     "OVSDB %s: list_dbs: the result is not an array", c->name);
        *ret = TAKE_PTR(result);
        return 0;
}

int osn_ovsdb_settle(struct osn_ovsdb *c, int64_t deadline, struct osn_error *err)
{
        for (;;) {
                bool waiting = false;
                for (size_t i = 0; i < c->n_reqs; i++)
                        if (!c->reqs[i].reply && c->reqs[i].kind != REQ_RESUME)
                                waiting = true;
                if (!waiting)
                        return 0;
                int r = step(c, deadline);
                if (r < 0) {
                        /* Abandoned: close the session so that nothing of
                         * it can commit after what the caller does next. */
                        for (size_t i = c->n_reqs; i-- > 0;)
                                if (!c->reqs[i].reply)
                                        remove_req(c, &c->reqs[i]);
                        if (!c->fixed)
                                move_on(c, false, "requests abandoned at the caller's deadline");
                        return conn_error(c, "settle", r, err);
                }
        }
}

int osn_ovsdb_reconnect(struct osn_ovsdb *c, int64_t deadline, struct osn_error *err)
{
        if (c->fixed)
                return c->error ? conn_error(c, "reconnect", c->error, err) : 0;
        /* Unanswered requests are given up: their session is closed before
         * another one is opened. */
        for (size_t i = c->n_reqs; i-- > 0;)
                if (!c->reqs[i].reply && c->reqs[i].kind != REQ_RESUME)
                        remove_req(c, &c->reqs[i]);
        if (c->drain) {
                osn_jsonrpc_close(c->drain);
                c->drain = NULL;
        }
        bool healthy =
            c->rpc && !osn_jsonrpc_error(c->rpc) && !c->check_wire && (c->verified || !c->db);
        if (healthy) {
                /* Cheap proof that the member still does: ask it again. */
                if (c->db)
                        send_check(c);
                else
                        c->check_wanted = false;
        } else if (c->rpc) {
                move_on(c, false, "reconnecting");
        }
        if (!c->db) {
                if (!c->rpc && open_member(c, true, deadline, NULL, 0) < 0)
                        return conn_error(c, "reconnect", -ECONNREFUSED, err);
                return osn_ovsdb_echo(c, deadline, err);
        }
        while (!(c->rpc && c->verified && !c->check_wire)) {
                int r = step(c, deadline);
                if (r < 0)
                        return conn_error(c, "reconnect", r, err);
        }
        return 0;
}

/* --- Non-blocking core --- */

int osn_ovsdb_fd(const struct osn_ovsdb *c)
{
        return c->rpc ? osn_jsonrpc_fd(c->rpc) : -1;
}

bool osn_ovsdb_want_write(const struct osn_ovsdb *c)
{
        return c->rpc && (osn_jsonrpc_poll_events(c->rpc) & POLLOUT);
}

int osn_ovsdb_run(struct osn_ovsdb *c)
{
        if (c->fixed && c->error)
                return c->error;
        if (!c->rpc)
                return c->fixed ? c->error : 0;
        int r = osn_jsonrpc_run(c->rpc);
        if (c->fixed) {
                collect(c, c->rpc);
                if (r < 0)
                        c->error = r;
        }
        return r;
}

static struct osn_ovsdb *conn_alloc(void)
{
        struct osn_ovsdb *c = calloc(1, sizeof(*c));
        if (!c)
                return NULL;
        c->next_id = 1;
        c->stall_ms = DEFAULT_STALL_MS;
        c->monitors = json_object();
        c->updates = json_array();
        if (!c->monitors || !c->updates) {
                osn_ovsdb_close(c);
                return NULL;
        }
        return c;
}

int osn_ovsdb_from_fd(int fd, const char *name, struct osn_ovsdb **ret)
{
        struct osn_ovsdb *c = conn_alloc();
        if (!c) {
                close(fd);
                return -ENOMEM;
        }
        c->fixed = true;
        set_name(c, name);
        int r = osn_jsonrpc_from_fd(fd, name, &c->rpc);
        if (r < 0) {
                osn_ovsdb_close(c);
                return r;
        }
        osn_jsonrpc_set_notify(c->rpc, on_notify, c);
        *ret = c;
        return 0;
}

enum conn_end { END_GOODBYE, END_ABANDON, END_HANGUP };

static void free_conn(struct osn_ovsdb *c, enum conn_end how)
{
        if (!c)
                return;
        bool goodbye = how == END_GOODBYE;
        if (goodbye && c->rpc && !osn_jsonrpc_error(c->rpc)) {
                /* Cancel the monitors: their updates are what would arrive
                 * unread and make the server log a reset. */
                const char *id;
                json_t *v;
                json_object_foreach(c->monitors, id, v)
                {
                        int64_t wire = 0;
                        if (osn_jsonrpc_start(c->rpc, "monitor_cancel", json_pack("[s]", id),
                                              &wire) < 0)
                                break;
                        osn_jsonrpc_forget(c->rpc, wire);
                }
        }
        /* Requests first: they name the sessions they are on. */
        while (c->n_reqs)
                remove_req(c, &c->reqs[c->n_reqs - 1]);
        if (goodbye)
                osn_jsonrpc_close_gracefully(c->rpc, GOODBYE_MS);
        else if (how == END_HANGUP)
                osn_jsonrpc_hangup(c->rpc, GOODBYE_MS);
        else
                osn_jsonrpc_close(c->rpc);
        osn_jsonrpc_close(c->drain);
        free(c->reqs);
        for (size_t i = 0; i < c->n_remotes; i++)
                free(c->remotes[i]);
        free(c->ssl_key);
        free(c->ssl_cert);
        free(c->ssl_ca);
        free(c->db);
        json_decref(c->monitors);
        json_decref(c->updates);
        free(c);
}

void osn_ovsdb_close(struct osn_ovsdb *c)
{
        free_conn(c, END_GOODBYE);
}

void osn_ovsdb_abandon(struct osn_ovsdb *c)
{
        free_conn(c, END_ABANDON);
}

void osn_ovsdb_hangup(struct osn_ovsdb *c)
{
        free_conn(c, END_HANGUP);
}

static int dup_opt(const char *s, char **ret)
{
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* Splits 'remotes' into c->remotes and shuffles them: every process starts
 * at a random member, so that a cluster's clients spread (and find the
 * leader after at most n - 1 moves). */
static int parse_remotes(struct osn_ovsdb *c, const char *remotes)
{
        _cleanup_free_ char *copy = strdup(remotes);
        if (!copy)
                return -ENOMEM;
        char *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                tok += strspn(tok, " \t");
                tok[strcspn(tok, " \t")] = '\0';
                if (!*tok)
                        continue;
                if (c->n_remotes == MAX_REMOTES)
                        return -E2BIG;
                if (!(c->remotes[c->n_remotes] = strdup(tok)))
                        return -ENOMEM;
                c->n_remotes++;
        }
        const char *noshuffle = getenv("OSN_OVSDB_NO_SHUFFLE");
        if (noshuffle && *noshuffle)
                return 0;
        for (size_t i = c->n_remotes; i > 1; i--) {
                uint32_t rnd = 0;
                if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
                        rnd = (uint32_t)(osn_now_ms() ^ getpid());
                size_t j = rnd % i;
                char *t = c->remotes[i - 1];
                c->remotes[i - 1] = c->remotes[j];
                c->remotes[j] = t;
        }
        return 0;
}

int osn_ovsdb_connect(const char *remotes, const struct osn_ssl_opts *ssl, int64_t deadline,
                      struct osn_ovsdb **ret, struct osn_error *err)
{
        struct osn_ovsdb *c = conn_alloc();
        if (!c)
                return -ENOMEM;
        int r = parse_remotes(c, remotes);
        if (r >= 0 && ssl)
                r = dup_opt(ssl->private_key, &c->ssl_key) < 0 ||
                            dup_opt(ssl->certificate, &c->ssl_cert) < 0 ||
                            dup_opt(ssl->ca_cert, &c->ssl_ca) < 0
                        ? -ENOMEM
                        : 0;
        if (r == -E2BIG) {
                osn_ovsdb_close(c);
                return osn_error_set(err, r, OSN_CNI_INVALID_CONFIG,
                                     "more than %d OVSDB remotes in \"%s\"", MAX_REMOTES, remotes);
        }
        if (r < 0) {
                osn_ovsdb_close(c);
                return r;
        }
        if (!c->n_remotes) {
                osn_ovsdb_close(c);
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "no OVSDB remote given (\"%s\")", remotes);
        }
        set_name(c, c->remotes[0]);
        /* Every remote is tried once; the reasons of all are reported. */
        char reasons[sizeof(err->msg)] = "";
        r = open_member(c, true, deadline, reasons, sizeof(reasons));
        if (r >= 0) {
                *ret = c;
                return 0;
        }
        osn_ovsdb_close(c);
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

bool osn_ovsdb_is_uuid(const char *s)
{
        size_t i = 0;
        for (; s && s[i] && i < 36; i++)
                if (i == 8 || i == 13 || i == 18 || i == 23 ? s[i] != '-'
                                                            : !isxdigit((unsigned char)s[i]))
                        return false;
        return s && i == 36 && !s[i];
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
