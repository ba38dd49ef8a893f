/* targets.c — what the verifier compares a sample with (dlm_verify.h): the analytic
 * laws of the parity, adder and majority generators, bit-parallel enumeration of up to
 * 30 coins, the empirical reference from the direct evaluator, and the fixed
 * pseudo-random output pairs. Nothing here runs an engine. */
#include "dlm_eval.h"
#include "dlm_util.h"
#include "dlm_verify.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HIST_BITS DLM_HIST_MAX_BITS
#define PRIVATE_HIST_BITS 16 /* per-thread histograms up to 2^16 cells, atomics above */

const char *dlm_target_kind_name(dlm_target_kind k)
{
    switch (k) {
    case DLM_TKIND_ANALYTIC: return "analytic";
    case DLM_TKIND_ENUMERATION: return "enumeration";
    case DLM_TKIND_REFERENCE: return "reference";
    default: return "none";
    }
}

int dlm_target_want_parse(const char *s, dlm_target_want *w)
{
    if (!strcmp(s, "auto")) *w = DLM_TARGET_AUTO;
    else if (!strcmp(s, "exact")) *w = DLM_TARGET_EXACT;
    else if (!strcmp(s, "reference")) *w = DLM_TARGET_REFERENCE;
    else return -1;
    return 0;
}

// ---------------------------------------------------------------- pairs

dlm_status dlm_verify_pairs(uint32_t nout, dlm_pair **pairs, uint32_t *npairs, dlm_err *err)
{
    *pairs = NULL;
    *npairs = 0;
    if (nout < 2) return DLM_OK;
    uint64_t all = (uint64_t)nout * (nout - 1) / 2;
    uint32_t n = all <= DLM_VERIFY_MAX_PAIRS ? (uint32_t)all : DLM_VERIFY_MAX_PAIRS;
    dlm_pair *p = dlm_malloc(n, sizeof *p);
    if (!p) return dlm_fail(err, DLM_ENOMEM, "out of memory for the pair list");
    uint32_t m = 0;
    if (all <= DLM_VERIFY_MAX_PAIRS) {
        for (uint32_t i = 0; i < nout; i++)
            for (uint32_t j = i + 1; j < nout; j++) p[m++] = (dlm_pair){i, j};
    } else {
        /* Adjacent pairs first (carries, neighbouring bits), then a fixed pseudo-random
         * sample over all pairs; duplicates are rejected (at most 512^2/2 compares). */
        uint32_t adj = nout - 1 < DLM_VERIFY_MAX_PAIRS / 2 ? nout - 1 : DLM_VERIFY_MAX_PAIRS / 2;
        for (uint32_t k = 0; k < adj; k++) p[m++] = (dlm_pair){k, k + 1};
        uint64_t st = UINT64_C(0x6a09e667f3bcc909);
        while (m < n) {
            uint32_t a = (uint32_t)(dlm_splitmix64(&st) % nout), b = (uint32_t)(dlm_splitmix64(&st) % nout);
            if (a == b) continue;
            dlm_pair q = a < b ? (dlm_pair){a, b} : (dlm_pair){b, a};
            int dup = 0;
            for (uint32_t k = 0; k < m && !dup; k++) dup = p[k].i == q.i && p[k].j == q.j;
            if (!dup) p[m++] = q;
        }
    }
    *pairs = p;
    *npairs = m;
    return DLM_OK;
}

// ---------------------------------------------------------------- targets: shared

void dlm_target_free(dlm_target *t)
{
    if (!t) return;
    free(t->hist);
    free(t->p1);
    free(t->hist_count);
    free(t->ones);
    free(t->pairs);
    free(t->p11);
    free(t->n11);
    memset(t, 0, sizeof *t);
}

/* Allocates the per-output and per-pair arrays (and the histogram when asked). */
static dlm_status target_alloc(dlm_target *t, dlm_target_kind kind, const dlm_circuit *c,
                               int want_prob_hist, int want_count_hist, dlm_err *err)
{
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->nout = c->nout;
    t->ncoins = c->ncoins;
    dlm_status s = dlm_verify_pairs(c->nout, &t->pairs, &t->npairs, err);
    if (s) return s;
    size_t no = c->nout ? c->nout : 1, np = t->npairs ? t->npairs : 1;
    t->p1 = dlm_calloc(no, sizeof *t->p1);
    t->ones = dlm_calloc(no, sizeof *t->ones);
    t->p11 = dlm_calloc(np, sizeof *t->p11);
    t->n11 = dlm_calloc(np, sizeof *t->n11);
    int bad = !t->p1 || !t->ones || !t->p11 || !t->n11;
    if (!bad && want_prob_hist) bad = !(t->hist = dlm_calloc((size_t)1 << c->nout, sizeof *t->hist));
    if (!bad && want_count_hist)
        bad = !(t->hist_count = dlm_calloc((size_t)1 << c->nout, sizeof *t->hist_count));
    if (bad) {
        dlm_target_free(t);
        return dlm_fail(err, DLM_ENOMEM, "out of memory for the target of %u outputs", c->nout);
    }
    return DLM_OK;
}

