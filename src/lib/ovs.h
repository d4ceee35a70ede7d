/* ovs: osn's objects in the node's local Open vSwitch DB.
 *
 * An attachment's host-side veth end becomes a Port+Interface on the
 * integration bridge with external_ids:iface-id = the OVN port name (which is
 * what makes ovn-controller claim it), attached-mac, and osn's own ids
 * (network, container id, ifname, netns) so that GC and osnctl can find
 * this node's attachments without asking the NB DB.  ovn-controller reports
 * readiness by setting external_ids:ovn-installed=true on the Interface.
 *
 * Only Ports whose Interface carries external_ids:osn/network are ever
 * removed by osn.
 */
#ifndef OSN_OVS_H
#define OSN_OVS_H

#include "error.h"
#include "ovsdb.h"
#include "util.h"

#define OSN_OVS_DB "Open_vSwitch"

struct osn_ovs_node {
        char bridge_uuid[37];
        char datapath_type[32];     /* "system", "netdev", "" */
        char bridge_mappings[1024]; /* external_ids:ovn-bridge-mappings */
        char system_id[256];        /* external_ids:system-id (the chassis name) */
};

/* One round trip: the integration bridge and the Open_vSwitch row.  Error
 * (OSN_CNI_INVALID_CONFIG) naming the bridge when it does not exist. */
int osn_ovs_read_node(struct osn_ovsdb *ovs, const char *bridge, int64_t deadline,
                      struct osn_ovs_node *ret, struct osn_error *err) _wur_;
/* The same in two halves, for pipelining: _start() sends the read (into
 * '*ret'), _finish() takes its answer and always frees 'txn'. */
struct osn_txn;
int osn_ovs_read_node_start(struct osn_ovsdb *ovs, const char *bridge, struct osn_txn **ret,
                            struct osn_error *err) _wur_;
int osn_ovs_read_node_finish(struct osn_ovsdb *ovs, struct osn_txn *txn, const char *bridge,
                             int64_t deadline, struct osn_ovs_node *ret, struct osn_error *err)
    _wur_;

/* True when 'mappings' ("physnet:br-ex,tenant:br-t") maps 'physnet'. */
bool osn_ovs_maps_physnet(const char *mappings, const char *physnet);

/* Adds 'ifname' to the bridge as a system port; 'ids' is a NULL-terminated
 * key, value, ... list for the Interface's external_ids.  -EEXIST when a
 * port of that name exists. */
int osn_ovs_add_port(struct osn_ovsdb *ovs, const struct osn_ovs_node *node, const char *ifname,
                     const char *const *ids, int64_t deadline, struct osn_error *err) _wur_;

/* Removes the port named 'ifname' from whatever bridge holds it, if it is
 * osn's.  1 removed, 0 not there. */
int osn_ovs_del_port(struct osn_ovsdb *ovs, const char *ifname, int64_t deadline,
                     struct osn_error *err) _wur_;

/* Sets external_ids:'key' = 'value' on the Interface 'ifname' (osn's own
 * host-side veth end). */
int osn_ovs_set_iface_id(struct osn_ovsdb *ovs, const char *ifname, const char *key,
                         const char *value, int64_t deadline, struct osn_error *err) _wur_;

/* The Interface rows (name, external_ids, ofport, error, admin_state,
 * link_state) of osn's
 * attachments on this node, optionally of one network only (NULL = all).
 * *ret is a JSON array (new reference). */
int osn_ovs_list_attachments(struct osn_ovsdb *ovs, const char *network, int64_t deadline,
                             json_t **ret, struct osn_error *err) _wur_;

#endif
