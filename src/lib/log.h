/* log: where diagnostics go.
 *
 * The plugin's stdout carries exactly one JSON document, so logs never go
 * there.  osn_log_open() picks the sink once per process: a file (the node
 * config's log_file, default OSN_LOG_DEFAULT_FILE, appended, O_CLOEXEC; its
 * missing parent directories are created) or stderr.  Library code logs at
 * debug/info only; the program edge logs errors once.  Each line carries a
 * UTC timestamp, the pid, the level and, when set, a context tag (the CNI
 * container id) so that concurrent invocations can be told apart.
 *
 * Rotation (osn_log_set_rotation(), from the node config's log_max_bytes
 * and log_max_files): a line that would take the file past the bound first
 * renames FILE to FILE.1 (FILE.1 to FILE.2, ..., the oldest beyond the
 * count removed) and starts a new FILE.  Many plugin processes write to
 * the same file at once, so:
 *   - every line is one write() on an O_APPEND descriptor: lines are never
 *     torn or interleaved;
 *   - writers hold a shared flock() on FILE.lock (a file that is never
 *     renamed) and rotation holds it exclusively, so no line is written
 *     into a file while it is being renamed away, and before each line a
 *     writer whose descriptor no longer names FILE (another process
 *     rotated) reopens FILE: no line lands in a removed file;
 *   - rotated files hold at most the bound plus the lines of writers that
 *     checked the size at the same moment (one line each).
 * Without a bound (0, or a stderr sink) a line costs one write(); with one,
 * five system calls.  Logging never fails the caller: a line that cannot
 * be written, or a rotation that cannot be done, is dropped silently
 * (nowhere else to report it) and the next line tries again.
 */
#ifndef OSN_LOG_H
#define OSN_LOG_H

#include "util.h"

enum osn_log_level { OSN_LOG_ERR, OSN_LOG_WARN, OSN_LOG_INFO, OSN_LOG_DEBUG };

#define OSN_LOG_DEFAULT_FILE      "/var/log/osn/cni.log"
#define OSN_LOG_DEFAULT_MAX_BYTES (10u << 20)
#define OSN_LOG_DEFAULT_MAX_FILES 5u
#define OSN_LOG_MAX_FILES_LIMIT   100u

/* Opens 'path' for appending (NULL or "" = stderr, "-" = stderr), creating
 * its missing parent directories (mode 0750).  Returns 0 or negative errno;
 * on failure logging stays on stderr. */
int osn_log_open(const char *path, enum osn_log_level level);
/* The rotation bound of the file sink: 'max_bytes' (0 = never rotate) and
 * the number of rotated files kept (0..OSN_LOG_MAX_FILES_LIMIT; 0 = the
 * full file is removed).  Takes effect at once, also for an open file. */
void osn_log_set_rotation(uint64_t max_bytes, unsigned max_files);
void osn_log_set_level(enum osn_log_level level);
void osn_log_set_context(const char *ctx);
void osn_log_close(void);

void osn_log(enum osn_log_level level, const char *fmt, ...) _printf_(2, 3);

#define log_error(...) osn_log(OSN_LOG_ERR, __VA_ARGS__)
#define log_warn(...)  osn_log(OSN_LOG_WARN, __VA_ARGS__)
#define log_info(...)  osn_log(OSN_LOG_INFO, __VA_ARGS__)
#define log_debug(...) osn_log(OSN_LOG_DEBUG, __VA_ARGS__)

#endif
