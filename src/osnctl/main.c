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
#include <stdarg.h>

#include "inventory.h"
#include "log.h"
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

static int connect_db(struct osnctl *ctl, const char *what, const char *key, const char *remote,
                      const struct osn_ssl_opts *ssl, int64_t deadline, struct osn_ovsdb **ret)
{
        struct osn_error err = {0};
        int r = osn_ovsdb_connect(remote, ssl, deadline, ret, &err);
        if (r < 0) {
                osnctl_err("cannot reach the %s (node config key \"%s\" in %s): %s", what, key,
                           ctl->node->path, err.msg[0] ? err.msg : strerror(-r));
                return OSNCTL_PROBLEMS;
        }
        return 0;
}

int osnctl_connect_nb(struct osnctl *ctl, int64_t deadline, struct osn_ovsdb **ret)
{
        return connect_db(ctl, "OVN NB DB", "nb_remote", ctl->node->nb_remote, &ctl->node->ssl,
                          deadline, ret);
}

int osnctl_connect_ovs(struct osnctl *ctl, int64_t deadline, struct osn_ovsdb **ret)
{
        return connect_db(ctl, "local OVS DB", "ovs_remote", ctl->node->ovs_remote, NULL, deadline,
                          ret);
}

int osnctl_print_json(const json_t *j)
{
        int r = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        return r < 0 ? -EIO : 0;
}

/* --- Text rendering --- */

void osnctl_format_value(const json_t *v, char *buf, size_t len)
{
        buf[0] = 0;
        if (!v || json_is_null(v)) {
                snprintf(buf, len, "-");
        } else if (json_is_string(v)) {
                snprintf(buf, len, "%s", json_string_value(v));
        } else if (json_is_boolean(v)) {
                snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
        } else if (json_is_integer(v)) {
                snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        } else if (json_is_array(v)) {
                if (json_array_size(v) == 0) {
                        snprintf(buf, len, "-");
                        return;
                }
                size_t off = 0, i;
                const json_t *e;
                json_array_foreach(v, i, e)
                {
                        char item[256];
                        osnctl_format_value(e, item, sizeof(item));
                        int w = snprintf(buf + off, len - off, "%s%s", i ? "," : "", item);
                        if (w < 0 || (size_t)w >= len - off)
                                break;
                        off += (size_t)w;
                }
        } else {
                char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                snprintf(buf, len, "%s", s ? s : "?");
                free(s);
        }
}

static void cell(const struct osnctl_column *c, const json_t *row, char *buf, size_t len)
{
        const json_t *v = c->key ? json_object_get(row, c->key) : NULL;
        if (c->format)
                c->format(v, row, buf, len);
        else
                osnctl_format_value(v, buf, len);
}

/* Display width: characters, not bytes. */
static size_t width(const char *s)
{
        size_t n = 0;
        for (; *s; s++)
                n += ((unsigned char)*s & 0xc0) != 0x80;
        return n;
}

#define CELL_MAX 1024

void osnctl_table(const struct osnctl_column *cols, size_t n_cols, const json_t *rows,
                  const char *empty)
{
        size_t n_rows = json_array_size(rows);
        if (n_rows == 0) {
                if (empty)
                        printf("%s\n", empty);
                return;
        }
        size_t w[16] = {0};
        if (n_cols > ARRAY_SIZE(w))
                n_cols = ARRAY_SIZE(w);
        char(*cells)[CELL_MAX] = calloc(n_rows * n_cols, CELL_MAX);
        if (!cells) {
                osnctl_err("out of memory");
                return;
        }
        for (size_t c = 0; c < n_cols; c++)
                w[c] = width(cols[c].header);
        for (size_t r = 0; r < n_rows; r++)
                for (size_t c = 0; c < n_cols; c++) {
                        char *b = cells[r * n_cols + c];
                        cell(&cols[c], json_array_get(rows, r), b, CELL_MAX);
                        if (width(b) > w[c])
                                w[c] = width(b);
                }
        for (size_t r = 0; r <= n_rows; r++) {
                for (size_t c = 0; c < n_cols; c++) {
                        const char *s = r == 0 ? cols[c].header : cells[(r - 1) * n_cols + c];
                        if (c + 1 == n_cols)
                                printf("%s\n", s);
                        else
                                printf("%s%*s", s, (int)(w[c] - width(s) + 2), "");
                }
        }
        free(cells);
}

