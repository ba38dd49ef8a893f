/* engine_cuda_bits.cu — the bit-sliced CUDA engine (`--backend cuda`, the default with a
 * device): the word step of the CPU bit-sliced engine (dlm_step_op_words in
 * include/dlm_step.h, the same DLM_HD function host/engine_bits.c calls) run by one
 * thread per 128 chains, with the output reductions in the same kernel. Same samples and
 * counts, bit for bit, as every other engine (docs/gpu.md, "The bit-sliced kernel").
 *
 *   plan       the program renamed to live value slots once (dlm_slot_plan_build,
 *              include/dlm_slots.h), validated, and copied to the device with the
 *              outputs' slots and negations.
 *   words      chains cut into pairs of 64-chain words aligned to 128 chains (base =
 *              first_chain rounded down to 128): a pair is one Philox block per fair
 *              coin. Chains outside [first_chain, first_chain + chains) are computed,
 *              masked out of every count and never written as samples.
 *   threads    thread = one pair; ONE launch per chunk runs every operation of the plan
 *              in program order on the thread's two words, in place (the checker makes
 *              in-order, in-place execution per chain equal to the model; threads never
 *              share a word, so no synchronisation between operations), then counts.
 *   values     in dynamic shared memory, sh[slot * 2 blockDim + 2 threadIdx + j], when
 *              16 * nslots * blockDim bytes fit per block (blockDim 256 down to 32); else
 *              in a global chunk buffer val[slot * W + g] (thread t owns g = 2t, 2t+1, so
 *              a warp's accesses to one slot are 512 contiguous bytes).
 *   reductions odd parity (a register per thread, one 64-bit atomic per block), ones per
 *              output (warp sums into per-block 32-bit shared counters, or into the 64-bit
 *              global counts when there are too many outputs), the histogram (nout <= 24:
 *              per-block shared bins or global atomics) and packed samples
 *              (dlm_pack_word, include/dlm_words.h), all in the same launch.
 *   memory     bytes predicted before any cudaMalloc and compared with cudaMemGetInfo
 *              less a margin; the chunk is sized to fit; o->max_bytes bounds the value
 *              bytes in use.
 *
 * What it is not: a second step (every value comes from dlm_step_op_words), a float
 * reduction, or the reference (the byte engine kernels/engine_cuda.cu is, `cuda-ref`).
 *
 * Build: `make` (nvcc found); `make CUDA=0` leaves it out and host/backend.c provides a
 * stub. -DDLM_CUDA_DEBUG=1 synchronises after every launch.
 */
#include <cuda_runtime.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The DLM_HD headers first (Random123 is C++ under nvcc), then the C declarations. */
#include "dlm_step.h"
#include "dlm_words.h"

extern "C" {
#include "dlmsim.h"
#include "dlm_engine.h"
#include "dlm_slots.h"
}

#include "dlm_cuda.h"

// ---------------------------------------------------------------- constants

#define WHO "cuda engine"                    /* starts this engine's messages */
#define BITS_MAX_BLOCK 256u                  /* threads (pairs) per block, at most */
#define BITS_MIN_BLOCK 32u                   /* one warp: the reductions need whole warps */
#define BITS_MAX_CHUNK_PAIRS (UINT64_C(1) << 23) /* 2^30 chains per chunk: a block's 32-bit
                                                    shared counts cannot overflow */
#define BITS_ONES_SHARED_MAX (16u << 10)     /* per-block ones counters (4096 outputs) */
#define BITS_GLOBAL_WAVES 16u                /* global values: a chunk of this many waves of
                                                resident threads; more only takes memory */

enum { HIST_NONE = 0, HIST_SHARED = 1, HIST_GLOBAL = 2 };

