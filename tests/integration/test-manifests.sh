#!/usr/bin/env bash
# The manifests under deploy/, checked offline:
#   - deploy/check-manifests.py (see its header for what it checks: fields
#     against the Kubernetes API's, references between the objects, values,
#     osn's own rules, OpenShift's SCC) passes on both variants as shipped
#     (Kubernetes; OpenShift: deploy/openshift/);
#   - and fails, naming the fault, on copies with one fault each, so that
#     each kind of check is shown to bite; and on both variants at once;
#   - the OpenShift variant is the Kubernetes one with only the differences
#     its header lists;
#   - every example NAD passes `osnctl validate` (osn's own parser);
#   - no issue numbers in the install docs, the runbook and deploy/;
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

OUT=$("$PY" "$CHECK" --version "$VERSION" 2>&1)
assert_eq "0" "$?" "both variants pass check-manifests.py: $(tail -2 <<<"$OUT" | tr '\n' ' ')"
n=$(sed -n 's/^check-manifests: kubernetes: \([0-9]*\) documents, 0 errors$/\1/p' <<<"$OUT")
((n >= 13)) && ok "it read every document of the Kubernetes variant ($n)" || fail "kubernetes: '$n' documents read"
n=$(sed -n 's/^check-manifests: openshift: \([0-9]*\) documents, 0 errors$/\1/p' <<<"$OUT")
((n >= 10)) && ok "it read every document of the OpenShift variant ($n)" || fail "openshift: '$n' documents read"
OUT=$("$PY" "$CHECK" --version "$VERSION" "$ROOT/deploy" 2>&1)
assert_eq "1" "$?" "both variants given as one set fail"
assert_contains "$OUT" "is defined twice" "because the objects are defined twice"

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
    out=$("$PY" "$d/check-manifests.py" --version "$VERSION" 2>&1)
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
# What osnctl needs in the container kubectl exec runs it in.
mutant netns osn-node.yaml "mountPath: /var/run/netns," "mountPath: /var/run/netns-x," 1 "needs the host's /var/run/netns mounted at /var/run/netns"
mutant propagation osn-node.yaml "mountPropagation: HostToContainer}" "mountPropagation: None}" 1 "needs mountPropagation: HostToContainer"
mutant ovn-run osn-node.yaml "mountPath: /var/run/ovn," "mountPath: /run/ovn," 1 "needs the host's /var/run/ovn"
mutant log-dir osn-node.yaml "hostPath: {path: /var/log/osn," "hostPath: {path: /var/log," 1 "needs the host's /var/log/osn"
mutant metrics osn-node.yaml "mountPath: /var/lib/osn/metrics," "mountPath: /metrics," 1 "needs the host's /var/lib/osn/metrics"
mutant host-network osn-node.yaml "hostNetwork: true" "hostNetwork: false" 1 "needs hostNetwork: true"
mutant pod-security osn-node.yaml "enforce: privileged" "enforce: baseline" 1 "needs the label pod-security.kubernetes.io/enforce: privileged"
# OpenShift.
mutant os-cni-dir openshift/osn-node.yaml "path: /var/lib/cni/bin," "path: /opt/cni/bin," 1 "needs the host's /var/lib/cni/bin mounted"
mutant os-cni-env openshift/osn-node.yaml "value: /host/var/lib/cni/bin" "value: /host/opt/cni/bin" 1 "(OSN_CNI_BIN_DIR)"
mutant os-scc-user openshift/osn-node.yaml "system:serviceaccount:osn-system:osn-node" "system:serviceaccount:osn-system:osn" 1 "no SecurityContextConstraints names"
mutant os-scc-hostpath openshift/osn-node.yaml "allowHostDirVolumePlugin: true" "allowHostDirVolumePlugin: false" 1 "allowHostDirVolumePlugin: true"
mutant os-scc-cap openshift/osn-node.yaml 'allowedCapabilities: ["DAC_OVERRIDE", "NET_ADMIN"]' 'allowedCapabilities: ["DAC_OVERRIDE"]' 1 "adds NET_ADMIN: not in allowedCapabilities"
mutant os-scc-selinux openshift/osn-node.yaml "seLinuxContext: {type: RunAsAny}" "seLinuxContext: {type: MustRunAs}" 1 "seLinuxContext must be RunAsAny"
mutant os-sa openshift/osn-node.yaml "serviceAccountName: osn-node" "serviceAccountName: osn-nod" 1 "is no ServiceAccount"
mutant os-scc-field openshift/osn-node.yaml "allowHostPorts: false" "allowHostPort: false" 1 "unknown field"

# The OpenShift variant is the Kubernetes one with the listed differences
# undone: a change to one that is not made to the other fails here.
OUT=$("$PY" - "$ROOT/deploy/osn-node.yaml" "$ROOT/deploy/openshift/osn-node.yaml" <<'PYEOF' 2>&1
import json, sys, yaml
k8s = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
ocp = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d]
ocp = [d for d in ocp if d["kind"] not in ("ServiceAccount", "SecurityContextConstraints")]
for d in ocp:
    if d["kind"] == "Namespace":
        d["metadata"]["labels"].pop("security.openshift.io/scc.podSecurityLabelSync")
    if d["kind"] == "DaemonSet":
        spec = d["spec"]["template"]["spec"]
        spec.pop("serviceAccountName")
        for c in spec["initContainers"] + spec["containers"]:
            c["securityContext"].pop("seLinuxOptions")
undone = json.dumps(ocp, sort_keys=True).replace("/var/lib/cni/bin", "/opt/cni/bin")
if undone != json.dumps(k8s, sort_keys=True):
    a, b = json.dumps(k8s, sort_keys=True, indent=1), json.dumps(json.loads(undone), sort_keys=True, indent=1)
    import difflib
    sys.exit("\n".join(difflib.unified_diff(a.splitlines(), b.splitlines(), "kubernetes", "openshift", lineterm="", n=1)))
PYEOF
)
assert_eq "0" "$?" "the OpenShift variant differs from the Kubernetes one only as its header says${OUT:+: $OUT}"

# Issue numbers mean nothing to a user: none in the install docs, the
# runbook or what deploy/ ships (the pattern is shown to match first).
ISSUE_RE='[Ii]ssues? #?[0-9]+'
assert_eq "1" "$(grep -cE "$ISSUE_RE" <<<"fixed in issue 18")" "the issue-number pattern matches one"
hits=$(grep -rnE "$ISSUE_RE" "$ROOT/docs/install.md" "$ROOT/docs/operations.md" "$ROOT/deploy" || true)
assert_eq "" "$hits" "no issue numbers in docs/install.md, docs/operations.md and deploy/"

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
