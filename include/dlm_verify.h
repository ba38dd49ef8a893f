/* dlm_verify.h — the verifier: sample a circuit with an engine and check the samples
 * against the circuit's exact law (or an independent reference), with hard invariants,
 * bit-exact agreement with the direct evaluator, and multiple-testing-corrected
 * statistical tests. docs/verify.md explains every test; docs/report-format.md the
 * JSON report the CLI writes from a dlm_verify_report.
 *
 * The TARGET is the law of the circuit with fair coins (the model: inputs are fair
 * coins). A circuit's coin_thr, if set, is treated as a property of the SAMPLER under
 * test (the engine and the direct evaluator both honour it), never of the target; this
 * is how a small bias is injected to measure power. Targets come in three kinds:
 *   analytic     closed-form laws recognised from c->source (parity, adders, maj);
 *   enumeration  all 2^ncoins coin assignments, bit-parallel (ncoins <= 30): exact
 *                integer counts;
 *   reference    independent chains of the direct evaluator under the seed
 *                seed ^ DLM_VERIFY_REF_XOR (a disjoint Philox key), giving two-sample
 *                tests on the marginals (and on the histogram when nout <= 24).
 * This file is not: a printer (the CLI formats reports) nor an engine.
 * Statistics use GSL's cdfs, guarded where GSL is known to fail (docs/verify.md).
 */
#ifndef DLM_VERIFY_H
#define DLM_VERIFY_H

#include "dlm_engine.h"
#include "dlm_stats.h" /* the tests the verifier runs */
#include "dlm_tally.h" /* the counts of a shard: dlm_verify_sample, dlm_verify_check */

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DLM_VERIFY_ENUM_MAX_COINS 30     /* enumeration limit: 2^30 assignments */
#define DLM_VERIFY_MAX_PAIRS 512         /* pairwise tests per run, at most */
#define DLM_VERIFY_PREFIX 4096           /* chains compared bit for bit with dlm_eval */
#define DLM_VERIFY_REF_XOR UINT64_C(0x5eed5eed5eed5eed) /* reference seed = seed ^ this */

typedef enum { DLM_TARGET_AUTO = 0, DLM_TARGET_EXACT, DLM_TARGET_REFERENCE } dlm_target_want;
typedef enum {
    DLM_TKIND_NONE = 0,
    DLM_TKIND_ANALYTIC,
    DLM_TKIND_ENUMERATION,
    DLM_TKIND_REFERENCE
} dlm_target_kind;

/* "analytic", "enumeration", "reference" ("none" for DLM_TKIND_NONE). */
const char *dlm_target_kind_name(dlm_target_kind k);
/* Parses "auto", "exact", "reference"; returns 0 on success. */
int dlm_target_want_parse(const char *s, dlm_target_want *w);

typedef struct {
    uint32_t i, j; /* output indices, i < j */
} dlm_pair;

/* The pairs tested for a circuit with nout outputs: all pairs when there are at most
 * DLM_VERIFY_MAX_PAIRS, else the adjacent pairs (k, k+1) for k < DLM_VERIFY_MAX_PAIRS/2
 * and distinct pseudo-random pairs (a fixed splitmix64 stream, so the same every run)
 * up to DLM_VERIFY_MAX_PAIRS in all. *pairs is malloc'd (caller frees); none for
 * nout < 2. */
dlm_status dlm_verify_pairs(uint32_t nout, dlm_pair **pairs, uint32_t *npairs, dlm_err *err);

/* An exact law (analytic, enumeration) or an empirical reference. Owns its memory. */
typedef struct {
    dlm_target_kind kind;
    uint32_t nout, ncoins;
    char desc[160];      /* e.g. "uniform over even-parity 16-bit strings" */
    /* Exact kinds: probabilities. hist (2^nout) only when nout <= DLM_HIST_MAX_BITS. */
    double *hist;
    double *p1;          /* nout: P(output k = 1) */
    double p_odd;        /* P(outputs XOR to 1) */
    /* Enumeration: the exact integer counts behind the probabilities, over total. */
    uint64_t total;      /* 2^ncoins (enumeration) or reference chains */
    uint64_t *hist_count;/* 2^nout or NULL */
    uint64_t *ones;      /* nout */
    uint64_t odd;
    /* Pairs: P(i = 1 and j = 1) (exact) and counts of 11 (enumeration, reference). */
    uint32_t npairs;
    dlm_pair *pairs;
    double *p11;
    uint64_t *n11;
    /* Reference: the seed its chains were drawn under (chains 0..total-1). */
    uint64_t ref_seed;
} dlm_target;

