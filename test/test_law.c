/* test_law.c — exactly known laws (dlm_law.h) and the exact predictor (dlm_oracle.h):
 *   every generator's law sums to 1; parity:3, bsc:3:0.1 and the skew3 table file
 *   against hand-computed entries; HMM tables against an independent sum over state
 *   paths; the oracle (every position, masked or revealed, with and without the
 *   subset-marginal table) against a brute-force conditional over the table within
 *   1e-12, on random:4:3, parity:5, bsc:6:0.2, a sparse HMM file with emissions, a
 *   sparse chain with teleport and a chain file; -1 exactly for zero-probability
 *   evidence; log p against the table; exact samples against the table (chi-square,
 *   200k samples) and their determinism; write/load round trips; bad input; english:64;
 *   circuit:gen:parity-tree:4 = parity:4.
 *
 * Build and run (from the repository root; data files are under test/data/law):
 *   make BUILD=build/law CUDA=0 build/law/test/test_law && build/law/test/test_law
 */
#include "dlm_test.h"
#include "dlm_law.h"
#include "dlm_oracle.h"

#include <gsl/gsl_cdf.h>
#include <math.h>

#define DATA "test/data/law/"

// ---------------------------------------------------------------- helpers

static double urand(uint64_t *s) /* xorshift64*, test code only */
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * UINT64_C(2685821657736338717)) >> 11) * 0x1.0p-53;
}

static uint64_t nseq(const dlm_law *law)
{
    uint64_t n = 1;
    for (uint32_t i = 0; i < law->v.L; i++) n *= law->v.V;
    return n;
}

static void load(const char *spec, dlm_law *law)
{
    dlm_err e;
    if (dlm_law_load(spec, law, 0, &e)) fail_msg("%s: %s", spec, e.msg);
}

static double *table_of(const dlm_law *law)
{
    dlm_err e;
    double *p;
    if (dlm_law_table(law, &p, &e)) fail_msg("table: %s", e.msg);
    return p;
}

static void expect_sum1(const double *p, uint64_t n)
{
    double z = 0;
    for (uint64_t x = 0; x < n; x++) {
        assert_true(p[x] >= 0);
        z += p[x];
    }
    assert_true(fabs(z - 1) < 1e-12);
}

/* P(b | a) of an HMM view, read directly from the CSR arrays. */
static double tr(const dlm_law_view *w, uint32_t a, uint32_t b)
{
    double t = 0;
    for (uint32_t k = w->rowptr[a]; k < w->rowptr[a + 1]; k++)
        if (w->col[k] == b) t += w->val[k];
    return (1 - w->tele) * t + w->tele / w->S;
}

/* The table of an HMM by summing over all S^L state paths (a path independent of the
 * library's forward recursion). */
static double *hmm_brute_table(const dlm_law *law)
{
    const dlm_law_view *w = &law->v;
    uint64_t N = nseq(law), P = 1;
    for (uint32_t i = 0; i < w->L; i++) P *= w->S;
    double *p = calloc(N, sizeof *p);
    for (uint64_t x = 0; x < N; x++)
        for (uint64_t path = 0; path < P; path++) {
            uint64_t xt = x, pt = path;
            uint32_t prev = 0;
            double q = 1;
            for (uint32_t t = 0; t < w->L; t++, xt /= w->V, pt /= w->S) {
                uint32_t s = (uint32_t)(pt % w->S), v = (uint32_t)(xt % w->V);
                q *= t ? tr(w, prev, s) : w->start[s];
                q *= w->emit ? w->emit[s * w->V + v] : (s == v);
                prev = s;
            }
            p[x] += q;
        }
    return p;
}

/* Brute-force oracle: out[i][v] = P(x_i = v | x_j = tok_j for revealed j != i), straight
 * from the definition; -1 when P(revealed tokens) = 0. */
static int brute(const double *p, uint32_t L, uint32_t V, const uint16_t *tok, double *out)
{
    uint64_t N = 1;
    for (uint32_t i = 0; i < L; i++) N *= V;
    memset(out, 0, sizeof(double) * L * V);
    double ev = 0;
    uint32_t d[32];
    for (uint64_t x = 0; x < N; x++) {
        uint64_t t = x;
        for (uint32_t i = 0; i < L; i++, t /= V) d[i] = (uint32_t)(t % V);
        int all = 1;
        for (uint32_t j = 0; j < L; j++)
            if (tok[j] != DLM_TOK_MASK && tok[j] != d[j]) all = 0;
        if (all) ev += p[x];
        for (uint32_t i = 0; i < L; i++) {
            int ok = 1;
            for (uint32_t j = 0; j < L; j++)
                if (j != i && tok[j] != DLM_TOK_MASK && tok[j] != d[j]) ok = 0;
            if (ok) out[i * V + d[i]] += p[x];
        }
    }
    if (ev == 0) return -1;
    for (uint32_t i = 0; i < L; i++) {
        double z = 0;
        for (uint32_t v = 0; v < V; v++) z += out[i * V + v];
        for (uint32_t v = 0; v < V; v++) out[i * V + v] /= z;
    }
    return 0;
}

