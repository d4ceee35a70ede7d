/* ovn: osn's objects in the OVN Northbound DB (docs/design.md, "The OVN objects").
 *
 * One network = one Logical_Switch named "osn.<network>", owned by osn
 * (external_ids "osn/network", "osn/fingerprint", "osn/topology").  One
 * attachment = one Logical_Switch_Port named "osn.<network>.<container
 * id>.<ifname>", or a claimed spare's "osn.<network>.spare.<uuid>" (see
 * "Pools"), which is also the OVS iface-id.  A network bridged to a
 * physical network has one more port, "osn.<network>.localnet", of type
 * localnet, created with the switch and removed with it.  A network whose
 * DHCPv4 server answers from an address of its own (DHCP on, not bridged
 * to a physical network, no IPv4 gateway named) has one more,
 * "osn.<network>.dhcp", of type localport, holding the server's MAC and
 * address so that every chassis answers ARP for them (a client renews by
 * unicast to the server): made with the switch (or, on a network an
 * older osn made, by the next ADD), removed with it, never an attachment.
 *
 * Guarantees:
 * - Race-free across nodes without any lock: the switch insert is guarded by
 *   an OVSDB "wait" on "no switch with this name", a port insert by a "wait"
 *   on "this switch still exists" (and, for a network with a DHCP server's
 *   port, "it holds that port": a switch without it gets it first), the
 *   switch delete by a "wait" on "its ports are exactly what I read".  A
 *   guard that fails (-EAGAIN from osn_txn_commit) means somebody else
 *   won: re-read and retry, bounded.
 * - A switch is never silently joined with other settings: a different
 *   fingerprint is an error that shows both settings.
 * - Only rows that carry osn's external_ids are ever modified or deleted.
 * - No address is ever held by two ports of a network: see "Addresses".
 * - Cost: O(1) round trips and rows read per call on the common paths,
 *   independent of how many ports and networks exist (name columns are
 *   looked up with conditions; only a nearly full subnet, a migration and
 *   osnctl read a network's ports).  The pool path's claim is found by
 *   _uuid; what the server scans is the claim guards (a port insert's, a
 *   pool top-up's), a retried ADD's look-up of its own port, and DEL's
 *   look-up of the ports its container holds.
 *
 * The implementation is three files, each calling only down: nbattach.c
 * (attaching, pools, identities, tenancy) over nbdetach.c (detaching,
 * releasing an identity) over ovn.c (names, rows, guards, reads; nbrows.h).
 * Every operation is built with txn.h.
 */
#ifndef OSN_OVN_H
#define OSN_OVN_H

#include "addr.h"
#include "error.h"
#include "names.h"
#include "netconf.h"
#include "tenancy.h"
#include "ovsdb.h"
#include "util.h"

#define OSN_NB_DB "OVN_Northbound"

#define OSN_EXT_NETWORK     "osn/network"
#define OSN_EXT_FINGERPRINT "osn/fingerprint"
#define OSN_EXT_TOPOLOGY    "osn/topology"
#define OSN_EXT_CONTAINER   "osn/container-id"
#define OSN_EXT_IFNAME      "osn/ifname"
#define OSN_EXT_POD_NS      "osn/pod-namespace"
#define OSN_EXT_POD_NAME    "osn/pod-name"
#define OSN_EXT_POD_UID     "osn/pod-uid"
#define OSN_EXT_NODE        "osn/node"
#define OSN_EXT_NETNS       "osn/netns"
#define OSN_EXT_NAD         "osn/nad"
#define OSN_EXT_PHYSNET     "osn/physical-network"
/* Tenancy (tenancy.h): on the switch of a network made since tenancy. */
/* A layer3 network's (layer3.h): on its node switches and its router. */
#define OSN_EXT_L3_NETWORK   "osn/layer3-network"   /* K, on the node switches and the router */
#define OSN_EXT_HOST_SUBNET4 "osn/host-subnet-ipv4" /* a node switch's host subnet */
#define OSN_EXT_HOST_SUBNET6 "osn/host-subnet-ipv6"

