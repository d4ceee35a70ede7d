/* views: what a row of each osnctl listing contains, and its columns.
 *
 * Contract:
 * - One place knows each row: a network (osnctl_network_json(), with
 *   osnctl_network_view() the details "show" and "networks" add), an
 *   attachment (osnctl_port_json(), both sides of a live migration as
 *   osnctl_port_rows() lists them), a pool's spare, a reservation, a node
 *   (an SB chassis) and this node's status.  These rows are the --json
 *   output; the column sets below render the same rows as text
 *   (output.h), so both say the same facts.
 * - A row builder reads only what it is given (inventory.h structs,
 *   OVSDB rows, the node config): no I/O, nothing printed.  Each returns a
 *   new reference, or NULL when out of memory (the renderers say so).
 */
#ifndef OSNCTL_VIEWS_H
#define OSNCTL_VIEWS_H

#include "ctl.h"
#include "output.h"

/* A set of columns (a table) or fields (a field list). */
struct osnctl_columns {
        const struct osnctl_column *v;
        size_t n;
};

/* networks: NETWORK NAMESPACE TOPOLOGY ... (wide: RESERVATIONS ...). */
extern const struct osnctl_columns osnctl_network_columns;
/* show NETWORK: the network's field list. */
extern const struct osnctl_columns osnctl_network_fields;
/* attachments: NETWORK POD CONTAINER ... (show omits NETWORK). */
extern const struct osnctl_columns osnctl_attachment_columns;
/* show NETWORK: the pool's spares. */
extern const struct osnctl_columns osnctl_spare_columns;
/* nodes: NODE HOSTNAME ENCAP TUNNEL NB_CFG PHYSNETS. */
extern const struct osnctl_columns osnctl_node_columns;
/* status: the node's field list. */
extern const struct osnctl_columns osnctl_status_fields;
/* reservations: NETWORK IDENTITY ADDRESSES AGE LAST NODE. */
extern const struct osnctl_columns osnctl_reservation_columns;

/* A network: name, switch, scope, subnets, counts... */
json_t *osnctl_network_json(const struct osn_inv_network *n);
/* osnctl_network_json() plus what needs the whole inventory and the node
 * config ('node' NULL: none here): "effective_mtu", "excluded", "usage",
 * "spare_ports". */
json_t *osnctl_network_view(const struct osn_nodeconf *node, const struct osn_inventory *inv,
                            const struct osn_inv_network *n);

/* An attachment: network, pod, container, interface, node, mac, ips,
 * ready, port, nad, identity, migration (null, or where it goes). */
json_t *osnctl_port_json(const struct osn_inv_port *p);
/* Rows of osnctl_port_json(): every attachment, or those that hold 'ip'
 * or 'mac' (when not NULL), of pods of namespace 'ns' (when not NULL); a
 * migrating attachment is two rows, its source and its target. */
json_t *osnctl_port_rows(const struct osn_inventory *inv, const struct osn_cidr *ip,
                         const uint8_t *mac, const char *ns);

/* A pool's spare: network, port, uuid, mac, ips, indexed, orphan. */
json_t *osnctl_spare_json(const struct osn_inv_port *p);
/* The spares of network 'name' as osnctl_spare_json() rows. */
json_t *osnctl_spare_rows(const struct osn_inventory *inv, const char *name);

/* A reservation, from its NB Logical_Switch_Port row (name, addresses,
 * external_ids): network, namespace, identity, addresses, age (text and
 * seconds, at 'now'), last_node, port. */
json_t *osnctl_reservation_json(const json_t *row, long long now);

/* A node: the SB Chassis row 'ch' with its encaps (from 'encap_rows'),
 * its Chassis_Private (from 'privs'), the tunnel to it among 'tunnels'
 * (this node's tunnel interfaces; NULL: no local OVS DB), whether it is
 * this node ('system_id') and whether it caught up with 'nb_cfg' (< 0:
 * unknown). */
json_t *osnctl_node_json(const json_t *ch, const json_t *encap_rows, const json_t *privs,
                         const json_t *tunnels, const char *system_id, json_int_t nb_cfg);

/* "physnet:br-ex,tenant:br-t" as [{"name": "physnet", "bridge": "br-ex"}, ...]. */
json_t *osnctl_mappings_json(const char *mappings);

/* This node's status (what osn_inventory_status() found, with the node
 * config 'nc'): "ok" and each probe. */
json_t *osnctl_status_json(const struct osn_nodeconf *nc, const struct osn_node_status *st);

#endif
