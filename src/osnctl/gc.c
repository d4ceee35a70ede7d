/* osnctl gc: removes what dead pods left on this node (see its --help in
 * main.c).
 *
 * The plan is made from one read of each database: this node's OVS
 * interfaces that carry osn's ids (the authority for what is attached here,
 * with the pod's netns path) and the NB inventory (the networks, their
 * attachments, and the ports that name this node).  Removal then goes
 * through osn_attach_remove(), exactly as the plugin's DEL, which also
 * deletes a network's switch with its last attachment (guarded).  A network
 * that was already empty is deleted here, guarded the same way: an OVSDB
 * "wait" that its ports are still exactly the ones read, so an attachment
 * that another node adds meanwhile makes the delete fail, and the switch
 * stays.  --dry-run stops after the plan.
 */
#include <linux/magic.h>
#include <sys/vfs.h>

#include "attach.h"
#include "inventory.h"
#include "netlink.h"
#include "osnctl.h"
#include "ovn.h"
#include "ovs.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

enum netns_state { NETNS_ALIVE, NETNS_GONE, NETNS_UNKNOWN };

/* Whether the pod's network namespace still exists.  A path that is there
 * but is no longer a namespace (an unmounted /var/run/netns entry that a
 * crash left behind) counts as gone. */
static enum netns_state netns_state(const char *path, char *why, size_t len)
{
        if (!path || !*path) {
                snprintf(why, len, "the OVS interface does not record the pod's netns");
                return NETNS_UNKNOWN;
        }
        int fd = -1;
        int r = osn_netns_open(path, &fd);
        if (r == -ENOENT) {
                snprintf(why, len, "its netns %s is gone", path);
                return NETNS_GONE;
        }
        if (r < 0) {
                snprintf(why, len, "cannot check its netns %s: %s", path, strerror(-r));
                return NETNS_UNKNOWN;
        }
        struct statfs sf;
        r = fstatfs(fd, &sf) < 0 ? -errno : 0;
        close(fd);
        if (r < 0) {
                snprintf(why, len, "cannot check its netns %s: %s", path, strerror(-r));
                return NETNS_UNKNOWN;
        }
        if ((unsigned long)sf.f_type != NSFS_MAGIC) {
                snprintf(why, len, "its netns %s is no longer a network namespace", path);
                return NETNS_GONE;
        }
        return NETNS_ALIVE;
}

static const struct osn_inv_port *find_port(const struct osn_inventory *inv, const char *name)
{
        for (size_t i = 0; i < inv->n_ports; i++)
                if (streq(inv->ports[i].name, name))
                        return &inv->ports[i];
        return NULL;
}

static json_t *str_or_null(const char *s)
{
        return s && *s ? json_string(s) : json_null();
}

/* One planned removal of an attachment. */
static json_t *attachment_action(const char *network, const char *port, const char *pod_ns,
                                 const char *pod_name, const char *cid, const char *ifname,
                                 const char *netns, const char *reason)
{
        char pod[520] = "";
        if (pod_ns && *pod_ns && pod_name && *pod_name)
                snprintf(pod, sizeof(pod), "%s/%s", pod_ns, pod_name);
        return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:s, s:s}", "object", "attachment",
                         "network", network, "port", port, "pod", str_or_null(pod), "container_id",
                         str_or_null(cid), "interface", str_or_null(ifname), "netns",
                         str_or_null(netns), "reason", reason, "result", "planned");
}

static json_t *network_action(const struct osn_inv_network *n, const char *reason)
{
        return json_pack("{s:s, s:s, s:o, s:s, s:s}", "object", "network", "network", n->name,
                         "switch", str_or_null(n->switch_name), "reason", reason, "result",
                         "planned");
}

static json_t *kept(const char *object, const char *name, const char *reason)
{
        return json_pack("{s:s, s:o, s:s}", "object", object, "name", str_or_null(name), "reason",
                         reason);
}

static bool planned(const json_t *actions, const char *port)
{
        size_t i;
        const json_t *a;
        json_array_foreach(actions, i, a)
        {
                if (streq(json_string_value(json_object_get(a, "port")), port))
                        return true;
        }
        return false;
}

static size_t planned_in(const json_t *actions, const char *network)
{
        size_t i, n = 0;
        const json_t *a;
        json_array_foreach(actions, i, a)
        {
                n += streq(json_string_value(json_object_get(a, "object")), "attachment") &&
                     streq(json_string_value(json_object_get(a, "network")), network);
        }
        return n;
}

static void set_result(json_t *a, const char *result, const char *error)
{
        json_object_set_new(a, "result", json_string(result));
        if (error)
                json_object_set_new(a, "error", json_string(error));
}

/* Deletes a network's switch that had no attachment when it was read,
 * unless its ports changed since.  1 deleted, 0 already gone, -EAGAIN when
 * the guard failed (an attachment arrived). */
