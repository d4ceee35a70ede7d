/* osnctl: see, validate and clean up osn networks, as an operator would.
 *
 * The commands are a table (name, synopsis, help, options, handler), as in
 * iproute2.  Each handler gathers its facts once, as JSON, and prints that
 * JSON (--json) or renders it as text: one code path per command.  Reads
 * the same node config as the plugin and goes through the same library
 * (inventory.h for views, attach.h to remove, netconf.h to validate).
 */
#include "osnctl.h"

#include <getopt.h>
#include <limits.h>
#include <unistd.h>
#include <stdarg.h>

#include "inventory.h"
#include "layer3.h"
#include "log.h"
#include "metrics.h"
#include "ovn.h"
#include "ovs.h"

#ifndef OSN_VERSION
#define OSN_VERSION "unknown"
#endif

/* --- Shared helpers --- */

void osnctl_err(const char *fmt, ...)
{
        va_list ap;
        fputs("osnctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

int osnctl_load_node(struct osnctl *ctl)
{
        if (ctl->node)
                return 0;
        struct osn_error err = {0};
        int r = osn_nodeconf_load(ctl->config_path, &ctl->node, &err);
        if (r < 0) {
                osnctl_err("%s", err.msg[0] ? err.msg : strerror(-r));
                return OSNCTL_PROBLEMS;
        }
        return 0;
}

int64_t osnctl_deadline(const struct osnctl *ctl)
{
        int ms = ctl->timeout_ms ? ctl->timeout_ms
                 : ctl->node     ? ctl->node->ready_timeout_ms
                                 : 20000;
        return osn_now_ms() + ms;
}

int osnctl_load_node_optional(struct osnctl *ctl)
{
        if (!ctl->nb_remote)
                return osnctl_load_node(ctl);
        if (ctl->node)
                return 0;
        const char *path = ctl->config_path ? ctl->config_path : osn_nodeconf_default_path();
        if (!ctl->config_path && access(path, F_OK) < 0)
                return 0;
        return osnctl_load_node(ctl);
}

/* 'source' says where 'remote' came from, for the message. */
static int connect_db(struct osnctl *ctl, const char *what, const char *source, const char *remote,
                      const struct osn_ssl_opts *ssl, int64_t deadline, struct osn_ovsdb **ret)
{
        struct osn_error err = {0};
        int r = osn_ovsdb_connect(remote, ssl, deadline, ret, &err);
        if (r < 0) {
                osnctl_err("cannot reach the %s (%s): %s", what, source,
                           err.msg[0] ? err.msg : strerror(-r));
                return OSNCTL_PROBLEMS;
        }
        return 0;
}

/* "node config key "K" in PATH" into buf. */
static const char *from_node(const struct osnctl *ctl, const char *key, char *buf, size_t len)
{
        int w = snprintf(buf, len, "node config key \"%s\" in %s", key, ctl->node->path);
        if (w < 0 || (size_t)w >= len)
                snprintf(buf, len, "node config key \"%s\"", key);
        return buf;
}

int osnctl_connect_nb(struct osnctl *ctl, int64_t deadline, struct osn_ovsdb **ret)
{
        char src[PATH_MAX + 64];
        if (ctl->nb_remote) {
                /* TLS material only comes from a node config. */
                if (!ctl->node && strncmp(ctl->nb_remote, "ssl:", 4) == 0) {
                        osnctl_err("--nb %s: an ssl: remote needs the key, certificate and CA of a "
                                   "node config (-c FILE)",
                                   ctl->nb_remote);
                        return OSNCTL_PROBLEMS;
                }
                return connect_db(ctl, "OVN NB DB", "--nb", ctl->nb_remote,
                                  ctl->node ? &ctl->node->ssl : NULL, deadline, ret);
        }
        return connect_db(ctl, "OVN NB DB", from_node(ctl, "nb_remote", src, sizeof(src)),
                          ctl->node->nb_remote, &ctl->node->ssl, deadline, ret);
}

int osnctl_connect_ovs(struct osnctl *ctl, int64_t deadline, struct osn_ovsdb **ret)
{
        char src[PATH_MAX + 64];
        return connect_db(ctl, "local OVS DB", from_node(ctl, "ovs_remote", src, sizeof(src)),
                          ctl->node->ovs_remote, NULL, deadline, ret);
}

#define OVS_DEFAULT_REMOTE "unix:/var/run/openvswitch/db.sock"

int osnctl_connect_ovs_quiet(struct osnctl *ctl, int64_t deadline, struct osn_ovsdb **ret)
{
        const char *remote = ctl->node ? ctl->node->ovs_remote : OVS_DEFAULT_REMOTE;
        return osn_ovsdb_connect(remote, NULL, deadline, ret, NULL);
}

/* The node config's optional "sb_remote" (nodeconf.h does not model it:
 * only osnctl needs the SB DB). */
static char *node_sb_remote(const struct osnctl *ctl)
{
        if (!ctl->node)
                return NULL;
        _cleanup_json_ json_t *root = json_load_file(ctl->node->path, 0, NULL);
        const char *v = json_string_value(json_object_get(root, "sb_remote"));
        return v && *v ? strdup(v) : NULL;
}

/* ovn-controller's external_ids:ovn-remote in the local OVS DB. */
static char *ovs_sb_remote(struct osnctl *ctl, int64_t deadline)
{
        _cleanup_ovsdb_ struct osn_ovsdb *ovs = NULL;
        if (osnctl_connect_ovs_quiet(ctl, deadline, &ovs) < 0)
                return NULL;
        static const char *const cols[] = {"external_ids", NULL};
        json_t *ops = json_pack("[o]", osn_ovsdb_op_select("Open_vSwitch", json_array(), cols));
        _cleanup_json_ json_t *res = NULL;
        if (!ops || osn_ovsdb_transact(ovs, OSN_OVS_DB, ops, deadline, &res, NULL) < 0)
                return NULL;
        const char *v = osn_ovsdb_map_get(
            json_object_get(json_array_get(osn_ovsdb_result_rows(res, 0), 0), "external_ids"),
            "ovn-remote");
        return v && *v ? strdup(v) : NULL;
}

int osnctl_sb_remote(struct osnctl *ctl, int64_t deadline, char **ret, const char **ret_source)
{
        char *remote = NULL;
        if (ctl->sb_remote) {
                remote = strdup(ctl->sb_remote);
                *ret_source = "--sb";
        } else if ((remote = node_sb_remote(ctl))) {
                *ret_source = "node config key \"sb_remote\"";
        } else if ((remote = ovs_sb_remote(ctl, deadline))) {
                *ret_source = "ovn-controller's external_ids:ovn-remote in the local OVS DB";
        } else {
                osnctl_err("where is the OVN SB DB? give --sb REMOTE, or \"sb_remote\" in the node "
                           "config, or run on a node whose local OVS DB (%s) has "
                           "ovn-controller's external_ids:ovn-remote",
                           ctl->node ? ctl->node->ovs_remote : OVS_DEFAULT_REMOTE);
                return OSNCTL_PROBLEMS;
        }
        if (!remote) {
                osnctl_err("out of memory");
                return OSNCTL_PROBLEMS;
        }
        *ret = remote;
        return 0;
}

int osnctl_connect_sb(struct osnctl *ctl, int64_t deadline, struct osn_ovsdb **ret)
{
        _cleanup_free_ char *remote = NULL;
        const char *source;
        int r = osnctl_sb_remote(ctl, deadline, &remote, &source);
        if (r)
                return r;
        return connect_db(ctl, "OVN SB DB", source, remote, ctl->node ? &ctl->node->ssl : NULL,
                          deadline, ret);
}

/* --- Views of the inventory --- */

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
            "s:I}",
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
            (json_int_t)n->n_unindexed, "reservations", (json_int_t)n->n_reservations);
}

