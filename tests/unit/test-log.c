/* test-log: log.c's file sink and its rotation.
 *
 * 8 processes log 3000 numbered lines each into one file with a small bound,
 * so that the file rotates about a hundred times while they all write.
 * Then every kept file is read back: every line must be whole (the exact
 * text its writer formatted), every (process, number) must be there exactly
 * once (no line lost, none doubled), each process's lines must appear in
 * the order it wrote them from the oldest file to the newest, and no
 * rotated file may exceed the bound by more than one line per other
 * writer.  Also: missing parent directories are created, the bound of
 * rotated files kept is honoured (older ones removed), and no bound means
 * no rotation.  Needs no root. */
#include "log.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "testlib.h"

#define WRITERS   8
#define LINES     3000
#define MAX_BYTES 65536u
#define KEEP      100u
/* Each line is "<timestamp> <pid> INFO w<W>: line <I> <padding>", about
 * 110 bytes: 8 * 3000 of them are ~2.6 MB, ~40 rotations of 64 KiB. */
#define PADDING "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz"

static char dir[] = "/tmp/osn-test-log.XXXXXX";

static void writer(const char *path, int w)
{
        osn_log_set_rotation(MAX_BYTES, KEEP);
        if (osn_log_open(path, OSN_LOG_INFO) < 0)
                _exit(2);
        char ctx[16];
        snprintf(ctx, sizeof(ctx), "w%d", w);
        osn_log_set_context(ctx);
        for (int i = 0; i < LINES; i++)
                log_info("line %d %s", i, PADDING);
        osn_log_close();
        _exit(0);
}

static int last[WRITERS];
static int seen[WRITERS][LINES];

/* Checks one kept file; returns its size. */
static long check_file(const char *name, bool rotated, int *torn)
{
        FILE *f = fopen(name, "r");
        if (!f)
                return -1;
        char line[4096];
        while (fgets(line, sizeof(line), f)) {
                int w = -1, i = -1, n = 0;
                char pad[128] = "";
                /* "YYYY-MM-DDTHH:MM:SS.mmmZ PID INFO wW: line I PADDING\n" */
                if (sscanf(line,
                           "%*4d-%*2d-%*2dT%*2d:%*2d:%*2d.%*3dZ %*d INFO w%d: line %d %127s%n", &w,
                           &i, pad, &n) != 3 ||
                    line[n] != '\n' || line[n + 1] || w < 0 || w >= WRITERS || i < 0 ||
                    i >= LINES || !streq(pad, PADDING)) {
                        if ((*torn)++ < 5)
                                fprintf(stderr, "%s: torn or foreign line: %s", name, line);
                        continue;
                }
                seen[w][i]++;
                CHECK(i > last[w], "%s: writer %d wrote line %d after line %d", name, w, i,
                      last[w]);
                last[w] = i;
        }
        long size = ftell(f);
        fclose(f);
        if (rotated)
                CHECK(size <= (long)MAX_BYTES + (WRITERS - 1) * 200, "%s: %ld bytes, bound %u",
                      name, size, MAX_BYTES);
        return size;
}

static void test_concurrent_rotation(void)
{
        char path[256];
        snprintf(path, sizeof(path), "%s/new/dirs/cni.log", dir);
        pid_t pids[WRITERS];
        for (int w = 0; w < WRITERS; w++) {
                pids[w] = fork();
                REQUIRE(pids[w] >= 0);
                if (pids[w] == 0)
                        writer(path, w);
        }
        for (int w = 0; w < WRITERS; w++) {
                int status;
                REQUIRE(waitpid(pids[w], &status, 0) == pids[w]);
                CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer %d: status %d", w,
                      status);
        }

        /* Oldest first: FILE.N ... FILE.1, FILE. */
        for (int w = 0; w < WRITERS; w++)
                last[w] = -1;
        int torn = 0, files = 0;
        unsigned n;
        for (n = KEEP; n > 0; n--) {
                char name[300];
                snprintf(name, sizeof(name), "%s.%u", path, n);
                if (check_file(name, true, &torn) >= 0)
                        files++;
        }
        CHECK(check_file(path, false, &torn) >= 0, "%s exists", path);
        CHECK(torn == 0, "%d torn lines", torn);
        CHECK(files >= 30, "%d rotated files for ~2.6 MB at %u bytes each", files, MAX_BYTES);
        int lost = 0, doubled = 0;
        for (int w = 0; w < WRITERS; w++)
                for (int i = 0; i < LINES; i++) {
                        lost += seen[w][i] == 0;
                        doubled += seen[w][i] > 1;
                }
        CHECK(lost == 0, "%d lines lost", lost);
        CHECK(doubled == 0, "%d lines doubled", doubled);
        printf("concurrent rotation: %d writers x %d lines, %d rotated files, %d torn, %d lost\n",
               WRITERS, LINES, files, torn, lost);
}

static bool exists(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0;
}

/* 3 files kept: after many rotations FILE, FILE.1..3 exist and FILE.4 does
 * not; without a bound the file just grows. */
static void test_keep_and_unbounded(void)
{
        char path[256], name[300];
        snprintf(path, sizeof(path), "%s/keep.log", dir);
        osn_log_set_rotation(4096, 3);
        REQUIRE(osn_log_open(path, OSN_LOG_INFO) == 0);
        for (int i = 0; i < 1000; i++)
                log_info("keep %d %s", i, PADDING);
        for (unsigned i = 1; i <= 4; i++) {
                snprintf(name, sizeof(name), "%s.%u", path, i);
                CHECK(exists(name) == (i <= 3), "%s %s", name, i <= 3 ? "kept" : "removed");
        }
        osn_log_close();

        snprintf(path, sizeof(path), "%s/unbounded.log", dir);
        osn_log_set_rotation(0, 3);
        REQUIRE(osn_log_open(path, OSN_LOG_INFO) == 0);
        for (int i = 0; i < 1000; i++)
                log_info("unbounded %d %s", i, PADDING);
        osn_log_close();
        snprintf(name, sizeof(name), "%s.1", path);
        struct stat st;
        CHECK(stat(path, &st) == 0 && st.st_size > 100000, "unbounded file holds every line");
        CHECK(!exists(name), "no bound: never rotated");
}

static void rm_rf(const char *path)
{
        DIR *d = opendir(path);
        if (!d) {
                unlink(path);
                return;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
                if (streq(e->d_name, ".") || streq(e->d_name, ".."))
                        continue;
                char sub[512];
                snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
                rm_rf(sub);
        }
        closedir(d);
        rmdir(path);
}

int main(void)
{
        REQUIRE(mkdtemp(dir));
        test_concurrent_rotation();
        test_keep_and_unbounded();
        rm_rf(dir);
        printf("test-log: %d checks, %d failures\n", checks, failures);
        return failures ? 1 : 0;
}
