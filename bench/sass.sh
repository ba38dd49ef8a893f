#!/usr/bin/env bash
# sass.sh — the bit-sliced CUDA kernel's cost per sample, counted from its machine code
# (SASS for sm_90; no GPU needed; docs/gpu.md, "SASS figures"):
#   bash bench/sass.sh [CIRCUIT [MODE]]     (default gen:parity-revise:64 revise)
# 1. compiles kernels/engine_cuda_bits.cu to a cubin as the Makefile does (plus
#    -lineinfo, which does not change the code) with ptxas -v: registers, stack, spills;
# 2. disassembles it (nvdisasm -c -gi) and counts, with bench/sass_count.py, the warp
#    instructions of one pass of the interpreter loop per operation kind (fetch, decode,
#    the kind's code, back to the fetch) and of the output loop per output;
# 3. multiplies them by the kinds of CIRCUIT's slot plan in MODE (bench/plan_ops.c) and
#    divides by the 4096 chains a warp handles (32 threads x 128 chains):
#    `warp instructions per sample: X`; and prints `stack bytes: S`, the spills, the
#    registers and the resident warps per SM that registers and shared memory allow.
# 4. then the JIT kernel of CIRCUIT's plan as the engine compiles it (NVRTC), `jit ...`
#    lines: one pass of its pair loop / 4096, instructions per 2-input gate, stack,
#    registers, resident warps; and the per-gate figure for small EPFL circuits
#    (SASS_JIT=0 skips both, SASS_EPFL=0 the EPFL ones).
# Tools: nvcc ($NVCC, PATH, /usr/local/cuda/bin); cuobjdump and nvdisasm beside it, else
# from PyPI (nvidia-cuda-cuobjdump, nvidia-cuda-nvdisasm) into $BUILD/sass-venv. Exit 0
# done, 2 bad input or a count not found, 77 a tool missing (nvcc, or pip offline).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
circuit=${1:-gen:parity-revise:64}
mode=${2:-revise}
arch=${SASS_ARCH:-sm_90}
out=$BUILD/sass
mkdir -p "$out" "$BUILD/bench"

nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
[ -x "$nvcc" ] || { echo "sass.sh: no nvcc" >&2; exit 77; }
tools() { # cuobjdump and nvdisasm: beside nvcc, else the venv (made once)
    local bin
    bin=$(dirname "$nvcc")
    if [ -x "$bin/cuobjdump" ] && [ -x "$bin/nvdisasm" ]; then echo "$bin"; return; fi
    bin=$(ls -d "$BUILD"/sass-venv/lib/python3*/site-packages/nvidia/cu*/bin 2>/dev/null | tail -1)
    if [ -n "$bin" ] && [ -x "$bin/nvdisasm" ] && [ -x "$bin/cuobjdump" ]; then echo "$bin"; return; fi
    { python3 -m venv "$BUILD/sass-venv" &&
      "$BUILD/sass-venv/bin/pip" install -q nvidia-cuda-cuobjdump nvidia-cuda-nvdisasm; } >&2 || return 1
    ls -d "$BUILD"/sass-venv/lib/python3*/site-packages/nvidia/cu*/bin | tail -1
}
bin=$(tools) || { echo "sass.sh: no cuobjdump/nvdisasm and pip could not install them" >&2; exit 77; }

