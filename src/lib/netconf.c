/* netconf: see netconf.h.
 *
 * Parsing runs in four steps, each of which can stop with one message:
 *   1. decode the JSON (jansson; OSN_CNI_DECODE_FAILURE with line/column);
 *   2. decide the dialect from the keys present (the 'keys' table below);
 *   3. parse every known key on its own: its JSON type and its value;
 *   4. check what only makes sense across keys (VLAN only on localnet,
 *      excludes inside subnets, IPv6 minimum MTU, static IPs in a subnet).
 *
 * Choices where CNI or upstream leave room, made deliberately:
 * - Duplicate keys: the last one wins, as with Go's encoding/json, which is
 *   what Multus and upstream ovn-kubernetes use; rejecting them would make
 *   osn refuse configs that every other plugin accepts (jansson's default;
 *   JSON_REJECT_DUPLICATES is deliberately not used).
 * - null: a key whose value is JSON null is treated as absent, again as Go
 *   does.  Likewise every "" string and 0 integer means "not set" (upstream's
 *   fields are omitempty; its e2e template writes every key, empty or not),
 *   and such a key does not decide the dialect.
 * - "mtu", "netAttachDefName" and "allowPersistentIPs" are valid in both
 *   dialects and do not decide the dialect; every other dialect key does.
 * - An upstream config without "topology" is layer3, as upstream's
 *   default (docs/design.md, "Layer3 networks").
 */
#include "netconf.h"

#include "alloc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>

#include "cni.h"

#define OSN_MTU_MIN      576
#define OSN_MTU_MIN_IPV6 1280
#define OSN_MTU_MAX      65535
#define OSN_VLAN_MAX     4094

/* The plugin types osn serves (docs/design.md, "Architecture"): the seed's name and
 * upstream's, one binary under both. */
static const char *const osn_types[] = {"ovn-kubernetes", "ovn-k8s-cni-overlay"};

bool osn_netconf_is_osn_type(const char *type)
{
        for (size_t i = 0; i < ARRAY_SIZE(osn_types); i++)
                if (streq(type, osn_types[i]))
                        return true;
        return false;
}

struct parse_ctx {
        const char *origin; /* may be NULL */
        struct osn_error *err;
        struct osn_netconf *nc;
        /* The keys, as given, for messages and for step 4. */
        const char *topology_str;
        bool has_physnet_key;
        bool host_prefix_given; /* a "subnets" entry said "/hostPrefix" */
};

/* Sets 'code' and a message prefixed with "<origin>: ", and the place in
 * the document it points at ('line', 'column'; 0 = none). */
_printf_(5, 0) static int vfail_at(struct parse_ctx *c, int line, int column, int code,
                                   const char *fmt, va_list ap)
{
        char msg[sizeof(c->err->msg)];
        vsnprintf(msg, sizeof(msg), fmt, ap);
        /* The first error set wins, its place included. */
        bool was_set = osn_error_isset(c->err);
        int r;
        if (c->origin && *c->origin)
                r = osn_error_set(c->err, -EINVAL, code, "%s: %s", c->origin, msg);
        else
                r = osn_error_set(c->err, -EINVAL, code, "%s", msg);
        if (!was_set && osn_error_isset(c->err)) {
                c->err->line = line;
                c->err->column = column;
        }
        return r;
}

_printf_(5, 6) static int fail_at(struct parse_ctx *c, int line, int column, int code,
                                  const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = vfail_at(c, line, column, code, fmt, ap);
        va_end(ap);
        return r;
}

_printf_(3, 4) static int fail(struct parse_ctx *c, int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = vfail_at(c, 0, 0, code, fmt, ap);
        va_end(ap);
        return r;
}

#define invalid(c, ...) fail((c), OSN_CNI_INVALID_CONFIG, __VA_ARGS__)

/* ---- rendering values for messages ------------------------------------ */

/* Cuts 's' to at most 'max' bytes at a UTF-8 character boundary, marking
 * the cut with "..."; the buffer must hold max + 4 bytes. */
static void cut_utf8(char *s, size_t max)
{
        size_t n = strlen(s);
        if (n <= max)
                return;
        size_t end = max;
        while (end > 0 && ((unsigned char)s[end] & 0xc0) == 0x80)
                end--;
        memcpy(s + end, "...", 4);
}

/* A JSON value as the user wrote it (compact), cut to a sensible length. */
static const char *show(const json_t *v, char *buf, size_t len)
{
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        snprintf(buf, len, "%s", s ? s : "?");
        free(s);
        cut_utf8(buf, len > 84 ? 80 : len - 4);
        return buf;
}

/* A C string (valid UTF-8, it came from JSON) as a JSON string. */
static const char *show_str(const char *s, char *buf, size_t len)
{
        _cleanup_json_ json_t *j = json_string(s);
        if (!j) {
                snprintf(buf, len, "\"?\"");
                return buf;
        }
        return show(j, buf, len);
}

#define SHOW(v)     show((v), (char[96]){0}, 96)
#define SHOW_STR(s) show_str((s), (char[96]){0}, 96)

static const char *type_name(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "an object";
        case JSON_ARRAY:
                return "an array";
        case JSON_STRING:
                return "a string";
        case JSON_INTEGER:
                return "an integer";
        case JSON_REAL:
                return "a number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "a boolean";
        case JSON_NULL:
                return "null";
        }
        return "a value";
}

enum jtype { T_STRING, T_BOOL, T_INT, T_OBJECT, T_ARRAY };

static const char *const jtype_names[] = {
    [T_STRING] = "a string", [T_BOOL] = "a boolean (true or false)",
    [T_INT] = "an integer",  [T_OBJECT] = "an object",
    [T_ARRAY] = "an array",
};

static bool has_type(const json_t *v, enum jtype t)
{
        switch (t) {
        case T_STRING:
                return json_is_string(v);
        case T_BOOL:
                return json_is_boolean(v);
        case T_INT:
                return json_is_integer(v);
        case T_OBJECT:
                return json_is_object(v);
        case T_ARRAY:
                return json_is_array(v);
        }
        return false;
}

/* Checks the JSON type of 'key'.  A string that holds what was meant
 * ("true", "1400") gets the fix spelled out. */
static int want_type(struct parse_ctx *c, const char *key, const json_t *v, enum jtype t)
{
        if (has_type(v, t))
                return 0;
        const char *hint = "";
        if (json_is_string(v)) {
                const char *s = json_string_value(v);
                if (t == T_BOOL && (streq(s, "true") || streq(s, "false")))
                        hint = "; write it as a JSON boolean, without quotes";
                else if (t == T_INT && *s && strspn(s, "0123456789") == strlen(s))
                        hint = "; write it as a JSON number, without quotes";
        }
        return invalid(c, "key \"%s\": expected %s, got %s (%s)%s", key, jtype_names[t], SHOW(v),
                       type_name(v), hint);
}

/* ---- small validators ------------------------------------------------- */

static bool is_blank(char ch)
{
        return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r';
}

/* Describes the first byte of 's' that is not printable ASCII, or NULL. */
static const char *bad_char(const char *s, size_t *ret_at)
{
        for (size_t i = 0; s[i]; i++) {
                unsigned char ch = (unsigned char)s[i];
                const char *what = NULL;
                if (ch == ' ')
                        what = "a space";
                else if (ch == '\t')
                        what = "a tab";
                else if (ch == '\n' || ch == '\r')
                        what = "a line break";
                else if (ch < 0x20 || ch == 0x7f)
                        what = "a control character";
                else if (ch >= 0x80)
                        what = "a non-ASCII character";
                if (what) {
                        *ret_at = i;
                        return what;
                }
        }
        return NULL;
}

/* Explains why 's' is not a CIDR (or, when !need_prefix, an address). */
static const char *cidr_problem(const char *s, bool need_prefix)
{
        const char *slash = strchr(s, '/');
        if (!slash)
                return need_prefix ? "has no prefix length (expected ADDRESS/PREFIX)"
                                   : "is not an IP address";
        size_t alen = (size_t)(slash - s);
        if (alen == 0)
                return "has no address before the '/'";
        if (slash[1] == 0)
                return "has no prefix length after the '/'";
        char a[64];
        snprintf(a, sizeof(a), "%.*s", (int)(alen < 63 ? alen : 63), s);
        struct osn_cidr c;
        if (alen >= sizeof(a) || osn_cidr_parse(a, false, &c) < 0)
                return "does not start with a valid IP address";
        return c.family == AF_INET ? "has an invalid prefix length (expected 0..32)"
                                   : "has an invalid prefix length (expected 0..128)";
}

static bool is_v4_mapped(const struct osn_cidr *c)
{
        static const uint8_t pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        return c->family == AF_INET6 && memcmp(c->addr.bytes, pfx, sizeof(pfx)) == 0;
}

static int cidr_cmp(const struct osn_cidr *a, const struct osn_cidr *b)
{
        if (a->family != b->family)
                return a->family == AF_INET ? -1 : 1;
        int r = memcmp(a->addr.bytes, b->addr.bytes, a->family == AF_INET ? 4 : 16);
        if (r != 0)
                return r;
        return a->prefixlen < b->prefixlen ? -1 : a->prefixlen > b->prefixlen;
}

static int cidr_qsort_cmp(const void *a, const void *b)
{
        return cidr_cmp(a, b);
}

/* ---- comma-separated CIDR lists ---------------------------------------- */

/* LIST_SUBNET(S): the network's subnets ("subnet", "subnets").
 * LIST_RANGES: ranges inside them ("excludeSubnets", "reservedSubnets",
 * "infrastructureSubnets"): CIDRs, or bare addresses meaning one address.
 * LIST_ADDRS: single addresses ("defaultGatewayIPs"), at most one per
 * family, stored with a full-length prefix. */
enum list_kind { LIST_SUBNET, LIST_SUBNETS, LIST_RANGES, LIST_ADDRS };

/* One item 'tok' of a list (its length before any cut: 'ilen'), parsed
 * into *ret; upstream's layer3 form "CIDR/hostPrefix" leaves its host
 * prefix in *ret_host_prefix (checked against the topology in step 4). */
static int parse_item(struct parse_ctx *c, const char *key, char *tok, size_t ilen,
                      enum list_kind kind, struct osn_cidr *ret, unsigned *ret_host_prefix)
{
        bool need_prefix = kind == LIST_SUBNET || kind == LIST_SUBNETS;
        *ret_host_prefix = 0;
        char *slash = kind == LIST_SUBNETS ? strchr(tok, '/') : NULL;
        char *slash2 = slash ? strchr(slash + 1, '/') : NULL;
        if (slash2) {
                char *end = NULL;
                unsigned long hp = strtoul(slash2 + 1, &end, 10);
                if (!isdigit((unsigned char)slash2[1]) || *end || hp > 128)
                        return invalid(c,
                                       "key \"%s\": %s: the host prefix \"%s\" is not a "
                                       "prefix length (write \"CIDR/hostPrefix\", e.g. "
                                       "\"10.128.0.0/16/24\")",
                                       key, SHOW_STR(tok), slash2 + 1);
                *ret_host_prefix = (unsigned)hp;
                *slash2 = 0;
        }
        if (kind == LIST_ADDRS && strchr(tok, '/'))
                return invalid(c,
                               "key \"%s\": %s is not an IP address (write the address "
                               "alone, without a prefix length)",
                               key, SHOW_STR(tok));
        if (ilen >= 128 || osn_cidr_parse(tok, need_prefix, ret) < 0)
                return invalid(c, "key \"%s\": %s %s", key, SHOW_STR(tok),
                               cidr_problem(tok, need_prefix));
        if (!osn_cidr_is_network(ret)) {
                char net[OSN_CIDR_STRLEN];
                struct osn_cidr nw = osn_cidr_network(ret);
                return invalid(c,
                               "key \"%s\": %s is not a network address (host bits "
                               "set); did you mean \"%s\"?",
                               key, SHOW_STR(tok), osn_cidr_format(&nw, net, sizeof(net)));
        }
        if (is_v4_mapped(ret))
                return invalid(c,
                               "key \"%s\": %s is an IPv4-mapped IPv6 range; write IPv4 "
                               "networks in IPv4 notation",
                               key, SHOW_STR(tok));
        return 0;
}

