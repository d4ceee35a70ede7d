/* test-ovn: the NB transactions that ovn.c, nbattach.c and nbdetach.c send,
 * and the requests of ovs.c, byte for byte (golden files
 * tests/unit/data/ovn-*.txt, ovs-requests.txt), against a real
 * ovsdb-server on the OVN Northbound schema (testserver.h).  The golden
 * files were made by the code before it moved to txn.h, and this code
 * matches them.
 *
 * Each step (an ADD of a port spec on a netconf and tenancy, a DEL, a
 * pool's top-up) runs on the server as the plugin runs it; txn.h's trace
 * hook records every request sent, and the step's requests are compared
 * with its golden file.  What the server chose differs from run to run
 * and is made stable first: a UUID the server gave a row is written as
 * "<name of the row>" (the rows are read from the server around each
 * step), and the elements of an OVSDB set (ordered by UUID on the server)
 * are sorted.  The UUIDs osn chooses itself (DHCP_Options, the DHCP
 * server's port, spares: their sequence pinned with
 * osn_nb_pin_spare_uuids()) stay as sent.
 *
 * Besides the bytes, each step checks what it returned: the mode (a new
 * switch, a claimed spare, an adopted port), the addresses, and that a
 * DEL removed what it should.  Exits 77 without ovsdb-server.
 *
 * OSN_UPDATE_GOLDEN=1 rewrites the files (review the diff).
 */
#include "ovn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "netconf.h"
#include "ovs.h"
#include "tenancy.h"
#include "testlib.h"
#include "testserver.h"
#include "txn.h"

static struct osn_ovsdb *nb;
static json_t *trace;  /* the requests of the step: [{"db":..., "ops":[...]}] */
static json_t *labels; /* server-chosen UUID -> "<row name>" */

static void record(const char *db, const json_t *ops, void *aux)
{
        (void)aux;
        /* A copy: a transaction may be reset and built again in place. */
        json_array_append_new(trace, json_pack("{s:s, s:o}", "db", db, "ops", json_deep_copy(ops)));
}

/* Learns the UUIDs of every named row of the switch and port tables. */
static void learn_labels(void)
{
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        osn_txn_set_trace(NULL, NULL);
        osn_op s =
            osn_txn_select(t, "Logical_Switch", NULL, (const char *const[]){"_uuid", "name", NULL});
        osn_op p = osn_txn_select(t, "Logical_Switch_Port", NULL,
                                  (const char *const[]){"_uuid", "name", NULL});
        struct osn_error err = {0};
        REQUIRE(osn_txn_commit(t, nb, osn_now_ms() + 5000, &err) == 0);
        osn_op ops[] = {s, p};
        for (size_t k = 0; k < 2; k++) {
                size_t i;
                const json_t *row;
                json_array_foreach(osn_txn_rows(t, ops[k]), i, row)
                {
                        const char *u = osn_ovsdb_row_uuid(row);
                        const char *name = json_string_value(json_object_get(row, "name"));
                        /* A spare's name holds its (pinned) UUID: kept. */
                        if (!u || !name || strstr(name, u) || json_object_get(labels, u))
                                continue;
                        char label[600];
                        snprintf(label, sizeof(label), "<%s>", name);
                        json_object_set_new(labels, u, json_string(label));
                }
        }
        osn_txn_set_trace(record, NULL);
}

