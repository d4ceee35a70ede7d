#!/usr/bin/env bash
# The demo (`make demo`): `osnctl validate` on the seed's two sample NADs as
# the enhancement writes them (and why Multus would refuse them), a 3-node OVN
# sandbox, the seed's two networks, what the first ADD created in OVN's
# Northbound DB, two pods per node on each network, a table of pods and
# addresses, each network's MTU and why, a ping matrix, the external
# network's reachability, and what osnctl sees.  It leaves the sandbox up for
# exploring (every hint names its directory); re-running it after any
# partial run starts the pods over.  Colour only on a terminal.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OSN_BUILD=${OSN_BUILD:-$ROOT/build}
SB=$ROOT/sandbox/osn-sandbox
PLUGIN=$OSN_BUILD/src/plugin/ovn-kubernetes
OSNCTL=$OSN_BUILD/src/osnctl/osnctl
DIR=${OSN_SANDBOX_DIR:-/tmp/osn-sandbox}
NODES=3
[[ $(id -u) -eq 0 ]] || { echo "demo: needs root (network namespaces, OVS)" >&2; exit 1; }
[[ -x $PLUGIN ]] || { echo "demo: $PLUGIN is not built (run make)" >&2; exit 1; }

# The seed's two sample NAD configs, trailing commas removed (see
# `osnctl validate` for why they must be).
SEED1='{"cniVersion": "0.3.1", "type": "ovn-kubernetes", "name": "tenant-overlay", "subnet": "10.10.10.0/24"}'
SEED2='{"cniVersion": "0.3.1", "type": "ovn-kubernetes", "name": "tenant-overlay-ext-network", "subnet": "10.10.20.0/24", "has_external_connectivity": true}'

# A ping that forgives one lost packet: a tunnel's first packet to a new
# peer waits for the peer's MAC (userspace datapath) and may be dropped.
reach() { # NETNS ARGS...
    local ns=$1
    shift
    ip netns exec "$ns" ping -c 1 -W 1 "$@" >/dev/null 2>&1 ||
        ip netns exec "$ns" ping -c 1 -W 2 "$@" >/dev/null 2>&1
}

if [[ -t 1 ]]; then
    say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
    say() { printf '\n== %s\n' "$*"; }
fi

cni() { # NODE VERB POD IFNAME CONF
    local ns=/var/run/netns/$PREFIX-pod-$3
    "$SB" exec --dir "$DIR" "$1" -- env CNI_COMMAND="$2" CNI_CONTAINERID="demo-$3" \
        CNI_NETNS="$ns" CNI_IFNAME="$4" CNI_PATH=/opt/cni/bin \
        CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=${DEMO_NS:-testns1};K8S_POD_NAME=$3" "$PLUGIN" <<<"$5"
}

SAMPLES=$ROOT/tests/golden/validate/in
if [[ -x $OSNCTL ]]; then
    say "osnctl validate: the seed's two sample NADs, exactly as the enhancement writes them"
    (cd "$SAMPLES" && "$OSNCTL" validate seed-tenant-network-1.yaml seed-tenant-network-2.yaml) || true
    echo "(the demo below attaches pods to the same two configs with the trailing commas removed)"
fi

say "osn-sandbox up --nodes $NODES ($DIR)"
t0=$(date +%s%N)
"$SB" up --dir "$DIR" --nodes "$NODES"
echo "up in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
PREFIX=$(sed -n 's/^PREFIX=//p' "$DIR/.osn-sandbox")

# Pods: pN-M = pod M on node N.  Re-running the demo starts from scratch,
# whatever an earlier run left (it may have been stopped half-way): each
# pod's attachments are DELeted through the plugin, which removes them
# whether or not the pod's netns still exists; the pod netns is made anew;
# then `osnctl gc` on every node removes any osn attachment whose netns is
# gone (a stale veth or OVS port of the same name included), so that no ADD
# trips over a leftover.
PODS=()
for n in $(seq 1 $NODES); do for m in 1 2; do PODS+=("n$n-p$m"); done; done
for p in "${PODS[@]}"; do
    n=${p:1:1}
    cni "$n" DEL "$p" net1 "$SEED1" >/dev/null 2>&1 || true
    cni "$n" DEL "$p" net2 "$SEED2" >/dev/null 2>&1 || true
    [[ ! -e /var/run/netns/$PREFIX-pod-$p ]] || "$SB" pod-del --dir "$DIR" "$p" >/dev/null
