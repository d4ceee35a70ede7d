/* osnctl: see, validate and clean up osn networks, as an operator would.
 *
 * This file only parses the command line and dispatches.  The commands are
 * a table (name, synopsis, help, options, handler), as in iproute2; the
 * handlers live in the command files (osnctl.h), and they and this file
 * stand on ctl.h (errors, node config, deadline, connections), views.h
 * (rows) and output.h (the one renderer): nothing calls back up here.
 */
#include "osnctl.h"

#include <getopt.h>
#include <limits.h>

#include "ctl.h"
#include "log.h"
#include "output.h"

/* --- Options and dispatch --- */

enum {
        OPT_NETWORK = 256,
        OPT_NODE,
        OPT_ORPHANS,
        OPT_FORCE,
        OPT_UNRESPONSIVE,
        OPT_RELEASE_RESERVATIONS,
        OPT_RESERVATIONS_OLDER,
        OPT_OVN_RUNDIR,
        OPT_VERSION,
        OPT_NO_HEADERS,
        OPT_NB,
        OPT_SB,
        OPT_IP,
        OPT_DETAIL,
        OPT_COMPLETION,
        OPT_STRICT,
        OPT_NAMESPACE,
};

/* Every option any command takes; each command lists the ones it accepts. */
static const struct option all_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"json", no_argument, NULL, 'j'},
    {"timeout", required_argument, NULL, 't'},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"network", required_argument, NULL, OPT_NETWORK},
    {"node", required_argument, NULL, OPT_NODE},
    {"dry-run", no_argument, NULL, 'n'},
    {"orphans", no_argument, NULL, OPT_ORPHANS},
    {"force", no_argument, NULL, OPT_FORCE},
    {"unresponsive", required_argument, NULL, OPT_UNRESPONSIVE},
    {"release-reservations", no_argument, NULL, OPT_RELEASE_RESERVATIONS},
    {"reservations-older-than", required_argument, NULL, OPT_RESERVATIONS_OLDER},
    {"ovn-rundir", required_argument, NULL, OPT_OVN_RUNDIR},
    {"version", no_argument, NULL, OPT_VERSION},
    {"output", required_argument, NULL, 'o'},
    {"no-headers", no_argument, NULL, OPT_NO_HEADERS},
    {"nb", required_argument, NULL, OPT_NB},
    {"sb", required_argument, NULL, OPT_SB},
    {"ip", required_argument, NULL, OPT_IP},
    {"detail", no_argument, NULL, OPT_DETAIL},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"namespace", required_argument, NULL, OPT_NAMESPACE},
    {"all-namespaces", no_argument, NULL, 'A'},
    {"completion", required_argument, NULL, OPT_COMPLETION}, /* hidden: build time */
    {0},
};

#define COMMON_OPTIONS "config\0json\0timeout\0verbose\0help\0output\0no-headers\0"
/* Read-only views: --nb lets them run without a node config. */
#define VIEW_OPTIONS COMMON_OPTIONS "nb\0"
/* The views of namespaced things: -n NAMESPACE, -A. */
#define NS_OPTIONS "namespace\0all-namespaces\0"

/* The options that go before or after COMMAND, as --help documents them
 * (the man page and the completion come from the same text). */
static const struct option_doc {
        const char *name; /* the long option */
        const char *flags;
        const char *text; /* lines after the first are indented under it */
} option_docs[] = {
    {"json", "-j, --json", "JSON on stdout instead of text (same facts)"},
    {"output", "-o, --output FORMAT",
     "table (the default), wide (tables with more\ncolumns), json (as --json), or "
     "prometheus\n(status: the node's metrics, docs/metrics.md)"},
    {"no-headers", "    --no-headers",
     "tables without their header line, fields without\ntheir "
     "names (for scripts)"},
    {"nb", "    --nb REMOTE",
     "the OVN NB DB to read (unix:, tcp:, ssl:); the\nread-only views then need no node config"},
    {"sb", "    --sb REMOTE",
     "the OVN SB DB (nodes, trace; default: the node\nconfig's \"sb_remote\", else "
     "ovn-controller's\nexternal_ids:ovn-remote in the local OVS DB)"},
    {"config", "-c, --config FILE", NULL /* with the default path, see print_option() */},
    {"timeout", "-t, --timeout MS",
     "bound on every wait (default: the node config's\nready_timeout_ms, else 20000)"},
    {"namespace", "-n, --namespace NS",
     "only what namespace NS has (networks, attachments,\nreservations; as kubectl)"},
    {"all-namespaces", "-A, --all-namespaces", "every namespace (the default)"},
    {"verbose", "-v, --verbose", "debug logs on stderr"},
    {"help", "-h, --help", "this help"},
};

static void print_option(const struct option_doc *d)
{
        char def[PATH_MAX + 64];
        const char *text = d->text;
        if (!text) {
                snprintf(def, sizeof(def), "the node config (default $OSN_CONFIG, else\n%s)",
                         OSN_NODECONF_DEFAULT_PATH);
                text = def;
        }
        printf("  %-22s", d->flags);
        for (const char *t = text; *t; t++) {
                putchar(*t);
                if (*t == '\n')
                        printf("%24s", "");
        }
        putchar('\n');
}

