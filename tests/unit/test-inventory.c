/* test-inventory: inventory.c against a real ovsdb-server with the OVN
 * Northbound schema, started in a temporary directory (no root needed) and
 * always killed at exit.  The NB contents are made with ovn-nbctl the way
 * ovn.c makes them, plus what osn must not take for its own: a foreign
 * switch, a look-alike switch without osn's ids, a foreign port on an osn
 * switch.  Also osn_unixctl_call() against that ovsdb-server's control
 * socket.  Exits 77 when ovsdb-server, ovn-nbctl or the schema is missing.
 * The queries for osnctl (who holds an address, exclusions, used/free per
 * subnet, netns state) are checked on what was read and on inventories
 * built here in memory (they are pure functions).  Then port pools
 * (issue 13): spares, a claimed pool port, a damaged pool index, made by
 * hand as the pool contract has them, read and classified, and remove.h's
 * plans and removals on them (and a plan as osnctl gc --json prints it).
 */
#include "inventory.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "ovn.h"
#include "remove.h"
#include "testlib.h"
#include "testserver.h"

static const char *tmpdir;
static char sock[512], ctl_path[512];

/* ovn-nbctl --db=unix:SOCK ARGS... (NULL-terminated); must succeed. */
static void nbctl(const char *first, ...)
{
        char *argv[64];
        char dbarg[600];
        size_t n = 0;
        snprintf(dbarg, sizeof(dbarg), "--db=unix:%s", sock);
        argv[n++] = "ovn-nbctl";
        argv[n++] = dbarg;
        va_list ap;
        va_start(ap, first);
        for (const char *a = first; a && n + 1 < ARRAY_SIZE(argv); a = va_arg(ap, const char *))
                argv[n++] = (char *)a;
        va_end(ap);
        argv[n] = NULL;
        REQUIRE(testserver_run(argv) == 0);
}

static void start_server(void)
{
        testserver_start_nb("nb", NULL);
        snprintf(sock, sizeof(sock), "%s/nb.sock", tmpdir);
        snprintf(ctl_path, sizeof(ctl_path), "%s/nb.ctl", tmpdir);
}

/* The NB contents, as ovn.c writes them (and some it must not claim). */
static void populate(void)
{
        /* net1: fingerprint, two attachments on two nodes, one foreign port. */
        nbctl("ls-add", "osn.net1", "--", "set", "Logical_Switch", "osn.net1",
              "external_ids:\"osn/network\"=net1", "external_ids:\"osn/topology\"=layer2",
              "external_ids:\"osn/fingerprint\"=\"topology=layer2 subnets=10.1.0.0/24,fd00:1::/64 "
              "excludes=10.1.0.0/30 mtu=1400 external=no\"",
              "other_config:subnet=10.1.0.0/24", NULL);
        nbctl("lsp-add", "osn.net1", "osn.net1.cid-a.net1", "--", "set", "Logical_Switch_Port",
              "osn.net1.cid-a.net1", "addresses=\"0a:00:00:00:00:01 dynamic\"",
              "dynamic_addresses=\"0a:00:00:00:00:01 10.1.0.5 fd00:1::5\"", "up=true",
              "external_ids:\"osn/network\"=net1", "external_ids:\"osn/container-id\"=cid-a",
              "external_ids:\"osn/ifname\"=net1", "external_ids:\"osn/node\"=n2",
              "external_ids:\"osn/pod-namespace\"=ns", "external_ids:\"osn/pod-name\"=a",
              "external_ids:\"osn/pod-uid\"=\"\"", NULL);
        nbctl("lsp-add", "osn.net1", "osn.net1.cid-b.eth1", "--", "set", "Logical_Switch_Port",
              "osn.net1.cid-b.eth1", "addresses=\"0a:00:00:00:00:02 10.1.0.6\"", "up=false",
              "external_ids:\"osn/network\"=net1", "external_ids:\"osn/container-id\"=cid-b",
              "external_ids:\"osn/ifname\"=eth1", "external_ids:\"osn/node\"=n1", NULL);
        nbctl("lsp-add", "osn.net1", "intruder", NULL);
        /* Its DHCP server's port: infrastructure, no attachment. */
        nbctl("lsp-add", "osn.net1", "osn.net1.dhcp", "--", "set", "Logical_Switch_Port",
              "osn.net1.dhcp", "type=localport", "addresses=\"0a:59:00:00:00:01 10.1.0.1\"",
              "external_ids:\"osn/network\"=net1", NULL);

        /* net2: no fingerprint (other_config only), a localnet port. */
        nbctl("ls-add", "osn.net2", "--", "set", "Logical_Switch", "osn.net2",
              "external_ids:\"osn/network\"=net2", "other_config:subnet=10.2.0.0/16",
              "other_config:ipv6_prefix=\"fd00:2::\"", NULL);
        nbctl("lsp-add", "osn.net2", "osn.net2.localnet", "--", "set", "Logical_Switch_Port",
              "osn.net2.localnet", "type=localnet", "addresses=unknown",
              "options:network_name=physA", "tag_request=42", "external_ids:\"osn/network\"=net2",
              NULL);
        nbctl("lsp-add", "osn.net2", "osn.net2.cid-c.net1", "--", "set", "Logical_Switch_Port",
              "osn.net2.cid-c.net1", "addresses=\"0a:00:00:00:00:03 10.2.3.4\"",
              "external_ids:\"osn/network\"=net2", "external_ids:\"osn/container-id\"=cid-c",
              "external_ids:\"osn/ifname\"=net1", "external_ids:\"osn/node\"=n1", NULL);

        /* Not osn's: a foreign switch (holding a stray osn-looking port),
         * and a switch named like one of ours without the ids. */
        nbctl("ls-add", "foreign", "--", "lsp-add", "foreign", "fport", NULL);
        nbctl("lsp-add", "foreign", "stray", "--", "set", "Logical_Switch_Port", "stray",
              "external_ids:\"osn/network\"=zzz", "addresses=\"0a:00:00:00:00:09 10.9.9.9\"", NULL);
        nbctl("ls-add", "osn.look", "--", "lsp-add", "osn.look", "look-port", NULL);
}

static const char *cidr(const struct osn_cidr *c)
{
        static char buf[4][OSN_CIDR_STRLEN];
        static int k;
        return osn_cidr_format(c, buf[k++ % 4], OSN_CIDR_STRLEN);
}

static const struct osn_inv_port *port(const struct osn_inventory *inv, const char *name)
{
        for (size_t i = 0; i < inv->n_ports; i++)
                if (streq(inv->ports[i].name, name))
                        return &inv->ports[i];
        return NULL;
}

