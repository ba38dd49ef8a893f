#!/usr/bin/env python3
"""bench.py — dlmsim's benchmark sweeps: round, length, memory and throughput scaling,
side by side with berkeley-abc's &sim and dlmsim's direct evaluator.

What it is: a driver that runs `dlmsim run ... --json` (and `berkeley-abc`) as
subprocesses, takes the median of repeated runs, and writes one CSV per sweep under
bench/results/. What it is not: a correctness check (bench/check_abc.sh runs first and
fails loudly on any mismatch; "check against the CPU first, then time").

Timing rules (docs/STYLE.md): every point is the median of REPEATS runs (5 in the full
profile, 3 in the quick one); contenders that are compared (the modes of one circuit,
the DLM engine, the direct evaluator and ABC on one EPFL circuit) are alternated inside
one repeat loop so that machine noise hits them alike; the chain count of each point is
calibrated first so that one run takes about TARGET seconds. The time is dlmsim's own
`seconds` (sampling only: parsing and compiling the circuit are excluded) and ABC's own
printed `Time =` of &sim.

Usage: python3 bench/bench.py [--full] [--bin build/dlmsim] [--out bench/results]
                              [--only parity,adders,random,epfl,chains,expr]
"""
import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

COLS = ["circuit", "mode", "backend", "chains", "threads", "depth", "width", "size",
        "rounds", "L", "bytes_per_chain", "bytes_measured", "median_s", "samples_per_s",
        "gate_evals_per_s",
        # extra columns (after the required ones): gates evaluated per sample, repeats,
        # spread of the repeats, and the host token-buffer bytes the tool reports
        "gates", "repeats", "min_s", "max_s", "bytes_tokens"]
MODES = ["cot", "remask", "revise", "ar"]
EPFL = "circuits/epfl"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class BenchError(Exception):
    pass


# ---- running dlmsim -------------------------------------------------------------

_info_cache = {}


def info(b, circ):
    """`dlmsim info CIRCUIT --json`, cached (hyp takes seconds: it compiles every mode)."""
    if circ not in _info_cache:
        p = subprocess.run([b, "info", circ, "--json"], capture_output=True, text=True)
        if p.returncode != 0:
            raise BenchError("dlmsim info %s failed (%d): %s" % (circ, p.returncode, p.stderr.strip()))
        _info_cache[circ] = json.loads(p.stdout)
    return _info_cache[circ]


def run_dlm(b, circ, mode, chains, threads, seed=1):
    """One `dlmsim run` (mode 'direct' = --direct). Returns (json, peak RSS bytes)."""
    args = [b, "run", circ, "--chains", str(chains), "--seed", str(seed),
            "--threads", str(threads), "--backend", "cpu", "--json", "--quiet"]
    args += ["--direct"] if mode == "direct" else ["--mode", mode]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = p.stdout.read()
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise BenchError("%s -> exit %d: %s" % (" ".join(args), p.returncode,
                                                 err.decode(errors="replace").strip()))
    j = json.loads(out)
    return j, ru.ru_maxrss * 1024


_abc_latched = {}


def abc_latched(circ, tmp):
    """The circuit with a dummy latch (abc.md: &sim refuses purely combinational
    circuits) and its AND count as ABC sees it."""
    if circ in _abc_latched:
        return _abc_latched[circ]
    base = os.path.join(tmp, os.path.basename(circ).replace(".aig", ""))
    blif, lblif, laig = base + ".blif", base + "_l.blif", base + "_l.aig"
    abc(["read %s; write_blif %s" % (circ, blif)])
    with open(blif) as f:
        text = f.read()
    text = re.sub(r"^\.end$", ".latch dlm_ffi dlm_ffo 0\n.names dlm_ffi\n.end", text, flags=re.M)
    with open(lblif, "w") as f:
        f.write(text)
    abc(["read_blif %s; strash; write_aiger %s" % (lblif, laig)])
    st = abc(["read %s; print_stats" % laig])
    m = re.search(r"and\s*=\s*(\d+)", st)
    if not m:
        raise BenchError("cannot read the AND count of %s: %s" % (laig, st))
    _abc_latched[circ] = (laig, int(m.group(1)))
    return _abc_latched[circ]


