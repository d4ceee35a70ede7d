/* testserver: see testserver.h. */
#include "testserver.h"

#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "ovsdb.h"
#include "testlib.h"

#define MAX_SERVERS 8

static char tmpdir[256];
static pid_t main_pid;
static pid_t servers[MAX_SERVERS];
static size_t n_servers;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        remove(path);
        return 0;
}

/* Stops the servers (bounded wait) and removes the directory; runs at
 * every exit of the main process, pass or fail. */
static void cleanup(void)
{
        if (getpid() != main_pid)
                return;
        for (size_t i = 0; i < n_servers; i++)
                if (servers[i] > 0) {
                        kill(servers[i], SIGCONT); /* a frozen member must see SIGTERM */
                        kill(servers[i], SIGTERM);
                }
        for (size_t i = 0; i < n_servers; i++) {
                if (servers[i] <= 0)
                        continue;
                int64_t deadline = osn_now_ms() + 3000;
                while (waitpid(servers[i], NULL, WNOHANG) == 0) {
                        if (osn_now_ms() > deadline) {
                                kill(servers[i], SIGKILL);
                                waitpid(servers[i], NULL, 0);
                                break;
                        }
                        usleep(10000);
                }
        }
        n_servers = 0;
        if (tmpdir[0])
                nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

bool testserver_have_program(const char *name)
{
        const char *path = getenv("PATH");
        _cleanup_free_ char *copy = strdup(path ? path : "");
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                char p[4096];
                snprintf(p, sizeof(p), "%s/%s", d, name);
                if (access(p, X_OK) == 0)
                        return true;
        }
        return false;
}

bool testserver_init(const char *test, const char *const *programs)
{
        const char *path = getenv("PATH");
        char newpath[4096];
        snprintf(newpath, sizeof(newpath), "%s:/usr/sbin:/usr/local/sbin",
                 path ? path : "/usr/bin");
        setenv("PATH", newpath, 1);
        if (!testserver_have_program("ovsdb-server") || !testserver_have_program("ovsdb-tool") ||
            access(TESTSERVER_NB_SCHEMA, R_OK) != 0)
                return false;
        for (size_t i = 0; programs && programs[i]; i++)
                if (!testserver_have_program(programs[i]))
                        return false;

        main_pid = getpid();
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/osn-test-%s.XXXXXX", test);
        if (!mkdtemp(tmpdir)) {
                tmpdir[0] = 0;
                REQUIRE(!"mkdtemp");
        }
        atexit(cleanup);
        return true;
}

const char *testserver_dir(void)
{
        return tmpdir;
}

pid_t testserver_spawn(char *const argv[])
{
        pid_t pid = fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
                /* Even if the test dies by a signal, no server outlives it. */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                int null = open("/dev/null", O_RDWR);
                dup2(null, STDIN_FILENO);
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
                execvp(argv[0], argv);
                _exit(127);
        }
        return pid;
}

