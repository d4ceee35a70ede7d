#!/usr/bin/env bash
# bench/run.sh: osn's benchmark (issue 3, "Speed: a benchmark, not a timed
# test").  `make bench` runs it with OSN_BUILD set to the release build.
#
# On one 3-node sandbox of its own (its own --dir, always taken down at the
# end, also on failure or Ctrl-C) it measures, in the same run and
# interleaved sample by sample:
#   - osn ADD/DEL latency with the seed's first NAD, sequential and
#     BENCH_CONC at once across the 3 nodes;
#   - the same for Debian's bridge + host-local CNI plugins, in the same node
#     netns, and for bench/shell-attach.sh (ovn-nbctl, ovs-vsctl, ip);
#   - OVN's floor over our own OVSDB connections: OVS plug -> ovn-installed
#     of a bound-able port, and NB insert -> ovn-installed (port already
#     plugged), plus NB insert -> northd's address;
#   - the plugin's CPU time and peak RSS per ADD (wait4 of the plugin itself);
#   - with port pools (issue 13: pool_size BENCH_POOL_SIZE) and without
#     (pool_size 0), the same plugin, two node configs per node;
#   - at each NB size of BENCH_SCALE_POINTS (ports added cumulatively to the
#     measured network, one NB transaction per step): ADD/DEL with and
#     without pools and OVN's two floors, interleaved.
# It prints a table, ratios and PASS/MISS beside each target of the issue
# (a MISS never fails the exit status), and writes bench/out/results.json,
# results.txt and latency.svg (latency CDFs).
#
# Knobs (environment; the defaults take about 8-10 minutes on 2 cores):
#   OSN_BUILD               build dir with src/plugin/ovn-kubernetes (./build)
#   BENCH_SEQ=100           sequential ADD+DEL cycles for osn and bridge
#   BENCH_SHELL_SEQ=30      ... for the shell script
#   BENCH_FLOOR=50          floor samples of each kind
#   BENCH_CONC=8            ADDs at once (spread over the 3 nodes)
#   BENCH_CONC_ROUNDS=10    rounds of those for osn and bridge
#   BENCH_SHELL_CONC_ROUNDS=3
#   BENCH_POOL_SIZE=4       pool_size of the pool path ("osn"); the other is 0
#   BENCH_WARM=2            warm_ports of the pool path (0: none)
#   BENCH_SCALE_POINTS="0 2000 5000"
#                           NB sizes to measure at ("": skip the scale part;
#                           BENCH_SCALE_PORTS=N alone means "0 N")
#   BENCH_SCALE_SEQ=20      at each: osn cycles with and without pools on the
#                           scale net
#   BENCH_SCALE_FLOOR=12    at each: floor samples of each kind on it
#   BENCH_SCALE_CTL=12      at each: pool cycles on the seed net (a control)
#   BENCH_SCALE_SHELL=3     at each but +0: shell cycles
#   OSN_OVN=RELEASE         run OVS/OVN of that release (23.03, 25.03, 26.03 or
#                           a Debian suite; osn-sandbox up --ovn), every part;
#                           `make bench OVN=RELEASE` sets it
#   BENCH_OUT=bench/out     where the results go (bench/out-ovnRELEASE with OSN_OVN)
#   OSN_KEEP=1              leave the sandbox up (remove it with
#                           "sandbox/osn-sandbox down --dir DIR")
#   BENCH_STARTUP=20        VERSION runs of each plugin (process start cost)
#   BENCH_MIGRATION=0       skip the live-migration interruption (bench/migration.sh)
#   BENCH_CLUSTER=0         skip ADD/DEL on a Raft NB beside standalone (bench/cluster.sh)
#   BENCH_LAYER3=0          skip layer3 ADDs beside layer2 (bench/layer3.sh)
# Needs root, OVS/OVN (scripts/deps.sh), python3 (stdlib only) and a C
# compiler (bench/spawn.c, built into the sandbox dir); installs
# containernetworking-plugins with apt-get when /usr/lib/cni/bridge is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OSN_BUILD=${OSN_BUILD:-$ROOT/build}
SANDBOX=$ROOT/sandbox/osn-sandbox
PLUGIN=$OSN_BUILD/src/plugin/ovn-kubernetes
OUT=${BENCH_OUT:-$ROOT/bench/out${OSN_OVN:+-ovn$OSN_OVN}}
PY=$(command -v python3 || true)

die() {
    echo "bench: $*" >&2
    exit 1
}

[[ $(id -u) -eq 0 ]] || die "needs root (network namespaces, OVS)"
[[ -n "$PY" ]] || die "needs python3"
[[ -x "$PLUGIN" ]] || die "not built: $PLUGIN (run make, or set OSN_BUILD)"
for t in ip ovn-nbctl ovs-vsctl ovsdb-server ovn-northd ovn-controller ovs-vswitchd ethtool sha1sum; do
    command -v "$t" >/dev/null || die "missing tool '$t' (scripts/deps.sh installs OVS/OVN)"
done
if [[ ! -x /usr/lib/cni/bridge || ! -x /usr/lib/cni/host-local ]]; then
    echo "# installing containernetworking-plugins (the bridge + host-local peers)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q containernetworking-plugins >&2 ||
        die "cannot install containernetworking-plugins"
