/* ctl: the plumbing every osnctl command stands on (docs/design.md,
 * "Architecture"): the options a command runs with, how it reports an
 * error, the node config, the deadline and the connections to the NB, SB
 * and local OVS databases.
 *
 * Contract:
 * - Everything here sits below the commands and main.c: it calls nothing of
 *   theirs, so no osnctl file calls back into main.c (which only parses the
 *   command line and dispatches).
 * - Errors reach the user here, once: a function that returns an osnctl exit
 *   code (OSNCTL_PROBLEMS) has already printed why on stderr; the quiet
 *   variants print nothing and return negative errno.
 * - The node config is loaded at most once per run and owned by 'struct
 *   osnctl' (main.c frees it); connections returned through 'ret' are the
 *   caller's (_cleanup_ovsdb_).
 *
 * Exit codes: 0 ok, 1 problems found (an invalid network, an unreachable
 * database, a failed removal), 2 usage error, 3 warnings only, failed by
 * validate --strict.
 */
#ifndef OSNCTL_CTL_H
#define OSNCTL_CTL_H

#include <stdio.h>

#include "error.h"
#include "inventory.h"
#include "nodeconf.h"
#include "ovsdb.h"
#include "util.h"

#ifndef OSN_VERSION
#define OSN_VERSION "unknown"
#endif

#define OSNCTL_OK       0
#define OSNCTL_PROBLEMS 1
#define OSNCTL_USAGE    2
#define OSNCTL_STRICT   3 /* validate --strict: no error, but warnings */

/* The options of every command (each accepts a subset, see main.c). */
struct osnctl {
        const char *prog;
        const char *config_path; /* --config; NULL = $OSN_CONFIG or the default */
        bool json;
        int timeout_ms; /* --timeout; 0 = the node config's ready_timeout_ms */
        bool verbose;
        const char *network;            /* attachments --network */
        const char *node_name;          /* attachments --node, gc --node */
        bool dry_run;                   /* gc --dry-run */
        bool orphans;                   /* gc --orphans */
        bool force;                     /* gc --force (with --node) */
        int unresponsive_s;             /* gc --unresponsive SECONDS; 0 = not given */
        bool release_reservations;      /* gc --release-reservations */
        long long reservations_older_s; /* gc --reservations-older-than; 0 = no */
        const char *ovn_rundir;         /* status --ovn-rundir */
        struct osn_nodeconf *node;      /* loaded by osnctl_load_node() */
        /* Global options (output.c, main.c). */
        bool wide;             /* -o wide: the OSNCTL_COL_WIDE columns too */
        bool prometheus;       /* -o prometheus (status only) */
        bool no_headers;       /* --no-headers */
        const char *nb_remote; /* --nb: the NB DB without a node config */
        const char *sb_remote; /* --sb (nodes, trace) */
        const char *ip;        /* attachments --ip */
        bool detail;           /* trace --detail */
        bool strict;           /* validate --strict */
        const char
            *namespace; /* -n/--namespace (networks, attachments, reservations); NULL = all */
};

/* Prints "osnctl: MESSAGE" on stderr. */
void osnctl_err(const char *fmt, ...) _printf_(1, 2);

/* Loads the node config (once).  On failure prints why and returns
 * OSNCTL_PROBLEMS, else 0. */
int osnctl_load_node(struct osnctl *ctl);
/* The node config when there is one: with --nb, read-only views run
 * without; the config is then read only when -c names one or the file
 * ($OSN_CONFIG, else the default path) exists.  Without --nb it is
 * osnctl_load_node().  ctl->node stays NULL when there is none. */
int osnctl_load_node_optional(struct osnctl *ctl);
/* The deadline of the whole command: --timeout, else the node config's
 * ready_timeout_ms, else 20 s. */
int64_t osnctl_deadline(const struct osnctl *ctl);

/* Connects to the NB DB (--nb, else the node config's nb_remote) or the
 * local OVS DB (ovs_remote); on failure prints why and returns
 * OSNCTL_PROBLEMS. */
int osnctl_connect_nb(struct osnctl *ctl, int64_t deadline, struct osn_ovsdb **ret);
int osnctl_connect_ovs(struct osnctl *ctl, int64_t deadline, struct osn_ovsdb **ret);
/* The local OVS DB of this node: the node config's ovs_remote, else OVS's
 * default socket.  Prints nothing: a view says "unknown" without it. */
int osnctl_connect_ovs_quiet(struct osnctl *ctl, int64_t deadline, struct osn_ovsdb **ret);
/* The SB DB: --sb, else the node config's "sb_remote", else
 * ovn-controller's external_ids:ovn-remote in the local OVS DB.  On
 * failure prints why (naming where it looked) and returns OSNCTL_PROBLEMS. */
int osnctl_connect_sb(struct osnctl *ctl, int64_t deadline, struct osn_ovsdb **ret);
/* Where that is, without connecting: *ret (malloc'd) and *ret_source (what
 * named it, static).  On failure prints why and returns OSNCTL_PROBLEMS. */
int osnctl_sb_remote(struct osnctl *ctl, int64_t deadline, char **ret, const char **ret_source);

/* Reads the inventory (NB: --nb or the node config, loaded when there is
 * one); on failure prints why and returns OSNCTL_PROBLEMS. */
int osnctl_read_inventory(struct osnctl *ctl, const struct osn_inv_filter *f,
                          struct osn_inventory **ret);

#endif
