/* osnctl gc: removes what dead pods, and lost nodes, left behind (see its
 * --help in main.c).
 *
 * The plan and its execution are remove.h's, shared with the plugin's CNI
 * GC: this file reads what exists (one read of each database), picks the
 * mode and prints.
 *
 * Modes:
 * - this node (default): its OVS interfaces with osn's ids and the NB
 *   inventory; dead pods (netns gone) are removed as the plugin's DEL
 *   removes them;
 * - --node NAME: NAME is lost; every logical port that names it goes (NB
 *   only).  Refused while NAME's ovn-controller still follows the NB (the
 *   nb_cfg probe, bounded by --unresponsive SECONDS or 10 s), unless
 *   --force;
 * - --unresponsive SECONDS: the probe finds the nodes whose chassis do not
 *   follow within SECONDS; each is treated as --node.  This node never is.
 * --dry-run stops after the plan.
 */
#include "chassis.h"
#include "inventory.h"
#include "ctl.h"
#include "osnctl.h"
#include "output.h"
#include "ovn.h"
#include "ovs.h"
#include "remove.h"

#define DEFAULT_PROBE_MS     10000
#define ATTACHMENTS_PROBE_MS 2000

/* Probes which chassis follow, through the SB this node's ovn-controller
 * uses.  Prints why on failure. */
static int probe(struct osnctl *ctl, struct osn_ovsdb *nb, struct osn_ovsdb *ovs, int bound_ms,
                 int64_t deadline, json_t **ret)
{
        struct osn_error err = {0};
        _cleanup_free_ char *sb_remote = NULL;
        _cleanup_ovsdb_ struct osn_ovsdb *sb = NULL;
        int r = osn_chassis_sb_remote(ovs, deadline, &sb_remote, &err);
        if (r >= 0)
                r = osn_ovsdb_connect(sb_remote, &ctl->node->ssl, deadline, &sb, &err);
        if (r >= 0)
                r = osn_chassis_probe(nb, sb, ctl->node_name, bound_ms, deadline, ret, &err);
        if (r < 0) {
                osnctl_err("gc: probing which nodes follow the NB: %s",
                           err.msg[0] ? err.msg : strerror(-r));
                return OSNCTL_PROBLEMS;
        }
        return 0;
}

int osnctl_mark_unresponsive(struct osnctl *ctl, struct osn_inventory *inv, int64_t deadline)
{
        /* The probe reads the SB through this node's OVS (ovn-remote):
         * without a node config (--nb alone) there is nothing to ask. */
        if (!ctl->node)
                return 0;
        bool others = false;
        for (size_t i = 0; i < inv->n_ports; i++)
                others |= inv->ports[i].up && !streq(inv->ports[i].node, ctl->node->node_name);
        if (!others)
                return 0;
        _cleanup_ovsdb_ struct osn_ovsdb *nb = NULL, *ovs = NULL;
        _cleanup_json_ json_t *probed = NULL;
        if (osnctl_connect_ovs_quiet(ctl, deadline, &ovs) < 0) {
                /* Where osnctl cannot see this node's OVS (a container
                 * without its run directory), the view still works. */
                osnctl_err("note: the local OVS DB (%s) cannot be reached from here, so other "
                           "nodes are not probed: READY is what OVN's \"up\" says",
                           ctl->node->ovs_remote);
                return 0;
        }
        int r = 0;
        if (!r)
                r = osnctl_connect_nb(ctl, deadline, &nb);
        if (!r)
                r = probe(ctl, nb, ovs, ATTACHMENTS_PROBE_MS, deadline, &probed);
        if (r)
                return r;
        for (size_t i = 0; i < inv->n_ports; i++) {
                struct osn_inv_port *p = &inv->ports[i];
                if (p->up && p->node && !streq(p->node, ctl->node->node_name) &&
                    !osn_chassis_follows(probed, p->node))
                        p->up = false;
        }
        return 0;
}

