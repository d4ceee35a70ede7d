#!/usr/bin/env bash
# The manifests under deploy/ (issue 11), checked offline:
#   - deploy/check-manifests.py (see its header for what it checks: fields
#     against the Kubernetes API's, references between the objects, values,
#     osn's own rules) passes on deploy/ as shipped;
#   - and fails, naming the fault, on copies with one fault each, so that
#     each kind of check is shown to bite;
#   - every example NAD passes `osnctl validate` (osn's own parser);
#   - kubectl's client-side validation is used too when it works offline
#     (it does not: it needs the API server's OpenAPI; then it is skipped
#     and said so).
# Needs no root.
. "$(dirname "$0")/lib.sh"
PY=$(command -v python3) || skip "missing python3"
"$PY" -c 'import yaml' 2>/dev/null || skip "missing PyYAML (python3-yaml; scripts/deps.sh installs it)"
CHECK=$ROOT/deploy/check-manifests.py
VERSION=$(sed -n "s/^ *version : '\(.*\)',$/\1/p" "$ROOT/meson.build" | head -1)
T=$(mktemp -d /tmp/osn-manifests.XXXXXX)
trap 'rm -rf "$T"' EXIT

OUT=$("$PY" "$CHECK" --version "$VERSION" "$ROOT/deploy" 2>&1)
assert_eq "0" "$?" "deploy/ passes check-manifests.py: $(tail -1 <<<"$OUT")"
n=$(sed -n 's/^check-manifests: \([0-9]*\) documents.*/\1/p' <<<"$OUT")
((n >= 12)) && ok "it read every document ($n)" || fail "only $n documents read"

# mutant NAME FILE OLD NEW NTH EXPECT: a copy of deploy/ with the NTH
# occurrence of OLD in FILE replaced by NEW must fail, with EXPECT in the
# output.
mutant() {
    local name=$1 file=$2 old=$3 new=$4 nth=$5 expect=$6 d=$T/$1
    cp -r "$ROOT/deploy" "$d"
    if ! "$PY" - "$d/$file" "$old" "$new" "$nth" <<'PYEOF'; then
import sys
path, old, new, nth = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = open(path).read()
i = -1
for _ in range(nth):
    i = s.find(old, i + 1)
    if i < 0:
        sys.exit(1)
open(path, "w").write(s[:i] + new + s[i + len(old):])
PYEOF
        fail "mutant $name: '$old' (#$nth) not found in $file"
        return
    fi
    local out rc
    out=$("$PY" "$CHECK" --version "$VERSION" "$d" 2>&1)
    rc=$?
    if [[ $rc -eq 1 && "$out" == *"$expect"* ]]; then
        ok "mutant $name is refused: $(grep -F -m1 "$expect" <<<"$out" | cut -c1-160)"
    else
        fail "mutant $name: rc $rc, '$expect' not in: $out"
    fi
}
mutant typo-field osn-node.yaml "mountPath: /host/opt/cni/bin" "mountpath: /host/opt/cni/bin" 1 "unknown field"
mutant no-toleration osn-node.yaml "- operator: Exists" "- operator: Equal" 1 "tolerate every taint"
mutant missing-key osn-node.yaml "key: nb_remote}" "key: nb_remotes}" 1 "has no key 'nb_remotes'"
mutant selector osn-node.yaml "app.kubernetes.io/name: osn-node" "app.kubernetes.io/name: osn" 3 "does not match the pod template"
mutant unquoted osn-node.yaml 'log_max_bytes: "10485760"' "log_max_bytes: 10485760" 1 "must be a string"
mutant no-volume osn-node.yaml "name: cni-bin" "name: cni-bn" 2 "names no volume"
mutant image osn-node.yaml "osn-node:$VERSION" "osn-node:0.0.9" 1 "not one this repository builds"
mutant service ovn/ovn-central.yaml "serviceName: ovn-central" "serviceName: ovn-centrl" 1 "is no Service"
mutant hostpath ovn/ovn-node.yaml "type: Directory}" "type: Dir}" 1 "hostPath.type"
mutant nad examples/nad-layer2.yaml '"topology": "layer2",' '"topology": "layer2",,' 1 "spec.config is not JSON"
mutant token osn-node.yaml "automountServiceAccountToken: false" "automountServiceAccountToken: true" 1 "automountServiceAccountToken"
mutant cni-dir osn-node.yaml "path: /opt/cni/bin," "path: /usr/libexec/cni," 1 "needs the host's /opt/cni/bin mounted"
mutant nb-env osn-node.yaml "name: OSN_NB_REMOTE" "name: OSN_NB_REMOTES" 1 "needs OSN_NB_REMOTE"
mutant namespace ovn/ovn-config.yaml "namespace: osn-system" "namespace: osn" 1 "is not defined by a Namespace"

OSNCTL=$OSN_BUILD/src/osnctl/osnctl
if [[ -x "$OSNCTL" ]]; then
    for f in "$ROOT"/deploy/examples/nad-*.yaml; do
        OUT=$("$OSNCTL" validate "$f" 2>&1)
        rc=$?
        if [[ $rc -eq 0 && "$OUT" == *" 0 invalid"* ]]; then
            ok "osnctl validate $(basename "$f"): $(tail -1 <<<"$OUT")"
        else
            fail "osnctl validate $(basename "$f"): $OUT"
        fi
    done
else
    echo "# osnctl not built in $OSN_BUILD: example NADs not validated by it"
fi

if command -v kubectl >/dev/null; then
    OUT=$(KUBECONFIG=/dev/null timeout 20 kubectl apply --dry-run=client --validate=strict \
        -f "$ROOT/deploy/osn-node.yaml" 2>&1)
    if [[ $? -eq 0 ]]; then
        ok "kubectl client-side dry run accepts osn-node.yaml"
    else
        echo "# kubectl cannot validate offline: $(head -c 200 <<<"$OUT")"
    fi
fi
finish
