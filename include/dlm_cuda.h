/* dlm_cuda.h — what the CUDA sources share (the .cu files in kernels/ only; C++): error
 * handling, the host-side sizing helpers and the device counters of the two program
 * engines (kernels/engine_cuda.cu, the byte engine; kernels/engine_cuda_bits.cu, the
 * bit-sliced one), and a block reduction. Include after dlmsim.h and dlm_engine.h.
 *
 * What it is not: a public header. host/ never includes it (it pulls in cuda_runtime.h);
 * the C ABI of the kernels is declared in dlm_engine.h and dlm_sampler.h.
 */
#ifndef DLM_CUDA_H
#define DLM_CUDA_H

#include <cuda_runtime.h>

#include <stdint.h>

#ifndef DLM_CUDA_DEBUG
#define DLM_CUDA_DEBUG 0
#endif

// ---------------------------------------------------------------- error handling

/* Runs one CUDA runtime call; on failure records "FILE:LINE: cudaErrorX (string): stmt"
 * in err and returns DLM_ECUDA from the enclosing function. Every function that uses
 * it owns no resource: resources live in a dlm_cuda_ctx freed by the caller. */
#define DLM_CUDA_TRY(stmt)                                                                 \
    do {                                                                                   \
        cudaError_t dlm_e_ = (stmt);                                                       \
        if (dlm_e_ != cudaSuccess)                                                         \
            return dlm_fail(err, DLM_ECUDA, "%s:%d: %s (%s): %s", __FILE__, __LINE__,      \
                            cudaGetErrorName(dlm_e_), cudaGetErrorString(dlm_e_), #stmt);  \
    } while (0)

/* After every kernel launch: the launch error (bad configuration), and with
 * DLM_CUDA_DEBUG the execution error of that very kernel. */
#if DLM_CUDA_DEBUG
#define DLM_CUDA_LAUNCHED()                                                                \
    do {                                                                                   \
        DLM_CUDA_TRY(cudaGetLastError());                                                  \
        DLM_CUDA_TRY(cudaDeviceSynchronize());                                             \
    } while (0)
#else
#define DLM_CUDA_LAUNCHED() DLM_CUDA_TRY(cudaGetLastError())
#endif

// ---------------------------------------------------------------- host-side sizing

#define DLM_CUDA_MARGIN_FIXED (UINT64_C(64) << 20) /* free memory left untouched: 64 MiB */
#define DLM_CUDA_MARGIN_DIV 32                     /*   + 1/32 of the free memory        */

/* Overflow-safe a*b and a+b for byte counts; UINT64_MAX on overflow (then never fits). */
static inline uint64_t dlm_cuda_mul_sat(uint64_t a, uint64_t b)
{
    if (a && b > UINT64_MAX / a) return UINT64_MAX;
    return a * b;
}

static inline uint64_t dlm_cuda_add_sat(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static inline uint64_t dlm_cuda_min(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* Free device memory an engine may plan with: cudaMemGetInfo's free bytes less a margin
 * for the allocation granularity (2 MiB pages) and the driver's own use. */
static inline uint64_t dlm_cuda_margin(uint64_t free_bytes)
{
    return DLM_CUDA_MARGIN_FIXED + free_bytes / DLM_CUDA_MARGIN_DIV;
}

/* The budget of an engine's device buffers: the run's max_bytes when set, never more than
 * the memory budget of one data structure (dlm_memory_budget(owner_max): the program's or
 * the law's max_bytes, which carries --max-memory or DLMSIM_MAX_MEMORY, else half the
 * host's memory), as the CPU engines. */
static inline uint64_t dlm_cuda_budget(uint64_t run_max, uint64_t owner_max)
{
    const uint64_t b = dlm_memory_budget(owner_max);
    return run_max && run_max < b ? run_max : b;
}

/* Blocks of `threads` for n items, at least 1 and at most cap (grid-stride beyond). */
static inline unsigned dlm_cuda_grid(uint64_t n, unsigned threads, unsigned cap)
{
    uint64_t g = (n + threads - 1) / threads;
    if (g < 1) g = 1;
    return (unsigned)dlm_cuda_min(g, cap);
}

/* The current device's multiprocessor count and opt-in shared memory per block, after
 * creating the context (so that a later cudaMemGetInfo does not measure it). */
static inline dlm_status dlm_cuda_device_facts(int *sms, int *shmem_optin, dlm_err *err)
{
    int dev = 0;
    DLM_CUDA_TRY(cudaGetDevice(&dev));
    DLM_CUDA_TRY(cudaDeviceGetAttribute(sms, cudaDevAttrMultiProcessorCount, dev));
    DLM_CUDA_TRY(cudaDeviceGetAttribute(shmem_optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    if (*sms < 1) *sms = 1;
    DLM_CUDA_TRY(cudaFree(0));
    return DLM_OK;
}

// ---------------------------------------------------------------- device counters

/* Small device-side record: the odd-parity count and an error word (kernels never
 * printf/assert; the host checks it after each chunk). What `bad` means is the
 * engine's: an output that read a mask (byte engine), an operation that is not a word
 * operation or writes outside the value slots (bit-sliced engine). */
typedef struct {
    unsigned long long odd;
    unsigned int bad;    /* 1 if something impossible happened */
    unsigned int bad_k;  /* smallest index (output or operation) concerned */
} dlm_cuda_misc;

/* The counters of one run: ones per output and the histogram as 64-bit device counts
 * that persist across chunks, the misc record, and their host copies. Zeroed by
 * dlm_cuda_counters_alloc, added into a dlm_counts once by dlm_cuda_counters_add. */
typedef struct {
    uint32_t nout;
    int hist;                    /* 1: d_hist holds 2^nout counts */
    unsigned long long *d_ones;
    unsigned long long *d_hist;
    dlm_cuda_misc *d_misc;
    uint64_t *h_ones;
    uint64_t *h_hist;
} dlm_cuda_counters;

/* Device bytes dlm_cuda_counters_alloc allocates (for the prediction before it). */
uint64_t dlm_cuda_counters_bytes(uint32_t nout, int hist);
/* Allocates (host staging first, then device) and zeroes the counters. DLM_ENOMEM,
 * DLM_ECUDA; what was allocated is released by dlm_cuda_counters_free in every case. */
dlm_status dlm_cuda_counters_alloc(dlm_cuda_counters *c, uint32_t nout, int hist, dlm_err *err);
/* Copies the misc record back (also where a chunk's execution errors surface). */
dlm_status dlm_cuda_counters_misc(const dlm_cuda_counters *c, dlm_cuda_misc *m, dlm_err *err);
/* Copies the counters back and adds them, and `chains`, into out; raises
 * out->bytes_tokens and out->bytes_device_measured to the run's sizes (the largest seen
 * by these counts). */
dlm_status dlm_cuda_counters_add(dlm_cuda_counters *c, uint64_t chains, uint64_t bytes_tokens,
                                 uint64_t bytes_measured, dlm_counts *out, dlm_err *err);
void dlm_cuda_counters_free(dlm_cuda_counters *c);

/* An engine's entry, before it touches the device: NULL arguments refused; the counts
 * of the program's shape; a histogram only for nout <= DLM_HIST_MAX_BITS; round offsets
 * consistent; every position an operation or output names inside L (on the GPU an
 * out-of-range position is a memory fault, not an error message; O(nops + nout));
 * then, when there are chains to run, a usable device. DLM_EINPUT naming what is
 * wrong, `who` first. */
dlm_status dlm_cuda_engine_enter(const dlm_program *p, const dlm_run_opts *o,
                                 const dlm_counts *out, const char *who, dlm_err *err);

// ---------------------------------------------------------------- the JIT kernel

/* The bit-sliced engine's run of plan sp with the JIT kernel (kernels/engine_cuda_jit.cu):
 * dlm_engine_cuda_bits_run's contract; the kernel from o->jit or compiled for this call. */
extern "C" dlm_status dlm_cuda_jit_run(const dlm_program *p, const dlm_slot_plan *sp,
                                       const dlm_run_opts *o, dlm_counts *out, dlm_err *err);

// ---------------------------------------------------------------- device helpers

/* Sum of v over the block, valid in thread 0. All threads of the block must call it
 * (it synchronises); blockDim.x is a multiple of 32. warp_sums holds 32 entries. */
static __device__ __forceinline__ unsigned long long dlm_cuda_block_sum(unsigned long long v,
                                                                        unsigned long long *warp_sums)
{
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    __syncthreads(); /* warp_sums may still be read by a previous call */
    if ((threadIdx.x & 31u) == 0) warp_sums[threadIdx.x >> 5] = v;
    __syncthreads();
    unsigned long long total = 0;
    if (threadIdx.x == 0)
        for (unsigned w = 0; w < (blockDim.x >> 5); w++) total += warp_sums[w];
    return total;
}

#endif
