/* test-layer3: layer3.h on a real ovsdb-server (no root): nodes claim host
 * subnets in order, a node keeps its own, a full cluster CIDR says who
 * holds it, settings and topologies conflict, the release with the node's
 * switch frees its subnet and takes the router with the last one. */
#include "layer3.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ovn.h"
#include "testlib.h"
#include "testserver.h"
#include "txn.h"
#include "util.h"

#define NB OSN_NB_DB

static struct osn_netconf *parse(const char *json)
{
        struct osn_netconf *nc = NULL;
        struct osn_error err = {0};
        if (osn_netconf_parse(json, strlen(json), "test", &nc, &err) < 0) {
                fprintf(stderr, "test config does not parse: %s\n", err.msg);
                exit(1);
        }
        return nc;
}

static struct osn_tenancy tenancy(const char *ns, const char *name)
{
        struct osn_grants g = {0};
        struct osn_tenancy t;
        struct osn_error err = {0};
        REQUIRE(osn_tenancy_resolve(&g, "node.json", name, ns, &t, &err) == 0);
        return t;
}

static const char *fmt(const struct osn_cidr *c)
{
        static char buf[4][OSN_CIDR_STRLEN];
        static int k;
        k = (k + 1) % 4;
        return osn_cidr_format(c, buf[k], sizeof(buf[k]));
}

/* The names of the ports of router osn.<network>, sorted, space-separated
 * ("" when there is no router, "-" when it has no port). */
static void router_ports(struct osn_ovsdb *nb, const char *network, char *buf, size_t len)
{
        char rname[512];
        snprintf(rname, sizeof(rname), "osn.%s", network);
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(NB);
        osn_op r = osn_txn_select(t, "Logical_Router", osn_where_eq("name", json_string(rname)),
                                  (const char *const[]){"ports", NULL});
        osn_op p = osn_txn_select(t, "Logical_Router_Port", NULL,
                                  (const char *const[]){"_uuid", "name", NULL});
        REQUIRE(osn_txn_commit(t, nb, osn_now_ms() + 5000, NULL) == 0);
        buf[0] = 0;
        const json_t *router = osn_txn_row(t, r);
        if (!router)
                return;
        const json_t *ports = json_object_get(router, "ports");
        size_t n = osn_ovsdb_set_size(ports);
        if (n == 0)
                snprintf(buf, len, "-");
        /* Names in the order of the port table, which is small here. */
        size_t i;
        const json_t *row;
        json_array_foreach((json_t *)osn_txn_rows(t, p), i, row)
        {
                const char *u = osn_ovsdb_row_uuid(row);
                for (size_t k = 0; k < n; k++)
                        if (streq(json_string_value(json_array_get(osn_ovsdb_set_at(ports, k), 1)),
                                  u))
                                snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
                                         buf[0] ? " " : "",
                                         json_string_value(json_object_get(row, "name")));
        }
}

/* Removes node switch osn.<key> as its last DEL does (ovn.h). */
static int delete_node_switch(struct osn_ovsdb *nb, const char *key)
{
        char name[512];
        snprintf(name, sizeof(name), "osn.%s", key);
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(NB);
        osn_op q = osn_txn_select(t, "Logical_Switch", osn_where_eq("name", json_string(name)),
                                  (const char *const[]){"_uuid", "ports", "external_ids", NULL});
        REQUIRE(osn_txn_commit(t, nb, osn_now_ms() + 5000, NULL) == 0);
        const json_t *sw = osn_txn_row(t, q);
        if (!sw)
                return 0;
        struct osn_error err = {0};
        return osn_nb_delete_switch_if(
            nb, key, osn_ovsdb_row_uuid(sw), json_object_get(sw, "ports"),
            json_object_get(sw, "external_ids"), "test", osn_now_ms() + 5000, &err);
}

/* The requests a step sends (txn.h's trace hook). */
static json_t *trace;
static void record(const char *db, const json_t *ops, void *aux)
{
        json_array_append_new(trace, json_deep_copy(ops));
}

/* The request among 'trace' that inserts a row into 'table', as text (keys
 * sorted, one operation a line), or "" when none does. */
static char *request_with(const char *table)
{
        size_t i, k;
        const json_t *ops, *op;
        json_array_foreach(trace, i, ops)
        {
                bool found = false;
                json_array_foreach((json_t *)ops, k, op) found |=
                    streq(json_string_value(json_object_get(op, "op")), "insert") &&
                    streq(json_string_value(json_object_get(op, "table")), table);
                if (!found)
                        continue;
                char *text = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&text, &len);
                REQUIRE(f);
                json_array_foreach((json_t *)ops, k, op)
                {
                        char *line = json_dumps(op, JSON_SORT_KEYS | JSON_COMPACT);
                        fprintf(f, "%s\n", line ? line : "");
                        free(line);
                }
                fclose(f);
                return text;
        }
        return strdup("");
}

