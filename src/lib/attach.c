/* attach: see attach.h and docs/design.md, "One ADD, step by step". */
#include "attach.h"

#include "inventory.h"
#include "layer3.h"
#include "names.h"
#include "remove.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "alloc.h"
#include "log.h"
#include "netlink.h"
#include "ovn.h"
#include "ovs.h"
#include "ovsdb.h"
#include "txn.h"

_Static_assert(OSN_ANNOUNCE_MAX_ADDRS >= OSN_MAX_STATIC, "every address of a port is announced");

/* Rollback and DEL get a bound of their own: an ADD that failed because its
 * deadline passed must still be able to clean up. */
#define CLEANUP_TIMEOUT_MS 5000

/* --- Tracking one row through monitor updates (<table-updates2>) --- */

/* Applies every row update in 'tu' to 'cur': the value of 'column' (an
 * optional string) or, with 'key', of that key of a map column ("" when
 * absent).  "initial"/"insert" carry the value; "modify" carries the
 * difference (RFC 7047 update2): a set's symmetric difference, a map's
 * changed pairs, where a value equal to the old one means it was removed and
 * another value is the new one; "delete" clears it. */
static void track_update(const json_t *tu, const char *table, const char *column, const char *key,
                         char *cur, size_t len)
{
        const json_t *rows = json_object_get(tu, table), *upd;
        const char *uuid;
        json_object_foreach((json_t *)rows, uuid, upd)
        {
                const json_t *v;
                bool diff = false;
                if (!(v = json_object_get(upd, "initial")) &&
                    !(v = json_object_get(upd, "insert"))) {
                        if (!(v = json_object_get(upd, "modify"))) {
                                if (json_object_get(upd, "delete"))
                                        cur[0] = 0;
                                continue;
                        }
                        diff = true;
                }
                const json_t *val = json_object_get(v, column);
                size_t n = key ? 1 : osn_ovsdb_set_size(val);
                if (!diff) {
                        const char *s = key ? osn_ovsdb_map_get(val, key)
                                            : json_string_value(osn_ovsdb_set_at(val, 0));
                        snprintf(cur, len, "%s", s ? s : "");
                        continue;
                }
                const char *added = NULL;
                bool removed = false;
                for (size_t i = 0; val && i < n; i++) {
                        const char *s = key ? osn_ovsdb_map_get(val, key)
                                            : json_string_value(osn_ovsdb_set_at(val, i));
                        if (streq(s, cur))
                                removed = true;
                        else if (s)
                                added = s;
                }
                if (added)
                        snprintf(cur, len, "%s", added);
                else if (removed)
                        cur[0] = 0;
        }
}

/* --- waiting and connecting --- */

static int wait_for(struct osn_ovsdb *c, const char *monitor, int64_t deadline,
                    void (*track)(const json_t *tu, void *ctx), bool (*done)(void *ctx), void *ctx)
{
        while (!done(ctx)) {
                _cleanup_json_ json_t *tu = NULL;
                int r = osn_ovsdb_wait_update(c, monitor, deadline, &tu, NULL);
                if (r < 0)
                        return r;
                track(tu, ctx);
        }
        return 0;
}

struct iface_wait {
        char installed[16];
};
static void iface_track(const json_t *tu, void *ctx)
{
        struct iface_wait *w = ctx;
        track_update(tu, "Interface", "external_ids", "ovn-installed", w->installed,
                     sizeof(w->installed));
}
static bool iface_done(void *ctx)
{
        const struct iface_wait *w = ctx;
        return streq(w->installed, "true");
}

static int connect_both(const struct osn_nodeconf *node, int64_t deadline, struct osn_ovsdb **nb,
                        struct osn_ovsdb **ovs, struct osn_error *err)
{
        int r = osn_ovsdb_connect(node->ovs_remote, NULL, deadline, ovs, err);
        if (r < 0) {
                osn_error_details(err, "(the local OVS DB, node config key \"ovs_remote\" in %s)",
                                  node->path);
                return r;
        }
        if (!nb)
                return 0;
        r = osn_ovsdb_connect(node->nb_remote, &node->ssl, deadline, nb, err);
        if (r < 0)
                osn_error_details(err, "(the OVN NB DB, node config key \"nb_remote\" in %s)",
                                  node->path);
        return r;
}

/* --- identities --- */

/* The attachment's persistent identity, with allowPersistentIPs: the
 * claim reference Multus passes as args.cni, else the requested MAC (KubeVirt
 * passes the VM's); NULL without one (then allowPersistentIPs changes
 * nothing, and 'why' says so when not NULL).  'buf' holds a MAC. */
static const char *attach_identity(const struct osn_netconf *nc, const struct osn_cni_env *env,
                                   char buf[OSN_MAC_STRLEN], const char **why)
{
        if (why)
                *why = NULL;
        if (!nc || !nc->allow_persistent_ips)
                return NULL;
        if (nc->claim_ref)
                return nc->claim_ref;
        if (nc->has_static_mac)
                return osn_mac_format(nc->static_mac, buf, OSN_MAC_STRLEN);
        if (env->args.has_mac)
                return osn_mac_format(env->args.mac, buf, OSN_MAC_STRLEN);
        if (why)
                *why = "allowPersistentIPs is set but the attachment has no identity (no "
                       "args.cni[\"ipam-claim-reference\"] and no requested MAC; a NAD for "
                       "KubeVirt needs \"capabilities\": {\"mac\": true}): its addresses "
                       "last as long as the pod";
        return NULL;
}

/* The logical port of an attachment: named for its identity when it has
 * one (so that any node and any container finds it), else for the
 * container and interface. */
static char *attachment_port_name(const char *network, const struct osn_netconf *nc,
                                  const struct osn_cni_env *env)
{
        char mac[OSN_MAC_STRLEN];
        const char *id = attach_identity(nc, env, mac, NULL);
        return id ? osn_identity_port_name(network, id)
                  : osn_port_name(network, env->container_id, env->ifname);
}

/* --- ADD --- */

/* The external_ids of the attachment's logical port: 8 key, value pairs
 * and the NULL after them. */
#define ADD_PORT_IDS (2 * 8 + 1)

/* One ADD: the request decided once, as the spec the NB attach reads
 * (plan_add(), ovn.h), then what the ADD made and learnt on its way. */
struct add_state {
        const struct osn_attach_req *req;
        const struct osn_tenancy *ten; /* req->ten, or 'joined' */
        struct osn_tenancy joined;     /* the network of its name made before tenancy */
        char name[OSN_PORT_NAME_SIZE]; /* the attachment's own port name */
        char port[OSN_PORT_NAME_SIZE]; /* the port it binds: its own, or a claimed spare */
        char host[IFNAMSIZ];
        int netns_fd;
        int64_t deadline;

        /* The plan.  'spec' points into the request and into the fields
         * below it, which live as long as the ADD. */
        struct osn_port_spec spec;
        struct osn_alloc alloc;
        struct osn_cidr static_ips[OSN_MAX_STATIC];
        char identity_mac[OSN_MAC_STRLEN]; /* the identity, when it is a MAC */
        char hostname[64];                 /* the DHCP hostname option, dhcp_hostname() */
        const char *port_ids[ADD_PORT_IDS];
        char *fingerprint;

        struct osn_ovsdb *nb;
        struct osn_ovsdb *ovs;
        struct osn_ovs_node node;
        struct osn_nb_attach *nba;
        struct osn_nb_port nbp;
        uint8_t veth_mac[6];
        uint8_t made_mac[6]; /* the MAC the pod's end has (zero: the kernel's) */
        struct early_veth {  /* make_veth_early()'s thread, while it runs */
                pthread_t thread;
                bool running;
                struct osn_veth_req req;
                int r;
                struct osn_error err;
        } early;
        bool nb_port, veth, ovs_port; /* what to undo on failure */
        bool stale;                   /* an earlier try's veth is there (remove_stale()) */
        struct osn_announce ann;      /* the pod's announcement, readied before the wait */
        int gate;                     /* to the tail child (tail_start()), or -1 */
        /* Warm ports (attach.h): whether this ADD may take one (warm_on()),
         * what the node's OVS showed (its warm ports of the network, and
         * the interfaces of this attachment an earlier try left), the one
         * taken. */
        bool warm_on;
        json_t *warm_rows, *mine_rows;
        const json_t *warm;  /* in warm_rows */
        long long t_plugged; /* CLOCK_MONOTONIC ns, for the timeline */

        /* A layer3 network (layer3.h): the request on the node's piece,
         * whose netconf has the node's host subnets; the network's own. */
        const struct osn_netconf *l3_nc;
        const struct osn_tenancy *l3_ten;
        struct osn_layer3_node l3;
        struct osn_netconf l3_node_nc;
        struct osn_attach_req l3_req;
        struct osn_cni_route routes[OSN_CNI_MAX_ROUTES];
        size_t n_routes;
};

/* Undoes what a failed ADD made, and says what in the error's details
 * (so the failure's one log line and the runtime both know). */
static void add_rollback(struct add_state *st, struct osn_error *err)
{
        struct osn_error e = {0};
        int64_t deadline = osn_now_ms() + CLEANUP_TIMEOUT_MS;
        char done[256] = "", left[256] = "";
        /* Before removing anything: let the NB transaction in flight (if
         * any) come to its answer, so that it cannot commit after the
         * removal, and make sure the connection works (another member of a
         * Raft cluster if this one broke or lost the majority). */
        if (st->nb_port && st->nb) {
                if (osn_ovsdb_settle(st->nb, deadline, &e) < 0)
                        log_info("rollback: the NB transaction in flight did not settle: %s",
                                 e.msg);
                osn_error_clear(&e);
                if (osn_ovsdb_reconnect(st->nb, deadline, &e) < 0)
                        log_info("rollback: no usable NB member: %s", e.msg);
                osn_error_clear(&e);
        }
#define NOTE(buf, what) strncat(buf, buf[0] ? ", " what : what, sizeof(buf) - strlen(buf) - 1)
        if (st->ovs_port && st->ovs) {
                if (osn_ovs_del_port(st->ovs, st->host, deadline, &e) < 0) {
                        log_info("rollback: removing OVS port %s: %s", st->host, e.msg);
                        NOTE(left, "OVS port");
                } else {
                        NOTE(done, "OVS port");
                }
        }
        osn_error_clear(&e);
        if (st->veth) {
                if (osn_link_delete(st->host, &e) < 0 && osn_error_isset(&e)) {
                        log_info("rollback: deleting veth %s: %s", st->host, e.msg);
                        NOTE(left, "veth");
                } else {
                        NOTE(done, "veth");
                }
        }
        osn_error_clear(&e);
        if (st->nb_port && st->nb && st->spec.identity) {
                /* An identity's port outlives a failed ADD as it outlives a
                 * DEL: back to the source of a migration, or a reservation. */
                if (osn_nb_release_identity(st->nb, st->ten->network, st->port,
                                            st->req->node->node_name, st->req->env->container_id,
                                            deadline, &e) < 0) {
                        log_info("rollback: releasing identity port %s: %s", st->port, e.msg);
                        NOTE(left, "identity port");
                } else {
                        NOTE(done, "identity port released");
                }
        } else if (st->nb_port && st->nb) {
                /* A claimed spare is released only while it is this
                 * container's (the claim may have lost to another ADD). */
                const struct osn_cni_env *env = st->req->env;
                unsigned pool = st->req->node->pool_size;
                int r = osn_nb_detach(st->nb, st->ten->network, st->port, env->container_id, pool,
                                      deadline, &e);
                /* With pools the port may be another than the one named
                 * last (a claim lost, then an attach without a spare): what
                 * else the container holds goes too (a scan, on this rare
                 * path only). */
                if (r >= 0 && pool > 0)
                        r = osn_nb_detach_container(st->nb, st->ten->network, env->container_id,
                                                    env->ifname, false, pool, deadline, &e);
                if (r < 0) {
                        log_info("rollback: removing logical port %s: %s", st->port, e.msg);
                        NOTE(left, "logical port");
                } else {
                        NOTE(done, "logical port (if it was made)");
                }
        }
        /* A layer3 node's claim made by this ADD, when no port of the
         * network came to hold it. */
        if (st->l3.created && st->nb && !st->nb_port) {
                if (osn_layer3_leave(st->nb, st->l3.ten.network, deadline, &e) < 0) {
                        log_info("rollback: releasing the host subnet of node switch %s: %s",
                                 st->l3.ten.network, e.msg);
                        NOTE(left, "node switch");
                } else {
                        NOTE(done, "host subnet released");
                }
                osn_error_clear(&e);
        }
#undef NOTE
        if (done[0])
                osn_error_details(err, "(rolled back: %s)", done);
        if (left[0])
                osn_error_details(err, "(left behind, for the runtime's DEL or osnctl gc: %s)",
                                  left);
}

