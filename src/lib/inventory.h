/* inventory: what osn has made, read back for people (osnctl), and whether
 * this node can work at all (status probes).  Read-only: nothing here
 * writes to any database.
 *
 * The model is the one ovn.h writes (docs/design.md, "The OVN objects"):
 * - a network is a Logical_Switch with external_ids:osn/network; its
 *   settings come from the switch itself: the fingerprint osn stored
 *   (topology, subnets, excludes, MTU), other_config (subnet, ipv6_prefix:
 *   used when there is no fingerprint) and, for a network bridged to a
 *   physical one, its localnet port (options:network_name, tag_request);
 * - an attachment is a Logical_Switch_Port with external_ids:osn/network
 *   that is not a localnet port; its pod, container, interface and node
 *   are its osn/... external_ids, its MAC and IPs its addresses (or, while
 *   they say "dynamic", what northd assigned), its readiness the "up"
 *   column (northd sets it once ovn-controller has bound the port on its
 *   chassis).
 * - a reservation (osn/reservation=true: the port of a VM's persistent
 *   identity that no pod holds now: no osn/container-id) is read with the
 *   attachments (in ports, flagged, so that gc can keep it) but is none:
 *   n_attachments and nodes leave it out, n_reservations counts it; an identity's port also
 *   names a live migration in flight (its osn/migration-* keys);
 * - a spare (a port pool's) is a Logical_Switch_Port with
 *   external_ids osn/network and osn/spare=true and no osn/container-id:
 *   pre-provisioned, bound to nothing, naming no node.
 *   It is not an attachment: n_attachments and nodes leave it out, and it
 *   is listed apart (inventory->spares).  A claimed pool port (osn/spare
 *   gone, holder ids recorded) is an ordinary attachment, whatever its name.
 *   A port that says both osn/spare=true and osn/container-id names a
 *   holder, so it counts as an attachment: mistaking a pod's port for a
 *   spare could lose it;
 * - a network's pool index is its switch's external_ids osn/spare/<U>
 *   (one key per spare, U the spare's _uuid; names.h reads it).  Every change of a pool
 *   changes the spare and its key in one transaction, so a key whose U is
 *   not a spare on that switch is stale, and a spare without a key is
 *   unindexed; both are reported here, neither is a guess.  A warm spare
 *   (osn/warm = a node: attach.h, "Warm ports") has left the index for
 *   that node: counted in n_spares and n_warm, never unindexed;
 * Objects without osn's external_ids are not part of the inventory, except
 * that a network counts the foreign ports somebody put on its switch.
 *
 * Consistency: osn_inventory_read() is one NB transaction (one select per
 * table), so what it returns is one snapshot.  Cost: OVSDB conditions cannot
 * test whether a key is present, so without a filter every switch and port
 * is read and the ones without osn/network are dropped here; a network or
 * node filter narrows the port select on the server (with a node filter
 * the spares, which name no node, are read by a select of their own, so
 * that pools and their indexes are whole in every read).
 *
 * Ownership: osn_inventory_read() returns a heap object freed with
 * osn_inventory_free() (accepts NULL); every string inside belongs to it.
 */
#ifndef OSN_INVENTORY_H
#define OSN_INVENTORY_H

#include "addr.h"
#include "error.h"
#include "netconf.h"
#include "nodeconf.h"
#include "ovn.h" /* the pool's keys: OSN_EXT_SPARE; names.h: the pool index */
#include "ovs.h"
#include "ovsdb.h"
#include "util.h"

#define OSN_INV_MAX_IPS 8

