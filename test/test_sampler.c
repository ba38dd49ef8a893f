/* test_sampler.c — the oracle sampler: one golden test per policy rule against a law
 * computed by hand on L <= 4 (docs/oracle.md, "Golden tests"), the sampler's samples
 * against its own exact law (statistical, calibrated alpha), determinism across threads
 * and chunks, CPU/GPU bit-equality (skipped without a device), the CLI end to end. */
#include "dlm_test.h"

#include "dlm_detmath.h"
#include "dlm_law.h"
#include "dlm_policy.h"
#include "dlm_sampler.h"
#include "dlm_verify.h"

#include <math.h>

/* A TABLE law over the given probabilities (no ownership, no marginal table). */
static dlm_law table_law(uint32_t L, uint32_t V, const double *p)
{
    dlm_law w;
    memset(&w, 0, sizeof w);
    w.v.kind = DLM_LAW_TABLE;
    w.v.L = L;
    w.v.V = V;
    w.v.p = p;
    snprintf(w.desc, sizeof w.desc, "test table");
    return w;
}

/* parity:4 (the even-weight words, 1/8 each) and the uniform law over 4 bits. */
static void parity4_uniform(double par4[16], double unif[16])
{
    for (int x = 0; x < 16; x++) {
        par4[x] = __builtin_popcount(x) % 2 ? 0 : 0.125;
        if (unif) unif[x] = 1.0 / 16;
    }
}

static dlm_policy policy(uint32_t L, int unmask, int count, uint32_t steps)
{
    dlm_policy p;
    dlm_policy_default(&p);
    p.unmask = unmask;
    p.count = count;
    p.steps = steps;
    (void)L;
    return p;
}

/* A preset's policy (defaults first), asserting that the name is known. */
static dlm_policy preset(const char *name)
{
    dlm_policy p;
    dlm_err e;
    dlm_policy_default(&p);
    assert_int_equal(dlm_policy_preset(&p, name, &e), DLM_OK);
    return p;
}

/* Fresh counts k of chains 0..chains-1 under seed, from the CPU sampler. */
static void sample_cpu(const dlm_law *law, const dlm_policy *p, uint64_t chains, uint64_t seed, int hist,
                       dlm_sample_counts *k)
{
    dlm_err e;
    assert_int_equal(dlm_sample_counts_init(k, law, p, hist, &e), DLM_OK);
    dlm_sample_opts o;
    memset(&o, 0, sizeof o);
    o.chains = chains;
    o.seed = seed;
    assert_int_equal(dlm_sampler_cpu_run(law, p, &o, k, &e), DLM_OK);
}

/* The exact law of policy pol on law (checked), compared with want[] within 1e-12. */
static void expect_law(const dlm_law *law, dlm_policy pol, const double *want, double *rounds_mean)
{
    dlm_err e;
    assert_int_equal(dlm_policy_check(&pol, law->v.L, &e), DLM_OK);
    uint64_t n = 1;
    for (uint32_t i = 0; i < law->v.L; i++) n *= law->v.V;
    double *q = calloc(n, sizeof *q);
    dlm_exact_info info;
    dlm_status s = dlm_sampler_exact(law, &pol, 0, q, &info, &e);
    if (s) fprintf(stderr, "%s\n", e.msg);
    assert_int_equal(s, DLM_OK);
    assert_true(fabs(info.total - 1.0) < 1e-12);
    for (uint64_t x = 0; x < n; x++) {
        if (fabs(q[x] - want[x]) > 1e-12) fprintf(stderr, "cell %llu: got %.15g want %.15g\n", (unsigned long long)x, q[x], want[x]);
        assert_true(fabs(q[x] - want[x]) <= 1e-12);
    }
    if (rounds_mean) *rounds_mean = info.rounds_mean;
    free(q);
}

/* Index of (x0, x1, ...) with position 0 least significant, V = 2. */
#define B2(a, b) ((a) + 2 * (b))
#define B3(a, b, c) ((a) + 2 * (b) + 4 * (c))

/* Two independent bits with P(1) = 0.9. */
static const double indep9[4] = {0.01, 0.09, 0.09, 0.81}; /* 00, 10, 01, 11 (x0 + 2 x1) */

static void llada_low_confidence_one_per_round(void **state)
{
    (void)state;
    /* Round 1 proposes both, commits the more confident (ties to position 0); the
     * choice depends on the proposals, so even one token a round is biased:
     * q(11) = .891, q(10) = .09, q(01) = .018, q(00) = .001 (docs/oracle.md). */
    dlm_law law = table_law(2, 2, indep9);
    double want[4];
    want[B2(0, 0)] = 0.001;
    want[B2(1, 0)] = 0.09;
    want[B2(0, 1)] = 0.018;
    want[B2(1, 1)] = 0.891;
    double r;
    expect_law(&law, policy(2, DLM_UNMASK_LOW_CONFIDENCE, DLM_COUNT_FIXED, 2), want, &r);
    assert_true(fabs(r - 2.0) < 1e-12);
}

static const double parity3[8] = {0.25, 0, 0, 0.25, 0, 0.25, 0.25, 0};

static void fixed_remainder_first_and_last(void **state)
{
    (void)state;
    dlm_law law = table_law(3, 2, parity3);
    dlm_policy p = policy(3, DLM_UNMASK_RANDOM, DLM_COUNT_FIXED, 2);
    expect_law(&law, p, parity3, NULL); /* sizes [2,1]: the last token is conditioned */
    p.remainder_first = 0;               /* sizes [1,2]: the last two are independent */
    double unif[8];
    for (int i = 0; i < 8; i++) unif[i] = 0.125;
    expect_law(&law, p, unif, NULL);
    p = policy(3, DLM_UNMASK_RANDOM, DLM_COUNT_FIXED, 1); /* everything at once */
    expect_law(&law, p, unif, NULL);
}

