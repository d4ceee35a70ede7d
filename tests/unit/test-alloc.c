/* test-alloc: alloc.c, the pure half of osn's address allocation:
 * blocked and reserved addresses, static checks and their messages,
 * candidates (probe order, spread, no immediate reuse), the near-full scan,
 * exhaustion, IPv6 of any prefix length, usage counts, derived MACs. */
#include "alloc.h"

#include <arpa/inet.h>
#include <stdio.h>

#include "testlib.h"

/* A netconf for these tests: 'subnets' and 'excludes' etc. as
 * comma-separated lists ("" for none). */
static void parse_list(const char *s, struct osn_cidr *v, size_t *n, size_t max)
{
        *n = 0;
        char buf[1024];
        snprintf(buf, sizeof(buf), "%s", s);
        char *save = NULL;
        for (char *t = strtok_r(buf, ",", &save); t && *n < max; t = strtok_r(NULL, ",", &save))
                v[(*n)++] = test_cidr(t);
}

static void make_nc(struct osn_netconf *nc, const char *subnets, const char *excludes,
                    const char *reserved, const char *infra, const char *gateways, bool external)
{
        memset(nc, 0, sizeof(*nc));
        nc->name = (char *)"net";
        nc->external = external;
        parse_list(subnets, nc->subnets, &nc->n_subnets, OSN_MAX_SUBNETS);
        parse_list(excludes, nc->excludes, &nc->n_excludes, OSN_MAX_EXCLUDES);
        parse_list(reserved, nc->reserved, &nc->n_reserved, OSN_MAX_EXCLUDES);
        parse_list(infra, nc->infrastructure, &nc->n_infrastructure, OSN_MAX_EXCLUDES);
        parse_list(gateways, nc->gateways, &nc->n_gateways, OSN_MAX_SUBNETS);
}

static void test_static_checks(void)
{
        static const struct {
                const char *subnets, *excludes, *reserved, *infra, *gateways;
                bool external;
                const char *ip;
                const char *want; /* NULL: accepted; else a substring of the message */
        } cases[] = {
            {"10.10.20.0/24", "", "", "", "", true, "10.10.20.1", "is the physical gateway"},
            {"10.10.20.0/24", "", "", "", "", true, "10.10.20.2", NULL},
            {"10.10.20.0/24", "", "", "", "", false, "10.10.20.1", NULL},
            {"10.10.20.0/24", "", "", "", "", false, "10.10.20.0", "network address"},
            {"10.10.20.0/24", "", "", "", "", false, "10.10.20.255", "broadcast address"},
            {"10.10.20.0/24", "", "", "", "", false, "10.10.21.1",
             "outside the subnets of network \"net\" (10.10.20.0/24)"},
            {"10.0.0.0/24,fd00::/64", "10.0.0.0/29", "", "", "", false, "10.0.0.5",
             "is inside excludeSubnets 10.0.0.0/29"},
            {"10.0.0.0/24,fd00::/64", "fd00::10/128", "", "", "", false, "fd00::10",
             "is inside excludeSubnets fd00::10 "},
            {"10.0.0.0/24,fd00::/64", "fd00::10/128", "", "", "", false, "fd00::11", NULL},
            {"10.0.0.0/24", "", "10.0.0.128/25", "", "", false, "10.0.0.200", NULL},
            {"10.0.0.0/24", "", "", "10.0.0.240/28", "", false, "10.0.0.241",
             "inside infrastructureSubnets 10.0.0.240/28"},
            {"10.0.0.0/24", "", "", "", "10.0.0.1", false, "10.0.0.1",
             "is a gateway of network \"net\" (defaultGatewayIPs)"},
            {"fd00::/64", "", "", "", "", false, "fd00::", "anycast"},
            {"10.0.0.0/31", "", "", "", "", false, "10.0.0.0", NULL},
            {"10.0.0.0/31", "", "", "", "", false, "10.0.0.1", NULL},
            {"", "", "", "", "", false, "192.168.1.1", NULL},
        };
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                struct osn_netconf nc;
                make_nc(&nc, cases[i].subnets, cases[i].excludes, cases[i].reserved, cases[i].infra,
                        cases[i].gateways, cases[i].external);
                struct osn_alloc a;
                osn_alloc_init(&a, &nc);
                struct osn_cidr ip = test_cidr(cases[i].ip);
                struct osn_error e = {0};
                int r = osn_alloc_check_static(&a, &ip, "runtimeConfig.ips", &e);
                if (!cases[i].want)
                        CHECK(r == 0, "case %zu: %s refused: %s", i, cases[i].ip, e.msg);
                else
                        CHECK(r == -EINVAL && e.code == OSN_CNI_INVALID_CONFIG &&
                                  strstr(e.msg, cases[i].want) && strstr(e.msg, cases[i].ip),
                              "case %zu: %s: got %d \"%s\", want \"%s\"", i, cases[i].ip, r, e.msg,
                              cases[i].want);
        }
}

