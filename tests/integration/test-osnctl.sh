#!/usr/bin/env bash
# osnctl on the sandbox with real OVN (issue 5): networks, attachments and
# show match what the plugin made (names, subnets, counts, nodes, MACs,
# IPs); --json parses and carries the same facts as the text; status
# probes; gc removes exactly what a pod whose netns vanished without a DEL
# left (and its network when it was the last), empty osn networks, and
# (with --orphans) logical ports without an OVS port, while foreign OVN
# objects stay untouched.  Port pools (issue 13): spares made by hand as the
# pool contract has them are shown as spares, never as attachments; gc keeps
# them on a network that stays, removes a network left with only spares,
# and removes stale pool index keys.  The plugin's networks are keyed by the
# pods' namespace (testns/<name>, tenancy); rows made here by hand keep the
# bare names they are given (networks from before tenancy).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
require_root_and_tools
OSNCTL=${OSNCTL:-$OSN_BUILD/src/osnctl/osnctl}
export OSNCTL
require_built "$PLUGIN" "$OSNCTL"
command -v jq >/dev/null || skip "missing jq (scripts/deps.sh installs it)"
# Pools off: the plugin makes no spare, so what is asserted below is exactly
# what the ADDs made; the pool section makes its spares by hand.
export OSN_POOL_SIZE=0
sandbox_up 3

# osnctl NODE ARGS...: osnctl on a node, with that node's config.
ctl() {
    local node=$1
    shift
    on "$node" "$OSNCTL" "$@"
}

# The seed's first sample NAD config (trailing comma removed), and an
# upstream localnet network on the sandbox's physical network with a VLAN.
SEED1='{"cniVersion": "0.3.1", "type": "ovn-kubernetes", "name": "tenant-overlay", "subnet": "10.10.10.0/24"}'
RED='{"cniVersion": "0.4.0", "type": "ovn-k8s-cni-overlay", "name": "red", "topology": "localnet",
      "physicalNetworkName": "physnet", "vlanID": 200, "subnets": "192.168.200.0/24", "mtu": 1400}'

expect_ok "ADD pod a (node1) to tenant-overlay" attach 1 a "$SEED1"
expect_ok "ADD pod b (node3) to tenant-overlay" attach 3 b "$SEED1"
expect_ok "ADD pod c (node2) to red" attach 2 c "$RED"
expect_ok "ADD pod e (node1) to red" attach 1 e "$RED"

# The networks' keys: the pods' namespace (cni.sh's testns) and the name.
TO=testns/tenant-overlay
RD=testns/red
export TO RD # jq filters read them as env.TO, env.RD

# Objects osn did not make: a switch with a port, and a switch named like
# one of ours but without osn's external_ids.
nbctl ls-add foreign-sw -- lsp-add foreign-sw foreign-port
nbctl ls-add osn.ghost -- lsp-add osn.ghost ghost-port

# --- networks ----------------------------------------------------------------
J=$(ctl 2 networks --json)
jq_eq "$J" '.networks | map(.name) | join(",")' "$RD,$TO" "networks: exactly osn's two networks (foreign and look-alike switches left out)"
jq_eq "$J" '.networks[] | select(.name == env.TO) | [.switch, .topology, (.subnets | join(",")), .external, .mtu, .attachments, (.nodes | join(","))] | map(tostring) | join(" ")' \
    "osn.$TO layer2 10.10.10.0/24 false null 2 osn-node1,osn-node3" "networks --json: tenant-overlay's switch, topology, subnet, MTU, count and nodes"
jq_eq "$J" '.networks[] | select(.name == env.RD) | [.topology, (.subnets | join(",")), .external, .physical_network, .vlan, .mtu, .attachments, (.nodes | join(","))] | map(tostring) | join(" ")' \
    "localnet 192.168.200.0/24 true physnet 200 1400 2 osn-node1,osn-node2" "networks --json: red's physical network, VLAN, MTU, count and nodes"
assert_eq "osn.$RD osn.$TO " "$(nbctl --bare --columns=name find Logical_Switch 'external_ids:"osn/network"!=""' | sed '/^$/d' | sort | tr '\n' ' ')" \
    "the same switches as ovn-nbctl finds"