static void fixed_rounds_with_empty_steps(void **state)
{
    (void)state;
    static const double par2[4] = {0.5, 0, 0, 0.5};
    dlm_law law = table_law(2, 2, par2);
    dlm_policy p = policy(2, DLM_UNMASK_RANDOM, DLM_COUNT_FIXED, 4);
    double r;
    expect_law(&law, p, par2, &r); /* sizes [1,1,0,0]: done after 2 rounds */
    assert_true(fabs(r - 2.0) < 1e-12);
    p.remainder_first = 0;         /* sizes [0,0,1,1]: 4 rounds */
    expect_law(&law, p, par2, &r);
    assert_true(fabs(r - 4.0) < 1e-12);
}

static void grid_count_truncates(void **state)
{
    (void)state;
    /* Dream: int(4 (1 - t1/t0)) = int(1.998) = 1 in round 1, 3 in round 2: on parity:4
     * the last round reveals 3 independent uniform bits -> uniform law. */
    double par4[16], unif[16];
    parity4_uniform(par4, unif);
    dlm_law law = table_law(4, 2, par4);
    expect_law(&law, policy(4, DLM_UNMASK_MASKGIT_PLUS, DLM_COUNT_GRID, 2), unif, NULL);
    /* 4 steps: int(4 x 0.24975) = 0, then 1, 1 and the last 2 at once: uniform again */
    expect_law(&law, policy(4, DLM_UNMASK_MASKGIT_PLUS, DLM_COUNT_GRID, 4), unif, NULL);
    dlm_policy p = policy(4, DLM_UNMASK_MASKGIT_PLUS, DLM_COUNT_GRID, 4);
    dlm_err e;
    assert_int_equal(dlm_policy_check(&p, 4, &e), DLM_OK);
    dlm_sample_counts k;
    sample_cpu(&law, &p, 100, 0, 0, &k);
    assert_int_equal(k.revealed[0], 0);
    assert_int_equal(k.revealed[1], 100);
    assert_int_equal(k.revealed[2], 100);
    assert_int_equal(k.revealed[3], 200);
    dlm_sample_counts_free(&k);
}

static void binomial_dream_origin(void **state)
{
    (void)state;
    static const double par2[4] = {0.5, 0, 0, 0.5};
    dlm_law law = table_law(2, 2, par2);
    /* round 1 reveals each w.p. 1 - t1 = 0.4995, round 2 the rest; both in the same round
     * (a = 0.4995^2 + 0.5005^2) breaks the parity, otherwise the second is conditioned */
    double a = 0.4995 * 0.4995 + 0.5005 * 0.5005, want[4];
    want[B2(0, 0)] = want[B2(1, 1)] = 0.5 * (1 - a) + 0.25 * a;
    want[B2(1, 0)] = want[B2(0, 1)] = 0.25 * a;
    expect_law(&law, policy(2, DLM_UNMASK_RANDOM, DLM_COUNT_BINOMIAL, 2), want, NULL);
}

static void randsize_zhao_cai(void **state)
{
    (void)state;
    static const double par2[4] = {0.5, 0, 0, 0.5};
    dlm_law law = table_law(2, 2, par2);
    /* round 1 of 2, n = 2: a = 1, J = floor(log2 min(2, 2)) = 1: size 1 or 2, each 1/2 */
    double want[4];
    want[B2(0, 0)] = want[B2(1, 1)] = 0.5 * 0.5 + 0.5 * 0.25;
    want[B2(1, 0)] = want[B2(0, 1)] = 0.5 * 0.25;
    expect_law(&law, policy(2, DLM_UNMASK_RANDOM, DLM_COUNT_RANDSIZE, 2), want, NULL);
}

static void threshold_fast_dllm(void **state)
{
    (void)state;
    dlm_law law = table_law(2, 2, indep9);
    dlm_policy p = policy(2, DLM_UNMASK_LOW_CONFIDENCE, DLM_COUNT_THRESHOLD, 0);
    p.threshold = 0.85;
    /* (1,1) proposed: both >= .85, committed together; otherwise the top one alone */
    double want[4];
    want[B2(1, 1)] = 0.81 + 0.081 + 0.081;
    want[B2(1, 0)] = 0.009;
    want[B2(0, 1)] = 0.009 + 0.009;
    want[B2(0, 0)] = 0.001;
    expect_law(&law, p, want, NULL);
}

static void factor_rule(void **state)
{
    (void)state;
    dlm_law law = table_law(2, 2, indep9);
    dlm_policy p = policy(2, DLM_UNMASK_LOW_CONFIDENCE, DLM_COUNT_FACTOR, 0);
    p.factor = 1.0; /* n = 2 needs the 2nd confidence >= 1 - 1/3: as the threshold test */
    double want[4];
    want[B2(1, 1)] = 0.972;
    want[B2(1, 0)] = 0.009;
    want[B2(0, 1)] = 0.018;
    want[B2(0, 0)] = 0.001;
    expect_law(&law, p, want, NULL);
    p.factor = 0.15; /* n = 2 needs >= 0.95: one a round, as low_confidence */
    want[B2(0, 0)] = 0.001;
    want[B2(1, 0)] = 0.09;
    want[B2(0, 1)] = 0.018;
    want[B2(1, 1)] = 0.891;
    expect_law(&law, p, want, NULL);
}

