/* osnctl trace: where a packet from a pod goes, as OVN itself computes it.
 *
 * Wraps ovn-trace(8) (as ovnkube-trace and "kubectl ko trace" do): the
 * microflow is built from what osn recorded for the pod's logical port
 * (its MAC and IPs) and for the destination (the port that holds DEST, for
 * its MAC), ovn-trace runs against the SB DB on the network's logical
 * switch, and its detailed answer is read for the verdict:
 *   delivered  a line "output to "PORT"" (one per port a flood reached) of
 *              a type other than "patch" (a hop into the next datapath);
 *   dropped    no output: the stage ("NN. ls_in_... (northd.c:...)") of
 *              the last logical flow before the "drop;" (or the last stage
 *              seen, with ovn-trace's "omitting output because ..." when
 *              there is one, when the pipeline just ends).
 * An IPv4 DEST that no osn port holds has no MAC to send to: the pod would
 * ARP for it first, so that ARP request is what is traced.
 * On a layer3 network (layer3.h) a DEST in a cluster CIDR but outside the
 * source's host subnet is routed: the pod sends it to its gateway, so the
 * microflow's eth.dst is the MAC of the node's router port (read from the
 * NB), and ovn-trace follows it through the router "osn.K" to the switch
 * of the node that holds DEST (no holder: the router's ARP request for it
 * is what the trace reaches).
 * ovn-trace runs as a child with a pipe for its output, bounded by the
 * command's deadline (killed, by its pid, when it passes).
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctl.h"
#include "layer3.h"
#include "osnctl.h"
#include "output.h"
#include "ovn.h"
#include "ovsdb.h"
#include "txn.h"
#include "views.h"

#define TRACE_OUT_MAX (16u << 20)

/* The attachment that POD names: "namespace/name" (its first interface,
 * or the one on 'network' when not NULL) or a port name.  NULL, having
 * printed why, when there is none or more than one. */
static const struct osn_inv_port *find_pod(const struct osn_inventory *inv, const char *pod,
                                           const char *network)
{
        const struct osn_inv_port *found = NULL;
        size_t n = 0;
        const char *slash = strchr(pod, '/');
        for (size_t i = 0; i < inv->n_ports; i++) {
                const struct osn_inv_port *p = &inv->ports[i];
                if (streq(p->name, pod))
                        return p;
                if (network && !streq(p->network, network))
                        continue;
                if (slash && p->pod_namespace && p->pod_name &&
                    strlen(p->pod_namespace) == (size_t)(slash - pod) &&
                    strncmp(p->pod_namespace, pod, (size_t)(slash - pod)) == 0 &&
                    streq(p->pod_name, slash + 1)) {
                        if (!found)
                                found = p;
                        n++;
                }
        }
        if (!found)
                osnctl_err("no attachment of pod or port \"%s\"%s%s (osnctl attachments lists "
                           "them)",
                           pod, network ? " on network " : "", network ? network : "");
        else if (n > 1 && !network)
                osnctl_err("pod %s has %zu attachments: name the port (osnctl attachments "
                           "--network NET shows them), or give --network",
                           pod, n);
        return n > 1 && !network ? NULL : found;
}

/* Runs argv[0] (on PATH) with 'argv'; *ret gets stdout and stderr
 * (malloc'd, NUL-terminated), *ret_status the exit status (-1 when it
 * was killed or timed out). */
