#!/usr/bin/env python3
"""check-manifests.py: offline validation of osn's Kubernetes manifests.

    deploy/check-manifests.py [--version V]
    deploy/check-manifests.py [--version V] [--variant kubernetes|openshift] FILE_OR_DIR...

Without files it checks both variants osn ships, each as one set:
  kubernetes  osn-node.yaml, osn-nb-tls.example.yaml, ovn/, examples/
  openshift   openshift/, osn-nb-tls.example.yaml, examples/
(paths relative to this script's directory).  With files, the one variant
given (default kubernetes).  An object defined twice in one set is an
error: check one variant at a time.

kubectl cannot validate without an API server (its client-side dry run
still downloads the OpenAPI schema from one), and no offline schema
validator is packaged in Debian 12.  So this checks, for every document of
every *.yaml given (directories are searched), what the API server would
refuse and what would break osn at run time:

  structure  every field of every object is one the Kubernetes API defines
             for that place (a hand-kept subset of the v1/apps/v1 OpenAPI
             for the kinds osn uses; an unknown or misspelt field is an
             error, as with `kubectl --validate=strict`), with the right
             type; required fields present;
  names      metadata.name a DNS-1123 subdomain (label for Services,
             containers, ports), namespaced kinds in a declared namespace;
  wiring     selector.matchLabels matched by the pod template's labels;
             container names unique in a pod; every volumeMount names a
             volume; every configMapKeyRef/secretKeyRef, configMap and
             secret volume names an object (and key) defined in the files
             given, unless optional; a StatefulSet's serviceName is a
             headless Service; a Service's selector matches a pod template;
             YAML anchors resolved as the API server would see them;
  values     hostPath types, port numbers, file modes, resource quantities,
             ConfigMap values are strings, kubernetes.io/tls Secrets carry
             tls.crt and tls.key, a NAD's spec.config is JSON naming an osn
             type; images are the ones this repository builds, at --version;
  osn rules  every DaemonSet tolerates every taint (operator Exists with no
             key), and nothing asks for the API (no ServiceAccount token
             unless a manifest says why); every container running the osn
             installer mounts the host's CNI bin dir (the variant's:
             /opt/cni/bin, OpenShift's /var/lib/cni/bin) where its
             OSN_CNI_BIN_DIR says, /etc/osn and /var/run/openvswitch where
             osn-install expects them, and gets OSN_NB_REMOTE; the container
             that `kubectl exec ... osnctl` runs in (the one with --stay) is
             on the host network and mounts the host's /var/run/netns
             (HostToContainer), /var/run/ovn, /var/log/osn and
             /var/lib/osn/metrics at their host paths; a namespace holding a
             pod with host paths or the host network enforces the Pod
             Security "privileged" level (labels);
  openshift  every pod runs as a ServiceAccount defined here, and a
             SecurityContextConstraints names that account and allows what
             the pod asks for: host paths, the host network, its
             capabilities, its volume types, its user and SELinux options.
Prints one line per error (FILE:DOC: path: message) and exits 1 if any.
"""
import base64
import json
import os
import re
import sys

import yaml

# ------------------------------------------------------------- the schema
# A spec is: "str" | "int" | "bool" | "intstr" | "strmap" | "any" |
# ["list", spec] | {field: spec} where a field ending in "!" is required.

LABEL_SELECTOR = {"matchLabels": "strmap", "matchExpressions": ["list", {
    "key!": "str", "operator!": "str", "values": ["list", "str"]}]}
OBJECT_META = {"name!": "str", "namespace": "str", "labels": "strmap",
               "annotations": "strmap"}
KEY_REF = {"name!": "str", "key!": "str", "optional": "bool"}
ENV_VAR = {"name!": "str", "value": "str", "valueFrom": {
    "configMapKeyRef": KEY_REF, "secretKeyRef": KEY_REF,
    "fieldRef": {"fieldPath!": "str", "apiVersion": "str"},
    "resourceFieldRef": {"resource!": "str", "containerName": "str", "divisor": "intstr"}}}
