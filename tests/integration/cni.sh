# shellcheck shell=bash
# cni.sh: sourced after lib.sh by the tests that drive the osn CNI plugin.
#
#   cni NODE VERB CONTAINER_ID NETNS IFNAME CONFIG [CNI_ARGS]
#       runs the plugin on NODE as a runtime would; stdout is its JSON; the
#       exit status is the plugin's.  NETNS may be "" (e.g. DEL without one).
#       CNI_ARGS defaults to K8S_POD_NAMESPACE=testns (the pods' namespace
#       throughout, so their networks are testns/<name>).
#   attach NODE POD NET_CONFIG [IFNAME]  -> pod netns + ADD; result in $RESULT
#   pod_ip POD [IFNAME] [FAMILY]         -> the pod interface's first address
#   in_pod POD CMD...                    -> run CMD in the pod's netns
#   nothing_left                         -> asserts no osn veth, OVS port,
#                                           logical port or switch is left

PLUGIN=${PLUGIN:-$OSN_BUILD/src/plugin/ovn-kubernetes}

# plugin_test_up N: what every plugin test needs first (root, the tools, the
# built plugin, jq; each skips with its reason), then an N-node sandbox.
plugin_test_up() {
    require_root_and_tools
    require_built "$PLUGIN"
    command -v jq >/dev/null || skip "missing jq (scripts/deps.sh installs it)"
    sandbox_up "$1"
}
export PLUGIN
# The plugin is an ASan build under `make check`: make leaks fatal there too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}

cni() {
    # Without a 7th argument, CNI_ARGS names namespace testns, as a kubelet
    # always does (the network is testns's, tenancy); "" sends none.
    local node=$1 verb=$2 cid=$3 netns=$4 ifname=$5 conf=$6 args=${7-IgnoreUnknown=1;K8S_POD_NAMESPACE=testns}
    on "$node" env CNI_COMMAND="$verb" CNI_CONTAINERID="$cid" CNI_NETNS="$netns" \
        CNI_IFNAME="$ifname" CNI_PATH=/opt/cni/bin \
        CNI_ARGS="$args" "$PLUGIN" <<<"$conf"
}

# pod_netns POD: the path of a pod made by pod_add.
pod_netns() { echo "/var/run/netns/$(sandbox_prefix)-pod-$1"; }

in_pod() {
    local pod=$1
    shift
    ip netns exec "$(sandbox_prefix)-pod-$pod" "$@"
}

# attach NODE POD CONFIG [IFNAME] [CNI_ARGS]: creates the pod netns (if
# needed) and runs ADD with container id "cid-POD"; sets RESULT and returns
# the plugin's status.
attach() {
    local node=$1 pod=$2 conf=$3 ifname=${4:-net1} args=${5:-}
    local ns=/var/run/netns/$(sandbox_prefix)-pod-$pod
    [[ -e "$ns" ]] || pod_add "$pod" >/dev/null
    RESULT=$(cni "$node" ADD "cid-$pod" "$ns" "$ifname" "$conf" \
        "IgnoreUnknown=1;K8S_POD_NAMESPACE=testns;K8S_POD_NAME=$pod;K8S_POD_INFRA_CONTAINER_ID=cid-$pod$args")
}

detach() {
    local node=$1 pod=$2 conf=$3 ifname=${4:-net1}
    local ns=/var/run/netns/$(sandbox_prefix)-pod-$pod
    cni "$node" DEL "cid-$pod" "$ns" "$ifname" "$conf" \
        "IgnoreUnknown=1;K8S_POD_NAMESPACE=testns;K8S_POD_NAME=$pod"
}

# pod_ip POD [IFNAME] [4|6]: the first global address (without prefix).
pod_ip() {
    local pod=$1 ifname=${2:-net1} fam=${3:-4}
    in_pod "$pod" ip -"$fam" -o addr show dev "$ifname" scope global 2>/dev/null |
        awk '{split($4, a, "/"); print a[1]; exit}'
}

# ping_ok FROM_POD ADDR: bounded ping.
ping_ok() { in_pod "$1" ping -c 2 -i 0.2 -W 2 "$2" >/dev/null 2>&1; }
ping6_ok() { in_pod "$1" ping -6 -c 2 -i 0.2 -W 2 "$2" >/dev/null 2>&1; }

osn_switches() { nbctl --bare --columns=name find Logical_Switch 'external_ids:"osn/network"!=""' 2>/dev/null | sed '/^$/d'; }
# osn_lsps: osn's logical ports but the DHCP servers' (localports, made and
# removed with their switch: infrastructure, not attachments);
# osn_all_lsps: all of them.
osn_lsps() { nbctl --bare --columns=name find Logical_Switch_Port 'external_ids:"osn/network"!=""' 'type!=localport' 2>/dev/null | sed '/^$/d'; }
osn_all_lsps() { nbctl --bare --columns=name find Logical_Switch_Port 'external_ids:"osn/network"!=""' 2>/dev/null | sed '/^$/d'; }

# nothing_left: no osn veth on any node (nor a warm port's waiting end,
# osw...), no osn OVS port, no osn logical
# port or switch.
nothing_left() {
    local what=${1:-nothing left} n bad=""
    local nodes
    nodes=$(sed -n 's/^NODES=//p' "$SANDBOX_DIR/.osn-sandbox")
    for n in $(seq 1 "$nodes"); do
        local links ports
        links=$(on "$n" ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | grep -E '^os[nw]' || true)
        ports=$(vsctl "$n" --bare --columns=name find Interface 'external_ids:"osn/network"!=""' 2>/dev/null | sed '/^$/d' || true)
        [[ -z "$links" ]] || bad="$bad node$n veths: $(echo "$links" | tr '\n' ' ');"
        [[ -z "$ports" ]] || bad="$bad node$n OVS ports: $(echo "$ports" | tr '\n' ' ');"
    done
    local lsps sws
    lsps=$(osn_all_lsps)
    sws=$(osn_switches)
    [[ -z "$lsps" ]] || bad="$bad logical ports: $(echo "$lsps" | tr '\n' ' ');"
    [[ -z "$sws" ]] || bad="$bad switches: $(echo "$sws" | tr '\n' ' ');"
    if [[ -z "$bad" ]]; then ok "$what"; else fail "$what:$bad"; fi
}

# jq_eq JSON FILTER EXPECTED DESCRIPTION
jq_eq() {
    local got
    got=$(jq -r "$2" <<<"$1" 2>/dev/null)
    assert_eq "$3" "$got" "$4"
}

# expect_ok DESCRIPTION CMD...: runs CMD in this shell (so attach can set
# RESULT); PASS when it succeeds, else FAIL with the plugin's answer.
expect_ok() {
    local what=$1
    shift
    RESULT=""
    if "$@" >/dev/null; then ok "$what"; else fail "$what: ${RESULT:-}"; fi
}
