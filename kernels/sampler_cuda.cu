/* sampler_cuda.cu — the oracle sampler on one GPU: loops and memory only.
 *
 * Every token, reveal, remask and revision comes from dlm_sampler_round in
 * include/dlm_sampler_step.h, the DLM_HD function the CPU sampler and the exact-law
 * enumerator call, with the same Philox counters: chain c under seed s gives the same
 * sample here and on the CPU (docs/oracle.md).
 *
 *   law        the law's arrays are copied to the device once per call; the kernels
 *              read them through a dlm_law_view of device pointers.
 *   chains     a chunk of B chains: per chain its tokens, reveal confidences, control
 *              word and scratch (dlm_sampler_scratch_bytes), chain-major; B is chosen
 *              from cudaMemGetInfo before anything is allocated.
 *   rounds     one launch of round_kernel per decoding round (thread = chain,
 *              grid-stride); per-round statistics are 64-bit atomics.
 *   counts     finish_kernel adds each chain's final tokens into the position counts
 *              and (when asked) the sequence histogram; copied back once.
 * Not run in CI (no device there): the CPU sampler is its reference through the
 * shared step; test/test_sampler.c compares the two where a device exists.
 */
#include <cuda_runtime.h>

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

#define SAMPLER_THREADS 128u

typedef struct {
    uint64_t *revealed, *remasked, *revised, *active; /* [R] */
    uint64_t *pos;                                    /* L*V */
    uint64_t *hist;                                   /* V^L or NULL */
    uint64_t *misc;                                   /* rounds_sum, rounds_max, offsupport, unfinished */
} dev_counts;

static __global__ void init_kernel(uint32_t L, uint64_t B, uint16_t *tok, double *conf, dlm_chain_ctl *ctl)
{
    for (uint64_t c = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; c < B;
         c += (uint64_t)gridDim.x * blockDim.x) {
        for (uint32_t i = 0; i < L; i++) {
            tok[c * L + i] = DLM_TOK_MASK;
            conf[c * L + i] = 0;
        }
        memset(&ctl[c], 0, sizeof ctl[c]);
    }
}

static __global__ void round_kernel(dlm_law_view w, dlm_policy pol, uint64_t seed, uint64_t first, uint64_t B,
                             uint32_t r, uint16_t *tok, double *conf, dlm_chain_ctl *ctl, char *scratch,
                             size_t sbytes, dev_counts k)
{
    for (uint64_t c = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; c < B;
         c += (uint64_t)gridDim.x * blockDim.x) {
        if (ctl[c].done) continue;
        dlm_sampler_scratch s;
        dlm_sampler_scratch_carve(&w, scratch + c * sbytes, &s);
        dlm_rs rs;
        memset(&rs, 0, sizeof rs);
        rs.seed = seed;
        rs.chain = first + c;
        dlm_round_stat st = dlm_sampler_round(&w, &pol, tok + c * w.L, conf + c * w.L, &ctl[c], &rs, &s);
        atomicAdd((unsigned long long *)&k.active[r], 1ull);
        if (st.revealed) atomicAdd((unsigned long long *)&k.revealed[r], (unsigned long long)st.revealed);
        if (st.remasked) atomicAdd((unsigned long long *)&k.remasked[r], (unsigned long long)st.remasked);
        if (st.revised) atomicAdd((unsigned long long *)&k.revised[r], (unsigned long long)st.revised);
    }
}

static __global__ void finish_kernel(uint32_t L, uint32_t V, uint64_t B, const uint16_t *tok, const dlm_chain_ctl *ctl,
                              dev_counts k)
{
    for (uint64_t c = blockIdx.x * (uint64_t)blockDim.x + threadIdx.x; c < B;
         c += (uint64_t)gridDim.x * blockDim.x) {
        uint64_t idx = 0;
        for (uint32_t i = L; i-- > 0;) {
            uint16_t t = tok[c * L + i];
            t = t == DLM_TOK_MASK ? 0 : t;
            atomicAdd((unsigned long long *)&k.pos[(size_t)i * V + t], 1ull);
            idx = idx * V + t;
        }
        if (k.hist) atomicAdd((unsigned long long *)&k.hist[idx], 1ull);
        atomicAdd((unsigned long long *)&k.misc[0], (unsigned long long)ctl[c].round);
        atomicMax((unsigned long long *)&k.misc[1], (unsigned long long)ctl[c].round);
        if (ctl[c].offsupport) atomicAdd((unsigned long long *)&k.misc[2], 1ull);
        if (!ctl[c].done) atomicAdd((unsigned long long *)&k.misc[3], 1ull);
    }
}

