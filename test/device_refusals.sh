#!/usr/bin/env bash
# device_refusals.sh — a CUDA backend asked for on a device that is absent, behind no or
# an old driver, or too small gives one line on stderr and exit code 2 (docs/gpu.md,
# "When the device cannot run it"). The emulated command line (test/cuda_emu,
# build/emu/dlmsim) on fake machines: DLM_EMU_DEVICE=none, no-driver, old-driver, and a
# device of DLM_EMU_MEM_MB=64 (less than the engines' 64 MiB + 1/32 margin, the
# sampler's 256 MiB + 1/16); `run` with both CUDA engines, `verify` of a circuit and
# `sample`/`verify` of a law. Ends with "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
D=$BUILD/emu/dlmsim
passed=0 failed=0 skipped=0
ok() { echo "[  OK  ] $*"; passed=$((passed + 1)); }
bad() { echo "[ FAIL ] $*"; failed=$((failed + 1)); }
skip() { echo "[ SKIP ] $*"; skipped=$((skipped + 1)); }

if [ ! -x "$D" ]; then
    skip "$D not built (EMU=0 or SAN=1)"
    echo "$passed passed, $failed failed, $skipped skipped"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cmds=("run gen:parity-revise:8 --chains 300 --backend cuda"
      "run gen:parity-revise:8 --chains 300 --backend cuda-ref"
      "verify gen:parity-revise:8 --chains 300 --backend cuda"
      "sample parity:6 --chains 300 --backend cuda"
      "verify parity:6 --chains 300 --backend cuda")
# situation (environment), then what its one line must say (a grep -E pattern)
situations=("DLM_EMU_DEVICE=none" "CUDA is not usable: no CUDA device \(cudaErrorNoDevice\)"
            "DLM_EMU_DEVICE=no-driver" "CUDA is not usable: no CUDA driver installed"
            "DLM_EMU_DEVICE=old-driver" "the CUDA driver supports CUDA 12\.4, this dlmsim was built for CUDA 13\.0"
            "DLM_EMU_MEM_MB=64" "does not fit: needs [0-9]+ fixed bytes .* per (chain|pair) .*device has 67108864 of 67108864 bytes free.*--max-memory")
for ((i = 0; i < ${#situations[@]}; i += 2)); do
    env=${situations[$i]} want=${situations[$((i + 1))]}
    for c in "${cmds[@]}"; do
        # shellcheck disable=SC2086
        env "$env" "$D" $c > "$tmp/out" 2> "$tmp/err"
        rc=$?
        n=$(wc -l < "$tmp/err")
        if [ "$rc" -eq 2 ] && [ "$n" -eq 1 ] && grep -qE "^dlmsim: .*$want" "$tmp/err" && [ ! -s "$tmp/out" ]; then
            ok "$env dlmsim $c: one line, exit 2"
        else
            bad "$env dlmsim $c: want one line matching /$want/ and exit 2, got exit $rc, $n lines:"
            cat "$tmp/err" "$tmp/out"
        fi
    done
done
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
