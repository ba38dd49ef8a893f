#!/usr/bin/env python3
"""bench.py [--reps R] [--seconds S] [--out FILE] [CIRCUIT...] — dlmsim against a bit-sliced
Verilator model of the same circuit, one thread, CPU time (issue 19's first target).

For each circuit (default: the 17 EPFL circuits and small ones: ISCAS c17, the full adder,
gen:adder-ripple:16 and gen:mult:8 as AIGs): `dlmsim export --format aag`, then
bench/verilator/model.py writes a Verilog model in which every signal is a 64-bit vector
(one eval = 64 patterns) and a harness with xorshift64 stimulus that reduces what
`dlmsim run` reduces (ones per output, odd parity); Verilator builds it with -O3 and the
C++ with -O2 -march=native. Both count the same work: the patterns sampled and the
outputs reduced. Times are CPU seconds (user + system, from wait4): dlmsim's per-sample
cost is cpu(N chains) - cpu(64 chains), so compiling and set-up are left out; the
harness times its own loop. Contenders alternate within each repeat; medians of R.
Prints a markdown table (also to --out) with samples per CPU-second and the ratio.
"""
import argparse
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from cputime import cpu_of  # noqa: E402
BIN = os.path.join(ROOT, os.environ.get("BUILD", "build"), "dlmsim")
WORK = os.path.join(ROOT, os.environ.get("BUILD", "build"), "verilator")
EPFL = ["arithmetic/" + n for n in ("adder", "bar", "div", "hyp", "log2", "max", "multiplier", "sin",
                                    "sqrt", "square")] + \
       ["random_control/" + n for n in ("arbiter", "ctrl", "dec", "i2c", "mem_ctrl", "priority", "voter")]
# ISCAS-85 c17: six NAND gates (inputs 1 2 3 6 7, outputs 22 23), written as an AIG.
C17 = "aag 11 5 0 2 6\n2\n4\n6\n8\n10\n19\n23\n12 2 6\n14 6 8\n16 4 15\n18 13 17\n20 15 10\n22 17 21\n"
SMALL = ["c17", "circuits/full_adder.aag", "gen:adder-ripple:16", "gen:mult:8"]


def prepare(spec):
    """The circuit as an .aag and its Verilator model, built once (kept in build/verilator)."""
    name = spec.replace("/", "_").replace(":", "_").replace(".aag", "").replace(".aig", "")
    d = os.path.join(WORK, name)
    os.makedirs(d, exist_ok=True)
    aag = os.path.join(d, "c.aag")
    new = aag + ".new"
    if spec == "c17":
        with open(new, "w") as f:
            f.write(C17)
    else:
        src = spec if spec.startswith(("gen:", "circuits/")) else "circuits/epfl/%s.aig" % spec
        subprocess.run([BIN, "export", src, "--format", "aag", "-o", new], check=True, cwd=ROOT)
    if os.path.exists(aag) and open(aag).read() == open(new).read():
        os.unlink(new)  # unchanged: the model built from it stays valid
    else:
        os.replace(new, aag)
    exe = os.path.join(d, "obj", "Vmodel")
    if not os.path.exists(exe) or os.path.getmtime(exe) < os.path.getmtime(aag):
        subprocess.run([sys.executable, os.path.join(ROOT, "bench/verilator/model.py"), aag, d], check=True)
        with open(os.path.join(d, "build.log"), "w") as log:
            subprocess.run(["verilator", "--cc", "model.v", "--exe", "harness.cpp", "--build", "-O3",
                            "--x-assign", "fast", "--x-initial", "fast", "--noassert", "-Wno-fatal",
                            "-CFLAGS", "-O2 -march=native", "-Mdir", "obj", "-j", "1"],
                           cwd=d, check=True, stdout=log, stderr=log)
    with open(aag) as f:
        ands = int(f.readline().split()[5])
    return name, aag, exe, ands


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=0.5, help="target CPU seconds of a dlmsim run")
    ap.add_argument("--modes", default="cot,revise")
    ap.add_argument("--out")
    ap.add_argument("circuits", nargs="*")
    a = ap.parse_args()
    specs = a.circuits or EPFL + SMALL
    modes = a.modes.split(",")
    rows = []
    for spec in specs:
        name, aag, exe, ands = prepare(spec)
        base = [BIN, "run", aag, "--threads", "1", "--backend", "cpu", "--quiet", "--json"]
        # chains for about a.seconds of dlmsim CPU time (cot), found by growing the count
        t0, _ = cpu_of(base + ["--chains", "64"])
        n = 1 << 16
        while n < 1 << 36:
            t1, _ = cpu_of(base + ["--chains", str(n)])
            if t1 - t0 >= a.seconds / 2:
                break
            n *= 8 if t1 - t0 < a.seconds / 16 else 2
        n = int(n * a.seconds / max(t1 - t0, 1e-3)) // 64 * 64 or 64
        res = {m: [] for m in modes}
        res["verilator"] = []
        for rep in range(a.reps):
            order = modes + ["verilator"]
            if rep % 2:
                order.reverse()
            for c in order:
                if c == "verilator":
                    _, out = cpu_of([exe, str(n)])
                    res[c].append(n / float(out.split()[3]))
                else:
                    tn, _ = cpu_of(base + ["--mode", c, "--chains", str(n)])
                    ts, _ = cpu_of(base + ["--mode", c, "--chains", "64"])
                    res[c].append(n / max(tn - ts, 1e-9))
        med = {c: statistics.median(v) for c, v in res.items()}
        rows.append((spec, ands, n, med))
        print("%-28s ands %7d chains %10d  %s" % (spec, ands, n, "  ".join(
            "%s %.3g" % (c, med[c]) for c in modes + ["verilator"])), file=sys.stderr)
    head = "| circuit | ANDs | chains | " + " | ".join("dlmsim %s" % m for m in modes) + \
           " | Verilator | " + " | ".join("%s / Verilator" % m for m in modes) + " |"
    lines = [head, "|" + "---|" * (3 + 2 * len(modes) + 1)]
    for spec, ands, n, med in rows:
        lines.append("| %s | %d | %d | " % (spec, ands, n) + " | ".join("%.3g" % med[m] for m in modes) +
                     " | %.3g | " % med["verilator"] +
                     " | ".join("%.2f" % (med[m] / med["verilator"]) for m in modes) + " |")
    worst = {m: min(r[3][m] / r[3]["verilator"] for r in rows) for m in modes}
    lines.append("")
    lines.append("samples per CPU-second, medians of %d, one thread; worst ratio: %s" %
                 (a.reps, ", ".join("%s %.2f" % (m, worst[m]) for m in modes)))
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
