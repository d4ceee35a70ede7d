#!/usr/bin/env bash
# Layer3 networks (issue 23), upstream's routed topology, on 3 nodes with no
# controller: each node claims a host subnet of the cluster CIDR at its
# first ADD (its own switch, a router port on the network's one router).
#
#   - upstream's layer3 NADs attach unchanged (the docs example, the e2e
#     template's shape); pods on one node share its host subnet, pods on
#     different nodes get different ones and reach each other through the
#     router (IPv4, IPv6, dual-stack); the CNI result carries the gateway
#     (the router port) and a route to the cluster CIDR through it;
#   - first ADDs of three nodes racing on a new network never share a host
#     subnet; a pod replaced on its node (its DEL and its successor's ADD at
#     once) never fails the ADD;
#   - a cluster CIDR with room for two host subnets refuses the third node
#     with code 11, naming the network, the CIDR and the nodes that hold
#     them; a node's last DEL removes its switch and router port and frees
#     its subnet (the refused node gets it then); the network's last DEL
#     removes the router too;
#   - a lost node's host subnet is reclaimed by osnctl gc --node.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
OSNCTL=${OSNCTL:-$OSN_BUILD/src/osnctl/osnctl}
require_built "$OSNCTL"
plugin_test_up 3
ctl() {
    local node=$1
    shift
    on "$node" "$OSNCTL" "$@"
}

# add NODE NS POD CONF: ADD of pod POD of namespace NS; RESULT holds the answer.
add() {
    local node=$1 ns=$2 pod=$3 conf=$4
    [[ -e "$(pod_netns "$pod")" ]] || pod_add "$pod" >/dev/null
    RESULT=$(cni "$node" ADD "cid-$pod" "$(pod_netns "$pod")" net1 "$conf" \
        "IgnoreUnknown=1;K8S_POD_NAMESPACE=$ns;K8S_POD_NAME=$pod")
}
del() {
    local node=$1 ns=$2 pod=$3 conf=$4
    cni "$node" DEL "cid-$pod" "$(pod_netns "$pod")" net1 "$conf" \
        "IgnoreUnknown=1;K8S_POD_NAMESPACE=$ns;K8S_POD_NAME=$pod" >/dev/null
}
# host_subnet KEY NODE [4|6]: the host subnet node NODE's switch of layer3
# network KEY holds ("" when it has none).
host_subnet() {
    local v
    v=$(nbctl --if-exists get Logical_Switch "osn.$1@osn-node$2" "external_ids:\"osn/host-subnet-ipv${3:-4}\"" 2>/dev/null)
    echo "${v//\"/}"
}
routers() { nbctl --bare --columns=name find Logical_Router 'external_ids:"osn/layer3-network"!=""' 2>/dev/null | sed '/^$/d'; }
router_ports() { nbctl --bare --columns=name find Logical_Router_Port "external_ids:\"osn/layer3-network\"=\"$1\"" 2>/dev/null | sed '/^$/d' | sort | tr '\n' ' '; }
# net24 ADDR: the /24 that holds IPv4 ADDR.
net24() { echo "${1%.*}.0/24"; }

# --- upstream's documentation example -------------------------------------------------
DOCS=$(cat "$ROOT/tests/upstream/l3-docs.json")
expect_ok "docs NAD: p1 on node1" add 1 ns1 p1 "$DOCS"
R1=$RESULT
# Pools work on a node's piece: p1's ADD topped node1's pool up; p2 claims a spare.
has_spares() { nbctl get Logical_Switch "osn.ns1/l3-network@osn-node1" external_ids 2>/dev/null | grep -q '"osn/spare/'; }
check "node1's switch of the network gets its pool of spares" wait_until 10 has_spares
expect_ok "p2 on node1" add 1 ns1 p2 "$DOCS"
assert_contains "$(nbctl --bare --columns=name find Logical_Switch_Port 'external_ids:"osn/container-id"="cid-p2"')" \
    "osn.ns1/l3-network@osn-node1.spare." "p2 holds a claimed spare of node1's pool"
