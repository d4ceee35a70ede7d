/* ovn-kubernetes: the osn CNI plugin (and ovn-k8s-cni-overlay, an alias the installer makes only on
 * request).
 *
 * Multus execs it with CNI_* in the environment and the NAD's config on
 * stdin.  stdout carries exactly one JSON document, the result or the error;
 * logs go to the node config's log_file (or stderr).  The verbs are a table;
 * each handler gets the parsed environment, the netconf and the node config.
 */
#include <getopt.h>
#include <stdio.h>
#include <sys/random.h>

#include "attach.h"
#include "cni.h"
#include "log.h"
#include "metrics.h"
#include "netconf.h"
#include "netlink.h"
#include "nodeconf.h"

#define MAX_STDIN (1 << 20)

struct invocation {
        struct osn_attach_stats stats; /* ADD's, for the metrics */
        struct osn_cni_env env;
        struct osn_netconf *nc;
        struct osn_nodeconf *node;
        const char *cni_version; /* for the error JSON */
        json_t *raw;             /* stdin as JSON when parsable, for DEL/GC fallbacks */
        struct osn_tenancy ten;  /* whose network (tenancy.h) */
        struct timespec start;   /* CLOCK_MONOTONIC, the call's start (metrics) */
        bool metrics_taken;      /* an ADD's tail records them (add_metrics()) */
};

static int read_stdin(char **ret, size_t *ret_len, struct osn_error *err)
{
        size_t cap = 4096, len = 0;
        char *buf = malloc(cap);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (len == cap) {
                        if (cap >= MAX_STDIN) {
                                free(buf);
                                return osn_error_set(err, -E2BIG, OSN_CNI_DECODE_FAILURE,
                                                     "network configuration on stdin is larger "
                                                     "than %d bytes",
                                                     MAX_STDIN);
                        }
                        cap *= 2;
                        char *n = realloc(buf, cap);
                        if (!n) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = n;
                }
                ssize_t n = read(STDIN_FILENO, buf + len, cap - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int r = -errno;
                        free(buf);
                        return osn_error_set(err, r, OSN_CNI_IO_FAILURE,
                                             "cannot read the network configuration from stdin: %s",
                                             strerror(-r));
                }
                if (n == 0)
                        break;
                len += (size_t)n;
        }
        *ret = buf;
        *ret_len = len;
        return 0;
}

static void record_metrics(const struct invocation *inv, int code, int lock_fd);

/* The ADD's result on stdout, as soon as the port is installed; then the
 * metrics file's lock (bounded, as ever: a busy lock skips the update, and
 * says so now), handed to the tail child, which updates the file after the
 * plugin's exit (add_metrics()): a reader that takes the lock after the
 * plugin exits sees this call. */
static int print_result(const struct osn_cni_result *res, void *aux, int *ret_fd)
{
        struct invocation *inv = aux;
        json_t *j = osn_cni_result_json(res, inv->nc->cni_version);
        int r = j ? osn_cni_print(j) : -ENOMEM;
        if (r < 0 || osn_metrics_off(inv->node->metrics_file))
                return r;
        int l = osn_metrics_lock(inv->node->metrics_file, OSN_METRICS_LOCK_WAIT_MS, ret_fd);
        if (l < 0)
                log_debug("metrics file %s not updated: %s", inv->node->metrics_file,
                          l == -EAGAIN ? "its lock is busy (counted as skipped)" : strerror(-l));
        return 0;
}

/* After an ADD that succeeded, once the plugin has exited (attach.h): its
 * metrics, which the runtime need not wait for, under the lock 'fd' (-1:
 * not taken, nothing to record). */
static void add_metrics(void *aux, int fd)
{
        struct invocation *inv = aux;
        if (fd >= 0)
                record_metrics(inv, 0, fd);
}

static int cmd_add(struct invocation *inv, struct osn_error *err)
{
        struct osn_attach_req req = {.node = inv->node,
                                     .env = &inv->env,
                                     .nc = inv->nc,
                                     .ten = &inv->ten,
                                     .stats = &inv->stats,
                                     .answer = print_result,
                                     .after_exit = add_metrics,
                                     .aux = inv,
                                     .start_ns = (long long)inv->start.tv_sec * 1000000000LL +
                                                 inv->start.tv_nsec};
        struct osn_cni_result res;
        int r = osn_attach_add(&req, &res, err);
        if (r == 0)
                inv->metrics_taken = true;
        return r;
}

