#!/usr/bin/env python3
"""Formats `dlmsim sample LAW --policy P --exact --json` lines (stdin, one per policy, in
the order of the names given as arguments) as the Markdown table of docs/kl.md
("Policies on the binary symmetric chain"): expected rounds, KL(p || q), KL(q || p)
and TV of each policy's exact output law. Usage: ... | policy_table.py NAME..."""
import json
import sys

WHAT = {
    "llada": "low_confidence, fixed 2 a round",
    "llada-random": "random order, fixed 2 a round",
    "li-cai": "lowest conditional entropy first, fixed",
    "maskgit-plus": "Dream grid",
    "topk-margin": "Dream grid",
    "mdlm": "Binomial, random order",
    "fast-dllm": "tau 0.9, steps unused",
    "factor": "f = 1",
    "eb": "gamma 0.01: one a round here",
    "entsum": "threshold 1 nat",
    "llada21-edit": "tau 0.95, editing 0.9",
}


def num(x):
    if x is None:
        return "inf"
    return "0" if abs(x) < 5e-13 else "%.3f" % x


names = sys.argv[1:]
rows = [json.loads(l) for l in sys.stdin if l.strip()]
if len(rows) != len(names):
    sys.exit("policy_table.py: %d JSON lines for %d names" % (len(rows), len(names)))
print("| policy | rounds (expected) | KL(p ‖ q) | KL(q ‖ p) | TV |")
print("|---|---|---|---|---|")
for n, r in zip(names, rows):
    e = r["exact"]
    what = " (%s)" % WHAT[n] if n in WHAT else ""
    print("| `%s`%s | %.2f | %s | %s | %s |" % (n, what, e["rounds_mean"], num(e["kl_forward"]),
                                              num(e["kl_reverse"]), num(e["tv"])))
