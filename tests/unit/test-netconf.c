/* test-netconf: netconf.c, table-driven.
 *
 * Test configs are written with single quotes for readability; q() turns
 * them into JSON.  Golden files live in tests/unit/data/; run with
 * OSN_UPDATE_GOLDEN=1 to rewrite them after an intended change (and review
 * the diff).  Exits 0 when every case passes, else 1 after printing every
 * failing case.
 */
#include "netconf.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/socket.h>

#include "cni.h"
#include "testlib.h"

/* 'x' -> "x"; the returned buffer is reused on the next call. */
static const char *q(const char *s)
{
        static char buf[8192];
        size_t n = strlen(s);
        if (n >= sizeof(buf)) {
                fprintf(stderr, "test config too long\n");
                exit(1);
        }
        for (size_t i = 0; i <= n; i++)
                buf[i] = s[i] == '\'' ? '"' : s[i];
        return buf;
}

static struct osn_netconf *parse(const char *json, struct osn_error *err)
{
        struct osn_netconf *nc = NULL;
        osn_error_clear(err);
        int r = osn_netconf_parse(json, strlen(json), "stdin", &nc, err);
        if (r < 0) {
                if (nc)
                        fprintf(stderr, "ret set on failure\n");
                return NULL;
        }
        return nc;
}

/* ---- the seed's own samples ------------------------------------------- */

static void test_seed_samples(void)
{
        static const struct {
                const char *file;
                const char *where, *hint;
                const char *fingerprint;
        } samples[] = {
            {"nad-seed-1.json", "stdin: invalid JSON at line 6, column 9: ",
             "; remove the trailing comma after \"subnet\": \"10.10.10.0/24\" at line 5, "
             "column 38",
             "topology=layer2 subnets=10.10.10.0/24 excludes= mtu=0 external=no"},
            {"nad-seed-2.json", "stdin: invalid JSON at line 7, column 9: ",
             "; remove the trailing comma after \"has_external_connectivity\": true at line "
             "6, column 46",
             "topology=localnet subnets=10.10.20.0/24 excludes= mtu=0 external=yes physnet= "
             "vlan=0"},
        };

        for (size_t i = 0; i < ARRAY_SIZE(samples); i++) {
                size_t len;
                _cleanup_free_ char *text = test_data_read(samples[i].file, &len);
                CHECK(text, "cannot read %s", samples[i].file);
                if (!text)
                        continue;

                /* As written in the proposal: a decode error that points at
                 * the closing brace and says which comma to remove. */
                struct osn_error err = {0};
                struct osn_netconf *nc = NULL;
                int r = osn_netconf_parse(text, len, "stdin", &nc, &err);
                CHECK(r < 0 && !nc, "%s must not parse", samples[i].file);
                CHECK(err.code == OSN_CNI_DECODE_FAILURE, "%s: code %d", samples[i].file, err.code);
                CHECK(startswith(err.msg, samples[i].where), "%s: %s", samples[i].file, err.msg);
                CHECK(strstr(err.msg, samples[i].hint), "%s: %s", samples[i].file, err.msg);

                /* As Multus gets it from the YAML: a single-quoted scalar
                 * folds the lines into one, so it is all on line 1. */
                _cleanup_free_ char *folded = strdup(text);
                size_t o = 0;
                for (size_t k = 0; folded[k]; k++) {
                        if (folded[k] == '\n') {
                                while (o > 0 && folded[o - 1] == ' ')
                                        o--;
                                folded[o++] = ' ';
                                while (folded[k + 1] == ' ')
                                        k++;
                        } else {
                                folded[o++] = folded[k];
                        }
                }
                folded[o] = 0;
                const char *comma = strrchr(folded, ',');
                const char *brace = strrchr(folded, '}');
                char want[160];
                nc = parse(folded, &err);
                CHECK(!nc && err.code == OSN_CNI_DECODE_FAILURE, "folded %s", samples[i].file);
                snprintf(want, sizeof(want), "line 1, column %d:", (int)(brace - folded) + 1);
                CHECK(strstr(err.msg, want), "folded %s: want \"%s\" in %s", samples[i].file, want,
                      err.msg);
                snprintf(want, sizeof(want), "at line 1, column %d", (int)(comma - folded) + 1);
                CHECK(strstr(err.msg, "remove the trailing comma after \"") &&
                          strstr(err.msg, want),
                      "folded %s: want \"%s\" in %s", samples[i].file, want, err.msg);

                /* Without the comma: valid, and equal to its upstream form. */
                char *c = strrchr(text, ',');
                *c = ' ';
                _cleanup_netconf_ struct osn_netconf *ok = parse(text, &err);
                CHECK(ok, "%s without the comma: %s", samples[i].file, err.msg);
                if (!ok)
                        continue;
                CHECK(ok->dialect == OSN_DIALECT_SEED, "dialect");
                _cleanup_free_ char *fp = osn_netconf_fingerprint(ok);
                CHECK(streq(fp, samples[i].fingerprint), "%s: fingerprint %s", samples[i].file, fp);
                CHECK(strlen(fp) < 200, "fingerprints are short");

                char golden_name[64];
                snprintf(golden_name, sizeof(golden_name), "netconf-seed-%zu.json", i + 1);
                _cleanup_json_ json_t *j = osn_netconf_to_json(ok);
                _cleanup_free_ char *dump = json_dumps(j, JSON_SORT_KEYS | JSON_INDENT(2));
                size_t dl = strlen(dump);
                _cleanup_free_ char *d = malloc(dl + 2);
                memcpy(d, dump, dl);
                memcpy(d + dl, "\n", 2);
                golden(golden_name, d);
                snprintf(golden_name, sizeof(golden_name), "netconf-seed-%zu.txt", i + 1);
                _cleanup_free_ char *desc = osn_netconf_describe(ok);
                golden(golden_name, desc);
        }

        /* The same networks in the upstream dialect: same fingerprint. */
        struct osn_error err;
        _cleanup_netconf_ struct osn_netconf *up1 =
            parse(q("{'cniVersion': '1.0.0', 'type': 'ovn-k8s-cni-overlay', 'name': "
                    "'tenant-overlay', 'topology': 'layer2', 'subnets': '10.10.10.0/24', "
                    "'netAttachDefName': 'testns1/tenant-network-1'}"),
                  &err);
        CHECK(up1, "%s", err.msg);
        if (up1) {
                _cleanup_free_ char *fp = osn_netconf_fingerprint(up1);
                CHECK(streq(fp, samples[0].fingerprint), "upstream fingerprint %s", fp);
                CHECK(up1->dialect == OSN_DIALECT_UPSTREAM, "dialect");
        }
}

/* ---- valid configs ---------------------------------------------------- */

