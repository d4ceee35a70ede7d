/* cni: the CNI protocol at the program edge (CNI spec 0.1.0 .. 1.1.0).
 *
 * - The environment: CNI_COMMAND, CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME,
 *   CNI_ARGS, CNI_PATH, checked per verb as the spec requires (e.g. DEL
 *   needs no netns; ADD needs all; GC, STATUS and VERSION read no
 *   attachment variables, and CNI_PATH is never required since osn runs no
 *   other plugin).  Errors are OSN_CNI_INVALID_ENV and name the variable
 *   and the offending value.
 * - CNI_ARGS, parsed tolerantly as Multus sends it:
 *   "IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p;..." (unknown keys
 *   ignored, empty items skipped, the last duplicate wins); IP= (comma
 *   separated, CIDR or bare address) and MAC= are validated.
 * - Versions: which are supported, how they compare, and incompatibility
 *   errors (OSN_CNI_INCOMPATIBLE_VERSION).
 * - Results and errors as JSON in the shape of the requested version:
 *   0.1.0/0.2.0: {"cniVersion", "ip4": {"ip", "gateway"?}, "ip6": ..., "dns"}
 *   0.3.0/0.3.1/0.4.0: {"cniVersion", "interfaces": [{"name","mac"?,
 *       "sandbox"?}], "ips": [{"version":"4","address","gateway"?,
 *       "interface": idx}], "routes"?, "dns"}
 *   1.0.0: as 0.4.0 without "ips[].version".
 *   1.1.0: as 1.0.0 plus "mtu" on interfaces (the field first appears in
 *       spec 1.1.0; older versions never carry it).
 *   Errors: {"cniVersion", "code", "msg", "details"?}.
 *
 * Ownership: parsed structures are caller-allocated and fixed-size; JSON
 * results are new references.
 */
#ifndef OSN_CNI_H
#define OSN_CNI_H

#include <limits.h>
#include <net/if.h>

#include "addr.h"
#include "error.h"
#include "util.h"

#define OSN_CNI_LATEST_VERSION "1.1.0"

enum osn_cni_verb {
        OSN_VERB_ADD,
        OSN_VERB_DEL,
        OSN_VERB_CHECK,
        OSN_VERB_VERSION,
        OSN_VERB_STATUS,
        OSN_VERB_GC,
};

#define OSN_CNI_MAX_IPS      8
#define OSN_CNI_BAD_UTF8_MAX 256

struct osn_cni_args {
        char pod_namespace[254];
        char pod_name[254];
        char pod_uid[64];
        char infra_container_id[128];
        struct osn_cidr ips[OSN_CNI_MAX_IPS]; /* IP=; prefixlen 0 when given bare */
        size_t n_ips;
        bool has_mac;
        uint8_t mac[6]; /* MAC= */
        /* When parsing failed because a value is not valid UTF-8: "KEY=value"
         * (for a DEL, which then has nothing to do); else "". */
        char bad_utf8[OSN_CNI_BAD_UTF8_MAX];
};

struct osn_cni_env {
        enum osn_cni_verb verb;
        char container_id[256]; /* CNI_CONTAINERID (may be empty for VERSION/STATUS/GC) */
        char netns[PATH_MAX];   /* CNI_NETNS (may be empty for DEL/GC/STATUS/VERSION) */
        char ifname[IFNAMSIZ];  /* CNI_IFNAME */
        char path[PATH_MAX];    /* CNI_PATH (unused by osn; kept for completeness) */
        struct osn_cni_args args;
        /* DEL only: non-empty when the attachment named cannot exist (its
         * CNI_IFNAME or a CNI_ARGS value is not valid UTF-8, which no ADD
         * accepts), saying why; the DEL then succeeds doing nothing. */
        char nothing_to_delete[160];
};

/* Reads the environment through 'getenv_fn' (getenv in production; tests pass
 * their own).  Validates what the verb needs: CNI_CONTAINERID non-empty and of
 * sane characters, CNI_IFNAME a valid Linux interface name (1-15 bytes, no
 * '/', ':', whitespace, not "." or "..") in valid UTF-8, CNI_NETNS an
 * absolute path, the CNI_ARGS values osn reads in valid UTF-8.  On a DEL,
 * invalid UTF-8 is not an error: ret->nothing_to_delete says why there is
 * nothing to do. */
int osn_cni_env_read(char *(*getenv_fn)(const char *), struct osn_cni_env *ret,
                     struct osn_error *err) _wur_;

/* Whether the 'n' bytes at 's' are valid UTF-8 (no overlong forms, no
 * surrogates). */
