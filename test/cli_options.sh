#!/usr/bin/env bash
# cli_options.sh — every option a subcommand's --help shows is accepted by its parser
# in the shown form: `dlmsim CMD ARG OPT [VALUE]` must not answer "unknown option" or
# "needs a value". An option is shown at the start of an option line ("  --opt VALUE
# what it does") or in a synopsis ("[--opt VALUE]", "[--a X | --b Y]"); its VALUE is
# the word after one space (of "a|b|c" the first choice), none when two spaces or "]"
# follow. ARG names a file that does not exist, so nothing runs past the parser; the
# commands run in a temporary folder. Run from the repository root (make test does),
# with BUILD (default build). Closing line: N passed, N failed, N skipped.
set -u
passed=0 failed=0 skipped=0
ok() { passed=$((passed + 1)); }
bad() { echo "[FAIL] $1"; failed=$((failed + 1)); }
bin=$(cd "${BUILD:-build}" 2>/dev/null && pwd)/dlmsim
if [ ! -x "$bin" ]; then
    echo "[SKIP] no $bin (make first)"
    echo "0 passed, 0 failed, 1 skipped"
    exit 0
fi
t=$(mktemp -d /tmp/dlmsim-cliopt-XXXXXX)
trap 'rm -rf "$t"' EXIT

# the options CMD's --help shows, one "OPT[ VALUE]" per line
shown() {
    "$bin" "$1" --help | grep -oE '^  --?[a-z][a-z0-9-]*( [^ ]+)?|(\[|\| )--?[a-z][a-z0-9-]*( [^] ]+)?' |
        sed -E 's/^(\[|\| |  )//; s/\|[^ ]*$//; s/[:,;.]$//' | sort -u
}

for cmd in info run export verify merge regress sample kl; do
    case $cmd in
    sample | kl) arg="table:$t/none.txt" ;;
    regress) arg="$t/none.suite" ;;
    merge) arg="$t/none.counts" ;;
    *) arg="$t/none.aag" ;;
    esac
    n=0
    while read -r opt val; do
        [ -z "$opt" ] && continue
        n=$((n + 1))
        # shellcheck disable=SC2086 # val: one word or none
        out=$(cd "$t" && "$bin" "$cmd" "$arg" "$opt" $val 2>&1 </dev/null)
        if printf '%s\n' "$out" | grep -qE 'unknown option|needs a value'; then
            bad "dlmsim $cmd $opt${val:+ $val}: $(printf '%s\n' "$out" | head -1)"
        else
            ok
        fi
    done < <(shown "$cmd")
    if [ "$n" -ge 1 ]; then echo "[ OK ] $cmd: $n options of --help checked"
    else bad "$cmd: no option found in its --help"; fi
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
