/* test_verify.c — the verifier: exact targets (enumeration equals the analytic laws
 * bit for bit; enumeration of EPFL circuits equals an independent scalar evaluation),
 * the statistics helpers, verify passing on correct samplers in every mode, hard
 * invariants catching an impossible sample, calibration (chi-square p-values of a
 * correct sampler are uniform by a Kolmogorov-Smirnov test), power (an injected bias
 * fails at the sample size the theory predicts), and the CLI end to end (exit codes,
 * JSON keys and syntax).
 *
 * Build and run: make BUILD=build/ver CUDA=0 build/ver/dlmsim build/ver/test/test_verify
 *                ./build/ver/test/test_verify
 * Statistical tests use fixed seeds, so they are deterministic; each states the
 * probability with which its assertion could fail for a correct program. */
#include "dlm_test.h"
#include "dlm_eval.h"
#include "dlm_info.h"
#include "dlm_verify.h"

#include <gsl/gsl_errno.h>
#include <math.h>


static const dlm_test_result *find_test(const dlm_verify_report *r, const char *name)
{
    for (size_t i = 0; i < r->ntests; i++)
        if (!strcmp(r->tests[i].name, name)) return &r->tests[i];
    return NULL;
}

static const dlm_invariant *find_inv(const dlm_verify_report *r, const char *name)
{
    for (uint32_t i = 0; i < r->ninv; i++)
        if (!strcmp(r->inv[i].name, name)) return &r->inv[i];
    return NULL;
}

/* Runs the verifier on a loaded circuit; fails the test on an error status. */
static void verify_ok(const loaded *L, const dlm_verify_opts *o, dlm_verify_report *r)
{
    dlm_err e;
    dlm_status s = dlm_verify_run(&L->c, &L->lv, o, r, &e);
    if (s) fail_msg("%s: %s", L->c.source, e.msg);
}

// ---------------------------------------------------------------- exact targets

/* A progress hook on the target changes nothing and ends at the assignments' number. */
static void target_progress_changes_nothing(void **state)
{
    (void)state;
    const char *specs[] = {"gen:random:20,3,1", "gen:random:40,3,2"}; /* enumerated, reference */
    for (size_t s = 0; s < 2; s++) {
        loaded L;
        load_ok(specs[s], &L);
        dlm_target a, b;
        dlm_err e;
        uint64_t log[2] = {0, 0};
        assert_int_equal(dlm_target_build(&L.c, DLM_TARGET_AUTO, 5, 300000, 2, &a, &e), DLM_OK);
        assert_int_equal(dlm_target_build_progress(&L.c, DLM_TARGET_AUTO, 5, 300000, 2, dlm_test_count_progress, log, &b, &e),
                         DLM_OK);
        assert_int_equal(a.kind, b.kind);
        assert_true(log[0] >= 1 && log[1] == a.total);
        assert_memory_equal(a.p1, b.p1, L.c.nout * sizeof *a.p1);
        assert_memory_equal(a.p11, b.p11, a.npairs * sizeof *a.p11);
        if (a.hist) assert_memory_equal(a.hist, b.hist, ((size_t)1 << L.c.nout) * sizeof *a.hist);
        dlm_target_free(&a);
        dlm_target_free(&b);
        unload(&L);
    }
}

/* The compiler's and info's progress hooks change no program and end at their total. */
static void compile_progress_changes_nothing(void **state)
{
    (void)state;
    loaded L;
    load_ok("gen:random:16,12,3", &L);
    for (int m = 0; m < DLM_NMODES; m++) {
        dlm_program a, b;
        dlm_err e;
        uint64_t log[2] = {0, 0};
        assert_int_equal(dlm_compile(&L.c, &L.lv, (dlm_mode)m, &a, &e), DLM_OK);
        assert_int_equal(dlm_compile_progress(&L.c, &L.lv, (dlm_mode)m, dlm_test_count_progress, log, &b, &e), DLM_OK);
        assert_true(log[0] >= 1 && log[1] == 1000000);
        assert_true(a.L == b.L && a.rounds == b.rounds && a.nops == b.nops && a.counter_bits == b.counter_bits);
        assert_memory_equal(a.ops, b.ops, a.nops * sizeof *a.ops);
        assert_memory_equal(a.round_start, b.round_start, (a.rounds + 1) * sizeof *a.round_start);
        dlm_program_free(&a);
        dlm_program_free(&b);
    }
    dlm_info i1, i2;
    uint64_t log[2] = {0, 0};
    dlm_info_of(&L.c, &L.lv, &i1);
    dlm_info_of_progress(&L.c, &L.lv, dlm_test_count_progress, log, &i2);
    assert_memory_equal(&i1, &i2, sizeof i1);
    assert_true(log[0] >= 2 * DLM_NMODES && log[1] == 2 * DLM_NMODES * 1000000u);
    unload(&L);
}

