/* attach: see attach.h and DESIGN.md §3. */
#include "attach.h"

#include "gcplan.h"
#include "inventory.h"

#include <arpa/inet.h>
#include <stdio.h>

#include "log.h"
#include "netlink.h"
#include "ovn.h"
#include "ovs.h"
#include "ovsdb.h"

/* Rollback and DEL get a bound of their own: an ADD that failed because its
 * deadline passed must still be able to clean up. */
#define CLEANUP_TIMEOUT_MS 5000

static uint64_t fnv1a64(const char *s)
{
        uint64_t h = 0xcbf29ce484222325ull;
        for (; *s; s++) {
                h ^= (uint8_t)*s;
                h *= 0x100000001b3ull;
        }
        return h;
}

void osn_host_ifname(const char *port_name, char buf[IFNAMSIZ])
{
        snprintf(buf, IFNAMSIZ, "osn%012llx",
                 (unsigned long long)(fnv1a64(port_name) & 0xffffffffffffull));
}

void osn_port_mac(const char *port_name, uint8_t mac[6])
{
        uint64_t h = fnv1a64(port_name) ^ 0x5bd1e9955bd1e995ull;
        h *= 0x100000001b3ull;
        for (int i = 0; i < 6; i++)
                mac[i] = (uint8_t)(h >> (8 * i));
        mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
}

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

/* --- ADD --- */

struct add_state {
        const struct osn_attach_req *req;
        char port[512];
        char host[IFNAMSIZ];
        char netns_path[PATH_MAX];
        int netns_fd;
        struct osn_ovsdb *nb;
        struct osn_ovsdb *ovs;
        bool nb_port, veth, ovs_port; /* what to undo on failure */
};

static void add_rollback(struct add_state *st)
{
        struct osn_error e = {0};
        int64_t deadline = osn_now_ms() + CLEANUP_TIMEOUT_MS;
        if (st->ovs_port && st->ovs && osn_ovs_del_port(st->ovs, st->host, deadline, &e) < 0)
                log_warn("rollback: removing OVS port %s: %s", st->host, e.msg);
        osn_error_clear(&e);
        if (st->veth && osn_link_delete(st->host, &e) < 0 && osn_error_isset(&e))
                log_warn("rollback: deleting veth %s: %s", st->host, e.msg);
        osn_error_clear(&e);
        if (st->nb_port && st->nb &&
            osn_nb_remove_port(st->nb, st->req->nc->name, st->port, deadline, &e) < 0)
                log_warn("rollback: removing logical port %s: %s", st->port, e.msg);
}

/* Static addresses: runtimeConfig.ips win over CNI_ARGS IP=; a bare IP=
 * address takes the prefix of the subnet it falls in. */
static int static_ips(const struct osn_attach_req *req, struct osn_cidr *out, size_t *n,
                      struct osn_error *err)
{
        const struct osn_netconf *nc = req->nc;
        const struct osn_cni_args *a = &req->env->args;
        *n = 0;
        if (nc->n_static_ips > 0) {
                memcpy(out, nc->static_ips, nc->n_static_ips * sizeof(*out));
                *n = nc->n_static_ips;
                return 0;
        }
        for (size_t i = 0; i < a->n_ips && i < OSN_MAX_STATIC; i++) {
                struct osn_cidr c = a->ips[i];
                char b[OSN_CIDR_STRLEN];
                bool inside = nc->n_subnets == 0;
                for (size_t s = 0; s < nc->n_subnets; s++)
                        if (osn_cidr_contains(&nc->subnets[s], &c)) {
                                inside = true;
                                if (c.prefixlen == 0)
                                        c.prefixlen = nc->subnets[s].prefixlen;
                        }
                if (!inside)
                        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                             "CNI_ARGS IP=%s is outside the subnets of network "
                                             "\"%s\"",
                                             osn_addr_format(&c, b, sizeof(b)), nc->name);
                if (c.prefixlen == 0)
                        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                             "CNI_ARGS IP=%s needs a prefix length (e.g. /24): "
                                             "network \"%s\" has no subnet to take it from",
                                             osn_addr_format(&c, b, sizeof(b)), nc->name);
                out[(*n)++] = c;
        }
        return 0;
}

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

