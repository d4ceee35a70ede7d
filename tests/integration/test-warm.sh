#!/usr/bin/env bash
# Warm ports (attach.h, "Warm ports"; docs/design.md): with warm_ports N, a
# node that has a pod of a network keeps N of the network's spares plugged
# and installed by ovn-controller, each a veth whose waiting end sits down,
# with IPv6 off, in the node's netns; an ADD there claims one in the NB and
# makes the pod's interface on it (a macvlan in passthru mode), waiting for
# neither northd nor ovn-controller.  Shown on the sandbox: the warm ports
# appear and are the NB's warm spares of that node (out of the pool index);
# an ADD takes one (its ids, MAC, address, the pod's interface, traffic,
# CHECK) and the node tops them up; ADDs at once and ADDs killed at random
# points then retried each end on exactly one port with no address twice;
# DELs killed at random points, then the DEL or the ADD again, leave no
# port held twice and no veth;
# osnctl gc removes what a crash left (a warm port whose logical port is
# gone, a warm spare without its OVS port) and a lost node's warm spares;
# the node's last DEL of the network releases them; warm_ports without a
# pool is refused.  OSN_KILLS (default 10) sets the number of kills of each kind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
export OSN_POOL_SIZE=4 OSN_WARM_PORTS=2
plugin_test_up 2
OSNCTL=$OSN_BUILD/src/osnctl/osnctl
NET='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"warm","topology":"layer2","subnets":"10.87.0.0/24"}'
OUT=$(mktemp -d)
KILLS=${OSN_KILLS:-10}

# warm_ifaces N: node N's warm OVS interfaces, "NAME IFACE-ID INSTALLED" lines.
warm_ifaces() {
    vsctl "$1" --format=json --columns=name,external_ids find Interface 'external_ids:"osn/warm"!=""' |
        jq -r '.data[] | [.[0], (.[1][1] | map({(.[0]): .[1]}) | add)] |
               "\(.[0]) \(.[1]["iface-id"]) \(.[1]["ovn-installed"] // "false")"'
}
# warm_ready N K: node N has K warm ports, all installed.
warm_ready() {
    local got
    got=$(warm_ifaces "$1" | awk '$3 == "true"' | wc -l)
    [[ $got -eq $2 && $(warm_ifaces "$1" | wc -l) -eq $2 ]]
}
# warm_lsps NODE: the NB's warm spares of NODE (names, sorted).
warm_lsps() {
    nbctl --bare --columns=name find Logical_Switch_Port "external_ids:\"osn/warm\"=\"$1\"" | sed '/^$/d' | sort
}
# lsp_ids PORT: the logical port's external_ids as a JSON object.
lsp_ids() {
    nbctl --format=json --columns=external_ids find Logical_Switch_Port "name=\"$1\"" |
        jq -c '.data[0][0][1] | map({(.[0]): .[1]}) | add // {}'
}
# ports_of CID: the names of the logical ports that carry container CID.
ports_of() {
    nbctl --bare --columns=name find Logical_Switch_Port "external_ids:\"osn/container-id\"=\"$1\"" | sed '/^$/d'
}
# twice: the addresses that are on two of the network's ports ("" when none).
twice() {
    nbctl --bare --columns=addresses find Logical_Switch_Port 'external_ids:"osn/network"="testns/warm"' |
        tr ' ' '\n' | grep -E '^[0-9a-f]{2}:|^[0-9]+\.' | sort | uniq -d | paste -sd' '
}
# logged POD: the plugin's log line of POD's last ADD on node N.
logged() { grep "cid-$2: ADD" "$SANDBOX_DIR/node$1/osn-cni.log" | tail -1; }

# --- the first pod makes the network; its node then keeps 2 warm ports -------
expect_ok "the first pod on node1 (it makes the network)" attach 1 a "$NET"
if wait_until 20 warm_ready 1 2; then ok "node1 keeps 2 warm ports, installed by ovn-controller"; else
    fail "node1's warm ports: $(warm_ifaces 1 | paste -sd';')"
