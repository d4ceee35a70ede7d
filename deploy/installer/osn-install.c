/* osn-install: the node installer, entrypoint of osn's image and the init
 * container of the node DaemonSet (deploy/osn-node.yaml, docs/install.md).
 *
 * What it does, in this order, and what it guarantees:
 *   1. Reads the node's Open vSwitch DB (bounded: it retries the connection
 *      until OSN_OVS_TIMEOUT_MS, since OVS may still be starting):
 *      external_ids:system-id (the OVN chassis name) becomes node_name,
 *      ovn-bridge-mappings gives the default physical network (its first
 *      mapping) unless OSN_DEFAULT_PHYSICAL_NETWORK names one.
 *   2. For ssl: remotes, copies the TLS files of a mounted Secret
 *      (OSN_TLS_DIR: tls.key, tls.crt, ca.crt, the kubernetes.io/tls names)
 *      into the node's config directory, mode 0600.
 *   3. Writes the node config (node.json) from the environment and step 1,
 *      and loads it back with the plugin's own parser: a config the plugin
 *      would refuse is never installed.
 *   4. Installs the plugin into the host's CNI bin dir, and its
 *      ovn-k8s-cni-overlay symlink.
 * Every file is replaced atomically: written beside its final name, fsync'd,
 * renamed over it, and the directory fsync'd, because kubelet may exec the
 * plugin (and the plugin read node.json) at any moment.  A file whose
 * content is already the wanted one is left alone, so re-running is
 * idempotent, and running a newer image upgrades in place.  Exit 0 when all
 * is installed, 1 with one message on stderr otherwise.  Nothing but the
 * files above is changed.  With --stay it then waits for SIGTERM and exits
 * 0: the main container of the DaemonSet, doing nothing while it waits.
 *
 * Environment (defaults for the DaemonSet, where the host's directories are
 * mounted under /host and the OVS socket at its host path):
 *   OSN_NB_REMOTE                required: the node config's nb_remote
 *   OSN_CNI_BIN_DIR              /host/opt/cni/bin   where the plugin goes
 *   OSN_CONFIG_DIR               /host/etc/osn       where node.json goes
 *   OSN_HOST_CONFIG_DIR          /etc/osn            the same, as the node sees it
 *   OSN_SOURCE_DIR               /osn/bin            the binaries to install
 *   OSN_OVS_REMOTE               unix:/var/run/openvswitch/db.sock (read here)
 *   OSN_NODE_OVS_REMOTE          OSN_OVS_REMOTE      the node config's ovs_remote
 *   OSN_OVS_TIMEOUT_MS           30000
 *   OSN_NODE_NAME                overrides system-id
 *   OSN_DEFAULT_PHYSICAL_NETWORK overrides the first bridge mapping
 *   OSN_TLS_DIR                  a mounted kubernetes.io/tls Secret (+ ca.crt)
 *   OSN_INTEGRATION_BRIDGE, OSN_UNDERLAY_MTU, OSN_PHYSICAL_MTU,
 *   OSN_READY_TIMEOUT_MS, OSN_LOG_FILE, OSN_LOG_LEVEL, OSN_LOG_MAX_BYTES,
 *   OSN_LOG_MAX_FILES, OSN_POOL_SIZE  the node config keys of the same name
 */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "error.h"
#include "nodeconf.h"
#include "ovs.h"
#include "ovsdb.h"
#include "util.h"

#define PLUGIN "ovn-kubernetes"
#define ALIAS  "ovn-k8s-cni-overlay"

static const char *env_or(const char *name, const char *def)
{
        const char *v = getenv(name);
        return v && *v ? v : def;
}