/* Static addresses: runtimeConfig.ips win over CNI_ARGS IP=; a bare IP=
 * address takes the prefix of the subnet it falls in.  Each must be one a
 * pod may hold (alloc.h). */
static int plan_static_ips(struct add_state *st, struct osn_error *err)
{
        const struct osn_netconf *nc = st->req->nc;
        const struct osn_cni_args *a = &st->req->env->args;
        const char *what = nc->n_static_ips > 0 ? "runtimeConfig.ips" : "CNI_ARGS IP=";
        struct osn_cidr *ips = st->static_ips;
        size_t *n = &st->spec.n_static_ips;
        *n = 0;
        if (nc->n_static_ips > 0) {
                memcpy(ips, nc->static_ips, nc->n_static_ips * sizeof(ips[0]));
                *n = nc->n_static_ips;
        }
        for (size_t i = 0; nc->n_static_ips == 0 && i < a->n_ips && i < OSN_MAX_STATIC; i++) {
                struct osn_cidr c = a->ips[i];
                int s = osn_alloc_subnet_of(&st->alloc, &c);
                if (c.prefixlen == 0 && s >= 0)
                        c.prefixlen = st->alloc.subnets[s].subnet.prefixlen;
                char b[OSN_CIDR_STRLEN];
                if (c.prefixlen == 0 && nc->n_subnets == 0)
                        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                             "CNI_ARGS IP=%s needs a prefix length (e.g. /24): "
                                             "network \"%s\" has no subnet to take it from",
                                             osn_addr_format(&c, b, sizeof(b)), nc->name);
                ips[(*n)++] = c;
        }
        for (size_t i = 0; i < *n; i++) {
                int r = osn_alloc_check_static(&st->alloc, &ips[i], what, err);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < i; k++)
                        if (osn_addr_equal(&ips[k], &ips[i])) {
                                char b[OSN_CIDR_STRLEN];
                                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                                     "%s names %s twice", what,
                                                     osn_addr_format(&ips[i], b, sizeof(b)));
                        }
        }
        return 0;
}

/* The physical network of an external network, and the admin's grant of
 * it to the pod's namespace, before anything is made. */
static int plan_physical_network(struct add_state *st, struct osn_error *err)
{
        const struct osn_netconf *nc = st->req->nc;
        const struct osn_nodeconf *node = st->req->node;
        const char *physnet =
            nc->physical_network ? nc->physical_network : node->default_physical_network;
        if (!physnet)
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "network \"%s\" asks for external connectivity but "
                                     "node %s has no default physical network (node "
                                     "config key \"default_physical_network\" in %s)",
                                     nc->name, node->node_name, node->path);
        st->spec.physical_network = physnet;
        return osn_tenancy_check_physical(&node->grants, node->path, st->ten, physnet, nc->vlan,
                                          err);
}

/* The hostname a pod's DHCP lease names (option 12): the VM's name for a
 * KubeVirt launcher pod ("virt-launcher-<vm>-<5 characters>"; KubeVirt
 * makes the VM's hostname its name too), else the pod's name; none when
 * that is not a DNS label of 1..63 bytes. */
static const char *dhcp_hostname(const char *pod, char buf[64])
{
        static const char launcher[] = "virt-launcher-";
        size_t len = strlen(pod), pre = sizeof(launcher) - 1;
        if (strncmp(pod, launcher, pre) == 0 && len > pre + 6 && pod[len - 6] == '-') {
                pod += pre;
                len -= pre + 6;
        }
        if (len == 0 || len > 63 || pod[0] == '-' || pod[len - 1] == '-')
                return NULL;
        for (size_t i = 0; i < len; i++)
                if (!islower((unsigned char)pod[i]) && !isdigit((unsigned char)pod[i]) &&
                    pod[i] != '-')
                        return NULL;
        memcpy(buf, pod, len);
        buf[len] = 0;
        return buf;
}

/* The external_ids of the logical port: what Multus says of the pod. */
static void plan_port_ids(struct add_state *st)
{
        const struct osn_cni_env *env = st->req->env;
        const struct osn_netconf *nc = st->req->nc;
        const char *const ids[] = {OSN_EXT_NETWORK,
                                   st->ten->network,
                                   OSN_EXT_CONTAINER,
                                   env->container_id,
                                   OSN_EXT_IFNAME,
                                   env->ifname,
                                   OSN_EXT_NODE,
                                   st->req->node->node_name,
                                   OSN_EXT_POD_NS,
                                   env->args.pod_namespace,
                                   OSN_EXT_POD_NAME,
                                   env->args.pod_name,
                                   OSN_EXT_POD_UID,
                                   env->args.pod_uid,
                                   OSN_EXT_NAD,
                                   nc->nad_name ? nc->nad_name : "",
                                   NULL};
        _Static_assert(sizeof(ids) == sizeof(st->port_ids), "ADD_PORT_IDS counts them");
        memcpy(st->port_ids, ids, sizeof(ids));
}

/* The plan (design.md, step 2): the request decided into the port's spec
 * before anything is touched.  Two things are left to later steps: the
 * chassis (check_node() reads it) and whether an earlier try left its
 * veth (remove_stale()). */
static int plan_add(struct add_state *st, struct osn_error *err)
{
        const struct osn_attach_req *req = st->req;
        const struct osn_netconf *nc = req->nc;
        const struct osn_nodeconf *node = req->node;
        const struct osn_cni_env *env = req->env;
        struct osn_port_spec *s = &st->spec;

        osn_alloc_init(&st->alloc, nc);
        const char *why;
        const char *identity = attach_identity(nc, env, st->identity_mac, &why);
        if (why)
                log_warn("ADD %s: %s", st->ten->network, why);
        *s = (struct osn_port_spec){
            .nc = nc,
            .ten = st->ten,
            .network = st->ten->network,
            .node_config = node->path,
            .alloc = &st->alloc,
            .port_name = st->name,
            .mac_requested = nc->has_static_mac || env->args.has_mac,
            .static_ips = st->static_ips,
            .port_ids = st->port_ids,
            .mtu = nc->mtu        ? nc->mtu
                   : nc->external ? node->physical_mtu
                                  : node->overlay_mtu,
            .hostname = dhcp_hostname(env->args.pod_name, st->hostname),
            .identity = identity,
            .pool_size = node->pool_size,
        };
        int r = plan_static_ips(st, err);
        if (r < 0)
                return r;
        if (nc->has_static_mac)
                memcpy(s->mac, nc->static_mac, 6);
        else if (env->args.has_mac)
                memcpy(s->mac, env->args.mac, 6);
        else
                osn_port_mac(st->name, s->mac);
        if (nc->external && (r = plan_physical_network(st, err)) < 0)
                return r;
        plan_port_ids(st);
        s->fingerprint = st->fingerprint = osn_netconf_fingerprint(nc);
        return st->fingerprint ? 0 : -ENOMEM;
}

/* A layer3 network: the node's host subnets (claimed at its first ADD),
 * then the plan again on the node's piece, whose subnets they are; the
 * switch keeps the network's fingerprint, and is made by layer3.h only.
 * The pod routes the cluster CIDRs through the router port. */
static int join_layer3(struct add_state *st, struct osn_error *err)
{
        const struct osn_attach_req *req = st->req;
        int r = osn_layer3_join(st->nb, st->l3_nc, st->l3_ten, req->node->node_name,
                                req->node->path, st->fingerprint, st->deadline, &st->l3, err);
        if (r < 0)
                return r;
        osn_layer3_node_netconf(st->l3_nc, &st->l3, &st->l3_node_nc);
        st->l3_req = *req;
        st->l3_req.nc = &st->l3_node_nc;
        st->req = &st->l3_req;
        char *fp = TAKE_PTR(st->fingerprint);
        r = plan_add(st, err);
        free(st->fingerprint);
        st->fingerprint = fp;
        st->spec.fingerprint = fp;
        st->spec.no_create = true;
        st->n_routes = 0;
        for (size_t i = 0; i < st->l3_nc->n_subnets && st->n_routes < OSN_CNI_MAX_ROUTES; i++)
                for (size_t k = 0; k < st->l3.n; k++)
                        if (st->l3.gateways[k].family == st->l3_nc->subnets[i].family)
                                st->routes[st->n_routes++] = (struct osn_cni_route){
                                    .dst = st->l3_nc->subnets[i], .gw = st->l3.gateways[k]};
        return r;
}

static int open_pod_netns(struct add_state *st, struct osn_error *err)
{
        const char *path = st->req->env->netns;
        int r = osn_netns_open(path, &st->netns_fd);
        if (r < 0)
                return osn_error_set(err, r, OSN_CNI_INVALID_ENV,
                                     "CNI_NETNS=%s cannot be opened: %s", path, strerror(-r));
        return 0;
}

/* The command that maps 'physnet' on this node while keeping every mapping
 * the node has ('mappings', "" when none), into 'buf'; the bridge is left
 * as BRIDGE for the operator to name.  False when it does not fit. */
static bool mapping_command(const char *mappings, const char *physnet, char *buf, size_t len)
{
        int w = snprintf(buf, len,
                         "ovs-vsctl set Open_vSwitch . "
                         "'external_ids:ovn-bridge-mappings=\"%s%s%s:BRIDGE\"'",
                         mappings, *mappings ? "," : "", physnet);
        return w > 0 && (size_t)w < len;
}

/* The local OVS first (design.md, step 3): a node that cannot serve this
 * network fails before anything exists.  The plan gets the node's chassis.
 * 'read' is the node's read, in flight (osn_ovs_read_node_start(); taken). */
