/* test-tenancy: network keys from namespaces and grants, the grants'
 * parser and its errors, the physical network check and its message
 * (tenancy.h).  Needs no root. */
#include <string.h>

#include "tenancy.h"
#include "testlib.h"

static int parse(const char *cluster, const char *phys, struct osn_grants *g, struct osn_error *err)
{
        json_t *c = cluster ? json_loads(cluster, 0, NULL) : NULL;
        json_t *p = phys ? json_loads(phys, 0, NULL) : NULL;
        REQUIRE((!cluster || c) && (!phys || p));
        int r = osn_grants_parse("/etc/osn/node.json", c, p, g, err);
        json_decref(c);
        json_decref(p);
        return r;
}

static void keys(void)
{
        struct osn_grants g;
        struct osn_error err = {0};
        REQUIRE(parse("{\"storage\": [\"ns-b\", \"ns-a\", \"ns-a\"], \"all\": \"*\"}", NULL, &g,
                      &err) == 0);
        static const struct {
                const char *name, *ns, *key, *namespaces;
                enum osn_scope scope;
        } cases[] = {
            {"tenant-overlay", "tenant-a", "tenant-a/tenant-overlay", "", OSN_SCOPE_NAMESPACE},
            {"tenant-overlay", "tenant-b", "tenant-b/tenant-overlay", "", OSN_SCOPE_NAMESPACE},
            {"storage", "ns-a", "_cluster/storage", "ns-a,ns-b", OSN_SCOPE_CLUSTER},
            {"storage", "ns-b", "_cluster/storage", "ns-a,ns-b", OSN_SCOPE_CLUSTER},
            {"storage", "ns-c", "ns-c/storage", "", OSN_SCOPE_NAMESPACE},
            {"all", "anything", "_cluster/all", "*", OSN_SCOPE_CLUSTER},
            {"storage", "", "_none/storage", "", OSN_SCOPE_NONE},
            /* a name with "/" stays unambiguous: the scope ends at the first */
            {"a/b", "x", "x/a/b", "", OSN_SCOPE_NAMESPACE},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct osn_tenancy t;
                int r = osn_tenancy_resolve(&g, "/etc/osn/node.json", cases[i].name, cases[i].ns,
                                            &t, &err);
                CHECK(r == 0, "%s in %s: %d %s", cases[i].name, cases[i].ns, r, err.msg);
                CHECK(streq(t.network, cases[i].key), "%s in %s: key %s, want %s", cases[i].name,
                      cases[i].ns, t.network, cases[i].key);
                CHECK(t.scope == cases[i].scope, "%s in %s: scope %s", cases[i].name, cases[i].ns,
                      osn_scope_name(t.scope));
                CHECK(streq(t.namespaces, cases[i].namespaces), "%s: namespaces %s", cases[i].name,
                      t.namespaces);
                struct osn_tenancy l;
                osn_tenancy_legacy(&t, &l);
                CHECK(streq(l.network, cases[i].name) && l.scope == OSN_SCOPE_LEGACY,
                      "legacy key of %s: %s", cases[i].name, l.network);
        }
        static const char *const bad_ns[] = {"Tenant",
                                             "a_b",
                                             "a/b",
                                             "-a",
                                             "a-",
                                             "0123456789012345678901234567890123456789012345678"
                                             "901234567890123"};
        for (size_t i = 0; i < ARRAY_SIZE(bad_ns); i++) {
                struct osn_tenancy t;
                osn_error_clear(&err);
                int r = osn_tenancy_resolve(&g, "/p", "n", bad_ns[i], &t, &err);
                CHECK(r < 0 && err.code == OSN_CNI_INVALID_ENV &&
                          strstr(err.msg, "K8S_POD_NAMESPACE"),
                      "namespace %s: %d %s", bad_ns[i], r, err.msg);
        }
        osn_grants_free(&g);
}

