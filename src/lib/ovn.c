/* ovn: see ovn.h.  The transactions are built here, executed through
 * ovsdb.h, and nothing else in osn writes to the NB DB. */
#include "ovn.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

#define MAX_GUARD_RETRIES 20

char *osn_switch_name(const char *network)
{
        char *s = NULL;
        return asprintf(&s, "osn.%s", network) < 0 ? NULL : s;
}

char *osn_port_name(const char *network, const char *container_id, const char *ifname)
{
        char *s = NULL;
        return asprintf(&s, "osn.%s.%s.%s", network, container_id, ifname) < 0 ? NULL : s;
}

char *osn_localnet_port_name(const char *network)
{
        char *s = NULL;
        return asprintf(&s, "osn.%s.localnet", network) < 0 ? NULL : s;
}

/* --- operation builders --- */

static json_t *where_eq(const char *column, json_t *value)
{
        return json_pack("[o]", osn_ovsdb_cond(column, "==", value));
}

/* The operations that read, in one round trip, a network's switch, one of
 * its ports and its localnet port, each by name with its columns: results
 * 0, 1 and 2. */
static json_t *select_network(const char *sw_name, const char *port_name, const char *ln_name,
                              const char *const *sw_cols, const char *const *port_cols,
                              const char *const *ln_cols)
{
        return json_pack(
            "[o,o,o]",
            osn_ovsdb_op_select("Logical_Switch", where_eq("name", json_string(sw_name)), sw_cols),
            osn_ovsdb_op_select("Logical_Switch_Port", where_eq("name", json_string(port_name)),
                                port_cols),
            osn_ovsdb_op_select("Logical_Switch_Port", where_eq("name", json_string(ln_name)),
                                ln_cols));
}

static json_t *op_wait(const char *table, json_t *where, const char *column, json_t *rows)
{
        return json_pack("{s:s, s:s, s:o, s:[s], s:s, s:o, s:i}", "op", "wait", "table", table,
                         "where", where, "columns", column, "until", "==", "rows", rows, "timeout",
                         0);
}

