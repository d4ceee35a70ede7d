/* layer3: see layer3.h. */
#include "layer3.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>

#include "alloc.h"
#include "log.h"
#include "ovn.h"
#include "txn.h"

#define MAX_CLAIM_RETRIES 32
#define HOLDERS_MAX       1024 /* bytes of the "nodes that hold" list in a message */

/* --- names and derived identities --- */

int osn_layer3_node_tenancy(const struct osn_tenancy *t, const char *node, struct osn_tenancy *ret,
                            struct osn_error *err)
{
        *ret = *t;
        int n = snprintf(ret->network, sizeof(ret->network), "%s@%s", t->network, node);
        if (n < 0 || (size_t)n >= sizeof(ret->network))
                return osn_error_set(err, -ENAMETOOLONG, OSN_CNI_INVALID_CONFIG,
                                     "layer3 network \"%s\": the key of its piece on node "
                                     "%.64s%s is %d bytes, at most %zu fit (shorten the NAD's "
                                     "name)",
                                     t->network, node, strlen(node) > 64 ? "..." : "", n,
                                     sizeof(ret->network) - 1);
        return 0;
}

/* A UUID derived from a node key and a salt (ovsdb-server(7): insert takes
 * a "uuid"), so that a removal names the row without reading it. */
static void derived_uuid(const char *node_key, uint64_t salt, char buf[37])
{
        uint64_t h1 = osn_alloc_seed(node_key) ^ (salt * 0x9e3779b97f4a7c15ull);
        h1 ^= h1 >> 33; /* a finalizer: every bit of the salt reaches every bit */
        h1 *= 0xff51afd7ed558ccdull;
        h1 ^= h1 >> 33;
        uint64_t h2 = (h1 ^ (h1 >> 31)) * 0xbf58476d1ce4e5b9ull;
        h2 ^= h2 >> 27;
        snprintf(buf, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(h1 >> 32),
                 (unsigned)(h1 >> 16) & 0xffff, (unsigned)h1 & 0xfff,
                 (unsigned)((h2 >> 48) & 0x3fff) | 0x8000,
                 (unsigned long long)(h2 & 0xffffffffffffull));
}

#define SALT_LRP  0x4c5250ull /* "LRP" */
#define SALT_RLSP 0x52545250ull

static char *router_name(const char *network)
{
        char *s = NULL;
        return asprintf(&s, "osn.%s", network) < 0 ? NULL : s;
}

static char *lrp_name(const char *node_key)
{
        char *s = NULL;
        return asprintf(&s, "osn.%s.lrp", node_key) < 0 ? NULL : s;
}

static char *rlsp_name(const char *node_key)
{
        char *s = NULL;
        return asprintf(&s, "osn.%s.router", node_key) < 0 ? NULL : s;
}

bool osn_layer3_router_lsp_uuid(const json_t *sw_ids, char uuid[37])
{
        const char *node_key = osn_ovsdb_map_get(sw_ids, OSN_EXT_NETWORK);
        if (!node_key || !osn_ovsdb_map_get(sw_ids, OSN_EXT_L3_NETWORK))
                return false;
        derived_uuid(node_key, SALT_RLSP, uuid);
        return true;
}

/* Conditions on external_ids. */
static json_t *where_ids(const char *const *kv)
{
        return osn_where1("external_ids", "includes", osn_ovsdb_map(kv));
}

/* --- host subnets --- */

/* Host subnet 'i' of 'cidr' at prefix 'hp'. */
static struct osn_cidr host_subnet(const struct osn_cidr *cidr, unsigned hp, uint64_t i)
{
        struct osn_cidr h = *cidr;
        unsigned bits = cidr->family == AF_INET ? 32 : 128;
        h.prefixlen = hp;
        /* Add i << (bits - hp) to the address, byte by byte from the end. */
        unsigned shift = bits - hp;
        int byte = (int)(bits / 8) - 1 - (int)(shift / 8);
        uint64_t carry = i << (shift % 8); /* i is below the number of switches */
        for (; byte >= 0 && carry; byte--) {
                carry += h.addr.bytes[byte];
                h.addr.bytes[byte] = (uint8_t)carry;
                carry >>= 8;
        }
        return h;
}

