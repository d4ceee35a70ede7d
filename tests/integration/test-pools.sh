#!/usr/bin/env bash
# Port pools (issue 13, the NB layout in ovn.h, "Pools", and docs/design.md): each
# network keeps pool_size spare logical ports that ovn-northd has already
# compiled, and an ADD on the common path binds one of them.  Shown on the
# sandbox: the first ADD makes the pool and it stays at its target (above
# half of it: the top-ups are batched, sent after the ADD's answer); an ADD
# binds a spare (its name, ids, MAC and address); 16 racing ADDs claim
# distinct ports; an ADD killed after its claim loses nothing; pool_size 0 is
# the behaviour before pools; the last DEL takes the spares with it; CHECK
# and GC on pool ports; a static request for a spare's address; a /29 keeps
# no spares beyond what is free.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
POOL=4
export OSN_POOL_SIZE=$POOL # the sandbox writes it into every node's osn.json
# The pool at its target: above half of pool_size (a claim that leaves it at
# half or below refills it to pool_size, in one transaction).
AT_TARGET="$((POOL / 2 + 1))-$POOL"
plugin_test_up 3
OUT=$(mktemp -d)

# --- reading the NB ------------------------------------------------------------

# ovn-nbctl --format=json rows as objects: uuids, sets and maps unwrapped.
# shellcheck disable=SC2016 # jq, not shell
NBJQ='def v: if type == "array" then
        (if .[0] == "map" then ((.[1] | map({(.[0] | tostring): .[1]}) | add) // {})
         elif .[0] == "set" then (.[1] | map(v))
         elif .[0] == "uuid" then .[1] else . end)
      else . end;
  . as $r | [.data[] | [$r.headings, .] | transpose | map({(.[0]): (.[1] | v)}) | add]'

# lsps NET: the network's logical ports, a JSON array of {_uuid, name, type,
# addresses (an array), external_ids (an object)}; not its DHCP server's
# port (a localport: infrastructure, test-dhcp.sh's).
lsps() {
    nbctl --format=json --columns=_uuid,name,type,addresses,port_security,dhcpv4_options,external_ids \
        find Logical_Switch_Port "external_ids:\"osn/network\"=\"testns/$1\"" |
        jq -c "$NBJQ | map(select(.type != \"localport\")) | map(.addresses |= (if type == \"string\" then [.] else . end)
                            | .port_security |= (if type == \"string\" then [.] else . end)
                            | .dhcpv4_options |= (if type == \"string\" then . else (.[0] // \"\") end))"
}
# dhcp4_of NET: the uuid of the network's IPv4 DHCP_Options ("" if none).
dhcp4_of() {
    nbctl --bare --columns=_uuid,cidr find DHCP_Options "external_ids:\"osn/network\"=\"testns/$1\"" |
        paste -sd' ' | tr -s ' ' '\n' | paste - - | awk '$2 ~ /\./ {print $1; exit}'
}
# switch_ids NET: the external_ids of switch osn.NET ({} when it is gone).
switch_ids() {
    nbctl --format=json --columns=external_ids find Logical_Switch "name=osn.testns/$1" |
        jq -c "$NBJQ | .[0].external_ids // {}"
}

# pool_report NET WANT: "ok", or what is wrong with the network's pool:
# WANT spares ("" = any number, "A-B" = A to B), each named osn.NET.spare.<its _uuid>,
# without holder ids, its port security its addresses, its DHCPv4 options
# the network's, listed in the switch's index (osn/spare/<uuid> = its
# addresses) and the index has no other key; and no IP or MAC is on two of
# the network's ports; every held key (osn/held/<cid>/<ifname>) names that
# attachment's port.
pool_report() {
    local net=$1 want=$2 ports sw
    ports=$(lsps "$net") || { echo "cannot read the ports"; return; }
    sw=$(switch_ids "$net") || { echo "cannot read the switch"; return; }
    jq -r --arg net "$net" --arg want "$want" --argjson sw "$sw" --arg dhcp "$(dhcp4_of "$net")" '
        . as $all
        | ($sw | to_entries | map(select(.key | startswith("osn/spare/")))
             | map({key: (.key | ltrimstr("osn/spare/")), value}) | from_entries) as $idx
        | map(select(.external_ids["osn/spare"] == "true")) as $sp
        | ($sp | map(._uuid)) as $spu
        | [ (if $want == "" then empty
             else ($want | split("-") | map(tonumber)) as $w
             | if ($sp | length) < $w[0] or ($sp | length) > ($w[1] // $w[0])
               then "\($sp | length) spares, want \($want)" else empty end end),
            ($sp[] | select(.name != "osn.testns/\($net).spare.\(._uuid)")
                   | "spare \(._uuid) is named \(.name)"),
            ($sp[] | select(.external_ids["osn/container-id"] or .external_ids["osn/node"]
                            or .external_ids["osn/ifname"] or .external_ids["osn/pod-name"])
                   | "spare \(.name) has holder ids \(.external_ids | tostring)"),
            ($sp[] | select(($idx[._uuid] // "") != (.addresses[0] // ""))
                   | "spare \(.name) has addresses \(.addresses | tostring), its index entry \($idx[._uuid] // "none")"),
            ($sp[] | select(.port_security != .addresses)
                   | "spare \(.name) has port_security \(.port_security | tostring), addresses \(.addresses | tostring)"),
            ($sp[] | select(.dhcpv4_options != $dhcp)
                   | "spare \(.name) has dhcpv4_options \"\(.dhcpv4_options)\", the network'"'"'s are \"\($dhcp)\""),
            ($idx | keys[] | select(. as $u | $spu | any(. == $u) | not)
                  | "index key osn/spare/\(.) names no spare"),
            ($sw | to_entries[] | select(.key | startswith("osn/held/"))
                 | (.key | ltrimstr("osn/held/")) as $ci | (.value | split(" ")[0]) as $pn
                 | select([$all[] | select(.name == $pn and
                                   "\(.external_ids["osn/container-id"])/\(.external_ids["osn/ifname"])" == $ci)]
                          | length != 1)
                 | "held key \(.key) names \($pn), not that attachment'"'"'s port"),
            (map(select(.type != "localnet") | (.addresses[0] // "") | split(" ")[]
                 | select(. != "" and . != "unknown" and . != "dynamic"))
             | group_by(.) | map(select(length > 1))[] | "\(.[0]) is on \(length) ports")
          ] | if length == 0 then "ok" else join("; ") end' <<<"$ports"
}

# pool_at NET WANT [TIMEOUT_S]: poll (the top-up is a transaction of its
# own) until pool_report says ok; prints the last report.
pool_at() {
    local r t0=$SECONDS
    while :; do
        r=$(pool_report "$1" "$2")
        [[ "$r" != ok && $((SECONDS - t0)) -lt ${3:-5} ]] || break
        sleep 0.2
    done
    echo "$r"
}

# ports_report NET CID...: "ok", or why the network's ports are not exactly
# one attachment for each live container CID plus spares: every port (but a
# localnet port) is a spare or carries one of the CIDs, and each CID is on
# exactly one port.
ports_report() {
    local net=$1
    shift
    lsps "$net" | jq -r --args '
        ($ARGS.positional) as $live
        | [ (.[] | select(.type != "localnet" and .external_ids["osn/spare"] != "true"
                          and ((.external_ids["osn/container-id"] // "") as $c | $live | any(. == $c) | not))
                 | "port \(.name) is neither a spare nor a live attachment (\(.external_ids | tostring))"),
            (.[] | select(.external_ids["osn/spare"] == "true" and .external_ids["osn/container-id"])
                 | "spare \(.name) carries container id \(.external_ids["osn/container-id"])"),
            ($live[] as $c | [.[] | select(.external_ids["osn/container-id"] == $c)] | length
                 | select(. != 1) | "\($c) is on \(.) ports")
          ] | if length == 0 then "ok" else join("; ") end' "$@"
}

# port_of NET CID: the port (JSON object) that carries CID ("null" if none).
port_of() { lsps "$1" | jq -c --arg c "$2" '[.[] | select(.external_ids["osn/container-id"] == $c)][0]'; }
# spares_json NET: the network's spares.
spares_json() { lsps "$1" | jq -c 'map(select(.external_ids["osn/spare"] == "true"))'; }
# topups NET: the NB's top-up transactions of NET so far, one line each: the
# number of spares it inserted (from the NB's own log; a standalone NB).
topups() {
    ovsdb-tool show-log -m "$SANDBOX_DIR/nb.db" | awk -v c="\"osn: top up the pool of network testns/$1\"" '
        /^record / { if (n != "") print n; n = (index($0, c) ? 0 : "") ; next }
        n != "" && /table Logical_Switch_Port insert row/ { n++ }
        END { if (n != "") print n }'
}
n_spares() { spares_json "$1" | jq length; }
# iface_id NODE CID: the OVS iface-id of CID's interface on NODE.
iface_id() {
    local name
    name=$(vsctl "$1" --bare --columns=name find Interface "external_ids:\"osn/container-id\"=\"$2\"" | sed '/^$/d')
    [[ -n "$name" ]] || return 1
    vsctl "$1" get Interface "$name" external_ids:iface-id | tr -d '"'
}
# claimed NET CID: a port of NET carries CID.
claimed() { [[ $(port_of "$1" "$2") != null ]]; }
# host_ifname PORT: the host-side veth name osn gives port name PORT
# (osn_host_ifname: "osn" and 48 bits of the FNV-1a 64 hash of the name).
host_ifname() {
    local s=$1 h=-3750763034362895579 i c # 0xcbf29ce484222325
    for ((i = 0; i < ${#s}; i++)); do
        printf -v c '%d' "'${s:i:1}"
        h=$(( (h ^ c) * 0x100000001b3 ))
    done
    printf 'osn%012x\n' $(( h & 0xffffffffffff ))
}
# the LSP's address tokens: "<mac> <ip>" -> mac / ip
lsp_mac() { jq -r '(.addresses[0] // "") | split(" ")[0] // ""' <<<"$1"; }
lsp_ip() { jq -r '(.addresses[0] // "") | split(" ")[1] // ""' <<<"$1"; }

# same WANT GOT DESCRIPTION: assert_eq, but an empty WANT fails (two
# missing values are not equal).
same() {
    if [[ -z "$1" ]]; then fail "$3: nothing to compare (got '$2')"; else assert_eq "$@"; fi
}

# set_pool_size N: every node's pool_size (the plugin reads osn.json on
# every run).
set_pool_size() {
    local i f
    for i in 1 2 3; do
        f=$SANDBOX_DIR/node$i/osn.json
        jq --argjson n "$1" '.pool_size = $n' "$f" >"$f.new" && mv "$f.new" "$f"
    done
}

# gone NET: "ok" when nothing of the network is left in the NB (switch,
# logical ports, DHCP_Options), else what is.
gone() {
    local left=""
    [[ -z "$(nbctl --bare --columns=name find Logical_Switch "name=osn.testns/$1" | sed '/^$/d')" ]] || left="$left switch osn.testns/$1;"
    local p
    p=$(nbctl --bare --columns=name find Logical_Switch_Port "external_ids:\"osn/network\"=\"testns/$1\"" | sed '/^$/d' | tr '\n' ' ')
    [[ -z "$p" ]] || left="$left ports: $p;"
    p=$(nbctl --bare --columns=cidr find DHCP_Options "external_ids:\"osn/network\"=\"testns/$1\"" | sed '/^$/d' | tr '\n' ' ')
    [[ -z "$p" ]] || left="$left DHCP_Options: $p;"
    echo "${left:-ok}"
}

# plugin_pids CID NODE: the plugin processes running for CID with NODE's
# config (this sandbox's only).
plugin_pids() {
    local f pid
    for f in /proc/[0-9]*/environ; do
        pid=${f#/proc/}
        pid=${pid%/environ}
        [[ $(cat "/proc/$pid/comm" 2>/dev/null) == ovn-kubernetes ]] || continue
        tr '\0' '\n' 2>/dev/null <"$f" | grep -qx "CNI_CONTAINERID=$1" || continue
        tr '\0' '\n' 2>/dev/null <"$f" | grep -qx "OSN_CONFIG=$SANDBOX_DIR/node$2/osn.json" || continue
        echo "$pid"
    done
}

# =============================================================================
# 1, 2: the pool is made by the first ADD and stays at its target; an ADD
# binds a spare.
P1='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"pool1","topology":"layer2","subnets":"10.81.0.0/24"}'
expect_ok "pool1: the first ADD (node1)" attach 1 a1 "$P1"
assert_eq ok "$(pool_at pool1 $POOL)" "pool1: after the first ADD the switch has $POOL spares, each in its index"
assert_eq ok "$(ports_report pool1 cid-a1)" "pool1: and one attachment (a1)"
# northd has compiled them (each has its Port_Binding), and nothing binds them.
unbound_spares() {
    local n c
    for n in $(spares_json pool1 | jq -r '.[].name'); do
        c=$(sbctl --bare --columns=_uuid,chassis find Port_Binding "logical_port=$n" | sed '/^$/d' | wc -w)
        [[ $c == 1 ]] || return 1
    done
    [[ -n "${n:-}" ]]
}
check "pool1: every spare has its Port_Binding (compiled by northd), with no chassis" wait_until 10 unbound_spares

BEFORE=$(spares_json pool1)
expect_ok "pool1: ADD a2 (node2)" attach 2 a2 "$P1"
RA2=$RESULT
A2=$(port_of pool1 cid-a2)
A2U=$(jq -r '._uuid' <<<"$A2")
assert_eq "osn.testns/pool1.spare.$A2U" "$(jq -r .name <<<"$A2")" "pool1: a2's port is a pool port, named osn.testns/pool1.spare.<its uuid>"
assert_eq "true" "$(jq --arg u "$A2U" 'any(.[]; ._uuid == $u)' <<<"$BEFORE")" "pool1: it was one of the spares before the ADD"
same "$(jq -r --arg u "$A2U" '.[] | select(._uuid == $u) | .addresses[0]' <<<"$BEFORE")" \
    "$(jq -r '.addresses[0]' <<<"$A2")" "pool1: it kept the spare's MAC and address"
assert_eq "cid-a2 net1 osn-node2 testns a2 -" \
    "$(jq -r '.external_ids | "\(.["osn/container-id"]) \(.["osn/ifname"]) \(.["osn/node"]) \(.["osn/pod-namespace"]) \(.["osn/pod-name"]) \(.["osn/spare"] // "-")"' <<<"$A2")" \
    "pool1: it carries a2's ids (container, ifname, node, pod) and is no longer marked spare"
same "$(lsp_mac "$A2")" "$(jq -r '.interfaces[0].mac' <<<"$RA2")" "pool1: the CNI result's MAC is the port's"
same "$(lsp_ip "$A2")" "$(jq -r '.ips[0].address' <<<"$RA2" | cut -d/ -f1)" "pool1: the CNI result's address is the port's"
same "$(lsp_mac "$A2")" "$(in_pod a2 cat /sys/class/net/net1/address)" "pool1: the pod's interface has the port's MAC"
same "$(lsp_ip "$A2")" "$(pod_ip a2)" "pool1: and its address"
assert_eq "osn.testns/pool1.spare.$A2U" "$(iface_id 2 cid-a2)" "pool1: the OVS interface's iface-id on node2 is the pool port's name"
assert_eq "osn.testns/pool1.spare.$A2U $(jq -r '.addresses[0]' <<<"$A2")" \
    "$(switch_ids pool1 | jq -r '.["osn/held/cid-a2/net1"]')" \
    "pool1: the switch says what a2 holds (osn/held/cid-a2/net1: its port and addresses)"
assert_eq "osn-node2" "$(sbctl --bare --columns=name list Chassis \
    "$(sbctl --bare --columns=chassis find Port_Binding "logical_port=osn.testns/pool1.spare.$A2U")")" \
    "pool1: the pool port is bound to chassis osn-node2"
check "pool1: a1 (node1) reaches a2 (node2)" ping_ok a1 "$(pod_ip a2)"
check "pool1: a2 reaches a1" ping_ok a2 "$(pod_ip a1)"
# Batched top-ups: a claim that leaves the pool above half sends none; the
# one that leaves it at half refills it to pool_size in one transaction,
# after its ADD's answer (the ADD's tail).  By then a2's tail is long done
# (the pings above took longer than its top-up would).
assert_eq ok "$(pool_report pool1 $((POOL - 1)))" "pool1: after ADD a2 the pool has $((POOL - 1)) spares (above half: no top-up)"
assert_eq "" "$(topups pool1)" "pool1: no top-up transaction so far (the first ADD made the pool with the switch)"
expect_ok "pool1: ADD a3 (node3) leaves the pool at half" attach 3 a3 "$P1"
assert_contains "$(jq -r .name <<<"$(port_of pool1 cid-a3)")" "osn.testns/pool1.spare." "pool1: a3 claimed a spare"
assert_eq ok "$(pool_at pool1 $POOL)" "pool1: then the pool is refilled to $POOL"
assert_eq "$((POOL / 2))" "$(topups pool1)" "pool1: by one top-up transaction of $((POOL / 2)) spares"

# A sequence of ADDs and DELs: at its target after each step.
live=(cid-a1 cid-a2 cid-a3)
step_bad=""
step() { # VERB NODE POD
    local verb=$1 node=$2 pod=$3 r
    if [[ $verb == ADD ]]; then
        attach "$node" "$pod" "$P1" || step_bad="$step_bad ADD $pod failed: $RESULT;"
        live+=("cid-$pod")
    else
        detach "$node" "$pod" "$P1" >/dev/null || step_bad="$step_bad DEL $pod failed;"
        local l=() c
        for c in "${live[@]}"; do [[ $c == "cid-$pod" ]] || l+=("$c"); done
        live=("${l[@]}")
    fi
    r=$(pool_at pool1 "$AT_TARGET")
    [[ $r == ok ]] || step_bad="$step_bad after $verb $pod: $r;"
    r=$(ports_report pool1 "${live[@]}")
    [[ $r == ok ]] || step_bad="$step_bad after $verb $pod: $r;"
}
step ADD 1 a4
step DEL 2 a2
step ADD 2 a5
step DEL 3 a3
step DEL 1 a4
step ADD 3 a6
step ADD 3 a7
step DEL 3 a6
assert_eq "" "$step_bad" "pool1: $AT_TARGET spares and exactly the live attachments after each of 8 ADDs and DELs"
check "pool1: a7 (node3) reaches a5 (node2)" ping_ok a7 "$(pod_ip a5)"
check "pool1: a7 (node3) reaches a1 (node1)" ping_ok a7 "$(pod_ip a1)"

# =============================================================================
# 8: a static request for an address a spare holds: the spare gives it up.
SIP=$(switch_ids pool1 | jq -r '[to_entries[] | select(.key | startswith("osn/spare/"))][0].value | split(" ")[1]')
SU=$(switch_ids pool1 | jq -r '[to_entries[] | select(.key | startswith("osn/spare/"))][0].key | ltrimstr("osn/spare/")')
[[ $SIP == 10.81.0.* ]] && ok "pool1: spare $SU holds $SIP" || fail "pool1: no spare address to ask for ($SIP)"
expect_ok "pool1: a static ADD (s1, node2) for $SIP, a spare's address" attach 2 s1 "$P1" net1 ";IP=$SIP"
jq_eq "$RESULT" '.ips[0].address' "$SIP/24" "pool1: s1 got $SIP"
same "$SIP" "$(pod_ip s1)" "pool1: and has it"
assert_eq "osn.testns/pool1.cid-s1.net1" "$(jq -r .name <<<"$(port_of pool1 cid-s1)")" "pool1: a static request takes today's path (its port is named for the container)"
assert_eq "osn.testns/pool1.cid-s1.net1" \
    "$(lsps pool1 | jq -r --arg ip "$SIP" '[.[] | select(.addresses[0] | split(" ") | any(. == $ip))] | map(.name) | join(" ")')" \
    "pool1: $SIP is on s1's port and no other"
live+=(cid-s1)
assert_eq ok "$(pool_at pool1 "$AT_TARGET")" "pool1: the pool is at its target ($AT_TARGET)"
assert_eq ok "$(ports_report pool1 "${live[@]}")" "pool1: the ports are the live attachments and the spares"
check "pool1: s1 (node2) reaches a1 (node1)" ping_ok s1 "$(pod_ip a1)"

# =============================================================================
# 4: an ADD killed after its claim (ovn-controller of node3 stopped, so the
# ADD waits for ovn-installed): attached on the retry, or returned by DEL.
CTL3=$(cat "$SANDBOX_DIR/node3/ovn-controller.pid")
N0=$(lsps pool1 | jq length)
# kill_after_claim POD [PLUGGED]: an ADD of POD on node3, SIGKILLed once its
# claim is in the NB (and, with PLUGGED, once its OVS port is there too);
# echoes the claimed port's uuid.
kill_after_claim() {
    local pod=$1 plugged=${2:-} ns pid
    ns=$(pod_add "$pod")
    cni 3 ADD "cid-$pod" "$ns" net1 "$P1" \
        "IgnoreUnknown=1;K8S_POD_NAMESPACE=testns;K8S_POD_NAME=$pod" >"$OUT/$pod.killed" 2>&1 &
    local job=$!
    wait_until 10 claimed pool1 "cid-$pod" || echo "# $pod: no claim within 10 s" >&2
    if [[ -n "$plugged" ]]; then
        wait_until 10 iface_id 3 "cid-$pod" || echo "# $pod: no OVS port within 10 s" >&2
    fi
    for pid in $(plugin_pids "cid-$pod" 3); do kill -KILL "$pid"; done
    wait "$job" 2>/dev/null
    port_of pool1 "cid-$pod" | jq -r '._uuid // empty'
}
kill -STOP "$CTL3"
K1U=$(kill_after_claim k1 plugged)
kill -CONT "$CTL3"
[[ -n "$K1U" ]] && ok "kill: the ADD of k1 was killed holding pool port $K1U" ||
    fail "kill: the ADD of k1 claimed no port before it was killed ($(cat "$OUT/k1.killed"))"
assert_eq "osn.testns/pool1.spare.$K1U" "$(jq -r .name <<<"$(port_of pool1 cid-k1)")" "kill: k1's claim is a pool port"
expect_ok "kill: the retried ADD of k1 (same container id) succeeds" attach 3 k1 "$P1"
K1=$(port_of pool1 cid-k1)
# The claimed port is attached on the retry, or back in the pool, or gone
# (then its address is free): never left holding k1's claim beside it.
K1W=$(lsps pool1 | jq -r --arg u "$K1U" --arg k "$(jq -r ._uuid <<<"$K1")" '
    [.[] | select(._uuid == $u)][0] as $p
    | if $p == null then "removed"
      elif $u == $k then "attached on the retry"
      elif $p.external_ids["osn/spare"] == "true" and ($p.external_ids["osn/container-id"] | not) then "returned to the pool"
      else "lost: \($p | tostring)" end')
[[ $K1W != lost* ]] && ok "kill: the killed ADD's claim was $K1W" || fail "kill: the killed ADD's claim $K1U: $K1W"
same "$(lsp_ip "$K1")" "$(jq -r '.ips[0].address | split("/")[0]' <<<"$RESULT" 2>/dev/null)" "kill: the retry's result has its address"
same "$(lsp_ip "$K1")" "$(pod_ip k1)" "kill: and the pod has it"
assert_eq "1" "$(in_pod k1 ip -o link show | grep -c 'net1@')" "kill: one interface in the pod"
assert_eq "$(jq -r .name <<<"$K1")" "$(iface_id 3 cid-k1)" "kill: its OVS iface-id on node3 is its port"
assert_contains "$(jq -r .name <<<"$K1")" "osn.testns/pool1.spare." "kill: a pool port"
live+=(cid-k1)
assert_eq ok "$(ports_report pool1 "${live[@]}")" "kill: every port is a live attachment or a spare, k1 on one port"
assert_eq ok "$(pool_at pool1 "$AT_TARGET")" "kill: the pool is at its target ($AT_TARGET)"
check "kill: k1 (node3) reaches a1 (node1)" ping_ok k1 "$(pod_ip a1)"
NS=$(n_spares pool1)
assert_eq "$((${#live[@]} + NS))" "$(lsps pool1 | jq length)" \
    "kill: ${#live[@]} attachments + $NS spares, nothing lost, nothing leaked (before k1's ADD: $N0 ports)"

# Killed, then deleted without a retry (the runtime gives up on the pod).
N0=$(lsps pool1 | jq length)
kill -STOP "$CTL3"
K2U=$(kill_after_claim k2)
kill -CONT "$CTL3"
[[ -n "$K2U" ]] && ok "kill: the ADD of k2 was killed holding pool port $K2U" ||
    fail "kill: the ADD of k2 claimed no port before it was killed ($(cat "$OUT/k2.killed"))"
K2IP=$(lsp_ip "$(port_of pool1 cid-k2)")
expect_ok "kill: DEL of k2" detach 3 k2 "$P1"
assert_eq "null" "$(port_of pool1 cid-k2)" "kill: after DEL no port carries k2's container id"
assert_eq ok "$(ports_report pool1 "${live[@]}")" "kill: every port is a live attachment or a spare"
assert_eq ok "$(pool_at pool1 "$AT_TARGET")" "kill: the pool is at its target ($AT_TARGET)"
NS=$(n_spares pool1)
assert_eq "$((${#live[@]} + NS))" "$(lsps pool1 | jq length)" \
    "kill: ${#live[@]} attachments + $NS spares, nothing lost, nothing leaked (before k2's ADD: $N0 ports)"
assert_eq "" "$(vsctl 3 --bare --columns=name find Interface 'external_ids:"osn/container-id"="cid-k2"' | sed '/^$/d')" \
    "kill: no OVS port of k2 on node3"
K2H=$(host_ifname "osn.testns/pool1.cid-k2.net1")
check_fails "kill: k2's host veth $K2H is gone from node3" on 3 ip link show dev "$K2H"
# k2's address is free again: a spare or nobody's (a spare was kept or not).
[[ -n "$K2IP" ]] || fail "kill: k2's claimed port had no address"
assert_eq "0" "$(lsps pool1 | jq --arg ip "$K2IP" '[.[] | select(.external_ids["osn/spare"] != "true" and (.addresses[0] | split(" ") | any(. == $ip)))] | length')" \
    "kill: k2's address $K2IP is no attachment's"
pod_del k2 >/dev/null

# =============================================================================
# 5: pools off.
set_pool_size 0
NP='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"nopool","topology":"layer2","subnets":"10.83.0.0/24"}'
expect_ok "pools off: ADD o1 on a new network (node1)" attach 1 o1 "$NP"
expect_ok "pools off: ADD o2 (node2)" attach 2 o2 "$NP"
assert_eq "osn.testns/nopool.cid-o1.net1 osn.testns/nopool.cid-o2.net1" "$(lsps nopool | jq -r 'map(.name) | sort | join(" ")')" \
    "pools off: the ports are named osn.<net>.<cid>.<ifname>, and there are no others"
assert_eq "0" "$(n_spares nopool)" "pools off: no spare port"
assert_eq "" "$(switch_ids nopool | jq -r 'keys[] | select(startswith("osn/spare"))')" "pools off: no spare index on the switch"
assert_eq "osn.testns/nopool.cid-o2.net1" "$(iface_id 2 cid-o2)" "pools off: the iface-id is the container's port"
check "pools off: o2's host veth is $(host_ifname osn.testns/nopool.cid-o2.net1) (as the test computes it)" \
    on 2 ip link show dev "$(host_ifname osn.testns/nopool.cid-o2.net1)"
check "pools off: o1 (node1) reaches o2 (node2)" ping_ok o1 "$(pod_ip o2)"
expect_ok "pools off: ADD o3 on pool1, which has spares (node1)" attach 1 o3 "$P1"
assert_eq "osn.testns/pool1.cid-o3.net1" "$(jq -r .name <<<"$(port_of pool1 cid-o3)")" "pools off: it takes today's path on a pooled network too"
detach 1 o3 "$P1" >/dev/null
detach 1 o1 "$NP" >/dev/null
detach 2 o2 "$NP" >/dev/null
assert_eq ok "$(gone nopool)" "pools off: the last DEL removes the network"
set_pool_size $POOL

# =============================================================================
# 6: the last DEL leaves no spare behind.
for c in "${live[@]}"; do
    p=${c#cid-}
    node=$(jq -r '.external_ids["osn/node"] | ltrimstr("osn-node")' <<<"$(port_of pool1 "$c")")
    detach "$node" "$p" "$P1" >/dev/null || fail "DEL $p on node$node"
done
assert_eq ok "$(gone pool1)" "pool1: after the last DEL no switch, port (spare or not) or DHCP_Options is left"

# =============================================================================
# 3: 16 concurrent ADDs on one network over 3 nodes.
P16='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"pool16","topology":"layer2","subnets":"10.82.0.0/24"}'
expect_ok "pool16: a first pod (c0, node1) makes the pool" attach 1 c0 "$P16"
assert_eq ok "$(pool_at pool16 $POOL)" "pool16: $POOL spares"
for i in $(seq 1 16); do pod_add "c$i" >/dev/null; done
for i in $(seq 1 16); do
    ( attach $(( (i - 1) % 3 + 1 )) "c$i" "$P16"; rc=$?
      printf '%s\n' "$RESULT" >"$OUT/c$i.json"; echo "$rc" >"$OUT/c$i.rc" ) &
done
wait
bad=""
cids=(cid-c0)
for i in $(seq 1 16); do
    [[ $(cat "$OUT/c$i.rc") == 0 ]] || bad="$bad c$i: $(cat "$OUT/c$i.json");"
    cids+=("cid-c$i")
done
assert_eq "" "$bad" "pool16: 16 concurrent ADDs over 3 nodes all succeed"
PORTS=$(lsps pool16)
assert_eq "17" "$(jq '[.[] | select(.external_ids["osn/container-id"])] | map(.name) | unique | length' <<<"$PORTS")" \
    "pool16: 17 distinct ports carry a container id (16 + c0)"
assert_eq "$(printf '%s\n' "${cids[@]}" | sort | tr '\n' ' ')" \
    "$(jq -r '.[] | .external_ids["osn/container-id"] // empty' <<<"$PORTS" | sort | tr '\n' ' ')" \
    "pool16: the 17 container ids, each on one port"
assert_eq ok "$(ports_report pool16 "${cids[@]}")" "pool16: every port is an attachment of a live pod or a spare"
assert_eq "0" "$(jq '[.[] | select(.type != "localnet") | .addresses[0] | split(" ")[]] | group_by(.) | map(select(length > 1)) | length' <<<"$PORTS")" \
    "pool16: no MAC or address on two ports"
n_pool=$(jq '[.[] | select(.external_ids["osn/container-id"] and (.name | startswith("osn.testns/pool16.spare.")))] | length' <<<"$PORTS")
(( n_pool >= 1 )) && ok "pool16: $n_pool of the 16 bound pool ports" || fail "pool16: none of the 16 racing ADDs bound a pool port"
# Each pod's result is its port's: the port that carries its container id.
mism=""
for i in $(seq 1 16); do
    pj=$(jq -c --arg c "cid-c$i" '[.[] | select(.external_ids["osn/container-id"] == $c)][0]' <<<"$PORTS")
    want="$(lsp_mac "$pj") $(lsp_ip "$pj")"
    got="$(jq -r '.interfaces[0].mac' "$OUT/c$i.json") $(jq -r '.ips[0].address | split("/")[0]' "$OUT/c$i.json")"
    [[ "$want" == "$got" ]] || mism="$mism c$i: port $want, result $got;"
    node=$(( (i - 1) % 3 + 1 ))
    [[ $(iface_id "$node" "cid-c$i") == "$(jq -r .name <<<"$pj")" ]] || mism="$mism c$i: iface-id $(iface_id "$node" "cid-c$i") is not $(jq -r .name <<<"$pj");"
done
assert_eq "" "$mism" "pool16: each result's MAC and address, and each OVS iface-id, are those of the pod's own port"
assert_eq "" "$(for i in $(seq 1 16); do echo "c$i $(jq -r '.ips[0].address' "$OUT/c$i.json")"; done |
    awk '{n[$2]++; w[$2] = w[$2] " " $1} END {for (a in n) if (n[a] > 1) printf "%s held by%s; ", a, w[a]}')" \
    "pool16: 16 distinct addresses in the results"
assert_eq "" "$(for n in 1 2 3; do vsctl "$n" --bare --columns=external_ids find Interface 'external_ids:"osn/network"="testns/pool16"' |
    tr ' ' '\n' | sed -n "s/^iface-id=/node$n /p"; done |
    awk '{n[$2]++; w[$2] = w[$2] " " $1} END {for (p in n) if (n[p] > 1) printf "%s plugged on%s; ", p, w[p]}')" \
    "pool16: no logical port is plugged twice (OVS iface-ids over the 3 nodes)"
unreach=""
for i in $(seq 1 16); do ping_ok c0 "$(jq -r '.ips[0].address | split("/")[0]' "$OUT/c$i.json")" || unreach="$unreach c$i"; done
assert_eq "" "$unreach" "pool16: c0 (node1) reaches all 16"
assert_eq ok "$(pool_at pool16 "$AT_TARGET")" "pool16: the pool ends at its target ($AT_TARGET)"
for i in $(seq 1 16); do
    ( detach $(( (i - 1) % 3 + 1 )) "c$i" "$P16" >"$OUT/d$i.out"; echo $? >"$OUT/d$i.rc" ) &
done
wait
bad=""
for i in $(seq 1 16); do [[ $(cat "$OUT/d$i.rc") == 0 ]] || bad="$bad c$i: $(cat "$OUT/d$i.out");"; done
assert_eq "" "$bad" "pool16: 16 concurrent DELs succeed"
assert_eq ok "$(ports_report pool16 cid-c0)" "pool16: after them, c0's port and spares only"
assert_eq ok "$(pool_at pool16 "$AT_TARGET")" "pool16: the pool is at its target ($AT_TARGET)"
detach 1 c0 "$P16" >/dev/null
assert_eq ok "$(gone pool16)" "pool16: the last DEL removes the network and its spares"
for i in $(seq 0 16); do pod_del "c$i" >/dev/null; done

# =============================================================================
# 7: CHECK and GC on pool ports (node1).
PG='{"cniVersion":"1.1.0","type":"ovn-k8s-cni-overlay","name":"poolgc","topology":"layer2","subnets":"10.85.0.0/24"}'
expect_ok "poolgc: g1" attach 1 g1 "$PG"
expect_ok "poolgc: g2" attach 1 g2 "$PG"
RG2=$RESULT
expect_ok "poolgc: g3" attach 1 g3 "$PG"
expect_ok "poolgc: g4" attach 1 g4 "$PG"
G2=$(jq -r .name <<<"$(port_of poolgc cid-g2)")
assert_contains "$G2" "osn.testns/poolgc.spare." "poolgc: g2 is on a pool port"
G4=$(jq -r .name <<<"$(port_of poolgc cid-g4)")
assert_contains "$G4" "osn.testns/poolgc.spare." "poolgc: g4 is on a pool port"
CHK=$(jq -c --argjson p "$RG2" '. + {prevResult: $p}' <<<"$PG")
check "poolgc: CHECK of g2 (a pool port) passes" cni 1 CHECK cid-g2 "$(pod_netns g2)" net1 "$CHK"
in_pod g2 ip link del net1
check_fails "poolgc: CHECK of g2 fails once its veth is gone" cni 1 CHECK cid-g2 "$(pod_netns g2)" net1 "$CHK"
jq_eq "$(cni 1 CHECK cid-g2 "$(pod_netns g2)" net1 "$CHK")" '.code' "103" "poolgc: with osn's CHECK code"
G3=$(jq -r .name <<<"$(port_of poolgc cid-g3)")
GCC=$(jq -c '. + {"cni.dev/valid-attachments": [{"containerID":"cid-g1","ifname":"net1"},{"containerID":"cid-g4","ifname":"net1"}]}' <<<"$PG")
check "poolgc: GC keeping g1 and g4" cni 1 GC "" "" "" "$GCC"
assert_eq "null null" "$(port_of poolgc cid-g2) $(port_of poolgc cid-g3)" "poolgc: GC removed g2's and g3's attachments"
assert_eq ok "$(ports_report poolgc cid-g1 cid-g4)" "poolgc: what is left is g1, g4 and spares"
assert_eq "$G4" "$(iface_id 1 cid-g4)" "poolgc: g4 keeps its pool port and OVS port"
check "poolgc: g4 still reaches g1" ping_ok g4 "$(pod_ip g1)"
ns=$(n_spares poolgc)
(( ns <= POOL )) && ok "poolgc: $ns spares, not beyond the target $POOL" || fail "poolgc: $ns spares after GC, more than $POOL"
assert_eq ok "$(pool_report poolgc "")" "poolgc: the spares and their index agree"
IDS=$(vsctl 1 --format=json --columns=external_ids list Interface)
assert_eq "0 0" "$(grep -c "\"$G2\"" <<<"$IDS") $(grep -c "\"$G3\"" <<<"$IDS")" \
    "poolgc: no OVS interface on node1 is left with g2's or g3's iface-id ($G2, $G3)"
assert_eq "" "$(in_pod g3 ip -o link show net1 2>/dev/null)" "poolgc: GC removed g3's veth"
check "poolgc: GC with an empty valid-attachments list" cni 1 GC "" "" "" "$(jq -c '. + {"cni.dev/valid-attachments": []}' <<<"$PG")"
assert_eq "" "$(in_pod g4 ip -o link show net1 2>/dev/null)" "poolgc: GC removed g4's veth (a pool port's)"
assert_eq ok "$(gone poolgc)" "poolgc: the network with spares only is gone (switch, ports, DHCP_Options)"
nothing_left "poolgc: nothing left on any node"

# =============================================================================
# 9: a /29 (5 addresses: .2 .. .6; .1 is OVN's DHCP server's) keeps no spares
# beyond what is free.
PT='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"tiny","topology":"layer2","subnets":"10.84.0.0/29"}'
bad=""
for i in 1 2 3 4 5; do
    attach $(( i % 3 + 1 )) "t$i" "$PT" || bad="$bad ADD t$i: $RESULT;"
    want=$(( 5 - i < POOL ? 5 - i : POOL ))
    r=$(pool_at tiny "$want")
    [[ $r == ok ]] || bad="$bad after t$i ($i of 5 used, want $want spares): $r;"
    mapfile -t tl < <(seq -f 'cid-t%g' 1 "$i")
    r=$(ports_report tiny "${tl[@]}")
    [[ $r == ok ]] || bad="$bad after t$i: $r;"
done
assert_eq "" "$bad" "tiny: 5 ADDs fill the /29; after each, spares = min($POOL, free addresses)"
assert_eq "5" "$(for i in 1 2 3 4 5; do pod_ip "t$i"; done | sort -u | grep -c '^10\.84\.0\.[2-6]$')" "tiny: the 5 pods hold .2 .. .6"
attach 1 t6 "$PT"; rc=$?
assert_eq "1" "$rc" "tiny: the 6th ADD fails"
jq_eq "$RESULT" '.code' "11" "tiny: with code 11 (try again later)"
jq_eq "$RESULT" '.msg | test("subnet 10.84.0.0/29 of network \"testns/tiny\" is full")' true "tiny: saying the subnet is full ($(jq -r .msg <<<"$RESULT"))"
assert_eq "null" "$(port_of tiny cid-t6)" "tiny: the refused ADD left no port"
FREED=$(pod_ip t3)
T3=$(port_of tiny cid-t3)
assert_contains "$(jq -r .name <<<"$T3")" "osn.testns/tiny.spare." "tiny: t3 is on a pool port"
expect_ok "tiny: DEL t3" detach 1 t3 "$PT"
# The pool had no spare (fewer than pool_size): the DEL returns the port.
assert_eq ok "$(pool_at tiny 1)" "tiny: the DEL returned t3's port to the pool (1 spare, in the index)"
same "$(jq -c '[._uuid, .addresses[0]]' <<<"$T3")" "$(spares_json tiny | jq -c '.[0] | [._uuid, .addresses[0]]')" \
    "tiny: the spare is t3's port, with its MAC and address"
expect_ok "tiny: the next ADD succeeds" attach 1 t7 "$PT"
same "$FREED" "$(pod_ip t7)" "tiny: with the one free address"
same "$(jq -r .name <<<"$T3")" "$(jq -r .name <<<"$(port_of tiny cid-t7)")" "tiny: on t3's old port"
assert_eq ok "$(pool_at tiny 0)" "tiny: no spare left"
for i in 1 2 4 5; do detach $(( i % 3 + 1 )) "t$i" "$PT" >/dev/null; done
detach 1 t7 "$PT" >/dev/null
assert_eq ok "$(gone tiny)" "tiny: the last DEL removes it"
nothing_left "nothing left of any network"
rm -rf "$OUT"
finish
