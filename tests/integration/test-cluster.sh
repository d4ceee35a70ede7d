#!/usr/bin/env bash
# Churn on a Raft NB of 3 members while it fails (issue 10): 8 workers over
# 3 nodes ADD and DEL pods without pause while the NB leader is killed and
# restarted twice and then a follower is frozen (SIGSTOP) for 10 s.  Every
# ADD must succeed or fail with code 11 within ready_timeout_ms plus a small
# slack; no address may be held twice at any sample; at the end (after the
# runtime's DELs) no veth, OVS port, logical port or switch is left.
# Also measured and printed: failed ADDs that left their logical port
# behind before their DEL came (the rollback's business).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
require_root_and_tools
require_built "$PLUGIN"
command -v jq >/dev/null || skip "missing jq (scripts/deps.sh installs it)"
sandbox_up 3 --nb-cluster 3

TIMEOUT_MS=8000
SLACK_MS=3000
WORKERS=8
for i in 1 2 3; do
    f=$SANDBOX_DIR/node$i/osn.json
    jq ".ready_timeout_ms = $TIMEOUT_MS" "$f" >"$f.tmp" && mv "$f.tmp" "$f"
done
NET='{"cniVersion":"1.0.0","type":"ovn-kubernetes","name":"churn","subnet":"10.90.0.0/22"}'
OUT=$(mktemp -d)
STOP=$OUT/stop

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# worker W: ADD, then DEL, pod after pod, until $STOP exists; one line per
# ADD in $OUT/w<W>.log: "rc ms code leftover".
worker() {
    local w=$1 k=0 node pod t0 t1 rc code left
    while [[ ! -e "$STOP" ]]; do
        k=$((k + 1))
        node=$(((w + k) % 3 + 1))
        pod=w${w}k$k
        pod_add "$pod" >/dev/null
        t0=$(now_ms)
        attach "$node" "$pod" "$NET" >/dev/null 2>>"$OUT/w$w.stderr"
        rc=$?
        t1=$(now_ms)
        code=0
        left=0
        if ((rc != 0)); then
            code=$(jq -r '.code // "none"' <<<"$RESULT" 2>/dev/null)
            [[ -n "$code" ]] || code=none
            # Before the runtime's DEL: did the failed ADD leave its port?
            [[ -z "$(ovn-nbctl --timeout=10 --db="unix:$SANDBOX_DIR/nb.sock/$(nb_member leader).sock" \
                --bare --columns=name find Logical_Switch_Port \
                "external_ids:\"osn/container-id\"=\"cid-$pod\"" 2>/dev/null)" ]] || left=1
            echo "# $pod on node$node: $(jq -c '{code, msg}' <<<"$RESULT" 2>/dev/null)" >>"$OUT/w$w.err"
        fi
        echo "$rc $((t1 - t0)) $code $left" >>"$OUT/w$w.log"
        detach "$node" "$pod" "$NET" >/dev/null || echo "del $pod failed" >>"$OUT/w$w.delerr"
        pod_del "$pod"
    done
}

# Addresses held by two ports at once (sampled on the leader: ovn-nbctl
# itself, given every member, can hang on a frozen one).
SAMPLES=0
DUPS=""
sample() {
    local l all
    l=$(nb_member leader) || return 0
    all=$(ovn-nbctl --timeout=10 --db="unix:$SANDBOX_DIR/nb.sock/$l.sock" --bare \
        --columns=addresses find Logical_Switch_Port 'external_ids:"osn/network"="testns/churn"') ||
        return 0
    SAMPLES=$((SAMPLES + 1))
    DUPS+=$(tr ' ' '\n' <<<"$all" | grep -E '^10\.90\.' | sort | uniq -d)
}

t_start=$SECONDS
for w in $(seq 1 $WORKERS); do worker "$w" & done

sleep 3; sample
for round in 1 2; do
    L=$(nb_member leader) || L=""
    if [[ -z "$L" ]]; then
        fail "round $round: no NB leader to kill"
        continue
    fi
    nb_member kill "$L"
    echo "# $((SECONDS - t_start)) s: killed NB leader member $L"
    sleep 4; sample
    nb_member start "$L"
    echo "# $((SECONDS - t_start)) s: restarted member $L"
    sleep 3; sample
done
L=$(nb_member leader) || L=1
F=$(( L % 3 + 1 ))
nb_member freeze "$F"
echo "# $((SECONDS - t_start)) s: froze NB follower member $F for 10 s"
sleep 5; sample
sleep 5
nb_member thaw "$F"
echo "# $((SECONDS - t_start)) s: thawed member $F"
sleep 3; sample
# Keep churning until several hundred ADDs ran (at most 90 s more).
t_faults=$SECONDS
while (($(cat "$OUT"/w*.log 2>/dev/null | wc -l) < 300 && SECONDS - t_faults < 90)); do
    sleep 1
done
sample
touch "$STOP"
wait
echo "# churn ran $((SECONDS - t_start)) s"

cat "$OUT"/w*.log >"$OUT/all"
total=$(wc -l <"$OUT/all")
okc=$(awk '$1 == 0' "$OUT/all" | wc -l)
failed=$((total - okc))
bad_code=$(awk '$1 != 0 && $3 != 11' "$OUT/all" | wc -l)
slow=$(awk -v lim=$((TIMEOUT_MS + SLACK_MS)) '$2 > lim' "$OUT/all" | wc -l)
maxms=$(awk 'BEGIN {m = 0} $2 > m {m = $2} END {print m}' "$OUT/all")
p50=$(awk '{print $2}' "$OUT/all" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
left=$(awk '$4 == 1' "$OUT/all" | wc -l)
echo "# measured: $total ADDs ($okc ok, $failed failed), ADD p50 ${p50} ms, max ${maxms} ms;" \
    "failed ADDs that left their logical port before the DEL: $left"
cat "$OUT"/w*.err 2>/dev/null | head -20
grep -h . "$OUT"/w*.stderr 2>/dev/null | head -20 | sed 's/^/# stderr: /' 
check "several hundred ADDs ran ($total)" test "$total" -ge 200
assert_eq 0 "$bad_code" "every failed ADD failed with code 11"
assert_eq 0 "$slow" "every ADD ended within ready_timeout_ms + ${SLACK_MS} ms (max ${maxms} ms)"
check "at least 6 samples of the addresses were taken ($SAMPLES)" test "$SAMPLES" -ge 6
assert_eq "" "$DUPS" "no address was held twice at any of the $SAMPLES samples"
assert_eq "" "$(cat "$OUT"/w*.delerr 2>/dev/null)" "every DEL succeeded"
check "a leader again after the faults" nb_member leader
nothing_left "after the churn: no veth, OVS port, logical port or switch"
rm -rf "$OUT"
finish
