#!/usr/bin/env bash
# bench/northd-cost.sh: what one new logical port costs ovn-northd on a big
# NB, by the kind of port osn makes: a port with its MAC and addresses (what
# osn's ADD inserts), a port with address "unknown" (macSecurityMode:
# disabled), and a localnet port with tag_request (a VLAN network's).  Newer
# northds process the first kind incrementally; the others force a full
# recompute on every release that has incremental processing.
#
#   OSN_OVN=25.03 bench/northd-cost.sh          (default: the host's OVN)
#
# On a 1-node sandbox of its own: BENCH_NB_PORTS (default 5000) ports on one
# switch, then BENCH_NORTHD_N (default 7) samples of each kind, interleaved:
# the wall time of `ovn-nbctl --wait=sb` that adds the port (northd has
# processed it and written the SB), then the same for its delete, and of
# `ovn-nbctl --wait=sb sync` alone (row "none": ovn-nbctl's own start and
# its read of the NB, and northd's round with nothing to do; subtract it).
# Prints the medians in ms.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SANDBOX=$ROOT/sandbox/osn-sandbox
PORTS=${BENCH_NB_PORTS:-5000}
N=${BENCH_NORTHD_N:-7}
[[ $(id -u) -eq 0 ]] || { echo "northd-cost: needs root" >&2; exit 1; }

DIR=$(mktemp -d /tmp/osn-northd.XXXXXX)
trap '"$SANDBOX" down --dir "$DIR" >/dev/null 2>&1 || true' EXIT
"$SANDBOX" up --dir "$DIR" --nodes 1 >/dev/null
nbctl() { "$SANDBOX" nbctl --dir "$DIR" --timeout=120 "$@"; }
echo "# $("$SANDBOX" status --dir "$DIR" | sed -n 2p | sed 's/^ *//'); $PORTS ports on the switch; $N samples of each kind"

# The big switch, in one transaction (ovn-nbctl commands from a file).
cmds=$(mktemp)
for ((i = 0; i < PORTS; i++)); do
    printf -- '-- lsp-add big p%d -- lsp-set-addresses p%d "0a:00:%02x:%02x:%02x:01 10.%d.%d.%d"\n' \
        "$i" "$i" $((i >> 16 & 255)) $((i >> 8 & 255)) $((i & 255)) \
        $((100 + (i >> 16))) $((i >> 8 & 255)) $((i & 255 | 1)) >>"$cmds"
done
t0=$EPOCHREALTIME
# shellcheck disable=SC2046
# (ovn-nbctl warns of its own long poll interval on so big a transaction.)
eval "nbctl --wait=sb ls-add big $(tr '\n' ' ' <"$cmds")" 2>"$DIR.fill.err" ||
    { cat "$DIR.fill.err" >&2; rm -f "$DIR.fill.err"; echo "northd-cost: cannot fill the switch" >&2; exit 1; }
rm -f "$DIR.fill.err"
rm -f "$cmds"
echo "# filled: $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"

ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }'; }
declare -A add del
for ((k = 0; k < N; k++)); do
    t0=$EPOCHREALTIME
    nbctl --wait=sb sync
    add[none]+="$(ms "$t0" "$EPOCHREALTIME") "
    del[none]+="$(ms "$t0" "$EPOCHREALTIME") "
    for kind in addresses unknown localnet-vlan; do
        p="x-$kind-$k"
        case $kind in
        addresses) args=(-- lsp-set-addresses "$p" "0a:ff:00:00:00:$(printf %02x "$k") 10.250.0.$((k + 1))") ;;
        unknown) args=(-- lsp-set-addresses "$p" unknown) ;;
        localnet-vlan) args=(-- lsp-set-type "$p" localnet -- lsp-set-addresses "$p" unknown
            -- lsp-set-options "$p" network_name=physnet -- set Logical_Switch_Port "$p" tag_request=$((100 + k))) ;;
        esac
        t0=$EPOCHREALTIME
        nbctl --wait=sb lsp-add big "$p" "${args[@]}"
        add[$kind]+="$(ms "$t0" "$EPOCHREALTIME") "
        t0=$EPOCHREALTIME
        nbctl --wait=sb lsp-del "$p"
        del[$kind]+="$(ms "$t0" "$EPOCHREALTIME") "
    done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '%-16s %14s %14s\n' "port kind" "add p50 ms" "delete p50 ms"
for kind in none addresses unknown localnet-vlan; do
    printf '%-16s %14s %14s\n' "$kind" "$(median <<<"${add[$kind]}")" "$(median <<<"${del[$kind]}")"
done
echo "# load average $(cut -d' ' -f1-3 /proc/loadavg)"
