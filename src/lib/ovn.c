/* ovn: see ovn.h; the bottom layer of it (nbrows.h): names, the rows osn
 * keeps in the NB DB, their conditions and guards, the reads, and the
 * guarded changes that attach and detach share.  Every operation is built
 * with txn.h; nothing else in osn writes to the NB DB (nbdetach.c and
 * nbattach.c, above, build theirs from these helpers). */
#include "ovn.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/random.h>

#include "alloc.h"
#include "layer3.h"
#include "log.h"
#include "nbrows.h"
#include "txn.h"

/* --- conditions and guards (txn.h writes the operations) --- */

json_t *nb_by_uuid(const char *uuid)
{
        return osn_where_eq("_uuid", osn_ovsdb_uuid(uuid));
}

json_t *nb_by_name(const char *name)
{
        return osn_where_eq("name", json_string(name));
}

/* The condition "external_ids holds key = value". */
json_t *nb_ids_include(const char *key, const char *value)
{
        const char *kv[] = {key, value, NULL};
        return osn_where1("external_ids", "includes", osn_ovsdb_map(kv));
}

/* 'where' and "external_ids holds the pairs of 'kv'". */
json_t *nb_and_ids_include(json_t *where, const char *const *kv)
{
        return osn_where_and(where, osn_ovsdb_cond("external_ids", "includes", osn_ovsdb_map(kv)));
}

/* The condition "port 'uuid' is a spare". */
json_t *nb_still_spare(const char *uuid)
{
        return nb_and_ids_include(nb_by_uuid(uuid),
                                  (const char *const[]){OSN_EXT_SPARE, "true", NULL});
}

/* The guard "the rows matching 'where', projected on 'column', are
 * exactly [{column: value}]" ('value' stolen). */
static osn_op wait_column(struct osn_txn *t, const char *table, json_t *where, const char *column,
                          json_t *value)
{
        json_t *rows = value ? json_pack("[{s:o}]", column, value) : NULL;
        return osn_txn_wait(t, table, where, (const char *const[]){column, NULL}, true, rows);
}

/* The same with a borrowed value (a column as read). */
osn_op nb_wait_column_as_read(struct osn_txn *t, const char *table, json_t *where,
                              const char *column, const json_t *value)
{
        return wait_column(t, table, where, column, json_incref((json_t *)value));
}

/* The guard "no port of the network holds claim 'claim'" (ovn.h,
 * "Addresses"). */
osn_op nb_claim_free(struct osn_txn *t, const char *claim, const char *network)
{
        return osn_txn_wait(t, "Logical_Switch_Port", nb_ids_include(claim, network),
                            (const char *const[]){"name", NULL}, true, json_array());
}

struct nb_network_read nb_select_network(struct osn_txn *t, const char *sw_name,
                                         const char *port_name, const char *ln_name,
                                         const char *const *sw_cols, const char *const *port_cols,
                                         const char *const *ln_cols)
{
        struct nb_network_read h;
        h.sw = osn_txn_select(t, "Logical_Switch", nb_by_name(sw_name), sw_cols);
        h.port = osn_txn_select(t, "Logical_Switch_Port", nb_by_name(port_name), port_cols);
        h.ln = osn_txn_select(t, "Logical_Switch_Port", nb_by_name(ln_name), ln_cols);
        return h;
}

static json_t *string_set1(const char *s)
{
        return osn_ovsdb_set(json_pack("[s]", s));
}

/* --- addresses --- */

/* The prefix of the subnet that holds 'a', or the host prefix. */
static unsigned prefix_for(const struct osn_netconf *nc, const struct osn_cidr *a)
{
        for (size_t i = 0; nc && i < nc->n_subnets; i++)
                if (osn_cidr_contains(&nc->subnets[i], a))
                        return nc->subnets[i].prefixlen;
        return a->family == AF_INET ? 32 : 128;
}

