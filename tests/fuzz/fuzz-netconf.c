/* fuzz-netconf: arbitrary bytes as a network configuration on stdin
 * (netconf.c), then everything downstream that reads the parsed model or
 * its JSON: the fingerprint, describe, to_json, prevResult parsing (cni.c),
 * GC's valid-attachments and result rendering.
 *
 * Invariants checked (a violation traps):
 * - failure leaves *ret NULL and sets a one-line message with a CNI code
 *   (6 for JSON that does not decode, 1 or 7 for a config that does);
 * - success yields the promised shape: name/type/cniVersion set, at most
 *   one subnet per family, subnets are network addresses, excludes,
 *   reserved and infrastructure ranges and gateways inside a subnet (the
 *   last three on layer2 only), external exactly for localnet, VLAN only on
 *   localnet;
 * - parsing is deterministic: the same bytes give the same fingerprint,
 *   and the fingerprint reads back (osn_netconf_fingerprint_parse());
 * - warnings (osn_netconf_warnings()) point at keys inside the text.
 */
#include "cni.h"
#include "netconf.h"

#include <sys/socket.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_model(const struct osn_netconf *nc)
{
        if (!nc->name || !nc->type || !nc->cni_version || !nc->raw)
                __builtin_trap();
        if (!osn_cni_version_supported(nc->cni_version))
                __builtin_trap();
        if (nc->n_subnets > 2 || nc->n_excludes > OSN_MAX_EXCLUDES ||
            nc->n_static_ips > OSN_MAX_STATIC)
                __builtin_trap();
        if (nc->n_subnets == 2 && nc->subnets[0].family == nc->subnets[1].family)
                __builtin_trap();
        for (size_t i = 0; i < nc->n_subnets; i++)
                if (!osn_cidr_is_network(&nc->subnets[i]))
                        __builtin_trap();
        const struct osn_cidr *const ranges[] = {nc->excludes, nc->reserved, nc->infrastructure,
                                                 nc->gateways};
        const size_t counts[] = {nc->n_excludes, nc->n_reserved, nc->n_infrastructure,
                                 nc->n_gateways};
        for (size_t k = 0; k < 4; k++)
                for (size_t i = 0; i < counts[k]; i++) {
                        bool inside = false;
                        for (size_t j = 0; j < nc->n_subnets; j++)
                                inside =
                                    inside || osn_cidr_contains(&nc->subnets[j], &ranges[k][i]);
                        if (!inside || (k > 0 && nc->topology != OSN_TOPO_LAYER2))
                                __builtin_trap();
                }
        if (nc->n_gateways > 2)
                __builtin_trap();
        if (nc->external != (nc->topology == OSN_TOPO_LOCALNET))
                __builtin_trap();
        if (nc->vlan > 4094 || (nc->vlan && nc->topology != OSN_TOPO_LOCALNET))
                __builtin_trap();
        if (nc->mtu && (nc->mtu < 576 || nc->mtu > 65535))
                __builtin_trap();
}

/* Everything that consumes a parsed config must cope with any of them. */
static void exercise(const struct osn_netconf *nc)
{
        char *fp = osn_netconf_fingerprint(nc);
        char *desc = osn_netconf_describe(nc);
        json_t *j = osn_netconf_to_json(nc);
        if (!fp || !desc || !j || strchr(fp, '\n'))
                __builtin_trap();
        /* The fingerprint reads back into the settings it was made of. */
        struct osn_netconf_settings st;
        if (osn_netconf_fingerprint_parse(fp, &st) < 0 || !st.has_topology ||
            st.topology != nc->topology || st.n_subnets != nc->n_subnets ||
            st.n_excludes != nc->n_excludes || st.n_reserved != nc->n_reserved ||
            st.n_infrastructure != nc->n_infrastructure || st.n_gateways != nc->n_gateways ||
            !st.has_mtu || st.mtu != nc->mtu || st.external != nc->external ||
            (nc->external && st.vlan != nc->vlan))
                __builtin_trap();
        free(desc);
        json_decref(j);
        free(fp);

        if (nc->prev_result) {
                struct osn_cni_result res;
                struct osn_error err = {0};
                if (osn_cni_result_parse(nc->prev_result, &res, &err) == 0) {
                        for (size_t i = 0; osn_cni_versions[i]; i++)
                                json_decref(osn_cni_result_json(&res, osn_cni_versions[i]));
                } else if (!err.code || !err.msg[0]) {
                        __builtin_trap();
                }
        }

        struct osn_cni_attachment *a = NULL;
        size_t n = 0;
        struct osn_error err = {0};
        if (osn_cni_valid_attachments_parse(nc->raw, &a, &n, &err) == 0) {
                for (size_t i = 0; i < n; i++)
                        if (!a[i].container_id[0] || !a[i].ifname[0])
                                __builtin_trap();
        } else if (err.code != OSN_CNI_INVALID_CONFIG) {
                __builtin_trap();
        }
        free(a);
}

/* The warnings' hand-written key scanner: every place it reports lies in
 * the text, a duplicate's first place before its second, and every message
 * is one line. */
static void check_warnings(const char *buf, size_t size)
{
        struct osn_netconf_warning *w = NULL;
        size_t n = 0;
        if (osn_netconf_warnings(buf, size, &w, &n) < 0)
                __builtin_trap();
        for (size_t i = 0; i < n; i++) {
                if (w[i].offset >= size || buf[w[i].offset] != '"' || w[i].line < 1 ||
                    w[i].column < 1 || !w[i].msg[0] || strchr(w[i].msg, '\n'))
                        __builtin_trap();
                if (w[i].prev_line &&
                    (w[i].prev_offset >= w[i].offset || buf[w[i].prev_offset] != '"'))
                        __builtin_trap();
        }
        free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 65536)
                return 0;
        const char *buf = (const char *)data;
        check_warnings(buf, size);
        struct osn_netconf *nc = NULL;
        struct osn_error err = {0};
        int r = osn_netconf_parse(buf, size, "stdin", &nc, &err);
        if (r < 0) {
                if (nc || !err.msg[0] || strchr(err.msg, '\n'))
                        __builtin_trap();
                if (err.code != OSN_CNI_DECODE_FAILURE && err.code != OSN_CNI_INVALID_CONFIG &&
                    err.code != OSN_CNI_INCOMPATIBLE_VERSION)
                        __builtin_trap();
                /* The error must become valid CNI error JSON. */
                json_t *e = osn_cni_error_json(&err, NULL);
                char *s = json_dumps(e, JSON_COMPACT);
                if (!s)
                        __builtin_trap();
                free(s);
                json_decref(e);
                return 0;
        }
        check_model(nc);
        exercise(nc);

        struct osn_netconf *again = NULL;
        struct osn_error err2 = {0};
        if (osn_netconf_parse(buf, size, NULL, &again, &err2) < 0)
                __builtin_trap();
        char *a = osn_netconf_fingerprint(nc), *b = osn_netconf_fingerprint(again);
        if (!a || !b || strcmp(a, b) != 0)
                __builtin_trap();
        free(a);
        free(b);
        osn_netconf_free(again);
        osn_netconf_free(nc);
        return 0;
}
