/* dlm_sample_tally.h — count files of the oracle sampler (`dlmsim sample LAW --shard
 * K/N --counts FILE`, summed by `dlmsim merge`, reported and verified by `dlmsim sample
 * LAW --counts FILE`): the pieces and checks of dlm_tally.h with the sampler's counts.
 *
 * Chain c under seed s is the same sample on every backend (dlm_sampler.h) and every
 * count adds up (rounds_max: the larger), so the merged counts of any split equal one
 * process's. A file names what a safe merge needs: the law (dlm_law_hash), the policy
 * (dlm_policy_hash), the seed, L, V, the rounds, whether the V^L histogram is in it,
 * the chain ranges and their batch. docs/scale-out.md shows the format. */
#ifndef DLM_SAMPLE_TALLY_H
#define DLM_SAMPLE_TALLY_H

#include "dlm_sampler.h"
#include "dlm_tally.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    uint64_t law_hash, policy_hash, seed;
    uint64_t batch;       /* chains of the whole batch (gaps are against 0..batch-1) */
    dlm_ranges ranges;
    dlm_sample_counts k;  /* k.chains == dlm_ranges_chains(&ranges) */
} dlm_sample_tally;

/* An empty tally (no ranges, zero counts) of this law and (checked) policy. */
dlm_status dlm_sample_tally_init(dlm_sample_tally *t, const dlm_law *law, const dlm_policy *p, uint64_t seed,
                                 uint64_t batch, int want_hist, dlm_err *err);
void dlm_sample_tally_free(dlm_sample_tally *t);
/* Written atomically as dlm_tally_write writes (kind sample). */
dlm_status dlm_sample_tally_write(const char *path, const dlm_sample_tally *t, dlm_err *err);
/* Read and checked as dlm_tally_read does: DLM_EINPUT "PATH: what" for anything wrong. */
dlm_status dlm_sample_tally_read(const char *path, dlm_sample_tally *t, uint64_t max_bytes, dlm_err *err);
/* Adds b (from name_b) into a (from name_a); refuses another law, policy, seed, L, V,
 * rounds or histogram setting, and ranges that overlap (DLM_EINPUT, one line). */
dlm_status dlm_sample_tally_merge(dlm_sample_tally *a, const char *name_a, const dlm_sample_tally *b,
                                  const char *name_b, dlm_err *err);
/* FNV-1a 64 over every count (chains, rounds, per-round and per-position counts, the
 * histogram): equal for equal counts, so for any split of the same chains. */
uint64_t dlm_sample_counts_digest(const dlm_sample_counts *k);

#ifdef __cplusplus
}
#endif
#endif
