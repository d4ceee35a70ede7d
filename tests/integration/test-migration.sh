#!/usr/bin/env bash
# Live migration through the plugin (issue 9): an ADD of a persistent
# identity that is bound and live on another node is a migration target.
#
#   pod a (node1) holds identity I ("ipam-claim-reference" testns/vm1.net1 in
#   args.cni, allowPersistentIPs); pod c (node3) pings a's address every 10 ms;
#   pod b (node2) is ADDed with I while a is live: same MAC and address, the
#   port on both chassis (requested-chassis=osn-node1,osn-node2,
#   activation-strategy=rarp), b blocked until it sends RARP; a's link goes
#   down, b sends RARP (tests/vm/rarp.py), the pings resume on b; a's DEL
#   leaves the port on node2 alone.  Then the failed migration (the target's
#   DEL first leaves the port on the source) and a second ADD of I on the
#   same node (refused).
#
#   MIG_TEST_ONLY=migrate|failed|samenode|qemu|localnet
#                                   parts, comma-separated (each sets up
#                                   what it needs)
#
# "localnet" is the migration on a physical network (upstream localnet,
# untagged and VLAN 10): a host on the physical segment (the sandbox's
# external host; on the VLAN, which no Linux host here can terminate, a pod
# on node3 whose traffic crosses the segment) pings the VM every 10 ms
# across the switch-over and the source's DEL, and a failed migration
# back; the segment's learning bridge must follow the VM at once.
#
# "qemu" is the same with a real VM: KubeVirt's bridge binding in both
# launcher pods, QEMU migrating over a unix socket, and QEMU's own RARP
# frames activating the target (skipped, 77, without qemu when it is the
# only part asked for).
#
# The OVN mechanism itself, by hand, is tests/vm/ovn-by-hand.sh
# (BYHAND_ONLY=migration).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
. "$(dirname "$0")/../vm/migration.sh"
. "$(dirname "$0")/../vm/vm.sh"
command -v python3 >/dev/null || skip "missing python3 (the RARP sender)"
command -v ethtool >/dev/null || skip "missing ethtool"
plugin_test_up 3

ONLY=${MIG_TEST_ONLY:-}
want() { [[ -z "$ONLY" || ",$ONLY," == *",$1,"* ]]; }
MIG=$SANDBOX_DIR/mig
mkdir -p "$MIG"

CLAIM=testns/vm1.net1
NET='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"vmnet","topology":"layer2",
      "subnets":"10.60.0.0/24","allowPersistentIPs":true,"netAttachDefName":"testns/vmnet",
      "args":{"cni":{"ipam-claim-reference":"testns/vm1.net1"}}}'
PLAIN='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"vmnet","topology":"layer2",
      "subnets":"10.60.0.0/24","allowPersistentIPs":true,"netAttachDefName":"testns/vmnet"}'

# The identity's logical port, found by its address (its name is the
# plugin's choice).
ports_with() {
    nbctl -f csv --no-headings --columns=name,addresses list Logical_Switch_Port 2>/dev/null |
        grep -E "[ ]$1([ \"]|\$)" | cut -d, -f1 | tr -d '"'
}
port_with() { ports_with "$1" | head -n1; }
lsp_opt() { nbctl --if-exists get Logical_Switch_Port "$1" "options:$2" 2>/dev/null | tr -d '"'; }
chk() {
    local pod=$1 node=$2 prev=$3 conf
    conf=$(jq -c --argjson p "$prev" '. + {prevResult: $p}' <<<"$NET")
    cni "$node" CHECK "cid-$pod" "$(pod_netns "$pod")" net1 "$conf" \
        "IgnoreUnknown=1;K8S_POD_NAMESPACE=testns;K8S_POD_NAME=$pod"
}

# source_up POD NODE: the identity's first attachment; sets IP, MAC, PORT.
source_up() {
    # Each part's source may hold the address with another MAC than the last
    # part's (until persistence lands): let c resolve it anew.
    in_pod c ip neigh flush dev net1 2>/dev/null
    if ! attach "$2" "$1" "$NET"; then
        fail "ADD $1 (node$2) with identity $CLAIM: $RESULT"
        return 1
    fi
    ok "ADD $1 (node$2) with identity $CLAIM"
    RSRC=$RESULT
    IP=$(jq -r '.ips[0].address' <<<"$RESULT" | cut -d/ -f1)
    MAC=$(jq -r '.interfaces[0].mac' <<<"$RESULT")
    PORT=$(port_with "$IP")
    [[ -n "$PORT" ]] && ok "the identity's port $PORT holds $IP" || fail "no logical port with $IP"
}

