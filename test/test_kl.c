/* test_kl.c — the exact KL module (dlm_kl.h, `dlmsim kl`, docs/kl.md):
 *   self-checks: one token a round gives KL = 0, one round gives KL = TC, the formula
 *   equals brute force over every ordered partition within 1e-12 on random laws with
 *   L <= 8 (V = 2 and 3); the reference numbers of docs/oracle.md for the binary
 *   symmetric chain (L = 10, flip 0.1); parity's KL = ln 2 exactly when the last round
 *   reveals >= 2; the Binomial and randomized-size DPs against an independent
 *   enumeration; the optimal-schedule DP against every composition; q_bar and the
 *   divergences; g the same for 1 and 2 threads; the path-KL estimator bracketing the
 *   exact value; the CLI end to end (exit codes, CSV columns, JSON parses, bad input).
 *
 * Build and run (from the repository root; the CLI tests call DLM_BIN):
 *   make BUILD=build/kl CUDA=0 build/kl/dlmsim build/kl/test/test_kl && build/kl/test/test_kl
 */
#include "dlm_test.h"
#include "dlm_kl.h"
#include "dlm_schedule.h"

#include <math.h>

// ---------------------------------------------------------------- helpers

/* xorshift64* for the random test laws (test code only). */
static double urand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * UINT64_C(2685821657736338717)) >> 11) * 0x1.0p-53;
}

/* Dirichlet(1,..,1) table of V^L entries (normalized exponentials). */
static double *random_law(uint32_t L, uint32_t V, uint64_t seed)
{
    uint64_t N = 1;
    for (uint32_t i = 0; i < L; i++) N *= V;
    double *p = malloc(N * sizeof *p), z = 0;
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (uint64_t x = 0; x < N; x++) z += p[x] = -log(1.0 - urand(&s));
    for (uint64_t x = 0; x < N; x++) p[x] /= z;
    return p;
}

/* Binary symmetric chain table, uniform start: index sum x_i 2^i. */
static double *bsc_law(uint32_t L, double flip)
{
    uint64_t N = UINT64_C(1) << L;
    double *p = malloc(N * sizeof *p);
    for (uint64_t x = 0; x < N; x++) {
        double q = 0.5;
        for (uint32_t i = 1; i < L; i++) q *= (((x >> i) ^ (x >> (i - 1))) & 1) ? flip : 1 - flip;
        p[x] = q;
    }
    return p;
}

/* The composition of n whose part boundaries are the set bits of mask (bit i: a part
 * ends after element i, i < n - 1) into s; returns the number of parts. */
static uint32_t composition(uint32_t mask, uint32_t n, uint32_t *s)
{
    uint32_t T = 0, run = 1;
    for (uint32_t i = 0; i + 1 < n; i++) {
        if (mask >> i & 1) {
            s[T++] = run;
            run = 1;
        } else {
            run++;
        }
    }
    s[T++] = run;
    return T;
}

static double *parity_law(uint32_t n)
{
    uint64_t N = UINT64_C(1) << n;
    double *p = malloc(N * sizeof *p);
    for (uint64_t x = 0; x < N; x++) p[x] = __builtin_popcountll(x) % 2 ? 0.0 : 1.0 / (double)(N / 2);
    return p;
}

static void g_ok(const double *p, uint32_t L, uint32_t V, double *g)
{
    dlm_err e;
    if (dlm_kl_g(p, L, V, 2, 0, g, &e)) fail_msg("dlm_kl_g: %s", e.msg);
}

// ---------------------------------------------------------------- self-checks

static void one_per_round_is_zero_and_one_round_is_tc(void **state)
{
    (void)state;
    for (uint32_t V = 2; V <= 3; V++) {
        uint32_t L = V == 2 ? 8 : 6;
        double *p = random_law(L, V, 7 + V), g[16];
        g_ok(p, L, V, g);
        dlm_kl_dep d;
        dlm_kl_dep_from_g(g, L, &d);
        uint32_t ones[16], all[1] = {L};
        for (uint32_t i = 0; i < L; i++) ones[i] = 1;
        assert_true(dlm_kl_sizes(g, L, ones, L) == 0.0);
        assert_true(fabs(dlm_kl_sizes(g, L, all, 1) - d.TC) < 1e-12);
        assert_true(fabs(d.TC + d.DTC - d.sumI) < 1e-12);
        /* brute force agrees on both ends */
        double bf;
        dlm_err e;
        assert_int_equal(dlm_kl_enum_sizes(p, L, V, all, 1, 0, &bf, NULL, &e), DLM_OK);
        assert_true(fabs(bf - d.TC) < 1e-12);
        assert_int_equal(dlm_kl_enum_sizes(p, L, V, ones, L, 0, &bf, NULL, &e), DLM_OK);
        assert_true(fabs(bf) < 1e-12);
        free(p);
    }
}