static json_t *op_comment(const char *fmt, ...) _printf_(1, 2);
static json_t *op_comment(const char *fmt, ...)
{
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        return json_pack("{s:s, s:s}", "op", "comment", "comment", buf);
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

/* "MAC", "MAC dynamic" or "MAC IP..." for a new port. */
static void port_addresses(const struct osn_port_spec *spec, char *buf, size_t len)
{
        char mac[OSN_MAC_STRLEN];
        osn_mac_format(spec->mac, mac, sizeof(mac));
        size_t off = (size_t)snprintf(buf, len, "%s", mac);
        if (spec->n_static_ips > 0) {
                for (size_t i = 0; i < spec->n_static_ips && off < len; i++) {
                        char a[OSN_CIDR_STRLEN];
                        off +=
                            (size_t)snprintf(buf + off, len - off, " %s",
                                             osn_addr_format(&spec->static_ips[i], a, sizeof(a)));
                }
        } else if (spec->nc->n_subnets > 0) {
                snprintf(buf + off, len - off, " dynamic");
        }
}

/* other_config of the switch: OVN's native IPAM. */
static json_t *switch_other_config(const struct osn_netconf *nc)
{
        char subnet[OSN_CIDR_STRLEN] = "", prefix6[OSN_CIDR_STRLEN] = "", excl[2048] = "";
        size_t off = 0;
        for (size_t i = 0; i < nc->n_subnets; i++) {
                if (nc->subnets[i].family == AF_INET)
                        osn_cidr_format(&nc->subnets[i], subnet, sizeof(subnet));
                else
                        osn_addr_format(&nc->subnets[i], prefix6, sizeof(prefix6));
        }
        /* exclude_ips takes IPv4 addresses and "first..last" ranges. */
        for (size_t i = 0; i < nc->n_excludes && off < sizeof(excl); i++) {
                const struct osn_cidr *x = &nc->excludes[i];
                if (x->family != AF_INET)
                        continue;
                char a[OSN_CIDR_STRLEN], b[OSN_CIDR_STRLEN];
                struct osn_cidr first = osn_cidr_network(x), last = first;
                uint32_t host = x->prefixlen >= 32 ? 0 : (0xffffffffu >> x->prefixlen);
                last.addr.v4.s_addr = htonl(ntohl(first.addr.v4.s_addr) | host);
                osn_addr_format(&first, a, sizeof(a));
                if (host == 0)
                        off += (size_t)snprintf(excl + off, sizeof(excl) - off, "%s%s",
                                                off ? " " : "", a);
                else
                        off += (size_t)snprintf(excl + off, sizeof(excl) - off, "%s%s..%s",
                                                off ? " " : "", a,
                                                osn_addr_format(&last, b, sizeof(b)));
        }
        /* A network bridged to a physical network shares its subnet with the
         * hosts out there, whose router conventionally holds the first
         * address: OVN never hands it out. */
        for (size_t i = 0; nc->external && i < nc->n_subnets && off < sizeof(excl); i++) {
                if (nc->subnets[i].family != AF_INET || nc->subnets[i].prefixlen >= 31)
                        continue;
                struct osn_cidr gw = osn_cidr_network(&nc->subnets[i]);
                gw.addr.v4.s_addr = htonl(ntohl(gw.addr.v4.s_addr) + 1);
                char a[OSN_CIDR_STRLEN];
                off += (size_t)snprintf(excl + off, sizeof(excl) - off, "%s%s", off ? " " : "",
                                        osn_addr_format(&gw, a, sizeof(a)));
        }
        const char *kv[8];
        size_t n = 0;
        if (subnet[0]) {
                kv[n++] = "subnet";
                kv[n++] = subnet;
        }
        if (excl[0] && subnet[0]) {
                kv[n++] = "exclude_ips";
                kv[n++] = excl;
        }
        if (prefix6[0]) {
                kv[n++] = "ipv6_prefix";
                kv[n++] = prefix6;
        }
        kv[n] = NULL;
        return osn_ovsdb_map(kv);
}

/* The external_ids that mark a switch as osn's, with these settings. */
static json_t *switch_ids(const struct osn_port_spec *spec)
{
        const struct osn_netconf *nc = spec->nc;
        const char *kv[] = {OSN_EXT_NETWORK,
                            nc->name,
                            OSN_EXT_TOPOLOGY,
                            osn_topology_name(nc->topology),
                            OSN_EXT_FINGERPRINT,
                            spec->fingerprint,
                            NULL};
        return osn_ovsdb_map(kv);
}

static json_t *switch_row(const struct osn_port_spec *spec, const char *sw_name, json_t *ports)
{
        return json_pack("{s:s, s:o, s:o, s:o}", "name", sw_name, "external_ids", switch_ids(spec),
                         "other_config", switch_other_config(spec->nc), "ports",
                         osn_ovsdb_set(ports));
}

static json_t *port_row(const struct osn_port_spec *spec)
{
        char addrs[256];
        port_addresses(spec, addrs, sizeof(addrs));
        /* Until northd assigns addresses, port security pins the MAC alone;
         * osn_nb_pin_port() widens it to the assigned IPs. */
        char psec[256];
        if (spec->n_static_ips > 0 || spec->nc->n_subnets == 0)
                snprintf(psec, sizeof(psec), "%s", addrs);
        else
                osn_mac_format(spec->mac, psec, sizeof(psec));
        return json_pack("{s:s, s:o, s:o, s:o}", "name", spec->port_name, "addresses",
                         string_set1(addrs), "port_security", string_set1(psec), "external_ids",
                         osn_ovsdb_map(spec->port_ids));
}

static json_t *localnet_row(const struct osn_port_spec *spec, const char *name)
{
        const char *ids[] = {OSN_EXT_NETWORK, spec->nc->name, NULL};
        const char *opts[] = {"network_name", spec->physical_network, NULL};
        json_t *row = json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", name, "type", "localnet",
                                "addresses", string_set1("unknown"), "options", osn_ovsdb_map(opts),
                                "external_ids", osn_ovsdb_map(ids));
        if (spec->nc->vlan > 0)
                json_object_set_new(row, "tag_request", json_integer(spec->nc->vlan));
        return row;
}

/* Number of attachments on a switch: its ports minus the localnet port. */
static size_t attachment_count(const json_t *sw_row, const char *localnet_uuid)
{
        const json_t *ports = json_object_get(sw_row, "ports");
        size_t n = osn_ovsdb_set_size(ports), count = 0;
        for (size_t i = 0; i < n; i++) {
                const json_t *u = osn_ovsdb_set_at(ports, i);
                if (!localnet_uuid ||
                    !streq(json_string_value(json_array_get(u, 1)), localnet_uuid))
                        count++;
        }
        return count;
}