static const struct command {
        const char *name;
        const char *synopsis;
        const char *summary;
        const char *help;
        const char *options; /* long option names it accepts, NUL-separated, "\0"-terminated */
        bool needs_node;     /* documents that it reads the node config */
        int (*run)(struct osnctl *ctl, int argc, char **argv);
} commands[] = {
    {"networks", "networks", "list every network osn owns",
     "One line per network: a logical switch that carries external_ids:osn/network.\n"

     "  NETWORK      the network (its switch's osn/network: the netconf's \"name\",\n"
     "               or NAMESPACE/NAME for a network of a namespace)\n"
     "  NAMESPACE    whose network it is (the switch's osn/scope): its namespace;\n"
     "               \"cluster(NS,...)\" for an admin's network shared with those\n"
     "               namespaces (\"*\": all); \"none\" for pods the runtime\n"
     "               named no namespace for; \"legacy\" for a network made before\n"
     "               namespaces (-n NS picks those whose pods were in NS)\n"
     "  TOPOLOGY     layer2, localnet or layer3 (osn/topology); a layer3 network is\n"
     "               listed once per node, as NAME@NODE (that node's switch)\n"
     "  SUBNETS      the subnets osn hands addresses from, from the settings osn\n"
     "               stored on the switch\n"
     "               (osn/fingerprint; other_config subnet/ipv6_prefix without it)\n"
     "  EXTERNAL     the physical network and VLAN of its localnet port, or -\n"
     "  MTU          the MTU the NAD asked for, or \"default\" (the node's)\n"
     "  ATTACHMENTS  how many pod interfaces are attached (a VM's reservation is\n"
     "               none: see RESERVATIONS)\n"
     "  SPARES       its port pool: spare logical ports made ahead of ADDs\n"
     "               (external_ids osn/spare=true; not attachments), \"(N warm)\"\n"
     "               when nodes keep N of them plugged (node config warm_ports),\n"
     "               and \"(index: K stale key(s), M unindexed)\" when the pool index\n"
     "               on the switch (osn/spare/UUID keys) and the spares disagree\n"
     "               (gc removes stale keys)\n"
     "  NODES        the nodes those attachments are on (osn/node of the ports)\n"
     "With -o wide also:\n"
     "  RESERVATIONS ports kept for VMs' persistent identities that no pod\n"
     "               holds (osnctl reservations lists them)\n"
     "  USED/FREE    per subnet: addresses the attachments and spares hold /\n"
     "               addresses left (see \"show\")\n"
     "  EXCLUDED     ranges never handed out (see \"show\")\n"
     "  SWITCH       the logical switch\n"
     "  HOST-SUBNETS a layer3 network's: the node's host subnets\n",
     VIEW_OPTIONS NS_OPTIONS, true, osnctl_networks},
    {"attachments", "attachments [--network NAME] [--node NODE] [--ip ADDR]",
     "list pod interfaces attached to osn networks",
     "One line per attachment: a logical switch port that carries\n"
     "external_ids:osn/network (localnet ports, a pool's spares and VMs'\n"
     "reservations excluded: \"networks\" counts the spares, \"show\" lists them;\n"
     "\"reservations\" lists the reservations).  A live migration in flight\n"
     "shows as two rows of one port: the source's pod, container and node, and\n"
     "the target's.\n"
     "  POD          namespace/name of the pod (from CNI_ARGS), or -\n"
     "  CONTAINER    the container id (first 12 characters; --json has it whole)\n"
     "  INTERFACE    the interface name in the pod (CNI_IFNAME)\n"
     "  NODE         the node that attached it\n"
     "  MAC, IPS     what OVN holds for the port (assigned or static)\n"
     "  READY        the port's \"up\" column: ovn-controller has bound it on its\n"
     "               chassis; \"orphan\" when no osn switch holds the port; \"no\n"
     "               (netns gone)\" when, on this node (with a node config), the\n"
     "               pod's netns (external_ids:osn/netns of its OVS interface)\n"
     "               no longer exists: a DEL that never came (gc removes it);\n"
     "               \"(netns unknown)\" when osnctl cannot tell from where it\n"
     "               runs (it does not see the host's network namespaces, or\n"
     "               the local OVS DB): run it on the node itself; \"(migrating\n"
     "               to NODE, AGE)\" on a live migration's source row, \"(migrating\n"
     "               from NODE, AGE)\" on its target's\n"
     "With -o wide also PORT (the logical port, also the OVS iface-id), NAD,\n"
     "NETNS (on this node: the pod's netns and whether it is alive), and\n"
     "IDENTITY (a VM's persistent identity).  --json adds \"identity\" and\n"
     "\"migration\" (role, from_node, to_node, target_pod, target_container_id,\n"
     "target_interface, since: the Unix time the target's ADD began it).\n"
     "Options:\n"
     "  --network NAME   only this network's attachments (exit 1 if there is none)\n"
     "  --node NODE      only the attachments made on this node\n"
     "  --ip ADDR        who holds ADDR (an IP, or a MAC): matched against each\n"
     "                   port's addresses and, for ports an older osn made with\n"
     "                   OVN's IPAM, dynamic_addresses; exit 1 when no attachment\n"
     "                   does (the message names a spare that holds it)\n",
     VIEW_OPTIONS "network\0node\0ip\0" NS_OPTIONS, true, osnctl_attachments},
    {"show", "show NETWORK", "one network with all its attachments",
     "The settings of NETWORK (as \"networks\" shows them, plus the switch name,\n"
     "the ports on its switch that osn did not create and the stored\n"
     "fingerprint), then its attachments as \"attachments\" shows them, then its\n"
     "spares (SPARE, MAC, IPS, and INDEXED: whether the pool index on the switch\n"
     "has its key, or \"warm: NODE\" for a warm port NODE keeps plugged, which\n"
     "is out of the index).  Also:\n"
     "  spares       how many spares its pool holds (see \"networks\")\n"
     "  addresses    per subnet: how many addresses the attachments and spares\n"
     "               hold, and how many are free of its capacity (its size,\n"
     "               minus network and broadcast for IPv4 up to /30, minus the\n"
     "               excluded ranges)\n"
     "  excluded     the ranges never handed out: the netconf's excludeSubnets\n"
     "               (from the fingerprint on the switch) and OVN's\n"
     "               other_config:exclude_ips (networks an older osn made, the\n"
     "               physical gateway)\n"
     "  mtu          the MTU pods get, and where it comes from: the netconf, or\n"
     "               the node config's overlay MTU (underlay - 58) or, for a\n"
     "               network bridged to a physical one, physical MTU; \"node\n"
     "               default\" when there is no node config to read\n"
     "Exits 1 when there is no such network.\n",
     VIEW_OPTIONS, true, osnctl_show},
    {"nodes", "nodes", "every chassis: encap IP, tunnels, nb_cfg, physical networks",
     "One line per chassis of the OVN SB DB (Chassis, Chassis_Private, Encap):\n"
     "  NODE         the chassis name (external_ids:system-id of its OVS)\n"
     "  HOSTNAME     its hostname\n"
     "  ENCAP        encapsulation type and IP\n"
     "  TUNNEL       the tunnel from this node to it, from the local OVS DB's\n"
     "               Interface of type geneve (or vxlan, stt) with that remote_ip:\n"
     "               \"up\"/\"down\" from its bfd_status, else from link_state;\n"
     "               \"local\" for this node; \"none\" when there is no such\n"
     "               interface; \"unknown\" without a local OVS DB\n"
     "  NB_CFG       the NB configuration ovn-controller there has caught up\n"
     "               with (Chassis_Private nb_cfg), against NB_Global's nb_cfg:\n"
     "               \"N (current)\" or \"N (behind M)\"\n"
     "  PHYSNETS     the physical networks it maps (other_config, else\n"
     "               external_ids, ovn-bridge-mappings)\n"
     "With -o wide also NB_CFG_AGE (when it last caught up) and the chassis UUID.\n"
     "Needs the SB DB (see --sb) and, for NB_CFG, the NB DB (--nb or the node\n"
     "config; without it NB_CFG shows ovn-controller's number alone).\n",
     VIEW_OPTIONS "sb\0", true, osnctl_nodes},
    {"trace", "trace POD DEST [PROTO] [--network NAME] [--detail]",
     "where does a packet from POD to DEST go (ovn-trace)",
     "Runs ovn-trace on the SB DB for a packet from POD's logical port:\n"
     "  POD     namespace/name (its attachment; --network picks one when it has\n"
     "          several) or a logical port name\n"
     "  DEST    an IP (an IPv4 or IPv6 packet, TTL 64, to the MAC of the port that\n"
     "          holds it) or a MAC (an Ethernet frame).  For an IPv4 address that\n"
     "          no osn port holds, the ARP request for it is traced instead (an\n"
     "          IPv6 one goes to the broadcast MAC).  On a layer3 network, a DEST\n"
     "          in its cluster CIDR outside POD's host subnet is routed: the packet\n"
     "          goes to POD's gateway (eth.dst = the MAC of its node's router port\n"
     "          osn.NET@NODE.lrp) and through the router osn.NET to the node that\n"
     "          holds DEST (nobody: the trace follows the router's ARP request)\n"
     "  PROTO   tcp PORT or udp PORT (a segment or datagram to PORT), or icmp (an\n"
     "          echo request); without it, a bare IP packet\n"
     "The microflow is inport == \"PORT\" && eth.src == MAC && eth.dst == ...\n"
     "&& ip4.src == IP && ip4.dst == DEST && ip.ttl == 64 (ip6 for IPv6).  A note\n"
     "follows the verdict when the source or destination port is not up\n"
     "(northd treats ports that are down differently).\n"
     "Prints the verdict in one line: \"delivered to PORT (pod NS/NAME on NODE)\"\n"
     "(the port's whole name: ovn-trace shortens a pool port's UUID; a flood's\n"
     "idle pool spares are counted, not listed: --json lists them; \", through\n"
     "router osn.NET\" when it was routed)\n"
     "or \"dropped in STAGE\" (the logical flow table that dropped it; \"dropped\n"
     "after STAGE: WHY\" when the pipeline just ends there), then, with\n"
     "--detail, ovn-trace's whole answer.  Exits 0 when delivered, 1 when\n"
     "dropped or ovn-trace failed.  Needs ovn-trace (package ovn-central) on\n"
     "PATH, and the SB DB (see --sb).\n"
     "Options:\n"
     "  --network NAME   the attachment of POD on this network\n"
     "  --detail         also print ovn-trace's detailed trace\n",
     VIEW_OPTIONS "sb\0network\0detail\0", true, osnctl_trace},
    {"status", "status [--ovn-rundir DIR]", "can this node attach pods?",
     "Probes, each bounded by the timeout:\n"
     "  NB DB               connects to nb_remote (the first remote that answers)\n"
     "                      and checks the server holds OVN_Northbound\n"
     "  local OVS DB        the same for ovs_remote and Open_vSwitch\n"
     "  integration bridge  the bridge named by integration_bridge exists\n"
     "  chassis             external_ids:system-id of the Open_vSwitch row\n"
     "  ovn-controller      asks ovn-controller itself, over its control socket\n"
     "                      (DIR/ovn-controller.PID.ctl, PID from\n"
     "                      DIR/ovn-controller.pid), for \"connection-status\":\n"
     "                      whether its session to the SB DB is up.  Also shows\n"
     "                      the bridge's external_ids:ovn-nb-cfg, the last NB\n"
     "                      configuration whose flows it installed.  (OVS Controller\n"
     "                      rows say nothing here: ovn-controller speaks OpenFlow to\n"
     "                      br-int over a unix socket, without one.)\n"
     "  physical networks   external_ids:ovn-bridge-mappings, and whether the node\n"
     "                      config's default_physical_network is mapped\n"
     "  port pool           the node config's pool_size: how many spare ports each\n"
     "                      network keeps for this node's ADDs (0: off; not a probe)\n"
     "  warm ports          the node config's warm_ports: how many of them this node\n"
     "                      keeps plugged per network it has a pod of (0: off)\n"
     "With -o prometheus: the plugin's metrics textfile (node config\n"
     "\"metrics_file\"; CNI requests by verb and code, latencies, pool claims and\n"
     "misses) as node_exporter serves it, then one gauge\n"
     "osn_node_probe_ok{probe=...} per probe (1 ok, 0 failed, absent when\n"
     "unknown); see docs/metrics.md.\n"
     "Exits 0 when every probe passed, else 1.\n"
     "Options:\n"
     "  --ovn-rundir DIR    ovn-controller's run directory (default $OVN_RUNDIR,\n"
     "                      else /var/run/ovn)\n",
     COMMON_OPTIONS "ovn-rundir\0", true, osnctl_status},
    {"gc",
     "gc [--dry-run] [--orphans] [--node NODE [--force] | --unresponsive SECONDS] "
     "[--release-reservations] [--reservations-older-than SECONDS]",
     "remove what dead pods and lost nodes left",
     "On this node (node config node_name and its local OVS DB):\n"
     "  - every attachment whose pod network namespace is gone (the OVS\n"
     "    interface's external_ids:osn/netns no longer exists, or is no longer a\n"
     "    network namespace): a DEL that never came, e.g. after Multus lost its\n"
     "    cache.  Removed exactly as the plugin's DEL removes it (OVS port, host\n"
     "    veth, logical port; the network's switch with its last attachment);\n"
     "  - every osn network (switch with external_ids:osn/network) that has no\n"
     "    attachment left, guarded by an OVSDB \"wait\" so that an attachment made\n"
     "    meanwhile on any node wins and the switch stays.  A pool's spares\n"
     "    (ports with external_ids osn/spare=true) are not attachments: a network\n"
     "    with only spares left is removed, its spares with it; spares of a\n"
     "    network that stays are kept (they have no OVS port and name no node);\n"
     "  - the stale keys of each pool index (switch external_ids osn/spare/UUID\n"
     "    with no spare port UUID on the switch), guarded so that a spare made\n"
     "    meanwhile keeps its key;\n"
     "  - with --orphans, also this node's logical ports that have no OVS port\n"
     "    here (a crashed ADD).  Not by default: an ADD in progress looks the same.\n"
     "For a node that is gone (--node NODE, or every node found by\n"
     "--unresponsive): every logical port osn holds for it (its addresses with\n"
     "it) and the networks this leaves empty, in the NB only (its OVS cannot be\n"
     "reached).  Whether a node still follows is OVN's own probe: NB_Global.nb_cfg\n"
     "is bumped and each chassis' Chassis_Private.nb_cfg (in the SB DB this node's\n"
     "ovn-controller uses, external_ids:ovn-remote) must follow within the bound.\n"
     "--node refuses a node that follows (10 s bound) unless --force; a probe that\n"
     "cannot conclude (ovn-northd not passing nb_cfg on) removes nothing.\n"
     "Persistent reservations (ports with external_ids osn/reservation=true) are\n"
     "kept unless --release-reservations.\n"
     "Objects without osn's external_ids are never touched; a switch that holds\n"
     "a port osn did not create is kept.  Prints what it removed; exits 1 when\n"
     "a removal failed or a node was refused.  Run it on a node, where the plugin\n"
     "runs (in its network namespace): the host ends of the veths are there.\n"
     "Options:\n"
     "  -n, --dry-run              print what would be removed, remove nothing\n"
     "  --orphans                  see above\n"
     "  --node NODE                NODE is gone: remove its attachments (NB only)\n"
     "  --force                    with --node: even if NODE still follows\n"
     "  --unresponsive SECONDS     treat every node whose ovn-controller does not\n"
     "                             follow within SECONDS (1..600) as gone\n"
     "  --release-reservations     remove persistent reservations too\n"
     "  --reservations-older-than SECONDS\n"
     "                             also release, cluster-wide, every VM identity's\n"
     "                             reservation older than SECONDS (see osnctl\n"
     "                             reservations); by default they are kept until\n"
     "                             released\n",
     COMMON_OPTIONS "dry-run\0orphans\0node\0force\0unresponsive\0release-reservations\0"
                    "reservations-older-than\0",
     true, osnctl_gc},
    {"reservations", "reservations [NETWORK]", "list the addresses kept for VMs' identities",
     "One line per reservation: the logical port of a persistent identity\n"
     "(allowPersistentIPs with args.cni[\"ipam-claim-reference\"] or a requested MAC)\n"
     "whose last attachment was deleted.  Its MAC and addresses wait for the next\n"
     "ADD of that identity, on any node; nobody else gets them.  Kept until\n"
     "released: osn never drops one by itself.\n"
     "  NETWORK      the network\n"
     "  IDENTITY     the claim reference or the MAC\n"
     "  ADDRESSES    MAC and IPs it keeps\n"
     "  AGE          since the DEL that made it a reservation\n"
     "  LAST NODE    where it was attached last\n"
     "  PORT         its logical port (-o wide)\n",
     VIEW_OPTIONS NS_OPTIONS, true, osnctl_reservations},
    {"release", "release [--dry-run] NETWORK IDENTITY", "free a VM identity's reservation",
     "Removes the reservation of IDENTITY on NETWORK (see osnctl reservations):\n"
     "its logical port, so its MAC and addresses go back to the network, and the\n"
     "network's switch when that was its last port.  Refused while the identity\n"
     "is attached somewhere.\n",
     COMMON_OPTIONS "nb\0dry-run\0", true, osnctl_release},
    {"validate", "validate [--strict] FILE|DIR|- ...", "check NAD manifests and CNI configs",
     "Reads NetworkAttachmentDefinition manifests (YAML or JSON, several \"---\"\n"
     "documents per file, \"kind: List\" with items), bare CNI configs (JSON with\n"
     "\"type\") and conflists (JSON with \"plugins\"; the plugins whose type is\n"
     "ovn-kubernetes or ovn-k8s-cni-overlay are validated, the others reported as\n"
     "not osn and skipped).  A directory means its *.yaml, *.yml, *.json, *.conf\n"
     "and *.conflist files; - reads stdin.  Each network is parsed exactly as the\n"
     "plugin parses it, and reported as\n"
     "  FILE:LINE:COLUMN: ok: WHAT: network \"NAME\" (DIALECT dialect)\n"
     "      followed by its normalized settings\n"
     "  FILE:LINE:COLUMN: error: WHAT: KEY: MESSAGE\n"
     "  FILE:LINE:COLUMN: skipped: WHAT: REASON\n"
     "  FILE:LINE:COLUMN: warning: WHAT: MESSAGE\n"
     "A warning (an unknown key close to a known one, a duplicate key, a kind\n"
     "typo, a netAttachDefName that is not the NAD's) is printed before the\n"
     "network it is about.  An error inside spec.config points at its line and\n"
     "column in the manifest (not in the embedded string).  Needs no node config;\n"
     "with -c NODE_CONFIG also checks MTUs and the default physical network\n"
     "against that node.\n"
     "Exits 0 when every network is valid, 1 when any is not (or a file cannot be\n"
     "read or parsed), 3 with --strict when none is invalid but there are\n"
     "warnings.\n"
     "Options:\n"
     "  --strict   warnings fail too (exit 3)\n",
     COMMON_OPTIONS "strict\0", false, osnctl_validate},
};