static void formula_equals_brute_force(void **state)
{
    (void)state;
    static const struct {
        uint32_t L, V, T, s[8];
    } cases[] = {
        {8, 2, 2, {4, 4}}, {8, 2, 3, {3, 3, 2}}, {8, 2, 3, {2, 3, 3}}, {8, 2, 4, {2, 2, 2, 2}},
        {8, 2, 3, {5, 2, 1}}, {8, 2, 3, {1, 2, 5}}, {7, 2, 2, {4, 3}}, {6, 3, 3, {2, 2, 2}},
        {6, 3, 2, {4, 2}}, {6, 3, 2, {2, 4}}, {6, 3, 4, {1, 3, 0, 2}}, {5, 3, 2, {3, 2}},
        {4, 4, 2, {2, 2}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (uint64_t seed = 1; seed <= 3; seed++) {
            uint32_t L = cases[c].L, V = cases[c].V;
            double *p = random_law(L, V, seed * 100 + c), g[16], bf;
            g_ok(p, L, V, g);
            dlm_err e;
            assert_int_equal(dlm_kl_enum_sizes(p, L, V, cases[c].s, cases[c].T, 0, &bf, NULL, &e), DLM_OK);
            double f = dlm_kl_sizes(g, L, cases[c].s, cases[c].T);
            if (fabs(f - bf) > 1e-12) fail_msg("case %zu seed %llu: formula %.17g brute force %.17g", c,
                                               (unsigned long long)seed, f, bf);
            free(p);
        }
    }
}

static void g_is_thread_independent(void **state)
{
    (void)state;
    double *p = random_law(10, 3, 42), g1[11], g2[11], g3[11];
    dlm_err e;
    assert_int_equal(dlm_kl_g(p, 10, 3, 1, 0, g1, &e), DLM_OK);
    assert_int_equal(dlm_kl_g(p, 10, 3, 2, 0, g2, &e), DLM_OK);
    assert_int_equal(dlm_kl_g(p, 10, 3, 5, 0, g3, &e), DLM_OK);
    assert_memory_equal(g1, g2, sizeof g1);
    assert_memory_equal(g1, g3, sizeof g1);
    /* g concave, g(0) = 0, g(L) = H */
    assert_true(g1[0] == 0.0);
    for (int k = 1; k < 10; k++) assert_true(g1[k + 1] - g1[k] <= g1[k] - g1[k - 1] + 1e-12);
    double h = 0;
    for (uint64_t x = 0; x < 59049; x++) h -= p[x] > 0 ? p[x] * log(p[x]) : 0;
    assert_true(fabs(h - g1[10]) < 1e-12);
    /* the work limit is bad input */
    assert_int_equal(dlm_kl_g(p, 10, 3, 1, 1e3, g1, &e), DLM_EINPUT);
    free(p);
}

// ---------------------------------------------------------------- reference numbers

#define NEAR3(x, want) assert_true(fabs((x) - (want)) < 5e-4 + 1e-12)

static void bsc_reference_values(void **state)
{
    (void)state;
    double *p = bsc_law(10, 0.1), g[11];
    g_ok(p, 10, 2, g);
    dlm_kl_dep d;
    dlm_kl_dep_from_g(g, 10, &d);
    NEAR3(d.sumI, 4.851);
    NEAR3(d.TC, 3.313);
    NEAR3(d.DTC, 1.539);
    uint32_t s1[1] = {10}, s2[2] = {5, 5}, s3[3] = {4, 3, 3}, s5[5] = {2, 2, 2, 2, 2},
             s9[9] = {2, 1, 1, 1, 1, 1, 1, 1, 1};
    NEAR3(dlm_kl_sizes(g, 10, s1, 1), 3.313);
    NEAR3(dlm_kl_sizes(g, 10, s2, 2), 1.323);
    NEAR3(dlm_kl_sizes(g, 10, s3, 3), 0.878);
    NEAR3(dlm_kl_sizes(g, 10, s5, 5), 0.297);
    NEAR3(dlm_kl_sizes(g, 10, s9, 9), 0.157);
    /* the sizes come from dlm_schedule.h's LLaDA rule (remainder first) */
    for (uint32_t i = 0; i < 3; i++) assert_int_equal(dlm_sched_fixed(10, 3, i, 1), s3[i]);
    for (uint32_t i = 0; i < 9; i++) assert_int_equal(dlm_sched_fixed(10, 9, i, 1), s9[i]);
    /* bounds of the table: (s_max-1)/L sum I and Li-Cai at T = 2, 3 */
    dlm_kl_bounds b;
    dlm_kl_bounds_of(&d, 10, 5, 2, &b);
    /* oracle.md prints 1.941; the exact value is 0.4 x 4.851126 = 1.94045 */
    assert_true(fabs(b.smax - 1.94045) < 1e-5);
    NEAR3(b.li_cai, 3.396);
    dlm_kl_bounds_of(&d, 10, 4, 3, &b);
    NEAR3(b.smax, 1.455);
    NEAR3(b.li_cai, 1.455);
    dlm_kl_bounds_of(&d, 10, 10, 1, &b);
    NEAR3(b.li_cai, 7.277);
    free(p);
}

static void parity_kl_is_ln2_iff_last_round_reveals_two(void **state)
{
    (void)state;
    const uint32_t n = 8;
    double *p = parity_law(n), g[9];
    g_ok(p, n, 2, g);
    dlm_kl_dep d;
    dlm_kl_dep_from_g(g, n, &d);
    assert_true(fabs(d.sumI - n * M_LN2) < 1e-12);
    assert_true(fabs(d.TC - M_LN2) < 1e-12);
    assert_true(fabs(d.DTC - (n - 1) * M_LN2) < 1e-12);
    /* every composition of 8 */
    for (uint32_t mask = 0; mask < (1u << (n - 1)); mask++) {
        uint32_t s[8], T = composition(mask, n, s);
        double kl = dlm_kl_sizes(g, n, s, T), want = s[T - 1] >= 2 ? M_LN2 : 0.0;
        if (fabs(kl - want) > 1e-12) fail_msg("parity composition mask %u: %.17g", mask, kl);
    }
    /* sizes [2,2,2,2]: the bound (s_max - 1)/L sum I = ln 2 is attained */
    dlm_kl_bounds b;
    dlm_kl_bounds_of(&d, n, 2, 4, &b);
    assert_true(fabs(b.smax - M_LN2) < 1e-12 && fabs(b.li_cai - M_LN2) < 1e-12);
    free(p);
}

// ---------------------------------------------------------------- random sizes, optimal

/* E over all T^L round assignments (each token independently, P(round t) = prod_{u<t}
 * (1 - r_u) r_t) of the fixed-size formula: independent of the DP's binomial law. */
static double binomial_brute(const double *g, uint32_t L, const double *r, uint32_t T)
{
    double pt[8], keep = 1.0, e = 0.0;
    for (uint32_t t = 0; t < T; t++) {
        pt[t] = keep * r[t];
        keep *= 1 - r[t];
    }
    uint64_t n = 1;
    for (uint32_t i = 0; i < L; i++) n *= T;
    for (uint64_t a = 0; a < n; a++) {
        uint32_t s[8] = {0};
        double pr = 1.0;
        uint64_t y = a;
        for (uint32_t i = 0; i < L; i++) {
            s[y % T]++;
            pr *= pt[y % T];
            y /= T;
        }
        e += pr * dlm_kl_sizes(g, L, s, T);
    }
    return e;
}

/* The randomized-size rule written again: recursive enumeration of size sequences. */
static double randsize_brute(const double *g, uint32_t L, uint32_t T, uint32_t t, uint32_t *s, double pr)
{
    uint32_t m = 0;
    for (uint32_t u = 0; u < t; u++) m += s[u];
    uint32_t n = L - m;
    if (t == T - 1) {
        s[t] = n;
        return pr * dlm_kl_sizes(g, L, s, T);
    }
    if (n == 0) {
        s[t] = 0;
        return randsize_brute(g, L, T, t + 1, s, pr);
    }
    uint32_t r = T - t, a = (n + r - 1) / r, cap = 2 * a < n ? 2 * a : n, J = 0;
    while ((2u << J) <= cap) J++;
    double e = 0;
    for (uint32_t j = 0; j <= J; j++) {
        s[t] = 1u << j;
        e += randsize_brute(g, L, T, t + 1, s, pr / (J + 1));
    }
    return e;
}

static void random_size_dps_match_enumeration(void **state)
{
    (void)state;
    const uint32_t L = 7;
    double *p = random_law(L, 2, 5), g[8];
    g_ok(p, L, 2, g);
    for (uint32_t T = 1; T <= 5; T++) {
        double r[8];
        for (int kind = 0; kind < 2; kind++) {
            for (uint32_t t = 0; t < T; t++) r[t] = dlm_grid_reveal_p(kind, T, t, DLM_GRID_EPS_DEFAULT);
            dlm_kl_sched sc = {DLM_KL_BINOMIAL, T, NULL, r};
            dlm_err e;
            assert_int_equal(dlm_kl_sched_check(&sc, L, &e), DLM_OK);
            double dp = dlm_kl_expected(g, L, &sc), bf = binomial_brute(g, L, r, T);
            if (fabs(dp - bf) > 1e-12) fail_msg("binomial T=%u kind %d: dp %.17g brute %.17g", T, kind, dp, bf);
        }
        dlm_kl_sched rs = {DLM_KL_RANDSIZE, T, NULL, NULL};
        uint32_t s[8];
        double dp = dlm_kl_expected(g, L, &rs), bf = randsize_brute(g, L, T, 0, s, 1.0);
        if (fabs(dp - bf) > 1e-12) fail_msg("randsize T=%u: dp %.17g brute %.17g", T, dp, bf);
    }
    /* DLM_KL_SIZES through the DP is the formula bit for bit */
    uint32_t s[3] = {3, 2, 2};
    dlm_kl_sched fs = {DLM_KL_SIZES, 3, s, NULL};
    assert_true(dlm_kl_expected(g, L, &fs) == dlm_kl_sizes(g, L, s, 3));
    assert_true(dlm_kl_expected_smax(L, &fs) == 3.0);
    free(p);
}

static void optimal_dp_beats_every_composition(void **state)
{
    (void)state;
    const uint32_t L = 10;
    double *p = random_law(L, 2, 11), g[11];
    g_ok(p, L, 2, g);
    for (uint32_t T = 1; T <= L; T++) {
        uint32_t best[10];
        double opt = dlm_kl_optimal(g, L, T, best), bf = INFINITY;
        uint32_t sum = 0;
        for (uint32_t t = 0; t < T; t++) {
            assert_true(best[t] >= 1);
            sum += best[t];
        }
        assert_int_equal(sum, L);
        assert_true(fabs(opt - dlm_kl_sizes(g, L, best, T)) < 1e-15);
        for (uint32_t mask = 0; mask < (1u << (L - 1)); mask++) {
            if ((uint32_t)__builtin_popcount(mask) != T - 1) continue;
            uint32_t s[10];
            composition(mask, L, s);
            double v = dlm_kl_sizes(g, L, s, T);
            if (v < bf) bf = v;
        }
        if (fabs(opt - bf) > 1e-12) fail_msg("T=%u: dp %.17g brute %.17g", T, opt, bf);
    }
    free(p);
}

// ---------------------------------------------------------------- q_bar, divergences

static void qbar_and_divergences(void **state)
{
    (void)state;
    /* parity:4 with sizes [2,2]: every q_D puts 1/16 on each string, so q_bar is uniform */
    double *p = parity_law(4), qbar[16], emkl;
    uint32_t s[2] = {2, 2};
    dlm_err e;
    assert_int_equal(dlm_kl_enum_sizes(p, 4, 2, s, 2, 0, &emkl, qbar, &e), DLM_OK);
    for (int x = 0; x < 16; x++) assert_true(fabs(qbar[x] - 1.0 / 16) < 1e-15);
    assert_true(fabs(emkl - M_LN2) < 1e-12);
    assert_true(fabs(dlm_kl_div(p, qbar, 16) - M_LN2) < 1e-12); /* forward */
    assert_true(isinf(dlm_kl_div(qbar, p, 16)));                /* reverse: q_bar leaves the support */
    assert_true(fabs(dlm_kl_tv(p, qbar, 16) - 0.5) < 1e-15);
    /* mixture KL <= E_M KL (convexity) on a random law; q_bar sums to 1 */
    double *r = random_law(6, 2, 3), qb[64], em;
    uint32_t s3[3] = {2, 2, 2};
    assert_int_equal(dlm_kl_enum_sizes(r, 6, 2, s3, 3, 0, &em, qb, &e), DLM_OK);
    double z = 0;
    for (int x = 0; x < 64; x++) z += qb[x];
    assert_true(fabs(z - 1) < 1e-12);
    assert_true(dlm_kl_div(r, qb, 64) <= em + 1e-12);
    assert_true(dlm_kl_tv(r, r, 64) == 0.0 && dlm_kl_div(r, r, 64) == 0.0);
    /* limits are bad input */
    uint32_t s13[1] = {13};
    assert_int_equal(dlm_kl_enum_sizes(r, 13, 2, s13, 1, 0, &em, NULL, &e), DLM_EINPUT);
    uint32_t bad[2] = {3, 2};
    assert_int_equal(dlm_kl_enum_sizes(r, 6, 2, bad, 2, 0, &em, NULL, &e), DLM_EINPUT);
    free(r);
    free(p);
}


// ---------------------------------------------------------------- laws: path-KL, Markov dependence

static void law_ok(const char *spec, dlm_law *law)
{
    dlm_err e;
    if (dlm_law_load(spec, law, 0, &e)) fail_msg("%s: %s", spec, e.msg);
}

static void markov_dependence_matches_g(void **state)
{
    (void)state;
    dlm_law law;
    law_ok("bsc:10:0.1", &law);
    double *p, g[11];
    dlm_err e;
    assert_int_equal(dlm_law_table(&law, &p, &e), DLM_OK);
    g_ok(p, 10, 2, g);
    dlm_kl_dep a, b;
    dlm_kl_dep_from_g(g, 10, &a);
    assert_int_equal(dlm_kl_dep_markov(&law, &b, &e), DLM_OK);
    assert_true(fabs(a.H - b.H) < 1e-10 && fabs(a.TC - b.TC) < 1e-10 && fabs(a.DTC - b.DTC) < 1e-10);
    assert_true(fabs(a.sumI - b.sumI) < 1e-10);
    free(p);
    dlm_law_free(&law);
    dlm_law par;
    law_ok("parity:6", &par);
    assert_int_equal(dlm_kl_dep_markov(&par, &b, &e), DLM_EINPUT);
    dlm_law_free(&par);
}

static void path_kl_brackets_exact_value(void **state)
{
    (void)state;
    dlm_law law;
    law_ok("bsc:10:0.1", &law);
    double *p, g[11];
    dlm_err e;
    assert_int_equal(dlm_law_table(&law, &p, &e), DLM_OK);
    g_ok(p, 10, 2, g);
    uint32_t s2[2] = {5, 5}, s5[5] = {2, 2, 2, 2, 2};
    double r[3];
    for (uint32_t t = 0; t < 3; t++) r[t] = dlm_grid_reveal_p(DLM_GRID_LINEAR, 3, t, DLM_GRID_EPS_DEFAULT);
    dlm_kl_sched sc[4] = {{DLM_KL_SIZES, 2, s2, NULL}, {DLM_KL_SIZES, 5, s5, NULL},
                          {DLM_KL_BINOMIAL, 3, NULL, r}, {DLM_KL_RANDSIZE, 4, NULL, NULL}};
    for (int k = 0; k < 4; k++) {
        dlm_kl_est est, est1;
        assert_int_equal(dlm_kl_path(&law, &sc[k], 20000, 7, 2, 1, &est, &e), DLM_OK);
        double exact = dlm_kl_expected(g, 10, &sc[k]);
        if (fabs(est.mean - exact) > 4 * est.se)
            fail_msg("schedule %d: estimate %.5f +- %.5f, exact %.5f", k, est.mean, est.se, exact);
        assert_true(est.fast == 1 && est.lo < est.mean && est.mean < est.hi);
        /* the same bits for every thread count */
        assert_int_equal(dlm_kl_path(&law, &sc[k], 20000, 7, 1, 1, &est1, &e), DLM_OK);
        assert_memory_equal(&est, &est1, sizeof est);
        /* the Markov shortcut and the oracle give the same score per chain */
        for (uint64_t c = 0; c < 40; c++) {
            double a = dlm_kl_path_score(&law, &sc[k], 7, c, 1), b = dlm_kl_path_score(&law, &sc[k], 7, c, 0);
            if (!(fabs(a - b) < 1e-9)) fail_msg("schedule %d chain %llu: fast %.17g oracle %.17g", k,
                                                (unsigned long long)c, a, b);
        }
    }
    /* a progress hook reports the chains and changes nothing */
    {
        dlm_kl_est a, b;
        assert_int_equal(dlm_kl_path(&law, &sc[0], 5000, 7, 2, 1, &a, &e), DLM_OK);
        assert_int_equal(dlm_kl_path_progress(&law, &sc[0], 5000, 7, 2, 1, dlm_test_count_progress, (uint64_t[2]){0, 0}, &b, &e),
                         DLM_OK);
        assert_memory_equal(&a, &b, sizeof a);
        double g2[11];
        uint64_t lg[2] = {0, 0};
        assert_int_equal(dlm_kl_g_progress(p, 10, 2, 2, 0, dlm_test_count_progress, lg, g2, &e), DLM_OK);
        assert_memory_equal(g, g2, sizeof g2);
        if (!(lg[0] >= 1 && lg[1] == 64)) fail_msg("calls %llu last %llu", (unsigned long long)lg[0], (unsigned long long)lg[1]);
    }
    /* on a table law through the oracle: parity with [2,2,2] scores ln 2 on every chain */
    dlm_law par;
    law_ok("parity:6", &par);
    uint32_t s3[3] = {2, 2, 2};
    dlm_kl_sched ps = {DLM_KL_SIZES, 3, s3, NULL};
    dlm_kl_est est;
    assert_int_equal(dlm_kl_path(&par, &ps, 1000, 1, 2, 1, &est, &e), DLM_OK);
    assert_true(est.fast == 0 && fabs(est.mean - M_LN2) < 1e-12 && est.sd < 1e-9);
    /* bad schedules are bad input */
    uint32_t bad[2] = {5, 4};
    dlm_kl_sched bs = {DLM_KL_SIZES, 2, bad, NULL};
    assert_int_equal(dlm_kl_path(&law, &bs, 100, 1, 1, 1, &est, &e), DLM_EINPUT);
    dlm_law_free(&par);
    free(p);
    dlm_law_free(&law);
}

// ---------------------------------------------------------------- the CLI

static char out[1 << 18];

static void cli_end_to_end(void **state)
{
    (void)state;
    char csv[600], png[600];
    snprintf(csv, sizeof csv, "%s/kl.csv", dlm_test_tmpdir());
    snprintf(png, sizeof png, "%s/kl.png", dlm_test_tmpdir());
    int rc = dlm_test_sh(out, sizeof out, "%s kl bsc:10:0.1 --steps 1,2,3,5,9,10 --csv %s", DLM_BIN, csv);
    if (rc) fail_msg("exit %d: %s", rc, out);
    assert_non_null(strstr(out, "3.3126"));
    assert_non_null(strstr(out, "1.3232"));
    FILE *f = fopen(csv, "r");
    assert_non_null(f);
    char line[1024];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "schedule,T,sizes,smax,kl,se,lo,hi,li_cai,smax_bound,tc_T,dtc_T,kl_qbar,rkl_qbar,tv_qbar\n");
    int found = 0;
    while (fgets(line, sizeof line, f)) {
        int commas = 0;
        for (char *q = line; *q; q++) commas += *q == ',';
        assert_int_equal(commas, 14);
        if (!strncmp(line, "uniform-first,5,2 2 2 2 2,2,0.2970", 34)) found = 1;
    }
    fclose(f);
    assert_true(found);
    rc = dlm_test_sh(out, sizeof out, "%s kl parity:6 --steps 1-6 --json", DLM_BIN);
    assert_int_equal(rc, 0);
    assert_true(json_parses(out));
    assert_non_null(strstr(out, "\"kl_qbar\""));
    rc = dlm_test_sh(out, sizeof out, "%s kl bsc:10:0.1 --steps 2 --schedules uniform-first --estimate --chains 2000 --json", DLM_BIN);
    assert_int_equal(rc, 0);
    assert_true(json_parses(out));
    assert_non_null(strstr(out, "\"path-kl\""));
    if (system("command -v gnuplot >/dev/null 2>&1") == 0) {
        rc = dlm_test_sh(out, sizeof out, "%s kl parity:6 --steps 1-6 --plot %s", DLM_BIN, png);
        if (rc) fail_msg("exit %d: %s", rc, out);
        f = fopen(png, "rb");
        assert_non_null(f);
        unsigned char mg[4] = {0};
        assert_int_equal(fread(mg, 1, 4, f), 4);
        fclose(f);
        assert_true(mg[0] == 0x89 && mg[1] == 'P' && mg[2] == 'N' && mg[3] == 'G');
        /* an unwritable --plot path: refused before the work, no PNG on stdout */
        static const char *const bad_png[] = {"/nonexistent-dlmsim/x.png", "/dev/full", "/proc/version"};
        for (size_t i = 0; i < 3; i++) {
            rc = dlm_test_sh(out, sizeof out, "%s kl parity:6 --steps 1-6 --plot %s 2>/dev/null | grep -c PNG",
                             DLM_BIN, bad_png[i]);
            if (atoi(out) != 0) fail_msg("--plot %s: a PNG on stdout", bad_png[i]);
            rc = dlm_test_sh(out, sizeof out, "%s kl parity:6 --steps 1-6 --plot %s", DLM_BIN, bad_png[i]);
            if (rc != 2) fail_msg("--plot %s: exit %d, want 2: %s", bad_png[i], rc, out);
        }
        /* "-" asks for the PNG on stdout: then it is there */
        rc = dlm_test_sh(out, sizeof out, "%s kl parity:6 --steps 1-6 --plot - 2>/dev/null | grep -c PNG", DLM_BIN);
        if (rc != 0 || atoi(out) < 1) fail_msg("--plot -: no PNG on stdout (exit %d): %s", rc, out);
    }
}

