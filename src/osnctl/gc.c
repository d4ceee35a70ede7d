/* osnctl gc: removes what dead pods, and lost nodes, left behind (see its
 * --help in main.c).
 *
 * The plan and its execution are gcplan.h's, shared with the plugin's CNI
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
#include "attach.h"
#include "gcplan.h"
#include "inventory.h"
#include "ctl.h"
#include "osnctl.h"
#include "output.h"
#include "ovn.h"
#include "ovs.h"

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
        int r = osn_gc_sb_remote(ovs, deadline, &sb_remote, &err);
        if (r >= 0)
                r = osn_ovsdb_connect(sb_remote, &ctl->node->ssl, deadline, &sb, &err);
        if (r >= 0)
                r = osn_gc_probe_chassis(nb, sb, ctl->node_name, bound_ms, deadline, ret, &err);
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
                    !osn_gc_node_follows(probed, p->node))
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
                if (!node || streq(node, ctl->node->node_name) || osn_gc_node_follows(probe, node))
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

static void print_text(const json_t *out)
{
        bool dry = json_is_true(json_object_get(out, "dry_run"));
        size_t i, n_att = 0, n_net = 0, n_keys = 0;
        const json_t *a;
        json_array_foreach(json_object_get(out, "actions"), i, a)
        {
                const char *object = json_string_value(json_object_get(a, "object"));
                const char *result = json_string_value(json_object_get(a, "result"));
                const char *err = json_string_value(json_object_get(a, "error"));
                bool att = streq(object, "attachment");
                if (streq(object, "pool-index")) {
                        const json_t *keys = json_object_get(a, "keys");
                        bool done = streq(result, "removed") || streq(result, "already gone");
                        if (dry || done)
                                n_keys += json_array_size(keys);
                        printf("%s %zu stale pool index key(s) of network %s (",
                               dry                     ? "would remove"
                               : done                  ? "removed"
                               : streq(result, "kept") ? "kept"
                                                       : "FAILED to remove",
                               json_array_size(keys),
                               json_string_value(json_object_get(a, "network")));
                        size_t k;
                        const json_t *key;
                        json_array_foreach(keys, k, key)
                            printf("%s%s", k ? " " : "", json_string_value(key));
                        printf("): %s%s%s%s\n", json_string_value(json_object_get(a, "reason")),
                               err ? " [" : "", err ? err : "", err ? "]" : "");
                        continue;
                }
                const char *name = json_string_value(json_object_get(a, att ? "port" : "network"));
                const char *verb = dry                             ? "would remove"
                                   : streq(result, "removed")      ? "removed"
                                   : streq(result, "already gone") ? "already gone:"
                                   : streq(result, "kept")         ? "kept"
                                                                   : "FAILED to remove";
                if (dry || streq(result, "removed") || streq(result, "already gone"))
                        att ? n_att++ : n_net++;
                printf("%s %s %s", verb, object, name);
                if (att) {
                        const char *pod = json_string_value(json_object_get(a, "pod"));
                        printf(" (pod %s, container %s, interface %s)", pod ? pod : "-",
                               json_string_value(json_object_get(a, "container_id")),
                               json_string_value(json_object_get(a, "interface")));
                }
                printf(": %s", json_string_value(json_object_get(a, "reason")));
                if (err)
                        printf(" [%s]", err);
                printf("\n");
        }
        json_array_foreach(json_object_get(out, "kept"), i, a)
        {
                const char *name = json_string_value(json_object_get(a, "name"));
                printf("left alone: %s%s%s: %s\n", json_string_value(json_object_get(a, "object")),
                       name ? " " : "", name ? name : "",
                       json_string_value(json_object_get(a, "reason")));
        }
        const json_t *lost = json_object_get(out, "lost_nodes");
        if (json_array_size(lost) > 0) {
                printf("lost node(s):");
                json_array_foreach(lost, i, a) printf(" %s", json_string_value(a));
                printf("\n");
        }
        printf("gc on node %s: %s %zu attachment(s) and %zu network(s)",
               json_string_value(json_object_get(out, "node")), dry ? "would remove" : "removed",
               n_att, n_net);
        if (n_keys)
                printf(", and %zu stale pool index key(s)", n_keys);
        printf("\n");
}

int osnctl_gc(struct osnctl *ctl, int argc, char **argv)
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
        int r = osnctl_load_node(ctl);
        if (r)
                return r;
        bool lost_mode = ctl->node_name || ctl->unresponsive_s;
        if (ctl->node_name && streq(ctl->node_name, ctl->node->node_name)) {
                osnctl_err("gc: --node %s is this node; run gc here without --node",
                           ctl->node_name);
                return OSNCTL_USAGE;
        }
        int bound_ms = ctl->unresponsive_s ? ctl->unresponsive_s * 1000 : DEFAULT_PROBE_MS;
        int64_t deadline = osnctl_deadline(ctl);
        if (lost_mode && deadline < osn_now_ms() + bound_ms + 5000)
                deadline = osn_now_ms() + bound_ms + 5000; /* the probe's bound, and the work */
        _cleanup_ovsdb_ struct osn_ovsdb *nb = NULL, *ovs = NULL;
        if ((r = osnctl_connect_ovs(ctl, deadline, &ovs))) {
                osnctl_err("gc: nothing removed; run osnctl gc on node %s itself, or in its "
                           "osn-node pod with OVS's run directory mounted",
                           ctl->node->node_name);
                return r;
        }
        if ((r = osnctl_connect_nb(ctl, deadline, &nb)))
                return r;

        struct osn_error err = {0};
        _cleanup_json_ json_t *ifaces = NULL, *probed = NULL, *lost = json_array();
        _cleanup_inventory_ struct osn_inventory *inv = NULL;
        if (!lost)
                return OSNCTL_PROBLEMS;
        r = lost_mode ? 0 : osn_ovs_list_attachments(ovs, NULL, deadline, &ifaces, &err);
        if (r >= 0)
                r = osn_inventory_read(nb, NULL, deadline, &inv, &err);
        if (r < 0) {
                osnctl_err("gc: reading what exists: %s", err.msg[0] ? err.msg : strerror(-r));
                return OSNCTL_PROBLEMS;
        }
        if (lost_mode && !(ctl->node_name && ctl->force)) {
                if ((r = probe(ctl, nb, ovs, bound_ms, deadline, &probed)))
                        return r;
        }
        char reason[128];
        if (ctl->node_name) {
                if (probed && osn_gc_node_follows(probed, ctl->node_name)) {
                        osnctl_err("gc: node %s still follows the NB (its ovn-controller "
                                   "installed NB_Global.nb_cfg %lld within %d s); not removing "
                                   "its attachments (--force does)",
                                   ctl->node_name,
                                   (long long)json_integer_value(json_object_get(probed, "nb_cfg")),
                                   bound_ms / 1000);
                        return OSNCTL_PROBLEMS;
                }
                snprintf(reason, sizeof(reason), "%s",
                         probed ? "its ovn-controller does not follow the NB" : "--force");
                json_array_append_new(lost, json_string(ctl->node_name));
        } else if (ctl->unresponsive_s) {
                if (unresponsive_nodes(ctl, inv, probed, lost) < 0)
                        return OSNCTL_PROBLEMS;
                snprintf(reason, sizeof(reason),
                         "its ovn-controller did not follow the NB within %d s",
                         ctl->unresponsive_s);
        }

        _cleanup_json_ json_t *out =
            json_pack("{s:s, s:b, s:O, s:[], s:[]}", "node", ctl->node->node_name, "dry_run",
                      ctl->dry_run, "lost_nodes", lost, "actions", "kept");
        if (!out)
                return OSNCTL_PROBLEMS;
        json_t *actions = json_object_get(out, "actions"), *keep = json_object_get(out, "kept");
        size_t failures = 0, k_i;
        const json_t *k_v;
        struct osn_gc_req req = {.mode = OSN_GC_LOCAL,
                                 .node = ctl->node->node_name,
                                 .orphans = ctl->orphans,
                                 .release_reservations = ctl->release_reservations,
                                 .repair_pool_index = true};
        r = 0;
        if (!lost_mode) {
                r = osn_gc_plan(&req, ifaces, inv, actions, keep);
        } else {
                size_t i;
                const json_t *v;
                json_array_foreach(lost, i, v)
                {
                        req.mode = OSN_GC_NODE_LOST;
                        req.node = json_string_value(v);
                        req.reason = reason;
                        if (r >= 0)
                                r = osn_gc_plan(&req, NULL, inv, actions, keep);
                }
        }
        size_t unknown = 0;
        json_array_foreach(keep, k_i, k_v) unknown +=
            streq(json_string_value(json_object_get(k_v, "netns")), "unknown");
        if (r >= 0 && !ctl->dry_run)
                r = osn_gc_execute(nb, lost_mode ? NULL : ovs, inv, actions, deadline, &failures);
        if (r < 0) {
                osnctl_err("gc: %s", strerror(-r));
                return OSNCTL_PROBLEMS;
        }
        if (ctl->reservations_older_s > 0) {
                json_t *released = json_array();
                json_object_set_new(out, "reservations", released);
                struct osn_error e = {0};
                if (osnctl_release_older(nb, ctl->reservations_older_s, ctl->dry_run, deadline,
                                         released, &e) < 0) {
                        osnctl_err("gc: reservations: %s", e.msg);
                        return OSNCTL_PROBLEMS;
                }
                size_t k;
                const json_t *x;
                json_array_foreach(released, k, x)
                {
                        failures +=
                            streq(json_string_value(json_object_get(x, "result")), "failed");
                        if (!ctl->json)
                                printf("%s reservation %s%s%s\n",
                                       json_string_value(json_object_get(x, "result")),
                                       json_string_value(json_object_get(x, "port")),
                                       json_object_get(x, "why") ? ": " : "",
                                       json_object_get(x, "why")
                                           ? json_string_value(json_object_get(x, "why"))
                                           : "");
                }
        }
        if (ctl->json)
                osnctl_print_json(out);
        else
                print_text(out);
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
