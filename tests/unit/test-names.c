/* test-names: names.c, every name and MAC that osn derives, pinned to
 * exact values.
 *
 * The OVN port name (also the OVS iface-id), the host-side veth name and
 * the default MAC are computed from the network name, the container id and
 * the interface name, and never stored anywhere osn reads them back from:
 * a DEL, CHECK or GC run by a newer plugin finds what an older one made
 * only because it derives the same names.  Changing any of these functions
 * would orphan every attachment made before an upgrade, so each expected
 * value below was computed independently (FNV-1a 64 by hand, in Python)
 * from the functions as shipped, and must not change.
 *
 * The same holds for a network's fingerprint, stored on its logical switch
 * when the first attachment creates it: every later ADD compares its NAD's
 * fingerprint with the stored one and refuses a difference.  A newer osn
 * that wrote a different fingerprint for the same NAD would refuse every
 * ADD to every network that exists at upgrade time.  A change to the
 * fingerprint must therefore stay equal for the NADs below (e.g. a new key
 * only written when set), or come with a migration.  Needs no root. */
#include <net/if.h>
#include <stdio.h>

#include "names.h"

#include <arpa/inet.h>

#include "netconf.h"
#include "testlib.h"

static const struct {
        const char *network, *container_id, *ifname;
        const char *port, *host_ifname, *mac;
} cases[] = {
    {"tenant-overlay", "cid-a", "net1", "osn.tenant-overlay.cid-a.net1", "osn782e3e16c2c6",
     "0a:9e:6e:f1:6d:f4"},
    {"l2net", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "net1",
     "osn.l2net.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.net1",
     "osn16f84a947a7e", "52:58:3a:59:54:f1"},
    {"vlan10", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "eth1",
     "osn.vlan10.9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.eth1",
     "osn8659e09fd5ff", "1e:a8:f0:45:e2:62"},
    {"tenant-overlay-ext-network", "cid-b", "net2", "osn.tenant-overlay-ext-network.cid-b.net2",
     "osn62844888daa3", "c2:04:92:e0:03:84"},
    {"n", "c", "i", "osn.n.c.i", "osn38fb05c9885d", "da:26:6e:e3:89:a6"},
};

/* The network's derived DHCP objects (names.h), by network key, computed
 * in Python from the FNV-1a 64 hash and the salts 0x4444 (DHCPv4 options),
 * 0x6666 (DHCPv6 options) and 0x5e5e (the server's port). */
static const struct {
        const char *network, *dhcp4_uuid, *dhcp6_uuid, *server_port_uuid, *server_mac;
} dhcp_cases[] = {
    {"tenant-overlay", "d1bfe529-98e6-49ac-82a2-b4c7a5350bdc",
     "d1bfe529-98e6-4b8e-b7de-b41eea080bd5", "d1bfe529-98e6-43b6-ac57-8509ea9e76b1",
     "0a:59:98:e6:3d:e8"},
    {"ns1/l2net", "254651a7-a89d-4aa3-82ca-10c062cc6fe3", "254651a7-a89d-4881-a141-4337e9bb75c4",
     "254651a7-a89d-40b9-b931-afc475669998", "0a:59:a8:9d:7e:e7"},
    {"_cluster/vlan10", "b9df0f88-3b20-4a01-acb4-e255d8c1d6fd",
     "b9df0f88-3b20-4823-91e8-6a093f92b68d", "b9df0f88-3b20-401b-8b31-98262352ca3a",
     "0a:59:3b:20:ee:45"},
};

#define SPARE_UUID "0b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8"

static void check_str(char *got, const char *want, const char *what)
{
        CHECK(streq(got, want), "%s: got %s, want %s", what, got ? got : "(null)", want);
        free(got);
}

/* The ports of a network besides its attachments', and the pool's and the
 * holders' keys on its switch. */
