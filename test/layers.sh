#!/usr/bin/env bash
# layers.sh — host/ is laid out as the data flows (docs/architecture.md): a folder calls
# only itself and the folders before it in ORDER, and no files call each other round a
# cycle. Reads the symbols of the objects under $BUILD/host with nm. Two tests; ends
# with cmocka's summary lines so test/run.sh counts them.
set -u
build=${BUILD:-build}
order="base circuit program engine verify oracle cli"
objs=$(ls "$build"/host/*/*.o 2>/dev/null)  # paths without spaces (build dirs are ours)
if [ -z "$objs" ]; then echo "layers.sh: no objects under $build/host (build first)"; exit 2; fi
# "FROM TO SYMBOL" for every call from one object into another
edges=$(nm -A $objs | awk '
    { split($1, p, ":"); f = p[1]; sub(".*/host/", "", f); sub("[.]o$", "", f) }
    NF == 3 && $2 ~ /^[TDBR]$/ { def[$3] = f }
    NF == 3 && $2 == "U" { n++; uf[n] = f; us[n] = $3 }
    END { for (i = 1; i <= n; i++) if ((us[i] in def) && def[us[i]] != uf[i]) print uf[i], def[us[i]], us[i] }')
rank() { local i=0; for d in $order; do [ "$d" = "$1" ] && { echo $i; return; }; i=$((i + 1)); done; echo 99; }
failed=0 bad=""
while read -r from to sym; do
    [ -n "$from" ] || continue
    rf=$(rank "${from%%/*}") rt=$(rank "${to%%/*}")
    if [ "$rt" -gt "$rf" ]; then bad="$bad  $from calls $sym in $to (a later folder)\n"; fi
done <<< "$edges"
echo "[ RUN      ] lower_folders_never_call_higher"
if [ -n "$bad" ]; then printf "%b" "$bad"; echo "[  FAILED  ] lower_folders_never_call_higher"; failed=$((failed + 1))
else echo "[       OK ] lower_folders_never_call_higher"; fi
echo "[ RUN      ] no_call_cycles"
loop=$(awk '{ print $1, $2 }' <<< "$edges" | sort -u | tsort 2>&1 >/dev/null)
if [ -n "$loop" ]; then printf "%s\n" "$loop"; echo "[  FAILED  ] no_call_cycles"; failed=$((failed + 1))
else echo "[       OK ] no_call_cycles"; fi
echo "[==========] 2 test(s) run."
[ $((2 - failed)) -gt 0 ] && echo "[  PASSED  ] $((2 - failed)) test(s)."
if [ "$failed" -gt 0 ]; then echo "[  FAILED  ] $failed test(s), listed above."; exit 1; fi
