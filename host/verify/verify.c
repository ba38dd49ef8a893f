/* verify.c — dlm_verify_run (dlm_verify.h): samples a circuit with an engine and
 * runs the hard invariants, the bit-exact prefix check and the statistical tests with
 * Holm's correction; and the --inject-bias testing aid.
 *
 * What this file is not: the targets it compares with (targets.c), the statistics
 * (stats.c, dlm_stats.h), a printer (host/cli/verify.c prints the text report,
 * host/verify/report.c the JSON), or an engine (it calls dlm_engine_run). Everything
 * it counts is a 64-bit integer; floating point appears only in probabilities and test
 * statistics. docs/verify.md is the prose companion of this file.
 */
#include "dlm_verify.h"
#include "dlm_util.h"
#include "dlm_batch.h" /* dlm_batch_run, dlm_circuit_hash */
#include "dlm_eval.h"
#include "dlm_program.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HIST_BITS DLM_HIST_MAX_BITS

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
    /* Outputs equal or complementary to an earlier output under the target (seen by
     * the pairs tested): their bit test would repeat the earlier one's statistic. */
    uint8_t *copy = dlm_calloc(t->nout ? t->nout : 1, 1);
    if (!copy) return dlm_fail(err, DLM_ENOMEM, "out of memory for the verifier's output list");
    for (uint32_t q = 0; q < t->npairs; q++) {
        uint32_t i = t->pairs[q].i, j = t->pairs[q].j;
        double pi = t->p1[i], pj = t->p1[j], p11 = t->p11[q];
        if (pi == 0.0 || pi == 1.0 || pj == 0.0 || pj == 1.0) continue;
        int same = fabs(p11 - pi) < 1e-15 && fabs(p11 - pj) < 1e-15;
        int compl = p11 < 1e-15 && fabs(pi + pj - 1) < 1e-15;
        if ((same || compl) && !copy[i < j ? i : j]) copy[i > j ? i : j] = 1;
    }
    r->dup_tests = 0;
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
        if (copy[b]) {
            r->dup_tests++;
            continue;
        }
        double z = ((double)o - (double)n * p) / sqrt((double)n * p * (1 - p));
        snprintf(name, sizeof name, "bit[%u]", b);
        double sd = sqrt(p * (1 - p) / (double)n);
        if (!(r->detect_sd >= 0) || sd < r->detect_sd) r->detect_sd = sd;
        if ((s = add_test(L, name, z, 0, dlm_stat_binom_p2(o, n, p), err))) {
            free(copy);
            return s;
        }
    }
    /* Pairs: 2x2 goodness of fit against the exact pair law. A pair with a constant
     * output, or of two outputs equal (or complementary) under the target, is the
     * bit test of one of them again: only its impossible cells are checked, and it is
     * not counted in Holm's m (nor is the bit test of such a copy). */
    for (uint32_t q = 0; q < t->npairs; q++) {
        uint32_t i = t->pairs[q].i, j = t->pairs[q].j;
        double pi = t->p1[i], pj = t->p1[j], p11 = t->p11[q];
        double P[4] = {1 - pi - pj + p11, pj - p11, pi - p11, p11};
        uint64_t O[4];
        pair_table(n, k->ones[i], k->ones[j], S->n11[q], O);
        int degenerate = 0;
        for (int c = 0; c < 4; c++) degenerate += P[c] < 1e-15;
        if (degenerate >= 2) { /* constant, equal or complementary: at most 2 cells live */
            for (int c = 0; c < 4; c++)
                if (P[c] < 1e-15) {
                    snprintf(what, sizeof what, "outputs (%u, %u) = (%d, %d) has probability 0 but was sampled %llu times",
                             i, j, c >> 1, c & 1, (unsigned long long)O[c]);
                    impossible(imp, O[c], what);
                }
            continue;
        }
        dlm_stat_acc a = {.rows = 1};
        for (int c = 0; c < 4; c++) {
            if (P[c] < 1e-15) { /* exactly 0 up to the rounding of 1 - pi - pj + p11 */
                snprintf(what, sizeof what, "outputs (%u, %u) = (%d, %d) has probability 0 but was sampled %llu times",
                         i, j, c >> 1, c & 1, (unsigned long long)O[c]);
                impossible(imp, O[c], what);
                continue;
            }
            double E = (double)n * P[c];
            dlm_stat_acc_cell(&a, &O[c], &E);
        }
        double df = dlm_stat_acc_finish(&a);
        if (df <= 0) continue;
        snprintf(name, sizeof name, "pair[%u,%u]", i, j);
        if ((s = add_test(L, name, a.chi2, df, dlm_stat_chisq_q(a.chi2, df), err))) {
            free(copy);
            return s;
        }
    }
    free(copy);
    return DLM_OK;
}

