/* test-ovsdb-cluster: the OVSDB client against a real 3-member Raft cluster
 * of the OVN Northbound database (ovsdb-tool create-cluster/join-cluster,
 * unix sockets in a temporary directory): a follower is skipped, a killed
 * leader is left for the new one, a frozen member (SIGSTOP) is left within
 * a bound, a member without the majority is refused, min_index is kept,
 * monitors survive a move, settle/reconnect make a connection usable.
 *
 * Remotes are given in a chosen order (OSN_OVSDB_NO_SHUFFLE=1) so that each
 * case starts where it means to. */
#include "ovsdb.h"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>

#include "log.h"
#include "testlib.h"
#include "testserver.h"

#define NB "OVN_Northbound"

static int64_t dl(int ms)
{
        return osn_now_ms() + ms;
}

/* "unix:a,unix:b,unix:c" for members in the order given (0 ends). */
static const char *remotes_of(int a, int b, int c)
{
        static char buf[2048];
        int m[3] = {a, b, c};
        size_t len = 0;
        buf[0] = 0;
        for (int k = 0; k < 3 && m[k]; k++)
                len += snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? "," : "",
                                testserver_member_remote(m[k]));
        REQUIRE(len < sizeof(buf));
        return buf;
}

static int other(int not1, int not2)
{
        for (int i = 1; i <= 3; i++)
                if (i != not1 && i != not2)
                        return i;
        return 0;
}

/* Inserts a Logical_Switch named 'name' (no guard: a second run would
 * make a second row, which is what the tests look for). */
static int insert_ls(struct osn_ovsdb *c, const char *name, int64_t deadline, struct osn_error *err)
{
        json_t *res = NULL;
        int r = osn_ovsdb_transact(c, NB,
                                   json_pack("[{s:s, s:s, s:{s:s}}]", "op", "insert", "table",
                                             "Logical_Switch", "row", "name", name),
                                   deadline, &res, err);
        json_decref(res);
        return r;
}

/* How many Logical_Switch rows are named 'name', read on the leader (the
 * client finds it among all three: leadership may move right after a
 * member was killed or thawed). */
static int count_ls(const char *name)
{
        int leader = testserver_cluster_leader(10000);
        REQUIRE(leader);
        struct osn_ovsdb *c = NULL;
        REQUIRE(
            osn_ovsdb_connect(remotes_of(leader, other(leader, 0), other(leader, other(leader, 0))),
                              NULL, dl(2000), &c, NULL) == 0);
        json_t *res = NULL;
        int r = osn_ovsdb_transact(c, NB,
                                   json_pack("[{s:s, s:s, s:[[s, s, s]], s:[s]}]", "op", "select",
                                             "table", "Logical_Switch", "where", "name", "==", name,
                                             "columns", "name"),
                                   dl(5000), &res, NULL);
        REQUIRE(r == 0);
        int n = (int)json_array_size(test_result_rows(res, 0));
        json_decref(res);
        osn_ovsdb_close(c);
        return n;
}

static bool is_member(const struct osn_ovsdb *c, int i)
{
        return streq(osn_ovsdb_remote(c), testserver_member_remote(i));
}

/* A follower first in the list: the first request (a write, pipelined
 * behind the check) is answered by the follower, which forwarded it, and
 * not run a second time; later requests go to the leader. */