/* Whether the switch of 'n' still exists (after its last attachment went). */
static int switch_exists(struct osn_ovsdb *nb, const struct osn_inv_network *n, int64_t deadline)
{
        json_t *ops = json_pack(
            "[{s:s, s:s, s:[o], s:[s]}]", "op", "select", "table", "Logical_Switch", "where",
            osn_ovsdb_cond("_uuid", "==", osn_ovsdb_uuid(n->uuid)), "columns", "_uuid");
        _cleanup_json_ json_t *res = NULL;
        int r = ops ? osn_ovsdb_transact(nb, OSN_NB_DB, ops, deadline, &res, NULL) : -ENOMEM;
        if (r < 0)
                return r;
        return json_array_size(osn_ovsdb_result_rows(res, 0)) > 0;
}

/* The plan: what to remove (actions) and what is left alone and why (kept). */
static int plan(struct osnctl *ctl, const json_t *ifaces, const struct osn_inventory *inv,
                json_t *actions, json_t *keep)
{
        const char *me = ctl->node->node_name;
        size_t i;
        const json_t *row;
        char why[PATH_MAX + 128];

        /* This node's attachments whose pod is gone. */
        json_array_foreach(ifaces, i, row)
        {
                const json_t *ids = json_object_get(row, "external_ids");
                const char *iname = json_string_value(json_object_get(row, "name"));
                const char *net = osn_ovsdb_map_get(ids, OSN_EXT_NETWORK);
                const char *cid = osn_ovsdb_map_get(ids, OSN_EXT_CONTAINER);
                const char *ifn = osn_ovsdb_map_get(ids, OSN_EXT_IFNAME);
                const char *netns = osn_ovsdb_map_get(ids, OSN_EXT_NETNS);
                if (!net || !cid || !ifn) {
                        json_array_append_new(keep,
                                              kept("interface", iname,
                                                   "its external_ids lack osn/container-id or "
                                                   "osn/ifname"));
                        continue;
                }
                _cleanup_free_ char *port = osn_port_name(net, cid, ifn);
                if (!port)
                        return -ENOMEM;
                enum netns_state st = netns_state(netns, why, sizeof(why));
                if (st == NETNS_ALIVE)
                        continue;
                if (st == NETNS_UNKNOWN) {
                        json_array_append_new(keep, kept("attachment", port, why));
                        continue;
                }
                const struct osn_inv_port *p = find_port(inv, port);
                json_array_append_new(
                    actions,
                    attachment_action(net, port,
                                      p ? p->pod_namespace : osn_ovsdb_map_get(ids, OSN_EXT_POD_NS),
                                      p ? p->pod_name : osn_ovsdb_map_get(ids, OSN_EXT_POD_NAME),
                                      cid, ifn, netns, why));
        }

        /* Logical ports that name this node but have no OVS port here. */
        size_t n_orphans = 0;
        for (size_t k = 0; k < inv->n_ports; k++) {
                const struct osn_inv_port *p = &inv->ports[k];
                if (!streq(p->node, me))
                        continue;
                bool local = false;
                json_array_foreach(ifaces, i, row)
                {
                        const json_t *ids = json_object_get(row, "external_ids");
                        local |= streq(osn_ovsdb_map_get(ids, "iface-id"), p->name);
                }
                if (local || planned(actions, p->name))
                        continue;
                if (!ctl->orphans) {
                        n_orphans++;
                        continue;
                }
                json_array_append_new(actions,
                                      attachment_action(p->network, p->name, p->pod_namespace,
                                                        p->pod_name, p->container_id, p->ifname,
                                                        NULL, "no OVS port on this node"));
        }
        if (n_orphans) {
                snprintf(why, sizeof(why),
                         "%zu logical port(s) of this node have no OVS port here (an ADD in "
                         "progress, or a crashed one); osnctl gc --orphans removes them",
                         n_orphans);
                json_array_append_new(keep, kept("orphans", NULL, why));
        }

        /* Networks with no attachment left. */
        for (size_t k = 0; k < inv->n_networks; k++) {
                const struct osn_inv_network *n = &inv->networks[k];
                size_t going = planned_in(actions, n->name);
                if (n->n_attachments > going)
                        continue;
                if (n->n_foreign > 0) {
                        snprintf(why, sizeof(why),
                                 "no attachment left, but its switch holds %zu port(s) osn did "
                                 "not create",
                                 n->n_foreign);
                        json_array_append_new(keep, kept("network", n->name, why));
                        continue;
                }
                json_array_append_new(actions, network_action(n, going ? "its last attachment goes"
                                                                       : "no attachment left"));
        }
        return 0;
}

