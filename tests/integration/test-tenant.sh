#!/usr/bin/env bash
# Tenant mistakes and bad CNI input on the real sandbox (issue 12): an MTU
# above the node's is refused naming both values; CNI_NETNS that is not a
# pod's network namespace (FIFO, regular file, directory, /dev/zero, another
# namespace type, the plugin's own netns) is refused with code 4 at once;
# invalid UTF-8 in CNI_IFNAME or CNI_ARGS is refused on ADD and a DEL of it
# succeeds; no answer carries code 999; every failure logs one line in the
# node's log_file with pod, container, network and interface, env failures
# included; the config's did-you-mean warnings reach the log too.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
plugin_test_up 2

LOG1=$SANDBOX_DIR/node1/osn-cni.log
[[ -f $SANDBOX_DIR/node1/osn.json ]] || fail "node1 config at $SANDBOX_DIR/node1/osn.json"
OV='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"tn-ov","topology":"layer2","subnets":"10.60.0.0/24"}'
ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=tns;K8S_POD_NAME=p1"

# log_lines CID: the ERR lines in node1's log for container CID.
log_lines() { grep -a " ERR " "$LOG1" 2>/dev/null | grep -a -- "container $1," || true; }

# --- MTU above the node's ----------------------------------------------------
NS=$(pod_add m1)
OUT=$(cni 1 ADD cid-m1 "$NS" net1 "$(jq -c '.mtu = 9000' <<<"$OV")" "$ARGS")
jq_eq "$OUT" '.code' "7" "mtu 9000 on an overlay: code 7"
jq_eq "$OUT" '.msg | test("\"mtu\": 9000 is above this node.s overlay MTU 1442")' true "the message names the key, 9000 and 1442"
OUT=$(cni 1 ADD cid-m1 "$NS" net1 "$(jq -c '.mtu = 1442' <<<"$OV")" "$ARGS")
jq_eq "$OUT" '.interfaces[0].name' "net1" "mtu 1442 (the overlay MTU) is accepted"
assert_eq "1442" "$(in_pod m1 cat /sys/class/net/net1/mtu)" "and set on the pod interface"
cni 1 DEL cid-m1 "$NS" net1 "$OV" "$ARGS" >/dev/null || fail "DEL cid-m1"
LN='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"tn-ln","topology":"localnet","physicalNetworkName":"physnet","mtu":1501}'
OUT=$(cni 1 ADD cid-m2 "$NS" net1 "$LN" "$ARGS")
jq_eq "$OUT" '.code' "7" "mtu 1501 on localnet: code 7"
jq_eq "$OUT" '.msg | test("1501 is above this node.s physical MTU 1500")' true "the message names 1501 and the physical 1500"
L=$(log_lines cid-m2)
assert_eq "1" "$(grep -c . <<<"$L")" "the failed ADD logs exactly one ERR line"
assert_contains "$L" "ADD failed: pod tns/p1, container cid-m2, network tn-ln, interface net1: code 7:" "it names pod, container, network, interface and code"
assert_contains "$L" "physical MTU 1500" "and what failed"

# --- CNI_NETNS that cannot take a pod's interface -----------------------------
T=$(mktemp -d /tmp/osn-tenant.XXXXXX)
mkfifo "$T/fifo"
: >"$T/file"
mkdir "$T/dir"
for spec in "fifo:$T/fifo:a FIFO" "file:$T/file:a regular file" "dir:$T/dir:a directory" \
    "zero:/dev/zero:a character device" "uts:/proc/self/ns/uts:not a network namespace" \
    "self:/proc/self/ns/net:own (host) network namespace"; do
    IFS=: read -r what path why <<<"$spec"
    s=$(date +%s%N)
    OUT=$(timeout 10 "$SANDBOX" exec --dir "$SANDBOX_DIR" 1 -- env CNI_COMMAND=ADD \
        CNI_CONTAINERID="cid-ns-$what" CNI_NETNS="$path" CNI_IFNAME=net1 CNI_ARGS="$ARGS" \
        "$PLUGIN" <<<"$OV")
    rc=$?
    ms=$((($(date +%s%N) - s) / 1000000))
    [[ $rc -ne 124 ]] && ok "CNI_NETNS=$path ($what): answered in $ms ms" || fail "CNI_NETNS=$path ($what): hung"
    jq_eq "$OUT" '.code' "4" "CNI_NETNS=$path ($what): code 4"
    assert_contains "$(jq -r .msg <<<"$OUT")" "$why" "CNI_NETNS=$path: the message says it is $why"
