/* dlm_kl.h — exact KL of random-order DLM sampling against the number of rounds
 * (`dlmsim kl`, docs/kl.md; the derivation is docs/oracle.md, "What must be computed
 * exactly, and how").
 *
 * Setting. A law p over x in {0..V-1}^L; a sampler with the exact factorized oracle
 * reveals, in round t = 1..T, s_t still-masked positions chosen uniformly at random
 * and fills each from its exact conditional marginal given the tokens revealed in
 * earlier rounds (no remasking, no revision). For a realized ordered partition
 * D = (D_1..D_T) its output law is q_D; M denotes the random partition.
 *
 * What this module computes (natural logs, nats):
 *   g(k)      the average over k-subsets S of the joint entropy H(X_S), k = 0..L,
 *             exactly from a full table (dlm_kl_g);
 *   sum I     = sum_i I(X_i; X_-i) = L (dg(0) - dg(L-1)), dg(k) = g(k+1) - g(k);
 *   TC        = L g(1) - g(L);   DTC = g(L) - L dg(L-1);
 *   E_M KL(p || q_M) = sum_t [ s_t dg(m_t) - (g(m_t + s_t) - g(m_t)) ], m_t = s_1 + ..
 *             + s_{t-1}, for fixed sizes; for random sizes drawn independently of x
 *             (Binomial time grids, the randomized-size rule below) the expectation
 *             of the same per-round term over the law of (m_t, s_t), by exact DP;
 *   the optimal T-round size schedule for g (DP over compositions of L);
 *   the brute-force E_M KL and the mixture q_bar = E_M q_M by enumerating every
 *             ordered partition (small L), and divergences between two tables;
 *   the unbiased path-KL estimator for laws too large to tabulate (dlm_kl_path).
 *
 * KL directions: "forward" KL(p || q) = sum_x p(x) log(p(x)/q(x)) is Li & Cai's
 * direction (+inf when q misses part of p's support); "reverse" KL(q || p).
 * The library prints nothing and keeps no global state; errors go to a dlm_err.
 */
#ifndef DLM_KL_H
#define DLM_KL_H

#include "dlm_law.h"
#include "dlmsim.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// ---------------------------------------------------------------- schedules

/* A size schedule over T rounds. Positions are always chosen uniformly at random;
 * the kinds differ in how many are revealed per round:
 *   DLM_KL_SIZES     fixed sizes s[0..T-1] (each >= 0) summing to L (from
 *                    dlm_sched_fixed, dlm_sched_grid, or the optimal DP);
 *   DLM_KL_BINOMIAL  every still-masked token is revealed in round t independently
 *                    with probability r[t] (r[T-1] = 1): Dream `origin`, MDLM; the
 *                    round sizes are Binomial (dlm_grid_reveal_p fills r);
 *   DLM_KL_RANDSIZE  randomized sizes, our reading of Zhao & Cai [unverified,
 *                    docs/oracle.md 3.2]: with n tokens masked and r rounds left
 *                    (this one included), the last round (r = 1) reveals all n;
 *                    otherwise, with a = ceil(n / r) and J = floor(log2(min(n, 2a))),
 *                    the round reveals 2^j tokens, j uniform on 0..J (n = 0: none).
 * s or r is borrowed (not copied) and must outlive the schedule's use. */
typedef enum { DLM_KL_SIZES = 0, DLM_KL_BINOMIAL = 1, DLM_KL_RANDSIZE = 2 } dlm_kl_kind;

typedef struct {
    int kind;           /* dlm_kl_kind */
    uint32_t T;         /* rounds, >= 1 */
    const uint32_t *s;  /* SIZES: T sizes */
    const double *r;    /* BINOMIAL: T reveal probabilities */
} dlm_kl_sched;

/* Checks a schedule against L: T >= 1, sizes sum to L, probabilities in [0, 1] with
 * the last equal to 1. DLM_EINPUT with a one-line message otherwise. */
dlm_status dlm_kl_sched_check(const dlm_kl_sched *sc, uint32_t L, dlm_err *err);

/* The law of the size of round t (0-based) given n tokens still masked: prob[s] for
 * s = 0..n (n+1 doubles, summing to 1). For SIZES, prob[s_t] = 1 (s_t is clipped to
 * n). RANDSIZE's J is dlm_sched_randsize_J (dlm_schedule.h), which the
 * sampler's randsize count rule uses too. */
void dlm_kl_round_law(const dlm_kl_sched *sc, uint32_t t, uint32_t n, double *prob);