static void grant_errors(void)
{
        static const struct {
                const char *cluster, *phys, *want;
        } cases[] = {
            {"[]", NULL, "key \"cluster_networks\" must be an object"},
            {"{\"s\": []}", NULL, "non-empty list of namespaces"},
            {"{\"s\": [\"Bad_NS\"]}", NULL, "entry Bad_NS is not a namespace name"},
            {"{\"a/b\": \"*\"}", NULL, "\"a/b\" is not a network name"},
            {NULL, "{\"physnet\": [10]}", "the value of \"physnet\" must be an object"},
            {NULL, "{\"physnet\": {\"UP\": \"*\"}}", "\"UP\" is not a namespace name"},
            {NULL, "{\"physnet\": {\"a\": [4095]}}", "4095 is not a VLAN ID"},
            {NULL, "{\"physnet\": {\"a\": [\"20-10\"]}}", "\"20-10\" is not a VLAN ID"},
            {NULL, "{\"physnet\": {\"a\": \"all\"}}", "must be a list of VLANs"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct osn_grants g;
                struct osn_error err = {0};
                int r = parse(cases[i].cluster, cases[i].phys, &g, &err);
                CHECK(r < 0 && err.code == OSN_CNI_INVALID_CONFIG &&
                          strstr(err.msg, "/etc/osn/node.json") && strstr(err.msg, cases[i].want),
                      "case %zu: %d %s", i, r, err.msg);
                if (r == 0)
                        osn_grants_free(&g);
        }
}

static void physical(void)
{
        struct osn_grants g;
        struct osn_error err = {0};
        REQUIRE(parse("{}",
                      "{\"physnet\": {\"tenant-a\": [10, \"100-199\", \"untagged\"], \"*\": [5], "
                      "\"_none\": [7]}, \"dc\": {\"*\": \"*\"}}",
                      &g, &err) == 0);
        static const struct {
                const char *ns, *physnet;
                unsigned vlan;
                bool ok;
        } cases[] = {
            {"tenant-a", "physnet", 10, true},  {"tenant-a", "physnet", 150, true},
            {"tenant-a", "physnet", 0, true},   {"tenant-a", "physnet", 200, false},
            {"tenant-a", "physnet", 5, true},   {"tenant-b", "physnet", 5, true},
            {"tenant-b", "physnet", 10, false}, {"tenant-b", "physnet", 0, false},
            {"", "physnet", 7, true},           {"", "physnet", 5, true},
            {"tenant-b", "dc", 0, true},        {"tenant-b", "dc", 4094, true},
            {"tenant-a", "other", 0, false},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct osn_tenancy t;
                REQUIRE(osn_tenancy_resolve(&g, "/p", "n", cases[i].ns, &t, &err) == 0);
                osn_error_clear(&err);
                int r = osn_tenancy_check_physical(&g, "/etc/osn/node.json", &t, cases[i].physnet,
                                                   cases[i].vlan, &err);
                CHECK((r == 0) == cases[i].ok, "%s on %s vlan %u: %d %s", cases[i].ns,
                      cases[i].physnet, cases[i].vlan, r, err.msg);
                if (r < 0)
                        CHECK(err.code == OSN_CNI_NOT_GRANTED &&
                                  strstr(err.msg, cases[i].physnet) &&
                                  strstr(err.msg, "physical_networks") &&
                                  strstr(err.msg, "/etc/osn/node.json"),
                              "message: %s", err.msg);
        }
        struct osn_tenancy t;
        REQUIRE(osn_tenancy_resolve(&g, "/p", "n", "tenant-b", &t, &err) == 0);
        osn_error_clear(&err);
        REQUIRE(osn_tenancy_check_physical(&g, "/etc/osn/node.json", &t, "physnet", 20, &err) < 0);
        CHECK(strstr(err.msg, "namespace tenant-b may not attach to physical network \"physnet\" "
                              "VLAN 20") &&
                  strstr(err.msg, "\"physical_networks\": {\"physnet\": {\"tenant-b\": [20]}}"),
              "the message names the grant: %s", err.msg);
        osn_grants_free(&g);
        /* No key at all: nothing is granted. */
        REQUIRE(parse(NULL, NULL, &g, &err) == 0);
        REQUIRE(osn_tenancy_resolve(&g, "/p", "n", "tenant-a", &t, &err) == 0);
        osn_error_clear(&err);
        CHECK(osn_tenancy_check_physical(&g, "/p", &t, "physnet", 0, &err) < 0,
              "no physical_networks grants nothing");
        osn_grants_free(&g);
}

int main(void)
{
        keys();
        grant_errors();
        physical();
        printf("test-tenancy: %d checks, %d failures\n", checks, failures);
        return failures ? 1 : 0;
}
