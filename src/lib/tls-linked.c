/* tls-linked: the tls.h contract for static builds (-Dstatic=true).
 *
 * A static executable has no dynamic loader of its own: dlopen() from it
 * needs the host's libc.so.6 of exactly the glibc version it was linked
 * with, and the host's libssl.so.3, which is what a self-contained plugin
 * must not depend on.  So the static build links libssl.a and libcrypto.a
 * in and fills 'osn_tls' with their addresses instead.  This costs nothing
 * at start: a static executable has no symbol relocations to process and
 * OpenSSL 3 initialises itself lazily, on the first SSL_CTX_new(); a
 * process that never opens an ssl: remote never touches those pages.
 * Same table as tls.c; it is complete from the start and loading never
 * fails.
 */
#include "tls.h"

/* Filled by the linker: there is nothing to load and nothing to race on. */
#define OSN_TLS_LINK(name) .name = name,
static const struct osn_tls_functions functions = {OSN_TLS_FUNCTIONS(OSN_TLS_LINK)};
#undef OSN_TLS_LINK
const struct osn_tls_functions *const osn_tls = &functions;

int osn_tls_load(struct osn_error *err)
{
        return 0;
}