static int execute(struct osn_ovsdb *nb, struct osn_ovsdb *ovs, const struct osn_inventory *inv,
                   json_t *actions, int64_t deadline, size_t *failures)
{
        size_t i;
        json_t *a;
        /* Attachments first: a network's switch goes with its last one. */
        json_array_foreach(actions, i, a)
        {
                if (!streq(json_string_value(json_object_get(a, "object")), "attachment"))
                        continue;
                struct osn_error err = {0};
                int r = osn_attach_remove(nb, ovs, json_string_value(json_object_get(a, "network")),
                                          json_string_value(json_object_get(a, "port")), deadline,
                                          &err);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        set_result(a, "failed", err.msg[0] ? err.msg : strerror(-r));
                        (*failures)++;
                } else {
                        set_result(a, r > 0 ? "removed" : "already gone", NULL);
                }
        }
        json_array_foreach(actions, i, a)
        {
                if (!streq(json_string_value(json_object_get(a, "object")), "network"))
                        continue;
                const struct osn_inv_network *n =
                    osn_inventory_network(inv, json_string_value(json_object_get(a, "network")));
                struct osn_error err = {0};
                int r;
                size_t k;
                const json_t *b;
                bool stuck = false;
                json_array_foreach(actions, k, b)
                {
                        stuck |= streq(json_string_value(json_object_get(b, "network")),
                                       n ? n->name : NULL) &&
                                 streq(json_string_value(json_object_get(b, "result")), "failed");
                }
                if (stuck) {
                        set_result(a, "kept", "not all of its attachments could be removed");
                        continue;
                }
                if (!n) {
                        r = 0;
                } else if (n->n_attachments > 0) {
                        /* It went with its last attachment, unless a new one
                         * arrived (the guard in osn_nb_remove_port()). */
                        r = switch_exists(nb, n, deadline);
                        if (r >= 0)
                                r = r ? -EAGAIN : 1;
                } else {
                        r = osn_nb_delete_switch_if(nb, n->name, n->uuid, n->ports,
                                                    "osnctl gc: no attachment left", deadline,
                                                    &err);
                }
                if (r == -ENOMEM)
                        return r;
                if (r == -EAGAIN)
                        set_result(a, "kept", "an attachment arrived meanwhile");
                else if (r < 0) {
                        set_result(a, "failed", err.msg[0] ? err.msg : strerror(-r));
                        (*failures)++;
                } else {
                        set_result(a, r > 0 ? "removed" : "already gone", NULL);
                }
        }
        return 0;
}

static void print_text(const json_t *out)
{
        bool dry = json_is_true(json_object_get(out, "dry_run"));
        size_t i, n_att = 0, n_net = 0;
        const json_t *a;
        json_array_foreach(json_object_get(out, "actions"), i, a)
        {
                const char *object = json_string_value(json_object_get(a, "object"));
                const char *result = json_string_value(json_object_get(a, "result"));
                const char *err = json_string_value(json_object_get(a, "error"));
                bool att = streq(object, "attachment");
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
        printf("gc on node %s: %s %zu attachment(s) and %zu network(s)\n",
               json_string_value(json_object_get(out, "node")), dry ? "would remove" : "removed",
               n_att, n_net);
}

int osnctl_gc(struct osnctl *ctl, int argc, char **argv)
{
        if (argc > 0) {
                osnctl_err("gc takes no arguments (see osnctl gc --help)");
                return OSNCTL_USAGE;
        }
        int r = osnctl_load_node(ctl);
        if (r)
                return r;
        int64_t deadline = osnctl_deadline(ctl);
        _cleanup_ovsdb_ struct osn_ovsdb *nb = NULL, *ovs = NULL;
        if ((r = osnctl_connect_ovs(ctl, deadline, &ovs)) ||
            (r = osnctl_connect_nb(ctl, deadline, &nb)))
                return r;

        struct osn_error err = {0};
        _cleanup_json_ json_t *ifaces = NULL;
        _cleanup_inventory_ struct osn_inventory *inv = NULL;
        r = osn_ovs_list_attachments(ovs, NULL, deadline, &ifaces, &err);
        if (r >= 0)
                r = osn_inventory_read(nb, NULL, deadline, &inv, &err);
        if (r < 0) {
                osnctl_err("gc: reading what exists: %s", err.msg[0] ? err.msg : strerror(-r));
                return OSNCTL_PROBLEMS;
        }

        _cleanup_json_ json_t *out =
            json_pack("{s:s, s:b, s:[], s:[]}", "node", ctl->node->node_name, "dry_run",
                      ctl->dry_run, "actions", "kept");
        if (!out)
                return OSNCTL_PROBLEMS;
        json_t *actions = json_object_get(out, "actions"), *keep = json_object_get(out, "kept");
        size_t failures = 0;
        r = plan(ctl, ifaces, inv, actions, keep);
        if (r >= 0 && !ctl->dry_run)
                r = execute(nb, ovs, inv, actions, deadline, &failures);
        if (r < 0) {
                osnctl_err("gc: %s", strerror(-r));
                return OSNCTL_PROBLEMS;
        }
        if (ctl->json)
                osnctl_print_json(out);
        else
                print_text(out);
        return failures ? OSNCTL_PROBLEMS : 0;
}