/* An item against the 'n' before it: one address per family; one subnet
 * per family, none overlapping, none too small. */
static int check_item(struct parse_ctx *c, const char *key, const char *tok, enum list_kind kind,
                      const struct osn_cidr *out, size_t n, const struct osn_cidr *cidr)
{
        char o[OSN_CIDR_STRLEN];
        for (size_t i = 0; kind == LIST_ADDRS && i < n; i++)
                if (out[i].family == cidr->family && !osn_addr_equal(&out[i], cidr))
                        return invalid(c,
                                       "key \"%s\": %s and \"%s\" are both IPv%c; give at most "
                                       "one address per IP family",
                                       key, SHOW_STR(tok), osn_addr_format(&out[i], o, sizeof(o)),
                                       cidr->family == AF_INET ? '4' : '6');
        if (kind != LIST_SUBNET && kind != LIST_SUBNETS)
                return 0;
        if (cidr->family == AF_INET && cidr->prefixlen > 30)
                return invalid(c,
                               "key \"%s\": %s is too small: a subnet needs at least a /30 to "
                               "leave addresses for pods",
                               key, SHOW_STR(tok));
        for (size_t i = 0; i < n; i++) {
                if (out[i].family == cidr->family)
                        return invalid(c,
                                       "key \"%s\": %s and \"%s\" are both IPv%c; osn supports "
                                       "at most one IPv4 and one IPv6 subnet",
                                       key, SHOW_STR(tok), osn_cidr_format(&out[i], o, sizeof(o)),
                                       cidr->family == AF_INET ? '4' : '6');
                if (osn_cidr_overlaps(&out[i], cidr))
                        return invalid(c, "key \"%s\": %s overlaps \"%s\"", key, SHOW_STR(tok),
                                       osn_cidr_format(&out[i], o, sizeof(o)));
        }
        return 0;
}

static int parse_cidr_list(struct parse_ctx *c, const char *key, const char *s, enum list_kind kind,
                           struct osn_cidr *out, size_t max, size_t *ret_n)
{
        *ret_n = 0;
        size_t len = strlen(s);
        size_t b = 0;
        while (b < len && is_blank(s[b]))
                b++;
        if (b == len)
                return 0; /* "" = not set */

        if (kind == LIST_SUBNET && strchr(s, ','))
                return invalid(c,
                               "key \"%s\": %s holds more than one subnet; the seed dialect takes "
                               "one, use \"topology\" and \"subnets\" for dual-stack",
                               key, SHOW_STR(s));

        size_t n = 0, item = 0;
        const char *p = s;
        for (;;) {
                const char *comma = strchr(p, ',');
                size_t ilen = comma ? (size_t)(comma - p) : strlen(p);
                item++;
                while (ilen > 0 && is_blank(*p))
                        p++, ilen--;
                while (ilen > 0 && is_blank(p[ilen - 1]))
                        ilen--;
                char tok[128];
                if (ilen == 0)
                        return invalid(c, "key \"%s\": item %zu of %s is empty", key, item,
                                       SHOW_STR(s));
                /* Cut at 127 on purpose: a longer item is refused by
                 * parse_item(), which names what was read. */
                snprintf(tok, sizeof(tok), "%.*s", (int)(ilen < 127 ? ilen : 127), p);
                struct osn_cidr cidr;
                unsigned host_prefix;
                int r;
                if ((r = parse_item(c, key, tok, ilen, kind, &cidr, &host_prefix)) < 0 ||
                    (r = check_item(c, key, tok, kind, out, n, &cidr)) < 0)
                        return r;
                if (host_prefix) {
                        if (cidr.family == AF_INET)
                                c->nc->host_prefix4 = host_prefix;
                        else
                                c->nc->host_prefix6 = host_prefix;
                        c->host_prefix_given = true;
                }
                bool dup = false;
                for (size_t i = 0; i < n; i++)
                        dup = dup || cidr_cmp(&out[i], &cidr) == 0;
                if (!dup) {
                        if (n >= max)
                                return invalid(c, "key \"%s\": more than %zu entries", key, max);
                        out[n++] = cidr;
                }
                if (!comma)
                        break;
                p = comma + 1;
        }

        qsort(out, n, sizeof(*out), cidr_qsort_cmp);
        *ret_n = n;
        return 0;
}

/* ---- the keys --------------------------------------------------------- */

enum key_dialect { K_COMMON, K_SEED, K_UPSTREAM };

/* Each key_*() gets a value of the JSON type that its entry in keys[]
 * names: parse_key() has checked it. */

static int key_cni_version(struct parse_ctx *c, const char *key, const json_t *v)
{
        const char *s = json_string_value(v);
        if (!osn_cni_version_supported(s)) {
                char list[128] = "";
                for (size_t i = 0; osn_cni_versions[i]; i++)
                        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
                                 i ? ", " : "", osn_cni_versions[i]);
                return fail(c, OSN_CNI_INCOMPATIBLE_VERSION,
                            "key \"%s\": %s is not a supported CNI version (supported: %s)", key,
                            SHOW(v), list);
        }
        c->nc->cni_version = strdup(s);
        return c->nc->cni_version ? 0 : -ENOMEM;
}

static int key_name(struct parse_ctx *c, const char *key, const json_t *v)
{
        const char *s = json_string_value(v);
        size_t len = json_string_length(v), at;
        const char *what;
        if (len == 0)
                return invalid(c, "key \"%s\" must not be empty", key);
        if (len > OSN_NAME_MAX)
                return invalid(c,
                               "key \"%s\": %s is %zu bytes long; at most %d are allowed (OVN "
                               "object names are derived from it)",
                               key, SHOW(v), len, OSN_NAME_MAX);
        if (strlen(s) != len)
                return invalid(c, "key \"%s\" contains a NUL character", key);
        if ((what = bad_char(s, &at)))
                return invalid(c,
                               "key \"%s\": %s contains %s at byte %zu; network names must be "
                               "printable ASCII without whitespace",
                               key, SHOW(v), what, at + 1);
        c->nc->name = strdup(s);
        return c->nc->name ? 0 : -ENOMEM;
}

static int key_type(struct parse_ctx *c, const char *key, const json_t *v)
{
        const char *s = json_string_value(v);
        if (osn_netconf_is_osn_type(s)) {
                c->nc->type = strdup(s);
                return c->nc->type ? 0 : -ENOMEM;
        }
        return invalid(c, "key \"%s\": %s is not an osn plugin type (expected \"%s\" or \"%s\")",
                       key, SHOW(v), osn_types[0], osn_types[1]);
}

static int key_subnet(struct parse_ctx *c, const char *key, const json_t *v)
{
        return parse_cidr_list(c, key, json_string_value(v), LIST_SUBNET, c->nc->subnets, 1,
                               &c->nc->n_subnets);
}

static int key_subnets(struct parse_ctx *c, const char *key, const json_t *v)
{
        return parse_cidr_list(c, key, json_string_value(v), LIST_SUBNETS, c->nc->subnets,
                               OSN_MAX_SUBNETS, &c->nc->n_subnets);
}

static int key_excludes(struct parse_ctx *c, const char *key, const json_t *v)
{
        return parse_cidr_list(c, key, json_string_value(v), LIST_RANGES, c->nc->excludes,
                               OSN_MAX_EXCLUDES, &c->nc->n_excludes);
}

static int key_reserved(struct parse_ctx *c, const char *key, const json_t *v)
{
        return parse_cidr_list(c, key, json_string_value(v), LIST_RANGES, c->nc->reserved,
                               OSN_MAX_EXCLUDES, &c->nc->n_reserved);
}

static int key_infrastructure(struct parse_ctx *c, const char *key, const json_t *v)
{
        return parse_cidr_list(c, key, json_string_value(v), LIST_RANGES, c->nc->infrastructure,
                               OSN_MAX_EXCLUDES, &c->nc->n_infrastructure);
}

static int key_gateways(struct parse_ctx *c, const char *key, const json_t *v)
{
        return parse_cidr_list(c, key, json_string_value(v), LIST_ADDRS, c->nc->gateways,
                               OSN_MAX_SUBNETS, &c->nc->n_gateways);
}

static int key_external(struct parse_ctx *c, const char *key, const json_t *v)
{
        c->nc->external = json_is_true(v);
        return 0;
}

static int key_topology(struct parse_ctx *c, const char *key, const json_t *v)
{
        const char *s = json_string_value(v);
        if (*s == 0)
                return 0; /* unset, as upstream's omitempty: "topology" is missing */
        c->topology_str = s;
        if (streq(s, "layer2"))
                c->nc->topology = OSN_TOPO_LAYER2;
        else if (streq(s, "localnet"))
                c->nc->topology = OSN_TOPO_LOCALNET;
        else if (streq(s, "layer3"))
                c->nc->topology = OSN_TOPO_LAYER3;
        else
                return invalid(c,
                               "key \"%s\": %s is not a topology (expected \"layer3\", "
                               "\"layer2\" or \"localnet\")",
                               key, SHOW(v));
        return 0;
}

static int key_mtu(struct parse_ctx *c, const char *key, const json_t *v)
{
        json_int_t m = json_integer_value(v);
        if (m != 0 && (m < OSN_MTU_MIN || m > OSN_MTU_MAX))
                return invalid(c, "key \"%s\": %" JSON_INTEGER_FORMAT " is out of range (%d..%d)",
                               key, m, OSN_MTU_MIN, OSN_MTU_MAX);
        c->nc->mtu = (unsigned)m;
        return 0;
}

static int key_vlan(struct parse_ctx *c, const char *key, const json_t *v)
{
        json_int_t id = json_integer_value(v);
        if (id < 0 || id > OSN_VLAN_MAX)
                return invalid(c, "key \"%s\": %" JSON_INTEGER_FORMAT " is not a VLAN ID (1..%d)",
                               key, id, OSN_VLAN_MAX);
        c->nc->vlan = (unsigned)id;
        return 0;
}

