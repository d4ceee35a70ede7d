#!/usr/bin/env bash
# osnctl for operators (issue 12) on a real 3-node sandbox: --nb without a
# node config, -o wide, --no-headers, attachments --ip (static addresses
# and an older osn's dynamic_addresses), a pod whose netns is gone shown
# as not ready, show's effective MTU, exclusions and used/free, trace
# across nodes (delivered to a peer on another node, dropped for an address
# on another network), nodes (encap IPs, tunnels, nb_cfg against NB's,
# physical networks, a chassis that falls behind), and the generated man
# pages and bash completion.
# This suite names logical ports for their container (osn.<net>.<cid>.<if>),
# as an ADD without a pool does; the pool path has its own suite (test-pools).
# The plugin's networks are keyed by the pods' namespace (testns/<name>,
# tenancy); the network made here by hand ("legacy") keeps its bare name.
export OSN_POOL_SIZE=${OSN_POOL_SIZE:-0}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
require_root_and_tools
OSNCTL=${OSNCTL:-$OSN_BUILD/src/osnctl/osnctl}
export OSNCTL
require_built "$PLUGIN" "$OSNCTL"
command -v jq >/dev/null || skip "missing jq (scripts/deps.sh installs it)"
command -v ovn-trace >/dev/null || skip "missing ovn-trace (package ovn-central)"
sandbox_up 3

# osnctl on a node, with that node's config.
ctl() {
    local node=$1
    shift
    on "$node" "$OSNCTL" "$@"
}
# osnctl anywhere, with no node config at all: only --nb (and --sb).
NOCONF=/nonexistent/osn-node.json
bare() { OSN_CONFIG=$NOCONF "$OSNCTL" --nb "unix:$SANDBOX_DIR/nb.sock" "$@"; }

SEED1='{"cniVersion": "0.3.1", "type": "ovn-kubernetes", "name": "tenant-overlay", "subnet": "10.10.10.0/24"}'
GREEN='{"cniVersion": "1.0.0", "type": "ovn-k8s-cni-overlay", "name": "green", "topology": "layer2",
        "subnets": "10.30.0.0/24", "excludeSubnets": "10.30.0.0/29", "mtu": 1300}'
RED='{"cniVersion": "0.4.0", "type": "ovn-k8s-cni-overlay", "name": "red", "topology": "localnet",
      "physicalNetworkName": "physnet", "subnets": "192.168.200.0/24"}'

expect_ok "ADD pod a (node1) to tenant-overlay" attach 1 a "$SEED1"
expect_ok "ADD pod b (node3) to tenant-overlay" attach 3 b "$SEED1"
expect_ok "ADD pod g (node2) to green" attach 2 g "$GREEN"
expect_ok "ADD pod c (node2) to red" attach 2 c "$RED"
# The networks' keys: the pods' namespace (cni.sh's testns) and the name.
TO=testns/tenant-overlay GN=testns/green RD=testns/red
A_IP=$(pod_ip a) B_IP=$(pod_ip b) G_IP=$(pod_ip g)
A_MAC=$(in_pod a cat /sys/class/net/net1/address)
B_MAC=$(in_pod b cat /sys/class/net/net1/address)

# A network as an older osn made it: OVN's own IPAM (other_config subnet
# and exclude_ips, no fingerprint), a port whose addresses say "dynamic"
# and that northd fills in.
nbctl ls-add osn.legacy -- set Logical_Switch osn.legacy 'external_ids:"osn/network"=legacy' \
    other_config:subnet=10.40.0.0/24 'other_config:exclude_ips="10.40.0.1..10.40.0.9"' \
    -- lsp-add osn.legacy osn.legacy.cid-old.net1 \
    -- set Logical_Switch_Port osn.legacy.cid-old.net1 'addresses="0a:00:00:40:00:05 dynamic"' \
    'external_ids:"osn/network"=legacy' 'external_ids:"osn/container-id"=cid-old' \
    'external_ids:"osn/ifname"=net1' 'external_ids:"osn/node"=osn-node1' \
    'external_ids:"osn/pod-namespace"=testns' 'external_ids:"osn/pod-name"=old'
