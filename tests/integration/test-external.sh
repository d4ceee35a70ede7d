#!/usr/bin/env bash
# External connectivity (issue 4): the seed's second NAD bridges a network to
# the physical network "physnet"; upstream localnet with VLANs; isolation;
# a node without the mapping; switching topology while pods are attached.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
plugin_test_up 3
EXT="$(sandbox_prefix)-ext"
in_ext() { ip netns exec "$EXT" "$@"; }

# The seed's second sample NAD config, its trailing comma removed.
SEED2='{
            "cniVersion": "0.3.1",
            "type": "ovn-kubernetes",
            "name": "tenant-overlay-ext-network",
            "subnet": "10.10.20.0/24",
            "has_external_connectivity": true
        }'
SEED1='{"cniVersion": "0.3.1", "type": "ovn-kubernetes", "name": "tenant-overlay", "subnet": "10.10.10.0/24"}'

# --- the seed's external network ---------------------------------------------
expect_ok "ADD pod e1 on node1 (seed external NAD)" attach 1 e1 "$SEED2"
expect_ok "ADD pod e2 on node2 (seed external NAD)" attach 2 e2 "$SEED2"
E1=$(pod_ip e1); E2=$(pod_ip e2)
[[ $E1 == 10.10.20.* && $E2 == 10.10.20.* && $E1 != "$E2" ]] &&
    ok "addresses in 10.10.20.0/24 ($E1, $E2)" || fail "addresses $E1 $E2"
[[ $E1 != 10.10.20.1 && $E2 != 10.10.20.1 ]] && ok "the gateway address .1 is never handed out" || fail "a pod got the gateway address"
assert_eq "1500" "$(in_pod e1 cat /sys/class/net/net1/mtu)" "external network MTU defaults to the physical 1500"
LN=$(nbctl --bare --columns=type,options find Logical_Switch_Port name=osn.testns/tenant-overlay-ext-network.localnet | tr '\n' ' ')
assert_contains "$LN" "localnet" "the switch has a localnet port"
assert_contains "$LN" "network_name=physnet" "mapped to the node default physical network"
check "pod e1 (node1) reaches the gateway host" ping_ok e1 10.10.20.1
check "pod e2 (node2) reaches the gateway host" ping_ok e2 10.10.20.1
check "the gateway host reaches pod e1" in_ext ping -c 2 -i 0.2 -W 2 "$E1"
check "the gateway host reaches pod e2" in_ext ping -c 2 -i 0.2 -W 2 "$E2"
check "the two external pods reach each other" ping_ok e1 "$E2"

# --- the seed's overlay-only network cannot reach the external segment ------
expect_ok "ADD pod o1 on the overlay-only seed network" attach 1 o1 "$SEED1"
# An address of the external subnet that neither external pod holds.
O1=10.10.20.201
[[ $O1 == "$E1" || $O1 == "$E2" ]] && O1=10.10.20.202
[[ $O1 == "$E1" || $O1 == "$E2" ]] && O1=10.10.20.203
in_pod o1 ip addr add "$O1/24" dev net1
check_fails "an overlay-only pod (given an address on the external subnet) cannot reach the gateway" ping_ok o1 10.10.20.1
check_fails "and the gateway cannot reach it" in_ext ping -c 2 -i 0.2 -W 1 "$O1"

# --- switching topology is refused while pods are attached -------------------
SW_OVL='{"cniVersion":"1.0.0","type":"ovn-kubernetes","name":"switchy","subnet":"192.168.200.0/24"}'
SW_EXT='{"cniVersion":"1.0.0","type":"ovn-kubernetes","name":"switchy","subnet":"192.168.200.0/24","has_external_connectivity":true}'
expect_ok "ADD on overlay-only network switchy" attach 1 w1 "$SW_OVL"
check_fails "the overlay-only pod does not reach 192.168.200.1" ping_ok w1 192.168.200.1
attach 2 w2 "$SW_EXT"; rc=$?
assert_eq "1" "$rc" "making switchy external while a pod is attached is refused"
jq_eq "$RESULT" '.msg | test("attach")' true "the refusal says pods are attached"
expect_ok "DEL the last pod of switchy" detach 1 w1 "$SW_OVL"
detach 2 w2 "$SW_EXT" >/dev/null
expect_ok "then switchy can come back external" attach 2 w3 "$SW_EXT"
check "and now reaches 192.168.200.1" ping_ok w3 192.168.200.1
detach 2 w3 "$SW_EXT" >/dev/null

