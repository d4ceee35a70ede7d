/* cni: see cni.h.
 *
 * Everything here follows the CNI spec (SPEC.md, 0.1.0 .. 1.1.0) and its
 * CONVENTIONS.md; where the spec leaves room, the choice is written next to
 * the code.  Messages name the variable (or key) and quote the value with
 * non-printable bytes escaped, because the runtime shows them to a human.
 */
#include "cni.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <sys/socket.h>

const char *const osn_cni_versions[] = {
    "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0", NULL,
};

/* Renders 's' for a message into buf[len]: in double quotes, printable
 * ASCII as is, '"' and '\\' escaped, every other byte as \xNN; cut with
 * "..." when it does not fit, so that a hostile value cannot fill the
 * message. */
static const char *quote(const char *s, char *buf, size_t len)
{
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;
        if (len < 8) {
                if (len > 0)
                        buf[0] = 0;
                return buf;
        }
        buf[o++] = '"';
        for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
                if (o + 4 + 5 > len) {
                        memcpy(buf + o, "...", 3);
                        o += 3;
                        break;
                }
                if (*p == '"' || *p == '\\') {
                        buf[o++] = '\\';
                        buf[o++] = (char)*p;
                } else if (*p >= 0x20 && *p < 0x7f) {
                        buf[o++] = (char)*p;
                } else {
                        buf[o++] = '\\';
                        buf[o++] = 'x';
                        buf[o++] = hex[*p >> 4];
                        buf[o++] = hex[*p & 0xf];
                }
        }
        buf[o++] = '"';
        buf[o] = 0;
        return buf;
}

#define QUOTE_MAX 100
#define Q(s)      quote((s), (char[QUOTE_MAX]){0}, QUOTE_MAX)

/* ---- verbs ------------------------------------------------------------ */

/* What each verb needs from the environment (SPEC.md section 2, "Required
 * environment parameters").  GC and STATUS carry no attachment parameters;
 * CNI_PATH, which the spec lists as required for GC, is not enforced: osn
 * never executes another plugin, so refusing to clean up over a variable it
 * never reads would help nobody. */
static const struct verb_info {
        const char *name;
        enum osn_cni_verb verb;
        bool attachment;   /* reads CNI_CONTAINERID, CNI_IFNAME, CNI_ARGS */
        bool netns_needed; /* CNI_NETNS required (else optional) */
} verbs[] = {
    {"ADD", OSN_VERB_ADD, true, true},         {"DEL", OSN_VERB_DEL, true, false},
    {"CHECK", OSN_VERB_CHECK, true, true},     {"VERSION", OSN_VERB_VERSION, false, false},
    {"STATUS", OSN_VERB_STATUS, false, false}, {"GC", OSN_VERB_GC, false, false},
};

static const struct verb_info *verb_info(enum osn_cni_verb v)
{
        for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
                if (verbs[i].verb == v)
                        return &verbs[i];
        return NULL;
}

const char *osn_cni_verb_name(enum osn_cni_verb v)
{
        const struct verb_info *vi = verb_info(v);
        return vi ? vi->name : "UNKNOWN";
}

int osn_cni_verb_parse(const char *s, enum osn_cni_verb *ret)
{
        for (size_t i = 0; s && i < ARRAY_SIZE(verbs); i++)
                if (streq(s, verbs[i].name)) {
                        *ret = verbs[i].verb;
                        return 0;
                }
        return -EINVAL;
}

/* ---- environment ------------------------------------------------------ */

/* SPEC.md: "Must start with an alphanumeric character, optionally followed
 * by any combination of one or more alphanumeric characters, underscore (_),
 * dot (.) or hyphen (-)." */
static bool container_id_valid(const char *s)
{
        if (!s || !isalnum((unsigned char)s[0]))
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char)*p) && *p != '_' && *p != '.' && *p != '-')
                        return false;
        return true;
}

static int check_container_id(const char *var, const char *s, int code, struct osn_error *err)
{
        if (!s || !*s)
                return osn_error_set(err, -EINVAL, code, "%s is missing or empty", var);
        if (strlen(s) >= sizeof(((struct osn_cni_env *)0)->container_id))
                return osn_error_set(
                    err, -EINVAL, code, "%s: %s is too long (%zu bytes, at most %zu)", var, Q(s),
                    strlen(s), sizeof(((struct osn_cni_env *)0)->container_id) - 1);
        if (!container_id_valid(s))
                return osn_error_set(err, -EINVAL, code,
                                     "%s: %s is not a valid container ID (it must start with a "
                                     "letter or digit, followed by letters, digits, '_', '.' or "
                                     "'-')",
                                     var, Q(s));
        return 0;
}

