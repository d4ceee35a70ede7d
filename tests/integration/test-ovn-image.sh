#!/usr/bin/env bash
# osn's own OVN (deploy/ovn/) under containerd: the image of
# scripts/mkimage-ovn.sh (Debian's OVN packages) runs the entrypoint scripts
# of deploy/ovn/ovn-config.yaml exactly as the StatefulSet does: three NB and
# three SB Raft members (ordinal 0 creates each cluster, 1 and 2 join it) and
# ovn-northd, each in its own container, all in one network namespace of
# this test where 10.254.0.1-3 stand for the three control-plane nodes.
# Everything speaks TLS, as shipped (db_transport "ssl"), with certificates
# from deploy/ovn/mkcerts.sh: the members (clients and Raft), northd,
# ovn-controller and osn (installed by osn-install from a Secret directory);
# plain TCP and a client of another CA are refused; the scripts refuse to
# start without the key files, naming mkcerts.sh and the tcp opt-in.
# Shown: both clusters form with 3 servers and one leader; northd turns an
# NB logical port into an SB Port_Binding; after the NB leader is killed,
# the two members left elect a leader and still commit writes; a restarted
# member (its database file kept, as on the node's /var/lib/ovn) rejoins.
# Then a node of that OVN, as the ovn-node DaemonSet runs it (ovs.sh db,
# ovs.sh vswitchd, controller.sh; the userspace datapath, as no kernel module
# is loaded here), osn installed on it by the osn-node image, and two pods
# attached by that plugin, pinging each other through this OVN.
# OSN_KEEP_T=1 keeps the temp dir (the containers' logs are in logs/).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ctr.sh"
require_root_and_tools
for t in dpkg-query jq python3 meson ninja; do
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
    ip netns del "$NS-pod-a" 2>/dev/null
    ip netns del "$NS-pod-b" 2>/dev/null
    ip netns del "$NS" 2>/dev/null
    [[ -n "${OSN_KEEP_T:-}" ]] || rm -rf "$T"
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
# script_alone NAME ENV...: northd.sh in the image with no TLS Secret
# mounted, as a pod would start it; its output and exit status.
script_alone() {
    local name=$1
    shift
    timeout 60 "${CTR[@]}" run --rm --snapshotter native \
        --mount "type=bind,src=$T/scripts,dst=/scripts,options=rbind:ro" "$@" \
        --env CENTRAL_IPS=10.254.0.1 localhost/osn-ovn:test "$name" /bin/sh /scripts/northd.sh 2>&1
}
OUT=$(script_alone bad-transport --env DB_TRANSPORT=udp)
assert_contains "$OUT" "db_transport=udp: use ssl or tcp" "a bad db_transport is refused, named"
OUT=$(script_alone no-tls)
assert_contains "$OUT" "db_transport is ssl but /ovn-tls/tls.key is missing: make the certificates with deploy/ovn/mkcerts.sh" \
    "TLS by default: without the key files northd refuses to start, naming mkcerts.sh"
assert_contains "$OUT" 'db_transport: "tcp"' "and the explicit opt-in to plain TCP"
PKI=$T/pki
OUT=$("$ROOT/deploy/ovn/mkcerts.sh" "$PKI" "10.254.0.1 10.254.0.2 10.254.0.3" 2>&1)
assert_eq "0" "$?" "deploy/ovn/mkcerts.sh: $OUT"
OUT=$("$ROOT/deploy/check-manifests.py" "$PKI/secrets.yaml" "$ROOT/deploy/osn-node.yaml" 2>&1)
assert_eq "0" "$?" "its secrets.yaml passes check-manifests: $(tail -1 <<<"$OUT")"
"$ROOT/deploy/ovn/mkcerts.sh" "$T/other-pki" "10.254.0.1" >/dev/null 2>&1
# Client options for the host's ovn-nbctl/ovn-sbctl: osn's pair, ovn-controller's.
NB_TLS=(-p "$PKI/osn-nb-tls/tls.key" -c "$PKI/osn-nb-tls/tls.crt" -C "$PKI/osn-nb-tls/ca.crt")
SB_TLS=(-p "$PKI/ovn-node-tls/tls.key" -c "$PKI/ovn-node-tls/tls.crt" -C "$PKI/ovn-node-tls/ca.crt")

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
        --mount "type=bind,src=$PKI/ovn-central-tls,dst=/ovn-tls,options=rbind:ro" \
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
    --mount "type=bind,src=$PKI/ovn-central-tls,dst=/ovn-tls,options=rbind:ro" \
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

