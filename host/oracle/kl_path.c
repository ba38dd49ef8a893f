/* kl_path.c — the unbiased path-KL estimator (dlm_kl.h, docs/kl.md): E_M KL(p || q_M)
 * for laws too large to tabulate, by sampling chains under a schedule and scoring each
 * one with the law's exact predictor. Samples are a pure function of (seed, chain):
 * each chain's order stream is its own Philox counter, and per-block partial sums are
 * combined in a fixed order, so results do not depend on the thread count.
 * The exact KL (tables, DP, optimal schedules, bounds) is kl.c. */
#include "dlm_kl.h"
#include "dlm_oracle.h"
#include "dlm_schedule.h"
#include "dlm_util.h"

#include <Random123/philox.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------- path-KL estimator

#define KL_DOMAIN UINT32_C(0x4B4C5052) /* "KLPR" */
#define KL_KEYTWEAK UINT32_C(0x6B6C6B6C)
#define KL_BLOCK 256u

/* The order stream of one chain: Philox words in order (dlm_kl_path's contract). */
typedef struct {
    uint64_t seed, chain, k;
    philox4x32_ctr_t r;
    int used;
} kl_rng;

static void rng_init(kl_rng *g, uint64_t seed, uint64_t chain)
{
    g->seed = seed;
    g->chain = chain;
    g->k = 0;
    g->used = 4;
}

static uint32_t rng_word(kl_rng *g)
{
    if (g->used == 4) {
        philox4x32_ctr_t c;
        philox4x32_key_t key;
        c.v[0] = (uint32_t)g->k;
        c.v[1] = KL_DOMAIN;
        c.v[2] = (uint32_t)g->chain;
        c.v[3] = (uint32_t)(g->chain >> 32);
        key.v[0] = (uint32_t)g->seed;
        key.v[1] = (uint32_t)(g->seed >> 32) ^ KL_KEYTWEAK;
        g->r = philox4x32_R(10, c, key);
        g->k++;
        g->used = 0;
    }
    return g->r.v[g->used++];
}