/* Everything one launch reads, by value (kernel parameter space). */
typedef struct {
    const dlm_op *ops;        /* the slot plan's operations, program order */
    uint64_t nops;
    const uint32_t *out_slot; /* slot of output k, or DLM_POS_CONST */
    const uint8_t *out_neg;   /* output k = word ^ out_neg[k] (or out_neg[k] if constant) */
    uint32_t nout;
    uint32_t nslots;
    uint64_t *val;            /* global values val[slot * vstride + g], or NULL: shared */
    uint64_t vstride;
    uint64_t npairs;          /* pairs in this chunk; thread q of the grid-stride owns pair q */
    uint64_t chain0;          /* first chain of pair 0, a multiple of 128 */
    uint64_t lo, hi;          /* the chunk's live chains [lo, hi) */
    uint64_t seed;
    int ones_shared;          /* 1: ones in per-block shared 32-bit counters */
    int hist_mode;            /* HIST_* */
    unsigned long long *ones; /* nout 64-bit counts */
    unsigned long long *hist; /* 2^nout 64-bit counts, or NULL */
    uint8_t *samples;         /* NULL, or live chain c at samples + (c - lo) * sbytes */
    uint64_t sbytes;          /* (nout + 7) / 8 */
    dlm_cuda_misc *misc;      /* the odd count */
} bits_args;

// ---------------------------------------------------------------- device helpers

/* The chains of the 64-chain word starting at chain cw that lie in [lo, hi), as bits. */
__device__ __forceinline__ uint64_t live_bits(uint64_t cw, uint64_t lo, uint64_t hi)
{
    if (hi <= cw || lo >= cw + 64) return 0;
    const unsigned a = lo > cw ? (unsigned)(lo - cw) : 0u;
    const unsigned b = hi - cw < 64 ? (unsigned)(hi - cw) : 64u;
    const uint64_t below_b = b == 64 ? ~UINT64_C(0) : (UINT64_C(1) << b) - 1;
    return below_b & ~((UINT64_C(1) << a) - 1);
}

/* Output k's word for the word at v (negation applied): the CPU engine's rule, a
 * constant output is 0 before negation. */
__device__ __forceinline__ uint64_t out_word(const bits_args &a, const uint64_t *v,
                                             size_t stride, uint32_t k)
{
    const uint32_t s = a.out_slot[k];
    const uint64_t w = s == DLM_POS_CONST ? 0 : v[(size_t)s * stride];
    return a.out_neg[k] ? ~w : w;
}

/* Sum of v over the warp, valid in lane 0. Every lane of the warp must call it. */
__device__ __forceinline__ unsigned warp_sum(unsigned v)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    return __reduce_add_sync(0xffffffffu, v); /* one REDUX instruction */
#else
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    return v;
#endif
}

// ---------------------------------------------------------------- device: one pair

/* Every operation of the plan, in program order, on the thread's two words v[0], v[1]
 * (stride apart per slot) for chains chain0 .. chain0 + 127: chain0 is a multiple of
 * 128 and n = 2, so a fair coin costs one Philox block. All lanes read the same op
 * (a broadcast load). The host validated every slot the plan names (dlm_slot_plan_validate), so
 * nothing is checked here, on the hot path. */
__device__ void run_ops(const bits_args &a, uint64_t *v, size_t stride, uint64_t chain0)
{
    for (uint64_t i = 0; i < a.nops; i++) {
        const dlm_op op = a.ops[i]; /* a copy: value stores may not alias its fields */
        dlm_step_op_words(&op, v, stride, v + (size_t)op.pos * stride, 2, chain0, a.seed);
    }
}

/* Ones per output and odd parity of the thread's two words; returns the thread's odd
 * live chains. Every lane of the warp must call it (warp sums): a lane without a pair
 * passes live = 0 and reads nothing. A warp's sum is at most 32 * 128, so 32 bits do. */
__device__ unsigned count_outputs(const bits_args &a, const uint64_t *v, size_t stride,
                                  uint64_t live0, uint64_t live1, unsigned *sh_ones)
{
    const bool any = (live0 | live1) != 0;
    uint64_t par0 = 0, par1 = 0;
    for (uint32_t k = 0; k < a.nout; k++) {
        const uint64_t w0 = any ? out_word(a, v, stride, k) : 0;
        const uint64_t w1 = any ? out_word(a, v + 1, stride, k) : 0;
        par0 ^= w0;
        par1 ^= w1;
        const unsigned c = warp_sum((unsigned)(__popcll(w0 & live0) + __popcll(w1 & live1)));
        if ((threadIdx.x & 31u) == 0 && c) {
            if (sh_ones)
                atomicAdd(&sh_ones[k], c);
            else
                atomicAdd(&a.ones[k], (unsigned long long)c);
        }
    }
    return (unsigned)(__popcll(par0 & live0) + __popcll(par1 & live1));
}

