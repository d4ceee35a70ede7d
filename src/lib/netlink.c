/* netlink: see netlink.h.
 *
 * libnl-route-3 builds and parses the rtnetlink messages.  Two things it
 * does not do are done here: it reports its own NLE_* codes rather than the
 * kernel's errno, and it never asks for extended acks.  Every socket
 * therefore carries an error callback that keeps the kernel's errno and
 * extended-ack text of the request that failed.
 *
 * A socket belongs for its whole life to the netns it was created in, so
 * only socket creation runs inside a pod's netns: the thread is back in its
 * own namespace before the first request is sent.  Links are looked up by
 * name with one RTM_GETLINK each (no link-cache dumps), so every operation
 * costs the same however many links the node has.
 */
#include "netlink.h"

#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/nsfs.h>
#include <linux/ethtool.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>

#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>

/* --- namespaces --- */

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

int osn_netns_open(const char *path, int *ret_fd)
{
        /* O_NONBLOCK: a FIFO must not block the open (nsfs ignores it). */
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

/* What a file that is not a network namespace is, for messages. */
static const char *file_kind(mode_t m)
{
        return S_ISFIFO(m)   ? "a FIFO"
               : S_ISDIR(m)  ? "a directory"
               : S_ISCHR(m)  ? "a character device"
               : S_ISBLK(m)  ? "a block device"
               : S_ISSOCK(m) ? "a socket"
               : S_ISREG(m)  ? "a regular file"
                             : "not a namespace file";
}

int osn_netns_open_pod(const char *path, int *ret_fd, struct osn_error *err)
{
        _cleanup_close_ int fd = -1;
        int r = osn_netns_open(path, &fd);
        if (r < 0)
                return osn_error_set(err, r, OSN_CNI_INVALID_ENV,
                                     "CNI_NETNS=%s cannot be opened: %s", path, strerror(-r));
        struct stat st;
        struct statfs sf;
        if (fstat(fd, &st) < 0 || fstatfs(fd, &sf) < 0) {
                r = -errno;
                return osn_error_set(err, r, OSN_CNI_INVALID_ENV, "CNI_NETNS=%s: %s", path,
                                     strerror(-r));
        }
        if ((unsigned long)sf.f_type != NSFS_MAGIC)
                return osn_error_set(err, -ENOTTY, OSN_CNI_INVALID_ENV,
                                     "CNI_NETNS=%s is not a network namespace (it is %s); expected "
                                     "a bind-mounted netns such as /var/run/netns/NAME or "
                                     "/proc/PID/ns/net",
                                     path, file_kind(st.st_mode));
        /* nsfs holds every kind of namespace: /proc/PID/ns/mnt is one too. */
        int type = ioctl(fd, NS_GET_NSTYPE);
        if (type >= 0 && type != CLONE_NEWNET)
                return osn_error_set(err, -ENOTTY, OSN_CNI_INVALID_ENV,
                                     "CNI_NETNS=%s is a namespace but not a network namespace",
                                     path);
        struct stat self;
        if (stat("/proc/self/ns/net", &self) == 0 && self.st_dev == st.st_dev &&
            self.st_ino == st.st_ino)
                return osn_error_set(err, -EEXIST, OSN_CNI_INVALID_ENV,
                                     "CNI_NETNS=%s is the plugin's own (host) network namespace; "
                                     "a pod's interface cannot be created there",
                                     path);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* A netns fd as messages name it: the path it was opened as
 * ("/run/netns/x"), "net:[INODE]" for /proc/PID/ns/net, or "fd N". */
struct netns_name {
        char s[256];
};

static struct netns_name netns_name(int fd)
{
        struct netns_name n;
        char proc[64];
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        ssize_t len = fd >= 0 ? readlink(proc, n.s, sizeof(n.s) - 1) : -1;
        if (len < 0)
                snprintf(n.s, sizeof(n.s), "fd %d", fd);
        else
                n.s[len] = 0;
        return n;
}

/* Moves the calling thread into 'netns_fd'; *ret_home is the netns it left,
 * for netns_leavep(). */
static int netns_enter(int netns_fd, int *ret_home)
{
        int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (home < 0)
                return -errno;
        if (setns(netns_fd, CLONE_NEWNET) < 0) {
                int r = -errno;
                close(home);
                return r;
        }
        *ret_home = home;
        return 0;
}

/* Returns to the netns that netns_enter() left.  With a valid fd of a netns
 * we were just in, setns() can only fail on memory exhaustion; carrying on
 * would make every later operation (OVS ports, host links) act on the pod's
 * namespace unnoticed, so that is the one case where we abort. */
static void netns_leavep(int *home)
{
        if (*home < 0)
                return;
        if (setns(*home, CLONE_NEWNET) < 0)
                abort();
        close(*home);
        *home = -1;
}

/* --- rtnetlink sockets and errors --- */

struct nl {
        struct nl_sock *sk;
        int syserr;        /* the kernel's errno for the last failed request, or 0 */
        char ext_ack[256]; /* the kernel's extended-ack message for it, or "" */
};

static void nl_closep(struct nl *nl)
{
        nl_socket_free(nl->sk);
        nl->sk = NULL;
}

static void link_putp(struct rtnl_link **link)
{
        rtnl_link_put(*link);
}

static void rtnl_addr_putp(struct rtnl_addr **addr)
{
        rtnl_addr_put(*addr);
}

static void nl_addr_putp(struct nl_addr **addr)
{
        nl_addr_put(*addr);
}

/* libnl calls this with the payload of an NLMSG_ERROR message. */
static int nl_on_error(struct sockaddr_nl *from, struct nlmsgerr *e, void *arg)
{
        const struct nlmsghdr *h = (const void *)((const char *)e - NLMSG_HDRLEN);
        struct nl *nl = arg;

        nl->syserr = -e->error;
        nl->ext_ack[0] = 0;
        if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
                /* The TLVs follow the echoed request unless the ack is capped. */
                size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*e));
                if (!(h->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len > NLMSG_HDRLEN)
                        off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
                const struct nlattr *msg =
                    off < h->nlmsg_len ? nla_find((const void *)((const char *)h + off),
                                                  (int)(h->nlmsg_len - off), NLMSGERR_ATTR_MSG)
                                       : NULL;
                if (msg)
                        nla_strlcpy(nl->ext_ack, msg, sizeof(nl->ext_ack));
        }
        return NL_STOP;
}

