/* ovn: see ovn.h.  The transactions are built here, executed through
 * ovsdb.h, and nothing else in osn writes to the NB DB. */
#include "ovn.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/random.h>

#include "alloc.h"
#include "layer3.h"
#include "log.h"
#include "txn.h"

#define MAX_GUARD_RETRIES 20

char *osn_switch_name(const char *network)
{
        char *s = NULL;
        return asprintf(&s, "osn.%s", network) < 0 ? NULL : s;
}

char *osn_port_name(const char *network, const char *container_id, const char *ifname)
{
        char *s = NULL;
        return asprintf(&s, "osn.%s.%s.%s", network, container_id, ifname) < 0 ? NULL : s;
}

char *osn_identity_port_name(const char *network, const char *identity)
{
        char *s = NULL;
        return asprintf(&s, "osn.%s.id.%s", network, identity) < 0 ? NULL : s;
}

char *osn_spare_port_name(const char *network, const char *uuid)
{
        char *s;
        return asprintf(&s, "osn.%s.spare.%s", network, uuid) < 0 ? NULL : s;
}

bool osn_is_spare_port(const char *network, const char *port_name, char uuid[37])
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
                memcpy(uuid, u, 37);
        return true;
}

char *osn_localnet_port_name(const char *network)
{
        char *s = NULL;
        return asprintf(&s, "osn.%s.localnet", network) < 0 ? NULL : s;
}

/* --- operation builders --- */

static json_t *where_eq(const char *column, json_t *value)
{
        return json_pack("[o]", osn_ovsdb_cond(column, "==", value));
}

/* The operations that read, in one round trip, a network's switch, one of
 * its ports and its localnet port, each by name with its columns: results
 * 0, 1 and 2. */
static json_t *select_network(const char *sw_name, const char *port_name, const char *ln_name,
                              const char *const *sw_cols, const char *const *port_cols,
                              const char *const *ln_cols)
{
        return json_pack(
            "[o,o,o]",
            osn_ovsdb_op_select("Logical_Switch", where_eq("name", json_string(sw_name)), sw_cols),
            osn_ovsdb_op_select("Logical_Switch_Port", where_eq("name", json_string(port_name)),
                                port_cols),
            osn_ovsdb_op_select("Logical_Switch_Port", where_eq("name", json_string(ln_name)),
                                ln_cols));
}

static json_t *op_wait(const char *table, json_t *where, const char *column, json_t *rows)
{
        return json_pack("{s:s, s:s, s:o, s:[s], s:s, s:o, s:i}", "op", "wait", "table", table,
                         "where", where, "columns", column, "until", "==", "rows", rows, "timeout",
                         0);
}

/* The guard "some row matches 'where'" (a wait until the rows are not
 * none, timeout 0). */
static json_t *op_exists(const char *table, json_t *where)
{
        return json_pack("{s:s, s:s, s:o, s:[s], s:s, s:[], s:i}", "op", "wait", "table", table,
                         "where", where, "columns", "_uuid", "until", "!=", "rows", "timeout", 0);
}

static json_t *op_comment(const char *fmt, ...) _printf_(1, 2);
static json_t *op_comment(const char *fmt, ...)
{
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        return json_pack("{s:s, s:s}", "op", "comment", "comment", buf);
}

static json_t *string_set1(const char *s)
{
        return osn_ovsdb_set(json_pack("[s]", s));
}

/* --- addresses --- */

/* The prefix of the subnet that holds 'a', or the host prefix. */
static unsigned prefix_for(const struct osn_netconf *nc, const struct osn_cidr *a)
{
        for (size_t i = 0; nc && i < nc->n_subnets; i++)
                if (osn_cidr_contains(&nc->subnets[i], a))
                        return nc->subnets[i].prefixlen;
        return a->family == AF_INET ? 32 : 128;
}

int osn_ovn_parse_addresses(const char *s, const struct osn_netconf *nc, uint8_t ret_mac[6],
                            struct osn_cidr *ret_ips, size_t max_ips)
{
        char buf[512];
        if (!s || strlen(s) >= sizeof(buf))
                return -EINVAL;
        strcpy(buf, s);
        char *save = NULL;
        char *tok = strtok_r(buf, " ", &save);
        if (!tok || osn_mac_parse(tok, ret_mac) < 0)
                return -EINVAL;
        size_t n = 0;
        while ((tok = strtok_r(NULL, " ", &save))) {
                struct osn_cidr c;
                if (streq(tok, "dynamic"))
                        continue;
                if (osn_cidr_parse(tok, false, &c) < 0)
                        return -EINVAL;
                if (n == max_ips)
                        return -E2BIG;
                c.prefixlen = prefix_for(nc, &c);
                ret_ips[n++] = c;
        }
        return (int)n;
}

/* "MAC IP..." (OVN's addresses and port_security syntax), malloc'd. */
static char *addresses_string(const uint8_t mac[6], const struct osn_cidr *ips, size_t n)
{
        char m[OSN_MAC_STRLEN];
        size_t len = OSN_MAC_STRLEN + n * (OSN_CIDR_STRLEN + 1) + 1;
        char *s = malloc(len);
        if (!s)
                return NULL;
        size_t off = (size_t)snprintf(s, len, "%s", osn_mac_format(mac, m, sizeof(m)));
        for (size_t i = 0; i < n; i++) {
                char a[OSN_CIDR_STRLEN];
                off += (size_t)snprintf(s + off, len - off, " %s",
                                        osn_addr_format(&ips[i], a, sizeof(a)));
        }
        return s;
}

static void claim_key_ip(const struct osn_cidr *ip, char buf[OSN_CLAIM_KEY_STRLEN])
{
        char a[OSN_CIDR_STRLEN];
        snprintf(buf, OSN_CLAIM_KEY_STRLEN, "%s%s", OSN_EXT_CLAIM_IP,
                 osn_addr_format(ip, a, sizeof(a)));
}

static void claim_key_mac(const uint8_t mac[6], char buf[OSN_CLAIM_KEY_STRLEN])
{
        char m[OSN_MAC_STRLEN];
        snprintf(buf, OSN_CLAIM_KEY_STRLEN, "%s%s", OSN_EXT_CLAIM_MAC,
                 osn_mac_format(mac, m, sizeof(m)));
}

/* Appends [key, value] to an OVSDB map value ["map", [...]]. */
static void map_add(json_t *map, const char *key, const char *value)
{
        json_array_append_new(json_array_get(map, 1), json_pack("[s,s]", key, value));
}

/* The condition "external_ids holds key = value". */
static json_t *ids_include(const char *key, const char *value)
{
        const char *kv[] = {key, value, NULL};
        return json_pack("[o]", osn_ovsdb_cond("external_ids", "includes", osn_ovsdb_map(kv)));
}

json_t *osn_nb_switch_ids(const struct osn_netconf *nc, const struct osn_tenancy *t,
                          const char *network, const char *fingerprint)
{
        const char *kv[15] = {
            OSN_EXT_NETWORK,     network,     OSN_EXT_TOPOLOGY, osn_topology_name(nc->topology),
            OSN_EXT_FINGERPRINT, fingerprint, OSN_EXT_IPAM,     OSN_IPAM_CLAIMS};
        size_t n = 8;
        /* A network made before tenancy is joined as it is (its holders
         * are not part of what a joiner checks). */
        if (t->scope != OSN_SCOPE_LEGACY) {
                kv[n++] = OSN_EXT_NAME;
                kv[n++] = t->name;
                kv[n++] = OSN_EXT_SCOPE;
                kv[n++] = osn_scope_name(t->scope);
        }
        if (t->scope == OSN_SCOPE_NAMESPACE) {
                kv[n++] = OSN_EXT_NAMESPACE;
                kv[n++] = t->namespace;
        } else if (t->scope == OSN_SCOPE_CLUSTER) {
                kv[n++] = OSN_EXT_NAMESPACES;
                kv[n++] = t->namespaces;
        }
        kv[n] = NULL;
        return osn_ovsdb_map(kv);
}

/* The external_ids that mark a switch as osn's, with these settings. */
static json_t *switch_ids(const struct osn_port_spec *spec)
{
        return osn_nb_switch_ids(spec->nc, spec->ten, spec->network, spec->fingerprint);
}

static json_t *localnet_row(const struct osn_port_spec *spec, const char *name)
{
        const char *ids[] = {OSN_EXT_NETWORK, spec->network, NULL};
        const char *opts[] = {"network_name", spec->physical_network, NULL};
        json_t *row = json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", name, "type", "localnet",
                                "addresses", string_set1("unknown"), "options", osn_ovsdb_map(opts),
                                "external_ids", osn_ovsdb_map(ids));
        if (spec->nc->vlan > 0)
                json_object_set_new(row, "tag_request", json_integer(spec->nc->vlan));
        return row;
}

/* The pool index's key of spare 'uuid' (the switch's external_ids). */
static void index_key(const char *uuid, char buf[sizeof(OSN_EXT_SPARE_INDEX) + 36])
{
        snprintf(buf, sizeof(OSN_EXT_SPARE_INDEX) + 36, "%s%s", OSN_EXT_SPARE_INDEX, uuid);
}

/* The spare's UUID of one [key, value] pair of a switch's external_ids
 * when it is a pool index entry, else NULL. */
static const char *index_entry(const json_t *pair)
{
        const char *k = json_string_value(json_array_get(pair, 0));
        size_t plen = strlen(OSN_EXT_SPARE_INDEX);
        return k && strncmp(k, OSN_EXT_SPARE_INDEX, plen) == 0 && osn_ovsdb_is_uuid(k + plen)
                   ? k + plen
                   : NULL;
}

/* Whether 'uuid' is in the pool index of a switch's external_ids. */
static bool indexed_spare(const json_t *sw_ids, const char *uuid)
{
        char key[sizeof(OSN_EXT_SPARE_INDEX) + 36];
        if (!osn_ovsdb_is_uuid(uuid))
                return false;
        index_key(uuid, key);
        return osn_ovsdb_map_get(sw_ids, key);
}

static bool is_server_port(const json_t *sw_ids, const char *uuid);

/* Number of attachments on a switch: its ports minus the localnet port,
 * the DHCP server's port and the spares. */
static size_t attachment_count(const json_t *sw_row, const char *localnet_uuid)
{
        const json_t *ports = json_object_get(sw_row, "ports");
        const json_t *ids = json_object_get(sw_row, "external_ids");
        size_t n = osn_ovsdb_set_size(ports), count = 0;
        for (size_t i = 0; i < n; i++) {
                const char *u = json_string_value(json_array_get(osn_ovsdb_set_at(ports, i), 1));
                if ((!localnet_uuid || !streq(u, localnet_uuid)) && !indexed_spare(ids, u) &&
                    !is_server_port(ids, u))
                        count++;
        }
        return count;
}

const char *osn_nb_port_addresses(const json_t *lsp_row, bool *ret_dynamic)
{
        const char *a =
            json_string_value(osn_ovsdb_set_at(json_object_get(lsp_row, "addresses"), 0));
        bool dynamic = a && strstr(a, "dynamic");
        if (ret_dynamic)
                *ret_dynamic = dynamic;
        if (dynamic)
                return json_string_value(
                    osn_ovsdb_set_at(json_object_get(lsp_row, "dynamic_addresses"), 0));
        return a;
}

/* Reads the switch's "ports" column into its row 'sw' (which the caller
 * owns).  The common paths never need it: it grows with the network, so only
 * the rare ones (other settings, a migration) pay for reading it.
 * -EAGAIN when the switch is gone. */
static int read_switch_ports(struct osn_ovsdb *nb, json_t *sw, int64_t deadline,
                             struct osn_error *err)
{
        json_t *ops = json_pack(
            "[o]", osn_ovsdb_op_select("Logical_Switch",
                                       where_eq("_uuid", osn_ovsdb_uuid(osn_ovsdb_row_uuid(sw))),
                                       (const char *const[]){"ports", NULL}));
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(nb, OSN_NB_DB, ops, deadline, &res, err);
        if (r < 0)
                return r;
        json_t *row = json_array_get(osn_ovsdb_result_rows(res, 0), 0);
        if (!row)
                return -EAGAIN;
        return json_object_set(sw, "ports", json_object_get(row, "ports"));
}

/* The rows (_uuid, name, addresses, dynamic_addresses, external_ids) of
 * every port of 'network' (new reference in *ret). */
static int read_network_ports(struct osn_ovsdb *nb, const char *network, int64_t deadline,
                              json_t **ret, struct osn_error *err)
{
        static const char *const cols[] = {"_uuid",        "name", "addresses", "dynamic_addresses",
                                           "external_ids", NULL};
        json_t *ops =
            json_pack("[o]", osn_ovsdb_op_select("Logical_Switch_Port",
                                                 ids_include(OSN_EXT_NETWORK, network), cols));
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(nb, OSN_NB_DB, ops, deadline, &res, err);
        if (r < 0)
                return r;
        *ret = json_incref(osn_ovsdb_result_rows(res, 0));
        return *ret ? 0 : -EPROTO;
}

/* The addresses a port row holds: its IP claims, or, for a port made before
 * claims (no osn/ip/ key), what its addresses say.  Appends to v[*n]
 * (capacity 'max'). */
static void row_addresses(const json_t *row, const char *network, struct osn_cidr *v, size_t *n,
                          size_t max)
{
        const json_t *pairs = json_array_get(json_object_get(row, "external_ids"), 1), *kv;
        size_t i, before = *n;
        json_array_foreach((json_t *)pairs, i, kv)
        {
                const char *k = json_string_value(json_array_get(kv, 0));
                struct osn_cidr c;
                if (*n < max && startswith(k, OSN_EXT_CLAIM_IP) &&
                    streq(json_string_value(json_array_get(kv, 1)), network) &&
                    osn_cidr_parse(k + strlen(OSN_EXT_CLAIM_IP), false, &c) == 0)
                        v[(*n)++] = c;
        }
        if (*n > before)
                return;
        uint8_t mac[6];
        struct osn_cidr ips[OSN_MAX_STATIC];
        const char *a = osn_nb_port_addresses(row, NULL);
        int k = a ? osn_ovn_parse_addresses(a, NULL, mac, ips, OSN_MAX_STATIC) : -1;
        for (int j = 0; j < k && *n < max; j++)
                v[(*n)++] = ips[j];
}

int osn_nb_network_addresses(struct osn_ovsdb *nb, const char *network, int64_t deadline,
                             struct osn_cidr **ret, size_t *ret_n, struct osn_error *err)
{
        _cleanup_json_ json_t *rows = NULL;
        int r = read_network_ports(nb, network, deadline, &rows, err);
        if (r < 0)
                return r;
        size_t max = json_array_size(rows) * OSN_MAX_STATIC + 1, n = 0;
        _cleanup_free_ struct osn_cidr *v = calloc(max, sizeof(*v));
        if (!v)
                return -ENOMEM;
        json_t *row;
        size_t i;
        json_array_foreach(rows, i, row) row_addresses(row, network, v, &n, max);
        *ret_n = n;
        *ret = n ? TAKE_PTR(v) : NULL;
        return 0;
}

/* --- attaching (see ovn.h) --- */

enum attach_mode {
        ATTACH_JOIN,   /* the switch exists with these settings */
        ATTACH_CREATE, /* no switch yet: the first attachment makes it */
        ATTACH_CLAIM,  /* a spare of the network's pool becomes the port */
        ATTACH_HELD,   /* the port an earlier try of this ADD holds is adopted */
};

/* A spare as the switch's pool index lists it. */
struct spare {
        char uuid[37];
        uint8_t mac[6];
        struct osn_cidr ips[OSN_MAX_STATIC];
        size_t n_ips;
};

/* Where each operation of the attach transaction sits (-1 = absent). */
struct attach_ops {
        int switch_guard;
        int claim[OSN_MAX_CLAIMS];
        size_t n_claims;
        int insert_port;  /* CLAIM: the mutate that makes the spare the port */
        int spare_guard;  /* CLAIM: "it is still a spare" */
        int server_guard; /* JOIN: "the switch holds its DHCP server's port" */
        int held_guard;   /* HELD: "it is still this container's" */
};

struct osn_nb_attach {
        struct osn_ovsdb *nb;
        const struct osn_port_spec *spec;
        char *sw_name, *ln_name;
        uint64_t seed;
        enum attach_mode mode;

        /* The addresses of the transaction being built or in flight. */
        struct osn_cidr ips[OSN_MAX_STATIC];
        size_t n_ips;
        int ip_subnet[OSN_MAX_STATIC]; /* alloc subnet of each dynamic IP, -1 for static */
        uint8_t mac[6];
        char claims[OSN_MAX_CLAIMS][OSN_CLAIM_KEY_STRLEN];
        size_t n_claims; /* the IPs' claims, then the MAC's */

        unsigned attempt[OSN_MAX_SUBNETS]; /* candidates tried per subnet */
        bool near_full[OSN_MAX_SUBNETS];   /* pick from the network's claims */
        struct osn_cidr *used;             /* those claims, when read */
        size_t n_used;

        bool dhcp_exists; /* CREATE: the network's DHCP_Options rows survived */
        /* The switch lacks its DHCP server's port: a pool ADD attaches
         * without a spare, so that its guard sees to it; no_server_guard:
         * it cannot get one (no DHCP_Options: not osn's DHCP). */
        bool server_missing, no_server_guard;

