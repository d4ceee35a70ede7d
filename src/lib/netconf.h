/* netconf: the CNI network configuration, from either dialect, into one model.
 *
 * Dialects (docs/design.md, "Dialects"), told apart by the keys present:
 *   seed      {"type": "ovn-kubernetes", "subnet": "CIDR",
 *              "has_external_connectivity": bool}
 *   upstream  {"type": "ovn-k8s-cni-overlay",
 *              "topology": "layer3"|"layer2"|"localnet",
 *              "subnets": "CIDR[,CIDR...]" (layer3: "CIDR[/hostPrefix],..."),
 *              "excludeSubnets": "CIDR[,...]",
 *              "mtu": N, "vlanID": N, "physicalNetworkName": S,
 *              "netAttachDefName": "ns/name", "allowPersistentIPs": bool,
 *              "reservedSubnets", "infrastructureSubnets": "CIDR[,...]",
 *              "defaultGatewayIPs": "IP[,IP]", "role": "secondary"}
 * A config that mixes "subnet" and "subnets"/"topology" is rejected.  "mtu",
 * "netAttachDefName" and "allowPersistentIPs" are accepted in both dialects
 * and do not decide it; with no deciding key, "ovn-kubernetes" means seed
 * and "ovn-k8s-cni-overlay" upstream.  An upstream config without
 * "topology" is layer3, as upstream's default; layer3 needs "subnets" and
 * refuses "allowPersistentIPs" (as upstream) and "dhcp": true (its pods
 * take their addresses, gateway and routes from the CNI result).  As with Go's
 * encoding/json, JSON null counts as absent, the last duplicate key wins,
 * and, as upstream's omitempty fields, "" and 0 mean unset ("mtu": 0,
 * "vlanID": 0, "physicalNetworkName": "", "role": "", "topology": "", any
 * list ""), and such a key does not decide the dialect.  "role":
 * "primary", an "ipam" block with a "type" and, in the upstream dialect,
 * the network names "default" and "ovn-kubernetes" are refused, as
 * upstream does.  reservedSubnets, infrastructureSubnets and
 * defaultGatewayIPs are layer2 only (as upstream) and lie inside the
 * subnets (docs/design.md, "Dialects").  Unknown keys are ignored, as CNI
 * expects; a known key with a wrong type or an impossible value is an
 * OSN_CNI_INVALID_CONFIG error whose message names the key and the value
 * (an unsupported cniVersion is OSN_CNI_INCOMPATIBLE_VERSION).  Malformed
 * JSON is OSN_CNI_DECODE_FAILURE with the line and column of the first error
 * (and a hint for the commonest mistake, a trailing comma); the error's
 * 'line' and 'column' hold the place as data: the trailing comma when the
 * hint blames one, else where decoding stopped.  Other errors name a key,
 * not a place (the decoder keeps no positions), and leave them 0.
 *
 * For OVN's DHCP server (both dialects): "dhcp", "dhcpLeaseTime" and the
 * CNI spec's "dns" object; "macSecurityMode" for port security.
 *
 * The CNI-level keys are parsed here too: cniVersion, name, type,
 * runtimeConfig.ips / runtimeConfig.mac (capabilities "ips", "mac"), and
 * prevResult (kept as JSON, for CHECK).
 *
 * Ownership: osn_netconf_parse() returns a heap object freed with
 * osn_netconf_free() (accepts NULL); all strings inside belong to it.
 */
#ifndef OSN_NETCONF_H
#define OSN_NETCONF_H

#include "addr.h"
#include "error.h"
#include "util.h"

#define OSN_MAX_SUBNETS        8
#define OSN_MAX_EXCLUDES       32
#define OSN_MAX_STATIC         8
#define OSN_NAME_MAX           200 /* bytes of a network name; OVN object names are derived from it */
#define OSN_MAX_DNS            6   /* dns.nameservers, dns.search: entries each */
#define OSN_DHCP_LEASE_DEFAULT 3600
#define OSN_DHCP_LEASE_MIN     10
#define OSN_DHCP_LEASE_MAX     2147483647

enum osn_dialect { OSN_DIALECT_SEED, OSN_DIALECT_UPSTREAM };
enum osn_topology { OSN_TOPO_LAYER2, OSN_TOPO_LOCALNET, OSN_TOPO_LAYER3 };

/* Layer3 (upstream's routed topology): each node takes one host subnet of
 * this prefix out of a "subnets" CIDR ("CIDR/hostPrefix", or a bare CIDR
 * and these defaults, as upstream). */
#define OSN_HOST_PREFIX4_DEFAULT 24
#define OSN_HOST_PREFIX6_DEFAULT 64

struct osn_netconf {
        char *cni_version; /* "0.3.1"; required */
        char *name;        /* network name; required; also the network's identity */
        char *type;        /* "ovn-kubernetes" or "ovn-k8s-cni-overlay" */
        enum osn_dialect dialect;
        enum osn_topology topology; /* seed: localnet iff has_external_connectivity */