static void test_names(void)
{
        struct osn_tenancy t = tenancy("ns1", "l3"), n;
        struct osn_error err = {0};
        CHECK(osn_layer3_node_tenancy(&t, "node-a", &n, &err) == 0 &&
                  streq(n.network, "ns1/l3@node-a") && streq(n.name, "l3"),
              "node key %s", n.network);
        char node[300];
        memset(node, 'n', sizeof(node) - 1);
        node[sizeof(node) - 1] = 0;
        CHECK(osn_layer3_node_tenancy(&t, node, &n, &err) == -ENAMETOOLONG &&
                  err.code == OSN_CNI_INVALID_CONFIG && strstr(err.msg, "shorten"),
              "a key that does not fit: %s", err.msg);
        char u1[37], u2[37];
        const char *l3[] = {OSN_EXT_NETWORK, "ns1/l3@a", OSN_EXT_L3_NETWORK, "ns1/l3", NULL};
        const char *l2[] = {OSN_EXT_NETWORK, "ns1/l2", NULL};
        json_t *m3 = osn_ovsdb_map(l3), *m2 = osn_ovsdb_map(l2);
        CHECK(osn_nb_router_lsp_uuid(m3, u1) && osn_nb_router_lsp_uuid(m3, u2) && streq(u1, u2) &&
                  osn_ovsdb_is_uuid(u1),
              "a node switch's router port has one derived UUID: %s", u1);
        CHECK(!osn_nb_router_lsp_uuid(m2, u1), "a layer2 switch has none");
        osn_router_lsp_uuid("ns1/l3@a", u2);
        CHECK(streq(u1, u2), "the UUID names.h derives for the node key");
        json_decref(m3);
        json_decref(m2);
}

