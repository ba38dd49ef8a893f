#!/usr/bin/env bash
# mutants.sh — deliberate bugs in the CUDA kernels, each run under the CPU emulation, to
# show which test catches it (docs/gpu.md, "Mutants the emulation catches").
#
#   make mutants                                     (all of them; MUTANTS="NAME..." for some)
#   make -j2 emu && bash test/cuda_emu/mutants.sh [NAME...]
#
# Each mutant is one sed -E expression applied to a copy of kernels/ and include/; the
# script checks that it changed exactly one line, compiles the mutated kernels the way
# test/cuda_emu/emu.mk does (rewrite.sed, then the g++ command make prints for the
# kernel, minus -Werror), replaces those objects in a copy of build/emu/libdlmsim.a,
# links the named tests with the command make prints for them and runs them in turn up
# to the first that fails. It prints one Markdown row per mutant: id, file:line, the
# change, `caught` or `NOT caught`, and the first failing test (binary: case, with
# cmocka's message or the emulation's; for a crash or a timeout the case that was
# running), or for one not caught what passed and why it is equivalent. Work files
# under build/emu/mutants/NAME. Not part of `make test`: each mutant takes a minute or
# two (test_cuda runs about 50 s under the emulation, test_sampler about 20 s).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=build/emu/mutants
for f in build/emu/libdlmsim.a build/emu/dlmsim; do
    [ -e "$f" ] || { echo "mutants.sh: $f is missing; run make -j2 emu first" >&2; exit 2; }
done

NAMES=() FILES=() TESTS=() EXPRS=() WHAT=() WHY=()
# m NAME FILE "TESTS" 'SED-EXPR' 'what it does' ['why no test can catch it (equivalent)']
m() { NAMES+=("$1"); FILES+=("$2"); TESTS+=("$3"); EXPRS+=("$4"); WHAT+=("$5"); WHY+=("${6:-}"); }

# A lost atomic written as a plain += is invisible here (fibers switch only at barriers
# and collectives, so no += is ever interrupted), so those mutants are a read-modify-write
# split by __dlm_emu_preempt() (the other warps run in between, as a race on a device) or,
# for per-block totals (blocks run one after another), atomicExch: what racing blocks lose.
# ---- kernels/engine_cuda_bits.cu (--backend cuda)
m bits-offby1-samples kernels/engine_cuda_bits.cu test_cuda \
  's/a\.samples\[\(cw \+ c - a\.lo\) \* a\.sbytes \+ j\]/a.samples[(cw + c - a.lo + 1) * a.sbytes + j]/' \
  'off-by-one index: each chain'"'"'s sample bytes stored one chain later'
m bits-offby1-hist-base kernels/engine_cuda_bits.cu test_cuda \
  's/unsigned \*sh_hist = sh_ones \+ \(a\.ones_shared \? a\.nout : 0\);/unsigned *sh_hist = sh_ones + (a.ones_shared ? a.nout - 1 : 0);/' \
  'off-by-one index: the shared histogram starts on the last ones counter'
m bits-shuffle-mask kernels/engine_cuda_bits.cu test_cuda \
  's/return __reduce_add_sync\(0xffffffffu, v\);/return __reduce_add_sync(0x7fffffffu, v);/' \
  'wrong mask: warp_sum'"'"'s __reduce_add_sync without lane 31'
m bits-lost-atomic-shared kernels/engine_cuda_bits.cu test_cuda \
  's/atomicAdd\(&sh_ones\[k\], c\);/{ const unsigned o_ = sh_ones[k]; __dlm_emu_preempt(); sh_ones[k] = o_ + c; }/' \
  'lost atomic: the shared ones counters read, then written back plus the warp'"'"'s count (a non-atomic read-modify-write, preempted between the two)'
m bits-bounds-hist-zero kernels/engine_cuda_bits.cu test_cuda \
  's/for \(uint32_t i = threadIdx\.x; i < hsize; i \+= blockDim\.x\) sh_hist\[i\] = 0;/for (uint32_t i = threadIdx.x; i <= hsize; i += blockDim.x) sh_hist[i] = 0;/' \
  'missed bounds check: zeroing the shared histogram writes one bin past its end'
m bits-bounds-live kernels/engine_cuda_bits.cu test_cuda \
  's/if \(hi <= cw \|\| lo >= cw \+ 64\) return 0;/if (lo >= cw + 64) return 0;/' \
  'missed bounds check: live_bits without the end-of-chunk test'
m bits-no-sync-zero kernels/engine_cuda_bits.cu test_cuda \
  '/^    __syncthreads\(\);$/d' \
  'removed __syncthreads() after zeroing the shared counters and values'
m bits-no-sync-merge kernels/engine_cuda_bits.cu test_cuda \
  '/^    __syncthreads\(\); \/\* every shared count of the block is final \*\/$/d' \
  'removed __syncthreads() before the shared counts are merged into global memory' \
  'Equivalent: dlm_cuda_block_sum, called by every thread just before it, ends in a __syncthreads that every thread reaches after its last shared count, so this barrier is redundant (left in place).'