bool osn_utf8_valid(const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *)s;
        for (size_t i = 0; i < n;) {
                unsigned char c = p[i];
                size_t len;
                uint32_t cp;
                if (c < 0x80) {
                        i++;
                        continue;
                } else if ((c & 0xe0) == 0xc0) {
                        len = 2;
                        cp = c & 0x1f;
                } else if ((c & 0xf0) == 0xe0) {
                        len = 3;
                        cp = c & 0x0f;
                } else if ((c & 0xf8) == 0xf0) {
                        len = 4;
                        cp = c & 0x07;
                } else {
                        return false;
                }
                if (n - i < len)
                        return false;
                for (size_t k = 1; k < len; k++) {
                        if ((p[i + k] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (p[i + k] & 0x3f);
                }
                /* Overlong forms, UTF-16 surrogates and beyond U+10FFFF. */
                static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
                if (cp < min[len] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                        return false;
                i += len;
        }
        return true;
}

const char *osn_mac_problem(const char *s)
{
        uint8_t m[6];
        if (osn_mac_parse(s, m) == 0)
                return NULL;
        /* osn_mac_parse() refuses multicast and all-zero addresses too: say
         * which, since a well-formed address looks right to the reader. */
        unsigned b[6];
        char tail;
        if (strlen(s) == 17 && sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
                                      &b[4], &b[5], &tail) == 6) {
                if (b[0] & 1)
                        return "is a multicast MAC address (the lowest bit of its first byte is "
                               "set); an interface needs a unicast one, e.g. 0a:58:0a:0a:0a:05";
                return "is the all-zero MAC address, which no interface can have";
        }
        return "is not a MAC address (expected six ':'-separated hex bytes, e.g. "
               "0a:58:0a:0a:0a:05)";
}

/* The kernel's rule (dev_valid_name()), which the spec repeats. */
static int check_ifname(const char *var, const char *s, int code, struct osn_error *err)
{
        if (!s || !*s)
                return osn_error_set(err, -EINVAL, code, "%s is missing or empty", var);
        size_t n = strlen(s);
        if (n >= IFNAMSIZ)
                return osn_error_set(err, -EINVAL, code,
                                     "%s: %s is too long for an interface name (%zu bytes, at "
                                     "most %d)",
                                     var, Q(s), n, IFNAMSIZ - 1);
        if (streq(s, ".") || streq(s, ".."))
                return osn_error_set(err, -EINVAL, code, "%s: %s is not a valid interface name",
                                     var, Q(s));
        for (const char *p = s; *p; p++)
                if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
                        return osn_error_set(err, -EINVAL, code,
                                             "%s: %s is not a valid interface name (no '/', ':' "
                                             "or whitespace allowed)",
                                             var, Q(s));
        return 0;
}

static int check_netns(const char *s, struct osn_error *err)
{
        if (s[0] != '/')
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV,
                                     "CNI_NETNS: %s is not an absolute path", Q(s));
        if (strlen(s) >= PATH_MAX)
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV,
                                     "CNI_NETNS: path is too long (%zu bytes)", strlen(s));
        return 0;
}

/* DEL of an attachment that no ADD can have made: records why in
 * ret->nothing_to_delete and succeeds. */
static int gone(struct osn_cni_env *ret, const char *var, const char *value)
{
        snprintf(ret->nothing_to_delete, sizeof(ret->nothing_to_delete),
                 "%s %.64s is not valid UTF-8: no attachment can exist", var, Q(value));
        return 0;
}

int osn_cni_env_read(char *(*getenv_fn)(const char *), struct osn_cni_env *ret,
                     struct osn_error *err)
{
        int r;
        memset(ret, 0, sizeof(*ret));

        const char *cmd = getenv_fn("CNI_COMMAND");
        if (!cmd || !*cmd)
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV,
                                     "CNI_COMMAND is missing or empty (expected ADD, DEL, CHECK, "
                                     "VERSION, STATUS or GC)");
        if (osn_cni_verb_parse(cmd, &ret->verb) < 0)
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV,
                                     "CNI_COMMAND: %s is not a CNI command (expected ADD, DEL, "
                                     "CHECK, VERSION, STATUS or GC)",
                                     Q(cmd));
        const struct verb_info *vi = verb_info(ret->verb);

        const char *path = getenv_fn("CNI_PATH");
        if (path) {
                if (strlen(path) >= sizeof(ret->path))
                        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV,
                                             "CNI_PATH is too long (%zu bytes)", strlen(path));
                strcpy(ret->path, path);
        }

        if (!vi->attachment)
                return 0;

        const char *cid = getenv_fn("CNI_CONTAINERID");
        r = check_container_id("CNI_CONTAINERID", cid, OSN_CNI_INVALID_ENV, err);
        if (r < 0)
                return r;
        strcpy(ret->container_id, cid);

        const char *netns = getenv_fn("CNI_NETNS");
        if (netns && *netns) {
                r = check_netns(netns, err);
                if (r < 0)
                        return r;
                strcpy(ret->netns, netns);
        } else if (vi->netns_needed) {
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV,
                                     "CNI_NETNS is missing or empty (%s needs the container's "
                                     "network namespace)",
                                     vi->name);
        }

        const char *ifname = getenv_fn("CNI_IFNAME");
        r = check_ifname("CNI_IFNAME", ifname, OSN_CNI_INVALID_ENV, err);
        if (r < 0)
                return r;
        if (!osn_utf8_valid(ifname, strlen(ifname))) {
                /* No attachment of osn's can carry such a name: every name
                 * it stores went through this check, and OVSDB holds only
                 * UTF-8.  A DEL of it has nothing to do. */
                if (ret->verb == OSN_VERB_DEL)
                        return gone(ret, "CNI_IFNAME", ifname);
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV,
                                     "CNI_IFNAME: %s is not valid UTF-8", Q(ifname));
        }
        strcpy(ret->ifname, ifname);

        const char *args = getenv_fn("CNI_ARGS");
        if (!args)
                return 0;
        r = osn_cni_args_parse(args, &ret->args, err);
        if (r < 0 && ret->verb == OSN_VERB_DEL && ret->args.bad_utf8[0]) {
                osn_error_clear(err);
                return gone(ret, "CNI_ARGS", ret->args.bad_utf8);
        }
        return r;
}

