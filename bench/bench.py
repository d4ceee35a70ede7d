#!/usr/bin/env python3
"""bench/bench.py: the osn benchmark's controller (bench/run.sh starts it on a
sandbox it has brought up; see run.sh for the knobs).

It runs in the root netns and drives one bench/worker.py per node (started
through `osn-sandbox exec`, so each lives in its node's netns with that
node's OSN_CONFIG).  Workers start the measured programs directly and time
them; this process only orchestrates, computes the statistics and writes the
report (stdout, OUT/results.json, OUT/results.txt, OUT/latency.svg).

Every job is started through bench/spawn.c, which times it from fork() to
wait4() and reports its CPU time and peak RSS.  Paths measured, all in the
same run, interleaved sample by sample so that drift in machine load hits
every path alike:
  osn      the plugin ($OSN_BUILD/src/plugin/ovn-kubernetes), the seed's NAD,
           with port pools (pool_size BENCH_POOL_SIZE in the node config) and
           warm ports (warm_ports BENCH_WARM)
  osn-nopool  the same plugin with pool_size 0 (ADD inserts its own port)
  bridge   Debian's bridge + host-local CNI plugins in the same node netns
  shell    bench/shell-attach.sh: the same attach with ovn-nbctl/ovs-vsctl/ip
  floor    OVN alone, timed over our own OVSDB connections:
             plug     OVS port with iface-id of an existing LSP -> ovn-installed
             nb       LSP insert ("MAC dynamic", port already plugged) ->
                      ovn-installed; and -> dynamic_addresses (northd's IPAM)
Sequential ADDs are also traced through the floor's OVSDB monitors (when the
port appeared in NB or its spare was claimed, was plugged, was installed).
The scale part measures both osn paths and both floors at each NB size of
BENCH_SCALE_POINTS (ports added cumulatively to the measured network), with
pool cycles on the seed network interleaved as a control.
"""

import hashlib
import json
import math
import os
import platform
import select
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import ovsdb  # noqa: E402


def env_int(name, default):
    v = os.environ.get(name, "")
    try:
        return int(v) if v else default
    except ValueError:
        sys.exit(f"bench: {name} must be an integer, not {v!r}")


SANDBOX = os.environ["BENCH_SANDBOX"]
SDIR = os.environ["BENCH_DIR"]
PLUGIN = os.environ["BENCH_PLUGIN"]
SPAWN = os.environ["BENCH_SPAWN"]
OUT = os.environ["BENCH_OUT"]
NODES = 3
SEQ = env_int("BENCH_SEQ", 100)
SHELL_SEQ = env_int("BENCH_SHELL_SEQ", 30)
FLOOR_N = env_int("BENCH_FLOOR", 50)
CONC = env_int("BENCH_CONC", 8)
CONC_ROUNDS = env_int("BENCH_CONC_ROUNDS", 10)
SHELL_CONC_ROUNDS = env_int("BENCH_SHELL_CONC_ROUNDS", 3)
POOL_SIZE = env_int("BENCH_POOL_SIZE", 4)
WARM = env_int("BENCH_WARM", 2)
OSN_LABEL = f"osn, pools ({POOL_SIZE})" + (f", warm ({WARM})" if WARM and POOL_SIZE else "")


def scale_points():
    """BENCH_SCALE_POINTS: NB sizes (ports added to the scale network) to
    measure at, filled cumulatively; BENCH_SCALE_PORTS=N alone means "0 N"."""
    v = os.environ.get("BENCH_SCALE_POINTS")  # set but empty: no scale part
    if v is None and os.environ.get("BENCH_SCALE_PORTS"):
        n = env_int("BENCH_SCALE_PORTS", 0)
        v = f"0 {n}" if n > 0 else ""
    elif v is None:
        v = "0 2000 5000"
    try:
        pts = sorted({int(x) for x in v.replace(",", " ").split()})
    except ValueError:
        sys.exit(f"bench: BENCH_SCALE_POINTS must be integers, not {v!r}")
    if any(p < 0 or p > 60000 for p in pts):
        sys.exit("bench: BENCH_SCALE_POINTS must be in 0..60000")
    return pts


SCALE_POINTS = scale_points()
SCALE_SEQ = env_int("BENCH_SCALE_SEQ", 20)
SCALE_FLOOR = env_int("BENCH_SCALE_FLOOR", 12)
SCALE_CTL = env_int("BENCH_SCALE_CTL", 12)
SCALE_SHELL = env_int("BENCH_SCALE_SHELL", 3)
MAX_FAILURES = env_int("BENCH_MAX_FAILURES", 10)
STARTUP_N = env_int("BENCH_STARTUP", 20)
JOB_TIMEOUT = 60  # s; the plugin's own bound is ready_timeout_ms (20 s)

BRIDGE_DIR = "/usr/lib/cni"
SEED_NAD = {"cniVersion": "0.3.1", "type": "ovn-kubernetes", "name": "tenant-overlay",
            "subnet": "10.10.10.0/24"}
SCALE_NAD = {"cniVersion": "0.3.1", "type": "ovn-kubernetes", "name": "tenant-scale",
             "subnet": "10.100.0.0/16"}
SHELL_NET, SHELL_SUBNET = "shell-overlay", "10.10.30.0/24"
BRIDGE_SUBNET = "10.20.0.0/24"


def log(*a):
    print("#", *a, file=sys.stderr, flush=True)


def sbx(*args, check=True, timeout=60):
    r = subprocess.run([SANDBOX] + [args[0], "--dir", SDIR] + list(args[1:]),
                       capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"osn-sandbox {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout.strip()


def node_cfg(n):
    return os.path.join(SDIR, f"node{n}", "osn.json")


def osn_cfg(n, pool):
    """The node config the plugin runs with: the node's osn.json with
    pool_size and warm_ports set (BENCH_POOL_SIZE and BENCH_WARM for the
    pool path, 0 for the other); the plugin reads it at every exec, so both
    paths run on the same nodes."""
    return os.path.join(SDIR, f"node{n}", "osn-pool.json" if pool else "osn-nopool.json")


def write_osn_cfgs():
    for n in range(1, NODES + 1):
        with open(node_cfg(n)) as f:
            cfg = json.load(f)
        for pool in (True, False):
            # The default log level (info), as on a node: the ADD's log
            # line has its timeline (worker.py reads it); debug would log
            # every OVSDB message, in the ADD's path.
            c = dict(cfg, pool_size=POOL_SIZE if pool else 0,
                     warm_ports=WARM if pool and POOL_SIZE > 0 else 0, log_level="info")
            tmp = osn_cfg(n, pool) + ".tmp"
            with open(tmp, "w") as f:
                json.dump(c, f, indent=1)
            os.rename(tmp, osn_cfg(n, pool))


def fnv1a64(s):
    h = 0xcbf29ce484222325
    for b in s.encode():
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return h


def osn_host_ifname(port):
    """As src/lib/attach.c's osn_host_ifname(): the host-side veth's name."""
    return "osn%012x" % (fnv1a64(port) & 0xffffffffffff)


with open(node_cfg(1)) as f:
    NB_REMOTE = json.load(f)["nb_remote"]


# ---------------------------------------------------------------- workers

class Worker:
    def __init__(self, n):
        self.n = n
        wd = os.path.join(SDIR, f"bench-worker{n}")
        self.p = subprocess.Popen(
            [SANDBOX, "exec", "--dir", SDIR, f"node{n}", "--",
             sys.executable, os.path.join(HERE, "worker.py"), wd, SPAWN],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.buf = b""

    def send(self, req):
        self.p.stdin.write((json.dumps(req) + "\n").encode())
        self.p.stdin.flush()

    def recv(self, timeout):
        deadline = time.monotonic() + timeout
        fd = self.p.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"worker node{self.n}: no answer in {timeout} s")
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"worker node{self.n} exited (rc {self.p.poll()})")
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        resp = json.loads(line)
        if not resp.get("ok"):
            raise RuntimeError(f"worker node{self.n}: {resp.get('error')}")
        return resp

    def call(self, req, timeout=JOB_TIMEOUT + 30):
        self.send(req)
        return self.recv(timeout)

    def stop(self):
        try:
            self.send({"op": "quit"})
            self.p.stdin.close()
            self.p.wait(timeout=5)
        except Exception:
            self.p.kill()
            self.p.wait(timeout=5)


