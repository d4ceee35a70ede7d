#!/usr/bin/env bash
# Tenancy on real OVN over 3 nodes: a network belongs to its namespace
# (K8S_POD_NAMESPACE), sharing across namespaces and physical networks are
# the admin's to grant in the node config.
#
#   - one NAD name in two namespaces: two L2 domains (no ICMP or ARP reply,
#     no broadcast of one seen by a sniffer in the other), the same address
#     held in both at once;
#   - a cluster network (node config "cluster_networks"): the listed
#     namespaces reach each other, an unlisted one that uses the name does
#     not; node configs that disagree: the refused ADD leaves nothing;
#   - a VM identity (ipam-claim-reference, and the MAC-only form) presented
#     by another namespace while the VM runs and while it is stopped: the
#     VM's port untouched, its pinger sees no gap, its reservation stays;
#   - physical networks (node config "physical_networks"): a granted VLAN
#     and untagged attach and reach the physical side, an ungranted VLAN and
#     an ungranted physical network fail with code 104 and leave nothing;
#   - an ADD without K8S_POD_NAMESPACE gets a scope of its own;
#   - networks made by the previous osn (built from this repository's
#     history): one held by one namespace stays that namespace's, one held
#     by two stays shared by exactly those two, their pods keep pinging
#     across the upgrade, and a namespace that held no pod gets its own.
export OSN_POOL_SIZE=${OSN_POOL_SIZE:-0}
export OSN_PHYSICAL_NETWORKS='{"physnet": {"tenant-a": [10, "untagged"], "tenant-b": ["100-199"]}}'
export OSN_CLUSTER_NETWORKS='{"storage": ["tenant-a", "tenant-b"]}'
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
command -v tcpdump >/dev/null || skip "missing tcpdump (scripts/deps.sh installs it)"
plugin_test_up 3
EXT="$(sandbox_prefix)-ext"
in_ext() { ip netns exec "$EXT" "$@"; }

# add NODE NS POD CONF [IFNAME] [EXTRA_ARGS]: ADD of pod POD of namespace NS
# (NS "" = no K8S_POD_NAMESPACE); RESULT holds the answer.
add() {
    local node=$1 ns=$2 pod=$3 conf=$4 ifname=${5:-net1} extra=${6:-} args
    [[ -e "$(pod_netns "$pod")" ]] || pod_add "$pod" >/dev/null
    args="IgnoreUnknown=1;K8S_POD_NAME=$pod"
    [[ -n "$ns" ]] && args="$args;K8S_POD_NAMESPACE=$ns"
    RESULT=$(cni "$node" ADD "cid-$pod" "$(pod_netns "$pod")" "$ifname" "$conf" "$args$extra")
}
del() {
    local node=$1 ns=$2 pod=$3 conf=$4 ifname=${5:-net1} extra=${6:-} args
    args="IgnoreUnknown=1;K8S_POD_NAME=$pod"
    [[ -n "$ns" ]] && args="$args;K8S_POD_NAMESPACE=$ns"
    cni "$node" DEL "cid-$pod" "$(pod_netns "$pod")" "$ifname" "$conf" "$args$extra" >/dev/null
}
sw_ids() { nbctl --if-exists get Logical_Switch "$1" external_ids 2>/dev/null; }
# gap FILE: the longest time in ms between two replies of a `ping -D` run;
# received FILE: how many replies it got.  A pinger that loses its peer
# (a takeover, a network split) sees a long gap or none at all; a loaded
# machine may delay or drop a single ping.
gap() {
    awk -F'[][]' '/bytes from/ {t = $2 + 0; if (n++ && (t - p) * 1000 > g) g = (t - p) * 1000; p = t}
        END {printf "%d", g}' "$1"
}
received() { sed -n 's/.* \([0-9]*\) received.*/\1/p' "$1"; }

NET='{"cniVersion":"1.0.0","type":"ovn-kubernetes","name":"tenant-overlay","subnet":"10.10.10.0/24"}'

