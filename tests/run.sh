#!/usr/bin/env bash
# Runs the test suites of a meson build dir and ends with the line
#   N passed, N failed, N skipped
# Exit status: 0 only when nothing failed (skips are fine, but a run that
# executed no test at all is a failure).
# OSN_OVN=RELEASE runs every test on that OVN release (osn-sandbox up --ovn)
# and leaves out the ovn-matrix suite (the core suites on the other
# releases), which would only repeat itself.
set -uo pipefail
build=${1:?usage: tests/run.sh BUILD_DIR [meson test args...]}
shift
if [[ -n "${OSN_OVN:-}" ]]; then
    export OSN_OVN
    set -- --no-suite ovn-matrix "$@"
else
    unset OSN_OVN
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
meson test -C "$build" --no-rebuild --print-errorlogs "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
count() { sed -n "s/^$1:[[:space:]]*\([0-9]\+\).*/\1/p" "$log" | tail -n 1; }
ok=$(count Ok); fail=$(count Fail); skip=$(count Skipped)
xfail=$(count 'Expected Fail'); xpass=$(count 'Unexpected Pass'); tout=$(count Timeout)
ok=${ok:-0}; fail=$(( ${fail:-0} + ${xpass:-0} + ${tout:-0} )); skip=${skip:-0}
ok=$(( ok + ${xfail:-0} ))
if [ "$status" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
if [ $((ok + fail)) -eq 0 ]; then echo "no test ran"; fail=1; fi
echo "$ok passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
