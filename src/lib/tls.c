/* tls: see tls.h. */
#include "tls.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

/* OpenSSL 3's libssl.  It depends on libcrypto.so.3, and dlsym() on its
 * handle searches its dependencies too (RTLD_LOCAL only keeps them out of
 * the global scope), so one handle finds the functions of both, and they
 * always come from the libcrypto that this libssl was built against. */
#define OSN_LIBSSL "libssl.so.3"

static struct osn_tls_functions functions;
const struct osn_tls_functions *const osn_tls = &functions;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
/* The outcome of the one attempt: 0, or negative errno and the message. */
static int load_result;
static char load_failure[256];

static void load(void)
{
        /* RTLD_NOW: a broken install fails here rather than in the middle
         * of a handshake.  RTLD_LOCAL: OpenSSL's symbols cannot interpose
         * on anything else in the process.  RTLD_NODELETE: the table, and
         * the atexit handler OpenSSL registers, must stay valid until the
         * process exits. */
        void *h = dlopen(OSN_LIBSSL, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
        if (!h) {
                snprintf(load_failure, sizeof(load_failure),
                         "TLS needs OpenSSL 3: %s; install libssl3", dlerror());
                load_result = -ELIBACC;
                return;
        }
        /* Filled aside, so that the table is either empty or complete. */
        struct osn_tls_functions f;
#define OSN_TLS_LOAD(name)                                                                         \
        f.name = (__typeof__(f.name))dlsym(h, #name);                                              \
        if (!f.name) {                                                                             \
                snprintf(load_failure, sizeof(load_failure),                                       \
                         "TLS needs OpenSSL 3: " OSN_LIBSSL " (with its libcrypto.so.3) "          \
                         "has no function " #name "; install libssl3");                            \
                load_result = -ELIBBAD;                                                            \
                dlclose(h);                                                                        \
                return;                                                                            \
        }
        OSN_TLS_FUNCTIONS(OSN_TLS_LOAD)
#undef OSN_TLS_LOAD
        functions = f;
}

int osn_tls_load(struct osn_error *err)
{
        /* pthread_once() also orders the table's writes before the reads of
         * every thread that gets here, so the table needs no lock. */
        pthread_once(&load_once, load);
        if (load_result < 0)
                return osn_error_set(err, load_result, OSN_CNI_NOT_AVAILABLE, "%s", load_failure);
        return 0;
}
