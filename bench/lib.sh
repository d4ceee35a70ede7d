# shellcheck shell=bash
# bench/lib.sh: what bench/cluster.sh and bench/layer3.sh share; sourced.
#
# bench_init NAME: the paths (ROOT, OSN_BUILD, SANDBOX, PLUGIN, OUT), the
# checks (root, a built plugin), and a sandbox directory DIR ("" for none)
# taken down on exit, also on failure or Ctrl-C.
#
# timed_cycles CONF [CNI_ARGS]: inside node1's netns of the sandbox in DIR
# (its netns prefix in PREFIX, pod netns PREFIX-pod-b0 .. PREFIX-pod-bSEQ
# made by the caller), one warm-up ADD+DEL cycle of CONF, then SEQ timed
# ones, each timed around the plugin process itself (so osn-sandbox's own
# start-up is not counted): one line "ADD_us DEL_us" per cycle.

bench_init() {
    local name=$1
    ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    OSN_BUILD=${OSN_BUILD:-$ROOT/build}
    SANDBOX=$ROOT/sandbox/osn-sandbox
    PLUGIN=$OSN_BUILD/src/plugin/ovn-kubernetes
    OUT=${BENCH_OUT:-$ROOT/bench/out}
    [[ $(id -u) -eq 0 ]] || { echo "bench/$name: needs root" >&2; exit 1; }
    [[ -x "$PLUGIN" ]] || { echo "bench/$name: not built: $PLUGIN" >&2; exit 1; }
    mkdir -p "$OUT"
    DIR=""
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

bench_cleanup() { [[ -z "$DIR" ]] || "$SANDBOX" down --dir "$DIR" >/dev/null 2>&1 || true; }

timed_cycles() {
    # shellcheck disable=SC2016 # the inner bash expands them
    "$SANDBOX" exec --dir "$DIR" node1 -- env PLUGIN="$PLUGIN" NET="$1" ARGS="${2:-}" SEQ="$SEQ" \
        PREFIX="$PREFIX" bash -c '
        [[ -z "$ARGS" ]] || export CNI_ARGS=$ARGS
        cycle() {
            local i=$1 t0 t1 t2
            t0=$(date +%s%N)
            CNI_COMMAND=ADD CNI_CONTAINERID=b$i CNI_NETNS=/var/run/netns/$PREFIX-pod-b$i \
                CNI_IFNAME=net1 CNI_PATH=/opt/cni/bin "$PLUGIN" <<<"$NET" >/dev/null || echo "# ADD b$i failed" >&2
            t1=$(date +%s%N)
            CNI_COMMAND=DEL CNI_CONTAINERID=b$i CNI_NETNS=/var/run/netns/$PREFIX-pod-b$i \
                CNI_IFNAME=net1 CNI_PATH=/opt/cni/bin "$PLUGIN" <<<"$NET" >/dev/null || echo "# DEL b$i failed" >&2
            t2=$(date +%s%N)
            echo "$(( (t1 - t0) / 1000 )) $(( (t2 - t1) / 1000 ))"
        }
        cycle 0 >/dev/null
        for ((i = 1; i <= SEQ; i++)); do cycle "$i"; done'
}
