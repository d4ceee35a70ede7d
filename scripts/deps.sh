#!/usr/bin/env bash
# deps.sh: install the Debian packages that building and testing osn needs.
#
# Idempotent: asks dpkg-query which packages are missing and installs only
# those.  When nothing is missing it prints nothing and makes no apt call.
#
# Package postinst scripts would normally start the system's Open vSwitch and
# OVN daemons.  We never use those (the sandbox runs its own daemons with its
# own sockets and directories, see sandbox/README.md), and on a machine without
# the openvswitch kernel module "start" can fail and make dpkg fail.  So when
# the machine has no /usr/sbin/policy-rc.d we install one for the duration of
# the apt call that denies every service start, and remove it afterwards.
set -euo pipefail

PACKAGES=(
    build-essential meson ninja-build pkg-config
    libjansson-dev libnl-3-dev libnl-route-3-dev libyaml-dev libssl-dev
    openvswitch-switch openvswitch-common
    ovn-central ovn-host ovn-common
    iproute2 iputils-ping iputils-arping procps ethtool
    containernetworking-plugins jq clang openssl
    qemu-system-x86 busybox-static python3 containerd python3-yaml strace tcpdump
    python3-prometheus-client
    isc-dhcp-client dhcpcd-base mmdebstrap
    debootstrap curl xz-utils
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != installed ]]; then
        missing+=("$pkg")
    fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "deps.sh: not root and no sudo; cannot install: ${missing[*]}" >&2
        exit 1
    fi
fi

POLICY=/usr/sbin/policy-rc.d
made_policy=0
cleanup() {
    if [[ $made_policy -eq 1 ]]; then
        "${SUDO[@]}" rm -f "$POLICY"
    fi
}
trap cleanup EXIT

if [[ ! -e "$POLICY" ]]; then
    printf '#!/bin/sh\n# Temporary, from osn scripts/deps.sh: no service starts.\nexit 101\n' |
        "${SUDO[@]}" tee "$POLICY" >/dev/null
    "${SUDO[@]}" chmod 0755 "$POLICY"
    made_policy=1
fi

echo "deps.sh: installing: ${missing[*]}" >&2
log=$(mktemp)
if ! "${SUDO[@]}" apt-get update -qq >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "deps.sh: apt-get update failed" >&2
    exit 1
fi
if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "deps.sh: apt-get install failed for: ${missing[*]}" >&2
    exit 1
fi
rm -f "$log"