_printf_(1, 2) static int fail(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fputs("osn-install: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        return -1;
}

/* dir + "/" + name into buf; -1 (with a message) when it does not fit. */
static int join(char *buf, size_t size, const char *dir, const char *name)
{
        int n = snprintf(buf, size, "%s/%s", dir, name);
        if (n < 0 || (size_t)n >= size)
                return fail("path too long: %s/%s", dir, name);
        return 0;
}

/* mkdir -p 'dir', mode 0755 for what it creates. */
static int make_dirs(const char *dir)
{
        char buf[4096];
        int n = snprintf(buf, sizeof(buf), "%s/", dir);
        if (n < 0 || (size_t)n >= sizeof(buf))
                return fail("path too long: %s", dir);
        for (char *p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = 0;
                if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                        return fail("mkdir %s: %m", buf);
                *p = '/';
        }
        return 0;
}

/* The whole of 'path' (malloc'd, *ret_len bytes), or NULL with errno. */
static char *read_all(const char *path, size_t *ret_len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        size_t len = 0, cap = 1 << 16;
        char *buf = malloc(cap);
        while (buf) {
                if (len == cap) {
                        char *b = realloc(buf, cap *= 2);
                        if (!b)
                                break;
                        buf = b;
                }
                ssize_t n = read(fd, buf + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                if (n == 0) {
                        *ret_len = len;
                        return buf;
                }
                len += (size_t)n;
        }
        int saved = errno;
        free(buf);
        errno = saved;
        return NULL;
}

static int fsync_dir(const char *dir)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fsync(fd) < 0)
                return fail("fsync %s: %m", dir);
        return 0;
}

/* Puts 'data' at dir/name atomically with 'mode'.  Returns 1 when written,
 * 0 when the file already held exactly that (and that mode), -1 on error. */
static int install_file(const char *dir, const char *name, const char *data, size_t len,
                        mode_t mode)
{
        char path[4096], tmp[4096];
        if (join(path, sizeof(path), dir, name) < 0)
                return -1;
        int n = snprintf(tmp, sizeof(tmp), "%s/.%s.osn-install.%d", dir, name, (int)getpid());
        if (n < 0 || (size_t)n >= sizeof(tmp))
                return fail("path too long: %s/.%s", dir, name);

        size_t old_len;
        _cleanup_free_ char *old = read_all(path, &old_len);
        struct stat st;
        if (old && old_len == len && memcmp(old, data, len) == 0 && stat(path, &st) == 0 &&
            (st.st_mode & 07777) == mode)
                return 0;

        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return fail("create %s: %m", tmp);
        for (size_t off = 0; off < len;) {
                ssize_t w = write(fd, data + off, len - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0) {
                        fail("write %s: %m", tmp);
                        unlink(tmp);
                        return -1;
                }
                off += (size_t)w;
        }
        /* fchmod: the umask must not decide what kubelet may exec. */
        if (fchmod(fd, mode) < 0 || fsync(fd) < 0 || rename(tmp, path) < 0) {
                fail("install %s: %m", path);
                unlink(tmp);
                return -1;
        }
        return fsync_dir(dir) < 0 ? -1 : 1;
}

/* dir/name -> 'target', replaced atomically (a symlink beside, renamed). */
static int install_symlink(const char *dir, const char *name, const char *target)
{
        char path[4096], tmp[4096], cur[4096];
        if (join(path, sizeof(path), dir, name) < 0)
                return -1;
        ssize_t n = readlink(path, cur, sizeof(cur) - 1);
        if (n >= 0) {
                cur[n] = 0;
                if (streq(cur, target))
                        return 0;
        }
        int m = snprintf(tmp, sizeof(tmp), "%s/.%s.osn-install.%d", dir, name, (int)getpid());
        if (m < 0 || (size_t)m >= sizeof(tmp))
                return fail("path too long: %s/.%s", dir, name);
        unlink(tmp);
        if (symlink(target, tmp) < 0 || rename(tmp, path) < 0) {
                fail("symlink %s -> %s: %m", path, target);
                unlink(tmp);
                return -1;
        }
        return fsync_dir(dir) < 0 ? -1 : 1;
}

static int copy_file(const char *src_dir, const char *name, const char *dst_dir,
                     const char *dst_name, mode_t mode)
{
        char src[4096];
        if (join(src, sizeof(src), src_dir, name) < 0)
                return -1;
        size_t len;
        _cleanup_free_ char *data = read_all(src, &len);
        if (!data)
                return fail("read %s: %m", src);
        return install_file(dst_dir, dst_name, data, len, mode);
}

/* Reads the node's OVS DB, retrying until the deadline (OVS may be starting,
 * ovn-controller may not have made the integration bridge yet).  On failure
 * the message is that of the last attempt that failed for a reason of its
 * own (no socket, no bridge), not the one the deadline cut short. */