done
assert_eq "" "$(osn_lsps)" "no logical port was made for any of them"

# --- invalid UTF-8 ---------------------------------------------------------------
NS2=$(pod_add u1)
OUT=$(cni 1 ADD cid-u1 "$NS2" $'net\xff' "$OV" "$ARGS")
jq_eq "$OUT" '.code' "4" "CNI_IFNAME with a non-UTF-8 byte: ADD code 4"
jq_eq "$OUT" '.msg | test("CNI_IFNAME: .*is not valid UTF-8")' true "the message says so"
check "DEL of that CNI_IFNAME succeeds" cni 1 DEL cid-u1 "$NS2" $'net\xff' "$OV" "$ARGS"
OUT=$(cni 1 DEL cid-u1 "$NS2" $'net\xff' "$OV" "$ARGS")
assert_eq "" "$OUT" "and prints nothing"
OUT=$(cni 1 ADD cid-u2 "$NS2" net1 "$OV" $'IgnoreUnknown=1;K8S_POD_NAMESPACE=tns;K8S_POD_NAME=p\xe9')
jq_eq "$OUT" '.code' "4" "a CNI_ARGS value with a non-UTF-8 byte: ADD code 4"
jq_eq "$OUT" '.msg | test("K8S_POD_NAME=.*is not valid UTF-8")' true "the message names the key"
check "DEL with that CNI_ARGS succeeds" cni 1 DEL cid-u2 "$NS2" net1 "$OV" $'IgnoreUnknown=1;K8S_POD_NAMESPACE=tns;K8S_POD_NAME=p\xe9'
assert_eq "" "$(in_pod u1 ip -o link show net1 2>/dev/null)" "no interface was made in the pod"
L=$(log_lines cid-u1)
assert_contains "$L" "ADD failed: pod tns/p1, container cid-u1, network tn-ov, interface -: code 4: CNI_IFNAME" "an environment failure reaches log_file, once, with what is known"

# --- no 999, no stdin: prefix ----------------------------------------------------
OUT=$(cni 1 ADD cid-x "$NS2" net1 '{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"x","topology":"layer2","mtu":"1400"}' "$ARGS")
jq_eq "$OUT" '.code' "7" "a config error: code 7"
jq_eq "$OUT" '.msg | startswith("key \"mtu\"")' true "its message has no stdin: prefix"
assert_eq "0" "$(grep -ac '"code": *999\|code 999' "$LOG1")" "no failure in the log carries code 999"

# --- warnings for likely typos reach the log ----------------------------------------
TYPO='{"cniVersion":"0.3.1","type":"ovn-kubernetes","name":"tn-typo","subnett":"10.61.0.0/24","has_external_conectivity":true}'
expect_ok "a config with typos still attaches (unknown keys are ignored)" attach 1 w1 "$TYPO"
W=$(grep -a " WARN " "$LOG1" | grep -a "cid-w1" || true)
assert_contains "$W" 'unknown key "subnett" is ignored; did you mean "subnet" or "subnets"?' "the plugin logs the did-you-mean for subnett"
assert_contains "$W" 'did you mean "has_external_connectivity"?' "and for has_external_conectivity"
detach 1 w1 "$TYPO" >/dev/null || fail "DEL w1"

# --- a bad node config: the failure goes to stderr ---------------------------------
OUT=$(on 1 env OSN_CONFIG=/nonexistent/osn.json CNI_COMMAND=ADD CNI_CONTAINERID=cid-nc CNI_NETNS="$NS2" \
    CNI_IFNAME=net1 "$PLUGIN" <<<"$OV" 2>"$T/stderr")
jq_eq "$OUT" '.code' "7" "a node config that does not load: the error is on stdout"
assert_contains "$(cat "$T/stderr")" "container cid-nc" "and its log line on stderr"

nothing_left "nothing left behind"
rm -rf "$T"
finish
