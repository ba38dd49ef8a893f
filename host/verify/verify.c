/* verify.c — the verifier (dlm_verify.h): exact targets (analytic laws, bit-parallel
 * enumeration), the empirical reference, and dlm_verify_run, which samples a circuit
 * with an engine and runs the hard invariants, the bit-exact prefix check and the
 * statistical tests with Holm's correction.
 *
 * What this file is not: a printer (host/cli/verify.c prints the text report,
 * host/verify/report.c the JSON), an engine (it calls dlm_engine_run), nor a
 * statistics library (host/verify/stats.c wraps GSL). Everything it counts is a
 * 64-bit integer; floating point appears only in probabilities and test statistics.
 * docs/verify.md is the prose companion of this file.
 */
#include "dlm_verify.h"
#include "dlm_util.h"
#include "dlm_eval.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HIST_BITS DLM_HIST_MAX_BITS
#define PRIVATE_HIST_BITS 16 /* per-thread histograms up to 2^16 cells, atomics above */
#define SAMPLE_BATCH (UINT64_C(1) << 20)
#define SAMPLE_BATCH_BYTES (UINT64_C(64) << 20)

static int nthreads_of(int threads)
{
    return threads > 0 ? threads : omp_get_max_threads();
}

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
static dlm_status scan_blocks(const dlm_circuit *c, int enumerate, uint64_t seed, uint64_t n,
                              int threads, dlm_target *t, dlm_err *err)
{
    uint64_t nblocks = (n + 63) / 64;
    int nt = nthreads_of(threads);
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
        uint64_t odd = 0;
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
    return DLM_OK;
}

