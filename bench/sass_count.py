#!/usr/bin/env python3
"""sass_count.py: the basic blocks of one kernel in `nvdisasm -c -gi` output, and the
warp instructions of chosen paths through them (bench/sass.sh, docs/gpu.md "SASS
figures").

A warp issues every instruction of every basic block it enters (predicated-off ones
included), so the cost of one pass of a loop body for one kind of operation is the sum
of the instructions of the blocks on that pass. Which blocks a pass enters is found
from the control-flow graph (BRA/BRX targets, fall-through) and source lines (-lineinfo
annotations, with their inline chains): a pass is given as a cycle of *witnesses*, each
a set of blocks named by a source-line pattern and/or an instruction pattern, and its
cost is that of the shortest cycle through one block of each witness in turn. In the
interpreter the operation kind and truth table are decided by a decision tree (compare
and branch, small BRX tables), so the path from the operation fetch to a leaf is the
only one, and the shortest way back to the fetch is the loop's continuation.

  sass_count.py blocks FILE KERNEL            the blocks (debugging)
  sass_count.py path FILE KERNEL W1 W2 ...    instructions of the shortest cycle
      W = 'line:REGEX' (an instruction's line chain matches), 'ins:REGEX' (its text
      matches), or both joined by '&'.
  sass_count.py split FILE KERNEL W LABEL=REGEX ...
      the same loop's instructions by source: each counted under the first LABEL whose
      REGEX matches its line chain (the innermost-first "file:line" list, joined by
      spaces), else under "other"; prints "LABEL N" lines.
  sass_count.py loop FILE KERNEL W UNIT [SKIP]
      the innermost loop around the first block of W (a back edge to a block at or
      before it from one at or after it): prints its instructions, all blocks entered
      except those matching SKIP, and how many instructions match UNIT in it (a loop
      the compiler unrolled does UNIT's work that many times per pass).
"""
import heapq
import re
import sys

INS = re.compile(r"^\s*/\*([0-9a-f]+)\*/\s+(.*?)\s*;")
LABEL = re.compile(r"^(\.L_x_\d+):")
FILE = re.compile(r'//## File "([^"]+)", line (\d+)(?: inlined at "([^"]+)", line (\d+))?')


def parse(path, kernel):
    """Instructions of the function whose name contains kernel: dicts with text, op,
    labels (those just before it) and lines (the innermost-first chain of file:line)."""
    fn, out, labels, chain, fresh = None, [], [], [], False
    with open(path) as f:
        for raw in f:
            m = re.match(r"^\.text\.(\S+):", raw)
            if m:
                fn = m.group(1) if kernel in m.group(1) else None
                continue
            if fn is None:
                continue
            m = FILE.search(raw)
            if m:
                if not fresh:
                    chain, fresh = [], True
                chain.append("%s:%s" % (m.group(1).rsplit("/", 1)[-1], m.group(2)))
                continue
            m = LABEL.match(raw)
            if m:
                labels.append(m.group(1))
                continue
            m = INS.match(raw)
            if m:
                text = m.group(2)
                body = re.sub(r"^@!?U?P[0-9T]\s+", "", text)
                op = body.split()[0] if body.split() else ""
                targets = re.findall(r"BRANCH_TARGETS ([^\"]*)", raw)
                out.append({"addr": int(m.group(1), 16), "text": text, "op": op,
                            "pred": body != text, "labels": labels,
                            "brx": targets[0].split(",") if targets else [],
                            "bra": re.findall(r"`\((\.L_x_\d+)\)", text),
                            "lines": " ".join(chain)})
                labels, fresh = [], False
    if not out:
        sys.exit("sass_count.py: no function matching %r in %s" % (kernel, path))
    return out


def blocks(ins):
    """Basic blocks: lists of instruction indices, and successor block indices."""
    lead = {0}
    for i, x in enumerate(ins):
        if x["labels"]:
            lead.add(i)
        if x["op"] in ("BRA", "BRX", "EXIT", "RET", "JMP", "JMX") and i + 1 < len(ins):
            lead.add(i + 1)
    starts = sorted(lead)
    blk = [list(range(s, e)) for s, e in zip(starts, starts[1:] + [len(ins)])]
    at = {}
    for b, idx in enumerate(blk):
        for lab in ins[idx[0]]["labels"]:
            at[lab] = b
    succ = []
    for b, idx in enumerate(blk):
        last = ins[idx[-1]]
        s = [at[t] for t in last["bra"] + last["brx"] if t in at]
        ends = last["op"] in ("BRA", "BRX", "EXIT", "RET", "JMP", "JMX") and not last["pred"]
        if not ends and b + 1 < len(blk):
            s.append(b + 1)
        succ.append(sorted(set(s)))
    return blk, succ


def cost(ins, idx):
    """Warp instructions of a block: all but NOP (padding after the last EXIT)."""
    return sum(1 for i in idx if ins[i]["op"] != "NOP")