int osn_ovn_parse_addresses(const char *s, const struct osn_netconf *nc, uint8_t ret_mac[6],
                            struct osn_cidr *ret_ips, size_t max_ips)
{
        char buf[512];
        if (!s || strlen(s) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, s);
        char *save = NULL;
        char *tok = strtok_r(buf, " ", &save);
        if (!tok || osn_mac_parse(tok, ret_mac) < 0)
                return -EINVAL;
        size_t n = 0;
        while ((tok = strtok_r(NULL, " ", &save))) {
                struct osn_cidr c;
                if (streq(tok, "dynamic"))
                        continue;
                if (osn_cidr_parse(tok, false, &c) < 0)
                        return -EINVAL;
                if (n == max_ips)
                        return -E2BIG;
                c.prefixlen = prefix_for(nc, &c);
                ret_ips[n++] = c;
        }
        return (int)n;
}

/* "MAC IP..." (OVN's addresses and port_security syntax), malloc'd. */
char *nb_addresses_string(const uint8_t mac[6], const struct osn_cidr *ips, size_t n)
{
        char m[OSN_MAC_STRLEN];
        size_t len = OSN_MAC_STRLEN + n * (OSN_CIDR_STRLEN + 1) + 1;
        char *s = malloc(len);
        if (!s)
                return NULL;
        size_t off = (size_t)snprintf(s, len, "%s", osn_mac_format(mac, m, sizeof(m)));
        for (size_t i = 0; i < n; i++) {
                char a[OSN_CIDR_STRLEN];
                off += (size_t)snprintf(s + off, len - off, " %s",
                                        osn_addr_format(&ips[i], a, sizeof(a)));
        }
        return s;
}

void nb_claim_key_ip(const struct osn_cidr *ip, char buf[OSN_CLAIM_KEY_STRLEN])
{
        char a[OSN_CIDR_STRLEN];
        snprintf(buf, OSN_CLAIM_KEY_STRLEN, "%s%s", OSN_EXT_CLAIM_IP,
                 osn_addr_format(ip, a, sizeof(a)));
}

void nb_claim_key_mac(const uint8_t mac[6], char buf[OSN_CLAIM_KEY_STRLEN])
{
        char m[OSN_MAC_STRLEN];
        snprintf(buf, OSN_CLAIM_KEY_STRLEN, "%s%s", OSN_EXT_CLAIM_MAC,
                 osn_mac_format(mac, m, sizeof(m)));
}

/* Appends [key, value] to an OVSDB map value ["map", [...]]. */
void nb_map_add(json_t *map, const char *key, const char *value)
{
        json_array_append_new(json_array_get(map, 1), json_pack("[s,s]", key, value));
}

/* The external_ids that mark a switch as osn's, with these settings. */
json_t *nb_switch_ids(const struct osn_port_spec *spec)
{
        return osn_nb_switch_ids(spec->nc, spec->ten, spec->network, spec->fingerprint);
}

json_t *osn_nb_switch_ids(const struct osn_netconf *nc, const struct osn_tenancy *t,
                          const char *network, const char *fingerprint)
{
        const char *kv[15] = {
            OSN_EXT_NETWORK,     network,     OSN_EXT_TOPOLOGY, osn_topology_name(nc->topology),
            OSN_EXT_FINGERPRINT, fingerprint, OSN_EXT_IPAM,     OSN_IPAM_CLAIMS};
        size_t n = 8;
        /* A network made before tenancy is joined as it is (its holders
         * are not part of what a joiner checks). */
        if (t->scope != OSN_SCOPE_LEGACY) {
                kv[n++] = OSN_EXT_NAME;
                kv[n++] = t->name;
                kv[n++] = OSN_EXT_SCOPE;
                kv[n++] = osn_scope_name(t->scope);
        }
        if (t->scope == OSN_SCOPE_NAMESPACE) {
                kv[n++] = OSN_EXT_NAMESPACE;
                kv[n++] = t->namespace;
        } else if (t->scope == OSN_SCOPE_CLUSTER) {
                kv[n++] = OSN_EXT_NAMESPACES;
                kv[n++] = t->namespaces;
        }
        kv[n] = NULL;
        return osn_ovsdb_map(kv);
}