void osnctl_fields(const struct osnctl_column *cols, size_t n_cols, const json_t *obj)
{
        size_t w = 0;
        for (size_t c = 0; c < n_cols; c++)
                if (width(cols[c].header) > w)
                        w = width(cols[c].header);
        for (size_t c = 0; c < n_cols; c++) {
                char b[CELL_MAX];
                cell(&cols[c], obj, b, sizeof(b));
                printf("%s:%*s%s\n", cols[c].header, (int)(w - width(cols[c].header) + 2), "", b);
        }
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

json_t *osnctl_network_json(const struct osn_inv_network *n)
{
        return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:I, s:o, s:I, s:o}",
                         "name", n->name, "switch", str_or_null(n->switch_name), "topology",
                         str_or_null(n->topology), "subnets",
                         osn_cidrs_to_json(n->subnets, n->n_subnets), "exclude_subnets",
                         osn_cidrs_to_json(n->excludes, n->n_excludes), "mtu",
                         n->mtu_known && n->mtu ? json_integer(n->mtu) : json_null(), "external",
                         n->external, "physical_network", str_or_null(n->physical_network), "vlan",
                         n->vlan ? json_integer(n->vlan) : json_null(), "localnet_port",
                         str_or_null(n->localnet_port), "attachments", (json_int_t)n->n_attachments,
                         "nodes", string_array(n->nodes, n->n_nodes), "foreign_ports",
                         (json_int_t)n->n_foreign, "fingerprint", str_or_null(n->fingerprint));
}

json_t *osnctl_port_json(const struct osn_inv_port *p)
{
        char mac[OSN_MAC_STRLEN], pod[520];
        json_t *podj = json_null();
        if (p->pod_namespace && p->pod_name) {
                snprintf(pod, sizeof(pod), "%s/%s", p->pod_namespace, p->pod_name);
                podj = json_string(pod);
        }
        return json_pack(
            "{s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b, s:s, s:o, s:o, "
            "s:b}",
            "network", p->network, "pod", podj, "pod_namespace", str_or_null(p->pod_namespace),
            "pod_name", str_or_null(p->pod_name), "pod_uid", str_or_null(p->pod_uid),
            "container_id", str_or_null(p->container_id), "interface", str_or_null(p->ifname),
            "node", str_or_null(p->node), "mac",
            p->has_mac ? json_string(osn_mac_format(p->mac, mac, sizeof(mac))) : json_null(), "ips",
            osn_cidrs_to_json(p->ips, p->n_ips), "ready", p->up, "port", p->name, "nad",
            str_or_null(p->nad), "addresses", str_or_null(p->addresses), "orphan", p->orphan);
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
        if (json_is_true(json_object_get(row, "orphan")))
                snprintf(buf, len, "orphan");
        else
                osnctl_format_value(v, buf, len);
}

static const struct osnctl_column network_cols[] = {
    {"NETWORK", "name", NULL},    {"TOPOLOGY", "topology", NULL},
    {"SUBNETS", "subnets", NULL}, {"EXTERNAL", "external", fmt_external},
    {"MTU", "mtu", fmt_mtu},      {"ATTACHMENTS", "attachments", NULL},
    {"NODES", "nodes", NULL},
};

static const struct osnctl_column network_fields[] = {
    {"network", "name", NULL},
    {"logical switch", "switch", NULL},
    {"topology", "topology", NULL},
    {"subnets", "subnets", NULL},
    {"excluded", "exclude_subnets", NULL},
    {"external", "external", fmt_external},
    {"mtu", "mtu", fmt_mtu},
    {"attachments", "attachments", NULL},
    {"nodes", "nodes", NULL},
    {"foreign ports", "foreign_ports", NULL},
    {"fingerprint", "fingerprint", NULL},
};