static struct osn_inventory *read_inv(struct osn_ovsdb *nb, const char *network, const char *node)
{
        struct osn_inv_filter f = {network, node};
        struct osn_inventory *inv = NULL;
        struct osn_error err = {0};
        int r = osn_inventory_read(nb, &f, osn_now_ms() + 5000, &inv, &err);
        REQUIRE(r == 0);
        return inv;
}

static void test_all(struct osn_ovsdb *nb)
{
        struct osn_inventory *inv = read_inv(nb, NULL, NULL);
        CHECK(inv->n_networks == 2, "%zu networks", inv->n_networks);
        if (inv->n_networks == 2) {
                const struct osn_inv_network *a = &inv->networks[0], *b = &inv->networks[1];
                CHECK(streq(a->name, "net1") && streq(b->name, "net2"), "sorted: %s %s", a->name,
                      b->name);
                CHECK(streq(a->switch_name, "osn.net1") && streq(a->topology, "layer2"),
                      "net1 switch %s topology %s", a->switch_name, a->topology);
                CHECK(a->n_subnets == 2 && streq(cidr(&a->subnets[0]), "10.1.0.0/24") &&
                          streq(cidr(&a->subnets[1]), "fd00:1::/64"),
                      "net1 subnets from the fingerprint: %zu", a->n_subnets);
                CHECK(a->n_excludes == 1 && streq(cidr(&a->excludes[0]), "10.1.0.0/30"),
                      "net1 excludes");
                CHECK(a->mtu_known && a->mtu == 1400, "net1 mtu %u", a->mtu);
                CHECK(!a->external && !a->physical_network && !a->localnet_port, "net1 internal");
                CHECK(a->n_attachments == 2 && a->n_foreign == 1 && !port(inv, "osn.net1.dhcp"),
                      "net1: %zu attachments, %zu "
                      "foreign",
                      a->n_attachments, a->n_foreign);
                CHECK(a->n_nodes == 2 && streq(a->nodes[0], "n1") && streq(a->nodes[1], "n2"),
                      "net1 nodes sorted");
                CHECK(b->n_subnets == 2 && streq(cidr(&b->subnets[0]), "10.2.0.0/16") &&
                          streq(cidr(&b->subnets[1]), "fd00:2::/64"),
                      "net2 subnets from other_config: %zu", b->n_subnets);
                CHECK(!b->mtu_known && !b->fingerprint, "net2: no fingerprint");
                CHECK(b->external && streq(b->physical_network, "physA") && b->vlan == 42 &&
                          streq(b->localnet_port, "osn.net2.localnet"),
                      "net2 localnet: %s vlan %u", b->physical_network, b->vlan);
                CHECK(b->n_attachments == 1 && b->n_foreign == 0 && b->n_nodes == 1,
                      "net2: %zu attachments", b->n_attachments);
        }
        CHECK(inv->n_ports == 4, "%zu ports (3 attachments and 1 orphan)", inv->n_ports);
        const struct osn_inv_port *a = port(inv, "osn.net1.cid-a.net1");
        const struct osn_inv_port *b = port(inv, "osn.net1.cid-b.eth1");
        const struct osn_inv_port *s = port(inv, "stray");
        CHECK(a && a->has_mac && a->mac[5] == 1 && a->n_ips == 2 &&
                  streq(cidr(&a->ips[0]), "10.1.0.5/24") &&
                  streq(cidr(&a->ips[1]), "fd00:1::5/64") && a->up && !a->orphan,
              "port a: dynamic addresses with the subnets' prefixes, up");
        CHECK(a && streq(a->pod_namespace, "ns") && streq(a->pod_name, "a") && !a->pod_uid &&
                  streq(a->container_id, "cid-a") && streq(a->ifname, "net1") &&
                  streq(a->node, "n2"),
              "port a: its pod (an empty uid is not recorded)");
        CHECK(b && b->n_ips == 1 && streq(cidr(&b->ips[0]), "10.1.0.6/24") && !b->up &&
                  !b->pod_name,
              "port b: static address, not up, no pod");
        CHECK(s && s->orphan && s->n_ips == 1 && streq(cidr(&s->ips[0]), "10.9.9.9/32"),
              "a port with osn ids on a foreign switch is an orphan");
        CHECK(inv->n_ports == 4 && streq(inv->ports[0].name, "osn.net1.cid-b.eth1") &&
                  streq(inv->ports[1].name, "osn.net1.cid-a.net1") &&
                  streq(inv->ports[2].name, "osn.net2.cid-c.net1") &&
                  streq(inv->ports[3].name, "stray"),
              "ports sorted by network, then pod");
        CHECK(!port(inv, "intruder") && !port(inv, "fport") && !port(inv, "look-port") &&
                  !port(inv, "osn.net2.localnet"),
              "foreign and localnet ports are not attachments");
        CHECK(osn_inventory_network(inv, "net2") == &inv->networks[1], "lookup by name");
        CHECK(!osn_inventory_network(inv, "look"), "no look-alike network");
        osn_inventory_free(inv);
}

static void test_filters(struct osn_ovsdb *nb)
{
        struct osn_inventory *inv = read_inv(nb, "net1", NULL);
        CHECK(inv->n_networks == 1 && inv->n_ports == 2 && inv->networks[0].n_foreign == 1,
              "--network net1: %zu networks, %zu ports", inv->n_networks, inv->n_ports);
        osn_inventory_free(inv);

        inv = read_inv(nb, NULL, "n1");
        CHECK(inv->n_ports == 2 && port(inv, "osn.net1.cid-b.eth1") &&
                  port(inv, "osn.net2.cid-c.net1"),
              "--node n1: its two ports, got %zu", inv->n_ports);
        const struct osn_inv_network *n2 = osn_inventory_network(inv, "net2");
        CHECK(n2 && n2->external && streq(n2->physical_network, "physA") && n2->vlan == 42,
              "--node keeps the localnet facts");
        const struct osn_inv_network *n1 = osn_inventory_network(inv, "net1");
        CHECK(n1 && n1->n_attachments == 1 && n1->n_foreign == 0 && n1->n_nodes == 1,
              "--node counts that node's attachments and claims no foreign ports");
        osn_inventory_free(inv);

        inv = read_inv(nb, "nosuch", NULL);
        CHECK(inv->n_networks == 0 && inv->n_ports == 0, "an unknown network: empty");
        osn_inventory_free(inv);
}

static struct osn_cidr ip(const char *s)
{
        struct osn_cidr c;
        REQUIRE(osn_cidr_parse(s, strchr(s, '/') != NULL, &c) == 0);
        return c;
}

/* On what osn_inventory_read() returned: dynamic_addresses of an older
 * osn's port, static addresses, and the usage of both networks. */