json_t *osnctl_spare_json(const struct osn_inv_port *p)
{
        char mac[OSN_MAC_STRLEN];
        return json_pack(
            "{s:s, s:s, s:o, s:o, s:o, s:b, s:b}", "network", p->network, "port", p->name, "uuid",
            json_string(p->uuid), "mac",
            p->has_mac ? json_string(osn_mac_format(p->mac, mac, sizeof(mac))) : json_null(), "ips",
            osn_cidrs_to_json(p->ips, p->n_ips), "indexed", p->indexed, "orphan", p->orphan);
}

/* The spares of network 'name' as osnctl_spare_json() rows. */
static json_t *spare_rows(const struct osn_inventory *inv, const char *name)
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

/* "4", or "4 (index: 1 stale key, 1 unindexed)" when the pool index and
 * the spares disagree. */
static void fmt_spares(const json_t *v, const json_t *row, char *buf, size_t len)
{
        size_t stale = json_array_size(json_object_get(row, "stale_pool_keys"));
        json_int_t unindexed = json_integer_value(json_object_get(row, "unindexed_spares"));
        osnctl_format_value(v, buf, len);
        if (!stale && !unindexed)
                return;
        size_t off = strlen(buf);
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
static json_t *mtu_json(const struct osnctl *ctl, const struct osn_inv_network *n)
{
        if (n->mtu_known && n->mtu)
                return json_pack("{s:I, s:s}", "value", (json_int_t)n->mtu, "source", "netconf");
        if (!ctl->node)
                return json_pack("{s:n, s:s}", "value", "source", "node default");
        if (n->external)
                return json_pack("{s:I, s:s}", "value", (json_int_t)ctl->node->physical_mtu,
                                 "source", "node physical_mtu");
        return json_pack("{s:I, s:s}", "value", (json_int_t)ctl->node->overlay_mtu, "source",
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

/* osnctl_network_json() plus what needs the whole inventory and the node:
 * "effective_mtu", "excluded", "usage", "spare_ports". */
static json_t *network_view(const struct osnctl *ctl, const struct osn_inventory *inv,
                            const struct osn_inv_network *n)
{
        json_t *o = osnctl_network_json(n);
        if (o && (json_object_set_new(o, "effective_mtu", mtu_json(ctl, n)) < 0 ||
                  json_object_set_new(o, "excluded", exclusions_json(n)) < 0 ||
                  json_object_set_new(o, "usage", usage_json(inv, n)) < 0 ||
                  json_object_set_new(o, "spare_ports", spare_rows(inv, n->name)) < 0)) {
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

static void fmt_indexed(const json_t *v, const json_t *row, char *buf, size_t len)
{
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

int osnctl_read_inventory(struct osnctl *ctl, const struct osn_inv_filter *f,
                          struct osn_inventory **ret)
{
        int r = osnctl_load_node_optional(ctl);
        if (r)
                return r;
        int64_t deadline = osnctl_deadline(ctl);
        _cleanup_ovsdb_ struct osn_ovsdb *nb = NULL;
        if ((r = osnctl_connect_nb(ctl, deadline, &nb)))
                return r;
        struct osn_error err = {0};
        r = osn_inventory_read(nb, f, deadline, ret, &err);
        if (r < 0) {
                osnctl_err("reading the NB DB %s: %s", osn_ovsdb_remote(nb),
                           err.msg[0] ? err.msg : strerror(-r));
                return OSNCTL_PROBLEMS;
        }
        return 0;
}

const struct osn_inv_port *osnctl_find_pod(const struct osn_inventory *inv, const char *pod,
                                           const char *network)
{
        const struct osn_inv_port *found = NULL;
        size_t n = 0;
        const char *slash = strchr(pod, '/');
        for (size_t i = 0; i < inv->n_ports; i++) {
                const struct osn_inv_port *p = &inv->ports[i];
                if (streq(p->name, pod))
                        return p;
                if (network && !streq(p->network, network))
                        continue;
                if (slash && p->pod_namespace && p->pod_name &&
                    strlen(p->pod_namespace) == (size_t)(slash - pod) &&
                    strncmp(p->pod_namespace, pod, (size_t)(slash - pod)) == 0 &&
                    streq(p->pod_name, slash + 1)) {
                        if (!found)
                                found = p;
                        n++;
                }
        }
        if (!found)
                osnctl_err("no attachment of pod or port \"%s\"%s%s (osnctl attachments lists "
                           "them)",
                           pod, network ? " on network " : "", network ? network : "");
        else if (n > 1 && !network)
                osnctl_err("pod %s has %zu attachments: name the port (osnctl attachments "
                           "--network NET shows them), or give --network",
                           pod, n);
        return n > 1 && !network ? NULL : found;
}

/* Rows of osnctl_port_json(): every attachment, or those that hold 'ip'
 * or 'mac' (when not NULL). */
static json_t *port_rows(const struct osn_inventory *inv, const struct osn_cidr *ip,
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

/* On a node (with a node config), the attachments plugged here carry their
 * pod's netns path on the OVS interface: one whose netns is gone is not
 * ready, whatever OVN says (a DEL that never came; gc removes it).  Adds
 * "netns" and "netns_state" (alive, gone, unknown; "netns_why" unless
 * alive) to those rows.  "gone" only on evidence (inventory.h): where
 * osnctl cannot see the host's namespaces, or the local OVS DB, this
 * node's attachments are "unknown".  Without a node config nothing is
 * known about any node and nothing is added. */
static void mark_netns(struct osnctl *ctl, json_t *rows)
{
        if (!ctl->node || json_array_size(rows) == 0)
                return;
        int64_t deadline = osnctl_deadline(ctl);
        _cleanup_ovsdb_ struct osn_ovsdb *ovs = NULL;
        _cleanup_json_ json_t *ifaces = NULL;
        bool no_ovs = osnctl_connect_ovs_quiet(ctl, deadline, &ovs) < 0 ||
                      osn_ovs_list_attachments(ovs, NULL, deadline, &ifaces, NULL) < 0;
        static const char *const names[] = {
            [OSN_NETNS_ALIVE] = "alive",
            [OSN_NETNS_GONE] = "gone",
            [OSN_NETNS_UNKNOWN] = "unknown",
        };
        size_t i, j;
        json_t *row, *iface;
        json_array_foreach(rows, i, row)
        {
                const char *port = json_string_value(json_object_get(row, "port"));
                if (no_ovs) {
                        if (!streq(json_string_value(json_object_get(row, "node")),
                                   ctl->node->node_name))
                                continue;
                        json_object_set_new(row, "netns_state", json_string("unknown"));
                        json_object_set_new(
                            row, "netns_why",
                            json_pack("s++", "the local OVS DB (", ctl->node->ovs_remote,
                                      ") cannot be reached from here: run osnctl on the node "
                                      "itself, or in the osn-node pod with OVS's run directory "
                                      "mounted"));
                        continue;
                }
                json_array_foreach(ifaces, j, iface)
                {
                        const json_t *ids = json_object_get(iface, "external_ids");
                        if (!port || !streq(osn_ovsdb_map_get(ids, "iface-id"), port))
                                continue;
                        const char *netns = osn_ovsdb_map_get(ids, OSN_EXT_NETNS);
                        char why[PATH_MAX + 512];
                        enum osn_netns_state st =
                            osn_inv_iface_netns_state(iface, why, sizeof(why));
                        json_object_set_new(row, "netns", str_or_null(netns));
                        json_object_set_new(row, "netns_state", json_string(names[st]));
                        if (st != OSN_NETNS_ALIVE)
                                json_object_set_new(row, "netns_why", json_string(why));
                        if (st == OSN_NETNS_GONE) {
                                json_object_set_new(row, "ready", json_false());
                                json_object_set_new(row, "not_ready_reason", json_string(why));
                        }
                        break;
                }
        }
}

/* --- networks --- */

static int cmd_networks(struct osnctl *ctl, int argc, char **argv)
{
        if (argc > 0) {
                osnctl_err("networks takes no arguments (see osnctl networks --help)");
                return OSNCTL_USAGE;
        }
        _cleanup_inventory_ struct osn_inventory *inv = NULL;
        int r = osnctl_read_inventory(ctl, NULL, &inv);
        if (r)
                return r;
        _cleanup_json_ json_t *rows = json_array();
        for (size_t i = 0; rows && i < inv->n_networks; i++)
                if (!ctl->namespace ||
                    osn_inv_network_in_namespace(inv, &inv->networks[i], ctl->namespace))
                        json_array_append_new(rows, network_view(ctl, inv, &inv->networks[i]));
        return osnctl_render_list(ctl, "networks", rows, network_cols, ARRAY_SIZE(network_cols),
                                  ctl->namespace ? "no osn networks in that namespace"
                                                 : "no osn networks");
}

/* --- attachments --- */

static int cmd_attachments(struct osnctl *ctl, int argc, char **argv)
{
        if (argc > 0) {
                osnctl_err("attachments takes no arguments (see osnctl attachments --help)");
                return OSNCTL_USAGE;
        }
        struct osn_cidr ip;
        uint8_t mac[6];
        bool by_ip = false, by_mac = false;
        if (ctl->ip) {
                by_ip = osn_cidr_parse(ctl->ip, false, &ip) == 0;
                by_mac = !by_ip && osn_mac_parse(ctl->ip, mac) == 0;
                if (!by_ip && !by_mac) {
                        osnctl_err("--ip: \"%s\" is neither an IP address nor a unicast MAC",
                                   ctl->ip);
                        return OSNCTL_USAGE;
                }
        }
        struct osn_inv_filter f = {.network = ctl->network, .node = ctl->node_name};
        _cleanup_inventory_ struct osn_inventory *inv = NULL;
        int r = osnctl_read_inventory(ctl, &f, &inv);
        if (r)
                return r;
        if (ctl->network && inv->n_networks == 0 && inv->n_ports == 0) {
                osnctl_err("no osn network named \"%s\" (osnctl networks lists them)",
                           ctl->network);
                return OSNCTL_PROBLEMS;
        }
        if ((r = osnctl_mark_unresponsive(ctl, inv, osnctl_deadline(ctl))))
                return r;
        _cleanup_json_ json_t *rows =
            port_rows(inv, by_ip ? &ip : NULL, by_mac ? mac : NULL, ctl->namespace);
        mark_netns(ctl, rows);
        /* A spare is no attachment, but it does hold its address: say so
         * rather than "nobody". */
        char empty[512] = "no attachments";
        if (ctl->ip)
                snprintf(empty, sizeof(empty), "no attachment holds that address");
        for (size_t i = 0; ctl->ip && i < inv->n_spares; i++) {
                const struct osn_inv_port *p = &inv->spares[i];
                if (by_ip ? osn_inv_port_holds_ip(p, &ip) : osn_inv_port_holds_mac(p, mac)) {
                        snprintf(empty, sizeof(empty),
                                 "no attachment holds that address; spare %s of network %s "
                                 "(a pool's, unclaimed) does",
                                 p->name, p->network);
                        break;
                }
        }
        r = osnctl_render_list(ctl, "attachments", rows, attachment_cols,
                               ARRAY_SIZE(attachment_cols), empty);
        /* Like grep: asking who holds an address that nobody holds is 1. */
        return r ? r : ctl->ip && json_array_size(rows) == 0 ? OSNCTL_PROBLEMS : 0;
}

/* --- show --- */

static int cmd_show(struct osnctl *ctl, int argc, char **argv)
{
        if (argc != 1) {
                osnctl_err("show takes one NETWORK (see osnctl show --help)");
                return OSNCTL_USAGE;
        }
        struct osn_inv_filter f = {.network = argv[0]};
        _cleanup_inventory_ struct osn_inventory *inv = NULL;
        int r = osnctl_read_inventory(ctl, &f, &inv);
        if (r)
                return r;
        const struct osn_inv_network *n = osn_inventory_network(inv, argv[0]);
        if (!n && inv->n_ports == 0) {
                osnctl_err("no osn network named \"%s\" (osnctl networks lists them)", argv[0]);
                return OSNCTL_PROBLEMS;
        }
        _cleanup_json_ json_t *rows = port_rows(inv, NULL, NULL, NULL);
        _cleanup_json_ json_t *spares = spare_rows(inv, argv[0]);
        mark_netns(ctl, rows);
        _cleanup_json_ json_t *out =
            json_pack("{s:o, s:O, s:O}", "network", n ? network_view(ctl, inv, n) : json_null(),
                      "attachments", rows, "spares", spares);
        if (!out || ctl->json)
                return osnctl_render_object(ctl, out, NULL, 0);
        if (n)
                osnctl_render_object(ctl, json_object_get(out, "network"), network_fields,
                                     ARRAY_SIZE(network_fields));
        else
                printf("network \"%s\" has no logical switch; its ports are orphans\n", argv[0]);
        printf("\n");
        osnctl_table(attachment_cols + 1, ARRAY_SIZE(attachment_cols) - 1, rows, "no attachments");
        if (json_array_size(spares) > 0) {
                printf("\n");
                osnctl_table(spare_cols, ARRAY_SIZE(spare_cols), spares, NULL);
        }
        return 0;
}

/* --- status --- */

static json_t *probe_json(enum osn_probe p)
{
        return p == OSN_PROBE_UNKNOWN ? json_null() : json_boolean(p == OSN_PROBE_OK);
}

/* "physnet:br-ex,tenant:br-t" as [{"name": "physnet", "bridge": "br-ex"}, ...]. */
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

static json_t *status_json(const struct osnctl *ctl, const struct osn_node_status *st)
{
        const struct osn_nodeconf *nc = ctl->node;
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
        return json_pack(
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
};

/* A probe of status_json() as a gauge: 1 ok, 0 failed, absent when
 * unknown (Prometheus has no "unknown"). */
static void probe_gauge(const char *probe, const json_t *v)
{
        if (json_is_boolean(v))
                printf("osn_node_probe_ok{probe=\"%s\"} %d\n", probe, json_is_true(v));
}

/* -o prometheus: the node's view, as node_exporter would serve it: the
 * plugin's textfile (metrics.h) as it is, then the status probes. */
static void print_prometheus(const struct osnctl *ctl, const json_t *out)
{
        const char *path = ctl->node->metrics_file;
        if (osn_metrics_off(path)) {
                printf("# the plugin's metrics are off on this node (node config "
                       "\"metrics_file\")\n");
        } else {
                FILE *f = fopen(path, "re");
                if (!f) {
                        printf("# %s: %s (no CNI call has written it yet?)\n", path,
                               strerror(errno));
                } else {
                        char buf[4096];
                        size_t n;
                        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                                fwrite(buf, 1, n, stdout);
                        fclose(f);
                }
        }
        printf("# HELP osn_node_probe_ok What osnctl status found on this node (1 ok, 0 failed; "
               "absent when it cannot tell).\n"
               "# TYPE osn_node_probe_ok gauge\n");
        probe_gauge("nb", json_object_get(json_object_get(out, "nb"), "ok"));
        probe_gauge("ovs", json_object_get(json_object_get(out, "ovs"), "ok"));
        probe_gauge("integration_bridge",
                    json_object_get(json_object_get(out, "integration_bridge"), "present"));
        probe_gauge("ovn_controller",
                    json_object_get(json_object_get(out, "ovn_controller"), "connected"));
        const json_t *pd = json_object_get(out, "default_physical_network");
        if (json_is_object(pd))
                probe_gauge("default_physical_network", json_object_get(pd, "mapped"));
}

static int cmd_status(struct osnctl *ctl, int argc, char **argv)
{
        if (argc > 0) {
                osnctl_err("status takes no arguments (see osnctl status --help)");
                return OSNCTL_USAGE;
        }
        int r = osnctl_load_node(ctl);
        if (r)
                return r;
        struct osn_node_status st;
        r = osn_inventory_status(ctl->node, ctl->ovn_rundir, osnctl_deadline(ctl), &st);
        if (r < 0) {
                osnctl_err("%s", strerror(-r));
                return OSNCTL_PROBLEMS;
        }
        _cleanup_json_ json_t *out = status_json(ctl, &st);
        if (out && json_object_set_new(out, "pool_size", json_integer(ctl->node->pool_size)) < 0) {
                json_decref(out);
                out = NULL;
        }
        if (!out) {
                osnctl_err("out of memory");
                return OSNCTL_PROBLEMS;
        }
        if (ctl->prometheus)
                print_prometheus(ctl, out);
        else if (ctl->json)
                osnctl_print_json(out);
        else
                osnctl_fields(status_fields, ARRAY_SIZE(status_fields), out);
        return json_is_true(json_object_get(out, "ok")) ? 0 : OSNCTL_PROBLEMS;
}

/* --- Options and dispatch --- */

enum {
        OPT_NETWORK = 256,
        OPT_NODE,
        OPT_ORPHANS,
        OPT_FORCE,
        OPT_UNRESPONSIVE,
        OPT_RELEASE_RESERVATIONS,
        OPT_RESERVATIONS_OLDER,
        OPT_OVN_RUNDIR,
        OPT_VERSION,
        OPT_NO_HEADERS,
        OPT_NB,
        OPT_SB,
        OPT_IP,
        OPT_DETAIL,
        OPT_COMPLETION,
        OPT_STRICT,
        OPT_NAMESPACE,
};

/* Every option any command takes; each command lists the ones it accepts. */
static const struct option all_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"json", no_argument, NULL, 'j'},
    {"timeout", required_argument, NULL, 't'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"network", required_argument, NULL, OPT_NETWORK},
    {"node", required_argument, NULL, OPT_NODE},
    {"dry-run", no_argument, NULL, 'n'},
    {"orphans", no_argument, NULL, OPT_ORPHANS},
    {"force", no_argument, NULL, OPT_FORCE},
    {"unresponsive", required_argument, NULL, OPT_UNRESPONSIVE},
    {"release-reservations", no_argument, NULL, OPT_RELEASE_RESERVATIONS},
    {"reservations-older-than", required_argument, NULL, OPT_RESERVATIONS_OLDER},
    {"ovn-rundir", required_argument, NULL, OPT_OVN_RUNDIR},
    {"version", no_argument, NULL, OPT_VERSION},
    {"output", required_argument, NULL, 'o'},
    {"no-headers", no_argument, NULL, OPT_NO_HEADERS},
    {"nb", required_argument, NULL, OPT_NB},
    {"sb", required_argument, NULL, OPT_SB},
    {"ip", required_argument, NULL, OPT_IP},
    {"detail", no_argument, NULL, OPT_DETAIL},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"namespace", required_argument, NULL, OPT_NAMESPACE},
    {"all-namespaces", no_argument, NULL, 'A'},
    {"completion", required_argument, NULL, OPT_COMPLETION}, /* hidden: build time */
    {0},
};

#define COMMON_OPTIONS "config\0json\0timeout\0verbose\0help\0output\0no-headers\0"
/* Read-only views: --nb lets them run without a node config. */
#define VIEW_OPTIONS COMMON_OPTIONS "nb\0"
/* The views of namespaced things: -n NAMESPACE, -A. */
#define NS_OPTIONS "namespace\0all-namespaces\0"

/* The options that go before or after COMMAND, as --help documents them
 * (the man page and the completion come from the same text). */
static const struct option_doc {
        const char *name; /* the long option */
        const char *flags;
        const char *text; /* lines after the first are indented under it */
} option_docs[] = {
    {"json", "-j, --json", "JSON on stdout instead of text (same facts)"},
    {"output", "-o, --output FORMAT",
     "table (the default), wide (tables with more\ncolumns), json (as --json), or "
     "prometheus\n(status: the node's metrics, docs/metrics.md)"},
    {"no-headers", "    --no-headers",
     "tables without their header line, fields without\ntheir "
     "names (for scripts)"},
    {"nb", "    --nb REMOTE",
     "the OVN NB DB to read (unix:, tcp:, ssl:); the\nread-only views then need no node config"},
    {"sb", "    --sb REMOTE",
     "the OVN SB DB (nodes, trace; default: the node\nconfig's \"sb_remote\", else "
     "ovn-controller's\nexternal_ids:ovn-remote in the local OVS DB)"},
    {"config", "-c, --config FILE", NULL /* with the default path, see print_option() */},
    {"timeout", "-t, --timeout MS",
     "bound on every wait (default: the node config's\nready_timeout_ms, else 20000)"},
    {"namespace", "-n, --namespace NS",
     "only what namespace NS has (networks, attachments,\nreservations; as kubectl)"},
    {"all-namespaces", "-A, --all-namespaces", "every namespace (the default)"},
    {"verbose", "-v, --verbose", "debug logs on stderr"},
    {"help", "-h, --help", "this help"},
};

static void print_option(const struct option_doc *d)
{
        char def[PATH_MAX + 64];
        const char *text = d->text;
        if (!text) {
                snprintf(def, sizeof(def), "the node config (default $OSN_CONFIG, else\n%s)",
                         OSN_NODECONF_DEFAULT_PATH);
                text = def;
        }
        printf("  %-22s", d->flags);
        for (const char *t = text; *t; t++) {
                putchar(*t);
                if (*t == '\n')
                        printf("%24s", "");
        }
        putchar('\n');
}

static const struct command {
        const char *name;
        const char *synopsis;
        const char *summary;
        const char *help;
        const char *options; /* long option names it accepts, NUL-separated, "\0"-terminated */
        bool needs_node;     /* documents that it reads the node config */
        int (*run)(struct osnctl *ctl, int argc, char **argv);
} commands[] = {
    {"networks", "networks", "list every network osn owns",
     "One line per network: a logical switch that carries external_ids:osn/network.\n"

     "  NETWORK      the network (its switch's osn/network: the netconf's \"name\",\n"
     "               or NAMESPACE/NAME for a network of a namespace)\n"
     "  NAMESPACE    whose network it is (the switch's osn/scope): its namespace;\n"
     "               \"cluster(NS,...)\" for an admin's network shared with those\n"
     "               namespaces (\"*\": all); \"none\" for pods the runtime\n"
     "               named no namespace for; \"legacy\" for a network made before\n"
     "               namespaces (-n NS picks those whose pods were in NS)\n"
     "  TOPOLOGY     layer2, localnet or layer3 (osn/topology); a layer3 network is\n"
     "               listed once per node, as NAME@NODE (that node's switch)\n"
     "  SUBNETS      the subnets osn hands addresses from, from the settings osn\n"
     "               stored on the switch\n"
     "               (osn/fingerprint; other_config subnet/ipv6_prefix without it)\n"
     "  EXTERNAL     the physical network and VLAN of its localnet port, or -\n"
     "  MTU          the MTU the NAD asked for, or \"default\" (the node's)\n"
     "  ATTACHMENTS  how many pod interfaces are attached (a VM's reservation is\n"
     "               none: see RESERVATIONS)\n"
     "  SPARES       its port pool: spare logical ports made ahead of ADDs\n"
     "               (external_ids osn/spare=true; not attachments), and\n"
     "               \"(index: K stale key(s), M unindexed)\" when the pool index\n"
     "               on the switch (osn/spare/UUID keys) and the spares disagree\n"
     "               (gc removes stale keys)\n"
     "  NODES        the nodes those attachments are on (osn/node of the ports)\n"
     "With -o wide also:\n"
     "  RESERVATIONS ports kept for VMs' persistent identities that no pod\n"
     "               holds (osnctl reservations lists them)\n"
     "  USED/FREE    per subnet: addresses the attachments and spares hold /\n"
     "               addresses left (see \"show\")\n"
     "  EXCLUDED     ranges never handed out (see \"show\")\n"
     "  SWITCH       the logical switch\n"
     "  HOST-SUBNETS a layer3 network's: the node's host subnets\n",
     VIEW_OPTIONS NS_OPTIONS, true, cmd_networks},
    {"attachments", "attachments [--network NAME] [--node NODE] [--ip ADDR]",
     "list pod interfaces attached to osn networks",
     "One line per attachment: a logical switch port that carries\n"
     "external_ids:osn/network (localnet ports, a pool's spares and VMs'\n"
     "reservations excluded: \"networks\" counts the spares, \"show\" lists them;\n"
     "\"reservations\" lists the reservations).  A live migration in flight\n"
     "shows as two rows of one port: the source's pod, container and node, and\n"
     "the target's.\n"
     "  POD          namespace/name of the pod (from CNI_ARGS), or -\n"
     "  CONTAINER    the container id (first 12 characters; --json has it whole)\n"
     "  INTERFACE    the interface name in the pod (CNI_IFNAME)\n"
     "  NODE         the node that attached it\n"
     "  MAC, IPS     what OVN holds for the port (assigned or static)\n"
     "  READY        the port's \"up\" column: ovn-controller has bound it on its\n"
     "               chassis; \"orphan\" when no osn switch holds the port; \"no\n"
     "               (netns gone)\" when, on this node (with a node config), the\n"
     "               pod's netns (external_ids:osn/netns of its OVS interface)\n"
     "               no longer exists: a DEL that never came (gc removes it);\n"
     "               \"(netns unknown)\" when osnctl cannot tell from where it\n"
     "               runs (it does not see the host's network namespaces, or\n"
     "               the local OVS DB): run it on the node itself; \"(migrating\n"
     "               to NODE, AGE)\" on a live migration's source row, \"(migrating\n"
     "               from NODE, AGE)\" on its target's\n"
     "With -o wide also PORT (the logical port, also the OVS iface-id), NAD,\n"
     "NETNS (on this node: the pod's netns and whether it is alive), and\n"
     "IDENTITY (a VM's persistent identity).  --json adds \"identity\" and\n"
     "\"migration\" (role, from_node, to_node, target_pod, target_container_id,\n"
     "target_interface, since: the Unix time the target's ADD began it).\n"
     "Options:\n"
     "  --network NAME   only this network's attachments (exit 1 if there is none)\n"
     "  --node NODE      only the attachments made on this node\n"
     "  --ip ADDR        who holds ADDR (an IP, or a MAC): matched against each\n"
     "                   port's addresses and, for ports an older osn made with\n"
     "                   OVN's IPAM, dynamic_addresses; exit 1 when no attachment\n"
     "                   does (the message names a spare that holds it)\n",
     VIEW_OPTIONS "network\0node\0ip\0" NS_OPTIONS, true, cmd_attachments},
    {"show", "show NETWORK", "one network with all its attachments",
     "The settings of NETWORK (as \"networks\" shows them, plus the switch name,\n"
     "the ports on its switch that osn did not create and the stored\n"
     "fingerprint), then its attachments as \"attachments\" shows them, then its\n"
     "spares (SPARE, MAC, IPS, and INDEXED: whether the pool index on the switch\n"
     "has its key).  Also:\n"
     "  spares       how many spares its pool holds (see \"networks\")\n"
     "  addresses    per subnet: how many addresses the attachments and spares\n"
     "               hold, and how many are free of its capacity (its size,\n"
     "               minus network and broadcast for IPv4 up to /30, minus the\n"
     "               excluded ranges)\n"
     "  excluded     the ranges never handed out: the netconf's excludeSubnets\n"
     "               (from the fingerprint on the switch) and OVN's\n"
     "               other_config:exclude_ips (networks an older osn made, the\n"
     "               physical gateway)\n"
     "  mtu          the MTU pods get, and where it comes from: the netconf, or\n"
     "               the node config's overlay MTU (underlay - 58) or, for a\n"
     "               network bridged to a physical one, physical MTU; \"node\n"
     "               default\" when there is no node config to read\n"
     "Exits 1 when there is no such network.\n",
     VIEW_OPTIONS, true, cmd_show},
    {"nodes", "nodes", "every chassis: encap IP, tunnels, nb_cfg, physical networks",
     "One line per chassis of the OVN SB DB (Chassis, Chassis_Private, Encap):\n"
     "  NODE         the chassis name (external_ids:system-id of its OVS)\n"
     "  HOSTNAME     its hostname\n"
     "  ENCAP        encapsulation type and IP\n"
     "  TUNNEL       the tunnel from this node to it, from the local OVS DB's\n"
     "               Interface of type geneve (or vxlan, stt) with that remote_ip:\n"
     "               \"up\"/\"down\" from its bfd_status, else from link_state;\n"
     "               \"local\" for this node; \"none\" when there is no such\n"
     "               interface; \"unknown\" without a local OVS DB\n"
     "  NB_CFG       the NB configuration ovn-controller there has caught up\n"
     "               with (Chassis_Private nb_cfg), against NB_Global's nb_cfg:\n"
     "               \"N (current)\" or \"N (behind M)\"\n"
     "  PHYSNETS     the physical networks it maps (other_config, else\n"
     "               external_ids, ovn-bridge-mappings)\n"
     "With -o wide also NB_CFG_AGE (when it last caught up) and the chassis UUID.\n"
     "Needs the SB DB (see --sb) and, for NB_CFG, the NB DB (--nb or the node\n"
     "config; without it NB_CFG shows ovn-controller's number alone).\n",
     VIEW_OPTIONS "sb\0", true, osnctl_nodes},
    {"trace", "trace POD DEST [PROTO] [--network NAME] [--detail]",
     "where does a packet from POD to DEST go (ovn-trace)",
     "Runs ovn-trace on the SB DB for a packet from POD's logical port:\n"
     "  POD     namespace/name (its attachment; --network picks one when it has\n"
     "          several) or a logical port name\n"
     "  DEST    an IP (an IPv4 or IPv6 packet, TTL 64, to the MAC of the port that\n"
     "          holds it) or a MAC (an Ethernet frame).  For an IPv4 address that\n"
     "          no osn port holds, the ARP request for it is traced instead (an\n"
     "          IPv6 one goes to the broadcast MAC)\n"
     "  PROTO   tcp PORT or udp PORT (a segment or datagram to PORT), or icmp (an\n"
     "          echo request); without it, a bare IP packet\n"
     "The microflow is inport == \"PORT\" && eth.src == MAC && eth.dst == ...\n"
     "&& ip4.src == IP && ip4.dst == DEST && ip.ttl == 64 (ip6 for IPv6).  A note\n"
     "follows the verdict when the source or destination port is not up\n"
     "(northd treats ports that are down differently).\n"
     "Prints the verdict in one line: \"delivered to PORT (pod NS/NAME on NODE)\"\n"
     "(the port's whole name: ovn-trace shortens a pool port's UUID; a flood's\n"
     "idle pool spares are counted, not listed: --json lists them)\n"
     "or \"dropped in STAGE\" (the logical flow table that dropped it; \"dropped\n"
     "after STAGE: WHY\" when the pipeline just ends there), then, with\n"
     "--detail, ovn-trace's whole answer.  Exits 0 when delivered, 1 when\n"
     "dropped or ovn-trace failed.  Needs ovn-trace (package ovn-central) on\n"
     "PATH, and the SB DB (see --sb).\n"
     "Options:\n"
     "  --network NAME   the attachment of POD on this network\n"
     "  --detail         also print ovn-trace's detailed trace\n",
     VIEW_OPTIONS "sb\0network\0detail\0", true, osnctl_trace},
    {"status", "status [--ovn-rundir DIR]", "can this node attach pods?",
     "Probes, each bounded by the timeout:\n"
     "  NB DB               connects to nb_remote (the first remote that answers)\n"
     "                      and checks the server holds OVN_Northbound\n"
     "  local OVS DB        the same for ovs_remote and Open_vSwitch\n"
     "  integration bridge  the bridge named by integration_bridge exists\n"
     "  chassis             external_ids:system-id of the Open_vSwitch row\n"
     "  ovn-controller      asks ovn-controller itself, over its control socket\n"
     "                      (DIR/ovn-controller.PID.ctl, PID from\n"
     "                      DIR/ovn-controller.pid), for \"connection-status\":\n"
     "                      whether its session to the SB DB is up.  Also shows\n"
     "                      the bridge's external_ids:ovn-nb-cfg, the last NB\n"
     "                      configuration whose flows it installed.  (OVS Controller\n"
     "                      rows say nothing here: ovn-controller speaks OpenFlow to\n"
     "                      br-int over a unix socket, without one.)\n"
     "  physical networks   external_ids:ovn-bridge-mappings, and whether the node\n"
     "                      config's default_physical_network is mapped\n"
     "  port pool           the node config's pool_size: how many spare ports each\n"
     "                      network keeps for this node's ADDs (0: off; not a probe)\n"
     "With -o prometheus: the plugin's metrics textfile (node config\n"
     "\"metrics_file\"; CNI requests by verb and code, latencies, pool claims and\n"
     "misses) as node_exporter serves it, then one gauge\n"
     "osn_node_probe_ok{probe=...} per probe (1 ok, 0 failed, absent when\n"
     "unknown); see docs/metrics.md.\n"
     "Exits 0 when every probe passed, else 1.\n"
     "Options:\n"
     "  --ovn-rundir DIR    ovn-controller's run directory (default $OVN_RUNDIR,\n"
     "                      else /var/run/ovn)\n",
     COMMON_OPTIONS "ovn-rundir\0", true, cmd_status},
    {"gc",
     "gc [--dry-run] [--orphans] [--node NODE [--force] | --unresponsive SECONDS] "
     "[--release-reservations] [--reservations-older-than SECONDS]",
     "remove what dead pods and lost nodes left",
     "On this node (node config node_name and its local OVS DB):\n"
     "  - every attachment whose pod network namespace is gone (the OVS\n"
     "    interface's external_ids:osn/netns no longer exists, or is no longer a\n"
     "    network namespace): a DEL that never came, e.g. after Multus lost its\n"
     "    cache.  Removed exactly as the plugin's DEL removes it (OVS port, host\n"
     "    veth, logical port; the network's switch with its last attachment);\n"
     "  - every osn network (switch with external_ids:osn/network) that has no\n"
     "    attachment left, guarded by an OVSDB \"wait\" so that an attachment made\n"
     "    meanwhile on any node wins and the switch stays.  A pool's spares\n"
     "    (ports with external_ids osn/spare=true) are not attachments: a network\n"
     "    with only spares left is removed, its spares with it; spares of a\n"
     "    network that stays are kept (they have no OVS port and name no node);\n"
     "  - the stale keys of each pool index (switch external_ids osn/spare/UUID\n"
     "    with no spare port UUID on the switch), guarded so that a spare made\n"
     "    meanwhile keeps its key;\n"
     "  - with --orphans, also this node's logical ports that have no OVS port\n"
     "    here (a crashed ADD).  Not by default: an ADD in progress looks the same.\n"
     "For a node that is gone (--node NODE, or every node found by\n"
     "--unresponsive): every logical port osn holds for it (its addresses with\n"
     "it) and the networks this leaves empty, in the NB only (its OVS cannot be\n"
     "reached).  Whether a node still follows is OVN's own probe: NB_Global.nb_cfg\n"
     "is bumped and each chassis' Chassis_Private.nb_cfg (in the SB DB this node's\n"
     "ovn-controller uses, external_ids:ovn-remote) must follow within the bound.\n"
     "--node refuses a node that follows (10 s bound) unless --force; a probe that\n"
     "cannot conclude (ovn-northd not passing nb_cfg on) removes nothing.\n"
     "Persistent reservations (ports with external_ids osn/reservation=true) are\n"
     "kept unless --release-reservations.\n"
     "Objects without osn's external_ids are never touched; a switch that holds\n"
     "a port osn did not create is kept.  Prints what it removed; exits 1 when\n"
     "a removal failed or a node was refused.  Run it on a node, where the plugin\n"
     "runs (in its network namespace): the host ends of the veths are there.\n"
     "Options:\n"
     "  -n, --dry-run              print what would be removed, remove nothing\n"
     "  --orphans                  see above\n"
     "  --node NODE                NODE is gone: remove its attachments (NB only)\n"
     "  --force                    with --node: even if NODE still follows\n"
     "  --unresponsive SECONDS     treat every node whose ovn-controller does not\n"
     "                             follow within SECONDS (1..600) as gone\n"
     "  --release-reservations     remove persistent reservations too\n"
     "  --reservations-older-than SECONDS\n"
     "                             also release, cluster-wide, every VM identity's\n"
     "                             reservation older than SECONDS (see osnctl\n"
     "                             reservations); by default they are kept until\n"
     "                             released\n",
     COMMON_OPTIONS "dry-run\0orphans\0node\0force\0unresponsive\0release-reservations\0"
                    "reservations-older-than\0",
     true, osnctl_gc},
    {"reservations", "reservations [NETWORK]", "list the addresses kept for VMs' identities",
     "One line per reservation: the logical port of a persistent identity\n"
     "(allowPersistentIPs with args.cni[\"ipam-claim-reference\"] or a requested MAC)\n"
     "whose last attachment was deleted.  Its MAC and addresses wait for the next\n"
     "ADD of that identity, on any node; nobody else gets them.  Kept until\n"
     "released: osn never drops one by itself.\n"
     "  NETWORK      the network\n"
     "  IDENTITY     the claim reference or the MAC\n"
     "  ADDRESSES    MAC and IPs it keeps\n"
     "  AGE          since the DEL that made it a reservation\n"
     "  LAST NODE    where it was attached last\n"
     "  PORT         its logical port (-o wide)\n",
     VIEW_OPTIONS NS_OPTIONS, true, osnctl_reservations},
    {"release", "release [--dry-run] NETWORK IDENTITY", "free a VM identity's reservation",
     "Removes the reservation of IDENTITY on NETWORK (see osnctl reservations):\n"
     "its logical port, so its MAC and addresses go back to the network, and the\n"
     "network's switch when that was its last port.  Refused while the identity\n"
     "is attached somewhere.\n",
     COMMON_OPTIONS "nb\0dry-run\0", true, osnctl_release},
    {"validate", "validate [--strict] FILE|DIR|- ...", "check NAD manifests and CNI configs",
     "Reads NetworkAttachmentDefinition manifests (YAML or JSON, several \"---\"\n"
     "documents per file, \"kind: List\" with items), bare CNI configs (JSON with\n"
     "\"type\") and conflists (JSON with \"plugins\"; the plugins whose type is\n"
     "ovn-kubernetes or ovn-k8s-cni-overlay are validated, the others reported as\n"
     "not osn and skipped).  A directory means its *.yaml, *.yml, *.json, *.conf\n"
     "and *.conflist files; - reads stdin.  Each network is parsed exactly as the\n"
     "plugin parses it, and reported as\n"
     "  FILE:LINE:COLUMN: ok: WHAT: network \"NAME\" (DIALECT dialect)\n"
     "      followed by its normalized settings\n"
     "  FILE:LINE:COLUMN: error: WHAT: KEY: MESSAGE\n"
     "  FILE:LINE:COLUMN: skipped: WHAT: REASON\n"
     "  FILE:LINE:COLUMN: warning: WHAT: MESSAGE\n"
     "A warning (an unknown key close to a known one, a duplicate key, a kind\n"
     "typo, a netAttachDefName that is not the NAD's) is printed before the\n"
     "network it is about.  An error inside spec.config points at its line and\n"
     "column in the manifest (not in the embedded string).  Needs no node config;\n"
     "with -c NODE_CONFIG also checks MTUs and the default physical network\n"
     "against that node.\n"
     "Exits 0 when every network is valid, 1 when any is not (or a file cannot be\n"
     "read or parsed), 3 with --strict when none is invalid but there are\n"
     "warnings.\n"
     "Options:\n"
     "  --strict   warnings fail too (exit 3)\n",
     COMMON_OPTIONS "strict\0", false, osnctl_validate},
};

static bool accepts(const struct command *cmd, const char *opt)
{
        for (const char *o = cmd->options; *o; o += strlen(o) + 1)
                if (streq(o, opt))
                        return true;
        return false;
}

static void command_help(const struct command *cmd, const char *prog)
{
        printf("Usage: %s [OPTIONS] %s\n\n%s %s: %s.\n\n%s\n", prog, cmd->synopsis, prog, cmd->name,
               cmd->summary, cmd->help);
        printf("Common options:\n");
        for (size_t i = 0; i < ARRAY_SIZE(option_docs); i++)
                if (accepts(cmd, option_docs[i].name) &&
                    (cmd->needs_node || !streq(option_docs[i].name, "config")))
                        print_option(&option_docs[i]);
}

static void help(const char *prog)
{
        printf("Usage: %s [OPTIONS] COMMAND [COMMAND OPTIONS] [ARGS]\n\n"
               "See, validate, trace and clean up osn networks (OVN secondary networks for\n"
               "Kubernetes).  Reads the plugin's node config for where the OVN NB DB and\n"
               "the local OVS DB are; with --nb the read-only views (networks,\n"
               "attachments, show, nodes, trace) run anywhere without one.\n\nCommands:\n",
               prog);
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
                if (strlen(commands[i].synopsis) > 44)
                        printf("  %s\n  %-44s %s\n", commands[i].synopsis, "", commands[i].summary);
                else
                        printf("  %-44s %s\n", commands[i].synopsis, commands[i].summary);
        }
        printf("\n\"%s COMMAND --help\" (or \"%s help COMMAND\") tells more.\n\n"
               "Options (before or after COMMAND):\n",
               prog, prog);
        for (size_t i = 0; i < ARRAY_SIZE(option_docs); i++)
                if (!streq(option_docs[i].name, "namespace") &&
                    !streq(option_docs[i].name, "all-namespaces"))
                        print_option(&option_docs[i]);
        printf("      --version         osn's version\n\n"
               "networks, attachments and reservations also take -n NAMESPACE (only\n"
               "what that namespace has) and -A (all namespaces, the default).\n\n"
               "Environment: OSN_CONFIG (node config path), OVN_RUNDIR (status).\n"
               "Exit status: 0 ok, 1 problems found (an invalid network, a probe that\n"
               "failed, a database that cannot be reached, a packet dropped), 2 usage\n"
               "error, 3 warnings only (validate --strict).\n");
}

/* The bash completion, from the same tables as --help: the commands, the
 * options each accepts, and network and pod names from osnctl itself. */
static int print_completion(const char *shell)
{
        if (!streq(shell, "bash")) {
                osnctl_err("--completion: only \"bash\" is supported");
                return OSNCTL_USAGE;
        }
        printf("# bash completion for osnctl, generated by \"osnctl --completion bash\".\n"
               "_osnctl() {\n"
               "    local cur prev words cword cmd i\n"
               "    _init_completion 2>/dev/null || {\n"
               "        cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}\n"
               "        words=(\"${COMP_WORDS[@]}\"); cword=$COMP_CWORD; }\n"
               "    for ((i = 1; i < cword; i++)); do\n"
               "        case ${words[i]} in -*) ;; *) cmd=${words[i]}; break ;; esac\n"
               "    done\n"
               "    case $prev in\n"
               "    --network) COMPREPLY=($(compgen -W \"$(osnctl networks --no-headers "
               "2>/dev/null | awk '{print $1}')\" -- \"$cur\")); return ;;\n"
               "    -o|--output) COMPREPLY=($(compgen -W \"table wide json prometheus\" -- "
               "\"$cur\")); "
               "return ;;\n"
               "    -c|--config) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n");
        printf("    ");
        bool first = true;
        for (const struct option *o = all_options; o->name; o++)
                if (o->has_arg == required_argument && !streq(o->name, "network") &&
                    !streq(o->name, "output") && !streq(o->name, "config") &&
                    !streq(o->name, "completion")) {
                        printf("%s--%s", first ? "" : "|", o->name);
                        first = false;
                }
        printf(") return ;;\n    esac\n    case $cmd in\n");
        printf("    \"\") COMPREPLY=($(compgen -W \"");
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                printf("%s ", commands[i].name);
        printf("help --help --version");
        for (size_t i = 0; i < ARRAY_SIZE(option_docs); i++)
                if (!streq(option_docs[i].name, "help"))
                        printf(" --%s", option_docs[i].name);
        printf("\" -- \"$cur\")) ;;\n");
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
                const struct command *c = &commands[i];
                printf("    %s) if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"", c->name);
                for (const char *o = c->options; *o; o += strlen(o) + 1)
                        printf("--%s%s", o, o[strlen(o) + 1] ? " " : "");
                printf("\" -- \"$cur\"))");
                if (streq(c->name, "show"))
                        printf("; else COMPREPLY=($(compgen -W \"$(osnctl networks --no-headers "
                               "2>/dev/null | awk '{print $1}')\" -- \"$cur\"))");
                else if (streq(c->name, "trace"))
                        printf("; else COMPREPLY=($(compgen -W \"$(osnctl attachments "
                               "--no-headers 2>/dev/null | awk '$2 != \"-\" {print $2}')\" -- "
                               "\"$cur\"))");
                else if (streq(c->name, "validate"))
                        printf("; else COMPREPLY=($(compgen -f -- \"$cur\"))");
                printf("; fi ;;\n");
        }
        printf("    help) COMPREPLY=($(compgen -W \"");
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                printf("%s%s", i ? " " : "", commands[i].name);
        printf("\" -- \"$cur\")) ;;\n    esac\n}\ncomplete -F _osnctl osnctl\n");
        return 0;
}

static const struct command *find_command(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (streq(commands[i].name, name))
                        return &commands[i];
        return NULL;
}

static int parse_timeout(const char *s, int *ret)
{
        char *end = NULL;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || !end || *end || v < 1 || v > 3600 * 1000)
                return -EINVAL;
        *ret = (int)v;
        return 0;
}

/* Parses options from argv[0..argc) (argv[0] is the program or command
 * name).  'cmd' NULL: the global options before COMMAND.  Returns -1 to go
 * on, else an exit code. */
static int parse_options(struct osnctl *ctl, const struct command *cmd, int argc, char **argv,
                         int *ret_optind, bool *ret_help)
{
        optind = 0; /* GNU getopt: reinitialise */
        opterr = 0;
        bool all_namespaces = false;
        for (;;) {
                int idx = -1;
                /* -n is --namespace where a command takes it (as in
                 * kubectl), else --dry-run. */
                bool ns_cmd = cmd && accepts(cmd, "namespace");
                int c = getopt_long(argc, argv,
                                    !cmd     ? "+:c:jt:vho:"
                                    : ns_cmd ? ":c:jt:vhn:o:A"
                                             : ":c:jt:vhno:A",
                                    all_options, &idx);
                if (c == -1)
                        break;
                if (c == 'n' && ns_cmd && idx < 0) /* -n, not --dry-run */
                        c = OPT_NAMESPACE;
                const char *name = NULL;
                for (const struct option *o = all_options; o->name; o++)
                        if (o->val == c)
                                name = o->name;
                if (c == '?' || c == ':') {
                        const char *bad = argv[optind - 1];
                        osnctl_err("%s %s%s", c == ':' ? "missing argument for" : "unknown option",
                                   bad, cmd ? "" : " (options of a command go after it)");
                        return OSNCTL_USAGE;
                }
                if (cmd && name && !accepts(cmd, name)) {
                        osnctl_err("%s does not take --%s (see osnctl %s --help)", cmd->name, name,
                                   cmd->name);
                        return OSNCTL_USAGE;
                }
                static const int global[] = {'c',    'j',    't',           'v',
                                             'h',    'o',    OPT_VERSION,   OPT_NO_HEADERS,
                                             OPT_NB, OPT_SB, OPT_COMPLETION};
                bool is_global = false;
                for (size_t g = 0; g < ARRAY_SIZE(global); g++)
                        is_global |= global[g] == c;
                if (!cmd && !is_global) {
                        osnctl_err("--%s goes after the command that takes it", name);
                        return OSNCTL_USAGE;
                }
                switch (c) {
                case 'c':
                        ctl->config_path = optarg;
                        break;
                case 'j':
                        ctl->json = true;
                        break;
                case 't':
                        if (parse_timeout(optarg, &ctl->timeout_ms) < 0) {
                                osnctl_err("--timeout: \"%s\" is not a number of milliseconds "
                                           "(1..3600000)",
                                           optarg);
                                return OSNCTL_USAGE;
                        }
                        break;
                case 'v':
                        ctl->verbose = true;
                        break;
                case 'h':
                        *ret_help = true;
                        break;
                case OPT_NETWORK:
                        ctl->network = optarg;
                        break;
                case OPT_NODE:
                        ctl->node_name = optarg;
                        break;
                case 'n':
                        ctl->dry_run = true;
                        break;
                case OPT_ORPHANS:
                        ctl->orphans = true;
                        break;
                case OPT_FORCE:
                        ctl->force = true;
                        break;
                case OPT_RELEASE_RESERVATIONS:
                        ctl->release_reservations = true;
                        break;
                case OPT_RESERVATIONS_OLDER: {
                        char *end = NULL;
                        long long v = strtoll(optarg, &end, 10);
                        if (!end || *end || end == optarg || v < 1) {
                                osnctl_err("--reservations-older-than: \"%s\" is not a number "
                                           "of seconds (>= 1)",
                                           optarg);
                                return OSNCTL_USAGE;
                        }
                        ctl->reservations_older_s = v;
                        break;
                }
                case OPT_UNRESPONSIVE: {
                        int ms = 0;
                        if (parse_timeout(optarg, &ms) < 0 || ms > 600) {
                                osnctl_err("--unresponsive: \"%s\" is not a number of seconds "
                                           "(1..600)",
                                           optarg);
                                return OSNCTL_USAGE;
                        }
                        ctl->unresponsive_s = ms;
                        break;
                }
                case OPT_OVN_RUNDIR:
                        ctl->ovn_rundir = optarg;
                        break;
                case OPT_VERSION:
                        printf("osnctl (osn) %s\n", OSN_VERSION);
                        return 0;
                case 'o':
                        if (streq(optarg, "wide")) {
                                ctl->wide = true;
                        } else if (streq(optarg, "json")) {
                                ctl->json = true;
                        } else if (streq(optarg, "prometheus")) {
                                ctl->prometheus = true;
                        } else if (!streq(optarg, "table")) {
                                osnctl_err("-o: \"%s\" is not table, wide, json or prometheus",
                                           optarg);
                                return OSNCTL_USAGE;
                        }
                        break;
                case OPT_NO_HEADERS:
                        ctl->no_headers = true;
                        break;
                case OPT_NB:
                        ctl->nb_remote = optarg;
                        break;
                case OPT_SB:
                        ctl->sb_remote = optarg;
                        break;
                case OPT_IP:
                        ctl->ip = optarg;
                        break;
                case OPT_DETAIL:
                        ctl->detail = true;
                        break;
                case OPT_STRICT:
                        ctl->strict = true;
                        break;
                case OPT_NAMESPACE:
                        if (all_namespaces || !*optarg) {
                                osnctl_err("-n NAMESPACE and -A (all namespaces) do not go "
                                           "together");
                                return OSNCTL_USAGE;
                        }
                        ctl->namespace = optarg;
                        break;
                case 'A':
                        if (ctl->namespace) {
                                osnctl_err("-n NAMESPACE and -A (all namespaces) do not go "
                                           "together");
                                return OSNCTL_USAGE;
                        }
                        all_namespaces = true;
                        break;
                case OPT_COMPLETION:
                        return print_completion(optarg);
                }
        }
        *ret_optind = optind;
        return -1;
}

int main(int argc, char **argv)
{
        struct osnctl ctl = {.prog = "osnctl"};
        bool want_help = false;
        int first = 0;
        int r = parse_options(&ctl, NULL, argc, argv, &first, &want_help);
        if (r >= 0)
                return r;
        if (first >= argc) {
                if (want_help) {
                        help(ctl.prog);
                        return 0;
                }
                osnctl_err("missing COMMAND (osnctl --help lists them)");
                return OSNCTL_USAGE;
        }
        const char *name = argv[first];
        if (streq(name, "help")) {
                const struct command *c = first + 1 < argc ? find_command(argv[first + 1]) : NULL;
                if (first + 1 < argc && !c) {
                        osnctl_err("unknown command \"%s\" (osnctl --help lists them)",
                                   argv[first + 1]);
                        return OSNCTL_USAGE;
                }
                if (c)
                        command_help(c, ctl.prog);
                else
                        help(ctl.prog);
                return 0;
        }
        const struct command *cmd = find_command(name);
        if (!cmd) {
                osnctl_err("unknown command \"%s\" (osnctl --help lists them)", name);
                return OSNCTL_USAGE;
        }
        int cargc = argc - first, rest = 0;
        char **cargv = argv + first;
        r = parse_options(&ctl, cmd, cargc, cargv, &rest, &want_help);
        if (r >= 0)
                return r;
        if (want_help) {
                command_help(cmd, ctl.prog);
                return 0;
        }
        /* Global options given before COMMAND must suit it too. */
        if ((ctl.nb_remote && !accepts(cmd, "nb")) || (ctl.sb_remote && !accepts(cmd, "sb"))) {
                osnctl_err("%s does not take --%s (see osnctl %s --help)", cmd->name,
                           ctl.nb_remote && !accepts(cmd, "nb") ? "nb" : "sb", cmd->name);
                return OSNCTL_USAGE;
        }
        if (ctl.prometheus && cmd->run != cmd_status) {
                osnctl_err("-o prometheus is for status only");
                return OSNCTL_USAGE;
        }
        osnctl_output_configure(&ctl);
        osn_log_open(NULL, ctl.verbose ? OSN_LOG_DEBUG : OSN_LOG_WARN);
        r = cmd->run(&ctl, cargc - rest, cargv + rest);
        osn_nodeconf_free(ctl.node);
        osn_log_close();
        return r;
}