struct lsp_wait {
        char dyn[256];
};
static void lsp_track(const json_t *tu, void *ctx)
{
        struct lsp_wait *w = ctx;
        track_update(tu, "Logical_Switch_Port", "dynamic_addresses", NULL, w->dyn, sizeof(w->dyn));
}
static bool lsp_done(void *ctx)
{
        const struct lsp_wait *w = ctx;
        /* northd may first publish the MAC alone; wait for an IP too. */
        return strchr(w->dyn, ' ') != NULL;
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

static int do_add(struct add_state *st, struct osn_cni_result *ret, struct osn_error *err)
{
        const struct osn_attach_req *req = st->req;
        const struct osn_netconf *nc = req->nc;
        const struct osn_nodeconf *node = req->node;
        const struct osn_cni_env *env = req->env;
        int64_t deadline = osn_now_ms() + node->ready_timeout_ms;
        int r;

        struct osn_cidr ips[OSN_MAX_STATIC];
        size_t n_ips = 0;
        if ((r = static_ips(req, ips, &n_ips, err)) < 0)
                return r;
        uint8_t mac[6];
        if (nc->has_static_mac)
                memcpy(mac, nc->static_mac, 6);
        else if (env->args.has_mac)
                memcpy(mac, env->args.mac, 6);
        else
                osn_port_mac(st->port, mac);
        unsigned mtu = nc->mtu ? nc->mtu : nc->external ? node->physical_mtu : node->overlay_mtu;
        const char *physnet = NULL;
        if (nc->external) {
                physnet =
                    nc->physical_network ? nc->physical_network : node->default_physical_network;
                if (!physnet)
                        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                             "network \"%s\" asks for external connectivity but "
                                             "node %s has no default physical network (node "
                                             "config key \"default_physical_network\" in %s)",
                                             nc->name, node->node_name, node->path);
        }

        r = osn_netns_open(env->netns, &st->netns_fd);
        if (r < 0)
                return osn_error_set(err, r, OSN_CNI_INVALID_ENV,
                                     "CNI_NETNS=%s cannot be opened: %s", env->netns, strerror(-r));

        /* The local OVS first: a node that cannot serve this network fails
         * before anything exists. */
        if ((r = connect_both(node, deadline, &st->nb, &st->ovs, err)) < 0)
                return r;
        struct osn_ovs_node on;
        if ((r = osn_ovs_read_node(st->ovs, node->integration_bridge, deadline, &on, err)) < 0)
                return r;
        if (physnet && !osn_ovs_maps_physnet(on.bridge_mappings, physnet))
                return osn_error_set(err, -ENOENT, OSN_CNI_INVALID_CONFIG,
                                     "network \"%s\" needs physical network \"%s\", which node %s "
                                     "does not map (ovn-bridge-mappings=\"%s\"); map it with "
                                     "ovs-vsctl set Open_vSwitch . "
                                     "external_ids:ovn-bridge-mappings=%s:<bridge>",
                                     nc->name, physnet, node->node_name, on.bridge_mappings,
                                     physnet);

        /* A retried ADD (the first was killed or failed half-way): drop the
         * node-side pieces of the same attachment and build them again. */
        if (osn_link_exists(st->host) > 0) {
                log_info("removing stale veth %s of an earlier ADD", st->host);
                struct osn_error e = {0};
                if (osn_ovs_del_port(st->ovs, st->host, deadline, &e) < 0)
                        log_warn("removing stale OVS port %s: %s", st->host, e.msg);
                (void)osn_link_delete(st->host, NULL);
        }

        /* Without static addresses, northd assigns them (OVN's IPAM). */
        bool dynamic = n_ips == 0 && nc->n_subnets > 0;
        for (size_t i = 0; dynamic && i < nc->n_subnets; i++) {
                char b[OSN_CIDR_STRLEN];
                if (nc->subnets[i].family == AF_INET6 && nc->subnets[i].prefixlen > 64)
                        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                             "subnet %s of network \"%s\" is longer than /64: "
                                             "OVN derives IPv6 addresses from the MAC (EUI-64), "
                                             "so dynamic addresses need a /64 or shorter prefix "
                                             "(or request static addresses)",
                                             osn_cidr_format(&nc->subnets[i], b, sizeof(b)),
                                             nc->name);
        }
        _cleanup_free_ char *fp = osn_netconf_fingerprint(nc);
        if (!fp)
                return -ENOMEM;
        char mac_s[OSN_MAC_STRLEN];
        osn_mac_format(mac, mac_s, sizeof(mac_s));
        const char *ids[] = {OSN_EXT_NETWORK,
                             nc->name,
                             OSN_EXT_CONTAINER,
                             env->container_id,
                             OSN_EXT_IFNAME,
                             env->ifname,
                             OSN_EXT_NODE,
                             node->node_name,
                             OSN_EXT_POD_NS,
                             env->args.pod_namespace,
                             OSN_EXT_POD_NAME,
                             env->args.pod_name,
                             OSN_EXT_POD_UID,
                             env->args.pod_uid,
                             OSN_EXT_NAD,
                             nc->nad_name ? nc->nad_name : "",
                             NULL};
        struct osn_port_spec spec = {
            .nc = nc,
            .physical_network = physnet,
            .fingerprint = fp,
            .port_name = st->port,
            .static_ips = ips,
            .n_static_ips = n_ips,
            .port_ids = ids,
        };
        memcpy(spec.mac, mac, 6);

        /* Pipelined: the NB requests go out now, and the server (then northd)
         * works on them while we do the kernel and OVS work.  The monitor on
         * our port goes first, so no update slips between write and wait.
         * The common case is one NB transaction; osn_nb_ensure_port() is the
         * general path when its guards do not hold. */
        _cleanup_json_ json_t *lsp_init = NULL, *iface_init = NULL, *fast_res = NULL;
        int64_t lsp_mon = 0, fast_id = 0, iface_mon = 0;
        if (dynamic && (r = osn_ovsdb_monitor_cond_start(
                            st->nb, OSN_NB_DB, "lsp", "Logical_Switch_Port",
                            json_pack("[o]", osn_ovsdb_cond("name", "==", json_string(st->port))),
                            (const char *const[]){"dynamic_addresses", NULL}, &lsp_mon, err)) < 0)
                return r;
        _cleanup_json_ json_t *fast = osn_nb_fast_attach_ops(&spec);
        if (fast && (r = osn_ovsdb_transact_start(st->nb, OSN_NB_DB, fast, &fast_id, err)) < 0)
                return r;
        st->nb_port = true; /* from here on, a failure removes the port by name */

        /* The kernel side. */
        struct osn_veth_req vr = {.host_name = st->host,
                                  .pod_ifname = env->ifname,
                                  .pod_netns_fd = st->netns_fd,
                                  .pod_mac = mac,
                                  .mtu = mtu};
        if ((r = osn_veth_create(&vr, err)) < 0)
                return r;
        st->veth = true;
        if (streq(on.datapath_type, "netdev")) {
                /* The userspace datapath reads frames with AF_PACKET and
                 * forwards partial checksums as they are. */
                osn_link_disable_tx_csum(-1, st->host);
                osn_link_disable_tx_csum(st->netns_fd, env->ifname);
        }
        if ((r = osn_link_set_up(st->host, true, err)) < 0)
                return r;

        /* The OVS side: watch the interface, then plug it. */
        if ((r = osn_ovsdb_monitor_cond_start(
                 st->ovs, OSN_OVS_DB, "iface", "Interface",
                 json_pack("[o]", osn_ovsdb_cond("name", "==", json_string(st->host))),
                 (const char *const[]){"external_ids", NULL}, &iface_mon, err)) < 0)
                return r;
        const char *ovs_ids[] = {"iface-id",
                                 st->port,
                                 "attached-mac",
                                 mac_s,
                                 "iface-status",
                                 "active",
                                 OSN_EXT_NETWORK,
                                 nc->name,
                                 OSN_EXT_CONTAINER,
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
        if ((r = osn_ovs_add_port(st->ovs, &on, st->host, ovs_ids, deadline, err)) < 0)
                return r;
        st->ovs_port = true;
        if ((r = osn_ovsdb_monitor_cond_finish(st->ovs, "iface", iface_mon, deadline, &iface_init,
                                               err)) < 0)
                return r;

        /* Now the NB answers. */
        if (dynamic && (r = osn_ovsdb_monitor_cond_finish(st->nb, "lsp", lsp_mon, deadline,
                                                          &lsp_init, err)) < 0)
                return r;
        struct osn_nb_port nbp;
        r = fast ? osn_ovsdb_transact_finish(st->nb, OSN_NB_DB, fast, fast_id, deadline, &fast_res,
                                             err)
                 : -EAGAIN;
        if (r == 0) {
                osn_nb_fast_attach_result(fast, fast_res, &nbp);
        } else if (r == -EAGAIN || r == -EEXIST) {
                /* A new network, other settings, a static request or a
                 * retried ADD: the general path sorts it out. */
                osn_error_clear(err);
                if ((r = osn_nb_ensure_port(st->nb, &spec, deadline, &nbp, err)) < 0)
                        return r;
        } else {
                return r;
        }
        uint8_t nb_mac[6];
        struct osn_cidr tmp[OSN_MAX_STATIC];
        if (!nbp.created && nbp.addresses[0] &&
            osn_ovn_parse_addresses(nbp.addresses, nc, nb_mac, tmp, OSN_MAX_STATIC) >= 0 &&
            memcmp(nb_mac, mac, 6) != 0) {
                /* An earlier ADD of this attachment left a port with another
                 * MAC (it asked for another): replace it with ours. */
                log_info("replacing port %s of an earlier ADD (other MAC)", st->port);
                if ((r = osn_nb_remove_port(st->nb, nc->name, st->port, deadline, err)) < 0 ||
                    (r = osn_nb_ensure_port(st->nb, &spec, deadline, &nbp, err)) < 0)
                        return r;
        }

        /* Addresses: static ones are known; dynamic ones come from northd. */
        char addresses[256];
        snprintf(addresses, sizeof(addresses), "%s", nbp.addresses);
        if (dynamic && !strchr(addresses, ' ')) {
                struct lsp_wait w = {""};
                lsp_track(lsp_init, &w);
                r = wait_for(st->nb, "lsp", deadline, lsp_track, lsp_done, &w);
                if (r == -ETIMEDOUT)
                        return osn_error_set(err, r, OSN_CNI_TRY_AGAIN_LATER,
                                             "OVN did not assign addresses to port %s within %d "
                                             "ms (is ovn-northd running?)",
                                             st->port, node->ready_timeout_ms);
                if (r < 0)
                        return osn_error_set(err, r, OSN_CNI_TRY_AGAIN_LATER,
                                             "lost the NB DB while waiting for the addresses of "
                                             "port %s: %s",
                                             st->port, strerror(-r));
                snprintf(addresses, sizeof(addresses), "%s", w.dyn);
        }
        if (dynamic && (r = osn_nb_pin_port(st->nb, nbp.uuid, addresses, deadline, err)) < 0)
                return r;

        struct osn_cidr assigned[OSN_MAX_STATIC];
        uint8_t amac[6];
        int n = addresses[0]
                    ? osn_ovn_parse_addresses(addresses, nc, amac, assigned, OSN_MAX_STATIC)
                    : 0;
        if (n < 0)
                return osn_error_set(err, -EPROTO, OSN_CNI_INTERNAL,
                                     "cannot parse the addresses \"%s\" of port %s", addresses,
                                     st->port);
        if ((r = osn_pod_configure(st->netns_fd, env->ifname, assigned, (size_t)n, err)) < 0)
                return r;

        /* Ready when ovn-controller says the port's flows are installed. */
        struct iface_wait iw = {""};
        iface_track(iface_init, &iw);
        r = wait_for(st->ovs, "iface", deadline, iface_track, iface_done, &iw);
        if (r == -ETIMEDOUT)
                return osn_error_set(err, r, OSN_CNI_TRY_AGAIN_LATER,
                                     "ovn-controller did not install port %s on node %s within %d "
                                     "ms (is ovn-controller running and connected?)",
                                     st->port, node->node_name, node->ready_timeout_ms);
        if (r < 0)
                return osn_error_set(err, r, OSN_CNI_TRY_AGAIN_LATER,
                                     "lost the local OVS DB while waiting for port %s: %s",
                                     st->port, strerror(-r));

        memset(ret, 0, sizeof(*ret));
        ret->n_ifaces = 1;
        struct osn_cni_iface *pif = &ret->ifaces[0];
        snprintf(pif->name, sizeof(pif->name), "%s", env->ifname);
        snprintf(pif->mac, sizeof(pif->mac), "%s", mac_s);
        pif->mtu = mtu;
        snprintf(pif->sandbox, sizeof(pif->sandbox), "%s", env->netns);
        for (int i = 0; i < n && i < OSN_CNI_MAX_IPS; i++) {
                ret->ips[i].address = assigned[i];
                ret->ips[i].iface = 0;
                ret->n_ips++;
        }
        log_info("ADD %s: port %s veth %s mac %s addresses \"%s\" mtu %u", nc->name, st->port,
                 st->host, mac_s, addresses, mtu);
        return 0;
}