/* ---- CNI_ARGS --------------------------------------------------------- */

static int args_copy(const char *key, const char *val, size_t vlen, char *dst, size_t dstlen,
                     char *bad_utf8, struct osn_error *err)
{
        if (vlen >= dstlen) {
                char v[64];
                snprintf(v, sizeof(v), "%.*s", (int)(vlen < 40 ? vlen : 40), val);
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV,
                                     "CNI_ARGS: %s=%s... is too long (%zu bytes, at most %zu)", key,
                                     Q(v), vlen, dstlen - 1);
        }
        if (!osn_utf8_valid(val, vlen)) {
                char v[256];
                snprintf(v, sizeof(v), "%.*s", (int)(vlen < 200 ? vlen : 200), val);
                /* Only a marker for DEL and its log line: cut on purpose. */
                snprintf(bad_utf8, OSN_CNI_BAD_UTF8_MAX, "%.31s=%.64s", key, v);
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV,
                                     "CNI_ARGS: %s=%s is not valid UTF-8", key, Q(v));
        }
        for (size_t i = 0; i < vlen; i++)
                if ((unsigned char)val[i] < 0x21 || val[i] == 0x7f) {
                        char v[256];
                        snprintf(v, sizeof(v), "%.*s", (int)vlen, val);
                        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV,
                                             "CNI_ARGS: %s=%s contains whitespace or a control "
                                             "character",
                                             key, Q(v));
                }
        memcpy(dst, val, vlen);
        dst[vlen] = 0;
        return 0;
}

/* IP=: one or more comma-separated addresses, each with or without a prefix
 * (CONVENTIONS.md "IP=<ip>[/<prefix>]"; Multus passes its "ips" this way).
 * A bare address gets prefixlen 0, so "/0" itself is refused. */
static int args_ips(const char *val, size_t vlen, struct osn_cni_args *a, struct osn_error *err)
{
        char buf[1024];
        if (vlen >= sizeof(buf))
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV,
                                     "CNI_ARGS: IP= is too long (%zu bytes)", vlen);
        memcpy(buf, val, vlen);
        buf[vlen] = 0;

        a->n_ips = 0; /* a later IP= replaces an earlier one */
        if (vlen == 0)
                return 0;

        size_t item = 0;
        for (char *tok = buf, *next; tok; tok = next) {
                char *comma = strchr(tok, ',');
                next = comma ? comma + 1 : NULL;
                if (comma)
                        *comma = 0;
                item++;

                while (*tok == ' ')
                        tok++;
                size_t tl = strlen(tok);
                while (tl > 0 && tok[tl - 1] == ' ')
                        tok[--tl] = 0;
                if (tl == 0)
                        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV,
                                             "CNI_ARGS: IP=%s: item %zu is empty", Q(val), item);
                if (a->n_ips >= OSN_CNI_MAX_IPS)
                        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV,
                                             "CNI_ARGS: IP= carries more than %d addresses",
                                             OSN_CNI_MAX_IPS);

                struct osn_cidr c;
                if (osn_cidr_parse(tok, false, &c) < 0)
                        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV,
                                             "CNI_ARGS: IP=%s is not an IP address (with an "
                                             "optional /prefix)",
                                             Q(tok));
                if (!strchr(tok, '/'))
                        c.prefixlen = 0;
                else if (c.prefixlen == 0)
                        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV,
                                             "CNI_ARGS: IP=%s: a /0 prefix cannot describe an "
                                             "interface address",
                                             Q(tok));
                for (size_t i = 0; i < a->n_ips; i++)
                        if (osn_addr_equal(&a->ips[i], &c))
                                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV,
                                                     "CNI_ARGS: IP= lists %s twice", Q(tok));
                a->ips[a->n_ips++] = c;
        }
        return 0;
}

static int args_mac(const char *val, size_t vlen, struct osn_cni_args *a, struct osn_error *err)
{
        char buf[64];
        snprintf(buf, sizeof(buf), "%.*s", (int)(vlen < 60 ? vlen : 60), val);
        a->has_mac = false;
        if (vlen == 0)
                return 0;
        if (vlen >= OSN_MAC_STRLEN || osn_mac_parse(buf, a->mac) < 0)
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV, "CNI_ARGS: MAC=%s %s",
                                     Q(buf), osn_mac_problem(buf));
        a->has_mac = true;
        return 0;
}

