/* gen.c — circuit generators: "gen:NAME:ARGS" spec strings -> circuit IR.
 *
 * Every generator builds through the IR builder (dlm_circuit_add_coin / _gate /
 * _output) with 2-input AND/OR/XOR gates and negation flags, plus 1-input XOR gates
 * (buffers) where a spec needs a gate that only copies a coin. The IR is therefore
 * topological by construction. The specs, their laws and their exact depth and size
 * formulas are documented in docs/generators.md; the tests are test/test_gen.c
 * (exhaustive over all coin assignments for small sizes).
 *
 * What this file deliberately is not: an optimizer (no logic synthesis beyond folding
 * constants) and not a random-number source for sampling (gen:random's PRNG only
 * chooses the circuit's wiring; coins are drawn by the engines with Philox).
 *
 * Build: part of build/libdlmsim.a (make); test: make build/test/test_gen.
 */
#include "dlm_gen.h"
#include "dlm_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------
// Builder: a circuit plus the level of every node and a sticky error.
//
// Helpers return literals and record the first failure in b->st; later calls are
// no-ops returning literal 0, so generator code reads like the arithmetic it builds
// and checks the status once at the end.

typedef struct {
    dlm_circuit *c;
    uint32_t *lvl;   /* level of every node (NULL: not tracked) */
    uint32_t lcap;
    dlm_status st;
    dlm_err *err;
    dlm_progress_fn progress; /* NULL, or dlm_gen_build_progress's hook */
    void *progress_ctx;
    double t0;
} gb;

static uint32_t lvl_of(const gb *b, uint32_t lit)
{
    return b->lvl ? b->lvl[DLM_LIT_NODE(lit)] : 0;
}

/* Records the level of node n (1 + the largest input level; 0 for a coin). */
static void set_level(gb *b, uint32_t n, uint32_t level)
{
    if (!b->lvl || b->st) return;
    if (n >= b->lcap) {
        uint32_t ncap = b->lcap ? b->lcap : 256;
        while (ncap <= n) ncap *= 2;
        uint32_t *p = realloc(b->lvl, (size_t)ncap * sizeof *p);
        if (!p) {
            b->st = dlm_fail(b->err, DLM_ENOMEM, "%s: out of memory", b->c->source);
            return;
        }
        memset(p + b->lcap, 0, (size_t)(ncap - b->lcap) * sizeof *p);
        b->lvl = p;
        b->lcap = ncap;
    }
    b->lvl[n] = level;
}

/* Adds coin `prefix``idx` and returns its literal. */
static uint32_t gb_coin(gb *b, const char *prefix, uint64_t idx)
{
    if (b->st) return 0;
    char name[32];
    snprintf(name, sizeof name, "%s%llu", prefix, (unsigned long long)idx);
    uint32_t n = 0;
    b->st = dlm_circuit_add_coin(b->c, name, &n, b->err);
    set_level(b, n, 0);
    return b->st ? 0 : DLM_LIT(n, 0);
}

/* Adds a gate over lits[0..nin-1] and returns its (positive) literal. */
static uint32_t gb_gate(gb *b, dlm_gate_type t, unsigned nin, const uint32_t *lits, int out_neg)
{
    if (b->st) return 0;
    uint32_t n = 0, level = 0;
    for (unsigned j = 0; j < nin; j++)
        if (lvl_of(b, lits[j]) > level) level = lvl_of(b, lits[j]);
    b->st = dlm_circuit_add_gate(b->c, t, nin, lits, out_neg, 0, &n, b->err);
    set_level(b, n, level + 1);
    return b->st ? 0 : DLM_LIT(n, 0);
}

static uint32_t gb_gate2(gb *b, dlm_gate_type t, uint32_t x, uint32_t y)
{
    uint32_t lits[2] = {x, y};
    return gb_gate(b, t, 2, lits, 0);
}

/* A buffer: a 1-input XOR gate, so that a copied coin still costs one layer. */
static uint32_t gb_buf(gb *b, uint32_t x)
{
    return gb_gate(b, DLM_G_XOR, 1, &x, 0);
}

/* Adds output `prefix``idx` (idx < 0: the name is prefix alone). */
static void gb_out(gb *b, uint32_t lit, const char *prefix, long long idx)
{
    if (b->st) return;
    char name[32];
    if (idx < 0) snprintf(name, sizeof name, "%s", prefix);
    else snprintf(name, sizeof name, "%s%lld", prefix, idx);
    b->st = dlm_circuit_add_output(b->c, lit, name, b->err);
}

