#!/usr/bin/env bash
# Runs every libFuzzer harness of a fuzz build for FUZZ_SECONDS (default 30)
# each, starting from tests/fuzz/corpus/<name>/ when it exists and with
# tests/fuzz/<name>.dict when it exists.  New corpus entries go to a temp
# dir; crashes are left as crash-* files in the current directory and fail
# the run.
set -euo pipefail
build=${1:?usage: tests/fuzz/run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
secs=${FUZZ_SECONDS:-30}
failed=0 ran=0
for exe in "$build"/tests/fuzz/fuzz-*; do
    [[ -f $exe && -x $exe ]] || continue
    name=${exe##*/fuzz-}
    work=$(mktemp -d)
    args=(-max_total_time="$secs" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1)
    [[ -f $here/$name.dict ]] && args+=(-dict="$here/$name.dict")
    seeds=()
    [[ -d $here/corpus/$name ]] && seeds+=("$here/corpus/$name")
    echo "== fuzz-$name for ${secs}s"
    if "$exe" "${args[@]}" "$work" "${seeds[@]}" 2>&1 | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY' ; then :; fi
    if [[ ${PIPESTATUS[0]} -ne 0 ]]; then failed=$((failed + 1)); echo "fuzz-$name: FAILED"; fi
    ran=$((ran + 1))
    rm -rf "$work"
done
echo "$((ran - failed)) passed, $failed failed"
[[ $ran -gt 0 && $failed -eq 0 ]]