#define OSN_EXT_NAME       "osn/name"       /* the NADs' "name" */
#define OSN_EXT_SCOPE      "osn/scope"      /* namespace, cluster, none; absent: legacy */
#define OSN_EXT_NAMESPACE  "osn/namespace"  /* scope namespace: the namespace */
#define OSN_EXT_NAMESPACES "osn/namespaces" /* cluster: the grant; legacy: the holders */

/* The names of these objects are names.h's. */

#define OSN_EXT_IDENTITY      "osn/identity"
#define OSN_EXT_CHASSIS       "osn/chassis"
#define OSN_EXT_RESERVATION   "osn/reservation" /* "true": unbound, kept for its identity */
#define OSN_EXT_RESERVED_AT   "osn/reserved-at" /* Unix time of the DEL that made it one */
#define OSN_EXT_LAST_NODE     "osn/last-node"
#define OSN_EXT_MIG_NODE      "osn/migration-node" /* the target of a live migration */
#define OSN_EXT_MIG_CHASSIS   "osn/migration-chassis"
#define OSN_EXT_MIG_CONTAINER "osn/migration-container-id"
#define OSN_EXT_MIG_IFNAME    "osn/migration-ifname"
/* The target's pod (they become osn/pod-* at the handover) and when the
 * migration began (Unix time), for osnctl. */
#define OSN_EXT_MIG_POD_NS   "osn/migration-pod-namespace"
#define OSN_EXT_MIG_POD_NAME "osn/migration-pod-name"
#define OSN_EXT_MIG_POD_UID  "osn/migration-pod-uid"
#define OSN_EXT_MIG_SINCE    "osn/migration-since"

/* Addresses (alloc.h decides which; this module claims them).  A port
 * holds each of its IPs and its MAC as a claim in its external_ids:
 * "osn/ip/<address>" and "osn/mac/<mac>", each = the network's name.  The
 * transaction that inserts a port guards every claim with a "wait" that no
 * row holds it (until "==", rows [], timeout 0); OVSDB serializes
 * transactions (a Raft cluster too), so of two ports claiming one address
 * exactly one commits, on any number of nodes.  A switch made by osn's
 * allocator says so (external_ids "osn/ipam" = "claims"); a switch made by
 * an older osn (northd's IPAM) is migrated by the first ADD that finds it:
 * in one transaction, guarded by its port set, its ports get the claims of
 * the addresses they hold and northd's IPAM keys are removed. */
#define OSN_EXT_IPAM         "osn/ipam"
#define OSN_IPAM_CLAIMS      "claims"
#define OSN_EXT_CLAIM_IP     "osn/ip/"
#define OSN_EXT_CLAIM_MAC    "osn/mac/"
#define OSN_MAX_CLAIMS       (OSN_MAX_STATIC + 1)
#define OSN_CLAIM_KEY_STRLEN (sizeof(OSN_EXT_CLAIM_IP) + OSN_CIDR_STRLEN)

/* Pools.  A network keeps up to the node config's pool_size spare ports:
 * Logical_Switch_Ports made ahead of time, each with its addresses, MAC,
 * port security and DHCP options, so that ovn-northd has compiled them
 * before any pod needs one.  A spare is named "osn.<network>.spare.<U>",
 * inserted with _uuid U, carries external_ids osn/spare=true and its
 * address claims, and is bound to no chassis.  The switch indexes its
 * spares in its own external_ids, "osn/spare/<U>" = the spare's address
 * string, so that an ADD finds them with one indexed read of the switch;
 * every transaction changes a spare and its index key together.
 *
 * An ADD that asks for nothing particular (a dynamic address, no requested
 * MAC, no persistent identity) claims a spare: guarded by "it is still a
 * spare of the pool" (osn/spare=true, and its index key: a node's warm
 * spare, attach.h, is out of the index), it takes the attachment's
 * external_ids and leaves the index, and
 * keeps its name (the OVS iface-id) and addresses.  The ADD then tops the
 * pool up in a transaction of its own, guarded by the index it read (so
 * concurrent ADDs never overfill it) and not waited for on the ADD's path;
 * a replacement that finds no free address is simply not made, so a
 * nearly full subnet keeps no spares beyond what is free.  A static
 * request for an address a spare holds evicts the spare.  The first ADD of
 * a network fills its pool.  DEL returns a claimed spare to the pool when
 * the pool is short (it keeps its MAC and addresses together, so peers'
 * neighbour caches stay right), else removes it; either way it trims the
 * pool back to its size.  The network's last attachment takes the switch,
 * and its spares, with it.
 *
 * The switch also says what each container holds on it: "osn/held/<container
 * id>/<ifname>" = "<port name> <address string>", written by the transaction
 * that claims a spare or inserts a pool-path ADD's own port, and removed by
 * the one that detaches that port.  The pool read sees it, so an ADD tried
 * again after a kill (its earlier try's claim committed, its veth made or
 * not; or a DEL that removed the veth and died before the NB) adopts the
 * port it already holds, guarded by "it is still this container's", and
 * never claims a second one.  A key whose port is gone (removed by hand) is
 * dropped by the ADD that finds it so. */