static const struct {
        const char *json; /* single-quoted */
        const char *fingerprint;
        enum osn_dialect dialect;
} valid_cases[] = {
    /* Seed dialect, with either type name. */
    {"{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':'n','subnet':'10.10.10.0/24'}",
     "topology=layer2 subnets=10.10.10.0/24 excludes= mtu=0 external=no", OSN_DIALECT_SEED},
    {"{'cniVersion':'0.3.1','type':'ovn-k8s-cni-overlay','name':'n','subnet':'10.10.10.0/24'}",
     "topology=layer2 subnets=10.10.10.0/24 excludes= mtu=0 external=no", OSN_DIALECT_SEED},
    {"{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':'n'}",
     "topology=layer2 subnets= excludes= mtu=0 external=no", OSN_DIALECT_SEED},
    {"{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':'n','subnet':''}",
     "topology=layer2 subnets= excludes= mtu=0 external=no", OSN_DIALECT_SEED},
    {"{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':'n','subnet':' 10.1.0.0/16 '}",
     "topology=layer2 subnets=10.1.0.0/16 excludes= mtu=0 external=no", OSN_DIALECT_SEED},
    {"{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':'n','has_external_connectivity':"
     "false}",
     "topology=layer2 subnets= excludes= mtu=0 external=no", OSN_DIALECT_SEED},
    {"{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':'n','subnet':'fd00::/64',"
     "'has_external_connectivity':true,'mtu':1400}",
     "topology=localnet subnets=fd00::/64 excludes= mtu=1400 external=yes physnet= vlan=0",
     OSN_DIALECT_SEED},
    /* "mtu", "netAttachDefName", "allowPersistentIPs" are common keys. */
    {"{'cniVersion':'0.4.0','type':'ovn-kubernetes','name':'n','subnet':'10.0.0.0/24',"
     "'mtu':9000,'netAttachDefName':'ns/nad','allowPersistentIPs':true}",
     "topology=layer2 subnets=10.0.0.0/24 excludes= mtu=9000 external=no", OSN_DIALECT_SEED},
    /* Upstream dialect, with either type name. */
    {"{'cniVersion':'1.1.0','type':'ovn-k8s-cni-overlay','name':'n','topology':'layer2'}",
     "topology=layer2 subnets= excludes= mtu=0 external=no", OSN_DIALECT_UPSTREAM},
    {"{'cniVersion':'1.1.0','type':'ovn-kubernetes','name':'n','topology':'layer2',"
     "'subnets':'10.10.10.0/24'}",
     "topology=layer2 subnets=10.10.10.0/24 excludes= mtu=0 external=no", OSN_DIALECT_UPSTREAM},
    /* Dual-stack, sorted IPv4 first whatever the order given. */
    {"{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n','topology':'layer2',"
     "'subnets':'fd00:10::/64, 10.10.0.0/16','mtu':1400}",
     "topology=layer2 subnets=10.10.0.0/16,fd00:10::/64 excludes= mtu=1400 external=no",
     OSN_DIALECT_UPSTREAM},
    {"{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n','topology':'layer2',"
     "'subnets':'10.10.0.0/16,fd00:10::/64'}",
     "topology=layer2 subnets=10.10.0.0/16,fd00:10::/64 excludes= mtu=0 external=no",
     OSN_DIALECT_UPSTREAM},
    /* Excludes: CIDRs or addresses, sorted, duplicates merged. */
    {"{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n','topology':'layer2',"
     "'subnets':'10.10.0.0/16,fd00:10::/64','excludeSubnets':'fd00:10::1, 10.10.0.200/29,"
     "10.10.0.1,10.10.0.0/30,10.10.0.1/32'}",
     "topology=layer2 subnets=10.10.0.0/16,fd00:10::/64 "
     "excludes=10.10.0.0/30,10.10.0.1/32,10.10.0.200/29,fd00:10::1/128 mtu=0 external=no",
     OSN_DIALECT_UPSTREAM},
    {"{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n','topology':'layer2',"
     "'subnets':'10.10.0.0/16','excludeSubnets':'10.10.0.0/16'}",
     "topology=layer2 subnets=10.10.0.0/16 excludes=10.10.0.0/16 mtu=0 external=no",
     OSN_DIALECT_UPSTREAM},
    /* Localnet: physical network defaults to the network name. */
    {"{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'tenant-blue','topology':"
     "'localnet','subnets':'192.168.100.0/24','vlanID':100}",
     "topology=localnet subnets=192.168.100.0/24 excludes= mtu=0 external=yes "
     "physnet=tenant-blue vlan=100",
     OSN_DIALECT_UPSTREAM},
    {"{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n','topology':'localnet',"
     "'physicalNetworkName':'physnet','vlanID':4094,'mtu':1500}",
     "topology=localnet subnets= excludes= mtu=1500 external=yes physnet=physnet vlan=4094",
     OSN_DIALECT_UPSTREAM},
    {"{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n','topology':'localnet',"
     "'vlanID':0}",
     "topology=localnet subnets= excludes= mtu=0 external=yes physnet=n vlan=0",
     OSN_DIALECT_UPSTREAM},
    /* 0 means "not set" for mtu and vlanID, as upstream's omitempty. */
    {"{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n','topology':'layer2',"
     "'mtu':0,'vlanID':0,'role':'secondary'}",
     "topology=layer2 subnets= excludes= mtu=0 external=no", OSN_DIALECT_UPSTREAM},
    /* Limits that are allowed. */
    {"{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n','topology':'layer2',"
     "'subnets':'10.0.0.0/30','mtu':576}",
     "topology=layer2 subnets=10.0.0.0/30 excludes= mtu=576 external=no", OSN_DIALECT_UPSTREAM},
    {"{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n','topology':'layer2',"
     "'subnets':'fd00::/64','mtu':1280}",
     "topology=layer2 subnets=fd00::/64 excludes= mtu=1280 external=no", OSN_DIALECT_UPSTREAM},
    {"{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n','topology':'layer2',"
     "'subnets':'10.0.0.0/24','mtu':65535}",
     "topology=layer2 subnets=10.0.0.0/24 excludes= mtu=65535 external=no", OSN_DIALECT_UPSTREAM},
    /* Upstream's e2e template writes every key, empty or not: "" and 0
     * are unset, as its omitempty fields. */
    {"{'cniVersion':'0.3.0','type':'ovn-k8s-cni-overlay','name':'abcde_l2','topology':'layer2',"
     "'subnets':'10.128.0.0/16','excludeSubnets':'','reservedSubnets':'',"
     "'infrastructureSubnets':'','defaultGatewayIPs':'','mtu':1300,'netAttachDefName':'ns/l2',"
     "'vlanID':0,'allowPersistentIPs':false,'physicalNetworkName':'','role':''}",
     "topology=layer2 subnets=10.128.0.0/16 excludes= mtu=1300 external=no", OSN_DIALECT_UPSTREAM},
    {"{'cniVersion':'0.3.0','type':'ovn-k8s-cni-overlay','name':'ln','topology':'localnet',"
     "'subnets':'','excludeSubnets':'','reservedSubnets':'','infrastructureSubnets':'',"
     "'defaultGatewayIPs':'','mtu':0,'netAttachDefName':'','vlanID':0,"
     "'allowPersistentIPs':false,'physicalNetworkName':'','role':'secondary'}",
     "topology=localnet subnets= excludes= mtu=0 external=yes physnet=ln vlan=0",
     OSN_DIALECT_UPSTREAM},
    /* Empty upstream keys do not make a seed config mixed. */
    {"{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':'n','subnet':'10.0.0.0/24',"
     "'excludeSubnets':'','vlanID':0,'physicalNetworkName':''}",
     "topology=layer2 subnets=10.0.0.0/24 excludes= mtu=0 external=no", OSN_DIALECT_SEED},
    /* The newer keys: last in the fingerprint, and only when set. */
    {"{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n','topology':'layer2',"
     "'subnets':'10.0.0.0/24,fd00:1::/64','excludeSubnets':'fd00:1::/120',"
     "'reservedSubnets':'10.0.0.128/25, fd00:1::1:0/112','infrastructureSubnets':"
     "'10.0.0.0/30,fd00:1::/126','defaultGatewayIPs':'fd00:1::1,10.0.0.1','role':'secondary'}",
     "topology=layer2 subnets=10.0.0.0/24,fd00:1::/64 excludes=fd00:1::/120 mtu=0 external=no "
     "reserved=10.0.0.128/25,fd00:1::1:0/112 infrastructure=10.0.0.0/30,fd00:1::/126 "
     "gateways=10.0.0.1/32,fd00:1::1/128",
     OSN_DIALECT_UPSTREAM},
    {"{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n','topology':'layer2',"
     "'subnets':'10.0.0.0/24','defaultGatewayIPs':'10.0.0.254','ipam':{'type':''}}",
     "topology=layer2 subnets=10.0.0.0/24 excludes= mtu=0 external=no gateways=10.0.0.254/32",
     OSN_DIALECT_UPSTREAM},
    /* The DHCP options, in the fingerprint only when set. */
    {"{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n','topology':'layer2',"
     "'subnets':'10.0.0.0/24','dhcpLeaseTime':20,'dns':{'nameservers':['10.0.0.53','fd00::53'],"
     "'search':['corp.example','example.org.'],'domain':'corp.example','options':[]}}",
     "topology=layer2 subnets=10.0.0.0/24 excludes= mtu=0 external=no lease=20 "
     "dns=10.0.0.53,fd00::53 search=corp.example,example.org. domain=corp.example",
     OSN_DIALECT_UPSTREAM},
    {"{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n','topology':'layer2',"
     "'subnets':'10.0.0.0/24','dhcpLeaseTime':0,'dns':{'domain':''}}",
     "topology=layer2 subnets=10.0.0.0/24 excludes= mtu=0 external=no", OSN_DIALECT_UPSTREAM},
    /* Null is absent; unknown keys are ignored; the last duplicate wins. */
    {"{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':'n','subnet':null,'subnets':null,"
     "'mtu':null,'ipam':{},'dns':{'nameservers':['1.1.1.1']},'foo':[1,2,3],"
     "'capabilities':{'ips':true}}",
     "topology=layer2 subnets= excludes= mtu=0 external=no dns=1.1.1.1", OSN_DIALECT_SEED},
    {"{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':'n','subnet':'10.0.0.0/24',"
     "'subnet':'10.1.0.0/24'}",
     "topology=layer2 subnets=10.1.0.0/24 excludes= mtu=0 external=no", OSN_DIALECT_SEED},
};

static void test_valid(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(valid_cases); i++) {
                struct osn_error err;
                const char *json = q(valid_cases[i].json);
                _cleanup_netconf_ struct osn_netconf *nc = parse(json, &err);
                CHECK(nc, "valid case %zu: %s: %s", i, json, err.msg);
                if (!nc)
                        continue;
                _cleanup_free_ char *fp = osn_netconf_fingerprint(nc);
                CHECK(streq(fp, valid_cases[i].fingerprint), "valid case %zu: fingerprint %s", i,
                      fp);
                CHECK(nc->dialect == valid_cases[i].dialect, "valid case %zu: dialect", i);
                CHECK(nc->external == (nc->topology == OSN_TOPO_LOCALNET),
                      "valid case %zu: external iff localnet", i);
                CHECK(nc->raw && nc->name && nc->type && nc->cni_version, "valid case %zu", i);
                _cleanup_free_ char *desc = osn_netconf_describe(nc);
                CHECK(desc && strstr(desc, "fingerprint: "), "valid case %zu", i);
                _cleanup_json_ json_t *j = osn_netconf_to_json(nc);
                CHECK(json_is_object(j), "valid case %zu: to_json", i);
                CHECK(streq(json_string_value(json_object_get(j, "fingerprint")), fp),
                      "valid case %zu: to_json fingerprint", i);
        }
}

