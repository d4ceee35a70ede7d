/* osnctl: the operator CLI (docs/design.md, "Architecture").  Shared by its command files.
 *
 * Every command gathers its facts once, as JSON (the `--json` output), and
 * the text output is rendered from that same JSON by the table and field
 * printers below: what people read and what tools parse cannot disagree.
 *
 * Exit codes: 0 ok, 1 problems found (an invalid network, an unreachable
 * database, a failed removal), 2 usage error, 3 warnings only, failed by
 * validate --strict.
 */
#ifndef OSNCTL_H
#define OSNCTL_H

#include <stdio.h>

#include "error.h"
#include "inventory.h"
#include "nodeconf.h"
#include "ovsdb.h"
#include "util.h"

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
/* The deadline of the whole command: --timeout, else the node config's
 * ready_timeout_ms, else 20 s. */
int64_t osnctl_deadline(const struct osnctl *ctl);
/* Connects to the NB DB (node config nb_remote) or the local OVS DB
 * (ovs_remote); on failure prints why and returns OSNCTL_PROBLEMS. */
int osnctl_connect_nb(struct osnctl *ctl, int64_t deadline, struct osn_ovsdb **ret);
int osnctl_connect_ovs(struct osnctl *ctl, int64_t deadline, struct osn_ovsdb **ret);

/* The node config when there is one: with --nb, read-only views run
 * without; the config is then read only when -c names one or the file
 * ($OSN_CONFIG, else the default path) exists.  Without --nb it is
 * osnctl_load_node().  ctl->node stays NULL when there is none. */
int osnctl_load_node_optional(struct osnctl *ctl);
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

/* --- Output (output.c): one rendering path for text and JSON --- */

/* Applies -o wide and --no-headers (once, before a command runs). */
void osnctl_output_configure(const struct osnctl *ctl);

/* A duration in seconds as people read an age: "45s", "12m", "5h", "3d";
 * "?" when negative (unknown). */
void osnctl_age_text(long long secs, char *buf, size_t len);

/* Writes 'j' as indented JSON plus a newline on stdout. */
int osnctl_print_json(const json_t *j);

/* A column of a table (or a line of a field list): its header, the key of
 * the row object it shows and, optionally, how to render it.  Without a
 * formatter: strings as they are, null or absent as "-", arrays joined with
 * ",", booleans as yes/no, numbers in decimal. */
struct osnctl_column {
        const char *header;
        const char *key;
        void (*format)(const json_t *value, const json_t *row, char *buf, size_t len);
        unsigned flags; /* OSNCTL_COL_* */
};

#define OSNCTL_COL_WIDE 1u /* only with -o wide */

void osnctl_format_value(const json_t *v, char *buf, size_t len);
/* Each element of the array 'v' rendered by 'item', joined with 'sep'
 * into 'buf' ("-" when there is none; a cut is marked with "…"). */
void osnctl_join(const json_t *v, const char *sep,
                 void (*item)(const json_t *e, char *buf, size_t len), char *buf, size_t len);
/* Rows (a JSON array of objects) as an aligned table with a header line;
 * prints 'empty' instead when there is no row. */
void osnctl_table(const struct osnctl_column *cols, size_t n_cols, const json_t *rows,
                  const char *empty);
/* One object as "Header:  value" lines (only the values with
 * --no-headers). */
void osnctl_fields(const struct osnctl_column *cols, size_t n_cols, const json_t *obj);

/* What a command ends with: {"KEY": rows} as JSON, or the rows as a table
 * ('empty' when there is none).  Borrows 'rows'; NULL (out of memory)
 * prints why.  Returns 0 or OSNCTL_PROBLEMS. */
int osnctl_render_list(const struct osnctl *ctl, const char *key, json_t *rows,
                       const struct osnctl_column *cols, size_t n_cols, const char *empty);
/* The same for one object, as JSON or a field list. */
int osnctl_render_object(const struct osnctl *ctl, const json_t *obj,
                         const struct osnctl_column *fields, size_t n_fields);

/* The commands. */
int osnctl_validate(struct osnctl *ctl, int argc, char **argv);
int osnctl_gc(struct osnctl *ctl, int argc, char **argv);
int osnctl_nodes(struct osnctl *ctl, int argc, char **argv);
int osnctl_trace(struct osnctl *ctl, int argc, char **argv);
int osnctl_reservations(struct osnctl *ctl, int argc, char **argv);
int osnctl_release(struct osnctl *ctl, int argc, char **argv);
/* Releases every reservation older than 'older_than_s' seconds (only
 * reports with 'dry_run'), appending {"port", "result"[, "why"]} objects
 * to 'report'.  Returns how many, or negative errno. */
int osnctl_release_older(struct osn_ovsdb *nb, long long older_than_s, bool dry_run,
                         int64_t deadline, json_t *report, struct osn_error *err);
/* For "attachments": marks not ready (up = false) the attachments of other
 * nodes whose ovn-controller does not follow the NB (gc's probe, 2 s
 * bound; only when some other node's attachment claims to be ready).  On
 * failure prints why and returns OSNCTL_PROBLEMS. */
int osnctl_mark_unresponsive(struct osnctl *ctl, struct osn_inventory *inv, int64_t deadline);

/* Views shared by several commands (main.c). */
json_t *osnctl_network_json(const struct osn_inv_network *n);
json_t *osnctl_port_json(const struct osn_inv_port *p);
/* A pool's spare: network, port, uuid, mac, ips, indexed, orphan. */
json_t *osnctl_spare_json(const struct osn_inv_port *p);
/* "physnet:br-ex,tenant:br-t" as [{"name": "physnet", "bridge": "br-ex"}, ...]. */
json_t *osnctl_mappings_json(const char *mappings);
/* Reads the inventory (NB: --nb or the node config); on failure prints why
 * and returns OSNCTL_PROBLEMS. */
int osnctl_read_inventory(struct osnctl *ctl, const struct osn_inv_filter *f,
                          struct osn_inventory **ret);
/* The attachment that POD names: "namespace/name" (its first interface,
 * or the one on 'network' when not NULL) or a port name.  NULL, having
 * printed why, when there is none or more than one. */
const struct osn_inv_port *osnctl_find_pod(const struct osn_inventory *inv, const char *pod,
                                           const char *network);

#endif