# target_add POD NODE SRCNODE: the migration target's ADD, and what must
# hold during the overlap.
target_add() {
    local pod=$1 node=$2 src=$3
    if ! attach "$node" "$pod" "$NET"; then
        fail "migration target: ADD $pod (node$node) of a live identity: $RESULT"
        return 1
    fi
    ok "migration target: ADD $pod (node$node) of a live identity succeeds"
    RTGT=$RESULT
    jq_eq "$RESULT" '.interfaces[0].mac' "$MAC" "target: same MAC as the source"
    jq_eq "$RESULT" '.ips[0].address | split("/")[0]' "$IP" "target: same address as the source"
    assert_eq "$PORT" "$(ports_with "$IP" | tr '\n' ' ' | sed 's/ $//')" "target: the same logical port (no second port with $IP)"
    assert_eq "osn-node$src,osn-node$node" "$(lsp_opt "$PORT" requested-chassis)" "target: NB requested-chassis=src,dst"
    assert_eq "rarp" "$(lsp_opt "$PORT" activation-strategy)" "target: NB activation-strategy=rarp"
    wait_until 10 bash -c "[[ \$('$SANDBOX' sbctl --dir '$SANDBOX_DIR' --bare --columns=additional_chassis find Port_Binding 'logical_port=\"$PORT\"') != '' ]]"
    assert_eq "osn-node$src|osn-node$node|" "$(sb_binding "$PORT")" "target: SB chassis=src, additional_chassis=dst, not yet activated"
    check "target: CHECK passes on the source during the overlap" chk "$SRCPOD" "$src" "$RSRC"
    check "target: CHECK passes on the target during the overlap" chk "$pod" "$node" "$RTGT"
    check "target: the source still answers during the overlap" ping_ok c "$IP"
}

expect_ok "ADD pinger c (node3), no identity" attach 3 c "$PLAIN"

# ------------------------------------------------------------------ migrate
if want migrate; then
    SRCPOD=a
    if source_up a 1 && target_add b 2 1; then
        mig_switch c "$IP" a b first 5
        GAP=$MIG_GAP EARLY=$MIG_EARLY
        assert_eq "0" "$EARLY" "migrate: no reply from the target before its RARP"
        [[ "$GAP" != none ]] && ok "migrate: pings resume on b after its RARP (${GAP} ms)" ||
            fail "migrate: no reply after b's RARP"
        echo "RESULT: plugin_migration_gap_ms=$GAP"
        assert_eq "osn-node1|osn-node2|osn-node2" "$(sb_binding "$PORT")" "migrate: SB additional-chassis-activated=osn-node2"
        expect_ok "migrate: the source's DEL" detach 1 a "$NET"
        nbctl --wait=hv sync >/dev/null
        assert_eq "osn-node2||" "$(sb_binding "$PORT")" "migrate: after a's DEL the port is bound to node2 only"
        assert_eq "osn-node2" "$(lsp_opt "$PORT" requested-chassis)" "migrate: NB requested-chassis=osn-node2"
        assert_eq "" "$(lsp_opt "$PORT" activation-strategy)" "migrate: NB activation-strategy gone"
        check "migrate: b still reachable after a's DEL" ping_ok c "$IP"
        assert_eq "" "$(vsctl 1 --bare --columns=name find Interface "external_ids:iface-id=\"$PORT\"")" "migrate: no OVS port left on node1"
        detach 2 b "$NET" >/dev/null
    fi
fi

# ------------------------------------------------------------------ failed
if want failed; then
    SRCPOD=f1
    if source_up f1 2 && target_add f2 1 2; then
        expect_ok "failed: the target's DEL first" detach 1 f2 "$NET"
        nbctl --wait=hv sync >/dev/null
        assert_eq "osn-node2||" "$(sb_binding "$PORT")" "failed: the port stays on the source alone"
        assert_eq "osn-node2" "$(lsp_opt "$PORT" requested-chassis)" "failed: NB requested-chassis=osn-node2"
        assert_eq "" "$(lsp_opt "$PORT" activation-strategy)" "failed: NB activation-strategy gone"
        check "failed: the source still answers" ping_ok c "$IP"
        check "failed: CHECK passes on the source" chk f1 2 "$RSRC"
        detach 2 f1 "$NET" >/dev/null
    fi
fi

