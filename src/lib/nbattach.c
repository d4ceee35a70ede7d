/* nbattach: attaching a port in the NB DB (ovn.h): the pipelined attach
 * transaction in its five shapes (join, create, claim of a spare, claim of
 * a node's warm spare, adopt what an earlier try holds), the pool's top-up
 * and the warm spares' reservation, the retries a failed guard calls for (a
 * lost claim, a switch made or changed meanwhile, a network an older osn
 * made), persistent identities' binding and live migration, and tenancy's
 * choice of network.  Calls only down: nbdetach.c (to remove an
 * earlier try's port or a switch of other settings), ovn.c's rows and
 * guards (nbrows.h), txn.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "log.h"
#include "nbrows.h"

/* --- attaching (see ovn.h) --- */

enum attach_mode {
        ATTACH_JOIN,   /* the switch exists with these settings */
        ATTACH_CREATE, /* no switch yet: the first attachment makes it */
        ATTACH_CLAIM,  /* a spare of the network's pool becomes the port */
        ATTACH_HELD,   /* the port an earlier try of this ADD holds is adopted */
        ATTACH_WARM,   /* a spare this node keeps plugged becomes the port */
};

/* A spare as the switch's pool index lists it. */
struct spare {
        char uuid[37];
        uint8_t mac[6];
        struct osn_cidr ips[OSN_MAX_STATIC];
        size_t n_ips;
};

/* The handles of the attach transaction's operations (OSN_OP_NONE =
 * absent). */
struct attach_ops {
        osn_op switch_guard;
        osn_op claim[OSN_MAX_CLAIMS];
        size_t n_claims;
        osn_op insert_port;  /* CLAIM: the mutate that makes the spare the port */
        osn_op spare_guard;  /* CLAIM: "it is still a spare" */
        osn_op index_guard;  /* CLAIM: "... of the pool" (its index key: not a node's warm one) */
        osn_op server_guard; /* JOIN: "the switch holds its DHCP server's port" */
        osn_op held_guard;   /* HELD: "it is still this container's" */
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

        struct osn_txn *txn; /* the attach transaction (in flight, or answered) */
        struct attach_ops idx;
        json_t *port_row;                   /* the inserted row, for the result */
        char port_name[OSN_PORT_NAME_SIZE]; /* the port of the transaction in flight */

