/* nbdetach: the end of attachments in the NB DB (ovn.h): DEL's detach of a
 * port (back to its pool, or out of its switch, and the switch with its
 * last attachment, through ovn.c's guarded osn_nb_delete_switch_if()), a
 * container's ports, the release of a persistent identity.  Calls only
 * down: ovn.c's rows and guards (nbrows.h), txn.h.
 *
 * Every change is guarded by what was read (the switch's external_ids and
 * pool index, a port's holder, a switch's ports): a guard that fails means
 * somebody else changed it meanwhile, and the step reads again, bounded
 * (MAX_GUARD_RETRIES). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "nbrows.h"

/* --- persistent identities: DEL --- */

static const char *const ha_opts[] = {"requested-chassis", "activation-strategy", NULL};

/* The target's DEL first: a failed migration.  The port stays on the
 * source alone. */
static int release_failed_migration(struct osn_ovsdb *nb, const json_t *row, const char *why,
                                    int64_t deadline, struct osn_error *err)
{
        static const char *const mig_keys[] = {
            OSN_EXT_MIG_NODE,    OSN_EXT_MIG_CHASSIS, OSN_EXT_MIG_CONTAINER,
            OSN_EXT_MIG_IFNAME,  OSN_EXT_MIG_POD_NS,  OSN_EXT_MIG_POD_NAME,
            OSN_EXT_MIG_POD_UID, OSN_EXT_MIG_SINCE,   NULL};
        const char *src_chassis =
            osn_ovsdb_map_get(json_object_get(row, "external_ids"), OSN_EXT_CHASSIS);
        return nb_port_update(nb, row, mig_keys, NULL, ha_opts,
                              osn_ovsdb_map((const char *const[]){
                                  "requested-chassis", src_chassis ? src_chassis : "", NULL}),
                              why, deadline, err);
}

/* The source's DEL after the switch-over: the target holds the port from
 * now on, and its pod too (a migration an older osn began names none: then
 * no pod, rather than the source's). */
static int release_to_target(struct osn_ovsdb *nb, const json_t *row, const char *why,
                             int64_t deadline, struct osn_error *err)
{
        const json_t *ids = json_object_get(row, "external_ids");
        const char *mig_cid = osn_ovsdb_map_get(ids, OSN_EXT_MIG_CONTAINER);
        const char *dst_chassis = osn_ovsdb_map_get(ids, OSN_EXT_MIG_CHASSIS);
        const char *tns = osn_ovsdb_map_get(ids, OSN_EXT_MIG_POD_NS);
        const char *tname = osn_ovsdb_map_get(ids, OSN_EXT_MIG_POD_NAME);
        const char *tuid = osn_ovsdb_map_get(ids, OSN_EXT_MIG_POD_UID);
        const char *add_kv[] = {OSN_EXT_NODE,
                                osn_ovsdb_map_get(ids, OSN_EXT_MIG_NODE),
                                OSN_EXT_CHASSIS,
                                dst_chassis ? dst_chassis : "",
                                OSN_EXT_CONTAINER,
                                mig_cid ? mig_cid : "",
                                OSN_EXT_IFNAME,
                                osn_ovsdb_map_get(ids, OSN_EXT_MIG_IFNAME) ?: "",
                                tns ? OSN_EXT_POD_NS : NULL,
                                tns,
                                OSN_EXT_POD_NAME,
                                tname ? tname : "",
                                OSN_EXT_POD_UID,
                                tuid ? tuid : "",
                                NULL};
        static const char *const moved[] = {
            OSN_EXT_NODE,         OSN_EXT_CHASSIS,     OSN_EXT_CONTAINER,     OSN_EXT_IFNAME,
            OSN_EXT_MIG_NODE,     OSN_EXT_MIG_CHASSIS, OSN_EXT_MIG_CONTAINER, OSN_EXT_MIG_IFNAME,
            OSN_EXT_POD_NS,       OSN_EXT_POD_NAME,    OSN_EXT_POD_UID,       OSN_EXT_MIG_POD_NS,
            OSN_EXT_MIG_POD_NAME, OSN_EXT_MIG_POD_UID, OSN_EXT_MIG_SINCE,     NULL};
        return nb_port_update(nb, row, moved, osn_ovsdb_map(add_kv), ha_opts,
                              osn_ovsdb_map((const char *const[]){
                                  "requested-chassis", dst_chassis ? dst_chassis : "", NULL}),
                              why, deadline, err);
}

