/* layer3: upstream ovn-kubernetes' routed secondary topology, without a
 * controller (docs/design.md, "Layer3 networks").
 *
 * A layer3 network (key K, tenancy.h) has one host subnet per node and
 * family, taken out of its "subnets" (the cluster CIDRs) at the host
 * prefix (netconf.h).  On node N it is, in the NB:
 *   - a Logical_Switch "osn.K@N" (the node's piece: every other part of
 *     osn sees a layer2-like network whose key is "K@N" and whose subnets
 *     are the host subnets, so that claims, pools, held keys and
 *     identities work on it unchanged), with external_ids
 *     osn/layer3-network = K, osn/node = N and osn/host-subnet-ipv4 /
 *     osn/host-subnet-ipv6 = the host subnets: that switch IS the node's
 *     claim of its host subnets;
 *   - on it a Logical_Switch_Port "osn.K@N.router" of type router;
 *   - a Logical_Router_Port "osn.K@N.lrp" holding the first address of
 *     each host subnet (the pods' gateway), with a MAC derived from its
 *     name, on
 *   - the network's one Logical_Router "osn.K" (external_ids osn/network
 *     = K, osn/layer3-network = K, osn/fingerprint = the settings), which
 *     routes between every node's subnet.
 * The router port and the switch's router port have UUIDs derived from
 * "K@N", so that a removal names them without reading them.
 *
 * Guarantees:
 * - Race-free without a lock: the node's first ADD claims its host
 *   subnets by inserting its switch, router port and (for the network's
 *   first node) router in one transaction guarded by OVSDB "wait"s: no
 *   switch of K holds that host subnet, no switch of K is this node's,
 *   and the router is absent (inserted) or present (joined).  Two nodes
 *   racing never get one subnet; a node never gets two.  A guard that
 *   fails means somebody else won: re-read and retry, bounded.
 * - Removal rides on the node switch's removal (ovn.h): the transaction
 *   that deletes "osn.K@N" (its last attachment detached, or osnctl gc)
 *   also takes the router port off the router and deletes the router
 *   when no port is left; both by condition, so a node that joins
 *   meanwhile keeps the router.
 * - Only rows with osn's external_ids are touched.
 */
#ifndef OSN_LAYER3_H
#define OSN_LAYER3_H

#include "error.h"
#include "netconf.h"
#include "ovsdb.h"
#include "tenancy.h"
#include "util.h"

#define OSN_EXT_L3_NETWORK   "osn/layer3-network"   /* K, on the node switches and the router */
#define OSN_EXT_HOST_SUBNET4 "osn/host-subnet-ipv4" /* a node switch's host subnet */
#define OSN_EXT_HOST_SUBNET6 "osn/host-subnet-ipv6"

/* The node's piece of a layer3 network. */
struct osn_layer3_node {
        struct osn_tenancy ten; /* the network's tenancy with the key "K@N" */
        struct osn_cidr host_subnets[2];
        struct osn_cidr gateways[2]; /* the router port's address in each (prefixlen = full) */
        size_t n;
        bool created; /* this call claimed the host subnets */
};

/* The tenancy of node 'node's piece of the layer3 network of 't': 't'
 * with the key "K@N".  A key that does not fit is OSN_CNI_INVALID_CONFIG. */
int osn_layer3_node_tenancy(const struct osn_tenancy *t, const char *node, struct osn_tenancy *ret,
                            struct osn_error *err) _wur_;

/* What an ADD needs: node 'node's host subnets of the layer3 network 'nc'
 * (cluster CIDRs; 'ten' its tenancy, 'fingerprint' its settings;
 * 'node_config' the node config's path, for messages).  Claims them, with
 * the node's switch, router port and, first, the router, when the node has
 * none.  OSN_CNI_CONFLICT (both sides shown): the router of other
 * settings, a layer2/localnet network of the same key, a layer3 network
 * of the NAD's name in another scope that the same pods join on another
 * node ("cluster_networks" that disagree).  A cluster CIDR with no free
 * host subnet is OSN_CNI_TRY_AGAIN_LATER naming the network, the CIDR and
 * the nodes that hold its host subnets. */
int osn_layer3_join(struct osn_ovsdb *nb, const struct osn_netconf *nc,
                    const struct osn_tenancy *ten, const char *node, const char *node_config,
                    const char *fingerprint, int64_t deadline, struct osn_layer3_node *ret,
                    struct osn_error *err) _wur_;

/* The node's view of the network: 'nc' with the host subnets as its
 * subnets and the router port's addresses as its gateways (never a pod's),
 * strings borrowed from 'nc'. */
void osn_layer3_node_netconf(const struct osn_netconf *nc, const struct osn_layer3_node *n,
                             struct osn_netconf *ret);

/* The UUID of the router-type port of a node switch whose external_ids are
 * 'sw_ids' into 'uuid'; false when the switch is not a layer3 node's. */
bool osn_layer3_router_lsp_uuid(const json_t *sw_ids, char uuid[37]);

/* A node's first ADD that failed after its claim: the node's switch
 * 'node_key' ("K@N") goes (with its router port, and the router when it
 * was the last) if it holds nothing but its router port, guarded against a
 * concurrent ADD.  0 (also when there was nothing to do) or an error. */
int osn_layer3_leave(struct osn_ovsdb *nb, const char *node_key, int64_t deadline,
                     struct osn_error *err) _wur_;

struct osn_txn;
/* Adds to 't' (a transaction that deletes the node switch whose
 * external_ids are 'sw_ids') the removal of its router port and of the
 * router when that was its last port.  Nothing when the switch is not a
 * layer3 node's.  0 or -ENOMEM. */
int osn_layer3_txn_release(struct osn_txn *t, const json_t *sw_ids) _wur_;

#endif
