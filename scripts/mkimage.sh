#!/usr/bin/env bash
# mkimage.sh: osn's node image as an OCI image layout tarball, built without
# a container engine (none runs where osn is built).
#
#   scripts/mkimage.sh STATIC_BUILD_DIR OUT.tar [IMAGE_NAME]
#
# STATIC_BUILD_DIR is a meson build configured with -Dstatic=true (`make
# image` makes one).  The image holds one layer: /osn/bin/ovn-kubernetes (and
# its ovn-k8s-cni-overlay link), osnctl and osn-install (the entrypoint, see
# deploy/installer/osn-install.c), stripped; nothing else, because the
# binaries need nothing but the kernel.  IMAGE_NAME defaults to
# localhost/osn-node:VERSION.  The layout is written by scripts/mkimage-oci.sh.
set -euo pipefail
. "$(dirname "$0")/mkimage-oci.sh"

[[ $# -ge 2 && $# -le 3 ]] || { echo "usage: $0 STATIC_BUILD_DIR OUT.tar [IMAGE_NAME]" >&2; exit 2; }
build=$1
out=$2
version=$(oci_version)
name=${3:-localhost/osn-node:${version:-0}}

bins=("$build/src/plugin/ovn-kubernetes" "$build/src/osnctl/osnctl"
      "$build/deploy/installer/osn-install")
for b in "${bins[@]}"; do
    [[ -x "$b" ]] || { echo "mkimage: not built: $b" >&2; exit 1; }
    if readelf -l "$b" | grep -q 'Requesting program interpreter'; then
        echo "mkimage: $b is dynamically linked; configure $build with -Dstatic=true" >&2
        exit 1
    fi
done

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"
mkdir -p "$root/osn/bin"
for b in "${bins[@]}"; do
    install -m 0755 "$b" "$root/osn/bin/"
    strip --strip-all "$root/osn/bin/$(basename "$b")"
done
ln -s ovn-kubernetes "$root/osn/bin/ovn-k8s-cni-overlay"

oci_image "$root" "$out" "$name" "$(jq -cn --arg v "${version:-0}" '{
  Entrypoint: ["/osn/bin/osn-install"], Env: ["PATH=/osn/bin"], WorkingDir: "/",
  Labels: {"org.opencontainers.image.title": "osn node installer",
           "org.opencontainers.image.version": $v}}')"
