/* place: files put into a directory by osn-install, and only those (see
 * place.h for the contract). */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "place.h"

struct osn_place {
        char *dir;
        /* name -> {"id": ID, "pending": ID, "saved": NAME}, each optional. */
        json_t *files;
        /* Directories this record's first write had to create, deepest first. */
        json_t *made_dirs;
};

/* "symlink:" + a target of up to PATH_MAX, or "file:MODE:SIZE:HASH". */
#define ID_MAX (4096 + 16)

static int join(char *buf, size_t size, const char *dir, const char *name, struct osn_error *err)
{
        int n = snprintf(buf, size, "%s/%s", dir, name);
        if (n < 0 || (size_t)n >= size)
                return osn_error_set(err, -ENAMETOOLONG, OSN_CNI_INVALID_ENV,
                                     "path too long: %s/%s", dir, name);
        return 0;
}

char *osn_place_read(const char *path, size_t *ret_len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        size_t len = 0, cap = 1 << 16;
        char *buf = malloc(cap);
        while (buf) {
                if (len == cap) {
                        char *b = realloc(buf, cap *= 2);
                        if (!b)
                                break;
                        buf = b;
                }
                ssize_t n = read(fd, buf + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                if (n == 0) {
                        *ret_len = len;
                        return buf;
                }
                len += (size_t)n;
        }
        int saved = errno;
        free(buf);
        errno = saved;
        return NULL;
}

static int fsync_dir(const char *dir, struct osn_error *err)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
                return osn_error_set(err, errno, OSN_CNI_IO_FAILURE, "fsync %s: %s", dir,
                                     strerror(errno));
        return 0;
}

/* mkdir -p 'dir' (mode 0755); every directory it made goes to the front
 * of 'made', so that the list is deepest first. */
static int make_dirs(const char *dir, json_t *made, struct osn_error *err)
{
        char buf[4096];
        int n = snprintf(buf, sizeof(buf), "%s/", dir);
        if (n < 0 || (size_t)n >= sizeof(buf))
                return osn_error_set(err, -ENAMETOOLONG, OSN_CNI_INVALID_ENV, "path too long: %s",
                                     dir);
        for (char *p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(buf, 0755) == 0)
                        json_array_insert_new(made, 0, json_string(buf));
                else if (errno != EEXIST)
                        return osn_error_set(err, errno, OSN_CNI_IO_FAILURE, "mkdir %s: %s", buf,
                                             strerror(errno));
                *p = '/';
        }
        return 0;
}

/* FNV-1a 64 of a byte buffer: an identity, not a defence against anyone
 * who can write the directory (they could do anything there anyway). */
static uint64_t hash_bytes(const char *data, size_t len)
{
        uint64_t h = 0xcbf29ce484222325ull;
        for (size_t i = 0; i < len; i++)
                h = (h ^ (unsigned char)data[i]) * 0x100000001b3ull;
        return h;
}

