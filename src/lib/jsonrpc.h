/* jsonrpc: one JSON-RPC 1.0 session over one byte stream (stream.h).
 *
 * This is the message layer under the OVSDB client (ovsdb.h) and the
 * unixctl calls to OVS/OVN daemons (inventory.h): framing, requests with
 * integer ids, replies matched to them, notifications handed to a callback,
 * the peer's "echo" requests answered, nothing about databases.
 *
 * Framing: messages are found by scanning for the end of each top-level
 * JSON value (so a message split across reads, or several in one read, is
 * handled); the scanner keeps its state across reads.  Every message sent
 * and received is logged at debug level (the first LOG_MSG_MAX bytes, with
 * the total length when it was cut), so that a session is readable from the
 * log alone.
 *
 * Pipelining: any number of requests may be outstanding; replies are filed
 * by id, in whatever order the peer sends them.  Only replies to ids that
 * are awaited (started and not forgotten) are kept; others are dropped.
 *
 * The core is non-blocking: osn_jsonrpc_run() consumes what the socket has,
 * osn_jsonrpc_fd()/_poll_events() say what to poll().  osn_jsonrpc_wait() and
 * osn_jsonrpc_finish() block, bounded by an absolute deadline on
 * osn_now_ms()'s clock.
 *
 * A session that broke (EOF, a malformed message, a send that failed) stays
 * broken: every later call returns the same negative errno at once, and
 * osn_jsonrpc_error_detail() says why.  Not thread-safe.
 */
#ifndef OSN_JSONRPC_H
#define OSN_JSONRPC_H

#include "error.h"
#include "stream.h"
#include "util.h"

struct osn_jsonrpc;

/* Opens one remote (no commas; stream.h) and wraps it in a session. */
int osn_jsonrpc_open(const char *remote, const struct osn_ssl_opts *ssl, int64_t deadline,
                     struct osn_jsonrpc **ret, struct osn_error *err) _wur_;

/* A session over an already connected socket, named 'name' (tests, fuzzer).
 * Takes 'fd', even on failure. */
int osn_jsonrpc_from_fd(int fd, const char *name, struct osn_jsonrpc **ret) _wur_;

/* Closes at once; accepts NULL.  Unsent bytes are lost. */
void osn_jsonrpc_close(struct osn_jsonrpc *s);

/* Ends the session cleanly within 'ms': sends what is queued, half-closes
 * and reads to the peer's end of file (a peer whose client closes with
 * bytes unread sees a reset, and ovsdb-server logs one warning per reset),
 * then closes.  TLS sessions are closed at once (the stream shuts TLS down
 * itself).  Accepts NULL. */
void osn_jsonrpc_close_gracefully(struct osn_jsonrpc *s, int ms);
/* Ends a connection whose stream another process also read (a fork()ed
 * copy): nothing is parsed, since this copy's buffers no longer match the
 * stream.  Shuts down writing, discards what arrives until the server's EOF
 * (so that nothing unread makes the close a reset) or 'ms', then closes.
 * An ssl: stream is only closed.  Accepts NULL. */
void osn_jsonrpc_hangup(struct osn_jsonrpc *s, int ms);

const char *osn_jsonrpc_name(const struct osn_jsonrpc *s);
int osn_jsonrpc_fd(const struct osn_jsonrpc *s);
/* POLLIN, plus POLLOUT while output is queued (TLS may swap them). */
short osn_jsonrpc_poll_events(const struct osn_jsonrpc *s);

/* 0 while the session works, else its sticky negative errno. */
int osn_jsonrpc_error(const struct osn_jsonrpc *s);
const char *osn_jsonrpc_error_detail(const struct osn_jsonrpc *s);

/* Called by osn_jsonrpc_run() for every notification (a request with a null
 * or absent id) the peer sends; 'params' is borrowed for the call.  A
 * negative return (e.g. -EPROTO for params that make no sense) breaks the
 * session with that error. */
typedef int (*osn_jsonrpc_notify_fn)(void *aux, const char *method, json_t *params);
void osn_jsonrpc_set_notify(struct osn_jsonrpc *s, osn_jsonrpc_notify_fn fn, void *aux);

/* Reads and writes what the socket allows without blocking, answers echo,
 * files replies and passes notifications on.  0, or the sticky negative
 * errno (-ECONNRESET on EOF, -EPROTO on a malformed message, -EMSGSIZE for
 * a message over 64 MiB). */
int osn_jsonrpc_run(struct osn_jsonrpc *s);

/* Polls the session once for at most the time left until 'deadline' (and
 * never past 'until', when it is earlier; 0 = no such bound).  0 when the
 * caller should run again, -ETIMEDOUT when 'deadline' has passed. */
int osn_jsonrpc_wait(struct osn_jsonrpc *s, int64_t deadline, int64_t until);

/* Sends request 'method' with 'params' (a JSON array, stolen even on
 * failure) and returns its id in *ret_id.  -EINVAL when 'params' is NULL
 * (e.g. a failed json_pack()), the sticky error when the session broke. */
int osn_jsonrpc_start(struct osn_jsonrpc *s, const char *method, json_t *params, int64_t *ret_id)
    _wur_;

/* The reply to request 'id' once it arrived (the whole message, borrowed;
 * it stays until osn_jsonrpc_forget()), NULL while it has not. */
json_t *osn_jsonrpc_reply(const struct osn_jsonrpc *s, int64_t id);

/* Stops awaiting 'id': drops its reply, now or when it comes. */
void osn_jsonrpc_forget(struct osn_jsonrpc *s, int64_t id);

/* Waits for the reply to 'id' and returns it (the whole message, a new
 * reference); the id is forgotten either way.  -ETIMEDOUT at the deadline,
 * the session's error when it broke first (a reply that arrived before the
 * break counts). */
int osn_jsonrpc_finish(struct osn_jsonrpc *s, int64_t id, int64_t deadline, json_t **ret_reply)
    _wur_;

/* One call on a fresh session to 'remote': start, finish, close.  The
 * reply's "result" (new reference) on success; a reply with a non-null
 * "error" fills 'err' (code 'code', the peer's error text) and returns
 * -EPROTO; failures of the session fill 'err' with 'code' too. */
int osn_jsonrpc_call(const char *remote, const char *method, json_t *params, int64_t deadline,
                     int code, json_t **ret_result, struct osn_error *err) _wur_;

/* Formats a JSON-RPC or OVSDB <error> (a string, or an object with "error"
 * and "details") into 'buf' (cut to 'len' bytes, which the callers size
 * for a one-line message). */
const char *osn_jsonrpc_error_text(const json_t *e, char *buf, size_t len);

/* Scans 'buf' (len bytes) for the end of the first complete top-level JSON
 * value (object or array, as JSON-RPC sends), skipping leading whitespace.
 * Returns its length in bytes (so buf[0..n) holds one value), 0 when more
 * bytes are needed, or -EPROTO when the bytes cannot start a JSON-RPC
 * message.  Strings and escapes are honoured; nesting is bounded (1000). */
ssize_t osn_jsonrpc_frame(const char *buf, size_t len);

#endif