/* libnl's own codes, for failures the kernel did not report itself. */
static int nle_to_errno(int nle)
{
        static const int map[] = {
            [NLE_INTR] = EINTR,
            [NLE_BAD_SOCK] = EBADF,
            [NLE_AGAIN] = EAGAIN,
            [NLE_NOMEM] = ENOMEM,
            [NLE_EXIST] = EEXIST,
            [NLE_INVAL] = EINVAL,
            [NLE_RANGE] = ERANGE,
            [NLE_MSGSIZE] = EMSGSIZE,
            [NLE_OPNOTSUPP] = EOPNOTSUPP,
            [NLE_AF_NOSUPPORT] = EAFNOSUPPORT,
            [NLE_OBJ_NOTFOUND] = ENODEV,
            [NLE_MSG_TRUNC] = EMSGSIZE,
            [NLE_NOADDR] = EADDRNOTAVAIL,
            [NLE_BUSY] = EBUSY,
            [NLE_PROTO_MISMATCH] = EPROTONOSUPPORT,
            [NLE_NOACCESS] = EACCES,
            [NLE_PERM] = EPERM,
            [NLE_NODEV] = ENODEV,
            [NLE_DUMP_INTR] = EAGAIN,
        };
        nle = abs(nle);
        return -((size_t)nle < ARRAY_SIZE(map) && map[nle] ? map[nle] : EIO);
}

/* 0 or the negative errno for a libnl result: the kernel's own when it sent
 * one (libnl would fold e.g. ENOENT and ESRCH into one code). */
static int nl_errno(struct nl *nl, int nle)
{
        int syserr = nl->syserr;
        nl->syserr = 0;
        if (nle >= 0)
                return 0;
        if (syserr > 0)
                return -syserr;
        nl->ext_ack[0] = 0;
        return nle_to_errno(nle);
}

/* Opens a NETLINK_ROUTE socket in 'netns_fd' (< 0: the current netns). */
static int nl_open(struct nl *nl, int netns_fd)
{
        _cleanup_(netns_leavep) int home = -1;
        int one = 1, r;

        if (netns_fd >= 0 && (r = netns_enter(netns_fd, &home)) < 0)
                return r;
        nl->sk = nl_socket_alloc();
        if (!nl->sk)
                return -ENOMEM;
        if ((r = nl_connect(nl->sk, NETLINK_ROUTE)) < 0)
                return nle_to_errno(r);
        /* Best effort: without them (old kernels) only the messages are poorer. */
        (void)setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
        (void)setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
        return nl_errno(nl, nl_socket_modify_err_cb(nl->sk, NL_CB_CUSTOM, nl_on_error, nl));
}

/* Fills 'err' with "<what>: <strerror>[: <detail>]" and returns 'r'. */
_printf_(4, 5) static int nl_fail(struct osn_error *err, int r, const char *detail, const char *fmt,
                                  ...)
{
        char what[384];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        bool d = detail && detail[0];
        return osn_error_set(err, r, OSN_CNI_NETLINK_ERROR, "%s: %s%s%s", what, strerror(-r),
                             d ? ": " : "", d ? detail : "");
}