/* Device copies of the law's arrays and the counts; freed by ctx_free. */
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

static dlm_status run(const dlm_law *law, const dlm_policy *p, const dlm_sample_opts *o, dlm_sample_counts *k,
                      dev_allocs *A, dlm_err *err)
{
    const dlm_law_view *h = &law->v;
    dlm_law_view w = *h;
    dlm_status s;
    size_t L = h->L, V = h->V, S = h->S, nnz = h->rowptr ? h->rowptr[S] : 0;
    uint64_t cells = ipow_capped(V, h->L), mcells = ipow_capped(V + 1, h->L);
    void *d;
    if ((s = dev_copy(A, h->p, h->p ? cells * 8 : 0, &d, err))) return s;
    w.p = (const double *)d;
    if ((s = dev_copy(A, h->marg, h->marg ? mcells * 8 : 0, &d, err))) return s;
    w.marg = (const double *)d;
    if ((s = dev_copy(A, h->start, h->start ? S * 8 : 0, &d, err))) return s;
    w.start = (const double *)d;
    if ((s = dev_copy(A, h->rowptr, h->rowptr ? (S + 1) * 4 : 0, &d, err))) return s;
    w.rowptr = (const uint32_t *)d;
    if ((s = dev_copy(A, h->col, h->col ? nnz * 4 : 0, &d, err))) return s;
    w.col = (const uint32_t *)d;
    if ((s = dev_copy(A, h->val, h->val ? nnz * 8 : 0, &d, err))) return s;
    w.val = (const double *)d;
    if ((s = dev_copy(A, h->emit, h->emit ? S * V * 8 : 0, &d, err))) return s;
    w.emit = (const double *)d;
    if ((s = dev_copy(A, h->pw, h->pw ? L * V * V * 8 : 0, &d, err))) return s;
    w.pw = (const double *)d;
    if ((s = dev_copy(A, h->pim, h->pim ? L * V * 8 : 0, &d, err))) return s;
    w.pim = (const double *)d;

    uint32_t R = k->max_rounds;
    dev_counts dk;
    memset(&dk, 0, sizeof dk);
    void *v4[4];
    for (int i = 0; i < 4; i++)
        if ((s = dev_zero(A, (size_t)R * 8, &v4[i], err))) return s;
    dk.revealed = (uint64_t *)v4[0];
    dk.remasked = (uint64_t *)v4[1];
    dk.revised = (uint64_t *)v4[2];
    dk.active = (uint64_t *)v4[3];
    if ((s = dev_zero(A, L * V * 8, &d, err))) return s;
    dk.pos = (uint64_t *)d;
    if ((s = dev_zero(A, 4 * 8, &d, err))) return s;
    dk.misc = (uint64_t *)d;
    if (k->hist) {
        if ((s = dev_zero(A, cells * 8, &d, err))) return s;
        dk.hist = (uint64_t *)d;
    }

    /* chunk size from the free memory, computed before the chain buffers exist */
    size_t sbytes = (dlm_sampler_scratch_bytes(h) + 15) & ~(size_t)15;
    size_t per = sbytes + L * (2 + 8) + sizeof(dlm_chain_ctl);
    size_t freeb, total;
    DLM_CUDA_TRY(cudaMemGetInfo(&freeb, &total));
    size_t usable = freeb > (UINT64_C(256) << 20) ? freeb - (UINT64_C(256) << 20) - freeb / 16 : 0;
    uint64_t B = usable / per;
    if (B == 0)
        return dlm_fail(err, DLM_EINPUT, "one chain needs %zu bytes of device memory, %zu are free", per, freeb);
    if (B > o->chains) B = o->chains;
    if (B > (UINT64_C(1) << 22)) B = UINT64_C(1) << 22;
    if ((s = dev_zero(A, B * 2 * L, &d, err))) return s;
    uint16_t *tok = (uint16_t *)d;
    if ((s = dev_zero(A, B * 8 * L, &d, err))) return s;
    double *conf = (double *)d;
    if ((s = dev_zero(A, B * sizeof(dlm_chain_ctl), &d, err))) return s;
    dlm_chain_ctl *ctl = (dlm_chain_ctl *)d;
    if ((s = dev_zero(A, B * sbytes, &d, err))) return s;
    char *scratch = (char *)d;

    for (uint64_t done = 0; done < o->chains; done += B) {
        uint64_t n = o->chains - done < B ? o->chains - done : B;
        unsigned blocks = (unsigned)((n + SAMPLER_THREADS - 1) / SAMPLER_THREADS);
        init_kernel<<<blocks, SAMPLER_THREADS>>>(h->L, n, tok, conf, ctl);
        DLM_CUDA_LAUNCHED();
        for (uint32_t r = 0; r < R; r++) {
            round_kernel<<<blocks, SAMPLER_THREADS>>>(w, *p, o->seed, o->first_chain + done, n, r, tok, conf, ctl,
                                                      scratch, sbytes, dk);
            DLM_CUDA_LAUNCHED();
        }
        finish_kernel<<<blocks, SAMPLER_THREADS>>>(h->L, h->V, n, tok, ctl, dk);
        DLM_CUDA_LAUNCHED();
        if (o->samples)
            DLM_CUDA_TRY(cudaMemcpy(o->samples + done * L, tok, n * L * 2, cudaMemcpyDeviceToHost));
    }
    DLM_CUDA_TRY(cudaDeviceSynchronize());

    dlm_sample_counts got;
    if ((s = dlm_sample_counts_init(&got, law, p, k->hist != NULL, err))) return s;
    uint64_t misc[4];
    cudaError_t ce = cudaMemcpy(got.revealed, dk.revealed, (size_t)R * 8, cudaMemcpyDeviceToHost);
    if (ce == cudaSuccess) ce = cudaMemcpy(got.remasked, dk.remasked, (size_t)R * 8, cudaMemcpyDeviceToHost);
    if (ce == cudaSuccess) ce = cudaMemcpy(got.revised, dk.revised, (size_t)R * 8, cudaMemcpyDeviceToHost);
    if (ce == cudaSuccess) ce = cudaMemcpy(got.active, dk.active, (size_t)R * 8, cudaMemcpyDeviceToHost);
    if (ce == cudaSuccess) ce = cudaMemcpy(got.pos, dk.pos, L * V * 8, cudaMemcpyDeviceToHost);
    if (ce == cudaSuccess && got.hist) ce = cudaMemcpy(got.hist, dk.hist, cells * 8, cudaMemcpyDeviceToHost);
    if (ce == cudaSuccess) ce = cudaMemcpy(misc, dk.misc, sizeof misc, cudaMemcpyDeviceToHost);
    if (ce != cudaSuccess) {
        dlm_sample_counts_free(&got);
        return dlm_fail(err, DLM_ECUDA, "copying the sampler's counts back: %s", cudaGetErrorString(ce));
    }
    got.chains = o->chains;
    got.rounds_sum = misc[0];
    got.rounds_max = misc[1];
    got.offsupport = misc[2];
    got.unfinished = misc[3];
    dlm_sample_counts_add(k, &got);
    dlm_sample_counts_free(&got);
    return DLM_OK;
}

extern "C" dlm_status dlm_sampler_cuda_run(const dlm_law *law, const dlm_policy *p, const dlm_sample_opts *o,
                                           dlm_sample_counts *k, dlm_err *err)
{
    dev_allocs A;
    A.n = 0;
    dlm_status s = run(law, p, o, k, &A, err);
    ctx_free(&A);
    return s;
}