static int check_node(struct add_state *st, struct osn_txn *read, struct osn_error *err)
{
        const struct osn_nodeconf *node = st->req->node;
        const char *physnet = st->spec.physical_network;
        int r = osn_ovs_read_node_finish(st->ovs, read, node->integration_bridge, st->deadline,
                                         &st->node, err);
        if (r < 0)
                return r;
        st->spec.chassis = st->node.system_id[0] ? st->node.system_id : NULL;
        if (!physnet || osn_ovs_maps_physnet(st->node.bridge_mappings, physnet))
                return 0;
        /* The fix must be safe to paste: it sets the whole list, so it
         * names every mapping there is plus the missing one. */
        char cmd[sizeof(st->node.bridge_mappings) + 256];
        if (!mapping_command(st->node.bridge_mappings, physnet, cmd, sizeof(cmd)))
                snprintf(cmd, sizeof(cmd),
                         "ovs-vsctl set Open_vSwitch . external_ids:ovn-bridge-mappings=... "
                         "with the current list plus %s:BRIDGE",
                         physnet);
        r = osn_error_set(err, -ENOENT, OSN_CNI_INVALID_CONFIG,
                          "network \"%s\" needs physical network \"%s\", which node %s does "
                          "not map (ovn-bridge-mappings=\"%s\"); map it to its bridge, keeping "
                          "the others, with the command in the details",
                          st->ten->network, physnet, node->node_name, st->node.bridge_mappings);
        osn_error_details(err, "%s (BRIDGE: the OVS bridge of physical network %s)", cmd, physnet);
        return r;
}

/* A retried ADD (the first was killed or failed half-way): drop the
 * node-side pieces of the same attachment; they are built again. */
static void remove_stale(struct add_state *st)
{
        if (!st->stale && osn_link_exists(st->host) <= 0)
                return;
        st->spec.earlier_try = true; /* the NB attach looks for that try's port */
        log_info("removing stale veth %s of an earlier ADD", st->host);
        struct osn_error e = {0};
        if (osn_ovs_del_port(st->ovs, st->host, st->deadline, &e) < 0)
                log_info("removing stale OVS port %s: %s", st->host, e.msg);
        osn_error_clear(&e);
        (void)osn_link_delete(st->host, NULL);
        /* A spare that try claimed goes back (its own port, named for the
         * container, is adopted by the attach itself). */
        const struct osn_cni_env *env = st->req->env;
        if (!st->spec.identity &&
            osn_nb_detach_container(st->nb, st->ten->network, env->container_id, env->ifname, true,
                                    st->req->node->pool_size, st->deadline, &e) < 0)
                log_info("releasing the spare of an earlier ADD: %s", e.msg);
}

/* Sends the NB transaction (design.md, step 4); the server commits while
 * the ADD goes on. */
static int start_nb_attach(struct add_state *st, struct osn_error *err)
{
        const struct osn_port_spec *s = &st->spec;
        if (st->req->stats)
                st->req->stats->pool_eligible =
                    s->pool_size > 0 && !s->identity && !s->mac_requested && s->n_static_ips == 0;
        int r = st->nba ? 0 : osn_nb_attach_read_ahead(st->nb, s, &st->nba, err);
        if (r < 0 || (r = osn_nb_attach_send(st->nba, st->deadline, err)) < 0)
                return r;
        st->nb_port = true; /* from here on, a failure removes (or returns) the port by name */
        osn_nb_attach_expected_mac(st->nba, st->veth_mac);
        /* A claimed spare keeps its name: the iface-id is the spare's. */
        snprintf(st->port, sizeof(st->port), "%s", osn_nb_attach_expected_port(st->nba));
        return 0;
}

static bool mac_known(const uint8_t mac[6])
{
        static const uint8_t zero[6];
        return memcmp(mac, zero, 6) != 0;
}

/* The kernel side: the veth pair, its peer in the pod with MAC 'mac' (the
 * kernel's when zero). */
static int create_veth(struct add_state *st, const uint8_t mac[6], struct osn_error *err)
{
        const struct osn_cni_env *env = st->req->env;
        struct osn_veth_req vr = {.host_name = st->host,
                                  .pod_ifname = env->ifname,
                                  .pod_netns_fd = st->netns_fd,
                                  .pod_mac = mac_known(mac) ? mac : NULL,
                                  .mtu = st->spec.mtu};
        int r = osn_veth_create(&vr, err);
        if (r < 0)
                return r;
        st->veth = true;
        memcpy(st->made_mac, mac, 6);
        return 0;
}

static void *early_veth_run(void *arg)
{
        struct early_veth *ev = arg;
        ev->r = osn_veth_create(&ev->req, &ev->err);
        return NULL;
}

/* The veth early (do_add()), by a thread of its own: the kernel makes it
 * (a millisecond or two) while this process reaches both DBs and their
 * reads travel, so that the plug waits for nothing but the pool read.  Its
 * pod end has the kernel's MAC: the port's (on the pool path a spare's,
 * known only from the read) is set once the port is plugged (fit_veth()),
 * while OVN works.  The thread writes nothing of the ADD's but 'st->early'
 * (its own netlink socket; a setns() of a thread is its own).  A failure
 * here is no failure yet: the veth is made again in its place, and fails
 * there in the ADD's own order, but for a host end that exists (a retried
 * ADD's, whose earlier try left it: join_early_veth()).  Without a thread,
 * the veth is made in its place. */
static void make_veth_early(struct add_state *st)
{
        struct early_veth *ev = &st->early;
        ev->req = (struct osn_veth_req){.host_name = st->host,
                                        .pod_ifname = st->req->env->ifname,
                                        .pod_netns_fd = st->netns_fd,
                                        .mtu = st->spec.mtu};
        ev->running = pthread_create(&ev->thread, NULL, early_veth_run, ev) == 0;
}

/* Waits for make_veth_early()'s thread, if it runs: st->veth when it made
 * the veth; st->stale when it found the host end there (an earlier try's:
 * the pool read sent before it knew is dropped, remove_stale() goes
 * first). */
static void join_early_veth(struct add_state *st)
{
        struct early_veth *ev = &st->early;
        if (!ev->running)
                return;
        pthread_join(ev->thread, NULL);
        ev->running = false;
        if (ev->r == -EEXIST && osn_link_exists(st->host) > 0) {
                st->stale = true;
                osn_nb_attach_free(TAKE_PTR(st->nba));
                return;
        }
        if (ev->r < 0) {
                log_debug("veth %s early: %s", st->host, ev->err.msg);
                return;
        }
        st->veth = true;
        memset(st->made_mac, 0, 6);
}

/* A failure before the NB attach went out leaves nothing, as before the
 * veth was made early: it goes quietly (not as the rollback's). */
static void drop_early_veth(struct add_state *st)
{
        join_early_veth(st);
        if (st->veth && osn_link_delete(st->host, NULL) >= 0)
                st->veth = false;
}

/* The veth (made early, or now, with the port's MAC when known), its host
 * end up: what the plug needs. */
static int make_veth(struct add_state *st, struct osn_error *err)
{
        int r;
        join_early_veth(st);
        if (!st->veth && (r = create_veth(st, st->veth_mac, err)) < 0)
                return r;
        return osn_link_set_up(st->host, true, err);
}

/* Once plugged, while OVN works: the pod's end takes the port's MAC when it
 * was made with another (the kernel's, on the pool path), and on the
 * userspace datapath, which reads frames with AF_PACKET and forwards
 * partial checksums as they are, both ends compute their checksums. */
static int fit_veth(struct add_state *st, struct osn_error *err)
{
        const struct osn_cni_env *env = st->req->env;
        if (memcmp(st->made_mac, st->nbp.mac, 6) != 0) {
                int r = osn_pod_set_mac(st->netns_fd, env->ifname, st->nbp.mac, err);
                if (r < 0)
                        return r;
                memcpy(st->made_mac, st->nbp.mac, 6);
        }
        if (streq(st->node.datapath_type, "netdev")) {
                osn_link_disable_tx_csum(-1, st->host);
                osn_link_disable_tx_csum(st->netns_fd, env->ifname);
        }
        return 0;
}

/* The ids an attachment's OVS interface carries for the pod (its container,
 * interface, netns and pod), into 'ids' (key, value pairs and a NULL):
 * DEL, gc and osnctl find the attachment by them.  A plugged port has them
 * from its plug (plug_ovs()), a warm port from its take
 * (take_warm_port()). */
#define ATTACHMENT_OVS_IDS 10
static void attachment_ovs_ids(const struct add_state *st, const char *ids[ATTACHMENT_OVS_IDS + 1])
{
        const struct osn_cni_env *env = st->req->env;
        const char *const v[] = {OSN_EXT_CONTAINER,
                                 env->container_id,
                                 OSN_EXT_IFNAME,
                                 env->ifname,
                                 OSN_EXT_NETNS,
                                 env->netns,
                                 OSN_EXT_POD_NS,
                                 env->args.pod_namespace,
                                 OSN_EXT_POD_NAME,
                                 env->args.pod_name,
                                 NULL};
        _Static_assert(ARRAY_SIZE(v) == ATTACHMENT_OVS_IDS + 1, "ATTACHMENT_OVS_IDS counts them");
        memcpy(ids, v, sizeof(v));
}

/* The OVS side: watch the interface, then plug it into the bridge. */
static int plug_ovs(struct add_state *st, json_t **ret_iface_init, struct osn_error *err)
{
        char mac_s[OSN_MAC_STRLEN];
        int64_t mon = 0;
        int r = osn_ovsdb_monitor_cond_start(
            st->ovs, OSN_OVS_DB, "iface", "Interface",
            json_pack("[o]", osn_ovsdb_cond("name", "==", json_string(st->host))),
            (const char *const[]){"external_ids", NULL}, &mon, err);
        if (r < 0)
                return r;
        /* The port's ids, then the attachment's (attachment_ovs_ids()). */
        const char *ovs_ids[8 + ATTACHMENT_OVS_IDS + 1] = {
            "iface-id",      st->port,
            "attached-mac",  osn_mac_format(st->veth_mac, mac_s, sizeof(mac_s)),
            "iface-status",  "active",
            OSN_EXT_NETWORK, st->ten->network};
        attachment_ovs_ids(st, ovs_ids + 8);
        if ((r = osn_ovs_add_port(st->ovs, &st->node, st->host, ovs_ids, st->deadline, err)) < 0)
                return r;
        st->ovs_port = true;
        return osn_ovsdb_monitor_cond_finish(st->ovs, "iface", mon, st->deadline, ret_iface_init,
                                             err);
}

/* The NB put the port on the network of its name that an osn before
 * tenancy made (ovn.h, osn_nb_attach_network()): from here on the
 * attachment is that network's, and so is its OVS interface.  An identity's
 * port there is the one its VM holds, and it is decided before the veth is
 * made (do_add()): the veth is named for that port. */
static int follow_network(struct add_state *st, struct osn_error *err)
{
        const char *net = osn_nb_attach_network(st->nba);
        if (streq(net, st->ten->network))
                return 0;
        osn_tenancy_legacy(st->ten, &st->joined);
        st->ten = &st->joined;
        if (st->spec.identity && !st->veth) {
                snprintf(st->name, sizeof(st->name), "%s", st->nbp.name);
                snprintf(st->port, sizeof(st->port), "%s", st->nbp.name);
                osn_host_ifname(st->port, st->host);
        }
        if (st->ovs_port)
                return osn_ovs_set_iface_id(st->ovs, st->host, OSN_EXT_NETWORK, net, st->deadline,
                                            err);
        return 0;
}

/* The NB's answer: the port's final addresses and MAC.  When the MAC is not
 * the one the plug announced (a lost claim moved the port to another address
 * or spare, or a retried ADD adopted its earlier port), the OVS interface
 * says the port's (and fit_veth() gives it to the pod's end). */