static int check_ifname(const char *name, const char *role, struct osn_error *err)
{
        if (name && name[0] && strlen(name) < IFNAMSIZ)
                return 0;
        return osn_error_set(err, -EINVAL, OSN_CNI_NETLINK_ERROR,
                             "invalid %s interface name \"%s\": must be 1 to %d bytes", role,
                             name ? name : "", IFNAMSIZ - 1);
}

/* --- links --- */

/* One RTM_GETLINK by name: 1 (and *ret when 'ret') if the link exists, 0 if
 * not. */
static int link_get(struct nl *nl, const char *name, struct rtnl_link **ret)
{
        struct rtnl_link *link = NULL;
        int r = nl_errno(nl, rtnl_link_get_kernel(nl->sk, 0, name, &link));
        if (r == -ENODEV)
                return 0;
        if (r < 0)
                return r;
        if (ret)
                *ret = link;
        else
                rtnl_link_put(link);
        return 1;
}

/* One RTM_NEWLINK that names the link: the kernel looks it up. */
static int link_set_up(struct nl *nl, const char *name, bool up)
{
        _cleanup_(link_putp) struct rtnl_link *orig = rtnl_link_alloc();
        _cleanup_(link_putp) struct rtnl_link *change = rtnl_link_alloc();

        if (!orig || !change)
                return -ENOMEM;
        rtnl_link_set_name(change, name);
        if (up)
                rtnl_link_set_flags(change, IFF_UP);
        else
                rtnl_link_unset_flags(change, IFF_UP);
        return nl_errno(nl, rtnl_link_change(nl->sk, orig, change, 0));
}

static int link_delete(struct nl *nl, const char *name)
{
        _cleanup_(link_putp) struct rtnl_link *link = rtnl_link_alloc();

        if (!link)
                return -ENOMEM;
        rtnl_link_set_name(link, name);
        return nl_errno(nl, rtnl_link_delete(nl->sk, link));
}

static int pod_link_exists(int netns_fd, const char *name)
{
        _cleanup_(nl_closep) struct nl nl = {0};
        int r = nl_open(&nl, netns_fd);
        return r < 0 ? r : link_get(&nl, name, NULL);
}

int osn_veth_create(const struct osn_veth_req *req, struct osn_error *err)
{
        _cleanup_(nl_closep) struct nl nl = {0};
        _cleanup_(link_putp) struct rtnl_link *host = NULL;
        _cleanup_(link_putp) struct rtnl_link *peer = NULL;
        _cleanup_(nl_addr_putp) struct nl_addr *mac = NULL;
        char why[192] = "";
        int r;

        if ((r = check_ifname(req->host_name, "host", err)) < 0 ||
            (r = check_ifname(req->pod_ifname, "pod", err)) < 0)
                return r;
        if ((r = nl_open(&nl, -1)) < 0)
                goto fail;
        if (!(host = rtnl_link_veth_alloc()) || !(peer = rtnl_link_veth_get_peer(host)) ||
            (req->pod_mac && !(mac = nl_addr_build(AF_LLC, req->pod_mac, 6)))) {
                r = -ENOMEM;
                goto fail;
        }
        /* One request: the peer is born in the pod netns with its final name,
         * MAC and MTU, and the kernel creates both ends or neither. */
        rtnl_link_set_name(host, req->host_name);
        rtnl_link_set_name(peer, req->pod_ifname);
        rtnl_link_set_ns_fd(peer, req->pod_netns_fd);
        if (req->mtu) {
                rtnl_link_set_mtu(host, req->mtu);
                rtnl_link_set_mtu(peer, req->mtu);
        }
        if (mac)
                rtnl_link_set_addr(peer, mac);
        r = nl_errno(&nl, rtnl_link_add(nl.sk, host, NLM_F_CREATE | NLM_F_EXCL));
        if (r == 0)
                return 0;
        if (r == -EEXIST) {
                /* The kernel does not say which end clashed; ask both sides. */
                bool h = link_get(&nl, req->host_name, NULL) > 0;
                bool p = pod_link_exists(req->pod_netns_fd, req->pod_ifname) > 0;
                if (h && p)
                        snprintf(why, sizeof(why),
                                 "interface \"%s\" already exists in the host network namespace "
                                 "and \"%s\" in the pod network namespace",
                                 req->host_name, req->pod_ifname);
                else if (h || p)
                        snprintf(why, sizeof(why),
                                 "interface \"%s\" already exists in the %s network namespace",
                                 h ? req->host_name : req->pod_ifname, h ? "host" : "pod");
        }
fail:
        return nl_fail(err, r, why[0] ? why : nl.ext_ack,
                       "cannot create veth \"%s\" / \"%s\" in netns %s", req->host_name,
                       req->pod_ifname, netns_name(req->pod_netns_fd).s);
}

