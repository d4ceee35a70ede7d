#!/usr/bin/env bash
# compat.sh: the compatibility table of the README: integration suites x OVN
# releases, each cell passed / FAILED / skipped with the suite's time.
#
#   tests/compat.sh BUILD_DIR [RELEASE...]        (make compat)
#
# RELEASE: host (the host's OVS/OVN), 23.03, 25.03, 26.03 or a Debian suite;
# default: host and every other release scripts/ovn-root.sh --list knows.
# COMPAT_SUITES="plugin addresses ..." picks the suites (default: the
# ovn-matrix's core set).  Each suite runs as in `make check` (its own
# sandbox; OSN_OVN=RELEASE, cluster on a 3-member Raft NB); its output goes
# to $COMPAT_LOGS (default a mktemp dir, named at the end).  Prints a
# Markdown table, the versions each release ran and the machine's load.
# Exit status 1 if any cell failed.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(realpath "${1:?usage: tests/compat.sh BUILD_DIR [RELEASE...]}")
shift
matrix() { sed -n "s/^$1 = \[\(.*\)\]/\1/p" "$ROOT/tests/meson.build" | tr -d "',"; }
releases=("$@")
host=$(ovn-northd --version | sed -n '1s/.* \([0-9]*\.[0-9]*\)\..*/\1/p')
[[ ${#releases[@]} -gt 0 ]] ||
    read -ra releases <<<"host $("$ROOT/scripts/ovn-root.sh" --list | grep -vxF "$host" | tr '\n' ' ')"
read -ra suites <<<"${COMPAT_SUITES:-$(matrix ovn_core_tests)}"
logs=${COMPAT_LOGS:-$(mktemp -d /tmp/osn-compat.XXXXXX)}
mkdir -p "$logs"

declare -A cell version
bad=0
for r in "${releases[@]}"; do
    ovn=$r
    [[ "$r" != host ]] || ovn=""
    # The versions that release runs (and its root, built now if need be).
    if [[ -n "$ovn" ]]; then
        if root=$("$ROOT/scripts/ovn-root.sh" "$ovn" 2>"$logs/root-$r.log"); then
            version[$r]="OVN $(sed -n 's/^ovn //p' "$root/osn/versions"), OVS $(sed -n 's/^ovs //p' "$root/osn/versions")"
        else
            version[$r]="no root: $(tail -n 1 "$logs/root-$r.log")"
        fi
    else
        version[$r]="OVN $(ovn-northd --version | sed -n '1s/.* //p'), OVS $(ovs-vswitchd --version | sed -n '1s/.* //p')"
    fi
    for t in "${suites[@]}"; do
        env=(OSN_BUILD="$build")
        [[ -z "$ovn" ]] || env+=(OSN_OVN="$ovn")
        [[ "$t" != cluster ]] || env+=(OSN_TEST_NB_CLUSTER=3)
        t0=$SECONDS
        env "${env[@]}" timeout 900 bash "$ROOT/tests/integration/test-$t.sh" >"$logs/$t-$r.log" 2>&1
        rc=$?
        dt=$((SECONDS - t0))
        case $rc in
        0) cell[$t,$r]="passed (${dt} s)" ;;
        77) cell[$t,$r]="skipped" ;;
        *) cell[$t,$r]="**FAILED** (${dt} s)"; bad=1 ;;
        esac
        echo "# $t on $r: ${cell[$t,$r]}" >&2
    done
done

printf '| suite |'
for r in "${releases[@]}"; do printf ' %s |' "$r"; done
printf '\n|---|'
for r in "${releases[@]}"; do printf -- '---|'; done
printf '\n'
for t in "${suites[@]}"; do
    printf '| %s |' "$t"
    for r in "${releases[@]}"; do printf ' %s |' "${cell[$t,$r]}"; done
    printf '\n'
done
echo
for r in "${releases[@]}"; do echo "- $r: ${version[$r]}"; done
echo "- run on $(date -u +%Y-%m-%d), $(nproc) cores, load average at the end $(cut -d' ' -f1-3 /proc/loadavg); logs in $logs"
exit "$bad"