        json_t *ops; /* in flight */
        struct attach_ops idx;
        int64_t id;
        bool in_flight;
        json_t *port_row;                   /* the inserted row, for the result */
        char port_name[OSN_PORT_NAME_SIZE]; /* the port of the transaction in flight */

        /* Pools (ovn.h, "Pools"). */
        bool pool;            /* this ADD may claim a spare */
        bool own_exists;      /* ... but its own port is there (an earlier try) */
        json_t *sw_row;       /* the switch as last read for the pool (_uuid, external_ids) */
        json_t *sw_ids;       /* its external_ids as this ADD left them (the top-up's guard) */
        struct spare *spares; /* its pool index */
        size_t n_spares;
        size_t claim; /* CLAIM: which spare */
        unsigned evictions;
        bool evicted;       /* a spare gave its addresses to this ADD */
        json_t *refill_ops; /* the top-up in flight */
        int64_t refill_id;
        bool refill_in_flight;
        int refill_guard;
        unsigned refill_lost; /* claims its spares lost */
        bool refill_near_full;
        char held_key[OSN_PORT_NAME_SIZE];  /* the switch's key of what this ADD holds */
        char held_name[OSN_PORT_NAME_SIZE]; /* what the pool read found under it, or "" */
        struct spare held;                  /* ... its MAC and addresses */

        /* Tenancy: the caller's spec, and, once the NB showed that this
         * attachment belongs on the network of its name that an osn before
         * tenancy made, 'spec' points at that network's (legacy_*). */
        const struct osn_port_spec *own_spec;
        struct osn_port_spec legacy_spec;
        struct osn_tenancy legacy;
        const char **legacy_ids;
        char legacy_port[OSN_PORT_NAME_SIZE];
};

/* After this many lost claims in a subnet an ADD reads the network's
 * claims instead of guessing. */
#define PROBES_BEFORE_READ 3
#define MAX_ATTACH_TRIES   32

void osn_nb_attach_free(struct osn_nb_attach *at)
{
        if (!at)
                return;
        free(at->sw_name);
        free(at->ln_name);
        free(at->used);
        free(at->spares);
        json_decref(at->ops);
        json_decref(at->port_row);
        json_decref(at->sw_row);
        json_decref(at->sw_ids);
        json_decref(at->refill_ops);
        free(at->legacy_ids);
        free(at);
}

const char *osn_nb_attach_network(const struct osn_nb_attach *at)
{
        return at->spec->network;
}

void osn_nb_attach_expected_mac(const struct osn_nb_attach *at, uint8_t ret_mac[6])
{
        memcpy(ret_mac, at->mac, 6);
}

const char *osn_nb_attach_expected_port(const struct osn_nb_attach *at)
{
        return at->port_name;
}

/* The subnet of the MAC: the one whose address it was derived from. */
static int mac_subnet(const struct osn_nb_attach *at)
{
        for (size_t i = 0; i < at->n_ips; i++)
                if (at->ips[i].family == AF_INET)
                        return at->ip_subnet[i];
        return at->n_ips ? at->ip_subnet[0] : -1;
}

/* Chooses this try's addresses and MAC, and their claims. */
static int choose_addresses(struct osn_nb_attach *at, struct osn_error *err)
{
        const struct osn_port_spec *spec = at->spec;
        const struct osn_alloc *a = spec->alloc;
        at->n_ips = 0;
        if (spec->n_static_ips > 0) {
                for (size_t i = 0; i < spec->n_static_ips && i < OSN_MAX_STATIC; i++) {
                        at->ips[at->n_ips] = spec->static_ips[i];
                        at->ip_subnet[at->n_ips++] = -1;
                }
        } else {
                for (size_t s = 0; s < a->n_subnets && s < OSN_MAX_STATIC; s++) {
                        struct osn_cidr c;
                        int r = at->near_full[s]
                                    ? osn_alloc_pick_free(a, s, at->seed, at->used, at->n_used, &c)
                                    : osn_alloc_candidate(a, s, at->seed, at->attempt[s], &c);
                        if (r == -ENOSPC)
                                return -ENOSPC; /* the caller reports the subnet */
                        if (r < 0)
                                return r;
                        at->ips[at->n_ips] = c;
                        at->ip_subnet[at->n_ips++] = (int)s;
                }
        }
        if (spec->mac_requested || at->n_ips == 0)
                memcpy(at->mac, spec->mac, 6);
        else
                (void)osn_alloc_mac_for(at->ips, at->n_ips, at->mac);
        at->n_claims = 0;
        for (size_t i = 0; i < at->n_ips; i++)
                claim_key_ip(&at->ips[i], at->claims[at->n_claims++]);
        claim_key_mac(at->mac, at->claims[at->n_claims++]);
        (void)err;
        return 0;
}

/* --- DHCP (OVN's native server) --- */

/* A network's DHCP_Options row for one family has a UUID derived from the
 * network's name (ovsdb-server(7): insert takes a "uuid"), so that every
 * ADD can point its port at it without reading it. */
static void derived_uuid(const char *network, uint64_t salt, char buf[37])
{
        uint64_t h1 = osn_alloc_seed(network) ^ salt;
        uint64_t h2 = h1 * 0x9e3779b97f4a7c15ull ^ (h1 >> 29);
        h2 ^= h2 >> 31;
        snprintf(buf, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(h1 >> 32),
                 (unsigned)(h1 >> 16) & 0xffff, (unsigned)h1 & 0xfff,
                 (unsigned)((h2 >> 48) & 0x3fff) | 0x8000,
                 (unsigned long long)(h2 & 0xffffffffffffull));
}

static void dhcp_uuid(const char *network, int family, char buf[37])
{
        derived_uuid(network, family == AF_INET ? 0x4444 : 0x6666, buf);
}

/* The families of nc's subnets that get DHCP: bit 0 IPv4, bit 1 IPv6. */
static unsigned dhcp_families(const struct osn_netconf *nc)
{
        unsigned f = 0;
        for (size_t i = 0; nc->dhcp && i < nc->n_subnets; i++)
                f |= nc->subnets[i].family == AF_INET ? 1u : 2u;
        return f;
}

/* The server's MAC: 0a:59 and four bytes of the network's hash, a prefix no
 * MAC osn derives for a port uses. */
static void dhcp_server_mac(const char *network, char buf[OSN_MAC_STRLEN])
{
        uint64_t h = osn_alloc_seed(network);
        snprintf(buf, OSN_MAC_STRLEN, "0a:59:%02x:%02x:%02x:%02x", (unsigned)(h >> 24) & 0xff,
                 (unsigned)(h >> 16) & 0xff, (unsigned)(h >> 8) & 0xff, (unsigned)h & 0xff);
}

/* The options the NAD chose (netconf.h: "dns") into the
 * options map 'opts' of a DHCP_Options row of 'family' (ovn-nb(5),
 * "DHCP_Options"; string options are quoted, as OVN wants them). */
static void dhcp_more_options(json_t *opts, const struct osn_netconf *nc, int family)
{
        char buf[OSN_MAX_DNS * (OSN_CIDR_STRLEN + 2) + 4], a[OSN_CIDR_STRLEN];
        if (!opts)
                return;
        size_t n = 0, o = 0;
        for (size_t i = 0; i < nc->n_dns_servers; i++) {
                if (nc->dns_servers[i].family != family)
                        continue;
                o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s%s", n++ ? ", " : "{",
                                      osn_addr_format(&nc->dns_servers[i], a, sizeof(a)));
        }
        if (n) {
                snprintf(buf + o, sizeof(buf) - o, "}");
                map_add(opts, "dns_server", buf);
        }
        /* The search list: DHCPv4's option 119.  Not DHCPv6's option 24:
         * OVN 23.03 encodes a domain there as one label ("\x0ccorp.example"),
         * which clients discard or, worse, take. */
        char search[OSN_MAX_DNS * 256 + 3];
        o = 0;
        for (size_t i = 0; family == AF_INET && i < nc->n_dns_search; i++)
                o += (size_t)snprintf(search + o, sizeof(search) - o, "%s%s", i ? "," : "\"",
                                      nc->dns_search[i]);
        if (o) {
                snprintf(search + o, sizeof(search) - o, "\"");
                map_add(opts, "domain_search_list", search);
        }
        if (family == AF_INET && nc->dns_domain) {
                snprintf(search, sizeof(search), "\"%s\"", nc->dns_domain);
                map_add(opts, "domain_name", search);
        }
}

/* The insert of the DHCP_Options row of subnet 'idx' (NULL for a subnet
 * without DHCP). */
static json_t *dhcp_insert(const struct osn_port_spec *spec, size_t idx)
{
        const struct osn_netconf *nc = spec->nc;
        const struct osn_cidr *sub = &spec->alloc->subnets[idx].subnet;
        char uuid[37], cidr[OSN_CIDR_STRLEN], mac[OSN_MAC_STRLEN], mtu[16], srv[OSN_CIDR_STRLEN],
            gw[OSN_CIDR_STRLEN] = "";
        dhcp_uuid(spec->network, sub->family, uuid);
        osn_cidr_format(sub, cidr, sizeof(cidr));
        dhcp_server_mac(spec->network, mac);
        snprintf(mtu, sizeof(mtu), "%u", spec->mtu ? spec->mtu : 1500);
        char lease[16];
        snprintf(lease, sizeof(lease), "%u",
                 nc->dhcp_lease_time ? nc->dhcp_lease_time : OSN_DHCP_LEASE_DEFAULT);
        json_t *opts;
        if (sub->family == AF_INET) {
                struct osn_cidr server;
                if (osn_alloc_dhcp_server(spec->alloc, nc, idx, &server) < 0)
                        return NULL;
                osn_addr_format(&server, srv, sizeof(srv));
                for (size_t i = 0; i < nc->n_gateways; i++)
                        if (nc->gateways[i].family == AF_INET)
                                osn_addr_format(&nc->gateways[i], gw, sizeof(gw));
                const char *kv[] = {"server_id", srv,          "server_mac",
                                    mac,         "lease_time", lease,
                                    "mtu",       mtu,          gw[0] ? "router" : NULL,
                                    gw,          NULL};
                opts = osn_ovsdb_map(kv);
        } else {
                const char *kv[] = {"server_id", mac, NULL};
                opts = osn_ovsdb_map(kv);
        }
        dhcp_more_options(opts, nc, sub->family);
        const char *ids[] = {OSN_EXT_NETWORK, spec->network, NULL};
        return json_pack("{s:s, s:s, s:s, s:{s:s, s:o, s:o}}", "op", "insert", "table",
                         "DHCP_Options", "uuid", uuid, "row", "cidr", cidr, "options", opts,
                         "external_ids", osn_ovsdb_map(ids));
}

/* Deletes the network's DHCP_Options rows (none is no error). */
static void append_dhcp_delete(json_t *ops, const char *network)
{
        json_array_append_new(ops,
                              json_pack("{s:s, s:s, s:o}", "op", "delete", "table", "DHCP_Options",
                                        "where", ids_include(OSN_EXT_NETWORK, network)));
}

/* --- the DHCP server's port (ovn.h) --- */

char *osn_dhcp_port_name(const char *network)
{
        char *s = NULL;
        return asprintf(&s, "osn.%s.dhcp", network) < 0 ? NULL : s;
}

/* Its UUID is derived from the network's name, as the DHCP_Options rows'
 * are: a guard can ask "the switch holds it" without reading anything. */
static void server_port_uuid(const char *network, char buf[37])
{
        derived_uuid(network, 0x5e5e, buf);
}

/* Whether 'uuid' is the server port of the switch whose external_ids are
 * 'sw_ids'. */
static bool is_server_port(const json_t *sw_ids, const char *uuid)
{
        const char *net = osn_ovsdb_map_get(sw_ids, OSN_EXT_NETWORK);
        char u[37];
        if (!net || !uuid)
                return false;
        server_port_uuid(net, u);
        return streq(u, uuid);
}

/* Whether the network's DHCPv4 server answers from an address of its own
 * (alloc.h's OSN_BLOCK_DHCP_SERVER), which no other port holds: then the
 * server port must.  A gateway's address (defaultGatewayIPs, the physical
 * network's gateway) is held by the gateway, which answers ARP for it; a
 * port of OVN's answering too would take its traffic. */
static bool wants_server_port(const struct osn_port_spec *spec, struct osn_cidr *ret_addr)
{
        const struct osn_netconf *nc = spec->nc;
        if (!(dhcp_families(nc) & 1) || nc->external)
                return false;
        for (size_t i = 0; i < nc->n_gateways; i++)
                if (nc->gateways[i].family == AF_INET)
                        return false;
        for (size_t i = 0; i < spec->alloc->n_subnets; i++)
                if (spec->alloc->subnets[i].subnet.family == AF_INET)
                        return osn_alloc_dhcp_server(spec->alloc, nc, i, ret_addr) == 0;
        return false;
}

/* The insert of the server port (uuid-name "dsrv"), or NULL when the
 * network has none. */
static json_t *server_port_insert(const struct osn_port_spec *spec)
{
        struct osn_cidr srv;
        if (!wants_server_port(spec, &srv))
                return NULL;
        const char *net = spec->network;
        _cleanup_free_ char *name = osn_dhcp_port_name(net);
        char uuid[37], mac[OSN_MAC_STRLEN], ip[OSN_CIDR_STRLEN],
            addrs[OSN_MAC_STRLEN + OSN_CIDR_STRLEN];
        if (!name)
                return NULL;
        server_port_uuid(net, uuid);
        dhcp_server_mac(net, mac);
        snprintf(addrs, sizeof(addrs), "%s %s", mac, osn_addr_format(&srv, ip, sizeof(ip)));
        const char *ids[] = {OSN_EXT_NETWORK, net, NULL};
        return json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:o, s:o}}", "op", "insert", "table",
                         "Logical_Switch_Port", "uuid", uuid, "uuid-name", "dsrv", "row", "name",
                         name, "type", "localport", "addresses", string_set1(addrs), "external_ids",
                         osn_ovsdb_map(ids));
}

/* The guard "switch 'sw_name' holds the network's server port" (NULL when
 * the network has none, or when this ADD found that it cannot have one). */
static json_t *server_port_guard(const struct osn_port_spec *spec, const char *sw_name)
{
        struct osn_cidr srv;
        if (!wants_server_port(spec, &srv))
                return NULL;
        char uuid[37];
        server_port_uuid(spec->network, uuid);
        return op_exists(
            "Logical_Switch",
            json_pack("[o,o]", osn_ovsdb_cond("name", "==", json_string(sw_name)),
                      osn_ovsdb_cond("ports", "includes",
                                     osn_ovsdb_set(json_pack("[o]", osn_ovsdb_uuid(uuid))))));
}

/* Whether this ADD's JOIN asks for the server port (above). */
static bool server_port_guard_needed(const struct osn_nb_attach *at)
{
        struct osn_cidr srv;
        return !at->no_server_guard && wants_server_port(at->spec, &srv);
}

/* The select (of _uuid) that finds the network's server port, for a read. */
static json_t *server_port_select(const char *network)
{
        char uuid[37];
        server_port_uuid(network, uuid);
        return osn_ovsdb_op_select("Logical_Switch_Port", where_eq("_uuid", osn_ovsdb_uuid(uuid)),
                                   (const char *const[]){"_uuid", NULL});
}

/* Adds the server port to switch 'sw_uuid', made by an osn that made none:
 * 0 when done or when another ADD did it meanwhile. */
static int add_server_port(struct osn_ovsdb *nb, const struct osn_port_spec *spec,
                           const char *sw_uuid, int64_t deadline, struct osn_error *err)
{
        json_t *ins = server_port_insert(spec);
        if (!ins)
                return 0;
        char uuid[37];
        server_port_uuid(spec->network, uuid);
        json_t *ops =
            json_pack("[o,o,o,{s:s, s:s, s:o, s:[[s,s,o]]}]",
                      op_comment("osn: network %s gets its DHCP server's port", spec->network),
                      op_wait("Logical_Switch_Port", where_eq("_uuid", osn_ovsdb_uuid(uuid)),
                              "_uuid", json_array()),
                      ins, "op", "mutate", "table", "Logical_Switch", "where",
                      where_eq("_uuid", osn_ovsdb_uuid(sw_uuid)), "mutations", "ports", "insert",
                      osn_ovsdb_set(json_pack("[o]", osn_ovsdb_named_uuid("dsrv"))));
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(nb, OSN_NB_DB, ops, deadline, &res, err);
        if (r == -EAGAIN) {
                osn_error_clear(err);
                return 0;
        }
        if (r == 0)
                log_info("network %s: added its DHCP server's port (an older osn made none)",
                         spec->network);
        return r;
}

/* The hostname option of an attachment's port (OVN reads it from the
 * port's options, ovn-nb(5)), as a map, or NULL: only with DHCPv4.  (A
 * value northd cannot parse would drop the port's whole DHCP flow.) */
static json_t *hostname_option(const struct osn_port_spec *spec)
{
        if (!spec->hostname || !*spec->hostname || !(dhcp_families(spec->nc) & 1))
                return NULL;
        /* A string option: northd copies it into the action as it is. */
        _cleanup_free_ char *q = NULL;
        if (asprintf(&q, "\"%s\"", spec->hostname) < 0)
                return NULL;
        return osn_ovsdb_map((const char *const[]){"hostname", q, NULL});
}

/* A Logical_Switch_Port row of the network: 'name', 'mac' and 'ips'
 * (addresses, port security, DHCP), external_ids 'ids' (stolen) with the
 * claims of the addresses added. */