/* The oracle on `states` random chain states of law (x drawn from the table by the test's
 * own generator, each position masked with probability 1/2; every 4th state has random
 * tokens instead, often of probability 0), against brute force within 1e-12. The scratch
 * is exactly dlm_oracle_scratch_doubles (ASan catches an overrun). */
static void oracle_vs_brute(const dlm_law *law, int states, uint64_t seed)
{
    const dlm_law_view *w = &law->v;
    const uint32_t L = w->L, V = w->V;
    double *p = table_of(law);
    uint64_t N = nseq(law), st = seed * 0x9E3779B97F4A7C15ull + 1;
    size_t ns = dlm_oracle_scratch_doubles(w);
    double *scratch = ns ? malloc(ns * sizeof(double)) : NULL;
    double *got = malloc(sizeof(double) * L * V), *want = malloc(sizeof(double) * L * V);
    uint16_t tok[32];
    int zero = 0, revealed = 0;
    for (int k = 0; k < states; k++) {
        if (k % 4 == 3) {
            for (uint32_t i = 0; i < L; i++)
                tok[i] = urand(&st) < 0.5 ? (uint16_t)DLM_TOK_MASK : (uint16_t)(urand(&st) * V);
        } else {
            double u = urand(&st), acc = 0;
            uint64_t x = 0;
            for (; x < N - 1; x++)
                if (u < (acc += p[x])) break;
            for (uint32_t i = 0; i < L; i++, x /= V) tok[i] = (uint16_t)(x % V);
            for (uint32_t i = 0; i < L; i++)
                if (k == 0 || (k != 1 && urand(&st) < 0.5)) tok[i] = (uint16_t)DLM_TOK_MASK;
        }
        int rb = brute(p, L, V, tok, want);
        int rg = dlm_oracle_probs(w, tok, got, scratch);
        if (rb != rg) fail_msg("state %d: oracle returned %d, brute force %d", k, rg, rb);
        if (rb) {
            zero++;
            continue;
        }
        for (uint32_t i = 0; i < L; i++) {
            revealed += tok[i] != DLM_TOK_MASK;
            for (uint32_t v = 0; v < V; v++)
                if (!(fabs(got[i * V + v] - want[i * V + v]) <= 1e-12))
                    fail_msg("state %d pos %u (%s) v %u: oracle %.17g, brute force %.17g", k, i,
                             tok[i] == DLM_TOK_MASK ? "masked" : "revealed", v, got[i * V + v],
                             want[i * V + v]);
        }
    }
    assert_true(revealed > 0); /* leave-one-out rows were compared */
    (void)zero;
    free(p);
    free(scratch);
    free(got);
    free(want);
}

/* Both oracle paths of a TABLE law: table scan, then with the marginal table. */
static void oracle_table_both(const char *spec, int states)
{
    dlm_law law;
    dlm_err e;
    load(spec, &law);
    assert_int_equal(law.v.kind, DLM_LAW_TABLE);
    assert_int_equal(dlm_oracle_scratch_doubles(&law.v), 0);
    oracle_vs_brute(&law, states, 1);
    assert_int_equal(dlm_law_build_marginals(&law, UINT64_MAX, &e), DLM_OK);
    assert_non_null(law.v.marg);
    oracle_vs_brute(&law, states, 2);
    dlm_law_free(&law);
}

// ---------------------------------------------------------------- laws

static void parity3_by_hand(void **state)
{
    (void)state;
    dlm_law law;
    load("parity:3", &law);
    assert_int_equal(law.v.kind, DLM_LAW_TABLE);
    assert_int_equal(law.v.L, 3);
    assert_int_equal(law.v.V, 2);
    const double want[8] = {0.25, 0, 0, 0.25, 0, 0.25, 0.25, 0};
    for (int x = 0; x < 8; x++) assert_true(law.v.p[x] == want[x]);
    assert_true(strlen(law.desc) > 0);
    dlm_law_free(&law);
}

static void bsc3_by_hand(void **state)
{
    (void)state;
    dlm_law law;
    load("bsc:3:0.1", &law);
    assert_int_equal(law.v.kind, DLM_LAW_HMM);
    double *p = table_of(&law);
    /* index = x0 + 2 x1 + 4 x2; P = 1/2 * (0.9 or 0.1) * (0.9 or 0.1) */
    const double want[8] = {0.405, 0.045, 0.005, 0.045, 0.045, 0.005, 0.045, 0.405};
    for (int x = 0; x < 8; x++)
        if (fabs(p[x] - want[x]) > 1e-15) fail_msg("x=%d: %.17g, want %.17g", x, p[x], want[x]);
    free(p);
    dlm_law_free(&law);
}