legacy_ip() { nbctl get Logical_Switch_Port osn.legacy.cid-old.net1 dynamic_addresses | tr -d '"' | awk '{print $2}'; }
wait_until 10 test -n "$(legacy_ip)" || fail "northd gave the legacy port no dynamic address"
OLD_IP=$(legacy_ip)

# --- --nb: read-only views without a node config -------------------------------
[[ ! -e $NOCONF ]] || fail "$NOCONF must not exist"
J=$(bare networks --json); rc=$?
assert_eq "0" "$rc" "--nb networks without a node config: exit 0"
jq_eq "$J" '.networks | map(.name) | join(",")' "legacy,$GN,$RD,$TO" "--nb networks: every osn network"
jq_eq "$(bare attachments --json)" '.attachments | map(.pod) | sort | join(",")' \
    "testns/a,testns/b,testns/c,testns/g,testns/old" "--nb attachments: every attachment"
J=$(bare show "$TO" --json)
jq_eq "$J" '[.network.effective_mtu.value, .network.effective_mtu.source] | map(tostring) | join(" ")' \
    "null node default" "--nb show without node config: the MTU is the node default, not guessed"
assert_contains "$(bare show "$TO")" "mtu:             node default" "--nb show: says so in text"
OUT=$(OSN_CONFIG=$NOCONF "$OSNCTL" networks 2>&1); rc=$?
assert_eq "1" "$rc" "without --nb and without node config: exit 1"
assert_contains "$OUT" "$NOCONF" "and it names the config it looked for"
OUT=$(OSN_CONFIG=$NOCONF "$OSNCTL" --nb "unix:$SANDBOX_DIR/nb.sock" gc 2>&1); rc=$?
assert_eq "2" "$rc" "--nb with a command that writes (gc): usage error"
OUT=$(bare networks --timeout 2000 --nb "unix:$SANDBOX_DIR/nope.sock" 2>&1); rc=$?
assert_eq "1" "$rc" "--nb to a remote that does not answer: exit 1"
assert_contains "$OUT" "(--nb)" "and it says the remote came from --nb"

# --- -o wide and --no-headers ---------------------------------------------------
TXT=$(ctl 1 networks)
assert_eq "NETWORK NAMESPACE TOPOLOGY SUBNETS EXTERNAL MTU ATTACHMENTS SPARES NODES" "$(head -1 <<<"$TXT" | tr -s ' ')" "networks: the default columns"
TXT=$(ctl 1 networks -o wide)
assert_eq "NETWORK NAMESPACE TOPOLOGY SUBNETS EXTERNAL MTU ATTACHMENTS SPARES NODES RESERVATIONS USED/FREE EXCLUDED SWITCH HOST-SUBNETS" "$(head -1 <<<"$TXT" | tr -s ' ')" "networks -o wide: more columns"
assert_eq "$TO testns layer2 10.10.10.0/24 - default 2 0 osn-node1,osn-node3 0 2/251 10.10.10.1 osn.$TO -" \
    "$(awk -v n="$TO" '$1 == n' <<<"$TXT" | tr -s ' ')" "networks -o wide: tenant-overlay's used/free and switch"
assert_eq "$GN testns layer2 10.30.0.0/24 - 1300 1 0 osn-node2 0 1/246 10.30.0.0/29, 10.30.0.1 osn.$GN -" \
    "$(awk -v n="$GN" '$1 == n' <<<"$TXT" | tr -s ' ')" "networks -o wide: green's used/free and exclusion"