/* Samples and histogram of one word (chains cw .. cw + 63, live bits `live`): eight
 * outputs at a time become one byte per chain with dlm_pack_word (the engines' sample
 * layout); the bytes of live chains go to the samples, and with a histogram (nout <=
 * 24, so at most three bytes) they make each chain's index. */
__device__ void emit_word(const bits_args &a, const uint64_t *v, size_t stride, uint64_t cw,
                          uint64_t live, unsigned *sh_hist)
{
    uint32_t idx[64];
    uint8_t byte[64];
    for (unsigned c = 0; c < 64; c++) idx[c] = 0;
    for (uint64_t j = 0; j < a.sbytes; j++) {
        uint64_t ow[8];
        const uint32_t n8 = a.nout - 8 * (uint32_t)j < 8 ? a.nout - 8 * (uint32_t)j : 8;
        for (uint32_t r = 0; r < 8; r++) ow[r] = r < n8 ? out_word(a, v, stride, 8 * (uint32_t)j + r) : 0;
        dlm_pack_word(ow, n8, 1, byte);
        for (uint64_t m = live; m; m &= m - 1) {
            const unsigned c = (unsigned)__ffsll((long long)m) - 1;
            if (a.samples) a.samples[(cw + c - a.lo) * a.sbytes + j] = byte[c];
            if (a.hist_mode != HIST_NONE) idx[c] |= (uint32_t)byte[c] << (8 * j); /* j < 3 */
        }
    }
    if (a.hist_mode == HIST_NONE) return;
    for (uint64_t m = live; m; m &= m - 1) {
        const unsigned c = (unsigned)__ffsll((long long)m) - 1;
        if (a.hist_mode == HIST_SHARED)
            atomicAdd(&sh_hist[idx[c]], 1u);
        else
            atomicAdd(&a.hist[idx[c]], 1ull);
    }
}

// ---------------------------------------------------------------- the kernel

/* One chunk: thread = pair q (grid-stride, block-uniform trip count so that whole warps
 * reach the warp sums), all operations, then the reductions. Dynamic shared memory:
 * [values 16 nslots blockDim, if a.val is NULL][ones: nout x u32][histogram: 2^nout x
 * u32], each part present only when its mode says so. */