int osn_netns_open_self(int *ret_fd)
{
        int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int osn_macvlan_create(const char *lower, int netns_fd, const char *ifname, const uint8_t mac[6],
                       unsigned mtu, struct osn_error *err)
{
        _cleanup_(nl_closep) struct nl nl = {0};
        _cleanup_(link_putp) struct rtnl_link *link = rtnl_link_macvlan_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *a = nl_addr_build(AF_LLC, mac, 6);
        int r;

        if ((r = check_ifname(lower, "host", err)) < 0 ||
            (r = check_ifname(ifname, "pod", err)) < 0)
                return r;
        if (!link || !a)
                return -ENOMEM;
        unsigned idx = if_nametoindex(lower);
        if (!idx) {
                r = -errno;
                goto fail;
        }
        if ((r = nl_open(&nl, -1)) < 0 || (r = link_set_up(&nl, lower, true)) < 0)
                goto fail;
        /* Born in the pod's netns (no move: moving a link waits for an RCU
         * grace period, tens of ms on a busy node). */
        rtnl_link_set_link(link, (int)idx);
        rtnl_link_set_name(link, ifname);
        rtnl_link_set_ns_fd(link, netns_fd);
        rtnl_link_set_addr(link, a);
        if (mtu)
                rtnl_link_set_mtu(link, mtu);
        if ((r = rtnl_link_macvlan_set_mode(link, MACVLAN_MODE_PASSTHRU)) < 0) {
                r = nle_to_errno(r);
                goto fail;
        }
        r = nl_errno(&nl, rtnl_link_add(nl.sk, link, NLM_F_CREATE | NLM_F_EXCL));
        if (r == 0)
                return 0;
fail:
        return nl_fail(err, r, nl.ext_ack, "cannot make macvlan \"%s\" on \"%s\" in netns %s",
                       ifname, lower, netns_name(netns_fd).s);
}

bool osn_macvlan_available(void)
{
        _cleanup_(nl_closep) struct nl nl = {0};
        _cleanup_(link_putp) struct rtnl_link *link = rtnl_link_macvlan_alloc();
        if (!link || nl_open(&nl, -1) < 0)
                return false;
        rtnl_link_set_link(link, 1); /* lo: never a macvlan's lower */
        rtnl_link_set_name(link, "oswprobe");
        int r = nl_errno(&nl, rtnl_link_add(nl.sk, link, NLM_F_CREATE | NLM_F_EXCL));
        if (r == 0)
                (void)link_delete(&nl, "oswprobe");
        return r != -EOPNOTSUPP;
}

int osn_link_disable_ipv6(const char *name)
{
        char path[96];
        int r = check_ifname(name, "host", NULL);
        if (r < 0)
                return r;
        snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno; /* no IPv6 here at all */
        return write(fd, "1", 1) == 1 ? 0 : -errno;
}

int osn_link_set_up(const char *name, bool up, struct osn_error *err)
{
        _cleanup_(nl_closep) struct nl nl = {0};
        int r;

        if ((r = check_ifname(name, "host", err)) < 0)
                return r;
        if ((r = nl_open(&nl, -1)) < 0 || (r = link_set_up(&nl, name, up)) < 0)
                return nl_fail(err, r, nl.ext_ack, "cannot set link \"%s\" %s", name,
                               up ? "up" : "down");
        return 0;
}

int osn_link_delete(const char *name, struct osn_error *err)
{
        _cleanup_(nl_closep) struct nl nl = {0};
        int r;

        if ((r = check_ifname(name, "host", err)) < 0)
                return r;
        if ((r = nl_open(&nl, -1)) < 0 || (r = link_delete(&nl, name)) < 0) {
                if (r == -ENODEV)
                        return r;
                return nl_fail(err, r, nl.ext_ack, "cannot delete link \"%s\"", name);
        }
        return 0;
}

int osn_link_exists(const char *name)
{
        _cleanup_(nl_closep) struct nl nl = {0};
        int r;

        if ((r = check_ifname(name, "host", NULL)) < 0 || (r = nl_open(&nl, -1)) < 0)
                return r;
        return link_get(&nl, name, NULL);
}

int osn_pod_link_delete(int netns_fd, const char *ifname, struct osn_error *err)
{
        _cleanup_(nl_closep) struct nl nl = {0};
        int r;

        if ((r = check_ifname(ifname, "pod", err)) < 0)
                return r;
        if ((r = nl_open(&nl, netns_fd)) < 0 || (r = link_delete(&nl, ifname)) < 0) {
                if (r == -ENODEV)
                        return r;
                return nl_fail(err, r, nl.ext_ack, "cannot delete \"%s\" in netns %s", ifname,
                               netns_name(netns_fd).s);
        }
        return 0;
}

/* --- pod addresses --- */

static int addr_add(struct nl *nl, int ifindex, const struct osn_cidr *c)
{
        _cleanup_(rtnl_addr_putp) struct rtnl_addr *a = rtnl_addr_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *local = NULL;
        _cleanup_(nl_addr_putp) struct nl_addr *brd = NULL;
        size_t len = c->family == AF_INET ? 4 : 16;
        int r;

        if ((c->family != AF_INET && c->family != AF_INET6) || c->prefixlen > len * 8)
                return -EINVAL;
        if (!a || !(local = nl_addr_build(c->family, c->addr.bytes, len)))
                return -ENOMEM;
        nl_addr_set_prefixlen(local, (int)c->prefixlen);
        rtnl_addr_set_ifindex(a, ifindex);
        if ((r = rtnl_addr_set_local(a, local)) < 0)
                return nle_to_errno(r);
        if (c->family == AF_INET && c->prefixlen < 31) {
                /* The directed broadcast, as `ip addr add ... brd +` and the
                 * CNI reference plugins set it. */
                struct in_addr b = {c->addr.v4.s_addr | htonl(UINT32_MAX >> c->prefixlen)};
                if (!(brd = nl_addr_build(AF_INET, &b, sizeof(b))))
                        return -ENOMEM;
                rtnl_addr_set_broadcast(a, brd);
        }
        if (c->family == AF_INET6)
                rtnl_addr_set_flags(a, IFA_F_NODAD);
        /* NLM_F_REPLACE: a retried ADD finds its address in place and succeeds. */
        return nl_errno(nl, rtnl_addr_add(nl->sk, a, NLM_F_REPLACE));
}

int osn_pod_configure(int netns_fd, const char *ifname, const struct osn_cidr *addrs, size_t n,
                      struct osn_error *err)
{
        _cleanup_(nl_closep) struct nl nl = {0};
        _cleanup_(link_putp) struct rtnl_link *link = NULL;
        char buf[OSN_CIDR_STRLEN];
        int r;

        if ((r = check_ifname(ifname, "pod", err)) < 0)
                return r;
        if ((r = nl_open(&nl, netns_fd)) < 0 || (r = link_get(&nl, ifname, &link)) <= 0)
                return nl_fail(err, r ? r : -ENODEV, nl.ext_ack,
                               "cannot configure \"%s\" in netns %s", ifname,
                               netns_name(netns_fd).s);
        for (size_t i = 0; i < n; i++)
                if ((r = addr_add(&nl, rtnl_link_get_ifindex(link), &addrs[i])) < 0)
                        return nl_fail(err, r, nl.ext_ack,
                                       "cannot add address %s to \"%s\" in netns %s",
                                       osn_cidr_format(&addrs[i], buf, sizeof(buf)), ifname,
                                       netns_name(netns_fd).s);
        if ((r = link_set_up(&nl, ifname, true)) < 0)
                return nl_fail(err, r, nl.ext_ack, "cannot set \"%s\" up in netns %s", ifname,
                               netns_name(netns_fd).s);
        return 0;
}

static void route_putp(struct rtnl_route **r)
{
        if (*r)
                rtnl_route_put(*r);
}

static int route_add(struct nl *nl, int ifindex, const struct osn_cidr *dst,
                     const struct osn_cidr *gw)
{
        _cleanup_(route_putp) struct rtnl_route *rt = rtnl_route_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *d = NULL;
        _cleanup_(nl_addr_putp) struct nl_addr *g = NULL;
        size_t len = dst->family == AF_INET ? 4 : 16;
        if (!rt || !(d = nl_addr_build(dst->family, dst->addr.bytes, len)) ||
            !(g = nl_addr_build(gw->family, gw->addr.bytes, len)))
                return -ENOMEM;
        nl_addr_set_prefixlen(d, (int)dst->prefixlen);
        struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
        if (!nh)
                return -ENOMEM;
        rtnl_route_nh_set_ifindex(nh, ifindex);
        rtnl_route_nh_set_gateway(nh, g);
        rtnl_route_set_family(rt, (uint8_t)dst->family);
        rtnl_route_set_table(rt, RT_TABLE_MAIN);
        rtnl_route_set_protocol(rt, RTPROT_BOOT);
        rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
        rtnl_route_set_type(rt, RTN_UNICAST);
        int r = rtnl_route_set_dst(rt, d);
        if (r < 0) {
                rtnl_route_nh_free(nh);
                return nle_to_errno(r);
        }
        rtnl_route_add_nexthop(rt, nh); /* the route owns it now */
        return nl_errno(nl, rtnl_route_add(nl->sk, rt, NLM_F_CREATE | NLM_F_REPLACE));
}

int osn_pod_add_routes(int netns_fd, const char *ifname, const struct osn_cidr *dst,
                       const struct osn_cidr *gw, size_t n, struct osn_error *err)
{
        _cleanup_(nl_closep) struct nl nl = {0};
        _cleanup_(link_putp) struct rtnl_link *link = NULL;
        char b1[OSN_CIDR_STRLEN], b2[OSN_CIDR_STRLEN];
        int r;
        if (n == 0)
                return 0;
        if ((r = check_ifname(ifname, "pod", err)) < 0)
                return r;
        if ((r = nl_open(&nl, netns_fd)) < 0 || (r = link_get(&nl, ifname, &link)) <= 0)
                return nl_fail(err, r ? r : -ENODEV, nl.ext_ack,
                               "cannot route through \"%s\" in netns %s", ifname,
                               netns_name(netns_fd).s);
        for (size_t i = 0; i < n; i++)
                if ((r = route_add(&nl, rtnl_link_get_ifindex(link), &dst[i], &gw[i])) < 0)
                        return nl_fail(err, r, nl.ext_ack,
                                       "cannot add route to %s via %s on \"%s\" in netns %s",
                                       osn_cidr_format(&dst[i], b1, sizeof(b1)),
                                       osn_addr_format(&gw[i], b2, sizeof(b2)), ifname,
                                       netns_name(netns_fd).s);
        return 0;
}

struct addr_dump {
        int ifindex;
        struct osn_link_info *info;
};

static int addr_dump_one(struct nl_msg *msg, void *arg)
{
        struct addr_dump *d = arg;
        struct nlmsghdr *h = nlmsg_hdr(msg);
        struct nlattr *tb[IFA_MAX + 1];

        if (h->nlmsg_type != RTM_NEWADDR ||
            nlmsg_parse(h, sizeof(struct ifaddrmsg), tb, IFA_MAX, NULL) < 0)
                return NL_SKIP;
        const struct ifaddrmsg *ifa = nlmsg_data(h);
        /* IFA_LOCAL is the address itself; IPv6 sends only IFA_ADDRESS. */
        const struct nlattr *a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
        int len = ifa->ifa_family == AF_INET ? 4 : ifa->ifa_family == AF_INET6 ? 16 : 0;
        if ((int)ifa->ifa_index != d->ifindex || ifa->ifa_scope != RT_SCOPE_UNIVERSE || !a ||
            !len || nla_len(a) != len || d->info->n_addrs == ARRAY_SIZE(d->info->addrs))
                return NL_OK;
        struct osn_cidr *c = &d->info->addrs[d->info->n_addrs++];
        *c = (struct osn_cidr){.family = ifa->ifa_family, .prefixlen = ifa->ifa_prefixlen};
        memcpy(c->addr.bytes, nla_data(a), (size_t)len);
        return NL_OK;
}

/* The link's global-scope addresses: one RTM_GETADDR dump, which the kernel
 * filters to the link when it supports strict checking. */
static int addr_dump(struct nl *nl, int ifindex, struct osn_link_info *info)
{
        struct ifaddrmsg req = {.ifa_family = AF_UNSPEC, .ifa_index = (unsigned)ifindex};
        struct addr_dump d = {ifindex, info};
        int one = 1, r;

        (void)setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one,
                         sizeof(one));
        r = nl_errno(nl, nl_socket_modify_cb(nl->sk, NL_CB_VALID, NL_CB_CUSTOM, addr_dump_one, &d));
        if (r == 0)
                r = nl_errno(nl,
                             nl_send_simple(nl->sk, RTM_GETADDR, NLM_F_DUMP, &req, sizeof(req)));
        return r < 0 ? r : nl_errno(nl, nl_recvmsgs_default(nl->sk));
}

