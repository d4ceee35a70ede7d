/* names: every name osn derives, in one place (docs/design.md, "The OVN
 * objects").
 *
 * osn stores none of these names where it reads them back from: a DEL,
 * CHECK or GC run by a newer plugin finds what an older one made only
 * because it derives the same names from the same inputs (the network's
 * key, the container id, the interface, a spare's UUID).  So every function
 * here is pure, and its output is a compatibility promise:
 * tests/unit/test-names.c pins exact values, computed independently.
 *
 * - OVN (the NB DB): the switch "osn.<network>"; an attachment's port
 *   "osn.<network>.<container id>.<ifname>" (also the OVS iface-id); a
 *   persistent identity's "osn.<network>.id.<identity>"; a pool's spare
 *   "osn.<network>.spare.<U>" (U its _uuid); the localnet port
 *   "osn.<network>.localnet"; the DHCP server's port "osn.<network>.dhcp";
 *   the UUIDs of the network's DHCP_Options rows and of its DHCP server's
 *   port, and the server's MAC, all derived from the network's key (so
 *   that an ADD points at them without reading them).
 * - The switch's own bookkeeping keys: the pool index, one key
 *   "osn/spare/<U>" per spare U (ovn.h, "Pools"), and what a container
 *   holds, "osn/held/<container id>/<ifname>".
 * - The node: the host-side veth "osn" + 12 hex digits of a hash of the
 *   port name (15 bytes, the kernel's limit), and the MAC of an attachment
 *   that asks for none.
 *
 * Ownership: functions returning char * return malloc'd strings (NULL on
 * ENOMEM); the others write into the caller's buffer, sized by the
 * constants below.
 */
#ifndef OSN_NAMES_H
#define OSN_NAMES_H

#include <net/if.h>

#include "addr.h"
#include "util.h"

#define OSN_EXT_SPARE_INDEX     "osn/spare/" /* + UUID, on the switch: the pool index */
#define OSN_EXT_HELD            "osn/held/"  /* + "<container id>/<ifname>", on the switch */
#define OSN_PORT_NAME_SIZE      512          /* any port name osn makes, with its NUL */
#define OSN_UUID_SIZE           37           /* a UUID's 36 characters and its NUL */
#define OSN_POOL_INDEX_KEY_SIZE (sizeof(OSN_EXT_SPARE_INDEX) + OSN_UUID_SIZE - 1)

/* --- OVN --- */

char *osn_switch_name(const char *network);
char *osn_port_name(const char *network, const char *container_id, const char *ifname);
char *osn_localnet_port_name(const char *network);
/* "osn.<network>.dhcp": the port of the network's DHCP server (ovn.h). */
char *osn_dhcp_port_name(const char *network);
/* "osn.<network>.id.<identity>": the port of a persistent identity. */
char *osn_identity_port_name(const char *network, const char *identity);
/* "osn.<network>.spare.<uuid>". */
char *osn_spare_port_name(const char *network, const char *uuid);
/* Whether 'port_name' is the name of a spare of 'network' (its suffix a
 * UUID); its UUID into 'uuid' (may be NULL). */
bool osn_is_spare_port(const char *network, const char *port_name, char uuid[OSN_UUID_SIZE]);

/* The UUID of the network's DHCP_Options row of 'family' (AF_INET or
 * AF_INET6): ovsdb-server(7)'s insert takes a "uuid", so every ADD points
 * its port at the row without reading it. */
void osn_dhcp_options_uuid(const char *network, int family, char buf[OSN_UUID_SIZE]);
/* The UUID of the network's DHCP server port, derived as the rows' are: a
 * guard can ask "the switch holds it" without reading anything. */
void osn_dhcp_port_uuid(const char *network, char buf[OSN_UUID_SIZE]);
/* The DHCP server's MAC: 0a:59 and four bytes of the network's hash, a
 * prefix no MAC osn derives for a port uses. */
void osn_dhcp_server_mac(const char *network, char buf[OSN_MAC_STRLEN]);

/* --- A layer3 network's router (layer3.h) --- */

/* The network's Logical_Router "osn.<network>" (the layer3 network's key,
 * not a node's), malloc'd. */
char *osn_router_name(const char *network);
/* A node piece's ('node_key' "<key>@<node>") Logical_Router_Port
 * "osn.<node_key>.lrp" and its switch's router-type Logical_Switch_Port
 * "osn.<node_key>.router", malloc'd. */
char *osn_router_port_name(const char *node_key);
char *osn_router_lsp_name(const char *node_key);
/* Their row UUIDs, derived so that a removal names them without reading
 * them (and a second claim's insert is refused), and the router port's MAC
 * (0a:58 and four bytes of the node key's hash). */
void osn_router_port_uuid(const char *node_key, char buf[OSN_UUID_SIZE]);
void osn_router_lsp_uuid(const char *node_key, char buf[OSN_UUID_SIZE]);
void osn_router_port_mac(const char *node_key, char buf[OSN_MAC_STRLEN]);

/* --- The switch's keys --- */

/* The pool index.  Every key of a switch's external_ids that begins with
 * OSN_EXT_SPARE_INDEX belongs to its pool index; one whose rest is a UUID
 * U names spare U, and is stale when the switch holds no spare U; one
 * whose rest is no UUID names nothing and is always stale.  This is the one
 * definition: ovn.c (the pool), inventory.c (stale keys) and remove.c (their
 * repair) all read the index through here. */
void osn_pool_index_key(const char *uuid, char buf[OSN_POOL_INDEX_KEY_SIZE]);
/* Whether 'key' (may be NULL) belongs to the pool index. */
bool osn_pool_index_has(const char *key);
/* The spare's UUID that index key 'key' (may be NULL) names (a pointer into
 * 'key'), or NULL when 'key' names no spare. */
const char *osn_pool_index_uuid(const char *key);

/* The switch's key of what container 'cid' holds as 'ifname' (NULL reads
 * as ""). */
void osn_held_key(const char *cid, const char *ifname, char buf[OSN_PORT_NAME_SIZE]);

/* --- The node --- */

/* The host-side veth name of an OVN port: "osn" + 12 hex digits of a hash
 * of the port name (15 bytes, the kernel's limit). */
void osn_host_ifname(const char *port_name, char buf[IFNAMSIZ]);
/* The pod-side end of a warm port (a spare plugged ahead of time on a node,
 * attach.h "Warm ports") while it waits, down, in the node's netns: "osw"
 * + the same 12 hex digits as the host end's, osn_host_ifname(). */
void osn_warm_ifname(const char *port_name, char buf[IFNAMSIZ]);
/* The host-side veth of an attachment: named for its port, but a claimed
 * spare's for the container and interface (as the ADD made it). */
void osn_attachment_host(const char *network, const char *port, const char *cid, const char *ifname,
                         char buf[IFNAMSIZ]);
/* The MAC osn gives an attachment that asks for none: locally administered,
 * unicast, derived from the port name, so a retried ADD gets the same one. */
void osn_port_mac(const char *port_name, uint8_t mac[6]);

#endif
