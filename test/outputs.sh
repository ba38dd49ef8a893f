#!/usr/bin/env bash
# outputs.sh — an output replaces what is at its path only once it is whole: a run that
# fails or is stopped leaves the old file (and no temporary file) behind; a finished one
# replaces it, keeping its permission bits, and through a symlink replaces the target.
# Run from the repository root (make test does). Closing line: N passed, N failed, N skipped.
set -u
B=${BUILD:-build}/dlmsim
passed=0 failed=0 skipped=0
ok() { echo "[ OK ] $1"; passed=$((passed + 1)); }
bad() { echo "[FAIL] $1"; failed=$((failed + 1)); }
t=$(mktemp -d /tmp/dlmsim-outputs-XXXXXX)
trap 'rm -rf "$t"' EXIT
same() { [ "$(cat "$1")" = "$2" ]; }
no_tmp() { ! ls "$t"/*.tmp.* >/dev/null 2>&1; }

# 1. A run stopped by SIGINT or SIGTERM while --samples streams: the old file stays.
for sig in INT TERM; do
    echo precious >"$t/s"
    "$B" run gen:parity-revise:64 --chains 1e12 --backend cpu --quiet --samples "$t/s" >/dev/null 2>"$t/err" &
    pid=$!
    for _ in $(seq 200); do ls "$t"/s.tmp.* >/dev/null 2>&1 && break; sleep 0.05; done
    kill -"$sig" "$pid"
    wait "$pid"
    rc=$?
    want=$((128 + $(kill -l "$sig")))
    if [ "$rc" -eq "$want" ] && same "$t/s" precious && no_tmp && grep -q "nothing written" "$t/err"; then
        ok "run --samples stopped by SIG$sig: exit $rc, the old file kept, no temporary file"
    else
        bad "run --samples stopped by SIG$sig: exit $rc (want $want), file '$(head -c 40 "$t/s")', $(ls "$t")"
    fi
done

# 2. A run that fails after its outputs were opened (no device for --backend cuda, when
# there is none): --samples and --hist keep what they held.
echo precious >"$t/s"
echo precious >"$t/h"
if "$B" run gen:maj:3 --chains 100 --backend cuda --quiet --samples "$t/s" --hist "$t/h" >/dev/null 2>&1; then
    echo "[SKIP] a failing run: this machine has a CUDA device"
    skipped=$((skipped + 1))
elif same "$t/s" precious && same "$t/h" precious && no_tmp; then
    ok "a failing run leaves --samples and --hist as they were"
else
    bad "a failing run changed its outputs: $(ls "$t")"
fi

# 3. A finished run replaces the file, keeping its mode; through a symlink the target.
echo precious >"$t/h"
chmod 640 "$t/h"
ln -s h "$t/link"
if "$B" run gen:parity-revise:8 --chains 1000 --quiet --hist "$t/link" >/dev/null &&
    [ -L "$t/link" ] && [ "$(stat -c %a "$t/h")" = 640 ] && grep -q "^00000000	" "$t/h" && no_tmp; then
    ok "run --hist through a symlink: the target replaced, mode 640 kept, the link kept"
else
    bad "run --hist through a symlink: $(ls -l "$t")"
fi

# 4. export and kl --csv replace a file whole as well.
echo precious >"$t/x.aag"
echo precious >"$t/k.csv"
if "$B" export gen:maj:3 --format aag -o "$t/x.aag" && head -c 4 "$t/x.aag" | grep -q '^aag ' &&
    "$B" kl parity:4 --steps 1-2 --csv "$t/k.csv" >/dev/null && head -1 "$t/k.csv" | grep -q '^schedule,' && no_tmp; then
    ok "export -o and kl --csv replace the file whole"
else
    bad "export -o / kl --csv: $(ls "$t")"
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
