# shellcheck shell=bash
# ctr.sh: sourced after lib.sh by the tests that run osn's images under a
# containerd of their own.
#
#   ctr_up DIR [LAUNCHER...]
#                       containerd with root, state and sockets under DIR (a
#                       directory of the test's own); sets CTD_PID and CTR
#                       (the ctr command line, namespace osn-test).  Skips
#                       (77) when containerd/ctr/runc are missing; fails
#                       (returns 1) when it does not answer within 20 s.
#                       With LAUNCHER (a command that ends by exec'ing its
#                       arguments, e.g. a mount namespace's set-up, then `ip
#                       netns exec NS`), containerd runs under it and CTR
#                       enters containerd's mount and network namespaces
#                       (nsenter), so that ctr, and the CNI plugins that
#                       `ctr run --cni` runs, see what containerd sees.
#   ctr_import TARBALL  imports an OCI layout tarball; PASS/FAIL.
#   ctr_down            kills the tasks it still runs, removes its
#                       containers, then stops containerd, by pid (bounded);
#                       safe to call twice.
#   static_build DIR    sets SB to a -Dstatic=true build with the plugin,
#                       osnctl and osn-install: $OSN_STATIC_BUILD when set
#                       (e.g. build-static from `make image`), else one made
#                       in DIR; exits the test (FAIL) when it cannot build.
# Images are unpacked with the native snapshotter (plain directories: no
# overlay mounts to leave behind, and any filesystem under the temp dir
# works).

CTD_PID=""
CTR=()

ctr_up() {
    local dir=$1 t tools=(containerd ctr runc)
    shift
    (($# == 0)) || tools+=(nsenter)
    for t in "${tools[@]}"; do
        command -v "$t" >/dev/null || skip "missing $t (scripts/deps.sh installs containerd)"
    done
    mkdir -p "$dir"
    printf '%s\n' 'version = 2' "root = \"$dir/root\"" "state = \"$dir/state\"" \
        'disabled_plugins = ["io.containerd.grpc.v1.cri"]' \
        '[grpc]' "  address = \"$dir/containerd.sock\"" \
        '[ttrpc]' "  address = \"$dir/containerd.sock.ttrpc\"" \
        '[debug]' "  address = \"$dir/debug.sock\"" >"$dir/config.toml"
    "$@" containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 &
    CTD_PID=$!
    CTR=(ctr --address "$dir/containerd.sock" --namespace osn-test)
    (($# == 0)) || CTR=(nsenter --target "$CTD_PID" --mount --net "${CTR[@]}")
    if ! wait_until 20 "${CTR[@]}" version; then
        tail -5 "$dir/containerd.log" | sed 's/^/# /'
        fail "containerd did not answer within 20 s"
        return 1
    fi
    ok "containerd started (pid $CTD_PID, its own root, state and socket)"
}

ctr_import() {
    local out
    if out=$(timeout 120 "${CTR[@]}" images import --snapshotter native "$1" 2>&1); then
        ok "ctr images import $(basename "$1")"
    else
        fail "ctr images import $(basename "$1"): $out"
    fi
}

ctr_down() {
    [[ -n "$CTD_PID" ]] || return 0
    local c
    for c in $("${CTR[@]}" tasks ls -q 2>/dev/null); do
        timeout 10 "${CTR[@]}" tasks kill -s KILL "$c" >/dev/null 2>&1
    done
    for c in $("${CTR[@]}" containers ls -q 2>/dev/null); do
        timeout 10 "${CTR[@]}" tasks delete -f "$c" >/dev/null 2>&1
        timeout 10 "${CTR[@]}" containers delete "$c" >/dev/null 2>&1
    done
    kill "$CTD_PID" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$CTD_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$CTD_PID" 2>/dev/null
    CTD_PID=""
}

static_build() {
    SB=${OSN_STATIC_BUILD:-}
    [[ -z "$SB" ]] || return 0
    SB=$1
    if ! meson setup "$SB" "$ROOT" --buildtype=release -Dstatic=true >"$SB.setup.log" 2>&1 ||
        ! ninja -C "$SB" src/plugin/ovn-kubernetes src/osnctl/osnctl \
            deploy/installer/osn-install >"$SB.ninja.log" 2>&1; then
        tail -20 "$SB.setup.log" "$SB.ninja.log" 2>/dev/null | sed 's/^/# /'
        fail "static build (-Dstatic=true)"
        exit 1
    fi
}