static int run_captured(char *const *argv, int64_t deadline, char **ret, int *ret_status)
{
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(fds[0]);
                close(fds[1]);
                return -e;
        }
        if (pid == 0) {
                dup2(fds[1], STDOUT_FILENO);
                dup2(fds[1], STDERR_FILENO);
                execvp(argv[0], argv);
                fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        close(fds[1]);
        char *buf = NULL;
        size_t have = 0, cap = 0;
        int r = 0;
        for (;;) {
                if (cap - have < 4096) {
                        cap = cap ? cap * 2 : 65536;
                        char *b = cap <= TRACE_OUT_MAX ? realloc(buf, cap) : NULL;
                        if (!b) {
                                r = cap > TRACE_OUT_MAX ? -E2BIG : -ENOMEM;
                                break;
                        }
                        buf = b;
                }
                struct pollfd pfd = {fds[0], POLLIN, 0};
                int left = osn_ms_left(deadline);
                if (left == 0) {
                        r = -ETIMEDOUT;
                        break;
                }
                int pr = poll(&pfd, 1, left);
                if (pr < 0 && errno != EINTR) {
                        r = -errno;
                        break;
                }
                if (pr <= 0)
                        continue;
                ssize_t n = read(fds[0], buf + have, cap - have - 1);
                if (n < 0 && errno != EINTR) {
                        r = -errno;
                        break;
                }
                if (n == 0)
                        break;
                if (n > 0)
                        have += (size_t)n;
        }
        close(fds[0]);
        if (r < 0)
                kill(pid, SIGKILL);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (r < 0) {
                free(buf);
                return r;
        }
        buf[have] = 0;
        *ret = buf;
        *ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        return 0;
}

/* The text between the first pair of double quotes after 'key' in
 * 'line', malloc'd; NULL when there is none (or on ENOMEM). */
static char *quoted_after(const char *line, const char *key)
{
        const char *k = strstr(line, key);
        const char *a = k ? strchr(k + strlen(key), '"') : NULL;
        const char *b = a ? strchr(a + 1, '"') : NULL;
        return b ? strndup(a + 1, (size_t)(b - a - 1)) : NULL;
}

/* A stage line of the detailed trace: " 26. ls_in_l2_unknown (northd.c:8381): ...". */
static bool stage_line(const char *line, unsigned *table, char *stage, size_t len)
{
        char name[128];
        if (sscanf(line, " %u. %127s (", table, name) != 2)
                return false;
        snprintf(stage, len, "%s", name);
        return true;
}

/* Where the pipeline was: the last stage seen, in which pipeline of which
 * datapath. */
struct where {
        char stage[128], pipeline[16];
        const char *datapath; /* borrowed from parse_trace()'s list */
        unsigned table;
};

/* Whether 'shown', a port name as ovn-trace prints it, is port 'name'.
 * ovn-trace's friendly names cut a UUID inside a name to its first six
 * hex digits ("osn.NET.spare.684be9" for a pool port's
 * "osn.NET.spare.684be932-8f12-..."), so a shown name that is a prefix of
 * 'name' ending inside its UUID part is that port too. */
static bool trace_name_is(const char *name, const char *shown)
{
        if (streq(name, shown))
                return true;
        size_t k = strlen(shown);
        const char *uuid = strstr(name, ".spare.");
        if (!uuid || strncmp(name, shown, k) != 0)
                return false;
        uuid += strlen(".spare.");
        return k >= (size_t)(uuid - name) + 6 && osn_ovsdb_is_uuid(uuid);
}

