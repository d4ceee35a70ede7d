/* stream: see stream.h. */
#include "stream.h"

#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "log.h"
#include "tls.h"

/* The port OVSDB remotes default to when "tcp:HOST" / "ssl:HOST" omit it. */
#define OSN_OVSDB_DEFAULT_PORT "6640"

struct osn_stream {
        int fd;
        char *name;
        SSL_CTX *ctx; /* NULL for unix: and tcp:, and until OpenSSL is loaded */
        SSL *ssl;
        BIO_METHOD *bio_method;
        short ssl_want; /* POLLIN/POLLOUT the last TLS call asked for, else 0 */
};

void osn_stream_close(struct osn_stream *s)
{
        if (!s)
                return;
        /* No SSL_shutdown(): a close_notify is courtesy only and could block
         * or fail on a dead peer; the server copes with a plain close.  The
         * TLS state exists only once there is a context, i.e. once OpenSSL
         * is loaded. */
        if (s->ctx) {
                osn_tls->SSL_free(s->ssl);
                osn_tls->SSL_CTX_free(s->ctx);
                osn_tls->BIO_meth_free(s->bio_method);
        }
        if (s->fd >= 0)
                close(s->fd);
        free(s->name);
        free(s);
}

static void osn_stream_closep(struct osn_stream **s)
{
        osn_stream_close(*s);
}

int osn_stream_fd(const struct osn_stream *s)
{
        return s->fd;
}

const char *osn_stream_name(const struct osn_stream *s)
{
        return s->name;
}

short osn_stream_poll_events(const struct osn_stream *s, bool want_write)
{
        return POLLIN | (want_write ? POLLOUT : 0) | s->ssl_want;
}

/* Allocates a stream around 'fd' (taken, even on failure; may be -1). */
static int stream_new(int fd, const char *name, struct osn_stream **ret)
{
        struct osn_stream *s = calloc(1, sizeof(*s));
        if (!s || !(s->name = strdup(name))) {
                free(s);
                if (fd >= 0)
                        close(fd);
                return -ENOMEM;
        }
        s->fd = fd;
        *ret = s;
        return 0;
}

int osn_stream_from_fd(int fd, const char *name, struct osn_stream **ret)
{
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return stream_new(fd, name, ret);
}

/* Waits until 'fd' is ready for 'events' or 'deadline' passes.  Returns 0
 * when ready, -ETIMEDOUT, or negative errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
        for (;;) {
                struct pollfd p = {.fd = fd, .events = events};
                int n = poll(&p, 1, osn_ms_left(deadline));
                if (n > 0)
                        return 0;
                if (n == 0)
                        return -ETIMEDOUT;
                if (errno != EINTR)
                        return -errno;
        }
}

/* Connects a new non-blocking, close-on-exec socket to 'sa', bounded by
 * 'deadline'.  Returns the fd or negative errno. */
static int connect_addr(const struct sockaddr *sa, socklen_t salen, int64_t deadline)
{
        _cleanup_close_ int fd =
            socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (sa->sa_family != AF_UNIX) {
                int one = 1;
                (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        }
        if (connect(fd, sa, salen) == 0)
                return TAKE_FD(fd);
        if (errno != EINPROGRESS && errno != EINTR)
                return -errno;
        int r = wait_fd(fd, POLLOUT, deadline);
        if (r < 0)
                return r;
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
                return -errno;
        if (soerr != 0)
                return -soerr;
        return TAKE_FD(fd);
}

/* Connects to the unix socket at 'path' (the part of 'remote' after
 * "unix:"). */
static int open_unix(const char *path, int64_t deadline, struct osn_error *err, const char *remote)
{
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        if (!*path || strlen(path) >= sizeof(sun.sun_path))
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "invalid OVSDB remote \"%s\": the socket path is empty or "
                                     "longer than %zu bytes",
                                     remote, sizeof(sun.sun_path) - 1);
        memcpy(sun.sun_path, path, strlen(path) + 1);
        return connect_addr((const struct sockaddr *)&sun, sizeof(sun), deadline);
}

/* Splits "HOST[:PORT]" or "[V6ADDR][:PORT]" into host and port (copied into
 * the caller's buffers).  -EINVAL when malformed. */