/* Two-sample homogeneity over columns given as (sample count, reference count). */
static void acc_col2(dlm_stat_acc *a, dlm_stat_gacc *ga, uint64_t x, uint64_t y, uint64_t n1, uint64_t n2)
{
    if (x + y == 0) return;
    double tot = (double)n1 + (double)n2;
    uint64_t O[2] = {x, y};
    double E[2] = {(double)n1 * (double)(x + y) / tot, (double)n2 * (double)(x + y) / tot};
    dlm_stat_acc_cell(a, O, E);
    if (ga) dlm_stat_gacc_cell(ga, O, E);
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
        dlm_stat_acc a = {.rows = 2};
        dlm_stat_gacc ga = {.rows = 2, .tg = dlm_stat_g_threshold(m)};
        double l1 = 0;
        for (uint64_t x = 0; x < cells; x++) {
            l1 += fabs((double)k->hist[x] / (double)n1 - (double)t->hist_count[x] / (double)n2);
            acc_col2(&a, &ga, k->hist[x], t->hist_count[x], n1, n2);
        }
        double df = dlm_stat_acc_finish(&a), gw;
        double dfg = dlm_stat_gacc_finish(&ga, (double)n1 + (double)n2, (double)n1, (double)n2, &gw);
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
        dlm_stat_acc a = {.rows = 2};
        acc_col2(&a, NULL, k->ones[b], t->ones[b], n1, n2);
        acc_col2(&a, NULL, n1 - k->ones[b], n2 - t->ones[b], n1, n2);
        double df = dlm_stat_acc_finish(&a);
        if (df <= 0) continue;
        double pr = (double)t->ones[b] / (double)n2, sd = sqrt(pr * (1 - pr) * (1 / (double)n1 + 1 / (double)n2));
        if (sd > 0 && (!(r->detect_sd >= 0) || sd < r->detect_sd)) r->detect_sd = sd;
        snprintf(name, sizeof name, "bit[%u]", b);
        if ((s = add_test(L, name, a.chi2, df, dlm_stat_chisq_q(a.chi2, df), err))) return s;
    }
    for (uint32_t q = 0; q < t->npairs; q++) {
        uint32_t i = t->pairs[q].i, j = t->pairs[q].j;
        uint64_t O1[4], O2[4];
        pair_table(n1, k->ones[i], k->ones[j], S->n11[q], O1);
        pair_table(n2, t->ones[i], t->ones[j], t->n11[q], O2);
        dlm_stat_acc a = {.rows = 2};
        for (int c = 0; c < 4; c++) acc_col2(&a, NULL, O1[c], O2[c], n1, n2);
        double df = dlm_stat_acc_finish(&a);
        if (df <= 0) continue;
        snprintf(name, sizeof name, "pair[%u,%u]", i, j);
        if ((s = add_test(L, name, a.chi2, df, dlm_stat_chisq_q(a.chi2, df), err))) return s;
    }
    return DLM_OK;
}

// ---------------------------------------------------------------- sampling

static int biased_thresholds(const dlm_circuit *c, uint32_t k, double eps, uint32_t n, uint64_t **thr);

