#!/usr/bin/env bash
# osnctl on the sandbox with real OVN (issue 5): networks, attachments and
# show match what the plugin made (names, subnets, counts, nodes, MACs,
# IPs); --json parses and carries the same facts as the text; status
# probes; gc removes exactly what a pod whose netns vanished without a DEL
# left (and its network when it was the last), empty osn networks, and
# (with --orphans) logical ports without an OVS port, while foreign OVN
# objects stay untouched.
# This suite names logical ports for their container (osn.<net>.<cid>.<if>),
# as an ADD without a pool does; the pool path has its own suite (test-pools).
export OSN_POOL_SIZE=${OSN_POOL_SIZE:-0}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
require_root_and_tools
OSNCTL=${OSNCTL:-$OSN_BUILD/src/osnctl/osnctl}
export OSNCTL
require_built "$PLUGIN" "$OSNCTL"
command -v jq >/dev/null || skip "missing jq (scripts/deps.sh installs it)"
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

# Objects osn did not make: a switch with a port, and a switch named like
# one of ours but without osn's external_ids.
nbctl ls-add foreign-sw -- lsp-add foreign-sw foreign-port
nbctl ls-add osn.ghost -- lsp-add osn.ghost ghost-port

# --- networks ----------------------------------------------------------------
J=$(ctl 2 networks --json)
jq_eq "$J" '.networks | map(.name) | join(",")' "red,tenant-overlay" "networks: exactly osn's two networks (foreign and look-alike switches left out)"
jq_eq "$J" '.networks[] | select(.name == "tenant-overlay") | [.switch, .topology, (.subnets | join(",")), .external, .mtu, .attachments, (.nodes | join(","))] | map(tostring) | join(" ")' \
    "osn.tenant-overlay layer2 10.10.10.0/24 false null 2 osn-node1,osn-node3" "networks --json: tenant-overlay's switch, topology, subnet, MTU, count and nodes"
jq_eq "$J" '.networks[] | select(.name == "red") | [.topology, (.subnets | join(",")), .external, .physical_network, .vlan, .mtu, .attachments, (.nodes | join(","))] | map(tostring) | join(" ")' \
    "localnet 192.168.200.0/24 true physnet 200 1400 2 osn-node1,osn-node2" "networks --json: red's physical network, VLAN, MTU, count and nodes"
assert_eq "$(nbctl --bare --columns=name find Logical_Switch 'external_ids:"osn/network"!=""' | sed '/^$/d' | sort | tr '\n' ' ')" \
    "osn.red osn.tenant-overlay " "the same switches as ovn-nbctl finds"
TXT=$(ctl 2 networks)
assert_eq "NETWORK TOPOLOGY SUBNETS EXTERNAL MTU ATTACHMENTS NODES" "$(head -1 <<<"$TXT" | tr -s ' ')" "networks: table header"
assert_eq "tenant-overlay layer2 10.10.10.0/24 - default 2 osn-node1,osn-node3" "$(awk '$1 == "tenant-overlay"' <<<"$TXT" | tr -s ' ')" "networks: the text says what --json says (tenant-overlay)"
assert_eq "red localnet 192.168.200.0/24 physnet vlan 200 1400 2 osn-node1,osn-node2" "$(awk '$1 == "red"' <<<"$TXT" | tr -s ' ')" "networks: the text says what --json says (red)"

# --- attachments -------------------------------------------------------------
J=$(ctl 3 attachments --json)
jq_eq "$J" '.attachments | length' "4" "attachments: four"
for p in a:1:tenant-overlay b:3:tenant-overlay c:2:red e:1:red; do
    IFS=: read -r pod node net <<<"$p"
    mac=$(in_pod "$pod" cat /sys/class/net/net1/address)
    ip=$(pod_ip "$pod")
    jq_eq "$J" ".attachments[] | select(.pod == \"testns/$pod\") | [.network, .container_id, .interface, .node, .mac, (.ips | join(\",\")), .ready, .port] | map(tostring) | join(\" \")" \
        "$net cid-$pod net1 osn-node$node $mac $ip/24 true osn.$net.cid-$pod.net1" "attachments --json: pod $pod's network, container, interface, node, MAC, IP, readiness"
    assert_eq "$net testns/$pod cid-$pod net1 osn-node$node $mac $ip/24 yes" \
        "$(ctl 3 attachments | awk -v p="testns/$pod" '$2 == p' | tr -s ' ')" "attachments: the text says the same for pod $pod"
done
assert_eq "a e" "$(ctl 1 attachments --node osn-node1 --json | jq -r '[.attachments[].pod_name] | sort | join(" ")')" "attachments --node osn-node1: its pods only"
assert_eq "c e" "$(ctl 1 attachments --network red --json | jq -r '[.attachments[].pod_name] | sort | join(" ")')" "attachments --network red: its pods only"
OUT=$(ctl 1 attachments --network nosuch 2>&1); rc=$?
assert_eq "1" "$rc" "attachments --network of an unknown network: exit 1"
assert_contains "$OUT" '"nosuch"' "and it names the network"

# --- show --------------------------------------------------------------------
J=$(ctl 1 show red --json)
jq_eq "$J" '[.network.name, .network.localnet_port, .network.attachments, (.attachments | map(.pod_name) | join(","))] | map(tostring) | join(" ")' \
    "red osn.red.localnet 2 c,e" "show --json: the network and its attachments"