static __global__ void __launch_bounds__(BITS_MAX_BLOCK) bits_kernel(const bits_args a)
{
    extern __shared__ uint64_t sh[];
    __shared__ unsigned long long warp_sums[32];
    const bool shared_vals = a.val == NULL;
    const size_t sstride = 2 * (size_t)blockDim.x;
    unsigned *sh_ones = (unsigned *)(sh + (shared_vals ? (size_t)a.nslots * sstride : 0));
    unsigned *sh_hist = sh_ones + (a.ones_shared ? a.nout : 0);
    const uint32_t hsize = a.hist_mode == HIST_SHARED ? 1u << a.nout : 0u;
    for (uint32_t i = threadIdx.x; i < (a.ones_shared ? a.nout : 0u); i += blockDim.x) sh_ones[i] = 0;
    for (uint32_t i = threadIdx.x; i < hsize; i += blockDim.x) sh_hist[i] = 0;
    if (shared_vals) /* determinism for unchecked programs, as the CPU engine's calloc */
        for (uint32_t s = 0; s < a.nslots; s++) {
            sh[s * sstride + 2 * threadIdx.x] = 0;
            sh[s * sstride + 2 * threadIdx.x + 1] = 0;
        }
    __syncthreads();

    unsigned long long odd = 0;
    const uint64_t step = (uint64_t)gridDim.x * blockDim.x;
    for (uint64_t q0 = (uint64_t)blockIdx.x * blockDim.x; q0 < a.npairs; q0 += step) {
        const uint64_t q = q0 + threadIdx.x;
        const bool active = q < a.npairs;
        uint64_t *v = shared_vals ? sh + 2 * threadIdx.x : a.val + (active ? 2 * q : 0);
        const size_t stride = shared_vals ? sstride : (size_t)a.vstride;
        const uint64_t c0 = a.chain0 + 128 * q;
        const uint64_t live0 = active ? live_bits(c0, a.lo, a.hi) : 0;
        const uint64_t live1 = active ? live_bits(c0 + 64, a.lo, a.hi) : 0;
        if (active) run_ops(a, v, stride, c0);
        odd += count_outputs(a, v, stride, live0, live1, a.ones_shared ? sh_ones : NULL);
        if (active && (a.samples || a.hist_mode != HIST_NONE)) {
            emit_word(a, v, stride, c0, live0, sh_hist);
            emit_word(a, v + 1, stride, c0 + 64, live1, sh_hist);
        }
    }

    const unsigned long long total = dlm_cuda_block_sum(odd, warp_sums);
    if (threadIdx.x == 0 && total) atomicAdd(&a.misc->odd, total);
    __syncthreads(); /* every shared count of the block is final */
    if (a.ones_shared)
        for (uint32_t k = threadIdx.x; k < a.nout; k += blockDim.x)
            if (sh_ones[k]) atomicAdd(&a.ones[k], (unsigned long long)sh_ones[k]);
    for (uint32_t i = threadIdx.x; i < hsize; i += blockDim.x)
        if (sh_hist[i]) atomicAdd(&a.hist[i], (unsigned long long)sh_hist[i]);
}

// ---------------------------------------------------------------- host side: state

/* Everything one run allocates; freed by ctx_free on every path. */
typedef struct {
    dlm_slot_plan own;         /* built here when the caller gave no plan */
    const dlm_slot_plan *sp;   /* the plan in use: o->plan or &own */
    dlm_op *d_ops;
    uint32_t *d_out_slot;
    uint8_t *d_out_neg;
    uint64_t *d_val;
    uint8_t *d_samples;
    dlm_cuda_counters cnt;
} bits_ctx;

static void ctx_free(bits_ctx *x)
{
    /* errors here cannot be acted upon and would mask the first one, which is reported */
    cudaFree(x->d_ops);
    cudaFree(x->d_out_slot);
    cudaFree(x->d_out_neg);
    cudaFree(x->d_val);
    cudaFree(x->d_samples);
    dlm_cuda_counters_free(&x->cnt);
    dlm_slot_plan_free(&x->own);
    memset(x, 0, sizeof *x);
}

/* Launch geometry and chunk of a run, decided before any allocation. */
typedef struct {
    int shared_vals;     /* values in shared memory */
    unsigned block;      /* threads per block */
    unsigned grid_cap;   /* blocks per launch at most (one wave; fewer under max_bytes) */
    size_t shmem;        /* dynamic shared bytes per block */
    int ones_shared;
    int hist_mode;
    uint64_t pair_bytes; /* value bytes of one pair: 16 per slot */
} bits_layout;

// ---------------------------------------------------------------- host side: layout

/* Values in shared memory when a block of at least one warp holds its pairs' values
 * (16 nslots bytes per thread) beside the ones counters, and the value budget
 * o->max_bytes allows one such block; the largest block that fits (<= 256). Then the
 * histogram's bins in shared memory if they fit in what is left, else global atomics.
 * o->cuda_block / o->cuda_global override the choice (tests, measurements). */
