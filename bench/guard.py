#!/usr/bin/env python3
"""bench/guard.py: the server-side cost of osn's address claims (issue 8).

osn guards every claim of an ADD (one per IP, one for the MAC) with an OVSDB
"wait" whose condition is on external_ids, which ovsdb-server evaluates by
scanning the Logical_Switch_Port table.  This measures, on an ovsdb-server of
its own (OVN's NB schema, standalone, unix socket in a temp dir), the latency
of the ADD's transaction with and without those guards as the table grows to
BENCH_GUARD_PORTS ports (default 10,000), interleaved sample by sample, and
the near-full path's read of one network's claims.  Prints a table and
writes bench/out/guard.json.  Needs ovsdb-server, ovsdb-tool and the NB
schema (scripts/deps.sh); python3 stdlib only.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ovsdb  # noqa: E402

NB_SCHEMA = os.environ.get("NB_SCHEMA", "/usr/share/ovn/ovn-nb.ovsschema")
PORTS = int(os.environ.get("BENCH_GUARD_PORTS", "10000"))
SAMPLES = int(os.environ.get("BENCH_GUARD_SAMPLES", "200"))
OUT = os.environ.get("BENCH_OUT", os.path.join(os.path.dirname(__file__), "out"))
DB = "OVN_Northbound"


def port_row(name, net, ip, mac):
    return {"name": name, "addresses": f"{mac} {ip}", "port_security": f"{mac} {ip}",
            "external_ids": ovsdb.ovs_map({"osn/network": net, f"osn/ip/{ip}": net,
                                           f"osn/mac/{mac}": net, "osn/container-id": name})}


def addr(i):
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}", \
        "0a:58:0a:%02x:%02x:%02x" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)


def attach_ops(sw, name, net, ip, mac, guarded):
    ops = []
    if guarded:
        for key in (f"osn/ip/{ip}", f"osn/mac/{mac}"):
            ops.append({"op": "wait", "table": "Logical_Switch_Port",
                        "where": [["external_ids", "includes", ovsdb.ovs_map({key: net})]],
                        "columns": ["name"], "until": "==", "rows": [], "timeout": 0})
    ops.append({"op": "insert", "table": "Logical_Switch_Port",
                "row": port_row(name, net, ip, mac), "uuid-name": "lsp"})
    ops.append({"op": "mutate", "table": "Logical_Switch", "where": [["name", "==", sw]],
                "mutations": [["ports", "insert", ["set", [["named-uuid", "lsp"]]]]]})
    return ops


def detach_ops(sw, uuid):
    return [{"op": "mutate", "table": "Logical_Switch", "where": [["name", "==", sw]],
             "mutations": [["ports", "delete", ["set", [["uuid", uuid]]]]]}]


def ms(f):
    t0 = time.monotonic()
    r = f()
    return (time.monotonic() - t0) * 1000.0, r


def main():
    d = tempfile.mkdtemp(prefix="osn-guard.")
    db, sock = os.path.join(d, "nb.db"), os.path.join(d, "nb.sock")
    subprocess.run(["ovsdb-tool", "create", db, NB_SCHEMA], check=True)
    srv = subprocess.Popen(["ovsdb-server", db, f"--remote=punix:{sock}", "--unixctl",
                            os.path.join(d, "ctl"), "-vconsole:off", "-vfile:off"])
    try:
        for _ in range(100):
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        c = ovsdb.Client(f"unix:{sock}")
        dl = lambda: time.monotonic() + 60  # noqa: E731
        # One big network (the filler) and the measured one.
        c.transact(DB, [{"op": "insert", "table": "Logical_Switch", "row": {"name": "fill"}},
                        {"op": "insert", "table": "Logical_Switch", "row": {"name": "m"}}], dl())
        results = {"ports": [], "plain_ms": [], "guarded_ms": [], "read_250_ms": [],
                   "read_all_ms": []}
        filled = 0
        steps = [0, 1000, 2500, 5000, PORTS]
        for target in steps:
            while filled < target:
                n = min(500, target - filled)
                ops = []
                for k in range(n):
                    i = filled + k
                    ip, mac = addr(1 << 20 | i)
                    ops.append({"op": "insert", "table": "Logical_Switch_Port",
                                "row": port_row(f"fill.{i}", "fill", ip, mac),
                                "uuid-name": f"p{k}"})
                ops.append({"op": "mutate", "table": "Logical_Switch",
                            "where": [["name", "==", "fill"]],
                            "mutations": [["ports", "insert",
                                           ["set", [["named-uuid", f"p{k}"] for k in range(n)]]]]})
                c.transact(DB, ops, dl())
                filled += n
            plain, guarded = [], []
            for s in range(SAMPLES):
                for g, acc in ((False, plain), (True, guarded)) if s % 2 else \
                        ((True, guarded), (False, plain)):
                    ip, mac = addr(s)
                    t, (res, _) = ms(lambda: c.transact(
                        DB, attach_ops("m", f"m.{s}.{g}", "m", ip, mac, g), dl()))
                    acc.append(t)
                    uuid = res[-2]["uuid"][1]
                    c.transact(DB, detach_ops("m", uuid), dl())
            # The near-full read: one network's claims (all of 'fill', and a
            # /24's worth from the measured network, filled for it).
            t_all, _ = ms(lambda: c.transact(DB, [{
                "op": "select", "table": "Logical_Switch_Port",
                "where": [["external_ids", "includes", ovsdb.ovs_map({"osn/network": "fill"})]],
                "columns": ["external_ids", "addresses"]}], dl()))
            t_250, _ = ms(lambda: c.transact(DB, [{
                "op": "select", "table": "Logical_Switch_Port",
                "where": [["external_ids", "includes", ovsdb.ovs_map({"osn/network": "m"})]],
                "columns": ["external_ids", "addresses"]}], dl()))
            results["ports"].append(filled)
            results["plain_ms"].append(statistics.median(plain))
            results["guarded_ms"].append(statistics.median(guarded))
            results["read_all_ms"].append(t_all)
            results["read_250_ms"].append(t_250)
        c.close()
    finally:
        srv.terminate()
        srv.wait(timeout=10)
        shutil.rmtree(d, ignore_errors=True)

    print("osn address claims: ADD transaction on a standalone NB ovsdb-server "
          f"(median of {SAMPLES} each, interleaved)")
    print(f"{'ports in NB':>12} {'no guard ms':>12} {'2 guards ms':>12} {'guard cost ms':>14} "
          f"{'read net of N ms':>17}")
    for i, n in enumerate(results["ports"]):
        p, g = results["plain_ms"][i], results["guarded_ms"][i]
        print(f"{n:>12} {p:>12.3f} {g:>12.3f} {g - p:>14.3f} {results['read_all_ms'][i]:>17.2f}")
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "guard.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