static json_t *lsp_row(const struct osn_port_spec *spec, const char *name, const uint8_t mac[6],
                       const struct osn_cidr *ips, size_t n_ips, json_t *ids)
{
        const struct osn_netconf *nc = spec->nc;
        _cleanup_free_ char *addrs = addresses_string(mac, ips, n_ips);
        if (!addrs || !ids)
                return json_decref(ids), NULL;
        char key[OSN_CLAIM_KEY_STRLEN];
        for (size_t i = 0; i < n_ips; i++) {
                claim_key_ip(&ips[i], key);
                map_add(ids, key, spec->network);
        }
        claim_key_mac(mac, key);
        map_add(ids, key, spec->network);
        json_t *row;
        if (nc->mac_security_disabled) {
                /* No port security, and frames to MACs OVN does not know
                 * reach this port too (a VM that bridges other MACs). */
                row = json_pack("{s:s, s:o, s:o, s:o}", "name", name, "addresses",
                                osn_ovsdb_set(json_pack("[s,s]", addrs, "unknown")),
                                "port_security", osn_ovsdb_set(json_array()), "external_ids", ids);
        } else {
                row =
                    json_pack("{s:s, s:o, s:o, s:o}", "name", name, "addresses", string_set1(addrs),
                              "port_security", string_set1(addrs), "external_ids", ids);
        }
        unsigned fams = dhcp_families(nc);
        char u[37];
        if (row && (fams & 1)) {
                dhcp_uuid(spec->network, AF_INET, u);
                json_object_set_new(row, "dhcpv4_options", osn_ovsdb_uuid(u));
        }
        if (row && (fams & 2)) {
                dhcp_uuid(spec->network, AF_INET6, u);
                json_object_set_new(row, "dhcpv6_options", osn_ovsdb_uuid(u));
        }
        return row;
}

static json_t *port_row(const struct osn_nb_attach *at)
{
        const struct osn_port_spec *spec = at->spec;
        json_t *ids = osn_ovsdb_map(spec->port_ids);
        json_t *row = lsp_row(spec, spec->port_name, at->mac, at->ips, at->n_ips, ids);
        json_t *opts = row ? hostname_option(spec) : NULL;
        if (row && spec->identity) {
                ids = json_object_get(row, "external_ids");
                map_add(ids, OSN_EXT_IDENTITY, spec->identity);
                map_add(ids, OSN_EXT_CHASSIS, spec->chassis ? spec->chassis : "");
                if (spec->chassis && *spec->chassis) {
                        if (!opts)
                                opts = osn_ovsdb_map((const char *const[]){NULL});
                        map_add(opts, "requested-chassis", spec->chassis);
                }
        }
        if (opts)
                json_object_set_new(row, "options", opts);
        return row;
}

static int append(json_t *ops, json_t *op)
{
        int i = (int)json_array_size(ops);
        json_array_append_new(ops, op);
        return i;
}

/* The claims a port made by an older osn holds: its addresses and MAC. */
static json_t *legacy_claims(const json_t *row, const char *network)
{
        json_t *map = osn_ovsdb_map((const char *const[]){NULL});
        const char *a = osn_nb_port_addresses(row, NULL);
        uint8_t mac[6];
        struct osn_cidr ips[OSN_MAX_STATIC];
        int n = a ? osn_ovn_parse_addresses(a, NULL, mac, ips, OSN_MAX_STATIC) : -1;
        char key[OSN_CLAIM_KEY_STRLEN];
        for (int i = 0; i < n; i++) {
                claim_key_ip(&ips[i], key);
                map_add(map, key, network);
        }
        if (n >= 0) {
                claim_key_mac(mac, key);
                map_add(map, key, network);
        }
        return map;
}

/* The migration of a switch made by an older osn (northd's IPAM), as one
 * transaction: guarded by its port set (so no port of an older plugin slips
 * in unclaimed), every port gets the claims of what it holds, the switch
 * says it is claimed and stops asking northd for addresses.  0 when done
 * (or somebody else did it), -EAGAIN-free: a changed port set re-reads. */
static int migrate_network(struct osn_nb_attach *at, json_t *sw, int64_t deadline,
                           struct osn_error *err)
{
        const char *net = at->spec->network;
        _cleanup_json_ json_t *rows = NULL;
        int r = read_switch_ports(at->nb, sw, deadline, err);
        if (r == -EAGAIN)
                return 0;
        if (r < 0 || (r = read_network_ports(at->nb, net, deadline, &rows, err)) < 0)
                return r;
        json_t *sw_where = where_eq("_uuid", osn_ovsdb_uuid(osn_ovsdb_row_uuid(sw)));
        const char *ipam[] = {OSN_EXT_IPAM, OSN_IPAM_CLAIMS, NULL};
        json_t *ops =
            json_pack("[o,o,{s:s, s:s, s:O, s:[[s,s,o],[s,s,o]]}]",
                      op_comment("osn: migrate network %s to osn's address claims", net),
                      op_wait("Logical_Switch", json_deep_copy(sw_where), "ports",
                              json_pack("[{s:O}]", "ports", json_object_get(sw, "ports"))),
                      "op", "mutate", "table", "Logical_Switch", "where", sw_where, "mutations",
                      "external_ids", "insert", osn_ovsdb_map(ipam), "other_config", "delete",
                      osn_ovsdb_set(json_pack("[s,s,s]", "subnet", "ipv6_prefix", "exclude_ips")));
        json_decref(sw_where);
        json_t *row;
        size_t i, n = 0;
        json_array_foreach(rows, i, row)
        {
                if (!osn_ovsdb_map_get(json_object_get(row, "external_ids"), OSN_EXT_CONTAINER))
                        continue; /* the localnet port */
                json_array_append_new(
                    ops, json_pack("{s:s, s:s, s:o, s:[[s,s,o]]}", "op", "mutate", "table",
                                   "Logical_Switch_Port", "where",
                                   where_eq("_uuid", osn_ovsdb_uuid(osn_ovsdb_row_uuid(row))),
                                   "mutations", "external_ids", "insert", legacy_claims(row, net)));
                n++;
        }
        _cleanup_json_ json_t *res = NULL;
        r = osn_ovsdb_transact(at->nb, OSN_NB_DB, ops, deadline, &res, err);
        if (r == -EAGAIN) {
                osn_error_clear(err);
                return 0;
        }
        if (r == 0)
                log_info("network %s: migrated %zu port(s) to osn's address claims", net, n);
        return r;
}

/* --- pools (see ovn.h, "Pools") --- */

/* At most this many spares per top-up: each costs its claim guards. */
#define REFILL_MAX   2
#define REFILL_TRIES 4

/* A random (version 4) UUID for a new spare. */
static void new_uuid(char buf[37])
{
        static uint64_t counter;
        uint8_t b[16];
        if (getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t)sizeof(b)) {
                char s[64];
                snprintf(s, sizeof(s), "%lld.%d.%llu", (long long)osn_now_ms(), (int)getpid(),
                         (unsigned long long)++counter);
                uint64_t h1 = osn_alloc_seed(s), h2 = h1 * 0x9e3779b97f4a7c15ull ^ counter;
                memcpy(b, &h1, 8);
                memcpy(b + 8, &h2, 8);
        }
        b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
        b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
        snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
                 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                 b[13], b[14], b[15]);
}

/* The number of spares in a switch's pool index. */
static size_t index_size(const json_t *sw_ids)
{
        size_t n = 0, i;
        const json_t *pair;
        json_array_foreach(json_array_get(sw_ids, 1), i, pair) n += index_entry(pair) != NULL;
        return n;
}

/* A copy of the map 'ids' without 'key'. */
static json_t *map_without(const json_t *ids, const char *key)
{
        json_t *m = osn_ovsdb_map((const char *const[]){NULL});
        size_t i;
        const json_t *pair;
        json_array_foreach(json_array_get(ids, 1), i, pair)
        {
                if (!streq(json_string_value(json_array_get(pair, 0)), key))
                        json_array_append(json_array_get(m, 1), (json_t *)pair);
        }
        return m;
}

static const char *kv_get(const char *const *kv, const char *key);

/* The switch's key of what container 'cid' holds as 'ifname' (ovn.h,
 * "Pools"). */
static void held_key(const char *cid, const char *ifname, char buf[OSN_PORT_NAME_SIZE])
{
        snprintf(buf, OSN_PORT_NAME_SIZE, "%s%s/%s", OSN_EXT_HELD, cid ? cid : "",
                 ifname ? ifname : "");
}

/* What the transaction being built makes this ADD hold: "<port name>
 * <address string>" (malloc'd). */
static char *held_value(const struct osn_nb_attach *at)
{
        _cleanup_free_ char *addrs = addresses_string(at->mac, at->ips, at->n_ips);
        char *v = NULL;
        if (!addrs || asprintf(&v, "%s %s", at->port_name, addrs) < 0)
                return NULL;
        return v;
}

/* Reads what the held key's value 'v' names into at->held_name and
 * at->held ("" when it names nothing this network hands out). */
static void read_held(struct osn_nb_attach *at, const char *v)
{
        const char *sp = v ? strchr(v, ' ') : NULL;
        at->held_name[0] = 0;
        if (!sp || (size_t)(sp - v) >= sizeof(at->held_name))
                return;
        struct spare *h = &at->held;
        int n = osn_ovn_parse_addresses(sp + 1, at->spec->nc, h->mac, h->ips, OSN_MAX_STATIC);
        if (n < 0 || (size_t)n != at->spec->alloc->n_subnets)
                return;
        h->n_ips = (size_t)n;
        memcpy(at->held_name, v, (size_t)(sp - v));
        at->held_name[sp - v] = 0;
}

/* at->sw_ids as this ADD's attach leaves them: the held key in. */
static void held_added(struct osn_nb_attach *at)
{
        _cleanup_free_ char *v = held_value(at);
        json_t *m = at->sw_ids && v ? map_without(at->sw_ids, at->held_key) : NULL;
        if (m)
                map_add(m, at->held_key, v);
        json_decref(at->sw_ids);
        at->sw_ids = m;
}

/* Reads the network's switch (_uuid, external_ids) and its pool index into
 * at->spares.  A switch that is not osn's with this request's settings
 * gives no spares (the attach transaction's guard then sorts it out). */
static int read_pool(struct osn_nb_attach *at, int64_t deadline, struct osn_error *err)
{
        const struct osn_port_spec *spec = at->spec;
        json_t *ops = json_pack(
            "[o]", osn_ovsdb_op_select("Logical_Switch", where_eq("name", json_string(at->sw_name)),
                                       (const char *const[]){"_uuid", "external_ids", NULL}));
        /* A retried ADD may find the attachment's own port, made by the
         * earlier try (a scan of the port table by name: only then). */
        if (spec->earlier_try)
                json_array_append_new(
                    ops, osn_ovsdb_op_select("Logical_Switch_Port",
                                             where_eq("name", json_string(spec->port_name)),
                                             (const char *const[]){"_uuid", NULL}));
        size_t srv_op = json_array_size(ops);
        json_array_append_new(ops, server_port_select(spec->network));
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(at->nb, OSN_NB_DB, ops, deadline, &res, err);
        if (r < 0)
                return r;
        at->server_missing = json_array_size(osn_ovsdb_result_rows(res, srv_op)) == 0 &&
                             server_port_guard_needed(at);
        json_t *rows = osn_ovsdb_result_rows(res, 0);
        json_decref(at->sw_row);
        json_decref(at->sw_ids);
        at->sw_row = at->sw_ids = NULL;
        at->n_spares = 0;
        at->held_name[0] = 0;
        /* An earlier try of this ADD made the attachment's own port: the
         * attach adopts it (or replaces it), no spare is claimed. */
        at->own_exists = spec->earlier_try && json_array_size(osn_ovsdb_result_rows(res, 1)) > 0;
        json_t *sw = json_array_get(rows, 0);
        const json_t *ids = json_object_get(sw, "external_ids");
        if (json_array_size(rows) != 1 ||
            !streq(osn_ovsdb_map_get(ids, OSN_EXT_NETWORK), spec->network) ||
            !streq(osn_ovsdb_map_get(ids, OSN_EXT_FINGERPRINT), spec->fingerprint) ||
            !streq(osn_ovsdb_map_get(ids, OSN_EXT_IPAM), OSN_IPAM_CLAIMS))
                return 0;
        at->sw_row = json_incref(sw);
        at->sw_ids = json_deep_copy(ids);
        if (at->pool)
                read_held(at, osn_ovsdb_map_get(ids, at->held_key));
        const json_t *pairs = json_array_get(ids, 1);
        free(at->spares);
        at->spares = calloc(json_array_size(pairs) + 1, sizeof(*at->spares));
        if (!at->spares || !at->sw_ids)
                return -ENOMEM;
        size_t i;
        const json_t *pair;
        json_array_foreach(pairs, i, pair)
        {
                const char *u = index_entry(pair);
                const char *v = json_string_value(json_array_get(pair, 1));
                if (!u || !v)
                        continue;
                struct spare *sp = &at->spares[at->n_spares];
                int n = osn_ovn_parse_addresses(v, spec->nc, sp->mac, sp->ips, OSN_MAX_STATIC);
                if (n < 0 || (size_t)n != spec->alloc->n_subnets)
                        continue; /* not what this network hands out: leave it to gc */
                memcpy(sp->uuid, u, 37);
                sp->n_ips = (size_t)n;
                at->n_spares++;
        }
        return 0;
}

/* This try claims spare 'k': its MAC and addresses become the port's. */
static void take_spare(struct osn_nb_attach *at, size_t k)
{
        const struct spare *sp = &at->spares[k];
        at->mode = ATTACH_CLAIM;
        at->claim = k;
        memcpy(at->mac, sp->mac, 6);
        at->n_ips = sp->n_ips;
        memcpy(at->ips, sp->ips, sp->n_ips * sizeof(sp->ips[0]));
        at->n_claims = 0;
        snprintf(at->port_name, sizeof(at->port_name), "osn.%s.spare.%s", at->spec->network,
                 sp->uuid);
}

/* After the pool was read: claim a spare (picked by the port's seed, so
 * that concurrent ADDs spread over the pool), or attach without one. */
static void pool_decide(struct osn_nb_attach *at)
{
        if (at->held_name[0]) {
                /* An earlier try of this ADD holds a port: adopted, not a
                 * second one claimed. */
                const struct spare *h = &at->held;
                at->mode = ATTACH_HELD;
                memcpy(at->mac, h->mac, 6);
                at->n_ips = h->n_ips;
                memcpy(at->ips, h->ips, h->n_ips * sizeof(h->ips[0]));
                at->n_claims = 0;
                snprintf(at->port_name, sizeof(at->port_name), "%s", at->held_name);
                return;
        }
        if (at->n_spares > 0 && !at->own_exists && !at->server_missing) {
                take_spare(at, at->seed % at->n_spares);
                return;
        }
        at->mode = ATTACH_JOIN;
        snprintf(at->port_name, sizeof(at->port_name), "%s", at->spec->port_name);
}

static bool among(const struct osn_cidr *v, size_t n, const struct osn_cidr *c)
{
        for (size_t i = 0; i < n; i++)
                if (osn_addr_equal(&v[i], c))
                        return true;
        return false;
}

/* The addresses of a new spare with 'uuid': a candidate per subnet that
 * none of 'pend' (this transaction's) holds, or, once candidates were lost
 * (at->refill_near_full), one the network's claims leave free.  -ENOSPC
 * when a subnet has none. */
static int spare_addresses(struct osn_nb_attach *at, const char *uuid, const struct osn_cidr *pend,
                           size_t n_pend, struct spare *sp)
{
        const struct osn_alloc *a = at->spec->alloc;
        uint64_t seed = osn_alloc_seed(uuid);
        sp->n_ips = 0;
        for (size_t s = 0; s < a->n_subnets && s < OSN_MAX_STATIC; s++) {
                struct osn_cidr c;
                bool found = false;
                for (unsigned k = 0; !at->refill_near_full && !found && k < 16; k++) {
                        int r = osn_alloc_candidate(a, s, seed, k, &c);
                        if (r < 0)
                                return r;
                        found = !among(pend, n_pend, &c) && !among(sp->ips, sp->n_ips, &c);
                }
                if (!found) {
                        size_t n = at->n_used + n_pend + sp->n_ips;
                        _cleanup_free_ struct osn_cidr *used = calloc(n + 1, sizeof(*used));
                        if (!used)
                                return -ENOMEM;
                        if (at->n_used)
                                memcpy(used, at->used, at->n_used * sizeof(*used));
                        if (n_pend)
                                memcpy(used + at->n_used, pend, n_pend * sizeof(*used));
                        memcpy(used + at->n_used + n_pend, sp->ips, sp->n_ips * sizeof(*used));
                        int r = osn_alloc_pick_free(a, s, seed, used, n, &c);
                        if (r < 0)
                                return r;
                }
                sp->ips[sp->n_ips++] = c;
        }
        if (sp->n_ips == 0 || osn_alloc_mac_for(sp->ips, sp->n_ips, sp->mac) < 0) {
                /* No IPv4 to derive it from: locally administered, unicast. */
                uint64_t h = seed * 0x9e3779b97f4a7c15ull;
                for (int i = 0; i < 6; i++)
                        sp->mac[i] = (uint8_t)(h >> (8 * i));
                sp->mac[0] = (uint8_t)((sp->mac[0] & 0xfc) | 0x02);
        }
        memcpy(sp->uuid, uuid, 37);
        return 0;
}

