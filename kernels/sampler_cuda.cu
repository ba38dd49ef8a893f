/* sampler_cuda.cu — the oracle sampler on one GPU: loops and memory only.
 *
 * Every token, reveal, remask and revision comes from dlm_sampler_round in
 * include/dlm_sampler_step.h, the DLM_HD function the CPU sampler and the exact-law
 * enumerator call, with the same Philox counters: chain c under seed s gives the same
 * sample here and on the CPU (docs/oracle.md).
 *
 *   law        the law's arrays are copied to the device once per call; the kernels
 *              read them through a dlm_law_view of device pointers.
 *   chains     a chunk of n chains (chunk_state). The state that lives across rounds
 *              is position-major, word i of chain c at [i * n + c]: tokens, reveal
 *              confidences and the dlm_chain_ctl as CTL_WORDS 32-bit words, so a warp's
 *              32 chains read and write 32 consecutive words (coalesced). Per chain also
 *              a working area, chain-major: the copies of its tokens and confidences
 *              that dlm_sampler_round works on, and its scratch
 *              (dlm_sampler_scratch_bytes), which the shared step addresses with unit
 *              stride. Every device byte is computed before anything is allocated:
 *              the law's arrays and the counts, then per chain wbytes + L
 *              (sizeof(uint16_t) + sizeof(double)) + CTL_WORDS sizeof(uint32_t) bytes;
 *              the chunk (at most CHUNK_MAX chains) is sized from cudaMemGetInfo's free
 *              bytes less dlm_cuda_margin (include/dlm_cuda.h, the margin of the
 *              engines) and the budget (o->max_bytes, --max-memory: dlm_cuda_budget),
 *              and a chain that does not fit is refused with the numbers (DLM_EINPUT).
 *   rounds     one launch of round_kernel per decoding round (thread = chain,
 *              grid-stride): gather the chain's state, run the round, scatter it back;
 *              the round's statistics are summed per thread and per block
 *              (dlm_cuda_block_sum), one 64-bit atomic per counter per block.
 *   counts     finish_kernel counts the final tokens per position and (when asked) per
 *              sequence in per-block 32-bit shared counters when they fit in 48 KiB
 *              (else 64-bit global atomics), then one global atomic per nonzero counter
 *              per block; rounds, off-support and unfinished chains by block
 *              reductions; the samples chain-major into the working area, copied back
 *              once per chunk.
 *   host side  state (every allocation in a dev_allocs, freed on every path), one
 *              launcher per kernel (launch, then DLM_CUDA_LAUNCHED), the run; the C
 *              ABI, dlm_sampler_cuda_run (dlm_sampler.h), last.
 * CI runs it under the CPU emulation (test/cuda_emu): test/test_sampler.c's
 * cuda_matches_cpu and cuda_matches_cpu_laws compare every sample and count with the
 * CPU sampler's.
 */
#include <cuda_runtime.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Random123 (C++ templates under nvcc) first; then the C declarations with C linkage;
 * then the step header, whose includes of those are already done. */
#include <Random123/philox.h>

extern "C" {
#include "dlmsim.h"
#include "dlm_law.h"
#include "dlm_policy.h"
#include "dlm_sampler.h"
}

#include "dlm_sampler_step.h"

#include "dlm_cuda.h"

#include <limits.h>

// ---------------------------------------------------------------- constants

#define SAMPLER_THREADS 128u
#define CTL_WORDS ((uint32_t)(sizeof(dlm_chain_ctl) / sizeof(uint32_t)))
#define SHARED_MAX (48u * 1024u) /* dynamic shared bytes of finish_kernel (no opt-in) */
#define CHUNK_MAX (UINT64_C(1) << 22) /* chains per chunk: finish_kernel's 32-bit shared
                                         counters count at most this many per block */