/* The last DEL of a persistent attachment: the port (MAC and addresses)
 * stays for its identity, unbound. */
static int release_to_reservation(struct osn_ovsdb *nb, const json_t *row, const char *node,
                                  const char *why, int64_t deadline, struct osn_error *err)
{
        char now[32];
        snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
        const char *add_kv[] = {
            OSN_EXT_RESERVATION, "true", OSN_EXT_RESERVED_AT, now, OSN_EXT_LAST_NODE, node, NULL};
        static const char *const gone[] = {OSN_EXT_NODE,
                                           OSN_EXT_CHASSIS,
                                           OSN_EXT_CONTAINER,
                                           OSN_EXT_IFNAME,
                                           OSN_EXT_POD_UID,
                                           OSN_EXT_LAST_NODE,
                                           NULL};
        return nb_port_update(nb, row, gone, osn_ovsdb_map(add_kv), ha_opts, NULL, why, deadline,
                              err);
}

int osn_nb_release_identity(struct osn_ovsdb *nb, const char *network, const char *port_name,
                            const char *node, const char *cid, int64_t deadline,
                            struct osn_error *err)
{
        for (int attempt = 0; attempt < MAX_GUARD_RETRIES; attempt++) {
                _cleanup_json_ json_t *row = NULL;
                int r = osn_nb_get_port(nb, port_name, deadline, &row, err);
                if (r < 0)
                        return r;
                if (!row)
                        return 0;
                const json_t *ids = json_object_get(row, "external_ids");
                if (!streq(osn_ovsdb_map_get(ids, OSN_EXT_NETWORK), network))
                        return osn_error_set(err, -EPERM, OSN_CNI_CONFLICT,
                                             "logical switch port \"%s\" was not created by "
                                             "osn; left alone",
                                             port_name);
                const char *holder_node = osn_ovsdb_map_get(ids, OSN_EXT_NODE);
                const char *holder = osn_ovsdb_map_get(ids, OSN_EXT_CONTAINER);
                const char *mig = osn_ovsdb_map_get(ids, OSN_EXT_MIG_NODE);
                const char *mig_cid = osn_ovsdb_map_get(ids, OSN_EXT_MIG_CONTAINER);
                const char *why;
                if (streq(mig, node) && streq(mig_cid, cid)) {
                        why = "failed live migration: back to the source";
                        r = release_failed_migration(nb, row, why, deadline, err);
                } else if (streq(holder_node, node) && streq(holder, cid) && mig && *mig) {
                        why = "live migration done: the target holds the port";
                        r = release_to_target(nb, row, why, deadline, err);
                } else if (streq(holder_node, node) && streq(holder, cid)) {
                        why = "keep a persistent identity as a reservation";
                        r = release_to_reservation(nb, row, node, why, deadline, err);
                } else {
                        return 0; /* somebody else's now: nothing of ours is left */
                }
                if (r == -EAGAIN)
                        continue;
                if (r == 0)
                        log_info("DEL %s: port %s: %s", network, port_name, why);
                return r < 0 ? r : 1;
        }
        return osn_error_set(err, -EAGAIN, OSN_CNI_TRY_AGAIN_LATER,
                             "network \"%s\": port %s kept changing under %d attempts to release "
                             "it; try again",
                             network, port_name, MAX_GUARD_RETRIES);
}

/* What one DEL of a port asks (detach()). */
struct detach_req {
        const char *network, *port_name;
        const char *cid; /* NULL: whoever holds it */
        unsigned pool;   /* 0: no return to the pool, no trim */
        char *sw_name, *ln_name;
        bool spare_named;
        char spare_uuid[37];
};

/* The detach transaction's handles. */
struct detach_ops {
        osn_op empty;     /* select: the switch if only spares and localnet are left */
        osn_op empty_srv; /* ... or those and its DHCP server's port */
        bool back;        /* the port returns to the pool */
};

/* The port's address string (not "unknown"), or NULL. */
static const char *port_addrs(const json_t *port)
{
        const char *addrs = NULL;
        const json_t *aset = json_object_get(port, "addresses");
        for (size_t i = 0; i < osn_ovsdb_set_size(aset); i++)
                if (!streq(json_string_value(osn_ovsdb_set_at(aset, i)), "unknown"))
                        addrs = json_string_value(osn_ovsdb_set_at(aset, i));
        return addrs;
}