/* Appends up to 'k' new spares to 'ops': each its claim guards (when
 * 'guards'; a new switch needs none) and its insert, its reference to
 * 'ports' (an array) and its index key to 'index' (a map).  The number
 * made: fewer when the subnet has no more free addresses. */
static int append_spares(struct osn_nb_attach *at, json_t *ops, size_t k, bool guards,
                         json_t *ports, json_t *index)
{
        const struct osn_port_spec *spec = at->spec;
        const char *net = spec->network;
        struct osn_cidr pend[OSN_MAX_STATIC * (OSN_POOL_MAX_SIZE + 1)];
        size_t n_pend = 0, made = 0;
        for (size_t i = 0; i < at->n_ips; i++)
                pend[n_pend++] = at->ips[i];
        for (; made < k && made < OSN_POOL_MAX_SIZE; made++) {
                struct spare sp;
                char uuid[37], key[sizeof(OSN_EXT_SPARE_INDEX) + 36];
                new_uuid(uuid);
                int r = spare_addresses(at, uuid, pend, n_pend, &sp);
                if (r == -ENOSPC)
                        break;
                if (r < 0)
                        return r;
                _cleanup_free_ char *name = osn_spare_port_name(net, uuid);
                _cleanup_free_ char *addrs = addresses_string(sp.mac, sp.ips, sp.n_ips);
                json_t *row = name
                                  ? lsp_row(spec, name, sp.mac, sp.ips, sp.n_ips,
                                            osn_ovsdb_map((const char *const[]){
                                                OSN_EXT_NETWORK, net, OSN_EXT_SPARE, "true", NULL}))
                                  : NULL;
                if (!row || !addrs)
                        return json_decref(row), -ENOMEM;
                if (guards) {
                        char claim[OSN_CLAIM_KEY_STRLEN];
                        for (size_t q = 0; q <= sp.n_ips; q++) {
                                if (q < sp.n_ips)
                                        claim_key_ip(&sp.ips[q], claim);
                                else
                                        claim_key_mac(sp.mac, claim);
                                append(ops, op_wait("Logical_Switch_Port", ids_include(claim, net),
                                                    "name", json_array()));
                        }
                }
                append(ops, json_pack("{s:s, s:s, s:s, s:o}", "op", "insert", "table",
                                      "Logical_Switch_Port", "uuid", uuid, "row", row));
                json_array_append_new(ports, osn_ovsdb_uuid(uuid));
                index_key(uuid, key);
                map_add(index, key, addrs);
                memcpy(pend + n_pend, sp.ips, sp.n_ips * sizeof(sp.ips[0]));
                n_pend += sp.n_ips;
        }
        return (int)made;
}

/* Sends the top-up of the pool by up to 'k' spares, guarded by the index
 * as this ADD left it (at->sw_ids): of concurrent top-ups one commits, the
 * others read the pool again. */
static int refill_send(struct osn_nb_attach *at, size_t k, struct osn_error *err)
{
        const char *net = at->spec->network;
        const char *sw = osn_ovsdb_row_uuid(at->sw_row);
        json_t *ops = json_array(), *ports = json_array();
        json_t *index = osn_ovsdb_map((const char *const[]){NULL});
        if (!ops || !ports || !index) {
                json_decref(ops), json_decref(ports), json_decref(index);
                return -ENOMEM;
        }
        append(ops, op_comment("osn: top up the pool of network %s", net));
        at->refill_guard =
            append(ops, op_wait("Logical_Switch", where_eq("_uuid", osn_ovsdb_uuid(sw)),
                                "external_ids", json_pack("[{s:O}]", "external_ids", at->sw_ids)));
        int made = append_spares(at, ops, k, true, ports, index);
        if (made <= 0) {
                json_decref(ops), json_decref(ports), json_decref(index);
                if (made == 0)
                        log_info("network %s: no free address for another spare; the pool stays "
                                 "at %zu",
                                 net, index_size(at->sw_ids));
                return made;
        }
        append(ops, json_pack("{s:s, s:s, s:o, s:[[s,s,o],[s,s,o]]}", "op", "mutate", "table",
                              "Logical_Switch", "where", where_eq("_uuid", osn_ovsdb_uuid(sw)),
                              "mutations", "ports", "insert", osn_ovsdb_set(ports), "external_ids",
                              "insert", index));
        json_decref(at->refill_ops);
        at->refill_ops = ops;
        int r = osn_ovsdb_transact_start(at->nb, OSN_NB_DB, at->refill_ops, &at->refill_id, err);
        at->refill_in_flight = r >= 0;
        return r;
}

/* The index as the claim of at->claim leaves it (the top-up's guard):
 * without the spare's key, with the held key. */
static void claimed_key_gone(struct osn_nb_attach *at)
{
        char key[sizeof(OSN_EXT_SPARE_INDEX) + 36];
        index_key(at->spares[at->claim].uuid, key);
        json_t *left = at->sw_ids ? map_without(at->sw_ids, key) : NULL;
        json_decref(at->sw_ids);
        at->sw_ids = left;
        held_added(at);
}

/* The held key named a port that is not this container's (any more): the
 * key goes, and the pool is read again. */
static int held_gone(struct osn_nb_attach *at, int64_t deadline, struct osn_error *err)
{
        log_info("network %s: port %s, which the switch says container %s holds, is gone or "
                 "another's; forgetting it",
                 at->spec->network, at->held_name, at->held_key + strlen(OSN_EXT_HELD));
        json_t *ops = json_pack("[o]", json_pack("{s:s, s:s, s:o, s:[[s,s,o]]}", "op", "mutate",
                                                 "table", "Logical_Switch", "where",
                                                 where_eq("name", json_string(at->sw_name)),
                                                 "mutations", "external_ids", "delete",
                                                 osn_ovsdb_set(json_pack("[s]", at->held_key))));
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(at->nb, OSN_NB_DB, ops, deadline, &res, err);
        if (r < 0 || (r = read_pool(at, deadline, err)) < 0)
                return r;
        at->held_name[0] = 0; /* once: whatever the read says, not again */
        pool_decide(at);
        return 0;
}

/* The top-up, sent right behind a claim (or after an attach without a
 * spare): what the pool lacks of pool_size, at most REFILL_MAX. */
static void refill_start(struct osn_nb_attach *at)
{
        if (!(at->pool || at->evicted) || !at->sw_row || !at->sw_ids)
                return;
        size_t have = index_size(at->sw_ids), want = at->spec->pool_size;
        if (have >= want)
                return;
        struct osn_error e = {0};
        if (refill_send(at, want - have < REFILL_MAX ? want - have : REFILL_MAX, &e) < 0)
                log_info("network %s: pool not topped up: %s", at->spec->network, e.msg);
}

void osn_nb_attach_refill(struct osn_nb_attach *at, int64_t deadline)
{
        if (!at)
                return;
        const char *net = at->spec->network;
        struct osn_error e = {0};
        if (at->evicted && !at->refill_in_flight && at->spec->pool_size > 0) {
                /* This ADD took a spare's address: a replacement for it. */
                if (read_pool(at, deadline, &e) == 0)
                        refill_start(at);
                else
                        log_info("network %s: pool not topped up: %s", net, e.msg);
                osn_error_clear(&e);
        }
        for (int tries = 0; at->refill_in_flight; tries++) {
                _cleanup_json_ json_t *res = NULL;
                at->refill_in_flight = false;
                int r = osn_ovsdb_transact_finish(at->nb, OSN_NB_DB, at->refill_ops, at->refill_id,
                                                  deadline, &res, &e);
                if (r == 0) {
                        log_debug("network %s: pool topped up", net);
                        return;
                }
                if (r != -EAGAIN || tries + 1 >= REFILL_TRIES)
                        break;
                bool index_changed = e.failed_op == at->refill_guard;
                osn_error_clear(&e);
                if (index_changed) {
                        /* Another ADD or DEL changed the pool: read it again. */
                        if ((r = read_pool(at, deadline, &e)) < 0)
                                break;
                } else if (++at->refill_lost >= 2 && !at->refill_near_full) {
                        /* Its addresses were taken: pick from the claims. */
                        free(at->used);
                        at->used = NULL;
                        if ((r = osn_nb_network_addresses(at->nb, net, deadline, &at->used,
                                                          &at->n_used, &e)) < 0)
                                break;
                        at->refill_near_full = true;
                }
                refill_start(at);
        }
        if (osn_error_isset(&e))
                log_info("network %s: pool not topped up: %s", net, e.msg);
}

/* Spare 'uuid' holds an address this ADD must have (a static request, or
 * one of the last free ones): it goes, guarded by "still a spare".  0 to
 * try again (also when somebody claimed it meanwhile). */
static int evict_spare(struct osn_nb_attach *at, const char *uuid, int64_t deadline,
                       struct osn_error *err)
{
        const char *net = at->spec->network;
        char key[sizeof(OSN_EXT_SPARE_INDEX) + 36];
        index_key(uuid, key);
        json_t *ops = json_pack(
            "[o,o,{s:s, s:s, s:o, s:[[s,s,o],[s,s,o]]}]",
            op_comment("osn: network %s: spare %s gives up its addresses for %s", net, uuid,
                       at->spec->port_name),
            op_exists("Logical_Switch_Port",
                      json_pack("[o,o]", osn_ovsdb_cond("_uuid", "==", osn_ovsdb_uuid(uuid)),
                                osn_ovsdb_cond("external_ids", "includes",
                                               osn_ovsdb_map((const char *const[]){
                                                   OSN_EXT_SPARE, "true", NULL})))),
            "op", "mutate", "table", "Logical_Switch", "where",
            where_eq("name", json_string(at->sw_name)), "mutations", "ports", "delete",
            osn_ovsdb_set(json_pack("[o]", osn_ovsdb_uuid(uuid))), "external_ids", "delete",
            osn_ovsdb_set(json_pack("[s]", key)));
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(at->nb, OSN_NB_DB, ops, deadline, &res, err);
        if (r == -EAGAIN) {
                osn_error_clear(err);
                return 0;
        }
        if (r == 0) {
                log_info("network %s: spare %s evicted for %s", net, uuid, at->spec->port_name);
                at->evicted = true;
        }
        return r;
}

/* The subnet is full but for spares: one goes (bounded), and the claims
 * are read again.  1 when one went, 0 when there is none. */
static int evict_for_full(struct osn_nb_attach *at, int64_t deadline, struct osn_error *err)
{
        if (at->evictions++ >= OSN_POOL_MAX_SIZE)
                return 0;
        int r = read_pool(at, deadline, err);
        if (r < 0 || at->n_spares == 0)
                return r;
        if ((r = evict_spare(at, at->spares[0].uuid, deadline, err)) < 0)
                return r;
        free(at->used);
        at->used = NULL;
        at->n_used = 0;
        r = osn_nb_network_addresses(at->nb, at->spec->network, deadline, &at->used, &at->n_used,
                                     err);
        return r < 0 ? r : 1;
}

/* A claim of a spare lost its race: another spare, or the pool read again
 * (and, when it is empty, an attachment without one). */
static int spare_lost(struct osn_nb_attach *at, int64_t deadline, struct osn_error *err)
{
        at->spares[at->claim] = at->spares[--at->n_spares];
        if (at->n_spares == 0) {
                int r = read_pool(at, deadline, err);
                if (r < 0)
                        return r;
        }
        pool_decide(at);
        return 0;
}

/* The one builder of the attach transaction, in its three shapes. */
static json_t *attach_ops(struct osn_nb_attach *at, struct attach_ops *idx)
{
        const struct osn_port_spec *spec = at->spec;
        const char *net = spec->network;
        json_t *ops = json_array();
        json_decref(at->port_row);
        at->port_row =
            at->mode == ATTACH_CLAIM || at->mode == ATTACH_HELD ? json_object() : port_row(at);
        _cleanup_free_ char *held = at->pool ? held_value(at) : NULL;
        if (!ops || !at->port_row || (at->pool && !held))
                return json_decref(ops), NULL;
        memset(idx, -1, sizeof(*idx));
        idx->n_claims = 0; /* CLAIM and HELD have none */
        append(ops, op_comment("osn: attach %s to network %s", spec->port_name, net));
        if (at->mode == ATTACH_HELD) {
                /* Nothing to change: the port is the attachment's if it is
                 * still this container's. */
                char uuid[37];
                json_t *w = osn_is_spare_port(net, at->port_name, uuid)
                                ? where_eq("_uuid", osn_ovsdb_uuid(uuid))
                                : where_eq("name", json_string(at->port_name));
                const char *kv[] = {OSN_EXT_NETWORK,
                                    net,
                                    OSN_EXT_CONTAINER,
                                    kv_get(spec->port_ids, OSN_EXT_CONTAINER),
                                    OSN_EXT_IFNAME,
                                    kv_get(spec->port_ids, OSN_EXT_IFNAME),
                                    NULL};
                idx->held_guard =
                    append(ops, op_exists("Logical_Switch_Port",
                                          json_pack("[O,o]", json_array_get(w, 0),
                                                    osn_ovsdb_cond("external_ids", "includes",
                                                                   osn_ovsdb_map(kv)))));
                json_decref(w);
                return ops;
        }
        if (at->mode == ATTACH_CLAIM) {
                /* The spare is still one; it becomes the attachment and
                 * leaves the pool's index. */
                const struct spare *sp = &at->spares[at->claim];
                char key[sizeof(OSN_EXT_SPARE_INDEX) + 36];
                index_key(sp->uuid, key);
                json_t *lsp = where_eq("_uuid", osn_ovsdb_uuid(sp->uuid));
                idx->spare_guard = append(
                    ops, op_exists("Logical_Switch_Port",
                                   json_pack("[O,o]", json_array_get(lsp, 0),
                                             osn_ovsdb_cond("external_ids", "includes",
                                                            osn_ovsdb_map((const char *const[]){
                                                                OSN_EXT_SPARE, "true", NULL})))));
                idx->insert_port = append(
                    ops, json_pack("{s:s, s:s, s:o, s:[[s,s,o],[s,s,o]]}", "op", "mutate", "table",
                                   "Logical_Switch_Port", "where", lsp, "mutations", "external_ids",
                                   "delete", osn_ovsdb_set(json_pack("[s]", OSN_EXT_SPARE)),
                                   "external_ids", "insert", osn_ovsdb_map(spec->port_ids)));
                json_t *host = hostname_option(spec);
                if (host)
                        append(ops, json_pack("{s:s, s:s, s:O, s:[[s,s,o]]}", "op", "mutate",
                                              "table", "Logical_Switch_Port", "where", lsp,
                                              "mutations", "options", "insert", host));
                append(ops,
                       json_pack("{s:s, s:s, s:o, s:[[s,s,o],[s,s,o]]}", "op", "mutate", "table",
                                 "Logical_Switch", "where",
                                 where_eq("_uuid", osn_ovsdb_uuid(osn_ovsdb_row_uuid(at->sw_row))),
                                 "mutations", "external_ids", "delete",
                                 osn_ovsdb_set(json_pack("[s]", key)), "external_ids", "insert",
                                 osn_ovsdb_map((const char *const[]){at->held_key, held, NULL})));
                return ops;
        }
        json_t *sw_where = NULL;
        switch (at->mode) {
        case ATTACH_JOIN:
                /* The switch exists with exactly these settings (its pool
                 * index may be anything). */
                sw_where = where_eq("name", json_string(at->sw_name));
                idx->switch_guard =
                    append(ops, op_exists("Logical_Switch",
                                          json_pack("[O,o]", json_array_get(sw_where, 0),
                                                    osn_ovsdb_cond("external_ids", "includes",
                                                                   switch_ids(spec)))));
                if (!at->no_server_guard) {
                        json_t *g = server_port_guard(spec, at->sw_name);
                        if (g)
                                idx->server_guard = append(ops, g);
                }
                break;
        case ATTACH_CREATE:
                /* Nobody created the switch since we looked. */
                sw_where = NULL;
                idx->switch_guard = append(ops, op_wait("Logical_Switch",
                                                        where_eq("name", json_string(at->sw_name)),
                                                        "name", json_array()));
                break;
        case ATTACH_CLAIM:
        case ATTACH_HELD:
                break;
        }
        idx->n_claims = at->n_claims;
        for (size_t i = 0; i < at->n_claims; i++)
                idx->claim[i] =
                    append(ops, op_wait("Logical_Switch_Port", ids_include(at->claims[i], net),
                                        "name", json_array()));
        idx->insert_port =
            append(ops, json_pack("{s:s, s:s, s:O, s:s}", "op", "insert", "table",
                                  "Logical_Switch_Port", "row", at->port_row, "uuid-name", "lsp"));
        if (at->mode == ATTACH_CREATE) {
                json_t *sw_ports = json_pack("[o]", osn_ovsdb_named_uuid("lsp"));
                json_t *sw_ids = switch_ids(spec);
                if (held)
                        map_add(sw_ids, at->held_key, held);
                if (spec->nc->external) {
                        json_array_append_new(sw_ports, osn_ovsdb_named_uuid("ln"));
                        append(ops, json_pack("{s:s, s:s, s:o, s:s}", "op", "insert", "table",
                                              "Logical_Switch_Port", "row",
                                              localnet_row(spec, at->ln_name), "uuid-name", "ln"));
                }
                json_t *srv = server_port_insert(spec);
                if (srv) {
                        json_array_append_new(sw_ports, osn_ovsdb_named_uuid("dsrv"));
                        append(ops, srv);
                }
                /* The pool, full from the start.  No claim guards: no port of
                 * the network outlives its switch, and this one is new. */
                if (spec->pool_size > 0 &&
                    append_spares(at, ops, spec->pool_size, false, sw_ports, sw_ids) < 0) {
                        json_decref(sw_ports), json_decref(sw_ids);
                        return json_decref(ops), NULL;
                }
                append(ops, json_pack("{s:s, s:s, s:{s:s, s:o, s:o}}", "op", "insert", "table",
                                      "Logical_Switch", "row", "name", at->sw_name, "external_ids",
                                      sw_ids, "ports", osn_ovsdb_set(sw_ports)));
                /* The network's DHCP server, unless a row of an earlier
                 * life of the network is still there (then it serves). */
                for (size_t i = 0; !at->dhcp_exists && i < spec->alloc->n_subnets; i++) {
                        unsigned fam = spec->alloc->subnets[i].subnet.family == AF_INET ? 1u : 2u;
                        json_t *op = (dhcp_families(spec->nc) & fam) ? dhcp_insert(spec, i) : NULL;
                        if (op)
                                append(ops, op);
                }
                return ops;
        }
        json_t *mutations = json_pack("[[s,s,o]]", "ports", "insert",
                                      osn_ovsdb_set(json_pack("[o]", osn_ovsdb_named_uuid("lsp"))));
        if (held)
                json_array_append_new(
                    mutations,
                    json_pack("[s,s,o]", "external_ids", "insert",
                              osn_ovsdb_map((const char *const[]){at->held_key, held, NULL})));
        append(ops, json_pack("{s:s, s:s, s:O, s:o}", "op", "mutate", "table", "Logical_Switch",
                              "where", sw_where, "mutations", mutations));
        json_decref(sw_where);
        return ops;
}