/* Correlated pair: P(x0 = x1) = 0.8, uniform marginals (entropy ln 2 each). */
static const double corr2[4] = {0.4, 0.1, 0.1, 0.4};

static void eb_and_entsum(void **state)
{
    (void)state;
    dlm_law law = table_law(2, 2, corr2);
    static const double unif[4] = {0.25, 0.25, 0.25, 0.25};
    dlm_policy p = policy(2, DLM_UNMASK_ENTROPY, DLM_COUNT_EB, 0);
    p.gamma = 1.0; /* sum H - max H = ln 2 <= 1: both at once */
    expect_law(&law, p, unif, NULL);
    p.gamma = 0.5; /* one a round: exact */
    expect_law(&law, p, corr2, NULL);
    p = policy(2, DLM_UNMASK_ENTROPY, DLM_COUNT_ENTSUM, 0);
    p.threshold = 1.5; /* 2 ln 2 = 1.386 <= 1.5: both */
    expect_law(&law, p, unif, NULL);
    p.threshold = 1.0; /* one a round */
    expect_law(&law, p, corr2, NULL);
}

/* x0 uniform, x1 = x0, x2 independent with P(1) = 0.9. */
static void law_copy_plus_bit(double *p)
{
    for (int x = 0; x < 8; x++) {
        int a = x & 1, b = (x >> 1) & 1, c = (x >> 2) & 1;
        p[x] = a == b ? 0.5 * (c ? 0.9 : 0.1) : 0.0;
    }
}

/* The law when positions 0 and 1 are revealed together (independent uniform), x2 exact. */
static void law_broken_pair(double *p)
{
    for (int x = 0; x < 8; x++) p[x] = 0.25 * (((x >> 2) & 1) ? 0.9 : 0.1);
}

static void entropy_margin_random_and_alg_temp(void **state)
{
    (void)state;
    double p[8], br[8], want[8];
    law_copy_plus_bit(p);
    law_broken_pair(br);
    dlm_law law = table_law(3, 2, p);
    /* sizes [2,1]; entropy and margin rank x2 first, then x0 (tie with x1 to the lower
     * position): {0,2} then x1 | x0 = exact */
    expect_law(&law, policy(3, DLM_UNMASK_ENTROPY, DLM_COUNT_FIXED, 2), p, NULL);
    expect_law(&law, policy(3, DLM_UNMASK_TOPK_MARGIN, DLM_COUNT_FIXED, 2), p, NULL);
    /* random: the pair {0,1} w.p. 1/3 */
    for (int x = 0; x < 8; x++) want[x] = 2.0 / 3 * p[x] + 1.0 / 3 * br[x];
    expect_law(&law, policy(3, DLM_UNMASK_RANDOM, DLM_COUNT_FIXED, 2), want, NULL);
    /* alg_temp 1: positions drawn without replacement with weights exp(-H) */
    double w01 = exp(-log(2.0)), h2 = -(0.9 * log(0.9) + 0.1 * log(0.1)), w2 = exp(-h2), W = 2 * w01 + w2;
    double p01 = 2 * (w01 / W) * (w01 / (W - w01));
    for (int x = 0; x < 8; x++) want[x] = (1 - p01) * p[x] + p01 * br[x];
    dlm_policy q = policy(3, DLM_UNMASK_ENTROPY, DLM_COUNT_FIXED, 2);
    q.alg_temp = 1.0;
    dlm_err e;
    assert_int_equal(dlm_policy_check(&q, 3, &e), DLM_OK);
    uint64_t n = 8;
    double got[8];
    dlm_exact_info info;
    assert_int_equal(dlm_sampler_exact(&law, &q, 0, got, &info, &e), DLM_OK);
    for (uint64_t x = 0; x < n; x++) assert_true(fabs(got[x] - want[x]) < 1e-9); /* dlm_exp vs libm */
}

static void temperature_zero_and_top_p(void **state)
{
    (void)state;
    dlm_law law = table_law(2, 2, indep9);
    static const double ones[4] = {0, 0, 0, 1};
    dlm_policy p = policy(2, DLM_UNMASK_LOW_CONFIDENCE, DLM_COUNT_FIXED, 2);
    p.temperature = 0;
    expect_law(&law, p, ones, NULL);
    char why[160];
    assert_true(dlm_policy_inexact(&p, why, sizeof why));
    p.temperature = 1;
    p.top_p = 0.8; /* keeps the 0.9 token only */
    expect_law(&law, p, ones, NULL);
    assert_true(dlm_policy_inexact(&p, why, sizeof why));
    p.top_p = 1;
    assert_false(dlm_policy_inexact(&p, why, sizeof why));
    p.top_k = 1; /* only the most likely token */
    expect_law(&law, p, ones, NULL);
    assert_true(dlm_policy_inexact(&p, why, sizeof why));
    /* A top-p that truncates nothing (every token has probability > 1e-9 here) gives the
     * law of top-p 1, on L = 4, V = 3: the sorting scratch must not disturb the ranking
     * of the positions. */
    double r43[81], q1[81];
    uint64_t x = 99;
    double z = 0;
    for (int i = 0; i < 81; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        z += r43[i] = 0.05 + (double)(x >> 40) / (double)(1ULL << 24);
    }
    for (int i = 0; i < 81; i++) r43[i] /= z;
    dlm_law l43 = table_law(4, 3, r43);
    dlm_policy a = policy(4, DLM_UNMASK_LOW_CONFIDENCE, DLM_COUNT_FIXED, 2);
    dlm_err e;
    dlm_exact_info info;
    assert_int_equal(dlm_policy_check(&a, 4, &e), DLM_OK);
    assert_int_equal(dlm_sampler_exact(&l43, &a, 0, q1, &info, &e), DLM_OK);
    a.top_p = 1 - 1e-12;
    expect_law(&l43, a, q1, NULL);
}