static void test_server(void)
{
        testserver_start_nb("nb", NULL);
        char remote[512];
        snprintf(remote, sizeof(remote), "unix:%s/nb.sock", testserver_dir());
        struct osn_ovsdb *nb = NULL;
        REQUIRE(osn_ovsdb_connect(remote, NULL, osn_now_ms() + 5000, &nb, NULL) == 0);
        struct osn_error err = {0};
        int64_t dl = osn_now_ms() + 20000;

        /* Room for two host subnets per family. */
        _cleanup_netconf_ struct osn_netconf *nc =
            parse("{\"cniVersion\":\"1.0.0\",\"type\":\"ovn-k8s-cni-overlay\",\"name\":\"tiny\","
                  "\"topology\":\"layer3\",\"subnets\":\"10.150.0.0/23/24,fd00:150::/63/64\"}");
        struct osn_tenancy t = tenancy("ns", "tiny");
        _cleanup_free_ char *fp = osn_netconf_fingerprint(nc);
        struct osn_layer3_node a, a2, b, c;
        trace = json_array();
        osn_txn_set_trace(record, NULL);
        CHECK(osn_layer3_join(nb, nc, &t, "a", "node.json", fp, dl, &a, &err) == 0 && a.created &&
                  a.n == 2,
              "node a claims: %s", err.msg);
        osn_txn_set_trace(NULL, NULL);
        /* The claim, byte for byte (nothing in it is the server's choice:
         * the router is new, the UUIDs osn's own). */
        _cleanup_free_ char *claim = request_with("Logical_Router_Port");
        golden("layer3-claim.txt", claim);
        json_decref(trace);
        CHECK(streq(fmt(&a.host_subnets[0]), "10.150.0.0/24") &&
                  streq(fmt(&a.host_subnets[1]), "fd00:150::/64"),
              "the first host subnets: %s %s", fmt(&a.host_subnets[0]), fmt(&a.host_subnets[1]));
        char g[OSN_CIDR_STRLEN];
        CHECK(streq(osn_addr_format(&a.gateways[0], g, sizeof(g)), "10.150.0.1") &&
                  a.gateways[0].prefixlen == 32,
              "the router port's address is the first: %s", g);
        CHECK(streq(a.ten.network, "ns/tiny@a"), "node a's key %s", a.ten.network);
        CHECK(osn_layer3_join(nb, nc, &t, "a", "node.json", fp, dl, &a2, &err) == 0 &&
                  !a2.created && streq(fmt(&a2.host_subnets[0]), "10.150.0.0/24") &&
                  streq(fmt(&a2.host_subnets[1]), "fd00:150::/64"),
              "node a's next ADD reads its own: %s", err.msg);
        CHECK(osn_layer3_join(nb, nc, &t, "b", "node.json", fp, dl, &b, &err) == 0 && b.created &&
                  streq(fmt(&b.host_subnets[0]), "10.150.1.0/24") &&
                  streq(fmt(&b.host_subnets[1]), "fd00:150:0:1::/64"),
              "node b gets the next: %s %s", fmt(&b.host_subnets[0]), fmt(&b.host_subnets[1]));
        char ports[1024];
        router_ports(nb, "ns/tiny", ports, sizeof(ports));
        CHECK(strstr(ports, "osn.ns/tiny@a.lrp") && strstr(ports, "osn.ns/tiny@b.lrp"),
              "one router, a port per node: %s", ports);
        osn_error_clear(&err);
        CHECK(osn_layer3_join(nb, nc, &t, "c", "node.json", fp, dl, &c, &err) == -ENOSPC &&
                  err.code == OSN_CNI_TRY_AGAIN_LATER,
              "node c finds the CIDR full: %d", err.code);
        CHECK(strstr(err.msg, "ns/tiny") && strstr(err.msg, "10.150.0.0/23") &&
                  strstr(err.msg, "a (10.150.0.0/24)") && strstr(err.msg, "b (10.150.1.0/24)") &&
                  strstr(err.msg, "node c"),
              "naming the network, the CIDR, its holders and the node: %s", err.msg);

        /* Other settings: at the router, for a node with or without a switch. */
        _cleanup_netconf_ struct osn_netconf *nc2 =
            parse("{\"cniVersion\":\"1.0.0\",\"type\":\"ovn-k8s-cni-overlay\",\"name\":\"tiny\","
                  "\"subnets\":\"10.150.0.0/23/25,fd00:150::/63/64\"}");
        _cleanup_free_ char *fp2 = osn_netconf_fingerprint(nc2);
        osn_error_clear(&err);
        CHECK(osn_layer3_join(nb, nc2, &t, "d", "node.json", fp2, dl, &c, &err) == -EEXIST &&
                  err.code == OSN_CNI_CONFLICT && strstr(err.msg, "hostprefix4=24") &&
                  strstr(err.msg, "hostprefix4=25"),
              "a NAD with another host prefix conflicts, showing both: %s", err.msg);
        /* A layer2 network of the key: one name, two topologies. */
        _cleanup_txn_ struct osn_txn *l2 = osn_txn_new(NB);
        const char *ids[] = {OSN_EXT_NETWORK, "ns/mixed", OSN_EXT_FINGERPRINT, "topology=layer2",
                             NULL};
        osn_txn_insert(
            l2, "Logical_Switch",
            json_pack("{s:s, s:o}", "name", "osn.ns/mixed", "external_ids", osn_ovsdb_map(ids)),
            NULL, NULL);
        REQUIRE(osn_txn_commit(l2, nb, dl, NULL) == 0);
        struct osn_tenancy tm = tenancy("ns", "mixed");
        osn_error_clear(&err);
        CHECK(osn_layer3_join(nb, nc, &tm, "a", "node.json", fp, dl, &c, &err) == -EEXIST &&
                  err.code == OSN_CNI_CONFLICT && strstr(err.msg, "topology=layer2"),
              "a layer3 NAD whose key is a layer2 network's conflicts: %s", err.msg);

        /* Node a's last DEL: its switch goes with its router port. */
        CHECK(delete_node_switch(nb, "ns/tiny@a") == 1, "node a's switch deleted");
        router_ports(nb, "ns/tiny", ports, sizeof(ports));
        CHECK(streq(ports, "osn.ns/tiny@b.lrp"), "node b's router port alone is left: %s", ports);
        osn_error_clear(&err);
        CHECK(osn_layer3_join(nb, nc, &t, "c", "node.json", fp, dl, &c, &err) == 0 && c.created &&
                  streq(fmt(&c.host_subnets[0]), "10.150.0.0/24"),
              "node c gets the subnet node a freed: %s %s", fmt(&c.host_subnets[0]), err.msg);
        /* A first ADD that failed after its claim gives it back. */
        CHECK(osn_layer3_leave(nb, c.ten.network, dl, &err) == 0, "node c leaves: %s", err.msg);
        router_ports(nb, "ns/tiny", ports, sizeof(ports));
        CHECK(streq(ports, "osn.ns/tiny@b.lrp"), "and its router port goes: %s", ports);
        CHECK(delete_node_switch(nb, "ns/tiny@b") == 1, "node b's switch deleted");
        router_ports(nb, "ns/tiny", ports, sizeof(ports));
        CHECK(streq(ports, ""), "the router went with the last node's switch: '%s'", ports);
        osn_ovsdb_close(nb);
}

int main(void)
{
        test_names();
        if (!testserver_init("layer3", NULL)) {
                printf("skip: no ovsdb-server (%d checks passed so far)\n", checks);
                return failures ? 1 : 77;
        }
        test_server();
        printf("test-layer3: %d checks, %d failures\n", checks, failures);
        return failures ? 1 : 0;
}
