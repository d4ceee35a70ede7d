#!/usr/bin/env bash
# bench/cluster.sh: osn ADD/DEL latency on a clustered NB (3 Raft members)
# beside a standalone NB, in the same run (issue 10).  Two sandboxes of its
# own, one after the other (each taken down at the end, also on failure):
# standalone, then --nb-cluster 3.  On each, BENCH_CLUSTER_SEQ sequential
# ADD+DEL cycles of the seed's first NAD on node1, timed inside the node's
# netns around the plugin process itself (so osn-sandbox's own start-up is
# not counted).  Prints p50/p90/p99 per layout and writes
# $BENCH_OUT/cluster.txt.  Not a test: nothing here fails on a number.
#
# Knobs: OSN_BUILD (./build), BENCH_CLUSTER_SEQ=60, BENCH_OUT=bench/out.
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init cluster.sh
SEQ=${BENCH_CLUSTER_SEQ:-60}

NET='{"cniVersion":"0.3.1","type":"ovn-kubernetes","name":"tenant-overlay","subnet":"10.10.10.0/24"}'

# One layout: prints "LABEL p50 p90 p99" for ADD and for DEL.
run_layout() {
    local label=$1
    shift
    DIR=$(mktemp -d /tmp/osn-bench-cl.XXXXXX)
    "$SANDBOX" up --dir "$DIR" --nodes 2 "$@" >/dev/null
    PREFIX=$(sed -n 's/^PREFIX=//p' "$DIR/.osn-sandbox")
    local i
    for ((i = 0; i <= SEQ; i++)); do
        ip netns add "$PREFIX-pod-b$i"
    done
    timed_cycles "$NET" >"$DIR/times"
    for ((i = 0; i <= SEQ; i++)); do
        ip netns del "$PREFIX-pod-b$i"
    done
    local col
    for col in 1 2; do
        sort -n -k$col "$DIR/times" | awk -v c=$col -v label="$label" \
            -v what=$([[ $col == 1 ]] && echo ADD || echo DEL) '
            {a[NR] = $c / 1000}
            END {
                n = NR
                printf "%-22s %s  p50 %6.1f  p90 %6.1f  p99 %6.1f ms  (n=%d)\n", label, what,
                    a[int(n * 0.50 + 0.5)], a[int(n * 0.90 + 0.5)], a[int(n * 0.99 + 0.5)], n
            }'
    done
    "$SANDBOX" down --dir "$DIR" >/dev/null
    DIR=""
}

# In this shell, not a pipeline's subshell: the EXIT trap must see DIR.
echo "# osn sequential ADD/DEL latency, $SEQ cycles each, node1 of 2, $(date -u +%FT%TZ)" \
    >"$OUT/cluster.txt"
run_layout "standalone NB" >>"$OUT/cluster.txt"
run_layout "Raft NB (3 members)" --nb-cluster 3 >>"$OUT/cluster.txt"
cat "$OUT/cluster.txt"