// ---------------------------------------------------------------------------
// 2-input operations with constant folding. Literals 0 and 1 are the constants;
// folding keeps constants out of gate inputs (the multiplier's and the majority's
// carry-save rows contain constant zeros and ones).

static int is_const(uint32_t lit) { return lit < 2; }

static uint32_t and2(gb *b, uint32_t x, uint32_t y)
{
    if (x == 0 || y == 0) return 0;
    if (x == 1) return y;
    if (y == 1) return x;
    return gb_gate2(b, DLM_G_AND, x, y);
}

static uint32_t or2(gb *b, uint32_t x, uint32_t y)
{
    if (x == 1 || y == 1) return 1;
    if (x == 0) return y;
    if (y == 0) return x;
    return gb_gate2(b, DLM_G_OR, x, y);
}

static uint32_t xor2(gb *b, uint32_t x, uint32_t y)
{
    if (is_const(x)) return y ^ x;   /* x ^ 0 = x, x ^ 1 = !x: a free inverter */
    if (is_const(y)) return x ^ y;
    return gb_gate2(b, DLM_G_XOR, x, y);
}

/* Full adder: s = x^y^z, c = maj(x,y,z) = (x&y) | (z&(x^y)). z should be the input
 * that arrives last: it enters one level before each result. Constant inputs fold
 * (z = 0: half adder; z = 1: s = !(x^y), c = x|y). */
static void full_add(gb *b, uint32_t x, uint32_t y, uint32_t z, uint32_t *s, uint32_t *c)
{
    /* move constants to the back (z, then y) */
    if (is_const(x)) { uint32_t t = x; x = y; y = z; z = t; }
    if (is_const(x)) { uint32_t t = x; x = y; y = z; z = t; }
    if (is_const(y) && !is_const(z)) { uint32_t t = y; y = z; z = t; }
    if (is_const(y)) { /* y, z constants (and maybe x) */
        *s = xor2(b, x, y ^ z);
        *c = y == z ? y : x;
    } else if (z == 0) {
        *s = xor2(b, x, y);
        *c = and2(b, x, y);
    } else if (z == 1) {
        *s = xor2(b, x, y) ^ 1u;
        *c = or2(b, x, y);
    } else {
        uint32_t t = xor2(b, x, y);
        *s = xor2(b, t, z);
        /* one gate per statement: C leaves the order of argument evaluation open, so
         * nested constructors would number the gates differently under gcc and clang
         * (and change the circuit hash). This is the order gcc used. */
        uint32_t zt = and2(b, z, t), xy = and2(b, x, y);
        *c = or2(b, xy, zt);
    }
}

// ---------------------------------------------------------------------------
// Kogge-Stone parallel-prefix addition of two n-bit rows (literal arrays, LSB
// first) into n+1 sum bits. g_i = x_i & y_i, p_i = x_i ^ y_i; round d = 1, 2, 4, ...
// combines (G,P)[i] with (G,P)[i-d] for i >= d:
//     G_i <- G_i | (P_i & G_{i-d}),   P_i <- P_i & P_{i-d} (only for i >= 2d)
// After the last round G_i is the carry out of bits 0..i, so s_i = p_i ^ G_{i-1},
// s_n = G_{n-1}. A group that reaches bit 0 needs no P (the carry in is 0), which is
// why P_i is updated only for i >= 2d. Levels: g,p at +1, each round +2 on G.

static void prefix_add(gb *b, const uint32_t *x, const uint32_t *y, uint32_t n, uint32_t *s)
{
    uint32_t *G = dlm_calloc(n, sizeof *G), *P = dlm_calloc(n, sizeof *P);
    uint32_t *p0 = dlm_calloc(n, sizeof *p0), *G2 = dlm_calloc(n, sizeof *G2);
    uint32_t *P2 = dlm_calloc(n, sizeof *P2);
    if (!G || !P || !p0 || !G2 || !P2) {
        if (!b->st) b->st = dlm_fail(b->err, DLM_ENOMEM, "%s: out of memory", b->c->source);
    } else {
        for (uint32_t i = 0; i < n; i++) {
            G[i] = and2(b, x[i], y[i]);
            P[i] = p0[i] = xor2(b, x[i], y[i]);
        }
        for (uint32_t d = 1; d < n; d *= 2) {
            memcpy(G2, G, (size_t)n * sizeof *G);
            memcpy(P2, P, (size_t)n * sizeof *P);
            for (uint32_t i = d; i < n; i++) {
                G2[i] = or2(b, G[i], and2(b, P[i], G[i - d]));
                if (i >= 2 * d) P2[i] = and2(b, P[i], P[i - d]);
            }
            uint32_t *t = G; G = G2; G2 = t;
            t = P; P = P2; P2 = t;
        }
        s[0] = p0[0];
        for (uint32_t i = 1; i < n; i++) s[i] = xor2(b, p0[i], G[i - 1]);
        s[n] = G[n - 1];
    }
    free(G); free(P); free(p0); free(G2); free(P2);
}