int osn_cni_args_parse(const char *s, struct osn_cni_args *ret, struct osn_error *err)
{
        memset(ret, 0, sizeof(*ret));
        if (!s)
                return 0;

        /* Items are "KEY=VALUE" separated by ';'.  Multus and the kubelet
         * send IgnoreUnknown=1 plus the K8S_* keys; other runtimes send other
         * keys.  As cni.h promises: unknown keys are ignored whatever
         * IgnoreUnknown says, empty items are skipped, a value is everything
         * after the first '=' and the last of duplicate keys wins.  An item
         * without '=' or with an empty key is malformed and refused, as
         * libcni does. */
        const char *p = s;
        while (*p) {
                const char *end = strchr(p, ';');
                size_t len = end ? (size_t)(end - p) : strlen(p);
                const char *item = p;
                p = end ? end + 1 : p + len;

                /* Skip items that are empty or only blanks. */
                size_t b = 0;
                while (b < len && (item[b] == ' ' || item[b] == '\t'))
                        b++;
                if (b == len)
                        continue;

                const char *eq = memchr(item, '=', len);
                char shown[128];
                snprintf(shown, sizeof(shown), "%.*s", (int)(len < 100 ? len : 100), item);
                if (!eq)
                        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV,
                                             "CNI_ARGS: item %s is not KEY=VALUE", Q(shown));
                size_t klen = (size_t)(eq - item);
                if (klen == 0)
                        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV,
                                             "CNI_ARGS: item %s has an empty key", Q(shown));
                const char *val = eq + 1;
                size_t vlen = len - klen - 1;
                char key[32];
                if (klen >= sizeof(key))
                        continue; /* longer than any key we know */
                memcpy(key, item, klen);
                key[klen] = 0;

                int r = 0;
                char *bad = ret->bad_utf8;
                if (streq(key, "K8S_POD_NAMESPACE"))
                        r = args_copy(key, val, vlen, ret->pod_namespace,
                                      sizeof(ret->pod_namespace), bad, err);
                else if (streq(key, "K8S_POD_NAME"))
                        r = args_copy(key, val, vlen, ret->pod_name, sizeof(ret->pod_name), bad,
                                      err);
                else if (streq(key, "K8S_POD_UID"))
                        r = args_copy(key, val, vlen, ret->pod_uid, sizeof(ret->pod_uid), bad, err);
                else if (streq(key, "K8S_POD_INFRA_CONTAINER_ID"))
                        r = args_copy(key, val, vlen, ret->infra_container_id,
                                      sizeof(ret->infra_container_id), bad, err);
                else if (streq(key, "IP"))
                        r = args_ips(val, vlen, ret, err);
                else if (streq(key, "MAC"))
                        r = args_mac(val, vlen, ret, err);
                /* IgnoreUnknown and every other key: nothing to do. */
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- versions --------------------------------------------------------- */

bool osn_cni_version_supported(const char *v)
{
        for (size_t i = 0; v && osn_cni_versions[i]; i++)
                if (streq(v, osn_cni_versions[i]))
                        return true;
        return false;
}

/* "MAJOR.MINOR.PATCH", each a decimal number without sign; -EINVAL else. */
static int version_split(const char *v, unsigned long out[3])
{
        if (!v)
                return -EINVAL;
        const char *p = v;
        for (int i = 0; i < 3; i++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                unsigned long n = 0;
                while (*p >= '0' && *p <= '9') {
                        if (n > 100000000UL)
                                return -EINVAL;
                        n = n * 10 + (unsigned long)(*p++ - '0');
                }
                out[i] = n;
                if (i < 2 && *p++ != '.')
                        return -EINVAL;
        }
        return *p == 0 ? 0 : -EINVAL;
}

int osn_cni_version_cmp(const char *a, const char *b)
{
        unsigned long va[3], vb[3];
        bool pa = version_split(a, va) == 0, pb = version_split(b, vb) == 0;
        if (!pa || !pb) {
                if (pa != pb)
                        return pa ? 1 : -1;
                /* Two unparsable strings: a stable order, NULL first. */
                if (!a || !b)
                        return a ? 1 : b ? -1 : 0;
                int c = strcmp(a, b);
                return c < 0 ? -1 : c > 0;
        }
        for (int i = 0; i < 3; i++)
                if (va[i] != vb[i])
                        return va[i] < vb[i] ? -1 : 1;
        return 0;
}

static void versions_list(char *buf, size_t len)
{
        size_t o = 0;
        buf[0] = 0;
        for (size_t i = 0; osn_cni_versions[i] && o < len; i++) {
                int n = snprintf(buf + o, len - o, "%s%s", i ? ", " : "", osn_cni_versions[i]);
                if (n < 0)
                        break;
                o += (size_t)n;
        }
}

