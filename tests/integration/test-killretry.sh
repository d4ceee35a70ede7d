#!/usr/bin/env bash
# Kills at random points, then the same container's ADD: an ADD or a DEL of
# a pool network is SIGKILLed after a random delay (anywhere from before the
# plugin runs to after it answered), and the container's ADD is run again,
# as a runtime retries it.  After each retry: the container is on exactly
# one logical port, the pod has one interface with that port's address, no
# IP or MAC is on two ports, and every "osn/held/" key of the switch names
# its container's port; after its DEL, no port carries it.  A final DEL of
# everything leaves nothing.  OSN_KILLS (default 40) sets the number.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
export OSN_POOL_SIZE=4
plugin_test_up 2
KILLS=${OSN_KILLS:-40}
NET='{"cniVersion":"1.0.0","type":"ovn-kubernetes","name":"kr","subnet":"10.91.0.0/24"}'
OUT=$(mktemp -d)
NS1="$(sandbox_prefix)-node1"

# run VERB CID NETNS: the plugin on node1, in the background, exec'd so that
# $! is the plugin itself once it runs; its answer in $OUT/CID.VERB.
run_bg() {
    local verb=$1 cid=$2 netns=$3
    (exec ip netns exec "$NS1" env OSN_CONFIG="$SANDBOX_DIR/node1/osn.json" \
        CNI_COMMAND="$verb" CNI_CONTAINERID="$cid" CNI_NETNS="$netns" CNI_IFNAME=net1 \
        CNI_PATH=/opt/cni/bin CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=testns;K8S_POD_NAME=$cid" \
        "$PLUGIN" <<<"$NET" >"$OUT/$cid.$verb" 2>&1) &
}

# ports_of CID: the network's logical ports that carry CID, one JSON object
# each ({name, addresses}).
ports_of() {
    nbctl --format=json --columns=name,addresses find Logical_Switch_Port \
        "external_ids:\"osn/container-id\"=\"$1\"" | jq -c '.data[] | {name: .[0], addresses: .[1]}'
}

# report: "ok", or what is wrong with the network as a whole: an IP or MAC
# on two ports, a held key that does not name its container's port.
report() {
    local ports sw
    ports=$(nbctl --format=json --columns=name,addresses,external_ids find Logical_Switch_Port \
        'external_ids:"osn/network"="testns/kr"') || { echo "cannot read the ports"; return; }
    sw=$(nbctl --format=json --columns=external_ids find Logical_Switch 'name="osn.testns/kr"') ||
        { echo "cannot read the switch"; return; }
    jq -rn --argjson p "$ports" --argjson s "$sw" '
        def m: if .[0] == "map" then ((.[1] | map({(.[0]): .[1]}) | add) // {}) else . end;
        ($p.data | map({name: .[0], addr: (.[1] | if type == "string" then . else (.[1][0] // "") end),
                        ids: (.[2] | m)})) as $ports
        | (($s.data[0][0] // ["map", []]) | m) as $sw
        | [ ($ports | map(.addr | split(" ")[] | select(. != "" and . != "unknown"))
                    | group_by(.) | map(select(length > 1))[] | "\(.[0]) is on \(length) ports"),
            ($sw | to_entries[] | select(.key | startswith("osn/held/"))
                 | (.key | ltrimstr("osn/held/")) as $ci | (.value | split(" ")[0]) as $pn
                 | select([$ports[] | select(.name == $pn
                                             and "\(.ids["osn/container-id"])/\(.ids["osn/ifname"])" == $ci)]
                          | length != 1)
                 | "held key \(.key) names \($pn), not that attachment'"'"'s port")
          ] | if length == 0 then "ok" else join("; ") end'
}

# The switch lives throughout: a bystander on node2.
expect_ok "a bystander pod on node2" attach 2 by "$NET"
# How long an ADD and a DEL take here: the kills are spread over that.
pod_add probe >/dev/null
t0=$(date +%s%N)
cni 1 ADD cid-probe "$(pod_netns probe)" net1 "$NET" >/dev/null || fail "the probe ADD failed"
ADD_MS=$((($(date +%s%N) - t0) / 1000000))
t0=$(date +%s%N)
cni 1 DEL cid-probe "$(pod_netns probe)" net1 "$NET" >/dev/null || fail "the probe DEL failed"
DEL_MS=$((($(date +%s%N) - t0) / 1000000))
echo "# an ADD takes $ADD_MS ms, a DEL $DEL_MS ms; $KILLS kills"

bad=0 adds=0 dels=0 retries_ok=0 t_start=$SECONDS
for ((i = 1; i <= KILLS; i++)); do
    cid=cid-r$i
    ns=$(pod_add "r$i")
    verb=ADD
    if ((RANDOM % 2)); then
        verb=DEL
        cni 1 ADD "$cid" "$ns" net1 "$NET" >"$OUT/$cid.first" || {
            fail "kill $i: the ADD before the DEL failed: $(cat "$OUT/$cid.first")"
            bad=$((bad + 1))
            continue
        }
    fi
    span=$([[ $verb == ADD ]] && echo "$ADD_MS" || echo "$DEL_MS")
    delay=$((RANDOM % (span + 10)))
    run_bg "$verb" "$cid" "$ns"
    pid=$!
    sleep "$(printf '0.%03d' "$delay")"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    [[ $verb == ADD ]] && adds=$((adds + 1)) || dels=$((dels + 1))
    # The retry: the same container's ADD.
    if ! RES=$(cni 1 ADD "$cid" "$ns" net1 "$NET"); then
        fail "kill $i ($verb after $delay ms): the retried ADD failed: $RES"
        bad=$((bad + 1))
        continue
    fi
    mapfile -t mine < <(ports_of "$cid")
    why=""
    ((${#mine[@]} == 1)) || why="$why on ${#mine[@]} ports: ${mine[*]};"
    ip=$(jq -r '.ips[0].address | split("/")[0]' <<<"$RES")
    [[ ${#mine[@]} -ne 1 || " $(jq -r '.addresses' <<<"${mine[0]}") " == *" $ip "* ]] ||
        why="$why its result's address $ip is not its port's (${mine[0]});"
    [[ "$(pod_ip "r$i")" == "$ip" ]] || why="$why the pod has $(pod_ip "r$i"), the result $ip;"
    n_if=$(in_pod "r$i" ip -o link show | grep -c 'net1@')
    ((n_if == 1)) || why="$why $n_if interfaces in the pod;"
    r=$(report)
    [[ $r == ok ]] || why="$why $r;"
    cni 1 DEL "$cid" "$ns" net1 "$NET" >/dev/null || why="$why its DEL failed;"
    left=$(ports_of "$cid")
    [[ -z "$left" ]] || why="$why after its DEL it is still on $left;"
    if [[ -n "$why" ]]; then
        fail "kill $i ($verb after $delay ms):$why"
        bad=$((bad + 1))
    else
        retries_ok=$((retries_ok + 1))
    fi
    pod_del "r$i" >/dev/null 2>&1
done
assert_eq 0 "$bad" "$KILLS kills ($adds ADDs, $dels DELs) in $((SECONDS - t_start)) s: each retried ADD converged to one port, no address twice, each DEL took it"
assert_eq "$KILLS" "$retries_ok" "every retry was checked"
assert_eq ok "$(report)" "the network: no address twice, every held key names its port"
cni 2 DEL cid-by "$(pod_netns by)" net1 "$NET" >/dev/null || fail "the bystander's DEL failed"
nothing_left "the last DEL left nothing"
finish
