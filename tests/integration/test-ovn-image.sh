#!/usr/bin/env bash
# osn's own OVN (deploy/ovn/, issue 11) under containerd: the image of
# scripts/mkimage-ovn.sh (Debian's OVN packages) runs the entrypoint scripts
# of deploy/ovn/ovn-config.yaml exactly as the StatefulSet does: three NB and
# three SB Raft members (ordinal 0 creates each cluster, 1 and 2 join it) and
# ovn-northd, each in its own container, all in one network namespace of
# this test where 10.254.0.1-3 stand for the three control-plane nodes.
# Shown: both clusters form with 3 servers and one leader; northd turns an
# NB logical port into an SB Port_Binding; after the NB leader is killed,
# the two members left elect a leader and still commit writes; a restarted
# member (its database file kept, as on the node's /var/lib/ovn) rejoins.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ctr.sh"
require_root_and_tools
for t in dpkg-query jq python3; do
    command -v "$t" >/dev/null || skip "missing $t"
done
python3 -c 'import yaml' 2>/dev/null || skip "missing PyYAML (python3-yaml)"
dpkg-query -W -f='${db:Status-Status}' busybox-static 2>/dev/null | grep -qx installed ||
    skip "busybox-static not installed (scripts/deps.sh installs it)"

T=$(mktemp -d /tmp/osn-ovnimg.XXXXXX)
NS=osn-ovnimg-${T##*.}
cleanup() {
    local rc=$?
    ctr_down
    ip netns del "$NS" 2>/dev/null
    rm -rf "$T"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

IMG=$T/osn-ovn.oci.tar
OUT=$("$ROOT/scripts/mkimage-ovn.sh" "$IMG" localhost/osn-ovn:test 2>&1)
assert_eq "0" "$?" "mkimage-ovn.sh: $OUT"
echo "# OVN image: $(stat -c %s "$IMG") bytes"
ctr_up "$T/ctd" || finish
ctr_import "$IMG"

# The scripts, as the ConfigMap mounts them.
mkdir -p "$T/scripts" "$T/logs"
python3 - "$ROOT/deploy/ovn/ovn-config.yaml" "$T/scripts" <<'EOF'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("metadata", {}).get("name") == "ovn-scripts":
        for k, v in d["data"].items():
            open(f"{sys.argv[2]}/{k}", "w").write(v)
EOF
[[ -s "$T/scripts/ovsdb.sh" && -s "$T/scripts/northd.sh" ]] || { fail "scripts not extracted"; finish; }

ip netns add "$NS"
ip -n "$NS" link set lo up
for i in 1 2 3; do ip -n "$NS" addr add "10.254.0.$i/32" dev lo; done
IPS="10.254.0.1 10.254.0.2 10.254.0.3"

# member DB ORDINAL: starts ovsdb.sh DB as StatefulSet pod ovn-central-ORDINAL.
member() {
    local db=$1 i=$2 d=$T/m$2
    mkdir -p "$d/lib" "$d/run"
    "${CTR[@]}" run -d --snapshotter native --with-ns "network:/var/run/netns/$NS" \
        --log-uri "file://$T/logs/$db-$i.log" \
        --mount "type=bind,src=$T/scripts,dst=/scripts,options=rbind:ro" \
        --mount "type=bind,src=$d/lib,dst=/var/lib/ovn,options=rbind:rw" \
        --mount "type=bind,src=$d/run,dst=/var/run/ovn,options=rbind:rw" \
        --env POD_NAME="ovn-central-$i" --env HOST_IP="10.254.0.$((i + 1))" \
        --env CENTRAL_IPS="$IPS" \
        localhost/osn-ovn:test "$db-$i" /bin/sh /scripts/ovsdb.sh "$db" >/dev/null
}
# Ordinal 0 first: the others join through it.
for db in nb sb; do member "$db" 0; done
for db in nb sb; do member "$db" 1; member "$db" 2; done
"${CTR[@]}" run -d --snapshotter native --with-ns "network:/var/run/netns/$NS" \
    --log-uri "file://$T/logs/northd.log" \
    --mount "type=bind,src=$T/scripts,dst=/scripts,options=rbind:ro" \
    --mount "type=bind,src=$T/m0/run,dst=/var/run/ovn,options=rbind:rw" \
    --env CENTRAL_IPS="$IPS" localhost/osn-ovn:test northd /bin/sh /scripts/northd.sh >/dev/null

status() { ovn-appctl -t "$T/m$2/run/ovn$1_db.ctl" cluster/status "$3" 2>/dev/null; }
formed() {
    local db=$1 name=$2 i leaders=0
    for i in 0 1 2; do
        status "$db" "$i" "$name" | grep -q '^Status: cluster member' || return 1
        [[ $(status "$db" "$i" "$name" | sed -n '/^Servers:/,$p' | grep -c ':664') == 3 ]] || return 1
        status "$db" "$i" "$name" | grep -q '^Role: leader' && leaders=$((leaders + 1))
    done
    [[ $leaders == 1 ]]
}
for db in nb:OVN_Northbound sb:OVN_Southbound; do
    if wait_until 60 formed "${db%%:*}" "${db#*:}"; then
        ok "${db#*:}: 3 Raft members, one leader"
    else
        fail "${db#*:} cluster did not form within 60 s"
        for i in 0 1 2; do status "${db%%:*}" "$i" "${db#*:}" | sed 's/^/#   /'; done
        "${CTR[@]}" tasks ls | sed 's/^/# /'
        tail -n 5 "$T"/logs/*.log | sed 's/^/#   /'
    fi
done

NB=tcp:10.254.0.1:6641,tcp:10.254.0.2:6641,tcp:10.254.0.3:6641
SB=tcp:10.254.0.1:6642,tcp:10.254.0.2:6642,tcp:10.254.0.3:6642
nbctl_ns() { ip netns exec "$NS" timeout 20 ovn-nbctl --db="$NB" --timeout=15 "$@"; }
sbctl_ns() { ip netns exec "$NS" timeout 20 ovn-sbctl --db="$SB" --timeout=15 "$@"; }
check "NB write through the cluster" nbctl_ns ls-add sw0 -- lsp-add sw0 p1
has_binding() { [[ -n "$(sbctl_ns --bare --columns=_uuid find Port_Binding logical_port="$1")" ]]; }
if wait_until 30 has_binding p1; then
    ok "ovn-northd compiled NB port p1 into an SB Port_Binding"
else
    fail "no SB Port_Binding for p1 within 30 s"
fi

leader=""
for i in 0 1 2; do status nb "$i" OVN_Northbound | grep -q '^Role: leader' && leader=$i; done
if [[ -n "$leader" ]]; then
    timeout 10 "${CTR[@]}" tasks kill -s KILL "nb-$leader" >/dev/null 2>&1
    new_leader() {
        local i
        for i in 0 1 2; do
            [[ $i == "$leader" ]] && continue
            status nb "$i" OVN_Northbound | grep -q '^Role: leader' && return 0
        done
        return 1
    }
    if wait_until 30 new_leader; then
        ok "NB leader (member $leader) killed: the two left elected a new leader"
    else
        fail "no new NB leader within 30 s after killing member $leader"
    fi
    check "NB still commits writes with 2 of 3 members" nbctl_ns lsp-add sw0 p2
    # Restart the killed member: its database file is kept, as on the node.
    timeout 10 "${CTR[@]}" tasks delete -f "nb-$leader" >/dev/null 2>&1
    timeout 10 "${CTR[@]}" containers delete "nb-$leader" >/dev/null 2>&1
    member nb "$leader"
    if wait_until 60 formed nb OVN_Northbound; then
        ok "restarted member $leader rejoined from its kept database: 3 members again"
    else
        fail "member $leader did not rejoin within 60 s"
    fi
    caught_up() { ip netns exec "$NS" ovn-nbctl --db="tcp:10.254.0.$((leader + 1)):6641" --no-leader-only --timeout=5 lsp-list sw0 2>/dev/null | grep -q '(p2)'; }
    if wait_until 30 caught_up; then
        ok "and it has the write it missed"
    else
        fail "restarted member $leader does not have p2"
    fi
else
    fail "no NB leader to kill"
fi
finish
