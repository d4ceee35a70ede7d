#!/usr/bin/env bash
# Day-2 safety on the sandbox with real OVN:
# - osnctl run where it cannot see the host's network namespaces (a
#   container-like mount namespace with an empty /var/run/netns) says
#   "unknown", never "gone", for live pods, and gc deletes nothing it cannot
#   see (exits 1, saying where to run it), while a pod that OVS itself says
#   is gone is still collected;
# - the fix the plugin suggests for a missing bridge mapping, pasted as it
#   is (BRIDGE named), maps the network and keeps the existing mappings;
# - the metrics textfile after a churn of ADDs, DELs and failures parses
#   with Prometheus' own parser and counts what was done.
# The plugin's networks are keyed by the pods' namespace (testns/<name>,
# tenancy).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
OSNCTL=${OSNCTL:-$OSN_BUILD/src/osnctl/osnctl}
export OSNCTL
require_built "$OSNCTL"
export OSN_POOL_SIZE=0
# The bridge-mapping case attaches to physical network "datacenter": granted
# here (with the sandbox's default, physnet) so that the ADD gets past the
# grant (code 104) to the missing mapping (code 7).  osn-sandbox writes this
# into every node's osn.json.
export OSN_PHYSICAL_NETWORKS='{"physnet": {"*": "*"}, "datacenter": {"*": "*"}}'
plugin_test_up 2

ctl() {
    local node=$1
    shift
    on "$node" "$OSNCTL" "$@"
}
# blind NODE ARGS...: osnctl on NODE in a mount namespace of its own with
# an empty tmpfs over /var/run/netns, as in a container without the
# host's namespaces.
blind() {
    local node=$1
    shift
    on "$node" unshare -m --propagation private sh -c \
        'mount -t tmpfs osn-test-blind /var/run/netns && exec "$@"' sh "$OSNCTL" "$@"
}

NET='{"cniVersion": "0.4.0", "type": "ovn-k8s-cni-overlay", "name": "blue", "topology": "layer2", "subnets": "10.30.0.0/24"}'
BL=testns/blue # its key: the pods' namespace (cni.sh's testns) and the name
expect_ok "ADD pod a (node1)" attach 1 a "$NET"
expect_ok "ADD pod b (node1)" attach 1 b "$NET"
expect_ok "ADD pod c (node1)" attach 1 c "$NET"
expect_ok "ADD pod d (node2)" attach 2 d "$NET"
check "pod a reaches pod d" wait_until 10 ping_ok a "$(pod_ip d)"

# --- osnctl where it cannot see the host's namespaces --------------------------
J=$(blind 1 attachments --json --node osn-node1)
jq_eq "$J" '[.attachments[] | .pod_name + ":" + .netns_state] | sort | join(",")' \
    "a:unknown,b:unknown,c:unknown" "blind attachments: live pods are unknown, not gone"
jq_eq "$J" '[.attachments[] | .ready] | all' "true" "blind attachments: still ready as OVN says"
jq_eq "$J" '.attachments[0].netns_why | test("run it on the node")' "true" "blind attachments: says where to run"
TXT=$(blind 1 attachments)
assert_contains "$TXT" "yes (netns unknown)" "blind attachments (text): READY says unknown"
check_fails "blind attachments (text): never \"netns gone\"" grep -q "netns gone" <<<"$TXT"
# Pod c dies for real: OVS sees its veth go, so even the blind view knows.
HOSTC=$(vsctl 1 --bare --columns=name find Interface "external_ids:iface-id=\"osn.$BL.cid-c.net1\"")
pod_del c
veth_gone() { [[ "$(vsctl 1 get Interface "$HOSTC" link_state)" == down ]]; }
check "OVS notices that pod c's veth is gone" wait_until 10 veth_gone
J=$(blind 1 gc --dry-run --json); rc=$?
assert_eq "1" "$rc" "blind gc --dry-run: exit 1 (it cannot see everything)"
jq_eq "$J" '[.actions[] | .object + ":" + (.port // .network)] | join(",")' \
    "attachment:osn.$BL.cid-c.net1" "blind gc --dry-run: only the pod OVS says is gone"
jq_eq "$J" '[.kept[] | select(.netns == "unknown") | .name] | sort | join(",")' \
    "osn.$BL.cid-a.net1,osn.$BL.cid-b.net1" "blind gc --dry-run: the live pods are left alone, as unknown"
