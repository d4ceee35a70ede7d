/* remove: see remove.h. */
#include "remove.h"

#include <pthread.h>
#include <stdio.h>

#include "names.h"
#include "netlink.h"
#include "ovn.h"
#include "ovs.h"
#include "txn.h"

/* --- One attachment --- */

struct link_deletion {
        pthread_t thread;
        char name[IFNAMSIZ];
        int r;
        struct osn_error err;
};

static void *delete_link(void *arg)
{
        struct link_deletion *d = arg;
        d->r = osn_link_delete(d->name, &d->err);
        return NULL;
}

int osn_remove_attachment(struct osn_ovsdb *nb, struct osn_ovsdb *ovs, const char *network,
                          const char *port, const char *veth, const char *cid, const char *ifname,
                          unsigned pool_size, int64_t deadline, struct osn_error *err)
{
        char host[IFNAMSIZ];
        if (veth)
                snprintf(host, sizeof(host), "%s", veth);
        else
                osn_attachment_host(network, port, cid, ifname, host);
        int r = osn_ovs_del_port(ovs, host, deadline, err);
        if (r < 0)
                return r;
        /* Deleting the veth waits for an RCU grace period in the kernel
         * (15-25 ms here): a thread has it done while the NB detaches (no
         * frame passes meanwhile: its OVS port is gone). */
        struct link_deletion d = {.r = 0};
        memcpy(d.name, host, sizeof(d.name));
        bool threaded = pthread_create(&d.thread, NULL, delete_link, &d) == 0;
        if (!threaded)
                delete_link(&d);
        r = osn_nb_detach(nb, network, port, cid, pool_size, deadline, err);
        if (threaded)
                pthread_join(d.thread, NULL);
        if (r >= 0 && d.r < 0 && d.r != -ENODEV) {
                *err = d.err;
                return d.r;
        }
        return r;
}

/* --- Records --- */

static void record_clear(struct osn_remove_record *a)
{
        free(a->network);
        free(a->name);
        free(a->reason);
        free(a->error);
        free(a->port);
        free(a->pod);
        free(a->container_id);
        free(a->veth);
        free(a->ifname);
        free(a->netns);
        free(a->node);
        free(a->switch_name);
        for (size_t i = 0; i < a->n_keys; i++)
                free(a->keys[i]);
        free(a->keys);
}

void osn_remove_plan_free(struct osn_remove_plan *plan)
{
        if (!plan)
                return;
        for (size_t i = 0; i < plan->n_actions; i++)
                record_clear(&plan->actions[i]);
        for (size_t i = 0; i < plan->n_kept; i++)
                record_clear(&plan->kept[i]);
        free(plan->actions);
        free(plan->kept);
        free(plan);
}

int osn_remove_plan_new(struct osn_remove_plan **ret)
{
        *ret = calloc(1, sizeof(**ret));
        return *ret ? 0 : -ENOMEM;
}

/* A copy of 's', NULL when it is NULL or empty (not recorded); sets
 * *failed on ENOMEM. */
static char *dup_opt(const char *s, bool *failed)
{
        if (!s || !*s)
                return NULL;
        char *d = strdup(s);
        if (!d)
                *failed = true;
        return d;
}

/* A copy of 's', which must be there. */
static char *dup_req(const char *s, bool *failed)
{
        char *d = s ? strdup(s) : NULL;
        if (!d)
                *failed = true;
        return d;
}

/* Appends a zeroed record of 'object' to the array *v of *n; NULL on
 * ENOMEM. */
static struct osn_remove_record *append(struct osn_remove_record **v, size_t *n,
                                        enum osn_remove_object object)
{
        struct osn_remove_record *a = realloc(*v, (*n + 1) * sizeof(**v));
        if (!a)
                return NULL;
        *v = a;
        a = &a[(*n)++];
        *a = (struct osn_remove_record){.object = object, .result = OSN_REMOVE_PLANNED};
        return a;
}

/* Ends the filling of record 'a' (the last of its array *n): dropped when
 * a copy failed.  0 or -ENOMEM. */
static int done_filling(struct osn_remove_record *a, size_t *n, bool failed)
{
        if (!failed)
                return 0;
        record_clear(a);
        (*n)--;
        return -ENOMEM;
}