/* Enumeration and the analytic law must agree exactly (==, not a tolerance). */
static void enum_equals_analytic(void **state)
{
    (void)state;
    const char *specs[] = {"gen:parity-tree:2",  "gen:parity-tree:8",   "gen:parity-chain:9",
                           "gen:parity-revise:3", "gen:parity-revise:12", "gen:parity-revise:26",
                           "gen:adder-ripple:1", "gen:adder-ripple:3",  "gen:adder-prefix:5",
                           "gen:adder-ripple:11", "gen:adder-prefix:8", "gen:maj:5",
                           "gen:maj:7"};
    for (size_t s = 0; s < sizeof specs / sizeof *specs; s++) {
        loaded L;
        load_ok(specs[s], &L);
        assert_true(dlm_target_has_analytic(&L.c));
        dlm_target a, n;
        dlm_err e;
        if (dlm_target_analytic(&L.c, &a, &e)) fail_msg("%s: %s", specs[s], e.msg);
        if (dlm_target_enumerate(&L.c, 0, &n, &e)) fail_msg("%s: %s", specs[s], e.msg);
        assert_int_equal(a.kind, DLM_TKIND_ANALYTIC);
        assert_int_equal(n.kind, DLM_TKIND_ENUMERATION);
        assert_int_equal(n.total, UINT64_C(1) << L.c.ncoins);
        assert_int_equal(a.npairs, n.npairs);
        for (uint32_t k = 0; k < L.c.nout; k++)
            if (a.p1[k] != n.p1[k]) fail_msg("%s bit %u: analytic %.17g, enumeration %.17g", specs[s], k, a.p1[k], n.p1[k]);
        for (uint32_t q = 0; q < a.npairs; q++) {
            assert_int_equal(a.pairs[q].i, n.pairs[q].i);
            assert_int_equal(a.pairs[q].j, n.pairs[q].j);
            if (a.p11[q] != n.p11[q])
                fail_msg("%s pair (%u,%u): analytic %.17g, enumeration %.17g", specs[s], a.pairs[q].i,
                         a.pairs[q].j, a.p11[q], n.p11[q]);
        }
        if (a.p_odd != n.p_odd) fail_msg("%s odd parity: %.17g vs %.17g", specs[s], a.p_odd, n.p_odd);
        if (L.c.nout <= DLM_HIST_MAX_BITS) {
            assert_non_null(a.hist);
            assert_non_null(n.hist);
            uint64_t sum = 0;
            for (size_t x = 0; x < ((size_t)1 << L.c.nout); x++) {
                if (a.hist[x] != n.hist[x])
                    fail_msg("%s cell %zu: analytic %.17g, enumeration %.17g", specs[s], x, a.hist[x], n.hist[x]);
                sum += n.hist_count[x];
            }
            assert_int_equal(sum, n.total);
        } else {
            assert_null(a.hist);
            assert_null(n.hist);
        }
        dlm_target_free(&a);
        dlm_target_free(&n);
        unload(&L);
    }
}

/* Scalar evaluation of assignment x (coin k = bit k of x) through the gates' folded
 * truth tables: a code path independent of dlm_eval_words. */
static void scalar_eval(const dlm_circuit *c, uint64_t x, uint8_t *v, uint8_t *out)
{
    uint32_t k = 0;
    v[0] = 0;
    for (uint32_t n = 1; n < c->nnodes; n++) {
        const dlm_gate *g = &c->g[n];
        if (g->type == DLM_G_COIN) {
            v[n] = (uint8_t)((x >> k++) & 1u);
            continue;
        }
        unsigned idx = 0;
        for (unsigned j = 0; j < g->nin; j++) idx |= (unsigned)v[DLM_LIT_NODE(g->in[j])] << j;
        v[n] = (uint8_t)((dlm_gate_truth_table(g) >> idx) & 1u);
    }
    for (uint32_t o = 0; o < c->nout; o++) out[o] = v[DLM_LIT_NODE(c->out[o])] ^ (uint8_t)DLM_LIT_NEG(c->out[o]);
}

/* Enumeration of small EPFL circuits: the counts equal a scalar evaluation of every
 * assignment (ones, pairs, odd parity, histogram where nout <= 24) and sum to 2^ncoins. */