VOLUME_MOUNT = {"name!": "str", "mountPath!": "str", "readOnly": "bool", "subPath": "str",
                "mountPropagation": "str"}
MOUNT_PROPAGATIONS = {"None", "HostToContainer", "Bidirectional"}
EXEC = {"command!": ["list", "str"]}
PROBE = {"exec": EXEC, "httpGet": {"path": "str", "port!": "intstr", "host": "str",
                                   "scheme": "str"},
         "tcpSocket": {"port!": "intstr", "host": "str"},
         "initialDelaySeconds": "int", "periodSeconds": "int", "timeoutSeconds": "int",
         "successThreshold": "int", "failureThreshold": "int"}
SECURITY_CONTEXT = {"privileged": "bool", "runAsUser": "int", "runAsGroup": "int",
                    "runAsNonRoot": "bool", "readOnlyRootFilesystem": "bool",
                    "allowPrivilegeEscalation": "bool",
                    "capabilities": {"add": ["list", "str"], "drop": ["list", "str"]},
                    "seLinuxOptions": "any", "seccompProfile": {"type!": "str",
                                                                "localhostProfile": "str"}}
RESOURCES = {"requests": "strmap", "limits": "strmap"}
CONTAINER = {"name!": "str", "image!": "str", "imagePullPolicy": "str",
             "command": ["list", "str"], "args": ["list", "str"], "workingDir": "str",
             "env": ["list", ENV_VAR], "ports": ["list", {
                 "name": "str", "containerPort!": "int", "protocol": "str", "hostPort": "int",
                 "hostIP": "str"}],
             "volumeMounts": ["list", VOLUME_MOUNT], "resources": RESOURCES,
             "securityContext": SECURITY_CONTEXT, "readinessProbe": PROBE,
             "livenessProbe": PROBE, "startupProbe": PROBE, "stdin": "bool", "tty": "bool",
             "terminationMessagePolicy": "str"}
KEY_TO_PATH = ["list", {"key!": "str", "path!": "str", "mode": "int"}]
VOLUME = {"name!": "str",
          "hostPath": {"path!": "str", "type": "str"},
          "configMap": {"name!": "str", "optional": "bool", "defaultMode": "int",
                        "items": KEY_TO_PATH},
          "secret": {"secretName!": "str", "optional": "bool", "defaultMode": "int",
                     "items": KEY_TO_PATH},
          "emptyDir": {"medium": "str", "sizeLimit": "intstr"}}
TOLERATION = {"key": "str", "operator": "str", "value": "str", "effect": "str",
              "tolerationSeconds": "int"}
POD_SPEC = {"containers!": ["list", CONTAINER], "initContainers": ["list", CONTAINER],
            "volumes": ["list", VOLUME], "tolerations": ["list", TOLERATION],
            "nodeSelector": "strmap", "affinity": {"nodeAffinity": "any", "podAffinity": "any",
                                                   "podAntiAffinity": "any"},
            "hostNetwork": "bool", "hostPID": "bool", "hostIPC": "bool", "dnsPolicy": "str",
            "priorityClassName": "str", "serviceAccountName": "str",
            "automountServiceAccountToken": "bool", "enableServiceLinks": "bool",
            "terminationGracePeriodSeconds": "int", "restartPolicy": "str",
            "securityContext": "any"}
