/* dlm_tally.h — count files: the exact counts of a set of chain ranges, written by
 * `dlmsim run --counts FILE` (one shard of a batch) and summed by `dlmsim merge`.
 *
 * Because chain c under seed s is the same sample on every backend and every tally is
 * an integer count, any split of a batch into chain ranges merges exactly: the merged
 * counts (and their regression digest, dlm_regress.h) equal those of one process
 * that ran all the chains. A count file records what a safe merge needs: the format
 * and program versions, the circuit hash (dlm_circuit_hash), mode, seed, outputs,
 * whether the histogram is included, the chain ranges covered and the batch they are
 * part of, the counts, and an FNV-1a 64 digest over all the bytes before the digest
 * line (a truncated or edited file is refused). docs/scale-out.md shows the format.
 */
#ifndef DLM_TALLY_H
#define DLM_TALLY_H

#include "dlm_engine.h"
#include "dlm_util.h"

#include <stdio.h>

#define DLM_TALLY_VERSION 1
#define DLM_TALLY_MAX_RANGES 1000000 /* ranges one file may list */

/* Chains [first, end). */
typedef struct {
    uint64_t first, end;
} dlm_range;

/* Disjoint ranges, sorted, adjacent ones joined. */
typedef struct {
    dlm_range *r;
    size_t n, cap;
} dlm_ranges;

/* Adds [first, end) (first < end). Returns DLM_EINPUT (message "chains A..B-1 are
 * counted twice") when it overlaps a range already held, DLM_ENOMEM. */
dlm_status dlm_ranges_add(dlm_ranges *rs, uint64_t first, uint64_t end, dlm_err *err);
void dlm_ranges_free(dlm_ranges *rs);
/* Chains the ranges hold. */
uint64_t dlm_ranges_chains(const dlm_ranges *rs);
/* Adds every range of b (from file name_b) into a (from name_a); DLM_EINPUT naming both
 * files when a chain is in both. */
dlm_status dlm_ranges_merge(dlm_ranges *a, const char *name_a, const dlm_ranges *b, const char *name_b,
                            dlm_err *err);
/* The chain ranges of 0..batch-1 that rs does not hold, into gaps (initialised here;
 * free with dlm_ranges_free). */
dlm_status dlm_ranges_gaps(const dlm_ranges *rs, uint64_t batch, dlm_ranges *gaps, dlm_err *err);

/* --shard K/N: K in 1..N. Returns 0 on success. */
int dlm_shard_parse(const char *s, uint32_t *k, uint32_t *n);
/* The K-th of N contiguous parts of chains 0..chains-1: *first = (K-1)*chains/N,
 * *count = K*chains/N - *first (exact, no overflow). A part may be empty when
 * chains < N. */
void dlm_shard_range(uint64_t chains, uint32_t k, uint32_t n, uint64_t *first, uint64_t *count);

/* The verifier's part of a count file (`dlmsim verify --shard ... --counts FILE`,
 * dlm_verify.h): the 11 counts of its output pairs (dlm_verify_pairs) and the
 * bit-exact check of chains 0..DLM_VERIFY_PREFIX-1 against the direct evaluator, for
 * the chains of the file's ranges. All of it adds up over disjoint ranges. */
typedef struct {
    uint32_t npairs;
    uint64_t *n11;        /* npairs: chains with both outputs of pair q = 1 */
    uint64_t prefix_checked, prefix_bad; /* chains compared bit for bit, and differing */
    uint64_t bad_chain;   /* the lowest differing chain (when prefix_bad > 0) */
    uint32_t bad_out, bad_engine, bad_direct; /* its first differing output and bits */
} dlm_tally_verify;

/* What a count file holds. */
typedef struct {
    uint64_t circuit_hash;
    char mode[16];        /* dlm_mode_name, or "direct" */
    uint64_t seed;
    uint64_t batch;       /* the chains of the whole batch the ranges are part of (gaps
                             are reported against 0..batch-1) */
    dlm_ranges ranges;
    dlm_counts counts;    /* counts.chains == dlm_ranges_chains(&ranges) */
    int verify;           /* 1: written by the verifier, v below holds its counts */
    dlm_tally_verify v;
} dlm_tally;

