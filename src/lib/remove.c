/* gcplan: see gcplan.h. */
#include "gcplan.h"

#include <poll.h>
#include <stdio.h>

#include "attach.h"
#include "log.h"
#include "netlink.h"
#include "ovn.h"
#include "ovs.h"

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

/* Appends 'v' (stolen) to 'a'; -ENOMEM when either failed. */
static int push(json_t *a, json_t *v)
{
        return v && json_array_append_new(a, v) == 0 ? 0 : -ENOMEM;
}

/* One planned removal of an attachment. */
static json_t *attachment_action(const char *network, const char *port, const char *pod_ns,
                                 const char *pod_name, const char *cid, const char *ifname,
                                 const char *netns, const char *node, bool lost, const char *reason)
{
        char pod[520] = "";
        if (pod_ns && *pod_ns && pod_name && *pod_name)
                snprintf(pod, sizeof(pod), "%s/%s", pod_ns, pod_name);
        return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:s, s:s}", "object",
                         "attachment", "network", network, "port", port, "pod", str_or_null(pod),
                         "container_id", str_or_null(cid), "interface", str_or_null(ifname),
                         "netns", str_or_null(netns), "node", str_or_null(node), "node_lost", lost,
                         "reason", reason, "result", "planned");
}

static json_t *network_action(const struct osn_inv_network *n, const char *reason)
{
        return json_pack("{s:s, s:s, s:o, s:s, s:I, s:s}", "object", "network", "network", n->name,
                         "switch", str_or_null(n->switch_name), "reason", reason, "spares",
                         (json_int_t)n->n_spares, "result", "planned");
}

/* The removal of the stale keys of a network's pool index. */
static json_t *pool_index_action(const struct osn_inv_network *n)
{
        json_t *keys = json_array();
        for (size_t i = 0; keys && i < n->n_stale_index; i++)
                json_array_append_new(keys, json_string(n->stale_index[i]));
        return json_pack("{s:s, s:s, s:o, s:o, s:s, s:s}", "object", "pool-index", "network",
                         n->name, "switch", str_or_null(n->switch_name), "keys", keys, "reason",
                         "index keys osn/spare/<U> of its switch with no spare port U on it",
                         "result", "planned");
}

static json_t *kept(const char *object, const char *name, const char *reason)
{
        return json_pack("{s:s, s:o, s:s}", "object", object, "name", str_or_null(name), "reason",
                         reason);
}

