#!/usr/bin/env bash
# mkimage-ovn.sh: the image that runs osn's own OVN (deploy/ovn/), from the
# Debian OVN and Open vSwitch packages installed on this machine, as an OCI
# image layout tarball (scripts/mkimage-oci.sh), without a container engine.
#
#   scripts/mkimage-ovn.sh OUT.tar [IMAGE_NAME]     (default localhost/osn-ovn:VERSION)
#
# The root holds the files of openvswitch-common, openvswitch-switch,
# ovn-common, ovn-central and ovn-host (without docs, man pages and service
# units; `dpkg -L` says which), the shared libraries their programs load (the
# `ldd` closure, with the dynamic loader), and busybox-static as /bin/sh and
# the few tools the entrypoint scripts of deploy/ovn/ovn-config.yaml use.
# Merged /usr as in Debian 12.  The packages must be installed
# (scripts/deps.sh installs them; busybox-static too).
#
# OSN_OVN=RELEASE (make image-ovn OVN=RELEASE: 25.03, 26.03 or a Debian
# suite) takes those packages, their libraries and loader from the root of
# that release (scripts/ovn-root.sh) instead of the host, and puts the OVN
# version into the image's name tag (localhost/osn-ovn:VERSION-ovnX.Y.Z) and
# labels.  busybox stays the host's (static).
set -euo pipefail
. "$(dirname "$0")/mkimage-oci.sh"

[[ $# -ge 1 && $# -le 2 ]] || { echo "usage: $0 OUT.tar [IMAGE_NAME]" >&2; exit 2; }
out=$1
version=$(oci_version)
PACKAGES=(openvswitch-common openvswitch-switch ovn-common ovn-central ovn-host)
# SRC: where the packages' files are ("" = the host), and how to run a
# command against it (for `ldd` and symlinks).
SRC=""
in_src() { "$@"; }
if [[ -n "${OSN_OVN:-}" ]]; then
    SRC=$("$(dirname "$0")/ovn-root.sh" "$OSN_OVN") || exit 1
    in_src() { chroot "$SRC" "$@"; }
fi
ovn_version=$(in_src dpkg-query -W -f='${Version}' ovn-central)
name=${2:-localhost/osn-ovn:${version:-0}${SRC:+-ovn${ovn_version%%-*}}}
for p in "${PACKAGES[@]}"; do
    in_src dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed ||
        { echo "mkimage-ovn: package $p is not installed in ${SRC:-the host} (scripts/deps.sh)" >&2; exit 1; }
done
dpkg-query -W -f='${db:Status-Status}' busybox-static 2>/dev/null | grep -qx installed ||
    { echo "mkimage-ovn: package busybox-static is not installed (scripts/deps.sh)" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"
mkdir -p "$root"/usr/{bin,sbin,lib,lib64} "$root"/{etc,tmp,run,var/run,var/log,var/lib/ovn} \
    "$root"/etc/{openvswitch,ovn} "$root"/var/lib/openvswitch "$root"/var/run/{openvswitch,ovn}
chmod 1777 "$root/tmp"
for d in bin sbin lib lib64; do ln -s "usr/$d" "$root/$d"; done

# put PATH: copies PATH of SRC (a file or a symlink, and what a symlink
# points to) to the same place under the merged-/usr root.
put() {
    local p=$1 dst
    dst=$root/$(sed -E 's#^/(bin|sbin|lib|lib64)/#/usr/\1/#' <<<"$p")
    [[ -e "$dst" || -L "$dst" ]] && return 0
    mkdir -p "$(dirname "$dst")"
    cp -P "$SRC$p" "$dst"
    if [[ -L "$SRC$p" ]]; then
        put "$(in_src readlink -f "$p")"
    fi
}

while read -r f; do
    [[ -f "$f" || -L "$f" ]] || continue
    case "$f" in
        /usr/share/doc/* | /usr/share/man/* | /lib/systemd/* | /usr/lib/systemd/* | \
            /etc/init.d/* | /usr/share/bash-completion/* | /etc/logrotate.d/* | \
            /usr/share/lintian/* | /etc/default/*) continue ;;
    esac
    put "$f"
done < <(in_src dpkg -L "${PACKAGES[@]}" | sort -u)
# Debian selects ovs-vswitchd through an alternative.
ln -sf ../lib/openvswitch-switch/ovs-vswitchd "$root/usr/sbin/ovs-vswitchd"

# The libraries every ELF file loads, and the loader.
while read -r lib; do
    put "$lib"
done < <(cd "$root" && find usr -type f -perm -u+x | sed 's#^#/#' |
    { if [[ -n "$SRC" ]]; then chroot "$SRC" xargs -r ldd; else xargs -r ldd; fi; } 2>/dev/null |
    awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/lib64\/ld-linux/ {print $1}' | sort -u)

# busybox: /bin/sh and the tools the scripts use.
cp /bin/busybox "$root/usr/bin/busybox"
for a in sh seq sleep mkdir cat ls rm mv cp ln grep sed modprobe test [ env echo hostname ps kill; do
    [[ -e "$root/usr/bin/$a" || -e "$root/usr/sbin/$a" ]] || ln -s busybox "$root/usr/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"

oci_image "$root" "$out" "$name" "$(jq -cn --arg v "${version:-0}" --arg ovn "$ovn_version" '{
  Cmd: ["/bin/sh"], Env: ["PATH=/usr/sbin:/usr/bin"], WorkingDir: "/",
  Labels: {"org.opencontainers.image.title": "osn OVN (Debian openvswitch + ovn)",
           "org.opencontainers.image.version": $v,
           "io.osn.ovn.version": $ovn}}')"
