/* jsonrpc: see jsonrpc.h.
 *
 * Design: one input buffer framed incrementally (the scanner keeps its state
 * across reads, so a message that trickles in is scanned once, not once per
 * read), one output buffer flushed whenever the socket allows, and one JSON
 * object 'replies' (request id -> null while awaited, then the reply).
 */
#include "jsonrpc.h"

#include <sys/socket.h>

#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

#define MAX_MSG_SIZE      ((size_t)64 << 20) /* one message, in or out */
#define MAX_DEPTH         1000               /* nesting of one message */
#define READ_CHUNK        ((size_t)64 << 10)
#define MAX_READS_PER_RUN 64  /* so that a flooding peer cannot starve deadlines */
#define LOG_MSG_MAX       400 /* bytes of a message shown at debug */

/* State of the incremental frame scanner; all zero = at a message start. */
struct frame_scan {
        size_t pos;     /* bytes of the current message scanned so far */
        unsigned depth; /* open braces and brackets */
        bool started;   /* first '{' or '[' seen */
        bool in_string;
        bool escape; /* previous byte was a backslash inside a string */
};

struct osn_jsonrpc {
        struct osn_stream *stream;
        int error;               /* sticky: set once the session broke */
        char error_detail[256];  /* what was wrong, for the user */
        int64_t next_id;         /* ids are integers 1, 2, ... */
        char *ibuf;              /* received bytes ... */
        size_t ioff, ilen, icap; /* ... ibuf[ioff..ilen) not yet parsed */
        struct frame_scan scan;  /* of ibuf[ioff..ilen) */
        char *obuf;              /* bytes to send ... */
        size_t ooff, olen, ocap; /* ... obuf[ooff..olen) not yet sent */
        json_t *replies;         /* "<id>" -> null while awaited, then the reply */
        osn_jsonrpc_notify_fn notify;
        void *notify_aux;
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

/* Logs one message at debug: its first LOG_MSG_MAX bytes, and its length
 * when that is not all of it. */
static void log_msg(const struct osn_jsonrpc *s, const char *dir, const char *buf, size_t len)
{
        /* A leading newline or spaces between messages carry nothing. */
        while (len > 0 && (*buf == ' ' || *buf == '\n' || *buf == '\r' || *buf == '\t'))
                buf++, len--;
        if (len <= LOG_MSG_MAX)
                log_debug("%s %s %.*s", osn_stream_name(s->stream), dir, (int)len, buf);
        else
                log_debug("%s %s %.*s... (%zu bytes in all)", osn_stream_name(s->stream), dir,
                          LOG_MSG_MAX, buf, len);
}

/* Marks the session broken with 'r' and remembers why. */
_printf_(3, 4) static int conn_fail(struct osn_jsonrpc *s, int r, const char *fmt, ...)
{
        if (s->error)
                return s->error;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(s->error_detail, sizeof(s->error_detail), fmt, ap);
        va_end(ap);
        if (n >= (int)sizeof(s->error_detail))
                memcpy(s->error_detail + sizeof(s->error_detail) - 4, "...", 4);
        s->error = r;
        log_debug("%s: %s", osn_stream_name(s->stream), s->error_detail);
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
static int append_output(const char *data, size_t size, void *s_)
{
        struct osn_jsonrpc *s = s_;
        if (s->olen - s->ooff + size > MAX_MSG_SIZE)
                return -1;
        if (buf_reserve(&s->obuf, &s->ocap, s->olen, size) < 0)
                return -1;
        memcpy(s->obuf + s->olen, data, size);
        s->olen += size;
        return 0;
}

/* Writes what the socket takes of the output buffer. */
static int flush_output(struct osn_jsonrpc *s)
{
        if (s->error)
                return s->error;
        while (s->ooff < s->olen) {
                ssize_t n = osn_stream_send(s->stream, s->obuf + s->ooff, s->olen - s->ooff);
                if (n == -EAGAIN)
                        return 0;
                if (n < 0)
                        return conn_fail(s, (int)n, "send failed: %s", strerror((int)-n));
                s->ooff += n;
        }
        s->ooff = s->olen = 0;
        return 0;
}

/* Queues 'msg' (stolen) for sending and starts sending it. */
static int send_msg(struct osn_jsonrpc *s, json_t *msg)
{
        if (!msg)
                return -ENOMEM;
        if (s->error) {
                json_decref(msg);
                return s->error;
        }
        size_t olen = s->olen;
        int r = json_dump_callback(msg, append_output, s, JSON_COMPACT);
        json_decref(msg);
        if (r < 0) {
                s->olen = olen; /* drop a partial message */
                return conn_fail(s, -ENOBUFS, "output buffer full (the peer does not read)");
        }
        log_msg(s, "send", s->obuf + olen, s->olen - olen);
        return flush_output(s);
}

/* Answers a request from the peer: "echo" returns its params, anything
 * else an "unknown method" error (JSON-RPC wants every request answered). */
static int answer_request(struct osn_jsonrpc *s, const char *method, json_t *id, json_t *params)
{
        if (streq(method, "echo"))
                return send_msg(s, json_pack("{s:O, s:O, s:n}", "id", id, "result",
                                             params ? params : json_null(), "error"));
        log_debug("%s: answering unknown request \"%s\"", osn_stream_name(s->stream), method);
        return send_msg(
            s, json_pack("{s:O, s:n, s:s}", "id", id, "result", "error", "unknown method"));
}

static void id_key(int64_t id, char key[static 24])
{
        snprintf(key, 24, "%" PRId64, id);
}

/* Files one received message: answers requests, passes notifications on,
 * stores replies that a caller awaits.  Borrows 'msg'. */
static int dispatch(struct osn_jsonrpc *s, json_t *msg)
{
        if (!json_is_object(msg))
                return conn_fail(s, -EPROTO, "message is not a JSON object");
        json_t *method = json_object_get(msg, "method");
        json_t *id = json_object_get(msg, "id");
        json_t *params = json_object_get(msg, "params");
        if (method) {
                if (!json_is_string(method))
                        return conn_fail(s, -EPROTO, "\"method\" is not a string");
                const char *m = json_string_value(method);
                if (id && !json_is_null(id))
                        return answer_request(s, m, id, params);
                int r = s->notify ? s->notify(s->notify_aux, m, params) : 0;
                if (r < 0)
                        return conn_fail(s, r, "malformed \"%s\" notification", m);
                return 0;
        }
        if (!id || (!json_object_get(msg, "result") && !json_object_get(msg, "error")))
                return conn_fail(s, -EPROTO, "message is neither a request nor a reply");
        if (json_is_integer(id)) {
                char key[24];
                id_key(json_integer_value(id), key);
                json_t *slot = json_object_get(s->replies, key);
                if (json_is_null(slot))
                        return json_object_set(s->replies, key, msg) < 0 ? -ENOMEM : 0;
        }
        log_debug("%s: dropping a reply nobody awaits", osn_stream_name(s->stream));
        return 0;
}

/* Parses and dispatches every complete message in the input buffer. */
static int parse_input(struct osn_jsonrpc *s)
{
        for (;;) {
                const char *start = s->ibuf + s->ioff;
                ssize_t n = frame_scan(&s->scan, start, s->ilen - s->ioff);
                if (n < 0)
                        return conn_fail(s, -EPROTO, "not a JSON-RPC message (or nested too deep)");
                if (n == 0)
                        break;
                log_msg(s, "recv", start, (size_t)n);
                json_error_t jerr;
                json_t *msg = json_loadb(start, n, 0, &jerr);
                s->ioff += n;
                if (!msg)
                        return conn_fail(s, -EPROTO, "invalid JSON: %s", jerr.text);
                int r = dispatch(s, msg);
                json_decref(msg);
                if (r < 0)
                        return r;
        }
        if (s->ilen - s->ioff > MAX_MSG_SIZE)
                return conn_fail(s, -EMSGSIZE, "message larger than %zu bytes", MAX_MSG_SIZE);
        /* Keep the unparsed tail at the start: the scanner's position is
         * relative to it, so it stays valid. */
        memmove(s->ibuf, s->ibuf + s->ioff, s->ilen - s->ioff);
        s->ilen -= s->ioff;
        s->ioff = 0;
        return 0;
}

int osn_jsonrpc_run(struct osn_jsonrpc *s)
{
        int r = flush_output(s);
        if (r < 0)
                return r;
        for (int i = 0; i < MAX_READS_PER_RUN; i++) {
                if (buf_reserve(&s->ibuf, &s->icap, s->ilen, READ_CHUNK) < 0)
                        return -ENOMEM;
                ssize_t n = osn_stream_recv(s->stream, s->ibuf + s->ilen, s->icap - s->ilen);
                if (n == -EAGAIN)
                        break;
                if (n == -ECONNRESET)
                        return conn_fail(s, -ECONNRESET,
                                         s->ilen > 0 ? "connection closed in "
                                                       "the middle of a message"
                                                     : "connection closed");
                if (n < 0)
                        return conn_fail(s, (int)n, "receive failed: %s", strerror((int)-n));
                s->ilen += n;
                r = parse_input(s);
                if (r < 0)
                        return r;
        }
        /* Echo replies queued by parse_input() go out now. */
        return flush_output(s);
}

const char *osn_jsonrpc_name(const struct osn_jsonrpc *s)
{
        return osn_stream_name(s->stream);
}

int osn_jsonrpc_fd(const struct osn_jsonrpc *s)
{
        return osn_stream_fd(s->stream);
}

short osn_jsonrpc_poll_events(const struct osn_jsonrpc *s)
{
        return osn_stream_poll_events(s->stream, s->olen > s->ooff);
}

int osn_jsonrpc_error(const struct osn_jsonrpc *s)
{
        return s->error;
}

const char *osn_jsonrpc_error_detail(const struct osn_jsonrpc *s)
{
        return s->error ? s->error_detail : "";
}

void osn_jsonrpc_set_notify(struct osn_jsonrpc *s, osn_jsonrpc_notify_fn fn, void *aux)
{
        s->notify = fn;
        s->notify_aux = aux;
}

int osn_jsonrpc_wait(struct osn_jsonrpc *s, int64_t deadline, int64_t until)
{
        int left = osn_ms_left(deadline);
        if (left == 0)
                return -ETIMEDOUT;
        if (until > 0 && until < deadline)
                left = osn_ms_left(until);
        struct pollfd p = {.fd = osn_jsonrpc_fd(s), .events = osn_jsonrpc_poll_events(s)};
        if (poll(&p, 1, left) < 0 && errno != EINTR)
                return -errno;
        return 0;
}

int osn_jsonrpc_start(struct osn_jsonrpc *s, const char *method, json_t *params, int64_t *ret_id)
{
        if (!params)
                return -EINVAL;
        if (s->error) {
                json_decref(params);
                return s->error;
        }
        int64_t id = s->next_id++;
        char key[24];
        id_key(id, key);
        json_t *msg =
            json_pack("{s:s, s:o, s:I}", "method", method, "params", params, "id", (json_int_t)id);
        if (!msg || json_object_set_new(s->replies, key, json_null()) < 0) {
                json_decref(msg);
                return -ENOMEM;
        }
        int r = send_msg(s, msg);
        if (r < 0) {
                json_object_del(s->replies, key);
                return r;
        }
        *ret_id = id;
        return 0;
}

json_t *osn_jsonrpc_reply(const struct osn_jsonrpc *s, int64_t id)
{
        char key[24];
        id_key(id, key);
        json_t *slot = json_object_get(s->replies, key);
        return json_is_null(slot) ? NULL : slot;
}

void osn_jsonrpc_forget(struct osn_jsonrpc *s, int64_t id)
{
        char key[24];
        id_key(id, key);
        json_object_del(s->replies, key);
}

int osn_jsonrpc_finish(struct osn_jsonrpc *s, int64_t id, int64_t deadline, json_t **ret_reply)
{
        int r = 0;
        for (;;) {
                int run_r = osn_jsonrpc_run(s);
                /* A reply that arrived before the session broke counts. */
                json_t *reply = osn_jsonrpc_reply(s, id);
                if (reply) {
                        *ret_reply = json_incref(reply);
                        break;
                }
                r = run_r < 0 ? run_r : osn_jsonrpc_wait(s, deadline, 0);
                if (r < 0)
                        break;
        }
        osn_jsonrpc_forget(s, id);
        return r;
}

const char *osn_jsonrpc_error_text(const json_t *e, char *buf, size_t len)
{
        const char *str = json_string_value(e);
        if (!str)
                str = json_string_value(json_object_get(e, "error"));
        const char *d = json_string_value(json_object_get(e, "details"));
        int n =
            snprintf(buf, len, "%s%s%s", str ? str : "unknown error", d ? ": " : "", d ? d : "");
        if (n >= (int)len && len > 4)
                memcpy(buf + len - 4, "...", 4);
        return buf;
}

int osn_jsonrpc_call(const char *remote, const char *method, json_t *params, int64_t deadline,
                     int code, json_t **ret_result, struct osn_error *err)
{
        struct osn_jsonrpc *s = NULL;
        int r = osn_jsonrpc_open(remote, NULL, deadline, &s, err);
        if (r < 0) {
                json_decref(params);
                return r;
        }
        int64_t id = 0;
        _cleanup_json_ json_t *reply = NULL;
        r = osn_jsonrpc_start(s, method, params, &id);
        if (r >= 0)
                r = osn_jsonrpc_finish(s, id, deadline, &reply);
        if (r < 0) {
                osn_error_set(err, r, code, "%s: no answer to \"%s\": %s", remote, method,
                              s->error ? s->error_detail : strerror(-r));
                osn_jsonrpc_close(s);
                return r;
        }
        osn_jsonrpc_close(s);
        const json_t *error = json_object_get(reply, "error");
        if (error && !json_is_null(error)) {
                char buf[sizeof(err->msg)];
                return osn_error_set(err, -EPROTO, code, "%s: \"%s\" failed: %s", remote, method,
                                     osn_jsonrpc_error_text(error, buf, sizeof(buf)));
        }
        json_t *result = json_object_get(reply, "result");
        *ret_result = json_incref(result ? result : json_null());
        return 0;
}

/* Wraps an open stream (taken, even on failure) in a session. */
static int session_new(struct osn_stream *st, struct osn_jsonrpc **ret)
{
        struct osn_jsonrpc *s = calloc(1, sizeof(*s));
        if (!s) {
                osn_stream_close(st);
                return -ENOMEM;
        }
        s->stream = st;
        s->next_id = 1;
        s->replies = json_object();
        if (!s->replies) {
                osn_jsonrpc_close(s);
                return -ENOMEM;
        }
        *ret = s;
        return 0;
}

int osn_jsonrpc_open(const char *remote, const struct osn_ssl_opts *ssl, int64_t deadline,
                     struct osn_jsonrpc **ret, struct osn_error *err)
{
        struct osn_stream *st;
        int r = osn_stream_open(remote, ssl, deadline, &st, err);
        return r < 0 ? r : session_new(st, ret);
}

int osn_jsonrpc_from_fd(int fd, const char *name, struct osn_jsonrpc **ret)
{
        struct osn_stream *st;
        int r = osn_stream_from_fd(fd, name, &st);
        return r < 0 ? r : session_new(st, ret);
}

void osn_jsonrpc_close(struct osn_jsonrpc *s)
{
        if (!s)
                return;
        osn_stream_close(s->stream);
        free(s->ibuf);
        free(s->obuf);
        json_decref(s->replies);
        free(s);
}

void osn_jsonrpc_hangup(struct osn_jsonrpc *s, int ms)
{
        if (!s)
                return;
        int fd = osn_jsonrpc_fd(s);
        if (!startswith(osn_jsonrpc_name(s), "ssl:") && shutdown(fd, SHUT_WR) == 0) {
                int64_t deadline = osn_now_ms() + ms;
                char buf[4096];
                for (;;) {
                        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
                        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                                break;
                        if (n > 0)
                                continue;
                        struct pollfd pfd = {.fd = fd, .events = POLLIN};
                        int left = osn_ms_left(deadline);
                        if (left <= 0 || (poll(&pfd, 1, left) < 0 && errno != EINTR))
                                break;
                }
        }
        osn_jsonrpc_close(s);
}

void osn_jsonrpc_close_gracefully(struct osn_jsonrpc *s, int ms)
{
        if (!s)
                return;
        if (!s->error && !startswith(osn_jsonrpc_name(s), "ssl:")) {
                int64_t deadline = osn_now_ms() + ms;
                while (s->olen > s->ooff && osn_jsonrpc_wait(s, deadline, 0) == 0 &&
                       flush_output(s) == 0)
                        ;
                /* Replies that still come are nobody's: drop them. */
                json_object_clear(s->replies);
                if (s->olen == s->ooff && shutdown(osn_jsonrpc_fd(s), SHUT_WR) == 0)
                        while (osn_jsonrpc_run(s) == 0 && osn_jsonrpc_wait(s, deadline, 0) == 0)
                                ;
        }
        osn_jsonrpc_close(s);
}