static int cmd_del(struct invocation *inv, struct osn_error *err)
{
        struct osn_attach_req req = {
            .node = inv->node, .env = &inv->env, .nc = inv->nc, .ten = &inv->ten};
        return osn_attach_del(&req, err);
}

static int cmd_check(struct invocation *inv, struct osn_error *err)
{
        struct osn_attach_req req = {
            .node = inv->node, .env = &inv->env, .nc = inv->nc, .ten = &inv->ten};
        return osn_attach_check(&req, err);
}

static int cmd_gc(struct invocation *inv, struct osn_error *err)
{
        struct osn_attach_req req = {
            .node = inv->node, .env = &inv->env, .nc = inv->nc, .ten = &inv->ten};
        _cleanup_free_ struct osn_cni_attachment *valid = NULL;
        size_t n_valid = 0;
        int r = osn_cni_valid_attachments_parse(inv->nc->raw, &valid, &n_valid, err);
        if (r < 0)
                return r;
        r = osn_attach_gc(&req, valid, n_valid, err);
        return r < 0 ? r : 0;
}

static int cmd_status(struct invocation *inv, struct osn_error *err)
{
        struct osn_attach_req req = {
            .node = inv->node, .env = &inv->env, .nc = inv->nc, .ten = &inv->ten};
        return osn_attach_status(&req, err);
}

static const struct verb {
        enum osn_cni_verb verb;
        int (*run)(struct invocation *inv, struct osn_error *err);
} verbs[] = {
    {OSN_VERB_ADD, cmd_add}, {OSN_VERB_DEL, cmd_del},       {OSN_VERB_CHECK, cmd_check},
    {OSN_VERB_GC, cmd_gc},   {OSN_VERB_STATUS, cmd_status},
};

static void help(void)
{
        printf(
            "Usage: ovn-kubernetes [--help | --version]\n"
            "\n"
            "The osn CNI plugin: attaches pods to flat layer-2 OVN networks\n"
            "(one logical switch per network, spanning every node over Geneve),\n"
            "optionally with subnets that osn hands addresses from (each address\n"
            "claimed in the NB by the ADD that takes it) and optionally\n"
            "bridged to a physical network.  Multus (or any CNI runtime) runs it with\n"
            "CNI_COMMAND=ADD|DEL|CHECK|VERSION|STATUS|GC, CNI_CONTAINERID, CNI_NETNS,\n"
            "CNI_IFNAME, CNI_ARGS and the network configuration on stdin, and reads\n"
            "one JSON document, the result or the error, from stdout.\n"
            "\n"
            "Network configuration (a NAD's spec.config), either dialect:\n"
            "  {\"cniVersion\": \"0.3.1\", \"type\": \"ovn-kubernetes\", \"name\": \"tenant\",\n"
            "   \"subnet\": \"10.10.10.0/24\", \"has_external_connectivity\": false}\n"
            "  {\"cniVersion\": \"1.0.0\", \"type\": \"ovn-k8s-cni-overlay\", \"name\": \"t2\",\n"
            "   \"topology\": \"layer3\"|\"layer2\"|\"localnet\",\n"
            "   \"subnets\": \"10.1.0.0/24,fd00:1::/64\" (layer3: \"10.128.0.0/16/24\"),\n"
            "   \"excludeSubnets\": \"10.1.0.0/29\", \"mtu\": 1400, \"vlanID\": 100,\n"
            "   \"physicalNetworkName\": \"physnet\", \"netAttachDefName\": \"ns/name\",\n"
            "   \"reservedSubnets\": \"10.1.0.64/26\", \"infrastructureSubnets\": "
            "\"10.1.0.8/29\",\n"
            "   \"defaultGatewayIPs\": \"10.1.0.9\", \"role\": \"secondary\"}\n"
            "(\"\" and 0 mean unset, as in upstream ovn-kubernetes; reserved, infrastructure\n"
            "and gateway addresses are layer2 only and never a pod's dynamic address.\n"
            "No \"topology\" is layer3, as upstream: each node takes a host subnet of the\n"
            "\"CIDR/hostPrefix\" (default /24, IPv6 /64) at its first ADD; its pods route\n"
            "the CIDR through the router port, the subnet's first address.)\n"
            "Static requests: runtimeConfig.ips / runtimeConfig.mac (capabilities\n"
            "\"ips\", \"mac\"), or CNI_ARGS IP=... and MAC=....\n"
            "\n"
            "Node configuration: $OSN_CONFIG, default %s (JSON: nb_remote,\n"
            "ovs_remote, integration_bridge, default_physical_network, ready_timeout_ms,\n"
            "pool_size, cluster_networks, physical_networks, log_file, metrics_file, ...;\n"
            "see the README).  An explicit \"mtu\" above the node's overlay MTU\n"
            "(external networks: physical MTU) is refused.\n"
            "metrics_file (default /var/lib/osn/metrics/osn.prom; \"-\" = off)\n"
            "is the node_exporter textfile each call adds its counts to.\n"
            "\n"
            "Tenancy: a network is the pod's namespace's (K8S_POD_NAMESPACE in\n"
            "CNI_ARGS) and the NAD's name: OVN switch osn.<namespace>/<name>; the\n"
            "node config's cluster_networks shares a name across the namespaces it\n"
            "lists (osn._cluster/<name>), and physical_networks grants physical\n"
            "networks and VLANs per namespace (none by default: code 104).  Without\n"
            "K8S_POD_NAMESPACE: osn._none/<name>.  <network> below is that key.\n"
            "\n"
            "Pools: each network keeps pool_size (default 4; 0 = off) spare logical\n"
            "ports, osn.<network>.spare.<uuid>, that ovn-northd has compiled ahead of\n"
            "time; an ADD with a dynamic address and no requested MAC or persistent\n"
            "identity binds one (it keeps that name: the OVS iface-id) and waits only\n"
            "for ovn-controller.  Other ADDs, and every ADD with pool_size 0, insert\n"
            "osn.<network>.<container id>.<ifname>.  With warm_ports N (default 0),\n"
            "a node keeps N spares of each network it has a pod of plugged and\n"
            "installed; an ADD there takes one and makes the pod's interface on it\n"
            "(a macvlan, passthru), waiting for neither northd nor ovn-controller.\n"
            "\n"
            "Errors: one JSON document on stdout with the CNI codes 1, 4, 5, 6, 7, 11,\n"
            "50, 51 and osn's 100-104 (docs/errors.md); each failure is logged once.\n"
            "\n"
            "CNI versions: 0.1.0 0.2.0 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0\n",
            OSN_NODECONF_DEFAULT_PATH);
}