static void blocks_semi_autoregressive(void **state)
{
    (void)state;
    double par4[16], unif[16];
    parity4_uniform(par4, unif);
    dlm_law law = table_law(4, 2, par4);
    dlm_policy p = policy(4, DLM_UNMASK_RANDOM, DLM_COUNT_FIXED, 2);
    p.block_length = 2; /* each block in one round: x2, x3 independent given x0, x1 */
    expect_law(&law, p, unif, NULL);
    p.steps = 4; /* one a round in each block: exact */
    expect_law(&law, p, par4, NULL);
}

static void revise_last_parity(void **state)
{
    (void)state;
    double par4[16];
    parity4_uniform(par4, NULL);
    dlm_law law = table_law(4, 2, par4);
    dlm_policy p = preset("parity-revise");
    double r;
    expect_law(&law, p, par4, &r); /* all four in round 1, the last redrawn in round 2 */
    assert_true(fabs(r - 2.0) < 1e-12);
}

static void edit_llada21(void **state)
{
    (void)state;
    /* p(00) = .6, p(10) = .02, p(01) = .08, p(11) = .3 (index x0 + 2 x1) */
    static const double p4[4] = {0.6, 0.02, 0.08, 0.3};
    dlm_law law = table_law(2, 2, p4);
    dlm_policy p = policy(2, DLM_UNMASK_LOW_CONFIDENCE, DLM_COUNT_THRESHOLD, 0);
    p.threshold = 0.3; /* both revealed in round 1, independently */
    p.revise = DLM_REVISE_EDIT;
    p.editing_threshold = 0.8;
    p.max_post_steps = 1;
    /* post step 1: 01 -> 00 (x1 | x0=0 is 0 w.p. .882); 10 -> 01 (both flip) */
    double want[4];
    want[B2(0, 0)] = 0.68 * 0.62 + 0.68 * 0.38;
    want[B2(0, 1)] = 0.32 * 0.62;
    want[B2(1, 0)] = 0;
    want[B2(1, 1)] = 0.32 * 0.38;
    expect_law(&law, p, want, NULL);
    p.max_post_steps = 2; /* 01 -> 00 once more */
    want[B2(0, 0)] += want[B2(0, 1)];
    want[B2(0, 1)] = 0;
    expect_law(&law, p, want, NULL);
}

/* ReMDM on the correlated pair (P(x0 = x1) = 0.8), by an independent enumeration of
 * the two-position chain from ReMDM's definitions: on the grid t_r = 1 - r/T, with
 * alpha_t the unmasked fraction, sigma_max = min(1, (1 - alpha_s)/alpha_t), every
 * revealed token is remasked w.p. sigma (per token for conf: sigma_max softmax(-conf)
 * over the revealed tokens, conf = its probability when revealed) and every masked one
 * revealed w.p. (alpha_s - (1 - sigma_bar) alpha_t)/(1 - alpha_t) (sigma_bar = sigma,
 * or the mean per-token sigma for conf), from its conditional given the round-start
 * tokens; the last round reveals everything. State per position: token 0/1/masked and
 * the confidence it was revealed with (0.5, 0.8 or 0.2). */
enum { HAND_CAP, HAND_RESCALE, HAND_CONF, HAND_LOOP };

static double hand_alpha(int mode, double t)
{
    if (mode != HAND_LOOP) return 1 - t;
    if (t >= 0.55) return 0.9 * (1 - t) / 0.45;
    if (t >= 0.05) return 0.9;
    return 0.9 + 0.1 * (0.05 - t) / 0.05;
}

