#!/usr/bin/env bash
# A real container runtime as osn's caller: containerd's `ctr run --cni`
# (containerd 1.6) runs a busybox container whose network is osn's plugin,
# found the way ctr finds it (the first conf in /etc/cni/net.d, the binary in
# /opt/cni/bin, the node config at /etc/osn/node.json); test-tenancy only
# simulates the runtime that sends no K8S_POD_NAMESPACE.
#
#   - the ADD ctr makes carries no namespace: the logical port's
#     osn/pod-namespace is empty (a testns pod's names testns), its switch
#     is osn._none/<name> (osn/scope=none);
#   - the container's eth0 holds the address and MAC the NB gave its port,
#     its veth's host end is on the sandbox node; it reaches a pod attached
#     directly without a namespace (the same _none network, another node),
#     and does not reach a pod of namespace testns that uses the same NAD
#     name (which a testns pod does reach);
#   - the container's end (KILL, then ctr run's own DEL and --rm) removes its
#     port, veth and libcni cache entry; after the other pods' DELs nothing
#     is left; the host's /etc/cni, /opt/cni, /etc/osn, /var/lib/cni are as
#     before.
#
# ctr has no flags for the CNI directories and hands the plugin its own
# environment, so containerd and every ctr run in a mount namespace of the
# test's own (unshare; ctr.sh's launcher) with the test's directories bound
# over those paths (an overlay on a path's nearest existing parent where the
# path does not exist, its upper layer on a tmpfs of that namespace), and in
# node1's network namespace, where the plugin must make the veth.  ctr runs
# without OSN_CONFIG: the plugin reads the private /etc/osn/node.json, a copy
# of node1's config.
export OSN_POOL_SIZE=${OSN_POOL_SIZE:-0}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
. "$(dirname "$0")/ctr.sh"
. "$ROOT/scripts/mkimage-oci.sh"
for t in containerd ctr runc unshare nsenter; do
    command -v "$t" >/dev/null || skip "missing $t (scripts/deps.sh installs containerd, util-linux)"
done
BUSYBOX=$(command -v busybox) || skip "missing busybox (scripts/deps.sh installs busybox-static)"
readelf -lW "$BUSYBOX" 2>/dev/null | grep -q 'program interpreter' &&
    skip "$BUSYBOX is not static (scripts/deps.sh installs busybox-static)"
require_root_and_tools
# overlayfs, for the paths that do not exist on the host (probed on
# directories of the probe's own, in a mount namespace of its own).
probe=$(mktemp -d /tmp/osn-ctr-probe.XXXXXX)
unshare --mount --propagation private sh -c "mount -t tmpfs osn-probe '$probe' && mkdir '$probe/l' '$probe/u' '$probe/w' &&
    mount -t overlay osn-probe -o 'lowerdir=$probe/l,upperdir=$probe/u,workdir=$probe/w' '$probe/l'" >/dev/null 2>&1
probe_rc=$?
rmdir "$probe"
((probe_rc == 0)) || skip "cannot mount an overlayfs in a mount namespace (needed for a private /etc/cni/net.d)"
T0=$SECONDS
plugin_test_up 2
NODE_NS=$(sandbox_prefix)-node1

T=$(mktemp -d /tmp/osn-ctr-cni.XXXXXX)
RUN_PID=""
ctr_cni_cleanup() {
    ctr_down
    [[ -z "$RUN_PID" ]] || kill "$RUN_PID" 2>/dev/null
    rm -rf "$T"
}
trap '_rc=$?; ctr_cni_cleanup; (exit $_rc); _osn_cleanup' EXIT

# The paths ctr and the plugin read or write, and what the test puts there.
PRIVATE=(/etc/cni/net.d:"$T/view/net.d" /opt/cni/bin:"$T/view/bin"
    /etc/osn:"$T/view/osn" /var/lib/cni:"$T/view/cache")
host_state() {
    local p
    for p in /etc/cni /opt/cni /etc/osn /var/lib/cni; do
        [[ -e "$p" ]] && echo "$p: $(find "$p" -printf '%p %s\n' 2>/dev/null | sort | md5sum)" ||
            echo "$p: absent"
    done
}
HOST_BEFORE=$(host_state)