POD_TEMPLATE = {"metadata!": {"labels!": "strmap", "annotations": "strmap"}, "spec!": POD_SPEC}
KINDS = {
    ("v1", "Namespace"): {"metadata!": {"name!": "str", "labels": "strmap",
                                        "annotations": "strmap"}},
    ("v1", "ConfigMap"): {"metadata!": OBJECT_META, "data": "strmap"},
    ("v1", "Secret"): {"metadata!": OBJECT_META, "type": "str", "data": "strmap",
                       "stringData": "strmap"},
    ("v1", "Service"): {"metadata!": OBJECT_META, "spec!": {
        "clusterIP": "str", "type": "str", "selector": "strmap",
        "publishNotReadyAddresses": "bool", "ports": ["list", {
            "name": "str", "port!": "int", "targetPort": "intstr", "protocol": "str"}]}},
    ("apps/v1", "DaemonSet"): {"metadata!": OBJECT_META, "spec!": {
        "selector!": LABEL_SELECTOR, "template!": POD_TEMPLATE, "minReadySeconds": "int",
        "updateStrategy": {"type": "str", "rollingUpdate": {"maxUnavailable": "intstr",
                                                             "maxSurge": "intstr"}}}},
    ("apps/v1", "StatefulSet"): {"metadata!": OBJECT_META, "spec!": {
        "selector!": LABEL_SELECTOR, "template!": POD_TEMPLATE, "serviceName!": "str",
        "replicas": "int", "podManagementPolicy": "str",
        "updateStrategy": {"type": "str", "rollingUpdate": {"partition": "int",
                                                             "maxUnavailable": "intstr"}}}},
    ("k8s.cni.cncf.io/v1", "NetworkAttachmentDefinition"): {
        "metadata!": OBJECT_META, "spec!": {"config!": "str"}},
    ("v1", "ServiceAccount"): {"metadata!": OBJECT_META,
                               "automountServiceAccountToken": "bool"},
    # OpenShift's, as `oc explain securitycontextconstraints` lists it: its
    # fields are at the top level (no spec).
    ("security.openshift.io/v1", "SecurityContextConstraints"): {
        "metadata!": {"name!": "str", "labels": "strmap", "annotations": "strmap"},
        "priority": "int", "allowPrivilegedContainer!": "bool",
        "allowPrivilegeEscalation": "bool", "allowHostDirVolumePlugin!": "bool",
        "allowHostNetwork!": "bool", "allowHostPorts!": "bool", "allowHostPID!": "bool",
        "allowHostIPC!": "bool", "readOnlyRootFilesystem!": "bool",
        "allowedCapabilities": ["list", "str"], "defaultAddCapabilities": ["list", "str"],
        "requiredDropCapabilities": ["list", "str"], "volumes": ["list", "str"],
        "runAsUser!": {"type!": "str", "uid": "int", "uidRangeMin": "int", "uidRangeMax": "int"},
        "seLinuxContext!": {"type!": "str", "seLinuxOptions": "any"},
        "fsGroup": {"type!": "str", "ranges": "any"},
        "supplementalGroups": {"type!": "str", "ranges": "any"},
        "seccompProfiles": ["list", "str"],
        "users": ["list", "str"], "groups": ["list", "str"]},
}
CLUSTER_SCOPED = {"Namespace", "SecurityContextConstraints"}
VARIANTS = {
    "kubernetes": {"cni_bin_dir": "/opt/cni/bin",
                   "files": ["osn-node.yaml", "osn-nb-tls.example.yaml", "ovn", "examples"]},
    "openshift": {"cni_bin_dir": "/var/lib/cni/bin",
                  "files": ["openshift", "osn-nb-tls.example.yaml", "examples"]},
}
# What osnctl needs of the node in the container `kubectl exec` runs it in:
# host path -> mount propagation it needs (None: any).
OSNCTL_HOST_PATHS = {"/var/run/netns": "HostToContainer", "/var/run/ovn": None,
                     "/var/log/osn": None, "/var/lib/osn/metrics": None, "/etc/osn": None}
POD_SECURITY_LEVEL = "pod-security.kubernetes.io/enforce"
HOSTPATH_TYPES = {"", "DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket",
                  "CharDevice", "BlockDevice"}
QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
OSN_TYPES = {"ovn-kubernetes", "ovn-k8s-cni-overlay"}

errors = []


def err(where, msg):
    errors.append(f"{where}: {msg}")