# --- one name, two namespaces --------------------------------------------------
expect_ok "tenant-a pod a1 on node1" add 1 tenant-a a1 "$NET" net1 ";IP=10.10.10.50"
expect_ok "tenant-a pod a2 on node2" add 2 tenant-a a2 "$NET"
expect_ok "tenant-b pod b1 on node2, the same NAD, the same static address" add 2 tenant-b b1 "$NET" net1 ";IP=10.10.10.50"
expect_ok "tenant-b pod b2 on node3" add 3 tenant-b b2 "$NET"
A2=$(pod_ip a2); B2=$(pod_ip b2)
assert_eq "10.10.10.50" "$(pod_ip a1)" "a1 holds 10.10.10.50"
assert_eq "10.10.10.50" "$(pod_ip b1)" "b1 holds 10.10.10.50 at the same time"
SWS=$(osn_switches | grep tenant-overlay | sort | tr '\n' ' ')
assert_eq "osn.tenant-a/tenant-overlay osn.tenant-b/tenant-overlay " "$SWS" "two switches, one per namespace"
assert_contains "$(sw_ids osn.tenant-a/tenant-overlay)" '"osn/namespace"=tenant-a' "the switch records its namespace"
assert_contains "$(sw_ids osn.tenant-b/tenant-overlay)" '"osn/scope"=namespace' "and its scope"
check "a1 pings a2 (same namespace, across nodes)" ping_ok a1 "$A2"
check "b1 pings b2 (same namespace, across nodes)" ping_ok b1 "$B2"
check_fails "a1 gets no ICMP reply from b2" ping_ok a1 "$B2"
check_fails "b2 gets no ICMP reply from a2" ping_ok b2 "$A2"
in_pod a1 ip neigh flush dev net1 2>/dev/null
check_fails "a1 gets no ARP reply for b2's address" in_pod a1 arping -c 2 -w 2 -I net1 "$B2"
# A sniffer in tenant-b sees nothing of tenant-a's broadcasts.
CAP=$SANDBOX_DIR/b2.pcap
in_pod b2 timeout 6 tcpdump -i net1 -n -w "$CAP" 'arp or ether broadcast' 2>/dev/null &
SNIFF=$!
sleep 1.5
in_pod a1 arping -b -c 3 -w 3 -I net1 10.10.10.222 >/dev/null 2>&1 || true
in_pod a2 arping -c 3 -w 3 -I net1 10.10.10.223 >/dev/null 2>&1 || true
wait "$SNIFF" 2>/dev/null
SEEN=$(tcpdump -n -r "$CAP" 2>/dev/null | grep -c '10.10.10.22[23]' || true)
assert_eq "0" "$SEEN" "a tenant-b sniffer sees none of tenant-a's broadcasts"
# ... and the same sniffer sees tenant-b's own (the capture works).
in_pod b2 timeout 5 tcpdump -i net1 -n -w "$CAP" 'arp' 2>/dev/null &
SNIFF=$!
sleep 1.5
in_pod b1 arping -c 2 -w 2 -I net1 10.10.10.224 >/dev/null 2>&1 || true
wait "$SNIFF" 2>/dev/null
check "while it sees tenant-b's own broadcasts" bash -c "tcpdump -n -r '$CAP' 2>/dev/null | grep -q 10.10.10.224"

# --- a cluster network -----------------------------------------------------------
ST='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"storage","topology":"layer2","subnets":"10.20.0.0/24"}'
expect_ok "tenant-a pod sa on the cluster network storage" add 1 tenant-a sa "$ST"
expect_ok "tenant-b pod sb on it" add 2 tenant-b sb "$ST"
expect_ok "tenant-c (not granted) pod sc uses the name too" add 3 tenant-c sc "$ST"
SB_IP=$(pod_ip sb); SC_IP=$(pod_ip sc)
assert_contains "$(osn_switches | tr '\n' ' ')" "osn._cluster/storage " "the granted namespaces share osn._cluster/storage"
assert_contains "$(sw_ids osn._cluster/storage)" '"osn/namespaces"="tenant-a,tenant-b"' "which records the grant"
assert_contains "$(osn_switches | tr '\n' ' ')" "osn.tenant-c/storage" "tenant-c got a network of its own"
check "tenant-a reaches tenant-b on the cluster network" ping_ok sa "$SB_IP"
check_fails "tenant-a does not reach tenant-c's storage" ping_ok sa "$SC_IP"
# Node 3 disagrees: it grants storage to tenant-a alone.
CONF3=$SANDBOX_DIR/node3/osn.json
cp "$CONF3" "$CONF3.orig"
jq '.cluster_networks = {"storage": ["tenant-a"]}' "$CONF3.orig" >"$CONF3"
add 3 tenant-a sd "$ST"; rc=$?
assert_eq "1" "$rc" "an ADD on a node whose cluster_networks disagree fails"
jq_eq "$RESULT" '.code' "102" "with code 102 (conflict)"
jq_eq "$RESULT" '.msg | test("storage") and test("tenant-a,tenant-b") and test("cluster_networks") and test("node3/osn.json")' true \
    "naming the network, both settings and the node config key"
