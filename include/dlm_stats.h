/* dlm_stats.h — the statistics the verifier and the oracle sampler's --verify run
 * (host/verify/stats.c): guarded distribution functions over GSL, Holm's correction,
 * the contingency accumulators behind the chi-square and G tests, and a histogram's
 * goodness of fit. No state; nothing here samples. */
#ifndef DLM_STATS_H
#define DLM_STATS_H

#include "dlmsim.h"

#ifdef __cplusplus
extern "C" {
#endif

#define DLM_VERIFY_MIN_EXPECTED 5.0      /* cells expected below this are pooled */

/* Upper tail of chi-square with df degrees of freedom: GSL's gsl_cdf_chisq_Q for
 * df <= 2^20, the Wilson-Hilferty normal approximation above (where GSL can fail). */
double dlm_stat_chisq_q(double x, double df);
/* Two-sided binomial p-value of k successes in n trials with P(success) = p:
 * min(1, 2 min(P(X <= k), P(X >= k))) from GSL for n <= 2^20, a z-test (normal
 * approximation, no continuity correction) above. p must be in (0, 1). */
double dlm_stat_binom_p2(uint64_t k, uint64_t n, double p);
/* Kolmogorov-Smirnov test of x[0..n-1] (sorted in place) against Uniform(0, 1):
 * *d = sup |F_n - F|; returns the asymptotic p-value Q_KS((sqrt(n) + 0.12 +
 * 0.11/sqrt(n)) d) (Stephens' correction), Q_KS(l) = 2 sum_k (-1)^(k-1) e^(-2 k^2 l^2). */
double dlm_stat_ks_uniform(double *x, size_t n, double *d);
/* Holm step-down adjusted p-values: padj[i] for p[i], monotone, capped at 1. */
dlm_status dlm_stat_holm(const double *p, size_t n, double *padj, dlm_err *err);
/* Upper-tail standard normal quantile: z with P(Z > z) = q. */
double dlm_stat_z(double q);

/* Goodness of fit of a histogram to an exact law. */
typedef struct {
    double chi2, df_chi2, p_chi2; /* Pearson, cells with expected count < 5 pooled */
    double g, df_g, p_g;          /* G-test on groups of expected count >= max(20, 2 m^(1/4)),
                                     Williams-corrected (docs/verify.md) */
    uint64_t impossible;          /* samples in cells of probability 0 */
    uint64_t first_impossible;    /* the first such cell */
    double tv;                    /* TV(empirical, p) */
} dlm_gof;

/* Tests counts[0..cells-1] against the law p[0..cells-1] (the same tests as the
 * verifier's hist-chi2 and hist-g); a p-value is 1 when its df is 0. */
void dlm_stat_hist_gof(const double *p, const uint64_t *counts, uint64_t cells, dlm_gof *out);

// ---------------------------------------------------------------- contingency accumulators

/* Cells carry `rows` observed and expected counts: rows = 1 is goodness of fit
 * (E = n p), rows = 2 two-sample homogeneity (E_r = N_r * column total / (N_1 + N_2)).
 *
 * Pearson (dlm_stat_acc): a cell whose smallest expected count is below DLM_VERIFY_MIN_EXPECTED
 * goes into one pooled cell; if the pooled cell is itself still small it is merged into
 * the smallest regular cell. df = cells - 1. Pearson's statistic has mean exactly df
 * under the null whatever the expected counts, so this suffices.
 *
 * G (dlm_stat_gacc): G is biased upwards when expected counts are small (measured: 4.4 standard
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
} dlm_stat_acc;

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
} dlm_stat_gacc;

/* Adds one cell: O[0..rows-1] observed, E[0..rows-1] expected. */
void dlm_stat_acc_cell(dlm_stat_acc *a, const uint64_t *O, const double *E);
/* Closes the pooled cell; returns df (cells - 1, 0 if fewer than two cells). */
double dlm_stat_acc_finish(dlm_stat_acc *a);

/* t_g = max(20, 2 m^(1/4)): the G-test's group threshold for m cells. */
double dlm_stat_g_threshold(uint64_t m);
/* Adds one cell to the open group (closing it once its expected count reaches tg). */
void dlm_stat_gacc_cell(dlm_stat_gacc *a, const uint64_t *O, const double *E);
/* Closes the open group and returns df; *gw receives G / q (Williams). n: total count;
 * n1, n2: the two sample sizes (rows 2). */
double dlm_stat_gacc_finish(dlm_stat_gacc *a, double n, double n1, double n2, double *gw);

#ifdef __cplusplus
}
#endif
#endif
