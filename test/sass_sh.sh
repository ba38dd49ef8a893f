#!/usr/bin/env bash
# sass_sh.sh — bench/sass.sh's parser on the current kernel: the script runs (nvcc only,
# no GPU; cuobjdump/nvdisasm beside nvcc or from PyPI under $BUILD), finds every count it
# needs in the SASS, and the figures are sane: a fair coin costs more than one Philox
# block (79 instructions, docs/gpu.md), a 2-input gate more than its two LOP3s, and the
# per-sample figure is the plan's sum. Skipped without nvcc or the tools.
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
echo "$passed passed, $failed failed, 0 skipped"
[ "$failed" = 0 ]
