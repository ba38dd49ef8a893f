#!/usr/bin/env bash
# check_abc.sh — bit-exact check of dlmsim against berkeley-abc on every EPFL circuit.
#
# For each circuits/epfl/*/*.aig: the coins of chains 0..N-1 under a fixed seed
# (printed by bench/abc_check.c from the coin contract of include/dlm_step.h) are fed to
# `berkeley-abc "read F.aig; sim -m -v -A pats.txt"` as input patterns; ABC's output
# lines must equal, line for line, `dlmsim run F.aig --direct --samples` (the direct
# evaluator) and `dlmsim run F.aig --mode M --samples` (the DLM engine) for every mode
# listed. This is what the benchmarks time, checked first by an independent tool.
# Any mismatch prints the circuit, the first differing chain and both lines, and the
# script exits 1 after checking the rest ("fail loudly"). Bad setup exits 2.
#
# Usage: [CHECK_CIRCUITS="F.aig ..."] bash bench/check_abc.sh DLMSIM ABC_CHECK CHAINS "MODES" DLM_CHAINS
#   e.g. bash bench/check_abc.sh build/dlmsim build/bench/abc_check 4096 "revise" 4096
set -euo pipefail
bin=${1:-build/dlmsim}; pat=${2:-build/bench/abc_check}; n=${3:-4096}
modes=${4:-revise}; nd=${5:-$n}
seed=20261124
[ -x "$bin" ] && [ -x "$pat" ] || { echo "check_abc: need $bin and $pat" >&2; exit 2; }
command -v berkeley-abc >/dev/null || { echo "check_abc: berkeley-abc not found" >&2; exit 2; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
nfail=0; nok=0
cmp_lines() { # cmp_lines NAME WANT GOT LINES
    local name=$1 want=$2 got=$3 lines=$4
    if ! head -n "$lines" "$want" | cmp -s - "$got"; then
        local k
        k=$(python3 -c 'import sys
a = open(sys.argv[1]).read().split("\n"); b = open(sys.argv[2]).read().split("\n")
print(next((i + 1 for i in range(int(sys.argv[3])) if i >= len(a) or i >= len(b) or a[i] != b[i]), 0))' \
            "$want" "$got" "$lines")
        echo "check_abc: MISMATCH $name: first differing line $k (chain $((k - 1)))" >&2
        echo "  abc:    $(sed -n "${k}p" "$want" 2>/dev/null | cut -c1-120)" >&2
        echo "  dlmsim: $(sed -n "${k}p" "$got" 2>/dev/null | cut -c1-120)" >&2
        nfail=$((nfail + 1))
    else
        nok=$((nok + 1))
    fi
}
# CHECK_CIRCUITS (space-separated files) overrides the list, e.g. to test the check itself
for f in ${CHECK_CIRCUITS:-circuits/epfl/*/*.aig}; do
    name=${f#circuits/epfl/}
    coins=$("$bin" run "$f" --direct --chains 1 --backend cpu --quiet --json |
            python3 -c 'import json,sys; print(json.load(sys.stdin)["coins"])')
    "$pat" "$seed" "$n" "$coins" > "$tmp/pats.txt"
    berkeley-abc -q "read $f; sim -m -v -A $tmp/pats.txt" | sed 's/\x1b\[[0-9;]*m//g' |
        grep -E '^[01]+$' > "$tmp/abc.txt" || true
    if [ "$(wc -l < "$tmp/abc.txt")" -ne "$n" ]; then
        echo "check_abc: MISMATCH $name: ABC printed $(wc -l < "$tmp/abc.txt") output lines, wanted $n" >&2
        nfail=$((nfail + 1)); continue
    fi
    "$bin" run "$f" --direct --seed "$seed" --chains "$n" --backend cpu --quiet \
        --samples "$tmp/direct.txt" > /dev/null
    cmp_lines "$name direct ($n chains)" "$tmp/abc.txt" "$tmp/direct.txt" "$n"
    for m in $modes; do
        "$bin" run "$f" --mode "$m" --seed "$seed" --chains "$nd" --backend cpu --quiet \
            --samples "$tmp/$m.txt" > /dev/null
        cmp_lines "$name $m ($nd chains)" "$tmp/abc.txt" "$tmp/$m.txt" "$nd"
    done
    [ "$nfail" -gt 0 ] || echo "check_abc: $name: $coins coins, direct${modes:+ and $modes} == ABC sim" >&2
done
echo "check_abc: $nok comparisons equal, $nfail differ (seed $seed, $n chains vs ABC; DLM modes on $nd)"
[ "$nfail" -eq 0 ] || { echo "check_abc: FAILED: dlmsim and berkeley-abc disagree" >&2; exit 1; }
