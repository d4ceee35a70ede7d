/* osnctl nodes: every chassis of the OVN SB DB, as an operator checks them
 * (kubectl ko, antctl get agentinfo).
 *
 * Facts, each from the one place that holds it:
 * - the SB DB (one transaction): Chassis (name, hostname, encaps, the
 *   bridge mappings in other_config, or external_ids for an older OVN),
 *   Encap (type, ip), Chassis_Private (nb_cfg: the NB configuration that
 *   chassis's ovn-controller has caught up with);
 * - the NB DB, when one is known (--nb or the node config): NB_Global's
 *   nb_cfg, what every chassis should have reached;
 * - the local OVS DB, when there is one: the tunnel Interfaces
 *   ovn-controller made to the other chassis (type geneve, vxlan or stt,
 *   options:remote_ip), whose bfd_status or link_state says whether they
 *   are up; external_ids:system-id of Open_vSwitch says which chassis is
 *   this node.
 * What cannot be known is said so ("unknown"), never guessed.
 */
#include <inttypes.h>

#include "osnctl.h"
#include "ovn.h"
#include "ovs.h"

#define SB_DB "OVN_Southbound"

static json_t *select_all(const char *table, const char *const *cols)
{
        return osn_ovsdb_op_select(table, json_array(), cols);
}

static int read_sb(struct osnctl *ctl, int64_t deadline, json_t **ret)
{
        static const char *const chassis_cols[] = {
            "_uuid", "name", "hostname", "encaps", "other_config", "external_ids", NULL};
        static const char *const encap_cols[] = {"_uuid", "type", "ip", NULL};
        static const char *const priv_cols[] = {"name", "nb_cfg", "nb_cfg_timestamp", NULL};
        _cleanup_ovsdb_ struct osn_ovsdb *sb = NULL;
        int r = osnctl_connect_sb(ctl, deadline, &sb);
        if (r)
                return r;
        json_t *ops =
            json_pack("[o, o, o]", select_all("Chassis", chassis_cols),
                      select_all("Encap", encap_cols), select_all("Chassis_Private", priv_cols));
        struct osn_error err = {0};
        if (!ops || (r = osn_ovsdb_transact(sb, SB_DB, ops, deadline, ret, &err)) < 0) {
                osnctl_err("reading the SB DB %s: %s", osn_ovsdb_remote(sb),
                           err.msg[0] ? err.msg : strerror(ops ? -r : ENOMEM));
                return OSNCTL_PROBLEMS;
        }
        return 0;
}

/* NB_Global's nb_cfg, or -1 when no NB DB is known or it does not answer
 * (then *why says so). */
static json_int_t read_nb_cfg(struct osnctl *ctl, int64_t deadline, const char **why)
{
        *why = NULL;
        if (!ctl->nb_remote && !ctl->node) {
                *why = "no NB DB known (--nb or a node config)";
                return -1;
        }
        _cleanup_ovsdb_ struct osn_ovsdb *nb = NULL;
        if (osnctl_connect_nb(ctl, deadline, &nb)) {
                *why = "the NB DB does not answer";
                return -1;
        }
        static const char *const cols[] = {"nb_cfg", NULL};
        _cleanup_json_ json_t *res = NULL;
        json_t *ops = json_pack("[o]", select_all("NB_Global", cols));
        if (!ops || osn_ovsdb_transact(nb, OSN_NB_DB, ops, deadline, &res, NULL) < 0) {
                *why = "reading NB_Global failed";
                return -1;
        }
        const json_t *v =
            json_object_get(json_array_get(osn_ovsdb_result_rows(res, 0), 0), "nb_cfg");
        return json_is_integer(v) ? json_integer_value(v) : 0;
}

/* This node's tunnel interfaces and chassis name; *ret_ifaces NULL when
 * there is no local OVS DB. */
