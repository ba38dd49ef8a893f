#!/usr/bin/env bash
# jit_compile.sh — what the JIT kernel's NVRTC compile costs, per program (docs/gpu.md,
# "The JIT kernel"): for each CIRCUIT:MODE, the slot plan's operations and slots, the
# values live at once in the generated code (dlm_jit_live_peak), the
# CPU seconds of the engine's own compile (bench/plan_ops cubin: dlm_cuda_jit_compile,
# sm_90; user + system time of the process, which is almost all NVRTC) and the
# cubin's registers and stack (cuobjdump). No GPU needed.
#   bash bench/jit_compile.sh [CIRCUIT:MODE ...]
# Needs the build's library and bench/sass.sh's tools (run bench/sass.sh once first).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
out=$BUILD/sass
[ -x "$BUILD/bench/plan_ops" ] || { echo "jit_compile.sh: run bench/sass.sh first (it builds $BUILD/bench/plan_ops)" >&2; exit 2; }
bin=$(ls -d "$BUILD"/sass-venv/lib/python3*/site-packages/nvidia/cu*/bin 2>/dev/null | tail -1)
nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
[ -x "$(dirname "$nvcc")/cuobjdump" ] && bin=$(dirname "$nvcc")
[ -n "$bin" ] || { echo "jit_compile.sh: no cuobjdump (run bench/sass.sh first)" >&2; exit 77; }
E=circuits/epfl
set -- ${@:-gen:parity-revise:16:revise gen:parity-revise:64:revise $E/random_control/ctrl.aig:cot \
    $E/random_control/ctrl.aig:revise gen:mult:8:revise $E/random_control/dec.aig:revise \
    $E/random_control/priority.aig:revise $E/arithmetic/adder.aig:revise}
echo "| program | operations | slots | live at once | compile CPU s | registers | stack bytes |"
echo "|---|---|---|---|---|---|---|"
for cm in "$@"; do
    c=${cm%:*} m=${cm##*:}
    "$BUILD/bench/plan_ops" "$c" "$m" > "$out/jc_plan.txt"
    ops=$(awk '$1 != "outputs" && $1 != "slots" && $1 != "live" {s += $2} END {print s}' "$out/jc_plan.txt")
    live=$(awk '$1 == "live" {print $2}' "$out/jc_plan.txt")
    slots=$(awk '$1 == "slots" {print $2}' "$out/jc_plan.txt")
    t=$( { /usr/bin/time -f "%U %S" "$BUILD/bench/plan_ops" "$c" "$m" cubin "$out/jc.cubin" > /dev/null; } 2>&1 | tail -1)
    cpu=$(awk -v a="${t% *}" -v b="${t#* }" 'BEGIN {printf "%.2f", a + b}')
    "$bin/cuobjdump" --dump-resource-usage "$out/jc.cubin" > "$out/jc_res.txt"
    reg=$(grep -o 'REG:[0-9]*' "$out/jc_res.txt" | head -1 | cut -d: -f2)
    st=$(grep -o 'STACK:[0-9]*' "$out/jc_res.txt" | head -1 | cut -d: -f2)
    echo "| $(basename "$c") $m | $ops | $slots | $live | $cpu | $reg | $st |"
done
