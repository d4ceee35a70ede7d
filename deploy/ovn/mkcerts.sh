#!/bin/sh
# mkcerts.sh: the certificates of osn's own OVN (docs/install.md, "Mode 2"),
# made with Debian's openssl, and the Secrets that carry them.
#
#   deploy/ovn/mkcerts.sh DIR "CENTRAL_IP..." [DAYS]
#
# Makes, in DIR (created, mode 0700):
#   ca/ca.key, ca/ca.crt       a CA of its own (EC P-256, DAYS days, default
#                              3650): keep ca.key offline, it signs the rest
#   ovn-central-tls/           the NB/SB members' pair: served on pssl:, used
#                              for Raft between them and by ovn-northd; its
#                              subjectAltName lists the central IPs
#   ovn-node-tls/              ovn-controller's client pair (every node)
#   osn-nb-tls/                osn's client pair (the plugin, osnctl)
#   secrets.yaml               the three as kubernetes.io/tls Secrets of the
#                              osn-system namespace (tls.key, tls.crt, ca.crt)
# Each pair directory holds tls.key, tls.crt and ca.crt, as the Secret
# mounts them.  OVSDB checks a peer's certificate against ca.crt, both ways
# (it does not compare host names).  Leaf certificates last DAYS days too:
# to renew, run again with the same ca/ (kept: a new CA is made only when
# DIR has none) and apply the new secrets.yaml, then restart the pods (the
# ovn-central and ovn-node pods, and osn-node so that osn-install copies the
# new pair into /etc/osn).
set -eu
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 DIR \"CENTRAL_IP...\" [DAYS]" >&2
    exit 2
fi
out=$1
ips=$2
days=${3:-3650}
command -v openssl >/dev/null || { echo "$0: needs openssl (apt-get install openssl)" >&2; exit 1; }
umask 077
mkdir -p "$out/ca"
key="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
if [ ! -s "$out/ca/ca.key" ]; then
    # shellcheck disable=SC2086
    openssl req -x509 -new $key -keyout "$out/ca/ca.key" -out "$out/ca/ca.crt" -days "$days" \
        -subj "/CN=osn OVN CA" -addext "basicConstraints=critical,CA:TRUE" 2>/dev/null
fi

# leaf NAME CN EXTENSIONS: a key pair signed by the CA, in DIR/NAME.
leaf() {
    d=$out/$1
    mkdir -p "$d"
    printf '%s\n' "$3" >"$d/ext.cnf"
    # shellcheck disable=SC2086
    openssl req -new $key -keyout "$d/tls.key" -out "$d/tls.csr" -subj "/CN=$2" 2>/dev/null
    openssl x509 -req -in "$d/tls.csr" -CA "$out/ca/ca.crt" -CAkey "$out/ca/ca.key" \
        -CAcreateserial -out "$d/tls.crt" -days "$days" -extfile "$d/ext.cnf" 2>/dev/null
    cp "$out/ca/ca.crt" "$d/ca.crt"
    rm -f "$d/tls.csr" "$d/ext.cnf"
}
san=""
for ip in $ips; do san="${san:+$san,}IP:$ip"; done
[ -n "$san" ] || { echo "$0: no central IP given" >&2; exit 2; }
leaf ovn-central-tls "ovn-central" "subjectAltName=$san
extendedKeyUsage=serverAuth,clientAuth"
leaf ovn-node-tls "ovn-node" "extendedKeyUsage=clientAuth"
leaf osn-nb-tls "osn" "extendedKeyUsage=clientAuth"

{
    for name in ovn-central-tls ovn-node-tls osn-nb-tls; do
        printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n' "$name"
        printf '  namespace: osn-system\ntype: kubernetes.io/tls\ndata:\n'
        for f in tls.crt tls.key ca.crt; do
            printf '  %s: %s\n' "$f" "$(base64 -w0 <"$out/$name/$f")"
        done
    done
} >"$out/secrets.yaml"
echo "$0: $out/secrets.yaml: Secrets ovn-central-tls, ovn-node-tls, osn-nb-tls (CA $out/ca/ca.crt, for $ips)"