        struct osn_cidr subnets[OSN_MAX_SUBNETS]; /* at most one per family in practice */
        size_t n_subnets;
        /* layer3: the host subnets' prefix length per family (the cluster
         * CIDR's "/hostPrefix", else the default); 0 on other topologies. */
        unsigned host_prefix4, host_prefix6;
        /* excludeSubnets, IPv4 and IPv6: never a pod's address, dynamic or
         * static (upstream's allocator reserves them). */
        struct osn_cidr excludes[OSN_MAX_EXCLUDES];
        size_t n_excludes;
        /* Upstream's reservedSubnets: never handed out dynamically, but a
         * static request (runtimeConfig.ips, IP=) may take them. */
        struct osn_cidr reserved[OSN_MAX_EXCLUDES];
        size_t n_reserved;
        /* Upstream's infrastructureSubnets: for the network's infrastructure
         * only, never a pod's address, dynamic or static. */
        struct osn_cidr infrastructure[OSN_MAX_EXCLUDES];
        size_t n_infrastructure;
        /* Upstream's defaultGatewayIPs: addresses (prefixlen 32/128) of the
         * network's gateways; never a pod's. */
        struct osn_cidr gateways[OSN_MAX_SUBNETS];
        size_t n_gateways;

        unsigned mtu; /* 0 = the node's default for this topology */

        /* External connectivity (localnet).  Seed: has_external_connectivity
         * sets external=true and leaves physical_network NULL (= the node
         * config's default_physical_network).  Upstream localnet:
         * physical_network = physicalNetworkName or, when absent, the
         * network name. */
        bool external;
        char *physical_network; /* may be NULL */
        unsigned vlan;          /* 0 = untagged, else 1..4094 */

        char *nad_name; /* netAttachDefName, may be NULL */
        bool allow_persistent_ips;

        /* VMs.  "dhcp": OVN's native DHCP for the network (default: on for
         * overlay networks, off for external ones, whose physical network
         * often has its own server); 'dhcp' is the effective value.
         * "macSecurityMode": "disabled" turns port security off (no subnet
         * only).  args.cni["ipam-claim-reference"] (Multus passes a network
         * selection element's cni-args as args.cni) names a persistent
         * identity; NULL when absent. */
        bool has_dhcp;
        bool dhcp;
        bool mac_security_disabled;
        char *claim_ref;

        /* What OVN's DHCP server tells the pods besides their addresses
         * (docs/vm.md, "DHCP"): the CNI spec's "dns" key ("nameservers",
         * "search", "domain"; its "options" has no DHCP option and is
         * refused), and "dhcpLeaseTime" in seconds (0 = osn's default,
         * OSN_DHCP_LEASE_DEFAULT).  A lease time needs DHCP on. */
        struct osn_cidr dns_servers[OSN_MAX_DNS]; /* prefixlen 32/128 */
        size_t n_dns_servers;
        char *dns_search[OSN_MAX_DNS]; /* domain names, in order */
        size_t n_dns_search;
        char *dns_domain; /* may be NULL */
        unsigned dhcp_lease_time;

        /* runtimeConfig / capabilities */
        struct osn_cidr static_ips[OSN_MAX_STATIC]; /* runtimeConfig.ips (with prefix) */
        size_t n_static_ips;
        bool has_static_mac;
        uint8_t static_mac[6]; /* runtimeConfig.mac */

        json_t *prev_result; /* "prevResult", may be NULL; owned */
        json_t *raw;         /* the whole parsed document; owned */
};

/* True when 'type' (a CNI config's "type"; may be NULL) is one of the
 * plugin types osn serves, "ovn-kubernetes" and "ovn-k8s-cni-overlay"; any
 * other type belongs to another plugin. */
bool osn_netconf_is_osn_type(const char *type);

/* Parses a netconf document.  'origin' names the source in messages (e.g.
 * "stdin", a file name); may be NULL. */
int osn_netconf_parse(const char *buf, size_t len, const char *origin, struct osn_netconf **ret,
                      struct osn_error *err) _wur_;
void osn_netconf_free(struct osn_netconf *nc);
static inline void osn_netconf_freep(struct osn_netconf **nc)
{
        osn_netconf_free(*nc);
}
#define _cleanup_netconf_ _cleanup_(osn_netconf_freep)

/* What a config that parses may still get wrong, without failing: a key
 * osn does not know that is close to one it knows ("subnett": did you mean
 * "subnet"?), a key given twice (the last one wins), "allowPersistentIPs"
 * without "mac" in "capabilities" (Multus then passes no VM MAC, and a
 * KubeVirt VM gets no identity), and "dns" on a network without DHCP
 * (nothing hands it to the pods).  Only the
 * top-level keys are read.  'msg' names the key; the positions are data:
 * the byte offset and the line and column (1-based, as the JSON decoder
 * counts them) of the key in 'buf' and, for a duplicate, of its first
 * occurrence (prev_line 0 otherwise). */
struct osn_netconf_warning {
        char msg[256];
        size_t offset;
        int line, column;
        size_t prev_offset;
        int prev_line, prev_column;
};

