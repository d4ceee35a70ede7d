/* inventory: see inventory.h. */
#include "inventory.h"

#include "alloc.h"
#include "jsonrpc.h"

#include <dirent.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include "log.h"
#include "names.h"
#include "netlink.h"
#include "ovn.h"
#include "stream.h"
#include "txn.h"

static const char *ext_id(const json_t *row, const char *key)
{
        return osn_ovsdb_map_get(json_object_get(row, "external_ids"), key);
}

/* strdup() of a string that may be NULL; "" counts as not recorded when
 * 'empty_is_null'.  Sets *failed on ENOMEM. */
static char *dup_opt(const char *s, bool empty_is_null, bool *failed)
{
        if (!s || (empty_is_null && !*s))
                return NULL;
        char *d = strdup(s);
        if (!d)
                *failed = true;
        return d;
}

static void port_clear(struct osn_inv_port *p)
{
        free(p->name);
        free(p->network);
        free(p->container_id);
        free(p->ifname);
        free(p->node);
        free(p->pod_namespace);
        free(p->pod_name);
        free(p->pod_uid);
        free(p->nad);
        free(p->identity);
        free(p->mig_node);
        free(p->mig_container_id);
        free(p->mig_ifname);
        free(p->mig_pod_namespace);
        free(p->mig_pod_name);
        free(p->addresses);
        free(p->warm_node);
        free(p->dynamic_addresses);
        free(p->static_addresses);
}

/* Tenancy keys of a network's switch (docs/design.md, "Tenancy"). */
#define INV_EXT_SCOPE      "osn/scope"
#define INV_EXT_NAMESPACE  "osn/namespace"
#define INV_EXT_NAMESPACES "osn/namespaces"

static void network_clear(struct osn_inv_network *n)
{
        free(n->name);
        free(n->switch_name);
        free(n->fingerprint);
        free(n->topology);
        free(n->scope);
        free(n->scope_namespace);
        free(n->namespaces);
        free(n->exclude_ips);
        free(n->physical_network);
        free(n->localnet_port);
        for (size_t i = 0; i < n->n_nodes; i++)
                free(n->nodes[i]);
        free(n->nodes);
        for (size_t i = 0; i < n->n_stale_index; i++)
                free(n->stale_index[i]);
        free(n->stale_index);
        json_decref(n->ports);
        json_decref(n->external_ids);
}

void osn_inventory_free(struct osn_inventory *inv)
{
        if (!inv)
                return;
        for (size_t i = 0; i < inv->n_networks; i++)
                network_clear(&inv->networks[i]);
        for (size_t i = 0; i < inv->n_ports; i++)
                port_clear(&inv->ports[i]);
        for (size_t i = 0; i < inv->n_spares; i++)
                port_clear(&inv->spares[i]);
        free(inv->networks);
        free(inv->ports);
        free(inv->spares);
        free(inv);
}

const struct osn_inv_network *osn_inventory_network(const struct osn_inventory *inv,
                                                    const char *name)
{
        for (size_t i = 0; inv && i < inv->n_networks; i++)
                if (streq(inv->networks[i].name, name))
                        return &inv->networks[i];
        return NULL;
}

/* --- Settings of a network --- */

/* The settings osn stored with the switch: subnets, excludes, MTU and
 * whether it is external (the topology comes from osn/topology, the
 * physical side from the localnet port).  What does not read is left
 * unset, so a damaged fingerprint still shows what it can. */
static void parse_fingerprint(struct osn_inv_network *n, const char *fp)
{
        struct osn_netconf_settings st;
        (void)osn_netconf_fingerprint_parse(fp, &st);
        memcpy(n->subnets, st.subnets, sizeof(n->subnets));
        n->n_subnets = st.n_subnets;
        memcpy(n->excludes, st.excludes, sizeof(n->excludes));
        n->n_excludes = st.n_excludes;
        n->mtu_known = st.has_mtu;
        n->mtu = st.mtu;
        n->external = st.external;
}

/* Without a fingerprint (a switch of an older osn): OVN's own IPAM keys. */
static void parse_other_config(struct osn_inv_network *n, const json_t *other_config)
{
        const char *v4 = osn_ovsdb_map_get(other_config, "subnet");
        const char *v6 = osn_ovsdb_map_get(other_config, "ipv6_prefix");
        if (v4 && n->n_subnets < OSN_MAX_SUBNETS &&
            osn_cidr_parse(v4, true, &n->subnets[n->n_subnets]) == 0)
                n->n_subnets++;
        if (v6 && n->n_subnets < OSN_MAX_SUBNETS) {
                /* ipv6_prefix is an address; OVN's IPAM uses it as a /64. */
                char buf[OSN_CIDR_STRLEN + 8];
                snprintf(buf, sizeof(buf), "%s/64", v6);
                if (osn_cidr_parse(buf, true, &n->subnets[n->n_subnets]) == 0)
                        n->n_subnets++;
        }
}

/* --- Reading --- */

static json_t *where_includes(const char *const *kv)
{
        if (!kv[0])
                return json_array();
        return json_pack("[o]", osn_ovsdb_cond("external_ids", "includes", osn_ovsdb_map(kv)));
}

static int cmp_str(const char *a, const char *b)
{
        return strcmp(a ? a : "", b ? b : "");
}

static int cmp_port(const void *a_, const void *b_)
{
        const struct osn_inv_port *a = a_, *b = b_;
        int c;
        if ((c = cmp_str(a->network, b->network)) ||
            (c = cmp_str(a->pod_namespace, b->pod_namespace)) ||
            (c = cmp_str(a->pod_name, b->pod_name)) || (c = cmp_str(a->ifname, b->ifname)) ||
            (c = cmp_str(a->container_id, b->container_id)))
                return c;
        return cmp_str(a->name, b->name);
}

static int cmp_network(const void *a, const void *b)
{
        return cmp_str(((const struct osn_inv_network *)a)->name,
                       ((const struct osn_inv_network *)b)->name);
}