// ---------------------------------------------------------------------------
// Carry-save column compression (Dadda's scheme): columns of bits of weight 2^k
// (k = 0..ncols-1) are reduced in stages to the heights 2, 3, 4, 6, 9, 13, ...
// (d_{j+1} = floor(3 d_j / 2)). A stage with target d walks the columns LSB first and
// spends full adders (3 bits -> 1, carry to the next column) and, when one bit too
// many remains, one half adder, until the column's bits for the next stage (leftover
// inputs, sums, and the carries coming in from the column below) number at most d.
// Inputs are taken earliest level first. A column of height h needs about
// log_{3/2}(h) stages of at most 3 gate levels. Carries out of the last column are
// dropped: callers size ncols so that they are logically 0.

typedef struct {
    uint32_t *v;
    uint32_t n, cap;
} vec;

static int vec_push(vec *a, uint32_t x)
{
    if (a->n == a->cap) {
        uint32_t ncap = a->cap ? 2 * a->cap : 8;
        uint32_t *p = realloc(a->v, (size_t)ncap * sizeof *p);
        if (!p) return 0;
        a->v = p;
        a->cap = ncap;
    }
    a->v[a->n++] = x;
    return 1;
}

/* Sort key: level first, the literal breaks ties (deterministic). */
static uint64_t bit_key(const gb *b, uint32_t lit)
{
    return ((uint64_t)lvl_of(b, lit) << 32) | lit;
}

static void heap_down(const gb *b, uint32_t *h, uint32_t n, uint32_t i)
{
    for (;;) {
        uint32_t m = i, l = 2 * i + 1, r = l + 1;
        if (l < n && bit_key(b, h[l]) < bit_key(b, h[m])) m = l;
        if (r < n && bit_key(b, h[r]) < bit_key(b, h[m])) m = r;
        if (m == i) return;
        uint32_t t = h[i]; h[i] = h[m]; h[m] = t;
        i = m;
    }
}

/* In-place heapsort with a min-heap: v ends in DEcreasing key order. */
static void sort_desc(const gb *b, uint32_t *v, uint32_t n)
{
    for (uint32_t i = n / 2; i-- > 0;) heap_down(b, v, n, i);
    for (uint32_t m = n; m > 1; m--) {
        uint32_t t = v[0]; v[0] = v[m - 1]; v[m - 1] = t;
        heap_down(b, v, m - 1, 0);
    }
}

static void push_bit(gb *b, vec *col, uint32_t lit)
{
    if (lit == 0 || b->st) return; /* a constant 0 adds nothing */
    if (!vec_push(col, lit)) b->st = dlm_fail(b->err, DLM_ENOMEM, "%s: out of memory", b->c->source);
}

/* Reduces cols[0..ncols-1] to <= 2 bits each and writes the two rows into x, y
 * (missing bits: literal 0). */