/* The router port's address in host subnet 'hs': its first. */
static struct osn_cidr first_address(const struct osn_cidr *hs)
{
        struct osn_cidr a = *hs;
        size_t last = a.family == AF_INET ? 3 : 15;
        a.addr.bytes[last] |= 1;
        a.prefixlen = a.family == AF_INET ? 32 : 128;
        return a;
}

static const char *host_key(int family)
{
        return family == AF_INET ? OSN_EXT_HOST_SUBNET4 : OSN_EXT_HOST_SUBNET6;
}

/* The node's host subnets from its switch's external_ids, one per family
 * of 'nc'.  -EINVAL when one is missing or does not lie in its CIDR. */
static int read_host_subnets(const struct osn_netconf *nc, const json_t *ids,
                             struct osn_layer3_node *ret)
{
        ret->n = 0;
        for (size_t i = 0; i < nc->n_subnets && ret->n < 2; i++) {
                const struct osn_cidr *c = &nc->subnets[i];
                const char *v = osn_ovsdb_map_get(ids, host_key(c->family));
                struct osn_cidr hs;
                if (!v || osn_cidr_parse(v, true, &hs) < 0 || hs.family != c->family ||
                    !osn_cidr_contains(c, &hs) ||
                    hs.prefixlen != osn_netconf_host_prefix(nc, c->family))
                        return -EINVAL;
                ret->host_subnets[ret->n] = hs;
                ret->gateways[ret->n] = first_address(&hs);
                ret->n++;
        }
        return 0;
}

/* Whether host subnet 'hs' is held by one of 'sws' (the network's node
 * switches). */
static bool held(const json_t *sws, const struct osn_cidr *hs)
{
        char s[OSN_CIDR_STRLEN];
        osn_cidr_format(hs, s, sizeof(s));
        size_t i;
        const json_t *sw;
        json_array_foreach((json_t *)sws, i, sw)
        {
                if (streq(osn_ovsdb_map_get(json_object_get(sw, "external_ids"),
                                            host_key(hs->family)),
                          s))
                        return true;
        }
        return false;
}

/* The nodes that hold host subnets of family 'family' of the network,
 * "a (10.1.0.0/24), b (10.1.1.0/24)", for the message of a full CIDR. */
static void describe_holders(const json_t *sws, int family, char *buf, size_t len)
{
        size_t used = 0, n = 0, left = 0;
        buf[0] = 0;
        size_t i;
        const json_t *sw;
        json_array_foreach((json_t *)sws, i, sw)
        {
                const json_t *ids = json_object_get(sw, "external_ids");
                const char *hs = osn_ovsdb_map_get(ids, host_key(family));
                const char *node = osn_ovsdb_map_get(ids, OSN_EXT_NODE);
                if (!hs)
                        continue;
                int w = snprintf(buf + used, len - used, "%s%s (%s)", n ? ", " : "",
                                 node ? node : "?", hs);
                if (w < 0 || (size_t)w >= len - used - 16) {
                        buf[used] = 0;
                        left++;
                        continue;
                }
                used += (size_t)w;
                n++;
        }
        if (left)
                snprintf(buf + used, len - used, " and %zu more", left);
        if (n == 0 && !left)
                snprintf(buf, len, "none");
}

/* Picks a free host subnet per family of 'nc' into 'ret', or fails naming
 * the CIDR and its holders. */