static void remdm_by_hand(int mode, double eta, int T, double *want)
{
    static const double cval[4] = {0, 0.5, 0.8, 0.2};
    double cur[144] = {0}, nxt[144]; /* (a, ca, b, cb): a + 3 (ca + 4 (b + 3 cb)) */
    cur[2 + 12 * 2] = 1.0;           /* both masked */
    for (int r = 0; r < T; r++) {
        double t = 1.0 - (double)r / T, sn = 1.0 - (double)(r + 1) / T;
        double at = hand_alpha(mode, t), as = hand_alpha(mode, sn);
        double smax = at > 0 ? fmin(1.0, (1 - as) / at) : 0;
        double sig = mode == HAND_CAP ? fmin(eta, smax) : mode == HAND_RESCALE ? eta * smax : 0;
        if (mode == HAND_LOOP && t <= 0.55 && t > 0.05) sig = eta;
        int last = r == T - 1;
        memset(nxt, 0, sizeof nxt);
        for (int s = 0; s < 144; s++) {
            if (!cur[s]) continue;
            int tok[2] = {s % 3, (s / 12) % 3}, cf[2] = {(s / 3) % 4, s / 36};
            int nrev = (tok[0] != 2) + (tok[1] != 2);
            double sg[2] = {sig, sig}, sbar = sig;
            if (mode == HAND_CONF) {
                double z = 0;
                for (int i = 0; i < 2; i++) z += tok[i] != 2 ? exp(-cval[cf[i]]) : 0;
                for (int i = 0; i < 2; i++) sg[i] = tok[i] != 2 ? smax * exp(-cval[cf[i]]) / z : 0;
                sbar = nrev ? smax / nrev : 0;
            }
            double q = at < 1 ? (as - (1 - sbar) * at) / (1 - at) : 1;
            q = q < 0 ? 0 : q > 1 ? 1 : q;
            if (last) q = 1;
            double pr[2][12]; /* per position: (token, conf) -> probability */
            for (int i = 0; i < 2; i++) {
                int o = tok[1 - i];
                memset(pr[i], 0, sizeof pr[i]);
                if (tok[i] == 2) {
                    pr[i][2] = 1 - q;
                    for (int v = 0; v < 2; v++) {
                        int c = o == 2 ? 1 : v == o ? 2 : 3;
                        pr[i][v + 3 * c] += q * cval[c];
                    }
                } else {
                    double rm = last ? 0 : sg[i];
                    pr[i][tok[i] + 3 * cf[i]] = 1 - rm;
                    pr[i][2] += rm; /* masked, confidence 0 */
                }
            }
            for (int x = 0; x < 12; x++)
                for (int y = 0; y < 12; y++) nxt[x + 12 * y] += cur[s] * pr[0][x] * pr[1][y];
        }
        memcpy(cur, nxt, sizeof cur);
    }
    memset(want, 0, 4 * sizeof *want);
    for (int s = 0; s < 144; s++) {
        int a = s % 3, b = (s / 12) % 3;
        if (cur[s]) assert_true(a != 2 && b != 2);
        if (a != 2 && b != 2) want[a + 2 * b] += cur[s];
    }
}

static void remdm_rules_by_hand(void **state)
{
    (void)state;
    static const struct { const char *preset; int mode; double eta; int T; } cases[] = {
        {"remdm-cap", HAND_CAP, 0.5, 3},       {"remdm-cap", HAND_CAP, 0.1, 5},
        {"remdm-rescale", HAND_RESCALE, 0.3, 3}, {"remdm-rescale", HAND_RESCALE, 0.9, 5},
        {"remdm-conf", HAND_CONF, 1.0, 3},     {"remdm-conf", HAND_CONF, 1.0, 5},
        {"remdm-loop", HAND_LOOP, 0.05, 4},    {"remdm-loop", HAND_LOOP, 0.3, 8},
    };
    dlm_law law = table_law(2, 2, corr2);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double want[4];
        remdm_by_hand(cases[i].mode, cases[i].eta, cases[i].T, want);
        dlm_policy p = preset(cases[i].preset);
        p.steps = (uint32_t)cases[i].T;
        p.eta = cases[i].eta;
        expect_law(&law, p, want, NULL);
    }
}

/* The sampler's histogram against its own exact law, for every preset. */
static void samples_follow_exact_law(void **state)
{
    (void)state;
    static const char *const presets[] = {"llada", "llada-random", "mdlm", "maskgit-plus", "topk-margin",
                                          "entropy", "li-cai", "fast-dllm", "factor", "eb", "entsum",
                                          "remdm-cap", "remdm-rescale", "remdm-conf", "remdm-loop",
                                          "llada21-edit", "parity-revise", "zhao-cai"};
    double p[8];
    law_copy_plus_bit(p);
    for (int x = 0; x < 8; x++) p[x] = 0.7 * p[x] + 0.3 / 8; /* full support */
    dlm_law law = table_law(3, 2, p);
    for (size_t i = 0; i < sizeof presets / sizeof *presets; i++) {
        dlm_policy pol = preset(presets[i]);
        dlm_err e;
        if (pol.remask) pol.steps = 6;
        else if (!pol.steps) pol.steps = 2;
        assert_int_equal(dlm_policy_check(&pol, 3, &e), DLM_OK);
        double q[8];
        dlm_exact_info info;
        assert_int_equal(dlm_sampler_exact(&law, &pol, 0, q, &info, &e), DLM_OK);
        dlm_sample_counts k;
        sample_cpu(&law, &pol, 200000, 7 + i, 1, &k);
        dlm_gof g;
        dlm_stat_hist_gof(q, k.hist, 8, &g);
        if (g.p_chi2 < 1e-4) fprintf(stderr, "%s: chi2 %g df %g p %g\n", presets[i], g.chi2, g.df_chi2, g.p_chi2);
        assert_int_equal(g.impossible, 0);
        assert_true(g.p_chi2 >= 1e-4); /* 17 tests: family-wise level below 2e-3 */
        double mean = (double)k.rounds_sum / (double)k.chains;
        assert_true(fabs(mean - info.rounds_mean) < 0.05 * info.rounds_mean + 0.01);
        assert_int_equal(k.offsupport, 0);
        assert_int_equal(k.unfinished, 0);
        dlm_sample_counts_free(&k);
    }
}

/* A mis-implemented sampler is caught: the exact law of llada is not the exact law of
 * llada-random, and the histogram of one fails the test against the other. */