static bool planned(const json_t *actions, const char *object, const char *key, const char *name)
{
        size_t i;
        const json_t *a;
        json_array_foreach(actions, i, a)
        {
                if (streq(json_string_value(json_object_get(a, "object")), object) &&
                    streq(json_string_value(json_object_get(a, key)), name))
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

static bool is_valid(const struct osn_gc_req *req, const char *cid, const char *ifname)
{
        for (size_t i = 0; i < req->n_valid; i++)
                if (streq(req->valid[i].container_id, cid) && streq(req->valid[i].ifname, ifname))
                        return true;
        return false;
}

/* A reservation is kept unless asked otherwise; true when 'p' is kept so. */
static int keep_reservation(const struct osn_gc_req *req, const struct osn_inv_port *p,
                            json_t *keep, bool *ret_kept)
{
        *ret_kept = p && p->reservation && !req->release_reservations;
        if (!*ret_kept)
                return 0;
        return push(keep, kept("attachment", p->name,
                               "a persistent reservation (osn/reservation=true); "
                               "--release-reservations removes it"));
}

/* LOCAL: this node's attachments, from its OVS interfaces. */
static int plan_local(const struct osn_gc_req *req, const json_t *ifaces,
                      const struct osn_inventory *inv, json_t *actions, json_t *keep)
{
        size_t i;
        const json_t *row;
        char why[PATH_MAX + 128];
        int r;
        json_array_foreach(ifaces, i, row)
        {
                const json_t *ids = json_object_get(row, "external_ids");
                const char *iname = json_string_value(json_object_get(row, "name"));
                const char *net = osn_ovsdb_map_get(ids, OSN_EXT_NETWORK);
                const char *cid = osn_ovsdb_map_get(ids, OSN_EXT_CONTAINER);
                const char *ifn = osn_ovsdb_map_get(ids, OSN_EXT_IFNAME);
                const char *netns = osn_ovsdb_map_get(ids, OSN_EXT_NETNS);
                if (req->network && !streq(net, req->network))
                        continue;
                if (!net || !cid || !ifn) {
                        if ((r = push(keep, kept("interface", iname,
                                                 "its external_ids lack osn/container-id or "
                                                 "osn/ifname"))) < 0)
                                return r;
                        continue;
                }
                /* The port's own name: a persistent identity's is not made
                 * of the container id. */
                const char *iface_id = osn_ovsdb_map_get(ids, "iface-id");
                _cleanup_free_ char *port =
                    iface_id ? strdup(iface_id) : osn_port_name(net, cid, ifn);
                if (!port)
                        return -ENOMEM;
                if (req->have_valid) {
                        if (is_valid(req, cid, ifn))
                                continue;
                        snprintf(why, sizeof(why), "not among the runtime's valid attachments");
                } else {
                        enum osn_netns_state st = osn_inv_iface_netns_state(row, why, sizeof(why));
                        if (st == OSN_NETNS_ALIVE)
                                continue;
                        if (st == OSN_NETNS_UNKNOWN) {
                                /* No deletion on missing evidence. */
                                json_t *k = kept("attachment", port, why);
                                if (k)
                                        json_object_set_new(k, "netns", json_string("unknown"));
                                if ((r = push(keep, k)) < 0)
                                        return r;
                                continue;
                        }
                }
                const struct osn_inv_port *p = find_port(inv, port);
                bool res;
                if ((r = keep_reservation(req, p, keep, &res)) < 0)
                        return r;
                if (res)
                        continue;
                r = push(actions, attachment_action(
                                      net, port,
                                      p ? p->pod_namespace : osn_ovsdb_map_get(ids, OSN_EXT_POD_NS),
                                      p ? p->pod_name : osn_ovsdb_map_get(ids, OSN_EXT_POD_NAME),
                                      cid, ifn, netns, req->node, false, why));
                if (r < 0)
                        return r;
        }

        /* Logical ports that name this node but have no OVS port here. */
        size_t n_orphans = 0;
        for (size_t k = 0; k < inv->n_ports; k++) {
                const struct osn_inv_port *p = &inv->ports[k];
                if (!streq(p->node, req->node) ||
                    (req->network && !streq(p->network, req->network)))
                        continue;
                bool local = false;
                json_array_foreach(ifaces, i, row)
                {
                        const json_t *ids = json_object_get(row, "external_ids");
                        local |= streq(osn_ovsdb_map_get(ids, "iface-id"), p->name);
                }
                if (local || planned(actions, "attachment", "port", p->name))
                        continue;
                if (!req->orphans) {
                        n_orphans++;
                        continue;
                }
                bool res;
                if ((r = keep_reservation(req, p, keep, &res)) < 0)
                        return r;
                if (res)
                        continue;
                if ((r = push(actions,
                              attachment_action(p->network, p->name, p->pod_namespace, p->pod_name,
                                                p->container_id, p->ifname, NULL, req->node, false,
                                                "no OVS port on this node"))) < 0)
                        return r;
        }
        if (n_orphans) {
                snprintf(why, sizeof(why),
                         "%zu logical port(s) of this node have no OVS port here (an ADD in "
                         "progress, or a crashed one); osnctl gc --orphans removes them",
                         n_orphans);
                if ((r = push(keep, kept("orphans", NULL, why))) < 0)
                        return r;
        }
        return 0;
}

/* NODE_LOST: every logical port that names the node. */
static int plan_lost(const struct osn_gc_req *req, const struct osn_inventory *inv, json_t *actions,
                     json_t *keep)
{
        char why[512];
        snprintf(why, sizeof(why), "node %s is lost%s%s", req->node, req->reason ? ": " : "",
                 req->reason ? req->reason : "");
        for (size_t k = 0; k < inv->n_ports; k++) {
                const struct osn_inv_port *p = &inv->ports[k];
                if (!streq(p->node, req->node) ||
                    (req->network && !streq(p->network, req->network)))
                        continue;
                if (planned(actions, "attachment", "port", p->name))
                        continue;
                bool res;
                int r = keep_reservation(req, p, keep, &res);
                if (r < 0)
                        return r;
                if (res)
                        continue;
                if ((r = push(actions, attachment_action(p->network, p->name, p->pod_namespace,
                                                         p->pod_name, p->container_id, p->ifname,
                                                         NULL, req->node, true, why))) < 0)
                        return r;
        }
        return 0;
}

int osn_gc_plan(const struct osn_gc_req *req, const json_t *ifaces, const struct osn_inventory *inv,
                json_t *actions, json_t *keep)
{
        int r = req->mode == OSN_GC_LOCAL ? plan_local(req, ifaces, inv, actions, keep)
                                          : plan_lost(req, inv, actions, keep);
        if (r < 0)
                return r;
        /* Networks with no attachment left. */
        char why[256];
        for (size_t k = 0; k < inv->n_networks; k++) {
                const struct osn_inv_network *n = &inv->networks[k];
                if (req->network && !streq(n->name, req->network))
                        continue;
                size_t going = planned_in(actions, n->name);
                if (n->n_attachments + n->n_reservations > going ||
                    planned(actions, "network", "network", n->name))
                        continue;
                if (n->n_foreign > 0) {
                        snprintf(why, sizeof(why),
                                 "no attachment left, but its switch holds %zu port(s) osn did "
                                 "not create",
                                 n->n_foreign);
                        if (!planned(keep, "network", "name", n->name) &&
                            (r = push(keep, kept("network", n->name, why))) < 0)
                                return r;
                        continue;
                }
                if (n->n_spares)
                        snprintf(why, sizeof(why), "%s; its %zu spare port(s) go with it",
                                 going ? "its last attachment goes" : "no attachment left",
                                 n->n_spares);
                else
                        snprintf(why, sizeof(why), "%s",
                                 going ? "its last attachment goes" : "no attachment left");
                if ((r = push(actions, network_action(n, why))) < 0)
                        return r;
        }
        /* Stale pool index keys of the networks that stay. */
        for (size_t k = 0; req->repair_pool_index && k < inv->n_networks; k++) {
                const struct osn_inv_network *n = &inv->networks[k];
                if ((req->network && !streq(n->name, req->network)) || !n->n_stale_index ||
                    planned(actions, "network", "network", n->name) ||
                    planned(actions, "pool-index", "network", n->name))
                        continue;
                if ((r = push(actions, pool_index_action(n))) < 0)
                        return r;
        }
        return 0;
}

static void set_result(json_t *a, const char *result, const char *error)
{
        json_object_set_new(a, "result", json_string(result));
        if (error)
                json_object_set_new(a, "error", json_string(error));
}

/* The host side of an attachment on this node, named after 'port'
 * (osn_host_ifname()): its OVS port, then its veth (gone with the pod's
 * netns, as a rule; a failure there is no failure of the removal). */
static int remove_host_side(struct osn_ovsdb *ovs, const char *port, int64_t deadline,
                            struct osn_error *err)
{
        char host[IFNAMSIZ];
        osn_host_ifname(port, host);
        int r = osn_ovs_del_port(ovs, host, deadline, err);
        if (r >= 0)
                (void)osn_link_delete(host, NULL);
        return r < 0 ? r : 0;
}

/* Writes the outcome 'r' of action 'a' into it: removed (r > 0), already
 * gone (0), kept because a guard held (-EAGAIN, when 'kept_why' says why),
 * else failed (counted in *failures). */
static void record(json_t *a, int r, const struct osn_error *err, const char *kept_why,
                   size_t *failures)
{
        if (r == -EAGAIN && kept_why) {
                set_result(a, "kept", kept_why);
        } else if (r < 0) {
                set_result(a, "failed", err->msg[0] ? err->msg : strerror(-r));
                (*failures)++;
        } else {
                set_result(a, r > 0 ? "removed" : "already gone", NULL);
        }
}

/* After the last attachment of 'n' went, its switch should have gone with
 * it (osn_nb_remove_port() and osn_attach_remove() delete it when no other
 * attachment is left).  One still there holds a new attachment, which
 * wins (-EAGAIN), or only spares: then it goes as an empty network does,
 * guarded by what is read now.  1 removed, 0 already gone. */
static int delete_if_empty(struct osn_ovsdb *nb, const struct osn_inv_network *n, int64_t deadline,
                           struct osn_error *err)
{
        struct osn_inv_filter f = {.network = n->name};
        _cleanup_inventory_ struct osn_inventory *now = NULL;
        int r = osn_inventory_read(nb, &f, deadline, &now, err);
        if (r < 0)
                return r;
        const struct osn_inv_network *m = osn_inventory_network(now, n->name);
        if (!m || !streq(m->uuid, n->uuid))
                return 1; /* gone with its last attachment */
        if (m->n_attachments + m->n_reservations > 0 || m->n_foreign > 0)
                return -EAGAIN;
        return osn_nb_delete_switch_if(nb, m->name, m->uuid, m->ports, m->external_ids,
                                       "osn gc: no attachment left", deadline, err);
}

/* Removes the stale keys of action 'a' from the switch's external_ids,
 * each guarded by "no spare port U exists" (one made or returned meanwhile
 * keeps its key).  1 removed, 0 the switch is gone, -EAGAIN a guard
 * failed. */
static int remove_stale_keys(struct osn_ovsdb *nb, const struct osn_inv_network *n, const json_t *a,
                             int64_t deadline, struct osn_error *err)
{
        static const char *const spare_kv[] = {OSN_EXT_SPARE, "true", NULL};
        const json_t *keys = json_object_get(a, "keys");
        json_t *ops =
            json_pack("[{s:s, s:s}]", "op", "comment", "comment", "osn gc: stale pool index keys");
        size_t i;
        const json_t *k;
        json_array_foreach(keys, i, k)
        {
                const char *u = json_string_value(k) + strlen(OSN_EXT_SPARE_INDEX);
                if (!ops || !osn_ovsdb_is_uuid(u))
                        continue; /* no port can have that uuid */
                json_t *where =
                    json_pack("[o, o]", osn_ovsdb_cond("_uuid", "==", osn_ovsdb_uuid(u)),
                              osn_ovsdb_cond("external_ids", "includes", osn_ovsdb_map(spare_kv)));
                json_array_append_new(ops, json_pack("{s:s, s:s, s:o, s:[s], s:s, s:[], s:i}", "op",
                                                     "wait", "table", "Logical_Switch_Port",
                                                     "where", where, "columns", "name", "until",
                                                     "==", "rows", "timeout", 0));
        }
        size_t mutate = json_array_size(ops);
        if (ops)
                json_array_append_new(
                    ops,
                    json_pack("{s:s, s:s, s:[o], s:[[s, s, o]]}", "op", "mutate", "table",
                              "Logical_Switch", "where",
                              osn_ovsdb_cond("_uuid", "==", osn_ovsdb_uuid(n->uuid)), "mutations",
                              "external_ids", "delete", osn_ovsdb_set(json_deep_copy(keys))));
        if (!ops || json_array_size(ops) != mutate + 1) {
                json_decref(ops);
                return -ENOMEM;
        }
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(nb, OSN_NB_DB, ops, deadline, &res, err);
        if (r < 0)
                return r;
        return json_integer_value(json_object_get(json_array_get(res, mutate), "count")) > 0;
}

int osn_gc_execute(struct osn_ovsdb *nb, struct osn_ovsdb *ovs, const struct osn_inventory *inv,
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
                const char *net = json_string_value(json_object_get(a, "network"));
                const char *port = json_string_value(json_object_get(a, "port"));
                bool lost = json_is_true(json_object_get(a, "node_lost"));
                /* A persistent identity's port stays (the other side of a
                 * migration, or a reservation), as its DEL leaves it; this
                 * node's pieces go.  A lost node's OVS cannot be reached:
                 * NB only. */
                _cleanup_free_ char *id_prefix = osn_identity_port_name(net ? net : "", "");
                const char *node = json_string_value(json_object_get(a, "node"));
                const char *cid = json_string_value(json_object_get(a, "container_id"));
                int r;
                if (!id_prefix || !port) {
                        r = -ENOMEM;
                } else if (startswith(port, id_prefix)) {
                        r = lost || !ovs ? 0 : remove_host_side(ovs, port, deadline, &err);
                        if (r >= 0)
                                r = osn_nb_release_identity(nb, net, port, node ? node : "",
                                                            cid ? cid : "", deadline, &err);
                } else if (lost || !ovs) {
                        r = osn_nb_remove_port(nb, net, port, deadline, &err);
                } else {
                        const char *ifn = json_string_value(json_object_get(a, "interface"));
                        r = osn_attach_remove(nb, ovs, net, port, cid ? cid : "", ifn ? ifn : "", 0,
                                              deadline, &err);
                }
                if (r == -ENOMEM)
                        return r;
                record(a, r, &err, NULL, failures);
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
                } else if (n->n_attachments + n->n_reservations > 0) {
                        r = delete_if_empty(nb, n, deadline, &err);
                } else {
                        /* Guarded by its ports and its external_ids: a
                         * claimed spare changes the pool index, not the
                         * ports. */
                        r = osn_nb_delete_switch_if(nb, n->name, n->uuid, n->ports, n->external_ids,
                                                    "osn gc: no attachment left", deadline, &err);
                }
                if (r == -ENOMEM)
                        return r;
                record(a, r, &err, "an attachment arrived meanwhile (or its pool changed)",
                       failures);
        }
        json_array_foreach(actions, i, a)
        {
                if (!streq(json_string_value(json_object_get(a, "object")), "pool-index"))
                        continue;
                const struct osn_inv_network *n =
                    osn_inventory_network(inv, json_string_value(json_object_get(a, "network")));
                struct osn_error err = {0};
                int r = n ? remove_stale_keys(nb, n, a, deadline, &err) : 0;
                if (r == -ENOMEM)
                        return r;
                record(a, r, &err, "a spare of that uuid appeared meanwhile", failures);
        }
        return 0;
}