TXT=$(ctl 1 show red)
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
    "attachment:osn.tenant-overlay.cid-a.net1:planned" "gc --dry-run on node1: exactly pod a's attachment"
assert_contains "$(osn_lsps)" "osn.tenant-overlay.cid-a.net1" "gc --dry-run removed nothing"
TXT=$(ctl 1 gc); rc=$?
assert_eq "0" "$rc" "gc on node1: exit 0"
assert_contains "$TXT" "removed attachment osn.tenant-overlay.cid-a.net1 (pod testns/a" "gc prints what it removed"
assert_eq "osn.red.cid-c.net1 osn.red.cid-e.net1 osn.tenant-overlay.cid-b.net1" "$(osn_lsps | grep -v localnet | sort | tr '\n' ' ' | sed 's/ $//')" "gc removed exactly that logical port"
assert_eq "" "$(vsctl 1 --bare --columns=name find Interface 'external_ids:iface-id="osn.tenant-overlay.cid-a.net1"')" "and its OVS port"
check "pod e on the same node still works" wait_until 10 ping_ok e "$(pod_ip c)"
jq_eq "$(ctl 1 gc --json)" '.actions | length' "0" "gc again: nothing to do"
jq_eq "$(ctl 3 gc --json)" '.actions | length' "0" "gc on a node whose pods are alive: nothing to do"

# --- gc: the last attachment takes its network along --------------------------
pod_del b >/dev/null
J=$(ctl 3 gc --json)
jq_eq "$J" '[.actions[] | .object + ":" + (.port // .network) + ":" + .result] | join(",")' \
    "attachment:osn.tenant-overlay.cid-b.net1:removed,network:tenant-overlay:removed" "gc on node3: pod b's attachment and, as it was the last, network tenant-overlay"
assert_eq "osn.red" "$(osn_switches)" "tenant-overlay's switch is gone"

# --- gc: an osn switch with a port osn did not create stays --------------------
nbctl lsp-add osn.red intruder
pod_del c >/dev/null
pod_del e >/dev/null
ctl 2 gc >/dev/null || fail "gc on node2"
J=$(ctl 1 gc --json)
jq_eq "$J" '[.actions[] | .object + ":" + (.port // .network) + ":" + .result] | join(",")' \
    "attachment:osn.red.cid-e.net1:removed" "gc on node1: pod e's attachment, not the network"
jq_eq "$J" '.kept | map(.object + ":" + .name) | join(",")' "network:red" "gc says why it left network red alone"
assert_eq "intruder osn.red.localnet" "$(nbctl --bare --columns=name list Logical_Switch_Port | sed '/^$/d' | grep -e intruder -e osn.red | sort | tr '\n' ' ' | sed 's/ $//')" "red keeps its foreign port (and its localnet port)"
nbctl lsp-del intruder
J=$(ctl 1 gc --json)
jq_eq "$J" '[.actions[] | .object + ":" + (.port // .network) + ":" + .result] | join(",")' \
    "network:red:removed" "gc removes a network that has no attachment left"

# --- gc --orphans: a logical port whose OVS port is missing --------------------
expect_ok "ADD pod f (node1)" attach 1 f "$SEED1"
HOST=$(vsctl 1 --bare --columns=name find Interface 'external_ids:iface-id="osn.tenant-overlay.cid-f.net1"')
vsctl 1 del-port "$HOST"
J=$(ctl 1 gc --json)
jq_eq "$J" '.actions | length' "0" "gc leaves a logical port without OVS port alone by default (an ADD may be under way)"
jq_eq "$J" '.kept | map(.object) | join(",")' "orphans" "and says so"
J=$(ctl 1 gc --orphans --json)
jq_eq "$J" '[.actions[] | .object + ":" + (.port // .network) + ":" + .result] | join(",")' \
    "attachment:osn.tenant-overlay.cid-f.net1:removed,network:tenant-overlay:removed" "gc --orphans removes it (and its network)"

# --- foreign objects: untouched --------------------------------------------------
assert_eq "foreign-port" "$(nbctl lsp-list foreign-sw | awk -F'[()]' '{print $2}')" "the foreign switch and its port are untouched"
assert_eq "ghost-port" "$(nbctl lsp-list osn.ghost | awk -F'[()]' '{print $2}')" "the look-alike switch osn.ghost and its port are untouched"
nothing_left "after gc: no osn veth, OVS port, logical port or switch"
jq_eq "$(ctl 2 networks --json)" '.networks | length' "0" "networks: none left"
assert_eq "no osn networks" "$(ctl 2 networks)" "networks: says so in text"

# --- usage ---------------------------------------------------------------------
ctl 1 frobnicate >/dev/null 2>&1; rc=$?
assert_eq "2" "$rc" "unknown command: exit 2"
ctl 1 networks --dry-run >/dev/null 2>&1; rc=$?
assert_eq "2" "$rc" "an option the command does not take: exit 2"
assert_contains "$(ctl 1 gc --help)" "--dry-run" "gc --help documents its options"
assert_contains "$(ctl 1 --help)" "validate" "--help lists the commands"

finish
