/* gcplan: the one planner of every removal of what osn left behind, shared
 * by the plugin's CNI GC (osn_attach_gc()) and `osnctl gc`, and the probe
 * that tells which nodes' ovn-controllers still follow the NB.
 *
 * A plan is JSON, the shape `osnctl gc --json` prints: "actions" (objects
 * "attachment" with network, port, pod, container_id, interface, netns,
 * reason, result; objects "network" with network, switch, spares, reason,
 * result; objects "pool-index" with network, switch, keys, reason, result)
 * and "kept" (object, name, reason: what was looked at and left alone).
 *
 * What a plan removes:
 * - on a live node (OSN_GC_LOCAL), the attachments whose OVS interface on
 *   this node says they are dead: their pod netns is gone, or (CNI GC) the
 *   runtime's valid-attachments list does not name them.  "Gone" is
 *   osn_inv_iface_netns_state()'s, on evidence only: an attachment whose
 *   netns this process cannot check (it does not see the host's
 *   namespaces) goes to "kept" with "netns": "unknown", never to actions.  A logical port of
 *   this node that has no OVS interface here is NOT removed unless
 *   'orphans' is set: between an ADD's NB insert and its OVS plug every
 *   port looks like that, and only an operator can tell a crashed ADD;
 * - for a lost node (OSN_GC_NODE_LOST: its daemons are gone, its OVS DB
 *   cannot be reached), every logical port that names it, NB only;
 * - in both, every osn network this leaves with no attachment (a network
 *   that was already empty too), unless its switch holds ports osn did not
 *   make.  A pool's spares (inventory.h) are not attachments: they never
 *   become attachment actions (nothing plugs them, they name no node), a
 *   network with nothing but spares is empty, and they go with its switch;
 * - with 'repair_pool_index', the stale keys of the pool index of every
 *   network that stays (osn/spare/<U> with no spare port U on its switch).
 * Persistent reservations (logical ports with external_ids
 * osn/reservation=true) are kept unless 'release_reservations'; they hold
 * their network as attachments do (inventory.h: n_reservations).
 *
 * Executing a plan removes each attachment through osn_attach_remove()
 * (live node: OVS port, veth, logical port) or osn_nb_remove_port() (lost
 * node), both of which delete the switch with its last attachment,
 * guarded against a concurrent ADD (a switch still there afterwards with
 * only spares left is deleted as an empty one); an already-empty network
 * goes through osn_nb_delete_switch_if(), guarded by the switch's ports and
 * external_ids as read (a claim changes the pool index, not the ports).
 * A stale index key goes by a mutate of the switch's external_ids, guarded
 * by a wait that no spare port U exists.  Each action gets its "result":
 * removed, already gone, kept (a guard held), failed (+ error).
 *
 * Liveness (OVN's own probe, as `ovn-nbctl --wait=hv sync`): bump
 * NB_Global.nb_cfg; northd copies it to SB_Global, and every live
 * ovn-controller writes it into its Chassis_Private row once its flows are
 * installed.  A chassis that does not within the bound does not follow.
 * When northd itself does not follow, nothing can be concluded and the
 * probe fails (a dead northd must never make every node look lost).
 */
#ifndef OSN_GCPLAN_H
#define OSN_GCPLAN_H

#include "cni.h"
#include "error.h"
#include "inventory.h"
#include "ovsdb.h"
#include "util.h"

enum osn_gc_mode {
        OSN_GC_LOCAL,     /* this node, which is alive */
        OSN_GC_NODE_LOST, /* another node, which is gone */
};

struct osn_gc_req {
        enum osn_gc_mode mode;
        const char *node;    /* the node the plan is about (osn/node) */
        const char *network; /* NULL = every network */
        /* CNI GC: the attachments the runtime still wants; the others on
         * this node are dead.  Without it (osnctl gc), the pod's netns
         * decides. */
        bool have_valid;
        const struct osn_cni_attachment *valid;
        size_t n_valid;
        bool orphans;              /* LOCAL: also NB ports without an OVS port here */
        bool release_reservations; /* also ports with osn/reservation=true */
        bool repair_pool_index;    /* also remove stale pool index keys (osnctl gc) */
        const char *reason;        /* NODE_LOST: why the node counts as lost */
};

/* Adds to 'actions' and 'keep' (JSON arrays) what 'req' removes, from one
 * read of the node's OVS interfaces with osn's ids ('ifaces', as
 * osn_ovs_list_attachments() returns them; NULL for a lost node) and the
 * NB inventory.  Several plans may go into the same arrays (one per lost
 * node); networks are planned once.  0 or -ENOMEM. */
int osn_gc_plan(const struct osn_gc_req *req, const json_t *ifaces, const struct osn_inventory *inv,
                json_t *actions, json_t *keep) _wur_;

/* Carries out 'actions' (results written into them).  'ovs' is NULL when
 * every attachment action is of a lost node.  0 (with *failures counted) or
 * -ENOMEM. */
int osn_gc_execute(struct osn_ovsdb *nb, struct osn_ovsdb *ovs, const struct osn_inventory *inv,
                   json_t *actions, int64_t deadline, size_t *failures) _wur_;

/* The SB remote this node's ovn-controller uses (the local Open_vSwitch
 * row's external_ids:ovn-remote), malloc'd into *ret. */
int osn_gc_sb_remote(struct osn_ovsdb *ovs, int64_t deadline, char **ret, struct osn_error *err)
    _wur_;

/* The liveness probe above, waiting at most 'bound_ms' (and never past
 * 'deadline') for every chassis, or only for node 'node''s when it is not
 * NULL (the others are then reported as they are at that moment).  *ret: {"nb_cfg": N, "chassis":
 * [{"name", "hostname", "nb_cfg", "following"}...]}.  -ETIMEDOUT (and 'err') when northd did not
 * follow within the bound. */
int osn_gc_probe_chassis(struct osn_ovsdb *nb, struct osn_ovsdb *sb, const char *node, int bound_ms,
                         int64_t deadline, json_t **ret, struct osn_error *err) _wur_;

/* Whether node 'node' (an osn/node, matched against Chassis name and
 * hostname) follows in a probe result; a node without a chassis does not. */
bool osn_gc_node_follows(const json_t *probe, const char *node);

#endif
