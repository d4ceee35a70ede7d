#!/usr/bin/env bash
# 24 ADDs at once across 3 nodes on one new network (so 24 attachments race
# to create its switch): unique addresses, all reachable; then 24 DELs at
# once race to delete it: nothing left.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
plugin_test_up 3

NET='{"cniVersion":"1.0.0","type":"ovn-kubernetes","name":"race","subnet":"10.80.0.0/24"}'
N=24
OUT=$(mktemp -d)
PODS=()
for i in $(seq 1 $N); do
    PODS+=("r$i")
    pod_add "r$i" >/dev/null
done
for i in $(seq 1 $N); do
    node=$(( (i - 1) % 3 + 1 ))
    ( attach "$node" "r$i" "$NET"; rc=$?; printf '%s\n' "$RESULT" >"$OUT/r$i.json"; echo "$rc" >"$OUT/r$i.rc" ) &
done
wait
okc=0
for p in "${PODS[@]}"; do
    [[ $(cat "$OUT/$p.rc") == 0 ]] && okc=$((okc + 1)) || echo "# $p: $(cat "$OUT/$p.json")"
done
assert_eq "$N" "$okc" "$N concurrent ADDs across 3 nodes all succeed"
assert_eq "1" "$(osn_switches | grep -c '^osn.testns/race$')" "exactly one switch was created"
ADDRS=$(for p in "${PODS[@]}"; do jq -r '.ips[0].address' "$OUT/$p.json"; done | sort)
assert_eq "$N" "$(sort -u <<<"$ADDRS" | grep -c '^10\.80\.0\.')" "$N unique addresses in 10.80.0.0/24"
MACS=$(for p in "${PODS[@]}"; do jq -r '.interfaces[0].mac' "$OUT/$p.json"; done | sort -u | wc -l)
assert_eq "$N" "$MACS" "$N unique MACs"
unreach=""
for p in "${PODS[@]:1}"; do
    ip=$(jq -r '.ips[0].address' "$OUT/$p.json")
    ping_ok r1 "${ip%/*}" || unreach="$unreach $p(${ip%/*})"
done
assert_eq "" "$unreach" "r1 (node1) reaches all 23 others on all nodes"
check "r24 (node3) reaches r2 (node2)" ping_ok r24 "$(pod_ip r2)"

for i in $(seq 1 $N); do
    node=$(( (i - 1) % 3 + 1 ))
    ( detach "$node" "r$i" "$NET" >"$OUT/d$i.out"; echo $? >"$OUT/d$i.rc" ) &
done
wait
okc=0
for i in $(seq 1 $N); do [[ $(cat "$OUT/d$i.rc") == 0 ]] && okc=$((okc + 1)) || echo "# DEL r$i: $(cat "$OUT/d$i.out")"; done
assert_eq "$N" "$okc" "$N concurrent DELs all succeed"
nothing_left "after the DELs: no veth, OVS port, logical port or switch"
rm -rf "$OUT"
finish
