/* alloc: see alloc.h. */
#include "alloc.h"

#include <arpa/inet.h>
#include <stdio.h>

#define U128_MAX (~(osn_u128)0)

static unsigned family_bits(int family)
{
        return family == AF_INET ? 32 : 128;
}

osn_u128 osn_addr_value(const struct osn_cidr *c)
{
        if (c->family == AF_INET)
                return ntohl(c->addr.v4.s_addr);
        osn_u128 v = 0;
        for (int i = 0; i < 16; i++)
                v = (v << 8) | c->addr.v6.s6_addr[i];
        return v;
}

struct osn_cidr osn_addr_from_value(int family, osn_u128 v, unsigned prefixlen)
{
        struct osn_cidr c = {.family = family, .prefixlen = prefixlen};
        if (family == AF_INET) {
                c.addr.v4.s_addr = htonl((uint32_t)v);
        } else {
                for (int i = 15; i >= 0; i--) {
                        c.addr.v6.s6_addr[i] = (uint8_t)v;
                        v >>= 8;
                }
        }
        return c;
}

/* 2^n - 1 for n in 0..128. */
static osn_u128 low_mask(unsigned n)
{
        return n >= 128 ? U128_MAX : (((osn_u128)1 << n) - 1);
}

char *osn_u128_format(osn_u128 v, char *buf, size_t len)
{
        char tmp[40];
        size_t n = 0;
        do {
                tmp[n++] = (char)('0' + (int)(v % 10));
                v /= 10;
        } while (v && n < sizeof(tmp));
        if (len == 0)
                return buf;
        size_t k = 0;
        while (n > 0 && k + 1 < len)
                buf[k++] = tmp[--n];
        buf[k] = 0;
        return buf;
}

static const char *reason_text(enum osn_block_reason r)
{
        switch (r) {
        case OSN_BLOCK_NETWORK_ADDRESS:
                return "the network address of subnet";
        case OSN_BLOCK_BROADCAST:
                return "the broadcast address of subnet";
        case OSN_BLOCK_ANYCAST:
                return "the subnet-router anycast address of subnet";
        case OSN_BLOCK_PHYSICAL_GATEWAY:
                return "the physical gateway (the first address, kept for the router of an "
                       "external network) of subnet";
        case OSN_BLOCK_DHCP_SERVER:
                return "the address OVN's DHCP server answers from (the first address; name a "
                       "gateway in defaultGatewayIPs or set \"dhcp\": false to free it) of subnet";
        case OSN_BLOCK_GATEWAY:
                return "a gateway address (defaultGatewayIPs) of";
        case OSN_BLOCK_EXCLUDED:
                return "excluded (excludeSubnets) by";
        case OSN_BLOCK_INFRASTRUCTURE:
                return "kept for the network's infrastructure (infrastructureSubnets) by";
        case OSN_BLOCK_RESERVED:
                return "reserved for static requests (reservedSubnets) by";
        }
        return "blocked by";
}

const char *osn_block_reason_name(enum osn_block_reason r)
{
        switch (r) {
        case OSN_BLOCK_NETWORK_ADDRESS:
                return "network address";
        case OSN_BLOCK_BROADCAST:
                return "broadcast address";
        case OSN_BLOCK_ANYCAST:
                return "subnet-router anycast";
        case OSN_BLOCK_PHYSICAL_GATEWAY:
                return "physical gateway";
        case OSN_BLOCK_DHCP_SERVER:
                return "DHCP server";
        case OSN_BLOCK_GATEWAY:
                return "defaultGatewayIPs";
        case OSN_BLOCK_EXCLUDED:
                return "excludeSubnets";
        case OSN_BLOCK_INFRASTRUCTURE:
                return "infrastructureSubnets";
        case OSN_BLOCK_RESERVED:
                return "reservedSubnets";
        }
        return "?";
}

/* --- building the address space --- */