static void skew_table_file_by_hand(void **state)
{
    (void)state;
    dlm_law law;
    load("table:" DATA "skew3.txt", &law);
    const double want[8] = {0.5, 0, 0, 0.125, 0, 0, 0.25, 0.125}; /* 000 110 011 111 */
    for (int x = 0; x < 8; x++) assert_true(fabs(law.v.p[x] - want[x]) < 1e-15);
    dlm_law_free(&law);
}

static void every_generator_sums_to_one(void **state)
{
    (void)state;
    const char *specs[] = {"parity:5", "parity:1", "random:4:3:7", "random:2:12:3", "bsc:6:0.2",
                           "sparse:5:2:4:3", "sparse:4:4:3:1:0", "english:3",
                           "circuit:gen:parity-tree:4", "table:" DATA "skew3.txt",
                           "markov:" DATA "hmm3.txt", "markov:" DATA "chain3.txt"};
    for (size_t k = 0; k < sizeof specs / sizeof *specs; k++) {
        dlm_law law;
        load(specs[k], &law);
        assert_true(strlen(law.desc) > 0);
        double *p = table_of(&law);
        expect_sum1(p, nseq(&law));
        if (law.v.kind == DLM_LAW_HMM) {
            expect_sum1(law.v.start, law.v.S);
            for (uint32_t a = 0; a < law.v.S; a++)
                expect_sum1(law.v.val + law.v.rowptr[a], law.v.rowptr[a + 1] - law.v.rowptr[a]);
        }
        free(p);
        dlm_law_free(&law);
    }
}

static void hmm_tables_match_path_sums(void **state)
{
    (void)state;
    const char *specs[] = {"markov:" DATA "hmm3.txt", "markov:" DATA "chain3.txt", "bsc:5:0.3",
                           "sparse:4:2:4:9:0.01"};
    for (size_t k = 0; k < sizeof specs / sizeof *specs; k++) {
        dlm_law law;
        load(specs[k], &law);
        double *p = table_of(&law), *q = hmm_brute_table(&law);
        for (uint64_t x = 0; x < nseq(&law); x++)
            if (fabs(p[x] - q[x]) > 1e-15) fail_msg("%s x=%llu: %.17g vs %.17g", specs[k],
                                                    (unsigned long long)x, p[x], q[x]);
        free(p);
        free(q);
        dlm_law_free(&law);
    }
}

static void sparse_is_sparse_and_stationary(void **state)
{
    (void)state;
    dlm_law law;
    load("sparse:50:3:8:5", &law);
    const dlm_law_view *w = &law.v;
    assert_int_equal(w->rowptr[w->S], 150);
    assert_true(w->tele == 1e-4);
    for (uint32_t a = 0; a < w->S; a++)
        for (uint32_t k = w->rowptr[a] + 1; k < w->rowptr[a + 1]; k++) assert_true(w->col[k - 1] < w->col[k]);
    /* start P = start */
    for (uint32_t b = 0; b < w->S; b++) {
        double s = 0;
        for (uint32_t a = 0; a < w->S; a++) s += w->start[a] * tr(w, a, b);
        assert_true(fabs(s - w->start[b]) < 1e-12);
    }
    /* deterministic in the seed, different across seeds */
    dlm_law l2, l3;
    load("sparse:50:3:8:5", &l2);
    load("sparse:50:3:8:6", &l3);
    assert_memory_equal(l2.v.val, w->val, 150 * sizeof(double));
    assert_true(memcmp(l3.v.val, w->val, 150 * sizeof(double)) != 0);
    dlm_law_free(&l2);
    dlm_law_free(&l3);
    dlm_law_free(&law);
}

static void english64(void **state)
{
    (void)state;
    dlm_law law;
    load("english:64", &law);
    const dlm_law_view *w = &law.v;
    assert_int_equal(w->kind, DLM_LAW_HMM);
    assert_int_equal(w->L, 64);
    assert_int_equal(w->V, 27);
    assert_int_equal(w->S, 27);
    assert_null(w->emit);
    assert_string_equal(law.alphabet, "abcdefghijklmnopqrstuvwxyz ");
    expect_sum1(w->start, 27);
    for (uint32_t a = 0; a < 27; a++) {
        expect_sum1(w->val + w->rowptr[a], w->rowptr[a + 1] - w->rowptr[a]);
        for (uint32_t k = w->rowptr[a]; k < w->rowptr[a + 1]; k++) assert_true(w->val[k] > 0);
    }
    /* English: after 'q' comes 'u'; space is the most frequent symbol */
    assert_true(tr(w, 'q' - 'a', 'u' - 'a') > 0.5);
    for (uint32_t s = 0; s < 26; s++) assert_true(w->start[26] > w->start[s]);
    for (uint32_t b = 0; b < 27; b++) {
        double s = 0;
        for (uint32_t a = 0; a < 27; a++) s += w->start[a] * tr(w, a, b);
        assert_true(fabs(s - w->start[b]) < 1e-12);
    }
    /* the oracle runs at L = 64 and its rows sum to 1 */
    uint16_t tok[64];
    for (int i = 0; i < 64; i++) tok[i] = i % 5 ? (uint16_t)DLM_TOK_MASK : (uint16_t)(i % 27);
    double *out = malloc(64 * 27 * sizeof(double)), *sc = malloc(dlm_oracle_scratch_doubles(w) * sizeof(double));
    assert_int_equal(dlm_oracle_probs(w, tok, out, sc), 0);
    for (int i = 0; i < 64; i++) expect_sum1(out + 27 * i, 27);
    free(out);
    free(sc);
    dlm_law_free(&law);
}