static void compress(gb *b, vec *cols, uint32_t ncols, uint32_t *x, uint32_t *y)
{
    vec *next = dlm_calloc(ncols, sizeof *next);
    if (!next) b->st = dlm_fail(b->err, DLM_ENOMEM, "%s: out of memory", b->c->source);
    for (unsigned stage = 0; !b->st; stage++) {
        uint32_t maxh = 0;
        for (uint32_t k = 0; k < ncols; k++)
            if (cols[k].n > maxh) maxh = cols[k].n;
        if (maxh <= 2) break;
        if (stage == 100) { /* Dadda needs ~log_{3/2}(height) < 40 stages: a bug */
            b->st = dlm_fail(b->err, DLM_ECHECK, "%s: internal error: carry-save "
                             "reduction does not converge", b->c->source);
            break;
        }
        uint32_t d = 2; /* the largest Dadda height below maxh */
        while (d + d / 2 < maxh) d += d / 2;
        for (uint32_t k = 0; k < ncols; k++) next[k].n = 0;
        for (uint32_t k = 0; k < ncols && !b->st; k++) {
            vec *col = &cols[k];
            sort_desc(b, col->v, col->n);
            uint32_t i = col->n; /* unconsumed inputs: v[0..i), earliest at the end */
            /* next[k] already holds the carries from column k-1 */
            while (!b->st && i + next[k].n > d && i >= 2) {
                uint32_t s, c;
                if (i + next[k].n == d + 1 || i == 2) { /* half adder: one bit less */
                    uint32_t u = col->v[i - 1], v = col->v[i - 2];
                    i -= 2;
                    full_add(b, u, v, 0, &s, &c);
                } else {                                /* full adder: two bits less */
                    full_add(b, col->v[i - 1], col->v[i - 2], col->v[i - 3], &s, &c);
                    i -= 3;
                }
                push_bit(b, &next[k], s);
                if (k + 1 < ncols) push_bit(b, &next[k + 1], c);
            }
            for (; i > 0; i--) push_bit(b, &next[k], col->v[i - 1]);
        }
        for (uint32_t k = 0; k < ncols; k++) {
            vec t = cols[k]; cols[k] = next[k]; next[k] = t;
        }
    }
    for (uint32_t k = 0; k < ncols; k++) {
        x[k] = cols[k].n > 0 ? cols[k].v[0] : 0;
        y[k] = cols[k].n > 1 ? cols[k].v[1] : 0;
    }
    if (next)
        for (uint32_t k = 0; k < ncols; k++) free(next[k].v);
    free(next);
}

// ---------------------------------------------------------------------------
// Dead-gate sweep: copies the coins (all of them: they are the operand bits) and the
// gates that reach an output of t into c, in the same order. Used by the generators
// whose constant folding can leave unread gates behind (mult, maj).

static dlm_status sweep(const dlm_circuit *t, dlm_circuit *c, dlm_err *err)
{
    uint8_t *live = dlm_calloc(t->nnodes, 1);
    uint32_t *map = dlm_calloc(t->nnodes, sizeof *map);
    dlm_status s = dlm_circuit_init(c, t->source, err);
    if (!s) c->max_bytes = t->max_bytes;
    if (!s && (!live || !map)) s = dlm_fail(err, DLM_ENOMEM, "%s: out of memory", t->source);
    if (!s) {
        for (uint32_t k = 0; k < t->nout; k++) live[DLM_LIT_NODE(t->out[k])] = 1;
        for (uint32_t n = t->nnodes; n-- > 1;)
            if (live[n] && t->g[n].type != DLM_G_COIN)
                for (unsigned j = 0; j < t->g[n].nin; j++) live[DLM_LIT_NODE(t->g[n].in[j])] = 1;
        uint32_t k = 0;
        for (uint32_t n = 1; n < t->nnodes && !s; n++) {
            const dlm_gate *g = &t->g[n];
            if (g->type == DLM_G_COIN) {
                s = dlm_circuit_add_coin(c, t->coin_names ? t->coin_names[k] : NULL, &map[n], err);
                k++;
            } else if (live[n]) {
                uint32_t lits[DLM_MAX_FANIN];
                for (unsigned j = 0; j < g->nin; j++)
                    lits[j] = DLM_LIT(map[DLM_LIT_NODE(g->in[j])], DLM_LIT_NEG(g->in[j]));
                s = dlm_circuit_add_gate(c, (dlm_gate_type)g->type, g->nin, lits, g->out_neg,
                                         g->tt, &map[n], err);
            }
        }
        for (uint32_t o = 0; o < t->nout && !s; o++)
            s = dlm_circuit_add_output(c, DLM_LIT(map[DLM_LIT_NODE(t->out[o])],
                                                  DLM_LIT_NEG(t->out[o])),
                                       t->out_names ? t->out_names[o] : NULL, err);
    }
    free(live);
    free(map);
    if (s) dlm_circuit_free(c);
    return s;
}

// ---------------------------------------------------------------------------
// The generators. Each builds into b (coins first, in identity order).

/* gen:parity-tree:N and gen:parity-chain:N: coins x_1..x_{N-1}, outputs the coins
 * and x_N = their XOR (a balanced tree or a chain). */