struct osn_inv_port {
        char uuid[37];
        char *name;    /* the LSP name, also the OVS iface-id */
        char *network; /* osn/network */
        char *container_id, *ifname, *node;
        char *pod_namespace, *pod_name, *pod_uid, *nad; /* NULL when not recorded */
        char *identity; /* osn/identity: a persistent identity's port; NULL otherwise */
        /* A live migration in flight (osn/migration-*): its target.  NULL
         * mig_node when there is none; the target's pod is NULL when an
         * older osn began the migration; mig_since -1 when unknown. */
        char *mig_node, *mig_container_id, *mig_ifname, *mig_pod_namespace, *mig_pod_name;
        long long mig_since;
        long long reserved_at;   /* a reservation: Unix time of its DEL; -1 when unknown */
        char *addresses;         /* "MAC IP..." as OVN holds it; NULL while unassigned */
        char *dynamic_addresses; /* northd's, for ports of an older osn; may be NULL */
        char *static_addresses;  /* the "addresses" column itself; may be NULL */
        bool has_mac;
        uint8_t mac[6];
        struct osn_cidr ips[OSN_INV_MAX_IPS]; /* with the prefix of their subnet */
        size_t n_ips;
        bool up;          /* LSP "up": bound and claimed by ovn-controller */
        bool orphan;      /* no osn switch holds it */
        bool reservation; /* external_ids osn/reservation=true: a persistent identity's port
                           * (gc keeps it); without a holder no attachment:
                           * osn_inv_is_reservation() */
        bool spare;       /* a pool's spare (see above): in inventory->spares, never ports */
        bool indexed;     /* spares: its switch's index has osn/spare/<uuid> */
        char *warm_node;  /* spares: the node that keeps it plugged (osn/warm), or NULL */
};

struct osn_inv_network {
        char uuid[37];
        char *name;        /* osn/network */
        char *switch_name; /* the Logical_Switch name */
        char *fingerprint; /* osn/fingerprint, may be NULL */
        char *topology;    /* osn/topology ("layer2", "localnet"), may be NULL */
        bool claims;       /* osn/ipam=claims: made by (or migrated to) osn's allocator */
        struct osn_cidr subnets[OSN_MAX_SUBNETS];
        size_t n_subnets;
        struct osn_cidr excludes[OSN_MAX_EXCLUDES];
        size_t n_excludes;
        char *exclude_ips; /* other_config:exclude_ips (older osn, OVN IPAM); may be NULL */
        bool mtu_known;    /* the fingerprint was there */
        unsigned mtu;      /* 0 = the node's default */
        bool external;
        char *physical_network; /* from the localnet port; may be NULL */
        unsigned vlan;          /* 0 = untagged */
        char *localnet_port;    /* its name, NULL when there is none */
        /* Tenancy (the switch's external_ids): osn/scope ("namespace",
         * "cluster", "none"; NULL on a network made before scopes:
         * legacy), osn/namespace (a namespace network's) and
         * osn/namespaces (a cluster network's granted namespaces, or "*";
         * a legacy network's namespaces that held pods).  NULL when absent. */
        char *scope, *scope_namespace, *namespaces;
        size_t n_attachments;  /* pod interfaces: ports that are neither spares nor reservations */
        size_t n_reservations; /* ports kept for a persistent identity (no pod holds them) */
        char **nodes;          /* sorted, distinct osn/node of the attachments */
        size_t n_nodes;
        size_t n_foreign;   /* ports on the switch without osn's external_ids */
        size_t n_spares;    /* its pool: spare ports on the switch (not attachments) */
        size_t n_unindexed; /* of those, the ones its index has no key for (not warm) */
        size_t n_warm;      /* of those, warm ones (a node keeps them plugged) */
        char **stale_index; /* sorted index keys ("osn/spare/<U>") whose U is no spare here */
        size_t n_stale_index;
        json_t *ports;        /* the switch's "ports" column as read (for guards) */
        json_t *external_ids; /* the switch's "external_ids" as read (for guards) */
};

struct osn_inventory {
        struct osn_inv_network *networks; /* sorted by name */
        size_t n_networks;
        struct osn_inv_port *ports; /* attachments and reservations, sorted by network, pod,
                                     * ifname */
        size_t n_ports;
        struct osn_inv_port *spares; /* spares, sorted by network, name */
        size_t n_spares;
};

struct osn_inv_filter {
        const char *network; /* NULL = every network */
        const char *node;    /* NULL = every node; attachments only */
};

