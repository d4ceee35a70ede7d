/* nodeconf: the node config file, written once per node by the admin.
 *
 * Tenants never choose where the plugin connects: the NB remote(s), TLS
 * material, the local OVS DB, the integration bridge and the default
 * physical network live here, not in the NAD (the README, "Node config").
 *
 * Location: $OSN_CONFIG when set, else /etc/osn/node.json.  Format (JSON;
 * unknown keys are ignored, every key but nb_remote has a default):
 *
 *   {
 *     "node_name": "worker-1",                 default: the host name
 *     "nb_remote": "ssl:10.0.0.1:6641,ssl:10.0.0.2:6641",   required
 *     "nb_private_key": "/etc/osn/key.pem",    for ssl: remotes
 *     "nb_certificate": "/etc/osn/cert.pem",
 *     "nb_ca_cert": "/etc/osn/ca.pem",
 *     "ovs_remote": "unix:/var/run/openvswitch/db.sock",      default
 *     "integration_bridge": "br-int",          default
 *     "default_physical_network": "physnet",   for has_external_connectivity
 *     "underlay_mtu": 1500,                    overlay default = this - 58
 *     "overlay_mtu": 1442,                     overrides the line above
 *     "physical_mtu": 1500,                    localnet networks' default
 *     "ready_timeout_ms": 20000,               bound of one ADD (1000..300000)
 *     "log_file": "/var/log/osn/cni.log",      default; "-" = stderr
 *     "log_level": "info",                     err|warn|info|debug
 *     "log_max_bytes": 10485760,               rotate beyond (0 = never)
 *     "log_max_files": 5,                      rotated files kept (0..100)
 *     "pool_size": 4,                          spare ports per network (0..64; 0 = off)
 *     "warm_ports": 0,                         plugged spares per network and node (0..8)
 *     "cluster_networks": {...},               networks shared across namespaces
 *     "physical_networks": {...},              who may attach to which VLANs
 *     "metrics_file": "/var/lib/osn/metrics/osn.prom"   default; "" or "-" = off
 *   }
 *
 * cluster_networks, physical_networks: the admin's grants (tenancy.h); no
 * physical_networks grants no physical network to anybody.
 *
 * metrics_file: the node_exporter textfile every CNI call adds its counts
 * to (metrics.h, docs/metrics.md).
 *
 * pool_size: how many spare logical ports each network keeps, compiled by
 * ovn-northd ahead of time, so that an ADD binds one instead of waiting for
 * northd (ovn.h, "Pools").  0 turns pools off: every ADD inserts its port.
 *
 * warm_ports: how many of its network's spares a node keeps plugged and
 * installed by ovn-controller ahead of time, once it has a pod of that
 * network, so that an ADD there waits for neither northd nor
 * ovn-controller (attach.h, "Warm ports").  Needs pool_size > 0.  0 (the
 * default) turns them off.
 *
 * Loading also hands log_max_bytes/log_max_files to log.c
 * (osn_log_set_rotation()): the log file is opened after the config is read.
 *
 * Errors are OSN_CNI_INVALID_CONFIG and name the file and the key.
 * Ownership: osn_nodeconf_load() returns a heap object freed with
 * osn_nodeconf_free() (accepts NULL).
 */
#ifndef OSN_NODECONF_H
#define OSN_NODECONF_H

#include "error.h"
#include "log.h"
#include "stream.h"
#include "tenancy.h"
#include "util.h"

#define OSN_NODECONF_DEFAULT_PATH "/etc/osn/node.json"
#define OSN_GENEVE_OVERHEAD_V4    58

struct osn_nodeconf {
        char *path; /* the file it came from */
        char *node_name;
        char *nb_remote;
        char *nb_private_key, *nb_certificate, *nb_ca_cert;
        struct osn_ssl_opts ssl; /* points into the three strings above */
        char *ovs_remote;
        char *integration_bridge;
        char *default_physical_network; /* may be NULL */
        unsigned overlay_mtu;
        unsigned physical_mtu;
        int ready_timeout_ms;
        char *log_file; /* default OSN_LOG_DEFAULT_FILE; "-" = stderr */
        enum osn_log_level log_level;
        uint64_t log_max_bytes; /* 0 = never rotate */
        unsigned log_max_files;
        unsigned pool_size;       /* spares per network; 0 = no pools (ovn.h, "Pools") */
        unsigned warm_ports;      /* plugged spares per network and node (attach.h) */
        struct osn_grants grants; /* tenancy.h */
        char *metrics_file;       /* default OSN_METRICS_DEFAULT_FILE; "" or "-" = off */
};

/* Loads 'path', or $OSN_CONFIG, or the default path, in that order. */
int osn_nodeconf_load(const char *path, struct osn_nodeconf **ret, struct osn_error *err) _wur_;
void osn_nodeconf_free(struct osn_nodeconf *nc);
static inline void osn_nodeconf_freep(struct osn_nodeconf **nc)
{
        osn_nodeconf_free(*nc);
}
#define _cleanup_nodeconf_ _cleanup_(osn_nodeconf_freep)

/* Which path osn_nodeconf_load(NULL, ...) reads. */
const char *osn_nodeconf_default_path(void);

#endif