/* Adds the 11 counts of every pair over `chains` packed samples. The outputs that occur
 * in pairs are transposed into one word per output per 64 chains (bit i = chain i), so
 * a pair costs one AND and one popcount per 64 chains. */
static dlm_status count_pairs(uint32_t npairs, const uint8_t *smp, size_t sb, uint64_t chains,
                              const uint32_t *slot_out, uint32_t nslots, const dlm_pair *sp,
                              int threads, uint64_t *n11, dlm_err *err)
{
    if (!npairs) return DLM_OK;
    uint64_t nblocks = (chains + 63) / 64;
    volatile int failed = 0;
#pragma omp parallel num_threads(dlm_threads_of(threads))
    {
        uint64_t *w = dlm_malloc(nslots, sizeof *w);
        uint64_t *loc = dlm_calloc(npairs, sizeof *loc);
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
            for (uint32_t q = 0; q < npairs; q++)
                loc[q] += (uint64_t)__builtin_popcountll(w[sp[q].i] & w[sp[q].j]);
        }
#pragma omp critical
        {
            if (!failed)
                for (uint32_t q = 0; q < npairs; q++) n11[q] += loc[q];
        }
        free(w);
        free(loc);
    }
    if (failed) return dlm_fail(err, DLM_ENOMEM, "out of memory counting pairs");
    return DLM_OK;
}

/* Compares the packed samples of chains c0 .. c0+chains-1 (at smp) with dlm_eval_words
 * on the same coins (the sampled circuit, thresholds included), adding to v. */
static void prefix_check(const dlm_circuit *cs, uint64_t seed, const uint8_t *smp, size_t sb, uint64_t c0,
                         uint64_t chains, dlm_tally_verify *v, uint64_t *scratch, uint64_t *outw)
{
    v->prefix_checked += chains;
    for (uint64_t d = 0; d < chains; d += 64) {
        dlm_eval_words(cs, seed, c0 + d, NULL, scratch, outw);
        uint64_t lanes = chains - d < 64 ? chains - d : 64;
        for (uint64_t i = 0; i < lanes; i++) {
            const uint8_t *s = smp + (d + i) * sb;
            int bad = 0;
            for (uint32_t k = 0; k < cs->nout && !bad; k++) {
                unsigned want = (unsigned)((outw[k] >> i) & 1u), got = (s[k >> 3] >> (k & 7)) & 1u;
                if (want != got) {
                    bad = 1;
                    if (!v->prefix_bad || c0 + d + i < v->bad_chain) {
                        v->bad_chain = c0 + d + i;
                        v->bad_out = k;
                        v->bad_engine = got;
                        v->bad_direct = want;
                    }
                }
            }
            v->prefix_bad += (uint64_t)bad;
        }
    }
}

void dlm_verify_sampler_close(dlm_verify_sampler *S)
{
    if (!S) return;
    dlm_slot_plan_free(&S->plan);
    dlm_jit_cache_free(S->jit);
    if (S->have_prog) dlm_program_free(&S->p);
    free(S->thr);
    free(S->pairs);
    free(S->sp);
    free(S->slot_out);
    free(S->scratch);
    free(S->outw);
    memset(S, 0, sizeof *S);
}

