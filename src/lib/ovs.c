/* ovs: see ovs.h. */
#include "ovs.h"

#include <stdio.h>

#include "log.h"
#include "ovn.h"
#include "txn.h"

/* The node read's two operations, in this order (their handles). */
enum { NODE_SEL_OVS, NODE_SEL_BR };

int osn_ovs_read_node_start(struct osn_ovsdb *ovs, const char *bridge, struct osn_txn **ret,
                            struct osn_error *err)
{
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_OVS_DB);
        if (!t)
                return -ENOMEM;
        /* Handles NODE_SEL_OVS and NODE_SEL_BR (a request's first two). */
        osn_txn_select(t, "Open_vSwitch", NULL, (const char *const[]){"external_ids", NULL});
        osn_txn_select(t, "Bridge", osn_where_eq("name", json_string(bridge)),
                       (const char *const[]){"_uuid", "datapath_type", NULL});
        int r = osn_txn_start(t, ovs, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

int osn_ovs_read_node(struct osn_ovsdb *ovs, const char *bridge, int64_t deadline,
                      struct osn_ovs_node *ret, struct osn_error *err)
{
        struct osn_txn *t = NULL;
        int r = osn_ovs_read_node_start(ovs, bridge, &t, err);
        return r < 0 ? r : osn_ovs_read_node_finish(ovs, t, bridge, deadline, ret, err);
}

int osn_ovs_read_node_finish(struct osn_ovsdb *ovs, struct osn_txn *txn, const char *bridge,
                             int64_t deadline, struct osn_ovs_node *ret, struct osn_error *err)
{
        _cleanup_txn_ struct osn_txn *t = txn;
        const osn_op sel_ovs = NODE_SEL_OVS, sel_br = NODE_SEL_BR;
        int r = osn_txn_finish(t, ovs, deadline, err);
        if (r < 0)
                return r;
        memset(ret, 0, sizeof(*ret));
        const json_t *ovsrow = osn_txn_row(t, sel_ovs);
        const json_t *br = osn_txn_row(t, sel_br);
        if (!br)
                return osn_error_set(err, -ENODEV, OSN_CNI_INVALID_CONFIG,
                                     "integration bridge \"%s\" does not exist in the local OVS "
                                     "DB %s (node config key \"integration_bridge\")",
                                     bridge, osn_ovsdb_remote(ovs));
        snprintf(ret->bridge_uuid, sizeof(ret->bridge_uuid), "%s", osn_ovsdb_row_uuid(br));
        const char *dp = json_string_value(json_object_get(br, "datapath_type"));
        snprintf(ret->datapath_type, sizeof(ret->datapath_type), "%s", dp ? dp : "");
        const json_t *ids = json_object_get(ovsrow, "external_ids");
        const char *m = osn_ovsdb_map_get(ids, "ovn-bridge-mappings");
        const char *sid = osn_ovsdb_map_get(ids, "system-id");
        snprintf(ret->bridge_mappings, sizeof(ret->bridge_mappings), "%s", m ? m : "");
        snprintf(ret->system_id, sizeof(ret->system_id), "%s", sid ? sid : "");
        return 0;
}

bool osn_ovs_maps_physnet(const char *mappings, const char *physnet)
{
        size_t len = strlen(physnet);
        for (const char *p = mappings; p && *p;) {
                while (*p == ' ' || *p == ',')
                        p++;
                if (strncmp(p, physnet, len) == 0 && p[len] == ':' && p[len + 1] &&
                    p[len + 1] != ',')
                        return true;
                p = strchr(p, ',');
        }
        return false;
}

int osn_ovs_add_port(struct osn_ovsdb *ovs, const struct osn_ovs_node *node, const char *ifname,
                     const char *const *ids, int64_t deadline, struct osn_error *err)
{
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_OVS_DB);
        if (!t)
                return -ENOMEM;
        osn_txn_insert(t, "Interface",
                       json_pack("{s:s, s:s, s:o}", "name", ifname, "type", "", "external_ids",
                                 osn_ovsdb_map(ids)),
                       "iface", NULL);
        osn_txn_insert(
            t, "Port",
            json_pack("{s:s, s:o}", "name", ifname, "interfaces", osn_ovsdb_named_uuid("iface")),
            "port", NULL);
        osn_op link = osn_txn_mutate(
            t, "Bridge", osn_where_eq("_uuid", osn_ovsdb_uuid(node->bridge_uuid)),
            osn_mutation("ports", "insert",
                         osn_ovsdb_set(json_pack("[o]", osn_ovsdb_named_uuid("port")))));
        int r = osn_txn_commit(t, ovs, deadline, err);
        if (r < 0)
                return r;
        if (osn_txn_count(t, link) != 1)
                /* The bridge vanished: the unreferenced Port and Interface were
                 * garbage-collected with the commit, nothing is left. */
                return osn_error_set(err, -ENODEV, OSN_CNI_TRY_AGAIN_LATER,
                                     "the integration bridge disappeared while adding port %s",
                                     ifname);
        return 0;
}

