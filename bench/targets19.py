#!/usr/bin/env python3
"""targets19.py [--reps R] [--seconds S] [--only andnot,threads] [--modes M,..] [--circuits C,..] [--wait-idle F] [--out FILE] — issue 19's second and
fourth targets, measured (docs/results.md section 9).

andnot: bench/andnot.c (c = a & ~b over three L1-resident 4 KiB uint64 arrays) built with
  -O2 -march=native -mprefer-vector-width=512 (the CPU's widest unit when /proc/cpuinfo has
  avx512f; else 256) and with 256 (AVX2), against dlmsim on multiplier.aig --mode revise
  --threads 1 --backend cpu. All in gate-evaluations per CPU-second: the micro-benchmark
  times its own loop (CLOCK_PROCESS_CPUTIME_ID, one word = 64 gate-evaluations); dlmsim is
  gates x N / (cpu(N chains) - cpu(64 chains)), CPU = user + system from wait4, so parsing,
  compiling and set-up cancel (as bench/verilator/bench.py). The three alternate in each
  repeat; medians of R.
threads: --threads 1 against --threads 2 on hyp, div, log2, multiplier, sqrt, square and
  mem_ctrl in cot and revise; wall time of the sampling only (run --json's "seconds"),
  chains calibrated so one thread samples for about --seconds; the two alternate in each
  repeat; medians of R; the 1-minute load average (/proc/loadavg) is read around every run;
  --wait-idle 0.85 starts each row only when the CPUs were 85 % idle over 3 s (/proc/stat).
Prints markdown tables (also to --out).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

from cputime import cpu_of

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
BIN = os.path.join(BUILD, "dlmsim")
MULT = "circuits/epfl/arithmetic/multiplier.aig"
LARGE = ["arithmetic/" + n for n in ("hyp", "div", "log2", "multiplier", "sqrt", "square")] + \
        ["random_control/mem_ctrl"]


def run(cmd):
    """CPU seconds (user + system) of one child process run in the repository, and its stdout."""
    return cpu_of(cmd, cwd=ROOT)


def load():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def idle_share(dt=3.0):
    """Share of the CPUs' time idle over dt seconds (/proc/stat)."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v[:8])
    i0, t0 = snap()
    time.sleep(dt)
    i1, t1 = snap()
    return (i1 - i0) / max(t1 - t0, 1)


def wait_idle(share, limit=600.0):
    """Waits (at most limit seconds) until the CPUs are idle at least share of 3 s; returns it."""
    start = time.time()
    while True:
        got = idle_share()
        if got >= share or time.time() - start > limit:
            return got


def gates(circ):
    _, out = run([BIN, "info", circ, "--json"])
    return json.loads(out)["gates"]


def andnot(reps, seconds):
    wide = 512 if " avx512f" in open("/proc/cpuinfo").read() else 256
    exes = {}
    for w in sorted({wide, 256}, reverse=True):
        exes[w] = os.path.join(BUILD, "bench", "andnot%d" % w)
        os.makedirs(os.path.dirname(exes[w]), exist_ok=True)
        subprocess.run(["cc", "-std=c11", "-O2", "-march=native", "-mprefer-vector-width=%d" % w, "-Wall",
                        "-Wextra", "-Werror", os.path.join(ROOT, "bench/andnot.c"), "-o", exes[w]], check=True)
    g = gates(MULT)
    base = [BIN, "run", MULT, "--mode", "revise", "--threads", "1", "--backend", "cpu", "--quiet", "--json"]
    t0, _ = run(base + ["--chains", "64"])
    n = 1 << 16
    while True:  # chains for about `seconds` of sampling CPU time
        t1, _ = run(base + ["--chains", str(n)])
        if t1 - t0 >= seconds / 2 or n >= 1 << 30:
            break
        n *= 2
    n = int(n * seconds / max(t1 - t0, 1e-3)) // 64 * 64 or 64
    res = {w: [] for w in exes}
    res["dlmsim"] = []
    loads = [load()]
    for rep in range(reps):
        order = list(exes) + ["dlmsim"]
        if rep % 2:
            order.reverse()
        for c in order:
            if c == "dlmsim":
                tn, _ = run(base + ["--chains", str(n)])
                ts, _ = run(base + ["--chains", "64"])
                res[c].append(g * n / max(tn - ts, 1e-9))
            else:
                _, out = run([exes[c], str(seconds)])
                res[c].append(float(out.split()[3]))
            loads.append(load())
    med = {c: statistics.median(v) for c, v in res.items()}
    lines = ["| contender | gate-evaluations per CPU-second (median of %d) | min | max | dlmsim / it |" % reps,
             "|---|---|---|---|---|"]
    for c in list(exes) + ["dlmsim"]:
        name = ("andnot.c, %d-bit vectors%s" % (c, " (widest)" if c == wide else "")) if c != "dlmsim" else \
            "dlmsim multiplier revise, 1 thread (%d gates, %d chains)" % (g, n)
        lines.append("| %s | %.3g | %.3g | %.3g | %s |" % (name, med[c], min(res[c]), max(res[c]),
                                                           "%.2f" % (med["dlmsim"] / med[c]) if c != "dlmsim" else ""))
    lines.append("")
    lines.append("ratio to the widest unit's micro-benchmark: %.2f (target >= 0.60); 1-minute load average during "
                 "the runs %.2f-%.2f" % (med["dlmsim"] / med[wide], min(loads), max(loads)))
    return lines