// ---------------------------------------------------------------- g and dependence

/* g[0..L]: g[k] = the mean over all k-subsets S of [L] of H(X_S), in nats, from the
 * full table p (V^L entries, index sum_i x_i V^i, summing to 1; V >= 2, L >= 1).
 * Cost about (V+1)^L additions and logs: every subset's marginal is made by a
 * depth-first search that sums positions out of the table, keeping at most about
 * V/(V-1) V^L doubles per thread. threads <= 0: all cores. Results are the same
 * for every thread count (per-branch sums combined in a fixed order).
 * DLM_EINPUT when (V+1)^L exceeds max_work (0: no limit), DLM_ENOMEM. */
dlm_status dlm_kl_g(const double *p, uint32_t L, uint32_t V, int threads, double max_work,
                    double *g, dlm_err *err);
/* dlm_kl_g with a progress hook (dlm_progress_fn, NULL for none): the DFS's top
 * branches done of their number (at most 64). The same g. */
dlm_status dlm_kl_g_progress(const double *p, uint32_t L, uint32_t V, int threads, double max_work,
                             dlm_progress_fn progress, void *ctx, double *g, dlm_err *err);

/* Dependence numbers from g (nats). */
typedef struct {
    double H;     /* g(L) = H(X) */
    double sumI;  /* sum_i I(X_i; X_-i) = L (dg(0) - dg(L-1)) */
    double TC;    /* total correlation, L g(1) - g(L) */
    double DTC;   /* dual total correlation, g(L) - L dg(L-1) */
} dlm_kl_dep;

void dlm_kl_dep_from_g(const double *g, uint32_t L, dlm_kl_dep *d);

/* The same numbers for a Markov chain on the tokens (an HMM law without emissions,
 * S <= 64 states), any L, without g: H(X) by the chain rule, TC = sum_i H(X_i) - H(X),
 * DTC = H(X) - sum_i H(X_i | X_{i-1}, X_{i+1}), sum I = TC + DTC. O(L S^3).
 * DLM_EINPUT for other laws. */
dlm_status dlm_kl_dep_markov(const dlm_law *law, dlm_kl_dep *d, dlm_err *err);

// ---------------------------------------------------------------- exact E_M KL

/* E_M KL(p || q_M) of fixed sizes s[0..T-1] (summing to L), by the formula. */
/* A KL divergence as reported (the CLI's tables, JSON and CSV, the kl table, Python): a
 * value in [-DLM_KL_TOL, 0), a rounding error of the sum, is 0; anything else is as it
 * is (a KL further below 0 is a bug to see). */
#define DLM_KL_TOL 1e-12
static inline double dlm_kl_shown(double kl) { return kl < 0 && kl >= -DLM_KL_TOL ? 0.0 : kl; }

double dlm_kl_sizes(const double *g, uint32_t L, const uint32_t *s, uint32_t T);

/* E_M KL(p || q_M) of any schedule kind, by exact DP over the number revealed before
 * each round (O(T L^2)); equals dlm_kl_sizes bit for bit on DLM_KL_SIZES. The
 * schedule must pass dlm_kl_sched_check. */
double dlm_kl_expected(const double *g, uint32_t L, const dlm_kl_sched *sc);

/* The expected largest round size E[s_max] of a schedule (exact DP for random kinds,
 * O(T L^3), NAN when T (L+1)^3 > 1e9; the maximum for SIZES). */
double dlm_kl_expected_smax(uint32_t L, const dlm_kl_sched *sc);

/* The optimal T-round schedule (1 <= T <= L, every round reveals >= 1): minimizes
 * dlm_kl_sizes over all compositions of L into T parts by DP (O(T L^2)); writes the
 * sizes to s[0..T-1] (ties within 1e-12: the smallest first size, then recursively) and
 * returns the minimum. */
double dlm_kl_optimal(const double *g, uint32_t L, uint32_t T, uint32_t *s);

// ---------------------------------------------------------------- bounds

/* Overlays for s_max (largest round size) and T rounds (nats):
 *   li_cai  = (2^ceil(log2 s_max) - 1) / L * sum I   (Li & Cai, Theorem 1)
 *   smax    = (s_max - 1) / L * sum I                (concavity of g)
 *   tc_T    = TC / T,  dtc_T = DTC / T               (Zhao & Cai's rates, constants 1) */
typedef struct {
    double li_cai, smax, tc_T, dtc_T;
} dlm_kl_bounds;

