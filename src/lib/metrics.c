/* metrics: see metrics.h. */
#include "metrics.h"

#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

const double osn_metrics_buckets[] = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
const size_t osn_metrics_n_buckets = ARRAY_SIZE(osn_metrics_buckets);
#define N_BUCKETS ARRAY_SIZE(osn_metrics_buckets)

static const char *const verbs[] = {"ADD", "DEL", "CHECK", "GC", "STATUS", "VERSION"};
#define N_VERBS   ARRAY_SIZE(verbs)
#define MAX_CODES 64 /* distinct (verb, code) pairs kept; CNI has far fewer */

/* What the file holds, as numbers. */
struct state {
        struct {
                size_t verb;
                int code;
                double n;
        } req[MAX_CODES];
        size_t n_req;
        double bucket[N_VERBS][N_BUCKETS + 1]; /* cumulative, the last is +Inf */
        double sum[N_VERBS], count[N_VERBS];
        double claims, misses, warm, skipped;
};

bool osn_metrics_off(const char *path)
{
        return !path || !*path || streq(path, "-");
}

static int verb_index(const char *v, size_t *ret)
{
        for (size_t i = 0; v && i < N_VERBS; i++)
                if (streq(verbs[i], v)) {
                        *ret = i;
                        return 0;
                }
        return -EINVAL;
}

static double *req_slot(struct state *st, size_t verb, int code)
{
        for (size_t i = 0; i < st->n_req; i++)
                if (st->req[i].verb == verb && st->req[i].code == code)
                        return &st->req[i].n;
        if (st->n_req == MAX_CODES)
                return NULL;
        st->req[st->n_req].verb = verb;
        st->req[st->n_req].code = code;
        st->req[st->n_req].n = 0;
        return &st->req[st->n_req++].n;
}

/* The value of label 'key' in "{k="v",...}" at 'labels' into 'buf'. */
static bool label(const char *labels, const char *key, char *buf, size_t len)
{
        size_t klen = strlen(key);
        for (const char *p = labels; p && *p && *p != '}';) {
                p += *p == '{' || *p == ',';
                const char *eq = strchr(p, '=');
                if (!eq || eq[1] != '"')
                        return false;
                const char *end = strchr(eq + 2, '"');
                if (!end)
                        return false;
                if ((size_t)(eq - p) == klen && strncmp(p, key, klen) == 0) {
                        size_t n = (size_t)(end - eq - 2);
                        if (n >= len)
                                return false;
                        memcpy(buf, eq + 2, n);
                        buf[n] = 0;
                        return true;
                }
                p = end + 1;
        }
        return false;
}

/* One sample line the way write_state() writes it; others are ignored. */
static void parse_line(struct state *st, char *line)
{
        char *sp = strrchr(line, ' ');
        if (line[0] == '#' || !sp)
                return;
        *sp = 0;
        char *end = NULL;
        double v = strtod(sp + 1, &end);
        if (!end || end == sp + 1 || !isfinite(v) || v < 0)
                return;
        char *brace = strchr(line, '{');
        size_t nlen = brace ? (size_t)(brace - line) : strlen(line);
        char verb_s[16], code_s[16], le_s[32];
        size_t verb = 0;
        bool has_verb =
            brace && label(brace, "verb", verb_s, sizeof(verb_s)) && verb_index(verb_s, &verb) == 0;
#define IS(name) (nlen == strlen(name) && strncmp(line, name, nlen) == 0)
        if (IS("osn_cni_requests_total") && has_verb &&
            label(brace, "code", code_s, sizeof(code_s))) {
                double *slot = req_slot(st, verb, atoi(code_s));
                if (slot)
                        *slot = v;
        } else if (IS("osn_cni_request_duration_seconds_bucket") && has_verb &&
                   label(brace, "le", le_s, sizeof(le_s))) {
                if (streq(le_s, "+Inf"))
                        st->bucket[verb][N_BUCKETS] = v;
                for (size_t i = 0; i < N_BUCKETS; i++) {
                        char b[32];
                        snprintf(b, sizeof(b), "%g", osn_metrics_buckets[i]);
                        if (streq(le_s, b))
                                st->bucket[verb][i] = v;
                }
        } else if (IS("osn_cni_request_duration_seconds_sum") && has_verb) {
                st->sum[verb] = v;
        } else if (IS("osn_cni_request_duration_seconds_count") && has_verb) {
                st->count[verb] = v;
        } else if (IS("osn_pool_claims_total")) {
                st->claims = v;
        } else if (IS("osn_pool_misses_total")) {
                st->misses = v;
        } else if (IS("osn_warm_claims_total")) {
                st->warm = v;
        } else if (IS("osn_metrics_skipped_total")) {
                st->skipped = v;
        }
#undef IS
}