static bool accepts(const struct command *cmd, const char *opt)
{
        for (const char *o = cmd->options; *o; o += strlen(o) + 1)
                if (streq(o, opt))
                        return true;
        return false;
}

static void command_help(const struct command *cmd, const char *prog)
{
        printf("Usage: %s [OPTIONS] %s\n\n%s %s: %s.\n\n%s\n", prog, cmd->synopsis, prog, cmd->name,
               cmd->summary, cmd->help);
        printf("Common options:\n");
        for (size_t i = 0; i < ARRAY_SIZE(option_docs); i++)
                if (accepts(cmd, option_docs[i].name) &&
                    (cmd->needs_node || !streq(option_docs[i].name, "config")))
                        print_option(&option_docs[i]);
}

static void help(const char *prog)
{
        printf("Usage: %s [OPTIONS] COMMAND [COMMAND OPTIONS] [ARGS]\n\n"
               "See, validate, trace and clean up osn networks (OVN secondary networks for\n"
               "Kubernetes).  Reads the plugin's node config for where the OVN NB DB and\n"
               "the local OVS DB are; with --nb the read-only views (networks,\n"
               "attachments, show, nodes, trace) run anywhere without one.\n\nCommands:\n",
               prog);
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
                if (strlen(commands[i].synopsis) > 44)
                        printf("  %s\n  %-44s %s\n", commands[i].synopsis, "", commands[i].summary);
                else
                        printf("  %-44s %s\n", commands[i].synopsis, commands[i].summary);
        }
        printf("\n\"%s COMMAND --help\" (or \"%s help COMMAND\") tells more.\n\n"
               "Options (before or after COMMAND):\n",
               prog, prog);
        for (size_t i = 0; i < ARRAY_SIZE(option_docs); i++)
                if (!streq(option_docs[i].name, "namespace") &&
                    !streq(option_docs[i].name, "all-namespaces"))
                        print_option(&option_docs[i]);
        printf("      --version         osn's version\n\n"
               "networks, attachments and reservations also take -n NAMESPACE (only\n"
               "what that namespace has) and -A (all namespaces, the default).\n\n"
               "Environment: OSN_CONFIG (node config path), OVN_RUNDIR (status).\n"
               "Exit status: 0 ok, 1 problems found (an invalid network, a probe that\n"
               "failed, a database that cannot be reached, a packet dropped), 2 usage\n"
               "error, 3 warnings only (validate --strict).\n");
}