static int finish_nb_attach(struct add_state *st, struct osn_error *err)
{
        int r = osn_nb_attach_finish(st->nba, st->deadline, &st->nbp, err);
        if (r < 0)
                return r;
        if ((r = follow_network(st, err)) < 0)
                return r;
        if (!streq(st->nbp.name, st->port)) {
                /* Another spare than the one first claimed (that one was
                 * taken meanwhile), or no spare after all. */
                snprintf(st->port, sizeof(st->port), "%s", st->nbp.name);
                if (st->ovs_port && (r = osn_ovs_set_iface_id(st->ovs, st->host, "iface-id",
                                                              st->port, st->deadline, err)) < 0)
                        return r;
        }
        if (memcmp(st->nbp.mac, st->veth_mac, 6) == 0)
                return 0;
        memcpy(st->veth_mac, st->nbp.mac, 6); /* a veth made from now on has it */
        if (!st->ovs_port)
                return 0;
        char m[OSN_MAC_STRLEN];
        log_info("port %s: the pod's interface takes MAC %s", st->port,
                 osn_mac_format(st->nbp.mac, m, sizeof(m)));
        return osn_ovs_set_iface_id(st->ovs, st->host, "attached-mac", m, st->deadline, err);
}

/* Ready when ovn-controller says the port's flows are installed. */
static int wait_installed(struct add_state *st, json_t *iface_init, struct osn_error *err)
{
        const struct osn_nodeconf *node = st->req->node;
        struct iface_wait iw = {""};
        iface_track(iface_init, &iw);
        int r = wait_for(st->ovs, "iface", st->deadline, iface_track, iface_done, &iw);
        if (r == -ETIMEDOUT)
                return osn_error_set(err, r, OSN_CNI_TRY_AGAIN_LATER,
                                     "ovn-controller did not install port %s on node %s within %d "
                                     "ms (it needs ovn-northd to have bound the port in the SB DB: "
                                     "are ovn-northd and ovn-controller running and connected?)",
                                     st->port, node->node_name, node->ready_timeout_ms);
        if (r < 0)
                return osn_error_set(err, r, OSN_CNI_TRY_AGAIN_LATER,
                                     "lost the local OVS DB while waiting for port %s: %s",
                                     st->port, strerror(-r));
        return 0;
}

static void warm_topup(struct add_state *st, struct osn_ovsdb *ovs);

/* --- The ADD's tail ---
 *
 * What is left after ovn-installed but the answer: the pool's top-up, when
 * due, and its answer (a Raft NB may drop a transaction whose client leaves
 * before it is answered; osn_nb_attach_refill()), a goodbye to both DBs,
 * the announcement's repeats (about two seconds) and 'after_exit'.  A child
 * does it, made before the wait for OVN (tail_start()), so that the fork's
 * cost overlaps OVN's work and after ovn-installed the plugin only answers
 * and exits.  The child holds none of the runtime's pipes (stdin, stdout
 * and stderr become /dev/null) and touches nothing of the ADD's until the
 * plugin says go (tail_go(): one message on the gate, carrying the
 * descriptor the answer hands on) and has exited (the gate's end of file):
 * the runtime waits for the plugin's exit and for its stdout to close, not
 * for the child, and on a busy node the child does not take the CPU from
 * the answer.  The plugin reads only the OVS connection after the fork, so
 * the child's copy of the NB connection is true; it hangs up the OVS one
 * (osn_ovsdb_hangup()).  A plugin that fails after the fork closes the gate
 * without a word: the child leaves at once, and the rollback is the
 * plugin's alone.  Without a child (socketpair() or fork() failed) the
 * plugin does that work itself after the answer, but for the repeats
 * (tail_inline()). */

union gate_msg {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
};

/* The child's wait for the plugin's go (true) and then its exit, bounded;
 * false when the gate closed without one.  '*ret_fd': the descriptor that
 * came with it, or -1. */
static bool tail_wait_go(int gate, int64_t deadline, int *ret_fd)
{
        struct pollfd pfd = {.fd = gate, .events = POLLIN};
        *ret_fd = -1;
        int n;
        while ((n = poll(&pfd, 1, osn_ms_left(deadline))) < 0 && errno == EINTR)
                ;
        char go = 0;
        union gate_msg cm;
        struct iovec iov = {.iov_base = &go, .iov_len = 1};
        struct msghdr msg = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof(cm)};
        if (n <= 0 || recvmsg(gate, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1 || go != 'g')
                return false;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                memcpy(ret_fd, CMSG_DATA(c), sizeof(int));
        while (poll(&pfd, 1, osn_ms_left(deadline)) < 0 && errno == EINTR)
                ;
        return true;
}

/* The tail tops the node's warm ports up this long after the plugin's exit,
 * not at once: plugging them sets ovn-controller, northd (the reservation
 * and the pool's top-up) and the kernel's rtnl lock to work, and right
 * after an ADD the node starts the pod (or, in bench/, deletes it): in
 * short bench runs a DEL right after a warm ADD took 26.5 ms p50 against
 * bridge + host-local's 20.4-24.7 with an immediate top-up, at par with it
 * deferred (docs/design.md, "Warm ports").  A warm port is installed some
 * 10-20 ms after its plug; with warm_ports 2 an ADD every 50 ms still finds
 * one. */
#define WARM_TOPUP_DELAY_MS 100

static void *announce_run(void *arg)
{
        osn_announce_repeat(arg);
        return NULL;
}

/* The warm ports' top-up, over a connection of its own to the node's OVS. */
static void tail_warm(struct add_state *st)
{
        if (!st->warm_on)
                return;
        struct osn_ovsdb *ovs = NULL;
        struct osn_error e = {0};
        if (osn_ovsdb_connect(st->req->node->ovs_remote, NULL, st->deadline, &ovs, &e) < 0) {
                log_info("network %s: no warm ports made: %s", st->ten->network, e.msg);
                return;
        }
        warm_topup(st, ovs);
        osn_ovsdb_close(ovs);
}

static _Noreturn void tail_run(struct add_state *st, int gate)
{
        int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int k = 0; k < 3 && devnull >= 0; k++)
                (void)dup2(devnull, k);
        if (devnull > 2)
                close(devnull);
        int fd;
        /* The wait for OVN is bounded by the deadline; the answer comes
         * right after it. */
        if (!tail_wait_go(gate, st->deadline + CLEANUP_TIMEOUT_MS, &fd))
                _exit(0);
        close(gate);
        if (st->netns_fd >= 0)
                close(st->netns_fd);
        if (st->req->after_exit)
                st->req->after_exit(st->req->aux, fd);
        else if (fd >= 0)
                close(fd);
        osn_ovsdb_hangup(TAKE_PTR(st->ovs));
        osn_nb_attach_refill(st->nba, st->deadline);
        if (st->warm_on) {
                /* The warm ports' top-up waits a moment (WARM_TOPUP_DELAY_MS),
                 * the announcements' repeats meanwhile by a thread of their
                 * own. */
                pthread_t repeats;
                bool threaded = pthread_create(&repeats, NULL, announce_run, &st->ann) == 0;
                struct timespec ts = {.tv_sec = 0, .tv_nsec = WARM_TOPUP_DELAY_MS * 1000000L};
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
                tail_warm(st);
                osn_nb_attach_refill(st->nba, st->deadline); /* for the spares it reserved */
                osn_ovsdb_close(st->nb);
                if (threaded)
                        pthread_join(repeats, NULL);
                else
                        osn_announce_repeat(&st->ann);
                _exit(0);
        }
        osn_ovsdb_close(st->nb);
        osn_announce_repeat(&st->ann);
        _exit(0);
}

/* Before the wait for OVN: the tail child (no child: st->gate stays -1). */
static void tail_start(struct add_state *st)
{
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return;
        pid_t pid = fork();
        if (pid == 0) {
                close(sv[0]);
                tail_run(st, sv[1]);
        }
        close(sv[1]);
        if (pid < 0)
                close(sv[0]);
        else
                st->gate = sv[0];
}

/* The tail's work in the plugin itself (no child, or it cannot be told). */
static void tail_inline(struct add_state *st, int fd)
{
        if (st->warm_on && st->ovs)
                warm_topup(st, st->ovs);
        osn_nb_attach_refill(st->nba, st->deadline);
        if (st->req->after_exit)
                st->req->after_exit(st->req->aux, fd);
        else if (fd >= 0)
                close(fd);
}

/* After the answer: the child's go, with 'fd' (taken; -1: none).  The gate
 * stays open until the plugin exits (the child's second signal); both
 * connections are the child's now, left without a word (a goodbye would end
 * them for it too). */