static const struct osn_inv_port *find_port(const struct osn_inventory *inv, const char *name)
{
        for (size_t i = 0; i < inv->n_ports; i++)
                if (streq(inv->ports[i].name, name))
                        return &inv->ports[i];
        return NULL;
}

/* One planned removal of an attachment. */
static int attachment_action(struct osn_remove_plan *plan, const char *network, const char *port,
                             const char *pod_ns, const char *pod_name, const char *cid,
                             const char *ifname, const char *netns, const char *node, bool lost,
                             const char *reason)
{
        struct osn_remove_record *a =
            append(&plan->actions, &plan->n_actions, OSN_REMOVE_ATTACHMENT);
        if (!a)
                return -ENOMEM;
        bool failed = false;
        if (pod_ns && *pod_ns && pod_name && *pod_name &&
            asprintf(&a->pod, "%s/%s", pod_ns, pod_name) < 0) {
                a->pod = NULL;
                failed = true;
        }
        a->network = dup_req(network, &failed);
        a->port = dup_req(port, &failed);
        a->container_id = dup_opt(cid, &failed);
        a->ifname = dup_opt(ifname, &failed);
        a->netns = dup_opt(netns, &failed);
        a->node = dup_opt(node, &failed);
        a->node_lost = lost;
        a->reason = dup_req(reason, &failed);
        return done_filling(a, &plan->n_actions, failed);
}

static int network_action(struct osn_remove_plan *plan, const struct osn_inv_network *n,
                          const char *reason)
{
        struct osn_remove_record *a = append(&plan->actions, &plan->n_actions, OSN_REMOVE_NETWORK);
        if (!a)
                return -ENOMEM;
        bool failed = false;
        a->network = dup_req(n->name, &failed);
        a->switch_name = dup_opt(n->switch_name, &failed);
        a->reason = dup_req(reason, &failed);
        a->n_spares = n->n_spares;
        return done_filling(a, &plan->n_actions, failed);
}

/* The removal of the stale keys of a network's pool index. */
static int pool_index_action(struct osn_remove_plan *plan, const struct osn_inv_network *n)
{
        struct osn_remove_record *a =
            append(&plan->actions, &plan->n_actions, OSN_REMOVE_POOL_INDEX);
        if (!a)
                return -ENOMEM;
        bool failed = false;
        a->network = dup_req(n->name, &failed);
        a->switch_name = dup_opt(n->switch_name, &failed);
        a->reason =
            dup_req("index keys osn/spare/<U> of its switch with no spare port U on it", &failed);
        a->keys = calloc(n->n_stale_index ? n->n_stale_index : 1, sizeof(*a->keys));
        failed |= !a->keys;
        for (size_t i = 0; a->keys && i < n->n_stale_index; i++)
                if ((a->keys[a->n_keys] = dup_req(n->stale_index[i], &failed)))
                        a->n_keys++;
        return done_filling(a, &plan->n_actions, failed);
}

/* Something looked at and left alone; the record, or NULL on ENOMEM. */
static struct osn_remove_record *kept(struct osn_remove_plan *plan, enum osn_remove_object object,
                                      const char *name, const char *reason)
{
        struct osn_remove_record *k = append(&plan->kept, &plan->n_kept, object);
        if (!k)
                return NULL;
        bool failed = false;
        k->name = dup_opt(name, &failed);
        k->reason = dup_req(reason, &failed);
        return done_filling(k, &plan->n_kept, failed) < 0 ? NULL : k;
}

/* The action of 'object' of network 'network', or NULL. */
static const struct osn_remove_record *planned_network(const struct osn_remove_plan *plan,
                                                       enum osn_remove_object object,
                                                       const char *network)
{
        for (size_t i = 0; i < plan->n_actions; i++)
                if (plan->actions[i].object == object && streq(plan->actions[i].network, network))
                        return &plan->actions[i];
        return NULL;
}

static bool planned_port(const struct osn_remove_plan *plan, const char *port)
{
        for (size_t i = 0; i < plan->n_actions; i++)
                if (plan->actions[i].object == OSN_REMOVE_ATTACHMENT &&
                    streq(plan->actions[i].port, port))
                        return true;
        return false;
}

