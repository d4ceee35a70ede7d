/* osn-install: the node installer, entrypoint of osn's image and the init
 * container of the node DaemonSet (deploy/osn-node.yaml, docs/install.md).
 *
 * What it does, in this order, and what it guarantees:
 *   1. Reads the node's Open vSwitch DB (bounded: it retries the connection
 *      until OSN_OVS_TIMEOUT_MS, since OVS may still be starting):
 *      external_ids:system-id (the OVN chassis name) becomes node_name,
 *      ovn-bridge-mappings gives the default physical network (its first
 *      mapping) unless OSN_DEFAULT_PHYSICAL_NETWORK names one.
 *   2. For ssl: remotes, reads the TLS files of a mounted Secret
 *      (OSN_TLS_DIR: tls.key, tls.crt, ca.crt, the kubernetes.io/tls names),
 *      to install them into the node's config directory, mode 0600.
 *   3. Makes the node config (node.json) from the environment and step 1,
 *      and loads it back with the plugin's own parser: a config the plugin
 *      would refuse is never installed.
 *   4. Places the TLS files and node.json in OSN_CONFIG_DIR, the plugin in
 *      OSN_CNI_BIN_DIR and, only with OSN_CNI_ALIAS=true, its
 *      ovn-k8s-cni-overlay symlink (place.h): each directory gets a record
 *      of what osn-install put there, and a file it did not put there is
 *      never replaced (all files are checked first; a refusal names each
 *      file and --force, and changes nothing).  With --force such a file is
 *      kept beside (.NAME.osn-saved) and replaced.  What the record holds
 *      and this run does not want (the alias turned off) is removed.
 * --uninstall (or OSN_UNINSTALL=true) instead removes every file the
 * records name (a file changed by someone else since is left alone, with a
 * message), puts back what --force replaced, then the records and the
 * directories osn-install made: the directories are as they were before the
 * first install.  It needs neither OSN_NB_REMOTE nor the OVS DB.
 * Every file is replaced atomically: written beside its final name, fsync'd,
 * renamed over it, and the directory fsync'd, because kubelet may exec the
 * plugin (and the plugin read node.json) at any moment.  A file whose
 * content is already the wanted one is left alone, so re-running is
 * idempotent, and running a newer image upgrades in place.  Exit 0 when all
 * is done, 1 with a message on stderr otherwise.  Nothing but the files
 * above is changed.  With --stay it then waits for SIGTERM and exits 0: the
 * main container of the DaemonSet; while it waits it copies what the plugin
 * appends to its log (OSN_FOLLOW_LOG) to stdout, so that `kubectl logs`
 * shows the plugin's log of that node (follow.h).
 *
 * Environment (defaults for the DaemonSet, where the host's directories are
 * mounted under /host and the OVS socket at its host path):
 *   OSN_NB_REMOTE                required: the node config's nb_remote
 *   OSN_CNI_BIN_DIR              /host/opt/cni/bin   where the plugin goes (the
 *                                host's CNI bin dir: /opt/cni/bin, or OpenShift's
 *                                /var/lib/cni/bin, as the container sees it)
 *   OSN_CNI_ALIAS                false               true: also ovn-k8s-cni-overlay
 *   OSN_UNINSTALL                false               true: as --uninstall
 *   OSN_FOLLOW_LOG               unset               with --stay: the log to copy
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
 *   OSN_LOG_MAX_FILES, OSN_POOL_SIZE, OSN_WARM_PORTS  the node config keys
 *                                of the same name
 *   OSN_CLUSTER_NETWORKS, OSN_PHYSICAL_NETWORKS  (JSON) the node config's grants
 *                                cluster_networks and physical_networks (README,
 *                                "Tenancy"); without OSN_PHYSICAL_NETWORKS the
 *                                installed node.json's is kept, a fresh install
 *                                grants nothing external, and a node.json from
 *                                before tenancy gets every mapped physical
 *                                network for every namespace (said on stdout)
 */
#include <assert.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "error.h"
#include "nodeconf.h"
#include "ovs.h"
#include "ovsdb.h"
#include "follow.h"
#include "place.h"
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