// ---------------------------------------------------------------- analytic laws

typedef enum { LAW_NONE = 0, LAW_PARITY, LAW_ADDER, LAW_MAJ } law_kind;

/* Parses "gen:NAME:N" exactly (N decimal, nothing after it). */
static int spec_n(const char *src, const char *name, uint32_t *n)
{
    size_t k = strlen(name);
    if (!src || strncmp(src, "gen:", 4) || strncmp(src + 4, name, k) || src[4 + k] != ':') return 0;
    const char *d = src + 5 + k;
    if (!*d) return 0;
    uint64_t v = 0;
    for (; *d; d++) {
        if (*d < '0' || *d > '9') return 0;
        v = v * 10 + (uint64_t)(*d - '0');
        if (v > DLM_MAX_OUTPUTS) return 0;
    }
    *n = (uint32_t)v;
    return 1;
}

/* Which law c->source names, with the shape check (coins and outputs as documented in
 * dlm_gen.h), so that a mislabelled circuit is never checked against a wrong law. */
static law_kind law_of(const dlm_circuit *c, uint32_t *n)
{
    static const char *const parity[] = {"parity-tree", "parity-chain", "parity-revise"};
    for (int i = 0; i < 3; i++)
        if (spec_n(c->source, parity[i], n))
            return *n >= 2 && c->nout == *n && c->ncoins == *n - 1 ? LAW_PARITY : LAW_NONE;
    if (spec_n(c->source, "adder-ripple", n) || spec_n(c->source, "adder-prefix", n))
        return *n >= 1 && *n <= 1000000 && c->nout == *n + 1 && c->ncoins == 2 * *n ? LAW_ADDER
                                                                                   : LAW_NONE;
    if (spec_n(c->source, "maj", n))
        return (*n & 1) && c->nout == 1 && c->ncoins == *n ? LAW_MAJ : LAW_NONE;
    return LAW_NONE;
}

int dlm_target_has_analytic(const dlm_circuit *c)
{
    uint32_t n;
    return law_of(c, &n) != LAW_NONE;
}

/* P(s_i = 1 and s_j = 1) for s = a + b, a and b uniform N-bit numbers (i = j for a
 * single bit), by a DP over the carry: state (carry, recorded s_i, recorded s_j).
 * All probabilities are multiples of 4^-N, so the result is exact for N <= 26. */
static double adder_p11(uint32_t N, uint32_t i, uint32_t j)
{
    double pr[2][2][2] = {{{0}}}, nx[2][2][2];
    pr[0][0][0] = 1.0;
    for (uint32_t k = 0; k < N; k++) {
        memset(nx, 0, sizeof nx);
        for (int cy = 0; cy < 2; cy++)
            for (int bi = 0; bi < 2; bi++)
                for (int bj = 0; bj < 2; bj++) {
                    double q = pr[cy][bi][bj];
                    if (q == 0) continue;
                    for (int a = 0; a < 2; a++)
                        for (int b = 0; b < 2; b++) {
                            int s = a ^ b ^ cy, c2 = (a & b) | (a & cy) | (b & cy);
                            int ni = k == i ? s : bi, nj = k == j ? s : bj;
                            nx[c2][ni][nj] += 0.25 * q;
                        }
                }
        memcpy(pr, nx, sizeof pr);
    }
    double r = 0;
    for (int cy = 0; cy < 2; cy++)
        for (int bi = 0; bi < 2; bi++)
            for (int bj = 0; bj < 2; bj++) {
                int vi = i == N ? cy : bi, vj = j == N ? cy : bj;
                if (vi && vj) r += pr[cy][bi][bj];
            }
    return r;
}

/* P(the N+1 sum bits XOR to 1): DP over (carry, running parity). */
static double adder_p_odd(uint32_t N)
{
    double pr[2][2] = {{1.0, 0}, {0, 0}}, nx[2][2];
    for (uint32_t k = 0; k < N; k++) {
        memset(nx, 0, sizeof nx);
        for (int cy = 0; cy < 2; cy++)
            for (int par = 0; par < 2; par++)
                for (int a = 0; a < 2; a++)
                    for (int b = 0; b < 2; b++) {
                        int s = a ^ b ^ cy, c2 = (a & b) | (a & cy) | (b & cy);
                        nx[c2][par ^ s] += 0.25 * pr[cy][par];
                    }
        memcpy(pr, nx, sizeof pr);
    }
    return pr[0][1] + pr[1][0]; /* parity of s_0..s_{N-1} XOR s_N (= carry) */
}