static int file_id(char *buf, size_t size, mode_t mode, const char *data, size_t len)
{
        int n = snprintf(buf, size, "file:%04o:%zu:%016llx", (unsigned)(mode & 07777), len,
                         (unsigned long long)hash_bytes(data, len));
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int item_id(const struct osn_place_item *item, char *buf, size_t size)
{
        if (item->link_target) {
                int n = snprintf(buf, size, "symlink:%s", item->link_target);
                return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
        }
        return file_id(buf, size, item->mode, item->data, item->len);
}

/* The identity of what is at 'path' now: 0, -ENOENT when nothing is, or
 * another negative errno with 'err' set. */
static int disk_id(const char *path, char *buf, size_t size, struct osn_error *err)
{
        struct stat st;
        if (lstat(path, &st) < 0) {
                if (errno == ENOENT)
                        return -ENOENT;
                return osn_error_set(err, errno, OSN_CNI_IO_FAILURE, "stat %s: %s", path,
                                     strerror(errno));
        }
        if (S_ISLNK(st.st_mode)) {
                char target[4096];
                ssize_t n = readlink(path, target, sizeof(target) - 1);
                if (n < 0)
                        return osn_error_set(err, errno, OSN_CNI_IO_FAILURE, "readlink %s: %s",
                                             path, strerror(errno));
                target[n] = 0;
                snprintf(buf, size, "symlink:%s", target); /* ID_MAX holds it */
                return 0;
        }
        if (!S_ISREG(st.st_mode)) {
                snprintf(buf, size, "other:%o", (unsigned)(st.st_mode & S_IFMT));
                return 0;
        }
        size_t len;
        _cleanup_free_ char *data = osn_place_read(path, &len);
        if (!data)
                return osn_error_set(err, errno, OSN_CNI_IO_FAILURE, "read %s: %s", path,
                                     strerror(errno));
        if (file_id(buf, size, st.st_mode, data, len) < 0)
                return osn_error_set(err, -ENAMETOOLONG, OSN_CNI_IO_FAILURE, "id of %s", path);
        return 0;
}

static const char *rec_str(const json_t *rec, const char *key)
{
        return json_string_value(json_object_get(rec, key));
}

/* Whether 'cur' (a disk id) is what osn placed, per record 'rec'. */
static bool is_osn(const json_t *rec, const char *cur)
{
        return rec && (streq(rec_str(rec, "id"), cur) || streq(rec_str(rec, "pending"), cur));
}

/* Puts 'data' at dir/name atomically with 'mode'.  1 when written, 0 when
 * the file already held exactly that (and that mode). */
static int write_atomic(const char *dir, const char *name, const char *data, size_t len,
                        mode_t mode, struct osn_error *err)
{
        char path[4096], tmp[4096];
        int r = join(path, sizeof(path), dir, name, err);
        if (r < 0)
                return r;
        int n = snprintf(tmp, sizeof(tmp), "%s/.%s.osn-install.%d", dir, name, (int)getpid());
        if (n < 0 || (size_t)n >= sizeof(tmp))
                return osn_error_set(err, -ENAMETOOLONG, OSN_CNI_INVALID_ENV,
                                     "path too long: %s/.%s", dir, name);

        size_t old_len;
        _cleanup_free_ char *old = osn_place_read(path, &old_len);
        struct stat st;
        if (old && old_len == len && memcmp(old, data, len) == 0 && lstat(path, &st) == 0 &&
            S_ISREG(st.st_mode) && (st.st_mode & 07777) == mode)
                return 0;

        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return osn_error_set(err, errno, OSN_CNI_IO_FAILURE, "create %s: %s", tmp,
                                     strerror(errno));
        for (size_t off = 0; off < len;) {
                ssize_t w = write(fd, data + off, len - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0) {
                        r = osn_error_set(err, errno, OSN_CNI_IO_FAILURE, "write %s: %s", tmp,
                                          strerror(errno));
                        unlink(tmp);
                        return r;
                }
                off += (size_t)w;
        }
        /* fchmod: the umask must not decide what kubelet may exec. */
        if (fchmod(fd, mode) < 0 || fsync(fd) < 0 || rename(tmp, path) < 0) {
                r = osn_error_set(err, errno, OSN_CNI_IO_FAILURE, "install %s: %s", path,
                                  strerror(errno));
                unlink(tmp);
                return r;
        }
        r = fsync_dir(dir, err);
        return r < 0 ? r : 1;
}

/* dir/name -> 'target', replaced atomically (a symlink beside, renamed). */
static int symlink_atomic(const char *dir, const char *name, const char *target,
                          struct osn_error *err)
{
        char path[4096], tmp[4096], cur[4096];
        int r = join(path, sizeof(path), dir, name, err);
        if (r < 0)
                return r;
        ssize_t n = readlink(path, cur, sizeof(cur) - 1);
        if (n >= 0) {
                cur[n] = 0;
                if (streq(cur, target))
                        return 0;
        }
        int m = snprintf(tmp, sizeof(tmp), "%s/.%s.osn-install.%d", dir, name, (int)getpid());
        if (m < 0 || (size_t)m >= sizeof(tmp))
                return osn_error_set(err, -ENAMETOOLONG, OSN_CNI_INVALID_ENV,
                                     "path too long: %s/.%s", dir, name);
        unlink(tmp);
        if (symlink(target, tmp) < 0 || rename(tmp, path) < 0) {
                r = osn_error_set(err, errno, OSN_CNI_IO_FAILURE, "symlink %s -> %s: %s", path,
                                  target, strerror(errno));
                unlink(tmp);
                return r;
        }
        r = fsync_dir(dir, err);
        return r < 0 ? r : 1;
}

static int save_record(struct osn_place *p, struct osn_error *err)
{
        _cleanup_json_ json_t *doc =
            json_pack("{s:s, s:O, s:O}", "written_by", "osn-install (docs/install.md)", "files",
                      p->files, "made_dirs", p->made_dirs);
        _cleanup_free_ char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
        if (!text)
                return osn_error_set(err, -ENOMEM, OSN_CNI_TRY_AGAIN_LATER, "out of memory");
        size_t len = strlen(text);
        text[len] = '\n'; /* json_dumps leaves room for its NUL */
        int r = write_atomic(p->dir, OSN_PLACE_RECORD, text, len + 1, 0644, err);
        text[len] = 0;
        return r < 0 ? r : 0;
}

int osn_place_open(const char *dir, struct osn_place **ret, struct osn_error *err)
{
        struct osn_place *p = calloc(1, sizeof(*p));
        if (!p || !(p->dir = strdup(dir))) {
                free(p);
                return osn_error_set(err, -ENOMEM, OSN_CNI_TRY_AGAIN_LATER, "out of memory");
        }
        _cleanup_place_ struct osn_place *owned = p;
        char path[4096];
        int r = join(path, sizeof(path), dir, OSN_PLACE_RECORD, err);
        if (r < 0)
                return r;
        size_t len;
        _cleanup_free_ char *text = osn_place_read(path, &len);
        if (!text && errno != ENOENT && errno != ENOTDIR)
                return osn_error_set(err, errno, OSN_CNI_IO_FAILURE, "read %s: %s", path,
                                     strerror(errno));
        if (text) {
                json_error_t jerr;
                _cleanup_json_ json_t *doc = json_loadb(text, len, 0, &jerr);
                p->files = json_incref(json_object_get(doc, "files"));
                p->made_dirs = json_incref(json_object_get(doc, "made_dirs"));
                if (!json_is_object(p->files) || !json_is_array(p->made_dirs))
                        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                             "%s is not osn-install's record (%s): restore it, "
                                             "or remove it to treat every file there as "
                                             "someone else's",
                                             path, doc ? "no files/made_dirs" : jerr.text);
        } else {
                p->files = json_object();
                p->made_dirs = json_array();
        }
        *ret = TAKE_PTR(owned);
        return 0;
}

