/* ovn: osn's objects in the OVN Northbound DB (DESIGN.md §4).
 *
 * One network = one Logical_Switch named "osn.<network>", owned by osn
 * (external_ids "osn/network", "osn/fingerprint", "osn/topology").  One
 * attachment = one Logical_Switch_Port named "osn.<network>.<container
 * id>.<ifname>", which is also the OVS iface-id.  A network bridged to a
 * physical network has one more port, "osn.<network>.localnet", of type
 * localnet, created with the switch and removed with it.
 *
 * Guarantees:
 * - Race-free across nodes without any lock: the switch insert is guarded by
 *   an OVSDB "wait" on "no switch with this name", a port insert by a "wait"
 *   on "this switch still exists", the switch delete by a "wait" on "its
 *   ports are exactly what I read".  A guard that fails (-EAGAIN from
 *   osn_ovsdb_transact) means somebody else won: re-read and retry, bounded.
 * - A switch is never silently joined with other settings: a different
 *   fingerprint is an error that shows both settings.
 * - Only rows that carry osn's external_ids are ever modified or deleted.
 * - Cost: O(1) round trips and rows read per call, independent of how many
 *   ports and networks exist (name columns are looked up with conditions;
 *   only static-address requests read the ports of their own network).
 */
#ifndef OSN_OVN_H
#define OSN_OVN_H

#include "addr.h"
#include "error.h"
#include "netconf.h"
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

/* Names (malloc'd; NULL on ENOMEM). */
char *osn_switch_name(const char *network);
char *osn_port_name(const char *network, const char *container_id, const char *ifname);
char *osn_localnet_port_name(const char *network);

/* What an ADD asks of the NB DB. */
struct osn_port_spec {
        const struct osn_netconf *nc;
        const char *physical_network; /* resolved; NULL when not external */
        const char *fingerprint;
        const char *port_name;
        uint8_t mac[6];
        const struct osn_cidr *static_ips; /* with prefixes; n may be 0 */
        size_t n_static_ips;
        /* external_ids of the port, NULL-terminated key, value, ... list */
        const char *const *port_ids;
};

struct osn_nb_port {
        char uuid[37];
        bool created; /* this call inserted it (else it existed: a retried ADD) */
        bool switch_created;
        /* "MAC [IP...]" as OVN holds it: the static addresses, or the
         * dynamic ones once northd has assigned them; empty while waiting. */
        char addresses[256];
        bool dynamic; /* the port's addresses say "dynamic": wait for northd */
};

/* Ensures the network's switch (creating it, with its localnet port, on the
 * first attachment) and the attachment's port.  Idempotent: a retried ADD
 * finds its own port and reports it with created=false.  Errors:
 * OSN_CNI_CONFLICT for different settings or a taken static address,
 * OSN_CNI_TRY_AGAIN_LATER when the guards keep failing until 'deadline'. */
int osn_nb_ensure_port(struct osn_ovsdb *nb, const struct osn_port_spec *spec, int64_t deadline,
                       struct osn_nb_port *ret, struct osn_error *err) _wur_;

/* The common ADD as one NB transaction that a caller can pipeline
 * (osn_ovsdb_transact_start) with its netlink work: insert the port into an
 * existing switch of exactly these settings.  Its guard fails (-EAGAIN at
 * finish) when the switch is missing or has other settings, and the insert
 * fails (-EEXIST) when the port exists (a retried ADD): the caller then takes
 * the general path, osn_nb_ensure_port().  NULL when the spec always needs
 * the general path (static requests read the network's ports first). */
json_t *osn_nb_fast_attach_ops(const struct osn_port_spec *spec);
/* Fills 'ret' from those ops and their successful result. */
void osn_nb_fast_attach_result(const json_t *ops, const json_t *result, struct osn_nb_port *ret);

/* Pins what northd assigned: addresses and port_security := 'addresses'. */
int osn_nb_pin_port(struct osn_ovsdb *nb, const char *port_uuid, const char *addresses,
                    int64_t deadline, struct osn_error *err) _wur_;

/* Removes the port (by name) from its switch; deletes the switch when no
 * other attachment is left.  Succeeds when the port or the switch is already
 * gone.  Returns 1 when something was removed, 0 when there was nothing. */
int osn_nb_remove_port(struct osn_ovsdb *nb, const char *network, const char *port_name,
                       int64_t deadline, struct osn_error *err) _wur_;

/* Deletes switch 'switch_uuid' (and, by garbage collection, its ports)
 * only if its ports are still exactly 'ports' (the OVSDB set as read):
 * the guard that keeps a delete from racing a concurrent ADD.  'why' goes
 * into the transaction's comment.  1 deleted, 0 already gone, -EAGAIN when
 * the ports changed meanwhile. */
int osn_nb_delete_switch_if(struct osn_ovsdb *nb, const char *switch_uuid, const json_t *ports,
                            const char *why, int64_t deadline, struct osn_error *err) _wur_;

/* Reads one port by name: *ret_row is the row with columns _uuid, addresses,
 * dynamic_addresses, port_security, external_ids, up (new reference), or
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