typedef struct {
    uint64_t *revealed, *remasked, *revised, *active; /* [R] */
    uint64_t *pos;                                    /* L*V */
    uint64_t *hist;                                   /* V^L or NULL */
    uint64_t *misc;                                   /* rounds_sum, rounds_max, offsupport, unfinished */
} dev_counts;

/* The chunk's state, position-major: word i of chain c at [i * n + c] for the chunk's n
 * chains, so the threads of a warp (consecutive chains) touch consecutive words. */
typedef struct {
    uint16_t *tok;     /* L * n */
    double *conf;      /* L * n */
    uint32_t *ctl;     /* CTL_WORDS * n: word j of chain c's dlm_chain_ctl at [j * n + c] */
    char *work;        /* n * wbytes, chain-major: the chain's round-local copy and scratch */
    size_t wbytes;     /* per chain: conf copy, dlm_sampler_scratch, tok copy (16-aligned parts) */
    uint64_t n;
} chunk_state;

// ---------------------------------------------------------------- kernels

/* Largest of v over the block (thread 0's return value; every thread must call it). */
static __device__ __forceinline__ unsigned long long block_max(unsigned long long v, unsigned long long *warp_sums)
{
    for (int o = 16; o > 0; o >>= 1) {
        const unsigned long long u = __shfl_down_sync(0xffffffffu, v, o);
        v = u > v ? u : v;
    }
    __syncthreads();
    if ((threadIdx.x & 31u) == 0) warp_sums[threadIdx.x >> 5] = v;
    __syncthreads();
    unsigned long long m = 0;
    if (threadIdx.x == 0)
        for (unsigned w = 0; w < (blockDim.x >> 5); w++) m = warp_sums[w] > m ? warp_sums[w] : m;
    return m;
}

static __global__ void init_kernel(uint32_t L, chunk_state cs)
{
    const uint64_t n = cs.n;
    for (uint64_t c = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; c < n;
         c += (uint64_t)gridDim.x * blockDim.x) {
        for (uint32_t i = 0; i < L; i++) {
            cs.tok[i * n + c] = DLM_TOK_MASK;
            cs.conf[i * n + c] = 0;
        }
        for (uint32_t j = 0; j < CTL_WORDS; j++) cs.ctl[j * n + c] = 0;
    }
}

/* One round of every chain of the chunk (thread = chain, grid-stride): the chain's
 * state is gathered from the position-major arrays into its working copy, run through
 * dlm_sampler_round and scattered back; the round's statistics are summed per thread,
 * then per block (dlm_cuda_block_sum), with one 64-bit atomic per counter per block. */
static __global__ void round_kernel(dlm_law_view w, dlm_policy pol, uint64_t seed, uint64_t first, uint32_t r,
                                    chunk_state cs, size_t sbytes, dev_counts k)
{
    __shared__ unsigned long long warp_sums[32];
    const uint64_t n = cs.n;
    const uint32_t L = w.L;
    const size_t cbytes = ((size_t)L * sizeof(double) + 15) & ~(size_t)15;
    unsigned long long active = 0, revealed = 0, remasked = 0, revised = 0;
    for (uint64_t c = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; c < n;
         c += (uint64_t)gridDim.x * blockDim.x) {
        dlm_chain_ctl ctl;
        uint32_t *cw = (uint32_t *)&ctl;
        for (uint32_t j = 0; j < CTL_WORDS; j++) cw[j] = cs.ctl[j * n + c];
        if (ctl.done) continue;
        char *mine = cs.work + c * cs.wbytes;
        double *conf = (double *)mine;
        uint16_t *tok = (uint16_t *)(mine + cbytes + sbytes);
        for (uint32_t i = 0; i < L; i++) {
            tok[i] = cs.tok[i * n + c];
            conf[i] = cs.conf[i * n + c];
        }
        dlm_sampler_scratch s;
        dlm_sampler_scratch_carve(&w, mine + cbytes, &s);
        dlm_rs rs;
        memset(&rs, 0, sizeof rs);
        rs.seed = seed;
        rs.chain = first + c;
        dlm_round_stat st = dlm_sampler_round(&w, &pol, tok, conf, &ctl, &rs, &s);
        for (uint32_t i = 0; i < L; i++) {
            cs.tok[i * n + c] = tok[i];
            cs.conf[i * n + c] = conf[i];
        }
        for (uint32_t j = 0; j < CTL_WORDS; j++) cs.ctl[j * n + c] = cw[j];
        active++;
        revealed += st.revealed;
        remasked += st.remasked;
        revised += st.revised;
    }
    unsigned long long t;
    if ((t = dlm_cuda_block_sum(active, warp_sums)) != 0) atomicAdd((unsigned long long *)&k.active[r], t);
    if ((t = dlm_cuda_block_sum(revealed, warp_sums)) != 0) atomicAdd((unsigned long long *)&k.revealed[r], t);
    if ((t = dlm_cuda_block_sum(remasked, warp_sums)) != 0) atomicAdd((unsigned long long *)&k.remasked[r], t);
    if ((t = dlm_cuda_block_sum(revised, warp_sums)) != 0) atomicAdd((unsigned long long *)&k.revised[r], t);
}