static void read_state(const char *path, struct state *st)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return;
        char line[512];
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = 0;
                parse_line(st, line);
        }
        fclose(f);
}

static void add_event(struct state *st, size_t verb, const struct osn_metrics_event *ev)
{
        double *slot = req_slot(st, verb, ev->code);
        if (slot)
                *slot += 1;
        for (size_t i = 0; i < N_BUCKETS; i++)
                st->bucket[verb][i] += ev->seconds <= osn_metrics_buckets[i];
        st->bucket[verb][N_BUCKETS] += 1;
        st->sum[verb] += ev->seconds;
        st->count[verb] += 1;
        st->claims += ev->pool == OSN_METRICS_POOL_CLAIMED || ev->pool == OSN_METRICS_POOL_WARM;
        st->misses += ev->pool == OSN_METRICS_POOL_MISSED;
        st->warm += ev->pool == OSN_METRICS_POOL_WARM;
}

static int write_state(FILE *f, const struct state *st)
{
        fprintf(f, "# HELP osn_cni_requests_total CNI requests the osn plugin answered on this "
                   "node, by verb and result code (0 = success).\n"
                   "# TYPE osn_cni_requests_total counter\n");
        for (size_t v = 0; v < N_VERBS; v++)
                for (size_t i = 0; i < st->n_req; i++)
                        if (st->req[i].verb == v)
                                fprintf(f, "osn_cni_requests_total{verb=\"%s\",code=\"%d\"} %.0f\n",
                                        verbs[v], st->req[i].code, st->req[i].n);
        fprintf(f, "# HELP osn_cni_request_duration_seconds How long the osn plugin took to "
                   "answer, by verb.\n"
                   "# TYPE osn_cni_request_duration_seconds histogram\n");
        for (size_t v = 0; v < N_VERBS; v++) {
                if (st->count[v] == 0)
                        continue;
                for (size_t i = 0; i < N_BUCKETS; i++)
                        fprintf(f,
                                "osn_cni_request_duration_seconds_bucket{verb=\"%s\",le=\"%g\"} "
                                "%.0f\n",
                                verbs[v], osn_metrics_buckets[i], st->bucket[v][i]);
                fprintf(f,
                        "osn_cni_request_duration_seconds_bucket{verb=\"%s\",le=\"+Inf\"} %.0f\n"
                        "osn_cni_request_duration_seconds_sum{verb=\"%s\"} %.6f\n"
                        "osn_cni_request_duration_seconds_count{verb=\"%s\"} %.0f\n",
                        verbs[v], st->bucket[v][N_BUCKETS], verbs[v], st->sum[v], verbs[v],
                        st->count[v]);
        }
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        fprintf(f,
                "# HELP osn_pool_claims_total ADDs that bound a spare port of the network's "
                "pool.\n"
                "# TYPE osn_pool_claims_total counter\n"
                "osn_pool_claims_total %.0f\n"
                "# HELP osn_pool_misses_total ADDs a pool could have served that found no "
                "spare (they made their port).\n"
                "# TYPE osn_pool_misses_total counter\n"
                "osn_pool_misses_total %.0f\n"
                "# HELP osn_warm_claims_total ADDs that bound a warm port (a spare this node "
                "kept plugged; counted in osn_pool_claims_total too).\n"
                "# TYPE osn_warm_claims_total counter\n"
                "osn_warm_claims_total %.0f\n"
                "# HELP osn_metrics_skipped_total Requests not counted here because the "
                "file's lock was busy.\n"
                "# TYPE osn_metrics_skipped_total counter\n"
                "osn_metrics_skipped_total %.0f\n"
                "# HELP osn_metrics_updated_timestamp_seconds When a request last updated "
                "this file.\n"
                "# TYPE osn_metrics_updated_timestamp_seconds gauge\n"
                "osn_metrics_updated_timestamp_seconds %.3f\n",
                st->claims, st->misses, st->warm, st->skipped,
                (double)now.tv_sec + (double)now.tv_nsec / 1e9);
        return ferror(f) ? -EIO : 0;
}