dlm_status dlm_verify_sampler_open(const dlm_circuit *c, const dlm_levels *lv, const dlm_verify_opts *o,
                                   dlm_verify_sampler *S, dlm_err *err)
{
    memset(S, 0, sizeof *S);
    if (c->nout == 0) return dlm_fail(err, DLM_EINPUT, "%s: the circuit has no outputs", c->source);
    if ((unsigned)o->mode >= DLM_NMODES) return dlm_fail(err, DLM_EINPUT, "verify: bad mode");
    S->o = *o;
    S->cs = *c;
    dlm_status s = DLM_OK;
    /* The sampled circuit: c itself, or a shallow copy with one biased coin. */
    if (o->inject) {
        int b = biased_thresholds(c, o->inject_coin, o->inject_eps, c->ncoins, &S->thr);
        if (b == -3) return dlm_fail(err, DLM_ENOMEM, "out of memory for coin thresholds");
        if (b)
            return dlm_fail(err, DLM_EINPUT, "--inject-bias %u:%g: %s", o->inject_coin, o->inject_eps,
                            b == -1 ? "no such coin" : "1/2 + EPS is not in (0, 1)");
        S->cs.coin_thr = S->thr;
    }
    if ((s = dlm_verify_pairs(c->nout, &S->pairs, &S->npairs, err))) goto fail;
    if ((s = dlm_backend_resolve(o->backend, &S->backend, S->backend_notice, sizeof S->backend_notice, err)))
        goto fail;
    if (o->cuda_kernel != DLM_CUDA_KERNEL_AUTO && S->backend != DLM_BACKEND_CUDA) {
        s = dlm_fail(err, DLM_EINPUT, "--cuda-kernel %s is for --backend cuda (this run uses %s)",
                     dlm_cuda_kernel_name(o->cuda_kernel), dlm_backend_name(S->backend));
        goto fail;
    }
    if (S->backend == DLM_BACKEND_CUDA &&
        ((s = dlm_jit_cache_new(&S->jit, err)) || (s = dlm_jit_cache_keep_in(S->jit, o->jit_dir, err))))
        goto fail;
    /* the bit-sliced engines get the slot plan streamed from the compiler (the
     * per-round program is never held), the byte engines the program */
    if (dlm_backend_uses_plan(S->backend))
        s = dlm_compile_plan_progress(&S->cs, lv, o->mode, o->compile_progress, o->compile_progress_ctx, &S->p,
                                      &S->plan, err);
    else
        s = dlm_compile_progress(&S->cs, lv, o->mode, o->compile_progress, o->compile_progress_ctx, &S->p, err);
    if (s) goto fail;
    S->have_prog = 1;
    /* Pair slots: the distinct outputs that occur in pairs. */
    uint32_t *out_slot = dlm_malloc(c->nout, sizeof *out_slot);
    S->sp = dlm_malloc(S->npairs ? S->npairs : 1, sizeof *S->sp);
    S->slot_out = dlm_malloc(c->nout, sizeof *S->slot_out);
    S->scratch = dlm_malloc(c->nnodes, sizeof *S->scratch);
    S->outw = dlm_malloc(c->nout, sizeof *S->outw);
    if (!out_slot || !S->sp || !S->slot_out || !S->scratch || !S->outw) {
        free(out_slot);
        s = dlm_fail(err, DLM_ENOMEM, "out of memory for the verifier's sample buffers");
        goto fail;
    }
    for (uint32_t i = 0; i < c->nout; i++) out_slot[i] = UINT32_MAX;
    for (uint32_t q = 0; q < S->npairs; q++) {
        uint32_t a[2] = {S->pairs[q].i, S->pairs[q].j};
        for (int e = 0; e < 2; e++)
            if (out_slot[a[e]] == UINT32_MAX) {
                out_slot[a[e]] = S->nslots;
                S->slot_out[S->nslots++] = a[e];
            }
        S->sp[q] = (dlm_pair){out_slot[a[0]], out_slot[a[1]]};
    }
    free(out_slot);
    return DLM_OK;
fail:
    dlm_verify_sampler_close(S);
    return s;
}

dlm_status dlm_verify_tally_init(const dlm_verify_sampler *S, uint64_t batch, dlm_tally *t, dlm_err *err)
{
    dlm_status s = dlm_tally_init(t, dlm_circuit_hash(&S->cs), dlm_mode_name(S->o.mode), S->o.seed, batch,
                                  S->cs.nout, S->cs.nout <= HIST_BITS, err);
    if (!s) s = dlm_tally_verify_init(t, S->npairs, err);
    if (s) dlm_tally_free(t);
    return s;
}