static bool kept_network(const struct osn_remove_plan *plan, const char *network)
{
        for (size_t i = 0; i < plan->n_kept; i++)
                if (plan->kept[i].object == OSN_REMOVE_NETWORK &&
                    streq(plan->kept[i].name, network))
                        return true;
        return false;
}

/* The number of attachment actions of 'network'. */
static size_t planned_in(const struct osn_remove_plan *plan, const char *network)
{
        size_t n = 0;
        for (size_t i = 0; i < plan->n_actions; i++)
                n += plan->actions[i].object == OSN_REMOVE_ATTACHMENT &&
                     streq(plan->actions[i].network, network);
        return n;
}

static bool is_valid(const struct osn_remove_req *req, const char *cid, const char *ifname)
{
        for (size_t i = 0; i < req->n_valid; i++)
                if (streq(req->valid[i].container_id, cid) && streq(req->valid[i].ifname, ifname))
                        return true;
        return false;
}

/* A reservation is kept unless asked otherwise; true when 'p' is kept so. */
static int keep_reservation(struct osn_remove_plan *plan, const struct osn_remove_req *req,
                            const struct osn_inv_port *p, bool *ret_kept)
{
        *ret_kept = p && p->reservation && !req->release_reservations;
        if (!*ret_kept)
                return 0;
        return kept(plan, OSN_REMOVE_ATTACHMENT, p->name,
                    "a persistent reservation (osn/reservation=true); "
                    "--release-reservations removes it")
                   ? 0
                   : -ENOMEM;
}

/* LOCAL: this node's attachments, from its OVS interfaces. */
static int plan_local(struct osn_remove_plan *plan, const struct osn_remove_req *req,
                      const json_t *ifaces, const struct osn_inventory *inv)
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
                        if (!kept(plan, OSN_REMOVE_INTERFACE, iname,
                                  "its external_ids lack osn/container-id or osn/ifname"))
                                return -ENOMEM;
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
                                struct osn_remove_record *k =
                                    kept(plan, OSN_REMOVE_ATTACHMENT, port, why);
                                if (!k)
                                        return -ENOMEM;
                                k->netns_unknown = true;
                                continue;
                        }
                }
                const struct osn_inv_port *p = find_port(inv, port);
                bool res;
                if ((r = keep_reservation(plan, req, p, &res)) < 0)
                        return r;
                if (res)
                        continue;
                r = attachment_action(plan, net, port,
                                      p ? p->pod_namespace : osn_ovsdb_map_get(ids, OSN_EXT_POD_NS),
                                      p ? p->pod_name : osn_ovsdb_map_get(ids, OSN_EXT_POD_NAME),
                                      cid, ifn, netns, req->node, false, why);
                if (r < 0)
                        return r;
                /* Its veth, as the interface names it (a warm port's is
                 * named for its spare). */
                struct osn_remove_record *a = &plan->actions[plan->n_actions - 1];
                const char *veth = json_string_value(json_object_get(row, "name"));
                if (veth && !(a->veth = strdup(veth)))
                        return -ENOMEM;
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
                if (local || planned_port(plan, p->name))
                        continue;
                if (!req->orphans) {
                        n_orphans++;
                        continue;
                }
                bool res;
                if ((r = keep_reservation(plan, req, p, &res)) < 0)
                        return r;
                if (res)
                        continue;
                if ((r = attachment_action(plan, p->network, p->name, p->pod_namespace, p->pod_name,
                                           p->container_id, p->ifname, NULL, req->node, false,
                                           "no OVS port on this node")) < 0)
                        return r;
        }
        if (n_orphans) {
                snprintf(why, sizeof(why),
                         "%zu logical port(s) of this node have no OVS port here (an ADD in "
                         "progress, or a crashed one); osnctl gc --orphans removes them",
                         n_orphans);
                if (!kept(plan, OSN_REMOVE_ORPHANS, NULL, why))
                        return -ENOMEM;
        }
        return 0;
}

