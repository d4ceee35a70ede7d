# shellcheck shell=bash
# vm.sh: a real VM (qemu-system-x86_64) in a pod's netns, bound to the pod's
# interface the way KubeVirt's bridge binding does it.  Sourced by the tests;
# also a command (tests/vm/vm.sh VERB ...), see the end of this file.
#
#   vm_image                    -> VM_KERNEL, VM_INITRD (scripts/vm-image.sh, cached)
#   vm_accel                    -> "kvm" or "tcg" (KVM only when a short bounded
#                                  boot under KVM really finishes; cached per boot)
#   vm_bridge_binding NS IF     -> VM_TAP, VM_MAC: the pod interface's MAC moves to
#                                  the VM, the interface gets another MAC and loses
#                                  its addresses, bridge k6t-IF joins IF and tap
#                                  tap-IF (KubeVirt's names)
#   vm_start NS CONSOLE TIMEOUT_S CMDLINE...
#                               -> qemu in netns NS on VM_TAP with VM_MAC, serial
#                                  console to CONSOLE; VM_PID; killed (by pid) after
#                                  TIMEOUT_S whatever happens
#   vm_wait [TIMEOUT_S]         -> waits for VM_PID (bounded); 0 if the guest ended
#                                  by itself ("OSN-VM: done" on the console)
#   vm_stop                     -> kills VM_PID if it still runs
#   vm_field CONSOLE WHAT KEY   -> a field of an "OSN-VM: WHAT ... KEY=value" line
#   vm_hmp SOCKET CMD           -> one QEMU monitor (HMP) command, its answer
#
# VM_MONITOR=PATH gives the next vm_start an HMP monitor on that unix socket;
# VM_QEMU_EXTRA adds words to its qemu command line (e.g. "-incoming
# unix:PATH" for a live-migration target).
# The guest (tests/vm/guest/init) prints "OSN-VM: ..." lines; see there.
#
# Userspace OVS datapath: the pod's veth is read by ovs-vswitchd through
# AF_PACKET, so a frame with a partial (offloaded) checksum leaves the node
# with a bad one.  The plugin switches TX checksum offload off on the pod
# interface; for the VM the same must hold end to end, so the virtio-net
# device is given csum=off (the guest computes every checksum itself) and
# the tap and the bridge get "tx off" too.