/* The chunk's final tokens into the position counts and (when asked) the histogram:
 * per-block 32-bit shared counters (pos_shared / hist_shared; at most n <= 2^22 chains
 * per block) added to the global ones with one 64-bit atomic per nonzero counter per
 * block, else global atomics; the four misc counters by block reductions. With out, the
 * tokens also go there chain-major (the samples' layout). Dynamic shared memory:
 * [pos: L*V u32, if pos_shared][hist: V^L u32, if hist_shared]. */
static __global__ void finish_kernel(uint32_t L, uint32_t V, chunk_state cs, int pos_shared, uint64_t hist_cells,
                                     int hist_shared, uint16_t *out, dev_counts k)
{
    extern __shared__ unsigned sh[];
    __shared__ unsigned long long warp_sums[32];
    const uint64_t n = cs.n;
    unsigned *sh_pos = sh;
    unsigned *sh_hist = sh + (pos_shared ? (size_t)L * V : 0);
    const uint32_t npos = pos_shared ? L * V : 0u;
    const uint64_t nhist = k.hist && hist_shared ? hist_cells : 0;
    for (uint32_t i = threadIdx.x; i < npos; i += blockDim.x) sh_pos[i] = 0;
    for (uint64_t i = threadIdx.x; i < nhist; i += blockDim.x) sh_hist[i] = 0;
    __syncthreads();
    unsigned long long rsum = 0, rmax = 0, off = 0, unf = 0;
    for (uint64_t c = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; c < n;
         c += (uint64_t)gridDim.x * blockDim.x) {
        uint64_t idx = 0;
        for (uint32_t i = L; i-- > 0;) {
            uint16_t t = cs.tok[i * n + c];
            if (out) out[c * L + i] = t;
            t = t == DLM_TOK_MASK ? 0 : t;
            if (pos_shared)
                atomicAdd(&sh_pos[(size_t)i * V + t], 1u);
            else
                atomicAdd((unsigned long long *)&k.pos[(size_t)i * V + t], 1ull);
            idx = idx * V + t;
        }
        if (k.hist) {
            if (hist_shared)
                atomicAdd(&sh_hist[idx], 1u);
            else
                atomicAdd((unsigned long long *)&k.hist[idx], 1ull);
        }
        const uint32_t round = cs.ctl[(offsetof(dlm_chain_ctl, round) / sizeof(uint32_t)) * n + c];
        rsum += round;
        rmax = round > rmax ? round : rmax;
        off += cs.ctl[(offsetof(dlm_chain_ctl, offsupport) / sizeof(uint32_t)) * n + c] != 0;
        unf += cs.ctl[(offsetof(dlm_chain_ctl, done) / sizeof(uint32_t)) * n + c] == 0;
    }
    unsigned long long t;
    if ((t = dlm_cuda_block_sum(rsum, warp_sums)) != 0) atomicAdd((unsigned long long *)&k.misc[0], t);
    if ((t = block_max(rmax, warp_sums)) != 0) atomicMax((unsigned long long *)&k.misc[1], t);
    if ((t = dlm_cuda_block_sum(off, warp_sums)) != 0) atomicAdd((unsigned long long *)&k.misc[2], t);
    if ((t = dlm_cuda_block_sum(unf, warp_sums)) != 0) atomicAdd((unsigned long long *)&k.misc[3], t);
    __syncthreads(); /* every shared count of the block is final */
    for (uint32_t i = threadIdx.x; i < npos; i += blockDim.x)
        if (sh_pos[i]) atomicAdd((unsigned long long *)&k.pos[i], (unsigned long long)sh_pos[i]);
    for (uint64_t i = threadIdx.x; i < nhist; i += blockDim.x)
        if (sh_hist[i]) atomicAdd((unsigned long long *)&k.hist[i], (unsigned long long)sh_hist[i]);
}