static void test_follower_skipped(void)
{
        int leader = testserver_cluster_leader(10000);
        REQUIRE(leader);
        int f = other(leader, 0);
        struct osn_ovsdb *c = NULL;
        struct osn_error err = {0};
        CHECK(osn_ovsdb_connect(remotes_of(f, leader, 0), NULL, dl(2000), &c, &err) == 0, "%s",
              err.msg);
        CHECK(is_member(c, f), "connected to %s", osn_ovsdb_remote(c));
        int64_t t0 = osn_now_ms();
        CHECK(insert_ls(c, "follower-first", dl(5000), &err) == 0, "%s", err.msg);
        CHECK(osn_ovsdb_moves(c) == 1, "moves %d", osn_ovsdb_moves(c));
        CHECK(count_ls("follower-first") == 1, "the forwarded write ran once");
        /* The next request runs on the leader, which has checked in. */
        CHECK(insert_ls(c, "follower-first-2", dl(5000), &err) == 0, "%s", err.msg);
        CHECK(osn_ovsdb_moves(c) == 1, "no more moves");
        CHECK(is_member(c, leader), "now on %s", osn_ovsdb_remote(c));
        CHECK(osn_ovsdb_min_index(c) > 0, "index %lld", (long long)osn_ovsdb_min_index(c));
        printf("follower skipped: first write + move in %lld ms\n", (long long)(osn_now_ms() - t0));
        osn_ovsdb_close(c);

        /* A read first: the follower's answer is dropped, the leader's used. */
        c = NULL;
        CHECK(osn_ovsdb_connect(remotes_of(f, leader, 0), NULL, dl(2000), &c, &err) == 0, "%s",
              err.msg);
        json_t *res = NULL;
        CHECK(osn_ovsdb_transact(c, NB,
                                 json_pack("[{s:s, s:s, s:[], s:[s]}]", "op", "select", "table",
                                           "Logical_Switch", "where", "columns", "name"),
                                 dl(5000), &res, &err) == 0,
              "%s", err.msg);
        CHECK(json_array_size(test_result_rows(res, 0)) == 2, "rows");
        CHECK(is_member(c, leader), "read on the leader");
        json_decref(res);
        osn_ovsdb_close(c);
}

/* Pipelining on the leader (ovsdb.h): a select started right after an
 * insert, before its reply, sees it; 20 rounds. */
static void test_pipeline_on_leader(void)
{
        int leader = testserver_cluster_leader(10000);
        REQUIRE(leader);
        struct osn_ovsdb *c = NULL;
        struct osn_error err = {0};
        CHECK(osn_ovsdb_connect(remotes_of(leader, 0, 0), NULL, dl(2000), &c, &err) == 0, "%s",
              err.msg);
        int seen = 0;
        for (int k = 0; k < 20; k++) {
                char name[32];
                snprintf(name, sizeof(name), "pipe-%d", k);
                json_t *ins = json_pack("[{s:s, s:s, s:{s:s}}]", "op", "insert", "table",
                                        "Logical_Switch", "row", "name", name);
                json_t *sel =
                    json_pack("[{s:s, s:s, s:[[s, s, s]], s:[s]}]", "op", "select", "table",
                              "Logical_Switch", "where", "name", "==", name, "columns", "name");
                int64_t a, b;
                json_t *ra = NULL, *rb = NULL;
                CHECK(osn_ovsdb_transact_start(c, NB, ins, &a, &err) == 0, "%s", err.msg);
                CHECK(osn_ovsdb_transact_start(c, NB, sel, &b, &err) == 0, "%s", err.msg);
                CHECK(osn_ovsdb_transact_finish(c, NB, sel, b, dl(5000), &rb, &err) == 0, "%s",
                      err.msg);
                CHECK(osn_ovsdb_transact_finish(c, NB, ins, a, dl(5000), &ra, &err) == 0, "%s",
                      err.msg);
                seen += json_array_size(test_result_rows(rb, 0)) == 1;
                json_decref(ra);
                json_decref(rb);
                json_decref(ins);
                json_decref(sel);
        }
        CHECK(seen == 20, "the pipelined select saw the insert %d times in 20", seen);
        printf("pipelining on the leader: the select saw the insert %d times in 20\n", seen);
        osn_ovsdb_close(c);
}

/* The leader killed under a connection that used it: the next request
 * finds the new leader within its deadline. */