expect_ok "p3 on node2" add 2 ns1 p3 "$DOCS"
expect_ok "p4 on node3" add 3 ns1 p4 "$DOCS"
P1=$(pod_ip p1) P2=$(pod_ip p2) P3=$(pod_ip p3) P4=$(pod_ip p4)
H1=$(host_subnet ns1/l3-network 1) H2=$(host_subnet ns1/l3-network 2) H3=$(host_subnet ns1/l3-network 3)
assert_eq "$H1" "$(net24 "$P1")" "p1 ($P1) lies in node1's host subnet $H1"
assert_eq "$H1" "$(net24 "$P2")" "p2 ($P2) shares it"
assert_eq "$H2" "$(net24 "$P3")" "p3 ($P3) lies in node2's host subnet $H2"
assert_eq "$H3" "$(net24 "$P4")" "p4 ($P4) lies in node3's host subnet $H3"
assert_eq 3 "$(printf '%s\n' "$H1" "$H2" "$H3" | grep -c '^10\.128\.[0-9]*\.0/24$' | tr -d ' ')" "three /24 host subnets of 10.128.0.0/16"
assert_eq 3 "$(printf '%s\n' "$H1" "$H2" "$H3" | sort -u | wc -l | tr -d ' ')" "all different"
GW1=${H1%.0/24}.1
jq_eq "$R1" '.ips[0].gateway' "$GW1" "the CNI result's gateway is node1's router port $GW1"
jq_eq "$R1" '[.routes[] | "\(.dst) via \(.gw)"] | join(",")' "10.128.0.0/16 via $GW1" "and its route: the cluster CIDR through it"
jq_eq "$R1" '.ips[0].address' "$P1/24" "the address has the host subnet's prefix"
assert_contains "$(in_pod p1 ip -4 route show 10.128.0.0/16)" "via $GW1 dev net1" "the pod routes the cluster CIDR through the router port"
assert_eq 1300 "$(in_pod p1 cat /sys/class/net/net1/mtu)" "mtu 1300"
assert_eq "osn.ns1/l3-network" "$(routers)" "one router for the network"
assert_eq "osn.ns1/l3-network@osn-node1.lrp osn.ns1/l3-network@osn-node2.lrp osn.ns1/l3-network@osn-node3.lrp " \
    "$(router_ports ns1/l3-network)" "with one port per node"
check "p1 -> p2 (one node)" ping_ok p1 "$P2"
check "p1 -> p3 (node1 -> node2, through the router)" ping_ok p1 "$P3"
check "p3 -> p4 (node2 -> node3)" ping_ok p3 "$P4"
check "p4 -> p1 (node3 -> node1)" ping_ok p4 "$P1"
check "p1 -> its gateway" ping_ok p1 "$GW1"
TR=$(in_pod p1 ping -c 1 -W 2 -t 64 "$P3" 2>/dev/null | sed -n 's/.*ttl=\([0-9]*\).*/\1/p')
assert_eq 63 "$TR" "across nodes a packet is routed once (TTL 64 -> 63)"

# osnctl trace crosses the router: p1 (node1) to p3 (node2), and to addresses of the cluster
# CIDR that no pod holds: in node2's host subnet (the router asks for its MAC) and in no
# node's (the router has no route).
T0=$(date +%s%N)
L3R=osn.ns1/l3-network
LRP1MAC=$(nbctl get Logical_Router_Port "$L3R@osn-node1.lrp" mac | tr -d '"')
J=$(ctl 1 trace ns1/p1 "$P3" --json); rc=$?
assert_eq 0 "$rc" "osnctl trace p1 -> p3 (node1 -> node2) succeeds"
jq_eq "$J" '.result.verdict + " " + ([.result.outputs[] | "\(.port) \(.node)"] | join(","))' \
    "delivered $L3R@osn-node2.cid-p3.net1 osn-node2" "it is delivered to p3's port on node2's switch, and only there"