// ---------------------------------------------------------------- host side: state

/* Every device allocation of one call (the law's arrays, the counts, the chunk's
 * buffers); freed by ctx_free on every path. */
typedef struct {
    void *ptr[32];
    int n;
} dev_allocs;

static void ctx_free(dev_allocs *a)
{
    for (int i = 0; i < a->n; i++) cudaFree(a->ptr[i]);
    a->n = 0;
}

static dlm_status dev_copy(dev_allocs *a, const void *src, size_t bytes, void **dst, dlm_err *err)
{
    *dst = NULL;
    if (!src || !bytes) return DLM_OK;
    DLM_CUDA_TRY(cudaMalloc(dst, bytes));
    a->ptr[a->n++] = *dst;
    DLM_CUDA_TRY(cudaMemcpy(*dst, src, bytes, cudaMemcpyHostToDevice));
    return DLM_OK;
}

static dlm_status dev_zero(dev_allocs *a, size_t bytes, void **dst, dlm_err *err)
{
    DLM_CUDA_TRY(cudaMalloc(dst, bytes));
    a->ptr[a->n++] = *dst;
    DLM_CUDA_TRY(cudaMemset(*dst, 0, bytes));
    return DLM_OK;
}

static uint64_t ipow_capped(uint64_t b, uint32_t e)
{
    uint64_t n = 1;
    for (uint32_t i = 0; i < e; i++) {
        if (n > (UINT64_C(1) << 40) / b) return UINT64_C(1) << 40;
        n *= b;
    }
    return n;
}

/* The law's arrays copied to the device: *w is h with device pointers. */
static dlm_status law_upload(dev_allocs *A, const dlm_law_view *h, dlm_law_view *w, dlm_err *err)
{
    const size_t L = h->L, V = h->V, S = h->S, nnz = h->rowptr ? h->rowptr[S] : 0;
    const uint64_t cells = ipow_capped(V, h->L), mcells = ipow_capped(V + 1, h->L);
    const size_t D = sizeof(double), U = sizeof(uint32_t);
    dlm_status s;
    void *d;
    *w = *h;
    if ((s = dev_copy(A, h->p, h->p ? cells * D : 0, &d, err))) return s;
    w->p = (const double *)d;
    if ((s = dev_copy(A, h->marg, h->marg ? mcells * D : 0, &d, err))) return s;
    w->marg = (const double *)d;
    if ((s = dev_copy(A, h->start, h->start ? S * D : 0, &d, err))) return s;
    w->start = (const double *)d;
    if ((s = dev_copy(A, h->rowptr, h->rowptr ? (S + 1) * U : 0, &d, err))) return s;
    w->rowptr = (const uint32_t *)d;
    if ((s = dev_copy(A, h->col, h->col ? nnz * U : 0, &d, err))) return s;
    w->col = (const uint32_t *)d;
    if ((s = dev_copy(A, h->val, h->val ? nnz * D : 0, &d, err))) return s;
    w->val = (const double *)d;
    if ((s = dev_copy(A, h->emit, h->emit ? S * V * D : 0, &d, err))) return s;
    w->emit = (const double *)d;
    if ((s = dev_copy(A, h->pw, h->pw ? L * V * V * D : 0, &d, err))) return s;
    w->pw = (const double *)d;
    if ((s = dev_copy(A, h->pim, h->pim ? L * V * D : 0, &d, err))) return s;
    w->pim = (const double *)d;
    return DLM_OK;
}