def witness(ins, blk, spec):
    tests = []
    for part in spec.split("&"):
        kind, _, rx = part.partition(":")
        if kind not in ("line", "ins"):
            sys.exit("sass_count.py: bad witness %r (line:REGEX, ins:REGEX)" % spec)
        tests.append(("lines" if kind == "line" else "text", re.compile(rx)))
    found = {b for b, idx in enumerate(blk)
             if any(all(rx.search(ins[i][key]) for key, rx in tests) for i in idx)}
    if not found:
        sys.exit("sass_count.py: no block matches %r" % spec)
    return found


def shortest(succ, w, src, dst):
    """Cheapest path from a block of src to a block of dst (at least one step), counting
    every block entered after the first; returns (cost, blocks) or None."""
    dist, prev = {}, {}
    heap = [(0, b, None) for b in sorted(src)]
    while heap:
        d, b, p = heapq.heappop(heap)
        key = (b, p is not None)  # a source block may be re-entered as a destination
        if key in dist:
            continue
        dist[key], prev[key] = d, p
        if p is not None and b in dst:
            path, k = [b], p
            while k is not None:
                path.append(k[0])
                k = prev[k]
            return d, path[::-1]
        for s in succ[b]:
            if (s, True) not in dist:
                heapq.heappush(heap, (d + w[s], s, key))
    return None


def cycle(ins, specs):
    """The cheapest cycle through one block of each witness in turn: (cost, blocks)."""
    blk, succ = blocks(ins)
    w = [cost(ins, idx) for idx in blk]
    ws = [witness(ins, blk, s) for s in specs]
    best = None
    for start in sorted(ws[0]):
        total, cur, seen = 0, {start}, [start]
        for k in range(len(ws)):
            r = shortest(succ, w, cur, ws[k + 1] if k + 1 < len(ws) else {start})
            if r is None:
                break
            total += r[0]
            seen += r[1][1:]
            cur = {r[1][-1]}
        else:
            if best is None or total < best[0]:
                best = (total, seen)
    if best is None:
        sys.exit("sass_count.py: no cycle through %s" % " -> ".join(specs))
    return best, blk


def loop_body(ins, spec):
    """(blocks, the block indices of the innermost loop around witness spec): the
    shortest back edge to a block at or before it from one at or after it."""
    blk, succ = blocks(ins)
    w = min(witness(ins, blk, spec))
    back = [(t, h) for t in range(len(blk)) for h in succ[t] if h <= w <= t]
    if not back:
        sys.exit("sass_count.py: no loop around %r" % spec)
    t, h = min(back, key=lambda e: e[0] - e[1])
    return blk, range(h, t + 1)


def loop(ins, spec, unit, skip):
    """(instructions of one pass of the loop around witness spec, UNIT matches in it)."""
    blk, body = loop_body(ins, spec)
    drop = witness(ins, blk, skip) if skip else set()
    n = sum(cost(ins, blk[b]) for b in body if b not in drop)
    urx = re.compile(unit)
    u = sum(1 for b in body for i in blk[b] if urx.search(ins[i]["text"]))
    return n, u


def split(ins, spec, labels):
    """{label: instructions of one pass of the loop around spec, by source}."""
    blk, body = loop_body(ins, spec)
    rx = [(lab, re.compile(r)) for lab, _, r in (x.partition("=") for x in labels)]
    out = {lab: 0 for lab, _ in rx}
    out["other"] = 0
    for b in body:
        for i in blk[b]:
            if ins[i]["op"] == "NOP":
                continue
            chain = ins[i]["lines"]
            out[next((lab for lab, r in rx if r.search(chain)), "other")] += 1
    return out


def main(argv):
    if argv[:1] == ["split"] and len(argv) >= 5:
        for lab, n in split(parse(argv[1], argv[2]), argv[3], argv[4:]).items():
            print(lab, n)
        return
    if argv[:1] == ["loop"] and len(argv) in (5, 6):
        print("%d %d" % loop(parse(argv[1], argv[2]), argv[3], argv[4],
                             argv[5] if len(argv) == 6 else None))
        return
    if len(argv) < 3 or argv[0] not in ("blocks", "path"):
        sys.exit(__doc__)
    ins = parse(argv[1], argv[2])
    if argv[0] == "blocks":
        blk, succ = blocks(ins)
        for b, idx in enumerate(blk):
            x = ins[idx[0]]
            print("B%d %04x n=%d -> %s  %s | %s" % (b, x["addr"], cost(ins, idx),
                  ",".join("B%d" % s for s in succ[b]), x["text"][:40], x["lines"][:100]))
        return
    (total, path), blk = cycle(ins, argv[3:])
    print(total)
    for b in path[1:]:
        print("  B%d %04x %d" % (b, ins[blk[b][0]]["addr"], cost(ins, blk[b])), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
