#!/usr/bin/env bash
# test-docs-cli: the hand-written docs name every osnctl command and option.
#
# The commands are those `osnctl --help` lists; the options those each
# `osnctl COMMAND --help` and `osnctl --help` list.  Each must appear in
# docs/osnctl.md (the operator's tour; the man page is generated from --help
# and needs no check).  Also: the docs a user reads carry no issue numbers,
# and the plugin's and osnctl's help no longer say OVN hands out addresses.
#
# The man pages' headers name osn's version.
#
#   OSN_BUILD=build tests/unit/test-docs-cli.sh
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
OSN_BUILD=${OSN_BUILD:-$ROOT/build}
OSNCTL=$OSN_BUILD/src/osnctl/osnctl
PLUGIN=$OSN_BUILD/src/plugin/ovn-kubernetes
[[ -x "$OSNCTL" && -x "$PLUGIN" ]] || { echo "SKIP: not built: $OSNCTL, $PLUGIN"; exit 77; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
DOC=$ROOT/docs/osnctl.md
passed=0 failed=0
ok() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

help=$("$OSNCTL" --help)
mapfile -t commands < <(awk '/^Commands:/ { c = 1; next } c && /^$/ { exit } c && /^  [a-z]/ { print $1 }' <<<"$help")
((${#commands[@]} >= 10)) && ok "osnctl --help lists ${#commands[@]} commands" ||
    fail "osnctl --help lists only ${#commands[@]} commands: ${commands[*]}"

# options TEXT: every long option the text names.
options() { grep -o -- '--[a-z][a-z-]*' <<<"$1" | sort -u; }

declare -A seen=()
for c in "${commands[@]}"; do
    if grep -q -- "\`$c\b\|\`osnctl $c\b" "$DOC"; then ok "docs/osnctl.md: command $c"; else
        fail "docs/osnctl.md does not document command \"$c\""; fi
    sub=$("$OSNCTL" "$c" --help) || { fail "osnctl $c --help failed"; continue; }
    for o in $(options "$sub"); do seen[$o]=1; done
done
for o in $(options "$help"); do seen[$o]=1; done
for o in "${!seen[@]}"; do
    [[ $o == --help ]] && continue
    if grep -q -- "$o\b" "$DOC"; then ok "docs/osnctl.md: option $o"; else
        fail "docs/osnctl.md does not document option \"$o\""; fi
done

# Issue numbers mean nothing to a user.
for f in docs/osnctl.md docs/errors.md docs/metrics.md; do
    if grep -n -i -E '\bissues? #?[0-9]+' "$ROOT/$f"; then fail "$f mentions issue numbers"; else ok "$f: no issue numbers"; fi
done
# What the help says about addresses: osn hands them out, not OVN.
for t in "$("$PLUGIN" --help)" "$("$OSNCTL" networks --help)"; do
    if grep -q -E 'OVN hands|OVN IPAM' <<<"$t"; then fail "a --help still says OVN hands out addresses"; else ok "--help: osn hands out addresses"; fi
done
# errors.md: code 11 covers a full subnet.
if grep -E '^\| 11 ' "$ROOT/docs/errors.md" | grep -q 'subnet.*full\|full subnet'; then ok "errors.md: code 11 includes a full subnet"; else
    fail "errors.md: code 11 does not mention a full subnet"; fi

# The generated man pages name osn's version in their header, nothing else.
for m in "$OSN_BUILD"/src/osnctl/osnctl.8 "$OSN_BUILD"/src/osnctl/ovn-kubernetes.8; do
    th=$(grep -m1 '^\.TH' "$m" 2>/dev/null)
    if [[ $th =~ \"osn\ [0-9]+\.[0-9]+\.[0-9]+\" ]]; then ok "$(basename "$m"): header $th"; else
        fail "$(basename "$m"): header \"$th\" does not name osn's version"; fi
done

echo "test-docs-cli: $passed passed, $failed failed"
((failed == 0 && passed > 0))
