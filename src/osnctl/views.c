/* views: what a row of each osnctl listing contains (views.h). */
#include "views.h"

#include <inttypes.h>
#include <time.h>

#include "layer3.h"
#include "ovn.h"

/* --- Networks, attachments, spares (the NB inventory) --- */

static json_t *string_array(char *const *v, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

/* json_string() that maps NULL to null. */
static json_t *str_or_null(const char *s)
{
        return s ? json_string(s) : json_null();
}

static json_t *network_json_base(const struct osn_inv_network *n);

/* The NAMESPACE a network is shown under: its namespace, "cluster" with
 * its granted namespaces ("cluster(a,b)", "cluster(*)": one word, for
 * awk), "none", or "legacy" (a network made before scopes). */
static void namespace_text(const struct osn_inv_network *n, char *buf, size_t len)
{
        const char *scope = osn_inv_network_scope(n);
        if (streq(scope, "namespace"))
                snprintf(buf, len, "%s", n->scope_namespace ? n->scope_namespace : "?");
        else if (streq(scope, "cluster") && n->namespaces && *n->namespaces)
                snprintf(buf, len, "cluster(%s)", n->namespaces);
        else
                snprintf(buf, len, "%s", scope);
}

/* A comma list as an array (empty when NULL). */
static json_t *list_json(const char *list)
{
        json_t *a = json_array();
        for (const char *p = list; a && p && *p;) {
                size_t l = strcspn(p, ",");
                if (l)
                        json_array_append_new(a, json_stringn(p, l));
                p += l + (p[l] == ',');
        }
        return a;
}

/* A layer3 node's piece (layer3.h): the network it belongs to and the
 * node's host subnets; null and [] on other networks. */
static int layer3_json(json_t *o, const struct osn_inv_network *n)
{
        const char *net = osn_ovsdb_map_get(n->external_ids, OSN_EXT_L3_NETWORK);
        json_t *hs = json_array();
        const char *keys[] = {OSN_EXT_HOST_SUBNET4, OSN_EXT_HOST_SUBNET6};
        for (size_t i = 0; hs && net && i < ARRAY_SIZE(keys); i++) {
                const char *v = osn_ovsdb_map_get(n->external_ids, keys[i]);
                if (v)
                        json_array_append_new(hs, json_string(v));
        }
        if (json_object_set_new(o, "layer3_network", str_or_null(net)) < 0 ||
            json_object_set_new(o, "host_subnets", hs) < 0)
                return -ENOMEM;
        return 0;
}

json_t *osnctl_network_json(const struct osn_inv_network *n)
{
        char ns[512];
        namespace_text(n, ns, sizeof(ns));
        json_t *o = network_json_base(n);
        if (o && layer3_json(o, n) < 0)
                return json_decref(o), NULL;
        if (o && (json_object_set_new(o, "namespace", json_string(ns)) < 0 ||
                  json_object_set_new(o, "scope", json_string(osn_inv_network_scope(n))) < 0 ||
                  json_object_set_new(o, "scope_namespace", str_or_null(n->scope_namespace)) < 0 ||
                  json_object_set_new(o, "namespaces", list_json(n->namespaces)) < 0)) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static json_t *network_json_base(const struct osn_inv_network *n)
{
        return json_pack(
            "{s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:I, s:o, s:I, s:o, s:I, s:o, s:I, "
            "s:I, s:I}",
            "name", n->name, "switch", str_or_null(n->switch_name), "topology",
            str_or_null(n->topology), "subnets", osn_cidrs_to_json(n->subnets, n->n_subnets),
            "exclude_subnets", osn_cidrs_to_json(n->excludes, n->n_excludes), "mtu",
            n->mtu_known && n->mtu ? json_integer(n->mtu) : json_null(), "external", n->external,
            "physical_network", str_or_null(n->physical_network), "vlan",
            n->vlan ? json_integer(n->vlan) : json_null(), "localnet_port",
            str_or_null(n->localnet_port), "attachments", (json_int_t)n->n_attachments, "nodes",
            string_array(n->nodes, n->n_nodes), "foreign_ports", (json_int_t)n->n_foreign,
            "fingerprint", str_or_null(n->fingerprint), "spares", (json_int_t)n->n_spares,
            "stale_pool_keys", string_array(n->stale_index, n->n_stale_index), "unindexed_spares",
            (json_int_t)n->n_unindexed, "reservations", (json_int_t)n->n_reservations,
            "warm_spares", (json_int_t)n->n_warm);
}

json_t *osnctl_spare_json(const struct osn_inv_port *p)
{
        char mac[OSN_MAC_STRLEN];
        return json_pack(
            "{s:s, s:s, s:o, s:o, s:o, s:b, s:b, s:o}", "network", p->network, "port", p->name,
            "uuid", json_string(p->uuid), "mac",
            p->has_mac ? json_string(osn_mac_format(p->mac, mac, sizeof(mac))) : json_null(), "ips",
            osn_cidrs_to_json(p->ips, p->n_ips), "indexed", p->indexed, "orphan", p->orphan,
            "warm_node", p->warm_node ? json_string(p->warm_node) : json_null());
}

json_t *osnctl_spare_rows(const struct osn_inventory *inv, const char *name)
{
        json_t *rows = json_array();
        for (size_t i = 0; rows && i < inv->n_spares; i++)
                if (streq(inv->spares[i].network, name))
                        json_array_append_new(rows, osnctl_spare_json(&inv->spares[i]));
        return rows;
}

/* "namespace/name", or null when either is not recorded. */
static json_t *pod_json(const char *ns, const char *name)
{
        char pod[520];
        if (!ns || !name || !*name)
                return json_null();
        snprintf(pod, sizeof(pod), "%s/%s", ns, name);
        return json_string(pod);
}

/* A live migration in flight, or null: where to, whom, since when. */
static json_t *migration_json(const struct osn_inv_port *p)
{
        if (!p->mig_node || !*p->mig_node)
                return json_null();
        return json_pack(
            "{s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:o}", "role", "source", "from_node",
            str_or_null(p->node), "to_node", p->mig_node, "target_container_id",
            str_or_null(p->mig_container_id), "target_interface", str_or_null(p->mig_ifname),
            "target_pod", pod_json(p->mig_pod_namespace, p->mig_pod_name), "since",
            p->mig_since >= 0 ? json_integer(p->mig_since) : json_null(), "age_s",
            p->mig_since >= 0 ? json_integer((json_int_t)time(NULL) - p->mig_since) : json_null());
}

json_t *osnctl_port_json(const struct osn_inv_port *p)
{
        char mac[OSN_MAC_STRLEN];
        json_t *podj = pod_json(p->pod_namespace, p->pod_name);
        json_t *o = json_pack(
            "{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:s, s:o, s:o, "
            "s:b}",
            "network", p->network, "pod", podj, "pod_namespace", str_or_null(p->pod_namespace),
            "pod_name", str_or_null(p->pod_name), "pod_uid", str_or_null(p->pod_uid),
            "container_id", str_or_null(p->container_id), "interface", str_or_null(p->ifname),
            "node", str_or_null(p->node), "mac",
            p->has_mac ? json_string(osn_mac_format(p->mac, mac, sizeof(mac))) : json_null(), "ips",
            osn_cidrs_to_json(p->ips, p->n_ips), "ready", p->up, "port", p->name, "nad",
            str_or_null(p->nad), "addresses", str_or_null(p->addresses), "orphan", p->orphan);
        if (o && (json_object_set_new(o, "identity", str_or_null(p->identity)) < 0 ||
                  json_object_set_new(o, "migration", migration_json(p)) < 0)) {
                json_decref(o);
                return NULL;
        }
        return o;
}

/* The other side of a migrating attachment's row 'src': the same port
 * (MAC, IPs, readiness), held on the target node by the target's pod and
 * container. */
static json_t *migration_target_row(const json_t *src)
{
        json_t *t = json_deep_copy(src);
        json_t *m = json_object_get(src, "migration");
        json_t *pod = json_object_get(m, "target_pod");
        const char *slash = json_is_string(pod) ? strchr(json_string_value(pod), '/') : NULL;
        if (!t)
                return NULL;
        json_object_set(t, "pod", pod);
        json_object_set_new(
            t, "pod_namespace",
            slash ? json_stringn(json_string_value(pod), (size_t)(slash - json_string_value(pod)))
                  : json_null());
        json_object_set_new(t, "pod_name", slash ? json_string(slash + 1) : json_null());
        json_object_set_new(t, "pod_uid", json_null());
        json_object_set(t, "container_id", json_object_get(m, "target_container_id"));
        json_object_set(t, "interface", json_object_get(m, "target_interface"));
        json_object_set(t, "node", json_object_get(m, "to_node"));
        json_t *tm = json_object_get(t, "migration");
        json_object_set_new(tm, "role", json_string("target"));
        return t;
}

json_t *osnctl_port_rows(const struct osn_inventory *inv, const struct osn_cidr *ip,
                         const uint8_t *mac, const char *ns)
{
        json_t *rows = json_array();
        for (size_t i = 0; rows && i < inv->n_ports; i++) {
                const struct osn_inv_port *p = &inv->ports[i];
                if (osn_inv_is_reservation(p) || (ip && !osn_inv_port_holds_ip(p, ip)) ||
                    (mac && !osn_inv_port_holds_mac(p, mac)) ||
                    (ns && !streq(p->pod_namespace, ns) && !streq(p->mig_pod_namespace, ns)))
                        continue;
                json_t *row = osnctl_port_json(p);
                json_array_append_new(rows, row);
                /* Both sides of a live migration, each a row. */
                if (row && json_is_object(json_object_get(row, "migration")))
                        json_array_append_new(rows, migration_target_row(row));
        }
        return rows;
}

static void fmt_external(const json_t *v, const json_t *row, char *buf, size_t len)
{
        const json_t *pn = json_object_get(row, "physical_network");
        const json_t *vlan = json_object_get(row, "vlan");
        if (!json_is_true(v))
                snprintf(buf, len, "-");
        else if (json_is_integer(vlan))
                snprintf(buf, len, "%s vlan %" JSON_INTEGER_FORMAT,
                         json_is_string(pn) ? json_string_value(pn) : "?",
                         json_integer_value(vlan));
        else
                snprintf(buf, len, "%s", json_is_string(pn) ? json_string_value(pn) : "?");
}

/* "4", "6 (2 warm)" when nodes keep some of them plugged, or "4 (index: 1
 * stale key, 1 unindexed)" when the pool index and the spares disagree. */
static void fmt_spares(const json_t *v, const json_t *row, char *buf, size_t len)
{
        size_t stale = json_array_size(json_object_get(row, "stale_pool_keys"));
        json_int_t unindexed = json_integer_value(json_object_get(row, "unindexed_spares"));
        json_int_t warm = json_integer_value(json_object_get(row, "warm_spares"));
        osnctl_format_value(v, buf, len);
        size_t off = strlen(buf);
        if (warm > 0 && off < len) {
                snprintf(buf + off, len - off, " (%" JSON_INTEGER_FORMAT " warm)", warm);
                off = strlen(buf);
        }
        if ((!stale && !unindexed) || off >= len)
                return;
        snprintf(buf + off, len - off,
                 " (index: %zu stale key(s), %" JSON_INTEGER_FORMAT " unindexed)", stale,
                 unindexed);
}

static void fmt_mtu(const json_t *v, const json_t *row, char *buf, size_t len)
{
        if (json_is_integer(v))
                snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        else
                snprintf(buf, len, "default");
}

/* Container ids are 64 hex digits under Kubernetes; 12 identify one, as
 * crictl and docker show them (--json has them whole). */
static void fmt_container(const json_t *v, const json_t *row, char *buf, size_t len)
{
        osnctl_format_value(v, buf, len);
        if (strlen(buf) > 12 && len > 12)
                buf[12] = 0;
}

static void fmt_ready(const json_t *v, const json_t *row, char *buf, size_t len)
{
        const json_t *m = json_object_get(row, "migration");
        if (json_is_object(m) && !json_is_true(json_object_get(row, "orphan"))) {
                bool target = streq(json_string_value(json_object_get(m, "role")), "target");
                char age[32];
                const json_t *a = json_object_get(m, "age_s");
                osnctl_age_text(json_is_integer(a) ? json_integer_value(a) : -1, age, sizeof(age));
                snprintf(buf, len, "%s (migrating %s %s, %s)", json_is_true(v) ? "yes" : "no",
                         target ? "from" : "to",
                         json_string_value(json_object_get(m, target ? "from_node" : "to_node")),
                         age);
                return;
        }
        if (json_is_true(json_object_get(row, "orphan")))
                snprintf(buf, len, "orphan");
        else if (streq(json_string_value(json_object_get(row, "netns_state")), "gone"))
                snprintf(buf, len, "no (netns gone)");
        else if (streq(json_string_value(json_object_get(row, "netns_state")), "unknown"))
                snprintf(buf, len, "%s (netns unknown)", json_is_true(v) ? "yes" : "no");
        else
                osnctl_format_value(v, buf, len);
}

/* --- Network details: effective MTU, exclusions, used/free --- */

/* The MTU pods of 'n' get: the netconf's, else the node's default for its
 * kind (overlay_mtu, or physical_mtu for a network bridged to a physical
 * one), which only a node config can tell. */
static json_t *mtu_json(const struct osn_nodeconf *node, const struct osn_inv_network *n)
{
        if (n->mtu_known && n->mtu)
                return json_pack("{s:I, s:s}", "value", (json_int_t)n->mtu, "source", "netconf");
        if (!node)
                return json_pack("{s:n, s:s}", "value", "source", "node default");
        if (n->external)
                return json_pack("{s:I, s:s}", "value", (json_int_t)node->physical_mtu, "source",
                                 "node physical_mtu");
        return json_pack("{s:I, s:s}", "value", (json_int_t)node->overlay_mtu, "source",
                         "node overlay_mtu");
}

static json_t *exclusions_json(const struct osn_inv_network *n)
{
        struct osn_inv_range ex[OSN_INV_MAX_RANGES];
        size_t k = osn_inv_exclusions(n, ex, ARRAY_SIZE(ex));
        json_t *a = json_array();
        for (size_t i = 0; a && i < k; i++) {
                char x[OSN_CIDR_STRLEN], y[OSN_CIDR_STRLEN], text[2 * OSN_CIDR_STRLEN + 2];
                if (ex[i].has_cidr &&
                    ex[i].cidr.prefixlen < (ex[i].cidr.family == AF_INET ? 32 : 128))
                        osn_cidr_format(&ex[i].cidr, text, sizeof(text));
                else if (osn_addr_equal(&ex[i].first, &ex[i].last))
                        osn_addr_format(&ex[i].first, text, sizeof(text));
                else
                        snprintf(text, sizeof(text), "%s-%s",
                                 osn_addr_format(&ex[i].first, x, sizeof(x)),
                                 osn_addr_format(&ex[i].last, y, sizeof(y)));
                json_array_append_new(a, json_pack("{s:s, s:s}", "range", text, "source",
                                                   ex[i].why ? ex[i].why : "netconf"));
        }
        return a;
}

static json_t *usage_json(const struct osn_inventory *inv, const struct osn_inv_network *n)
{
        struct osn_inv_usage u[OSN_MAX_SUBNETS];
        size_t k = osn_inv_subnet_usage(inv, n, u, ARRAY_SIZE(u));
        json_t *a = json_array();
        for (size_t i = 0; a && i < k; i++) {
                char c[OSN_CIDR_STRLEN];
                json_array_append_new(
                    a, json_pack("{s:s, s:o, s:I, s:o}", "subnet",
                                 osn_cidr_format(&u[i].subnet, c, sizeof(c)), "capacity",
                                 u[i].huge ? json_null() : json_integer((json_int_t)u[i].capacity),
                                 "used", (json_int_t)u[i].used, "free",
                                 u[i].huge ? json_null() : json_integer((json_int_t)u[i].free)));
        }
        return a;
}

json_t *osnctl_network_view(const struct osn_nodeconf *node, const struct osn_inventory *inv,
                            const struct osn_inv_network *n)
{
        json_t *o = osnctl_network_json(n);
        if (o && (json_object_set_new(o, "effective_mtu", mtu_json(node, n)) < 0 ||
                  json_object_set_new(o, "excluded", exclusions_json(n)) < 0 ||
                  json_object_set_new(o, "usage", usage_json(inv, n)) < 0 ||
                  json_object_set_new(o, "spare_ports", osnctl_spare_rows(inv, n->name)) < 0)) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static void fmt_effective_mtu(const json_t *v, const json_t *row, char *buf, size_t len)
{
        const json_t *val = json_object_get(v, "value");
        const char *src = json_string_value(json_object_get(v, "source"));
        if (json_is_integer(val))
                snprintf(buf, len, "%" JSON_INTEGER_FORMAT " (%s)", json_integer_value(val),
                         src ? src : "?");
        else
                snprintf(buf, len, "node default (no node config here to read it from)");
}

static void excluded_item(const json_t *e, char *buf, size_t len)
{
        bool ovn = streq(json_string_value(json_object_get(e, "source")), "OVN exclude_ips");
        snprintf(buf, len, "%s%s", json_string_value(json_object_get(e, "range")),
                 ovn ? " (OVN exclude_ips)" : "");
}

static void fmt_excluded(const json_t *v, const json_t *row, char *buf, size_t len)
{
        osnctl_join(v, ", ", excluded_item, buf, len);
}

/* How full a subnet is: "10.0.0.0/24: 2 used, 251 free of 253" (long) or
 * "2/251" (short). */
static void usage_item(const json_t *e, bool longform, char *buf, size_t len)
{
        const json_t *cap = json_object_get(e, "capacity");
        json_int_t used = json_integer_value(json_object_get(e, "used"));
        char freebuf[32] = ">2^63", capbuf[32] = ">2^63";
        if (json_is_integer(cap)) {
                snprintf(freebuf, sizeof(freebuf), "%" JSON_INTEGER_FORMAT,
                         json_integer_value(json_object_get(e, "free")));
                snprintf(capbuf, sizeof(capbuf), "%" JSON_INTEGER_FORMAT, json_integer_value(cap));
        }
        if (longform)
                snprintf(buf, len, "%s: %" JSON_INTEGER_FORMAT " used, %s free of %s",
                         json_string_value(json_object_get(e, "subnet")), used, freebuf, capbuf);
        else
                snprintf(buf, len, "%" JSON_INTEGER_FORMAT "/%s", used, freebuf);
}

static void usage_long(const json_t *e, char *buf, size_t len)
{
        usage_item(e, true, buf, len);
}

static void usage_short(const json_t *e, char *buf, size_t len)
{
        usage_item(e, false, buf, len);
}

static void fmt_usage_long(const json_t *v, const json_t *row, char *buf, size_t len)
{
        osnctl_join(v, "; ", usage_long, buf, len);
}

static void fmt_usage_short(const json_t *v, const json_t *row, char *buf, size_t len)
{
        osnctl_join(v, ",", usage_short, buf, len);
}

static const struct osnctl_column network_cols[] = {
    {"NETWORK", "name", NULL},
    {"NAMESPACE", "namespace", NULL},
    {"TOPOLOGY", "topology", NULL},
    {"SUBNETS", "subnets", NULL},
    {"EXTERNAL", "external", fmt_external},
    {"MTU", "mtu", fmt_mtu},
    {"ATTACHMENTS", "attachments", NULL},
    {"SPARES", "spares", fmt_spares},
    {"NODES", "nodes", NULL},
    {"RESERVATIONS", "reservations", NULL, OSNCTL_COL_WIDE},
    {"USED/FREE", "usage", fmt_usage_short, OSNCTL_COL_WIDE},
    {"EXCLUDED", "excluded", fmt_excluded, OSNCTL_COL_WIDE},
    {"SWITCH", "switch", NULL, OSNCTL_COL_WIDE},
    {"HOST-SUBNETS", "host_subnets", NULL, OSNCTL_COL_WIDE},
};

static const struct osnctl_column network_fields[] = {
    {"network", "name", NULL},
    {"namespace", "namespace", NULL},
    {"logical switch", "switch", NULL},
    {"topology", "topology", NULL},
    {"subnets", "subnets", NULL},
    {"layer3 network", "layer3_network", NULL},
    {"host subnets", "host_subnets", NULL},
    {"addresses", "usage", fmt_usage_long},
    {"excluded", "excluded", fmt_excluded},
    {"external", "external", fmt_external},
    {"mtu", "effective_mtu", fmt_effective_mtu},
    {"attachments", "attachments", NULL},
    {"reservations", "reservations", NULL},
    {"spares", "spares", fmt_spares},
    {"nodes", "nodes", NULL},
    {"foreign ports", "foreign_ports", NULL},
    {"fingerprint", "fingerprint", NULL},
};

static void fmt_netns(const json_t *v, const json_t *row, char *buf, size_t len)
{
        const char *st = json_string_value(json_object_get(row, "netns_state"));
        if (!json_is_string(v))
                snprintf(buf, len, "-");
        else
                snprintf(buf, len, "%s%s%s%s", json_string_value(v), st ? " (" : "", st ? st : "",
                         st ? ")" : "");
}

static const struct osnctl_column attachment_cols[] = {
    {"NETWORK", "network", NULL},
    {"POD", "pod", NULL},
    {"CONTAINER", "container_id", fmt_container},
    {"INTERFACE", "interface", NULL},
    {"NODE", "node", NULL},
    {"MAC", "mac", NULL},
    {"IPS", "ips", NULL},
    {"READY", "ready", fmt_ready},
    {"PORT", "port", NULL, OSNCTL_COL_WIDE},
    {"NAD", "nad", NULL, OSNCTL_COL_WIDE},
    {"NETNS", "netns", fmt_netns, OSNCTL_COL_WIDE},
    {"IDENTITY", "identity", NULL, OSNCTL_COL_WIDE},
};

/* "yes", "NO", "orphan", or "warm: NODE" (out of the index on purpose:
 * that node keeps it plugged). */
static void fmt_indexed(const json_t *v, const json_t *row, char *buf, size_t len)
{
        const char *warm = json_string_value(json_object_get(row, "warm_node"));
        if (warm && !json_is_true(json_object_get(row, "orphan"))) {
                snprintf(buf, len, "warm: %s", warm);
                return;
        }
        snprintf(buf, len, "%s",
                 json_is_true(json_object_get(row, "orphan")) ? "orphan"
                 : json_is_true(v)                            ? "yes"
                                                              : "NO");
}

static const struct osnctl_column spare_cols[] = {
    {"SPARE", "port", NULL},
    {"MAC", "mac", NULL},
    {"IPS", "ips", NULL},
    {"INDEXED", "indexed", fmt_indexed},
};

/* --- nodes (SB chassis) --- */

static const json_t *row_by_uuid(const json_t *rows, const char *uuid)
{
        size_t i;
        const json_t *row;
        json_array_foreach(rows, i, row)
        {
                if (streq(osn_ovsdb_row_uuid(row), uuid))
                        return row;
        }
        return NULL;
}

static const json_t *row_by_name(const json_t *rows, const char *name)
{
        size_t i;
        const json_t *row;
        json_array_foreach(rows, i, row)
        {
                if (streq(json_string_value(json_object_get(row, "name")), name))
                        return row;
        }
        return NULL;
}

/* The tunnel to a chassis whose encap IPs are 'ips': {"state", "interface",
 * "source"}. */
static json_t *tunnel_json(const json_t *tunnels, bool local, const json_t *ips)
{
        if (local)
                return json_pack("{s:s, s:n, s:n}", "state", "local", "interface", "source");
        if (!tunnels)
                return json_pack("{s:s, s:n, s:s}", "state", "unknown", "interface", "source",
                                 "no local OVS DB");
        size_t i, j;
        const json_t *t, *ip;
        json_array_foreach(tunnels, i, t)
        {
                const char *remote = osn_ovsdb_map_get(json_object_get(t, "options"), "remote_ip");
                json_array_foreach(ips, j, ip)
                {
                        if (!streq(remote, json_string_value(ip)))
                                continue;
                        const char *name = json_string_value(json_object_get(t, "name"));
                        const char *bfd =
                            osn_ovsdb_map_get(json_object_get(t, "bfd_status"), "state");
                        if (bfd)
                                return json_pack("{s:s, s:s, s:s}", "state",
                                                 streq(bfd, "up") ? "up" : "down", "interface",
                                                 name, "source", "bfd_status");
                        const char *link = json_string_value(
                            osn_ovsdb_set_at(json_object_get(t, "link_state"), 0));
                        if (link)
                                return json_pack("{s:s, s:s, s:s}", "state",
                                                 streq(link, "up") ? "up" : "down", "interface",
                                                 name, "source", "link_state");
                        return json_pack("{s:s, s:s, s:s}", "state", "unknown", "interface", name,
                                         "source", "neither bfd_status nor link_state");
                }
        }
        return json_pack("{s:s, s:n, s:s}", "state", "none", "interface", "source",
                         "no tunnel interface to its encap IP in the local OVS DB");
}

json_t *osnctl_node_json(const json_t *ch, const json_t *encap_rows, const json_t *privs,
                         const json_t *tunnels, const char *system_id, json_int_t nb_cfg)
{
        const char *name = json_string_value(json_object_get(ch, "name"));
        json_t *encaps = json_array(), *ips = json_array();
        const json_t *set = json_object_get(ch, "encaps");
        for (size_t k = 0; k < osn_ovsdb_set_size(set); k++) {
                const json_t *e = row_by_uuid(
                    encap_rows, json_string_value(json_array_get(osn_ovsdb_set_at(set, k), 1)));
                if (!e)
                        continue;
                const char *ip = json_string_value(json_object_get(e, "ip"));
                json_array_append_new(
                    encaps, json_pack("{s:s?, s:s?}", "type",
                                      json_string_value(json_object_get(e, "type")), "ip", ip));
                if (ip)
                        json_array_append_new(ips, json_string(ip));
        }
        const json_t *priv = row_by_name(privs, name);
        const json_t *cfg = json_object_get(priv, "nb_cfg");
        const json_t *ts = json_object_get(priv, "nb_cfg_timestamp");
        const char *maps =
            osn_ovsdb_map_get(json_object_get(ch, "other_config"), "ovn-bridge-mappings");
        if (!maps)
                maps =
                    osn_ovsdb_map_get(json_object_get(ch, "external_ids"), "ovn-bridge-mappings");
        json_t *o = json_pack(
            "{s:s?, s:s?, s:s?, s:o, s:o, s:o, s:o, s:o, s:o}", "name", name, "hostname",
            json_string_value(json_object_get(ch, "hostname")), "uuid", osn_ovsdb_row_uuid(ch),
            "encaps", encaps, "tunnel",
            tunnel_json(tunnels, system_id[0] && streq(system_id, name), ips), "nb_cfg",
            json_is_integer(cfg) ? json_integer(json_integer_value(cfg)) : json_null(),
            "nb_cfg_timestamp_ms",
            json_is_integer(ts) && json_integer_value(ts) ? json_integer(json_integer_value(ts))
                                                          : json_null(),
            "nb_cfg_expected", nb_cfg >= 0 ? json_integer(nb_cfg) : json_null(),
            "physical_networks", osnctl_mappings_json(maps));
        json_decref(ips);
        if (o && json_is_integer(cfg) && nb_cfg >= 0)
                json_object_set_new(o, "nb_cfg_current",
                                    json_boolean(json_integer_value(cfg) >= nb_cfg));
        return o;
}

static void encap_item(const json_t *e, char *buf, size_t len)
{
        snprintf(buf, len, "%s %s", json_string_value(json_object_get(e, "type")),
                 json_string_value(json_object_get(e, "ip")));
}

static void fmt_encaps(const json_t *v, const json_t *row, char *buf, size_t len)
{
        osnctl_join(v, ",", encap_item, buf, len);
}

static void fmt_tunnel(const json_t *v, const json_t *row, char *buf, size_t len)
{
        const char *st = json_string_value(json_object_get(v, "state"));
        const char *src = json_string_value(json_object_get(v, "source"));
        if (st && (streq(st, "up") || streq(st, "down")))
                snprintf(buf, len, "%s (%s)", st, src ? src : "?");
        else
                snprintf(buf, len, "%s", st ? st : "?");
}

static void fmt_nb_cfg(const json_t *v, const json_t *row, char *buf, size_t len)
{
        const json_t *want = json_object_get(row, "nb_cfg_expected");
        if (!json_is_integer(v))
                snprintf(buf, len, "unknown (no Chassis_Private)");
        else if (!json_is_integer(want))
                snprintf(buf, len, "%" JSON_INTEGER_FORMAT " (NB unknown)", json_integer_value(v));
        else if (json_integer_value(v) >= json_integer_value(want))
                snprintf(buf, len, "%" JSON_INTEGER_FORMAT " (current)", json_integer_value(v));
        else
                snprintf(buf, len, "%" JSON_INTEGER_FORMAT " (behind %" JSON_INTEGER_FORMAT ")",
                         json_integer_value(v), json_integer_value(want));
}

static void mapping_item(const json_t *m, char *buf, size_t len)
{
        snprintf(buf, len, "%s:%s", json_string_value(json_object_get(m, "name")),
                 json_string_value(json_object_get(m, "bridge")));
}

static void fmt_physnets(const json_t *v, const json_t *row, char *buf, size_t len)
{
        osnctl_join(v, ",", mapping_item, buf, len);
}

static void fmt_age(const json_t *v, const json_t *row, char *buf, size_t len)
{
        if (!json_is_integer(v)) {
                snprintf(buf, len, "-");
                return;
        }
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000 - json_integer_value(v);
        snprintf(buf, len, "%" PRId64 "s ago", ms < 0 ? 0 : ms / 1000);
}

static const struct osnctl_column node_cols[] = {
    {"NODE", "name", NULL},
    {"HOSTNAME", "hostname", NULL},
    {"ENCAP", "encaps", fmt_encaps},
    {"TUNNEL", "tunnel", fmt_tunnel},
    {"NB_CFG", "nb_cfg", fmt_nb_cfg},
    {"PHYSNETS", "physical_networks", fmt_physnets},
    {"NB_CFG_AGE", "nb_cfg_timestamp_ms", fmt_age, OSNCTL_COL_WIDE},
    {"UUID", "uuid", NULL, OSNCTL_COL_WIDE},
};

/* --- status --- */

static json_t *probe_json(enum osn_probe p)
{
        return p == OSN_PROBE_UNKNOWN ? json_null() : json_boolean(p == OSN_PROBE_OK);
}

json_t *osnctl_mappings_json(const char *mappings)
{
        json_t *a = json_array();
        _cleanup_free_ char *copy = strdup(mappings ? mappings : "");
        char *save = NULL;
        if (!copy)
                return a;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                t += strspn(t, " ");
                char *colon = strchr(t, ':');
                if (!colon)
                        continue;
                *colon = 0;
                json_array_append_new(a, json_pack("{s:s, s:s}", "name", t, "bridge", colon + 1));
        }
        return a;
}

json_t *osnctl_status_json(const struct osn_nodeconf *nc, const struct osn_node_status *st)
{
        bool bridge = st->bridge == OSN_PROBE_OK;
        json_t *physdef = json_null();
        bool physdef_ok = true;
        if (nc->default_physical_network) {
                physdef_ok = bridge && osn_ovs_maps_physnet(st->node.bridge_mappings,
                                                            nc->default_physical_network);
                physdef = json_pack("{s:s, s:b}", "name", nc->default_physical_network, "mapped",
                                    physdef_ok);
        }
        bool ok = st->nb == OSN_PROBE_OK && st->ovs == OSN_PROBE_OK && bridge &&
                  st->controller == OSN_PROBE_OK && physdef_ok;
        json_t *o = json_pack(
            "{s:b, s:s, s:s, s:s,"
            " s:{s:o, s:s, s:o}, s:{s:o, s:s, s:o},"
            " s:{s:s, s:o, s:o, s:o},"
            " s:o,"
            " s:{s:o, s:o, s:o, s:o, s:o, s:o},"
            " s:o, s:o}",
            "ok", ok, "version", OSN_VERSION, "node", nc->node_name, "config", nc->path, "nb", "ok",
            probe_json(st->nb), "remote", st->nb_remote, "error",
            str_or_null(st->nb_error[0] ? st->nb_error : NULL), "ovs", "ok", probe_json(st->ovs),
            "remote", st->ovs_remote, "error", str_or_null(st->ovs_error[0] ? st->ovs_error : NULL),
            "integration_bridge", "name", nc->integration_bridge, "present", probe_json(st->bridge),
            "datapath_type",
            str_or_null(bridge && st->node.datapath_type[0] ? st->node.datapath_type : NULL),
            "error", str_or_null(st->bridge_error[0] ? st->bridge_error : NULL), "chassis",
            str_or_null(bridge && st->node.system_id[0] ? st->node.system_id : NULL),
            "ovn_controller", "connected", probe_json(st->controller), "status",
            str_or_null(st->controller_status[0] ? st->controller_status : NULL), "socket",
            str_or_null(st->controller_socket[0] ? st->controller_socket : NULL),
            "nb_cfg_installed",
            st->nb_cfg_installed[0] ? json_integer(strtoll(st->nb_cfg_installed, NULL, 10))
                                    : json_null(),
            "nb_cfg_nb", st->nb_cfg >= 0 ? json_integer(st->nb_cfg) : json_null(), "error",
            str_or_null(st->controller_error[0] ? st->controller_error : NULL), "physical_networks",
            osnctl_mappings_json(bridge ? st->node.bridge_mappings : NULL),
            "default_physical_network", physdef);
        if (o && (json_object_set_new(o, "pool_size", json_integer(nc->pool_size)) < 0 ||
                  json_object_set_new(o, "warm_ports", json_integer(nc->warm_ports)) < 0)) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static void fmt_db(const json_t *v, const json_t *row, char *buf, size_t len)
{
        const json_t *ok = json_object_get(v, "ok"), *e = json_object_get(v, "error");
        const char *remote = json_string_value(json_object_get(v, "remote"));
        if (json_is_true(ok))
                snprintf(buf, len, "ok (%s)", remote);
        else
                snprintf(buf, len, "FAILED: %s", json_is_string(e) ? json_string_value(e) : "?");
}

static void fmt_bridge(const json_t *v, const json_t *row, char *buf, size_t len)
{
        const json_t *p = json_object_get(v, "present"), *e = json_object_get(v, "error");
        const json_t *dp = json_object_get(v, "datapath_type");
        const char *name = json_string_value(json_object_get(v, "name"));
        if (json_is_true(p))
                snprintf(buf, len, "%s, present (datapath %s)", name,
                         json_is_string(dp) ? json_string_value(dp) : "system");
        else if (json_is_false(p))
                snprintf(buf, len, "%s, MISSING: %s", name,
                         json_is_string(e) ? json_string_value(e) : "?");
        else
                snprintf(buf, len, "%s, unknown (the local OVS DB is unreachable)", name);
}

static void fmt_controller(const json_t *v, const json_t *row, char *buf, size_t len)
{
        const json_t *c = json_object_get(v, "connected"), *e = json_object_get(v, "error");
        const json_t *cfg = json_object_get(v, "nb_cfg_installed");
        const char *st = json_string_value(json_object_get(v, "status"));
        const json_t *nbcfg = json_object_get(v, "nb_cfg_nb");
        char flows[128] = "";
        if (json_is_integer(cfg) && json_is_integer(nbcfg))
                snprintf(flows, sizeof(flows),
                         "; flows installed up to nb_cfg %" JSON_INTEGER_FORMAT
                         " (NB is at %" JSON_INTEGER_FORMAT "%s)",
                         json_integer_value(cfg), json_integer_value(nbcfg),
                         json_integer_value(cfg) < json_integer_value(nbcfg) ? ": BEHIND" : "");
        else if (json_is_integer(cfg))
                snprintf(flows, sizeof(flows),
                         "; flows installed up to nb_cfg %" JSON_INTEGER_FORMAT,
                         json_integer_value(cfg));
        if (json_is_true(c))
                snprintf(buf, len, "connected to the SB DB%s", flows);
        else if (json_is_false(c))
                snprintf(buf, len, "NOT CONNECTED: %s%s",
                         st                  ? st
                         : json_is_string(e) ? json_string_value(e)
                                             : "?",
                         flows);
        else
                snprintf(buf, len, "UNKNOWN: %s%s", json_is_string(e) ? json_string_value(e) : "?",
                         flows);
}

static void fmt_mappings(const json_t *v, const json_t *row, char *buf, size_t len)
{
        size_t off = 0, i;
        const json_t *m;
        snprintf(buf, len, "none (external_ids:ovn-bridge-mappings is empty)");
        json_array_foreach(v, i, m)
        {
                int w = snprintf(buf + off, len - off, "%s%s -> %s", i ? ", " : "",
                                 json_string_value(json_object_get(m, "name")),
                                 json_string_value(json_object_get(m, "bridge")));
                if (w < 0 || (size_t)w >= len - off)
                        break;
                off += (size_t)w;
        }
}

static void fmt_physdef(const json_t *v, const json_t *row, char *buf, size_t len)
{
        if (!json_is_object(v))
                snprintf(buf, len, "none configured (has_external_connectivity cannot work)");
        else
                snprintf(buf, len, "%s (%s)", json_string_value(json_object_get(v, "name")),
                         json_is_true(json_object_get(v, "mapped")) ? "mapped" : "NOT MAPPED");
}

static void fmt_node(const json_t *v, const json_t *row, char *buf, size_t len)
{
        snprintf(buf, len, "%s (config %s)", json_string_value(v),
                 json_string_value(json_object_get(row, "config")));
}

static void fmt_pool(const json_t *v, const json_t *row, char *buf, size_t len)
{
        json_int_t n = json_integer_value(v);
        if (n > 0)
                snprintf(buf, len, "%" JSON_INTEGER_FORMAT " spare port(s) per network (pool_size)",
                         n);
        else
                snprintf(buf, len, "off (pool_size 0: every ADD makes its port)");
}

static void fmt_warm(const json_t *v, const json_t *row, char *buf, size_t len)
{
        json_int_t n = json_integer_value(v);
        if (n > 0)
                snprintf(buf, len,
                         "%" JSON_INTEGER_FORMAT " per network with a pod here (warm_ports)", n);
        else
                snprintf(buf, len, "off (warm_ports 0)");
}

static const struct osnctl_column status_fields[] = {
    {"osn version", "version", NULL},
    {"node", "node", fmt_node},
    {"NB DB", "nb", fmt_db},
    {"local OVS DB", "ovs", fmt_db},
    {"integration bridge", "integration_bridge", fmt_bridge},
    {"chassis", "chassis", NULL},
    {"ovn-controller", "ovn_controller", fmt_controller},
    {"physical networks", "physical_networks", fmt_mappings},
    {"default physical network", "default_physical_network", fmt_physdef},
    {"port pool", "pool_size", fmt_pool},
    {"warm ports", "warm_ports", fmt_warm},
};

/* --- reservations --- */

static const struct osnctl_column reservation_cols[] = {
    {"NETWORK", "network", NULL},     {"IDENTITY", "identity", NULL},
    {"ADDRESSES", "addresses", NULL}, {"AGE", "age", NULL},
    {"LAST NODE", "last_node", NULL}, {"PORT", "port", NULL, OSNCTL_COL_WIDE},
};

json_t *osnctl_reservation_json(const json_t *row, long long now)
{
        const json_t *ids = json_object_get(row, "external_ids");
        const char *at = osn_ovsdb_map_get(ids, OSN_EXT_RESERVED_AT);
        long long since = at ? strtoll(at, NULL, 10) : -1;
        char age[32];
        osnctl_age_text(since >= 0 ? now - since : -1, age, sizeof(age));
        return json_pack("{s:s?, s:s?, s:s?, s:s?, s:s, s:I, s:s?, s:s?}", "network",
                         osn_ovsdb_map_get(ids, OSN_EXT_NETWORK), "namespace",
                         osn_ovsdb_map_get(ids, OSN_EXT_POD_NS), "identity",
                         osn_ovsdb_map_get(ids, OSN_EXT_IDENTITY), "addresses",
                         osn_nb_port_addresses(row, NULL), "age", age, "age_seconds",
                         (json_int_t)(since >= 0 ? now - since : -1), "last_node",
                         osn_ovsdb_map_get(ids, OSN_EXT_LAST_NODE), "port",
                         json_string_value(json_object_get(row, "name")));
}

/* --- The column sets, as views.h names them --- */

#define COLUMNS(a)                                                                                 \
        {                                                                                          \
                a, ARRAY_SIZE(a)                                                                   \
        }

const struct osnctl_columns osnctl_network_columns = COLUMNS(network_cols);
const struct osnctl_columns osnctl_network_fields = COLUMNS(network_fields);
const struct osnctl_columns osnctl_attachment_columns = COLUMNS(attachment_cols);
const struct osnctl_columns osnctl_spare_columns = COLUMNS(spare_cols);
const struct osnctl_columns osnctl_node_columns = COLUMNS(node_cols);
const struct osnctl_columns osnctl_status_fields = COLUMNS(status_fields);
const struct osnctl_columns osnctl_reservation_columns = COLUMNS(reservation_cols);