bool osn_utf8_valid(const char *s, size_t n);

/* Why 's' is not a MAC address an interface can have ("is a multicast MAC
 * address ...", "is not a MAC address ..."), for messages that quote it
 * first; NULL when it is one. */
const char *osn_mac_problem(const char *s);

/* Parses a CNI_ARGS string into 'ret' (zeroed first). */
int osn_cni_args_parse(const char *s, struct osn_cni_args *ret, struct osn_error *err) _wur_;

const char *osn_cni_verb_name(enum osn_cni_verb v);
/* "ADD" -> OSN_VERB_ADD; -EINVAL for unknown. */
int osn_cni_verb_parse(const char *s, enum osn_cni_verb *ret);

/* The versions osn supports, oldest first, NULL-terminated. */
extern const char *const osn_cni_versions[];
bool osn_cni_version_supported(const char *v);
/* strcmp-like comparison of "MAJOR.MINOR.PATCH" strings; unparsable < all. */
int osn_cni_version_cmp(const char *a, const char *b);
/* Checks that 'v' is supported for 'verb' (CHECK needs >= 0.4.0, STATUS and
 * GC need >= 1.1.0); else OSN_CNI_INCOMPATIBLE_VERSION naming 'v'. */
int osn_cni_version_check(const char *v, enum osn_cni_verb verb, struct osn_error *err) _wur_;

/* The VERSION verb's answer (new reference). */
json_t *osn_cni_version_json(const char *cni_version);

/* A result, version-independent. */
struct osn_cni_iface {
        char name[IFNAMSIZ];
        char mac[OSN_MAC_STRLEN];
        unsigned mtu;           /* 0 = not reported */
        char sandbox[PATH_MAX]; /* empty for host-side interfaces */
};

struct osn_cni_ip {
        struct osn_cidr address; /* with prefix */
        bool has_gateway;
        struct osn_cidr gateway;
        int iface; /* index into interfaces, -1 = none */
};

struct osn_cni_route {
        struct osn_cidr dst; /* with prefix */
        struct osn_cidr gw;  /* an address */
};
#define OSN_CNI_MAX_ROUTES 4

struct osn_cni_result {
        struct osn_cni_iface ifaces[2];
        size_t n_ifaces;
        struct osn_cni_ip ips[OSN_CNI_MAX_IPS];
        size_t n_ips;
        /* "routes" (0.3.0 on; 0.1.0/0.2.0: in "ip4"/"ip6" by family).
         * Written, not read back from a prevResult. */
        struct osn_cni_route routes[OSN_CNI_MAX_ROUTES];
        size_t n_routes;
};

/* Renders 'res' in the shape of 'cni_version'.  For 0.1.0/0.2.0, which carry
 * at most one address per family and no interfaces, extra addresses are
 * dropped (documented legacy behaviour).  NULL on an unsupported version. */
json_t *osn_cni_result_json(const struct osn_cni_result *res, const char *cni_version);

/* Parses a prevResult (any supported shape) back into a result, for CHECK. */
int osn_cni_result_parse(const json_t *j, struct osn_cni_result *ret, struct osn_error *err) _wur_;

/* {"cniVersion": v, "code": c, "msg": m, "details": d?}; 'cni_version' NULL
 * or unsupported -> OSN_CNI_LATEST_VERSION. */
json_t *osn_cni_error_json(const struct osn_error *err, const char *cni_version);

/* Writes 'j' (stolen) plus a newline to fd 1 in one piece; 0 or -errno. */
int osn_cni_print(json_t *j);

/* GC (spec 1.1.0): one entry of "cni.dev/valid-attachments". */
struct osn_cni_attachment {
        char container_id[256];
        char ifname[IFNAMSIZ];
};

/* Reads "cni.dev/valid-attachments" from a GC netconf document ('conf', the
 * whole object, e.g. osn_netconf's 'raw').  A missing key is an empty list,
 * as the CNI spec's issue on GC settles it: the runtime keeps none of the
 * network's attachments (so GC removes all of them on this node).  Each
 * entry must be an object with a valid "containerID" and "ifname"; a
 * malformed one is an OSN_CNI_INVALID_CONFIG error that names its index
 * and key, and no list at all (GC must not guess which to keep).  On
 * success *ret is a malloc'd array (NULL when empty) of *ret_n entries. */
int osn_cni_valid_attachments_parse(const json_t *conf, struct osn_cni_attachment **ret,
                                    size_t *ret_n, struct osn_error *err) _wur_;

#endif
