/* dlm_engine.h — the backend interface: run a program over many chains and reduce
 * the outputs to counts.
 *
 * Chains first_chain .. first_chain+chains-1 are run under seed; chain c's sample is
 * a pure function of (seed, c, program), so any split of a batch into calls, chunks
 * or threads gives the same counts. Counts are 64-bit integers, exact.
 */
#ifndef DLM_ENGINE_H
#define DLM_ENGINE_H

#include "dlm_program.h"
#include "dlm_slots.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DLM_HIST_MAX_BITS 24 /* full histogram only for outputs of up to this many bits */

/* CPU and CUDA are the bit-sliced engines (64 chains per word); CPU_REF and CUDA_REF
 * the byte-per-token engines they are checked against (the readable references). Same
 * samples on all. */
typedef enum {
    DLM_BACKEND_AUTO = 0,
    DLM_BACKEND_CPU,
    DLM_BACKEND_CUDA,
    DLM_BACKEND_CPU_REF,
    DLM_BACKEND_CUDA_REF
} dlm_backend;

/* The kernel of the bit-sliced CUDA engine (dlm_run_opts.cuda_kernel; docs/gpu.md,
 * "The JIT kernel"): the interpreter (kernels/engine_cuda_bits.cu), which runs any plan
 * at once, or the JIT kernel (kernels/engine_cuda_jit.cu), the plan compiled by NVRTC
 * into straight-line code: several times fewer instructions per sample, after a
 * compile that grows with the plan (dlm_cuda_jit_pays). AUTO: JIT when it pays. */
typedef enum {
    DLM_CUDA_KERNEL_AUTO = 0,
    DLM_CUDA_KERNEL_INTERP,
    DLM_CUDA_KERNEL_JIT
} dlm_cuda_kernel;

/* "auto", "interpreter", "jit"; dlm_cuda_kernel_parse: 0, or -1 for another name. */
const char *dlm_cuda_kernel_name(dlm_cuda_kernel k);
int dlm_cuda_kernel_parse(const char *s, dlm_cuda_kernel *k);

/* Whether the JIT kernel pays for a run of `chains` chains of plan sp (of a program of
 * nout outputs): its values fit in registers (at most DLM_JIT_AUTO_MAX_LIVE live at
 * once, dlm_jit_live_peak: about 4 32-bit registers each; wider code spills), it has at most DLM_JIT_AUTO_MAX_OPS operations, and its
 * estimated compile time (DLM_JIT_COMPILE_S0 + DLM_JIT_COMPILE_S_OP s per operation,
 * NVRTC on this project's x86 host) is below the interpreter time it saves
 * (DLM_JIT_SAVE_S_OP s per operation per chain on an H100/H200). docs/gpu.md, "The JIT
 * kernel", says where these come from. */
#define DLM_JIT_COMPILE_S0 0.3
#define DLM_JIT_COMPILE_S_OP 0.015
#define DLM_JIT_SAVE_S_OP 2.0e-14
#define DLM_JIT_AUTO_MAX_OPS 32768u
#define DLM_JIT_AUTO_MAX_LIVE 64u
int dlm_cuda_jit_pays(const dlm_slot_plan *sp, uint32_t nout, uint64_t chains);
/* The kernel a run of `chains` chains of plan sp takes: asked, or for AUTO the JIT
 * kernel when dlm_cuda_jit_pays, else the interpreter. */
dlm_cuda_kernel dlm_cuda_kernel_resolve(dlm_cuda_kernel asked, const dlm_slot_plan *sp, uint32_t nout,
                                        uint64_t chains);

/* The JIT kernels a caller has compiled (programs by exact source, variant and
 * architecture), kept loaded for its later calls: make one per batch or verify run
 * and pass it in dlm_run_opts.jit. Free it before the process leaves the device. */
typedef struct dlm_jit_cache dlm_jit_cache;
dlm_status dlm_jit_cache_new(dlm_jit_cache **c, dlm_err *err);
void dlm_jit_cache_free(dlm_jit_cache *c);
/* Also keep the cubins in directory dir (made when missing, one level) across processes
 * (the CLI's DLMSIM_JIT_CACHE):
 * one file per program, named by a 64-bit FNV-1a hash of its source, the embedded
 * headers, the variant, the architecture and the NVRTC version, and checked against
 * them when read back; written atomically. A file that cannot be read or written only
 * costs a compile. NULL: none. DLM_ENOMEM. */