static void circuit_parity_tree_is_parity(void **state)
{
    (void)state;
    dlm_law a, b;
    load("circuit:gen:parity-tree:4", &a);
    load("parity:4", &b);
    assert_int_equal(a.v.L, 4);
    assert_int_equal(a.v.V, 2);
    for (int x = 0; x < 16; x++) assert_true(fabs(a.v.p[x] - b.v.p[x]) < 1e-15);
    dlm_law_free(&a);
    dlm_law_free(&b);
}

static void expect_bad(const char *spec, const char *want);

/* circuit:C@A-B is the joint law of outputs A..B: the marginal of the full law. */
static void circuit_output_range_is_marginal(void **state)
{
    (void)state;
    dlm_law full, part;
    load("circuit:gen:adder-prefix:3", &full); /* 4 outputs (3 sum bits and the carry) */
    load("circuit:gen:adder-prefix:3@1-2", &part);
    assert_int_equal(full.v.L, 4);
    assert_int_equal(part.v.L, 2);
    double m[4] = {0, 0, 0, 0};
    for (int x = 0; x < 16; x++) m[(x >> 1) & 3] += full.v.p[x];
    for (int y = 0; y < 4; y++) assert_true(fabs(part.v.p[y] - m[y]) < 1e-15);
    dlm_law_free(&full);
    dlm_law_free(&part);
    expect_bad("circuit:gen:adder-prefix:3@2-9", "outputs");
    expect_bad("circuit:gen:adder-prefix:3@2-1", "A <= B");
    expect_bad("circuit:gen:adder-prefix:3@x", "A <= B");
}

// ---------------------------------------------------------------- the oracle

/* The Markov shortcut (powers P^d and position marginals, nearest revealed neighbours)
 * equals forward-backward: same -1 cases, rows within 1e-12, on random states of a
 * chain with teleport, the binary symmetric chain and the English chain. */
static void markov_shortcut_equals_forward_backward(void **state)
{
    (void)state;
    static const char *const specs[] = {"bsc:12:0.2", "sparse:5:2:9:3:0.05", "english:16", "sparse:4:1:10:7:0"};
    for (size_t k = 0; k < sizeof specs / sizeof *specs; k++) {
        dlm_law law;
        dlm_err e;
        load(specs[k], &law);
        assert_int_equal(dlm_law_build_marginals(&law, UINT64_C(1) << 26, &e), DLM_OK);
        assert_non_null(law.v.pw);
        dlm_law_view fb = law.v;
        fb.pw = NULL;
        fb.pim = NULL;
        uint32_t L = law.v.L, V = law.v.V;
        double *o1 = calloc((size_t)L * V, 8), *o2 = calloc((size_t)L * V, 8);
        double *sc = calloc(dlm_oracle_scratch_doubles(&fb) + 1, 8);
        uint16_t tok[64];
        uint64_t x = 12345 + k;
        int impossible = 0;
        for (int t = 0; t < 400; t++) {
            for (uint32_t i = 0; i < L; i++) {
                x = x * 6364136223846793005ULL + 1442695040888963407ULL;
                uint32_t r = (uint32_t)(x >> 33);
                tok[i] = r % 3 == 0 ? (uint16_t)(r / 3 % V) : (uint16_t)DLM_TOK_MASK;
            }
            int a = dlm_oracle_probs(&law.v, tok, o1, sc), b = dlm_oracle_probs(&fb, tok, o2, sc);
            assert_int_equal(a, b);
            impossible += a != 0;
            if (a) continue;
            for (size_t q = 0; q < (size_t)L * V; q++)
                if (!(fabs(o1[q] - o2[q]) <= 1e-12)) fail_msg("%s: row %zu: %.17g vs %.17g", specs[k], q / V, o1[q], o2[q]);
        }
        if (!strncmp(specs[k], "sparse:4:1", 10)) assert_true(impossible > 0); /* no teleport: zeros */
        free(o1);
        free(o2);
        free(sc);
        dlm_law_free(&law);
    }
}


static void oracle_random_law(void **state)
{
    (void)state;
    oracle_table_both("random:4:3:12345", 200);
}

static void oracle_parity(void **state)
{
    (void)state;
    oracle_table_both("parity:5", 200);
}