static void gen_parity_xor(gb *b, uint32_t N, int tree)
{
    uint32_t m = N - 1;
    uint32_t *x = dlm_calloc(m, sizeof *x);
    if (!x) {
        b->st = dlm_fail(b->err, DLM_ENOMEM, "%s: out of memory", b->c->source);
        return;
    }
    for (uint32_t i = 0; i < m; i++) x[i] = gb_coin(b, "x", i + 1);
    for (uint32_t i = 0; i < m; i++) gb_out(b, x[i], "x", i + 1);
    uint32_t par;
    if (m == 1) {
        par = gb_buf(b, x[0]); /* N = 2: one gate so that x_2 is a vertex of layer 1 */
    } else if (tree) {
        /* pair neighbours level by level, an odd last element moves up unchanged;
         * x is overwritten with the current level (it is no longer needed) */
        uint32_t *cur = dlm_calloc(m, sizeof *cur);
        if (!cur) {
            free(x);
            b->st = dlm_fail(b->err, DLM_ENOMEM, "%s: out of memory", b->c->source);
            return;
        }
        memcpy(cur, x, (size_t)m * sizeof *cur);
        for (uint32_t n = m; n > 1;) {
            uint32_t h = 0;
            for (uint32_t i = 0; i + 1 < n; i += 2) cur[h++] = xor2(b, cur[i], cur[i + 1]);
            if (n & 1) cur[h++] = cur[n - 1];
            n = h;
        }
        par = cur[0];
        free(cur);
    } else {
        par = xor2(b, x[0], x[1]);
        for (uint32_t i = 2; i < m; i++) par = xor2(b, par, x[i]);
    }
    gb_out(b, par, "x", N);
    free(x);
}

/* gen:parity-revise:N: coins y_1..y_{N-1}; x_i = y_{i-1} ^ y_i with y_0 = y_N = 0. */
static void gen_parity_revise(gb *b, uint32_t N)
{
    uint32_t *y = dlm_calloc(N + 1, sizeof *y);
    if (!y) {
        b->st = dlm_fail(b->err, DLM_ENOMEM, "%s: out of memory", b->c->source);
        return;
    }
    for (uint32_t i = 1; i < N; i++) y[i] = gb_coin(b, "y", i);
    for (uint32_t i = 1; i <= N; i++) {
        uint32_t xi;
        if (i == 1) xi = gb_buf(b, y[1]);
        else if (i == N) xi = gb_buf(b, y[N - 1]);
        else xi = xor2(b, y[i - 1], y[i]);
        gb_out(b, xi, "x", i);
    }
    free(y);
}

/* Adds coins a_0..a_{N-1}, b_0..b_{N-1} into a[], bb[]. */
static void operand_coins(gb *b, uint32_t N, uint32_t *a, uint32_t *bb)
{
    for (uint32_t i = 0; i < N; i++) a[i] = gb_coin(b, "a", i);
    for (uint32_t i = 0; i < N; i++) bb[i] = gb_coin(b, "b", i);
}

/* gen:adder-ripple:N and gen:adder-prefix:N: s = a + b, N+1 bits. */
static void gen_adder(gb *b, uint32_t N, int prefix)
{
    uint32_t *a = dlm_calloc(N, sizeof *a), *bb = dlm_calloc(N, sizeof *bb);
    uint32_t *s = dlm_calloc(N + 1, sizeof *s);
    if (!a || !bb || !s) {
        b->st = dlm_fail(b->err, DLM_ENOMEM, "%s: out of memory", b->c->source);
    } else {
        operand_coins(b, N, a, bb);
        if (prefix) {
            prefix_add(b, a, bb, N, s);
        } else {
            /* bit 0 is a half adder; bit i a full adder with carry
             * c_{i+1} = (a_i & b_i) | (c_i & (a_i ^ b_i)): 2 levels per bit */
            s[0] = xor2(b, a[0], bb[0]);
            uint32_t c = and2(b, a[0], bb[0]);
            for (uint32_t i = 1; i < N; i++) {
                uint32_t p = xor2(b, a[i], bb[i]);
                s[i] = xor2(b, p, c);
                uint32_t cp = and2(b, c, p), ab = and2(b, a[i], bb[i]); /* one per statement */
                c = or2(b, ab, cp);
            }
            s[N] = c;
        }
        for (uint32_t i = 0; i <= N; i++) gb_out(b, s[i], "s", i);
    }
    free(a); free(bb); free(s);
}

