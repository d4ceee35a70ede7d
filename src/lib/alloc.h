/* alloc: which addresses of a network a pod may hold, and which to try.
 *
 * osn chooses a port's addresses itself; the NB side (ovn.h) claims them in
 * the same transaction that inserts the port, guarded so that the server
 * refuses a claim some other port already holds.  This module is the pure
 * half of that: no I/O, no allocation, deterministic.
 *
 * A network's address space is its subnets (at most one IPv4 and one IPv6 in
 * practice).  Inside a subnet some addresses are never a pod's ("blocked"):
 *   - IPv4 network and broadcast addresses (prefixes up to /30), and the
 *     IPv6 subnet-router anycast address (offset 0, prefixes up to /126);
 *   - on an external network, the IPv4 subnet's first address: the physical
 *     gateway out there (as ovn-kubernetes' localnet convention);
 *   - on a network with OVN's DHCP and no defaultGatewayIPs, the IPv4
 *     subnet's first address: the DHCP server's (osn_alloc_dhcp_server());
 *   - excludeSubnets, infrastructureSubnets and defaultGatewayIPs;
 * and some are "reserved": upstream's reservedSubnets, which dynamic
 * allocation never hands out but a static request may take.
 *
 * Candidates: a dynamic ADD tries addresses in an order derived from a seed
 * (a hash of the port's name) and the attempt number, so concurrent ADDs on
 * many nodes start at different places and an address just freed is not the
 * next one handed out (with F free addresses, the chance that the next ADD
 * picks the one just freed is 1/F, against 1 for a lowest-free allocator).
 * After a few lost claims the caller reads the network's claims and asks
 * osn_alloc_pick_free(), which scans from the same start and finds a free
 * address if there is one, or says precisely that none is left.
 *
 * Counts are 128-bit (an IPv6 /64 has 2^64 addresses); osn_u128_format()
 * prints them.
 */
#ifndef OSN_ALLOC_H
#define OSN_ALLOC_H

#include "addr.h"
#include "error.h"
#include "netconf.h"
#include "util.h"

__extension__ typedef unsigned __int128 osn_u128;

/* Why an address is not (dynamically) available. */
enum osn_block_reason {
        OSN_BLOCK_NETWORK_ADDRESS,
        OSN_BLOCK_BROADCAST,
        OSN_BLOCK_ANYCAST,
        OSN_BLOCK_PHYSICAL_GATEWAY,
        OSN_BLOCK_DHCP_SERVER,    /* the address OVN's DHCP server answers from */
        OSN_BLOCK_GATEWAY,        /* defaultGatewayIPs */
        OSN_BLOCK_EXCLUDED,       /* excludeSubnets */
        OSN_BLOCK_INFRASTRUCTURE, /* infrastructureSubnets */
        OSN_BLOCK_RESERVED,       /* reservedSubnets: static requests only */
};

/* One range of host offsets [lo, hi] inside a subnet. */
struct osn_alloc_range {
        osn_u128 lo, hi;
        enum osn_block_reason reason;
        struct osn_cidr source; /* the key's value that blocks it, for messages */
};

#define OSN_ALLOC_MAX_RANGES (3 * OSN_MAX_EXCLUDES + OSN_MAX_SUBNETS + 4)

struct osn_alloc_subnet {
        struct osn_cidr subnet; /* network address and prefix */
        osn_u128 last;          /* the highest host offset: 2^(bits - prefix) - 1 */
        struct osn_alloc_range ranges[OSN_ALLOC_MAX_RANGES]; /* sorted by lo */
        size_t n_ranges;
};

struct osn_alloc {
        char network[OSN_NAME_MAX + 1];
        struct osn_alloc_subnet subnets[OSN_MAX_SUBNETS];
        size_t n_subnets;
};

/* Builds the address space of nc's network from its subnets, exclusions,
 * reservations and topology. */
void osn_alloc_init(struct osn_alloc *a, const struct osn_netconf *nc) _nonnull_(1, 2);

/* The index of the subnet that holds 'ip', or -1. */
int osn_alloc_subnet_of(const struct osn_alloc *a, const struct osn_cidr *ip) _nonnull_(1, 2);