static int key_physnet(struct parse_ctx *c, const char *key, const json_t *v)
{
        const char *s = json_string_value(v);
        size_t len = json_string_length(v), at;
        const char *what;
        /* "" is unset, as upstream's omitempty string: its e2e template
         * writes "physicalNetworkName": "" into every NAD. */
        if (len == 0)
                return 0;
        if (len > OSN_NAME_MAX || strlen(s) != len)
                return invalid(c, "key \"%s\": %s is too long (at most %d bytes)", key, SHOW(v),
                               OSN_NAME_MAX);
        if ((what = bad_char(s, &at)))
                return invalid(c, "key \"%s\": %s contains %s at byte %zu", key, SHOW(v), what,
                               at + 1);
        /* ovn-bridge-mappings is "physnet:bridge,physnet:bridge". */
        if (strpbrk(s, ":,"))
                return invalid(c,
                               "key \"%s\": %s must not contain ':' or ',' (it is used in "
                               "ovn-bridge-mappings)",
                               key, SHOW(v));
        free(c->nc->physical_network);
        c->nc->physical_network = strdup(s);
        c->has_physnet_key = true;
        return c->nc->physical_network ? 0 : -ENOMEM;
}

static int key_role(struct parse_ctx *c, const char *key, const json_t *v)
{
        const char *s = json_string_value(v);
        if (streq(s, "secondary") || *s == 0)
                return 0;
        if (streq(s, "primary"))
                return invalid(c,
                               "key \"%s\": \"primary\" is not supported: osn attaches secondary "
                               "networks and does not replace the pod's primary (cluster) "
                               "network; use \"secondary\" or omit the key",
                               key);
        return invalid(c, "key \"%s\": %s is not a role (expected \"secondary\")", key, SHOW(v));
}

static int key_nad_name(struct parse_ctx *c, const char *key, const json_t *v)
{
        const char *s = json_string_value(v);
        size_t len = json_string_length(v), at;
        const char *slash = strchr(s, '/');
        if (len == 0)
                return 0; /* unset, as upstream's omitempty string */
        if (strlen(s) != len || len > 507 || bad_char(s, &at) || !slash || slash == s ||
            slash[1] == 0 || strchr(slash + 1, '/'))
                return invalid(c, "key \"%s\": %s is not \"namespace/name\"", key, SHOW(v));
        c->nc->nad_name = strdup(s);
        return c->nc->nad_name ? 0 : -ENOMEM;
}

static int key_persistent_ips(struct parse_ctx *c, const char *key, const json_t *v)
{
        c->nc->allow_persistent_ips = json_is_true(v);
        return 0;
}

static int key_dhcp(struct parse_ctx *c, const char *key, const json_t *v)
{
        c->nc->has_dhcp = true;
        c->nc->dhcp = json_is_true(v);
        return 0;
}

/* Upstream's proposed "macSecurityMode" (ovn-kubernetes PR 6746). */
static int key_mac_security(struct parse_ctx *c, const char *key, const json_t *v)
{
        const char *m = json_string_value(v);
        if (!*m || streq(m, "enabled"))
                return 0;
        if (streq(m, "disabled")) {
                c->nc->mac_security_disabled = true;
                return 0;
        }
        return invalid(c, "key \"%s\": %s is not \"enabled\" or \"disabled\"", key, SHOW(v));
}

static const json_t *get_key(const json_t *root, const char *key);

/* "args" (CONVENTIONS.md): args.cni["ipam-claim-reference"], the
 * persistent identity of an attachment; the rest is someone else's. */
static int key_args(struct parse_ctx *c, const char *key, const json_t *v)
{
        const json_t *cni = get_key(v, "cni");
        const json_t *ref = cni ? get_key(cni, "ipam-claim-reference") : NULL;
        if (!ref || json_is_null(ref))
                return 0;
        if (!json_is_string(ref) || json_string_length(ref) == 0 ||
            json_string_length(ref) > OSN_NAME_MAX)
                return invalid(c,
                               "key \"args.cni.ipam-claim-reference\": %s is not a name of 1 to "
                               "%d bytes",
                               SHOW(ref), OSN_NAME_MAX);
        free(c->nc->claim_ref);
        c->nc->claim_ref = strdup(json_string_value(ref));
        return c->nc->claim_ref ? 0 : -ENOMEM;
}

/* A domain name as DHCP carries it (RFC 1035 labels): letters, digits and
 * '-', dot-separated labels of 1..63 bytes, at most 253 bytes, no leading
 * or trailing '-' in a label; one trailing dot is allowed.  NULL when 's'
 * is one, else what is wrong. */
static const char *domain_problem(const char *s, size_t len)
{
        if (len == 0 || len > 253 || strlen(s) != len)
                return "is not a domain name of 1 to 253 bytes";
        size_t label = 0;
        for (size_t i = 0; i < len; i++) {
                char ch = s[i];
                if (ch == '.') {
                        if (label == 0 && !(i == len - 1 && i > 0))
                                return "has an empty label";
                        if (s[i - 1] == '-')
                                return "has a label that ends in '-'";
                        label = 0;
                        continue;
                }
                if (!isalnum((unsigned char)ch) && ch != '-')
                        return "has a character other than letters, digits, '-' and '.'";
                if (ch == '-' && label == 0)
                        return "has a label that starts with '-'";
                if (++label > 63)
                        return "has a label longer than 63 bytes";
        }
        if (s[len - 1] == '-')
                return "has a label that ends in '-'";
        return NULL;
}

/* The CNI spec's "dns" (SPEC.md, "Network Configuration"): "nameservers"
 * and "search" (arrays of strings), "domain" (a string).  OVN's DHCP
 * server hands them to the pods; "options" (resolv.conf options) has no
 * DHCP option, so it is refused rather than dropped. */
static int key_dns(struct parse_ctx *c, const char *key, const json_t *v)
{
        struct osn_netconf *nc = c->nc;
        const json_t *ns = get_key(v, "nameservers");
        const json_t *search = get_key(v, "search");
        const json_t *domain = get_key(v, "domain");
        const json_t *opts = get_key(v, "options");
        int r;
        if (opts && !json_is_null(opts) && !(json_is_array(opts) && json_array_size(opts) == 0))
                return invalid(c,
                               "key \"dns.options\": %s: resolver options have no DHCP option, "
                               "so osn cannot hand them to the pods; remove the key",
                               SHOW(opts));
        if (ns && !json_is_null(ns)) {
                if ((r = want_type(c, "dns.nameservers", ns, T_ARRAY)) < 0)
                        return r;
                if (json_array_size(ns) > OSN_MAX_DNS)
                        return invalid(c, "key \"dns.nameservers\": %zu addresses; at most %d",
                                       json_array_size(ns), OSN_MAX_DNS);
                nc->n_dns_servers = 0;
                for (size_t i = 0; i < json_array_size(ns); i++) {
                        const json_t *e = json_array_get(ns, i);
                        char k[40];
                        snprintf(k, sizeof(k), "dns.nameservers[%zu]", i);
                        if ((r = want_type(c, k, e, T_STRING)) < 0)
                                return r;
                        struct osn_cidr a;
                        if (osn_cidr_parse(json_string_value(e), false, &a) < 0 ||
                            strchr(json_string_value(e), '/'))
                                return invalid(c, "key \"%s\": %s is not an IPv4 or IPv6 address",
                                               k, SHOW(e));
                        a.prefixlen = a.family == AF_INET ? 32 : 128;
                        nc->dns_servers[nc->n_dns_servers++] = a;
                }
        }
        if (search && !json_is_null(search)) {
                if ((r = want_type(c, "dns.search", search, T_ARRAY)) < 0)
                        return r;
                if (json_array_size(search) > OSN_MAX_DNS)
                        return invalid(c, "key \"dns.search\": %zu domains; at most %d",
                                       json_array_size(search), OSN_MAX_DNS);
                for (size_t i = 0; i < json_array_size(search); i++) {
                        const json_t *e = json_array_get(search, i);
                        char k[40];
                        snprintf(k, sizeof(k), "dns.search[%zu]", i);
                        if ((r = want_type(c, k, e, T_STRING)) < 0)
                                return r;
                        const char *why =
                            domain_problem(json_string_value(e), json_string_length(e));
                        if (why)
                                return invalid(c, "key \"%s\": %s %s", k, SHOW(e), why);
                }
                for (size_t i = 0; i < json_array_size(search); i++) {
                        nc->dns_search[nc->n_dns_search] =
                            strdup(json_string_value(json_array_get(search, i)));
                        if (!nc->dns_search[nc->n_dns_search++])
                                return -ENOMEM;
                }
        }
        if (domain && !json_is_null(domain)) {
                if ((r = want_type(c, "dns.domain", domain, T_STRING)) < 0)
                        return r;
                if (json_string_length(domain) == 0)
                        return 0;
                const char *why =
                    domain_problem(json_string_value(domain), json_string_length(domain));
                if (why)
                        return invalid(c, "key \"dns.domain\": %s %s", SHOW(domain), why);
                nc->dns_domain = strdup(json_string_value(domain));
                if (!nc->dns_domain)
                        return -ENOMEM;
        }
        return 0;
}

/* "dhcpLeaseTime": seconds (upstream ovn-kubernetes gives its VMs a fixed
 * lease; osn lets the network choose).  0 means osn's default. */
static int key_lease_time(struct parse_ctx *c, const char *key, const json_t *v)
{
        json_int_t t = json_integer_value(v);
        if (t != 0 && (t < OSN_DHCP_LEASE_MIN || t > OSN_DHCP_LEASE_MAX))
                return invalid(c,
                               "key \"%s\": %" JSON_INTEGER_FORMAT
                               " is out of range (%d..%d seconds, or 0 for the default %d)",
                               key, t, OSN_DHCP_LEASE_MIN, OSN_DHCP_LEASE_MAX,
                               OSN_DHCP_LEASE_DEFAULT);
        c->nc->dhcp_lease_time = (unsigned)t;
        return 0;
}

/* runtimeConfig (capability arguments, CONVENTIONS.md): "ips" and "mac".
 * Every other capability is someone else's and ignored. */
static int key_runtime_config(struct parse_ctx *c, const char *key, const json_t *v)
{
        struct osn_netconf *nc = c->nc;
        int r;

        const json_t *ips = json_object_get(v, "ips");
        if (ips && !json_is_null(ips)) {
                r = want_type(c, "runtimeConfig.ips", ips, T_ARRAY);
                if (r < 0)
                        return r;
                if (json_array_size(ips) > OSN_MAX_STATIC)
                        return invalid(c, "key \"runtimeConfig.ips\": %zu addresses; at most %d",
                                       json_array_size(ips), OSN_MAX_STATIC);
                for (size_t i = 0; i < json_array_size(ips); i++) {
                        const json_t *e = json_array_get(ips, i);
                        char k[40];
                        snprintf(k, sizeof(k), "runtimeConfig.ips[%zu]", i);
                        r = want_type(c, k, e, T_STRING);
                        if (r < 0)
                                return r;
                        const char *s = json_string_value(e);
                        struct osn_cidr a;
                        if (osn_cidr_parse(s, true, &a) < 0)
                                return invalid(c, "key \"%s\": %s %s", k, SHOW(e),
                                               cidr_problem(s, true));
                        for (size_t j = 0; j < nc->n_static_ips; j++)
                                if (osn_addr_equal(&nc->static_ips[j], &a))
                                        return invalid(c, "key \"%s\": %s is listed twice", k,
                                                       SHOW(e));
                        nc->static_ips[nc->n_static_ips++] = a;
                }
        }

        const json_t *mac = json_object_get(v, "mac");
        if (mac && !json_is_null(mac)) {
                r = want_type(c, "runtimeConfig.mac", mac, T_STRING);
                if (r < 0)
                        return r;
                if (osn_mac_parse(json_string_value(mac), nc->static_mac) < 0)
                        return invalid(c, "key \"runtimeConfig.mac\": %s %s", SHOW(mac),
                                       osn_mac_problem(json_string_value(mac)));
                nc->has_static_mac = true;
        }
        return 0;
}