/* The nodes that own attachments and do not follow (never this one). */
static int unresponsive_nodes(const struct osnctl *ctl, const struct osn_inventory *inv,
                              const json_t *probe, json_t *ret)
{
        for (size_t i = 0; i < inv->n_ports; i++) {
                const char *node = inv->ports[i].node;
                if (!node || streq(node, ctl->node->node_name) || osn_chassis_follows(probe, node))
                        continue;
                bool seen = false;
                size_t k;
                const json_t *v;
                json_array_foreach(ret, k, v) seen |= streq(json_string_value(v), node);
                if (!seen && json_array_append_new(ret, json_string(node)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* --- The report (output.h renders it: JSON as it is, or these lines) --- */

static bool done(const char *result)
{
        return streq(result, "removed") || streq(result, "already gone");
}

/* "released reservation PORT[: WHY]" (gc --reservations-older-than). */
static void reservation_line(const json_t *x, const json_t *out, FILE *f)
{
        const json_t *why = json_object_get(x, "why");
        fprintf(f, "%s reservation %s%s%s", json_string_value(json_object_get(x, "result")),
                json_string_value(json_object_get(x, "port")), why ? ": " : "",
                why ? json_string_value(why) : "");
        fputc('\n', f);
}

/* "would remove 2 stale pool index key(s) of network N (K1 K2): REASON". */
static void pool_index_line(const json_t *a, bool dry, FILE *f)
{
        const char *result = json_string_value(json_object_get(a, "result"));
        const char *err = json_string_value(json_object_get(a, "error"));
        const json_t *keys = json_object_get(a, "keys");
        fprintf(f, "%s %zu stale pool index key(s) of network %s (",
                dry                     ? "would remove"
                : done(result)          ? "removed"
                : streq(result, "kept") ? "kept"
                                        : "FAILED to remove",
                json_array_size(keys), json_string_value(json_object_get(a, "network")));
        size_t k;
        const json_t *key;
        json_array_foreach(keys, k, key) fprintf(f, "%s%s", k ? " " : "", json_string_value(key));
        fprintf(f, "): %s%s%s%s\n", json_string_value(json_object_get(a, "reason")),
                err ? " [" : "", err ? err : "", err ? "]" : "");
}

/* "removed attachment PORT (pod P, container C, interface I): REASON" or
 * "would remove network N: REASON", "[ERROR]" when it failed. */
static void action_line(const json_t *a, const json_t *out, FILE *f)
{
        bool dry = json_is_true(json_object_get(out, "dry_run"));
        const char *object = json_string_value(json_object_get(a, "object"));
        const char *result = json_string_value(json_object_get(a, "result"));
        const char *err = json_string_value(json_object_get(a, "error"));
        bool att = streq(object, "attachment"), warm = streq(object, "warm-port");
        if (streq(object, "pool-index")) {
                pool_index_line(a, dry, f);
                return;
        }
        const char *verb = dry                             ? "would remove"
                           : streq(result, "removed")      ? "removed"
                           : streq(result, "already gone") ? "already gone:"
                           : streq(result, "kept")         ? "kept"
                                                           : "FAILED to remove";
        fprintf(f, "%s %s %s", verb, object,
                json_string_value(json_object_get(a, att || warm ? "port" : "network")));
        if (warm) {
                const char *veth = json_string_value(json_object_get(a, "veth"));
                fprintf(f, " (%s%s%s)", veth ? "veth " : "", veth ? veth : "",
                        json_is_true(json_object_get(a, "logical_port"))
                            ? (veth ? " and its logical port" : "its logical port")
                            : "");
        }
        if (att) {
                const char *pod = json_string_value(json_object_get(a, "pod"));
                fprintf(f, " (pod %s, container %s, interface %s)", pod ? pod : "-",
                        json_string_value(json_object_get(a, "container_id")),
                        json_string_value(json_object_get(a, "interface")));
        }
        fprintf(f, ": %s", json_string_value(json_object_get(a, "reason")));
        if (err)
                fprintf(f, " [%s]", err);
        fputc('\n', f);
}

static void kept_line(const json_t *a, const json_t *out, FILE *f)
{
        const char *name = json_string_value(json_object_get(a, "name"));
        fprintf(f, "left alone: %s%s%s: %s\n", json_string_value(json_object_get(a, "object")),
                name ? " " : "", name ? name : "", json_string_value(json_object_get(a, "reason")));
}

static void lost_line(const json_t *out, const json_t *unused, FILE *f)
{
        const json_t *lost = json_object_get(out, "lost_nodes"), *v;
        size_t i;
        if (json_array_size(lost) == 0)
                return;
        fprintf(f, "lost node(s):");
        json_array_foreach(lost, i, v) fprintf(f, " %s", json_string_value(v));
        fputc('\n', f);
}

/* "gc on node N: removed 1 attachment(s) and 0 network(s)[, and K stale
 * pool index key(s)]": what went (or would go), failures not counted. */
static void summary_line(const json_t *out, const json_t *unused, FILE *f)
{
        bool dry = json_is_true(json_object_get(out, "dry_run"));
        size_t i, n_att = 0, n_net = 0, n_keys = 0, n_warm = 0;
        const json_t *a;
        json_array_foreach(json_object_get(out, "actions"), i, a)
        {
                const char *object = json_string_value(json_object_get(a, "object"));
                if (!dry && !done(json_string_value(json_object_get(a, "result"))))
                        continue;
                if (streq(object, "pool-index"))
                        n_keys += json_array_size(json_object_get(a, "keys"));
                else if (streq(object, "attachment"))
                        n_att++;
                else if (streq(object, "warm-port"))
                        n_warm++;
                else
                        n_net++;
        }
        fprintf(f, "gc on node %s: %s %zu attachment(s) and %zu network(s)",
                json_string_value(json_object_get(out, "node")), dry ? "would remove" : "removed",
                n_att, n_net);
        if (n_warm)
                fprintf(f, ", and %zu warm port(s)", n_warm);
        if (n_keys)
                fprintf(f, ", and %zu stale pool index key(s)", n_keys);
        fputc('\n', f);
}

static const struct osnctl_lines report[] = {
    {"reservations", reservation_line},
    {"actions", action_line},
    {"kept", kept_line},
    {NULL, lost_line},
    {NULL, summary_line},
};

/* --- The run --- */

/* What one gc run gathers before it plans. */
struct gc_run {
        bool lost_mode; /* --node or --unresponsive */
        int bound_ms;   /* the probe's bound */
        int64_t deadline;
        struct osn_ovsdb *nb, *ovs;
        json_t *ifaces; /* this node's OVS interfaces (not in lost mode) */
        json_t *warm;   /* ... and its warm ports */
        json_t *probed; /* which chassis follow (lost mode, without --force) */
        json_t *lost;   /* the lost nodes' names */
        struct osn_inventory *inv;
        char reason[128]; /* why the lost nodes are lost */
};

static void gc_run_done(struct gc_run *run)
{
        osn_ovsdb_close(run->nb);
        osn_ovsdb_close(run->ovs);
        json_decref(run->ifaces);
        json_decref(run->warm);
        json_decref(run->probed);
        json_decref(run->lost);
        osn_inventory_free(run->inv);
}

/* The options that do not go together; 0 or OSNCTL_USAGE having said why. */
static int check_options(const struct osnctl *ctl, int argc)
{
        if (argc > 0) {
                osnctl_err("gc takes no arguments (see osnctl gc --help)");
                return OSNCTL_USAGE;
        }
        if (ctl->node_name && ctl->unresponsive_s) {
                osnctl_err("gc: --node and --unresponsive do not go together");
                return OSNCTL_USAGE;
        }
        if (ctl->force && !ctl->node_name) {
                osnctl_err("gc: --force only goes with --node");
                return OSNCTL_USAGE;
        }
        return 0;
}

/* The deadline, then the local OVS DB and the NB. */
static int gc_connect(struct osnctl *ctl, struct gc_run *run)
{
        run->bound_ms = ctl->unresponsive_s ? ctl->unresponsive_s * 1000 : DEFAULT_PROBE_MS;
        run->deadline = osnctl_deadline(ctl);
        if (run->lost_mode && run->deadline < osn_now_ms() + run->bound_ms + 5000)
                run->deadline = osn_now_ms() + run->bound_ms + 5000; /* the probe, and the work */
        int r = osnctl_connect_ovs(ctl, run->deadline, &run->ovs);
        if (r) {
                osnctl_err("gc: nothing removed; run osnctl gc on node %s itself, or in its "
                           "osn-node pod with OVS's run directory mounted",
                           ctl->node->node_name);
                return r;
        }
        return osnctl_connect_nb(ctl, run->deadline, &run->nb);
}

/* What exists: this node's interfaces (not in lost mode), the NB
 * inventory, and which chassis follow (lost mode, unless --force). */
static int gc_read(struct osnctl *ctl, struct gc_run *run)
{
        struct osn_error err = {0};
        int r = run->lost_mode
                    ? 0
                    : osn_ovs_list_attachments(run->ovs, NULL, run->deadline, &run->ifaces, &err);
        if (r >= 0 && !run->lost_mode)
                r = osn_ovs_list_warm(run->ovs, NULL, run->deadline, &run->warm, &err);
        if (r >= 0)
                r = osn_inventory_read(run->nb, NULL, run->deadline, &run->inv, &err);
        if (r < 0) {
                osnctl_err("gc: reading what exists: %s", err.msg[0] ? err.msg : strerror(-r));
                return OSNCTL_PROBLEMS;
        }
        if (run->lost_mode && !(ctl->node_name && ctl->force))
                return probe(ctl, run->nb, run->ovs, run->bound_ms, run->deadline, &run->probed);
        return 0;
}

/* The lost nodes, and why: --node NAME (refused while it follows), or
 * every node --unresponsive finds. */
static int find_lost(struct osnctl *ctl, struct gc_run *run)
{
        if (ctl->node_name) {
                if (run->probed && osn_chassis_follows(run->probed, ctl->node_name)) {
                        osnctl_err(
                            "gc: node %s still follows the NB (its ovn-controller installed "
                            "NB_Global.nb_cfg %lld within %d s); not removing its attachments "
                            "(--force does)",
                            ctl->node_name,
                            (long long)json_integer_value(json_object_get(run->probed, "nb_cfg")),
                            run->bound_ms / 1000);
                        return OSNCTL_PROBLEMS;
                }
                snprintf(run->reason, sizeof(run->reason), "%s",
                         run->probed ? "its ovn-controller does not follow the NB" : "--force");
                json_array_append_new(run->lost, json_string(ctl->node_name));
        } else if (ctl->unresponsive_s) {
                if (unresponsive_nodes(ctl, run->inv, run->probed, run->lost) < 0)
                        return OSNCTL_PROBLEMS;
                snprintf(run->reason, sizeof(run->reason),
                         "its ovn-controller did not follow the NB within %d s",
                         ctl->unresponsive_s);
        }
        return 0;
}

/* The plan (remove.h) into 'plan': this node's dead pods, or each lost
 * node's ports.  Negative errno on failure. */
static int gc_plan(const struct osnctl *ctl, const struct gc_run *run, struct osn_remove_plan *plan)
{
        struct osn_remove_req req = {.mode = OSN_REMOVE_LOCAL,
                                     .node = ctl->node->node_name,
                                     .orphans = ctl->orphans,
                                     .release_reservations = ctl->release_reservations,
                                     .repair_pool_index = true,
                                     .warm = run->warm,
                                     .warm_ports = ctl->node->warm_ports};
        if (!run->lost_mode)
                return osn_remove_plan_add(plan, &req, run->ifaces, run->inv);
        int r = 0;
        size_t i;
        const json_t *v;
        json_array_foreach(run->lost, i, v)
        {
                req.mode = OSN_REMOVE_NODE_LOST;
                req.node = json_string_value(v);
                req.reason = run->reason;
                if (r >= 0)
                        r = osn_remove_plan_add(plan, &req, NULL, run->inv);
        }
        return r;
}

/* --reservations-older-than: releases them, reported in out's
 * "reservations"; the failures are added to *failures. */
static int release_old(const struct osnctl *ctl, const struct gc_run *run, json_t *out,
                       size_t *failures)
{
        json_t *released = json_array();
        json_object_set_new(out, "reservations", released);
        struct osn_error e = {0};
        if (osnctl_release_older(run->nb, ctl->reservations_older_s, ctl->dry_run, run->deadline,
                                 released, &e) < 0) {
                osnctl_err("gc: reservations: %s", e.msg);
                return OSNCTL_PROBLEMS;
        }
        size_t k;
        const json_t *x;
        json_array_foreach(released, k, x) *failures +=
            streq(json_string_value(json_object_get(x, "result")), "failed");
        return 0;
}

int osnctl_gc(struct osnctl *ctl, int argc, char **argv)
{
        int r = check_options(ctl, argc);
        if (r || (r = osnctl_load_node(ctl)))
                return r;
        if (ctl->node_name && streq(ctl->node_name, ctl->node->node_name)) {
                osnctl_err("gc: --node %s is this node; run gc here without --node",
                           ctl->node_name);
                return OSNCTL_USAGE;
        }
        _cleanup_(gc_run_done) struct gc_run run = {
            .lost_mode = ctl->node_name || ctl->unresponsive_s, .lost = json_array()};
        if ((r = gc_connect(ctl, &run)))
                return r;
        if (!run.lost)
                return OSNCTL_PROBLEMS;
        if ((r = gc_read(ctl, &run)) || (r = find_lost(ctl, &run)))
                return r;

        _cleanup_json_ json_t *out =
            json_pack("{s:s, s:b, s:O, s:[], s:[]}", "node", ctl->node->node_name, "dry_run",
                      ctl->dry_run, "lost_nodes", run.lost, "actions", "kept");
        if (!out)
                return OSNCTL_PROBLEMS;
        size_t failures = 0, unknown = 0, k_i;
        const json_t *k_v;
        _cleanup_remove_plan_ struct osn_remove_plan *plan = NULL;
        r = osn_remove_plan_new(&plan);
        if (r >= 0)
                r = gc_plan(ctl, &run, plan);
        if (r >= 0 && !ctl->dry_run)
                r = osn_remove_plan_execute(plan, run.nb, run.lost_mode ? NULL : run.ovs, run.inv,
                                            run.deadline, &failures);
        if (r >= 0)
                r = osn_remove_plan_json(plan, json_object_get(out, "actions"),
                                         json_object_get(out, "kept"));
        json_array_foreach(json_object_get(out, "kept"), k_i, k_v) unknown +=
            streq(json_string_value(json_object_get(k_v, "netns")), "unknown");
        if (r < 0) {
                osnctl_err("gc: %s", strerror(-r));
                return OSNCTL_PROBLEMS;
        }
        if (ctl->reservations_older_s > 0 && (r = release_old(ctl, &run, out, &failures)))
                return r;
        osnctl_render_report(ctl, out, report, ARRAY_SIZE(report));
        if (unknown) {
                /* No deletion on missing evidence: say so, and fail. */
                osnctl_err("gc: left %zu attachment(s) alone whose pod netns cannot be checked "
                           "from here (see \"left alone\"); run osnctl gc on node %s itself, "
                           "or in its osn-node pod with /var/run/netns mounted",
                           unknown, ctl->node->node_name);
                return OSNCTL_PROBLEMS;
        }
        return failures ? OSNCTL_PROBLEMS : 0;
}