#define OSN_EXT_SPARE "osn/spare" /* "true" on a spare port */
/* A warm port (attach.h, "Warm ports"): on its spare's logical port, the
 * node that keeps it plugged; on its OVS interface, its addresses. */
#define OSN_EXT_WARM "osn/warm"
/* The index's and the held keys, OSN_EXT_SPARE_INDEX and OSN_EXT_HELD, and
 * what they mean, are names.h's. */
#define OSN_POOL_DEFAULT_SIZE 4 /* node config "pool_size" */
#define OSN_POOL_MAX_SIZE     64
#define OSN_WARM_MAX_PORTS    8 /* node config "warm_ports" */

struct osn_tenancy;
/* The external_ids that mark a switch as osn's network 'network' with
 * these settings (an OVSDB map, new reference): what an ADD's guard
 * expects of the switch it joins. */
json_t *osn_nb_switch_ids(const struct osn_netconf *nc, const struct osn_tenancy *t,
                          const char *network, const char *fingerprint);

/* For golden tests: new spares' UUIDs come from a sequence that starts at
 * 'seed' instead of from getrandom() (0: random again).  Process-wide. */
void osn_nb_pin_spare_uuids(uint64_t seed);

struct osn_alloc;

/* What an ADD asks of the NB DB.  Borrowed by osn_nb_attach_start() until
 * osn_nb_attach_free(). */
struct osn_port_spec {
        const struct osn_netconf *nc;
        const struct osn_tenancy *ten; /* whose network (tenancy.h) */
        const char *network;           /* ten->network: the network's key */
        const char *node_config;       /* its path, for messages */
        const struct osn_alloc *alloc; /* nc's address space */
        const char *physical_network;  /* resolved; NULL when not external */
        const char *fingerprint;
        const char *port_name;
        bool mac_requested; /* runtimeConfig.mac / MAC= */
        uint8_t mac[6];     /* the requested MAC, else the MAC of a port without IPs */
        const struct osn_cidr *static_ips; /* requested, with prefixes, checked with
                                            * osn_alloc_check_static(); n may be 0 */
        size_t n_static_ips;
        /* external_ids of the port, NULL-terminated key, value, ... list */
        const char *const *port_ids;
        unsigned mtu;         /* the network's MTU, for its DHCP options */
        const char *hostname; /* DHCPv4 option 12 for this port, or NULL */
        const char *chassis;  /* this node's chassis (OVS system-id) */
        /* A persistent identity (a VM's claim reference or MAC), or NULL.
         * Its port is named for it (osn_identity_port_name()), pinned to
         * its chassis (options:requested-chassis), outlives DEL as a
         * reservation, and an ADD of it on another node while it is bound
         * makes this node the target of a live migration. */
        const char *identity;
        unsigned pool_size; /* the node's pool_size (0: no pools) */
        /* The switch is made elsewhere (a layer3 node's, layer3.h): a
         * missing one is -EIDRM with OSN_CNI_TRY_AGAIN_LATER (the caller
         * joins again), one of other settings OSN_CNI_CONFLICT, never made
         * or re-made here. */
        bool no_create;
        bool earlier_try; /* an earlier try of this ADD left its veth */
};

