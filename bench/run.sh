#!/usr/bin/env bash
# run.sh — `make bench` (quick profile) and `make bench FULL=1` (full sweep).
#
# 1. builds the bench helper build/bench/abc_check (coins as ABC input patterns);
# 2. checks first: dlmsim's direct evaluator and DLM engine equal berkeley-abc's
#    `sim -m -v -A` outputs on the same coins for every EPFL circuit (exit 1 on a mismatch);
# 3. times: bench/bench.py writes bench/results/*.csv (medians, contenders alternated);
# 4. bench/report.py writes the plot data, runs gnuplot bench/plots.gp (-> docs/img/*.png)
#    and regenerates docs/results.md
#    (every table comes from the CSVs).
# Quick: 3 repeats per point, ~0.05 s per run, smaller grids, DLM check in `revise` only.
# Full: 5 repeats, ~0.25 s per run, the whole grids, DLM check in every mode.
# Environment: FULL=0|1, BUILD=build (where dlmsim is), CC=cc.
set -euo pipefail
cd "$(dirname "$0")/.."
FULL=${FULL:-0}
BUILD=${BUILD:-build}
bin=$BUILD/dlmsim
[ -x "$bin" ] || { echo "bench: $bin not built (run make)" >&2; exit 2; }
for t in berkeley-abc gnuplot python3; do
    command -v "$t" >/dev/null || { echo "bench: $t not found (make installs berkeley-abc and gnuplot-nox)" >&2; exit 2; }
done
mkdir -p "$BUILD/bench" bench/results docs/img
${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror -Wundef -Iinclude bench/abc_check.c -o "$BUILD/bench/abc_check"

start=$(date +%s)
echo "bench: checking dlmsim against berkeley-abc (sim -m -v -A) on every EPFL circuit"
if [ "$FULL" = 1 ]; then
    bash bench/check_abc.sh "$bin" "$BUILD/bench/abc_check" 4096 "cot remask revise ar" 512 \
        | tee bench/results/check_abc.txt
    python3 bench/bench.py --full --bin "$bin" --out bench/results
else
    bash bench/check_abc.sh "$bin" "$BUILD/bench/abc_check" 4096 "revise" 4096 \
        | tee bench/results/check_abc.txt
    python3 bench/bench.py --bin "$bin" --out bench/results
fi
# dlmsim against a bit-sliced Verilator model of each circuit (issue 19), CPU time, one
# thread: the small circuits in the quick profile, every EPFL circuit too with FULL=1.
if ! command -v verilator >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "bench: installing verilator (Debian)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq verilator >/dev/null) || true
fi
if command -v verilator >/dev/null; then
    if [ "$FULL" = 1 ]; then BUILD=$BUILD python3 bench/verilator/bench.py --out bench/results/verilator.md
    else BUILD=$BUILD python3 bench/verilator/bench.py --reps 3 --seconds 0.2 --out bench/results/verilator.md \
        c17 circuits/full_adder.aag gen:adder-ripple:16 gen:mult:8 arithmetic/adder; fi
else
    echo "bench: verilator not found: the Verilator comparison is left as it was"
fi
python3 bench/report.py --results bench/results --out docs/results.md
echo "bench: done in $(( $(date +%s) - start )) s: bench/results/*.csv, docs/img/*.png, docs/results.md"