static int read_ovs(const char *remote, int timeout_ms, const char *bridge,
                    struct osn_ovs_node *ret)
{
        int64_t deadline = osn_now_ms() + timeout_ms;
        char why[sizeof(((struct osn_error *)0)->msg)] = "";
        for (;;) {
                _cleanup_ovsdb_ struct osn_ovsdb *ovs = NULL;
                struct osn_error err = {0};
                int r = osn_ovsdb_connect(remote, NULL, deadline, &ovs, &err);
                if (r >= 0)
                        r = osn_ovs_read_node(ovs, bridge, deadline, ret, &err);
                if (r >= 0)
                        return 0;
                if (osn_ms_left(deadline) > 0 || !why[0])
                        snprintf(why, sizeof(why), "%s", err.msg);
                if (osn_ms_left(deadline) == 0)
                        return fail("cannot read the node's OVS DB at %s within %d ms: %s", remote,
                                    timeout_ms, why);
                usleep(200 * 1000);
        }
}

/* Adds key: the integer in environment variable 'var' (when set). */
static int set_int_from_env(json_t *conf, const char *key, const char *var)
{
        const char *v = getenv(var);
        if (!v || !*v)
                return 0;
        char *end;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (errno || *end || end == v)
                return fail("%s=%s is not an integer", var, v);
        json_object_set_new(conf, key, json_integer(x));
        return 0;
}

static int set_str_from_env(json_t *conf, const char *key, const char *var)
{
        const char *v = getenv(var);
        if (v && *v)
                json_object_set_new(conf, key, json_string(v));
        return 0;
}

/* The first physical network of "physnet:br-ex,other:br-o" into buf. */
static void first_mapping(const char *mappings, char *buf, size_t size)
{
        size_t n = strcspn(mappings, ":,");
        if (mappings[n] != ':' || n >= size)
                n = 0;
        memcpy(buf, mappings, n);
        buf[n] = 0;
}