static int choose_host_subnets(const struct osn_netconf *nc, const struct osn_tenancy *ten,
                               const char *node, const json_t *sws, struct osn_layer3_node *ret,
                               struct osn_error *err)
{
        ret->n = 0;
        for (size_t i = 0; i < nc->n_subnets && ret->n < 2; i++) {
                const struct osn_cidr *c = &nc->subnets[i];
                unsigned hp = osn_netconf_host_prefix(nc, c->family);
                unsigned span = hp - c->prefixlen;
                /* Each switch holds at most one subnet per family: the first
                 * free one is among the first n+1. */
                uint64_t count = span >= 63 ? UINT64_MAX : (uint64_t)1 << span;
                uint64_t tries = json_array_size(sws) + 1;
                bool found = false;
                for (uint64_t k = 0; k < count && k < tries && !found; k++) {
                        struct osn_cidr hs = host_subnet(c, hp, k);
                        if (held(sws, &hs))
                                continue;
                        ret->host_subnets[ret->n] = hs;
                        ret->gateways[ret->n] = first_address(&hs);
                        ret->n++;
                        found = true;
                }
                if (!found) {
                        char a[OSN_CIDR_STRLEN], holders[HOLDERS_MAX];
                        describe_holders(sws, c->family, holders, sizeof(holders));
                        return osn_error_set(
                            err, -ENOSPC, OSN_CNI_TRY_AGAIN_LATER,
                            "layer3 network \"%s\": cluster CIDR %s has no free /%u host subnet "
                            "for node %s; nodes %s hold all %llu (a node's subnet is freed when "
                            "its last pod of the network goes, or by osnctl gc for a lost node; "
                            "else widen the CIDR: a new network)",
                            ten->network, osn_cidr_format(c, a, sizeof(a)), hp, node, holders,
                            (unsigned long long)count);
                }
        }
        return 0;
}

/* Whether comma-separated 'list' ("*": every one) names 'item'. */
static bool in_list(const char *list, const char *item)
{
        if (!list || !item)
                return false;
        if (streq(list, "*"))
                return true;
        size_t n = strlen(item);
        for (const char *p = list; *p;) {
                size_t l = strcspn(p, ",");
                if (l == n && strncmp(p, item, n) == 0)
                        return true;
                p += l + (p[l] == ',');
        }
        return false;
}

/* The layer3 networks of the NAD's name that 'sws' (switches with its
 * osn/name) show: one of another scope that this namespace's pods would
 * join elsewhere (node configs whose "cluster_networks" disagree) splits
 * the network, as ovn.h says for layer2. */
static int check_scopes(const json_t *sws, const struct osn_tenancy *ten, const char *node_config,
                        struct osn_error *err)
{
        size_t i;
        const json_t *sw;
        json_array_foreach((json_t *)sws, i, sw)
        {
                const json_t *ids = json_object_get(sw, "external_ids");
                const char *l3 = osn_ovsdb_map_get(ids, OSN_EXT_L3_NETWORK);
                const char *scope = osn_ovsdb_map_get(ids, OSN_EXT_SCOPE);
                if (!l3 || streq(l3, ten->network))
                        continue;
                bool split =
                    (ten->scope == OSN_SCOPE_NAMESPACE && streq(scope, "cluster") &&
                     in_list(osn_ovsdb_map_get(ids, OSN_EXT_NAMESPACES), ten->namespace)) ||
                    (ten->scope == OSN_SCOPE_CLUSTER && streq(scope, "namespace") &&
                     in_list(ten->namespaces, osn_ovsdb_map_get(ids, OSN_EXT_NAMESPACE)));
                if (split)
                        return osn_error_set(err, -EEXIST, OSN_CNI_CONFLICT,
                                             "layer3 network \"%s\" would split \"%s\", which "
                                             "another node made for the same pods (its node "
                                             "config's \"cluster_networks\" disagrees with this "
                                             "node's, %s); make \"cluster_networks\" the same on "
                                             "every node",
                                             ten->network, l3, node_config ? node_config : "");
        }
        return 0;
}

/* --- the claim --- */