mkdir -p "$T/view/net.d" "$T/view/bin" "$T/view/osn" "$T/view/cache" "$T/ovl"
cp "$PLUGIN" "$T/view/bin/ovn-kubernetes"
cp "$SANDBOX_DIR/node1/osn.json" "$T/view/osn/node.json"
NAME=ctrnet
SUBNET_PREFIX=10.77.0
NET="{\"cniVersion\":\"1.0.0\",\"type\":\"ovn-kubernetes\",\"name\":\"$NAME\",\"subnet\":\"$SUBNET_PREFIX.0/24\"}"
jq -n --arg name "$NAME" --arg subnet "$SUBNET_PREFIX.0/24" \
    '{cniVersion: "1.0.0", name: $name, plugins: [{type: "ovn-kubernetes", subnet: $subnet}]}' \
    >"$T/view/net.d/10-osn.conflist"

# The launcher: a private mount namespace with PRIVATE in place, then node1's
# netns (nsenter --net, not ip netns exec: that remounts /sys, without the
# cgroup mounts runc needs).  It ends by exec'ing containerd.
cat >"$T/private-view.sh" <<'EOF'
# private-view.sh OVL PATH:SRC... -- CMD...: in a mount namespace of its own
# (unshare --propagation private), SRC bound on PATH; a PATH that does not
# exist is made in an overlay of its nearest existing parent (upper layer on a
# tmpfs at OVL), so the host's directories are never written.  Then exec CMD.
set -eu
ovl=$1
shift
mount -t tmpfs osn-ctr-cni "$ovl"
# Overlays first (each parent once: a later overlay of it would hide the binds
# made under the earlier one), then the binds.
n=0 made=" "
for a in "$@"; do
    [ "$a" != -- ] || break
    path=${a%%:*} parent=${a%%:*}
    while [ ! -e "$parent" ]; do parent=$(dirname "$parent"); done
    case "$made" in *" $parent "*) ;; *" $parent/"*)
        echo "private-view.sh: $parent would hide the overlay of a directory under it" >&2
        exit 1 ;;
    *)
        if [ "$parent" != "$path" ]; then
            n=$((n + 1))
            mkdir "$ovl/u$n" "$ovl/w$n"
            mount -t overlay osn-ctr-cni -o "lowerdir=$parent,upperdir=$ovl/u$n,workdir=$ovl/w$n" "$parent"
            made="$made$parent "
        fi ;;
    esac
    mkdir -p "$path"
done
while [ "$1" != -- ]; do
    mount --bind "${1#*:}" "${1%%:*}"
    shift
done
shift
exec env -u OSN_CONFIG "$@"
EOF
ctr_up "$T/ctd" unshare --mount --propagation private \
    bash "$T/private-view.sh" "$T/ovl" "${PRIVATE[@]}" -- nsenter --net="/var/run/netns/$NODE_NS" || finish
[[ "$(readlink "/proc/$CTD_PID/ns/mnt")" != "$(readlink /proc/$$/ns/mnt)" ]] &&
    [[ "$(readlink "/proc/$CTD_PID/ns/net")" == "$(ip netns exec "$NODE_NS" readlink /proc/self/ns/net)" ]] &&
    ok "containerd runs in a mount namespace of its own, in node1's netns" ||
    fail "containerd is not in its own mount namespace and node1's netns"
check "ctr sees the private CNI conf, plugin and node config" \
    nsenter --target "$CTD_PID" --mount --net sh -c "cmp /etc/cni/net.d/10-osn.conflist '$T/view/net.d/10-osn.conflist' &&
        cmp /opt/cni/bin/ovn-kubernetes '$PLUGIN' && cmp /etc/osn/node.json '$SANDBOX_DIR/node1/osn.json'"

# --- the image: busybox, static ------------------------------------------------
R=$T/rootfs
mkdir -p "$R/bin" "$R/proc" "$R/sys" "$R/dev" "$R/etc" "$R/tmp"
cp "$BUSYBOX" "$R/bin/busybox"
for a in sh sleep ping ip cat; do ln -s busybox "$R/bin/$a"; done
if out=$(oci_image "$R" "$T/busybox.oci.tar" localhost/osn-busybox:test '{"Cmd":["/bin/sh"]}' 2>&1); then
    ok "an OCI image of busybox-static (mkimage-oci.sh)"
else
    fail "oci_image: $out"
