# shellcheck shell=bash
# lib.sh: sourced by every integration test.
#
#   . "$(dirname "$0")/lib.sh"
#   require_root_and_tools          # exit 77 (skip) with the reason
#   sandbox_up 3                    # fresh sandbox in a mktemp dir, "down" on exit
#   on node1 ip -br addr            # run in a node's netns (osn-sandbox exec)
#   nbctl ls-list                   # ovn-nbctl against the sandbox
#   ns=$(pod_add a)                 # pod netns path, for CNI_NETNS
#   assert_eq "$want" "$got" "what" # PASS:/FAIL: lines, counted
#   finish                          # "N passed, N failed"; exit 0 or 1
#
# Environment: OSN_BUILD (default ROOT/build) is where the built binaries are
# (the plugin: $OSN_BUILD/src/plugin/ovn-kubernetes); OSN_KEEP=1 leaves the
# sandbox up after the test for a post-mortem (remove it with "osn-sandbox
# down --dir DIR"); OSN_TEST_NB_CLUSTER=M (OSN_TEST_SB_CLUSTER=M) makes
# sandbox_up build the NB (SB) as a Raft cluster of M members, so that any
# suite runs against a clustered NB unchanged; OSN_OVN=RELEASE (23.03, 25.03,
# 26.03 or a Debian suite) runs the sandbox's OVS/OVN from that release
# (osn-sandbox up --ovn), and sandbox_up then puts that release's tools first
# in PATH, so a test's own ovn-nbctl, ovs-vsctl, ovs-appctl are of it too.
#
# Assertions count in the test's own shell: do not call them in a subshell
# ( $(...), a pipeline's right-hand side ), or they will not be counted.

set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OSN_BUILD=${OSN_BUILD:-$ROOT/build}
SANDBOX=$ROOT/sandbox/osn-sandbox
export ROOT OSN_BUILD SANDBOX

_OSN_PASSED=0
_OSN_FAILED=0
_OSN_TEST=$(basename "$0" .sh)${OSN_OVN:+ [OVN $OSN_OVN]}

# ---------------------------------------------------------------- skipping

skip() {
    echo "SKIP: $_OSN_TEST: $*"
    exit 77
}