/* 1 if c->source names a generator whose law dlm_target_analytic knows (and the
 * circuit's shape matches it). */
int dlm_target_has_analytic(const dlm_circuit *c);

/* The closed-form law of a recognised generator: parity-tree/chain/revise:N (uniform
 * on even-parity N-bit strings), adder-ripple/prefix:N (s = a + b, LSB first; per-bit
 * and pair marginals by a carry DP), maj:N (N odd: P(1) = 1/2). DLM_EINPUT if c is not
 * one of them. Cost O(2^nout) for the histogram, O(npairs * N) for the marginals. */
dlm_status dlm_target_analytic(const dlm_circuit *c, dlm_target *t, dlm_err *err);

/* The exact law of c with fair coins by enumerating all 2^ncoins assignments with
 * dlm_eval_words, 64 per call, OpenMP over blocks (threads: 0 = all cores), per-thread
 * integer counts merged. DLM_EINPUT if ncoins > DLM_VERIFY_ENUM_MAX_COINS. Memory:
 * 2^nout counts (nout <= 24) plus per-thread nnodes words; cost 2^ncoins/64 evaluations. */
dlm_status dlm_target_enumerate(const dlm_circuit *c, int threads, dlm_target *t, dlm_err *err);

/* An empirical reference: chains 0..chains-1 of the direct evaluator under ref_seed
 * with fair coins (c->coin_thr ignored). Counts ones, pairs, odd parity and (nout <= 24)
 * the histogram. Cost: chains * ncoins Philox calls. */
dlm_status dlm_target_reference(const dlm_circuit *c, uint64_t ref_seed, uint64_t chains,
                                int threads, dlm_target *t, dlm_err *err);

/* Chooses and builds the target: AUTO = analytic, else enumeration (ncoins <= 30), else
 * reference; EXACT = analytic or enumeration, DLM_EINPUT with a message otherwise;
 * REFERENCE = reference with ref_seed = seed ^ DLM_VERIFY_REF_XOR and `chains` chains. */
dlm_status dlm_target_build(const dlm_circuit *c, dlm_target_want want, uint64_t seed,
                            uint64_t chains, int threads, dlm_target *t, dlm_err *err);
/* dlm_target_build with a progress hook (dlm_progress_fn, NULL for none): the coin
 * assignments enumerated or the reference chains drawn, of their number (none for an
 * analytic law). The same target. */
dlm_status dlm_target_build_progress(const dlm_circuit *c, dlm_target_want want, uint64_t seed, uint64_t chains,
                                     int threads, dlm_progress_fn progress, void *ctx, dlm_target *t,
                                     dlm_err *err);
void dlm_target_free(dlm_target *t);

// ---------------------------------------------------------------- the verifier

typedef struct {
    dlm_mode mode;            /* default DLM_MODE_REVISE */
    dlm_backend backend;      /* default AUTO */
    dlm_cuda_kernel cuda_kernel; /* DLM_BACKEND_CUDA: its kernel (default AUTO) */
    const char *jit_dir;      /* NULL, or where JIT cubins are kept (dlm_jit_cache_keep_in) */
    uint64_t chains;          /* default 1000000 */
    uint64_t seed;            /* default 0 */
    double alpha;             /* default 1e-3: overall level after Holm */
    dlm_target_want target;   /* default AUTO */
    int threads;              /* CPU threads, 0 = all cores */
    int inject;               /* 1: sample with coin inject_coin at P(1) = 1/2 + inject_eps */
    uint32_t inject_coin;
    double inject_eps;
    uint64_t prefix;          /* chains compared bit for bit; default DLM_VERIFY_PREFIX */
    /* NULL, or called after every sampling batch with the chains done so far. */
    void (*progress)(void *ctx, uint64_t done, uint64_t total, double seconds);
    void *progress_ctx;
    /* NULL, or called while an enumerated or reference target is computed, with the
     * coin assignments or reference chains done (dlm_target_build_progress). */
    dlm_progress_fn target_progress;
    void *target_progress_ctx;
    /* NULL, or called while the circuit is compiled (dlm_compile_progress). */
    dlm_progress_fn compile_progress;
    void *compile_progress_ctx;
} dlm_verify_opts;