def check_type(where, value, spec):
    """Structure: 'value' against 'spec' (see the schema above)."""
    if spec == "any":
        return
    if spec == "str":
        if not isinstance(value, str):
            err(where, f"must be a string, not {type(value).__name__} {value!r}")
    elif spec == "int":
        if not isinstance(value, int) or isinstance(value, bool):
            err(where, f"must be an integer, not {value!r}")
    elif spec == "bool":
        if not isinstance(value, bool):
            err(where, f"must be true or false, not {value!r}")
    elif spec == "intstr":
        if not isinstance(value, (int, str)) or isinstance(value, bool):
            err(where, f"must be an integer or a string, not {value!r}")
    elif spec == "strmap":
        if not isinstance(value, dict):
            err(where, "must be a map of strings")
            return
        for k, v in value.items():
            if not isinstance(v, str):
                err(f"{where}.{k}", f"must be a string (quote it), not {v!r}")
    elif isinstance(spec, list):
        if not isinstance(value, list):
            err(where, "must be a list")
            return
        for i, item in enumerate(value):
            check_type(f"{where}[{i}]", item, spec[1])
    elif isinstance(spec, dict):
        if not isinstance(value, dict):
            err(where, "must be an object")
            return
        fields = {k.rstrip("!"): v for k, v in spec.items()}
        for k in spec:
            if k.endswith("!") and k[:-1] not in value:
                err(where, f"required field {k[:-1]!r} is missing")
        for k, v in value.items():
            if k not in fields:
                err(f"{where}.{k}", f"unknown field (known here: {', '.join(sorted(fields))})")
            else:
                check_type(f"{where}.{k}", v, fields[k])


def load(paths):
    docs = []
    for p in paths:
        files = [p]
        if os.path.isdir(p):
            files = sorted(os.path.join(d, f) for d, _, fs in os.walk(p) for f in fs
                           if f.endswith(".yaml"))
        if not os.path.exists(p):
            err(p, "no such file or directory")
            continue
        for f in files:
            with open(f) as fh:
                try:
                    for i, d in enumerate(yaml.safe_load_all(fh)):
                        if d is not None:
                            docs.append((f"{f}:{i + 1}", d))
                except yaml.YAMLError as e:
                    err(f, f"invalid YAML: {e}")
    return docs


def pods(docs):
    """(where, object, pod template) of every workload."""
    for where, d in docs:
        if d.get("kind") in ("DaemonSet", "StatefulSet"):
            t = d.get("spec", {}).get("template", {})
            if isinstance(t, dict):
                yield where, d, t


def check_doc(where, d, version, defined):
    api, kind = d.get("apiVersion"), d.get("kind")
    spec = KINDS.get((api, kind))
    if not spec:
        err(where, f"apiVersion/kind {api}/{kind} is not one osn's manifests use "
                   f"(known: {', '.join(f'{a}/{k}' for a, k in KINDS)})")
        return
    body = {k: v for k, v in d.items() if k not in ("apiVersion", "kind")}
    check_type(f"{where} {kind}", body, spec)
    meta = d.get("metadata") or {}
    name = meta.get("name", "")
    label_only = kind == "Service"
    if not (DNS_LABEL if label_only else DNS_SUBDOMAIN).match(str(name)) or len(str(name)) > 63:
        err(where, f"metadata.name {name!r} is not a DNS-1123 {'label' if label_only else 'subdomain'}")
    ns = meta.get("namespace")
    if kind in CLUSTER_SCOPED:
        if ns:
            err(where, f"{kind} is cluster-scoped: no metadata.namespace")
    elif not ns:
        err(where, f"{kind} {name} has no metadata.namespace")
    elif ns != "default" and ns not in defined["Namespace"]:
        err(where, f"namespace {ns!r} is not defined by a Namespace in these files")
    where = f"{where} {kind} {ns + '/' if ns else ''}{name}"
    if kind == "Namespace" and not (meta.get("labels") or {}).get(POD_SECURITY_LEVEL):
        err(where, f"no {POD_SECURITY_LEVEL} label: the cluster's default level decides "
                   f"whether osn's pods (host paths) are admitted")

    if kind == "Secret":
        if d.get("type") == "kubernetes.io/tls":
            keys = set((d.get("data") or {}).keys()) | set((d.get("stringData") or {}).keys())
            for k in ("tls.crt", "tls.key"):
                if k not in keys:
                    err(where, f"a kubernetes.io/tls Secret needs {k}")
        for k, v in (d.get("data") or {}).items():
            try:
                base64.b64decode(str(v), validate=True)
            except ValueError:
                err(where, f"data.{k} is not base64 (use stringData for plain text)")
    if kind == "NetworkAttachmentDefinition":
        try:
            conf = json.loads(d["spec"]["config"])
            if conf.get("type") not in OSN_TYPES and not any(
                    p.get("type") in OSN_TYPES for p in conf.get("plugins", [])):
                err(where, f"spec.config type {conf.get('type')!r} is not an osn type")
        except (KeyError, TypeError, ValueError) as e:
            err(where, f"spec.config is not JSON: {e}")
    if kind == "Service":
        for i, p in enumerate(d.get("spec", {}).get("ports") or []):
            if not 1 <= int(p.get("port", 0)) <= 65535:
                err(where, f"spec.ports[{i}].port out of range")
            if "name" in p and not DNS_LABEL.match(str(p["name"])):
                err(where, f"spec.ports[{i}].name {p['name']!r} is not a DNS-1123 label")