# ---------------------------------------------------------------- jobs

POD_NS = "bench"  # the pods' namespace (CNI_ARGS): osn's networks are its (tenancy)


def net_key(name):
    """The network key osn gives a NAD of this name in the pods' namespace
    (src/lib/tenancy.h): its switch is osn.<key>, its ports osn.<key>...."""
    return f"{POD_NS}/{name}"


def cni_env(verb, n, cid, netns, pod, cfg=None):
    return {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "CNI_COMMAND": verb, "CNI_CONTAINERID": cid, "CNI_NETNS": netns,
        "CNI_IFNAME": "net1", "CNI_PATH": "/opt/cni/bin",
        "CNI_ARGS": f"IgnoreUnknown=1;K8S_POD_NAMESPACE={POD_NS};K8S_POD_NAME={pod};"
                    f"K8S_POD_INFRA_CONTAINER_ID={cid}",
        "OSN_CONFIG": cfg or node_cfg(n),
    }


def osn_job(verb, n, cid, pod, nad=None, pool=True):
    nad = nad or SEED_NAD
    lsp = f"osn.{net_key(nad['name'])}.{cid}.net1"  # without pools; a claimed spare keeps its own name
    return {"argv": [PLUGIN], "env": cni_env(verb, n, cid, PODS[pod], pod, osn_cfg(n, pool)),
            "stdin": json.dumps(nad), "lsp": lsp, "cid": cid, "host": osn_host_ifname(lsp)}


def osn_nopool_job(verb, n, cid, pod, nad=None):
    return osn_job(verb, n, cid, pod, nad, pool=False)


def bridge_job(verb, n, cid, pod, nad=None):
    env = cni_env(verb, n, cid, PODS[pod], pod)
    env["CNI_PATH"] = BRIDGE_DIR
    conf = {"cniVersion": "0.3.1", "name": "bench-bridge", "type": "bridge",
            "bridge": "benchbr0", "isGateway": False, "ipMasq": False, "mtu": 1442,
            "ipam": {"type": "host-local", "subnet": BRIDGE_SUBNET,
                     "dataDir": os.path.join(SDIR, "bench-hostlocal", f"node{n}")}}
    return {"argv": [os.path.join(BRIDGE_DIR, "bridge")], "env": env, "stdin": json.dumps(conf)}


def shell_job(verb, n, cid, pod, nad=None):
    env = cni_env(verb, n, cid, PODS[pod], pod)
    env.update(SHELL_NB=NB_REMOTE, SHELL_NET=SHELL_NET, SHELL_SUBNET=SHELL_SUBNET,
               OVS_RUNDIR=os.path.join(SDIR, f"node{n}"), OVN_RUNDIR=os.path.join(SDIR, f"node{n}"))
    return {"argv": ["/bin/bash", os.path.join(HERE, "shell-attach.sh")], "env": env,
            "lsp": f"shell.{SHELL_NET}.{cid}.net1"}


# "osn" is the plugin with pools (pool_size BENCH_POOL_SIZE, the default
# config's 4), "osn-nopool" the same plugin with pool_size 0.
JOBS = {"osn": osn_job, "osn-nopool": osn_nopool_job, "bridge": bridge_job, "shell": shell_job}


# ---------------------------------------------------------------- state

PODS = {}          # pod name -> netns path
WORKERS = {}       # node -> Worker
SAMPLES = []       # every measured sample
FAILURES = []      # every failed job
NB = None          # our NB connection (settle)


def pod(name):
    if name not in PODS:
        PODS[name] = sbx("pod-add", name)
    return name


def renew_pod(name):
    sbx("pod-del", name, check=False)
    PODS.pop(name, None)
    pod(name)


def settle(timeout=20.0):
    """ovn-nbctl --wait=hv sync over our own connection: every chassis has
    caught up with NB (flows installed) before the next sample starts."""
    dl = time.monotonic() + timeout
    res, _ = NB.transact("OVN_Northbound", [
        {"op": "mutate", "table": "NB_Global", "where": [], "mutations": [["nb_cfg", "+=", 1]]},
        {"op": "select", "table": "NB_Global", "where": [], "columns": ["nb_cfg"]}], dl)
    want = res[1]["rows"][0]["nb_cfg"]
    while True:
        r, _ = NB.transact("OVN_Northbound", [
            {"op": "select", "table": "NB_Global", "where": [], "columns": ["hv_cfg"]}], dl)
        if r[0]["rows"][0]["hv_cfg"] >= want:
            return
        if time.monotonic() > dl:
            raise RuntimeError("settle: hv_cfg did not catch up in time")
        time.sleep(0.002)


def run_batch(path, verb, mode, placed, tag="", nad=None):
    """placed: [(node, cid, pod)]; starts them all at once (one spawn request
    per node, sent back to back) and records one sample per job."""
    by_node = {}
    for n, cid, p in placed:
        job = JOBS[path](verb, n, cid, p, nad)
        by_node.setdefault(n, []).append((cid, p, job))
    # The sequential ADDs are traced (see worker.py): when the port showed up
    # in NB, got its address, was plugged, was installed.
    trace = verb == "ADD" and mode == "seq"
    for n, jobs in by_node.items():
        WORKERS[n].send({"op": "spawn", "timeout": JOB_TIMEOUT, "trace": trace,
                         "jobs": [j for _, _, j in jobs]})
    results = []
    for n, jobs in by_node.items():
        resp = WORKERS[n].recv(JOB_TIMEOUT + 30)
        for (cid, p, _), r in zip(jobs, resp["results"]):
            s = {"path": path, "verb": verb, "mode": mode, "tag": tag, "node": n, "cid": cid,
                 "pod": p, "wall_ms": r["wall_ns"] / 1e6,
                 "cpu_ms": (r["utime"] + r["stime"]) * 1e3,
                 "user_ms": r["utime"] * 1e3, "sys_ms": r["stime"] * 1e3,
                 "maxrss_kib": r["maxrss"], "rc": r["rc"]}
            if r.get("timeline_ms"):
                s["timeline_ms"] = r["timeline_ms"]
            if r.get("own_ms"):
                s["own_ms"] = r["own_ms"]
            if r["rc"] != 0:
                s["error"] = (r["out"] + r["err"]).strip()[:600] or f"exit {r['rc']} (127: could not run {job_argv0(path)})"
                FAILURES.append(s)
                log(f"FAILED {path} {verb} {cid} on node{n}: rc {r['rc']}: {s['error'][:300]}")
            else:
                SAMPLES.append(s)
            s["out"] = r["out"]
            results.append(s)
    if len(FAILURES) > MAX_FAILURES:
        raise RuntimeError(f"more than {MAX_FAILURES} failed jobs; giving up")
    return results


def job_argv0(path):
    return {"osn": PLUGIN, "osn-nopool": PLUGIN, "bridge": os.path.join(BRIDGE_DIR, "bridge"),
            "shell": "bash"}[path]