static int send_attach(struct osn_nb_attach *at, struct osn_error *err)
{
        json_decref(at->ops);
        at->ops = attach_ops(at, &at->idx);
        if (!at->ops)
                return -ENOMEM;
        int r = osn_ovsdb_transact_start(at->nb, OSN_NB_DB, at->ops, &at->id, err);
        at->in_flight = r >= 0;
        return r;
}

static void fill_result(const struct osn_nb_attach *at, const char *uuid, bool created,
                        struct osn_nb_port *ret)
{
        memset(ret, 0, sizeof(*ret));
        snprintf(ret->uuid, sizeof(ret->uuid), "%s", uuid ? uuid : "");
        snprintf(ret->name, sizeof(ret->name), "%s", at->port_name);
        ret->pooled = at->mode == ATTACH_CLAIM;
        ret->created = created;
        ret->switch_created = created && at->mode == ATTACH_CREATE;
        memcpy(ret->mac, at->mac, 6);
        ret->n_ips = at->n_ips;
        memcpy(ret->ips, at->ips, at->n_ips * sizeof(at->ips[0]));
}

/* Names of the switch and its localnet port for the current spec. */
static int switch_names(struct osn_nb_attach *at)
{
        free(at->sw_name);
        free(at->ln_name);
        at->sw_name = osn_switch_name(at->spec->network);
        at->ln_name = osn_localnet_port_name(at->spec->network);
        return at->sw_name && at->ln_name ? 0 : -ENOMEM;
}

int osn_nb_attach_start(struct osn_ovsdb *nb, const struct osn_port_spec *spec, int64_t deadline,
                        struct osn_nb_attach **ret, struct osn_error *err)
{
        _cleanup_nb_attach_ struct osn_nb_attach *at = calloc(1, sizeof(*at));
        if (!at)
                return -ENOMEM;
        at->nb = nb;
        at->spec = spec;
        at->own_spec = spec;
        at->seed = osn_alloc_seed(spec->port_name);
        at->mode = ATTACH_JOIN;
        if (switch_names(at) < 0)
                return -ENOMEM;
        snprintf(at->port_name, sizeof(at->port_name), "%s", spec->port_name);
        /* The pool path: one indexed read of the switch, then the claim. */
        at->pool = spec->pool_size > 0 && !spec->identity && !spec->mac_requested &&
                   spec->n_static_ips == 0;
        int r;
        if (at->pool) {
                held_key(kv_get(spec->port_ids, OSN_EXT_CONTAINER),
                         kv_get(spec->port_ids, OSN_EXT_IFNAME), at->held_key);
                if ((r = read_pool(at, deadline, err)) < 0)
                        return r;
                pool_decide(at);
                if (at->mode == ATTACH_HELD)
                        return (r = send_attach(at, err)) < 0 ? r : (*ret = TAKE_PTR(at), 0);
                if (at->mode == ATTACH_CLAIM) {
                        /* The top-up right behind the claim, guarded by the
                         * index as the claim leaves it: it commits only
                         * after the claim did (one connection, in order),
                         * and northd has compiled its spares by the time
                         * ovn-controller sees the caller's plug (measured:
                         * sent after the claim's answer, they competed
                         * with the port in northd and ovn-controller; sent
                         * after the ADD's answer, 8 ADDs at once found the
                         * pool empty half the time). */
                        if ((r = send_attach(at, err)) < 0)
                                return r;
                        claimed_key_gone(at);
                        refill_start(at);
                        *ret = TAKE_PTR(at);
                        return 0;
                }
        }
        r = choose_addresses(at, err);
        /* A subnet without any address to hand out: _finish() says so (the
         * caller's veth meanwhile gets the fallback MAC). */
        if (r == -ENOSPC)
                memcpy(at->mac, spec->mac, 6);
        if (r < 0 && r != -ENOSPC)
                return r;
        if (r == 0 && (r = send_attach(at, err)) < 0)
                return r;
        *ret = TAKE_PTR(at);
        return 0;
}

/* Who holds 'claim' on the network: the holder's row (name, external_ids;
 * new reference), or NULL when nobody does (any more). */
static int read_claim_holder(struct osn_nb_attach *at, const char *claim, int64_t deadline,
                             json_t **ret, struct osn_error *err)
{
        json_t *ops = json_pack(
            "[o]",
            osn_ovsdb_op_select("Logical_Switch_Port", ids_include(claim, at->spec->network),
                                (const char *const[]){"_uuid", "name", "external_ids", NULL}));
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(at->nb, OSN_NB_DB, ops, deadline, &res, err);
        if (r < 0)
                return r;
        json_t *row = json_array_get(osn_ovsdb_result_rows(res, 0), 0);
        *ret = row ? json_incref(row) : NULL;
        return 0;
}

/* "pod ns/name (port P)" or "port P" for messages. */
static void describe_holder(const json_t *row, char *buf, size_t len)
{
        const json_t *ids = json_object_get(row, "external_ids");
        const char *ns = osn_ovsdb_map_get(ids, OSN_EXT_POD_NS);
        const char *pod = osn_ovsdb_map_get(ids, OSN_EXT_POD_NAME);
        const char *name = json_string_value(json_object_get(row, "name"));
        if (ns && pod && *ns && *pod)
                snprintf(buf, len, "pod %s/%s (port %s)", ns, pod, name ? name : "?");
        else
                snprintf(buf, len, "port %s", name ? name : "?");
}

static int subnet_full(struct osn_nb_attach *at, size_t s, struct osn_error *err)
{
        const struct osn_alloc *a = at->spec->alloc;
        struct osn_alloc_usage u;
        osn_alloc_usage(a, s, at->used, at->n_used, &u);
        char sub[OSN_CIDR_STRLEN], used[40], cap[40], res[40];
        osn_cidr_format(&a->subnets[s].subnet, sub, sizeof(sub));
        osn_error_set(err, -ENOSPC, OSN_CNI_TRY_AGAIN_LATER,
                      "subnet %s of network \"%s\" is full: %s of %s addresses in use; delete a "
                      "pod on it or widen the subnet",
                      sub, at->spec->network, osn_u128_format(u.used, used, sizeof(used)),
                      osn_u128_format(u.capacity, cap, sizeof(cap)));
        if (u.reserved > 0)
                osn_error_details(err, "(%s more addresses are reserved for static requests)",
                                  osn_u128_format(u.reserved, res, sizeof(res)));
        return -ENOSPC;
}

/* A lost claim of a dynamic address: the next candidate, or, after a few,
 * the network's claims read and a free address picked. */
static int next_candidate(struct osn_nb_attach *at, int s, int64_t deadline, struct osn_error *err)
{
        if (s < 0)
                return -EINVAL;
        if (++at->attempt[s] < PROBES_BEFORE_READ)
                return 0;
        free(at->used);
        at->used = NULL;
        at->n_used = 0;
        int r = osn_nb_network_addresses(at->nb, at->spec->network, deadline, &at->used,
                                         &at->n_used, err);
        if (r < 0)
                return r;
        at->near_full[s] = true;
        return 0;
}

/* --- persistent identities --- */

/* The value of 'key' in a NULL-terminated key, value, ... list. */
static const char *kv_get(const char *const *kv, const char *key)
{
        for (size_t i = 0; kv && kv[i]; i += 2)
                if (streq(kv[i], key))
                        return kv[i + 1];
        return NULL;
}

/* One guarded change of a port: it still has the external_ids we read
 * ('row'), then external_ids loses 'del_ids' and gains 'add_ids', options
 * loses 'del_opts' and gains 'add_opts' (maps; may be NULL; stolen).
 * -EAGAIN when the port changed meanwhile. */
static int port_update(struct osn_ovsdb *nb, const json_t *row, const char *const *del_ids,
                       json_t *add_ids, const char *const *del_opts, json_t *add_opts,
                       const char *why, int64_t deadline, struct osn_error *err)
{
        const char *uuid = osn_ovsdb_row_uuid(row);
        json_t *del_i = json_array(), *del_o = json_array();
        for (size_t i = 0; del_ids && del_ids[i]; i++)
                json_array_append_new(del_i, json_string(del_ids[i]));
        for (size_t i = 0; del_opts && del_opts[i]; i++)
                json_array_append_new(del_o, json_string(del_opts[i]));
        json_t *muts = json_pack("[[s,s,o],[s,s,o]]", "external_ids", "delete",
                                 osn_ovsdb_set(del_i), "options", "delete", osn_ovsdb_set(del_o));
        if (add_ids)
                json_array_append_new(muts,
                                      json_pack("[s,s,o]", "external_ids", "insert", add_ids));
        if (add_opts)
                json_array_append_new(muts, json_pack("[s,s,o]", "options", "insert", add_opts));
        json_t *ops = json_pack(
            "[o,o,{s:s, s:s, s:o, s:o}]", op_comment("osn: %s", why),
            op_wait("Logical_Switch_Port", where_eq("_uuid", osn_ovsdb_uuid(uuid)), "external_ids",
                    json_pack("[{s:O}]", "external_ids", json_object_get(row, "external_ids"))),
            "op", "mutate", "table", "Logical_Switch_Port", "where",
            where_eq("_uuid", osn_ovsdb_uuid(uuid)), "mutations", muts);
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(nb, OSN_NB_DB, ops, deadline, &res, err);
        if (r == -EAGAIN)
                osn_error_clear(err);
        return r;
}

/* The keys that say who holds an attachment now. */
static const char *const holder_keys[] = {OSN_EXT_CONTAINER,
                                          OSN_EXT_IFNAME,
                                          OSN_EXT_NODE,
                                          OSN_EXT_POD_NS,
                                          OSN_EXT_POD_NAME,
                                          OSN_EXT_POD_UID,
                                          OSN_EXT_NAD,
                                          OSN_EXT_CHASSIS,
                                          OSN_EXT_RESERVATION,
                                          OSN_EXT_RESERVED_AT,
                                          OSN_EXT_MIG_NODE,
                                          OSN_EXT_MIG_CHASSIS,
                                          OSN_EXT_MIG_CONTAINER,
                                          OSN_EXT_MIG_IFNAME,
                                          OSN_EXT_MIG_POD_NS,
                                          OSN_EXT_MIG_POD_NAME,
                                          OSN_EXT_MIG_POD_UID,
                                          OSN_EXT_MIG_SINCE,
                                          NULL};

/* Takes the addresses and MAC of an identity's port as the result. */
static int adopt(struct osn_nb_attach *at, const json_t *own, struct osn_nb_port *ret,
                 struct osn_error *err)
{
        const char *a = osn_nb_port_addresses(own, NULL);
        uint8_t mac[6];
        struct osn_cidr ips[OSN_MAX_STATIC];
        int n = a ? osn_ovn_parse_addresses(a, at->spec->nc, mac, ips, OSN_MAX_STATIC) : -EINVAL;
        if (n < 0)
                return osn_error_set(err, -EPROTO, OSN_CNI_CONFLICT,
                                     "port %s of identity \"%s\" holds no usable addresses "
                                     "(\"%s\"); release it (osnctl release)",
                                     at->spec->port_name, at->spec->identity, a ? a : "");
        if (at->spec->mac_requested && memcmp(mac, at->spec->mac, 6) != 0) {
                char m[OSN_MAC_STRLEN];
                return osn_error_set(err, -EEXIST, OSN_CNI_CONFLICT,
                                     "identity \"%s\" of network \"%s\" holds MAC %s, not the "
                                     "requested one; release it (osnctl release) to change it",
                                     at->spec->identity, at->spec->network,
                                     osn_mac_format(mac, m, sizeof(m)));
        }
        memcpy(at->mac, mac, 6);
        at->n_ips = (size_t)n;
        memcpy(at->ips, ips, (size_t)n * sizeof(ips[0]));
        fill_result(at, osn_ovsdb_row_uuid(own), false, ret);
        return 1;
}

/* Changes the identity's port (port_update(), replacing its chassis
 * options) and takes its addresses as the result: 1, 0 to read again
 * (it changed meanwhile), or an error. */
static int update_and_adopt(struct osn_nb_attach *at, const json_t *own, const char *const *del_ids,
                            json_t *add_ids, json_t *add_opts, const char *why, int64_t deadline,
                            struct osn_nb_port *ret, struct osn_error *err)
{
        int r = port_update(at->nb, own, del_ids, add_ids,
                            (const char *const[]){"requested-chassis", "activation-strategy", NULL},
                            add_opts, why, deadline, err);
        if (r == -EAGAIN)
                return 0;
        return r < 0 ? r : adopt(at, own, ret, err);
}

/* An ADD found its identity's port: bind a reservation here, adopt our own
 * (a retried ADD), become a live migration's target, or refuse.  1 adopted,
 * 0 to read again, or an error. */
static int bind_identity(struct osn_nb_attach *at, const json_t *own, int64_t deadline,
                         struct osn_nb_port *ret, struct osn_error *err)
{
        const struct osn_port_spec *spec = at->spec;
        const json_t *ids = json_object_get(own, "external_ids");
        const char *me = kv_get(spec->port_ids, OSN_EXT_NODE);
        const char *cid = kv_get(spec->port_ids, OSN_EXT_CONTAINER);
        const char *ifname = kv_get(spec->port_ids, OSN_EXT_IFNAME);
        const char *node = osn_ovsdb_map_get(ids, OSN_EXT_NODE);
        const char *holder = osn_ovsdb_map_get(ids, OSN_EXT_CONTAINER);
        const char *mig = osn_ovsdb_map_get(ids, OSN_EXT_MIG_NODE);
        const char *chassis = spec->chassis ? spec->chassis : "";
        int r;

        if (streq(osn_ovsdb_map_get(ids, OSN_EXT_RESERVATION), "true") || !node || !*node) {
                json_t *add = osn_ovsdb_map(spec->port_ids);
                map_add(add, OSN_EXT_CHASSIS, chassis);
                r = update_and_adopt(
                    at, own, holder_keys, add,
                    osn_ovsdb_map((const char *const[]){"requested-chassis", chassis, NULL}),
                    "bind a reserved identity", deadline, ret, err);
                if (r <= 0)
                        return r;
                ret->rebound = true;
                log_info("identity %s of network %s: reservation bound to %s", spec->identity,
                         spec->network, me);
                return 1;
        }
        if (streq(node, me)) {
                if (streq(holder, cid))
                        return adopt(at, own, ret, err); /* a retried ADD */
                return osn_error_set(
                    err, -EEXIST, OSN_CNI_CONFLICT,
                    "identity \"%s\" of network \"%s\" is already attached on node %s by pod "
                    "%s/%s (container %s); one identity is attached once per node (a live "
                    "migration's target runs on another node)",
                    spec->identity, spec->network, node,
                    osn_ovsdb_map_get(ids, OSN_EXT_POD_NS) ?: "?",
                    osn_ovsdb_map_get(ids, OSN_EXT_POD_NAME) ?: "?", holder ? holder : "?");
        }
        if (mig && *mig) {
                if (streq(mig, me) && streq(osn_ovsdb_map_get(ids, OSN_EXT_MIG_CONTAINER), cid)) {
                        if ((r = adopt(at, own, ret, err)) > 0)
                                ret->migration = true; /* a retried target ADD */
                        return r;
                }
                return osn_error_set(err, -EBUSY, OSN_CNI_CONFLICT,
                                     "identity \"%s\" of network \"%s\" is migrating from node "
                                     "%s to node %s already; one migration at a time",
                                     spec->identity, spec->network, node, mig);
        }
        /* Bound and live on another node: this ADD is a live migration's
         * target.  The port gets both chassis; the target's traffic flows
         * once it announces itself with RARP (QEMU does, after the
         * switch-over); the source's DEL then hands the port over. */
        const char *src = osn_ovsdb_map_get(ids, OSN_EXT_CHASSIS);
        _cleanup_free_ char *both = NULL;
        if (asprintf(&both, "%s,%s", src && *src ? src : node, chassis) < 0)
                return -ENOMEM;
        char since[32];
        snprintf(since, sizeof(since), "%lld", (long long)time(NULL));
        const char *pod_ns = kv_get(spec->port_ids, OSN_EXT_POD_NS);
        const char *pod_name = kv_get(spec->port_ids, OSN_EXT_POD_NAME);
        const char *pod_uid = kv_get(spec->port_ids, OSN_EXT_POD_UID);
        const char *add_kv[] = {OSN_EXT_MIG_NODE,
                                me,
                                OSN_EXT_MIG_CHASSIS,
                                chassis,
                                OSN_EXT_MIG_CONTAINER,
                                cid,
                                OSN_EXT_MIG_IFNAME,
                                ifname,
                                OSN_EXT_MIG_SINCE,
                                since,
                                OSN_EXT_MIG_POD_NS,
                                pod_ns ? pod_ns : "",
                                OSN_EXT_MIG_POD_NAME,
                                pod_name ? pod_name : "",
                                OSN_EXT_MIG_POD_UID,
                                pod_uid ? pod_uid : "",
                                NULL};
        r = update_and_adopt(at, own, NULL, osn_ovsdb_map(add_kv),
                             osn_ovsdb_map((const char *const[]){
                                 "requested-chassis", both, "activation-strategy", "rarp", NULL}),
                             "live migration target", deadline, ret, err);
        if (r <= 0)
                return r;
        ret->migration = true;
        log_info("identity %s of network %s: migrating from %s to %s (requested-chassis=%s, "
                 "activation-strategy=rarp)",
                 spec->identity, spec->network, node, me, both);
        return 1;
}