/* The device counters, zeroed: R rounds' statistics, L*V position counts, the four misc
 * counters and (hist) the cells-entry histogram. */
static dlm_status counts_alloc(dev_allocs *A, uint32_t R, size_t L, size_t V, uint64_t cells, int hist,
                               dev_counts *dk, dlm_err *err)
{
    const size_t W = sizeof(uint64_t);
    dlm_status s;
    void *d;
    memset(dk, 0, sizeof *dk);
    uint64_t **per_round[4] = {&dk->revealed, &dk->remasked, &dk->revised, &dk->active};
    for (int i = 0; i < 4; i++) {
        if ((s = dev_zero(A, (size_t)R * W, &d, err))) return s;
        *per_round[i] = (uint64_t *)d;
    }
    if ((s = dev_zero(A, L * V * W, &d, err))) return s;
    dk->pos = (uint64_t *)d;
    if ((s = dev_zero(A, 4 * W, &d, err))) return s;
    dk->misc = (uint64_t *)d;
    if (hist) {
        if ((s = dev_zero(A, cells * W, &d, err))) return s;
        dk->hist = (uint64_t *)d;
    }
    return DLM_OK;
}

/* The device counters added into k (as one more call's dlm_sample_counts). */
static dlm_status counts_download(const dlm_law *law, const dlm_policy *p, const dev_counts *dk, uint32_t R,
                                  uint64_t cells, uint64_t chains, dlm_sample_counts *k, dlm_err *err)
{
    const size_t L = law->v.L, V = law->v.V, W = sizeof(uint64_t);
    dlm_sample_counts got;
    dlm_status s = dlm_sample_counts_init(&got, law, p, k->hist != NULL, err);
    if (s) return s;
    uint64_t misc[4];
    cudaError_t ce = cudaMemcpy(got.revealed, dk->revealed, (size_t)R * W, cudaMemcpyDeviceToHost);
    if (ce == cudaSuccess) ce = cudaMemcpy(got.remasked, dk->remasked, (size_t)R * W, cudaMemcpyDeviceToHost);
    if (ce == cudaSuccess) ce = cudaMemcpy(got.revised, dk->revised, (size_t)R * W, cudaMemcpyDeviceToHost);
    if (ce == cudaSuccess) ce = cudaMemcpy(got.active, dk->active, (size_t)R * W, cudaMemcpyDeviceToHost);
    if (ce == cudaSuccess) ce = cudaMemcpy(got.pos, dk->pos, L * V * W, cudaMemcpyDeviceToHost);
    if (ce == cudaSuccess && got.hist) ce = cudaMemcpy(got.hist, dk->hist, cells * W, cudaMemcpyDeviceToHost);
    if (ce == cudaSuccess) ce = cudaMemcpy(misc, dk->misc, sizeof misc, cudaMemcpyDeviceToHost);
    if (ce != cudaSuccess) {
        dlm_sample_counts_free(&got);
        return dlm_fail(err, DLM_ECUDA, "copying the sampler's counts back: %s", cudaGetErrorString(ce));
    }
    got.chains = chains;
    got.rounds_sum = misc[0];
    got.rounds_max = misc[1];
    got.offsupport = misc[2];
    got.unfinished = misc[3];
    dlm_sample_counts_add(k, &got);
    dlm_sample_counts_free(&got);
    return DLM_OK;
}

// ---------------------------------------------------------------- host side: launchers