static int split_host_port(const char *s, char *host, size_t hostsz, char *port, size_t portsz)
{
        const char *h = s, *p;
        size_t hlen;
        if (*s == '[') {
                const char *end = strchr(s, ']');
                if (!end)
                        return -EINVAL;
                h = s + 1;
                hlen = end - h;
                p = end + 1;
                if (*p != '\0' && *p != ':')
                        return -EINVAL;
        } else {
                p = strchr(s, ':');
                hlen = p ? (size_t)(p - s) : strlen(s);
                if (p && strchr(p + 1, ':'))
                        return -EINVAL; /* an IPv6 address must be bracketed */
                if (!p)
                        p = "";
        }
        if (*p == ':')
                p++;
        else
                p = OSN_OVSDB_DEFAULT_PORT;
        if (hlen == 0 || hlen >= hostsz || strlen(p) >= portsz)
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long n = strtoul(p, &end, 10);
        if (!*p || *end || errno || n == 0 || n > 65535 || *p < '0' || *p > '9')
                return -EINVAL;
        memcpy(host, h, hlen);
        host[hlen] = '\0';
        snprintf(port, portsz, "%lu", n);
        return 0;
}

/* Resolves HOST:PORT and connects to the first address that accepts.
 * getaddrinfo() itself cannot be bounded; numeric hosts never block. */
static int open_tcp(const char *hostport, int64_t deadline, struct osn_error *err,
                    const char *remote)
{
        char host[256], port[8];
        if (split_host_port(hostport, host, sizeof(host), port, sizeof(port)) < 0)
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "invalid OVSDB remote \"%s\": expected HOST:PORT "
                                     "or [IPV6]:PORT",
                                     remote);
        struct addrinfo hints = {
            .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
        struct addrinfo *res = NULL;
        int g = getaddrinfo(host, port, &hints, &res);
        if (g != 0) {
                int r = g == EAI_SYSTEM ? -errno : g == EAI_AGAIN ? -EAGAIN : -EHOSTUNREACH;
                return osn_error_set(err, r, OSN_CNI_TRY_AGAIN_LATER, "%s: cannot resolve %s: %s",
                                     remote, host, gai_strerror(g));
        }
        int r = -EHOSTUNREACH;
        for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
                r = connect_addr(ai->ai_addr, ai->ai_addrlen, deadline);
                if (r >= 0 || r == -ETIMEDOUT)
                        break;
        }
        freeaddrinfo(res);
        return r;
}

/* The SSL library's first queued error (the root cause) as text, or
 * 'fallback'; clears the queue so that it does not leak into the next TLS
 * call. */
static const char *ssl_error_string(char *buf, size_t len, const char *fallback)
{
        unsigned long e = osn_tls->ERR_get_error();
        if (e == 0)
                snprintf(buf, len, "%s", fallback);
        else
                osn_tls->ERR_error_string_n(e, buf, len);
        osn_tls->ERR_clear_error();
        return buf;
}

/* A socket BIO that sends with MSG_NOSIGNAL: OpenSSL's own socket BIO
 * uses write(), which raises SIGPIPE when the server has gone, and a
 * library must not kill its process for that.  The retry flags are set and
 * cleared as the header macros BIO_set_retry_write(), BIO_set_retry_read()
 * and BIO_clear_retry_flags() would, through the table. */
static int bio_write(BIO *b, const char *buf, int len)
{
        int fd = (int)(intptr_t)osn_tls->BIO_get_data(b);
        osn_tls->BIO_clear_flags(b, BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY);
        ssize_t n;
        do
                n = send(fd, buf, len, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno == EAGAIN)
                osn_tls->BIO_set_flags(b, BIO_FLAGS_WRITE | BIO_FLAGS_SHOULD_RETRY);
        return (int)n;
}

