#!/usr/bin/env bash
# vm-debian.sh: a Debian guest for the osn VM tests, from Debian packages.
#
#   scripts/vm-debian.sh            build if needed; print KERNEL=... and INITRD=...
#   scripts/vm-debian.sh --clean    remove its cache
#
# A minimal Debian (mmdebstrap --variant=minbase of the machine's suite, with
# systemd, udev, kmod, iproute2 and iputils-ping) that configures itself as a
# cloud image does: systemd-networkd with DHCP on every Ethernet interface
# (the MTU option applied, its log at debug level).  The whole root is the
# initramfs (systemd runs from it; no disk), the kernel and its virtio
# modules are scripts/vm-image.sh's (Debian's cloud kernel), loaded by a unit
# before udev looks at the devices.  The unit osn-guest.service
# (tests/vm/guest/debian-guest) prints what the tests read on the serial
# console as "OSN-VM: ..." lines, as the busybox guest does:
#
#   OSN-VM: dhcp bound ip=10.77.0.5/24 mtu=1442 client=systemd-networkd
#   OSN-VM: renewals n=2 (unicast answered: "REQUEST (renewing)" then "ACK")
#   OSN-VM: ping 10.77.0.6 ok sent=3 recv=3
#   OSN-VM: done
#
# Kernel command line: osn.ping=ADDR, osn.renewals=N (wait, bounded by
# osn.wait=SECONDS, for N renewals before the ping; default 0).
#
# Cached under $OSN_VM_CACHE (default ${XDG_CACHE_HOME:-/var/cache}/osn-vm/)
# by the suite, the kernel build and a hash of the guest files; the root's
# tarball separately by the suite and package list (the slow step: a few
# minutes, downloads about 60 MB).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GUEST=$ROOT/tests/vm/guest
CACHE=${OSN_VM_CACHE:-${XDG_CACHE_HOME:-/var/cache}/osn-vm}
PKGS=systemd,systemd-sysv,udev,kmod,iproute2,iputils-ping

die() {
    echo "vm-debian.sh: $*" >&2
    exit 1
}

if [[ "${1:-}" == --clean ]]; then
    rm -rf "$CACHE"/debian-*
    exit 0
fi
[[ $# -eq 0 ]] || die "usage: vm-debian.sh [--clean]"
for t in mmdebstrap systemctl busybox gzip sha256sum tar; do
    command -v "$t" >/dev/null || die "missing tool '$t' (scripts/deps.sh installs it)"
done

# The kernel and its virtio modules: the busybox guest's build.
KOUT=$("$ROOT/scripts/vm-image.sh") || die "scripts/vm-image.sh failed"
KERNEL=$(sed -n 's/^KERNEL=//p' <<<"$KOUT")
KINITRD=$(sed -n 's/^INITRD=//p' <<<"$KOUT")

SUITE=${OSN_VM_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")}
mkdir -p "$CACHE"
TAR=$CACHE/debian-root_${SUITE}_$(echo "$PKGS" | sha256sum | cut -c1-8).tar
GHASH=$(cat "$GUEST/debian-guest" "${BASH_SOURCE[0]}" "$KERNEL" | sha256sum | cut -c1-12)
OUT=$CACHE/debian-guest_${SUITE}_$GHASH

if [[ -s "$OUT/initrd.gz" ]]; then
    echo "KERNEL=$KERNEL"
    echo "INITRD=$OUT/initrd.gz"
    exit 0
fi

if [[ ! -s "$TAR" ]]; then
    mmdebstrap --variant=minbase --include="$PKGS" \
        --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' "$SUITE" "$TAR.tmp" >&2 ||
        die "mmdebstrap $SUITE failed"
    mv "$TAR.tmp" "$TAR"
fi

WORK=$(mktemp -d "$CACHE/.debian.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
R=$WORK/root
mkdir -p "$R" "$WORK/k"
tar -C "$R" -xf "$TAR"
# The virtio modules, in the order the busybox guest loads them.
(cd "$WORK/k" && gzip -dc "$KINITRD" | busybox cpio -i -d 2>/dev/null)
mkdir -p "$R/usr/lib/osn/modules"
cp "$WORK"/k/lib/modules/*.ko "$WORK/k/lib/modules/load.order" "$R/usr/lib/osn/modules/"

install -m 0755 "$GUEST/debian-guest" "$R/usr/local/sbin/osn-guest"
cat >"$R/etc/systemd/system/osn-modules.service" <<'EOF'
[Unit]
Description=osn: the virtio modules of the cloud kernel
DefaultDependencies=no
Before=systemd-udev-trigger.service systemd-networkd.service
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'for m in $(cat /usr/lib/osn/modules/load.order); do insmod /usr/lib/osn/modules/$m; done'
[Install]
WantedBy=sysinit.target
EOF
cat >"$R/etc/systemd/system/osn-guest.service" <<'EOF'
[Unit]
Description=osn: report the network on the serial console, then power off
After=systemd-networkd.service
Wants=systemd-networkd.service
[Service]
Type=simple
ExecStart=/usr/local/sbin/osn-guest
[Install]
WantedBy=multi-user.target
EOF
cat >"$R/etc/systemd/network/50-dhcp.network" <<'EOF'
[Match]
Type=ether
[Network]
DHCP=ipv4
LinkLocalAddressing=no
IPv6AcceptRA=no
[DHCPv4]
UseMTU=yes
UseDomains=yes
EOF
mkdir -p "$R/etc/systemd/system/systemd-networkd.service.d"
printf '[Service]\nEnvironment=SYSTEMD_LOG_LEVEL=debug\n' \
    >"$R/etc/systemd/system/systemd-networkd.service.d/osn-debug.conf"
echo osn-guest >"$R/etc/hostname"
systemctl --root="$R" enable systemd-networkd.service osn-modules.service osn-guest.service >/dev/null 2>&1 ||
    die "systemctl enable in the guest's root failed"
# Nothing waits for a login or a clock.
for u in getty@tty1.service serial-getty@ttyS0.service systemd-timesyncd.service \
    apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer; do
    systemctl --root="$R" mask "$u" >/dev/null 2>&1 || true
done
ln -sf /lib/systemd/systemd "$R/init"
rm -rf "$R"/var/cache/apt/* "$R"/var/lib/apt/lists/*

(cd "$R" && find . | busybox cpio -o -H newc -R 0:0 2>/dev/null) | gzip -1 >"$WORK/initrd.gz"
mkdir -p "$OUT.tmp"
mv "$WORK/initrd.gz" "$OUT.tmp/initrd.gz"
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
echo "KERNEL=$KERNEL"
echo "INITRD=$OUT/initrd.gz"