/* NODE_LOST: every logical port that names the node. */
static int plan_lost(struct osn_remove_plan *plan, const struct osn_remove_req *req,
                     const struct osn_inventory *inv)
{
        _cleanup_free_ char *why = NULL;
        if (asprintf(&why, "node %s is lost%s%s", req->node, req->reason ? ": " : "",
                     req->reason ? req->reason : "") < 0) {
                why = NULL;
                return -ENOMEM;
        }
        for (size_t k = 0; k < inv->n_ports; k++) {
                const struct osn_inv_port *p = &inv->ports[k];
                if (!streq(p->node, req->node) ||
                    (req->network && !streq(p->network, req->network)))
                        continue;
                if (planned_port(plan, p->name))
                        continue;
                bool res;
                int r = keep_reservation(plan, req, p, &res);
                if (r < 0)
                        return r;
                if (res)
                        continue;
                if ((r = attachment_action(plan, p->network, p->name, p->pod_namespace, p->pod_name,
                                           p->container_id, p->ifname, NULL, req->node, true,
                                           why)) < 0)
                        return r;
        }
        return 0;
}

/* --- warm ports --- */

static int warm_action(struct osn_remove_plan *plan, const char *network, const char *port,
                       const char *veth, const char *node, bool release, const char *reason)
{
        struct osn_remove_record *a = append(&plan->actions, &plan->n_actions, OSN_REMOVE_WARM);
        if (!a)
                return -ENOMEM;
        bool failed = false;
        a->network = dup_req(network, &failed);
        a->port = dup_req(port, &failed);
        a->veth = dup_opt(veth, &failed);
        a->node = dup_opt(node, &failed);
        a->release = release;
        a->reason = dup_req(reason, &failed);
        return done_filling(a, &plan->n_actions, failed);
}

/* Whether this node keeps an attachment of 'network' after the plan: one
 * of 'ifaces' that no action removes. */
static bool attached_here(const struct osn_remove_plan *plan, const json_t *ifaces,
                          const char *network)
{
        size_t here = 0;
        const json_t *row;
        size_t i;
        json_array_foreach((json_t *)ifaces, i, row)
        {
                here +=
                    streq(osn_ovsdb_map_get(json_object_get(row, "external_ids"), OSN_EXT_NETWORK),
                          network);
        }
        size_t going = 0;
        for (i = 0; i < plan->n_actions; i++)
                going += plan->actions[i].object == OSN_REMOVE_ATTACHMENT &&
                         !plan->actions[i].node_lost && streq(plan->actions[i].network, network);
        return here > going;
}

static const struct osn_inv_port *find_spare(const struct osn_inventory *inv, const char *name)
{
        for (size_t i = 0; name && i < inv->n_spares; i++)
                if (streq(inv->spares[i].name, name))
                        return &inv->spares[i];
        return NULL;
}

/* LOCAL: the node's warm ports, as its OVS interfaces (req->warm) and the
 * NB's warm spares of this node show them.  *ret_orphans counts the
 * logical ones left for --orphans. */
static int plan_warm_local(struct osn_remove_plan *plan, const struct osn_remove_req *req,
                           const json_t *ifaces, const struct osn_inventory *inv,
                           size_t *ret_orphans)
{
        const json_t *row;
        size_t i;
        int r;
        json_array_foreach((json_t *)req->warm, i, row)
        {
                const json_t *ids = json_object_get(row, "external_ids");
                const char *net = osn_ovsdb_map_get(ids, OSN_EXT_NETWORK);
                const char *port = osn_ovsdb_map_get(ids, "iface-id");
                const char *veth = json_string_value(json_object_get(row, "name"));
                if (!net || !port || !veth || (req->network && !streq(net, req->network)))
                        continue;
                const struct osn_inv_port *sp = find_spare(inv, port);
                bool ours = sp && streq(sp->warm_node, req->node);
                const char *why = !sp     ? "its logical port is gone"
                                  : !ours ? "its logical port is no longer this node's warm spare"
                                  : req->warm_ports == 0 ? "warm_ports is 0 in this node's config"
                                  : !attached_here(plan, ifaces, net)
                                      ? "this node has no attachment of the network left"
                                      : NULL;
                if (why && (r = warm_action(plan, net, port, veth, req->node, ours, why)) < 0)
                        return r;
        }
        for (i = 0; i < inv->n_spares; i++) {
                const struct osn_inv_port *sp = &inv->spares[i];
                if (!streq(sp->warm_node, req->node) ||
                    (req->network && !streq(sp->network, req->network)))
                        continue;
                bool here = false;
                size_t k;
                json_array_foreach((json_t *)req->warm, k, row)
                {
                        here |= streq(
                            osn_ovsdb_map_get(json_object_get(row, "external_ids"), "iface-id"),
                            sp->name);
                }
                if (here)
                        continue;
                const char *why = req->warm_ports == 0 ? "warm_ports is 0 in this node's config"
                                  : !attached_here(plan, ifaces, sp->network)
                                      ? "this node has no attachment of the network left"
                                  : req->orphans ? "no OVS port on this node"
                                                 : NULL;
                if (!why) {
                        (*ret_orphans)++;
                        continue;
                }
                if ((r = warm_action(plan, sp->network, sp->name, NULL, req->node, true, why)) < 0)
                        return r;
        }
        return 0;
}