/* Static requests: is any requested IP or MAC held by another port of the
 * network?  Reads only this network's ports. */
static int check_static_conflicts(struct osn_ovsdb *nb, const struct osn_port_spec *spec,
                                  int64_t deadline, struct osn_error *err)
{
        static const char *const cols[] = {"name", "addresses", "dynamic_addresses", NULL};
        const char *kv[] = {OSN_EXT_NETWORK, spec->nc->name, NULL};
        json_t *ops = json_pack(
            "[o]", osn_ovsdb_op_select("Logical_Switch_Port",
                                       json_pack("[o]", osn_ovsdb_cond("external_ids", "includes",
                                                                       osn_ovsdb_map(kv))),
                                       cols));
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(nb, OSN_NB_DB, ops, deadline, &res, err);
        if (r < 0)
                return r;
        json_t *rows = osn_ovsdb_result_rows(res, 0), *row;
        size_t i;
        json_array_foreach(rows, i, row)
        {
                const char *name = json_string_value(json_object_get(row, "name"));
                if (streq(name, spec->port_name))
                        continue;
                const json_t *sets[2] = {json_object_get(row, "addresses"),
                                         json_object_get(row, "dynamic_addresses")};
                for (size_t s = 0; s < 2; s++) {
                        for (size_t k = 0; k < osn_ovsdb_set_size(sets[s]); k++) {
                                const char *a = json_string_value(osn_ovsdb_set_at(sets[s], k));
                                uint8_t mac[6];
                                struct osn_cidr ips[8];
                                int n = osn_ovn_parse_addresses(a, spec->nc, mac, ips, 8);
                                if (n < 0)
                                        continue;
                                if (memcmp(mac, spec->mac, 6) == 0) {
                                        char m[OSN_MAC_STRLEN];
                                        return osn_error_set(
                                            err, -EADDRINUSE, OSN_CNI_CONFLICT,
                                            "MAC %s requested for network \"%s\" is already "
                                            "used by port %s",
                                            osn_mac_format(mac, m, sizeof(m)), spec->nc->name,
                                            name);
                                }
                                for (int j = 0; j < n; j++)
                                        for (size_t q = 0; q < spec->n_static_ips; q++)
                                                if (osn_addr_equal(&ips[j], &spec->static_ips[q])) {
                                                        char b[OSN_CIDR_STRLEN];
                                                        return osn_error_set(
                                                            err, -EADDRINUSE, OSN_CNI_CONFLICT,
                                                            "IP %s requested for network "
                                                            "\"%s\" is already taken by port "
                                                            "%s",
                                                            osn_addr_format(&ips[j], b, sizeof(b)),
                                                            spec->nc->name, name);
                                                }
                        }
                }
        }
        return 0;
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

static void fill_port(struct osn_nb_port *ret, const char *uuid, const json_t *row)
{
        snprintf(ret->uuid, sizeof(ret->uuid), "%s", uuid ? uuid : "");
        ret->addresses[0] = 0;
        ret->dynamic = false;
        if (!row)
                return;
        const char *a = osn_nb_port_addresses(row, &ret->dynamic);
        if (a)
                snprintf(ret->addresses, sizeof(ret->addresses), "%s", a);
}

/* Reads the switch's "ports" column into its row 'sw' (which the caller
 * owns).  The common paths never need it: it grows with the network, so only
 * the rare ones (other settings, static requests) pay for reading it.
 * -EAGAIN when the switch is gone. */
static int read_switch_ports(struct osn_ovsdb *nb, json_t *sw, int64_t deadline,
                             struct osn_error *err)
{
        json_t *ops = json_pack(
            "[o]", osn_ovsdb_op_select("Logical_Switch",
                                       where_eq("_uuid", osn_ovsdb_uuid(osn_ovsdb_row_uuid(sw))),
                                       (const char *const[]){"ports", NULL}));
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(nb, OSN_NB_DB, ops, deadline, &res, err);
        if (r < 0)
                return r;
        json_t *row = json_array_get(osn_ovsdb_result_rows(res, 0), 0);
        if (!row)
                return -EAGAIN;
        return json_object_set(sw, "ports", json_object_get(row, "ports"));
}

int osn_nb_ensure_port(struct osn_ovsdb *nb, const struct osn_port_spec *spec, int64_t deadline,
                       struct osn_nb_port *ret, struct osn_error *err)
{
        static const char *const sw_cols[] = {"_uuid", "external_ids", NULL};
        static const char *const port_cols[] = {"_uuid", "addresses", "dynamic_addresses",
                                                "external_ids", NULL};
        static const char *const ln_cols[] = {"_uuid", NULL};
        const struct osn_netconf *nc = spec->nc;
        _cleanup_free_ char *sw_name = osn_switch_name(nc->name);
        _cleanup_free_ char *ln_name = osn_localnet_port_name(nc->name);
        if (!sw_name || !ln_name)
                return -ENOMEM;

        memset(ret, 0, sizeof(*ret));
        for (int attempt = 0; attempt < MAX_GUARD_RETRIES; attempt++) {
                json_t *ops =
                    select_network(sw_name, spec->port_name, ln_name, sw_cols, port_cols, ln_cols);
                _cleanup_json_ json_t *res = NULL;
                int r = osn_ovsdb_transact(nb, OSN_NB_DB, ops, deadline, &res, err);
                if (r < 0)
                        return r;
                json_t *sws = osn_ovsdb_result_rows(res, 0), *ports = osn_ovsdb_result_rows(res, 1);
                json_t *lns = osn_ovsdb_result_rows(res, 2);
                if (json_array_size(sws) > 1)
                        return osn_error_set(err, -ENOTUNIQ, OSN_CNI_CONFLICT,
                                             "%zu logical switches are named \"%s\"; osn expects "
                                             "one (remove the extra ones)",
                                             json_array_size(sws), sw_name);
                json_t *sw = json_array_get(sws, 0);
                const char *ln_uuid = osn_ovsdb_row_uuid(json_array_get(lns, 0));

                if (sw) {
                        const json_t *ids = json_object_get(sw, "external_ids");
                        const char *owner = osn_ovsdb_map_get(ids, OSN_EXT_NETWORK);
                        const char *fp = osn_ovsdb_map_get(ids, OSN_EXT_FINGERPRINT);
                        if (!streq(owner, nc->name))
                                return osn_error_set(err, -EEXIST, OSN_CNI_CONFLICT,
                                                     "logical switch \"%s\" exists but was not "
                                                     "created by osn (no external_ids:%s=%s); "
                                                     "osn leaves it alone",
                                                     sw_name, OSN_EXT_NETWORK, nc->name);
                        json_t *own = json_array_get(ports, 0);
                        bool same = streq(fp, spec->fingerprint);
                        if (same && own) {
                                /* A retried ADD: our port is there already. */
                                fill_port(ret, osn_ovsdb_row_uuid(own), own);
                                ret->created = false;
                                return 0;
                        }
                        if (!same || spec->n_static_ips > 0 || nc->has_static_mac) {
                                r = read_switch_ports(nb, sw, deadline, err);
                                if (r == -EAGAIN)
                                        continue;
                                if (r < 0)
                                        return r;
                        }
                        size_t attached = same ? 0 : attachment_count(sw, ln_uuid);
                        if (!same && (attached > 1 || (attached == 1 && !own)))
                                return osn_error_set(
                                    err, -EEXIST, OSN_CNI_CONFLICT,
                                    "network \"%s\" already exists with other settings and "
                                    "%zu attachment(s): existing {%s}, this config {%s}; every "
                                    "NAD that names a network must carry the same settings, "
                                    "and a network's settings change only when no pod is "
                                    "attached",
                                    nc->name, attached, fp ? fp : "", spec->fingerprint);
                        if (!same) {
                                /* No attachment but ours (from an earlier try):
                                 * replace the switch with one of the new settings. */
                                r = osn_nb_delete_switch_if(
                                    nb, osn_ovsdb_row_uuid(sw), json_object_get(sw, "ports"),
                                    "re-create with new settings, no attachments", deadline, err);
                                if (r == -EAGAIN) {
                                        osn_error_clear(err);
                                        continue;
                                }
                                if (r < 0)
                                        return r;
                                continue;
                        }
                }

                if (nc->external && !spec->physical_network)
                        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                             "network \"%s\" needs a physical network", nc->name);

                if (spec->n_static_ips > 0 || nc->has_static_mac) {
                        r = check_static_conflicts(nb, spec, deadline, err);
                        if (r < 0)
                                return r;
                }

                json_t *tx = json_array();
                json_array_append_new(
                    tx, op_comment("osn: attach %s to network %s", spec->port_name, nc->name));
                /* 'port' outlives the transaction: fill_port() reads it. */
                _cleanup_json_ json_t *port = port_row(spec);
                json_array_append_new(tx, json_pack("{s:s, s:s, s:O, s:s}", "op", "insert", "table",
                                                    "Logical_Switch_Port", "row", port, "uuid-name",
                                                    "lsp"));
                if (sw) {
                        /* Guard: the switch still exists with the ports we read
                         * (static requests) or at all (dynamic). */
                        json_t *where = where_eq("_uuid", osn_ovsdb_uuid(osn_ovsdb_row_uuid(sw)));
                        if (spec->n_static_ips > 0 || nc->has_static_mac)
                                json_array_insert_new(
                                    tx, 1,
                                    op_wait("Logical_Switch", where, "ports",
                                            json_pack("[{s:O}]", "ports",
                                                      json_object_get(sw, "ports"))));
                        else
                                json_array_insert_new(
                                    tx, 1,
                                    op_wait("Logical_Switch", where, "name",
                                            json_pack("[{s:s}]", "name", sw_name)));
                        json_array_append_new(
                            tx, json_pack(
                                    "{s:s, s:s, s:o, s:[[s,s,o]]}", "op", "mutate", "table",
                                    "Logical_Switch", "where",
                                    where_eq("_uuid", osn_ovsdb_uuid(osn_ovsdb_row_uuid(sw))),
                                    "mutations", "ports", "insert",
                                    osn_ovsdb_set(json_pack("[o]", osn_ovsdb_named_uuid("lsp")))));
                } else {
                        /* Guard: nobody created the switch since we looked. */
                        json_array_insert_new(tx, 1,
                                              op_wait("Logical_Switch",
                                                      where_eq("name", json_string(sw_name)),
                                                      "name", json_array()));
                        json_t *sw_ports = json_pack("[o]", osn_ovsdb_named_uuid("lsp"));
                        if (nc->external) {
                                json_array_append_new(sw_ports, osn_ovsdb_named_uuid("ln"));
                                json_array_append_new(
                                    tx, json_pack("{s:s, s:s, s:o, s:s}", "op", "insert", "table",
                                                  "Logical_Switch_Port", "row",
                                                  localnet_row(spec, ln_name), "uuid-name", "ln"));
                        }
                        json_array_append_new(tx, json_pack("{s:s, s:s, s:o}", "op", "insert",
                                                            "table", "Logical_Switch", "row",
                                                            switch_row(spec, sw_name, sw_ports)));
                }
                _cleanup_json_ json_t *tres = NULL;
                r = osn_ovsdb_transact(nb, OSN_NB_DB, tx, deadline, &tres, err);
                if (r == -EAGAIN) {
                        /* Another attachment created or deleted the switch
                         * (or, for static requests, added a port): re-read. */
                        log_debug("NB guard for %s did not hold; retrying", sw_name);
                        osn_error_clear(err);
                        continue;
                }
                if (r == -EEXIST && attempt + 1 < MAX_GUARD_RETRIES) {
                        /* Our port name exists: a concurrent retry of this ADD. */
                        osn_error_clear(err);
                        continue;
                }
                if (r < 0)
                        return r;
                /* The port insert's result holds its uuid: operation 2. */
                const json_t *u = json_object_get(json_array_get(tres, 2), "uuid");
                fill_port(ret, json_string_value(json_array_get(u, 1)), port);
                ret->created = true;
                ret->switch_created = !sw;
                return 0;
        }
        return osn_error_set(err, -EAGAIN, OSN_CNI_TRY_AGAIN_LATER,
                             "network \"%s\": the NB DB kept changing under %d attempts to attach "
                             "%s; try again",
                             nc->name, MAX_GUARD_RETRIES, spec->port_name);
}