static void add_range(struct osn_alloc_subnet *s, osn_u128 lo, osn_u128 hi,
                      enum osn_block_reason reason, const struct osn_cidr *source)
{
        if (s->n_ranges == OSN_ALLOC_MAX_RANGES || lo > hi || lo > s->last)
                return;
        if (hi > s->last)
                hi = s->last;
        size_t i = s->n_ranges++;
        while (i > 0 && s->ranges[i - 1].lo > lo) {
                s->ranges[i] = s->ranges[i - 1];
                i--;
        }
        s->ranges[i] = (struct osn_alloc_range){.lo = lo, .hi = hi, .reason = reason};
        s->ranges[i].source = *source;
}

/* Blocks what of 'x' (a CIDR or an address) falls inside subnet 's'. */
static void add_cidr(struct osn_alloc_subnet *s, const struct osn_cidr *x,
                     enum osn_block_reason reason)
{
        if (x->family != s->subnet.family)
                return;
        unsigned bits = family_bits(x->family);
        struct osn_cidr xn = osn_cidr_network(x);
        osn_u128 base = osn_addr_value(&s->subnet), lo = osn_addr_value(&xn);
        osn_u128 hi = lo + low_mask(bits - x->prefixlen);
        osn_u128 end = base + s->last;
        if (hi < base || lo > end)
                return;
        add_range(s, lo < base ? 0 : lo - base, hi > end ? s->last : hi - base, reason, x);
}

static void add_list(struct osn_alloc_subnet *s, const struct osn_cidr *v, size_t n,
                     enum osn_block_reason reason)
{
        for (size_t i = 0; i < n; i++)
                add_cidr(s, &v[i], reason);
}

static bool has_gateway(const struct osn_netconf *nc, int family)
{
        for (size_t i = 0; i < nc->n_gateways; i++)
                if (nc->gateways[i].family == family)
                        return true;
        return false;
}

int osn_alloc_dhcp_server(const struct osn_alloc *a, const struct osn_netconf *nc, size_t idx,
                          struct osn_cidr *ret)
{
        if (idx >= a->n_subnets)
                return -ENOENT;
        const struct osn_alloc_subnet *s = &a->subnets[idx];
        if (s->subnet.family != AF_INET || s->subnet.prefixlen > 30)
                return -ENOENT;
        for (size_t i = 0; i < nc->n_gateways; i++)
                if (nc->gateways[i].family == AF_INET &&
                    osn_cidr_contains(&s->subnet, &nc->gateways[i])) {
                        *ret = nc->gateways[i];
                        ret->prefixlen = s->subnet.prefixlen;
                        return 0;
                }
        *ret = osn_addr_from_value(AF_INET, osn_addr_value(&s->subnet) + 1, s->subnet.prefixlen);
        return 0;
}

void osn_alloc_init(struct osn_alloc *a, const struct osn_netconf *nc)
{
        memset(a, 0, sizeof(*a));
        snprintf(a->network, sizeof(a->network), "%s", nc->name ? nc->name : "");
        for (size_t i = 0; i < nc->n_subnets && a->n_subnets < OSN_MAX_SUBNETS; i++) {
                struct osn_alloc_subnet *s = &a->subnets[a->n_subnets++];
                s->subnet = osn_cidr_network(&nc->subnets[i]);
                unsigned bits = family_bits(s->subnet.family);
                s->last = low_mask(bits - s->subnet.prefixlen);
                const struct osn_cidr *sub = &s->subnet;
                if (sub->family == AF_INET && sub->prefixlen <= 30) {
                        add_range(s, 0, 0, OSN_BLOCK_NETWORK_ADDRESS, sub);
                        add_range(s, s->last, s->last, OSN_BLOCK_BROADCAST, sub);
                        if (nc->external)
                                add_range(s, 1, 1, OSN_BLOCK_PHYSICAL_GATEWAY, sub);
                        else if (nc->dhcp && !has_gateway(nc, AF_INET))
                                add_range(s, 1, 1, OSN_BLOCK_DHCP_SERVER, sub);
                } else if (sub->family == AF_INET6 && sub->prefixlen <= 126) {
                        add_range(s, 0, 0, OSN_BLOCK_ANYCAST, sub);
                }
                add_list(s, nc->excludes, nc->n_excludes, OSN_BLOCK_EXCLUDED);
                add_list(s, nc->infrastructure, nc->n_infrastructure, OSN_BLOCK_INFRASTRUCTURE);
                add_list(s, nc->gateways, nc->n_gateways, OSN_BLOCK_GATEWAY);
                add_list(s, nc->reserved, nc->n_reserved, OSN_BLOCK_RESERVED);
        }
}