TXT=$(ctl 2 networks)
assert_eq "NETWORK NAMESPACE TOPOLOGY SUBNETS EXTERNAL MTU ATTACHMENTS SPARES NODES" "$(head -1 <<<"$TXT" | tr -s ' ')" "networks: table header"
NSOF() { jq -r --arg n "$1" '.networks[] | select(.name == $n) | .namespace' <<<"$J"; }
jq_eq "$J" '[.networks[] | .name + "=" + .namespace + "=" + .scope] | join(" ")' "$RD=testns=namespace $TO=testns=namespace" "networks --json: the pods' namespace is theirs"
assert_eq "$TO $(NSOF "$TO") layer2 10.10.10.0/24 - default 2 0 osn-node1,osn-node3" "$(awk -v n="$TO" '$1 == n' <<<"$TXT" | tr -s ' ')" "networks: the text says what --json says (tenant-overlay)"
assert_eq "$RD $(NSOF "$RD") localnet 192.168.200.0/24 physnet vlan 200 1400 2 0 osn-node1,osn-node2" "$(awk -v n="$RD" '$1 == n' <<<"$TXT" | tr -s ' ')" "networks: the text says what --json says (red)"

# --- attachments -------------------------------------------------------------
J=$(ctl 3 attachments --json)
jq_eq "$J" '.attachments | length' "4" "attachments: four"
for p in a:1:$TO b:3:$TO c:2:$RD e:1:$RD; do
    IFS=: read -r pod node net <<<"$p"
    mac=$(in_pod "$pod" cat /sys/class/net/net1/address)
    ip=$(pod_ip "$pod")
    jq_eq "$J" ".attachments[] | select(.pod == \"testns/$pod\") | [.network, .container_id, .interface, .node, .mac, (.ips | join(\",\")), .ready, .port] | map(tostring) | join(\" \")" \
        "$net cid-$pod net1 osn-node$node $mac $ip/24 true osn.$net.cid-$pod.net1" "attachments --json: pod $pod's network, container, interface, node, MAC, IP, readiness"
    assert_eq "$net testns/$pod cid-$pod net1 osn-node$node $mac $ip/24 yes" \
        "$(ctl 3 attachments | awk -v p="testns/$pod" '$2 == p' | tr -s ' ')" "attachments: the text says the same for pod $pod"
done
assert_eq "a e" "$(ctl 1 attachments --node osn-node1 --json | jq -r '[.attachments[].pod_name] | sort | join(" ")')" "attachments --node osn-node1: its pods only"
assert_eq "c e" "$(ctl 1 attachments --network "$RD" --json | jq -r '[.attachments[].pod_name] | sort | join(" ")')" "attachments --network red: its pods only"
OUT=$(ctl 1 attachments --network nosuch 2>&1); rc=$?
assert_eq "1" "$rc" "attachments --network of an unknown network: exit 1"
assert_contains "$OUT" '"nosuch"' "and it names the network"

# --- show --------------------------------------------------------------------
J=$(ctl 1 show "$RD" --json)
jq_eq "$J" '[.network.name, .network.localnet_port, .network.attachments, (.attachments | map(.pod_name) | join(","))] | map(tostring) | join(" ")' \
    "$RD osn.$RD.localnet 2 c,e" "show --json: the network and its attachments"
TXT=$(ctl 1 show "$RD")
assert_contains "$TXT" "external:" "show: the settings"
assert_eq "2" "$(grep -c '^testns/' <<<"$TXT")" "show: one line per attachment"
check_fails "show of an unknown network fails" ctl 1 show nosuch
OUT=$(ctl 1 show 2>&1); rc=$?
assert_eq "2" "$rc" "show without NETWORK: usage error (exit 2)"

# --- status --------------------------------------------------------------------
J=$(ctl 2 status --json); rc=$?
assert_eq "0" "$rc" "status: exit 0 on a healthy node"
jq_eq "$J" '[.ok, .node, .nb.ok, .ovs.ok, .integration_bridge.present, .chassis, .ovn_controller.connected, (.physical_networks | map(.name + "=" + .bridge) | join(",")), .default_physical_network.mapped] | map(tostring) | join(" ")' \
    "true osn-node2 true true true osn-node2 true physnet=br-ex true" "status --json: NB, OVS, br-int, chassis, ovn-controller, mappings"
# (A clustered NB, OSN_TEST_NB_CLUSTER: one of the members under DIR/nb.sock/.)
jq_eq "$J" ".nb.remote | . == \"$(nb_remote_prefix)\" or startswith(\"$(nb_remote_prefix)/\")" true \
    "status names the NB remote it reached"