/* Reads the inventory in one NB transaction.  With a node filter, networks
 * count (and list nodes of) that node's attachments only; their spares and
 * pool indexes are always whole. */
int osn_inventory_read(struct osn_ovsdb *nb, const struct osn_inv_filter *filter, int64_t deadline,
                       struct osn_inventory **ret, struct osn_error *err) _wur_;
void osn_inventory_free(struct osn_inventory *inv);
static inline void osn_inventory_freep(struct osn_inventory **inv)
{
        osn_inventory_free(*inv);
}
#define _cleanup_inventory_ _cleanup_(osn_inventory_freep)

/* The network called 'name', or NULL. */
const struct osn_inv_network *osn_inventory_network(const struct osn_inventory *inv,
                                                    const char *name);

/* --- Queries for osnctl (pure: no I/O, nothing allocated) --- */

/* Whether 'p' is a reservation and no attachment: osn/reservation=true and
 * no holder (osn/container-id).  A port that says both names a holder and
 * counts as an attachment, as with spares: mistaking a pod's port for a
 * reservation would hide it. */
static inline bool osn_inv_is_reservation(const struct osn_inv_port *p)
{
        return p->reservation && !p->container_id;
}

/* The network's scope as people read it: "namespace", "cluster", "none",
 * or "legacy" (no osn/scope). */
const char *osn_inv_network_scope(const struct osn_inv_network *n);
/* Whether namespace 'ns' has network 'n': its namespace network, a cluster
 * network granted to it (osn/namespaces lists it, or "*"), a legacy
 * network whose osn/namespaces lists it or, without that key, one of whose
 * attachments (in 'inv') is a pod of 'ns'.  A "none" network belongs to
 * no namespace. */
bool osn_inv_network_in_namespace(const struct osn_inventory *inv, const struct osn_inv_network *n,
                                  const char *ns);

/* Whether port 'p' holds address 'addr' (an IP, prefix ignored): it is
 * among the IPs of its "addresses" column or, for a port an older osn made
 * with OVN's IPAM, of its "dynamic_addresses" column. */
bool osn_inv_port_holds_ip(const struct osn_inv_port *p, const struct osn_cidr *addr);
/* The same for a MAC. */
bool osn_inv_port_holds_mac(const struct osn_inv_port *p, const uint8_t mac[6]);

/* One range of addresses a network never hands out. */
struct osn_inv_range {
        struct osn_cidr first, last; /* inclusive, same family, first <= last */
        bool from_ovn;               /* from other_config:exclude_ips, not the fingerprint */
        const char *why;             /* static text: "excludeSubnets", "physical gateway", ... */
        bool has_cidr;               /* the key's value is this CIDR (not from_ovn) */
        struct osn_cidr cidr;
};

#define OSN_INV_MAX_RANGES 64

/* The network's exclusions as the allocator sees them (alloc.h: the
 * fingerprint's excludeSubnets, infrastructureSubnets, defaultGatewayIPs and
 * reservedSubnets, an external network's physical gateway), then every
 * range of OVN's other_config:exclude_ips ("A", "A..B", space separated;
 * a network an older osn made and no ADD has migrated yet) that is not
 * already one of them.  Returns how many were written to 'ret' (at most
 * 'max'; tokens that do not parse are skipped). */
size_t osn_inv_exclusions(const struct osn_inv_network *n, struct osn_inv_range *ret, size_t max);

/* How full one subnet of a network is, as the allocator (alloc.h) counts it
 * from the settings stored on the switch:
 *   capacity  the addresses a port can get: the subnet's size minus what
 *             no pod may hold (network and broadcast addresses, the
 *             external network's gateway, excludeSubnets,
 *             infrastructureSubnets, defaultGatewayIPs; overlaps counted
 *             once); reservedSubnets count (static requests take them);
 *   used      distinct addresses inside the subnet that the network's
 *             attachments and spares hold (their IPs as
 *             osn_inventory_read() parsed them from "addresses", or
 *             "dynamic_addresses" while those say "dynamic"; a spare's
 *             address is claimed as an attachment's is);
 *   free      capacity - used, 0 when more are held than there is room for
 *             (static requests inside an excluded range).
 * 'huge': more than 2^63 addresses (an IPv6 /64, say): capacity and free
 * are then UINT64_MAX and mean "practically unbounded". */