dlm_status dlm_jit_cache_keep_in(dlm_jit_cache *c, const char *dir, dlm_err *err);
/* Programs compiled so far, their wall seconds, and programs read from the directory
 * instead (0 for NULL). */
void dlm_jit_cache_stats(const dlm_jit_cache *c, uint64_t *compiled, double *compile_s, uint64_t *loaded);

typedef struct {
    uint64_t first_chain;
    uint64_t chains;
    uint64_t seed;
    int want_hist;        /* fill counts->hist (requires nout <= DLM_HIST_MAX_BITS) */
    uint8_t *samples;     /* NULL, or chains * dlm_sample_bytes(p) bytes: output bits of
                             chain first_chain+i at samples + i*bytes, bit k = output k */
    int threads;          /* CPU: 0 = all cores */
    const dlm_slot_plan *plan; /* NULL, or p's slot plan (dlm_slot_plan_build) made once by
                             a caller that runs many calls: the bit-sliced engines
                             otherwise plan on every call, O(program operations) */
    uint64_t max_bytes;   /* token memory budget per engine (0 = a default) */
    /* Bit-sliced CUDA engine only, for tests and measurements (0 = its own choice):
     * cuda_block threads per block (a multiple of 32, at most 256), cuda_global 1 to
     * keep the value words in global memory even where they fit in shared memory. */
    unsigned cuda_block;
    int cuda_global;
    dlm_cuda_kernel cuda_kernel; /* bit-sliced CUDA engine: its kernel (AUTO: its choice) */
    dlm_jit_cache *jit;   /* NULL, or the caller's JIT kernels (else compiled per call) */
    const struct dlm_bits_plan *bits; /* NULL, or the bit-sliced CPU engine's plan of p
                             (dlm_bits_plan_build) made once by a caller that runs many
                             calls (else made on every call, O(program operations)) */
} dlm_run_opts;

typedef struct {
    uint32_t nout;
    uint64_t chains;      /* chains counted */
    uint64_t odd_parity;  /* chains whose output bits XOR to 1 */
    uint64_t *ones;       /* nout: chains with output k = 1 */
    uint64_t *hist;       /* NULL or 2^nout counts, index bit k = output k */
    uint64_t bytes_tokens;/* token buffer bytes used (host or device) */
    uint64_t bytes_device_measured; /* CUDA: cudaMemGetInfo difference; 0 on the CPU */
} dlm_counts;

/* Bytes of one packed sample. */
static inline size_t dlm_sample_bytes(const dlm_program *p) { return ((size_t)p->nout + 7) / 8; }

/* Allocates zeroed counts for nout outputs (hist only if want_hist). */
dlm_status dlm_counts_init(dlm_counts *k, uint32_t nout, int want_hist, dlm_err *err);
/* Adds b into a (same shape). */
void dlm_counts_add(dlm_counts *a, const dlm_counts *b);
void dlm_counts_free(dlm_counts *k);

/* Byte CPU engine (host/engine/engine_cpu.c), the reference (DLM_BACKEND_CPU_REF): OpenMP over
 * tiles of chains; tokens position-major within a tile. */
dlm_status dlm_engine_cpu_run(const dlm_program *p, const dlm_run_opts *o, dlm_counts *out,
                              dlm_err *err);

/* The bit-sliced CPU engine's form of p's slot plan sp (NULL: made here): fused pairs,
 * collapsed triples, slots anew (host/engine/engine_bits.c). DLM_ENOMEM. */
typedef struct dlm_bits_plan dlm_bits_plan;
dlm_status dlm_bits_plan_build(const dlm_program *p, const dlm_slot_plan *sp, dlm_bits_plan **out,
                               dlm_err *err);
void dlm_bits_plan_free(dlm_bits_plan *bp);