dlm_status dlm_target_analytic(const dlm_circuit *c, dlm_target *t, dlm_err *err)
{
    uint32_t N;
    law_kind law = law_of(c, &N);
    if (law == LAW_NONE) {
        memset(t, 0, sizeof *t);
        return dlm_fail(err, DLM_EINPUT, "%s: no analytic law is known for this circuit",
                        c->source ? c->source : "(circuit)");
    }
    int hist = c->nout <= HIST_BITS;
    dlm_status s = target_alloc(t, DLM_TKIND_ANALYTIC, c, hist, 0, err);
    if (s) return s;
    switch (law) {
    case LAW_PARITY:
        snprintf(t->desc, sizeof t->desc, "uniform over even-parity %u-bit strings", N);
        if (hist) {
            double q = ldexp(1.0, -(int)(N - 1));
            for (uint64_t x = 0; x < (UINT64_C(1) << N); x++)
                t->hist[x] = __builtin_parityll(x) ? 0.0 : q;
        }
        for (uint32_t k = 0; k < N; k++) t->p1[k] = 0.5;
        /* Any two bits of a uniform even-parity string of N >= 3 bits are independent
         * and fair; for N = 2 the two bits are equal. */
        for (uint32_t k = 0; k < t->npairs; k++) t->p11[k] = N >= 3 ? 0.25 : 0.5;
        t->p_odd = 0.0;
        break;
    case LAW_ADDER:
        snprintf(t->desc, sizeof t->desc, "sum of two independent uniform %u-bit numbers", N);
        if (hist)
            for (uint64_t x = 0; x < (UINT64_C(1) << (N + 1)); x++) {
                /* #{(a, b) : a + b = x} = x + 1 below 2^N, 2^(N+1) - 1 - x from 2^N on */
                uint64_t ways = x < (UINT64_C(1) << N) ? x + 1 : (UINT64_C(2) << N) - 1 - x;
                t->hist[x] = ldexp((double)ways, -2 * (int)N);
            }
        for (uint32_t k = 0; k <= N; k++) t->p1[k] = adder_p11(N, k, k);
        for (uint32_t k = 0; k < t->npairs; k++) t->p11[k] = adder_p11(N, t->pairs[k].i, t->pairs[k].j);
        t->p_odd = adder_p_odd(N);
        break;
    default: /* LAW_MAJ, N odd: the majority is 1 exactly when the minority is 0 */
        snprintf(t->desc, sizeof t->desc, "majority of %u fair coins (P(1) = 1/2)", N);
        t->hist[0] = t->hist[1] = 0.5;
        t->p1[0] = 0.5;
        t->p_odd = 0.5;
        break;
    }
    return DLM_OK;
}

// ---------------------------------------------------------------- enumeration and reference

/* Lane pattern of coin k < 6 within a block: bit i of the word = bit k of i. */
static const uint64_t lane_pattern[6] = {
    UINT64_C(0xAAAAAAAAAAAAAAAA), UINT64_C(0xCCCCCCCCCCCCCCCC), UINT64_C(0xF0F0F0F0F0F0F0F0),
    UINT64_C(0xFF00FF00FF00FF00), UINT64_C(0xFFFF0000FFFF0000), UINT64_C(0xFFFFFFFF00000000)};

/* Evaluates chains (or assignments) 0..n-1 of c 64 at a time and counts ones, pair 11s,
 * odd parity and (t->hist_count) the histogram into t. enumerate: coin words are the
 * assignment patterns (assignment index = chain); else coins come from dlm_coin under
 * seed with c's thresholds. Per-thread integer counts, merged under a critical section,
 * so the counts do not depend on the number of threads. */
typedef struct {
    dlm_progress_fn fn; /* NULL: none */
    void *ctx;
} scan_progress;