fi
mapfile -t W < <(warm_ifaces 1 | awk '{print $2}' | sort)
assert_eq "$(printf '%s\n' "${W[@]}")" "$(warm_lsps osn-node1)" "they are the NB's warm spares of node1 (osn/warm=osn-node1)"
sw=$(nbctl --format=json --columns=external_ids find Logical_Switch 'name="osn.testns/warm"' | jq -c '.data[0][0][1] | map({(.[0]): .[1]}) | add')
for w in "${W[@]}"; do
    u=${w##*.spare.}
    assert_eq null "$(jq -r --arg k "osn/spare/$u" '.[$k]' <<<"$sw")" "warm spare $u is out of the pool index"
done
w0=$(warm_ifaces 1 | awk 'NR == 1 {print $1}')
osw=osw${w0#osn}
assert_eq "1" "$(on 1 cat "/proc/sys/net/ipv6/conf/$osw/disable_ipv6")" "its waiting end $osw has IPv6 off"
check "its waiting end $osw is down" bash -c "! $SANDBOX exec --dir $SANDBOX_DIR node1 -- ip -o link show $osw | grep -q '[<,]UP[,>]'"
check "node2 keeps none (no pod of the network there)" test -z "$(warm_ifaces 2)"

# --- an ADD takes one ----------------------------------------------------------
expect_ok "the second pod on node1" attach 1 b "$NET"
pb=$(ports_of cid-b)
if printf '%s\n' "${W[@]}" | grep -qxF "$pb"; then ok "pod b is on one of the warm ports ($pb)"; else
    fail "pod b is on $pb, not a warm port (${W[*]})"
fi
assert_contains "$(logged 1 b)" "(a warm port)" "its log line says so"
# warm_claims N: node1's metrics file counts N warm claims.
warm_claims() { grep -qx "osn_warm_claims_total $1" "$SANDBOX_DIR/node1/osn.prom"; }
check "the metrics count it (osn_warm_claims_total 1)" wait_until 5 warm_claims 1
ids=$(lsp_ids "$pb")
jq_eq "$ids" '[.["osn/spare"], .["osn/warm"], .["osn/container-id"], .["osn/node"]] | map(. // "-") | join(" ")' \
    "- - cid-b osn-node1" "its logical port: no osn/spare, no osn/warm, holder ids of cid-b on osn-node1"
host=$(vsctl 1 --bare --columns=name find Interface "external_ids:\"osn/container-id\"=\"cid-b\"" | sed '/^$/d')
hids=$(vsctl 1 --format=json --columns=external_ids find Interface "name=$host" | jq -c '.data[0][0][1] | map({(.[0]): .[1]}) | add // {}')
jq_eq "$hids" '[.["iface-id"], .["osn/warm"] // "-", .["osn/ifname"]] | join(" ")' "$pb - net1" \
    "its OVS interface $host (cid-b's) binds that port and is warm no more"
mac=$(jq -r '.interfaces[0].mac' <<<"$RESULT")
ip=$(jq -r '.ips[0].address' <<<"$RESULT")
addr=$(nbctl --bare --columns=addresses find Logical_Switch_Port "name=\"$pb\"")
assert_eq "$mac ${ip%/*}" "$addr" "the result's MAC and address are the port's"
assert_eq "$ip" "$(in_pod b ip -4 -o addr show dev net1 scope global | awk '{print $4}')" "the pod's net1 has the address"
assert_eq "$mac" "$(in_pod b cat /sys/class/net/net1/address)" "... and the MAC"
assert_contains "$(in_pod b ip -d -o link show net1)" "macvlan mode passthru" "the pod's net1 is a passthru macvlan on the warm port"
check "b reaches a" ping_ok b "$(pod_ip a)"
check "a reaches b" ping_ok a "$(pod_ip b)"
check "CHECK of b passes" cni 1 CHECK cid-b "$(pod_netns b)" net1 \
    "$(jq -c --argjson r "$RESULT" '. + {prevResult: $r}' <<<"$NET")"
if wait_until 20 warm_ready 1 2; then ok "node1 tops its warm ports up to 2 again"; else
    fail "node1's warm ports after the claim: $(warm_ifaces 1 | paste -sd';')"
fi

# --- ADDs at once ---------------------------------------------------------------
mapfile -t W < <(warm_lsps osn-node1)
pids=()
for p in c1 c2 c3 c4; do
    pod_add "$p" >/dev/null
    cni 1 ADD "cid-$p" "$(pod_netns "$p")" net1 "$NET" "IgnoreUnknown=1;K8S_POD_NAMESPACE=testns;K8S_POD_NAME=$p" >"$OUT/$p" 2>&1 &
    pids+=($!)
done
bad=""
for i in "${!pids[@]}"; do wait "${pids[$i]}" || bad="$bad c$((i + 1)): $(cat "$OUT/c$((i + 1))");"; done
assert_eq "" "$bad" "4 ADDs at once on node1 (2 warm ports) all succeed"
took=0
for p in c1 c2 c3 c4; do
    n=$(ports_of "cid-$p" | wc -l)
    [[ $n -eq 1 ]] || bad="$bad $p on $n ports;"
    printf '%s\n' "${W[@]}" | grep -qxF "$(ports_of "cid-$p")" && took=$((took + 1))
    [[ "$(pod_ip "$p")" == "$(jq -r '.ips[0].address | split("/")[0]' "$OUT/$p")" ]] || bad="$bad $p's address is not its result's;"
done
assert_eq "" "$bad" "each is on exactly one port, with its result's address"
check "at least one of them took a warm port ($took of 2)" test "$took" -ge 1
assert_eq "" "$(twice)" "no address is on two ports"
unreached=""
for p in c1 c2 c3 c4; do ping_ok "$p" "$(pod_ip a)" || unreached="$unreached $p"; done
assert_eq "" "$unreached" "each of them reaches a (a warm port's loser left the winner's alone)"

# --- ADDs killed at random points, then retried ----------------------------------
NS1="$(sandbox_prefix)-node1"
run_bg() {
    (exec ip netns exec "$NS1" env OSN_CONFIG="$SANDBOX_DIR/node1/osn.json" \
        CNI_COMMAND=ADD CNI_CONTAINERID="$1" CNI_NETNS="$2" CNI_IFNAME=net1 \
        CNI_PATH=/opt/cni/bin CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=testns;K8S_POD_NAME=$1" \
        "$PLUGIN" <<<"$NET" >"$OUT/$1.killed" 2>&1) &
}
bad=0 warm_kills=0
for ((i = 1; i <= KILLS; i++)); do
    wait_until 10 warm_ready 1 2 || true
    ns=$(pod_add "k$i")
    had=$(warm_lsps osn-node1)
    run_bg "cid-k$i" "$ns"
    pid=$!
    sleep "0.00$((RANDOM % 10))"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    grep -qxF "$(ports_of "cid-k$i" | head -1)" <<<"$had" && warm_kills=$((warm_kills + 1))
    if ! RES=$(cni 1 ADD "cid-k$i" "$ns" net1 "$NET" "IgnoreUnknown=1;K8S_POD_NAMESPACE=testns;K8S_POD_NAME=k$i"); then
        fail "kill $i: the retried ADD failed: $RES"
        bad=$((bad + 1))
        continue
    fi
    why=""
    n=$(ports_of "cid-k$i" | wc -l)
    ((n == 1)) || why="$why on $n ports: $(ports_of "cid-k$i" | paste -sd' ');"
    rip=$(jq -r '.ips[0].address | split("/")[0]' <<<"$RES")
    [[ "$(pod_ip "k$i")" == "$rip" ]] || why="$why the pod has $(pod_ip "k$i"), the result $rip;"
    nif=$(in_pod "k$i" ip -o link show | grep -c 'net1@')
    ((nif == 1)) || why="$why $nif interfaces in the pod;"
    [[ -z "$(twice)" ]] || why="$why addresses on two ports: $(twice);"
    ping_ok "k$i" "$(pod_ip a)" || why="$why it does not reach a;"
    detach 1 "k$i" "$NET" >/dev/null || why="$why its DEL failed;"
    [[ -z "$(ports_of "cid-k$i")" ]] || why="$why after its DEL it is still on $(ports_of "cid-k$i");"
    pod_del "k$i" >/dev/null 2>&1
    if [[ -n "$why" ]]; then fail "kill $i:$why"; bad=$((bad + 1)); fi
done
assert_eq 0 "$bad" "$KILLS ADDs killed at random points ($warm_kills after their warm claim), retried: one port each, no address twice, reachable, DEL took it"
if wait_until 20 warm_ready 1 2; then ok "node1 has 2 warm ports again, all installed"; else
    fail "node1's warm ports after the kills: $(warm_ifaces 1 | paste -sd';')"
fi
assert_eq "$(warm_ifaces 1 | awk '{print $2}' | sort)" "$(warm_lsps osn-node1)" "node1's warm OVS ports and the NB's warm spares of node1 agree"

# --- DELs killed at random points, then the DEL or the ADD again ------------------
# leaks1: node1's veths that nothing accounts for: an osn... end that is no
# OVS interface, an osw... end without its osn... peer.
leaks1() {
    local links ifs l
    links=$(on 1 ip -o link show | awk -F': ' '{print $2}' | cut -d@ -f1)
    ifs=$(vsctl 1 --bare --columns=name find Interface 'external_ids:"osn/network"!=""' | sed '/^$/d')
    for l in $links; do
        case $l in
        osn*) grep -qxF "$l" <<<"$ifs" || echo "$l" ;;
        osw*) grep -qxF "osn${l#osw}" <<<"$links" || echo "$l" ;;
        esac
    done | paste -sd' '
}
run_bg_del() {
    (exec ip netns exec "$NS1" env OSN_CONFIG="$SANDBOX_DIR/node1/osn.json" \
        CNI_COMMAND=DEL CNI_CONTAINERID="$1" CNI_NETNS="$2" CNI_IFNAME=net1 \
        CNI_PATH=/opt/cni/bin CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=testns;K8S_POD_NAME=$1" \
        "$PLUGIN" <<<"$NET" >"$OUT/$1.killed-del" 2>&1) &
}
bad=0 dels=${OSN_KILLS:-10}
for ((i = 1; i <= dels; i++)); do
    wait_until 10 warm_ready 1 2 || true
    ns=$(pod_add "d$i")
    if ! cni 1 ADD "cid-d$i" "$ns" net1 "$NET" "IgnoreUnknown=1;K8S_POD_NAMESPACE=testns;K8S_POD_NAME=d$i" >/dev/null; then
        fail "DEL kill $i: the ADD before it failed"
        bad=$((bad + 1))
        continue
    fi
    run_bg_del "cid-d$i" "$ns"
    pid=$!
    sleep "0.0$((RANDOM % 40))"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    why=""
    if ((i % 2)); then
        # The runtime's retry of the DEL: nothing of it is left.
        detach 1 "d$i" "$NET" >/dev/null || why="$why the retried DEL failed;"
    else
        # The same container's ADD: one port, one interface, reachable.
        if RES=$(cni 1 ADD "cid-d$i" "$ns" net1 "$NET" "IgnoreUnknown=1;K8S_POD_NAMESPACE=testns;K8S_POD_NAME=d$i"); then
            n=$(ports_of "cid-d$i" | wc -l)
            ((n == 1)) || why="$why on $n ports;"
            nif=$(in_pod "d$i" ip -o link show | grep -c 'net1@')
            ((nif == 1)) || why="$why $nif interfaces in the pod;"
            ping_ok "d$i" "$(pod_ip a)" || why="$why it does not reach a;"
        else
            why="$why the ADD after it failed: $RES;"
        fi
        detach 1 "d$i" "$NET" >/dev/null || why="$why its DEL failed;"
    fi
    [[ -z "$(ports_of "cid-d$i")" ]] || why="$why after its DEL it is still on $(ports_of "cid-d$i");"
    [[ -z "$(twice)" ]] || why="$why addresses on two ports: $(twice);"
    l=$(leaks1)
    [[ -z "$l" ]] || why="$why veths left: $l;"
    pod_del "d$i" >/dev/null 2>&1
    if [[ -n "$why" ]]; then fail "DEL kill $i:$why"; bad=$((bad + 1)); fi
done
assert_eq 0 "$bad" "$dels DELs of warm-port pods killed at random points, then the DEL or the ADD again: nothing held twice, no veth left"

# --- gc: what a crash leaves ------------------------------------------------------
read -r wname wport _ < <(warm_ifaces 1 | head -1)
nbctl lsp-del "$wport"
out=$(on 1 "$OSNCTL" gc 2>&1)
assert_contains "$out" "removed warm-port $wport (veth $wname): its logical port is gone" "gc removes a warm port whose logical port is gone"
check "its veth is gone" bash -c "! $SANDBOX exec --dir $SANDBOX_DIR node1 -- ip link show $wname"
read -r wname wport _ < <(warm_ifaces 1 | head -1)
vsctl 1 del-port br-int "$wname"
on 1 ip link del "$wname"
out=$(on 1 "$OSNCTL" gc 2>&1)
assert_contains "$out" "1 warm spare(s) of this node have no OVS port here" "gc leaves a warm spare without its OVS port to --orphans"
out=$(on 1 "$OSNCTL" gc --orphans 2>&1)
assert_contains "$out" "removed warm-port $wport (its logical port): no OVS port on this node" "gc --orphans removes it"
assert_eq "" "$(warm_lsps osn-node1)" "node1 has no warm spare left in the NB"

# --- a lost node's warm spares ------------------------------------------------------
expect_ok "a pod on node2" attach 2 x "$NET"
expect_ok "another pod on node2 (node2 now has warm ports)" attach 2 y "$NET"
wait_until 20 warm_ready 2 2 || fail "node2's warm ports: $(warm_ifaces 2 | paste -sd';')"
n2=$(warm_lsps osn-node2 | wc -l)
out=$(on 1 "$OSNCTL" gc --node osn-node2 --force --json 2>&1)
assert_eq "$n2" "$(jq '[.actions[] | select(.object == "warm-port" and .result == "removed")] | length' <<<"$out")" \
    "gc of lost node osn-node2 releases its $n2 warm spares"
assert_eq "" "$(warm_lsps osn-node2)" "no warm spare of osn-node2 is left in the NB"
out=$(on 2 "$OSNCTL" gc 2>&1)
assert_contains "$out" "2 warm port(s)" "gc on node2 itself then removes its 2 warm ports, whose logical ports are gone"
for p in x y; do detach 2 "$p" "$NET" >/dev/null || fail "DEL of $p"; done

# --- the node's last DEL of the network releases its warm ports --------------------------
wait_until 20 warm_ready 1 2 || expect_ok "one more pod on node1 (warm ports again)" attach 1 z "$NET"
wait_until 20 warm_ready 1 2 || fail "node1's warm ports: $(warm_ifaces 1 | paste -sd';')"
for p in b c1 c2 c3 c4 z; do
    [[ -e "$(pod_netns "$p")" ]] || continue
    detach 1 "$p" "$NET" >/dev/null || fail "DEL of $p"
done
check "with a left, node1 keeps its warm ports" test "$(warm_ifaces 1 | wc -l)" -ge 1
detach 1 a "$NET" >/dev/null || fail "DEL of a"
assert_contains "$(grep 'cid-a: DEL' "$SANDBOX_DIR/node1/osn-cni.log" | tail -2 | head -1)" "warm ports released" "the last DEL on node1 says it released the warm ports"
nothing_left "the last DEL left nothing (no warm port, waiting end, spare or switch)"

# --- warm_ports needs a pool --------------------------------------------------------
jq '.pool_size = 0 | .warm_ports = 2' "$SANDBOX_DIR/node1/osn.json" >"$OUT/nopool.json"
pod_add v >/dev/null
res=$(ip netns exec "$NS1" env OSN_CONFIG="$OUT/nopool.json" CNI_COMMAND=ADD CNI_CONTAINERID=cid-v \
    CNI_NETNS="$(pod_netns v)" CNI_IFNAME=net1 CNI_PATH=/opt/cni/bin CNI_ARGS="K8S_POD_NAMESPACE=testns" \
    "$PLUGIN" <<<"$NET" 2>/dev/null)
assert_eq 7 "$(jq -r .code <<<"$res")" "warm_ports without a pool: error code 7 (invalid config)"
assert_contains "$(jq -r .msg <<<"$res")" "key \"warm_ports\": 2 warm ports need the pool they are taken from" "the message names the key and the fix"
nothing_left "the refused ADD made nothing"
finish
