/* follow: copies what is appended to a log file to another descriptor (see
 * follow.h for the contract). */
#include <fcntl.h>
#include <sys/stat.h>

#include "follow.h"

struct osn_follow {
        char *path;
        int out;
        int fd; /* the file followed, -1 while it is missing */
        dev_t dev;
        ino_t ino;
};

/* Opens the file at f->path and notes its identity; at its end when
 * 'at_end'.  Leaves f->fd -1 when there is none. */
static void open_path(struct osn_follow *f, bool at_end)
{
        struct stat st;
        int fd = open(f->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        if (fstat(fd, &st) < 0 || (at_end && lseek(fd, 0, SEEK_END) < 0)) {
                close(fd);
                return;
        }
        f->fd = fd;
        f->dev = st.st_dev;
        f->ino = st.st_ino;
}

struct osn_follow *osn_follow_new(const char *path, int out_fd)
{
        struct osn_follow *f = calloc(1, sizeof(*f));
        if (!f || !(f->path = strdup(path))) {
                free(f);
                return NULL;
        }
        f->out = out_fd;
        f->fd = -1;
        open_path(f, true);
        return f;
}

void osn_follow_free(struct osn_follow *f)
{
        if (!f)
                return;
        if (f->fd >= 0)
                close(f->fd);
        free(f->path);
        free(f);
}

/* Copies f->fd from where it is to its end, or *budget bytes.  The bytes
 * copied; a negative errno when the output failed.  *at_eof tells whether
 * the end was reached. */
static long copy(struct osn_follow *f, long *budget, bool *at_eof)
{
        char buf[65536];
        long total = 0;
        *at_eof = false;
        struct stat st;
        off_t pos = lseek(f->fd, 0, SEEK_CUR);
        /* Truncated in place (copytruncate): start again from its start. */
        if (fstat(f->fd, &st) == 0 && pos > st.st_size)
                lseek(f->fd, 0, SEEK_SET);
        while (*budget > 0) {
                size_t want = (size_t)*budget < sizeof(buf) ? (size_t)*budget : sizeof(buf);
                ssize_t n = read(f->fd, buf, want);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        *at_eof = true;
                        break;
                }
                for (ssize_t off = 0; off < n;) {
                        ssize_t w = write(f->out, buf + off, (size_t)(n - off));
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                return -errno;
                        off += w;
                }
                *budget -= n;
                total += n;
        }
        return total;
}

long osn_follow_poll(struct osn_follow *f)
{
        long budget = OSN_FOLLOW_MAX_BYTES, total = 0;
        bool at_eof = true;
        /* Twice at most: the rest of a rotated file, then its successor. */
        for (int round = 0; round < 2; round++) {
                if (f->fd < 0)
                        open_path(f, false);
                if (f->fd < 0)
                        return total;
                long n = copy(f, &budget, &at_eof);
                if (n < 0)
                        return n;
                total += n;
                if (!at_eof)
                        return total;
                struct stat st;
                if (stat(f->path, &st) == 0 && st.st_dev == f->dev && st.st_ino == f->ino)
                        return total;
                close(f->fd); /* rotated away (or gone): its rest is copied */
                f->fd = -1;
        }
        return total;
}
