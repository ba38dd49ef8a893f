"""Runs the worked example of docs/python.md as written there (`make python-docs`, from
the repository root, rewrites docs/img/python-kl.png this way); the test suite runs it
too and checks that its printed table is the one in the document. synopses() and
errors() give the page's other Python: the indented blocks from "## Circuits and
programs" on, and the `>>>` examples of "## Errors", which the suite runs as well."""
import re
import sys

CODE = re.compile(r"<!-- example -->\n```python\n(.*?)```", re.S)
OUTPUT = re.compile(r"<!-- example output -->\n```\n(.*?)```", re.S)


def extract(doc_path):
    """(the example's code, the output the document shows for it)"""
    doc = open(doc_path).read()
    return CODE.search(doc).group(1), OUTPUT.search(doc).group(1)


def synopses(doc_path):
    """[(line number, code)] of the indented blocks from "## Circuits and programs" on,
    in order (they build on each other: c, p, law), the `>>>` examples left out."""
    lines = open(doc_path).read().split("\n")
    start = lines.index("## Circuits and programs")
    out, i = [], start
    while i < len(lines):
        if lines[i].startswith("    ") and not lines[i - 1].strip():
            j = i
            while j < len(lines) and (lines[j].startswith("    ") or not lines[j].strip()):
                j += 1
            code = "\n".join(l[4:] for l in lines[i:j]).strip() + "\n"
            if not code.startswith(">>>"):
                out.append((i + 1, code))
            i = j
        else:
            i += 1
    return out


def errors(doc_path):
    """[(expression, exception name, message)] of the `>>> EXPR` / `Name: message` pairs
    ("..." in a message stands for any text)."""
    lines = [l.strip() for l in open(doc_path).read().split("\n")]
    return [(lines[i][4:], lines[i + 1].split(": ", 1)[0], lines[i + 1].split(": ", 1)[1])
            for i in range(len(lines) - 1) if lines[i].startswith(">>> ")]


if __name__ == "__main__":
    code, _ = extract(sys.argv[1] if len(sys.argv) > 1 else "docs/python.md")
    exec(compile(code, "docs/python.md (example)", "exec"), {"__name__": "__main__"})
