#!/usr/bin/env bash
# The address plane (issue 8): osn chooses addresses and claims them in the
# port's insert transaction.  No address is ever held twice under racing
# dynamic and static ADDs; the gateway, excluded and reserved addresses; a
# full subnet fails at once; IPv6 of any prefix length; a reused address
# reaches its peers at once (gratuitous ARP / unsolicited NA); a network
# made by an older osn (northd's IPAM) keeps its addresses.
# This suite names logical ports for their container (osn.<net>.<cid>.<if>),
# as an ADD without a pool does; the pool path has its own suite (test-pools).
export OSN_POOL_SIZE=${OSN_POOL_SIZE:-0}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
plugin_test_up 3
OUT=$(mktemp -d)

ids_of() { # LSP name -> its external_ids, one per line
    nbctl --bare --columns=external_ids find Logical_Switch_Port "name=$1" | tr ' ' '\n'
}

# --- 16 concurrent ADDs, dynamic and static, on a /27, over 3 nodes --------
NET='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"race27","topology":"layer2","subnets":"10.70.0.0/27"}'
dups=0 fails=0 lost=0
for round in ${ROUNDS:-1 2 3}; do
    for i in $(seq 1 16); do pod_add "q$i" >/dev/null; done
    for i in $(seq 1 16); do
        node=$(( (i - 1) % 3 + 1 ))
        args=""
        # A third ask for a static address the dynamic ones may also pick:
        # .2 .. .6, each by one pod (.1 is OVN's DHCP server's).
        (( i % 3 == 0 )) && args=";IP=10.70.0.$(( i / 3 + 1 ))"
        ( attach "$node" "q$i" "$NET" net1 "$args"; rc=$?
          printf '%s\n' "$RESULT" >"$OUT/q$i.json"; echo "$rc" >"$OUT/q$i.rc" ) &
    done
    wait
    got=()
    for i in $(seq 1 16); do
        res=$(cat "$OUT/q$i.json")
        if [[ $(cat "$OUT/q$i.rc") == 0 ]]; then
            got+=("$(jq -r '.ips[0].address' <<<"$res")")
            if (( i % 3 == 0 )); then
                [[ ${got[-1]} == "10.70.0.$(( i / 3 + 1 ))/27" ]] || { echo "# q$i static: ${got[-1]}"; fails=$((fails + 1)); }
            fi
        elif (( i % 3 == 0 )) && [[ $(jq -r .code <<<"$res") == 102 ]]; then
            # A static request may lose its address to a dynamic ADD that
            # claimed it first: refused, naming the pod that holds it.
            holder=$(jq -r '.msg' <<<"$res" | sed -n 's/.*already taken by pod testns\/\(q[0-9]*\) .*/\1/p')
            if [[ -z "$holder" || $(jq -r '.ips[0].address' "$OUT/$holder.json") != "10.70.0.$(( i / 3 + 1 ))/27" ]]; then
                echo "# q$i: refused, but not by the holder ($holder: $(jq -c .ips "$OUT/$holder.json" 2>&1)): $res"; fails=$((fails + 1))
            else
                lost=$((lost + 1))
            fi
        else
            echo "# round $round q$i: $res"
            fails=$((fails + 1))
        fi
    done
    n_uniq=$(printf '%s\n' "${got[@]}" | sort -u | wc -l)
    (( n_uniq == ${#got[@]} )) || dups=$((dups + 1))
    # NB: every claim held once, and every port's addresses are its claims.
    nb_addrs=$(nbctl --bare --columns=addresses find Logical_Switch_Port 'external_ids:"osn/network"="testns/race27"' 'type!=localport' |
        sed '/^$/d' | awk '{print $2}' | sort)
    [[ $(sort -u <<<"$nb_addrs" | wc -l) == "$(wc -l <<<"$nb_addrs")" ]] || dups=$((dups + 1))
    [[ $(wc -l <<<"$nb_addrs") == "${#got[@]}" ]] || { echo "# round $round: $(wc -l <<<"$nb_addrs") NB ports for ${#got[@]} pods"; fails=$((fails + 1)); }
    for i in $(seq 1 16); do
        node=$(( (i - 1) % 3 + 1 ))
        detach "$node" "q$i" "$NET" >/dev/null || fails=$((fails + 1))
        pod_del "q$i" >/dev/null
    done
done
assert_eq "0" "$fails" "3 rounds of 16 concurrent ADDs (dynamic + static) on a /27 over 3 nodes: every dynamic one succeeds, every static one gets its address or is refused naming the pod that won it ($lost lost a race)"
assert_eq "0" "$dups" "never an address held twice (CNI results and NB)"
nothing_left "the /27 network is gone with its last DEL"

# --- static requests the network refuses -------------------------------------
EXT='{"cniVersion":"0.3.1","type":"ovn-kubernetes","name":"ext-gw","subnet":"10.10.20.0/24","has_external_connectivity":true}'
expect_ok "an external network's first pod" attach 1 g0 "$EXT"
attach 2 g1 "$EXT" net1 ";IP=10.10.20.1"; rc=$?
assert_eq "1" "$rc" "a static request for the physical gateway 10.10.20.1 is refused"
jq_eq "$RESULT" '.code' "7" "with code 7 (invalid config)"
jq_eq "$RESULT" '.msg | test("10.10.20.1 is the physical gateway") and test("ext-gw")' true \
    "naming the address, why, and the network"
RC='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"excl","topology":"layer2","subnets":"10.71.0.0/24,fd71::/64","excludeSubnets":"10.71.0.0/28,fd71::10/128","runtimeConfig":{"ips":["10.71.0.9/24"]}}'
attach 1 x1 "$RC"; rc=$?
assert_eq "1" "$rc" "a static request inside an IPv4 excludeSubnets is refused"
jq_eq "$RESULT" '(.code == 7) and (.msg | test("10.71.0.9") and test("excludeSubnets") and test("10.71.0.0/28"))' true \
    "code 7, naming the address and the exclusion"
attach 1 x2 "${RC/10.71.0.9\/24/fd71::10/64}"; rc=$?
assert_eq "1" "$rc" "a static request for an excluded IPv6 address is refused"
jq_eq "$RESULT" '(.code == 7) and (.msg | test("fd71::10") and test("excludeSubnets"))' true \
    "code 7, naming the IPv6 address and the exclusion"
attach 1 x3 "${RC/,\"runtimeConfig\":\{\"ips\":\[\"10.71.0.9\/24\"\]\}/}" net1 ";IP=10.72.0.9"; rc=$?
jq_eq "$RESULT" '(.code == 7) and (.msg | test("outside the subnets") and test("10.71.0.0/24"))' true \
    "an address outside every subnet: code 7 naming the subnets"
# A static request for an address a pod holds: the pod is named.
HELD=$(pod_ip g0)
attach 3 g2 "$EXT" net1 ";IP=$HELD"; rc=$?
jq_eq "$RESULT" '(.code == 102) and (.msg | test("already taken by pod testns/g0"))' true \
    "a held address: code 102 naming the pod that holds it"
detach 1 g0 "$EXT" >/dev/null
for p in g1 g2 x1 x2 x3; do detach 1 "$p" "$EXT" >/dev/null; done
nothing_left "refused requests leave nothing behind"

# --- a full /29 fails at once; one DEL frees it ------------------------------
FULL='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"small","topology":"layer2","subnets":"10.60.0.0/29"}'
filled=0
for i in 1 2 3 4 5; do attach $(( i % 3 + 1 )) "f$i" "$FULL" && filled=$((filled + 1)); done
assert_eq "5" "$filled" "a /29 takes 5 pods (8 - network - broadcast - OVN's DHCP server at .1)"
t0=$(date +%s%N)
attach 1 f7 "$FULL"; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
assert_eq "1" "$rc" "the 6th ADD is refused"
(( ms < 1000 )) && ok "at once (${ms} ms, not after ready_timeout_ms)" || fail "the full subnet took ${ms} ms"
jq_eq "$RESULT" '.msg' 'subnet 10.60.0.0/29 of network "testns/small" is full: 5 of 5 addresses in use; delete a pod on it or widen the subnet' \
    "the message names the subnet and its use"
jq_eq "$RESULT" '.msg | test("northd")' false "and does not blame northd"
assert_eq "5" "$(osn_lsps | grep -c '^osn\.testns/small\.')" "the refused ADD left no port behind"
FREED=$(pod_ip f3)
detach 1 f3 "$FULL" >/dev/null
expect_ok "after one DEL the next ADD succeeds" attach 1 f7 "$FULL"
assert_eq "$FREED" "$(pod_ip f7)" "with the one free address"
for i in 1 2 4 5; do detach $(( i % 3 + 1 )) "f$i" "$FULL" >/dev/null; done
detach 1 f7 "$FULL" >/dev/null

# A subnet with nothing to hand out at all (all excluded): said so, at once.
AX='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"allx","topology":"layer2","subnets":"10.61.0.0/29","excludeSubnets":"10.61.0.0/29"}'
attach 1 z1 "$AX"
jq_eq "$RESULT" '(.code == 11) and (.msg | test("subnet 10.61.0.0/29 of network \"testns/allx\" is full: 0 of 0"))' true \
    "a subnet whose every address is excluded: code 11, naming it"
pod_del z1 >/dev/null

# --- IPv6-only and dual-stack, /60 and /120 ----------------------------------
for sn in "fd60::/60" "fd61::/120" "10.62.0.0/24,fd62::/60" "10.63.0.0/24,fd63::/120"; do
    name="v6-$(tr -c 'a-z0-9' '-' <<<"$sn" | sed 's/-*$//')"
    name=${name:0:40}
    C="{\"cniVersion\":\"1.0.0\",\"type\":\"ovn-k8s-cni-overlay\",\"name\":\"$name\",\"topology\":\"layer2\",\"subnets\":\"$sn\"}"
    attach 1 s6a "$C" && attach 2 s6b "$C"; rc=$?
    assert_eq "0" "$rc" "$sn: two pods on two nodes ($RESULT)"
    A6=$(pod_ip s6a net1 6); B6=$(pod_ip s6b net1 6)
    [[ -n "$A6" && -n "$B6" && "$A6" != "$B6" ]] && ok "$sn: distinct IPv6 addresses ($A6, $B6)" || fail "$sn: $A6 $B6"
    check "$sn: IPv6 across nodes" ping6_ok s6a "$B6"
    if [[ $sn == *,* ]]; then
        check "$sn: IPv4 across nodes" ping_ok s6a "$(pod_ip s6b)"
        assert_contains "$(in_pod s6a cat /sys/class/net/net1/address)" "0a:58:0a:" "$sn: the MAC is derived from the IPv4 address"
    else
        assert_contains "$(in_pod s6a cat /sys/class/net/net1/address)" "0a:58:" "$sn: the MAC is derived from the IPv6 address"
    fi
    detach 1 s6a "$C" >/dev/null; detach 2 s6b "$C" >/dev/null
    pod_del s6a >/dev/null; pod_del s6b >/dev/null
done
nothing_left "the IPv6 networks are gone"

# --- a reused address reaches its peers at once -------------------------------
RU='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"reuse","topology":"layer2","subnets":"10.64.0.0/24,fd64::/64"}'
expect_ok "peer on node1" attach 1 peer "$RU"
expect_ok "pod A holds 10.64.0.50 with MAC 02:00:00:00:64:01 (node2)" attach 2 ra "$RU" net1 ";IP=10.64.0.50,fd64::50;MAC=02:00:00:00:64:01"
check "the peer talks to A (its neighbour entries now hold A's MAC)" ping_ok peer 10.64.0.50
check "... over IPv6 too" ping6_ok peer fd64::50
detach 2 ra "$RU" >/dev/null
pod_del ra >/dev/null
expect_ok "pod B takes 10.64.0.50 with another MAC (node3)" attach 3 rb "$RU" net1 ";IP=10.64.0.50,fd64::50;MAC=02:00:00:00:64:02"
# Pings every 100 ms, any reply counts.  Idle, the first one is answered
# (the first announcement arrives before it).  On a loaded 2-core machine
# ovn-northd may not have compiled B's port security yet when its ADD
# returns (ovn-installed does not wait for that), and OVN drops what B sends
# (announcements and replies alike) until it has; the repeats (up to 2 s
# later) then do it: 3 s leaves room for that load.
# (ping -c N -w D fails unless all N come back: count the replies instead.)
# (Not "ping | grep -q": with pipefail, ping's SIGPIPE would fail it.)
replied() {
    local out
    out=$(in_pod peer ping "$@" 2>/dev/null)
    grep -q ' bytes from ' <<<"$out"
}
check "the peer reaches B within 3 s, without a neighbour flush" \
    replied -c 30 -i 0.1 -w 3 10.64.0.50
check "... over IPv6 too" replied -6 -c 30 -i 0.1 -w 3 fd64::50
assert_contains "$(in_pod peer ip neigh show 10.64.0.50)" "02:00:00:00:64:02" "the peer's neighbour entry holds B's MAC"
detach 1 peer "$RU" >/dev/null; detach 3 rb "$RU" >/dev/null

# --- a network made by an older osn (northd's IPAM) keeps its addresses --------
OLD='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"legacy","topology":"layer2","subnets":"10.65.0.0/29"}'
expect_ok "a network's first pod" attach 1 l1 "$OLD"
L1=$(pod_ip l1)
# Turn it into what osn before the allocator made: northd's IPAM on the
# switch, no claims on the port, and two more ports as the old plugin left
# them (addresses assigned by northd, then pinned).
nbctl remove Logical_Switch osn.testns/legacy external_ids osn/ipam -- \
    set Logical_Switch osn.testns/legacy other_config:subnet=10.65.0.0/29
for k in $(ids_of osn.testns/legacy.cid-l1.net1 | grep -o '^osn/\(ip\|mac\)/[^=]*'); do
    nbctl remove Logical_Switch_Port osn.testns/legacy.cid-l1.net1 external_ids "\"$k\""
done
for p in o1 o2; do
    nbctl lsp-add osn.testns/legacy "osn.testns/legacy.old-$p.net1" -- \
        lsp-set-addresses "osn.testns/legacy.old-$p.net1" "0a:58:00:00:65:0${p#o} dynamic" -- \
        set Logical_Switch_Port "osn.testns/legacy.old-$p.net1" external_ids:osn/network='"testns/legacy"' \
        external_ids:osn/container-id="old-$p" external_ids:osn/ifname=net1
done
check "northd assigned the old ports' addresses" wait_until 10 \
    bash -c "[[ \$($SANDBOX nbctl --dir $SANDBOX_DIR --bare --columns=dynamic_addresses find Logical_Switch_Port name=osn.testns/legacy.old-o2.net1) == *' '10.65.* ]]"
OLDADDRS="$L1"
for p in o1 o2; do
    d=$(nbctl --bare --columns=dynamic_addresses find Logical_Switch_Port "name=osn.testns/legacy.old-$p.net1")
    nbctl lsp-set-addresses "osn.testns/legacy.old-$p.net1" "$d" -- lsp-set-port-security "osn.testns/legacy.old-$p.net1" "$d"
    OLDADDRS="$OLDADDRS ${d#* }"
done
# New ADDs until the /29 is full: never an address the old ports hold.
got="" last=1
for i in 2 3 4 5 6 7; do
    if attach $(( i % 3 + 1 )) "l$i" "$OLD"; then
        got="$got $(pod_ip "l$i")"; last=$i
    else
        break
    fi
done
clash=""
for a in $got; do [[ " $OLDADDRS " == *" $a "* ]] && clash="$clash $a"; done
assert_eq "" "$clash" "new ADDs on the old network never take an address its ports hold ($OLDADDRS; new:$got)"
jq_eq "$RESULT" '.msg | test("is full")' true "the old ports count: the /29 fills up (after$got)"
assert_eq "claims" "$(nbctl get Logical_Switch osn.testns/legacy external_ids:osn/ipam | tr -d '"')" "the switch was migrated to osn's claims"
assert_eq "" "$(nbctl get Logical_Switch osn.testns/legacy other_config | tr -d '{}')" "and no longer asks northd for addresses"
assert_contains "$(ids_of osn.testns/legacy.old-o1.net1)" "osn/ip/" "the old ports got their claims"
check "the first (old) pod still reaches a new one" ping_ok l1 "$(pod_ip l3)"
for p in o1 o2; do nbctl lsp-del "osn.testns/legacy.old-$p.net1"; done
detach 1 l1 "$OLD" >/dev/null
for i in $(seq 2 "$last"); do detach $(( i % 3 + 1 )) "l$i" "$OLD" >/dev/null; done
nothing_left "everything removed"
rm -rf "$OUT"
finish
