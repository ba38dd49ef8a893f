#!/usr/bin/env bash
# require_gpu.sh — DLMSIM_REQUIRE_GPU=1 turns every skip for want of a CUDA device into a
# failure (docs/gpu.md, "DLMSIM_REQUIRE_GPU"). The emulated test binaries (test/cuda_emu,
# build/emu/test/) on a fake machine without a device (DLM_EMU_DEVICE=none, no-driver,
# old-driver): without the variable the device tests are skipped and the binary passes;
# with it they fail, each saying why. Then the doctest `gpu` option the same way (where
# nvidia-smi lists no GPU). Ends with "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
E=$BUILD/emu/test
passed=0 failed=0 skipped=0
ok() { echo "[  OK  ] $*"; passed=$((passed + 1)); }
bad() { echo "[ FAIL ] $*"; failed=$((failed + 1)); }
skip() { echo "[ SKIP ] $*"; skipped=$((skipped + 1)); }

if [ ! -x "$E/test_cuda" ]; then
    skip "$E/test_cuda not built (EMU=0 or SAN=1)"
else
    for t in test_cuda test_sampler test_philox; do
        modes="none no-driver old-driver"
        [ "$t" = test_sampler ] && modes=none   # its CPU tests take seconds: one state
        for mode in $modes; do
            out=$(DLM_EMU_DEVICE=$mode "$E/$t" 2>&1); rc=$?
            if [ "$rc" -eq 0 ] && grep -q '^\[  SKIPPED \] [1-9][0-9]* test' <<<"$out" &&
               ! grep -q '^\[  FAILED  \]' <<<"$out"; then
                ok "$t, DLM_EMU_DEVICE=$mode: device tests skipped, exit 0"
            else
                bad "$t, DLM_EMU_DEVICE=$mode: want skips and exit 0, got exit $rc"
                printf '%s\n' "$out" | tail -5
            fi
            out=$(DLM_EMU_DEVICE=$mode DLMSIM_REQUIRE_GPU=1 "$E/$t" 2>&1); rc=$?
            if [ "$rc" -ne 0 ] && grep -q '^\[  FAILED  \] [1-9][0-9]* test' <<<"$out" &&
               grep -q 'DLMSIM_REQUIRE_GPU=1 wants one' <<<"$out" &&
               ! grep -q '^\[  SKIPPED \] [1-9]' <<<"$out"; then
                ok "$t, DLM_EMU_DEVICE=$mode DLMSIM_REQUIRE_GPU=1: fails (exit $rc), none skipped"
            else
                bad "$t, DLM_EMU_DEVICE=$mode DLMSIM_REQUIRE_GPU=1: want failures, got exit $rc"
                printf '%s\n' "$out" | tail -5
            fi
        done
    done
fi

# the doctest `gpu` option
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '# t\n\n<!-- doctest: gpu -->\n\n    $ true\n' > "$tmp/gpu.md"
if nvidia-smi -L 2>/dev/null | grep -q GPU; then
    skip "doctest gpu option: this machine has a GPU (the block runs)"
else
    out=$(BUILD=$BUILD python3 test/doctest.py "$tmp/gpu.md" 2>&1); rc=$?
    if [ "$rc" -eq 0 ] && grep -q '^0 passed, 0 failed, 1 skipped$' <<<"$out"; then
        ok "doctest gpu block without a GPU: skipped"
    else
        bad "doctest gpu block without a GPU: want 1 skipped, got exit $rc"; printf '%s\n' "$out"
    fi
    out=$(BUILD=$BUILD DLMSIM_REQUIRE_GPU=1 python3 test/doctest.py "$tmp/gpu.md" 2>&1); rc=$?
    if [ "$rc" -ne 0 ] && grep -q '^0 passed, 1 failed, 0 skipped$' <<<"$out"; then
        ok "doctest gpu block without a GPU, DLMSIM_REQUIRE_GPU=1: failed"
    else
        bad "doctest gpu block, DLMSIM_REQUIRE_GPU=1: want 1 failed, got exit $rc"; printf '%s\n' "$out"
    fi
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