ERR=$(blind 1 gc 2>&1 >/dev/null); rc=$?
assert_eq "1" "$rc" "blind gc: exit 1"
assert_contains "$ERR" "run osnctl gc on node osn-node1 itself" "blind gc: says where to run it"
LSPS=$(osn_lsps | sort | tr '\n' ' ')
assert_eq "osn.$BL.cid-a.net1 osn.$BL.cid-b.net1 osn.$BL.cid-d.net1 " "$LSPS" "blind gc: removed pod c only; a, b and d stay"
check "pod a still reaches pod d" ping_ok a "$(pod_ip d)"
# Without the local OVS DB: unknown too, and gc removes nothing.
J=$(ctl 1 attachments --json)
jq_eq "$J" '[.attachments[] | select(.node == "osn-node1") | .pod_name + ":" + .netns_state] | join(",")' \
    "a:alive,b:alive" "on the node itself: alive"
jq -c '.ovs_remote = "unix:/nonexistent/db.sock"' "$SANDBOX_DIR/node1/osn.json" >"$SANDBOX_DIR/noovs.json"
J=$(on 1 "$OSNCTL" -c "$SANDBOX_DIR/noovs.json" attachments --json)
jq_eq "$J" '[.attachments[] | select(.node == "osn-node1") | .netns_state] | unique | join(",")' \
    "unknown" "without the local OVS DB: this node's attachments are unknown"
check_fails "without the local OVS DB: gc fails" on 1 "$OSNCTL" -c "$SANDBOX_DIR/noovs.json" gc --timeout 2000
assert_eq "osn.$BL.cid-a.net1 osn.$BL.cid-b.net1 osn.$BL.cid-d.net1 " "$(osn_lsps | sort | tr '\n' ' ')" "and removes nothing"

# --- the fix the plugin suggests, pasted ------------------------------------------
MAPS0=$(vsctl 1 get Open_vSwitch . external_ids:ovn-bridge-mappings | tr -d '"')
assert_eq "physnet:br-ex" "$MAPS0" "node1 maps physnet to br-ex"
DC='{"cniVersion": "0.4.0", "type": "ovn-k8s-cni-overlay", "name": "dc", "topology": "localnet", "physicalNetworkName": "datacenter", "subnets": "10.40.0.0/24"}'
PHYS='{"cniVersion": "0.4.0", "type": "ovn-k8s-cni-overlay", "name": "phys", "topology": "localnet", "physicalNetworkName": "physnet", "subnets": "10.50.0.0/24"}'
check_fails "ADD to a physical network node1 does not map fails" attach 1 m "$DC"
jq_eq "$RESULT" '.code' "7" "code 7"
jq_eq "$RESULT" '.msg | test("keeping the others")' "true" "the message says the fix keeps the other mappings"
FIX=$(jq -r '.details | sub(" [(]BRIDGE: .*$"; "")' <<<"$RESULT")
assert_contains "$FIX" "ovn-bridge-mappings=\"physnet:br-ex,datacenter:BRIDGE\"" "the fix lists every existing mapping plus the new one"
on 1 ovs-vsctl add-br br-dc
check "the fix, pasted with BRIDGE named, runs" on 1 bash -c "${FIX//BRIDGE/br-dc}"
assert_eq "physnet:br-ex,datacenter:br-dc" "$(vsctl 1 get Open_vSwitch . external_ids:ovn-bridge-mappings | tr -d '"')" "node1 now maps both"
expect_ok "ADD to that physical network now works" attach 1 m "$DC"
expect_ok "and the existing mapping still serves its network (node1)" attach 1 p "$PHYS"
expect_ok "(node2)" attach 2 q "$PHYS"
check "pod p reaches pod q over physnet" wait_until 10 ping_ok p "$(pod_ip q)"
jq_eq "$(ctl 1 status --json)" '.default_physical_network.mapped' "true" "status: the default physical network is still mapped"

# --- metrics: the textfile after a churn ----------------------------------------
# Debian's python3 with python3-prometheus-client (scripts/deps.sh).
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
# Node1 writes its metrics to a file of this sandbox, pools on (2 spares).
M=$SANDBOX_DIR/node1/metrics/osn.prom
mkdir -p "$SANDBOX_DIR/node1/metrics"
jq -c --arg m "$M" '.metrics_file = $m | .pool_size = 2' "$SANDBOX_DIR/node1/osn.json" >"$SANDBOX_DIR/node1/osn.json.new" &&
    mv "$SANDBOX_DIR/node1/osn.json.new" "$SANDBOX_DIR/node1/osn.json"
CH='{"cniVersion": "0.4.0", "type": "ovn-k8s-cni-overlay", "name": "churn", "topology": "layer2", "subnets": "10.60.0.0/24"}'
BAD='{"cniVersion": "0.4.0", "type": "ovn-k8s-cni-overlay", "name": "churn", "subnets": "10.60.0.0/24"}'
for i in 1 2 3 4 5 6; do
    expect_ok "churn: ADD pod n$i" attach 1 "n$i" "$CH"
    [[ $i == 4 ]] && CHECK_CONF=$(jq -c --argjson r "$RESULT" '. + {prevResult: $r}' <<<"$CH")