require_root_and_tools() {
    [[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, OVS)"
    local t
    for t in ip ovn-nbctl ovn-sbctl ovn-northd ovn-controller ovs-vswitchd \
        ovsdb-server ovs-vsctl ovsdb-tool ping; do
        command -v "$t" >/dev/null 2>&1 ||
            skip "missing tool '$t' (install with scripts/deps.sh)"
    done
    [[ -c /dev/net/tun ]] || skip "no /dev/net/tun (OVS userspace datapath needs tap devices)"
    [[ -x "$SANDBOX" ]] || skip "missing $SANDBOX"
}

# require_built PATH...: skip unless these build outputs exist.
require_built() {
    local f
    for f in "$@"; do
        [[ -x "$f" ]] || skip "not built: $f (build into $OSN_BUILD first)"
    done
}

# ---------------------------------------------------------------- sandbox

_osn_cleanup() {
    local rc=$?
    trap - EXIT
    if [[ -n "${SANDBOX_DIR:-}" ]]; then
        if [[ "${OSN_KEEP:-0}" == 1 ]]; then
            echo "# OSN_KEEP=1: sandbox left up in $SANDBOX_DIR" \
                "(remove: $SANDBOX down --dir $SANDBOX_DIR)"
        else
            if [[ $rc -ne 0 || $_OSN_FAILED -ne 0 ]]; then
                _osn_dump_logs
            fi
            "$SANDBOX" down --dir "$SANDBOX_DIR" ||
                echo "# warning: osn-sandbox down failed for $SANDBOX_DIR"
        fi
    fi
    exit "$rc"
}

# On failure, show the warnings and errors of every daemon of the sandbox.
_osn_dump_logs() {
    local f
    for f in "$SANDBOX_DIR"/*.log "$SANDBOX_DIR"/node*/*.log; do
        [[ -f "$f" ]] || continue
        echo "# --- ${f#"$SANDBOX_DIR"/} (warnings/errors, last 15)"
        grep -E '\|(WARN|ERR|EMER)\|' "$f" | tail -n 15 | sed 's/^/#   /'
    done
}

# sandbox_up N [--nb-cluster M] [--sb-cluster M]: a fresh N-node sandbox
# in a new directory; sets SANDBOX_DIR.  The cluster options default to
# $OSN_TEST_NB_CLUSTER / $OSN_TEST_SB_CLUSTER (unset: standalone).  Exits the
# test (status 1) if it cannot come up.
sandbox_up() {
    local n=${1:-3}
    shift || true
    local layout=()
    [[ -z "${OSN_TEST_NB_CLUSTER:-}" ]] || layout+=(--nb-cluster "$OSN_TEST_NB_CLUSTER")
    [[ -z "${OSN_TEST_SB_CLUSTER:-}" ]] || layout+=(--sb-cluster "$OSN_TEST_SB_CLUSTER")
    layout+=("$@")
    SANDBOX_DIR=$(mktemp -d /tmp/osn-it.XXXXXX) || {
        echo "FAIL: mktemp"
        exit 1
    }
    export SANDBOX_DIR
    trap _osn_cleanup EXIT
    trap 'exit 130' INT TERM
    local t0=$SECONDS
    if ! "$SANDBOX" up --dir "$SANDBOX_DIR" --nodes "$n" "${layout[@]}" \
        >"$SANDBOX_DIR.up.log" 2>&1; then
        sed 's/^/# /' "$SANDBOX_DIR.up.log"
        rm -f "$SANDBOX_DIR.up.log"
        fail "osn-sandbox up --nodes $n ${layout[*]}"
        exit 1
    fi
    rm -f "$SANDBOX_DIR.up.log"
    local root
    root=$(sed -n 's/^OVN_ROOT=//p' "$SANDBOX_DIR/.osn-sandbox")
    [[ -z "$root" ]] || export PATH="$root/osn/bin:$PATH"
    echo "# sandbox with $n node(s) ${layout[*]} up in $SANDBOX_DIR ($((SECONDS - t0)) s);" \
        "OVN $(ovn-northd --version | sed -n '1s/.* //p'), OVS $(ovs-vswitchd --version | sed -n '1s/.* //p')"
}

# nb_member ACTION [K]: osn-sandbox nb-member on the test's sandbox
# (stop|kill|start|freeze|thaw K, or leader).
nb_member() { "$SANDBOX" nb-member --dir "$SANDBOX_DIR" "$@"; }

# nb_remote_prefix: what every NB remote of the sandbox starts with
# ("unix:DIR/nb.sock", a socket, or for a cluster the directory of the
# members' sockets).
nb_remote_prefix() { echo "unix:$SANDBOX_DIR/nb.sock"; }

sandbox_down() {
    "$SANDBOX" down --dir "$SANDBOX_DIR"
}

# on NODE CMD...: run CMD in the netns of NODE (osn-node2, node2 or 2), with
# OSN_CONFIG pointing at that node's config.
on() {
    local node=$1
    shift
    "$SANDBOX" exec --dir "$SANDBOX_DIR" "$node" -- "$@"
}

nbctl() { "$SANDBOX" nbctl --dir "$SANDBOX_DIR" "$@"; }
sbctl() { "$SANDBOX" sbctl --dir "$SANDBOX_DIR" "$@"; }
vsctl() { "$SANDBOX" vsctl --dir "$SANDBOX_DIR" "$@"; }

# pod_add NAME: create pod netns, echo its path (for CNI_NETNS).
pod_add() { "$SANDBOX" pod-add --dir "$SANDBOX_DIR" "$1"; }
pod_del() { "$SANDBOX" pod-del --dir "$SANDBOX_DIR" "$1"; }

# The netns name prefix of the current sandbox (osnXXXX).
sandbox_prefix() {
    sed -n 's/^PREFIX=//p' "$SANDBOX_DIR/.osn-sandbox"
}

# procs_mentioning STRING: "PID: CMDLINE" for every process whose command
# line contains STRING (bash builtins only, so no helper process of ours
# shows up).
procs_mentioning() {
    local f args line
    for f in /proc/[0-9]*/cmdline; do
        mapfile -d '' args 2>/dev/null <"$f" || continue
        line="${args[*]}"
        if [[ "$line" == *"$1"* ]]; then
            f=${f#/proc/}
            echo "${f%/cmdline}: $line"
        fi
    done
}

# ---------------------------------------------------------------- assertions

ok() {
    _OSN_PASSED=$((_OSN_PASSED + 1))
    echo "PASS: $*"
}

fail() {
    _OSN_FAILED=$((_OSN_FAILED + 1))
    echo "FAIL: $*"
}

# check DESCRIPTION CMD...: PASS if CMD succeeds; shows its output on FAIL.
check() {
    local what=$1 out
    shift
    if out=$("$@" 2>&1); then
        ok "$what"
    else
        fail "$what"
        [[ -z "$out" ]] || printf '%s\n' "$out" | sed 's/^/#   /'
    fi
}

# check_fails DESCRIPTION CMD...: PASS if CMD fails.
check_fails() {
    local what=$1
    shift
    if "$@" >/dev/null 2>&1; then
        fail "$what (succeeded)"
    else
        ok "$what"
    fi
}

# assert_eq EXPECTED ACTUAL DESCRIPTION
assert_eq() {
    if [[ "$1" == "$2" ]]; then
        ok "$3"
    else
        fail "$3: expected '$1', got '$2'"
    fi
}

# assert_contains HAYSTACK NEEDLE DESCRIPTION
assert_contains() {
    if [[ "$1" == *"$2"* ]]; then
        ok "$3"
    else
        fail "$3: '$2' not in '$1'"
    fi
}

# wait_until TIMEOUT_S CMD...: poll CMD (every 0.2 s) until it succeeds;
# returns 1 if it still fails after TIMEOUT_S seconds.
wait_until() {
    local timeout=$1 start
    shift
    start=$(date +%s%N)
    while :; do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        if (($(date +%s%N) - start >= timeout * 1000000000)); then
            return 1
        fi
        sleep 0.2
    done
}

# finish: the summary line, then exit 1 if anything failed (or nothing was
# asserted at all: a test never passes vacuously), else 0.
finish() {
    echo "$_OSN_TEST: $_OSN_PASSED passed, $_OSN_FAILED failed"
    if ((_OSN_FAILED > 0 || _OSN_PASSED == 0)); then
        exit 1
    fi
    exit 0
}
