#!/usr/bin/env bash
# shell-attach.sh: the attach osn does, written as a shell script with
# ovn-nbctl, ovs-vsctl and ip: the benchmark's "what if we just scripted it"
# peer.  Called like a CNI plugin (CNI_COMMAND ADD|DEL, CNI_CONTAINERID,
# CNI_NETNS, CNI_IFNAME), inside the node's netns (OVS_RUNDIR points at the
# node's OVS, so plain ovs-vsctl talks to it).  The network comes from the
# environment, not from a netconf (parsing JSON in shell would only add to its
# time):
#   SHELL_NB       NB remote, e.g. unix:/tmp/x/nb.sock (required)
#   SHELL_NET      network name (default shell-overlay); switch "shell.<net>"
#   SHELL_SUBNET   IPv4 subnet for OVN's IPAM (default 10.10.30.0/24)
#   SHELL_MTU      pod MTU (default 1442)
#   SHELL_TIMEOUT  bound of every wait, seconds (default 20)
#
# ADD: switch (created if missing, other_config:subnet) and port ("MAC
# dynamic") in one ovn-nbctl call; wait for northd's dynamic_addresses; veth
# created with its peer in the pod netns; TX checksum off in the pod (as osn
# does on the userspace datapath); host end on br-int with iface-id; wait for
# external_ids:ovn-installed; address and link up in the pod; a CNI result.
# It does not pin port_security (osn does, in one more NB transaction):
# that favours the script.
# DEL: OVS port, veth, logical port; the switch when it has no port left.
set -euo pipefail

die() {
    printf '{"cniVersion":"0.3.1","code":11,"msg":"shell-attach: %s"}\n' "$*"
    exit 1
}

NB=${SHELL_NB:?SHELL_NB not set}
NET=${SHELL_NET:-shell-overlay}
SUBNET=${SHELL_SUBNET:-10.10.30.0/24}
MTU=${SHELL_MTU:-1442}
T=${SHELL_TIMEOUT:-20}
SW="shell.$NET"
PORT="shell.$NET.$CNI_CONTAINERID.$CNI_IFNAME"
sum=$(printf %s "$PORT" | sha1sum)
HOST="sh${sum:0:12}"
# A locally administered unicast MAC from the same hash.
MAC="0a:${sum:12:2}:${sum:14:2}:${sum:16:2}:${sum:18:2}:${sum:20:2}"
POD=${CNI_NETNS##*/}   # ip -n wants the name under /var/run/netns

nbctl() { ovn-nbctl --db="$NB" --timeout="$T" "$@"; }

case "$CNI_COMMAND" in
ADD)
    nbctl --may-exist ls-add "$SW" \
        -- set Logical_Switch "$SW" other_config:subnet="$SUBNET" \
        -- lsp-add "$SW" "$PORT" \
        -- lsp-set-addresses "$PORT" "$MAC dynamic" ||
        die "cannot create port $PORT"
    dyn=$(nbctl wait-until Logical_Switch_Port "$PORT" 'dynamic_addresses!=[]' \
        -- get Logical_Switch_Port "$PORT" dynamic_addresses) ||
        die "no address for $PORT within ${T}s"
    dyn=${dyn//\"/}        # "0a:..:.. 10.10.30.5"
    ip=${dyn#* }
    ip link add "$HOST" mtu "$MTU" type veth peer name "$CNI_IFNAME" mtu "$MTU" \
        address "$MAC" netns "$CNI_NETNS" || die "veth"
    ip link set "$HOST" up
    ip netns exec "$POD" ethtool -K "$CNI_IFNAME" tx off >/dev/null 2>&1 || true
    ovs-vsctl --timeout="$T" add-port br-int "$HOST" \
        -- set Interface "$HOST" external_ids:iface-id="$PORT" \
        external_ids:attached-mac="$MAC" || die "add-port $HOST"
    ovs-vsctl --timeout="$T" wait-until Interface "$HOST" external_ids:ovn-installed='"true"' ||
        die "$PORT not installed within ${T}s"
    ip -n "$POD" -batch - <<EOF
addr add $ip/${SUBNET#*/} dev $CNI_IFNAME
link set $CNI_IFNAME up
EOF
    printf '{"cniVersion":"0.3.1","interfaces":[{"name":"%s","mac":"%s","sandbox":"%s"}],"ips":[{"version":"4","address":"%s/%s","interface":0}]}\n' \
        "$CNI_IFNAME" "$MAC" "$CNI_NETNS" "$ip" "${SUBNET#*/}"
    ;;
DEL)
    ovs-vsctl --timeout="$T" --if-exists del-port br-int "$HOST"
    ip link del "$HOST" 2>/dev/null || true
    nbctl --if-exists lsp-del "$PORT"
    ports=$(nbctl --if-exists get Logical_Switch "$SW" ports)
    if [[ "$ports" == "[]" ]]; then
        nbctl --if-exists ls-del "$SW"
    fi
    ;;
*)
    die "unsupported CNI_COMMAND ${CNI_COMMAND:-}"
    ;;
esac