/* The batch loop's sink (dlm_batch.h): the bit-exact check of the chains below the
 * prefix and the pair counts, on every chunk's packed samples in chain order. */
typedef struct {
    dlm_verify_sampler *S;
    dlm_tally *t;
    uint64_t at, first, count; /* the next chain the sink sees; the range sampled */
} verify_sink;

static dlm_status sink_samples(void *ctx, uint64_t first, const uint8_t *smp, uint64_t n, dlm_err *err)
{
    (void)first; /* v->at: the chunks come in chain order */
    verify_sink *v = ctx;
    dlm_verify_sampler *S = v->S;
    size_t sb = dlm_sample_bytes(&S->p);
    if (v->at < S->o.prefix) {
        uint64_t m = S->o.prefix - v->at < n ? S->o.prefix - v->at : n;
        prefix_check(&S->cs, S->o.seed, smp, sb, v->at, m, &v->t->v, S->scratch, S->outw);
    }
    v->at += n;
    return count_pairs(S->npairs, smp, sb, n, S->slot_out, S->nslots, S->sp, S->o.threads, v->t->v.n11, err);
}

/* The batch loop's progress, as the chains of this range done. */
static void sink_progress(void *ctx, uint64_t done, uint64_t total, double secs)
{
    (void)total;
    verify_sink *v = ctx;
    v->S->o.progress(v->S->o.progress_ctx, done - v->first, v->count, secs);
}

dlm_status dlm_verify_sample(dlm_verify_sampler *S, uint64_t first, uint64_t count, dlm_tally *t, dlm_err *err)
{
    if (!t->verify || t->v.npairs != S->npairs || t->counts.nout != S->cs.nout)
        return dlm_fail(err, DLM_EINPUT, "verify: the tally is not this sampler's (dlm_verify_tally_init)");
    if (count && first > UINT64_MAX - count) return dlm_fail(err, DLM_EINPUT, "verify: chains past 2^64");
    dlm_status s = dlm_ranges_add(&t->ranges, first, first + count, err);
    if (s) return s;
    uint64_t before = t->counts.chains;
    verify_sink v = {S, t, first, first, count};
    dlm_batch_id id = {t->circuit_hash, S->o.mode, S->o.seed, first + count, S->cs.nout, t->counts.hist != NULL};
    dlm_batch_opts bo;
    memset(&bo, 0, sizeof bo);
    bo.backend = S->backend;
    bo.cuda_kernel = S->o.cuda_kernel;
    bo.jit = S->jit;
    bo.threads = S->o.threads;
    bo.plan = dlm_backend_uses_plan(S->backend) ? &S->plan : NULL;
    bo.sink = sink_samples;
    bo.sink_ctx = &v;
    bo.progress = S->o.progress ? sink_progress : NULL;
    bo.progress_ctx = &v;
    uint64_t next = first;
    int stopped = 0;
    double t0 = dlm_now();
    if ((s = dlm_batch_run(&S->p, &id, &bo, &next, &t->counts, &stopped, err))) return s;
    S->seconds += dlm_now() - t0;
    if (t->counts.chains - before != count)
        return dlm_fail(err, DLM_ECHECK, "the engine counted %llu chains, %llu were asked for",
                        (unsigned long long)(t->counts.chains - before), (unsigned long long)count);
    return DLM_OK;
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

/* The tests of the tally t (the chains 0..t->counts.chains-1) against the target tg,
 * into r (whose mode, chains, seed and alpha are set). */
static dlm_status check_tally(const dlm_target *tg, const dlm_tally *t, double alpha, dlm_verify_report *r,
                              dlm_err *err)
{
    test_list L = {0};
    double *praw = NULL, *padj = NULL;
    dlm_status s;
    dlm_invariant *bx = add_inv(r, "bit-exact-prefix");
    const dlm_tally_verify *v = &t->v;
    bx->checked = v->prefix_checked;
    bx->violations = v->prefix_bad;
    bx->pass = v->prefix_bad == 0;
    if (v->prefix_bad)
        snprintf(bx->detail, sizeof bx->detail, "chain %llu output %u: engine %u, direct evaluation %u",
                 (unsigned long long)v->bad_chain, v->bad_out, v->bad_engine, v->bad_direct);
    double t0 = dlm_now();
    r->detect_sd = NAN;
    sampled S = {&t->counts, v->n11};
    s = tg->kind == DLM_TKIND_REFERENCE ? tests_reference(tg, &S, r, &L, err) : tests_exact(tg, &S, r, &L, err);
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
        L.v[i].pass = padj[i] >= alpha;
        r->pass &= L.v[i].pass;
    }
    r->tests = L.v;
    r->ntests = L.n;
    L.v = NULL;
    /* The smallest shift of one output's P(1) that its bit test finds with 50 % power:
     * the statistic is then centred on the critical value of Holm's first step
     * (Bonferroni, alpha / m, two-sided). */
    r->detect_bias = r->ntests && r->detect_sd >= 0 ? dlm_stat_z(alpha / (2.0 * (double)r->ntests)) * r->detect_sd
                                                     : NAN;
    r->seconds_tests = dlm_now() - t0;
    /* the report owns a copy of the counts (dlm_regress digests them) */
    if ((s = dlm_counts_init(&r->counts, t->counts.nout, t->counts.hist != NULL, err))) goto done;
    dlm_counts_add(&r->counts, &t->counts);
    r->counts.bytes_tokens = t->counts.bytes_tokens;
    r->counts.bytes_device_measured = t->counts.bytes_device_measured;
done:
    free(L.v);
    free(praw);
    free(padj);
    return s;
}