/* --- Liveness --- */

int osn_gc_sb_remote(struct osn_ovsdb *ovs, int64_t deadline, char **ret, struct osn_error *err)
{
        json_t *ops = json_pack("[{s:s, s:s, s:[], s:[s]}]", "op", "select", "table",
                                "Open_vSwitch", "where", "columns", "external_ids");
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(ovs, OSN_OVS_DB, ops, deadline, &res, err);
        if (r < 0)
                return r;
        const char *remote = osn_ovsdb_map_get(
            json_object_get(json_array_get(osn_ovsdb_result_rows(res, 0), 0), "external_ids"),
            "ovn-remote");
        if (!remote || !*remote)
                return osn_error_set(err, -ENOENT, OSN_CNI_INVALID_CONFIG,
                                     "the local Open_vSwitch row has no external_ids:ovn-remote "
                                     "(where ovn-controller finds the SB DB)");
        *ret = strdup(remote);
        return *ret ? 0 : -ENOMEM;
}

/* nb_cfg of every Chassis_Private row in 'rows' (monitor contents, by
 * uuid) into 'state' (uuid -> {name, chassis, nb_cfg}); updates merge. */
static void track_chassis(json_t *state, const json_t *tu)
{
        const char *uuid;
        json_t *upd;
        json_object_foreach(json_object_get(tu, "Chassis_Private"), uuid, upd)
        {
                if (json_object_get(upd, "delete")) {
                        json_object_del(state, uuid);
                        continue;
                }
                const json_t *v = json_object_get(upd, "initial");
                if (!v)
                        v = json_object_get(upd, "insert");
                if (!v)
                        v = json_object_get(upd, "modify");
                json_t *cur = json_object_get(state, uuid);
                if (!cur) {
                        cur = json_object();
                        if (!cur || json_object_set_new(state, uuid, cur) < 0)
                                continue;
                }
                const char *key;
                json_t *val;
                json_object_foreach((json_t *)v, key, val) json_object_set(cur, key, val);
        }
}