/* The verdict of a detailed ovn-trace answer, as JSON. */
static json_t *parse_trace(const struct osn_inventory *inv, char *text)
{
        json_t *outputs = json_array();
        char pipeline[16] = "", omitted[256] = "";
        _cleanup_json_ json_t *dps = json_array();
        const char *datapath = NULL;
        struct where last = {0}, drop = {0};
        bool dropped = false;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                _cleanup_free_ char *port = NULL;
                char st[128];
                unsigned t;
                const char *omit;
                if (startswith(line, "ingress(") || startswith(line, "egress(")) {
                        snprintf(pipeline, sizeof(pipeline), "%s",
                                 line[0] == 'i' ? "ingress" : "egress");
                        /* Every datapath name stays alive (in 'dps') for
                         * the stages that point at it. */
                        char *dp = quoted_after(line, "dp=");
                        if (dp && json_array_append_new(dps, json_string(dp)) == 0)
                                datapath = json_string_value(
                                    json_array_get(dps, json_array_size(dps) - 1));
                        free(dp);
                } else if (stage_line(line, &t, st, sizeof(st))) {
                        last.table = t;
                        memcpy(last.stage, st, sizeof(st));
                        memcpy(last.pipeline, pipeline, sizeof(pipeline));
                        last.datapath = datapath;
                } else if (strstr(line, "drop;")) {
                        dropped = true;
                        drop = last;
                } else if ((omit = strstr(line, "/* omitting output because "))) {
                        /* E.g. "inport == outport && !flags.loopback". */
                        snprintf(omitted, sizeof(omitted), "%s", omit + 27);
                        char *end = strstr(omitted, " */");
                        if (end)
                                *end = 0;
                } else if ((port = quoted_after(line, "/* output to "))) {
                        /* A patch port is a hop into the next datapath
                         * (a switch's router port, a router's port), whose
                         * pipeline the trace follows: no delivery. */
                        _cleanup_free_ char *type = quoted_after(line, ", type ");
                        if (type && streq(type, "patch"))
                                continue;
                        json_t *o = json_pack("{s:s}", "port", port);
                        for (size_t i = 0; o && i < inv->n_networks; i++)
                                if (streq(inv->networks[i].localnet_port, port))
                                        json_object_set_new(
                                            o, "physical_network",
                                            json_string(inv->networks[i].physical_network
                                                            ? inv->networks[i].physical_network
                                                            : "?"));
                        /* The port's whole name, and what ovn-trace showed. */
                        for (size_t i = 0; o && i < inv->n_spares; i++)
                                if (trace_name_is(inv->spares[i].name, port)) {
                                        json_object_set_new(o, "spare", json_true());
                                        json_object_set_new(o, "port",
                                                            json_string(inv->spares[i].name));
                                }
                        for (size_t i = 0; o && i < inv->n_ports; i++) {
                                const struct osn_inv_port *p = &inv->ports[i];
                                if (!trace_name_is(p->name, port))
                                        continue;
                                json_object_set_new(o, "port", json_string(p->name));
                                json_t *pj = osnctl_port_json(p);
                                json_object_set(o, "pod", json_object_get(pj, "pod"));
                                json_object_set(o, "node", json_object_get(pj, "node"));
                                json_object_set(o, "network", json_object_get(pj, "network"));
                                json_decref(pj);
                        }
                        if (o && !streq(json_string_value(json_object_get(o, "port")), port))
                                json_object_set_new(o, "shown_as", json_string(port));
                        json_array_append_new(outputs, o);
                }
        }
        bool delivered = json_array_size(outputs) > 0;
        /* Without a "drop;" the pipeline just ended after the last stage
         * it reached (e.g. a flood with no port but the sender's). */
        if (!dropped)
                drop = last;
        json_t *where =
            delivered ? json_null()
                      : json_pack("{s:s, s:I, s:s, s:s, s:b, s:o}", "stage", drop.stage, "table",
                                  (json_int_t)drop.table, "pipeline", drop.pipeline, "datapath",
                                  drop.datapath ? drop.datapath : "", "explicit", dropped, "reason",
                                  omitted[0] && !dropped ? json_string(omitted) : json_null());
        /* The datapaths the packet crossed, each once, in order: a routed
         * trace names the router here. */
        json_t *crossed = json_array();
        size_t i;
        json_t *d;
        json_array_foreach(dps, i, d)
        {
                bool seen = false;
                for (size_t k = 0; crossed && k < json_array_size(crossed) && !seen; k++)
                        seen = json_equal(json_array_get(crossed, k), d);
                if (crossed && !seen)
                        json_array_append(crossed, d);
        }
        return json_pack("{s:s, s:o, s:o, s:o}", "verdict", delivered ? "delivered" : "dropped",
                         "outputs", outputs, "dropped_in", where, "datapaths", crossed);
}

/* The L4 part of an IP microflow: "tcp PORT", "udp PORT", "icmp" (an echo
 * request), or nothing ("" when 'proto' is NULL). */