static void test_queries_read(struct osn_ovsdb *nb)
{
        struct osn_inventory *inv = read_inv(nb, NULL, NULL);
        const struct osn_inv_port *a = port(inv, "osn.net1.cid-a.net1");
        const struct osn_inv_port *b = port(inv, "osn.net1.cid-b.eth1");
        struct osn_cidr x = ip("10.1.0.5"), y = ip("fd00:1::5"), z = ip("10.1.0.6");
        REQUIRE(a && b);
        CHECK(osn_inv_port_holds_ip(a, &x) && osn_inv_port_holds_ip(a, &y),
              "port a holds its dynamic_addresses (v4 and v6)");
        CHECK(!osn_inv_port_holds_ip(a, &z) && osn_inv_port_holds_ip(b, &z),
              "10.1.0.6 is b's (static), not a's");
        CHECK(streq(a->dynamic_addresses, "0a:00:00:00:00:01 10.1.0.5 fd00:1::5") &&
                  streq(a->static_addresses, "0a:00:00:00:00:01 dynamic"),
              "both columns kept: %s | %s", a->static_addresses, a->dynamic_addresses);
        uint8_t mac[6] = {0x0a, 0, 0, 0, 0, 2};
        CHECK(osn_inv_port_holds_mac(b, mac) && !osn_inv_port_holds_mac(a, mac), "MAC of b");

        struct osn_inv_usage u[4];
        const struct osn_inv_network *n1 = osn_inventory_network(inv, "net1");
        size_t k = osn_inv_subnet_usage(inv, n1, u, 4);
        /* 10.1.0.0/24: 256 - network, broadcast - 10.1.0.0/30 (holds the
         * network address: counted once) = 251; a and b hold 2. */
        CHECK(k == 2 && u[0].capacity == 251 && u[0].used == 2 && u[0].free == 249 && !u[0].huge,
              "net1 v4: %zu subnets, capacity %" PRIu64 " used %" PRIu64 " free %" PRIu64, k,
              u[0].capacity, u[0].used, u[0].free);
        CHECK(k == 2 && u[1].huge && u[1].used == 1 && u[1].free == UINT64_MAX,
              "net1 v6 /64: huge, 1 used");
        k = osn_inv_subnet_usage(inv, osn_inventory_network(inv, "net2"), u, 4);
        /* net2 is external: its first address is the physical gateway. */
        CHECK(k == 2 && u[0].capacity == 65533 && u[0].used == 1,
              "net2 (other_config) 10.2.0.0/16: capacity %" PRIu64 " used %" PRIu64, u[0].capacity,
              u[0].used);
        osn_inventory_free(inv);
}

/* A network and ports in memory. */
static void test_queries_memory(void)
{
        struct osn_inv_network n = {.name = "m"};
        n.subnets[0] = ip("10.3.0.0/28");
        n.subnets[1] = ip("10.4.0.0/31");
        n.subnets[2] = ip("10.4.0.9/32");
        n.subnets[3] = ip("fd00:3::/120");
        n.n_subnets = 4;
        n.excludes[0] = ip("10.3.0.0/30");
        n.excludes[1] = ip("fd00:3::/124");
        n.n_excludes = 2;
        char excl[] = "10.3.0.0..10.3.0.3 10.3.0.9 junk 10.3.0.20..10.3.0.10 10.3.0.12..10.3.0.14";
        n.exclude_ips = excl;

        struct osn_inv_range r[OSN_INV_MAX_RANGES];
        size_t k = osn_inv_exclusions(&n, r, OSN_INV_MAX_RANGES);
        CHECK(k == 4,
              "exclusions: the 2 of the fingerprint, then 10.3.0.9 and 10.3.0.12-14 "
              "(a duplicate, a reversed range and junk skipped): %zu",
              k);
        CHECK(k == 4 && !r[0].from_ovn && streq(cidr(&r[0].first), "10.3.0.0/32") &&
                  streq(cidr(&r[0].last), "10.3.0.3/32") && r[2].from_ovn &&
                  streq(cidr(&r[2].first), "10.3.0.9/32") &&
                  streq(cidr(&r[2].last), "10.3.0.9/32") && streq(cidr(&r[3].last), "10.3.0.14/32"),
              "exclusion ranges and their sources");
        CHECK(osn_inv_exclusions(&n, r, 1) == 1, "bounded by max");

        struct osn_inv_port ports[4] = {
            {.name = "p1", .network = "m"},
            {.name = "p2", .network = "m"},
            {.name = "p3", .network = "other"},
            {.name = "p4", .network = "m"},
        };
        ports[0].ips[0] = ip("10.3.0.5/28");
        ports[0].ips[1] = ip("10.3.0.200/32"); /* outside every subnet */
        ports[0].n_ips = 2;
        ports[1].ips[0] = ip("10.3.0.5/28"); /* the same address twice: counted once */
        ports[1].ips[1] = ip("10.3.0.6/28");
        ports[1].ips[2] = ip("fd00:3::1/120"); /* inside an exclusion: held anyway */
        ports[1].n_ips = 3;
        ports[2].ips[0] = ip("10.3.0.7/28"); /* another network's */
        ports[2].n_ips = 1;
        ports[3].ips[0] = ip("10.4.0.9/32");
        ports[3].n_ips = 1;
        struct osn_inventory inv = {.networks = &n, .n_networks = 1, .ports = ports, .n_ports = 4};
        struct osn_inv_usage u[8];
        k = osn_inv_subnet_usage(&inv, &n, u, 8);
        REQUIRE(k == 4);
        /* /28: 16 - {0..3} - 9 - {12..14} - broadcast 15 = 7 (exclude_ips
         * count while the network is not migrated: northd honours them). */
        CHECK(u[0].capacity == 7 && u[0].used == 2 && u[0].free == 5,
              "/28 with exclusions: capacity %" PRIu64 " used %" PRIu64 " free %" PRIu64,
              u[0].capacity, u[0].used, u[0].free);
        CHECK(u[1].capacity == 2 && u[1].used == 0, "/31: both addresses usable (%" PRIu64 ")",
              u[1].capacity);
        CHECK(u[2].capacity == 1 && u[2].used == 1 && u[2].free == 0, "/32: one, held");
        CHECK(u[3].capacity == 240 && u[3].used == 1 && u[3].free == 240,
              "IPv6 /120 minus a /124 (the one held is inside it): capacity %" PRIu64
              " used %" PRIu64,
              u[3].capacity, u[3].used);

        /* More held than there is room for: free is 0, not a wrap-around. */
        struct osn_inv_network full = {.name = "m", .n_subnets = 1, .n_excludes = 1};
        full.subnets[0] = ip("10.3.0.0/30");
        full.excludes[0] = ip("10.3.0.0/30");
        k = osn_inv_subnet_usage(&inv, &full, u, 8);
        CHECK(k == 1 && u[0].capacity == 0 && u[0].used == 0 && u[0].free == 0, "all excluded");
        ports[3].ips[0] = ip("10.3.0.1/30");
        k = osn_inv_subnet_usage(&inv, &full, u, 8);
        CHECK(k == 1 && u[0].capacity == 0 && u[0].used == 1 && u[0].free == 0,
              "a static address in an excluded range: used 1, free 0");
        CHECK(osn_inv_subnet_usage(&inv, &n, u, 2) == 2, "bounded by max");
}

