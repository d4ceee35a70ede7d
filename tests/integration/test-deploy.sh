#!/usr/bin/env bash
# Deployment, on a real sandbox node:
#   1. install layout: a -Dstatic=true build, `meson install --destdir`, gives
#      exactly the plugin in cni_bin_dir (its ovn-k8s-cni-overlay link only
#      with -Dcni_alias=true), osnctl in bindir, their man pages and osnctl's
#      completion; the programs static executables (no program interpreter);
#   2. the installed plugin in an otherwise empty root (a chroot holding the
#      binary and its node config; /proc, /sys, /run and the two OVSDB
#      sockets bind-mounted): VERSION, then ADD of two pods that ping each
#      other over OVN, DEL, nothing left; its default log file is created;
#      the same over ssl: (an NB relay over TLS: OpenSSL is linked in, a
#      server certificate of another CA is refused); and (strace) no NSS
#      lookup with address remotes, one with a host name;
#   3. log rotation under 8 concurrent plugin ADDs and 8 DELs: every line
#      whole, every invocation's first line present, files bounded;
#   4. osn-install run directly: the node config from env + the node's OVS,
#      TLS files from a Secret directory, idempotent re-run, in-place upgrade,
#      refusal without OSN_NB_REMOTE (test-installer has what it does with
#      files it did not install, and --uninstall);
#   5. the image (scripts/mkimage.sh) under containerd: `ctr images import`,
#      `ctr run` with a host CNI dir and the node's OVS socket mounted; the
#      plugin lands there and attaches two pods on that node;
#   6. an upgrade in place: another build of the plugin replaces it while the
#      pods run; they keep pinging, and the new binary's CHECK and DEL find
#      and remove what the old one made (nothing orphaned).
# The static build is $OSN_STATIC_BUILD when set (e.g. build-static from
# `make image`), else made in this test's temp dir (ctr.sh, static_build).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/cni.sh"
. "$(dirname "$0")/ctr.sh"
require_root_and_tools
for t in meson ninja chroot unshare readelf sha256sum jq; do
    command -v "$t" >/dev/null || skip "missing tool '$t' (scripts/deps.sh installs it)"
done

T=$(mktemp -d /tmp/osn-deploy.XXXXXX)
deploy_cleanup() {
    ctr_down
    # The TLS relay of section 2, by the pid it wrote.
    [[ -s "$T/relay.pid" ]] && kill "$(cat "$T/relay.pid")" 2>/dev/null
    rm -rf "$T"
}
trap 'deploy_cleanup' EXIT

# --- 1. static build and install layout ------------------------------------
static_build "$T/static"
DEST=$T/destdir
if meson install -C "$SB" --destdir "$DEST" >"$T/install.log" 2>&1; then
    ok "meson install --destdir"
else
    sed 's/^/# /' "$T/install.log"
    fail "meson install --destdir"
fi
PREFIX=$(meson introspect --buildoptions "$SB" | jq -r '.[] | select(.name=="prefix") | .value')
BINDIR=$(meson introspect --buildoptions "$SB" | jq -r '.[] | select(.name=="bindir") | .value')
CNIDIR=$(meson introspect --buildoptions "$SB" | jq -r '.[] | select(.name=="cni_bin_dir") | .value')
assert_eq "/opt/cni/bin" "$CNIDIR" "cni_bin_dir defaults to /opt/cni/bin"
want=$(printf '%s\n' "f $CNIDIR/ovn-kubernetes" \
    "f $PREFIX/$BINDIR/osnctl" "f $PREFIX/share/man/man8/osnctl.8" \
    "f $PREFIX/share/man/man8/ovn-kubernetes.8" \
    "f $PREFIX/share/bash-completion/completions/osnctl.bash" | sort)
got=$(cd "$DEST" && find . -not -type d -printf '%y %p\n' | sed 's| \./| /|' | sort)
assert_eq "$want" "$got" "installed files: exactly the plugin, osnctl, their man pages, osnctl's completion (no ovn-k8s-cni-overlay by default)"
if meson configure "$SB" -Dcni_alias=true >/dev/null && meson install -C "$SB" --destdir "$T/destdir-alias" >"$T/install.log" 2>&1; then
    assert_eq "ovn-kubernetes" "$(readlink "$T/destdir-alias$CNIDIR/ovn-k8s-cni-overlay")" \
        "-Dcni_alias=true: ovn-k8s-cni-overlay links to ovn-kubernetes beside it"