assert_eq "" "$(osn_lsps | grep cid-sd || true)$(in_pod sd ip -o link show net1 2>/dev/null)" "and leaves nothing"
# Node 3 does not share storage at all: tenant-a's pod there would split it.
jq '.cluster_networks = {}' "$CONF3.orig" >"$CONF3"
add 3 tenant-a sd "$ST"; rc=$?
assert_eq "1" "$rc" "an ADD that would split the cluster network fails"
jq_eq "$RESULT" '.msg | test("cluster network") and test("cluster_networks")' true "naming the cluster network and the key"
assert_eq "" "$(osn_switches | grep 'tenant-a/storage' || true)$(osn_lsps | grep cid-sd || true)" "and leaves nothing"
cp "$CONF3.orig" "$CONF3"
for p in 1:tenant-a:sa 2:tenant-b:sb 3:tenant-c:sc; do
    IFS=: read -r n ns pod <<<"$p"
    del "$n" "$ns" "$pod" "$ST" || fail "DEL $pod"
done

# --- a VM identity presented by another namespace ---------------------------------
VM='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"vmnet","topology":"layer2","subnets":"10.30.0.0/24","allowPersistentIPs":true,"args":{"cni":{"ipam-claim-reference":"tenant-a/vm1.net1"}}}'
VMMAC='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"vmnet","topology":"layer2","subnets":"10.30.0.0/24","allowPersistentIPs":true}'
expect_ok "tenant-a VM pod va holds identity tenant-a/vm1.net1 on node1" add 1 tenant-a va "$VM"
expect_ok "tenant-a pinger pp on node2" add 2 tenant-a pp "$VMMAC"
VA_IP=$(pod_ip va); VA_MAC=$(in_pod va cat /sys/class/net/net1/address)
VPORT=osn.tenant-a/vmnet.id.tenant-a/vm1.net1
assert_eq "osn-node1" "$(nbctl --if-exists get Logical_Switch_Port "$VPORT" options:requested-chassis | tr -d '"')" "the VM's port is pinned to node1"
in_pod pp ping -D -i 0.01 -c 500 -W 1 "$VA_IP" >"$SANDBOX_DIR/vmping.out" 2>&1 &
PING=$!
sleep 0.5
expect_ok "tenant-b presents the same claim reference on node3" add 3 tenant-b vb "$VM"
expect_ok "tenant-b presents the VM's MAC (the MAC-only identity) on node2" add 2 tenant-b vm "$VMMAC" net1 ";MAC=$VA_MAC"
assert_eq "osn-node1" "$(nbctl --if-exists get Logical_Switch_Port "$VPORT" options:requested-chassis | tr -d '"')" "the VM's port still names node1 alone"
assert_eq "" "$(nbctl --if-exists get Logical_Switch_Port "$VPORT" options:activation-strategy 2>/dev/null | tr -d '"')" "no migration started on it"
assert_contains "$(nbctl --if-exists get Logical_Switch_Port "$VPORT" external_ids)" '"osn/pod-name"=va' "it still names pod va"
check_fails "tenant-b's pod cannot reach the VM" ping_ok vb "$VA_IP"
wait "$PING"
# A takeover (the VM's port bound elsewhere, or its MAC's traffic taken)
# cuts the replies off for hundreds of ms or for good; a loaded machine may
# delay or drop a single 10 ms ping.  So: no two replies more than 200 ms
# apart, and the VM answers to the end.
GAP=$(gap "$SANDBOX_DIR/vmping.out")
GOT=$(received "$SANDBOX_DIR/vmping.out")
[[ -n $GOT && $GOT -gt 0 && $GAP -le 200 ]] &&
    ok "the VM's pinger saw no gap while another namespace presented its identity (longest between replies: $GAP ms; $GOT of 500 answered)" ||
    fail "the VM's pinger saw a gap of $GAP ms ($GOT of 500 answered)"