        /* Pools (ovn.h, "Pools"). */
        bool pool;                       /* this ADD may claim a spare */
        struct osn_txn *pool_read;       /* the pool read while in flight (read ahead) */
        osn_op sel_sw, sel_own, sel_srv; /* ... its operations */
        bool own_exists;                 /* ... but its own port is there (an earlier try) */
        json_t *sw_row;       /* the switch as last read for the pool (_uuid, external_ids) */
        json_t *sw_ids;       /* its external_ids as this ADD left them (the top-up's guard) */
        struct spare *spares; /* its pool index */
        size_t n_spares;
        size_t claim; /* CLAIM: which spare */
        unsigned evictions;
        bool evicted;           /* a spare gave its addresses to this ADD */
        struct osn_txn *refill; /* the top-up (in flight, or answered) */
        osn_op refill_guard;
        unsigned refill_lost; /* claims its spares lost */
        bool refill_near_full;
        bool refill_due; /* the pool may want a top-up: osn_nb_attach_refill() sees */
        char held_key[OSN_PORT_NAME_SIZE];  /* the switch's key of what this ADD holds */
        char held_name[OSN_PORT_NAME_SIZE]; /* what the pool read found under it, or "" */
        struct spare held;                  /* ... its MAC and addresses */
        struct spare warm;                  /* WARM: the warm port's spare */
        bool warm_offered;                  /* osn_nb_attach_use_warm() named one */

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
#define RESERVE_TRIES      3 /* osn_nb_attach_reserve_warm()'s reads */
#define MAX_ATTACH_TRIES   32

void osn_nb_attach_free(struct osn_nb_attach *at)
{
        if (!at)
                return;
        free(at->sw_name);
        free(at->ln_name);
        free(at->used);
        free(at->spares);
        osn_txn_free(at->txn);
        json_decref(at->port_row);
        json_decref(at->sw_row);
        json_decref(at->sw_ids);
        osn_txn_free(at->refill);
        osn_txn_free(at->pool_read);
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
                nb_claim_key_ip(&at->ips[i], at->claims[at->n_claims++]);
        nb_claim_key_mac(at->mac, at->claims[at->n_claims++]);
        (void)err;
        return 0;
}

/* --- what a network an older osn made lacks, and the port's row --- */

/* Whether this ADD's JOIN asks for the DHCP server's port (nbrows.h). */
static bool server_port_guard_needed(const struct osn_nb_attach *at)
{
        struct osn_cidr srv;
        return !at->no_server_guard && nb_wants_server_port(at->spec, &srv);
}

/* Adds the server port to switch 'sw_uuid', made by an osn that made none:
 * 0 when done or when another ADD did it meanwhile. */
static int add_server_port(struct osn_ovsdb *nb, const struct osn_port_spec *spec,
                           const char *sw_uuid, int64_t deadline, struct osn_error *err)
{
        struct osn_cidr srv;
        if (!nb_wants_server_port(spec, &srv))
                return 0;
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        if (!t)
                return -ENOMEM;
        char uuid[37];
        osn_dhcp_port_uuid(spec->network, uuid);
        osn_txn_comment(t, "osn: network %s gets its DHCP server's port", spec->network);
        osn_txn_absent(t, "Logical_Switch_Port", nb_by_uuid(uuid));
        nb_server_port_insert(t, spec);
        osn_txn_mutate(t, "Logical_Switch", nb_by_uuid(sw_uuid),
                       osn_mutation("ports", "insert",
                                    osn_ovsdb_set(json_pack("[o]", osn_ovsdb_named_uuid("dsrv")))));
        int r = osn_txn_commit(t, nb, deadline, err);
        if (r == -EAGAIN) {
                osn_error_clear(err);
                return 0;
        }
        if (r == 0)
                log_info("network %s: added its DHCP server's port (an older osn made none)",
                         spec->network);
        return r;
}

static json_t *port_row(const struct osn_nb_attach *at)
{
        const struct osn_port_spec *spec = at->spec;
        json_t *ids = osn_ovsdb_map(spec->port_ids);
        json_t *row = nb_lsp_row(spec, spec->port_name, at->mac, at->ips, at->n_ips, ids);
        json_t *opts = row ? nb_hostname_option(spec) : NULL;
        if (row && spec->identity) {
                ids = json_object_get(row, "external_ids");
                nb_map_add(ids, OSN_EXT_IDENTITY, spec->identity);
                nb_map_add(ids, OSN_EXT_CHASSIS, spec->chassis ? spec->chassis : "");
                if (spec->chassis && *spec->chassis) {
                        if (!opts)
                                opts = osn_ovsdb_map((const char *const[]){NULL});
                        nb_map_add(opts, "requested-chassis", spec->chassis);
                }
        }
        if (opts)
                json_object_set_new(row, "options", opts);
        return row;
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
                nb_claim_key_ip(&ips[i], key);
                nb_map_add(map, key, network);
        }
        if (n >= 0) {
                nb_claim_key_mac(mac, key);
                nb_map_add(map, key, network);
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
        int r = nb_read_switch_ports(at->nb, sw, deadline, err);
        if (r == -EAGAIN)
                return 0;
        if (r < 0 || (r = nb_read_network_ports(at->nb, net, deadline, &rows, err)) < 0)
                return r;
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        if (!t)
                return -ENOMEM;
        const char *sw_uuid = osn_ovsdb_row_uuid(sw);
        const char *ipam[] = {OSN_EXT_IPAM, OSN_IPAM_CLAIMS, NULL};
        osn_txn_comment(t, "osn: migrate network %s to osn's address claims", net);
        nb_wait_column_as_read(t, "Logical_Switch", nb_by_uuid(sw_uuid), "ports",
                               json_object_get(sw, "ports"));
        osn_txn_mutate(
            t, "Logical_Switch", nb_by_uuid(sw_uuid),
            osn_mutation_and(osn_mutation("external_ids", "insert", osn_ovsdb_map(ipam)),
                             osn_mutation("other_config", "delete",
                                          osn_ovsdb_set(json_pack("[s,s,s]", "subnet",
                                                                  "ipv6_prefix", "exclude_ips")))));
        json_t *row;
        size_t i, n = 0;
        json_array_foreach(rows, i, row)
        {
                if (!osn_ovsdb_map_get(json_object_get(row, "external_ids"), OSN_EXT_CONTAINER))
                        continue; /* the localnet port */
                osn_txn_mutate(t, "Logical_Switch_Port", nb_by_uuid(osn_ovsdb_row_uuid(row)),
                               osn_mutation("external_ids", "insert", legacy_claims(row, net)));
                n++;
        }
        r = osn_txn_commit(t, at->nb, deadline, err);
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
#define REFILL_MAX   4
#define REFILL_TRIES 4

static uint64_t pinned_seed; /* osn_nb_pin_spare_uuids() */

void osn_nb_pin_spare_uuids(uint64_t seed)
{
        pinned_seed = seed;
}

/* A random (version 4) UUID for a new spare. */
static void new_uuid(char buf[37])
{
        static uint64_t counter;
        uint8_t b[16];
        if (pinned_seed) {
                uint64_t h1 = osn_alloc_seed("spare") ^ pinned_seed++;
                uint64_t h2 = h1 * 0x9e3779b97f4a7c15ull ^ (h1 >> 29);
                memcpy(b, &h1, 8);
                memcpy(b + 8, &h2, 8);
        } else if (getrandom(b, sizeof(b), GRND_NONBLOCK) != (ssize_t)sizeof(b)) {
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

static const char *kv_get(const char *const *kv, const char *key);

/* What the transaction being built makes this ADD hold: "<port name>
 * <address string>" (malloc'd). */
static char *held_value(const struct osn_nb_attach *at)
{
        _cleanup_free_ char *addrs = nb_addresses_string(at->mac, at->ips, at->n_ips);
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
        json_t *m = at->sw_ids && v ? nb_map_without(at->sw_ids, at->held_key) : NULL;
        if (m)
                nb_map_add(m, at->held_key, v);
        json_decref(at->sw_ids);
        at->sw_ids = m;
}

int osn_nb_attach_use_warm(struct osn_nb_attach *at, const char *port_name, const char *addrs)
{
        struct spare *w = &at->warm;
        if (!at->pool || !osn_is_spare_port(at->spec->network, port_name, w->uuid))
                return -EINVAL;
        int n = osn_ovn_parse_addresses(addrs, at->spec->nc, w->mac, w->ips, OSN_MAX_STATIC);
        if (n < 0 || (size_t)n != at->spec->alloc->n_subnets)
                return -EINVAL;
        w->n_ips = (size_t)n;
        at->warm_offered = true;
        return 0;
}

/* Reads the network's switch (_uuid, external_ids) and its pool index into
 * at->spares.  A switch that is not osn's with this request's settings
 * gives no spares (the attach transaction's guard then sorts it out). */
static int read_pool_start(struct osn_nb_attach *at, struct osn_error *err)
{
        const struct osn_port_spec *spec = at->spec;
        osn_txn_free(at->pool_read);
        struct osn_txn *t = at->pool_read = osn_txn_new(OSN_NB_DB);
        if (!t)
                return -ENOMEM;
        at->sel_sw = osn_txn_select(t, "Logical_Switch", nb_by_name(at->sw_name),
                                    (const char *const[]){"_uuid", "external_ids", NULL});
        /* A retried ADD may find the attachment's own port, made by the
         * earlier try (a scan of the port table by name: only then). */
        at->sel_own = spec->earlier_try
                          ? osn_txn_select(t, "Logical_Switch_Port", nb_by_name(spec->port_name),
                                           (const char *const[]){"_uuid", NULL})
                          : OSN_OP_NONE;
        at->sel_srv = nb_server_port_select(t, spec->network);
        return osn_txn_start(t, at->nb, err);
}

/* The answer to read_pool_start()'s read, into the fields above. */
static int read_pool_finish(struct osn_nb_attach *at, int64_t deadline, struct osn_error *err)
{
        const struct osn_port_spec *spec = at->spec;
        _cleanup_txn_ struct osn_txn *t = TAKE_PTR(at->pool_read);
        osn_op sel_sw = at->sel_sw, sel_own = at->sel_own, sel_srv = at->sel_srv;
        int r = osn_txn_finish(t, at->nb, deadline, err);
        if (r < 0)
                return r;
        at->server_missing =
            json_array_size(osn_txn_rows(t, sel_srv)) == 0 && server_port_guard_needed(at);
        const json_t *rows = osn_txn_rows(t, sel_sw);
        json_decref(at->sw_row);
        json_decref(at->sw_ids);
        at->sw_row = at->sw_ids = NULL;
        at->n_spares = 0;
        at->held_name[0] = 0;
        /* An earlier try of this ADD made the attachment's own port: the
         * attach adopts it (or replaces it), no spare is claimed. */
        at->own_exists = spec->earlier_try && json_array_size(osn_txn_rows(t, sel_own)) > 0;
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
                const char *u = osn_pool_index_uuid(json_string_value(json_array_get(pair, 0)));
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

static int read_pool(struct osn_nb_attach *at, int64_t deadline, struct osn_error *err)
{
        int r = read_pool_start(at, err);
        return r < 0 ? r : read_pool_finish(at, deadline, err);
}

/* This try claims spare 'k': its name, MAC and addresses become the port's
 * (false: no memory for the name; the try goes without a spare). */
static bool take_spare(struct osn_nb_attach *at, size_t k)
{
        const struct spare *sp = &at->spares[k];
        _cleanup_free_ char *name = osn_spare_port_name(at->spec->network, sp->uuid);
        if (!name || strlen(name) >= sizeof(at->port_name))
                return false; /* out of memory (a name never is too long): no spare */
        memcpy(at->port_name, name, strlen(name) + 1);
        at->mode = ATTACH_CLAIM;
        at->claim = k;
        memcpy(at->mac, sp->mac, 6);
        at->n_ips = sp->n_ips;
        memcpy(at->ips, sp->ips, sp->n_ips * sizeof(sp->ips[0]));
        at->n_claims = 0;
        return true;
}

/* WARM: the warm port's spare becomes the port (its addresses are the
 * ones its OVS interface recorded; the claim's guard checks it is still
 * this node's warm spare). */
static void take_warm(struct osn_nb_attach *at)
{
        const struct spare *w = &at->warm;
        _cleanup_free_ char *name = osn_spare_port_name(at->spec->network, w->uuid);
        snprintf(at->port_name, sizeof(at->port_name), "%s", name ? name : "");
        at->mode = ATTACH_WARM;
        memcpy(at->mac, w->mac, 6);
        at->n_ips = w->n_ips;
        memcpy(at->ips, w->ips, w->n_ips * sizeof(w->ips[0]));
        at->n_claims = 0;
}

/* After the pool was read: adopt what an earlier try holds, or take the
 * warm port offered, or claim a spare (picked by the port's seed, so that
 * concurrent ADDs spread over the pool), or attach without one. */
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
        if (at->warm_offered && at->sw_row && !at->own_exists && !at->server_missing) {
                take_warm(at);
                return;
        }
        at->warm_offered = false; /* the caller sees it: osn_nb_attach_warm() */
        if (at->n_spares > 0 && !at->own_exists && !at->server_missing &&
            take_spare(at, at->seed % at->n_spares))
                return;
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

/* Adds up to 'k' new spares to 't': each its claim guards (when
 * 'guards'; a new switch needs none) and its insert, its reference to
 * 'ports' (an array) and its index key to 'index' (a map).  The number
 * made: fewer when the subnet has no more free addresses. */
static int append_spares(struct osn_nb_attach *at, struct osn_txn *t, size_t k, bool guards,
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
                char uuid[37], key[OSN_POOL_INDEX_KEY_SIZE];
                new_uuid(uuid);
                int r = spare_addresses(at, uuid, pend, n_pend, &sp);
                if (r == -ENOSPC)
                        break;
                if (r < 0)
                        return r;
                _cleanup_free_ char *name = osn_spare_port_name(net, uuid);
                _cleanup_free_ char *addrs = nb_addresses_string(sp.mac, sp.ips, sp.n_ips);
                json_t *row =
                    name ? nb_lsp_row(spec, name, sp.mac, sp.ips, sp.n_ips,
                                      osn_ovsdb_map((const char *const[]){
                                          OSN_EXT_NETWORK, net, OSN_EXT_SPARE, "true", NULL}))
                         : NULL;
                if (!row || !addrs)
                        return json_decref(row), -ENOMEM;
                if (guards) {
                        char claim[OSN_CLAIM_KEY_STRLEN];
                        for (size_t q = 0; q <= sp.n_ips; q++) {
                                if (q < sp.n_ips)
                                        nb_claim_key_ip(&sp.ips[q], claim);
                                else
                                        nb_claim_key_mac(sp.mac, claim);
                                nb_claim_free(t, claim, net);
                        }
                }
                osn_txn_insert(t, "Logical_Switch_Port", row, NULL, uuid);
                json_array_append_new(ports, osn_ovsdb_uuid(uuid));
                osn_pool_index_key(uuid, key);
                nb_map_add(index, key, addrs);
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
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        json_t *ports = json_array();
        json_t *index = osn_ovsdb_map((const char *const[]){NULL});
        if (!t || !ports || !index) {
                json_decref(ports), json_decref(index);
                return -ENOMEM;
        }
        osn_txn_comment(t, "osn: top up the pool of network %s", net);
        osn_op guard =
            nb_wait_column_as_read(t, "Logical_Switch", nb_by_uuid(sw), "external_ids", at->sw_ids);
        int made = append_spares(at, t, k, true, ports, index);
        if (made <= 0) {
                json_decref(ports), json_decref(index);
                if (made == 0)
                        log_info("network %s: no free address for another spare; the pool stays "
                                 "at %zu",
                                 net, nb_index_size(at->sw_ids));
                return made;
        }
        osn_txn_mutate(t, "Logical_Switch", nb_by_uuid(sw),
                       osn_mutation_and(osn_mutation("ports", "insert", osn_ovsdb_set(ports)),
                                        osn_mutation("external_ids", "insert", index)));
        /* The top-up that was in flight, if any, is dropped: its answer is
         * left to the connection. */
        osn_txn_free(at->refill);
        at->refill = TAKE_PTR(t);
        at->refill_guard = guard;
        return osn_txn_start(at->refill, at->nb, err);
}

/* The index as the claim of at->claim leaves it (the top-up's guard):
 * without the spare's key, with the held key. */
static void claimed_key_gone(struct osn_nb_attach *at)
{
        char key[OSN_POOL_INDEX_KEY_SIZE];
        osn_pool_index_key(at->spares[at->claim].uuid, key);
        json_t *left = at->sw_ids ? nb_map_without(at->sw_ids, key) : NULL;
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
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        if (!t)
                return -ENOMEM;
        osn_txn_mutate(
            t, "Logical_Switch", nb_by_name(at->sw_name),
            osn_mutation("external_ids", "delete", osn_ovsdb_set(json_pack("[s]", at->held_key))));
        int r = osn_txn_commit(t, at->nb, deadline, err);
        if (r < 0 || (r = read_pool(at, deadline, err)) < 0)
                return r;
        at->held_name[0] = 0; /* once: whatever the read says, not again */
        pool_decide(at);
        return 0;
}

static bool refill_in_flight(const struct osn_nb_attach *at)
{
        return at->refill && osn_txn_in_flight(at->refill);
}

/* The top-up, batched: once the pool has fallen to half of pool_size (or
 * below), what it lacks of pool_size, at most REFILL_MAX, in one
 * transaction; above half, nothing.  The ADD sends it after its answer
 * (osn_nb_attach_refill(), from its tail): right behind the claim, its new
 * ports reached northd and ovn-controller while they worked on the ADD's
 * own (in a pair of short bench runs OVN's part of the ADD went from 16.4
 * to 11.6 ms p50 when the top-up moved after the answer, OVN's plug floor
 * 9.9 ms in both; docs/design.md), and half the ADDs now send none. */
static void refill_start(struct osn_nb_attach *at)
{
        if (!(at->pool || at->evicted) || !at->sw_row || !at->sw_ids)
                return;
        size_t have = nb_index_size(at->sw_ids), want = at->spec->pool_size;
        if (have >= want || have > want / 2)
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
        if (at->refill_due && !refill_in_flight(at)) {
                at->refill_due = false;
                refill_start(at);
        }
        if (at->evicted && !refill_in_flight(at) && at->spec->pool_size > 0) {
                /* This ADD took a spare's address: a replacement for it. */
                if (read_pool(at, deadline, &e) == 0)
                        refill_start(at);
                else
                        log_info("network %s: pool not topped up: %s", net, e.msg);
                osn_error_clear(&e);
        }
        for (int tries = 0; refill_in_flight(at); tries++) {
                int r = osn_txn_finish(at->refill, at->nb, deadline, &e);
                if (r == 0) {
                        log_debug("network %s: pool topped up", net);
                        return;
                }
                if (r != -EAGAIN || tries + 1 >= REFILL_TRIES)
                        break;
                bool index_changed = osn_txn_failed(at->refill) == at->refill_guard;
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

bool osn_nb_attach_warm(const struct osn_nb_attach *at)
{
        return at && at->warm_offered && at->mode == ATTACH_WARM;
}

/* The condition "a warm spare of 'network' that 'node' keeps" (a scan of
 * the port table: the tail's read and guard only). */
static json_t *warm_of(const char *network, const char *node)
{
        return nb_and_ids_include(json_array(), (const char *const[]){OSN_EXT_NETWORK, network,
                                                                      OSN_EXT_WARM, node, NULL});
}

/* One try of osn_nb_attach_reserve_warm(): -EAGAIN when a guard failed. */
static int reserve_warm_once(struct osn_nb_attach *at, unsigned want, struct osn_nb_warm *ret,
                             int64_t deadline, struct osn_error *err)
{
        const struct osn_port_spec *spec = at->spec;
        const char *node = kv_get(spec->port_ids, OSN_EXT_NODE);
        /* What is there now: the node's warm spares (those its other ADDs'
         * tails reserved too), and the pool. */
        _cleanup_txn_ struct osn_txn *rd = osn_txn_new(OSN_NB_DB);
        if (!rd)
                return -ENOMEM;
        osn_op sel = osn_txn_select(rd, "Logical_Switch_Port", warm_of(spec->network, node),
                                    (const char *const[]){"_uuid", NULL});
        int r = osn_txn_start(rd, at->nb, err);
        if (r < 0 || (r = read_pool(at, deadline, err)) < 0 ||
            (r = osn_txn_finish(rd, at->nb, deadline, err)) < 0)
                return r;
        const json_t *have = osn_txn_rows(rd, sel);
        if (!at->sw_row || !at->sw_ids || json_array_size(have) >= want)
                return 0;
        unsigned k = want - (unsigned)json_array_size(have);
        const char *sw = osn_ovsdb_row_uuid(at->sw_row);
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        json_t *keys = json_array();
        if (!t || !keys)
                return json_decref(keys), -ENOMEM;
        osn_txn_comment(t, "osn: warm ports of network %s for node %s", spec->network, node);
        /* The node's warm spares are still those: of two tails of this node
         * one reserves, the other reads again (a node never keeps more than
         * warm_ports). */
        osn_txn_wait(t, "Logical_Switch_Port", warm_of(spec->network, node),
                     (const char *const[]){"_uuid", NULL}, true, json_deep_copy(have));
        unsigned n = 0;
        /* Spares of the index, from the one after this ADD's seed's
         * (concurrent tails of other nodes spread out). */
        for (size_t i = 0; i < at->n_spares && n < k; i++) {
                const struct spare *sp = &at->spares[(at->seed + 1 + i) % at->n_spares];
                char key[OSN_POOL_INDEX_KEY_SIZE];
                osn_pool_index_key(sp->uuid, key);
                const char *addrs = osn_ovsdb_map_get(at->sw_ids, key);
                struct osn_nb_warm *w = &ret[n];
                _cleanup_free_ char *name = osn_spare_port_name(spec->network, sp->uuid);
                if (!addrs || !name || strlen(name) >= sizeof(w->name) ||
                    strlen(addrs) >= sizeof(w->addrs))
                        continue;
                snprintf(w->name, sizeof(w->name), "%s", name);
                snprintf(w->addrs, sizeof(w->addrs), "%s", addrs);
                memcpy(w->mac, sp->mac, 6);
                osn_txn_exists(
                    t, "Logical_Switch",
                    nb_and_ids_include(nb_by_uuid(sw), (const char *const[]){key, addrs, NULL}));
                osn_txn_mutate(
                    t, "Logical_Switch_Port", nb_by_uuid(sp->uuid),
                    osn_mutation("external_ids", "insert",
                                 osn_ovsdb_map((const char *const[]){OSN_EXT_WARM, node, NULL})));
                json_array_append_new(keys, json_string(key));
                n++;
        }
        if (n == 0)
                return json_decref(keys), 0;
        osn_txn_mutate(t, "Logical_Switch", nb_by_uuid(sw),
                       osn_mutation("external_ids", "delete", osn_ovsdb_set(json_incref(keys))));
        r = osn_txn_commit(t, at->nb, deadline, err);
        if (r == 0) {
                /* The index as the reservation leaves it: the top-up's guard. */
                size_t i;
                json_t *key;
                json_array_foreach(keys, i, key)
                {
                        json_t *left = nb_map_without(at->sw_ids, json_string_value(key));
                        json_decref(at->sw_ids);
                        at->sw_ids = left;
                }
                at->refill_due = at->sw_ids != NULL;
        }
        json_decref(keys);
        return r < 0 ? r : (int)n;
}

int osn_nb_attach_reserve_warm(struct osn_nb_attach *at, unsigned want, struct osn_nb_warm *ret,
                               int64_t deadline, struct osn_error *err)
{
        if (!at || !at->pool || want == 0)
                return 0;
        for (int tries = 0; tries < RESERVE_TRIES; tries++) {
                int r = reserve_warm_once(at, want, ret, deadline, err);
                if (r != -EAGAIN)
                        return r;
                osn_error_clear(err); /* another tail reserved, or a spare went: again */
        }
        return 0;
}

/* Spare 'uuid' holds an address this ADD must have (a static request, or
 * one of the last free ones): it goes, guarded by "still a spare".  0 to
 * try again (also when somebody claimed it meanwhile). */
static int evict_spare(struct osn_nb_attach *at, const char *uuid, int64_t deadline,
                       struct osn_error *err)
{
        const char *net = at->spec->network;
        char key[OSN_POOL_INDEX_KEY_SIZE];
        osn_pool_index_key(uuid, key);
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        if (!t)
                return -ENOMEM;
        osn_txn_comment(t, "osn: network %s: spare %s gives up its addresses for %s", net, uuid,
                        at->spec->port_name);
        osn_txn_exists(t, "Logical_Switch_Port", nb_still_spare(uuid));
        osn_txn_mutate(
            t, "Logical_Switch", nb_by_name(at->sw_name),
            osn_mutation_and(
                osn_mutation("ports", "delete",
                             osn_ovsdb_set(json_pack("[o]", osn_ovsdb_uuid(uuid)))),
                osn_mutation("external_ids", "delete", osn_ovsdb_set(json_pack("[s]", key)))));
        int r = osn_txn_commit(t, at->nb, deadline, err);
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

/* HELD: nothing to change: the port is the attachment's if it is still
 * this container's. */
static void attach_held_ops(struct osn_nb_attach *at, struct osn_txn *t)
{
        const struct osn_port_spec *spec = at->spec;
        const char *net = spec->network;
        char uuid[37];
        json_t *w = osn_is_spare_port(net, at->port_name, uuid) ? nb_by_uuid(uuid)
                                                                : nb_by_name(at->port_name);
        const char *kv[] = {OSN_EXT_NETWORK,
                            net,
                            OSN_EXT_CONTAINER,
                            kv_get(spec->port_ids, OSN_EXT_CONTAINER),
                            OSN_EXT_IFNAME,
                            kv_get(spec->port_ids, OSN_EXT_IFNAME),
                            NULL};
        at->idx.held_guard = osn_txn_exists(t, "Logical_Switch_Port", nb_and_ids_include(w, kv));
}

/* CLAIM: the spare is still one; it becomes the attachment and leaves the
 * pool's index, and the switch says what this container holds ('held'). */
static void attach_claim_ops(struct osn_nb_attach *at, struct osn_txn *t, const char *held)
{
        const struct osn_port_spec *spec = at->spec;
        const struct spare *sp = &at->spares[at->claim];
        char key[OSN_POOL_INDEX_KEY_SIZE];
        osn_pool_index_key(sp->uuid, key);
        at->idx.spare_guard = osn_txn_exists(t, "Logical_Switch_Port", nb_still_spare(sp->uuid));
        /* A spare that a node reserved as a warm port meanwhile keeps
         * osn/spare=true but leaves the index: its key says "the pool's". */
        const char *addrs = osn_ovsdb_map_get(at->sw_ids, key);
        if (addrs)
                at->idx.index_guard =
                    osn_txn_exists(t, "Logical_Switch",
                                   nb_and_ids_include(nb_by_uuid(osn_ovsdb_row_uuid(at->sw_row)),
                                                      (const char *const[]){key, addrs, NULL}));
        at->idx.insert_port = osn_txn_mutate(
            t, "Logical_Switch_Port", nb_by_uuid(sp->uuid),
            osn_mutation_and(
                osn_mutation("external_ids", "delete",
                             osn_ovsdb_set(json_pack("[s]", OSN_EXT_SPARE))),
                osn_mutation("external_ids", "insert", osn_ovsdb_map(spec->port_ids))));
        json_t *host = nb_hostname_option(spec);
        if (host)
                osn_txn_mutate(t, "Logical_Switch_Port", nb_by_uuid(sp->uuid),
                               osn_mutation("options", "insert", host));
        osn_txn_mutate(
            t, "Logical_Switch", nb_by_uuid(osn_ovsdb_row_uuid(at->sw_row)),
            osn_mutation_and(
                osn_mutation("external_ids", "delete", osn_ovsdb_set(json_pack("[s]", key))),
                osn_mutation("external_ids", "insert",
                             osn_ovsdb_map((const char *const[]){at->held_key, held, NULL}))));
}

/* WARM: the spare is still this node's warm one; it becomes the
 * attachment, and the switch says what this container holds ('held'). */
static void attach_warm_ops(struct osn_nb_attach *at, struct osn_txn *t, const char *held)
{
        const struct osn_port_spec *spec = at->spec;
        const char *uuid = at->warm.uuid;
        const char *node = kv_get(spec->port_ids, OSN_EXT_NODE);
        at->idx.spare_guard = osn_txn_exists(
            t, "Logical_Switch_Port",
            nb_and_ids_include(nb_by_uuid(uuid), (const char *const[]){OSN_EXT_SPARE, "true",
                                                                       OSN_EXT_WARM, node, NULL}));
        at->idx.insert_port = osn_txn_mutate(
            t, "Logical_Switch_Port", nb_by_uuid(uuid),
            osn_mutation_and(
                osn_mutation("external_ids", "delete",
                             osn_ovsdb_set(json_pack("[ss]", OSN_EXT_SPARE, OSN_EXT_WARM))),
                osn_mutation("external_ids", "insert", osn_ovsdb_map(spec->port_ids))));
        json_t *host = nb_hostname_option(spec);
        if (host)
                osn_txn_mutate(t, "Logical_Switch_Port", nb_by_uuid(uuid),
                               osn_mutation("options", "insert", host));
        osn_txn_mutate(
            t, "Logical_Switch", nb_by_uuid(osn_ovsdb_row_uuid(at->sw_row)),
            osn_mutation("external_ids", "insert",
                         osn_ovsdb_map((const char *const[]){at->held_key, held, NULL})));
}

/* JOIN and CREATE: the switch's guard, the claims' guards, the port. */
static void attach_port_ops(struct osn_nb_attach *at, struct osn_txn *t)
{
        const struct osn_port_spec *spec = at->spec;
        struct attach_ops *idx = &at->idx;
        if (at->mode == ATTACH_JOIN) {
                /* The switch exists with exactly these settings (its pool
                 * index may be anything). */
                idx->switch_guard = osn_txn_exists(
                    t, "Logical_Switch",
                    osn_where_and(nb_by_name(at->sw_name),
                                  osn_ovsdb_cond("external_ids", "includes", nb_switch_ids(spec))));
                if (!at->no_server_guard)
                        idx->server_guard = nb_server_port_guard(t, spec, at->sw_name);
        } else {
                /* Nobody created the switch since we looked. */
                idx->switch_guard =
                    osn_txn_wait(t, "Logical_Switch", nb_by_name(at->sw_name),
                                 (const char *const[]){"name", NULL}, true, json_array());
        }
        idx->n_claims = at->n_claims;
        for (size_t i = 0; i < at->n_claims; i++)
                idx->claim[i] = nb_claim_free(t, at->claims[i], spec->network);
        idx->insert_port =
            osn_txn_insert(t, "Logical_Switch_Port", json_incref(at->port_row), "lsp", NULL);
}

/* CREATE: the switch, with its localnet port, its DHCP server's port, its
 * pool (full from the start) and its DHCP_Options. */
static int attach_create_ops(struct osn_nb_attach *at, struct osn_txn *t, const char *held)
{
        const struct osn_port_spec *spec = at->spec;
        json_t *sw_ports = json_pack("[o]", osn_ovsdb_named_uuid("lsp"));
        json_t *sw_ids = nb_switch_ids(spec);
        if (!sw_ports || !sw_ids)
                return json_decref(sw_ports), json_decref(sw_ids), -ENOMEM;
        if (held)
                nb_map_add(sw_ids, at->held_key, held);
        if (spec->nc->external) {
                json_array_append_new(sw_ports, osn_ovsdb_named_uuid("ln"));
                osn_txn_insert(t, "Logical_Switch_Port", nb_localnet_row(spec, at->ln_name), "ln",
                               NULL);
        }
        struct osn_cidr srv;
        if (nb_wants_server_port(spec, &srv)) {
                json_array_append_new(sw_ports, osn_ovsdb_named_uuid("dsrv"));
                nb_server_port_insert(t, spec);
        }
        /* No claim guards for the pool: no port of the network outlives its
         * switch, and this one is new. */
        if (spec->pool_size > 0 &&
            append_spares(at, t, spec->pool_size, false, sw_ports, sw_ids) < 0) {
                json_decref(sw_ports), json_decref(sw_ids);
                return -ENOMEM;
        }
        osn_txn_insert(t, "Logical_Switch",
                       json_pack("{s:s, s:o, s:o}", "name", at->sw_name, "external_ids", sw_ids,
                                 "ports", osn_ovsdb_set(sw_ports)),
                       NULL, NULL);
        /* The network's DHCP server, unless a row of an earlier life of the
         * network is still there (then it serves). */
        for (size_t i = 0; !at->dhcp_exists && i < spec->alloc->n_subnets; i++) {
                unsigned fam = spec->alloc->subnets[i].subnet.family == AF_INET ? 1u : 2u;
                if (nb_dhcp_families(spec->nc) & fam)
                        nb_dhcp_insert(t, spec, i);
        }
        return 0;
}

/* JOIN: the port joins the switch, which says what this container holds
 * ('held', on the pool path). */
static void attach_join_ops(struct osn_nb_attach *at, struct osn_txn *t, const char *held)
{
        json_t *m = osn_mutation("ports", "insert",
                                 osn_ovsdb_set(json_pack("[o]", osn_ovsdb_named_uuid("lsp"))));
        if (held)
                m = osn_mutation_and(
                    m,
                    osn_mutation("external_ids", "insert",
                                 osn_ovsdb_map((const char *const[]){at->held_key, held, NULL})));
        osn_txn_mutate(t, "Logical_Switch", nb_by_name(at->sw_name), m);
}

/* The one builder of the attach transaction, in its five shapes (one per
 * mode), into at->txn; the handles into at->idx. */
static int attach_ops(struct osn_nb_attach *at)
{
        const struct osn_port_spec *spec = at->spec;
        if (!at->txn && !(at->txn = osn_txn_new(OSN_NB_DB)))
                return -ENOMEM;
        struct osn_txn *t = at->txn;
        osn_txn_reset(t);
        json_decref(at->port_row);
        at->port_row =
            at->mode == ATTACH_CLAIM || at->mode == ATTACH_HELD || at->mode == ATTACH_WARM
                ? json_object()
                : port_row(at);
        _cleanup_free_ char *held = at->pool ? held_value(at) : NULL;
        if (!at->port_row || (at->pool && !held))
                return -ENOMEM;
        memset(&at->idx, -1, sizeof(at->idx)); /* every handle OSN_OP_NONE */
        at->idx.n_claims = 0;                  /* CLAIM and HELD have none */
        osn_txn_comment(t, "osn: attach %s to network %s", spec->port_name, spec->network);
        switch (at->mode) {
        case ATTACH_HELD:
                attach_held_ops(at, t);
                return 0;
        case ATTACH_CLAIM:
                attach_claim_ops(at, t, held);
                return 0;
        case ATTACH_WARM:
                attach_warm_ops(at, t, held);
                return 0;
        case ATTACH_CREATE:
                attach_port_ops(at, t);
                return attach_create_ops(at, t, held);
        case ATTACH_JOIN:
                attach_port_ops(at, t);
                attach_join_ops(at, t, held);
                return 0;
        }
        return -EINVAL;
}

static int send_attach(struct osn_nb_attach *at, struct osn_error *err)
{
        int r = attach_ops(at);
        return r < 0 ? r : osn_txn_start(at->txn, at->nb, err);
}

static bool attach_in_flight(const struct osn_nb_attach *at)
{
        return at->txn && osn_txn_in_flight(at->txn);
}

static void fill_result(const struct osn_nb_attach *at, const char *uuid, bool created,
                        struct osn_nb_port *ret)
{
        memset(ret, 0, sizeof(*ret));
        snprintf(ret->uuid, sizeof(ret->uuid), "%s", uuid ? uuid : "");
        snprintf(ret->name, sizeof(ret->name), "%s", at->port_name);
        ret->pooled = at->mode == ATTACH_CLAIM || at->mode == ATTACH_WARM;
        ret->warm = at->mode == ATTACH_WARM;
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

int osn_nb_attach_read_ahead(struct osn_ovsdb *nb, const struct osn_port_spec *spec,
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
        if (at->pool) {
                osn_held_key(kv_get(spec->port_ids, OSN_EXT_CONTAINER),
                             kv_get(spec->port_ids, OSN_EXT_IFNAME), at->held_key);
                int r = read_pool_start(at, err);
                if (r < 0)
                        return r;
        } else {
                /* Off the pool path the first candidate's MAC is known
                 * now (_expected_mac(), for the caller's veth); _send()
                 * chooses again, the same, and reports what fails. */
                struct osn_error ignored = {0};
                memcpy(at->mac, spec->mac, 6);
                (void)choose_addresses(at, &ignored);
        }
        *ret = TAKE_PTR(at);
        return 0;
}

int osn_nb_attach_start(struct osn_ovsdb *nb, const struct osn_port_spec *spec, int64_t deadline,
                        struct osn_nb_attach **ret, struct osn_error *err)
{
        _cleanup_nb_attach_ struct osn_nb_attach *at = NULL;
        int r = osn_nb_attach_read_ahead(nb, spec, &at, err);
        if (r < 0 || (r = osn_nb_attach_send(at, deadline, err)) < 0)
                return r;
        *ret = TAKE_PTR(at);
        return 0;
}

int osn_nb_attach_send(struct osn_nb_attach *at, int64_t deadline, struct osn_error *err)
{
        int r;
        if (at->pool) {
                if ((r = read_pool_finish(at, deadline, err)) < 0)
                        return r;
                pool_decide(at);
                if (at->mode == ATTACH_HELD || at->mode == ATTACH_WARM)
                        return send_attach(at, err);
                if (at->mode == ATTACH_CLAIM) {
                        if ((r = send_attach(at, err)) < 0)
                                return r;
                        claimed_key_gone(at);
                        return 0;
                }
        }
        r = choose_addresses(at, err);
        /* A subnet without any address to hand out: _finish() says so (the
         * caller's veth meanwhile gets the fallback MAC). */
        if (r == -ENOSPC)
                memcpy(at->mac, at->spec->mac, 6);
        if (r < 0 && r != -ENOSPC)
                return r;
        return r == 0 ? send_attach(at, err) : 0;
}

/* Who holds 'claim' on the network: the holder's row (name, external_ids;
 * new reference), or NULL when nobody does (any more). */
static int read_claim_holder(struct osn_nb_attach *at, const char *claim, int64_t deadline,
                             json_t **ret, struct osn_error *err)
{
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        if (!t)
                return -ENOMEM;
        osn_op sel =
            osn_txn_select(t, "Logical_Switch_Port", nb_ids_include(claim, at->spec->network),
                           (const char *const[]){"_uuid", "name", "external_ids", NULL});
        int r = osn_txn_commit(t, at->nb, deadline, err);
        if (r < 0)
                return r;
        const json_t *row = osn_txn_row(t, sel);
        *ret = row ? json_incref((json_t *)row) : NULL;
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

/* Changes the identity's port (nb_port_update(), replacing its chassis
 * options) and takes its addresses as the result: 1, 0 to read again
 * (it changed meanwhile), or an error. */
static int update_and_adopt(struct osn_nb_attach *at, const json_t *own, const char *const *del_ids,
                            json_t *add_ids, json_t *add_opts, const char *why, int64_t deadline,
                            struct osn_nb_port *ret, struct osn_error *err)
{
        int r =
            nb_port_update(at->nb, own, del_ids, add_ids,
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
                nb_map_add(add, OSN_EXT_CHASSIS, chassis);
                r = update_and_adopt(
                    at, own, nb_holder_keys, add,
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
        int r = nb_read_network_ports(at->nb, name, deadline, &rows, err);
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
        const char *sw_uuid = osn_ovsdb_row_uuid(sw);
        const char *kv[] = {OSN_EXT_NAMESPACES, buf, NULL};
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        if (!t)
                return -ENOMEM;
        osn_txn_comment(t, "osn: network %s made before tenancy: its holders %s keep it", name,
                        buf);
        nb_wait_column_as_read(t, "Logical_Switch", nb_by_uuid(sw_uuid), "ports",
                               json_object_get(sw, "ports"));
        osn_txn_mutate(t, "Logical_Switch", nb_by_uuid(sw_uuid),
                       osn_mutation("external_ids", "insert", osn_ovsdb_map(kv)));
        if ((r = osn_txn_commit(t, at->nb, deadline, err)) < 0)
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
        _cleanup_txn_ struct osn_txn *txn = osn_txn_new(OSN_NB_DB);
        if (!txn)
                return -ENOMEM;
        osn_op sel_legacy = osn_txn_select(txn, "Logical_Switch", nb_by_name(legacy_name), cols);
        osn_op sel_named =
            osn_txn_select(txn, "Logical_Switch", nb_ids_include(OSN_EXT_NAME, t->name), cols);
        int r = osn_txn_commit(txn, at->nb, deadline, err);
        if (r < 0)
                return r;
        size_t i;
        json_t *sw;
        char d[OSN_NAMESPACES_MAX + OSN_NAME_MAX + 128];
        json_array_foreach(osn_txn_rows(txn, sel_named), i, sw)
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
        sw = (json_t *)osn_txn_row(txn, sel_legacy);
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
/* No switch of the network: an orphan port of an earlier try goes first;
 * else the network is created (or joins the one of its name an osn before
 * tenancy made: before_create()). */
static int reconsider_no_switch(struct osn_nb_attach *at, const json_t *own, int64_t deadline,
                                struct osn_error *err)
{
        const struct osn_port_spec *spec = at->spec;
        int r;
        if (own) {
                /* An orphan of an earlier try: remove it first. */
                r = osn_nb_remove_port(at->nb, spec->network, spec->port_name, deadline, err);
                return r < 0 ? r : 0;
        }
        if (spec->no_create)
                return osn_error_set(err, -EIDRM, OSN_CNI_TRY_AGAIN_LATER,
                                     "logical switch \"%s\" went away meanwhile (the node's last "
                                     "pod of the network was deleted); try again",
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

/* The switch of the network's name is this network's: made by osn, of
 * this tenancy (a cluster network's grant the same).  0, or the error. */
static int check_switch(const struct osn_nb_attach *at, const json_t *ids, struct osn_error *err)
{
        const struct osn_port_spec *spec = at->spec;
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
        const char *nss = osn_ovsdb_map_get(ids, OSN_EXT_NAMESPACES);
        if (spec->ten->scope == OSN_SCOPE_CLUSTER && !streq(nss, spec->ten->namespaces))
                return osn_error_set(err, -EEXIST, OSN_CNI_CONFLICT,
                                     "cluster network \"%s\" exists for namespaces %.200s, but "
                                     "this node's config %s (key \"cluster_networks\") grants it "
                                     "to %.200s; make \"cluster_networks\" the same on every node",
                                     spec->ten->name, nss ? nss : "(none)", spec->node_config,
                                     spec->ten->namespaces);
        return 0;
}

/* A retried ADD: our port is there already.  Keep it when it holds what
 * this request asks for (1, adopted into 'ret'); else replace it (0). */
static int retried_own(struct osn_nb_attach *at, const json_t *own, int64_t deadline,
                       struct osn_nb_port *ret, struct osn_error *err)
{
        const struct osn_port_spec *spec = at->spec;
        bool dynamic;
        const char *a = osn_nb_port_addresses(own, &dynamic);
        uint8_t mac[6];
        struct osn_cidr ips[OSN_MAX_STATIC];
        int n = a && !dynamic ? osn_ovn_parse_addresses(a, spec->nc, mac, ips, OSN_MAX_STATIC)
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
        int r = osn_nb_remove_port(at->nb, spec->network, spec->port_name, deadline, err);
        return r < 0 ? r : 0;
}

/* The switch has other settings: an error while others are attached; else
 * (no attachment but ours, from an earlier try) it is replaced by one of
 * the new settings (0: try again). */
static int other_settings(struct osn_nb_attach *at, json_t *sw, bool own, const char *ln_uuid,
                          int64_t deadline, struct osn_error *err)
{
        const struct osn_port_spec *spec = at->spec;
        int r;
        if ((r = nb_read_switch_ports(at->nb, sw, deadline, err)) == -EAGAIN)
                return 0;
        if (r < 0)
                return r;
        const char *fp =
            osn_ovsdb_map_get(json_object_get(sw, "external_ids"), OSN_EXT_FINGERPRINT);
        size_t attached = nb_attachment_count(sw, ln_uuid);
        if (attached > 1 || (attached == 1 && !own))
                return osn_error_set(err, -EEXIST, OSN_CNI_CONFLICT,
                                     "network \"%s\" already exists with other settings and %zu "
                                     "attachment(s): existing {%s}, this config {%s}; every NAD "
                                     "that names a network must carry the same settings, and a "
                                     "network's settings change only when no pod is attached",
                                     spec->network, attached, fp ? fp : "", spec->fingerprint);
        r = osn_nb_delete_switch_if(at->nb, spec->network, osn_ovsdb_row_uuid(sw),
                                    json_object_get(sw, "ports"),
                                    json_object_get(sw, "external_ids"),
                                    "re-create with new settings, no attachments", deadline, err);
        if (r == -EAGAIN) {
                osn_error_clear(err);
                r = 0;
        }
        return r < 0 ? r : 0;
}

/* The switch is there with these settings: a JOIN, after what a network an
 * older osn made lacks (its DHCP server's port, its address claims). */
static int prepare_join(struct osn_nb_attach *at, json_t *sw, bool server_exists, int64_t deadline,
                        struct osn_error *err)
{
        const struct osn_port_spec *spec = at->spec;
        int r;
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
        if (!streq(osn_ovsdb_map_get(json_object_get(sw, "external_ids"), OSN_EXT_IPAM),
                   OSN_IPAM_CLAIMS))
                return migrate_network(at, sw, deadline, err);
        return 0;
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
        _cleanup_txn_ struct osn_txn *t = osn_txn_new(OSN_NB_DB);
        if (!t)
                return -ENOMEM;
        struct nb_network_read h = nb_select_network(t, at->sw_name, spec->port_name, at->ln_name,
                                                     sw_cols, port_cols, ln_cols);
        osn_op sel_dhcp =
            osn_txn_select(t, "DHCP_Options", nb_ids_include(OSN_EXT_NETWORK, spec->network),
                           (const char *const[]){"_uuid", NULL});
        osn_op sel_srv = nb_server_port_select(t, spec->network);
        int r = osn_txn_commit(t, at->nb, deadline, err);
        if (r < 0)
                return r;
        at->dhcp_exists = json_array_size(osn_txn_rows(t, sel_dhcp)) > 0;
        bool server_exists = json_array_size(osn_txn_rows(t, sel_srv)) > 0;
        const json_t *sws = osn_txn_rows(t, h.sw);
        const json_t *own = osn_txn_row(t, h.port);
        const char *ln_uuid = osn_ovsdb_row_uuid(osn_txn_row(t, h.ln));
        if (json_array_size(sws) > 1)
                return osn_error_set(err, -ENOTUNIQ, OSN_CNI_CONFLICT,
                                     "%zu logical switches are named \"%s\"; osn expects one "
                                     "(remove the extra ones)",
                                     json_array_size(sws), at->sw_name);
        json_t *sw = json_array_get(sws, 0);
        if (!sw)
                return reconsider_no_switch(at, own, deadline, err);
        const json_t *ids = json_object_get(sw, "external_ids");
        if ((r = check_switch(at, ids, err)) < 0)
                return r;
        bool same = streq(osn_ovsdb_map_get(ids, OSN_EXT_FINGERPRINT), spec->fingerprint);
        if (same && own && spec->identity)
                return bind_identity(at, own, deadline, ret, err);
        if (same && own)
                return retried_own(at, own, deadline, ret, err);
        if (!same && spec->no_create)
                return osn_error_set(err, -EEXIST, OSN_CNI_CONFLICT,
                                     "logical switch \"%s\" has other settings (\"%s\") than "
                                     "this NAD (\"%s\"); make the NADs agree",
                                     at->sw_name, osn_ovsdb_map_get(ids, OSN_EXT_FINGERPRINT) ?: "",
                                     spec->fingerprint);
        if (!same)
                return other_settings(at, sw, own != NULL, ln_uuid, deadline, err);
        return prepare_join(at, sw, server_exists, deadline, err);
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

/* A subnet has no address left to try: a spare gives its addresses up (1:
 * try again), or the subnet is full (the error).  -ENOSPC when no subnet
 * is found so. */
static int make_room(struct osn_nb_attach *at, int64_t deadline, struct osn_error *err)
{
        const struct osn_alloc *a = at->spec->alloc;
        for (size_t s = 0; s < a->n_subnets; s++) {
                struct osn_cidr c;
                if (at->near_full[s]
                        ? osn_alloc_pick_free(a, s, at->seed, at->used, at->n_used, &c) < 0
                        : osn_alloc_candidate(a, s, at->seed, 0, &c) < 0) {
                        /* Spares do not keep a pod out. */
                        int r = evict_for_full(at, deadline, err);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                return subnet_full(at, s, err);
                        at->near_full[s] = true;
                        return 1;
                }
        }
        return -ENOSPC;
}

/* This try's addresses chosen and its transaction sent: 0; 1 to choose
 * again (make_room()); or an error. */
static int try_send(struct osn_nb_attach *at, int64_t deadline, struct osn_error *err)
{
        int r = at->mode == ATTACH_CLAIM || at->mode == ATTACH_HELD || at->mode == ATTACH_WARM
                    ? 0
                    : choose_addresses(at, err);
        if (r == -ENOSPC && (r = make_room(at, deadline, err)) == 1)
                return 1;
        return r < 0 ? r : send_attach(at, err);
}

/* The attach transaction committed: the result, and the pool's top-up. */
static void attached(struct osn_nb_attach *at, struct osn_nb_port *ret)
{
        if (at->mode == ATTACH_CLAIM) {
                claimed_key_gone(at);
                fill_result(at, at->spares[at->claim].uuid, true, ret);
                at->refill_due = true;
        } else if (at->mode == ATTACH_WARM) {
                fill_result(at, at->warm.uuid, true, ret);
                held_added(at);
        } else if (at->mode == ATTACH_HELD) {
                char uuid[37];
                bool spare = osn_is_spare_port(at->spec->network, at->port_name, uuid);
                fill_result(at, spare ? uuid : NULL, false, ret);
                ret->pooled = spare;
        } else {
                fill_result(at, osn_txn_uuid(at->txn, at->idx.insert_port), true, ret);
                if (at->pool)
                        held_added(at);
                at->refill_due = true;
        }
}

/* The attach transaction failed with 'r': sorts it out by the operation
 * the server refused.  0 to try again, 1 when adopted into 'ret', or an
 * error. */
static int attach_failed(struct osn_nb_attach *at, int r, int64_t deadline, struct osn_nb_port *ret,
                         struct osn_error *err)
{
        osn_op op = osn_txn_failed(at->txn);
        if (r == -EAGAIN && at->mode == ATTACH_HELD && op == at->idx.held_guard) {
                osn_error_clear(err);
                r = held_gone(at, deadline, err);
                return r < 0 ? r : 0;
        }
        if (r == -EAGAIN && at->mode == ATTACH_WARM && op == at->idx.spare_guard) {
                osn_error_clear(err);
                return osn_error_set(err, -ESTALE, OSN_CNI_TRY_AGAIN_LATER,
                                     "warm port %s of network \"%s\" is no longer this node's",
                                     at->port_name, at->spec->network);
        }
        if (r == -EAGAIN && at->mode == ATTACH_CLAIM &&
            (op == at->idx.spare_guard ||
             (at->idx.index_guard != OSN_OP_NONE && op == at->idx.index_guard))) {
                osn_error_clear(err);
                r = spare_lost(at, deadline, err);
                return r < 0 ? r : 0;
        }
        if (r == -EAGAIN && (op == at->idx.switch_guard || op == at->idx.server_guard)) {
                osn_error_clear(err);
                return reconsider(at, deadline, ret, err);
        }
        if (r == -EAGAIN) {
                size_t k = 0;
                while (k < at->idx.n_claims && at->idx.claim[k] != op)
                        k++;
                if (k == at->idx.n_claims)
                        return attach_error(at, r, err);
                osn_error_clear(err);
                return claim_lost(at, k, deadline, ret, err);
        }
        if (r == -EEXIST) {
                /* The port's name exists: an earlier try of this ADD. */
                osn_error_clear(err);
                return reconsider(at, deadline, ret, err);
        }
        return attach_error(at, r, err);
}

int osn_nb_attach_finish(struct osn_nb_attach *at, int64_t deadline, struct osn_nb_port *ret,
                         struct osn_error *err)
{
        for (int tries = 0; tries < MAX_ATTACH_TRIES; tries++) {
                int r = 0;
                if (!attach_in_flight(at)) {
                        if ((r = try_send(at, deadline, err)) < 0)
                                return r;
                        if (r == 1)
                                continue;
                }
                r = osn_txn_finish(at->txn, at->nb, deadline, err);
                if (r == 0) {
                        attached(at, ret);
                        return 0;
                }
                r = attach_failed(at, r, deadline, ret, err);
                if (r != 0)
                        return r < 0 ? r : 0; /* 1: adopted into 'ret' */
        }
        return osn_error_set(err, -EAGAIN, OSN_CNI_TRY_AGAIN_LATER,
                             "network \"%s\": the NB DB kept changing under %d attempts to attach "
                             "%s; try again",
                             at->spec->network, MAX_ATTACH_TRIES, at->port_name);
}