/* Bit-sliced CPU engine (host/engine/engine_bits.c), the CPU backend: the same contract and
 * the same samples and counts, bit for bit, as dlm_engine_cpu_run, computed 64 chains
 * per uint64_t with dlm_step_op_words. OpenMP over tiles of words (up to 4 MiB of
 * values per thread; o->threads; o->max_bytes bounds the value words of all threads together,
 * DLM_EINPUT when one 64-chain word, 8 bytes per value slot (include/dlm_slots.h, at
 * most L slots), does not fit). Counts are added into
 * out. Any first_chain: the words are aligned to 64 chains and the chains outside
 * the range are masked out. Cost: about (ops) / 64 word operations per chain. */
dlm_status dlm_engine_bits_run(const dlm_program *p, const dlm_run_opts *o, dlm_counts *out,
                               dlm_err *err);

/* Byte CUDA engine (kernels/engine_cuda.cu, compiled when DLM_HAVE_CUDA), the device's
 * reference (DLM_BACKEND_CUDA_REF): one thread per chain, one kernel launch per round
 * per chunk, max_bytes bounds the token buffer (L bytes per chain). Counts are added
 * into out, which must be initialised. */
dlm_status dlm_engine_cuda_run(const dlm_program *p, const dlm_run_opts *o, dlm_counts *out,
                               dlm_err *err);

/* Bit-sliced CUDA engine (kernels/engine_cuda_bits.cu), the CUDA backend: the same
 * contract, samples and counts, bit for bit, as dlm_engine_bits_run and
 * dlm_engine_cuda_run. One thread per 128 chains (two value words, one Philox block per
 * fair coin), one launch per chunk that runs every operation of the slot plan and
 * reduces the outputs; values in shared memory when the block's fit, else in global
 * memory. o->max_bytes bounds the value bytes in use (16 per slot per 128 chains):
 * DLM_EINPUT naming every term when one pair of words does not fit, in it or on the
 * device. Any first_chain (words aligned to 128 chains, the chains outside the range
 * masked out). DLM_ECUDA on a runtime error, DLM_EINPUT without a device. */
dlm_status dlm_engine_cuda_bits_run(const dlm_program *p, const dlm_run_opts *o,
                                    dlm_counts *out, dlm_err *err);
/* Number of CUDA devices usable; 0 with why saying which of these is the matter: "no
 * CUDA device (...)" (cudaErrorNoDevice or a count of 0), "no CUDA driver installed
 * (...)" (cudaDriverGetVersion gives 0), "the CUDA driver supports CUDA X, this dlmsim
 * was built for CUDA Y (...)" (cudaErrorInsufficientDriver), "CUDA error NAME (text)
 * ..." (anything else), or "built without CUDA" (a CPU-only build). */
int dlm_cuda_device_count(char *why, size_t why_len);
/* Makes device ordinal % (number of devices) current for the calling host thread, e.g.
 * ordinal = an MPI rank's node-local rank; returns that device, or -1 with why (no
 * usable device, as dlm_cuda_device_count says; a negative ordinal; cudaSetDevice's
 * error; "built without CUDA"). */
int dlm_cuda_select_device(int ordinal, char *why, size_t why_len);

/* 1 for the backends that run a slot plan (the bit-sliced engines, dlm_run_opts.plan). */
static inline int dlm_backend_uses_plan(dlm_backend b)
{
    return b == DLM_BACKEND_CPU || b == DLM_BACKEND_CUDA;
}

/* "auto", "cpu", "cpu-ref", "cuda", "cuda-ref". */
const char *dlm_backend_name(dlm_backend b);
/* Parses one of those names; returns 0 on success. */
int dlm_backend_parse(const char *s, dlm_backend *b);

/* Resolves AUTO (CUDA when a device is present, else CPU, writing one notice into
 * notice when notice is non-NULL) and refuses CUDA and CUDA_REF without a device
 * (DLM_EINPUT). */
dlm_status dlm_backend_resolve(dlm_backend want, dlm_backend *got, char *notice,
                               size_t notice_len, dlm_err *err);

/* Runs on the resolved backend, adding into out (initialised by the caller). */
dlm_status dlm_engine_run(dlm_backend b, const dlm_program *p, const dlm_run_opts *o,
                          dlm_counts *out, dlm_err *err);

#ifdef __cplusplus
}
#endif
#endif