/* What the container held leaves the switch's index. */
static void detach_held_key(struct osn_txn *t, const struct detach_req *d, const char *sw_uuid,
                            const json_t *sw_ids, const json_t *pids)
{
        char hk[OSN_PORT_NAME_SIZE];
        osn_held_key(osn_ovsdb_map_get(pids, OSN_EXT_CONTAINER),
                     osn_ovsdb_map_get(pids, OSN_EXT_IFNAME), hk);
        const char *hv = osn_ovsdb_map_get(sw_ids, hk);
        size_t pl = strlen(d->port_name);
        if (hv && strncmp(hv, d->port_name, pl) == 0 && hv[pl] == ' ')
                osn_txn_mutate(
                    t, "Logical_Switch", nb_by_uuid(sw_uuid),
                    osn_mutation("external_ids", "delete", osn_ovsdb_set(json_pack("[s]", hk))));
}

/* The claimed spare becomes a spare again, with its MAC and addresses
 * 'addrs', and its index key comes back. */
static void detach_back_to_pool(struct osn_txn *t, const struct detach_req *d, const char *sw_uuid,
                                const char *port_uuid, const char *addrs)
{
        json_t *del = json_array();
        for (size_t i = 0; del && nb_holder_keys[i]; i++)
                json_array_append_new(del, json_string(nb_holder_keys[i]));
        char key[OSN_POOL_INDEX_KEY_SIZE];
        osn_pool_index_key(d->spare_uuid, key);
        osn_txn_mutate(t, "Logical_Switch_Port", nb_by_uuid(port_uuid),
                       osn_mutation_and(osn_mutation("external_ids", "delete", osn_ovsdb_set(del)),
                                        osn_mutation("external_ids", "insert",
                                                     osn_ovsdb_map((const char *const[]){
                                                         OSN_EXT_SPARE, "true", NULL}))));
        osn_txn_mutate(t, "Logical_Switch", nb_by_uuid(sw_uuid),
                       osn_mutation("external_ids", "insert",
                                    osn_ovsdb_map((const char *const[]){key, addrs, NULL})));
}

/* More spares than the pool's size (concurrent top-ups, or a smaller
 * pool_size now): the last ones of 'spares' (an array of UUIDs) go. */
static void detach_trim(struct osn_txn *t, const char *sw_uuid, json_t *spares, unsigned pool)
{
        json_t *drop = json_array(), *keys = json_array();
        while (drop && keys && json_array_size(spares) > pool) {
                size_t last = json_array_size(spares) - 1;
                json_t *u = json_array_get(spares, last);
                char key[OSN_POOL_INDEX_KEY_SIZE];
                osn_pool_index_key(json_string_value(json_array_get(u, 1)), key);
                json_array_append_new(keys, json_string(key));
                json_array_append(drop, u);
                json_array_remove(spares, last);
        }
        osn_txn_mutate(
            t, "Logical_Switch", nb_by_uuid(sw_uuid),
            osn_mutation_and(osn_mutation("ports", "delete", osn_ovsdb_set(drop)),
                             osn_mutation("external_ids", "delete", osn_ovsdb_set(keys))));
}

/* The switch, if its ports are exactly 'ports' (stolen). */
static osn_op select_if_ports(struct osn_txn *t, const char *sw_uuid, json_t *ports)
{
        return osn_txn_select(
            t, "Logical_Switch",
            osn_where_and(nb_by_uuid(sw_uuid), osn_ovsdb_cond("ports", "==", osn_ovsdb_set(ports))),
            (const char *const[]){"ports", "external_ids", NULL});
}

/* The detach transaction of 'port' from 'sw' as read ('ln_uuid': the
 * localnet port's, or NULL).  Guarded by the switch's external_ids as
 * read, its pool index with them (and by the holder for a spare, whose
 * index key may have come back meanwhile): the port leaves the switch or
 * goes back to the pool, the pool is trimmed, and the same transaction asks
 * whether the switch is now empty but for its localnet port and its
 * spares.  Transactions are serialized, so of several concurrent DELs the
 * one that commits last sees the final state.  The condition is evaluated
 * by the server: the ports themselves are never read, however many there
 * are. */