json_t *osn_nb_fast_attach_ops(const struct osn_port_spec *spec)
{
        if (spec->n_static_ips > 0 || spec->nc->has_static_mac)
                return NULL;
        _cleanup_free_ char *sw_name = osn_switch_name(spec->nc->name);
        if (!sw_name)
                return NULL;
        /* The guard compares the switch's whole external_ids with what this
         * config would write: the same owner, topology and fingerprint. */
        return json_pack(
            "[o,o,{s:s, s:s, s:o, s:s},{s:s, s:s, s:o, s:[[s,s,o]]}]",
            op_comment("osn: attach %s to network %s", spec->port_name, spec->nc->name),
            op_wait("Logical_Switch", where_eq("name", json_string(sw_name)), "external_ids",
                    json_pack("[{s:o}]", "external_ids", switch_ids(spec))),
            "op", "insert", "table", "Logical_Switch_Port", "row", port_row(spec), "uuid-name",
            "lsp", "op", "mutate", "table", "Logical_Switch", "where",
            where_eq("name", json_string(sw_name)), "mutations", "ports", "insert",
            osn_ovsdb_set(json_pack("[o]", osn_ovsdb_named_uuid("lsp"))));
}

void osn_nb_fast_attach_result(const json_t *ops, const json_t *result, struct osn_nb_port *ret)
{
        memset(ret, 0, sizeof(*ret));
        const json_t *u = json_object_get(json_array_get(result, 2), "uuid");
        fill_port(ret, json_string_value(json_array_get(u, 1)),
                  json_object_get(json_array_get(ops, 2), "row"));
        ret->created = true;
}

