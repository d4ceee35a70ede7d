/* tenancy: see tenancy.h. */
#include "tenancy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *osn_scope_name(enum osn_scope s)
{
        switch (s) {
        case OSN_SCOPE_NAMESPACE:
                return "namespace";
        case OSN_SCOPE_CLUSTER:
                return "cluster";
        case OSN_SCOPE_NONE:
                return "none";
        case OSN_SCOPE_LEGACY:
                break;
        }
        return "legacy";
}

bool osn_namespace_valid(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > OSN_NAMESPACE_MAX || s[0] == '-' || s[n - 1] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
                        return false;
        return true;
}

void osn_grants_free(struct osn_grants *g)
{
        if (!g)
                return;
        for (size_t i = 0; i < g->n_cluster; i++) {
                struct osn_cluster_grant *c = &g->cluster[i];
                for (size_t k = 0; k < c->n; k++)
                        free(c->namespaces[k]);
                free(c->namespaces);
                free(c->name);
                free(c->list);
        }
        free(g->cluster);
        for (size_t i = 0; i < g->n_phys; i++) {
                free(g->phys[i].physnet);
                free(g->phys[i].namespace);
                free(g->phys[i].ranges);
        }
        free(g->phys);
        memset(g, 0, sizeof(*g));
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int bad(struct osn_error *err, const char *path, const char *fmt, ...) _printf_(3, 4);
static int bad(struct osn_error *err, const char *path, const char *fmt, ...)
{
        char msg[480];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap); /* every %s is bounded to fit */
        va_end(ap);
        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG, "node config %s: %s", path, msg);
}

static int parse_cluster(const char *path, const char *name, const json_t *v,
                         struct osn_cluster_grant *c, struct osn_error *err)
{
        if (!*name || strlen(name) > OSN_NAME_MAX || strchr(name, '/'))
                return bad(err, path,
                           "key \"cluster_networks\": \"%.200s\" is not a network name (1 to 200 "
                           "bytes, no \"/\")",
                           name);
        if (!(c->name = strdup(name)))
                return -ENOMEM;
        if (json_is_string(v) && streq(json_string_value(v), "*")) {
                c->all = true;
                return (c->list = strdup("*")) ? 0 : -ENOMEM;
        }
        if (!json_is_array(v) || json_array_size(v) == 0)
                return bad(err, path,
                           "key \"cluster_networks\": the value of \"%.200s\" must be a non-empty "
                           "list of namespaces or \"*\"",
                           name);
        if (!(c->namespaces = calloc(json_array_size(v), sizeof(char *))))
                return -ENOMEM;
        size_t i, len = 0;
        json_t *e;
        json_array_foreach(v, i, e)
        {
                const char *ns = json_string_value(e);
                if (!ns || !osn_namespace_valid(ns))
                        return bad(err, path,
                                   "key \"cluster_networks\": network \"%.200s\": entry %s is not "
                                   "a namespace name (a DNS-1123 label)",
                                   name, ns ? ns : "(not a string)");
                if (!(c->namespaces[c->n++] = strdup(ns)))
                        return -ENOMEM;
        }
        qsort(c->namespaces, c->n, sizeof(char *), cmp_str);
        size_t w = 0;
        for (size_t k = 0; k < c->n; k++) {
                if (w > 0 && streq(c->namespaces[w - 1], c->namespaces[k])) {
                        free(c->namespaces[k]);
                        continue;
                }
                c->namespaces[w++] = c->namespaces[k];
                len += strlen(c->namespaces[k]) + 1;
        }
        c->n = w;
        if (len >= OSN_NAMESPACES_MAX)
                return bad(err, path,
                           "key \"cluster_networks\": network \"%.200s\" lists more namespaces "
                           "than fit in %d bytes; use \"*\"",
                           name, OSN_NAMESPACES_MAX - 1);
        if (!(c->list = calloc(1, len + 1)))
                return -ENOMEM;
        for (size_t k = 0; k < c->n; k++) {
                if (k)
                        strcat(c->list, ",");
                strcat(c->list, c->namespaces[k]);
        }
        return 0;
}

/* One entry of a VLAN list: 1..4094, "lo-hi", "untagged". */
static int parse_vlan(const json_t *e, struct osn_vlan_range *r)
{
        if (json_is_integer(e)) {
                json_int_t v = json_integer_value(e);
                if (v < 1 || v > 4094)
                        return -EINVAL;
                r->lo = r->hi = (unsigned)v;
                return 0;
        }
        const char *s = json_string_value(e);
        if (!s)
                return -EINVAL;
        if (streq(s, "untagged")) {
                r->lo = r->hi = 0;
                return 0;
        }
        unsigned lo, hi;
        int n = 0;
        if (sscanf(s, "%4u-%4u%n", &lo, &hi, &n) != 2 || s[n] || lo < 1 || hi > 4094 || lo > hi)
                return -EINVAL;
        r->lo = lo, r->hi = hi;
        return 0;
}

