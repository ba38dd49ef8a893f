#!/usr/bin/env bash
# bench/engine_ab.sh — the bit-sliced CPU engine, two builds side by side (issue 19).
#   bench/engine_ab.sh BEFORE/dlmsim AFTER/dlmsim [REPEATS]
# For each case, one thread, `--backend cpu`: (1) instructions executed inside
# dlm_engine_bits_run (valgrind --tool=callgrind --toggle-collect; repeatable, so one
# run; valgrind reports no AVX-512, so this counts the AVX2 paths) and (2) user CPU
# seconds of the whole command (/usr/bin/time -f %U), median of REPEATS (3) runs with
# the two builds alternated. Prints a markdown table: Ir before/after, CPU s
# before/after, and the ratios.
set -euo pipefail
A=${1:?before binary}; B=${2:?after binary}; R=${3:-3}
# case | chains for CPU time | chains for callgrind
CASES=(
  "gen:random:64,20,5 --mode revise|80000000|2000000"
  "gen:parity-revise:64 --mode revise|150000000|2000000"
  "circuits/epfl/arithmetic/multiplier.aig --mode revise|2000000|40000"
  "circuits/epfl/random_control/ctrl.aig --mode revise|200000000|4000000"
  "circuits/epfl/random_control/i2c.aig --mode revise|40000000|800000"
  "circuits/epfl/arithmetic/adder.aig --mode revise|20000000|400000"
)
[ -n "${CASES_ONLY:-}" ] && CASES=("${CASES[@]:0:$CASES_ONLY}")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ir() { # binary case chains -> instructions in dlm_engine_bits_run
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" --toggle-collect=dlm_engine_bits_run \
    "$1" run $2 --chains "$3" --backend cpu --threads 1 --quiet >/dev/null 2>"$tmp/err"
  grep -o 'Collected : [0-9]*' "$tmp/err" | grep -o '[0-9]*$'
}
cpu() { /usr/bin/time -f %U -o "$tmp/t" "$1" run $2 --chains "$3" --backend cpu --threads 1 --quiet >/dev/null; cat "$tmp/t"; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| case | chains (CPU s) | Ir before | Ir after | Ir after/before | CPU s before | CPU s after | CPU after/before |"
echo "|---|---|---|---|---|---|---|---|"
for c in "${CASES[@]}"; do
  IFS='|' read -r what nc ni <<<"$c"
  ia=$(ir "$A" "$what" "$ni"); ib=$(ir "$B" "$what" "$ni")
  ta=(); tb=()
  for ((i = 0; i < R; i++)); do
    if ((i % 2)); then tb+=("$(cpu "$B" "$what" "$nc")"); ta+=("$(cpu "$A" "$what" "$nc")")
    else ta+=("$(cpu "$A" "$what" "$nc")"); tb+=("$(cpu "$B" "$what" "$nc")"); fi
  done
  ma=$(median "${ta[@]}"); mb=$(median "${tb[@]}")
  awk -v w="$what" -v nc="$nc" -v ni="$ni" -v ia="$ia" -v ib="$ib" -v ma="$ma" -v mb="$mb" 'BEGIN {
    printf "| %s | %s (Ir: %s) | %.4g | %.4g | %.3f | %.2f | %.2f | %.3f |\n", w, nc, ni, ia, ib, ib / ia, ma, mb, mb / ma }'
done
