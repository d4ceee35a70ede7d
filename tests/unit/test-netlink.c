/* test-netlink: veth pairs and pod configuration against the real kernel.
 *
 * Needs root and network namespaces (exits 77 otherwise).  It makes two
 * namespaces of its own, "node" and "pod", runs every case in a child
 * process that lives in "node", and deletes both namespaces afterwards
 * whatever the child did, so no link outlives the test.
 */
#include "netlink.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>

static char ns_node[64], ns_pod[64];
static struct stat home;     /* the netns every library call must leave us in */
static struct osn_error err; /* the last error, printed when a check fails */

static void fail(int line, const char *what)
{
        fprintf(stderr, "test-netlink.c:%d: check failed: %s\n", line, what);
        if (osn_error_isset(&err))
                fprintf(stderr, "  last error: %s\n", err.msg);
        exit(1);
}

static void check_home(int line)
{
        struct stat st;
        if (stat("/proc/self/ns/net", &st) < 0 || st.st_dev != home.st_dev ||
            st.st_ino != home.st_ino)
                fail(line, "back in the original netns");
}

/* Every check also verifies that the call returned to our own netns. */
#define CHECK(cond)                                                                                \
        do {                                                                                       \
                if (!(cond))                                                                       \
                        fail(__LINE__, #cond);                                                     \
                check_home(__LINE__);                                                              \
        } while (0)

_printf_(1, 2) static int sh(const char *fmt, ...)
{
        char cmd[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        return system(cmd);
}

static struct osn_cidr cidr(int family, const char *addr, unsigned prefixlen)
{
        struct osn_cidr c = {.family = family, .prefixlen = prefixlen};
        if (inet_pton(family, addr, c.addr.bytes) != 1)
                fail(__LINE__, addr);
        return c;
}

static bool has_addr(const struct osn_link_info *li, const struct osn_cidr *c)
{
        for (size_t i = 0; i < li->n_addrs; i++)
                if (li->addrs[i].family == c->family && li->addrs[i].prefixlen == c->prefixlen &&
                    memcmp(li->addrs[i].addr.bytes, c->addr.bytes, c->family == AF_INET ? 4 : 16) ==
                        0)
                        return true;
        return false;
}

/* TX checksumming of 'ifname' in 'netns_fd': 1 on, 0 off, or -errno. */
static int tx_csum(int netns_fd, const char *ifname)
{
        struct ethtool_value ev = {.cmd = ETHTOOL_GTXCSUM};
        struct ifreq ifr = {.ifr_data = (void *)&ev};
        int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC), fd = -1, r;

        if (self < 0 || setns(netns_fd, CLONE_NEWNET) < 0)
                fail(__LINE__, "entering a netns");
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
        r = fd < 0 || ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : (int)ev.data;
        if (setns(self, CLONE_NEWNET) < 0)
                fail(__LINE__, "returning from a netns");
        if (fd >= 0)
                close(fd);
        close(self);
        return r;
}

static int count_fds(void)
{
        int n = 0;
        char p[64];
        for (int fd = 0; fd < 1024; fd++) {
                snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
                n += access(p, F_OK) == 0;
        }
        return n;
}

static void *repeat_run(void *arg)
{
        osn_announce_repeat(arg);
        return NULL;
}

/* The announcement: its first gratuitous ARP and the repeats 50, 150, 300,
 * 600, 1000 and 2000 ms after it, caught on the host end.  Returns the
 * number of ARPs from 'mac' and, in 'gaps', the ms between them. */
static size_t announce_gaps(int pod, const char *host, const uint8_t mac[6], long long gaps[8])
{
        int cap = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
        struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                                  .sll_protocol = htons(ETH_P_ARP),
                                  .sll_ifindex = (int)if_nametoindex(host)};
        CHECK(cap >= 0 && sll.sll_ifindex > 0 && bind(cap, (void *)&sll, sizeof(sll)) == 0);
        struct osn_cidr a = cidr(AF_INET, "10.99.0.7", 24);
        struct osn_announce ann;
        CHECK(osn_announce_open(pod, "net1", mac, &a, 1, &ann, &err) == 0);
        CHECK(osn_announce_first(&ann, &err) == 0);
        pthread_t t;
        CHECK(pthread_create(&t, NULL, repeat_run, &ann) == 0);
        size_t n = 0;
        int64_t last = 0, end = osn_now_ms() + 4000;
        while (osn_ms_left(end) > 0 && n < 8) {
                struct pollfd pfd = {.fd = cap, .events = POLLIN};
                if (poll(&pfd, 1, osn_ms_left(end)) <= 0)
                        break;
                uint8_t f[128];
                ssize_t got = recv(cap, f, sizeof(f), 0);
                if (got < 42 || memcmp(f + 6, mac, 6) != 0)
                        continue;
                int64_t t_ms = osn_now_ms();
                gaps[n] = n ? t_ms - last : 0;
                last = t_ms;
                n++;
        }
        pthread_join(t, NULL);
        close(cap);
        return n;
}