/* Upstream refuses an "ipam" block with a type (ErrorUnsupportedIPAMKey in
 * ovn-kubernetes' pkg/util/multi_network.go): the network's addresses are
 * ovn-kubernetes' own business, and so they are osn's.  Silently ignoring a
 * delegated IPAM plugin would hand the pod addresses the tenant did not
 * ask for, so osn refuses it too; an empty block ({} or "type": "") is
 * accepted, as upstream accepts it. */
static int key_ipam(struct parse_ctx *c, const char *key, const json_t *v)
{
        const json_t *t = get_key(v, "type");
        if (!t || (json_is_string(t) && json_string_length(t) == 0))
                return 0;
        return invalid(c,
                       "key \"%s\": an IPAM plugin (\"type\": %s) is not supported: osn assigns "
                       "the network's addresses itself from \"subnets\" (as upstream "
                       "ovn-kubernetes, which refuses it too); remove the \"ipam\" block",
                       key, SHOW(t));
}

static int key_prev_result(struct parse_ctx *c, const char *key, const json_t *v)
{
        c->nc->prev_result = json_incref((json_t *)v);
        return 0;
}

/* Every key osn reads, in the order they are parsed.  'dialect' says which
 * dialect a key belongs to; K_COMMON keys are valid in both.  'type' is the
 * JSON type its value must have, checked (parse_key()) before 'parse' runs
 * on the value. */
static const struct key_info {
        const char *key;
        enum key_dialect dialect;
        bool required;
        enum jtype type;
        int (*parse)(struct parse_ctx *c, const char *key, const json_t *v);
} keys[] = {
    {"cniVersion", K_COMMON, true, T_STRING, key_cni_version},
    {"name", K_COMMON, true, T_STRING, key_name},
    {"type", K_COMMON, true, T_STRING, key_type},
    {"subnet", K_SEED, false, T_STRING, key_subnet},
    {"has_external_connectivity", K_SEED, false, T_BOOL, key_external},
    {"topology", K_UPSTREAM, false, T_STRING, key_topology},
    {"subnets", K_UPSTREAM, false, T_STRING, key_subnets},
    {"excludeSubnets", K_UPSTREAM, false, T_STRING, key_excludes},
    {"reservedSubnets", K_UPSTREAM, false, T_STRING, key_reserved},
    {"infrastructureSubnets", K_UPSTREAM, false, T_STRING, key_infrastructure},
    {"defaultGatewayIPs", K_UPSTREAM, false, T_STRING, key_gateways},
    {"vlanID", K_UPSTREAM, false, T_INT, key_vlan},
    {"physicalNetworkName", K_UPSTREAM, false, T_STRING, key_physnet},
    {"role", K_UPSTREAM, false, T_STRING, key_role},
    {"mtu", K_COMMON, false, T_INT, key_mtu},
    {"netAttachDefName", K_COMMON, false, T_STRING, key_nad_name},
    {"allowPersistentIPs", K_COMMON, false, T_BOOL, key_persistent_ips},
    {"dhcp", K_COMMON, false, T_BOOL, key_dhcp},
    {"macSecurityMode", K_COMMON, false, T_STRING, key_mac_security},
    {"dhcpLeaseTime", K_COMMON, false, T_INT, key_lease_time},
    {"dns", K_COMMON, false, T_OBJECT, key_dns},
    {"args", K_COMMON, false, T_OBJECT, key_args},
    {"ipam", K_COMMON, false, T_OBJECT, key_ipam},
    {"runtimeConfig", K_COMMON, false, T_OBJECT, key_runtime_config},
    {"prevResult", K_COMMON, false, T_OBJECT, key_prev_result},
};

static int parse_key(struct parse_ctx *c, const struct key_info *k, const json_t *v)
{
        int r = want_type(c, k->key, v, k->type);
        if (r < 0)
                return r;
        return k->parse(c, k->key, v);
}

/* A key that is present and not null. */
static const json_t *get_key(const json_t *root, const char *key)
{
        const json_t *v = json_object_get(root, key);
        return v && !json_is_null(v) ? v : NULL;
}

/* Absent, or a value that upstream's omitempty fields read as unset (""
 * or 0): such a key does not decide the dialect, so that a template that
 * writes upstream's keys empty still reads as the seed dialect.  (A
 * boolean does decide: "has_external_connectivity": false is the seed's.) */
static bool is_unset(const json_t *v)
{
        return !v || (json_is_string(v) && json_string_length(v) == 0) ||
               (json_is_integer(v) && json_integer_value(v) == 0);
}

static int decide_dialect(struct parse_ctx *c, const json_t *root, const char *type)
{
        const char *seed = NULL, *upstream = NULL;
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                if (is_unset(get_key(root, keys[i].key)))
                        continue;
                if (keys[i].dialect == K_SEED && !seed)
                        seed = keys[i].key;
                else if (keys[i].dialect == K_UPSTREAM && !upstream)
                        upstream = keys[i].key;
        }
        if (seed && upstream)
                return invalid(c,
                               "keys \"%s\" and \"%s\" cannot be combined: \"%s\" belongs to the "
                               "seed dialect (\"subnet\", \"has_external_connectivity\"), \"%s\" "
                               "to the upstream ovn-kubernetes dialect (\"topology\", "
                               "\"subnets\", ...); use one dialect",
                               seed, upstream, seed, upstream);
        if (seed)
                c->nc->dialect = OSN_DIALECT_SEED;
        else if (upstream)
                c->nc->dialect = OSN_DIALECT_UPSTREAM;
        else
                c->nc->dialect =
                    streq(type, "ovn-kubernetes") ? OSN_DIALECT_SEED : OSN_DIALECT_UPSTREAM;
        return 0;
}

/* "10.0.0.0/24, fd00::/64": the CIDRs of v[] (of 'family' only, when not
 * AF_UNSPEC) for a message. */
static void format_cidrs(const struct osn_cidr *v, size_t n, int family, char *buf, size_t len)
{
        size_t o = 0;
        char a[OSN_CIDR_STRLEN];
        buf[0] = 0;
        for (size_t i = 0; i < n && o < len; i++) {
                if (family != AF_UNSPEC && v[i].family != family)
                        continue;
                int w = snprintf(buf + o, len - o, "%s%s", o ? ", " : "",
                                 osn_cidr_format(&v[i], a, sizeof(a)));
                if (w < 0 || (size_t)w >= len - o)
                        break; /* sized for the largest list; never cut */
                o += (size_t)w;
        }
}

static bool is_v4_broadcast(const struct osn_cidr *ip, const struct osn_cidr *subnet)
{
        uint32_t mask = subnet->prefixlen ? ~0u << (32 - subnet->prefixlen) : 0;
        return (ntohl(ip->addr.v4.s_addr) | mask) == ~0u;
}

/* The ranges of 'key' (excludes, reserved, infrastructure, gateways) lie
 * inside the network's subnets; the message names the subnets. */
static int check_ranges(struct parse_ctx *c, const char *key, const struct osn_cidr *v, size_t n,
                        const char *purpose)
{
        struct osn_netconf *nc = c->nc;
        if (n == 0)
                return 0;
        if (nc->n_subnets == 0)
                return invalid(c, "key \"%s\" needs \"subnets\": there is no subnet to %s", key,
                               purpose);
        for (size_t i = 0; i < n; i++) {
                bool inside = false;
                for (size_t j = 0; j < nc->n_subnets; j++)
                        inside = inside || (v[i].prefixlen >= nc->subnets[j].prefixlen &&
                                            osn_cidr_contains(&nc->subnets[j], &v[i]));
                if (inside)
                        continue;
                char a[OSN_CIDR_STRLEN], list[OSN_MAX_SUBNETS * (OSN_CIDR_STRLEN + 2)];
                format_cidrs(nc->subnets, nc->n_subnets, AF_UNSPEC, list, sizeof(list));
                return invalid(c, "key \"%s\": \"%s\" is outside the subnets (%s)", key,
                               v == nc->gateways ? osn_addr_format(&v[i], a, sizeof(a))
                                                 : osn_cidr_format(&v[i], a, sizeof(a)),
                               list);
        }
        return 0;
}

/* Layer3: "subnets" with their host prefixes (upstream's defaults, /24
 * and /64, when a CIDR gives none), no persistent IPs (as upstream), no
 * OVN DHCP server (its pods take addresses, gateway and routes from the
 * CNI result).  A host prefix on another topology is refused. */
static int check_layer3(struct parse_ctx *c)
{
        struct osn_netconf *nc = c->nc;
        char a[OSN_CIDR_STRLEN];
        if (nc->topology != OSN_TOPO_LAYER3) {
                if (c->host_prefix_given)
                        return invalid(c,
                                       "key \"subnets\": \"CIDR/hostPrefix\" is only valid with "
                                       "\"topology\": \"layer3\" (this network is \"%s\")",
                                       osn_topology_name(nc->topology));
                return 0;
        }
        if (nc->n_subnets == 0)
                return invalid(c, "key \"subnets\" is missing: a layer3 network needs the "
                                  "cluster CIDR its nodes take their host subnets from (e.g. "
                                  "\"10.128.0.0/16/24\")");
        if (nc->allow_persistent_ips)
                return invalid(c, "key \"allowPersistentIPs\": layer3 topology does not allow "
                                  "persistent IPs (as upstream ovn-kubernetes); use \"layer2\"");
        if (nc->has_dhcp && nc->dhcp)
                return invalid(c, "key \"dhcp\": a layer3 network has no OVN DHCP server; its "
                                  "pods take their address, gateway and routes from the CNI "
                                  "result (remove the key or use \"layer2\")");
        nc->has_dhcp = true;
        nc->dhcp = false;
        for (size_t i = 0; i < nc->n_subnets; i++) {
                const struct osn_cidr *sn = &nc->subnets[i];
                bool v4 = sn->family == AF_INET;
                unsigned *hp = v4 ? &nc->host_prefix4 : &nc->host_prefix6;
                if (*hp == 0)
                        *hp = v4 ? OSN_HOST_PREFIX4_DEFAULT : OSN_HOST_PREFIX6_DEFAULT;
                unsigned max = v4 ? 30 : 126;
                osn_cidr_format(sn, a, sizeof(a));
                if (*hp <= sn->prefixlen || *hp > max)
                        return invalid(c,
                                       "key \"subnets\": \"%s\" with host prefix /%u: a node's "
                                       "host subnet must be longer than the cluster CIDR and at "
                                       "most /%u (write \"%s/<hostPrefix>\")",
                                       a, *hp, max, a);
        }
        return 0;
}

unsigned osn_netconf_host_prefix(const struct osn_netconf *nc, int family)
{
        return family == AF_INET ? nc->host_prefix4 : nc->host_prefix6;
}