static void gof_has_power(void **state)
{
    (void)state;
    double p[8];
    law_copy_plus_bit(p);
    dlm_law law = table_law(3, 2, p);
    dlm_policy a = policy(3, DLM_UNMASK_RANDOM, DLM_COUNT_FIXED, 2), b = a;
    b.unmask = DLM_UNMASK_ENTROPY;
    dlm_err e;
    assert_int_equal(dlm_policy_check(&a, 3, &e), DLM_OK);
    assert_int_equal(dlm_policy_check(&b, 3, &e), DLM_OK);
    double qb[8];
    dlm_exact_info info;
    assert_int_equal(dlm_sampler_exact(&law, &b, 0, qb, &info, &e), DLM_OK);
    dlm_sample_counts k;
    sample_cpu(&law, &a, 20000, 0, 1, &k);
    dlm_gof g;
    dlm_stat_hist_gof(qb, k.hist, 8, &g);
    assert_true(g.impossible > 0 || g.p_chi2 < 1e-6);
    dlm_sample_counts_free(&k);
}

static void deterministic_across_threads_and_chunks(void **state)
{
    (void)state;
    double p[8];
    law_copy_plus_bit(p);
    for (int x = 0; x < 8; x++) p[x] = 0.7 * p[x] + 0.3 / 8;
    dlm_law law = table_law(3, 2, p);
    dlm_policy pol = preset("remdm-conf");
    dlm_err e;
    pol.steps = 5;
    assert_int_equal(dlm_policy_check(&pol, 3, &e), DLM_OK);
    uint16_t *s1 = calloc(3000 * 3, 2), *s2 = calloc(3000 * 3, 2);
    dlm_sample_counts k1, k2;
    assert_int_equal(dlm_sample_counts_init(&k1, &law, &pol, 1, &e), DLM_OK);
    assert_int_equal(dlm_sample_counts_init(&k2, &law, &pol, 1, &e), DLM_OK);
    dlm_sample_opts o;
    memset(&o, 0, sizeof o);
    o.chains = 3000;
    o.seed = 99;
    o.threads = 1;
    o.samples = s1;
    assert_int_equal(dlm_sampler_cpu_run(&law, &pol, &o, &k1, &e), DLM_OK);
    /* two calls of 1000 and 2000 chains on 2 threads */
    o.threads = 2;
    o.chains = 1000;
    o.samples = s2;
    assert_int_equal(dlm_sampler_cpu_run(&law, &pol, &o, &k2, &e), DLM_OK);
    o.first_chain = 1000;
    o.chains = 2000;
    o.samples = s2 + 1000 * 3;
    assert_int_equal(dlm_sampler_cpu_run(&law, &pol, &o, &k2, &e), DLM_OK);
    assert_memory_equal(s1, s2, 3000 * 3 * 2);
    assert_memory_equal(k1.hist, k2.hist, 8 * 8);
    assert_memory_equal(k1.remasked, k2.remasked, k1.max_rounds * 8);
    dlm_sample_counts_free(&k1);
    dlm_sample_counts_free(&k2);
    free(s1);
    free(s2);
}

static void cuda_matches_cpu(void **state)
{
    (void)state;
    char why[256];
    if (dlm_cuda_device_count(why, sizeof why) <= 0) DLM_TEST_NO_DEVICE(why);
    static const char *const presets[] = {"llada", "mdlm", "entropy", "fast-dllm", "remdm-conf", "llada21-edit"};
    double p[8];
    law_copy_plus_bit(p);
    for (int x = 0; x < 8; x++) p[x] = 0.7 * p[x] + 0.3 / 8;
    dlm_law law = table_law(3, 2, p);
    for (size_t i = 0; i < sizeof presets / sizeof *presets; i++) {
        dlm_policy pol = preset(presets[i]);
        dlm_err e;
        if (pol.remask) pol.steps = 6;
        assert_int_equal(dlm_policy_check(&pol, 3, &e), DLM_OK);
        uint16_t *s1 = calloc(50000 * 3, 2), *s2 = calloc(50000 * 3, 2);
        dlm_sample_counts k1, k2;
        assert_int_equal(dlm_sample_counts_init(&k1, &law, &pol, 1, &e), DLM_OK);
        assert_int_equal(dlm_sample_counts_init(&k2, &law, &pol, 1, &e), DLM_OK);
        dlm_sample_opts o;
        memset(&o, 0, sizeof o);
        o.chains = 50000;
        o.seed = 5;
        o.samples = s1;
        assert_int_equal(dlm_sampler_cpu_run(&law, &pol, &o, &k1, &e), DLM_OK);
        o.samples = s2;
        dlm_status s = dlm_sampler_cuda_run(&law, &pol, &o, &k2, &e);
        if (s) fprintf(stderr, "%s\n", e.msg);
        assert_int_equal(s, DLM_OK);
        assert_memory_equal(s1, s2, 50000 * 3 * 2);
        assert_memory_equal(k1.revealed, k2.revealed, k1.max_rounds * 8);
        assert_memory_equal(k1.remasked, k2.remasked, k1.max_rounds * 8);
        assert_memory_equal(k1.revised, k2.revised, k1.max_rounds * 8);
        dlm_sample_counts_free(&k1);
        dlm_sample_counts_free(&k2);
        free(s1);
        free(s2);
    }
}

/* The device sampler against the CPU on Markov/HMM laws, top-k / top-p / temperature,
 * several chunks (o.max_bytes bounds the chunk to a few hundred chains; the last is
 * partial), a first chain other than 0, and every count: per round, per position, the
 * histogram (shared bins for random:3:5, global atomics for parity:14, whose 2^14 bins
 * do not fit in a block's shared memory) and the chain totals. */