int osn_nb_release_identity(struct osn_ovsdb *nb, const char *network, const char *port_name,
                            const char *node, const char *cid, int64_t deadline,
                            struct osn_error *err)
{
        static const char *const mig_keys[] = {
            OSN_EXT_MIG_NODE,    OSN_EXT_MIG_CHASSIS, OSN_EXT_MIG_CONTAINER,
            OSN_EXT_MIG_IFNAME,  OSN_EXT_MIG_POD_NS,  OSN_EXT_MIG_POD_NAME,
            OSN_EXT_MIG_POD_UID, OSN_EXT_MIG_SINCE,   NULL};
        static const char *const ha_opts[] = {"requested-chassis", "activation-strategy", NULL};
        for (int attempt = 0; attempt < MAX_GUARD_RETRIES; attempt++) {
                _cleanup_json_ json_t *row = NULL;
                int r = osn_nb_get_port(nb, port_name, deadline, &row, err);
                if (r < 0)
                        return r;
                if (!row)
                        return 0;
                const json_t *ids = json_object_get(row, "external_ids");
                if (!streq(osn_ovsdb_map_get(ids, OSN_EXT_NETWORK), network))
                        return osn_error_set(err, -EPERM, OSN_CNI_CONFLICT,
                                             "logical switch port \"%s\" was not created by "
                                             "osn; left alone",
                                             port_name);
                const char *holder_node = osn_ovsdb_map_get(ids, OSN_EXT_NODE);
                const char *holder = osn_ovsdb_map_get(ids, OSN_EXT_CONTAINER);
                const char *mig = osn_ovsdb_map_get(ids, OSN_EXT_MIG_NODE);
                const char *mig_cid = osn_ovsdb_map_get(ids, OSN_EXT_MIG_CONTAINER);
                const char *src_chassis = osn_ovsdb_map_get(ids, OSN_EXT_CHASSIS);
                const char *dst_chassis = osn_ovsdb_map_get(ids, OSN_EXT_MIG_CHASSIS);
                const char *why;
                if (streq(mig, node) && streq(mig_cid, cid)) {
                        /* The target's DEL first: a failed migration.  The
                         * port stays on the source alone. */
                        why = "failed live migration: back to the source";
                        r = port_update(
                            nb, row, mig_keys, NULL, ha_opts,
                            osn_ovsdb_map((const char *const[]){
                                "requested-chassis", src_chassis ? src_chassis : "", NULL}),
                            why, deadline, err);
                } else if (streq(holder_node, node) && streq(holder, cid) && mig && *mig) {
                        /* The source's DEL after the switch-over: the target
                         * holds the port from now on. */
                        why = "live migration done: the target holds the port";
                        /* The target's pod too (a migration an older osn
                         * began names none: then no pod, rather than the
                         * source's). */
                        const char *tns = osn_ovsdb_map_get(ids, OSN_EXT_MIG_POD_NS);
                        const char *tname = osn_ovsdb_map_get(ids, OSN_EXT_MIG_POD_NAME);
                        const char *tuid = osn_ovsdb_map_get(ids, OSN_EXT_MIG_POD_UID);
                        const char *add_kv[] = {OSN_EXT_NODE,
                                                mig,
                                                OSN_EXT_CHASSIS,
                                                dst_chassis ? dst_chassis : "",
                                                OSN_EXT_CONTAINER,
                                                mig_cid ? mig_cid : "",
                                                OSN_EXT_IFNAME,
                                                osn_ovsdb_map_get(ids, OSN_EXT_MIG_IFNAME) ?: "",
                                                tns ? OSN_EXT_POD_NS : NULL,
                                                tns,
                                                OSN_EXT_POD_NAME,
                                                tname ? tname : "",
                                                OSN_EXT_POD_UID,
                                                tuid ? tuid : "",
                                                NULL};
                        static const char *const moved[] = {
                            OSN_EXT_NODE,          OSN_EXT_CHASSIS,
                            OSN_EXT_CONTAINER,     OSN_EXT_IFNAME,
                            OSN_EXT_MIG_NODE,      OSN_EXT_MIG_CHASSIS,
                            OSN_EXT_MIG_CONTAINER, OSN_EXT_MIG_IFNAME,
                            OSN_EXT_POD_NS,        OSN_EXT_POD_NAME,
                            OSN_EXT_POD_UID,       OSN_EXT_MIG_POD_NS,
                            OSN_EXT_MIG_POD_NAME,  OSN_EXT_MIG_POD_UID,
                            OSN_EXT_MIG_SINCE,     NULL};
                        r = port_update(
                            nb, row, moved, osn_ovsdb_map(add_kv), ha_opts,
                            osn_ovsdb_map((const char *const[]){
                                "requested-chassis", dst_chassis ? dst_chassis : "", NULL}),
                            why, deadline, err);
                } else if (streq(holder_node, node) && streq(holder, cid)) {
                        /* The last DEL of a persistent attachment: the port
                         * (MAC and addresses) stays for its identity. */
                        why = "keep a persistent identity as a reservation";
                        char now[32];
                        snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
                        const char *add_kv[] = {OSN_EXT_RESERVATION,
                                                "true",
                                                OSN_EXT_RESERVED_AT,
                                                now,
                                                OSN_EXT_LAST_NODE,
                                                node,
                                                NULL};
                        static const char *const gone[] = {OSN_EXT_NODE,
                                                           OSN_EXT_CHASSIS,
                                                           OSN_EXT_CONTAINER,
                                                           OSN_EXT_IFNAME,
                                                           OSN_EXT_POD_UID,
                                                           OSN_EXT_LAST_NODE,
                                                           NULL};
                        r = port_update(nb, row, gone, osn_ovsdb_map(add_kv), ha_opts, NULL, why,
                                        deadline, err);
                } else {
                        return 0; /* somebody else's now: nothing of ours is left */
                }
                if (r == -EAGAIN)
                        continue;
                if (r == 0)
                        log_info("DEL %s: port %s: %s", network, port_name, why);
                return r < 0 ? r : 1;
        }
        return osn_error_set(err, -EAGAIN, OSN_CNI_TRY_AGAIN_LATER,
                             "network \"%s\": port %s kept changing under %d attempts to release "
                             "it; try again",
                             network, port_name, MAX_GUARD_RETRIES);
}

/* --- tenancy (tenancy.h; ovn.h, "Tenancy") --- */

/* Whether 'item' is in the comma-separated 'list' ("*" holds everything). */
static bool list_has(const char *list, const char *item)
{
        if (!list)
                return false;
        if (streq(list, "*"))
                return true;
        size_t n = strlen(item);
        for (const char *p = list; p && *p;) {
                const char *c = strchr(p, ',');
                size_t len = c ? (size_t)(c - p) : strlen(p);
                if (len == n && strncmp(p, item, n) == 0)
                        return true;
                p = c ? c + 1 : NULL;
        }
        return false;
}

/* Whether every item of 'sub' is in 'list'. */
static bool list_within(const char *sub, const char *list)
{
        char item[OSN_NAMESPACE_MAX + 2];
        for (const char *p = sub; p && *p;) {
                const char *c = strchr(p, ',');
                size_t len = c ? (size_t)(c - p) : strlen(p);
                if (len >= sizeof(item))
                        return false;
                memcpy(item, p, len);
                item[len] = 0;
                if (!list_has(list, item))
                        return false;
                p = c ? c + 1 : NULL;
        }
        return true;
}

/* The namespaces that hold ports on a network made before tenancy, as
 * "a,b" (sorted, unique; "_none" for ports without a namespace), written
 * into the switch's external_ids in one transaction guarded by its ports,
 * so that it never changes afterwards.  -EAGAIN: the ports changed. */
static int legacy_holders(struct osn_nb_attach *at, const json_t *sw, char *buf, size_t len,
                          int64_t deadline, struct osn_error *err)
{
        const char *have =
            osn_ovsdb_map_get(json_object_get(sw, "external_ids"), OSN_EXT_NAMESPACES);
        if (have) {
                snprintf(buf, len, "%s", have);
                return 0;
        }
        const char *name = at->spec->ten->name;
        _cleanup_json_ json_t *rows = NULL;
        int r = read_network_ports(at->nb, name, deadline, &rows, err);
        if (r < 0)
                return r;
        const char *list[256];
        size_t n = 0, i, dropped = 0;
        json_t *row;
        json_array_foreach(rows, i, row)
        {
                const json_t *ids = json_object_get(row, "external_ids");
                if (!osn_ovsdb_map_get(ids, OSN_EXT_CONTAINER) &&
                    !osn_ovsdb_map_get(ids, OSN_EXT_IDENTITY))
                        continue; /* the localnet port, spares */
                const char *ns = osn_ovsdb_map_get(ids, OSN_EXT_POD_NS);
                if (!ns || !*ns)
                        ns = OSN_SCOPE_NONE_S;
                size_t k = 0;
                while (k < n && !streq(list[k], ns))
                        k++;
                if (k == n && n < ARRAY_SIZE(list))
                        list[n++] = ns;
                else if (k == n)
                        dropped++;
        }
        for (size_t a = 1; a < n; a++) /* insertion sort: a few namespaces */
                for (size_t b = a; b > 0 && strcmp(list[b - 1], list[b]) > 0; b--) {
                        const char *x = list[b];
                        list[b] = list[b - 1], list[b - 1] = x;
                }
        buf[0] = 0;
        for (size_t k = 0; k < n; k++) {
                if (strlen(buf) + strlen(list[k]) + 2 >= len) {
                        dropped++;
                        continue;
                }
                if (buf[0])
                        strcat(buf, ",");
                strcat(buf, list[k]);
        }
        /* Safe either way: a namespace left out keeps the pods it has there
         * and gets a network of its own for new ones. */
        if (dropped)
                log_warn("network %s (made before tenancy): %zu namespace(s) beyond the first "
                         "%zu do not fit in its record; their new pods get networks of their own",
                         name, dropped, n);
        if (n == 0)
                return 0; /* nobody to keep connected: the switch is only spares */
        json_t *where = where_eq("_uuid", osn_ovsdb_uuid(osn_ovsdb_row_uuid(sw)));
        const char *kv[] = {OSN_EXT_NAMESPACES, buf, NULL};
        json_t *ops = json_pack(
            "[o,o,{s:s, s:s, s:o, s:[[s,s,o]]}]",
            op_comment("osn: network %s made before tenancy: its holders %s keep it", name, buf),
            op_wait("Logical_Switch", json_deep_copy(where), "ports",
                    json_pack("[{s:O}]", "ports", json_object_get(sw, "ports"))),
            "op", "mutate", "table", "Logical_Switch", "where", where, "mutations", "external_ids",
            "insert", osn_ovsdb_map(kv));
        _cleanup_json_ json_t *res = NULL;
        if ((r = osn_ovsdb_transact(at->nb, OSN_NB_DB, ops, deadline, &res, err)) < 0)
                return r;
        log_info("network %s (made before tenancy) is kept by namespace(s) %s", name, buf);
        return 0;
}

/* Before a network is created under its key: may it be?  0: create it;
 * -EXDEV: this attachment belongs on the network of its name that an osn
 * before tenancy made (its namespace held pods there): to_legacy(); -EAGAIN: look again; an error
 * when a node config disagrees about a cluster network (creating would split or merge it). */
static int before_create(struct osn_nb_attach *at, int64_t deadline, struct osn_error *err)
{
        const struct osn_tenancy *t = at->spec->ten;
        if (t->scope == OSN_SCOPE_LEGACY)
                return -EXDEV; /* it emptied meanwhile: back to the network's own key */
        _cleanup_free_ char *legacy_name = osn_switch_name(t->name);
        if (!legacy_name)
                return -ENOMEM;
        static const char *const cols[] = {"_uuid", "name", "ports", "external_ids", NULL};
        json_t *ops = json_pack(
            "[o,o]",
            osn_ovsdb_op_select("Logical_Switch", where_eq("name", json_string(legacy_name)), cols),
            osn_ovsdb_op_select("Logical_Switch", ids_include(OSN_EXT_NAME, t->name), cols));
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(at->nb, OSN_NB_DB, ops, deadline, &res, err);
        if (r < 0)
                return r;
        size_t i;
        json_t *sw;
        char d[OSN_NAMESPACES_MAX + OSN_NAME_MAX + 128];
        json_array_foreach(osn_ovsdb_result_rows(res, 1), i, sw)
        {
                const json_t *ids = json_object_get(sw, "external_ids");
                const char *scope = osn_ovsdb_map_get(ids, OSN_EXT_SCOPE);
                if (streq(osn_ovsdb_map_get(ids, OSN_EXT_L3_NETWORK), at->spec->network)) {
                        const char *fp = osn_ovsdb_map_get(ids, OSN_EXT_FINGERPRINT);
                        return osn_error_set(err, -EEXIST, OSN_CNI_CONFLICT,
                                             "network \"%s\" exists with other settings: it has "
                                             "\"%s\" (a layer3 network, layer3.h), this NAD asks "
                                             "for \"%s\"; make the NADs agree",
                                             at->spec->network, fp ? fp : "",
                                             at->spec->fingerprint);
                }
                const char *nss = osn_ovsdb_map_get(ids, OSN_EXT_NAMESPACES);
                const char *ns = osn_ovsdb_map_get(ids, OSN_EXT_NAMESPACE);
                if (t->scope == OSN_SCOPE_NAMESPACE && streq(scope, "cluster") &&
                    list_has(nss, t->namespace))
                        return osn_error_set(
                            err, -EEXIST, OSN_CNI_CONFLICT,
                            "network \"%s\" of %s: the cluster network \"%s\" of namespaces %.200s "
                            "exists (a node whose node config key \"cluster_networks\" grants it "
                            "made it), but this node's config %s does not grant it to %s; make "
                            "\"cluster_networks\" the same on every node",
                            t->name, osn_tenancy_describe(t, d, sizeof(d)), t->name, nss,
                            at->spec->node_config, t->namespace);
                if (t->scope == OSN_SCOPE_CLUSTER && streq(scope, "namespace") && ns &&
                    list_has(t->namespaces, ns))
                        return osn_error_set(
                            err, -EEXIST, OSN_CNI_CONFLICT,
                            "cluster network \"%s\" (node config %s, key \"cluster_networks\": "
                            "namespaces %.200s) cannot be made: namespace %s has a network \"%s\" "
                            "of its own, made by a node whose \"cluster_networks\" does not grant "
                            "it; make \"cluster_networks\" the same on every node, and let the "
                            "pods of %s on it go first",
                            t->name, at->spec->node_config, t->namespaces, ns, t->name, ns);
        }
        sw = json_array_get(osn_ovsdb_result_rows(res, 0), 0);
        const json_t *ids = sw ? json_object_get(sw, "external_ids") : NULL;
        if (!sw || osn_ovsdb_map_get(ids, OSN_EXT_SCOPE) ||
            !streq(osn_ovsdb_map_get(ids, OSN_EXT_NETWORK), t->name))
                return 0; /* no network of this name from before tenancy */
        char holders[OSN_NAMESPACES_MAX];
        if ((r = legacy_holders(at, sw, holders, sizeof(holders), deadline, err)) < 0)
                return r;
        if (!holders[0])
                return 0;
        if (t->scope != OSN_SCOPE_CLUSTER)
                return list_has(holders, osn_tenancy_holder(t)) ? -EXDEV : 0;
        /* The admin declared the name a cluster network: its holders' pods
         * join them when the grant covers every holder. */
        if (list_within(holders, t->namespaces))
                return -EXDEV;
        for (const char *p = holders; p && *p;) {
                const char *c = strchr(p, ',');
                size_t len = c ? (size_t)(c - p) : strlen(p);
                char item[OSN_NAMESPACE_MAX + 2];
                snprintf(item, sizeof(item), "%.*s", (int)(len < sizeof(item) ? len : 0), p);
                if (list_has(t->namespaces, item))
                        return osn_error_set(
                            err, -EEXIST, OSN_CNI_CONFLICT,
                            "cluster network \"%s\" (node config %s, key \"cluster_networks\": "
                            "namespaces %.200s) overlaps the network \"%s\" made before tenancy, "
                            "which namespaces %.200s share: grant all of them, or none, until it "
                            "empties",
                            t->name, at->spec->node_config, t->namespaces, t->name, holders);
                p = c ? c + 1 : NULL;
        }
        return 0;
}

