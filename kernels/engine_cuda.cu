/* engine_cuda.cu — the CUDA byte engine (`--backend cuda-ref`): run a DLM program over
 * many chains on one GPU, one byte per token and one thread per chain, and reduce the
 * outputs to exact 64-bit counts (and, on request, raw samples). It is the device's
 * readable reference, as the CPU byte engine (host/engine_cpu.c, `cpu-ref`) is the
 * host's; the default CUDA backend is the bit-sliced engine (engine_cuda_bits.cu),
 * tested equal to this one bit for bit.
 *
 * What this file is: loops and memory only. The value of every token comes from
 * dlm_step_op in include/dlm_step.h, the same DLM_HD function the CPU engine calls,
 * so the two backends cannot drift: chain c under seed s gives the same sample here,
 * on the CPU, and under any chunking (docs/gpu.md gives the argument).
 *
 *   tokens     one buffer of L bytes per chain, position-major inside a chunk of B
 *              chains: tok[pos * B + c]; updated in place, never copied.
 *   rounds     one launch of round_kernel per decoding round; thread = chain
 *              (grid-stride), applying the round's ops in program order.
 *   outputs    after the last round of a chunk: outputs_kernel (per chain: odd
 *              parity, histogram index, packed sample) and ones_kernel (per output
 *              k and chain tile: ones count), all into 64-bit device counters that
 *              persist across chunks and are copied back once.
 *   memory     the bytes needed are computed before any cudaMalloc and compared
 *              with cudaMemGetInfo; the chunk size B is chosen to fit.
 *   shared     program checks, counters and sizing helpers with the bit-sliced
 *              engine: engine_cuda_common.cu, include/dlm_cuda.h.
 *
 * What it is not: a second step (there is none here), a float reduction (all counts
 * are integers), or a multi-GPU scheduler (it uses the current device).
 *
 * Build: `make` (nvcc found) compiles this into build/libdlmsim.a with
 * NVCCFLAGS = -std=c++17 -O3 --fmad=false; `make CUDA=0` leaves it out (host/backend.c
 * then provides stubs). -DDLM_CUDA_DEBUG=1 synchronises after every launch.
 */
#include <cuda_runtime.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* dlm_step.h pulls in Random123 (C++ templates under nvcc), so it is included before
 * the C declarations, which get C linkage. Its functions are static: no linkage. */
#include "dlm_step.h"

extern "C" {
#include "dlmsim.h"
#include "dlm_engine.h"
}

#include "dlm_cuda.h"

// ---------------------------------------------------------------- constants

#define DLM_CUDA_THREADS 256u                  /* threads per block, a multiple of 32 */
#define DLM_CUDA_MAX_CHUNK (UINT64_C(1) << 30) /* chains per chunk: keeps every per-block
                                                  32-bit shared counter far from overflow */
#define WHO "cuda-ref engine"                  /* starts this engine's messages */

/* The misc record's error word (dlm_cuda_misc, include/dlm_cuda.h) here means: some
 * chain's output position held DLM_MASK; bad_k is the smallest such output. */

enum { HIST_NONE = 0, HIST_SHARED = 1, HIST_GLOBAL = 2 };

// ---------------------------------------------------------------- kernels

/* One decoding round for the chains of a chunk. Thread = chain c (grid-stride); it
 * applies ops[0..nops) in program order with the shared step, in place. Reads of an
 * op see the round's start state for every position it may read (the program checker
 * proves no earlier op of the round wrote them), exactly as on the CPU. */
static __global__ void round_kernel(const dlm_op *__restrict__ ops, uint64_t nops,
                             uint8_t *__restrict__ tok, uint64_t B, uint64_t chain0,
                             uint64_t seed)
{
    const uint64_t stride = (uint64_t)gridDim.x * blockDim.x;
    for (uint64_t c = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; c < B; c += stride) {
        uint8_t *t = tok + c;
        const uint64_t chain = chain0 + c;
        for (uint64_t i = 0; i < nops; i++) {
            const dlm_op *op = ops + i;
            t[(size_t)op->pos * B] = dlm_step_op(op, t, (size_t)B, chain, seed);
        }
    }
}