static void enum_epfl_matches_scalar(void **state)
{
    (void)state;
    const char *files[] = {DLM_EPFL "/random_control/ctrl.aig", DLM_EPFL "/random_control/dec.aig",
                           "gen:mult:4"};
    for (size_t f = 0; f < sizeof files / sizeof *files; f++) {
        loaded L;
        load_ok(files[f], &L);
        const dlm_circuit *c = &L.c;
        assert_true(c->ncoins <= 12);
        dlm_target t;
        dlm_err e;
        if (dlm_target_enumerate(c, 0, &t, &e)) fail_msg("%s: %s", files[f], e.msg);
        uint64_t total = UINT64_C(1) << c->ncoins;
        assert_int_equal(t.total, total);
        uint8_t *v = malloc(c->nnodes), *out = malloc(c->nout);
        uint64_t *ones = calloc(c->nout, sizeof *ones), *n11 = calloc(t.npairs + 1, sizeof *n11), odd = 0;
        uint64_t *hist = c->nout <= DLM_HIST_MAX_BITS ? calloc((size_t)1 << c->nout, sizeof *hist) : NULL;
        assert_non_null(v);
        for (uint64_t x = 0; x < total; x++) {
            scalar_eval(c, x, v, out);
            unsigned par = 0;
            uint64_t idx = 0;
            for (uint32_t o = 0; o < c->nout; o++) {
                ones[o] += out[o];
                par ^= out[o];
                if (hist) idx |= (uint64_t)out[o] << o;
            }
            odd += par;
            for (uint32_t q = 0; q < t.npairs; q++) n11[q] += out[t.pairs[q].i] & out[t.pairs[q].j];
            if (hist) hist[idx]++;
        }
        for (uint32_t o = 0; o < c->nout; o++) assert_int_equal(t.ones[o], ones[o]);
        for (uint32_t q = 0; q < t.npairs; q++) assert_int_equal(t.n11[q], n11[q]);
        assert_int_equal(t.odd, odd);
        if (hist) {
            uint64_t sum = 0;
            for (size_t i = 0; i < ((size_t)1 << c->nout); i++) {
                assert_int_equal(t.hist_count[i], hist[i]);
                sum += t.hist_count[i];
            }
            assert_int_equal(sum, total);
        }
        free(v);
        free(out);
        free(ones);
        free(n11);
        free(hist);
        dlm_target_free(&t);
        unload(&L);
    }
}

/* The target ignores coin_thr (the target is the law with fair coins), and the choice
 * between kinds follows the documented order. */
static void target_choice(void **state)
{
    (void)state;
    loaded L;
    dlm_err e;
    dlm_target t;
    load_ok("gen:mult:3", &L); /* no analytic law, 6 coins */
    assert_false(dlm_target_has_analytic(&L.c));
    assert_int_equal(dlm_target_build(&L.c, DLM_TARGET_AUTO, 1, 1000, 0, &t, &e), DLM_OK);
    assert_int_equal(t.kind, DLM_TKIND_ENUMERATION);
    double h5 = t.hist[5 * 1]; /* 1 * 5 = 5: (a, b) in {(1,5), (5,1)} of 64 */
    assert_true(h5 == 2.0 / 64.0);
    dlm_target_free(&t);
    assert_int_equal(dlm_verify_inject_bias(&L.c, 0, 0.25, &e), DLM_OK);
    assert_int_equal(dlm_target_build(&L.c, DLM_TARGET_EXACT, 1, 1000, 0, &t, &e), DLM_OK);
    assert_true(t.hist[5] == 2.0 / 64.0); /* unchanged by the bias */
    dlm_target_free(&t);
    assert_int_equal(dlm_target_build(&L.c, DLM_TARGET_REFERENCE, 1, 1000, 0, &t, &e), DLM_OK);
    assert_int_equal(t.kind, DLM_TKIND_REFERENCE);
    assert_int_equal(t.total, 1000);
    assert_int_equal(t.ref_seed, 1 ^ DLM_VERIFY_REF_XOR);
    dlm_target_free(&t);
    assert_int_equal(dlm_verify_inject_bias(&L.c, 6, 0.1, &e), DLM_EINPUT);
    assert_int_equal(dlm_verify_inject_bias(&L.c, 0, 0.5, &e), DLM_EINPUT);
    unload(&L);
    load_ok("gen:mult:16", &L); /* 32 coins, no analytic law */
    assert_int_equal(dlm_target_build(&L.c, DLM_TARGET_EXACT, 1, 1000, 0, &t, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "enumeration limit"));
    unload(&L);
}