json_t *nb_localnet_row(const struct osn_port_spec *spec, const char *name)
{
        const char *ids[] = {OSN_EXT_NETWORK, spec->network, NULL};
        const char *opts[] = {"network_name", spec->physical_network, NULL};
        json_t *row = json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", name, "type", "localnet",
                                "addresses", string_set1("unknown"), "options", osn_ovsdb_map(opts),
                                "external_ids", osn_ovsdb_map(ids));
        if (spec->nc->vlan > 0)
                json_object_set_new(row, "tag_request", json_integer(spec->nc->vlan));
        return row;
}

/* Whether 'uuid' is in the pool index of a switch's external_ids. */
static bool indexed_spare(const json_t *sw_ids, const char *uuid)
{
        char key[OSN_POOL_INDEX_KEY_SIZE];
        if (!osn_ovsdb_is_uuid(uuid))
                return false;
        osn_pool_index_key(uuid, key);
        return osn_ovsdb_map_get(sw_ids, key);
}

static bool is_server_port(const json_t *sw_ids, const char *uuid);

/* Number of attachments on a switch: its ports minus the localnet port,
 * the DHCP server's port and the spares. */
size_t nb_attachment_count(const json_t *sw_row, const char *localnet_uuid)
{
        const json_t *ports = json_object_get(sw_row, "ports");
        const json_t *ids = json_object_get(sw_row, "external_ids");
        size_t n = osn_ovsdb_set_size(ports), count = 0;
        for (size_t i = 0; i < n; i++) {
                const char *u = json_string_value(json_array_get(osn_ovsdb_set_at(ports, i), 1));
                if ((!localnet_uuid || !streq(u, localnet_uuid)) && !indexed_spare(ids, u) &&
                    !is_server_port(ids, u))
                        count++;
        }
        return count;
}

const char *osn_nb_port_addresses(const json_t *lsp_row, bool *ret_dynamic)
{
        const char *a =
            json_string_value(osn_ovsdb_set_at(json_object_get(lsp_row, "addresses"), 0));
        bool dynamic = a && strstr(a, "dynamic");
        if (ret_dynamic)
                *ret_dynamic = dynamic;
        if (dynamic)
                return json_string_value(
                    osn_ovsdb_set_at(json_object_get(lsp_row, "dynamic_addresses"), 0));
        return a;
}

/* Reads the switch's "ports" column into its row 'sw' (which the caller
 * owns).  The common paths never need it: it grows with the network, so only
 * the rare ones (other settings, a migration) pay for reading it.
 * -EAGAIN when the switch is gone. */
int nb_read_switch_ports(struct osn_ovsdb *nb, json_t *sw, int64_t deadline, struct osn_error *err)
{
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        if (!t)
                return -ENOMEM;
        osn_op sel = osn_txn_select(t, "Logical_Switch", nb_by_uuid(osn_ovsdb_row_uuid(sw)),
                                    (const char *const[]){"ports", NULL});
        int r = osn_txn_commit(t, nb, deadline, err);
        if (r < 0)
                return r;
        const json_t *row = osn_txn_row(t, sel);
        if (!row)
                return -EAGAIN;
        return json_object_set(sw, "ports", json_object_get(row, "ports"));
}

/* The rows (_uuid, name, addresses, dynamic_addresses, external_ids) of
 * every port of 'network' (new reference in *ret). */
int nb_read_network_ports(struct osn_ovsdb *nb, const char *network, int64_t deadline, json_t **ret,
                          struct osn_error *err)
{
        static const char *const cols[] = {"_uuid",        "name", "addresses", "dynamic_addresses",
                                           "external_ids", NULL};
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        if (!t)
                return -ENOMEM;
        osn_op sel = osn_txn_select(t, "Logical_Switch_Port",
                                    nb_ids_include(OSN_EXT_NETWORK, network), cols);
        int r = osn_txn_commit(t, nb, deadline, err);
        if (r < 0)
                return r;
        *ret = json_incref((json_t *)osn_txn_rows(t, sel));
        return *ret ? 0 : -EPROTO;
}