check "and the VM still answers" ping_ok pp "$VA_IP"
del 3 tenant-b vb "$VM"; del 2 tenant-b vm "$VMMAC" net1 ";MAC=$VA_MAC"
# Stopped: the identity is a reservation; tenant-b presents it again.
del 1 tenant-a va "$VM"
assert_eq "true" "$(nbctl --if-exists get Logical_Switch_Port "$VPORT" external_ids:osn/reservation | tr -d '"')" "the stopped VM's port is a reservation"
expect_ok "tenant-b presents the claim reference of the stopped VM" add 3 tenant-b vb "$VM"
assert_eq "true" "$(nbctl --if-exists get Logical_Switch_Port "$VPORT" external_ids:osn/reservation | tr -d '"')" "the reservation stays tenant-a's, unbound"
assert_eq "osn.tenant-b/vmnet.id.tenant-a/vm1.net1" "$(nbctl --bare --columns=name find Logical_Switch_Port 'external_ids:"osn/pod-name"=vb')" \
    "tenant-b's identity port lives on tenant-b's network"
del 3 tenant-b vb "$VM"
expect_ok "the VM starts again on node2" add 2 tenant-a va2 "$VM"
assert_eq "$VA_IP" "$(pod_ip va2)" "and gets its address back"
del 2 tenant-a va2 "$VM"; del 2 tenant-a pp "$VMMAC"
# The reservations outlive their pods by design: the admin releases them.
for sw in osn.tenant-a/vmnet osn.tenant-b/vmnet; do nbctl --if-exists ls-del "$sw"; done
for p in $(nbctl --bare --columns=name find Logical_Switch_Port 'external_ids:"osn/reservation"=true'); do
    nbctl --if-exists lsp-del "$p"
done

# --- physical networks -----------------------------------------------------------
UNT='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"ext","topology":"localnet","physicalNetworkName":"physnet","subnets":"10.10.20.0/24","excludeSubnets":"10.10.20.1/32"}'
V10='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"v10","topology":"localnet","physicalNetworkName":"physnet","vlanID":10,"subnets":"10.70.0.0/24"}'
V20='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"v20","topology":"localnet","physicalNetworkName":"physnet","vlanID":20,"subnets":"10.70.0.0/24"}'
OTHER='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"o","topology":"localnet","physicalNetworkName":"datacenter","subnets":"10.71.0.0/24"}'
expect_ok "tenant-a attaches to physnet untagged (granted)" add 1 tenant-a pu "$UNT"
check "and reaches the host on the physical side" ping_ok pu 10.10.20.1
expect_ok "tenant-a attaches to VLAN 10 on node1 (granted)" add 1 tenant-a p10a "$V10"
expect_ok "and on node2" add 2 tenant-a p10b "$V10"
check "the VLAN 10 pods reach each other over the physical segment" ping_ok p10a "$(pod_ip p10b)"
for c in "tenant-a:V20:VLAN 20" "tenant-b:V10:VLAN 10" "tenant-b:UNT:untagged" "tenant-a:OTHER:datacenter" ":UNT:untagged"; do
    IFS=: read -r ns var what <<<"$c"
    add 3 "$ns" deny "${!var}"; rc=$?
    assert_eq "1" "$rc" "${ns:-no namespace} on $what (not granted) is refused"
    jq_eq "$RESULT" '.code' "104" "with code 104"
    jq_eq "$RESULT" ".msg | test(\"physical_networks\") and test(\"${ns:-namespace}\") and test(\"$([[ $var == OTHER ]] && echo datacenter || echo physnet)\")" true \
        "naming the namespace, the physical network and the node config key"
    assert_eq "" "$(osn_lsps | grep cid-deny || true)$(in_pod deny ip -o link show net1 2>/dev/null)" "and leaves nothing"
