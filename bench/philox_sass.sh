#!/usr/bin/env bash
# Counts the SASS instructions of one Philox4x32-10 block for sm_90 (no GPU needed):
# compiles bench/philox_sass.cu to a cubin, disassembles it with cuobjdump -sass, and
# prints, per kernel, the instructions (NOP and the trailing BRA-to-self excluded) and
# their mix; the Philox cost is philox_kernel minus baseline_kernel (docs/gpu.md).
#   bash bench/philox_sass.sh [ARCH]        (ARCH defaults to sm_90)
# cuobjdump: $CUOBJDUMP, else beside nvcc, else on PATH (a toolkit without it: the pip
# package nvidia-cuda-cuobjdump has it, e.g. pip install --target DIR nvidia-cuda-cuobjdump).
set -eu
arch=${1:-sm_90}
nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
cuobjdump=${CUOBJDUMP:-$(dirname "$nvcc")/cuobjdump}
[ -x "$cuobjdump" ] || cuobjdump=$(command -v cuobjdump) || { echo "philox_sass.sh: no cuobjdump" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$nvcc" -std=c++17 -O3 --fmad=false -arch="$arch" -cubin -Iinclude bench/philox_sass.cu -o "$tmp/p.cubin"
"$cuobjdump" -sass "$tmp/p.cubin" > "$tmp/p.sass"
# one line per instruction: "/*0040*/  IMAD.WIDE.U32 R2, ..." -> the opcode
awk '
  /Function :/ { fn = $3 }
  /^ *\/\*[0-9a-f]+\*\// {
    line = $0; sub(/^ *\/\*[0-9a-f]+\*\/ */, "", line); sub(/^@!?U?P[0-9T] +/, "", line)
    split(line, w, /[ ;]/); op = w[1]
    if (op == "NOP" || op == "") next
    if (op == "BRA" && line ~ /`\(\.L_x_[0-9]+\)/ && last == "EXIT") next
    n[fn]++; mix[fn, op]++; last = op
  }
  END {
    for (k in n) printf "%-20s %4d instructions\n", k, n[k]
    for (km in mix) { split(km, p, SUBSEP); printf "  %-20s %-16s %3d\n", p[1], p[2], mix[km] }
  }' "$tmp/p.sass" | sort
echo "philox block = philox_kernel - baseline_kernel (same loads, store and index arithmetic)"