TXT=$(ctl 1 --output wide attachments)
assert_eq "NETWORK POD CONTAINER INTERFACE NODE MAC IPS READY PORT NAD NETNS IDENTITY" "$(head -1 <<<"$TXT" | tr -s ' ')" "attachments -o wide (given before the command): more columns"
assert_contains "$(awk '$2 == "testns/a"' <<<"$TXT")" "/var/run/netns/$(sandbox_prefix)-pod-a (alive)" "attachments -o wide on node1: pod a's netns, alive"
TXT=$(ctl 1 networks --no-headers)
assert_eq "legacy $GN $RD $TO" "$(awk '{print $1}' <<<"$TXT" | tr '\n' ' ' | sed 's/ $//')" "networks --no-headers: rows only"
assert_eq "5" "$(ctl 1 attachments --no-headers | wc -l)" "attachments --no-headers: one line per attachment, no header"
assert_eq "" "$(ctl 1 attachments --ip 10.99.99.99 --no-headers)" "--no-headers: no 'nothing' line either"
assert_eq "$(ctl 1 networks -o json | jq -S .)" "$(ctl 1 networks --json | jq -S .)" "-o json is --json"
OUT=$(ctl 1 networks -o yaml 2>&1); rc=$?
assert_eq "2" "$rc" "-o of an unknown format: usage error"

# --- attachments --ip -------------------------------------------------------------
J=$(ctl 2 attachments --ip "$B_IP" --json); rc=$?
assert_eq "0" "$rc" "attachments --ip $B_IP: exit 0"
jq_eq "$J" '[.attachments[] | .pod + " " + .node + " " + .port] | join(",")' \
    "testns/b osn-node3 osn.$TO.cid-b.net1" "attachments --ip: exactly the pod that holds it"
assert_eq "testns/a" "$(ctl 2 attachments --ip "$A_MAC" --json | jq -r '[.attachments[].pod] | join(",")')" "attachments --ip MAC: the pod with that MAC"
assert_eq "testns/old" "$(ctl 2 attachments --ip "$OLD_IP" --json | jq -r '[.attachments[].pod] | join(",")')" "attachments --ip: an older osn's port, by its dynamic_addresses ($OLD_IP)"
OUT=$(ctl 2 attachments --ip 10.10.10.250 2>&1); rc=$?
assert_eq "1 no attachment holds that address" "$rc $OUT" "attachments --ip of a free address: exit 1, says so"
OUT=$(ctl 2 attachments --ip 10.10.10 2>&1); rc=$?
assert_eq "2" "$rc" "attachments --ip of something that is no address: usage error"

# --- show: effective MTU, exclusions, used/free -----------------------------------
J=$(ctl 1 show "$TO" --json)
jq_eq "$J" '[.network.mtu, .network.effective_mtu.value, .network.effective_mtu.source] | map(tostring) | join(" ")' \
    "null 1442 node overlay_mtu" "show: no MTU in the netconf -> the node's overlay MTU (1500 - 58)"
jq_eq "$J" '.network.usage | map([.subnet, .capacity, .used, .free] | map(tostring) | join(" ")) | join(",")' \
    "10.10.10.0/24 253 2 251" "show: tenant-overlay used/free"
assert_eq "1442" "$(in_pod a cat /sys/class/net/net1/mtu)" "the pod's MTU is what show says"
TXT=$(ctl 1 show "$TO")
assert_contains "$TXT" "mtu:             1442 (node overlay_mtu)" "show: the effective MTU in text"
assert_contains "$TXT" "addresses:       10.10.10.0/24: 2 used, 251 free of 253" "show: used/free in text"
J=$(ctl 1 show "$GN" --json)
jq_eq "$J" '[.network.effective_mtu.value, .network.effective_mtu.source, (.network.excluded | map(.range + " " + .source) | join(","))] | map(tostring) | join(" ")' \
    "1300 netconf 10.30.0.0/29 excludeSubnets,10.30.0.1 DHCP server" "show green: the netconf's MTU and its excludeSubnets"
jq_eq "$J" '.network.usage | map([.subnet, .capacity, .used, .free] | map(tostring) | join(" ")) | join(",")' \
    "10.30.0.0/24 247 1 246" "show green: 256 - broadcast - the /29 (with the network address)"