/* The attachment goes on the network of its name that an osn before
 * tenancy made (before_create() said -EXDEV): the same request, on that
 * network's switch, with that network's claims.  Its port keeps its name
 * (the veth and OVS port are made for it), but an identity's port is the
 * one its VM holds there.  No pool: its spares are that network's. */
static int to_legacy(struct osn_nb_attach *at)
{
        const struct osn_port_spec *own = at->own_spec;
        osn_tenancy_legacy(own->ten, &at->legacy);
        size_t n = 0;
        while (own->port_ids && own->port_ids[n])
                n++;
        free(at->legacy_ids);
        if (!(at->legacy_ids = calloc(n + 1, sizeof(char *))))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                at->legacy_ids[i] = i % 2 && streq(own->port_ids[i - 1], OSN_EXT_NETWORK)
                                        ? at->legacy.network
                                        : own->port_ids[i];
        at->legacy_spec = *own;
        at->legacy_spec.ten = &at->legacy;
        at->legacy_spec.network = at->legacy.network;
        at->legacy_spec.port_ids = at->legacy_ids;
        if (own->identity) {
                _cleanup_free_ char *name =
                    osn_identity_port_name(at->legacy.network, own->identity);
                if (!name)
                        return -ENOMEM;
                if (strlen(name) >= sizeof(at->legacy_port))
                        return -ENAMETOOLONG;
                memcpy(at->legacy_port, name, strlen(name) + 1);
                at->legacy_spec.port_name = at->legacy_port;
                memcpy(at->port_name, name, strlen(name) + 1);
        }
        at->spec = &at->legacy_spec;
        at->pool = false;
        at->mode = ATTACH_JOIN;
        log_info("%s joins network %s, made before tenancy, which namespace %s holds pods on",
                 at->port_name, at->legacy.network, osn_tenancy_holder(&at->legacy));
        return switch_names(at);
}

/* ... and back to its own network when that one emptied meanwhile. */
static int to_own(struct osn_nb_attach *at)
{
        at->spec = at->own_spec;
        snprintf(at->port_name, sizeof(at->port_name), "%s", at->spec->port_name);
        at->mode = ATTACH_JOIN;
        return switch_names(at);
}
/* The switch guard did not hold (or the port name exists): read the network
 * and decide how to attach.  1 when the port is already there and adopted
 * into 'ret' (a retried ADD), 0 to try again with at->mode set. */
static int reconsider(struct osn_nb_attach *at, int64_t deadline, struct osn_nb_port *ret,
                      struct osn_error *err)
{
        static const char *const sw_cols[] = {"_uuid", "external_ids", NULL};
        static const char *const port_cols[] = {"_uuid",        "addresses", "dynamic_addresses",
                                                "external_ids", "options",   NULL};
        static const char *const ln_cols[] = {"_uuid", NULL};
        const struct osn_port_spec *spec = at->spec;
        const struct osn_netconf *nc = spec->nc;
        json_t *ops =
            select_network(at->sw_name, spec->port_name, at->ln_name, sw_cols, port_cols, ln_cols);
        json_array_append_new(ops, osn_ovsdb_op_select("DHCP_Options",
                                                       ids_include(OSN_EXT_NETWORK, spec->network),
                                                       (const char *const[]){"_uuid", NULL}));
        json_array_append_new(ops, server_port_select(spec->network));
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(at->nb, OSN_NB_DB, ops, deadline, &res, err);
        if (r < 0)
                return r;
        at->dhcp_exists = json_array_size(osn_ovsdb_result_rows(res, 3)) > 0;
        bool server_exists = json_array_size(osn_ovsdb_result_rows(res, 4)) > 0;
        json_t *sws = osn_ovsdb_result_rows(res, 0);
        json_t *own = json_array_get(osn_ovsdb_result_rows(res, 1), 0);
        const char *ln_uuid = osn_ovsdb_row_uuid(json_array_get(osn_ovsdb_result_rows(res, 2), 0));
        if (json_array_size(sws) > 1)
                return osn_error_set(err, -ENOTUNIQ, OSN_CNI_CONFLICT,
                                     "%zu logical switches are named \"%s\"; osn expects one "
                                     "(remove the extra ones)",
                                     json_array_size(sws), at->sw_name);
        json_t *sw = json_array_get(sws, 0);
        if (!sw) {
                if (own) {
                        /* An orphan of an earlier try: remove it first. */
                        r = osn_nb_remove_port(at->nb, spec->network, spec->port_name, deadline,
                                               err);
                        return r < 0 ? r : 0;
                }
                if (spec->no_create)
                        return osn_error_set(err, -EAGAIN, OSN_CNI_TRY_AGAIN_LATER,
                                             "logical switch \"%s\" went away meanwhile (the "
                                             "node's last pod of the network was deleted); try "
                                             "again",
                                             at->sw_name);
                if ((r = before_create(at, deadline, err)) == -EAGAIN)
                        return osn_error_clear(err), 0;
                if (r == -EXDEV)
                        return spec->ten->scope == OSN_SCOPE_LEGACY ? to_own(at) : to_legacy(at);
                if (r < 0)
                        return r;
                at->mode = ATTACH_CREATE;
                return 0;
        }
        const json_t *ids = json_object_get(sw, "external_ids");
        if (!streq(osn_ovsdb_map_get(ids, OSN_EXT_NETWORK), spec->network))
                return osn_error_set(err, -EEXIST, OSN_CNI_CONFLICT,
                                     "logical switch \"%s\" exists but was not created by osn (no "
                                     "external_ids:%s=%s); osn leaves it alone",
                                     at->sw_name, OSN_EXT_NETWORK, spec->network);
        if (spec->ten->scope != OSN_SCOPE_LEGACY && !osn_ovsdb_map_get(ids, OSN_EXT_SCOPE)) {
                /* Only a network name with "/" from before tenancy can look
                 * like a namespace's network: never merge them. */
                char d[OSN_NAMESPACES_MAX + OSN_NAME_MAX + 128];
                return osn_error_set(err, -EEXIST, OSN_CNI_CONFLICT,
                                     "logical switch \"%s\" is the network \"%s\" that an osn "
                                     "before tenancy made, not the network \"%s\" of %s; give the "
                                     "NAD another name",
                                     at->sw_name, spec->network, spec->ten->name,
                                     osn_tenancy_describe(spec->ten, d, sizeof(d)));
        }
        const char *fp = osn_ovsdb_map_get(ids, OSN_EXT_FINGERPRINT);
        bool same = streq(fp, spec->fingerprint);
        const char *nss = osn_ovsdb_map_get(ids, OSN_EXT_NAMESPACES);
        if (spec->ten->scope == OSN_SCOPE_CLUSTER && !streq(nss, spec->ten->namespaces))
                return osn_error_set(err, -EEXIST, OSN_CNI_CONFLICT,
                                     "cluster network \"%s\" exists for namespaces %.200s, but "
                                     "this node's config %s (key \"cluster_networks\") grants it "
                                     "to %.200s; make \"cluster_networks\" the same on every node",
                                     spec->ten->name, nss ? nss : "(none)", spec->node_config,
                                     spec->ten->namespaces);
        if (same && own && spec->identity)
                return bind_identity(at, own, deadline, ret, err);
        if (same && own) {
                /* A retried ADD: our port is there already.  Keep it when it
                 * holds what this request asks for; else replace it. */
                bool dynamic;
                const char *a = osn_nb_port_addresses(own, &dynamic);
                uint8_t mac[6];
                struct osn_cidr ips[OSN_MAX_STATIC];
                int n = a && !dynamic ? osn_ovn_parse_addresses(a, nc, mac, ips, OSN_MAX_STATIC)
                                      : -EINVAL;
                bool keep = n >= 0 && (!spec->mac_requested || memcmp(mac, spec->mac, 6) == 0);
                for (size_t i = 0; keep && i < spec->n_static_ips; i++) {
                        bool found = false;
                        for (int k = 0; k < n; k++)
                                found |= osn_addr_equal(&ips[k], &spec->static_ips[i]);
                        keep = found && (size_t)n == spec->n_static_ips;
                }
                if (keep && spec->n_static_ips == 0 && (size_t)n != spec->alloc->n_subnets)
                        keep = false;
                if (keep) {
                        memcpy(at->mac, mac, 6);
                        at->n_ips = (size_t)n;
                        memcpy(at->ips, ips, (size_t)n * sizeof(ips[0]));
                        fill_result(at, osn_ovsdb_row_uuid(own), false, ret);
                        return 1;
                }
                log_info("replacing port %s of an earlier ADD (it holds \"%s\")", spec->port_name,
                         a ? a : "");
                r = osn_nb_remove_port(at->nb, spec->network, spec->port_name, deadline, err);
                return r < 0 ? r : 0;
        }
        if (!same && spec->no_create)
                return osn_error_set(err, -EEXIST, OSN_CNI_CONFLICT,
                                     "logical switch \"%s\" has other settings (\"%s\") than "
                                     "this NAD (\"%s\"); make the NADs agree",
                                     at->sw_name, fp ? fp : "", spec->fingerprint);
        if (!same) {
                if ((r = read_switch_ports(at->nb, sw, deadline, err)) == -EAGAIN)
                        return 0;
                if (r < 0)
                        return r;
                size_t attached = attachment_count(sw, ln_uuid);
                if (attached > 1 || (attached == 1 && !own))
                        return osn_error_set(
                            err, -EEXIST, OSN_CNI_CONFLICT,
                            "network \"%s\" already exists with other settings and %zu "
                            "attachment(s): existing {%s}, this config {%s}; every NAD that "
                            "names a network must carry the same settings, and a network's "
                            "settings change only when no pod is attached",
                            spec->network, attached, fp ? fp : "", spec->fingerprint);
                /* No attachment but ours (from an earlier try): replace the
                 * switch with one of the new settings. */
                r = osn_nb_delete_switch_if(
                    at->nb, spec->network, osn_ovsdb_row_uuid(sw), json_object_get(sw, "ports"),
                    json_object_get(sw, "external_ids"),
                    "re-create with new settings, no attachments", deadline, err);
                if (r == -EAGAIN) {
                        osn_error_clear(err);
                        r = 0;
                }
                return r < 0 ? r : 0;
        }
        at->mode = ATTACH_JOIN;
        if (!server_exists && server_port_guard_needed(at)) {
                /* A network an older osn made: its DHCP server gets its
                 * port, if the server is osn's (its DHCP_Options are
                 * there); else the JOIN does not ask for one. */
                if (!at->dhcp_exists)
                        at->no_server_guard = true;
                else if ((r = add_server_port(at->nb, spec, osn_ovsdb_row_uuid(sw), deadline,
                                              err)) < 0)
                        return r;
        }
        if (!streq(osn_ovsdb_map_get(ids, OSN_EXT_IPAM), OSN_IPAM_CLAIMS))
                return migrate_network(at, sw, deadline, err);
        return 0;
}

/* A claim guard did not hold: whose is it? */
static int claim_lost(struct osn_nb_attach *at, size_t k, int64_t deadline, struct osn_nb_port *ret,
                      struct osn_error *err)
{
        const struct osn_port_spec *spec = at->spec;
        _cleanup_json_ json_t *holder = NULL;
        int r = read_claim_holder(at, at->claims[k], deadline, &holder, err);
        if (r < 0)
                return r;
        if (!holder)
                return 0; /* freed meanwhile: the same again */
        if (streq(json_string_value(json_object_get(holder, "name")), spec->port_name))
                return reconsider(at, deadline, ret, err); /* our own, from an earlier try */
        char who[512], b[OSN_CIDR_STRLEN];
        describe_holder(holder, who, sizeof(who));
        bool is_mac = k == at->n_claims - 1;
        bool wanted = is_mac ? spec->mac_requested || mac_subnet(at) < 0 : at->ip_subnet[k] < 0;
        if (wanted &&
            streq(osn_ovsdb_map_get(json_object_get(holder, "external_ids"), OSN_EXT_SPARE),
                  "true"))
                return evict_spare(at, osn_ovsdb_row_uuid(holder), deadline, err); /* requested */
        if (is_mac && spec->mac_requested)
                return osn_error_set(err, -EADDRINUSE, OSN_CNI_CONFLICT,
                                     "MAC %s requested for network \"%s\" is already used by %s",
                                     at->claims[k] + strlen(OSN_EXT_CLAIM_MAC), spec->network, who);
        if (!is_mac && at->ip_subnet[k] < 0)
                return osn_error_set(err, -EADDRINUSE, OSN_CNI_CONFLICT,
                                     "IP %s requested for network \"%s\" is already taken by %s",
                                     osn_addr_format(&at->ips[k], b, sizeof(b)), spec->network,
                                     who);
        if (is_mac && mac_subnet(at) < 0)
                return osn_error_set(err, -EADDRINUSE, OSN_CNI_CONFLICT,
                                     "the MAC %s that osn derives for port %s is already used by "
                                     "%s on network \"%s\"; request another MAC",
                                     at->claims[k] + strlen(OSN_EXT_CLAIM_MAC), spec->port_name,
                                     who, spec->network);
        log_debug("%s: %s is held by %s; trying another address", spec->port_name, at->claims[k],
                  who);
        return next_candidate(at, is_mac ? mac_subnet(at) : at->ip_subnet[k], deadline, err);
}

/* An OVSDB error as a tenant reads it: what osn was doing, with the
 * server's words (a "constraint violation", say) kept as details. */
static int attach_error(const struct osn_nb_attach *at, int r, struct osn_error *err)
{
        if (!err || err->code != OSN_CNI_OVSDB_ERROR)
                return r;
        char raw[sizeof(err->msg)], det[sizeof(err->details)];
        snprintf(raw, sizeof(raw), "%s", err->msg);
        snprintf(det, sizeof(det), "%s", err->details);
        osn_error_clear(err);
        osn_error_set(err, r, OSN_CNI_OVSDB_ERROR,
                      "the OVN NB DB refused to attach port %s to network \"%s\"; osn did not "
                      "expect this: see the details, and report it",
                      at->spec->port_name, at->spec->network);
        osn_error_details(err, "(OVSDB: %s%s%s)", raw, det[0] ? "; " : "", det);
        return r;
}

int osn_nb_attach_finish(struct osn_nb_attach *at, int64_t deadline, struct osn_nb_port *ret,
                         struct osn_error *err)
{
        const struct osn_port_spec *spec = at->spec;
        for (int tries = 0; tries < MAX_ATTACH_TRIES; tries++) {
                int r = 0;
                if (!at->in_flight) {
                        r = at->mode == ATTACH_CLAIM || at->mode == ATTACH_HELD
                                ? 0
                                : choose_addresses(at, err);
                        if (r == -ENOSPC) {
                                for (size_t s = 0; s < spec->alloc->n_subnets; s++) {
                                        struct osn_cidr c;
                                        if (at->near_full[s]
                                                ? osn_alloc_pick_free(spec->alloc, s, at->seed,
                                                                      at->used, at->n_used, &c) < 0
                                                : osn_alloc_candidate(spec->alloc, s, at->seed, 0,
                                                                      &c) < 0) {
                                                /* Spares do not keep a pod out. */
                                                if ((r = evict_for_full(at, deadline, err)) < 0)
                                                        return r;
                                                if (r == 0)
                                                        return subnet_full(at, s, err);
                                                at->near_full[s] = true;
                                                break;
                                        }
                                }
                                if (r == 1)
                                        continue;
                        }
                        if (r < 0 || (r = send_attach(at, err)) < 0)
                                return r;
                }
                _cleanup_json_ json_t *res = NULL;
                at->in_flight = false;
                r = osn_ovsdb_transact_finish(at->nb, OSN_NB_DB, at->ops, at->id, deadline, &res,
                                              err);
                if (r == 0 && at->mode == ATTACH_CLAIM) {
                        claimed_key_gone(at);
                        fill_result(at, at->spares[at->claim].uuid, true, ret);
                        if (!at->refill_in_flight)
                                refill_start(at);
                        return 0;
                }
                if (r == 0 && at->mode == ATTACH_HELD) {
                        char uuid[37];
                        bool spare = osn_is_spare_port(spec->network, at->port_name, uuid);
                        fill_result(at, spare ? uuid : NULL, false, ret);
                        ret->pooled = spare;
                        return 0;
                }
                if (r == 0) {
                        const json_t *u = json_object_get(
                            json_array_get(res, (size_t)at->idx.insert_port), "uuid");
                        fill_result(at, json_string_value(json_array_get(u, 1)), true, ret);
                        if (at->pool)
                                held_added(at);
                        refill_start(at);
                        return 0;
                }
                if (r == -EAGAIN && at->mode == ATTACH_HELD &&
                    (err ? err->failed_op : -1) == at->idx.held_guard) {
                        osn_error_clear(err);
                        if ((r = held_gone(at, deadline, err)) < 0)
                                return r;
                        continue;
                }
                if (r == -EAGAIN && at->mode == ATTACH_CLAIM &&
                    (err ? err->failed_op : -1) == at->idx.spare_guard) {
                        osn_error_clear(err);
                        if ((r = spare_lost(at, deadline, err)) < 0)
                                return r;
                        continue;
                }
                int op = err ? err->failed_op : -1;
                if (r == -EAGAIN && (op == at->idx.switch_guard || op == at->idx.server_guard)) {
                        osn_error_clear(err);
                        r = reconsider(at, deadline, ret, err);
                } else if (r == -EAGAIN) {
                        size_t k = 0;
                        while (k < at->idx.n_claims && at->idx.claim[k] != op)
                                k++;
                        if (k == at->idx.n_claims)
                                return attach_error(at, r, err);
                        osn_error_clear(err);
                        r = claim_lost(at, k, deadline, ret, err);
                } else if (r == -EEXIST) {
                        /* The port's name exists: an earlier try of this ADD. */
                        osn_error_clear(err);
                        r = reconsider(at, deadline, ret, err);
                } else {
                        return attach_error(at, r, err);
                }
                if (r != 0)
                        return r < 0 ? r : 0; /* 1: adopted into 'ret' */
        }
        return osn_error_set(err, -EAGAIN, OSN_CNI_TRY_AGAIN_LATER,
                             "network \"%s\": the NB DB kept changing under %d attempts to attach "
                             "%s; try again",
                             at->spec->network, MAX_ATTACH_TRIES, at->port_name);
}