/* The warnings for 'buf' (nothing when it does not decode as a JSON
 * object: osn_netconf_parse() says why) in *ret, malloc'd, the caller's to
 * free, and their number in *ret_n.  0 or -ENOMEM. */
int osn_netconf_warnings(const char *buf, size_t len, struct osn_netconf_warning **ret,
                         size_t *ret_n) _wur_;

/* The words of words[] closest to 's' within a typo's distance (case-
 * insensitive edits; 1 for words up to 4 characters, 2 up to 10, else 3),
 * at most 'max' of them, into ret[]; 0 when 's' is one of the words or
 * none is close. */
size_t osn_closest_words(const char *s, const char *const *words, size_t n, const char **ret,
                         size_t max);

/* Checks one static address request against the network: inside one of
 * its subnets (with that subnet's prefix, unless 'ip' is bare: prefixlen
 * 0), not the subnet's network or (IPv4) broadcast address, not inside
 * excludeSubnets or infrastructureSubnets (as upstream, whose allocator
 * reserves excluded ranges), not a defaultGatewayIPs address;
 * reservedSubnets is where static requests may go.  With no subnet any
 * address is fine.  'what' names the request in the message ("CNI_ARGS IP=",
 * "key \"runtimeConfig.ips[0]\"").  The parser runs it on
 * runtimeConfig.ips; ADD runs it on CNI_ARGS IP=.  Returns 0, or an
 * OSN_CNI_INVALID_CONFIG error that names the address and the subnets. */
int osn_netconf_check_static_ip(const struct osn_netconf *nc, const struct osn_cidr *ip,
                                const char *what, struct osn_error *err) _wur_;

/* Checks the settings that depend on the node: an explicit "mtu" must not
 * exceed the node's overlay MTU ('overlay_mtu'; on external/localnet
 * networks the node's 'physical_mtu'), or every larger packet between
 * nodes would be dropped.  0 for either MTU means unknown: not checked.
 * Returns 0, or an OSN_CNI_INVALID_CONFIG error that names the key and
 * both values. */
int osn_netconf_check_mtu(const struct osn_netconf *nc, unsigned overlay_mtu, unsigned physical_mtu,
                          struct osn_error *err) _wur_;

/* The network-wide settings in canonical form, the same for both dialects:
 * e.g. "topology=layer2 subnets=10.10.10.0/24 excludes= mtu=0 external=no".
 * Two NADs naming the same network must produce the same fingerprint; it is
 * stored on the logical switch.  Per-attachment things (static IPs, MAC,
 * nad_name) are not part of it.  Returns a malloc'd string. */
char *osn_netconf_fingerprint(const struct osn_netconf *nc);

/* The network-wide settings a fingerprint holds, read back from it (osnctl
 * shows a network's settings from the fingerprint stored on its switch). */
struct osn_netconf_settings {
        bool has_topology;
        enum osn_topology topology;
        struct osn_cidr subnets[OSN_MAX_SUBNETS];
        size_t n_subnets;
        unsigned host_prefix4, host_prefix6; /* layer3: "hostprefix4=", "hostprefix6=" */
        struct osn_cidr excludes[OSN_MAX_EXCLUDES];
        size_t n_excludes;
        struct osn_cidr reserved[OSN_MAX_EXCLUDES]; /* "reserved=", absent = none */
        size_t n_reserved;
        struct osn_cidr infrastructure[OSN_MAX_EXCLUDES]; /* "infrastructure=" */
        size_t n_infrastructure;
        struct osn_cidr gateways[OSN_MAX_SUBNETS]; /* "gateways=", prefixlen 32/128 */
        size_t n_gateways;
        bool has_mtu;
        unsigned mtu; /* 0 = the node's default */
        bool external;
        char physical_network[OSN_NAME_MAX + 1]; /* "" = the node's default */
        unsigned vlan;                           /* 0 = untagged */
};

/* Reads a fingerprint that osn_netconf_fingerprint() wrote back into
 * *ret, which is always written: what reads is there, what does not is
 * left unset (a list keeps the entries before the first one that does not
 * parse; an unreadable topology or mtu leaves has_topology / has_mtu
 * false).  Keys it does not know are skipped, so a newer osn's
 * fingerprint still reads.  Returns 0 when all of it read, else -EINVAL. */
int osn_netconf_fingerprint_parse(const char *fp, struct osn_netconf_settings *ret);

/* Human-readable summary of the normalized settings, one "key: value" per
 * line (for osnctl validate). Returns a malloc'd string. */
char *osn_netconf_describe(const struct osn_netconf *nc);
/* The same as JSON (new reference). */
json_t *osn_netconf_to_json(const struct osn_netconf *nc);

const char *osn_dialect_name(enum osn_dialect d);   /* "seed" / "upstream" */
const char *osn_topology_name(enum osn_topology t); /* "layer2" / "localnet" / "layer3" */

/* A layer3 network's host subnet prefix length for 'family' (AF_INET,
 * AF_INET6); 0 when the network has none. */
unsigned osn_netconf_host_prefix(const struct osn_netconf *nc, int family);

#endif