/* --- Port pools --- */

/* One NB transaction that must succeed; its result. */
static json_t *nb_tx(struct osn_ovsdb *nb, json_t *ops)
{
        json_t *res = NULL;
        struct osn_error err = {0};
        int r = osn_ovsdb_transact(nb, OSN_NB_DB, ops, osn_now_ms() + 5000, &res, &err);
        if (r < 0)
                fprintf(stderr, "transaction failed: %s\n", err.msg);
        REQUIRE(r == 0);
        return res;
}

static json_t *switch_where(const char *net)
{
        char name[128];
        snprintf(name, sizeof(name), "osn.%s", net);
        return json_pack("[o]", osn_ovsdb_cond("name", "==", json_string(name)));
}

/* Adds index key osn/spare/<u> = 'value' to network 'net''s switch. */
static void add_index_key(struct osn_ovsdb *nb, const char *net, const char *u, const char *value)
{
        char key[128];
        snprintf(key, sizeof(key), "%s%s", OSN_EXT_SPARE_INDEX, u);
        const char *kv[] = {key, value, NULL};
        json_decref(nb_tx(nb, json_pack("[{s:s, s:s, s:o, s:[[s, s, o]]}]", "op", "mutate", "table",
                                        "Logical_Switch", "where", switch_where(net), "mutations",
                                        "external_ids", "insert", osn_ovsdb_map(kv))));
}

/* A port on network 'net''s switch named as a pool's ("osn.NET.spare.U",
 * U its uuid), with addresses 'addr' and external_ids 'kv' (pairs,
 * NULL-terminated); indexed when 'indexed'.  Its uuid, in 'uuid'. */
static void add_pool_port(struct osn_ovsdb *nb, const char *net, const char *addr,
                          const char *const *kv, bool indexed, char uuid[37])
{
        json_t *res = nb_tx(
            nb,
            json_pack("[{s:s, s:s, s:s, s:{s:s, s:s, s:o}}, {s:s, s:s, s:o, s:[[s, s, o]]}]", "op",
                      "insert", "table", "Logical_Switch_Port", "uuid-name", "p", "row", "name",
                      addr, "addresses", addr, "external_ids", osn_ovsdb_map(kv), "op", "mutate",
                      "table", "Logical_Switch", "where", switch_where(net), "mutations", "ports",
                      "insert", json_pack("[s, [o]]", "set", osn_ovsdb_named_uuid("p"))));
        const char *u =
            json_string_value(json_array_get(json_object_get(json_array_get(res, 0), "uuid"), 1));
        REQUIRE(u);
        snprintf(uuid, 37, "%s", u);
        json_decref(res);
        char name[256];
        snprintf(name, sizeof(name), "osn.%s.spare.%s", net, uuid);
        json_decref(nb_tx(nb, json_pack("[{s:s, s:s, s:[o], s:{s:s}}]", "op", "update", "table",
                                        "Logical_Switch_Port", "where",
                                        osn_ovsdb_cond("_uuid", "==", osn_ovsdb_uuid(uuid)), "row",
                                        "name", name)));
        if (indexed)
                add_index_key(nb, net, uuid, addr);
}

/* The uuids of the pool ports made by populate_pools(). */
static char s1[37], s2[37], s3[37], s4[37], claimed[37], both[37];
#define NO_SUCH_UUID "00000000-0000-0000-0000-000000000001"

/* net3: spare s1 (indexed), spare s2 (not), a claimed pool port (its key
 * left behind: stale), a port that says spare but names a holder (an
 * attachment), and two more stale keys.  net4: a localnet port and spares
 * s3, s4, both indexed: no attachment. */
static void populate_pools(struct osn_ovsdb *nb)
{
        nbctl("ls-add", "osn.net3", "--", "set", "Logical_Switch", "osn.net3",
              "external_ids:\"osn/network\"=net3", "external_ids:\"osn/topology\"=layer2",
              "external_ids:\"osn/ipam\"=claims",
              "external_ids:\"osn/fingerprint\"=\"topology=layer2 subnets=10.3.0.0/24 "
              "mtu=1400 external=no\"",
              NULL);
        add_pool_port(nb, "net3", "0a:00:00:00:03:01 10.3.0.11",
                      (const char *const[]){"osn/network", "net3", "osn/spare", "true",
                                            "osn/ip/10.3.0.11", "net3", NULL},
                      true, s1);
        add_pool_port(nb, "net3", "0a:00:00:00:03:02 10.3.0.12",
                      (const char *const[]){"osn/network", "net3", "osn/spare", "true", NULL},
                      false, s2);
        add_pool_port(nb, "net3", "0a:00:00:00:03:03 10.3.0.13",
                      (const char *const[]){"osn/network", "net3", "osn/container-id", "cid-p",
                                            "osn/ifname", "net1", "osn/node", "n1",
                                            "osn/pod-namespace", "ns", "osn/pod-name", "p", NULL},
                      false, claimed);
        add_index_key(nb, "net3", claimed, "0a:00:00:00:03:03 10.3.0.13");
        add_pool_port(nb, "net3", "0a:00:00:00:03:04 10.3.0.14",
                      (const char *const[]){"osn/network", "net3", "osn/spare", "true",
                                            "osn/container-id", "cid-q", "osn/ifname", "net1",
                                            "osn/node", "n2", NULL},
                      false, both);
        add_index_key(nb, "net3", NO_SUCH_UUID, "0a:00:00:00:03:05 10.3.0.15");
        add_index_key(nb, "net3", "junk", "x");

        nbctl("ls-add", "osn.net4", "--", "set", "Logical_Switch", "osn.net4",
              "external_ids:\"osn/network\"=net4", "external_ids:\"osn/topology\"=localnet",
              "external_ids:\"osn/fingerprint\"=\"topology=localnet subnets=10.4.0.0/24 "
              "external=yes\"",
              NULL);
        nbctl("lsp-add", "osn.net4", "osn.net4.localnet", "--", "set", "Logical_Switch_Port",
              "osn.net4.localnet", "type=localnet", "addresses=unknown",
              "options:network_name=physA", "external_ids:\"osn/network\"=net4", NULL);
        add_pool_port(nb, "net4", "0a:00:00:00:04:01 10.4.0.11",
                      (const char *const[]){"osn/network", "net4", "osn/spare", "true", NULL}, true,
                      s3);
        add_pool_port(nb, "net4", "0a:00:00:00:04:02 10.4.0.12",
                      (const char *const[]){"osn/network", "net4", "osn/spare", "true", NULL}, true,
                      s4);
}