/* What the NB holds for the attachment once osn_nb_attach_finish() is done. */
struct osn_nb_port {
        char uuid[37];
        char name[OSN_PORT_NAME_SIZE]; /* the port's name (a claimed spare's differs from
                                        * the spec's), also the OVS iface-id */
        bool pooled;                   /* a spare was claimed for it */
        bool warm;                     /* ... a warm port's (osn_nb_attach_use_warm()) */
        bool created;                  /* this ADD inserted it (else a retried ADD found its own) */
        bool switch_created;           /* ... and the network's switch with it */
        bool migration;                /* this node became the target of a live migration */
        bool rebound;                  /* a reservation of its identity was bound here */
        uint8_t mac[6];
        struct osn_cidr ips[OSN_MAX_STATIC]; /* with their subnets' prefixes */
        size_t n_ips;
};

/* Attaching is pipelined: _start() chooses the addresses (the first
 * candidate, or the static request), sends the one transaction of the common
 * case (join the network's existing switch: guard on its settings, claims,
 * insert, link) and returns at once, so the caller can do its kernel and OVS
 * work while the server commits.  _expected_mac() is the MAC the port gets
 * if that transaction commits (the caller gives it to the veth).
 * _finish() waits for the answer and, when a guard did not hold, sorts it out
 * and tries again within 'deadline': the network's first attachment creates
 * the switch (with its localnet port), a lost claim tries the next candidate
 * (after three, it reads the network's claims and picks a free address, or
 * fails at once when the subnet is full), a retried ADD adopts the port an
 * earlier try left (or replaces it when the request changed), a network made
 * by an older osn is migrated.  Errors: OSN_CNI_CONFLICT for other
 * settings, a requested address or MAC another pod holds (naming the pod),
 * a switch not made by osn; OSN_CNI_TRY_AGAIN_LATER for a full subnet (the
 * message names the subnet and its use) and for guards that keep failing.
 * The cost of the common case does not depend on how many ports exist but
 * for the server's evaluation of the claim guards (a scan of the port
 * table's external_ids; see the README for its measured cost). */
struct osn_nb_attach;
int osn_nb_attach_start(struct osn_ovsdb *nb, const struct osn_port_spec *spec, int64_t deadline,
                        struct osn_nb_attach **ret, struct osn_error *err) _wur_;
/* _start() in two halves, for an ADD with a round trip of its own to make
 * meanwhile (its node's OVS DB): _read_ahead() sends the pool path's read
 * of the switch (a read: nothing is touched; off the pool path nothing is
 * sent, and _expected_mac() is already the port's) and returns at once; _send() takes its answer
 * and sends the attach transaction as _start() does.  'spec' must not change in between but for its
 * chassis.  When _send() fails the caller still frees 'at'. */
int osn_nb_attach_read_ahead(struct osn_ovsdb *nb, const struct osn_port_spec *spec,
                             struct osn_nb_attach **ret, struct osn_error *err) _wur_;
int osn_nb_attach_send(struct osn_nb_attach *at, int64_t deadline, struct osn_error *err) _wur_;
void osn_nb_attach_expected_mac(const struct osn_nb_attach *at, uint8_t ret_mac[6]);
/* The name the port gets if that transaction commits (the iface-id). */
const char *osn_nb_attach_expected_port(const struct osn_nb_attach *at);
/* The network the port is on: spec->network, or, when the NB showed that
 * the attachment belongs on the network of its name that an osn before
 * tenancy made (its namespace held pods there), that network's key (the
 * bare name); then an identity's port is that network's too. */
const char *osn_nb_attach_network(const struct osn_nb_attach *at);
int osn_nb_attach_finish(struct osn_nb_attach *at, int64_t deadline, struct osn_nb_port *ret,
                         struct osn_error *err) _wur_;
/* After _finish(): the pool's top-up, when the attach left the pool at half
 * of pool_size or below (batched: what it lacks, in one transaction), or
 * took a spare's address; waits (within 'deadline') for its answer and
 * retries it when a guard did not hold, a few times.  Never an error: a pool
 * that could not be filled is logged and filled by a later ADD.  The ADD
 * calls it once it has answered (from its tail child), so that the new
 * spares never reach northd and ovn-controller while they work on its own
 * port. */