/* NODE_LOST: the lost node's warm spares, NB only. */
static int plan_warm_lost(struct osn_remove_plan *plan, const struct osn_remove_req *req,
                          const struct osn_inventory *inv)
{
        for (size_t i = 0; i < inv->n_spares; i++) {
                const struct osn_inv_port *sp = &inv->spares[i];
                if (!streq(sp->warm_node, req->node) ||
                    (req->network && !streq(sp->network, req->network)))
                        continue;
                int r = warm_action(plan, sp->network, sp->name, NULL, req->node, true,
                                    "its node is lost");
                if (r < 0)
                        return r;
        }
        return 0;
}

int osn_remove_plan_add(struct osn_remove_plan *plan, const struct osn_remove_req *req,
                        const json_t *ifaces, const struct osn_inventory *inv)
{
        int r = req->mode == OSN_REMOVE_LOCAL ? plan_local(plan, req, ifaces, inv)
                                              : plan_lost(plan, req, inv);
        if (r < 0)
                return r;
        size_t warm_orphans = 0;
        r = req->mode == OSN_REMOVE_LOCAL ? plan_warm_local(plan, req, ifaces, inv, &warm_orphans)
                                          : plan_warm_lost(plan, req, inv);
        if (r < 0)
                return r;
        if (warm_orphans > 0) {
                char w[256];
                snprintf(w, sizeof(w),
                         "%zu warm spare(s) of this node have no OVS port here (an ADD making "
                         "them, or a crashed one); osnctl gc --orphans removes them",
                         warm_orphans);
                if (!kept(plan, OSN_REMOVE_ORPHANS, NULL, w))
                        return -ENOMEM;
        }
        /* Networks with no attachment left. */
        char why[256];
        for (size_t k = 0; k < inv->n_networks; k++) {
                const struct osn_inv_network *n = &inv->networks[k];
                if (req->network && !streq(n->name, req->network))
                        continue;
                size_t going = planned_in(plan, n->name);
                if (n->n_attachments + n->n_reservations > going ||
                    planned_network(plan, OSN_REMOVE_NETWORK, n->name))
                        continue;
                if (n->n_foreign > 0) {
                        snprintf(why, sizeof(why),
                                 "no attachment left, but its switch holds %zu port(s) osn did "
                                 "not create",
                                 n->n_foreign);
                        if (!kept_network(plan, n->name) &&
                            !kept(plan, OSN_REMOVE_NETWORK, n->name, why))
                                return -ENOMEM;
                        continue;
                }
                if (n->n_spares)
                        snprintf(why, sizeof(why), "%s; its %zu spare port(s) go with it",
                                 going ? "its last attachment goes" : "no attachment left",
                                 n->n_spares);
                else
                        snprintf(why, sizeof(why), "%s",
                                 going ? "its last attachment goes" : "no attachment left");
                if ((r = network_action(plan, n, why)) < 0)
                        return r;
        }
        /* Stale pool index keys of the networks that stay. */
        for (size_t k = 0; req->repair_pool_index && k < inv->n_networks; k++) {
                const struct osn_inv_network *n = &inv->networks[k];
                if ((req->network && !streq(n->name, req->network)) || !n->n_stale_index ||
                    planned_network(plan, OSN_REMOVE_NETWORK, n->name) ||
                    planned_network(plan, OSN_REMOVE_POOL_INDEX, n->name))
                        continue;
                if ((r = pool_index_action(plan, n)) < 0)
                        return r;
        }
        return 0;
}