else
    fail "meson install -Dcni_alias=true: $(tail -3 "$T/install.log")"
fi
meson configure "$SB" -Dcni_alias=false >/dev/null
for b in "$DEST$CNIDIR/ovn-kubernetes" "$DEST$PREFIX/$BINDIR/osnctl" "$SB/deploy/installer/osn-install"; do
    hdr=$(readelf -lW "$b" 2>&1)
    if [[ "$hdr" != *"Requesting program interpreter"* && "$hdr" != *" DYNAMIC "* ]]; then
        ok "$(basename "$b") is a static executable (no interpreter, no dynamic section)"
    else
        fail "$(basename "$b") is dynamically linked"
    fi
done

# --- 2. the installed plugin in an empty root ------------------------------
sandbox_up 1
trap '_rc=$?; deploy_cleanup; (exit $_rc); _osn_cleanup' EXIT
NODE_NS=$(sandbox_prefix)-node1
NODE_DIR=$SANDBOX_DIR/node1
R=$T/root
mkdir -p "$R/opt/cni/bin" "$R/etc/osn" "$R/proc" "$R/sys" "$R/run" "$R/sock"
cp "$DEST$CNIDIR/ovn-kubernetes" "$R/opt/cni/bin/"
: >"$R/sock/nb.sock"
: >"$R/sock/db.sock"
cat >"$R/etc/osn/node.json" <<EOF
{"node_name": "osn-node1", "nb_remote": "unix:/sock/nb.sock",
 "ovs_remote": "unix:/sock/db.sock", "default_physical_network": "physnet",
 "log_level": "debug"}
EOF
got=$(cd "$R" && find . -not -type d | sort | tr '\n' ' ')
assert_eq "./etc/osn/node.json ./opt/cni/bin/ovn-kubernetes ./sock/db.sock ./sock/nb.sock " \
    "$got" "the empty root holds only the plugin, its node config and two socket mount points"

# in_root VERB CID NETNS IFNAME CONF: the plugin in the chroot, in node1's
# netns.  The mounts are made in the mount namespace of `ip netns exec`, so
# they vanish with it.
in_root() {
    local verb=$1 cid=$2 netns=$3 ifname=$4 conf=$5
    ip netns exec "$NODE_NS" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin R="$R" NB="$SANDBOX_DIR/nb.sock" DB="$NODE_DIR/db.sock" \
        CNI_COMMAND="$verb" CNI_CONTAINERID="$cid" CNI_NETNS="$netns" CNI_IFNAME="$ifname" \
        CNI_PATH=/opt/cni/bin OSN_CONFIG="${ROOT_CONFIG:-/etc/osn/node.json}" \
        CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=testns;K8S_POD_NAME=$cid" \
        bash -c 'mount --rbind /proc "$R/proc" && mount --rbind /sys "$R/sys" &&
                 mount --rbind /run "$R/run" && mount --bind "$NB" "$R/sock/nb.sock" &&
                 mount --bind "$DB" "$R/sock/db.sock" &&
                 exec chroot "$R" /opt/cni/bin/ovn-kubernetes' <<<"$conf"
}
NET='{"cniVersion":"1.0.0","type":"ovn-k8s-cni-overlay","name":"chroot-l2","topology":"layer2","subnets":"10.77.0.0/24"}'
OUT=$(in_root VERSION "" "" "" '{"cniVersion":"1.0.0"}')
jq_eq "$OUT" '.supportedVersions | index("1.1.0") != null' "true" "VERSION in the empty root"
for p in ca cb; do
    pod_add "$p" >/dev/null
    if OUT=$(in_root ADD "$p" "/run/netns/$(sandbox_prefix)-pod-$p" net1 "$NET"); then
        ok "ADD $p in the empty root"
    else
        fail "ADD $p in the empty root: $OUT"
    fi