done
jq_eq "$RESULT" '.msg | test("VLAN") | not' true "untagged is named untagged"
add 3 tenant-a deny "$V20"
jq_eq "$RESULT" '.msg | test("VLAN 20")' true "the refusal names VLAN 20"
jq_eq "$RESULT" '.msg | test("\"physnet\": \\{\"tenant-a\": \\[20\\]\\}")' true "and the grant that would allow it"
del 1 tenant-a pu "$UNT"; del 1 tenant-a p10a "$V10"; del 2 tenant-a p10b "$V10"

# --- no namespace -------------------------------------------------------------------
expect_ok "an ADD without K8S_POD_NAMESPACE (as containerd's ctr run --cni sends)" add 1 "" n1 "$NET"
assert_contains "$(osn_switches | tr '\n' ' ')" "osn._none/tenant-overlay" "lands on a scope of its own"
check_fails "which does not reach tenant-a's network" ping_ok n1 "$A2"
del 1 "" n1 "$NET"
add 1 tenant_x bad "$NET"; rc=$?
jq_eq "$RESULT" '.code' "4" "a K8S_POD_NAMESPACE that is not a namespace name: code 4"
check "and its DEL succeeds" del 1 tenant_x bad "$NET"

for p in 1:tenant-a:a1 2:tenant-a:a2 2:tenant-b:b1 3:tenant-b:b2; do
    IFS=: read -r n ns pod <<<"$p"
    del "$n" "$ns" "$pod" "$NET" || fail "DEL $pod"
done
nothing_left "after the tenancy cases"

# --- the upgrade from an osn before tenancy ------------------------------------------
OLD_REV=${OSN_PRE_TENANCY_REV:-a5504eb}
if ! git -C "$ROOT" cat-file -e "$OLD_REV^{commit}" 2>/dev/null; then
    fail "the previous release ($OLD_REV) is not in this clone's history: the upgrade cases need it"
    finish
fi
OLD=$SANDBOX_DIR/old
mkdir -p "$OLD/src"
git -C "$ROOT" archive "$OLD_REV" | tar -x -C "$OLD/src"
if ! (meson setup "$OLD/build" "$OLD/src" --buildtype=release >"$OLD/build.log" 2>&1 &&
    ninja -C "$OLD/build" src/plugin/ovn-kubernetes >>"$OLD/build.log" 2>&1); then
    tail -5 "$OLD/build.log" | sed 's/^/# /'
    fail "building the previous release's plugin"
    finish
fi
NEWPLUGIN=$PLUGIN
PLUGIN=$OLD/build/src/plugin/ovn-kubernetes
L1='{"cniVersion":"1.0.0","type":"ovn-kubernetes","name":"solo","subnet":"10.40.0.0/24"}'
L2='{"cniVersion":"1.0.0","type":"ovn-kubernetes","name":"shared","subnet":"10.41.0.0/24"}'
expect_ok "before: tenant-a pod la1 on solo (previous release)" add 1 tenant-a la1 "$L1"
expect_ok "before: tenant-a pod la2 on solo" add 2 tenant-a la2 "$L1"
expect_ok "before: tenant-a pod sa1 on shared" add 1 tenant-a sa1 "$L2"
expect_ok "before: tenant-b pod sb1 on shared" add 3 tenant-b sb1 "$L2"
L1VM=$(jq -c '. + {allowPersistentIPs: true, args: {cni: {"ipam-claim-reference": "tenant-a/lvm.net1"}}}' <<<"$L1")
expect_ok "before: tenant-a VM pod lv1 with an identity on solo" add 1 tenant-a lv1 "$L1VM"
LV_IP=$(pod_ip lv1)
LA2=$(pod_ip la2); SB1=$(pod_ip sb1); SA1=$(pod_ip sa1)
assert_eq "osn.shared osn.solo " "$(osn_switches | sort | tr '\n' ' ')" "the previous release names networks by name alone"
in_pod la1 ping -D -i 0.05 -c 200 -W 1 "$LA2" >"$SANDBOX_DIR/up1.out" 2>&1 &
P1=$!
in_pod sa1 ping -D -i 0.05 -c 200 -W 1 "$SB1" >"$SANDBOX_DIR/up2.out" 2>&1 &
P2=$!
PLUGIN=$NEWPLUGIN
sleep 1
expect_ok "after: tenant-a pod la3 joins solo" add 3 tenant-a la3 "$L1"
expect_ok "after: tenant-b pod sb2 joins shared" add 2 tenant-b sb2 "$L2"
expect_ok "after: tenant-c (held no pod) uses the name shared" add 2 tenant-c sc1 "$L2"
expect_ok "after: tenant-b (held no pod on solo) uses the name solo" add 3 tenant-b lb1 "$L1"
assert_eq "tenant-a" "$(nbctl --if-exists get Logical_Switch osn.solo external_ids:osn/namespaces | tr -d '"')" "solo is kept by tenant-a, its one holder"
check "the new plugin's DEL of the old VM pod" del 1 tenant-a lv1 "$L1VM"
assert_eq "true" "$(nbctl --if-exists get Logical_Switch_Port osn.solo.id.tenant-a/lvm.net1 external_ids:osn/reservation | tr -d '"')" \
    "keeps its identity as a reservation on solo"