static void test_fields(void)
{
        struct osn_error err;
        char a[OSN_CIDR_STRLEN], m[OSN_MAC_STRLEN];

        /* Every supported version. */
        for (size_t i = 0; osn_cni_versions[i]; i++) {
                char json[256];
                snprintf(json, sizeof(json),
                         "{\"cniVersion\":\"%s\",\"type\":\"ovn-kubernetes\",\"name\":\"n\"}",
                         osn_cni_versions[i]);
                _cleanup_netconf_ struct osn_netconf *nc = parse(json, &err);
                CHECK(nc && streq(nc->cni_version, osn_cni_versions[i]), "%s: %s",
                      osn_cni_versions[i], err.msg);
        }

        /* Runtime config, persistent IPs, NAD name, prevResult. */
        _cleanup_netconf_ struct osn_netconf *nc =
            parse(q("{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n','topology':"
                    "'layer2','subnets':'10.10.10.0/24,fd00::/64','allowPersistentIPs':true,"
                    "'netAttachDefName':'ns1/nad1','runtimeConfig':{'ips':['10.10.10.5/24',"
                    "'fd00::5/64'],'mac':'0A:58:0A:0A:0A:05','portMappings':[],'bandwidth':{}},"
                    "'prevResult':{'cniVersion':'1.0.0','interfaces':[],'ips':[]}}"),
                  &err);
        CHECK(nc, "%s", err.msg);
        if (nc) {
                CHECK(nc->n_static_ips == 2, "static ips");
                CHECK(streq(osn_cidr_format(&nc->static_ips[0], a, sizeof(a)), "10.10.10.5/24"),
                      "%s", a);
                CHECK(streq(osn_cidr_format(&nc->static_ips[1], a, sizeof(a)), "fd00::5/64"), "%s",
                      a);
                CHECK(nc->has_static_mac, "mac");
                CHECK(streq(osn_mac_format(nc->static_mac, m, sizeof(m)), "0a:58:0a:0a:0a:05"),
                      "%s", m);
                CHECK(nc->allow_persistent_ips, "allowPersistentIPs");
                CHECK(streq(nc->nad_name, "ns1/nad1"), "nad name");
                CHECK(json_is_object(nc->prev_result), "prevResult kept");
                CHECK(nc->physical_network == NULL, "no physnet on layer2");
                _cleanup_free_ char *fp = osn_netconf_fingerprint(nc);
                CHECK(!strstr(fp, "10.10.10.5") && !strstr(fp, "0a:58"),
                      "per-attachment data stays out of the fingerprint: %s", fp);
        }

        /* Without subnets any address with a prefix may be requested. */
        _cleanup_netconf_ struct osn_netconf *l2 =
            parse(q("{'cniVersion':'1.0.0','type':'ovn-kubernetes','name':'n',"
                    "'runtimeConfig':{'ips':['192.0.2.1/24','2001:db8::1/64']}}"),
                  &err);
        CHECK(l2 && l2->n_static_ips == 2, "%s", err.msg);

        /* Seed external: physical network left to the node. */
        _cleanup_netconf_ struct osn_netconf *ext =
            parse(q("{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':'n',"
                    "'has_external_connectivity':true}"),
                  &err);
        CHECK(ext && ext->external && ext->physical_network == NULL &&
                  ext->topology == OSN_TOPO_LOCALNET,
              "%s", err.msg);

        /* A name of exactly 200 bytes is fine. */
        char json[512], name[201];
        memset(name, 'a', 200);
        name[200] = 0;
        snprintf(json, sizeof(json),
                 "{\"cniVersion\":\"1.0.0\",\"type\":\"ovn-kubernetes\",\"name\":\"%s\"}", name);
        _cleanup_netconf_ struct osn_netconf *longname = parse(json, &err);
        CHECK(longname && strlen(longname->name) == 200, "%s", err.msg);

        /* No origin: no prefix. */
        struct osn_netconf *none = NULL;
        osn_error_clear(&err);
        const char *bad = "{\"cniVersion\":\"1.0.0\",\"type\":\"ovn-kubernetes\"}";
        CHECK(osn_netconf_parse(bad, strlen(bad), NULL, &none, &err) < 0 && !none, "no name");
        CHECK(streq(err.msg, "key \"name\" is required"), "%s", err.msg);

        /* NULL buffer. */
        osn_error_clear(&err);
        CHECK(osn_netconf_parse(NULL, 0, "x", &none, &err) < 0 &&
                  err.code == OSN_CNI_DECODE_FAILURE,
              "NULL buffer: %s", err.msg);
        osn_netconf_free(NULL);
}

static void test_fingerprints(void)
{
        /* Equal: order, spacing, duplicates and dialect do not matter. */
        static const char *const same[][2] = {
            {"'topology':'layer2','subnets':'10.0.0.0/24,fd00::/64','excludeSubnets':"
             "'10.0.0.1,10.0.0.2'",
             "'topology':'layer2','subnets':' fd00::/64 ,10.0.0.0/24','excludeSubnets':"
             "'10.0.0.2/32, 10.0.0.1,10.0.0.1'"},
            {"'subnet':'10.0.0.0/24'", "'topology':'layer2','subnets':'10.0.0.0/24'"},
            {"'subnet':'10.0.0.0/24','mtu':1400",
             "'topology':'layer2','subnets':'10.0.0.0/24','mtu':1400"},
            {"'topology':'localnet'", "'topology':'localnet','physicalNetworkName':'net'"},
            {"'topology':'localnet','vlanID':0", "'topology':'localnet'"},
            {"'topology':'layer2','mtu':0", "'topology':'layer2'"},
            {"'topology':'layer2','netAttachDefName':'a/b'",
             "'topology':'layer2','allowPersistentIPs':true"},
        };
        /* Different: every network-wide setting counts. */
        static const char *const differ[][2] = {
            {"'subnet':'10.0.0.0/24'", "'subnet':'10.0.1.0/24'"},
            {"'subnet':'10.0.0.0/24'", "'subnet':'10.0.0.0/25'"},
            {"'subnet':'10.0.0.0/24'", "'topology':'layer2','subnets':'10.0.0.0/24,fd00::/64'"},
            {"'topology':'layer2','subnets':'10.0.0.0/24'",
             "'topology':'layer2','subnets':'10.0.0.0/24','excludeSubnets':'10.0.0.1'"},
            {"'topology':'layer2'", "'topology':'layer2','mtu':1400"},
            {"'topology':'layer2'", "'topology':'localnet'"},
            {"'topology':'localnet'", "'topology':'localnet','vlanID':10"},
            {"'topology':'localnet'", "'topology':'localnet','physicalNetworkName':'other'"},
            {"'has_external_connectivity':true", "'topology':'localnet'"},
            {"'has_external_connectivity':true", "'has_external_connectivity':false"},
        };
        char fp[2][512];
        for (size_t i = 0; i < ARRAY_SIZE(same) + ARRAY_SIZE(differ); i++) {
                bool eq = i < ARRAY_SIZE(same);
                const char *const *pair = eq ? same[i] : differ[i - ARRAY_SIZE(same)];
                for (int k = 0; k < 2; k++) {
                        char json[1024];
                        struct osn_error err;
                        snprintf(json, sizeof(json),
                                 "{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':"
                                 "'net',%s}",
                                 pair[k]);
                        _cleanup_netconf_ struct osn_netconf *nc = parse(q(json), &err);
                        CHECK(nc, "%s: %s", json, err.msg);
                        _cleanup_free_ char *f = nc ? osn_netconf_fingerprint(nc) : NULL;
                        snprintf(fp[k], sizeof(fp[k]), "%s", f ? f : "");
                }
                CHECK(streq(fp[0], fp[1]) == eq, "%s\n  vs %s\n  %s\n  %s", pair[0], pair[1], fp[0],
                      fp[1]);
        }
}

/* Fingerprint -> osn_netconf_fingerprint_parse(): every setting the
 * fingerprint holds reads back as the config had it. */
static void check_fingerprint_round_trip(const char *what, const struct osn_netconf *nc)
{
        _cleanup_free_ char *fp = osn_netconf_fingerprint(nc);
        struct osn_netconf_settings st;
        int r = osn_netconf_fingerprint_parse(fp, &st);
        CHECK(r == 0, "%s: %s does not read back", what, fp);
        CHECK(st.has_topology && st.topology == nc->topology, "%s: topology of %s", what, fp);
        CHECK(st.n_subnets == nc->n_subnets &&
                  memcmp(st.subnets, nc->subnets, nc->n_subnets * sizeof(*nc->subnets)) == 0,
              "%s: subnets of %s", what, fp);
        CHECK(st.n_excludes == nc->n_excludes &&
                  memcmp(st.excludes, nc->excludes, nc->n_excludes * sizeof(*nc->excludes)) == 0,
              "%s: excludes of %s", what, fp);
        CHECK(st.n_reserved == nc->n_reserved &&
                  memcmp(st.reserved, nc->reserved, nc->n_reserved * sizeof(*nc->reserved)) == 0,
              "%s: reserved of %s", what, fp);
        CHECK(st.n_infrastructure == nc->n_infrastructure &&
                  memcmp(st.infrastructure, nc->infrastructure,
                         nc->n_infrastructure * sizeof(*nc->infrastructure)) == 0,
              "%s: infrastructure of %s", what, fp);
        CHECK(st.n_gateways == nc->n_gateways &&
                  memcmp(st.gateways, nc->gateways, nc->n_gateways * sizeof(*nc->gateways)) == 0,
              "%s: gateways of %s", what, fp);
        CHECK(st.has_mtu && st.mtu == nc->mtu, "%s: mtu of %s", what, fp);
        CHECK(st.external == nc->external, "%s: external of %s", what, fp);
        if (nc->external) {
                CHECK(streq(st.physical_network, nc->physical_network ? nc->physical_network : ""),
                      "%s: physnet of %s", what, fp);
                CHECK(st.vlan == nc->vlan, "%s: vlan of %s", what, fp);
        }
}

