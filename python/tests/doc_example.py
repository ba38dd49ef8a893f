"""Runs the worked example of docs/python.md as written there (`make python-docs`, from
the repository root, rewrites docs/img/python-kl.png this way); the test suite runs it
too and checks that its printed table is the one in the document."""
import re
import sys

CODE = re.compile(r"<!-- example -->\n```python\n(.*?)```", re.S)
OUTPUT = re.compile(r"<!-- example output -->\n```\n(.*?)```", re.S)


def extract(doc_path):
    """(the example's code, the output the document shows for it)"""
    doc = open(doc_path).read()
    return CODE.search(doc).group(1), OUTPUT.search(doc).group(1)


if __name__ == "__main__":
    code, _ = extract(sys.argv[1] if len(sys.argv) > 1 else "docs/python.md")
    exec(compile(code, "docs/python.md (example)", "exec"), {"__name__": "__main__"})