/* Steps 1-4 of the contract; 0, or 1 after one message on stderr. */
static int install(void)
{
        const char *nb_remote = getenv("OSN_NB_REMOTE");
        if (!nb_remote || !*nb_remote)
                return fail("OSN_NB_REMOTE is not set (e.g. ssl:10.0.0.1:6641,ssl:10.0.0.2:6641)"),
                       1;
        const char *cni_dir = env_or("OSN_CNI_BIN_DIR", "/host/opt/cni/bin");
        const char *conf_dir = env_or("OSN_CONFIG_DIR", "/host/etc/osn");
        const char *host_conf_dir = env_or("OSN_HOST_CONFIG_DIR", "/etc/osn");
        const char *src_dir = env_or("OSN_SOURCE_DIR", "/osn/bin");
        const char *ovs_remote = env_or("OSN_OVS_REMOTE", "unix:/var/run/openvswitch/db.sock");
        const char *bridge = env_or("OSN_INTEGRATION_BRIDGE", "br-int");
        int timeout = atoi(env_or("OSN_OVS_TIMEOUT_MS", "30000"));
        if (timeout <= 0)
                timeout = 30000;

        struct osn_ovs_node node;
        if (read_ovs(ovs_remote, timeout, bridge, &node) < 0)
                return 1;
        const char *node_name = env_or("OSN_NODE_NAME", node.system_id);
        if (!*node_name)
                return fail("the node's OVS has no external_ids:system-id and OSN_NODE_NAME is "
                            "not set"),
                       1;
        char physnet[256];
        first_mapping(node.bridge_mappings, physnet, sizeof(physnet));

        if (make_dirs(conf_dir) < 0)
                return 1;
        _cleanup_json_ json_t *conf = json_object();
        json_object_set_new(conf, "node_name", json_string(node_name));
        json_object_set_new(conf, "nb_remote", json_string(nb_remote));
        json_object_set_new(conf, "ovs_remote",
                            json_string(env_or("OSN_NODE_OVS_REMOTE", ovs_remote)));
        json_object_set_new(conf, "integration_bridge", json_string(bridge));
        const char *dpn = env_or("OSN_DEFAULT_PHYSICAL_NETWORK", physnet);
        if (*dpn)
                json_object_set_new(conf, "default_physical_network", json_string(dpn));

        const char *tls_dir = getenv("OSN_TLS_DIR");
        /* TLS files only for ssl: remotes: the DaemonSet mounts the Secret
         * as optional, so that plain tcp: clusters need none. */
        if (tls_dir && *tls_dir && strstr(nb_remote, "ssl:")) {
                static const char *const files[][3] = {
                    {"tls.key", "nb-privkey.pem", "nb_private_key"},
                    {"tls.crt", "nb-cert.pem", "nb_certificate"},
                    {"ca.crt", "nb-cacert.pem", "nb_ca_cert"},
                };
                for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                        char host_path[4096];
                        if (copy_file(tls_dir, files[i][0], conf_dir, files[i][1], 0600) < 0 ||
                            join(host_path, sizeof(host_path), host_conf_dir, files[i][1]) < 0)
                                return 1;
                        json_object_set_new(conf, files[i][2], json_string(host_path));
                }
        }
        if (set_int_from_env(conf, "underlay_mtu", "OSN_UNDERLAY_MTU") < 0 ||
            set_int_from_env(conf, "physical_mtu", "OSN_PHYSICAL_MTU") < 0 ||
            set_int_from_env(conf, "ready_timeout_ms", "OSN_READY_TIMEOUT_MS") < 0 ||
            set_int_from_env(conf, "log_max_bytes", "OSN_LOG_MAX_BYTES") < 0 ||
            set_int_from_env(conf, "log_max_files", "OSN_LOG_MAX_FILES") < 0 ||
            set_int_from_env(conf, "pool_size", "OSN_POOL_SIZE") < 0 ||
            set_str_from_env(conf, "log_file", "OSN_LOG_FILE") < 0 ||
            set_str_from_env(conf, "log_level", "OSN_LOG_LEVEL") < 0)
                return 1;

        /* Sorted keys: the same inputs always give the same bytes, which is
         * what makes a re-run a no-op. */
        _cleanup_free_ char *text = json_dumps(conf, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (!text)
                return fail("out of memory"), 1;
        size_t text_len = strlen(text);
        char tmpconf[4096];
        int n =
            snprintf(tmpconf, sizeof(tmpconf), "%s/.node.json.check.%d", conf_dir, (int)getpid());
        if (n < 0 || (size_t)n >= sizeof(tmpconf))
                return fail("path too long: %s", conf_dir), 1;
        {
                /* Load it as the plugin would, from a scratch file. */
                _cleanup_close_ int fd =
                    open(tmpconf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
                if (fd < 0 || write(fd, text, text_len) != (ssize_t)text_len) {
                        fail("write %s: %m", tmpconf);
                        unlink(tmpconf);
                        return 1;
                }
        }
        struct osn_error err = {0};
        _cleanup_nodeconf_ struct osn_nodeconf *nc = NULL;
        int r = osn_nodeconf_load(tmpconf, &nc, &err);
        unlink(tmpconf);
        if (r < 0)
                return fail("the node config it would write is invalid: %s", err.msg), 1;

        char *with_nl = NULL;
        if (asprintf(&with_nl, "%s\n", text) < 0)
                return fail("out of memory"), 1;
        _cleanup_free_ char *conf_text = with_nl;
        int wrote_conf = install_file(conf_dir, "node.json", conf_text, text_len + 1, 0640);
        if (wrote_conf < 0)
                return 1;

        if (make_dirs(cni_dir) < 0)
                return 1;
        int wrote_plugin = copy_file(src_dir, PLUGIN, cni_dir, PLUGIN, 0755);
        if (wrote_plugin < 0)
                return 1;
        int wrote_alias = install_symlink(cni_dir, ALIAS, PLUGIN);
        if (wrote_alias < 0)
                return 1;

        printf("osn-install: node %s: %s/node.json %s, %s/%s %s, %s %s\n", node_name, conf_dir,
               wrote_conf ? "written" : "unchanged", cni_dir, PLUGIN,
               wrote_plugin ? "installed" : "unchanged", ALIAS,
               wrote_alias ? "linked" : "unchanged");
        return 0;
}

int main(int argc, char **argv)
{
        bool stay = argc == 2 && streq(argv[1], "--stay");
        if (argc > 1 && !stay) {
                fprintf(stderr,
                        "usage: %s [--stay]\n"
                        "Installs the osn CNI plugin and its node config on this node, as\n"
                        "configured by OSN_* environment variables (docs/install.md), and\n"
                        "exits; with --stay, then waits for SIGTERM (a DaemonSet's main\n"
                        "container, so that the pod stays up and a restart re-installs).\n",
                        argv[0]);
                return streq(argv[1], "--help") || streq(argv[1], "-h") ? 0 : 1;
        }
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        /* Blocked before installing, so that a SIGTERM during the install is
         * taken by sigwait() below rather than killing a half-done write. */
        sigprocmask(SIG_BLOCK, &set, NULL);
        int r = install();
        if (r || !stay)
                return r;
        fflush(stdout);
        int sig;
        sigwait(&set, &sig);
        return 0;
}