static const struct osn_inv_port *spare(const struct osn_inventory *inv, const char *uuid)
{
        for (size_t i = 0; i < inv->n_spares; i++)
                if (streq(inv->spares[i].uuid, uuid))
                        return &inv->spares[i];
        return NULL;
}

static const struct osn_inv_port *port_by_uuid(const struct osn_inventory *inv, const char *uuid)
{
        for (size_t i = 0; i < inv->n_ports; i++)
                if (streq(inv->ports[i].uuid, uuid))
                        return &inv->ports[i];
        return NULL;
}

static bool stale(const struct osn_inv_network *n, const char *u)
{
        char key[128];
        snprintf(key, sizeof(key), "%s%s", OSN_EXT_SPARE_INDEX, u);
        for (size_t i = 0; n && i < n->n_stale_index; i++)
                if (streq(n->stale_index[i], key))
                        return true;
        return false;
}

/* What every read must say of net3's pool, whatever the filter. */
static void check_net3_pool(const struct osn_inventory *inv, const char *what)
{
        const struct osn_inv_network *n = osn_inventory_network(inv, "net3");
        CHECK(n && n->n_spares == 2 && n->n_unindexed == 1, "%s: net3 has 2 spares, 1 unindexed",
              what);
        CHECK(n && n->n_stale_index == 3 && stale(n, claimed) && stale(n, NO_SUCH_UUID) &&
                  stale(n, "junk") && !stale(n, s1),
              "%s: net3's stale index keys: the claimed port's, a missing uuid's, junk", what);
        const struct osn_inv_port *a = spare(inv, s1), *b = spare(inv, s2);
        CHECK(a && a->spare && a->indexed && !a->orphan && streq(a->network, "net3") &&
                  a->n_ips == 1 && streq(cidr(&a->ips[0]), "10.3.0.11/24") && !a->node,
              "%s: spare s1: indexed, its address with its subnet's prefix, no node", what);
        CHECK(b && b->spare && !b->indexed, "%s: spare s2: not indexed", what);
}

static void test_pools_read(struct osn_ovsdb *nb)
{
        struct osn_inventory *inv = read_inv(nb, NULL, NULL);
        CHECK(inv->n_networks == 4 && inv->n_spares == 4, "%zu networks, %zu spares",
              inv->n_networks, inv->n_spares);
        check_net3_pool(inv, "all");
        const struct osn_inv_network *n3 = osn_inventory_network(inv, "net3");
        const struct osn_inv_network *n4 = osn_inventory_network(inv, "net4");
        CHECK(n3 && n3->n_attachments == 2 && n3->n_foreign == 0 && n3->n_nodes == 2 &&
                  streq(n3->nodes[0], "n1") && streq(n3->nodes[1], "n2"),
              "net3: the claimed port and the one naming a holder are its attachments, spares "
              "add no node and are not foreign");
        const struct osn_inv_port *c = port_by_uuid(inv, claimed), *q = port_by_uuid(inv, both);
        CHECK(c && !c->spare && startswith(c->name, "osn.net3.spare.") &&
                  streq(c->container_id, "cid-p") && streq(c->pod_name, "p") &&
                  streq(c->node, "n1"),
              "a claimed pool port is an ordinary attachment (its name notwithstanding)");
        CHECK(q && !q->spare && !spare(inv, both),
              "osn/spare=true with a holder's osn/container-id: an attachment, not a spare");
        bool leak = false;
        for (size_t i = 0; i < inv->n_ports; i++)
                leak |= inv->ports[i].spare || spare(inv, inv->ports[i].uuid);
        CHECK(!leak, "no spare among the attachments");
        CHECK(n4 && n4->n_attachments == 0 && n4->n_spares == 2 && n4->n_unindexed == 0 &&
                  n4->n_stale_index == 0 && n4->n_foreign == 0 && n4->n_nodes == 0 &&
                  n4->external && streq(n4->localnet_port, "osn.net4.localnet"),
              "net4: spares and a localnet port, no attachment, index consistent");
        CHECK(n4 && n4->external_ids && osn_ovsdb_map_get(n4->external_ids, "osn/network") &&
                  osn_ovsdb_set_size(n4->ports) == 3,
              "the switch's external_ids and ports as read, for guards");
        struct osn_inv_usage u[2];
        size_t k = n3 ? osn_inv_subnet_usage(inv, n3, u, 2) : 0;
        CHECK(k == 1 && u[0].used == 4 && u[0].free == u[0].capacity - 4,
              "net3 used/free counts the spares' addresses: used %" PRIu64, k ? u[0].used : 0);
        osn_inventory_free(inv);

        inv = read_inv(nb, NULL, "n1");
        check_net3_pool(inv, "--node n1");
        n3 = osn_inventory_network(inv, "net3");
        CHECK(n3 && n3->n_attachments == 1 && inv->n_spares == 4 && !spare(inv, both),
              "--node n1: its attachment, every spare (once), not the other node's port");
        osn_inventory_free(inv);

        inv = read_inv(nb, "net4", NULL);
        CHECK(inv->n_networks == 1 && inv->n_spares == 2 && inv->n_ports == 0 &&
                  inv->networks[0].n_spares == 2,
              "--network net4: its two spares, no attachment");
        osn_inventory_free(inv);
}

/* The action of 'object' about 'name' (an attachment's port, else its
 * network) in 'plan'. */
static struct osn_remove_record *action(const struct osn_remove_plan *plan,
                                        enum osn_remove_object object, const char *name)
{
        for (size_t i = 0; i < plan->n_actions; i++) {
                struct osn_remove_record *a = &plan->actions[i];
                if (a->object == object &&
                    streq(object == OSN_REMOVE_ATTACHMENT ? a->port : a->network, name))
                        return a;
        }
        return NULL;
}

/* Whether an attachment action names a spare port. */
static bool plans_a_spare(const struct osn_remove_plan *plan)
{
        for (size_t i = 0; i < plan->n_actions; i++) {
                const char *p = plan->actions[i].port;
                const char *u = p ? strrchr(p, '.') : NULL;
                if (u &&
                    (streq(u + 1, s1) || streq(u + 1, s2) || streq(u + 1, s3) || streq(u + 1, s4)))
                        return true;
        }
        return false;
}

static const char *result_of(const struct osn_remove_record *a)
{
        return a ? osn_remove_result_name(a->result) : "(none)";
}