/* Per chain: the output bits b_k = out_neg[k] (constant output) or
 * tok[out_pos[k]*B + c] ^ out_neg[k]; their parity (odd chains counted per block,
 * one 64-bit atomic per block); the histogram index sum b_k 2^k (nout <= 24) counted
 * in per-block shared 32-bit counts merged with 64-bit atomics (HIST_SHARED) or
 * directly with 64-bit global atomics (HIST_GLOBAL); and, when samples is non-NULL,
 * the packed sample at samples[c*sbytes + k/8] bit k%8 (the CPU engine's layout). */
static __global__ void outputs_kernel(const uint8_t *__restrict__ tok, uint64_t B,
                               const uint32_t *__restrict__ out_pos,
                               const uint8_t *__restrict__ out_neg, uint32_t nout,
                               int hist_mode, unsigned long long *__restrict__ hist,
                               uint8_t *__restrict__ samples, uint64_t sbytes,
                               dlm_cuda_misc *misc)
{
    extern __shared__ unsigned int sh_hist[];
    __shared__ unsigned long long warp_sums[32];
    const uint32_t hsize = hist_mode == HIST_SHARED ? (1u << nout) : 0u;
    for (uint32_t i = threadIdx.x; i < hsize; i += blockDim.x) sh_hist[i] = 0;
    __syncthreads();

    unsigned long long odd = 0;
    const uint64_t stride = (uint64_t)gridDim.x * blockDim.x;
    for (uint64_t c = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; c < B; c += stride) {
        unsigned par = 0, byte = 0;
        uint32_t idx = 0;
        uint8_t *s = samples ? samples + c * sbytes : NULL;
        for (uint32_t k = 0; k < nout; k++) {
            const uint32_t pos = out_pos[k];
            unsigned b;
            if (pos == DLM_POS_CONST) {
                b = out_neg[k] & 1u;
            } else {
                const unsigned v = tok[(size_t)pos * B + c];
                if (v > 1u) { /* impossible in a checked program: report, never guess */
                    atomicOr(&misc->bad, 1u);
                    atomicMin(&misc->bad_k, k);
                }
                b = (v ^ out_neg[k]) & 1u;
            }
            par ^= b;
            if (hist_mode != HIST_NONE) idx |= (uint32_t)b << k; /* nout <= 24 here */
            if (s) {
                byte |= b << (k & 7u);
                if ((k & 7u) == 7u || k + 1 == nout) {
                    s[k >> 3] = (uint8_t)byte;
                    byte = 0;
                }
            }
        }
        odd += par;
        if (hist_mode == HIST_SHARED)
            atomicAdd(&sh_hist[idx], 1u);
        else if (hist_mode == HIST_GLOBAL)
            atomicAdd(&hist[idx], 1ull);
    }

    const unsigned long long total = dlm_cuda_block_sum(odd, warp_sums);
    if (threadIdx.x == 0 && total) atomicAdd(&misc->odd, total);
    if (hist_mode == HIST_SHARED) {
        __syncthreads();
        for (uint32_t i = threadIdx.x; i < hsize; i += blockDim.x)
            if (sh_hist[i]) atomicAdd(&hist[i], (unsigned long long)sh_hist[i]);
    }
}

/* Per-output ones counts: block (x, y) counts output k = y, y + gridDim.y, ... over
 * the chain tile x, x + gridDim.x, ... (a row tok[pos*B ..] is read coalesced), sums
 * the block, and adds with one 64-bit atomic per (block, output). A constant output
 * is counted once per chunk by block x = 0. Scales to millions of outputs. */
