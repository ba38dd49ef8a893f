#!/usr/bin/env python3
"""doctest.py — runs the commands that README.md and docs/*.md show and compares what
they print with what the docs say they print (docs/doctest.md describes the form).

A marked example is an HTML comment line `<!-- doctest -->` (options after a colon:
`<!-- doctest: slow -->`) followed by a code block (indented by 4 spaces, or fenced).
In the block, a line `$ COMMAND` is a command; a command continues on the next line
when it ends with a backslash or the next line starts with `> `; the lines up to the
next command are its expected output: what it prints on stdout (write `2>&1` in the
command to show stderr too), ANSI colour codes removed. In the expected
output a line `...` matches any number of lines, `...` inside a line any text, and a
last line `[exit N]` says the command exits with status N (else it must exit 0).
Options: `slow` (run only with --slow, e.g. `make doctest-slow`; skipped otherwise),
`gpu` (run only where nvidia-smi lists a GPU; skipped otherwise, failed under
DLMSIM_REQUIRE_GPU=1), `table` (the output of
the block's one command is the first Markdown table after the code block, before the
next heading or code block).

Commands run with bash from a scratch folder that links every top-level entry of the
repository except docs/, which is a fresh folder with an empty docs/img/ (so figures
that examples write never replace the committed ones); `build` links to $BUILD.
Every `$ ` line of a code block in these files must be in a marked block.

Usage: python3 test/doctest.py [--slow] [--update] [FILE.md ...]
  --update rewrites the expected output of every failing example with what the command
  printed (then mask timings with `...` by hand). Closing line: N passed, N failed,
  N skipped.
"""
import difflib
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
MARK = re.compile(r"^<!--\s*doctest(?::\s*(.*?))?\s*-->\s*$")
OPTIONS = {"slow", "gpu", "table"}
TIMEOUT = 600


class Block:
    def __init__(self, path, line, opts, first, last, cmds, indent, table):
        self.path, self.line, self.opts = path, line, opts
        self.first, self.last = first, last        # code lines [first, last) (0-based)
        self.cmds = cmds                           # [(command, [expected lines], line no)]
        self.indent = indent
        self.table = table                         # (first, last) of the table, or None


def code_blocks(lines):
    """(first, last, indent, fenced) of every code block: fenced ``` blocks and runs of
    lines indented by 4 spaces after a blank line (blank lines inside allowed)."""
    out, i, n = [], 0, len(lines)
    while i < n:
        l = lines[i]
        if l.lstrip().startswith("```"):
            ind = len(l) - len(l.lstrip())
            j = i + 1
            while j < n and not lines[j].lstrip().startswith("```"):
                j += 1
            out.append((i + 1, j, ind, True))
            i = j + 1
            continue
        if l.startswith("    ") and l.strip() and (i == 0 or not lines[i - 1].strip()
                                                  or MARK.match(lines[i - 1])):
            j = i
            while j < n and (lines[j].startswith("    ") or not lines[j].strip()):
                j += 1
            while j > i and not lines[j - 1].strip():
                j -= 1
            out.append((i, j, 4, False))
            i = j
            continue
        i += 1
    return out


def parse_cmds(lines, first, last, indent):
    cmds, cur = [], None
    k = first
    while k < last:
        l = lines[k][indent:] if lines[k][:indent].strip() == "" else lines[k].lstrip()
        if l.startswith("$ "):
            cmd, start = l[2:], k
            while (cmd.endswith("\\") or (k + 1 < last and lines[k + 1][indent:].startswith("> "))) \
                    and k + 1 < last:
                k += 1
                nxt = lines[k][indent:]
                nxt = nxt[2:] if nxt.startswith("> ") else nxt
                cmd = cmd + "\n" + nxt
            cur = [cmd, [], start + 1]
            cmds.append(cur)
        elif cur is not None:
            cur[1].append(l.rstrip())
        k += 1
    for c in cmds:
        while c[1] and not c[1][-1]:
            c[1].pop()
    return [tuple(c) for c in cmds]