/* The hostname of chassis 'name' in a select of Chassis (name, hostname). */
static const char *hostname_of(const json_t *chassis_rows, const char *name)
{
        size_t i;
        const json_t *row;
        json_array_foreach(chassis_rows, i, row)
        {
                if (streq(json_string_value(json_object_get(row, "name")), name))
                        return json_string_value(json_object_get(row, "hostname"));
        }
        return NULL;
}

/* Whether the probe is over: northd passed 'want' on and every chassis
 * (or, with 'node', that node's chassis) reported it. */
static bool done(const json_t *state, const json_t *chassis_rows, const char *node, json_int_t want,
                 json_int_t sb_cfg)
{
        if (sb_cfg < want)
                return false;
        const char *uuid;
        json_t *c;
        json_object_foreach((json_t *)state, uuid, c)
        {
                const char *name = json_string_value(json_object_get(c, "name"));
                bool follows = json_integer_value(json_object_get(c, "nb_cfg")) >= want;
                if (node && (streq(name, node) || streq(hostname_of(chassis_rows, name), node)))
                        return follows;
                if (!node && !follows)
                        return false;
        }
        return !node;
}

static json_int_t sb_global_cfg(const json_t *tu, json_int_t cur)
{
        const char *uuid;
        json_t *upd;
        json_object_foreach(json_object_get(tu, "SB_Global"), uuid, upd)
        {
                const json_t *v = json_object_get(upd, "initial");
                if (!v)
                        v = json_object_get(upd, "insert");
                if (!v)
                        v = json_object_get(upd, "modify");
                const json_t *n = json_object_get(v, "nb_cfg");
                if (json_is_integer(n))
                        cur = json_integer_value(n);
        }
        return cur;
}