static __global__ void ones_kernel(const uint8_t *__restrict__ tok, uint64_t B,
                            const uint32_t *__restrict__ out_pos,
                            const uint8_t *__restrict__ out_neg, uint32_t nout,
                            unsigned long long *__restrict__ ones)
{
    __shared__ unsigned long long warp_sums[32];
    const uint64_t stride = (uint64_t)gridDim.x * blockDim.x;
    for (uint32_t k = blockIdx.y; k < nout; k += gridDim.y) { /* uniform over the block */
        const uint32_t pos = out_pos[k];
        const unsigned neg = out_neg[k] & 1u;
        unsigned long long cnt = 0;
        if (pos == DLM_POS_CONST) {
            if (blockIdx.x == 0 && threadIdx.x == 0) cnt = neg ? B : 0;
        } else {
            const uint8_t *row = tok + (size_t)pos * B;
            for (uint64_t c = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; c < B; c += stride)
                cnt += (row[c] ^ neg) & 1u;
        }
        const unsigned long long total = dlm_cuda_block_sum(cnt, warp_sums);
        if (threadIdx.x == 0 && total) atomicAdd(&ones[k], total);
    }
}

// ---------------------------------------------------------------- host side: state

/* Everything one run allocates; freed by ctx_free on every path. */
typedef struct {
    dlm_op *d_ops;
    uint8_t *d_tok;
    uint32_t *d_out_pos;
    uint8_t *d_out_neg;
    uint8_t *d_samples;
    dlm_cuda_counters cnt; /* ones, histogram, odd parity, error word */
} dlm_cuda_ctx;

static void ctx_free(dlm_cuda_ctx *x)
{
    /* cudaFree(NULL) is a no-op; errors here cannot be acted upon and would mask the
     * first error, which is the one reported. */
    cudaFree(x->d_ops);
    cudaFree(x->d_tok);
    cudaFree(x->d_out_pos);
    cudaFree(x->d_out_neg);
    cudaFree(x->d_samples);
    dlm_cuda_counters_free(&x->cnt);
    memset(x, 0, sizeof *x);
}

// ---------------------------------------------------------------- host side: launchers

static unsigned grid_for(uint64_t n, unsigned cap) { return dlm_cuda_grid(n, DLM_CUDA_THREADS, cap); }

static dlm_status round_launch(const dlm_op *d_ops, uint64_t nops, uint8_t *d_tok, uint64_t B,
                               uint64_t chain0, uint64_t seed, unsigned cap, dlm_err *err)
{
    round_kernel<<<grid_for(B, cap), DLM_CUDA_THREADS>>>(d_ops, nops, d_tok, B, chain0, seed);
    DLM_CUDA_LAUNCHED();
    return DLM_OK;
}

static dlm_status outputs_launch(const dlm_cuda_ctx *x, uint64_t B, uint32_t nout, int hist_mode,
                                 size_t shmem, uint64_t sbytes, int want_samples, unsigned cap,
                                 dlm_err *err)
{
    outputs_kernel<<<grid_for(B, cap), DLM_CUDA_THREADS, shmem>>>(
        x->d_tok, B, x->d_out_pos, x->d_out_neg, nout, hist_mode, x->cnt.d_hist,
        want_samples ? x->d_samples : NULL, sbytes, x->cnt.d_misc);
    DLM_CUDA_LAUNCHED();
    return DLM_OK;
}

static dlm_status ones_launch(const dlm_cuda_ctx *x, uint64_t B, uint32_t nout, unsigned sms,
                              dlm_err *err)
{
    if (nout == 0) return DLM_OK;
    /* y covers outputs (at most 65535, grid-strided beyond); x covers chain tiles so
     * that there are about 32 blocks per SM in all. */
    const unsigned gy = (unsigned)dlm_cuda_min(nout, 65535u);
    const uint64_t want_x = ((uint64_t)sms * 32u + gy - 1) / gy;
    const unsigned gx = grid_for(B, (unsigned)dlm_cuda_min(want_x ? want_x : 1, 1u << 20));
    ones_kernel<<<dim3(gx, gy, 1), DLM_CUDA_THREADS>>>(x->d_tok, B, x->d_out_pos, x->d_out_neg,
                                                        nout, x->cnt.d_ones);
    DLM_CUDA_LAUNCHED();
    return DLM_OK;
}

