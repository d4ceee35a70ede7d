# shellcheck shell=bash
# mkimage-oci.sh: sourced by scripts/mkimage.sh and scripts/mkimage-ovn.sh.
#
#   oci_image ROOTFS OUT.tar NAME CONFIG_JSON
#
# Writes the directory ROOTFS as a one-layer OCI image layout tarball OUT.tar
# (oci-layout, index.json, blobs/sha256/: the gzip'd layer, the image config,
# the manifest; every blob named by its sha256), without a container engine.
# CONFIG_JSON is the image config's "config" object (Entrypoint, Env, ...).
# NAME (e.g. localhost/osn-node:0.1.0) goes into the index as
# io.containerd.image.name and, its tag, as org.opencontainers.image.ref.name,
# which is what `ctr images import`, `podman load` and `skopeo copy
# oci-archive:` read.  Reproducible: sorted entries, zero mtimes and owners,
# gzip -n; the same ROOTFS gives the same bytes.  Prints one summary line.

oci_image() {
    local root=$1 out=$2 name=$3 config_obj=$4
    local work layout
    work=$(mktemp -d)
    layout=$work/layout
    mkdir -p "$layout/blobs/sha256"

    _oci_sha() { sha256sum "$1" | cut -d' ' -f1; }
    _oci_size() { stat -c %s "$1"; }
    _oci_blob() {
        local d
        d=$(_oci_sha "$1")
        mv "$1" "$layout/blobs/sha256/$d"
        echo "$d"
    }

    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=posix \
        --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
        -C "$root" -cf "$work/layer.tar" .
    local diff_id layer_size layer config config_size manifest manifest_size
    diff_id=$(_oci_sha "$work/layer.tar")
    gzip -n -9 <"$work/layer.tar" >"$work/layer.tar.gz"
    layer_size=$(_oci_size "$work/layer.tar.gz")
    layer=$(_oci_blob "$work/layer.tar.gz")

    jq -cn --arg diff "sha256:$diff_id" --argjson config "$config_obj" --arg name "$name" '{
      architecture: "amd64", os: "linux", config: $config,
      rootfs: {type: "layers", diff_ids: [$diff]},
      history: [{created_by: ("osn scripts/mkimage: " + $name)}]
    }' >"$work/config.json"
    config_size=$(_oci_size "$work/config.json")
    config=$(_oci_blob "$work/config.json")

    jq -cn --arg c "sha256:$config" --argjson cs "$config_size" \
        --arg l "sha256:$layer" --argjson ls "$layer_size" '{
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
      layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $l, size: $ls}]
    }' >"$work/manifest.json"
    manifest_size=$(_oci_size "$work/manifest.json")
    manifest=$(_oci_blob "$work/manifest.json")

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
        "layer $layer_size bytes compressed ($(_oci_size "$work/layer.tar") uncompressed)," \
        "tarball $(_oci_size "$out") bytes"
    rm -rf "$work"
}

# oci_version: the project's version, from meson.build.
oci_version() {
    sed -n "s/^ *version : '\(.*\)',$/\1/p" "$(dirname "${BASH_SOURCE[0]}")/../meson.build" | head -1
}
