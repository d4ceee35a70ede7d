#!/usr/bin/env bash
# VMs on osn networks through the plugin (issue 9): persistent addresses,
# DHCP from OVN's DHCP_Options made by the plugin, the "dhcp" key, the MTU
# option, macSecurityMode "disabled", and a real VM (qemu, KubeVirt's bridge
# binding in its launcher pod) that leases its address from OVN and pings a
# pod on another node.
#
#   VM_TEST_ONLY=persist|dhcp|dhcpoff|macsec|vm|debian   one part
#                                   (comma-separated for several)
#
# "debian" boots a real Debian guest (scripts/vm-debian.sh: minimal Debian,
# systemd-networkd, under QEMU TCG) in a launcher pod: it configures itself by
# DHCP as a cloud image does, renews its 20 s lease twice by unicast, and
# pings a pod on another node.  It runs only when asked (VM_TEST_ONLY=debian,
# or OSN_VM_DEBIAN=1): its boot takes 1-2 minutes here, and its first build
# (mmdebstrap) a few more.
#
# Real DHCP clients (dhclient, dhcpcd, systemd-networkd) and the DHCP
# server's port are test-dhcp.sh's; tests/vm/ovn-by-hand.sh holds the same
# OVN recipes made by hand.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
. "$(dirname "$0")/../vm/vm.sh"
. "$(dirname "$0")/../vm/dhcp.sh"
. "$(dirname "$0")/../vm/mac.sh"
ONLY=${VM_TEST_ONLY:-}
want() { [[ -z "$ONLY" || ",$ONLY," == *",$1,"* ]]; }
if want dhcp || want dhcpoff || want vm; then
    command -v busybox >/dev/null || skip "missing busybox (scripts/deps.sh installs busybox-static)"
fi
if want vm; then
    WHY=$(vm_require) || skip "$WHY"
fi
# The Debian guest: asked for by name, or by OSN_VM_DEBIAN=1.
debian_wanted() { [[ ",$ONLY," == *",debian,"* || "${OSN_VM_DEBIAN:-0}" == 1 ]]; }
plugin_test_up 3
ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=testns"

# net NAME JSON-FRAGMENT: an upstream layer2 NAD config.
net() { echo "{\"cniVersion\":\"1.0.0\",\"type\":\"ovn-k8s-cni-overlay\",\"name\":\"$1\",\"topology\":\"layer2\"$2}"; }
# with_claim CONFIG CLAIM: the config as Multus passes a selection element's
# cni-args ("args": {"cni": {...}}).
with_claim() { jq -c --arg c "$2" '.args.cni["ipam-claim-reference"] = $c' <<<"$1"; }
# add_as NODE POD CID CONFIG: ADD with an explicit container id.
add_as() {
    local ns
    ns=$(pod_netns "$2")
    [[ -e "$ns" ]] || pod_add "$2" >/dev/null
    RESULT=$(cni "$1" ADD "$3" "$ns" net1 "$4" "$ARGS;K8S_POD_NAME=$2")
}
del_as() { cni "$1" DEL "$3" "$(pod_netns "$2")" net1 "$4" "$ARGS;K8S_POD_NAME=$2" >/dev/null; }
res_ip() { jq -r '.ips[0].address // empty' <<<"$RESULT" | cut -d/ -f1; }
res_mac() { jq -r '.interfaces[0].mac // empty' <<<"$RESULT"; }
port_of_ip() {
    nbctl -f csv --no-headings --columns=name,addresses list Logical_Switch_Port 2>/dev/null |
        grep -E "[ ]$1([ \"]|\$)" | cut -d, -f1 | tr -d '"' | head -n1
}