int osn_cni_version_check(const char *v, enum osn_cni_verb verb, struct osn_error *err)
{
        char list[128];
        versions_list(list, sizeof(list));
        if (!osn_cni_version_supported(v))
                return osn_error_set(err, -EPROTONOSUPPORT, OSN_CNI_INCOMPATIBLE_VERSION,
                                     "cniVersion %s is not supported (supported: %s)", Q(v), list);

        const char *min = NULL;
        if (verb == OSN_VERB_CHECK)
                min = "0.4.0";
        else if (verb == OSN_VERB_STATUS || verb == OSN_VERB_GC)
                min = "1.1.0";
        if (min && osn_cni_version_cmp(v, min) < 0)
                return osn_error_set(err, -EPROTONOSUPPORT, OSN_CNI_INCOMPATIBLE_VERSION,
                                     "%s needs cniVersion %s or later, got %s",
                                     osn_cni_verb_name(verb), min, Q(v));
        return 0;
}

json_t *osn_cni_version_json(const char *cni_version)
{
        /* SPEC.md: "cniVersion: the value of cniVersion specified on input".
         * An input we do not support (or none) is answered with the latest
         * version, so that the answer is always one we can speak; the
         * runtime picks from supportedVersions anyway. */
        const char *v =
            osn_cni_version_supported(cni_version) ? cni_version : OSN_CNI_LATEST_VERSION;
        json_t *list = json_array();
        for (size_t i = 0; osn_cni_versions[i]; i++)
                json_array_append_new(list, json_string(osn_cni_versions[i]));
        return json_pack("{s:s, s:o}", "cniVersion", v, "supportedVersions", list);
}

/* ---- results ---------------------------------------------------------- */

enum result_shape { SHAPE_LEGACY, SHAPE_03, SHAPE_10, SHAPE_11 };

static int result_shape(const char *v, enum result_shape *ret)
{
        if (!osn_cni_version_supported(v))
                return -EINVAL;
        if (osn_cni_version_cmp(v, "0.3.0") < 0)
                *ret = SHAPE_LEGACY;
        else if (osn_cni_version_cmp(v, "1.0.0") < 0)
                *ret = SHAPE_03;
        else if (osn_cni_version_cmp(v, "1.1.0") < 0)
                *ret = SHAPE_10;
        else
                *ret = SHAPE_11;
        return 0;
}

/* The result's routes of 'family' (AF_UNSPEC: all) as CNI writes them,
 * [{"dst", "gw"}]; NULL when there are none. */
static json_t *routes_json(const struct osn_cni_result *res, int family)
{
        json_t *v = NULL;
        for (size_t i = 0; i < res->n_routes && i < OSN_CNI_MAX_ROUTES; i++) {
                const struct osn_cni_route *rt = &res->routes[i];
                char d[OSN_CIDR_STRLEN], g[OSN_CIDR_STRLEN];
                if (family != AF_UNSPEC && rt->dst.family != family)
                        continue;
                if (!v && !(v = json_array()))
                        return NULL;
                json_array_append_new(v, json_pack("{s:s, s:s}", "dst",
                                                   osn_cidr_format(&rt->dst, d, sizeof(d)), "gw",
                                                   osn_addr_format(&rt->gw, g, sizeof(g))));
        }
        return v;
}

static json_t *legacy_ip(const struct osn_cni_result *res, const struct osn_cni_ip *ip)
{
        char a[OSN_CIDR_STRLEN], g[OSN_CIDR_STRLEN];
        json_t *o = json_pack("{s:s}", "ip", osn_cidr_format(&ip->address, a, sizeof(a)));
        if (o && ip->has_gateway)
                json_object_set_new(o, "gateway",
                                    json_string(osn_addr_format(&ip->gateway, g, sizeof(g))));
        json_t *routes = o ? routes_json(res, ip->address.family) : NULL;
        if (routes)
                json_object_set_new(o, "routes", routes);
        return o;
}