# ---- kernels/engine_cuda.cu (--backend cuda-ref)
m byte-offby1-last-byte kernels/engine_cuda.cu test_cuda \
  's/if \(\(k & 7u\) == 7u \|\| k \+ 1 == nout\) \{/if ((k \& 7u) == 7u || k == nout) {/' \
  'off-by-one: the last, partial sample byte never stored'
m byte-bounds-ones kernels/engine_cuda.cu test_cuda \
  's/^(            for \(uint64_t c = .*); c < B; (c \+= stride\))$/\1; c <= B; \2/' \
  'missed bounds check: ones_kernel reads one chain past the chunk'
m byte-lost-atomic-ones kernels/engine_cuda.cu test_cuda \
  's/if \(threadIdx\.x == 0 && total\) atomicAdd\(&ones\[k\], total\);/if (threadIdx.x == 0 \&\& total) atomicExch(\&ones[k], total);/' \
  'lost atomic: the per-block ones totals stored (atomicExch) instead of added, so all but the last block'"'"'s total are lost'
# ---- include/dlm_cuda.h (all kernels)
m block-sum-shuffle-mask include/dlm_cuda.h "test_cuda test_sampler" \
  's/for \(int o = 16; o > 0; o >>= 1\) v \+= __shfl_down_sync\(0xffffffffu, v, o\);/for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0x0000ffffu, v, o);/' \
  'wrong mask: dlm_cuda_block_sum shuffles with lanes 0-15 only'
# ---- kernels/sampler_cuda.cu (the oracle sampler)
m sampler-offby1-scatter kernels/sampler_cuda.cu test_sampler \
  's/cs\.tok\[i \* n \+ c\] = tok\[i\];/cs.tok[i * n + c + 1] = tok[i];/' \
  'off-by-one index: a chain'"'"'s tokens scattered into the next chain'"'"'s column'
m sampler-bounds-round kernels/sampler_cuda.cu test_sampler \
  '/^static __global__ void round_kernel/,/^}/ s/c < n;/c <= n;/' \
  'missed bounds check: round_kernel runs chain n (one past the chunk)'
m sampler-shuffle-mask kernels/sampler_cuda.cu test_sampler \
  's/const unsigned long long u = __shfl_down_sync\(0xffffffffu, v, o\);/const unsigned long long u = __shfl_down_sync(0xfffffffeu, v, o);/' \
  'wrong mask: block_max shuffles without lane 0'
m sampler-lost-atomic-pos kernels/sampler_cuda.cu test_sampler \
  's/atomicAdd\(&sh_pos\[\(size_t\)i \* V \+ t\], 1u\);/{ const unsigned o_ = sh_pos[(size_t)i * V + t]; __dlm_emu_preempt(); sh_pos[(size_t)i * V + t] = o_ + 1u; }/' \
  'lost atomic: the shared position counters read, then written back plus one (a non-atomic read-modify-write, preempted between the two)'
m sampler-lost-atomic-global kernels/sampler_cuda.cu test_sampler \
  's/if \(\(t = dlm_cuda_block_sum\(active, warp_sums\)\) != 0\) atomicAdd\(\(unsigned long long \*\)&k\.active\[r\], t\);/if ((t = dlm_cuda_block_sum(active, warp_sums)) != 0) atomicExch((unsigned long long *)\&k.active[r], t);/' \
  'lost atomic: the per-block active totals stored (atomicExch) instead of added, so all but the last block'"'"'s total are lost'
m sampler-no-sync-zero kernels/sampler_cuda.cu test_sampler \
  '/^static __global__ void finish_kernel/,/^}/ { /^    __syncthreads\(\);$/d }' \
  'removed __syncthreads() after zeroing the shared counters'
m sampler-no-sync-merge kernels/sampler_cuda.cu test_sampler \
  '/^    __syncthreads\(\); \/\* every shared count of the block is final \*\/$/d' \
  'removed __syncthreads() before the shared counts are merged into global memory' \
  'Equivalent: the dlm_cuda_block_sum just before it ends in a __syncthreads that every thread reaches after its last shared count, so this barrier is redundant (left in place).'
m sampler-wrong-max kernels/sampler_cuda.cu test_sampler \
  's/v = u > v \? u : v;/v = u < v ? u : v;/' \
  'wrong reduction: block_max takes the minimum of the warp'

