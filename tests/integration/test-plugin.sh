#!/usr/bin/env bash
# The CNI plugin on the sandbox with real OVN (issue 3): the seed's first NAD
# across nodes, isolation, static requests, no-subnet, dual-stack, conflicts,
# every CNI verb and version, DEL idempotency, GC, STATUS.
# This suite names logical ports for their container (osn.<net>.<cid>.<if>),
# as an ADD without a pool does; the pool path has its own suite (test-pools).
export OSN_POOL_SIZE=${OSN_POOL_SIZE:-0}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
plugin_test_up 3

# The seed's first sample NAD config, its trailing comma removed.
SEED1='{
            "cniVersion": "0.3.1",
            "type": "ovn-kubernetes",
            "name": "tenant-overlay",
            "subnet": "10.10.10.0/24"
        }'

# --- seed NAD: two pods on different nodes ---------------------------------
expect_ok "ADD pod a on node1" attach 1 a "$SEED1"
RA=$RESULT
expect_ok "ADD pod b on node3" attach 3 b "$SEED1"
RB=$RESULT
jq_eq "$RA" '.cniVersion' "0.3.1" "result carries the requested cniVersion"
jq_eq "$RA" '.interfaces[0].name' "net1" "result names the pod interface"
jq_eq "$RA" '.interfaces[0].sandbox | startswith("/var/run/netns/")' "true" "interface has its sandbox"
jq_eq "$RA" '.ips[0].version' "4" "0.3.1 ips carry version"
jq_eq "$RA" '.ips[0].interface' "0" "ips point at the pod interface"
IPA=$(pod_ip a); IPB=$(pod_ip b)
assert_contains "$(jq -r '.ips[0].address' <<<"$RA")" "$IPA/24" "result address is the pod's address"
[[ $IPA == 10.10.10.* && $IPB == 10.10.10.* && $IPA != "$IPB" ]] &&
    ok "distinct addresses in 10.10.10.0/24 ($IPA, $IPB)" || fail "addresses $IPA $IPB"
check "pod a (node1) pings pod b (node3)" ping_ok a "$IPB"
check "pod b (node3) pings pod a (node1)" ping_ok b "$IPA"
assert_eq "1442" "$(in_pod a cat /sys/class/net/net1/mtu)" "overlay MTU is underlay 1500 - 58"
MACA=$(in_pod a cat /sys/class/net/net1/address)
jq_eq "$RA" '.interfaces[0].mac' "$MACA" "result MAC is the pod's MAC"
PS=$(nbctl --bare --columns=port_security find Logical_Switch_Port "name=\"osn.testns/tenant-overlay.cid-a.net1\"")
assert_eq "$MACA $IPA" "$PS" "assigned addresses pinned as port security"
CH=$(sbctl --bare --columns=chassis find Port_Binding logical_port=osn.testns/tenant-overlay.cid-a.net1)
assert_eq "osn-node1" "$(sbctl --bare --columns=name list Chassis "$CH")" "port bound to chassis osn-node1"

# --- ADD on an existing ifname fails; CHECK; DEL ----------------------------
OUT=$(cni 1 ADD cid-other "/var/run/netns/$(sandbox_prefix)-pod-a" net1 "$SEED1")
rc=$?
assert_eq "1" "$rc" "ADD with CNI_IFNAME already in the netns fails"
assert_contains "$OUT" "net1" "its error names the interface"
assert_eq "" "$(osn_lsps | grep cid-other || true)" "and leaves no logical port"

CHK=$(jq -c --argjson p "$RA" '. + {cniVersion: "0.4.0", prevResult: $p}' <<<"$SEED1")
check "CHECK after ADD passes" cni 1 CHECK cid-a "/var/run/netns/$(sandbox_prefix)-pod-a" net1 "$CHK"
in_pod a ip link del net1
check_fails "CHECK fails once the pod interface is gone" cni 1 CHECK cid-a "/var/run/netns/$(sandbox_prefix)-pod-a" net1 "$CHK"
OUT=$(cni 1 CHECK cid-a "/var/run/netns/$(sandbox_prefix)-pod-a" net1 "$CHK")
jq_eq "$OUT" '.code' "103" "CHECK failure has osn's check code"
expect_ok "DEL pod a" detach 1 a "$SEED1"
expect_ok "DEL pod a again" detach 1 a "$SEED1"
check "DEL of an unknown container" cni 2 DEL cid-never "" net1 "$SEED1"
pod_del b >/dev/null
expect_ok "DEL of pod b after its netns is gone" detach 3 b "$SEED1"
nothing_left "after the last DEL: no veth, OVS port, logical port or switch"