void osn_place_free(struct osn_place *p)
{
        if (!p)
                return;
        json_decref(p->files);
        json_decref(p->made_dirs);
        free(p->dir);
        free(p);
}

const char *osn_place_dir(const struct osn_place *p)
{
        return p->dir;
}

json_t *osn_place_recorded(const struct osn_place *p)
{
        json_t *names = json_array();
        const char *name;
        json_t *rec;
        json_object_foreach(p->files, name, rec)
        {
                json_array_append_new(names, json_string(name));
        }
        return names;
}

int osn_place_check(struct osn_place *p, const struct osn_place_item *item, bool force,
                    struct osn_error *err)
{
        char path[4096], cur[ID_MAX];
        int r = join(path, sizeof(path), p->dir, item->name, err);
        if (r < 0)
                return r;
        r = disk_id(path, cur, sizeof(cur), err);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        const json_t *rec = json_object_get(p->files, item->name);
        if (is_osn(rec, cur) || force)
                return 0;
        return osn_error_set(err, -EEXIST, OSN_CNI_INVALID_CONFIG,
                             "refusing to replace %s: osn-install did not install it%s; move it "
                             "away, or run osn-install --force to replace it (the original is "
                             "then kept as %s/.%s.osn-saved and put back by osn-install "
                             "--uninstall)",
                             path, rec ? " (or it changed since)" : "", p->dir, item->name);
}