/* Allocates ncols empty columns plus two rows and a sum of ncols+1 bits. */
static int alloc_columns(gb *b, uint32_t ncols, vec **cols, uint32_t **x, uint32_t **y,
                         uint32_t **s)
{
    *cols = dlm_calloc(ncols, sizeof **cols);
    *x = dlm_calloc(ncols, sizeof **x);
    *y = dlm_calloc(ncols, sizeof **y);
    *s = dlm_calloc(ncols + 1, sizeof **s);
    if (*cols && *x && *y && *s) return 1;
    b->st = dlm_fail(b->err, DLM_ENOMEM, "%s: out of memory", b->c->source);
    return 0;
}

static void free_columns(vec *cols, uint32_t ncols, uint32_t *x, uint32_t *y, uint32_t *s)
{
    if (cols)
        for (uint32_t k = 0; k < ncols; k++) free(cols[k].v);
    free(cols); free(x); free(y); free(s);
}

/* gen:mult:N: p = a * b, 2N bits. Partial products a_j & b_i go into column i+j,
 * the columns are compressed to two rows, a prefix adder adds them. */
static void gen_mult(gb *b, uint32_t N)
{
    uint32_t W = 2 * N;
    uint32_t *a = dlm_calloc(N, sizeof *a), *bb = dlm_calloc(N, sizeof *bb);
    vec *cols = NULL;
    uint32_t *x = NULL, *y = NULL, *s = NULL;
    if (!a || !bb) b->st = dlm_fail(b->err, DLM_ENOMEM, "%s: out of memory", b->c->source);
    else if (alloc_columns(b, W, &cols, &x, &y, &s)) {
        operand_coins(b, N, a, bb);
        for (uint32_t i = 0; i < N; i++)
            for (uint32_t j = 0; j < N; j++) push_bit(b, &cols[i + j], and2(b, a[j], bb[i]));
        compress(b, cols, W, x, y);      /* a*b < 2^{2N}: nothing carries out */
        if (!b->st) prefix_add(b, x, y, W, s);
        for (uint32_t k = 0; k < W; k++) gb_out(b, s[k], "p", k);
    }
    free(a); free(bb);
    free_columns(cols, W, x, y, s);
}

/* gen:maj:N (N odd): 1 iff at least T = (N+1)/2 coins are 1. With k the bit length
 * of N (N < 2^k), count + (2^k - T) < 2^{k+1}, and its bit k is 1 iff count >= T.
 * The N coins and the constant 2^k - T go into columns 0..k, are compressed to two
 * rows, and bit k of their prefix sum is the output. */
static void gen_maj(gb *b, uint32_t N)
{
    if (N == 1) {
        uint32_t x = gb_coin(b, "x", 1);
        gb_out(b, gb_buf(b, x), "maj", -1);
        return;
    }
    uint32_t k = 0;
    while ((UINT64_C(1) << k) <= N) k++;
    uint32_t T = (N + 1) / 2, K = (1u << k) - T, W = k + 1;
    vec *cols = NULL;
    uint32_t *x = NULL, *y = NULL, *s = NULL;
    if (alloc_columns(b, W, &cols, &x, &y, &s)) {
        for (uint32_t i = 1; i <= N; i++) push_bit(b, &cols[0], gb_coin(b, "x", i));
        for (uint32_t j = 0; j < k; j++)
            if ((K >> j) & 1u) push_bit(b, &cols[j], 1u); /* the constant K, as true bits */
        compress(b, cols, W, x, y);
        if (!b->st) prefix_add(b, x, y, W, s);
        gb_out(b, s[k], "maj", -1);
    }
    free_columns(cols, W, x, y, s);
}

// ---------------------------------------------------------------------------
// gen:random:W,D,SEED. The wiring comes from splitmix64 (Steele, Lea, Flood 2014)
// started at state SEED; below(n) draws uniformly from 0..n-1 by rejection (drop
// draws < 2^64 mod n, then reduce mod n), so the circuit is a pure function of
// (W, D, SEED) on every platform. Draw order, per layer r = 1..D:
//   1. a Fisher-Yates permutation pi of 0..W-1: pi = identity, then for i = W-1
//      down to 1, swap pi[i] with pi[below(i+1)];
//   2. for each gate k = 0..W-1: type = (AND, OR, XOR)[below(3)]; first input =
//      vertex pi[k] of layer r-1; second input (W >= 2) = vertex j of layer r-1,
//      j = below(W-1), j += (j >= pi[k]) so that it differs from the first; then one
//      draw f whose bits 0, 1, 2 negate input 0, input 1 and the output.
// With W = 1 each gate is a 1-input gate (type and output negation still drawn, an
// input negation from bit 0): a chain of buffers and inverters.

