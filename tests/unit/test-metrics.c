/* test-metrics: the plugin's metrics textfile (metrics.h).
 *
 * - counts add up across calls, by verb and code, with the histogram
 *   cumulative and the pool counters apart;
 * - 8 processes x 50 updates at once lose nothing (each waits long enough),
 *   and leave no temporary file;
 * - a held lock makes an update skip at once (bounded), and the next update
 *   counts the skip;
 * - a file this module did not write is replaced, not fatal; "" and "-"
 *   are off.
 */
#include <fcntl.h>
#include <glob.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics.h"
#include "testlib.h"

static char dir[] = "/tmp/osn-test-metrics.XXXXXX";
static char path[256];

static char *slurp(const char *p)
{
        FILE *f = fopen(p, "re");
        if (!f)
                return NULL;
        static char buf[16384];
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = 0;
        fclose(f);
        return buf;
}

/* The value of the sample line that starts with 'key ' (-1 when absent). */
static double sample(const char *text, const char *key)
{
        size_t k = strlen(key);
        for (const char *p = text; p && *p;) {
                if (strncmp(p, key, k) == 0 && p[k] == ' ')
                        return strtod(p + k + 1, NULL);
                p = strchr(p, '\n');
                p = p ? p + 1 : NULL;
        }
        return -1;
}

static void record(const char *verb, int code, double s, enum osn_metrics_pool pool)
{
        struct osn_metrics_event ev = {.verb = verb, .code = code, .seconds = s, .pool = pool};
        int r = osn_metrics_record(path, &ev, 1000);
        CHECK(r == 0, "record %s %d: %s", verb, code, strerror(-r));
}

static void test_counts(void)
{
        record("ADD", 0, 0.2, OSN_METRICS_POOL_CLAIMED);
        record("ADD", 0, 0.03, OSN_METRICS_POOL_MISSED);
        record("ADD", 0, 0.004, OSN_METRICS_POOL_WARM);
        record("ADD", 11, 7.0, OSN_METRICS_POOL_NONE);
        record("DEL", 0, 0.01, OSN_METRICS_POOL_NONE);
        const char *t = slurp(path);
        REQUIRE(t);
        CHECK(sample(t, "osn_cni_requests_total{verb=\"ADD\",code=\"0\"}") == 3, "%s", t);
        CHECK(sample(t, "osn_cni_requests_total{verb=\"ADD\",code=\"11\"}") == 1, "%s", t);
        CHECK(sample(t, "osn_cni_requests_total{verb=\"DEL\",code=\"0\"}") == 1, "%s", t);
        CHECK(sample(t, "osn_cni_requests_total{verb=\"CHECK\",code=\"0\"}") == -1, "%s", t);
        CHECK(sample(t, "osn_cni_request_duration_seconds_bucket{verb=\"ADD\",le=\"0.05\"}") == 2,
              "%s", t);
        CHECK(sample(t, "osn_cni_request_duration_seconds_bucket{verb=\"ADD\",le=\"0.25\"}") == 3,
              "%s", t);
        CHECK(sample(t, "osn_cni_request_duration_seconds_bucket{verb=\"ADD\",le=\"5\"}") == 3,
              "%s", t);
        CHECK(sample(t, "osn_cni_request_duration_seconds_bucket{verb=\"ADD\",le=\"10\"}") == 4,
              "%s", t);
        CHECK(sample(t, "osn_cni_request_duration_seconds_bucket{verb=\"ADD\",le=\"+Inf\"}") == 4,
              "%s", t);
        CHECK(sample(t, "osn_cni_request_duration_seconds_count{verb=\"ADD\"}") == 4, "%s", t);
        double sum = sample(t, "osn_cni_request_duration_seconds_sum{verb=\"ADD\"}");
        CHECK(sum > 7.233 && sum < 7.235, "sum %f", sum);
        CHECK(sample(t, "osn_pool_claims_total") == 2, "%s", t);
        CHECK(sample(t, "osn_warm_claims_total") == 1, "%s", t);
        CHECK(sample(t, "osn_pool_misses_total") == 1, "%s", t);
        CHECK(sample(t, "osn_metrics_skipped_total") == 0, "%s", t);
        CHECK(strstr(t, "# TYPE osn_cni_request_duration_seconds histogram\n") != NULL, "%s", t);
        struct osn_metrics_event bad = {.verb = "FOO"};
        CHECK(osn_metrics_record(path, &bad, 10) == -EINVAL, "unknown verb");
}

