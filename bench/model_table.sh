#!/usr/bin/env bash
# Prints the markdown table of docs/model.md: for every EPFL circuit and a few
# generators, N, d, w and the rounds and L of each mode, from `dlmsim info --json`.
# Usage: bash bench/model_table.sh [DLMSIM] > table.md
set -euo pipefail
bin=${1:-build/dlmsim}
circuits=(gen:parity-revise:64 gen:parity-tree:64 gen:parity-chain:64 gen:adder-ripple:32
          gen:adder-prefix:32 gen:mult:8 gen:maj:15 gen:random:32,16,1)
for f in circuits/epfl/*/*.aig; do circuits+=("$f"); done
echo "| circuit | N | d | w | R (cot, remask, revise) | cot L | remask L (C) | revise L (w', C) | ar R = L |"
echo "|---|---|---|---|---|---|---|---|---|"
for c in "${circuits[@]}"; do
    "$bin" info "$c" --json | python3 -c '
import json, sys, os
j = json.load(sys.stdin)
m = j["modes"]
def f(k, x): return str(m[k][x]) if m[k] else "n/a"
name = j["circuit"].replace("circuits/epfl/", "")
assert m["cot"]["rounds"] == m["remask"]["rounds"] == m["revise"]["rounds"] == j["depth"] + 1
print("| %s | %d | %d | %d | %d | %s | %s (%d) | %s (%d, %d) | %s |" % (name, j["size"], j["depth"], j["width"],
      j["depth"] + 1, f("cot","L"), f("remask","L"), m["remask"]["counter_bits"], f("revise","L"),
      m["revise"]["slots"], m["revise"]["counter_bits"], f("ar","L")))'
done