static int l4_match(const char *proto, const char *port, int family, char *buf, size_t len)
{
        buf[0] = 0;
        if (!proto)
                return 0;
        if (streq(proto, "icmp") && !port) {
                snprintf(buf, len,
                         family == AF_INET ? " && icmp4 && icmp4.type == 8"
                                           : " && icmp6 && icmp6.type == 128");
                return 0;
        }
        char *end = NULL;
        long p = port ? strtol(port, &end, 10) : 0;
        if ((streq(proto, "tcp") || streq(proto, "udp")) && port && *end == 0 && p >= 1 &&
            p <= 65535) {
                snprintf(buf, len, " && %s && %s.src == 33333 && %s.dst == %ld", proto, proto,
                         proto, p);
                return 0;
        }
        osnctl_err("after DEST: tcp PORT, udp PORT or icmp, not \"%s%s%s\"", proto, port ? " " : "",
                   port ? port : "");
        return OSNCTL_USAGE;
}

/* A routed trace's first hop: the source node's router port on a layer3
 * network, which is its pods' gateway. */
struct gateway {
        const char *network; /* the layer3 network's key K (borrowed from the inventory) */
        char *router;        /* "osn.K" */
        char *port;          /* "osn.K@N.lrp" */
        char mac[OSN_MAC_STRLEN];
};

static void gateway_done(struct gateway *gw)
{
        free(gw->router);
        free(gw->port);
}

/* Whether a packet from 'net' to 'ip' is routed: 'net' is a layer3 node's
 * piece, 'ip' lies in one of its cluster CIDRs (the fingerprint's subnets)
 * but not in the node's host subnet of its family. */
static bool is_routed(const struct osn_inv_network *net, const struct osn_cidr *ip)
{
        const char *hs_key = ip->family == AF_INET ? OSN_EXT_HOST_SUBNET4 : OSN_EXT_HOST_SUBNET6;
        const char *hs = osn_ovsdb_map_get(net->external_ids, hs_key);
        struct osn_cidr host;
        if (!osn_ovsdb_map_get(net->external_ids, OSN_EXT_L3_NETWORK) || !hs ||
            osn_cidr_parse(hs, true, &host) < 0 || osn_cidr_contains(&host, ip))
                return false;
        for (size_t i = 0; i < net->n_subnets; i++)
                if (osn_cidr_contains(&net->subnets[i], ip))
                        return true;
        return false;
}

/* Reads the router port layer3.c made for node piece 'net' (its name
 * "osn.K@N.lrp", osn's external_ids) for its MAC.  On failure prints why
 * and returns OSNCTL_PROBLEMS. */
static int read_gateway(struct osnctl *ctl, const struct osn_inv_network *net, int64_t deadline,
                        struct gateway *ret)
{
        ret->network = osn_ovsdb_map_get(net->external_ids, OSN_EXT_L3_NETWORK);
        char *router = NULL, *port = NULL;
        if (asprintf(&router, "osn.%s", ret->network) < 0)
                router = NULL;
        if (asprintf(&port, "osn.%s.lrp", net->name) < 0)
                port = NULL;
        ret->router = router;
        ret->port = port;
        if (!router || !port) {
                osnctl_err("out of memory");
                return OSNCTL_PROBLEMS;
        }
        _cleanup_ovsdb_ struct osn_ovsdb *nb = NULL;
        int r = osnctl_connect_nb(ctl, deadline, &nb);
        if (r)
                return r;
        static const char *const cols[] = {"mac", "external_ids", NULL};
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        osn_op sel = t ? osn_txn_select(t, "Logical_Router_Port",
                                        osn_where_eq("name", json_string(ret->port)), cols)
                       : OSN_OP_NONE;
        struct osn_error err = {0};
        if (!t || (r = osn_txn_commit(t, nb, deadline, &err)) < 0) {
                osnctl_err("reading router port %s: %s", ret->port,
                           err.msg[0] ? err.msg : strerror(t ? -r : ENOMEM));
                return OSNCTL_PROBLEMS;
        }
        const json_t *row = osn_txn_row(t, sel);
        const char *owner =
            osn_ovsdb_map_get(json_object_get(row, "external_ids"), OSN_EXT_NETWORK);
        const char *mac = json_string_value(json_object_get(row, "mac"));
        uint8_t m[6];
        if (!row || !owner || !streq(owner, net->name) || !mac || osn_mac_parse(mac, m) < 0) {
                osnctl_err("layer3 network %s: node piece %s has no router port %s that osn "
                           "made, with a MAC: nothing to route through",
                           ret->network, net->name, ret->port);
                return OSNCTL_PROBLEMS;
        }
        osn_mac_format(m, ret->mac, sizeof(ret->mac));
        return 0;
}