int osn_pod_inspect(int netns_fd, const char *ifname, struct osn_link_info *ret,
                    struct osn_error *err)
{
        _cleanup_(nl_closep) struct nl nl = {0};
        _cleanup_(link_putp) struct rtnl_link *link = NULL;
        struct osn_link_info info = {0};
        int r;

        if ((r = check_ifname(ifname, "pod", err)) < 0)
                return r;
        if ((r = nl_open(&nl, netns_fd)) < 0 || (r = link_get(&nl, ifname, &link)) < 0)
                goto fail;
        if (r > 0) {
                struct nl_addr *mac = rtnl_link_get_addr(link);
                info.exists = true;
                info.up = rtnl_link_get_flags(link) & IFF_UP;
                info.mtu = rtnl_link_get_mtu(link);
                if (mac && nl_addr_get_len(mac) == sizeof(info.mac))
                        memcpy(info.mac, nl_addr_get_binary_addr(mac), sizeof(info.mac));
                if ((r = addr_dump(&nl, rtnl_link_get_ifindex(link), &info)) < 0)
                        goto fail;
        }
        *ret = info;
        return 0;
fail:
        return nl_fail(err, r, nl.ext_ack, "cannot inspect \"%s\" in netns %s", ifname,
                       netns_name(netns_fd).s);
}

