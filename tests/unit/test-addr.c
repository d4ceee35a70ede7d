/* test-addr: addr.c, table-driven.  Exits 0 when every case passes, else 1
 * after printing every failing case. */
#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>

#include "testlib.h"

static const struct {
        const char *in;
        bool need_prefix;
        const char *out; /* osn_cidr_format(), NULL = must be rejected */
} parse_cases[] = {
    {"10.0.0.0/24", true, "10.0.0.0/24"},
    {"10.0.0.1/24", true, "10.0.0.1/24"},
    {"10.0.0.1", false, "10.0.0.1/32"},
    {"0.0.0.0/0", true, "0.0.0.0/0"},
    {"255.255.255.255/32", true, "255.255.255.255/32"},
    {"10.0.0.1/32", false, "10.0.0.1/32"},
    {"fd00::/64", true, "fd00::/64"},
    {"FD00:0:0::1/64", true, "fd00::1/64"},
    {"::1", false, "::1/128"},
    {"::/0", true, "::/0"},
    {"2001:db8::1/128", true, "2001:db8::1/128"},
    {"::ffff:10.0.0.1/128", true, "::ffff:10.0.0.1/128"},
    /* rejected */
    {"10.0.0.1", true, NULL},
    {"10.0.0.1/33", true, NULL},
    {"10.0.0.1/", true, NULL},
    {"/24", true, NULL},
    {"/24", false, NULL},
    {"", false, NULL},
    {" 10.0.0.1/24", true, NULL},
    {"10.0.0.1/24 ", true, NULL},
    {"10.0.0.1 /24", true, NULL},
    {"10.0.0.1/ 24", true, NULL},
    {"010.0.0.1/24", true, NULL},
    {"10.0.0.01", false, NULL},
    {"10.0.0.1/024", true, NULL},
    {"10.0.0.1/+24", true, NULL},
    {"10.0.0.1/-1", true, NULL},
    {"10.0.0.1/2a", true, NULL},
    {"10.0.0.1/1000", true, NULL},
    {"10.0.0.1/24/24", true, NULL},
    {"10.0.1/24", true, NULL},
    {"10.0.0.256/24", true, NULL},
    {"0x0a.0.0.1", false, NULL},
    {"fd00::/129", true, NULL},
    {"fd00::1%eth0/64", true, NULL},
    {"fe80::1%eth0", false, NULL},
    {"1::2::3/64", true, NULL},
    {"fd00:::/64", true, NULL},
    {"eth0", false, NULL},
    {"10.0.0.1\n", false, NULL},
    {"1234:5678:9abc:def0:1234:5678:9abc:def0:1/64", true, NULL},
};

static void test_parse(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(parse_cases); i++) {
                struct osn_cidr c;
                char buf[OSN_CIDR_STRLEN];
                int r = osn_cidr_parse(parse_cases[i].in, parse_cases[i].need_prefix, &c);
                if (!parse_cases[i].out) {
                        CHECK(r == -EINVAL, "\"%s\" should be rejected", parse_cases[i].in);
                        continue;
                }
                CHECK(r == 0, "\"%s\" should parse", parse_cases[i].in);
                if (r == 0)
                        CHECK(streq(osn_cidr_format(&c, buf, sizeof(buf)), parse_cases[i].out),
                              "\"%s\" -> \"%s\", want \"%s\"", parse_cases[i].in, buf,
                              parse_cases[i].out);
        }
        CHECK(osn_cidr_parse(NULL, false, &(struct osn_cidr){0}) == -EINVAL, "NULL");
}

static void test_format(void)
{
        char buf[OSN_CIDR_STRLEN];
        struct osn_cidr c = test_cidr("10.1.2.3/24");
        CHECK(streq(osn_addr_format(&c, buf, sizeof(buf)), "10.1.2.3"), "%s", buf);
        c = test_cidr("2001:db8:0:0:0:0:0:1/64");
        CHECK(streq(osn_addr_format(&c, buf, sizeof(buf)), "2001:db8::1"), "%s", buf);
        CHECK(streq(osn_cidr_format(&c, buf, sizeof(buf)), "2001:db8::1/64"), "%s", buf);
        /* The longest IPv6 text fits OSN_CIDR_STRLEN. */
        c = test_cidr("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128");
        CHECK(strlen(osn_cidr_format(&c, buf, sizeof(buf))) < OSN_CIDR_STRLEN, "%s", buf);
        struct osn_cidr bad = {0};
        CHECK(streq(osn_addr_format(&bad, buf, sizeof(buf)), "?"), "%s", buf);
        /* Truncation never overflows. */
        char small[4];
        c = test_cidr("10.1.2.3/24");
        osn_cidr_format(&c, small, sizeof(small));
        CHECK(strlen(small) == 3, "%s", small);
}

static const struct {
        const char *in, *network;
        bool is_network;
} network_cases[] = {
    {"10.10.10.1/24", "10.10.10.0/24", false},
    {"10.10.10.0/24", "10.10.10.0/24", true},
    {"10.10.10.255/25", "10.10.10.128/25", false},
    {"10.10.10.7/31", "10.10.10.6/31", false},
    {"10.10.10.7/32", "10.10.10.7/32", true},
    {"10.10.10.7/0", "0.0.0.0/0", false},
    {"172.16.5.4/12", "172.16.0.0/12", false},
    {"fd00::1/64", "fd00::/64", false},
    {"fd00:1:2:3:4::/64", "fd00:1:2:3::/64", false},
    {"fd00:1:2:3::/64", "fd00:1:2:3::/64", true},
    {"2001:db8:abcd:12ff::/57", "2001:db8:abcd:1280::/57", false},
    {"::1/128", "::1/128", true},
};