# the slot plan's operations by kind (needs the library)
[ -f "$BUILD/libdlmsim.a" ] || make -s BUILD="$BUILD" "$BUILD/libdlmsim.a" >&2
cudalib=$(dirname "$(dirname "$nvcc")")/lib64
${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror -D_DEFAULT_SOURCE -Iinclude -DDLM_HAVE_CUDA=1 bench/plan_ops.c \
    "$BUILD/libdlmsim.a" -lgsl -lgslcblas -lm -fopenmp -L"$cudalib" -Wl,-rpath,"$cudalib" \
    -lcudart -lnvrtc -lstdc++ -o "$BUILD/bench/plan_ops"
"$BUILD/bench/plan_ops" "$circuit" "$mode" > "$out/plan.txt" || exit 2
plan() { awk -v k="$1" '$1 == k {print $2; f = 1} END {if (!f) print 0}' "$out/plan.txt"; }

# compile as the Makefile does (sm_90 only), with line info and ptxas's report
"$nvcc" -std=c++17 -O3 --fmad=false -arch="$arch" -cubin -lineinfo -Iinclude -DDLM_HAVE_CUDA=1 \
    -Xptxas -v kernels/engine_cuda_bits.cu -o "$out/bits.cubin" 2> "$out/ptxas.txt"
"$bin/nvdisasm" -c -gi "$out/bits.cubin" > "$out/bits.sass"
"$bin/cuobjdump" --dump-resource-usage "$out/bits.cubin" > "$out/resources.txt"

line() { # line number of the first line of FILE matching the fixed string
    grep -nF -- "$2" "$1" | head -1 | cut -d: -f1
}
fetch=$(line kernels/engine_cuda_bits.cu 'const dlm_op op = a.ops[i];')
coin=$(line include/dlm_step.h 'const philox4x32_ctr_t r = dlm_coin_block(seed, block, coin);')
tt4=$(line include/dlm_step.h 'DLM_TT2_LOOP(4)')
tt8=$(line include/dlm_step.h 'DLM_TT2_LOOP(8)')
gones=$(line kernels/engine_cuda_bits.cu 'atomicAdd(&a.ones[k], (unsigned long long)c)')
for v in fetch coin tt4 tt8 gones; do
    [ -n "${!v}" ] || { echo "sass.sh: source line for $v not found" >&2; exit 2; }
done
sc() { python3 bench/sass_count.py "$@" 2>/dev/null; }
F="line:^engine_cuda_bits\\.cu:$fetch "
lop() { echo "ins:LOP3\\.LUT R[0-9]+, R[0-9]+, R[0-9]+, RZ, $1,"; }
c_coin=$(sc path "$out/bits.sass" bits_kernel "$F" "line:dlm_step\\.h:$coin\\b")
c_xor=$(sc path "$out/bits.sass" bits_kernel "$F" "line:dlm_step\\.h:$tt4\\b&$(lop 0x3c)")
c_and=$(sc path "$out/bits.sass" bits_kernel "$F" "line:dlm_step\\.h:$tt8\\b&$(lop 0xc0)")
read -r c_outs u_outs < <(sc loop "$out/bits.sass" bits_kernel 'ins:REDUX' 'REDUX' \
    "line:^device_atomic_functions\\.hpp:[0-9]+ engine_cuda_bits\\.cu:$gones ")
for v in c_coin c_xor c_and c_outs u_outs; do
    case ${!v} in ''|*[!0-9]*) echo "sass.sh: count $v not found in the SASS" >&2; exit 2;; esac
done

# ptxas: registers, stack, spills, static shared memory
regs=$(sed -n 's/.*Used \([0-9]*\) registers.*/\1/p' "$out/ptxas.txt" | head -1)
stack=$(sed -n 's/.* \([0-9]*\) bytes stack frame.*/\1/p' "$out/ptxas.txt" | head -1)
spills=$(sed -n 's/.*stack frame, \([0-9]*\) bytes spill stores, \([0-9]*\) bytes spill loads.*/\1 \2/p' \
    "$out/ptxas.txt" | head -1)