jq_eq "$J" '.destination.via.router + " " + .destination.via.router_port + " " + (.result.datapaths | join(","))' \
    "$L3R $L3R@osn-node1.lrp $L3R@osn-node1,$L3R,$L3R@osn-node2" "through node1's router port and the router to node2's switch"
assert_contains "$(jq -r .microflow <<<"$J")" "eth.dst == $LRP1MAC && ip4.src == $P1 && ip4.dst == $P3 && ip.ttl == 64" \
    "the microflow goes to the gateway's MAC ($LRP1MAC) with a TTL"
assert_contains "$(ctl 1 trace ns1/p1 "$P3")" "delivered to $L3R@osn-node2.cid-p3.net1 (pod ns1/p3 on osn-node2), through router $L3R" \
    "trace (text) names the pod on node2 and the router"
assert_eq "delivered to $L3R@osn-node1.cid-p1.net1 (pod ns1/p1 on osn-node1)" "$(ctl 1 trace ns1/p2 "$P1")" \
    "on one node trace stays on the switch (no router)"
FREE2=""
for h in 200 201 202 203; do
    a=${H2%.0/24}.$h
    nbctl --bare --columns=addresses list Logical_Switch_Port | grep -qwF "$a" || { FREE2=$a; break; }
done
TXT=$(ctl 1 trace ns1/p1 "$FREE2"); rc=$?
assert_contains "$rc $TXT" "0 no osn port holds $FREE2; router $L3R routes it and its ARP request reaches $L3R@osn-node2.cid-p3.net1 (pod ns1/p3 on osn-node2)" \
    "to a free address of node2's host subnet ($FREE2): the router's ARP request reaches node2's pods"
NOSUB=10.128.250.5
TXT=$(ctl 1 trace ns1/p1 "$NOSUB"); rc=$?
assert_contains "$rc $TXT" "1 no osn port holds $NOSUB; sent to router $L3R, it is dropped in lr_in_ip_routing (ingress table " \
    "to an address of the cluster CIDR in no node's host subnet: dropped by the router, which has no route (exit 1)"
assert_contains "$TXT" " of $L3R)" "in the router's pipeline"
echo "# osnctl trace checks: $((($(date +%s%N) - T0) / 1000000)) ms"

# --- the e2e template's shape, dual-stack and IPv6-only -----------------------------
E2E=$(jq -c '.subnets = "10.129.0.0/16/24,fd00:129::/48"' "$ROOT/tests/upstream/e2e-template-layer3.json")
expect_ok "e2e template (dual-stack): d1 on node1" add 1 tenant-c d1 "$E2E"
RD=$RESULT
expect_ok "d2 on node2" add 2 tenant-c d2 "$E2E"
jq_eq "$RD" '[.ips[].address | test("/24$") or test("/64$")] | all' true "two addresses, /24 and /64"
jq_eq "$RD" '[.ips[] | .gateway] | length' 2 "each with its gateway"
jq_eq "$RD" '[.routes[].dst] | sort | join(",")' "10.129.0.0/16,fd00:129::/48" "routes to both cluster CIDRs"
D2v6=$(pod_ip d2 net1 6) D1v6=$(pod_ip d1 net1 6)
assert_contains "$D2v6" "fd00:129:0:" "d2 has an IPv6 address of fd00:129::/48 ($D2v6)"
check "dual-stack: d1 -> d2 IPv4" ping_ok d1 "$(pod_ip d2)"
check "dual-stack: d1 -> d2 IPv6 ($D2v6)" ping6_ok d1 "$D2v6"
check "dual-stack: d2 -> d1 IPv6 ($D1v6)" ping6_ok d2 "$D1v6"
check "the two nodes' IPv6 host subnets differ" test "$(host_subnet tenant-c/klmno_up-e2e-l3 1 6)" != "$(host_subnet tenant-c/klmno_up-e2e-l3 2 6)"
V6='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"l3v6","topology":"layer3","subnets":"fd00:131::/60/64"}'
expect_ok "IPv6-only: s2 on node2" add 2 testns s2 "$V6"
expect_ok "s3 on node3" add 3 testns s3 "$V6"
check "IPv6-only: s2 -> s3 across nodes" ping6_ok s2 "$(pod_ip s3 net1 6)"
S3V6=$(pod_ip s3 net1 6)
TXT=$(ctl 2 trace testns/s2 "$S3V6" 2>&1); rc=$?
echo "# trace over IPv6 across the router: $TXT"
assert_eq 0 "$rc" "osnctl trace s2 -> s3 over IPv6 (node2 -> node3) succeeds"
assert_contains "$TXT" "delivered to osn.testns/l3v6@osn-node3.cid-s3.net1 (pod testns/s3 on osn-node3), through router" \
    "trace over IPv6 names the pod on node3 and the router"