int osn_attach_add(const struct osn_attach_req *req, struct osn_cni_result *ret,
                   struct osn_error *err)
{
        struct add_state st = {.req = req, .netns_fd = -1};
        _cleanup_free_ char *port =
            osn_port_name(req->nc->name, req->env->container_id, req->env->ifname);
        if (!port)
                return -ENOMEM;
        snprintf(st.port, sizeof(st.port), "%s", port);
        osn_host_ifname(st.port, st.host);
        int r = do_add(&st, ret, err);
        if (r < 0)
                add_rollback(&st);
        if (st.netns_fd >= 0)
                close(st.netns_fd);
        osn_ovsdb_close(st.nb);
        osn_ovsdb_close(st.ovs);
        return r;
}

/* --- DEL --- */

int osn_attach_remove(struct osn_ovsdb *nb, struct osn_ovsdb *ovs, const char *network,
                      const char *port, int64_t deadline, struct osn_error *err)
{
        char host[IFNAMSIZ];
        osn_host_ifname(port, host);
        int r = osn_ovs_del_port(ovs, host, deadline, err);
        if (r < 0)
                return r;
        r = osn_link_delete(host, err);
        if (r < 0 && r != -ENODEV)
                return r;
        osn_error_clear(err);
        r = osn_nb_remove_port(nb, network, port, deadline, err);
        return r;
}

