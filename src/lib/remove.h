/* remove: every removal of what osn made, in one room below the verbs.
 *
 * Two things live here:
 * - osn_remove_attachment(): one attachment of this node, by its port name
 *   (OVS port, veth, logical port, and the switch with the last
 *   attachment).  DEL (attach.c), CNI GC and `osnctl gc` all remove an
 *   attachment through it.
 * - the one planner of what osn left behind, shared by the plugin's CNI GC
 *   (osn_attach_gc()) and `osnctl gc`, and the executor of its plans.
 *
 * A plan is typed records (struct osn_remove_record): the actions (an attachment,
 * a network, a network's stale pool index keys), each with its result once
 * executed, and what was looked at and left alone (kept), each with the
 * reason.  osn_remove_plan_json() renders them in the shape `osnctl gc
 * --json` prints: "actions" (objects "attachment" with network, port, pod,
 * container_id, interface, netns, node, node_lost, reason, result; objects
 * "network" with network, switch, reason, spares, result; objects
 * "pool-index" with network, switch, keys, reason, result; "error" after
 * the result when there is one) and "kept" (object, name, reason; "netns":
 * "unknown" for an attachment whose netns cannot be checked).
 *
 * What a plan removes:
 * - on a live node (OSN_REMOVE_LOCAL), the attachments whose OVS interface
 *   on this node says they are dead: their pod netns is gone, or (CNI GC)
 *   the runtime's valid-attachments list does not name them.  "Gone" is
 *   osn_inv_iface_netns_state()'s, on evidence only: an attachment whose
 *   netns this process cannot check (it does not see the host's
 *   namespaces) is kept with netns_unknown, never an action.  A logical
 *   port of this node that has no OVS interface here is NOT removed unless
 *   'orphans' is set: between an ADD's NB insert and its OVS plug every
 *   port looks like that, and only an operator can tell a crashed ADD;
 * - for a lost node (OSN_REMOVE_NODE_LOST: its daemons are gone, its OVS
 *   DB cannot be reached), every logical port that names it, NB only;
 * - in both, every osn network this leaves with no attachment (a network
 *   that was already empty too), unless its switch holds ports osn did not
 *   make.  A pool's spares (inventory.h) are not attachments: they never
 *   become attachment actions (nothing plugs them, they name no node), a
 *   network with nothing but spares is empty, and they go with its switch;
 * - warm ports (attach.h, "Warm ports", objects "warm-port" with network,
 *   port, veth, node, reason, result): on a live node, one whose logical
 *   port is gone or no longer this node's warm spare (here only), and,
 *   when the node has no attachment of the network left (or with
 *   'orphans', one without its OVS port here; or when 'warm_ports' is 0),
 *   this node's warm spares
 *   (the logical port, and its OVS port and veth here); for a lost node,
 *   its warm spares (NB only).  A logical warm spare of this node without
 *   an OVS port here while the node has attachments of the network is
 *   counted with the orphans (an ADD's tail may be making it);
 * - with 'repair_pool_index', the stale keys of the pool index of every
 *   network that stays (names.h: osn_pool_index_uuid()).
 * Persistent reservations (logical ports with external_ids
 * osn/reservation=true) are kept unless 'release_reservations'; they hold
 * their network as attachments do (inventory.h: n_reservations).
 *
 * Executing a plan removes each attachment through osn_remove_attachment()
 * (live node: OVS port, veth, logical port) or osn_nb_remove_port() (lost
 * node), both of which delete the switch with its last attachment,
 * guarded against a concurrent ADD (a switch still there afterwards with
 * only spares left is deleted as an empty one); an already-empty network
 * goes through osn_nb_delete_switch_if(), guarded by the switch's ports and
 * external_ids as read (a claim changes the pool index, not the ports).
 * A stale index key goes by a mutate of the switch's external_ids, guarded
 * by a wait that no spare port U exists.  Each action gets its result:
 * removed, already gone, kept (a guard held; 'error' says why), failed
 * ('error').
 *
 * Ownership: a plan owns every string in its records (copied from the
 * inventory and the OVS rows it was made from); osn_remove_plan_free()
 * (accepts NULL) frees them.
 */
#ifndef OSN_REMOVE_H
#define OSN_REMOVE_H

#include "cni.h"
#include "error.h"
#include "inventory.h"
#include "ovsdb.h"
#include "util.h"

struct osn_ovsdb;

/* Removes one attachment of this node by its OVN port name (the OVS
 * iface-id) and its container id and interface: its OVS port, its veth
 * (and so the pod end; names.h: osn_attachment_host()), its logical port
 * (a claimed spare goes back to a pool shorter than 'pool_size', else is
 * removed too; only while it is still this container's), and the
 * network's switch when it was the last attachment (the veth is deleted by
 * a thread while the NB detaches: the kernel's wait for it overlaps the
 * round trips).  Returns 1 when the
 * logical port was there, 0 when it was already gone; what is already gone
 * is no error.  'veth': the host end's name when known (the OVS interface's:
 * a warm port's is its spare's), NULL to derive it. */