done
expect_ok "churn: ADD pod s with a requested MAC (no pool)" attach 1 s "$CH" net1 ";MAC=0a:58:0a:3c:00:99"
check_fails "churn: ADD with a bad config fails" attach 1 f1 "$BAD"
check_fails "churn: and again" attach 1 f2 "$BAD"
CLAIMS=$(ctl 1 attachments --network testns/churn --json | jq '[.attachments[] | select(.pod_name | test("^n")) | select(.port | test("[.]spare[.]"))] | length')
for i in 1 2 3; do
    check "churn: DEL pod n$i" detach 1 "n$i" "$CH"
done
check "churn: CHECK pod n4" cni 1 CHECK cid-n4 "$(pod_netns n4)" net1 "$CHECK_CONF" \
    "IgnoreUnknown=1;K8S_POD_NAMESPACE=testns;K8S_POD_NAME=n4"
check "the metrics file is there" test -s "$M"
check_fails "no temporary file left beside it" compgen -G "$M.tmp.*"
PARSED=$("$PY" - "$M" <<'PY'
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = {}
for fam in text_string_to_metric_families(open(sys.argv[1]).read()):
    for s in fam.samples:
        key = s.name + "".join("|%s=%s" % kv for kv in sorted(s.labels.items()))
        out[key] = s.value
    out["type:" + fam.name] = fam.type
print(json.dumps(out))
PY
) || fail "prometheus_client cannot parse the metrics file"
m() { jq -r --arg k "$1" '.[$k] // "absent"' <<<"$PARSED"; }
assert_eq "7" "$(m 'osn_cni_requests_total|code=0|verb=ADD')" "metrics: 7 ADDs succeeded"
assert_eq "2" "$(m 'osn_cni_requests_total|code=7|verb=ADD')" "metrics: 2 ADDs failed with code 7"
assert_eq "3" "$(m 'osn_cni_requests_total|code=0|verb=DEL')" "metrics: 3 DELs"
assert_eq "1" "$(m 'osn_cni_requests_total|code=0|verb=CHECK')" "metrics: 1 CHECK"
assert_eq "histogram" "$(m 'type:osn_cni_request_duration_seconds')" "metrics: the latencies are a histogram"
assert_eq "9" "$(m 'osn_cni_request_duration_seconds_count|verb=ADD')" "metrics: 9 ADD latencies"
assert_eq "9" "$(m 'osn_cni_request_duration_seconds_bucket|le=+Inf|verb=ADD')" "metrics: the +Inf bucket holds them all"
jq_eq "$PARSED" '.["osn_cni_request_duration_seconds_sum|verb=ADD"] > 0' "true" "metrics: their sum is positive"
assert_eq "$CLAIMS" "$(m 'osn_pool_claims_total')" "metrics: pool claims = the ports that are spares ($CLAIMS)"
assert_eq "$((6 - CLAIMS))" "$(m 'osn_pool_misses_total')" "metrics: pool misses = the other dynamic ADDs"
assert_eq "0" "$(m 'osn_metrics_skipped_total')" "metrics: nothing skipped"
P=$(ctl 1 status -o prometheus)
assert_contains "$P" 'osn_cni_requests_total{verb="ADD",code="0"} 7' "status -o prometheus: the node's counts"
assert_contains "$P" 'osn_node_probe_ok{probe="nb"} 1' "status -o prometheus: and its probes"
"$PY" -c 'import sys; from prometheus_client.parser import text_string_to_metric_families as p; list(p(sys.stdin.read()))' <<<"$P" &&
    ok "status -o prometheus parses" || fail "status -o prometheus does not parse"
check_fails "-o prometheus is refused by other commands" ctl 1 networks -o prometheus
# A busy lock: the ADD does not wait for it, and the skip is counted later.
# The lock is held by a process of its own: a descriptor of this shell's
# would be inherited by the plugin and by its detached tail (the
# announcements' repeats), and so held for seconds after it is closed here.
"$PY" -c 'import fcntl, sys, time
f = open(sys.argv[1], "a"); fcntl.flock(f, fcntl.LOCK_EX); print("locked", flush=True); time.sleep(60)' \
    "$M.lock" >"$SANDBOX_DIR/locker.out" &