done
IPA=$(pod_ip ca)
IPB=$(pod_ip cb)
[[ $IPA == 10.77.0.* && $IPB == 10.77.0.* && $IPA != "$IPB" ]] &&
    ok "pods got distinct addresses ($IPA, $IPB)" || fail "addresses '$IPA' '$IPB'"
check "pod ca pings pod cb over OVN" ping_ok ca "$IPB"
assert_eq "true" "$(vsctl 1 --bare --columns=external_ids find Interface \
    'external_ids:"osn/container-id"=ca' | grep -o 'ovn-installed="*true' | tr -d '"' | cut -d= -f2)" \
    "ovn-controller installed the port plugged from the empty root"
for p in ca cb; do
    OUT=$(in_root DEL "$p" "/run/netns/$(sandbox_prefix)-pod-$p" net1 "$NET")
    assert_eq "0" "$?" "DEL $p in the empty root: ${OUT:0:200}"
    pod_del "$p" >/dev/null
done
nothing_left "after DEL from the empty root: nothing left"
[[ -d "$R/var/log/osn" ]] && ok "default log directory /var/log/osn created" ||
    fail "no /var/log/osn in the root"
assert_contains "$(cat "$R/var/log/osn/cni.log" 2>/dev/null)" "DBG ca: ADD network testns/chroot-l2" \
    "the plugin logged to the default /var/log/osn/cni.log"

# TLS from the empty root: the static plugin has OpenSSL linked in, so an
# ssl: remote needs nothing from the host but the three PEM files.  The NB
# is served over TLS by an OVSDB relay of the sandbox's NB inside node1's
# netns (it forwards every transaction to the NB).
if command -v openssl >/dev/null; then
    P=$T/pki
    mkdir -p "$P"
    if ! (cd "$P" && K="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes" &&
        for ca in ca other-ca; do
            # shellcheck disable=SC2086
            openssl req -x509 -new $K -keyout $ca.key -out $ca.pem -days 2 -subj "/CN=osn-$ca" || exit 1
        done &&
        for who in server client; do
            # shellcheck disable=SC2086
            openssl req -new $K -keyout $who.key -out $who.csr -subj "/CN=$who" &&
                openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
                    -out $who.pem -days 2 || exit 1
        done) >"$T/pki.log" 2>&1; then
        fail "making test certificates: $(tail -3 "$T/pki.log")"
    fi
    ip netns exec "$NODE_NS" ovsdb-server --detach --no-chdir --pidfile="$T/relay.pid" \
        --log-file="$T/relay.log" -vconsole:off --unixctl="$T/relay.ctl" --remote=pssl:16641:127.0.0.1 \
        --private-key="$P/server.key" --certificate="$P/server.pem" --ca-cert="$P/ca.pem" \
        "relay:OVN_Northbound:unix:$SANDBOX_DIR/nb.sock" 2>"$T/relay.err"
    relay_up() {
        ip netns exec "$NODE_NS" ovn-nbctl --no-leader-only --timeout=2 --db=ssl:127.0.0.1:16641 \
            -p "$P/client.key" -c "$P/client.pem" -C "$P/ca.pem" ls-list
    }
    wait_until 10 relay_up && ok "an NB relay serves the sandbox's NB over TLS in node1" ||
        fail "NB relay over TLS not up within 10 s"
    cp "$P/client.key" "$P/client.pem" "$P/ca.pem" "$P/other-ca.pem" "$R/etc/osn/"
    for ca in ca other-ca; do
        jq -n --arg ca "/etc/osn/$ca.pem" '{node_name: "osn-node1",
            nb_remote: "ssl:127.0.0.1:16641", ovs_remote: "unix:/sock/db.sock",
            nb_private_key: "/etc/osn/client.key", nb_certificate: "/etc/osn/client.pem",
            nb_ca_cert: $ca}' >"$R/etc/osn/tls-$ca.json"
    done
    pod_add ct >/dev/null
    if OUT=$(ROOT_CONFIG=/etc/osn/tls-ca.json in_root ADD ct "/run/netns/$(sandbox_prefix)-pod-ct" net1 "$NET"); then
        ok "ADD over ssl: from the empty root (OpenSSL linked in, no host library)"
    else
        fail "ADD over ssl: from the empty root: $OUT"
    fi
    OUT=$(ROOT_CONFIG=/etc/osn/tls-other-ca.json in_root ADD ct2 "/run/netns/$(sandbox_prefix)-pod-ct" net2 "$NET")
    assert_contains "$OUT" "certificate verify failed" "a server certificate from another CA is refused"
    OUT=$(ROOT_CONFIG=/etc/osn/tls-ca.json in_root DEL ct "/run/netns/$(sandbox_prefix)-pod-ct" net1 "$NET")
    assert_eq "0" "$?" "DEL over ssl: from the empty root: $OUT"
    pod_del ct >/dev/null
    nothing_left "after the TLS ADD/DEL: nothing left"
    kill "$(cat "$T/relay.pid")" && rm -f "$T/relay.pid"