int osn_remove_attachment(struct osn_ovsdb *nb, struct osn_ovsdb *ovs, const char *network,
                          const char *port, const char *veth, const char *cid, const char *ifname,
                          unsigned pool_size, int64_t deadline, struct osn_error *err) _wur_;

enum osn_remove_mode {
        OSN_REMOVE_LOCAL,     /* this node, which is alive */
        OSN_REMOVE_NODE_LOST, /* another node, which is gone */
};

struct osn_remove_req {
        enum osn_remove_mode mode;
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
        const json_t *warm;        /* LOCAL: the node's warm ports (osn_ovs_list_warm()), or NULL */
        unsigned warm_ports;       /* LOCAL: the node config's (0: every warm port goes) */
        const char *reason;        /* NODE_LOST: why the node counts as lost */
};

/* What a record is about.  Actions are attachments, networks and pool
 * indexes; kept records may also be an OVS interface (its ids are not
 * osn's whole set) or the count of orphans left alone. */
enum osn_remove_object {
        OSN_REMOVE_ATTACHMENT,
        OSN_REMOVE_NETWORK,
        OSN_REMOVE_POOL_INDEX,
        OSN_REMOVE_INTERFACE,
        OSN_REMOVE_ORPHANS,
        OSN_REMOVE_WARM,
};

enum osn_remove_result {
        OSN_REMOVE_PLANNED,
        OSN_REMOVE_REMOVED,
        OSN_REMOVE_ALREADY_GONE,
        OSN_REMOVE_KEPT,
        OSN_REMOVE_FAILED,
};

struct osn_remove_record {
        enum osn_remove_object object;
        enum osn_remove_result result; /* actions only */
        char *network;                 /* actions: the network's key */
        char *name;                    /* kept: what was left alone (may be NULL) */
        char *reason;                  /* why planned, or why kept */
        char *error;                   /* FAILED: what failed; KEPT: which guard held */
        /* OSN_REMOVE_ATTACHMENT (NULL when not recorded) */
        char *port, *pod, *container_id, *ifname, *netns, *node;
        char *veth;         /* its host end, as its OVS interface names it (or NULL);
                             * WARM: its OVS port here (NULL: none here) */
        bool release;       /* WARM: its logical port goes too (it is still this node's) */
        bool node_lost;     /* NB only: its node's OVS cannot be reached */
        bool netns_unknown; /* kept: its netns cannot be checked from here */
        /* OSN_REMOVE_NETWORK and OSN_REMOVE_POOL_INDEX */
        char *switch_name;
        size_t n_spares; /* NETWORK: the spares that go with its switch */
        char **keys;     /* POOL_INDEX: the stale keys, sorted */
        size_t n_keys;
};

struct osn_remove_plan {
        struct osn_remove_record *actions; /* in the order planned */
        size_t n_actions;
        struct osn_remove_record *kept;
        size_t n_kept;
};

void osn_remove_plan_free(struct osn_remove_plan *plan);
static inline void osn_remove_plan_freep(struct osn_remove_plan **p)
{
        osn_remove_plan_free(*p);
}
#define _cleanup_remove_plan_ _cleanup_(osn_remove_plan_freep)

/* A new, empty plan into *ret.  0 or -ENOMEM. */
int osn_remove_plan_new(struct osn_remove_plan **ret) _wur_;

/* Adds to 'plan' what 'req' removes, from one read of the node's OVS
 * interfaces with osn's ids ('ifaces', as osn_ovs_list_attachments()
 * returns them; NULL for a lost node) and the NB inventory.  Several
 * requests may go into the same plan (one per lost node); networks are
 * planned once.  0 or -ENOMEM. */
int osn_remove_plan_add(struct osn_remove_plan *plan, const struct osn_remove_req *req,
                        const json_t *ifaces, const struct osn_inventory *inv) _wur_;

/* Carries out the plan's actions (results written into them).  'ovs' is
 * NULL when every attachment action is of a lost node.  0 (with *failures
 * counted) or -ENOMEM. */
int osn_remove_plan_execute(struct osn_remove_plan *plan, struct osn_ovsdb *nb,
                            struct osn_ovsdb *ovs, const struct osn_inventory *inv,
                            int64_t deadline, size_t *failures) _wur_;

/* "planned", "removed", "already gone", "kept", "failed". */
const char *osn_remove_result_name(enum osn_remove_result r);
/* "attachment", "network", "pool-index", "interface", "orphans",
 * "warm-port". */
const char *osn_remove_object_name(enum osn_remove_object o);

/* Appends the plan's records to 'actions' and 'kept' (JSON arrays) in the
 * shape above.  0 or -ENOMEM. */
int osn_remove_plan_json(const struct osn_remove_plan *plan, json_t *actions, json_t *kept) _wur_;

#endif