static void oracle_bsc(void **state)
{
    (void)state;
    dlm_law law;
    load("bsc:6:0.2", &law);
    oracle_vs_brute(&law, 200, 3);
    dlm_law_free(&law);
    /* the same law as a table: both TABLE paths agree with the HMM path's reference */
    dlm_err e;
    load("bsc:6:0.2", &law);
    double *p = table_of(&law);
    dlm_law t;
    memset(&t, 0, sizeof t);
    t.v.kind = DLM_LAW_TABLE;
    t.v.L = 6;
    t.v.V = 2;
    t.v.p = t.p = p;
    oracle_vs_brute(&t, 100, 4);
    assert_int_equal(dlm_law_build_marginals(&t, UINT64_MAX, &e), DLM_OK);
    oracle_vs_brute(&t, 100, 5);
    dlm_law_free(&t);
    dlm_law_free(&law);
}

static void oracle_hmm_file(void **state)
{
    (void)state;
    dlm_law law;
    load("markov:" DATA "hmm3.txt", &law);
    assert_non_null(law.v.emit);
    assert_true(law.v.tele == 0.05);
    assert_int_equal(dlm_oracle_scratch_doubles(&law.v), (5 + 3) * 3);
    oracle_vs_brute(&law, 300, 6);
    dlm_law_free(&law);
}

static void oracle_sparse_and_chain(void **state)
{
    (void)state;
    const char *specs[] = {"sparse:6:2:5:11", "sparse:5:1:6:2:0", "markov:" DATA "chain3.txt",
                           "english:4"};
    for (size_t k = 0; k < sizeof specs / sizeof *specs; k++) {
        dlm_law law;
        load(specs[k], &law);
        oracle_vs_brute(&law, k == 3 ? 12 : 200, 7 + k);
        dlm_law_free(&law);
    }
}

static void oracle_zero_evidence(void **state)
{
    (void)state;
    dlm_law law;
    dlm_err e;
    double out[3 * 2];
    const uint16_t M = (uint16_t)DLM_TOK_MASK;
    load("parity:3", &law);
    uint16_t odd[3] = {1, 0, 0}, ok[3] = {1, M, 0}, bad[3] = {2, M, M};
    assert_int_equal(dlm_oracle_probs(&law.v, odd, out, NULL), -1);
    assert_int_equal(dlm_oracle_probs(&law.v, bad, out, NULL), -1);
    assert_int_equal(dlm_oracle_probs(&law.v, ok, out, NULL), 0);
    assert_true(out[2 * 1 + 1] == 1.0 && out[2 * 1 + 0] == 0.0); /* x1 = 1 */
    /* leave-one-out at revealed position 0 given x2 = 0: uniform */
    assert_true(fabs(out[0] - 0.5) < 1e-15 && fabs(out[1] - 0.5) < 1e-15);
    assert_int_equal(dlm_law_build_marginals(&law, UINT64_MAX, &e), DLM_OK);
    assert_int_equal(dlm_oracle_probs(&law.v, odd, out, NULL), -1);
    assert_int_equal(dlm_oracle_probs(&law.v, ok, out, NULL), 0);
    dlm_law_free(&law);
    load("bsc:3:0", &law);
    double sc[(3 + 3) * 2];
    uint16_t flip[3] = {0, 1, M}, same[3] = {0, M, 0};
    assert_int_equal(dlm_oracle_probs(&law.v, flip, out, sc), -1);
    assert_int_equal(dlm_oracle_probs(&law.v, same, out, sc), 0);
    assert_true(out[2 * 1 + 0] == 1.0);
    dlm_law_free(&law);
}

static void marginals_respect_max_bytes(void **state)
{
    (void)state;
    dlm_law law;
    dlm_err e;
    load("random:3:3:4", &law);
    assert_int_equal(dlm_law_build_marginals(&law, 64 * 8 - 1, &e), DLM_OK);
    assert_null(law.v.marg); /* 4^3 = 64 entries do not fit */
    assert_int_equal(dlm_law_build_marginals(&law, 64 * 8, &e), DLM_OK);
    assert_non_null(law.v.marg);
    assert_true(fabs(law.v.marg[63] - 1) < 1e-15); /* everything summed out */
    /* marg[x0=1, x1 summed, x2=2] = sum_v p[1 + 3 v + 9*2] */
    double s = 0;
    for (int v = 0; v < 3; v++) s += law.v.p[1 + 3 * v + 18];
    assert_true(fabs(law.v.marg[1 + 4 * 3 + 16 * 2] - s) < 1e-16);
    for (int x = 0; x < 27; x++) assert_true(law.v.marg[x % 3 + 4 * (x / 3 % 3) + 16 * (x / 9)] == law.v.p[x]);
    dlm_law_free(&law);
    load("bsc:4:0.1", &law); /* HMM: nothing built */
    assert_int_equal(dlm_law_build_marginals(&law, UINT64_MAX, &e), DLM_OK);
    assert_null(law.v.marg);
    dlm_law_free(&law);
}

// ---------------------------------------------------------------- logp, sample, write

