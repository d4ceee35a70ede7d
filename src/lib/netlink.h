/* netlink: the kernel side of an attachment, over rtnetlink (libnl-route-3).
 *
 * An attachment is a veth pair: the host end stays in the namespace the
 * plugin runs in (the node) and becomes an OVS port; the peer is created
 * directly inside the pod's network namespace with its final name
 * (CNI_IFNAME), so there is no window where a half-named link exists.
 *
 * Namespace switching (setns) always returns to the original namespace
 * before a function returns, on every path.  Every fd is O_CLOEXEC.
 * Errors: negative errno plus 'err' (OSN_CNI_NETLINK_ERROR, naming the link,
 * the namespace and the kernel's extended-ack text when there is one).
 */
#ifndef OSN_NETLINK_H
#define OSN_NETLINK_H

#include <net/if.h>

#include "addr.h"
#include "error.h"
#include "util.h"

/* Opens a netns path (e.g. /var/run/netns/x or /proc/PID/ns/net)
 * O_CLOEXEC and O_NONBLOCK, so that a FIFO never blocks.  It does not check
 * what it opened (osnctl gc tells a stale path apart itself).  -ENOENT when
 * it does not exist. */
int osn_netns_open(const char *path, int *ret_fd) _wur_;

/* Opens CNI_NETNS 'path' as osn_netns_open() does and checks that it can
 * take a pod's interface: a network namespace (nsfs, NS_GET_NSTYPE
 * CLONE_NEWNET; not a FIFO, regular file, directory or device), and not
 * the caller's own network namespace (same st_dev/st_ino as
 * /proc/self/ns/net).  Otherwise an OSN_CNI_INVALID_ENV error that names
 * the path and what it is.  *ret_fd (the caller's to close) is written only
 * on success. */
int osn_netns_open_pod(const char *path, int *ret_fd, struct osn_error *err) _wur_;

struct osn_veth_req {
        const char *host_name;  /* host end, <= 15 bytes, in the current netns */
        const char *pod_ifname; /* peer name inside the pod netns */
        int pod_netns_fd;       /* from osn_netns_open() */
        const uint8_t *pod_mac; /* 6 bytes, or NULL for a kernel-chosen MAC */
        unsigned mtu;           /* both ends; 0 = kernel default */
};

/* Creates the pair.  -EEXIST (with 'err' naming which) when pod_ifname
 * already exists in the pod netns or host_name exists on the host.  Both
 * ends are left down. On failure nothing is left behind. */
int osn_veth_create(const struct osn_veth_req *req, struct osn_error *err) _wur_;

/* Opens the caller's own network namespace (/proc/thread-self/ns/net),
 * for a veth whose "pod" end stays here (a warm port's). */
int osn_netns_open_self(int *ret_fd) _wur_;

/* The pod's interface on a warm port (attach.h, "Warm ports"): a macvlan
 * in passthru mode (the whole of 'lower', a link of the current netns, is
 * its: every frame, every MAC) made directly inside 'netns_fd' as
 * 'ifname' with 'mac' and 'mtu', in one request, left down.  'lower' is
 * brought up first.  -EEXIST when 'ifname' exists there. */
int osn_macvlan_create(const char *lower, int netns_fd, const char *ifname, const uint8_t mac[6],
                       unsigned mtu, struct osn_error *err) _wur_;

/* Whether the kernel makes macvlans (its module is there, or loads): a
 * request for one on the loopback device, which the kernel refuses once it
 * knows the kind.  True unless it says it does not know it. */
bool osn_macvlan_available(void);

/* Turns IPv6 off on link 'name' of the current netns (its
 * /proc/sys/net/ipv6/conf/NAME/disable_ipv6): a warm port's lower end
 * sends nothing of the node's own into a tenant's network. */
int osn_link_disable_ipv6(const char *name) _wur_;

/* Sets a link in the current netns up (or down). */
int osn_link_set_up(const char *name, bool up, struct osn_error *err) _wur_;

/* Deletes a link in the current netns (its veth peer goes with it).
 * -ENODEV when it does not exist (callers doing DEL treat that as success);
 * that case leaves 'err' untouched. */