else
    echo "# openssl CLI missing: TLS from the empty root not tested (scripts/deps.sh installs it)"
fi

# No name service on the hot path: with addresses as remotes the static
# plugin opens none of glibc's NSS files; with a host name it does (the
# control that shows the check can see it).
nss_files() {
    jq -n --arg nb "$1" --arg ovs "unix:$NODE_DIR/db.sock" \
        '{nb_remote: $nb, ovs_remote: $ovs, log_file: "-"}' >"$T/nss.json"
    OSN_CONFIG=$T/nss.json CNI_COMMAND=STATUS strace -f -e trace=openat,open,connect \
        "$DEST$CNIDIR/ovn-kubernetes" <<<'{"cniVersion":"1.1.0","type":"ovn-kubernetes","name":"x"}' 2>&1 |
        grep -oE 'nsswitch.conf|/etc/hosts|resolv.conf|nscd/socket|libnss_[a-z]+' | sort -u | tr '\n' ' '
}
if command -v strace >/dev/null; then
    assert_eq "" "$(nss_files tcp:127.0.0.1:1,tcp:[::1]:1)" "no NSS lookup with address remotes (strace)"
    assert_contains "$(nss_files tcp:localhost:1)" "nsswitch.conf" "a host name remote does go through NSS (the control)"
else
    echo "# strace not installed: NSS check not run (scripts/deps.sh installs it)"
fi

# --- 3. rotation under 8 concurrent plugin runs -----------------------------
LOGD=$T/rotlog
jq --arg log "$LOGD/cni.log" '. + {log_file: $log, log_level: "debug", log_max_bytes: 2048,
    log_max_files: 100}' "$NODE_DIR/osn.json" >"$T/rot.json"
rot_run() {
    local verb=$1 p=$2
    ip netns exec "$NODE_NS" env OSN_CONFIG="$T/rot.json" CNI_COMMAND="$verb" \
        CNI_CONTAINERID="rot$p" CNI_NETNS="/var/run/netns/$(sandbox_prefix)-pod-rot$p" \
        CNI_IFNAME=net1 CNI_PATH=/opt/cni/bin CNI_ARGS="" "$PLUGIN" <<<"$NET" >"$T/rot$p.$verb.out"
}
for p in $(seq 8); do pod_add "rot$p" >/dev/null; done
for verb in ADD DEL; do
    pids=()
    for p in $(seq 8); do
        rot_run "$verb" "$p" &
        pids+=($!)
    done
    bad=0
    for pid in "${pids[@]}"; do wait "$pid" || bad=$((bad + 1)); done
    assert_eq "0" "$bad" "8 concurrent ${verb}s succeeded"