NB_REMOTES=ssl:10.254.0.1:6641,ssl:10.254.0.2:6641,ssl:10.254.0.3:6641
SB_REMOTES=ssl:10.254.0.1:6642,ssl:10.254.0.2:6642,ssl:10.254.0.3:6642
nbctl_ns() { ip netns exec "$NS" timeout 20 ovn-nbctl "${NB_TLS[@]}" --db="$NB_REMOTES" --timeout=15 "$@"; }
sbctl_ns() { ip netns exec "$NS" timeout 20 ovn-sbctl "${SB_TLS[@]}" --db="$SB_REMOTES" --timeout=15 "$@"; }
check "NB write through the cluster, over TLS" nbctl_ns ls-add sw0 -- lsp-add sw0 p1
check_fails "plain TCP to an NB member is refused (nothing listens on tcp:)" \
    ip netns exec "$NS" timeout 10 ovn-nbctl --db=tcp:10.254.0.1:6641 --timeout=3 ls-list
check_fails "a client certificate of another CA is refused" \
    ip netns exec "$NS" timeout 10 ovn-nbctl -p "$T/other-pki/osn-nb-tls/tls.key" \
    -c "$T/other-pki/osn-nb-tls/tls.crt" -C "$PKI/ca/ca.crt" --db=ssl:10.254.0.1:6641 --timeout=3 ls-list
raft_tls() { status nb 0 OVN_Northbound | grep -q '^Address: ssl:10.254.0.1:6643'; }
check "the Raft cluster's addresses are ssl:" raft_tls
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
    caught_up() { ip netns exec "$NS" ovn-nbctl "${NB_TLS[@]}" --db="ssl:10.254.0.$((leader + 1)):6641" --no-leader-only --timeout=5 lsp-list sw0 2>/dev/null | grep -q '(p2)'; }
    if wait_until 30 caught_up; then
        ok "and it has the write it missed"
    else
        fail "restarted member $leader does not have p2"
    fi
else
    fail "no NB leader to kill"
fi
# --- a node of this OVN, and osn on it --------------------------------------
static_build "$T/static"
OUT=$("$ROOT/scripts/mkimage.sh" "$SB" "$T/osn-node.oci.tar" localhost/osn-node:test 2>&1)
assert_eq "0" "$?" "mkimage.sh (the osn-node image)"
ctr_import "$T/osn-node.oci.tar"
N=$T/node
mkdir -p "$N/etc" "$N/ovs" "$N/ovn" "$N/cni" "$N/osn"
OVSDB=unix:$N/ovs/db.sock
# node_task NAME SCRIPT ARG...: one container of the ovn-node DaemonSet.
node_task() {
    local name=$1
    shift
    "${CTR[@]}" run -d --snapshotter native --privileged --with-ns "network:/var/run/netns/$NS" \
        --log-uri "file://$T/logs/$name.log" \
        --mount "type=bind,src=$T/scripts,dst=/scripts,options=rbind:ro" \
        --mount "type=bind,src=$N/etc,dst=/etc/openvswitch,options=rbind:rw" \
        --mount "type=bind,src=$N/ovs,dst=/var/run/openvswitch,options=rbind:rw" \
        --mount "type=bind,src=$N/ovn,dst=/var/run/ovn,options=rbind:rw" \
        --mount "type=bind,src=$PKI/ovn-node-tls,dst=/ovn-tls,options=rbind:ro" \
        --env NODE_NAME=node-a --env HOST_IP=10.254.0.1 --env CENTRAL_IPS="$IPS" \
        --env BRIDGE_MAPPINGS="" --env ENCAP_TYPE=geneve \
        localhost/osn-ovn:test "$name" /bin/sh "$@" >/dev/null
}
node_task ovsdb-server /scripts/ovs.sh db
if wait_until 20 ovs-vsctl --db="$OVSDB" --no-wait --timeout=2 show; then
    ok "the node's ovsdb-server (ovs.sh db) answers on the mounted socket"
else
    fail "no node ovsdb-server within 20 s"
    tail -5 "$T/logs/ovsdb-server.log" | sed 's/^/#   /'