/* Best effort: the cniVersion of a config we could not fully parse, so the
 * error comes back in the caller's version. */
static const char *raw_version(const json_t *raw)
{
        const char *v = json_string_value(json_object_get(raw, "cniVersion"));
        return v && osn_cni_version_supported(v) ? v : NULL;
}

/* The node config first, so that every later failure (environment, config)
 * reaches its log_file; a node config that does not load leaves the log on
 * stderr, and is reported once the environment says which verb this is. */
static int open_log(struct invocation *inv, struct osn_error *node_err)
{
        int r = osn_nodeconf_load(NULL, &inv->node, node_err);
        if (r < 0)
                return r;
        if (osn_log_open(inv->node->log_file, inv->node->log_level) < 0)
                log_warn("cannot open log file %s: %m", inv->node->log_file);
        return 0;
}

/* Logs what the plugin's config says that is probably a mistake (unknown
 * keys close to a known one, duplicate keys); they never fail the verb. */
static void log_warnings(const char *buf, size_t len)
{
        _cleanup_free_ struct osn_netconf_warning *w = NULL;
        size_t n = 0;
        if (osn_netconf_warnings(buf, len, &w, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                if (w[i].prev_line)
                        log_warn("network config: %s (line %d, column %d; first at line %d, "
                                 "column %d)",
                                 w[i].msg, w[i].line, w[i].column, w[i].prev_line,
                                 w[i].prev_column);
                else
                        log_warn("network config: %s (line %d, column %d)", w[i].msg, w[i].line,
                                 w[i].column);
        }
}

static int run(struct invocation *inv, struct osn_error *err)
{
        struct osn_error node_err = {0};
        int node_r = open_log(inv, &node_err);

        int r = osn_cni_env_read(getenv, &inv->env, err);
        osn_log_set_context(inv->env.container_id);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        /* The config even when the environment is bad: its network name
         * and version serve the error and its log line (not from a
         * terminal: someone who ran the plugin by hand gets the error now). */
        struct osn_error stdin_err = {0};
        int rs = r < 0 && isatty(STDIN_FILENO) ? -ENOTTY
                                               : read_stdin(&buf, &len, r < 0 ? &stdin_err : err);
        if (rs == 0) {
                inv->raw = json_loadb(buf, len, 0, NULL);
                inv->cni_version = raw_version(inv->raw);
        }
        if (r < 0)
                return r;
        if (rs < 0)
                return rs;

        if (inv->env.verb == OSN_VERB_VERSION) {
                json_t *j = osn_cni_version_json(inv->cni_version);
                return j ? osn_cni_print(j) : -ENOMEM;
        }
        if (inv->env.nothing_to_delete[0]) {
                log_info("DEL: %s; nothing to do", inv->env.nothing_to_delete);
                return 0;
        }

        r = osn_netconf_parse(buf, len, NULL, &inv->nc, err);
        if (r < 0) {
                /* DEL must not get stuck on a config that ADD refused:
                 * the network name is all it needs. */
                const char *name = json_string_value(json_object_get(inv->raw, "name"));
                if (inv->env.verb != OSN_VERB_DEL || !name || !*name)
                        return r;
                log_debug("DEL with an invalid config (%s); using name \"%s\"", err->msg, name);
                osn_error_clear(err);
                inv->nc = calloc(1, sizeof(*inv->nc));
                if (!inv->nc || !(inv->nc->name = strdup(name)))
                        return -ENOMEM;
        } else {
                inv->cni_version = inv->nc->cni_version;
                if (inv->env.verb == OSN_VERB_ADD)
                        log_warnings(buf, len);
                if ((r = osn_cni_version_check(inv->nc->cni_version, inv->env.verb, err)) < 0)
                        return r;
        }

        if (node_r < 0) {
                *err = node_err;
                return node_r;
        }
        /* Whose network (tenancy.h): the pod's namespace and the node's
         * grants.  A namespace no pod can have: no ADD made anything a DEL
         * could remove. */
        r = osn_tenancy_resolve(&inv->node->grants, inv->node->path, inv->nc->name,
                                inv->env.args.pod_namespace, &inv->ten, err);
        if (r < 0 && inv->env.verb == OSN_VERB_DEL) {
                log_info("DEL: %s; nothing to do", err->msg);
                osn_error_clear(err);
                return 0;
        }
        if (r < 0)
                return r;
        log_debug("%s network %s ifname %s netns %s", osn_cni_verb_name(inv->env.verb),
                  inv->ten.network, inv->env.ifname, inv->env.netns);

        if (inv->env.verb == OSN_VERB_ADD) {
                r = osn_netconf_check_mtu(inv->nc, inv->node->overlay_mtu, inv->node->physical_mtu,
                                          err);
                if (r < 0) {
                        osn_error_details(err, "(node config %s)", inv->node->path);
                        return r;
                }
        }
        /* The pod's netns, before any work: a FIFO must not hang the
         * plugin, and the host's own netns must not get the pod's end. */
        if (inv->env.verb == OSN_VERB_ADD || inv->env.verb == OSN_VERB_CHECK) {
                _cleanup_close_ int fd = -1;
                if ((r = osn_netns_open_pod(inv->env.netns, &fd, err)) < 0)
                        return r;
        }

        for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
                if (verbs[i].verb == inv->env.verb)
                        return verbs[i].run(inv, err);
        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_ENV, "CNI_COMMAND=%s is not supported",
                             osn_cni_verb_name(inv->env.verb));
}