/* A new plan of 'req' on 'inv'. */
static struct osn_remove_plan *plan_of(const struct osn_remove_req *req, const json_t *ifaces,
                                       const struct osn_inventory *inv)
{
        struct osn_remove_plan *plan = NULL;
        REQUIRE(osn_remove_plan_new(&plan) == 0);
        REQUIRE(osn_remove_plan_add(plan, req, ifaces, inv) == 0);
        return plan;
}

/* The plan as osnctl gc --json prints it: its keys in their order, the
 * fields not recorded as null. */
static void check_plan_json(const struct osn_remove_plan *plan)
{
        _cleanup_json_ json_t *actions = json_array(), *kept = json_array();
        REQUIRE(actions && kept && osn_remove_plan_json(plan, actions, kept) == 0);
        _cleanup_free_ char *att = json_dumps(json_array_get(actions, 0), JSON_PRESERVE_ORDER);
        const char *want_att =
            "{\"object\": \"attachment\", \"network\": \"net1\", \"port\": "
            "\"osn.net1.cid-a.net1\", \"pod\": \"ns/a\", \"container_id\": \"cid-a\", "
            "\"interface\": \"net1\", \"netns\": null, \"node\": \"n2\", \"node_lost\": true, "
            "\"reason\": \"node n2 is lost\", \"result\": \"planned\"}";
        CHECK(json_array_size(actions) == plan->n_actions && att && streq(att, want_att),
              "an attachment action as JSON:\n  got  %s\n  want %s", att ? att : "(null)",
              want_att);
        const struct osn_remove_record *p = action(plan, OSN_REMOVE_POOL_INDEX, "net3");
        _cleanup_free_ char *pi =
            p ? json_dumps(json_array_get(actions, (size_t)(p - plan->actions)),
                           JSON_PRESERVE_ORDER)
              : NULL;
        char want_pi[1024];
        snprintf(want_pi, sizeof(want_pi),
                 "{\"object\": \"pool-index\", \"network\": \"net3\", \"switch\": \"osn.net3\", "
                 "\"keys\": [\"%s\", \"%s\", \"%s\"], \"reason\": \"index keys osn/spare/<U> of "
                 "its switch with no spare port U on it\", \"result\": \"planned\"}",
                 p && p->n_keys == 3 ? p->keys[0] : "", p && p->n_keys == 3 ? p->keys[1] : "",
                 p && p->n_keys == 3 ? p->keys[2] : "");
        CHECK(pi && streq(pi, want_pi), "a pool-index action as JSON:\n  got  %s\n  want %s",
              pi ? pi : "(null)", want_pi);
}

static void test_pools_gc(struct osn_ovsdb *nb)
{
        struct osn_inventory *inv = read_inv(nb, NULL, NULL);
        json_t *ifaces = json_array();
        struct osn_remove_req req = {.mode = OSN_REMOVE_LOCAL, .node = "n1", .orphans = true};
        struct osn_remove_plan *plan = plan_of(&req, ifaces, inv);
        CHECK(!plans_a_spare(plan) && action(plan, OSN_REMOVE_ATTACHMENT, "osn.net1.cid-b.eth1"),
              "gc --orphans on n1: its ports without OVS port, never a spare");
        const struct osn_remove_record *a4 = action(plan, OSN_REMOVE_NETWORK, "net4");
        CHECK(a4 && a4->n_spares == 2 && strstr(a4->reason, "2 spare port(s)"),
              "a network with only spares is planned for removal, its spares with it");
        CHECK(!action(plan, OSN_REMOVE_NETWORK, "net3"),
              "net3 keeps its other node's attachment: not planned");
        CHECK(!action(plan, OSN_REMOVE_POOL_INDEX, "net3"),
              "no index repair unless asked (the plugin's CNI GC)");
        osn_remove_plan_free(plan);

        req = (struct osn_remove_req){
            .mode = OSN_REMOVE_NODE_LOST, .node = "n2", .repair_pool_index = true};
        plan = plan_of(&req, NULL, inv);
        CHECK(!plans_a_spare(plan) && action(plan, OSN_REMOVE_ATTACHMENT, "osn.net1.cid-a.net1"),
              "gc --node n2: its ports, never a spare (they name no node)");
        const struct osn_remove_record *pi = action(plan, OSN_REMOVE_POOL_INDEX, "net3");
        CHECK(pi && pi->n_keys == 3, "with repair_pool_index: net3's 3 stale keys planned");
        check_plan_json(plan);
        osn_remove_plan_free(plan);

        /* Execute, with a claim (or a top-up) racing: the index of net4
         * changes after the read, its ports do not.  The guard keeps it. */
        req = (struct osn_remove_req){
            .mode = OSN_REMOVE_LOCAL, .node = "nobody", .repair_pool_index = true};
        plan = plan_of(&req, ifaces, inv);
        CHECK(plan->n_actions == 2 && action(plan, OSN_REMOVE_NETWORK, "net4") &&
                  action(plan, OSN_REMOVE_POOL_INDEX, "net3"),
              "gc on a node with nothing: net4 and net3's index: %zu actions", plan->n_actions);
        add_index_key(nb, "net4", NO_SUCH_UUID, "0a:00:00:00:04:09 10.4.0.19");
        size_t gc_failures = 0;
        REQUIRE(osn_remove_plan_execute(plan, nb, NULL, inv, osn_now_ms() + 5000, &gc_failures) ==
                0);
        const struct osn_remove_record *n4 = action(plan, OSN_REMOVE_NETWORK, "net4");
        CHECK(gc_failures == 0 && n4 && n4->result == OSN_REMOVE_KEPT &&
                  streq(n4->error, "an attachment arrived meanwhile (or its pool changed)") &&
                  action(plan, OSN_REMOVE_POOL_INDEX, "net3")->result == OSN_REMOVE_REMOVED,
              "the pool changed meanwhile: net4 kept (%s); net3's stale keys removed (%s)",
              result_of(n4), result_of(action(plan, OSN_REMOVE_POOL_INDEX, "net3")));
        osn_remove_plan_free(plan);
        osn_inventory_free(inv);

        inv = read_inv(nb, NULL, NULL);
        const struct osn_inv_network *n3 = osn_inventory_network(inv, "net3");
        const struct osn_inv_network *net4 = osn_inventory_network(inv, "net4");
        CHECK(n3 && n3->n_stale_index == 0 && n3->n_spares == 2 && spare(inv, s1) &&
                  spare(inv, s1)->indexed,
              "net3: no stale key left, its spares and s1's key kept");
        CHECK(net4 && net4->n_spares == 2 && net4->n_stale_index == 1, "net4 is still there");
        /* Again, with nothing racing: net4 goes, spares and all (its stale
         * key goes with it, not by a repair of its own). */
        plan = plan_of(&req, ifaces, inv);
        CHECK(plan->n_actions == 1 && action(plan, OSN_REMOVE_NETWORK, "net4"),
              "gc again: net4 only (its index is not repaired: it goes)");
        gc_failures = 0;
        REQUIRE(osn_remove_plan_execute(plan, nb, NULL, inv, osn_now_ms() + 5000, &gc_failures) ==
                0);
        CHECK(gc_failures == 0 &&
                  action(plan, OSN_REMOVE_NETWORK, "net4")->result == OSN_REMOVE_REMOVED,
              "net4 removed (%s)", result_of(action(plan, OSN_REMOVE_NETWORK, "net4")));
        osn_remove_plan_free(plan);
        osn_inventory_free(inv);
        inv = read_inv(nb, NULL, NULL);
        CHECK(!osn_inventory_network(inv, "net4") && !spare(inv, s3) && !spare(inv, s4) &&
                  spare(inv, s1) && spare(inv, s2),
              "net4 and its spares are gone; net3's stay");
        osn_inventory_free(inv);
        json_decref(ifaces);
}