def claimed_spares(adds, nad):
    """For the pool path's ADDs that succeeded: did each get a spare (its
    port is named osn.<net>.spare.<uuid>) or take the path without pools?
    One NB read between the ADD and its DEL, outside the timed interval."""
    ok = [a for a in adds if a["rc"] == 0]
    if not ok:
        return
    net = net_key((nad or SEED_NAD)["name"])
    res, _ = NB.transact("OVN_Northbound", [
        {"op": "select", "table": "Logical_Switch_Port",
         "where": [["external_ids", "includes", ovsdb.ovs_map({"osn/network": net, "osn/container-id": a["cid"]})]],
         "columns": ["name"]} for a in ok], time.monotonic() + 30)
    for a, r in zip(ok, res):
        names = [row["name"] for row in r.get("rows", [])]
        a["port"] = names[0] if names else None
        a["pool_claim"] = bool(names) and f"osn.{net}.spare." in names[0]


def count_spares(net):
    res, _ = NB.transact("OVN_Northbound", [
        {"op": "select", "table": "Logical_Switch_Port",
         "where": [["external_ids", "includes", ovsdb.ovs_map({"osn/network": net_key(net), "osn/spare": "true"})]],
         "columns": ["name"]}], time.monotonic() + 30)
    return len(res[0]["rows"])


def cycle(path, mode, placed, tag="", nad=None, settle_after=True):
    """ADD all of 'placed' at once, then DEL all at once."""
    adds = run_batch(path, "ADD", mode, placed, tag, nad)
    if path == "osn":
        claimed_spares(adds, nad)
    run_batch(path, "DEL", mode, placed, tag, nad)
    for a in adds:
        if a["rc"] != 0:  # never reuse a pod netns a failed ADD may have dirtied
            renew_pod(a["pod"])
    if settle_after and path != "bridge":
        settle()
    return adds


FLOOR_COUNT = [0]


def floor_sample(kind, n, switch, i, tag):
    k = FLOOR_COUNT[0] = FLOOR_COUNT[0] + 1  # unique names and MACs over the run
    port = f"bench-floor-{tag}-{kind}-{i}"
    host = f"bf{kind[0]}{k}"
    mac = "0a:%02x:%02x:00:%02x:%02x" % (0xfe, {"plug": 1, "nb": 2}[kind], (k >> 8) & 0xff, k & 0xff)
    op = "floor_plug" if kind == "plug" else "floor_nb"
    try:
        r = WORKERS[n].call({"op": op, "switch": switch, "port": port, "host": host,
                             "mac": mac, "timeout": 20})
    except RuntimeError as e:
        FAILURES.append({"path": "floor", "verb": kind, "tag": tag, "error": str(e)})
        log(f"FAILED floor {kind}: {e}")
        if len(FAILURES) > MAX_FAILURES:
            raise
        return
    if kind == "plug":
        SAMPLES.append({"path": "floor", "verb": "plug", "mode": "seq", "tag": tag, "node": n,
                        "wall_ms": r["plug_ns"] / 1e6, "ovn_ts_ms": r.get("ovn_ts_ms")})
    else:
        SAMPLES.append({"path": "floor", "verb": "nb", "mode": "seq", "tag": tag, "node": n,
                        "wall_ms": r["nb_installed_ns"] / 1e6, "ovn_ts_ms": r.get("ovn_ts_ms")})
        SAMPLES.append({"path": "floor", "verb": "nb-addr", "mode": "seq", "tag": tag, "node": n,
                        "wall_ms": r["nb_addr_ns"] / 1e6})


# ---------------------------------------------------------------- statistics

def pct(xs, p):
    """Percentile with linear interpolation between closest ranks."""
    if not xs:
        return None
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100.0
    lo, hi = math.floor(k), math.ceil(k)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def stats(xs):
    if not xs:
        return None
    return {"n": len(xs), "p50": pct(xs, 50), "p90": pct(xs, 90), "p99": pct(xs, 99),
            "min": min(xs), "max": max(xs), "mean": sum(xs) / len(xs)}


def select_samples(path, verb, mode, tag="", key="wall_ms"):
    return [s[key] for s in SAMPLES if s["path"] == path and s["verb"] == verb
            and s["mode"] == mode and s.get("tag", "") == tag]


# ---------------------------------------------------------------- plot

COLORS = {"pool": "#1f77b4", "nopool": "#ff7f0e", "bridge": "#2ca02c", "shell": "#d62728",
          "plug": "#7f7f7f", "nb": "#bcbd22"}

PW_, PH_ = 470, 340  # one panel


def _log_ticks(lo, hi):
    d, out = lo, []
    steps = (1, 2, 5) if hi / lo <= 1000 else (1, 3)  # fewer labels over 4+ decades
    while d <= hi * 1.0001:
        for m in steps:
            if d * m <= hi * 1.0001:
                out.append(d * m)
        d *= 10
    return out


def _legend(out, x0, y0, pw, si, label, col, dash=""):
    ly = y0 + 13 * (si // 2)
    lx = x0 + (si % 2) * (pw / 2)
    out.append(f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 18}" y2="{ly - 4}" stroke="{col}" '
               f'stroke-width="3"{dash}/>')
    out.append(f'<text x="{lx + 22}" y="{ly}">{label}</text>')