/* Initialises an empty tally (no ranges, zero counts). */
dlm_status dlm_tally_init(dlm_tally *t, uint64_t circuit_hash, const char *mode, uint64_t seed,
                          uint64_t batch, uint32_t nout, int hist, dlm_err *err);
/* Makes t a verifier's tally with npairs zero pair counts. */
dlm_status dlm_tally_verify_init(dlm_tally *t, uint32_t npairs, dlm_err *err);
/* Adds b's verifier counts into a (same npairs): sums, and the lower first violation. */
void dlm_tally_verify_add(dlm_tally_verify *a, const dlm_tally_verify *b);
void dlm_tally_free(dlm_tally *t);

/* Writes t to path atomically (dlm_file_replace with suffix .tmp; a symlink stays and
 * its target is replaced; a non-regular path is refused, DLM_EINPUT). */
dlm_status dlm_tally_write(const char *path, const dlm_tally *t, dlm_err *err);
/* Reads a count file (initialising t). DLM_EINPUT "PATH: what" for anything wrong:
 * not a count file, another format or program version, a bad field, a digest that
 * does not match (truncated or edited), counts that do not add up; a file over the
 * memory budget dlm_memory_budget(max_bytes) is refused before it is read. */
dlm_status dlm_tally_read(const char *path, dlm_tally *t, uint64_t max_bytes, dlm_err *err);

/* Adds b (read from name_b) into a (from name_a): refuses (DLM_EINPUT, one line naming
 * both files) a different circuit, mode, seed, outputs, histogram setting or kind
 * (run or verify), and
 * ranges that overlap. a->batch becomes the larger of the two. */
dlm_status dlm_tally_merge(dlm_tally *a, const char *name_a, const dlm_tally *b,
                           const char *name_b, dlm_err *err);

/* The chain ranges of 0..t->batch-1 that t does not hold, into gaps (initialised
 * here; free with dlm_ranges_free). */
dlm_status dlm_tally_gaps(const dlm_tally *t, dlm_ranges *gaps, dlm_err *err);

/* The pieces of every kind of count file (run and verify here; the oracle sampler's,
 * dlm_sample_tally.h): the common header and digest, chain ranges, number lists and
 * sparse histograms. A writer: begin (magic, program version and "kind KIND" lines),
 * fprintf/put_* into w.f, end (digest line, then the atomic replace of path). */
typedef struct {
    FILE *f;
    char *buf;
    size_t len;
} dlm_tally_file;
dlm_status dlm_tally_file_begin(dlm_tally_file *w, const char *kind, dlm_err *err);
dlm_status dlm_tally_file_end(dlm_tally_file *w, const char *path, dlm_err *err);
void dlm_tally_put_ranges(FILE *f, const dlm_ranges *rs);        /* "ranges R" + R lines */
void dlm_tally_put_list(FILE *f, const char *key, const uint64_t *v, size_t n); /* "key v.." */
void dlm_tally_put_cells(FILE *f, const uint64_t *h, uint64_t size); /* "cells M" + nonzero */
/* A reader: the file read whole (within dlm_memory_budget(max_bytes); freed by the
 * caller: *buf), its magic, digest, format and program versions checked, its kind word
 * in kind; *body is after the kind line. */
dlm_status dlm_tally_file_load(const char *path, char **buf, dlm_cursor *body, char *kind, size_t kind_len,
                               uint64_t max_bytes, dlm_err *err);
/* The ranges of a file (within 0..batch-1, disjoint) into rs. */
dlm_status dlm_tally_get_ranges(dlm_cursor *c, uint64_t batch, dlm_ranges *rs, const char *path, dlm_err *err);
/* NULL, or what is wrong: "key" and n numbers each at most max; the cells of a
 * histogram of size entries (zeroed) adding up to chains. */
const char *dlm_tally_get_list(dlm_cursor *c, const char *key, uint64_t *v, size_t n, uint64_t max);
const char *dlm_tally_get_cells(dlm_cursor *c, uint64_t *h, uint64_t size, uint64_t chains);

#endif