static void test_netns_state(void)
{
        char why[256];
        CHECK(osn_inv_netns_state("/proc/self/ns/net", why, sizeof(why)) == OSN_NETNS_ALIVE,
              "our own netns is alive: %s", why);
        CHECK(osn_inv_netns_state("/nonexistent/netns", why, sizeof(why)) == OSN_NETNS_GONE &&
                  strstr(why, "is gone"),
              "a missing path is gone: %s", why);
        CHECK(osn_inv_netns_state("/", why, sizeof(why)) == OSN_NETNS_GONE &&
                  strstr(why, "no longer a network namespace"),
              "a path that is not a netns is gone: %s", why);
        CHECK(osn_inv_netns_state(NULL, why, sizeof(why)) == OSN_NETNS_UNKNOWN,
              "no path recorded: unknown");
        CHECK(osn_inv_netns_state("/nonexistent", NULL, 0) == OSN_NETNS_GONE, "why may be NULL");
}

/* An OVS Interface row as osn_ovs_list_attachments() returns it. */
static json_t *iface(const char *netns, int ofport, const char *admin, const char *link)
{
        return json_pack("{s:s, s:[s,[[s,s]]], s:i, s:s, s:s}", "name", "osnx", "external_ids",
                         "map", "osn/netns", netns, "ofport", ofport, "admin_state", admin,
                         "link_state", link);
}

/* "Gone" only on evidence: OVS's word that the veth went, or a view of
 * live namespaces in the path's directory; else unknown, saying where to
 * run. */
