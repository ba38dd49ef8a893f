/* test_gen.c — the circuit generators (host/circuit/gen.c, docs/generators.md).
 *
 * Oracle: a scalar evaluator written here (nodes in order, each gate through
 * dlm_gate_truth_table) runs every generated circuit on ALL coin assignments for small
 * sizes, and the outputs are compared with the intended arithmetic (sum, product,
 * popcount, the parity constructions). Levels are recomputed here too (1 + max input
 * level, coins 0) and compared with the documented depths. gen:random is compared
 * gate by gate with a second implementation of its documented draw order.
 * Run: make build/test/test_gen && ./build/test/test_gen
 */
#include "dlm_test.h"
#include "dlm_circuit.h"
#include "dlm_gen.h"

/* Circuits with very many coins are slow under AddressSanitizer while
 * dlm_circuit_add_coin grows its arrays by one element per coin (realloc copies every
 * time without glibc's mremap: 65535 coins take ~50 s); the sanitizer build checks
 * the same properties at smaller sizes. BIG is 1 in the plain build. */
#if defined(__SANITIZE_ADDRESS__)
#define BIG 0
#else
#define BIG 1
#endif

// ---------------------------------------------------------------------------
// Helpers: build, evaluate, levelize, structural checks.

static void build(dlm_circuit *c, const char *spec)
{
    dlm_err e = {{0}};
    dlm_status s = dlm_gen_build(c, spec, 0, &e);
    if (s != DLM_OK) fail_msg("%s: status %d: %s", spec, (int)s, e.msg);
    assert_string_equal(c->source, spec);
}

/* Evaluates c with coin k = coin[k] (0/1) into val (c->nnodes entries); returns the
 * outputs packed, output o in bit o (only the first 64). */
static uint64_t eval_coins(const dlm_circuit *c, const uint8_t *coin, uint8_t *val)
{
    uint32_t k = 0;
    for (uint32_t n = 0; n < c->nnodes; n++) {
        const dlm_gate *g = &c->g[n];
        if (g->type == DLM_G_CONST0) {
            val[n] = 0;
        } else if (g->type == DLM_G_COIN) {
            assert_int_equal(c->coins[k], n);
            val[n] = coin[k++];
        } else {
            unsigned idx = 0;
            for (unsigned j = 0; j < g->nin; j++) {
                assert_true(DLM_LIT_NODE(g->in[j]) < n); /* topological */
                idx |= (unsigned)val[DLM_LIT_NODE(g->in[j])] << j;
            }
            val[n] = (uint8_t)((dlm_gate_truth_table(g) >> idx) & 1u);
        }
    }
    assert_int_equal(k, c->ncoins);
    uint64_t out = 0;
    for (uint32_t o = 0; o < c->nout && o < 64; o++)
        out |= (uint64_t)(val[DLM_LIT_NODE(c->out[o])] ^ DLM_LIT_NEG(c->out[o])) << o;
    return out;
}

/* The same with coin k = bit k of coins (tests keep ncoins <= 64 here). */
static uint64_t eval(const dlm_circuit *c, uint64_t coins, uint8_t *val)
{
    uint8_t coin[64];
    assert_true(c->ncoins <= 64);
    for (uint32_t k = 0; k < c->ncoins; k++) coin[k] = (uint8_t)((coins >> k) & 1u);
    return eval_coins(c, coin, val);
}