static int bio_read(BIO *b, char *buf, int len)
{
        int fd = (int)(intptr_t)osn_tls->BIO_get_data(b);
        osn_tls->BIO_clear_flags(b, BIO_FLAGS_RWS | BIO_FLAGS_SHOULD_RETRY);
        ssize_t n;
        do
                n = recv(fd, buf, len, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0 && errno == EAGAIN)
                osn_tls->BIO_set_flags(b, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY);
        return (int)n;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
        return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

/* Maps the outcome 'ret' of an SSL call: records which direction TLS waits
 * for and returns -EAGAIN, or returns the error (-ECONNRESET on EOF). */
static int ssl_result(struct osn_stream *s, int ret)
{
        int e = osn_tls->SSL_get_error(s->ssl, ret);
        s->ssl_want = 0;
        switch (e) {
        case SSL_ERROR_WANT_READ:
                s->ssl_want = POLLIN;
                return -EAGAIN;
        case SSL_ERROR_WANT_WRITE:
                s->ssl_want = POLLOUT;
                return -EAGAIN;
        case SSL_ERROR_ZERO_RETURN:
                return -ECONNRESET;
        case SSL_ERROR_SYSCALL:
                osn_tls->ERR_clear_error();
                return errno != 0 && errno != EAGAIN ? -errno : -ECONNRESET;
        default:
                return -EPROTO;
        }
}

/* Builds the TLS client context from the files in 'ssl': our certificate
 * and key, and the CA the server's certificate must chain to.  Loads
 * OpenSSL, once the options show that TLS is really wanted. */
static int ssl_ctx_load(struct osn_stream *s, const struct osn_ssl_opts *ssl, struct osn_error *err)
{
        char buf[256];
        if (!ssl || !ssl->private_key || !ssl->certificate || !ssl->ca_cert)
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "%s: an ssl: remote needs a private key, a certificate and "
                                     "a CA certificate",
                                     s->name);
        struct osn_error e = {0};
        int r = osn_tls_load(&e);
        if (r < 0)
                return osn_error_set(err, r, e.code, "%s: %s", s->name, e.msg);
        osn_tls->ERR_clear_error();
        s->ctx = osn_tls->SSL_CTX_new(osn_tls->TLS_client_method());
        if (!s->ctx)
                return -ENOMEM;
        /* SSL_CTX_set_min_proto_version() and SSL_CTX_set_mode() are header
         * macros for these SSL_CTX_ctrl() calls. */
        osn_tls->SSL_CTX_ctrl(s->ctx, SSL_CTRL_SET_MIN_PROTO_VERSION, TLS1_2_VERSION, NULL);
        osn_tls->SSL_CTX_set_options(s->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
        /* Our output buffer may move and grow between retries of a write. */
        osn_tls->SSL_CTX_ctrl(s->ctx, SSL_CTRL_MODE,
                              SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER,
                              NULL);
        /* As OVS does, the server's certificate must chain to the CA; its
         * name is not checked (ovs-pki certificates do not carry hosts). */
        osn_tls->SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER, NULL);
        const char *what = NULL, *file = NULL;
        if (osn_tls->SSL_CTX_use_certificate_chain_file(s->ctx, ssl->certificate) != 1)
                what = "certificate", file = ssl->certificate;
        else if (osn_tls->SSL_CTX_use_PrivateKey_file(s->ctx, ssl->private_key, SSL_FILETYPE_PEM) !=
                 1)
                what = "private key", file = ssl->private_key;
        else if (osn_tls->SSL_CTX_check_private_key(s->ctx) != 1)
                what = "private key (does not match the certificate)", file = ssl->private_key;
        else if (osn_tls->SSL_CTX_load_verify_locations(s->ctx, ssl->ca_cert, NULL) != 1)
                what = "CA certificate", file = ssl->ca_cert;
        if (what)
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "%s: cannot load TLS %s %s: %s", s->name, what, file,
                                     ssl_error_string(buf, sizeof(buf), "unknown error"));
        return 0;
}

