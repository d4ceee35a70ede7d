#!/usr/bin/env bash
# bench/migration.sh: live-migration interruption (issue 9), a benchmark, not
# a timed test.  From the target's first RARP frame to the first ping reply
# from the target (a pod on node3 pings the VM's address every 10 ms), p50 and
# max over BENCH_MIGRATIONS migrations (default 20) back and forth between
# node1 and node2; goal: p50 under 50 ms.
#
#   plugin   each migration as KubeVirt drives it: ADD of the identity
#            (ipam-claim-reference in args.cni, allowPersistentIPs) on the other
#            node with a new container id, the source's link down, RARP from the
#            target, then the source's DEL.
#   by hand  the same on OVN directly (tests/vm/ovn-by-hand.sh, migration
#            section: requested-chassis=src,dst + activation-strategy=rarp set
#            with ovn-nbctl), so a number exists before the plugin side lands;
#            plus one real QEMU live migration (its downtime and the ping gap).
#
# The 10 ms ping interval quantizes every sample (a reply can only come at
# the next probe), so read the numbers as "within one interval".
#
# Writes $BENCH_OUT/migration.txt and migration.json (default bench/out).
# BENCH_MIGRATION_PARTS=plugin,byhand selects the parts.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/integration/cni.sh"
. "$ROOT/tests/vm/migration.sh"
_OSN_TEST=bench-migration
N=${BENCH_MIGRATIONS:-20}
OUT=${BENCH_OUT:-$ROOT/bench/out}
PARTS=${BENCH_MIGRATION_PARTS:-plugin,byhand}
mkdir -p "$OUT"
command -v python3 >/dev/null || skip "needs python3"

PLUGIN_STATS="not run" BYHAND_STATS="not run" PLUGIN_GAPS=() BYHAND_LINE="" QEMU_LINE=""

if [[ ",$PARTS," == *,plugin,* ]]; then
    plugin_test_up 3
    MIG=$SANDBOX_DIR/mig
    mkdir -p "$MIG"
    NET='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"bmig","topology":"layer2",
          "subnets":"10.80.0.0/24","allowPersistentIPs":true,
          "args":{"cni":{"ipam-claim-reference":"bench/vm.net1"}}}'
    PLAIN='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"bmig","topology":"layer2",
          "subnets":"10.80.0.0/24","allowPersistentIPs":true}'
    attach 3 c "$PLAIN" >/dev/null || echo "# ADD pinger failed: $RESULT" >&2
    src=m0 srcnode=1
    if attach 1 m0 "$NET"; then
        IP=$(jq -r '.ips[0].address' <<<"$RESULT" | cut -d/ -f1)
        MISSED=0
        for ((i = 1; i <= N; i++)); do
            dst=m$i dstnode=$((3 - srcnode))
            if ! attach "$dstnode" "$dst" "$NET"; then
                PLUGIN_STATS="unsupported: the target's ADD failed: $(jq -r '.msg // .' <<<"$RESULT" | head -c 200)"
                break
            fi
            got=$(jq -r '.ips[0].address' <<<"$RESULT" | cut -d/ -f1)
            if [[ "$got" != "$IP" ]]; then
                PLUGIN_STATS="unsupported: the target got $got, not the identity's $IP (no migration support in this plugin)"
                break
            fi
            mig_switch c "$IP" "$src" "$dst" "$i"
            GAP=$MIG_GAP
            if [[ "$GAP" == none ]]; then MISSED=$((MISSED + 1)); else PLUGIN_GAPS+=("$GAP"); fi
            detach "$srcnode" "$src" "$NET" >/dev/null
            pod_del "$src" >/dev/null
            src=$dst srcnode=$dstnode
        done
        if [[ "$PLUGIN_STATS" == "not run" ]]; then
            PLUGIN_STATS="$(mig_stats "${PLUGIN_GAPS[@]}") missed=$MISSED"
        fi
    else
        PLUGIN_STATS="unsupported: the first ADD failed: $RESULT"
    fi
    "$SANDBOX" down --dir "$SANDBOX_DIR" >/dev/null 2>&1
    SANDBOX_DIR=""
fi

if [[ ",$PARTS," == *,byhand,* ]]; then
    LOG=$(mktemp /tmp/osn-bench-mig.XXXXXX)
    parts=migration
    command -v qemu-system-x86_64 >/dev/null && parts=migration,vmmigrate
    # The by-hand recipes find the plugin's port by its container's name
    # (osn.<net>.<cid>.<if>), which a claimed spare does not have: pools off.
    OSN_POOL_SIZE=0 BYHAND_ONLY=$parts MIG_RUNS=$N "$ROOT/tests/vm/ovn-by-hand.sh" >"$LOG" 2>&1
    BYHAND_LINE=$(sed -n 's/^RESULT: by_hand_migration //p' "$LOG")
    BYHAND_STATS=${BYHAND_LINE%% gaps_ms=*}
    QEMU_LINE=$(sed -n 's/^RESULT: vmmigrate //p' "$LOG")
    [[ -n "$BYHAND_STATS" ]] || BYHAND_STATS="failed: $(grep -E '^(FAIL|SKIP)' "$LOG" | head -n 3 | tr '\n' ' ')"
    rm -f "$LOG"
fi

p50_of() { sed -n 's/.*p50=\([0-9.]*\).*/\1/p' <<<"$1"; }
goal() {
    local p
    p=$(p50_of "$1")
    [[ -n "$p" ]] || { echo "-"; return; }
    awk -v p="$p" 'BEGIN { print (p < 50) ? "met" : "MISSED" }'
}
{
    echo "migration interruption, ms: target's first RARP -> first reply from the target (ping every 10 ms)"
    printf '%-8s %s (goal p50 < 50 ms: %s)\n' plugin "$PLUGIN_STATS" "$(goal "$PLUGIN_STATS")"
    printf '%-8s %s (goal p50 < 50 ms: %s)\n' "by hand" "$BYHAND_STATS" "$(goal "$BYHAND_STATS")"
    [[ -z "$BYHAND_LINE" ]] || echo "by hand samples: ${BYHAND_LINE##*gaps_ms=}"
    [[ ${#PLUGIN_GAPS[@]} -eq 0 ]] || echo "plugin samples: ${PLUGIN_GAPS[*]}"
    [[ -z "$QEMU_LINE" ]] || echo "a real QEMU (TCG) live migration by hand, once: $QEMU_LINE (the gap includes QEMU's downtime and its ~50 ms before the first RARP)"
} | tee "$OUT/migration.txt"
python3 - "$OUT/migration.json" "$PLUGIN_STATS" "$BYHAND_STATS" <<'EOF'
import json, re, sys
def parse(s):
    d = dict(re.findall(r"(\w+)=([^ ]+)", s))
    return {k: (float(v) if re.fullmatch(r"[0-9.]+", v) else v) for k, v in d.items()} or {"status": s}
json.dump({"unit": "ms", "plugin": parse(sys.argv[2]), "by_hand": parse(sys.argv[3])},
          open(sys.argv[1], "w"), indent=1)
EOF
exit 0