done
# The VM's launcher pod of an earlier run (and its qemu, if one is left:
# the demo starts it with a hard bound and kills it by pid).
cni 2 DEL vmpod net1 "$SEED1" >/dev/null 2>&1 || true
DEMO_NS=testns2 cni 1 DEL other net1 "$SEED1" >/dev/null 2>&1 || true
[[ ! -e /var/run/netns/$PREFIX-pod-other ]] || "$SB" pod-del --dir "$DIR" other >/dev/null
[[ ! -e /var/run/netns/$PREFIX-pod-vmpod ]] || "$SB" pod-del --dir "$DIR" vmpod >/dev/null
if [[ -x $OSNCTL ]]; then
    for n in $(seq 1 $NODES); do
        "$SB" exec --dir "$DIR" "$n" -- "$OSNCTL" gc >/dev/null 2>&1 || true
    done
fi

say "ADD: each pod gets net1 on tenant-overlay and net2 on tenant-overlay-ext-network"
declare -A IP1 IP2 MS
hint="(log: $DIR/nodeN/osn-cni.log; inspect with $SB nbctl --dir $DIR show)"
for p in "${PODS[@]}"; do
    n=${p:1:1}
    "$SB" pod-add --dir "$DIR" "$p" >/dev/null
    s=$(date +%s%N)
    r1=$(cni "$n" ADD "$p" net1 "$SEED1") || { echo "ADD $p net1 failed: $r1 ${hint/N/$n}"; exit 1; }
    t1=$(( ($(date +%s%N) - s) / 1000000 ))
    if [[ $p == "${PODS[0]}" ]]; then
        echo "the first ADD ($p on osn-node$n, net1 on tenant-overlay) took $t1 ms and made, in OVN's"
        echo "Northbound DB ($SB nbctl --dir $DIR show osn.testns1/tenant-overlay):"
        "$SB" nbctl --dir "$DIR" show osn.testns1/tenant-overlay | sed 's/^/    /'
        echo "one logical switch per network, named for the pods' namespace (testns1) and the"
        echo "NAD's name (its external_ids record osn's ownership, the namespace, the"
        echo "settings' fingerprint and the pool's index), the first attachment's port (named"
        echo "from network, container and interface) and the network's pool: spare ports"
        echo "(osn.<network>.spare.<uuid>) that ovn-northd compiles now, so that the next ADDs"
        echo "bind one and wait only for ovn-controller (node config pool_size, default 4)."
        echo "OVS on the node has the veth's host end on br-int with external_ids:iface-id set"
        echo "to the port's name."
    fi
    r2=$(cni "$n" ADD "$p" net2 "$SEED2") || { echo "ADD $p net2 failed: $r2 ${hint/N/$n}"; exit 1; }
    MS[$p]=$(( ($(date +%s%N) - s) / 2000000 ))
    IP1[$p]=$(jq -r '.ips[0].address' <<<"$r1")
    IP2[$p]=$(jq -r '.ips[0].address' <<<"$r2")
done
echo
printf '%-8s %-10s %-18s %-18s %s\n' POD NODE "net1 (overlay)" "net2 (external)" "ADD ms (avg)"
for p in "${PODS[@]}"; do
    printf '%-8s %-10s %-18s %-18s %s\n' "$p" "osn-node${p:1:1}" "${IP1[$p]}" "${IP2[$p]}" "${MS[$p]}"
done

say "MTU of each network, and why"
NODECONF=$DIR/node1/osn.json
UL=$(jq -r '.underlay_mtu // 1500' "$NODECONF")
OV=$(jq -r '.overlay_mtu // empty' "$NODECONF")
PH=$(jq -r '.physical_mtu // 1500' "$NODECONF")
WHY1="overlay: underlay_mtu $UL - 58 bytes of Geneve over IPv4"
[[ -z $OV ]] || WHY1="overlay: the node config's overlay_mtu $OV"

P0=${PODS[0]}
M1=$(ip netns exec "$PREFIX-pod-$P0" cat /sys/class/net/net1/mtu)
M2=$(ip netns exec "$PREFIX-pod-$P0" cat /sys/class/net/net2/mtu)
printf '%-28s %-6s %s\n' NETWORK MTU WHY
printf '%-28s %-6s %s\n' tenant-overlay "$M1" "$WHY1 ($NODECONF)"
printf '%-28s %-6s %s\n' tenant-overlay-ext-network "$M2" "external: the physical network's physical_mtu $PH ($NODECONF)"
echo "(an explicit \"mtu\" above these is refused at ADD, and by osnctl validate -c $NODECONF)"

say "ping matrix on tenant-overlay (row pings column over net1; ok = reply)"
printf '%-8s' ""; for q in "${PODS[@]}"; do printf '%-7s' "$q"; done; echo
fails=0
for p in "${PODS[@]}"; do
    printf '%-8s' "$p"
    for q in "${PODS[@]}"; do
        if [[ $p == "$q" ]]; then printf '%-7s' "-"; continue; fi
        if reach "$PREFIX-pod-$p" "${IP1[$q]%/*}"; then
            printf '%-7s' ok
        else
            printf '%-7s' FAIL; fails=$((fails + 1))
        fi
    done
    echo
