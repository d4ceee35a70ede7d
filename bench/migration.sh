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
#   localnet the plugin's on a physical network (upstream localnet,
#            untagged): the sandbox's external host, on the physical segment
#            (a learning Linux bridge), pings the VM.
#   by hand  the same on OVN directly (tests/vm/ovn-by-hand.sh, migration
#            section: requested-chassis=src,dst + activation-strategy=rarp set
#            with ovn-nbctl), so a number exists before the plugin side lands;
#            plus one real QEMU live migration (its downtime and the ping gap).
#
# The 10 ms ping interval quantizes every sample (a reply can only come at
# the next probe), so read the numbers as "within one interval".
#
# Writes $BENCH_OUT/migration.txt and migration.json (default bench/out).
# BENCH_MIGRATION_PARTS=plugin,localnet,byhand selects the parts (localnet
# runs with plugin, on its sandbox).
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/tests/integration/lib.sh"
. "$ROOT/tests/integration/cni.sh"
. "$ROOT/tests/vm/migration.sh"
_OSN_TEST=bench-migration
N=${BENCH_MIGRATIONS:-20}
OUT=${BENCH_OUT:-$ROOT/bench/out}
PARTS=${BENCH_MIGRATION_PARTS:-plugin,localnet,byhand}
mkdir -p "$OUT"
command -v python3 >/dev/null || skip "needs python3"

PLUGIN_STATS="not run" BYHAND_STATS="not run" PLUGIN_GAPS=() BYHAND_LINE="" QEMU_LINE=""
LOCALNET_STATS="not run" LOCALNET_GAPS=()

# series NET PINGER PFX [ROUNDS]: BENCH_MIGRATIONS migrations of identity bench/vm.net1 on
# NET between node1 and node2 while PINGER (a pod, or "ext": the sandbox's
# external host) pings it, in pods PFX0, PFX1, ...; SERIES_STATS and
# SERIES_GAPS are the result.
series() {
    local net=$1 pinger=$2 pfx=$3 rounds=${4:-1} src=${3}0 srcnode=1 dst dstnode got ip missed=0 i
    SERIES_STATS="not run" SERIES_GAPS=()
    if ! attach 1 "$src" "$net"; then
        SERIES_STATS="unsupported: the first ADD failed: $RESULT"
        return
    fi
    ip=$(jq -r '.ips[0].address' <<<"$RESULT" | cut -d/ -f1)
    for ((i = 1; i <= N; i++)); do
        dst=$pfx$i dstnode=$((3 - srcnode))
        if ! attach "$dstnode" "$dst" "$net"; then
            SERIES_STATS="unsupported: the target's ADD failed: $(jq -r '.msg // .' <<<"$RESULT" | head -c 200)"
            return
        fi
        got=$(jq -r '.ips[0].address' <<<"$RESULT" | cut -d/ -f1)
        if [[ "$got" != "$ip" ]]; then
            SERIES_STATS="unsupported: the target got $got, not the identity's $ip (no migration support in this plugin)"
            return
        fi
        # The switch-over comes SERIES_SETTLE s after the target's ADD (a real
        # migration copies the VM's memory meanwhile).
        sleep "${SERIES_SETTLE:-0}"
        mig_switch "$pinger" "$ip" "$src" "$dst" "$pfx$i" "$rounds"
        if [[ "$MIG_GAP" == none ]]; then missed=$((missed + 1)); else SERIES_GAPS+=("$MIG_GAP"); fi
        detach "$srcnode" "$src" "$net" >/dev/null
        pod_del "$src" >/dev/null
        src=$dst srcnode=$dstnode
    done
    SERIES_STATS="$(mig_stats "${SERIES_GAPS[@]}") missed=$missed"
}

if [[ ",$PARTS," == *,plugin,* ]]; then
    plugin_test_up 3
    MIG=$SANDBOX_DIR/mig
    mkdir -p "$MIG"
    NET='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"bmig","topology":"layer2",
          "subnets":"10.80.0.0/24","allowPersistentIPs":true,
          "args":{"cni":{"ipam-claim-reference":"bench/vm.net1"}}}'
    PLAIN=$(jq -c 'del(.args)' <<<"$NET")
    attach 3 c "$PLAIN" >/dev/null || echo "# ADD pinger failed: $RESULT" >&2
    series "$NET" c m
    PLUGIN_STATS=$SERIES_STATS PLUGIN_GAPS=("${SERIES_GAPS[@]}")
    if [[ ",$PARTS," == *,localnet,* ]]; then
        # The same on a physical network: the pinger is the host on the
        # physical segment, whose learning bridge must follow the VM.
        LNET='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"blmig","topology":"localnet",
               "physicalNetworkName":"physnet","subnets":"192.168.200.0/24",
               "excludeSubnets":"192.168.200.0/29","allowPersistentIPs":true,
               "args":{"cni":{"ipam-claim-reference":"bench/vm.net1"}}}'
        # QEMU's announce schedule (5 RARPs), and a 1 s tail: an ovn-controller
        # on a loaded machine may take longer than 0.25 s to activate.
        MIG_TAIL=1 SERIES_SETTLE=2 series "$LNET" ext l 5
        LOCALNET_STATS=$SERIES_STATS LOCALNET_GAPS=("${SERIES_GAPS[@]}")
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
    printf '%-8s %s (goal p50 < 50 ms: %s)\n' localnet "$LOCALNET_STATS" "$(goal "$LOCALNET_STATS")"
    printf '%-8s %s (goal p50 < 50 ms: %s)\n' "by hand" "$BYHAND_STATS" "$(goal "$BYHAND_STATS")"
    [[ -z "$BYHAND_LINE" ]] || echo "by hand samples: ${BYHAND_LINE##*gaps_ms=}"
    [[ ${#PLUGIN_GAPS[@]} -eq 0 ]] || echo "plugin samples: ${PLUGIN_GAPS[*]}"
    [[ ${#LOCALNET_GAPS[@]} -eq 0 ]] || echo "localnet samples (the external host pings): ${LOCALNET_GAPS[*]}"
    [[ -z "$QEMU_LINE" ]] || echo "a real QEMU (TCG) live migration by hand, once: $QEMU_LINE (the gap includes QEMU's downtime and its ~50 ms before the first RARP)"
} | tee "$OUT/migration.txt"
python3 - "$OUT/migration.json" "$PLUGIN_STATS" "$BYHAND_STATS" "$LOCALNET_STATS" <<'EOF'
import json, re, sys
def parse(s):
    d = dict(re.findall(r"(\w+)=([^ ]+)", s))
    return {k: (float(v) if re.fullmatch(r"[0-9.]+", v) else v) for k, v in d.items()} or {"status": s}
json.dump({"unit": "ms", "plugin": parse(sys.argv[2]), "by_hand": parse(sys.argv[3]),
           "localnet": parse(sys.argv[4])},
          open(sys.argv[1], "w"), indent=1)
EOF
exit 0