/* Step 4a: the topology, from the dialect and the keys that imply it. */
static int check_topology(struct parse_ctx *c)
{
        struct osn_netconf *nc = c->nc;
        if (nc->dialect == OSN_DIALECT_SEED) {
                nc->topology = nc->external ? OSN_TOPO_LOCALNET : OSN_TOPO_LAYER2;
        } else {
                /* No topology: upstream's default, layer3. */
                if (!c->topology_str) {
                        c->topology_str = "layer3";
                        nc->topology = OSN_TOPO_LAYER3;
                }
                /* Upstream reserves these names for its own networks
                 * (ValidateNetConfNameFields in pkg/config/cni.go): the
                 * cluster's default network and "ovn-kubernetes".  A NAD
                 * written for upstream must keep working there. */
                if (streq(nc->name, "default") || streq(nc->name, "ovn-kubernetes"))
                        return invalid(c,
                                       "key \"name\": \"%s\" is reserved by upstream "
                                       "ovn-kubernetes for its own network; choose another name",
                                       nc->name);
                const char *which = nc->vlan             ? "vlanID"
                                    : c->has_physnet_key ? "physicalNetworkName"
                                                         : NULL;
                if (nc->topology != OSN_TOPO_LOCALNET && which)
                        return invalid(c,
                                       "key \"%s\" is only valid with \"topology\": \"localnet\" "
                                       "(this network is \"%s\")",
                                       which, c->topology_str);
                if (nc->topology == OSN_TOPO_LOCALNET) {
                        nc->external = true;
                        if (!nc->physical_network) {
                                nc->physical_network = strdup(nc->name);
                                if (!nc->physical_network)
                                        return -ENOMEM;
                        }
                }
        }

        return 0;
}

/* Step 4b: the keys upstream keeps to layer2, and the ranges inside the
 * subnets. */
static int check_ranges_all(struct parse_ctx *c)
{
        struct osn_netconf *nc = c->nc;
        char a[OSN_CIDR_STRLEN], b[OSN_CIDR_STRLEN];
        int r;
        /* Upstream keeps these three to layer2 (ValidateNetConf in
         * ovn-kubernetes' pkg/util/multi_network.go): on localnet the
         * physical network's own router and DHCP own its infrastructure. */
        static const char *const layer2_only[] = {"reservedSubnets", "infrastructureSubnets",
                                                  "defaultGatewayIPs"};
        const size_t layer2_only_n[] = {nc->n_reserved, nc->n_infrastructure, nc->n_gateways};
        for (size_t k = 0; k < ARRAY_SIZE(layer2_only); k++)
                if (layer2_only_n[k] > 0 && nc->topology != OSN_TOPO_LAYER2)
                        return invalid(c,
                                       "key \"%s\" is only valid with \"topology\": \"layer2\" "
                                       "(as upstream ovn-kubernetes; this network is \"%s\")",
                                       layer2_only[k], osn_topology_name(nc->topology));

        r = check_ranges(c, "excludeSubnets", nc->excludes, nc->n_excludes,
                         "exclude addresses from");
        if (r == 0)
                r = check_ranges(c, "reservedSubnets", nc->reserved, nc->n_reserved,
                                 "reserve addresses in");
        if (r == 0)
                r = check_ranges(c, "infrastructureSubnets", nc->infrastructure,
                                 nc->n_infrastructure, "set infrastructure addresses aside in");
        if (r == 0)
                r = check_ranges(c, "defaultGatewayIPs", nc->gateways, nc->n_gateways,
                                 "place a gateway in");
        if (r < 0)
                return r;

        /* Reserved ranges are for static requests, infrastructure ranges
         * for no pod at all: one range cannot be both (upstream's UDN API
         * says so too). */
        for (size_t i = 0; i < nc->n_reserved; i++)
                for (size_t j = 0; j < nc->n_infrastructure; j++)
                        if (osn_cidr_overlaps(&nc->reserved[i], &nc->infrastructure[j]))
                                return invalid(
                                    c,
                                    "key \"reservedSubnets\": \"%s\" overlaps "
                                    "\"infrastructureSubnets\" \"%s\": static requests "
                                    "may take reserved addresses, infrastructure "
                                    "addresses are never a pod's",
                                    osn_cidr_format(&nc->reserved[i], a, sizeof(a)),
                                    osn_cidr_format(&nc->infrastructure[j], b, sizeof(b)));

        return 0;
}

/* Step 4c: the gateways. */
static int check_gateways(struct parse_ctx *c)
{
        struct osn_netconf *nc = c->nc;
        char a[OSN_CIDR_STRLEN], b[OSN_CIDR_STRLEN];
        /* A gateway: a host address of its subnet, inside the
         * infrastructure ranges of its family when there are any (as
         * upstream's UDN API requires). */
        for (size_t i = 0; i < nc->n_gateways; i++) {
                const struct osn_cidr *gw = &nc->gateways[i];
                osn_addr_format(gw, a, sizeof(a));
                for (size_t j = 0; j < nc->n_subnets; j++) {
                        const struct osn_cidr *sn = &nc->subnets[j];
                        if (!osn_cidr_contains(sn, gw))
                                continue;
                        osn_cidr_format(sn, b, sizeof(b));
                        if (osn_addr_equal(gw, sn))
                                return invalid(c,
                                               "key \"defaultGatewayIPs\": \"%s\" is the network "
                                               "address of subnet \"%s\"",
                                               a, b);
                        if (gw->family == AF_INET && is_v4_broadcast(gw, sn))
                                return invalid(c,
                                               "key \"defaultGatewayIPs\": \"%s\" is the "
                                               "broadcast address of subnet \"%s\"",
                                               a, b);
                }
                bool family_infra = false, inside = false;
                for (size_t j = 0; j < nc->n_infrastructure; j++) {
                        if (nc->infrastructure[j].family != gw->family)
                                continue;
                        family_infra = true;
                        inside = inside || osn_cidr_contains(&nc->infrastructure[j], gw);
                }
                if (family_infra && !inside) {
                        char list[OSN_MAX_EXCLUDES * (OSN_CIDR_STRLEN + 2)];
                        format_cidrs(nc->infrastructure, nc->n_infrastructure, gw->family, list,
                                     sizeof(list));
                        return invalid(c,
                                       "key \"defaultGatewayIPs\": \"%s\" is outside the "
                                       "infrastructureSubnets (%s); a gateway is network "
                                       "infrastructure",
                                       a, list);
                }
        }

        return 0;
}

/* Step 4d: MTU against IPv6, DHCP, MAC security, static addresses. */
static int check_addressing(struct parse_ctx *c)
{
        struct osn_netconf *nc = c->nc;
        char a[OSN_CIDR_STRLEN];
        for (size_t j = 0; j < nc->n_subnets; j++)
                if (nc->subnets[j].family == AF_INET6 && nc->mtu != 0 && nc->mtu < OSN_MTU_MIN_IPV6)
                        return invalid(c,
                                       "key \"mtu\": %u is too small for IPv6 subnet \"%s\" "
                                       "(IPv6 needs at least %d)",
                                       nc->mtu, osn_cidr_format(&nc->subnets[j], a, sizeof(a)),
                                       OSN_MTU_MIN_IPV6);

        /* Static addresses: see osn_netconf_check_static_ip(). */
        if (!nc->has_dhcp)
                nc->dhcp = !nc->external;
        if (nc->dhcp_lease_time && !nc->dhcp)
                return invalid(c,
                               "key \"dhcpLeaseTime\": %u needs OVN's DHCP server, which this "
                               "network does not run (\"dhcp\" is off%s); remove the key or "
                               "set \"dhcp\": true",
                               nc->dhcp_lease_time,
                               nc->has_dhcp ? "" : ", the default on a physical network");
        if (nc->mac_security_disabled && nc->n_subnets > 0)
                return invalid(c, "key \"macSecurityMode\": \"disabled\" needs a network without "
                                  "subnets (as upstream): osn's address claims and port security "
                                  "are what keep one pod from using another's address; remove "
                                  "\"subnets\" or the key");
        for (size_t i = 0; i < nc->n_static_ips; i++) {
                char what[48];
                struct osn_error e = {0};
                snprintf(what, sizeof(what), "key \"runtimeConfig.ips[%zu]\"", i);
                if (osn_netconf_check_static_ip(nc, &nc->static_ips[i], what, &e) < 0)
                        return invalid(c, "%s", e.msg);
        }
        return 0;
}

/* Step 4: what involves more than one key. */
static int check_across_keys(struct parse_ctx *c)
{
        int r;
        if ((r = check_topology(c)) < 0 || (r = check_layer3(c)) < 0 ||
            (r = check_ranges_all(c)) < 0 || (r = check_gateways(c)) < 0 ||
            (r = check_addressing(c)) < 0)
                return r;
        return 0;
}

int osn_netconf_check_static_ip(const struct osn_netconf *nc, const struct osn_cidr *ip,
                                const char *what, struct osn_error *err)
{
        /* With no subnet at all the network is pure L2 and any address is
         * the tenant's business. */
        if (nc->n_subnets == 0)
                return 0;
        char a[OSN_CIDR_STRLEN], b[OSN_CIDR_STRLEN];
        const struct osn_cidr *in = NULL;
        for (size_t j = 0; j < nc->n_subnets && !in; j++)
                if (osn_cidr_contains(&nc->subnets[j], ip))
                        in = &nc->subnets[j];
        if (ip->prefixlen == 0)
                osn_addr_format(ip, a, sizeof(a));
        else
                osn_cidr_format(ip, a, sizeof(a));
        if (!in) {
                char list[OSN_MAX_SUBNETS * (OSN_CIDR_STRLEN + 2)];
                format_cidrs(nc->subnets, nc->n_subnets, AF_UNSPEC, list, sizeof(list));
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "%s: \"%s\" is outside the subnets of this network (%s)", what,
                                     a, list);
        }
        osn_cidr_format(in, b, sizeof(b));
        if (ip->prefixlen != 0 && ip->prefixlen != in->prefixlen)
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "%s: \"%s\" has prefix /%u but its subnet \"%s\" is /%u", what,
                                     a, ip->prefixlen, b, in->prefixlen);
        /* Which addresses no pod may hold is the allocator's to say, so that
         * validate, the parser and ADD give one answer (alloc.h). */
        struct osn_alloc *al = malloc(sizeof(*al));
        if (!al)
                return -ENOMEM;
        osn_alloc_init(al, nc);
        int r = osn_alloc_check_static(al, ip, what, err);
        free(al);
        if (r < 0)
                return r;
        return 0;
}

/* ---- decoding --------------------------------------------------------- */

/* Line and column (1-based, in characters as jansson counts them) of byte
 * 'pos'. */
static void line_col(const char *buf, size_t pos, int *line, int *col)
{
        *line = 1;
        *col = 0;
        for (size_t i = 0; i <= pos; i++) {
                if (buf[i] == '\n') {
                        (*line)++;
                        *col = 0;
                } else if (((unsigned char)buf[i] & 0xc0) != 0x80) {
                        (*col)++;
                }
        }
}

/* The commonest mistake in hand-written NADs (the seed's own samples make
 * it) is a trailing comma before '}' or ']'.  jansson reports the closing
 * bracket; this finds the comma by scanning back from there and describes
 * what it follows (the last member or element, whitespace collapsed).
 * *ret_line, *ret_column get the comma's place. */