def parse(path):
    lines = open(path, encoding="utf-8").read().split("\n")
    blocks, errors = [], []
    marked = set()
    starts = {b[0]: b for b in code_blocks(lines)}
    for i, l in enumerate(lines):
        m = MARK.match(l)
        if not m:
            continue
        opts = set((m.group(1) or "").split())
        bad = opts - OPTIONS
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        cb = starts.get(j) or starts.get(j + 1)   # fenced: the block starts after ```
        if bad or cb is None:
            errors.append("%s:%d: %s" % (path, i + 1, "unknown option(s) " + " ".join(sorted(bad))
                                         if bad else "<!-- doctest --> is not followed by a code block"))
            continue
        first, last, indent, fenced = cb
        cmds = parse_cmds(lines, first, last, indent)
        table = None
        if "table" in opts:
            t = last + (1 if fenced else 0)
            while t < len(lines) and not lines[t].startswith("|"):
                if lines[t].startswith("#") or lines[t].startswith("    ") or MARK.match(lines[t]) \
                        or lines[t].lstrip().startswith("```"):
                    break   # the table must come before the next heading or code block
                t += 1
            e = t
            while e < len(lines) and lines[e].startswith("|"):
                e += 1
            if e == t or len(cmds) != 1:
                errors.append("%s:%d: a `table` example needs one command and a Markdown table "
                              "after its code block" % (path, i + 1))
                continue
            table = (t, e)
        if not cmds:
            errors.append("%s:%d: the marked block has no `$ ` command" % (path, i + 1))
            continue
        marked.add(first)
        blocks.append(Block(path, i + 1, opts, first, last, cmds, indent, table))
    for first, last, indent, fenced in starts.values():
        if first in marked:
            continue
        for k in range(first, last):
            if (lines[k].lstrip() if fenced else lines[k][indent:]).startswith("$ "):
                errors.append("%s:%d: a command (`$ `) outside a <!-- doctest --> block: mark "
                              "the block (docs/doctest.md)" % (path, k + 1))
    return lines, blocks, errors


NUM_OR_DOTS = re.compile(r"(\.\.\.)")


def line_matches(want, got):
    if want == got:
        return True
    if "..." not in want:
        return False
    rx = "".join(".*?" if p == "..." else re.escape(p) for p in NUM_OR_DOTS.split(want))
    return re.fullmatch(rx, got) is not None


def matches(want, got):
    """want, got: lists of lines; a want line '...' matches any run of got lines."""
    memo = {}

    def m(i, j):
        if (i, j) in memo:
            return memo[(i, j)]
        if i == len(want):
            r = j == len(got)
        elif want[i] == "...":
            r = any(m(i + 1, k) for k in range(j, len(got) + 1))
        else:
            r = j < len(got) and line_matches(want[i], got[j]) and m(i + 1, j + 1)
        memo[(i, j)] = r
        return r

    sys.setrecursionlimit(max(10000, 4 * (len(want) + len(got))))
    return m(0, 0)


def scratch(build):
    d = tempfile.mkdtemp(prefix="dlmsim-doctest-")
    for e in os.listdir(ROOT):
        if e in ("docs", "build", ".git"):
            continue
        os.symlink(os.path.join(ROOT, e), os.path.join(d, e))
    os.symlink(os.path.abspath(os.path.join(ROOT, build)), os.path.join(d, "build"))
    os.makedirs(os.path.join(d, "docs", "img"))
    for f in glob.glob(os.path.join(ROOT, "docs", "*.md")):
        os.symlink(f, os.path.join(d, "docs", os.path.basename(f)))
    return d


