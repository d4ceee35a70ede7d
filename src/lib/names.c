/* names: see names.h.  Every value here is pinned by tests/unit/test-names.c:
 * a change orphans what an older osn made. */
#include "names.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>

#include "alloc.h"
#include "ovsdb.h"

/* --- OVN --- */

/* asprintf() of a name: malloc'd, NULL when out of memory. */
static char *name_of(const char *fmt, ...) _printf_(1, 2);
static char *name_of(const char *fmt, ...)
{
        char *s = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&s, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : s;
}

char *osn_switch_name(const char *network)
{
        return name_of("osn.%s", network);
}

char *osn_port_name(const char *network, const char *container_id, const char *ifname)
{
        return name_of("osn.%s.%s.%s", network, container_id, ifname);
}

char *osn_identity_port_name(const char *network, const char *identity)
{
        return name_of("osn.%s.id.%s", network, identity);
}

char *osn_spare_port_name(const char *network, const char *uuid)
{
        return name_of("osn.%s.spare.%s", network, uuid);
}

bool osn_is_spare_port(const char *network, const char *port_name, char uuid[OSN_UUID_SIZE])
{
        size_t nl = strlen(network);
        if (!port_name || strncmp(port_name, "osn.", 4) != 0 ||
            strncmp(port_name + 4, network, nl) != 0 ||
            strncmp(port_name + 4 + nl, ".spare.", 7) != 0)
                return false;
        const char *u = port_name + 4 + nl + 7;
        if (!osn_ovsdb_is_uuid(u))
                return false;
        if (uuid)
                memcpy(uuid, u, OSN_UUID_SIZE);
        return true;
}

char *osn_localnet_port_name(const char *network)
{
        return name_of("osn.%s.localnet", network);
}

char *osn_dhcp_port_name(const char *network)
{
        return name_of("osn.%s.dhcp", network);
}

/* A version-4-shaped UUID from the network's hash and a salt per object. */
static void derived_uuid(const char *network, uint64_t salt, char buf[OSN_UUID_SIZE])
{
        uint64_t h1 = osn_alloc_seed(network) ^ salt;
        uint64_t h2 = h1 * 0x9e3779b97f4a7c15ull ^ (h1 >> 29);
        h2 ^= h2 >> 31;
        snprintf(buf, OSN_UUID_SIZE, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(h1 >> 32),
                 (unsigned)(h1 >> 16) & 0xffff, (unsigned)h1 & 0xfff,
                 (unsigned)((h2 >> 48) & 0x3fff) | 0x8000,
                 (unsigned long long)(h2 & 0xffffffffffffull));
}

/* A version-4-shaped UUID from a layer3 node key's hash and a salt per
 * object, through a finalizer so that every bit of the salt reaches every
 * bit. */
static void salted_uuid(const char *node_key, uint64_t salt, char buf[OSN_UUID_SIZE])
{
        uint64_t h1 = osn_alloc_seed(node_key) ^ (salt * 0x9e3779b97f4a7c15ull);
        h1 ^= h1 >> 33;
        h1 *= 0xff51afd7ed558ccdull;
        h1 ^= h1 >> 33;
        uint64_t h2 = (h1 ^ (h1 >> 31)) * 0xbf58476d1ce4e5b9ull;
        h2 ^= h2 >> 27;
        snprintf(buf, OSN_UUID_SIZE, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(h1 >> 32),
                 (unsigned)(h1 >> 16) & 0xffff, (unsigned)h1 & 0xfff,
                 (unsigned)((h2 >> 48) & 0x3fff) | 0x8000,
                 (unsigned long long)(h2 & 0xffffffffffffull));
}

#define SALT_LRP  0x4c5250ull /* "LRP" */
#define SALT_RLSP 0x52545250ull

char *osn_router_name(const char *network)
{
        return name_of("osn.%s", network);
}

char *osn_router_port_name(const char *node_key)
{
        return name_of("osn.%s.lrp", node_key);
}