/* Every candidate is allocatable, candidates spread over the subnet, and
 * the sequence is deterministic for a seed. */
static void test_candidates(void)
{
        struct osn_netconf nc;
        make_nc(&nc, "10.0.0.0/24,fd00::/120", "10.0.0.0/28,fd00::/125", "10.0.0.128/26", "", "",
                true);
        struct osn_alloc a;
        osn_alloc_init(&a, &nc);
        for (size_t s = 0; s < 2; s++) {
                bool seen[256] = {false};
                size_t distinct = 0;
                for (unsigned k = 0; k < 2000; k++) {
                        struct osn_cidr c, c2;
                        uint64_t seed = osn_alloc_seed("osn.net.cid.net1") + k;
                        REQUIRE(osn_alloc_candidate(&a, s, seed, k % 7, &c) == 0);
                        REQUIRE(osn_alloc_candidate(&a, s, seed, k % 7, &c2) == 0);
                        CHECK(osn_addr_equal(&c, &c2), "candidates are deterministic");
                        CHECK(osn_cidr_contains(&a.subnets[s].subnet, &c), "inside its subnet");
                        CHECK(c.prefixlen == a.subnets[s].subnet.prefixlen, "subnet's prefix");
                        struct osn_error e = {0};
                        CHECK(osn_alloc_check_static(&a, &c, "x", &e) == 0,
                              "candidate %u is not blocked: %s", k, e.msg);
                        uint8_t last = c.family == AF_INET ? (uint8_t)ntohl(c.addr.v4.s_addr)
                                                           : c.addr.v6.s6_addr[15];
                        CHECK(!(c.family == AF_INET && last >= 128 && last < 192),
                              "reserved 10.0.0.%u was handed out dynamically", last);
                        CHECK(!(c.family == AF_INET && last == 1), "the physical gateway");
                        if (!seen[last]) {
                                seen[last] = true;
                                distinct++;
                        }
                }
                /* v4: 256 - 16 excluded - 64 reserved - broadcast = 175;
                 * v6: 256 - 8 excluded = 248.  2000 draws hit nearly all. */
                size_t want = s == 0 ? 175 : 248;
                CHECK(distinct >= want * 9 / 10 && distinct <= want,
                      "subnet %zu: %zu distinct candidates of %zu", s, distinct, want);
        }
}

/* The probe order: attempts of one seed give different addresses, and a
 * just-freed address is not the next ADD's (it would be, with lowest-free). */
