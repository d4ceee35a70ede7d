/* ctl: the plumbing every osnctl command stands on (ctl.h). */
#include "ctl.h"

#include <limits.h>
#include <stdarg.h>
#include <unistd.h>

#include "ovs.h"
#include "txn.h"

void osnctl_err(const char *fmt, ...)
{
        va_list ap;
        fputs("osnctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

int osnctl_load_node(struct osnctl *ctl)
{
        if (ctl->node)
                return 0;
        struct osn_error err = {0};
        int r = osn_nodeconf_load(ctl->config_path, &ctl->node, &err);
        if (r < 0) {
                osnctl_err("%s", err.msg[0] ? err.msg : strerror(-r));
                return OSNCTL_PROBLEMS;
        }
        return 0;
}

int64_t osnctl_deadline(const struct osnctl *ctl)
{
        int ms = ctl->timeout_ms ? ctl->timeout_ms
                 : ctl->node     ? ctl->node->ready_timeout_ms
                                 : 20000;
        return osn_now_ms() + ms;
}

int osnctl_load_node_optional(struct osnctl *ctl)
{
        if (!ctl->nb_remote)
                return osnctl_load_node(ctl);
        if (ctl->node)
                return 0;
        const char *path = ctl->config_path ? ctl->config_path : osn_nodeconf_default_path();
        if (!ctl->config_path && access(path, F_OK) < 0)
                return 0;
        return osnctl_load_node(ctl);
}

/* 'source' says where 'remote' came from, for the message. */
static int connect_db(struct osnctl *ctl, const char *what, const char *source, const char *remote,
                      const struct osn_ssl_opts *ssl, int64_t deadline, struct osn_ovsdb **ret)
{
        struct osn_error err = {0};
        int r = osn_ovsdb_connect(remote, ssl, deadline, ret, &err);
        if (r < 0) {
                osnctl_err("cannot reach the %s (%s): %s", what, source,
                           err.msg[0] ? err.msg : strerror(-r));
                return OSNCTL_PROBLEMS;
        }
        return 0;
}

/* "node config key "K" in PATH" into buf. */
static const char *from_node(const struct osnctl *ctl, const char *key, char *buf, size_t len)
{
        int w = snprintf(buf, len, "node config key \"%s\" in %s", key, ctl->node->path);
        if (w < 0 || (size_t)w >= len)
                snprintf(buf, len, "node config key \"%s\"", key);
        return buf;
}

int osnctl_connect_nb(struct osnctl *ctl, int64_t deadline, struct osn_ovsdb **ret)
{
        char src[PATH_MAX + 64];
        if (ctl->nb_remote) {
                /* TLS material only comes from a node config. */
                if (!ctl->node && strncmp(ctl->nb_remote, "ssl:", 4) == 0) {
                        osnctl_err("--nb %s: an ssl: remote needs the key, certificate and CA of a "
                                   "node config (-c FILE)",
                                   ctl->nb_remote);
                        return OSNCTL_PROBLEMS;
                }
                return connect_db(ctl, "OVN NB DB", "--nb", ctl->nb_remote,
                                  ctl->node ? &ctl->node->ssl : NULL, deadline, ret);
        }
        return connect_db(ctl, "OVN NB DB", from_node(ctl, "nb_remote", src, sizeof(src)),
                          ctl->node->nb_remote, &ctl->node->ssl, deadline, ret);
}

int osnctl_connect_ovs(struct osnctl *ctl, int64_t deadline, struct osn_ovsdb **ret)
{
        char src[PATH_MAX + 64];
        return connect_db(ctl, "local OVS DB", from_node(ctl, "ovs_remote", src, sizeof(src)),
                          ctl->node->ovs_remote, NULL, deadline, ret);
}

#define OVS_DEFAULT_REMOTE "unix:/var/run/openvswitch/db.sock"

int osnctl_connect_ovs_quiet(struct osnctl *ctl, int64_t deadline, struct osn_ovsdb **ret)
{
        const char *remote = ctl->node ? ctl->node->ovs_remote : OVS_DEFAULT_REMOTE;
        return osn_ovsdb_connect(remote, NULL, deadline, ret, NULL);
}

/* The node config's optional "sb_remote" (nodeconf.h does not model it:
 * only osnctl needs the SB DB). */
static char *node_sb_remote(const struct osnctl *ctl)
{
        if (!ctl->node)
                return NULL;
        _cleanup_json_ json_t *root = json_load_file(ctl->node->path, 0, NULL);
        const char *v = json_string_value(json_object_get(root, "sb_remote"));
        return v && *v ? strdup(v) : NULL;
}

/* ovn-controller's external_ids:ovn-remote in the local OVS DB. */
static char *ovs_sb_remote(struct osnctl *ctl, int64_t deadline)
{
        _cleanup_ovsdb_ struct osn_ovsdb *ovs = NULL;
        if (osnctl_connect_ovs_quiet(ctl, deadline, &ovs) < 0)
                return NULL;
        static const char *const cols[] = {"external_ids", NULL};
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_OVS_DB);
        if (!t)
                return NULL;
        osn_op sel = osn_txn_select(t, "Open_vSwitch", NULL, cols);
        if (osn_txn_commit(t, ovs, deadline, NULL) < 0)
                return NULL;
        const char *v =
            osn_ovsdb_map_get(json_object_get(osn_txn_row(t, sel), "external_ids"), "ovn-remote");
        return v && *v ? strdup(v) : NULL;
}

int osnctl_sb_remote(struct osnctl *ctl, int64_t deadline, char **ret, const char **ret_source)
{
        char *remote = NULL;
        if (ctl->sb_remote) {
                remote = strdup(ctl->sb_remote);
                *ret_source = "--sb";
        } else if ((remote = node_sb_remote(ctl))) {
                *ret_source = "node config key \"sb_remote\"";
        } else if ((remote = ovs_sb_remote(ctl, deadline))) {
                *ret_source = "ovn-controller's external_ids:ovn-remote in the local OVS DB";
        } else {
                osnctl_err("where is the OVN SB DB? give --sb REMOTE, or \"sb_remote\" in the node "
                           "config, or run on a node whose local OVS DB (%s) has "
                           "ovn-controller's external_ids:ovn-remote",
                           ctl->node ? ctl->node->ovs_remote : OVS_DEFAULT_REMOTE);
                return OSNCTL_PROBLEMS;
        }
        if (!remote) {
                osnctl_err("out of memory");
                return OSNCTL_PROBLEMS;
        }
        *ret = remote;
        return 0;
}

int osnctl_connect_sb(struct osnctl *ctl, int64_t deadline, struct osn_ovsdb **ret)
{
        _cleanup_free_ char *remote = NULL;
        const char *source;
        int r = osnctl_sb_remote(ctl, deadline, &remote, &source);
        if (r)
                return r;
        return connect_db(ctl, "OVN SB DB", source, remote, ctl->node ? &ctl->node->ssl : NULL,
                          deadline, ret);
}

int osnctl_read_inventory(struct osnctl *ctl, const struct osn_inv_filter *f,
                          struct osn_inventory **ret)
{
        int r = osnctl_load_node_optional(ctl);
        if (r)
                return r;
        int64_t deadline = osnctl_deadline(ctl);
        _cleanup_ovsdb_ struct osn_ovsdb *nb = NULL;
        if ((r = osnctl_connect_nb(ctl, deadline, &nb)))
                return r;
        struct osn_error err = {0};
        r = osn_inventory_read(nb, f, deadline, ret, &err);
        if (r < 0) {
                osnctl_err("reading the NB DB %s: %s", osn_ovsdb_remote(nb),
                           err.msg[0] ? err.msg : strerror(-r));
                return OSNCTL_PROBLEMS;
        }
        return 0;
}
