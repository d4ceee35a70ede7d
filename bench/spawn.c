/* bench/spawn.c: runs one program and reports its wall time, CPU time and
 * peak RSS, measured around that program only.
 *
 *   spawn RESULT_FILE PROG [ARGS...]
 *
 * stdin, stdout and stderr pass through.  RESULT_FILE gets one line:
 *   wall_ns exit_code utime_us stime_us maxrss_kib start_ns
 * (start_ns: CLOCK_MONOTONIC at the fork, the clock of Python's
 * time.monotonic_ns(), so the caller can place OVSDB events on the job's
 * own timeline)
 * and spawn exits 0 (or 127 if it could not run PROG).
 *
 * Why a launcher: Linux's ru_maxrss of a child is at least the RSS of the
 * process that forked it (exec records the old address space's high-water
 * mark), so a child of the Python worker would report Python's ~15 MB.  This
 * launcher is small (built static when libc.a is there), so the peak it
 * reports is the program's own; bench/run.sh measures the launcher's floor
 * with /bin/true and reports it beside the numbers.  The wall time is taken
 * here too, from just before fork() to wait4() returning, so the launcher's
 * own start is not in it.  wait4() also counts the children the program
 * reaped (bridge's host-local), as a runtime would see them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
        if (argc < 3) {
                fprintf(stderr, "usage: spawn RESULT_FILE PROG [ARGS...]\n");
                return 2;
        }
        FILE *res = fopen(argv[1], "we");
        if (!res) {
                perror(argv[1]);
                return 2;
        }
        long long t0 = now_ns();
        pid_t pid = vfork();
        if (pid < 0) {
                perror("vfork");
                return 127;
        }
        if (pid == 0) {
                execv(argv[2], argv + 2);
                _exit(127);
        }
        int status = 0;
        struct rusage ru;
        for (;;) {
                pid_t r = wait4(pid, &status, 0, &ru);
                if (r == pid)
                        break;
                if (r < 0 && errno != EINTR) {
                        perror("wait4");
                        return 127;
                }
        }
        long long t1 = now_ns();
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        fprintf(res, "%lld %d %lld %lld %ld %lld\n", t1 - t0, code,
                (long long)ru.ru_utime.tv_sec * 1000000LL + ru.ru_utime.tv_usec,
                (long long)ru.ru_stime.tv_sec * 1000000LL + ru.ru_stime.tv_usec, ru.ru_maxrss, t0);
        fclose(res);
        return 0;
}
