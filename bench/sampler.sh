#!/usr/bin/env bash
# Throughput of the oracle sampler (dlmsim sample) on the CPU: chains/s for a few laws
# and policies, the median of 3 runs each, all cores. Prints a Markdown table (pasted
# into docs/oracle.md, "Throughput"). Run from the repository root after `make`:
#   bash bench/sampler.sh            (DLMSIM=path/to/dlmsim to use another build)
set -eu
D=${DLMSIM:-build/dlmsim}
cases=(
  "parity:12|--policy llada --steps 6|200000"
  "parity:12|--policy llada-random --steps 6|200000"
  "parity:12|--policy parity-revise|200000"
  "bsc:256:0.1|--policy llada --steps 64|2000"
  "bsc:256:0.1|--policy fast-dllm|2000"
  "bsc:256:0.1|--policy remdm-loop --steps 64|2000"
  "english:256|--policy llada --block-length 32 --steps 64|500"
)
echo "| law | policy | chains | rounds (mean) | chains/s (median of 3) |"
echo "|---|---|---|---|---|"
for c in "${cases[@]}"; do
  IFS='|' read -r law pol n <<< "$c"
  rates=()
  for r in 1 2 3; do
    out=$("$D" sample "$law" $pol --chains "$n" --seed "$r" --json 2>/dev/null)
    rates+=("$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["chains_per_s"])' "$out")")
    rounds=$(python3 -c 'import json,sys; print("%.2f" % json.loads(sys.argv[1])["rounds_mean"])' "$out")
  done
  med=$(printf '%s\n' "${rates[@]}" | sort -g | sed -n 2p)
  printf '| `%s` | `%s` | %s | %s | %.4g |\n' "$law" "$pol" "$n" "$rounds" "$med"
done
