/* nodeconf: see nodeconf.h. */
#include "nodeconf.h"

#include "metrics.h"
#include "ovn.h"

#include <stdio.h>

const char *osn_nodeconf_default_path(void)
{
        const char *p = getenv("OSN_CONFIG");
        return p && *p ? p : OSN_NODECONF_DEFAULT_PATH;
}

void osn_nodeconf_free(struct osn_nodeconf *nc)
{
        if (!nc)
                return;
        free(nc->path);
        free(nc->node_name);
        free(nc->nb_remote);
        free(nc->nb_private_key);
        free(nc->nb_certificate);
        free(nc->nb_ca_cert);
        free(nc->ovs_remote);
        free(nc->integration_bridge);
        free(nc->default_physical_network);
        free(nc->log_file);
        osn_grants_free(&nc->grants);
        free(nc->metrics_file);
        free(nc);
}

/* Reads optional string 'key' into *dst (replacing a default). */
static int get_string(const char *path, json_t *root, const char *key, bool required, char **dst,
                      struct osn_error *err)
{
        json_t *v = json_object_get(root, key);
        if (!v) {
                if (required)
                        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                             "node config %s: key \"%s\" is required", path, key);
                return 0;
        }
        if (!json_is_string(v) || json_string_length(v) == 0)
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "node config %s: key \"%s\" must be a non-empty string", path,
                                     key);
        char *s = strdup(json_string_value(v));
        if (!s)
                return -ENOMEM;
        free(*dst);
        *dst = s;
        return 0;
}

/* A file key where "" means off (stored as "-", as "-" itself is). */
static int get_file_or_off(const char *path, json_t *root, const char *key, char **dst,
                           struct osn_error *err)
{
        const char *v = json_string_value(json_object_get(root, key));
        if (v && !*v) {
                char *off = strdup("-");
                if (!off)
                        return -ENOMEM;
                free(*dst);
                *dst = off;
                return 0;
        }
        return get_string(path, root, key, false, dst, err);
}

static int get_uint(const char *path, json_t *root, const char *key, long long min, long long max,
                    long long *dst, struct osn_error *err)
{
        json_t *v = json_object_get(root, key);
        if (!v)
                return 0;
        if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
                _cleanup_free_ char *got = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "node config %s: key \"%s\" is %.64s; it must be an integer "
                                     "in %lld..%lld",
                                     path, key, got ? got : "?", min, max);
        }
        *dst = json_integer_value(v);
        return 0;
}

/* The file as a JSON object, or an error naming the file and the place. */
static int read_root(const char *path, json_t **ret, struct osn_error *err)
{
        json_error_t jerr;
        json_t *root = json_load_file(path, 0, &jerr);
        if (!root) {
                if (access(path, R_OK) < 0)
                        return osn_error_set(err, -errno, OSN_CNI_INVALID_CONFIG,
                                             "node config %s cannot be read: %s (set OSN_CONFIG "
                                             "or create %s)",
                                             path, strerror(errno), OSN_NODECONF_DEFAULT_PATH);
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "node config %s: line %d, column %d: %s", path, jerr.line,
                                     jerr.column, jerr.text);
        }
        if (!json_is_object(root)) {
                json_decref(root);
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "node config %s: must be a JSON object", path);
        }
        *ret = root;
        return 0;
}

/* A node config holding the defaults of the keys that have one. */
static struct osn_nodeconf *with_defaults(const char *path)
{
        struct osn_nodeconf *nc = calloc(1, sizeof(*nc));
        if (!nc)
                return NULL;
        char host[256] = "";
        gethostname(host, sizeof(host) - 1);
        nc->path = strdup(path);
        nc->node_name = strdup(host);
        nc->ovs_remote = strdup("unix:/var/run/openvswitch/db.sock");
        nc->integration_bridge = strdup("br-int");
        nc->log_file = strdup(OSN_LOG_DEFAULT_FILE);
        nc->metrics_file = strdup(OSN_METRICS_DEFAULT_FILE);
        if (!nc->path || !nc->node_name || !nc->ovs_remote || !nc->integration_bridge ||
            !nc->log_file || !nc->metrics_file) {
                osn_nodeconf_free(nc);
                return NULL;
        }
        return nc;
}

static int read_strings(const char *path, json_t *root, struct osn_nodeconf *nc, char **ret_level,
                        struct osn_error *err)
{
        int r;
        if ((r = get_string(path, root, "node_name", false, &nc->node_name, err)) < 0 ||
            (r = get_string(path, root, "nb_remote", true, &nc->nb_remote, err)) < 0 ||
            (r = get_string(path, root, "nb_private_key", false, &nc->nb_private_key, err)) < 0 ||
            (r = get_string(path, root, "nb_certificate", false, &nc->nb_certificate, err)) < 0 ||
            (r = get_string(path, root, "nb_ca_cert", false, &nc->nb_ca_cert, err)) < 0 ||
            (r = get_string(path, root, "ovs_remote", false, &nc->ovs_remote, err)) < 0 ||
            (r = get_string(path, root, "integration_bridge", false, &nc->integration_bridge,
                            err)) < 0 ||
            (r = get_string(path, root, "default_physical_network", false,
                            &nc->default_physical_network, err)) < 0 ||
            (r = get_string(path, root, "log_file", false, &nc->log_file, err)) < 0 ||
            (r = get_file_or_off(path, root, "metrics_file", &nc->metrics_file, err)) < 0 ||
            (r = get_string(path, root, "log_level", false, ret_level, err)) < 0)
                return r;
        return 0;
}