static void lrp_mac(const char *node_key, char buf[OSN_MAC_STRLEN])
{
        uint64_t h = osn_alloc_seed(node_key) ^ SALT_LRP;
        uint8_t mac[6] = {0x0a,
                          0x58,
                          (uint8_t)(h >> 32),
                          (uint8_t)(h >> 24),
                          (uint8_t)(h >> 16),
                          (uint8_t)(h >> 8)};
        osn_mac_format(mac, buf, OSN_MAC_STRLEN);
}

/* The external_ids of a node switch: the network's (ovn.h) with the node's
 * key, plus what makes it the node's claim. */
static json_t *node_switch_ids(const struct osn_netconf *nc, const struct osn_layer3_node *n,
                               const char *network, const char *node, const char *fingerprint)
{
        json_t *ids = osn_nb_switch_ids(nc, &n->ten, n->ten.network, fingerprint);
        json_t *pairs = json_array_get(ids, 1);
        json_array_append_new(pairs, json_pack("[s,s]", OSN_EXT_L3_NETWORK, network));
        json_array_append_new(pairs, json_pack("[s,s]", OSN_EXT_NODE, node));
        for (size_t i = 0; i < n->n; i++) {
                char s[OSN_CIDR_STRLEN];
                osn_cidr_format(&n->host_subnets[i], s, sizeof(s));
                json_array_append_new(pairs,
                                      json_pack("[s,s]", host_key(n->host_subnets[i].family), s));
        }
        return ids;
}

/* Builds into 't' the transaction that claims the node's host subnets
 * (layer3.h); 0 or -ENOMEM. */
