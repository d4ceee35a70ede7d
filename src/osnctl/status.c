/* osnctl status: this node's probes (inventory.h's osn_inventory_status()),
 * as fields, JSON, or -o prometheus (the plugin's metrics textfile, then
 * the probes as gauges: docs/metrics.md).
 */
#include "ctl.h"
#include "metrics.h"
#include "osnctl.h"
#include "output.h"
#include "views.h"

/* A probe of osnctl_status_json() as a gauge: 1 ok, 0 failed, absent when
 * unknown (Prometheus has no "unknown"). */
static void probe_gauge(const char *probe, const json_t *v)
{
        if (json_is_boolean(v))
                printf("osn_node_probe_ok{probe=\"%s\"} %d\n", probe, json_is_true(v));
}

/* -o prometheus: the node's view, as node_exporter would serve it: the
 * plugin's textfile (metrics.h) as it is, then the status probes. */
static void print_prometheus(const struct osnctl *ctl, const json_t *out)
{
        const char *path = ctl->node->metrics_file;
        if (osn_metrics_off(path)) {
                printf("# the plugin's metrics are off on this node (node config "
                       "\"metrics_file\")\n");
        } else {
                FILE *f = fopen(path, "re");
                if (!f) {
                        printf("# %s: %s (no CNI call has written it yet?)\n", path,
                               strerror(errno));
                } else {
                        char buf[4096];
                        size_t n;
                        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                                fwrite(buf, 1, n, stdout);
                        fclose(f);
                }
        }
        printf("# HELP osn_node_probe_ok What osnctl status found on this node (1 ok, 0 failed; "
               "absent when it cannot tell).\n"
               "# TYPE osn_node_probe_ok gauge\n");
        probe_gauge("nb", json_object_get(json_object_get(out, "nb"), "ok"));
        probe_gauge("ovs", json_object_get(json_object_get(out, "ovs"), "ok"));
        probe_gauge("integration_bridge",
                    json_object_get(json_object_get(out, "integration_bridge"), "present"));
        probe_gauge("ovn_controller",
                    json_object_get(json_object_get(out, "ovn_controller"), "connected"));
        const json_t *pd = json_object_get(out, "default_physical_network");
        if (json_is_object(pd))
                probe_gauge("default_physical_network", json_object_get(pd, "mapped"));
}

int osnctl_status(struct osnctl *ctl, int argc, char **argv)
{
        if (argc > 0) {
                osnctl_err("status takes no arguments (see osnctl status --help)");
                return OSNCTL_USAGE;
        }
        int r = osnctl_load_node(ctl);
        if (r)
                return r;
        struct osn_node_status st;
        r = osn_inventory_status(ctl->node, ctl->ovn_rundir, osnctl_deadline(ctl), &st);
        if (r < 0) {
                osnctl_err("%s", strerror(-r));
                return OSNCTL_PROBLEMS;
        }
        _cleanup_json_ json_t *out = osnctl_status_json(ctl->node, &st);
        if (!out) {
                osnctl_err("out of memory");
                return OSNCTL_PROBLEMS;
        }
        if (ctl->prometheus)
                print_prometheus(ctl, out);
        else if (ctl->json)
                osnctl_print_json(out);
        else
                osnctl_fields(osnctl_status_fields.v, osnctl_status_fields.n, out);
        return json_is_true(json_object_get(out, "ok")) ? 0 : OSNCTL_PROBLEMS;
}
