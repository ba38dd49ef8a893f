#!/usr/bin/env bash
# sass_sh.sh — bench/sass.sh's parser on the current kernel: the script runs (nvcc only,
# no GPU; cuobjdump/nvdisasm beside nvcc or from PyPI under $BUILD), finds every count it
# needs in the SASS, and the figures are sane: a fair coin costs more than one Philox
# block (79 instructions, docs/gpu.md), a 2-input gate more than its two LOP3s, and the
# per-sample figure is the plan's sum; the JIT kernel (NVRTC) keeps issue 18's static
# targets (<= 1.5 warp instructions per sample, no stack, >= 16 warps/SM; <= 6 per
# 2-input gate and no stack on EPFL ctrl). Skipped without nvcc or the tools.
# Ends with "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
if [ ! -x "$nvcc" ]; then
    echo "[ SKIP ] no nvcc"; echo "0 passed, 0 failed, 1 skipped"; exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
BUILD=$BUILD bash bench/sass.sh > "$tmp/out" 2> "$tmp/err"; rc=$?
if [ "$rc" = 77 ]; then
    echo "[ SKIP ] bench/sass.sh: $(tail -1 "$tmp/err")"; echo "0 passed, 0 failed, 1 skipped"; exit 0
fi
passed=0 failed=0
ok() { echo "[  OK  ] $*"; passed=$((passed + 1)); }
bad() { echo "[ FAIL ] $*"; failed=$((failed + 1)); }
num() { sed -n "s/^$1 \\([0-9.]*\\).*/\\1/p" "$tmp/out" | head -1; }
x=$(num 'warp instructions per sample:')
s=$(num 'stack bytes:')
r=$(num 'registers:')
w=$(num 'resident warps per SM:')
read -r coin xor and < <(sed -n 's/^warp instructions per operation pass: fair coin \([0-9]*\), 2-input XOR \([0-9]*\), 2-input AND \([0-9]*\)$/\1 \2 \3/p' "$tmp/out")
if [ "$rc" = 0 ] && [ -n "$x" ] && [ -n "$s" ] && [ -n "$r" ] && [ -n "$w" ] && [ -n "${and:-}" ]; then
    ok "bench/sass.sh printed every figure (X $x, stack $s, $r registers, $w warps/SM)"
else
    bad "bench/sass.sh: exit $rc"; cat "$tmp/out" "$tmp/err"
fi
if [ -n "${and:-}" ] && [ "$coin" -gt 79 ] && [ "$coin" -lt 1000 ] && [ "$xor" -ge 2 ] &&
   [ "$xor" -lt "$coin" ] && [ "$and" -ge 2 ] && [ "$and" -lt "$coin" ]; then
    ok "per pass: fair coin $coin > 79 (one Philox block), 2 <= XOR $xor, AND $and < coin"
else
    bad "per-pass counts out of range: coin ${coin:-?} XOR ${xor:-?} AND ${and:-?}"
fi
# parity-revise:64 revise: 63 fair coins and 62 XORs; the operations' part of X is theirs
ops=$(sed -n 's/.*(operations \([0-9.]*\), outputs.*/\1/p' "$tmp/out")
want=$(awk -v c="${coin:-0}" -v x="${xor:-0}" 'BEGIN {printf "%.2f", (63 * c + 62 * x) / 4096}')
if grep -q '^plan of gen:parity-revise:64 --mode revise: 63 fair coins, 62 XOR, 0 AND, 64 outputs, 64 slots$' "$tmp/out" &&
   [ "$ops" = "$want" ] && [ "$w" -ge 1 ] && [ "$w" -le 64 ]; then
    ok "plan 63 coins + 62 XOR: operations $ops = (63 x $coin + 62 x $xor) / 4096; $w warps/SM in 1..64"
else
    bad "plan or sum: operations ${ops:-?} vs $want, warps ${w:-?}"; cat "$tmp/out"
fi
# the JIT kernel the engine compiles (NVRTC): issue 18's static targets, kept
jx=$(num 'jit warp instructions per sample:')
js=$(num 'jit stack bytes:')
jw=$(num 'jit resident warps per SM:')
if [ -n "$jx" ] && [ -n "$js" ] && [ -n "$jw" ] &&
   awk -v x="$jx" 'BEGIN {exit !(x > 0.5 && x <= 1.5)}' && [ "$js" = 0 ] && [ "$jw" -ge 16 ]; then
    ok "jit kernel: $jx <= 1.5 warp instructions per sample, stack 0, $jw >= 16 warps/SM"
else
    bad "jit kernel: X ${jx:-?}, stack ${js:-?}, warps ${jw:-?}"; grep '^jit' "$tmp/out"
fi
read -r cg cs < <(sed -n 's/^jit EPFL ctrl revise: \([0-9.]*\) warp instructions per 2-input gate per 4096 chains ([0-9]* gates), stack \([0-9]*\) bytes.*/\1 \2/p' "$tmp/out")
if [ -n "${cs:-}" ] && awk -v g="$cg" 'BEGIN {exit !(g > 0 && g <= 6)}' && [ "$cs" = 0 ]; then
    ok "jit kernel of EPFL ctrl revise: $cg <= 6 warp instructions per 2-input gate, stack 0"
else
    bad "jit kernel of EPFL ctrl: per gate ${cg:-?}, stack ${cs:-?}"; grep '^jit EPFL' "$tmp/out"
fi
echo "$passed passed, $failed failed, 0 skipped"
[ "$failed" = 0 ]