static int cmp_dumped(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replaces learnt UUIDs by their labels and sorts set elements, in place. */
static void normalise(json_t *v)
{
        size_t i;
        json_t *e;
        const char *k;
        if (json_is_object(v)) {
                json_object_foreach(v, k, e) normalise(e);
                return;
        }
        if (!json_is_array(v))
                return;
        json_array_foreach(v, i, e)
        {
                const json_t *l =
                    json_is_string(e) ? json_object_get(labels, json_string_value(e)) : NULL;
                if (l)
                        json_array_set(v, i, (json_t *)l);
                else
                        normalise(e);
        }
        /* A time the transaction wrote (Unix seconds). */
        const char *key = json_string_value(json_array_get(v, 0));
        if (json_array_size(v) == 2 && json_is_string(json_array_get(v, 1)) &&
            (streq(key, OSN_EXT_RESERVED_AT) || streq(key, OSN_EXT_MIG_SINCE)))
                json_array_set_new(v, 1, json_string("<time>"));
        json_t *elems = json_array_get(v, 1);
        if (json_array_size(v) != 2 || !streq(json_string_value(json_array_get(v, 0)), "set") ||
            json_array_size(elems) < 2)
                return;
        size_t n = json_array_size(elems);
        char **s = calloc(n, sizeof(*s));
        REQUIRE(s);
        json_array_foreach(elems, i, e) s[i] = json_dumps(e, JSON_ENCODE_ANY | JSON_COMPACT);
        qsort(s, n, sizeof(*s), cmp_dumped);
        json_array_clear(elems);
        for (i = 0; i < n; i++) {
                json_array_append_new(elems, json_loads(s[i], JSON_DECODE_ANY, NULL));
                free(s[i]);
        }
        free(s);
}

static void step_begin(void)
{
        learn_labels();
        json_array_clear(trace);
}

/* Ends a step: its requests against tests/unit/data/<name>, one
 * operation a line (keys sorted), each request headed by its database. */
static void step_end(const char *name)
{
        _cleanup_json_ json_t *got = json_deep_copy(trace);
        learn_labels();
        normalise(got);
        size_t cap = 1 << 16, len = 0;
        char *text = malloc(cap);
        REQUIRE(text);
        size_t i, j;
        json_t *req, *op;
        json_array_foreach(got, i, req)
        {
                json_t *ops = json_object_get(req, "ops");
                char head[128];
                int n =
                    snprintf(head, sizeof(head), "# transact %s, %zu operations\n",
                             json_string_value(json_object_get(req, "db")), json_array_size(ops));
                REQUIRE(n > 0 && (size_t)n < sizeof(head));
                json_array_foreach(ops, j, op)
                {
                        char *line = json_dumps(op, JSON_SORT_KEYS | JSON_COMPACT);
                        REQUIRE(line);
                        size_t need = len + (j ? 0 : (size_t)n) + strlen(line) + 2;
                        if (need > cap) {
                                cap = need * 2;
                                REQUIRE((text = realloc(text, cap)));
                        }
                        if (j == 0) {
                                memcpy(text + len, head, (size_t)n);
                                len += (size_t)n;
                        }
                        memcpy(text + len, line, strlen(line));
                        len += strlen(line);
                        text[len++] = '\n';
                        free(line);
                }
        }
        text[len] = 0;
        golden(name, text);
        free(text);
        json_array_clear(trace);
}

/* One network as the plugin sees it: its netconf, tenancy and allocator. */
struct net {
        struct osn_netconf *nc;
        struct osn_tenancy ten;
        struct osn_alloc alloc;
        char *fingerprint;
};

static void net_init(struct net *n, const char *netconf, const char *name, const char *ns)
{
        struct osn_error err = {0};
        REQUIRE(osn_netconf_parse(netconf, strlen(netconf), "test", &n->nc, &err) == 0);
        REQUIRE(osn_tenancy_resolve(NULL, "node.json", name, ns, &n->ten, &err) == 0);
        osn_alloc_init(&n->alloc, n->nc);
        n->fingerprint = osn_netconf_fingerprint(n->nc);
        REQUIRE(n->fingerprint);
}

static void net_free(struct net *n)
{
        osn_netconf_free(n->nc);
        free(n->fingerprint);
}

/* One ADD's request. */
struct add {
        struct osn_port_spec spec;
        char *port_name;
        const char *ids[20];
};

static void add_init(struct add *a, struct net *n, const char *cid, const char *ifname,
                     const char *pod, unsigned pool_size)
{
        memset(a, 0, sizeof(*a));
        a->port_name = osn_port_name(n->ten.network, cid, ifname);
        REQUIRE(a->port_name);
        const char *ids[] = {OSN_EXT_NETWORK,
                             n->ten.network,
                             OSN_EXT_CONTAINER,
                             cid,
                             OSN_EXT_IFNAME,
                             ifname,
                             OSN_EXT_POD_NS,
                             n->ten.namespace,
                             OSN_EXT_POD_NAME,
                             pod,
                             OSN_EXT_NODE,
                             "node-1",
                             NULL};
        memcpy(a->ids, ids, sizeof(ids));
        a->spec = (struct osn_port_spec){
            .nc = n->nc,
            .ten = &n->ten,
            .network = n->ten.network,
            .node_config = "node.json",
            .alloc = &n->alloc,
            .physical_network = n->nc->external ? n->nc->physical_network : NULL,
            .fingerprint = n->fingerprint,
            .port_name = a->port_name,
            .port_ids = a->ids,
            .mtu = 1400,
            .hostname = pod,
            .chassis = "chassis-1",
            .pool_size = pool_size,
        };
        memcpy(a->spec.mac, (uint8_t[]){0x0a, 0x58, 0, 0, 0, 1}, 6);
}

/* Runs an ADD to its end (attach, then the pool's top-up), as the plugin does. */
static int run_add(struct add *a, struct osn_nb_port *ret)
{
        struct osn_error err = {0};
        int64_t deadline = osn_now_ms() + 10000;
        _cleanup_nb_attach_ struct osn_nb_attach *at = NULL;
        int r = osn_nb_attach_start(nb, &a->spec, deadline, &at, &err);
        if (r == 0)
                r = osn_nb_attach_finish(at, deadline, ret, &err);
        if (r == 0)
                osn_nb_attach_refill(at, deadline);
        CHECK(r == 0, "ADD %s: %d %s %s", a->spec.port_name, r, err.msg, err.details);
        return r;
}

static const char *ip(const struct osn_nb_port *p, size_t i)
{
        static char buf[4][OSN_CIDR_STRLEN];
        static int k;
        return i < p->n_ips ? osn_cidr_format(&p->ips[i], buf[k++ % 4], OSN_CIDR_STRLEN) : "";
}

/* The number of ports of the switch of 'network' (-1: no switch). */
static int switch_ports(const char *network)
{
        _cleanup_free_ char *sw = osn_switch_name(network);
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        osn_txn_set_trace(NULL, NULL);
        osn_op s = osn_txn_select(t, "Logical_Switch", osn_where_eq("name", json_string(sw)),
                                  (const char *const[]){"ports", NULL});
        struct osn_error err = {0};
        REQUIRE(osn_txn_commit(t, nb, osn_now_ms() + 5000, &err) == 0);
        osn_txn_set_trace(record, NULL);
        const json_t *row = osn_txn_row(t, s);
        return row ? (int)osn_ovsdb_set_size(json_object_get(row, "ports")) : -1;
}

#define BLUE                                                                                       \
        "{\"cniVersion\":\"1.0.0\",\"type\":\"ovn-k8s-cni-overlay\",\"name\":\"blue\","            \
        "\"topology\":\"layer2\",\"subnets\":\"10.20.0.0/24\",\"dhcp\":true}"
#define GREEN                                                                                      \
        "{\"cniVersion\":\"1.0.0\",\"type\":\"ovn-k8s-cni-overlay\",\"name\":\"green\","           \
        "\"topology\":\"layer2\",\"subnets\":\"10.30.0.0/24,fd00:30::/64\",\"dhcp\":false}"
#define PHYS                                                                                       \
        "{\"cniVersion\":\"1.0.0\",\"type\":\"ovn-k8s-cni-overlay\",\"name\":\"phys\","            \
        "\"topology\":\"localnet\",\"subnets\":\"192.168.50.0/24\",\"physicalNetworkName\":"       \
        "\"physA\",\"vlanID\":42}"

/* The pool path on a DHCP network with its server's port: the first ADD
 * makes the switch with its pool, the next claims a spare and tops the
 * pool up, a retried ADD adopts what it holds, DEL returns the spare. */
static void test_pool_network(void)
{
        struct net blue;
        net_init(&blue, BLUE, "blue", "ns1");
        struct add a1, a2;
        struct osn_nb_port p1, p2, p3;
        add_init(&a1, &blue, "cid-1", "net1", "pod-1", 2);
        add_init(&a2, &blue, "cid-2", "net1", "pod-2", 2);

        step_begin();
        REQUIRE(run_add(&a1, &p1) == 0);
        step_end("ovn-create-pool.txt");
        CHECK(p1.created && p1.switch_created && !p1.pooled, "the first ADD makes the switch");
        CHECK(streq(p1.name, a1.port_name), "its own port: %s", p1.name);
        /* Its port, its DHCP server's port, two spares. */
        CHECK(switch_ports(blue.ten.network) == 4, "ports: %d", switch_ports(blue.ten.network));

        step_begin();
        REQUIRE(run_add(&a2, &p2) == 0);
        step_end("ovn-claim.txt");
        CHECK(p2.pooled && p2.created && !p2.switch_created, "the second ADD claims a spare");
        CHECK(osn_is_spare_port(blue.ten.network, p2.name, NULL), "a spare's name: %s", p2.name);
        CHECK(switch_ports(blue.ten.network) == 5, "topped up: %d", switch_ports(blue.ten.network));

        /* The same ADD again (killed after its claim): it adopts its port. */
        a2.spec.earlier_try = true;
        step_begin();
        REQUIRE(run_add(&a2, &p3) == 0);
        step_end("ovn-held.txt");
        CHECK(!p3.created && p3.pooled && streq(p3.name, p2.name) && p3.n_ips == 1 &&
                  streq(ip(&p3, 0), ip(&p2, 0)),
              "the retried ADD holds the same port: %s %s", p3.name, ip(&p3, 0));

        /* A static request for the address a spare holds: the spare
         * goes, the pool gets a replacement. */
        struct add a3;
        struct osn_nb_port p4;
        add_init(&a3, &blue, "cid-9", "net1", "pod-9", 2);
        struct osn_cidr st = test_cidr("10.20.0.34/24");
        a3.spec.static_ips = &st;
        a3.spec.n_static_ips = 1;
        step_begin();
        REQUIRE(run_add(&a3, &p4) == 0);
        step_end("ovn-evict.txt");
        CHECK(p4.created && !p4.pooled && streq(ip(&p4, 0), "10.20.0.34/24"),
              "the static address, from a spare: %s", ip(&p4, 0));
        CHECK(switch_ports(blue.ten.network) == 6, "ports: %d", switch_ports(blue.ten.network));
        struct osn_error err = {0};
        CHECK(osn_nb_detach(nb, blue.ten.network, p4.name, "cid-9", 2, osn_now_ms() + 5000, &err) ==
                  1,
              "detach: %s", err.msg);
        free(a3.port_name);

        /* DEL of the claimed spare: the pool is full, so it goes. */
        step_begin();
        CHECK(osn_nb_detach(nb, blue.ten.network, p2.name, "cid-2", 2, osn_now_ms() + 5000, &err) ==
                  1,
              "detach: %s", err.msg);
        step_end("ovn-detach-spare.txt");
        CHECK(switch_ports(blue.ten.network) == 4, "ports: %d", switch_ports(blue.ten.network));

        /* DEL of the last attachment: the switch goes, with its spares. */
        step_begin();
        CHECK(osn_nb_detach(nb, blue.ten.network, p1.name, "cid-1", 2, osn_now_ms() + 5000, &err) ==
                  1,
              "detach: %s", err.msg);
        step_end("ovn-detach-last.txt");
        CHECK(switch_ports(blue.ten.network) == -1, "the switch is gone");
        free(a1.port_name);
        free(a2.port_name);
        net_free(&blue);
}

/* An ADD that offers warm port 'port' ('addrs'), as attach.c does when its
 * node has one: the claim goes out as a warm one unless the pool read says
 * otherwise.  Returns _finish()'s result. */
static int run_warm_add(struct add *a, const char *port, const char *addrs, struct osn_nb_port *ret,
                        struct osn_error *err)
{
        int64_t deadline = osn_now_ms() + 10000;
        _cleanup_nb_attach_ struct osn_nb_attach *at = NULL;
        int r = osn_nb_attach_read_ahead(nb, &a->spec, &at, err);
        if (r == 0)
                r = osn_nb_attach_use_warm(at, port, addrs);
        if (r == 0)
                r = osn_nb_attach_send(at, deadline, err);
        CHECK(r < 0 || osn_nb_attach_warm(at), "the claim went out as a warm one");
        return r == 0 ? osn_nb_attach_finish(at, deadline, ret, err) : r;
}

/* The node's warm spares of 'network' on node-1, by name (sorted, one a
 * line, into 'buf'). */
static int warm_spares(const char *network, char *buf, size_t len)
{
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        osn_txn_set_trace(NULL, NULL);
        osn_op s =
            osn_txn_select(t, "Logical_Switch_Port",
                           osn_where1("external_ids", "includes",
                                      osn_ovsdb_map((const char *const[]){
                                          OSN_EXT_NETWORK, network, OSN_EXT_WARM, "node-1", NULL})),
                           (const char *const[]){"name", NULL});
        struct osn_error err = {0};
        REQUIRE(osn_txn_commit(t, nb, osn_now_ms() + 5000, &err) == 0);
        osn_txn_set_trace(record, NULL);
        const json_t *row;
        size_t i;
        buf[0] = 0;
        json_array_foreach(osn_txn_rows(t, s), i, row)
        {
                size_t l = strlen(buf);
                snprintf(buf + l, len - l, "%s", json_string_value(json_object_get(row, "name")));
        }
        return (int)json_array_size(osn_txn_rows(t, s));
}

/* Warm ports (attach.h): an ADD's tail reserves a spare for its node (out
 * of the index, osn/warm=node-1); a second reservation finds the node full;
 * an ADD claims the warm spare; a claim of a spare that is no node's warm
 * one fails with -ESTALE; the node's last DEL releases what is left. */
static void test_warm(void)
{
        struct net blue;
        net_init(&blue, BLUE, "warm", "ns1");
        struct add a1, a2, a3;
        struct osn_nb_port p1, p2, p3;
        add_init(&a1, &blue, "cid-1", "net1", "pod-1", 2);
        add_init(&a2, &blue, "cid-2", "net1", "pod-2", 2);
        add_init(&a3, &blue, "cid-3", "net1", "pod-3", 2);
        REQUIRE(run_add(&a1, &p1) == 0);

        /* The tail of a2's ADD: one warm port for node-1. */
        struct osn_error err = {0};
        int64_t deadline = osn_now_ms() + 10000;
        struct osn_nb_warm w[2];
        char names[2048];
        {
                _cleanup_nb_attach_ struct osn_nb_attach *at = NULL;
                REQUIRE(osn_nb_attach_start(nb, &a2.spec, deadline, &at, &err) == 0);
                REQUIRE(osn_nb_attach_finish(at, deadline, &p2, &err) == 0);
                step_begin();
                CHECK(osn_nb_attach_reserve_warm(at, 1, w, deadline, &err) == 1,
                      "one spare reserved: %s", err.msg);
                step_end("ovn-warm-reserve.txt");
                CHECK(osn_nb_attach_reserve_warm(at, 1, w + 1, deadline, &err) == 0,
                      "the node has its one warm spare: none more");
                osn_nb_attach_refill(at, deadline);
        }
        CHECK(warm_spares(blue.ten.network, names, sizeof(names)) == 1 && streq(names, w[0].name),
              "the NB's warm spare of node-1 is %s: %s", w[0].name, names);

        /* a3's ADD on that warm port. */
        step_begin();
        CHECK(run_warm_add(&a3, w[0].name, w[0].addrs, &p3, &err) == 0, "warm ADD: %s", err.msg);
        step_end("ovn-warm-claim.txt");
        CHECK(p3.warm && p3.pooled && p3.created && streq(p3.name, w[0].name),
              "a3 is on the warm port: %s", p3.name);
        CHECK(warm_spares(blue.ten.network, names, sizeof(names)) == 0, "no warm spare left");

        /* The same warm port again, for another ADD: it is a3's now. */
        struct add a4;
        struct osn_nb_port p4;
        add_init(&a4, &blue, "cid-4", "net1", "pod-4", 2);
        osn_error_clear(&err);
        CHECK(run_warm_add(&a4, w[0].name, w[0].addrs, &p4, &err) == -ESTALE,
              "a claim of a warm port another ADD took: -ESTALE (%s)", err.msg);

        /* The last DEL of node-1 releases its warm spares (one made anew). */
        {
                _cleanup_nb_attach_ struct osn_nb_attach *at = NULL;
                osn_error_clear(&err);
                REQUIRE(osn_nb_attach_read_ahead(nb, &a4.spec, &at, &err) == 0);
                REQUIRE(osn_nb_attach_send(at, deadline, &err) == 0);
                REQUIRE(osn_nb_attach_finish(at, deadline, &p4, &err) == 0);
                osn_nb_attach_refill(at, deadline); /* the pool back at 2 */
                CHECK(osn_nb_attach_reserve_warm(at, 2, w, deadline, &err) == 2,
                      "two reserved (the whole pool): %s", err.msg);
        }
        int before = switch_ports(blue.ten.network);
        step_begin();
        CHECK(osn_nb_release_warm(nb, blue.ten.network, "node-1", NULL, deadline, &err) == 2,
              "release: %s", err.msg);
        step_end("ovn-warm-release.txt");
        CHECK(switch_ports(blue.ten.network) == before - 2, "ports %d, before %d",
              switch_ports(blue.ten.network), before);
        CHECK(osn_nb_release_warm(nb, blue.ten.network, "node-1", NULL, deadline, &err) == 0,
              "again: nothing");
        const char *cids[] = {"cid-1", "cid-2", "cid-3", "cid-4"};
        const char *ports[] = {p1.name, p2.name, p3.name, p4.name};
        for (size_t i = 0; i < 4; i++)
                CHECK(osn_nb_detach(nb, blue.ten.network, ports[i], cids[i], 2, deadline, &err) ==
                          1,
                      "detach %s: %s", ports[i], err.msg);
        CHECK(switch_ports(blue.ten.network) == -1, "the switch is gone");
        free(a1.port_name);
        free(a2.port_name);
        free(a3.port_name);
        free(a4.port_name);
        net_free(&blue);
}

/* Without pools: the create and the join of a dual-stack network, a
 * static request (addresses and MAC), its DEL. */
static void test_join_static(void)
{
        struct net green;
        net_init(&green, GREEN, "green", "ns2");
        struct add a1, a2;
        struct osn_nb_port p1, p2;
        add_init(&a1, &green, "cid-3", "eth1", "pod-3", 0);
        add_init(&a2, &green, "cid-4", "eth1", "pod-4", 0);
        struct osn_cidr st[2] = {test_cidr("10.30.0.77/24"), test_cidr("fd00:30::77/64")};
        a2.spec.static_ips = st;
        a2.spec.n_static_ips = 2;
        a2.spec.mac_requested = true;
        memcpy(a2.spec.mac, (uint8_t[]){0x0a, 0x00, 0x00, 0x00, 0x00, 0x77}, 6);

        step_begin();
        REQUIRE(run_add(&a1, &p1) == 0);
        step_end("ovn-create.txt");
        CHECK(p1.switch_created && p1.n_ips == 2, "created, two addresses");

        step_begin();
        REQUIRE(run_add(&a2, &p2) == 0);
        step_end("ovn-join-static.txt");
        CHECK(p2.created && !p2.switch_created && p2.n_ips == 2 &&
                  streq(ip(&p2, 0), "10.30.0.77/24") && streq(ip(&p2, 1), "fd00:30::77/64") &&
                  p2.mac[5] == 0x77,
              "joined with the static request: %s %s", ip(&p2, 0), ip(&p2, 1));

        struct osn_error err = {0};
        step_begin();
        CHECK(osn_nb_remove_port(nb, green.ten.network, p2.name, osn_now_ms() + 5000, &err) == 1,
              "remove: %s", err.msg);
        step_end("ovn-detach.txt");
        CHECK(switch_ports(green.ten.network) == 1, "one port left");
        free(a1.port_name);
        free(a2.port_name);
        net_free(&green);
}

/* A persistent identity: its port made, kept as a reservation by DEL,
 * bound again, the target of a live migration, handed over by the
 * source's DEL. */
static void test_identity(void)
{
        struct net green;
        net_init(&green, GREEN, "green", "ns4");
        struct add a1, a2, a3;
        struct osn_nb_port p1, p2, p3;
        add_init(&a1, &green, "cid-6", "eth1", "vm-a", 0);
        add_init(&a2, &green, "cid-7", "eth1", "vm-a", 0);
        add_init(&a3, &green, "cid-8", "eth1", "vm-a", 0);
        char *idport = osn_identity_port_name(green.ten.network, "vm-a");
        REQUIRE(idport);
        a1.spec.identity = a2.spec.identity = a3.spec.identity = "vm-a";
        a1.spec.port_name = a2.spec.port_name = a3.spec.port_name = idport;
        a3.ids[11] = "node-2";
        a3.spec.chassis = "chassis-2";

        step_begin();
        REQUIRE(run_add(&a1, &p1) == 0);
        step_end("ovn-identity-create.txt");
        CHECK(p1.created && streq(p1.name, idport), "the identity's port: %s", p1.name);

        struct osn_error err = {0};
        int64_t deadline = osn_now_ms() + 5000;
        step_begin();
        CHECK(osn_nb_release_identity(nb, green.ten.network, idport, "node-1", "cid-6", deadline,
                                      &err) == 1,
              "release: %s", err.msg);
        step_end("ovn-identity-release.txt");

        step_begin();
        REQUIRE(run_add(&a2, &p2) == 0);
        step_end("ovn-identity-bind.txt");
        CHECK(p2.rebound && !p2.created && memcmp(p2.mac, p1.mac, 6) == 0 &&
                  streq(ip(&p2, 0), ip(&p1, 0)),
              "the reservation bound again, same addresses: %s", ip(&p2, 0));

        step_begin();
        REQUIRE(run_add(&a3, &p3) == 0);
        step_end("ovn-identity-migrate.txt");
        CHECK(p3.migration && streq(ip(&p3, 0), ip(&p1, 0)), "a live migration's target");

        step_begin();
        CHECK(osn_nb_release_identity(nb, green.ten.network, idport, "node-1", "cid-7", deadline,
                                      &err) == 1,
              "release: %s", err.msg);
        step_end("ovn-identity-handover.txt");
        json_t *row = NULL;
        REQUIRE(osn_nb_get_port(nb, idport, deadline, &row, &err) == 0 && row);
        CHECK(
            streq(osn_ovsdb_map_get(json_object_get(row, "external_ids"), OSN_EXT_NODE), "node-2"),
            "the target holds it");
        json_decref(row);
        free(idport);
        free(a1.port_name);
        free(a2.port_name);
        free(a3.port_name);
        net_free(&green);
}

/* Runs 't' (built by the test, not traced). */
static void setup(struct osn_txn *t)
{
        struct osn_error err = {0};
        osn_txn_set_trace(NULL, NULL);
        REQUIRE(osn_txn_commit(t, nb, osn_now_ms() + 5000, &err) == 0);
        osn_txn_set_trace(record, NULL);
}

#define OLD                                                                                        \
        "{\"cniVersion\":\"1.0.0\",\"type\":\"ovn-k8s-cni-overlay\",\"name\":\"old\","             \
        "\"topology\":\"layer2\",\"subnets\":\"10.40.0.0/24\",\"dhcp\":true}"

/* A network as an older osn left it: no address claims (northd's IPAM),
 * no DHCP server's port (made here from a new one).  The next ADD gives it
 * the port and migrates it to claims, then joins. */
static void test_older_network(void)
{
        struct net old;
        net_init(&old, OLD, "old", "ns5");
        struct add a1, a2;
        struct osn_nb_port p1, p2;
        add_init(&a1, &old, "cid-10", "net1", "pod-10", 0);
        add_init(&a2, &old, "cid-11", "net1", "pod-11", 0);
        step_begin();
        REQUIRE(run_add(&a1, &p1) == 0);
        step_end("ovn-create-dhcp.txt");

        /* Make it look older: the switch without osn/ipam and without its
         * DHCP server's port, the port without its claims. */
        _cleanup_free_ char *sw = osn_switch_name(old.ten.network);
        _cleanup_free_ char *srv = osn_dhcp_port_name(old.ten.network);
        REQUIRE(sw && srv);
        _cleanup_txn_ struct osn_txn *rd = osn_txn_new(OSN_NB_DB);
        osn_op s = osn_txn_select(rd, "Logical_Switch_Port", osn_where_eq("name", json_string(srv)),
                                  (const char *const[]){"_uuid", NULL});
        setup(rd);
        REQUIRE(osn_txn_row(rd, s));
        char ipkey[OSN_CIDR_STRLEN + 8], mac[OSN_MAC_STRLEN + 9], m[OSN_MAC_STRLEN];
        snprintf(ipkey, sizeof(ipkey), "osn/ip/%.*s", (int)strcspn(ip(&p1, 0), "/"), ip(&p1, 0));
        snprintf(mac, sizeof(mac), "osn/mac/%s", osn_mac_format(p1.mac, m, sizeof(m)));
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        osn_txn_mutate(
            t, "Logical_Switch", osn_where_eq("name", json_string(sw)),
            osn_mutation_and(
                osn_mutation("external_ids", "delete", osn_ovsdb_set(json_pack("[s]", "osn/ipam"))),
                osn_mutation("ports", "delete",
                             osn_ovsdb_set(json_pack(
                                 "[o]", osn_ovsdb_uuid(osn_ovsdb_row_uuid(osn_txn_row(rd, s))))))));
        osn_txn_mutate(
            t, "Logical_Switch_Port", osn_where_eq("name", json_string(p1.name)),
            osn_mutation("external_ids", "delete", osn_ovsdb_set(json_pack("[s,s]", ipkey, mac))));
        setup(t);

        step_begin();
        REQUIRE(run_add(&a2, &p2) == 0);
        step_end("ovn-older-network.txt");
        CHECK(p2.created && !p2.switch_created && strcmp(ip(&p2, 0), ip(&p1, 0)) != 0,
              "joined after the migration: %s", ip(&p2, 0));
        free(a1.port_name);
        free(a2.port_name);
        net_free(&old);
}

#define RED                                                                                        \
        "{\"cniVersion\":\"1.0.0\",\"type\":\"ovn-k8s-cni-overlay\",\"name\":\"red\","             \
        "\"topology\":\"layer2\",\"subnets\":\"10.50.0.0/24\",\"dhcp\":false%s}"

/* An ADD tried again with other settings, its own port the only one: the
 * switch is made again with them.  Then DEL by container. */
static void test_other_settings(void)
{
        char conf[512];
        struct net red1, red2;
        snprintf(conf, sizeof(conf), RED, "");
        net_init(&red1, conf, "red", "ns6");
        snprintf(conf, sizeof(conf), RED, ",\"mtu\":1300");
        net_init(&red2, conf, "red", "ns6");
        struct add a1, a2;
        struct osn_nb_port p1, p2;
        add_init(&a1, &red1, "cid-12", "eth1", "pod-12", 0);
        add_init(&a2, &red2, "cid-12", "eth1", "pod-12", 0);
        REQUIRE(run_add(&a1, &p1) == 0);
        step_begin();
        REQUIRE(run_add(&a2, &p2) == 0);
        step_end("ovn-other-settings.txt");
        CHECK(p2.created && p2.switch_created, "made again");

        struct osn_error err = {0};
        step_begin();
        CHECK(osn_nb_detach_container(nb, red2.ten.network, "cid-12", "eth1", false, 0,
                                      osn_now_ms() + 5000, &err) == 1,
              "detach by container: %s", err.msg);
        step_end("ovn-detach-container.txt");
        CHECK(switch_ports(red2.ten.network) == -1, "the switch is gone");
        free(a1.port_name);
        free(a2.port_name);
        net_free(&red1);
        net_free(&red2);
}

/* A network bridged to a physical network: the switch with its localnet
 * port; the last DEL takes both. */
static void test_localnet(void)
{
        struct net phys;
        net_init(&phys, PHYS, "phys", "ns3");
        struct add a;
        struct osn_nb_port p;
        add_init(&a, &phys, "cid-5", "net2", "pod-5", 0);
        step_begin();
        REQUIRE(run_add(&a, &p) == 0);
        step_end("ovn-create-localnet.txt");
        CHECK(p.switch_created && switch_ports(phys.ten.network) == 2, "switch and localnet port");
        struct osn_error err = {0};
        step_begin();
        CHECK(osn_nb_detach(nb, phys.ten.network, p.name, "cid-5", 0, osn_now_ms() + 5000, &err) ==
                  1,
              "detach: %s", err.msg);
        step_end("ovn-detach-localnet.txt");
        CHECK(switch_ports(phys.ten.network) == -1, "the switch is gone");
        free(a.port_name);
        net_free(&phys);
}

/* The requests ovs.c sends to the local OVS DB, sent here to the NB
 * server, which refuses them (no such database): what was sent is what
 * the golden file holds (the first of DEL's two, as no answer comes). */
static void test_ovs_requests(void)
{
        struct osn_ovs_node node = {.bridge_uuid = "6a1b6d0e-0000-4000-8000-00000000b1e0"};
        struct osn_error err = {0};
        int64_t deadline = osn_now_ms() + 5000;
        json_t *rows = NULL;
        step_begin();
        CHECK(osn_ovs_read_node(nb, "br-int", deadline, &node, &err) < 0, "refused");
        osn_error_clear(&err);
        CHECK(osn_ovs_add_port(nb, &node, "osn0123456789ab",
                               (const char *const[]){"iface-id", "osn.ns1/blue.cid-1.net1",
                                                     OSN_EXT_NETWORK, "ns1/blue", NULL},
                               deadline, &err) < 0,
              "refused");
        osn_error_clear(&err);
        CHECK(osn_ovs_del_port(nb, "osn0123456789ab", deadline, &err) < 0, "refused");
        osn_error_clear(&err);
        CHECK(osn_ovs_set_iface_id(nb, "osn0123456789ab", "iface-id", "osn.x", deadline, &err) < 0,
              "refused");
        osn_error_clear(&err);
        CHECK(osn_ovs_list_attachments(nb, "ns1/blue", deadline, &rows, &err) < 0, "refused");
        osn_error_clear(&err);
        CHECK(osn_ovs_list_attachments(nb, NULL, deadline, &rows, &err) < 0, "refused");
        step_end("ovs-requests.txt");
}

int main(void)
{
        if (!testserver_init("ovn", NULL))
                return 77;
        testserver_start_nb("nb", NULL);
        char remote[512];
        snprintf(remote, sizeof(remote), "unix:%s/nb.sock", testserver_dir());
        REQUIRE(osn_ovsdb_connect(remote, NULL, osn_now_ms() + 5000, &nb, NULL) == 0);
        trace = json_array();
        labels = json_object();
        osn_nb_pin_spare_uuids(0x05e1);
        osn_txn_set_trace(record, NULL);

        test_pool_network();
        test_warm();
        test_join_static();
        test_localnet();
        test_identity();
        test_older_network();
        test_other_settings();
        test_ovs_requests();

        osn_txn_set_trace(NULL, NULL);
        json_decref(trace);
        json_decref(labels);
        osn_ovsdb_close(nb);
        printf("%d checks, %d failures\n", checks, failures);
        return failures ? 1 : 0;
}
