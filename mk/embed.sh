#!/usr/bin/env bash
# embed.sh — the headers the JIT kernel's NVRTC programs include, as C strings
# (kernels/engine_cuda_jit.cu): NVRTC gets them in memory, so a built dlmsim needs no
# header files at run time.
#   bash mk/embed.sh OUT.c NAME=FILE ...
# writes dlm_jit_headers (the text of FILE, by the include name NAME) and
# dlm_jit_nheaders. NAME is the string an #include line names.
set -eu
out=$1
shift
{
    echo "/* $(basename "$out") — written by mk/embed.sh; do not edit. */"
    echo '#include "dlm_jit.h"'
    echo 'const dlm_jit_header dlm_jit_headers[] = {'
    for nf in "$@"; do
        name=${nf%%=*} file=${nf#*=}
        [ -f "$file" ] || { echo "embed.sh: $file: not found" >&2; exit 2; }
        echo "    {\"$name\","
        # backslashes and quotes escaped, '?' too (no trigraphs under -std=c11)
        sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/?/\\?/g' -e 's/^/     "/' -e 's/$/\\n"/' "$file"
        echo '    },'
    done
    echo '};'
    echo "const unsigned dlm_jit_nheaders = $#;"
} > "$out.tmp"
mv "$out.tmp" "$out"
