/* log: see log.h. */
#include "log.h"

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>

static int log_fd = STDERR_FILENO;
static enum osn_log_level log_level = OSN_LOG_INFO;
static char log_ctx[80];

/* The file sink: its name (rotation renames by name), the lock beside it,
 * and the bound.  log_path[0] == 0 while the sink is stderr. */
static char log_path[PATH_MAX];
static int lock_fd = -1;
static uint64_t max_bytes;
static unsigned max_files;

/* mkdir -p of the directory part of 'path'. */
static int make_parents(const char *path)
{
        char dir[PATH_MAX];
        int n = snprintf(dir, sizeof(dir), "%s", path);
        if (n < 0 || (size_t)n >= sizeof(dir))
                return -ENAMETOOLONG;
        for (char *p = dir + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(dir, 0750) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        return 0;
}

static int open_file(const char *path)
{
        return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int osn_log_open(const char *path, enum osn_log_level level)
{
        log_level = level;
        if (!path || !*path || streq(path, "-"))
                return 0;
        char lock[PATH_MAX];
        int n = snprintf(lock, sizeof(lock), "%s.lock", path);
        if (n < 0 || (size_t)n >= sizeof(lock))
                return -ENAMETOOLONG;
        int fd = open_file(path);
        if (fd < 0 && errno == ENOENT) {
                int r = make_parents(path);
                if (r < 0)
                        return r;
                fd = open_file(path);
        }
        if (fd < 0)
                return -errno;
        osn_log_close();
        log_fd = fd;
        /* Same length as 'lock' minus ".lock": fits. */
        snprintf(log_path, sizeof(log_path), "%s", path);
        /* Without its lock file the sink still works, only never rotates. */
        lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
        return 0;
}

void osn_log_set_rotation(uint64_t bytes, unsigned files)
{
        max_bytes = bytes;
        max_files = files < OSN_LOG_MAX_FILES_LIMIT ? files : OSN_LOG_MAX_FILES_LIMIT;
}

void osn_log_set_level(enum osn_log_level level)
{
        log_level = level;
}

void osn_log_set_context(const char *ctx)
{
        snprintf(log_ctx, sizeof(log_ctx), "%s", ctx ? ctx : "");
}

void osn_log_close(void)
{
        if (log_fd != STDERR_FILENO)
                close(log_fd);
        log_fd = STDERR_FILENO;
        if (lock_fd >= 0)
                close(lock_fd);
        lock_fd = -1;
        log_path[0] = 0;
}

/* FILE.i into 'buf'; FILE itself for i == 0. */
static int rotated_name(char *buf, size_t size, unsigned i)
{
        int n = i ? snprintf(buf, size, "%s.%u", log_path, i) : snprintf(buf, size, "%s", log_path);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Makes log_fd the file that log_path names now (another process may have
 * rotated it away), and returns its size, or -1 (then log_fd is left as it
 * was).  Called with the lock held, shared or exclusive. */
static long long current_size(void)
{
        struct stat mine, named;
        if (fstat(log_fd, &mine) < 0)
                return -1;
        if (stat(log_path, &named) == 0 && named.st_ino == mine.st_ino &&
            named.st_dev == mine.st_dev)
                return mine.st_size;
        int fd = open_file(log_path);
        if (fd < 0 || fstat(fd, &mine) < 0) {
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        close(log_fd);
        log_fd = fd;
        return mine.st_size;
}

/* FILE -> FILE.1 -> ... -> FILE.max_files (the oldest removed), then a new
 * FILE.  Called with the lock held exclusively. */
static void rotate(void)
{
        char from[PATH_MAX], to[PATH_MAX];
        if (max_files == 0) {
                unlink(log_path);
        } else {
                for (unsigned i = max_files; i > 0; i--) {
                        if (rotated_name(from, sizeof(from), i - 1) < 0 ||
                            rotated_name(to, sizeof(to), i) < 0)
                                return;
                        if (rename(from, to) < 0 && errno != ENOENT)
                                return;
                }
        }
        int fd = open_file(log_path);
        if (fd < 0)
                return;
        close(log_fd);
        log_fd = fd;
}

static void write_line(const char *line, size_t n)
{
        ssize_t w;
        if (!log_path[0] || !max_bytes || lock_fd < 0) {
                w = write(log_fd, line, n);
                (void)w;
                return;
        }
        if (flock(lock_fd, LOCK_SH) < 0)
                return;
        long long size = current_size();
        if (size > 0 && (uint64_t)size + n > max_bytes) {
                /* flock() cannot upgrade atomically: another process may
                 * rotate in between, so look again under the exclusive lock. */
                if (flock(lock_fd, LOCK_EX) < 0)
                        goto out;
                size = current_size();
                if (size > 0 && (uint64_t)size + n > max_bytes)
                        rotate();
        }
        if (size >= 0) {
                w = write(log_fd, line, n);
                (void)w;
        }
out:
        flock(lock_fd, LOCK_UN);
}

/* The UTC calendar date and time of 't' (seconds since the epoch), by
 * arithmetic (the days-to-civil conversion of the proleptic Gregorian
 * calendar): glibc's gmtime_r() reads the zone file on its first call, a
 * file read per plugin process for a time that never needs a zone. */
static void utc_time(time_t t, struct tm *tm)
{
        long long days = (long long)(t / 86400), secs = (long long)(t % 86400);
        if (secs < 0)
                secs += 86400, days--;
        days += 719468; /* from 0000-03-01 */
        long long era = (days >= 0 ? days : days - 146096) / 146097;
        long long doe = days - era * 146097;
        long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        long long mp = (5 * doy + 2) / 153;
        long long mon = mp < 10 ? mp + 3 : mp - 9;
        *tm = (struct tm){.tm_year = (int)(yoe + era * 400 + (mon <= 2) - 1900),
                          .tm_mon = (int)(mon - 1),
                          .tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1),
                          .tm_hour = (int)(secs / 3600),
                          .tm_min = (int)(secs / 60 % 60),
                          .tm_sec = (int)(secs % 60)};
}

void osn_log(enum osn_log_level level, const char *fmt, ...)
{
        static const char *const names[] = {"ERR", "WARN", "INFO", "DBG"};
        if (level > log_level)
                return;
        int saved = errno;
        char line[2048];
        struct timeval tv;
        struct tm tm;
        gettimeofday(&tv, NULL);
        utc_time(tv.tv_sec, &tm);
        int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %d %s %s%s",
                         tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                         tm.tm_sec, (long)tv.tv_usec / 1000, (int)getpid(), names[level], log_ctx,
                         log_ctx[0] ? ": " : "");
        va_list ap;
        va_start(ap, fmt);
        if (n >= 0 && (size_t)n < sizeof(line))
                n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
        va_end(ap);
        if (n < 0)
                n = 0;
        /* A longer line is cut (it still ends in a newline): one write per
         * line is what keeps concurrent invocations' lines whole. */
        if ((size_t)n >= sizeof(line) - 1)
                n = sizeof(line) - 2;
        line[n++] = '\n';
        write_line(line, (size_t)n);
        errno = saved;
}
