/* osnctl networks, attachments and show: the NB inventory as operators
 * read it (inventory.h gathers it, views.h makes its rows, output.h prints
 * them).  On a node, the attachments plugged here are checked against
 * their pod's netns too (mark_netns()).
 */
#include <limits.h>

#include "ctl.h"
#include "osnctl.h"
#include "output.h"
#include "ovn.h"
#include "ovs.h"
#include "views.h"

/* On a node (with a node config), the attachments plugged here carry their
 * pod's netns path on the OVS interface: one whose netns is gone is not
 * ready, whatever OVN says (a DEL that never came; gc removes it).  Adds
 * "netns" and "netns_state" (alive, gone, unknown; "netns_why" unless
 * alive) to those rows.  "gone" only on evidence (inventory.h): where
 * osnctl cannot see the host's namespaces, or the local OVS DB, this
 * node's attachments are "unknown".  Without a node config nothing is
 * known about any node and nothing is added. */
static void mark_netns(struct osnctl *ctl, json_t *rows)
{
        if (!ctl->node || json_array_size(rows) == 0)
                return;
        int64_t deadline = osnctl_deadline(ctl);
        _cleanup_ovsdb_ struct osn_ovsdb *ovs = NULL;
        _cleanup_json_ json_t *ifaces = NULL;
        bool no_ovs = osnctl_connect_ovs_quiet(ctl, deadline, &ovs) < 0 ||
                      osn_ovs_list_attachments(ovs, NULL, deadline, &ifaces, NULL) < 0;
        static const char *const names[] = {
            [OSN_NETNS_ALIVE] = "alive",
            [OSN_NETNS_GONE] = "gone",
            [OSN_NETNS_UNKNOWN] = "unknown",
        };
        size_t i, j;
        json_t *row, *iface;
        json_array_foreach(rows, i, row)
        {
                const char *port = json_string_value(json_object_get(row, "port"));
                if (no_ovs) {
                        if (!streq(json_string_value(json_object_get(row, "node")),
                                   ctl->node->node_name))
                                continue;
                        json_object_set_new(row, "netns_state", json_string("unknown"));
                        json_object_set_new(
                            row, "netns_why",
                            json_pack("s++", "the local OVS DB (", ctl->node->ovs_remote,
                                      ") cannot be reached from here: run osnctl on the node "
                                      "itself, or in the osn-node pod with OVS's run directory "
                                      "mounted"));
                        continue;
                }
                json_array_foreach(ifaces, j, iface)
                {
                        const json_t *ids = json_object_get(iface, "external_ids");
                        if (!port || !streq(osn_ovsdb_map_get(ids, "iface-id"), port))
                                continue;
                        const char *netns = osn_ovsdb_map_get(ids, OSN_EXT_NETNS);
                        char why[PATH_MAX + 512];
                        enum osn_netns_state st =
                            osn_inv_iface_netns_state(iface, why, sizeof(why));
                        json_object_set_new(row, "netns", netns ? json_string(netns) : json_null());
                        json_object_set_new(row, "netns_state", json_string(names[st]));
                        if (st != OSN_NETNS_ALIVE)
                                json_object_set_new(row, "netns_why", json_string(why));
                        if (st == OSN_NETNS_GONE) {
                                json_object_set_new(row, "ready", json_false());
                                json_object_set_new(row, "not_ready_reason", json_string(why));
                        }
                        break;
                }
        }
}

/* --- networks --- */

int osnctl_networks(struct osnctl *ctl, int argc, char **argv)
{
        if (argc > 0) {
                osnctl_err("networks takes no arguments (see osnctl networks --help)");
                return OSNCTL_USAGE;
        }
        _cleanup_inventory_ struct osn_inventory *inv = NULL;
        int r = osnctl_read_inventory(ctl, NULL, &inv);
        if (r)
                return r;
        _cleanup_json_ json_t *rows = json_array();
        for (size_t i = 0; rows && i < inv->n_networks; i++)
                if (!ctl->namespace ||
                    osn_inv_network_in_namespace(inv, &inv->networks[i], ctl->namespace))
                        json_array_append_new(
                            rows, osnctl_network_view(ctl->node, inv, &inv->networks[i]));
        return osnctl_render_list(
            ctl, "networks", rows, osnctl_network_columns.v, osnctl_network_columns.n,
            ctl->namespace ? "no osn networks in that namespace" : "no osn networks");
}

/* --- attachments --- */