static struct detach_ops detach_ops(struct osn_txn *t, const struct detach_req *d, const json_t *sw,
                                    const json_t *port, const char *ln_uuid)
{
        struct detach_ops h;
        const char *sw_uuid = osn_ovsdb_row_uuid(sw);
        const char *port_uuid = osn_ovsdb_row_uuid(port);
        const json_t *sw_ids = json_object_get(sw, "external_ids");
        const json_t *pids = json_object_get(port, "external_ids");
        json_t *spares = nb_index_uuids(sw_ids);
        const char *addrs = port_addrs(port);
        h.back =
            d->cid && d->spare_named && d->pool > 0 && addrs && json_array_size(spares) < d->pool;
        osn_txn_comment(t, "osn: detach %s from network %s%s", d->port_name, d->network,
                        h.back ? " (back to its pool)" : "");
        nb_wait_column_as_read(t, "Logical_Switch", nb_by_uuid(sw_uuid), "external_ids", sw_ids);
        detach_held_key(t, d, sw_uuid, sw_ids, pids);
        if (d->cid && d->spare_named)
                osn_txn_exists(
                    t, "Logical_Switch_Port",
                    nb_and_ids_include(nb_by_uuid(port_uuid),
                                       (const char *const[]){OSN_EXT_CONTAINER, d->cid, NULL}));
        if (h.back) {
                detach_back_to_pool(t, d, sw_uuid, port_uuid, addrs);
                json_array_append_new(spares, osn_ovsdb_uuid(d->spare_uuid));
        } else {
                osn_txn_mutate(
                    t, "Logical_Switch", nb_by_uuid(sw_uuid),
                    osn_mutation("ports", "delete",
                                 osn_ovsdb_set(json_pack("[o]", osn_ovsdb_uuid(port_uuid)))));
        }
        if (d->pool > 0 && json_array_size(spares) > d->pool)
                detach_trim(t, sw_uuid, spares, d->pool);
        if (ln_uuid)
                json_array_append_new(spares, osn_ovsdb_uuid(ln_uuid));
        /* A layer3 node's router port is infrastructure too (layer3.h). */
        char rlsp_uuid[37];
        if (osn_nb_router_lsp_uuid(json_object_get(sw, "external_ids"), rlsp_uuid))
                json_array_append_new(spares, osn_ovsdb_uuid(rlsp_uuid));
        h.empty = select_if_ports(t, sw_uuid, json_copy(spares));
        /* ... or but those and its DHCP server's port. */
        char srv_uuid[37];
        osn_dhcp_port_uuid(d->network, srv_uuid);
        json_array_append_new(spares, osn_ovsdb_uuid(srv_uuid));
        h.empty_srv = select_if_ports(t, sw_uuid, spares);
        return h;
}

/* An orphan port (its switch is gone or not ours): nothing references it,
 * it is deleted directly. */
static int delete_orphan(struct osn_ovsdb *nb, const char *port_uuid, int64_t deadline,
                         struct osn_error *err)
{
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        if (!t)
                return -ENOMEM;
        osn_txn_delete(t, "Logical_Switch_Port", nb_by_uuid(port_uuid));
        int r = osn_txn_commit(t, nb, deadline, err);
        return r < 0 ? r : 1;
}

/* The switch was left with no attachment: it goes, unless an ADD attached
 * or claimed a spare meanwhile (the guard fails, the switch stays: it is
 * theirs now). */
static int delete_if_empty(struct osn_ovsdb *nb, const struct detach_req *d, const char *sw_uuid,
                           const json_t *after, int64_t deadline, struct osn_error *err)
{
        int r = osn_nb_delete_switch_if(nb, d->network, sw_uuid, json_object_get(after, "ports"),
                                        json_object_get(after, "external_ids"),
                                        "last attachment detached", deadline, err);
        if (r == -EAGAIN) {
                osn_error_clear(err);
                r = 0;
        }
        return r;
}