static void test_network_names(void)
{
        check_str(osn_identity_port_name("ns1/l2net", "vm-a/net1"), "osn.ns1/l2net.id.vm-a/net1",
                  "identity port");
        check_str(osn_spare_port_name("ns1/l2net", SPARE_UUID), "osn.ns1/l2net.spare." SPARE_UUID,
                  "spare port");
        check_str(osn_dhcp_port_name("ns1/l2net"), "osn.ns1/l2net.dhcp", "DHCP server port");

        char u[OSN_UUID_SIZE] = "";
        CHECK(osn_is_spare_port("ns1/l2net", "osn.ns1/l2net.spare." SPARE_UUID, u) &&
                  streq(u, SPARE_UUID),
              "a spare's name is a spare's, its UUID read back: %s", u);
        CHECK(osn_is_spare_port("ns1/l2net", "osn.ns1/l2net.spare." SPARE_UUID, NULL),
              "uuid may be NULL");
        CHECK(!osn_is_spare_port("ns1/l2", "osn.ns1/l2net.spare." SPARE_UUID, NULL) &&
                  !osn_is_spare_port("ns1/l2net", "osn.ns1/l2net.spare.junk", NULL) &&
                  !osn_is_spare_port("ns1/l2net", "osn.ns1/l2net.spare." SPARE_UUID "x", NULL) &&
                  !osn_is_spare_port("ns1/l2net", "osn.ns1/l2net.cid.spare", NULL) &&
                  !osn_is_spare_port("ns1/l2net", "ovn.ns1/l2net.spare." SPARE_UUID, NULL) &&
                  !osn_is_spare_port("ns1/l2net", NULL, NULL),
              "not a spare: another network's (a prefix of the name), no UUID, a longer "
              "suffix, an attachment, another prefix, none");

        for (size_t i = 0; i < ARRAY_SIZE(dhcp_cases); i++) {
                char v4[OSN_UUID_SIZE], v6[OSN_UUID_SIZE], srv[OSN_UUID_SIZE];
                char mac[OSN_MAC_STRLEN];
                osn_dhcp_options_uuid(dhcp_cases[i].network, AF_INET, v4);
                osn_dhcp_options_uuid(dhcp_cases[i].network, AF_INET6, v6);
                osn_dhcp_port_uuid(dhcp_cases[i].network, srv);
                osn_dhcp_server_mac(dhcp_cases[i].network, mac);
                CHECK(streq(v4, dhcp_cases[i].dhcp4_uuid) && streq(v6, dhcp_cases[i].dhcp6_uuid),
                      "%s: DHCP_Options UUIDs %s %s, want %s %s", dhcp_cases[i].network, v4, v6,
                      dhcp_cases[i].dhcp4_uuid, dhcp_cases[i].dhcp6_uuid);
                CHECK(streq(srv, dhcp_cases[i].server_port_uuid),
                      "%s: DHCP server port UUID %s, want %s", dhcp_cases[i].network, srv,
                      dhcp_cases[i].server_port_uuid);
                CHECK(streq(mac, dhcp_cases[i].server_mac), "%s: DHCP server MAC %s, want %s",
                      dhcp_cases[i].network, mac, dhcp_cases[i].server_mac);
        }

        char key[OSN_POOL_INDEX_KEY_SIZE];
        osn_pool_index_key(SPARE_UUID, key);
        CHECK(streq(key, "osn/spare/" SPARE_UUID), "pool index key %s", key);
        CHECK(osn_pool_index_has(key) && streq(osn_pool_index_uuid(key), SPARE_UUID),
              "an index key names its spare");
        CHECK(osn_pool_index_has("osn/spare/junk") && !osn_pool_index_uuid("osn/spare/junk"),
              "a key of the index that names no UUID belongs to it and names no spare");
        CHECK(!osn_pool_index_has("osn/spare") && !osn_pool_index_has("osn/held/c/i") &&
                  !osn_pool_index_has(NULL) && !osn_pool_index_uuid("osn/spare") &&
                  !osn_pool_index_uuid(NULL),
              "osn/spare (the spare's own mark), a held key, none: not the index");

        char held[OSN_PORT_NAME_SIZE];
        osn_held_key("cid-a", "net1", held);
        CHECK(streq(held, "osn/held/cid-a/net1"), "held key %s", held);
        osn_held_key(NULL, NULL, held);
        CHECK(streq(held, "osn/held//"), "held key without ids %s", held);

        /* A claimed spare's veth is named for the attachment's own port,
         * as the ADD made it; any other port's for itself. */
        char host[IFNAMSIZ];
        osn_attachment_host("ns1/l2net", "osn.ns1/l2net.spare." SPARE_UUID, "cid-z", "eth1", host);
        CHECK(streq(host, "osndbc95a30b8a4"), "a claimed spare's veth %s", host);
        osn_host_ifname("osn.ns1/l2net.spare." SPARE_UUID, host);
        CHECK(streq(host, "osn8d6390f96b05"), "the spare's own name's veth %s", host);
        osn_attachment_host("ns1/l2net", "osn.ns1/l2net.cid-z.eth1", "other", "eth9", host);
        CHECK(streq(host, "osndbc95a30b8a4"), "an attachment's veth %s", host);
}