int osnctl_attachments(struct osnctl *ctl, int argc, char **argv)
{
        if (argc > 0) {
                osnctl_err("attachments takes no arguments (see osnctl attachments --help)");
                return OSNCTL_USAGE;
        }
        struct osn_cidr ip;
        uint8_t mac[6];
        bool by_ip = false, by_mac = false;
        if (ctl->ip) {
                by_ip = osn_cidr_parse(ctl->ip, false, &ip) == 0;
                by_mac = !by_ip && osn_mac_parse(ctl->ip, mac) == 0;
                if (!by_ip && !by_mac) {
                        osnctl_err("--ip: \"%s\" is neither an IP address nor a unicast MAC",
                                   ctl->ip);
                        return OSNCTL_USAGE;
                }
        }
        struct osn_inv_filter f = {.network = ctl->network, .node = ctl->node_name};
        _cleanup_inventory_ struct osn_inventory *inv = NULL;
        int r = osnctl_read_inventory(ctl, &f, &inv);
        if (r)
                return r;
        if (ctl->network && inv->n_networks == 0 && inv->n_ports == 0) {
                osnctl_err("no osn network named \"%s\" (osnctl networks lists them)",
                           ctl->network);
                return OSNCTL_PROBLEMS;
        }
        if ((r = osnctl_mark_unresponsive(ctl, inv, osnctl_deadline(ctl))))
                return r;
        _cleanup_json_ json_t *rows =
            osnctl_port_rows(inv, by_ip ? &ip : NULL, by_mac ? mac : NULL, ctl->namespace);
        mark_netns(ctl, rows);
        /* A spare is no attachment, but it does hold its address: say so
         * rather than "nobody". */
        char empty[512] = "no attachments";
        if (ctl->ip)
                snprintf(empty, sizeof(empty), "no attachment holds that address");
        for (size_t i = 0; ctl->ip && i < inv->n_spares; i++) {
                const struct osn_inv_port *p = &inv->spares[i];
                if (by_ip ? osn_inv_port_holds_ip(p, &ip) : osn_inv_port_holds_mac(p, mac)) {
                        snprintf(empty, sizeof(empty),
                                 "no attachment holds that address; spare %s of network %s "
                                 "(a pool's, unclaimed) does",
                                 p->name, p->network);
                        break;
                }
        }
        r = osnctl_render_list(ctl, "attachments", rows, osnctl_attachment_columns.v,
                               osnctl_attachment_columns.n, empty);
        /* Like grep: asking who holds an address that nobody holds is 1. */
        return r ? r : ctl->ip && json_array_size(rows) == 0 ? OSNCTL_PROBLEMS : 0;
}

/* --- show --- */

int osnctl_show(struct osnctl *ctl, int argc, char **argv)
{
        if (argc != 1) {
                osnctl_err("show takes one NETWORK (see osnctl show --help)");
                return OSNCTL_USAGE;
        }
        struct osn_inv_filter f = {.network = argv[0]};
        _cleanup_inventory_ struct osn_inventory *inv = NULL;
        int r = osnctl_read_inventory(ctl, &f, &inv);
        if (r)
                return r;
        const struct osn_inv_network *n = osn_inventory_network(inv, argv[0]);
        if (!n && inv->n_ports == 0) {
                osnctl_err("no osn network named \"%s\" (osnctl networks lists them)", argv[0]);
                return OSNCTL_PROBLEMS;
        }
        _cleanup_json_ json_t *rows = osnctl_port_rows(inv, NULL, NULL, NULL);
        _cleanup_json_ json_t *spares = osnctl_spare_rows(inv, argv[0]);
        mark_netns(ctl, rows);
        _cleanup_json_ json_t *out = json_pack(
            "{s:o, s:O, s:O}", "network", n ? osnctl_network_view(ctl->node, inv, n) : json_null(),
            "attachments", rows, "spares", spares);
        if (!out || ctl->json)
                return osnctl_render_object(ctl, out, NULL, 0);
        if (n)
                osnctl_render_object(ctl, json_object_get(out, "network"), osnctl_network_fields.v,
                                     osnctl_network_fields.n);
        else
                printf("network \"%s\" has no logical switch; its ports are orphans\n", argv[0]);
        printf("\n");
        /* Every attachment here is on NETWORK: no column for it. */
        osnctl_table(osnctl_attachment_columns.v + 1, osnctl_attachment_columns.n - 1, rows,
                     "no attachments");
        if (json_array_size(spares) > 0) {
                printf("\n");
                osnctl_table(osnctl_spare_columns.v, osnctl_spare_columns.n, spares, NULL);
        }
        return 0;
}
