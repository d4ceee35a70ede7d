/* place: files put into a directory by osn-install, and only those.
 *
 * A "placed" directory (the host's CNI bin dir, /etc/osn) holds files that
 * osn-install put there, files of others, and one record of its own,
 * OSN_PLACE_RECORD: for every file osn-install placed, the identity of what
 * it wrote (a regular file's size and FNV-1a 64 hash of its bytes, or a
 * symlink's target) and, when it replaced a file of someone else's, the name
 * of that original, kept beside it as a hard link (.NAME.osn-saved: same
 * inode, so same bytes, mode, owner and times).  The record also names the
 * directories the first osn_place_put() had to create.
 *
 * What that guarantees:
 *   - a file is "osn's" only if the record names it and the file on disk has
 *     the recorded identity; anything else (a file the record does not name,
 *     or one changed since) is someone else's, and osn_place_check() refuses
 *     it unless 'force' is given;
 *   - with 'force', the other file is first kept as .NAME.osn-saved (an
 *     original kept earlier is never overwritten: it is the pre-install
 *     state), then replaced;
 *   - osn_place_remove() deletes a file only if it is osn's, and puts the
 *     kept original back by rename(); a file changed by someone else since is
 *     left alone (the message says so, and where the original is);
 *   - osn_place_drop_record(), after the last file is removed, removes the record and
 *     the directories it created (when empty), so that install + uninstall
 *     leaves the directory as it was, byte for byte.
 * Every write is atomic (written beside, fsync'd, renamed, the directory
 * fsync'd); the record is written before a file changes (with the new
 * identity as "pending") and after, so that a crash in between leaves a file
 * that the next run still recognises as osn's.
 *
 * Ownership: a struct osn_place is the caller's (osn_place_free, or
 * _cleanup_place_); items are borrowed for the duration of a call.
 * Functions return 0 (unchanged) or 1 (changed) on success, a negative
 * errno with 'err' set on failure.  Single-threaded; two installers at
 * once on one directory are not supported (the DaemonSet runs one).
 */
#ifndef OSN_PLACE_H
#define OSN_PLACE_H

#include <sys/types.h>

#include "error.h"

#define OSN_PLACE_RECORD ".osn-install.json"

/* What to place: a regular file ('data', 'len', 'mode') or, when
 * 'link_target' is set, a symlink to it. */
struct osn_place_item {
        const char *name;
        const char *data;
        size_t len;
        mode_t mode;
        const char *link_target;
};

struct osn_place;

/* Opens 'dir' and its record (none yet: an empty one).  'dir' need not
 * exist: the first osn_place_put() makes it (and missing parents, mode
 * 0755) and records what it made. */
int osn_place_open(const char *dir, struct osn_place **ret, struct osn_error *err) _wur_;
void osn_place_free(struct osn_place *p);
static inline void osn_place_freep(struct osn_place **p)
{
        osn_place_free(*p);
}
#define _cleanup_place_ _cleanup_(osn_place_freep)

const char *osn_place_dir(const struct osn_place *p);

/* 0 when 'item' may be placed (absent, osn's, or 'force'); -EEXIST with a
 * message naming the file and --force otherwise.  Changes nothing. */
int osn_place_check(struct osn_place *p, const struct osn_place_item *item, bool force,
                    struct osn_error *err) _wur_;

/* Places 'item' (after osn_place_check() said yes).  1 when the file changed
 * (*ret_saved: a file of someone else's was kept as .NAME.osn-saved). */
int osn_place_put(struct osn_place *p, const struct osn_place_item *item, bool force,
                  bool *ret_saved, struct osn_error *err) _wur_;

/* The names the record holds, as a JSON array (new reference). */
json_t *osn_place_recorded(const struct osn_place *p);

/* Removes the recorded file 'name' if it is osn's, and puts back what it
 * replaced.  1 removed or restored; 0 left alone (changed by someone else
 * since; 'err' then holds why, as a warning, and the return is 0). */
int osn_place_remove(struct osn_place *p, const char *name, struct osn_error *err) _wur_;

/* After the last file is removed: deletes the record and the directories
 * it created, if empty.  1 when the record is gone. */
int osn_place_drop_record(struct osn_place *p, struct osn_error *err) _wur_;

/* The whole of the file at 'path' (malloc'd, *ret_len bytes), or NULL
 * with errno. */
char *osn_place_read(const char *path, size_t *ret_len);

#endif