static void test_no_immediate_reuse(void)
{
        struct osn_netconf nc;
        make_nc(&nc, "10.60.0.0/24", "", "", "", "", false);
        struct osn_alloc a;
        osn_alloc_init(&a, &nc);
        struct osn_cidr used[200];
        size_t n = 0;
        /* 100 pods, named as the plugin names ports. */
        for (int i = 0; i < 100; i++) {
                char port[64];
                snprintf(port, sizeof(port), "osn.net.c%04d.net1", i);
                REQUIRE(osn_alloc_pick_free(&a, 0, osn_alloc_seed(port), used, n, &used[n]) == 0);
                n++;
        }
        /* Free pod 37's address; the next 20 ADDs (new container ids) take
         * it at most once by chance, never all of them, and never first in
         * more than a few. */
        struct osn_cidr freed = used[37];
        used[37] = used[--n];
        int reused_first = 0;
        for (int i = 0; i < 200; i++) {
                char port[64];
                snprintf(port, sizeof(port), "osn.net.new%04d.net1", i);
                struct osn_cidr c;
                REQUIRE(osn_alloc_pick_free(&a, 0, osn_alloc_seed(port), used, n, &c) == 0);
                reused_first += osn_addr_equal(&c, &freed);
        }
        /* 154 free addresses: expected 200/154 ~ 1.3 reuses. */
        CHECK(reused_first <= 6, "the just-freed address came first %d times in 200", reused_first);
        /* Attempts of one seed differ. */
        struct osn_cidr c0, c1, c2;
        uint64_t seed = osn_alloc_seed("osn.net.x.net1");
        REQUIRE(osn_alloc_candidate(&a, 0, seed, 0, &c0) == 0);
        REQUIRE(osn_alloc_candidate(&a, 0, seed, 1, &c1) == 0);
        REQUIRE(osn_alloc_candidate(&a, 0, seed, 2, &c2) == 0);
        CHECK(!osn_addr_equal(&c0, &c1) || !osn_addr_equal(&c1, &c2), "attempts move on");
}

static void test_exhaustion(void)
{
        struct osn_netconf nc;
        make_nc(&nc, "10.60.0.0/29", "", "", "", "", false);
        struct osn_alloc a;
        osn_alloc_init(&a, &nc);
        struct osn_cidr used[8];
        size_t n = 0;
        for (int i = 0; i < 6; i++) {
                struct osn_cidr c;
                REQUIRE(osn_alloc_pick_free(&a, 0, (uint64_t)i * 977, used, n, &c) == 0);
                for (size_t k = 0; k < n; k++)
                        CHECK(!osn_addr_equal(&used[k], &c), "pick_free returned a used address");
                used[n++] = c;
        }
        struct osn_cidr c;
        CHECK(osn_alloc_pick_free(&a, 0, 12345, used, n, &c) == -ENOSPC, "a /29 holds 6");
        struct osn_alloc_usage u;
        osn_alloc_usage(&a, 0, used, n, &u);
        CHECK(u.capacity == 6 && u.used == 6 && u.reserved == 0, "usage 6 of 6");
        /* Free one: exactly that one comes back, from any seed. */
        struct osn_cidr freed = used[2];
        used[2] = used[--n];
        for (uint64_t seed = 0; seed < 50; seed++) {
                REQUIRE(osn_alloc_pick_free(&a, 0, seed, used, n, &c) == 0);
                CHECK(osn_addr_equal(&c, &freed), "the only free address");
        }
        /* Everything excluded: no candidate at all. */
        make_nc(&nc, "10.60.0.0/29", "10.60.0.0/29", "", "", "", false);
        osn_alloc_init(&a, &nc);
        CHECK(osn_alloc_candidate(&a, 0, 1, 0, &c) == -ENOSPC, "all excluded");
        osn_alloc_usage(&a, 0, NULL, 0, &u);
        CHECK(u.capacity == 0, "capacity 0");
        /* Reserved addresses do not count as capacity, and are not handed out. */
        make_nc(&nc, "10.60.0.0/29", "", "10.60.0.4/30", "", "", true);
        osn_alloc_init(&a, &nc);
        osn_alloc_usage(&a, 0, NULL, 0, &u);
        /* 8 - network - broadcast - gateway .1 - reserved .4..7 (broadcast .7
         * counted once) = 2 (.2, .3); reserved .4 .5 .6 = 3. */
        char b1[40], b2[40];
        CHECK(u.capacity == 2 && u.reserved == 3, "external /29 with a reserved /30: %s, %s",
              osn_u128_format(u.capacity, b1, sizeof(b1)),
              osn_u128_format(u.reserved, b2, sizeof(b2)));
        struct osn_cidr held[] = {test_cidr("10.60.0.2/29"), test_cidr("10.60.0.5/29"),
                                  test_cidr("10.60.0.2/29"), test_cidr("10.99.0.1/24")};
        osn_alloc_usage(&a, 0, held, 4, &u);
        CHECK(u.used == 1 && u.reserved_used == 1, "used counts once, reserved apart");
}