/* Whether 'p' is on the source's network: 'src''s own or, for a routed
 * trace, any node's piece of the same layer3 network. */
static bool on_source_network(const struct osn_inventory *inv, const struct osn_inv_port *p,
                              const struct osn_inv_port *src, const struct gateway *gw)
{
        if (!gw)
                return streq(p->network, src->network);
        const struct osn_inv_network *n = osn_inventory_network(inv, p->network);
        const char *l3 = n ? osn_ovsdb_map_get(n->external_ids, OSN_EXT_L3_NETWORK) : NULL;
        return l3 && streq(l3, gw->network);
}

/* The microflow from 'src' to DEST (an IP or a MAC) with 'l4' (from
 * l4_match()) for an IP packet; 'gw' (NULL: not routed) is the router
 * port a routed packet goes to first. */
static int microflow(const struct osn_inventory *inv, const struct osn_inv_port *src,
                     const char *dest, const char *proto, const char *port,
                     const struct gateway *gw, char *buf, size_t len, json_t **ret_dest)
{
        char smac[OSN_MAC_STRLEN], dmac[OSN_MAC_STRLEN] = "ff:ff:ff:ff:ff:ff";
        char sip[OSN_CIDR_STRLEN], dip[OSN_CIDR_STRLEN];
        struct osn_cidr ip;
        uint8_t mac[6];
        osn_mac_format(src->mac, smac, sizeof(smac));
        const struct osn_inv_port *holder = NULL;
        bool is_ip = osn_cidr_parse(dest, false, &ip) == 0;
        if (!is_ip && osn_mac_parse(dest, mac) < 0 && !streq(dest, "ff:ff:ff:ff:ff:ff")) {
                osnctl_err("DEST \"%s\" is neither an IP address nor a MAC", dest);
                return OSNCTL_USAGE;
        }
        /* The holder on the pod's own network first, then anywhere; an
         * attachment, else a spare (its address is set, so OVN answers for
         * it as for any port). */
        for (int pass = 0; pass < 4 && !holder; pass++)
                for (size_t i = 0; i < (pass < 2 ? inv->n_ports : inv->n_spares) && !holder; i++) {
                        const struct osn_inv_port *p = pass < 2 ? &inv->ports[i] : &inv->spares[i];
                        if (pass % 2 == 0 && !on_source_network(inv, p, src, gw))
                                continue;
                        if (is_ip ? osn_inv_port_holds_ip(p, &ip)
                                  : !streq(dest, "ff:ff:ff:ff:ff:ff") &&
                                        osn_inv_port_holds_mac(p, mac))
                                holder = p;
                }
        if (gw)
                snprintf(dmac, sizeof(dmac), "%s", gw->mac);
        else if (is_ip && holder && holder->has_mac)
                osn_mac_format(holder->mac, dmac, sizeof(dmac));
        else if (!is_ip)
                snprintf(dmac, sizeof(dmac), "%s", dest);
        *ret_dest = json_pack("{s:s, s:s, s:o, s:o}", "address", dest, "mac", dmac, "port",
                              holder ? json_string(holder->name) : json_null(), "network",
                              holder ? json_string(holder->network) : json_null());
        if (gw && *ret_dest)
                json_object_set_new(*ret_dest, "via",
                                    json_pack("{s:s, s:s, s:s}", "router", gw->router,
                                              "router_port", gw->port, "mac", gw->mac));
        int w;
        const struct osn_cidr *mine = NULL;
        for (size_t i = 0; is_ip && i < src->n_ips && !mine; i++)
                if (src->ips[i].family == ip.family)
                        mine = &src->ips[i];
        if (is_ip && !mine) {
                osnctl_err("port %s has no IPv%c address to send from; trace to a MAC for an "
                           "L2 trace",
                           src->name, ip.family == AF_INET ? '4' : '6');
                return OSNCTL_PROBLEMS;
        }
        char l4[96];
        if (proto && !is_ip) {
                osnctl_err("tcp, udp and icmp need an IP DEST, not a MAC");
                return OSNCTL_USAGE;
        }
        int r = l4_match(proto, port, ip.family, l4, sizeof(l4));
        if (r)
                return r;
        if (is_ip && !holder && ip.family == AF_INET && !gw) {
                /* Nobody osn knows holds it: the pod would ask for its MAC
                 * first, so trace that ARP request (answered by OVN's ARP
                 * responder, flooded, or out to a physical network). */
                json_object_set_new(*ret_dest, "arp_request", json_true());
                w = snprintf(buf, len,
                             "inport == \"%s\" && eth.src == %s && eth.dst == ff:ff:ff:ff:ff:ff && "
                             "arp.op == 1 && arp.sha == %s && arp.spa == %s && arp.tpa == %s",
                             src->name, smac, smac, osn_addr_format(mine, sip, sizeof(sip)),
                             osn_addr_format(&ip, dip, sizeof(dip)));
        } else if (!is_ip) {
                w = snprintf(buf, len, "inport == \"%s\" && eth.src == %s && eth.dst == %s",
                             src->name, smac, dmac);
        } else {
                const char *v = ip.family == AF_INET ? "ip4" : "ip6";
                w = snprintf(buf, len,
                             "inport == \"%s\" && eth.src == %s && eth.dst == %s && %s.src == %s "
                             "&& %s.dst == %s && ip.ttl == 64%s",
                             src->name, smac, dmac, v, osn_addr_format(mine, sip, sizeof(sip)), v,
                             osn_addr_format(&ip, dip, sizeof(dip)), l4);
        }
        if (w < 0 || (size_t)w >= len) {
                osnctl_err("microflow too long");
                return OSNCTL_PROBLEMS;
        }
        return 0;
}