# ------------------------------------------------------------------ samenode
if want samenode; then
    SRCPOD=s1
    if source_up s1 1; then
        pod_add s2 >/dev/null
        OUT=$(cni 1 ADD cid-s2 "$(pod_netns s2)" net1 "$NET" "IgnoreUnknown=1;K8S_POD_NAMESPACE=testns;K8S_POD_NAME=s2")
        rc=$?
        [[ $rc -ne 0 ]] && ok "samenode: a second ADD of the identity on the same node is refused" ||
            fail "samenode: a second ADD of $CLAIM on node1 succeeded: $OUT"
        jq_eq "$OUT" ".msg | test(\"$CLAIM\")" "true" "samenode: the error names the identity"
        assert_eq "" "$(in_pod s2 ip -o link show net1 2>/dev/null)" "samenode: the refused ADD leaves no interface"
        assert_eq "osn-node1||" "$(sb_binding "$PORT")" "samenode: the port stays on node1 alone"
        check "samenode: s1 still answers" ping_ok c "$IP"
        detach 1 s1 "$NET" >/dev/null
    fi
fi

# ------------------------------------------------------------------ qemu
if want qemu; then
    if WHY=$(vm_require); then
        # A network of its own, DHCP on (the default), so the VM leases.
        QNET=$(jq -c '.name = "vmq" | .subnets = "10.61.0.0/24" | .args.cni["ipam-claim-reference"] = "testns/vmq.net1"' <<<"$NET")
        QPLAIN=$(jq -c 'del(.args)' <<<"$QNET")
        expect_ok "qemu: ADD pinger q3 (node3)" attach 3 q3 "$QPLAIN"
        if attach 1 q1 "$QNET"; then
            ok "qemu: ADD launcher pod q1 (node1) with identity testns/vmq.net1"
            QIP=$(jq -r '.ips[0].address' <<<"$RESULT" | cut -d/ -f1)
            QPORT=$(port_with "$QIP")
            mig_qemu_source q1 || fail "qemu: the source VM did not lease: $(tr -d '\r' <"$MIG/vm-src.con" | grep OSN-VM | tr '\n' '|')"
            assert_eq "$QIP/24" "${MQ_LEASE:-}" "qemu: the VM leased its port's address from the plugin's DHCP"
            if attach 2 q2 "$QNET"; then
                ok "qemu: ADD target launcher pod q2 (node2) with the same identity"
                mig_qemu_target q2 && ok "qemu: target QEMU listening in q2" || fail "qemu: no target QEMU in q2"
                mig_qemu_switch qemu q3 "$QIP" "$QPORT" 1 2
                mig_qemu_stop source
                expect_ok "qemu: the source's DEL" detach 1 q1 "$QNET"
                nbctl --wait=hv sync >/dev/null
                assert_eq "osn-node2||" "$(sb_binding "$QPORT")" "qemu: after the source's DEL, bound to node2 only"
                check "qemu: the VM on node2 still answers" ping_ok q3 "$QIP"
                mig_qemu_stop target
                detach 2 q2 "$QNET" >/dev/null
            else
                fail "qemu: target ADD: $RESULT"
                mig_qemu_stop source
            fi
        else
            fail "qemu: ADD q1: $RESULT"
        fi
        detach 3 q3 "$QPLAIN" >/dev/null
    elif [[ "$ONLY" == qemu ]]; then
        skip "$WHY"
    else
        echo "# qemu part skipped: $WHY"
    fi
fi

