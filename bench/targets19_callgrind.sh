#!/bin/bash
# bench/targets19_callgrind.sh — instructions of the sampling (valgrind's callgrind, every
# thread added up), --threads 1 against --threads 2, set-up (a 64-chain run) subtracted:
# the work the second thread adds, counted repeatably on a loaded machine (issue 19's
# fourth target; docs/results.md section 9). Wall-time scaling it cannot show: callgrind
# runs the threads one at a time. OMP_WAIT_POLICY=passive: no spinning counted.
set -eu
B=${BUILD:-build}/dlmsim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ins() {
    OMP_WAIT_POLICY=passive valgrind --tool=callgrind --separate-threads=yes \
        --callgrind-out-file="$out/o" "$B" run "$1" --mode "$2" --backend cpu --quiet \
        --threads "$3" --chains "$4" >/dev/null 2>&1
    cat "$out"/o-* | awk '/^totals:/ {s += $2} END {print s}'
    rm -f "$out"/o-*
}
echo "| circuit | mode | chains | set-up instructions | sampling, 1 thread | sampling, 2 threads | 2 / 1 |"
echo "|---|---|---|---|---|---|---|"
for cm in "arithmetic/multiplier revise 131072" "arithmetic/square cot 131072" \
          "random_control/mem_ctrl revise 65536" "arithmetic/hyp cot 16384"; do
    set -- $cm
    c=circuits/epfl/$1.aig
    s=$(ins "$c" "$2" 1 64); i1=$(ins "$c" "$2" 1 "$3"); i2=$(ins "$c" "$2" 2 "$3")
    echo "| $1 | $2 | $3 | $s | $((i1 - s)) | $((i2 - s)) | $(awk "BEGIN {printf \"%.3f\", ($i2 - $s) / ($i1 - $s)}") |"
done