int osn_nb_pin_port(struct osn_ovsdb *nb, const char *port_uuid, const char *addresses,
                    int64_t deadline, struct osn_error *err)
{
        json_t *ops = json_pack("[{s:s, s:s, s:o, s:{s:o, s:o}}]", "op", "update", "table",
                                "Logical_Switch_Port", "where",
                                where_eq("_uuid", osn_ovsdb_uuid(port_uuid)), "row", "addresses",
                                string_set1(addresses), "port_security", string_set1(addresses));
        _cleanup_json_ json_t *res = NULL;
        return osn_ovsdb_transact(nb, OSN_NB_DB, ops, deadline, &res, err);
}

int osn_nb_delete_switch_if(struct osn_ovsdb *nb, const char *switch_uuid, const json_t *ports,
                            const char *why, int64_t deadline, struct osn_error *err)
{
        json_t *where = where_eq("_uuid", osn_ovsdb_uuid(switch_uuid));
        json_t *ops =
            json_pack("[o,o,{s:s, s:s, s:o}]", op_comment("osn: delete network (%s)", why),
                      op_wait("Logical_Switch", json_deep_copy(where), "ports",
                              json_pack("[{s:O}]", "ports", ports)),
                      "op", "delete", "table", "Logical_Switch", "where", where);
        if (!ops)
                return -ENOMEM;
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(nb, OSN_NB_DB, ops, deadline, &res, err);
        if (r < 0)
                return r;
        return json_integer_value(json_object_get(json_array_get(res, 2), "count")) > 0 ? 1 : 0;
}

