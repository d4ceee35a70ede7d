#!/usr/bin/env bash
# bench/layer3.sh: what a layer3 network's ADD costs beside layer2's, on a
# sandbox of its own (2 nodes, taken down at the end, also on failure).
# BENCH_LAYER3_SEQ sequential ADD+DEL cycles on node1 of each kind, timed
# inside the node's netns around the plugin process itself:
#   layer2 later      an ADD to a layer2 network that exists (a pod of node1
#                     keeps it)
#   layer3 later      an ADD to a layer3 network whose node1 switch exists
#                     (a pod of node1 keeps it): one NB round trip more
#   layer3 first      node1's first ADD of a layer3 network whose router
#                     exists (a pod of node2 keeps it): the host subnet's
#                     claim (the DEL of each cycle frees it again)
#   layer2 new        an ADD that makes its layer2 network (each DEL removes it)
#   layer3 new        an ADD that makes its layer3 network: claim and router
# Prints p50/p90 per kind and writes $BENCH_OUT/layer3.txt.  Not a test:
# nothing here fails on a number.
#
# Knobs: OSN_BUILD (./build), BENCH_LAYER3_SEQ=40, BENCH_OUT=bench/out.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init layer3.sh
SEQ=${BENCH_LAYER3_SEQ:-40}

L2='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"bl2","topology":"layer2","subnets":"10.160.0.0/16"}'
L3='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"bl3","topology":"layer3","subnets":"10.161.0.0/16/24"}'
L3F='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"bl3first","topology":"layer3","subnets":"10.162.0.0/16/24"}'
L2N='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"bl2new","topology":"layer2","subnets":"10.163.0.0/16"}'
L3N='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"bl3new","topology":"layer3","subnets":"10.164.0.0/16/24"}'

DIR=$(mktemp -d /tmp/osn-bench-l3.XXXXXX)
"$SANDBOX" up --dir "$DIR" --nodes 2 >/dev/null
PREFIX=$(sed -n 's/^PREFIX=//p' "$DIR/.osn-sandbox")
for ((i = 0; i <= SEQ; i++)); do ip netns add "$PREFIX-pod-b$i"; done
for a in a1 a2 a3; do ip netns add "$PREFIX-pod-$a"; done

# plugin NODE VERB CID POD CONF
plugin() {
    "$SANDBOX" exec --dir "$DIR" "node$1" -- env CNI_COMMAND="$2" CNI_CONTAINERID="$3" \
        CNI_NETNS="/var/run/netns/$PREFIX-pod-$4" CNI_IFNAME=net1 CNI_PATH=/opt/cni/bin \
        CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=bench" "$PLUGIN" <<<"$5" >/dev/null
}
# The anchors: node1 holds bl2 and bl3, node2 holds bl3first.
plugin 1 ADD a1 a1 "$L2"
plugin 1 ADD a2 a2 "$L3"
plugin 2 ADD a3 a3 "$L3F"

# kind LABEL CONF: SEQ timed ADD+DEL cycles on node1 (after one warm-up);
# their ADDs' p50 and p90.
kind() {
    local label=$1 conf=$2
    timed_cycles "$conf" "IgnoreUnknown=1;K8S_POD_NAMESPACE=bench" | cut -d' ' -f1 |
        sort -n | awk -v label="$label" '
            {a[NR] = $1 / 1000}
            END {
                n = NR
                printf "%-14s ADD  p50 %6.1f  p90 %6.1f ms  (n=%d)\n", label,
                    a[int(n * 0.50 + 0.5)], a[int(n * 0.90 + 0.5)], n
            }'
}

{
    echo "# osn sequential ADD latency by topology, $SEQ cycles each, node1 of 2, $(date -u +%FT%TZ)"
    kind "layer2 later" "$L2"
    kind "layer3 later" "$L3"
    kind "layer3 first" "$L3F"
    kind "layer2 new" "$L2N"
    kind "layer3 new" "$L3N"
} >"$OUT/layer3.txt"
for ((i = 0; i <= SEQ; i++)); do ip netns del "$PREFIX-pod-b$i"; done
for a in a1 a2 a3; do ip netns del "$PREFIX-pod-$a"; done
cat "$OUT/layer3.txt"
