/* testserver: a real ovsdb-server for the unit tests that need one
 * (test-ovsdb, test-inventory), in a temporary directory, no root needed.
 *
 * testserver_init() checks that the programs are there (ovsdb-server lives
 * in sbin, so /usr/sbin and /usr/local/sbin join PATH) and creates the
 * directory.  At the exit of the process that called it (not of a forked
 * child), pass or fail, every server started is stopped (SIGTERM, SIGKILL
 * after 3 s) and the directory removed; a server also dies with the test
 * (PR_SET_PDEATHSIG) if the test is killed.  A failure of this machinery
 * ends the test with exit status 1.
 */
#ifndef OSN_TESTSERVER_H
#define OSN_TESTSERVER_H

#include <sys/types.h>

#include <jansson.h>

#include "util.h"

#define TESTSERVER_NB_SCHEMA "/usr/share/ovn/ovn-nb.ovsschema"

/* False (the test then skips, exit 77) when ovsdb-server, ovsdb-tool, one
 * of 'programs' (NULL-terminated, may be NULL) or the OVN Northbound schema
 * is missing.  Else creates /tmp/osn-test-<test>.XXXXXX and returns true. */
bool testserver_init(const char *test, const char *const *programs);

/* The temporary directory. */
const char *testserver_dir(void);

/* Whether 'name' is an executable in PATH. */
bool testserver_have_program(const char *name);

/* Runs argv with stdin, stdout and stderr on /dev/null: _spawn() returns
 * the child's pid, _run() waits for it and returns its exit status (-1
 * when a signal ended it). */
pid_t testserver_spawn(char *const argv[]);
int testserver_run(char *const argv[]);

/* Creates a fresh OVN Northbound database <dir>/<name>.db and starts
 * ovsdb-server on it: control socket <name>.ctl, log <name>.log, remote
 * punix:<name>.sock plus 'remote_args' (NULL-terminated, may be NULL).
 * Returns once it accepts connections. */
void testserver_start_nb(const char *name, const char *const *remote_args);

/* A Raft cluster of 'n' (1..5) members of the OVN Northbound database:
 * member i (1-based) keeps <dir>/<name><i>.db, serves punix:<name><i>.sock,
 * speaks Raft on unix:<name><i>.raft.  Returns once every member is
 * connected to the cluster.  One cluster per test process. */
void testserver_start_cluster(const char *name, int n);
/* "unix:<dir>/<name><i>.sock" (static buffer, one of 8 in rotation). */
const char *testserver_member_remote(int i);
/* Member i's pid (0 while stopped). */
pid_t testserver_member_pid(int i);
/* Kills member i (SIGKILL: no goodbye, as a crash) and reaps it. */
void testserver_member_kill(int i);
/* Starts member i again on its database (returns once it accepts). */
void testserver_member_start(int i);
/* The member that is leader now (1-based), waiting up to 'ms' for one to
 * be elected; 0 when none is. */
int testserver_cluster_leader(int ms);

/* Operations written by hand, for the tests of the client itself (the
 * code's operations are txn.h's): {"op": "select", "table", "where"
 * (stolen), "columns"} and the "rows" of result 'i' of a transact answer
 * (borrowed). */
json_t *test_op_select(const char *table, json_t *where, const char *const *columns);
json_t *test_result_rows(const json_t *result, size_t i);

#endif