LOCKER=$!
wait_until 5 grep -q locked "$SANDBOX_DIR/locker.out" || fail "could not take the metrics lock"
T0=$(date +%s%N)
expect_ok "ADD while the metrics lock is held" attach 1 n7 "$CH"
T1=$(date +%s%N)
kill "$LOCKER"
wait "$LOCKER" 2>/dev/null
expect_ok "ADD after it is released" attach 1 n8 "$CH"
# The plugin answers first and counts right after (its tail): wait for the
# update, bounded.
parse_metrics() {
    PARSED=$("$PY" -c 'import json,sys; from prometheus_client.parser import text_string_to_metric_families as p
print(json.dumps({s.name + "".join("|%s=%s" % kv for kv in sorted(s.labels.items())): s.value for f in p(open(sys.argv[1]).read()) for s in f.samples}))' "$M")
}
for _ in $(seq 1 50); do
    parse_metrics
    [[ $(m 'osn_cni_requests_total|code=0|verb=ADD') == 8 ]] && break
    sleep 0.1
done
assert_eq "8" "$(m 'osn_cni_requests_total|code=0|verb=ADD')" "metrics: the ADD under a busy lock was not counted"
assert_eq "1" "$(m 'osn_metrics_skipped_total')" "metrics: but counted as skipped"
echo "# ADD under a held metrics lock took $(((T1 - T0) / 1000000)) ms"
jq -c '.metrics_file = "-"' "$SANDBOX_DIR/node1/osn.json" >"$SANDBOX_DIR/node1/osn.json.new" &&
    mv "$SANDBOX_DIR/node1/osn.json.new" "$SANDBOX_DIR/node1/osn.json"
expect_ok "metrics_file \"-\": ADD works" attach 1 n9 "$CH"
sleep 1 # what an update after the answer would have written by now
assert_eq "8.0" "$("$PY" -c 'import sys; from prometheus_client.parser import text_string_to_metric_families as p
print([s.value for f in p(open(sys.argv[1]).read()) for s in f.samples if s.name == "osn_cni_requests_total" and s.labels == {"verb": "ADD", "code": "0"}][0])' "$M")" "metrics_file \"-\": nothing written"

# --- views: a live migration, a reservation, a trace through pool ports -----------
VM='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"vmnet","topology":"layer2",
      "subnets":"10.70.0.0/24","allowPersistentIPs":true,"netAttachDefName":"testns/vmnet",
      "args":{"cni":{"ipam-claim-reference":"testns/vm1.net1"}}}'
expect_ok "migration: the source's ADD (vsrc, node1)" attach 1 vsrc "$VM"
expect_ok "migration: the target's ADD (vdst, node2)" attach 2 vdst "$VM"
J=$(ctl 1 attachments --network testns/vmnet --json)
jq_eq "$J" '.attachments | length' "2" "during the migration: both sides are listed"
jq_eq "$J" '[.attachments[] | [.pod, .container_id, .node, .migration.role, .identity] | join(" ")] | join(",")' \
    "testns/vsrc cid-vsrc osn-node1 source testns/vm1.net1,testns/vdst cid-vdst osn-node2 target testns/vm1.net1" \
    "during the migration: each side's pod, container, node, role and the identity"
jq_eq "$J" '[.attachments[] | .migration.since | type] | unique | join(",")' "number" "during the migration: since when"
jq_eq "$J" '[.attachments[].port] | unique | length' "1" "one logical port for both"
TXT=$(ctl 1 attachments --network testns/vmnet)
assert_contains "$TXT" "(migrating to osn-node2, " "text: the source row says where to"
assert_contains "$TXT" "(migrating from osn-node1, " "text: the target row says where from"
assert_contains "$(ctl 1 attachments --network testns/vmnet -o wide)" "testns/vm1.net1" "text -o wide: the identity"
expect_ok "migration: the source's DEL hands over" detach 1 vsrc "$VM"
J=$(ctl 1 attachments --network testns/vmnet --json)
jq_eq "$J" '[.attachments[] | [.pod, .container_id, .interface, .node, (.migration | tostring)] | join(" ")] | join(",")' \
    "testns/vdst cid-vdst net1 osn-node2 null" "after the handover: the target's pod and container, consistently"
expect_ok "the last DEL leaves a reservation" detach 2 vdst "$VM"
J=$(ctl 1 networks --json)
jq_eq "$J" '.networks[] | select(.name == "testns/vmnet") | [.attachments, .reservations] | map(tostring) | join(" ")' \
    "0 1" "networks: a reservation is no attachment, and is counted apart"
jq_eq "$(ctl 1 attachments --network testns/vmnet --json)" '.attachments | length' "0" "attachments: the reservation is not listed"
assert_contains "$(ctl 1 reservations)" "testns/vm1.net1" "reservations: listed there"
check "release it" ctl 1 release testns/vmnet testns/vm1.net1