/* One try of detach(): 1 done, 0 nothing to do, -EAGAIN to read again. */
static int detach_once(struct osn_ovsdb *nb, const struct detach_req *d, int64_t deadline,
                       struct osn_error *err)
{
        static const char *const sw_cols[] = {"_uuid", "external_ids", NULL};
        static const char *const port_cols[] = {"_uuid", "external_ids", "addresses", NULL};
        _cleanup_txn_ struct osn_txn *rd = osn_txn_new(OSN_NB_DB);
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        if (!rd || !t)
                return -ENOMEM;
        struct nb_network_read h = nb_select_network(rd, d->sw_name, d->port_name, d->ln_name,
                                                     sw_cols, port_cols, port_cols);
        int r = osn_txn_commit(rd, nb, deadline, err);
        if (r < 0)
                return r;
        const json_t *sw = osn_txn_row(rd, h.sw);
        const json_t *port = osn_txn_row(rd, h.port);
        const char *ln_uuid = osn_ovsdb_row_uuid(osn_txn_row(rd, h.ln));
        if (!port)
                return 0;
        const json_t *pids = json_object_get(port, "external_ids");
        if (!streq(osn_ovsdb_map_get(pids, OSN_EXT_NETWORK), d->network))
                return osn_error_set(err, -EPERM, OSN_CNI_CONFLICT,
                                     "logical switch port \"%s\" was not created by osn; "
                                     "left alone",
                                     d->port_name);
        if (d->cid && d->spare_named &&
            (streq(osn_ovsdb_map_get(pids, OSN_EXT_SPARE), "true") ||
             !streq(osn_ovsdb_map_get(pids, OSN_EXT_CONTAINER), d->cid))) {
                log_info("port %s is no longer held by container %s; left alone", d->port_name,
                         d->cid);
                return 0;
        }
        if (!sw || !streq(osn_ovsdb_map_get(json_object_get(sw, "external_ids"), OSN_EXT_NETWORK),
                          d->network))
                return delete_orphan(nb, osn_ovsdb_row_uuid(port), deadline, err);
        struct detach_ops ops = detach_ops(t, d, sw, port, ln_uuid);
        if ((r = osn_txn_commit(t, nb, deadline, err)) < 0)
                return r;
        const json_t *after = osn_txn_row(t, ops.empty);
        if (!after)
                after = osn_txn_row(t, ops.empty_srv);
        if (after)
                return (r = delete_if_empty(nb, d, osn_ovsdb_row_uuid(sw), after, deadline, err)) <
                               0
                           ? r
                           : 1;
        if (ops.back)
                log_info("port %s of network %s returned to its pool", d->port_name, d->network);
        return 1;
}

/* The one detach: removes port 'port_name' from its switch, or, with
 * 'pool' > 0 and a claimed spare held by 'cid', returns it to a pool that
 * is short, and trims the pool to 'pool'; deletes the switch when no
 * attachment is left.  'cid' NULL: whoever holds it; 'pool' 0: no return,
 * no trim. */
static int detach(struct osn_ovsdb *nb, const char *network, const char *port_name, const char *cid,
                  unsigned pool, int64_t deadline, struct osn_error *err)
{
        struct detach_req d = {
            .network = network, .port_name = port_name, .cid = cid, .pool = pool};
        _cleanup_free_ char *sw_name = d.sw_name = osn_switch_name(network);
        _cleanup_free_ char *ln_name = d.ln_name = osn_localnet_port_name(network);
        if (!sw_name || !ln_name)
                return -ENOMEM;
        d.spare_named = osn_is_spare_port(network, port_name, d.spare_uuid);
        for (int attempt = 0; attempt < MAX_GUARD_RETRIES * 2; attempt++) {
                int r = detach_once(nb, &d, deadline, err);
                if (r != -EAGAIN)
                        return r;
                osn_error_clear(err);
        }
        return osn_error_set(err, -EAGAIN, OSN_CNI_TRY_AGAIN_LATER,
                             "network \"%s\": the NB DB kept changing under %d attempts to detach "
                             "%s; try again",
                             network, MAX_GUARD_RETRIES * 2, port_name);
}

int osn_nb_remove_port(struct osn_ovsdb *nb, const char *network, const char *port_name,
                       int64_t deadline, struct osn_error *err)
{
        return detach(nb, network, port_name, NULL, 0, deadline, err);
}

int osn_nb_detach(struct osn_ovsdb *nb, const char *network, const char *port_name, const char *cid,
                  unsigned pool_size, int64_t deadline, struct osn_error *err)
{
        return detach(nb, network, port_name, cid, pool_size, deadline, err);
}