static const struct osnctl_column attachment_cols[] = {
    {"NETWORK", "network", NULL},
    {"POD", "pod", NULL},
    {"CONTAINER", "container_id", fmt_container},
    {"INTERFACE", "interface", NULL},
    {"NODE", "node", NULL},
    {"MAC", "mac", NULL},
    {"IPS", "ips", NULL},
    {"READY", "ready", fmt_ready},
};

/* Reads the inventory; on failure prints why and returns OSNCTL_PROBLEMS. */
static int read_inventory(struct osnctl *ctl, const struct osn_inv_filter *f,
                          struct osn_inventory **ret)
{
        int r = osnctl_load_node(ctl);
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

/* --- networks --- */

static int cmd_networks(struct osnctl *ctl, int argc, char **argv)
{
        if (argc > 0) {
                osnctl_err("networks takes no arguments (see osnctl networks --help)");
                return OSNCTL_USAGE;
        }
        _cleanup_inventory_ struct osn_inventory *inv = NULL;
        int r = read_inventory(ctl, NULL, &inv);
        if (r)
                return r;
        _cleanup_json_ json_t *rows = json_array();
        for (size_t i = 0; i < inv->n_networks; i++)
                json_array_append_new(rows, osnctl_network_json(&inv->networks[i]));
        if (ctl->json) {
                _cleanup_json_ json_t *out = json_pack("{s:O}", "networks", rows);
                return osnctl_print_json(out) < 0 ? OSNCTL_PROBLEMS : 0;
        }
        osnctl_table(network_cols, ARRAY_SIZE(network_cols), rows, "no osn networks");
        return 0;
}

/* --- attachments --- */

static int cmd_attachments(struct osnctl *ctl, int argc, char **argv)
{
        if (argc > 0) {
                osnctl_err("attachments takes no arguments (see osnctl attachments --help)");
                return OSNCTL_USAGE;
        }
        struct osn_inv_filter f = {.network = ctl->network, .node = ctl->node_name};
        _cleanup_inventory_ struct osn_inventory *inv = NULL;
        int r = read_inventory(ctl, &f, &inv);
        if (r)
                return r;
        if (ctl->network && inv->n_networks == 0 && inv->n_ports == 0) {
                osnctl_err("no osn network named \"%s\" (osnctl networks lists them)",
                           ctl->network);
                return OSNCTL_PROBLEMS;
        }
        if ((r = osnctl_mark_unresponsive(ctl, inv, osnctl_deadline(ctl))))
                return r;
        _cleanup_json_ json_t *rows = json_array();
        for (size_t i = 0; i < inv->n_ports; i++)
                json_array_append_new(rows, osnctl_port_json(&inv->ports[i]));
        if (ctl->json) {
                _cleanup_json_ json_t *out = json_pack("{s:O}", "attachments", rows);
                return osnctl_print_json(out) < 0 ? OSNCTL_PROBLEMS : 0;
        }
        osnctl_table(attachment_cols, ARRAY_SIZE(attachment_cols), rows, "no attachments");
        return 0;
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
        int r = read_inventory(ctl, &f, &inv);
        if (r)
                return r;
        const struct osn_inv_network *n = osn_inventory_network(inv, argv[0]);
        if (!n && inv->n_ports == 0) {
                osnctl_err("no osn network named \"%s\" (osnctl networks lists them)", argv[0]);
                return OSNCTL_PROBLEMS;
        }
        _cleanup_json_ json_t *rows = json_array();
        for (size_t i = 0; i < inv->n_ports; i++)
                json_array_append_new(rows, osnctl_port_json(&inv->ports[i]));
        _cleanup_json_ json_t *out = json_pack(
            "{s:o, s:O}", "network", n ? osnctl_network_json(n) : json_null(), "attachments", rows);
        if (ctl->json)
                return osnctl_print_json(out) < 0 ? OSNCTL_PROBLEMS : 0;
        if (n)
                osnctl_fields(network_fields, ARRAY_SIZE(network_fields),
                              json_object_get(out, "network"));
        else
                printf("network \"%s\" has no logical switch; its ports are orphans\n", argv[0]);
        printf("\n");
        osnctl_table(attachment_cols + 1, ARRAY_SIZE(attachment_cols) - 1, rows, "no attachments");
        return 0;
}

/* --- status --- */

static json_t *probe_json(enum osn_probe p)
{
        return p == OSN_PROBE_UNKNOWN ? json_null() : json_boolean(p == OSN_PROBE_OK);
}

/* "physnet:br-ex,tenant:br-t" as [{"name": "physnet", "bridge": "br-ex"}, ...]. */
static json_t *mappings_json(const char *mappings)
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
            mappings_json(bridge ? st->node.bridge_mappings : NULL), "default_physical_network",
            physdef);
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
};

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
        if (!out) {
                osnctl_err("out of memory");
                return OSNCTL_PROBLEMS;
        }
        if (ctl->json)
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
        OPT_OVN_RUNDIR,
        OPT_VERSION,
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
    {"ovn-rundir", required_argument, NULL, OPT_OVN_RUNDIR},
    {"version", no_argument, NULL, OPT_VERSION},
    {0},
};