/* --- Execution --- */

/* Sets the outcome of 'a'; 'error' (may be NULL) is copied. */
static void set_result(struct osn_remove_record *a, enum osn_remove_result result,
                       const char *error)
{
        a->result = result;
        if (error) {
                free(a->error);
                a->error = strdup(error);
        }
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
static void record(struct osn_remove_record *a, int r, const struct osn_error *err,
                   const char *kept_why, size_t *failures)
{
        if (r == -EAGAIN && kept_why) {
                set_result(a, OSN_REMOVE_KEPT, kept_why);
        } else if (r < 0) {
                set_result(a, OSN_REMOVE_FAILED, err->msg[0] ? err->msg : strerror(-r));
                (*failures)++;
        } else {
                set_result(a, r > 0 ? OSN_REMOVE_REMOVED : OSN_REMOVE_ALREADY_GONE, NULL);
        }
}

/* After the last attachment of 'n' went, its switch should have gone with
 * it (osn_nb_remove_port() and osn_remove_attachment() delete it when no
 * other attachment is left).  One still there holds a new attachment,
 * which wins (-EAGAIN), or only spares: then it goes as an empty network
 * does, guarded by what is read now.  1 removed, 0 already gone. */
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

/* The JSON array of the 'n' strings 'v'; NULL on ENOMEM. */
static json_t *string_array(char *const *v, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n; i++) {
                if (json_array_append_new(a, json_string(v[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        }
        return a;
}

/* Removes the stale keys of action 'a' from the switch's external_ids,
 * each guarded by "no spare port U exists" (one made or returned meanwhile
 * keeps its key).  1 removed, 0 the switch is gone, -EAGAIN a guard
 * failed. */
static int remove_stale_keys(struct osn_ovsdb *nb, const struct osn_inv_network *n,
                             const struct osn_remove_record *a, int64_t deadline,
                             struct osn_error *err)
{
        static const char *const spare_kv[] = {OSN_EXT_SPARE, "true", NULL};
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        if (!t)
                return -ENOMEM;
        osn_txn_comment(t, "osn gc: stale pool index keys");
        for (size_t i = 0; i < a->n_keys; i++) {
                const char *u = osn_pool_index_uuid(a->keys[i]);
                if (!u)
                        continue; /* no port can have that uuid */
                json_t *where = osn_where_and(
                    osn_where_eq("_uuid", osn_ovsdb_uuid(u)),
                    osn_ovsdb_cond("external_ids", "includes", osn_ovsdb_map(spare_kv)));
                osn_txn_absent(t, "Logical_Switch_Port", where);
        }
        osn_op mutate =
            osn_txn_mutate(t, "Logical_Switch", osn_where_eq("_uuid", osn_ovsdb_uuid(n->uuid)),
                           osn_mutation("external_ids", "delete",
                                        osn_ovsdb_set(string_array(a->keys, a->n_keys))));
        int r = osn_txn_commit(t, nb, deadline, err);
        if (r < 0)
                return r;
        return osn_txn_count(t, mutate) > 0;
}

/* Removes attachment action 'a': a persistent identity's port stays (the
 * other side of a migration, or a reservation), as its DEL leaves it, and
 * this node's pieces go; a lost node's OVS cannot be reached: NB only. */
static int remove_attachment_action(const struct osn_remove_record *a, struct osn_ovsdb *nb,
                                    struct osn_ovsdb *ovs, int64_t deadline, struct osn_error *err)
{
        const char *net = a->network, *port = a->port;
        const char *cid = a->container_id ? a->container_id : "";
        _cleanup_free_ char *id_prefix = osn_identity_port_name(net, "");
        if (!id_prefix)
                return -ENOMEM;
        if (startswith(port, id_prefix)) {
                int r = a->node_lost || !ovs ? 0 : remove_host_side(ovs, port, deadline, err);
                if (r >= 0)
                        r = osn_nb_release_identity(nb, net, port, a->node ? a->node : "", cid,
                                                    deadline, err);
                return r;
        }
        if (a->node_lost || !ovs)
                return osn_nb_remove_port(nb, net, port, deadline, err);
        return osn_remove_attachment(nb, ovs, net, port, a->veth, cid, a->ifname ? a->ifname : "",
                                     0, deadline, err);
}

/* Whether some action of network 'network' failed. */
static bool failed_in(const struct osn_remove_plan *plan, const char *network)
{
        for (size_t i = 0; i < plan->n_actions; i++)
                if (plan->actions[i].result == OSN_REMOVE_FAILED &&
                    streq(plan->actions[i].network, network))
                        return true;
        return false;
}

/* A warm port: its OVS port and veth here (the waiting end goes with the
 * veth), then its logical port when it is still this node's warm spare.
 * 1 when something was removed. */
static int remove_warm_action(const struct osn_remove_record *a, struct osn_ovsdb *nb,
                              struct osn_ovsdb *ovs, int64_t deadline, struct osn_error *err)
{
        int done = 0, r;
        if (a->veth && ovs) {
                if ((r = osn_ovs_del_port(ovs, a->veth, deadline, err)) < 0)
                        return r;
                done |= r > 0;
                done |= osn_link_delete(a->veth, NULL) >= 0;
        }
        if (a->release) {
                if ((r = osn_nb_release_warm(nb, a->network, a->node, a->port, deadline, err)) < 0)
                        return r;
                done |= r > 0;
        }
        return done;
}

/* Carries out every action of 'object' in 'plan' with 'fn', recording
 * each outcome; -ENOMEM stops it. */
static int execute_each(struct osn_remove_plan *plan, enum osn_remove_object object,
                        int (*fn)(const struct osn_remove_record *a, struct osn_ovsdb *nb,
                                  struct osn_ovsdb *ovs, int64_t deadline, struct osn_error *err),
                        struct osn_ovsdb *nb, struct osn_ovsdb *ovs, int64_t deadline,
                        size_t *failures)
{
        for (size_t i = 0; i < plan->n_actions; i++) {
                struct osn_remove_record *a = &plan->actions[i];
                if (a->object != object)
                        continue;
                struct osn_error err = {0};
                int r = fn(a, nb, ovs, deadline, &err);
                if (r == -ENOMEM)
                        return r;
                record(a, r, &err, NULL, failures);
        }
        return 0;
}

int osn_remove_plan_execute(struct osn_remove_plan *plan, struct osn_ovsdb *nb,
                            struct osn_ovsdb *ovs, const struct osn_inventory *inv,
                            int64_t deadline, size_t *failures)
{
        /* Attachments first: a network's switch goes with its last one;
         * then warm ports, whose release may leave a network empty. */
        int done = execute_each(plan, OSN_REMOVE_ATTACHMENT, remove_attachment_action, nb, ovs,
                                deadline, failures);
        if (done < 0 || (done = execute_each(plan, OSN_REMOVE_WARM, remove_warm_action, nb, ovs,
                                             deadline, failures)) < 0)
                return done;
        for (size_t i = 0; i < plan->n_actions; i++) {
                struct osn_remove_record *a = &plan->actions[i];
                if (a->object != OSN_REMOVE_NETWORK)
                        continue;
                const struct osn_inv_network *n = osn_inventory_network(inv, a->network);
                struct osn_error err = {0};
                int r;
                if (n && failed_in(plan, n->name)) {
                        set_result(a, OSN_REMOVE_KEPT,
                                   "not all of its attachments could be removed");
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
        for (size_t i = 0; i < plan->n_actions; i++) {
                struct osn_remove_record *a = &plan->actions[i];
                if (a->object != OSN_REMOVE_POOL_INDEX)
                        continue;
                const struct osn_inv_network *n = osn_inventory_network(inv, a->network);
                struct osn_error err = {0};
                int r = n ? remove_stale_keys(nb, n, a, deadline, &err) : 0;
                if (r == -ENOMEM)
                        return r;
                record(a, r, &err, "a spare of that uuid appeared meanwhile", failures);
        }
        return 0;
}

/* --- As JSON (osnctl gc --json) --- */

const char *osn_remove_result_name(enum osn_remove_result r)
{
        static const char *const names[] = {
            [OSN_REMOVE_PLANNED] = "planned",
            [OSN_REMOVE_REMOVED] = "removed",
            [OSN_REMOVE_ALREADY_GONE] = "already gone",
            [OSN_REMOVE_KEPT] = "kept",
            [OSN_REMOVE_FAILED] = "failed",
        };
        return (size_t)r < ARRAY_SIZE(names) ? names[r] : "?";
}

const char *osn_remove_object_name(enum osn_remove_object o)
{
        static const char *const names[] = {
            [OSN_REMOVE_ATTACHMENT] = "attachment", [OSN_REMOVE_NETWORK] = "network",
            [OSN_REMOVE_POOL_INDEX] = "pool-index", [OSN_REMOVE_INTERFACE] = "interface",
            [OSN_REMOVE_ORPHANS] = "orphans",       [OSN_REMOVE_WARM] = "warm-port",
        };
        return (size_t)o < ARRAY_SIZE(names) ? names[o] : "?";
}

static json_t *str_or_null(const char *s)
{
        return s && *s ? json_string(s) : json_null();
}

static json_t *action_json(const struct osn_remove_record *a)
{
        const char *object = osn_remove_object_name(a->object);
        const char *result = osn_remove_result_name(a->result);
        json_t *j = NULL;
        switch (a->object) {
        case OSN_REMOVE_ATTACHMENT:
                j = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:b, s:s, s:s}", "object",
                              object, "network", a->network, "port", a->port, "pod",
                              str_or_null(a->pod), "container_id", str_or_null(a->container_id),
                              "interface", str_or_null(a->ifname), "netns", str_or_null(a->netns),
                              "node", str_or_null(a->node), "node_lost", a->node_lost, "reason",
                              a->reason, "result", result);
                break;
        case OSN_REMOVE_NETWORK:
                j = json_pack("{s:s, s:s, s:o, s:s, s:I, s:s}", "object", object, "network",
                              a->network, "switch", str_or_null(a->switch_name), "reason",
                              a->reason, "spares", (json_int_t)a->n_spares, "result", result);
                break;
        case OSN_REMOVE_POOL_INDEX: {
                json_t *keys = string_array(a->keys, a->n_keys);
                j = json_pack("{s:s, s:s, s:o, s:o, s:s, s:s}", "object", object, "network",
                              a->network, "switch", str_or_null(a->switch_name), "keys", keys,
                              "reason", a->reason, "result", result);
                break;
        }
        case OSN_REMOVE_WARM:
                j = json_pack("{s:s, s:s, s:s, s:o, s:o, s:b, s:s, s:s}", "object", object,
                              "network", a->network, "port", a->port, "veth", str_or_null(a->veth),
                              "node", str_or_null(a->node), "logical_port", a->release, "reason",
                              a->reason, "result", result);
                break;
        default:
                return NULL;
        }
        if (j && a->error && json_object_set_new(j, "error", json_string(a->error)) < 0) {
                json_decref(j);
                return NULL;
        }
        return j;
}

static json_t *kept_json(const struct osn_remove_record *k)
{
        json_t *j = json_pack("{s:s, s:o, s:s}", "object", osn_remove_object_name(k->object),
                              "name", str_or_null(k->name), "reason", k->reason);
        if (j && k->netns_unknown && json_object_set_new(j, "netns", json_string("unknown")) < 0) {
                json_decref(j);
                return NULL;
        }
        return j;
}

int osn_remove_plan_json(const struct osn_remove_plan *plan, json_t *actions, json_t *kept)
{
        for (size_t i = 0; i < plan->n_actions; i++) {
                json_t *j = action_json(&plan->actions[i]);
                if (!j || json_array_append_new(actions, j) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < plan->n_kept; i++) {
                json_t *j = kept_json(&plan->kept[i]);
                if (!j || json_array_append_new(kept, j) < 0)
                        return -ENOMEM;
        }
        return 0;
}