// ---------------------------------------------------------------- host side: the run

static dlm_status run_impl(dlm_cuda_ctx *x, const dlm_program *p, const dlm_run_opts *o,
                           dlm_counts *out, dlm_err *err)
{
    const uint32_t nout = p->nout;
    const uint64_t L = p->L;
    const uint64_t sbytes = dlm_sample_bytes(p);
    const int want_samples = o->samples != NULL && sbytes > 0;
    /* like the CPU engine, a histogram present in the counts is filled */
    const int want_hist = o->want_hist || out->hist != NULL;

    // -- device facts (the context is created here, so that it is not measured below)
    int sms = 0, shmem_optin = 0;
    dlm_status st = dlm_cuda_device_facts(&sms, &shmem_optin, err);
    if (st != DLM_OK) return st;

    // -- histogram strategy: per-block shared 32-bit counts if 2^nout of them fit
    int hist_mode = HIST_NONE;
    size_t hist_shmem = 0;
    if (want_hist) {
        const size_t need = sizeof(unsigned int) << nout;
        if (need <= (size_t)shmem_optin) {
            hist_mode = HIST_SHARED;
            hist_shmem = need;
        } else {
            hist_mode = HIST_GLOBAL;
        }
    }

    // -- bytes needed, before any allocation
    const uint64_t b_ops = dlm_cuda_mul_sat(p->nops, sizeof(dlm_op));
    const uint64_t b_outmap = dlm_cuda_mul_sat(nout, sizeof(uint32_t) + sizeof(uint8_t));
    const uint64_t b_counters = dlm_cuda_counters_bytes(nout, want_hist);
    const uint64_t fixed = dlm_cuda_add_sat(dlm_cuda_add_sat(b_ops, b_outmap), b_counters);
    const uint64_t per_chain = L + (want_samples ? sbytes : 0);

    size_t free0 = 0, total = 0;
    DLM_CUDA_TRY(cudaMemGetInfo(&free0, &total));
    const uint64_t margin = dlm_cuda_margin(free0);
    const uint64_t avail = (uint64_t)free0 > margin ? (uint64_t)free0 - margin : 0;

    uint64_t bmax = dlm_cuda_min(o->chains, DLM_CUDA_MAX_CHUNK);
    if (fixed < avail && per_chain) bmax = dlm_cuda_min(bmax, (avail - fixed) / per_chain);
    if (fixed >= avail) bmax = 0;
    if (o->max_bytes && L) bmax = dlm_cuda_min(bmax, o->max_bytes / L); /* token budget */
    if (bmax == 0) {
        char budget[96] = "";
        if (o->max_bytes < UINT64_MAX)
            snprintf(budget, sizeof budget, "; token budget %llu bytes (max_bytes or --max-memory)",
                     (unsigned long long)o->max_bytes);
        return dlm_fail(err, DLM_EINPUT,
                        WHO ": one chain does not fit: needs %llu fixed bytes (ops %llu, "
                        "outputs %llu, counters %llu (ones, histogram, odd count)) + %llu per "
                        "chain (L = %llu tokens%s); device has %llu of %llu bytes free, %llu "
                        "usable after a %llu-byte margin%s",
                        (unsigned long long)fixed, (unsigned long long)b_ops,
                        (unsigned long long)b_outmap, (unsigned long long)b_counters,
                        (unsigned long long)per_chain, (unsigned long long)L,
                        want_samples ? " + sample" : "", (unsigned long long)free0,
                        (unsigned long long)total, (unsigned long long)avail,
                        (unsigned long long)margin, budget);
    }
    const uint64_t B = bmax;

    // -- allocation (sizes computed above; counters: host staging, then device)
    st = dlm_cuda_counters_alloc(&x->cnt, nout, want_hist, err);
    if (st != DLM_OK) return st;
    if (b_ops) {
        DLM_CUDA_TRY(cudaMalloc((void **)&x->d_ops, (size_t)b_ops));
    }
    if (L) {
        DLM_CUDA_TRY(cudaMalloc((void **)&x->d_tok, (size_t)(L * B)));
    }
    if (nout) {
        DLM_CUDA_TRY(cudaMalloc((void **)&x->d_out_pos, (size_t)nout * sizeof(uint32_t)));
        DLM_CUDA_TRY(cudaMalloc((void **)&x->d_out_neg, (size_t)nout));
    }
    if (want_samples) {
        DLM_CUDA_TRY(cudaMalloc((void **)&x->d_samples, (size_t)(B * sbytes)));
    }

    size_t free1 = 0;
    DLM_CUDA_TRY(cudaMemGetInfo(&free1, &total));
    const uint64_t measured = free0 > free1 ? (uint64_t)(free0 - free1) : 0;

    // -- inputs
    if (b_ops) {
        DLM_CUDA_TRY(cudaMemcpy(x->d_ops, p->ops, (size_t)b_ops, cudaMemcpyHostToDevice));
    }
    if (nout) {
        DLM_CUDA_TRY(cudaMemcpy(x->d_out_pos, p->out_pos, (size_t)nout * sizeof(uint32_t),
                                cudaMemcpyHostToDevice));
        DLM_CUDA_TRY(cudaMemcpy(x->d_out_neg, p->out_neg, (size_t)nout, cudaMemcpyHostToDevice));
    }
    if (hist_mode == HIST_SHARED && hist_shmem > 48u * 1024u) {
        DLM_CUDA_TRY(cudaFuncSetAttribute(outputs_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          (int)hist_shmem));
    }

    // -- chunks: B chains at a time, the last one possibly shorter
    const unsigned cap_chain = (unsigned)sms * 64u;           /* grid-stride beyond this */
    const unsigned cap_hist = (unsigned)sms * 4u;             /* fewer blocks: fewer merges */
    for (uint64_t done = 0; done < o->chains;) {
        const uint64_t b = dlm_cuda_min(B, o->chains - done);
        const uint64_t chain0 = o->first_chain + done;
        /* every chain starts fully masked */
        if (L) {
            DLM_CUDA_TRY(cudaMemset(x->d_tok, DLM_MASK, (size_t)(L * b)));
        }
        for (uint32_t r = 0; r < p->rounds; r++) {
            const uint64_t s = p->round_start[r], n = p->round_start[r + 1] - s;
            if (n == 0) continue;
            st = round_launch(x->d_ops + s, n, x->d_tok, b, chain0, o->seed, cap_chain, err);
            if (st != DLM_OK) return st;
        }
        st = outputs_launch(x, b, nout, hist_mode, hist_shmem, sbytes, want_samples,
                            hist_mode == HIST_SHARED ? cap_hist : cap_chain, err);
        if (st != DLM_OK) return st;
        st = ones_launch(x, b, nout, (unsigned)sms, err);
        if (st != DLM_OK) return st;
        if (want_samples) {
            DLM_CUDA_TRY(cudaMemcpy(o->samples + done * sbytes, x->d_samples, (size_t)(b * sbytes),
                                    cudaMemcpyDeviceToHost));
        }
        /* the error word, once per chunk (also the point where execution errors of
         * this chunk's kernels surface) */
        dlm_cuda_misc m;
        if ((st = dlm_cuda_counters_misc(&x->cnt, &m, err)) != DLM_OK) return st;
        if (m.bad)
            return dlm_fail(err, DLM_ECHECK,
                            WHO ": output %u read a masked position in chains %llu..%llu "
                            "(the program does not reveal its outputs)",
                            m.bad_k, (unsigned long long)chain0,
                            (unsigned long long)(chain0 + b - 1));
        done += b;
    }

    // -- copy the counters back once and add them into the caller's counts
    return dlm_cuda_counters_add(&x->cnt, o->chains, L * B, measured, out, err);
}