def _frame(out, x0, y0, title, geom, xticks, yticks, xlabel):
    """A panel's title, box, grid and axis labels; ticks: [(position,
    label, grid colour)]."""
    ML, MT, pw, ph = geom
    out.append(f'<text x="{x0 + PW_ / 2}" y="{y0 + 18}" text-anchor="middle" font-size="13">{title}</text>')
    out.append(f'<rect x="{x0 + ML}" y="{y0 + MT}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
    for xx, label, grid in xticks:
        out.append(f'<line x1="{xx:.1f}" y1="{y0 + MT}" x2="{xx:.1f}" y2="{y0 + MT + ph}" stroke="{grid}"/>')
        out.append(f'<text x="{xx:.1f}" y="{y0 + MT + ph + 13}" text-anchor="middle">{label}</text>')
    for yy, label, grid in yticks:
        out.append(f'<line x1="{x0 + ML}" y1="{yy:.1f}" x2="{x0 + ML + pw}" y2="{yy:.1f}" stroke="{grid}"/>')
        out.append(f'<text x="{x0 + ML - 4}" y="{yy + 4:.1f}" text-anchor="end">{label}</text>')
    out.append(f'<text x="{x0 + ML + pw / 2}" y="{y0 + MT + ph + 28}" text-anchor="middle">{xlabel}</text>')


def _cdf_panel(out, x0, y0, title, series):
    """Latency CDFs, log-x.  series: [(label, colour key, [ms...], dashed)]."""
    ML, MR, MT, MB = 55, 15, 30, 105
    allv = [v for _, _, vs, _ in series for v in vs if v > 0]
    if not allv:
        return
    lo = 10 ** math.floor(math.log10(min(allv)))
    hi = 10 ** math.ceil(math.log10(max(allv)))
    pw, ph = PW_ - ML - MR, PH_ - MT - MB

    def X(v):
        return x0 + ML + pw * (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

    def Y(f):
        return y0 + MT + ph * (1 - f)
    _frame(out, x0, y0, title, (ML, MT, pw, ph), [(X(v), f"{v:g}", "#ddd") for v in _log_ticks(lo, hi)],
           [(Y(f), f"{f:g}", "#eee") for f in (0, 0.25, 0.5, 0.75, 0.9, 1)], "latency, ms (log)")
    si = 0
    for label, ck, vs, dashed in series:
        if not vs:
            continue
        vs = sorted(vs)
        n = len(vs)
        pts = [(X(vs[0]), Y(0))]
        for i, v in enumerate(vs):
            pts.append((X(v), Y(i / n)))
            pts.append((X(v), Y((i + 1) / n)))
        col = COLORS.get(ck, "#000")
        dash = ' stroke-dasharray="5,3"' if dashed else ""
        out.append('<polyline fill="none" stroke-width="1.8" stroke="%s"%s points="%s"/>' % (
            col, dash, " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)))
        _legend(out, x0 + ML, y0 + MT + ph + 42, pw, si, f"{label} (n={n})", col, dash)
        si += 1


def _xy_panel(out, x0, y0, title, xs, series):
    """p50 (solid, dots) and p99 (dashed) vs NB size, log-y.
    series: [(label, colour key, {x: (p50, p99)})]."""
    ML, MR, MT, MB = 55, 15, 30, 105
    allv = [v for _, _, d in series for pq in d.values() for v in pq if v and v > 0]
    if not allv or not xs:
        return
    lo = 10 ** math.floor(math.log10(min(allv)))
    hi = 10 ** math.ceil(math.log10(max(allv)))
    pw, ph = PW_ - ML - MR, PH_ - MT - MB
    xmax = max(xs) or 1

    def X(v):
        return x0 + ML + 10 + (pw - 20) * v / xmax

    def Y(v):
        return y0 + MT + ph * (1 - (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)))
    _frame(out, x0, y0, title, (ML, MT, pw, ph), [(X(v), f"+{v}", "#eee") for v in xs],
           [(Y(v), f"{v:g}", "#ddd") for v in _log_ticks(lo, hi)],
           "ports added to the NB; ADD ms (log), solid p50, dashed p99")
    si = 0
    for label, ck, d in series:
        col = COLORS.get(ck, "#000")
        got = False
        for q, dash in ((0, ""), (1, ' stroke-dasharray="5,3"')):
            pts = [(X(x), Y(d[x][q])) for x in xs if x in d and d[x][q] is not None]
            if not pts:
                continue
            got = True
            out.append('<polyline fill="none" stroke-width="1.8" stroke="%s"%s points="%s"/>' % (
                col, dash, " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)))
            for a, b in pts:
                out.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="{3 if q == 0 else 2}" fill="{col}"/>')
        if got:
            _legend(out, x0 + ML, y0 + MT + ph + 42, pw, si, label, col)
            si += 1


def svg_plot(panels, path, cols=2):
    """panels: [("cdf", title, series) | ("xy", title, xs, series)], laid out
    'cols' to a row.  Plain SVG, no dependencies."""
    rows = (len(panels) + cols - 1) // cols
    W, H = PW_ * min(cols, len(panels)), PH_ * rows
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{W}" height="{H}" fill="white"/>']
    for pi, panel in enumerate(panels):
        x0, y0 = (pi % cols) * PW_, (pi // cols) * PH_
        if panel[0] == "cdf":
            _cdf_panel(out, x0, y0, panel[1], panel[2])
        else:
            _xy_panel(out, x0, y0, panel[1], panel[2], panel[3])
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


# ---------------------------------------------------------------- report

def fmt(v, w=8, d=1):
    return f"{v:{w}.{d}f}" if v is not None else " " * (w - 1) + "-"


def verdict(ok):
    return "PASS" if ok else "MISS"


def report(meta, phase_s):
    R = {"meta": meta, "phases_s": phase_s, "config": {
        "seq": SEQ, "shell_seq": SHELL_SEQ, "floor": FLOOR_N, "conc": CONC,
        "conc_rounds": CONC_ROUNDS, "shell_conc_rounds": SHELL_CONC_ROUNDS, "pool_size": POOL_SIZE,
        "scale_points": SCALE_POINTS, "scale_seq": SCALE_SEQ, "scale_floor": SCALE_FLOOR,
        "scale_ctl": SCALE_CTL,
        "scale_shell": SCALE_SHELL},
        "latency_ms": {}, "resources": {}, "ratios": {}, "targets": [], "failures": FAILURES}
    lines = []
    P = lines.append
    rows = [
        ("osn", "ADD", "seq", ""), ("osn", "DEL", "seq", ""),
        ("osn-nopool", "ADD", "seq", ""), ("osn-nopool", "DEL", "seq", ""),
        ("bridge", "ADD", "seq", ""), ("bridge", "DEL", "seq", ""),
        ("shell", "ADD", "seq", ""), ("shell", "DEL", "seq", ""),
        ("osn", "ADD", "conc", ""), ("osn", "DEL", "conc", ""),
        ("osn-nopool", "ADD", "conc", ""), ("osn-nopool", "DEL", "conc", ""),
        ("bridge", "ADD", "conc", ""), ("bridge", "DEL", "conc", ""),
        ("shell", "ADD", "conc", ""), ("shell", "DEL", "conc", ""),
        ("floor", "plug", "seq", ""), ("floor", "nb", "seq", ""), ("floor", "nb-addr", "seq", ""),
    ]
    names = {"osn": OSN_LABEL, "osn-nopool": "osn, pools off",
             "bridge": "bridge+host-local", "shell": "shell script", "floor": "OVN floor"}
    verbs = {"plug": "plug->installed", "nb": "NB insert->installed",
             "nb-addr": "NB insert->row seen"}
    modes = {"seq": "sequential", "conc": f"{CONC} at once"}
    NW = max(len(v) for v in names.values())
    OW = max(len(verbs.get(v, v)) for _, v, _, _ in rows)
    P(f"{'path':<{NW}} {'op':<{OW}} {'mode':<11} {'n':>4} {'p50':>8} {'p90':>8} {'p99':>8} {'min':>8} {'max':>8}   (ms)")
    for path, verb, mode, tag in rows:
        st = stats(select_samples(path, verb, mode, tag))
        key = f"{path}/{verb}/{mode}" + (f"/{tag}" if tag else "")
        R["latency_ms"][key] = st
        if st is None:
            continue
        P(f"{names[path]:<{NW}} {verbs.get(verb, verb):<{OW}} {modes[mode]:<11} {st['n']:>4} "
          f"{fmt(st['p50'])} {fmt(st['p90'])} {fmt(st['p99'])} {fmt(st['min'])} {fmt(st['max'])}")

    for verb, label in (("plug", "plug->installed"), ("nb", "NB insert->installed")):
        ts = [s["ovn_ts_ms"] for s in SAMPLES if s["path"] == "floor" and s["verb"] == verb
              and s.get("tag", "") == "" and s.get("ovn_ts_ms") is not None]
        if ts:
            R["latency_ms"][f"floor/{verb}/seq/ovn-installed-ts"] = stats(ts)
            P(f"  (cross-check: by ovn-controller's own ovn-installed-ts, {label} p50 is {pct(ts, 50):.1f} ms;"
              f" ms resolution, before the OVS DB write reaches anyone)")

    # How many of the pool path's ADDs got a spare (the rest took the path
    # without pools: an empty pool, or a plugin that keeps none).
    claims = {}
    for s in SAMPLES:
        if s["path"] == "osn" and s["verb"] == "ADD" and "pool_claim" in s:
            k = f"{s['mode']}/{s['tag']}" if s["tag"] else s["mode"]
            c = claims.setdefault(k, [0, 0, 0])
            c[0] += bool(s["pool_claim"])
            c[1] += 1
            c[2] += bool(s.get("own_ms", {}).get("warm"))
    R["pool_claims"] = {k: {"claimed": a, "of": b, "warm": w} for k, (a, b, w) in claims.items()}
    if claims:
        P("pool path ADDs that claimed a spare (of them, a warm port): " + ", ".join(
            f"{k} {a}/{b} ({w})" for k, (a, b, w) in claims.items()))
        P("spares in the pool: " + "; ".join(f"{k}: {v}" for k, v in meta.get("spares", {}).items()))
    if POOL_SIZE > 0 and claims and not any(a for a, _, _ in claims.values()):
        P("NOTE: no ADD claimed a spare: this plugin keeps no pools, the pool path is the path without pools")

    def L(key, q):
        st = R["latency_ms"].get(key)
        return st[q] if st else None

    # Resources per ADD (sequential; the child plus what it reaped).
    P("")
    P(f"{'per ADD (sequential)':<22} {'CPU ms p50':>10} {'CPU ms mean':>11} {'user':>6} {'sys':>6} {'peak RSS KiB p50':>17} {'max':>6}")
    for path in ("osn", "osn-nopool", "bridge", "shell"):
        cpu = select_samples(path, "ADD", "seq", "", "cpu_ms")
        if not cpu:
            continue
        us = select_samples(path, "ADD", "seq", "", "user_ms")
        sy = select_samples(path, "ADD", "seq", "", "sys_ms")
        rss = select_samples(path, "ADD", "seq", "", "maxrss_kib")
        R["resources"][path] = {"cpu_ms": stats(cpu), "user_ms": stats(us), "sys_ms": stats(sy),
                                "maxrss_kib": stats(rss)}
        P(f"{names[path]:<22} {pct(cpu, 50):>10.2f} {sum(cpu) / len(cpu):>11.2f} {pct(us, 50):>6.2f} "
          f"{pct(sy, 50):>6.2f} {pct(rss, 50):>17.0f} {max(rss):>6}")
    for path in ("osn", "osn-nopool"):
        for verb in ("DEL",):
            cpu = select_samples(path, verb, "seq", "", "cpu_ms")
            rss = select_samples(path, verb, "seq", "", "maxrss_kib")
            if cpu:
                R["resources"][f"{path}/{verb}"] = {"cpu_ms": stats(cpu), "maxrss_kib": stats(rss)}
    P("")
    P(f"{'process start (VERSION)':<22} {'wall p50 ms':>11} {'CPU ms p50':>10} {'peak RSS KiB p50':>17}")
    for path, label in (("true", "/bin/true (launcher floor)"), ("osn", "osn"), ("bridge", "bridge")):
        w = select_samples(path, "VERSION", "seq")
        if not w:
            continue
        c = select_samples(path, "VERSION", "seq", "", "cpu_ms")
        m = select_samples(path, "VERSION", "seq", "", "maxrss_kib")
        R["resources"][f"{path}/VERSION"] = {"wall_ms": stats(w), "cpu_ms": stats(c), "maxrss_kib": stats(m)}
        P(f"{label:<26} {pct(w, 50):>7.2f} {pct(c, 50):>10.2f} {pct(m, 50):>17.0f}")
    osn_wall = L("osn/ADD/seq", "p50")
    osn_cpu = R["resources"].get("osn", {}).get("cpu_ms", {}) or {}
    if osn_wall and osn_cpu:
        P(f"osn ADD p50 (pools): {osn_wall:.1f} ms wall, of which {osn_cpu['p50']:.1f} ms on a CPU "
          f"(the rest is waiting: OVN, the kernel, the DB servers)")

    # Scale: every figure at every NB size, same network, same run.
    pts = SCALE_POINTS
    scale_rows = [("osn pool ADD", "osn/ADD/seq", ""), ("osn pool DEL", "osn/DEL/seq", ""),
                  ("osn no-pool ADD", "osn-nopool/ADD/seq", ""),
                  ("osn no-pool DEL", "osn-nopool/DEL/seq", ""),
                  ("OVN floor plug->installed", "floor/plug/seq", ""),
                  ("OVN floor NB insert->installed", "floor/nb/seq", ""),
                  ("OVN floor NB insert->row seen", "floor/nb-addr/seq", ""),
                  ("osn pool ADD, seed net (ctl)", "osn/ADD/seq", "ctl"),
                  ("shell ADD (its own net)", "shell/ADD/seq", "")]
    g = {"points": pts, "prefill": meta.get("prefill", []), "rows": {}}
    if any(select_samples(k.split("/")[0], k.split("/")[1], "seq", f"n{p}")
           for p in pts for k in ("osn/ADD", "osn-nopool/ADD", "floor/nb", "floor/plug")):
        for label, key, pre in scale_rows:
            for p in pts:
                tag = f"{pre}n{p}"
                if key.startswith("shell/") and p == 0:
                    st = stats(select_samples("shell", "ADD", "seq", ""))  # the sequential phase's
                else:
                    path, verb, mode = key.split("/")
                    st = stats(select_samples(path, verb, mode, tag))
                R["latency_ms"][f"{key}/{tag}"] = st
        P("")
        P(f"scale: the scale network ({SCALE_NAD['subnet']}) holds N more ports (filled cumulatively, "
          f"one NB transaction per step); p50 / p99 ms (n)")
        CW = 22
        P(f"  {'':<32}" + "".join(f"{'+' + str(p):>{CW}}" for p in pts))
        for label, key, pre in scale_rows:
            cells = []
            row = {}
            for p in pts:
                tag = f"{pre}n{p}"
                st = R["latency_ms"].get(f"{key}/{tag}")
                row[str(p)] = st
                cells.append(f"{st['p50']:7.1f} / {st['p99']:6.1f} ({st['n']:>3})" if st else "-")
            g["rows"][label] = row
            if any(row.values()):
                P(f"  {label:<32}" + "".join(f"{c:>{CW}}" for c in cells))
        # What is left beyond each floor: the path without pools waits for
        # northd (the NB floor), the pool path should not (the plug floor).
        for label, k1, k2 in (("no-pool ADD - NB floor, p50", "osn-nopool/ADD/seq", "floor/nb/seq"),
                              ("pool ADD - plug floor, p50", "osn/ADD/seq", "floor/plug/seq")):
            diff = [(L(f"{k1}/n{p}", "p50"), L(f"{k2}/n{p}", "p50")) for p in pts]
            diff = [a - b if a is not None and b is not None else None for a, b in diff]
            g["rows"][label] = dict(zip(map(str, pts), diff))
            if any(v is not None for v in diff):
                P(f"  {label:<32}" + "".join(
                    f"{(f'{v:7.1f} ms' if v is not None else '-'):>{CW}}" for v in diff))
        for pf in meta.get("prefill", []):
            P(f"  prefill to {pf['total']}: {pf['ports']} ports, transaction {pf['txn_s']:.2f} s, "
              f"every chassis caught up after {pf['hv_sync_s']:.2f} s")
    R["scale"] = g

    # Timelines: when each step of a sequential ADD became visible in the
    # DBs, from the program's start (medians).
    P("")
    P("where an ADD's time goes (sequential, medians, ms from the program's start; seen in NB/OVS;")
    P("'port in NB': inserted, or the spare claimed)")
    P(f"  {'path':<28} {'port in NB':>10} {'plugged':>8} {'installed':>9} {'exit':>7} {'n':>4}")
    R["timelines"] = {}
    tl_rows = [("osn", "", "osn, pools"), ("osn-nopool", "", "osn, pools off"),
               ("shell", "", "shell script")]
    for p in pts:
        tl_rows += [("osn", f"n{p}", f"osn, pools [+{p}]"), ("osn-nopool", f"n{p}", f"osn, pools off [+{p}]")]
    for path, tag, label in tl_rows:
        tls = [s for s in SAMPLES if s["path"] == path and s["verb"] == "ADD" and s["mode"] == "seq"
               and s.get("tag", "") == tag and s.get("timeline_ms")]
        if not tls:
            continue
        med = {}
        for k in ("lsp", "plug", "installed"):
            v = [s["timeline_ms"][k] for s in tls if k in s["timeline_ms"]]
            med[k] = pct(v, 50)
        med["exit"] = pct([s["wall_ms"] for s in tls], 50)
        med["n"] = len(tls)
        R["timelines"][f"{path}/{tag}" if tag else path] = med
        P(f"  {label:<28} {fmt(med['lsp'], 10)} {fmt(med['plug'], 8)} "
          f"{fmt(med['installed'], 9)} {fmt(med['exit'], 7)} {med['n']:>4}")

    # The same ADDs as three spans each (p50, min, max): the plugin's work
    # before OVN can start (start -> plugged), OVN's part (plugged ->
    # installed), and what the plugin does after it (installed -> exit).
    # From the plugin's own timeline (its ADD log line: when its OVS
    # transaction was answered, when it saw ovn-installed) when it has one,
    # else from the DB monitors above (which lag on a loaded machine).
    P("")
    P("an ADD's three spans (sequential; ms; p50 min max): osn's own work is the first and the last")
    P(f"  {'path':<28} {'start->plugged':>20} {'plugged->installed':>20} {'installed->exit':>20} {'n':>4} from")
    R["spans"] = {}

    def marks(s):
        t = s.get("own_ms") or s.get("timeline_ms", {})
        return (t["plugged" if "own_ms" in s else "plug"], t["installed"]) \
            if ("plugged" in t or "plug" in t) and "installed" in t else None
    for path, tag, label in tl_rows:
        tls = [s for s in SAMPLES if s["path"] == path and s["verb"] == "ADD" and s["mode"] == "seq"
               and s.get("tag", "") == tag and marks(s)]
        if not tls:
            continue
        src = "plugin" if all("own_ms" in s for s in tls) else "monitors"
        spans = {
            "plug": [marks(s)[0] for s in tls],
            "ovn": [marks(s)[1] - marks(s)[0] for s in tls],
            "after": [s["wall_ms"] - marks(s)[1] for s in tls],
        }
        R["spans"][f"{path}/{tag}" if tag else path] = {
            k: {"p50": pct(v, 50), "min": min(v), "max": max(v)} for k, v in spans.items()}
        R["spans"][f"{path}/{tag}" if tag else path]["n"] = len(tls)
        R["spans"][f"{path}/{tag}" if tag else path]["from"] = src
        cols = " ".join(f"{pct(v, 50):>8.1f}{min(v):>6.1f}{max(v):>6.1f}" for v in spans.values())
        P(f"  {label:<28} {cols} {len(tls):>4} {src}")

    # Ratios and targets.
    P("")
    P("ratios and targets (sequential mode unless said; 'osn' is the pool path)")

    def ratio(name, a, b, target=None, op=None, unit="x", issue=None):
        if a is None or b is None or b == 0:
            P(f"  {name:<62} n/a")
            return
        v = a / b if unit == "x" else a - b
        R["ratios"][name] = v
        line = f"  {name:<62} {v:8.2f}{'x' if unit == 'x' else ' ms'}"
        if target is not None:
            ok = op(v, target)
            R["targets"].append({"name": name, "value": v, "target": target, "pass": ok,
                                 "issue": issue})
            line += f"   target {'<=' if op is LE else ('<' if op is LT else '>=')} {target:g}{'x' if unit == 'x' else ' ms'}: {verdict(ok)}"
        P(line)

    LE = lambda a, b: a <= b  # noqa: E731
    LT = lambda a, b: a < b  # noqa: E731
    GE = lambda a, b: a >= b  # noqa: E731
    if pts:
        lo, hi = pts[0], pts[-1]
        P(" port pools (issue 13):")
        ratio(f"pool ADD p50, +{hi} / +{lo} ports", L(f"osn/ADD/seq/n{hi}", "p50"),
              L(f"osn/ADD/seq/n{lo}", "p50"), 1.5, LE, issue=13)
        ratio(f"pool ADD p50 / OVN floor NB insert->installed p50, +{hi}", L(f"osn/ADD/seq/n{hi}", "p50"),
              L(f"floor/nb/seq/n{hi}", "p50"), 0.5, LE, issue=13)
        # The same target with the ports elsewhere in the NB (the control on
        # the seed network): what grows with the NB, not with the network.
        ratio(f"pool ADD p50 on a network of its own, +{hi} / +{lo} ports in the NB",
              L(f"osn/ADD/seq/ctln{hi}", "p50"), L(f"osn/ADD/seq/ctln{lo}", "p50"), 1.5, LE, issue=13)
    ratio("pool ADD p50 / bridge+host-local ADD p50, empty NB", L("osn/ADD/seq", "p50"),
          L("bridge/ADD/seq", "p50"), 0.8, LE, issue=13)
    if pts:
        ratio(f"no-pool ADD p50, +{hi} / +{lo} ports", L(f"osn-nopool/ADD/seq/n{hi}", "p50"),
              L(f"osn-nopool/ADD/seq/n{lo}", "p50"))
        for p in pts:
            ratio(f"pool / no-pool ADD p50, +{p}", L(f"osn/ADD/seq/n{p}", "p50"),
                  L(f"osn-nopool/ADD/seq/n{p}", "p50"))
    ratio("no-pool ADD p50 / bridge+host-local ADD p50, empty NB", L("osn-nopool/ADD/seq", "p50"),
          L("bridge/ADD/seq", "p50"))
    P(" earlier targets (issue 3), 'osn' = the pool path:")
    ratio("osn / bridge+host-local, ADD p50", L("osn/ADD/seq", "p50"), L("bridge/ADD/seq", "p50"), 1.0, LE, issue=3)
    ratio("osn / bridge+host-local, ADD p99", L("osn/ADD/seq", "p99"), L("bridge/ADD/seq", "p99"), 1.5, LE, issue=3)
    ratio("shell / osn, ADD p50", L("shell/ADD/seq", "p50"), L("osn/ADD/seq", "p50"), 5.0, GE, issue=3)
    ratio("osn own work: osn ADD p50 - floor (NB insert->installed) p50",
          L("osn/ADD/seq", "p50"), L("floor/nb/seq", "p50"), 10.0, LT, unit="ms", issue=3)
    ratio("osn own work: osn ADD p50 - floor (plug->installed) p50",
          L("osn/ADD/seq", "p50"), L("floor/plug/seq", "p50"), 10.0, LT, unit="ms", issue=3)
    sp = R.get("spans", {}).get("osn")
    if sp:
        own = sp["plug"]["p50"] + sp["after"]["p50"]
        ok = own <= 4.0
        R["ratios"]["osn own work: start->plugged + installed->exit, p50s"] = own
        R["targets"].append({"name": "osn own work: start->plugged + installed->exit, p50s",
                             "value": own, "target": 4.0, "pass": ok, "issue": 22})
        P(f"  {'osn own work: start->plugged + installed->exit, p50s':<62} {own:8.2f} ms"
          f"   target <= 4 ms: {verdict(ok)}")
    ratio(f"osn / bridge+host-local, ADD p50, {CONC} at once", L("osn/ADD/conc", "p50"), L("bridge/ADD/conc", "p50"))
    ratio(f"osn / bridge+host-local, ADD p99, {CONC} at once", L("osn/ADD/conc", "p99"), L("bridge/ADD/conc", "p99"))
    ratio(f"osn pools off / bridge+host-local, ADD p50, {CONC} at once", L("osn-nopool/ADD/conc", "p50"),
          L("bridge/ADD/conc", "p50"))
    ratio(f"shell / osn, ADD p50, {CONC} at once", L("shell/ADD/conc", "p50"), L("osn/ADD/conc", "p50"))
    ratio("osn / bridge+host-local, DEL p50", L("osn/DEL/seq", "p50"), L("bridge/DEL/seq", "p50"))
    ratio("shell / osn, DEL p50", L("shell/DEL/seq", "p50"), L("osn/DEL/seq", "p50"))
    if FAILURES:
        P("")
        P(f"{len(FAILURES)} failed job(s) (not in the statistics); first: {FAILURES[0].get('error', '')[:200]}")
    return R, lines


# ---------------------------------------------------------------- main

def versions():
    def first_line(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.splitlines()[0]
        except Exception:
            return "?"
    bt = "?"
    try:
        with open(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
                os.environ.get("BENCH_PLUGIN_SRC", PLUGIN)))),
                               "meson-info", "intro-buildoptions.json")) as f:
            bt = next(o["value"] for o in json.load(f) if o["name"] == "buildtype")
    except Exception:
        pass
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "kernel": platform.release(), "cpus": os.cpu_count(),
        "ovs": first_line(["ovs-vsctl", "--version"]),
        "ovn": first_line(["ovn-nbctl", "--version"]),
        "cni_plugins": first_line(["dpkg-query", "-W", "-f", "${Version}", "containernetworking-plugins"]),
        "plugin": os.environ.get("BENCH_PLUGIN_SRC", PLUGIN), "plugin_buildtype": bt,
        "plugin_sha256": hashlib.sha256(open(PLUGIN, "rb").read()).hexdigest(),
        "loadavg_start": open("/proc/loadavg").read().split()[:3],
    }


def place_seq(path, i, tag=""):
    return [(1, f"{path}-s{tag}{i}", pod("seq1"))]


def place_conc(path, r):
    per = [CONC // NODES + (1 if k < CONC % NODES else 0) for k in range(NODES)]
    out = []
    for n in range(1, NODES + 1):
        for k in range(per[n - 1]):
            out.append((n, f"{path}-c{r}-{n}{k}", pod(f"conc{n}{k}")))
    return out


def ping(pod_name, addr):
    ns = os.path.basename(PODS[pod_name])
    r = subprocess.run(["ip", "netns", "exec", ns, "ping", "-c", "2", "-i", "0.2", "-W", "2", addr],
                       capture_output=True, timeout=15)
    return r.returncode == 0


def first_ip(result_json):
    try:
        return json.loads(result_json)["ips"][0]["address"].split("/")[0]
    except Exception:
        return None


def anchors(path, nad=None, tag="a"):
    """One long-lived attachment per node, so the network (and its datapath
    on every chassis) exists before and after every measured cycle: the
    cycles measure the steady state, not network creation."""
    ips = {}
    for n in range(1, NODES + 1):
        r = run_batch(path, "ADD", "anchor", [(n, f"anchor-{path}-{tag}-{n}", pod(f"anc-{path}-{tag}-{n}"))],
                      nad=nad)[0]
        if r["rc"] != 0:
            raise RuntimeError(f"anchor {path} on node{n} failed: {r.get('error')}")
        ips[n] = first_ip(r["out"])
    settle()
    return ips


def prefill(switch, network, start, count):
    """count more ports (numbers start..start+count-1) in one NB transaction,
    as osn makes them (its external_ids and address claims, static "MAC IP"
    addresses in the scale network's 10.100.0.0/16, from .16 on), not
    plugged; waits for every chassis to catch up."""
    network = net_key(network)
    ops = []
    names = []
    for i in range(start, start + count):
        cid = f"prefill{i}"
        name = f"osn.{network}.{cid}.net1"
        names.append(["named-uuid", f"p{i}"])
        v = 16 + i
        ip = f"10.100.{(v >> 8) & 0xff}.{v & 0xff}"
        mac = "0a:58:0a:64:%02x:%02x" % ((v >> 8) & 0xff, v & 0xff)
        ids = {"osn/network": network, "osn/container-id": cid, "osn/ifname": "net1",
               "osn/node": f"osn-node{1 + i % NODES}", "osn/pod-namespace": "bench",
               "osn/pod-name": cid, "osn/pod-uid": "", "osn/nad": "",
               f"osn/ip/{ip}": network, f"osn/mac/{mac}": network}
        ops.append({"op": "insert", "table": "Logical_Switch_Port", "uuid-name": f"p{i}",
                    "row": {"name": name, "addresses": f"{mac} {ip}",
                            "port_security": f"{mac} {ip}",
                            "external_ids": ovsdb.ovs_map(ids)}})
    ops.append({"op": "mutate", "table": "Logical_Switch", "where": [["name", "==", switch]],
                "mutations": [["ports", "insert", ["set", names]]]})
    t0 = time.monotonic()
    NB.transact("OVN_Northbound", ops, time.monotonic() + 120)
    t_txn = time.monotonic() - t0
    settle(timeout=120)
    t_hv = time.monotonic() - t0
    return {"ports": count, "total": start + count, "txn_s": t_txn, "hv_sync_s": t_hv}


def main():
    global NB
    t_start = time.monotonic()
    meta = versions()
    phase_s = {}
    NB = ovsdb.Client(NB_REMOTE)
    write_osn_cfgs()
    meta["pool_size"] = POOL_SIZE
    meta["warm_ports"] = WARM if POOL_SIZE else 0
    meta["spares"] = {}
    for n in range(1, NODES + 1):
        WORKERS[n] = Worker(n)
    error = None
    try:
        for n in range(1, NODES + 1):
            WORKERS[n].call({"op": "ping"}, timeout=30)
        WORKERS[1].call({"op": "settle"}, timeout=30)  # opens node1's OVSDB monitors

        # ---- what starting a program costs: the launcher's own floor
        # (/bin/true) and each plugin's VERSION (exec, runtime start, exit).
        t = time.monotonic()
        env = {"PATH": os.environ.get("PATH", ""), "CNI_COMMAND": "VERSION", "OSN_CONFIG": node_cfg(1)}
        for name, argv, stdin in (("true", ["/bin/true"], ""),
                                  ("osn", [PLUGIN], '{"cniVersion":"1.0.0"}'),
                                  ("bridge", [os.path.join(BRIDGE_DIR, "bridge")], '{"cniVersion":"1.0.0"}')):
            for i in range(STARTUP_N):
                r = WORKERS[1].call({"op": "spawn", "timeout": 30,
                                     "jobs": [{"argv": argv, "env": env, "stdin": stdin}]})["results"][0]
                if r["rc"] == 0:
                    SAMPLES.append({"path": name, "verb": "VERSION", "mode": "seq", "tag": "", "node": 1,
                                    "wall_ms": r["wall_ns"] / 1e6, "cpu_ms": (r["utime"] + r["stime"]) * 1e3,
                                    "maxrss_kib": r["maxrss"]})
        phase_s["startup"] = time.monotonic() - t

        # ---- anchors and a functional check of each path
        t = time.monotonic()
        osn_anchor = anchors("osn")  # with pools: the first one fills the seed network's pool
        meta["spares"]["seed net after its anchors"] = count_spares(SEED_NAD["name"])
        # The shell peer's switch is made here, not by its first ADD: OVN
        # 26.03.1's northd gives a port made in one transaction with its
        # switch no dynamic address until the NB changes again.  Its ADDs
        # (--may-exist) are the same one transaction either way.
        sbx("nbctl", "--may-exist", "ls-add", f"shell.{SHELL_NET}", "--", "set", "Logical_Switch",
            f"shell.{SHELL_NET}", f"other_config:subnet={SHELL_SUBNET}")
        shell_anchor = anchors("shell")
        checks = {}
        for path, anchor in (("osn", osn_anchor), ("shell", shell_anchor)):
            a = run_batch(path, "ADD", "check", [(1, f"check-{path}", pod(f"check-{path}"))])[0]
            ip = first_ip(a["out"])
            ok = a["rc"] == 0 and ip is not None and ping(f"check-{path}", anchor[3])
            checks[path] = {"add_rc": a["rc"], "ip": ip, "pings_node3_anchor": ok}
            run_batch(path, "DEL", "check", [(1, f"check-{path}", f"check-{path}")])
            log(f"check {path}: node1 pod {ip} -> node3 anchor {anchor[3]}: {'ok' if ok else 'FAILED'}")
        b = run_batch("bridge", "ADD", "check", [(1, "check-bridge", pod("check-bridge"))])[0]
        checks["bridge"] = {"add_rc": b["rc"], "ip": first_ip(b["out"])}
        run_batch("bridge", "DEL", "check", [(1, "check-bridge", "check-bridge")])
        meta["checks"] = checks
        settle()
        phase_s["setup"] = time.monotonic() - t

        # ---- sequential, interleaved
        t = time.monotonic()
        nseq = max(SEQ, SHELL_SEQ, FLOOR_N)
        for i in range(nseq):
            if i < SEQ:
                cycle("osn", "seq", place_seq("osn", i))
                cycle("osn-nopool", "seq", place_seq("osn-nopool", i))
                cycle("bridge", "seq", place_seq("bridge", i))
            if i < SHELL_SEQ:
                cycle("shell", "seq", place_seq("shell", i))
            if i < FLOOR_N:
                floor_sample("plug", 1, "osn." + net_key("tenant-overlay"), i, "")
                floor_sample("nb", 1, "osn." + net_key("tenant-overlay"), i, "")
            if (i + 1) % 20 == 0:
                log(f"sequential: {i + 1}/{nseq}")
        phase_s["sequential"] = time.monotonic() - t

        # ---- N at once across the nodes
        t = time.monotonic()
        for r in range(max(CONC_ROUNDS, SHELL_CONC_ROUNDS)):
            if r < CONC_ROUNDS:
                cycle("osn", "conc", place_conc("osn", r))
                cycle("osn-nopool", "conc", place_conc("osn-nopool", r))
                cycle("bridge", "conc", place_conc("bridge", r))
            if r < SHELL_CONC_ROUNDS:
                cycle("shell", "conc", place_conc("shell", r))
        log(f"{CONC} at once: {max(CONC_ROUNDS, SHELL_CONC_ROUNDS)} rounds done")
        phase_s["concurrent"] = time.monotonic() - t

        # ---- scale: the same measurements at each NB size, filled
        # cumulatively into the scale network, which the measured cycles use
        # (the worst case: the network's own size and the NB's).  The
        # anchors (one long-lived pod per node, added with pools) keep the
        # network, and so its pool, alive between the cycles.
        if SCALE_POINTS and SCALE_SEQ > 0:
            t = time.monotonic()
            anchors("osn", nad=SCALE_NAD, tag="scale")
            sw = "osn." + net_key(SCALE_NAD["name"])
            meta["prefill"] = []
            meta["scale_round_s"] = {}
            filled = 0
            for pt in SCALE_POINTS:
                if pt > filled:
                    log(f"prefilling {pt - filled} ports into {sw} (to {pt})")
                    pf = prefill(sw, SCALE_NAD["name"], filled, pt - filled)
                    meta["prefill"].append(pf)
                    log("prefill: " + json.dumps(pf))
                    filled = pt
                tag = f"n{pt}"
                tr = time.monotonic()
                meta["spares"][f"scale net +{pt} before"] = count_spares(SCALE_NAD["name"])
                # Interleaved sample by sample: the pool path, the path
                # without pools, OVN's two floors on the same switch, and
                # (a control) the pool path on the seed network, which holds
                # no prefilled ports: what grows with the NB, not the network.
                for i in range(max(SCALE_SEQ, SCALE_FLOOR)):
                    if i < SCALE_SEQ:
                        cycle("osn", "seq", [(1, f"osn-{tag}-{i}", pod("seq1"))], tag=tag, nad=SCALE_NAD)
                        cycle("osn-nopool", "seq", [(1, f"osnnp-{tag}-{i}", pod("seq1"))], tag=tag,
                              nad=SCALE_NAD)
                    if i < SCALE_FLOOR:
                        floor_sample("plug", 1, sw, i, tag)
                        floor_sample("nb", 1, sw, i, tag)
                    if i < SCALE_CTL:
                        cycle("osn", "seq", [(1, f"osn-ctl{tag}-{i}", pod("seq1"))], tag="ctl" + tag)
                if pt > 0:
                    for i in range(SCALE_SHELL):
                        cycle("shell", "seq", place_seq("shell", i, tag), tag=tag)
                meta["spares"][f"scale net +{pt} after"] = count_spares(SCALE_NAD["name"])
                meta["scale_round_s"][tag] = time.monotonic() - tr
                log(f"scale +{pt}: {meta['scale_round_s'][tag]:.0f} s")
            phase_s["scale"] = time.monotonic() - t
    except (RuntimeError, OSError, ovsdb.OvsdbError, subprocess.SubprocessError) as e:
        # Report what was measured so far, then fail.
        error = f"{type(e).__name__}: {e}"
        log(f"benchmark aborted: {error}")
    finally:
        for w in WORKERS.values():
            w.stop()
        NB.close()
    meta["aborted"] = error

    phase_s["total_bench_py"] = time.monotonic() - t_start
    meta["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    R, lines = report(meta, phase_s)
    R["samples"] = [{k: v for k, v in s.items() if k != "out"} for s in SAMPLES]
    for f in FAILURES:
        f.pop("out", None)
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump(R, f, indent=1)
    text = "\n".join(lines) + "\n"
    with open(os.path.join(OUT, "results.txt"), "w") as f:
        f.write(text)
    sel = lambda p, v, m, tag="": select_samples(p, v, m, tag)  # noqa: E731
    lo, hi = (SCALE_POINTS[0], SCALE_POINTS[-1]) if SCALE_POINTS else (0, 0)

    def pq(key):
        out = {}
        for p in SCALE_POINTS:
            st = R["latency_ms"].get(f"{key}/n{p}")
            if st:
                out[p] = (st["p50"], st["p99"])
        return out
    svg_plot([
        ("cdf", "ADD, sequential, empty NB", [
            (OSN_LABEL, "pool", sel("osn", "ADD", "seq"), False),
            ("osn, pools off", "nopool", sel("osn-nopool", "ADD", "seq"), False),
            ("bridge+host-local", "bridge", sel("bridge", "ADD", "seq"), False),
            ("shell", "shell", sel("shell", "ADD", "seq"), False),
            ("OVN floor plug", "plug", sel("floor", "plug", "seq"), False),
            ("OVN floor NB", "nb", sel("floor", "nb", "seq"), False)]),
        ("cdf", f"ADD, {CONC} at once on {NODES} nodes", [
            (OSN_LABEL, "pool", sel("osn", "ADD", "conc"), False),
            ("osn, pools off", "nopool", sel("osn-nopool", "ADD", "conc"), False),
            ("bridge+host-local", "bridge", sel("bridge", "ADD", "conc"), False),
            ("shell", "shell", sel("shell", "ADD", "conc"), False)]),
        ("cdf", f"ADD on the scale network, +{lo} (solid) and +{hi} ports (dashed)", [
            (f"pools, +{lo}", "pool", sel("osn", "ADD", "seq", f"n{lo}"), False),
            (f"pools, +{hi}", "pool", sel("osn", "ADD", "seq", f"n{hi}"), True),
            (f"pools off, +{lo}", "nopool", sel("osn-nopool", "ADD", "seq", f"n{lo}"), False),
            (f"pools off, +{hi}", "nopool", sel("osn-nopool", "ADD", "seq", f"n{hi}"), True),
            (f"OVN floor NB, +{lo}", "nb", sel("floor", "nb", "seq", f"n{lo}"), False),
            (f"OVN floor NB, +{hi}", "nb", sel("floor", "nb", "seq", f"n{hi}"), True)]),
        ("xy", "ADD p50 and p99 vs NB size", SCALE_POINTS, [
            (OSN_LABEL, "pool", pq("osn/ADD/seq")),
            ("osn, pools off", "nopool", pq("osn-nopool/ADD/seq")),
            ("OVN floor plug->installed", "plug", pq("floor/plug/seq")),
            ("OVN floor NB insert->installed", "nb", pq("floor/nb/seq"))]),
    ], os.path.join(OUT, "latency.svg"))
    print(text, end="")
    if error:
        print(f"\nABORTED: {error} (the numbers above are partial)")
    print(f"\nwrote {OUT}/results.json, results.txt, latency.svg "
          f"(bench.py {time.monotonic() - t_start:.0f} s; phases: "
          + ", ".join(f"{k} {v:.0f} s" for k, v in phase_s.items() if k != "total_bench_py") + ")")
    if error:
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        log("interrupted")
        sys.exit(130)
