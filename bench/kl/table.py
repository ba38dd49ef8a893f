#!/usr/bin/env python3
"""Formats `dlmsim kl TARGET --json` (stdin) as a Markdown table: one row per T, one
column per schedule (E_M KL in nats; path-KL estimates as mean +- 1.96 se), then the
overlays at s_max = ceil(L/T). Used by bench/kl/regen.sh for docs/kl.md."""
import json, math, sys

d = json.load(sys.stdin)
L = d["L"]
names = []
for r in d["rows"]:
    if r["schedule"] not in names:
        names.append(r["schedule"])
Ts = sorted({r["T"] for r in d["rows"]})
cell = {(r["schedule"], r["T"]): r for r in d["rows"]}
est = d["method"] != "exact"
hdr = ["T"] + names
if d.get("sumI") is not None:
    hdr += ["Li-Cai", "(s_max-1)/L sum I", "TC/T", "DTC/T"]
print("| " + " | ".join(hdr) + " |")
print("|" + "---|" * len(hdr))
for T in Ts:
    row = [str(T)]
    for n in names:
        r = cell.get((n, T))
        if r is None or r["kl"] is None:
            row.append("-")
        elif est:
            row.append("%.3f ± %.3f" % (r["kl"], 1.959964 * r["se"]))
        else:
            row.append("%.3f" % (0.0 if abs(r["kl"]) < 5e-13 else r["kl"]))
    if d.get("sumI") is not None:
        s = -(-L // T)
        pw = 1
        while pw < s:
            pw *= 2
        row += ["%.3f" % ((pw - 1) / L * d["sumI"]), "%.3f" % ((s - 1) / L * d["sumI"]),
                "%.3f" % (d["TC"] / T), "%.3f" % (d["DTC"] / T)]
    print("| " + " | ".join(row) + " |")