static dlm_status plan_layout(uint32_t nslots, uint32_t nout, int want_hist,
                              const dlm_run_opts *o, int sms, int optin, bits_layout *ly,
                              dlm_err *err)
{
    if (o->cuda_block && (o->cuda_block % 32 || o->cuda_block > BITS_MAX_BLOCK))
        return dlm_fail(err, DLM_EINPUT, WHO ": cuda_block %u is not a multiple of 32 in 32..%u",
                        o->cuda_block, BITS_MAX_BLOCK);
    cudaFuncAttributes fa;
    DLM_CUDA_TRY(cudaFuncGetAttributes(&fa, bits_kernel));
    const uint64_t budget = (uint64_t)optin > fa.sharedSizeBytes ? (uint64_t)optin - fa.sharedSizeBytes : 0;
    memset(ly, 0, sizeof *ly);
    ly->pair_bytes = 16 * (uint64_t)nslots;
    const uint64_t ones_b = (uint64_t)nout * sizeof(unsigned);
    ly->ones_shared = nout && ones_b <= dlm_cuda_min(BITS_ONES_SHARED_MAX, budget);
    uint64_t used = ly->ones_shared ? ones_b : 0;
    const unsigned top = o->cuda_block ? o->cuda_block : BITS_MAX_BLOCK;
    const unsigned bottom = o->cuda_block ? o->cuda_block : BITS_MIN_BLOCK;
    ly->block = top;
    for (unsigned bd = top; !o->cuda_global && bd >= bottom; bd -= 32) {
        const uint64_t vb = ly->pair_bytes * bd;
        if (used + vb <= budget && (!o->max_bytes || vb <= o->max_bytes)) {
            ly->shared_vals = 1;
            ly->block = bd;
            used += vb;
            break;
        }
    }
    if (want_hist) {
        const uint64_t hb = (uint64_t)sizeof(unsigned) << nout;
        ly->hist_mode = used + hb <= budget ? HIST_SHARED : HIST_GLOBAL;
        if (ly->hist_mode == HIST_SHARED) used += hb;
    }
    ly->shmem = (size_t)used;
    if (ly->shmem > 48u * 1024u) { /* above the default: opt in (per function, idempotent) */
        DLM_CUDA_TRY(cudaFuncSetAttribute(bits_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          (int)ly->shmem));
    }
    int per_sm = 0;
    DLM_CUDA_TRY(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, bits_kernel, (int)ly->block,
                                                               ly->shmem));
    if (per_sm < 1)
        return dlm_fail(err, DLM_ECUDA, WHO ": no block of %u threads with %zu shared bytes fits "
                        "on a multiprocessor", ly->block, ly->shmem);
    ly->grid_cap = (unsigned)sms * (unsigned)per_sm;
    if (ly->shared_vals && o->max_bytes) /* value bytes in use: every block's shared values */
        ly->grid_cap = (unsigned)dlm_cuda_min(ly->grid_cap, o->max_bytes / (ly->pair_bytes * ly->block));
    return DLM_OK;
}

// ---------------------------------------------------------------- host side: launcher

static dlm_status bits_launch(const bits_args &a, unsigned grid, const bits_layout &ly, dlm_err *err)
{
    bits_kernel<<<grid, ly.block, ly.shmem>>>(a);
    DLM_CUDA_LAUNCHED();
    return DLM_OK;
}

// ---------------------------------------------------------------- host side: the run

