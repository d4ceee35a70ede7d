#!/usr/bin/env bash
# The NB DB killed in the middle of ADDs (issue 10): every ADD either
# succeeds or fails, and a failed ADD leaves nothing behind without any DEL
# (its rollback settles the transaction in flight, reconnects, and removes
# what it made).  Standalone: the one NB server is killed and started again;
# with OSN_TEST_NB_CLUSTER=3: the leader is killed and started again.
# This suite names logical ports for their container (osn.<net>.<cid>.<if>),
# as an ADD without a pool does; the pool path has its own suite (test-pools).
export OSN_POOL_SIZE=${OSN_POOL_SIZE:-0}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
plugin_test_up 3
CLUSTER=${OSN_TEST_NB_CLUSTER:-}

NET='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"nbkill","topology":"layer2","subnets":"10.66.0.0/22"}'
OUT=$(mktemp -d)
# A short bound (3 s) and the NB away for longer than it: the ADDs in
# flight then fail (code 11) and their rollbacks (a bound of their own,
# 5 s) find the NB back and remove what they made.
# On a Raft NB the two members left elect a new leader and the ADDs in
# flight move there: a bound of 10 s lets them, so the failover is what
# that variant exercises.
BOUND_MS=3000
[[ -z "$CLUSTER" ]] || BOUND_MS=10000
for n in 1 2 3; do
    c=$SANDBOX_DIR/node$n/osn.json
    jq ".ready_timeout_ms = $BOUND_MS" "$c" >"$c.new" && mv "$c.new" "$c"
done
DOWN_S=${NBKILL_DOWN_S:-3.5}
ROUNDS=${NBKILL_ROUNDS:-3}
N=8
failed_total=0 ok_total=0 leftovers=""

kill_nb() {
    if [[ -n "$CLUSTER" ]]; then
        K=$("$SANDBOX" nb-member --dir "$SANDBOX_DIR" leader 2>/dev/null)
        "$SANDBOX" nb-member --dir "$SANDBOX_DIR" kill "$K" >/dev/null 2>&1
    else
        kill -9 "$(cat "$SANDBOX_DIR/nb.pid")" 2>/dev/null
    fi
}
start_nb() {
    if [[ -n "$CLUSTER" ]]; then
        "$SANDBOX" nb-member --dir "$SANDBOX_DIR" start "$K" >/dev/null 2>&1
    else
        "$SANDBOX" up --dir "$SANDBOX_DIR" --nodes 3 >/dev/null 2>&1
    fi
}

for round in $(seq 1 "$ROUNDS"); do
    for i in $(seq 1 $N); do pod_add "k$round-$i" >/dev/null; done
    for i in $(seq 1 $N); do
        node=$(( (i - 1) % 3 + 1 ))
        ( attach "$node" "k$round-$i" "$NET"; rc=$?
          printf '%s\n' "$RESULT" >"$OUT/k$round-$i.json"; echo "$rc" >"$OUT/k$round-$i.rc" ) &
    done
    # In the middle of them: the ADDs are in flight for ~30-300 ms each.
    sleep 0.$(( round ))
    kill_nb
    sleep "$DOWN_S"
    start_nb
    wait
    for i in $(seq 1 $N); do
        p="k$round-$i"
        node=$(( (i - 1) % 3 + 1 ))
        if [[ $(cat "$OUT/$p.rc") == 0 ]]; then
            ok_total=$((ok_total + 1))
            detach "$node" "$p" "$NET" >/dev/null || leftovers="$leftovers DEL:$p"
        else
            failed_total=$((failed_total + 1))
            code=$(jq -r .code "$OUT/$p.json" 2>/dev/null)
            [[ $code == 11 || $code == 100 ]] || leftovers="$leftovers $p:code=$code"
            # Nothing of it anywhere, without a DEL.
            [[ -z "$(osn_lsps | grep "\.cid-$p\.")" ]] || leftovers="$leftovers $p:lsp"
            [[ -z "$(vsctl "$node" --bare --columns=name find Interface "external_ids:\"osn/container-id\"=cid-$p" 2>/dev/null | sed '/^$/d')" ]] ||
                leftovers="$leftovers $p:ovs"
            [[ -z "$(in_pod "$p" ip -o link show net1 2>/dev/null)" ]] || leftovers="$leftovers $p:veth"
        fi
        pod_del "$p" >/dev/null
    done
done
echo "# ${CLUSTER:+cluster: }$ok_total ADDs succeeded, $failed_total failed across $ROUNDS NB kills"
(( ok_total + failed_total == ROUNDS * N )) && ok "every ADD answered ($ok_total ok, $failed_total failed)" ||
    fail "some ADD did not answer"
if [[ -z "$CLUSTER" ]]; then
    # Not vacuous: the NB was away longer than the bound, so some failed.
    (( failed_total > 0 )) && ok "some ADDs failed while the NB was away ($failed_total)" ||
        fail "no ADD failed: the NB kill missed them all (nothing tested)"
else
    # The ADDs in flight when the leader died went on on the new leader
    # (how many depends on the machine's load; none is an error).
    (( ok_total > 0 )) && ok "ADDs succeed across leader kills ($ok_total of $((ROUNDS * N)))" ||
        fail "no ADD succeeded across the leader kills"
fi
assert_eq "" "$leftovers" "a failed ADD leaves nothing behind without any DEL (and fails with 11 or 100)"
nothing_left "after the DELs of the ones that succeeded, nothing is left"
rm -rf "$OUT"
finish