static void test_fingerprint_parse(void)
{
        static const struct {
                const char *what;
                const char *json; /* single-quoted */
        } configs[] = {
            {"seed", "{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':'n',"
                     "'subnet':'10.10.10.0/24'}"},
            {"seed external", "{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':'n',"
                              "'subnet':'10.10.20.0/24','has_external_connectivity':true}"},
            {"upstream", "{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n',"
                         "'topology':'layer2','subnets':'10.10.10.0/24'}"},
            {"dual-stack", "{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n',"
                           "'topology':'layer2','subnets':'fd00:10::/64,10.10.0.0/16'}"},
            {"localnet+vlan", "{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n',"
                              "'topology':'localnet','subnets':'192.168.100.0/24',"
                              "'physicalNetworkName':'physA','vlanID':100}"},
            {"excludes", "{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n',"
                         "'topology':'layer2','subnets':'10.10.0.0/16,fd00:10::/64',"
                         "'excludeSubnets':'fd00:10::1,10.10.0.200/29,10.10.0.1'}"},
            {"mtu", "{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n',"
                    "'topology':'layer2','subnets':'fd00::/64','mtu':1280}"},
            {"no subnet", "{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n',"
                          "'topology':'layer2'}"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(configs) + ARRAY_SIZE(valid_cases); i++) {
                bool named = i < ARRAY_SIZE(configs);
                const char *json =
                    named ? configs[i].json : valid_cases[i - ARRAY_SIZE(configs)].json;
                char what[64];
                snprintf(what, sizeof(what), "%s", named ? configs[i].what : "valid case");
                struct osn_error err;
                _cleanup_netconf_ struct osn_netconf *nc = parse(q(json), &err);
                CHECK(nc, "%s: %s", what, err.msg);
                if (nc)
                        check_fingerprint_round_trip(what, nc);
        }

        /* A newer osn's key is skipped; what does not read is left unset
         * and said so, the rest still reads. */
        struct osn_netconf_settings st;
        int r = osn_netconf_fingerprint_parse("topology=layer2 subnets=10.0.0.0/24 future=x "
                                              "mtu=1400 external=no",
                                              &st);
        CHECK(r == 0 && st.n_subnets == 1 && st.has_mtu && st.mtu == 1400,
              "unknown key: r %d, %zu subnets, mtu %u", r, st.n_subnets, st.mtu);
        r = osn_netconf_fingerprint_parse("topology=layer4 subnets=10.0.0.0/24,bogus,fd00::/64 "
                                          "excludes=10.0.0.1/32 mtu=x external=yes",
                                          &st);
        CHECK(r == -EINVAL && !st.has_topology && st.n_subnets == 1 && st.n_excludes == 1 &&
                  !st.has_mtu && st.external,
              "damaged: r %d, %zu subnets, %zu excludes", r, st.n_subnets, st.n_excludes);
        r = osn_netconf_fingerprint_parse("", &st);
        CHECK(r == 0 && !st.has_topology && !st.has_mtu && st.n_subnets == 0 && !st.external,
              "empty fingerprint");
}

/* ---- invalid configs -------------------------------------------------- */

#define BASE_SEED "'cniVersion':'0.3.1','type':'ovn-kubernetes','name':'n'"
#define BASE_UP   "'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'n'"
#define L2        BASE_UP ",'topology':'layer2'"

static const struct {
        const char *json; /* single-quoted */
        int code;
        const char *needle[3]; /* each must appear in the message */
} invalid_cases[] = {
    /* DHCP options: "dhcpLeaseTime" and the CNI spec's "dns". */
    {"{" L2 ",'subnets':'10.0.0.0/24','dhcpLeaseTime':5}",
     7,
     {"key \"dhcpLeaseTime\": 5 is out of range (10..2147483647 seconds"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','dhcpLeaseTime':'20'}",
     7,
     {"key \"dhcpLeaseTime\": expected an integer"}},
    {"{" BASE_UP ",'topology':'localnet','subnets':'10.0.0.0/24','dhcpLeaseTime':60}",
     7,
     {"key \"dhcpLeaseTime\": 60 needs OVN's DHCP server", "the default on a physical network"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','dhcp':false,'dhcpLeaseTime':60}",
     7,
     {"key \"dhcpLeaseTime\"", "\"dhcp\" is off)"}},
    {"{" L2 ",'dns':{'nameservers':['10.0.0.300']}}",
     7,
     {"key \"dns.nameservers[0]\": \"10.0.0.300\" is not an IPv4 or IPv6 address"}},
    {"{" L2 ",'dns':{'nameservers':['10.0.0.53/32']}}", 7, {"key \"dns.nameservers[0]\""}},
    {"{" L2 ",'dns':{'nameservers':'10.0.0.53'}}",
     7,
     {"key \"dns.nameservers\": expected an array"}},
    {"{" L2 ",'dns':{'nameservers':['1.1.1.1','1.1.1.2','1.1.1.3','1.1.1.4','1.1.1.5','1.1.1.6',"
     "'1.1.1.7']}}",
     7,
     {"key \"dns.nameservers\": 7 addresses; at most 6"}},
    {"{" L2 ",'dns':{'search':['-corp.example']}}",
     7,
     {"key \"dns.search[0]\": \"-corp.example\" has a label that starts with '-'"}},
    {"{" L2 ",'dns':{'search':['a..b']}}", 7, {"key \"dns.search[0]\"", "empty label"}},
    {"{" L2 ",'dns':{'search':['a_b.org']}}", 7, {"key \"dns.search[0]\"", "a character"}},
    {"{" L2 ",'dns':{'domain':'x.-y'}}", 7, {"key \"dns.domain\"", "starts with '-'"}},
    {"{" L2 ",'dns':{'options':['ndots:2']}}", 7, {"key \"dns.options\"", "have no DHCP option"}},
    {"{" L2 ",'dns':[]}", 7, {"key \"dns\": expected an object"}},

    /* Required keys. */
    {"{'type':'ovn-kubernetes','name':'n'}", 7, {"stdin: key \"cniVersion\" is required"}},
    {"{'cniVersion':'0.3.1','type':'ovn-kubernetes'}", 7, {"key \"name\" is required"}},
    {"{'cniVersion':'0.3.1','name':'n'}", 7, {"key \"type\" is required"}},
    {"{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':null}", 7, {"key \"name\" is required"}},

    /* Wrong JSON types: key, expected type and the value as given. */
    {"{'cniVersion':1.0,'type':'ovn-kubernetes','name':'n'}",
     7,
     {"key \"cniVersion\": expected a string, got 1.0 (a number)"}},
    {"{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':5}",
     7,
     {"key \"name\": expected a string, got 5 (an integer)"}},
    {"{'cniVersion':'0.3.1','type':true,'name':'n'}",
     7,
     {"key \"type\": expected a string, got true (a boolean)"}},
    {"{" BASE_SEED ",'subnet':['10.0.0.0/24']}",
     7,
     {"key \"subnet\": expected a string, got [\"10.0.0.0/24\"] (an array)"}},
    {"{" BASE_SEED ",'has_external_connectivity':'true'}",
     7,
     {"key \"has_external_connectivity\": expected a boolean (true or false), got \"true\" "
      "(a string)",
      "write it as a JSON boolean, without quotes"}},
    {"{" BASE_SEED ",'has_external_connectivity':1}",
     7,
     {"key \"has_external_connectivity\": expected a boolean", "got 1 (an integer)"}},
    {"{" BASE_UP ",'topology':2}", 7, {"key \"topology\": expected a string, got 2"}},
    {"{" L2 ",'subnets':5}", 7, {"key \"subnets\": expected a string, got 5"}},
    {"{" L2 ",'subnets':['10.0.0.0/24']}", 7, {"key \"subnets\": expected a string"}},
    {"{" L2 ",'excludeSubnets':{}}",
     7,
     {"key \"excludeSubnets\": expected a string, got {} (an object)"}},
    {"{" L2 ",'mtu':'1400'}",
     7,
     {"key \"mtu\": expected an integer, got \"1400\" (a string)",
      "write it as a JSON number, without quotes"}},
    {"{" L2 ",'mtu':1400.5}", 7, {"key \"mtu\": expected an integer, got 1400.5 (a number)"}},
    {"{" L2 ",'mtu':1400.0}", 7, {"key \"mtu\": expected an integer"}},
    {"{" L2 ",'mtu':true}", 7, {"key \"mtu\": expected an integer, got true"}},
    {"{" BASE_UP ",'topology':'localnet','vlanID':'10'}",
     7,
     {"key \"vlanID\": expected an integer, got \"10\" (a string)"}},
    {"{" BASE_UP ",'topology':'localnet','physicalNetworkName':1}",
     7,
     {"key \"physicalNetworkName\": expected a string, got 1"}},
    {"{" L2 ",'netAttachDefName':{}}", 7, {"key \"netAttachDefName\": expected a string"}},
    {"{" L2 ",'allowPersistentIPs':'yes'}",
     7,
     {"key \"allowPersistentIPs\": expected a boolean", "got \"yes\" (a string)"}},
    {"{" L2 ",'role':1}", 7, {"key \"role\": expected a string"}},
    {"{" L2 ",'runtimeConfig':[]}",
     7,
     {"key \"runtimeConfig\": expected an object, got [] (an array)"}},
    {"{" L2 ",'runtimeConfig':{'ips':'10.0.0.5/24'}}",
     7,
     {"key \"runtimeConfig.ips\": expected an array, got \"10.0.0.5/24\" (a string)"}},
    {"{" L2 ",'runtimeConfig':{'ips':[5]}}",
     7,
     {"key \"runtimeConfig.ips[0]\": expected a string, got 5"}},
    {"{" L2 ",'runtimeConfig':{'mac':5}}",
     7,
     {"key \"runtimeConfig.mac\": expected a string, got 5"}},
    {"{" L2 ",'prevResult':'x'}", 7, {"key \"prevResult\": expected an object, got \"x\""}},
    /* Long values are cut in messages. */
    {"{" L2 ",'mtu':'"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "'}",
     7,
     {"key \"mtu\": expected an integer, got \"xxxx", "x... (a string)"}},

    /* cniVersion, name, type values. */
    {"{'cniVersion':'0.5.0','type':'ovn-kubernetes','name':'n'}",
     1,
     {"key \"cniVersion\": \"0.5.0\" is not a supported CNI version",
      "0.1.0, 0.2.0, 0.3.0, 0.3.1, 0.4.0, 1.0.0, 1.1.0"}},
    {"{'cniVersion':'','type':'ovn-kubernetes','name':'n'}", 1, {"key \"cniVersion\": \"\""}},
    {"{'cniVersion':'1.0','type':'ovn-kubernetes','name':'n'}", 1, {"key \"cniVersion\": \"1.0\""}},
    {"{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':''}",
     7,
     {"key \"name\" must not be empty"}},
    {"{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':'my net'}",
     7,
     {"key \"name\": \"my net\" contains a space at byte 3"}},
    {"{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':'net\\t1'}",
     7,
     {"key \"name\"", "contains a tab at byte 4"}},
    {"{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':'net\\u0001'}",
     7,
     {"key \"name\"", "contains a control character at byte 4"}},
    {"{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':'r\\u00e9seau'}",
     7,
     {"key \"name\": \"réseau\" contains a non-ASCII character at byte 2"}},
    {"{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':'a\\u0000b'}",
     6,
     {"invalid JSON at line 1, column 63: NUL characters (\\u0000) are not allowed in "
      "strings near '\"a\\u0000b\"'"}},
    {"{'cniVersion':'0.3.1','type':'ovn-kubernetes','name':'"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
     "aaaaaaaaaaaaaaaaaaaaaaaaa'}",
     7,
     {"key \"name\"", "is 201 bytes long; at most 200"}},
    {"{'cniVersion':'0.3.1','type':'bridge','name':'n'}",
     7,
     {"key \"type\": \"bridge\" is not an osn plugin type",
      "\"ovn-kubernetes\" or \"ovn-k8s-cni-overlay\""}},

    /* Dialects. */
    {"{" BASE_SEED ",'subnet':'10.0.0.0/24','subnets':'10.0.0.0/24'}",
     7,
     {"keys \"subnet\" and \"subnets\" cannot be combined"}},
    {"{" BASE_SEED ",'subnet':'10.0.0.0/24','topology':'layer2'}",
     7,
     {"keys \"subnet\" and \"topology\" cannot be combined"}},
    {"{" BASE_SEED ",'has_external_connectivity':true,'vlanID':10}",
     7,
     {"keys \"has_external_connectivity\" and \"vlanID\" cannot be combined"}},
    {"{" BASE_SEED ",'subnet':'10.0.0.0/24','excludeSubnets':'10.0.0.1'}",
     7,
     {"keys \"subnet\" and \"excludeSubnets\""}},
    {"{" BASE_UP "}", 7, {"key \"subnets\" is missing: a layer3 network needs the cluster CIDR"}},
    {"{" BASE_SEED ",'subnets':'10.0.0.0/24'}",
     7,
     {"\"10.0.0.0/24\" with host prefix /24", "(write \"10.0.0.0/24/<hostPrefix>\")"}},
    {"{" BASE_UP ",'topology':'layer3','subnets':'10.128.0.0/14/14'}",
     7,
     {"\"10.128.0.0/14\" with host prefix /14: a node's host subnet must be longer than the "
      "cluster CIDR"}},
    {"{" BASE_UP ",'topology':'layer3','subnets':'10.128.0.0/14/31'}",
     7,
     {"host prefix /31", "at most /30"}},
    {"{" BASE_UP ",'topology':'layer3','subnets':'fd00::/48/127'}", 7, {"at most /126"}},
    {"{" BASE_UP ",'topology':'layer3','subnets':'10.128.0.0/14/x'}",
     7,
     {"the host prefix \"x\" is not a prefix length"}},
    {"{" L2 ",'subnets':'10.128.0.0/14/23'}",
     7,
     {"\"CIDR/hostPrefix\" is only valid with \"topology\": \"layer3\"", "\"layer2\""}},
    {"{" BASE_UP ",'topology':'layer3','subnets':'10.128.0.0/16','allowPersistentIPs':true}",
     7,
     {"layer3 topology does not allow persistent IPs"}},
    {"{" BASE_UP ",'topology':'layer3','subnets':'10.128.0.0/16','dhcp':true}",
     7,
     {"key \"dhcp\": a layer3 network has no OVN DHCP server"}},
    {"{" BASE_UP ",'topology':'layer3','subnets':'10.128.0.0/16','physicalNetworkName':'p'}",
     7,
     {"key \"physicalNetworkName\" is only valid with \"topology\": \"localnet\"", "\"layer3\""}},
    {"{" BASE_UP ",'topology':'layer3','subnets':'10.128.0.0/16','vlanID':10}",
     7,
     {"key \"vlanID\" is only valid with \"topology\": \"localnet\""}},
    {"{" BASE_UP
     ",'topology':'layer3','subnets':'10.128.0.0/16','reservedSubnets':'10.128.0.0/30'}",
     7,
     {"key \"reservedSubnets\" is only valid with \"topology\": \"layer2\""}},
    {"{" BASE_UP ",'topology':'layer3','subnets':'10.128.0.0/16','excludeSubnets':'10.1.0.0/24'}",
     7,
     {"key \"excludeSubnets\": \"10.1.0.0/24\" is outside the subnets (10.128.0.0/16)"}},
    {"{" BASE_UP ",'topology':'Layer2'}", 7, {"key \"topology\": \"Layer2\" is not a topology"}},
    {"{" L2 ",'role':'primary'}", 7, {"key \"role\": \"primary\" is not supported"}},
    {"{" L2 ",'role':'tertiary'}", 7, {"key \"role\": \"tertiary\" is not a role"}},

    /* Subnets. */
    {"{" BASE_SEED ",'subnet':'10.10.10.1/24'}",
     7,
     {"stdin: key \"subnet\": \"10.10.10.1/24\" is not a network address (host bits set); "
      "did you mean \"10.10.10.0/24\"?"}},
    {"{" L2 ",'subnets':'fd00::1/64'}",
     7,
     {"key \"subnets\": \"fd00::1/64\" is not a network address", "\"fd00::/64\"?"}},
    {"{" BASE_SEED ",'subnet':'10.10.10.0/33'}",
     7,
     {"key \"subnet\": \"10.10.10.0/33\" has an invalid prefix length (expected 0..32)"}},
    {"{" BASE_SEED ",'subnet':'10.10.10.0'}",
     7,
     {"key \"subnet\": \"10.10.10.0\" has no prefix length"}},
    {"{" BASE_SEED ",'subnet':'10.10.10.0/'}", 7, {"has no prefix length after the '/'"}},
    {"{" BASE_SEED ",'subnet':'/24'}", 7, {"key \"subnet\": \"/24\" has no address"}},
    {"{" BASE_SEED ",'subnet':'010.10.10.0/24'}",
     7,
     {"\"010.10.10.0/24\" does not start with a valid IP address"}},
    {"{" BASE_SEED ",'subnet':'10.10.10.0 /24'}", 7, {"does not start with a valid IP"}},
    {"{" L2 ",'subnets':'fd00::/129'}", 7, {"invalid prefix length (expected 0..128)"}},
    {"{" BASE_SEED ",'subnet':'10.0.0.0/24,fd00::/64'}",
     7,
     {"key \"subnet\"", "more than one subnet", "\"subnets\""}},
    {"{" L2 ",'subnets':'10.0.0.0/24,10.1.0.0/24'}",
     7,
     {"key \"subnets\": \"10.1.0.0/24\" and \"10.0.0.0/24\" are both IPv4",
      "at most one IPv4 and one IPv6 subnet"}},
    {"{" L2 ",'subnets':'fd00::/64,fd01::/64'}", 7, {"are both IPv6"}},
    {"{" L2 ",'subnets':'10.0.0.0/24,,fd00::/64'}",
     7,
     {"key \"subnets\": item 2 of \"10.0.0.0/24,,fd00::/64\" is empty"}},
    {"{" L2 ",'subnets':'10.0.0.0/24,'}", 7, {"key \"subnets\": item 2", "is empty"}},
    {"{" L2 ",'subnets':'10.0.0.0/31'}", 7, {"key \"subnets\": \"10.0.0.0/31\" is too small"}},
    {"{" L2 ",'subnets':'::ffff:10.0.0.0/120'}", 7, {"IPv4-mapped"}},

    /* Excludes. */
    {"{" L2 ",'excludeSubnets':'10.0.0.1'}", 7, {"key \"excludeSubnets\" needs \"subnets\""}},
    {"{" L2 ",'subnets':'10.0.0.0/24','excludeSubnets':'10.0.1.1'}",
     7,
     {"key \"excludeSubnets\": \"10.0.1.1/32\" is outside the subnets"}},
    {"{" L2 ",'subnets':'10.0.1.0/24','excludeSubnets':'10.0.0.0/16'}",
     7,
     {"key \"excludeSubnets\": \"10.0.0.0/16\" is outside the subnets"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','excludeSubnets':'fd00::1'}",
     7,
     {"\"fd00::1/128\" is outside the subnets"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','excludeSubnets':'10.0.0.5/30'}",
     7,
     {"key \"excludeSubnets\": \"10.0.0.5/30\" is not a network address",
      "did you mean \"10.0.0.4/30\"?"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','excludeSubnets':'10.0.0.300'}",
     7,
     {"key \"excludeSubnets\": \"10.0.0.300\" is not an IP address"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','excludeSubnets':'10.0.0.1,'}",
     7,
     {"key \"excludeSubnets\": item 2"}},

    /* MTU, VLAN, physical network. */
    {"{" L2 ",'mtu':575}", 7, {"key \"mtu\": 575 is out of range (576..65535)"}},
    {"{" L2 ",'mtu':65536}", 7, {"key \"mtu\": 65536 is out of range"}},
    {"{" L2 ",'mtu':-1}", 7, {"key \"mtu\": -1 is out of range"}},
    {"{" L2 ",'subnets':'10.0.0.0/24,fd00::/64','mtu':1000}",
     7,
     {"key \"mtu\": 1000 is too small for IPv6 subnet \"fd00::/64\"", "1280"}},
    {"{" BASE_UP ",'topology':'localnet','vlanID':4095}",
     7,
     {"key \"vlanID\": 4095 is not a VLAN ID (1..4094)"}},
    {"{" BASE_UP ",'topology':'localnet','vlanID':-3}", 7, {"key \"vlanID\": -3"}},
    {"{" L2 ",'vlanID':10}",
     7,
     {"key \"vlanID\" is only valid with \"topology\": \"localnet\"", "\"layer2\""}},
    {"{" L2 ",'physicalNetworkName':'physnet'}",
     7,
     {"key \"physicalNetworkName\" is only valid with \"topology\": \"localnet\""}},
    /* reservedSubnets, infrastructureSubnets, defaultGatewayIPs. */
    {"{" BASE_UP ",'topology':'localnet','subnets':'10.0.0.0/24','reservedSubnets':'10.0.0.0/28'}",
     7,
     {"key \"reservedSubnets\" is only valid with \"topology\": \"layer2\"", "\"localnet\""}},
    {"{" BASE_UP ",'topology':'localnet','subnets':'10.0.0.0/24',"
     "'infrastructureSubnets':'10.0.0.0/30'}",
     7,
     {"key \"infrastructureSubnets\" is only valid with \"topology\": \"layer2\""}},
    {"{" BASE_UP ",'topology':'localnet','subnets':'10.0.0.0/24','defaultGatewayIPs':'10.0.0.1'}",
     7,
     {"key \"defaultGatewayIPs\" is only valid with \"topology\": \"layer2\""}},
    {"{" L2 ",'reservedSubnets':'10.0.0.0/28'}", 7, {"key \"reservedSubnets\" needs \"subnets\""}},
    {"{" L2 ",'defaultGatewayIPs':'10.0.0.1'}", 7, {"key \"defaultGatewayIPs\" needs \"subnets\""}},
    {"{" L2 ",'subnets':'10.0.0.0/24,fd00::/64','reservedSubnets':'10.0.1.0/28'}",
     7,
     {"key \"reservedSubnets\": \"10.0.1.0/28\" is outside the subnets (10.0.0.0/24, fd00::/64)"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','infrastructureSubnets':'fd00::/126'}",
     7,
     {"key \"infrastructureSubnets\": \"fd00::/126\" is outside the subnets (10.0.0.0/24)"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','infrastructureSubnets':'10.0.0.5/30'}",
     7,
     {"key \"infrastructureSubnets\": \"10.0.0.5/30\" is not a network address"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','reservedSubnets':'10.0.0.0/28',"
     "'infrastructureSubnets':'10.0.0.8/30'}",
     7,
     {"key \"reservedSubnets\": \"10.0.0.0/28\" overlaps \"infrastructureSubnets\" "
      "\"10.0.0.8/30\""}},
    {"{" L2 ",'subnets':'10.0.0.0/24','defaultGatewayIPs':'10.0.1.1'}",
     7,
     {"key \"defaultGatewayIPs\": \"10.0.1.1\" is outside the subnets (10.0.0.0/24)"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','defaultGatewayIPs':'10.0.0.1/24'}",
     7,
     {"key \"defaultGatewayIPs\": \"10.0.0.1/24\" is not an IP address", "without a prefix"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','defaultGatewayIPs':'10.0.0.1,10.0.0.2'}",
     7,
     {"key \"defaultGatewayIPs\": \"10.0.0.2\" and \"10.0.0.1\" are both IPv4"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','defaultGatewayIPs':'10.0.0.0'}",
     7,
     {"key \"defaultGatewayIPs\": \"10.0.0.0\" is the network address of subnet \"10.0.0.0/24\""}},
    {"{" L2 ",'subnets':'10.0.0.0/24','defaultGatewayIPs':'10.0.0.255'}",
     7,
     {"\"10.0.0.255\" is the broadcast address of subnet \"10.0.0.0/24\""}},
    {"{" L2 ",'subnets':'10.0.0.0/24,fd00::/64','infrastructureSubnets':'10.0.0.0/30',"
     "'defaultGatewayIPs':'10.0.0.9,fd00::1'}",
     7,
     {"key \"defaultGatewayIPs\": \"10.0.0.9\" is outside the infrastructureSubnets "
      "(10.0.0.0/30)"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','defaultGatewayIPs':'10.0.0.x'}",
     7,
     {"key \"defaultGatewayIPs\": \"10.0.0.x\" is not an IP address"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','infrastructureSubnets':'10.0.0.0/30',"
     "'runtimeConfig':{'ips':['10.0.0.2/24']}}",
     7,
     {"key \"runtimeConfig.ips[0]\" 10.0.0.2 is inside infrastructureSubnets 10.0.0.0/30"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','defaultGatewayIPs':'10.0.0.1',"
     "'runtimeConfig':{'ips':['10.0.0.1/24']}}",
     7,
     {"key \"runtimeConfig.ips[0]\" 10.0.0.1 is a gateway of network \"n\" (defaultGatewayIPs)"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','reservedSubnets':1}",
     7,
     {"key \"reservedSubnets\": expected a string, got 1"}},
    {"{" BASE_UP ",'topology':'','subnets':'10.0.0.0/24'}",
     7,
     {"\"10.0.0.0/24\" with host prefix /24: a node's host subnet must be longer"}},
    /* What upstream refuses: a primary role, an IPAM plugin, its own
     * network names. */
    {"{" L2 ",'role':'primary'}",
     7,
     {"key \"role\": \"primary\" is not supported", "pod's primary (cluster) network"}},
    {"{" L2 ",'role':'Secondary'}", 7, {"key \"role\": \"Secondary\" is not a role"}},
    {"{" L2 ",'ipam':{'type':'host-local','subnet':'10.0.0.0/24'}}",
     7,
     {"key \"ipam\": an IPAM plugin (\"type\": \"host-local\") is not supported"}},
    {"{" BASE_SEED ",'ipam':{'type':'whereabouts'}}", 7, {"key \"ipam\": an IPAM plugin"}},
    {"{" L2 ",'ipam':'host-local'}", 7, {"key \"ipam\": expected an object"}},
    {"{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'default','topology':'layer2'}",
     7,
     {"key \"name\": \"default\" is reserved by upstream ovn-kubernetes"}},
    {"{'cniVersion':'1.0.0','type':'ovn-k8s-cni-overlay','name':'ovn-kubernetes',"
     "'topology':'localnet'}",
     7,
     {"key \"name\": \"ovn-kubernetes\" is reserved by upstream ovn-kubernetes"}},
    {"{" BASE_UP ",'topology':'localnet','physicalNetworkName':'a:b'}",
     7,
     {"key \"physicalNetworkName\": \"a:b\" must not contain ':' or ','"}},
    {"{" BASE_UP ",'topology':'localnet','physicalNetworkName':'a b'}",
     7,
     {"key \"physicalNetworkName\": \"a b\" contains a space"}},
    {"{" L2 ",'netAttachDefName':'nad'}",
     7,
     {"key \"netAttachDefName\": \"nad\" is not \"namespace/name\""}},
    {"{" L2 ",'netAttachDefName':'a/b/c'}", 7, {"key \"netAttachDefName\""}},

    /* Runtime config. */
    {"{" L2 ",'subnets':'10.0.0.0/24','runtimeConfig':{'ips':['10.0.0.5']}}",
     7,
     {"key \"runtimeConfig.ips[0]\": \"10.0.0.5\" has no prefix length"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','runtimeConfig':{'ips':['10.0.0.5/24','10.0.1.5/24']}}",
     7,
     {"key \"runtimeConfig.ips[1]\": \"10.0.1.5/24\" is outside the subnets"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','runtimeConfig':{'ips':['fd00::5/64']}}",
     7,
     {"key \"runtimeConfig.ips[0]\": \"fd00::5/64\" is outside the subnets"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','runtimeConfig':{'ips':['10.0.0.5/16']}}",
     7,
     {"key \"runtimeConfig.ips[0]\": \"10.0.0.5/16\" has prefix /16", "\"10.0.0.0/24\" is /24"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','runtimeConfig':{'ips':['10.0.0.0/24']}}",
     7,
     {"10.0.0.0 is the network address of subnet 10.0.0.0/24"}},
    {"{" L2 ",'subnets':'10.0.0.0/24','runtimeConfig':{'ips':['10.0.0.255/24']}}",
     7,
     {"10.0.0.255 is the broadcast address"}},
    {"{" L2 ",'runtimeConfig':{'ips':['10.0.0.5/24','10.0.0.5/25']}}",
     7,
     {"key \"runtimeConfig.ips[1]\": \"10.0.0.5/25\" is listed twice"}},
    {"{" L2 ",'runtimeConfig':{'ips':['10.0.0.5/33']}}",
     7,
     {"key \"runtimeConfig.ips[0]\": \"10.0.0.5/33\" has an invalid prefix length"}},
    {"{" L2 ",'runtimeConfig':{'ips':['1.0.0.1/8','1.0.0.2/8','1.0.0.3/8','1.0.0.4/8',"
     "'1.0.0.5/8','1.0.0.6/8','1.0.0.7/8','1.0.0.8/8','1.0.0.9/8']}}",
     7,
     {"key \"runtimeConfig.ips\": 9 addresses; at most 8"}},
    {"{" L2 ",'runtimeConfig':{'mac':'01:00:5e:00:00:01'}}",
     7,
     {"key \"runtimeConfig.mac\": \"01:00:5e:00:00:01\" is a multicast MAC address"}},
    {"{" L2 ",'runtimeConfig':{'mac':'zz'}}", 7, {"key \"runtimeConfig.mac\": \"zz\""}},

    /* Decoding. */
    {"", 6, {"stdin: the network configuration is empty"}},
    {"  \n ", 6, {"the network configuration is empty"}},
    {"[]", 6, {"must be a JSON object, got an array"}},
    {"{", 6, {"stdin: invalid JSON at line 1, column 1:"}},
    {"{}x", 6, {"invalid JSON at line 1, column 3: end of file expected near 'x'"}},
    {"{'a':'\\u0000'}", 6, {"invalid JSON at line 1"}},
    {"{'a':1,,}", 6, {"invalid JSON at line 1, column 8"}},
    /* jansson quotes the bad token raw; the message stays one line. */
    {"{'k': '\\u000\n\n]0'}",
     6,
     {"invalid JSON at line 2, column 0: invalid escape near '\"\\u000\\n'"}},
    {"{'k': '\t'}", 6, {"invalid JSON at line 1, column 7: control character 0x9"}},
    {"{" BASE_SEED ",'x':[1,\n 2 ,\n]}",
     6,
     {"invalid JSON at line 3, column 1",
      "; remove the trailing comma after 2 at line 2, column 4"}},
    {"{" BASE_SEED ",'runtimeConfig':{'ips':['10.0.0.5/24',]}}",
     6,
     {"remove the trailing comma after \"10.0.0.5/24\" at line 1, column 95"}},
    {"{" BASE_SEED ",'ipam':{'type':'x', 'ranges':[[{'subnet':'10.0.0.0/24'}]]},}",
     6,
     {"remove the trailing comma after \"ipam\":{\"type\":\"x\", \"ranges\":"
      "[[{\"subnet\":\"10.0.0.0/24\"}]]} at line 1, column 116"}},
    {"{'a, b':1,}", 6, {"remove the trailing comma after \"a, b\":1 at line 1, column 10"}},
    {"{'a\\\"':1 , \t}", 6, {"remove the trailing comma after \"a\\\"\":1 at line 1, column 10"}},
    {"[1,]", 6, {"remove the trailing comma after 1 at line 1, column 3"}},
};

static void test_invalid(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(invalid_cases); i++) {
                struct osn_error err;
                const char *json = q(invalid_cases[i].json);
                struct osn_netconf *nc = parse(json, &err);
                CHECK(!nc, "invalid case %zu must fail: %s", i, json);
                osn_netconf_free(nc);
                CHECK(err.code == invalid_cases[i].code, "invalid case %zu: code %d, want %d (%s)",
                      i, err.code, invalid_cases[i].code, err.msg);
                CHECK(startswith(err.msg, "stdin: "), "invalid case %zu: %s", i, err.msg);
                CHECK(!strchr(err.msg, '\n'), "invalid case %zu: one line: %s", i, err.msg);
                for (size_t k = 0; k < ARRAY_SIZE(invalid_cases[i].needle); k++)
                        if (invalid_cases[i].needle[k])
                                CHECK(strstr(err.msg, invalid_cases[i].needle[k]),
                                      "invalid case %zu: want \"%s\" in: %s", i,
                                      invalid_cases[i].needle[k], err.msg);
        }
}

/* The error's place as data: the same line and column the message names
 * last (the trailing comma when the hint blames one), 0 for errors that
 * are not about a place. */
static void test_error_place(void)
{
        static const struct {
                const char *json; /* single-quoted */
                int line, column;
        } cases[] = {
            {"{}x", 1, 3},
            {"{'a':1,,}", 1, 8},
            {"{", 1, 1},
            {"{'k': '\\u000\n\n]0'}", 2, 0},
            {"{" BASE_SEED ",'x':[1,\n 2 ,\n]}", 2, 4},
            {"[1,]", 1, 3},
            {"{'a, b':1,}", 1, 10},
            {"", 0, 0},
            {"[]", 0, 0},
            {"{'type':'ovn-kubernetes','name':'n'}", 0, 0},
            {"{" L2 ",'mtu':'1400'}", 0, 0},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct osn_error err;
                const char *json = q(cases[i].json);
                struct osn_netconf *nc = parse(json, &err);
                CHECK(!nc, "place case %zu must fail: %s", i, json);
                osn_netconf_free(nc);
                CHECK(err.line == cases[i].line && err.column == cases[i].column,
                      "place case %zu: line %d, column %d, want %d, %d (%s)", i, err.line,
                      err.column, cases[i].line, cases[i].column, err.msg);
        }

        /* The first error set wins, and keeps its own place. */
        struct osn_error err = {.line = 7, .column = 7};
        struct osn_netconf *nc = NULL;
        osn_error_set(&err, -EIO, OSN_CNI_IO_FAILURE, "earlier");
        CHECK(err.line == 0 && err.column == 0, "osn_error_set resets the place");
        int r = osn_netconf_parse("{}x", 3, "stdin", &nc, &err);
        CHECK(r < 0 && !nc && streq(err.msg, "earlier") && err.line == 0 && err.column == 0,
              "an error already set keeps its place: %s at %d, %d", err.msg, err.line, err.column);
}

/* osn_netconf_check_mtu(): an explicit mtu up to the node's limit for the
 * topology, never above; unset always passes. */
static void test_check_mtu(void)
{
        static const struct {
                const char *json; /* single-quoted */
                unsigned overlay, physical;
                bool ok;
                const char *needle;
        } cases[] = {
            {"{" L2 "}", 1442, 1500, true, NULL},
            {"{" L2 ",'mtu':1442}", 1442, 1500, true, NULL},
            {"{" L2 ",'mtu':1443}", 1442, 9000, false,
             "key \"mtu\": 1443 is above this node's overlay MTU 1442"},
            {"{" L2 ",'mtu':9000}", 1442, 1500, false, "overlay MTU 1442"},
            {"{" BASE_UP ",'topology':'localnet','mtu':1500}", 1442, 1500, true, NULL},
            {"{" BASE_UP ",'topology':'localnet','mtu':1501}", 9000, 1500, false,
             "key \"mtu\": 1501 is above this node's physical MTU 1500 (node config "
             "\"physical_mtu\")"},
            {"{" BASE_SEED ",'has_external_connectivity':true,'mtu':9000}", 1442, 1500, false,
             "physical MTU 1500"},
            {"{" BASE_SEED ",'mtu':1500}", 1442, 1500, false, "overlay MTU 1442"},
            {"{" L2 ",'mtu':9000}", 0, 0, true, NULL},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct osn_error err;
                _cleanup_netconf_ struct osn_netconf *nc = parse(q(cases[i].json), &err);
                CHECK(nc, "mtu case %zu: %s", i, err.msg);
                if (!nc)
                        continue;
                osn_error_clear(&err);
                int r = osn_netconf_check_mtu(nc, cases[i].overlay, cases[i].physical, &err);
                CHECK((r == 0) == cases[i].ok, "mtu case %zu: r=%d %s", i, r, err.msg);
                if (!cases[i].ok) {
                        CHECK(err.code == OSN_CNI_INVALID_CONFIG, "mtu case %zu: code %d", i,
                              err.code);
                        CHECK(strstr(err.msg, cases[i].needle), "mtu case %zu: want \"%s\" in %s",
                              i, cases[i].needle, err.msg);
                }
        }
}

/* osn_netconf_warnings(): did-you-mean for unknown keys near a known one,
 * duplicates with both places; nothing for keys that are fine or far from
 * any known one. */
static void test_warnings(void)
{
        static const struct {
                const char *json; /* single-quoted */
                const char *want[3];
                int line, column, prev_line, prev_column; /* of want[0] */
        } cases[] = {
            {"{" BASE_SEED ",'subnett':'10.0.0.0/24'}",
             {"unknown key \"subnett\" is ignored; did you mean \"subnet\" or \"subnets\"?"},
             1,
             58,
             0,
             0},
            {"{" BASE_SEED ",\n 'has_external_conectivity':true}",
             {"unknown key \"has_external_conectivity\" is ignored; did you mean "
              "\"has_external_connectivity\"?"},
             2,
             2,
             0,
             0},
            {"{" L2 ",'VLANID':5,'exludeSubnets':'','mut':1400}",
             {"unknown key \"VLANID\" is ignored; did you mean \"vlanID\"?",
              "unknown key \"exludeSubnets\" is ignored; did you mean \"excludeSubnets\"?",
              "unknown key \"mut\" is ignored; did you mean \"mtu\"?"},
             1,
             83,
             0,
             0},
            {"{" BASE_SEED ",\n'subnet':'10.0.0.0/24',\n  'subnet':'10.1.0.0/24'}",
             {"key \"subnet\" is given twice; the last one wins"},
             3,
             3,
             2,
             1},
            /* VMs: persistent IPs that Multus cannot give an identity;
             * "dns" that nothing hands out. */
            {"{" L2 ",'allowPersistentIPs':true}",
             {"key \"allowPersistentIPs\" without \"capabilities\": {\"mac\": true}: Multus "
              "passes no VM MAC, so a KubeVirt VM without an ipam-claim-reference in cni-args gets "
              "no identity; add \"capabilities\": {\"mac\": true, \"ips\": true}"},
             1,
             83,
             0,
             0},
            {"{" L2 ",'allowPersistentIPs':true,'capabilities':{'mac':true}}", {NULL}, 0, 0, 0, 0},
            {"{" L2 ",'allowPersistentIPs':false}", {NULL}, 0, 0, 0, 0},
            {"{" BASE_UP ",'topology':'localnet','dns':{'nameservers':['10.0.0.53']}}",
             {"key \"dns\" on a network without OVN's DHCP server (\"dhcp\" is off): nothing "
              "hands it to the pods; set \"dhcp\": true or remove it"},
             1,
             85,
             0,
             0},
            {"{" BASE_UP ",'topology':'localnet','dhcp':true,'dns':{'nameservers':['1.1.1.1']}}",
             {NULL},
             0,
             0,
             0,
             0},
            /* Fine: known keys, CNI's and upstream's own, far-off names,
             * nested objects. */
            {"{" L2 ",'joinSubnet':'','logFile':'x','dns':{},'capabilities':{'ips':true},"
             "'myOwnAnnotation':1,'runtimeConfig':{'subnett':1,'ips':[]},'x':{'name':1,'name':2}}",
             {NULL},
             0,
             0,
             0,
             0},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                const char *json = q(cases[i].json);
                struct osn_error err;
                _cleanup_netconf_ struct osn_netconf *nc = parse(json, &err);
                CHECK(nc, "warning case %zu parses: %s", i, err.msg);
                _cleanup_free_ struct osn_netconf_warning *w = NULL;
                size_t n = 0, want = 0;
                while (want < 3 && cases[i].want[want])
                        want++;
                int r = osn_netconf_warnings(json, strlen(json), &w, &n);
                CHECK(r == 0 && n == want, "warning case %zu: r=%d, %zu warnings, want %zu", i, r,
                      n, want);
                for (size_t k = 0; k < n && k < want; k++)
                        CHECK(streq(w[k].msg, cases[i].want[k]), "warning case %zu: %s", i,
                              w[k].msg);
                if (n > 0 && want > 0)
                        CHECK(w[0].line == cases[i].line && w[0].column == cases[i].column &&
                                  w[0].prev_line == cases[i].prev_line &&
                                  w[0].prev_column == cases[i].prev_column,
                              "warning case %zu: at %d:%d (first %d:%d)", i, w[0].line, w[0].column,
                              w[0].prev_line, w[0].prev_column);
        }
        /* Not a JSON object: no warnings (parsing says why). */
        _cleanup_free_ struct osn_netconf_warning *w = NULL;
        size_t n = 7;
        CHECK(osn_netconf_warnings("{,", 2, &w, &n) == 0 && n == 0 && !w, "undecodable: none");

        const char *words[] = {"NetworkAttachmentDefinition", "List"}, *near[2];
        CHECK(osn_closest_words("NetworkAttachmentDefiniton", words, 2, near, 2) == 1 &&
                  streq(near[0], "NetworkAttachmentDefinition"),
              "kind typo");
        CHECK(osn_closest_words("Pod", words, 2, near, 2) == 0, "far from any word");
        CHECK(osn_closest_words("List", words, 2, near, 2) == 0, "an exact word");
}

/* tests/upstream/: every upstream-shaped config parses as upstream's
 * dialect, with no error and no warning, and keeps the topology its file
 * name says. */
static void test_upstream_configs(void)
{
        DIR *d = opendir(OSN_TEST_DIR "/upstream");
        REQUIRE(d);
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                size_t len = strlen(e->d_name);
                if (len < 6 || !streq(e->d_name + len - 5, ".json"))
                        continue;
                char name[300];
                snprintf(name, sizeof(name), "../../upstream/%s", e->d_name);
                size_t blen = 0;
                _cleanup_free_ char *buf = test_data_read(name, &blen);
                CHECK(buf, "%s: cannot read", e->d_name);
                if (!buf)
                        continue;
                n++;
                struct osn_error err = {0};
                _cleanup_netconf_ struct osn_netconf *nc = NULL;
                CHECK(osn_netconf_parse(buf, blen, NULL, &nc, &err) == 0, "%s: %s", e->d_name,
                      err.msg);
                if (!nc)
                        continue;
                CHECK(nc->dialect == OSN_DIALECT_UPSTREAM, "%s: dialect", e->d_name);
                bool localnet = strstr(e->d_name, "localnet") != NULL;
                bool layer3 = strstr(e->d_name, "layer3") || strncmp(e->d_name, "l3-", 3) == 0;
                CHECK(nc->topology == (localnet ? OSN_TOPO_LOCALNET
                                       : layer3 ? OSN_TOPO_LAYER3
                                                : OSN_TOPO_LAYER2),
                      "%s: topology", e->d_name);
                CHECK(nc->nad_name != NULL, "%s: netAttachDefName", e->d_name);
                _cleanup_free_ struct osn_netconf_warning *w = NULL;
                size_t nw = 0;
                CHECK(osn_netconf_warnings(buf, blen, &w, &nw) == 0 && nw == 0,
                      "%s: %zu warnings (%s)", e->d_name, nw, nw ? w[0].msg : "");
                CHECK(osn_netconf_check_mtu(nc, 1442, 1500, &err) == 0, "%s: mtu: %s", e->d_name,
                      err.msg);
        }
        closedir(d);
        CHECK(n >= 11, "tests/upstream holds %zu configs", n);
}

/* osn_netconf_check_static_ip(), as ADD calls it for CNI_ARGS IP= (bare
 * addresses, prefixlen 0) and the parser for runtimeConfig.ips. */
static void test_check_static_ip(void)
{
        struct osn_error err;
        _cleanup_netconf_ struct osn_netconf *nc =
            parse(q("{" L2 ",'subnets':'10.0.0.0/24,fd00::/64','reservedSubnets':'10.0.0.64/26',"
                    "'infrastructureSubnets':'10.0.0.0/29','defaultGatewayIPs':'10.0.0.1',"
                    "'excludeSubnets':'10.0.0.200/30,fd00::99'}"),
                  &err);
        REQUIRE(nc);
        static const struct {
                const char *ip;   /* bare = as CNI_ARGS IP= gives it */
                const char *want; /* NULL = accepted */
        } cases[] = {
            {"10.0.0.100", NULL}, /* reserved: static requests may take it */
            {"10.0.0.9/24", NULL},
            {"fd00::5", NULL},
            {"10.0.1.5", "CNI_ARGS IP=: \"10.0.1.5\" is outside the subnets of this network "
                         "(10.0.0.0/24, fd00::/64)"},
            {"10.0.0.5", "10.0.0.5 is inside infrastructureSubnets 10.0.0.0/29"},
            {"10.0.0.9/25", "has prefix /25 but its subnet \"10.0.0.0/24\" is /24"},
            {"10.0.0.255", "is the broadcast address of subnet 10.0.0.0/24"},
            {"fd00::", "is the subnet-router anycast address of subnet fd00::/64"},
            {"10.0.0.201", "10.0.0.201 is inside excludeSubnets 10.0.0.200/30"},
            {"fd00::99/64", "fd00::99 is inside excludeSubnets fd00::99"},
            {"10.0.0.204", NULL},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct osn_cidr ip = test_cidr(cases[i].ip);
                if (!strchr(cases[i].ip, '/'))
                        ip.prefixlen = 0;
                osn_error_clear(&err);
                int r = osn_netconf_check_static_ip(nc, &ip, "CNI_ARGS IP=", &err);
                if (!cases[i].want)
                        CHECK(r == 0, "static %s: %s", cases[i].ip, err.msg);
                else
                        CHECK(r < 0 && err.code == OSN_CNI_INVALID_CONFIG &&
                                  strstr(err.msg, cases[i].want),
                              "static %s: %s", cases[i].ip, err.msg);
        }
        /* The gateway: refused too (a bare address equal to it). */
        struct osn_cidr gw = test_cidr("10.0.0.1");
        gw.prefixlen = 0;
        osn_error_clear(&err);
        CHECK(osn_netconf_check_static_ip(nc, &gw, "CNI_ARGS IP=", &err) < 0 &&
                  strstr(err.msg, "infrastructureSubnets"),
              "gateway inside infrastructure: %s", err.msg);
}

static void test_is_osn_type(void)
{
        CHECK(osn_netconf_is_osn_type("ovn-kubernetes"), "seed type");
        CHECK(osn_netconf_is_osn_type("ovn-k8s-cni-overlay"), "upstream type");
        CHECK(!osn_netconf_is_osn_type("bridge"), "another plugin's type");
        CHECK(!osn_netconf_is_osn_type("ovn-kubernetes "), "exact match only");
        CHECK(!osn_netconf_is_osn_type(""), "empty type");
        CHECK(!osn_netconf_is_osn_type(NULL), "no type");
}

/* Layer3 (upstream's routed topology): "subnets" as "CIDR/hostPrefix" or
 * a bare CIDR with upstream's defaults, dual-stack; no topology means
 * layer3; the host prefixes are part of the fingerprint and read back. */
static void test_layer3(void)
{
        static const struct {
                const char *json;
                size_t n_subnets;
                const char *first;
                unsigned hp4, hp6;
                const char *fp;
        } cases[] = {
            {"{" BASE_UP ",'topology':'layer3','subnets':'10.128.0.0/16/24'}", 1, "10.128.0.0/16",
             24, 0,
             "topology=layer3 subnets=10.128.0.0/16 excludes= mtu=0 external=no hostprefix4=24"},
            {"{" BASE_UP ",'topology':'layer3','subnets':'10.128.0.0/14'}", 1, "10.128.0.0/14", 24,
             0, "topology=layer3 subnets=10.128.0.0/14 excludes= mtu=0 external=no hostprefix4=24"},
            {"{" BASE_UP ",'subnets':'10.128.0.0/14/23'}", 1, "10.128.0.0/14", 23, 0,
             "topology=layer3 subnets=10.128.0.0/14 excludes= mtu=0 external=no hostprefix4=23"},
            {"{" BASE_UP ",'topology':'layer3','subnets':' fd00:10::/48 , 10.130.0.0/16/26 '}", 2,
             "10.130.0.0/16", 26, 64,
             "topology=layer3 subnets=10.130.0.0/16,fd00:10::/48 excludes= mtu=0 external=no "
             "hostprefix4=26 hostprefix6=64"},
            {"{" BASE_UP ",'topology':'layer3','subnets':'fd00:10::/48/56',"
             "'excludeSubnets':'fd00:10::/64','mtu':1400}",
             1, "fd00:10::/48", 0, 56,
             "topology=layer3 subnets=fd00:10::/48 excludes=fd00:10::/64 mtu=1400 external=no "
             "hostprefix6=56"},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct osn_error err = {0};
                _cleanup_netconf_ struct osn_netconf *nc = parse(q(cases[i].json), &err);
                CHECK(nc, "layer3 case %zu: %s", i, err.msg);
                if (!nc)
                        continue;
                char a[OSN_CIDR_STRLEN];
                CHECK(nc->topology == OSN_TOPO_LAYER3, "layer3 case %zu: topology %s", i,
                      osn_topology_name(nc->topology));
                CHECK(nc->n_subnets == cases[i].n_subnets &&
                          streq(osn_cidr_format(&nc->subnets[0], a, sizeof(a)), cases[i].first),
                      "layer3 case %zu: %zu subnets, first %s", i, nc->n_subnets, a);
                CHECK(osn_netconf_host_prefix(nc, AF_INET) == cases[i].hp4 &&
                          osn_netconf_host_prefix(nc, AF_INET6) == cases[i].hp6,
                      "layer3 case %zu: host prefixes /%u /%u", i, nc->host_prefix4,
                      nc->host_prefix6);
                CHECK(!nc->dhcp, "layer3 case %zu: no DHCP server", i);
                _cleanup_free_ char *fp = osn_netconf_fingerprint(nc);
                CHECK(fp && streq(fp, cases[i].fp), "layer3 case %zu: fingerprint \"%s\"", i,
                      fp ? fp : "(null)");
                struct osn_netconf_settings st;
                CHECK(fp && osn_netconf_fingerprint_parse(fp, &st) == 0 && st.has_topology &&
                          st.topology == OSN_TOPO_LAYER3 && st.host_prefix4 == cases[i].hp4 &&
                          st.host_prefix6 == cases[i].hp6 && st.n_subnets == cases[i].n_subnets,
                      "layer3 case %zu: fingerprint reads back", i);
        }
        /* layer2 and localnet fingerprints do not change. */
        struct osn_error err = {0};
        _cleanup_netconf_ struct osn_netconf *nc =
            parse(q("{" L2 ",'subnets':'10.0.0.0/24'}"), &err);
        _cleanup_free_ char *fp = nc ? osn_netconf_fingerprint(nc) : NULL;
        CHECK(fp && streq(fp, "topology=layer2 subnets=10.0.0.0/24 excludes= mtu=0 external=no"),
              "layer2 fingerprint unchanged: %s", fp ? fp : "(null)");
}

int main(void)
{
        test_seed_samples();
        test_valid();
        test_fields();
        test_fingerprints();
        test_fingerprint_parse();
        test_invalid();
        test_error_place();
        test_check_mtu();
        test_warnings();
        test_upstream_configs();
        test_layer3();
        test_check_static_ip();
        test_is_osn_type();
        printf("test-netconf: %zu valid and %zu invalid configs, %d checks, %d failed\n",
               ARRAY_SIZE(valid_cases), ARRAY_SIZE(invalid_cases), checks, failures);
        return failures ? 1 : 0;
}