# ------------------------------------------------------------------ persist
if want persist; then
    P=$(with_claim "$(net pnet ',"subnets":"10.70.0.0/24","allowPersistentIPs":true')" testns/vm1.net1)
    if add_as 1 vm1 cid-first "$P"; then
        ok "persist: ADD vm1 (node1) with ipam-claim-reference testns/vm1.net1"
        IP1=$(res_ip) MAC1=$(res_mac)
        del_as 1 vm1 cid-first "$P" && ok "persist: DEL vm1" || fail "persist: DEL vm1"
        pod_del vm1 >/dev/null
        RES=$(port_of_ip "$IP1")
        if [[ -n "$RES" ]]; then
            ok "persist: the port outlives DEL as a reservation ($RES)"
            assert_eq "" "$(sbctl --bare --columns=chassis find Port_Binding "logical_port=\"$RES\"")" "persist: the reservation is unbound"
            assert_eq "" "$(vsctl 1 --bare --columns=name find Interface "external_ids:iface-id=\"$RES\"")" "persist: no OVS port is left for it"
        else
            fail "persist: no logical port holds $IP1 after DEL (no reservation)"
        fi
        assert_eq "osn.testns/pnet" "$(nbctl --bare --columns=name find Logical_Switch name=osn.testns/pnet)" "persist: a network with a reservation outlives its last DEL"
        # A filler pod would take the freed address if nothing reserved it.
        add_as 3 filler cid-filler "$(net pnet ',"subnets":"10.70.0.0/24","allowPersistentIPs":true')" ||
            fail "persist: ADD filler: $RESULT"
        [[ "$(res_ip)" != "$IP1" ]] && ok "persist: the reserved address is not handed to another pod" ||
            fail "persist: filler pod got the reserved $IP1"
        OUT=$("$OSN_BUILD/src/osnctl/osnctl" --nb "unix:$SANDBOX_DIR/nb.sock" reservations 2>&1 </dev/null)
        assert_contains "$OUT" "testns/vm1.net1" "persist: osnctl reservations lists the identity"
        if add_as 2 vm1b cid-second "$P"; then
            ok "persist: re-ADD on node2 with a new container id"
            assert_eq "$IP1" "$(res_ip)" "persist: same address after DEL + re-ADD on another node"
            assert_eq "$MAC1" "$(res_mac)" "persist: same MAC after DEL + re-ADD on another node"
            assert_eq "$IP1" "$(pod_ip vm1b)" "persist: the pod interface carries it"
            CH=$(sbctl --bare --columns=chassis find Port_Binding "logical_port=\"$(port_of_ip "$(res_ip)")\"")
            assert_eq "osn-node2" "$(sbctl --bare --columns=name list Chassis "$CH" 2>/dev/null)" "persist: now bound to node2"
        else
            fail "persist: re-ADD on node2 failed: $RESULT"
        fi
        del_as 2 vm1b cid-second "$P"
        if [[ -n "$(port_of_ip "$IP1")" ]]; then
            OUT=$("$OSN_BUILD/src/osnctl/osnctl" --nb "unix:$SANDBOX_DIR/nb.sock" release testns/pnet testns/vm1.net1 2>&1 </dev/null)
            assert_eq "" "$(port_of_ip "$IP1")" "persist: osnctl release frees the reservation ($OUT)"
        else
            fail "persist: no reservation left after the second DEL"
        fi
        del_as 3 filler cid-filler "$(net pnet ',"subnets":"10.70.0.0/24","allowPersistentIPs":true')"
    else
        fail "persist: ADD vm1 failed: $RESULT"
    fi
    # Identity = the requested MAC when no claim reference is passed.
    M='"runtimeConfig":{"mac":"02:00:00:70:00:42"}'
    PM=$(net pnet ",\"subnets\":\"10.70.0.0/24\",\"allowPersistentIPs\":true,$M")
    if add_as 1 m1 cid-m1 "$PM"; then
        IPM=$(res_ip)
        del_as 1 m1 cid-m1 "$PM"
        add_as 2 mfill cid-mfill "$(net pnet ',"subnets":"10.70.0.0/24","allowPersistentIPs":true')" ||
            fail "persist: ADD filler: $RESULT"
        add_as 3 m2 cid-m2 "$PM" || fail "persist: re-ADD by MAC: $RESULT"
        assert_eq "$IPM" "$(res_ip)" "persist: the requested MAC is the identity without a claim reference"
        del_as 3 m2 cid-m2 "$PM"
        del_as 2 mfill cid-mfill "$(net pnet ',"subnets":"10.70.0.0/24","allowPersistentIPs":true')"
        # osnctl gc frees reservations older than asked, and only those.
        sleep 2
        on 1 "$OSN_BUILD/src/osnctl/osnctl" gc --reservations-older-than 3600 >/dev/null 2>&1
        [[ -n "$(port_of_ip "$IPM")" ]] && ok "persist: gc keeps a reservation younger than asked" ||
            fail "persist: gc --reservations-older-than 3600 released a 2 s old reservation"
        OUT=$(on 1 "$OSN_BUILD/src/osnctl/osnctl" gc --reservations-older-than 1 2>&1)
        assert_eq "" "$(port_of_ip "$IPM")" "persist: gc --reservations-older-than 1 releases it ($OUT)"
    else
        fail "persist: ADD with a requested MAC: $RESULT"
    fi
    # A late (repeated) DEL of a container that held the identity before must
    # not take the interface of the one that holds it now on the same node
    # (both veths have the identity port's name).
    P9=$(with_claim "$(net p9net ',"subnets":"10.79.0.0/24","allowPersistentIPs":true')" testns/vm9.net1)
    if add_as 1 v9a cid-v9a "$P9" && del_as 1 v9a cid-v9a "$P9" && add_as 1 v9b cid-v9b "$P9"; then
        del_as 1 v9a cid-v9a "$P9" && ok "persist: a late DEL of the old container succeeds" ||
            fail "persist: the late DEL failed"
        check "persist: ... and leaves the new container's interface alone" \
            in_pod v9b ip link show net1
        del_as 1 v9b cid-v9b "$P9"
        "$OSN_BUILD/src/osnctl/osnctl" --nb "unix:$SANDBOX_DIR/nb.sock" release testns/p9net testns/vm9.net1 >/dev/null
    else
        fail "persist: re-ADD on the same node: $RESULT"
    fi
    # Control: the same claim reference without allowPersistentIPs.
    C=$(with_claim "$(net cnet ',"subnets":"10.71.0.0/24"')" testns/vm2.net1)
    if add_as 1 vm2 cid-c1 "$C"; then
        IPC1=$(res_ip)
        del_as 1 vm2 cid-c1 "$C"
        assert_eq "" "$(port_of_ip "$IPC1")" "persist control: without allowPersistentIPs DEL removes the port"
        add_as 3 cfill cid-cfill "$(net cnet ',"subnets":"10.71.0.0/24"')" >/dev/null
        add_as 2 vm2b cid-c2 "$C" || fail "persist control: re-ADD: $RESULT"
        [[ -n "$(res_ip)" && "$(res_ip)" != "$IPC1" ]] &&
            ok "persist control: a new address without allowPersistentIPs ($IPC1 -> $(res_ip))" ||
            fail "persist control: expected a new address, got '$(res_ip)' (was $IPC1)"
        del_as 2 vm2b cid-c2 "$C"
        del_as 3 cfill cid-cfill "$(net cnet ',"subnets":"10.71.0.0/24"')"
    else
        fail "persist control: ADD: $RESULT"
    fi