fi
ctr_import "$T/busybox.oci.tar"

# --- ctr run --cni ------------------------------------------------------------------
CID=c1
FULL=osn-test-$CID # ctr's CNI container id: namespace-id
timeout 80 "${CTR[@]}" run --rm --cni --snapshotter native localhost/osn-busybox:test "$CID" \
    /bin/sleep 60 </dev/null >"$T/run.out" 2>&1 &
RUN_PID=$!
running() { "${CTR[@]}" tasks ls 2>/dev/null | grep -q "^$CID .*RUNNING"; }
if wait_until 30 running; then
    ok "ctr run --cni: the container runs (its ADD succeeded)"
else
    fail "ctr run --cni: the container does not run: $(cat "$T/run.out")"
    finish
fi
EXEC_N=0
in_ctr() {
    EXEC_N=$((EXEC_N + 1))
    timeout 20 "${CTR[@]}" tasks exec --exec-id "e$BASHPID-$EXEC_N" "$CID" "$@" </dev/null
}

LSP=$(nbctl --bare --columns=name find Logical_Switch_Port "external_ids:\"osn/container-id\"=\"$FULL\"")
assert_eq "osn._none/$NAME" "$(nbctl --bare --columns=name find Logical_Switch "external_ids:\"osn/network\"=\"_none/$NAME\"")" \
    "the container's network is the switch osn._none/$NAME"
[[ -n "$LSP" ]] && ok "the container's logical port ($LSP) names ctr's container id $FULL" ||
    fail "no logical port with osn/container-id=$FULL: $(osn_lsps | tr '\n' ' ')"
LSP_IDS=$(nbctl --if-exists get Logical_Switch_Port "$LSP" external_ids 2>/dev/null)
assert_eq "" "$(nbctl --if-exists get Logical_Switch_Port "$LSP" external_ids:osn/pod-namespace 2>/dev/null | tr -d '"')" \
    "its osn/pod-namespace is empty: ctr sent no K8S_POD_NAMESPACE ($LSP_IDS)"
assert_contains "$LSP_IDS" "\"osn/network\"=\"_none/$NAME\"" "its osn/network is _none/$NAME"
assert_eq "none" "$(nbctl --if-exists get Logical_Switch "osn._none/$NAME" external_ids:osn/scope | tr -d '"')" \
    "the switch says osn/scope=none"
assert_eq "$NAME" "$(nbctl --if-exists get Logical_Switch "osn._none/$NAME" external_ids:osn/name | tr -d '"')" \
    "and osn/name=$NAME"