static int parse_phys(const char *path, const char *physnet, const char *ns, const json_t *v,
                      struct osn_phys_grant *p, struct osn_error *err)
{
        if (!streq(ns, "*") && !streq(ns, OSN_SCOPE_NONE_S) && !osn_namespace_valid(ns))
                return bad(err, path,
                           "key \"physical_networks\": physical network \"%.200s\": \"%.64s\" is "
                           "not a namespace name, \"*\" or \"_none\"",
                           physnet, ns);
        if (!(p->physnet = strdup(physnet)) || !(p->namespace = strdup(ns)))
                return -ENOMEM;
        if (json_is_string(v) && streq(json_string_value(v), "*")) {
                p->all = true;
                return 0;
        }
        if (!json_is_array(v))
                return bad(err, path,
                           "key \"physical_networks\": physical network \"%.200s\", namespace "
                           "\"%.64s\": the value must be a list of VLANs (1..4094, \"lo-hi\", "
                           "\"untagged\") or \"*\"",
                           physnet, ns);
        if (!(p->ranges = calloc(json_array_size(v) + 1, sizeof(*p->ranges))))
                return -ENOMEM;
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
                if (parse_vlan(e, &p->ranges[p->n]) < 0) {
                        _cleanup_free_ char *s = json_dumps(e, JSON_ENCODE_ANY | JSON_COMPACT);
                        char where[300];
                        snprintf(where, sizeof(where), "%.200s\", namespace \"%.64s", physnet, ns);
                        return bad(err, path,
                                   "key \"physical_networks\": physical network \"%s\": %.64s is "
                                   "not a VLAN ID 1..4094, a \"lo-hi\" range or \"untagged\"",
                                   where, s ? s : "?");
                }
                p->n++;
        }
        return 0;
}

int osn_grants_parse(const char *path, const json_t *cluster, const json_t *phys,
                     struct osn_grants *g, struct osn_error *err)
{
        memset(g, 0, sizeof(*g));
        const char *k;
        json_t *v;
        int r;
        if (cluster && !json_is_object(cluster))
                return bad(err, path,
                           "key \"cluster_networks\" must be an object: {\"NAME\": "
                           "[\"NAMESPACE\", ...] or \"*\"}");
        if (phys && !json_is_object(phys))
                return bad(err, path,
                           "key \"physical_networks\" must be an object: {\"PHYSNET\": "
                           "{\"NAMESPACE\" or \"*\": [VLAN, ...] or \"*\"}}");
        if (cluster && json_object_size(cluster)) {
                if (!(g->cluster = calloc(json_object_size(cluster), sizeof(*g->cluster))))
                        return -ENOMEM;
                json_object_foreach((json_t *)cluster, k, v)
                {
                        if ((r = parse_cluster(path, k, v, &g->cluster[g->n_cluster++], err)) < 0)
                                return osn_grants_free(g), r;
                }
        }
        g->has_phys = phys != NULL;
        size_t total = 0;
        json_object_foreach((json_t *)phys, k, v)
        {
                if (!json_is_object(v))
                        return bad(err, path,
                                   "key \"physical_networks\": the value of \"%.200s\" must be an "
                                   "object {\"NAMESPACE\" or \"*\": [VLAN, ...] or \"*\"}",
                                   k);
                total += json_object_size(v);
        }
        if (total && !(g->phys = calloc(total, sizeof(*g->phys))))
                return -ENOMEM;
        json_object_foreach((json_t *)phys, k, v)
        {
                const char *ns;
                json_t *vl;
                json_object_foreach(v, ns, vl)
                {
                        if ((r = parse_phys(path, k, ns, vl, &g->phys[g->n_phys++], err)) < 0)
                                return osn_grants_free(g), r;
                }
        }
        return 0;
}

static int key_of(struct osn_tenancy *t, const char *scope)
{
        int n = snprintf(t->network, sizeof(t->network), "%s/%s", scope, t->name);
        return n < 0 || (size_t)n >= sizeof(t->network) ? -ENAMETOOLONG : 0;
}

