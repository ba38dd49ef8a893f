#!/usr/bin/env bash
# install_test.sh — `make install` into a temporary PREFIX (and a DESTDIR stage), then a
# three-line C program built with `cc p.c $(pkg-config --cflags --libs dlmsim)` links and
# runs against the shared library, and with --static against the static one; the man
# page renders and holds the --help text; `make uninstall` removes every file.
# Run from the repository root (make test does; BUILD as in the Makefile, default build).
# Closing line: N passed, N failed, N skipped.
set -u
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
export CUDA   # the build being tested (make test passes it); unset: the Makefile decides
CC=${CC:-cc}
passed=0 failed=0 skipped=0
ok() { echo "[ OK ] $1"; passed=$((passed + 1)); }
bad() { echo "[FAIL] $1"; failed=$((failed + 1)); }
skp() { echo "[SKIP] $1"; skipped=$((skipped + 1)); }
finish() { echo "$passed passed, $failed failed, $skipped skipped"; [ "$failed" -eq 0 ]; exit; }
tmp=$(mktemp -d /tmp/dlmsim-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
P=$tmp/prefix
command -v pkg-config >/dev/null || { skp "pkg-config not installed (Debian package pkg-config)"; finish; }

if $MAKE --no-print-directory -s BUILD="$BUILD" install PREFIX="$P" >"$tmp/make.log" 2>&1; then
    ok "make install PREFIX=$P"
else
    bad "make install PREFIX=$P failed:"; tail -20 "$tmp/make.log"; finish
fi
missing=""
for f in bin/dlmsim lib/libdlmsim.a lib/libdlmsim.so lib/pkgconfig/dlmsim.pc \
         include/dlmsim/dlmsim.h include/dlmsim/dlm_circuit.h share/man/man1/dlmsim.1; do
    [ -e "$P/$f" ] || missing="$missing $f"
done
nh=$(ls include/*.h | wc -l); ni=$(ls "$P"/include/dlmsim/*.h 2>/dev/null | wc -l)
if [ -z "$missing" ] && [ "$nh" -eq "$ni" ]; then ok "installed files (all $nh public headers)"
else bad "missing under $P:$missing (headers $ni of $nh)"; fi
if "$P/bin/dlmsim" --version | grep -q '^dlmsim '; then ok "installed dlmsim runs"
else bad "$P/bin/dlmsim --version"; fi

# The three-line program: load and levelize a generated circuit, print what info prints.
cat >"$tmp/p.c" <<'C'
#include <dlm_level.h>
#include <stdio.h>
int main(void) { dlm_circuit c; dlm_levels lv; dlm_err e; if (dlm_circuit_load(&c, "gen:mult:3", 0, &e) || dlm_levelize(&c, &lv, &e)) return puts(e.msg), 1; printf("{\"coins\":%u,\"outputs\":%u,\"depth\":%u}\n", c.ncoins, c.nout, lv.depth); dlm_levels_free(&lv); dlm_circuit_free(&c); return 0; }
C
if grep -qF -- "$(sed -n 3p "$tmp/p.c")" README.md; then ok "README.md shows this program"
else bad "README.md's p.c differs from this test's (keep them the same)"; fi
want=$("$BUILD/dlmsim" info gen:mult:3 --json | python3 -c 'import json,sys; j=json.load(sys.stdin); print("{\"coins\":%d,\"outputs\":%d,\"depth\":%d}" % (j["coins"], j["outputs"], j["depth"]))')
export PKG_CONFIG_PATH=$P/lib/pkgconfig
if (cd "$tmp" && $CC p.c $(pkg-config --cflags --libs dlmsim) -o p_shared) 2>"$tmp/cc.log"; then
    got=$("$tmp/p_shared" 2>&1)
    lib=$(ldd "$tmp/p_shared" | awk '/libdlmsim/ {print $3}')
    if [ "$got" = "$want" ] && [ "$lib" = "$(cd "$P/lib" && pwd)/libdlmsim.so.0" ]; then
        ok "cc p.c \$(pkg-config --cflags --libs dlmsim): runs against $lib, prints $got"
    else bad "shared: printed '$got' (dlmsim info: '$want'), libdlmsim from '$lib'"; fi
else bad "cc p.c \$(pkg-config --cflags --libs dlmsim) failed:"; cat "$tmp/cc.log"; fi

# Static: the same prefix without the .so files, so -ldlmsim finds libdlmsim.a.
S=$tmp/static
cp -a "$P" "$S" && rm -f "$S"/lib/libdlmsim.so*
pcs="pkg-config --define-variable=prefix=$S"
if (cd "$tmp" && $CC p.c $($pcs --static --cflags --libs dlmsim) -o p_static) 2>"$tmp/cc.log"; then
    got=$("$tmp/p_static" 2>&1)
    if [ "$got" = "$want" ] && ! ldd "$tmp/p_static" | grep -q libdlmsim; then
        ok "cc p.c \$(pkg-config --static --cflags --libs dlmsim): static libdlmsim, prints $got"
    else bad "static: printed '$got' (dlmsim info: '$want') or linked a libdlmsim.so"; fi
else bad "cc p.c \$(pkg-config --static --cflags --libs dlmsim) failed:"; cat "$tmp/cc.log"; fi

# The .pc file names the CUDA runtime exactly when the build has the CUDA backend.
cuda=$(sed -n 's/.*-DDLM_HAVE_CUDA=\([01]\).*/\1/p' "$P/lib/pkgconfig/dlmsim.pc")
if pkg-config --static --libs dlmsim | grep -q -- '-lcudart'; then has=1; else has=0; fi
if [ -n "$cuda" ] && [ "$has" = "$cuda" ]; then ok "dlmsim.pc: DLM_HAVE_CUDA=$cuda, -lcudart in Libs.private: $has"
else bad "dlmsim.pc: DLM_HAVE_CUDA='$cuda' but -lcudart present: $has"; fi

# The man page: renders without warnings and holds every line of `dlmsim --help`.
if command -v groff >/dev/null; then
    page=$(groff -man -Tutf8 -P-cbou -ww -rLL=200n "$P/share/man/man1/dlmsim.1" 2>"$tmp/groff.log")
    lost=$("$BUILD/dlmsim" --help | while IFS= read -r l; do
        l=$(printf '%s' "$l" | sed 's/^ *//'); [ -z "$l" ] && continue
        printf '%s\n' "$page" | grep -qF -- "$l" || printf '%s\n' "$l"; done)
    if [ -z "$lost" ] && [ ! -s "$tmp/groff.log" ]; then ok "dlmsim.1 renders and holds every line of dlmsim --help"
    else bad "dlmsim.1: lines of --help missing from the page:"; printf '%s\n' "$lost" | head; cat "$tmp/groff.log"; fi
else skp "groff not installed: dlmsim.1 not rendered"; fi

# DESTDIR stages under DESTDIR while the .pc names the final PREFIX; uninstall cleans up.
D=$tmp/stage
if $MAKE --no-print-directory -s BUILD="$BUILD" install PREFIX=/opt/dlmsim DESTDIR="$D" >"$tmp/make.log" 2>&1 &&
   [ -x "$D/opt/dlmsim/bin/dlmsim" ] && grep -qx 'prefix=/opt/dlmsim' "$D/opt/dlmsim/lib/pkgconfig/dlmsim.pc"; then
    ok "make install PREFIX=/opt/dlmsim DESTDIR=...: staged, .pc names /opt/dlmsim"
else bad "DESTDIR install"; tail -5 "$tmp/make.log"; fi
$MAKE --no-print-directory -s BUILD="$BUILD" uninstall PREFIX="$P" >"$tmp/make.log" 2>&1
left=$(find "$P" -type f -o -type l)
if [ -z "$left" ]; then ok "make uninstall removes every installed file"
else bad "make uninstall left:"; printf '%s\n' "$left"; fi
# "make install" refuses a relative PREFIX
if ! $MAKE --no-print-directory -s BUILD="$BUILD" install PREFIX=relative/dir >"$tmp/make.log" 2>&1 &&
   grep -q 'PREFIX must be an absolute path' "$tmp/make.log" && [ ! -e relative ]; then
    ok "a relative PREFIX is refused"
else bad "a relative PREFIX was not refused"; fi
finish