static dlm_status scan_blocks(const dlm_circuit *c, int enumerate, uint64_t seed, uint64_t n,
                              int threads, const scan_progress *pg, dlm_target *t, dlm_err *err)
{
    const double t0 = dlm_now();
    uint64_t done = 0; /* lanes evaluated, added by each thread every 64 of its blocks */
    uint64_t nblocks = (n + 63) / 64;
    int nt = dlm_threads_of(threads);
    uint32_t nout = c->nout, npairs = t->npairs;
    int private_hist = t->hist_count && nout <= PRIVATE_HIST_BITS;
    volatile int failed = 0;

#pragma omp parallel num_threads(nt)
    {
        uint64_t *scratch = dlm_malloc(c->nnodes ? c->nnodes : 1, sizeof *scratch);
        uint64_t *outw = dlm_malloc(nout ? nout : 1, sizeof *outw);
        uint64_t *cw = enumerate ? dlm_malloc(c->ncoins ? c->ncoins : 1, sizeof *cw) : NULL;
        uint64_t *ones = dlm_calloc(nout ? nout : 1, sizeof *ones);
        uint64_t *n11 = dlm_calloc(npairs ? npairs : 1, sizeof *n11);
        uint64_t *hist = private_hist ? dlm_calloc((size_t)1 << nout, sizeof *hist) : NULL;
        uint64_t odd = 0, pend = 0, nb = 0;
        const int reporter = pg->fn && omp_get_thread_num() == 0; /* the calling thread */
        if (!scratch || !outw || (enumerate && !cw) || !ones || !n11 || (private_hist && !hist))
            failed = 1;
#pragma omp for schedule(dynamic, 64)
        for (uint64_t b = 0; b < nblocks; b++) {
            if (failed) continue;
            uint64_t lanes = n - 64 * b < 64 ? n - 64 * b : 64;
            uint64_t mask = lanes == 64 ? ~UINT64_C(0) : (UINT64_C(1) << lanes) - 1;
            if (enumerate)
                for (uint32_t k = 0; k < c->ncoins; k++)
                    cw[k] = k < 6 ? lane_pattern[k] : ((b >> (k - 6)) & 1) ? ~UINT64_C(0) : 0;
            dlm_eval_words(c, seed, 64 * b, cw, scratch, outw);
            uint64_t par = 0;
            for (uint32_t k = 0; k < nout; k++) {
                outw[k] &= mask;
                ones[k] += (uint64_t)__builtin_popcountll(outw[k]);
                par ^= outw[k];
            }
            odd += (uint64_t)__builtin_popcountll(par);
            for (uint32_t q = 0; q < npairs; q++)
                n11[q] += (uint64_t)__builtin_popcountll(outw[t->pairs[q].i] & outw[t->pairs[q].j]);
            if (t->hist_count) {
                uint32_t idx[64] = {0};
                for (uint32_t k = 0; k < nout; k++)
                    for (unsigned i = 0; i < 64; i++) idx[i] |= (uint32_t)((outw[k] >> i) & 1u) << k;
                for (unsigned i = 0; i < lanes; i++) {
                    if (hist) hist[idx[i]]++;
                    else {
#pragma omp atomic
                        t->hist_count[idx[i]]++;
                    }
                }
            }
            pend += lanes;
            if (pg->fn && ++nb % 64 == 0) {
                uint64_t now;
#pragma omp atomic capture
                now = done += pend;
                pend = 0;
                if (reporter) pg->fn(pg->ctx, now, n, dlm_now() - t0);
            }
        }
#pragma omp critical
        {
            if (!failed) {
                for (uint32_t k = 0; k < nout; k++) t->ones[k] += ones[k];
                for (uint32_t q = 0; q < npairs; q++) t->n11[q] += n11[q];
                t->odd += odd;
                if (hist)
                    for (size_t i = 0; i < ((size_t)1 << nout); i++) t->hist_count[i] += hist[i];
            }
        }
        free(scratch);
        free(outw);
        free(cw);
        free(ones);
        free(n11);
        free(hist);
    }
    if (failed) return dlm_fail(err, DLM_ENOMEM, "out of memory for per-thread counts");
    t->total = n;
    if (pg->fn) pg->fn(pg->ctx, n, n, dlm_now() - t0);
    return DLM_OK;
}

static dlm_status target_enumerate(const dlm_circuit *c, int threads, const scan_progress *pg, dlm_target *t,
                                   dlm_err *err);
static dlm_status target_reference(const dlm_circuit *c, uint64_t ref_seed, uint64_t chains, int threads,
                                   const scan_progress *pg, dlm_target *t, dlm_err *err);
static const scan_progress no_progress = {NULL, NULL};

dlm_status dlm_target_enumerate(const dlm_circuit *c, int threads, dlm_target *t, dlm_err *err)
{
    return target_enumerate(c, threads, &no_progress, t, err);
}

dlm_status dlm_target_reference(const dlm_circuit *c, uint64_t ref_seed, uint64_t chains,
                                int threads, dlm_target *t, dlm_err *err)
{
    return target_reference(c, ref_seed, chains, threads, &no_progress, t, err);
}