/* Blocks of SAMPLER_THREADS for n chains: one thread per chain (n <= CHUNK_MAX). */
static unsigned grid_for(uint64_t n) { return dlm_cuda_grid(n, SAMPLER_THREADS, UINT_MAX); }

static dlm_status init_launch(uint32_t L, const chunk_state *cs, dlm_err *err)
{
    init_kernel<<<grid_for(cs->n), SAMPLER_THREADS>>>(L, *cs);
    DLM_CUDA_LAUNCHED();
    return DLM_OK;
}

static dlm_status round_launch(const dlm_law_view *w, const dlm_policy *p, uint64_t seed, uint64_t first,
                               uint32_t r, const chunk_state *cs, size_t sbytes, const dev_counts *dk,
                               dlm_err *err)
{
    round_kernel<<<grid_for(cs->n), SAMPLER_THREADS>>>(*w, *p, seed, first, r, *cs, sbytes, *dk);
    DLM_CUDA_LAUNCHED();
    return DLM_OK;
}

static dlm_status finish_launch(uint32_t L, uint32_t V, const chunk_state *cs, int pos_shared, uint64_t cells,
                                int hist_shared, size_t shmem, uint16_t *out, const dev_counts *dk, dlm_err *err)
{
    finish_kernel<<<grid_for(cs->n), SAMPLER_THREADS, shmem>>>(L, V, *cs, pos_shared, cells, hist_shared, out, *dk);
    DLM_CUDA_LAUNCHED();
    return DLM_OK;
}

// ---------------------------------------------------------------- host side: the run