/* --- offloads --- */

int osn_link_disable_tx_csum(int netns_fd, const char *ifname)
{
        _cleanup_close_ int fd = -1;
        struct ethtool_value ev = {.cmd = ETHTOOL_STXCSUM, .data = 0};
        struct ifreq ifr = {.ifr_data = (void *)&ev};
        int r;

        if ((r = check_ifname(ifname, "", NULL)) < 0)
                return r;
        {
                /* The ioctl acts in the netns of the socket it is issued on. */
                _cleanup_(netns_leavep) int home = -1;
                if (netns_fd >= 0 && (r = netns_enter(netns_fd, &home)) < 0)
                        return r;
                if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
                        return -errno;
        }
        memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
        return ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
}

/* --- MAC and announcements --- */

int osn_pod_set_mac(int netns_fd, const char *ifname, const uint8_t mac[6], struct osn_error *err)
{
        _cleanup_(nl_closep) struct nl nl = {0};
        _cleanup_(link_putp) struct rtnl_link *orig = rtnl_link_alloc();
        _cleanup_(link_putp) struct rtnl_link *change = rtnl_link_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *a = nl_addr_build(AF_LLC, mac, 6);
        char m[OSN_MAC_STRLEN];
        int r;

        if ((r = check_ifname(ifname, "pod", err)) < 0)
                return r;
        if (!orig || !change || !a)
                return -ENOMEM;
        rtnl_link_set_name(change, ifname);
        rtnl_link_set_addr(change, a);
        if ((r = nl_open(&nl, netns_fd)) < 0 ||
            (r = nl_errno(&nl, rtnl_link_change(nl.sk, orig, change, 0))) < 0)
                return nl_fail(err, r, nl.ext_ack, "cannot set MAC %s on \"%s\" in netns %s",
                               osn_mac_format(mac, m, sizeof(m)), ifname, netns_name(netns_fd).s);
        return 0;
}