void dlm_kl_bounds_of(const dlm_kl_dep *d, uint32_t L, uint32_t smax, uint32_t T,
                      dlm_kl_bounds *b);

// ---------------------------------------------------------------- brute force, q_bar

/* Enumerates every ordered partition of [L] with the fixed sizes s[0..T-1] (all
 * L! / prod s_t! of them, equally likely) and for each builds q_D from the table p's
 * exact conditionals. Writes the brute-force E_M KL(p || q_M) to *emkl (may be NULL)
 * and, if qbar is non-NULL, the mixture law q_bar = E_M q_M (V^L doubles).
 * For L <= 12 and V^L <= 2^20; the work (partitions x V^L x L) must be <= max_work
 * (0: 2e9). DLM_EINPUT beyond, DLM_ENOMEM. Single-threaded, deterministic. */
dlm_status dlm_kl_enum_sizes(const double *p, uint32_t L, uint32_t V, const uint32_t *s,
                             uint32_t T, double max_work, double *emkl, double *qbar,
                             dlm_err *err);

/* Divergences between two tables of n entries (each summing to 1):
 *   forward KL(p || q) = sum p log(p/q)  (+INFINITY when some q(x) = 0 < p(x))
 *   reverse KL(q || p) = dlm_kl_div(q, p, n)
 *   TV(p, q) = 1/2 sum |p - q|. */
double dlm_kl_div(const double *p, const double *q, uint64_t n);
double dlm_kl_tv(const double *p, const double *q, uint64_t n);

// ---------------------------------------------------------------- path-KL estimator

/* Result of the path-KL estimator: the sample mean of the per-chain score, its
 * standard error and the 95% normal interval mean +- 1.959964 se. */
typedef struct {
    uint64_t chains;
    double mean, sd, se, lo, hi;
    int fast;   /* 1: scored by the Markov-chain shortcut (matrix powers), 0: dlm_oracle_probs */
} dlm_kl_est;

/* The unbiased path-KL estimate of E_M KL(p || q_M) (docs/oracle.md item 6): for
 * chain c = 0..chains-1, x = dlm_law_sample(law, seed, c); a reveal order M drawn from
 * the schedule with Philox words from the counter domain below; score
 *     log p(x) - sum_t sum_{i in D_t} log p(x_i | x_{D<t}),
 * whose expectation is exactly E_M KL. Log-conditionals come from dlm_oracle_probs
 * (any law), or, for Markov chains (HMM without emissions) with S^2 (L+1) <= 2^23, from
 * matrix powers of the transition matrix (the same numbers; test_kl checks both).
 * Order randomness, chain c under seed s: 32-bit words in order, 4 per block k =
 * 0, 1, ..: Philox4x32-10(counter = {k, 0x4B4C5052 ("KLPR"), c mod 2^32, c / 2^32},
 * key = {s mod 2^32, (s / 2^32) ^ 0x6B6C6B6C}) — a domain no other stream of dlmsim
 * uses. SIZES and RANDSIZE: a Fisher-Yates permutation (Lemire's exact bounded
 * integers, j = L-1 down to 1), cut by the sizes (RANDSIZE draws each round's j from
 * one further word, floor(w (J+1) / 2^32)); BINOMIAL: each position i = 0..L-1 gets
 * its round from one 53-bit uniform (two words) by inverting the round CDF.
 * Deterministic per (seed, chain) and for every thread count (threads <= 0: all
 * cores): chains are summed in fixed blocks of 256, blocks combined in order.
 * Scratch is sized before allocation. DLM_EINPUT for a bad schedule, DLM_ENOMEM. */
dlm_status dlm_kl_path(const dlm_law *law, const dlm_kl_sched *sc, uint64_t chains,
                       uint64_t seed, int threads, int allow_fast, dlm_kl_est *est,
                       dlm_err *err);

/* dlm_kl_path with a progress hook (dlm_progress_fn, NULL for none): the chains scored
 * of chains, after blocks of 256; the same estimate. */
dlm_status dlm_kl_path_progress(const dlm_law *law, const dlm_kl_sched *sc, uint64_t chains,
                                uint64_t seed, int threads, int allow_fast, dlm_progress_fn progress,
                                void *ctx, dlm_kl_est *est, dlm_err *err);

/* The score of one chain (as above), for tests; scratch-free (allocates). Returns
 * NAN on allocation failure. */
double dlm_kl_path_score(const dlm_law *law, const dlm_kl_sched *sc, uint64_t seed,
                         uint64_t chain, int allow_fast);

#ifdef __cplusplus
}
#endif
#endif
