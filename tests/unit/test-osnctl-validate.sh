#!/usr/bin/env bash
# test-osnctl-validate: golden files for `osnctl validate` (no root needed).
#
# Every input under tests/golden/validate/in/ is validated on its own, from
# inside that directory (so the file names in the output are stable); its
# stdout followed by "[exit N]" must equal out/<input>.txt byte for byte.
# The whole directory at once must equal out/ALL.txt (text) and
# out/ALL.json (--json); stdin ("-") must equal out/stdin.txt.
#
#   OSN_BUILD=build tests/unit/test-osnctl-validate.sh
#   OSN_UPDATE_GOLDEN=1 ...   rewrites the expected files from the output
#                             (review the diff before committing it)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OSN_BUILD=${OSN_BUILD:-$ROOT/build}
OSNCTL=$OSN_BUILD/src/osnctl/osnctl
GOLDEN=$ROOT/tests/golden/validate
[[ -x "$OSNCTL" ]] || { echo "SKIP: not built: $OSNCTL"; exit 77; }
# An ASan build: leaks are failures too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

passed=0 failed=0
tmp=$(mktemp -d /tmp/osn-golden.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

# compare NAME EXPECTED_FILE ACTUAL_FILE
compare() {
    if [[ "${OSN_UPDATE_GOLDEN:-0}" == 1 ]]; then
        cp "$3" "$2"
        echo "UPDATED: $1"
        passed=$((passed + 1))
    elif [[ ! -f "$2" ]]; then
        echo "FAIL: $1: no expected output $2 (OSN_UPDATE_GOLDEN=1 writes it)"
        failed=$((failed + 1))
    elif cmp -s "$2" "$3"; then
        echo "PASS: $1"
        passed=$((passed + 1))
    else
        echo "FAIL: $1"
        diff -u "$2" "$3" | sed 's/^/#   /'
        failed=$((failed + 1))
    fi
}

# run OUTFILE ARGS...: osnctl validate ARGS in in/, stdout + "[exit N]".
run() {
    local out=$1
    shift
    (cd "$GOLDEN/in" && "$OSNCTL" validate "$@" 2>"$out.err"; echo "[exit $?]") >"$out"
    if [[ -s "$out.err" ]]; then
        # validate reports on stdout; stderr is for osnctl's own failures.
        echo "FAIL: validate $*: wrote to stderr:"
        sed 's/^/#   /' "$out.err"
        failed=$((failed + 1))
    fi
}

for f in "$GOLDEN"/in/*; do
    name=$(basename "$f")
    run "$tmp/$name.txt" "$name"
    compare "$name" "$GOLDEN/out/$name.txt" "$tmp/$name.txt"
done

run "$tmp/ALL.txt" .
compare "the whole directory" "$GOLDEN/out/ALL.txt" "$tmp/ALL.txt"
run "$tmp/ALL.json" --json .
compare "the whole directory, --json" "$GOLDEN/out/ALL.json" "$tmp/ALL.json"
if ! command -v jq >/dev/null; then
    echo "# jq missing: --json not parsed"
elif sed '$d' "$tmp/ALL.json" | jq -e '.results | length > 0' >/dev/null; then
    echo "PASS: --json output parses"
    passed=$((passed + 1))
else
    echo "FAIL: --json output does not parse"
    failed=$((failed + 1))
fi
(cd "$GOLDEN/in" && "$OSNCTL" validate - <seed-tenant-network-1.yaml; echo "[exit $?]") >"$tmp/stdin.txt" 2>&1
compare "stdin" "$GOLDEN/out/stdin.txt" "$tmp/stdin.txt"
(cd "$GOLDEN/in" && "$OSNCTL" validate - </dev/null; echo "[exit $?]") >"$tmp/stdin-empty.txt" 2>&1
compare "empty stdin" "$GOLDEN/out/stdin-empty.txt" "$tmp/stdin-empty.txt"

# With -c NODE_CONFIG: the checks that need the node (tests/golden/validate/node).
(cd "$GOLDEN/node" && "$OSNCTL" validate -c osn.json mtu.yaml; echo "[exit $?]") >"$tmp/node.txt" 2>&1
compare "-c osn.json mtu.yaml" "$GOLDEN/out/node-mtu.txt" "$tmp/node.txt"
# ... and which network each NAD lands on, what the node's grants refuse.
(cd "$GOLDEN/node" && "$OSNCTL" validate -c osn.json tenancy.yaml; echo "[exit $?]") >"$tmp/node-tenancy.txt" 2>&1
compare "-c osn.json tenancy.yaml" "$GOLDEN/out/node-tenancy.txt" "$tmp/node-tenancy.txt"

# Deep nesting is refused in bounded time (libyaml is quadratic in depth).
{
    printf 'kind: x\nv: '
    printf '%*s' 100000 '' | tr ' ' '['
    printf '%*s' 100000 '' | tr ' ' ']'
    printf '\n'
} >"$tmp/deep.yaml"
start=$(date +%s%N)
out=$("$OSNCTL" validate "$tmp/deep.yaml")
ms=$((($(date +%s%N) - start) / 1000000))
if [[ $out == *"nested more than 100 levels deep"* && $ms -lt 2000 ]]; then
    echo "PASS: 100,000 levels of nesting refused in $ms ms"
    passed=$((passed + 1))
else
    echo "FAIL: deep nesting: $ms ms: $out"
    failed=$((failed + 1))
fi

# Usage errors exit 2; a missing file is a problem (1), reported in line.
"$OSNCTL" validate >/dev/null 2>&1
rc=$?
if [[ $rc == 2 ]]; then echo "PASS: no FILE: exit 2"; passed=$((passed + 1)); else
    echo "FAIL: no FILE: exit $rc, expected 2"; failed=$((failed + 1)); fi
out=$("$OSNCTL" validate /nonexistent/x.yaml 2>&1)
rc=$?
if [[ $rc == 1 && "$out" == "/nonexistent/x.yaml: error: cannot read: No such file or directory"* ]]; then
    echo "PASS: missing file: exit 1, named"; passed=$((passed + 1))
else
    echo "FAIL: missing file: exit $rc: $out"; failed=$((failed + 1))
fi
"$OSNCTL" validate --dry-run x >/dev/null 2>&1
rc=$?
if [[ $rc == 2 ]]; then echo "PASS: an option of another command: exit 2"; passed=$((passed + 1)); else
    echo "FAIL: validate --dry-run: exit $rc, expected 2"; failed=$((failed + 1)); fi

# --strict: a typo'd key (a warning: "subnett" leaves the network without
# IPAM) fails with exit 3, its warning printed before the network's
# settings; a clean file still passes; an invalid one is still 1.
out=$(cd "$GOLDEN/in" && "$OSNCTL" validate --strict warn-typos.yaml)
rc=$?
first=$(head -1 <<<"$out")
if [[ $rc == 3 && $first == *'warning:'*'"subnett"'* && $out == *'(--strict: they fail)'* ]]; then
    echo "PASS: --strict on a typo'd key: exit 3, the warning first"; passed=$((passed + 1))
else
    echo "FAIL: --strict on a typo'd key: exit $rc: $out"; failed=$((failed + 1))
fi
(cd "$GOLDEN/in" && "$OSNCTL" validate --strict seed-fixed-multi.yaml >/dev/null)
rc=$?
if [[ $rc == 0 ]]; then echo "PASS: --strict on a clean file: exit 0"; passed=$((passed + 1)); else
    echo "FAIL: --strict on a clean file: exit $rc"; failed=$((failed + 1)); fi
(cd "$GOLDEN/in" && "$OSNCTL" validate --strict bad-empty.yaml >/dev/null)
rc=$?
if [[ $rc == 1 ]]; then echo "PASS: --strict on an invalid file: exit 1"; passed=$((passed + 1)); else
    echo "FAIL: --strict on an invalid file: exit $rc"; failed=$((failed + 1)); fi
json=$(cd "$GOLDEN/in" && "$OSNCTL" validate --strict --json warn-typos.yaml)
if command -v jq >/dev/null && jq -e '.strict == true and .warnings == 3' >/dev/null <<<"$json"; then
    echo "PASS: --strict --json says strict"; passed=$((passed + 1))
else
    echo "FAIL: --strict --json: $json"; failed=$((failed + 1))
fi

echo "test-osnctl-validate: $passed passed, $failed failed"
((failed == 0 && passed > 0))