static uint64_t below(uint64_t *st, uint64_t n)
{
    uint64_t lim = (0 - n) % n; /* 2^64 mod n */
    for (;;) {
        uint64_t x = dlm_splitmix64(st);
        if (x >= lim) return x % n;
    }
}

static void gen_random(gb *b, uint32_t W, uint32_t D, uint64_t seed)
{
    static const dlm_gate_type types[3] = {DLM_G_AND, DLM_G_OR, DLM_G_XOR};
    uint32_t *prev = dlm_calloc(W, sizeof *prev), *cur = dlm_calloc(W, sizeof *cur);
    uint32_t *pi = dlm_calloc(W, sizeof *pi);
    uint64_t st = seed;
    if (!prev || !cur || !pi) {
        b->st = dlm_fail(b->err, DLM_ENOMEM, "%s: out of memory", b->c->source);
    } else {
        for (uint32_t k = 0; k < W; k++) prev[k] = gb_coin(b, "x", k);
        for (uint32_t r = 1; r <= D && !b->st; r++) {
            for (uint32_t k = 0; k < W; k++) pi[k] = k;
            for (uint32_t i = W - 1; i > 0; i--) {
                uint32_t j = (uint32_t)below(&st, (uint64_t)i + 1), t = pi[i];
                pi[i] = pi[j];
                pi[j] = t;
            }
            for (uint32_t k = 0; k < W && !b->st; k++) {
                dlm_gate_type t = types[below(&st, 3)];
                uint32_t lits[2], nin = 1;
                lits[0] = prev[pi[k]];
                if (W >= 2) {
                    uint32_t j = (uint32_t)below(&st, W - 1);
                    if (j >= pi[k]) j++;
                    lits[1] = prev[j];
                    nin = 2;
                }
                uint64_t f = dlm_splitmix64(&st);
                lits[0] ^= (uint32_t)(f & 1u);
                if (nin == 2) lits[1] ^= (uint32_t)((f >> 1) & 1u);
                cur[k] = gb_gate(b, t, nin, lits, (int)((f >> 2) & 1u));
            }
            uint32_t *tmp = prev; prev = cur; cur = tmp;
            if (b->progress) b->progress(b->progress_ctx, r, D, dlm_now() - b->t0);
        }
        for (uint32_t k = 0; k < W; k++) gb_out(b, prev[k], "y", k);
    }
    free(prev); free(cur); free(pi);
}

// ---------------------------------------------------------------------------
// Spec parsing: strict. Names are exact, arguments unsigned decimal integers (digits
// only: no sign, space, or base prefix), in range, and nothing follows them.

typedef enum { K_TREE, K_CHAIN, K_REVISE, K_RIPPLE, K_PREFIX, K_MULT, K_MAJ, K_RANDOM } gen_kind;

static const struct {
    const char *name;
    gen_kind kind;
    uint32_t min, max;
} gens[] = {
    {"parity-tree", K_TREE, 2, 1u << 20},
    {"parity-chain", K_CHAIN, 2, 1u << 20},
    {"parity-revise", K_REVISE, 2, 1u << 20},
    {"adder-ripple", K_RIPPLE, 1, 4096},
    {"adder-prefix", K_PREFIX, 1, 4096},
    {"mult", K_MULT, 1, 512},
    {"maj", K_MAJ, 1, (1u << 16) - 1},
    {"random", K_RANDOM, 0, 0},
};

#define RANDOM_MAX_GATES (UINT64_C(1) << 24) /* W*D: below DLM_MAX_NODES with the coins */

/* Parses s[0..len) as an unsigned decimal; 0 on bad text or overflow. */
static int parse_u64(const char *s, size_t len, uint64_t *v)
{
    if (len == 0) return 0;
    uint64_t x = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        unsigned d = (unsigned)(s[i] - '0');
        if (x > (UINT64_MAX - d) / 10) return 0;
        x = x * 10 + d;
    }
    *v = x;
    return 1;
}

dlm_status dlm_gen_build(dlm_circuit *c, const char *spec, uint64_t max_bytes, dlm_err *err)
{
    return dlm_gen_build_progress(c, spec, max_bytes, NULL, NULL, err);
}