/* Every failure leaves with a code docs/errors.md documents.  An error set
 * in the library keeps the code it was made with; a failure that came
 * without words (an errno only) gets one here: out of memory is worth a
 * retry (11), anything else is a failed system call (5). */
static void error_without_words(struct osn_error *err, int r, enum osn_cni_verb verb)
{
        if (osn_error_isset(err))
                return;
        osn_error_set(err, r, r == -ENOMEM ? OSN_CNI_TRY_AGAIN_LATER : OSN_CNI_IO_FAILURE,
                      "%s failed: %s", osn_cni_verb_name(verb), strerror(-r));
}

/* The one log line of a failure: the verb, the attachment (pod, container,
 * network, interface) and what failed. */
static void log_failure(const struct invocation *inv, const struct osn_error *err)
{
        const struct osn_cni_env *e = &inv->env;
        /* An environment that failed before CNI_ARGS was read: read it
         * again, best effort, for the pod's name. */
        struct osn_cni_args args = e->args;
        struct osn_error ignored = {0};
        if (!args.pod_name[0] && osn_cni_args_parse(getenv("CNI_ARGS"), &args, &ignored) < 0)
                memset(&args, 0, sizeof(args));
        const char *ns = args.pod_namespace, *pod = args.pod_name;
        const char *net = inv->nc && inv->nc->name
                              ? inv->nc->name
                              : json_string_value(json_object_get(inv->raw, "name"));
        /* A name from a config that did not parse may hold anything: the
         * log line stays one line. */
        for (const char *p = net; p && *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                        net = "(unprintable)";
                        break;
                }
        log_error("%s failed: pod %s%s%s, container %s, network %s, interface %s: code %d: %s%s%s",
                  osn_cni_verb_name(e->verb), ns[0] ? ns : "-", ns[0] || pod[0] ? "/" : "",
                  pod[0] ? pod : "", e->container_id[0] ? e->container_id : "-",
                  net && *net ? net : "-", e->ifname[0] ? e->ifname : "-", err->code, err->msg,
                  err->details[0] ? " " : "", err->details);
}