int osn_gc_probe_chassis(struct osn_ovsdb *nb, struct osn_ovsdb *sb, const char *node, int bound_ms,
                         int64_t deadline, json_t **ret, struct osn_error *err)
{
        int64_t until = osn_now_ms() + bound_ms;
        if (until > deadline)
                until = deadline;
        /* Watch first, then bump: no answer can be missed. */
        _cleanup_json_ json_t *state = json_object(), *init = NULL, *ginit = NULL;
        if (!state)
                return -ENOMEM;
        int r = osn_ovsdb_monitor_cond(sb, "OVN_Southbound", "osn-chassis", "Chassis_Private", NULL,
                                       (const char *const[]){"name", "nb_cfg", NULL}, deadline,
                                       &init, err);
        if (r >= 0)
                r = osn_ovsdb_monitor_cond(sb, "OVN_Southbound", "osn-sbglobal", "SB_Global", NULL,
                                           (const char *const[]){"nb_cfg", NULL}, deadline, &ginit,
                                           err);
        if (r < 0)
                return r;
        track_chassis(state, init);
        json_int_t sb_cfg = sb_global_cfg(ginit, -1);
        /* Chassis names and hostnames (a node is either). */
        json_t *cops = json_pack("[{s:s, s:s, s:[], s:[s, s]}]", "op", "select", "table", "Chassis",
                                 "where", "columns", "name", "hostname");
        _cleanup_json_ json_t *cres = NULL;
        if ((r = osn_ovsdb_transact(sb, "OVN_Southbound", cops, deadline, &cres, err)) < 0)
                return r;
        const json_t *chassis_rows = osn_ovsdb_result_rows(cres, 0);

        json_t *ops =
            json_pack("[{s:s, s:s, s:[], s:[[s, s, i]]}, {s:s, s:s, s:[], s:[s]}]", "op", "mutate",
                      "table", "NB_Global", "where", "mutations", "nb_cfg", "+=", 1, "op", "select",
                      "table", "NB_Global", "where", "columns", "nb_cfg");
        _cleanup_json_ json_t *res = NULL;
        if ((r = osn_ovsdb_transact(nb, OSN_NB_DB, ops, deadline, &res, err)) < 0)
                return r;
        json_int_t want = json_integer_value(
            json_object_get(json_array_get(osn_ovsdb_result_rows(res, 1), 0), "nb_cfg"));

        while (!done(state, chassis_rows, node, want, sb_cfg) && osn_now_ms() < until) {
                /* Both monitors share the connection: wait for either. */
                _cleanup_json_ json_t *tu = NULL;
                r = osn_ovsdb_wait_update(sb, "osn-chassis",
                                          until < osn_now_ms() + 50 ? until : osn_now_ms() + 50,
                                          &tu, NULL);
                if (r >= 0)
                        track_chassis(state, tu);
                else if (r != -ETIMEDOUT)
                        return osn_error_set(err, r, OSN_CNI_TRY_AGAIN_LATER,
                                             "SB %s: lost while probing chassis",
                                             osn_ovsdb_remote(sb));
                json_t *g;
                while (osn_ovsdb_wait_update(sb, "osn-sbglobal", osn_now_ms(), &g, NULL) >= 0) {
                        sb_cfg = sb_global_cfg(g, sb_cfg);
                        json_decref(g);
                }
        }
        if (sb_cfg < want)
                return osn_error_set(err, -ETIMEDOUT, OSN_CNI_TRY_AGAIN_LATER,
                                     "ovn-northd did not pass NB_Global.nb_cfg %lld on to the SB "
                                     "within %d ms: cannot tell which nodes follow",
                                     (long long)want, bound_ms);

        json_t *out = json_pack("{s:I, s:[]}", "nb_cfg", want, "chassis");
        if (!out)
                return -ENOMEM;
        json_t *list = json_object_get(out, "chassis");
        const char *uuid;
        json_t *c;
        json_object_foreach(state, uuid, c)
        {
                const char *name = json_string_value(json_object_get(c, "name"));
                const char *host = hostname_of(chassis_rows, name);
                json_int_t cfg = json_integer_value(json_object_get(c, "nb_cfg"));
                json_array_append_new(
                    list, json_pack("{s:o, s:o, s:I, s:b}", "name", str_or_null(name), "hostname",
                                    str_or_null(host), "nb_cfg", cfg, "following", cfg >= want));
        }
        log_debug("chassis probe: nb_cfg %lld, %zu chassis", (long long)want,
                  json_array_size(list));
        *ret = out;
        return 0;
}

bool osn_gc_node_follows(const json_t *probe, const char *node)
{
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(probe, "chassis"), i, c)
        {
                if ((streq(json_string_value(json_object_get(c, "name")), node) ||
                     streq(json_string_value(json_object_get(c, "hostname")), node)) &&
                    json_is_true(json_object_get(c, "following")))
                        return true;
        }
        return false;
}