/* "PATH" + 'suffix' into 'buf'; -ENAMETOOLONG when it does not fit. */
static int with_suffix(const char *path, const char *suffix, char *buf, size_t len)
{
        int w = snprintf(buf, len, "%s%s", path, suffix);
        return w > 0 && (size_t)w < len ? 0 : -ENAMETOOLONG;
}

/* flock() with a bounded wait: tries every millisecond. */
static int lock_bounded(int fd, int wait_ms)
{
        int64_t deadline = osn_now_ms() + wait_ms;
        for (;;) {
                if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                        return 0;
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return -errno;
                if (osn_now_ms() >= deadline)
                        return -EAGAIN;
                (void)poll(NULL, 0, 1);
        }
}

/* The skips noted since the last update (PATH.skipped, one byte each),
 * taken out of the way under the lock. */
static double take_skipped(const char *skipped)
{
        char moved[PATH_MAX];
        struct stat sb;
        if (with_suffix(skipped, ".taken", moved, sizeof(moved)) < 0 || rename(skipped, moved) < 0)
                return 0;
        double n = stat(moved, &sb) == 0 ? (double)sb.st_size : 0;
        unlink(moved);
        return n;
}

static void note_skip(const char *skipped)
{
        int fd = open(skipped, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd >= 0) {
                (void)!write(fd, "s", 1);
                close(fd);
        }
}

/* The directory of 'path', when missing, if its parent exists. */
static void make_dir(const char *path)
{
        char dir[PATH_MAX];
        const char *slash = strrchr(path, '/');
        if (!slash || slash == path || (size_t)(slash - path) >= sizeof(dir))
                return;
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = 0;
        (void)mkdir(dir, 0755);
}

int osn_metrics_lock(const char *path, int lock_wait_ms, int *ret_fd)
{
        if (osn_metrics_off(path))
                return -EINVAL;
        char lockp[PATH_MAX], skipped[PATH_MAX];
        int r;
        if ((r = with_suffix(path, ".lock", lockp, sizeof(lockp))) < 0 ||
            (r = with_suffix(path, ".skipped", skipped, sizeof(skipped))) < 0)
                return r;
        make_dir(path);
        _cleanup_close_ int lfd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (lfd < 0)
                return -errno;
        if ((r = lock_bounded(lfd, lock_wait_ms)) < 0) {
                if (r == -EAGAIN)
                        note_skip(skipped);
                return r;
        }
        *ret_fd = TAKE_FD(lfd);
        return 0;
}

int osn_metrics_record(const char *path, const struct osn_metrics_event *ev, int lock_wait_ms)
{
        int lfd = -1;
        int r = osn_metrics_lock(path, lock_wait_ms, &lfd);
        return r < 0 ? r : osn_metrics_record_locked(path, lfd, ev);
}

int osn_metrics_record_locked(const char *path, int lock_fd, const struct osn_metrics_event *ev)
{
        _cleanup_close_ int lfd = lock_fd;
        size_t verb = 0;
        if (osn_metrics_off(path) || verb_index(ev->verb, &verb) < 0)
                return -EINVAL;
        char tmp[PATH_MAX], skipped[PATH_MAX], sfx[32];
        snprintf(sfx, sizeof(sfx), ".tmp.%ld", (long)getpid());
        int r;
        if ((r = with_suffix(path, sfx, tmp, sizeof(tmp))) < 0 ||
            (r = with_suffix(path, ".skipped", skipped, sizeof(skipped))) < 0)
                return r;
        struct state *st = calloc(1, sizeof(*st));
        if (!st)
                return -ENOMEM;
        read_state(path, st);
        st->skipped += take_skipped(skipped);
        add_event(st, verb, ev);
        FILE *f = fopen(tmp, "we");
        if (!f) {
                r = -errno;
                free(st);
                return r;
        }
        r = write_state(f, st);
        free(st);
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                unlink(tmp);
        return r; /* the lock goes with lfd */
}