# --- every spec version's result shape --------------------------------------
for v in 0.1.0 0.2.0 0.3.0 0.3.1 0.4.0 1.0.0 1.1.0; do
    conf=$(jq -c --arg v "$v" '.cniVersion = $v' <<<"$SEED1")
    if attach 2 "v${v//./}" "$conf"; then
        case $v in
        0.1.0 | 0.2.0)
            jq_eq "$RESULT" '(.ip4.ip | test("^10\\.10\\.10\\.[0-9]+/24$")) and (.interfaces == null)' true "$v: legacy ip4 result" ;;
        0.3.0 | 0.3.1 | 0.4.0)
            jq_eq "$RESULT" '(.ips[0].version == "4") and (.interfaces[0].name == "net1")' true "$v: ips with version, interfaces" ;;
        *)
            jq_eq "$RESULT" '(.ips[0].version == null) and (.interfaces[0].mac | length == 17) and (.ips[0].interface == 0)' true "$v: ips without version" ;;
        esac
        jq_eq "$RESULT" '.cniVersion' "$v" "$v: cniVersion echoed"
    else
        fail "$v: ADD failed: $RESULT"
    fi
    detach 2 "v${v//./}" "$conf" >/dev/null || fail "$v: DEL"
done
VER=$(cni 1 VERSION "" "" "" '{"cniVersion":"1.0.0"}')
jq_eq "$VER" '.supportedVersions | join(",")' "0.1.0,0.2.0,0.3.0,0.3.1,0.4.0,1.0.0,1.1.0" "VERSION lists every version"
OUT=$(cni 1 ADD cid-x "/var/run/netns/none" net1 '{"cniVersion":"9.9.9","type":"ovn-kubernetes","name":"n"}')
jq_eq "$OUT" '.code' "1" "unknown cniVersion: code 1"

# --- isolation: two networks, same subnet -----------------------------------
NETA='{"cniVersion":"1.0.0","type":"ovn-kubernetes","name":"iso-a","subnet":"10.30.0.0/24"}'
NETB='{"cniVersion":"1.0.0","type":"ovn-kubernetes","name":"iso-b","subnet":"10.30.0.0/24"}'
attach 1 ia1 "$NETA" && attach 2 ia2 "$NETA" && attach 3 ib1 "$NETB" ||
    fail "iso attach: $RESULT"
# ib2 holds an address of 10.30.0.0/24 that network a's two pods do not
# hold: a reply to it could only come across networks.
X=10.30.0.200
for alt in 10.30.0.201 10.30.0.202; do
    [[ $X == "$(pod_ip ia1)" || $X == "$(pod_ip ia2)" ]] && X=$alt
done
attach 1 ib2 "$NETB" net1 ";IP=$X" &&
    ok "four attachments on two networks with the same subnet" || fail "iso attach: $RESULT"
check "same network (a) reaches across nodes" ping_ok ia1 "$(pod_ip ia2)"
check "same network (b) reaches across nodes" ping_ok ib1 "$(pod_ip ib2)"
check "network b reaches its own $X (control)" ping_ok ib1 "$X"
check_fails "network a (node1) cannot reach network b's $X" ping_ok ia1 "$X"
check_fails "network a (node2) cannot reach network b's $X" ping_ok ia2 "$X"
for p in ia1:1:NETA ia2:2:NETA ib1:3:NETB ib2:1:NETB; do
    IFS=: read -r pod node var <<<"$p"
    detach "$node" "$pod" "${!var}" >/dev/null || fail "DEL $pod"
done

# --- static IP and MAC --------------------------------------------------------
ST='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"static","topology":"layer2","subnets":"10.40.0.0/24",
     "runtimeConfig":{"ips":["10.40.0.77/24"],"mac":"02:00:00:00:40:77"}}'
expect_ok "ADD with runtimeConfig ips+mac" attach 1 s1 "$ST"
assert_eq "10.40.0.77" "$(pod_ip s1)" "static IP honoured"
assert_eq "02:00:00:00:40:77" "$(in_pod s1 cat /sys/class/net/net1/address)" "static MAC honoured"
expect_ok "ADD with CNI_ARGS IP= and MAC=" attach 2 s2 '{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"static","topology":"layer2","subnets":"10.40.0.0/24"}' net1 ";IP=10.40.0.78;MAC=02:00:00:00:40:78"
assert_eq "10.40.0.78" "$(pod_ip s2)" "CNI_ARGS IP= honoured (prefix from the subnet)"
check "static pods reach each other" ping_ok s1 10.40.0.78
OUT=$(cni 3 ADD cid-s3 "$(pod_add s3)" net1 '{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"static","topology":"layer2","subnets":"10.40.0.0/24","runtimeConfig":{"ips":["10.40.0.77/24"]}}')
jq_eq "$OUT" '.msg | test("10.40.0.77.*taken")' true "an IP already taken is refused, naming it"
OUT=$(cni 3 ADD cid-s3 "/var/run/netns/$(sandbox_prefix)-pod-s3" net1 '{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"static","topology":"layer2","subnets":"10.40.0.0/24"}' "IP=10.99.0.1")
jq_eq "$OUT" '.msg | test("10.99.0.1.*outside")' true "an IP outside the subnet is refused, naming it"
assert_eq "" "$(in_pod s3 ip -o link show net1 2>/dev/null)" "refused ADDs leave no interface in the pod"
detach 1 s1 "$ST" >/dev/null; detach 2 s2 "$ST" >/dev/null

