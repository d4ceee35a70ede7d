/* chassis: which nodes' ovn-controllers still follow the NB, asked the way
 * OVN asks it (`ovn-nbctl --wait=hv sync`).
 *
 * The probe bumps NB_Global.nb_cfg; northd copies it to SB_Global, and
 * every live ovn-controller writes it into its Chassis_Private row once its
 * flows are installed.  A chassis that does not within the bound does not
 * follow.  When northd itself does not follow, nothing can be concluded
 * and the probe fails (a dead northd must never make every node look lost).
 *
 * `osnctl gc --node/--unresponsive` asks it before removing a lost node's
 * attachments (remove.h), `osnctl attachments` before calling another
 * node's attachments ready.  Reads the SB (monitors, one select) and writes
 * only NB_Global.nb_cfg.
 */
#ifndef OSN_CHASSIS_H
#define OSN_CHASSIS_H

#include "error.h"
#include "ovsdb.h"
#include "util.h"

/* The SB remote this node's ovn-controller uses (the local Open_vSwitch
 * row's external_ids:ovn-remote), malloc'd into *ret. */
int osn_chassis_sb_remote(struct osn_ovsdb *ovs, int64_t deadline, char **ret,
                          struct osn_error *err) _wur_;

/* The probe above, waiting at most 'bound_ms' (and never past 'deadline')
 * for every chassis, or only for node 'node''s when it is not NULL (the
 * others are then reported as they are at that moment).  *ret: {"nb_cfg":
 * N, "chassis": [{"name", "hostname", "nb_cfg", "following"}...]}.
 * -ETIMEDOUT (and 'err') when northd did not follow within the bound. */
int osn_chassis_probe(struct osn_ovsdb *nb, struct osn_ovsdb *sb, const char *node, int bound_ms,
                      int64_t deadline, json_t **ret, struct osn_error *err) _wur_;

/* Whether node 'node' (an osn/node, matched against Chassis name and
 * hostname) follows in a probe result; a node without a chassis does not. */
bool osn_chassis_follows(const json_t *probe, const char *node);

#endif