void osn_alloc_range_bounds(const struct osn_alloc_subnet *s, const struct osn_alloc_range *r,
                            struct osn_cidr *ret_first, struct osn_cidr *ret_last)
{
        unsigned host = family_bits(s->subnet.family);
        osn_u128 base = osn_addr_value(&s->subnet);
        *ret_first = osn_addr_from_value(s->subnet.family, base + r->lo, host);
        *ret_last = osn_addr_from_value(s->subnet.family, base + r->hi, host);
}

int osn_alloc_subnet_of(const struct osn_alloc *a, const struct osn_cidr *ip)
{
        for (size_t i = 0; i < a->n_subnets; i++)
                if (osn_cidr_contains(&a->subnets[i].subnet, ip))
                        return (int)i;
        return -1;
}

/* The first range that holds 'off' (reserved ones too when 'with_reserved'),
 * or NULL. */
static const struct osn_alloc_range *range_at(const struct osn_alloc_subnet *s, osn_u128 off,
                                              bool with_reserved)
{
        for (size_t i = 0; i < s->n_ranges && s->ranges[i].lo <= off; i++) {
                const struct osn_alloc_range *r = &s->ranges[i];
                if (off <= r->hi && (with_reserved || r->reason != OSN_BLOCK_RESERVED))
                        return r;
        }
        return NULL;
}

int osn_alloc_check_static(const struct osn_alloc *a, const struct osn_cidr *ip, const char *what,
                           struct osn_error *err)
{
        char b[OSN_CIDR_STRLEN], c[OSN_CIDR_STRLEN];
        int idx = osn_alloc_subnet_of(a, ip);
        if (idx < 0) {
                if (a->n_subnets == 0)
                        return 0; /* a network without subnets takes any address */
                char list[OSN_MAX_SUBNETS * (OSN_CIDR_STRLEN + 2)] = "";
                size_t off = 0;
                for (size_t i = 0; i < a->n_subnets; i++) {
                        osn_cidr_format(&a->subnets[i].subnet, c, sizeof(c));
                        off += (size_t)snprintf(list + off, sizeof(list) - off, "%s%s",
                                                i ? ", " : "", c);
                }
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "%s %s is outside the subnets of network \"%s\" (%s); "
                                     "request an address inside them",
                                     what, osn_addr_format(ip, b, sizeof(b)), a->network, list);
        }
        const struct osn_alloc_subnet *s = &a->subnets[idx];
        const struct osn_alloc_range *r =
            range_at(s, osn_addr_value(ip) - osn_addr_value(&s->subnet), false);
        if (!r)
                return 0;
        osn_addr_format(ip, b, sizeof(b));
        if (r->reason == OSN_BLOCK_GATEWAY)
                return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                                     "%s %s is a gateway of network \"%s\" (defaultGatewayIPs); "
                                     "no pod may hold it, request another address",
                                     what, b, a->network);
        if (r->reason == OSN_BLOCK_EXCLUDED || r->reason == OSN_BLOCK_INFRASTRUCTURE)
                return osn_error_set(
                    err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                    "%s %s is inside %s %s of network \"%s\", which no pod may hold; request "
                    "another address%s",
                    what, b, osn_block_reason_name(r->reason),
                    r->source.prefixlen < family_bits(r->source.family)
                        ? osn_cidr_format(&r->source, c, sizeof(c))
                        : osn_addr_format(&r->source, c, sizeof(c)),
                    a->network,
                    r->reason == OSN_BLOCK_EXCLUDED
                        ? " (reservedSubnets holds addresses that only static requests take)"
                        : "");
        return osn_error_set(err, -EINVAL, OSN_CNI_INVALID_CONFIG,
                             "%s %s is %s %s of network \"%s\"; no pod may hold it, request "
                             "another address",
                             what, b, reason_text(r->reason),
                             osn_cidr_format(&s->subnet, c, sizeof(c)), a->network);
}