dlm_status dlm_gen_build_progress(dlm_circuit *c, const char *spec, uint64_t max_bytes, dlm_progress_fn progress,
                                  void *ctx, dlm_err *err)
{
    memset(c, 0, sizeof *c);
    if (!spec) return dlm_fail(err, DLM_EINPUT, "(null): not a generator spec");
    if (strncmp(spec, "gen:", 4) != 0)
        return dlm_fail(err, DLM_EINPUT, "%s: a generator spec has the form gen:NAME:ARGS", spec);
    const char *name = spec + 4, *colon = strchr(name, ':');
    size_t nlen = colon ? (size_t)(colon - name) : strlen(name);
    int g = -1;
    for (size_t i = 0; i < sizeof gens / sizeof gens[0]; i++)
        if (strlen(gens[i].name) == nlen && !strncmp(gens[i].name, name, nlen)) g = (int)i;
    if (g < 0)
        return dlm_fail(err, DLM_EINPUT,
                        "%s: unknown generator (known: parity-tree, parity-chain, "
                        "parity-revise, adder-ripple, adder-prefix, mult, maj, random)", spec);
    const char *args = colon ? colon + 1 : "";
    gen_kind kind = gens[g].kind;
    uint64_t v[3] = {0, 0, 0};

    if (kind == K_RANDOM) {
        const char *c1 = strchr(args, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        if (!colon || !c1 || !c2 || !parse_u64(args, (size_t)(c1 - args), &v[0]) ||
            !parse_u64(c1 + 1, (size_t)(c2 - c1 - 1), &v[1]) ||
            !parse_u64(c2 + 1, strlen(c2 + 1), &v[2]) || v[0] < 1 || v[1] < 1 ||
            v[0] > RANDOM_MAX_GATES || v[1] > RANDOM_MAX_GATES ||
            v[0] * v[1] > RANDOM_MAX_GATES)
            return dlm_fail(err, DLM_EINPUT,
                            "%s: expected gen:random:W,D,SEED with W >= 1, D >= 1, "
                            "W*D <= %llu, SEED in 0..18446744073709551615", spec,
                            (unsigned long long)RANDOM_MAX_GATES);
    } else {
        if (!colon || !parse_u64(args, strlen(args), &v[0]) || v[0] < gens[g].min ||
            v[0] > gens[g].max || (kind == K_MAJ && v[0] % 2 == 0))
            return dlm_fail(err, DLM_EINPUT, "%s: expected gen:%s:N with N %s in %u..%u", spec,
                            gens[g].name, kind == K_MAJ ? "an odd integer" : "an integer",
                            gens[g].min, gens[g].max);
    }

    /* mult and maj fold constants and may leave unread gates: build them into a
     * scratch circuit and sweep; the others build into c directly */
    int need_sweep = kind == K_MULT || kind == K_MAJ;
    dlm_circuit tmp;
    gb b = {need_sweep ? &tmp : c, NULL, 0, DLM_OK, err, progress, ctx, dlm_now()};
    dlm_status s = dlm_circuit_init(b.c, spec, err);
    if (s) {
        memset(c, 0, sizeof *c);
        return s;
    }
    b.c->max_bytes = max_bytes;
    /* levels steer the carry-save reductions; gen:random (the largest) needs none */
    if (kind != K_RANDOM) {
        b.lcap = 256;
        b.lvl = dlm_calloc(b.lcap, sizeof *b.lvl);
        if (!b.lvl) b.st = dlm_fail(err, DLM_ENOMEM, "%s: out of memory", spec);
    }
    uint32_t N = (uint32_t)v[0];
    if (!b.st) switch (kind) {
    case K_TREE: gen_parity_xor(&b, N, 1); break;
    case K_CHAIN: gen_parity_xor(&b, N, 0); break;
    case K_REVISE: gen_parity_revise(&b, N); break;
    case K_RIPPLE: gen_adder(&b, N, 0); break;
    case K_PREFIX: gen_adder(&b, N, 1); break;
    case K_MULT: gen_mult(&b, N); break;
    case K_MAJ: gen_maj(&b, N); break;
    case K_RANDOM: gen_random(&b, N, (uint32_t)v[1], v[2]); break;
    }
    free(b.lvl);
    s = b.st;
    if (need_sweep) {
        if (!s) s = sweep(&tmp, c, err);
        dlm_circuit_free(&tmp);
    } else if (s) {
        dlm_circuit_free(c);
    }
    return s;
}