def check_pod(where, d, t, version, defined, variant):
    kind, name = d["kind"], d.get("metadata", {}).get("name")
    ns = d.get("metadata", {}).get("namespace", "default")
    where = f"{where} {kind} {ns}/{name}"
    spec = t.get("spec") or {}
    sel = (d.get("spec", {}).get("selector") or {}).get("matchLabels") or {}
    labels = (t.get("metadata") or {}).get("labels") or {}
    if not sel:
        err(where, "spec.selector.matchLabels is empty")
    for k, v in sel.items():
        if labels.get(k) != v:
            err(where, f"selector {k}={v} does not match the pod template's labels {labels}")
    volumes = {}
    for v in spec.get("volumes") or []:
        if v.get("name") in volumes:
            err(where, f"volume {v.get('name')!r} declared twice")
        volumes[v.get("name")] = v
        sources = [k for k in ("hostPath", "configMap", "secret", "emptyDir") if k in v]
        if len(sources) != 1:
            err(where, f"volume {v.get('name')!r} needs exactly one source, has {sources}")
        hp = v.get("hostPath")
        if hp:
            if hp.get("type", "") not in HOSTPATH_TYPES:
                err(where, f"volume {v['name']}: hostPath.type {hp.get('type')!r} is not one of "
                           f"{sorted(HOSTPATH_TYPES)}")
            if not str(hp.get("path", "")).startswith("/"):
                err(where, f"volume {v['name']}: hostPath.path must be absolute")
        for src, ref in (("configMap", "name"), ("secret", "secretName")):
            s = v.get(src)
            if s is None:
                continue
            mode = s.get("defaultMode", 0o644)
            if not isinstance(mode, int) or not 0 <= mode <= 0o777:
                err(where, f"volume {v['name']}: defaultMode {mode!r} not in 0..0777")
            kindname = "ConfigMap" if src == "configMap" else "Secret"
            if (ns, s.get(ref)) not in defined[kindname] and not s.get("optional"):
                err(where, f"volume {v['name']}: {kindname} {s.get(ref)!r} is not defined "
                           f"in {ns} (and the volume is not optional)")
    containers = (spec.get("initContainers") or []) + (spec.get("containers") or [])
    seen = set()
    for c in containers:
        cn = c.get("name")
        cw = f"{where} container {cn}"
        if cn in seen:
            err(cw, "container name used twice in the pod")
        seen.add(cn)
        if not DNS_LABEL.match(str(cn)):
            err(cw, "container name is not a DNS-1123 label")
        image = str(c.get("image", ""))
        if not re.match(rf"^localhost/osn-(node|ovn):{re.escape(version)}$", image):
            err(cw, f"image {image!r} is not one this repository builds "
                    f"(localhost/osn-node:{version} from `make image`, "
                    f"localhost/osn-ovn:{version} from scripts/mkimage-ovn.sh)")
        paths = set()
        for m in c.get("volumeMounts") or []:
            if m.get("name") not in volumes:
                err(cw, f"volumeMount {m.get('name')!r} names no volume of the pod")
            mp = str(m.get("mountPath", ""))
            if not mp.startswith("/"):
                err(cw, f"mountPath {mp!r} must be absolute")
            if mp in paths:
                err(cw, f"mountPath {mp} used twice")
            paths.add(mp)
        names = set()
        for e in c.get("env") or []:
            if e.get("name") in names:
                err(cw, f"env {e.get('name')} set twice")
            names.add(e.get("name"))
            vf = e.get("valueFrom") or {}
            if ("value" in e) == bool(vf):
                err(cw, f"env {e.get('name')}: exactly one of value and valueFrom")
            for refkind, key in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                r = vf.get(refkind)
                if not r or r.get("optional"):
                    continue
                data = defined[key].get((ns, r.get("name")))
                if data is None:
                    err(cw, f"env {e['name']}: {key} {ns}/{r.get('name')} is not defined")
                elif r.get("key") not in data:
                    err(cw, f"env {e['name']}: {key} {ns}/{r.get('name')} has no key "
                            f"{r.get('key')!r} (it has {sorted(data)})")
        for p in c.get("ports") or []:
            if not 1 <= int(p.get("containerPort", 0)) <= 65535:
                err(cw, f"containerPort {p.get('containerPort')} out of range")
            if "name" in p and (len(p["name"]) > 15 or not DNS_LABEL.match(p["name"])):
                err(cw, f"port name {p['name']!r}: at most 15 characters, a DNS-1123 label")
        for group in ("requests", "limits"):
            for k, q in ((c.get("resources") or {}).get(group) or {}).items():
                if not QUANTITY.match(str(q)):
                    err(cw, f"resources.{group}.{k}: {q!r} is not a quantity")
    # The installer's contract (deploy/installer/osn-install.c): these host
    # directories at these paths, and the NB remote in its environment.
    cni_host = VARIANTS[variant]["cni_bin_dir"]
    for c in containers:
        if not str(c.get("image", "")).startswith("localhost/osn-node:"):
            continue
        cw = f"{where} container {c.get('name')}"
        mounts = {m.get("mountPath"): (m, volumes.get(m.get("name"), {}))
                  for m in c.get("volumeMounts") or []}
        env = {e.get("name"): e for e in c.get("env") or []}
        cni_inside = (env.get("OSN_CNI_BIN_DIR") or {}).get("value", "/host/opt/cni/bin")
        for host, inside, why in ((cni_host, cni_inside, " (OSN_CNI_BIN_DIR)"),
                                  ("/etc/osn", "/host/etc/osn", ""),
                                  ("/var/run/openvswitch", "/var/run/openvswitch", "")):
            hp = (mounts.get(inside, (None, {}))[1]).get("hostPath") or {}
            if hp.get("path") != host:
                err(cw, f"osn-install needs the host's {host} mounted at {inside}{why}")
        if "OSN_NB_REMOTE" not in env:
            err(cw, "osn-install needs OSN_NB_REMOTE in its environment")
        if "--stay" not in (c.get("args") or []):
            continue
        # The container `kubectl exec ... osnctl` runs in.
        if not spec.get("hostNetwork"):
            err(cw, "osnctl runs here (kubectl exec): the pod needs hostNetwork: true "
                    "to see the host side of pods' veths")
        for host, propagation in OSNCTL_HOST_PATHS.items():
            m, v = mounts.get(host, (None, {}))
            if ((v or {}).get("hostPath") or {}).get("path") != host:
                err(cw, f"osnctl runs here (kubectl exec): it needs the host's {host} "
                        f"mounted at {host}")
            elif propagation and m.get("mountPropagation") != propagation:
                err(cw, f"the mount of {host} needs mountPropagation: {propagation} "
                        f"(namespaces made after the container started)")
    for c in containers:
        for m in c.get("volumeMounts") or []:
            mp = m.get("mountPropagation")
            if mp is not None and mp not in MOUNT_PROPAGATIONS:
                err(f"{where} container {c.get('name')}",
                    f"mountPropagation {mp!r} is not one of {sorted(MOUNT_PROPAGATIONS)}")
            elif mp == "Bidirectional" and not (c.get("securityContext") or {}).get("privileged"):
                err(f"{where} container {c.get('name')}",
                    "mountPropagation Bidirectional needs a privileged container")
    # Pod Security admission refuses host paths and the host network below
    # the "privileged" level.
    if spec.get("hostNetwork") or any("hostPath" in v for v in volumes.values()):
        level = defined["NamespaceLabels"].get(ns, {}).get(POD_SECURITY_LEVEL)
        if level != "privileged":
            err(where, f"uses host paths or the host network: namespace {ns} needs the label "
                       f"{POD_SECURITY_LEVEL}: privileged (it has {level!r})")
    if variant == "openshift":
        check_scc(where, ns, spec, containers, volumes, defined)
    if kind == "DaemonSet":
        if not any(t.get("operator") == "Exists" and not t.get("key")
                   for t in spec.get("tolerations") or []):
            err(where, "a DaemonSet of osn must tolerate every taint "
                       "(tolerations: [{operator: Exists}])")
    if spec.get("automountServiceAccountToken") is not False:
        err(where, "osn's pods use no Kubernetes API: set automountServiceAccountToken: false")
    if kind == "StatefulSet":
        svc = defined["Service"].get((ns, d["spec"].get("serviceName")))
        if svc is None:
            err(where, f"serviceName {d['spec'].get('serviceName')!r} is no Service in {ns}")
        elif svc.get("clusterIP") != "None":
            err(where, f"serviceName {d['spec']['serviceName']!r} must be headless (clusterIP: None)")