int osn_nb_get_port(struct osn_ovsdb *nb, const char *port_name, int64_t deadline, json_t **ret_row,
                    struct osn_error *err)
{
        static const char *const cols[] = {
            "_uuid", "addresses", "dynamic_addresses", "port_security", "external_ids", "up", NULL};
        json_t *ops =
            json_pack("[o]", osn_ovsdb_op_select("Logical_Switch_Port",
                                                 where_eq("name", json_string(port_name)), cols));
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(nb, OSN_NB_DB, ops, deadline, &res, err);
        if (r < 0)
                return r;
        json_t *row = json_array_get(osn_ovsdb_result_rows(res, 0), 0);
        *ret_row = row ? json_incref(row) : NULL;
        return 0;
}

int osn_nb_remove_port(struct osn_ovsdb *nb, const char *network, const char *port_name,
                       int64_t deadline, struct osn_error *err)
{
        static const char *const sw_cols[] = {"_uuid", "external_ids", NULL};
        static const char *const port_cols[] = {"_uuid", "external_ids", NULL};
        _cleanup_free_ char *sw_name = osn_switch_name(network);
        _cleanup_free_ char *ln_name = osn_localnet_port_name(network);
        if (!sw_name || !ln_name)
                return -ENOMEM;

        for (int attempt = 0; attempt < MAX_GUARD_RETRIES; attempt++) {
                json_t *ops =
                    select_network(sw_name, port_name, ln_name, sw_cols, port_cols, port_cols);
                _cleanup_json_ json_t *res = NULL;
                int r = osn_ovsdb_transact(nb, OSN_NB_DB, ops, deadline, &res, err);
                if (r < 0)
                        return r;
                json_t *sw = json_array_get(osn_ovsdb_result_rows(res, 0), 0);
                json_t *port = json_array_get(osn_ovsdb_result_rows(res, 1), 0);
                const char *ln_uuid =
                    osn_ovsdb_row_uuid(json_array_get(osn_ovsdb_result_rows(res, 2), 0));
                if (!port)
                        return 0;
                if (!streq(
                        osn_ovsdb_map_get(json_object_get(port, "external_ids"), OSN_EXT_NETWORK),
                        network))
                        return osn_error_set(err, -EPERM, OSN_CNI_CONFLICT,
                                             "logical switch port \"%s\" was not created by osn; "
                                             "left alone",
                                             port_name);
                const char *port_uuid = osn_ovsdb_row_uuid(port);
                json_t *tx;
                if (!sw ||
                    !streq(osn_ovsdb_map_get(json_object_get(sw, "external_ids"), OSN_EXT_NETWORK),
                           network)) {
                        /* An orphan port (its switch is gone or not ours):
                         * nothing references it, delete it directly. */
                        tx = json_pack("[{s:s, s:s, s:o}]", "op", "delete", "table",
                                       "Logical_Switch_Port", "where",
                                       where_eq("_uuid", osn_ovsdb_uuid(port_uuid)));
                } else {
                        /* Detach, and in the same transaction ask whether the
                         * switch is now empty (but for its localnet port).
                         * Transactions are serialized, so of several concurrent
                         * DELs the one that commits last sees the final state
                         * and removes the switch.  The condition is evaluated
                         * by the server: the ports themselves are never read,
                         * however many there are. */
                        const char *sw_uuid = osn_ovsdb_row_uuid(sw);
                        json_t *empty =
                            ln_uuid ? json_pack("[o]", osn_ovsdb_uuid(ln_uuid)) : json_array();
                        tx = json_pack(
                            "[o,{s:s, s:s, s:o, s:[[s,s,o]]},o]",
                            op_comment("osn: detach %s from network %s", port_name, network), "op",
                            "mutate", "table", "Logical_Switch", "where",
                            where_eq("_uuid", osn_ovsdb_uuid(sw_uuid)), "mutations", "ports",
                            "delete", osn_ovsdb_set(json_pack("[o]", osn_ovsdb_uuid(port_uuid))),
                            osn_ovsdb_op_select(
                                "Logical_Switch",
                                json_pack("[o,o]",
                                          osn_ovsdb_cond("_uuid", "==", osn_ovsdb_uuid(sw_uuid)),
                                          osn_ovsdb_cond("ports", "==", osn_ovsdb_set(empty))),
                                (const char *const[]){"ports", NULL}));
                }
                _cleanup_json_ json_t *tres = NULL;
                r = osn_ovsdb_transact(nb, OSN_NB_DB, tx, deadline, &tres, err);
                if (r == -EAGAIN) {
                        osn_error_clear(err);
                        continue;
                }
                if (r < 0)
                        return r;
                json_t *after = json_array_get(osn_ovsdb_result_rows(tres, 2), 0);
                if (after) {
                        /* We were the last after all.  An ADD attaching
                         * meanwhile makes the guard fail, and the switch
                         * stays: it is theirs now. */
                        r = osn_nb_delete_switch_if(nb, osn_ovsdb_row_uuid(sw),
                                                    json_object_get(after, "ports"),
                                                    "last attachment detached", deadline, err);
                        if (r == -EAGAIN) {
                                osn_error_clear(err);
                                r = 0;
                        }
                        if (r < 0)
                                return r;
                }
                return 1;
        }
        return osn_error_set(err, -EAGAIN, OSN_CNI_TRY_AGAIN_LATER,
                             "network \"%s\": the NB DB kept changing under %d attempts to detach "
                             "%s; try again",
                             network, MAX_GUARD_RETRIES, port_name);
}
