/* nbrows: the rows osn keeps in the OVN Northbound DB, their conditions
 * and guards, and the reads that find them (ovn.c), for the modules above
 * it: nbdetach.c (detach, release, delete a switch) and nbattach.c (attach,
 * pools, identities, tenancy).  Private to those three files; ovn.h is the
 * interface of all of it.
 *
 * Layers, each calling only down: nbattach.c -> nbdetach.c -> ovn.c ->
 * txn.h.  Every operation is written with txn.h; these helpers add the
 * schema's words: which table, which column, which condition.
 *
 * Ownership as in txn.h: a json_t * argument that becomes part of an
 * operation is stolen; the conditions returned are new references.
 */
#ifndef OSN_NBROWS_H
#define OSN_NBROWS_H

#include "ovn.h"
#include "txn.h"

#define MAX_GUARD_RETRIES 20

/* --- conditions and guards --- */

json_t *nb_by_uuid(const char *uuid);
json_t *nb_by_name(const char *name);
/* "external_ids holds key = value". */
json_t *nb_ids_include(const char *key, const char *value);
/* 'where' and "external_ids holds the pairs of 'kv'" (key, value, ..., NULL). */
json_t *nb_and_ids_include(json_t *where, const char *const *kv);
/* "port 'uuid' is a spare". */
json_t *nb_still_spare(const char *uuid);
/* The guard "the rows matching 'where', projected on 'column', are
 * exactly [{column: value}]" ('value' borrowed: a column as read). */
osn_op nb_wait_column_as_read(struct osn_txn *t, const char *table, json_t *where,
                              const char *column, const json_t *value);
/* The guard "no port of 'network' holds claim 'claim'". */
osn_op nb_claim_free(struct osn_txn *t, const char *claim, const char *network);

/* The selects of a network's switch, one of its ports and its localnet
 * port, each by name. */
struct nb_network_read {
        osn_op sw, port, ln;
};
struct nb_network_read nb_select_network(struct osn_txn *t, const char *sw_name,
                                         const char *port_name, const char *ln_name,
                                         const char *const *sw_cols, const char *const *port_cols,
                                         const char *const *ln_cols);

/* --- row shapes --- */

/* "MAC IP..." (malloc'd). */
char *nb_addresses_string(const uint8_t mac[6], const struct osn_cidr *ips, size_t n);
/* The claim keys of an address and of a MAC (ovn.h, "Addresses"). */
void nb_claim_key_ip(const struct osn_cidr *ip, char buf[OSN_CLAIM_KEY_STRLEN]);
void nb_claim_key_mac(const uint8_t mac[6], char buf[OSN_CLAIM_KEY_STRLEN]);
/* Appends [key, value] to an OVSDB map value ["map", [...]]. */
void nb_map_add(json_t *map, const char *key, const char *value);
/* A copy of the map 'ids' without 'key'. */
json_t *nb_map_without(const json_t *ids, const char *key);
/* The external_ids that mark a switch as osn's, with the spec's settings. */
json_t *nb_switch_ids(const struct osn_port_spec *spec);
/* The localnet port's row. */
json_t *nb_localnet_row(const struct osn_port_spec *spec, const char *name);
/* The hostname option of an attachment's port, as a map, or NULL. */
json_t *nb_hostname_option(const struct osn_port_spec *spec);
/* A port's row: 'name', 'mac' and 'ips' (addresses, port security, DHCP),
 * external_ids 'ids' (stolen) with the claims of the addresses added. */
json_t *nb_lsp_row(const struct osn_port_spec *spec, const char *name, const uint8_t mac[6],
                   const struct osn_cidr *ips, size_t n_ips, json_t *ids);

/* --- the pool's index and what containers hold (ovn.h, "Pools") --- */

/* The index's keys and what they mean are names.h's (osn_pool_index_*). */
/* The number of spares in a switch's index; their UUIDs (an array of
 * ["uuid", U], new). */
size_t nb_index_size(const json_t *sw_ids);
json_t *nb_index_uuids(const json_t *sw_ids);
/* The switch's key of what a container holds: names.h, osn_held_key(). */
/* Attachments on a switch: its ports but the localnet port, the DHCP
 * server's port and the spares. */
size_t nb_attachment_count(const json_t *sw_row, const char *localnet_uuid);

/* --- DHCP --- */

/* The families of nc's subnets that get DHCP: bit 0 IPv4, bit 1 IPv6. */
unsigned nb_dhcp_families(const struct osn_netconf *nc);
/* Adds the insert of the DHCP_Options row of subnet 'idx'. */
void nb_dhcp_insert(struct osn_txn *t, const struct osn_port_spec *spec, size_t idx);
/* The server port's UUID: names.h, osn_dhcp_port_uuid(). */
/* Whether the network's DHCPv4 server answers from an address of its own
 * (then its port holds it). */
bool nb_wants_server_port(const struct osn_port_spec *spec, struct osn_cidr *ret_addr);
/* Adds the server port's insert (uuid-name "dsrv"); the guard "switch
 * 'sw_name' holds it"; the select of it.  OSN_OP_NONE when the network has
 * none. */
osn_op nb_server_port_insert(struct osn_txn *t, const struct osn_port_spec *spec);
osn_op nb_server_port_guard(struct osn_txn *t, const struct osn_port_spec *spec,
                            const char *sw_name);
osn_op nb_server_port_select(struct osn_txn *t, const char *network);

/* --- reads and guarded changes --- */

/* Reads the switch's "ports" column into its row 'sw'; -EAGAIN when the
 * switch is gone. */
int nb_read_switch_ports(struct osn_ovsdb *nb, json_t *sw, int64_t deadline, struct osn_error *err);
/* The rows (_uuid, name, addresses, dynamic_addresses, external_ids) of
 * every port of 'network' (new reference in *ret). */
int nb_read_network_ports(struct osn_ovsdb *nb, const char *network, int64_t deadline, json_t **ret,
                          struct osn_error *err);
/* The keys that say who holds an attachment now. */
extern const char *const nb_holder_keys[];
/* One guarded change of a port: it still has the external_ids we read
 * ('row'), then external_ids loses 'del_ids' and gains 'add_ids', options
 * loses 'del_opts' and gains 'add_opts' (maps; may be NULL; stolen).
 * -EAGAIN (error cleared) when the port changed meanwhile. */
int nb_port_update(struct osn_ovsdb *nb, const json_t *row, const char *const *del_ids,
                   json_t *add_ids, const char *const *del_opts, json_t *add_opts, const char *why,
                   int64_t deadline, struct osn_error *err);

#endif
