/* stats.c — the statistics of the verifier (dlm_stats.h): the few distribution
 * functions it needs, as thin, guarded wrappers over GSL, and the contingency
 * accumulators of its chi-square and G tests.
 *
 * Why guarded: GSL 2.7's gsl_cdf_chisq_Q calls the GSL error handler (which aborts by
 * default) for df around 2^24 and x a few standard deviations above df, and
 * gsl_cdf_binomial_P/Q return NaN near the centre for n >= ~2e6 (both measured on
 * this machine, docs/verify.md). The library must neither abort nor return NaN, so
 * each wrapper uses GSL only in the range where it was checked, a normal
 * approximation that is accurate there beyond it, and a NaN check as a last line.
 * What this file is not: a statistics library; it holds no state.
 */
#include "dlm_stats.h"

#include <gsl/gsl_cdf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define GSL_CHISQ_MAX_DF 1048576.0           /* 2^20: GSL checked on a grid up to here */
#define GSL_BINOM_MAX_N (UINT64_C(1) << 20)  /* GSL's binomial cdf checked up to here */

// ---------------------------------------------------------------- chi-square

/* Wilson-Hilferty: (X/df)^(1/3) is close to normal with mean 1 - 2/(9 df) and
 * variance 2/(9 df); the relative error of the tail is O(1/df), negligible above 2^20. */
static double chisq_q_wh(double x, double df)
{
    double v = 2.0 / (9.0 * df);
    double z = (cbrt(x / df) - (1.0 - v)) / sqrt(v);
    return gsl_cdf_ugaussian_Q(z);
}

double dlm_stat_chisq_q(double x, double df)
{
    if (!(df > 0)) return 1.0;
    if (!(x > 0)) return 1.0;
    if (df > GSL_CHISQ_MAX_DF) return chisq_q_wh(x, df);
    /* Beyond 60 standard deviations the tail is below 1e-300 for df >= 100; short-cut
     * it so that GSL never sees arguments it was not checked on. */
    if (df >= 100 && x > df + 60.0 * sqrt(2.0 * df)) return 0.0;
    double q = gsl_cdf_chisq_Q(x, df);
    if (!isfinite(q)) q = chisq_q_wh(x, df);
    return q < 0 ? 0 : q > 1 ? 1 : q;
}

// ---------------------------------------------------------------- binomial

static double binom_z(uint64_t k, uint64_t n, double p)
{
    double sd = sqrt((double)n * p * (1 - p));
    double z = ((double)k - (double)n * p) / sd;
    double q = 2.0 * gsl_cdf_ugaussian_Q(fabs(z));
    return q > 1 ? 1 : q;
}

double dlm_stat_binom_p2(uint64_t k, uint64_t n, double p)
{
    if (n == 0 || !(p > 0 && p < 1)) return 1.0;
    if (n > GSL_BINOM_MAX_N) return binom_z(k, n, p);
    unsigned kk = (unsigned)k, nn = (unsigned)n;
    double lo = gsl_cdf_binomial_P(kk, p, nn);                      /* P(X <= k) */
    double hi = kk == 0 ? 1.0 : gsl_cdf_binomial_Q(kk - 1, p, nn);  /* P(X >= k) */
    if (!isfinite(lo) || !isfinite(hi)) return binom_z(k, n, p);
    double q = 2.0 * (lo < hi ? lo : hi);
    return q > 1 ? 1 : q < 0 ? 0 : q;
}

double dlm_stat_z(double q)
{
    return gsl_cdf_ugaussian_Qinv(q);
}

// ---------------------------------------------------------------- Kolmogorov-Smirnov

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* P(K > l) for the Kolmogorov distribution; two series, each used where it converges
 * fast (the theta-function identity makes them equal). */