int testserver_run(char *const argv[])
{
        pid_t pid = testserver_spawn(argv);
        int status;
        REQUIRE(waitpid(pid, &status, 0) == pid);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void testserver_start_nb(const char *name, const char *const *remote_args)
{
        char db[512], unixctl[512], log[512], remote[512];
        snprintf(db, sizeof(db), "%s/%s.db", tmpdir, name);
        REQUIRE(testserver_run(
                    (char *const[]){"ovsdb-tool", "create", db, TESTSERVER_NB_SCHEMA, NULL}) == 0);
        snprintf(unixctl, sizeof(unixctl), "--unixctl=%s/%s.ctl", tmpdir, name);
        snprintf(log, sizeof(log), "--log-file=%s/%s.log", tmpdir, name);
        snprintf(remote, sizeof(remote), "--remote=punix:%s/%s.sock", tmpdir, name);
        char *argv[32];
        size_t n = 0;
        argv[n++] = "ovsdb-server";
        argv[n++] = db;
        argv[n++] = unixctl;
        argv[n++] = log;
        argv[n++] = "--no-chdir";
        argv[n++] = "-vconsole:off";
        argv[n++] = remote;
        for (size_t i = 0; remote_args && remote_args[i]; i++) {
                REQUIRE(n + 1 < ARRAY_SIZE(argv));
                argv[n++] = (char *)remote_args[i];
        }
        argv[n] = NULL;
        REQUIRE(n_servers < ARRAY_SIZE(servers));
        servers[n_servers++] = testserver_spawn(argv);

        char r[512];
        snprintf(r, sizeof(r), "unix:%s/%s.sock", tmpdir, name);
        int64_t deadline = osn_now_ms() + 10000;
        for (;;) {
                struct osn_ovsdb *c = NULL;
                if (osn_ovsdb_connect(r, NULL, osn_now_ms() + 500, &c, NULL) == 0) {
                        osn_ovsdb_close(c);
                        return;
                }
                REQUIRE(osn_now_ms() < deadline);
                usleep(20000);
        }
}

/* --- Raft clusters --- */

#define MAX_MEMBERS 5

static char cluster_name[64];
static int cluster_n;
static size_t member_slot[MAX_MEMBERS + 1]; /* index into servers[] */

static const char *member_path(int i, const char *ext)
{
        static char bufs[8][512];
        static int next;
        char *b = bufs[next++ % 8];
        REQUIRE(snprintf(b, sizeof(bufs[0]), "%s/%s%d%s", tmpdir, cluster_name, i, ext) <
                (int)sizeof(bufs[0]));
        return b;
}

const char *testserver_member_remote(int i)
{
        static char bufs[8][600];
        static int next;
        char *b = bufs[next++ % 8];
        snprintf(b, sizeof(bufs[0]), "unix:%s", member_path(i, ".sock"));
        return b;
}

pid_t testserver_member_pid(int i)
{
        return servers[member_slot[i]];
}

/* Member i's row of _Server.Database, or NULL when it does not answer. */
static json_t *member_server_row(int i)
{
        struct osn_ovsdb *c = NULL;
        json_t *res = NULL, *row = NULL;
        if (osn_ovsdb_connect(testserver_member_remote(i), NULL, osn_now_ms() + 300, &c, NULL) < 0)
                return NULL;
        json_t *ops = json_pack("[{s:s, s:s, s:[[s, s, s]]}]", "op", "select", "table", "Database",
                                "where", "name", "==", "OVN_Northbound");
        if (osn_ovsdb_transact(c, "_Server", ops, osn_now_ms() + 300, &res, NULL) == 0)
                row = json_incref(json_array_get(test_result_rows(res, 0), 0));
        json_decref(res);
        osn_ovsdb_close(c);
        return row;
}

void testserver_member_start(int i)
{
        char unixctl[600], log[600], remote[600];
        snprintf(unixctl, sizeof(unixctl), "--unixctl=%s", member_path(i, ".ctl"));
        snprintf(log, sizeof(log), "--log-file=%s", member_path(i, ".log"));
        snprintf(remote, sizeof(remote), "--remote=punix:%s", member_path(i, ".sock"));
        char *argv[] = {"ovsdb-server", (char *)member_path(i, ".db"),
                        unixctl,        log,
                        "--no-chdir",   "-vconsole:off",
                        remote,         NULL};
        servers[member_slot[i]] = testserver_spawn(argv);
        int64_t deadline = osn_now_ms() + 10000;
        for (;;) {
                struct osn_ovsdb *c = NULL;
                if (osn_ovsdb_connect(testserver_member_remote(i), NULL, osn_now_ms() + 500, &c,
                                      NULL) == 0) {
                        osn_ovsdb_close(c);
                        return;
                }
                REQUIRE(osn_now_ms() < deadline);
                usleep(20000);
        }
}

void testserver_member_kill(int i)
{
        pid_t pid = servers[member_slot[i]];
        if (pid <= 0)
                return;
        kill(pid, SIGKILL);
        REQUIRE(waitpid(pid, NULL, 0) == pid);
        servers[member_slot[i]] = 0;
}

int testserver_cluster_leader(int ms)
{
        int64_t deadline = osn_now_ms() + ms;
        do {
                for (int i = 1; i <= cluster_n; i++) {
                        if (testserver_member_pid(i) <= 0)
                                continue;
                        json_t *row = member_server_row(i);
                        bool leader = json_is_true(json_object_get(row, "leader")) &&
                                      json_is_true(json_object_get(row, "connected"));
                        json_decref(row);
                        if (leader)
                                return i;
                }
                usleep(50000);
        } while (osn_now_ms() < deadline);
        return 0;
}

void testserver_start_cluster(const char *name, int n)
{
        REQUIRE(n >= 1 && n <= MAX_MEMBERS && !cluster_n);
        REQUIRE(snprintf(cluster_name, sizeof(cluster_name), "%s", name) <
                (int)sizeof(cluster_name));
        cluster_n = n;
        char raft1[600];
        snprintf(raft1, sizeof(raft1), "unix:%s", member_path(1, ".raft"));
        for (int i = 1; i <= n; i++) {
                char raft[600];
                snprintf(raft, sizeof(raft), "unix:%s", member_path(i, ".raft"));
                char *create[] = {"ovsdb-tool",
                                  "create-cluster",
                                  (char *)member_path(i, ".db"),
                                  TESTSERVER_NB_SCHEMA,
                                  raft,
                                  NULL};
                char *join[] = {"ovsdb-tool",
                                "join-cluster",
                                (char *)member_path(i, ".db"),
                                "OVN_Northbound",
                                raft,
                                raft1,
                                NULL};
                REQUIRE(testserver_run(i == 1 ? create : join) == 0);
                REQUIRE(n_servers < ARRAY_SIZE(servers));
                member_slot[i] = n_servers++;
                testserver_member_start(i);
        }
        /* Joined: every member connected, with the schema. */
        int64_t deadline = osn_now_ms() + 20000;
        for (int i = 1; i <= n; i++) {
                for (;;) {
                        json_t *row = member_server_row(i);
                        const char *schema = json_string_value(json_object_get(row, "schema"));
                        bool ok =
                            json_is_true(json_object_get(row, "connected")) && schema && *schema;
                        json_decref(row);
                        if (ok)
                                break;
                        REQUIRE(osn_now_ms() < deadline);
                        usleep(50000);
                }
        }
}

json_t *test_op_select(const char *table, json_t *where, const char *const *columns)
{
        json_t *cols = json_array();
        for (size_t i = 0; columns && columns[i]; i++)
                json_array_append_new(cols, json_string(columns[i]));
        return json_pack("{s:s, s:s, s:o, s:o}", "op", "select", "table", table, "where", where,
                         "columns", cols);
}

json_t *test_result_rows(const json_t *result, size_t i)
{
        return json_object_get(json_array_get(result, i), "rows");
}