static bool trailing_comma_hint(const char *buf, size_t len, const json_error_t *je, char *out,
                                size_t outlen, int *ret_line, int *ret_column)
{
        if (je->position <= 1 || (size_t)je->position > len)
                return false;
        size_t end = (size_t)je->position - 1;
        if (buf[end] != '}' && buf[end] != ']')
                return false;
        size_t i = end;
        while (i > 0 && is_blank(buf[i - 1]))
                i--;
        if (i == 0 || buf[i - 1] != ',')
                return false;
        size_t comma = i - 1;

        /* Everything before the comma parsed, so it is well-formed JSON:
         * walk it forward to find where the member before the comma starts
         * (just after the '{', '[' or ',' that opened it at its depth). */
        size_t starts[64];
        size_t depth = 0;
        bool in_str = false, known = true;
        starts[0] = 0;
        for (size_t k = 0; k < comma; k++) {
                char ch = buf[k];
                if (in_str) {
                        if (ch == '\\')
                                k++;
                        else if (ch == '"')
                                in_str = false;
                } else if (ch == '"') {
                        in_str = true;
                } else if (ch == '{' || ch == '[') {
                        if (++depth >= ARRAY_SIZE(starts)) {
                                known = false;
                                break;
                        }
                        starts[depth] = k + 1;
                } else if (ch == '}' || ch == ']') {
                        if (depth > 0)
                                depth--;
                } else if (ch == ',') {
                        starts[depth] = k + 1;
                }
        }

        char what[96] = "";
        if (known) {
                size_t o = 0;
                bool blank = false;
                for (size_t k = starts[depth]; k < comma && o + 1 < sizeof(what); k++) {
                        if (is_blank(buf[k])) {
                                blank = o > 0;
                                continue;
                        }
                        if (blank && o + 2 < sizeof(what))
                                what[o++] = ' ';
                        blank = false;
                        what[o++] = buf[k];
                }
                what[o] = 0;
                cut_utf8(what, 60);
        }

        int line, col;
        line_col(buf, comma, &line, &col);
        if (what[0])
                snprintf(out, outlen, "remove the trailing comma after %s at line %d, column %d",
                         what, line, col);
        else
                snprintf(out, outlen, "remove the trailing comma at line %d, column %d", line, col);
        *ret_line = line;
        *ret_column = col;
        return true;
}

static int decode(struct parse_ctx *c, const char *buf, size_t len, json_t **ret)
{
        size_t b = 0;
        while (b < len && is_blank(buf[b]))
                b++;
        if (b == len)
                return fail(c, OSN_CNI_DECODE_FAILURE, "the network configuration is empty");

        /* Flags: none.  Duplicate keys are accepted (last wins, as in Go);
         * NUL inside strings and trailing garbage are refused. */
        json_error_t je;
        json_t *root = json_loadb(buf, len, 0, &je);
        if (!root) {
                /* jansson quotes the offending token raw, line breaks and
                 * all; messages are one line, so escape control bytes.  It
                 * also names its own flag for NUL; say what that means. */
                static const char nul[] = "\\u0000 is not allowed without JSON_ALLOW_NUL";
                char raw[sizeof(je.text) + 64], text[4 * sizeof(raw)];
                const char *at = strstr(je.text, nul);
                if (at)
                        snprintf(raw, sizeof(raw),
                                 "NUL characters (\\u0000) are not allowed in strings%s",
                                 at + strlen(nul));
                else
                        snprintf(raw, sizeof(raw), "%s", je.text);
                size_t o = 0;
                for (const unsigned char *p = (const unsigned char *)raw; *p; p++) {
                        if (*p >= 0x20 && *p != 0x7f)
                                text[o++] = (char)*p;
                        else if (*p == '\n')
                                o += (size_t)sprintf(text + o, "\\n");
                        else if (*p == '\t')
                                o += (size_t)sprintf(text + o, "\\t");
                        else
                                o += (size_t)sprintf(text + o, "\\x%02x", *p);
                }
                text[o] = 0;
                /* The error points at the comma when the hint blames one:
                 * that is where the fix goes. */
                char hint[200];
                int line, col;
                if (trailing_comma_hint(buf, len, &je, hint, sizeof(hint), &line, &col))
                        return fail_at(c, line, col, OSN_CNI_DECODE_FAILURE,
                                       "invalid JSON at line %d, column %d: %s; %s", je.line,
                                       je.column, text, hint);
                return fail_at(c, je.line > 0 ? je.line : 0, je.column > 0 ? je.column : 0,
                               OSN_CNI_DECODE_FAILURE, "invalid JSON at line %d, column %d: %s",
                               je.line, je.column, text);
        }
        if (!json_is_object(root)) {
                const char *t = json_is_array(root) ? "an array" : "not an object";
                json_decref(root);
                return fail(c, OSN_CNI_DECODE_FAILURE,
                            "the network configuration must be a JSON object, got %s", t);
        }
        *ret = root;
        return 0;
}

int osn_netconf_parse(const char *buf, size_t len, const char *origin, struct osn_netconf **ret,
                      struct osn_error *err)
{
        struct parse_ctx c = {.origin = origin, .err = err};
        int r;

        if (!buf)
                len = 0;
        _cleanup_netconf_ struct osn_netconf *nc = calloc(1, sizeof(*nc));
        if (!nc)
                return -ENOMEM;
        c.nc = nc;

        r = decode(&c, buf ? buf : "", len, &nc->raw);
        if (r < 0)
                return r;

        for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
                if (keys[i].required && !get_key(nc->raw, keys[i].key))
                        return invalid(&c, "key \"%s\" is required", keys[i].key);

        /* "type" decides the default dialect, so check it first. */
        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                if (keys[i].parse != key_type)
                        continue;
                r = parse_key(&c, &keys[i], get_key(nc->raw, keys[i].key));
                if (r < 0)
                        return r;
        }
        r = decide_dialect(&c, nc->raw, nc->type);
        if (r < 0)
                return r;

        for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
                const json_t *v = get_key(nc->raw, keys[i].key);
                if (!v || keys[i].parse == key_type)
                        continue;
                r = parse_key(&c, &keys[i], v);
                if (r < 0)
                        return r;
        }

        r = check_across_keys(&c);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(nc);
        return 0;
}

void osn_netconf_free(struct osn_netconf *nc)
{
        if (!nc)
                return;
        free(nc->cni_version);
        free(nc->name);
        free(nc->type);
        free(nc->physical_network);
        free(nc->nad_name);
        free(nc->claim_ref);
        for (size_t i = 0; i < nc->n_dns_search; i++)
                free(nc->dns_search[i]);
        free(nc->dns_domain);
        json_decref(nc->prev_result);
        json_decref(nc->raw);
        free(nc);
}

/* ---- warnings ----------------------------------------------------------- */

/* Keys that are not osn's but that a config may carry on purpose: the CNI
 * spec's own, and upstream ovn-kubernetes' that osn accepts and ignores
 * (primary-network and logging keys).  They are never "unknown". */
static const char *const other_known_keys[] = {
    "args",     "capabilities",    "cniVersions",        "disableCheck",   "disableGC",
    "plugins",  "joinSubnet",      "transitSubnet",      "deviceID",       "logFile",
    "logLevel", "logfile-maxsize", "logfile-maxbackups", "logfile-maxage", "transport",
    "evpn",     "outboundSNAT",
};

/* Edit distance (optimal string alignment: insert, delete, substitute, swap
 * two neighbours), case-insensitive, capped: anything above 'cap' is
 * cap + 1. */
static size_t edit_distance(const char *a, const char *b, size_t cap)
{
        size_t la = strlen(a), lb = strlen(b);
        if (la > 64 || lb > 64)
                return cap + 1;
        if ((la > lb ? la - lb : lb - la) > cap)
                return cap + 1;
        size_t d[65][65];
        for (size_t i = 0; i <= la; i++)
                d[i][0] = i;
        for (size_t j = 0; j <= lb; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= la; i++)
                for (size_t j = 1; j <= lb; j++) {
                        bool same =
                            tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 1]);
                        size_t v = d[i - 1][j - 1] + !same;
                        if (d[i - 1][j] + 1 < v)
                                v = d[i - 1][j] + 1;
                        if (d[i][j - 1] + 1 < v)
                                v = d[i][j - 1] + 1;
                        if (i > 1 && j > 1 &&
                            tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
                            tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
                            d[i - 2][j - 2] + 1 < v)
                                v = d[i - 2][j - 2] + 1;
                        d[i][j] = v;
                }
        return d[la][lb] > cap ? cap + 1 : d[la][lb];
}

size_t osn_closest_words(const char *s, const char *const *words, size_t n, const char **ret,
                         size_t max)
{
        /* Close means one edit in a short word, two in a longer one: far
         * enough for a typo, near enough not to guess. */
        size_t len = strlen(s), cap = len <= 4 ? 1 : len <= 10 ? 2 : 3, best = cap + 1, found = 0;
        for (size_t i = 0; i < n; i++) {
                if (streq(s, words[i]))
                        return 0;
                size_t d = edit_distance(s, words[i], cap);
                if (d > cap || d > best)
                        continue;
                if (d < best) {
                        best = d;
                        found = 0;
                }
                if (found < max)
                        ret[found++] = words[i];
        }
        return found;
}

/* The known keys, osn's and the others, for osn_closest_words(). */
static size_t known_keys(const char **out, size_t max)
{
        size_t n = 0;
        for (size_t i = 0; i < ARRAY_SIZE(keys) && n < max; i++)
                out[n++] = keys[i].key;
        for (size_t i = 0; i < ARRAY_SIZE(other_known_keys) && n < max; i++)
                out[n++] = other_known_keys[i];
        return n;
}

struct key_seen {
        char *key;
        size_t offset;
};

static int add_warning(struct osn_netconf_warning **v, size_t *n, const char *buf, size_t off,
                       const struct key_seen *prev, const char *msg)
{
        struct osn_netconf_warning *w = realloc(*v, (*n + 1) * sizeof(**v));
        if (!w)
                return -ENOMEM;
        *v = w;
        w = &w[(*n)++];
        memset(w, 0, sizeof(*w));
        snprintf(w->msg, sizeof(w->msg), "%s", msg);
        w->offset = off;
        line_col(buf, off, &w->line, &w->column);
        if (prev) {
                w->prev_offset = prev->offset;
                line_col(buf, prev->offset, &w->prev_line, &w->prev_column);
        }
        return 0;
}

/* The top-level keys of 'buf' (a JSON object that decodes), with the
 * offset of each key's opening quote, in order. */