static void cuda_matches_cpu_laws(void **state)
{
    (void)state;
    char why[256];
    if (dlm_cuda_device_count(why, sizeof why) <= 0) DLM_TEST_NO_DEVICE(why);
    static const struct {
        const char *law, *preset;
        double temperature, top_p;
        uint32_t top_k;
        int hist;
    } cases[] = {{"english:6", "llada", 0.7, 0.9, 0, 0},   {"bsc:9:0.2", "entropy", 1, 1, 0, 1},
                 {"sparse:12:3:5:7", "mdlm", 1.3, 1, 4, 0}, {"random:3:5:11", "fast-dllm", 1, 1, 0, 1},
                 {"parity:14", "llada", 1, 1, 0, 1},        {"bsc:5:0.3", "remdm-conf", 1, 1, 0, 1}};
    const uint64_t chains = 1500;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        dlm_law law;
        dlm_err e;
        assert_int_equal(dlm_law_load(cases[i].law, &law, 0, &e), DLM_OK);
        assert_int_equal(dlm_law_build_marginals(&law, UINT64_C(1) << 26, &e), DLM_OK);
        const uint32_t L = law.v.L;
        dlm_policy pol = preset(cases[i].preset);
        if (pol.remask) pol.steps = 2 * L;
        pol.temperature = cases[i].temperature;
        pol.top_p = cases[i].top_p;
        pol.top_k = cases[i].top_k;
        if (dlm_policy_check(&pol, L, &e)) fprintf(stderr, "%s %s: %s\n", cases[i].law, cases[i].preset, e.msg);
        assert_int_equal(dlm_policy_check(&pol, L, &e), DLM_OK);
        uint16_t *s1 = calloc(chains * L, 2), *s2 = calloc(chains * L, 2);
        assert_non_null(s1);
        assert_non_null(s2);
        dlm_sample_counts k1, k2;
        assert_int_equal(dlm_sample_counts_init(&k1, &law, &pol, cases[i].hist, &e), DLM_OK);
        assert_int_equal(dlm_sample_counts_init(&k2, &law, &pol, cases[i].hist, &e), DLM_OK);
        dlm_sample_opts o;
        memset(&o, 0, sizeof o);
        o.chains = chains;
        o.first_chain = 12345;
        o.seed = 77 + i;
        o.samples = s1;
        assert_int_equal(dlm_sampler_cpu_run(&law, &pol, &o, &k1, &e), DLM_OK);
        o.samples = s2;
        o.max_bytes = 400 * (dlm_sampler_chain_bytes(&law) + 64 + 32 * (uint64_t)L); /* chunks of < 400 */
        dlm_status s = dlm_sampler_cuda_run(&law, &pol, &o, &k2, &e);
        if (s) fprintf(stderr, "%s\n", e.msg);
        assert_int_equal(s, DLM_OK);
        assert_memory_equal(s1, s2, chains * L * 2);
        assert_memory_equal(k1.active, k2.active, k1.max_rounds * 8);
        assert_memory_equal(k1.revealed, k2.revealed, k1.max_rounds * 8);
        assert_memory_equal(k1.remasked, k2.remasked, k1.max_rounds * 8);
        assert_memory_equal(k1.revised, k2.revised, k1.max_rounds * 8);
        assert_memory_equal(k1.pos, k2.pos, (size_t)L * law.v.V * 8);
        if (cases[i].hist) {
            double cells = pow(law.v.V, L);
            assert_memory_equal(k1.hist, k2.hist, (size_t)cells * 8);
        }
        assert_int_equal(k1.chains, k2.chains);
        assert_int_equal(k1.rounds_sum, k2.rounds_sum);
        assert_int_equal(k1.rounds_max, k2.rounds_max);
        assert_int_equal(k1.offsupport, k2.offsupport);
        assert_int_equal(k1.unfinished, k2.unfinished);
        dlm_sample_counts_free(&k1);
        dlm_sample_counts_free(&k2);
        free(s1);
        free(s2);
        dlm_law_free(&law);
    }
}

static void detmath_matches_libm(void **state)
{
    (void)state;
    for (double x = 1e-300; x < 1e300; x *= 1.37) assert_true(fabs(dlm_log(x) - log(x)) <= 1e-15 * fabs(log(x)) + 1e-300);
    for (double x = 1e-6; x < 2; x += 0.0013) assert_true(fabs(dlm_log(x) - log(x)) <= 2e-16 * (fabs(log(x)) + 1));
    for (double x = -700; x < 700; x += 0.731) assert_true(fabs(dlm_exp(x) - exp(x)) <= 1e-15 * exp(x));
    for (double x = 0; x <= 1.5707963267948966; x += 0.001) assert_true(fabs(dlm_cos_q1(x) - cos(x)) <= 4e-16);
    assert_true(dlm_log(0) == -INFINITY);
    assert_true(dlm_exp(-1000) == 0);
}

