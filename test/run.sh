#!/usr/bin/env bash
# Runs every cmocka test binary given, adds up their counts, and ends with the
# closing line "N passed, N failed, N skipped". Exit 1 if any test failed or a
# binary crashed.
set -u
passed=0 failed=0 skipped=0 crashed=0
for bin in "$@"; do
    out=$("$bin" 2>&1); rc=$?
    printf '%s\n' "$out"
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
    if [ -z "$p$f$s" ] || { [ "$rc" -ne 0 ] && [ -z "$f" ]; }; then
        echo "$bin: exited $rc without a cmocka summary"; crashed=$((crashed + 1))
    fi
done
failed=$((failed + crashed))
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
