# shellcheck shell=bash
# mac.sh: a pod that sends from a second MAC (as a nested VM or a VM that
# bridges other MACs does), for the port-security checks.  Sourced after
# tests/integration/lib.sh and cni.sh.
#
#   second_mac_reachable SENDER PEER N
#       SENDER gets a macvlan "mv0" with MAC 02:N:00:00:00:10 and
#       192.168.N.10/24 on its net1, PEER 192.168.N.20/24 on its own net1; PEER
#       pings it; true only when the replies came and PEER resolved the
#       address to the second MAC.  SENDER's net1 must not answer ARP for the
#       macvlan's address (Linux does by default, arp_ignore=0: the ping would
#       then go to net1's own MAC and prove nothing), hence arp_ignore=1.
#   unicast_seen_by WATCHER MAC FROM ADDR
#       how many frames to MAC reach WATCHER's net1 while FROM pings ADDR
#       (5 probes); needs tcpdump; captures in $MIG

second_mac_reachable() {
    local mac=02:$3:00:00:00:10
    in_pod "$1" sysctl -qw net.ipv4.conf.all.arp_ignore=1
    in_pod "$2" ip addr add "192.168.$3.20/24" dev net1 2>/dev/null
    if ! in_pod "$1" ip link show mv0 >/dev/null 2>&1; then
        in_pod "$1" ip link add mv0 link net1 address "$mac" type macvlan mode bridge
        in_pod "$1" ip addr add "192.168.$3.10/24" dev mv0
        in_pod "$1" ip link set mv0 up
    fi
    in_pod "$2" ip neigh flush dev net1
    ping_ok "$2" "192.168.$3.10" &&
        [[ "$(in_pod "$2" ip neigh show "192.168.$3.10" dev net1 | awk '{print $3}')" == "$mac" ]]
}

unicast_seen_by() {
    local cap=$MIG/cap.$1 pid
    ip netns exec "$(sandbox_prefix)-pod-$1" timeout 10 tcpdump -i net1 -nn -p -l "ether dst $2" >"$cap" 2>"$cap.err" &
    pid=$!
    wait_until 5 grep -q 'listening on' "$cap.err"
    in_pod "$3" ping -c 5 -i 0.1 -W 1 "$4" >"$cap.ping" 2>&1
    sleep 0.5
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    grep -c . "$cap"
}