static int top_level_keys(const char *buf, size_t len, struct key_seen **ret, size_t *ret_n)
{
        struct key_seen *v = NULL;
        size_t n = 0, depth = 0;
        bool expect_key = false;
        for (size_t i = 0; i < len; i++) {
                char ch = buf[i];
                if (ch == '"') {
                        size_t start = i;
                        for (i++; i < len && buf[i] != '"'; i++)
                                if (buf[i] == '\\')
                                        i++;
                        if (depth == 1 && expect_key) {
                                json_t *k =
                                    json_loadb(buf + start, i + 1 - start, JSON_DECODE_ANY, NULL);
                                struct key_seen *nv = realloc(v, (n + 1) * sizeof(*v));
                                if (nv)
                                        v = nv;
                                char *ks =
                                    k && json_is_string(k) ? strdup(json_string_value(k)) : NULL;
                                json_decref(k);
                                if (!nv || !ks) {
                                        free(ks);
                                        for (size_t j = 0; j < n; j++)
                                                free(v[j].key);
                                        free(v);
                                        return -ENOMEM;
                                }
                                v[n++] = (struct key_seen){ks, start};
                                expect_key = false;
                        }
                } else if (ch == '{' || ch == '[') {
                        depth++;
                        expect_key = ch == '{' && depth == 1;
                } else if (ch == '}' || ch == ']') {
                        depth--;
                } else if (ch == ',' && depth == 1) {
                        expect_key = true;
                }
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* The warning about top-level key 'key' of config 'root' that concerns
 * VMs, or NULL: allowPersistentIPs whose identity cannot arrive, and "dns"
 * that nothing hands out. */
static const char *vm_warning(const json_t *root, const char *key)
{
        if (streq(key, "allowPersistentIPs") && json_is_true(get_key(root, key)) &&
            !json_is_true(get_key(get_key(root, "capabilities"), "mac")))
                return "key \"allowPersistentIPs\" without \"capabilities\": {\"mac\": true}: "
                       "Multus passes no VM MAC, so a KubeVirt VM without an ipam-claim-reference "
                       "in cni-args gets no identity; add \"capabilities\": {\"mac\": true, "
                       "\"ips\": true}";
        if (streq(key, "dns") && json_is_object(get_key(root, key))) {
                const json_t *d = get_key(root, "dhcp");
                const json_t *topo = get_key(root, "topology");
                bool physical =
                    json_is_true(get_key(root, "has_external_connectivity")) ||
                    (json_is_string(topo) && streq(json_string_value(topo), "localnet"));
                bool dhcp = json_is_boolean(d) ? json_is_true(d) : !physical;
                if (!dhcp)
                        return "key \"dns\" on a network without OVN's DHCP server (\"dhcp\" is "
                               "off): nothing hands it to the pods; set \"dhcp\": true or remove "
                               "it";
        }
        return NULL;
}

int osn_netconf_warnings(const char *buf, size_t len, struct osn_netconf_warning **ret,
                         size_t *ret_n)
{
        *ret = NULL;
        *ret_n = 0;
        _cleanup_json_ json_t *root = buf ? json_loadb(buf, len, 0, NULL) : NULL;
        if (!json_is_object(root))
                return 0;
        struct key_seen *seen = NULL;
        size_t n_seen = 0;
        int r = top_level_keys(buf, len, &seen, &n_seen);
        if (r < 0)
                return r;
        const char *known[ARRAY_SIZE(keys) + ARRAY_SIZE(other_known_keys)];
        size_t n_known = known_keys(known, ARRAY_SIZE(known));
        struct osn_netconf_warning *v = NULL;
        size_t n = 0;
        char msg[256], shown[96];
        for (size_t i = 0; i < n_seen && r == 0; i++) {
                const char *key = seen[i].key;
                show_str(key, shown, sizeof(shown));
                const struct key_seen *prev = NULL;
                for (size_t j = 0; j < i && !prev; j++)
                        if (streq(seen[j].key, key))
                                prev = &seen[j];
                if (prev) {
                        snprintf(msg, sizeof(msg), "key %s is given twice; the last one wins",
                                 shown);
                        r = add_warning(&v, &n, buf, seen[i].offset, prev, msg);
                        continue;
                }
                const char *near[3];
                size_t k = osn_closest_words(key, known, n_known, near, ARRAY_SIZE(near));
                if (k == 0)
                        continue;
                int o =
                    snprintf(msg, sizeof(msg), "unknown key %s is ignored; did you mean ", shown);
                for (size_t j = 0; j < k && o > 0 && (size_t)o < sizeof(msg); j++)
                        o += snprintf(msg + o, sizeof(msg) - (size_t)o, "%s\"%s\"",
                                      j == 0       ? ""
                                      : j + 1 == k ? " or "
                                                   : ", ",
                                      near[j]);
                if (o > 0 && (size_t)o < sizeof(msg))
                        snprintf(msg + o, sizeof(msg) - (size_t)o, "?");
                r = add_warning(&v, &n, buf, seen[i].offset, NULL, msg);
        }
        for (size_t i = 0; i < n_seen && r == 0; i++) {
                const char *w = vm_warning(root, seen[i].key);
                if (w)
                        r = add_warning(&v, &n, buf, seen[i].offset, NULL, w);
        }
        for (size_t i = 0; i < n_seen; i++)
                free(seen[i].key);
        free(seen);
        if (r < 0) {
                free(v);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* ---- checks against the node ------------------------------------------ */

int osn_netconf_check_mtu(const struct osn_netconf *nc, unsigned overlay_mtu, unsigned physical_mtu,
                          struct osn_error *err)
{
        if (nc->mtu == 0)
                return 0;
        /* A localnet network's pods reach each other over the physical
         * network, an overlay network's over Geneve between the nodes. */
        bool external = nc->external;
        unsigned limit = external ? physical_mtu : overlay_mtu;
        if (limit == 0 || nc->mtu <= limit)
                return 0;
        return osn_error_set(
            err, -EINVAL, OSN_CNI_INVALID_CONFIG,
            "key \"mtu\": %u is above this node's %s MTU %u (%s); packets larger than %u bytes "
            "would be dropped; set \"mtu\" to %u or less, or omit it to use %u",
            nc->mtu, external ? "physical" : "overlay", limit,
            external ? "node config \"physical_mtu\""
                     : "node config \"overlay_mtu\", or \"underlay_mtu\" minus 58 bytes of Geneve",
            limit, limit, limit);
}

/* ---- output ----------------------------------------------------------- */

const char *osn_dialect_name(enum osn_dialect d)
{
        return d == OSN_DIALECT_SEED ? "seed" : "upstream";
}

const char *osn_topology_name(enum osn_topology t)
{
        return t == OSN_TOPO_LOCALNET ? "localnet" : t == OSN_TOPO_LAYER3 ? "layer3" : "layer2";
}

/* A growing string; on allocation failure it stays NULL and the caller
 * returns NULL. */
struct sbuf {
        char *s;
        size_t len, cap;
        bool failed;
};

_printf_(2, 3) static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
        if (sb->failed)
                return;
        for (;;) {
                va_list ap;
                va_start(ap, fmt);
                size_t room = sb->cap - sb->len;
                int n = vsnprintf(sb->s ? sb->s + sb->len : NULL, sb->s ? room : 0, fmt, ap);
                va_end(ap);
                if (n < 0) {
                        sb->failed = true;
                        return;
                }
                if (sb->s && (size_t)n < room) {
                        sb->len += (size_t)n;
                        return;
                }
                size_t cap = (sb->cap ? sb->cap * 2 : 128) + (size_t)n + 1;
                char *s = realloc(sb->s, cap);
                if (!s) {
                        sb->failed = true;
                        return;
                }
                sb->s = s;
                sb->cap = cap;
        }
}

static char *sb_take(struct sbuf *sb)
{
        if (sb->failed) {
                free(sb->s);
                return NULL;
        }
        if (!sb->s)
                return strdup("");
        return sb->s;
}

static void sb_cidrs(struct sbuf *sb, const struct osn_cidr *v, size_t n, const char *none)
{
        char a[OSN_CIDR_STRLEN];
        if (n == 0 && none)
                sb_printf(sb, "%s", none);
        for (size_t i = 0; i < n; i++)
                sb_printf(sb, "%s%s", i ? "," : "", osn_cidr_format(&v[i], a, sizeof(a)));
}

/* The DHCP options of the network (newer still, each only when set). */
static void dhcp_fingerprint(struct sbuf *sb, const struct osn_netconf *nc)
{
        char a[OSN_CIDR_STRLEN];
        if (nc->dhcp_lease_time)
                sb_printf(sb, " lease=%u", nc->dhcp_lease_time);
        for (size_t i = 0; i < nc->n_dns_servers; i++)
                sb_printf(sb, "%s%s",
                          i ? "," : " dns=", osn_addr_format(&nc->dns_servers[i], a, sizeof(a)));
        for (size_t i = 0; i < nc->n_dns_search; i++)
                sb_printf(sb, "%s%s", i ? "," : " search=", nc->dns_search[i]);
        if (nc->dns_domain)
                sb_printf(sb, " domain=%s", nc->dns_domain);
}

/* Subnets and excludes are kept sorted (IPv4 first, then by address), so
 * the canonical form is a plain rendering. */
char *osn_netconf_fingerprint(const struct osn_netconf *nc)
{
        struct sbuf sb = {0};
        sb_printf(&sb, "topology=%s subnets=", osn_topology_name(nc->topology));
        sb_cidrs(&sb, nc->subnets, nc->n_subnets, NULL);
        sb_printf(&sb, " excludes=");
        sb_cidrs(&sb, nc->excludes, nc->n_excludes, NULL);
        sb_printf(&sb, " mtu=%u external=%s", nc->mtu, nc->external ? "yes" : "no");
        if (nc->external)
                sb_printf(&sb, " physnet=%s vlan=%u",
                          nc->physical_network ? nc->physical_network : "", nc->vlan);
        /* Newer keys go last and only when set, so that a network that an
         * older osn created (and whose NAD has none of them) keeps its
         * fingerprint. */
        if (nc->has_dhcp && nc->dhcp == nc->external && nc->topology != OSN_TOPO_LAYER3)
                sb_printf(&sb, " dhcp=%s", nc->dhcp ? "on" : "off");
        if (nc->host_prefix4)
                sb_printf(&sb, " hostprefix4=%u", nc->host_prefix4);
        if (nc->host_prefix6)
                sb_printf(&sb, " hostprefix6=%u", nc->host_prefix6);
        if (nc->mac_security_disabled)
                sb_printf(&sb, " macsecurity=disabled");
        static const char *const newer[] = {"reserved", "infrastructure", "gateways"};
        const struct osn_cidr *const lists[] = {nc->reserved, nc->infrastructure, nc->gateways};
        const size_t counts[] = {nc->n_reserved, nc->n_infrastructure, nc->n_gateways};
        for (size_t k = 0; k < ARRAY_SIZE(newer); k++) {
                if (counts[k] == 0)
                        continue;
                sb_printf(&sb, " %s=", newer[k]);
                sb_cidrs(&sb, lists[k], counts[k], NULL);
        }
        dhcp_fingerprint(&sb, nc);
        return sb_take(&sb);
}

/* Reads the 'len' bytes at 's' as a comma-separated CIDR list, as
 * sb_cidrs() writes it, into v[], up to the first entry that does not
 * parse. */
static int fingerprint_cidrs(const char *s, size_t len, struct osn_cidr *v, size_t max,
                             size_t *ret_n)
{
        char buf[2048];
        *ret_n = 0;
        if (len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = 0;
        size_t n = 0;
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                if (n == max || osn_cidr_parse(t, true, &v[n]) < 0) {
                        *ret_n = n;
                        return -EINVAL;
                }
                n++;
        }
        *ret_n = n;
        return 0;
}

/* Reads the 'len' bytes at 's' as a decimal number up to 'max'. */
static int fingerprint_uint(const char *s, size_t len, unsigned long max, unsigned *ret)
{
        char num[16] = "";
        if (len == 0 || len >= sizeof(num))
                return -EINVAL;
        memcpy(num, s, len);
        char *end = NULL;
        unsigned long v = strtoul(num, &end, 10);
        if (!end || *end || v > max)
                return -EINVAL;
        *ret = (unsigned)v;
        return 0;
}

/* Whether the 'len' bytes at 's' are 'word'. */
static bool token_is(const char *s, size_t len, const char *word)
{
        return len == strlen(word) && memcmp(s, word, len) == 0;
}

/* The fingerprint is space-separated key=value pairs whose values hold no
 * spaces (no CIDR does, and a physical network name cannot). */
int osn_netconf_fingerprint_parse(const char *fp, struct osn_netconf_settings *ret)
{
        struct osn_netconf_settings *st = ret;
        int r = 0;
        memset(st, 0, sizeof(*st));
        for (const char *p = fp; p && *p; p += strcspn(p, " ")) {
                p += strspn(p, " ");
                size_t len = strcspn(p, " ");
                const char *eq = memchr(p, '=', len);
                if (len == 0)
                        break;
                if (!eq) {
                        r = -EINVAL;
                        continue;
                }
                const char *k = p, *v = eq + 1;
                size_t klen = (size_t)(eq - p), vlen = len - klen - 1;
                bool ok = true;
                if (token_is(k, klen, "topology")) {
                        bool localnet = token_is(v, vlen, "localnet");
                        bool layer3 = token_is(v, vlen, "layer3");
                        ok = st->has_topology = localnet || layer3 || token_is(v, vlen, "layer2");
                        st->topology = localnet ? OSN_TOPO_LOCALNET
                                       : layer3 ? OSN_TOPO_LAYER3
                                                : OSN_TOPO_LAYER2;
                } else if (token_is(k, klen, "hostprefix4")) {
                        ok = fingerprint_uint(v, vlen, 32, &st->host_prefix4) == 0;
                } else if (token_is(k, klen, "hostprefix6")) {
                        ok = fingerprint_uint(v, vlen, 128, &st->host_prefix6) == 0;
                } else if (token_is(k, klen, "subnets")) {
                        ok = fingerprint_cidrs(v, vlen, st->subnets, OSN_MAX_SUBNETS,
                                               &st->n_subnets) == 0;
                } else if (token_is(k, klen, "excludes")) {
                        ok = fingerprint_cidrs(v, vlen, st->excludes, OSN_MAX_EXCLUDES,
                                               &st->n_excludes) == 0;
                } else if (token_is(k, klen, "reserved")) {
                        ok = fingerprint_cidrs(v, vlen, st->reserved, OSN_MAX_EXCLUDES,
                                               &st->n_reserved) == 0;
                } else if (token_is(k, klen, "infrastructure")) {
                        ok = fingerprint_cidrs(v, vlen, st->infrastructure, OSN_MAX_EXCLUDES,
                                               &st->n_infrastructure) == 0;
                } else if (token_is(k, klen, "gateways")) {
                        ok = fingerprint_cidrs(v, vlen, st->gateways, OSN_MAX_SUBNETS,
                                               &st->n_gateways) == 0;
                } else if (token_is(k, klen, "mtu")) {
                        ok = st->has_mtu = fingerprint_uint(v, vlen, OSN_MTU_MAX, &st->mtu) == 0;
                } else if (token_is(k, klen, "external")) {
                        st->external = token_is(v, vlen, "yes");
                        ok = st->external || token_is(v, vlen, "no");
                } else if (token_is(k, klen, "physnet")) {
                        ok = vlen < sizeof(st->physical_network);
                        if (ok) {
                                memcpy(st->physical_network, v, vlen);
                                st->physical_network[vlen] = 0;
                        }
                } else if (token_is(k, klen, "vlan")) {
                        ok = fingerprint_uint(v, vlen, OSN_VLAN_MAX, &st->vlan) == 0;
                }
                if (!ok)
                        r = -EINVAL;
        }
        return r;
}

char *osn_netconf_describe(const struct osn_netconf *nc)
{
        struct sbuf sb = {0};
        char a[OSN_CIDR_STRLEN], mac[OSN_MAC_STRLEN];
        sb_printf(&sb, "name: %s\n", nc->name);
        sb_printf(&sb, "type: %s\n", nc->type);
        sb_printf(&sb, "cniVersion: %s\n", nc->cni_version);
        sb_printf(&sb, "dialect: %s\n", osn_dialect_name(nc->dialect));
        sb_printf(&sb, "topology: %s\n", osn_topology_name(nc->topology));
        sb_printf(&sb, "subnets: ");
        sb_cidrs(&sb, nc->subnets, nc->n_subnets, "none (layer 2 only, no IPAM)");
        if (nc->topology == OSN_TOPO_LAYER3) {
                sb_printf(&sb, "\nhost subnets (one per node):");
                if (nc->host_prefix4)
                        sb_printf(&sb, " IPv4 /%u", nc->host_prefix4);
                if (nc->host_prefix6)
                        sb_printf(&sb, " IPv6 /%u", nc->host_prefix6);
        }
        sb_printf(&sb, "\nexcludes: ");
        sb_cidrs(&sb, nc->excludes, nc->n_excludes, "none");
        if (nc->n_reserved) {
                sb_printf(&sb, "\nreserved (static requests only): ");
                sb_cidrs(&sb, nc->reserved, nc->n_reserved, NULL);
        }
        if (nc->n_infrastructure) {
                sb_printf(&sb, "\ninfrastructure (never a pod's): ");
                sb_cidrs(&sb, nc->infrastructure, nc->n_infrastructure, NULL);
        }
        if (nc->n_gateways) {
                sb_printf(&sb, "\ngateways (never a pod's): ");
                for (size_t i = 0; i < nc->n_gateways; i++)
                        sb_printf(&sb, "%s%s", i ? "," : "",
                                  osn_addr_format(&nc->gateways[i], a, sizeof(a)));
        }
        if (nc->mtu)
                sb_printf(&sb, "\nmtu: %u\n", nc->mtu);
        else
                sb_printf(&sb, "\nmtu: node default\n");
        sb_printf(&sb, "external: %s\n", nc->external ? "yes" : "no");
        if (nc->external) {
                sb_printf(&sb, "physical network: %s\n",
                          nc->physical_network ? nc->physical_network : "node default");
                if (nc->vlan)
                        sb_printf(&sb, "vlan: %u\n", nc->vlan);
                else
                        sb_printf(&sb, "vlan: none\n");
        }
        if (nc->nad_name)
                sb_printf(&sb, "netAttachDefName: %s\n", nc->nad_name);
        sb_printf(&sb, "allowPersistentIPs: %s\n", nc->allow_persistent_ips ? "yes" : "no");
        if (nc->n_static_ips) {
                sb_printf(&sb, "static ips: ");
                for (size_t i = 0; i < nc->n_static_ips; i++)
                        sb_printf(&sb, "%s%s", i ? "," : "",
                                  osn_cidr_format(&nc->static_ips[i], a, sizeof(a)));
                sb_printf(&sb, "\n");
        }
        if (nc->has_static_mac)
                sb_printf(&sb, "static mac: %s\n",
                          osn_mac_format(nc->static_mac, mac, sizeof(mac)));
        if (nc->dhcp) {
                if (nc->dhcp_lease_time)
                        sb_printf(&sb, "dhcp lease time: %u s\n", nc->dhcp_lease_time);
                for (size_t i = 0; i < nc->n_dns_servers; i++)
                        sb_printf(&sb, "%s%s", i ? "," : "dns nameservers: ",
                                  osn_addr_format(&nc->dns_servers[i], a, sizeof(a)));
                for (size_t i = 0; i < nc->n_dns_search; i++)
                        sb_printf(&sb, "%s%s", i ? "," : "\ndns search: ", nc->dns_search[i]);
                if (nc->dns_domain)
                        sb_printf(&sb, "\ndns domain: %s", nc->dns_domain);
                if (nc->n_dns_servers || nc->n_dns_search || nc->dns_domain)
                        sb_printf(&sb, "\n");
        }
        _cleanup_free_ char *fp = osn_netconf_fingerprint(nc);
        sb_printf(&sb, "fingerprint: %s\n", fp ? fp : "?");
        return sb_take(&sb);
}

json_t *osn_netconf_to_json(const struct osn_netconf *nc)
{
        char mac[OSN_MAC_STRLEN];
        _cleanup_free_ char *fp = osn_netconf_fingerprint(nc);
        json_t *gateways = json_array();
        char a[OSN_CIDR_STRLEN];
        for (size_t i = 0; gateways && i < nc->n_gateways; i++)
                json_array_append_new(gateways,
                                      json_string(osn_addr_format(&nc->gateways[i], a, sizeof(a))));
        json_t *o = json_pack(
            "{s:s, s:s, s:s, s:s, s:s, s:o, s:o, s:I, s:b, s:s?, s:I, s:s?, s:b, s:o, s:s?, "
            "s:s?, s:o, s:o, s:o*}",
            "name", nc->name, "type", nc->type, "cniVersion", nc->cni_version, "dialect",
            osn_dialect_name(nc->dialect), "topology", osn_topology_name(nc->topology), "subnets",
            osn_cidrs_to_json(nc->subnets, nc->n_subnets), "excludeSubnets",
            osn_cidrs_to_json(nc->excludes, nc->n_excludes), "mtu", (json_int_t)nc->mtu, "external",
            nc->external, "physicalNetworkName", nc->physical_network, "vlanID",
            (json_int_t)nc->vlan, "netAttachDefName", nc->nad_name, "allowPersistentIPs",
            nc->allow_persistent_ips, "staticIPs",
            osn_cidrs_to_json(nc->static_ips, nc->n_static_ips), "staticMAC",
            nc->has_static_mac ? osn_mac_format(nc->static_mac, mac, sizeof(mac)) : NULL,
            "fingerprint", fp, "reservedSubnets", osn_cidrs_to_json(nc->reserved, nc->n_reserved),
            "infrastructureSubnets", osn_cidrs_to_json(nc->infrastructure, nc->n_infrastructure),
            "defaultGatewayIPs", gateways);
        if (o && nc->dhcp_lease_time)
                json_object_set_new(o, "dhcpLeaseTime", json_integer(nc->dhcp_lease_time));
        if (o && nc->topology == OSN_TOPO_LAYER3) {
                json_t *hp = json_object();
                if (hp && nc->host_prefix4)
                        json_object_set_new(hp, "ipv4", json_integer(nc->host_prefix4));
                if (hp && nc->host_prefix6)
                        json_object_set_new(hp, "ipv6", json_integer(nc->host_prefix6));
                json_object_set_new(o, "hostPrefix", hp);
        }
        if (o && (nc->n_dns_servers || nc->n_dns_search || nc->dns_domain)) {
                json_t *ns = json_array(), *search = json_array();
                for (size_t i = 0; i < nc->n_dns_servers; i++)
                        json_array_append_new(
                            ns, json_string(osn_addr_format(&nc->dns_servers[i], a, sizeof(a))));
                for (size_t i = 0; i < nc->n_dns_search; i++)
                        json_array_append_new(search, json_string(nc->dns_search[i]));
                json_object_set_new(o, "dns",
                                    json_pack("{s:o, s:o, s:s?}", "nameservers", ns, "search",
                                              search, "domain", nc->dns_domain));
        }
        return o;
}