static double kolmogorov_q(double l)
{
    if (l <= 0) return 1.0;
    if (l < 1.18) {
        const double pi = 3.14159265358979323846;
        double s = 0, y = pi * pi / (8.0 * l * l);
        for (int k = 1; k <= 20; k++) s += exp(-(double)((2 * k - 1) * (2 * k - 1)) * y);
        double cdf = sqrt(2.0 * pi) / l * s;
        double q = 1.0 - cdf;
        return q < 0 ? 0 : q > 1 ? 1 : q;
    }
    double s = 0;
    for (int k = 1; k <= 100; k++) {
        double term = exp(-2.0 * (double)k * (double)k * l * l);
        s += (k & 1) ? term : -term;
        if (term < 1e-300) break;
    }
    double q = 2.0 * s;
    return q < 0 ? 0 : q > 1 ? 1 : q;
}

double dlm_stat_ks_uniform(double *x, size_t n, double *d)
{
    if (n == 0) {
        if (d) *d = 0;
        return 1.0;
    }
    qsort(x, n, sizeof *x, cmp_double);
    double dmax = 0;
    for (size_t i = 0; i < n; i++) {
        double f = x[i] < 0 ? 0 : x[i] > 1 ? 1 : x[i];
        double up = (double)(i + 1) / (double)n - f, dn = f - (double)i / (double)n;
        if (up > dmax) dmax = up;
        if (dn > dmax) dmax = dn;
    }
    if (d) *d = dmax;
    double sn = sqrt((double)n);
    return kolmogorov_q((sn + 0.12 + 0.11 / sn) * dmax);
}

// ---------------------------------------------------------------- Holm

typedef struct {
    double p;
    size_t i;
} pidx;

static int cmp_pidx(const void *a, const void *b)
{
    const pidx *x = a, *y = b;
    if (x->p != y->p) return (x->p > y->p) - (x->p < y->p);
    return (x->i > y->i) - (x->i < y->i);
}

dlm_status dlm_stat_holm(const double *p, size_t n, double *padj, dlm_err *err)
{
    if (n == 0) return DLM_OK;
    pidx *s = dlm_malloc(n, sizeof *s);
    if (!s) return dlm_fail(err, DLM_ENOMEM, "out of memory for Holm's correction");
    for (size_t i = 0; i < n; i++) {
        s[i].p = p[i];
        s[i].i = i;
    }
    qsort(s, n, sizeof *s, cmp_pidx);
    /* Step-down: the r-th smallest p (r from 0) is multiplied by n - r; adjusted values
     * are made monotone by a running maximum and capped at 1. */
    double run = 0;
    for (size_t r = 0; r < n; r++) {
        double a = (double)(n - r) * s[r].p;
        if (a > 1) a = 1;
        if (a > run) run = a;
        padj[s[r].i] = run;
    }
    free(s);
    return DLM_OK;
}

// ---------------------------------------------------------------- contingency accumulators (dlm_stats.h)


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

void dlm_stat_acc_cell(dlm_stat_acc *a, const uint64_t *O, const double *E)
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
double dlm_stat_acc_finish(dlm_stat_acc *a)
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


double dlm_stat_g_threshold(uint64_t m)
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

static void gacc_close(dlm_stat_gacc *a, const uint64_t *O, const double *E, int sign)
{
    a->g += sign * cell_g(a->rows, O, E);
    a->inv_sum += sign * group_inv(a->rows, O, E);
    a->cells = (uint64_t)((int64_t)a->cells + sign);
}

void dlm_stat_gacc_cell(dlm_stat_gacc *a, const uint64_t *O, const double *E)
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
double dlm_stat_gacc_finish(dlm_stat_gacc *a, double n, double n1, double n2, double *gw)
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
    dlm_stat_acc a = {.rows = 1};
    dlm_stat_gacc ga = {.rows = 1, .tg = dlm_stat_g_threshold(m)};
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
        dlm_stat_acc_cell(&a, &counts[x], &E);
        dlm_stat_gacc_cell(&ga, &counts[x], &E);
    }
    out->df_chi2 = dlm_stat_acc_finish(&a);
    out->chi2 = a.chi2;
    out->p_chi2 = out->df_chi2 > 0 ? dlm_stat_chisq_q(a.chi2, out->df_chi2) : 1.0;
    out->df_g = dlm_stat_gacc_finish(&ga, (double)n, 0, 0, &out->g);
    out->p_g = out->df_g > 0 ? dlm_stat_chisq_q(out->g, out->df_g) : 1.0;
    out->tv = 0.5 * l1;
}