void dlm_verify_opts_default(dlm_verify_opts *o);

typedef struct {
    char name[40];   /* "hist-chi2", "hist-g", "bit[3]", "pair[3,7]" */
    double stat;
    double df;
    double p;        /* raw p-value */
    double p_holm;   /* Holm-adjusted over all tests of the run */
    int pass;        /* p_holm >= alpha */
} dlm_test_result;

typedef struct {
    char name[40];   /* "odd-parity", "impossible-cells", "bit-exact-prefix" */
    uint64_t checked;/* samples (or chains) it was checked over */
    uint64_t violations;
    int pass;
    char detail[160];/* first violation, when any */
} dlm_invariant;

typedef struct {
    dlm_mode mode;
    dlm_backend backend;       /* resolved */
    char backend_notice[256];  /* from dlm_backend_resolve; the CLI prints it once */
    int from_counts;           /* 1: checked counts read from a file (dlm_verify_check),
                                  sampled by any backend; JSON "backend" is "counts" */
    uint64_t chains, seed;
    double alpha;
    dlm_target_kind target_kind;
    char target_desc[160];
    uint64_t ref_seed, ref_chains;          /* reference targets only */
    int injected;
    uint32_t inject_coin;
    double inject_eps;
    uint32_t ninv;
    dlm_invariant inv[4];
    size_t ntests;
    dlm_test_result *tests;    /* owned */
    uint32_t dup_tests;        /* bit tests left out as copies of another (an output equal or
                                  complementary to an earlier one under the target) */
    double detect_sd;          /* the smallest standard deviation of a bit test's estimate */
    double detect_bias;        /* the smallest shift of one output's P(1) its bit test finds
                                  with 50 % power at this n and m (z(alpha/2m) x sd); NaN
                                  when no bit was tested */
    int have_tv;               /* full histogram available (nout <= 24) */
    double tv, tv_upper;       /* TV(empirical, target) and its 1 - alpha upper bound */
    double seconds_sample, seconds_target, seconds_tests;
    int pass;                  /* the verdict: every invariant and every test passed */
    dlm_counts counts;         /* the sampled counts (chains, odd_parity, ones, and hist
                                  when nout <= DLM_HIST_MAX_BITS), owned; filled when
                                  the checks ran (dlm_regress digests them) */
} dlm_verify_report;

/* Samples c (levelized as lv) with the chosen backend and checks it (docs/verify.md).
 * Returns DLM_OK when the checks ran, whatever the verdict (r->pass); DLM_EINPUT for
 * bad options or an impossible target (e.g. EXACT with > 30 coins and no analytic
 * law), DLM_ENOMEM/DLM_ECUDA/... when sampling failed. r owns memory: free it with
 * dlm_verify_report_free (also after an error). */
dlm_status dlm_verify_run(const dlm_circuit *c, const dlm_levels *lv, const dlm_verify_opts *o,
                          dlm_verify_report *r, dlm_err *err);
void dlm_verify_report_free(dlm_verify_report *r);

/* The same run in parts, for shards and MPI ranks (docs/scale-out.md): a sampler made
 * once, any chain ranges sampled into a verifier's tally (dlm_tally.h; written to a
 * count file and merged like run's), and the checks run on the tally of the whole
 * batch. dlm_verify_run is open + tally_init + sample(0, chains) + check, so any split
 * gives the same report (timings aside). */