// ---------------------------------------------------------------- statistics helpers

static void stats_helpers(void **state)
{
    (void)state;
    dlm_err e;
    /* Holm: p = (0.01, 0.04, 0.03, 0.005) -> sorted 0.005*4, 0.01*3, 0.03*2, 0.04*1,
     * running max: 0.02, 0.03, 0.06, 0.06. */
    double p[4] = {0.01, 0.04, 0.03, 0.005}, a[4];
    assert_int_equal(dlm_stat_holm(p, 4, a, &e), DLM_OK);
    assert_float_equal(a[3], 0.02, 1e-15);
    assert_float_equal(a[0], 0.03, 1e-15);
    assert_float_equal(a[2], 0.06, 1e-15);
    assert_float_equal(a[1], 0.06, 1e-15);
    /* Chi-square: known quantiles, and no abort or NaN where GSL fails alone. */
    assert_float_equal(dlm_stat_chisq_q(7.814727903251178, 3), 0.05, 1e-9);
    assert_float_equal(dlm_stat_chisq_q(3.841458820694124, 1), 0.05, 1e-9);
    double big = 16777215.0;
    for (double s = -10; s <= 80; s += 0.5) {
        double q = dlm_stat_chisq_q(big + s * sqrt(2 * big), big);
        assert_true(q >= 0 && q <= 1);
    }
    assert_float_equal(dlm_stat_chisq_q(big, big), 0.5, 2e-3);
    /* Binomial: symmetric at p = 1/2, exact small case, no NaN at large n. */
    assert_float_equal(dlm_stat_binom_p2(0, 10, 0.5), 2.0 / 1024.0, 1e-15);
    assert_float_equal(dlm_stat_binom_p2(5, 10, 0.5), 1.0, 1e-15);
    for (uint64_t n = 1000; n <= UINT64_C(100000000); n *= 10) {
        double q = dlm_stat_binom_p2(n / 2, n, 0.5);
        assert_true(q >= 0.99 && q <= 1);
        q = dlm_stat_binom_p2(n / 2 + (uint64_t)(3 * sqrt((double)n) / 2), n, 0.5);
        assert_true(q > 0.0015 && q < 0.0045); /* z = 3 up to discreteness */
    }
    /* KS: a uniform grid is a near-perfect fit, a point mass is not. */
    double x[1000];
    for (int i = 0; i < 1000; i++) x[i] = (i + 0.5) / 1000.0;
    double d;
    assert_true(dlm_stat_ks_uniform(x, 1000, &d) > 0.999);
    assert_float_equal(d, 0.0005, 1e-12);
    for (int i = 0; i < 1000; i++) x[i] = 0.3;
    assert_true(dlm_stat_ks_uniform(x, 1000, &d) < 1e-100);
    /* The Kolmogorov tail at its well-known 5% point, 1.358. */
    for (int i = 0; i < 100; i++) x[i] = (i + 0.5) / 100.0;
    x[0] = 0.0; /* any sample: just exercise both series */
    assert_true(dlm_stat_ks_uniform(x, 100, &d) > 0.9);
    assert_float_equal(dlm_stat_z(0.025), 1.959963984540054, 1e-9);
}

static void pair_selection(void **state)
{
    (void)state;
    dlm_err e;
    dlm_pair *p;
    uint32_t n;
    assert_int_equal(dlm_verify_pairs(10, &p, &n, &e), DLM_OK);
    assert_int_equal(n, 45);
    free(p);
    assert_int_equal(dlm_verify_pairs(1, &p, &n, &e), DLM_OK);
    assert_int_equal(n, 0);
    assert_int_equal(dlm_verify_pairs(64, &p, &n, &e), DLM_OK);
    assert_int_equal(n, DLM_VERIFY_MAX_PAIRS);
    for (uint32_t k = 0; k < 63; k++) {
        assert_int_equal(p[k].i, k);
        assert_int_equal(p[k].j, k + 1);
    }
    for (uint32_t a = 0; a < n; a++) {
        assert_true(p[a].i < p[a].j && p[a].j < 64);
        for (uint32_t b = a + 1; b < n; b++) assert_false(p[a].i == p[b].i && p[a].j == p[b].j);
    }
    dlm_pair *p2;
    uint32_t n2;
    assert_int_equal(dlm_verify_pairs(64, &p2, &n2, &e), DLM_OK); /* deterministic */
    assert_memory_equal(p, p2, n * sizeof *p);
    free(p);
    free(p2);
}

// ---------------------------------------------------------------- verify passes