/* Whether 'port' is a network's DHCP server port, "osn.<network>.dhcp"
 * (osn_dhcp_port_name()); asked of ports no pod holds. */
static bool is_dhcp_port(const char *port)
{
        size_t n = port ? strlen(port) : 0;
        return n > 9 && startswith(port, "osn.") && streq(port + n - 5, ".dhcp");
}

/* The verdict: "delivered to PORT (pod P on N), ..." or "dropped in STAGE
 * (...)", from the report's "result". */
static void verdict_line(const json_t *out, const json_t *unused, FILE *f)
{
        const json_t *v = json_object_get(out, "result");
        const json_t *outputs = json_object_get(v, "outputs");
        const json_t *dest = json_object_get(out, "destination");
        bool arp = json_is_true(json_object_get(dest, "arp_request"));
        bool delivered = streq(json_string_value(json_object_get(v, "verdict")), "delivered");
        const char *addr = json_string_value(json_object_get(dest, "address"));
        /* A routed trace (a layer3 network's other node): its router, and
         * whether ovn-trace took the packet into it. */
        const char *router =
            json_string_value(json_object_get(json_object_get(dest, "via"), "router"));
        bool held = !json_is_null(json_object_get(dest, "port"));
        bool crossed = false;
        size_t i;
        const json_t *o;
        json_array_foreach(json_object_get(v, "datapaths"), i, o)
        {
                if (router && streq(json_string_value(o), router))
                        crossed = true;
        }
        if (router && !held)
                fprintf(f, "no osn port holds %s; ", addr);
        if (router && !delivered) {
                fprintf(f, "sent to router %s, it is ", router);
        } else if (router && !held) {
                /* The router asks for the MAC of an address nobody holds. */
                fprintf(f, "router %s routes it and its ARP request ", router);
                arp = true;
        } else if (arp)
                fprintf(f, "no osn port holds %s; its ARP request ", addr);
        if (delivered) {
                fprintf(f, "%s", arp ? "reaches " : "delivered to ");
                size_t shown = 0, idle = 0;
                json_array_foreach(outputs, i, o)
                {
                        const char *pod = json_string_value(json_object_get(o, "pod"));
                        const char *node = json_string_value(json_object_get(o, "node"));
                        /* A flood reaches every idle spare of the network:
                         * counted, not listed (--json lists them). */
                        if (json_is_true(json_object_get(o, "spare")) &&
                            json_array_size(outputs) > 1) {
                                idle++;
                                continue;
                        }
                        fprintf(f, "%s%s", shown++ ? ", " : "",
                                json_string_value(json_object_get(o, "port")));
                        const char *phys =
                            json_string_value(json_object_get(o, "physical_network"));
                        if (pod || node)
                                fprintf(f, " (pod %s on %s)", pod ? pod : "-", node ? node : "-");
                        else if (json_is_true(json_object_get(o, "spare")))
                                fprintf(f, " (a pool's spare: no pod holds it yet)");
                        else if (phys)
                                fprintf(f, " (out to physical network %s)", phys);
                        else if (is_dhcp_port(json_string_value(json_object_get(o, "port"))))
                                fprintf(f, " (the network's DHCP server: a localport, it answers "
                                           "for its own address only)");
                }
                if (idle)
                        fprintf(f, "%s%zu idle spare port(s) of the pool", shown ? ", and " : "",
                                idle);
                if (router && !arp)
                        fprintf(f, crossed ? ", through router %s" : ", without crossing router %s",
                                router);
                fprintf(f, "\n");
                return;
        }
        const json_t *d = json_object_get(v, "dropped_in");
        const char *reason = json_string_value(json_object_get(d, "reason"));
        fprintf(f, "dropped %s %s (%s table %" JSON_INTEGER_FORMAT " of %s)%s%s\n",
                json_is_true(json_object_get(d, "explicit")) ? "in" : "after",
                json_string_value(json_object_get(d, "stage")),
                json_string_value(json_object_get(d, "pipeline")),
                json_integer_value(json_object_get(d, "table")),
                json_string_value(json_object_get(d, "datapath")), reason ? ": " : "",
                reason ? reason : "");
}

