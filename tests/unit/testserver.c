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
                kill(servers[i], SIGTERM);
        for (size_t i = 0; i < n_servers; i++) {
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