static int claim_txn(struct osn_txn *t, const struct osn_netconf *nc, const struct osn_tenancy *ten,
                     const char *node, const char *fingerprint, const json_t *router,
                     const struct osn_layer3_node *n)
{
        const char *net = ten->network, *key = n->ten.network;
        _cleanup_free_ char *rname = router_name(net), *sw_name = osn_switch_name(key),
                            *lrp = lrp_name(key), *rlsp = rlsp_name(key);
        if (!rname || !sw_name || !lrp || !rlsp)
                return -ENOMEM;
        char hs[2][OSN_CIDR_STRLEN] = {"", ""};
        for (size_t i = 0; i < n->n; i++)
                osn_cidr_format(&n->host_subnets[i], hs[i], sizeof(hs[i]));
        osn_txn_comment(t, "osn: layer3 network %s: node %s claims %s%s%s", net, node, hs[0],
                        n->n > 1 ? " " : "", hs[1]);
        /* A node never gets two; a host subnet never goes to two nodes. */
        osn_txn_absent(
            t, "Logical_Switch",
            where_ids((const char *const[]){OSN_EXT_L3_NETWORK, net, OSN_EXT_NODE, node, NULL}));
        osn_txn_absent(t, "Logical_Switch", osn_where_eq("name", json_string(sw_name)));
        for (size_t i = 0; i < n->n; i++)
                osn_txn_absent(t, "Logical_Switch",
                               where_ids((const char *const[]){OSN_EXT_L3_NETWORK, net,
                                                               host_key(n->host_subnets[i].family),
                                                               hs[i], NULL}));
        /* The router port, with the first address of each host subnet. */
        char lrp_uuid[37], rlsp_uuid[37], mac[OSN_MAC_STRLEN];
        derived_uuid(key, SALT_LRP, lrp_uuid);
        derived_uuid(key, SALT_RLSP, rlsp_uuid);
        lrp_mac(key, mac);
        json_t *networks = json_array();
        for (size_t i = 0; networks && i < n->n; i++) {
                char gw[OSN_CIDR_STRLEN], b[OSN_CIDR_STRLEN + 8];
                osn_addr_format(&n->gateways[i], gw, sizeof(gw));
                snprintf(b, sizeof(b), "%s/%u", gw, n->host_subnets[i].prefixlen);
                json_array_append_new(networks, json_string(b));
        }
        const char *port_ids[] = {OSN_EXT_NETWORK, key, OSN_EXT_L3_NETWORK, net, NULL};
        json_t *row = json_object();
        json_object_set_new(row, "name", json_string(lrp));
        json_object_set_new(row, "mac", json_string(mac));
        json_object_set_new(row, "networks", osn_ovsdb_set(networks));
        json_object_set_new(row, "external_ids", osn_ovsdb_map(port_ids));
        osn_txn_insert(t, "Logical_Router_Port", row, "lrp", lrp_uuid);
        json_t *lrp_set = osn_ovsdb_set(json_pack("[o]", osn_ovsdb_named_uuid("lrp")));
        if (router) {
                /* Joined, while it is still there. */
                const char *ru = osn_ovsdb_row_uuid(router);
                osn_txn_exists(t, "Logical_Router", osn_where_eq("_uuid", osn_ovsdb_uuid(ru)));
                osn_txn_mutate(t, "Logical_Router", osn_where_eq("_uuid", osn_ovsdb_uuid(ru)),
                               osn_mutation("ports", "insert", lrp_set));
        } else {
                /* The network's first node makes it, unless another did. */
                json_t *rids = osn_nb_switch_ids(nc, ten, net, fingerprint);
                json_array_append_new(json_array_get(rids, 1),
                                      json_pack("[s,s]", OSN_EXT_L3_NETWORK, net));
                osn_txn_absent(t, "Logical_Router", osn_where_eq("name", json_string(rname)));
                json_t *r = json_object();
                json_object_set_new(r, "name", json_string(rname));
                json_object_set_new(r, "external_ids", rids);
                json_object_set_new(r, "ports", lrp_set);
                osn_txn_insert(t, "Logical_Router", r, NULL, NULL);
        }
        /* The switch's side of the link, and the switch: the claim. */
        const char *rlsp_ids[] = {OSN_EXT_NETWORK, key, NULL};
        const char *rlsp_opts[] = {"router-port", lrp, NULL};
        json_t *lsp = json_object();
        json_object_set_new(lsp, "name", json_string(rlsp));
        json_object_set_new(lsp, "type", json_string("router"));
        json_object_set_new(lsp, "addresses", osn_ovsdb_set(json_pack("[s]", "router")));
        json_object_set_new(lsp, "options", osn_ovsdb_map(rlsp_opts));
        json_object_set_new(lsp, "external_ids", osn_ovsdb_map(rlsp_ids));
        osn_txn_insert(t, "Logical_Switch_Port", lsp, "rlsp", rlsp_uuid);
        json_t *sw = json_object();
        json_object_set_new(sw, "name", json_string(sw_name));
        json_object_set_new(sw, "external_ids", node_switch_ids(nc, n, net, node, fingerprint));
        json_object_set_new(sw, "ports",
                            osn_ovsdb_set(json_pack("[o]", osn_ovsdb_named_uuid("rlsp"))));
        osn_txn_insert(t, "Logical_Switch", sw, NULL, NULL);
        return 0;
}

/* The router of another network's settings, or not osn's. */
static int check_router(const json_t *router, const struct osn_tenancy *ten,
                        const char *fingerprint, struct osn_error *err)
{
        const json_t *ids = json_object_get(router, "external_ids");
        const char *fp = osn_ovsdb_map_get(ids, OSN_EXT_FINGERPRINT);
        if (!streq(osn_ovsdb_map_get(ids, OSN_EXT_L3_NETWORK), ten->network))
                return osn_error_set(err, -EEXIST, OSN_CNI_CONFLICT,
                                     "logical router \"osn.%s\" exists but was not created by osn "
                                     "for layer3 network \"%s\"; osn leaves it alone",
                                     ten->network, ten->network);
        if (!streq(fp, fingerprint))
                return osn_error_set(err, -EEXIST, OSN_CNI_CONFLICT,
                                     "layer3 network \"%s\" exists with other settings: it has "
                                     "\"%s\", this NAD asks for \"%s\"; make the NADs agree",
                                     ten->network, fp ? fp : "", fingerprint);
        return 0;
}