def have_gpu():
    try:
        p = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
        return p.returncode == 0 and "GPU" in p.stdout
    except (OSError, subprocess.SubprocessError):
        return False


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def run_cmd(cmd, cwd):
    """Runs cmd; returns (stdout lines, exit status, stderr text). ANSI colour codes are
    removed and trailing blanks dropped."""
    try:
        p = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], cwd=cwd, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=TIMEOUT)
        out = ANSI.sub("", p.stdout.decode("utf-8", errors="replace"))
        err = p.stderr.decode("utf-8", errors="replace")
        rc = p.returncode
    except subprocess.TimeoutExpired:
        return ["(timed out after %d s)" % TIMEOUT], 124, ""
    lines = [l.rstrip() for l in out.split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines, rc, err


def main(argv):
    slow = "--slow" in argv
    update = "--update" in argv
    files = [a for a in argv if not a.startswith("--")]
    os.chdir(ROOT)
    if not files:
        files = ["README.md"] + sorted(glob.glob("docs/*.md")) + ["circuits/README.md"]
    build = os.environ.get("BUILD", "build")
    gpu = None
    passed = failed = skipped = 0
    for path in files:
        lines, blocks, errors = parse(path)
        for e in errors:
            print("[FAIL] " + e)
            failed += 1
        edits = []   # (first, last, new lines) in the file, applied bottom-up
        for b in blocks:
            what = "%s:%d" % (path, b.line)
            if "slow" in b.opts and not slow:
                print("[SKIP] %s (slow: make doctest-slow runs it)" % what)
                skipped += 1
                continue
            if "gpu" in b.opts:
                gpu = have_gpu() if gpu is None else gpu
                if not gpu:
                    if os.environ.get("DLMSIM_REQUIRE_GPU") == "1":
                        print("[FAIL] %s (needs a GPU: none found by nvidia-smi -L, and "
                              "DLMSIM_REQUIRE_GPU=1)" % what)
                        failed += 1
                    else:
                        print("[SKIP] %s (needs a GPU)" % what)
                        skipped += 1
                    continue
            cwd = scratch(build)
            t0 = time.time()
            ok, report, new = True, [], []
            try:
                for cmd, want, lno in b.cmds:
                    got, rc, err = run_cmd(cmd, cwd)
                    want_rc = 0
                    if want and re.fullmatch(r"\[exit \d+\]", want[-1]):
                        want_rc = int(want[-1][6:-1])
                    exp = want[:-1] if want_rc or (want and want[-1] == "[exit 0]") else want
                    if b.table:
                        t, e = b.table
                        exp = lines[t:e]
                    good = rc == want_rc and matches(exp, got)
                    if not good:
                        ok = False
                        report.append("  %s:%d: $ %s\n  exit %d (expected %d)" % (path, lno, cmd, rc, want_rc))
                        report += ["  " + d for d in difflib.unified_diff(
                            exp, got, "documented", "printed", lineterm="", n=2)]
                        if err.strip():
                            report += ["  stderr: " + e for e in err.strip().split("\n")[-5:]]
                    new.append((cmd, want if good else got + (["[exit %d]" % rc] if rc else [])))
            finally:
                shutil.rmtree(cwd, ignore_errors=True)
            dt = time.time() - t0
            if ok:
                print("[ OK ] %s (%d command%s, %.1f s)" % (what, len(b.cmds), "s" * (len(b.cmds) > 1), dt))
                passed += 1
                continue
            print("[FAIL] %s (%.1f s)" % (what, dt))
            print("\n".join(report))
            failed += 1
            if update:
                if b.table:
                    edits.append((b.table[0], b.table[1], new[0][1]))
                else:
                    pad = " " * b.indent
                    body = []
                    for cmd, out in new:
                        body.append(pad + "$ " + cmd.replace("\n", "\n" + pad + "> "))
                        body += [(pad + o) if o else "" for o in out]
                    edits.append((b.first, b.last, "\n".join(body).split("\n")))
        if update and edits:
            for first, last, body in sorted(edits, reverse=True):
                lines[first:last] = body
            open(path, "w", encoding="utf-8").write("\n".join(lines))
            print("(updated %s: %d example%s)" % (path, len(edits), "s" * (len(edits) > 1)))
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
