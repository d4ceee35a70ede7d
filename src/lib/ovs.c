/* ovs: see ovs.h. */
#include "ovs.h"

#include <stdio.h>

#include "log.h"
#include "ovn.h"

int osn_ovs_read_node(struct osn_ovsdb *ovs, const char *bridge, int64_t deadline,
                      struct osn_ovs_node *ret, struct osn_error *err)
{
        json_t *ops =
            json_pack("[{s:s, s:s, s:[], s:[s]}, {s:s, s:s, s:[o], s:[s,s]}]", "op", "select",
                      "table", "Open_vSwitch", "where", "columns", "external_ids", "op", "select",
                      "table", "Bridge", "where", osn_ovsdb_cond("name", "==", json_string(bridge)),
                      "columns", "_uuid", "datapath_type");
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(ovs, OSN_OVS_DB, ops, deadline, &res, err);
        if (r < 0)
                return r;
        memset(ret, 0, sizeof(*ret));
        json_t *ovsrow = json_array_get(osn_ovsdb_result_rows(res, 0), 0);
        json_t *br = json_array_get(osn_ovsdb_result_rows(res, 1), 0);
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
        json_t *ops = json_pack(
            "[{s:s, s:s, s:{s:s, s:s, s:o}, s:s},"
            " {s:s, s:s, s:{s:s, s:o}, s:s},"
            " {s:s, s:s, s:[o], s:[[s,s,o]]}]",
            "op", "insert", "table", "Interface", "row", "name", ifname, "type", "", "external_ids",
            osn_ovsdb_map(ids), "uuid-name", "iface", "op", "insert", "table", "Port", "row",
            "name", ifname, "interfaces", osn_ovsdb_named_uuid("iface"), "uuid-name", "port", "op",
            "mutate", "table", "Bridge", "where",
            osn_ovsdb_cond("_uuid", "==", osn_ovsdb_uuid(node->bridge_uuid)), "mutations", "ports",
            "insert", osn_ovsdb_set(json_pack("[o]", osn_ovsdb_named_uuid("port"))));
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(ovs, OSN_OVS_DB, ops, deadline, &res, err);
        if (r < 0)
                return r;
        if (json_integer_value(json_object_get(json_array_get(res, 2), "count")) != 1)
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
        json_t *ops =
            json_pack("[{s:s, s:s, s:[o], s:[s]}, {s:s, s:s, s:[o], s:[s]}]", "op", "select",
                      "table", "Port", "where", osn_ovsdb_cond("name", "==", json_string(ifname)),
                      "columns", "_uuid", "op", "select", "table", "Interface", "where",
                      osn_ovsdb_cond("name", "==", json_string(ifname)), "columns", "external_ids");
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(ovs, OSN_OVS_DB, ops, deadline, &res, err);
        if (r < 0)
                return r;
        json_t *port = json_array_get(osn_ovsdb_result_rows(res, 0), 0);
        json_t *iface = json_array_get(osn_ovsdb_result_rows(res, 1), 0);
        if (!port)
                return 0;
        if (!osn_ovsdb_map_get(json_object_get(iface, "external_ids"), OSN_EXT_NETWORK))
                return osn_error_set(err, -EPERM, OSN_CNI_CONFLICT,
                                     "OVS port \"%s\" was not created by osn; left alone", ifname);
        /* Port rows are not roots: dropping the bridge's reference deletes
         * the Port and its Interface. */
        json_t *del = json_pack(
            "[{s:s, s:s, s:[o], s:[[s,s,o]]}]", "op", "mutate", "table", "Bridge", "where",
            osn_ovsdb_cond("ports", "includes", osn_ovsdb_uuid(osn_ovsdb_row_uuid(port))),
            "mutations", "ports", "delete",
            osn_ovsdb_set(json_pack("[o]", osn_ovsdb_uuid(osn_ovsdb_row_uuid(port)))));
        _cleanup_json_ json_t *dres = NULL;
        r = osn_ovsdb_transact(ovs, OSN_OVS_DB, del, deadline, &dres, err);
        return r < 0 ? r : 1;
}

int osn_ovs_list_attachments(struct osn_ovsdb *ovs, const char *network, int64_t deadline,
                             json_t **ret, struct osn_error *err)
{
        json_t *where;
        if (network) {
                const char *kv[] = {OSN_EXT_NETWORK, network, NULL};
                where =
                    json_pack("[o]", osn_ovsdb_cond("external_ids", "includes", osn_ovsdb_map(kv)));
        } else {
                /* Every Interface: filtered below on the osn/network key
                 * (OVSDB conditions cannot test a key's mere presence). */
                where = json_array();
        }
        json_t *ops = json_pack("[{s:s, s:s, s:o, s:[s,s,s,s,s,s]}]", "op", "select", "table",
                                "Interface", "where", where, "columns", "name", "external_ids",
                                "ofport", "error", "admin_state", "link_state");
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(ovs, OSN_OVS_DB, ops, deadline, &res, err);
        if (r < 0)
                return r;
        json_t *out = json_array(), *row;
        size_t i;
        json_array_foreach(osn_ovsdb_result_rows(res, 0), i, row)
        {
                if (osn_ovsdb_map_get(json_object_get(row, "external_ids"), OSN_EXT_NETWORK))
                        json_array_append(out, row);
        }
        *ret = out;
        return 0;
}

int osn_ovs_set_iface_id(struct osn_ovsdb *ovs, const char *ifname, const char *key,
                         const char *value, int64_t deadline, struct osn_error *err)
{
        /* A map mutation: delete the key (whatever its value), insert it anew. */
        json_t *ops = json_pack(
            "[{s:s, s:s, s:[o], s:[[s,s,o],[s,s,o]]}]", "op", "mutate", "table", "Interface",
            "where", osn_ovsdb_cond("name", "==", json_string(ifname)), "mutations", "external_ids",
            "delete", osn_ovsdb_set(json_pack("[s]", key)), "external_ids", "insert",
            osn_ovsdb_map((const char *const[]){key, value, NULL}));
        _cleanup_json_ json_t *res = NULL;
        return osn_ovsdb_transact(ovs, OSN_OVS_DB, ops, deadline, &res, err);
}