/* The Internet checksum's one's-complement sum over 'len' bytes. */
static uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
        const uint8_t *p = data;
        for (size_t i = 0; i + 1 < len; i += 2)
                sum += (uint32_t)(p[i] << 8 | p[i + 1]);
        if (len & 1)
                sum += (uint32_t)(p[len - 1] << 8);
        return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return (uint16_t)~sum;
}

/* A gratuitous ARP request (sender = target = 'ip'), broadcast: peers that
 * know 'ip' replace its MAC at once (Linux overrides a neighbour entry on a
 * gratuitous ARP), and OVN floods it rather than answering it itself. */
static size_t garp_frame(uint8_t *f, const uint8_t mac[6], const struct osn_cidr *ip)
{
        memset(f, 0xff, 6);
        memcpy(f + 6, mac, 6);
        f[12] = 0x08, f[13] = 0x06;                 /* ARP */
        f[14] = 0x00, f[15] = 0x01;                 /* Ethernet */
        f[16] = 0x08, f[17] = 0x00;                 /* IPv4 */
        f[18] = 6, f[19] = 4, f[20] = 0, f[21] = 1; /* request */
        memcpy(f + 22, mac, 6);
        memcpy(f + 28, &ip->addr.v4.s_addr, 4);
        memset(f + 32, 0, 6);
        memcpy(f + 38, &ip->addr.v4.s_addr, 4);
        memset(f + 42, 0, 18); /* padding to the 60-byte minimum */
        return 60;
}

/* An unsolicited neighbour advertisement (RFC 4861 7.2.6) to all nodes,
 * with the override flag and the target link-layer address option. */
