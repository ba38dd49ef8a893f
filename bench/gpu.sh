#!/usr/bin/env bash
# gpu.sh — the one prepared device script (docs/gpu.md, "Running bench/gpu.sh"): on a
# machine with a CUDA device (H100 or H200, 16 cores) it builds, checks and measures
# within BUDGET_S seconds (default 540: 9 of the 10 minutes a warm machine gives), and
# writes bench/results/gpu.md. Needs only the repository (circuits/epfl is vendored).
#   1. build: make CUDA=1 dlmsim and the GPU tests;
#   2. check: test_cuda, test_sampler, test_philox with DLMSIM_REQUIRE_GPU=1, so that a
#      test skipped for want of a device fails and the script stops before any timing
#      (exit 1); CPU = GPU equality is what these tests assert;
#   3. the Philox SASS count (bench/philox_sass.sh, where cuobjdump exists);
#   4. throughput: `dlmsim run X --mode M --chains N --backend E --quiet --json` for
#      E = cuda with --cuda-kernel jit (small plans: the JIT kernel, docs/gpu.md) and
#      interpreter, cuda-ref, cpu. Its "seconds" excludes context creation and kernel
#      loading and compiling (an untimed warm-up call inside the process,
#      "warmup_seconds"; the JIT compile also as "jit_compile_seconds"). Per row
#      one calibration run from a SCALE-scaled start, chains multiplied until a run
#      takes at least MIN_S seconds (default 1), then the median of REPEATS runs.
# A hard guard: every step runs under `timeout` with what is left of BUDGET_S; when it
# runs out the rows so far are kept, a "cut" line says where, and the exit status is 3.
# Environment: BUILD (build), SCALE (1: multiplies the starting chain counts), MIN_S
# (1), REPEATS (3), BUDGET_S (540), ROWS (all | quick: two rows, for the test), TESTS
# (the test binaries), OUT_MD (bench/results/gpu.md), DLMSIM_GPU_SH_EMU=1 (the CPU
# emulation's build, $BUILD/emu: the script's own test, test/gpu_sh.sh).
#   bash bench/gpu.sh
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SCALE=${SCALE:-1}
MIN_S=${MIN_S:-1}
REPEATS=${REPEATS:-3}
BUDGET_S=${BUDGET_S:-540}
ROWS=${ROWS:-all}
TESTS=${TESTS:-test_cuda test_sampler test_philox}
OUT_MD=${OUT_MD:-bench/results/gpu.md}
EMU=${DLMSIM_GPU_SH_EMU:-0}
deadline=$(($(date +%s) + BUDGET_S))
left() { local l=$((deadline - $(date +%s))); [ "$l" -gt 0 ] && echo "$l" || echo 0; }
say() { echo "gpu.sh: $*" >&2; }

if [ "$EMU" = 1 ]; then
    bin=$BUILD/emu/dlmsim tdir=$BUILD/emu/test mk=(EMU=1)
else
    bin=$BUILD/dlmsim tdir=$BUILD/test mk=(CUDA=1)
fi
mkdir -p "$(dirname "$OUT_MD")"
[ -e "$OUT_MD" ] && [ ! -f "$OUT_MD" ] && { say "$OUT_MD is not a regular file"; exit 2; }
: > "$OUT_MD" || exit 2
out() { tee -a "$OUT_MD"; }

# 1. build
say "building ($(left) s left)"
if ! timeout "$(left)" make -j"$(nproc)" BUILD="$BUILD" "${mk[@]}" "$bin" \
        $(for t in $TESTS; do echo "$tdir/$t"; done) >&2; then
    say "build failed or cut by the time guard"; exit 1
fi

{
    echo "# GPU measurements ($(date -u +%Y-%m-%d))"
    echo
    echo '```'
    if [ "$EMU" = 1 ]; then
        echo "device: the CPU emulation (test/cuda_emu), DLM_EMU_DEVICE=${DLM_EMU_DEVICE:-ok}"
    else
        timeout 30 nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem,memory.total,driver_version \
            --format=csv 2>&1 || echo "(nvidia-smi failed)"
        { nvcc --version || /usr/local/cuda/bin/nvcc --version; } 2>/dev/null | tail -2
    fi
    echo "command: SCALE=$SCALE MIN_S=$MIN_S REPEATS=$REPEATS BUDGET_S=$BUDGET_S bash bench/gpu.sh"
    echo '```'
    echo
} | out

# 2. check, with every skip for want of a device a failure
echo "Tests (DLMSIM_REQUIRE_GPU=1):" | out
echo | out
for t in $TESTS; do
    log=$BUILD/gpu_sh.$t.log
    DLMSIM_REQUIRE_GPU=1 timeout "$(left)" "$tdir/$t" > "$log" 2>&1
    rc=$?
    line=$(grep -E '^\[  (PASSED|FAILED) +\] [0-9]+ test' "$log" | tr -s ' ' | paste -sd ' ' -)
    echo "- $t: exit $rc, ${line:-no summary}" | out
    if [ "$rc" -ne 0 ]; then
        tail -20 "$log" >&2
        if [ "$(left)" -eq 0 ]; then say "cut by the time guard in $t"; exit 3; fi
        say "$t failed (log: $log): no timing without a check"; exit 1
    fi
