#!/usr/bin/env bash
# tree_check.sh — the clone stands alone: nothing in the tree names a folder beside it,
# and the vendored EPFL circuits are complete and unchanged (circuits/epfl/SHA256SUMS).
# Run from the repository root (make test does). Closing line: N passed, N failed, N skipped.
set -u
passed=0 failed=0 skipped=0
ok() { echo "[ OK ] $1"; passed=$((passed + 1)); }
bad() { echo "[FAIL] $1"; failed=$((failed + 1)); }

# 1. No file of the tree names the shared folder beside a clone (the pattern is split so this file does not
# match itself): dot-dot-slash shared. Tracked files when this is a git checkout, else every file but build/.
pat='\.\./'"shared"
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    hits=$(git grep -n -I -e "$pat" -- . ':!build' 2>/dev/null)
else
    hits=$(grep -rnI --exclude-dir=build --exclude-dir=.git -e "$pat" . 2>/dev/null)
fi
if [ -z "$hits" ]; then ok "no file names the folder beside the clone"
else bad "files name the folder beside the clone (use circuits/epfl):"; printf '%s\n' "$hits" | head -20; fi

# 2. The vendored circuits: the 17 .aig and 4 .blif files with their recorded digests,
# the licence and the provenance note.
if (cd circuits/epfl && sha256sum --quiet -c SHA256SUMS); then ok "circuits/epfl matches SHA256SUMS"
else bad "circuits/epfl differs from SHA256SUMS"; fi
n=$(ls circuits/epfl/arithmetic/*.aig circuits/epfl/random_control/*.aig 2>/dev/null | wc -l)
if [ "$n" -eq 17 ] && [ "$(wc -l <circuits/epfl/SHA256SUMS)" -eq 21 ]; then ok "17 EPFL circuits (+4 BLIF) listed"
else bad "expected 17 EPFL .aig files and 21 digests, found $n .aig"; fi
if grep -q 'MIT License' circuits/epfl/LICENSE-EPFL 2>/dev/null &&
   grep -q '94e25f3' circuits/epfl/README.md 2>/dev/null; then ok "licence and provenance present"
else bad "circuits/epfl/LICENSE-EPFL or the provenance in circuits/epfl/README.md is missing"; fi

# 3. The docs' example runner (test/doctest.py) fails a drifted example and an unmarked
# `$ ` command, and passes a good one with `...` and `[exit N]`.
t=$(mktemp -d /tmp/dlmsim-tree-XXXXXX)
printf '%s\n' '# t' '' '<!-- doctest -->' '' '    $ echo a; echo b 12.5 s; exit 3' '    a' '    b ... s' '    [exit 3]' '' \
    '<!-- doctest -->' '' '    $ echo 1.000' '    1.001' '' 'text' '' '    $ echo unmarked' >"$t/t.md"
res=$(python3 test/doctest.py "$t/t.md" | tail -1); rc=$?
rm -rf "$t"
if [ "$res" = "1 passed, 2 failed, 0 skipped" ]; then ok "doctest.py: a drift and an unmarked command fail"
else bad "doctest.py on a drifted page printed '$res'"; fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
