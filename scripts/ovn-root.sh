#!/usr/bin/env bash
# ovn-root.sh: a root filesystem of one Debian suite with its own Open vSwitch
# and OVN, for the sandbox (sandbox/osn-sandbox up --ovn), the tests, the
# bench and `make image-ovn OVN=...`.  Prints the root's directory.
#
#   scripts/ovn-root.sh RELEASE           build or refresh, print the root
#   scripts/ovn-root.sh --suite RELEASE   print the Debian suite RELEASE maps to
#   scripts/ovn-root.sh --list            the releases it knows, one a line
#
# RELEASE is an OVN release (23.03, 25.03, 26.03) or a Debian suite
# (bookworm, trixie, sid, ...).  The releases map to the suites that carry
# them: 23.03 bookworm, 25.03 trixie, 26.03 sid; after a build the root's
# ovn-host must be of the release asked for, else it fails and says which it
# found (sid moves on).
#
# The root is built by debootstrap --variant=minbase with openvswitch-switch,
# ovn-central and ovn-host, from the Debian mirror of this machine's own apt
# configuration (/etc/apt/sources.list and sources.list.d), and cached in
# $OSN_OVN_CACHE (default /var/cache/osn) as ovn-SUITE -> ovn-SUITE.BUILD,
# never in the source tree.  It is rebuilt when the suite's openvswitch-switch,
# ovn-central or ovn-host in the mirror differ from the root's; that check
# runs at most every $OSN_OVN_CHECK_HOURS hours (default 24; 0: every time)
# and is skipped, keeping the cached root, when the mirror cannot be reached.
# Concurrent callers wait for each other (flock on ovn-SUITE.lock).  The
# previous build is kept until the next one replaces it (a running sandbox
# may still use it); older ones are removed.
#
# The root's programs run from the host without chroot: ROOT/osn/bin holds a
# wrapper per program (ovsdb-server, ovsdb-tool, ovs-vswitchd, ovs-vsctl,
# ovs-appctl, ovs-ofctl, ovs-dpctl, ovn-northd, ovn-controller, ovn-nbctl,
# ovn-sbctl, ovn-appctl, ovn-trace) that starts it with the root's own dynamic
# loader and libraries, so that host paths (sandbox dirs, netns, /proc, /sys)
# stay what they are.  ROOT/osn/versions says what is in it.
# Needs root, debootstrap and curl (scripts/deps.sh).
set -euo pipefail

PROG=ovn-root
CACHE=${OSN_OVN_CACHE:-/var/cache/osn}
CHECK_HOURS=${OSN_OVN_CHECK_HOURS:-24}
PACKAGES=(openvswitch-switch ovn-central ovn-host)
TOOLS=(ovsdb-server ovsdb-tool ovs-vswitchd ovs-vsctl ovs-appctl ovs-ofctl ovs-dpctl
    ovn-northd ovn-controller ovn-nbctl ovn-sbctl ovn-appctl ovn-trace)
ARCH=$(dpkg --print-architecture)
case "$ARCH" in
amd64) MULTIARCH=x86_64-linux-gnu LOADER=/lib64/ld-linux-x86-64.so.2 ;;
arm64) MULTIARCH=aarch64-linux-gnu LOADER=/lib/ld-linux-aarch64.so.1 ;;
*) echo "ovn-root: architecture $ARCH is not supported" >&2; exit 1 ;;
esac

die() {
    echo "$PROG: error: $*" >&2
    exit 1
}
info() { echo "$PROG: $*" >&2; }

# The OVN release each suite is known to carry (and back).
suite_of() {
    case "$1" in
    23.03) echo bookworm ;;
    25.03) echo trixie ;;
    26.03) echo sid ;;
    [a-z]*) echo "$1" ;;
    *) die "unknown OVN release '$1' (use 23.03, 25.03, 26.03 or a Debian suite name)" ;;
    esac
}