TXT=$(ctl 2 status)
assert_contains "$TXT" "connected to the SB DB" "status: text says ovn-controller is connected"
OUT=$(ctl 2 status --ovn-rundir /nonexistent --json); rc=$?
assert_eq "1" "$rc" "status: exit 1 when ovn-controller cannot be asked"
jq_eq "$OUT" '.ovn_controller.connected' "null" "status: then ovn-controller's state is unknown, not guessed"
mv "$SANDBOX_DIR/nb.sock" "$SANDBOX_DIR/nb.sock.away"
OUT=$(ctl 2 status --json --timeout 2000); rc=$?
mv "$SANDBOX_DIR/nb.sock.away" "$SANDBOX_DIR/nb.sock"
assert_eq "1" "$rc" "status: exit 1 when NB is unreachable"
jq_eq "$OUT" '[.nb.ok, .ovs.ok] | map(tostring) | join(" ")' "false true" "status: NB down, OVS up"

# --- gc: a pod whose netns went away without a DEL ----------------------------
pod_del a >/dev/null
J=$(ctl 1 gc --dry-run --json)
jq_eq "$J" '[.actions[] | .object + ":" + (.port // .network) + ":" + .result] | join(",")' \
    "attachment:osn.$TO.cid-a.net1:planned" "gc --dry-run on node1: exactly pod a's attachment"
assert_contains "$(osn_lsps)" "osn.$TO.cid-a.net1" "gc --dry-run removed nothing"
TXT=$(ctl 1 gc); rc=$?
assert_eq "0" "$rc" "gc on node1: exit 0"
assert_contains "$TXT" "removed attachment osn.$TO.cid-a.net1 (pod testns/a" "gc prints what it removed"
assert_eq "osn.$RD.cid-c.net1 osn.$RD.cid-e.net1 osn.$TO.cid-b.net1" "$(osn_lsps | grep -v localnet | sort | tr '\n' ' ' | sed 's/ $//')" "gc removed exactly that logical port"
assert_eq "" "$(vsctl 1 --bare --columns=name find Interface "external_ids:iface-id=\"osn.$TO.cid-a.net1\"")" "and its OVS port"
check "pod e on the same node still works" wait_until 10 ping_ok e "$(pod_ip c)"
jq_eq "$(ctl 1 gc --json)" '.actions | length' "0" "gc again: nothing to do"
jq_eq "$(ctl 3 gc --json)" '.actions | length' "0" "gc on a node whose pods are alive: nothing to do"

# --- gc: the last attachment takes its network along --------------------------
pod_del b >/dev/null
J=$(ctl 3 gc --json)
jq_eq "$J" '[.actions[] | .object + ":" + (.port // .network) + ":" + .result] | join(",")' \
    "attachment:osn.$TO.cid-b.net1:removed,network:$TO:removed" "gc on node3: pod b's attachment and, as it was the last, network tenant-overlay"
assert_eq "osn.$RD" "$(osn_switches)" "tenant-overlay's switch is gone"

# --- gc: an osn switch with a port osn did not create stays --------------------
nbctl lsp-add "osn.$RD" intruder
pod_del c >/dev/null
pod_del e >/dev/null
ctl 2 gc >/dev/null || fail "gc on node2"
J=$(ctl 1 gc --json)
jq_eq "$J" '[.actions[] | .object + ":" + (.port // .network) + ":" + .result] | join(",")' \
    "attachment:osn.$RD.cid-e.net1:removed" "gc on node1: pod e's attachment, not the network"
jq_eq "$J" '.kept | map(.object + ":" + .name) | join(",")' "network:$RD" "gc says why it left network red alone"
assert_eq "intruder osn.$RD.localnet" "$(nbctl --bare --columns=name list Logical_Switch_Port | sed '/^$/d' | grep -F -e intruder -e "osn.$RD" | sort | tr '\n' ' ' | sed 's/ $//')" "red keeps its foreign port (and its localnet port)"
nbctl lsp-del intruder
J=$(ctl 1 gc --json)
jq_eq "$J" '[.actions[] | .object + ":" + (.port // .network) + ":" + .result] | join(",")' \
    "network:$RD:removed" "gc removes a network that has no attachment left"

