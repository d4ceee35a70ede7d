/* osnctl reservations / release: the persistent identities of VMs whose
 * attachments are gone but whose logical ports (MAC and addresses) osn
 * keeps for them (ovn.h: osn/reservation).  Reading them needs only the NB
 * DB (--nb works without a node config); release removes the port through
 * osn_nb_remove_port(), the same removal DEL uses, so the network goes
 * with its last port. */
#include <stdio.h>
#include <time.h>

#include "ctl.h"
#include "osnctl.h"
#include "output.h"
#include "ovn.h"
#include "txn.h"
#include "views.h"

/* The node config when there is one (--nb works without), the deadline, the
 * NB.  0 or an osnctl exit code. */
static int connect_nb(struct osnctl *ctl, int64_t *ret_deadline, struct osn_ovsdb **ret)
{
        int r = osnctl_load_node_optional(ctl);
        if (r)
                return r;
        *ret_deadline = osnctl_deadline(ctl);
        return osnctl_connect_nb(ctl, *ret_deadline, ret);
}

/* The reservations (of 'network' only when not NULL; of pods of namespace
 * 'ns' only when not NULL) as view rows. */
static int read_reservations(struct osn_ovsdb *nb, const char *network, const char *ns,
                             int64_t deadline, json_t **ret, struct osn_error *err)
{
        const char *kv[] = {OSN_EXT_RESERVATION, "true", network ? OSN_EXT_NETWORK : NULL, network,
                            NULL};
        static const char *const cols[] = {"name", "addresses", "external_ids", NULL};
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        if (!t)
                return osn_error_set(err, -ENOMEM, OSN_CNI_TRY_AGAIN_LATER, "out of memory");
        osn_op sel =
            osn_txn_select(t, "Logical_Switch_Port",
                           osn_where1("external_ids", "includes", osn_ovsdb_map(kv)), cols);
        int r = osn_txn_commit(t, nb, deadline, err);
        if (r < 0)
                return r;
        json_t *rows = json_array(), *row;
        size_t i;
        long long now = (long long)time(NULL);
        json_array_foreach(osn_txn_rows(t, sel), i, row)
        {
                const json_t *ids = json_object_get(row, "external_ids");
                if (ns && !streq(osn_ovsdb_map_get(ids, OSN_EXT_POD_NS), ns))
                        continue;
                json_array_append_new(rows, osnctl_reservation_json(row, now));
        }
        *ret = rows;
        return 0;
}

int osnctl_reservations(struct osnctl *ctl, int argc, char **argv)
{
        if (argc > 1) {
                osnctl_err("reservations takes at most a NETWORK (see osnctl reservations --help)");
                return OSNCTL_USAGE;
        }
        int64_t deadline;
        _cleanup_ovsdb_ struct osn_ovsdb *nb = NULL;
        int r = connect_nb(ctl, &deadline, &nb);
        if (r)
                return r;
        struct osn_error err = {0};
        _cleanup_json_ json_t *rows = NULL;
        if (read_reservations(nb, argc ? argv[0] : NULL, ctl->namespace, deadline, &rows, &err) <
            0) {
                osnctl_err("%s", err.msg);
                return OSNCTL_PROBLEMS;
        }
        return osnctl_render_list(ctl, "reservations", rows, osnctl_reservation_columns.v,
                                  osnctl_reservation_columns.n, "no reservations");
}

int osnctl_release(struct osnctl *ctl, int argc, char **argv)
{
        if (argc != 2) {
                osnctl_err("release takes NETWORK IDENTITY (see osnctl release --help)");
                return OSNCTL_USAGE;
        }
        int64_t deadline;
        _cleanup_ovsdb_ struct osn_ovsdb *nb = NULL;
        int r = connect_nb(ctl, &deadline, &nb);
        if (r)
                return r;
        _cleanup_free_ char *port = osn_identity_port_name(argv[0], argv[1]);
        if (!port)
                return OSNCTL_PROBLEMS;
        struct osn_error err = {0};
        _cleanup_json_ json_t *row = NULL;
        if (osn_nb_get_port(nb, port, deadline, &row, &err) < 0) {
                osnctl_err("%s", err.msg);
                return OSNCTL_PROBLEMS;
        }
        const json_t *ids = row ? json_object_get(row, "external_ids") : NULL;
        if (!row || !streq(osn_ovsdb_map_get(ids, OSN_EXT_NETWORK), argv[0])) {
                osnctl_err("network \"%s\" holds no identity \"%s\" (osnctl reservations lists "
                           "them)",
                           argv[0], argv[1]);
                return OSNCTL_PROBLEMS;
        }
        if (!streq(osn_ovsdb_map_get(ids, OSN_EXT_RESERVATION), "true")) {
                osnctl_err("identity \"%s\" of network \"%s\" is attached on node %s (pod %s/%s); "
                           "only a reservation (no attachment) can be released",
                           argv[1], argv[0], osn_ovsdb_map_get(ids, OSN_EXT_NODE) ?: "?",
                           osn_ovsdb_map_get(ids, OSN_EXT_POD_NS) ?: "?",
                           osn_ovsdb_map_get(ids, OSN_EXT_POD_NAME) ?: "?");
                return OSNCTL_PROBLEMS;
        }
        if (ctl->dry_run) {
                printf("would release %s (port %s)\n", argv[1], port);
                return OSNCTL_OK;
        }
        if (osn_nb_remove_port(nb, argv[0], port, deadline, &err) < 0) {
                osnctl_err("%s", err.msg);
                return OSNCTL_PROBLEMS;
        }
        if (!ctl->json) {
                printf("released identity %s of network %s (port %s)\n", argv[1], argv[0], port);
                return OSNCTL_OK;
        }
        /* Built, not printed by hand: names are escaped as JSON wants. */
        _cleanup_json_ json_t *j = json_pack("{s:{s:s, s:s, s:s}}", "released", "network", argv[0],
                                             "identity", argv[1], "port", port);
        if (!j) {
                osnctl_err("released %s, but cannot write it as JSON (a name that is not UTF-8?)",
                           port);
                return OSNCTL_PROBLEMS;
        }
        return osnctl_print_json(j) < 0 ? OSNCTL_PROBLEMS : OSNCTL_OK;
}

int osnctl_release_older(struct osn_ovsdb *nb, long long older_than_s, bool dry_run,
                         int64_t deadline, json_t *report, struct osn_error *err)
{
        _cleanup_json_ json_t *rows = NULL;
        int r = read_reservations(nb, NULL, NULL, deadline, &rows, err);
        if (r < 0)
                return r;
        json_t *row;
        size_t i;
        int n = 0;
        json_array_foreach(rows, i, row)
        {
                json_int_t age = json_integer_value(json_object_get(row, "age_seconds"));
                const char *net = json_string_value(json_object_get(row, "network"));
                const char *port = json_string_value(json_object_get(row, "port"));
                if (age < older_than_s || !net || !port)
                        continue;
                struct osn_error e = {0};
                if (!dry_run && osn_nb_remove_port(nb, net, port, deadline, &e) < 0) {
                        json_array_append_new(report, json_pack("{s:s, s:s, s:s}", "port", port,
                                                                "result", "failed", "why", e.msg));
                        continue;
                }
                json_array_append_new(report, json_pack("{s:s, s:s}", "port", port, "result",
                                                        dry_run ? "would release" : "released"));
                n++;
        }
        return n;
}
