/* osnctl: the operator CLI (DESIGN.md §2).  Shared by its command files.
 *
 * Every command gathers its facts once, as JSON (the `--json` output), and
 * the text output is rendered from that same JSON by the table and field
 * printers below: what people read and what tools parse cannot disagree.
 *
 * Exit codes: 0 ok, 1 problems found (an invalid network, an unreachable
 * database, a failed removal), 2 usage error.
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

/* The options of every command (each accepts a subset, see main.c). */
struct osnctl {
        const char *prog;
        const char *config_path; /* --config; NULL = $OSN_CONFIG or the default */
        bool json;
        int timeout_ms; /* --timeout; 0 = the node config's ready_timeout_ms */
        bool verbose;
        const char *network;       /* attachments --network */
        const char *node_name;     /* attachments --node, gc --node */
        bool dry_run;              /* gc --dry-run */
        bool orphans;              /* gc --orphans */
        bool force;                /* gc --force (with --node) */
        int unresponsive_s;        /* gc --unresponsive SECONDS; 0 = not given */
        bool release_reservations; /* gc --release-reservations */
        const char *ovn_rundir;    /* status --ovn-rundir */
        struct osn_nodeconf *node; /* loaded by osnctl_load_node() */
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
};

void osnctl_format_value(const json_t *v, char *buf, size_t len);
/* Rows (a JSON array of objects) as an aligned table with a header line;
 * prints 'empty' instead when there is no row. */
void osnctl_table(const struct osnctl_column *cols, size_t n_cols, const json_t *rows,
                  const char *empty);
/* One object as "Header:  value" lines. */
void osnctl_fields(const struct osnctl_column *cols, size_t n_cols, const json_t *obj);

/* The commands. */
int osnctl_validate(struct osnctl *ctl, int argc, char **argv);
int osnctl_gc(struct osnctl *ctl, int argc, char **argv);
/* For "attachments": marks not ready (up = false) the attachments of other
 * nodes whose ovn-controller does not follow the NB (gc's probe, 2 s
 * bound; only when some other node's attachment claims to be ready).  On
 * failure prints why and returns OSNCTL_PROBLEMS. */
int osnctl_mark_unresponsive(struct osnctl *ctl, struct osn_inventory *inv, int64_t deadline);

/* Views shared by several commands (main.c). */
json_t *osnctl_network_json(const struct osn_inv_network *n);
json_t *osnctl_port_json(const struct osn_inv_port *p);

#endif