static void verify_parity_revise16(void **state)
{
    (void)state;
    loaded L;
    load_ok("gen:parity-revise:16", &L);
    dlm_verify_opts o;
    dlm_verify_opts_default(&o);
    o.chains = 300000;
    o.seed = 11;
    o.backend = DLM_BACKEND_CPU;
    dlm_verify_report r;
    verify_ok(&L, &o, &r);
    assert_int_equal(r.target_kind, DLM_TKIND_ANALYTIC);
    assert_int_equal(r.mode, DLM_MODE_REVISE);
    const dlm_invariant *odd = find_inv(&r, "odd-parity"), *bx = find_inv(&r, "bit-exact-prefix");
    assert_non_null(odd);
    assert_non_null(bx);
    assert_int_equal(odd->violations, 0);
    assert_int_equal(odd->checked, o.chains);
    assert_int_equal(bx->checked, DLM_VERIFY_PREFIX);
    assert_int_equal(bx->violations, 0);
    assert_non_null(find_test(&r, "hist-chi2"));
    assert_non_null(find_test(&r, "hist-g"));
    assert_non_null(find_test(&r, "bit[15]"));
    assert_non_null(find_test(&r, "pair[0,15]"));
    assert_int_equal(r.ntests, 2 + 16 + 120);
    assert_true(r.have_tv && r.tv >= 0 && r.tv <= r.tv_upper && r.tv_upper <= 1);
    if (!r.pass) fail_msg("parity-revise:16 failed verification");
    dlm_verify_report_free(&r);
    unload(&L);
}

static void verify_adder4_all_modes(void **state)
{
    (void)state;
    loaded L;
    load_ok("gen:adder-ripple:4", &L);
    for (int m = 0; m < DLM_NMODES; m++) {
        dlm_verify_opts o;
        dlm_verify_opts_default(&o);
        o.mode = (dlm_mode)m;
        o.chains = 200000;
        o.seed = 100 + (uint64_t)m;
        o.backend = DLM_BACKEND_CPU;
        dlm_verify_report r;
        verify_ok(&L, &o, &r);
        assert_int_equal(r.target_kind, DLM_TKIND_ANALYTIC);
        assert_null(find_inv(&r, "odd-parity")); /* nothing hard for the adders */
        if (!r.pass) fail_msg("adder-ripple:4 mode %s failed", dlm_mode_name((dlm_mode)m));
        dlm_verify_report_free(&r);
    }
    unload(&L);
    /* The same circuit against the empirical reference (two-sample tests), and an
     * enumerated circuit with no analytic law. */
    const char *specs[] = {"gen:adder-prefix:4", "gen:mult:3", DLM_EPFL "/random_control/ctrl.aig"};
    dlm_target_want want[] = {DLM_TARGET_REFERENCE, DLM_TARGET_AUTO, DLM_TARGET_AUTO};
    dlm_target_kind kind[] = {DLM_TKIND_REFERENCE, DLM_TKIND_ENUMERATION, DLM_TKIND_ENUMERATION};
    for (int i = 0; i < 3; i++) {
        load_ok(specs[i], &L);
        dlm_verify_opts o;
        dlm_verify_opts_default(&o);
        o.mode = DLM_MODE_COT;
        o.chains = 200000;
        o.seed = 7;
        o.target = want[i];
        o.backend = DLM_BACKEND_CPU;
        dlm_verify_report r;
        verify_ok(&L, &o, &r);
        assert_int_equal(r.target_kind, kind[i]);
        if (!r.pass) fail_msg("%s failed against its %s target", specs[i], dlm_target_kind_name(kind[i]));
        dlm_verify_report_free(&r);
        unload(&L);
    }
}

/* A circuit that claims the parity law but outputs (x1, x2, x1): odd-parity samples
 * and impossible histogram cells must fail at once, whatever the statistics say. */
