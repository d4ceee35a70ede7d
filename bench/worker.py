#!/usr/bin/env python3
"""bench/worker.py: the benchmark's hands inside one node's netns.

Started by bench/bench.py as
    osn-sandbox exec --dir DIR NODE -- python3 bench/worker.py WORKDIR
so it inherits the node's netns and OSN_CONFIG.  It reads one JSON request
per line on stdin and answers one JSON line on stdout (nothing else goes to
stdout).  Requests:

  {"op": "spawn", "jobs": [{"argv": [...], "env": {...}, "stdin": "..."}],
   "timeout": S}
      Starts every job at once, each through bench/spawn.c (no shell, no
      "ip netns exec" in between), which times the job from its fork() to
      its wait4() and reports its CPU time and peak RSS (the job plus the
      children it reaped, e.g. bridge's host-local).  Waits for all of them
      (pidfd + select).  Per job: wall ns, exit code, user/sys CPU s, peak
      RSS KiB, stdout and stderr (truncated).  A job still running at the
      timeout is killed.

  {"op": "floor_plug", ...} / {"op": "floor_nb", ...}
      OVN's floor, timed with our own OVSDB connections (bench/ovsdb.py) so
      that no process start is inside the interval; see the functions.

  {"op": "quit"}
"""

import json
import os
import select
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ovsdb  # noqa: E402

WORKDIR = sys.argv[1]
SPAWN = sys.argv[2]  # bench/spawn.c, built by run.sh
OUT_MAX = 4000


