# shellcheck shell=bash
# shellcheck disable=SC2034 # MIG_*/MQ_* are for the caller
# migration.sh: measure a live migration's interruption on the sandbox.
# Sourced after tests/integration/lib.sh and cni.sh.
#
#   mig_pinger_start POD ADDR LOG   ping ADDR every 10 ms from POD (timestamped
#                                   replies, "ping -D"); MIG_PINGER is its pid;
#                                   POD "ext" is the sandbox's external host
#   mig_after PINGLOG T             the longest wait (ms) for a reply from T
#                                   (epoch seconds; 0 = the whole log) on,
#                                   "none" without a reply after T
#   mig_pinger_stop                 ends it (by pid)
#   mig_rarp POD IFNAME LOG [ROUNDS] the target announces itself (tests/vm/rarp.py)
#   mig_interruption PINGLOG RARPLOG T_DOWN
#                                   prints "GAP_MS EARLY" : from the first RARP
#                                   frame to the first reply after it (ms), and
#                                   how many replies came between the source's
#                                   link down (T_DOWN, epoch seconds) and the
#                                   RARP (0 when activation-strategy=rarp holds
#                                   the target back as it should); "none EARLY"
#                                   when no reply came after the RARP
#   mig_stats MS...                 prints "n=N p50=X max=Y" (ms)
#   sb_binding PORT                 "CHASSIS|ADDITIONAL|ACTIVATED" by chassis name
#   mig_plug_by_hand NODE POD PORT MAC CIDR MTU
#                                   what the plugin will do for a migration
#                                   target, by hand: a veth with the port's MAC
#                                   and address in POD, its host end on NODE's
#                                   br-int with iface-id=PORT

MIG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

mig_pinger_start() {
    local pod=$1 addr=$2 log=$3 ns
    # "ext": the sandbox's external host (the physical segment's).
    ns=$(sandbox_prefix)-pod-$pod
    [[ $pod != ext ]] || ns=$(sandbox_prefix)-ext
    ip netns exec "$ns" ping -D -n -i 0.01 -W 1 "$addr" >"$log" 2>&1 &
    MIG_PINGER=$!
}

mig_pinger_stop() {
    if [[ -n "${MIG_PINGER:-}" ]]; then
        kill "$MIG_PINGER" 2>/dev/null
        wait "$MIG_PINGER" 2>/dev/null
    fi
    MIG_PINGER=""
}

mig_rarp() {
    local pod=$1 ifn=$2 log=$3 rounds=${4:-1}
    ip netns exec "$(sandbox_prefix)-pod-$pod" python3 "$MIG_DIR/rarp.py" --rounds "$rounds" "$ifn" >"$log"
}

mig_interruption() {
    python3 - "$1" "$2" "$3" <<'EOF'
import re, sys
ping, rarp, tdown = sys.argv[1], sys.argv[2], float(sys.argv[3])
try:
    t0 = float(open(rarp).readline().split("t=")[1])
except (IndexError, ValueError, OSError):
    print("none -1")
    sys.exit(0)
rep = [float(m.group(1)) for m in
       re.finditer(r"^\[(\d+\.\d+)\] \d+ bytes from", open(ping).read(), re.M)]
early = sum(1 for r in rep if tdown + 0.005 < r < t0)
after = [r for r in rep if r >= t0]
print("%.1f %d" % ((min(after) - t0) * 1000, early) if after else "none %d" % early)
EOF
}

# mig_copy_neighbours SRCPOD DSTPOD: the source's neighbour entries on net1
# into the target, as a migrated VM brings its ARP cache along (a fresh pod
# would ARP first, and an ARP lost to the activation costs its 1 s retry).
mig_copy_neighbours() {
    local ip kw mac
    while read -r ip kw mac _; do
        [[ $kw == lladdr ]] && in_pod "$2" ip neigh replace "$ip" lladdr "$mac" dev net1 nud reachable
    done < <(in_pod "$1" ip -4 neigh show dev net1)
    return 0
}

mig_after() {
    python3 - "$1" "$2" <<'EOF'
import re, sys
t = float(sys.argv[2])
r = [float(m.group(1)) for m in
     re.finditer(r"^\[(\d+\.\d+)\] \d+ bytes from", open(sys.argv[1]).read(), re.M)]
pts = ([t] if t > 0 else []) + [x for x in r if x >= t]
if len(pts) < 2:
    print("none")
else:
    print("%.1f" % (max(b - a for a, b in zip(pts, pts[1:])) * 1000))
EOF
}

