/* follow: copies what is appended to a log file to another descriptor, as
 * `tail -F` does, so that the node's plugin log (which no container writes:
 * the plugin is exec'd by the runtime on the host) shows in `kubectl logs`
 * of the DaemonSet's waiting container.
 *
 * A follower starts at the file's end (what was there before is not
 * repeated by a restarted container).  osn_follow_poll() copies what was
 * appended since the last poll; when the file was rotated (its name now
 * names another inode; the plugin's log renames cni.log to cni.log.1) it
 * first copies the rest of the old file, then follows the new one from its
 * start; when the file is missing it waits for it.  Each poll reads at most
 * OSN_FOLLOW_MAX_BYTES, so a burst is copied over several polls and a poll
 * is bounded.  Lines are copied as bytes; the plugin writes each line with
 * one write(), so a line is never split by a poll unless it is in flight.
 *
 * Ownership: the caller's (osn_follow_free, NULL allowed).  Errors of the
 * output (a closed stdout) end the following: osn_follow_poll() returns a
 * negative errno and the caller stops calling it.
 */
#ifndef OSN_FOLLOW_H
#define OSN_FOLLOW_H

#include "util.h"

#define OSN_FOLLOW_MAX_BYTES (1 << 20)

struct osn_follow;

/* Follows 'path', writing to 'out_fd'.  NULL when out of memory. */
struct osn_follow *osn_follow_new(const char *path, int out_fd);
void osn_follow_free(struct osn_follow *f);
static inline void osn_follow_freep(struct osn_follow **f)
{
        osn_follow_free(*f);
}

/* Copies what was appended since the last call.  The number of bytes
 * copied, or a negative errno when writing to 'out_fd' failed. */
long osn_follow_poll(struct osn_follow *f);

#endif