/* ovn-trace(8): northd treats ports that are down differently, so a
 * surprising verdict may come from there. */
static void down_line(const json_t *port, const json_t *out, FILE *f)
{
        fprintf(f,
                "note: port %s is not up (OVN's \"up\" column), and northd treats ports that "
                "are down differently\n",
                json_string_value(port));
}

/* --detail: ovn-trace's own words, after an empty line. */
static void detail_lines(const json_t *out, const json_t *unused, FILE *f)
{
        fprintf(f, "\n%s", json_string_value(json_object_get(out, "trace")));
}

/* "--name=value", malloc'd (NULL on ENOMEM). */
static char *option(const char *name, const char *value)
{
        char *s = NULL;
        return asprintf(&s, "%s%s", name, value) < 0 ? NULL : s;
}

/* Runs ovn-trace --detailed on 'datapath' and 'flow' against the SB DB
 * 'sb' (named by 'source'), with the node config's TLS material for an
 * ssl: remote.  Its output into *ret (malloc'd); on failure prints why and
 * returns OSNCTL_PROBLEMS. */
static int ovn_trace(const struct osnctl *ctl, const char *sb, const char *source,
                     const char *datapath, const char *flow, int64_t deadline, char **ret)
{
        /* Every argument allocated to its size: nothing is cut. */
        _cleanup_free_ char *db = NULL, *key = NULL, *cert = NULL, *ca = NULL;
        char *args[12];
        size_t n = 0;
        if (!(db = option("--db=", sb))) {
                osnctl_err("out of memory");
                return OSNCTL_PROBLEMS;
        }
        args[n++] = "ovn-trace";
        args[n++] = db;
        const struct osn_ssl_opts *ssl = ctl->node ? &ctl->node->ssl : NULL;
        if (ssl && ssl->private_key && ssl->certificate && ssl->ca_cert && startswith(sb, "ssl:")) {
                if (!(key = option("--private-key=", ssl->private_key)) ||
                    !(cert = option("--certificate=", ssl->certificate)) ||
                    !(ca = option("--ca-cert=", ssl->ca_cert))) {
                        osnctl_err("out of memory");
                        return OSNCTL_PROBLEMS;
                }
                args[n++] = key;
                args[n++] = cert;
                args[n++] = ca;
        }
        args[n++] = "--detailed";
        args[n++] = (char *)datapath;
        args[n++] = (char *)flow;
        args[n] = NULL;
        _cleanup_free_ char *text = NULL;
        int status = 0;
        int r = run_captured(args, deadline, &text, &status);
        if (r < 0 || status != 0) {
                osnctl_err("ovn-trace --db=%s (%s) %s '%s': %s", sb, source, datapath, flow,
                           r < 0     ? strerror(-r)
                           : text[0] ? text
                                     : "failed");
                return OSNCTL_PROBLEMS;
        }
        *ret = TAKE_PTR(text);
        return 0;
}

