/* chassis: see chassis.h. */
#include "chassis.h"

#include "log.h"
#include "ovn.h"
#include "ovs.h"
#include "txn.h"

static json_t *str_or_null(const char *s)
{
        return s && *s ? json_string(s) : json_null();
}

int osn_chassis_sb_remote(struct osn_ovsdb *ovs, int64_t deadline, char **ret,
                          struct osn_error *err)
{
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_OVS_DB);
        if (!t)
                return -ENOMEM;
        osn_op sel =
            osn_txn_select(t, "Open_vSwitch", NULL, (const char *const[]){"external_ids", NULL});
        int r = osn_txn_commit(t, ovs, deadline, err);
        if (r < 0)
                return r;
        const char *remote =
            osn_ovsdb_map_get(json_object_get(osn_txn_row(t, sel), "external_ids"), "ovn-remote");
        if (!remote || !*remote)
                return osn_error_set(err, -ENOENT, OSN_CNI_INVALID_CONFIG,
                                     "the local Open_vSwitch row has no external_ids:ovn-remote "
                                     "(where ovn-controller finds the SB DB)");
        *ret = strdup(remote);
        return *ret ? 0 : -ENOMEM;
}

/* nb_cfg of every Chassis_Private row in 'rows' (monitor contents, by
 * uuid) into 'state' (uuid -> {name, chassis, nb_cfg}); updates merge. */
static void track_chassis(json_t *state, const json_t *tu)
{
        const char *uuid;
        json_t *upd;
        json_object_foreach(json_object_get(tu, "Chassis_Private"), uuid, upd)
        {
                if (json_object_get(upd, "delete")) {
                        json_object_del(state, uuid);
                        continue;
                }
                const json_t *v = json_object_get(upd, "initial");
                if (!v)
                        v = json_object_get(upd, "insert");
                if (!v)
                        v = json_object_get(upd, "modify");
                json_t *cur = json_object_get(state, uuid);
                if (!cur) {
                        cur = json_object();
                        if (!cur || json_object_set_new(state, uuid, cur) < 0)
                                continue;
                }
                const char *key;
                json_t *val;
                json_object_foreach((json_t *)v, key, val) json_object_set(cur, key, val);
        }
}

/* The hostname of chassis 'name' in a select of Chassis (name, hostname). */
static const char *hostname_of(const json_t *chassis_rows, const char *name)
{
        size_t i;
        const json_t *row;
        json_array_foreach(chassis_rows, i, row)
        {
                if (streq(json_string_value(json_object_get(row, "name")), name))
                        return json_string_value(json_object_get(row, "hostname"));
        }
        return NULL;
}

/* Whether the probe is over: northd passed 'want' on and every chassis
 * (or, with 'node', that node's chassis) reported it. */
static bool done(const json_t *state, const json_t *chassis_rows, const char *node, json_int_t want,
                 json_int_t sb_cfg)
{
        if (sb_cfg < want)
                return false;
        const char *uuid;
        json_t *c;
        json_object_foreach((json_t *)state, uuid, c)
        {
                const char *name = json_string_value(json_object_get(c, "name"));
                bool follows = json_integer_value(json_object_get(c, "nb_cfg")) >= want;
                if (node && (streq(name, node) || streq(hostname_of(chassis_rows, name), node)))
                        return follows;
                if (!node && !follows)
                        return false;
        }
        return !node;
}

static json_int_t sb_global_cfg(const json_t *tu, json_int_t cur)
{
        const char *uuid;
        json_t *upd;
        json_object_foreach(json_object_get(tu, "SB_Global"), uuid, upd)
        {
                const json_t *v = json_object_get(upd, "initial");
                if (!v)
                        v = json_object_get(upd, "insert");
                if (!v)
                        v = json_object_get(upd, "modify");
                const json_t *n = json_object_get(v, "nb_cfg");
                if (json_is_integer(n))
                        cur = json_integer_value(n);
        }
        return cur;
}