/* The bash completion, from the same tables as --help: the commands, the
 * options each accepts, and network and pod names from osnctl itself. */
static int print_completion(const char *shell)
{
        if (!streq(shell, "bash")) {
                osnctl_err("--completion: only \"bash\" is supported");
                return OSNCTL_USAGE;
        }
        printf("# bash completion for osnctl, generated by \"osnctl --completion bash\".\n"
               "_osnctl() {\n"
               "    local cur prev words cword cmd i\n"
               "    _init_completion 2>/dev/null || {\n"
               "        cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}\n"
               "        words=(\"${COMP_WORDS[@]}\"); cword=$COMP_CWORD; }\n"
               "    for ((i = 1; i < cword; i++)); do\n"
               "        case ${words[i]} in -*) ;; *) cmd=${words[i]}; break ;; esac\n"
               "    done\n"
               "    case $prev in\n"
               "    --network) COMPREPLY=($(compgen -W \"$(osnctl networks --no-headers "
               "2>/dev/null | awk '{print $1}')\" -- \"$cur\")); return ;;\n"
               "    -o|--output) COMPREPLY=($(compgen -W \"table wide json prometheus\" -- "
               "\"$cur\")); "
               "return ;;\n"
               "    -c|--config) COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n");
        printf("    ");
        bool first = true;
        for (const struct option *o = all_options; o->name; o++)
                if (o->has_arg == required_argument && !streq(o->name, "network") &&
                    !streq(o->name, "output") && !streq(o->name, "config") &&
                    !streq(o->name, "completion")) {
                        printf("%s--%s", first ? "" : "|", o->name);
                        first = false;
                }
        printf(") return ;;\n    esac\n    case $cmd in\n");
        printf("    \"\") COMPREPLY=($(compgen -W \"");
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                printf("%s ", commands[i].name);
        printf("help --help --version");
        for (size_t i = 0; i < ARRAY_SIZE(option_docs); i++)
                if (!streq(option_docs[i].name, "help"))
                        printf(" --%s", option_docs[i].name);
        printf("\" -- \"$cur\")) ;;\n");
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
                const struct command *c = &commands[i];
                printf("    %s) if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"", c->name);
                for (const char *o = c->options; *o; o += strlen(o) + 1)
                        printf("--%s%s", o, o[strlen(o) + 1] ? " " : "");
                printf("\" -- \"$cur\"))");
                if (streq(c->name, "show"))
                        printf("; else COMPREPLY=($(compgen -W \"$(osnctl networks --no-headers "
                               "2>/dev/null | awk '{print $1}')\" -- \"$cur\"))");
                else if (streq(c->name, "trace"))
                        printf("; else COMPREPLY=($(compgen -W \"$(osnctl attachments "
                               "--no-headers 2>/dev/null | awk '$2 != \"-\" {print $2}')\" -- "
                               "\"$cur\"))");
                else if (streq(c->name, "validate"))
                        printf("; else COMPREPLY=($(compgen -f -- \"$cur\"))");
                printf("; fi ;;\n");
        }
        printf("    help) COMPREPLY=($(compgen -W \"");
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                printf("%s%s", i ? " " : "", commands[i].name);
        printf("\" -- \"$cur\")) ;;\n    esac\n}\ncomplete -F _osnctl osnctl\n");
        return 0;
}