done
for p in $(seq 8); do pod_del "rot$p" >/dev/null; done
nfiles=$(find "$LOGD" -name 'cni.log*' ! -name '*.lock' | wc -l)
((nfiles > 2)) && ok "the log rotated ($nfiles files)" || fail "the log did not rotate ($nfiles files)"
torn=$(cat "$LOGD"/cni.log* | grep -cvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z [0-9]+ (ERR|WARN|INFO|DBG) .*[^ ]$')
assert_eq "0" "$torn" "no torn or interleaved line in $nfiles files"
missing=""
for verb in ADD DEL; do
    for p in $(seq 8); do
        n=$(cat "$LOGD"/cni.log* | grep -c " DBG rot$p: $verb network _none/chroot-l2 ")
        [[ $n == 1 ]] || missing="$missing $verb/rot$p:$n"
    done
done
assert_eq "" "$missing" "every invocation's first line is there exactly once"
big=$(find "$LOGD" -name 'cni.log.*' ! -name '*.lock' -size +$((2048 + 8 * 2048))c | wc -l)
assert_eq "0" "$big" "rotated files stay within the bound (plus one line per concurrent writer)"

# --- 4. osn-install, run directly -------------------------------------------
INST=$SB/deploy/installer/osn-install
H=$T/host
mkdir -p "$H/opt/cni/bin" "$H/src"
cp "$DEST$CNIDIR/ovn-kubernetes" "$H/src/ovn-kubernetes"
install_env=(OSN_NB_REMOTE="unix:$SANDBOX_DIR/nb.sock" OSN_CNI_BIN_DIR="$H/opt/cni/bin"
    OSN_CONFIG_DIR="$H/etc/osn" OSN_HOST_CONFIG_DIR="$H/etc/osn" OSN_SOURCE_DIR="$H/src"
    OSN_OVS_REMOTE="unix:$NODE_DIR/db.sock" OSN_OVS_TIMEOUT_MS=5000 OSN_LOG_FILE="$T/inst.log")
OUT=$(env "${install_env[@]}" "$INST" 2>&1)
assert_eq "0" "$?" "osn-install: $OUT"
assert_contains "$OUT" "written" "first run writes the node config"
NJ=$(cat "$H/etc/osn/node.json")
jq_eq "$NJ" '.node_name' "osn-node1" "node_name from the node's external_ids:system-id"
jq_eq "$NJ" '.default_physical_network' "physnet" "default physical network from ovn-bridge-mappings"
jq_eq "$NJ" '.nb_remote' "unix:$SANDBOX_DIR/nb.sock" "nb_remote from OSN_NB_REMOTE"
jq_eq "$NJ" '.ovs_remote' "unix:$NODE_DIR/db.sock" "ovs_remote: the socket it read"
check "installed plugin is the source, byte for byte" cmp "$H/src/ovn-kubernetes" "$H/opt/cni/bin/ovn-kubernetes"
assert_eq "755" "$(stat -c %a "$H/opt/cni/bin/ovn-kubernetes")" "installed plugin is mode 0755"
[[ ! -e "$H/opt/cni/bin/ovn-k8s-cni-overlay" ]] && ok "no ovn-k8s-cni-overlay by default (OSN_CNI_ALIAS)" ||
    fail "ovn-k8s-cni-overlay installed without OSN_CNI_ALIAS"
ino1=$(stat -c %i "$H/opt/cni/bin/ovn-kubernetes") || exit 1
ino_conf1=$(stat -c %i "$H/etc/osn/node.json") || exit 1
OUT=$(env "${install_env[@]}" "$INST" 2>&1)
assert_eq "0" "$?" "osn-install again"
assert_contains "$OUT" "node.json unchanged" "re-run leaves the node config alone"
assert_contains "$OUT" "ovn-kubernetes unchanged" "re-run leaves the plugin alone"
assert_eq "$ino1 $ino_conf1" "$(stat -c %i "$H/opt/cni/bin/ovn-kubernetes") $(stat -c %i "$H/etc/osn/node.json")" \
    "re-run replaced no file (same inodes)"
# Upgrade: a new plugin in the image; keep a descriptor on the old one, as
# a plugin process that kubelet exec'd just before would.
printf 'upgrade' >>"$H/src/ovn-kubernetes"
exec {old_fd}<"$H/opt/cni/bin/ovn-kubernetes"
OUT=$(env "${install_env[@]}" "$INST" 2>&1)
assert_contains "$OUT" "ovn-kubernetes installed" "a new plugin is installed in place"
check "upgraded plugin is the new one" cmp "$H/src/ovn-kubernetes" "$H/opt/cni/bin/ovn-kubernetes"
check "the old file is untouched under a running process (replaced by rename)" \
    cmp "/proc/$$/fd/$old_fd" "$DEST$CNIDIR/ovn-kubernetes"
exec {old_fd}<&-
assert_eq "" "$(find "$H" -name '.*.osn-install.[0-9]*')" "no temporary file left beside"
# TLS from a Secret directory.
mkdir -p "$T/secret"
for f in tls.key tls.crt ca.crt; do echo "pem $f" >"$T/secret/$f"; done
OUT=$(env "${install_env[@]}" OSN_NB_REMOTE="ssl:10.0.0.1:6641,ssl:10.0.0.2:6641" \
    OSN_TLS_DIR="$T/secret" "$INST" 2>&1)
assert_eq "0" "$?" "osn-install with TLS: $OUT"
NJ=$(cat "$H/etc/osn/node.json")
jq_eq "$NJ" '[.nb_private_key, .nb_certificate, .nb_ca_cert] | join(" ")' \
    "$H/etc/osn/nb-privkey.pem $H/etc/osn/nb-cert.pem $H/etc/osn/nb-cacert.pem" "TLS paths in the node config"
check "TLS key copied" cmp "$T/secret/tls.key" "$H/etc/osn/nb-privkey.pem"
assert_eq "600" "$(stat -c %a "$H/etc/osn/nb-privkey.pem")" "TLS key is mode 0600"
cp "$H/etc/osn/node.json" "$T/before.json"
OUT=$(env "${install_env[@]}" OSN_NB_REMOTE= "$INST" 2>&1)
assert_eq "1" "$?" "osn-install without OSN_NB_REMOTE fails"
assert_contains "$OUT" "OSN_NB_REMOTE" "and says what is missing"
check "and changes nothing" cmp "$T/before.json" "$H/etc/osn/node.json"

# --- 5. the image under containerd ------------------------------------------
IMG=$T/osn-node.oci.tar
OUT=$("$ROOT/scripts/mkimage.sh" "$SB" "$IMG" localhost/osn-node:test 2>&1)
assert_eq "0" "$?" "mkimage.sh: $OUT"
echo "# image: $(stat -c %s "$IMG") bytes"
ctr_up "$T/ctd" || finish
ctr_import "$IMG"
assert_contains "$("${CTR[@]}" images ls -q)" "localhost/osn-node:test" "the image is known by its name"
CH=$T/ctrhost
mkdir -p "$CH/opt/cni/bin" "$CH/etc/osn"
OUT=$(timeout 120 "${CTR[@]}" run --rm --snapshotter native \
    --mount "type=bind,src=$CH/opt/cni/bin,dst=/host/opt/cni/bin,options=rbind:rw" \
    --mount "type=bind,src=$CH/etc/osn,dst=/host/etc/osn,options=rbind:rw" \
    --mount "type=bind,src=$NODE_DIR/db.sock,dst=/var/run/openvswitch/db.sock,options=bind:rw" \
    --env OSN_NB_REMOTE="unix:$SANDBOX_DIR/nb.sock" \
    --env OSN_NODE_OVS_REMOTE="unix:$NODE_DIR/db.sock" \
    --env OSN_HOST_CONFIG_DIR="$CH/etc/osn" \
    --env OSN_LOG_FILE="$T/ctr-plugin.log" \
    localhost/osn-node:test osn-install-test 2>&1)
assert_eq "0" "$?" "ctr run of the image (entrypoint osn-install): $OUT"
strip --strip-all -o "$T/stripped" "$SB/src/plugin/ovn-kubernetes"
check "the plugin landed in the host CNI dir (the build's, stripped)" cmp "$T/stripped" "$CH/opt/cni/bin/ovn-kubernetes"
[[ -x "$CH/opt/cni/bin/ovn-kubernetes" && ! -e "$CH/opt/cni/bin/ovn-k8s-cni-overlay" ]] &&
    ok "the plugin, and no ovn-k8s-cni-overlay, in the host CNI dir" || fail "plugin not installed by the image"
jq_eq "$(cat "$CH/etc/osn/node.json" 2>/dev/null)" '.node_name' "osn-node1" "node config written by the image, node name from OVS"
# host_cni VERB POD [CONF]: the plugin in the host CNI dir, on node1, as
# kubelet/Multus would run it.
host_cni() {
    ip netns exec "$NODE_NS" env OSN_CONFIG="$CH/etc/osn/node.json" CNI_COMMAND="$1" \
        CNI_CONTAINERID="$2" CNI_NETNS="/var/run/netns/$(sandbox_prefix)-pod-$2" CNI_IFNAME=net1 \
        CNI_PATH="$CH/opt/cni/bin" CNI_ARGS="" "$CH/opt/cni/bin/ovn-kubernetes" <<<"${3:-$NET}"
}
for p in img img2; do
    pod_add "$p" >/dev/null
    if RESULT=$(host_cni ADD "$p"); then
        ok "the plugin the image installed attaches pod $p on node1"
    else
        fail "the plugin the image installed attaches pod $p on node1: $RESULT"
    fi
done
jq_eq "$RESULT" '.interfaces[] | select(.sandbox != null) | .name' "net1" "its result names the pod interface"
IMG2=$(pod_ip img2)
[[ $IMG2 == 10.77.0.* ]] && ok "pod has an address from OVN ($IMG2)" || fail "pod address '$IMG2'"
check "pod img pings pod img2" ping_ok img "$IMG2"
# osnctl from the image, as `kubectl exec ... -c installed -- osnctl` runs
# it: the node config at /etc/osn, the OVS socket, and (here) the NB socket.
OUT=$(timeout 60 "${CTR[@]}" run --rm --snapshotter native \
    --mount "type=bind,src=$CH/etc/osn,dst=/etc/osn,options=rbind:ro" \
    --mount "type=bind,src=$NODE_DIR/db.sock,dst=$NODE_DIR/db.sock,options=bind:rw" \
    --mount "type=bind,src=$SANDBOX_DIR/nb.sock,dst=$SANDBOX_DIR/nb.sock,options=bind:rw" \
    localhost/osn-node:test osnctl-test /osn/bin/osnctl --json attachments --network _none/chroot-l2 2>&1)
got=$(jq -r '[.. | objects | select(has("container_id")) | .container_id] | sort | join(" ")' <<<"$OUT" 2>/dev/null)
if [[ "$got" == "img img2" ]]; then
    ok "osnctl in the image lists the two attachments"
else
    fail "osnctl in the image lists the two attachments: got '$got' from: $OUT"
fi

# Upgrade in place: another build of the plugin (the one under test, built
# separately) replaces the image's while the pods run.  The pods are not
# touched; the new binary's CHECK and DEL find what the old one made.
mkdir -p "$T/newsrc"
cp "$OSN_BUILD/src/plugin/ovn-kubernetes" "$T/newsrc/ovn-kubernetes"
OUT=$(env OSN_NB_REMOTE="unix:$SANDBOX_DIR/nb.sock" OSN_CNI_BIN_DIR="$CH/opt/cni/bin" \
    OSN_CONFIG_DIR="$CH/etc/osn" OSN_HOST_CONFIG_DIR="$CH/etc/osn" OSN_SOURCE_DIR="$T/newsrc" \
    OSN_OVS_REMOTE="unix:$NODE_DIR/db.sock" OSN_LOG_FILE="$T/ctr-plugin.log" "$INST" 2>&1)
assert_contains "$OUT" "ovn-kubernetes installed" "upgrade: a new plugin binary replaced the image's"
check "upgrade: the CNI dir now holds the new binary" cmp "$T/newsrc/ovn-kubernetes" "$CH/opt/cni/bin/ovn-kubernetes"
check "pods keep their network across the upgrade (img pings img2)" ping_ok img "$IMG2"
CHK=$(jq -c --argjson p "$RESULT" '. + {prevResult: $p}' <<<"$NET")
check "the new binary's CHECK accepts what the old one made" host_cni CHECK img2 "$CHK"
for p in img img2; do
    OUT=$(host_cni DEL "$p")
    assert_eq "0" "$?" "the new binary's DEL removes pod $p: $OUT"
    pod_del "$p" >/dev/null
done
nothing_left "after the upgrade and DEL: nothing orphaned"
assert_eq "" "$("${CTR[@]}" containers ls -q)" "no container left in containerd"
finish
