/* tls: OpenSSL, loaded on first use.
 *
 * Linking libssl and libcrypto into a program makes every start of it pay
 * for relocating libcrypto (about 4 ms), and the CNI plugin starts once per
 * pod attachment while almost every deployment reaches OVSDB over unix: or
 * tcp:.  So osn does not link OpenSSL: the first ssl: remote dlopen()s
 * libssl.so.3 (which brings its libcrypto.so.3) and fills 'osn_tls', a
 * table of pointers to exactly the OpenSSL functions stream.c calls.  A
 * process that never opens an ssl: remote never maps either library.
 *
 * The OpenSSL headers are used at compile time only: for types, constants,
 * and the prototypes (each pointer has the type of the function it is named
 * after, so a call through the table is checked like a direct one).  Header
 * macros that expand to function calls (SSL_CTX_set_mode(),
 * BIO_set_retry_read(), ...) must be spelled out as calls through the table
 * to the function they expand to; a direct call to OpenSSL does not link.
 * To call another OpenSSL function, add it to OSN_TLS_FUNCTIONS.
 *
 * Loading happens at most once per process, is thread-safe and is never
 * undone; a failure (OpenSSL 3 not installed) is final for the process.
 */
#ifndef OSN_TLS_H
#define OSN_TLS_H

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "error.h"
#include "util.h"

/* The OpenSSL functions osn calls, by the name each has in libssl or
 * libcrypto. */
#define OSN_TLS_FUNCTIONS(F)                                                                       \
        /* libssl */                                                                               \
        F(TLS_client_method)                                                                       \
        F(SSL_CTX_new)                                                                             \
        F(SSL_CTX_free)                                                                            \
        F(SSL_CTX_ctrl)                                                                            \
        F(SSL_CTX_set_options)                                                                     \
        F(SSL_CTX_set_verify)                                                                      \
        F(SSL_CTX_use_certificate_chain_file)                                                      \
        F(SSL_CTX_use_PrivateKey_file)                                                             \
        F(SSL_CTX_check_private_key)                                                               \
        F(SSL_CTX_load_verify_locations)                                                           \
        F(SSL_new)                                                                                 \
        F(SSL_free)                                                                                \
        F(SSL_set_bio)                                                                             \
        F(SSL_connect)                                                                             \
        F(SSL_read)                                                                                \
        F(SSL_write)                                                                               \
        F(SSL_get_error)                                                                           \
        F(SSL_get_verify_result)                                                                   \
        /* libcrypto */                                                                            \
        F(ERR_get_error)                                                                           \
        F(ERR_error_string_n)                                                                      \
        F(ERR_clear_error)                                                                         \
        F(X509_verify_cert_error_string)                                                           \
        F(BIO_get_new_index)                                                                       \
        F(BIO_meth_new)                                                                            \
        F(BIO_meth_free)                                                                           \
        F(BIO_meth_set_write)                                                                      \
        F(BIO_meth_set_read)                                                                       \
        F(BIO_meth_set_ctrl)                                                                       \
        F(BIO_new)                                                                                 \
        F(BIO_free)                                                                                \
        F(BIO_set_data)                                                                            \
        F(BIO_get_data)                                                                            \
        F(BIO_set_init)                                                                            \
        F(BIO_set_flags)                                                                           \
        F(BIO_clear_flags)

#define OSN_TLS_POINTER(name) __typeof__(name) *name;
struct osn_tls_functions {
        OSN_TLS_FUNCTIONS(OSN_TLS_POINTER)
};
#undef OSN_TLS_POINTER

/* Every pointer is NULL until osn_tls_load() has returned 0, and set from
 * then on, for the life of the process. */
extern const struct osn_tls_functions *const osn_tls;

/* Loads OpenSSL 3 and fills 'osn_tls', or does nothing when it is loaded.
 * Returns 0, or -ELIBACC / -ELIBBAD with 'err' (OSN_CNI_NOT_AVAILABLE)
 * naming the library or the function that is missing. */
int osn_tls_load(struct osn_error *err) _wur_;

#endif
