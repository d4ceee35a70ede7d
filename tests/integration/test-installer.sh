#!/usr/bin/env bash
# osn-install on a node that already has other CNI plugins, among them
# ovn-kubernetes' own ovn-k8s-cni-overlay (deploy/installer/place.h):
#   - by default the alias is off: the foreign ovn-k8s-cni-overlay is left
#     alone (same inode, same bytes) and the output says so;
#   - asked for the alias, the installer refuses to replace it, names the
#     file, --force and ovn-kubernetes, and changes nothing at all;
#   - a hand-written node.json and a foreign ovn-kubernetes are refused too
#     (every refusal named in one run);
#   - with --force the alias replaces it, the original kept beside it; a
#     re-run without --force leaves osn's own files alone; a file changed by
#     someone else after osn installed it is refused again;
#   - the alias turned off again puts the original back;
#   - --uninstall restores exactly the pre-install state: every file, mode,
#     owner, size, mtime, inode, symlink target and byte as before, no record
#     and no directory left that was not there; TLS key material gone;
#   - a file changed by others since is left alone by --uninstall, said so.
# Needs a sandbox node only for its OVS DB (system-id, bridge mappings).
. "$(dirname "$0")/lib.sh"
require_root_and_tools
INST=$OSN_BUILD/deploy/installer/osn-install
require_built "$INST" "$OSN_BUILD/src/plugin/ovn-kubernetes"
command -v sha256sum >/dev/null || skip "missing sha256sum"

T=$(mktemp -d /tmp/osn-installer.XXXXXX)
sandbox_up 1
trap '_rc=$?; rm -rf "$T"; (exit $_rc); _osn_cleanup' EXIT
NODE_DIR=$SANDBOX_DIR/node1

H=$T/host
CNI=$H/opt/cni/bin
mkdir -p "$CNI" "$T/src" "$T/secret"
cp "$OSN_BUILD/src/plugin/ovn-kubernetes" "$T/src/ovn-kubernetes"
for f in tls.key tls.crt ca.crt; do echo "pem $f" >"$T/secret/$f"; done
# What was there before: ovn-kubernetes' plugin (a stand-in script), another
# plugin, and a symlink of the runtime's.
printf '#!/bin/sh\necho "ovn-kubernetes primary network plugin"\n' >"$CNI/ovn-k8s-cni-overlay"
chmod 0750 "$CNI/ovn-k8s-cni-overlay"
touch -d '2024-01-02 03:04:05' "$CNI/ovn-k8s-cni-overlay"
printf 'bridge plugin\n' >"$CNI/bridge"
chmod 0755 "$CNI/bridge"
ln -s bridge "$CNI/bridge-alias"

# snapshot DIR: every entry with type, mode, owner and (not directories)
# size, mtime, inode, link target and (files) sha256: equal snapshots are
# equal trees, byte for byte.  A directory's own mtime is not restored (it
# records that entries came and went) and so is not compared.
snapshot() {
    (cd "$1" && find . \( -type d -printf '%p %y %m %U:%G\n' \) -o -printf '%p %y %m %U:%G %s %T@ %i %l\n' | sort &&
        find . -type f -exec sha256sum {} + | sort)
}
PRE=$(snapshot "$H")
ALIAS_INO=$(stat -c %i "$CNI/ovn-k8s-cni-overlay")

# inst [VAR=VALUE...] PROGRAM ARG...: the installer on this test's host
# tree, exec'd (so only in a subshell: $(inst ...); as a background job
# (exec_inst ...) & its pid is the installer's).
inst() {
    exec_inst "$@" 2>&1
}
exec_inst() {
    exec env OSN_NB_REMOTE="unix:$SANDBOX_DIR/nb.sock" OSN_CNI_BIN_DIR="$CNI" \
        OSN_CONFIG_DIR="$H/etc/osn" OSN_HOST_CONFIG_DIR="$H/etc/osn" OSN_SOURCE_DIR="$T/src" \
        OSN_OVS_REMOTE="unix:$NODE_DIR/db.sock" OSN_OVS_TIMEOUT_MS=5000 OSN_LOG_FILE="$T/plugin.log" \
        "$@"
}