static int cmp_strp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Which network (index) holds the port with this uuid, by the switches'
 * "ports" columns. */
struct port_owner {
        const char *uuid;
        size_t network;
};

static int cmp_owner(const void *a, const void *b)
{
        return strcmp(((const struct port_owner *)a)->uuid, ((const struct port_owner *)b)->uuid);
}

/* A Unix time osn wrote ("1700000000"); -1 when absent or not one. */
static long long unix_time(const char *s)
{
        char *end = NULL;
        long long v = s && *s ? strtoll(s, &end, 10) : -1;
        return end && *end == 0 && v >= 0 ? v : -1;
}

static int fill_port(struct osn_inv_port *p, const json_t *row, bool *failed)
{
        snprintf(p->uuid, sizeof(p->uuid), "%s",
                 osn_ovsdb_row_uuid(row) ? osn_ovsdb_row_uuid(row) : "");
        p->name = dup_opt(json_string_value(json_object_get(row, "name")), false, failed);
        p->network = dup_opt(ext_id(row, OSN_EXT_NETWORK), false, failed);
        p->container_id = dup_opt(ext_id(row, OSN_EXT_CONTAINER), true, failed);
        p->ifname = dup_opt(ext_id(row, OSN_EXT_IFNAME), true, failed);
        p->node = dup_opt(ext_id(row, OSN_EXT_NODE), true, failed);
        p->pod_namespace = dup_opt(ext_id(row, OSN_EXT_POD_NS), true, failed);
        p->pod_name = dup_opt(ext_id(row, OSN_EXT_POD_NAME), true, failed);
        p->pod_uid = dup_opt(ext_id(row, OSN_EXT_POD_UID), true, failed);
        p->nad = dup_opt(ext_id(row, OSN_EXT_NAD), true, failed);
        p->reservation = streq(ext_id(row, OSN_EXT_RESERVATION), "true");
        p->identity = dup_opt(ext_id(row, OSN_EXT_IDENTITY), true, failed);
        p->mig_node = dup_opt(ext_id(row, OSN_EXT_MIG_NODE), true, failed);
        p->mig_container_id = dup_opt(ext_id(row, OSN_EXT_MIG_CONTAINER), true, failed);
        p->mig_ifname = dup_opt(ext_id(row, OSN_EXT_MIG_IFNAME), true, failed);
        p->mig_pod_namespace = dup_opt(ext_id(row, OSN_EXT_MIG_POD_NS), true, failed);
        p->mig_pod_name = dup_opt(ext_id(row, OSN_EXT_MIG_POD_NAME), true, failed);
        p->mig_since = unix_time(ext_id(row, OSN_EXT_MIG_SINCE));
        p->reserved_at = unix_time(ext_id(row, OSN_EXT_RESERVED_AT));
        p->addresses = dup_opt(osn_nb_port_addresses(row, NULL), true, failed);
        p->dynamic_addresses = dup_opt(
            json_string_value(osn_ovsdb_set_at(json_object_get(row, "dynamic_addresses"), 0)), true,
            failed);
        p->static_addresses =
            dup_opt(json_string_value(osn_ovsdb_set_at(json_object_get(row, "addresses"), 0)), true,
                    failed);
        p->up = json_is_true(json_object_get(row, "up"));
        p->warm_node = dup_opt(ext_id(row, OSN_EXT_WARM), true, failed);
        return *failed ? -ENOMEM : 0;
}

/* MAC and IPs, each IP with the prefix of the network's subnet it lies in:
 * osn_ovn_parse_addresses() takes them from a netconf, so lend it one that
 * holds just the subnets. */
static void port_addresses(struct osn_inv_port *p, const struct osn_inv_network *n)
{
        if (!p->addresses)
                return;
        struct osn_netconf subnets = {0};
        if (n) {
                memcpy(subnets.subnets, n->subnets, sizeof(subnets.subnets));
                subnets.n_subnets = n->n_subnets;
        }
        int k = osn_ovn_parse_addresses(p->addresses, n ? &subnets : NULL, p->mac, p->ips,
                                        OSN_INV_MAX_IPS);
        if (k >= 0) {
                p->has_mac = true;
                p->n_ips = (size_t)k;
        }
}