fi

# ------------------------------------------------------------------ dhcp
if want dhcp; then
    D=$(net dnet ',"subnets":"10.72.0.0/24","mtu":1400')
    expect_ok "dhcp: ADD d1 (node1)" attach 1 d1 "$D"
    IPD=$(pod_ip d1)
    PD=$(port_of_ip "$IPD")
    DO=$(nbctl --bare --columns=dhcpv4_options list Logical_Switch_Port "$PD" 2>/dev/null)
    [[ -n "$DO" ]] && ok "dhcp: the plugin set the port's dhcpv4_options" || fail "dhcp: port $PD has no dhcpv4_options"
    if [[ -n "$DO" ]]; then
        assert_eq "10.72.0.0/24" "$(nbctl --bare --columns=cidr list DHCP_Options "$DO")" "dhcp: DHCP_Options cidr is the subnet"
        for k in server_id server_mac lease_time; do
            [[ -n "$(nbctl --if-exists get DHCP_Options "$DO" "options:$k" 2>/dev/null)" ]] &&
                ok "dhcp: DHCP_Options has $k" || fail "dhcp: DHCP_Options lacks $k"
        done
        assert_eq '"1400"' "$(nbctl --if-exists get DHCP_Options "$DO" options:mtu 2>/dev/null)" "dhcp: DHCP_Options mtu is the network MTU"
        assert_eq "" "$(nbctl --if-exists get DHCP_Options "$DO" options:router 2>/dev/null)" "dhcp: no router without a gateway in the NAD"
    fi
    in_pod d1 ip addr flush dev net1 scope global
    in_pod d1 ip link set net1 mtu 1300
    OUT=$(udhcpc_in d1)
    echo "# $OUT"
    assert_eq "$IPD/24" "$(dhcp_field "$OUT" ip)" "dhcp: udhcpc in a flushed pod gets exactly its port's address"
    assert_eq "1400" "$(dhcp_field "$OUT" mtu)" "dhcp: the lease carries the MTU option"
    assert_eq "none" "$(dhcp_field "$OUT" router)" "dhcp: the lease names no router"
    # Guests renew by unicast to the server id (after an ARP for it): the
    # network's DHCP server port answers that ARP, so the unicast renew is
    # answered at once (udhcpc would broadcast after 3 s otherwise).
    assert_eq "unicast" "$(udhcpc_renew d1)" "dhcp: a renew by unicast to the server id is answered"
    # A gateway named in the NAD becomes the router option.
    G=$(net gnet ',"subnets":"10.73.0.0/24","defaultGatewayIPs":"10.73.0.1"')
    expect_ok "dhcp: ADD g1 (node2) on a network with a gateway" attach 2 g1 "$G"
    in_pod g1 ip addr flush dev net1 scope global
    OUT=$(udhcpc_in g1)
    assert_eq "10.73.0.1" "$(dhcp_field "$OUT" router)" "dhcp: defaultGatewayIPs is the router option"
    # Dual-stack: stateful DHCPv6 too (busybox-static has no udhcpc6:
    # tests/vm/dhcp6.py sends the Solicit).
    D6=$(net d6net ',"subnets":"10.74.0.0/24,fd00:74::/64"')
    expect_ok "dhcp: ADD d6 (node3) dual-stack" attach 3 d6 "$D6"
    P6=$(port_of_ip "$(pod_ip d6)")
    DO6=$(nbctl --bare --columns=dhcpv6_options list Logical_Switch_Port "$P6" 2>/dev/null)
    [[ -n "$DO6" ]] && ok "dhcp: dual-stack port has dhcpv6_options" || fail "dhcp: port $P6 has no dhcpv6_options"
    [[ -z "$DO6" ]] || assert_contains "$(nbctl --bare --columns=cidr list DHCP_Options "$DO6")" "fd00:74::/64" "dhcp: DHCPv6 options for the IPv6 subnet"
    if [[ -n "$DO6" ]]; then
        [[ -n "$(nbctl --if-exists get DHCP_Options "$DO6" options:server_id)" ]] &&
            ok "dhcp: DHCPv6 options have a server_id" || fail "dhcp: DHCPv6 options without server_id"
    fi
    OUT=$(dhcp6_in d6)
    assert_eq "$(pod_ip d6 net1 6)" "$(dhcp_field "$OUT" addr)" "dhcp: DHCPv6 Advertise offers exactly the port's IPv6 address"
    for p in d1:1:D g1:2:G d6:3:D6; do
        IFS=: read -r pod node var <<<"$p"
        detach "$node" "$pod" "${!var}" >/dev/null
    done
    assert_eq "" "$(nbctl --bare --columns=_uuid find DHCP_Options 'cidr="10.72.0.0/24"')" "dhcp: the last DEL removes the network's DHCP_Options"
