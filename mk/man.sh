#!/usr/bin/env bash
# man.sh BIN VERSION — writes the man page dlmsim(1) to stdout, made from the same text
# the program prints: `BIN --help` (SYNOPSIS) and `BIN SUB --help` for every subcommand
# that has one (exit 0), each as preformatted text. mk/install.mk runs it.
set -euo pipefail
bin=$1 version=$2
# roff-escape preformatted text: backslashes, minus signs, a leading . or '
esc() { sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }
section() { echo '.nf'; printf '%s\n' "$1" | esc; echo '.fi'; }

main=$("$bin" --help)
echo ".TH DLMSIM 1 \"\" \"dlmsim $version\" \"User Commands\""
echo '.SH NAME'
echo 'dlmsim \- batched sampler that runs circuits as diffusion-language-model programs'
echo '.SH SYNOPSIS'
section "$main"
echo '.SH DESCRIPTION'
echo 'Every subcommand is listed above; the sections below are the text each subcommand'
echo 'prints for \fB\-\-help\fR. Exit status: 0 success, 1 a check failed, 2 bad input or usage.'
for sub in info run export verify merge sample kl regress; do
    if text=$("$bin" "$sub" --help 2>/dev/null); then
        echo ".SS \"dlmsim $sub \\-\\-help\""
        section "$text"
    fi
done
echo '.SH SEE ALSO'
echo 'README.md and docs/*.md in the dlmsim source tree; \fBpkg\-config \-\-cflags \-\-libs dlmsim\fR'
echo 'for programs linked against libdlmsim.'