fi
# No kernel module here: br-int on the userspace datapath.
ovs-vsctl --db="$OVSDB" --no-wait set open_vswitch . external_ids:ovn-bridge-datapath-type=netdev
node_task ovs-vswitchd /scripts/ovs.sh vswitchd
node_task ovn-controller /scripts/controller.sh
has_chassis() { [[ -n "$(sbctl_ns --bare --columns=name find Chassis name=node-a)" ]]; }
has_brint() { ovs-vsctl --db="$OVSDB" --no-wait --timeout=2 br-exists br-int; }
if wait_until 30 has_chassis && wait_until 30 has_brint; then
    ok "ovn-controller (controller.sh) registered chassis node-a and made br-int"
else
    fail "no chassis node-a / br-int within 30 s"
    sbctl_ns --bare --columns=name list Chassis 2>&1 | sed 's/^/#   chassis: /'
    ovs-vsctl --db="$OVSDB" --no-wait --timeout=2 br-exists br-int 2>&1 | sed 's/^/#   br-int: /'
    echo "#   br-exists: $?"
    tail -n 5 "$T"/logs/ovs-vswitchd.log "$T"/logs/ovn-controller.log | sed 's/^/#   /'
fi

OUT=$(timeout 120 "${CTR[@]}" run --rm --snapshotter native \
    --mount "type=bind,src=$N/cni,dst=/host/opt/cni/bin,options=rbind:rw" \
    --mount "type=bind,src=$N/osn,dst=/host/etc/osn,options=rbind:rw" \
    --mount "type=bind,src=$N/ovs,dst=/var/run/openvswitch,options=rbind:rw" \
    --mount "type=bind,src=$PKI/osn-nb-tls,dst=/etc/osn-tls,options=rbind:ro" \
    --env OSN_NB_REMOTE="$NB_REMOTES" --env OSN_NODE_OVS_REMOTE="$OVSDB" --env OSN_TLS_DIR=/etc/osn-tls \
    --env OSN_HOST_CONFIG_DIR="$N/osn" --env OSN_LOG_FILE="$T/plugin.log" \
    localhost/osn-node:test osn-install 2>&1)
assert_eq "0" "$?" "the osn-node image installed osn on the node: $OUT"
assert_eq "node-a" "$(jq -r .node_name "$N/osn/node.json" 2>/dev/null)" "node_name is the system-id controller.sh set"
assert_eq "ssl:10.254.0.1:6641 $N/osn/nb-privkey.pem" \
    "$(jq -r '(.nb_remote | split(",")[0]) + " " + .nb_private_key' "$N/osn/node.json" 2>/dev/null)" \
    "osn reaches the NB over TLS with the osn-nb-tls pair osn-install copied"

NET='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"own-ovn","topology":"layer2","subnets":"10.78.0.0/24"}'
# osn_cni VERB POD: the installed plugin, on the node (its network namespace).
osn_cni() {
    ip netns exec "$NS" env OSN_CONFIG="$N/osn/node.json" CNI_COMMAND="$1" CNI_CONTAINERID="$2" \
        CNI_NETNS="/var/run/netns/$NS-pod-$2" CNI_IFNAME=net1 CNI_PATH="$N/cni" CNI_ARGS="" \
        "$N/cni/ovn-kubernetes" <<<"$NET"
}
for p in a b; do
    ip netns add "$NS-pod-$p"
    if OUT=$(osn_cni ADD "$p"); then
        ok "ADD pod $p through osn's own OVN"
    else
        fail "ADD pod $p: $OUT"
    fi
done
ipb=$(ip netns exec "$NS-pod-b" ip -4 -o addr show dev net1 2>/dev/null | awk '{split($4, a, "/"); print a[1]}')
[[ $ipb == 10.78.0.* ]] && ok "pod b has $ipb from OVN" || fail "pod b address '$ipb'"
check "pod a pings pod b over the image's OVS and OVN" \
    ip netns exec "$NS-pod-a" ping -c 2 -i 0.2 -W 2 "$ipb"
for p in a b; do
    OUT=$(osn_cni DEL "$p")
    assert_eq "0" "$?" "DEL pod $p: $OUT"
done
assert_eq "" "$(nbctl_ns --bare --columns=name find Logical_Switch 'external_ids:"osn/network"="_none/own-ovn"')" \
    "the last DEL removed the network's switch"
finish