/* The addresses a port row holds: its IP claims, or, for a port made before
 * claims (no osn/ip/ key), what its addresses say.  Appends to v[*n]
 * (capacity 'max'). */
static void row_addresses(const json_t *row, const char *network, struct osn_cidr *v, size_t *n,
                          size_t max)
{
        const json_t *pairs = json_array_get(json_object_get(row, "external_ids"), 1), *kv;
        size_t i, before = *n;
        json_array_foreach((json_t *)pairs, i, kv)
        {
                const char *k = json_string_value(json_array_get(kv, 0));
                struct osn_cidr c;
                if (*n < max && startswith(k, OSN_EXT_CLAIM_IP) &&
                    streq(json_string_value(json_array_get(kv, 1)), network) &&
                    osn_cidr_parse(k + strlen(OSN_EXT_CLAIM_IP), false, &c) == 0)
                        v[(*n)++] = c;
        }
        if (*n > before)
                return;
        uint8_t mac[6];
        struct osn_cidr ips[OSN_MAX_STATIC];
        const char *a = osn_nb_port_addresses(row, NULL);
        int k = a ? osn_ovn_parse_addresses(a, NULL, mac, ips, OSN_MAX_STATIC) : -1;
        for (int j = 0; j < k && *n < max; j++)
                v[(*n)++] = ips[j];
}

int osn_nb_network_addresses(struct osn_ovsdb *nb, const char *network, int64_t deadline,
                             struct osn_cidr **ret, size_t *ret_n, struct osn_error *err)
{
        _cleanup_json_ json_t *rows = NULL;
        int r = nb_read_network_ports(nb, network, deadline, &rows, err);
        if (r < 0)
                return r;
        size_t max = json_array_size(rows) * OSN_MAX_STATIC + 1, n = 0;
        _cleanup_free_ struct osn_cidr *v = calloc(max, sizeof(*v));
        if (!v)
                return -ENOMEM;
        json_t *row;
        size_t i;
        json_array_foreach(rows, i, row) row_addresses(row, network, v, &n, max);
        *ret_n = n;
        *ret = n ? TAKE_PTR(v) : NULL;
        return 0;
}

/* --- DHCP (OVN's native server) --- */

/* The families of nc's subnets that get DHCP: bit 0 IPv4, bit 1 IPv6. */
unsigned nb_dhcp_families(const struct osn_netconf *nc)
{
        unsigned f = 0;
        for (size_t i = 0; nc->dhcp && i < nc->n_subnets; i++)
                f |= nc->subnets[i].family == AF_INET ? 1u : 2u;
        return f;
}

/* The options the NAD chose (netconf.h: "dns") into the
 * options map 'opts' of a DHCP_Options row of 'family' (ovn-nb(5),
 * "DHCP_Options"; string options are quoted, as OVN wants them). */
static void dhcp_more_options(json_t *opts, const struct osn_netconf *nc, int family)
{
        char buf[OSN_MAX_DNS * (OSN_CIDR_STRLEN + 2) + 4], a[OSN_CIDR_STRLEN];
        if (!opts)
                return;
        size_t n = 0, o = 0;
        for (size_t i = 0; i < nc->n_dns_servers; i++) {
                if (nc->dns_servers[i].family != family)
                        continue;
                o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", n++ ? ", " : "{",
                                      osn_addr_format(&nc->dns_servers[i], a, sizeof(a)));
        }
        if (n) {
                snprintf(buf + o, sizeof(buf) - o, "}");
                nb_map_add(opts, "dns_server", buf);
        }
        /* The search list: DHCPv4's option 119.  Not DHCPv6's option 24:
         * OVN 23.03 encodes a domain there as one label ("\x0ccorp.example"),
         * which clients discard or, worse, take. */
        char search[OSN_MAX_DNS * 256 + 3];
        o = 0;
        for (size_t i = 0; family == AF_INET && i < nc->n_dns_search; i++)
                o += (size_t)snprintf(search + o, sizeof(search) - o, "%s%s", i ? "," : "\"",
                                      nc->dns_search[i]);
        if (o) {
                snprintf(search + o, sizeof(search) - o, "\"");
                nb_map_add(opts, "domain_search_list", search);
        }
        if (family == AF_INET && nc->dns_domain) {
                snprintf(search, sizeof(search), "\"%s\"", nc->dns_domain);
                nb_map_add(opts, "domain_name", search);
        }
}