static void test_leader_killed(void)
{
        int leader = testserver_cluster_leader(10000);
        REQUIRE(leader);
        struct osn_ovsdb *c = NULL;
        struct osn_error err = {0};
        CHECK(
            osn_ovsdb_connect(remotes_of(leader, other(leader, 0), other(leader, other(leader, 0))),
                              NULL, dl(2000), &c, &err) == 0,
            "%s", err.msg);
        CHECK(insert_ls(c, "before-kill", dl(5000), &err) == 0, "%s", err.msg);
        int64_t idx = osn_ovsdb_min_index(c);
        testserver_member_kill(leader);
        int64_t t0 = osn_now_ms();
        CHECK(insert_ls(c, "after-kill", dl(15000), &err) == 0, "%s", err.msg);
        int64_t ms = osn_now_ms() - t0;
        CHECK(!is_member(c, leader), "moved away from the dead leader");
        /* (The write may have been answered by a follower that forwarded
         * it; the next one runs on the new leader.) */
        CHECK(insert_ls(c, "after-kill-2", dl(15000), &err) == 0, "%s", err.msg);
        CHECK(osn_ovsdb_min_index(c) > idx, "index grew");
        CHECK(count_ls("after-kill") == 1, "once");
        printf("leader killed: next transaction done on the new leader in %lld ms\n",
               (long long)ms);
        osn_ovsdb_close(c);
        testserver_member_start(leader);
}

/* Frozen members: a frozen follower first in the list is left after one
 * stall bound; a frozen leader in the middle of a write is left for the
 * new leader, and the write (guarded here by a wait, as osn's are) lands
 * once. */
static void test_frozen(void)
{
        int leader = testserver_cluster_leader(10000);
        REQUIRE(leader);
        int f = other(leader, 0);
        struct osn_ovsdb *c = NULL;
        struct osn_error err = {0};
        kill(testserver_member_pid(f), SIGSTOP);
        CHECK(osn_ovsdb_connect(remotes_of(f, leader, 0), NULL, dl(2000), &c, &err) == 0, "%s",
              err.msg);
        osn_ovsdb_set_stall_ms(c, 300);
        int64_t t0 = osn_now_ms();
        CHECK(insert_ls(c, "frozen-follower", dl(5000), &err) == 0, "%s", err.msg);
        int64_t ms = osn_now_ms() - t0;
        CHECK(ms >= 300 && ms < 1500, "left the frozen follower in %lld ms", (long long)ms);
        CHECK(is_member(c, leader), "on the leader");
        printf("frozen follower: left in %lld ms (stall bound 300 ms)\n", (long long)ms);
        kill(testserver_member_pid(f), SIGCONT);
        osn_ovsdb_close(c);

        /* Freeze the leader under a verified connection, then write. */
        c = NULL;
        CHECK(osn_ovsdb_connect(remotes_of(leader, f, other(leader, f)), NULL, dl(2000), &c,
                                &err) == 0,
              "%s", err.msg);
        osn_ovsdb_set_stall_ms(c, 500);
        CHECK(insert_ls(c, "frozen-leader-0", dl(5000), &err) == 0, "%s", err.msg);
        kill(testserver_member_pid(leader), SIGSTOP);
        t0 = osn_now_ms();
        json_t *res = NULL;
        /* Guarded as osn's inserts are: a second run fails the wait. */
        json_t *ops =
            json_pack("[{s:s, s:s, s:[[s, s, s]], s:[s], s:s, s:[]},"
                      " {s:s, s:s, s:{s:s}}]",
                      "op", "wait", "table", "Logical_Switch", "where", "name",
                      "==", "frozen-leader", "columns", "name", "until", "==", "rows", "op",
                      "insert", "table", "Logical_Switch", "row", "name", "frozen-leader");
        int r = osn_ovsdb_transact(c, NB, ops, dl(15000), &res, &err);
        ms = osn_now_ms() - t0;
        json_decref(res);
        CHECK(r == 0 || r == -EAGAIN, "r=%d %s", r, err.msg);
        printf("frozen leader: write done elsewhere in %lld ms (r=%d)\n", (long long)ms, r);
        /* The answer may have come through a follower that forwarded the
         * write (its session drained) while the client was already trying
         * the frozen leader again: the next request, still with the leader
         * frozen, must then move off it and succeed. */
        t0 = osn_now_ms();
        CHECK(insert_ls(c, "frozen-leader-2", dl(15000), &err) == 0, "%s", err.msg);
        CHECK(!is_member(c, leader), "moved off the frozen leader (on %s)", osn_ovsdb_remote(c));
        printf("frozen leader: the next write done in %lld ms\n", (long long)(osn_now_ms() - t0));
        kill(testserver_member_pid(leader), SIGCONT);
        CHECK(count_ls("frozen-leader") == 1, "once");
        osn_ovsdb_close(c);
}