want=("$@")
selected() {
    [ ${#want[@]} -eq 0 ] && return 0
    local w
    for w in "${want[@]}"; do [ "$w" = "$1" ] && return 0; done
    return 1
}

printf '| id | file:line | change | result | first failing test (binary: case, message) |\n|---|---|---|---|---|\n'
caught=0 missed=0 broken=0
for i in "${!NAMES[@]}"; do
    name=${NAMES[$i]} file=${FILES[$i]}
    selected "$name" || continue
    d=$ROOT/$OUT/$name
    rm -rf "$d"
    mkdir -p "$d/src"
    cp -r kernels include "$d/src/"
    sed -E -i -e "${EXPRS[$i]}" "$d/src/$file"
    nchanged=$(diff "$file" "$d/src/$file" | grep -c '^>' || true)
    nremoved=$(diff "$file" "$d/src/$file" | grep -c '^<' || true)
    line=$(diff "$file" "$d/src/$file" | grep -m1 -E '^[0-9]' | sed -E 's/^([0-9]+).*/\1/')
    where="$file:${line:-?}"
    if [ "$nremoved" -ne 1 ] || [ "$nchanged" -gt 1 ]; then
        printf '| %s | %s | %s | DID NOT APPLY (%s lines changed) | |\n' "$name" "$where" "${WHAT[$i]}" "$nremoved"
        broken=$((broken + 1))
        continue
    fi
    case $file in
        kernels/*.cu) cus=$(basename "$file" .cu) ;;
        *) cus=$(cd kernels && ls *.cu | sed 's/\.cu$//') ;;
    esac
    cp build/emu/libdlmsim.a "$d/lib.a"
    ok=1
    for k in $cus; do
        cmd=$(make -s -n -W "kernels/$k.cu" "build/emu/kernels/$k.o" 2>/dev/null |
              sed -e ':a;/\\$/{N;s/\\\n//;ba}' | grep -- "-c build/emu/kernels/$k.cc")
        cmd=${cmd//build\/emu\/kernels\/$k.cc/$d/$k.cc}
        cmd=${cmd//-o build\/emu\/kernels\/$k.o/-o $d/$k.o}
        cmd=${cmd//-Iinclude/-I$d/src/include}
        cmd=${cmd//-Werror/}
        { echo "#line 1 \"kernels/$k.cu\""; sed -E -f test/cuda_emu/rewrite.sed "$d/src/kernels/$k.cu"; } > "$d/$k.cc"
        eval "$cmd" > "$d/compile.log" 2>&1 || { ok=0; break; }
        ar r "$d/lib.a" "$d/$k.o" 2>>"$d/compile.log"
    done
    change=$(diff "$file" "$d/src/$file" | grep '^>' | sed -E 's/^> +//')
    [ -z "$change" ] && change="(line deleted)"
    change=${change//|/\\|}
    if [ $ok = 0 ]; then
        printf '| %s | %s | %s | DID NOT COMPILE | %s |\n' "$name" "$where" "${WHAT[$i]}" "$d/compile.log"
        broken=$((broken + 1))
        continue
    fi
    # the listed tests in turn, up to the first that fails
    result="NOT caught" first=""
    for t in ${TESTS[$i]}; do
        cmd=$(make -s -n -W "test/$t.c" "build/emu/test/$t" 2>/dev/null |
              sed -e ':a;/\\$/{N;s/\\\n//;ba}' | grep -- "-o build/emu/test/$t")
        cmd=${cmd//build\/emu\/libdlmsim.a/$d/lib.a}
        cmd=${cmd//-o build\/emu\/test\/$t/-o $d/$t}
        eval "$cmd" > "$d/link.log" 2>&1 || { first="$first $t DID NOT LINK;"; continue; }
        timeout 300 "$d/$t" > "$d/$t.log" 2>&1
        rc=$?
        if [ $rc -eq 0 ]; then
            pass=$(grep -m1 -E '^\[  PASSED  \]' "$d/$t.log" | sed 's/^\[  PASSED  \] //')
            first="$first $t passed ($pass);"
            continue
        fi
        # the first case that failed; for a crash or a timeout, the case that was running
        case1=$(grep -m1 -E '^\[  FAILED  \] [a-z_0-9]+$' "$d/$t.log" | sed 's/.*\] //')
        [ -z "$case1" ] && case1=$(grep -E '^\[ RUN      \] ' "$d/$t.log" | tail -1 | sed 's/.*\] //')
        # its message: the first line the case printed itself (the test's or the
        # emulation's), else cmocka's
        msg=$(awk -v c="$case1" '$0 == "[ RUN      ] " c { on = 1; next }
                  on && /^\[  FAILED|^\[       OK / { exit }
                  on && join && /^  kernel / { mine = mine ";" substr($0, 2) } { join = 0 }
                  on && !/^\[/ && !mine { mine = $0; join = 1 } on && /^\[  ERROR/ && !cm { cm = $0 }
                  END { print mine != "" ? mine : cm }' "$d/$t.log" |
              sed -E 's/^\[  ERROR   \] (--- )?(\[   LINE   \] --- )?//')
        [ $rc -eq 124 ] && msg="timed out after 300 s${msg:+; $msg}"
        [ -z "$msg" ] && msg="exit $rc: $(grep -v '^\s*$' "$d/$t.log" | tail -1)"
        msg=${msg//|/\\|}
        msg=${msg//\`/\'}
        result=caught first="$t: ${case1:-?} (\`${msg:0:300}\`)"
        break
    done
    if [ "$result" = caught ]; then
        caught=$((caught + 1))
    else
        missed=$((missed + 1))
        first="${first# }${WHY[$i]:+ ${WHY[$i]}}"
    fi
    printf '| %s | %s | %s: `%s` | %s | %s |\n' "$name" "$where" "${WHAT[$i]}" "$change" "$result" "$first"
done
echo
echo "$caught caught, $missed not caught, $broken did not apply or compile"
