/* fuzz-cniargs: arbitrary bytes as CNI_ARGS (cni.c), and as the whole CNI
 * environment.
 *
 * The input is used twice.  First, NUL-terminated, as one CNI_ARGS string.
 * Then split at '\n' into CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS,
 * CNI_IFNAME, CNI_ARGS and CNI_PATH (missing fields are unset) and read
 * through osn_cni_env_read() with a fake getenv.
 *
 * Invariants checked (a violation traps): failures carry
 * OSN_CNI_INVALID_ENV and a one-line message; successes respect the limits
 * the struct promises (at most OSN_CNI_MAX_IPS addresses, no duplicates, a
 * unicast MAC, NUL-terminated strings, an interface name the kernel would
 * take, an absolute netns path).
 */
#include "cni.h"

#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_args(const struct osn_cni_args *a)
{
        if (a->n_ips > OSN_CNI_MAX_IPS)
                __builtin_trap();
        for (size_t i = 0; i < a->n_ips; i++) {
                if (a->ips[i].family != AF_INET && a->ips[i].family != AF_INET6)
                        __builtin_trap();
                for (size_t j = 0; j < i; j++)
                        if (osn_addr_equal(&a->ips[i], &a->ips[j]))
                                __builtin_trap();
        }
        if (a->has_mac && (a->mac[0] & 1))
                __builtin_trap();
        if (strnlen(a->pod_namespace, sizeof(a->pod_namespace)) == sizeof(a->pod_namespace) ||
            strnlen(a->pod_name, sizeof(a->pod_name)) == sizeof(a->pod_name) ||
            strnlen(a->pod_uid, sizeof(a->pod_uid)) == sizeof(a->pod_uid) ||
            strnlen(a->infra_container_id, sizeof(a->infra_container_id)) ==
                sizeof(a->infra_container_id))
                __builtin_trap();
}

static void check_error(int r, const struct osn_error *err)
{
        if (r >= 0)
                return;
        if (err->code != OSN_CNI_INVALID_ENV || !err->msg[0] || strchr(err->msg, '\n'))
                __builtin_trap();
        json_t *e = osn_cni_error_json(err, "1.0.0");
        char *s = json_dumps(e, JSON_COMPACT);
        if (!s)
                __builtin_trap();
        free(s);
        json_decref(e);
}

static const char *const env_names[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS",
                                        "CNI_IFNAME",  "CNI_ARGS",        "CNI_PATH"};
static char *env_values[ARRAY_SIZE(env_names)];

static char *fake_getenv(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(env_names); i++)
                if (streq(name, env_names[i]))
                        return env_values[i];
        return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 16384)
                return 0;
        char *s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;

        struct osn_cni_args a;
        struct osn_error err = {0};
        int r = osn_cni_args_parse(s, &a, &err);
        check_error(r, &err);
        if (r == 0)
                check_args(&a);

        /* The environment: fields separated by '\n'. */
        memset(env_values, 0, sizeof(env_values));
        char *p = s;
        for (size_t i = 0; i < ARRAY_SIZE(env_names) && p; i++) {
                env_values[i] = p;
                p = strchr(p, '\n');
                if (p)
                        *p++ = 0;
        }
        struct osn_cni_env env;
        osn_error_clear(&err);
        r = osn_cni_env_read(fake_getenv, &env, &err);
        check_error(r, &err);
        if (r == 0) {
                check_args(&env.args);
                if (env.verb == OSN_VERB_ADD || env.verb == OSN_VERB_DEL ||
                    env.verb == OSN_VERB_CHECK) {
                        size_t n = strnlen(env.ifname, sizeof(env.ifname));
                        if (n == 0 || n >= IFNAMSIZ || strpbrk(env.ifname, "/: \t\n") ||
                            !env.container_id[0])
                                __builtin_trap();
                        if ((env.netns[0] && env.netns[0] != '/') ||
                            (env.verb != OSN_VERB_DEL && !env.netns[0]))
                                __builtin_trap();
                }
        }

        /* Versions: comparison is antisymmetric on any pair of strings. */
        const char *v1 = env_values[0] ? env_values[0] : "",
                   *v2 = env_values[1] ? env_values[1] : "";
        if (osn_cni_version_cmp(v1, v2) != -osn_cni_version_cmp(v2, v1))
                __builtin_trap();
        enum osn_cni_verb verb;
        if (osn_cni_verb_parse(v1, &verb) == 0)
                (void)osn_cni_version_check(v2, verb, NULL);
        json_decref(osn_cni_version_json(v2));

        free(s);
        return 0;
}
