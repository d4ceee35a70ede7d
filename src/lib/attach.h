/* attach: the CNI verbs, as flows over ovn.h (NB), ovs.h (local OVS) and
 * netlink.h (kernel).  docs/design.md, "One ADD, step by step" is the step-by-step description;
 * this is its code.
 *
 * Guarantees:
 * - ADD either succeeds completely or leaves nothing behind (no veth, OVS
 *   port, logical port or switch it made), and a retried ADD (after a
 *   failure or a kill) converges: stale pieces of the same attachment are
 *   removed or reused.
 * - Every wait is bounded by the node config's ready_timeout_ms; the wait
 *   for OVN (ovn-controller installing the port's flows, which needs
 *   ovn-northd's port binding) that runs out yields OSN_CNI_TRY_AGAIN_LATER.
 *   osn chooses the addresses itself (alloc.h, ovn.h): nothing waits for
 *   northd's IPAM.
 * - A persistent identity's port (allowPersistentIPs) outlives its DEL as a
 *   reservation, and an ADD of it on another node is a live migration's
 *   target (ovn.h).
 * - DEL succeeds when the netns, the veth, the ports or the switch are
 *   already gone, and when called twice.
 * - Waits use OVSDB conditional monitors on the one row concerned: no polling
 *   and no full-table reads.
 *
 * Warm ports (node config warm_ports; docs/design.md, "Warm ports"): a node
 * that has a pod of a network keeps warm_ports spares of its pool plugged
 * and installed by ovn-controller (logical port osn/warm=<node>, out of the
 * pool index; OVS interface osn/warm=<addresses>; a veth whose other end,
 * osw<hash>, waits down in the node's netns).  An ADD the pool could serve
 * claims one (guarded: still this node's warm spare) and makes the pod's
 * interface on its waiting end, a passthru macvlan born in the pod's netns:
 * it waits for neither northd nor ovn-controller.  The ADD's tail tops them
 * up; the node's last DEL of the network releases them; gc (remove.h)
 * removes what a crash left.
 */
#ifndef OSN_ATTACH_H
#define OSN_ATTACH_H

#include "cni.h"
#include "error.h"
#include "netconf.h"
#include "nodeconf.h"
#include "tenancy.h"
#include "util.h"

/* What an ADD tells about itself, for the metrics (metrics.h). */
struct osn_attach_stats {
        bool pool_eligible; /* a pool could serve it (pool_size > 0, a dynamic
                             * address, no requested MAC, no persistent identity) */
        bool pool_claimed;  /* it bound a spare */
        bool warm_claimed;  /* ... its node's warm port (attach.h, "Warm ports") */
};

struct osn_attach_req {
        const struct osn_nodeconf *node;
        const struct osn_cni_env *env;
        const struct osn_netconf *nc;   /* NULL for STATUS without config */
        const struct osn_tenancy *ten;  /* whose network (tenancy.h); with nc */
        struct osn_attach_stats *stats; /* ADD: filled when not NULL (also on failure) */
        /* ADD, the program's edge (both may be NULL).  'answer' gets the
         * result as soon as the port is installed, before anything else is
         * done (the plugin prints it); an error from it fails the ADD.  It
         * may hand one descriptor on ('*ret_fd', -1 by default; the ADD
         * takes it) to 'after_exit', which is called once, after an ADD
         * that succeeded, when the plugin has exited: by the ADD's tail
         * child (tail_start() in attach.c, which receives the descriptor),
         * or, when there is none, before osn_attach_add() returns.  What
         * need not delay the answer goes there (the metrics, under the
         * lock the answer took).  Both get 'aux'. */
        int (*answer)(const struct osn_cni_result *res, void *aux, int *ret_fd);
        void (*after_exit)(void *aux, int fd);
        void *aux;
        long long start_ns; /* ADD: CLOCK_MONOTONIC of the call's start (its log line) */
};

int osn_attach_add(const struct osn_attach_req *req, struct osn_cni_result *ret,
                   struct osn_error *err) _wur_;
/* DEL needs the netconf's name, and, for a persistent identity
 * (allowPersistentIPs with a claim reference or a requested MAC), what
 * names it: the identity's port then stays (a reservation, or the other
 * side of a live migration), and only this node's pieces go. */
int osn_attach_del(const struct osn_attach_req *req, struct osn_error *err) _wur_;
int osn_attach_check(const struct osn_attach_req *req, struct osn_error *err) _wur_;
/* Removes this node's attachments of req->nc's network that are not among
 * the 'n_valid' entries of 'valid' (osn_cni_valid_attachments_parse();
 * none = remove them all).  Returns the number removed. */
int osn_attach_gc(const struct osn_attach_req *req, const struct osn_cni_attachment *valid,
                  size_t n_valid, struct osn_error *err) _wur_;
/* NB and the local OVS reachable, integration bridge present:
 * OSN_CNI_NOT_AVAILABLE otherwise. */
int osn_attach_status(const struct osn_attach_req *req, struct osn_error *err) _wur_;

#endif