/* The first offset >= 'off' (up to the subnet's end) that no range blocks:
 * true and *ret, or false when none is left before the end. */
static bool next_open(const struct osn_alloc_subnet *s, osn_u128 off, osn_u128 *ret)
{
        for (;;) {
                const struct osn_alloc_range *r = range_at(s, off, true);
                if (!r) {
                        *ret = off;
                        return true;
                }
                if (r->hi >= s->last)
                        return false;
                off = r->hi + 1;
        }
}

static uint64_t splitmix64(uint64_t x)
{
        x += 0x9e3779b97f4a7c15ull;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
        return x ^ (x >> 31);
}

static osn_u128 start_offset(const struct osn_alloc_subnet *s, uint64_t seed, unsigned attempt)
{
        uint64_t h1 = splitmix64(seed ^ ((uint64_t)attempt * 0xd1b54a32d192ed03ull));
        uint64_t h2 = splitmix64(h1);
        osn_u128 h = ((osn_u128)h2 << 64) | h1;
        return s->last == U128_MAX ? h : h % (s->last + 1);
}

int osn_alloc_candidate(const struct osn_alloc *a, size_t idx, uint64_t seed, unsigned attempt,
                        struct osn_cidr *ret)
{
        if (idx >= a->n_subnets)
                return -ENOSPC;
        const struct osn_alloc_subnet *s = &a->subnets[idx];
        osn_u128 off;
        if (!next_open(s, start_offset(s, seed, attempt), &off) && !next_open(s, 0, &off))
                return -ENOSPC;
        *ret = osn_addr_from_value(s->subnet.family, osn_addr_value(&s->subnet) + off,
                                   s->subnet.prefixlen);
        return 0;
}

/* 'used' as sorted, unique offsets inside subnet 's' (into 'out', which
 * holds n_used entries). Returns how many. */
static size_t used_offsets(const struct osn_alloc_subnet *s, const struct osn_cidr *used,
                           size_t n_used, osn_u128 *out)
{
        size_t n = 0;
        osn_u128 base = osn_addr_value(&s->subnet);
        for (size_t i = 0; i < n_used; i++) {
                if (!osn_cidr_contains(&s->subnet, &used[i]))
                        continue;
                osn_u128 v = osn_addr_value(&used[i]) - base;
                size_t k = n++;
                while (k > 0 && out[k - 1] > v) {
                        out[k] = out[k - 1];
                        k--;
                }
                out[k] = v;
        }
        size_t u = 0;
        for (size_t i = 0; i < n; i++)
                if (u == 0 || out[u - 1] != out[i])
                        out[u++] = out[i];
        return u;
}

/* Is 'v' among the sorted offsets? The index of the first >= v in *pos. */
static bool offsets_find(const osn_u128 *v, size_t n, osn_u128 x, size_t *pos)
{
        size_t lo = 0, hi = n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (v[mid] < x)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        *pos = lo;
        return lo < n && v[lo] == x;
}

/* The first offset in [from, to] that no range blocks and 'used' does not
 * hold. */
static bool scan_free(const struct osn_alloc_subnet *s, const osn_u128 *used, size_t n,
                      osn_u128 from, osn_u128 to, osn_u128 *ret)
{
        osn_u128 off = from;
        for (;;) {
                if (off > to || !next_open(s, off, &off) || off > to)
                        return false;
                size_t pos;
                if (!offsets_find(used, n, off, &pos)) {
                        *ret = off;
                        return true;
                }
                /* Skip the run of used offsets starting here. */
                while (pos + 1 < n && used[pos + 1] == used[pos] + 1)
                        pos++;
                if (used[pos] >= to)
                        return false;
                off = used[pos] + 1;
        }
}