static void hard_invariants_fail(void **state)
{
    (void)state;
    loaded L;
    memset(&L, 0, sizeof L);
    dlm_err e;
    uint32_t a, b;
    assert_int_equal(dlm_circuit_init(&L.c, "gen:parity-tree:3", &e), DLM_OK);
    assert_int_equal(dlm_circuit_add_coin(&L.c, NULL, &a, &e), DLM_OK);
    assert_int_equal(dlm_circuit_add_coin(&L.c, NULL, &b, &e), DLM_OK);
    assert_int_equal(dlm_circuit_add_output(&L.c, DLM_LIT(a, 0), NULL, &e), DLM_OK);
    assert_int_equal(dlm_circuit_add_output(&L.c, DLM_LIT(b, 0), NULL, &e), DLM_OK);
    assert_int_equal(dlm_circuit_add_output(&L.c, DLM_LIT(a, 0), NULL, &e), DLM_OK);
    assert_int_equal(dlm_levelize(&L.c, &L.lv, &e), DLM_OK);
    assert_true(dlm_target_has_analytic(&L.c));
    dlm_verify_opts o;
    dlm_verify_opts_default(&o);
    o.mode = DLM_MODE_COT;
    o.chains = 1000;
    o.backend = DLM_BACKEND_CPU;
    dlm_verify_report r;
    verify_ok(&L, &o, &r);
    assert_false(r.pass);
    const dlm_invariant *odd = find_inv(&r, "odd-parity"), *imp = find_inv(&r, "impossible-values");
    assert_non_null(odd);
    assert_true(odd->violations > 0 && !odd->pass);
    assert_true(imp->violations > 0 && !imp->pass);
    assert_true(find_inv(&r, "bit-exact-prefix")->pass);
    dlm_verify_report_free(&r);
    unload(&L);
}

// ---------------------------------------------------------------- calibration

#define CAL_SEEDS 200
#define CAL_CHAINS 20000

/* Under a correct sampler the chi-square p-values over independent seeds are uniform.
 * KS against U(0, 1): a correct program fails this with probability 1e-4. */
static void calibration_ks(void **state)
{
    (void)state;
    loaded L;
    load_ok("gen:parity-revise:4", &L);
    double pc[CAL_SEEDS], pg[CAL_SEEDS];
    int passes = 0;
    for (int s = 0; s < CAL_SEEDS; s++) {
        dlm_verify_opts o;
        dlm_verify_opts_default(&o);
        o.chains = CAL_CHAINS;
        o.seed = 1000 + (uint64_t)s;
        o.backend = DLM_BACKEND_CPU;
        o.prefix = 256;
        dlm_verify_report r;
        verify_ok(&L, &o, &r);
        const dlm_test_result *c = find_test(&r, "hist-chi2"), *g = find_test(&r, "hist-g");
        assert_non_null(c);
        assert_int_equal((int)c->df, 7); /* 8 even-parity cells, none pooled */
        pc[s] = c->p;
        pg[s] = g->p;
        passes += r.pass;
        dlm_verify_report_free(&r);
    }
    double d, dg;
    double p = dlm_stat_ks_uniform(pc, CAL_SEEDS, &d), p2 = dlm_stat_ks_uniform(pg, CAL_SEEDS, &dg);
    print_message("calibration: %d seeds x %d chains, chi-square p-values KS D = %.4f, p = %.4f; "
                  "G-test D = %.4f, p = %.4f; %d/%d runs passed\n",
                  CAL_SEEDS, CAL_CHAINS, d, p, dg, p2, passes, CAL_SEEDS);
    assert_true(p > 1e-4);
    assert_true(p2 > 1e-4);
    assert_true(passes >= CAL_SEEDS - 2); /* expected failures 200 * 1e-3 = 0.2 */
    unload(&L);
}

// ---------------------------------------------------------------- power

/* Coin 0 of parity-revise:16 is output x_1 itself, so a bias eps shows in bit[0] with
 * z = 2 eps sqrt(n). Holm's first step compares the smallest p with alpha / m, so the
 * n at which the two-sided z-test has power 0.99 is
 *   n* = ((z_{alpha/(2m)} + z_{0.01}) / (2 eps))^2.
 * At 2 n* the biased sampler must fail (power > 1 - 1e-6 there), at n* / 10 it should
 * still pass (power ~ 2%), and the unbiased sampler passes at 2 n*. */
