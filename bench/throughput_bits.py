#!/usr/bin/env python3
"""throughput_bits.py — samples/s of the bit-sliced CPU engine (--backend cpu), the byte
engine (--backend cpu-ref) and the direct bit-sliced evaluator (--direct), per circuit
and mode, 1 and 2 threads; prints the markdown table of docs/throughput.md.

    python3 bench/throughput_bits.py build/dlmsim [--seconds 1] [--repeats 1]

Each run is `dlmsim run X --mode M --chains B --backend E --threads T --quiet --json`
with B chosen from the op count so that a run takes about --seconds. Two rates:
  wall   the CLI's samples_per_s (engine time only, wall clock);
  cpu    B / (CPU time of the run - CPU time of the same command with 64 chains),
         from `perf stat -e task-clock` (or getrusage when perf is missing): robust
         when other processes share the cores (wall rates then understate).
gate*samples/s = gates (dlmsim info --json) x samples per CPU-second.
Medians over --repeats. Not a test: nothing is asserted."""
import json, os, resource, statistics, subprocess, sys

EPFL = "circuits/epfl"
CIRCUITS = ["gen:parity-revise:64", EPFL + "/arithmetic/multiplier.aig",
            EPFL + "/random_control/voter.aig", EPFL + "/arithmetic/log2.aig",
            EPFL + "/random_control/arbiter.aig"]
MODES = ["cot", "remask", "revise", "ar"]
# Rough rates (word operations, op-chains, gate-chains per second, one thread) that
# size each run to about --seconds.
RATE = {"cpu": 6e8 * 64, "cpu-ref": 2e8, "direct": 1.3e10}


def cpu_seconds(cmd):
    """CPU seconds (user + sys) of a child command, and its stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit("failed: " + " ".join(cmd))
    return (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime), p.stdout


def main():
    exe = sys.argv[1] if len(sys.argv) > 1 else "build/dlmsim"
    secs = float(sys.argv[sys.argv.index("--seconds") + 1]) if "--seconds" in sys.argv else 1.0
    reps = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 1
    only = sys.argv[sys.argv.index("--only") + 1].split(",") if "--only" in sys.argv else None
    print("| circuit | gates | mode | ops | engine | threads | chains | wall samples/s | cpu samples/s | gate*samples/s (cpu) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for c in CIRCUITS:
        if not c.startswith("gen:") and not os.path.exists(c):
            continue
        if only and not any(o in c for o in only):
            continue
        info = json.loads(subprocess.run([exe, "info", c, "--json"], stdout=subprocess.PIPE,
                                         text=True, check=True).stdout)
        gates = info["gates"]
        for m in MODES:
            ops = info["modes"][m]["ops"]
            for eng in ["cpu", "direct", "cpu-ref"]:
                if eng == "direct" and m != "cot":
                    continue  # the direct evaluator has no mode: one row, compared with every mode
                work = gates if eng == "direct" else ops
                for t in (1, 2):
                    chains = max(64, int(RATE[eng] * secs * t / max(work, 1)))
                    if eng == "cpu":
                        chains = max(chains, 64 * 64)
                    base = [exe, "run", c, "--chains", str(chains), "--threads", str(t), "--quiet", "--json"]
                    base += ["--direct"] if eng == "direct" else ["--mode", m, "--backend", eng]
                    small = list(base)
                    small[small.index("--chains") + 1] = "64"
                    walls, cpus = [], []
                    for _ in range(reps):
                        c0, _ = cpu_seconds(small)
                        c1, out = cpu_seconds(base)
                        j = json.loads(out)
                        walls.append(j["samples_per_s"])
                        cpus.append(chains / max(c1 - c0, 1e-6))
                    w, u = statistics.median(walls), statistics.median(cpus)
                    name = c.split("/")[-1]
                    print(f"| {name} | {gates} | {'(direct)' if eng == 'direct' else m} | "
                          f"{gates if eng == 'direct' else ops} | {eng} | {t} | {chains} | "
                          f"{w:.3g} | {u:.3g} | {u * gates:.3g} |", flush=True)


if __name__ == "__main__":
    main()
