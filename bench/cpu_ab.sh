#!/usr/bin/env bash
# bench/cpu_ab.sh — two dlmsim builds' CPU seconds side by side, one thread, --backend cpu
# (issue 19, docs/throughput.md Update 7).
#   bench/cpu_ab.sh BEFORE/dlmsim AFTER/dlmsim [REPEATS] ["CIRCUIT MODE CHAINS" ...]
# For each case: user CPU seconds of the whole `run` (/usr/bin/time -f %U, set-up
# included), REPEATS (5) runs of each build alternated (the order flips every repeat);
# prints the medians and every run. Without cases, the five of Update 7.
set -euo pipefail
A=${1:?before binary}; B=${2:?after binary}; R=${3:-5}
shift $(($# < 3 ? $# : 3))
CASES=("$@")
[ ${#CASES[@]} -eq 0 ] && CASES=(
  "gen:mult:8 revise 200000000"
  "circuits/epfl/random_control/ctrl.aig revise 400000000"
  "circuits/epfl/random_control/ctrl.aig cot 400000000"
  "circuits/epfl/arithmetic/multiplier.aig revise 3000000"
  "circuits/epfl/random_control/arbiter.aig revise 10000000"
)
tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
cpu() { # binary circuit mode chains
  /usr/bin/time -f %U -o "$tmp" "$1" run "$2" --mode "$3" --chains "$4" --backend cpu --threads 1 --quiet >/dev/null
  cat "$tmp"
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| case | chains | CPU s before | CPU s after | after/before | runs before | runs after |"
echo "|---|---|---|---|---|---|---|"
for c in "${CASES[@]}"; do
  read -r circ mode n <<<"$c"
  ta=(); tb=()
  for ((i = 0; i < R; i++)); do
    if ((i % 2)); then tb+=("$(cpu "$B" "$circ" "$mode" "$n")"); ta+=("$(cpu "$A" "$circ" "$mode" "$n")")
    else ta+=("$(cpu "$A" "$circ" "$mode" "$n")"); tb+=("$(cpu "$B" "$circ" "$mode" "$n")"); fi
  done
  ma=$(median "${ta[@]}"); mb=$(median "${tb[@]}")
  echo "| $circ $mode | $n | $ma | $mb | $(awk -v a="$ma" -v b="$mb" 'BEGIN {printf "%.2f", b / a}') | ${ta[*]} | ${tb[*]} |"
done