// ---------------------------------------------------------------- C ABI

extern "C" dlm_status dlm_engine_cuda_run(const dlm_program *p, const dlm_run_opts *o,
                                          dlm_counts *out, dlm_err *err)
{
    dlm_status st = dlm_cuda_engine_enter(p, o, out, WHO, err);
    if (st != DLM_OK || o->chains == 0) return st;
    dlm_cuda_ctx x;
    memset(&x, 0, sizeof x);
    dlm_run_opts ob = *o; /* the buffers' budget: max_bytes and --max-memory */
    ob.max_bytes = dlm_cuda_budget(o->max_bytes, p->max_bytes);
    st = run_impl(&x, p, &ob, out, err);
    ctx_free(&x);
    return st;
}

/* "13.0" from a CUDA version number such as 13000 */
static void cuda_version_str(char *buf, size_t len, int v)
{
    snprintf(buf, len, "%d.%d", v / 1000, v % 1000 / 10);
}

/* The devices usable, or 0 with why saying which of four things is the matter: no
 * device (cudaErrorNoDevice, or a count of 0), no driver installed (cudaDriverGetVersion
 * gives 0), a driver older than this runtime (both versions named), or another error,
 * named as what it is. */
extern "C" int dlm_cuda_device_count(char *why, size_t why_len)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e == cudaSuccess && n > 0) {
        if (why && why_len) why[0] = 0;
        return n;
    }
    (void)cudaGetLastError(); /* clear it: this is an answer, not a failure */
    if (!why || !why_len) return 0;
    int drv = 0, rt = 0;
    if (cudaDriverGetVersion(&drv) != cudaSuccess) drv = 0;
    if (cudaRuntimeGetVersion(&rt) != cudaSuccess) rt = CUDART_VERSION;
    (void)cudaGetLastError();
    char dv[16], rv[16];
    cuda_version_str(dv, sizeof dv, drv);
    cuda_version_str(rv, sizeof rv, rt);
    if (e == cudaSuccess || e == cudaErrorNoDevice)
        snprintf(why, why_len, "no CUDA device (%s)",
                 e == cudaSuccess ? "cudaGetDeviceCount reports 0 devices" : "cudaErrorNoDevice");
    else if (drv == 0)
        snprintf(why, why_len, "no CUDA driver installed (cudaDriverGetVersion gives 0)");
    else if (e == cudaErrorInsufficientDriver)
        snprintf(why, why_len,
                 "the CUDA driver supports CUDA %s, this dlmsim was built for CUDA %s "
                 "(cudaErrorInsufficientDriver: update the driver)", dv, rv);
    else
        snprintf(why, why_len, "CUDA error %s (%s) from cudaGetDeviceCount, driver for CUDA %s",
                 cudaGetErrorName(e), cudaGetErrorString(e), dv);
    return 0;
}

/* Makes device ordinal % count current for this host thread (e.g. a rank's node-local
 * rank); returns the device chosen, or -1 with why. */
extern "C" int dlm_cuda_select_device(int ordinal, char *why, size_t why_len)
{
    char buf[256] = "";
    const int n = dlm_cuda_device_count(buf, sizeof buf);
    if (n <= 0) {
        if (why && why_len) snprintf(why, why_len, "%s", buf);
        return -1;
    }
    if (ordinal < 0) {
        if (why && why_len) snprintf(why, why_len, "device ordinal %d is negative", ordinal);
        return -1;
    }
    const int d = ordinal % n;
    cudaError_t e = cudaSetDevice(d);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        if (why && why_len)
            snprintf(why, why_len, "cudaSetDevice(%d) of %d devices: %s (%s)", d, n,
                     cudaGetErrorName(e), cudaGetErrorString(e));
        return -1;
    }
    if (why && why_len) why[0] = 0;
    return d;
}