static size_t una_frame(uint8_t *f, const uint8_t mac[6], const struct osn_cidr *ip)
{
        static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 0x01};
        const size_t icmp_len = 32, off_ip = 14, off_icmp = 14 + 40;
        f[0] = 0x33, f[1] = 0x33, f[2] = 0, f[3] = 0, f[4] = 0, f[5] = 1;
        memcpy(f + 6, mac, 6);
        f[12] = 0x86, f[13] = 0xdd;
        uint8_t *h = f + off_ip;
        memset(h, 0, 40);
        h[0] = 0x60;
        h[4] = 0, h[5] = (uint8_t)icmp_len;
        h[6] = 58;  /* ICMPv6 */
        h[7] = 255; /* hop limit, as neighbour discovery requires */
        memcpy(h + 8, ip->addr.v6.s6_addr, 16);
        memcpy(h + 24, all_nodes, 16);
        uint8_t *m = f + off_icmp;
        memset(m, 0, icmp_len);
        m[0] = 136;  /* neighbour advertisement */
        m[4] = 0x20; /* override */
        memcpy(m + 8, ip->addr.v6.s6_addr, 16);
        m[24] = 2, m[25] = 1; /* target link-layer address, 8 bytes */
        memcpy(m + 26, mac, 6);
        uint32_t sum = csum_add(0, h + 8, 32); /* source and destination */
        sum += (uint32_t)icmp_len + 58;
        sum = csum_add(sum, m, icmp_len);
        uint16_t c = csum_fold(sum);
        m[2] = (uint8_t)(c >> 8), m[3] = (uint8_t)c;
        return off_icmp + icmp_len;
}

/* Sends one round of announcements; the index of a frame that failed into
 * *ret_failed. */
static int announce_round(const struct osn_announce *a, size_t *ret_failed)
{
        struct sockaddr_ll to = {
            .sll_family = AF_PACKET, .sll_ifindex = a->ifindex, .sll_halen = 6};
        for (size_t i = 0; i < a->n; i++) {
                uint8_t frame[128];
                size_t len = a->addrs[i].family == AF_INET ? garp_frame(frame, a->mac, &a->addrs[i])
                                                           : una_frame(frame, a->mac, &a->addrs[i]);
                memcpy(to.sll_addr, frame, 6);
                if (sendto(a->fd, frame, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
                        *ret_failed = i;
                        return -errno;
                }
        }
        return 0;
}

int osn_announce_open(int netns_fd, const char *ifname, const uint8_t mac[6],
                      const struct osn_cidr *addrs, size_t n, struct osn_announce *ret,
                      struct osn_error *err)
{
        _cleanup_close_ int fd = -1;
        int r;

        ret->fd = -1;
        if ((r = check_ifname(ifname, "pod", err)) < 0)
                return r;
        {
                _cleanup_(netns_leavep) int home = -1;
                if ((r = netns_enter(netns_fd, &home)) < 0)
                        return nl_fail(err, r, NULL, "cannot enter netns %s",
                                       netns_name(netns_fd).s);
                fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                if (fd < 0)
                        return nl_fail(err, -errno, NULL, "cannot open a packet socket in netns %s",
                                       netns_name(netns_fd).s);
        }
        struct ifreq ifr = {0};
        memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
        if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
                return nl_fail(err, -errno, NULL, "cannot find \"%s\" in netns %s", ifname,
                               netns_name(netns_fd).s);
        ret->ifindex = ifr.ifr_ifindex;
        memcpy(ret->mac, mac, 6);
        ret->n = n < OSN_ANNOUNCE_MAX_ADDRS ? n : OSN_ANNOUNCE_MAX_ADDRS;
        memcpy(ret->addrs, addrs, ret->n * sizeof(addrs[0]));
        ret->fd = TAKE_FD(fd);
        return 0;
}

int osn_announce_first(struct osn_announce *a, struct osn_error *err)
{
        size_t failed = 0;
        int r = announce_round(a, &failed);
        if (r < 0) {
                char b[OSN_CIDR_STRLEN];
                return nl_fail(err, r, NULL, "cannot announce %s from ifindex %d of the pod",
                               osn_addr_format(&a->addrs[failed], b, sizeof(b)), a->ifindex);
        }
        return 0;
}

void osn_announce_repeat(struct osn_announce *a)
{
        static const int delays_ms[] = {50, 150, 300, 600, 1000, 2000};
        for (size_t i = 0; a->fd >= 0 && i < ARRAY_SIZE(delays_ms); i++) {
                int gap = delays_ms[i] - (i ? delays_ms[i - 1] : 0);
                struct timespec ts = {.tv_sec = gap / 1000,
                                      .tv_nsec = (long)(gap % 1000) * 1000000};
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
                size_t failed;
                (void)announce_round(a, &failed);
        }
        osn_announce_close(a);
}

void osn_announce_close(struct osn_announce *a)
{
        if (a->fd >= 0)
                close(a->fd);
        a->fd = -1;
}