/* An osn_error as one message (and its details) on stderr; -1. */
static int fail_err(const struct osn_error *err)
{
        return err->details[0] ? fail("%s (%s)", err->msg, err->details) : fail("%s", err->msg);
}

/* The whole of dir/name, or NULL after a message. */
static char *read_source(const char *dir, const char *name, size_t *ret_len)
{
        char path[4096];
        int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (n < 0 || (size_t)n >= sizeof(path))
                return fail("path too long: %s/%s", dir, name), NULL;
        char *data = osn_place_read(path, ret_len);
        if (!data)
                fail("read %s: %m", path);
        return data;
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

/* Adds key: the JSON object in environment variable 'var' (when set). */
static int set_json_from_env(json_t *conf, const char *key, const char *var)
{
        const char *v = getenv(var);
        if (!v || !*v)
                return 0;
        json_error_t jerr;
        json_t *j = json_loads(v, 0, &jerr);
        if (!j || !json_is_object(j)) {
                json_decref(j);
                return fail("%s is not a JSON object (%s); e.g. %s", var,
                            j ? "another JSON value" : jerr.text,
                            streq(key, "cluster_networks")
                                ? "{\"storage\": [\"ns-a\", \"ns-b\"]}"
                                : "{\"physnet\": {\"tenant-a\": [10, \"untagged\"]}}");
        }
        json_object_set_new(conf, key, j);
        return 0;
}

/* physical_networks when OSN_PHYSICAL_NETWORKS is not set (README,
 * "Tenancy"): what node.json in 'conf_dir' has; none when there is no
 * node.json (a fresh install grants nothing external); and, for the
 * node.json of an installer before tenancy (it has no such key), every
 * physical network 'mappings' names, every VLAN, to every namespace: what
 * such a node allowed, said on stdout. */
static int physical_grants(json_t *conf, const char *conf_dir, const char *mappings)
{
        char path[4096];
        int n = snprintf(path, sizeof(path), "%s/node.json", conf_dir);
        if (n < 0 || (size_t)n >= sizeof(path))
                return fail("path too long: %s", conf_dir);
        _cleanup_json_ json_t *old = json_load_file(path, 0, NULL);
        json_t *have = json_object_get(old, "physical_networks");
        if (!old) {
                json_object_set_new(conf, "physical_networks", json_object());
                return 0;
        }
        if (have) {
                json_object_set(conf, "physical_networks", have);
                return 0;
        }
        json_t *all = json_object();
        for (const char *p = mappings; p && *p;) {
                size_t len = strcspn(p, ":,");
                if (p[len] == ':' && len > 0) {
                        char name[256];
                        snprintf(name, sizeof(name), "%.*s", (int)(len < 255 ? len : 255), p);
                        json_object_set_new(all, name, json_pack("{s:s}", "*", "*"));
                }
                p = strchr(p, ',');
                p = p ? p + 1 : NULL;
        }
        _cleanup_free_ char *shown = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
        printf("osn-install: %s has no physical_networks (written before tenancy): granting "
               "every namespace every VLAN of the node's physical networks, as before: %s; set "
               "OSN_PHYSICAL_NETWORKS to restrict it (README, \"Tenancy\")\n",
               path, shown ? shown : "?");
        json_object_set_new(conf, "physical_networks", all);
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

/* The boolean environment variable 'name' (unset: false). */
static int env_bool(const char *name, bool *ret)
{
        const char *v = env_or(name, "false");
        static const char *const yes[] = {"true", "yes", "1"}, *const no[] = {"false", "no", "0"};
        for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
                if (streq(v, yes[i]) || streq(v, no[i])) {
                        *ret = streq(v, yes[i]);
                        return 0;
                }
        return fail("%s=%s: use true or false", name, v);
}

/* The node config for this node, checked with the plugin's own parser
 * (loaded from an anonymous file, as the root filesystem may be read-only):
 * *ret_text is malloc'd, with its final newline.  'tls' names the three
 * files of OSN_TLS_DIR when they are to be installed, else NULL. */
static int node_config(const char *host_conf_dir, const char *const (*tls)[3], char **ret_text,
                       const char **ret_node)
{
        const char *nb_remote = getenv("OSN_NB_REMOTE");
        if (!nb_remote || !*nb_remote)
                return fail("OSN_NB_REMOTE is not set (e.g. ssl:10.0.0.1:6641,ssl:10.0.0.2:6641)");
        const char *ovs_remote = env_or("OSN_OVS_REMOTE", "unix:/var/run/openvswitch/db.sock");
        const char *bridge = env_or("OSN_INTEGRATION_BRIDGE", "br-int");
        int timeout = atoi(env_or("OSN_OVS_TIMEOUT_MS", "30000"));
        if (timeout <= 0)
                timeout = 30000;

        static struct osn_ovs_node node;
        if (read_ovs(ovs_remote, timeout, bridge, &node) < 0)
                return -1;
        const char *node_name = env_or("OSN_NODE_NAME", node.system_id);
        if (!*node_name)
                return fail("the node's OVS has no external_ids:system-id and OSN_NODE_NAME is "
                            "not set");
        char physnet[256];
        first_mapping(node.bridge_mappings, physnet, sizeof(physnet));

        _cleanup_json_ json_t *conf = json_object();
        json_object_set_new(conf, "node_name", json_string(node_name));
        json_object_set_new(conf, "nb_remote", json_string(nb_remote));
        json_object_set_new(conf, "ovs_remote",
                            json_string(env_or("OSN_NODE_OVS_REMOTE", ovs_remote)));
        json_object_set_new(conf, "integration_bridge", json_string(bridge));
        const char *dpn = env_or("OSN_DEFAULT_PHYSICAL_NETWORK", physnet);
        if (*dpn)
                json_object_set_new(conf, "default_physical_network", json_string(dpn));
        static const char *const tls_keys[3] = {"nb_private_key", "nb_certificate", "nb_ca_cert"};
        for (size_t i = 0; tls && i < ARRAY_SIZE(tls_keys); i++) {
                char host_path[4096];
                int n = snprintf(host_path, sizeof(host_path), "%s/%s", host_conf_dir, (*tls)[i]);
                if (n < 0 || (size_t)n >= sizeof(host_path))
                        return fail("path too long: %s", host_conf_dir);
                json_object_set_new(conf, tls_keys[i], json_string(host_path));
        }
        if (set_int_from_env(conf, "underlay_mtu", "OSN_UNDERLAY_MTU") < 0 ||
            set_int_from_env(conf, "physical_mtu", "OSN_PHYSICAL_MTU") < 0 ||
            set_int_from_env(conf, "ready_timeout_ms", "OSN_READY_TIMEOUT_MS") < 0 ||
            set_int_from_env(conf, "log_max_bytes", "OSN_LOG_MAX_BYTES") < 0 ||
            set_int_from_env(conf, "log_max_files", "OSN_LOG_MAX_FILES") < 0 ||
            set_int_from_env(conf, "pool_size", "OSN_POOL_SIZE") < 0 ||
            set_int_from_env(conf, "warm_ports", "OSN_WARM_PORTS") < 0 ||
            set_str_from_env(conf, "log_file", "OSN_LOG_FILE") < 0 ||
            set_str_from_env(conf, "log_level", "OSN_LOG_LEVEL") < 0 ||
            set_json_from_env(conf, "cluster_networks", "OSN_CLUSTER_NETWORKS") < 0 ||
            set_json_from_env(conf, "physical_networks", "OSN_PHYSICAL_NETWORKS") < 0)
                return -1;
        if (!json_object_get(conf, "physical_networks") &&
            physical_grants(conf, env_or("OSN_CONFIG_DIR", "/host/etc/osn"), node.bridge_mappings) <
                0)
                return -1;

        /* Sorted keys: the same inputs always give the same bytes, which is
         * what makes a re-run a no-op. */
        _cleanup_free_ char *text = json_dumps(conf, JSON_INDENT(2) | JSON_SORT_KEYS);
        char *with_nl = NULL;
        if (!text || asprintf(&with_nl, "%s\n", text) < 0)
                return fail("out of memory");
        _cleanup_free_ char *out = with_nl;
        _cleanup_close_ int fd = memfd_create("node.json", MFD_CLOEXEC);
        size_t len = strlen(out);
        if (fd < 0 || write(fd, out, len) != (ssize_t)len)
                return fail("write the node config to check it: %m");
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        struct osn_error err = {0};
        _cleanup_nodeconf_ struct osn_nodeconf *nc = NULL;
        if (osn_nodeconf_load(path, &nc, &err) < 0)
                return fail("the node config it would write is invalid: %s", err.msg);
        *ret_text = TAKE_PTR(out);
        *ret_node = node_name;
        return 0;
}

/* One directory's files for this run. */
struct dir_plan {
        struct osn_place *place;
        struct osn_place_item items[4];
        const char *verbs[4]; /* what a change is called: "written", "installed" */
        size_t n;
};

static void plan_add(struct dir_plan *d, struct osn_place_item item, const char *verb)
{
        assert(d->n < ARRAY_SIZE(d->items));
        d->verbs[d->n] = verb;
        d->items[d->n++] = item;
}

static bool plan_has(const struct dir_plan *d, const char *name)
{
        for (size_t i = 0; i < d->n; i++)
                if (streq(d->items[i].name, name))
                        return true;
        return false;
}

/* Places d's items and removes what the record holds beyond them (an
 * alias turned off, TLS files of a remote that is no longer ssl:), adding
 * one phrase per file to 'out'.  0, or -1 after a message. */
static int plan_apply(struct dir_plan *d, bool force, FILE *out)
{
        const char *dir = osn_place_dir(d->place);
        struct osn_error err = {0};
        for (size_t i = 0; i < d->n; i++) {
                bool saved = false;
                int r = osn_place_put(d->place, &d->items[i], force, &saved, &err);
                if (r < 0)
                        return fail_err(&err);
                fprintf(out, ", %s/%s %s", dir, d->items[i].name, r ? d->verbs[i] : "unchanged");
                if (saved)
                        fprintf(out,
                                " (replaced with --force; the original is kept as "
                                "%s/.%s.osn-saved for --uninstall)",
                                dir, d->items[i].name);
        }
        _cleanup_json_ json_t *recorded = osn_place_recorded(d->place);
        size_t i;
        json_t *name;
        json_array_foreach(recorded, i, name)
        {
                const char *n = json_string_value(name);
                if (plan_has(d, n))
                        continue;
                int r = osn_place_remove(d->place, n, &err);
                if (r < 0)
                        return fail_err(&err);
                if (r == 0)
                        fail("warning: %s", err.msg);
                else
                        fprintf(out, ", %s/%s removed", dir, n);
                err = (struct osn_error){0};
        }
        return 0;
}

/* Installs (steps 1-4 of the contract); 0, or 1 after messages on stderr. */
static int install(bool force)
{
        const char *cni_dir = env_or("OSN_CNI_BIN_DIR", "/host/opt/cni/bin");
        const char *conf_dir = env_or("OSN_CONFIG_DIR", "/host/etc/osn");
        const char *host_conf_dir = env_or("OSN_HOST_CONFIG_DIR", "/etc/osn");
        const char *src_dir = env_or("OSN_SOURCE_DIR", "/osn/bin");
        const char *tls_dir = getenv("OSN_TLS_DIR");
        const char *nb_remote = getenv("OSN_NB_REMOTE");
        bool alias;
        if (env_bool("OSN_CNI_ALIAS", &alias) < 0)
                return 1;
        /* TLS files only for ssl: remotes: the DaemonSet mounts the Secret
         * as optional, so that plain tcp: clusters need none. */
        static const char *const tls_src[3] = {"tls.key", "tls.crt", "ca.crt"};
        static const char *const tls_dst[3] = {"nb-privkey.pem", "nb-cert.pem", "nb-cacert.pem"};
        bool tls = tls_dir && *tls_dir && nb_remote && strstr(nb_remote, "ssl:");

        _cleanup_free_ char *conf_text = NULL;
        const char *node_name = NULL;
        if (node_config(host_conf_dir, tls ? &tls_dst : NULL, &conf_text, &node_name) < 0)
                return 1;
        size_t plugin_len, tls_len[3] = {0};
        _cleanup_free_ char *plugin = read_source(src_dir, PLUGIN, &plugin_len);
        if (!plugin)
                return 1;
        _cleanup_free_ char *key = NULL, *cert = NULL, *ca = NULL;
        char **tls_data[3] = {&key, &cert, &ca};
        for (size_t i = 0; tls && i < 3; i++)
                if (!(*tls_data[i] = read_source(tls_dir, tls_src[i], &tls_len[i])))
                        return 1;

        struct osn_error err = {0};
        _cleanup_place_ struct osn_place *conf_place = NULL, *cni_place = NULL;
        if (osn_place_open(conf_dir, &conf_place, &err) < 0 ||
            osn_place_open(cni_dir, &cni_place, &err) < 0)
                return fail_err(&err), 1;
        struct dir_plan conf = {.place = conf_place}, cni = {.place = cni_place};
        for (size_t i = 0; tls && i < 3; i++)
                plan_add(&conf, (struct osn_place_item){tls_dst[i], *tls_data[i], tls_len[i], 0600},
                         "written");
        plan_add(&conf, (struct osn_place_item){"node.json", conf_text, strlen(conf_text), 0640},
                 "written");
        plan_add(&cni, (struct osn_place_item){PLUGIN, plugin, plugin_len, 0755}, "installed");
        if (alias)
                plan_add(&cni, (struct osn_place_item){.name = ALIAS, .link_target = PLUGIN},
                         "linked");

        /* Every file is checked before any is changed: a refusal changes
         * nothing, and names every file refused. */
        int refused = 0;
        struct dir_plan *plans[] = {&conf, &cni};
        for (size_t p = 0; p < ARRAY_SIZE(plans); p++)
                for (size_t i = 0; i < plans[p]->n; i++) {
                        err = (struct osn_error){0};
                        if (osn_place_check(plans[p]->place, &plans[p]->items[i], force, &err) <
                            0) {
                                fail_err(&err);
                                if (streq(plans[p]->items[i].name, ALIAS))
                                        fail("(an %s that osn did not install is usually "
                                             "ovn-kubernetes' own CNI plugin, which this node's "
                                             "primary network may use: leave OSN_CNI_ALIAS off "
                                             "there)",
                                             ALIAS);
                                refused++;
                        }
                }
        if (refused)
                return fail("nothing changed: %d file(s) refused", refused), 1;

        _cleanup_free_ char *summary = NULL;
        size_t summary_len;
        FILE *out = open_memstream(&summary, &summary_len);
        if (!out)
                return fail("out of memory"), 1;
        int r = plan_apply(&conf, force, out);
        if (r == 0)
                r = plan_apply(&cni, force, out);
        if (!alias) {
                char alias_path[4096];
                snprintf(alias_path, sizeof(alias_path), "%s/%s", cni_dir, ALIAS);
                struct stat st;
                if (lstat(alias_path, &st) == 0)
                        fprintf(out, ", %s left alone (not osn's; OSN_CNI_ALIAS is off)",
                                alias_path);
                else
                        fprintf(out, ", %s off (OSN_CNI_ALIAS=true installs it)", ALIAS);
        }
        fclose(out);
        if (r < 0)
                return 1;
        printf("osn-install: node %s%s\n", node_name, summary);
        return 0;
}

/* --uninstall: every file the records name, removed or put back; then the
 * records and the directories osn-install made.  0, or 1 after a message. */
static int uninstall(void)
{
        const char *dirs[] = {env_or("OSN_CNI_BIN_DIR", "/host/opt/cni/bin"),
                              env_or("OSN_CONFIG_DIR", "/host/etc/osn")};
        int left = 0;
        for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
                struct osn_error err = {0};
                _cleanup_place_ struct osn_place *place = NULL;
                if (osn_place_open(dirs[i], &place, &err) < 0)
                        return fail_err(&err), 1;
                _cleanup_json_ json_t *names = osn_place_recorded(place);
                size_t j;
                json_t *name;
                json_array_foreach(names, j, name)
                {
                        const char *n = json_string_value(name);
                        int r = osn_place_remove(place, n, &err);
                        if (r < 0)
                                return fail_err(&err), 1;
                        if (r == 0) {
                                fail("%s", err.msg);
                                left++;
                        } else {
                                printf("osn-install: %s/%s removed\n", dirs[i], n);
                        }
                        err = (struct osn_error){0};
                }
                if (osn_place_drop_record(place, &err) < 0)
                        return fail_err(&err), 1;
        }
        printf("osn-install: uninstalled%s\n",
               left ? " (files changed by others since were left alone, see above)" : "");
        return 0;
}

/* --stay: waits for a signal of 'set'; meanwhile, when 'log' names a file,
 * copies what is appended to it to stdout once a second (follow.h). */
static void wait_for_sigterm(const sigset_t *set, const char *log)
{
        _cleanup_(osn_follow_freep) struct osn_follow *f =
            log && *log ? osn_follow_new(log, STDOUT_FILENO) : NULL;
        for (;;) {
                if (!f) {
                        int sig;
                        sigwait(set, &sig);
                        return;
                }
                struct timespec tick = {.tv_sec = 1};
                if (sigtimedwait(set, NULL, &tick) >= 0)
                        return;
                if (osn_follow_poll(f) < 0) {
                        osn_follow_free(TAKE_PTR(f)); /* stdout is gone: just wait */
                }
        }
}

static const char usage[] =
    "usage: %s [--force] [--stay]\n"
    "       %s --uninstall [--stay]\n"
    "Installs the osn CNI plugin and its node config on this node, as\n"
    "configured by OSN_* environment variables (docs/install.md), and\n"
    "exits; with --stay, then waits for SIGTERM (a DaemonSet's main\n"
    "container, so that the pod stays up and a restart re-installs), and\n"
    "meanwhile copies what is appended to OSN_FOLLOW_LOG (the plugin's log\n"
    "file) to stdout, for `kubectl logs`.\n"
    "It records what it installs (.osn-install.json in each directory) and\n"
    "never replaces a file it did not install, unless:\n"
    "  --force      replace such files; each original is kept beside it\n"
    "               (.NAME.osn-saved) and put back by --uninstall\n"
    "  --uninstall  remove exactly what it installed, put back what it\n"
    "               replaced, and remove the directories it made\n"
    "The ovn-k8s-cni-overlay name for the plugin is installed only with\n"
    "OSN_CNI_ALIAS=true.  OSN_UNINSTALL=true is --uninstall (for a\n"
    "DaemonSet: `kubectl set env ds/osn-node OSN_UNINSTALL=true`).\n";

int main(int argc, char **argv)
{
        bool stay = false, force = false, uninst = false;
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--stay"))
                        stay = true;
                else if (streq(argv[i], "--force"))
                        force = true;
                else if (streq(argv[i], "--uninstall"))
                        uninst = true;
                else {
                        bool help = streq(argv[i], "--help") || streq(argv[i], "-h");
                        fprintf(help ? stdout : stderr, usage, argv[0], argv[0]);
                        return help ? 0 : 1;
                }
        }
        bool uninst_env;
        if (env_bool("OSN_UNINSTALL", &uninst_env) < 0)
                return 1;
        uninst = uninst || uninst_env;
        if (uninst && force) {
                fprintf(stderr, usage, argv[0], argv[0]);
                return 1;
        }
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        /* Blocked before installing, so that a SIGTERM during the install is
         * taken by sigwait() below rather than killing a half-done write. */
        sigprocmask(SIG_BLOCK, &set, NULL);
        int r = uninst ? uninstall() : install(force);
        if (r || !stay)
                return r;
        fflush(stdout);
        wait_for_sigterm(&set, getenv("OSN_FOLLOW_LOG"));
        return 0;
}
