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

#include "ctl.h"
#include "osnctl.h"
#include "output.h"
#include "ovn.h"
#include "ovs.h"
#include "txn.h"
#include "views.h"

#define SB_DB "OVN_Southbound"

/* What read_sb() read: the transaction, and its selects by handle. */
struct sb_read {
        struct osn_txn *t;
        osn_op chassis, encaps, privs;
};

static void sb_read_done(struct sb_read *r)
{
        osn_txn_free(r->t);
}

/* Chassis, Encap and Chassis_Private, in one transaction.  On failure
 * prints why and returns OSNCTL_PROBLEMS. */
static int read_sb(struct osnctl *ctl, int64_t deadline, struct sb_read *ret)
{
        static const char *const chassis_cols[] = {
            "_uuid", "name", "hostname", "encaps", "other_config", "external_ids", NULL};
        static const char *const encap_cols[] = {"_uuid", "type", "ip", NULL};
        static const char *const priv_cols[] = {"name", "nb_cfg", "nb_cfg_timestamp", NULL};
        _cleanup_ovsdb_ struct osn_ovsdb *sb = NULL;
        int r = osnctl_connect_sb(ctl, deadline, &sb);
        if (r)
                return r;
        struct osn_txn *t = osn_txn_new(SB_DB);
        struct osn_error err = {0};
        if (t) {
                ret->chassis = osn_txn_select(t, "Chassis", NULL, chassis_cols);
                ret->encaps = osn_txn_select(t, "Encap", NULL, encap_cols);
                ret->privs = osn_txn_select(t, "Chassis_Private", NULL, priv_cols);
        }
        if (!t || (r = osn_txn_commit(t, sb, deadline, &err)) < 0) {
                osnctl_err("reading the SB DB %s: %s", osn_ovsdb_remote(sb),
                           err.msg[0] ? err.msg : strerror(t ? -r : ENOMEM));
                osn_txn_free(t);
                return OSNCTL_PROBLEMS;
        }
        ret->t = t;
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
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        osn_op sel = t ? osn_txn_select(t, "NB_Global", NULL, cols) : OSN_OP_NONE;
        if (!t || osn_txn_commit(t, nb, deadline, NULL) < 0) {
                *why = "reading NB_Global failed";
                return -1;
        }
        const json_t *v = json_object_get(osn_txn_row(t, sel), "nb_cfg");
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
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_OVS_DB);
        if (!t)
                return;
        osn_op ifs = osn_txn_select(t, "Interface", NULL, if_cols);
        osn_op root = osn_txn_select(t, "Open_vSwitch", NULL, ovs_cols);
        if (osn_txn_commit(t, ovs, deadline, NULL) < 0)
                return;
        const char *id =
            osn_ovsdb_map_get(json_object_get(osn_txn_row(t, root), "external_ids"), "system-id");
        snprintf(system_id, len, "%s", id ? id : "");
        json_t *tunnels = json_array(), *row;
        size_t i;
        json_array_foreach(osn_txn_rows(t, ifs), i, row)
        {
                const char *type = json_string_value(json_object_get(row, "type"));
                if (streq(type, "geneve") || streq(type, "vxlan") || streq(type, "stt"))
                        json_array_append(tunnels, row);
        }
        *ret_ifaces = tunnels;
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
        _cleanup_json_ json_t *tunnels = NULL;
        _cleanup_(sb_read_done) struct sb_read sb = {0};
        if ((r = read_sb(ctl, deadline, &sb)))
                return r;
        const char *nb_why;
        json_int_t nb_cfg = read_nb_cfg(ctl, deadline, &nb_why);
        char system_id[256];
        read_local(ctl, deadline, &tunnels, system_id, sizeof(system_id));

        _cleanup_json_ json_t *rows = json_array();
        size_t i;
        const json_t *ch;
        json_array_foreach(osn_txn_rows(sb.t, sb.chassis), i, ch)
        {
                json_array_append_new(rows, osnctl_node_json(ch, osn_txn_rows(sb.t, sb.encaps),
                                                             osn_txn_rows(sb.t, sb.privs), tunnels,
                                                             system_id, nb_cfg));
        }
        if (ctl->verbose && nb_why)
                osnctl_err("NB nb_cfg unknown: %s", nb_why);
        _cleanup_json_ json_t *by_name = sorted(rows);
        return osnctl_render_list(ctl, "nodes", by_name, osnctl_node_columns.v,
                                  osnctl_node_columns.n, "no chassis in the SB DB");
}
