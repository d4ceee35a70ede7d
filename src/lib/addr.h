/* addr: IP addresses, CIDRs and MACs as osn reads, compares and prints them.
 *
 * Pure functions, no allocation (except the JSON rendering, which returns
 * a new reference).  Parsing is strict: "10.0.0.0/24" is a
 * CIDR, "10.0.0.1" an address (prefixlen = 32/128 when 'need_prefix' is
 * false); leading zeros, spaces and out-of-range prefixes are rejected.
 */
#ifndef OSN_ADDR_H
#define OSN_ADDR_H

#include <netinet/in.h>

#include "util.h"

struct osn_cidr {
        int family; /* AF_INET or AF_INET6 */
        union {
                struct in_addr v4;
                struct in6_addr v6;
                uint8_t bytes[16];
        } addr;
        unsigned prefixlen;
};

#define OSN_CIDR_STRLEN 50 /* INET6_ADDRSTRLEN + "/128" */
#define OSN_MAC_STRLEN  18

/* Parses "ADDR/PREFIX" (or "ADDR" when !need_prefix). 0 or -EINVAL. */
int osn_cidr_parse(const char *s, bool need_prefix, struct osn_cidr *ret);
/* "10.0.0.5/24" into buf (>= OSN_CIDR_STRLEN). Returns buf. */
char *osn_cidr_format(const struct osn_cidr *c, char *buf, size_t len);
/* "10.0.0.5" (no prefix) into buf. Returns buf. */
char *osn_addr_format(const struct osn_cidr *c, char *buf, size_t len);
/* The network address (host bits cleared). */
struct osn_cidr osn_cidr_network(const struct osn_cidr *c);
/* True when address 'a' lies inside network 'net' (same family). */
bool osn_cidr_contains(const struct osn_cidr *net, const struct osn_cidr *a);
/* True when the two networks share any address. */
bool osn_cidr_overlaps(const struct osn_cidr *a, const struct osn_cidr *b);
/* True when the address part of a and b is equal (prefix ignored). */
bool osn_addr_equal(const struct osn_cidr *a, const struct osn_cidr *b);
/* True when host bits are zero (a proper network address). */
bool osn_cidr_is_network(const struct osn_cidr *c);
/* The 'n' CIDRs of 'v' as a JSON array of "10.0.0.5/24" strings (new
 * reference; NULL on ENOMEM). */
json_t *osn_cidrs_to_json(const struct osn_cidr *v, size_t n);

/* MACs: "0a:58:0a:0a:0a:05" <-> 6 bytes.  Parse accepts upper/lower case,
 * ':' separators only; rejects multicast (bit 0 of byte 0) and all-zero. */
int osn_mac_parse(const char *s, uint8_t ret[6]);
char *osn_mac_format(const uint8_t mac[6], char *buf, size_t len);

#endif