# trace: pool ports by their whole names and their pods; idle spares hidden.
IPN5=$(pod_ip n5)
J=$(ctl 1 trace testns/n4 "$IPN5" --json)
P5=$(ctl 1 attachments --network testns/churn --json | jq -r '.attachments[] | select(.pod_name == "n5") | .port')
jq_eq "$J" '[.result.outputs[] | .port + " " + .pod] | join(",")' "$P5 testns/n5" "trace to a claimed pool port: its whole name and its pod"
TXT=$(ctl 1 trace testns/n4 "$IPN5")
assert_contains "$TXT" "delivered to $P5 (pod testns/n5 on osn-node1)" "trace (text): the whole name and the pod"
# An address no port of churn holds (addresses are the allocator's choice).
HELD=$(nbctl --bare --columns=addresses find Logical_Switch_Port 'external_ids:"osn/network"="testns/churn"' | tr ' ' '\n')
FREE=""
for i in $(seq 250 -1 200); do grep -qx "10.60.0.$i" <<<"$HELD" || { FREE=10.60.0.$i; break; }; done
TXT=$(ctl 1 trace testns/n4 "$FREE")
assert_contains "$TXT" "idle spare port(s) of the pool" "an ARP trace counts the idle spares ($FREE)"
check_fails "and does not list them" grep -q "a pool's spare" <<<"$TXT"
N_SHOWN=$(grep -o "(pod testns/" <<<"$TXT" | wc -l)
assert_eq "$(ctl 1 attachments --network testns/churn --json | jq '[.attachments[] | select(.node == "osn-node1")] | length - 1')" \
    "$N_SHOWN" "an ARP trace names the pod of every other attachment it reaches"

# --- tenancy views: scopes set by hand on the switches ----------------------------
# blue stays as the plugin made it (scope namespace, testns); churn becomes a
# cluster network, dc one of scope none, phys one from before tenancy.
nbctl set Logical_Switch osn.testns/churn 'external_ids:"osn/scope"=cluster' 'external_ids:"osn/namespaces"="tenant-b,tenant-c"' \
    -- remove Logical_Switch osn.testns/churn external_ids '"osn/namespace"'
nbctl set Logical_Switch osn.testns/dc 'external_ids:"osn/scope"=none' \
    -- remove Logical_Switch osn.testns/dc external_ids '"osn/namespace"'
nbctl remove Logical_Switch osn.testns/phys external_ids '"osn/scope"' '"osn/namespace"' '"osn/name"'
J=$(ctl 1 networks --json)
jq_eq "$J" '[.networks[] | .name + "=" + .namespace] | join(" ")' \
    "testns/blue=testns testns/churn=cluster(tenant-b,tenant-c) testns/dc=none testns/phys=legacy" "networks: NAMESPACE from osn/scope (JSON)"
jq_eq "$J" '.networks[] | select(.name == "testns/churn") | [.scope, (.namespaces | join(","))] | join(" ")' \
    "cluster tenant-b,tenant-c" "networks --json: scope and granted namespaces"
TXT=$(ctl 1 networks)
assert_eq "testns/blue testns" "$(awk '$1 == "testns/blue" {print $1, $2}' <<<"$TXT")" "networks (text): NAMESPACE column"
assert_eq "testns/churn cluster(tenant-b,tenant-c)" "$(awk '$1 == "testns/churn" {print $1, $2}' <<<"$TXT")" "networks (text): a cluster network and its namespaces"
assert_eq "testns/blue testns/phys" "$(ctl 1 networks -n testns --no-headers | awk '{print $1}' | tr '\n' ' ' | sed 's/ $//')" \
    "networks -n testns: its own network and the legacy ones its pods use"
assert_eq "testns/churn" "$(ctl 1 networks -n tenant-b --no-headers | awk '{print $1}')" "networks -n tenant-b: the cluster network granted to it"
assert_eq "no osn networks in that namespace" "$(ctl 1 networks --namespace nobody)" "networks -n with nothing"
jq_eq "$(ctl 1 networks -A --json)" '.networks | length' "4" "networks -A: all"
check_fails "-n and -A together: usage error" ctl 1 networks -n testns -A
jq_eq "$(ctl 1 attachments -n testns --json)" '[.attachments[].pod_namespace] | unique | join(",")' "testns" "attachments -n testns: its pods"
jq_eq "$(ctl 1 attachments -n other --json)" '.attachments | length' "0" "attachments -n other: none"
check "gc -n is still --dry-run" ctl 1 gc -n --json

finish