static dlm_status run_impl(bits_ctx *x, const dlm_program *p, const dlm_run_opts *o,
                           dlm_counts *out, dlm_err *err)
{
    const dlm_slot_plan *sp = x->sp;
    const uint32_t nout = p->nout;
    const uint64_t sbytes = dlm_sample_bytes(p);
    const int want_samples = o->samples != NULL && sbytes > 0;
    const int want_hist = o->want_hist || out->hist != NULL; /* as the CPU engines */
    /* pairs of words aligned to 128 chains */
    const uint64_t base = o->first_chain & ~UINT64_C(127), end = o->first_chain + o->chains;
    const uint64_t npairs = (end - base + 127) / 128;

    int sms = 0, optin = 0;
    dlm_status st = dlm_cuda_device_facts(&sms, &optin, err);
    if (st != DLM_OK) return st;
    bits_layout ly;
    if ((st = plan_layout(sp->nslots, nout, want_hist, o, sms, optin, &ly, err)) != DLM_OK) return st;

    // -- bytes needed, before any allocation
    const uint64_t b_ops = dlm_cuda_mul_sat(sp->nops, sizeof(dlm_op));
    const uint64_t b_outmap = dlm_cuda_mul_sat(nout, sizeof(uint32_t) + sizeof(uint8_t));
    const uint64_t b_counters = dlm_cuda_counters_bytes(nout, want_hist);
    const uint64_t fixed = dlm_cuda_add_sat(dlm_cuda_add_sat(b_ops, b_outmap), b_counters);
    const uint64_t per_pair = (ly.shared_vals ? 0 : ly.pair_bytes) + (want_samples ? 128 * sbytes : 0);

    size_t free0 = 0, total = 0;
    DLM_CUDA_TRY(cudaMemGetInfo(&free0, &total));
    const uint64_t margin = dlm_cuda_margin(free0);
    const uint64_t avail = (uint64_t)free0 > margin ? (uint64_t)free0 - margin : 0;

    uint64_t P = dlm_cuda_min(npairs, BITS_MAX_CHUNK_PAIRS);
    if (fixed >= avail) P = 0;
    else if (per_pair) P = dlm_cuda_min(P, (avail - fixed) / per_pair);
    if (!ly.shared_vals) {
        P = dlm_cuda_min(P, (uint64_t)BITS_GLOBAL_WAVES * ly.grid_cap * ly.block);
        if (o->max_bytes) P = dlm_cuda_min(P, o->max_bytes / ly.pair_bytes);
    }
    if (P == 0) {
        char budget[96] = "";
        if (o->max_bytes < UINT64_MAX)
            snprintf(budget, sizeof budget, "; value budget %llu bytes (max_bytes or --max-memory)",
                     (unsigned long long)o->max_bytes);
        return dlm_fail(err, DLM_EINPUT,
                        WHO ": one pair of words (128 chains) does not fit: needs %llu fixed bytes "
                        "(ops %llu, outputs %llu, counters %llu) + %llu per pair (values: %u slots "
                        "x 16 bytes in %s memory; samples: %llu); device has %llu of %llu bytes "
                        "free, %llu usable after a %llu-byte margin%s",
                        (unsigned long long)fixed, (unsigned long long)b_ops,
                        (unsigned long long)b_outmap, (unsigned long long)b_counters,
                        (unsigned long long)per_pair, sp->nslots,
                        ly.shared_vals ? "shared" : "global",
                        (unsigned long long)(want_samples ? 128 * sbytes : 0),
                        (unsigned long long)free0, (unsigned long long)total,
                        (unsigned long long)avail, (unsigned long long)margin, budget);
    }

    // -- allocation (sizes computed above)
    if ((st = dlm_cuda_counters_alloc(&x->cnt, nout, want_hist, err)) != DLM_OK) return st;
    if (b_ops) {
        DLM_CUDA_TRY(cudaMalloc((void **)&x->d_ops, (size_t)b_ops));
    }
    if (nout) {
        DLM_CUDA_TRY(cudaMalloc((void **)&x->d_out_slot, (size_t)nout * sizeof(uint32_t)));
        DLM_CUDA_TRY(cudaMalloc((void **)&x->d_out_neg, (size_t)nout));
    }
    if (!ly.shared_vals) {
        DLM_CUDA_TRY(cudaMalloc((void **)&x->d_val, (size_t)(P * ly.pair_bytes)));
    }
    if (want_samples) {
        DLM_CUDA_TRY(cudaMalloc((void **)&x->d_samples, (size_t)(P * 128 * sbytes)));
    }
    size_t free1 = 0;
    DLM_CUDA_TRY(cudaMemGetInfo(&free1, &total));
    const uint64_t measured = free0 > free1 ? (uint64_t)(free0 - free1) : 0;

    // -- inputs
    if (b_ops) {
        DLM_CUDA_TRY(cudaMemcpy(x->d_ops, sp->ops, (size_t)b_ops, cudaMemcpyHostToDevice));
    }
    if (nout) {
        DLM_CUDA_TRY(cudaMemcpy(x->d_out_slot, sp->out_slot, (size_t)nout * sizeof(uint32_t),
                                cudaMemcpyHostToDevice));
        DLM_CUDA_TRY(cudaMemcpy(x->d_out_neg, p->out_neg, (size_t)nout, cudaMemcpyHostToDevice));
    }
    if (x->d_val) { /* zeroed: deterministic even for an unchecked program, as on the CPU */
        DLM_CUDA_TRY(cudaMemset(x->d_val, 0, (size_t)(P * ly.pair_bytes)));
    }

    // -- chunks of P pairs, the last one possibly shorter
    bits_args a;
    memset(&a, 0, sizeof a);
    a.ops = x->d_ops;
    a.nops = sp->nops;
    a.out_slot = x->d_out_slot;
    a.out_neg = x->d_out_neg;
    a.nout = nout;
    a.nslots = sp->nslots;
    a.val = x->d_val;
    a.vstride = 2 * P;
    a.seed = o->seed;
    a.ones_shared = ly.ones_shared;
    a.hist_mode = ly.hist_mode;
    a.ones = x->cnt.d_ones;
    a.hist = x->cnt.d_hist;
    a.samples = want_samples ? x->d_samples : NULL;
    a.sbytes = sbytes;
    a.misc = x->cnt.d_misc;
    uint64_t value_bytes = 0;
    for (uint64_t p0 = 0; p0 < npairs; p0 += P) {
        a.npairs = dlm_cuda_min(P, npairs - p0);
        a.chain0 = base + 128 * p0;
        a.lo = a.chain0 > o->first_chain ? a.chain0 : o->first_chain;
        a.hi = dlm_cuda_min(end, a.chain0 + 128 * a.npairs);
        const unsigned grid = dlm_cuda_grid(a.npairs, ly.block, ly.grid_cap);
        if ((st = bits_launch(a, grid, ly, err)) != DLM_OK) return st;
        const uint64_t vb = ly.shared_vals ? ly.pair_bytes * ly.block * grid : ly.pair_bytes * P;
        if (vb > value_bytes) value_bytes = vb;
        if (want_samples) {
            DLM_CUDA_TRY(cudaMemcpy(o->samples + (a.lo - o->first_chain) * sbytes, x->d_samples,
                                    (size_t)((a.hi - a.lo) * sbytes), cudaMemcpyDeviceToHost));
        }
        /* once per chunk: where this chunk's execution errors surface */
        dlm_cuda_misc m;
        if ((st = dlm_cuda_counters_misc(&x->cnt, &m, err)) != DLM_OK) return st;
    }

    // -- the counters, once, added into the caller's counts
    return dlm_cuda_counters_add(&x->cnt, o->chains, value_bytes, measured, out, err);
}