static const struct command *find_command(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
                if (streq(commands[i].name, name))
                        return &commands[i];
        return NULL;
}

static int parse_timeout(const char *s, int *ret)
{
        char *end = NULL;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (errno || !end || *end || v < 1 || v > 3600 * 1000)
                return -EINVAL;
        *ret = (int)v;
        return 0;
}

/* Applies global option 'c' (its argument in optarg).  Returns -1 to go
 * on, else an exit code (having said why, or done what --version and
 * --completion do). */
static int apply_global_option(struct osnctl *ctl, int c, bool *ret_help)
{
        switch (c) {
        case 'c':
                ctl->config_path = optarg;
                break;
        case 'j':
                ctl->json = true;
                break;
        case 't':
                if (parse_timeout(optarg, &ctl->timeout_ms) < 0) {
                        osnctl_err("--timeout: \"%s\" is not a number of milliseconds "
                                   "(1..3600000)",
                                   optarg);
                        return OSNCTL_USAGE;
                }
                break;
        case 'v':
                ctl->verbose = true;
                break;
        case 'h':
                *ret_help = true;
                break;
        case OPT_VERSION:
                printf("osnctl (osn) %s\n", OSN_VERSION);
                return 0;
        case 'o':
                if (streq(optarg, "wide")) {
                        ctl->wide = true;
                } else if (streq(optarg, "json")) {
                        ctl->json = true;
                } else if (streq(optarg, "prometheus")) {
                        ctl->prometheus = true;
                } else if (!streq(optarg, "table")) {
                        osnctl_err("-o: \"%s\" is not table, wide, json or prometheus", optarg);
                        return OSNCTL_USAGE;
                }
                break;
        case OPT_NO_HEADERS:
                ctl->no_headers = true;
                break;
        case OPT_NB:
                ctl->nb_remote = optarg;
                break;
        case OPT_SB:
                ctl->sb_remote = optarg;
                break;
        case OPT_COMPLETION:
                return print_completion(optarg);
        }
        return -1;
}