jq_eq "$RESULT" '.routes[0].dst' "fd00:131::/60" "the route names the IPv6 cluster CIDR"

# --- racing first ADDs ---------------------------------------------------------
# Two pods per node at once on a new network: three nodes race for host
# subnets, and each node's two ADDs race for its one switch.
RACE_OK=0
for r in 1 2 3; do
    RC="{\"cniVersion\":\"1.0.0\",\"type\":\"ovn-k8s-cni-overlay\",\"name\":\"race$r\",\"topology\":\"layer3\",\"subnets\":\"10.14$r.0.0/16/24\"}"
    pids=()
    for n in 1 2 3; do for k in a b; do pod_add "r$r-$n$k" >/dev/null; done; done
    for n in 1 2 3; do
        for k in a b; do
            (add "$n" testns "r$r-$n$k" "$RC"; rc=$?; echo "$RESULT"; exit $rc) >"$SANDBOX_DIR/race$r-$n$k.out" 2>&1 &
            pids+=($!)
        done
    done
    okn=0
    for p in "${pids[@]}"; do wait "$p" && okn=$((okn + 1)); done
    subs=$(for n in 1 2 3; do host_subnet "testns/race$r" "$n"; done | sort -u | sed '/^$/d' | wc -l | tr -d ' ')
    if [[ $okn == 6 && $subs == 3 ]]; then
        RACE_OK=$((RACE_OK + 1))
    else
        fail "race $r: $okn of 6 ADDs succeeded, $subs distinct host subnets: $(cat "$SANDBOX_DIR"/race$r-*.out)"
    fi
    for n in 1 2 3; do
        for k in a b; do
            a=$(pod_ip "r$r-$n$k")
            [[ $(net24 "$a") == "$(host_subnet "testns/race$r" "$n")" ]] || fail "race $r: pod $k on node$n ($a) outside its node's subnet"
        done
    done
    sw=$(osn_switches | grep -c "^osn.testns/race$r@" || true)
    [[ $sw == 3 ]] || fail "race $r: $sw node switches, not 3"
done
assert_eq 3 "$RACE_OK" "3 races of 6 first ADDs on 3 nodes: one switch and one host subnet per node"
LOST=$(cat "$SANDBOX_DIR"/node*/osn-cni.log 2>/dev/null | grep -c 'race[123]: node .* lost a claim' || true)
echo "# claims lost (and taken again) in the races: $LOST"