# 1. Default: no alias; the foreign one untouched.
OUT=$(inst "$INST")
assert_eq "0" "$?" "install with a foreign ovn-k8s-cni-overlay present: $OUT"
assert_contains "$OUT" "$CNI/ovn-kubernetes installed" "the plugin is installed"
assert_contains "$OUT" "$CNI/ovn-k8s-cni-overlay left alone (not osn's; OSN_CNI_ALIAS is off)" \
    "the output says the foreign ovn-k8s-cni-overlay was left alone"
assert_eq "$ALIAS_INO" "$(stat -c %i "$CNI/ovn-k8s-cni-overlay")" "the foreign ovn-k8s-cni-overlay is the same file"
assert_contains "$(cat "$CNI/ovn-k8s-cni-overlay")" "primary network plugin" "with the same content"
[[ -s "$CNI/.osn-install.json" && -s "$H/etc/osn/.osn-install.json" ]] &&
    ok "each directory has osn-install's record" || fail "no install record"
jq_keys() { jq -r '.files | keys | join(" ")' "$1"; }
assert_eq "ovn-kubernetes" "$(jq_keys "$CNI/.osn-install.json")" "the CNI dir's record names only the plugin"
AFTER1=$(snapshot "$H")

# 2. The alias asked for, without --force: refused, nothing changed.
OUT=$(inst OSN_CNI_ALIAS=true "$INST")
assert_eq "1" "$?" "OSN_CNI_ALIAS=true over a foreign ovn-k8s-cni-overlay fails"
assert_contains "$OUT" "refusing to replace $CNI/ovn-k8s-cni-overlay: osn-install did not install it" \
    "the message names the file"
assert_contains "$OUT" "--force" "and the option that forces it"
assert_contains "$OUT" "ovn-kubernetes' own CNI plugin" "and what the file usually is"
assert_eq "$AFTER1" "$(snapshot "$H")" "a refusal changes nothing"
OUT=$(inst OSN_CNI_ALIAS=maybe "$INST")
assert_contains "$OUT" "OSN_CNI_ALIAS=maybe: use true or false" "a bad OSN_CNI_ALIAS value is named"

# 3. Other people's files elsewhere: a hand-written node.json and a foreign
#    ovn-kubernetes are refused, both named in one run, nothing changed.
H2=$T/host2
mkdir -p "$H2/cni" "$H2/etc"
echo '{"nb_remote": "tcp:192.0.2.1:6641"}' >"$H2/etc/node.json"
echo 'not osn' >"$H2/cni/ovn-kubernetes"
PRE2=$(snapshot "$H2")
OUT=$(inst OSN_CNI_BIN_DIR="$H2/cni" OSN_CONFIG_DIR="$H2/etc" "$INST")
assert_eq "1" "$?" "files of others in both directories: refused"
assert_contains "$OUT" "refusing to replace $H2/etc/node.json" "a hand-written node.json is named"
assert_contains "$OUT" "refusing to replace $H2/cni/ovn-kubernetes" "a foreign ovn-kubernetes is named"
assert_contains "$OUT" "nothing changed: 2 file(s) refused" "both in one run"
assert_eq "$PRE2" "$(snapshot "$H2")" "and nothing was changed there"

# 4. --force: the alias replaces the foreign file, which is kept.
OUT=$(inst OSN_CNI_ALIAS=true "$INST" --force)
assert_eq "0" "$?" "--force: $OUT"
assert_eq "ovn-kubernetes" "$(readlink "$CNI/ovn-k8s-cni-overlay")" "the alias now links to the plugin"
assert_contains "$OUT" "original is kept as $CNI/.ovn-k8s-cni-overlay.osn-saved" "the output says where the original is"
assert_eq "$ALIAS_INO" "$(stat -c %i "$CNI/.ovn-k8s-cni-overlay.osn-saved")" "the original is kept (same inode)"
OUT=$(inst OSN_CNI_ALIAS=true "$INST")
assert_eq "0" "$?" "a re-run without --force accepts osn's own files: $OUT"
assert_contains "$OUT" "$CNI/ovn-k8s-cni-overlay unchanged" "and changes nothing"