static dlm_status target_enumerate(const dlm_circuit *c, int threads, const scan_progress *pg, dlm_target *t,
                                   dlm_err *err)
{
    memset(t, 0, sizeof *t);
    if (c->ncoins > DLM_VERIFY_ENUM_MAX_COINS)
        return dlm_fail(err, DLM_EINPUT,
                        "%s: %u coins are too many to enumerate (at most %d); no exact target",
                        c->source ? c->source : "(circuit)", c->ncoins, DLM_VERIFY_ENUM_MAX_COINS);
    int hist = c->nout <= HIST_BITS;
    dlm_status s = target_alloc(t, DLM_TKIND_ENUMERATION, c, hist, hist, err);
    if (s) return s;
    snprintf(t->desc, sizeof t->desc, "enumeration of all 2^%u coin assignments", c->ncoins);
    /* Enumeration supplies the coin words itself, so c->coin_thr plays no part: the
     * target is the law with fair coins, every assignment weighing 2^-ncoins. */
    uint64_t n = UINT64_C(1) << c->ncoins;
    if ((s = scan_blocks(c, 1, 0, n, threads, pg, t, err))) {
        dlm_target_free(t);
        return s;
    }
    int e = -(int)c->ncoins; /* count / 2^ncoins is exact in a double (count < 2^53) */
    for (uint32_t k = 0; k < c->nout; k++) t->p1[k] = ldexp((double)t->ones[k], e);
    for (uint32_t q = 0; q < t->npairs; q++) t->p11[q] = ldexp((double)t->n11[q], e);
    t->p_odd = ldexp((double)t->odd, e);
    if (hist)
        for (size_t i = 0; i < ((size_t)1 << c->nout); i++) t->hist[i] = ldexp((double)t->hist_count[i], e);
    return DLM_OK;
}

static dlm_status target_reference(const dlm_circuit *c, uint64_t ref_seed, uint64_t chains, int threads,
                                   const scan_progress *pg, dlm_target *t, dlm_err *err)
{
    memset(t, 0, sizeof *t);
    if (chains == 0) return dlm_fail(err, DLM_EINPUT, "the reference needs at least one chain");
    int hist = c->nout <= HIST_BITS;
    dlm_status s = target_alloc(t, DLM_TKIND_REFERENCE, c, 0, hist, err);
    if (s) return s;
    snprintf(t->desc, sizeof t->desc, "direct evaluation, %llu chains under seed %#llx",
             (unsigned long long)chains, (unsigned long long)ref_seed);
    t->ref_seed = ref_seed;
    dlm_circuit fair = *c; /* shallow copy: only the thresholds differ, nothing is freed */
    fair.coin_thr = NULL;
    if ((s = scan_blocks(&fair, 0, ref_seed, chains, threads, pg, t, err))) {
        dlm_target_free(t);
        return s;
    }
    for (uint32_t k = 0; k < c->nout; k++) t->p1[k] = (double)t->ones[k] / (double)chains;
    for (uint32_t q = 0; q < t->npairs; q++) t->p11[q] = (double)t->n11[q] / (double)chains;
    t->p_odd = (double)t->odd / (double)chains;
    return DLM_OK;
}

dlm_status dlm_target_build(const dlm_circuit *c, dlm_target_want want, uint64_t seed,
                            uint64_t chains, int threads, dlm_target *t, dlm_err *err)
{
    return dlm_target_build_progress(c, want, seed, chains, threads, NULL, NULL, t, err);
}

dlm_status dlm_target_build_progress(const dlm_circuit *c, dlm_target_want want, uint64_t seed, uint64_t chains,
                                     int threads, dlm_progress_fn progress, void *ctx, dlm_target *t,
                                     dlm_err *err)
{
    const scan_progress pg = {progress, ctx};
    memset(t, 0, sizeof *t);
    if (want != DLM_TARGET_REFERENCE) {
        if (dlm_target_has_analytic(c)) return dlm_target_analytic(c, t, err);
        if (c->ncoins <= DLM_VERIFY_ENUM_MAX_COINS) return target_enumerate(c, threads, &pg, t, err);
        if (want == DLM_TARGET_EXACT)
            return dlm_fail(err, DLM_EINPUT,
                            "%s: no exact target: %u coins exceed the enumeration limit of %d "
                            "and no analytic law is known (use --target reference or auto)",
                            c->source ? c->source : "(circuit)", c->ncoins,
                            DLM_VERIFY_ENUM_MAX_COINS);
    }
    return target_reference(c, seed ^ DLM_VERIFY_REF_XOR, chains, threads, &pg, t, err);
}