static void logp_matches_table(void **state)
{
    (void)state;
    const char *specs[] = {"random:3:3:5", "parity:4", "bsc:6:0.2", "markov:" DATA "hmm3.txt",
                           "markov:" DATA "chain3.txt", "sparse:5:2:4:3"};
    for (size_t k = 0; k < sizeof specs / sizeof *specs; k++) {
        dlm_law law;
        load(specs[k], &law);
        double *p = table_of(&law);
        uint16_t x[16];
        for (uint64_t i = 0; i < nseq(&law); i++) {
            uint64_t t = i;
            for (uint32_t j = 0; j < law.v.L; j++, t /= law.v.V) x[j] = (uint16_t)(t % law.v.V);
            double lp = dlm_law_logp(&law, x);
            if (p[i] == 0) assert_true(lp == -INFINITY);
            else if (!(fabs(lp - log(p[i])) < 1e-12))
                fail_msg("%s x=%llu: logp %.17g, log table %.17g", specs[k], (unsigned long long)i,
                         lp, log(p[i]));
        }
        free(p);
        dlm_law_free(&law);
    }
}

/* 200k samples against the table: chi-square p-value > 1e-6 over the cells of positive
 * probability, and no sample in a cell of probability 0. */
static void chisq_check(const char *spec)
{
    dlm_law law;
    load(spec, &law);
    double *p = table_of(&law);
    uint64_t N = nseq(&law), n = 200000, *cnt = calloc(N, sizeof *cnt);
    uint16_t x[16];
    for (uint64_t c = 0; c < n; c++) {
        dlm_law_sample(&law, 42, c, x);
        uint64_t idx = 0, pw = 1;
        for (uint32_t i = 0; i < law.v.L; i++, pw *= law.v.V) {
            assert_true(x[i] < law.v.V);
            idx += x[i] * pw;
        }
        cnt[idx]++;
    }
    double chi = 0;
    int cells = 0;
    for (uint64_t i = 0; i < N; i++) {
        if (p[i] == 0) {
            assert_int_equal(cnt[i], 0);
            continue;
        }
        double ex = p[i] * (double)n;
        chi += (cnt[i] - ex) * (cnt[i] - ex) / ex;
        cells++;
    }
    double pv = gsl_cdf_chisq_Q(chi, cells - 1);
    if (!(pv > 1e-6)) fail_msg("%s: chi-square %g on %d cells, p = %g", spec, chi, cells - 1, pv);
    free(cnt);
    free(p);
    dlm_law_free(&law);
}

static void samples_follow_the_law(void **state)
{
    (void)state;
    chisq_check("random:3:3:11");
    chisq_check("parity:4");
    chisq_check("markov:" DATA "hmm3.txt");
    chisq_check("sparse:4:2:3:5:0.1");
}

static void samples_are_deterministic(void **state)
{
    (void)state;
    const char *specs[] = {"random:4:3:1", "markov:" DATA "hmm3.txt"};
    for (size_t k = 0; k < 2; k++) {
        dlm_law law;
        load(specs[k], &law);
        uint16_t a[8], b[8];
        int differ = 0;
        for (uint64_t c = 0; c < 64; c++) {
            dlm_law_sample(&law, 7, c, a);
            dlm_law_sample(&law, 7, c, b);
            assert_memory_equal(a, b, law.v.L * sizeof *a);
            dlm_law_sample(&law, 8, c, b);
            differ += memcmp(a, b, law.v.L * sizeof *a) != 0;
        }
        assert_true(differ > 0); /* the seed matters */
        dlm_law_free(&law);
    }
}

static void write_load_round_trip(void **state)
{
    (void)state;
    const char *specs[] = {"parity:4", "random:2:12:3", "bsc:5:0.3", "markov:" DATA "hmm3.txt",
                           "markov:" DATA "chain3.txt", "english:3", "sparse:6:2:3:1"};
    for (size_t k = 0; k < sizeof specs / sizeof *specs; k++) {
        dlm_law a, b;
        dlm_err e;
        char path[512], spec[600];
        load(specs[k], &a);
        snprintf(path, sizeof path, "%s/law%zu.txt", dlm_test_tmpdir(), k);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        assert_int_equal(dlm_law_write(&a, f, &e), DLM_OK);
        fclose(f);
        snprintf(spec, sizeof spec, "%s:%s", a.v.kind == DLM_LAW_TABLE ? "table" : "markov", path);
        load(spec, &b);
        assert_int_equal(a.v.kind, b.v.kind);
        assert_int_equal(a.v.L, b.v.L);
        assert_int_equal(a.v.V, b.v.V);
        assert_int_equal(a.v.S, b.v.S);
        assert_true(a.v.tele == b.v.tele);
        assert_string_equal(a.alphabet, b.alphabet);
        assert_true((a.v.emit == NULL) == (b.v.emit == NULL));
        double *pa = table_of(&a), *pb = table_of(&b);
        for (uint64_t x = 0; x < nseq(&a); x++)
            if (fabs(pa[x] - pb[x]) > 1e-15) fail_msg("%s x=%llu: %.17g vs %.17g", specs[k],
                                                      (unsigned long long)x, pa[x], pb[x]);
        free(pa);
        free(pb);
        dlm_law_free(&a);
        dlm_law_free(&b);
    }
}