#define COMMON_OPTIONS "config\0json\0timeout\0verbose\0help\0"

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
     "  NETWORK      the network name (the netconf \"name\")\n"
     "  TOPOLOGY     layer2 or localnet (osn/topology)\n"
     "  SUBNETS      OVN IPAM subnets, from the settings osn stored on the switch\n"
     "               (osn/fingerprint; other_config subnet/ipv6_prefix without it)\n"
     "  EXTERNAL     the physical network and VLAN of its localnet port, or -\n"
     "  MTU          the MTU the NAD asked for, or \"default\" (the node's)\n"
     "  ATTACHMENTS  how many pod interfaces are attached\n"
     "  NODES        the nodes those attachments are on (osn/node of the ports)\n",
     COMMON_OPTIONS, true, cmd_networks},
    {"attachments", "attachments [--network NAME] [--node NODE]",
     "list pod interfaces attached to osn networks",
     "One line per attachment: a logical switch port that carries\n"
     "external_ids:osn/network (localnet ports excluded).\n"
     "  POD          namespace/name of the pod (from CNI_ARGS), or -\n"
     "  CONTAINER    the container id (first 12 characters; --json has it whole)\n"
     "  INTERFACE    the interface name in the pod (CNI_IFNAME)\n"
     "  NODE         the node that attached it\n"
     "  MAC, IPS     what OVN holds for the port (assigned or static)\n"
     "  READY        the port's \"up\" column: ovn-controller has bound it on its\n"
     "               chassis; \"orphan\" when no osn switch holds the port\n"
     "Options:\n"
     "  --network NAME   only this network's attachments (exit 1 if there is none)\n"
     "  --node NODE      only the attachments made on this node\n",
     COMMON_OPTIONS "network\0node\0", true, cmd_attachments},
    {"show", "show NETWORK", "one network with all its attachments",
     "The settings of NETWORK (as \"networks\" shows them, plus the switch name,\n"
     "the excluded ranges, the ports on its switch that osn did not create and\n"
     "the stored fingerprint), then its attachments as \"attachments\" shows them.\n"
     "Exits 1 when there is no such network.\n",
     COMMON_OPTIONS, true, cmd_show},
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
     "Exits 0 when every probe passed, else 1.\n"
     "Options:\n"
     "  --ovn-rundir DIR    ovn-controller's run directory (default $OVN_RUNDIR,\n"
     "                      else /var/run/ovn)\n",
     COMMON_OPTIONS "ovn-rundir\0", true, cmd_status},
    {"gc",
     "gc [--dry-run] [--orphans] [--node NODE [--force] | --unresponsive SECONDS] "
     "[--release-reservations]",
     "remove what dead pods and lost nodes left",
     "On this node (node config node_name and its local OVS DB):\n"
     "  - every attachment whose pod network namespace is gone (the OVS\n"
     "    interface's external_ids:osn/netns no longer exists, or is no longer a\n"
     "    network namespace): a DEL that never came, e.g. after Multus lost its\n"
     "    cache.  Removed exactly as the plugin's DEL removes it (OVS port, host\n"
     "    veth, logical port; the network's switch with its last attachment);\n"
     "  - every osn network (switch with external_ids:osn/network) that has no\n"
     "    attachment left, guarded by an OVSDB \"wait\" so that an attachment made\n"
     "    meanwhile on any node wins and the switch stays;\n"
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
     "  --release-reservations     remove persistent reservations too\n",
     COMMON_OPTIONS "dry-run\0orphans\0node\0force\0unresponsive\0release-reservations\0", true,
     osnctl_gc},
    {"validate", "validate FILE|DIR|- ...", "check NAD manifests and CNI configs",
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
     "An error inside spec.config points at its line and column in the manifest\n"
     "(not in the embedded string).  Needs no node config.\n"
     "Exits 0 when every network is valid, 1 when any is not (or a file cannot be\n"
     "read or parsed).\n",
     COMMON_OPTIONS, false, osnctl_validate},
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
        printf("Common options:\n"
               "  -j, --json          JSON on stdout instead of text (same facts)\n"
               "  -c, --config FILE   the node config (default $OSN_CONFIG, else %s)%s\n"
               "  -t, --timeout MS    bound on every wait (default: the node config's\n"
               "                      ready_timeout_ms)\n"
               "  -v, --verbose       debug logs on stderr\n"
               "  -h, --help          this help\n",
               OSN_NODECONF_DEFAULT_PATH, cmd->needs_node ? "" : "; unused");
}