/* Adds the insert of the DHCP_Options row of subnet 'idx' to 't'
 * (nothing when the row cannot be made). */
void nb_dhcp_insert(struct osn_txn *t, const struct osn_port_spec *spec, size_t idx)
{
        const struct osn_netconf *nc = spec->nc;
        const struct osn_cidr *sub = &spec->alloc->subnets[idx].subnet;
        char uuid[37], cidr[OSN_CIDR_STRLEN], mac[OSN_MAC_STRLEN], mtu[16], srv[OSN_CIDR_STRLEN],
            gw[OSN_CIDR_STRLEN] = "";
        osn_dhcp_options_uuid(spec->network, sub->family, uuid);
        osn_cidr_format(sub, cidr, sizeof(cidr));
        osn_dhcp_server_mac(spec->network, mac);
        snprintf(mtu, sizeof(mtu), "%u", spec->mtu ? spec->mtu : 1500);
        char lease[16];
        snprintf(lease, sizeof(lease), "%u",
                 nc->dhcp_lease_time ? nc->dhcp_lease_time : OSN_DHCP_LEASE_DEFAULT);
        json_t *opts;
        if (sub->family == AF_INET) {
                struct osn_cidr server;
                if (osn_alloc_dhcp_server(spec->alloc, nc, idx, &server) < 0)
                        return;
                osn_addr_format(&server, srv, sizeof(srv));
                for (size_t i = 0; i < nc->n_gateways; i++)
                        if (nc->gateways[i].family == AF_INET)
                                osn_addr_format(&nc->gateways[i], gw, sizeof(gw));
                const char *kv[] = {"server_id", srv,          "server_mac",
                                    mac,         "lease_time", lease,
                                    "mtu",       mtu,          gw[0] ? "router" : NULL,
                                    gw,          NULL};
                opts = osn_ovsdb_map(kv);
        } else {
                const char *kv[] = {"server_id", mac, NULL};
                opts = osn_ovsdb_map(kv);
        }
        dhcp_more_options(opts, nc, sub->family);
        const char *ids[] = {OSN_EXT_NETWORK, spec->network, NULL};
        osn_txn_insert(t, "DHCP_Options",
                       json_pack("{s:s, s:o, s:o}", "cidr", cidr, "options", opts, "external_ids",
                                 osn_ovsdb_map(ids)),
                       NULL, uuid);
}

/* Deletes the network's DHCP_Options rows (none is no error). */
static void dhcp_delete(struct osn_txn *t, const char *network)
{
        osn_txn_delete(t, "DHCP_Options", nb_ids_include(OSN_EXT_NETWORK, network));
}

/* --- the DHCP server's port (ovn.h) --- */

/* Whether 'uuid' is the server port of the switch whose external_ids are
 * 'sw_ids'. */
static bool is_server_port(const json_t *sw_ids, const char *uuid)
{
        const char *net = osn_ovsdb_map_get(sw_ids, OSN_EXT_NETWORK);
        char u[37];
        if (!net || !uuid)
                return false;
        osn_dhcp_port_uuid(net, u);
        return streq(u, uuid);
}

/* Whether the network's DHCPv4 server answers from an address of its own
 * (alloc.h's OSN_BLOCK_DHCP_SERVER), which no other port holds: then the
 * server port must.  A gateway's address (defaultGatewayIPs, the physical
 * network's gateway) is held by the gateway, which answers ARP for it; a
 * port of OVN's answering too would take its traffic. */