assert_eq "1300" "$(in_pod g cat /sys/class/net/net1/mtu)" "green's pod has MTU 1300"
assert_contains "$(ctl 2 show "$GN")" "excluded:        10.30.0.0/29" "show green: exclusion in text (not '-')"
J=$(ctl 2 show "$RD" --json)
jq_eq "$J" '[.network.effective_mtu.value, .network.effective_mtu.source] | map(tostring) | join(" ")' \
    "1500 node physical_mtu" "show red (external): the node's physical MTU"
assert_eq "1500" "$(in_pod c cat /sys/class/net/net1/mtu)" "red's pod has MTU 1500"
jq_eq "$J" '.network.usage | map([.capacity, .used] | map(tostring) | join(" ")) | join(",")' \
    "253 1" "show red: the physical gateway's address is not free"
jq_eq "$J" '.network.excluded | length > 0' "true" "show red: and it is listed as excluded"
J=$(ctl 1 show legacy --json)
jq_eq "$J" '.network.excluded | map(.range + " " + .source) | join(",")' \
    "10.40.0.1-10.40.0.9 OVN exclude_ips" "show legacy: OVN's exclude_ips of an older osn's network"
jq_eq "$J" '.network.usage | map([.subnet, .capacity, .used, .free] | map(tostring) | join(" ")) | join(",")' \
    "10.40.0.0/24 245 1 244" "show legacy: used/free from dynamic_addresses and exclude_ips"
assert_contains "$(ctl 1 show legacy)" "10.40.0.1-10.40.0.9 (OVN exclude_ips)" "show legacy: in text"

# --- trace across nodes -------------------------------------------------------------
OUT=$(ctl 1 trace testns/a "$B_IP"); rc=$?
assert_eq "0" "$rc" "trace a -> b's IP: exit 0"
assert_eq "delivered to osn.$TO.cid-b.net1 (pod testns/b on osn-node3)" "$OUT" "trace a (node1) -> b (node3): delivered to b, one line"
check "and the packet really gets there (ping a -> b)" wait_until 10 ping_ok a "$B_IP"
J=$(ctl 3 trace testns/b "$A_IP" --json)
jq_eq "$J" '[.result.verdict, .result.outputs[0].pod, .result.outputs[0].node] | join(" ")' \
    "delivered testns/a osn-node1" "trace --json b (node3) -> a: delivered to a on node1"
assert_contains "$(jq -r .microflow <<<"$J")" "inport == \"osn.$TO.cid-b.net1\" && eth.src == $B_MAC && eth.dst == $A_MAC && ip4.src == $B_IP && ip4.dst == $A_IP" "trace: the microflow from osn's records"
OUT=$(ctl 1 trace "osn.$TO.cid-a.net1" "$B_MAC"); rc=$?
assert_eq "0 delivered to osn.$TO.cid-b.net1 (pod testns/b on osn-node3)" "$rc $OUT" "trace to a MAC (L2), POD given as its port name"
OUT=$(ctl 1 trace testns/a "$G_IP"); rc=$?
assert_eq "1" "$rc" "trace a -> green pod's IP (another network): exit 1"
assert_contains "$OUT" "dropped in ls_in_" "trace a -> another network: dropped, naming the stage"
OUT=$(ctl 1 trace testns/a "$B_IP" tcp 80 --json); rc=$?
assert_eq "0 delivered" "$rc $(jq -r .result.verdict <<<"$OUT")" "trace a -> b tcp 80: delivered"
assert_contains "$(jq -r .microflow <<<"$OUT")" "&& tcp && tcp.src == 33333 && tcp.dst == 80" "trace tcp: the L4 part of the microflow"
assert_eq "0" "$(ctl 1 trace testns/a "$B_IP" icmp >/dev/null; echo $?)" "trace a -> b icmp: delivered"
OUT=$(ctl 1 trace testns/a "$B_IP" udp 0 2>&1); rc=$?
assert_eq "2" "$rc" "trace with udp port 0: usage error"
assert_contains "$(ctl 1 trace testns/old 10.40.0.99 2>&1)" "note: port osn.legacy.cid-old.net1 is not up" "trace from a port that is not up: says so"
OUT=$(ctl 1 trace testns/a 10.10.10.250); rc=$?
assert_eq "0 no osn port holds 10.10.10.250; its ARP request reaches osn.$TO.cid-b.net1 (pod testns/b on osn-node3), osn.$TO.dhcp (the network's DHCP server: a localport, it answers for its own address only)" \
    "$rc $OUT" "trace to an address nobody holds: the ARP request, flooded to the other pod"