# --- gc --orphans: a logical port whose OVS port is missing --------------------
expect_ok "ADD pod f (node1)" attach 1 f "$SEED1"
HOST=$(vsctl 1 --bare --columns=name find Interface "external_ids:iface-id=\"osn.$TO.cid-f.net1\"")
vsctl 1 del-port "$HOST"
J=$(ctl 1 gc --json)
jq_eq "$J" '.actions | length' "0" "gc leaves a logical port without OVS port alone by default (an ADD may be under way)"
jq_eq "$J" '.kept | map(.object) | join(",")' "orphans" "and says so"
J=$(ctl 1 gc --orphans --json)
jq_eq "$J" '[.actions[] | .object + ":" + (.port // .network) + ":" + .result] | join(",")' \
    "attachment:osn.$TO.cid-f.net1:removed,network:$TO:removed" "gc --orphans removes it (and its network)"

# --- foreign objects: untouched --------------------------------------------------
assert_eq "foreign-port" "$(nbctl lsp-list foreign-sw | awk -F'[()]' '{print $2}')" "the foreign switch and its port are untouched"
assert_eq "ghost-port" "$(nbctl lsp-list osn.ghost | awk -F'[()]' '{print $2}')" "the look-alike switch osn.ghost and its port are untouched"
nothing_left "after gc: no osn veth, OVS port, logical port or switch"
jq_eq "$(ctl 2 networks --json)" '.networks | length' "0" "networks: none left"
assert_eq "no osn networks" "$(ctl 2 networks)" "networks: says so in text"