/* The report's head and the target, for chains 0..chains-1. */
static dlm_status report_begin(const dlm_circuit *c, const dlm_verify_opts *o, uint64_t chains,
                               dlm_target *tg, dlm_verify_report *r, dlm_err *err)
{
    memset(r, 0, sizeof *r);
    memset(tg, 0, sizeof *tg);
    r->mode = o->mode;
    r->chains = chains;
    r->seed = o->seed;
    r->alpha = o->alpha;
    if (chains == 0) return dlm_fail(err, DLM_EINPUT, "verify: --chains must be at least 1");
    if (!(o->alpha > 0 && o->alpha < 1))
        return dlm_fail(err, DLM_EINPUT, "verify: --alpha %g is not in (0, 1)", o->alpha);
    if (c->nout == 0) return dlm_fail(err, DLM_EINPUT, "%s: the circuit has no outputs", c->source);
    if ((unsigned)o->mode >= DLM_NMODES) return dlm_fail(err, DLM_EINPUT, "verify: bad mode");
    if (o->inject) {
        r->injected = 1;
        r->inject_coin = o->inject_coin;
        r->inject_eps = o->inject_eps;
    }
    /* Target (from the fair circuit; see dlm_verify.h). */
    double t0 = dlm_now();
    dlm_status s = dlm_target_build_progress(c, o->target, o->seed, chains, o->threads, o->target_progress,
                                             o->target_progress_ctx, tg, err);
    if (s) return s;
    r->seconds_target = dlm_now() - t0;
    r->target_kind = tg->kind;
    snprintf(r->target_desc, sizeof r->target_desc, "%s", tg->desc);
    if (tg->kind == DLM_TKIND_REFERENCE) {
        r->ref_seed = tg->ref_seed;
        r->ref_chains = tg->total;
    }
    return DLM_OK;
}