# ------------------------------------------------------------------ localnet
# lnmig PINGER NET TAG: identity testns/ln.net1 on NET migrates node1 -> node2
# (switch-over, then the source's DEL) while PINGER pings it, then a failed
# migration back (the target's DEL first).
in_pinger() {
    if [[ $1 == ext ]]; then
        ip netns exec "$(sandbox_prefix)-ext" "${@:2}"
    else
        in_pod "$@"
    fi
}
lnmig() {
    local pinger=$1 net=$2 tag=$3 lip lport gap1 gap2 early tdown tdel rp
    if ! attach 1 "l1$tag" "$net"; then
        fail "localnet $tag: ADD l1$tag (node1): $RESULT"
        return
    fi
    lip=$(jq -r '.ips[0].address' <<<"$RESULT" | cut -d/ -f1)
    lport=$(port_with "$lip")
    # The segment learns the VM on node1, as a physical switch would.
    check "localnet $tag: the physical side reaches the VM on node1" in_pinger "$pinger" ping -c 3 -i 0.1 -W 2 "$lip"
    if ! attach 2 "l2$tag" "$net"; then
        fail "localnet $tag: target ADD (node2): $RESULT"
        detach 1 "l1$tag" "$net" >/dev/null
        return
    fi
    wait_until 10 bash -c "[[ \$('$SANDBOX' sbctl --dir '$SANDBOX_DIR' --bare --columns=additional_chassis find Port_Binding 'logical_port=\"$lport\"') != '' ]]"
    # The switch-over and, 0.3 s after the first RARP, the source's DEL,
    # under one pinger.
    mig_pinger_start "$pinger" "$lip" "$MIG/ping.ln$tag.log"
    sleep 0.3
    mig_copy_neighbours "l1$tag" "l2$tag"
    in_pod "l1$tag" ip link set net1 down
    tdown=$(date +%s.%N)
    sleep 0.1
    mig_rarp "l2$tag" net1 "$MIG/rarp.ln$tag.log" "${LN_RARP_ROUNDS:-5}" &
    rp=$!
    wait_until 5 grep -q sent "$MIG/rarp.ln$tag.log"
    sleep "${LN_DEL_AFTER:-0.3}"
    tdel=$(date +%s.%N)
    detach 1 "l1$tag" "$net" >/dev/null || fail "localnet $tag: the source's DEL"
    wait "$rp"
    sleep 0.5
    mig_pinger_stop
    read -r gap1 early < <(mig_interruption "$MIG/ping.ln$tag.log" "$MIG/rarp.ln$tag.log" "$tdown")
    gap2=$(mig_after "$MIG/ping.ln$tag.log" "$tdel")
    echo "RESULT: localnet_${tag}_migration_gap_ms=$gap1 after_source_del_max_gap_ms=$gap2"
    assert_eq "0" "$early" "localnet $tag: no reply from the target before its RARP"
    [[ $gap1 != none ]] && ok "localnet $tag: the physical side's pings resume on node2 after its RARP ($gap1 ms)" ||
        fail "localnet $tag: no reply after the target's RARP"
    # A stale FDB would cost the bridge's ageing time (300 s); OVN moving
    # the port from two chassis to one costs a few ping intervals at most.
    awk -v g="$gap2" 'BEGIN { exit !(g != "none" && g < 200) }' &&
        ok "localnet $tag: the source's DEL costs the physical side no reply (longest wait after it $gap2 ms)" ||
        fail "localnet $tag: after the source's DEL the physical side waited $gap2 ms"
    assert_eq "osn-node2||" "$(sb_binding "$lport")" "localnet $tag: bound to node2 alone"
    check "localnet $tag: the physical side reaches the VM on node2" in_pinger "$pinger" ping -c 3 -i 0.1 -W 2 "$lip"
    # A failed migration back: the target's DEL first; the VM stays.
    if attach 1 "l3$tag" "$net"; then
        mig_pinger_start "$pinger" "$lip" "$MIG/ping.lnf$tag.log"
        sleep 0.2
        detach 1 "l3$tag" "$net" >/dev/null || fail "localnet $tag: the failed target's DEL"
        sleep 0.3
        mig_pinger_stop
        assert_eq "osn-node2||" "$(sb_binding "$lport")" "localnet $tag: a failed migration leaves it on node2"
        gap2=$(mig_after "$MIG/ping.lnf$tag.log" 0)
        awk -v g="$gap2" 'BEGIN { exit !(g != "none" && g < 200) }' &&
            ok "localnet $tag: the physical side reaches it throughout the failed migration (longest wait $gap2 ms)" ||
            fail "localnet $tag: during the failed migration the physical side waited $gap2 ms"
    else
        fail "localnet $tag: ADD l3$tag (node1, failed migration): $RESULT"
    fi
    detach 2 "l2$tag" "$net" >/dev/null
    "$OSN_BUILD/src/osnctl/osnctl" --nb "unix:$SANDBOX_DIR/nb.sock" release "$(jq -r .name <<<"$net")" testns/ln.net1 >/dev/null
}
if want localnet; then
    LN='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"lnmig","topology":"localnet",
         "physicalNetworkName":"physnet","subnets":"192.168.200.0/24","excludeSubnets":"192.168.200.0/29",
         "allowPersistentIPs":true,"args":{"cni":{"ipam-claim-reference":"testns/ln.net1"}}}'
    lnmig ext "$LN" untagged
    LV=$(jq -c '.name = "lnmig10" | .vlanID = 10 | .subnets = "10.71.0.0/24" | .excludeSubnets = "10.71.0.0/29"' <<<"$LN")
    expect_ok "localnet vlan10: ADD pinger v3 (node3) on VLAN 10" attach 3 v3 "$(jq -c 'del(.args)' <<<"$LV")"
    lnmig v3 "$LV" vlan10
    detach 3 v3 "$(jq -c 'del(.args)' <<<"$LV")" >/dev/null
fi

detach 3 c "$PLAIN" >/dev/null
finish
