#!/usr/bin/env bash
# A node lost with pods on it (issue 10): its daemons are killed (no DEL
# ever comes); osnctl gc --node on another node reclaims every port and
# address it held and the networks this leaves empty, so the network's
# capacity comes back; a live node is refused without --force; --unresponsive
# finds the lost node itself; persistent reservations stay unless
# --release-reservations.  Runs on a standalone NB, or on a Raft NB with
# OSN_TEST_NB_CLUSTER=3.
# This suite names logical ports for their container (osn.<net>.<cid>.<if>),
# as an ADD without a pool does; the pool path has its own suite (test-pools).
export OSN_POOL_SIZE=${OSN_POOL_SIZE:-0}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
require_root_and_tools
OSNCTL=${OSNCTL:-$OSN_BUILD/src/osnctl/osnctl}
require_built "$PLUGIN" "$OSNCTL"
command -v jq >/dev/null || skip "missing jq (scripts/deps.sh installs it)"
sandbox_up 3
# An ADD into the full network fails only at ready_timeout_ms (northd never
# assigns an address): keep that short.
for i in 1 2 3; do
    f=$SANDBOX_DIR/node$i/osn.json
    jq '.ready_timeout_ms = 4000' "$f" >"$f.tmp" && mv "$f.tmp" "$f"
done

ctl() {
    local node=$1
    shift
    on "$node" "$OSNCTL" "$@"
}

# A /28: 16 addresses, so capacity is small and its exhaustion quick to see.
SMALL='{"cniVersion":"1.0.0","type":"ovn-kubernetes","name":"small","subnet":"10.77.0.0/28"}'
ONLY3='{"cniVersion":"1.0.0","type":"ovn-kubernetes","name":"only3","subnet":"10.78.0.0/24"}'

# Fill "small": 5 pods on node3, the rest on node1 until an ADD fails.
for i in 1 2 3 4 5; do
    expect_ok "ADD v$i on node3" attach 3 "v$i" "$SMALL"
done
expect_ok "ADD w1 on node3 to only3 (a network only node3 uses)" attach 3 w1 "$ONLY3"
expect_ok "ADD l1 on node2 (live)" attach 2 l1 "$SMALL"
cap=6
for i in $(seq 1 20); do
    attach 1 "f$i" "$SMALL" >/dev/null || break
    cap=$((cap + 1))
done
jq_eq "$RESULT" '.code' 11 "the full network refuses one more ADD with code 11 ($cap attachments)"
check "capacity is what a /28 holds (between 10 and 14): $cap" test "$cap" -ge 10 -a "$cap" -le 14
FILLED=$((cap - 6))

# One of node3's ports is a persistent reservation (the VM feature's mark).
RES=$(nbctl --bare --columns=name find Logical_Switch_Port 'external_ids:"osn/container-id"="cid-v5"')
nbctl set Logical_Switch_Port "$RES" 'external_ids:"osn/reservation"="true"'

# Node 3 dies without a word: SIGKILL to its three daemons.
for p in ovn-controller ovs-vswitchd ovsdb-server; do
    kill -KILL "$(cat "$SANDBOX_DIR/node3/$p.pid")"
done
J=$(ctl 1 attachments --node osn-node3 --json)
jq_eq "$J" '.attachments | length' 6 "osnctl attachments still lists node3's 6 attachments"
jq_eq "$J" '[.attachments[] | select(.ready == false)] | length' 6 "all 6 shown as not ready (node3 does not follow)"
J=$(ctl 1 attachments --node osn-node2 --json)
jq_eq "$J" '[.attachments[] | .ready] | join(",")' true "node2's attachment is ready"

# A live node is refused, and nothing goes.
t0=$SECONDS
OUT=$(ctl 1 gc --node osn-node2 2>&1); rc=$?
assert_eq 1 "$rc" "gc --node osn-node2 (alive) is refused"
assert_contains "$OUT" "still follows" "and says why"
check "the refusal took less than the 10 s bound ($((SECONDS - t0)) s)" test $((SECONDS - t0)) -lt 10
assert_eq 1 "$(osn_lsps | grep -c 'cid-l1')" "node2's port is still there"
J=$(ctl 1 gc --node osn-node2 --force --dry-run --json)
jq_eq "$J" '[.actions[] | select(.object == "attachment")] | length' 1 "--force --dry-run plans node2's one attachment"

# --unresponsive finds node3 (and only node3).
J=$(ctl 1 gc --unresponsive 3 --dry-run --json)
jq_eq "$J" '.lost_nodes | join(",")' osn-node3 "--unresponsive 3 finds node3 alone"
jq_eq "$J" '[.actions[] | select(.object == "attachment")] | length' 5 "it plans node3's 5 attachments (not the reservation)"
jq_eq "$J" '[.actions[] | select(.object == "network") | .network] | join(",")' testns/only3 "and the network only node3 used"
jq_eq "$J" '[.kept[] | select(.name == "'"$RES"'")] | length' 1 "the reservation is left alone"

J=$(ctl 1 gc --unresponsive 3 --json); rc=$?
assert_eq 0 "$rc" "gc --unresponsive 3 succeeds"
jq_eq "$J" '[.actions[] | select(.result == "removed")] | length' 6 "5 attachments and 1 network removed"
assert_eq "$RES" "$(nbctl --bare --columns=name find Logical_Switch_Port 'external_ids:"osn/node"="osn-node3"' | sed '/^$/d')" "only the reservation of node3 is left"
assert_eq "" "$(osn_switches | grep only3)" "network only3 is gone"

# The capacity came back: 4 more pods fit (5 freed, one kept as reservation).
n=0
for i in 1 2 3 4; do
    attach 1 "g$i" "$SMALL" >/dev/null && n=$((n + 1))
done
assert_eq 4 "$n" "4 new pods fit in the reclaimed addresses"
attach 1 g5 "$SMALL" >/dev/null
jq_eq "$RESULT" '.code' 11 "and then the network is full again"

# No address is held twice.
dups=$(nbctl --bare --columns=addresses find Logical_Switch_Port 'external_ids:"osn/network"="testns/small"' |
    tr ' ' '\n' | grep -E '^10\.77\.' | sort | uniq -d)
assert_eq "" "$dups" "no address is held twice"

# The reservation goes only when asked (node3 is lost: no --force needed).
J=$(ctl 1 gc --node osn-node3 --release-reservations --json); rc=$?
assert_eq 0 "$rc" "gc --node osn-node3 --release-reservations succeeds"
assert_eq "" "$(nbctl --bare --columns=name find Logical_Switch_Port 'external_ids:"osn/node"="osn-node3"' | sed '/^$/d')" "node3 holds nothing any more"

# The survivors still work: remove them the normal way.
for i in $(seq 1 "$FILLED"); do detach 1 "f$i" "$SMALL" >/dev/null; done
for i in 1 2 3 4; do detach 1 "g$i" "$SMALL" >/dev/null; done
detach 2 l1 "$SMALL" >/dev/null
assert_eq "" "$(osn_lsps)$(osn_switches)" "after the DELs, no logical port or switch is left"
finish