void osn_nb_attach_refill(struct osn_nb_attach *at, int64_t deadline);
/* Warm ports (attach.h, "Warm ports"), on the pool path only.
 * _use_warm(), between _read_ahead() and _send(): the ADD has warm port
 * 'port_name' (a spare of the network) with addresses 'addrs' ("MAC IP...",
 * as its OVS interface recorded them) on this node; unless the pool read
 * shows that an earlier try holds a port (adopted instead), _send() claims
 * it, guarded by "still a spare, warm for this node" (spec->port_ids'
 * osn/node).  -EINVAL when the name or the addresses are not the network's.
 * _warm(): after _send(), whether the claim went out as a warm one.  A
 * warm claim that lost its guard ends _finish() with -ESTALE (the caller
 * makes its port anew, from _read_ahead()).
 * _reserve_warm(): after _finish(), the node's warm spares of the network
 * topped up to 'want': it reads them (a scan of the port table) and the
 * pool, and spares of the pool become warm spares of this node (osn/warm =
 * node on the logical port, the index key gone) in one transaction guarded
 * by their index keys and by "the node's warm spares are still those read"
 * (of two ADDs' tails on a node one reserves, the other reads again; a few
 * times); into 'ret' (up to 'want' entries), the number reserved.  Call
 * before _refill(): the pool is then topped up for them. */
struct osn_nb_warm {
        char name[OSN_PORT_NAME_SIZE];
        char addrs[18 + OSN_MAX_STATIC * (OSN_CIDR_STRLEN + 1)];
        uint8_t mac[6];
};
int osn_nb_attach_use_warm(struct osn_nb_attach *at, const char *port_name, const char *addrs)
    _wur_;
bool osn_nb_attach_warm(const struct osn_nb_attach *at);
int osn_nb_attach_reserve_warm(struct osn_nb_attach *at, unsigned want, struct osn_nb_warm *ret,
                               int64_t deadline, struct osn_error *err) _wur_;
/* The warm spares node 'node' keeps for 'network' go (all of them, or the
 * one named 'port'; DEL of the node's last attachment of the network,
 * before its detach, and gc): each guarded by "still a warm spare of that
 * node" (an ADD that claimed one meanwhile keeps it; then the rest are
 * read again, a few times).  The number removed. */
int osn_nb_release_warm(struct osn_ovsdb *nb, const char *network, const char *node,
                        const char *port, int64_t deadline, struct osn_error *err) _wur_;

/* Accepts NULL.  An unfinished transaction's answer is left to the
 * connection (it is matched by id and dropped). */
void osn_nb_attach_free(struct osn_nb_attach *at);
static inline void osn_nb_attach_freep(struct osn_nb_attach **at)
{
        osn_nb_attach_free(*at);
}
#define _cleanup_nb_attach_ _cleanup_(osn_nb_attach_freep)

/* Every address the ports of 'network' hold (claims, and for ports made by
 * an older osn their addresses), as a malloc'd array (*ret_n entries; NULL
 * when none).  Reads the network's ports: for the near-full path and
 * osnctl, never the common ADD. */
int osn_nb_network_addresses(struct osn_ovsdb *nb, const char *network, int64_t deadline,
                             struct osn_cidr **ret, size_t *ret_n, struct osn_error *err) _wur_;

/* DEL of a persistent identity's attachment on 'node' (container 'cid'):
 * the port stays.  The migration target's DEL (a failed migration) pins it
 * back to the source; the source's DEL during a migration hands it to the
 * target; else it becomes a reservation (unbound, osn/reservation=true).
 * Nothing when somebody else holds it now.  Guarded by the port's
 * external_ids as read; 0 also when the port is gone. */
int osn_nb_release_identity(struct osn_ovsdb *nb, const char *network, const char *port_name,
                            const char *node, const char *cid, int64_t deadline,
                            struct osn_error *err) _wur_;