# --- a pod replaced on its node ---------------------------------------------------
# The node's only pod of a network is deleted while its successor's ADD runs
# (a rollout): the DEL removes the node's piece, which the ADD may have
# joined a moment before; that ADD joins again instead of failing.
RP='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"replace","topology":"layer3","subnets":"10.150.0.0/16/24"}'
expect_ok "replace: a pod on node1" add 1 testns rq "$RP"
expect_ok "replace: the first pod on node2" add 2 testns rp0 "$RP"
bad=""
for i in $(seq 1 8); do
    pod_add "rp$i" >/dev/null
    (add 2 testns "rp$i" "$RP"; rc=$?; echo "$RESULT"; exit $rc) >"$SANDBOX_DIR/replace$i.out" 2>&1 &
    apid=$!
    del 2 testns "rp$((i - 1))" "$RP" || bad="$bad DEL rp$((i - 1)) failed;"
    wait "$apid" || bad="$bad ADD rp$i failed: $(cat "$SANDBOX_DIR/replace$i.out");"
    pod_del "rp$((i - 1))" >/dev/null
    [[ $(net24 "$(pod_ip "rp$i")") == "$(host_subnet testns/replace 2)" ]] ||
        bad="$bad rp$i ($(pod_ip "rp$i")) is not in node2's host subnet ($(host_subnet testns/replace 2));"
done
assert_eq "" "$bad" "replace: 8 times a pod's ADD while its predecessor's DEL runs: each succeeds, in the node's host subnet"
check "replace: the last one reaches the pod on node1" ping_ok rp8 "$(pod_ip rq)"
AGAIN=$(grep -c 'ADD testns/replace: .*joining again' "$SANDBOX_DIR"/node2/osn-cni.log 2>/dev/null || true)
echo "# ADDs that found the node's piece gone and joined again: $AGAIN"
del 2 testns rp8 "$RP" || fail "replace: DEL rp8"
del 1 testns rq "$RP" || fail "replace: DEL rq"
pod_del rp8 >/dev/null
pod_del rq >/dev/null
assert_eq "" "$(osn_switches | grep 'replace' || true)$(routers | grep replace || true)" "replace: the last DEL leaves no switch or router"

# --- conflicts, and a first ADD that fails after its claim -------------------------
MIX2='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"mixed","topology":"layer2","subnets":"10.171.0.0/24"}'
MIX3='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"mixed","topology":"layer3","subnets":"10.172.0.0/16/24"}'
expect_ok "layer2 network mixed: m1 on node1" add 1 testns m1 "$MIX2"
add 2 testns m2 "$MIX3"; rc=$?
assert_eq "1:102" "$rc:$(jq -r .code <<<"$RESULT")" "a layer3 NAD of the same name in the namespace fails with code 102"
jq_eq "$RESULT" '.msg | test("testns/mixed") and test("topology=layer2") and test("topology=layer3")' true "showing both settings"
assert_eq "" "$(routers | grep mixed || true)$(osn_switches | grep 'mixed@' || true)" "and makes no router or node switch"
L2R2='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"race2","topology":"layer2","subnets":"10.142.0.0/24"}'
add 1 testns x0 "$L2R2"; rc=$?
assert_eq "1:102" "$rc:$(jq -r .code <<<"$RESULT")" "a layer2 NAD whose name is a layer3 network's fails with code 102"
jq_eq "$RESULT" '.msg | test("testns/race2") and test("topology=layer3") and test("topology=layer2")' true "showing both settings"
assert_eq "" "$(osn_switches | grep -x 'osn.testns/race2' || true)" "and makes no layer2 switch"
OTHER='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"race2","topology":"layer3","subnets":"10.142.0.0/16/23"}'
add 1 testns x1 "$OTHER"; rc=$?
assert_eq "1:102" "$rc:$(jq -r .code <<<"$RESULT")" "a NAD with other settings for a layer3 network fails with code 102"
jq_eq "$RESULT" '.msg | test("hostprefix4=24") and test("hostprefix4=23")' true "showing both settings"
ST='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"l3static","topology":"layer3","subnets":"10.170.0.0/16/24"}'
pod_add st1 >/dev/null
RESULT=$(cni 1 ADD cid-st1 "$(pod_netns st1)" net1 "$ST" "IgnoreUnknown=1;K8S_POD_NAMESPACE=testns;K8S_POD_NAME=st1;IP=10.170.9.9"); rc=$?
assert_eq "1:7" "$rc:$(jq -r .code <<<"$RESULT")" "a first ADD whose static address lies outside the node's host subnet fails (code 7)"
jq_eq "$RESULT" '.msg | test("10.170.9.9") and test("10.170.0.0/24")' true "naming the address and the node's host subnet"
assert_eq "" "$(osn_switches | grep 'l3static' || true)$(routers | grep l3static || true)" "and gives its claim back: no node switch, no router"