dlm_status dlm_verify_sampled_hash(const dlm_circuit *c, const dlm_verify_opts *o, uint64_t *hash, dlm_err *err)
{
    dlm_circuit cs = *c;
    uint64_t *thr = NULL;
    if (o->inject) {
        int b = biased_thresholds(c, o->inject_coin, o->inject_eps, c->ncoins, &thr);
        if (b == -3) return dlm_fail(err, DLM_ENOMEM, "out of memory for coin thresholds");
        if (b)
            return dlm_fail(err, DLM_EINPUT, "--inject-bias %u:%g: %s", o->inject_coin, o->inject_eps,
                            b == -1 ? "no such coin" : "1/2 + EPS is not in (0, 1)");
        cs.coin_thr = thr;
    }
    *hash = dlm_circuit_hash(&cs);
    free(thr);
    return DLM_OK;
}

dlm_status dlm_verify_check(const dlm_circuit *c, const dlm_verify_opts *o, const dlm_tally *t,
                            dlm_verify_report *r, dlm_err *err)
{
    uint64_t n = t->counts.chains;
    memset(r, 0, sizeof *r);
    if (!t->verify)
        return dlm_fail(err, DLM_EINPUT, "the counts were written by run, not verify: they lack the verifier's "
                        "pair counts and bit-exact check (sample with dlmsim verify ... --shard K/N --counts FILE)");
    if (t->ranges.n != 1 || t->ranges.r[0].first != 0 || t->batch != n) {
        dlm_ranges gaps;
        dlm_status s = dlm_tally_gaps(t, &gaps, err);
        if (s) return s;
        if (gaps.n)
            s = dlm_fail(err, DLM_EINPUT, "chains %llu..%llu of the batch 0..%llu are in no count file: verify "
                         "needs the whole batch (merge every shard)", (unsigned long long)gaps.r[0].first,
                         (unsigned long long)gaps.r[0].end - 1, (unsigned long long)t->batch - 1);
        else
            s = dlm_fail(err, DLM_EINPUT, "the counts do not cover chains 0..%llu", (unsigned long long)n - 1);
        dlm_ranges_free(&gaps);
        return s;
    }
    uint64_t hash;
    dlm_status hs = dlm_verify_sampled_hash(c, o, &hash, err);
    if (hs) return hs;
    const char *what = NULL;
    if (hash != t->circuit_hash)
        what = o->inject ? "circuit (or --inject-bias)" : "circuit (or it was sampled with --inject-bias)";
    else if (strcmp(t->mode, dlm_mode_name(o->mode))) what = "mode";
    else if (t->seed != o->seed) what = "seed";
    else if (t->counts.nout != c->nout) what = "number of outputs";
    if (what) return dlm_fail(err, DLM_EINPUT, "the counts are of another %s", what);
    dlm_target tg;
    dlm_status s = report_begin(c, o, n, &tg, r, err);
    if (!s) {
        if (tg.npairs != t->v.npairs) s = dlm_fail(err, DLM_EINPUT, "the counts hold %u pairs, the verifier tests %u",
                                                   t->v.npairs, tg.npairs);
        else s = check_tally(&tg, t, o->alpha, r, err);
    }
    r->from_counts = 1;
    dlm_target_free(&tg);
    return s;
}

dlm_status dlm_verify_run(const dlm_circuit *c, const dlm_levels *lv, const dlm_verify_opts *o,
                          dlm_verify_report *r, dlm_err *err)
{
    dlm_target tg;
    dlm_status s = report_begin(c, o, o->chains, &tg, r, err);
    if (s) {
        dlm_target_free(&tg);
        return s;
    }
    dlm_verify_sampler S;
    dlm_tally t;
    memset(&t, 0, sizeof t);
    if ((s = dlm_verify_sampler_open(c, lv, o, &S, err))) goto out;
    r->backend = S.backend;
    snprintf(r->backend_notice, sizeof r->backend_notice, "%s", S.backend_notice);
    if (!(s = dlm_verify_tally_init(&S, o->chains, &t, err)) && !(s = dlm_verify_sample(&S, 0, o->chains, &t, err)))
        s = check_tally(&tg, &t, o->alpha, r, err);
    r->seconds_sample = S.seconds;
    dlm_verify_sampler_close(&S);
out:
    dlm_tally_free(&t);
    dlm_target_free(&tg);
    return s;
}