int osn_ovs_del_port(struct osn_ovsdb *ovs, const char *ifname, int64_t deadline,
                     struct osn_error *err)
{
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_OVS_DB);
        if (!t)
                return -ENOMEM;
        osn_op sel_port = osn_txn_select(t, "Port", osn_where_eq("name", json_string(ifname)),
                                         (const char *const[]){"_uuid", NULL});
        osn_op sel_iface = osn_txn_select(t, "Interface", osn_where_eq("name", json_string(ifname)),
                                          (const char *const[]){"external_ids", NULL});
        int r = osn_txn_commit(t, ovs, deadline, err);
        if (r < 0)
                return r;
        const json_t *port = osn_txn_row(t, sel_port);
        const json_t *iface = osn_txn_row(t, sel_iface);
        if (!port)
                return 0;
        if (!osn_ovsdb_map_get(json_object_get(iface, "external_ids"), OSN_EXT_NETWORK))
                return osn_error_set(err, -EPERM, OSN_CNI_CONFLICT,
                                     "OVS port \"%s\" was not created by osn; left alone", ifname);
        /* Port rows are not roots: dropping the bridge's reference deletes
         * the Port and its Interface. */
        const char *uuid = osn_ovsdb_row_uuid(port);
        _cleanup_txn_ struct osn_txn *del = osn_txn_new(OSN_OVS_DB);
        if (!del)
                return -ENOMEM;
        osn_txn_mutate(
            del, "Bridge", osn_where1("ports", "includes", osn_ovsdb_uuid(uuid)),
            osn_mutation("ports", "delete", osn_ovsdb_set(json_pack("[o]", osn_ovsdb_uuid(uuid)))));
        r = osn_txn_commit(del, ovs, deadline, err);
        return r < 0 ? r : 1;
}

int osn_ovs_list_attachments(struct osn_ovsdb *ovs, const char *network, int64_t deadline,
                             json_t **ret, struct osn_error *err)
{
        /* Without a network: every Interface, filtered below on the
         * osn/network key (OVSDB conditions cannot test a key's mere
         * presence). */
        const char *kv[] = {OSN_EXT_NETWORK, network, NULL};
        json_t *where = network ? osn_where1("external_ids", "includes", osn_ovsdb_map(kv)) : NULL;
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_OVS_DB);
        if (!t)
                return json_decref(where), -ENOMEM;
        osn_op sel = osn_txn_select(t, "Interface", where,
                                    (const char *const[]){"name", "external_ids", "ofport", "error",
                                                          "admin_state", "link_state", NULL});
        int r = osn_txn_commit(t, ovs, deadline, err);
        if (r < 0)
                return r;
        json_t *out = json_array(), *row;
        size_t i;
        json_array_foreach(osn_txn_rows(t, sel), i, row)
        {
                const json_t *ids = json_object_get(row, "external_ids");
                if (osn_ovsdb_map_get(ids, OSN_EXT_NETWORK) &&
                    !osn_ovsdb_map_get(ids, OSN_EXT_WARM))
                        json_array_append(out, row);
        }
        *ret = out;
        return 0;
}

int osn_ovs_set_iface_id(struct osn_ovsdb *ovs, const char *ifname, const char *key,
                         const char *value, int64_t deadline, struct osn_error *err)
{
        /* A map mutation: delete the key (whatever its value), insert it anew. */
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_OVS_DB);
        if (!t)
                return -ENOMEM;
        osn_txn_mutate(
            t, "Interface", osn_where_eq("name", json_string(ifname)),
            osn_mutation_and(
                osn_mutation("external_ids", "delete", osn_ovsdb_set(json_pack("[s]", key))),
                osn_mutation("external_ids", "insert",
                             osn_ovsdb_map((const char *const[]){key, value, NULL}))));
        return osn_txn_commit(t, ovs, deadline, err);
}

/* --- warm ports --- */

static const char *const warm_cols[] = {"name", "external_ids", "ofport", NULL};