/* Two members down: the last one has no majority and is refused; the
 * request ends with code 11 at its deadline, naming the reason. */
static void test_no_majority(void)
{
        int leader = testserver_cluster_leader(10000);
        REQUIRE(leader);
        int a = other(leader, 0), b = other(leader, a);
        testserver_member_kill(leader);
        testserver_member_kill(a);
        struct osn_ovsdb *c = NULL;
        struct osn_error err = {0};
        CHECK(osn_ovsdb_connect(remotes_of(b, 0, 0), NULL, dl(2000), &c, &err) == 0, "%s", err.msg);
        /* Until b notices it lost the leader, it may still claim to follow. */
        int64_t t0 = osn_now_ms();
        int r = insert_ls(c, "no-majority", dl(4000), &err);
        int64_t ms = osn_now_ms() - t0;
        CHECK(r == -ETIMEDOUT && err.code == OSN_CNI_TRY_AGAIN_LATER, "r=%d %s", r, err.msg);
        CHECK(ms < 4500, "bounded: %lld ms", (long long)ms);
        CHECK(strstr(err.msg, "not connected") || strstr(err.msg, "not the cluster leader") ||
                  strstr(err.msg, "no answer"),
              "%s", err.msg);
        printf("no majority: refused in %lld ms: %s\n", (long long)ms, err.msg);
        osn_ovsdb_close(c);
        testserver_member_start(leader);
        testserver_member_start(a);
        CHECK(testserver_cluster_leader(15000) != 0, "a leader again");
        CHECK(count_ls("no-majority") <= 1, "at most once");
}

/* A monitor set up on the leader survives the leader's death: its next
 * update carries the current rows, a write made meanwhile among them. */
static void test_monitor_moves(void)
{
        int leader = testserver_cluster_leader(10000);
        REQUIRE(leader);
        int a = other(leader, 0), b = other(leader, a);
        struct osn_ovsdb *c = NULL, *w = NULL;
        struct osn_error err = {0};
        CHECK(osn_ovsdb_connect(remotes_of(leader, a, b), NULL, dl(2000), &c, &err) == 0, "%s",
              err.msg);
        json_t *init = NULL;
        CHECK(osn_ovsdb_monitor_cond(c, NB, "ls", "Logical_Switch",
                                     json_pack("[[s, s, s]]", "name", "==", "mon-moved"),
                                     (const char *const[]){"name", NULL}, dl(5000), &init,
                                     &err) == 0,
              "%s", err.msg);
        CHECK(json_object_size(json_object_get(init, "Logical_Switch")) == 0, "empty at first");
        json_decref(init);
        testserver_member_kill(leader);
        CHECK(osn_ovsdb_connect(remotes_of(a, b, 0), NULL, dl(2000), &w, &err) == 0, "%s", err.msg);
        CHECK(insert_ls(w, "mon-moved", dl(15000), &err) == 0, "%s", err.msg);
        json_t *u = NULL;
        CHECK(osn_ovsdb_wait_update(c, "ls", dl(15000), &u, &err) == 0, "%s", err.msg);
        json_t *rows = json_object_get(u, "Logical_Switch");
        CHECK(json_object_size(rows) == 1, "the new row");
        json_decref(u);
        osn_ovsdb_close(w);
        osn_ovsdb_close(c);
        testserver_member_start(leader);
}

/* settle() then reconnect() after the leader froze with a write in flight:
 * the write's answer comes from the new leader, reconnect() leaves a
 * usable connection; reconnect() on a healthy one costs one check. */