# Node configs whose cluster_networks disagree would split a layer3 network.
SH='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"shared3","topology":"layer3","subnets":"10.173.0.0/16/24"}'
CONF3=$SANDBOX_DIR/node3/osn.json
cp "$CONF3" "$CONF3.orig"
jq '.cluster_networks = {"shared3": ["testns", "other"]}' "$CONF3.orig" >"$CONF3"
expect_ok "shared3: testns's own network on node1" add 1 testns h1 "$SH"
add 3 testns h3 "$SH"; rc=$?
assert_eq "1:102" "$rc:$(jq -r .code <<<"$RESULT")" "node3, whose cluster_networks shares shared3, is refused (code 102)"
jq_eq "$RESULT" '.msg | test("_cluster/shared3") and test("testns/shared3") and test("cluster_networks") and test("node3/osn.json")' true \
    "naming both networks, the key and the node config"
assert_eq "" "$(osn_switches | grep '_cluster/shared3' || true)$(routers | grep '_cluster/shared3' || true)" "and makes nothing"
mv "$CONF3.orig" "$CONF3"

# --- CHECK and CNI GC on a node's piece -------------------------------------------
RC1='{"cniVersion":"1.1.0","type":"ovn-k8s-cni-overlay","name":"race1","topology":"layer3","subnets":"10.141.0.0/16/24"}'
PREV=$(jq -c . "$SANDBOX_DIR/race1-1a.out")
CK=$(jq -c --argjson p "$PREV" '. + {prevResult: $p}' <<<"$RC1")
check "CHECK of a layer3 attachment with its prevResult" cni 1 CHECK cid-r1-1a "$(pod_netns r1-1a)" net1 "$CK" \
    "IgnoreUnknown=1;K8S_POD_NAMESPACE=testns;K8S_POD_NAME=r1-1a"
GCC=$(jq -c '. + {"cni.dev/valid-attachments": [{"containerID":"cid-r1-1a","ifname":"net1"}]}' <<<"$RC1")
check "CNI GC on node1 of a layer3 network" cni 1 GC "" "" "" "$GCC"
assert_eq "cid-r1-1a" "$(nbctl --bare --columns=external_ids find Logical_Switch_Port 'external_ids:"osn/network"="testns/race1@osn-node1"' |
    grep -o 'osn/container-id"*=[^ ,}]*' | sed 's/.*=//; s/"//g' | sort | tr '\n' ' ' | sed 's/ $//')" \
    "GC removed node1's attachment the runtime no longer lists, and only that one"
check "node1's switch of race1 stays (r1-1a holds it)" test -n "$(host_subnet testns/race1 1)"

# --- a full cluster CIDR, and a node's last DEL ----------------------------------
TINY='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"tiny","topology":"layer3","subnets":"10.150.0.0/23/24"}'
expect_ok "tiny (room for two host subnets): t1 on node1" add 1 testns t1 "$TINY"
expect_ok "t2 on node2" add 2 testns t2 "$TINY"
add 3 testns t3 "$TINY"; rc=$?
assert_eq 1 "$rc" "the third node's ADD fails"
jq_eq "$RESULT" '.code' 11 "with code 11 (try again later)"
jq_eq "$RESULT" '.msg | test("testns/tiny") and test("10.150.0.0/23") and test("osn-node1 \\(10.150.0.0/24\\)") and test("osn-node2 \\(10.150.1.0/24\\)") and test("osn-node3")' true \
    "naming the network, the CIDR, the nodes that hold its subnets and the node refused"
