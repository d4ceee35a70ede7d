#!/usr/bin/env bash
# OVN's DHCP server as real guests use it: the server's port (a localport
# holding its MAC and address, so that ARP for the server id is answered),
# its lifecycle, the options a NAD chooses, and real clients from Debian
# packages (ISC dhclient for DHCPv4 and DHCPv6, dhcpcd, systemd-networkd),
# each in a pod with its address flushed and a 20 s lease: it must get
# exactly its port's address, MTU and options, renew by unicast to the
# server id at T1 (the capture proves it: an answered request to the server
# id, no broadcast rebind) and keep its address through two renewals.
#
#   DHCP_TEST_ONLY=port|clients|options   one part (comma-separated for several)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
. "$(dirname "$0")/../vm/clients.sh"
ONLY=${DHCP_TEST_ONLY:-}
want() { [[ -z "$ONLY" || ",$ONLY," == *",$1,"* ]]; }
plugin_test_up 2
OSNCTL=$OSN_BUILD/src/osnctl/osnctl

net() { echo "{\"cniVersion\":\"1.0.0\",\"type\":\"ovn-k8s-cni-overlay\",\"name\":\"$1\",\"topology\":\"layer2\"$2}"; }
lsp_field() { nbctl --bare --columns="$2" find Logical_Switch_Port "name=\"$1\"" 2>/dev/null | sed '/^$/d'; }
dhcp_opt() { nbctl --bare --columns=options find DHCP_Options "cidr=\"$1\"" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
attachments() { "$OSNCTL" --nb "unix:$SANDBOX_DIR/nb.sock" --json networks 2>/dev/null | jq -r --arg n "$1" '.. | objects | select(.name? == "testns/" + $n) | .attachments' | head -n 1; }

OPTS=',"mtu":1400,"dhcpLeaseTime":20,"dns":{"nameservers":["10.80.0.53","fd00:80::53"],"search":["corp.example","example.org"],"domain":"corp.example"}'
D=$(net dc ",\"subnets\":\"10.80.0.0/24,fd00:80::/64\"$OPTS")

# ------------------------------------------------------------------ the port
if want port; then
    expect_ok "port: ADD p1 (node1), the network's first attachment" attach 1 p1 "$D"
    SRV=$(dhcp_opt 10.80.0.0/24 server_id)
    SMAC=$(dhcp_opt 10.80.0.0/24 server_mac)
    assert_eq "localport" "$(lsp_field osn.testns/dc.dhcp type)" "port: the switch has its DHCP server's port, a localport"
    assert_eq "$SMAC $SRV" "$(lsp_field osn.testns/dc.dhcp addresses)" "port: it holds the server's MAC and address ($SMAC $SRV)"
    assert_contains "$(nbctl --bare --columns=ports find Logical_Switch name=osn.testns/dc)" "$(lsp_field osn.testns/dc.dhcp _uuid)" "port: the switch references it"
    OUT=$(in_pod p1 arping -c 1 -w 3 -I net1 "$SRV" 2>&1)
    assert_contains "${OUT,,}" "[$SMAC]" "port: a pod's ARP for the server id is answered with the server's MAC"
    assert_eq "1" "$(attachments dc)" "port: osnctl counts one attachment, not the server's port"
    OUT=$("$OSNCTL" --nb "unix:$SANDBOX_DIR/nb.sock" gc --dry-run 2>&1)
    [[ "$OUT" != *osn.testns/dc* ]] && ok "port: gc plans nothing for the network" || fail "port: gc plans something: $OUT"
    detach 1 p1 "$D" >/dev/null
    assert_eq "" "$(nbctl --bare --columns=name find Logical_Switch name=osn.testns/dc)" "port: the last DEL removes the switch (the server's port is no attachment)"
    assert_eq "" "$(lsp_field osn.testns/dc.dhcp name)" "port: ... and the server's port with it"
    # A network of the previous release has no server port: the next ADD
    # adds it (through the pool path and without it).
    attach 1 p2 "$D" >/dev/null || fail "port: ADD p2: $RESULT"
    nbctl lsp-del osn.testns/dc.dhcp
    assert_eq "" "$(lsp_field osn.testns/dc.dhcp name)" "port: (the network as an older osn left it: no server port)"
    expect_ok "port: ADD p3 (node2) to that network" attach 2 p3 "$D"
    assert_eq "$SMAC $SRV" "$(lsp_field osn.testns/dc.dhcp addresses)" "port: the next ADD added the server's port"
    assert_eq "2" "$(attachments dc)" "port: two attachments"
    detach 1 p2 "$D" >/dev/null
    detach 2 p3 "$D" >/dev/null
    assert_eq "" "$(osn_all_lsps | grep '^osn\.dc\.')" "port: nothing of the network is left"
    # Where the server answers from a gateway's address, the gateway answers
    # ARP: no server port, and the gateway is the router option.
    G=$(net gw ',"subnets":"10.81.0.0/24","defaultGatewayIPs":"10.81.0.1"')
    expect_ok "port: ADD g1 on a network with defaultGatewayIPs" attach 1 g1 "$G"
    assert_eq "" "$(lsp_field osn.testns/gw.dhcp name)" "port: no server port when the server id is the gateway's"
    assert_eq "10.81.0.1" "$(dhcp_opt 10.81.0.0/24 router)" "port: the gateway is the router option"
    assert_eq "" "$(dhcp_opt 10.80.0.0/24 router)" "port: (the network without a gateway had none)"
    detach 1 g1 "$G" >/dev/null
fi

# ------------------------------------------------------------------ options
if want options; then
    expect_ok "options: ADD o1" attach 1 o1 "$D"
    assert_eq "20" "$(dhcp_opt 10.80.0.0/24 lease_time)" "options: dhcpLeaseTime is the lease_time"
    assert_eq "{10.80.0.53}" "$(dhcp_opt 10.80.0.0/24 dns_server | tr -d '"')" "options: the IPv4 nameservers"
    assert_eq "{fd00:80::53}" "$(dhcp_opt fd00:80::/64 dns_server | tr -d '"')" "options: the IPv6 nameservers (DHCPv6)"
    assert_eq '' "$(dhcp_opt fd00:80::/64 domain_search)" "options: no DHCPv6 domain search (OVN 23.03 encodes it as one label)"
    for bad in '"dhcpLeaseTime":5:dhcpLeaseTime' '"dns":{"nameservers":["10.80.0.300"]}:dns.nameservers[0]' \
        '"dns":{"search":["-x.org"]}:dns.search[0]' '"dns":{"options":["ndots:2"]}:dns.options'; do
        kv=${bad%:*} key=${bad##*:}
        i=$((${i:-0} + 1))
        OUT=$(cni 1 ADD "cid-bad-$i" "$(pod_netns o1)" net9 "$(net badnet ",\"subnets\":\"10.82.0.0/24\",$kv")" "IgnoreUnknown=1;K8S_POD_NAME=bad")
        jq_eq "$OUT" '.code' "7" "options: $kv is refused (invalid config)"
        jq_eq "$OUT" ".msg | contains(\"\\\"$key\\\"\")" "true" "options: ... naming key $key"
    done
    detach 1 o1 "$D" >/dev/null
    # A persistent network's attachment without an identity: a WARN line.
    P=$(net pnet ',"subnets":"10.83.0.0/24","allowPersistentIPs":true')
    expect_ok "options: ADD n1 with allowPersistentIPs and no identity" attach 1 n1 "$P"
    assert_contains "$(grep 'cid-n1' "$SANDBOX_DIR/node1/osn-cni.log" | grep ' WARN ')" \
        "allowPersistentIPs is set but the attachment has no identity" "options: the plugin logs a WARN for it"
    detach 1 n1 "$P" >/dev/null
fi

# ------------------------------------------------------------------ clients
if want clients; then
    CL=$SANDBOX_DIR/clients
    mkdir -p "$CL"
    SECS=36
    declare -A KIND=([dhc]=dhclient [dcd]=dhcpcd [nwd]=networkd [virt-launcher-vm7-x2k9q]=dhclient6)
    declare -A NODE=([dhc]=1 [dcd]=2 [nwd]=1 [virt-launcher-vm7-x2k9q]=2)
    declare -A IP4 IP6 PIDS
    for pod in "${!KIND[@]}"; do
        why=$(client_missing "${KIND[$pod]}")
        if [[ -n "$why" ]]; then
            fail "clients: ${KIND[$pod]} cannot run: $why (scripts/deps.sh installs it)"
            unset "KIND[$pod]"
            continue
        fi
        attach "${NODE[$pod]}" "$pod" "$D" >/dev/null || fail "clients: ADD $pod: $RESULT"
        IP4[$pod]=$(pod_ip "$pod")
        IP6[$pod]=$(pod_ip "$pod" net1 6)
        in_pod "$pod" ip addr flush dev net1 scope global
        in_pod "$pod" ip link set net1 mtu 1300
    done
    SRV=$(dhcp_opt 10.80.0.0/24 server_id)
    for pod in "${!KIND[@]}"; do
        client_start "${KIND[$pod]}" "$pod" "$SECS" "$CL"
        PIDS[$pod]=$CLIENT_PID
    done
    # The addresses while the clients still hold them (after two renewals;
    # some clients remove theirs when they stop).
    sleep $((SECS - 3))
    declare -A END4 END6 ENDMTU
    for pod in "${!KIND[@]}"; do
        END4[$pod]=$(pod_ip "$pod")
        END6[$pod]=$(pod_ip "$pod" net1 6)
        ENDMTU[$pod]=$(in_pod "$pod" cat /sys/class/net/net1/mtu)
    done
    for pod in "${!KIND[@]}"; do
        wait "${PIDS[$pod]}" 2>/dev/null
    done
    sleep 3 # the captures end
    for pod in "${!KIND[@]}"; do
        k=${KIND[$pod]} ip=${IP4[$pod]} L=$CL/$pod.lease
        echo "# $k in $pod ($ip):"
        sed 's/^/#   /' "$L"
        case $k in
        dhclient | dhcpcd)
            assert_eq "$ip" "$(lease_field "$L" BOUND ip)" "$k: bound exactly its port's address"
            assert_eq "1400" "$(lease_field "$L" BOUND mtu)" "$k: the lease's MTU"
            assert_eq "10.80.0.53" "$(lease_field "$L" BOUND dns)" "$k: the nameservers"
            assert_contains "$(lease_field "$L" BOUND search)" "corp.example" "$k: the search list"
            assert_contains "$(lease_field "$L" BOUND search)" "example.org" "$k: ... all of it"
            assert_eq "$pod" "$(lease_field "$L" BOUND host)" "$k: the hostname is the pod's name"
            assert_eq "" "$(lease_field "$L" BOUND routers)" "$k: no router without defaultGatewayIPs"
            assert_eq "20" "$(lease_field "$L" BOUND lease)" "$k: the 20 s lease"
            n=$(grep -c '^OSN-LEASE: RENEW ' "$L")
            ((n >= 2)) && ok "$k: renewed $n times" || fail "$k: renewed $n times (want 2+)"
            assert_eq "0" "$(grep -c '^OSN-LEASE: \(REBIND\|EXPIRE\|FAIL\|NAK\|TIMEOUT\)' "$L")" "$k: no rebind, expiry or failure"
            ;;
        networkd)
            assert_contains "$(cat "$CL/$pod.log")" "DHCPv4 address $ip/24 acquired from $SRV" "$k: acquired exactly its port's address"
            assert_contains "$(cat "$CL/$pod.log")" "→ 1400" "$k: applied the MTU option"
            n=$(grep -c 'DHCPv4 client: REQUEST (renewing)' "$CL/$pod.log")
            ((n >= 2)) && ok "$k: renewed $n times" || fail "$k: renewed $n times (want 2+)"
            assert_eq "0" "$(sed '/Terminate operation initiated/q' "$CL/$pod.log" | grep -c 'REQUEST (rebinding)\|DHCPv4 client: NAK\|lease lost\|expired')" "$k: no rebind, NAK or lost lease before it stops"
            ;;
        dhclient6)
            ip6=${IP6[$pod]}
            assert_eq "$ip6" "$(lease_field "$L" BOUND6 ip6)" "$k: bound exactly its port's IPv6 address"
            assert_eq "fd00:80::53" "$(lease_field "$L" BOUND6 dns6)" "$k: the IPv6 nameservers"
            assert_eq "$ip6" "${END6[$pod]}" "$k: the address is on the interface at the end"
            ;;
        esac
        if [[ $k != dhclient6 ]]; then
            u=$(pcap_count "$CL" "$pod" "src host $ip and dst host $SRV and udp dst port 67")
            a=$(pcap_count "$CL" "$pod" "src host $SRV and dst host $ip and udp src port 67")
            b=$(pcap_count "$CL" "$pod" "src host $ip and dst host 255.255.255.255")
            ((u >= 2)) && ok "$k: $u unicast requests to the server id $SRV (renewals at T1)" ||
                fail "$k: $u unicast requests to the server id (want 2+)"
            ((a >= u + 1)) && ok "$k: every one answered ($a answers: the offer/ack and $u renewals)" ||
                fail "$k: $a answers for $u unicast requests"
            assert_eq "0" "$b" "$k: no broadcast request from the bound address (no rebind)"
            assert_eq "$ip" "${END4[$pod]}" "$k: the address is on the interface after two renewals"
            assert_eq "1400" "${ENDMTU[$pod]}" "$k: the interface has the MTU option's"
        fi
    done
    assert_eq '"\"vm7\""' "$(nbctl get Logical_Switch_Port "$(nbctl --bare --columns=_uuid find Logical_Switch_Port 'external_ids:"osn/container-id"=cid-virt-launcher-vm7-x2k9q')" options:hostname)" "clients: a KubeVirt launcher pod's hostname option is its VM's name"
    for pod in "${!KIND[@]}"; do
        detach "${NODE[$pod]}" "$pod" "$D" >/dev/null
    done
fi

finish