int osn_chassis_probe(struct osn_ovsdb *nb, struct osn_ovsdb *sb, const char *node, int bound_ms,
                      int64_t deadline, json_t **ret, struct osn_error *err)
{
        int64_t until = osn_now_ms() + bound_ms;
        if (until > deadline)
                until = deadline;
        /* Watch first, then bump: no answer can be missed. */
        _cleanup_json_ json_t *state = json_object(), *init = NULL, *ginit = NULL;
        if (!state)
                return -ENOMEM;
        int r = osn_ovsdb_monitor_cond(sb, "OVN_Southbound", "osn-chassis", "Chassis_Private", NULL,
                                       (const char *const[]){"name", "nb_cfg", NULL}, deadline,
                                       &init, err);
        if (r >= 0)
                r = osn_ovsdb_monitor_cond(sb, "OVN_Southbound", "osn-sbglobal", "SB_Global", NULL,
                                           (const char *const[]){"nb_cfg", NULL}, deadline, &ginit,
                                           err);
        if (r < 0)
                return r;
        track_chassis(state, init);
        json_int_t sb_cfg = sb_global_cfg(ginit, -1);
        /* Chassis names and hostnames (a node is either). */
        _cleanup_txn_ struct osn_txn *ct = osn_txn_new("OVN_Southbound");
        if (!ct)
                return -ENOMEM;
        osn_op chassis =
            osn_txn_select(ct, "Chassis", NULL, (const char *const[]){"name", "hostname", NULL});
        if ((r = osn_txn_commit(ct, sb, deadline, err)) < 0)
                return r;
        const json_t *chassis_rows = osn_txn_rows(ct, chassis);

        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        if (!t)
                return -ENOMEM;
        osn_txn_mutate(t, "NB_Global", NULL, osn_mutation("nb_cfg", "+=", json_integer(1)));
        osn_op sel_cfg =
            osn_txn_select(t, "NB_Global", NULL, (const char *const[]){"nb_cfg", NULL});
        if ((r = osn_txn_commit(t, nb, deadline, err)) < 0)
                return r;
        json_int_t want = json_integer_value(json_object_get(osn_txn_row(t, sel_cfg), "nb_cfg"));

        while (!done(state, chassis_rows, node, want, sb_cfg) && osn_now_ms() < until) {
                /* Both monitors share the connection: wait for either. */
                _cleanup_json_ json_t *tu = NULL;
                r = osn_ovsdb_wait_update(sb, "osn-chassis",
                                          until < osn_now_ms() + 50 ? until : osn_now_ms() + 50,
                                          &tu, NULL);
                if (r >= 0)
                        track_chassis(state, tu);
                else if (r != -ETIMEDOUT)
                        return osn_error_set(err, r, OSN_CNI_TRY_AGAIN_LATER,
                                             "SB %s: lost while probing chassis",
                                             osn_ovsdb_remote(sb));
                json_t *g;
                while (osn_ovsdb_wait_update(sb, "osn-sbglobal", osn_now_ms(), &g, NULL) >= 0) {
                        sb_cfg = sb_global_cfg(g, sb_cfg);
                        json_decref(g);
                }
        }
        if (sb_cfg < want)
                return osn_error_set(err, -ETIMEDOUT, OSN_CNI_TRY_AGAIN_LATER,
                                     "ovn-northd did not pass NB_Global.nb_cfg %lld on to the SB "
                                     "within %d ms: cannot tell which nodes follow",
                                     (long long)want, bound_ms);

        json_t *out = json_pack("{s:I, s:[]}", "nb_cfg", want, "chassis");
        if (!out)
                return -ENOMEM;
        json_t *list = json_object_get(out, "chassis");
        const char *uuid;
        json_t *c;
        json_object_foreach(state, uuid, c)
        {
                const char *name = json_string_value(json_object_get(c, "name"));
                const char *host = hostname_of(chassis_rows, name);
                json_int_t cfg = json_integer_value(json_object_get(c, "nb_cfg"));
                json_array_append_new(
                    list, json_pack("{s:o, s:o, s:I, s:b}", "name", str_or_null(name), "hostname",
                                    str_or_null(host), "nb_cfg", cfg, "following", cfg >= want));
        }
        log_debug("chassis probe: nb_cfg %lld, %zu chassis", (long long)want,
                  json_array_size(list));
        *ret = out;
        return 0;
}

bool osn_chassis_follows(const json_t *probe, const char *node)
{
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(probe, "chassis"), i, c)
        {
                if ((streq(json_string_value(json_object_get(c, "name")), node) ||
                     streq(json_string_value(json_object_get(c, "hostname")), node)) &&
                    json_is_true(json_object_get(c, "following")))
                        return true;
        }
        return false;
}