def abc(cmds):
    p = subprocess.run(["berkeley-abc", "-q", "; ".join(cmds)], capture_output=True, text=True)
    out = ANSI.sub("", p.stdout + p.stderr)
    if p.returncode != 0:
        raise BenchError("berkeley-abc %s -> exit %d: %s" % (cmds, p.returncode, out.strip()))
    return out


def run_abc(laig, frames):
    """`&sim -F frames -W 64 -T 36000`; returns ABC's own time (s). Patterns = F*64*32."""
    out = abc(["&r %s" % laig, "&sim -F %d -W 64 -T 36000" % frames])
    m = re.search(r"simulating\s+(\d+)\s+frames.*Time\s*=\s*([0-9.]+)\s*sec", out)
    if not m or int(m.group(1)) != frames:
        raise BenchError("unexpected &sim output (wanted %d frames): %s" % (frames, out.strip()))
    return float(m.group(2))


# ---- calibration and medians ----------------------------------------------------

def calibrate(runfn, c0, target, cmin, cmax, quantum):
    """Grows the work size from c0 until one run takes >= target/5 s, then scales it
    to about target s. runfn(c) -> seconds. Returns the work size (multiple of quantum)."""
    c = max(cmin, min(cmax, c0))
    while True:
        s = runfn(c)
        if s >= target / 5 or c >= cmax:
            break
        c = min(cmax, int(c * min(16.0, max(2.0, target / max(s, 1e-6) / 2))))
    c = int(c * target / max(s, 1e-6))
    c = max(cmin, min(cmax, c))
    return max(quantum, (c // quantum) * quantum) if c >= quantum else c


class Point:
    """One CSV row in the making: a contender at a fixed work size, repeated."""

    def __init__(self, circ, mode, backend, threads, chains, inf):
        self.circ, self.mode, self.backend, self.threads = circ, mode, backend, threads
        self.chains, self.inf = chains, inf
        self.secs, self.rss, self.last = [], [], None

    def row(self):
        inf = self.inf
        med = statistics.median(self.secs)
        sps = self.chains / med if med > 0 else float("nan")
        j = self.last or {}
        gates = self.gates if hasattr(self, "gates") else inf["gates"]
        name = self.circ.replace(EPFL + "/", "")
        return {
            "circuit": name, "mode": self.mode, "backend": self.backend,
            "chains": self.chains, "threads": self.threads,
            "depth": inf["depth"], "width": inf["width"], "size": inf["size"],
            "rounds": j.get("rounds", ""), "L": j.get("L", ""),
            "bytes_per_chain": j.get("bytes_per_chain", ""),
            "bytes_measured": int(statistics.median(self.rss)) if self.rss else "",
            "median_s": "%.6g" % med, "samples_per_s": "%.6g" % sps,
            "gate_evals_per_s": "%.6g" % (gates * sps), "gates": gates,
            "repeats": len(self.secs), "min_s": "%.6g" % min(self.secs),
            "max_s": "%.6g" % max(self.secs), "bytes_tokens": j.get("bytes_tokens", ""),
        }


def dlm_point(b, circ, mode, threads, target, cap, cmin=16):
    """A DLM (or --direct) run of about `target` seconds. The bit-sliced engine's fixed
    cost per run (planning the value slots, one tile of at most 4 MiB of value words
    per thread) is small against `target`, so the calibrated count is used as is."""
    inf = info(b, circ)
    n = max(1, inf["size"])
    guess = target * (2e9 if mode == "direct" else 2e7) / n
    quantum = 64 if mode == "direct" else 16
    chains = calibrate(lambda c: run_dlm(b, circ, mode, c, threads)[0]["seconds"], int(guess),
                       target, cmin, cap, quantum)
    return Point(circ, mode, "cpu", threads, chains, inf)


def measure(points, repeats, b, log):
    """Runs every point `repeats` times, alternating the points inside each repeat."""
    for r in range(repeats):
        for p in points:
            if p.backend == "abc":
                p.secs.append(run_abc(p.laig, p.frames))
            else:
                j, rss = run_dlm(b, p.circ, p.mode, p.chains, p.threads)
                p.secs.append(j["seconds"])
                p.rss.append(rss)
                p.last = j
    for p in points:
        row = p.row()
        log("  %-28s %-7s %-4s t=%d chains=%-10d median %.4fs  %.3g samples/s  %.3g gate-evals/s"
            % (row["circuit"][:28], row["mode"], row["backend"], p.threads, p.chains,
               float(row["median_s"]), float(row["samples_per_s"]), float(row["gate_evals_per_s"])))


def write_csv(path, points_or_rows):
    rows = [p.row() if isinstance(p, Point) else p for p in points_or_rows]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLS)
        w.writeheader()
        for r in rows:
            w.writerow(r)


# ---- the sweeps -------------------------------------------------------------------

def sweep_family(b, circuits, prof, threads, log):
    """Every circuit in every mode; modes alternate inside each repeat."""
    pts = []
    for c in circuits:
        group = [dlm_point(b, c, m, threads, prof["target"], prof["cap"]) for m in MODES]
        measure(group, prof["repeats"], b, log)
        pts += group
    return pts


def sweep_epfl(b, prof, tmp, log):
    """Side by side: DLM engine (each mode) and direct evaluator at 1 and 2 threads,
    ABC &sim -W 64 (single-threaded), alternated inside each repeat."""
    pts = []
    files = sorted(glob(EPFL + "/*/*.aig"))
    for f in files:
        inf = info(b, f)
        group = []
        for t in prof["epfl_threads"]:
            for m in MODES + ["direct"]:
                group.append(dlm_point(b, f, m, t, prof["epfl_target"], prof["epfl_cap"]))
        laig, ands = abc_latched(f, tmp)
        frames = calibrate(lambda F: run_abc(laig, F),
                           max(1, int(prof["epfl_target"] * 1.4e10 / (ands * 2048))),
                           max(prof["epfl_target"], 0.2), 1, 10 ** 7, 1)
        pa = Point(f, "abc-sim", "abc", 1, frames * 64 * 32, inf)
        pa.laig, pa.frames, pa.gates = laig, frames, ands
        group.append(pa)
        measure(group, prof["repeats"], b, log)
        pts += group
    return pts


def sweep_chains(b, prof, log):
    """Throughput vs chains for gen:parity-revise:64 --mode revise (and --direct)."""
    circ = "gen:parity-revise:64"
    inf = info(b, circ)
    pts = []
    for c in prof["chain_counts"]:
        group = []
        for t in (1, 2):
            group.append(Point(circ, "revise", "cpu", t, c, inf))
            if c <= prof["direct_chain_cap"]:
                group.append(Point(circ, "direct", "cpu", t, c, inf))
        reps = prof["repeats"] if c <= prof["big_chains"] else prof["big_repeats"]
        measure(group, reps, b, log)
        pts += group
    return pts


def expressivity(b, ns):
    """Rounds, L and largest predictor fan-in of every parity construction and mode
    (properties of the compiled programs; no timing)."""
    rows = []
    for cons in ("tree", "chain", "revise"):
        for n in ns:
            j = info(b, "gen:parity-%s:%d" % (cons, n))
            for m in MODES:
                mm = j["modes"][m]
                rows.append({"construction": "parity-" + cons, "N": n, "mode": m,
                             "size": j["size"], "depth": j["depth"], "width": j["width"],
                             "rounds": mm["rounds"], "L": mm["L"], "slots": mm["slots"],
                             "counter_bits": mm["counter_bits"], "max_fanin": mm["max_fanin"]})
    return rows


def glob(pat):
    import glob as g
    return g.glob(pat)


PROFILES = {
    # epfl_target: the EPFL runs judge the throughput targets (docs/results.md section 0),
    # 2-thread runs included, so they are longer than the sweeps' runs
    "quick": dict(repeats=3, target=0.05, epfl_target=0.2, cap=10 ** 7, epfl_cap=10 ** 8, epfl_threads=(1, 2),
                  parity_ns=[8, 16, 32, 64, 128, 256, 512, 1024],
                  adder_ns=[8, 16, 32, 64, 128, 256],
                  random_ws=[8, 64, 512], random_ds=[4, 32, 256],
                  chain_counts=[10 ** 3, 10 ** 4, 10 ** 5, 10 ** 6, 10 ** 7, 10 ** 8],
                  direct_chain_cap=10 ** 7, big_chains=10 ** 6, big_repeats=3),
    "full": dict(repeats=5, target=0.25, epfl_target=0.5, cap=10 ** 8, epfl_cap=10 ** 9, epfl_threads=(1, 2),
                 parity_ns=[8, 16, 32, 64, 128, 256, 512, 1024],
                 adder_ns=[8, 16, 32, 64, 128, 256],
                 random_ws=[8, 32, 128, 512], random_ds=[4, 16, 64, 256],
                 chain_counts=[10 ** 3, 3 * 10 ** 3, 10 ** 4, 3 * 10 ** 4, 10 ** 5,
                               3 * 10 ** 5, 10 ** 6, 3 * 10 ** 6, 10 ** 7, 10 ** 8, 10 ** 9],
                 direct_chain_cap=10 ** 8, big_chains=3 * 10 ** 6, big_repeats=3),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--bin", default="build/dlmsim")
    ap.add_argument("--out", default="bench/results")
    ap.add_argument("--only", default="expr,parity,adders,random,chains,epfl")
    a = ap.parse_args()
    prof = PROFILES["full" if a.full else "quick"]
    os.makedirs(a.out, exist_ok=True)
    only = set(a.only.split(","))
    t0 = time.time()

    def log(s):
        print("[%6.1fs] %s" % (time.time() - t0, s) if not s.startswith("  ") else s, flush=True)

    meta = {"profile": "full" if a.full else "quick", "repeats": prof["repeats"],
            "target_s": prof["target"], "date": time.strftime("%Y-%m-%d"),
            "cpu": cpu_model(), "cores": os.cpu_count(),
            "gpu": "none (no GPU on this machine: CUDA backend built but not run)"}
    try:
        if "expr" in only:
            log("expressivity table (parity, info --json)")
            rows = expressivity(a.bin, [8, 16, 32, 64, 1024])
            with open(os.path.join(a.out, "expressivity.csv"), "w", newline="") as f:
                w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
                w.writeheader()
                w.writerows(rows)
        if "parity" in only:
            log("parity: tree, chain, revise x N x mode (threads 1)")
            cs = ["gen:parity-%s:%d" % (k, n) for k in ("tree", "chain", "revise")
                  for n in prof["parity_ns"]]
            write_csv(os.path.join(a.out, "parity.csv"), sweep_family(a.bin, cs, prof, 1, log))
        if "adders" in only:
            log("adders: ripple vs prefix x N x mode (threads 1)")
            cs = ["gen:adder-%s:%d" % (k, n) for k in ("ripple", "prefix") for n in prof["adder_ns"]]
            write_csv(os.path.join(a.out, "adders.csv"), sweep_family(a.bin, cs, prof, 1, log))
        if "random" in only:
            log("random layered circuits: width x depth x mode (threads 1)")
            cs = ["gen:random:%d,%d,1" % (w, d) for w in prof["random_ws"] for d in prof["random_ds"]]
            write_csv(os.path.join(a.out, "random.csv"), sweep_family(a.bin, cs, prof, 1, log))
        if "chains" in only:
            log("throughput vs chains: gen:parity-revise:64 --mode revise, and --direct")
            write_csv(os.path.join(a.out, "chains.csv"), sweep_chains(a.bin, prof, log))
        if "epfl" in only:
            log("EPFL side by side: DLM modes, direct, ABC &sim -W 64")
            with tempfile.TemporaryDirectory(prefix="dlm_bench_") as tmp:
                write_csv(os.path.join(a.out, "epfl.csv"), sweep_epfl(a.bin, prof, tmp, log))
    except BenchError as e:
        print("bench: FAILED: %s" % e, file=sys.stderr)
        return 1
    # meta.json: the machine and, per sweep, the profile it was last run with (so that
    # running one sweep alone keeps the record of the others)
    mpath = os.path.join(a.out, "meta.json")
    old = {}
    if os.path.exists(mpath):
        with open(mpath) as f:
            old = json.load(f)
    sm = old.get("sweeps_meta", {})
    for s in only:
        sm[s] = {"profile": meta["profile"], "repeats": prof["repeats"], "target_s": prof["target"],
                 "date": meta["date"]}
    meta["sweeps_meta"] = sm
    meta["elapsed_s"] = round(time.time() - t0, 1)
    with open(mpath, "w") as f:
        json.dump(meta, f, indent=1)
    log("done")
    return 0


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        m = re.search(r"Model name:\s*(.+)", out)
        return m.group(1).strip() if m else "unknown"
    except OSError:
        return "unknown"


if __name__ == "__main__":
    sys.exit(main())