static void cli_bad_input_exits_2(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "kl", "kl bsc:10:0.1 --steps 0", "kl bsc:10:0.1 --steps 11", "kl bsc:10:0.1 --steps 3-2",
        "kl bsc:10:0.1 --steps x", "kl bsc:10:0.1 --schedules foo", "kl bsc:10:0.1 --chains 1",
        "kl bsc:10:0.1 --bogus", "kl nosuchlaw:3", "kl bsc:10:0.1 --csv /nonexistent/dir/x.csv",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = dlm_test_sh(out, sizeof out, "%s %s", DLM_BIN, bad[i]);
        if (rc != 2) fail_msg("`%s`: exit %d, want 2: %s", bad[i], rc, out);
        assert_non_null(strstr(out, "dlmsim"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_per_round_is_zero_and_one_round_is_tc),
        cmocka_unit_test(formula_equals_brute_force),
        cmocka_unit_test(g_is_thread_independent),
        cmocka_unit_test(bsc_reference_values),
        cmocka_unit_test(parity_kl_is_ln2_iff_last_round_reveals_two),
        cmocka_unit_test(random_size_dps_match_enumeration),
        cmocka_unit_test(optimal_dp_beats_every_composition),
        cmocka_unit_test(qbar_and_divergences),
        cmocka_unit_test(markov_dependence_matches_g),
        cmocka_unit_test(path_kl_brackets_exact_value),
        cmocka_unit_test(cli_end_to_end),
        cmocka_unit_test(cli_bad_input_exits_2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