smem=$(sed -n 's/.*registers.* \([0-9]*\) bytes smem.*/\1/p' "$out/ptxas.txt" | head -1)
nf=$(plan coin_fair) nxor=$(plan gate2:t=6) nand=$(plan gate2:t=8)
nout=$(plan outputs) nslots=$(plan slots)
other=$(awk '$1 != "coin_fair" && $1 != "gate2:t=6" && $1 != "gate2:t=8" && $1 != "outputs" && $1 != "live" &&
             $1 != "slots" && $2 > 0 {printf "%s%s %s", s, $1, $2; s = ", "}' "$out/plan.txt")

echo "kernel: bits_kernel (the interpreter), nvcc $("$nvcc" --version | sed -n 's/.*release \([0-9.]*\).*/\1/p'), $arch"
echo "plan of $circuit --mode $mode: $nf fair coins, $nxor XOR, $nand AND, $nout outputs, $nslots slots${other:+; not counted: $other}"
echo "warp instructions per operation pass: fair coin $c_coin, 2-input XOR $c_xor, 2-input AND $c_and"
echo "warp instructions per output: $c_outs per pass of the output loop / $u_outs outputs"
awk -v a="$nf" -v ca="$c_coin" -v b="$nxor" -v cb="$c_xor" -v c="$nand" -v cc="$c_and" \
    -v o="$nout" -v co="$c_outs" -v uo="$u_outs" 'BEGIN {
    ops = (a * ca + b * cb + c * cc) / 4096; outs = o * co / uo / 4096
    printf "warp instructions per sample: %.2f (operations %.2f, outputs %.2f)\n", ops + outs, ops, outs
    printf "per 2-input gate per 4096 chains: %d warp instructions (XOR; AND %d)\n", cb, cc }'
echo "stack bytes: $stack"
echo "spills: ${spills% *} bytes stores, ${spills#* } bytes loads"
echo "registers: $regs"
echo "cuobjdump --dump-resource-usage: $(grep -o 'REG:[0-9]* STACK:[0-9]* SHARED:[0-9]* LOCAL:[0-9]*' "$out/resources.txt" | head -1)"
# the layout plan_layout picks (values in shared memory, the largest block <= 256 that
# fits in 227 KiB of opt-in shared memory beside the ones counters), then the resident
# blocks per SM of an H100/H200 (sm_90): 64 Ki registers (256 per warp granule), 228 KiB
# of shared memory with 1 KiB reserved per block, 2048 threads, 32 blocks
awk -v s="$nslots" -v o="$nout" -v r="$regs" -v st="$smem" 'BEGIN {
    optin = 227 * 1024 - st; ones = 4 * o <= 16384 && 4 * o <= optin ? 4 * o : 0
    bd = 256; dyn = ones; where = "global"
    for (b = 256; b >= 32; b -= 32) if (ones + 16 * s * b <= optin) { bd = b; dyn = ones + 16 * s * b; where = "shared"; break }
    w = bd / 32; rw = int((r * 32 + 255) / 256) * 256
    br = int(int(65536 / rw) / w); bs = int(228 * 1024 / (dyn + st + 1024)); bt = int(2048 / bd)
    n = br; if (bs < n) n = bs; if (bt < n) n = bt; if (32 < n) n = 32
    printf "resident warps per SM: %d (%d-thread blocks, values in %s memory, %d dynamic shared bytes; blocks by registers %d, by shared memory %d, by threads %d)\n", n * w, bd, where, dyn, br, bs, bt }'