fi

# ------------------------------------------------------------------ dhcp off
if want dhcpoff; then
    O=$(net onet ',"subnets":"10.75.0.0/24","dhcp":false')
    expect_ok "dhcpoff: ADD o1 with \"dhcp\": false" attach 1 o1 "$O"
    IPO=$(pod_ip o1)
    [[ -n "$IPO" ]] && ok "dhcpoff: the plugin still configures the pod's address ($IPO)" || fail "dhcpoff: no address"
    PO=$(port_of_ip "$IPO")
    assert_eq "" "$(nbctl --bare --columns=dhcpv4_options list Logical_Switch_Port "$PO" 2>/dev/null)" "dhcpoff: no dhcpv4_options on the port"
    in_pod o1 ip addr flush dev net1 scope global
    assert_eq "" "$(udhcpc_in o1)" "dhcpoff: no DHCP answer"
    detach 1 o1 "$O" >/dev/null
    # External networks default to off.
    X='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"physnet","topology":"localnet","subnets":"192.168.200.0/24"}'
    expect_ok "dhcpoff: ADD x1 on a localnet network" attach 1 x1 "$X"
    PX=$(port_of_ip "$(pod_ip x1)")
    assert_eq "" "$(nbctl --bare --columns=dhcpv4_options list Logical_Switch_Port "$PX" 2>/dev/null)" "dhcpoff: external networks default to no DHCP"
    detach 1 x1 "$X" >/dev/null