/* Applies the option 'c' of a command (its argument in optarg).  Returns
 * -1 to go on, else an exit code (having said why). */
static int apply_command_option(struct osnctl *ctl, int c, bool *all_namespaces)
{
        switch (c) {
        case OPT_NETWORK:
                ctl->network = optarg;
                break;
        case OPT_NODE:
                ctl->node_name = optarg;
                break;
        case 'n':
                ctl->dry_run = true;
                break;
        case OPT_ORPHANS:
                ctl->orphans = true;
                break;
        case OPT_FORCE:
                ctl->force = true;
                break;
        case OPT_RELEASE_RESERVATIONS:
                ctl->release_reservations = true;
                break;
        case OPT_RESERVATIONS_OLDER: {
                char *end = NULL;
                long long v = strtoll(optarg, &end, 10);
                if (!end || *end || end == optarg || v < 1) {
                        osnctl_err("--reservations-older-than: \"%s\" is not a number "
                                   "of seconds (>= 1)",
                                   optarg);
                        return OSNCTL_USAGE;
                }
                ctl->reservations_older_s = v;
                break;
        }
        case OPT_UNRESPONSIVE: {
                int ms = 0;
                if (parse_timeout(optarg, &ms) < 0 || ms > 600) {
                        osnctl_err("--unresponsive: \"%s\" is not a number of seconds "
                                   "(1..600)",
                                   optarg);
                        return OSNCTL_USAGE;
                }
                ctl->unresponsive_s = ms;
                break;
        }
        case OPT_OVN_RUNDIR:
                ctl->ovn_rundir = optarg;
                break;
        case OPT_IP:
                ctl->ip = optarg;
                break;
        case OPT_DETAIL:
                ctl->detail = true;
                break;
        case OPT_STRICT:
                ctl->strict = true;
                break;
        case OPT_NAMESPACE:
                if (*all_namespaces || !*optarg) {
                        osnctl_err("-n NAMESPACE and -A (all namespaces) do not go "
                                   "together");
                        return OSNCTL_USAGE;
                }
                ctl->namespace = optarg;
                break;
        case 'A':
                if (ctl->namespace) {
                        osnctl_err("-n NAMESPACE and -A (all namespaces) do not go "
                                   "together");
                        return OSNCTL_USAGE;
                }
                *all_namespaces = true;
                break;
        }
        return -1;
}

