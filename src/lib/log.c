/* log: see log.h. */
#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>

static int log_fd = STDERR_FILENO;
static enum osn_log_level log_level = OSN_LOG_INFO;
static char log_ctx[80];

int osn_log_open(const char *path, enum osn_log_level level)
{
        log_level = level;
        if (!path || !*path || streq(path, "-"))
                return 0;
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (fd < 0)
                return -errno;
        osn_log_close();
        log_fd = fd;
        return 0;
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
        gmtime_r(&tv.tv_sec, &tm);
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
        if ((size_t)n >= sizeof(line) - 1)
                n = sizeof(line) - 2;
        line[n++] = '\n';
        /* One write per line: O_APPEND keeps concurrent invocations' lines whole. */
        ssize_t w = write(log_fd, line, n);
        (void)w;
        errno = saved;
}