/* Of 'rows', those that carry osn/warm (a new array). */
static json_t *warm_rows(const json_t *rows)
{
        json_t *out = json_array(), *row;
        size_t i;
        json_array_foreach((json_t *)rows, i, row)
        {
                if (osn_ovsdb_map_get(json_object_get(row, "external_ids"), OSN_EXT_WARM))
                        json_array_append(out, row);
        }
        return out;
}

/* The read's two operations, in this order (their handles). */
enum { WARM_SEL_NET, WARM_SEL_MINE };

int osn_ovs_read_warm_start(struct osn_ovsdb *ovs, const char *network, const char *cid,
                            const char *ifname, struct osn_txn **ret, struct osn_error *err)
{
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_OVS_DB);
        if (!t)
                return -ENOMEM;
        const char *net_kv[] = {OSN_EXT_NETWORK, network, NULL};
        const char *mine_kv[] = {OSN_EXT_CONTAINER, cid, OSN_EXT_IFNAME, ifname, NULL};
        osn_txn_select(t, "Interface",
                       osn_where1("external_ids", "includes", osn_ovsdb_map(net_kv)), warm_cols);
        osn_txn_select(t, "Interface",
                       osn_where1("external_ids", "includes", osn_ovsdb_map(mine_kv)), warm_cols);
        int r = osn_txn_start(t, ovs, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

int osn_ovs_read_warm_finish(struct osn_ovsdb *ovs, struct osn_txn *txn, int64_t deadline,
                             json_t **ret_warm, json_t **ret_mine, struct osn_error *err)
{
        _cleanup_txn_ struct osn_txn *t = txn;
        const osn_op sel_net = WARM_SEL_NET, sel_mine = WARM_SEL_MINE;
        int r = osn_txn_finish(t, ovs, deadline, err);
        if (r < 0)
                return r;
        json_t *warm = warm_rows(osn_txn_rows(t, sel_net));
        json_t *mine = json_deep_copy(osn_txn_rows(t, sel_mine));
        if (!warm || !mine) {
                json_decref(warm), json_decref(mine);
                return -ENOMEM;
        }
        *ret_warm = warm;
        *ret_mine = mine;
        return 0;
}

int osn_ovs_list_warm(struct osn_ovsdb *ovs, const char *network, int64_t deadline, json_t **ret,
                      struct osn_error *err)
{
        const char *kv[] = {OSN_EXT_NETWORK, network, NULL};
        json_t *where = network ? osn_where1("external_ids", "includes", osn_ovsdb_map(kv)) : NULL;
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_OVS_DB);
        if (!t)
                return json_decref(where), -ENOMEM;
        osn_op sel = osn_txn_select(t, "Interface", where, warm_cols);
        int r = osn_txn_commit(t, ovs, deadline, err);
        if (r < 0)
                return r;
        json_t *out = warm_rows(osn_txn_rows(t, sel));
        if (!out)
                return -ENOMEM;
        *ret = out;
        return 0;
}

/* The take's one operation (its handle). */
enum { TAKE_MUTATE };

int osn_ovs_take_warm_start(struct osn_ovsdb *ovs, const char *ifname, const char *warm,
                            const char *const *ids, struct osn_txn **ret, struct osn_error *err)
{
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_OVS_DB);
        if (!t)
                return -ENOMEM;
        const char *warm_kv[] = {OSN_EXT_WARM, warm, NULL};
        json_t *where =
            osn_where_and(osn_where_eq("name", json_string(ifname)),
                          osn_ovsdb_cond("external_ids", "includes", osn_ovsdb_map(warm_kv)));
        osn_txn_mutate(
            t, "Interface", where,
            osn_mutation_and(osn_mutation("external_ids", "delete",
                                          osn_ovsdb_set(json_pack("[s]", OSN_EXT_WARM))),
                             osn_mutation("external_ids", "insert", osn_ovsdb_map(ids))));
        int r = osn_txn_start(t, ovs, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(t);
        return 0;
}

int osn_ovs_take_warm_finish(struct osn_ovsdb *ovs, struct osn_txn *txn, int64_t deadline,
                             struct osn_error *err)
{
        _cleanup_txn_ struct osn_txn *t = txn;
        const osn_op take = TAKE_MUTATE;
        int r = osn_txn_finish(t, ovs, deadline, err);
        if (r < 0)
                return r;
        if (osn_txn_count(t, take) != 1)
                return osn_error_set(err, -EAGAIN, OSN_CNI_TRY_AGAIN_LATER,
                                     "the warm port was removed from this node's OVS meanwhile "
                                     "(by a DEL or osnctl gc); try again");
        return 0;
}