/* Parses options from argv[0..argc) (argv[0] is the program or command
 * name).  'cmd' NULL: the global options before COMMAND.  Returns -1 to go
 * on, else an exit code. */
static int parse_options(struct osnctl *ctl, const struct command *cmd, int argc, char **argv,
                         int *ret_optind, bool *ret_help)
{
        optind = 0; /* GNU getopt: reinitialise */
        opterr = 0;
        bool all_namespaces = false;
        for (;;) {
                int idx = -1;
                /* -n is --namespace where a command takes it (as in
                 * kubectl), else --dry-run. */
                bool ns_cmd = cmd && accepts(cmd, "namespace");
                int c = getopt_long(argc, argv,
                                    !cmd     ? "+:c:jt:vho:"
                                    : ns_cmd ? ":c:jt:vhn:o:A"
                                             : ":c:jt:vhno:A",
                                    all_options, &idx);
                if (c == -1)
                        break;
                if (c == 'n' && ns_cmd && idx < 0) /* -n, not --dry-run */
                        c = OPT_NAMESPACE;
                const char *name = NULL;
                for (const struct option *o = all_options; o->name; o++)
                        if (o->val == c)
                                name = o->name;
                if (c == '?' || c == ':') {
                        const char *bad = argv[optind - 1];
                        osnctl_err("%s %s%s", c == ':' ? "missing argument for" : "unknown option",
                                   bad, cmd ? "" : " (options of a command go after it)");
                        return OSNCTL_USAGE;
                }
                if (cmd && name && !accepts(cmd, name)) {
                        osnctl_err("%s does not take --%s (see osnctl %s --help)", cmd->name, name,
                                   cmd->name);
                        return OSNCTL_USAGE;
                }
                static const int global[] = {'c',    'j',    't',           'v',
                                             'h',    'o',    OPT_VERSION,   OPT_NO_HEADERS,
                                             OPT_NB, OPT_SB, OPT_COMPLETION};
                bool is_global = false;
                for (size_t g = 0; g < ARRAY_SIZE(global); g++)
                        is_global |= global[g] == c;
                if (!cmd && !is_global) {
                        osnctl_err("--%s goes after the command that takes it", name);
                        return OSNCTL_USAGE;
                }
                int r = is_global ? apply_global_option(ctl, c, ret_help)
                                  : apply_command_option(ctl, c, &all_namespaces);
                if (r >= 0)
                        return r;
        }
        *ret_optind = optind;
        return -1;
}