// ---------------------------------------------------------------- bad input

/* expect_bad within the memory budget max_bytes (0: the default) */
static void expect_bad_within(const char *spec, uint64_t max_bytes, const char *want)
{
    dlm_law law;
    dlm_err e;
    e.msg[0] = 0;
    memset(&law, 0x5a, sizeof law);
    dlm_status s = dlm_law_load(spec, &law, max_bytes, &e);
    if (s != DLM_EINPUT) fail_msg("%s: status %d (want DLM_EINPUT), message '%s'", spec, s, e.msg);
    if (!strstr(e.msg, want)) fail_msg("%s: message '%s' lacks '%s'", spec, e.msg, want);
    if (strchr(e.msg, '\n')) fail_msg("%s: message has a newline: '%s'", spec, e.msg);
    assert_null(law.p); /* nothing left allocated */
    assert_null(law.start);
}

static void expect_bad(const char *spec, const char *want)
{
    expect_bad_within(spec, 0, want);
}

static void expect_bad_file(const char *kind, const char *text, const char *want)
{
    char spec[600];
    snprintf(spec, sizeof spec, "%s:%s", kind, dlm_test_file("bad.txt", text));
    expect_bad(spec, want);
}

static void bad_specs(void **state)
{
    (void)state;
    expect_bad("", "empty");
    expect_bad("foo:3", "unknown law");
    expect_bad("parity", "expected 1 field");
    expect_bad("parity:0", "N must be 1..24");
    expect_bad("parity:25", "N must be 1..24");
    expect_bad("parity:x", "bad number 'x'");
    expect_bad("parity:-3", "bad number");
    expect_bad("random:30:2:1", "table limit");
    expect_bad("random:3:1:1", "V = 1");
    expect_bad("random:0:3:1", "L must be");
    expect_bad("random:3:3", "expected 3 fields");
    expect_bad("random:3:3:1:4", "expected 3 fields");
    expect_bad("random:2:99999999999:1", "V must be");
    expect_bad("bsc:5:1.5", "FLIP must be");
    expect_bad("bsc:5:-0.1", "bad number");
    expect_bad("bsc:5:nan", "bad number");
    expect_bad("bsc:0:0.1", "L must be");
    expect_bad("bsc:5000:0.1", "L must be");
    expect_bad("sparse:5:6:4:1", "K must be");
    expect_bad("sparse:5:0:4:1", "K must be");
    expect_bad("sparse:1:1:4:1", "V must be");
    expect_bad("sparse:5:2:4:1:1", "TELE must be");
    expect_bad("english:0", "L must be");
    expect_bad("table:/nonexistent/law.txt", "/nonexistent/law.txt");
    expect_bad("markov:/nonexistent/law.txt", "/nonexistent/law.txt");
    expect_bad("circuit:gen:parity-tree:30", "at most 24");
    expect_bad("circuit:gen:nosuch:3", "unknown generator");
    /* the memory budget is checked before allocating */
    expect_bad_within("random:10:2:1", 1024, "memory budget");
}

static void bad_table_files(void **state)
{
    (void)state;
    expect_bad_file("table", "", "empty file");
    expect_bad_file("table", "# only a comment\n", "empty file");
    expect_bad_file("table", "tabel 2 2\n", ":1: expected 'table L V'");
    expect_bad_file("table", "table 0 2\n", ":1: bad L");
    expect_bad_file("table", "table 2 1\n00 1\n", ":1: bad V");
    expect_bad_file("table", "table 2\n", ":1: missing V");
    expect_bad_file("table", "table 2 2 7\n", ":1: unexpected field");
    expect_bad_file("table", "table 30 2\n", "table limit");
    expect_bad_file("table", "table 2 2\n00 0.5\n# c\n00 0.5\n", ":4: sequence given twice");
    expect_bad_file("table", "table 2 2\n00 0.5\n0 0 0.5\n", ":3: sequence given twice");
    expect_bad_file("table", "table 2 2\n00 -0.5\n", ":2: bad number");
    expect_bad_file("table", "table 2 2\n00 abc\n", ":2: bad number");
    expect_bad_file("table", "table 2 2\n00 1e999\n", ":2: bad number");
    expect_bad_file("table", "table 2 2\n012 0.5\n", ":2: expected a string of L digits");
    expect_bad_file("table", "table 2 2\n02 0.5\n", ":2: bad token digit");
    expect_bad_file("table", "table 2 2\n0 1 1 0.5\n", ":2: expected 2 tokens");
    expect_bad_file("table", "table 2 12\n0 12 0.5\n", ":2: bad token '12'");
    expect_bad_file("table", "table 2 2\n00 0\n", "sum to 0");
    expect_bad_file("table", "table 2 2\nalphabet \"abc\"\n", ":2: alphabet has 3 characters");
    expect_bad_file("table", "table 2 2\nalphabet ab\n", ":2: alphabet: expected");
}