bool nb_wants_server_port(const struct osn_port_spec *spec, struct osn_cidr *ret_addr)
{
        const struct osn_netconf *nc = spec->nc;
        if (!(nb_dhcp_families(nc) & 1) || nc->external)
                return false;
        for (size_t i = 0; i < nc->n_gateways; i++)
                if (nc->gateways[i].family == AF_INET)
                        return false;
        for (size_t i = 0; i < spec->alloc->n_subnets; i++)
                if (spec->alloc->subnets[i].subnet.family == AF_INET)
                        return osn_alloc_dhcp_server(spec->alloc, nc, i, ret_addr) == 0;
        return false;
}

/* Adds the insert of the server port (uuid-name "dsrv") to 't': its
 * handle, or OSN_OP_NONE when the network has none. */
osn_op nb_server_port_insert(struct osn_txn *t, const struct osn_port_spec *spec)
{
        struct osn_cidr srv;
        if (!nb_wants_server_port(spec, &srv))
                return OSN_OP_NONE;
        const char *net = spec->network;
        _cleanup_free_ char *name = osn_dhcp_port_name(net);
        char uuid[37], mac[OSN_MAC_STRLEN], ip[OSN_CIDR_STRLEN],
            addrs[OSN_MAC_STRLEN + OSN_CIDR_STRLEN];
        osn_dhcp_port_uuid(net, uuid);
        osn_dhcp_server_mac(net, mac);
        snprintf(addrs, sizeof(addrs), "%s %s", mac, osn_addr_format(&srv, ip, sizeof(ip)));
        const char *ids[] = {OSN_EXT_NETWORK, net, NULL};
        json_t *row =
            name ? json_pack("{s:s, s:s, s:o, s:o}", "name", name, "type", "localport", "addresses",
                             string_set1(addrs), "external_ids", osn_ovsdb_map(ids))
                 : NULL;
        return osn_txn_insert(t, "Logical_Switch_Port", row, "dsrv", uuid);
}

/* Adds the guard "switch 'sw_name' holds the network's server port" to
 * 't': its handle, or OSN_OP_NONE when the network has none. */
osn_op nb_server_port_guard(struct osn_txn *t, const struct osn_port_spec *spec,
                            const char *sw_name)
{
        struct osn_cidr srv;
        if (!nb_wants_server_port(spec, &srv))
                return OSN_OP_NONE;
        char uuid[37];
        osn_dhcp_port_uuid(spec->network, uuid);
        return osn_txn_exists(
            t, "Logical_Switch",
            osn_where_and(nb_by_name(sw_name),
                          osn_ovsdb_cond("ports", "includes",
                                         osn_ovsdb_set(json_pack("[o]", osn_ovsdb_uuid(uuid))))));
}

/* Adds the select (of _uuid) that finds the network's server port. */
osn_op nb_server_port_select(struct osn_txn *t, const char *network)
{
        char uuid[37];
        osn_dhcp_port_uuid(network, uuid);
        return osn_txn_select(t, "Logical_Switch_Port", nb_by_uuid(uuid),
                              (const char *const[]){"_uuid", NULL});
}

/* The hostname option of an attachment's port (OVN reads it from the
 * port's options, ovn-nb(5)), as a map, or NULL: only with DHCPv4.  (A
 * value northd cannot parse would drop the port's whole DHCP flow.) */
json_t *nb_hostname_option(const struct osn_port_spec *spec)
{
        if (!spec->hostname || !*spec->hostname || !(nb_dhcp_families(spec->nc) & 1))
                return NULL;
        /* A string option: northd copies it into the action as it is. */
        _cleanup_free_ char *q = NULL;
        if (asprintf(&q, "\"%s\"", spec->hostname) < 0)
                return NULL;
        return osn_ovsdb_map((const char *const[]){"hostname", q, NULL});
}

/* A Logical_Switch_Port row of the network: 'name', 'mac' and 'ips'
 * (addresses, port security, DHCP), external_ids 'ids' (stolen) with the
 * claims of the addresses added. */