char *osn_router_lsp_name(const char *node_key)
{
        return name_of("osn.%s.router", node_key);
}

void osn_router_port_uuid(const char *node_key, char buf[OSN_UUID_SIZE])
{
        salted_uuid(node_key, SALT_LRP, buf);
}

void osn_router_lsp_uuid(const char *node_key, char buf[OSN_UUID_SIZE])
{
        salted_uuid(node_key, SALT_RLSP, buf);
}

void osn_router_port_mac(const char *node_key, char buf[OSN_MAC_STRLEN])
{
        uint64_t h = osn_alloc_seed(node_key) ^ SALT_LRP;
        uint8_t mac[6] = {0x0a,
                          0x58,
                          (uint8_t)(h >> 32),
                          (uint8_t)(h >> 24),
                          (uint8_t)(h >> 16),
                          (uint8_t)(h >> 8)};
        osn_mac_format(mac, buf, OSN_MAC_STRLEN);
}

void osn_dhcp_options_uuid(const char *network, int family, char buf[OSN_UUID_SIZE])
{
        derived_uuid(network, family == AF_INET ? 0x4444 : 0x6666, buf);
}

void osn_dhcp_port_uuid(const char *network, char buf[OSN_UUID_SIZE])
{
        derived_uuid(network, 0x5e5e, buf);
}

void osn_dhcp_server_mac(const char *network, char buf[OSN_MAC_STRLEN])
{
        uint64_t h = osn_alloc_seed(network);
        snprintf(buf, OSN_MAC_STRLEN, "0a:59:%02x:%02x:%02x:%02x", (unsigned)(h >> 24) & 0xff,
                 (unsigned)(h >> 16) & 0xff, (unsigned)(h >> 8) & 0xff, (unsigned)h & 0xff);
}

/* --- The switch's keys --- */

void osn_pool_index_key(const char *uuid, char buf[OSN_POOL_INDEX_KEY_SIZE])
{
        snprintf(buf, OSN_POOL_INDEX_KEY_SIZE, "%s%s", OSN_EXT_SPARE_INDEX, uuid);
}

bool osn_pool_index_has(const char *key)
{
        return key && startswith(key, OSN_EXT_SPARE_INDEX);
}

const char *osn_pool_index_uuid(const char *key)
{
        if (!osn_pool_index_has(key))
                return NULL;
        const char *u = key + strlen(OSN_EXT_SPARE_INDEX);
        return osn_ovsdb_is_uuid(u) ? u : NULL;
}

void osn_held_key(const char *cid, const char *ifname, char buf[OSN_PORT_NAME_SIZE])
{
        snprintf(buf, OSN_PORT_NAME_SIZE, "%s%s/%s", OSN_EXT_HELD, cid ? cid : "",
                 ifname ? ifname : "");
}

/* --- The node --- */

void osn_host_ifname(const char *port_name, char buf[IFNAMSIZ])
{
        snprintf(buf, IFNAMSIZ, "osn%012llx",
                 (unsigned long long)(osn_alloc_seed(port_name) & 0xffffffffffffull));
}

void osn_warm_ifname(const char *port_name, char buf[IFNAMSIZ])
{
        snprintf(buf, IFNAMSIZ, "osw%012llx",
                 (unsigned long long)(osn_alloc_seed(port_name) & 0xffffffffffffull));
}

void osn_attachment_host(const char *network, const char *port, const char *cid, const char *ifname,
                         char buf[IFNAMSIZ])
{
        _cleanup_free_ char *own =
            osn_is_spare_port(network, port, NULL) ? osn_port_name(network, cid, ifname) : NULL;
        osn_host_ifname(own ? own : port, buf);
}

void osn_port_mac(const char *port_name, uint8_t mac[6])
{
        uint64_t h = osn_alloc_seed(port_name) ^ 0x5bd1e9955bd1e995ull;
        h *= 0x100000001b3ull;
        for (int i = 0; i < 6; i++)
                mac[i] = (uint8_t)(h >> (8 * i));
        mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
}