static void tail_go(struct add_state *st, int fd)
{
        char go = 'g';
        union gate_msg cm;
        struct iovec iov = {.iov_base = &go, .iov_len = 1};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        if (fd >= 0) {
                msg.msg_control = cm.buf;
                msg.msg_controllen = sizeof(cm.buf);
                struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        if (st->gate < 0 || sendmsg(st->gate, &msg, MSG_NOSIGNAL) != 1) {
                tail_inline(st, fd);
                return;
        }
        if (fd >= 0)
                close(fd);
        osn_ovsdb_abandon(st->nb);
        osn_ovsdb_abandon(st->ovs);
        st->nb = st->ovs = NULL;
}

static void fill_add_result(const struct add_state *st, struct osn_cni_result *ret)
{
        const struct osn_cni_env *env = st->req->env;
        memset(ret, 0, sizeof(*ret));
        ret->n_ifaces = 1;
        struct osn_cni_iface *pif = &ret->ifaces[0];
        snprintf(pif->name, sizeof(pif->name), "%s", env->ifname);
        osn_mac_format(st->nbp.mac, pif->mac, sizeof(pif->mac));
        pif->mtu = st->spec.mtu;
        snprintf(pif->sandbox, sizeof(pif->sandbox), "%s", env->netns);
        for (size_t i = 0; i < st->nbp.n_ips && i < OSN_CNI_MAX_IPS; i++) {
                ret->ips[i].address = st->nbp.ips[i];
                ret->ips[i].iface = 0;
                /* layer3: the router port of the node's subnet. */
                for (size_t k = 0; k < st->l3.n; k++)
                        if (osn_cidr_contains(&st->l3.host_subnets[k], &st->nbp.ips[i])) {
                                ret->ips[i].has_gateway = true;
                                ret->ips[i].gateway = st->l3.gateways[k];
                        }
                ret->n_ips++;
        }
        ret->n_routes = st->n_routes;
        memcpy(ret->routes, st->routes, st->n_routes * sizeof(st->routes[0]));
}

/* CLOCK_MONOTONIC in ns, the clock of the ADD's debug timeline. */
static long long mono_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* --- Warm ports (attach.h) --- */

/* Whether this ADD may take a warm port, and keeps the node's warm ports
 * of its network topped up: one the pool could serve, on a layer2 or
 * localnet network. */
static bool warm_on(const struct add_state *st)
{
        const struct osn_port_spec *s = &st->spec;
        return st->req->node->warm_ports > 0 && s->pool_size > 0 && !s->identity &&
               !s->mac_requested && s->n_static_ips == 0 && !st->l3_nc;
}

static const char *row_id(const json_t *row, const char *key)
{
        return osn_ovsdb_map_get(json_object_get(row, "external_ids"), key);
}

/* A warm port of the network that ovn-controller has installed (plugged,
 * with an ofport), picked by the attachment's seed among them, so that the
 * ADDs of a burst spread out; NULL when there is none. */
static const json_t *pick_warm(const struct add_state *st)
{
        const json_t *row, *ready[OSN_WARM_MAX_PORTS * 4];
        size_t i, n = 0;
        json_array_foreach(st->warm_rows, i, row)
        {
                const json_t *ofport = osn_ovsdb_set_at(json_object_get(row, "ofport"), 0);
                if (n < ARRAY_SIZE(ready) && streq(row_id(row, "ovn-installed"), "true") &&
                    json_integer_value(ofport) > 0 &&
                    osn_is_spare_port(st->ten->network, row_id(row, "iface-id"), NULL))
                        ready[n++] = row;
        }
        return n ? ready[osn_alloc_seed(st->name) % n] : NULL;
}

/* Removes warm port 'host' of this node (OVS port, then the veth with its
 * waiting end). */
static void drop_warm_port(struct osn_ovsdb *ovs, const char *host, int64_t deadline)
{
        struct osn_error e = {0};
        if (osn_ovs_del_port(ovs, host, deadline, &e) < 0)
                log_info("removing warm port %s: %s", host, e.msg);
        (void)osn_link_delete(host, NULL);
}

/* An earlier try holds 'port' (the pool read's held key): what is left
 * here of it, if that try took it as a warm port, goes: the node's warm
 * port that still carries its iface-id (killed before its OVS take), and
 * the veth named for it (a DEL killed after its OVS port went: its
 * macvlan in the pod goes with it, freeing the interface's name). */
static void drop_warm_named(struct add_state *st, const char *port)
{
        const json_t *row;
        size_t i;
        json_array_foreach(st->warm_rows, i, row)
        {
                const char *name = json_string_value(json_object_get(row, "name"));
                if (name && streq(row_id(row, "iface-id"), port)) {
                        log_info("removing warm port %s: an earlier ADD of this attachment "
                                 "claimed it",
                                 name);
                        drop_warm_port(st->ovs, name, st->deadline);
                }
        }
        char old[IFNAMSIZ];
        osn_host_ifname(port, old);
        if (osn_is_spare_port(st->ten->network, port, NULL) && !streq(old, st->host) &&
            osn_link_exists(old) > 0) {
                log_info("removing veth %s of an earlier ADD of this attachment", old);
                drop_warm_port(st->ovs, old, st->deadline);
        }
}

/* An earlier try of this attachment left interfaces (its veth, or a warm
 * port it took): they go, as remove_stale() does, and the ADD goes the
 * way without a warm port (its pool read, sent before that was known, is
 * dropped). */
static void remove_mine(struct add_state *st)
{
        const json_t *row;
        size_t i;
        json_array_foreach(st->mine_rows, i, row)
        {
                const char *name = json_string_value(json_object_get(row, "name"));
                if (name && !streq(name, st->host)) {
                        log_info("removing the interface %s an earlier ADD took", name);
                        drop_warm_port(st->ovs, name, st->deadline);
                }
        }
        st->stale = true;
        osn_nb_attach_free(TAKE_PTR(st->nba));
}

/* The warm port's pieces are the attachment's now: its OVS interface
 * carries the attachment's ids (guarded: still warm), and the pod's
 * interface is made on its waiting end (osn_macvlan_create()). */
static int take_warm_port(struct add_state *st, const char *host, struct osn_error *err)
{
        const struct osn_cni_env *env = st->req->env;
        const char *ids[ATTACHMENT_OVS_IDS + 1];
        attachment_ovs_ids(st, ids);
        struct osn_txn *t = NULL;
        int r =
            osn_ovs_take_warm_start(st->ovs, host, row_id(st->warm, OSN_EXT_WARM), ids, &t, err);
        if (r < 0)
                return r;
        snprintf(st->host, sizeof(st->host), "%s", host);
        st->ovs_port = st->veth = true; /* a failure from here removes them */
        /* The NB claim made the port this ADD's: the pod's interface is made
         * while the OVS DB answers (it says no only when a DEL or gc
         * removed the warm port meanwhile; the rollback then removes
         * what is left, the macvlan with its veth). */
        char lower[IFNAMSIZ];
        osn_warm_ifname(st->port, lower);
        r = osn_macvlan_create(lower, st->netns_fd, env->ifname, st->nbp.mac, st->spec.mtu, err);
        struct osn_error e = {0};
        int rt = osn_ovs_take_warm_finish(st->ovs, t, st->deadline, r < 0 ? &e : err);
        if (r < 0 || (r = rt) < 0)
                return r;
        memcpy(st->made_mac, st->nbp.mac, 6);
        if (streq(st->node.datapath_type, "netdev"))
                osn_link_disable_tx_csum(st->netns_fd, env->ifname);
        return 0;
}

/* Whether logical port 'port' is an attachment of some container (true
 * also when that cannot be read: then nothing is touched). */
static bool claimed_by_another(struct add_state *st, const char *port)
{
        _cleanup_json_ json_t *row = NULL;
        struct osn_error e = {0};
        if (osn_nb_get_port(st->nb, port, st->deadline, &row, &e) < 0)
                return true;
        const char *cid = row_id(row, OSN_EXT_CONTAINER);
        return cid && *cid;
}

/* The ADD on a warm port: claimed in the NB (guarded: still a warm spare
 * of this node), then taken.  1 when done; 0 to go the common way (no
 * warm port installed, an earlier try's pieces, or the claim lost: the
 * port is removed here then). */
static int add_warm(struct add_state *st, struct osn_error *err)
{
        if (json_array_size(st->mine_rows) > 0 || osn_link_exists(st->host) > 0) {
                remove_mine(st);
                return 0;
        }
        const json_t *w = pick_warm(st);
        if (!w ||
            osn_nb_attach_use_warm(st->nba, row_id(w, "iface-id"), row_id(w, OSN_EXT_WARM)) < 0)
                return 0;
        st->warm = w;
        char host[IFNAMSIZ];
        snprintf(host, sizeof(host), "%s", json_string_value(json_object_get(w, "name")));
        int r = start_nb_attach(st, err);
        if (r < 0 || !osn_nb_attach_warm(st->nba)) {
                /* Sent another way: an earlier try holds a port (killed
                 * after its warm claim, that port may be this very warm
                 * one, whose OVS port then goes: the port is plugged anew,
                 * once). */
                st->warm = NULL;
                drop_warm_named(st, st->port);
                return r;
        }
        r = finish_nb_attach(st, err);
        if (r == -ESTALE) {
                /* Another ADD of this node claimed it meanwhile (then it is
                 * that ADD's now, left alone), or a DEL or gc released it
                 * (then it is nobody's: it goes). */
                log_info("ADD %s: %s; attaching another way", st->ten->network, err->msg);
                osn_error_clear(err);
                if (!claimed_by_another(st, st->port))
                        drop_warm_port(st->ovs, host, st->deadline);
                osn_nb_attach_free(TAKE_PTR(st->nba));
                st->nb_port = false;
                st->warm = NULL;
                snprintf(st->port, sizeof(st->port), "%s", st->name);
                return 0;
        }
        if (r < 0 || (r = take_warm_port(st, host, err)) < 0)
                return r;
        st->t_plugged = mono_ns();
        return 1;
}

/* The node's warm ports of the network, topped up to warm_ports (the
 * tail's, after the answer): spares of the pool reserved for this node in
 * the NB, then each made and plugged, its pod end waiting, down, in this
 * netns.  ovn-controller installs them while nobody waits. */
static void warm_topup(struct add_state *st, struct osn_ovsdb *ovs)
{
        const struct osn_nodeconf *node = st->req->node;
        _cleanup_json_ json_t *here = NULL;
        struct osn_error le = {0};
        if (!st->warm_on || !st->nba ||
            osn_ovs_list_warm(ovs, st->ten->network, st->deadline, &here, &le) < 0 ||
            json_array_size(here) >= node->warm_ports)
                return; /* (the NB's count, below, is read only when this one is short) */
        if (!osn_macvlan_available()) {
                log_warn("network %s: this kernel makes no macvlans (module macvlan), which the "
                         "pods' interfaces on warm ports are: none made; set warm_ports to 0 in %s",
                         st->ten->network, node->path);
                return;
        }
        struct osn_nb_warm w[OSN_WARM_MAX_PORTS];
        struct osn_error e = {0};
        int n = osn_nb_attach_reserve_warm(st->nba, node->warm_ports, w, st->deadline, &e);
        if (n < 0)
                log_info("network %s: no warm ports reserved: %s", st->ten->network, e.msg);
        _cleanup_close_ int self = -1;
        if (n > 0 && osn_netns_open_self(&self) < 0)
                n = 0; /* the reserved spares go with the node's last DEL, or gc */
        for (int i = 0; i < n; i++) {
                char host[IFNAMSIZ], waiting[IFNAMSIZ], m[OSN_MAC_STRLEN];
                osn_host_ifname(w[i].name, host);
                osn_warm_ifname(w[i].name, waiting);
                struct osn_veth_req vr = {.host_name = host,
                                          .pod_ifname = waiting,
                                          .pod_netns_fd = self,
                                          .pod_mac = w[i].mac,
                                          .mtu = st->spec.mtu};
                const char *ids[] = {"iface-id",
                                     w[i].name,
                                     "attached-mac",
                                     osn_mac_format(w[i].mac, m, sizeof(m)),
                                     "iface-status",
                                     "active",
                                     OSN_EXT_NETWORK,
                                     st->ten->network,
                                     OSN_EXT_WARM,
                                     w[i].addrs,
                                     NULL};
                osn_error_clear(&e);
                int r = osn_veth_create(&vr, &e);
                if (r >= 0 && (r = osn_link_disable_ipv6(waiting)) < 0) {
                        osn_error_set(&e, r, OSN_CNI_NETLINK_ERROR,
                                      "cannot turn IPv6 off on %s: %s", waiting, strerror(-r));
                        (void)osn_link_delete(host, NULL);
                }
                if (r >= 0 && (r = osn_link_set_up(host, true, &e)) >= 0) {
                        if (streq(st->node.datapath_type, "netdev")) {
                                osn_link_disable_tx_csum(-1, host);
                                osn_link_disable_tx_csum(-1, waiting);
                        }
                        r = osn_ovs_add_port(ovs, &st->node, host, ids, st->deadline, &e);
                        if (r < 0)
                                (void)osn_link_delete(host, NULL);
                }
                if (r < 0)
                        log_info("network %s: warm port %s not made: %s (its DEL or osnctl gc "
                                 "releases it)",
                                 st->ten->network, w[i].name, e.msg);
        }
}

/* The common ADD, pipelined (design.md, steps 4 to 7): the NB transaction
 * goes out, and the server (then northd) works on it while this node plugs
 * the veth; then the NB's answer, and the veth fitted to it while OVN
 * works.  A retried ADD's earlier pieces go first. */
static int add_pipelined(struct add_state *st, json_t **ret_iface_init, struct osn_error *err)
{
        int r;
        join_early_veth(st);
        if (st->stale)
                remove_stale(st);
        if (!st->nb_port && (r = start_nb_attach(st, err)) < 0) {
                drop_early_veth(st);
                return r;
        }
        if ((r = make_veth(st, err)) < 0)
                return r;
        if ((r = plug_ovs(st, ret_iface_init, err)) < 0)
                return r;
        st->t_plugged = mono_ns();
        if ((r = finish_nb_attach(st, err)) < 0)
                return r;
        return fit_veth(st, err);
}

/* A persistent identity's ADD: its port may be held on this node by another
 * pod, whose veth has this attachment's name, so the NB decides (steps 4
 * and 7) before this node's pieces are touched (5 and 6). */
static int add_identity_first(struct add_state *st, json_t **ret_iface_init, struct osn_error *err)
{
        int r;
        if ((r = start_nb_attach(st, err)) < 0)
                return r;
        if ((r = finish_nb_attach(st, err)) < 0)
                return r;
        remove_stale(st);
        if ((r = make_veth(st, err)) < 0)
                return r;
        if ((r = plug_ovs(st, ret_iface_init, err)) < 0)
                return r;
        st->t_plugged = mono_ns();
        return fit_veth(st, err);
}

/* Peers that knew one of the port's addresses with another MAC (a pod
 * deleted before) learn the new one as soon as the port is installed, not
 * when their neighbour entry ages out: the socket is readied before the
 * wait, so that only its frames go out then.  Not a migration's target:
 * OVN passes nothing of it before its RARP, and the source still answers
 * for it. */
static void announce_ready(struct add_state *st)
{
        struct osn_error e = {0};
        if (!st->nbp.migration && osn_announce_open(st->netns_fd, st->req->env->ifname, st->nbp.mac,
                                                    st->nbp.ips, st->nbp.n_ips, &st->ann, &e) < 0)
                log_info("ADD %s: %s", st->ten->network, e.msg);
}

/* The ADD's one log line, with its timeline: when the port was plugged, seen
 * installed and answered, in ms after the call's start (req->start_ns,
 * CLOCK_MONOTONIC, which the line also gives: bench/ lines it up with the
 * runtime's clock). */
static void log_added(const struct add_state *st, long long t_installed)
{
        _cleanup_free_ char *addrs = NULL;
        char m[OSN_MAC_STRLEN];
        for (size_t i = 0; i < st->nbp.n_ips; i++) {
                char a[OSN_CIDR_STRLEN];
                char *prev = addrs;
                if (asprintf(&addrs, "%s%s%s", prev ? prev : "", prev ? " " : "",
                             osn_cidr_format(&st->nbp.ips[i], a, sizeof(a))) < 0)
                        addrs = NULL;
                free(prev);
        }
        long long t0 = st->req->start_ns, now = mono_ns();
        log_info("ADD %s: port %s%s veth %s mac %s addresses \"%s\" mtu %u; ms after start: "
                 "plugged %.3f installed %.3f answered %.3f (start %lld ns, CLOCK_MONOTONIC)",
                 st->ten->network, st->port,
                 st->nbp.warm      ? " (a warm port)"
                 : st->nbp.created ? ""
                                   : " (kept from an earlier try)",
                 st->host, osn_mac_format(st->nbp.mac, m, sizeof(m)), addrs ? addrs : "",
                 st->spec.mtu, (double)(st->t_plugged - t0) / 1e6, (double)(t_installed - t0) / 1e6,
                 (double)(now - t0) / 1e6, t0);
}

/* Both DBs reached and read: the node's OVS read and the pool read go out
 * together (reads: a node that fails the check has touched nothing); a
 * layer3 network's node piece is joined first. */
static int read_node_and_pool(struct add_state *st, struct osn_error *err)
{
        const struct osn_attach_req *req = st->req;
        int r;
        if ((r = connect_both(req->node, st->deadline, &st->nb, &st->ovs, err)) < 0)
                return r;
        if (st->l3_nc && (r = join_layer3(st, err)) < 0)
                return r;
        _cleanup_txn_ struct osn_txn *node_read = NULL;
        r = osn_ovs_read_node_start(st->ovs, req->node->integration_bridge, &node_read, err);
        if (r < 0)
                return r;
        if (!st->spec.identity &&
            (r = osn_nb_attach_read_ahead(st->nb, &st->spec, &st->nba, err)) < 0)
                return r;
        _cleanup_txn_ struct osn_txn *warm_read = NULL;
        if (st->warm_on &&
            (r = osn_ovs_read_warm_start(st->ovs, st->ten->network, req->env->container_id,
                                         req->env->ifname, &warm_read, err)) < 0)
                return r;
        if ((r = check_node(st, TAKE_PTR(node_read), err)) < 0)
                return r;
        if (!warm_read)
                return 0;
        return osn_ovs_read_warm_finish(st->ovs, TAKE_PTR(warm_read), st->deadline, &st->warm_rows,
                                        &st->mine_rows, err);
}

/* One ADD, step by step: design.md's steps 2 to 11, in their order. */
static int do_add(struct add_state *st, struct osn_cni_result *ret, struct osn_error *err)
{
        const struct osn_attach_req *req = st->req;
        int r;

        st->deadline = osn_now_ms() + req->node->ready_timeout_ms;
        if ((r = plan_add(st, err)) < 0)
                return r;

        if ((r = open_pod_netns(st, err)) < 0)
                return r;

        /* With warm ports the veth waits for the node's read: the ADD
         * may take one instead. */
        st->warm_on = warm_on(st);
        if (!st->spec.identity && !st->warm_on)
                make_veth_early(st);
        if ((r = read_node_and_pool(st, err)) < 0) {
                drop_early_veth(st);
                return r;
        }

        _cleanup_json_ json_t *iface_init = NULL;
        int warm = st->warm_on ? add_warm(st, err) : 0;
        if (warm < 0)
                return warm;
        r = warm                ? 0
            : st->spec.identity ? add_identity_first(st, &iface_init, err)
                                : add_pipelined(st, &iface_init, err);
        if (r < 0)
                return r;

        r = osn_pod_configure(st->netns_fd, req->env->ifname, st->nbp.ips, st->nbp.n_ips, err);
        for (size_t i = 0; r >= 0 && i < st->n_routes; i++)
                r = osn_pod_add_routes(st->netns_fd, req->env->ifname, &st->routes[i].dst,
                                       &st->routes[i].gw, 1, err);
        if (r < 0)
                return r;

        announce_ready(st);
        if (req->stats) {
                req->stats->pool_claimed = osn_is_spare_port(st->ten->network, st->port, NULL);
                req->stats->warm_claimed = st->nbp.warm;
        }
        tail_start(st);

        /* A warm port was installed before the ADD began (pick_warm()). */
        if (!warm && (r = wait_installed(st, iface_init, err)) < 0)
                return r;
        long long t_installed = mono_ns();
        struct osn_error e = {0};
        if (st->ann.fd >= 0 && osn_announce_first(&st->ann, &e) < 0)
                log_info("ADD %s: %s", st->ten->network, e.msg);

        /* Nothing else before the answer: the pool's top-up, the goodbyes,
         * the repeats and the metrics are the tail's; the log line comes
         * after the answer. */
        fill_add_result(st, ret);

        int fd = -1;
        if (req->answer && (r = req->answer(ret, req->aux, &fd)) < 0)
                return r;

        tail_go(st, fd);

        log_added(st, t_installed);
        return 0;
}

/* A layer3 network's attachments are its node's piece's (layer3.h): the
 * request with that piece's tenancy in 'lreq'; else the request as it is. */
static int node_piece(const struct osn_attach_req *req, struct osn_attach_req *lreq,
                      struct osn_tenancy *lten, struct osn_error *err)
{
        *lreq = *req;
        if (!req->nc || req->nc->topology != OSN_TOPO_LAYER3)
                return 0;
        lreq->ten = lten;
        return osn_layer3_node_tenancy(req->ten, req->node->node_name, lten, err);
}

/* One try of an ADD of 'req' (a layer3 network's: of its node's piece,
 * 'net_req' the network's own). */
static int add_once(const struct osn_attach_req *net_req, const struct osn_attach_req *req,
                    struct osn_cni_result *ret, struct osn_error *err)
{
        struct add_state st = {
            .req = req, .ten = req->ten, .netns_fd = -1, .ann = {.fd = -1}, .gate = -1};
        if (req->ten != net_req->ten) {
                st.l3_nc = net_req->nc;
                st.l3_ten = net_req->ten;
        }
        _cleanup_free_ char *port = attachment_port_name(req->ten->network, req->nc, req->env);
        if (!port)
                return -ENOMEM;
        if (strlen(port) >= sizeof(st.name))
                return osn_error_set(err, -ENAMETOOLONG, OSN_CNI_INVALID_CONFIG,
                                     "the logical port name of network \"%s\", container %s, "
                                     "interface %s is %zu bytes; at most %zu fit",
                                     req->ten->network, req->env->container_id, req->env->ifname,
                                     strlen(port), sizeof(st.name) - 1);
        memcpy(st.name, port, strlen(port) + 1);
        memcpy(st.port, port, strlen(port) + 1);
        osn_host_ifname(st.port, st.host);
        int r = do_add(&st, ret, err);
        join_early_veth(&st); /* before anything is undone: it may still be at work */
        if (r < 0 && st.gate >= 0)
                close(st.gate); /* the tail child leaves without a word */
        if (r < 0)
                add_rollback(&st, err);
        osn_nb_attach_free(st.nba);
        json_decref(st.warm_rows);
        json_decref(st.mine_rows);
        osn_announce_close(&st.ann);
        free(st.fingerprint);
        if (st.netns_fd >= 0)
                close(st.netns_fd);
        osn_ovsdb_close(st.nb);
        osn_ovsdb_close(st.ovs);
        return r;
}

/* A layer3 node's piece can go between an ADD's join and its attach: the
 * node's last pod of the network was deleted meanwhile (a pod replaced on
 * its node).  The ADD, undone, runs again and joins anew (claiming the
 * node's host subnet again), up to this many times in all. */
#define LAYER3_ADD_TRIES 3

int osn_attach_add(const struct osn_attach_req *net_req, struct osn_cni_result *ret,
                   struct osn_error *err)
{
        struct osn_attach_req lreq;
        struct osn_tenancy lten;
        int r = node_piece(net_req, &lreq, &lten, err);
        for (int tries = 1; r == 0; tries++) {
                r = add_once(net_req, &lreq, ret, err);
                if (r != -EIDRM || tries == LAYER3_ADD_TRIES)
                        break;
                log_info("ADD %s: %s; joining again", net_req->ten->network, err->msg);
                osn_error_clear(err);
                r = 0;
        }
        return r;
}

/* --- DEL --- */

/* The row of interface 'host' among osn_ovs_list_attachments()' rows, or
 * NULL. */
static const json_t *iface_named(const json_t *ifaces, const char *host)
{
        const json_t *it, *found = NULL;
        size_t i;
        json_array_foreach((json_t *)ifaces, i, it)
        {
                if (streq(json_string_value(json_object_get(it, "name")), host))
                        found = it;
        }
        return found;
}

/* Where an attachment of this container is, as its OVS interface records
 * it (osn/network): on its own network (req->ten), or on the network of
 * its name that an osn before tenancy made, joined since (the veth is named
 * for its own port) or before the upgrade (the veth is named for that
 * network's port).  'host' is its veth's name; without an interface, the
 * own network's and its own port's.  *ret_port: the attachment's own port
 * name on that network (malloc'd); *ret_iface: its OVS interface's row
 * (new reference), NULL when there is none on that network. */
/* The row of the interface that carries container 'cid' interface 'ifname'
 * on 'network' (a warm port the attachment took is named for its spare),
 * or NULL. */
static const json_t *iface_of(const json_t *ifaces, const char *network, const char *cid,
                              const char *ifname)
{
        const json_t *it;
        size_t i;
        json_array_foreach((json_t *)ifaces, i, it)
        {
                const json_t *ids = json_object_get(it, "external_ids");
                if (streq(osn_ovsdb_map_get(ids, OSN_EXT_NETWORK), network) &&
                    streq(osn_ovsdb_map_get(ids, OSN_EXT_CONTAINER), cid) &&
                    streq(osn_ovsdb_map_get(ids, OSN_EXT_IFNAME), ifname))
                        return it;
        }
        return NULL;
}

/* Whether 'ifaces' holds an attachment of 'network' but 'it'. */
static bool others_on(const json_t *ifaces, const char *network, const json_t *it)
{
        const json_t *o;
        size_t i;
        json_array_foreach((json_t *)ifaces, i, o)
        {
                if (o != it &&
                    streq(osn_ovsdb_map_get(json_object_get(o, "external_ids"), OSN_EXT_NETWORK),
                          network))
                        return true;
        }
        return false;
}

static int attached_tenancy(const struct osn_attach_req *req, struct osn_ovsdb *ovs,
                            int64_t deadline, struct osn_tenancy *ret, char host[IFNAMSIZ],
                            char **ret_port, json_t **ret_iface, bool *ret_last,
                            struct osn_error *err)
{
        struct osn_tenancy legacy;
        osn_tenancy_legacy(req->ten, &legacy);
        *ret = *req->ten;
        _cleanup_json_ json_t *ifaces = NULL;
        int r = osn_ovs_list_attachments(ovs, NULL, deadline, &ifaces, err);
        if (r < 0)
                return r;
        const struct osn_tenancy *const cand[] = {req->ten, &legacy};
        const json_t *it = NULL;
        for (size_t i = ARRAY_SIZE(cand); i-- > 0;) {
                _cleanup_free_ char *port =
                    attachment_port_name(cand[i]->network, req->nc, req->env);
                if (!port)
                        return -ENOMEM;
                osn_host_ifname(port, host);
                it = iface_named(ifaces, host);
                const char *net =
                    osn_ovsdb_map_get(json_object_get(it, "external_ids"), OSN_EXT_NETWORK);
                if (i > 0 && !net)
                        continue;
                if (streq(net, legacy.network))
                        *ret = legacy;
                if (!streq(net, ret->network))
                        it = NULL; /* an interface of another network: not this one's */
                break;
        }
        if (!it && (it = iface_of(ifaces, ret->network, req->env->container_id, req->env->ifname)))
                snprintf(host, IFNAMSIZ, "%s", json_string_value(json_object_get(it, "name")));
        *ret_last = !others_on(ifaces, ret->network, it);
        *ret_iface = json_incref((json_t *)it);
        *ret_port = attachment_port_name(ret->network, req->nc, req->env);
        return *ret_port ? 0 : -ENOMEM;
}

/* What DEL and CHECK start from: the request on its node's piece (a
 * layer3 network's, layer3.h), both DBs connected, and the attachment as
 * this node's OVS knows it (attached_tenancy()).  Zeroed before
 * find_attachment(); found_clear() frees it, found or not. */
struct found {
        struct osn_attach_req req;
        struct osn_tenancy piece; /* req.ten, when a node's piece */
        int64_t deadline;
        struct osn_ovsdb *nb, *ovs;
        struct osn_tenancy ten; /* the network the attachment is on */
        char host[IFNAMSIZ];    /* its veth */
        char *port;             /* its own port's name on that network */
        json_t *iface;          /* its OVS interface's row, or NULL */
        bool last;              /* no other attachment of that network on this node */
};

static void found_clear(struct found *f)
{
        osn_ovsdb_close(f->nb);
        osn_ovsdb_close(f->ovs);
        free(f->port);
        json_decref(f->iface);
}

static int find_attachment(const struct osn_attach_req *net_req, struct found *f,
                           struct osn_error *err)
{
        int r = node_piece(net_req, &f->req, &f->piece, err);
        if (r < 0)
                return r;
        f->deadline = osn_now_ms() + f->req.node->ready_timeout_ms;
        if ((r = connect_both(f->req.node, f->deadline, &f->nb, &f->ovs, err)) < 0)
                return r;
        return attached_tenancy(&f->req, f->ovs, f->deadline, &f->ten, f->host, &f->port, &f->iface,
                                &f->last, err);
}

/* A DEL that finds no OVS interface of the attachment (a DEL again, after
 * one killed once its OVS port went): a veth named for a spare port the
 * container holds (a warm port's, which is not named for the container) is
 * deleted here (a scan of the port table, on this rare path only). */
static void drop_spare_veths(const struct found *f)
{
        const struct osn_cni_env *env = f->req.env;
        _cleanup_json_ json_t *names = NULL;
        struct osn_error e = {0};
        if (osn_nb_container_ports(f->nb, f->ten.network, env->container_id, env->ifname,
                                   f->deadline, &names, &e) < 0)
                return;
        const json_t *v;
        size_t i;
        json_array_foreach(names, i, v)
        {
                const char *name = json_string_value(v);
                char veth[IFNAMSIZ];
                if (!osn_is_spare_port(f->ten.network, name, NULL))
                        continue;
                osn_host_ifname(name, veth);
                if (!streq(veth, f->host) && osn_link_exists(veth) > 0) {
                        log_info("DEL %s: removing veth %s of port %s", f->ten.network, veth, name);
                        drop_warm_port(f->ovs, veth, f->deadline);
                }
        }
}

/* The DEL of the node's last attachment of the network, before its detach
 * (so that the switch can go with it): the node's warm ports of the
 * network go, in the NB (but one an ADD claimed meanwhile) and here. */
static int release_warm(const struct found *f, struct osn_error *err)
{
        const struct osn_nodeconf *node = f->req.node;
        const char *net = f->ten.network;
        _cleanup_json_ json_t *rows = NULL;
        int r = osn_ovs_list_warm(f->ovs, net, f->deadline, &rows, err);
        if (r < 0)
                return r;
        /* Without warm_ports (turned off since), the NB is asked only when
         * this node has some here. */
        if ((node->warm_ports > 0 || json_array_size(rows) > 0) &&
            (r = osn_nb_release_warm(f->nb, net, node->node_name, NULL, f->deadline, err)) < 0)
                return r;
        const json_t *row;
        size_t i;
        json_array_foreach(rows, i, row)
        {
                const char *name = json_string_value(json_object_get(row, "name"));
                if (name)
                        drop_warm_port(f->ovs, name, f->deadline);
        }
        if (json_array_size(rows) > 0)
                log_info("DEL %s: the node's last attachment; %zu warm ports released", net,
                         json_array_size(rows));
        return 0;
}

int osn_attach_del(const struct osn_attach_req *net_req, struct osn_error *err)
{
        _cleanup_(found_clear) struct found f = {0};
        int r = find_attachment(net_req, &f, err);
        if (r < 0)
                return r;
        const struct osn_attach_req *req = &f.req;
        const struct osn_nodeconf *node = req->node;
        const struct osn_cni_env *env = req->env;
        int64_t deadline = f.deadline;
        struct osn_ovsdb *nb = f.nb, *ovs = f.ovs;
        const char *host = f.host, *port = f.port, *net = f.ten.network;
        const json_t *it = f.iface;
        char mac[OSN_MAC_STRLEN];
        const char *identity = attach_identity(req->nc, env, mac, NULL);
        if (identity) {
                /* This node's pieces go, if they are still this container's
                 * (a late DEL must not take the veth of the pod that holds
                 * the identity now: it has the same name); the port stays
                 * for its identity. */
                bool ours = !it || streq(osn_ovsdb_map_get(json_object_get(it, "external_ids"),
                                                           OSN_EXT_CONTAINER),
                                         env->container_id);
                if (ours) {
                        if ((r = osn_ovs_del_port(ovs, host, deadline, err)) < 0)
                                return r;
                        r = osn_link_delete(host, err);
                        if (r < 0 && r != -ENODEV)
                                return r;
                        osn_error_clear(err);
                } else {
                        log_info("DEL %s: veth %s belongs to another container now; left alone",
                                 net, host);
                }
                r = osn_nb_release_identity(nb, net, port, node->node_name, env->container_id,
                                            deadline, err);
                return r < 0 ? r : 0;
        }
        /* The port the veth is plugged into says which logical port it is
         * (a claimed spare's name is not the container's, nor is a port
         * that joined a network made before tenancy). */
        const char *iface_id = osn_ovsdb_map_get(json_object_get(it, "external_ids"), "iface-id");
        const char *lsp = iface_id ? iface_id : port;
        if (f.last && (r = release_warm(&f, err)) < 0)
                return r;
        if (!it)
                drop_spare_veths(&f);
        r = osn_remove_attachment(nb, ovs, net, lsp, host, env->container_id, env->ifname,
                                  node->pool_size, deadline, err);
        if (r >= 0) {
                /* Ports this container holds that its OVS port does not
                 * name (an ADD killed before its veth and then retried: the
                 * spare it claimed, or its own port): found by their ids, a
                 * scan of the port table, DEL's only cost that grows with
                 * the NB. */
                int n = osn_nb_detach_container(nb, net, env->container_id, env->ifname, false,
                                                node->pool_size, deadline, err);
                r = n < 0 ? n : r + n;
        }
        if (r == 0 && f.ten.scope != OSN_SCOPE_LEGACY) {
                /* Nothing of it on its own network and no veth: what an
                 * ADD before tenancy left of this container (a scan, as
                 * above, on this rare path only). */
                struct osn_tenancy legacy;
                osn_tenancy_legacy(req->ten, &legacy);
                int n = osn_nb_detach_container(nb, legacy.network, env->container_id, env->ifname,
                                                false, node->pool_size, deadline, err);
                r = n < 0 ? n : r + n;
        }
        if (r >= 0)
                log_info("DEL %s: port %s %s", net, lsp, r > 0 ? "detached" : "already gone");
        return r < 0 ? r : 0;
}

/* --- CHECK --- */

/* The attachment's logical port as CHECK finds it: held by this container,
 * with addresses; its MAC and addresses into 'mac' and 'ips' (returns how
 * many). */
static int check_nb_port(const struct osn_attach_req *req, struct osn_ovsdb *nb, const char *net,
                         const char *port, int64_t deadline, uint8_t mac[6],
                         struct osn_cidr ips[OSN_MAX_STATIC], struct osn_error *err)
{
        const struct osn_cni_env *env = req->env;
        _cleanup_json_ json_t *row = NULL;
        int r;
        if ((r = osn_nb_get_port(nb, port, deadline, &row, err)) < 0)
                return r;
        if (!row)
                return osn_error_set(err, -ENOENT, OSN_CNI_CHECK_FAILED,
                                     "logical port %s of network \"%s\" does not exist", port, net);
        const char *holder =
            osn_ovsdb_map_get(json_object_get(row, "external_ids"), OSN_EXT_CONTAINER);
        if (osn_is_spare_port(net, port, NULL) && !streq(holder, env->container_id))
                return osn_error_set(err, -ESTALE, OSN_CNI_CHECK_FAILED,
                                     "logical port %s, which this attachment's OVS port names, is "
                                     "held by %s%s, not by container %s",
                                     port, holder ? "container " : "no container (a spare)",
                                     holder ? holder : "", env->container_id);
        const char *addrs =
            json_string_value(osn_ovsdb_set_at(json_object_get(row, "addresses"), 0));
        int n = addrs ? osn_ovn_parse_addresses(addrs, req->nc, mac, ips, OSN_MAX_STATIC) : -EINVAL;
        if (n < 0)
                return osn_error_set(err, -EINVAL, OSN_CNI_CHECK_FAILED,
                                     "logical port %s has no usable addresses (\"%s\")", port,
                                     addrs ? addrs : "");
        return n;
}

/* The pod's interface as CHECK finds it: there, with the port's MAC and
 * every one of its 'n' addresses, and those of prevResult. */
static int check_pod(const struct osn_attach_req *req, const char *port, const uint8_t mac[6],
                     const struct osn_cidr *ips, int n, struct osn_error *err)
{
        const struct osn_cni_env *env = req->env;
        _cleanup_close_ int fd = -1;
        int r;
        if ((r = osn_netns_open(env->netns, &fd)) < 0)
                return osn_error_set(err, r, OSN_CNI_INVALID_ENV,
                                     "CNI_NETNS=%s cannot be opened: %s", env->netns, strerror(-r));
        struct osn_link_info li;
        if ((r = osn_pod_inspect(fd, env->ifname, &li, err)) < 0)
                return r;
        if (!li.exists)
                return osn_error_set(err, -ENOENT, OSN_CNI_CHECK_FAILED,
                                     "interface %s is missing from netns %s", env->ifname,
                                     env->netns);
        char a[OSN_MAC_STRLEN], b[OSN_MAC_STRLEN];
        if (memcmp(li.mac, mac, 6) != 0)
                return osn_error_set(err, -EINVAL, OSN_CNI_CHECK_FAILED,
                                     "interface %s has MAC %s, OVN port %s has %s", env->ifname,
                                     osn_mac_format(li.mac, a, sizeof(a)), port,
                                     osn_mac_format(mac, b, sizeof(b)));
        for (int k = 0; k < n; k++) {
                bool found = false;
                for (size_t q = 0; q < li.n_addrs; q++)
                        found |= osn_addr_equal(&li.addrs[q], &ips[k]);
                char c[OSN_CIDR_STRLEN];
                if (!found)
                        return osn_error_set(err, -EINVAL, OSN_CNI_CHECK_FAILED,
                                             "interface %s lacks address %s", env->ifname,
                                             osn_cidr_format(&ips[k], c, sizeof(c)));
        }
        if (!req->nc->prev_result)
                return 0;
        struct osn_cni_result prev;
        if ((r = osn_cni_result_parse(req->nc->prev_result, &prev, err)) < 0)
                return r;
        for (size_t k = 0; k < prev.n_ips; k++) {
                bool found = false;
                for (int q = 0; q < n; q++)
                        found |= osn_addr_equal(&prev.ips[k].address, &ips[q]);
                char c[OSN_CIDR_STRLEN];
                if (!found)
                        return osn_error_set(err, -EINVAL, OSN_CNI_CHECK_FAILED,
                                             "prevResult address %s is not the address of port %s",
                                             osn_cidr_format(&prev.ips[k].address, c, sizeof(c)),
                                             port);
        }
        return 0;
}

int osn_attach_check(const struct osn_attach_req *net_req, struct osn_error *err)
{
        _cleanup_(found_clear) struct found f = {0};
        int r = find_attachment(net_req, &f, err);
        if (r < 0)
                return r;
        const struct osn_attach_req *req = &f.req;
        const char *host = f.host, *net = f.ten.network;
        const json_t *iface = f.iface;
        /* A claimed spare's logical port is the one the veth's OVS port
         * names, and so is the port of an attachment that joined a network
         * made before tenancy (named for its own network). */
        const char *iface_id =
            osn_ovsdb_map_get(json_object_get(iface, "external_ids"), "iface-id");
        if (iface_id &&
            (osn_is_spare_port(net, iface_id, NULL) || !streq(net, req->ten->network))) {
                free(f.port);
                if (!(f.port = strdup(iface_id)))
                        return -ENOMEM;
        }
        const char *port = f.port;
        uint8_t mac[6];
        struct osn_cidr ips[OSN_MAX_STATIC];
        int n = check_nb_port(req, f.nb, net, port, f.deadline, mac, ips, err);
        if (n < 0)
                return n;

        if (!iface)
                return osn_error_set(err, -ENOENT, OSN_CNI_CHECK_FAILED,
                                     "OVS port %s of attachment %s is missing from the "
                                     "integration bridge",
                                     host, port);
        const json_t *ids = json_object_get(iface, "external_ids");
        if (!streq(osn_ovsdb_map_get(ids, "ovn-installed"), "true"))
                return osn_error_set(err, -EAGAIN, OSN_CNI_CHECK_FAILED,
                                     "OVS port %s is not marked ovn-installed by ovn-controller",
                                     host);
        if (osn_link_exists(host) <= 0)
                return osn_error_set(err, -ENOENT, OSN_CNI_CHECK_FAILED,
                                     "host-side veth %s is missing", host);
        return check_pod(req, port, mac, ips, n, err);
}

/* --- GC --- */

/* Whether 'key' is a network of NAD name 'name': "<scope>/<name>", or the
 * bare name of a network made before tenancy. */
static bool key_of_name(const char *key, const char *name)
{
        const char *slash = strchr(key, '/');
        size_t len = strlen(name);
        /* A layer3 node's piece: "<scope>/<name>@<node>" (layer3.h). */
        return streq(key, name) ||
               (slash && (streq(slash + 1, name) ||
                          (strncmp(slash + 1, name, len) == 0 && slash[1 + len] == '@')));
}

/* GC of one network (its key) on this node. */
static int gc_network(const struct osn_attach_req *req, struct osn_ovsdb *nb, struct osn_ovsdb *ovs,
                      const char *net, const struct osn_cni_attachment *valid, size_t n_valid,
                      int64_t deadline, struct osn_error *err)
{
        /* The planner osnctl gc uses (remove.h): this node's OVS ports of
         * the network that the runtime no longer lists go; logical ports
         * without an OVS port stay (an ADD between its NB insert and its
         * OVS plug looks like that). */
        _cleanup_json_ json_t *ifaces = NULL, *warm = NULL;
        _cleanup_inventory_ struct osn_inventory *inv = NULL;
        _cleanup_remove_plan_ struct osn_remove_plan *plan = NULL;
        struct osn_inv_filter filter = {.network = net};
        int r;
        if ((r = osn_remove_plan_new(&plan)) < 0 ||
            (r = osn_ovs_list_attachments(ovs, net, deadline, &ifaces, err)) < 0 ||
            (r = osn_ovs_list_warm(ovs, net, deadline, &warm, err)) < 0 ||
            (r = osn_inventory_read(nb, &filter, deadline, &inv, err)) < 0)
                return r;
        struct osn_remove_req gc = {.mode = OSN_REMOVE_LOCAL,
                                    .node = req->node->node_name,
                                    .network = net,
                                    .have_valid = true,
                                    .valid = valid,
                                    .n_valid = n_valid,
                                    .warm = warm,
                                    .warm_ports = req->node->warm_ports};
        size_t failures = 0;
        if ((r = osn_remove_plan_add(plan, &gc, ifaces, inv)) < 0 ||
            (r = osn_remove_plan_execute(plan, nb, ovs, inv, deadline, &failures)) < 0)
                return r;
        int removed = 0;
        for (size_t i = 0; i < plan->n_actions; i++) {
                const struct osn_remove_record *a = &plan->actions[i];
                const char *object = osn_remove_object_name(a->object);
                const char *name =
                    a->object == OSN_REMOVE_ATTACHMENT || a->object == OSN_REMOVE_WARM ? a->port
                                                                                       : a->network;
                if (a->result == OSN_REMOVE_FAILED) {
                        log_info("GC %s: removing %s %s: %s", net, object, name,
                                 a->error ? a->error : "?");
                } else if (a->result == OSN_REMOVE_REMOVED) {
                        log_info("GC %s: removed %s %s", net, object, name);
                        removed += a->object == OSN_REMOVE_ATTACHMENT;
                }
        }
        for (size_t i = 0; i < plan->n_kept; i++)
                log_info("GC %s: left alone: %s", net, plan->kept[i].reason);
        return removed;
}

int osn_attach_gc(const struct osn_attach_req *req, const struct osn_cni_attachment *valid,
                  size_t n_valid, struct osn_error *err)
{
        /* The runtime's list is per NAD name, across namespaces: every
         * network of that name with attachments on this node. */
        int64_t deadline = osn_now_ms() + req->node->ready_timeout_ms;
        _cleanup_ovsdb_ struct osn_ovsdb *nb = NULL, *ovs = NULL;
        int r = connect_both(req->node, deadline, &nb, &ovs, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *all = NULL, *keys = json_array();
        if (!keys)
                return -ENOMEM;
        if ((r = osn_ovs_list_attachments(ovs, NULL, deadline, &all, err)) < 0)
                return r;
        size_t i, k;
        const json_t *row, *seen;
        json_array_foreach(all, i, row)
        {
                const char *key =
                    osn_ovsdb_map_get(json_object_get(row, "external_ids"), OSN_EXT_NETWORK);
                bool dup = false;
                if (!key || !key_of_name(key, req->nc->name))
                        continue;
                json_array_foreach(keys, k, seen) dup |= streq(json_string_value(seen), key);
                if (!dup)
                        json_array_append_new(keys, json_string(key));
        }
        int removed = 0;
        json_array_foreach(keys, k, seen)
        {
                r = gc_network(req, nb, ovs, json_string_value(seen), valid, n_valid, deadline,
                               err);
                if (r < 0)
                        return r;
                removed += r;
        }
        return removed;
}

/* --- STATUS --- */

int osn_attach_status(const struct osn_attach_req *req, struct osn_error *err)
{
        /* The probes osnctl status runs (inventory.h), mapped to CNI STATUS:
         * one status function, so the two cannot disagree. */
        const struct osn_nodeconf *node = req->node;
        int64_t deadline =
            osn_now_ms() + (node->ready_timeout_ms < 5000 ? node->ready_timeout_ms : 5000);
        struct osn_node_status st;
        int r = osn_inventory_status(node, NULL, deadline, &st);
        if (r < 0) /* out of memory, its only failure: worth a retry */
                return osn_error_set(err, r,
                                     r == -ENOMEM ? OSN_CNI_TRY_AGAIN_LATER : OSN_CNI_IO_FAILURE,
                                     "STATUS: %s", strerror(-r));
        const char *what = NULL, *why = NULL;
        if (st.nb != OSN_PROBE_OK)
                what = "the OVN NB DB", why = st.nb_error;
        else if (st.ovs != OSN_PROBE_OK)
                what = "the local OVS DB", why = st.ovs_error;
        else if (st.bridge != OSN_PROBE_OK)
                what = "the integration bridge", why = st.bridge_error;
        if (what)
                return osn_error_set(err, -ENOTCONN, OSN_CNI_NOT_AVAILABLE,
                                     "osn cannot attach pods on node %s: %s: %s", node->node_name,
                                     what, why[0] ? why : "unreachable");
        /* Overlay networks work; networks bridged to the default physical
         * network would fail their ADD here. */
        const char *physnet = node->default_physical_network;
        if (physnet && !osn_ovs_maps_physnet(st.node.bridge_mappings, physnet))
                return osn_error_set(err, -ENOENT, OSN_CNI_LIMITED_CONNECTIVITY,
                                     "node %s does not map its default physical network \"%s\" "
                                     "(ovn-bridge-mappings=\"%s\"): networks with external "
                                     "connectivity cannot attach here",
                                     node->node_name, physnet, st.node.bridge_mappings);
        return 0;
}