# The NB's address for the port, and what the container holds.
read -r NB_MAC NB_IP < <(nbctl --if-exists get Logical_Switch_Port "$LSP" addresses | tr -d '[]"')
C_ADDR=$(in_ctr ip -4 -o addr show dev eth0 | awk '{print $4}')
C_MAC=$(in_ctr cat /sys/class/net/eth0/address)
C_IP=${C_ADDR%/*}
assert_eq "$NB_IP/24" "$C_ADDR" "the container's eth0 holds the port's address, from the NAD's subnet"
assert_eq "$NB_MAC" "$C_MAC" "and its MAC"
[[ "$C_IP" == "$SUBNET_PREFIX".* ]] && ok "which is in $SUBNET_PREFIX.0/24" || fail "$C_IP is not in $SUBNET_PREFIX.0/24"
IFACE=$(vsctl 1 --bare --columns=name find Interface "external_ids:\"osn/container-id\"=\"$FULL\"")
[[ -n "$IFACE" ]] && check "the veth's host end $IFACE is in node1's netns (its OVS)" on 1 ip link show dev "$IFACE" ||
    fail "no OVS interface on node1 for $FULL"
check_fails "and not in the host's" ip link show dev "${IFACE:-none}"
CACHE=$(ls "$T/view/cache/results" 2>/dev/null | tr '\n' ' ')
assert_contains "$CACHE" "$NAME-$FULL-eth0" "ctr's libcni cached the result in the private /var/lib/cni"

# --- the pods beside it ------------------------------------------------------------
# p1: CNI_ARGS "" (no namespace), as ctr sends.
add_p1() {
    pod_add p1 >/dev/null
    # shellcheck disable=SC2034 # expect_ok shows RESULT on failure
    RESULT=$(cni 2 ADD cid-p1 "$(pod_netns p1)" net1 "$NET" "")
}
expect_ok "pod p1 on node2, ADD without a namespace" add_p1
expect_ok "pod t1 of namespace testns on node1, the same NAD name" attach 1 t1 "$NET" net1 ";IP=$SUBNET_PREFIX.200"
expect_ok "pod t2 of namespace testns on node2" attach 2 t2 "$NET" net1 ";IP=$SUBNET_PREFIX.201"
P1=$(pod_ip p1)
T1=$(pod_ip t1)
assert_eq "osn._none/$NAME osn.testns/$NAME " "$(osn_switches | sort | tr '\n' ' ')" "two switches: _none's and testns's"
assert_eq "testns" "$(nbctl --bare --columns=external_ids find Logical_Switch_Port 'external_ids:"osn/container-id"="cid-t1"' |
    tr ' ' '\n' | sed -n 's|^osn/pod-namespace=||p')" "t1's port names its namespace (the value ctr's port lacks)"
[[ -n "$T1" && "$T1" != "$C_IP" ]] && ok "t1 ($T1) does not hold the container's address" || fail "t1's address '$T1' (container $C_IP)"
[[ -n "$P1" && "$P1" != "$C_IP" && "$P1" != "$T1" ]] && ok "p1 ($P1) on the _none network beside the container ($C_IP)" ||
    fail "p1's address '$P1' (container $C_IP, t1 $T1)"
if wait_until 15 in_ctr ping -c 1 -W 1 "$P1"; then
    ok "the container reaches p1 (no namespace, node2)"
else
    fail "the container does not reach p1 ($P1)"
fi
check "p1 reaches the container" ping_ok p1 "$C_IP"
check "t2 reaches t1 (testns's network works)" ping_ok t2 "$T1"
check_fails "the container does not reach t1 (testns, same NAD name)" in_ctr ping -c 2 -w 3 "$T1"
check_fails "t1 does not reach the container" ping_ok t1 "$C_IP"

# --- the container's end -----------------------------------------------------------
timeout 10 "${CTR[@]}" tasks kill -s KILL "$CID" >/dev/null 2>&1
if wait_until 30 bash -c "! kill -0 $RUN_PID 2>/dev/null"; then
    wait "$RUN_PID"
    rc=$?
    RUN_PID=""
    assert_eq "137" "$rc" "ctr run ended with the container's KILL (137)"
else
    fail "ctr run still runs 30 s after the container's KILL"
fi
assert_eq "" "$(grep -i 'network review\|error' "$T/run.out")" "ctr's DEL (network.Remove) reported no error"
assert_eq "" "$("${CTR[@]}" containers ls -q 2>/dev/null)" "ctr run --rm removed the container"
assert_eq "" "$(nbctl --bare --columns=name find Logical_Switch_Port "external_ids:\"osn/container-id\"=\"$FULL\"")" \
    "the plugin's DEL removed the container's logical port"
check_fails "and its veth" on 1 ip link show dev "${IFACE:-none}"
assert_eq "" "$(compgen -G "$T/view/cache/results/*-$FULL-*")" "and libcni dropped its cache entry"
grep -qF "DEL _none/$NAME: port $LSP detached" "$SANDBOX_DIR/node1/osn-cni.log" 2>/dev/null &&
    ok "node1's plugin log (its private node.json's log_file) has ctr's DEL of $LSP" ||
    fail "no DEL of $LSP in node1's plugin log"

cni 2 DEL cid-p1 "$(pod_netns p1)" net1 "$NET" "" >/dev/null || fail "DEL p1"
detach 1 t1 "$NET" >/dev/null || fail "DEL t1"
detach 2 t2 "$NET" >/dev/null || fail "DEL t2"
nothing_left "after ctr's DEL and the pods' DELs: nothing left"

ctr_down
assert_eq "$HOST_BEFORE" "$(host_state)" "the host's /etc/cni, /opt/cni, /etc/osn, /var/lib/cni are as before"
[[ -z "$(grep osn-ctr-cni /proc/self/mountinfo)" ]] && ok "no mount of the test in the host's mount namespace" ||
    fail "mounts leaked: $(grep osn-ctr-cni /proc/self/mountinfo)"
echo "# $((SECONDS - T0)) s"
finish
