#!/usr/bin/env bash
# gpu.sh — the GPU measurements of docs/gpu.md, for a machine with a CUDA device (H100 or
# H200). Check first, then time:
#   1. builds with CUDA (make) and runs test_cuda: every GPU test must PASS (a SKIPPED
#      test means there was no device: the script stops);
#   2. the Philox SASS count (bench/philox_sass.sh, needs cuobjdump);
#   3. throughput: `dlmsim run X --mode M --chains B --backend E --quiet --json`, the
#      median of 3 runs per row, for E = cuda (bit-sliced kernel), cuda-ref (byte
#      kernel) and cpu (bit-sliced, all cores), on gen:parity-revise:64 --mode revise
#      (10^10 chains on cuda) and four EPFL circuits in every mode.
# Output: a markdown report on stdout and in bench/results/gpu.md (to paste into
# docs/gpu.md, "Measurements"). Environment: BUILD (default build), REPEATS (3),
# SCALE (1; multiplies every chain count, e.g. 0.1 for a quick look).
#   bash bench/gpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
REPEATS=${REPEATS:-3}
SCALE=${SCALE:-1}
out=bench/results/gpu.md
mkdir -p bench/results

make -j"$(nproc)" BUILD="$BUILD" CUDA=1 "$BUILD/dlmsim" "$BUILD/test/test_cuda" >&2
if ! "$BUILD/test/test_cuda" > "$BUILD/test_cuda.log" 2>&1 || grep -q SKIPPED "$BUILD/test_cuda.log"; then
    cat "$BUILD/test_cuda.log" >&2
    echo "gpu.sh: test_cuda failed or skipped (no device?): no timing without a check" >&2
    exit 1
fi

{
    echo "# GPU measurements ($(date -u +%Y-%m-%d))"
    echo
    echo '```'
    nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem,memory.total,driver_version --format=csv || true
    nvcc --version | tail -2 || true
    echo "test_cuda: $(grep -c '\[       OK \]' "$BUILD/test_cuda.log") passed, 0 skipped"
    echo '```'
    echo
    echo "Philox4x32-10 block in SASS (bench/philox_sass.sh):"
    echo
    echo '```'
    bash bench/philox_sass.sh 2>&1 | grep -v '^  ' || echo "(cuobjdump not found)"
    echo '```'
    echo
} | tee "$out"

# One row: median samples/s of REPEATS runs, with what the JSON says about memory.
python3 - "$BUILD/dlmsim" "$REPEATS" "$SCALE" <<'EOF' | tee -a "$out"
import json, statistics, subprocess, sys
bin, repeats, scale = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
EPFL = "circuits/epfl"
# (circuit, modes, chains per backend)
ROWS = [("gen:parity-revise:64", ["revise"], {"cuda": 1e10, "cuda-ref": 1e9, "cpu": 2e8}),
        ("gen:parity-revise:64", ["cot", "remask", "ar"], {"cuda": 2e9, "cuda-ref": 2e8, "cpu": 1e8})]
for f in ["arithmetic/multiplier", "random_control/voter", "arithmetic/log2", "random_control/arbiter"]:
    ROWS.append((f"{EPFL}/{f}.aig", ["cot", "remask", "revise", "ar"],
                 {"cuda": 1e8, "cuda-ref": 1e7, "cpu": 2e6}))

def gates(x):
    return json.loads(subprocess.run([bin, "info", x, "--json"], capture_output=True,
                                     text=True, check=True).stdout)["gates"]

print("| circuit | mode | backend | chains | samples/s (median of %d) | gate·samples/s | odd parity | "
      "bytes_tokens | bytes_device_measured |" % repeats)
print("|---|---|---|---|---|---|---|---|---|")
for x, modes, chains in ROWS:
    g = gates(x)
    for m in modes:
        for be in ["cuda", "cuda-ref", "cpu"]:
            n = max(1000, int(chains[be] * scale))
            runs = []
            for _ in range(repeats):
                p = subprocess.run([bin, "run", x, "--mode", m, "--chains", str(n), "--backend", be,
                                    "--quiet", "--json"], capture_output=True, text=True)
                if p.returncode != 0:
                    sys.exit(f"gpu.sh: {x} {m} {be}: exit {p.returncode}: {p.stderr.strip()}")
                runs.append(json.loads(p.stdout))
            rate = statistics.median(r["samples_per_s"] for r in runs)
            r = runs[0]
            print(f"| {x.split('/')[-1]} | {m} | {be} | {n:.3g} | {rate:.3g} | {rate * g:.3g} | "
                  f"{r['odd_parity']} | {r['bytes_tokens']} | {r['bytes_device_measured']} |", flush=True)
EOF
echo >&2
echo "gpu.sh: wrote $out" >&2
