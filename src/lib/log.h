/* log: where diagnostics go.
 *
 * The plugin's stdout carries exactly one JSON document, so logs never go
 * there.  osn_log_open() picks the sink once per process: a file (the node
 * config's log_file, appended, O_CLOEXEC) or stderr.  Library code logs at
 * debug/info only; the program edge logs errors once.  Each line carries a
 * UTC timestamp, the pid, the level and, when set, a context tag (the CNI
 * container id) so that concurrent invocations can be told apart.
 */
#ifndef OSN_LOG_H
#define OSN_LOG_H

#include "util.h"

enum osn_log_level { OSN_LOG_ERR, OSN_LOG_WARN, OSN_LOG_INFO, OSN_LOG_DEBUG };

/* Opens 'path' for appending (NULL or "" = stderr, "-" = stderr).  Returns 0
 * or negative errno; on failure logging stays on stderr. */
int osn_log_open(const char *path, enum osn_log_level level);
void osn_log_set_level(enum osn_log_level level);
void osn_log_set_context(const char *ctx);
void osn_log_close(void);

void osn_log(enum osn_log_level level, const char *fmt, ...) _printf_(2, 3);

#define log_error(...) osn_log(OSN_LOG_ERR, __VA_ARGS__)
#define log_warn(...)  osn_log(OSN_LOG_WARN, __VA_ARGS__)
#define log_info(...)  osn_log(OSN_LOG_INFO, __VA_ARGS__)
#define log_debug(...) osn_log(OSN_LOG_DEBUG, __VA_ARGS__)

#endif