# The first Debian archive URI of this machine's apt sources (one-line and
# deb822 formats), not the security archive.
mirror() {
    local f uri=""
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -r "$f" ]] || continue
        uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' "$f" |
            grep -v -- '-security' | grep '/debian/\?$' | head -n 1 || true)
        [[ -z "$uri" ]] || break
    done
    if [[ -z "$uri" ]]; then
        for f in /etc/apt/sources.list.d/*.sources; do
            [[ -r "$f" ]] || continue
            uri=$(awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f" |
                grep -v -- '-security' | grep '/debian/\?$' | head -n 1 || true)
            [[ -z "$uri" ]] || break
        done
    fi
    [[ -n "$uri" ]] || die "no Debian archive in /etc/apt/sources.list*; cannot build a root"
    echo "${uri%/}"
}

# remote_versions SUITE: "pkg version" of PACKAGES in the mirror's SUITE.
remote_versions() {
    local suite=$1 url
    url="$(mirror)/dists/$suite/main/binary-$ARCH/Packages.xz"
    curl -fsS --max-time 120 "$url" | xz -dc |
        awk -v want=" ${PACKAGES[*]} " '
            /^Package: / { p = $2 }
            /^Version: / && index(want, " " p " ") { v[p] = $2 }
            END { for (p in v) print p, v[p] }' | sort
}

# local_versions ROOT: the same for a built root.
local_versions() {
    dpkg-query --admindir="$1/var/lib/dpkg" -W -f='${Package} ${Version}\n' "${PACKAGES[@]}" | sort
}

# Resolve PATH inside ROOT (absolute symlinks point into the root).
resolve_in() {
    local root=$1 p=$2 n=0 t
    while [[ -L "$root$p" ]] && ((n++ < 20)); do
        t=$(readlink "$root$p")
        if [[ "$t" == /* ]]; then p=$t; else p=$(dirname "$p")/$t; fi
    done
    echo "$p"
}

write_wrappers() {
    local root=$1 tool path loader libs
    loader=$(resolve_in "$root" "$LOADER")
    [[ -f "$root$loader" ]] || die "no dynamic loader in $root"
    libs=/usr/lib/$MULTIARCH
    mkdir -p "$root/osn/bin"
    for tool in "${TOOLS[@]}"; do
        path=""
        for d in /usr/sbin /usr/bin; do
            if [[ -e "$root$d/$tool" || -L "$root$d/$tool" ]]; then
                path=$(resolve_in "$root" "$d/$tool")
                break
            fi
        done
        [[ -n "$path" && -f "$root$path" ]] || die "no $tool in $root"
        # The root is found from the wrapper's own path ($0 is absolute
        # when run through PATH or by its full name), so the build can
        # be renamed.
        cat >"$root/osn/bin/$tool" <<EOF
#!/bin/sh
r=\${0%/osn/bin/*}
case "\$r" in /*) ;; *) r=\$(cd "\${0%/*}/../.." && pwd) ;; esac
exec "\$r$loader" --library-path "\$r$libs" "\$r$path" "\$@"
EOF
        chmod 0755 "$root/osn/bin/$tool"
    done
}

build() {
    local suite=$1 new=$2
    info "building the $suite root in $new (debootstrap, a few minutes)"
    local log=$new.log
    if ! debootstrap --variant=minbase --arch="$ARCH" \
        --include="$(
            IFS=,
            echo "${PACKAGES[*]}"
        )" "$suite" "$new" "$(mirror)" >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        rm -rf "$new"
        die "debootstrap $suite failed (log $log)"
    fi
    rm -f "$log"
    # Nothing of the root's own services is ever started; its caches go.
    rm -rf "$new"/var/cache/apt/archives/*.deb "$new"/var/lib/apt/lists/*_Packages
    write_wrappers "$new"
    {
        echo "suite $suite"
        local_versions "$new"
        echo "ovn $("$new/osn/bin/ovn-northd" --version | sed -n '1s/.* //p')"
        echo "ovs $("$new/osn/bin/ovs-vswitchd" --version | sed -n '1s/.* //p')"
    } >"$new/osn/versions"
}

main() {
    case "${1:-}" in
    --list)
        printf '%s\n' 23.03 25.03 26.03
        return 0
        ;;
    --suite)
        suite_of "${2:?--suite RELEASE}"
        return 0
        ;;
    "" | -h | --help)
        sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'
        return 0
        ;;
    esac
    local release=$1 suite link
    suite=$(suite_of "$release")
    [[ "$suite" =~ ^[a-z][a-z0-9-]*$ ]] || die "bad suite '$suite'"
    [[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap)"
    command -v debootstrap >/dev/null || die "missing debootstrap (scripts/deps.sh)"
    mkdir -p "$CACHE"
    link=$CACHE/ovn-$suite
    exec 9>"$link.lock"
    flock -w 1800 9 || die "waited 30 min for $link.lock"

    local stamp=$link.checked need=0 remote
    if [[ ! -f "$link/osn/versions" ]]; then
        need=1
    elif [[ "$CHECK_HOURS" == 0 || ! -f "$stamp" ]] ||
        [[ -n "$(find "$stamp" -mmin +$((CHECK_HOURS * 60)) 2>/dev/null)" ]]; then
        if remote=$(remote_versions "$suite") && [[ -n "$remote" ]]; then
            touch "$stamp"
            if [[ "$remote" != "$(local_versions "$link")" ]]; then
                info "the $suite packages changed ($(tr '\n' ' ' <<<"$remote")); rebuilding"
                need=1
            fi
        else
            info "cannot reach the mirror to check $suite; keeping the cached root"
        fi
    fi
    if ((need)); then
        local new
        new=$CACHE/ovn-$suite.$(date -u +%Y%m%dT%H%M%S)
        build "$suite" "$new"
        local old=""
        [[ -L "$link" ]] && old=$(readlink -f "$link")
        ln -sfn "$(basename "$new")" "$link.tmp"
        mv -T "$link.tmp" "$link"
        touch "$stamp"
        # Keep the one before (a sandbox may run from it); drop older ones.
        local d
        for d in "$CACHE/ovn-$suite".[0-9]*; do
            [[ -d "$d" ]] || continue
            [[ "$d" == "$new" || "$d" == "$old" ]] && continue
            rm -rf "$d"
        done
    fi
    local root ovn
    root=$(readlink -f "$link")
    ovn=$(sed -n 's/^ovn //p' "$root/osn/versions")
    if [[ "$release" =~ ^[0-9]+\.[0-9]+$ && "$ovn" != "$release".* ]]; then
        die "Debian $suite carries OVN $ovn, not $release (see $root/osn/versions)"
    fi
    echo "$root"
}

main "$@"