struct osn_inv_usage {
        struct osn_cidr subnet;
        uint64_t capacity, used, free;
        bool huge;
};

/* One entry per subnet of 'n' (in its order), at most 'max'; returns how
 * many.  'inv' supplies the ports and spares (those whose network is
 * n->name). */
size_t osn_inv_subnet_usage(const struct osn_inventory *inv, const struct osn_inv_network *n,
                            struct osn_inv_usage *ret, size_t max);

/* Whether the pod network namespace at 'path' (an OVS interface's
 * external_ids:osn/netns) still exists.  A path that is there but no longer
 * a network namespace (an unmounted bind mount a crash left) is gone.
 * 'why' (may be NULL) gets a sentence for people. */
enum osn_netns_state { OSN_NETNS_ALIVE, OSN_NETNS_GONE, OSN_NETNS_UNKNOWN };
enum osn_netns_state osn_inv_netns_state(const char *path, char *why, size_t len);
/* The same for an OVS interface row of an attachment (external_ids with
 * osn/netns; ofport, admin_state and link_state as
 * osn_ovs_list_attachments() reads them),
 * on evidence only: "gone" needs either OVS's word that the host end of
 * the pod's veth is gone (ofport -1, or admin_state and link_state both
 * "down", which is what OVS says of a veth whose pod netns took it
 * along; osn brings the host end up), or a view of the host's namespaces (the directory of the path
 * holds some live network namespace).  Without either, a missing path
 * means "this process cannot see", not "gone": the answer is UNKNOWN and
 * 'why' says where to run instead.  Never GONE on missing evidence. */
enum osn_netns_state osn_inv_iface_netns_state(const json_t *iface, char *why, size_t len);

/* --- Status probes --- */

enum osn_probe { OSN_PROBE_UNKNOWN = -1, OSN_PROBE_FAILED = 0, OSN_PROBE_OK = 1 };

struct osn_node_status {
        enum osn_probe nb;   /* connected and the server holds OVN_Northbound */
        char nb_remote[256]; /* the remote that answered (else the configured ones) */
        char nb_error[640];

        enum osn_probe ovs; /* connected and the server holds Open_vSwitch */
        char ovs_remote[256];
        char ovs_error[640];

        enum osn_probe bridge; /* the integration bridge exists */
        char bridge_error[640];
        struct osn_ovs_node node;  /* valid when bridge == OK */
        char nb_cfg_installed[32]; /* bridge external_ids:ovn-nb-cfg, "" when absent */
        long long nb_cfg;          /* NB_Global.nb_cfg, -1 when unknown */

        /* ovn-controller's own answer to "connection-status" over its
         * unixctl socket: whether its session to the SB DB is up. */
        enum osn_probe controller;
        char controller_status[64]; /* "connected", "not connected", ... */
        char controller_socket[256];
        char controller_error[640];
};

/* Runs every probe, each bounded by 'deadline'; a failing probe is recorded
 * in *ret, not returned.  'ovn_rundir' is where ovn-controller keeps its
 * pidfile and control socket (NULL: $OVN_RUNDIR, else /var/run/ovn).
 * Returns 0, or -ENOMEM. */
int osn_inventory_status(const struct osn_nodeconf *node, const char *ovn_rundir, int64_t deadline,
                         struct osn_node_status *ret) _wur_;

/* Sends one unixctl command (no arguments) to the daemon listening on the
 * unix socket 'path' and returns its textual result (malloc'd, trailing
 * newline removed).  A reply with an error yields -EPROTO and the error's
 * text in 'err'. */
int osn_unixctl_call(const char *path, const char *command, int64_t deadline, char **ret,
                     struct osn_error *err) _wur_;

#endif