static void test_concurrent(void)
{
        enum { PROCS = 8, EACH = 50 };
        unlink(path);
        for (int p = 0; p < PROCS; p++) {
                pid_t pid = fork();
                REQUIRE(pid >= 0);
                if (pid == 0) {
                        int bad = 0;
                        for (int i = 0; i < EACH; i++) {
                                struct osn_metrics_event ev = {.verb = "CHECK", .seconds = 0.001};
                                bad += osn_metrics_record(path, &ev, 5000) != 0;
                        }
                        _exit(bad ? 1 : 0);
                }
        }
        for (int p = 0; p < PROCS; p++) {
                int st = 0;
                wait(&st);
                CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a writer failed");
        }
        const char *t = slurp(path);
        REQUIRE(t);
        CHECK(sample(t, "osn_cni_requests_total{verb=\"CHECK\",code=\"0\"}") == PROCS * EACH,
              "%d concurrent updates: %s", PROCS * EACH, t);
        char pat[300];
        snprintf(pat, sizeof(pat), "%s.tmp.*", path);
        glob_t g = {0};
        CHECK(glob(pat, 0, NULL, &g) == GLOB_NOMATCH, "a temporary file is left");
        globfree(&g);
}

/* What an update costs a CNI call (printed; bounded loosely: a file of a
 * few KiB read, written and renamed). */
static void test_cost(void)
{
        enum { N = 200 };
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (int i = 0; i < N; i++)
                record(i % 2 ? "ADD" : "DEL", i % 7 ? 0 : 11, 0.1 * (i % 9), i % 3);
        clock_gettime(CLOCK_MONOTONIC, &b);
        double us =
            ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / 1e3 / N;
        printf("test-metrics: one update takes %.0f us on average (%d updates)\n", us, N);
        CHECK(us < 20000, "an update takes %.0f us", us);
}

static void test_contention(void)
{
        char lockp[300];
        unlink(path);
        snprintf(lockp, sizeof(lockp), "%s.lock", path);
        int fd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        REQUIRE(fd >= 0 && flock(fd, LOCK_EX) == 0);
        /* flock locks belong to the open file: another open, even in this
         * process, contends. */
        struct osn_metrics_event ev = {.verb = "ADD", .seconds = 0.1};
        int64_t t0 = osn_now_ms();
        int r = osn_metrics_record(path, &ev, 20);
        int64_t took = osn_now_ms() - t0;
        CHECK(r == -EAGAIN, "a busy lock: %d", r);
        CHECK(took < 500, "the wait is bounded: %lld ms", (long long)took);
        close(fd);
        record("ADD", 0, 0.1, OSN_METRICS_POOL_NONE);
        const char *t = slurp(path);
        CHECK(sample(t, "osn_metrics_skipped_total") == 1, "the skip is counted: %s", t);
        CHECK(sample(t, "osn_cni_requests_total{verb=\"ADD\",code=\"0\"}") == 1, "%s", t);
}

static void test_foreign_and_off(void)
{
        FILE *f = fopen(path, "we");
        REQUIRE(f);
        fputs("garbage line\nosn_cni_requests_total{verb=\"ADD\",code=\"0\"} notanumber\n"
              "some_other_metric 5\n",
              f);
        fclose(f);
        record("STATUS", 0, 0.002, OSN_METRICS_POOL_NONE);
        const char *t = slurp(path);
        CHECK(sample(t, "osn_cni_requests_total{verb=\"STATUS\",code=\"0\"}") == 1, "%s", t);
        CHECK(!strstr(t, "garbage") && !strstr(t, "some_other_metric"), "%s", t);
        CHECK(osn_metrics_off("") && osn_metrics_off("-") && osn_metrics_off(NULL) &&
                  !osn_metrics_off(path),
              "off");
        /* The directory's last component is made. */
        char deeper[300];
        snprintf(deeper, sizeof(deeper), "%s/sub/osn.prom", dir);
        struct osn_metrics_event ev = {.verb = "DEL"};
        CHECK(osn_metrics_record(deeper, &ev, 100) == 0, "a missing directory is made");
        snprintf(deeper, sizeof(deeper), "%s/no/such/osn.prom", dir);
        CHECK(osn_metrics_record(deeper, &ev, 100) == -ENOENT, "but not a whole path");
}

int main(void)
{
        REQUIRE(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/osn.prom", dir);
        test_counts();
        test_concurrent();
        test_cost();
        test_contention();
        test_foreign_and_off();
        char cmd[300];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        CHECK(system(cmd) == 0, "cleanup");
        printf("test-metrics: %d checks, %d failures\n", checks, failures);
        return failures ? 1 : 0;
}