dlm_status dlm_target_enumerate(const dlm_circuit *c, int threads, dlm_target *t, dlm_err *err)
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
    if ((s = scan_blocks(c, 1, 0, n, threads, t, err))) {
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

dlm_status dlm_target_reference(const dlm_circuit *c, uint64_t ref_seed, uint64_t chains,
                                int threads, dlm_target *t, dlm_err *err)
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
    if ((s = scan_blocks(&fair, 0, ref_seed, chains, threads, t, err))) {
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
    memset(t, 0, sizeof *t);
    if (want != DLM_TARGET_REFERENCE) {
        if (dlm_target_has_analytic(c)) return dlm_target_analytic(c, t, err);
        if (c->ncoins <= DLM_VERIFY_ENUM_MAX_COINS) return dlm_target_enumerate(c, threads, t, err);
        if (want == DLM_TARGET_EXACT)
            return dlm_fail(err, DLM_EINPUT,
                            "%s: no exact target: %u coins exceed the enumeration limit of %d "
                            "and no analytic law is known (use --target reference or auto)",
                            c->source ? c->source : "(circuit)", c->ncoins,
                            DLM_VERIFY_ENUM_MAX_COINS);
    }
    return dlm_target_reference(c, seed ^ DLM_VERIFY_REF_XOR, chains, threads, t, err);
}

// ---------------------------------------------------------------- contingency accumulators

/* Cells carry `rows` observed and expected counts: rows = 1 is goodness of fit
 * (E = n p), rows = 2 two-sample homogeneity (E_r = N_r * column total / (N_1 + N_2)).
 *
 * Pearson (acc): a cell whose smallest expected count is below DLM_VERIFY_MIN_EXPECTED
 * goes into one pooled cell; if the pooled cell is itself still small it is merged into
 * the smallest regular cell. df = cells - 1. Pearson's statistic has mean exactly df
 * under the null whatever the expected counts, so this suffices.
 *
 * G (gacc): G is biased upwards when expected counts are small (measured: 4.4 standard
 * deviations over 32768 cells of expected count 6), so cells are grouped in index
 * order into groups of expected count >= t_g (the last, short group joins the one
 * before), t_g = max(20, 2 m^(1/4)) for m cells, and G is divided by Williams'
 * correction q = 1 + (n sum_c 1/E_c - 1) / (6 n (k - 1)) (goodness of fit) or
 * q = 1 + (N sum_r 1/N_r - 1)(N sum_c 1/C_c - 1) / (6 N (k - 1)) (two samples). */
typedef struct {
    int rows;
    double chi2;
    uint64_t cells;
    double pE[2];
    uint64_t pO[2];
    int pooled;
    double mE[2];       /* the regular cell with the smallest expected count */
    uint64_t mO[2];
    int have_m;
} acc;

static double cell_chi2(int rows, const uint64_t *O, const double *E)
{
    double s = 0;
    for (int r = 0; r < rows; r++)
        if (E[r] > 0) s += ((double)O[r] - E[r]) * ((double)O[r] - E[r]) / E[r];
    return s;
}

static double cell_g(int rows, const uint64_t *O, const double *E)
{
    double s = 0;
    for (int r = 0; r < rows; r++)
        if (O[r] > 0 && E[r] > 0) s += 2.0 * (double)O[r] * log((double)O[r] / E[r]);
    return s;
}

static double cell_minE(int rows, const double *E)
{
    return rows == 1 || E[0] < E[1] ? E[0] : E[1];
}

static void acc_cell(acc *a, const uint64_t *O, const double *E)
{
    if (cell_minE(a->rows, E) < DLM_VERIFY_MIN_EXPECTED) {
        for (int r = 0; r < a->rows; r++) {
            a->pE[r] += E[r];
            a->pO[r] += O[r];
        }
        a->pooled = 1;
        return;
    }
    a->chi2 += cell_chi2(a->rows, O, E);
    a->cells++;
    if (!a->have_m || cell_minE(a->rows, E) < cell_minE(a->rows, a->mE)) {
        a->have_m = 1;
        for (int r = 0; r < a->rows; r++) { /* E and O hold `rows` entries only */
            a->mE[r] = E[r];
            a->mO[r] = O[r];
        }
    }
}

/* Closes the pooled cell; returns df (cells - 1, 0 if fewer than two cells). */
static double acc_finish(acc *a)
{
    if (a->pooled) {
        if (cell_minE(a->rows, a->pE) < DLM_VERIFY_MIN_EXPECTED && a->have_m) {
            a->chi2 -= cell_chi2(a->rows, a->mO, a->mE);
            for (int r = 0; r < a->rows; r++) {
                a->pE[r] += a->mE[r];
                a->pO[r] += a->mO[r];
            }
            a->cells--;
        }
        a->chi2 += cell_chi2(a->rows, a->pO, a->pE);
        a->cells++;
        a->pooled = 0;
    }
    if (a->chi2 < 0) a->chi2 = 0;
    return a->cells >= 2 ? (double)(a->cells - 1) : 0.0;
}

typedef struct {
    int rows;
    double tg;          /* group threshold on the smallest expected count */
    double g;
    uint64_t cells;
    double inv_sum;     /* sum over groups of 1/E (rows 1) or 1/C (rows 2) */
    double cE[2];       /* the open group */
    uint64_t cO[2];
    int open;
    double lE[2];       /* the last closed group */
    uint64_t lO[2];
} gacc;

static double g_threshold(uint64_t m)
{
    double t = 2.0 * pow((double)m, 0.25);
    return t > 20 ? t : 20;
}

static double group_inv(int rows, const uint64_t *O, const double *E)
{
    if (rows == 1) return E[0] > 0 ? 1.0 / E[0] : 0;
    uint64_t c = O[0] + O[1];
    return c ? 1.0 / (double)c : 0;
}

static void gacc_close(gacc *a, const uint64_t *O, const double *E, int sign)
{
    a->g += sign * cell_g(a->rows, O, E);
    a->inv_sum += sign * group_inv(a->rows, O, E);
    a->cells = (uint64_t)((int64_t)a->cells + sign);
}

static void gacc_cell(gacc *a, const uint64_t *O, const double *E)
{
    for (int r = 0; r < a->rows; r++) {
        a->cE[r] += E[r];
        a->cO[r] += O[r];
    }
    a->open = 1;
    if (cell_minE(a->rows, a->cE) < a->tg) return;
    gacc_close(a, a->cO, a->cE, +1);
    memcpy(a->lE, a->cE, sizeof a->lE);
    memcpy(a->lO, a->cO, sizeof a->lO);
    memset(a->cE, 0, sizeof a->cE);
    memset(a->cO, 0, sizeof a->cO);
    a->open = 0;
}

/* Closes the open group and returns df; *gw receives G / q (Williams). n: total count;
 * n1, n2: the two sample sizes (rows 2). */
static double gacc_finish(gacc *a, double n, double n1, double n2, double *gw)
{
    if (a->open) {
        if (a->cells > 0) { /* the short last group joins the one before */
            gacc_close(a, a->lO, a->lE, -1);
            for (int r = 0; r < a->rows; r++) {
                a->cE[r] += a->lE[r];
                a->cO[r] += a->lO[r];
            }
        }
        gacc_close(a, a->cO, a->cE, +1);
        a->open = 0;
    }
    if (a->cells < 2) {
        *gw = 0;
        return 0;
    }
    double k1 = (double)(a->cells - 1), q;
    if (a->rows == 1) q = 1.0 + (n * a->inv_sum - 1.0) / (6.0 * n * k1);
    else q = 1.0 + (n * (1.0 / n1 + 1.0 / n2) - 1.0) * (n * a->inv_sum - 1.0) / (6.0 * n * k1);
    *gw = a->g > 0 ? a->g / q : 0;
    return k1;
}

void dlm_stat_hist_gof(const double *p, const uint64_t *counts, uint64_t cells, dlm_gof *out)
{
    uint64_t n = 0, m = 0;
    for (uint64_t x = 0; x < cells; x++) {
        n += counts[x];
        m += p[x] > 0;
    }
    memset(out, 0, sizeof *out);
    acc a = {.rows = 1};
    gacc ga = {.rows = 1, .tg = g_threshold(m)};
    double l1 = 0;
    for (uint64_t x = 0; x < cells; x++) {
        double f = n ? (double)counts[x] / (double)n : 0;
        l1 += fabs(f - p[x]);
        if (p[x] == 0) {
            if (counts[x] && !out->impossible) out->first_impossible = x;
            out->impossible += counts[x];
            continue;
        }
        double E = (double)n * p[x];
        acc_cell(&a, &counts[x], &E);
        gacc_cell(&ga, &counts[x], &E);
    }
    out->df_chi2 = acc_finish(&a);
    out->chi2 = a.chi2;
    out->p_chi2 = out->df_chi2 > 0 ? dlm_stat_chisq_q(a.chi2, out->df_chi2) : 1.0;
    out->df_g = gacc_finish(&ga, (double)n, 0, 0, &out->g);
    out->p_g = out->df_g > 0 ? dlm_stat_chisq_q(out->g, out->df_g) : 1.0;
    out->tv = 0.5 * l1;
}

// ---------------------------------------------------------------- report building

typedef struct {
    dlm_test_result *v;
    size_t n, cap;
} test_list;

static dlm_status add_test(test_list *L, const char *name, double stat, double df, double p,
                           dlm_err *err)
{
    if (L->n == L->cap) {
        size_t cap = L->cap ? 2 * L->cap : 64;
        dlm_test_result *v = realloc(L->v, cap * sizeof *v);
        if (!v) return dlm_fail(err, DLM_ENOMEM, "out of memory for the test list");
        L->v = v;
        L->cap = cap;
    }
    dlm_test_result *t = &L->v[L->n++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->stat = stat;
    t->df = df;
    t->p = p;
    return DLM_OK;
}

static dlm_invariant *add_inv(dlm_verify_report *r, const char *name)
{
    dlm_invariant *v = &r->inv[r->ninv++];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    v->pass = 1;
    return v;
}

static void impossible(dlm_invariant *v, uint64_t count, const char *what)
{
    if (!count) return;
    if (!v->violations) snprintf(v->detail, sizeof v->detail, "%s", what);
    v->violations += count;
    v->pass = 0;
}

/* The sampled side: what the engine counted plus the pair counts verify_run adds. */
typedef struct {
    const dlm_counts *k;
    const uint64_t *n11;
} sampled;

/* The 2x2 table of a pair as counts (00, 01, 10, 11; bit 0 of the index = output j). */
static void pair_table(uint64_t n, uint64_t oi, uint64_t oj, uint64_t n11, uint64_t O[4])
{
    O[3] = n11;
    O[2] = oi - n11;       /* i = 1, j = 0 */
    O[1] = oj - n11;       /* i = 0, j = 1 */
    O[0] = n - oi - oj + n11;
}

static dlm_status tests_exact(const dlm_target *t, const sampled *S, dlm_verify_report *r,
                              test_list *L, dlm_err *err)
{
    const dlm_counts *k = S->k;
    uint64_t n = k->chains;
    char name[40], what[160];
    dlm_status s;
    dlm_invariant *imp = add_inv(r, "impossible-values");
    imp->checked = n;
    if (t->p_odd == 0.0 || t->p_odd == 1.0) {
        dlm_invariant *v = add_inv(r, "odd-parity");
        v->checked = n;
        v->violations = t->p_odd == 0.0 ? k->odd_parity : n - k->odd_parity;
        v->pass = v->violations == 0;
        if (!v->pass)
            snprintf(v->detail, sizeof v->detail, "%llu samples with %s output parity, which has probability 0",
                     (unsigned long long)v->violations, t->p_odd == 0.0 ? "odd" : "even");
    }
    /* Full histogram: goodness of fit and the TV distance. */
    if (t->hist && k->hist) {
        uint64_t cells = UINT64_C(1) << t->nout;
        dlm_gof g;
        dlm_stat_hist_gof(t->hist, k->hist, cells, &g);
        if (g.impossible) {
            snprintf(what, sizeof what, "output value %#llx (probability 0) sampled %llu times",
                     (unsigned long long)g.first_impossible, (unsigned long long)k->hist[g.first_impossible]);
            impossible(imp, g.impossible, what);
        }
        if (g.df_chi2 > 0 && (s = add_test(L, "hist-chi2", g.chi2, g.df_chi2, g.p_chi2, err))) return s;
        if (g.df_g > 0 && (s = add_test(L, "hist-g", g.g, g.df_g, g.p_g, err))) return s;
        /* Weissman et al. (2003): P(||P_n - P||_1 >= e) <= (2^m - 2) exp(-n e^2 / 2)
         * over m = 2^nout cells, so with probability >= 1 - alpha
         * TV <= sqrt((m ln 2 + ln(1/alpha)) / (2 n)). */
        r->have_tv = 1;
        r->tv = g.tv;
        double eps = sqrt(((double)cells * log(2.0) + log(1.0 / r->alpha)) / (2.0 * (double)n));
        r->tv_upper = r->tv + eps > 1 ? 1 : r->tv + eps;
    }
    /* Per-bit marginals: exact binomial (z-test for n > 2^20). */
    for (uint32_t b = 0; b < t->nout; b++) {
        double p = t->p1[b];
        uint64_t o = k->ones[b];
        if (p == 0.0 || p == 1.0) {
            uint64_t bad = p == 0.0 ? o : n - o;
            snprintf(what, sizeof what, "output %u is constant %d in the target but sampled %d %llu times",
                     b, p == 1.0, p == 0.0, (unsigned long long)bad);
            impossible(imp, bad, what);
            continue;
        }
        double z = ((double)o - (double)n * p) / sqrt((double)n * p * (1 - p));
        snprintf(name, sizeof name, "bit[%u]", b);
        if ((s = add_test(L, name, z, 0, dlm_stat_binom_p2(o, n, p), err))) return s;
    }
    /* Pairs: 2x2 goodness of fit against the exact pair law. */
    for (uint32_t q = 0; q < t->npairs; q++) {
        uint32_t i = t->pairs[q].i, j = t->pairs[q].j;
        double pi = t->p1[i], pj = t->p1[j], p11 = t->p11[q];
        double P[4] = {1 - pi - pj + p11, pj - p11, pi - p11, p11};
        uint64_t O[4];
        pair_table(n, k->ones[i], k->ones[j], S->n11[q], O);
        acc a = {.rows = 1};
        for (int c = 0; c < 4; c++) {
            if (P[c] < 1e-15) { /* exactly 0 up to the rounding of 1 - pi - pj + p11 */
                snprintf(what, sizeof what, "outputs (%u, %u) = (%d, %d) has probability 0 but was sampled %llu times",
                         i, j, c >> 1, c & 1, (unsigned long long)O[c]);
                impossible(imp, O[c], what);
                continue;
            }
            double E = (double)n * P[c];
            acc_cell(&a, &O[c], &E);
        }
        double df = acc_finish(&a);
        if (df <= 0) continue;
        snprintf(name, sizeof name, "pair[%u,%u]", i, j);
        if ((s = add_test(L, name, a.chi2, df, dlm_stat_chisq_q(a.chi2, df), err))) return s;
    }
    return DLM_OK;
}

/* Two-sample homogeneity over columns given as (sample count, reference count). */
static void acc_col2(acc *a, gacc *ga, uint64_t x, uint64_t y, uint64_t n1, uint64_t n2)
{
    if (x + y == 0) return;
    double tot = (double)n1 + (double)n2;
    uint64_t O[2] = {x, y};
    double E[2] = {(double)n1 * (double)(x + y) / tot, (double)n2 * (double)(x + y) / tot};
    acc_cell(a, O, E);
    if (ga) gacc_cell(ga, O, E);
}

static dlm_status tests_reference(const dlm_target *t, const sampled *S, dlm_verify_report *r,
                                  test_list *L, dlm_err *err)
{
    const dlm_counts *k = S->k;
    uint64_t n1 = k->chains, n2 = t->total;
    char name[40];
    dlm_status s;
    if (t->hist_count && k->hist) {
        uint64_t cells = UINT64_C(1) << t->nout, m = 0;
        for (uint64_t x = 0; x < cells; x++) m += (k->hist[x] | t->hist_count[x]) != 0;
        acc a = {.rows = 2};
        gacc ga = {.rows = 2, .tg = g_threshold(m)};
        double l1 = 0;
        for (uint64_t x = 0; x < cells; x++) {
            l1 += fabs((double)k->hist[x] / (double)n1 - (double)t->hist_count[x] / (double)n2);
            acc_col2(&a, &ga, k->hist[x], t->hist_count[x], n1, n2);
        }
        double df = acc_finish(&a), gw;
        double dfg = gacc_finish(&ga, (double)n1 + (double)n2, (double)n1, (double)n2, &gw);
        if (df > 0 && (s = add_test(L, "hist-chi2", a.chi2, df, dlm_stat_chisq_q(a.chi2, df), err))) return s;
        if (dfg > 0 && (s = add_test(L, "hist-g", gw, dfg, dlm_stat_chisq_q(gw, dfg), err))) return s;
        /* Both histograms are empirical: each is within the Weissman radius of its law
         * with probability 1 - alpha/2. */
        double base = (double)cells * log(2.0) + log(2.0 / r->alpha);
        double eps = sqrt(base / (2.0 * (double)n1)) + sqrt(base / (2.0 * (double)n2));
        r->have_tv = 1;
        r->tv = 0.5 * l1;
        r->tv_upper = r->tv + eps > 1 ? 1 : r->tv + eps;
    }
    for (uint32_t b = 0; b < t->nout; b++) {
        acc a = {.rows = 2};
        acc_col2(&a, NULL, k->ones[b], t->ones[b], n1, n2);
        acc_col2(&a, NULL, n1 - k->ones[b], n2 - t->ones[b], n1, n2);
        double df = acc_finish(&a);
        if (df <= 0) continue;
        snprintf(name, sizeof name, "bit[%u]", b);
        if ((s = add_test(L, name, a.chi2, df, dlm_stat_chisq_q(a.chi2, df), err))) return s;
    }
    for (uint32_t q = 0; q < t->npairs; q++) {
        uint32_t i = t->pairs[q].i, j = t->pairs[q].j;
        uint64_t O1[4], O2[4];
        pair_table(n1, k->ones[i], k->ones[j], S->n11[q], O1);
        pair_table(n2, t->ones[i], t->ones[j], t->n11[q], O2);
        acc a = {.rows = 2};
        for (int c = 0; c < 4; c++) acc_col2(&a, NULL, O1[c], O2[c], n1, n2);
        double df = acc_finish(&a);
        if (df <= 0) continue;
        snprintf(name, sizeof name, "pair[%u,%u]", i, j);
        if ((s = add_test(L, name, a.chi2, df, dlm_stat_chisq_q(a.chi2, df), err))) return s;
    }
    return DLM_OK;
}

// ---------------------------------------------------------------- sampling

/* Adds the 11 counts of every pair over `chains` packed samples. The outputs that occur
 * in pairs are transposed into one word per output per 64 chains (bit i = chain i), so
 * a pair costs one AND and one popcount per 64 chains. */
static dlm_status count_pairs(const dlm_target *t, const uint8_t *smp, size_t sb, uint64_t chains,
                              const uint32_t *slot_out, uint32_t nslots, const dlm_pair *sp,
                              int threads, uint64_t *n11, dlm_err *err)
{
    if (!t->npairs) return DLM_OK;
    uint64_t nblocks = (chains + 63) / 64;
    volatile int failed = 0;
#pragma omp parallel num_threads(nthreads_of(threads))
    {
        uint64_t *w = dlm_malloc(nslots, sizeof *w);
        uint64_t *loc = dlm_calloc(t->npairs, sizeof *loc);
        if (!w || !loc) failed = 1;
#pragma omp for schedule(dynamic, 16)
        for (uint64_t b = 0; b < nblocks; b++) {
            if (failed) continue;
            uint64_t lanes = chains - 64 * b < 64 ? chains - 64 * b : 64;
            for (uint32_t s = 0; s < nslots; s++) {
                uint32_t o = slot_out[s];
                const uint8_t *base = smp + 64 * b * sb + (o >> 3);
                uint64_t v = 0;
                for (uint64_t i = 0; i < lanes; i++) v |= (uint64_t)((base[i * sb] >> (o & 7)) & 1u) << i;
                w[s] = v;
            }
            for (uint32_t q = 0; q < t->npairs; q++)
                loc[q] += (uint64_t)__builtin_popcountll(w[sp[q].i] & w[sp[q].j]);
        }
#pragma omp critical
        {
            if (!failed)
                for (uint32_t q = 0; q < t->npairs; q++) n11[q] += loc[q];
        }
        free(w);
        free(loc);
    }
    if (failed) return dlm_fail(err, DLM_ENOMEM, "out of memory counting pairs");
    return DLM_OK;
}

/* Compares the packed samples of chains 0..chains-1 with dlm_eval_words on the same
 * coins (the sampled circuit, thresholds included). */
static void prefix_check(const dlm_circuit *cs, uint64_t seed, const uint8_t *smp, size_t sb,
                         uint64_t chains, dlm_invariant *v, uint64_t *scratch, uint64_t *outw)
{
    v->checked = chains;
    for (uint64_t c0 = 0; c0 < chains; c0 += 64) {
        dlm_eval_words(cs, seed, c0, NULL, scratch, outw);
        uint64_t lanes = chains - c0 < 64 ? chains - c0 : 64;
        for (uint64_t i = 0; i < lanes; i++) {
            const uint8_t *s = smp + (c0 + i) * sb;
            int bad = 0;
            for (uint32_t k = 0; k < cs->nout && !bad; k++) {
                unsigned want = (unsigned)((outw[k] >> i) & 1u), got = (s[k >> 3] >> (k & 7)) & 1u;
                if (want != got) {
                    bad = 1;
                    if (!v->violations)
                        snprintf(v->detail, sizeof v->detail,
                                 "chain %llu output %u: engine %u, direct evaluation %u",
                                 (unsigned long long)(c0 + i), k, got, want);
                }
            }
            v->violations += (uint64_t)bad;
        }
    }
    v->pass = v->violations == 0;
}

void dlm_verify_opts_default(dlm_verify_opts *o)
{
    memset(o, 0, sizeof *o);
    o->mode = DLM_MODE_REVISE;
    o->backend = DLM_BACKEND_AUTO;
    o->chains = 1000000;
    o->alpha = 1e-3;
    o->target = DLM_TARGET_AUTO;
    o->prefix = DLM_VERIFY_PREFIX;
}

void dlm_verify_report_free(dlm_verify_report *r)
{
    if (!r) return;
    free(r->tests);
    r->tests = NULL;
    r->ntests = 0;
    dlm_counts_free(&r->counts);
}

int dlm_bias_parse(const char *s, size_t n, uint32_t *k, double *eps)
{
    char buf[96];
    if (n == 0 || n >= sizeof buf) return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    if (buf[0] < '0' || buf[0] > '9') return -1;
    char *end;
    errno = 0;
    unsigned long kk = strtoul(buf, &end, 10);
    if (errno || *end != ':' || kk > UINT32_MAX) return -1;
    const char *e = end + 1;
    if (!*e) return -2;
    double x = strtod(e, &end);
    if (*end || errno || !isfinite(x) || !(x > -0.5 && x < 0.5)) return -2;
    *k = (uint32_t)kk;
    *eps = x;
    return 0;
}

/* The one injection of a bias: a new array of n >= c->ncoins thresholds, c's own (fair
 * where c has none) with coin k at P(1) = 1/2 + eps. -1 if coin k does not exist, -2 if
 * 1/2 + eps is not a probability in (0, 1), -3 out of memory. */
static int biased_thresholds(const dlm_circuit *c, uint32_t k, double eps, uint32_t n, uint64_t **thr)
{
    double p = 0.5 + eps;
    if (k >= c->ncoins) return -1;
    if (!(p > 0 && p < 1)) return -2;
    uint64_t *t = dlm_malloc(n ? n : 1, sizeof *t);
    if (!t) return -3;
    for (uint32_t i = 0; i < n; i++) t[i] = c->coin_thr && i < c->ncoins ? c->coin_thr[i] : DLM_COIN_FAIR;
    t[k] = (uint64_t)llround(p * 4294967296.0);
    *thr = t;
    return 0;
}

dlm_status dlm_verify_inject_bias(dlm_circuit *c, uint32_t k, double eps, dlm_err *err)
{
    uint64_t *thr;
    /* coin_cap entries, as the IR builder keeps it (dlm_circuit.h) */
    switch (biased_thresholds(c, k, eps, c->coin_cap > c->ncoins ? c->coin_cap : c->ncoins, &thr)) {
    case -1:
        return dlm_fail(err, DLM_EINPUT, "--inject-bias: coin %u does not exist (the circuit has %u coins)",
                        k, c->ncoins);
    case -2: return dlm_fail(err, DLM_EINPUT, "--inject-bias: 1/2 + %g is not a probability in (0, 1)", eps);
    case -3: return dlm_fail(err, DLM_ENOMEM, "out of memory for coin thresholds");
    default: break;
    }
    if (c->coin_thr) { /* in place: a shallow copy of c sees the bias too */
        c->coin_thr[k] = thr[k];
        free(thr);
    } else {
        c->coin_thr = thr;
    }
    return DLM_OK;
}

dlm_status dlm_verify_run(const dlm_circuit *c, const dlm_levels *lv, const dlm_verify_opts *o,
                          dlm_verify_report *r, dlm_err *err)
{
    memset(r, 0, sizeof *r);
    r->mode = o->mode;
    r->chains = o->chains;
    r->seed = o->seed;
    r->alpha = o->alpha;
    if (o->chains == 0) return dlm_fail(err, DLM_EINPUT, "verify: --chains must be at least 1");
    if (!(o->alpha > 0 && o->alpha < 1))
        return dlm_fail(err, DLM_EINPUT, "verify: --alpha %g is not in (0, 1)", o->alpha);
    if (c->nout == 0) return dlm_fail(err, DLM_EINPUT, "%s: the circuit has no outputs", c->source);
    if ((unsigned)o->mode >= DLM_NMODES) return dlm_fail(err, DLM_EINPUT, "verify: bad mode");

    dlm_status s = DLM_OK;
    dlm_target t;
    memset(&t, 0, sizeof t);
    dlm_program p;
    memset(&p, 0, sizeof p);
    int have_prog = 0;
    dlm_counts k;
    memset(&k, 0, sizeof k);
    uint8_t *smp = NULL;
    uint64_t *n11 = NULL, *scratch = NULL, *outw = NULL, *thr = NULL;
    uint32_t *slot_out = NULL, *out_slot = NULL;
    dlm_pair *sp = NULL;
    dlm_slot_plan plan; /* the bit-sliced engines' slot plan, made once for all calls */
    memset(&plan, 0, sizeof plan);
    test_list L = {0};
    double *praw = NULL, *padj = NULL;

    /* The sampled circuit: c itself, or a shallow copy with one biased coin. */
    dlm_circuit cs = *c;
    if (o->inject) {
        r->injected = 1;
        r->inject_coin = o->inject_coin;
        r->inject_eps = o->inject_eps;
        int b = biased_thresholds(c, o->inject_coin, o->inject_eps, c->ncoins, &thr);
        if (b == -3) return dlm_fail(err, DLM_ENOMEM, "out of memory for coin thresholds");
        if (b) {
            s = dlm_fail(err, DLM_EINPUT, "--inject-bias %u:%g: %s", o->inject_coin, o->inject_eps,
                         b == -1 ? "no such coin" : "1/2 + EPS is not in (0, 1)");
            goto done;
        }
        cs.coin_thr = thr;
    }

    /* Target (from the fair circuit; see dlm_verify.h). */
    double t0 = dlm_now();
    if ((s = dlm_target_build(c, o->target, o->seed, o->chains, o->threads, &t, err))) goto done;
    r->seconds_target = dlm_now() - t0;
    r->target_kind = t.kind;
    snprintf(r->target_desc, sizeof r->target_desc, "%s", t.desc);
    if (t.kind == DLM_TKIND_REFERENCE) {
        r->ref_seed = t.ref_seed;
        r->ref_chains = t.total;
    }

    /* Program and backend. */
    if ((s = dlm_compile(&cs, lv, o->mode, &p, err))) goto done;
    have_prog = 1;
    if ((s = dlm_backend_resolve(o->backend, &r->backend, r->backend_notice, sizeof r->backend_notice, err)))
        goto done;
    int want_hist = c->nout <= HIST_BITS;
    if ((s = dlm_counts_init(&k, c->nout, want_hist, err))) goto done;

    /* Pair slots: the distinct outputs that occur in pairs. */
    size_t sb = dlm_sample_bytes(&p);
    uint32_t nslots = 0;
    n11 = dlm_calloc(t.npairs ? t.npairs : 1, sizeof *n11);
    sp = dlm_malloc(t.npairs ? t.npairs : 1, sizeof *sp);
    out_slot = dlm_malloc(c->nout, sizeof *out_slot);
    slot_out = dlm_malloc(c->nout, sizeof *slot_out);
    scratch = dlm_malloc(c->nnodes, sizeof *scratch);
    outw = dlm_malloc(c->nout, sizeof *outw);
    uint64_t batch = SAMPLE_BATCH_BYTES / (sb ? sb : 1);
    if (batch > SAMPLE_BATCH) batch = SAMPLE_BATCH;
    batch = batch < 64 ? 64 : batch & ~UINT64_C(63);
    uint64_t prefix = o->prefix < o->chains ? o->prefix : o->chains;
    uint64_t first = prefix ? prefix : (batch < o->chains ? batch : o->chains);
    uint64_t bufn = batch > first ? batch : first;
    if (bufn > o->chains) bufn = o->chains;
    smp = dlm_malloc(bufn, sb);
    if (!n11 || !sp || !out_slot || !slot_out || !scratch || !outw || !smp) {
        s = dlm_fail(err, DLM_ENOMEM, "out of memory for the verifier's sample buffers");
        goto done;
    }
    for (uint32_t i = 0; i < c->nout; i++) out_slot[i] = UINT32_MAX;
    for (uint32_t q = 0; q < t.npairs; q++) {
        uint32_t a[2] = {t.pairs[q].i, t.pairs[q].j};
        for (int e = 0; e < 2; e++)
            if (out_slot[a[e]] == UINT32_MAX) {
                out_slot[a[e]] = nslots;
                slot_out[nslots++] = a[e];
            }
        sp[q] = (dlm_pair){out_slot[a[0]], out_slot[a[1]]};
    }

    /* Sampling: the first call covers the prefix that is compared bit for bit. */
    dlm_invariant *bx = add_inv(r, "bit-exact-prefix");
    t0 = dlm_now();
    if (dlm_backend_uses_plan(r->backend) && (s = dlm_slot_plan_build(&p, &plan, err))) goto done;
    for (uint64_t c0 = 0; c0 < o->chains;) {
        dlm_run_opts ro;
        memset(&ro, 0, sizeof ro);
        ro.first_chain = c0;
        ro.chains = c0 == 0 ? first : (o->chains - c0 < batch ? o->chains - c0 : batch);
        ro.seed = o->seed;
        ro.want_hist = want_hist;
        ro.samples = smp;
        ro.threads = o->threads;
        ro.plan = dlm_backend_uses_plan(r->backend) ? &plan : NULL;
        if ((s = dlm_engine_run(r->backend, &p, &ro, &k, err))) goto done;
        if (c0 == 0) prefix_check(&cs, o->seed, smp, sb, prefix, bx, scratch, outw);
        if ((s = count_pairs(&t, smp, sb, ro.chains, slot_out, nslots, sp, o->threads, n11, err)))
            goto done;
        c0 += ro.chains;
        if (o->progress) o->progress(o->progress_ctx, c0, o->chains, dlm_now() - t0);
    }
    r->seconds_sample = dlm_now() - t0;
    if (k.chains != o->chains) {
        s = dlm_fail(err, DLM_ECHECK, "the engine counted %llu chains, %llu were asked for",
                     (unsigned long long)k.chains, (unsigned long long)o->chains);
        goto done;
    }

    /* Tests, then Holm over all of them. */
    t0 = dlm_now();
    sampled S = {&k, n11};
    s = t.kind == DLM_TKIND_REFERENCE ? tests_reference(&t, &S, r, &L, err) : tests_exact(&t, &S, r, &L, err);
    if (s) goto done;
    praw = dlm_malloc(L.n ? L.n : 1, sizeof *praw);
    padj = dlm_malloc(L.n ? L.n : 1, sizeof *padj);
    if (!praw || !padj) {
        s = dlm_fail(err, DLM_ENOMEM, "out of memory for p-values");
        goto done;
    }
    for (size_t i = 0; i < L.n; i++) praw[i] = L.v[i].p;
    if ((s = dlm_stat_holm(praw, L.n, padj, err))) goto done;
    r->pass = 1;
    for (uint32_t i = 0; i < r->ninv; i++) r->pass &= r->inv[i].pass;
    for (size_t i = 0; i < L.n; i++) {
        L.v[i].p_holm = padj[i];
        L.v[i].pass = padj[i] >= o->alpha;
        r->pass &= L.v[i].pass;
    }
    r->tests = L.v;
    r->ntests = L.n;
    L.v = NULL;
    r->seconds_tests = dlm_now() - t0;
    r->counts = k; /* the report owns the counts from here */
    memset(&k, 0, sizeof k);

done:
    dlm_slot_plan_free(&plan);
    free(L.v);
    free(praw);
    free(padj);
    free(smp);
    free(n11);
    free(sp);
    free(out_slot);
    free(slot_out);
    free(scratch);
    free(outw);
    free(thr);
    dlm_counts_free(&k);
    if (have_prog) dlm_program_free(&p);
    dlm_target_free(&t);
    return s;
}