static void help(const char *prog)
{
        printf("Usage: %s [OPTIONS] COMMAND [COMMAND OPTIONS] [ARGS]\n\n"
               "See, validate and clean up osn networks (OVN secondary networks for\n"
               "Kubernetes).  Reads the plugin's node config for where the OVN NB DB and\n"
               "the local OVS DB are.\n\nCommands:\n",
               prog);
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                printf("  %-44s %s\n", commands[i].synopsis, commands[i].summary);
        printf("\n\"%s COMMAND --help\" (or \"%s help COMMAND\") tells more.\n\n"
               "Options (before or after COMMAND):\n"
               "  -j, --json          JSON on stdout instead of text tables (same facts)\n"
               "  -c, --config FILE   the node config (default $OSN_CONFIG, else %s)\n"
               "  -t, --timeout MS    bound on every wait (default: the node config's\n"
               "                      ready_timeout_ms)\n"
               "  -v, --verbose       debug logs on stderr\n"
               "  -h, --help          this help\n"
               "      --version       osn's version\n\n"
               "Environment: OSN_CONFIG (node config path), OVN_RUNDIR (status).\n"
               "Exit status: 0 ok, 1 problems found (an invalid network, a probe that\n"
               "failed, a database that cannot be reached), 2 usage error.\n",
               prog, prog, OSN_NODECONF_DEFAULT_PATH);
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
        for (;;) {
                int idx = -1;
                int c = getopt_long(argc, argv, cmd ? ":c:jt:vhn" : "+:c:jt:vh", all_options, &idx);
                if (c == -1)
                        break;
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
                if (!cmd && c != 'c' && c != 'j' && c != 't' && c != 'v' && c != 'h' &&
                    c != OPT_VERSION) {
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
        osn_log_open(NULL, ctl.verbose ? OSN_LOG_DEBUG : OSN_LOG_WARN);
        r = cmd->run(&ctl, cargc - rest, cargv + rest);
        osn_nodeconf_free(ctl.node);
        osn_log_close();
        return r;
}
