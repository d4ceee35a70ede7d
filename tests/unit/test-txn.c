/* test-txn: the transaction builder (txn.c).
 *
 * Two parts.  The operations it writes, byte for byte, against
 * RFC 7047 5.2 as written out by hand below (not by the builder).  Then the
 * builder against a real ovsdb-server on the OVN Northbound schema: results
 * read by handle (an insert's UUID, a select's rows, a mutate's and a
 * delete's counts), the failed operation named by handle for a guard that
 * does not hold and for a second insert of a fixed row UUID, a
 * pipelined start/finish, reset, and the trace hook (osn_txn_set_trace).
 * Exits 77 (skip) without ovsdb-server,
 * after the first part.
 */
#include "txn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "testserver.h"

#define NB "OVN_Northbound"

static void expect_ops(struct osn_txn *t, const char *want)
{
        char *got = osn_txn_dump(t);
        CHECK(got && streq(got, want), "\n got %s\nwant %s", got ? got : "(null)", want);
        free(got);
}

static void test_shapes(void)
{
        struct osn_txn *t = osn_txn_new(NB);
        REQUIRE(t);
        CHECK(osn_txn_is_empty(t), "a new transaction is empty");
        osn_op c = osn_txn_comment(t, "osn: %s %d", "attach", 7);
        CHECK(osn_txn_is_empty(t), "only comments is empty");
        osn_op s = osn_txn_select(t, "Logical_Switch", osn_where_eq("name", json_string("osn.a")),
                                  (const char *const[]){"_uuid", "ports", NULL});
        osn_op i =
            osn_txn_insert(t, "Logical_Switch", json_pack("{s:s}", "name", "osn.a"), "sw", NULL);
        osn_op u = osn_txn_insert(t, "DHCP_Options", json_pack("{s:s}", "cidr", "10.0.0.0/24"),
                                  NULL, "8a4f2e10-0000-4000-8000-000000000001");
        osn_op up =
            osn_txn_update(t, "Logical_Switch_Port", NULL, json_pack("{s:b}", "enabled", 1));
        osn_op m = osn_txn_mutate(
            t, "Logical_Switch",
            osn_where_and(osn_where_eq("name", json_string("osn.a")),
                          osn_ovsdb_cond("external_ids", "includes",
                                         osn_ovsdb_map((const char *const[]){"k", "v", NULL}))),
            osn_mutation("ports", "insert", osn_ovsdb_named_uuid("lsp")));
        osn_op d = osn_txn_delete(
            t, "Logical_Switch",
            osn_where_eq("_uuid", osn_ovsdb_uuid("8a4f2e10-0000-4000-8000-000000000002")));
        osn_op e = osn_txn_exists(t, "Logical_Switch", osn_where_eq("name", json_string("osn.a")));
        osn_op a = osn_txn_absent(t, "Logical_Switch", osn_where1("name", "!=", json_string("x")));
        osn_op w = osn_txn_wait(t, "Logical_Switch", NULL, (const char *const[]){"ports", NULL},
                                true, json_pack("[{s:[s,[]]}]", "ports", "set"));
        CHECK(c == 0 && s == 1 && i == 2 && u == 3 && up == 4 && m == 5 && d == 6 && e == 7 &&
                  a == 8 && w == 9,
              "handles are the operations' indexes");
        CHECK(osn_txn_size(t) == 10 && !osn_txn_is_empty(t), "ten operations");
        expect_ops(
            t, "[{\"comment\":\"osn: attach 7\",\"op\":\"comment\"},"
               "{\"columns\":[\"_uuid\",\"ports\"],\"op\":\"select\",\"table\":\"Logical_Switch\","
               "\"where\":[[\"name\",\"==\",\"osn.a\"]]},"
               "{\"op\":\"insert\",\"row\":{\"name\":\"osn.a\"},\"table\":\"Logical_Switch\","
               "\"uuid-name\":\"sw\"},"
               "{\"op\":\"insert\",\"row\":{\"cidr\":\"10.0.0.0/24\"},\"table\":\"DHCP_Options\","
               "\"uuid\":\"8a4f2e10-0000-4000-8000-000000000001\"},"
               "{\"op\":\"update\",\"row\":{\"enabled\":true},\"table\":\"Logical_Switch_Port\","
               "\"where\":[]},"
               "{\"mutations\":[[\"ports\",\"insert\",[\"named-uuid\",\"lsp\"]]],\"op\":\"mutate\","
               "\"table\":\"Logical_Switch\",\"where\":[[\"name\",\"==\",\"osn.a\"],"
               "[\"external_ids\",\"includes\",[\"map\",[[\"k\",\"v\"]]]]]},"
               "{\"op\":\"delete\",\"table\":\"Logical_Switch\",\"where\":[[\"_uuid\",\"==\","
               "[\"uuid\",\"8a4f2e10-0000-4000-8000-000000000002\"]]]},"
               "{\"columns\":[\"_uuid\"],\"op\":\"wait\",\"rows\":[],\"table\":\"Logical_Switch\","
               "\"timeout\":0,\"until\":\"!=\",\"where\":[[\"name\",\"==\",\"osn.a\"]]},"
               "{\"columns\":[\"_uuid\"],\"op\":\"wait\",\"rows\":[],\"table\":\"Logical_Switch\","
               "\"timeout\":0,\"until\":\"==\",\"where\":[[\"name\",\"!=\",\"x\"]]},"
               "{\"columns\":[\"ports\"],\"op\":\"wait\",\"rows\":[{\"ports\":[\"set\",[]]}],"
               "\"table\":\"Logical_Switch\",\"timeout\":0,\"until\":\"==\",\"where\":[]}]");

        /* Two mutations at once stay a list of two. */
        osn_txn_reset(t);
        CHECK(osn_txn_size(t) == 0, "reset empties");
        osn_txn_mutate(t, "Logical_Switch", NULL,
                       json_pack("[o,o]",
                                 osn_mutation("ports", "delete", osn_ovsdb_set(json_array())),
                                 osn_mutation("external_ids", "delete",
                                              osn_ovsdb_set(json_pack("[s]", "k")))));
        expect_ops(t, "[{\"mutations\":[[\"ports\",\"delete\",[\"set\",[]]],"
                      "[\"external_ids\",\"delete\",[\"set\",[\"k\"]]]],\"op\":\"mutate\","
                      "\"table\":\"Logical_Switch\",\"where\":[]}]");

        /* ... and osn_mutation_and() makes that list: from a single
         * mutation, then appending (three). */
        osn_txn_reset(t);
        osn_txn_mutate(
            t, "Logical_Switch", NULL,
            osn_mutation_and(
                osn_mutation_and(
                    osn_mutation("ports", "delete", osn_ovsdb_set(json_array())),
                    osn_mutation("external_ids", "delete", osn_ovsdb_set(json_pack("[s]", "k")))),
                osn_mutation("external_ids", "insert",
                             osn_ovsdb_map((const char *const[]){"k", "v", NULL}))));
        expect_ops(t, "[{\"mutations\":[[\"ports\",\"delete\",[\"set\",[]]],"
                      "[\"external_ids\",\"delete\",[\"set\",[\"k\"]]],"
                      "[\"external_ids\",\"insert\",[\"map\",[[\"k\",\"v\"]]]]],"
                      "\"op\":\"mutate\",\"table\":\"Logical_Switch\",\"where\":[]}]");
        /* A NULL mutation (a failed allocation) breaks the list. */
        CHECK(osn_mutation_and(osn_mutation("a", "insert", json_integer(1)), NULL) == NULL,
              "a missing mutation gives no list");

        /* A builder that gets NULL (what a failed allocation gives) breaks
         * the transaction: nothing is sent, the commit says so. */
        osn_txn_reset(t);
        osn_op h = osn_txn_insert(t, "Logical_Switch", NULL, NULL, NULL);
        CHECK(h == 0, "a broken operation still has its handle");
        struct osn_error err = {0};
        CHECK(osn_txn_commit(t, NULL, osn_now_ms() + 100, &err) == -ENOMEM &&
                  err.code == OSN_CNI_TRY_AGAIN_LATER,
              "a broken transaction is not sent: %d %s", err.code, err.msg);
        osn_txn_free(t);
}