# --- VLANs: two tagged networks and an untagged one on physnet -----------------
# The same subnet on all three: only the VLAN separates them.
# This machine's kernel has neither 8021q nor bridge VLAN filtering, so no
# Linux host can terminate a VLAN here; the pods on each VLAN network are
# the hosts.  With the same subnet on all three networks and one L2 segment
# (brext) under them, only the VLAN tags keep them apart.
V10='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"vlan10","topology":"localnet","physicalNetworkName":"physnet","vlanID":10,"subnets":"10.70.0.0/24","excludeSubnets":"10.70.0.0/27"}'
V20='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"vlan20","topology":"localnet","physicalNetworkName":"physnet","vlanID":20,"subnets":"10.70.0.0/24","excludeSubnets":"10.70.0.0/27"}'
VU='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"untagged","topology":"localnet","physicalNetworkName":"physnet","subnets":"10.70.0.0/24","excludeSubnets":"10.70.0.0/27"}'
attach 1 a10 "$V10" net1 ";IP=10.70.0.101" && attach 2 b10 "$V10" net1 ";IP=10.70.0.102" &&
    attach 1 a20 "$V20" net1 ";IP=10.70.0.201" && attach 2 b20 "$V20" net1 ";IP=10.70.0.202" &&
    attach 3 u1 "$VU" net1 ";IP=10.70.0.150" && ok "pods on vlan10, vlan20 and untagged" || fail "vlan attach: $RESULT"
assert_eq "10" "$(nbctl --bare --columns=tag_request find Logical_Switch_Port name=osn.testns/vlan10.localnet)" "vlan10's localnet port requests tag 10"
check "vlan10 pods reach each other across nodes" ping_ok a10 10.70.0.102
check "vlan20 pods reach each other across nodes" ping_ok a20 10.70.0.202
check_fails "vlan10 cannot reach vlan20" ping_ok a10 10.70.0.202
check_fails "vlan20 cannot reach vlan10" ping_ok b20 10.70.0.101
check_fails "vlan10 cannot reach the untagged network" ping_ok a10 10.70.0.150
check_fails "untagged cannot reach vlan20" ping_ok u1 10.70.0.201
for p in a10:1:V10 b10:2:V10 a20:1:V20 b20:2:V20 u1:3:VU; do
    IFS=: read -r pod node var <<<"$p"
    detach "$node" "$pod" "${!var}" >/dev/null || fail "DEL $pod"
done

# --- a node without the mapping --------------------------------------------------
vsctl 3 remove Open_vSwitch . external_ids ovn-bridge-mappings
attach 3 nm "$SEED2"; rc=$?
assert_eq "1" "$rc" "ADD on a node without the physnet mapping fails"
jq_eq "$RESULT" '.code' "7" "with code 7 (invalid config)"
jq_eq "$RESULT" '.msg | test("physnet") and test("osn-node3") and test("ovn-bridge-mappings")' true "naming the physical network, the node and its mappings"
assert_eq "" "$(in_pod nm ip -o link show net1 2>/dev/null)" "nothing plugged in the pod"
assert_eq "" "$(osn_lsps | grep cid-nm || true)" "no logical port left"
OUT=$(cni 3 STATUS "" "" "" '{"cniVersion":"1.1.0","type":"ovn-kubernetes","name":"any"}')
jq_eq "$OUT" '.code' "51" "STATUS on that node: code 51 (limited connectivity)"
jq_eq "$OUT" '.msg | test("physnet")' true "naming the unmapped physical network"
vsctl 3 set Open_vSwitch . external_ids:ovn-bridge-mappings=physnet:br-ex
check "STATUS passes once the mapping is back" cni 3 STATUS "" "" "" '{"cniVersion":"1.1.0","type":"ovn-kubernetes","name":"any"}'

detach 1 e1 "$SEED2" >/dev/null; detach 2 e2 "$SEED2" >/dev/null; detach 1 o1 "$SEED1" >/dev/null
nothing_left "after every DEL: no veth, OVS port, logical port or switch (localnet ports included)"
finish