/* The node's switch, found: its host subnets when it is this network's
 * piece and they fit the NAD, and its router. */
static int adopt_own(const json_t *own, const json_t *router, const struct osn_netconf *nc,
                     const struct osn_tenancy *ten, const char *node, const char *sw_name,
                     const char *fingerprint, struct osn_layer3_node *ret, struct osn_error *err)
{
        const json_t *ids = json_object_get(own, "external_ids");
        if (!streq(osn_ovsdb_map_get(ids, OSN_EXT_L3_NETWORK), ten->network))
                return osn_error_set(err, -EEXIST, OSN_CNI_CONFLICT,
                                     "logical switch \"%s\" exists but is not node %s's piece "
                                     "of layer3 network \"%s\"; osn leaves it alone",
                                     sw_name, node, ten->network);
        if (read_host_subnets(nc, ids, ret) < 0)
                return osn_error_set(
                    err, -EEXIST, OSN_CNI_CONFLICT,
                    "logical switch \"%s\" holds host subnets (\"%s\" \"%s\") that do not fit "
                    "layer3 network \"%s\" as this NAD has it (%s)",
                    sw_name, osn_ovsdb_map_get(ids, OSN_EXT_HOST_SUBNET4) ?: "",
                    osn_ovsdb_map_get(ids, OSN_EXT_HOST_SUBNET6) ?: "", ten->network, fingerprint);
        if (router)
                return 0;
        /* A node switch without its router: never so after a claim commits
         * (the router goes only with its last port, which goes with its
         * switch). */
        return osn_error_set(err, -EAGAIN, OSN_CNI_TRY_AGAIN_LATER,
                             "layer3 network \"%s\": node %s's switch %s has no router; osnctl "
                             "gc removes it, then try again",
                             ten->network, node, sw_name);
}

/* The node's first ADD reads who holds which host subnet of the network
 * (into 'all'; the switches by *ret_op), and refuses a layer2 or localnet
 * network of the same key and node configs that would split it. */
static int read_holders(struct osn_ovsdb *nb, struct osn_txn *all, const struct osn_tenancy *ten,
                        const char *node_config, const char *fingerprint, int64_t deadline,
                        osn_op *ret_op, struct osn_error *err)
{
        static const char *const sw_cols[] = {"name", "external_ids", NULL};
        _cleanup_free_ char *l2_name = osn_switch_name(ten->network);
        if (!l2_name)
                return -ENOMEM;
        osn_txn_reset(all);
        *ret_op = osn_txn_select(
            all, "Logical_Switch",
            where_ids((const char *const[]){OSN_EXT_L3_NETWORK, ten->network, NULL}), sw_cols);
        osn_op q_l2 = osn_txn_select(all, "Logical_Switch",
                                     osn_where_eq("name", json_string(l2_name)), sw_cols);
        osn_op q_name = OSN_OP_NONE;
        if (ten->scope != OSN_SCOPE_LEGACY)
                q_name = osn_txn_select(
                    all, "Logical_Switch",
                    where_ids((const char *const[]){OSN_EXT_NAME, ten->name, NULL}), sw_cols);
        int r = osn_txn_commit(all, nb, deadline, err);
        if (r < 0)
                return r;
        if (q_name != OSN_OP_NONE &&
            (r = check_scopes(osn_txn_rows(all, q_name), ten, node_config, err)) < 0)
                return r;
        const json_t *l2 = osn_txn_row(all, q_l2);
        if (l2) {
                /* The key names a layer2 or localnet network: one name, two
                 * topologies, is a conflict as on layer2. */
                const char *fp =
                    osn_ovsdb_map_get(json_object_get(l2, "external_ids"), OSN_EXT_FINGERPRINT);
                return osn_error_set(err, -EEXIST, OSN_CNI_CONFLICT,
                                     "network \"%s\" exists with other settings: it has \"%s\" "
                                     "(switch %s), this NAD asks for \"%s\"; make the NADs agree",
                                     ten->network, fp ? fp : "", l2_name, fingerprint);
        }
        return 0;
}