json_t *nb_lsp_row(const struct osn_port_spec *spec, const char *name, const uint8_t mac[6],
                   const struct osn_cidr *ips, size_t n_ips, json_t *ids)
{
        const struct osn_netconf *nc = spec->nc;
        _cleanup_free_ char *addrs = nb_addresses_string(mac, ips, n_ips);
        if (!addrs || !ids)
                return json_decref(ids), NULL;
        char key[OSN_CLAIM_KEY_STRLEN];
        for (size_t i = 0; i < n_ips; i++) {
                nb_claim_key_ip(&ips[i], key);
                nb_map_add(ids, key, spec->network);
        }
        nb_claim_key_mac(mac, key);
        nb_map_add(ids, key, spec->network);
        json_t *row;
        if (nc->mac_security_disabled) {
                /* No port security, and frames to MACs OVN does not know
                 * reach this port too (a VM that bridges other MACs). */
                row = json_pack("{s:s, s:o, s:o, s:o}", "name", name, "addresses",
                                osn_ovsdb_set(json_pack("[s,s]", addrs, "unknown")),
                                "port_security", osn_ovsdb_set(json_array()), "external_ids", ids);
        } else {
                row =
                    json_pack("{s:s, s:o, s:o, s:o}", "name", name, "addresses", string_set1(addrs),
                              "port_security", string_set1(addrs), "external_ids", ids);
        }
        unsigned fams = nb_dhcp_families(nc);
        char u[37];
        if (row && (fams & 1)) {
                osn_dhcp_options_uuid(spec->network, AF_INET, u);
                json_object_set_new(row, "dhcpv4_options", osn_ovsdb_uuid(u));
        }
        if (row && (fams & 2)) {
                osn_dhcp_options_uuid(spec->network, AF_INET6, u);
                json_object_set_new(row, "dhcpv6_options", osn_ovsdb_uuid(u));
        }
        return row;
}

/* The number of spares in a switch's pool index. */
size_t nb_index_size(const json_t *sw_ids)
{
        size_t n = 0, i;
        const json_t *pair;
        json_array_foreach(json_array_get(sw_ids, 1), i, pair) n +=
            osn_pool_index_uuid(json_string_value(json_array_get(pair, 0))) != NULL;
        return n;
}

/* A copy of the map 'ids' without 'key'. */
json_t *nb_map_without(const json_t *ids, const char *key)
{
        json_t *m = osn_ovsdb_map((const char *const[]){NULL});
        size_t i;
        const json_t *pair;
        json_array_foreach(json_array_get(ids, 1), i, pair)
        {
                if (!streq(json_string_value(json_array_get(pair, 0)), key))
                        json_array_append(json_array_get(m, 1), (json_t *)pair);
        }
        return m;
}

/* One guarded change of a port: it still has the external_ids we read
 * ('row'), then external_ids loses 'del_ids' and gains 'add_ids', options
 * loses 'del_opts' and gains 'add_opts' (maps; may be NULL; stolen).
 * -EAGAIN when the port changed meanwhile. */
int nb_port_update(struct osn_ovsdb *nb, const json_t *row, const char *const *del_ids,
                   json_t *add_ids, const char *const *del_opts, json_t *add_opts, const char *why,
                   int64_t deadline, struct osn_error *err)
{
        const char *uuid = osn_ovsdb_row_uuid(row);
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        json_t *del_i = json_array(), *del_o = json_array();
        if (!t || !del_i || !del_o) {
                json_decref(del_i), json_decref(del_o), json_decref(add_ids), json_decref(add_opts);
                return -ENOMEM;
        }
        for (size_t i = 0; del_ids && del_ids[i]; i++)
                json_array_append_new(del_i, json_string(del_ids[i]));
        for (size_t i = 0; del_opts && del_opts[i]; i++)
                json_array_append_new(del_o, json_string(del_opts[i]));
        json_t *muts =
            osn_mutation_and(osn_mutation("external_ids", "delete", osn_ovsdb_set(del_i)),
                             osn_mutation("options", "delete", osn_ovsdb_set(del_o)));
        if (add_ids)
                muts = osn_mutation_and(muts, osn_mutation("external_ids", "insert", add_ids));
        if (add_opts)
                muts = osn_mutation_and(muts, osn_mutation("options", "insert", add_opts));
        osn_txn_comment(t, "osn: %s", why);
        nb_wait_column_as_read(t, "Logical_Switch_Port", nb_by_uuid(uuid), "external_ids",
                               json_object_get(row, "external_ids"));
        osn_txn_mutate(t, "Logical_Switch_Port", nb_by_uuid(uuid), muts);
        int r = osn_txn_commit(t, nb, deadline, err);
        if (r == -EAGAIN)
                osn_error_clear(err);
        return r;
}