int osn_alloc_pick_free(const struct osn_alloc *a, size_t idx, uint64_t seed,
                        const struct osn_cidr *used, size_t n_used, struct osn_cidr *ret)
{
        if (idx >= a->n_subnets)
                return -ENOSPC;
        const struct osn_alloc_subnet *s = &a->subnets[idx];
        _cleanup_free_ osn_u128 *offs = calloc(n_used ? n_used : 1, sizeof(*offs));
        if (!offs)
                return -ENOMEM;
        size_t n = used_offsets(s, used, n_used, offs);
        osn_u128 start = start_offset(s, seed, 0), off;
        if (!scan_free(s, offs, n, start, s->last, &off) &&
            (start == 0 || !scan_free(s, offs, n, 0, start - 1, &off)))
                return -ENOSPC;
        *ret = osn_addr_from_value(s->subnet.family, osn_addr_value(&s->subnet) + off,
                                   s->subnet.prefixlen);
        return 0;
}

/* How many offsets the ranges cover (reserved ones only when
 * 'with_reserved'), counting overlaps once. */
static osn_u128 covered(const struct osn_alloc_subnet *s, bool with_reserved)
{
        osn_u128 total = 0, cur_lo = 0, cur_hi = 0;
        bool open = false;
        for (size_t i = 0; i < s->n_ranges; i++) {
                const struct osn_alloc_range *r = &s->ranges[i];
                if (!with_reserved && r->reason == OSN_BLOCK_RESERVED)
                        continue;
                if (open && r->lo <= cur_hi + 1 && cur_hi != U128_MAX) {
                        if (r->hi > cur_hi)
                                cur_hi = r->hi;
                        continue;
                }
                if (open)
                        total += cur_hi - cur_lo + 1;
                cur_lo = r->lo;
                cur_hi = r->hi;
                open = true;
        }
        if (open)
                total += cur_hi - cur_lo + 1;
        return total;
}

void osn_alloc_usage(const struct osn_alloc *a, size_t idx, const struct osn_cidr *used,
                     size_t n_used, struct osn_alloc_usage *ret)
{
        memset(ret, 0, sizeof(*ret));
        if (idx >= a->n_subnets)
                return;
        const struct osn_alloc_subnet *s = &a->subnets[idx];
        osn_u128 size = s->last == U128_MAX ? U128_MAX : s->last + 1;
        osn_u128 all = covered(s, true), blocked = covered(s, false);
        ret->capacity = size - all;
        ret->reserved = all - blocked;
        _cleanup_free_ osn_u128 *offs = calloc(n_used ? n_used : 1, sizeof(*offs));
        size_t n = offs ? used_offsets(s, used, n_used, offs) : 0;
        ret->held = n;
        for (size_t i = 0; i < n; i++) {
                const struct osn_alloc_range *r = range_at(s, offs[i], true);
                if (!r)
                        ret->used++;
                else if (!range_at(s, offs[i], false))
                        ret->reserved_used++;
        }
}

int osn_alloc_mac_for(const struct osn_cidr *ips, size_t n, uint8_t ret_mac[6])
{
        const struct osn_cidr *v6 = NULL;
        for (size_t i = 0; i < n; i++) {
                if (ips[i].family == AF_INET) {
                        ret_mac[0] = 0x0a;
                        ret_mac[1] = 0x58;
                        memcpy(ret_mac + 2, &ips[i].addr.v4.s_addr, 4);
                        return 0;
                }
                if (!v6)
                        v6 = &ips[i];
        }
        if (!v6)
                return -ENOENT;
        ret_mac[0] = 0x0a;
        ret_mac[1] = 0x58;
        memcpy(ret_mac + 2, v6->addr.v6.s6_addr + 12, 4);
        return 0;
}

uint64_t osn_alloc_seed(const char *port_name)
{
        uint64_t h = 0xcbf29ce484222325ull;
        for (const char *p = port_name; *p; p++) {
                h ^= (uint8_t)*p;
                h *= 0x100000001b3ull;
        }
        return h;
}
