#!/usr/bin/env bash
# Prints the markdown table of docs/model.md: for every EPFL circuit and a few
# generators, N, d, w and the rounds and L of each mode, from `dlmsim info --json`.
# Usage: bash bench/model_table.sh [DLMSIM] > table.md
set -euo pipefail
bin=${1:-build/dlmsim}
circuits=(gen:parity-revise:64 gen:parity-tree:64 gen:parity-chain:64 gen:adder-ripple:32
          gen:adder-prefix:32 gen:mult:8 gen:maj:15 gen:random:32,16,1)
for f in ../shared/circuits/epfl/*/*.aig; do circuits+=("$f"); done
echo "| circuit | N | d | w | cot R | cot L | remask R | remask L | revise R | revise L | ar R = L |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for c in "${circuits[@]}"; do
    "$bin" info "$c" --json | python3 -c '
import json, sys, os
j = json.load(sys.stdin)
m = j["modes"]
def f(k, x): return str(m[k][x]) if m[k] else "n/a"
name = j["circuit"].replace("../shared/circuits/epfl/", "")
print("| %s | %d | %d | %d | %s | %s | %s | %s | %s | %s | %s |" % (name, j["size"], j["depth"], j["width"],
      f("cot","rounds"), f("cot","L"), f("remask","rounds"), f("remask","L"), f("revise","rounds"), f("revise","L"), f("ar","L")))'
done