done

say "the isolated tenant network: pod \"other\" of namespace testns2, the same NAD"
"$SB" pod-add --dir "$DIR" other >/dev/null
r=$(DEMO_NS=testns2 cni 1 ADD other net1 "$SEED1") || { echo "ADD other failed: $r ${hint/N/1}"; exit 1; }
echo "other got $(jq -r '.ips[0].address' <<<"$r") on switch osn.testns2/tenant-overlay, a network of its own:"
"$SB" nbctl --dir "$DIR" --columns=name,external_ids find Logical_Switch 'external_ids:"osn/name"=tenant-overlay' |
    grep -E '^(name|external_ids)' | sed -e 's/^/    /' -e 's/"osn\/spare\/[^,}]*[,]* *//g'
iso=0
for p in "${PODS[@]}"; do reach "$PREFIX-pod-other" "${IP1[$p]%/*}" && iso=$((iso + 1)); done
if [[ $iso -eq 0 ]]; then
    echo "other reaches none of the ${#PODS[@]} testns1 pods on tenant-overlay: isolated"
else
    echo "other reached $iso testns1 pod(s): NOT isolated"; fails=$((fails + 1))
fi
echo "(a namespace shares a network only when the admin lists it in the node config's"
echo " cluster_networks; physical networks and VLANs are granted in physical_networks)"

say "external reachability: gateway host 10.10.20.1 on the physical network \"physnet\""
printf '%-8s %-22s %-22s %s\n' POD "net2 -> gateway" "gateway -> net2" "net1 (overlay only) -> gateway"
for p in "${PODS[@]}"; do
    a=FAIL; b=FAIL; c=reachable
    reach "$PREFIX-pod-$p" -I net2 10.10.20.1 && a=ok
    reach "$PREFIX-ext" "${IP2[$p]%/*}" && b=ok
    reach "$PREFIX-pod-$p" -I net1 10.10.20.1 || c="isolated (as it should)"
    [[ $a == ok && $b == ok && $c != reachable ]] || fails=$((fails + 1))
    printf '%-8s %-22s %-22s %s\n' "$p" "$a" "$b" "$c"
done

# A VM as KubeVirt runs one: the launcher pod's interface is made by osn, its
# MAC moves into the VM (bridge binding), and the VM asks OVN's DHCP for its
# address, then pings a pod on another node.  The kernel and initramfs are
# built from Debian packages by scripts/vm-image.sh (cached); qemu runs under
# software emulation unless KVM works, with a hard time bound.
. "$ROOT/tests/vm/vm.sh"
if WHY=$(vm_require 2>&1); then
    say "a VM (qemu, KubeVirt's bridge binding) in launcher pod vmpod on osn-node2, on tenant-overlay"
    "$SB" pod-add --dir "$DIR" vmpod >/dev/null
    cni 2 ADD vmpod net1 "$SEED1" >/dev/null || { echo "ADD vmpod failed ${hint/N/2}"; exit 1; }
    TARGET=${IP1[n1-p1]%/*}
    if vm_bridge_binding "$PREFIX-pod-vmpod" net1; then
        CON=$DIR/vm-console.log
        vm_start "$PREFIX-pod-vmpod" "$CON" 90 "osn.ping=$TARGET"
        echo "booting (accel $(vm_accel)); the guest's serial console ($CON):"
        if vm_wait 90; then
            grep 'OSN-VM:' "$CON" | sed 's/^/    /'
            grep -q "OSN-VM: ping $TARGET ok" "$CON" || fails=$((fails + 1))
        else
            echo "the VM did not finish (console: $CON)"; fails=$((fails + 1))
        fi
        vm_stop
    else
        echo "bridge binding in vmpod failed"; fails=$((fails + 1))
    fi
else
    echo "(no VM part: $WHY)"
fi

if [[ -x $OSNCTL ]]; then
    say "osnctl networks (on osn-node1)"
    "$SB" exec --dir "$DIR" 1 -- "$OSNCTL" networks || true
    say "osnctl attachments (on osn-node1)"
    "$SB" exec --dir "$DIR" 1 -- "$OSNCTL" attachments || true
fi

say "done"
echo "The sandbox in $DIR stays up: explore with"
echo "  $SB status --dir $DIR"
echo "  $SB nbctl --dir $DIR show"
echo "  $SB exec --dir $DIR 1 -- $OSNCTL networks"
echo "  less $DIR/node1/osn-cni.log"
echo "re-run the demo with: make demo (it starts the pods over)"
echo "and remove it with: $SB down --dir $DIR"
[[ $fails -eq 0 ]] || { echo "demo: $fails check(s) failed (sandbox $DIR; logs in $DIR/*.log and $DIR/node*/)"; exit 1; }