static void test_settle_reconnect(void)
{
        int leader = testserver_cluster_leader(10000);
        REQUIRE(leader);
        int a = other(leader, 0), b = other(leader, a);
        struct osn_ovsdb *c = NULL;
        struct osn_error err = {0};
        CHECK(osn_ovsdb_connect(remotes_of(leader, a, b), NULL, dl(2000), &c, &err) == 0, "%s",
              err.msg);
        osn_ovsdb_set_stall_ms(c, 400);
        CHECK(osn_ovsdb_reconnect(c, dl(2000), &err) == 0, "%s", err.msg);
        CHECK(insert_ls(c, "settle-0", dl(5000), &err) == 0, "%s", err.msg);
        int64_t t0 = osn_now_ms();
        CHECK(osn_ovsdb_reconnect(c, dl(2000), &err) == 0, "%s", err.msg);
        CHECK(is_member(c, leader) && osn_ovsdb_moves(c) == 0, "healthy stays");
        printf("reconnect on a healthy leader: %lld ms\n", (long long)(osn_now_ms() - t0));
        kill(testserver_member_pid(leader), SIGSTOP);
        json_t *ops = json_pack("[{s:s, s:s, s:{s:s}}]", "op", "insert", "table", "Logical_Switch",
                                "row", "name", "settle-1");
        int64_t id;
        CHECK(osn_ovsdb_transact_start(c, NB, ops, &id, &err) == 0, "%s", err.msg);
        t0 = osn_now_ms();
        CHECK(osn_ovsdb_settle(c, dl(10000), &err) == 0, "%s", err.msg);
        printf("settle past a frozen leader: %lld ms\n", (long long)(osn_now_ms() - t0));
        json_t *res = NULL;
        CHECK(osn_ovsdb_transact_finish(c, NB, ops, id, dl(0), &res, &err) == 0, "%s", err.msg);
        json_decref(res);
        json_decref(ops);
        CHECK(osn_ovsdb_reconnect(c, dl(5000), &err) == 0, "%s", err.msg);
        CHECK(!is_member(c, leader), "off the frozen leader");
        CHECK(insert_ls(c, "settle-2", dl(5000), &err) == 0, "%s", err.msg);
        kill(testserver_member_pid(leader), SIGCONT);
        /* Unguarded on purpose: the frozen leader read it only after its
         * session was closed, so it ran once. */
        CHECK(count_ls("settle-1") == 1, "settle-1 once: %d", count_ls("settle-1"));

        /* settle() with a deadline too short abandons, and says so. */
        int f = testserver_cluster_leader(5000);
        kill(testserver_member_pid(f), SIGSTOP);
        osn_ovsdb_set_stall_ms(c, 5000);
        ops = json_pack("[{s:s, s:s, s:{s:s}}]", "op", "insert", "table", "Logical_Switch", "row",
                        "name", "settle-3");
        CHECK(osn_ovsdb_transact_start(c, NB, ops, &id, &err) == 0, "%s", err.msg);
        osn_error_clear(&err);
        CHECK(osn_ovsdb_settle(c, dl(300), &err) == -ETIMEDOUT, "abandoned");
        CHECK(osn_ovsdb_transact_finish(c, NB, ops, id, dl(0), &res, NULL) == -EINVAL, "gone");
        json_decref(ops);
        kill(testserver_member_pid(f), SIGCONT);
        osn_ovsdb_set_stall_ms(c, 400);
        CHECK(osn_ovsdb_reconnect(c, dl(10000), &err) == 0, "%s", err.msg);
        osn_ovsdb_close(c);
}

int main(void)
{
        if (!testserver_init("cluster", NULL)) {
                fprintf(stderr, "ovsdb-server or the OVN NB schema not installed: skipping\n");
                return 77;
        }
        setenv("OSN_OVSDB_NO_SHUFFLE", "1", 1);
        if (getenv("OSN_TEST_DEBUG"))
                osn_log_set_level(OSN_LOG_DEBUG);
        testserver_start_cluster("nb", 3);
        test_follower_skipped();
        test_pipeline_on_leader();
        test_leader_killed();
        test_frozen();
        test_monitor_moves();
        test_settle_reconnect();
        test_no_majority();
        printf("test-ovsdb-cluster: %d checks, %d failures\n", checks, failures);
        return failures ? 1 : 0;
}