static dlm_status run(const dlm_law *law, const dlm_policy *p, const dlm_sample_opts *o, dlm_sample_counts *k,
                      dev_allocs *A, dlm_err *err)
{
    const dlm_law_view *h = &law->v;
    const size_t L = h->L, V = h->V;
    const uint64_t cells = ipow_capped(V, h->L);
    const uint32_t R = k->max_rounds;
    dlm_law_view w;
    dev_counts dk;
    dlm_status s;
    void *d;
    /* every device byte, computed before anything is allocated: the law's arrays and the
     * counts (fixed), then per chain its position-major state (tokens, confidences,
     * control words) and its working area (copies of its tokens and confidences for the
     * round, and the step's scratch); the chunk is sized from what is free less
     * dlm_cuda_margin, and the budget (o->max_bytes, --max-memory) */
    const size_t D = sizeof(double), U = sizeof(uint32_t), W = sizeof(uint64_t);
    const size_t S = h->S, nnz = h->rowptr ? h->rowptr[S] : 0;
    const uint64_t mcells = ipow_capped(V + 1, h->L);
    const uint64_t b_law = (h->p ? cells * D : 0) + (h->marg ? mcells * D : 0) + (h->start ? S * D : 0) +
                           (h->rowptr ? (S + 1) * U : 0) + (h->col ? nnz * U : 0) + (h->val ? nnz * D : 0) +
                           (h->emit ? S * V * D : 0) + (h->pw ? L * V * V * D : 0) + (h->pim ? L * V * D : 0);
    const uint64_t b_counts = (uint64_t)R * 4 * W + L * V * W + 4 * W + (k->hist ? cells * W : 0);
    const uint64_t fixed = b_law + b_counts;
    const size_t sbytes = (dlm_sampler_scratch_bytes(h) + 15) & ~(size_t)15;
    const size_t cbytes = (L * sizeof(double) + 15) & ~(size_t)15;
    const size_t tbytes = (L * sizeof(uint16_t) + 15) & ~(size_t)15;
    const size_t wbytes = cbytes + sbytes + tbytes;
    const size_t per = wbytes + L * (sizeof(uint16_t) + sizeof(double)) + CTL_WORDS * sizeof(uint32_t);
    size_t freeb = 0, total = 0;
    DLM_CUDA_TRY(cudaMemGetInfo(&freeb, &total));
    const uint64_t margin = dlm_cuda_margin(freeb);
    uint64_t usable = (uint64_t)freeb > margin + fixed ? (uint64_t)freeb - margin - fixed : 0;
    const uint64_t budget = dlm_cuda_budget(o->max_bytes, law->max_bytes);
    usable = dlm_cuda_min(usable, budget);
    uint64_t B = usable / per;
    if (B == 0)
        return dlm_fail(err, DLM_EINPUT,
                        "cuda sampler: one chain does not fit: needs %llu fixed bytes (law %llu, "
                        "counts %llu) + %zu per chain (L = %zu, V = %zu); device has %zu of %zu "
                        "bytes free, %llu usable after a %llu-byte margin; chain budget %llu bytes "
                        "(max_bytes or --max-memory)",
                        (unsigned long long)fixed, (unsigned long long)b_law,
                        (unsigned long long)b_counts, per, L, V, freeb, total,
                        (unsigned long long)(freeb > margin ? freeb - margin : 0),
                        (unsigned long long)margin, (unsigned long long)budget);
    B = dlm_cuda_min(dlm_cuda_min(B, o->chains), CHUNK_MAX);
    if ((s = law_upload(A, h, &w, err))) return s;
    if ((s = counts_alloc(A, R, L, V, cells, k->hist != NULL, &dk, err))) return s;

    chunk_state cs;
    if ((s = dev_zero(A, B * sizeof(uint16_t) * L, &d, err))) return s;
    cs.tok = (uint16_t *)d;
    if ((s = dev_zero(A, B * sizeof(double) * L, &d, err))) return s;
    cs.conf = (double *)d;
    if ((s = dev_zero(A, B * CTL_WORDS * sizeof(uint32_t), &d, err))) return s;
    cs.ctl = (uint32_t *)d;
    if ((s = dev_zero(A, B * wbytes, &d, err))) return s;
    cs.work = (char *)d;
    cs.wbytes = wbytes;

    /* per-block shared counters for finish_kernel where they fit */
    const size_t pos_bytes = L * V * sizeof(unsigned), hist_bytes = cells * sizeof(unsigned);
    const int pos_shared = pos_bytes <= SHARED_MAX;
    const int hist_shared = k->hist && (pos_shared ? pos_bytes : 0) + hist_bytes <= SHARED_MAX;
    const size_t fshm = (pos_shared ? pos_bytes : 0) + (hist_shared ? hist_bytes : 0);

    for (uint64_t done = 0; done < o->chains; done += B) {
        cs.n = o->chains - done < B ? o->chains - done : B;
        if ((s = init_launch(h->L, &cs, err))) return s;
        for (uint32_t r = 0; r < R; r++)
            if ((s = round_launch(&w, p, o->seed, o->first_chain + done, r, &cs, sbytes, &dk, err))) return s;
        /* the samples chain-major into the working area, free after the last round
         * (n * wbytes >= n * L * sizeof(uint16_t) bytes) */
        uint16_t *out = o->samples ? (uint16_t *)cs.work : NULL;
        if ((s = finish_launch(h->L, h->V, &cs, pos_shared, cells, hist_shared, fshm, out, &dk, err))) return s;
        if (o->samples)
            DLM_CUDA_TRY(cudaMemcpy(o->samples + done * L, out, cs.n * L * sizeof(uint16_t), cudaMemcpyDeviceToHost));
    }
    DLM_CUDA_TRY(cudaDeviceSynchronize());
    return counts_download(law, p, &dk, R, cells, o->chains, k, err);
}

// ---------------------------------------------------------------- C ABI

extern "C" dlm_status dlm_sampler_cuda_run(const dlm_law *law, const dlm_policy *p, const dlm_sample_opts *o,
                                           dlm_sample_counts *k, dlm_err *err)
{
    dev_allocs A;
    A.n = 0;
    dlm_status s = run(law, p, o, k, &A, err);
    ctx_free(&A);
    return s;
}