static int add_node(struct osn_inv_network *n, const char *node)
{
        if (!node)
                return 0;
        for (size_t i = 0; i < n->n_nodes; i++)
                if (streq(n->nodes[i], node))
                        return 0;
        char **v = realloc(n->nodes, (n->n_nodes + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        n->nodes = v;
        if (!(n->nodes[n->n_nodes] = strdup(node)))
                return -ENOMEM;
        n->n_nodes++;
        return 0;
}

/* A pool's spare (inventory.h): marked so, and naming no holder. */
static bool is_spare(const json_t *row)
{
        const char *cid = ext_id(row, OSN_EXT_CONTAINER);
        return streq(ext_id(row, OSN_EXT_SPARE), "true") && (!cid || !*cid);
}

/* The index keys of network 'n' (its switch's osn/spare/<U>) whose U is
 * not a spare on that switch ('owners': the spares' uuids with the network
 * whose switch holds them, sorted by uuid). */
static int stale_keys(struct osn_inv_network *n, size_t idx, const struct port_owner *owners,
                      size_t n_owners)
{
        const json_t *pairs = streq(json_string_value(json_array_get(n->external_ids, 0)), "map")
                                  ? json_array_get(n->external_ids, 1)
                                  : NULL;
        size_t i;
        const json_t *pair;
        json_array_foreach(pairs, i, pair)
        {
                const char *key = json_string_value(json_array_get(pair, 0));
                if (!osn_pool_index_has(key))
                        continue;
                /* A key that names no UUID names no spare: stale. */
                struct port_owner k = {osn_pool_index_uuid(key), 0}, *o = NULL;
                if (k.uuid && n_owners)
                        o = bsearch(&k, owners, n_owners, sizeof(*owners), cmp_owner);
                if (o && o->network == idx)
                        continue;
                char **v = realloc(n->stale_index, (n->n_stale_index + 1) * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                n->stale_index = v;
                if (!(v[n->n_stale_index] = strdup(key)))
                        return -ENOMEM;
                n->n_stale_index++;
        }
        if (n->n_stale_index > 1)
                qsort(n->stale_index, n->n_stale_index, sizeof(char *), cmp_strp);
        return 0;
}

/* 'all_ports': every port of the switches read was selected, so a port
 * missing among the rows is one without osn's ids (a foreign one). */
static int build(struct osn_inventory *inv, const json_t *switches, const json_t *ports,
                 bool all_ports)
{
        bool failed = false;
        size_t n_sw = json_array_size(switches), n_lsp = json_array_size(ports);
        inv->networks = calloc(n_sw ? n_sw : 1, sizeof(*inv->networks));
        inv->ports = calloc(n_lsp ? n_lsp : 1, sizeof(*inv->ports));
        inv->spares = calloc(n_lsp ? n_lsp : 1, sizeof(*inv->spares));
        _cleanup_free_ struct port_owner *owners = NULL, *spare_owners = NULL;
        size_t n_owners = 0, cap_owners = 0, n_spare_owners = 0;
        spare_owners = calloc(n_lsp ? n_lsp : 1, sizeof(*spare_owners));
        if (!inv->networks || !inv->ports || !inv->spares || !spare_owners)
                return -ENOMEM;

        /* Networks, and which of them holds each port uuid. */
        json_t *row;
        size_t i;
        json_array_foreach(switches, i, row)
        {
                const char *net = ext_id(row, OSN_EXT_NETWORK);
                if (!net)
                        continue;
                struct osn_inv_network *n = &inv->networks[inv->n_networks++];
                snprintf(n->uuid, sizeof(n->uuid), "%s",
                         osn_ovsdb_row_uuid(row) ? osn_ovsdb_row_uuid(row) : "");
                n->name = dup_opt(net, false, &failed);
                n->switch_name =
                    dup_opt(json_string_value(json_object_get(row, "name")), false, &failed);
                n->fingerprint = dup_opt(ext_id(row, OSN_EXT_FINGERPRINT), true, &failed);
                n->claims = streq(ext_id(row, OSN_EXT_IPAM), OSN_IPAM_CLAIMS);
                n->topology = dup_opt(ext_id(row, OSN_EXT_TOPOLOGY), true, &failed);
                n->scope = dup_opt(ext_id(row, INV_EXT_SCOPE), true, &failed);
                n->scope_namespace = dup_opt(ext_id(row, INV_EXT_NAMESPACE), true, &failed);
                n->namespaces = dup_opt(ext_id(row, INV_EXT_NAMESPACES), true, &failed);
                n->ports = json_incref(json_object_get(row, "ports"));
                n->external_ids = json_incref(json_object_get(row, "external_ids"));
                n->exclude_ips =
                    dup_opt(osn_ovsdb_map_get(json_object_get(row, "other_config"), "exclude_ips"),
                            true, &failed);
                if (n->fingerprint)
                        parse_fingerprint(n, n->fingerprint);
                else
                        parse_other_config(n, json_object_get(row, "other_config"));
                size_t np = osn_ovsdb_set_size(n->ports);
                for (size_t k = 0; k < np; k++) {
                        const char *u =
                            json_string_value(json_array_get(osn_ovsdb_set_at(n->ports, k), 1));
                        if (!u)
                                continue;
                        if (n_owners == cap_owners) {
                                cap_owners = cap_owners ? cap_owners * 2 : 64;
                                struct port_owner *o = realloc(owners, cap_owners * sizeof(*o));
                                if (!o)
                                        return -ENOMEM;
                                owners = o;
                        }
                        owners[n_owners++] = (struct port_owner){u, inv->n_networks - 1};
                }
        }
        if (failed)
                return -ENOMEM;
        if (n_owners)
                qsort(owners, n_owners, sizeof(*owners), cmp_owner);

        /* Ports: the localnet port describes its network; spares are its
         * pool; the others are attachments.  The ports a switch holds that
         * are not among the rows with osn/network are foreign. */
        _cleanup_free_ bool *osn_port_seen = calloc(n_owners ? n_owners : 1, sizeof(bool));
        if (!osn_port_seen)
                return -ENOMEM;
        json_array_foreach(ports, i, row)
        {
                const char *u = osn_ovsdb_row_uuid(row);
                struct port_owner key = {u ? u : "", 0}, *own = NULL;
                if (n_owners)
                        own = bsearch(&key, owners, n_owners, sizeof(*owners), cmp_owner);
                struct osn_inv_network *n = own ? &inv->networks[own->network] : NULL;
                const char *net = ext_id(row, OSN_EXT_NETWORK);
                if (!net)
                        continue;
                if (own)
                        osn_port_seen[own - owners] = true;
                if (streq(json_string_value(json_object_get(row, "type")), "localnet")) {
                        if (!n)
                                continue;
                        const json_t *opts = json_object_get(row, "options");
                        n->external = true;
                        free(n->localnet_port);
                        n->localnet_port = dup_opt(json_string_value(json_object_get(row, "name")),
                                                   false, &failed);
                        free(n->physical_network);
                        n->physical_network =
                            dup_opt(osn_ovsdb_map_get(opts, "network_name"), true, &failed);
                        /* tag_request is what osn asked for; "tag" what OVN
                         * allocated, when it did. */
                        const json_t *tag =
                            osn_ovsdb_set_at(json_object_get(row, "tag_request"), 0);
                        if (!json_is_integer(tag))
                                tag = osn_ovsdb_set_at(json_object_get(row, "tag"), 0);
                        n->vlan = json_is_integer(tag) ? (unsigned)json_integer_value(tag) : 0;
                        continue;
                }
                /* A DHCP server's port (ovn.h) is infrastructure, as the
                 * localnet port: no attachment. */
                if (streq(json_string_value(json_object_get(row, "type")), "localport"))
                        continue;
                /* A layer3 node switch's router port (layer3.h), likewise. */
                if (streq(json_string_value(json_object_get(row, "type")), "router"))
                        continue;
                bool spare = is_spare(row);
                struct osn_inv_port *p =
                    spare ? &inv->spares[inv->n_spares++] : &inv->ports[inv->n_ports++];
                if (fill_port(p, row, &failed) < 0)
                        return -ENOMEM;
                p->orphan = !n;
                p->spare = spare;
                port_addresses(p, n);
                if (n && spare) {
                        char ikey[OSN_POOL_INDEX_KEY_SIZE];
                        osn_pool_index_key(p->uuid, ikey);
                        p->indexed = osn_ovsdb_map_get(n->external_ids, ikey) != NULL;
                        n->n_spares++;
                        n->n_warm += p->warm_node != NULL;
                        n->n_unindexed += !p->indexed && !p->warm_node;
                        spare_owners[n_spare_owners++] = (struct port_owner){p->uuid, own->network};
                } else if (n && osn_inv_is_reservation(p)) {
                        n->n_reservations++;
                } else if (n) {
                        n->n_attachments++;
                        if (add_node(n, p->node) < 0)
                                return -ENOMEM;
                }
        }

        /* Pool indexes, against the spares just read (before the networks
         * are sorted: spare_owners holds their indexes). */
        if (n_spare_owners)
                qsort(spare_owners, n_spare_owners, sizeof(*spare_owners), cmp_owner);
        for (size_t k = 0; k < inv->n_networks; k++)
                if (stale_keys(&inv->networks[k], k, spare_owners, n_spare_owners) < 0)
                        return -ENOMEM;

        for (size_t k = 0; all_ports && k < n_owners; k++)
                if (!osn_port_seen[k])
                        inv->networks[owners[k].network].n_foreign++;

        for (size_t k = 0; k < inv->n_networks; k++)
                if (inv->networks[k].n_nodes > 1)
                        qsort(inv->networks[k].nodes, inv->networks[k].n_nodes, sizeof(char *),
                              cmp_strp);
        qsort(inv->networks, inv->n_networks, sizeof(*inv->networks), cmp_network);
        qsort(inv->ports, inv->n_ports, sizeof(*inv->ports), cmp_port);
        qsort(inv->spares, inv->n_spares, sizeof(*inv->spares), cmp_port);
        return failed ? -ENOMEM : 0;
}

int osn_inventory_read(struct osn_ovsdb *nb, const struct osn_inv_filter *filter, int64_t deadline,
                       struct osn_inventory **ret, struct osn_error *err)
{
        static const char *const sw_cols[] = {"_uuid",        "name",  "external_ids",
                                              "other_config", "ports", NULL};
        static const char *const lsp_cols[] = {
            "_uuid", "name",         "type",        "options", "addresses", "dynamic_addresses",
            "up",    "external_ids", "tag_request", "tag",     NULL};
        const char *network = filter ? filter->network : NULL;
        const char *node = filter ? filter->node : NULL;
        const char *sw_kv[3] = {NULL}, *lsp_kv[5] = {NULL};
        size_t k = 0;
        if (network) {
                sw_kv[0] = OSN_EXT_NETWORK;
                sw_kv[1] = network;
                lsp_kv[k++] = OSN_EXT_NETWORK;
                lsp_kv[k++] = network;
        }
        if (node) {
                lsp_kv[k++] = OSN_EXT_NODE;
                lsp_kv[k++] = node;
        }
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        if (!t)
                return -ENOMEM;
        osn_op sw_op = osn_txn_select(t, "Logical_Switch", where_includes(sw_kv), sw_cols);
        osn_op port_op = osn_txn_select(t, "Logical_Switch_Port", where_includes(lsp_kv), lsp_cols);
        osn_op localnet_op = OSN_OP_NONE, spare_op = OSN_OP_NONE;
        if (node) {
                /* The localnet ports (the network's physical side) in the
                 * same snapshot. */
                json_t *where = osn_where_and(
                    where_includes(sw_kv), osn_ovsdb_cond("type", "==", json_string("localnet")));
                localnet_op = osn_txn_select(t, "Logical_Switch_Port", where, lsp_cols);
                /* And the spares, which name no node either (a port that
                 * names this node is in the first select already). */
                const char *spare_kv[] = {OSN_EXT_SPARE, "true", NULL};
                const char *node_kv[] = {OSN_EXT_NODE, node, NULL};
                where =
                    osn_where_and(where_includes(sw_kv), osn_ovsdb_cond("external_ids", "includes",
                                                                        osn_ovsdb_map(spare_kv)));
                where = osn_where_and(
                    where, osn_ovsdb_cond("external_ids", "excludes", osn_ovsdb_map(node_kv)));
                spare_op = osn_txn_select(t, "Logical_Switch_Port", where, lsp_cols);
        }
        int r = osn_txn_commit(t, nb, deadline, err);
        if (r < 0)
                return r;
        const json_t *switches = osn_txn_rows(t, sw_op), *ports = osn_txn_rows(t, port_op);
        /* Localnet ports and spares carry no osn/node: a node filter left
         * them out.  (The results are the transaction's: a list of our
         * own.) */
        _cleanup_json_ json_t *all = NULL;
        if (node) {
                if (!(all = json_array()) || json_array_extend(all, (json_t *)ports) < 0 ||
                    json_array_extend(all, (json_t *)osn_txn_rows(t, localnet_op)) < 0)
                        return -ENOMEM;
                /* Of the ports that say spare, only the true spares: one
                 * that names a holder is an attachment, maybe another
                 * node's. */
                size_t i;
                json_t *row;
                json_array_foreach(osn_txn_rows(t, spare_op), i, row)
                {
                        if (is_spare(row) && json_array_append(all, row) < 0)
                                return -ENOMEM;
                }
                ports = all;
        }

        struct osn_inventory *inv = calloc(1, sizeof(*inv));
        if (!inv)
                return -ENOMEM;
        r = build(inv, switches, ports, !node);
        if (r < 0) {
                osn_inventory_free(inv);
                return r;
        }
        *ret = inv;
        return 0;
}

/* --- Queries for osnctl --- */

const char *osn_inv_network_scope(const struct osn_inv_network *n)
{
        return n->scope && *n->scope ? n->scope : "legacy";
}

/* Whether the comma list 'list' names 'item' (or "*", when 'star'). */
static bool list_has(const char *list, const char *item, bool star)
{
        size_t k = strlen(item);
        for (const char *p = list; p && *p;) {
                size_t l = strcspn(p, ",");
                if ((l == k && strncmp(p, item, k) == 0) || (star && l == 1 && *p == '*'))
                        return true;
                p += l + (p[l] == ',');
        }
        return false;
}

bool osn_inv_network_in_namespace(const struct osn_inventory *inv, const struct osn_inv_network *n,
                                  const char *ns)
{
        const char *scope = osn_inv_network_scope(n);
        if (streq(scope, "namespace"))
                return streq(n->scope_namespace, ns);
        if (streq(scope, "cluster"))
                return list_has(n->namespaces, ns, true);
        if (!streq(scope, "legacy"))
                return false;
        if (n->namespaces)
                return list_has(n->namespaces, ns, false);
        for (size_t i = 0; inv && i < inv->n_ports; i++)
                if (streq(inv->ports[i].network, n->name) && streq(inv->ports[i].pod_namespace, ns))
                        return true;
        return false;
}

/* Addresses as numbers, so that ranges can be clipped, merged and counted.
 * IPv4 uses the low 32 bits. */
typedef unsigned __int128 u128;

static unsigned family_bits(int family)
{
        return family == AF_INET ? 32 : 128;
}

static u128 addr_value(const struct osn_cidr *c)
{
        return osn_addr_value(c);
}

static struct osn_cidr value_addr(int family, u128 v)
{
        return osn_addr_from_value(family, v, family_bits(family));
}

/* Whether an OVN address string "MAC IP..." names 'addr' among its IPs. */
static bool address_string_has(const char *s, const struct osn_cidr *addr)
{
        if (!s)
                return false;
        _cleanup_free_ char *copy = strdup(s);
        char *save = NULL;
        if (!copy)
                return false;
        for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
                struct osn_cidr c;
                /* Static addresses may carry a prefix ("10.0.0.5/24"). */
                char *slash = strchr(t, '/');
                if (slash)
                        *slash = 0;
                if (osn_cidr_parse(t, false, &c) == 0 && osn_addr_equal(&c, addr))
                        return true;
        }
        return false;
}

bool osn_inv_port_holds_ip(const struct osn_inv_port *p, const struct osn_cidr *addr)
{
        for (size_t i = 0; i < p->n_ips; i++)
                if (osn_addr_equal(&p->ips[i], addr))
                        return true;
        return address_string_has(p->static_addresses, addr) ||
               address_string_has(p->dynamic_addresses, addr);
}

static bool address_string_mac(const char *s, const uint8_t mac[6])
{
        char first[OSN_MAC_STRLEN];
        uint8_t m[6];
        if (!s || sscanf(s, "%17s", first) != 1 || osn_mac_parse(first, m) < 0)
                return false;
        return memcmp(m, mac, 6) == 0;
}

bool osn_inv_port_holds_mac(const struct osn_inv_port *p, const uint8_t mac[6])
{
        return (p->has_mac && memcmp(p->mac, mac, 6) == 0) ||
               address_string_mac(p->static_addresses, mac) ||
               address_string_mac(p->dynamic_addresses, mac);
}

static bool range_equal(const struct osn_inv_range *a, const struct osn_inv_range *b)
{
        return a->first.family == b->first.family && osn_addr_equal(&a->first, &b->first) &&
               osn_addr_equal(&a->last, &b->last);
}

/* Appends the CIDRs that exactly cover range 'r' to v[*n] (capacity max). */
static void range_to_cidrs(const struct osn_inv_range *r, struct osn_cidr *v, size_t *n, size_t max)
{
        int f = r->first.family;
        unsigned bits = f == AF_INET ? 32 : 128;
        u128 lo = addr_value(&r->first), hi = addr_value(&r->last);
        while (lo <= hi && *n < max) {
                unsigned size = 0; /* the block holds 2^size addresses */
                while (size + 1 < bits) {
                        u128 block = (u128)1 << (size + 1);
                        if ((lo & (block - 1)) != 0 || hi - lo < block - 1)
                                break;
                        size++;
                }
                struct osn_cidr c = value_addr(f, lo);
                c.prefixlen = bits - size;
                v[(*n)++] = c;
                u128 next = lo + ((u128)1 << size);
                if (next <= lo)
                        break;
                lo = next;
        }
}

/* The reservations a fingerprint holds beyond subnets and excludes. */
static void settings_extra(const struct osn_netconf_settings *st, struct osn_netconf *nc)
{
        nc->n_reserved = st->n_reserved;
        memcpy(nc->reserved, st->reserved, st->n_reserved * sizeof(nc->reserved[0]));
        nc->n_infrastructure = st->n_infrastructure;
        memcpy(nc->infrastructure, st->infrastructure,
               st->n_infrastructure * sizeof(nc->infrastructure[0]));
        nc->n_gateways = st->n_gateways;
        memcpy(nc->gateways, st->gateways, st->n_gateways * sizeof(nc->gateways[0]));
}

/* The netconf an ADD would have had, as far as the switch tells. */
static void inv_netconf(const struct osn_inv_network *n, struct osn_netconf *nc)
{
        memset(nc, 0, sizeof(*nc));
        nc->name = n->name;
        nc->external = n->external;
        nc->n_subnets = n->n_subnets;
        memcpy(nc->subnets, n->subnets, n->n_subnets * sizeof(nc->subnets[0]));
        nc->n_excludes = n->n_excludes;
        memcpy(nc->excludes, n->excludes, n->n_excludes * sizeof(nc->excludes[0]));
        /* Networks made by osn's allocator have its DHCP server (an older
         * osn made none). */
        nc->dhcp = n->claims && !n->external;
        if (n->fingerprint) {
                struct osn_netconf_settings st;
                (void)osn_netconf_fingerprint_parse(n->fingerprint, &st);
                settings_extra(&st, nc);
                if (strstr(n->fingerprint, " dhcp=on"))
                        nc->dhcp = true;
                else if (strstr(n->fingerprint, " dhcp=off"))
                        nc->dhcp = false;
        }
}

/* The ranges of OVN's exclude_ips (legacy), parsed. */
static size_t legacy_ranges(const struct osn_inv_network *n, struct osn_inv_range *ret, size_t max)
{
        size_t k = 0;
        if (!n->exclude_ips)
                return 0;
        _cleanup_free_ char *copy = strdup(n->exclude_ips);
        char *save = NULL;
        if (!copy)
                return 0;
        for (char *t = strtok_r(copy, " ,", &save); t && k < max; t = strtok_r(NULL, " ,", &save)) {
                struct osn_inv_range r = {.from_ovn = true, .why = "OVN exclude_ips"};
                char *dots = strstr(t, "..");
                if (dots)
                        *dots = 0;
                if (osn_cidr_parse(t, false, &r.first) < 0 ||
                    osn_cidr_parse(dots ? dots + 2 : t, false, &r.last) < 0 ||
                    r.first.family != r.last.family || addr_value(&r.first) > addr_value(&r.last))
                        continue;
                ret[k++] = r;
        }
        return k;
}

size_t osn_inv_exclusions(const struct osn_inv_network *n, struct osn_inv_range *ret, size_t max)
{
        struct osn_netconf nc;
        inv_netconf(n, &nc);
        struct osn_alloc a;
        osn_alloc_init(&a, &nc);
        size_t k = 0;
        for (size_t s = 0; s < a.n_subnets; s++) {
                const struct osn_alloc_subnet *sub = &a.subnets[s];
                for (size_t i = 0; i < sub->n_ranges && k < max; i++) {
                        const struct osn_alloc_range *r = &sub->ranges[i];
                        if (r->reason <= OSN_BLOCK_ANYCAST)
                                continue; /* network, broadcast, anycast: not exclusions */
                        struct osn_inv_range x = {.why = osn_block_reason_name(r->reason)};
                        osn_alloc_range_bounds(sub, r, &x.first, &x.last);
                        x.has_cidr = r->reason != OSN_BLOCK_PHYSICAL_GATEWAY &&
                                     r->reason != OSN_BLOCK_DHCP_SERVER;
                        x.cidr = r->source;
                        ret[k++] = x;
                }
        }
        size_t from_fp = k;
        struct osn_inv_range legacy[OSN_INV_MAX_RANGES];
        size_t n_legacy = legacy_ranges(n, legacy, ARRAY_SIZE(legacy));
        for (size_t i = 0; i < n_legacy && k < max; i++) {
                bool dup = false;
                for (size_t j = 0; j < from_fp && !dup; j++)
                        dup = range_equal(&ret[j], &legacy[i]);
                if (!dup)
                        ret[k++] = legacy[i];
        }
        return k;
}

/* The allocator's answer (alloc.h), from the settings osn stored on the
 * switch: the same blocked and reserved addresses an ADD honours. */
static void usage_of(const struct osn_inventory *inv, const struct osn_inv_network *n, size_t idx,
                     struct osn_inv_usage *u)
{
        struct osn_netconf nc;
        inv_netconf(n, &nc);
        /* A network no ADD has migrated yet: northd still honours its
         * exclude_ips, so count them too (as the CIDRs that cover them). */
        struct osn_inv_range legacy[OSN_INV_MAX_RANGES];
        size_t n_legacy = legacy_ranges(n, legacy, ARRAY_SIZE(legacy));
        for (size_t i = 0; i < n_legacy; i++)
                range_to_cidrs(&legacy[i], nc.excludes, &nc.n_excludes, OSN_MAX_EXCLUDES);
        struct osn_alloc a;
        osn_alloc_init(&a, &nc);
        /* The attachments' addresses, then the spares': both are claimed. */
        const struct osn_inv_port *sets[] = {inv->ports, inv->spares};
        const size_t n_sets[] = {inv->n_ports, inv->n_spares};
        size_t n_held = 0;
        for (size_t s = 0; s < ARRAY_SIZE(sets); s++)
                for (size_t i = 0; i < n_sets[s]; i++)
                        if (streq(sets[s][i].network, n->name))
                                n_held += sets[s][i].n_ips;
        _cleanup_free_ struct osn_cidr *held = calloc(n_held ? n_held : 1, sizeof(*held));
        n_held = 0;
        for (size_t s = 0; held && s < ARRAY_SIZE(sets); s++)
                for (size_t i = 0; i < n_sets[s]; i++) {
                        const struct osn_inv_port *p = &sets[s][i];
                        if (!streq(p->network, n->name))
                                continue;
                        memcpy(held + n_held, p->ips, p->n_ips * sizeof(p->ips[0]));
                        n_held += p->n_ips;
                }
        struct osn_alloc_usage au;
        osn_alloc_usage(&a, idx, held, held ? n_held : 0, &au);
        osn_u128 cap = au.capacity + au.reserved, in_pool = au.used + au.reserved_used;
        u->subnet = n->subnets[idx];
        u->huge = cap > (osn_u128)INT64_MAX;
        u->capacity = u->huge ? UINT64_MAX : (uint64_t)cap;
        u->used = (uint64_t)au.held;
        u->free = u->huge ? UINT64_MAX : cap > in_pool ? (uint64_t)(cap - in_pool) : 0;
}

size_t osn_inv_subnet_usage(const struct osn_inventory *inv, const struct osn_inv_network *n,
                            struct osn_inv_usage *ret, size_t max)
{
        size_t k = 0;
        for (size_t i = 0; i < n->n_subnets && k < max; i++)
                usage_of(inv, n, i, &ret[k++]);
        return k;
}

_printf_(3, 4) static void say(char *why, size_t len, const char *fmt, ...)
{
        if (!why || !len)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, len, fmt, ap);
        va_end(ap);
}

enum osn_netns_state osn_inv_netns_state(const char *path, char *why, size_t len)
{
        if (!path || !*path) {
                say(why, len, "the OVS interface does not record the pod's netns");
                return OSN_NETNS_UNKNOWN;
        }
        int fd = -1, r = osn_netns_open(path, &fd);
        if (r == -ENOENT) {
                say(why, len, "its netns %s is gone", path);
                return OSN_NETNS_GONE;
        }
        struct statfs sf;
        if (r >= 0) {
                r = fstatfs(fd, &sf) < 0 ? -errno : 0;
                close(fd);
        }
        if (r < 0) {
                say(why, len, "cannot check its netns %s: %s", path, strerror(-r));
                return OSN_NETNS_UNKNOWN;
        }
        if ((unsigned long)sf.f_type != NSFS_MAGIC) {
                say(why, len, "its netns %s is no longer a network namespace", path);
                return OSN_NETNS_GONE;
        }
        return OSN_NETNS_ALIVE;
}

/* Whether the directory of 'path' holds at least one live network
 * namespace, i.e. whether this process sees the namespaces mounted there
 * (a container without the host's /var/run/netns sees an empty or missing
 * directory, or the files without their nsfs mounts). */
static bool sees_netns_dir(const char *path)
{
        char dir[PATH_MAX];
        const char *slash = strrchr(path, '/');
        if (!slash || slash == path || (size_t)(slash - path) >= sizeof(dir))
                return false;
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = 0;
        DIR *d = opendir(dir);
        if (!d)
                return false;
        bool seen = false;
        for (struct dirent *e; !seen && (e = readdir(d));) {
                char entry[PATH_MAX];
                if (e->d_name[0] == '.')
                        continue;
                int w = snprintf(entry, sizeof(entry), "%s/%s", dir, e->d_name);
                seen = w > 0 && (size_t)w < sizeof(entry) &&
                       osn_inv_netns_state(entry, NULL, 0) == OSN_NETNS_ALIVE;
        }
        closedir(d);
        return seen;
}

enum osn_netns_state osn_inv_iface_netns_state(const json_t *iface, char *why, size_t len)
{
        const char *path = osn_ovsdb_map_get(json_object_get(iface, "external_ids"), OSN_EXT_NETNS);
        enum osn_netns_state st = osn_inv_netns_state(path, why, len);
        if (st != OSN_NETNS_GONE)
                return st;
        /* OVS's own word that the host end of the veth is gone: the pod's
         * netns took it along when it went. */
        const json_t *ofport = json_object_get(iface, "ofport");
        if (json_is_integer(ofport) && json_integer_value(ofport) < 0)
                return st;
        if (streq(json_string_value(json_object_get(iface, "admin_state")), "down") &&
            streq(json_string_value(json_object_get(iface, "link_state")), "down"))
                return st;
        if (sees_netns_dir(path))
                return st;
        const char *slash = strrchr(path, '/');
        say(why, len,
            "cannot tell whether its netns %s is gone: %.*s shows no network namespace here and "
            "OVS still has the pod's veth; osnctl runs where it cannot see the host's network "
            "namespaces (a container without the host's /var/run/netns?): run it on the node "
            "itself, or in the osn-node pod with /var/run/netns mounted",
            path, slash ? (int)(slash - path) : 0, path);
        return OSN_NETNS_UNKNOWN;
}

/* --- Status --- */

/* snprintf() into a fixed field of the status, cut when too long. */
_printf_(3, 4) static void set_text(char *dst, size_t len, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(dst, len, fmt, ap);
        va_end(ap);
}

int osn_unixctl_call(const char *path, const char *command, int64_t deadline, char **ret,
                     struct osn_error *err)
{
        char remote[PATH_MAX + 8];
        if (snprintf(remote, sizeof(remote), "unix:%s", path) >= (int)sizeof(remote))
                return osn_error_set(err, -ENAMETOOLONG, OSN_CNI_IO_FAILURE,
                                     "unixctl socket path too long: %s", path);
        /* unixctl is JSON-RPC: the command is the method, its arguments the
         * params, the answer a string "result" (or a string "error"). */
        _cleanup_json_ json_t *result = NULL;
        int r = osn_jsonrpc_call(remote, command, json_array(), deadline, OSN_CNI_IO_FAILURE,
                                 &result, err);
        if (r < 0)
                return r;
        const char *text = json_string_value(result);
        if (!text)
                return osn_error_set(err, -EPROTO, OSN_CNI_IO_FAILURE,
                                     "%s: malformed answer to \"%s\"", path, command);
        char *out = strdup(text);
        if (!out)
                return -ENOMEM;
        size_t n = strlen(out);
        while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
                out[--n] = 0;
        *ret = out;
        return 0;
}

/* Whether 'db' is among the databases the server holds. */
static int probe_db(struct osn_ovsdb *c, const char *db, int64_t deadline, struct osn_error *err)
{
        _cleanup_json_ json_t *dbs = NULL;
        int r = osn_ovsdb_list_dbs(c, deadline, &dbs, err);
        if (r < 0)
                return r;
        json_t *v;
        size_t i;
        json_array_foreach(dbs, i, v)
        {
                if (streq(json_string_value(v), db))
                        return 0;
        }
        return osn_error_set(err, -ENOENT, OSN_CNI_INVALID_CONFIG,
                             "%s does not hold the %s database", osn_ovsdb_remote(c), db);
}

static void probe_controller(struct osn_node_status *st, const char *rundir, int64_t deadline)
{
        if (!rundir || !*rundir)
                rundir = getenv("OVN_RUNDIR");
        if (!rundir || !*rundir)
                rundir = "/var/run/ovn";
        char pidfile[PATH_MAX];
        snprintf(pidfile, sizeof(pidfile), "%s/ovn-controller.pid", rundir);
        FILE *f = fopen(pidfile, "re");
        long pid = 0;
        if (!f || fscanf(f, "%ld", &pid) != 1 || pid <= 0) {
                int e = f ? EINVAL : errno;
                if (f)
                        fclose(f);
                st->controller = OSN_PROBE_UNKNOWN;
                set_text(st->controller_error, sizeof(st->controller_error),
                         "cannot read %s: %s (is ovn-controller running? its run directory is "
                         "$OVN_RUNDIR, else /var/run/ovn; in a container, that directory must be "
                         "mounted, or give --ovn-rundir)",
                         pidfile, strerror(e));
                return;
        }
        fclose(f);
        set_text(st->controller_socket, sizeof(st->controller_socket), "%s/ovn-controller.%ld.ctl",
                 rundir, pid);
        struct osn_error e = {0};
        _cleanup_free_ char *answer = NULL;
        int r = osn_unixctl_call(st->controller_socket, "connection-status", deadline, &answer, &e);
        if (r < 0) {
                /* A stale pidfile or a dead daemon: not connected.  An
                 * unreachable socket of a live one (permissions) is unknown. */
                st->controller =
                    r == -ECONNREFUSED || r == -ENOENT ? OSN_PROBE_FAILED : OSN_PROBE_UNKNOWN;
                set_text(st->controller_error, sizeof(st->controller_error), "%s",
                         e.msg[0] ? e.msg : strerror(-r));
                return;
        }
        set_text(st->controller_status, sizeof(st->controller_status), "%s", answer);
        st->controller = streq(answer, "connected") ? OSN_PROBE_OK : OSN_PROBE_FAILED;
}

int osn_inventory_status(const struct osn_nodeconf *node, const char *ovn_rundir, int64_t deadline,
                         struct osn_node_status *ret)
{
        struct osn_node_status *st = ret;
        memset(st, 0, sizeof(*st));
        st->nb = st->ovs = st->bridge = st->controller = OSN_PROBE_UNKNOWN;

        /* NB */
        struct osn_error e = {0};
        _cleanup_ovsdb_ struct osn_ovsdb *nb = NULL, *ovs = NULL;
        set_text(st->nb_remote, sizeof(st->nb_remote), "%s", node->nb_remote);
        int r = osn_ovsdb_connect(node->nb_remote, &node->ssl, deadline, &nb, &e);
        st->nb_cfg = -1;
        if (r >= 0) {
                set_text(st->nb_remote, sizeof(st->nb_remote), "%s", osn_ovsdb_remote(nb));
                r = probe_db(nb, OSN_NB_DB, deadline, &e);
        }
        if (r >= 0) {
                /* What ovn-controller's ovn-nb-cfg is compared with. */
                _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
                osn_op sel =
                    t ? osn_txn_select(t, "NB_Global", NULL, (const char *const[]){"nb_cfg", NULL})
                      : OSN_OP_NONE;
                if (t && osn_txn_commit(t, nb, deadline, NULL) >= 0) {
                        const json_t *v = json_object_get(osn_txn_row(t, sel), "nb_cfg");
                        if (json_is_integer(v))
                                st->nb_cfg = json_integer_value(v);
                }
        }
        if (r == -ENOMEM)
                return r;
        st->nb = r < 0 ? OSN_PROBE_FAILED : OSN_PROBE_OK;
        if (r < 0)
                set_text(st->nb_error, sizeof(st->nb_error), "%s", e.msg[0] ? e.msg : strerror(-r));

        /* Local OVS and the integration bridge */
        osn_error_clear(&e);
        set_text(st->ovs_remote, sizeof(st->ovs_remote), "%s", node->ovs_remote);
        r = osn_ovsdb_connect(node->ovs_remote, NULL, deadline, &ovs, &e);
        if (r >= 0) {
                set_text(st->ovs_remote, sizeof(st->ovs_remote), "%s", osn_ovsdb_remote(ovs));
                r = probe_db(ovs, OSN_OVS_DB, deadline, &e);
        }
        if (r == -ENOMEM)
                return r;
        st->ovs = r < 0 ? OSN_PROBE_FAILED : OSN_PROBE_OK;
        if (r < 0)
                set_text(st->ovs_error, sizeof(st->ovs_error), "%s",
                         e.msg[0] ? e.msg : strerror(-r));
        if (st->ovs == OSN_PROBE_OK) {
                osn_error_clear(&e);
                r = osn_ovs_read_node(ovs, node->integration_bridge, deadline, &st->node, &e);
                if (r == -ENOMEM)
                        return r;
                st->bridge = r < 0 ? OSN_PROBE_FAILED : OSN_PROBE_OK;
                if (r < 0)
                        set_text(st->bridge_error, sizeof(st->bridge_error), "%s",
                                 e.msg[0] ? e.msg : strerror(-r));
        }
        if (st->bridge == OSN_PROBE_OK) {
                /* ovn-controller records on the bridge the last NB
                 * configuration whose flows it installed. */
                _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_OVS_DB);
                osn_op sel =
                    t ? osn_txn_select(t, "Bridge",
                                       osn_where_eq("_uuid", osn_ovsdb_uuid(st->node.bridge_uuid)),
                                       (const char *const[]){"external_ids", NULL})
                      : OSN_OP_NONE;
                if (t && osn_txn_commit(t, ovs, deadline, NULL) >= 0) {
                        const char *cfg = ext_id(osn_txn_row(t, sel), "ovn-nb-cfg");
                        set_text(st->nb_cfg_installed, sizeof(st->nb_cfg_installed), "%s",
                                 cfg ? cfg : "");
                }
        }

        probe_controller(st, ovn_rundir, deadline);
        return 0;
}