typedef struct {
    dlm_backend backend;       /* resolved */
    char backend_notice[256];  /* from dlm_backend_resolve; the CLI prints it once */
    double seconds;            /* sampling time so far */
    /* the sampler's own */
    dlm_verify_opts o;
    dlm_circuit cs;            /* the sampled circuit: c, with the injected bias if any */
    uint64_t *thr;
    dlm_program p;
    int have_prog;
    dlm_slot_plan plan;
    dlm_jit_cache *jit;        /* the cuda backend's JIT kernels, kept for every part */
    dlm_pair *pairs, *sp;      /* dlm_verify_pairs, and the same as slots */
    uint32_t npairs, nslots, *slot_out;
    uint64_t *scratch, *outw;
} dlm_verify_sampler;

/* Compiles c for o (mode, backend, seed, threads, injection, prefix; o->chains is not
 * used). c and lv must outlive S. Sampling goes through the batch loop (dlm_batch_run)
 * with a sink that sees every chunk's packed samples (at most 64 MiB of them). */
dlm_status dlm_verify_sampler_open(const dlm_circuit *c, const dlm_levels *lv, const dlm_verify_opts *o,
                                   dlm_verify_sampler *S, dlm_err *err);
void dlm_verify_sampler_close(dlm_verify_sampler *S);
/* An empty verifier's tally for S (the hash of the sampled circuit, S's mode and seed,
 * the histogram when nout <= DLM_HIST_MAX_BITS, S's pairs), part of a batch of `batch`
 * chains. */
dlm_status dlm_verify_tally_init(const dlm_verify_sampler *S, uint64_t batch, dlm_tally *t, dlm_err *err);
/* Samples chains first .. first+count-1 into t: counts, pair counts, and the bit-exact
 * comparison of those below o->prefix. DLM_EINPUT if t already holds one of them. */
dlm_status dlm_verify_sample(dlm_verify_sampler *S, uint64_t first, uint64_t count, dlm_tally *t,
                             dlm_err *err);
/* The hash (dlm_circuit_hash) of the circuit the verifier samples for o: c, with o's
 * injected bias if any; what a verifier's tally records. DLM_EINPUT for a bad bias. */
dlm_status dlm_verify_sampled_hash(const dlm_circuit *c, const dlm_verify_opts *o, uint64_t *hash,
                                   dlm_err *err);
/* The checks of dlm_verify_run on the tally t (read from a count file, merged), which
 * must hold exactly chains 0..batch-1: DLM_EINPUT with one line for a run tally, a gap
 * in the batch, or another circuit (c with o's --inject-bias), mode or seed than o's.
 * o->chains is ignored (the tally's count is used); r->from_counts is set (a caller that
 * sampled the tally itself clears it and sets r->backend). */
dlm_status dlm_verify_check(const dlm_circuit *c, const dlm_verify_opts *o, const dlm_tally *t,
                            dlm_verify_report *r, dlm_err *err);

/* Writes r as `dlmsim verify --json` prints it (docs/report-format.md), one line ending
 * in '\n'; circuit is the name the user gave. Non-finite numbers are written as null,
 * strings as valid JSON (dlm_json_str). The CLI and the Python binding both call it. */
void dlm_verify_write_json(FILE *f, const char *circuit, const dlm_verify_report *r);

/* Parses the n bytes at s as K:EPS, a coin index and -1/2 < EPS < 1/2 (the coin's
 * P(1) = 1/2 + EPS), as --inject-bias and a suite's bias= field take it. Returns 0;
 * -1 when K or the colon is bad, -2 when EPS is missing, not a number or out of range
 * (k and eps untouched on failure). */
int dlm_bias_parse(const char *s, size_t n, uint32_t *k, double *eps);

/* Sets c->coin_thr so that coin k is 1 with probability 1/2 + eps (every other coin
 * fair): a testing aid for the power of the verifier. DLM_EINPUT if k >= ncoins or
 * 1/2 + eps is outside (0, 1). */
dlm_status dlm_verify_inject_bias(dlm_circuit *c, uint32_t k, double eps, dlm_err *err);

#ifdef __cplusplus
}
#endif
#endif