fi

# ------------------------------------------------------------------ macSecurityMode
if want macsec; then
    MS=$(net msnet ',"macSecurityMode":"disabled"')
    expect_ok "macsec: ADD q1 (node1) with macSecurityMode disabled" attach 1 q1 "$MS"
    expect_ok "macsec: ADD q2 (node3)" attach 3 q2 "$MS"
    Q1=$(nbctl --bare --columns=name find Logical_Switch_Port 'external_ids:"osn/container-id"=cid-q1' | sed '/^$/d')
    assert_eq "" "$(nbctl --bare --columns=port_security list Logical_Switch_Port "$Q1")" "macsec: no port security"
    assert_contains "$(nbctl --bare --columns=addresses list Logical_Switch_Port "$Q1")" "unknown" "macsec: the port accepts unknown MACs"
    if second_mac_reachable q1 q2 78; then
        ok "macsec: q1 sends from a second MAC and is reachable from node3"
    else
        fail "macsec: q1's second MAC is not reachable from node3"
    fi
    # Only meaningful once the second MAC is reachable (and so learnt).
    if [[ -n "$(sbctl --bare --columns=mac find FDB mac=\"02:78:00:00:00:10\")" ]] &&
        command -v tcpdump >/dev/null; then
        MIG=$SANDBOX_DIR/cap
        mkdir -p "$MIG"
        expect_ok "macsec: ADD q3 (node2), a third port of the same network" attach 2 q3 "$MS"
        assert_eq "0" "$(unicast_seen_by q3 02:78:00:00:00:10 q2 192.168.78.10)" \
            "macsec: unicast to the learnt second MAC is not flooded to the other ports"
        detach 2 q3 "$MS" >/dev/null
    fi
    detach 1 q1 "$MS" >/dev/null
    detach 3 q2 "$MS" >/dev/null
    # Enabled (the default) on the same shape: the second MAC is dropped.
    ME=$(net menet '')
    attach 1 r1 "$ME" >/dev/null && attach 3 r2 "$ME" >/dev/null || fail "macsec control: ADD: $RESULT"
    check_fails "macsec control: with port security a second MAC is dropped" second_mac_reachable r1 r2 79
    detach 1 r1 "$ME" >/dev/null
    detach 3 r2 "$ME" >/dev/null
    # Refused on a network with a subnet, as upstream.
    OUT=$(cni 1 ADD cid-ms "$(pod_add ms)" net1 "$(net mssub ',"subnets":"10.76.0.0/24","macSecurityMode":"disabled"')" "$ARGS;K8S_POD_NAME=ms")
    jq_eq "$OUT" '.code' "7" "macsec: disabled on a network with a subnet is refused (invalid config)"
    jq_eq "$OUT" '.msg | test("macSecurityMode")' "true" "macsec: the error names macSecurityMode"
    OUT=$(cni 1 ADD cid-ms2 "$(pod_add ms2)" net1 "$(net msbad ',"macSecurityMode":"off"')" "$ARGS;K8S_POD_NAME=ms2")
    jq_eq "$OUT" '.code' "7" "macsec: a value other than enabled/disabled is refused"
fi