static int run(void)
{
        char path[128], host[IFNAMSIZ], host2[IFNAMSIZ];
        const uint8_t mac[6] = {0x0a, 0x58, 0x0a, 0x00, 0x00, 0x05};
        struct osn_cidr addrs[] = {cidr(AF_INET, "10.0.0.5", 24), cidr(AF_INET6, "fd00::5", 64)};
        struct osn_link_info li;
        int node, pod, fd;

        int fds = count_fds();
        snprintf(path, sizeof(path), "/var/run/netns/%s", ns_node);
        if (osn_netns_open(path, &node) < 0 || setns(node, CLONE_NEWNET) < 0 ||
            stat("/proc/self/ns/net", &home) < 0)
                fail(__LINE__, "entering the node netns");
        snprintf(path, sizeof(path), "/var/run/netns/%s", ns_pod);
        CHECK(osn_netns_open(path, &pod) == 0);
        CHECK(osn_netns_open("/var/run/netns/osntest-does-not-exist", &fd) == -ENOENT);
        snprintf(host, sizeof(host), "osnt%dh", (int)getpid() % 1000000);
        snprintf(host2, sizeof(host2), "osnt%dx", (int)getpid() % 1000000);

        /* A new pair: host end here, peer in the pod, down, with MAC and MTU. */
        struct osn_veth_req req = {.host_name = host,
                                   .pod_ifname = "net1",
                                   .pod_netns_fd = pod,
                                   .pod_mac = mac,
                                   .mtu = 1400};
        CHECK(osn_veth_create(&req, &err) == 0);
        CHECK(osn_link_exists(host) == 1);
        CHECK(osn_link_exists("net1") == 0);
        CHECK(osn_pod_inspect(pod, "net1", &li, &err) == 0);
        CHECK(li.exists && !li.up && li.mtu == 1400 && memcmp(li.mac, mac, 6) == 0);
        CHECK(li.n_addrs == 0);
        CHECK(osn_pod_inspect(node, host, &li, &err) == 0);
        CHECK(li.exists && !li.up && li.mtu == 1400);

        /* Addresses, twice (a retried ADD), then what CHECK would see. */
        CHECK(osn_pod_configure(pod, "net1", addrs, ARRAY_SIZE(addrs), &err) == 0);
        CHECK(osn_pod_configure(pod, "net1", addrs, ARRAY_SIZE(addrs), &err) == 0);
        CHECK(osn_pod_inspect(pod, "net1", &li, &err) == 0);
        CHECK(li.exists && li.up && li.n_addrs == 2);
        CHECK(has_addr(&li, &addrs[0]) && has_addr(&li, &addrs[1]));
        CHECK(osn_pod_configure(pod, "net9", addrs, 1, &err) == -ENODEV);
        CHECK(strstr(err.msg, "\"net9\"") && strstr(err.msg, ns_pod));
        osn_error_clear(&err);

        /* Clashes: the error says which end exists, and nothing is left. */
        CHECK(osn_veth_create(&req, &err) == -EEXIST);
        printf("both clash: %s\n", err.msg);
        CHECK(strstr(err.msg, host) && strstr(err.msg, ns_pod));
        CHECK(strstr(err.msg, "in the host network namespace and \"net1\" in the pod"));
        osn_error_clear(&err);
        req.host_name = host2;
        CHECK(osn_veth_create(&req, &err) == -EEXIST);
        printf("pod clash: %s\n", err.msg);
        CHECK(strstr(err.msg, "interface \"net1\" already exists in the pod network namespace"));
        CHECK(osn_link_exists(host2) == 0);
        osn_error_clear(&err);
        req.host_name = host;
        req.pod_ifname = "net2";
        CHECK(osn_veth_create(&req, &err) == -EEXIST);
        printf("host clash: %s\n", err.msg);
        CHECK(strstr(err.msg, "already exists in the host network namespace") &&
              !strstr(err.msg, "pod network namespace"));
        osn_error_clear(&err);
        CHECK(osn_pod_inspect(pod, "net2", &li, &err) == 0 && !li.exists);

        /* Up and down on the host end. */
        CHECK(osn_link_set_up(host, true, &err) == 0);
        CHECK(osn_pod_inspect(node, host, &li, &err) == 0 && li.up);
        CHECK(osn_link_set_up(host, false, &err) == 0);
        CHECK(osn_pod_inspect(node, host, &li, &err) == 0 && !li.up);
        CHECK(osn_link_set_up("osnt-missing", true, &err) == -ENODEV);
        CHECK(strstr(err.msg, "\"osnt-missing\""));
        osn_error_clear(&err);

        /* TX checksum offload, on either side. */
        CHECK(tx_csum(pod, "net1") == 1 && tx_csum(node, host) == 1);
        CHECK(osn_link_disable_tx_csum(-1, host) == 0);
        CHECK(osn_link_disable_tx_csum(pod, "net1") == 0);
        CHECK(tx_csum(pod, "net1") == 0 && tx_csum(node, host) == 0);
        CHECK(osn_link_disable_tx_csum(-1, "net1") == -ENODEV);
        CHECK(osn_link_disable_tx_csum(pod, "osnt-missing") == -ENODEV);

        /* Deleting the host end takes the peer; a second delete is -ENODEV
         * and leaves 'err' alone. */
        CHECK(osn_link_delete(host, &err) == 0);
        CHECK(osn_link_exists(host) == 0);
        CHECK(osn_pod_inspect(pod, "net1", &li, &err) == 0 && !li.exists);
        CHECK(osn_link_delete(host, &err) == -ENODEV && !osn_error_isset(&err));

        /* Deleting from the pod side takes the host end. */
        req = (struct osn_veth_req){.host_name = host, .pod_ifname = "net1", .pod_netns_fd = pod};
        CHECK(osn_veth_create(&req, &err) == 0);
        CHECK(osn_pod_inspect(pod, "net1", &li, &err) == 0 && li.exists && li.mtu == 1500);
        CHECK(osn_pod_link_delete(pod, "net1", &err) == 0);
        CHECK(osn_link_exists(host) == 0);
        CHECK(osn_pod_link_delete(pod, "net1", &err) == -ENODEV && !osn_error_isset(&err));

        /* Bad netns fds: not a netns, and not open at all. */
        /* A high number: the library's own sockets would reuse a low one. */
        int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC), closed = 1000;
        CHECK(devnull >= 0 && fcntl(closed, F_GETFD) < 0);
        req.pod_netns_fd = devnull;
        CHECK(osn_veth_create(&req, &err) < 0 && strstr(err.msg, "/dev/null"));
        printf("bad netns: %s\n", err.msg);
        osn_error_clear(&err);
        req.pod_netns_fd = closed;
        CHECK(osn_veth_create(&req, &err) == -EBADF);
        osn_error_clear(&err);
        CHECK(osn_link_exists(host) == 0);
        CHECK(osn_pod_inspect(devnull, "net1", &li, &err) == -EINVAL);
        CHECK(strstr(err.msg, "/dev/null") && strstr(err.msg, "\"net1\""));
        osn_error_clear(&err);
        CHECK(osn_pod_inspect(closed, "net1", &li, &err) == -EBADF);
        osn_error_clear(&err);
        CHECK(osn_pod_configure(devnull, "net1", addrs, 1, &err) == -EINVAL);
        osn_error_clear(&err);
        CHECK(osn_pod_link_delete(closed, "net1", &err) == -EBADF);
        osn_error_clear(&err);
        CHECK(osn_link_disable_tx_csum(devnull, "net1") == -EINVAL);

        /* A refused request leaves nothing behind. */
        req = (struct osn_veth_req){
            .host_name = host, .pod_ifname = "net1", .pod_netns_fd = pod, .mtu = 70000};
        CHECK(osn_veth_create(&req, &err) == -EINVAL);
        osn_error_clear(&err);
        CHECK(osn_link_exists(host) == 0);
        CHECK(osn_pod_inspect(pod, "net1", &li, &err) == 0 && !li.exists);

        /* The kernel's extended ack reaches the message. */
        req.mtu = 0;
        CHECK(osn_veth_create(&req, &err) == 0);
        struct osn_cidr mcast = cidr(AF_INET6, "ff02::5", 64);
        CHECK(osn_pod_configure(pod, "net1", &mcast, 1, &err) == -EADDRNOTAVAIL);
        printf("bad address: %s\n", err.msg);
        CHECK(strstr(err.msg, "ff02::5/64") && strstr(err.msg, "address: ipv6: ") &&
              strstr(err.msg, "multicast"));
        osn_error_clear(&err);
        CHECK(osn_link_delete(host, &err) == 0);

        /* Names the kernel would refuse. */
        CHECK(osn_link_exists("") == -EINVAL);
        CHECK(osn_link_exists("osnt-0123456789a") == -EINVAL);
        req = (struct osn_veth_req){.host_name = host, .pod_ifname = "", .pod_netns_fd = pod};
        CHECK(osn_veth_create(&req, &err) == -EINVAL);
        osn_error_clear(&err);

        /* The announcement's schedule (a 1000 ms gap once went out as
         * none: nanosleep() refused tv_nsec = 10^9). */
        req = (struct osn_veth_req){.host_name = host, .pod_ifname = "net1", .pod_netns_fd = pod};
        CHECK(osn_veth_create(&req, &err) == 0);
        CHECK(osn_link_set_up(host, true, &err) == 0);
        struct osn_cidr a7 = cidr(AF_INET, "10.99.0.7", 24);
        CHECK(osn_pod_configure(pod, "net1", &a7, 1, &err) == 0);
        CHECK(osn_pod_inspect(pod, "net1", &li, &err) == 0 && li.exists);
        long long gaps[8] = {0};
        size_t n_arp = announce_gaps(pod, host, li.mac, gaps);
        printf("announcement: %zu ARPs, gaps %lld %lld %lld %lld %lld %lld ms\n", n_arp, gaps[1],
               gaps[2], gaps[3], gaps[4], gaps[5], gaps[6]);
        static const long long want[] = {0, 50, 100, 150, 300, 400, 1000};
        CHECK(n_arp == 7);
        for (size_t i = 1; i < 7; i++)
                CHECK(gaps[i] >= want[i] - 5);
        CHECK(osn_link_delete(host, &err) == 0);

        close(devnull);
        close(pod);
        close(node);
        CHECK(count_fds() == fds); /* the library closed every fd it opened */
        return 0;
}

int main(void)
{
        int status;

        if (geteuid() != 0) {
                printf("SKIP: needs root to create network namespaces\n");
                return 77;
        }
        snprintf(ns_node, sizeof(ns_node), "osntest-%d-node", (int)getpid());
        snprintf(ns_pod, sizeof(ns_pod), "osntest-%d-pod", (int)getpid());
        if (sh("ip netns add %s 2>/dev/null", ns_node) != 0) {
                printf("SKIP: cannot create a network namespace (ip netns add)\n");
                return 77;
        }
        if (sh("ip netns add %s", ns_pod) != 0) {
                (void)sh("ip netns del %s", ns_node);
                printf("SKIP: cannot create a second network namespace\n");
                return 77;
        }
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0)
                exit(run());
        if (pid < 0 || waitpid(pid, &status, 0) < 0)
                status = -1;
        (void)sh("ip netns del %s", ns_pod);
        (void)sh("ip netns del %s", ns_node);
        if (status >= 0 && WIFEXITED(status))
                return WEXITSTATUS(status);
        fprintf(stderr, "test child %s\n", status < 0 ? "did not run" : "was killed");
        return 1;
}
