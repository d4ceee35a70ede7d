/* tenancy: which network an attachment joins, and what the admin grants.
 *
 * A network belongs to a namespace: its identity is (the pod's namespace,
 * the NAD's "name"), so one name in two namespaces makes two L2 domains,
 * each with its own switch, address space, pool, DHCP rows and persistent
 * identities.  The namespace comes from K8S_POD_NAMESPACE in CNI_ARGS (set
 * by the kubelet, passed on by Multus), the grants from the node config
 * (the admin's): the two inputs a tenant cannot forge.
 *
 * The network key (Logical_Switch "osn.<key>", every osn/network value) is
 *   "<namespace>/<name>"   the namespace's own network (scope namespace)
 *   "_cluster/<name>"      a network the admin shares across namespaces
 *                          (node config "cluster_networks"; scope cluster)
 *   "_none/<name>"         an attachment without K8S_POD_NAMESPACE (a
 *                          runtime without Kubernetes; scope none)
 *   "<name>"               a network an osn before tenancy made (legacy),
 *                          joined only by the namespaces that held pods on
 *                          it (ovn.h, "Tenancy")
 * Namespaces are DNS-1123 labels ([a-z0-9-], at most 63 bytes, no "_" and
 * no "/"), so the first "/" ends the scope and no two (namespace, name)
 * pairs, nor a pair and a shared network, ever map to one key.
 *
 * Node config grants (validated when the node config loads):
 *   "cluster_networks": {"storage": ["ns-a", "ns-b"], "shared": "*"}
 *       pods of the listed namespaces ("*": of every namespace) that attach
 *       to a NAD named "storage" share one network; any other namespace
 *       that uses the name gets its own as usual.
 *   "physical_networks": {"physnet": {"tenant-a": [10, "100-199"],
 *                                     "*": ["untagged"]}}
 *       which namespaces ("*": every one, including attachments without a
 *       namespace; "_none": those alone) may attach to which VLANs of a
 *       physical network: VLAN IDs, "lo-hi" ranges, "untagged", or "*" for
 *       all of them.  No key (or {}) grants nothing: an external network is
 *       then refused with OSN_CNI_NOT_GRANTED before anything is made.
 *
 * Ownership: struct osn_grants is owned by the node config
 * (osn_grants_free()); struct osn_tenancy is a value.
 */
#ifndef OSN_TENANCY_H
#define OSN_TENANCY_H

#include "error.h"
#include "netconf.h"
#include "util.h"

#include <jansson.h>

#define OSN_NAMESPACE_MAX   63
#define OSN_SCOPE_CLUSTER_S "_cluster"
#define OSN_SCOPE_NONE_S    "_none"
/* bytes of a network key: the longest scope, "/", the name */
#define OSN_NETWORK_KEY_MAX (OSN_NAMESPACE_MAX + 1 + OSN_NAME_MAX)
#define OSN_NAMESPACES_MAX  4096 /* bytes of a cluster network's namespace list */

enum osn_scope {
        OSN_SCOPE_LEGACY = 0, /* a network an osn before tenancy made */
        OSN_SCOPE_NAMESPACE,
        OSN_SCOPE_CLUSTER,
        OSN_SCOPE_NONE,
};

struct osn_cluster_grant {
        char *name;
        char **namespaces; /* sorted, unique; NULL when all */
        size_t n;
        bool all;
        char *list; /* canonical: "a,b" or "*" */
};

struct osn_vlan_range {
        unsigned lo, hi; /* 0..0 = untagged */
};

struct osn_phys_grant {
        char *physnet;
        char *namespace; /* a namespace, "*" or "_none" */
        bool all;        /* every VLAN and untagged */
        struct osn_vlan_range *ranges;
        size_t n;
};

struct osn_grants {
        struct osn_cluster_grant *cluster;
        size_t n_cluster;
        struct osn_phys_grant *phys;
        size_t n_phys;
        bool has_phys; /* the key was present */
};

/* Reads the node config's "cluster_networks" and "physical_networks"
 * (either may be NULL) into 'g'.  Errors (OSN_CNI_INVALID_CONFIG) name
 * 'path', the key and the offending entry. */
int osn_grants_parse(const char *path, const json_t *cluster, const json_t *phys,
                     struct osn_grants *g, struct osn_error *err) _wur_;
void osn_grants_free(struct osn_grants *g);

struct osn_tenancy {
        enum osn_scope scope;
        char network[OSN_NETWORK_KEY_MAX + 1]; /* the key */
        char name[OSN_NAME_MAX + 1];           /* the NAD's name */
        char namespace[OSN_NAMESPACE_MAX + 1]; /* the pod's; "" without one */
        char namespaces[OSN_NAMESPACES_MAX];   /* scope cluster: the grant's list */
};

/* Whether 's' is a Kubernetes namespace name (a DNS-1123 label). */
bool osn_namespace_valid(const char *s);

/* The network 'name' of a pod of 'pod_namespace' ("" = none) joins on a
 * node with grants 'g' (node config 'path').  A namespace that is not a
 * DNS-1123 label is OSN_CNI_INVALID_ENV. */
int osn_tenancy_resolve(const struct osn_grants *g, const char *path, const char *name,
                        const char *pod_namespace, struct osn_tenancy *t, struct osn_error *err)
    _wur_;

/* The same attachment on the network an osn before tenancy made: the key
 * is the bare name. */
void osn_tenancy_legacy(const struct osn_tenancy *t, struct osn_tenancy *ret);

/* What a legacy network records of its holders: the namespace, or "_none". */
const char *osn_tenancy_holder(const struct osn_tenancy *t);

/* Whether the grants let this attachment reach VLAN 'vlan' (0 =
 * untagged) of physical network 'physnet'; OSN_CNI_NOT_GRANTED naming the
 * namespace, the physical network, the VLAN and the key to change if not. */
int osn_tenancy_check_physical(const struct osn_grants *g, const char *path,
                               const struct osn_tenancy *t, const char *physnet, unsigned vlan,
                               struct osn_error *err) _wur_;

/* For messages: "namespace tenant-a", "namespaces a,b (cluster network)",
 * "no namespace", "the pre-tenancy network". */
const char *osn_tenancy_describe(const struct osn_tenancy *t, char *buf, size_t len);

/* The scope's name as osnctl and the NB show it. */
const char *osn_scope_name(enum osn_scope s);

#endif