json_t *osn_cni_result_json(const struct osn_cni_result *res, const char *cni_version)
{
        enum result_shape shape;
        if (result_shape(cni_version, &shape) < 0)
                return NULL;

        _cleanup_json_ json_t *o = json_pack("{s:s}", "cniVersion", cni_version);
        if (!o)
                return NULL;

        if (shape == SHAPE_LEGACY) {
                /* 0.1.0/0.2.0 carry one address per family and no interfaces:
                 * the first of each family wins, the rest are dropped. */
                const struct osn_cni_ip *v4 = NULL, *v6 = NULL;
                for (size_t i = 0; i < res->n_ips && i < OSN_CNI_MAX_IPS; i++) {
                        const struct osn_cni_ip *ip = &res->ips[i];
                        if (ip->address.family == AF_INET && !v4)
                                v4 = ip;
                        else if (ip->address.family == AF_INET6 && !v6)
                                v6 = ip;
                }
                if (v4)
                        json_object_set_new(o, "ip4", legacy_ip(res, v4));
                if (v6)
                        json_object_set_new(o, "ip6", legacy_ip(res, v6));
                json_object_set_new(o, "dns", json_object());
                return TAKE_PTR(o);
        }

        json_t *ifaces = json_array();
        for (size_t i = 0; i < res->n_ifaces && i < ARRAY_SIZE(res->ifaces); i++) {
                const struct osn_cni_iface *f = &res->ifaces[i];
                json_t *jf = json_pack("{s:s}", "name", f->name);
                if (!jf)
                        continue;
                if (f->mac[0])
                        json_object_set_new(jf, "mac", json_string(f->mac));
                if (shape == SHAPE_11 && f->mtu > 0)
                        json_object_set_new(jf, "mtu", json_integer(f->mtu));
                if (f->sandbox[0])
                        json_object_set_new(jf, "sandbox", json_string(f->sandbox));
                json_array_append_new(ifaces, jf);
        }
        json_object_set_new(o, "interfaces", ifaces);

        json_t *ips = json_array();
        for (size_t i = 0; i < res->n_ips && i < OSN_CNI_MAX_IPS; i++) {
                const struct osn_cni_ip *ip = &res->ips[i];
                char a[OSN_CIDR_STRLEN], g[OSN_CIDR_STRLEN];
                json_t *ji = json_object();
                if (shape == SHAPE_03)
                        json_object_set_new(
                            ji, "version", json_string(ip->address.family == AF_INET6 ? "6" : "4"));
                json_object_set_new(ji, "address",
                                    json_string(osn_cidr_format(&ip->address, a, sizeof(a))));
                if (ip->has_gateway)
                        json_object_set_new(
                            ji, "gateway",
                            json_string(osn_addr_format(&ip->gateway, g, sizeof(g))));
                if (ip->iface >= 0)
                        json_object_set_new(ji, "interface", json_integer(ip->iface));
                json_array_append_new(ips, ji);
        }
        json_object_set_new(o, "ips", ips);
        json_t *routes = routes_json(res, AF_UNSPEC);
        if (routes)
                json_object_set_new(o, "routes", routes);
        json_object_set_new(o, "dns", json_object());
        return TAKE_PTR(o);
}

/* ---- result parsing (prevResult) -------------------------------------- */

#define PR_FAIL(err, ...)                                                                          \
        osn_error_set((err), -EINVAL, OSN_CNI_INVALID_CONFIG, "prevResult: " __VA_ARGS__)

static int parse_address(const json_t *v, const char *what, bool need_prefix, struct osn_cidr *ret,
                         struct osn_error *err)
{
        if (!json_is_string(v))
                return PR_FAIL(err, "%s must be a string", what);
        if (osn_cidr_parse(json_string_value(v), need_prefix, ret) < 0)
                return PR_FAIL(err, "%s: %s is not %s", what, Q(json_string_value(v)),
                               need_prefix ? "an address with a /prefix" : "an IP address");
        return 0;
}

static int parse_legacy_ip(const json_t *o, const char *key, int family, struct osn_cni_result *ret,
                           struct osn_error *err)
{
        if (!json_is_object(o))
                return PR_FAIL(err, "\"%s\" must be an object", key);
        char what[32];
        snprintf(what, sizeof(what), "%s.ip", key);
        struct osn_cni_ip *ip = &ret->ips[ret->n_ips];
        memset(ip, 0, sizeof(*ip));
        ip->iface = -1;
        int r = parse_address(json_object_get(o, "ip"), what, true, &ip->address, err);
        if (r < 0)
                return r;
        if (ip->address.family != family)
                return PR_FAIL(err, "%s is not an IPv%c address", what, key[2]);
        const json_t *gw = json_object_get(o, "gateway");
        if (gw && !json_is_null(gw)) {
                snprintf(what, sizeof(what), "%s.gateway", key);
                r = parse_address(gw, what, false, &ip->gateway, err);
                if (r < 0)
                        return r;
                ip->has_gateway = true;
        }
        ret->n_ips++;
        return 0;
}

static int parse_iface(const json_t *o, size_t idx, struct osn_cni_iface *f, struct osn_error *err)
{
        if (!json_is_object(o))
                return PR_FAIL(err, "interfaces[%zu] must be an object", idx);
        const json_t *name = json_object_get(o, "name");
        if (!json_is_string(name) || json_string_length(name) == 0 ||
            json_string_length(name) >= sizeof(f->name) ||
            strlen(json_string_value(name)) != json_string_length(name))
                return PR_FAIL(err, "interfaces[%zu].name must be an interface name (1-%zu bytes)",
                               idx, sizeof(f->name) - 1);
        strcpy(f->name, json_string_value(name));

        const json_t *mac = json_object_get(o, "mac");
        if (mac && !json_is_null(mac)) {
                uint8_t m[6];
                if (!json_is_string(mac))
                        return PR_FAIL(err, "interfaces[%zu].mac must be a string", idx);
                if (json_string_length(mac) > 0) {
                        if (osn_mac_parse(json_string_value(mac), m) < 0)
                                return PR_FAIL(err, "interfaces[%zu].mac: %s %s", idx,
                                               Q(json_string_value(mac)),
                                               osn_mac_problem(json_string_value(mac)));
                        osn_mac_format(m, f->mac, sizeof(f->mac));
                }
        }

        const json_t *mtu = json_object_get(o, "mtu");
        if (mtu && !json_is_null(mtu)) {
                if (!json_is_integer(mtu) || json_integer_value(mtu) < 0 ||
                    json_integer_value(mtu) > 65535)
                        return PR_FAIL(err, "interfaces[%zu].mtu must be an integer 0..65535", idx);
                f->mtu = (unsigned)json_integer_value(mtu);
        }

        const json_t *sb = json_object_get(o, "sandbox");
        if (sb && !json_is_null(sb)) {
                if (!json_is_string(sb) || json_string_length(sb) >= sizeof(f->sandbox) ||
                    strlen(json_string_value(sb)) != json_string_length(sb))
                        return PR_FAIL(err, "interfaces[%zu].sandbox must be a path string", idx);
                strcpy(f->sandbox, json_string_value(sb));
        }
        return 0;
}