OUT=$(ctl 2 trace testns/c 192.168.200.1); rc=$?
assert_eq "0 no osn port holds 192.168.200.1; its ARP request reaches osn.$RD.localnet (out to physical network physnet)" \
    "$rc $OUT" "trace c -> the physical gateway: out through the localnet port"
check "and the gateway answers (ping c -> 192.168.200.1)" wait_until 10 ping_ok c 192.168.200.1
OUT=$(ctl 1 trace testns/a "$B_IP" --detail)
assert_contains "$OUT" "ingress(dp=\"osn.$TO\"" "trace --detail: the whole ovn-trace answer"
assert_contains "$(head -1 <<<"$OUT")" "delivered to" "trace --detail: the verdict first"
OUT=$(OSN_CONFIG=$NOCONF "$OSNCTL" --nb "unix:$SANDBOX_DIR/nb.sock" --sb "unix:$SANDBOX_DIR/sb.sock" trace testns/b "$A_IP"); rc=$?
assert_eq "0 delivered to osn.$TO.cid-a.net1 (pod testns/a on osn-node1)" "$rc $OUT" "trace with --nb/--sb and no node config"
OUT=$(ctl 1 trace testns/nosuch "$B_IP" 2>&1); rc=$?
assert_eq "1" "$rc" "trace of an unknown pod: exit 1"
assert_contains "$OUT" "testns/nosuch" "and it names the pod"

# --- nodes ------------------------------------------------------------------------------
nbctl --wait=hv sync
J=$(ctl 1 nodes --json); rc=$?
assert_eq "0" "$rc" "nodes: exit 0"
want=""
for i in 1 2 3; do
    ip=$(sbctl --bare --columns=ip find Encap chassis_name=osn-node$i)
    want="$want osn-node$i:geneve $ip"
done
jq_eq "$J" '[.nodes[] | " " + .name + ":" + (.encaps | map(.type + " " + .ip) | join(","))] | join("")' \
    "$want" "nodes: every chassis with its encap IP (as the SB holds them)"
jq_eq "$J" '[.nodes[] | .tunnel.state] | join(" ")' "local up up" "nodes on node1: itself local, tunnels to the others up"
jq_eq "$J" '[.nodes[] | .physical_networks | map(.name + ":" + .bridge) | join(",")] | join(" ")' \
    "physnet:br-ex physnet:br-ex physnet:br-ex" "nodes: the physical networks each maps"
NB_CFG=$(nbctl get NB_Global . nb_cfg)
jq_eq "$J" '[.nodes[] | "\(.nb_cfg)/\(.nb_cfg_expected)/\(.nb_cfg_current)"] | join(" ")' \
    "$NB_CFG/$NB_CFG/true $NB_CFG/$NB_CFG/true $NB_CFG/$NB_CFG/true" "nodes: every ovn-controller caught up with NB's nb_cfg $NB_CFG"
assert_eq "NODE HOSTNAME ENCAP TUNNEL NB_CFG PHYSNETS" "$(ctl 1 nodes | head -1 | tr -s ' ')" "nodes: table header"
assert_contains "$(ctl 2 nodes | awk '$1 == "osn-node3"')" "up (link_state)" "nodes on node2: the tunnel to node3 up, and from what"
jq_eq "$(bare nodes --sb "unix:$SANDBOX_DIR/sb.sock" --json)" '[.nodes[] | .tunnel.state] | join(" ")' "unknown unknown unknown" \
    "nodes without a local OVS DB: tunnels unknown, not guessed"