def check_scc(where, ns, spec, containers, volumes, defined):
    """OpenShift admits a pod only under an SCC its ServiceAccount may use
    that allows everything the pod asks for."""
    sa = spec.get("serviceAccountName", "default")
    if sa != "default" and (ns, sa) not in defined["ServiceAccount"]:
        err(where, f"serviceAccountName {sa!r} is no ServiceAccount in {ns}")
    user = f"system:serviceaccount:{ns}:{sa}"
    sccs = [(n, s) for n, s in defined["SecurityContextConstraints"].items()
            if user in (s.get("users") or [])]
    if not sccs:
        err(where, f"no SecurityContextConstraints names {user} in users: "
                   f"OpenShift would admit the pod under restricted-v2, which forbids host paths")
        return
    name, scc = sccs[0]
    w = f"{where} (SCC {name})"
    kinds = {k for v in volumes.values() for k in ("hostPath", "configMap", "secret", "emptyDir")
             if k in v}
    allowed_volumes = set(scc.get("volumes") or [])
    if "*" not in allowed_volumes:
        for k in sorted(kinds - allowed_volumes):
            err(w, f"the pod has {k} volumes; the SCC's volumes do not list {k}")
    if "hostPath" in kinds and not scc.get("allowHostDirVolumePlugin"):
        err(w, "the pod mounts host paths: the SCC needs allowHostDirVolumePlugin: true")
    if spec.get("hostNetwork") and not scc.get("allowHostNetwork"):
        err(w, "the pod is on the host network: the SCC needs allowHostNetwork: true")
    caps = set(scc.get("allowedCapabilities") or [])
    for c in containers:
        sc = c.get("securityContext") or {}
        for cap in (sc.get("capabilities") or {}).get("add") or []:
            if cap not in caps and "*" not in caps:
                err(w, f"container {c.get('name')} adds {cap}: not in allowedCapabilities")
        if sc.get("privileged") and not scc.get("allowPrivilegedContainer"):
            err(w, f"container {c.get('name')} is privileged: allowPrivilegedContainer is false")
        if "runAsUser" in sc and (scc.get("runAsUser") or {}).get("type") != "RunAsAny":
            err(w, f"container {c.get('name')} sets runAsUser: the SCC's runAsUser must be "
                   f"RunAsAny")
        if "seLinuxOptions" in sc and (scc.get("seLinuxContext") or {}).get("type") != "RunAsAny":
            err(w, f"container {c.get('name')} sets seLinuxOptions: the SCC's seLinuxContext "
                   f"must be RunAsAny")