int main(int argc, char **argv)
{
        struct osnctl ctl = {.prog = "osnctl"};
        bool want_help = false;
        int first = 0;
        int r = parse_options(&ctl, NULL, argc, argv, &first, &want_help);
        if (r >= 0)
                return r;
        if (first >= argc) {
                if (want_help) {
                        help(ctl.prog);
                        return 0;
                }
                osnctl_err("missing COMMAND (osnctl --help lists them)");
                return OSNCTL_USAGE;
        }
        const char *name = argv[first];
        if (streq(name, "help")) {
                const struct command *c = first + 1 < argc ? find_command(argv[first + 1]) : NULL;
                if (first + 1 < argc && !c) {
                        osnctl_err("unknown command \"%s\" (osnctl --help lists them)",
                                   argv[first + 1]);
                        return OSNCTL_USAGE;
                }
                if (c)
                        command_help(c, ctl.prog);
                else
                        help(ctl.prog);
                return 0;
        }
        const struct command *cmd = find_command(name);
        if (!cmd) {
                osnctl_err("unknown command \"%s\" (osnctl --help lists them)", name);
                return OSNCTL_USAGE;
        }
        int cargc = argc - first, rest = 0;
        char **cargv = argv + first;
        r = parse_options(&ctl, cmd, cargc, cargv, &rest, &want_help);
        if (r >= 0)
                return r;
        if (want_help) {
                command_help(cmd, ctl.prog);
                return 0;
        }
        /* Global options given before COMMAND must suit it too. */
        if ((ctl.nb_remote && !accepts(cmd, "nb")) || (ctl.sb_remote && !accepts(cmd, "sb"))) {
                osnctl_err("%s does not take --%s (see osnctl %s --help)", cmd->name,
                           ctl.nb_remote && !accepts(cmd, "nb") ? "nb" : "sb", cmd->name);
                return OSNCTL_USAGE;
        }
        if (ctl.prometheus && cmd->run != osnctl_status) {
                osnctl_err("-o prometheus is for status only");
                return OSNCTL_USAGE;
        }
        osnctl_output_configure(&ctl);
        osn_log_open(NULL, ctl.verbose ? OSN_LOG_DEBUG : OSN_LOG_WARN);
        r = cmd->run(&ctl, cargc - rest, cargv + rest);
        osn_nodeconf_free(ctl.node);
        osn_log_close();
        return r;
}