/* Removes the port (by name) from its switch; deletes the switch when no
 * other attachment is left (spares are not attachments: they go with it).
 * Succeeds when the port or the switch is already gone.  Returns 1 when
 * something was removed, 0 when there was nothing. */
int osn_nb_remove_port(struct osn_ovsdb *nb, const char *network, const char *port_name,
                       int64_t deadline, struct osn_error *err) _wur_;

/* DEL's end of an attachment of container 'cid' held by port 'port_name':
 * as osn_nb_remove_port(), but a claimed spare returns to the pool when the
 * network has fewer than 'pool_size' spares, and the pool is trimmed back
 * to 'pool_size' (0: neither).  A spare-named port that another container
 * holds now (or that is a spare again) is left alone: 0. */
int osn_nb_detach(struct osn_ovsdb *nb, const char *network, const char *port_name, const char *cid,
                  unsigned pool_size, int64_t deadline, struct osn_error *err) _wur_;

/* The names of the ports container 'cid' interface 'ifname' holds on
 * 'network' (by their external_ids: a scan of the port table, off the
 * common path), a JSON array of strings into *ret (new reference). */
int osn_nb_container_ports(struct osn_ovsdb *nb, const char *network, const char *cid,
                           const char *ifname, int64_t deadline, json_t **ret,
                           struct osn_error *err) _wur_;

/* Those ports (osn_nb_container_ports(); for DEL, and for ADDs retried
 * after a kill), only its claimed spares when 'spares_only': each goes
 * through osn_nb_detach().  The number found. */
int osn_nb_detach_container(struct osn_ovsdb *nb, const char *network, const char *cid,
                            const char *ifname, bool spares_only, unsigned pool_size,
                            int64_t deadline, struct osn_error *err) _wur_;

/* The UUID of the router-type port of a layer3 node switch whose
 * external_ids are 'sw_ids' into 'uuid'; false when the switch is not a
 * layer3 node's.  (Deleting such a switch, osn_nb_delete_switch_if(),
 * takes its router port along, and the router with its last port.) */
bool osn_nb_router_lsp_uuid(const json_t *sw_ids, char uuid[OSN_UUID_SIZE]);

/* Deletes switch 'switch_uuid' (and, by garbage collection, its ports)
 * only if its ports are still exactly 'ports' (the OVSDB set as read) and,
 * when 'external_ids' is not NULL, its external_ids too (a claim of a spare
 * changes only those): the guard that keeps a delete from racing a
 * concurrent ADD; the
 * network's DHCP_Options rows go in the same transaction ('network' may be
 * NULL when unknown).  'why' goes into the transaction's comment.  1 deleted, 0 already gone,
 * -EAGAIN when the ports changed meanwhile. */
int osn_nb_delete_switch_if(struct osn_ovsdb *nb, const char *network, const char *switch_uuid,
                            const json_t *ports, const json_t *external_ids, const char *why,
                            int64_t deadline, struct osn_error *err) _wur_;

/* Reads one port by name: *ret_row is the row with columns _uuid, addresses,
 * dynamic_addresses, port_security, external_ids, options, up (new reference), or
 * NULL when there is none. */
int osn_nb_get_port(struct osn_ovsdb *nb, const char *port_name, int64_t deadline, json_t **ret_row,
                    struct osn_error *err) _wur_;

/* The address string "MAC [IP...]" that holds a port's MAC and IPs, from
 * a Logical_Switch_Port row with the columns addresses and
 * dynamic_addresses: its static addresses, or, while they say "dynamic",
 * what northd assigned.  Borrowed from the row; NULL when there is none
 * (yet).  *ret_dynamic (may be NULL) says whether they say "dynamic". */
const char *osn_nb_port_addresses(const json_t *lsp_row, bool *ret_dynamic);

/* Parses an OVN address string "MAC [IP...]" into the MAC and addresses;
 * each address takes the prefix of the netconf subnet it falls in (/32 or
 * /128 when none).  Returns the number of IPs, or -EINVAL. */
int osn_ovn_parse_addresses(const char *s, const struct osn_netconf *nc, uint8_t ret_mac[6],
                            struct osn_cidr *ret_ips, size_t max_ips);

#endif