static int read_level(const char *path, const char *level, struct osn_nodeconf *nc,
                      struct osn_error *err)
{
        static const char *const names[] = {"err", "warn", "info", "debug"};
        nc->log_level = OSN_LOG_INFO;
        if (!level)
                return 0;
        for (size_t i = 0; i < ARRAY_SIZE(names); i++)
                if (streq(level, names[i])) {
                        nc->log_level = (enum osn_log_level)i;
                        return 0;
                }
        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                             "node config %s: key \"log_level\": \"%s\" is not "
                             "one of err, warn, info, debug",
                             path, level);
}

static int read_numbers(const char *path, json_t *root, struct osn_nodeconf *nc,
                        long long *underlay, long long *overlay, struct osn_error *err)
{
        long long physical = 1500, timeout = 20000;
        long long log_bytes = OSN_LOG_DEFAULT_MAX_BYTES, log_files = OSN_LOG_DEFAULT_MAX_FILES;
        long long pool = OSN_POOL_DEFAULT_SIZE, warm = 0;
        int r;
        if ((r = get_uint(path, root, "underlay_mtu", 576, 65535, underlay, err)) < 0 ||
            (r = get_uint(path, root, "overlay_mtu", 576, 65535, overlay, err)) < 0 ||
            (r = get_uint(path, root, "physical_mtu", 576, 65535, &physical, err)) < 0 ||
            (r = get_uint(path, root, "ready_timeout_ms", 1000, 300000, &timeout, err)) < 0 ||
            (r = get_uint(path, root, "log_max_bytes", 0, 1LL << 40, &log_bytes, err)) < 0 ||
            (r = get_uint(path, root, "log_max_files", 0, OSN_LOG_MAX_FILES_LIMIT, &log_files,
                          err)) < 0 ||
            (r = get_uint(path, root, "pool_size", 0, OSN_POOL_MAX_SIZE, &pool, err)) < 0 ||
            (r = get_uint(path, root, "warm_ports", 0, OSN_WARM_MAX_PORTS, &warm, err)) < 0)
                return r;
        if (warm > 0 && pool == 0)
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "node config %s: key \"warm_ports\": %lld warm ports need "
                                     "the pool they are taken from; set \"pool_size\" above 0 "
                                     "or \"warm_ports\" to 0",
                                     path, warm);
        nc->warm_ports = (unsigned)warm;
        nc->physical_mtu = (unsigned)physical;
        nc->ready_timeout_ms = (int)timeout;
        nc->log_max_bytes = (uint64_t)log_bytes;
        nc->log_max_files = (unsigned)log_files;
        nc->pool_size = (unsigned)pool;
        return 0;
}

/* The overlay MTU: given, or the underlay's less Geneve's overhead. */
static int overlay_mtu(const char *path, long long underlay, long long overlay,
                       struct osn_nodeconf *nc, struct osn_error *err)
{
        if (!overlay) {
                overlay = underlay - OSN_GENEVE_OVERHEAD_V4;
                if (overlay < 576)
                        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                             "node config %s: key \"underlay_mtu\": %lld leaves "
                                             "no room for Geneve (needs >= %d)",
                                             path, underlay, 576 + OSN_GENEVE_OVERHEAD_V4);
        }
        nc->overlay_mtu = (unsigned)overlay;
        return 0;
}

int osn_nodeconf_load(const char *path, struct osn_nodeconf **ret, struct osn_error *err)
{
        if (!path)
                path = osn_nodeconf_default_path();
        _cleanup_json_ json_t *root = NULL;
        int r = read_root(path, &root, err);
        if (r < 0)
                return r;
        struct osn_nodeconf *nc = with_defaults(path);
        if (!nc)
                return -ENOMEM;
        _cleanup_free_ char *level = NULL;
        long long underlay = 1500, overlay = 0;
        if ((r = read_strings(path, root, nc, &level, err)) < 0 ||
            (r = read_numbers(path, root, nc, &underlay, &overlay, err)) < 0 ||
            (r = read_level(path, level, nc, err)) < 0 ||
            (r = overlay_mtu(path, underlay, overlay, nc, err)) < 0 ||
            (r = osn_grants_parse(path, json_object_get(root, "cluster_networks"),
                                  json_object_get(root, "physical_networks"), &nc->grants, err)) <
                0) {
                osn_nodeconf_free(nc);
                return r;
        }
        if (strstr(nc->nb_remote, "ssl:") &&
            (!nc->nb_private_key || !nc->nb_certificate || !nc->nb_ca_cert)) {
                osn_nodeconf_free(nc);
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "node config %s: nb_remote uses ssl: but nb_private_key, "
                                     "nb_certificate and nb_ca_cert are not all set",
                                     path);
        }
        /* The log sink is per process and this file is its only source of
         * bounds: hand them over here, so that every program that loads
         * the node config and then opens its log_file rotates it. */
        osn_log_set_rotation(nc->log_max_bytes, nc->log_max_files);
        nc->ssl.private_key = nc->nb_private_key;
        nc->ssl.certificate = nc->nb_certificate;
        nc->ssl.ca_cert = nc->nb_ca_cert;
        *ret = nc;
        return 0;
}