def check_set(paths, version, variant):
    """One variant's files, as one set of objects."""
    docs = load(paths)
    defined = {"Namespace": set(), "NamespaceLabels": {}, "ConfigMap": {}, "Secret": {},
               "Service": {}, "ServiceAccount": set(), "SecurityContextConstraints": {}}
    seen = {}
    for where, d in docs:
        if not isinstance(d, dict):
            continue
        kind, meta = d.get("kind"), d.get("metadata") or {}
        key = (meta.get("namespace", "default"), meta.get("name"))
        if (kind, key) in seen:
            err(where, f"{kind} {key[0]}/{key[1]} is defined twice (also at {seen[kind, key]}): "
                       f"check one variant at a time")
        seen[kind, key] = where
        if kind == "Namespace":
            defined["Namespace"].add(meta.get("name"))
            defined["NamespaceLabels"][meta.get("name")] = meta.get("labels") or {}
        elif kind == "ConfigMap":
            defined["ConfigMap"][key] = set((d.get("data") or {}).keys())
        elif kind == "Secret":
            defined["Secret"][key] = (set((d.get("data") or {}).keys()) |
                                      set((d.get("stringData") or {}).keys()))
        elif kind == "Service":
            defined["Service"][key] = d.get("spec") or {}
        elif kind == "ServiceAccount":
            defined["ServiceAccount"].add(key)
        elif kind == "SecurityContextConstraints":
            defined["SecurityContextConstraints"][meta.get("name")] = d
    for where, d in docs:
        if not isinstance(d, dict):
            err(where, "a document must be an object")
            continue
        check_doc(where, d, version, defined)
    templates = list(pods(docs))
    for where, d, t in templates:
        check_pod(where, d, t, version, defined, variant)
    for (ns, name), spec in defined["Service"].items():
        sel = spec.get("selector") or {}
        if sel and not any(d.get("metadata", {}).get("namespace") == ns and
                           all(((t.get("metadata") or {}).get("labels") or {}).get(k) == v
                               for k, v in sel.items()) for _, d, t in templates):
            err(f"Service {ns}/{name}", f"selector {sel} matches no pod template in these files")
    return len(docs)


def main(argv):
    version, variant, paths = "0.1.0", None, []
    args = iter(argv[1:])
    for a in args:
        if a in ("--version", "--variant"):
            v = next(args, None)
            if v is None:
                print(f"{a} needs a value", file=sys.stderr)
                return 2
            if a == "--version":
                version = v
            elif v in VARIANTS:
                variant = v
            else:
                print(f"--variant {v}: one of {', '.join(VARIANTS)}", file=sys.stderr)
                return 2
        elif a.startswith("-"):
            print("usage:\n" + "\n".join(__doc__.strip().splitlines()[2:4]), file=sys.stderr)
            return 2
        else:
            paths.append(a)
    here = os.path.dirname(os.path.abspath(__file__))
    if paths:
        sets = [(variant or "kubernetes", paths)]
    else:
        sets = [(v, [os.path.join(here, f) for f in VARIANTS[v]["files"]])
                for v in ([variant] if variant else VARIANTS)]
    failed = False
    for v, files in sets:
        errors.clear()
        n = check_set(files, version, v)
        for e in errors:
            print(e)
        print(f"check-manifests: {v}: {n} documents, {len(errors)} errors")
        failed = failed or bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
