/* dlm_batch.h — long batches: a run of many chains streamed through an engine in
 * chunks with bounded memory, a progress callback, a stop flag, and checkpoints that
 * let a killed run resume without losing or double-counting a chain.
 *
 * Because chain c's sample depends only on (seed, c, program), the counts after
 * chains [0, n) are the same whatever the chunking; a checkpoint therefore needs only
 * the counts and the next chain index. A checkpoint file is text (docs/checkpoint.md):
 * it records the program version, the circuit hash, mode, seed and total chains, and
 * is refused on resume when any of them differs.
 */
#ifndef DLM_BATCH_H
#define DLM_BATCH_H

#include <signal.h>

#include "dlm_engine.h"
#include "dlm_eval.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DLM_CHECKPOINT_VERSION 1

/* What a checkpoint must agree on to be resumed. */
typedef struct {
    uint64_t circuit_hash;
    dlm_mode mode;
    uint64_t seed;
    uint64_t chains;      /* the batch's total */
    uint32_t nout;
    int hist;             /* counts include the full histogram */
} dlm_batch_id;

typedef struct {
    dlm_backend backend;  /* resolved */
    int threads;
    uint64_t first_chunk; /* chains in the first engine call (0: a default); later
                             chunks adapt so that one takes about chunk_seconds */
    double chunk_seconds; /* 0: 0.5 s */
    const volatile sig_atomic_t *stop; /* non-NULL: checked between chunks */
    /* Called after every chunk with the chains done so far (including resumed ones). */
    void (*progress)(void *ctx, uint64_t done, uint64_t total, double seconds);
    void *progress_ctx;
    const dlm_circuit *direct;  /* non-NULL: run the direct evaluator instead of p */
    const dlm_slot_plan *plan;  /* p's slot plan for the bit-sliced backends, made by the
                                   caller (then not timed with the batch); NULL: made here */
    const struct dlm_bits_plan *bits; /* the same for the bit-sliced CPU engine's plan
                                   (dlm_bits_plan_build of p and plan); NULL: made here */
    /* Non-NULL: called after every chunk with its packed samples, chains first ..
     * first+n-1 in chain order. */
    dlm_status (*sink)(void *ctx, uint64_t first, const uint8_t *samples, uint64_t n, dlm_err *err);
    void *sink_ctx;
    /* DLM_BACKEND_CUDA: the bit-sliced engine's kernel (AUTO: resolved once, for the
     * chains left, by dlm_cuda_kernel_resolve) and the caller's JIT kernels (NULL: the
     * batch keeps its own for its calls). */
    dlm_cuda_kernel cuda_kernel;
    dlm_jit_cache *jit;
    const char *checkpoint;     /* NULL: none */
    double checkpoint_every;    /* seconds between checkpoints (0: 60) */
} dlm_batch_opts;

/* Runs chains [*next, id->chains) of program p under id->seed, adding into counts
 * (initialised by the caller, possibly by dlm_checkpoint_read) and advancing *next.
 * With a checkpoint path it writes a checkpoint every checkpoint_every seconds and
 * when it returns. When *stop becomes set it returns DLM_OK after the current chunk
 * with *stopped = 1 (and *next < id->chains). */
dlm_status dlm_batch_run(const dlm_program *p, const dlm_batch_id *id, const dlm_batch_opts *o,
                         uint64_t *next, dlm_counts *counts, int *stopped, dlm_err *err);

/* Writes a checkpoint atomically: path.tmp, fsync, rename over path, fsync of the
 * directory. */
dlm_status dlm_checkpoint_write(const char *path, const dlm_batch_id *id, uint64_t next,
                                const dlm_counts *counts, dlm_err *err);

/* Reads a checkpoint (at most dlm_memory_budget(max_bytes) bytes) into counts (which it
 * initialises) and *next, refusing one whose version, circuit hash, mode, seed, chains,
 * outputs or histogram flag differ from id (DLM_EINPUT with "FILE: ..."). */
dlm_status dlm_checkpoint_read(const char *path, const dlm_batch_id *id, uint64_t *next,
                               dlm_counts *counts, uint64_t max_bytes, dlm_err *err);

/* A 64-bit FNV-1a hash of the circuit's structure: gates (kind, inputs, negations,
 * truth tables), outputs and coin thresholds; names and source are not included. */
uint64_t dlm_circuit_hash(const dlm_circuit *c);

#ifdef __cplusplus
}
#endif
#endif
