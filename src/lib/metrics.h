/* metrics: the plugin's counters, kept in a node_exporter textfile.
 *
 * There is no daemon to hold counters between two CNI calls, so each call
 * adds itself to the file: it reads the file, adds one request (its verb,
 * its result code, its latency, and for an ADD whether it took a pool's
 * spare), and writes the whole file again into a temporary file beside it
 * that is renamed over it.  A reader (node_exporter's textfile collector,
 * `osnctl status -o prometheus`) therefore always sees a whole file.
 *
 * Concurrent calls on one node serialise on an flock(2) of PATH.lock.  The
 * wait is bounded ('lock_wait_ms'); a call that does not get the lock in
 * time skips its update (-EAGAIN) rather than slow the ADD: the counters
 * are then short by that call, which the file counts in
 * osn_metrics_skipped_total once a later call gets the lock (the skip is
 * noted in PATH.skipped, one byte per skip, appended without the lock).
 *
 * The file (Prometheus text exposition format 0.0.4; docs/metrics.md):
 *   osn_cni_requests_total{verb,code}           counter; code "0" = success
 *   osn_cni_request_duration_seconds{verb}      histogram (le buckets below)
 *   osn_pool_claims_total                        counter: ADDs that took a spare
 *   osn_warm_claims_total                        counter: ... of them a warm port
 *   osn_pool_misses_total                        counter: ADDs that could have
 *                                                and found none
 *   osn_metrics_skipped_total                    counter: updates skipped
 *   osn_metrics_updated_timestamp_seconds        gauge: last update
 * Lines this module did not write are dropped on the next update.
 *
 * Nothing here logs above debug or fails its caller's work: every error is
 * returned (negative errno) for the caller to note and ignore.
 */
#ifndef OSN_METRICS_H
#define OSN_METRICS_H

#include "util.h"

#define OSN_METRICS_DEFAULT_FILE "/var/lib/osn/metrics/osn.prom"
/* The lock wait of a CNI call: well under what a runtime notices. */
#define OSN_METRICS_LOCK_WAIT_MS 20

enum osn_metrics_pool {
        OSN_METRICS_POOL_NONE,    /* not an ADD that a pool could serve */
        OSN_METRICS_POOL_CLAIMED, /* the ADD bound a spare */
        OSN_METRICS_POOL_MISSED,  /* it could have, and there was none */
        OSN_METRICS_POOL_WARM,    /* it bound a spare its node kept plugged (a claim too) */
};

struct osn_metrics_event {
        const char *verb; /* "ADD", "DEL", "CHECK", "GC", "STATUS", "VERSION" */
        int code;         /* 0 = success, else the CNI error code */
        double seconds;   /* the call's latency */
        enum osn_metrics_pool pool;
};

/* The histogram's upper bounds, in seconds (+Inf follows). */
extern const double osn_metrics_buckets[];
extern const size_t osn_metrics_n_buckets;

/* Adds 'ev' to the textfile 'path' (its directory's last component is made
 * when missing).  0; -EAGAIN when the lock was not had within
 * 'lock_wait_ms' (nothing written); -EINVAL for an unknown verb; else a
 * negative errno of the file system. */
int osn_metrics_record(const char *path, const struct osn_metrics_event *ev, int lock_wait_ms)
    _wur_;
/* The same in two halves, so that a process can take the lock and leave the
 * update to a child that inherits the descriptor (flock(2) locks belong to
 * the open file, which fork() shares): _lock() takes the lock into '*ret_fd'
 * (-EAGAIN as above, the skip noted); _record_locked() adds 'ev' under it
 * and always closes 'lock_fd'. */
int osn_metrics_lock(const char *path, int lock_wait_ms, int *ret_fd) _wur_;
int osn_metrics_record_locked(const char *path, int lock_fd, const struct osn_metrics_event *ev)
    _wur_;

/* Whether 'path' means "metrics off" ("" or "-"). */
bool osn_metrics_off(const char *path);

#endif