static void test_iface_netns_evidence(void)
{
        char why[1024];
        struct {
                const char *netns;
                int ofport;
                const char *admin, *link;
                enum osn_netns_state want;
                const char *what;
        } cases[] = {
            {"/proc/self/ns/net", 5, "up", "up", OSN_NETNS_ALIVE, "a live netns"},
            {"/nonexistent-dir/pod", 5, "up", "up", OSN_NETNS_UNKNOWN,
             "missing, its directory too, OVS still has the veth: unknown"},
            {"/nonexistent-dir/pod", -1, "up", "up", OSN_NETNS_GONE,
             "missing and OVS lost its OpenFlow port: gone"},
            {"/nonexistent-dir/pod", 5, "down", "down", OSN_NETNS_GONE,
             "missing and OVS says the veth is down and out: gone"},
            {"/nonexistent-dir/pod", 5, "up", "down", OSN_NETNS_UNKNOWN,
             "missing, link down but admin up (a peer that went down): unknown"},
            {"/proc/self/ns/nonexistent", 5, "up", "up", OSN_NETNS_GONE,
             "missing from a directory that shows a live netns: gone"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                json_t *row = iface(cases[i].netns, cases[i].ofport, cases[i].admin, cases[i].link);
                REQUIRE(row);
                why[0] = 0;
                enum osn_netns_state st = osn_inv_iface_netns_state(row, why, sizeof(why));
                CHECK(st == cases[i].want, "%s: got %d (%s)", cases[i].what, st, why);
                if (cases[i].want == OSN_NETNS_UNKNOWN)
                        CHECK(strstr(why, "run it on the node itself"), "%s: says where: %s",
                              cases[i].what, why);
                json_decref(row);
        }
}

/* Tenancy keys, reservations and a migration, as the NB holds them. */
static void test_tenancy(struct osn_ovsdb *nb)
{
        nbctl("ls-add", "osn.t1", "--", "set", "Logical_Switch", "osn.t1",
              "external_ids:\"osn/network\"=\"tenant-a/blue\"",
              "external_ids:\"osn/scope\"=namespace", "external_ids:\"osn/namespace\"=tenant-a",
              "external_ids:\"osn/name\"=blue", NULL);
        nbctl("lsp-add", "osn.t1", "osn.t1.res", "--", "set", "Logical_Switch_Port", "osn.t1.res",
              "addresses=\"0a:00:00:00:01:01 10.5.0.1\"",
              "external_ids:\"osn/network\"=\"tenant-a/blue\"",
              "external_ids:\"osn/reservation\"=true",
              "external_ids:\"osn/reserved-at\"=1700000000",
              "external_ids:\"osn/identity\"=\"tenant-a/vm1.net1\"",
              "external_ids:\"osn/pod-namespace\"=tenant-a", NULL);
        nbctl("lsp-add", "osn.t1", "osn.t1.mig", "--", "set", "Logical_Switch_Port", "osn.t1.mig",
              "addresses=\"0a:00:00:00:01:02 10.5.0.2\"",
              "external_ids:\"osn/network\"=\"tenant-a/blue\"",
              "external_ids:\"osn/container-id\"=cid-src", "external_ids:\"osn/ifname\"=net1",
              "external_ids:\"osn/node\"=n1", "external_ids:\"osn/pod-namespace\"=tenant-a",
              "external_ids:\"osn/pod-name\"=src",
              "external_ids:\"osn/identity\"=\"tenant-a/vm2.net1\"",
              "external_ids:\"osn/migration-node\"=n2",
              "external_ids:\"osn/migration-container-id\"=cid-dst",
              "external_ids:\"osn/migration-ifname\"=net1",
              "external_ids:\"osn/migration-pod-namespace\"=tenant-a",
              "external_ids:\"osn/migration-pod-name\"=dst",
              "external_ids:\"osn/migration-since\"=1700000100", NULL);
        nbctl("lsp-add", "osn.t1", "osn.t1.both", "--", "set", "Logical_Switch_Port", "osn.t1.both",
              "addresses=\"0a:00:00:00:01:03 10.5.0.3\"",
              "external_ids:\"osn/network\"=\"tenant-a/blue\"",
              "external_ids:\"osn/reservation\"=true", "external_ids:\"osn/container-id\"=cid-both",
              "external_ids:\"osn/node\"=n1", NULL);
        nbctl("ls-add", "osn.t2", "--", "set", "Logical_Switch", "osn.t2",
              "external_ids:\"osn/network\"=\"_cluster/shared\"",
              "external_ids:\"osn/scope\"=cluster",
              "external_ids:\"osn/namespaces\"=\"tenant-a,tenant-b\"", NULL);
        nbctl("ls-add", "osn.t3", "--", "set", "Logical_Switch", "osn.t3",
              "external_ids:\"osn/network\"=\"_cluster/all\"", "external_ids:\"osn/scope\"=cluster",
              "external_ids:\"osn/namespaces\"=\"*\"", NULL);
        nbctl("ls-add", "osn.t4", "--", "set", "Logical_Switch", "osn.t4",
              "external_ids:\"osn/network\"=\"_none/x\"", "external_ids:\"osn/scope\"=none", NULL);
        nbctl("ls-add", "osn.t5", "--", "set", "Logical_Switch", "osn.t5",
              "external_ids:\"osn/network\"=old", "external_ids:\"osn/namespaces\"=\"old-ns\"",
              NULL);

        struct osn_inventory *inv = read_inv(nb, NULL, NULL);
        const struct osn_inv_network *t1 = osn_inventory_network(inv, "tenant-a/blue");
        const struct osn_inv_network *t2 = osn_inventory_network(inv, "_cluster/shared");
        const struct osn_inv_network *t3 = osn_inventory_network(inv, "_cluster/all");
        const struct osn_inv_network *t4 = osn_inventory_network(inv, "_none/x");
        const struct osn_inv_network *t5 = osn_inventory_network(inv, "old");
        const struct osn_inv_network *n1 = osn_inventory_network(inv, "net1");
        REQUIRE(t1 && t2 && t3 && t4 && t5 && n1);
        CHECK(streq(osn_inv_network_scope(t1), "namespace") &&
                  streq(t1->scope_namespace, "tenant-a") &&
                  streq(osn_inv_network_scope(t2), "cluster") &&
                  streq(t2->namespaces, "tenant-a,tenant-b") &&
                  streq(osn_inv_network_scope(t4), "none") &&
                  streq(osn_inv_network_scope(t5), "legacy") &&
                  streq(osn_inv_network_scope(n1), "legacy"),
              "scopes as read");
        struct {
                const struct osn_inv_network *n;
                const char *ns;
                bool want;
        } in[] = {
            {t1, "tenant-a", true},  {t1, "tenant-b", false}, {t2, "tenant-b", true},
            {t2, "tenant-c", false}, {t3, "anyone", true},    {t4, "tenant-a", false},
            {t5, "old-ns", true},    {t5, "ns", false},       {n1, "ns", true},
            {n1, "tenant-a", false},
        };
        for (size_t i = 0; i < ARRAY_SIZE(in); i++)
                CHECK(osn_inv_network_in_namespace(inv, in[i].n, in[i].ns) == in[i].want,
                      "network %s in namespace %s: want %d", in[i].n->name, in[i].ns, in[i].want);
        const struct osn_inv_port *held = port(inv, "osn.t1.both");
        CHECK(held && held->reservation && !osn_inv_is_reservation(held),
              "a reservation mark on a port with a holder: an attachment");
        CHECK(t1->n_attachments == 2 && t1->n_reservations == 1,
              "a reservation is no attachment: %zu attachments, %zu reservations",
              t1->n_attachments, t1->n_reservations);
        const struct osn_inv_port *r = port(inv, "osn.t1.res"), *m = port(inv, "osn.t1.mig");
        CHECK(r && osn_inv_is_reservation(r) && r->reserved_at == 1700000000 &&
                  streq(r->identity, "tenant-a/vm1.net1"),
              "the reservation's identity and since when");
        CHECK(m && !m->reservation && streq(m->mig_node, "n2") &&
                  streq(m->mig_container_id, "cid-dst") && streq(m->mig_pod_name, "dst") &&
                  streq(m->mig_pod_namespace, "tenant-a") && m->mig_since == 1700000100 &&
                  streq(m->identity, "tenant-a/vm2.net1"),
              "a migration in flight: its target and since when");
        const struct osn_inv_port *a = port(inv, "osn.net1.cid-a.net1");
        CHECK(a && !a->mig_node && a->mig_since == -1 && !a->identity,
              "an ordinary attachment: no identity, no migration");
        osn_inventory_free(inv);
}

static void test_unixctl(void)
{
        char *out = NULL;
        struct osn_error err = {0};
        int r =
            osn_unixctl_call(ctl_path, "ovsdb-server/list-dbs", osn_now_ms() + 5000, &out, &err);
        CHECK(r == 0 && startswith(out, "OVN_Northbound\n"), "list-dbs: %d %s %s", r,
              out ? out : "", err.msg);
        free(out);
        out = NULL;
        osn_error_clear(&err);
        r = osn_unixctl_call(ctl_path, "no-such-command", osn_now_ms() + 5000, &out, &err);
        CHECK(r == -EPROTO && strstr(err.msg, "no-such-command"), "unknown command: %d %s", r,
              err.msg);
        osn_error_clear(&err);
        char missing[600];
        snprintf(missing, sizeof(missing), "%s/none.ctl", tmpdir);
        r = osn_unixctl_call(missing, "x", osn_now_ms() + 2000, &out, &err);
        CHECK(r == -ENOENT || r == -ECONNREFUSED, "no socket: %d", r);
}

int main(void)
{
        if (!testserver_init("inventory", (const char *const[]){"ovn-nbctl", NULL})) {
                fprintf(stderr, "ovsdb-server, ovn-nbctl or the OVN NB schema not installed: "
                                "skipping\n");
                return 77;
        }
        tmpdir = testserver_dir();
        start_server();
        populate();

        char remote[600];
        snprintf(remote, sizeof(remote), "unix:%s", sock);
        struct osn_ovsdb *nb = NULL;
        REQUIRE(osn_ovsdb_connect(remote, NULL, osn_now_ms() + 5000, &nb, NULL) == 0);
        test_all(nb);
        test_filters(nb);
        test_queries_read(nb);
        populate_pools(nb);
        test_pools_read(nb);
        test_pools_gc(nb);
        test_tenancy(nb);
        osn_ovsdb_close(nb);
        test_queries_memory();
        test_netns_state();
        test_iface_netns_evidence();
        test_unixctl();
        printf("test-inventory: %d checks, %d failures\n", checks, failures);
        return failures ? 1 : 0;
}
