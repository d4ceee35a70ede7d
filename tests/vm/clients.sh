# shellcheck shell=bash
# clients.sh: real DHCP clients from Debian packages (isc-dhcp-client,
# dhcpcd-base, systemd-networkd) in a pod netns, each for a bounded time,
# with a capture of its DHCP and ARP traffic.  Sourced after
# tests/integration/lib.sh and cni.sh.
#
#   client_start KIND POD SECONDS DIR   starts KIND (dhclient, dhclient6,
#                                       dhcpcd, networkd) in POD for SECONDS
#                                       (pid in CLIENT_PID); its log goes to
#                                       DIR/POD.log, what its hook saw to
#                                       DIR/POD.lease (one "OSN-LEASE:
#                                       reason ip=... mtu=..." line per
#                                       event), the capture to DIR/POD.pcap
#   client_missing KIND                 why KIND cannot run here, or nothing
#   lease_field FILE REASON KEY         KEY of the last REASON line of FILE
#   pcap_count DIR POD FILTER           packets of the capture that match a
#                                       tcpdump FILTER
#
# Nothing escapes the pod: each client runs in a private mount namespace
# whose /var/lib/dhcp*, /run/dhcpcd, /run/systemd and /etc/systemd/network
# are tmpfs, and it only touches the pod's net1.

client_missing() {
    case $1 in
    dhclient | dhclient6) command -v dhclient >/dev/null || echo "missing dhclient (isc-dhcp-client)" ;;
    dhcpcd) command -v dhcpcd >/dev/null || echo "missing dhcpcd (dhcpcd-base)" ;;
    networkd) [[ -x /lib/systemd/systemd-networkd ]] && id systemd-network >/dev/null 2>&1 ||
        echo "missing /lib/systemd/systemd-networkd (systemd)" ;;
    esac
    command -v tcpdump >/dev/null || echo "missing tcpdump"
    command -v unshare >/dev/null || echo "missing unshare"
}

# The hook every client runs: one line per event, with the lease's fields
# (dhclient's and dhcpcd's variable names; the path is written in, since
# dhcpcd gives its hooks a clean environment).
_client_hook() {
    local out=$1 log=$2
    cat >"$out" <<HOOK
#!/bin/sh
echo "OSN-LEASE: \$reason ip=\$new_ip_address ip6=\$new_ip6_address mtu=\$new_interface_mtu dns=\$(echo \$new_domain_name_servers | tr ' ' ,) dns6=\$(echo \$new_dhcp6_name_servers | tr ' ' ,) search=\$(echo \$new_domain_search | tr ' ' ,) search6=\$(echo \$new_dhcp6_domain_search | tr ' ' ,) domain=\$new_domain_name host=\$new_host_name routers=\$new_routers lease=\$new_dhcp_lease_time server=\$new_dhcp_server_identifier" >>$log
case "\$reason" in
BOUND|RENEW|REBIND|REBOOT)
    ip addr replace "\$new_ip_address/\$new_subnet_mask" dev "\$interface"
    [ -n "\$new_interface_mtu" ] && ip link set "\$interface" mtu "\$new_interface_mtu"
    ;;
BOUND6|RENEW6|REBIND6)
    ip -6 addr replace "\$new_ip6_address/\$new_ip6_prefixlen" dev "\$interface" nodad
    ;;
esac
exit 0
HOOK
    chmod +x "$out"
}

# The runner inside the pod's netns and a private mount namespace.
_client_runner() {
    local kind=$1 dir=$2 pod=$3 secs=$4
    local hook=$dir/$pod.hook lease=$dir/$pod.lease
    _client_hook "$hook" "$lease"
    cat <<RUN
set -e
for d in /var/lib/dhcp /var/lib/dhcpcd /run/dhcpcd; do
    [ -d \$d ] && mount -t tmpfs tmpfs \$d
done
case $kind in
dhclient)
    exec timeout -k 5 $secs dhclient -4 -d -v -1 -lf $dir/$pod.leases -pf $dir/$pod.pid -sf $hook net1 ;;
dhclient6)
    exec timeout -k 5 $secs dhclient -6 -d -v -1 -lf $dir/$pod.leases -pf $dir/$pod.pid -sf $hook net1 ;;
dhcpcd)
    printf 'option interface_mtu, domain_name_servers, domain_search, domain_name, host_name\nnoipv4ll\n' >$dir/$pod.conf
    exec timeout -k 5 $secs dhcpcd -B -4 -d -f $dir/$pod.conf -c $hook net1 ;;
networkd)
    # systemd-networkd expects no udev where /sys is read-only (its
    # container rule); its state and config go to tmpfs.
    mount -t tmpfs tmpfs /run/systemd
    mkdir -p /run/systemd/netif/links /run/systemd/netif/leases /run/systemd/netif/lldp
    chown -R systemd-network:systemd-network /run/systemd/netif
    mount -o remount,bind,ro /sys
    mount -t tmpfs tmpfs /etc/systemd/network
    printf '[Match]\nName=net1\n[Network]\nDHCP=ipv4\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n[DHCPv4]\nUseMTU=yes\nUseDomains=yes\nUseHostname=no\nClientIdentifier=mac\n' >/etc/systemd/network/50-net1.network
    exec env SYSTEMD_LOG_LEVEL=debug SYSTEMD_LOG_TARGET=console timeout -k 5 $secs /lib/systemd/systemd-networkd ;;
esac
RUN
}

# shellcheck disable=SC2034 # CLIENT_PID is for the caller
client_start() {
    local kind=$1 pod=$2 secs=$3 dir=$4 ns
    ns=$(sandbox_prefix)-pod-$pod
    : >"$dir/$pod.lease"
    ip netns exec "$ns" timeout $((secs + 3)) tcpdump -U -ni net1 -w "$dir/$pod.pcap" \
        'udp port 67 or udp port 68 or udp port 546 or udp port 547 or arp' >/dev/null 2>&1 &
    sleep 1
    _client_runner "$kind" "$dir" "$pod" "$secs" >"$dir/$pod.run"
    ip netns exec "$ns" unshare -m sh "$dir/$pod.run" >"$dir/$pod.log" 2>&1 &
    CLIENT_PID=$!
}

lease_field() {
    grep "^OSN-LEASE: $2 " "$1" | tail -n 1 | tr ' ' '\n' | sed -n "s/^$3=//p"
}

pcap_count() {
    tcpdump -nr "$1/$2.pcap" "$3" 2>/dev/null | wc -l
}