done
echo | out

# 3. the Philox block in SASS
if [ "$EMU" != 1 ]; then
    {
        echo "Philox4x32-10 block in SASS (bench/philox_sass.sh):"
        echo
        echo '```'
        timeout "$(( $(left) < 60 ? $(left) : 60 ))" bash bench/philox_sass.sh 2>&1 | grep -v '^  ' \
            || echo "(cuobjdump not found or timed out)"
        echo '```'
        echo
    } | out
fi

# 4. throughput
say "measuring ($(left) s left)"
python3 - "$bin" "$REPEATS" "$SCALE" "$MIN_S" "$deadline" "$ROWS" <<'EOF' | out
import json, statistics, subprocess, sys, time
bin, repeats, scale, min_s, deadline, rows = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), \
    float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
EPFL = "circuits/epfl"
# (circuit, modes, starting chains per contender, before SCALE and calibration); the
# JIT kernel only where its program compiles in seconds and fits in registers
J = {"cuda:jit": 2e9, "cuda:interpreter": 1e9, "cuda-ref": 1e8, "cpu": 2e7}
ROWS = [("gen:parity-revise:64", ["revise"], J),
        ("gen:parity-revise:64", ["cot", "ar"], {k: v / 5 for k, v in J.items()})]
for f in ["random_control/ctrl", "random_control/dec"]:
    ROWS.append((f"{EPFL}/{f}.aig", ["revise", "cot"], {k: v / 100 for k, v in J.items()}))
for f in ["arithmetic/multiplier", "random_control/voter", "arithmetic/log2", "random_control/arbiter"]:
    ROWS.append((f"{EPFL}/{f}.aig", ["revise", "cot"], {"cuda:interpreter": 1e7, "cuda-ref": 1e6, "cpu": 2e5}))
if rows == "quick":
    ROWS = [("gen:parity-revise:16", ["revise"], J),
            (f"{EPFL}/random_control/ctrl.aig", ["cot"], {k: v / 100 for k, v in J.items()})]

class Cut(Exception):
    pass

def run(x, m, who, n):
    t = deadline - time.time()
    if t <= 0:
        raise Cut()
    be, _, kern = who.partition(":")
    try:
        p = subprocess.run([bin, "run", x, "--mode", m, "--chains", str(n), "--backend", be,
                            "--quiet", "--json"] + (["--cuda-kernel", kern] if kern else []),
                           capture_output=True, text=True, timeout=t)
    except subprocess.TimeoutExpired:
        raise Cut()
    if p.returncode != 0:
        sys.exit(f"gpu.sh: {x} {m} {be} --chains {n}: exit {p.returncode}: {p.stderr.strip()}")
    r = json.loads(p.stdout)
    if r["backend"] != be or (kern and r.get("cuda_kernel") != kern):
        sys.exit(f"gpu.sh: {x} {m}: asked for {who}, ran {r['backend']} {r.get('cuda_kernel', '')}")
    return r

def gates(x):
    return json.loads(subprocess.run([bin, "info", x, "--json"], capture_output=True,
                                     text=True, check=True).stdout)["gates"]

print("| circuit | mode | backend | chains | seconds (median) | samples/s (median of %d) | "
      "gate·samples/s | warm-up s (JIT compile s) | calibration s | odd parity | bytes_device_measured |" % repeats)
print("|---|---|---|---|---|---|---|---|---|---|---|")
done = total = 0
for x, modes, start in ROWS:
    total += len(start) * len(modes)
try:
    for x, modes, start in ROWS:
        g = gates(x)
        for m in modes:
            for be in start:                      # contenders in turn, row by row
                n = max(1000, int(start[be] * scale))
                r = run(x, m, be, n)              # calibration: at least min_s of sampling
                for _ in range(20):                # at least x2 a step: fixed costs
                    if r["seconds"] >= min_s:
                        break
                    f = min(1000.0, 1.3 * min_s / max(r["seconds"], 1e-4))
                    n = int(n * max(f, 2.0))
                    r = run(x, m, be, n)
                cal = r["seconds"]                # the run that reached min_s
                runs = [r] + [run(x, m, be, n) for _ in range(repeats - 1)]
                secs = statistics.median(q["seconds"] for q in runs)
                rate = statistics.median(q["samples_per_s"] for q in runs)
                jit = f" ({r['jit_compile_seconds']:.3g})" if "jit_compile_seconds" in r else ""
                print(f"| {x.split('/')[-1]} | {m} | {be} | {n:.3g} | {secs:.3g} | {rate:.3g} | "
                      f"{rate * g:.3g} | {r['warmup_seconds']:.3g}{jit} | {cal:.3g} | {r['odd_parity']} | "
                      f"{r['bytes_device_measured']} |", flush=True)
                done += 1
except Cut:
    print(f"\ncut: the time guard (BUDGET_S) ran out after {done} of {total} rows")
    sys.exit(3)
print(f"\n{done} of {total} rows")
EOF
rc=$?
echo >&2
say "wrote $OUT_MD (exit $rc)"
exit "$rc"