static int parse_ip(const json_t *o, size_t idx, size_t n_ifaces, struct osn_cni_ip *ip,
                    struct osn_error *err)
{
        char what[40];
        if (!json_is_object(o))
                return PR_FAIL(err, "ips[%zu] must be an object", idx);
        memset(ip, 0, sizeof(*ip));
        ip->iface = -1;

        snprintf(what, sizeof(what), "ips[%zu].address", idx);
        int r = parse_address(json_object_get(o, "address"), what, true, &ip->address, err);
        if (r < 0)
                return r;

        const json_t *ver = json_object_get(o, "version");
        if (ver && !json_is_null(ver)) {
                const char *want = ip->address.family == AF_INET ? "4" : "6";
                if (!json_is_string(ver) || !streq(json_string_value(ver), want))
                        return PR_FAIL(err, "ips[%zu].version must be \"%s\" for that address", idx,
                                       want);
        }

        const json_t *gw = json_object_get(o, "gateway");
        if (gw && !json_is_null(gw)) {
                snprintf(what, sizeof(what), "ips[%zu].gateway", idx);
                r = parse_address(gw, what, false, &ip->gateway, err);
                if (r < 0)
                        return r;
                if (ip->gateway.family != ip->address.family)
                        return PR_FAIL(err, "%s is not of the address's family", what);
                ip->has_gateway = true;
        }

        const json_t *ifi = json_object_get(o, "interface");
        if (ifi && !json_is_null(ifi)) {
                if (json_is_integer(ifi) && n_ifaces == 0)
                        return PR_FAIL(err,
                                       "ips[%zu].interface is %" JSON_INTEGER_FORMAT
                                       ", but there are no interfaces",
                                       idx, json_integer_value(ifi));
                if (!json_is_integer(ifi) || json_integer_value(ifi) < 0 ||
                    (size_t)json_integer_value(ifi) >= n_ifaces)
                        return PR_FAIL(err, "ips[%zu].interface must index \"interfaces\" (0..%zu)",
                                       idx, n_ifaces - 1);
                ip->iface = (int)json_integer_value(ifi);
        }
        return 0;
}

int osn_cni_result_parse(const json_t *j, struct osn_cni_result *ret, struct osn_error *err)
{
        int r;
        memset(ret, 0, sizeof(*ret));
        if (!json_is_object(j))
                return PR_FAIL(err, "must be a JSON object");

        const json_t *ver = json_object_get(j, "cniVersion");
        if (ver && !json_is_string(ver))
                return PR_FAIL(err, "\"cniVersion\" must be a string");

        /* The shape is told by the keys rather than by cniVersion: a runtime
         * may hand a cached result of an older version to a newer config. */
        const json_t *ip4 = json_object_get(j, "ip4"), *ip6 = json_object_get(j, "ip6");
        if ((ip4 && !json_is_null(ip4)) || (ip6 && !json_is_null(ip6))) {
                if (ip4 && !json_is_null(ip4)) {
                        r = parse_legacy_ip(ip4, "ip4", AF_INET, ret, err);
                        if (r < 0)
                                return r;
                }
                if (ip6 && !json_is_null(ip6)) {
                        r = parse_legacy_ip(ip6, "ip6", AF_INET6, ret, err);
                        if (r < 0)
                                return r;
                }
                return 0;
        }

        const json_t *ifaces = json_object_get(j, "interfaces");
        if (ifaces && !json_is_null(ifaces)) {
                if (!json_is_array(ifaces))
                        return PR_FAIL(err, "\"interfaces\" must be an array");
                if (json_array_size(ifaces) > ARRAY_SIZE(ret->ifaces))
                        return PR_FAIL(err, "has %zu interfaces; osn creates at most %zu",
                                       json_array_size(ifaces), ARRAY_SIZE(ret->ifaces));
                for (size_t i = 0; i < json_array_size(ifaces); i++) {
                        r = parse_iface(json_array_get(ifaces, i), i, &ret->ifaces[i], err);
                        if (r < 0)
                                return r;
                        ret->n_ifaces++;
                }
        }

        const json_t *ips = json_object_get(j, "ips");
        if (ips && !json_is_null(ips)) {
                if (!json_is_array(ips))
                        return PR_FAIL(err, "\"ips\" must be an array");
                if (json_array_size(ips) > OSN_CNI_MAX_IPS)
                        return PR_FAIL(err, "has %zu addresses; at most %d are supported",
                                       json_array_size(ips), OSN_CNI_MAX_IPS);
                for (size_t i = 0; i < json_array_size(ips); i++) {
                        r = parse_ip(json_array_get(ips, i), i, ret->n_ifaces, &ret->ips[i], err);
                        if (r < 0)
                                return r;
                        ret->n_ips++;
                }
        }
        return 0;
}