static void power_injected_bias(void **state)
{
    (void)state;
    loaded L;
    load_ok("gen:parity-revise:16", &L);
    const double eps = 0.01;
    dlm_verify_opts o;
    dlm_verify_opts_default(&o);
    o.backend = DLM_BACKEND_CPU;
    o.seed = 2024;
    o.chains = 1000;
    dlm_verify_report r;
    verify_ok(&L, &o, &r); /* to learn m, the number of tests */
    double m = (double)r.ntests;
    dlm_verify_report_free(&r);
    double za = dlm_stat_z(o.alpha / (2 * m)), zb = dlm_stat_z(0.01);
    double nstar = pow((za + zb) / (2 * eps), 2);
    print_message("power: m = %.0f tests, z = %.3f + %.3f, predicted n* = %.0f for eps = %g\n", m, za,
                  zb, nstar, eps);
    /* Biased at 2 n*: fails, and bit[0] is among the failed tests. */
    o.chains = (uint64_t)(2 * nstar);
    o.inject = 1;
    o.inject_coin = 0;
    o.inject_eps = eps;
    verify_ok(&L, &o, &r);
    assert_true(r.injected);
    assert_false(r.pass);
    assert_false(find_test(&r, "bit[0]")->pass);
    assert_true(find_inv(&r, "bit-exact-prefix")->pass); /* the engine honours the bias */
    assert_true(find_inv(&r, "odd-parity")->pass);       /* still even parity */
    dlm_verify_report_free(&r);
    /* Biased at n* / 10: too few samples. */
    o.chains = (uint64_t)(nstar / 10);
    verify_ok(&L, &o, &r);
    assert_true(r.pass);
    dlm_verify_report_free(&r);
    /* Unbiased at 2 n*: passes. */
    o.inject = 0;
    o.chains = (uint64_t)(2 * nstar);
    verify_ok(&L, &o, &r);
    assert_true(r.pass);
    dlm_verify_report_free(&r);
    /* Setting coin_thr on the circuit directly gives the same: the target stays fair. */
    assert_int_equal(dlm_verify_inject_bias(&L.c, 0, eps, NULL), DLM_OK);
    verify_ok(&L, &o, &r);
    assert_false(r.pass);
    assert_int_equal(r.target_kind, DLM_TKIND_ANALYTIC);
    dlm_verify_report_free(&r);
    unload(&L);
}

// ---------------------------------------------------------------- CLI

static void cli_end_to_end(void **state)
{
    (void)state;
    static char out[1 << 20];
    int rc = dlm_test_sh(out, sizeof out, "%s verify gen:parity-revise:16 --chains 200000 --seed 3 --backend cpu", DLM_BIN);
    if (rc != 0) fail_msg("exit %d:\n%s", rc, out);
    assert_non_null(strstr(out, "verdict    PASS"));
    assert_non_null(strstr(out, "hist-chi2"));
    rc = dlm_test_sh(out, sizeof out, "%s verify gen:adder-ripple:2 --mode ar --chains 50000 --alpha 0.01 --target exact", DLM_BIN);
    if (rc != 0) fail_msg("exit %d:\n%s", rc, out);
    /* A bias of 0.05 on x_1 over 200000 chains: z = 2 * 0.05 * 447 = 45. */
    rc = dlm_test_sh(out, sizeof out, "%s verify gen:parity-revise:16 --chains 200000 --inject-bias 0:0.05 --backend cpu", DLM_BIN);
    if (rc != 1) fail_msg("biased sampler: exit %d, want 1:\n%s", rc, out);
    assert_non_null(strstr(out, "verdict    FAIL"));
    /* Bad input: exit 2 with a message. */
    const char *bad[] = {"--chains 0", "--mode nope", "--alpha 2", "--target exactly", "--inject-bias 0",
                         "--inject-bias 99:0.1", "--inject-bias 0:0.7", "--frobnicate", "--backend tpu"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rc = dlm_test_sh(out, sizeof out, "%s verify gen:parity-revise:4 %s", DLM_BIN, bad[i]);
        if (rc != 2) fail_msg("'%s': exit %d, want 2:\n%s", bad[i], rc, out);
        assert_non_null(strstr(out, "dlmsim:"));
    }
    rc = dlm_test_sh(out, sizeof out, "%s verify gen:mult:16 --target exact --chains 1000", DLM_BIN);
    if (rc != 2) fail_msg("--target exact on 32 coins: exit %d, want 2:\n%s", rc, out);
    assert_non_null(strstr(out, "no exact target"));
    rc = dlm_test_sh(out, sizeof out, "%s verify %s/no-such-file.aig", DLM_BIN, dlm_test_tmpdir());
    assert_int_equal(rc, 2);
    /* --target reference on a circuit too big to enumerate still runs. */
    rc = dlm_test_sh(out, sizeof out, "%s verify gen:mult:16 --mode cot --chains 20000 --json 2>/dev/null", DLM_BIN);
    if (rc != 0) fail_msg("mult:16 reference: exit %d:\n%s", rc, out);
    assert_true(json_parses(out));
    assert_non_null(strstr(out, "\"target_kind\":\"reference\""));
    /* JSON: parses, has the documented keys, and agrees with the exit code. */
    rc = dlm_test_sh(out, sizeof out, "%s verify gen:adder-ripple:3 --mode remask --chains 100000 --json 2>/dev/null", DLM_BIN);
    if (rc != 0) fail_msg("exit %d:\n%s", rc, out);
    if (!json_parses(out)) fail_msg("not JSON:\n%s", out);
    const char *keys[] = {"\"circuit\":", "\"mode\":\"remask\"", "\"backend\":", "\"chains\":100000",
                          "\"seed\":0", "\"alpha\":", "\"target_kind\":\"analytic\"", "\"target\":",
                          "\"reference\":null", "\"inject_bias\":null", "\"invariants\":[", "\"tests\":[",
                          "\"name\":\"hist-chi2\"", "\"statistic\":", "\"df\":", "\"p\":", "\"p_holm\":",
                          "\"pass\":", "\"tv\":", "\"tv_upper\":", "\"seconds\":", "\"verdict\":\"PASS\""};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!strstr(out, keys[i])) fail_msg("JSON lacks %s:\n%s", keys[i], out);
    rc = dlm_test_sh(out, sizeof out, "%s verify gen:parity-revise:8 --chains 100000 --inject-bias 0:0.1 --json 2>/dev/null", DLM_BIN);
    assert_int_equal(rc, 1);
    assert_true(json_parses(out));
    assert_non_null(strstr(out, "\"verdict\":\"FAIL\""));
    assert_non_null(strstr(out, "\"inject_bias\":{\"coin\":0,"));
}