/* The call's counts into the node's metrics textfile (metrics.h): never
 * a failure of the call, and bounded (a busy lock skips the update).
 * 'lock_fd': the file's lock, already taken (taken), or -1. */
static void record_metrics(const struct invocation *inv, int code, int lock_fd)
{
        const struct timespec start = inv->start;
        enum osn_cni_verb verb;
        if (!inv->node || osn_metrics_off(inv->node->metrics_file) ||
            osn_cni_verb_parse(getenv("CNI_COMMAND"), &verb) < 0) {
                if (lock_fd >= 0)
                        close(lock_fd);
                return;
        }
        struct timespec end;
        clock_gettime(CLOCK_MONOTONIC, &end);
        struct osn_metrics_event ev = {
            .verb = osn_cni_verb_name(verb),
            .code = code,
            .seconds =
                (double)(end.tv_sec - start.tv_sec) + (double)(end.tv_nsec - start.tv_nsec) / 1e9,
            .pool = !inv->stats.pool_eligible ? OSN_METRICS_POOL_NONE
                    : inv->stats.warm_claimed ? OSN_METRICS_POOL_WARM
                    : inv->stats.pool_claimed ? OSN_METRICS_POOL_CLAIMED
                                              : OSN_METRICS_POOL_MISSED,
        };
        if (verb != OSN_VERB_ADD || code != 0)
                ev.pool = OSN_METRICS_POOL_NONE;
        int r = lock_fd >= 0
                    ? osn_metrics_record_locked(inv->node->metrics_file, lock_fd, &ev)
                    : osn_metrics_record(inv->node->metrics_file, &ev, OSN_METRICS_LOCK_WAIT_MS);
        if (r < 0)
                log_debug("metrics file %s not updated: %s", inv->node->metrics_file,
                          r == -EAGAIN ? "its lock is busy (counted as skipped)" : strerror(-r));
}

/* jansson's hash seed from one getrandom() (jansson itself opens, reads and
 * closes /dev/urandom on its first object): a start-up cost every call pays.
 * When the call fails, jansson seeds itself as before. */
static void seed_json(void)
{
        size_t seed = 0;
        if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) == (ssize_t)sizeof(seed) && seed)
                json_object_seed(seed);
}

int main(int argc, char **argv)
{
        struct invocation inv = {0};
        clock_gettime(CLOCK_MONOTONIC, &inv.start);
        seed_json();
        static const struct option opts[] = {
            {"help", no_argument, NULL, 'h'},
            {"version", no_argument, NULL, 'V'},
            {0},
        };
        int c;
        while ((c = getopt_long(argc, argv, "hV", opts, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case 'V':
                        printf("osn %s (CNI %s)\n", OSN_VERSION, OSN_CNI_LATEST_VERSION);
                        return 0;
                default:
                        fprintf(stderr, "Try 'ovn-kubernetes --help'.\n");
                        return 2;
                }
        }

        struct osn_error err = {0};
        int r = run(&inv, &err);
        if (r < 0) {
                error_without_words(&err, r, inv.env.verb);
                log_failure(&inv, &err);
                json_t *j = osn_cni_error_json(&err, inv.cni_version);
                if (j)
                        osn_cni_print(j);
        }
        if (!inv.metrics_taken)
                record_metrics(&inv, r < 0 ? err.code : 0, -1);
        osn_netconf_free(inv.nc);
        osn_nodeconf_free(inv.node);
        json_decref(inv.raw);
        osn_log_close();
        return r < 0 ? 1 : 0;
}