/* The example NADs of deploy/examples/, one per dialect and topology. */
static const struct {
        const char *config, *fingerprint;
} fingerprints[] = {
    {"{\"cniVersion\":\"0.3.1\",\"type\":\"ovn-kubernetes\",\"name\":\"tenant-overlay\","
     "\"subnet\":\"10.10.10.0/24\"}",
     "topology=layer2 subnets=10.10.10.0/24 excludes= mtu=0 external=no"},
    {"{\"cniVersion\":\"0.3.1\",\"type\":\"ovn-kubernetes\",\"name\":\"tenant-overlay-ext-"
     "network\",\"subnet\":\"10.10.20.0/24\",\"has_external_connectivity\":true}",
     "topology=localnet subnets=10.10.20.0/24 excludes= mtu=0 external=yes physnet= vlan=0"},
    {"{\"cniVersion\":\"1.0.0\",\"type\":\"ovn-k8s-cni-overlay\",\"name\":\"l2net\","
     "\"topology\":\"layer2\",\"subnets\":\"10.100.0.0/24,fd00:100::/64\","
     "\"excludeSubnets\":\"10.100.0.0/29\",\"mtu\":1400,\"netAttachDefName\":\"default/l2net\"}",
     "topology=layer2 subnets=10.100.0.0/24,fd00:100::/64 excludes=10.100.0.0/29 mtu=1400 "
     "external=no"},
    {"{\"cniVersion\":\"1.0.0\",\"type\":\"ovn-k8s-cni-overlay\",\"name\":\"vlan10\","
     "\"topology\":\"localnet\",\"physicalNetworkName\":\"physnet\",\"vlanID\":10,"
     "\"subnets\":\"192.168.10.0/24\"}",
     "topology=localnet subnets=192.168.10.0/24 excludes= mtu=0 external=yes physnet=physnet "
     "vlan=10"},
};

int main(void)
{
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
                _cleanup_free_ char *port =
                    osn_port_name(cases[i].network, cases[i].container_id, cases[i].ifname);
                REQUIRE(port);
                CHECK(streq(port, cases[i].port), "port name: got %s, want %s", port,
                      cases[i].port);

                char host[IFNAMSIZ];
                osn_host_ifname(cases[i].port, host);
                CHECK(streq(host, cases[i].host_ifname), "%s: host ifname %s, want %s",
                      cases[i].port, host, cases[i].host_ifname);
                CHECK(strlen(host) == IFNAMSIZ - 1, "%s: host ifname %s is %zu bytes",
                      cases[i].port, host, strlen(host));

                uint8_t m[6];
                osn_port_mac(cases[i].port, m);
                char mac[18];
                snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3],
                         m[4], m[5]);
                CHECK(streq(mac, cases[i].mac), "%s: MAC %s, want %s", cases[i].port, mac,
                      cases[i].mac);
                CHECK((m[0] & 0x03) == 0x02, "%s: MAC %s is unicast, locally administered",
                      cases[i].port, mac);
        }
        _cleanup_free_ char *sw = osn_switch_name("tenant-overlay");
        CHECK(streq(sw, "osn.tenant-overlay"), "switch name %s", sw ? sw : "(null)");
        _cleanup_free_ char *ln = osn_localnet_port_name("vlan10");
        CHECK(streq(ln, "osn.vlan10.localnet"), "localnet port name %s", ln ? ln : "(null)");

        test_network_names();

        for (size_t i = 0; i < ARRAY_SIZE(fingerprints); i++) {
                struct osn_error err = {0};
                _cleanup_netconf_ struct osn_netconf *nc = NULL;
                int r = osn_netconf_parse(fingerprints[i].config, strlen(fingerprints[i].config),
                                          "test", &nc, &err);
                CHECK(r == 0, "%s: %s", fingerprints[i].config, err.msg);
                if (r < 0)
                        continue;
                _cleanup_free_ char *fp = osn_netconf_fingerprint(nc);
                CHECK(streq(fp, fingerprints[i].fingerprint),
                      "fingerprint: got \"%s\", want \"%s\"", fp ? fp : "(null)",
                      fingerprints[i].fingerprint);
        }
        printf("test-names: %d checks, %d failures\n", checks, failures);
        return failures ? 1 : 0;
}