# A chassis that falls behind: ovn-controller of node3 stopped (SIGSTOP,
# by its pid from the sandbox's pidfile) while NB moves on.
C3=$(cat "$SANDBOX_DIR/node3/ovn-controller.pid")
kill -STOP "$C3"
nbctl set NB_Global . nb_cfg=$((NB_CFG + 1))
behind() { ctl 1 nodes --json | jq -e '[.nodes[] | .nb_cfg_current] == [true, true, false]'; }
check "nodes: node3's ovn-controller stopped -> behind, the others catch up" wait_until 10 behind
assert_contains "$(ctl 1 nodes | awk '$1 == "osn-node3"')" "$NB_CFG (behind $((NB_CFG + 1)))" "nodes: says 'behind' with both numbers"
kill -CONT "$C3"
caught_up() { ctl 1 nodes --json | jq -e '[.nodes[] | .nb_cfg_current] == [true, true, true]'; }
check "nodes: node3 catches up once it runs again" wait_until 10 caught_up

# --- a pod whose netns is gone is not ready --------------------------------------------
pod_del a >/dev/null
J=$(ctl 1 attachments --network "$TO" --json)
jq_eq "$J" '.attachments[] | select(.pod == "testns/a") | [.ready, .netns_state] | map(tostring) | join(" ")' \
    "false gone" "attachments on node1: pod a's netns is gone -> not ready"
jq_eq "$J" '.attachments[] | select(.pod == "testns/b") | .ready' "true" "pod b (node3) still ready"
assert_contains "$(ctl 1 attachments | awk '$2 == "testns/a"')" "no (netns gone)" "attachments: says why in text"
assert_contains "$(ctl 1 show "$TO" | awk '$1 == "testns/a"')" "no (netns gone)" "show: the same"

# --- man pages and completion, generated from --help -------------------------------------
MAN=$OSN_BUILD/src/osnctl/osnctl.8
PMAN=$OSN_BUILD/src/osnctl/ovn-kubernetes.8
COMP=$OSN_BUILD/src/osnctl/osnctl.bash
check "osnctl.8, ovn-kubernetes.8 and osnctl.bash were built and are not empty" test -s "$MAN" -a -s "$PMAN" -a -s "$COMP"
CMDS=$("$OSNCTL" --help | awk '/^Commands:/ { c = 1; next } c && /^$/ { exit } c && /^  [a-z]/ { print $1 }')
assert_eq "networks attachments show nodes trace status gc reservations release validate" "$(echo $CMDS)" "--help lists every command"
missing_man="" missing_comp=""
for c in $CMDS; do
    grep -qx ".SS $c" "$MAN" || missing_man="$missing_man $c"
    grep -q "^    $c) " "$COMP" || missing_comp="$missing_comp $c"
done
assert_eq "" "$missing_man" "osnctl.8 has a section for every command"
assert_eq "" "$missing_comp" "the completion knows every command"
assert_contains "$(sed -n '/^.SS trace/,/^.SS/p' "$MAN")" "ovn\\-trace" "the man page carries the command's --help text"
assert_contains "$(cat "$PMAN")" "CNI_COMMAND" "the plugin's man page carries its --help text"
if command -v groff >/dev/null; then
    assert_eq "" "$(groff -man -ww -z "$MAN" "$PMAN" 2>&1)" "groff reads both pages without a warning"
fi
check "the completion is valid bash" bash -n "$COMP"
complete_words() {
    bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _osnctl; echo "${COMPREPLY[*]}"' _ "$COMP" "$@"
}
assert_eq "show status" "$(complete_words osnctl s)" "completion: commands"
assert_contains "$(complete_words osnctl attachments --i)" "--ip" "completion: a command's options"
assert_contains "$(complete_words osnctl trace --d)" "--detail" "completion: trace's options"

finish