// ---------------------------------------------------------------- C ABI

extern "C" dlm_status dlm_engine_cuda_bits_run(const dlm_program *p, const dlm_run_opts *o,
                                               dlm_counts *out, dlm_err *err)
{
    dlm_status st = dlm_cuda_engine_enter(p, o, out, WHO, err);
    if (st != DLM_OK || o->chains == 0) return st;
    bits_ctx x;
    memset(&x, 0, sizeof x);
    x.sp = o->plan ? o->plan : &x.own;
    if (!o->plan) st = dlm_slot_plan_build(p, &x.own, err);
    if (st == DLM_OK) st = dlm_slot_plan_validate(x.sp, p->nout, WHO, err);
    dlm_run_opts ob = *o; /* the buffers' budget: max_bytes and --max-memory */
    ob.max_bytes = dlm_cuda_budget(o->max_bytes, p->max_bytes);
    /* the kernel: the JIT kernel when asked or when it pays (dlm_cuda_jit_pays); the
     * interpreter's own knobs keep auto on the interpreter */
    const int knobs = o->cuda_block || o->cuda_global;
    const int jit = st == DLM_OK && !(knobs && o->cuda_kernel == DLM_CUDA_KERNEL_AUTO) &&
                    dlm_cuda_kernel_resolve(o->cuda_kernel, x.sp, p->nout, o->chains) == DLM_CUDA_KERNEL_JIT;
    if (st == DLM_OK && jit && knobs)
        st = dlm_fail(err, DLM_EINPUT, WHO ": cuda_block and cuda_global are the interpreter's; "
                      "the JIT kernel has neither");
    if (st == DLM_OK) st = jit ? dlm_cuda_jit_run(p, x.sp, &ob, out, err) : run_impl(&x, p, &ob, out, err);
    ctx_free(&x);
    return st;
}