int osn_place_put(struct osn_place *p, const struct osn_place_item *item, bool force,
                  bool *ret_saved, struct osn_error *err)
{
        char path[4096], saved_path[4096], saved[512], cur[ID_MAX], want[ID_MAX];
        *ret_saved = false;
        int r = osn_place_check(p, item, force, err);
        if (r < 0)
                return r;
        if ((r = join(path, sizeof(path), p->dir, item->name, err)) < 0)
                return r;
        int n = snprintf(saved, sizeof(saved), ".%s.osn-saved", item->name);
        if (n < 0 || (size_t)n >= sizeof(saved) ||
            (r = join(saved_path, sizeof(saved_path), p->dir, saved, err)) < 0)
                return osn_error_set(err, -ENAMETOOLONG, OSN_CNI_INVALID_ENV, "name too long: %s",
                                     item->name);
        if (item_id(item, want, sizeof(want)) < 0)
                return osn_error_set(err, -ENAMETOOLONG, OSN_CNI_INVALID_ENV,
                                     "symlink target too long: %s", item->link_target);
        r = disk_id(path, cur, sizeof(cur), err);
        if (r < 0 && r != -ENOENT)
                return r;
        bool present = r == 0;
        json_t *rec = json_object_get(p->files, item->name);
        bool ours = !present || is_osn(rec, cur);
        const char *kept = ours ? rec_str(rec, "saved") : NULL;

        if (ours && present && streq(cur, want)) {
                if (streq(rec_str(rec, "id"), want) && !json_object_get(rec, "pending"))
                        return 0;
                json_object_set_new(p->files, item->name,
                                    json_pack("{s:s, s:s*}", "id", want, "saved", kept));
                return save_record(p, err);
        }
        if (!ours) {
                /* An original kept by an earlier --force is the pre-install
                 * state; a file that took its place since is not. */
                const char *earlier = rec_str(rec, "saved");
                if (earlier && access(saved_path, F_OK) == 0) {
                        kept = earlier;
                } else {
                        if ((unlink(saved_path) < 0 && errno != ENOENT) ||
                            link(path, saved_path) < 0)
                                return osn_error_set(err, errno, OSN_CNI_IO_FAILURE,
                                                     "keep %s as %s: %s", path, saved_path,
                                                     strerror(errno));
                        if ((r = fsync_dir(p->dir, err)) < 0)
                                return r;
                        kept = saved;
                }
                *ret_saved = true;
        }
        if (!json_object_size(p->files) && !json_array_size(p->made_dirs) &&
            (r = make_dirs(p->dir, p->made_dirs, err)) < 0)
                return r;
        /* 'kept' may point into the record entry that is replaced below. */
        _cleanup_free_ char *kept_own = kept ? strdup(kept) : NULL;
        if (kept && !kept_own)
                return -ENOMEM;
        kept = kept_own;
        /* The new identity as pending before the file changes, so that a
         * crash in between leaves a file the next run knows as osn's. */
        json_object_set_new(p->files, item->name,
                            json_pack("{s:s*, s:s, s:s*}", "id", ours && present ? cur : NULL,
                                      "pending", want, "saved", kept));
        if ((r = save_record(p, err)) < 0)
                return r;
        r = item->link_target
                ? symlink_atomic(p->dir, item->name, item->link_target, err)
                : write_atomic(p->dir, item->name, item->data, item->len, item->mode, err);
        if (r < 0)
                return r;
        json_object_set_new(p->files, item->name,
                            json_pack("{s:s, s:s*}", "id", want, "saved", kept));
        int s = save_record(p, err);
        return s < 0 ? s : 1;
}

int osn_place_remove(struct osn_place *p, const char *name, struct osn_error *err)
{
        json_t *rec = json_object_get(p->files, name);
        if (!rec)
                return 0;
        char path[4096], saved_path[4096] = "", cur[ID_MAX];
        int r = join(path, sizeof(path), p->dir, name, err);
        if (r < 0)
                return r;
        const char *saved = rec_str(rec, "saved");
        if (saved && (r = join(saved_path, sizeof(saved_path), p->dir, saved, err)) < 0)
                return r;
        r = disk_id(path, cur, sizeof(cur), err);
        if (r < 0 && r != -ENOENT)
                return r;
        bool present = r == 0;
        struct osn_error warn = {0};
        int changed = 1;
        if (present && !is_osn(rec, cur)) {
                osn_error_set(&warn, -EEXIST, OSN_CNI_CONFLICT,
                              "left alone: %s changed since osn-install installed it%s%s", path,
                              saved ? "; the original it replaced is still kept as " : "",
                              saved ? saved_path : "");
                changed = 0;
        } else if (saved && access(saved_path, F_OK) == 0) {
                if (rename(saved_path, path) < 0)
                        return osn_error_set(err, errno, OSN_CNI_IO_FAILURE,
                                             "put back %s from %s: %s", path, saved_path,
                                             strerror(errno));
        } else if (present && unlink(path) < 0) {
                return osn_error_set(err, errno, OSN_CNI_IO_FAILURE, "remove %s: %s", path,
                                     strerror(errno));
        }
        if (changed && (r = fsync_dir(p->dir, err)) < 0)
                return r;
        json_object_del(p->files, name);
        if ((r = save_record(p, err)) < 0)
                return r;
        if (!changed && err)
                *err = warn;
        return changed;
}

int osn_place_drop_record(struct osn_place *p, struct osn_error *err)
{
        if (json_object_size(p->files))
                return 0;
        char path[4096];
        int r = join(path, sizeof(path), p->dir, OSN_PLACE_RECORD, err);
        if (r < 0)
                return r;
        if (unlink(path) < 0 && errno != ENOENT)
                return osn_error_set(err, errno, OSN_CNI_IO_FAILURE, "remove %s: %s", path,
                                     strerror(errno));
        size_t i;
        json_t *d;
        json_array_foreach(p->made_dirs, i, d)
        {
                /* Deepest first; a directory that holds something else now
                 * stays, and so do its parents. */
                if (rmdir(json_string_value(d)) < 0)
                        break;
        }
        return 1;
}
