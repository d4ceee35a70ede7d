#!/usr/bin/env bash
# vm-image.sh: the kernel and initramfs of the osn test VM, from Debian packages.
#
#   scripts/vm-image.sh            build if needed; print KERNEL=... and INITRD=...
#   scripts/vm-image.sh --clean    remove the cache
#
# The kernel is Debian's cloud kernel (linux-image-cloud-amd64's current
# dependency, e.g. linux-image-6.1.0-57-cloud-amd64).  It has AF_PACKET, the
# 8250 console, devtmpfs and gzip initramfs built in, but virtio, virtio_pci and
# virtio_net are modules: the initramfs carries them (with their dependencies,
# found by modinfo) and /init loads them in order.  The userland is the
# statically linked busybox of busybox-static; /init and the udhcpc script
# are tests/vm/guest/.  Both packages are fetched with "apt-get download" and
# unpacked with "dpkg-deb -x"; nothing is installed on the machine.
#
# The result is cached under $OSN_VM_CACHE (default
# ${XDG_CACHE_HOME:-/var/cache}/osn-vm/), in a directory named from the two
# package versions and a hash of the guest files, so a new kernel, a new
# busybox or an edited /init builds anew; nothing of it is ever committed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GUEST=$ROOT/tests/vm/guest
CACHE=${OSN_VM_CACHE:-${XDG_CACHE_HOME:-/var/cache}/osn-vm}
# Modules /init needs, in any order: the dependencies are added (and ordered)
# from modinfo.
WANT_MODULES=(virtio_pci virtio_net)

die() {
    echo "vm-image.sh: $*" >&2
    exit 1
}

if [[ "${1:-}" == --clean ]]; then
    rm -rf "$CACHE"
    exit 0
fi
[[ $# -eq 0 ]] || die "usage: vm-image.sh [--clean]"
for t in apt-cache apt-get dpkg-deb modinfo gzip sha256sum; do
    command -v "$t" >/dev/null || die "missing tool '$t'"
done

KPKG=${OSN_VM_KERNEL_PKG:-$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[^ ]*-cloud-amd64\)$/\1/p' | head -n1)}
[[ -n "$KPKG" ]] || die "apt knows no linux-image-cloud-amd64 (run apt-get update?)"
# One apt-cache call for both candidate versions (each call costs ~1 s here).
mapfile -t VERS < <(apt-cache policy "$KPKG" busybox-static 2>/dev/null | sed -n 's/^ *Candidate: //p')
KVER=${VERS[0]:-} BVER=${VERS[1]:-}
[[ -n "$KVER" && "$KVER" != "(none)" && -n "$BVER" && "$BVER" != "(none)" ]] ||
    die "no candidate version for $KPKG or busybox-static"
GHASH=$(cat "$GUEST/init" "$GUEST/udhcpc.script" "${BASH_SOURCE[0]}" | sha256sum | cut -c1-12)
OUT=$CACHE/${KPKG#linux-image-}_${KVER}_busybox_${BVER}_$GHASH
OUT=${OUT//:/-}

if [[ -s "$OUT/vmlinuz" && -s "$OUT/initrd.gz" ]]; then
    echo "KERNEL=$OUT/vmlinuz"
    echo "INITRD=$OUT/initrd.gz"
    exit 0
fi

mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
(cd "$WORK" && apt-get download -q "$KPKG=$KVER" "busybox-static=$BVER" >/dev/null 2>&1) ||
    die "apt-get download $KPKG=$KVER busybox-static=$BVER failed"
dpkg-deb -x "$WORK"/linux-image-*.deb "$WORK/k"
dpkg-deb -x "$WORK"/busybox-static_*.deb "$WORK/b"

KREL=${KPKG#linux-image-}
MODDIR=$WORK/k/lib/modules/$KREL
[[ -d "$MODDIR" ]] || die "no modules in $KPKG"
VMLINUZ=$WORK/k/boot/vmlinuz-$KREL
[[ -s "$VMLINUZ" ]] || die "no kernel in $KPKG"

# modfile NAME: the module's path under MODDIR (kernel/...).
modfile() {
    local f
    f=$(find "$MODDIR" \( -name "$1.ko" -o -name "$1.ko.xz" -o -name "$1.ko.zst" \) | head -n1)
    [[ -n "$f" ]] || die "module $1 not in $KPKG"
    echo "${f#"$MODDIR"/}"
}
# Depth-first over modinfo's depends: each module after what it needs.
declare -A seen=()
order=()
visit() {
    local m=$1 f d
    [[ -z "${seen[$m]:-}" ]] || return 0
    seen[$m]=1
    f=$(modfile "$m")
    for d in $(modinfo -F depends "$MODDIR/$f" | tr ',' ' '); do
        visit "$d"
    done
    order+=("$f")
}
for m in "${WANT_MODULES[@]}"; do visit "$m"; done

R=$WORK/root
mkdir -p "$R"/{bin,sbin,dev,proc,sys,tmp,etc,lib/modules}
cp "$WORK/b/bin/busybox" "$R/bin/busybox"
for a in $("$R/bin/busybox" --list); do
    [[ "$a" == busybox ]] || ln -sf busybox "$R/bin/$a"
done
: >"$R/lib/modules/load.order"
for f in "${order[@]}"; do
    base=$(basename "$f")
    case "$base" in
    *.xz) xz -dc "$MODDIR/$f" >"$R/lib/modules/${base%.xz}"; base=${base%.xz} ;;
    *.zst) zstd -qdc "$MODDIR/$f" >"$R/lib/modules/${base%.zst}"; base=${base%.zst} ;;
    *) cp "$MODDIR/$f" "$R/lib/modules/$base" ;;
    esac
    echo "$base" >>"$R/lib/modules/load.order"
done
install -m 0755 "$GUEST/init" "$R/init"
install -m 0755 "$GUEST/udhcpc.script" "$R/udhcpc.script"

(cd "$R" && find . | "$R/bin/busybox" cpio -o -H newc -R 0:0 2>/dev/null) | gzip -9 >"$WORK/initrd.gz"
mkdir -p "$OUT.tmp"
cp "$VMLINUZ" "$OUT.tmp/vmlinuz"
cp "$WORK/initrd.gz" "$OUT.tmp/initrd.gz"
printf '%s\n' "kernel $KPKG $KVER" "busybox-static $BVER" "modules ${order[*]}" >"$OUT.tmp/BUILDINFO"
rm -rf "$OUT"
mv "$OUT.tmp" "$OUT"
# Older builds (another kernel, busybox or /init) are of no further use.
find "$CACHE" -mindepth 1 -maxdepth 1 -type d ! -name "$(basename "$OUT")" ! -name '.build.*' -exec rm -rf {} +
echo "KERNEL=$OUT/vmlinuz"
echo "INITRD=$OUT/initrd.gz"
