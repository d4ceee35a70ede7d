/* stream: one byte-stream connection to an OVSDB remote.
 *
 * Remotes as ovsdb-server(1) and ovn-nbctl name them: "unix:PATH",
 * "tcp:HOST:PORT", "ssl:HOST:PORT" (HOST an IPv4 address, a bracketed IPv6
 * address, or a name resolved with getaddrinfo).  The connection is
 * non-blocking and O_CLOEXEC; connect (and the TLS handshake) are bounded by
 * a deadline.  TLS uses OpenSSL, loaded by the first ssl: remote (tls.h)
 * so that the many invocations that never use TLS do not pay for loading
 * it.  The peer is verified against 'ca_cert' and the client presents
 * 'certificate'/'private_key', as ovsdb-server's --private-key/
 * --certificate/--ca-cert expect.
 */
#ifndef OSN_STREAM_H
#define OSN_STREAM_H

#include <sys/types.h>

#include "error.h"
#include "util.h"

struct osn_ssl_opts {
        const char *private_key; /* PEM file */
        const char *certificate; /* PEM file */
        const char *ca_cert;     /* PEM file the server's certificate must chain to */
};

struct osn_stream;

/* Opens one remote (no commas).  -EINVAL with 'err' naming the remote when
 * it is malformed; -ECONNREFUSED, -ENOENT, -ETIMEDOUT, ... when unreachable. */
int osn_stream_open(const char *remote, const struct osn_ssl_opts *ssl, int64_t deadline,
                    struct osn_stream **ret, struct osn_error *err) _wur_;
void osn_stream_close(struct osn_stream *s); /* accepts NULL */

/* Non-blocking I/O: >0 bytes, -EAGAIN when it would block, -ECONNRESET on
 * EOF, other negative errno on failure.  With TLS, "would block" may mean
 * the other direction: poll for osn_stream_poll_events(). */
ssize_t osn_stream_recv(struct osn_stream *s, void *buf, size_t len);
ssize_t osn_stream_send(struct osn_stream *s, const void *buf, size_t len);
int osn_stream_fd(const struct osn_stream *s);
/* POLLIN|POLLOUT bits the stream needs next (TLS may want the opposite). */
short osn_stream_poll_events(const struct osn_stream *s, bool want_write);
const char *osn_stream_name(const struct osn_stream *s);

/* For tests and the fuzzer: wraps a connected socket (e.g. one end of a
 * socketpair()) as a plain stream named 'name'.  Takes 'fd', even on
 * failure, and makes it non-blocking. */
int osn_stream_from_fd(int fd, const char *name, struct osn_stream **ret) _wur_;

#endif