# 5. Someone else rewrites osn's plugin: no longer osn's, refused.
cp "$CNI/ovn-kubernetes" "$T/ours"
printf 'x' >>"$CNI/ovn-kubernetes"
OUT=$(inst OSN_CNI_ALIAS=true "$INST")
assert_eq "1" "$?" "a plugin changed by someone else since is refused"
assert_contains "$OUT" "refusing to replace $CNI/ovn-kubernetes: osn-install did not install it (or it changed since)" \
    "the message says it changed since"
cp "$T/ours" "$CNI/ovn-kubernetes"
chmod 0755 "$CNI/ovn-kubernetes"

# 6. TLS files; then the alias turned off again: the original is put back.
OUT=$(inst OSN_CNI_ALIAS=true OSN_NB_REMOTE="ssl:192.0.2.1:6641" OSN_TLS_DIR="$T/secret" "$INST")
assert_eq "0" "$?" "install with TLS files: $OUT"
assert_eq "600" "$(stat -c %a "$H/etc/osn/nb-privkey.pem")" "the NB private key is installed, mode 0600"
OUT=$(inst OSN_NB_REMOTE="ssl:192.0.2.1:6641" OSN_TLS_DIR="$T/secret" "$INST")
assert_eq "0" "$?" "alias off again: $OUT"
assert_contains "$OUT" "$CNI/ovn-k8s-cni-overlay removed" "osn's alias is removed"
assert_eq "$ALIAS_INO" "$(stat -c %i "$CNI/ovn-k8s-cni-overlay")" "and the original is back in its place"

# 7. --uninstall: the pre-install state, exactly.
OUT=$(inst "$INST" --uninstall)
assert_eq "0" "$?" "--uninstall: $OUT"
assert_contains "$OUT" "$H/etc/osn/nb-privkey.pem removed" "the NB private key is removed"
assert_eq "$PRE" "$(snapshot "$H")" "--uninstall restores the pre-install state byte for byte (modes, owners, mtimes, inodes, links)"
[[ ! -e "$H/etc" ]] && ok "the directories osn-install made are gone" || fail "$H/etc left behind"

# 8. --uninstall leaves alone a file others changed since, and says so.
OUT=$(inst OSN_CNI_ALIAS=true "$INST" --force)
assert_eq "0" "$?" "installed again with --force"
rm "$CNI/ovn-kubernetes"
echo 'their plugin now' >"$CNI/ovn-kubernetes"
OUT=$(inst "$INST" --uninstall)
assert_eq "0" "$?" "--uninstall with a changed file"
assert_contains "$OUT" "left alone: $CNI/ovn-kubernetes changed since osn-install installed it" \
    "it says which file it left alone"
assert_eq "their plugin now" "$(cat "$CNI/ovn-kubernetes")" "and left it alone"
assert_eq "$ALIAS_INO" "$(stat -c %i "$CNI/ovn-k8s-cni-overlay")" "the foreign alias is back all the same"
[[ ! -e "$CNI/.osn-install.json" ]] && ok "no record left" || fail "record left behind"

# 9. OSN_UNINSTALL=true is --uninstall (the DaemonSet's way), and needs
#    neither the NB remote nor the OVS DB.
rm "$CNI/ovn-kubernetes"
OUT=$(inst "$INST")
assert_eq "0" "$?" "installed again: $OUT"
OUT=$(env OSN_CNI_BIN_DIR="$CNI" OSN_CONFIG_DIR="$H/etc/osn" OSN_UNINSTALL=true OSN_OVS_REMOTE=unix:/nonexistent "$INST" --stay </dev/null 2>&1 &
    pid=$!
    for _ in $(seq 50); do [[ -e "$CNI/ovn-kubernetes" ]] || break; sleep 0.1; done
    kill -TERM "$pid"
    wait "$pid"
    echo "rc=$?")
assert_contains "$OUT" "osn-install: uninstalled" "OSN_UNINSTALL=true --stay uninstalls without NB or OVS: $OUT"
assert_contains "$OUT" "rc=0" "and exits 0 on SIGTERM"
assert_eq "$PRE" "$(snapshot "$H")" "the pre-install state again"