VM_ROOT=${VM_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
VM_QEMU=${VM_QEMU:-qemu-system-x86_64}
VM_MEM=${VM_MEM:-128}

vm_require() {
    command -v "$VM_QEMU" >/dev/null 2>&1 || {
        echo "missing $VM_QEMU (scripts/deps.sh installs qemu-system-x86)"
        return 1
    }
    [[ -c /dev/net/tun ]] || {
        echo "no /dev/net/tun"
        return 1
    }
    return 0
}

vm_image() {
    local out
    [[ ! -s "${VM_KERNEL:-}" || ! -s "${VM_INITRD:-}" ]] || return 0
    out=$("$VM_ROOT/scripts/vm-image.sh") || return 1
    VM_KERNEL=$(sed -n 's/^KERNEL=//p' <<<"$out")
    VM_INITRD=$(sed -n 's/^INITRD=//p' <<<"$out")
    [[ -s "$VM_KERNEL" && -s "$VM_INITRD" ]]
}

# _vm_qemu CONSOLE ACCEL NETARGS CMDLINE: the qemu command line, in VM_ARGV.
_vm_qemu() {
    local console=$1 accel=$2 net=$3 cmdline=$4 mon=none
    [[ -z "${VM_MONITOR:-}" ]] || mon="unix:$VM_MONITOR,server,nowait"
    VM_ARGV=("$VM_QEMU" -nodefaults -no-user-config -no-reboot
        -accel "$accel" -m "$VM_MEM" -smp 1
        -display none -monitor "$mon" -serial "file:$console"
        -kernel "$VM_KERNEL" -initrd "$VM_INITRD"
        -append "console=ttyS0 quiet loglevel=3 panic=-1 $cmdline")
    if [[ -n "${VM_QEMU_EXTRA:-}" ]]; then
        # shellcheck disable=SC2206 # words, e.g. "-incoming unix:/path"
        VM_ARGV+=($VM_QEMU_EXTRA)
    fi
    if [[ -n "$net" ]]; then
        # shellcheck disable=SC2206
        VM_ARGV+=($net)
    else
        VM_ARGV+=(-nic none)
    fi
}

# _vm_run_bounded TIMEOUT_S CMD...: runs CMD in the background, kills it (by
# its pid) after TIMEOUT_S; returns its status, 124 when it was killed.
_vm_run_bounded() {
    local t=$1 pid i
    shift
    "$@" </dev/null >/dev/null 2>&1 &
    pid=$!
    for ((i = 0; i < t * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        return 124
    fi
    wait "$pid"
}

# vm_accel: "kvm" when /dev/kvm opens and a probe boot (no network; /init
# prints "done" at once) finishes within 15 s; else "tcg".  On this project's
# VM (nested, kvm-pvm) /dev/kvm opens but a guest under KVM prints nothing in
# 20 s (and "-cpu host" aborts qemu on MSR 0x10a), hence the probe.  The answer is kept
# for this boot of the host in /tmp/osn-vm-accel.BOOTID; OSN_VM_ACCEL=tcg|kvm
# overrides it.  VM_PROBE_S is how long the probe boot took.
vm_accel() {
    if [[ -n "${OSN_VM_ACCEL:-}" ]]; then
        echo "$OSN_VM_ACCEL"
        return 0
    fi
    local bid cache con t0 a=tcg
    bid=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo unknown)
    cache=/tmp/osn-vm-accel.$bid
    if [[ -s "$cache" ]]; then
        cat "$cache"
        return 0
    fi
    if [[ -r /dev/kvm && -w /dev/kvm ]]; then
        vm_image || return 1
        con=$(mktemp /tmp/osn-vm-probe.XXXXXX)
        _vm_qemu "$con" kvm "" "osn.probe=1"
        t0=$(date +%s%N)
        if _vm_run_bounded 15 "${VM_ARGV[@]}" && grep -q '^OSN-VM: done' "$con"; then
            a=kvm
        fi
        # shellcheck disable=SC2034 # for the caller
        VM_PROBE_S=$(awk -v n=$(($(date +%s%N) - t0)) 'BEGIN{printf "%.2f", n/1e9}')
        rm -f "$con"
    fi
    echo "$a" >"$cache"
    echo "$a"
}

# _vm_other_mac MAC: a locally administered MAC that differs from MAC, for
# the pod interface once the VM has taken its MAC (KubeVirt gives it a
# random one; a fixed transform keeps the tests reproducible).
_vm_other_mac() {
    local -a o
    IFS=: read -ra o <<<"${1,,}"
    printf '02:%02x:%s:%s:%s:%s\n' $((0x${o[1]} ^ 0xff)) "${o[2]}" "${o[3]}" "${o[4]}" "${o[5]}"
}

# vm_bridge_binding NETNS IFNAME: KubeVirt's bridge binding inside netns
# NETNS (a name under /var/run/netns) for its interface IFNAME.  Sets VM_TAP,
# VM_MAC, VM_BRIDGE.  The pod interface keeps its link and its place on the
# network; only its MAC and addresses move to the VM.
vm_bridge_binding() {
    local ns=$1 ifn=$2 mac mtu br=k6t-$2 tap=tap-$2 n=(ip netns exec "$1")
    mac=$("${n[@]}" cat "/sys/class/net/$ifn/address") || return 1
    mtu=$("${n[@]}" cat "/sys/class/net/$ifn/mtu") || return 1
    # The pod interface's addresses belong to the VM now (served by DHCP).
    "${n[@]}" ip addr flush dev "$ifn" scope global || return 1
    "${n[@]}" ip link set "$ifn" down &&
        "${n[@]}" ip link set "$ifn" address "$(_vm_other_mac "$mac")" || return 1
    # No IPv6 on the pod side: its link-local NS/MLD would come from a MAC that
    # port security drops anyway.
    "${n[@]}" sysctl -qw "net.ipv6.conf.$ifn.disable_ipv6=1" 2>/dev/null
    "${n[@]}" ip link add "$br" type bridge || return 1
    "${n[@]}" sysctl -qw "net.ipv6.conf.$br.disable_ipv6=1" 2>/dev/null
    "${n[@]}" ip link set "$br" mtu "$mtu" up || return 1
    "${n[@]}" ip tuntap add dev "$tap" mode tap || return 1
    "${n[@]}" sysctl -qw "net.ipv6.conf.$tap.disable_ipv6=1" 2>/dev/null
    "${n[@]}" ip link set "$tap" mtu "$mtu" master "$br" up || return 1
    "${n[@]}" ip link set "$ifn" master "$br" up || return 1
    if command -v ethtool >/dev/null; then
        "${n[@]}" ethtool -K "$ifn" tx off >/dev/null 2>&1
        "${n[@]}" ethtool -K "$tap" tx off >/dev/null 2>&1
        "${n[@]}" ethtool -K "$br" tx off >/dev/null 2>&1
    fi
    # shellcheck disable=SC2034 # for the caller
    VM_TAP=$tap VM_MAC=$mac VM_BRIDGE=$br
}

# vm_start NETNS CONSOLE TIMEOUT_S CMDLINE...: qemu inside NETNS ("" for
# none: then no network), on VM_TAP with VM_MAC.  "ip netns exec" execs
# qemu, so VM_PID is qemu's pid.  A watchdog subshell kills that pid after
# TIMEOUT_S; VM_ACCEL says which accelerator was used.
vm_start() {
    local ns=$1 con=$2 t=$3 net=""
    shift 3
    VM_ACCEL=$(vm_accel) || return 1
    vm_image || return 1
    : >"$con"
    if [[ -n "$ns" ]]; then
        net="-netdev tap,id=n0,ifname=$VM_TAP,script=no,downscript=no,vhost=off"
        net+=" -device virtio-net-pci,netdev=n0,mac=$VM_MAC,csum=off,gso=off,guest_csum=off,guest_tso4=off,guest_tso6=off,guest_ecn=off,guest_ufo=off,host_tso4=off,host_tso6=off,host_ecn=off,host_ufo=off,mrg_rxbuf=off"
        _vm_qemu "$con" "$VM_ACCEL" "$net" "$*"
        ip netns exec "$ns" "${VM_ARGV[@]}" </dev/null >"$con.qemu" 2>&1 &
    else
        _vm_qemu "$con" "$VM_ACCEL" "" "$*"
        "${VM_ARGV[@]}" </dev/null >"$con.qemu" 2>&1 &
    fi
    VM_PID=$!
    VM_T0=$(date +%s%N)
    VM_CONSOLE=$con
    # The watchdog keeps no fd of the caller's (a pipe held open by its sleep
    # would stall the caller's pipeline) and takes its sleep with it when
    # vm_stop ends it.
    (
        exec </dev/null >/dev/null 2>&1
        sleep "$t" &
        s=$!
        trap 'kill $s; exit 0' TERM
        wait $s
        kill -KILL "$VM_PID"
    ) &
    VM_WATCHDOG=$!
}

# vm_wait [TIMEOUT_S]: waits (bounded; default 120 s) for qemu to end; sets
# VM_BOOT_S (seconds from start to exit); 0 when the console says done.
vm_wait() {
    local t=${1:-120} i
    for ((i = 0; i < t * 10; i++)); do
        kill -0 "$VM_PID" 2>/dev/null || break
        sleep 0.1
    done
    vm_stop
    VM_BOOT_S=$(awk -v n=$(($(date +%s%N) - VM_T0)) 'BEGIN{printf "%.2f", n/1e9}')
    grep -q '^OSN-VM: done' "$VM_CONSOLE"
}

vm_stop() {
    if [[ -n "${VM_PID:-}" ]] && kill -0 "$VM_PID" 2>/dev/null; then
        kill -KILL "$VM_PID" 2>/dev/null
    fi
    [[ -z "${VM_PID:-}" ]] || wait "$VM_PID" 2>/dev/null
    if [[ -n "${VM_WATCHDOG:-}" ]]; then
        kill "$VM_WATCHDOG" 2>/dev/null
        wait "$VM_WATCHDOG" 2>/dev/null
    fi
    VM_PID="" VM_WATCHDOG=""
    return 0
}

# vm_field CONSOLE WHAT KEY: from the last "OSN-VM: WHAT ..." line, the value
# of KEY=...; e.g. vm_field con dhcp ip -> 10.10.10.5/24.
vm_field() {
    tr -d '\r' <"$1" | grep "^OSN-VM: $2 " | tail -n1 | tr ' ' '\n' | sed -n "s/^$3=//p"
}

# vm_hmp SOCKET CMD: sends one HMP command to a monitor made by VM_MONITOR
# and prints the answer (bounded: 5 s).
vm_hmp() {
    python3 - "$1" "$2" <<'EOF'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
s.connect(sys.argv[1])
buf = b""
def until_prompt():
    global buf
    end = time.time() + 5
    while b"(qemu) " not in buf and time.time() < end:
        buf += s.recv(4096)
    out, _, buf = buf.partition(b"(qemu) ")
    return out
until_prompt()
s.sendall(sys.argv[2].encode() + b"\n")
out = until_prompt().decode(errors="replace")
# The monitor echoes the command line (with terminal escapes) first.
print("\n".join(l for l in out.splitlines()[1:] if l.strip()))
EOF
}

# As a command: tests/vm/vm.sh boot [CMDLINE...] boots once without network
# and prints the console and the time; tests/vm/vm.sh accel prints kvm|tcg.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -uo pipefail
    case "${1:-}" in
    accel) vm_accel ;;
    image) vm_image && echo "KERNEL=$VM_KERNEL" && echo "INITRD=$VM_INITRD" ;;
    boot)
        shift
        vm_require || exit 77
        con=$(mktemp /tmp/osn-vm-con.XXXXXX)
        vm_start "" "$con" 60 "$@" || exit 1
        vm_wait 60
        rc=$?
        tr -d '\r' <"$con"
        echo "# accel=$VM_ACCEL boot+poweroff=${VM_BOOT_S}s"
        rm -f "$con" "$con.qemu"
        exit $rc
        ;;
    *)
        echo "usage: tests/vm/vm.sh accel | image | boot [CMDLINE...]" >&2
        exit 2
        ;;
    esac
fi