/* May a static request hold 'ip'?  0 when it may (inside a subnet, not
 * blocked; reserved addresses are fine), else -EINVAL with 'err'
 * (OSN_CNI_INVALID_CONFIG) saying why in words, e.g. "10.10.20.1 is the
 * physical gateway of network \"ext\" (the first address of subnet
 * 10.10.20.0/24 on an external network)".  'what' names where the request
 * came from ("runtimeConfig.ips", "CNI_ARGS IP="). */
int osn_alloc_check_static(const struct osn_alloc *a, const struct osn_cidr *ip, const char *what,
                           struct osn_error *err) _nonnull_(1, 2, 3);

/* Candidate number 'attempt' of subnet 'idx' for a port whose seed is
 * 'seed': an address that is neither blocked nor reserved, written to *ret
 * with the subnet's prefix.  -ENOSPC when the subnet has no dynamically
 * allocatable address at all. */
int osn_alloc_candidate(const struct osn_alloc *a, size_t idx, uint64_t seed, unsigned attempt,
                        struct osn_cidr *ret) _nonnull_(1, 5) _wur_;

/* The first address of subnet 'idx', scanning from the seed's start and
 * wrapping, that is neither blocked, reserved nor among 'used' (any order,
 * any family; addresses outside the subnet are ignored).  -ENOSPC when
 * there is none. */
int osn_alloc_pick_free(const struct osn_alloc *a, size_t idx, uint64_t seed,
                        const struct osn_cidr *used, size_t n_used, struct osn_cidr *ret)
    _nonnull_(1, 6) _wur_;

/* Subnet 'idx' in numbers: 'capacity' addresses dynamic allocation may hand
 * out, of which 'used' are held (by 'used' addresses, duplicates counted
 * once); 'reserved' addresses only static requests take, of which
 * 'reserved_used' are held; 'held' counts every distinct address of the
 * subnet in 'used', blocked ones too (a network made by an older osn may
 * hold one). */
struct osn_alloc_usage {
        osn_u128 capacity, used, reserved, reserved_used, held;
};
void osn_alloc_usage(const struct osn_alloc *a, size_t idx, const struct osn_cidr *used,
                     size_t n_used, struct osn_alloc_usage *ret) _nonnull_(1, 5);

/* The first and last address of range 'r' of subnet 's' (host prefixes). */
void osn_alloc_range_bounds(const struct osn_alloc_subnet *s, const struct osn_alloc_range *r,
                            struct osn_cidr *ret_first, struct osn_cidr *ret_last);
/* The NAD key (or convention) behind a reason: "excludeSubnets",
 * "physical gateway", "reservedSubnets", ... */
const char *osn_block_reason_name(enum osn_block_reason r);

/* The address OVN's DHCPv4 server of subnet 'idx' answers from (its
 * server_id): the IPv4 defaultGatewayIPs address, else the subnet's first
 * address, which the allocator then keeps out of every pod's reach.
 * -ENOENT for an IPv6 or a /31 or /32 subnet. */
int osn_alloc_dhcp_server(const struct osn_alloc *a, const struct osn_netconf *nc, size_t idx,
                          struct osn_cidr *ret) _nonnull_(1, 2, 4);

/* The MAC osn derives from a port's addresses when none is requested:
 * 0a:58 followed by the IPv4 address (as ovn-kubernetes does), or by the
 * last four bytes of the IPv6 address on an IPv6-only port, so an address
 * and its MAC always travel together.  -ENOENT when 'ips' is empty. */
int osn_alloc_mac_for(const struct osn_cidr *ips, size_t n, uint8_t ret_mac[6]);

/* A seed for a port name (FNV-1a 64). */
uint64_t osn_alloc_seed(const char *port_name) _nonnull_(1);

/* An address as a number (IPv4 in the low 32 bits), and back (with
 * 'prefixlen'), so that ranges can be clipped, merged and counted. */
osn_u128 osn_addr_value(const struct osn_cidr *c) _nonnull_(1);
struct osn_cidr osn_addr_from_value(int family, osn_u128 v, unsigned prefixlen);

/* Decimal, into buf (>= 40 bytes). Returns buf. */
char *osn_u128_format(osn_u128 v, char *buf, size_t len);

#endif