/* Counts the requests sent, checking they are the transaction's. */
static void count_trace(const char *db, const json_t *ops, void *aux)
{
        CHECK(streq(db, NB) && json_array_size(ops) == 1, "the request traced: %s", db);
        (*(int *)aux)++;
}

static void test_server(void)
{
        testserver_start_nb("nb", NULL);
        char remote[512];
        snprintf(remote, sizeof(remote), "unix:%s/nb.sock", testserver_dir());
        struct osn_ovsdb *nb = NULL;
        REQUIRE(osn_ovsdb_connect(remote, NULL, osn_now_ms() + 5000, &nb, NULL) == 0);
        struct osn_error err = {0};
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(NB);
        REQUIRE(t);

        /* Insert a switch and a port in one request: the port named by its
         * uuid-name in the switch's mutation. */
        osn_txn_comment(t, "test-txn");
        osn_op sw =
            osn_txn_insert(t, "Logical_Switch", json_pack("{s:s}", "name", "osn.t"), NULL, NULL);
        osn_op lsp = osn_txn_insert(t, "Logical_Switch_Port", json_pack("{s:s}", "name", "osn.t.p"),
                                    "p", NULL);
        osn_op mut = osn_txn_mutate(t, "Logical_Switch", osn_where_eq("name", json_string("osn.t")),
                                    osn_mutation("ports", "insert", osn_ovsdb_named_uuid("p")));
        REQUIRE(osn_txn_commit(t, nb, osn_now_ms() + 5000, &err) == 0);
        const char *sw_uuid = osn_txn_uuid(t, sw);
        CHECK(sw_uuid && osn_ovsdb_is_uuid(sw_uuid), "the insert's UUID by handle");
        CHECK(osn_txn_uuid(t, lsp) && !streq(osn_txn_uuid(t, lsp), sw_uuid), "two UUIDs");
        CHECK(osn_txn_count(t, mut) == 1, "the mutate touched one row: %lld",
              osn_txn_count(t, mut));
        CHECK(osn_txn_uuid(t, mut) == NULL && osn_txn_rows(t, sw) == NULL,
              "results of the wrong kind are absent");
        char sw_copy[37];
        snprintf(sw_copy, sizeof(sw_copy), "%s", sw_uuid);

        /* A select by handle, after a guard that holds. */
        osn_txn_reset(t);
        osn_op g = osn_txn_exists(t, "Logical_Switch", osn_where_eq("name", json_string("osn.t")));
        osn_op sel = osn_txn_select(t, "Logical_Switch", osn_where_eq("name", json_string("osn.t")),
                                    (const char *const[]){"_uuid", "ports", NULL});
        REQUIRE(osn_txn_commit(t, nb, osn_now_ms() + 5000, &err) == 0);
        CHECK(g == 0 && json_array_size(osn_txn_rows(t, sel)) == 1, "one row");
        CHECK(streq(osn_ovsdb_row_uuid(osn_txn_row(t, sel)), sw_copy), "the switch read back");
        CHECK(osn_ovsdb_set_size(json_object_get(osn_txn_row(t, sel), "ports")) == 1,
              "with its port");

        /* A guard that does not hold: -EAGAIN, named by its handle, and
         * nothing of the request is committed. */
        osn_txn_reset(t);
        osn_txn_comment(t, "guarded");
        osn_op ok = osn_txn_exists(t, "Logical_Switch", osn_where_eq("name", json_string("osn.t")));
        osn_op bad =
            osn_txn_absent(t, "Logical_Switch", osn_where_eq("name", json_string("osn.t")));
        osn_txn_insert(t, "Logical_Switch", json_pack("{s:s}", "name", "osn.never"), NULL, NULL);
        int r = osn_txn_commit(t, nb, osn_now_ms() + 5000, &err);
        CHECK(r == -EAGAIN, "a guard that fails: %d", r);
        CHECK(osn_txn_failed(t) == bad && osn_txn_failed(t) != ok, "the failed guard by handle: %d",
              osn_txn_failed(t));
        CHECK(err.code == OSN_CNI_OVSDB_ERROR && strstr(err.msg, "wait"),
              "the caller's error says which: %s", err.msg);
        osn_error_clear(&err);
        osn_txn_reset(t);
        osn_op none = osn_txn_select(t, "Logical_Switch",
                                     osn_where_eq("name", json_string("osn.never")), NULL);
        REQUIRE(osn_txn_commit(t, nb, osn_now_ms() + 5000, &err) == 0);
        CHECK(json_array_size(osn_txn_rows(t, none)) == 0 && osn_txn_row(t, none) == NULL,
              "the failed request committed nothing");
        CHECK(osn_txn_failed(t) == OSN_OP_NONE, "a success names no failed operation");

        /* A fixed row UUID: the second insert is refused,
         * named by its handle; pipelined through start/finish. */
        const char *fixed = "0d5e1f0a-1111-4222-8333-444455556666";
        for (int round = 0; round < 2; round++) {
                osn_txn_reset(t);
                osn_txn_comment(t, "fixed uuid %d", round);
                osn_op ins = osn_txn_insert(t, "DHCP_Options",
                                            json_pack("{s:s}", "cidr", "10.9.0.0/24"), NULL, fixed);
                REQUIRE(osn_txn_start(t, nb, &err) == 0);
                CHECK(osn_txn_in_flight(t), "started");
                r = osn_txn_finish(t, nb, osn_now_ms() + 5000, &err);
                CHECK(!osn_txn_in_flight(t), "finished");
                if (round == 0) {
                        CHECK(r == 0 && streq(osn_txn_uuid(t, ins), fixed), "the asked UUID");
                } else {
                        /* ovsdb-server answers "duplicate uuid", an
                         * error of its own (not a constraint violation). */
                        CHECK(r == -EPROTO && osn_txn_failed(t) == ins &&
                                  strstr(err.msg, "duplicate uuid"),
                              "the same UUID again: %d, failed %d: %s", r, osn_txn_failed(t),
                              err.msg);
                        osn_error_clear(&err);
                }
        }

        /* Delete by UUID counts what it removed; again, nothing. */
        for (int round = 0; round < 2; round++) {
                osn_txn_reset(t);
                osn_op del =
                    osn_txn_delete(t, "DHCP_Options", osn_where_eq("_uuid", osn_ovsdb_uuid(fixed)));
                REQUIRE(osn_txn_commit(t, nb, osn_now_ms() + 5000, &err) == 0);
                CHECK(osn_txn_count(t, del) == (round == 0 ? 1 : 0), "delete count %lld",
                      osn_txn_count(t, del));
        }
        /* The trace hook sees each request as it is sent, once; not a
         * broken one; none once it is unset. */
        int seen = 0;
        osn_txn_set_trace(count_trace, &seen);
        osn_txn_reset(t);
        osn_txn_select(t, "Logical_Switch", NULL, NULL);
        REQUIRE(osn_txn_commit(t, nb, osn_now_ms() + 5000, &err) == 0);
        CHECK(seen == 1, "traced once: %d", seen);
        osn_txn_reset(t);
        osn_txn_insert(t, "Logical_Switch", NULL, NULL, NULL);
        CHECK(osn_txn_commit(t, nb, osn_now_ms() + 5000, &err) == -ENOMEM && seen == 1,
              "a broken request is not sent, nor traced: %d", seen);
        osn_error_clear(&err);
        osn_txn_set_trace(NULL, NULL);
        osn_txn_reset(t);
        osn_txn_select(t, "Logical_Switch", NULL, NULL);
        REQUIRE(osn_txn_commit(t, nb, osn_now_ms() + 5000, &err) == 0);
        CHECK(seen == 1, "not traced once unset: %d", seen);

        CHECK(osn_txn_finish(t, nb, osn_now_ms() + 100, &err) == -EINVAL,
              "finish without start is refused");
        osn_error_clear(&err);
        osn_ovsdb_close(nb);
}

int main(void)
{
        test_shapes();
        if (!testserver_init("txn", NULL)) {
                printf("skip: no ovsdb-server (%d checks passed so far)\n", checks);
                return failures ? 1 : 77;
        }
        test_server();
        printf("%d checks, %d failures\n", checks, failures);
        return failures ? 1 : 0;
}