static void policy_options_and_bad_input(void **state)
{
    (void)state;
    dlm_policy p;
    dlm_policy_default(&p);
    dlm_status st;
    dlm_err e;
    assert_int_equal(dlm_policy_option(&p, "--unmask", "entropy", &st, &e), 1);
    assert_int_equal(st, DLM_OK);
    assert_int_equal(p.unmask, DLM_UNMASK_ENTROPY);
    assert_int_equal(dlm_policy_option(&p, "--unmask", "bogus", &st, &e), 1);
    assert_int_equal(st, DLM_EINPUT);
    assert_int_equal(dlm_policy_option(&p, "--steps", "-3", &st, &e), 1);
    assert_int_equal(st, DLM_EINPUT);
    /* zero where zero means nothing is refused (issue 16); --max-post-steps 0 is not */
    assert_int_equal(dlm_policy_option(&p, "--steps", "0", &st, &e), 1);
    assert_int_equal(st, DLM_EINPUT);
    assert_int_equal(dlm_policy_option(&p, "--top-k", "0", &st, &e), 1);
    assert_int_equal(st, DLM_EINPUT);
    assert_int_equal(dlm_policy_option(&p, "--block-length", "0", &st, &e), 1);
    assert_int_equal(st, DLM_EINPUT);
    assert_int_equal(dlm_policy_option(&p, "--max-post-steps", "0", &st, &e), 1);
    assert_int_equal(st, DLM_OK);
    assert_int_equal(dlm_policy_option(&p, "--chains", "3", &st, &e), 0);
    dlm_policy_default(&p);
    p.block_length = 3;
    assert_int_equal(dlm_policy_check(&p, 8, &e), DLM_EINPUT); /* does not divide */
    dlm_policy_default(&p);
    p.block_length = 4;
    p.steps = 3;
    assert_int_equal(dlm_policy_check(&p, 8, &e), DLM_EINPUT); /* 3 steps over 2 blocks */
    dlm_policy_default(&p);
    p.unmask = DLM_UNMASK_RANDOM;
    p.count = DLM_COUNT_THRESHOLD;
    assert_int_equal(dlm_policy_check(&p, 8, &e), DLM_EINPUT);
    dlm_policy_default(&p);
    p.top_p = 0;
    assert_int_equal(dlm_policy_check(&p, 8, &e), DLM_EINPUT);
    assert_int_equal(dlm_policy_preset(&p, "nope", &e), DLM_EINPUT);
}

static void cli_end_to_end(void **state)
{
    (void)state;
    char out[16384];
    int rc = dlm_test_sh(out, sizeof out, "%s verify parity:6 --policy parity-revise --chains 20000", DLM_BIN);
    if (rc) fprintf(stderr, "%s\n", out);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "PASS"));
    /* the paper's 2-round revision samples parity exactly (KL 0 up to rounding) */
    rc = dlm_test_sh(out, sizeof out, "%s verify parity:6 --policy parity-revise --chains 20000 --json", DLM_BIN);
    assert_int_equal(rc, 0);
    assert_true(json_parses(out));
    const char *kf = strstr(out, "\"kl_forward\":");
    assert_non_null(kf);
    assert_true(fabs(atof(kf + 13)) < 1e-12);
    assert_non_null(strstr(out, "\"pass\":true"));
    rc = dlm_test_sh(out, sizeof out, "%s sample parity:4 --policy llada-random --steps 2 --exact --json", DLM_BIN);
    assert_int_equal(rc, 0);
    assert_true(json_parses(out));
    assert_non_null(strstr(out, "\"kl_forward\":0.6931471805599"));
    rc = dlm_test_sh(out, sizeof out, "%s sample bsc:64:0.1 --policy fast-dllm --chains 200 --json", DLM_BIN);
    assert_int_equal(rc, 0);
    assert_true(json_parses(out));
    rc = dlm_test_sh(out, sizeof out, "%s sample parity:4 --steps 2 --temperature 0 --exact", DLM_BIN);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "no longer exact"));
    const char *hist = "/tmp/dlmsim-test-sampler-hist.txt";
    rc = dlm_test_sh(out, sizeof out, "%s sample parity:3 --chains 1000 --hist %s && cat %s", DLM_BIN, hist, hist);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "000\t"));
    unlink(hist);
    static const char *const bad[] = {"sample", "sample parity:4 --steps x", "sample parity:4 --policy nope",
                                      "sample parity:4 --block-length 3", "sample bsc:0:0.1",
                                      "sample parity:4 --chains 0", "sample parity:4 --backend cpu-ref",
                                      "sample parity:4 --backend cuda-ref", "sample english:64 --exact",
                                      "sample parity:4 --bogus 1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rc = dlm_test_sh(out, sizeof out, "%s %s", DLM_BIN, bad[i]);
        if (rc != 2) fprintf(stderr, "%s -> %d: %s\n", bad[i], rc, out);
        assert_int_equal(rc, 2);
        assert_non_null(strstr(out, "dlmsim: "));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(llada_low_confidence_one_per_round),
        cmocka_unit_test(fixed_remainder_first_and_last),
        cmocka_unit_test(fixed_rounds_with_empty_steps),
        cmocka_unit_test(grid_count_truncates),
        cmocka_unit_test(binomial_dream_origin),
        cmocka_unit_test(randsize_zhao_cai),
        cmocka_unit_test(threshold_fast_dllm),
        cmocka_unit_test(factor_rule),
        cmocka_unit_test(eb_and_entsum),
        cmocka_unit_test(entropy_margin_random_and_alg_temp),
        cmocka_unit_test(temperature_zero_and_top_p),
        cmocka_unit_test(blocks_semi_autoregressive),
        cmocka_unit_test(revise_last_parity),
        cmocka_unit_test(edit_llada21),
        cmocka_unit_test(remdm_rules_by_hand),
        cmocka_unit_test(samples_follow_exact_law),
        cmocka_unit_test(gof_has_power),
        cmocka_unit_test(deterministic_across_threads_and_chunks),
        cmocka_unit_test(cuda_matches_cpu),
        cmocka_unit_test(cuda_matches_cpu_laws),
        cmocka_unit_test(detmath_matches_libm),
        cmocka_unit_test(policy_options_and_bad_input),
        cmocka_unit_test(cli_end_to_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