# ------------------------------------------------------------------ a real VM
if want vm; then
    V=$(net vmnet ',"subnets":"10.77.0.0/24"')
    expect_ok "vm: ADD pod c (node3), the VM pings it" attach 3 c "$V"
    expect_ok "vm: ADD the launcher pod v (node2)" attach 2 v "$V"
    IPV=$(pod_ip v)
    IPC=$(pod_ip c)
    MACV=$(in_pod v cat /sys/class/net/net1/address)
    if vm_bridge_binding "$(sandbox_prefix)-pod-v" net1; then
        ok "vm: KubeVirt bridge binding in pod v ($VM_BRIDGE, $VM_TAP)"
    else
        fail "vm: bridge binding in pod v"
    fi
    assert_eq "$MACV" "$VM_MAC" "vm: the VM takes the pod interface's MAC"
    CON=$SANDBOX_DIR/vm-console.log
    vm_start "$(sandbox_prefix)-pod-v" "$CON" 90 "osn.ping=$IPC"
    vm_wait 90 && ok "vm: the guest ran to its end (accel $VM_ACCEL, ${VM_BOOT_S} s)" ||
        fail "vm: the guest did not finish: $(tr -d '\r' <"$CON" | tail -n 5 | tr '\n' '|')"
    tr -d '\r' <"$CON" | grep '^OSN-VM' | sed 's/^/#   /'
    assert_eq "$IPV/24" "$(vm_field "$CON" "dhcp bound" ip)" "vm: the VM leased its port's address from the plugin's DHCP_Options"
    assert_eq "1442" "$(vm_field "$CON" link mtu)" "vm: the VM applied the MTU option"
    assert_eq "ok" "$(tr -d '\r' <"$CON" | sed -n "s/^OSN-VM: ping $IPC \([a-z]*\).*/\1/p")" "vm: the VM (node2) pings pod c (node3)"
    detach 2 v "$V" >/dev/null
    detach 3 c "$V" >/dev/null
fi

# ------------------------------------------------------------------ a Debian guest
if debian_wanted; then
    if ! WHY=$(vm_require); then
        skip "$WHY"
    elif ! OUT=$("$ROOT/scripts/vm-debian.sh" 2>"$SANDBOX_DIR/vm-debian.err"); then
        fail "debian: scripts/vm-debian.sh: $(tail -n 3 "$SANDBOX_DIR/vm-debian.err" | tr '\n' ' ')"
    else
        DV=$(net dvnet ',"subnets":"10.78.0.0/24","dhcpLeaseTime":20')
        expect_ok "debian: ADD pod dc (node3), the guest pings it" attach 3 dc "$DV"
        expect_ok "debian: ADD the launcher pod virt-launcher-deb1-abcde (node2)" attach 2 virt-launcher-deb1-abcde "$DV"
        IPD=$(pod_ip virt-launcher-deb1-abcde)
        IPDC=$(pod_ip dc)
        if vm_bridge_binding "$(sandbox_prefix)-pod-virt-launcher-deb1-abcde" net1; then
            CON=$SANDBOX_DIR/vm-debian-console.log
            VM_KERNEL=$(sed -n 's/^KERNEL=//p' <<<"$OUT") VM_INITRD=$(sed -n 's/^INITRD=//p' <<<"$OUT") \
                VM_MEM=1024 vm_start "$(sandbox_prefix)-pod-virt-launcher-deb1-abcde" "$CON" 300 \
                "osn.ping=$IPDC" osn.renewals=2 osn.wait=90
            vm_wait 300 && ok "debian: the Debian guest ran to its end (${VM_BOOT_S} s, TCG)" ||
                fail "debian: the guest did not finish: $(tr -d '\r' <"$CON" | grep OSN-VM | tail -n 5 | tr '\n' '|')"
            tr -d '\r' <"$CON" | grep '^OSN-VM' | sed 's/^/#   /'
            assert_eq "$IPD/24" "$(vm_field "$CON" "dhcp bound" ip)" "debian: systemd-networkd in the guest leased its port's address"
            assert_eq "1442" "$(vm_field "$CON" "dhcp bound" mtu)" "debian: ... and applied the MTU option"
            n=$(vm_field "$CON" renewals n)
            ((${n:-0} >= 2)) && ok "debian: the guest renewed its 20 s lease $n times" || fail "debian: $n renewals"
            assert_eq "0" "$(vm_field "$CON" renewals rebinds)" "debian: no rebind, NAK or lost lease"
            assert_eq "$IPD/24" "$(vm_field "$CON" renewals ip)" "debian: the address after the renewals"
            assert_eq "ok" "$(tr -d '\r' <"$CON" | sed -n "s/^OSN-VM: ping $IPDC \([a-z]*\).*/\1/p")" "debian: the guest (node2) pings pod dc (node3)"
        else
            fail "debian: bridge binding in the launcher pod"
        fi
        detach 2 virt-launcher-deb1-abcde "$DV" >/dev/null
        detach 3 dc "$DV" >/dev/null
    fi
fi

finish
