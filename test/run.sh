#!/usr/bin/env bash
# Runs every test given, adds up their counts, and ends with the closing line
# "N passed, N failed, N skipped". A test is a cmocka binary (its [  PASSED  ] ...
# summary is read) or a script, test/*.sh (run with bash) or test/*.py (python3), that
# ends with its own "N passed, N failed, N skipped" line. Exit 1 if any test failed or
# a test exited without a summary.
set -u
passed=0 failed=0 skipped=0 crashed=0
for bin in "$@"; do
    t0=$SECONDS
    case "$bin" in
    *.sh) out=$(bash "$bin" 2>&1); rc=$? ;;
    *.py) out=$(python3 "$bin" 2>&1); rc=$? ;;
    *) out=$("$bin" 2>&1); rc=$? ;;
    esac
    printf '%s\n' "$out"
    echo "# $bin took $((SECONDS - t0)) s (wall)"
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
    if [ -z "$p$f$s" ]; then
        line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' | tail -1)
        if [ -n "$line" ]; then
            read -r p _ f _ s _ <<<"$line"
            [ "$f" = 0 ] && [ "$rc" -ne 0 ] && f=""   # failed without saying so: a crash
        fi
    fi
    passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
    if [ -z "$p$f$s" ] || { [ "$rc" -ne 0 ] && [ -z "$f" ]; }; then
        echo "$bin: exited $rc without a summary line"; crashed=$((crashed + 1))
    fi
done
failed=$((failed + crashed))
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