# The JIT kernel (kernels/engine_cuda_jit.cu): CIRCUIT's program compiled by the
# engine's own NVRTC call (plan_ops cubin: dlm_cuda_jit_compile, sm_90), so these are the
# figures of the code the engine loads. One pass of its pair loop is one thread's 128
# chains; its instructions by source: Philox (the coins), dlm_jit_cuda.h (the output
# sums and the loop), the rest (the gates, from dlm_step.h's dlm_tt2_word/dlm_lut_word
# or the generated lines).
[ "${SASS_JIT:-1}" = 1 ] || exit 0
jit_figures() { # CIRCUIT MODE PREFIX: cubin, SASS, loop pass, split, resources
    "$BUILD/bench/plan_ops" "$1" "$2" cubin "$out/$3.cubin" || return 2
    "$bin/nvdisasm" -c -gi "$out/$3.cubin" > "$out/$3.sass"
    "$bin/cuobjdump" --dump-resource-usage "$out/$3.cubin" > "$out/$3_res.txt"
    sc loop "$out/$3.sass" dlm_jit_f_kernel 'ins:POPC' 'POPC' > "$out/$3_loop.txt" || return 2
    sc split "$out/$3.sass" dlm_jit_f_kernel 'ins:POPC' 'coin=philox\.h|array\.h' \
        'out=dlm_jit_cuda\.h' > "$out/$3_split.txt" || return 2
}
jit_figures "$circuit" "$mode" jit || { echo "sass.sh: the JIT kernel's figures failed" >&2; exit 2; }
read -r c_pass u_pass < "$out/jit_loop.txt"
res() { grep -o "$1:[0-9]*" "$out/$2_res.txt" | head -1 | cut -d: -f2; }
jregs=$(res REG jit) jstack=$(res STACK jit) jlocal=$(res LOCAL jit) jsmem=$(res SHARED jit)
part() { awk -v k="$1" '$1 == k {print $2}' "$out/$2_split.txt"; }
echo "jit kernel: dlm_jit_f_kernel (NVRTC, as the engine compiles it), one pass of the pair loop $c_pass warp instructions ($u_pass POPC; Philox $(part coin jit), outputs and loop $(part out jit), gates $(part other jit))"
awk -v c="$c_pass" 'BEGIN {printf "jit warp instructions per sample: %.2f\n", c / 4096}'
awk -v g="$(part other jit)" -v n="$((nxor + nand))" 'BEGIN {
    if (n > 0) printf "jit per 2-input gate per 4096 chains: %.2f warp instructions\n", g / n }'
echo "jit stack bytes: $jstack"
echo "jit local bytes: $jlocal (cuobjdump; spills go to the stack, so 0 stack bytes means no spills)"
echo "jit registers: $jregs"
awk -v o="$nout" -v r="$jregs" -v st="$jsmem" 'BEGIN {   # 256-thread blocks, 4 nout shared bytes
    rw = int((r * 32 + 255) / 256) * 256; br = int(int(65536 / rw) / 8)
    bs = int(228 * 1024 / (4 * o + st + 1024)); n = br; if (bs < n) n = bs; if (8 < n) n = 8
    printf "jit resident warps per SM: %d (256-thread blocks; blocks by registers %d, by shared memory %d)\n", 8 * n, br, bs }'

# The EPFL circuits whose programs compile in seconds: gate instructions per 2-input
# gate (those not from Philox or dlm_jit_cuda.h) per 4096 chains, and the stack.
[ "${SASS_EPFL:-1}" = 1 ] || exit 0
for c in ${SASS_EPFL_CIRCUITS:-random_control/ctrl random_control/dec random_control/priority}; do
    f=circuits/epfl/$c.aig
    [ -f "$f" ] || continue
    n=$(basename "$c")
    "$BUILD/bench/plan_ops" "$f" revise > "$out/epfl_$n.txt" || exit 2
    g2=$(awk '$1 ~ /^gate2:/ {s += $2} END {print s + 0}' "$out/epfl_$n.txt")
    other=$(awk '$1 ~ /^gate[013456]$/ || $1 == "coin_biased" || $1 == "inc" {s += $2} END {print s + 0}' "$out/epfl_$n.txt")
    jit_figures "$f" revise "epfl_$n" || { echo "sass.sh: $n: the JIT kernel's figures failed" >&2; exit 2; }
    awk -v n="$n" -v g="$(part other "epfl_$n")" -v k="$g2" -v x="$other" -v s="$(res STACK "epfl_$n")" \
        -v r="$(res REG "epfl_$n")" 'BEGIN {
        printf "jit EPFL %s revise: %.2f warp instructions per 2-input gate per 4096 chains (%d gates%s), stack %d bytes, %d registers\n",
            n, g / k, k, (x > 0 ? sprintf(", %d other operations counted with them", x) : ""), s, r }'
done