def threads(reps, seconds, modes, circuits, idle):
    lines = ["| circuit | mode | chains | 1 thread s | 2 threads s | speed-up | per-repeat speed-ups | "
             "fastest / fastest | CPU 2 thr / CPU 1 thr | cores busy, 1 thr / 2 thr | load avg |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    ups = []
    for spec in circuits:
        circ = "circuits/epfl/%s.aig" % spec
        for mode in modes:
            base = [BIN, "run", circ, "--mode", mode, "--backend", "cpu", "--quiet", "--json"]
            if idle:
                print("%s %s: CPUs %.0f %% idle before the row" % (spec, mode, 100 * wait_idle(idle)),
                      file=sys.stderr)

            def one(t, n):  # (wall seconds of the sampling, CPU seconds of the process)
                cpu, out = run(base + ["--threads", str(t), "--chains", str(n)])
                return json.loads(out)["seconds"], cpu
            n = 1 << 14
            while True:  # chains for about `seconds` of one thread's sampling
                s, _ = one(1, n)
                if s >= seconds / 2 or n >= 1 << 30:
                    break
                n *= 4 if s < seconds / 16 else 2
            n = int(n * seconds / max(s, 1e-3)) // 128 * 128 or 128
            res = {1: [], 2: []}
            cpu = {1: [], 2: []}
            loads = [load()]
            for rep in range(reps):
                _, s0 = one(1, 64)  # set-up CPU (one tile: one thread)
                for t in ((1, 2) if rep % 2 == 0 else (2, 1)):
                    wall, c = one(t, n)
                    res[t].append(wall)
                    cpu[t].append(max(c - s0, 1e-9))
                    loads.append(load())
            m1, m2 = statistics.median(res[1]), statistics.median(res[2])
            c1, c2 = statistics.median(cpu[1]), statistics.median(cpu[2])
            per = sorted(a / b for a, b in zip(res[1], res[2]))
            ups.append(m1 / m2)
            lines.append("| %s | %s | %d | %.3f | %.3f | %.2f | %.2f-%.2f | %.2f | %.2f | %.2f / %.2f | %.2f-%.2f |" % (
                spec, mode, n, m1, m2, m1 / m2, per[0], per[-1], min(res[1]) / min(res[2]), c2 / c1,
                c1 / m1, c2 / m2, min(loads), max(loads)))
            print(lines[-1], file=sys.stderr)
    lines.append("")
    lines.append("speed-up = median 1-thread seconds / median 2-thread seconds (wall, sampling only), medians of %d; "
                 "worst %.2f, best %.2f (target >= 1.8); per-repeat: the 1-thread run over the 2-thread run of the "
                 "same repeat, lowest-highest; fastest / fastest: the fastest 1-thread run over the fastest "
                 "2-thread run (the least disturbed of each); CPU: user + system seconds of the run (wait4) less "
                 "those of a 64-chain run (set-up), medians, so CPU 2 thr / CPU 1 thr is the work the second "
                 "thread adds (1.00: none); cores busy = that CPU / the wall seconds (2.00 would be both threads "
                 "running all the time); load avg: the 1-minute load average read before and after every run, "
                 "lowest-highest" % (reps, min(ups), max(ups)))
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=0.5, help="target seconds of one timed run")
    ap.add_argument("--only", default="andnot,threads")
    ap.add_argument("--modes", default="cot,revise")
    ap.add_argument("--circuits", default=",".join(LARGE), help="for threads, comma-separated")
    ap.add_argument("--wait-idle", type=float, default=0,
                    help="before each threads row, wait (at most 10 min) until the CPUs are this idle (0.85)")
    ap.add_argument("--out")
    a = ap.parse_args()
    lines = ["machine: %d CPUs, Linux %s" % (os.cpu_count(), os.uname().release), ""]
    if "andnot" in a.only:
        lines += andnot(a.reps, a.seconds) + [""]
    if "threads" in a.only:
        lines += threads(a.reps, a.seconds, a.modes.split(","), a.circuits.split(","), a.wait_idle) + [""]
    text = "\n".join(lines)
    print(text, end="")
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