# 10. --stay with OSN_FOLLOW_LOG copies what the plugin appends to its log
#     to stdout (kubectl logs): not what was there before, across a rotation
#     (the rest of the old file, then the new one), in order.
F=$T/follow
mkdir -p "$F"
echo "written before the container started" >"$F/cni.log"
(exec_inst OSN_FOLLOW_LOG="$F/cni.log" "$INST" --stay >"$F/out" 2>&1) &
pid=$!
installed() { grep -q "osn-install: node" "$F/out"; }
wait_until 10 installed || fail "the installer did not finish within 10 s: $(cat "$F/out")"
echo "line 1" >>"$F/cni.log"
seen() { grep -q "$1" "$F/out"; }
wait_until 5 seen "line 1" && ok "a line appended to the log shows on stdout" || fail "line 1 not copied"
echo "line 2" >>"$F/cni.log"
mv "$F/cni.log" "$F/cni.log.1"
echo "line 3" >"$F/cni.log"
wait_until 5 seen "line 3" || true
kill -TERM "$pid"
wait "$pid"
assert_eq "0" "$?" "--stay exits 0 on SIGTERM while following"
assert_eq "line 1 line 2 line 3" "$(grep '^line' "$F/out" | tr '\n' ' ' | sed 's/ $//')" \
    "the lines before and after a rotation, each once, in order"
assert_eq "0" "$(grep -c 'before the container started' "$F/out")" "what was there before it started is not repeated"
OUT=$(inst "$INST" --uninstall)
assert_eq "0" "$?" "--uninstall: $OUT"

# Tenancy's grants in node.json (README, "Tenancy"): a fresh install grants
# no physical network; a node.json from before tenancy (no physical_networks)
# gets every mapped physical network for every namespace, said on stdout; a
# re-run keeps what is there; OSN_*_NETWORKS set them.
G=$T/grants
mkdir -p "$G/etc/osn"
ginst() { exec_inst OSN_CONFIG_DIR="$G/etc/osn" OSN_HOST_CONFIG_DIR="$G/etc/osn" "$@" 2>&1; }
grant() { jq -c ".$1" "$G/etc/osn/node.json"; }
OUT=$(ginst "$INST")
assert_eq "0" "$?" "a fresh install: $OUT"
assert_eq "{}" "$(grant physical_networks)" "a fresh install grants no physical network"
jq 'del(.physical_networks)' "$G/etc/osn/node.json" >"$T/old.json"
cp "$T/old.json" "$G/etc/osn/node.json"
OUT=$(ginst "$INST" --force)
assert_eq "0" "$?" "an upgrade over a node.json from before tenancy: $OUT"
assert_eq '{"physnet":{"*":"*"}}' "$(grant physical_networks)" "it keeps what the node allowed: every namespace, every VLAN of its mapped physnet"
assert_contains "$OUT" "has no physical_networks (written before tenancy)" "and says so"
OUT=$(ginst "$INST")
assert_eq '{"physnet":{"*":"*"}}' "$(grant physical_networks)" "a re-run keeps the grant"
OUT=$(ginst OSN_PHYSICAL_NETWORKS='{"physnet": {"tenant-a": [10]}}' OSN_CLUSTER_NETWORKS='{"storage": ["a", "b"]}' "$INST")
assert_eq "0" "$?" "grants from the environment: $OUT"
assert_eq '{"physnet":{"tenant-a":[10]}}' "$(grant physical_networks)" "OSN_PHYSICAL_NETWORKS is physical_networks"
assert_eq '{"storage":["a","b"]}' "$(grant cluster_networks)" "OSN_CLUSTER_NETWORKS is cluster_networks"
OUT=$(ginst OSN_PHYSICAL_NETWORKS='{"physnet": {"Bad_NS": "*"}}' "$INST")
assert_eq "1" "$?" "a grant the plugin would refuse is never installed"
assert_contains "$OUT" "Bad_NS" "the refusal names the entry"
OUT=$(ginst "$INST" --uninstall)
finish