static void read_local(struct osnctl *ctl, int64_t deadline, json_t **ret_ifaces, char *system_id,
                       size_t len)
{
        *ret_ifaces = NULL;
        system_id[0] = 0;
        _cleanup_ovsdb_ struct osn_ovsdb *ovs = NULL;
        if (osnctl_connect_ovs_quiet(ctl, deadline, &ovs) < 0)
                return;
        static const char *const if_cols[] = {"name",       "type",       "options",
                                              "bfd_status", "link_state", NULL};
        static const char *const ovs_cols[] = {"external_ids", NULL};
        _cleanup_json_ json_t *res = NULL;
        json_t *ops = json_pack("[o, o]", select_all("Interface", if_cols),
                                select_all("Open_vSwitch", ovs_cols));
        if (!ops || osn_ovsdb_transact(ovs, OSN_OVS_DB, ops, deadline, &res, NULL) < 0)
                return;
        const char *id = osn_ovsdb_map_get(
            json_object_get(json_array_get(osn_ovsdb_result_rows(res, 1), 0), "external_ids"),
            "system-id");
        snprintf(system_id, len, "%s", id ? id : "");
        json_t *tunnels = json_array(), *row;
        size_t i;
        json_array_foreach(osn_ovsdb_result_rows(res, 0), i, row)
        {
                const char *type = json_string_value(json_object_get(row, "type"));
                if (streq(type, "geneve") || streq(type, "vxlan") || streq(type, "stt"))
                        json_array_append(tunnels, row);
        }
        *ret_ifaces = tunnels;
}

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

static json_t *chassis_json(const json_t *ch, const json_t *encap_rows, const json_t *privs,
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

static int cmp_name(const void *a, const void *b)
{
        const char *x = json_string_value(json_object_get(*(json_t *const *)a, "name"));
        const char *y = json_string_value(json_object_get(*(json_t *const *)b, "name"));
        return strcmp(x ? x : "", y ? y : "");
}

/* The rows sorted by chassis name (a new array). */
static json_t *sorted(const json_t *rows)
{
        size_t n = json_array_size(rows);
        _cleanup_free_ json_t **v = calloc(n ? n : 1, sizeof(*v));
        json_t *out = json_array();
        if (!v || !out) {
                json_decref(out);
                return NULL;
        }
        for (size_t i = 0; i < n; i++)
                v[i] = json_array_get(rows, i);
        qsort(v, n, sizeof(*v), cmp_name);
        for (size_t i = 0; i < n; i++)
                json_array_append(out, v[i]);
        return out;
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

int osnctl_nodes(struct osnctl *ctl, int argc, char **argv)
{
        if (argc > 0) {
                osnctl_err("nodes takes no arguments (see osnctl nodes --help)");
                return OSNCTL_USAGE;
        }
        int r = osnctl_load_node_optional(ctl);
        if (r)
                return r;
        int64_t deadline = osnctl_deadline(ctl);
        _cleanup_json_ json_t *sb = NULL, *tunnels = NULL;
        if ((r = read_sb(ctl, deadline, &sb)))
                return r;
        const char *nb_why;
        json_int_t nb_cfg = read_nb_cfg(ctl, deadline, &nb_why);
        char system_id[256];
        read_local(ctl, deadline, &tunnels, system_id, sizeof(system_id));

        _cleanup_json_ json_t *rows = json_array();
        size_t i;
        const json_t *ch;
        json_array_foreach(osn_ovsdb_result_rows(sb, 0), i, ch)
        {
                json_array_append_new(rows, chassis_json(ch, osn_ovsdb_result_rows(sb, 1),
                                                         osn_ovsdb_result_rows(sb, 2), tunnels,
                                                         system_id, nb_cfg));
        }
        if (ctl->verbose && nb_why)
                osnctl_err("NB nb_cfg unknown: %s", nb_why);
        _cleanup_json_ json_t *by_name = sorted(rows);
        return osnctl_render_list(ctl, "nodes", by_name, node_cols, ARRAY_SIZE(node_cols),
                                  "no chassis in the SB DB");
}