int osnctl_trace(struct osnctl *ctl, int argc, char **argv)
{
        if (argc < 2 || argc > 4) {
                osnctl_err("trace takes POD DEST [tcp PORT|udp PORT|icmp] (see osnctl "
                           "trace --help)");
                return OSNCTL_USAGE;
        }
        _cleanup_inventory_ struct osn_inventory *inv = NULL;
        int r = osnctl_read_inventory(ctl, NULL, &inv);
        if (r)
                return r;
        const struct osn_inv_port *src = find_pod(inv, argv[0], ctl->network);
        if (!src)
                return OSNCTL_PROBLEMS;
        const struct osn_inv_network *net = osn_inventory_network(inv, src->network);
        if (!net || !src->has_mac) {
                osnctl_err("port %s has %s", src->name,
                           !net ? "no osn switch (an orphan)" : "no MAC yet");
                return OSNCTL_PROBLEMS;
        }
        int64_t deadline = osnctl_deadline(ctl);
        /* Across a layer3 network's nodes, the first hop is the gateway. */
        struct osn_cidr dip;
        _cleanup_(gateway_done) struct gateway gw = {0};
        bool routed = osn_cidr_parse(argv[1], false, &dip) == 0 && is_routed(net, &dip);
        if (routed && (r = read_gateway(ctl, net, deadline, &gw)))
                return r;
        char flow[2048];
        _cleanup_json_ json_t *dest = NULL;
        if ((r = microflow(inv, src, argv[1], argc > 2 ? argv[2] : NULL, argc > 3 ? argv[3] : NULL,
                           routed ? &gw : NULL, flow, sizeof(flow), &dest)))
                return r;

        _cleanup_free_ char *sb = NULL;
        const char *source;
        if ((r = osnctl_sb_remote(ctl, deadline, &sb, &source)))
                return r;
        _cleanup_free_ char *text = NULL;
        if ((r = ovn_trace(ctl, sb, source, net->switch_name, flow, deadline, &text)))
                return r;
        _cleanup_free_ char *copy = strdup(text);
        json_t *result = copy ? parse_trace(inv, copy) : NULL;
        _cleanup_json_ json_t *out = json_pack(
            "{s:s, s:s, s:O, s:s, s:s, s:o, s:s}", "port", src->name, "datapath", net->switch_name,
            "destination", dest, "microflow", flow, "sb", sb, "result", result, "trace", text);
        if (!out) {
                osnctl_err("out of memory");
                return OSNCTL_PROBLEMS;
        }
        /* Which of the two ports are down (down_line()). */
        const char *dport = json_string_value(json_object_get(dest, "port"));
        const struct osn_inv_port *dp = dport ? find_pod(inv, dport, NULL) : NULL;
        json_t *down = json_array();
        if (down && !src->up)
                json_array_append_new(down, json_string(src->name));
        if (down && dp && !dp->up)
                json_array_append_new(down, json_string(dp->name));
        json_object_set_new(out, "ports_down", down);
        static const struct osnctl_lines report[] = {
            {NULL, verdict_line},
            {"ports_down", down_line},
            {NULL, detail_lines}, /* --detail only: the last */
        };
        osnctl_render_report(ctl, out, report, ARRAY_SIZE(report) - (ctl->detail ? 0 : 1));
        return streq(json_string_value(json_object_get(result, "verdict")), "delivered")
                   ? 0
                   : OSNCTL_PROBLEMS;
}