mig_stats() {
    python3 - "$@" <<'EOF'
import sys
v = sorted(float(x) for x in sys.argv[1:])
if not v:
    print("n=0 p50=none max=none")
else:
    print("n=%d p50=%.1f max=%.1f" % (len(v), v[(len(v) - 1) // 2], v[-1]))
EOF
}

# sb_binding PORT: the Port_Binding's chassis, additional chassis (names) and
# options:additional-chassis-activated, "|"-separated.
sb_binding() {
    local ch add act n names=()
    ch=$(sbctl --bare --columns=chassis find Port_Binding "logical_port=\"$1\"")
    add=$(sbctl --bare --columns=additional_chassis find Port_Binding "logical_port=\"$1\"")
    act=$(sbctl --bare --columns=options find Port_Binding "logical_port=\"$1\"" |
        tr ' ' '\n' | sed -n 's/^additional-chassis-activated=//p')
    [[ -z "$ch" ]] || ch=$(sbctl --bare --columns=name list Chassis "$ch")
    for n in $add; do names+=("$(sbctl --bare --columns=name list Chassis "$n")"); done
    echo "$ch|${names[*]}|$act"
}

mig_plug_by_hand() {
    local node=$1 pod=$2 port=$3 mac=$4 cidr=$5 mtu=$6 pfx host
    pfx=$(sandbox_prefix)
    host=vmig-$pod
    [[ -e "/var/run/netns/$pfx-pod-$pod" ]] || pod_add "$pod" >/dev/null
    ip link add "$host" mtu "$mtu" type veth peer name net1 mtu "$mtu" netns "$pfx-pod-$pod" || return 1
    ip link set "$host" netns "$pfx-node${node#node}" || return 1
    in_pod "$pod" ip link set net1 address "$mac" || return 1
    [[ -z "$cidr" ]] || in_pod "$pod" ip addr add "$cidr" dev net1 || return 1
    in_pod "$pod" ethtool -K net1 tx off >/dev/null 2>&1
    in_pod "$pod" ip link set lo up
    on "$node" ip link set "$host" up || return 1
    in_pod "$pod" ip link set net1 up || return 1
    on "$node" ovs-vsctl add-port br-int "$host" -- set Interface "$host" "external_ids:iface-id=$port"
}

# mig_unplug_by_hand NODE POD: undoes mig_plug_by_hand.
mig_unplug_by_hand() {
    on "$1" ovs-vsctl --if-exists del-port br-int "vmig-$2"
    on "$1" ip link del "vmig-$2" 2>/dev/null
    return 0
}

# A real QEMU live migration between two launcher pods (needs tests/vm/vm.sh
# sourced, and $MIG, a directory for sockets and logs):
#   mig_qemu_source POD     bridge binding in POD, the VM started (it stays up
#                           60 s) and its DHCP lease awaited (bounded);
#                           MQ_LEASE is its address/prefix
#   mig_qemu_target POD     bridge binding in POD, a QEMU waiting with
#                           -incoming on $MIG/mig.sock
#   mig_qemu_migrate PINGER ADDR
#                           PINGER pings ADDR every 10 ms while QEMU migrates
#                           (HMP "migrate" on the source's monitor, bounded);
#                           MQ_DOWN = QEMU's reported downtime (ms), MQ_GAP =
#                           the longest gap between replies around the
#                           migration (ms), MQ_AFTER = replies after it began
#   mig_qemu_stop source|target
# Call them in the test's own shell, not in $(...) or "check": they set
# the MQ_* variables (the pids among them).
mig_qemu_source() {
    vm_bridge_binding "$(sandbox_prefix)-pod-$1" net1 || return 1
    VM_MONITOR=$MIG/mon1.sock vm_start "$(sandbox_prefix)-pod-$1" "$MIG/vm-src.con" 150 osn.stay=60 || return 1
    MQ_S_PID=$VM_PID MQ_S_WD=$VM_WATCHDOG
    wait_until 60 grep -q '^OSN-VM: link eth0' "$MIG/vm-src.con" || return 1
    MQ_LEASE=$(vm_field "$MIG/vm-src.con" "dhcp bound" ip)
}

mig_qemu_target() {
    vm_bridge_binding "$(sandbox_prefix)-pod-$1" net1 || return 1
    VM_MONITOR=$MIG/mon2.sock VM_QEMU_EXTRA="-incoming unix:$MIG/mig.sock" \
        vm_start "$(sandbox_prefix)-pod-$1" "$MIG/vm-dst.con" 150 osn.stay=60 || return 1
    MQ_T_PID=$VM_PID MQ_T_WD=$VM_WATCHDOG
    wait_until 20 test -S "$MIG/mig.sock"
}

mig_qemu_migrate() {
    local t rc=0 info
    mig_pinger_start "$1" "$2" "$MIG/ping.qemu.log"
    sleep 0.5
    t=$(date +%s.%N)
    vm_hmp "$MIG/mon1.sock" "migrate -d unix:$MIG/mig.sock" >/dev/null
    wait_until 60 bash -c "source '$MIG_DIR/vm.sh'; vm_hmp '$MIG/mon1.sock' 'info migrate' | grep -q 'Migration status: completed'" || rc=1
    info=$(vm_hmp "$MIG/mon1.sock" "info migrate")
    sleep 1.5
    mig_pinger_stop
    MQ_DOWN=$(sed -n 's/^downtime: \([0-9]*\) ms.*/\1/p' <<<"$info")
    read -r MQ_GAP MQ_AFTER < <(python3 - "$MIG/ping.qemu.log" "$t" <<'PY'
import re, sys
r = [float(m.group(1)) for m in
     re.finditer(r"^\[(\d+\.\d+)\] \d+ bytes", open(sys.argv[1]).read(), re.M)]
t = float(sys.argv[2])
pts = [x for x in r if x < t][-1:] + [x for x in r if x >= t]
gaps = [b - a for a, b in zip(pts, pts[1:])]
print("%.0f %d" % (max(gaps) * 1000 if gaps else -1, sum(1 for x in r if x >= t)))
PY
    )
    return $rc
}

mig_qemu_stop() {
    # Not started (a failed step): nothing to stop.
    local MQ_S_PID=${MQ_S_PID:-} MQ_S_WD=${MQ_S_WD:-} MQ_T_PID=${MQ_T_PID:-} MQ_T_WD=${MQ_T_WD:-}
    if [[ "$1" == source ]]; then
        VM_PID=$MQ_S_PID VM_WATCHDOG=$MQ_S_WD vm_stop
    else
        VM_PID=$MQ_T_PID VM_WATCHDOG=$MQ_T_WD vm_stop
    fi
}

# mig_qemu_switch LABEL PINGER ADDR PORT SRCNODE DSTNODE: mig_qemu_migrate and
# what must hold after it, as PASS/FAIL lines (in the caller's shell, so they
# count): the migration completed, pings came back, QEMU's own RARP
# activated DSTNODE; and one "RESULT: LABEL ..." line with the numbers.
mig_qemu_switch() {
    local label=$1 pinger=$2 addr=$3 port=$4 s=$5 d=$6
    if mig_qemu_migrate "$pinger" "$addr"; then
        ok "$label: QEMU's migration completed"
    else
        fail "$label: QEMU's migration did not complete"
    fi
    echo "RESULT: $label qemu_downtime_ms=${MQ_DOWN:-?} ping_max_gap_ms=$MQ_GAP replies_after=$MQ_AFTER"
    if ((MQ_AFTER > 0)); then
        ok "$label: pings resume on the migrated VM (max gap $MQ_GAP ms, QEMU downtime ${MQ_DOWN:-?} ms)"
    else
        fail "$label: no ping reply after the migration"
    fi
    assert_eq "osn-node$s|osn-node$d|osn-node$d" "$(sb_binding "$port")" \
        "$label: QEMU's own RARP activated node$d (additional-chassis-activated)"
}

# mig_switch PINGER ADDR SRCPOD DSTPOD TAG [ROUNDS]: one measured switch-over
# with pods (the port already names both chassis): PINGER pings ADDR every
# 10 ms, SRCPOD's link goes down, DSTPOD sends RARP (ROUNDS frames on QEMU's
# schedule), the pinger stops MIG_TAIL seconds (default 0.25) after the
# last.  Sets MIG_GAP (ms, or
# "none") and MIG_EARLY (replies between the link down and the RARP); logs in
# $MIG/ping.TAG.log and $MIG/rarp.TAG.log.
mig_switch() {
    local pinger=$1 addr=$2 src=$3 dst=$4 tag=$5 rounds=${6:-1} tdown
    mig_pinger_start "$pinger" "$addr" "$MIG/ping.$tag.log"
    sleep 0.3
    mig_copy_neighbours "$src" "$dst"
    in_pod "$src" ip link set net1 down
    tdown=$(date +%s.%N)
    sleep 0.1
    mig_rarp "$dst" net1 "$MIG/rarp.$tag.log" "$rounds"
    sleep "${MIG_TAIL:-0.25}"
    mig_pinger_stop
    read -r MIG_GAP MIG_EARLY < <(mig_interruption "$MIG/ping.$tag.log" "$MIG/rarp.$tag.log" "$tdown")
}