int osn_attach_del(const struct osn_nodeconf *node, const struct osn_cni_env *env,
                   const char *network, struct osn_error *err)
{
        int64_t deadline = osn_now_ms() + node->ready_timeout_ms;
        _cleanup_free_ char *port = osn_port_name(network, env->container_id, env->ifname);
        if (!port)
                return -ENOMEM;
        _cleanup_ovsdb_ struct osn_ovsdb *nb = NULL, *ovs = NULL;
        int r = connect_both(node, deadline, &nb, &ovs, err);
        if (r < 0)
                return r;
        r = osn_attach_remove(nb, ovs, network, port, deadline, err);
        if (r >= 0)
                log_info("DEL %s: port %s removed (or already gone)", network, port);
        return r < 0 ? r : 0;
}

/* --- CHECK --- */

int osn_attach_check(const struct osn_attach_req *req, struct osn_error *err)
{
        const struct osn_netconf *nc = req->nc;
        const struct osn_cni_env *env = req->env;
        int64_t deadline = osn_now_ms() + req->node->ready_timeout_ms;
        _cleanup_free_ char *port = osn_port_name(nc->name, env->container_id, env->ifname);
        if (!port)
                return -ENOMEM;
        char host[IFNAMSIZ];
        osn_host_ifname(port, host);

        _cleanup_ovsdb_ struct osn_ovsdb *nb = NULL, *ovs = NULL;
        int r = connect_both(req->node, deadline, &nb, &ovs, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *row = NULL;
        if ((r = osn_nb_get_port(nb, port, deadline, &row, err)) < 0)
                return r;
        if (!row)
                return osn_error_set(err, -ENOENT, OSN_CNI_CHECK_FAILED,
                                     "logical port %s of network \"%s\" does not exist", port,
                                     nc->name);
        const char *addrs =
            json_string_value(osn_ovsdb_set_at(json_object_get(row, "addresses"), 0));
        uint8_t mac[6];
        struct osn_cidr ips[OSN_MAX_STATIC];
        int n = addrs ? osn_ovn_parse_addresses(addrs, nc, mac, ips, OSN_MAX_STATIC) : -EINVAL;
        if (n < 0)
                return osn_error_set(err, -EINVAL, OSN_CNI_CHECK_FAILED,
                                     "logical port %s has no usable addresses (\"%s\")", port,
                                     addrs ? addrs : "");

        _cleanup_json_ json_t *ifaces = NULL;
        if ((r = osn_ovs_list_attachments(ovs, nc->name, deadline, &ifaces, err)) < 0)
                return r;
        json_t *iface = NULL, *it;
        size_t i;
        json_array_foreach(ifaces, i, it)
        {
                if (streq(json_string_value(json_object_get(it, "name")), host))
                        iface = it;
        }
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

        _cleanup_close_ int fd = -1;
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
        if (nc->prev_result) {
                struct osn_cni_result prev;
                if ((r = osn_cni_result_parse(nc->prev_result, &prev, err)) < 0)
                        return r;
                for (size_t k = 0; k < prev.n_ips; k++) {
                        bool found = false;
                        for (int q = 0; q < n; q++)
                                found |= osn_addr_equal(&prev.ips[k].address, &ips[q]);
                        char c[OSN_CIDR_STRLEN];
                        if (!found)
                                return osn_error_set(
                                    err, -EINVAL, OSN_CNI_CHECK_FAILED,
                                    "prevResult address %s is not the address of port %s",
                                    osn_cidr_format(&prev.ips[k].address, c, sizeof(c)), port);
                }
        }
        return 0;
}

/* --- GC --- */

int osn_attach_gc(const struct osn_attach_req *req, const struct osn_cni_attachment *valid,
                  size_t n_valid, struct osn_error *err)
{
        const struct osn_netconf *nc = req->nc;
        int64_t deadline = osn_now_ms() + req->node->ready_timeout_ms;
        _cleanup_ovsdb_ struct osn_ovsdb *nb = NULL, *ovs = NULL;
        int r = connect_both(req->node, deadline, &nb, &ovs, err);
        if (r < 0)
                return r;
        /* The planner osnctl gc uses (gcplan.h): this node's OVS ports of
         * the network that the runtime no longer lists go; logical ports
         * without an OVS port stay (an ADD between its NB insert and its
         * OVS plug looks like that). */
        _cleanup_json_ json_t *ifaces = NULL, *actions = json_array(), *keep = json_array();
        _cleanup_inventory_ struct osn_inventory *inv = NULL;
        struct osn_inv_filter filter = {.network = nc->name};
        if (!actions || !keep)
                return -ENOMEM;
        if ((r = osn_ovs_list_attachments(ovs, nc->name, deadline, &ifaces, err)) < 0 ||
            (r = osn_inventory_read(nb, &filter, deadline, &inv, err)) < 0)
                return r;
        struct osn_gc_req gc = {.mode = OSN_GC_LOCAL,
                                .node = req->node->node_name,
                                .network = nc->name,
                                .have_valid = true,
                                .valid = valid,
                                .n_valid = n_valid};
        size_t failures = 0;
        if ((r = osn_gc_plan(&gc, ifaces, inv, actions, keep)) < 0 ||
            (r = osn_gc_execute(nb, ovs, inv, actions, deadline, &failures)) < 0)
                return r;
        int removed = 0;
        size_t i;
        const json_t *a;
        json_array_foreach(actions, i, a)
        {
                const char *object = json_string_value(json_object_get(a, "object"));
                const char *result = json_string_value(json_object_get(a, "result"));
                const char *name = json_string_value(
                    json_object_get(a, streq(object, "attachment") ? "port" : "network"));
                if (streq(result, "failed"))
                        log_warn("GC %s: removing %s %s: %s", nc->name, object, name,
                                 json_string_value(json_object_get(a, "error")));
                else if (streq(result, "removed")) {
                        log_info("GC %s: removed %s %s", nc->name, object, name);
                        removed += streq(object, "attachment");
                }
        }
        json_array_foreach(keep, i, a) log_info("GC %s: left alone: %s", nc->name,
                                                json_string_value(json_object_get(a, "reason")));
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
        if (r < 0)
                return osn_error_set(err, r, OSN_CNI_INTERNAL, "STATUS: %s", strerror(-r));
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
