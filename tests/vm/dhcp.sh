# shellcheck shell=bash
# dhcp.sh: DHCP clients against OVN's native DHCP, in a pod netns.  Sourced
# after tests/integration/lib.sh and cni.sh.
#
#   udhcpc_in POD          one bounded DHCPv4 exchange on net1 (busybox udhcpc,
#                          option 26 asked for), the lease applied; prints the
#                          lease script's "OSN-DHCP: bound ip=... mtu=..." line
#   udhcpc_renew POD       obtains a lease, then has udhcpc renew at once
#                          (SIGUSR1); prints "unicast" when the unicast RENEW to
#                          the server id was answered, "broadcast" when only
#                          udhcpc's broadcast fallback was, "none" otherwise
#   dhcp6_in POD           one DHCPv6 Solicit/Advertise (tests/vm/dhcp6.py)
#   dhcp_field LINE KEY    a KEY=value field of such a line

DHCP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
UDHCPC_SCRIPT=$DHCP_DIR/guest/udhcpc.script

udhcpc_in() {
    in_pod "$1" timeout 15 busybox udhcpc -i net1 -s "$UDHCPC_SCRIPT" -O mtu -t 3 -T 1 -n -q -f 2>/dev/null |
        grep ' bound '
}

udhcpc_renew() {
    local log pid i
    log=$(mktemp /tmp/osn-renew.XXXXXX)
    # "ip netns exec" execs busybox: $! is udhcpc itself.
    ip netns exec "$(sandbox_prefix)-pod-$1" busybox udhcpc -i net1 -s "$UDHCPC_SCRIPT" -O mtu -f >"$log" 2>&1 &
    pid=$!
    for ((i = 0; i < 50; i++)); do
        grep -q ' bound ' "$log" && break
        sleep 0.1
    done
    kill -USR1 "$pid" 2>/dev/null
    # udhcpc waits 3 s for the unicast answer before it broadcasts.
    for ((i = 0; i < 60; i++)); do
        grep -q ' renew ip=' "$log" && break
        sleep 0.1
    done
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if ! grep -q ' renew ip=' "$log"; then
        echo none
    elif grep -q 'broadcasting renew' "$log"; then
        echo broadcast
    else
        echo unicast
    fi
    rm -f "$log"
}

dhcp6_in() { in_pod "$1" python3 "$DHCP_DIR/dhcp6.py" "${@:2}" net1; }

dhcp_field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