# --- no subnet: pure L2 -----------------------------------------------------
L2='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"l2only","topology":"layer2"}'
expect_ok "ADD on a network without subnet" attach 1 l1 "$L2"
jq_eq "$RESULT" '.ips | length' "0" "no subnet: no IPs in the result"
attach 3 l2 "$L2" || fail "ADD l2"
MAC1=$(in_pod l1 cat /sys/class/net/net1/address)
assert_eq "$MAC1" "$(nbctl --bare --columns=port_security find Logical_Switch_Port name=osn.testns/l2only.cid-l1.net1)" "MAC-only port security"
in_pod l1 ip addr add 192.168.77.1/24 dev net1
in_pod l2 ip addr add 192.168.77.2/24 dev net1
check "VM-style self-assigned addresses work over the L2 overlay" ping_ok l1 192.168.77.2
detach 1 l1 "$L2" >/dev/null; detach 3 l2 "$L2" >/dev/null

# --- dual-stack ---------------------------------------------------------------
DS='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"dual","topology":"layer2","subnets":"10.50.0.0/24,fd00:50::/64"}'
expect_ok "dual-stack ADD on node1" attach 1 d1 "$DS"
jq_eq "$RESULT" '[.ips[].address | test(":")] | sort | join(",")' "false,true" "one IPv4 and one IPv6 address"
expect_ok "dual-stack ADD on node2" attach 2 d2 "$DS"
check "IPv4 across nodes" ping_ok d1 "$(pod_ip d2)"
check "IPv6 across nodes" ping6_ok d1 "$(pod_ip d2 net1 6)"
detach 1 d1 "$DS" >/dev/null; detach 2 d2 "$DS" >/dev/null

# --- same name, different settings: never a silent join ----------------------
expect_ok "ADD on tenant-overlay" attach 1 c1 "$SEED1"
OTHER='{"cniVersion":"0.3.1","type":"ovn-kubernetes","name":"tenant-overlay","subnet":"10.10.99.0/24"}'
attach 2 c2 "$OTHER"; rc=$?
assert_eq "1" "$rc" "a second NAD with other settings fails"
jq_eq "$RESULT" '.msg | test("10.10.10.0/24") and test("10.10.99.0/24")' true "its message shows both settings"
UP='{"cniVersion":"0.3.1","type":"ovn-k8s-cni-overlay","name":"tenant-overlay","topology":"layer2","subnets":"10.10.10.0/24"}'
expect_ok "the upstream dialect with the same settings joins the seed network" attach 2 c3 "$UP"
check "and reaches the seed-dialect pod" ping_ok c3 "$(pod_ip c1)"
detach 1 c1 "$SEED1" >/dev/null; detach 2 c3 "$UP" >/dev/null; detach 2 c2 "$OTHER" >/dev/null

# --- GC ------------------------------------------------------------------------
GCN='{"cniVersion":"1.1.0","type":"ovn-kubernetes","name":"gcnet","subnet":"10.60.0.0/24"}'
attach 1 g1 "$GCN" && attach 1 g2 "$GCN" && attach 1 g3 "$GCN" || fail "gc attach: $RESULT"
GCC=$(jq -c '. + {"cni.dev/valid-attachments": [{"containerID":"cid-g1","ifname":"net1"},{"containerID":"cid-g3","ifname":"net1"}]}' <<<"$GCN")
check "GC" cni 1 GC "" "" "" "$GCC"
assert_eq "osn.testns/gcnet.cid-g1.net1 osn.testns/gcnet.cid-g3.net1" "$(osn_lsps | grep gcnet | sort | tr '\n' ' ' | sed 's/ $//')" "GC removed exactly the attachment not listed"
assert_eq "" "$(in_pod g2 ip -o link show net1 2>/dev/null)" "GC removed its veth"
check "kept attachments still work" ping_ok g1 "$(pod_ip g3)"
check "GC with no valid-attachments key" cni 1 GC "" "" "" "$GCN"
nothing_left "GC with an empty list removes the rest"

# --- STATUS ----------------------------------------------------------------------
check "STATUS when NB is reachable" cni 1 STATUS "" "" "" "$GCN"
mv "$SANDBOX_DIR/nb.sock" "$SANDBOX_DIR/nb.sock.away"
OUT=$(cni 1 STATUS "" "" "" "$GCN"); rc=$?
mv "$SANDBOX_DIR/nb.sock.away" "$SANDBOX_DIR/nb.sock"
assert_eq "1" "$rc" "STATUS fails when NB is unreachable"
jq_eq "$OUT" '.code' "50" "STATUS: code 50"
jq_eq "$OUT" '.msg | test("nb.sock")' true "STATUS names the NB remote"

finish
