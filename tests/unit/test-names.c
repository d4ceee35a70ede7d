/* test-names: the names and the MAC that osn derives for an attachment,
 * pinned to exact values.
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

#include "attach.h"
#include "netconf.h"
#include "ovn.h"
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