int osn_link_delete(const char *name, struct osn_error *err);

/* 1 when the link exists in the current netns, 0 when not, negative errno
 * on failure. */
int osn_link_exists(const char *name);

/* Inside the netns: sets the addresses (IFA_F_NODAD for IPv6, so they are
 * usable at once), brings 'ifname' up; 'n' may be 0 (pure L2). Routes via
 * 'gateways' are not needed for a flat L2 network and are not set. */
int osn_pod_configure(int netns_fd, const char *ifname, const struct osn_cidr *addrs, size_t n,
                      struct osn_error *err) _wur_;

/* Inside the netns: a route to each dst[i] via gw[i] (an address, on the
 * link of one of 'ifname''s subnets) out of 'ifname' (a layer3 network's
 * cluster CIDRs through its router port).  Replaces a route that is there
 * (a retried ADD). */
int osn_pod_add_routes(int netns_fd, const char *ifname, const struct osn_cidr *dst,
                       const struct osn_cidr *gw, size_t n, struct osn_error *err) _wur_;

/* What CHECK compares: the pod-side link as the kernel sees it.  A missing
 * link is not an error: 0 with ret->exists false.  Addresses beyond the
 * first 8 are not reported. */
struct osn_link_info {
        bool exists;
        bool up;
        uint8_t mac[6];
        unsigned mtu;
        struct osn_cidr addrs[8]; /* global-scope addresses only */
        size_t n_addrs;
};
int osn_pod_inspect(int netns_fd, const char *ifname, struct osn_link_info *ret,
                    struct osn_error *err) _wur_;

/* Deletes 'ifname' inside the netns; -ENODEV (leaving 'err' untouched)
 * when it is not there. */
int osn_pod_link_delete(int netns_fd, const char *ifname, struct osn_error *err);

/* Disables TX checksum offload on 'ifname' in the current netns (netns_fd
 * < 0) or inside netns_fd: the userspace OVS datapath reads frames with
 * AF_PACKET and would otherwise forward partial checksums. */
int osn_link_disable_tx_csum(int netns_fd, const char *ifname);

/* Inside the netns: sets the MAC of 'ifname' (the pod's interface, when the
 * port's MAC changed after the veth was made). */
int osn_pod_set_mac(int netns_fd, const char *ifname, const uint8_t mac[6], struct osn_error *err)
    _wur_;

/* Announcing the pod's addresses from 'ifname' with 'mac' inside its netns
 * (a gratuitous ARP request per IPv4 address, an unsolicited neighbour
 * advertisement with the override flag per IPv6 address), so peers that
 * knew an address with another MAC (a deleted pod's) update their
 * neighbour entries at once.  In three steps, so that the ADD does only the
 * first after ovn-installed: _open() readies the packet socket (before the
 * wait), _first() sends one round and never blocks (a frame the queue
 * cannot take is an error, not a wait), _repeat() sends the round again
 * 50, 150, 300, 600, 1000 and 2000 ms after the first (as QEMU announces a
 * migrated guest several times) and is for a detached process: it sleeps
 * about two seconds.  The repeats are there because ovn-installed says the
 * port's binding is installed on this chassis, not that ovn-northd has
 * compiled its logical flows yet (port security), and until it has, OVN
 * drops what the port sends; on a loaded control plane that takes a while,
 * and a peer's entry should not depend on the instant.  _close() accepts a
 * closed one (fd -1). */
#define OSN_ANNOUNCE_MAX_ADDRS 8 /* more are not announced */
struct osn_announce {
        int fd; /* the packet socket, in the pod's netns; -1 when closed */
        int ifindex;
        uint8_t mac[6];
        struct osn_cidr addrs[OSN_ANNOUNCE_MAX_ADDRS];
        size_t n;
};
int osn_announce_open(int netns_fd, const char *ifname, const uint8_t mac[6],
                      const struct osn_cidr *addrs, size_t n, struct osn_announce *ret,
                      struct osn_error *err) _wur_;
int osn_announce_first(struct osn_announce *a, struct osn_error *err) _wur_;
void osn_announce_repeat(struct osn_announce *a);
void osn_announce_close(struct osn_announce *a);

#endif