assert_eq "" "$(host_subnet testns/tiny 3)$(in_pod t3 ip -o link show net1 2>/dev/null)" "and leaving nothing on node3"
T1SUB=$(host_subnet testns/tiny 1)
expect_ok "t1's DEL (node1's last on tiny)" del 1 testns t1 "$TINY"
assert_eq "" "$(nbctl --bare --columns=name find Logical_Switch name="osn.testns/tiny@osn-node1" | sed '/^$/d')" "node1's switch is gone"
assert_eq "osn.testns/tiny@osn-node2.lrp " "$(router_ports testns/tiny)" "and its router port (node2's stays)"
assert_eq "" "$(osn_all_lsps | grep 'tiny@osn-node1' || true)" "and its ports, spares and router port"
expect_ok "now node3's ADD succeeds" add 3 testns t3 "$TINY"
assert_eq "$T1SUB" "$(host_subnet testns/tiny 3)" "with the host subnet node1 freed ($T1SUB)"
check "t3 -> t2 through the router" ping_ok t3 "$(pod_ip t2)"

# --- the network's last DEL -------------------------------------------------------
for p in 1 2; do expect_ok "DEL p$p (node1)" del 1 ns1 "p$p" "$DOCS"; done
assert_eq "" "$(host_subnet ns1/l3-network 1)" "node1's last DEL freed its subnet"
check "p3 -> p4 still" ping_ok p3 "$P4"
expect_ok "DEL p3 (node2)" del 2 ns1 p3 "$DOCS"
expect_ok "DEL p4 (node3), the network's last" del 3 ns1 p4 "$DOCS"
assert_eq "" "$(routers | grep 'ns1/l3-network' || true)" "the router is gone with the last node's switch"
assert_eq "" "$(osn_switches | grep 'ns1/l3-network' || true)$(osn_all_lsps | grep 'ns1/l3-network' || true)" "no switch or port of it is left"
assert_eq "" "$(nbctl --bare --columns=name find Logical_Router_Port 'external_ids:"osn/layer3-network"="ns1/l3-network"' | sed '/^$/d')" "nor router port"

# --- osnctl shows the nodes' pieces ------------------------------------------------
J=$(ctl 1 networks --json 2>/dev/null)
jq_eq "$J" '[.networks[] | select(.name == "testns/tiny@osn-node2") | .topology] | join(",")' layer3 "osnctl networks lists node2's piece of tiny as layer3"
jq_eq "$J" '[.networks[] | select(.layer3_network == "testns/tiny") | "\(.nodes | join(",")) \(.host_subnets | join(","))"] | sort | join(";")' \
    "osn-node2 $(host_subnet testns/tiny 2);osn-node3 $(host_subnet testns/tiny 3)" "with each node's host subnet"
assert_contains "$(ctl 1 networks -o wide 2>/dev/null)" "HOST-SUBNETS" "osnctl networks -o wide has the host subnets"

# --- a lost node ------------------------------------------------------------------
for p in ovn-controller ovs-vswitchd ovsdb-server; do
    kill -KILL "$(cat "$SANDBOX_DIR/node3/$p.pid")"
done
T3SUB=$(host_subnet testns/tiny 3)
J=$(ctl 1 gc --node osn-node3 --json); rc=$?
assert_eq 0 "$rc" "osnctl gc --node osn-node3 succeeds"
assert_eq "" "$(host_subnet testns/tiny 3)" "node3's host subnet of tiny is reclaimed"
assert_eq "osn.testns/tiny@osn-node2.lrp " "$(router_ports testns/tiny)" "its router port is gone"
assert_eq "" "$(osn_switches | grep '@osn-node3' || true)" "no switch of node3 is left on any layer3 network"
expect_ok "node1 attaches to tiny again" add 1 testns t5 "$TINY"
assert_eq "$T3SUB" "$(host_subnet testns/tiny 1)" "with the subnet reclaimed from node3 ($T3SUB)"
check "t5 -> t2 through the router" ping_ok t5 "$(pod_ip t2)"
finish