/* Exactly uniform on 0..n-1 (Lemire's multiply with rejection), n >= 1. */
static uint32_t rng_below(kl_rng *g, uint32_t n)
{
    uint64_t m = (uint64_t)rng_word(g) * n;
    uint32_t l = (uint32_t)m;
    if (l < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (l < t) {
            m = (uint64_t)rng_word(g) * n;
            l = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* Uniform in [0, 1) with 53 bits (two words, first = high). */
static double rng_u01(kl_rng *g)
{
    uint64_t hi = rng_word(g), lo = rng_word(g);
    return (double)(((hi << 32) | lo) >> 11) * 0x1.0p-53;
}

typedef struct {
    const dlm_law *law;
    const dlm_kl_sched *sc;
    uint32_t L, V, S;
    int fast;
    const double *Pk;   /* fast: P^k, k = 0..L, S*S each */
    const double *pim;  /* fast: law of X_i, i = 0..L-1, S each */
    const double *cdf;  /* BINOMIAL: P(round <= t), cdf[T-1] = 1 */
    size_t oscr;        /* doubles of oracle scratch */
} path_ctx;

typedef struct {
    uint16_t *x, *tok;
    uint32_t *step, *perm, *lft, *rgt, *cnt;
    double *out, *oscr;
} path_scratch;

/* Bytes of one thread's scratch. */
static size_t scratch_doubles(const path_ctx *c)
{
    size_t L = c->L, T = c->sc->T;
    size_t words = 2 * L * sizeof(uint16_t) + (4 * L + T + 1) * sizeof(uint32_t);
    size_t d = (words + sizeof(double) - 1) / sizeof(double);
    if (!c->fast) d += L * c->V + c->oscr;
    return d;
}

static void scratch_carve(const path_ctx *c, double *base, path_scratch *s)
{
    size_t L = c->L, T = c->sc->T;
    char *b = (char *)base;
    s->out = NULL;
    s->oscr = NULL;
    if (!c->fast) {
        s->out = base;
        s->oscr = base + L * c->V;
        b = (char *)(s->oscr + c->oscr);
    }
    s->step = (uint32_t *)b;
    s->perm = s->step + L;
    s->lft = s->perm + L;
    s->rgt = s->lft + L;
    s->cnt = s->rgt + L;
    s->x = (uint16_t *)(s->cnt + T + 1);
    s->tok = s->x + L;
}

/* Draws the round of every position into s->step, from the chain's order stream. */
static void draw_rounds(const path_ctx *c, kl_rng *g, path_scratch *s)
{
    uint32_t L = c->L, T = c->sc->T;
    if (c->sc->kind == DLM_KL_BINOMIAL) {
        for (uint32_t i = 0; i < L; i++) {
            /* the first t with u < cdf[t] (binary search; cdf[T-1] = 1 > u) */
            double u = rng_u01(g);
            uint32_t lo = 0, hi = T - 1;
            while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (u < c->cdf[mid]) hi = mid;
                else lo = mid + 1;
            }
            s->step[i] = lo;
        }
        return;
    }
    for (uint32_t i = 0; i < L; i++) s->perm[i] = i;
    for (uint32_t j = L - 1; j >= 1; j--) {
        uint32_t k = rng_below(g, j + 1), x = s->perm[j];
        s->perm[j] = s->perm[k];
        s->perm[k] = x;
    }
    uint32_t m = 0;
    for (uint32_t t = 0; t < T; t++) {
        uint32_t n = L - m, sz;
        if (c->sc->kind == DLM_KL_SIZES) {
            sz = c->sc->s[t];
        } else if (t + 1 == T) {
            sz = n;
        } else if (n == 0) {
            sz = 0;
        } else {
            uint32_t J = dlm_sched_randsize_J(n, T - t);
            uint32_t j = (uint32_t)(((uint64_t)rng_word(g) * (J + 1)) >> 32);
            sz = 1u << j;
        }
        for (uint32_t k = m; k < m + sz; k++) s->step[s->perm[k]] = t;
        m += sz;
    }
}

/* The score of one chain; NAN when the oracle reports zero-probability evidence. */
static double chain_score(const path_ctx *c, uint64_t seed, uint64_t chain, path_scratch *s)
{
    uint32_t L = c->L, V = c->V, T = c->sc->T, S = c->S;
    dlm_law_sample(c->law, seed, chain, s->x);
    kl_rng g;
    rng_init(&g, seed, chain);
    draw_rounds(c, &g, s);
    /* positions grouped by round, increasing position within a round */
    for (uint32_t t = 0; t <= T; t++) s->cnt[t] = 0;
    for (uint32_t i = 0; i < L; i++) s->cnt[s->step[i] + 1]++;
    for (uint32_t t = 0; t < T; t++) s->cnt[t + 1] += s->cnt[t];
    for (uint32_t i = 0; i < L; i++) s->perm[s->cnt[s->step[i]]++] = i;
    /* cnt[t] is now the end of round t's group; its start is cnt[t-1] (0 for t = 0) */
    double lq = 0.0;
    const uint16_t *x = s->x;
    if (!c->fast)
        for (uint32_t i = 0; i < L; i++) s->tok[i] = DLM_TOK_MASK;
    for (uint32_t t = 0; t < T; t++) {
        uint32_t b = t ? s->cnt[t - 1] : 0, e = s->cnt[t];
        if (b == e) continue;
        if (c->fast) {
            /* nearest positions revealed before round t: by scanning when the gaps are
             * short (b tokens revealed, gaps about L / (b + 1)), else by one sweep */
            int sweep = (e - b) > 2 * (b + 1);
            if (sweep) {
                int last = -1;
                for (uint32_t i = 0; i < L; i++) {
                    s->lft[i] = (uint32_t)last;
                    if (s->step[i] < t) last = (int)i;
                }
                last = (int)L;
                for (uint32_t i = L; i-- > 0;) {
                    s->rgt[i] = (uint32_t)last;
                    if (s->step[i] < t) last = (int)i;
                }
            }
            for (uint32_t k = b; k < e; k++) {
                uint32_t i = s->perm[k];
                int a, r;
                if (sweep) {
                    a = (int)s->lft[i];
                    r = (int)s->rgt[i];
                } else {
                    a = (int)i - 1;
                    r = (int)i + 1;
                    while (a >= 0 && s->step[a] >= t) a--;
                    while (r < (int)L && s->step[r] >= t) r++;
                }
                double num, den;
                if (a >= 0) num = c->Pk[(size_t)(i - (uint32_t)a) * S * S + (size_t)x[a] * S + x[i]];
                else num = c->pim[(size_t)i * S + x[i]];
                if (r < (int)L) {
                    num *= c->Pk[(size_t)((uint32_t)r - i) * S * S + (size_t)x[i] * S + x[r]];
                    den = a >= 0 ? c->Pk[(size_t)((uint32_t)(r - a)) * S * S + (size_t)x[a] * S + x[r]]
                                 : c->pim[(size_t)r * S + x[r]];
                } else {
                    den = 1.0;
                }
                lq += log(num / den);
            }
        } else {
            if (dlm_oracle_probs(&c->law->v, s->tok, s->out, s->oscr)) return NAN;
            for (uint32_t k = b; k < e; k++) {
                uint32_t i = s->perm[k];
                lq += log(s->out[(size_t)i * V + x[i]]);
            }
            for (uint32_t k = b; k < e; k++) s->tok[s->perm[k]] = x[s->perm[k]];
        }
    }
    return dlm_law_logp(c->law, x) - lq;
}

/* Fills the context (and allocates its tables: *own, freed by the caller). */
static dlm_status path_setup(const dlm_law *law, const dlm_kl_sched *sc, int allow_fast,
                             path_ctx *c, double **own, dlm_err *err)
{
    const dlm_law_view *w = &law->v;
    memset(c, 0, sizeof *c);
    *own = NULL;
    dlm_status st = dlm_kl_sched_check(sc, w->L, err);
    if (st) return st;
    c->law = law;
    c->sc = sc;
    c->L = w->L;
    c->V = w->V;
    c->S = w->S;
    size_t L = w->L, S = w->S, T = sc->T;
    c->fast = allow_fast && w->kind == DLM_LAW_HMM && !w->emit && S * S * (L + 1) <= (1u << 23);
    size_t need = T + (c->fast ? S * S * (L + 1) + S * L : 0);
    double *m = dlm_malloc(need, sizeof(double));
    if (!m) return dlm_fail(err, DLM_ENOMEM, "path-KL: out of memory (%zu doubles of tables)", need);
    *own = m;
    double *cdf = m;
    double keep = 1.0;
    for (uint32_t t = 0; t < T; t++) {
        if (sc->kind == DLM_KL_BINOMIAL) keep *= 1.0 - sc->r[t];
        cdf[t] = t + 1 == T ? 1.0 : 1.0 - keep;
    }
    c->cdf = cdf;
    if (c->fast) {
        double *Pk = m + T, *pim = Pk + S * S * (L + 1);
        double *P = Pk + S * S; /* P^1 */
        if (L >= 1) dlm_law_dense_transitions(w, P);
        dlm_law_powers(P, (uint32_t)S, (uint32_t)L + 1, Pk); /* P^0 .. P^L (P^1 = I P = P) */
        for (size_t a = 0; a < S; a++) pim[a] = w->start[a];
        for (size_t i = 1; i < L; i++) dlm_law_marginal_step(pim + (i - 1) * S, P, (uint32_t)S, pim + i * S);
        c->Pk = Pk;
        c->pim = pim;
    } else {
        c->oscr = dlm_oracle_scratch_doubles(w);
    }
    return DLM_OK;
}

double dlm_kl_path_score(const dlm_law *law, const dlm_kl_sched *sc, uint64_t seed,
                         uint64_t chain, int allow_fast)
{
    path_ctx c;
    double *own;
    dlm_err e;
    if (path_setup(law, sc, allow_fast, &c, &own, &e)) return NAN;
    double *scr = dlm_malloc(scratch_doubles(&c), sizeof(double));
    double v = NAN;
    if (scr) {
        path_scratch s;
        scratch_carve(&c, scr, &s);
        v = chain_score(&c, seed, chain, &s);
    }
    free(scr);
    free(own);
    return v;
}

dlm_status dlm_kl_path(const dlm_law *law, const dlm_kl_sched *sc, uint64_t chains,
                       uint64_t seed, int threads, int allow_fast, dlm_kl_est *est,
                       dlm_err *err)
{
    return dlm_kl_path_progress(law, sc, chains, seed, threads, allow_fast, NULL, NULL, est, err);
}

dlm_status dlm_kl_path_progress(const dlm_law *law, const dlm_kl_sched *sc, uint64_t chains,
                                uint64_t seed, int threads, int allow_fast, dlm_progress_fn progress,
                                void *ctx, dlm_kl_est *est, dlm_err *err)
{
    const double t0 = dlm_now();
    memset(est, 0, sizeof *est);
    if (chains < 2) return dlm_fail(err, DLM_EINPUT, "path-KL: at least 2 chains needed");
    path_ctx c;
    double *own;
    dlm_status st = path_setup(law, sc, allow_fast, &c, &own, err);
    if (st) return st;
    uint64_t nb = (chains + KL_BLOCK - 1) / KL_BLOCK;
    int nt = dlm_threads_of(threads);
    if ((uint64_t)nt > nb) nt = (int)nb;
    size_t per = scratch_doubles(&c);
    double *bm = dlm_malloc(nb * 2, sizeof(double)); /* per block: mean, M2 */
    double *scr = dlm_malloc((size_t)nt * per, sizeof(double));
    if (!bm || !scr) {
        free(bm);
        free(scr);
        free(own);
        return dlm_fail(err, DLM_ENOMEM, "path-KL: out of memory");
    }
    int bad = 0;
    uint64_t done = 0; /* chains scored */
#pragma omp parallel num_threads(nt)
    {
        const int reporter = progress && omp_get_thread_num() == 0; /* the calling thread */
        path_scratch s;
        scratch_carve(&c, scr + (size_t)omp_get_thread_num() * per, &s);
#pragma omp for schedule(dynamic, 1)
        for (uint64_t b = 0; b < nb; b++) {
            uint64_t c0 = b * KL_BLOCK, c1 = c0 + KL_BLOCK < chains ? c0 + KL_BLOCK : chains;
            double mean = 0, m2 = 0;
            for (uint64_t ch = c0; ch < c1; ch++) {
                double v = chain_score(&c, seed, ch, &s);
                if (!isfinite(v)) {
#pragma omp atomic write
                    bad = 1;
                    v = 0;
                }
                double d = v - mean, n = (double)(ch - c0 + 1);
                mean += d / n;
                m2 += d * (v - mean);
            }
            bm[2 * b] = mean;
            bm[2 * b + 1] = m2;
            if (progress) {
                uint64_t now;
#pragma omp atomic capture
                now = done += c1 - c0;
                if (reporter) progress(ctx, now, chains, dlm_now() - t0);
            }
        }
    }
    /* combine the blocks in order (Chan et al.) */
    double mean = 0, m2 = 0, n = 0;
    for (uint64_t b = 0; b < nb; b++) {
        double nbk = (double)((b + 1) * KL_BLOCK < chains ? KL_BLOCK : chains - b * KL_BLOCK);
        double d = bm[2 * b] - mean, nn = n + nbk;
        mean += d * nbk / nn;
        m2 += bm[2 * b + 1] + d * d * n * nbk / nn;
        n = nn;
    }
    free(bm);
    free(scr);
    free(own);
    if (progress) progress(ctx, chains, chains, dlm_now() - t0);
    if (bad) return dlm_fail(err, DLM_ECHECK, "path-KL: a chain's score is not finite (a sample of probability 0?)");
    est->chains = chains;
    est->mean = mean;
    est->sd = sqrt(m2 / (n - 1));
    est->se = est->sd / sqrt(n);
    est->lo = mean - 1.959963984540054 * est->se;
    est->hi = mean + 1.959963984540054 * est->se;
    est->fast = c.fast;
    return DLM_OK;
}