def plugin_timeline(job, start_ns):
    """An osn ADD's own timeline, from its log line ("ADD ...; ms after
    start: plugged P installed I answered A (start S ns, CLOCK_MONOTONIC)",
    at the default log level; S is on the clock of spawn.c's start): ms from
    the fork, or None (another program, an osn without that line)."""
    cfg, cid = job.get("env", {}).get("OSN_CONFIG"), job.get("cid")
    if not cfg or not cid or not start_ns:
        return None
    try:
        with open(cfg) as f:
            path = json.load(f).get("log_file")
        with open(path, "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - 65536))
            lines = f.read().decode(errors="replace").splitlines()
    except (OSError, ValueError, TypeError):
        return None
    for line in reversed(lines):
        if f" {cid}: ADD " in line and "ms after start:" in line:
            w = line.replace("(", " ").split()
            try:
                t0 = int(w[w.index("start", w.index("answered")) + 1])
                v = {k: float(w[w.index(k) + 1]) for k in ("plugged", "installed", "answered")}
            except (ValueError, IndexError):
                return None
            own = {k: (t0 - start_ns) / 1e6 + ms for k, ms in v.items()}
            own["warm"] = "(a warm port)" in line
            return own
    return None


def read_tail(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return ""
    return data[:OUT_MAX].decode("utf-8", errors="replace")


def spawn(req):
    jobs = req["jobs"]
    timeout = float(req.get("timeout", 60))
    procs = []
    # Tracing: watch the job's logical port (by name) and OVS interface (by
    # iface-id) over the floor's monitors, which are open anyway, so the
    # report can show when each step became visible, without touching the
    # program under test.
    traces = {}
    if req.get("trace") and FLOOR is not None:
        for i, job in enumerate(jobs):
            lsp = job.get("lsp")
            if not lsp:
                continue
            # The attachment's port: inserted under its own name, or a pool's
            # spare claimed for it (named osn.<net>.spare.<uuid>, found by the
            # container id it now carries).  Its OVS interface: by iface-id
            # (whatever the port is named) or by the host-side name osn gives
            # it (the same for both).
            cid, host = job.get("cid"), job.get("host")

            def port_pred(r, n=lsp, c=cid):
                return r["name"] == n or (c is not None and
                                          ovsdb.map_get(r.get("external_ids"), "osn/container-id") == c)

            def iface_pred(r, n=lsp, h=host):
                return r["name"] == h or ovsdb.map_get(r.get("external_ids"), "iface-id") == n
            ws = {
                "lsp": (FLOOR.nb, "nb", "Logical_Switch_Port", port_pred),
                "plug": (FLOOR.ovs, "ovs", "Interface", iface_pred),
                "installed": (FLOOR.ovs, "ovs", "Interface",
                              lambda r, p=iface_pred: (p(r) and ovsdb.map_get(r.get("external_ids"),
                                                                              "ovn-installed") == "true")),
            }
            for k, (c, mid, table, pred) in ws.items():
                c.watch(f"t{i}:{k}", mid, table, pred)
            traces[i] = ws
    # Inputs are written before any job starts: none of this is timed.
    for i, job in enumerate(jobs):
        base = os.path.join(WORKDIR, f"job{i}")
        with open(base + ".in", "w") as f:
            f.write(job.get("stdin", ""))
        procs.append({"i": i, "base": base})
    for p, job in zip(procs, jobs):
        base = p["base"]
        fa = [
            (os.POSIX_SPAWN_OPEN, 0, base + ".in", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, base + ".out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
            (os.POSIX_SPAWN_OPEN, 2, base + ".err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        ]
        argv = [SPAWN, base + ".res"] + job["argv"]
        try:
            os.unlink(base + ".res")
        except FileNotFoundError:
            pass
        t0 = time.monotonic_ns()
        try:
            pid = os.posix_spawn(argv[0], argv, job["env"], file_actions=fa)
        except OSError as e:
            p.update(pid=None, t0=t0, t1=t0, rc=127, err=f"spawn {argv[0]}: {e}")
            continue
        p.update(pid=pid, t0=t0, pidfd=os.pidfd_open(pid))
    pending = {p["pidfd"]: p for p in procs if p.get("pid")}
    deadline = time.monotonic() + timeout
    socks = []
    if traces:
        socks = [FLOOR.nb, FLOOR.ovs]

    def reap(p, t1):
        _, status, _ = os.wait4(p["pid"], 0)
        os.close(p["pidfd"])
        p["t1"] = t1
        rc = os.waitstatus_to_exitcode(status)
        try:
            with open(p["base"] + ".res") as f:
                wall, code, ut, st, rss, start = f.read().split()
            p["start"] = int(start)
            p["rc"] = int(code)
            p["wall"] = int(wall)
            p["utime"] = int(ut) / 1e6
            p["stime"] = int(st) / 1e6
            p["maxrss"] = int(rss)
        except (OSError, ValueError):
            p["rc"] = rc if rc != 0 else 127
            p["err"] = f"no result from {SPAWN} (exit {rc})"

    while pending:
        left = deadline - time.monotonic()
        if left <= 0:
            for fd, p in list(pending.items()):
                os.kill(p["pid"], signal.SIGKILL)
                reap(p, time.monotonic_ns())
                p["timed_out"] = True
            pending.clear()
            break
        r, _, _ = select.select(list(pending) + socks, [], [], left)
        t1 = time.monotonic_ns()
        for fd in r:
            if fd in pending:
                reap(pending.pop(fd), t1)
            else:
                fd.pump(0)
    for c in socks:  # what is already queued still counts
        while c.pump(0):
            pass
    out = []
    for p in procs:
        base = p["base"]
        res = {
            "t0": p["t0"],
            "wall_ns": p.get("wall", p["t1"] - p["t0"]),
            "outer_ns": p["t1"] - p["t0"],
            "rc": p.get("rc"),
            "utime": p.get("utime", 0.0),
            "stime": p.get("stime", 0.0),
            "maxrss": p.get("maxrss", 0),
            "out": read_tail(base + ".out"),
            "err": p.get("err") or read_tail(base + ".err"),
        }
        if p.get("timed_out"):
            res["timed_out"] = True
        if p["i"] in traces:
            tl = {}
            for k, (c, _, _, _) in traces[p["i"]].items():
                w = c.watches.pop(f"t{p['i']}:{k}", None)
                if w and w[3] is not None and p.get("start"):
                    tl[k] = (w[3] - p["start"]) / 1e6
            res["timeline_ms"] = tl
        own = plugin_timeline(jobs[p["i"]], p.get("start"))
        if own:
            res["own_ms"] = own
        out.append(res)
    return {"results": out}


# ---------------------------------------------------------------- OVN floor

class Floor:
    """Our own OVSDB connections to the NB DB and this node's OVS DB, kept
    open across samples, with monitors on the few columns the probes need."""

    def __init__(self):
        with open(os.environ["OSN_CONFIG"]) as f:
            cfg = json.load(f)
        self.bridge = cfg.get("integration_bridge", "br-int")
        self.nb = ovsdb.Client(cfg["nb_remote"])
        self.ovs = ovsdb.Client(cfg.get("ovs_remote", "unix:/var/run/openvswitch/db.sock"))
        dl = time.monotonic() + 30
        self.nb.monitor("OVN_Northbound", "nb",
                        {"Logical_Switch_Port": ["name", "dynamic_addresses", "external_ids"],
                         "NB_Global": ["nb_cfg", "hv_cfg"]}, dl)
        self.ovs.monitor("Open_vSwitch", "ovs", {"Interface": ["name", "external_ids"]}, dl)

    def settle(self, timeout=20.0):
        """ovn-nbctl --wait=hv sync, in-process: bump nb_cfg, wait for hv_cfg."""
        dl = time.monotonic() + timeout
        res, _ = self.nb.transact("OVN_Northbound", [
            {"op": "mutate", "table": "NB_Global", "where": [],
             "mutations": [["nb_cfg", "+=", 1]]},
            {"op": "select", "table": "NB_Global", "where": [], "columns": ["nb_cfg"]}], dl)
        want = res[1]["rows"][0]["nb_cfg"]
        self.nb.watch("hv", "nb", "NB_Global", lambda r: r.get("hv_cfg", 0) >= want)
        self.nb.wait_watch("hv", dl)

    def wait_all(self, pairs, deadline):
        """pairs: [(client, watch name)]; returns {name: arrival ns}."""
        got = {}
        self.rows = {}
        while True:
            for c, name in pairs:
                if name not in got and c.watch_done(name):
                    got[name], self.rows[name] = c.wait_watch(name, deadline)
            if len(got) == len(pairs):
                return got
            left = deadline - time.monotonic()
            if left <= 0:
                raise ovsdb.OvsdbError("floor: timed out waiting for " +
                                       ", ".join(n for _, n in pairs if n not in got))
            ovsdb.pump_all([c for c, _ in pairs], left)

    def ovn_ts(self, w0):
        """Cross-check: ovn-controller's own ovn-installed-ts (wall-clock ms)
        minus our wall-clock start, in ms (ms resolution)."""
        row = self.rows.get("inst") or {}
        ts = ovsdb.map_get(row.get("external_ids"), "ovn-installed-ts")
        try:
            return int(ts) - w0 / 1e6
        except (TypeError, ValueError):
            return None

    # NB rows
    def lsp_insert(self, switch, port, mac, dl, send_only=False):
        ops = [{"op": "insert", "table": "Logical_Switch_Port", "uuid-name": "lsp",
                "row": {"name": port, "addresses": mac, "port_security": mac}},
               {"op": "mutate", "table": "Logical_Switch", "where": [["name", "==", switch]],
                "mutations": [["ports", "insert", ["set", [["named-uuid", "lsp"]]]]]}]
        if send_only:
            return self.nb.send_transact("OVN_Northbound", ops)
        res, _ = self.nb.transact("OVN_Northbound", ops, dl)
        return res

    def lsp_delete(self, switch, port, dl):
        uuid, _ = self.nb.find("nb", "Logical_Switch_Port", lambda r: r["name"] == port)
        if uuid is None:
            return
        self.nb.transact("OVN_Northbound", [
            {"op": "mutate", "table": "Logical_Switch", "where": [["name", "==", switch]],
             "mutations": [["ports", "delete", ["set", [["uuid", uuid]]]]]}], dl)

    # OVS rows
    def port_ops(self, host, port):
        return [{"op": "insert", "table": "Interface", "uuid-name": "i",
                 "row": {"name": host, "external_ids": ovsdb.ovs_map({"iface-id": port})}},
                {"op": "insert", "table": "Port", "uuid-name": "p",
                 "row": {"name": host, "interfaces": ["named-uuid", "i"]}},
                {"op": "mutate", "table": "Bridge", "where": [["name", "==", self.bridge]],
                 "mutations": [["ports", "insert", ["set", [["named-uuid", "p"]]]]]}]

    def port_delete(self, host, dl):
        res, _ = self.ovs.transact("Open_vSwitch", [
            {"op": "select", "table": "Port", "where": [["name", "==", host]],
             "columns": ["_uuid"]}], dl)
        for row in res[0]["rows"]:
            self.ovs.transact("Open_vSwitch", [
                {"op": "mutate", "table": "Bridge", "where": [["name", "==", self.bridge]],
                 "mutations": [["ports", "delete", ["set", [row["_uuid"]]]]]}], dl)

    @staticmethod
    def veth(host, up=True):
        subprocess.run(["ip", "link", "del", host], stderr=subprocess.DEVNULL, check=False)
        subprocess.run(["ip", "link", "add", host, "type", "veth", "peer", "name", host + "p"],
                       check=True, timeout=10)
        if up:
            subprocess.run(["ip", "link", "set", host, "up"], check=True, timeout=10)
            subprocess.run(["ip", "link", "set", host + "p", "up"], check=True, timeout=10)

    def installed(self, host):
        return lambda r: (r["name"] == host and
                          ovsdb.map_get(r.get("external_ids"), "ovn-installed") == "true")

    @staticmethod
    def has_dyn(port):
        """The port's row is in NB (osn gives addresses itself: nothing of
        northd's to wait for)."""
        return lambda r: r["name"] == port

    def cleanup(self, switch, host, port, dl):
        self.port_delete(host, dl)
        subprocess.run(["ip", "link", "del", host], stderr=subprocess.DEVNULL, check=False)
        self.lsp_delete(switch, port, dl)
        self.settle()

    def plug(self, req):
        """Plug -> ovn-installed for a port whose LSP already exists with its
        address assigned (bound-able), everything settled beforehand."""
        sw, port, host, mac = req["switch"], req["port"], req["host"], req["mac"]
        dl = time.monotonic() + float(req.get("timeout", 20))
        self.veth(host)
        self.nb.watch("dyn", "nb", "Logical_Switch_Port", self.has_dyn(port))
        self.lsp_insert(sw, port, mac, dl)
        self.nb.wait_watch("dyn", dl)
        self.settle()
        try:
            self.ovs.watch("inst", "ovs", "Interface", self.installed(host))
            t0 = time.monotonic_ns()
            w0 = time.time_ns()
            rid = self.ovs.send_transact("Open_vSwitch", self.port_ops(host, port))
            got = self.wait_all([(self.ovs, "inst")], dl)
            self.ovs.wait_reply(rid, dl)
            return {"plug_ns": got["inst"] - t0, "ovn_ts_ms": self.ovn_ts(w0)}
        finally:
            self.cleanup(sw, host, port, dl)

    def nbinsert(self, req):
        """NB insert -> ovn-installed: the port is already plugged (an OVS
        interface whose iface-id names a port that does not exist yet); the
        LSP (its MAC as address and port security, as osn's ports carry
        theirs) is inserted at t0.  Also reports when the row appears in NB's
        monitor (the insert committed)."""
        sw, port, host, mac = req["switch"], req["port"], req["host"], req["mac"]
        dl = time.monotonic() + float(req.get("timeout", 20))
        self.veth(host)
        self.ovs.transact("Open_vSwitch", self.port_ops(host, port), dl)
        self.settle()
        try:
            self.nb.watch("dyn", "nb", "Logical_Switch_Port", self.has_dyn(port))
            self.ovs.watch("inst", "ovs", "Interface", self.installed(host))
            t0 = time.monotonic_ns()
            w0 = time.time_ns()
            rid = self.lsp_insert(sw, port, mac, dl, send_only=True)
            got = self.wait_all([(self.nb, "dyn"), (self.ovs, "inst")], dl)
            self.nb.wait_reply(rid, dl)
            return {"nb_installed_ns": got["inst"] - t0, "nb_addr_ns": got["dyn"] - t0,
                    "ovn_ts_ms": self.ovn_ts(w0)}
        finally:
            self.cleanup(sw, host, port, dl)


FLOOR = None


def handle(req):
    global FLOOR
    op = req.get("op")
    if op == "spawn":
        return spawn(req)
    if op in ("floor_plug", "floor_nb", "settle"):
        if FLOOR is None:
            FLOOR = Floor()
        if op == "settle":
            FLOOR.settle()
            return {}
        return FLOOR.plug(req) if op == "floor_plug" else FLOOR.nbinsert(req)
    if op == "ping":
        return {"pong": True, "pid": os.getpid()}
    raise ValueError(f"unknown op {op!r}")


def main():
    os.makedirs(WORKDIR, exist_ok=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        if req.get("op") == "quit":
            break
        try:
            resp = {"ok": True, **handle(req)}
        except Exception as e:  # reported to the controller, which decides
            resp = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        try:
            sys.stdout.write(json.dumps(resp) + "\n")
            sys.stdout.flush()
        except BrokenPipeError:  # the controller is gone
            break


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
