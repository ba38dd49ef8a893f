#!/usr/bin/env bash
# gpu_sh.sh — bench/gpu.sh's own logic on the CPU emulation's fake device
# (DLMSIM_GPU_SH_EMU=1, test/cuda_emu), with tiny chain counts, so that on a real device
# it cannot stop for a trivial reason: (a) with a device it builds, passes its tests under
# DLMSIM_REQUIRE_GPU=1, calibrates every row to at least MIN_S seconds and writes the
# report with every row; (b) without one (DLM_EMU_DEVICE=none) it stops after the tests
# with exit 1 and no timing; (c) when its time guard runs out it keeps the rows so far,
# says where it was cut, exits 3. Ends with "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
passed=0 failed=0 skipped=0
ok() { echo "[  OK  ] $*"; passed=$((passed + 1)); }
bad() { echo "[ FAIL ] $*"; failed=$((failed + 1)); }
if [ ! -x "$BUILD/emu/dlmsim" ] || [ ! -x "$BUILD/emu/test/test_philox" ]; then
    echo "[ SKIP ] $BUILD/emu not built (EMU=0 or SAN=1)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gpush() { # gpu.sh on the emulated build, quick rows; extra environment as arguments
    env BUILD="$BUILD" DLMSIM_GPU_SH_EMU=1 ROWS=quick TESTS=test_philox SCALE=1e-6 REPEATS=2 \
        OUT_MD="$tmp/gpu.md" "$@" bash bench/gpu.sh > "$tmp/out" 2>&1
}

# (a) a device: every row (the JIT and the interpreter kernel among them), each calibrated until one run sampled for at least MIN_S
# seconds (the calibration column; the median of the repeats may be a little less)
gpush MIN_S=0.02; rc=$?
md=$tmp/gpu.md
rows=$(grep -cE '^\| [^|]+ \| (revise|cot) \| (cuda:jit|cuda:interpreter|cuda-ref|cpu) \|' "$md" 2>/dev/null)
short=$(awk -F'|' '/^\| .* \| (cuda:jit|cuda:interpreter|cuda-ref|cpu) \|/ && $10 + 0 < 0.02 {n++} END {print n + 0}' "$md" 2>/dev/null)
if [ "$rc" -eq 0 ] && grep -q '^- test_philox: exit 0, \[ PASSED \] [1-9]' "$md" &&
   [ "$rows" = 8 ] && [ "$short" = 0 ] && grep -q '^8 of 8 rows$' "$md"; then
    ok "gpu.sh with a device: tests passed, 8 rows calibrated to >= 0.02 s, report written"
else
    bad "gpu.sh with a device: exit $rc, $rows rows, $short short"; tail -20 "$tmp/out"; cat "$md"
fi
for be in cuda:jit cuda:interpreter cuda-ref cpu; do
    if grep -qE "^\| ctrl.aig \| cot \| $be \| " "$md"; then ok "row ctrl.aig cot $be"
    else bad "no row ctrl.aig cot $be"; fi
done

# (b) no device: the tests fail under DLMSIM_REQUIRE_GPU=1, nothing is timed
gpush DLM_EMU_DEVICE=none MIN_S=0; rc=$?
if [ "$rc" -eq 1 ] && grep -q '^- test_philox: exit [1-9]' "$md" && ! grep -q '^| circuit' "$md" &&
   grep -q 'no timing without a check' "$tmp/out"; then
    ok "gpu.sh without a device: stops after the tests, exit 1, no timing"
else
    bad "gpu.sh without a device: exit $rc"; tail -20 "$tmp/out"
fi

# (c) the time guard: a row that wants 100 s cannot finish in a budget of 8
gpush MIN_S=100 BUDGET_S=8; rc=$?
if [ "$rc" -eq 3 ] && grep -q '^cut: the time guard (BUDGET_S) ran out after 0 of 8 rows$' "$md" &&
   grep -q '^- test_philox: exit 0' "$md"; then
    ok "gpu.sh over its budget: cut, partial report, exit 3"
else
    bad "gpu.sh over its budget: exit $rc"; tail -20 "$tmp/out"; cat "$md"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