/* Constant outputs and copies of an output add no test (Holm's m stays the number of
 * distinct statistics), a constant output sampled wrong is still caught, and the
 * reported detectable bias is z(alpha/2m) sqrt(p(1-p)/n). */
static void copies_are_not_tested_twice(void **state)
{
    (void)state;
    char aag[512];
    int n = snprintf(aag, sizeof aag, "aag 1 1 0 30 0\n2\n2\n");
    for (int i = 0; i < 29; i++) n += snprintf(aag + n, sizeof aag - (size_t)n, "0\n");
    loaded L;
    load_ok(dlm_test_file("const29.aag", aag), &L);
    dlm_verify_opts o;
    dlm_verify_opts_default(&o);
    o.chains = 100000;
    o.backend = DLM_BACKEND_CPU;
    dlm_verify_report r;
    verify_ok(&L, &o, &r);
    assert_true(r.pass);
    assert_int_equal(r.ntests, 1); /* bit[0]: the 29 pairs with a constant output are copies of it */
    assert_string_equal(r.tests[0].name, "bit[0]");
    double want = dlm_stat_z(o.alpha / 2) * sqrt(0.25 / 100000.0);
    assert_true(fabs(r.detect_bias - want) < 1e-12);
    dlm_verify_report_free(&r);
    /* output 0 = the coin, 1 = the coin, 2 = its complement: one bit test, 2 copies */
    unload(&L);
    load_ok(dlm_test_file("dup.aag", "aag 1 1 0 3 0\n2\n2\n2\n3\n"), &L);
    verify_ok(&L, &o, &r);
    assert_true(r.pass);
    assert_int_equal(r.dup_tests, 2);
    size_t bits = 0, pairs = 0;
    for (size_t i = 0; i < r.ntests; i++) {
        bits += !strncmp(r.tests[i].name, "bit[", 4);
        pairs += !strncmp(r.tests[i].name, "pair[", 5);
    }
    assert_int_equal(bits, 1);
    assert_int_equal(pairs, 0);
    dlm_verify_report_free(&r);
    /* a biased coin still fails, through the one bit test left */
    o.inject = 1;
    o.inject_coin = 0;
    o.inject_eps = 0.05;
    verify_ok(&L, &o, &r);
    assert_false(r.pass);
    dlm_verify_report_free(&r);
    /* one chain: no shift is detectable */
    o.inject = 0;
    o.chains = 1;
    verify_ok(&L, &o, &r);
    assert_true(r.detect_bias > 0.5);
    dlm_verify_report_free(&r);
    unload(&L);
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(enum_equals_analytic),
        cmocka_unit_test(target_progress_changes_nothing),
        cmocka_unit_test(compile_progress_changes_nothing),
        cmocka_unit_test(enum_epfl_matches_scalar),
        cmocka_unit_test(target_choice),
        cmocka_unit_test(stats_helpers),
        cmocka_unit_test(pair_selection),
        cmocka_unit_test(verify_parity_revise16),
        cmocka_unit_test(verify_adder4_all_modes),
        cmocka_unit_test(hard_invariants_fail),
        cmocka_unit_test(calibration_ks),
        cmocka_unit_test(power_injected_bias),
        cmocka_unit_test(cli_end_to_end),
        cmocka_unit_test(copies_are_not_tested_twice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