/* The keys that say who holds an attachment now. */
const char *const nb_holder_keys[] = {OSN_EXT_CONTAINER,
                                      OSN_EXT_IFNAME,
                                      OSN_EXT_NODE,
                                      OSN_EXT_POD_NS,
                                      OSN_EXT_POD_NAME,
                                      OSN_EXT_POD_UID,
                                      OSN_EXT_NAD,
                                      OSN_EXT_CHASSIS,
                                      OSN_EXT_RESERVATION,
                                      OSN_EXT_RESERVED_AT,
                                      OSN_EXT_MIG_NODE,
                                      OSN_EXT_MIG_CHASSIS,
                                      OSN_EXT_MIG_CONTAINER,
                                      OSN_EXT_MIG_IFNAME,
                                      OSN_EXT_MIG_POD_NS,
                                      OSN_EXT_MIG_POD_NAME,
                                      OSN_EXT_MIG_POD_UID,
                                      OSN_EXT_MIG_SINCE,
                                      NULL};

int osn_nb_delete_switch_if(struct osn_ovsdb *nb, const char *network, const char *switch_uuid,
                            const json_t *ports, const json_t *external_ids, const char *why,
                            int64_t deadline, struct osn_error *err)
{
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        if (!t)
                return -ENOMEM;
        osn_txn_comment(t, "osn: delete network (%s)", why);
        nb_wait_column_as_read(t, "Logical_Switch", nb_by_uuid(switch_uuid), "ports", ports);
        if (external_ids)
                nb_wait_column_as_read(t, "Logical_Switch", nb_by_uuid(switch_uuid), "external_ids",
                                       external_ids);
        osn_op del = osn_txn_delete(t, "Logical_Switch", nb_by_uuid(switch_uuid));
        /* Its DHCP server goes with it (DHCP_Options is a root table), and
         * a layer3 node's router port (layer3.h). */
        if (network)
                dhcp_delete(t, network);
        if (external_ids && osn_layer3_txn_release(t, external_ids) < 0)
                return -ENOMEM;
        int r = osn_txn_commit(t, nb, deadline, err);
        if (r < 0)
                return r;
        return osn_txn_count(t, del) > 0 ? 1 : 0;
}

int osn_nb_get_port(struct osn_ovsdb *nb, const char *port_name, int64_t deadline, json_t **ret_row,
                    struct osn_error *err)
{
        static const char *const cols[] = {
            "_uuid", "addresses", "dynamic_addresses", "port_security", "external_ids", "options",
            "up",    NULL};
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        if (!t)
                return -ENOMEM;
        osn_op sel = osn_txn_select(t, "Logical_Switch_Port", nb_by_name(port_name), cols);
        int r = osn_txn_commit(t, nb, deadline, err);
        if (r < 0)
                return r;
        const json_t *row = osn_txn_row(t, sel);
        *ret_row = row ? json_incref((json_t *)row) : NULL;
        return 0;
}

/* The UUIDs of the spares a switch's external_ids index. */
json_t *nb_index_uuids(const json_t *sw_ids)
{
        json_t *v = json_array();
        size_t i;
        const json_t *pair;
        json_array_foreach(json_array_get(sw_ids, 1), i, pair)
        {
                const char *u = osn_pool_index_uuid(json_string_value(json_array_get(pair, 0)));
                if (u)
                        json_array_append_new(v, osn_ovsdb_uuid(u));
        }
        return v;
}
