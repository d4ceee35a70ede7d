/* addr: see addr.h.
 *
 * Strictness is deliberate: these strings come from tenants (NAD configs),
 * from runtimes (CNI_ARGS) and from OVN, and "10.0.0.1/24 " or "010.0.0.1"
 * are far more likely typos than intentions.  The address part goes to
 * inet_pton(), which already refuses leading zeros in IPv4 octets, spaces,
 * zone ids and short forms such as "10.1"; the prefix must be plain decimal
 * digits without a leading zero and within the family's width.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>

static unsigned family_bits(int family)
{
        return family == AF_INET ? 32 : 128;
}

static size_t family_bytes(int family)
{
        return family == AF_INET ? 4 : 16;
}

/* Parses the decimal prefix length after '/': digits only, no sign, no
 * leading zero (except "0" itself), at most 'max'. */
static int parse_prefixlen(const char *s, unsigned max, unsigned *ret)
{
        if (*s == 0 || strlen(s) > 3)
                return -EINVAL;
        if (s[0] == '0' && s[1] != 0)
                return -EINVAL;
        unsigned v = 0;
        for (const char *p = s; *p; p++) {
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned)(*p - '0');
        }
        if (v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

int osn_cidr_parse(const char *s, bool need_prefix, struct osn_cidr *ret)
{
        if (!s)
                return -EINVAL;

        char buf[INET6_ADDRSTRLEN];
        const char *slash = strchr(s, '/');
        size_t alen = slash ? (size_t)(slash - s) : strlen(s);
        if (alen == 0 || alen >= sizeof(buf))
                return -EINVAL;
        if (!slash && need_prefix)
                return -EINVAL;
        memcpy(buf, s, alen);
        buf[alen] = 0;

        struct osn_cidr c = {0};
        if (strchr(buf, ':')) {
                c.family = AF_INET6;
                if (inet_pton(AF_INET6, buf, &c.addr.v6) != 1)
                        return -EINVAL;
        } else {
                c.family = AF_INET;
                if (inet_pton(AF_INET, buf, &c.addr.v4) != 1)
                        return -EINVAL;
        }

        c.prefixlen = family_bits(c.family);
        if (slash && parse_prefixlen(slash + 1, family_bits(c.family), &c.prefixlen) < 0)
                return -EINVAL;

        *ret = c;
        return 0;
}

char *osn_addr_format(const struct osn_cidr *c, char *buf, size_t len)
{
        if (len == 0)
                return buf;
        if (!c || (c->family != AF_INET && c->family != AF_INET6) ||
            !inet_ntop(c->family, c->addr.bytes, buf, (socklen_t)len))
                snprintf(buf, len, "?");
        return buf;
}

char *osn_cidr_format(const struct osn_cidr *c, char *buf, size_t len)
{
        char a[INET6_ADDRSTRLEN];
        osn_addr_format(c, a, sizeof(a));
        if (len > 0)
                snprintf(buf, len, "%s/%u", a, c ? c->prefixlen : 0);
        return buf;
}

struct osn_cidr osn_cidr_network(const struct osn_cidr *c)
{
        struct osn_cidr n = *c;
        size_t nbytes = family_bytes(c->family);
        unsigned plen = c->prefixlen > nbytes * 8 ? (unsigned)nbytes * 8 : c->prefixlen;
        for (size_t i = 0; i < nbytes; i++) {
                unsigned bits = plen >= (i + 1) * 8 ? 8 : plen > i * 8 ? plen - (unsigned)i * 8 : 0;
                uint8_t mask = bits == 0 ? 0 : (uint8_t)(0xff << (8 - bits));
                n.addr.bytes[i] &= mask;
        }
        for (size_t i = nbytes; i < sizeof(n.addr.bytes); i++)
                n.addr.bytes[i] = 0;
        return n;
}

/* True when the first 'plen' bits of a and b are equal. */
static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned plen)
{
        size_t full = plen / 8;
        if (memcmp(a, b, full) != 0)
                return false;
        unsigned rest = plen % 8;
        if (rest == 0)
                return true;
        uint8_t mask = (uint8_t)(0xff << (8 - rest));
        return (a[full] & mask) == (b[full] & mask);
}

bool osn_cidr_contains(const struct osn_cidr *net, const struct osn_cidr *a)
{
        if (net->family != a->family || net->prefixlen > family_bits(net->family))
                return false;
        return prefix_equal(net->addr.bytes, a->addr.bytes, net->prefixlen);
}

bool osn_cidr_overlaps(const struct osn_cidr *a, const struct osn_cidr *b)
{
        if (a->family != b->family)
                return false;
        unsigned plen = a->prefixlen < b->prefixlen ? a->prefixlen : b->prefixlen;
        if (plen > family_bits(a->family))
                plen = family_bits(a->family);
        return prefix_equal(a->addr.bytes, b->addr.bytes, plen);
}

bool osn_addr_equal(const struct osn_cidr *a, const struct osn_cidr *b)
{
        return a->family == b->family &&
               memcmp(a->addr.bytes, b->addr.bytes, family_bytes(a->family)) == 0;
}

bool osn_cidr_is_network(const struct osn_cidr *c)
{
        struct osn_cidr n = osn_cidr_network(c);
        return osn_addr_equal(c, &n);
}

json_t *osn_cidrs_to_json(const struct osn_cidr *v, size_t n)
{
        json_t *arr = json_array();
        char a[OSN_CIDR_STRLEN];
        for (size_t i = 0; arr && i < n; i++)
                json_array_append_new(arr, json_string(osn_cidr_format(&v[i], a, sizeof(a))));
        return arr;
}

int osn_mac_parse(const char *s, uint8_t ret[6])
{
        if (!s || strlen(s) != OSN_MAC_STRLEN - 1)
                return -EINVAL;
        uint8_t mac[6];
        for (size_t i = 0; i < 6; i++) {
                const char *p = s + i * 3;
                int hi = osn_hexval(p[0]), lo = osn_hexval(p[1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                if (i < 5 && p[2] != ':')
                        return -EINVAL;
                mac[i] = (uint8_t)(hi << 4 | lo);
        }
        if (mac[0] & 0x01)
                return -EINVAL; /* multicast, including broadcast */
        static const uint8_t zero[6];
        if (memcmp(mac, zero, sizeof(zero)) == 0)
                return -EINVAL;
        memcpy(ret, mac, 6);
        return 0;
}

char *osn_mac_format(const uint8_t mac[6], char *buf, size_t len)
{
        if (len > 0)
                snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                         mac[4], mac[5]);
        return buf;
}
