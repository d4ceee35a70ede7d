/* osnctl: the operator CLI (docs/design.md, "Architecture"): its commands.
 *
 * Layout, each layer calling only down:
 * - main.c parses the command line and dispatches through its table;
 * - the command files: networks.c (networks, attachments, show), status.c,
 *   nodes.c, trace.c, gc.c, reservations.c (reservations, release),
 *   validate.c;
 * - views.h: what a row of each listing contains, and its columns;
 * - output.h: the one renderer (tables, field lists, reports, JSON);
 * - ctl.h: options, errors, the node config, the deadline, connections.
 *
 * Each command takes the parsed options and its arguments (argv[0] is its
 * first argument, not its name) and returns an osnctl exit code (ctl.h),
 * having printed its result on stdout and any problem on stderr.
 */
#ifndef OSNCTL_H
#define OSNCTL_H

#include "ctl.h"

int osnctl_networks(struct osnctl *ctl, int argc, char **argv);
int osnctl_attachments(struct osnctl *ctl, int argc, char **argv);
int osnctl_show(struct osnctl *ctl, int argc, char **argv);
int osnctl_status(struct osnctl *ctl, int argc, char **argv);
int osnctl_validate(struct osnctl *ctl, int argc, char **argv);
int osnctl_gc(struct osnctl *ctl, int argc, char **argv);
int osnctl_nodes(struct osnctl *ctl, int argc, char **argv);
int osnctl_trace(struct osnctl *ctl, int argc, char **argv);
int osnctl_reservations(struct osnctl *ctl, int argc, char **argv);
int osnctl_release(struct osnctl *ctl, int argc, char **argv);

/* Shared between commands (gc removes reservations as release does; the
 * attachments view probes other nodes as gc does). */

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

#endif