/* ---- errors and output ------------------------------------------------ */

/* Length of the valid UTF-8 sequence at 's' (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0 when it is not one. */
static size_t utf8_seq(const unsigned char *s)
{
        if (s[0] < 0x80)
                return 1;
        size_t n;
        uint32_t c;
        if ((s[0] & 0xe0) == 0xc0)
                n = 2, c = s[0] & 0x1f;
        else if ((s[0] & 0xf0) == 0xe0)
                n = 3, c = s[0] & 0x0f;
        else if ((s[0] & 0xf8) == 0xf0)
                n = 4, c = s[0] & 0x07;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (s[i] & 0x3f);
        }
        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        return n;
}

/* A JSON string of 's' with every byte that is not valid UTF-8 replaced by
 * '?': messages are cut to a fixed size and may end inside a character, and
 * json_string() refuses such input outright. */
static json_t *json_string_lossy(const char *s)
{
        size_t len = strlen(s);
        _cleanup_free_ char *c = malloc(len + 1);
        if (!c)
                return NULL;
        size_t o = 0;
        for (size_t i = 0; i < len;) {
                size_t n = utf8_seq((const unsigned char *)s + i);
                if (n == 0) {
                        c[o++] = '?';
                        i++;
                        continue;
                }
                memcpy(c + o, s + i, n);
                o += n;
                i += n;
        }
        c[o] = 0;
        return json_string(c);
}

json_t *osn_cni_error_json(const struct osn_error *err, const char *cni_version)
{
        const char *v =
            osn_cni_version_supported(cni_version) ? cni_version : OSN_CNI_LATEST_VERSION;
        bool set = osn_error_isset(err);
        json_t *o = json_pack(
            "{s:s, s:i, s:o*}", "cniVersion", v, "code", set ? err->code : OSN_CNI_IO_FAILURE,
            "msg", json_string_lossy(set ? err->msg : "failed without a message (a bug in osn)"));
        if (o && set && err->details[0])
                json_object_set_new(o, "details", json_string_lossy(err->details));
        return o;
}

int osn_cni_print(json_t *j)
{
        if (!j)
                return -EINVAL;
        char *s = json_dumps(j, JSON_INDENT(4));
        json_decref(j);
        if (!s)
                return -ENOMEM;

        size_t len = strlen(s);
        _cleanup_free_ char *doc = realloc(s, len + 2);
        if (!doc) {
                free(s);
                return -ENOMEM;
        }
        doc[len++] = '\n';
        doc[len] = 0;

        /* One document, written whole: retry short writes and EINTR. */
        size_t off = 0;
        while (off < len) {
                ssize_t n = write(STDOUT_FILENO, doc + off, len - off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                off += (size_t)n;
        }
        return 0;
}

/* ---- GC --------------------------------------------------------------- */

int osn_cni_valid_attachments_parse(const json_t *conf, struct osn_cni_attachment **ret,
                                    size_t *ret_n, struct osn_error *err)
{
        static const char key[] = "cni.dev/valid-attachments";
        const json_t *list = json_is_object(conf) ? json_object_get(conf, key) : NULL;
        if (!list) {
                /* No list: none of the attachments is valid any more. */
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (!json_is_array(list))
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "key \"%s\" must be an array", key);

        size_t n = json_array_size(list);
        _cleanup_free_ struct osn_cni_attachment *a = NULL;
        if (n > 0) {
                a = calloc(n, sizeof(*a));
                if (!a)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                const json_t *e = json_array_get(list, i);
                const json_t *cid = json_object_get(e, "containerID");
                const json_t *ifn = json_object_get(e, "ifname");
                char what[64];
                if (!json_is_object(e))
                        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                             "%s[%zu] must be an object with string keys "
                                             "\"containerID\" and \"ifname\"",
                                             key, i);
                if (!json_is_string(cid) || !json_is_string(ifn)) {
                        const json_t *bad = json_is_string(cid) ? ifn : cid;
                        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                             "%s[%zu] must be an object with string keys "
                                             "\"containerID\" and \"ifname\"; its \"%s\" is %s",
                                             key, i, bad == cid ? "containerID" : "ifname",
                                             bad ? "not a string" : "missing");
                }
                snprintf(what, sizeof(what), "%s[%zu].containerID", key, i);
                int r =
                    check_container_id(what, json_string_value(cid), OSN_CNI_INVALID_CONFIG, err);
                if (r < 0)
                        return r;
                snprintf(what, sizeof(what), "%s[%zu].ifname", key, i);
                r = check_ifname(what, json_string_value(ifn), OSN_CNI_INVALID_CONFIG, err);
                if (r < 0)
                        return r;
                strcpy(a[i].container_id, json_string_value(cid));
                strcpy(a[i].ifname, json_string_value(ifn));
        }
        *ret = TAKE_PTR(a);
        *ret_n = n;
        return 0;
}