int osn_tenancy_resolve(const struct osn_grants *g, const char *path, const char *name,
                        const char *pod_namespace, struct osn_tenancy *t, struct osn_error *err)
{
        (void)path;
        memset(t, 0, sizeof(*t));
        if (strlen(name) > OSN_NAME_MAX)
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "key \"name\" is longer than %d bytes", OSN_NAME_MAX);
        memcpy(t->name, name, strlen(name) + 1);
        if (!pod_namespace || !*pod_namespace) {
                t->scope = OSN_SCOPE_NONE;
                return key_of(t, OSN_SCOPE_NONE_S);
        }
        if (!osn_namespace_valid(pod_namespace))
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV,
                                     "CNI_ARGS K8S_POD_NAMESPACE=%.80s is not a Kubernetes "
                                     "namespace name (a DNS-1123 label: a-z, 0-9 and '-', at most "
                                     "63 bytes)",
                                     pod_namespace);
        memcpy(t->namespace, pod_namespace, strlen(pod_namespace) + 1);
        for (size_t i = 0; g && i < g->n_cluster; i++) {
                const struct osn_cluster_grant *c = &g->cluster[i];
                if (!streq(c->name, name))
                        continue;
                bool in = c->all || bsearch(&pod_namespace, c->namespaces, c->n, sizeof(char *),
                                            cmp_str) != NULL;
                if (!in)
                        break;
                t->scope = OSN_SCOPE_CLUSTER;
                snprintf(t->namespaces, sizeof(t->namespaces), "%s", c->list);
                return key_of(t, OSN_SCOPE_CLUSTER_S);
        }
        t->scope = OSN_SCOPE_NAMESPACE;
        return key_of(t, pod_namespace);
}

void osn_tenancy_legacy(const struct osn_tenancy *t, struct osn_tenancy *ret)
{
        if (ret != t)
                *ret = *t;
        ret->scope = OSN_SCOPE_LEGACY;
        snprintf(ret->network, sizeof(ret->network), "%s", t->name);
}

const char *osn_tenancy_holder(const struct osn_tenancy *t)
{
        return t->namespace[0] ? t->namespace : OSN_SCOPE_NONE_S;
}

static bool vlan_in(const struct osn_phys_grant *p, unsigned vlan)
{
        if (p->all)
                return true;
        for (size_t i = 0; i < p->n; i++)
                if (vlan >= p->ranges[i].lo && vlan <= p->ranges[i].hi)
                        return true;
        return false;
}

int osn_tenancy_check_physical(const struct osn_grants *g, const char *path,
                               const struct osn_tenancy *t, const char *physnet, unsigned vlan,
                               struct osn_error *err)
{
        const char *who = osn_tenancy_holder(t);
        for (size_t i = 0; g && i < g->n_phys; i++) {
                const struct osn_phys_grant *p = &g->phys[i];
                if (!streq(p->physnet, physnet) ||
                    !(streq(p->namespace, "*") || streq(p->namespace, who)))
                        continue;
                if (vlan_in(p, vlan))
                        return 0;
        }
        char v[16], d[OSN_NAMESPACES_MAX + 64];
        if (vlan)
                snprintf(v, sizeof(v), "%u", vlan);
        else
                snprintf(v, sizeof(v), "\"untagged\"");
        return osn_error_set(err, -EPERM, OSN_CNI_NOT_GRANTED,
                             "%s may not attach to physical network \"%s\" %s%s: the node config "
                             "%s does not grant it (key \"physical_networks\"); a cluster admin "
                             "grants it with \"physical_networks\": {\"%s\": {\"%s\": [%s]}}",
                             osn_tenancy_describe(t, d, sizeof(d)), physnet, vlan ? "VLAN " : "",
                             vlan ? v : "untagged", path, physnet, who, v);
}

const char *osn_tenancy_describe(const struct osn_tenancy *t, char *buf, size_t len)
{
        switch (t->scope) {
        case OSN_SCOPE_NAMESPACE:
                snprintf(buf, len, "namespace %s", t->namespace);
                break;
        case OSN_SCOPE_CLUSTER:
                snprintf(buf, len, "namespace %s (cluster network \"%s\" of namespaces %s)",
                         t->namespace, t->name, t->namespaces);
                break;
        case OSN_SCOPE_NONE:
                snprintf(buf, len, "an attachment without a namespace (no K8S_POD_NAMESPACE)");
                break;
        case OSN_SCOPE_LEGACY:
                snprintf(buf, len, "namespace %s (on network \"%s\" made before tenancy)",
                         osn_tenancy_holder(t), t->name);
                break;
        }
        return buf;
}
