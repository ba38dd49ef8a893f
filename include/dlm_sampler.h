/* dlm_sampler.h — the oracle sampler: run a decoding policy (dlm_policy.h) against the
 * exact predictor of a law (dlm_law.h) over many chains, and compute the sampler's own
 * exact output law by enumeration (docs/oracle.md).
 *
 * Chain c under seed s gives the same sample on every backend, thread count and chunk
 * (all randomness is a function of (seed, chain, round, purpose, position, index);
 * dlm_sampler_step.h). Counts are 64-bit integers.
 */
#ifndef DLM_SAMPLER_H
#define DLM_SAMPLER_H

#include "dlm_engine.h"
#include "dlm_law.h"
#include "dlm_policy.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint64_t first_chain, chains, seed;
    int threads;         /* CPU threads, 0 = all cores */
    uint16_t *samples;   /* NULL, or chains * L tokens (chain-major) */
    uint64_t max_bytes;  /* working-memory budget (0 = a default: 1 GiB) */
    dlm_progress_fn progress; /* NULL, or called with the chains done of o->chains */
    void *progress_ctx;
} dlm_sample_opts;

typedef struct {
    uint32_t L, V, max_rounds;
    uint64_t chains;
    uint64_t *revealed, *remasked, *revised, *active; /* [max_rounds]: totals per round */
    uint64_t rounds_sum, rounds_max;
    uint64_t offsupport; /* chains that revealed a combination of probability 0 (their
                            output has probability 0; dlm_sampler_step.h) */
    uint64_t unfinished; /* chains still running after max_rounds (a bug if nonzero) */
    uint64_t *hist;      /* NULL, or V^L sequence counts (index sum_i x_i V^i) */
    uint64_t *pos;       /* L*V: how often position i ended as token v */
} dlm_sample_counts;

/* Zeroed counts for this law and (checked) policy; hist when want_hist (V^L must be
 * at most DLM_LAW_TABLE_MAX). */
dlm_status dlm_sample_counts_init(dlm_sample_counts *k, const dlm_law *law, const dlm_policy *p,
                                  int want_hist, dlm_err *err);
/* The same for L positions, V tokens and max_rounds rounds (a count file's). */
dlm_status dlm_sample_counts_alloc(dlm_sample_counts *k, uint32_t L, uint32_t V, uint32_t max_rounds,
                                   int want_hist, dlm_err *err);
void dlm_sample_counts_add(dlm_sample_counts *a, const dlm_sample_counts *b);
void dlm_sample_counts_free(dlm_sample_counts *k);

/* Bytes of working memory per chain (state and scratch). */
uint64_t dlm_sampler_chain_bytes(const dlm_law *law);

/* Runs chains o->first_chain .. +o->chains of policy p (checked with dlm_policy_check)
 * on the backend (CPU or CUDA; AUTO must be resolved by the caller), adding into k. */
dlm_status dlm_sampler_run(dlm_backend b, const dlm_law *law, const dlm_policy *p,
                           const dlm_sample_opts *o, dlm_sample_counts *k, dlm_err *err);
dlm_status dlm_sampler_cpu_run(const dlm_law *law, const dlm_policy *p, const dlm_sample_opts *o,
                               dlm_sample_counts *k, dlm_err *err);
/* CUDA (DLM_HAVE_CUDA): one launch per round over a chunk of chains, each thread one
 * chain running dlm_sampler_round. */
dlm_status dlm_sampler_cuda_run(const dlm_law *law, const dlm_policy *p, const dlm_sample_opts *o,
                                dlm_sample_counts *k, dlm_err *err);

typedef struct {
    uint64_t states_max;   /* most distinct chain states alive after one round */
    uint64_t branches;     /* round executions (choice sequences) enumerated */
    uint32_t rounds_max;   /* most rounds a chain takes */
    double rounds_mean;    /* expected rounds */
    double total;          /* total probability found (1 up to rounding) */
    double offsupport;     /* probability that a chain leaves the support */
} dlm_exact_info;

/* The exact output law q[V^L] of policy p on law (V^L <= DLM_LAW_TABLE_MAX) by
 * enumerating every choice of every round with the sampler's own round code, merging
 * equal chain states after each round. DLM_EINPUT when more than max_states states
 * would be alive at once (0 = 2^20) or a round has more than 2^16 choice points. */
dlm_status dlm_sampler_exact(const dlm_law *law, const dlm_policy *p, uint64_t max_states, double *q,
                             dlm_exact_info *info, dlm_err *err);
/* The same with a progress hook (dlm_progress_fn): done/total is the estimated fraction
 * of the enumeration, in millionths — rounds over dlm_policy_max_rounds, within a round
 * the states and, within a state, its choice sequences (their odometer read as a
 * mixed-radix fraction) — reported at most every 4096 branches. Same law, same info. */
dlm_status dlm_sampler_exact_progress(const dlm_law *law, const dlm_policy *p, uint64_t max_states, double *q,
                                      dlm_exact_info *info, dlm_progress_fn progress, void *ctx,
                                      dlm_err *err);

#ifdef __cplusplus
}
#endif
#endif