expect_ok "the VM starts again on node2 (new plugin)" add 2 tenant-a lv2 "$L1VM"
assert_eq "$LV_IP" "$(pod_ip lv2)" "and binds its reservation on solo: the same address"
assert_eq "" "$(nbctl --bare --columns=name find Logical_Switch_Port 'name="osn.tenant-a/solo.id.tenant-a/lvm.net1"')" "no second identity port beside it"
assert_eq "tenant-a,tenant-b" "$(nbctl --if-exists get Logical_Switch osn.shared external_ids:osn/namespaces | tr -d '"')" "shared by exactly its two holders"
check "la3 (new) reaches la2 (old) on solo" ping_ok la3 "$LA2"
check "sb2 (new) reaches sa1 (old) on shared" ping_ok sb2 "$SA1"
check_fails "tenant-c's own 'shared' does not reach the old one" ping_ok sc1 "$SA1"
check_fails "tenant-b's own 'solo' does not reach tenant-a's" ping_ok lb1 "$LA2"
assert_contains "$(osn_switches | tr '\n' ' ')" "osn.tenant-c/shared" "tenant-c's network is its own"
wait "$P1" "$P2"
for u in "1:solo" "2:shared"; do
    f=$SANDBOX_DIR/up${u%%:*}.out g=$(gap "$SANDBOX_DIR/up${u%%:*}.out") n=$(received "$SANDBOX_DIR/up${u%%:*}.out")
    [[ -n $n && $n -ge 190 && $g -le 300 ]] &&
        ok "${u#*:}'s old pods pinged each other through the upgrade (every 50 ms: $n of 200 answered, longest gap $g ms)" ||
        fail "${u#*:}'s old pods: $n of 200 answered, longest gap $g ms ($f)"
done
# The old pods' DEL by the new plugin (their veths are named for the old ports).
del 2 tenant-a lv2 "$L1VM"
nbctl --if-exists lsp-del osn.solo.id.tenant-a/lvm.net1
for p in 1:tenant-a:la1:L1 2:tenant-a:la2:L1 3:tenant-a:la3:L1 1:tenant-a:sa1:L2 3:tenant-b:sb1:L2 2:tenant-b:sb2:L2 2:tenant-c:sc1:L2 3:tenant-b:lb1:L1; do
    IFS=: read -r n ns pod var <<<"$p"
    del "$n" "$ns" "$pod" "${!var}" || fail "DEL $pod"
done
nothing_left "the old networks went with their last pods"
expect_ok "then tenant-a's solo is made under its namespace" add 1 tenant-a la4 "$L1"
assert_eq "osn.tenant-a/solo" "$(osn_switches | tr '\n' ' ' | sed 's/ $//')" "named osn.tenant-a/solo"
del 1 tenant-a la4 "$L1"
nothing_left
finish
