#!/usr/bin/env bash
# Faults: ovn-northd stopped (ADD fails with code 11 within its bound and
# leaves nothing), a plugin killed mid-ADD (the retried ADD converges), bad
# node config, unreachable NB, wrong CNI env.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
plugin_test_up 2

NET='{"cniVersion":"1.0.0","type":"ovn-kubernetes","name":"faulty","subnet":"10.90.0.0/24"}'
L2='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"faulty-l2","topology":"layer2"}'
CONF1=$SANDBOX_DIR/node1/osn.json
# A short bound for this test: 3 s.
jq '.ready_timeout_ms = 3000' "$CONF1" >"$CONF1.new" && mv "$CONF1.new" "$CONF1"
NORTHD=$(cat "$SANDBOX_DIR/northd.pid")

# --- ovn-northd stopped --------------------------------------------------------
kill -STOP "$NORTHD"
t0=$(date +%s%N)
attach 1 f1 "$NET"; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
assert_eq "1" "$rc" "ADD fails while ovn-northd is stopped"
jq_eq "$RESULT" '.code' "11" "with code 11 (try again later)"
jq_eq "$RESULT" '.msg | test("northd")' true "naming what did not answer"
jq_eq "$RESULT" '.details | test("rolled back: OVS port, veth, logical port")' true \
    "and saying what it rolled back"
((ms >= 2500 && ms < 8000)) && ok "within its 3 s bound ($ms ms)" || fail "took $ms ms for a 3 s bound"
nothing_left "the failed ADD left nothing"
attach 1 f2 "$L2"; rc=$?
assert_eq "1" "$rc" "a no-subnet ADD fails too (ovn-controller never gets the port)"
jq_eq "$RESULT" '.code' "11" "with code 11"
nothing_left "and leaves nothing"

# --- killed mid-ADD, then retried ------------------------------------------------
ns=$(pod_add k1)
on 1 env CNI_COMMAND=ADD CNI_CONTAINERID=cid-k1 CNI_NETNS="$ns" CNI_IFNAME=net1 CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=testns;K8S_POD_NAME=k1" \
    "$PLUGIN" <<<"$NET" >/dev/null 2>&1 &
sleep 1
# Kill exactly this ADD: the plugin process whose environment names cid-k1.
for pid in $(pgrep -x ovn-kubernetes); do
    tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx CNI_CONTAINERID=cid-k1 && kill -KILL "$pid"
done
wait 2>/dev/null
[[ -n "$(osn_lsps | grep cid-k1)" ]] && ok "the killed ADD left its logical port behind (the case to converge from)" ||
    fail "the kill came too late to leave anything"
kill -CONT "$NORTHD"
expect_ok "the retried ADD succeeds" attach 1 k1 "$NET"
assert_eq "1" "$(osn_lsps | grep -c cid-k1)" "one logical port for the attachment"
assert_eq "1" "$(in_pod k1 ip -o link show | grep -c net1@)" "one interface in the pod"
expect_ok "a second pod" attach 2 k2 "$NET"
check "the retried pod works" ping_ok k2 "$(pod_ip k1)"
expect_ok "ADD retried once more after success converges too" attach 1 k1 "$NET"
check "and still works" ping_ok k2 "$(pod_ip k1)"
detach 1 k1 "$NET" >/dev/null; detach 2 k2 "$NET" >/dev/null
nothing_left "after DEL"

# --- NB unreachable, node config broken, bad env -----------------------------------
mv "$SANDBOX_DIR/nb.sock" "$SANDBOX_DIR/nb.sock.away"
attach 1 u1 "$NET"; rc=$?
mv "$SANDBOX_DIR/nb.sock.away" "$SANDBOX_DIR/nb.sock"
assert_eq "1" "$rc" "ADD fails when NB is unreachable"
jq_eq "$RESULT" '.code' "11" "code 11"
jq_eq "$RESULT" '.msg | test("nb.sock")' true "naming the NB remote"
nothing_left "leaving nothing"

cp "$CONF1" "$CONF1.good"
echo '{"nb_remote": 5}' >"$CONF1"
attach 1 u2 "$NET"; rc=$?
assert_eq "1" "$rc" "ADD fails with a broken node config"
jq_eq "$RESULT" '.msg | test("nb_remote") and test("osn.json")' true "naming the file and the key"
jq '.pool_size = 65' "$CONF1.good" >"$CONF1"
attach 1 u2 "$NET"; rc=$?
assert_eq "1" "$rc" "ADD fails with pool_size out of range"
jq_eq "$RESULT" '.msg | test("pool_size") and test("65") and test("osn.json")' true \
    "naming the file, the key and the value"
mv "$CONF1.good" "$CONF1"

OUT=$(cni 1 ADD "" "$(pod_add u3)" net1 "$NET"); rc=$?
jq_eq "$OUT" '.code' "4" "missing CNI_CONTAINERID: code 4"
jq_eq "$OUT" '.msg | test("CNI_CONTAINERID")' true "naming the variable"
OUT=$(cni 1 ADD cid-u3 "/var/run/netns/does-not-exist" net1 "$NET")
jq_eq "$OUT" '.msg | test("does-not-exist")' true "a missing netns is named"
OUT=$(cni 1 ADD cid-u3 "$(pod_netns u3)" "bad/name" "$NET")
jq_eq "$OUT" '.code' "4" "an invalid CNI_IFNAME: code 4"
OUT=$(cni 1 ADD cid-u3 "$(pod_netns u3)" net1 '{"cniVersion":"0.3.1","type":"ovn-kubernetes","name":"x","subnet":"10.10.10.0/24",}')
jq_eq "$OUT" '.code' "6" "the seed's trailing comma: code 6 (decode failure)"
jq_eq "$OUT" '.msg | test("trailing comma")' true "and says so"
OUT=$(cni 1 ADD cid-u3 "$(pod_netns u3)" net1 '{"cniVersion":"0.3.1","type":"ovn-kubernetes","name":"x","subnet":"10.10.10.1/24"}')
jq_eq "$OUT" '.code' "7" "a subnet with host bits: code 7"
jq_eq "$OUT" '.msg | test("subnet") and test("10.10.10.0/24")' true "naming the key and the fix"
OUT=$(on 1 env -i PATH="$PATH" OSN_CONFIG="$CONF1" "$PLUGIN" </dev/null)
jq_eq "$OUT" '.code' "4" "no CNI_COMMAND at all: code 4"
nothing_left "bad input left nothing"
finish