static void bad_markov_files(void **state)
{
    (void)state;
    const char *h = "markov 3 2\nstart 0.5 0.5\n";
    char t[512];
    expect_bad_file("markov", "", "empty file");
    expect_bad_file("markov", "chain 3 2\n", ":1: expected 'markov L V' or 'hmm L S V'");
    expect_bad_file("markov", "markov 5000 2\n", ":1: bad L");
    expect_bad_file("markov", "markov 3 1\n", ":1: bad V");
    expect_bad_file("markov", "hmm 3 0 2\n", ":1: bad S");
    snprintf(t, sizeof t, "%srow 0 0.5 0.4\nrow 1 0.5 0.5\n", h);
    expect_bad_file("markov", t, ":3: row of state 0 sums to");
    snprintf(t, sizeof t, "%sedge 0 0 0.5\nedge 0 1 0.4\nrow 1 0.5 0.5\n", h);
    expect_bad_file("markov", t, ":3: transitions of state 0 sums to");
    snprintf(t, sizeof t, "%srow 0 0.5 0.5\n", h);
    expect_bad_file("markov", t, "state 1 has no transitions");
    expect_bad_file("markov", "markov 3 2\nrow 0 0.5 0.5\nrow 1 0.5 0.5\n", "no 'start' line");
    expect_bad_file("markov", "markov 3 2\nstart 0.5 0.6\n", ":2: start sums to");
    expect_bad_file("markov", "markov 3 2\nstart 0.5\n", ":2: missing start probability");
    expect_bad_file("markov", "markov 3 2\nstart 0.5 0.5 0\n", ":2: unexpected field");
    expect_bad_file("markov", "markov 3 2\nstart 1.5 -0.5\n", ":2: bad number");
    snprintf(t, sizeof t, "%srow 0 0.5 0.5\nrow 1 0.5 0.5\nedge 1 0 0.5\n", h);
    expect_bad_file("markov", t, ":5: transition 1 -> 0 given twice (first at line 4)");
    snprintf(t, sizeof t, "%srow 0 0.5 0.5\nedge 1 2 1\n", h);
    expect_bad_file("markov", t, ":4: bad state '2'");
    snprintf(t, sizeof t, "%srow 0 0.5 0.5\nrow 1 0.5 0.5\nemit 0 1 0\n", h);
    expect_bad_file("markov", t, ":5: emit rows belong in an 'hmm' file");
    snprintf(t, sizeof t, "%srow 0 0.5 0.5\nrow 1 0.5 0.5\nteleport 1\n", h);
    expect_bad_file("markov", t, ":5: teleport must be in [0, 1)");
    snprintf(t, sizeof t, "%srow 0 1 0\nrow 1 1 0\nfoo 1\n", h);
    expect_bad_file("markov", t, ":5: unknown keyword");
    expect_bad_file("markov", "hmm 3 2 2\nstart 1 0\nrow 0 1 0\nrow 1 0 1\nemit 0 0.5 0.5\n",
                    "no emit row for state 1");
    expect_bad_file("markov", "hmm 3 2 2\nstart 1 0\nrow 0 1 0\nrow 1 0 1\nemit 0 0.5 0.5\n"
                    "emit 1 0.5 0.4\n", ":6: emit row sums to");
    expect_bad_file("markov", "markov 3 2\nalphabet \"a\"\n", ":2: alphabet has 1 characters");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parity3_by_hand),
        cmocka_unit_test(bsc3_by_hand),
        cmocka_unit_test(skew_table_file_by_hand),
        cmocka_unit_test(every_generator_sums_to_one),
        cmocka_unit_test(hmm_tables_match_path_sums),
        cmocka_unit_test(sparse_is_sparse_and_stationary),
        cmocka_unit_test(english64),
        cmocka_unit_test(circuit_parity_tree_is_parity),
        cmocka_unit_test(circuit_output_range_is_marginal),
        cmocka_unit_test(markov_shortcut_equals_forward_backward),
        cmocka_unit_test(oracle_random_law),
        cmocka_unit_test(oracle_parity),
        cmocka_unit_test(oracle_bsc),
        cmocka_unit_test(oracle_hmm_file),
        cmocka_unit_test(oracle_sparse_and_chain),
        cmocka_unit_test(oracle_zero_evidence),
        cmocka_unit_test(marginals_respect_max_bytes),
        cmocka_unit_test(logp_matches_table),
        cmocka_unit_test(samples_follow_the_law),
        cmocka_unit_test(samples_are_deterministic),
        cmocka_unit_test(write_load_round_trip),
        cmocka_unit_test(bad_specs),
        cmocka_unit_test(bad_table_files),
        cmocka_unit_test(bad_markov_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