static void test_ipv6(void)
{
        static const char *const subnets[] = {"fd00::/60", "fd00::/120", "fd00::/64", "fd00::/127",
                                              "2001:db8::/32"};
        for (size_t i = 0; i < ARRAY_SIZE(subnets); i++) {
                struct osn_netconf nc;
                make_nc(&nc, subnets[i], "", "", "", "", false);
                struct osn_alloc a;
                osn_alloc_init(&a, &nc);
                struct osn_cidr c;
                REQUIRE(osn_alloc_candidate(&a, 0, 42, 0, &c) == 0);
                CHECK(osn_cidr_contains(&a.subnets[0].subnet, &c), "%s: inside", subnets[i]);
                struct osn_alloc_usage u;
                osn_alloc_usage(&a, 0, NULL, 0, &u);
                char b[40];
                osn_u128_format(u.capacity, b, sizeof(b));
                if (streq(subnets[i], "fd00::/120"))
                        CHECK(streq(b, "255"), "/120 capacity %s", b);
                if (streq(subnets[i], "fd00::/64"))
                        CHECK(streq(b, "18446744073709551615"), "/64 capacity %s", b);
                if (streq(subnets[i], "fd00::/127"))
                        CHECK(streq(b, "2"), "/127 capacity %s", b);
        }
        /* A /120 filled to the last address. */
        struct osn_netconf nc;
        make_nc(&nc, "fd00::/120", "fd00::80/121", "", "", "", false);
        struct osn_alloc a;
        osn_alloc_init(&a, &nc);
        struct osn_cidr used[128];
        size_t n = 0;
        struct osn_cidr c;
        while (osn_alloc_pick_free(&a, 0, n * 31, used, n, &c) == 0 && n < 128) {
                CHECK(c.addr.v6.s6_addr[15] >= 1 && c.addr.v6.s6_addr[15] < 0x80,
                      "excluded or anycast handed out: %u", c.addr.v6.s6_addr[15]);
                used[n++] = c;
        }
        CHECK(n == 127, "fd00::1 .. fd00::7f: %zu", n);
}

static void test_mac(void)
{
        struct osn_cidr v4v6[] = {test_cidr("fd00::a:b/64"), test_cidr("10.1.2.3/24")};
        uint8_t mac[6];
        char m[OSN_MAC_STRLEN];
        REQUIRE(osn_alloc_mac_for(v4v6, 2, mac) == 0);
        CHECK(streq(osn_mac_format(mac, m, sizeof(m)), "0a:58:0a:01:02:03"), "v4 MAC %s", m);
        REQUIRE(osn_alloc_mac_for(v4v6, 1, mac) == 0);
        CHECK(streq(osn_mac_format(mac, m, sizeof(m)), "0a:58:00:0a:00:0b"), "v6 MAC %s", m);
        CHECK(osn_alloc_mac_for(v4v6, 0, mac) == -ENOENT, "no IPs, no MAC");
        char b[40];
        CHECK(streq(osn_u128_format(0, b, sizeof(b)), "0"), "0");
        CHECK(streq(osn_u128_format(~(osn_u128)0, b, sizeof(b)),
                    "340282366920938463463374607431768211455"),
              "2^128-1: %s", b);
}

int main(void)
{
        test_static_checks();
        test_candidates();
        test_no_immediate_reuse();
        test_exhaustion();
        test_ipv6();
        test_mac();
        printf("test-alloc: %d checks, %d failed\n", checks, failures);
        return failures ? 1 : 0;
}