/* Runs the TLS handshake on the connected s->fd, bounded by 'deadline'. */
static int ssl_handshake(struct osn_stream *s, int64_t deadline, struct osn_error *err)
{
        char buf[256];
        s->bio_method = osn_tls->BIO_meth_new(osn_tls->BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
                                              "osn-socket");
        BIO *bio = s->bio_method ? osn_tls->BIO_new(s->bio_method) : NULL;
        s->ssl = osn_tls->SSL_new(s->ctx);
        if (!s->bio_method || !bio || !s->ssl) {
                osn_tls->BIO_free(bio);
                return -ENOMEM;
        }
        osn_tls->BIO_meth_set_write(s->bio_method, bio_write);
        osn_tls->BIO_meth_set_read(s->bio_method, bio_read);
        osn_tls->BIO_meth_set_ctrl(s->bio_method, bio_ctrl);
        osn_tls->BIO_set_data(bio, (void *)(intptr_t)s->fd);
        osn_tls->BIO_set_init(bio, 1);
        osn_tls->SSL_set_bio(s->ssl, bio, bio);

        for (;;) {
                errno = 0;
                int ret = osn_tls->SSL_connect(s->ssl);
                if (ret == 1)
                        break;
                int r = ssl_result(s, ret);
                if (r == -EAGAIN)
                        r = wait_fd(s->fd, s->ssl_want, deadline);
                if (r == -ETIMEDOUT)
                        return osn_error_set(err, r, OSN_CNI_TRY_AGAIN_LATER,
                                             "%s: TLS handshake timed out", s->name);
                if (r < 0) {
                        long v = osn_tls->SSL_get_verify_result(s->ssl);
                        if (v != X509_V_OK)
                                snprintf(buf, sizeof(buf), "certificate verify failed: %s",
                                         osn_tls->X509_verify_cert_error_string(v));
                        else
                                ssl_error_string(buf, sizeof(buf), strerror(-r));
                        return osn_error_set(err, r, OSN_CNI_TRY_AGAIN_LATER,
                                             "%s: TLS handshake failed: %s", s->name, buf);
                }
        }
        s->ssl_want = 0;
        return 0;
}

int osn_stream_open(const char *remote, const struct osn_ssl_opts *ssl, int64_t deadline,
                    struct osn_stream **ret, struct osn_error *err)
{
        _cleanup_(osn_stream_closep) struct osn_stream *s = NULL;
        int r = stream_new(-1, remote, &s);
        if (r < 0)
                return r;
        bool tls = startswith(remote, "ssl:");
        if (tls) {
                /* TLS files first: a config error shows whether or not the
                 * server is up. */
                r = ssl_ctx_load(s, ssl, err);
                if (r < 0)
                        return r;
        }
        if (startswith(remote, "unix:"))
                s->fd = open_unix(remote + 5, deadline, err, remote);
        else if (startswith(remote, "tcp:") || tls)
                s->fd = open_tcp(remote + 4, deadline, err, remote);
        else
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "invalid OVSDB remote \"%s\": expected unix:PATH, "
                                     "tcp:HOST:PORT or ssl:HOST:PORT",
                                     remote);
        if (s->fd < 0)
                return osn_error_set(err, s->fd, OSN_CNI_TRY_AGAIN_LATER, "%s: %s", remote,
                                     strerror(-s->fd));
        if (tls) {
                r = ssl_handshake(s, deadline, err);
                if (r < 0)
                        return osn_error_set(err, r, OSN_CNI_TRY_AGAIN_LATER, "%s: %s", remote,
                                             strerror(-r));
        }
        log_debug("connected to %s", remote);
        *ret = TAKE_PTR(s);
        return 0;
}

ssize_t osn_stream_recv(struct osn_stream *s, void *buf, size_t len)
{
        if (len > INT_MAX)
                len = INT_MAX;
        if (s->ssl) {
                errno = 0;
                int n = osn_tls->SSL_read(s->ssl, buf, (int)len);
                if (n > 0) {
                        s->ssl_want = 0;
                        return n;
                }
                return ssl_result(s, n);
        }
        for (;;) {
                ssize_t n = recv(s->fd, buf, len, 0);
                if (n > 0)
                        return n;
                if (n == 0)
                        return -ECONNRESET;
                if (errno != EINTR)
                        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        }
}

ssize_t osn_stream_send(struct osn_stream *s, const void *buf, size_t len)
{
        if (len > INT_MAX)
                len = INT_MAX;
        if (s->ssl) {
                errno = 0;
                int n = osn_tls->SSL_write(s->ssl, buf, (int)len);
                if (n > 0) {
                        s->ssl_want = 0;
                        return n;
                }
                return ssl_result(s, n);
        }
        for (;;) {
                ssize_t n = send(s->fd, buf, len, MSG_NOSIGNAL);
                if (n >= 0)
                        return n;
                if (errno != EINTR)
                        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
        }
}