static void log_claimed(const struct osn_tenancy *ten, const char *node,
                        const struct osn_layer3_node *n, bool made_router)
{
        char a[OSN_CIDR_STRLEN], b[OSN_CIDR_STRLEN] = "";
        osn_cidr_format(&n->host_subnets[0], a, sizeof(a));
        if (n->n > 1)
                osn_cidr_format(&n->host_subnets[1], b, sizeof(b));
        log_info("layer3 network %s: node %s claimed host subnet %s%s%s%s", ten->network, node, a,
                 b[0] ? " and " : "", b, made_router ? " (and made its router)" : "");
}

int osn_layer3_join(struct osn_ovsdb *nb, const struct osn_netconf *nc,
                    const struct osn_tenancy *ten, const char *node, const char *node_config,
                    const char *fingerprint, int64_t deadline, struct osn_layer3_node *ret,
                    struct osn_error *err)
{
        memset(ret, 0, sizeof(*ret));
        int r = osn_layer3_node_tenancy(ten, node, &ret->ten, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *sw_name = osn_switch_name(ret->ten.network);
        _cleanup_free_ char *rname = router_name(ten->network);
        if (!sw_name || !rname)
                return -ENOMEM;
        static const char *const sw_cols[] = {"name", "external_ids", NULL};
        static const char *const r_cols[] = {"_uuid", "external_ids", NULL};
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        _cleanup_txn_ struct osn_txn *all = osn_txn_new(OSN_NB_DB);
        _cleanup_txn_ struct osn_txn *claim = osn_txn_new(OSN_NB_DB);
        if (!t || !all || !claim)
                return -ENOMEM;
        for (int attempt = 0; attempt < MAX_CLAIM_RETRIES; attempt++) {
                /* The common case, one round trip: the node has its switch. */
                osn_txn_reset(t);
                osn_op q_own = osn_txn_select(t, "Logical_Switch",
                                              osn_where_eq("name", json_string(sw_name)), sw_cols);
                osn_op q_router = osn_txn_select(t, "Logical_Router",
                                                 osn_where_eq("name", json_string(rname)), r_cols);
                if ((r = osn_txn_commit(t, nb, deadline, err)) < 0)
                        return r;
                const json_t *own = osn_txn_row(t, q_own);
                const json_t *router = osn_txn_row(t, q_router);
                size_t n_routers = json_array_size(osn_txn_rows(t, q_router));
                if (n_routers > 1)
                        return osn_error_set(err, -ENOTUNIQ, OSN_CNI_CONFLICT,
                                             "%zu logical routers are named \"%s\"; osn expects "
                                             "one (remove the extra ones)",
                                             n_routers, rname);
                if (router && (r = check_router(router, ten, fingerprint, err)) < 0)
                        return r;
                if (own)
                        return adopt_own(own, router, nc, ten, node, sw_name, fingerprint, ret,
                                         err);
                /* The node's first ADD: read who holds what, claim a free
                 * host subnet per family. */
                osn_op q_all;
                if ((r = read_holders(nb, all, ten, node_config, fingerprint, deadline, &q_all,
                                      err)) < 0 ||
                    (r = choose_host_subnets(nc, ten, node, osn_txn_rows(all, q_all), ret, err)) <
                        0)
                        return r;
                osn_txn_reset(claim);
                if ((r = claim_txn(claim, nc, ten, node, fingerprint, router, ret)) < 0)
                        return r;
                r = osn_txn_commit(claim, nb, deadline, err);
                if (r == -EAGAIN) {
                        /* Another node took that subnet, or made or removed
                         * the router, or this node's other ADD claimed first:
                         * a guard (osn_txn_failed()) did not hold. */
                        log_info("layer3 network %s: node %s lost a claim (operation %d); "
                                 "reading again",
                                 ten->network, node, osn_txn_failed(claim));
                        osn_error_clear(err);
                        continue;
                }
                if (r < 0)
                        return r;
                log_claimed(ten, node, ret, !router);
                ret->created = true;
                return 0;
        }
        return osn_error_set(err, -EAGAIN, OSN_CNI_TRY_AGAIN_LATER,
                             "layer3 network \"%s\": node %s lost the claim of a host subnet %d "
                             "times in a row; try again",
                             ten->network, node, MAX_CLAIM_RETRIES);
}

void osn_layer3_node_netconf(const struct osn_netconf *nc, const struct osn_layer3_node *n,
                             struct osn_netconf *ret)
{
        *ret = *nc;
        ret->n_subnets = n->n;
        memcpy(ret->subnets, n->host_subnets, n->n * sizeof(n->host_subnets[0]));
        ret->n_gateways = n->n;
        memcpy(ret->gateways, n->gateways, n->n * sizeof(n->gateways[0]));
}

/* --- release --- */

int osn_layer3_txn_release(struct osn_txn *t, const json_t *sw_ids)
{
        const char *key = osn_ovsdb_map_get(sw_ids, OSN_EXT_NETWORK);
        const char *net = osn_ovsdb_map_get(sw_ids, OSN_EXT_L3_NETWORK);
        if (!key || !net)
                return 0;
        _cleanup_free_ char *rname = router_name(net);
        if (!rname)
                return -ENOMEM;
        char lrp_uuid[37];
        derived_uuid(key, SALT_LRP, lrp_uuid);
        /* Its router port leaves the router (and so goes); the router goes
         * when that was its last port.  By condition, not by guard: a node
         * that joined meanwhile keeps it, one that joins later finds it
         * gone and makes it again. */
        osn_txn_mutate(t, "Logical_Router", osn_where_eq("name", json_string(rname)),
                       osn_mutation("ports", "delete",
                                    osn_ovsdb_set(json_pack("[o]", osn_ovsdb_uuid(lrp_uuid)))));
        json_t *w = osn_where_eq("name", json_string(rname));
        w = osn_where_and(
            w, osn_ovsdb_cond("external_ids", "includes",
                              osn_ovsdb_map((const char *const[]){OSN_EXT_L3_NETWORK, net, NULL})));
        w = osn_where_and(w, osn_ovsdb_cond("ports", "==", osn_ovsdb_set(json_array())));
        osn_txn_delete(t, "Logical_Router", w);
        return 0;
}

int osn_layer3_leave(struct osn_ovsdb *nb, const char *node_key, int64_t deadline,
                     struct osn_error *err)
{
        _cleanup_free_ char *sw_name = osn_switch_name(node_key);
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        if (!sw_name || !t)
                return -ENOMEM;
        osn_op q = osn_txn_select(t, "Logical_Switch", osn_where_eq("name", json_string(sw_name)),
                                  (const char *const[]){"_uuid", "ports", "external_ids", NULL});
        int r = osn_txn_commit(t, nb, deadline, err);
        if (r < 0)
                return r;
        const json_t *sw = osn_txn_row(t, q);
        const json_t *ids = json_object_get(sw, "external_ids");
        const json_t *ports = json_object_get(sw, "ports");
        char rlsp[37];
        if (!sw || !osn_layer3_router_lsp_uuid(ids, rlsp) ||
            !streq(osn_ovsdb_map_get(ids, OSN_EXT_NETWORK), node_key) ||
            osn_ovsdb_set_size(ports) != 1 ||
            !streq(json_string_value(json_array_get(osn_ovsdb_set_at(ports, 0), 1)), rlsp))
                return 0;
        r = osn_nb_delete_switch_if(nb, node_key, osn_ovsdb_row_uuid(sw), ports, ids,
                                    "a node's first ADD failed", deadline, err);
        if (r == -EAGAIN) /* another ADD joined meanwhile: the switch is theirs */
                return osn_error_clear(err), 0;
        return r < 0 ? r : 0;
}