int osn_nb_container_ports(struct osn_ovsdb *nb, const char *network, const char *cid,
                           const char *ifname, int64_t deadline, json_t **ret,
                           struct osn_error *err)
{
        const char *kv[] = {OSN_EXT_NETWORK, network, OSN_EXT_CONTAINER, cid, OSN_EXT_IFNAME,
                            ifname,          NULL};
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        if (!t)
                return -ENOMEM;
        osn_op sel = osn_txn_select(t, "Logical_Switch_Port", nb_and_ids_include(json_array(), kv),
                                    (const char *const[]){"name", NULL});
        int r = osn_txn_commit(t, nb, deadline, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *names = json_array();
        if (!names)
                return -ENOMEM;
        size_t i;
        const json_t *row;
        json_array_foreach(osn_txn_rows(t, sel), i, row)
        {
                json_t *name = json_object_get(row, "name");
                if (json_is_string(name) && json_array_append(names, name) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(names);
        return 0;
}

int osn_nb_detach_container(struct osn_ovsdb *nb, const char *network, const char *cid,
                            const char *ifname, bool spares_only, unsigned pool_size,
                            int64_t deadline, struct osn_error *err)
{
        _cleanup_json_ json_t *names = NULL;
        int r = osn_nb_container_ports(nb, network, cid, ifname, deadline, &names, err);
        if (r < 0)
                return r;
        int found = 0;
        size_t i;
        const json_t *v;
        json_array_foreach(names, i, v)
        {
                const char *name = json_string_value(v);
                if (spares_only && !osn_is_spare_port(network, name, NULL))
                        continue;
                if ((r = detach(nb, network, name, cid, pool_size, deadline, err)) < 0)
                        return r;
                found++;
        }
        return found;
}

/* --- warm spares --- */

int osn_nb_release_warm(struct osn_ovsdb *nb, const char *network, const char *node,
                        const char *port, int64_t deadline, struct osn_error *err)
{
        const char *const kv[] = {OSN_EXT_NETWORK, network, OSN_EXT_SPARE, "true",
                                  OSN_EXT_WARM,    node,    NULL};
        _cleanup_free_ char *sw_name = osn_switch_name(network);
        if (!sw_name)
                return -ENOMEM;
        for (int tries = 0; tries < MAX_GUARD_RETRIES; tries++) {
                _cleanup_txn_ struct osn_txn *rd = osn_txn_new(OSN_NB_DB);
                _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
                if (!rd || !t)
                        return -ENOMEM;
                json_t *where = port ? nb_by_name(port) : json_array();
                osn_op sel =
                    osn_txn_select(rd, "Logical_Switch_Port", nb_and_ids_include(where, kv),
                                   (const char *const[]){"_uuid", NULL});
                int r = osn_txn_commit(rd, nb, deadline, err);
                if (r < 0)
                        return r;
                const json_t *rows = osn_txn_rows(rd, sel), *row;
                if (json_array_size(rows) == 0)
                        return 0;
                json_t *uuids = json_array();
                if (!uuids)
                        return -ENOMEM;
                osn_txn_comment(t, "osn: release node %s's warm ports of network %s", node,
                                network);
                size_t i;
                json_array_foreach(rows, i, row)
                {
                        const char *u = osn_ovsdb_row_uuid(row);
                        osn_txn_exists(t, "Logical_Switch_Port",
                                       nb_and_ids_include(nb_by_uuid(u), kv));
                        json_array_append_new(uuids, osn_ovsdb_uuid(u));
                }
                /* Not a root table: out of its switch, a port is deleted. */
                osn_txn_mutate(t, "Logical_Switch", nb_by_name(sw_name),
                               osn_mutation("ports", "delete", osn_ovsdb_set(uuids)));
                r = osn_txn_commit(t, nb, deadline, err);
                if (r == 0)
                        return (int)json_array_size(rows);
                if (r != -EAGAIN)
                        return r;
                osn_error_clear(err); /* one was claimed meanwhile: read again */
        }
        return osn_error_set(err, -EAGAIN, OSN_CNI_TRY_AGAIN_LATER,
                             "network \"%s\": node %s's warm ports kept changing; osnctl gc "
                             "removes what is left",
                             network, node);
}
