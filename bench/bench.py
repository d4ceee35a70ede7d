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
  osn      the plugin ($OSN_BUILD/src/plugin/ovn-kubernetes), the seed's NAD
  bridge   Debian's bridge + host-local CNI plugins in the same node netns
  shell    bench/shell-attach.sh: the same attach with ovn-nbctl/ovs-vsctl/ip
  floor    OVN alone, timed over our own OVSDB connections:
             plug     OVS port with iface-id of an existing LSP -> ovn-installed
             nb       LSP insert ("MAC dynamic", port already plugged) ->
                      ovn-installed; and -> dynamic_addresses (northd's IPAM)
Sequential ADDs are also traced through the floor's OVSDB monitors (when the
port appeared in NB, got its address, was plugged, was installed), and the
scale rounds interleave ADDs on the seed network as a control.
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
SCALE_PORTS = env_int("BENCH_SCALE_PORTS", 2000)
SCALE_SEQ = env_int("BENCH_SCALE_SEQ", 20)
SCALE_SHELL = env_int("BENCH_SCALE_SHELL", 5)
MAX_FAILURES = env_int("BENCH_MAX_FAILURES", 10)
STARTUP_N = env_int("BENCH_STARTUP", 20)
JOB_TIMEOUT = 60  # s; the plugin's own bound is ready_timeout_ms (20 s)

BRIDGE_DIR = "/usr/lib/cni"
SEED_NAD = {"cniVersion": "0.3.1", "type": "ovn-kubernetes", "name": "tenant-overlay",
            "subnet": "10.10.10.0/24"}
SCALE_NAD = {"cniVersion": "0.3.1", "type": "ovn-kubernetes", "name": "tenant-scale",
             "subnet": "10.100.0.0/20"}
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

def cni_env(verb, n, cid, netns, pod):
    return {
        "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
        "CNI_COMMAND": verb, "CNI_CONTAINERID": cid, "CNI_NETNS": netns,
        "CNI_IFNAME": "net1", "CNI_PATH": "/opt/cni/bin",
        "CNI_ARGS": f"IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME={pod};"
                    f"K8S_POD_INFRA_CONTAINER_ID={cid}",
        "OSN_CONFIG": node_cfg(n),
    }


def osn_job(verb, n, cid, pod, nad=SEED_NAD):
    return {"argv": [PLUGIN], "env": cni_env(verb, n, cid, PODS[pod], pod),
            "stdin": json.dumps(nad), "lsp": f"osn.{nad['name']}.{cid}.net1"}


def bridge_job(verb, n, cid, pod):
    env = cni_env(verb, n, cid, PODS[pod], pod)
    env["CNI_PATH"] = BRIDGE_DIR
    conf = {"cniVersion": "0.3.1", "name": "bench-bridge", "type": "bridge",
            "bridge": "benchbr0", "isGateway": False, "ipMasq": False, "mtu": 1442,
            "ipam": {"type": "host-local", "subnet": BRIDGE_SUBNET,
                     "dataDir": os.path.join(SDIR, "bench-hostlocal", f"node{n}")}}
    return {"argv": [os.path.join(BRIDGE_DIR, "bridge")], "env": env, "stdin": json.dumps(conf)}


def shell_job(verb, n, cid, pod):
    env = cni_env(verb, n, cid, PODS[pod], pod)
    env.update(SHELL_NB=NB_REMOTE, SHELL_NET=SHELL_NET, SHELL_SUBNET=SHELL_SUBNET,
               OVS_RUNDIR=os.path.join(SDIR, f"node{n}"), OVN_RUNDIR=os.path.join(SDIR, f"node{n}"))
    return {"argv": ["/bin/bash", os.path.join(HERE, "shell-attach.sh")], "env": env,
            "lsp": f"shell.{SHELL_NET}.{cid}.net1"}


JOBS = {"osn": osn_job, "bridge": bridge_job, "shell": shell_job}


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
        job = osn_job(verb, n, cid, p, nad) if (path == "osn" and nad) else JOBS[path](verb, n, cid, p)
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
    return {"osn": PLUGIN, "bridge": os.path.join(BRIDGE_DIR, "bridge"), "shell": "bash"}[path]


