#!/usr/bin/env bash
# Upstream ovn-kubernetes NADs unchanged (issue 12): every config in
# tests/upstream/ attaches a pod on node1 and one on node2, and the two
# reach each other (IPv4 and, where the network has it, IPv6); the
# addresses keep out of what the config sets aside; DEL leaves nothing.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
plugin_test_up 2

UP=$ROOT/tests/upstream
# ip_in ADDR CIDR: whether IPv4 ADDR lies in CIDR.
ip_in() {
    local a=$1 net=${2%/*} len=${2#*/} i1 i2
    IFS=. read -r a1 a2 a3 a4 <<<"$a"
    IFS=. read -r n1 n2 n3 n4 <<<"$net"
    i1=$(((a1 << 24) | (a2 << 16) | (a3 << 8) | a4))
    i2=$(((n1 << 24) | (n2 << 16) | (n3 << 8) | n4))
    (((i1 >> (32 - len)) == (i2 >> (32 - len))))
}

n=0
for f in "$UP"/*.json; do
    base=$(basename "$f" .json)
    conf=$(cat "$f")
    net=$(jq -r .name <<<"$conf")
    subnets=$(jq -r '.subnets // ""' <<<"$conf")
    a=u$n-a b=u$n-b
    n=$((n + 1))
    if ! attach 1 "$a" "$conf"; then
        fail "$base: ADD on node1: $RESULT"
        continue
    fi
    RA=$RESULT
    if ! attach 2 "$b" "$conf"; then
        fail "$base: ADD on node2: $RESULT"
        detach 1 "$a" "$conf" >/dev/null
        continue
    fi
    ok "$base: ADD on node1 and node2 (network $net)"
    jq_eq "$RA" '.cniVersion' "$(jq -r .cniVersion <<<"$conf")" "$base: result in the config's cniVersion"
    mtu=$(jq -r '.mtu // 0' <<<"$conf")
    topo=$(jq -r .topology <<<"$conf")
    [[ $mtu == 0 ]] && { [[ $topo == localnet ]] && mtu=1500 || mtu=1442; }
    assert_eq "$mtu" "$(in_pod "$a" cat /sys/class/net/net1/mtu)" "$base: pod MTU $mtu"
    v4a=$(pod_ip "$a") v4b=$(pod_ip "$b")
    v6b=$(pod_ip "$b" net1 6)
    if [[ $subnets == *.* ]]; then
        if [[ -n $v4a && -n $v4b ]]; then
            check "$base: IPv4 node1 -> node2 ($v4a -> $v4b)" ping_ok "$a" "$v4b"
            check "$base: IPv4 node2 -> node1" ping_ok "$b" "$v4a"
        else
            fail "$base: pods have IPv4 addresses ('$v4a', '$v4b')"
        fi
    fi
    if [[ $subnets == *:* ]]; then
        if [[ -n $v6b ]]; then
            check "$base: IPv6 node1 -> node2 ($v6b)" ping6_ok "$a" "$v6b"
        else
            fail "$base: pod b has an IPv6 address"
        fi
    fi
    # What the config sets aside (IPv4 ranges) never holds a pod's dynamic
    # address.
    for key in excludeSubnets reservedSubnets infrastructureSubnets defaultGatewayIPs; do
        ranges=$(jq -r --arg k "$key" '.[$k] // ""' <<<"$conf" | tr ',' '\n' | tr -d ' ' | grep -v ':' | sed '/^$/d')
        for r in $ranges; do
            [[ $r == */* ]] || r=$r/32
            if ip_in "$v4a" "$r" || ip_in "$v4b" "$r"; then
                fail "$base: a pod address ($v4a, $v4b) lies in $key $r"
            else
                ok "$base: no pod address in $key $r"
            fi
        done
    done
    detach 1 "$a" "$conf" >/dev/null || fail "$base: DEL on node1"
    detach 2 "$b" "$conf" >/dev/null || fail "$base: DEL on node2"
done
[[ $n -ge 11 ]] && ok "$n upstream-shaped configs tried" || fail "only $n configs in $UP"

# Tagged and untagged localnet networks on one physical network stay apart:
# a VLAN 208 pod does not reach an untagged pod given the same kind of
# address.
LN=$(cat "$UP/localnet-untagged.json")
LV=$(cat "$UP/localnet-vlan.json")
attach 1 lv1 "$LV" && attach 2 lv2 "$LV" && attach 2 ln1 "$LN" ||
    fail "localnet pair: $RESULT"
in_pod ln1 ip addr add 192.168.208.99/24 dev net1
check "VLAN 208 pods reach each other" ping_ok lv1 "$(pod_ip lv2)"
check_fails "VLAN 208 does not reach an untagged pod with a 192.168.208.0/24 address" ping_ok lv1 192.168.208.99
detach 1 lv1 "$LV" >/dev/null; detach 2 lv2 "$LV" >/dev/null; detach 2 ln1 "$LN" >/dev/null

nothing_left "after every DEL: no veth, OVS port, logical port or switch"
finish