static void test_network(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(network_cases); i++) {
                struct osn_cidr c = test_cidr(network_cases[i].in), n = osn_cidr_network(&c);
                char buf[OSN_CIDR_STRLEN];
                CHECK(streq(osn_cidr_format(&n, buf, sizeof(buf)), network_cases[i].network),
                      "network(%s) = %s, want %s", network_cases[i].in, buf,
                      network_cases[i].network);
                CHECK(osn_cidr_is_network(&c) == network_cases[i].is_network, "is_network(%s)",
                      network_cases[i].in);
                CHECK(osn_cidr_is_network(&n), "network(%s) is a network", network_cases[i].in);
        }
}

static const struct {
        const char *net, *addr;
        bool contains, overlaps;
} rel_cases[] = {
    {"10.10.10.0/24", "10.10.10.5", true, true},
    {"10.10.10.0/24", "10.10.11.5", false, false},
    {"10.10.10.0/24", "10.10.10.0/25", true, true},
    {"10.10.10.0/25", "10.10.10.0/24", true, true}, /* address inside; networks overlap */
    {"10.10.10.128/25", "10.10.10.0/24", false, true},
    {"10.10.10.0/24", "10.10.10.255", true, true},
    {"0.0.0.0/0", "192.0.2.1", true, true},
    {"10.10.10.0/24", "fd00::1", false, false},
    {"fd00::/64", "fd00::1", true, true},
    {"fd00::/64", "fd00:0:0:1::1", false, false},
    {"fd00::/48", "fd00:0:0:1::/64", true, true},
    {"fd00:0:0:1::/64", "fd00::/48", false, true},
    {"::/0", "2001:db8::1", true, true},
    {"::ffff:0:0/96", "10.0.0.1", false, false},
};

static void test_relations(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(rel_cases); i++) {
                struct osn_cidr n = test_cidr(rel_cases[i].net), a = test_cidr(rel_cases[i].addr);
                CHECK(osn_cidr_contains(&n, &a) == rel_cases[i].contains, "contains(%s, %s)",
                      rel_cases[i].net, rel_cases[i].addr);
                CHECK(osn_cidr_overlaps(&n, &a) == rel_cases[i].overlaps, "overlaps(%s, %s)",
                      rel_cases[i].net, rel_cases[i].addr);
                CHECK(osn_cidr_overlaps(&a, &n) == rel_cases[i].overlaps, "overlaps(%s, %s)",
                      rel_cases[i].addr, rel_cases[i].net);
        }
        struct osn_cidr a = test_cidr("10.0.0.1/24"), b = test_cidr("10.0.0.1/32"),
                        c = test_cidr("10.0.0.2/24");
        CHECK(osn_addr_equal(&a, &b), "prefix ignored");
        CHECK(!osn_addr_equal(&a, &c), "different");
        struct osn_cidr d = test_cidr("::ffff:10.0.0.1");
        CHECK(!osn_addr_equal(&a, &d), "families differ");
        /* A corrupt prefix length never reads past the address. */
        struct osn_cidr big = test_cidr("10.0.0.0/8");
        big.prefixlen = 200;
        CHECK(!osn_cidr_contains(&big, &a), "bad prefixlen");
        CHECK(osn_cidr_overlaps(&big, &big), "bad prefixlen, overlaps self");
}

static const struct {
        const char *in, *out; /* out NULL = rejected */
} mac_cases[] = {
    {"0a:58:0a:0a:0a:05", "0a:58:0a:0a:0a:05"},
    {"0A:58:0A:0A:0A:FF", "0a:58:0a:0a:0a:ff"},
    {"02:00:00:00:00:01", "02:00:00:00:00:01"},
    {"00:00:00:00:00:01", "00:00:00:00:00:01"},
    {"fe:ff:ff:ff:ff:ff", "fe:ff:ff:ff:ff:ff"},
    {"00:00:00:00:00:00", NULL}, /* all zero */
    {"01:00:5e:00:00:01", NULL}, /* multicast */
    {"ff:ff:ff:ff:ff:ff", NULL}, /* broadcast */
    {"03:00:00:00:00:01", NULL},
    {"0a-58-0a-0a-0a-05", NULL},
    {"0a:58:0a:0a:0a", NULL},
    {"0a:58:0a:0a:0a:05:", NULL},
    {"0a:58:0a:0a:0a:05:06", NULL},
    {"0a:58:0a:0a:0a:5", NULL},
    {"a:58:0a:0a:0a:055", NULL},
    {"0a:58:0a:0a:0a:0g", NULL},
    {" 0a:58:0a:0a:0a:05", NULL},
    {"0a58.0a0a.0a05", NULL},
    {"", NULL},
};

static void test_mac(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(mac_cases); i++) {
                uint8_t mac[6] = {0};
                char buf[OSN_MAC_STRLEN];
                int r = osn_mac_parse(mac_cases[i].in, mac);
                if (!mac_cases[i].out) {
                        CHECK(r == -EINVAL, "\"%s\" should be rejected", mac_cases[i].in);
                        continue;
                }
                CHECK(r == 0, "\"%s\" should parse", mac_cases[i].in);
                CHECK(streq(osn_mac_format(mac, buf, sizeof(buf)), mac_cases[i].out),
                      "\"%s\" -> \"%s\"", mac_cases[i].in, buf);
        }
        uint8_t mac[6];
        CHECK(osn_mac_parse(NULL, mac) == -EINVAL, "NULL");
}

int main(void)
{
        test_parse();
        test_format();
        test_network();
        test_relations();
        test_mac();
        printf("test-addr: %d checks, %d failed\n", checks, failures);
        return failures ? 1 : 0;
}