# --- port pools: spares made by hand, as the pool contract has them --------------
# make_spare NET MAC IP [unindexed]: a spare on osn.NET (NET a network key;
# osn/spare=true, its address and claims, no holder, named
# osn.NET.spare.UUID) and, unless
# "unindexed", its key osn/spare/UUID in the switch's index; echoes UUID.
make_spare() {
    local net=$1 mac=$2 ip=$3 u
    nbctl -- --id=@p create Logical_Switch_Port "name=\"osn.$net.spare.new\"" \
        "addresses=\"$mac $ip\"" "port_security=\"$mac $ip\"" \
        "external_ids:\"osn/network\"=\"$net\"" 'external_ids:"osn/spare"=true' \
        "external_ids:\"osn/ip/$ip\"=\"$net\"" "external_ids:\"osn/mac/$mac\"=\"$net\"" \
        -- add Logical_Switch "osn.$net" ports @p >/dev/null || return 1
    u=$(nbctl --bare --columns=_uuid find Logical_Switch_Port "name=\"osn.$net.spare.new\"")
    nbctl set Logical_Switch_Port "$u" "name=\"osn.$net.spare.$u\"" || return 1
    if [[ ${4:-} != unindexed ]]; then
        nbctl set Logical_Switch "osn.$net" "external_ids:\"osn/spare/$u\"=\"$mac $ip\"" || return 1
    fi
    echo "$u"
}
lsp_exists() { [[ -n "$(nbctl --bare --columns=_uuid find Logical_Switch_Port "name=\"$1\"")" ]]; }
# gc_summary JSON: "object:name:result,..." of gc --json.
gc_summary() { jq -r '[.actions[] | .object + ":" + (.port // .network) + ":" + .result] | join(",")' <<<"$1"; }

expect_ok "ADD pod g (node1) to tenant-overlay" attach 1 g "$SEED1"
expect_ok "ADD pod h (node2) to tenant-overlay" attach 2 h "$SEED1"
expect_ok "ADD pod k (node1) to tenant-overlay" attach 1 k "$SEED1"
# Pod k's port becomes a claimed pool port, by hand (an ADD that took a
# spare: the port named osn.NET.spare.UUID with the pod's ids, the OVS
# iface-id that name, the host veth named after the container's own port
# name): an attachment like any other.
KU=$(nbctl --bare --columns=_uuid find Logical_Switch_Port "name=\"osn.$TO.cid-k.net1\"")
KP=osn.$TO.spare.$KU
KHOST=$(vsctl 1 --bare --columns=name find Interface "external_ids:iface-id=\"osn.$TO.cid-k.net1\"")
nbctl set Logical_Switch_Port "$KU" "name=\"$KP\""
vsctl 1 set Interface "$KHOST" "external_ids:iface-id=\"$KP\""
S1=$(make_spare "$TO" 0a:58:0a:0a:0a:f1 10.10.10.241) || fail "make spare 1"
S2=$(make_spare "$TO" 0a:58:0a:0a:0a:f2 10.10.10.242) || fail "make spare 2"
SP1=osn.$TO.spare.$S1 SP2=osn.$TO.spare.$S2
J=$(ctl 3 networks --json)
jq_eq "$J" '.networks[] | select(.name == env.TO) | [.attachments, .spares, (.spare_ports | map(.port) | sort | join(",")), (.nodes | join(",")), (.stale_pool_keys | length), .unindexed_spares] | map(tostring) | join(" ")' \
    "3 2 $(printf '%s\n' "$SP1" "$SP2" | sort | paste -sd,) osn-node1,osn-node2 0 0" "networks --json: 3 attachments (the claimed pool port one of them), the 2 spares apart (no node of theirs), index consistent"
jq_eq "$J" '.networks[] | select(.name == env.TO) | .usage[0].used' "5" "networks --json: used counts the spares' addresses"
assert_eq "$TO $(jq -r '.networks[] | select(.name == env.TO) | .namespace' <<<"$J") layer2 10.10.10.0/24 - default 3 2 osn-node1,osn-node2" "$(ctl 3 networks | awk -v n="$TO" '$1 == n' | tr -s ' ')" "networks: ATTACHMENTS 3, SPARES 2"
J=$(ctl 3 attachments --json)
jq_eq "$J" '[.attachments[].port] | sort | join(",")' "$(printf '%s\n' "osn.$TO.cid-g.net1" "osn.$TO.cid-h.net1" "$KP" | sort | paste -sd,)" "attachments: the pods only, never a spare"
jq_eq "$J" "[.attachments[] | select(.port == \"$KP\") | .pod] | join(\",\")" "testns/k" "attachments: the claimed pool port, with its pod"
assert_eq "g h k" "$(ctl 3 attachments --network "$TO" --no-headers | awk '{print $2}' | sed 's|testns/||' | sort | tr '\n' ' ' | sed 's/ $//')" "attachments --network (text): the pods only"
OUT=$(ctl 3 attachments --ip 10.10.10.241 2>&1); rc=$?
assert_eq "1" "$rc" "attachments --ip of a spare's address: exit 1 (no attachment holds it)"
assert_contains "$OUT" "spare $SP1 of network $TO" "and it names the spare that does"
J=$(ctl 3 show "$TO" --json)
jq_eq "$J" '[.network.spares, (.spares | map(.port + "=" + (.ips | join(",")) + "=" + (.indexed | tostring)) | sort | join(" ")), (.attachments | length)] | map(tostring) | join(" ")' \
    "2 $(printf '%s\n' "$SP1=10.10.10.241/24=true" "$SP2=10.10.10.242/24=true" | sort | paste -sd' ') 3" "show --json: the spares with their addresses, apart from the 3 attachments"
TXT=$(ctl 3 show "$TO")
assert_eq "spares: 2" "$(grep '^spares:' <<<"$TXT" | tr -s ' ')" "show: a spares line"
assert_eq "$SP1 0a:58:0a:0a:0a:f1 10.10.10.241/24 yes" "$(awk -v p="$SP1" '$1 == p' <<<"$TXT" | tr -s ' ')" "show: one line per spare"
assert_eq "3" "$(grep -c '^testns/' <<<"$TXT")" "show: the attachments are still the pods'"
J=$(ctl 2 gc --node osn-node1 --force --dry-run --json)
jq_eq "$J" '[.actions[] | select(.object == "attachment") | .port] | join(",")' "osn.$TO.cid-g.net1,$KP" "gc --node (a lost node, dry run): its attachments, never a spare"

# A stale index key: shown, and gc removes it (and only it).
nbctl set Logical_Switch "osn.$TO" 'external_ids:"osn/spare/00000000-0000-0000-0000-000000000001"="0a:58:0a:0a:0a:f9 10.10.10.249"'
J=$(ctl 3 networks --json)
jq_eq "$J" '.networks[] | select(.name == env.TO) | .stale_pool_keys | join(",")' "osn/spare/00000000-0000-0000-0000-000000000001" "networks --json: the stale pool index key"
assert_contains "$(ctl 3 networks | awk -v n="$TO" '$1 == n')" "2 (index: 1 stale key(s), 0 unindexed)" "networks: SPARES says the index disagrees"
J=$(ctl 3 gc --json)
assert_eq "pool-index:$TO:removed" "$(gc_summary "$J")" "gc on node3: the stale key, nothing else"
assert_eq "" "$(nbctl get Logical_Switch "osn.$TO" 'external_ids:"osn/spare/00000000-0000-0000-0000-000000000001"' 2>/dev/null)" "the stale key is gone"
assert_eq "\"0a:58:0a:0a:0a:f1 10.10.10.241\"" "$(nbctl get Logical_Switch "osn.$TO" "external_ids:\"osn/spare/$S1\"")" "the spares' own keys stay"
jq_eq "$(ctl 3 gc --json)" '.actions | length' "0" "gc again: nothing to do"

# gc on a network with attachments and spares: the dead pod's attachment
# goes, the spares and the network stay.
pod_del h >/dev/null
J=$(ctl 2 gc --json)
assert_eq "attachment:osn.$TO.cid-h.net1:removed" "$(gc_summary "$J")" "gc on node2: pod h's attachment only"
check "spare 1 is kept" lsp_exists "$SP1"
check "spare 2 is kept" lsp_exists "$SP2"
assert_eq "osn.$TO" "$(osn_switches)" "the network stays (pods g and k are still attached)"
jq_eq "$(ctl 1 networks --json)" '.networks[] | select(.name == env.TO) | [.attachments, .spares] | map(tostring) | join(" ")' "2 2" "networks: 2 attachments, 2 spares"

# Pod k's claimed pool port goes as a whole: OVS port and logical port.
pod_del k >/dev/null
J=$(ctl 1 gc --json)
assert_eq "attachment:$KP:removed" "$(gc_summary "$J")" "gc on node1: the dead pod's claimed pool port"
assert_eq "" "$(vsctl 1 --bare --columns=name find Interface "external_ids:iface-id=\"$KP\"")" "its OVS port is gone (named after the container's port, not the logical port)"
check_fails "its logical port is gone" lsp_exists "$KP"
jq_eq "$(ctl 1 networks --json)" '.networks[] | select(.name == env.TO) | [.attachments, .spares] | map(tostring) | join(" ")' "1 2" "networks: 1 attachment, 2 spares"

# The last attachment goes: the network, left with only spares, goes too.
pod_del g >/dev/null
J=$(ctl 1 gc --json)
assert_eq "attachment:osn.$TO.cid-g.net1:removed,network:$TO:removed" "$(gc_summary "$J")" "gc on node1: pod g's attachment and its network, left with only spares"
assert_eq "" "$(osn_switches)" "tenant-overlay's switch is gone"
check_fails "its spares are gone with it (1)" lsp_exists "$SP1"
check_fails "its spares are gone with it (2)" lsp_exists "$SP2"

# A network that has nothing but spares (and a localnet port) is empty.
nbctl ls-add osn.blue -- set Logical_Switch osn.blue 'external_ids:"osn/network"=blue' 'external_ids:"osn/topology"=localnet' \
    -- lsp-add osn.blue osn.blue.localnet -- set Logical_Switch_Port osn.blue.localnet type=localnet addresses=unknown \
    options:network_name=physnet 'external_ids:"osn/network"=blue'
B1=$(make_spare blue 0a:58:0a:0b:00:01 10.11.0.1) || fail "make blue spare 1"
B2=$(make_spare blue 0a:58:0a:0b:00:02 10.11.0.2 unindexed) || fail "make blue spare 2"
J=$(ctl 2 networks --json)
jq_eq "$J" '.networks[] | select(.name == "blue") | [.attachments, .spares, .unindexed_spares, (.nodes | length)] | map(tostring) | join(" ")' "0 2 1 0" "networks: blue has no attachment, 2 spares (one unindexed)"
jq_eq "$(ctl 2 attachments --json)" '.attachments | length' "0" "attachments: none (spares are not attachments)"
J=$(ctl 2 gc --dry-run --json)
jq_eq "$J" '[.actions[] | .object + ":" + .network + ":" + (.spares | tostring)] | join(",")' "network:blue:2" "gc --dry-run: network blue would go, with its 2 spares"
J=$(ctl 2 gc --json)
assert_eq "network:blue:removed" "$(gc_summary "$J")" "gc removes a network with only spares"
assert_eq "" "$(osn_switches)" "blue's switch is gone"
check_fails "and its spares (1)" lsp_exists "osn.blue.spare.$B1"
check_fails "and its spares (2)" lsp_exists "osn.blue.spare.$B2"
nothing_left "after the pool section: no osn veth, OVS port, logical port or switch"

# --- usage ---------------------------------------------------------------------
ctl 1 frobnicate >/dev/null 2>&1; rc=$?
assert_eq "2" "$rc" "unknown command: exit 2"
ctl 1 networks --dry-run >/dev/null 2>&1; rc=$?
assert_eq "2" "$rc" "an option the command does not take: exit 2"
assert_contains "$(ctl 1 gc --help)" "--dry-run" "gc --help documents its options"
assert_contains "$(ctl 1 --help)" "validate" "--help lists the commands"

finish