/* A small deterministic PRNG for sampled checks (splitmix64). */
static uint64_t test_rand(uint64_t *st)
{
    uint64_t z = (*st += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Level of every node (coins and node 0: 0) into lvl; returns the depth. */
static uint32_t levels(const dlm_circuit *c, uint32_t *lvl)
{
    uint32_t depth = 0;
    for (uint32_t n = 0; n < c->nnodes; n++) {
        const dlm_gate *g = &c->g[n];
        lvl[n] = 0;
        if (g->type == DLM_G_CONST0 || g->type == DLM_G_COIN) continue;
        uint32_t m = 0;
        for (unsigned j = 0; j < g->nin; j++)
            if (lvl[DLM_LIT_NODE(g->in[j])] > m) m = lvl[DLM_LIT_NODE(g->in[j])];
        lvl[n] = m + 1;
        if (lvl[n] > depth) depth = lvl[n];
    }
    return depth;
}

static uint32_t depth_of(const dlm_circuit *c)
{
    uint32_t *lvl = calloc(c->nnodes, sizeof *lvl);
    assert_non_null(lvl);
    uint32_t d = levels(c, lvl);
    free(lvl);
    return d;
}

static uint32_t gates_of(const dlm_circuit *c)
{
    return c->nnodes - 1 - c->ncoins;
}

/* Structure every generator keeps: coins are the first nodes in order, gates are
 * AND/OR/XOR of 1 or 2 non-constant inputs, every vertex is read by a gate or is an
 * output (no dead vertex), names are present. */
static void check_structure(const dlm_circuit *c)
{
    uint8_t *used = calloc(c->nnodes, 1);
    assert_non_null(used);
    for (uint32_t k = 0; k < c->ncoins; k++) assert_int_equal(c->coins[k], k + 1);
    for (uint32_t n = 1; n < c->nnodes; n++) {
        const dlm_gate *g = &c->g[n];
        if (n <= c->ncoins) {
            assert_int_equal(g->type, DLM_G_COIN);
            continue;
        }
        assert_true(g->type == DLM_G_AND || g->type == DLM_G_OR || g->type == DLM_G_XOR);
        assert_true(g->nin == 1 || g->nin == 2);
        for (unsigned j = 0; j < g->nin; j++) {
            assert_true(DLM_LIT_NODE(g->in[j]) >= 1);
            used[DLM_LIT_NODE(g->in[j])] = 1;
        }
    }
    for (uint32_t o = 0; o < c->nout; o++) used[DLM_LIT_NODE(c->out[o])] = 1;
    for (uint32_t n = 1; n < c->nnodes; n++)
        if (!used[n]) fail_msg("%s: vertex %u is neither read nor an output", c->source, n);
    assert_non_null(c->coin_names);
    assert_non_null(c->out_names);
    for (uint32_t k = 0; k < c->ncoins; k++) assert_non_null(c->coin_names[k]);
    for (uint32_t o = 0; o < c->nout; o++) assert_non_null(c->out_names[o]);
    free(used);
}

static uint32_t ceil_log2(uint32_t x)
{
    uint32_t k = 0;
    while ((UINT64_C(1) << k) < x) k++;
    return k;
}

static uint64_t mask(unsigned bits)
{
    return bits >= 64 ? ~UINT64_C(0) : (UINT64_C(1) << bits) - 1;
}

// ---------------------------------------------------------------------------
// Parity.

static void parity_xor_check(const char *kind, uint32_t N)
{
    char spec[64];
    snprintf(spec, sizeof spec, "gen:%s:%u", kind, N);
    dlm_circuit c;
    build(&c, spec);
    check_structure(&c);
    assert_int_equal(c.ncoins, N - 1);
    assert_int_equal(c.nout, N);
    assert_string_equal(c.coin_names[0], "x1");
    char nm[16];
    snprintf(nm, sizeof nm, "x%u", N);
    assert_string_equal(c.out_names[N - 1], nm);
    uint8_t *val = malloc(c.nnodes);
    assert_non_null(val);
    for (uint64_t a = 0; a < (UINT64_C(1) << (N - 1)); a++) {
        uint64_t out = eval(&c, a, val);
        assert_int_equal(out & mask(N - 1), a); /* x_1..x_{N-1} are the coins */
        assert_int_equal((out >> (N - 1)) & 1u, (uint64_t)__builtin_parityll(a));
        assert_int_equal(__builtin_parityll(out), 0); /* even parity, always */
    }
    free(val);
    dlm_circuit_free(&c);
}

static void parity_tree_exhaustive(void **state)
{
    (void)state;
    for (uint32_t N = 2; N <= 12; N++) {
        parity_xor_check("parity-tree", N);
        char spec[64];
        snprintf(spec, sizeof spec, "gen:parity-tree:%u", N);
        dlm_circuit c;
        build(&c, spec);
        assert_int_equal(depth_of(&c), N == 2 ? 1 : ceil_log2(N - 1));
        assert_int_equal(gates_of(&c), N == 2 ? 1 : N - 2);
        dlm_circuit_free(&c);
    }
}

static void parity_chain_exhaustive(void **state)
{
    (void)state;
    for (uint32_t N = 2; N <= 12; N++) {
        parity_xor_check("parity-chain", N);
        char spec[64];
        snprintf(spec, sizeof spec, "gen:parity-chain:%u", N);
        dlm_circuit c;
        build(&c, spec);
        assert_int_equal(depth_of(&c), N == 2 ? 1 : N - 2);
        assert_int_equal(gates_of(&c), N == 2 ? 1 : N - 2);
        dlm_circuit_free(&c);
    }
}

static void parity_revise_exhaustive(void **state)
{
    (void)state;
    for (uint32_t N = 2; N <= 12; N++) {
        char spec[64];
        snprintf(spec, sizeof spec, "gen:parity-revise:%u", N);
        dlm_circuit c;
        build(&c, spec);
        check_structure(&c);
        assert_int_equal(c.ncoins, N - 1);
        assert_int_equal(c.nout, N);
        assert_int_equal(gates_of(&c), N);
        assert_string_equal(c.coin_names[0], "y1");
        assert_string_equal(c.out_names[0], "x1");
        uint32_t *lvl = calloc(c.nnodes, sizeof *lvl);
        assert_non_null(lvl);
        assert_int_equal(levels(&c, lvl), 1);
        for (uint32_t o = 0; o < N; o++) { /* every output is a gate of level 1 */
            uint32_t n = DLM_LIT_NODE(c.out[o]);
            assert_true(c.g[n].type == DLM_G_XOR);
            assert_int_equal(lvl[n], 1);
        }
        free(lvl);
        uint8_t *val = malloc(c.nnodes);
        assert_non_null(val);
        uint64_t seen_bits = 0;
        for (uint64_t y = 0; y < (UINT64_C(1) << (N - 1)); y++) {
            uint64_t out = eval(&c, y, val);
            uint64_t Y = y << 1; /* bit i = y_i, y_0 = y_N = 0 */
            for (uint32_t i = 1; i <= N; i++) {
                uint64_t want = ((Y >> (i - 1)) ^ (Y >> i)) & 1u;
                assert_int_equal((out >> (i - 1)) & 1u, want);
            }
            assert_int_equal(__builtin_parityll(out), 0);
            seen_bits |= out;
        }
        assert_int_equal(seen_bits, mask(N)); /* every bit varies */
        free(val);
        dlm_circuit_free(&c);
    }
}

static void parity_large_depths(void **state)
{
    (void)state;
    static const uint32_t Ns[] = {100, 1000, 2049, BIG ? 1u << 20 : 4097};
    for (size_t i = 0; i < sizeof Ns / sizeof Ns[0]; i++) {
        uint32_t N = Ns[i];
        char spec[64];
        dlm_circuit c;
        snprintf(spec, sizeof spec, "gen:parity-tree:%u", N);
        build(&c, spec);
        assert_int_equal(depth_of(&c), ceil_log2(N - 1));
        assert_int_equal(c.nnodes, 1 + (N - 1) + (N - 2));
        dlm_circuit_free(&c);
        snprintf(spec, sizeof spec, "gen:parity-revise:%u", N);
        build(&c, spec);
        assert_int_equal(depth_of(&c), 1);
        assert_int_equal(c.nnodes, 1 + (N - 1) + N);
        dlm_circuit_free(&c);
        if (N <= 4097) {
            snprintf(spec, sizeof spec, "gen:parity-chain:%u", N);
            build(&c, spec);
            assert_int_equal(depth_of(&c), N - 2);
            dlm_circuit_free(&c);
        }
    }
}

// ---------------------------------------------------------------------------
// Arithmetic.

/* The documented depth of gen:adder-prefix:N: 2 ceil(log2 N) + 1, one less when
 * N - 1 is a power of two >= 2 (the last carry then combines with bit 0 only). */
static uint32_t prefix_depth(uint32_t N)
{
    uint32_t d = 2 * ceil_log2(N) + 1;
    if (N >= 3 && ((N - 1) & (N - 2)) == 0) d--;
    return d;
}

/* The documented gate count of gen:adder-prefix:N. */
static uint32_t prefix_gates(uint32_t N)
{
    uint32_t g = 2 * N + (N - 1);
    for (uint32_t d = 1; d < N; d *= 2) g += 2 * (N - d) + (N > 2 * d ? N - 2 * d : 0);
    return g;
}

static void adder_check(const char *kind, uint32_t N)
{
    char spec[64];
    snprintf(spec, sizeof spec, "gen:%s:%u", kind, N);
    dlm_circuit c;
    build(&c, spec);
    check_structure(&c);
    assert_int_equal(c.ncoins, 2 * N);
    assert_int_equal(c.nout, N + 1);
    assert_string_equal(c.coin_names[0], "a0");
    assert_string_equal(c.out_names[0], "s0");
    char nm[16];
    snprintf(nm, sizeof nm, "b%u", N - 1);
    assert_string_equal(c.coin_names[2 * N - 1], nm);
    snprintf(nm, sizeof nm, "s%u", N);
    assert_string_equal(c.out_names[N], nm);
    uint8_t *val = malloc(c.nnodes);
    assert_non_null(val);
    for (uint64_t x = 0; x < (UINT64_C(1) << (2 * N)); x++) {
        uint64_t a = x & mask(N), b = x >> N;
        assert_int_equal(eval(&c, x, val), a + b);
    }
    free(val);
    dlm_circuit_free(&c);
}

static void adders_exhaustive(void **state)
{
    (void)state;
    for (uint32_t N = 1; N <= 7; N++) {
        adder_check("adder-ripple", N);
        adder_check("adder-prefix", N);
    }
}

static void adder_depths(void **state)
{
    (void)state;
    static const uint32_t more[] = {255, 256, 257, 1000, 1025, BIG ? 4096 : 2049};
    for (uint32_t i = 0; i < 130 + sizeof more / sizeof more[0]; i++) {
        uint32_t N = i < 130 ? i + 1 : more[i - 130];
        char spec[64];
        dlm_circuit c;
        snprintf(spec, sizeof spec, "gen:adder-ripple:%u", N);
        build(&c, spec);
        uint32_t dr = depth_of(&c);
        assert_int_equal(dr, 2 * N - 1);
        assert_int_equal(gates_of(&c), 5 * N - 3);
        dlm_circuit_free(&c);
        snprintf(spec, sizeof spec, "gen:adder-prefix:%u", N);
        build(&c, spec);
        check_structure(&c);
        uint32_t dp = depth_of(&c);
        assert_int_equal(dp, prefix_depth(N));
        assert_int_equal(gates_of(&c), prefix_gates(N));
        if (N >= 64) assert_true(4 * dp < dr); /* N = 64: 14 against 127 */
        dlm_circuit_free(&c);
    }
}

static void mult_exhaustive(void **state)
{
    (void)state;
    for (uint32_t N = 1; N <= 5; N++) {
        char spec[64];
        snprintf(spec, sizeof spec, "gen:mult:%u", N);
        dlm_circuit c;
        build(&c, spec);
        check_structure(&c);
        assert_int_equal(c.ncoins, 2 * N);
        assert_int_equal(c.nout, 2 * N);
        assert_string_equal(c.out_names[0], "p0");
        uint8_t *val = malloc(c.nnodes);
        assert_non_null(val);
        for (uint64_t x = 0; x < (UINT64_C(1) << (2 * N)); x++) {
            uint64_t a = x & mask(N), b = x >> N;
            assert_int_equal(eval(&c, x, val), a * b);
        }
        free(val);
        dlm_circuit_free(&c);
    }
}

static void mult_large(void **state)
{
    (void)state;
    /* 8x8 on a sample of operands (exhaustive is 2^16 runs: also cheap, do it) */
    dlm_circuit c;
    build(&c, "gen:mult:8");
    check_structure(&c);
    uint8_t *val = malloc(c.nnodes);
    assert_non_null(val);
    for (uint64_t x = 0; x < (UINT64_C(1) << 16); x++)
        assert_int_equal(eval(&c, x, val), (x & 0xFF) * (x >> 8));
    free(val);
    uint32_t d8 = depth_of(&c);
    dlm_circuit_free(&c);
    build(&c, "gen:mult:64");
    check_structure(&c);
    uint32_t d64 = depth_of(&c);
    assert_true(d64 < 45); /* logarithmic: Dadda tree + prefix adder (measured 38) */
    assert_true(d8 < d64);
    dlm_circuit_free(&c);
}

static void maj_exhaustive(void **state)
{
    (void)state;
    for (uint32_t N = 1; N <= 15; N += 2) {
        char spec[64];
        snprintf(spec, sizeof spec, "gen:maj:%u", N);
        dlm_circuit c;
        build(&c, spec);
        check_structure(&c);
        assert_int_equal(c.ncoins, N);
        assert_int_equal(c.nout, 1);
        assert_string_equal(c.out_names[0], "maj");
        if (N == 1) assert_int_equal(gates_of(&c), 1);
        uint8_t *val = malloc(c.nnodes);
        assert_non_null(val);
        for (uint64_t x = 0; x < (UINT64_C(1) << N); x++)
            assert_int_equal(eval(&c, x, val),
                             (uint64_t)(__builtin_popcountll(x) >= (int)(N + 1) / 2));
        free(val);
        dlm_circuit_free(&c);
    }
}

/* Sampled checks beyond exhaustive sizes: more Dadda stages, more prefix rounds. */
static void arithmetic_sampled(void **state)
{
    (void)state;
    uint64_t st = 2024;
    static const uint32_t mN[] = {7, 13, 16, 23, 32};
    for (size_t i = 0; i < sizeof mN / sizeof mN[0]; i++) {
        char spec[64];
        snprintf(spec, sizeof spec, "gen:mult:%u", mN[i]);
        dlm_circuit c;
        build(&c, spec);
        check_structure(&c);
        uint8_t *val = malloc(c.nnodes);
        assert_non_null(val);
        for (int t = 0; t < 3000; t++) {
            uint64_t a = test_rand(&st) & mask(mN[i]), b = test_rand(&st) & mask(mN[i]);
            if (t == 0) a = b = mask(mN[i]); /* the largest product */
            assert_int_equal(eval(&c, a | b << mN[i], val), a * b);
        }
        free(val);
        dlm_circuit_free(&c);
        snprintf(spec, sizeof spec, "gen:adder-prefix:%u", mN[i]);
        build(&c, spec);
        val = malloc(c.nnodes);
        assert_non_null(val);
        for (int t = 0; t < 3000; t++) {
            uint64_t a = test_rand(&st) & mask(mN[i]), b = test_rand(&st) & mask(mN[i]);
            if (t == 0) a = b = mask(mN[i]);
            if (t == 1) { a = mask(mN[i]); b = 1; } /* the longest carry chain */
            assert_int_equal(eval(&c, a | b << mN[i], val), a + b);
        }
        free(val);
        dlm_circuit_free(&c);
    }
    static const uint32_t jN[] = {17, 21, 101, 1001};
    for (size_t i = 0; i < sizeof jN / sizeof jN[0]; i++) {
        uint32_t N = jN[i];
        char spec[64];
        snprintf(spec, sizeof spec, "gen:maj:%u", N);
        dlm_circuit c;
        build(&c, spec);
        check_structure(&c);
        uint8_t *val = malloc(c.nnodes), *coin = malloc(N);
        assert_non_null(val);
        assert_non_null(coin);
        for (int t = 0; t < 2000; t++) {
            /* popcounts near the threshold: k ones at random places, k = T-2..T+1 */
            uint32_t T = (N + 1) / 2, k = T - 2 + (uint32_t)(test_rand(&st) % 4);
            memset(coin, 0, N);
            for (uint32_t placed = 0; placed < k;) {
                uint32_t j = (uint32_t)(test_rand(&st) % N);
                if (!coin[j]) { coin[j] = 1; placed++; }
            }
            assert_int_equal(eval_coins(&c, coin, val), k >= T);
        }
        free(val);
        free(coin);
        dlm_circuit_free(&c);
    }
}

static void maj_large_is_shallow(void **state)
{
    (void)state;
    dlm_circuit c;
    const uint32_t N = BIG ? 65535 : 4095, T = (N + 1) / 2;
    build(&c, BIG ? "gen:maj:65535" : "gen:maj:4095");
    check_structure(&c);
    assert_int_equal(c.ncoins, N);
    uint32_t d = depth_of(&c);
    assert_true(d < (BIG ? 70 : 50)); /* logarithmic (measured 62 and 44) */
    /* spot checks: all zeros, all ones, exactly T ones, T-1 ones */
    uint8_t *val = malloc(c.nnodes), *coin = malloc(N);
    assert_non_null(val);
    assert_non_null(coin);
    const uint32_t ones[] = {0, N, T, T - 1};
    for (int t = 0; t < 4; t++) {
        for (uint32_t k = 0; k < N; k++) coin[k] = k < ones[t];
        assert_int_equal(eval_coins(&c, coin, val), ones[t] >= T);
        for (uint32_t k = 0; k < N; k++) coin[k] = k >= N - ones[t]; /* the other end */
        assert_int_equal(eval_coins(&c, coin, val), ones[t] >= T);
    }
    free(coin);
    free(val);
    dlm_circuit_free(&c);
}

// ---------------------------------------------------------------------------
// Random layered circuits.

/* Second implementation of the draw order documented in docs/generators.md. */
static uint64_t ref_sm64(uint64_t *st)
{
    uint64_t z = (*st += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static uint64_t ref_below(uint64_t *st, uint64_t n)
{
    for (;;) {
        uint64_t x = ref_sm64(st);
        if (x >= (UINT64_MAX - n + 1) % n) return x % n;
    }
}

static void random_matches_reference(const dlm_circuit *c, uint32_t W, uint32_t D, uint64_t seed)
{
    static const uint8_t types[3] = {DLM_G_AND, DLM_G_OR, DLM_G_XOR};
    uint64_t st = seed;
    uint32_t *pi = malloc(W * sizeof *pi);
    assert_non_null(pi);
    for (uint32_t r = 1; r <= D; r++) {
        for (uint32_t k = 0; k < W; k++) pi[k] = k;
        for (uint32_t i = W - 1; i > 0; i--) {
            uint32_t j = (uint32_t)ref_below(&st, i + 1), t = pi[i];
            pi[i] = pi[j];
            pi[j] = t;
        }
        uint32_t base_prev = 1 + (r - 1) * W; /* node of vertex 0 of layer r-1 */
        for (uint32_t k = 0; k < W; k++) {
            const dlm_gate *g = &c->g[1 + r * W + k];
            assert_int_equal(g->type, types[ref_below(&st, 3)]);
            uint32_t j = 0;
            if (W >= 2) {
                j = (uint32_t)ref_below(&st, W - 1);
                j += j >= pi[k];
            }
            uint64_t f = ref_sm64(&st);
            assert_int_equal(g->nin, W >= 2 ? 2 : 1);
            assert_int_equal(g->in[0], DLM_LIT(base_prev + pi[k], f & 1u));
            if (W >= 2) assert_int_equal(g->in[1], DLM_LIT(base_prev + j, (f >> 1) & 1u));
            assert_int_equal(g->out_neg, (f >> 2) & 1u);
        }
    }
    free(pi);
}

static int same_gates(const dlm_circuit *a, const dlm_circuit *b)
{
    if (a->nnodes != b->nnodes || a->nout != b->nout) return 0;
    for (uint32_t n = 0; n < a->nnodes; n++) {
        const dlm_gate *x = &a->g[n], *y = &b->g[n];
        if (x->type != y->type || x->nin != y->nin || x->out_neg != y->out_neg) return 0;
        for (unsigned j = 0; j < x->nin; j++)
            if (x->in[j] != y->in[j]) return 0;
    }
    return !memcmp(a->out, b->out, a->nout * sizeof *a->out);
}

static void random_layered(void **state)
{
    (void)state;
    static const struct { uint32_t W, D; uint64_t seed; } cases[] = {
        {1, 1, 0}, {1, 5, 3}, {2, 1, 1}, {2, 4, 7}, {3, 3, 1}, {5, 2, 42},
        {8, 6, 9}, {10, 3, UINT64_MAX}, {64, 50, 123456789}, {1000, 7, 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint32_t W = cases[i].W, D = cases[i].D;
        char spec[96];
        snprintf(spec, sizeof spec, "gen:random:%u,%u,%llu", W, D,
                 (unsigned long long)cases[i].seed);
        dlm_circuit c, c2;
        build(&c, spec);
        check_structure(&c); /* includes: every vertex read or an output */
        assert_int_equal(c.ncoins, W);
        assert_int_equal(c.nout, W);
        assert_int_equal(c.nnodes, 1 + W * (D + 1));
        uint32_t *lvl = calloc(c.nnodes, sizeof *lvl);
        assert_non_null(lvl);
        assert_int_equal(levels(&c, lvl), D);
        for (uint32_t r = 0; r <= D; r++) /* layer r holds exactly W vertices of level r */
            for (uint32_t k = 0; k < W; k++) assert_int_equal(lvl[1 + r * W + k], r);
        for (uint32_t o = 0; o < W; o++) {
            assert_int_equal(c.out[o], DLM_LIT(1 + D * W + o, 0));
            if (W >= 2) /* distinct inputs */
                assert_true(DLM_LIT_NODE(c.g[1 + D * W + o].in[0]) !=
                            DLM_LIT_NODE(c.g[1 + D * W + o].in[1]));
        }
        free(lvl);
        random_matches_reference(&c, W, D, cases[i].seed);
        if (W <= 10) { /* exhaustive run: the oracle agrees with itself on a rebuild */
            build(&c2, spec);
            uint8_t *v1 = malloc(c.nnodes), *v2 = malloc(c.nnodes);
            assert_non_null(v1);
            assert_non_null(v2);
            for (uint64_t x = 0; x < (UINT64_C(1) << W); x++)
                assert_int_equal(eval(&c, x, v1), eval(&c2, x, v2));
            free(v1);
            free(v2);
            dlm_circuit_free(&c2);
        }
        /* deterministic for a seed, different across seeds (W >= 3: enough choices) */
        build(&c2, spec);
        assert_true(same_gates(&c, &c2));
        dlm_circuit_free(&c2);
        if (W >= 3) {
            snprintf(spec, sizeof spec, "gen:random:%u,%u,%llu", W, D,
                     (unsigned long long)(cases[i].seed + 1));
            build(&c2, spec);
            assert_false(same_gates(&c, &c2));
            dlm_circuit_free(&c2);
        }
        dlm_circuit_free(&c);
    }
}

// ---------------------------------------------------------------------------
// Bad specs: DLM_EINPUT, a one-line message naming the spec (and the range), and
// the circuit left empty (dlm_circuit_free on it is harmless).

static void bad_specs(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "gen", "gen:", "gen::", "gen:foo:3", "gen:PARITY-TREE:4", "gen:parity:4",
        "parity-tree:4", "GEN:parity-tree:4",
        "gen:parity-tree", "gen:parity-tree:", "gen:parity-tree:1", "gen:parity-tree:0",
        "gen:parity-tree:-3", "gen:parity-tree:+3", "gen:parity-tree: 3",
        "gen:parity-tree:3 ", "gen:parity-tree:3x", "gen:parity-tree:0x10",
        "gen:parity-tree:3,4", "gen:parity-tree:4:5", "gen:parity-tree:1048577",
        "gen:parity-tree:99999999999999999999999", "gen:parity-chain:1",
        "gen:parity-chain:2097152", "gen:parity-revise:1", "gen:parity-revise:abc",
        "gen:adder-ripple:0", "gen:adder-ripple:4097", "gen:adder-prefix:0",
        "gen:adder-prefix:5000", "gen:adder-prefix:", "gen:mult:0", "gen:mult:513",
        "gen:mult:3.0", "gen:maj:0", "gen:maj:4", "gen:maj:65536", "gen:maj:65537",
        "gen:random", "gen:random:", "gen:random:4", "gen:random:4,4", "gen:random:4,4,",
        "gen:random:4,4,1,2", "gen:random:0,1,1", "gen:random:1,0,1", "gen:random:,4,1",
        "gen:random:4,,1", "gen:random:4,4,-1", "gen:random:4,4,18446744073709551616",
        "gen:random:4097,4096,1", "gen:random:16777217,1,1", "gen:random:1,16777217,1",
        "gen:random:4294967296,4294967296,1", "gen:random: 4,4,1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        dlm_circuit c;
        memset(&c, 0xAB, sizeof c);
        dlm_err e = {{0}};
        dlm_status s = dlm_gen_build(&c, bad[i], 0, &e);
        if (s != DLM_EINPUT) fail_msg("%s: status %d, want DLM_EINPUT", bad[i], (int)s);
        if (!strstr(e.msg, bad[i])) fail_msg("%s: message does not name it: %s", bad[i], e.msg);
        assert_null(strchr(e.msg, '\n'));
        assert_null(c.g);
        assert_int_equal(c.nnodes, 0);
        dlm_circuit_free(&c);
        /* through the loader too */
        if (!strncmp(bad[i], "gen:", 4)) {
            assert_int_equal(dlm_circuit_load(&c, bad[i], 0, &e), DLM_EINPUT);
            assert_non_null(strstr(e.msg, bad[i]));
        }
    }
    /* range messages state the range */
    dlm_circuit c;
    dlm_err e;
    assert_int_equal(dlm_gen_build(&c, "gen:adder-prefix:0", 0, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "1..4096"));
    assert_int_equal(dlm_gen_build(&c, "gen:maj:4", 0, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "odd"));
    assert_int_equal(dlm_gen_build(&c, "gen:random:0,1,1", 0, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "16777216"));
    assert_int_equal(dlm_gen_build(&c, "gen:nope:1", 0, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "parity-revise"));
}

/* The largest accepted sizes build (and stay below DLM_MAX_NODES). gen:random at
 * W*D = 2^24 takes seconds and 1.4 GB: its cap is checked by the bad specs. */
static void boundaries_accepted(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "gen:parity-tree:2", "gen:mult:512", "gen:maj:1", "gen:random:1,1,0",
        "gen:random:3,2,18446744073709551615", "gen:random:4096,64,1",
        "gen:parity-chain:1048576", "gen:parity-revise:1048576", "gen:adder-ripple:4096",
        "gen:adder-prefix:4096", "gen:maj:65535",
    };
    for (size_t i = 0; i < (BIG ? sizeof ok / sizeof ok[0] : 6); i++) {
        dlm_circuit c;
        build(&c, ok[i]);
        assert_true(c.nnodes < DLM_MAX_NODES);
        assert_true(c.nout >= 1);
        dlm_circuit_free(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parity_tree_exhaustive),
        cmocka_unit_test(parity_chain_exhaustive),
        cmocka_unit_test(parity_revise_exhaustive),
        cmocka_unit_test(parity_large_depths),
        cmocka_unit_test(adders_exhaustive),
        cmocka_unit_test(adder_depths),
        cmocka_unit_test(mult_exhaustive),
        cmocka_unit_test(mult_large),
        cmocka_unit_test(maj_exhaustive),
        cmocka_unit_test(maj_large_is_shallow),
        cmocka_unit_test(arithmetic_sampled),
        cmocka_unit_test(random_layered),
        cmocka_unit_test(bad_specs),
        cmocka_unit_test(boundaries_accepted),
    };
    return cmocka_run_group_tests_name("gen", tests, NULL, NULL);
}