int osn_nb_delete_switch_if(struct osn_ovsdb *nb, const char *network, const char *switch_uuid,
                            const json_t *ports, const json_t *external_ids, const char *why,
                            int64_t deadline, struct osn_error *err)
{
        json_t *where = where_eq("_uuid", osn_ovsdb_uuid(switch_uuid));
        json_t *ops = json_pack("[o,o]", op_comment("osn: delete network (%s)", why),
                                op_wait("Logical_Switch", json_deep_copy(where), "ports",
                                        json_pack("[{s:O}]", "ports", ports)));
        if (!ops)
                return json_decref(where), -ENOMEM;
        if (external_ids)
                append(ops, op_wait("Logical_Switch", json_deep_copy(where), "external_ids",
                                    json_pack("[{s:O}]", "external_ids", external_ids)));
        int del = append(ops, json_pack("{s:s, s:s, s:o}", "op", "delete", "table",
                                        "Logical_Switch", "where", where));
        /* Its DHCP server goes with it (DHCP_Options is a root table), and
         * a layer3 node's router port. */
        if (network)
                append_dhcp_delete(ops, network);
        if (external_ids && osn_layer3_router_lsp_uuid(external_ids, (char[37]){0})) {
                /* layer3.h builds with txn.h: its operations join these. */
                _cleanup_txn_ struct osn_txn *rel = osn_txn_new(OSN_NB_DB);
                if (!rel || osn_layer3_txn_release(rel, external_ids) < 0)
                        return json_decref(ops), -ENOMEM;
                size_t i;
                const json_t *op;
                json_array_foreach((json_t *)osn_txn_ops(rel), i, op)
                    append(ops, json_deep_copy(op));
        }
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(nb, OSN_NB_DB, ops, deadline, &res, err);
        if (r < 0)
                return r;
        return json_integer_value(json_object_get(json_array_get(res, (size_t)del), "count")) > 0
                   ? 1
                   : 0;
}

int osn_nb_get_port(struct osn_ovsdb *nb, const char *port_name, int64_t deadline, json_t **ret_row,
                    struct osn_error *err)
{
        static const char *const cols[] = {
            "_uuid", "addresses", "dynamic_addresses", "port_security", "external_ids", "options",
            "up",    NULL};
        json_t *ops =
            json_pack("[o]", osn_ovsdb_op_select("Logical_Switch_Port",
                                                 where_eq("name", json_string(port_name)), cols));
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(nb, OSN_NB_DB, ops, deadline, &res, err);
        if (r < 0)
                return r;
        json_t *row = json_array_get(osn_ovsdb_result_rows(res, 0), 0);
        *ret_row = row ? json_incref(row) : NULL;
        return 0;
}

/* The UUIDs of the spares a switch's external_ids index. */
static json_t *index_uuids(const json_t *sw_ids)
{
        json_t *v = json_array();
        size_t i;
        const json_t *pair;
        json_array_foreach(json_array_get(sw_ids, 1), i, pair)
        {
                const char *u = index_entry(pair);
                if (u)
                        json_array_append_new(v, osn_ovsdb_uuid(u));
        }
        return v;
}

/* The one detach: removes port 'port_name' from its switch, or, with
 * 'pool' > 0 and a claimed spare held by 'cid', returns it to a pool that
 * is short, and trims the pool to 'pool'; deletes the switch when no
 * attachment is left.  'cid' NULL: whoever holds it; 'pool' 0: no return,
 * no trim. */
static int detach(struct osn_ovsdb *nb, const char *network, const char *port_name, const char *cid,
                  unsigned pool, int64_t deadline, struct osn_error *err)
{
        static const char *const sw_cols[] = {"_uuid", "external_ids", NULL};
        static const char *const port_cols[] = {"_uuid", "external_ids", "addresses", NULL};
        _cleanup_free_ char *sw_name = osn_switch_name(network);
        _cleanup_free_ char *ln_name = osn_localnet_port_name(network);
        if (!sw_name || !ln_name)
                return -ENOMEM;
        char spare_uuid[37];
        bool spare_named = osn_is_spare_port(network, port_name, spare_uuid);

        for (int attempt = 0; attempt < MAX_GUARD_RETRIES * 2; attempt++) {
                json_t *ops =
                    select_network(sw_name, port_name, ln_name, sw_cols, port_cols, port_cols);
                _cleanup_json_ json_t *res = NULL;
                int r = osn_ovsdb_transact(nb, OSN_NB_DB, ops, deadline, &res, err);
                if (r < 0)
                        return r;
                json_t *sw = json_array_get(osn_ovsdb_result_rows(res, 0), 0);
                json_t *port = json_array_get(osn_ovsdb_result_rows(res, 1), 0);
                const char *ln_uuid =
                    osn_ovsdb_row_uuid(json_array_get(osn_ovsdb_result_rows(res, 2), 0));
                if (!port)
                        return 0;
                const json_t *pids = json_object_get(port, "external_ids");
                if (!streq(osn_ovsdb_map_get(pids, OSN_EXT_NETWORK), network))
                        return osn_error_set(err, -EPERM, OSN_CNI_CONFLICT,
                                             "logical switch port \"%s\" was not created by osn; "
                                             "left alone",
                                             port_name);
                if (cid && spare_named &&
                    (streq(osn_ovsdb_map_get(pids, OSN_EXT_SPARE), "true") ||
                     !streq(osn_ovsdb_map_get(pids, OSN_EXT_CONTAINER), cid))) {
                        log_info("port %s is no longer held by container %s; left alone", port_name,
                                 cid);
                        return 0;
                }
                const char *port_uuid = osn_ovsdb_row_uuid(port);
                json_t *port_where = where_eq("_uuid", osn_ovsdb_uuid(port_uuid));
                json_t *tx;
                if (!sw ||
                    !streq(osn_ovsdb_map_get(json_object_get(sw, "external_ids"), OSN_EXT_NETWORK),
                           network)) {
                        /* An orphan port (its switch is gone or not ours):
                         * nothing references it, delete it directly. */
                        tx = json_pack("[{s:s, s:s, s:o}]", "op", "delete", "table",
                                       "Logical_Switch_Port", "where", port_where);
                        _cleanup_json_ json_t *tres = NULL;
                        r = osn_ovsdb_transact(nb, OSN_NB_DB, tx, deadline, &tres, err);
                        return r < 0 ? r : 1;
                }
                /* Guarded by the switch's external_ids as read, its pool
                 * index with them (and by the holder for a spare, whose
                 * index key may have come back meanwhile): the port leaves
                 * the switch or goes back to the pool, the pool is trimmed,
                 * and the same transaction asks whether the switch is now
                 * empty but for its localnet port and its spares.
                 * Transactions are serialized, so of several concurrent
                 * DELs the one that commits last sees the final state.  The
                 * condition is evaluated by the server: the ports themselves
                 * are never read, however many there are. */
                const char *sw_uuid = osn_ovsdb_row_uuid(sw);
                const json_t *sw_ids = json_object_get(sw, "external_ids");
                json_t *sw_where = where_eq("_uuid", osn_ovsdb_uuid(sw_uuid));
                json_t *spares = index_uuids(sw_ids);
                const char *addrs = NULL;
                const json_t *aset = json_object_get(port, "addresses");
                for (size_t i = 0; i < osn_ovsdb_set_size(aset); i++)
                        if (!streq(json_string_value(osn_ovsdb_set_at(aset, i)), "unknown"))
                                addrs = json_string_value(osn_ovsdb_set_at(aset, i));
                bool back =
                    cid && spare_named && pool > 0 && addrs && json_array_size(spares) < pool;
                tx = json_pack("[o,o]",
                               op_comment("osn: detach %s from network %s%s", port_name, network,
                                          back ? " (back to its pool)" : ""),
                               op_wait("Logical_Switch", json_deep_copy(sw_where), "external_ids",
                                       json_pack("[{s:O}]", "external_ids", sw_ids)));
                /* What the container held leaves the switch's index. */
                char hk[OSN_PORT_NAME_SIZE];
                held_key(osn_ovsdb_map_get(pids, OSN_EXT_CONTAINER),
                         osn_ovsdb_map_get(pids, OSN_EXT_IFNAME), hk);
                const char *hv = osn_ovsdb_map_get(sw_ids, hk);
                size_t pl = strlen(port_name);
                if (hv && strncmp(hv, port_name, pl) == 0 && hv[pl] == ' ')
                        append(tx, json_pack("{s:s, s:s, s:O, s:[[s,s,o]]}", "op", "mutate",
                                             "table", "Logical_Switch", "where", sw_where,
                                             "mutations", "external_ids", "delete",
                                             osn_ovsdb_set(json_pack("[s]", hk))));
                if (cid && spare_named)
                        append(tx, op_exists("Logical_Switch_Port",
                                             json_pack("[O,o]", json_array_get(port_where, 0),
                                                       osn_ovsdb_cond(
                                                           "external_ids", "includes",
                                                           osn_ovsdb_map((const char *const[]){
                                                               OSN_EXT_CONTAINER, cid, NULL})))));
                if (back) {
                        json_t *del = json_array();
                        for (size_t i = 0; holder_keys[i]; i++)
                                json_array_append_new(del, json_string(holder_keys[i]));
                        char key[sizeof(OSN_EXT_SPARE_INDEX) + 36];
                        index_key(spare_uuid, key);
                        append(tx, json_pack("{s:s, s:s, s:O, s:[[s,s,o],[s,s,o]]}", "op", "mutate",
                                             "table", "Logical_Switch_Port", "where", port_where,
                                             "mutations", "external_ids", "delete",
                                             osn_ovsdb_set(del), "external_ids", "insert",
                                             osn_ovsdb_map((const char *const[]){OSN_EXT_SPARE,
                                                                                 "true", NULL})));
                        append(tx,
                               json_pack("{s:s, s:s, s:O, s:[[s,s,o]]}", "op", "mutate", "table",
                                         "Logical_Switch", "where", sw_where, "mutations",
                                         "external_ids", "insert",
                                         osn_ovsdb_map((const char *const[]){key, addrs, NULL})));
                        json_array_append_new(spares, osn_ovsdb_uuid(spare_uuid));
                } else {
                        append(tx, json_pack(
                                       "{s:s, s:s, s:O, s:[[s,s,o]]}", "op", "mutate", "table",
                                       "Logical_Switch", "where", sw_where, "mutations", "ports",
                                       "delete",
                                       osn_ovsdb_set(json_pack("[o]", osn_ovsdb_uuid(port_uuid)))));
                }
                if (pool > 0 && json_array_size(spares) > pool) {
                        /* More spares than the pool's size (concurrent
                         * top-ups, or a smaller pool_size now): trim. */
                        json_t *drop = json_array(), *keys = json_array();
                        while (json_array_size(spares) > pool) {
                                size_t last = json_array_size(spares) - 1;
                                json_t *u = json_array_get(spares, last);
                                char key[sizeof(OSN_EXT_SPARE_INDEX) + 36];
                                index_key(json_string_value(json_array_get(u, 1)), key);
                                json_array_append_new(keys, json_string(key));
                                json_array_append(drop, u);
                                json_array_remove(spares, last);
                        }
                        append(tx, json_pack("{s:s, s:s, s:O, s:[[s,s,o],[s,s,o]]}", "op", "mutate",
                                             "table", "Logical_Switch", "where", sw_where,
                                             "mutations", "ports", "delete", osn_ovsdb_set(drop),
                                             "external_ids", "delete", osn_ovsdb_set(keys)));
                }
                if (ln_uuid)
                        json_array_append_new(spares, osn_ovsdb_uuid(ln_uuid));
                char rlsp_uuid[37];
                if (osn_layer3_router_lsp_uuid(sw_ids, rlsp_uuid))
                        json_array_append_new(spares, osn_ovsdb_uuid(rlsp_uuid));
                int q = append(
                    tx,
                    osn_ovsdb_op_select(
                        "Logical_Switch",
                        json_pack("[o,o]", osn_ovsdb_cond("_uuid", "==", osn_ovsdb_uuid(sw_uuid)),
                                  osn_ovsdb_cond("ports", "==", osn_ovsdb_set(json_copy(spares)))),
                        (const char *const[]){"ports", "external_ids", NULL}));
                /* ... or but those and its DHCP server's port. */
                char srv_uuid[37];
                server_port_uuid(network, srv_uuid);
                json_array_append_new(spares, osn_ovsdb_uuid(srv_uuid));
                int q_srv =
                    append(tx, osn_ovsdb_op_select(
                                   "Logical_Switch",
                                   json_pack("[o,o]",
                                             osn_ovsdb_cond("_uuid", "==", osn_ovsdb_uuid(sw_uuid)),
                                             osn_ovsdb_cond("ports", "==", osn_ovsdb_set(spares))),
                                   (const char *const[]){"ports", "external_ids", NULL}));
                json_decref(sw_where);
                json_decref(port_where);
                _cleanup_json_ json_t *tres = NULL;
                r = osn_ovsdb_transact(nb, OSN_NB_DB, tx, deadline, &tres, err);
                if (r == -EAGAIN) {
                        osn_error_clear(err);
                        continue;
                }
                if (r < 0)
                        return r;
                json_t *after = json_array_get(osn_ovsdb_result_rows(tres, (size_t)q), 0);
                if (!after)
                        after = json_array_get(osn_ovsdb_result_rows(tres, (size_t)q_srv), 0);
                if (after) {
                        /* We were the last after all.  An ADD attaching or
                         * claiming a spare meanwhile makes the guard fail,
                         * and the switch stays: it is theirs now. */
                        r = osn_nb_delete_switch_if(nb, network, sw_uuid,
                                                    json_object_get(after, "ports"),
                                                    json_object_get(after, "external_ids"),
                                                    "last attachment detached", deadline, err);
                        if (r == -EAGAIN) {
                                osn_error_clear(err);
                                r = 0;
                        }
                        if (r < 0)
                                return r;
                } else if (back) {
                        log_info("port %s of network %s returned to its pool", port_name, network);
                }
                return 1;
        }
        return osn_error_set(err, -EAGAIN, OSN_CNI_TRY_AGAIN_LATER,
                             "network \"%s\": the NB DB kept changing under %d attempts to detach "
                             "%s; try again",
                             network, MAX_GUARD_RETRIES * 2, port_name);
}

int osn_nb_remove_port(struct osn_ovsdb *nb, const char *network, const char *port_name,
                       int64_t deadline, struct osn_error *err)
{
        return detach(nb, network, port_name, NULL, 0, deadline, err);
}

int osn_nb_detach(struct osn_ovsdb *nb, const char *network, const char *port_name, const char *cid,
                  unsigned pool_size, int64_t deadline, struct osn_error *err)
{
        return detach(nb, network, port_name, cid, pool_size, deadline, err);
}

int osn_nb_detach_container(struct osn_ovsdb *nb, const char *network, const char *cid,
                            const char *ifname, bool spares_only, unsigned pool_size,
                            int64_t deadline, struct osn_error *err)
{
        const char *kv[] = {OSN_EXT_NETWORK, network, OSN_EXT_CONTAINER, cid, OSN_EXT_IFNAME,
                            ifname,          NULL};
        json_t *ops = json_pack(
            "[o]", osn_ovsdb_op_select("Logical_Switch_Port",
                                       json_pack("[o]", osn_ovsdb_cond("external_ids", "includes",
                                                                       osn_ovsdb_map(kv))),
                                       (const char *const[]){"name", NULL}));
        _cleanup_json_ json_t *res = NULL;
        int r = osn_ovsdb_transact(nb, OSN_NB_DB, ops, deadline, &res, err);
        if (r < 0)
                return r;
        int found = 0;
        size_t i;
        const json_t *row;
        json_array_foreach(osn_ovsdb_result_rows(res, 0), i, row)
        {
                const char *name = json_string_value(json_object_get(row, "name"));
                if (!name || (spares_only && !osn_is_spare_port(network, name, NULL)))
                        continue;
                if ((r = detach(nb, network, name, cid, pool_size, deadline, err)) < 0)
                        return r;
                found++;
        }
        return found;
}
