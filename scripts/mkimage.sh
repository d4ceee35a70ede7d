#!/usr/bin/env bash
# mkimage.sh: osn's node image as an OCI image layout tarball, built without
# a container engine (none runs where osn is built).
#
#   scripts/mkimage.sh STATIC_BUILD_DIR OUT.tar [IMAGE_NAME]
#
# STATIC_BUILD_DIR is a meson build configured with -Dstatic=true (`make
# image` makes one).  The image holds one layer: /osn/bin/ovn-kubernetes,
# osnctl and osn-install (the entrypoint, see deploy/installer/osn-install.c),
# stripped; nothing else, because the binaries need nothing but the kernel.
# The tarball is an OCI image layout (oci-layout, index.json, blobs/sha256/:
# the gzip'd layer, the config, the manifest), which `ctr images import`,
# `podman load`, `skopeo copy oci-archive:OUT.tar ...` read.  The image name
# (default localhost/osn-node:VERSION) is in the index as
# io.containerd.image.name and, its tag, as org.opencontainers.image.ref.name.
#
# Reproducible: the same binaries give the same bytes (sorted tar entries,
# zero mtimes and owners, gzip -n), so the digests name the content.
set -euo pipefail

usage() { echo "usage: $0 STATIC_BUILD_DIR OUT.tar [IMAGE_NAME]" >&2; exit 2; }
[[ $# -ge 2 && $# -le 3 ]] || usage
build=$1
out=$2
version=$(sed -n "s/^ *version : '\(.*\)',$/\1/p" "$(dirname "$0")/../meson.build" | head -1)
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

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
layout=$work/layout
mkdir -p "$root/osn/bin" "$layout/blobs/sha256"
for b in "${bins[@]}"; do
    install -m 0755 "$b" "$root/osn/bin/"
    strip --strip-all "$root/osn/bin/$(basename "$b")"
done
# The plugin's upstream name, as on the node.
ln -s ovn-kubernetes "$root/osn/bin/ovn-k8s-cni-overlay"

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
# blob FILE: moves FILE into blobs/sha256/<digest>, prints the digest.
blob() {
    local d
    d=$(sha "$1")
    mv "$1" "$layout/blobs/sha256/$d"
    echo "$d"
}

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    -C "$root" -cf "$work/layer.tar" osn
diff_id=$(sha "$work/layer.tar")
gzip -n -9 <"$work/layer.tar" >"$work/layer.tar.gz"
layer_size=$(size "$work/layer.tar.gz")
layer=$(blob "$work/layer.tar.gz")

jq -cn --arg diff "sha256:$diff_id" --arg v "${version:-0}" '{
  architecture: "amd64", os: "linux",
  config: {
    Entrypoint: ["/osn/bin/osn-install"],
    Env: ["PATH=/osn/bin"],
    WorkingDir: "/",
    Labels: {"org.opencontainers.image.title": "osn node installer",
             "org.opencontainers.image.version": $v}
  },
  rootfs: {type: "layers", diff_ids: [$diff]},
  history: [{created_by: "scripts/mkimage.sh: static ovn-kubernetes, osnctl, osn-install"}]
}' >"$work/config.json"
config_size=$(size "$work/config.json")
config=$(blob "$work/config.json")

jq -cn --arg c "sha256:$config" --argjson cs "$config_size" \
    --arg l "sha256:$layer" --argjson ls "$layer_size" '{
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
  layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $l, size: $ls}]
}' >"$work/manifest.json"
manifest_size=$(size "$work/manifest.json")
manifest=$(blob "$work/manifest.json")

jq -cn --arg m "sha256:$manifest" --argjson ms "$manifest_size" --arg name "$name" \
    --arg tag "${name##*:}" '{
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json",
               digest: $m, size: $ms,
               platform: {architecture: "amd64", os: "linux"},
               annotations: {"io.containerd.image.name": $name,
                             "org.opencontainers.image.ref.name": $tag}}]
}' >"$layout/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"

tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$layout" \
    -cf "$out.tmp" oci-layout index.json blobs
mv "$out.tmp" "$out"
echo "mkimage: $out: $name, manifest sha256:$manifest," \
    "layer $layer_size bytes compressed ($(size "$work/layer.tar") uncompressed)," \
    "tarball $(size "$out") bytes"
