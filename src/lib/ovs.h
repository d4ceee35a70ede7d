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
 * attachments on this node, optionally of one network only (NULL = all):
 * not its warm ports (below).  *ret is a JSON array (new reference). */
int osn_ovs_list_attachments(struct osn_ovsdb *ovs, const char *network, int64_t deadline,
                             json_t **ret, struct osn_error *err) _wur_;

/* Warm ports (attach.h, "Warm ports"): a spare of network N plugged ahead
 * of time, its Interface's external_ids osn/network = N and osn/warm = the
 * port's addresses ("MAC IP..."), no container.  An ADD that takes one
 * drops osn/warm and adds the attachment's ids (osn_ovs_take_warm_*()):
 * from then on it is an attachment like any other.
 *
 * _read_warm_start() sends one read of network 'network's warm ports and of
 * the interfaces that carry container 'cid' and interface 'ifname' (an
 * earlier try's); _finish() takes its answer (always freeing 'txn'):
 * *ret_warm and *ret_mine, JSON arrays of rows (name, external_ids,
 * ofport; new references). */
int osn_ovs_read_warm_start(struct osn_ovsdb *ovs, const char *network, const char *cid,
                            const char *ifname, struct osn_txn **ret, struct osn_error *err) _wur_;
int osn_ovs_read_warm_finish(struct osn_ovsdb *ovs, struct osn_txn *txn, int64_t deadline,
                             json_t **ret_warm, json_t **ret_mine, struct osn_error *err) _wur_;
/* Network 'network''s warm ports (NULL: every network's; rows as above;
 * new reference). */
int osn_ovs_list_warm(struct osn_ovsdb *ovs, const char *network, int64_t deadline, json_t **ret,
                      struct osn_error *err) _wur_;
/* Sends the change of warm port 'ifname' (osn/warm = 'warm' as read) into
 * an attachment: osn/warm goes and the pairs of 'ids' come, if it is still
 * warm (else _finish() says -EAGAIN).  _finish() always frees 'txn'. */
int osn_ovs_take_warm_start(struct osn_ovsdb *ovs, const char *ifname, const char *warm,
                            const char *const *ids, struct osn_txn **ret, struct osn_error *err)
    _wur_;
int osn_ovs_take_warm_finish(struct osn_ovsdb *ovs, struct osn_txn *txn, int64_t deadline,
                             struct osn_error *err) _wur_;

#endif