fi
PY=$("$PY" -c 'import sys; print(sys.executable)')

DIR=$(mktemp -d /tmp/osn-bench.XXXXXX)
T0=$EPOCHREALTIME
since() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n "${BENCH_PID:-}" ]] && kill -0 "$BENCH_PID" 2>/dev/null; then
        kill "$BENCH_PID" 2>/dev/null || true
        wait "$BENCH_PID" 2>/dev/null || true
    fi
    if [[ "${OSN_KEEP:-0}" == 1 ]]; then
        echo "# OSN_KEEP=1: sandbox left up (remove: $SANDBOX down --dir $DIR)" >&2
    else
        "$SANDBOX" down --dir "$DIR" >/dev/null 2>&1 ||
            echo "# warning: osn-sandbox down --dir $DIR failed" >&2
        rmdir "$DIR" 2>/dev/null || true
        if [[ -n "${PREFIX:-}" ]] && ip netns list | grep -q "^$PREFIX-"; then
            echo "# warning: netns left behind: $(ip netns list | grep "^$PREFIX-" | tr '\n' ' ')" >&2
        fi
    fi
    echo "# bench/run.sh: $(since) s in all (sandbox up and down included)" >&2
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "# sandbox: $SANDBOX up --dir $DIR --nodes 3" >&2
if ! "$SANDBOX" up --dir "$DIR" --nodes 3 >"$DIR.up.log" 2>&1; then
    sed 's/^/#   /' "$DIR.up.log" >&2
    rm -f "$DIR.up.log"
    die "osn-sandbox up failed"
fi
rm -f "$DIR.up.log"
PREFIX=$(sed -n 's/^PREFIX=//p' "$DIR/.osn-sandbox")
# With OSN_OVN, the release's own tools come first (bench.py's ovn-nbctl and
# versions, guard.py's ovsdb-server and its NB schema).
OVN_ROOT=$(sed -n 's/^OVN_ROOT=//p' "$DIR/.osn-sandbox")
if [[ -n "$OVN_ROOT" ]]; then
    export PATH="$OVN_ROOT/osn/bin:$PATH" NB_SCHEMA=$OVN_ROOT/usr/share/ovn/ovn-nb.ovsschema
fi
echo "# OVN $(ovn-northd --version | sed -n '1s/.* //p'), OVS $(ovs-vswitchd --version | sed -n '1s/.* //p') (${OVN_ROOT:-the host})" >&2
# The launcher that times and measures each job (see bench/spawn.c); static
# when libc.a is there, so that its own RSS (the floor of the peak RSS
# reported) stays about 1 MiB.
# The plugin is copied into the sandbox dir: the whole run measures one
# binary even if build/ is relinked meanwhile.
cp "$PLUGIN" "$DIR/ovn-kubernetes" || die "cannot copy $PLUGIN"
CC=${CC:-cc}
"$CC" -O2 -static -o "$DIR/bench-spawn" "$ROOT/bench/spawn.c" 2>/dev/null ||
    "$CC" -O2 -o "$DIR/bench-spawn" "$ROOT/bench/spawn.c" ||
    die "cannot build bench/spawn.c with $CC"
echo "# sandbox up in $(since) s; benchmark starts" >&2

mkdir -p "$OUT"
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ in bench/
# The controller runs in the background so that a signal reaches this
# shell at once (bash defers traps while waiting for a foreground child).
BENCH_SANDBOX=$SANDBOX BENCH_DIR=$DIR BENCH_PLUGIN=$DIR/ovn-kubernetes BENCH_PLUGIN_SRC=$PLUGIN BENCH_OUT=$OUT BENCH_SPAWN=$DIR/bench-spawn \
    "$PY" "$ROOT/bench/bench.py" &
BENCH_PID=$!
wait "$BENCH_PID"
BENCH_PID=
if command -v rsvg-convert >/dev/null && [[ -f "$OUT/latency.svg" ]]; then
    rsvg-convert "$OUT/latency.svg" -o "$OUT/latency.png" 2>/dev/null || true
fi

# The server-side cost of the address claims' guards (bench/guard.py): an
# ovsdb-server of its own, no sandbox needed.
BENCH_OUT="$OUT" python3 "$ROOT/bench/guard.py" | tee "$OUT/guard.txt"
[[ "${BENCH_MIGRATION:-1}" == 0 ]] || BENCH_OUT=$OUT OSN_BUILD=$OSN_BUILD "$ROOT/bench/migration.sh" || echo "bench: migration part failed" >&2
# ADD/DEL on a 3-member Raft NB beside a standalone one (bench/cluster.sh).
[[ "${BENCH_CLUSTER:-1}" == 0 ]] || BENCH_OUT=$OUT OSN_BUILD=$OSN_BUILD "$ROOT/bench/cluster.sh" || echo "bench: cluster part failed" >&2
[[ "${BENCH_LAYER3:-1}" == 0 ]] || BENCH_OUT=$OUT OSN_BUILD=$OSN_BUILD "$ROOT/bench/layer3.sh" || echo "bench: layer3 part failed" >&2
