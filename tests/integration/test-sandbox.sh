#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# shellcheck disable=SC2317  # helpers run indirectly via check/wait_until
# test-sandbox: the sandbox itself works.  Three nodes register as chassis with
# their Geneve encaps; a logical switch with a port on node 1 and one on node 3
# (plumbed by hand, no plugin) carries pings both ways across the overlay;
# "up" twice is harmless; "status" tells the truth; "down" leaves nothing.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

require_root_and_tools
sandbox_up 3
PREFIX=$(sandbox_prefix)

# ---------------------------------------------------------------- chassis

assert_eq 3 "$(sbctl --bare --columns=name list Chassis | grep -c .)" "3 chassis in SB"
for i in 1 2 3; do
    assert_eq "geneve,172.31.0.$((10 + i))" \
        "$(sbctl --format=csv --data=bare --no-headings --columns=type,ip \
            find Encap chassis_name=osn-node$i)" \
        "osn-node$i has Geneve encap 172.31.0.$((10 + i))"
done
check "status exits 0 when up" "$SANDBOX" status --dir "$SANDBOX_DIR"

# ---------------------------------------------------------------- plumbing

# attach NODE LSP POD MAC IP: a pod netns with eth0 (MAC, IP/24) whose veth
# peer sits on the node's br-int as the OVS port of logical port LSP.
attach() {
    local node=$1 lsp=$2 pod=$3 mac=$4 ip=$5 host=h-$2 podns
    podns=$(basename "$(pod_add "$pod")") || return 1
    ip link add "$host" netns "$PREFIX-node$node" type veth \
        peer name eth0 netns "$podns" &&
        ip -n "$podns" link set eth0 address "$mac" mtu 1400 &&
        ip -n "$podns" addr add "$ip/24" dev eth0 &&
        ip -n "$podns" link set eth0 up &&
        ip -n "$PREFIX-node$node" link set "$host" up &&
        on "$node" ovs-vsctl add-port br-int "$host" \
            -- set Interface "$host" "external_ids:iface-id=$lsp"
}

installed() {
    [[ "$(on "$1" ovs-vsctl --if-exists get Interface "$2" external_ids:ovn-installed)" == '"true"' ]]
}

MAC1=0a:58:0a:00:00:0b IP1=10.0.0.11
MAC3=0a:58:0a:00:00:0d IP3=10.0.0.13
check "create logical switch ls0 with ports p1, p3" \
    nbctl ls-add ls0 \
    -- lsp-add ls0 p1 -- lsp-set-addresses p1 "$MAC1 $IP1" \
    -- lsp-add ls0 p3 -- lsp-set-addresses p3 "$MAC3 $IP3"
check "plumb p1 on node 1" attach 1 p1 a "$MAC1" "$IP1"
check "plumb p3 on node 3" attach 3 p3 b "$MAC3" "$IP3"
if wait_until 20 installed 1 h-p1; then ok "ovn-installed on node 1"; else fail "ovn-installed on node 1"; fi
if wait_until 20 installed 3 h-p3; then ok "ovn-installed on node 3"; else fail "ovn-installed on node 3"; fi

# Port_Binding chassis = the node that hosts the port.
chassis_of() {
    local uuid
    uuid=$(sbctl --bare --columns=chassis find Port_Binding "logical_port=$1")
    [[ -n "$uuid" ]] && sbctl get Chassis "$uuid" name | tr -d '"'
}
assert_eq osn-node1 "$(chassis_of p1)" "p1 is bound on osn-node1"
assert_eq osn-node3 "$(chassis_of p3)" "p3 is bound on osn-node3"

# ---------------------------------------------------------------- overlay

pings() {
    check "ping $1 -> $3 ($2)" ip netns exec "$PREFIX-pod-$1" ping -c 3 -i 0.2 -W 2 "$3"
}
pings a "node1 -> node3" "$IP3"
pings b "node3 -> node1" "$IP1"
# A full 1400-byte pod packet (DF set) fits the 1500-byte underlay with the
# Geneve overhead (58 bytes here; the userspace datapath drops silently, with
# no ICMP "fragmentation needed", whatever does not fit).
check "1400-byte packet with DF crosses the overlay" \
    ip netns exec "$PREFIX-pod-a" ping -M "do" -s 1372 -c 2 -i 0.2 -W 2 "$IP3"

# The traffic really went through Geneve: node 1 has a tunnel datapath flow
# or at least its tunnel neighbour entry for node 3.
assert_contains "$(on 1 ovs-appctl -t ovs-vswitchd tnl/neigh/show)" "172.31.0.13" \
    "node1 resolved node3's underlay address"

# ---------------------------------------------------------------- up twice

check "second up on a live sandbox succeeds" \
    "$SANDBOX" up --dir "$SANDBOX_DIR" --nodes 3
check "status still exits 0" "$SANDBOX" status --dir "$SANDBOX_DIR"
pings a "after second up" "$IP3"

# ---------------------------------------------------------------- down

check "down succeeds" "$SANDBOX" down --dir "$SANDBOX_DIR"
assert_eq "" "$(ip netns list | awk '{print $1}' | grep -- "^$PREFIX-")" "no netns $PREFIX-* left"
assert_eq "" "$(procs_mentioning "$SANDBOX_DIR")" "no process with $SANDBOX_DIR on its command line"
check_fails "$SANDBOX_DIR is gone" test -e "$SANDBOX_DIR"
check_fails "status exits non-zero after down" "$SANDBOX" status --dir "$SANDBOX_DIR"
check "down again succeeds" "$SANDBOX" down --dir "$SANDBOX_DIR"

finish