def cycle(path, mode, placed, tag="", nad=None, settle_after=True):
    """ADD all of 'placed' at once, then DEL all at once."""
    adds = run_batch(path, "ADD", mode, placed, tag, nad)
    run_batch(path, "DEL", mode, placed, tag, nad)
    for a in adds:
        if a["rc"] != 0:  # never reuse a pod netns a failed ADD may have dirtied
            renew_pod(a["pod"])
    if settle_after and path != "bridge":
        settle()
    return adds


def floor_sample(kind, n, switch, i, tag):
    port = f"bench-floor-{tag}-{kind}-{i}"
    host = f"bf{kind[0]}{tag[:1]}{tag[-1:]}{i}"[:15]
    mac = "0a:%02x:%02x:00:%02x:%02x" % (0xfe, {"plug": 1, "nb": 2}[kind], (i >> 8) & 0xff, i & 0xff)
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

COLORS = {"osn": "#1f77b4", "bridge+host-local": "#2ca02c", "shell": "#d62728",
          "OVN floor plug": "#7f7f7f", "OVN floor NB": "#bcbd22", "osn, prefilled": "#9467bd",
          "OVN floor NB, prefilled": "#8c564b", "osn, before": "#17becf",
          "OVN floor NB, before": "#e377c2"}


def svg_plot(panels, path):
    """panels: [(title, [(label, [ms...])])] -> latency CDFs, log-x, one
    panel each, side by side.  Plain SVG, no dependencies."""
    W, H, ML, MR, MT, MB = 430, 330, 55, 15, 30, 95
    total_w = W * len(panels)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{H}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="{total_w}" height="{H}" fill="white"/>']
    for pi, (title, series) in enumerate(panels):
        x0 = pi * W
        allv = [v for _, vs in series for v in vs if v > 0]
        if not allv:
            continue
        lo = 10 ** math.floor(math.log10(min(allv)))
        hi = 10 ** math.ceil(math.log10(max(allv)))
        pw, ph = W - ML - MR, H - MT - MB

        def X(v):
            return x0 + ML + pw * (math.log10(max(v, lo)) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))

        def Y(f):
            return MT + ph * (1 - f)
        out.append(f'<text x="{x0 + W / 2}" y="18" text-anchor="middle" font-size="13">{title}</text>')
        out.append(f'<rect x="{x0 + ML}" y="{MT}" width="{pw}" height="{ph}" fill="none" stroke="#333"/>')
        d = lo
        while d <= hi * 1.0001:
            for m in (1, 2, 5):
                v = d * m
                if v > hi * 1.0001:
                    break
                xx = X(v)
                out.append(f'<line x1="{xx:.1f}" y1="{MT}" x2="{xx:.1f}" y2="{MT + ph}" stroke="#ddd"/>')
                out.append(f'<text x="{xx:.1f}" y="{MT + ph + 13}" text-anchor="middle">{v:g}</text>')
            d *= 10
        for f in (0, 0.25, 0.5, 0.75, 0.9, 1):
            yy = Y(f)
            out.append(f'<line x1="{x0 + ML}" y1="{yy:.1f}" x2="{x0 + ML + pw}" y2="{yy:.1f}" stroke="#eee"/>')
            out.append(f'<text x="{x0 + ML - 4}" y="{yy + 4:.1f}" text-anchor="end">{f:g}</text>')
        out.append(f'<text x="{x0 + ML + pw / 2}" y="{MT + ph + 28}" text-anchor="middle">latency, ms (log)</text>')
        for si, (label, vs) in enumerate(series):
            if not vs:
                continue
            vs = sorted(vs)
            n = len(vs)
            pts = [(X(vs[0]), Y(0))]
            for i, v in enumerate(vs):
                pts.append((X(v), Y(i / n)))
                pts.append((X(v), Y((i + 1) / n)))
            col = COLORS.get(label, "#000")
            out.append('<polyline fill="none" stroke-width="1.8" stroke="%s" points="%s"/>' % (
                col, " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)))
            ly = MT + ph + 42 + 13 * (si // 2)
            lx = x0 + ML + (si % 2) * (pw / 2)
            out.append(f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 18}" y2="{ly - 4}" stroke="{col}" stroke-width="3"/>')
            out.append(f'<text x="{lx + 22}" y="{ly}">{label} (n={n})</text>')
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
        "conc_rounds": CONC_ROUNDS, "shell_conc_rounds": SHELL_CONC_ROUNDS,
        "scale_ports": SCALE_PORTS, "scale_seq": SCALE_SEQ, "scale_shell": SCALE_SHELL},
        "latency_ms": {}, "resources": {}, "ratios": {}, "targets": [], "failures": FAILURES}
    lines = []
    P = lines.append
    rows = [
        ("osn", "ADD", "seq", ""), ("osn", "DEL", "seq", ""),
        ("bridge", "ADD", "seq", ""), ("bridge", "DEL", "seq", ""),
        ("shell", "ADD", "seq", ""), ("shell", "DEL", "seq", ""),
        ("osn", "ADD", "conc", ""), ("osn", "DEL", "conc", ""),
        ("bridge", "ADD", "conc", ""), ("bridge", "DEL", "conc", ""),
        ("shell", "ADD", "conc", ""), ("shell", "DEL", "conc", ""),
        ("floor", "plug", "seq", ""), ("floor", "nb", "seq", ""), ("floor", "nb-addr", "seq", ""),
        ("osn", "ADD", "seq", "scale0"), ("osn", "DEL", "seq", "scale0"),
        ("floor", "plug", "seq", "scale0"), ("floor", "nb", "seq", "scale0"),
        ("floor", "nb-addr", "seq", "scale0"),
        ("osn", "ADD", "seq", "scale"), ("osn", "DEL", "seq", "scale"),
        ("floor", "plug", "seq", "scale"), ("floor", "nb", "seq", "scale"),
        ("floor", "nb-addr", "seq", "scale"),
        ("osn", "ADD", "seq", "ctl0"), ("osn", "ADD", "seq", "ctl"),
        ("shell", "ADD", "seq", "scale"),
    ]
    names = {"osn": "osn", "bridge": "bridge+host-local", "shell": "shell script",
             "floor": "OVN floor"}
    verbs = {"plug": "plug->installed", "nb": "NB insert->installed",
             "nb-addr": "NB insert->row seen"}
    modes = {"seq": "sequential", "conc": f"{CONC} at once"}
    tags = {"": "", "scale0": " [scale net, before]", "scale": f" [+{SCALE_PORTS} ports]",
            "ctl0": " [seed net, before]", "ctl": " [seed net, after]"}
    OW = max(len(verbs.get(v, v) + tags[t]) for _, v, _, t in rows)
    P(f"{'path':<18} {'op':<{OW}} {'mode':<11} {'n':>4} {'p50':>8} {'p90':>8} {'p99':>8} {'min':>8} {'max':>8}   (ms)")
    for path, verb, mode, tag in rows:
        st = stats(select_samples(path, verb, mode, tag))
        key = f"{path}/{verb}/{mode}" + (f"/{tag}" if tag else "")
        R["latency_ms"][key] = st
        if st is None:
            continue
        P(f"{names[path]:<18} {verbs.get(verb, verb) + tags[tag]:<{OW}} {modes[mode]:<11} {st['n']:>4} "
          f"{fmt(st['p50'])} {fmt(st['p90'])} {fmt(st['p99'])} {fmt(st['min'])} {fmt(st['max'])}")

    for verb, label in (("plug", "plug->installed"), ("nb", "NB insert->installed")):
        ts = [s["ovn_ts_ms"] for s in SAMPLES if s["path"] == "floor" and s["verb"] == verb
              and s.get("tag", "") == "" and s.get("ovn_ts_ms") is not None]
        if ts:
            R["latency_ms"][f"floor/{verb}/seq/ovn-installed-ts"] = stats(ts)
            P(f"  (cross-check: by ovn-controller's own ovn-installed-ts, {label} p50 is {pct(ts, 50):.1f} ms;"
              f" ms resolution, before the OVS DB write reaches anyone)")

    def L(key, q):
        st = R["latency_ms"].get(key)
        return st[q] if st else None

    # Resources per ADD (sequential; the child plus what it reaped).
    P("")
    P(f"{'per ADD (sequential)':<22} {'CPU ms p50':>10} {'CPU ms mean':>11} {'user':>6} {'sys':>6} {'peak RSS KiB p50':>17} {'max':>6}")
    for path in ("osn", "bridge", "shell"):
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
    for path in ("osn",):
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
        P(f"osn ADD p50: {osn_wall:.1f} ms wall, of which {osn_cpu['p50']:.1f} ms on a CPU "
          f"(the rest is waiting: OVN, the kernel, the DB servers)")

    # Timelines: when each step of a sequential ADD became visible in the
    # DBs, from the program's start (medians).
    P("")
    P("where an ADD's time goes (sequential, medians, ms from the program's start; seen in NB/OVS)")
    P(f"  {'path':<28} {'LSP in NB':>9} {'address':>8} {'plugged':>8} {'installed':>9} {'exit':>7}")
    R["timelines"] = {}
    for path, tag, label in (("osn", "", "osn"), ("shell", "", "shell script"),
                             ("osn", "scale0", "osn [scale net, before]"),
                             ("osn", "scale", f"osn [+{SCALE_PORTS} ports]")):
        tls = [s for s in SAMPLES if s["path"] == path and s["verb"] == "ADD" and s["mode"] == "seq"
               and s.get("tag", "") == tag and s.get("timeline_ms")]
        if not tls:
            continue
        med = {}
        for k in ("lsp", "addr", "plug", "installed"):
            v = [s["timeline_ms"][k] for s in tls if k in s["timeline_ms"]]
            med[k] = pct(v, 50)
        med["exit"] = pct([s["wall_ms"] for s in tls], 50)
        med["n"] = len(tls)
        R["timelines"][f"{path}/{tag}" if tag else path] = med
        P(f"  {label:<28} {fmt(med['lsp'], 9)} {fmt(med['addr'], 8)} {fmt(med['plug'], 8)} "
          f"{fmt(med['installed'], 9)} {fmt(med['exit'], 7)}")

    # Ratios and targets.
    P("")
    P("ratios and targets (sequential mode unless said)")

    def ratio(name, a, b, target=None, op=None, unit="x"):
        if a is None or b is None or b == 0:
            P(f"  {name:<58} n/a")
            return
        v = a / b if unit == "x" else a - b
        R["ratios"][name] = v
        line = f"  {name:<58} {v:8.2f}{'x' if unit == 'x' else ' ms'}"
        if target is not None:
            ok = op(v, target)
            R["targets"].append({"name": name, "value": v, "target": target, "pass": ok})
            line += f"   target {'<=' if op is LE else ('<' if op is LT else '>=')} {target:g}{'x' if unit == 'x' else ' ms'}: {verdict(ok)}"
        P(line)

    LE = lambda a, b: a <= b  # noqa: E731
    LT = lambda a, b: a < b  # noqa: E731
    GE = lambda a, b: a >= b  # noqa: E731
    ratio("osn / bridge+host-local, ADD p50", L("osn/ADD/seq", "p50"), L("bridge/ADD/seq", "p50"), 1.0, LE)
    ratio("osn / bridge+host-local, ADD p99", L("osn/ADD/seq", "p99"), L("bridge/ADD/seq", "p99"), 1.5, LE)
    ratio("shell / osn, ADD p50", L("shell/ADD/seq", "p50"), L("osn/ADD/seq", "p50"), 5.0, GE)
    ratio("osn own work: osn ADD p50 - floor (NB insert->installed) p50",
          L("osn/ADD/seq", "p50"), L("floor/nb/seq", "p50"), 10.0, LT, unit="ms")
    ratio("osn own work: osn ADD p50 - floor (plug->installed) p50",
          L("osn/ADD/seq", "p50"), L("floor/plug/seq", "p50"), 10.0, LT, unit="ms")
    ratio(f"osn / bridge+host-local, ADD p50, {CONC} at once", L("osn/ADD/conc", "p50"), L("bridge/ADD/conc", "p50"))
    ratio(f"osn / bridge+host-local, ADD p99, {CONC} at once", L("osn/ADD/conc", "p99"), L("bridge/ADD/conc", "p99"))
    ratio(f"shell / osn, ADD p50, {CONC} at once", L("shell/ADD/conc", "p50"), L("osn/ADD/conc", "p50"))
    ratio("osn / bridge+host-local, DEL p50", L("osn/DEL/seq", "p50"), L("bridge/DEL/seq", "p50"))
    ratio("shell / osn, DEL p50", L("shell/DEL/seq", "p50"), L("osn/DEL/seq", "p50"))

    P("")
    P(f"scale: the network holds {SCALE_PORTS} more ports (growth of p50 from the same network before the prefill)")
    g = {}
    for label, key in (("osn ADD", "osn/ADD/seq"), ("osn DEL", "osn/DEL/seq"),
                       ("OVN floor plug->installed", "floor/plug/seq"),
                       ("OVN floor NB insert->installed", "floor/nb/seq"),
                       ("OVN floor NB insert->row seen", "floor/nb-addr/seq")):
        a, b = L(key + "/scale0", "p50"), L(key + "/scale", "p50")
        if a is None or b is None:
            continue
        g[label] = {"before_p50": a, "after_p50": b, "growth_ms": b - a}
        P(f"  {label:<32} p50 {a:7.1f} -> {b:7.1f} ms   growth {b - a:+7.1f} ms")
    if "osn ADD" in g and "OVN floor NB insert->installed" in g:
        own0 = g["osn ADD"]["before_p50"] - g["OVN floor NB insert->installed"]["before_p50"]
        own1 = g["osn ADD"]["after_p50"] - g["OVN floor NB insert->installed"]["after_p50"]
        g["osn own work (ADD - NB floor)"] = {"before_p50": own0, "after_p50": own1, "growth_ms": own1 - own0}
        P(f"  {'osn own work (ADD - NB floor)':<32} p50 {own0:7.1f} -> {own1:7.1f} ms   growth {own1 - own0:+7.1f} ms")
    a, b = L("osn/ADD/seq/ctl0", "p50"), L("osn/ADD/seq/ctl", "p50")
    if a is not None and b is not None:
        g["osn ADD on the seed network (control)"] = {"before_p50": a, "after_p50": b, "growth_ms": b - a}
        P(f"  {'osn ADD, seed network (control)':<32} p50 {a:7.1f} -> {b:7.1f} ms   growth {b - a:+7.1f} ms")
    a, b = L("shell/ADD/seq", "p50"), L("shell/ADD/seq/scale", "p50")
    if a is not None and b is not None:
        g["shell ADD (other network)"] = {"before_p50": a, "after_p50": b, "growth_ms": b - a}
        P(f"  {'shell ADD (its own network)':<32} p50 {a:7.1f} -> {b:7.1f} ms   growth {b - a:+7.1f} ms")
    R["scale"] = g
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


def prefill(switch, network, count):
    """count ports in one NB transaction, as osn makes them (its
    external_ids and address claims, static "MAC IP" addresses in the scale
    network's 10.100.0.0/20, from .16 on), not plugged; waits for every
    chassis to catch up."""
    ops = []
    names = []
    for i in range(count):
        cid = f"prefill{i}"
        name = f"osn.{network}.{cid}.net1"
        names.append(["named-uuid", f"p{i}"])
        v = 16 + i
        ip = f"10.100.{(v >> 8) & 0x0f}.{v & 0xff}"
        mac = "0a:58:0a:64:%02x:%02x" % ((v >> 8) & 0x0f, v & 0xff)
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
    t_addr = time.monotonic() - t0
    settle(timeout=120)
    t_hv = time.monotonic() - t0
    return {"ports": count, "txn_s": t_txn, "addresses_s": t_addr, "hv_sync_s": t_hv}


def main():
    global NB
    t_start = time.monotonic()
    meta = versions()
    phase_s = {}
    NB = ovsdb.Client(NB_REMOTE)
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
        osn_anchor = anchors("osn")
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
                cycle("bridge", "seq", place_seq("bridge", i))
            if i < SHELL_SEQ:
                cycle("shell", "seq", place_seq("shell", i))
            if i < FLOOR_N:
                floor_sample("plug", 1, "osn.tenant-overlay", i, "")
                floor_sample("nb", 1, "osn.tenant-overlay", i, "")
            if (i + 1) % 20 == 0:
                log(f"sequential: {i + 1}/{nseq}")
        phase_s["sequential"] = time.monotonic() - t

        # ---- N at once across the nodes
        t = time.monotonic()
        for r in range(max(CONC_ROUNDS, SHELL_CONC_ROUNDS)):
            if r < CONC_ROUNDS:
                cycle("osn", "conc", place_conc("osn", r))
                cycle("bridge", "conc", place_conc("bridge", r))
            if r < SHELL_CONC_ROUNDS:
                cycle("shell", "conc", place_conc("shell", r))
        log(f"{CONC} at once: {max(CONC_ROUNDS, SHELL_CONC_ROUNDS)} rounds done")
        phase_s["concurrent"] = time.monotonic() - t

        # ---- scale: the same measurements before and after a big prefill
        if SCALE_PORTS > 0 and SCALE_SEQ > 0:
            t = time.monotonic()
            anchors("osn", nad=SCALE_NAD, tag="scale")
            sw = "osn." + SCALE_NAD["name"]

            def scale_round(tag, ctl):
                # Interleaved with cycles on the seed network (not prefilled):
                # a control for whatever else changes between the two rounds
                # (machine load, the DB's total size).
                for i in range(SCALE_SEQ):
                    cycle("osn", "seq", [(1, f"osn-{tag}{i}", pod("seq1"))], tag=tag, nad=SCALE_NAD)
                    cycle("osn", "seq", [(1, f"osn-{ctl}{i}", pod("seq1"))], tag=ctl)
                    floor_sample("plug", 1, sw, i, tag)
                    floor_sample("nb", 1, sw, i, tag)
            scale_round("scale0", "ctl0")
            log(f"prefilling {SCALE_PORTS} ports into {sw}")
            meta["prefill"] = prefill(sw, SCALE_NAD["name"], SCALE_PORTS)
            log("prefill: " + json.dumps(meta["prefill"]))
            scale_round("scale", "ctl")
            for i in range(SCALE_SHELL):
                cycle("shell", "seq", place_seq("shell", i, "x"), tag="scale")
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
    svg_plot([
        ("ADD, sequential", [("osn", sel("osn", "ADD", "seq")),
                             ("bridge+host-local", sel("bridge", "ADD", "seq")),
                             ("shell", sel("shell", "ADD", "seq")),
                             ("OVN floor plug", sel("floor", "plug", "seq")),
                             ("OVN floor NB", sel("floor", "nb", "seq"))]),
        (f"ADD, {CONC} at once on {NODES} nodes", [("osn", sel("osn", "ADD", "conc")),
                                                   ("bridge+host-local", sel("bridge", "ADD", "conc")),
                                                   ("shell", sel("shell", "ADD", "conc"))]),
        (f"ADD with {SCALE_PORTS} ports in the network", [
            ("osn, before", sel("osn", "ADD", "seq", "scale0")),
            ("osn, prefilled", sel("osn", "ADD", "seq", "scale")),
            ("OVN floor NB, before", sel("floor", "nb", "seq", "scale0")),
            ("OVN floor NB, prefilled", sel("floor", "nb", "seq", "scale"))]),
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
