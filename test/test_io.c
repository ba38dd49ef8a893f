/* test_io.c — AIGER and BLIF readers and writers.
 *
 * Round trips (IR -> .aag/.aig/.blif -> IR) are checked by exhaustive evaluation with a
 * scalar evaluator written here from dlm_gate_truth_table (the test oracle); every
 * malformed-input rule has its own small file and checks DLM_EINPUT, the "FILE:LINE:"
 * prefix and that nothing is left allocated; the EPFL benchmarks are read and compared
 * with berkeley-abc's print_stats, and our writers' output is proved equivalent to the
 * originals with ABC's cec. ABC tests skip (never pass) when berkeley-abc is missing.
 * Run from the repository root: build/test/test_io
 */
#include "dlm_test.h"
#include "dlm_io.h"
#include "dlm_level.h"
#include "dlm_util.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

typedef dlm_status (*reader_fn)(dlm_circuit *, const char *, uint64_t, dlm_err *);

// ---- helpers -----------------------------------------------------------------------

/* A path in the scratch directory (rotating static buffers). */
static const char *tpath(const char *name)
{
    static char paths[16][512];
    static int k;
    char *p = paths[k++ & 15];
    snprintf(p, 512, "%s/%s", dlm_test_tmpdir(), name);
    return p;
}

/* Writes len bytes (NULs allowed) to a scratch file; returns its path. */
static const char *write_bytes(const char *name, const void *data, size_t len)
{
    const char *p = tpath(name);
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
    return p;
}

/* Scalar evaluation of all outputs for coin assignment x (bit k = coin k). */
static void eval(const dlm_circuit *c, const uint64_t *tt, uint64_t x, uint8_t *val,
                 uint8_t *out)
{
    val[0] = 0;
    for (uint32_t k = 0; k < c->ncoins; k++) val[c->coins[k]] = (uint8_t)((x >> k) & 1u);
    for (uint32_t i = 1; i < c->nnodes; i++) {
        const dlm_gate *g = &c->g[i];
        if (g->type == DLM_G_COIN) continue;
        unsigned idx = 0;
        for (unsigned j = 0; j < g->nin; j++) idx |= (unsigned)val[DLM_LIT_NODE(g->in[j])] << j;
        val[i] = (uint8_t)((tt[i] >> idx) & 1u);
    }
    for (uint32_t k = 0; k < c->nout; k++)
        out[k] = val[DLM_LIT_NODE(c->out[k])] ^ (uint8_t)DLM_LIT_NEG(c->out[k]);
}

static uint64_t *tables(const dlm_circuit *c)
{
    uint64_t *tt = calloc(c->nnodes, sizeof *tt);
    assert_non_null(tt);
    for (uint32_t i = 1; i < c->nnodes; i++)
        if (c->g[i].type != DLM_G_COIN) tt[i] = dlm_gate_truth_table(&c->g[i]);
    return tt;
}

/* Asserts that a and b compute the same outputs for every coin assignment. */
static void assert_equiv(const dlm_circuit *a, const dlm_circuit *b)
{
    assert_int_equal(a->ncoins, b->ncoins);
    assert_int_equal(a->nout, b->nout);
    assert_true(a->ncoins <= 20);
    uint64_t *ta = tables(a), *tb = tables(b);
    uint8_t *va = malloc(a->nnodes), *vb = malloc(b->nnodes);
    uint8_t *oa = malloc(a->nout + 1), *ob = malloc(b->nout + 1);
    assert_true(va && vb && oa && ob);
    for (uint64_t x = 0; x < (UINT64_C(1) << a->ncoins); x++) {
        eval(a, ta, x, va, oa);
        eval(b, tb, x, vb, ob);
        for (uint32_t k = 0; k < a->nout; k++)
            if (oa[k] != ob[k]) {
                print_error("output %u differs for coins 0x%llx: %u vs %u\n", k,
                            (unsigned long long)x, oa[k], ob[k]);
                fail();
            }
    }
    free(ta);
    free(tb);
    free(va);
    free(vb);
    free(oa);
    free(ob);
}

/* The output values of c for coin assignment x, as a bit string (bit k = output k). */
static uint64_t outputs_of(const dlm_circuit *c, uint64_t x)
{
    uint64_t *tt = tables(c);
    uint8_t *v = malloc(c->nnodes), o[64];
    assert_true(c->nout <= 64 && v);
    eval(c, tt, x, v, o);
    uint64_t r = 0;
    for (uint32_t k = 0; k < c->nout; k++) r |= (uint64_t)o[k] << k;
    free(v);
    free(tt);
    return r;
}

/* Reads a file that must be malformed: DLM_EINPUT, "PATH:LINE:" (line 0: "PATH: byte
 * offset"), an optional substring, and nothing left allocated. */
static void expect_bad_at(reader_fn rd, const char *path, unsigned line, const char *what)
{
    dlm_circuit c;
    dlm_err e;
    memset(&e, 0, sizeof e);
    memset(&c, 0x5a, sizeof c);
    dlm_status s = rd(&c, path, 0, &e);
    if (s != DLM_EINPUT) {
        print_error("%s: status %d, message '%s'\n", path, (int)s, e.msg);
        if (s == DLM_OK) dlm_circuit_free(&c);
        fail();
    }
    char want[600];
    if (line) snprintf(want, sizeof want, "%s:%u: ", path, line);
    else snprintf(want, sizeof want, "%s: byte offset ", path);
    if (strncmp(e.msg, want, strlen(want)) != 0 || (what && !strstr(e.msg, what))) {
        print_error("want prefix '%s' and '%s', got '%s'\n", want, what ? what : "", e.msg);
        fail();
    }
    assert_null(c.g); /* the reader freed what it built */
    assert_int_equal(c.nnodes, 0);
}

static void bad_aag(const char *text, unsigned line, const char *what)
{
    expect_bad_at(dlm_aiger_read, dlm_test_file("bad.aag", text), line, what);
}

static void bad_aig(const void *bytes, size_t len, unsigned line, const char *what)
{
    expect_bad_at(dlm_aiger_read, write_bytes("bad.aig", bytes, len), line, what);
}

static void bad_blif(const char *text, unsigned line, const char *what)
{
    expect_bad_at(dlm_blif_read, dlm_test_file("bad.blif", text), line, what);
}

static void read_ok(reader_fn rd, dlm_circuit *c, const char *path)
{
    dlm_err e = {{0}};
    dlm_status s = rd(c, path, 0, &e);
    if (s != DLM_OK) {
        print_error("%s: %s\n", path, e.msg);
        fail();
    }
}

static void write_ok(dlm_status s, const dlm_err *e)
{
    if (s != DLM_OK) {
        print_error("write failed: %s\n", e->msg);
        fail();
    }
}

static uint32_t gate(dlm_circuit *c, dlm_gate_type t, unsigned nin, const uint32_t *lits,
                     int out_neg, uint64_t tt)
{
    dlm_err e;
    uint32_t node;
    assert_int_equal(dlm_circuit_add_gate(c, t, nin, lits, out_neg, tt, &node, &e), DLM_OK);
    return node;
}

/* A circuit with every gate kind, negations, constants, LUTs with constant and repeated
 * inputs, and constant / negated / coin outputs. */
static void build_mixed(dlm_circuit *c, int clean)
{
    dlm_err e;
    uint32_t x[6];
    const char *names[6] = {"a", "b", NULL, "d[0]", "e", "f"};
    assert_int_equal(dlm_circuit_init(c, "mixed", &e), DLM_OK);
    for (int k = 0; k < 6; k++)
        assert_int_equal(dlm_circuit_add_coin(c, names[k], &x[k], &e), DLM_OK);
    uint32_t l1[2] = {DLM_LIT(x[0], 0), DLM_LIT(x[1], 1)};
    uint32_t g1 = gate(c, DLM_G_AND, 2, l1, 0, 0);
    uint32_t l2[3] = {DLM_LIT(x[1], 0), DLM_LIT(x[2], 0), DLM_LIT(x[3], 1)};
    uint32_t g2 = gate(c, DLM_G_OR, 3, l2, 1, 0);
    uint32_t l3[3] = {DLM_LIT(x[0], 0), DLM_LIT(x[2], 1), DLM_LIT(x[4], 0)};
    uint32_t g3 = gate(c, DLM_G_XOR, 3, l3, 0, 0);
    uint32_t l4[6] = {DLM_LIT(g1, 0), DLM_LIT(g2, 1), DLM_LIT(x[5], 0), DLM_LIT(x[3], 0),
                      DLM_LIT(g3, 1), DLM_LIT(x[4], 1)};
    uint32_t g4 = gate(c, DLM_G_AND, 6, l4, 1, 0);
    uint32_t g5 = gate(c, DLM_G_OR, 6, l4, 0, 0);
    uint32_t g6 = gate(c, DLM_G_XOR, 6, l4, 1, 0);
    uint32_t l7[3] = {DLM_LIT(g3, 0), DLM_LIT(x[1], 1), DLM_LIT(g2, 0)};
    uint32_t g7 = gate(c, DLM_G_LUT, 3, l7, 0, 0xE8); /* majority */
    uint32_t g8 = gate(c, DLM_G_LUT, 6, l4, 1, UINT64_C(0x9d3a5c17e2b04f68));
    uint32_t l9[4] = {DLM_LIT(0, 1), DLM_LIT(x[0], 0), DLM_LIT(x[0], 1), DLM_LIT(g7, 0)};
    uint32_t g9 = gate(c, DLM_G_LUT, 4, l9, 0, 0x6ac5); /* constant and repeated inputs */
    uint32_t l10[2] = {DLM_LIT(0, 1), DLM_LIT(x[2], 0)};
    uint32_t g10 = gate(c, DLM_G_AND, 2, l10, 0, 0); /* AND with constant true */
    uint32_t l11[1] = {DLM_LIT(g9, 1)};
    uint32_t g11 = gate(c, DLM_G_XOR, 1, l11, 0, 0); /* an inverter */
    uint32_t l12[2] = {DLM_LIT(x[1], 0), DLM_LIT(x[3], 0)};
    uint32_t g12 = gate(c, DLM_G_LUT, 2, l12, 0, 0x0); /* constant-0 LUT */
    const struct { uint32_t lit; const char *name; } outs[] = {
        {DLM_LIT(g1, 0), "y1"}, {DLM_LIT(g2, 1), "y2"}, {DLM_LIT(g3, 0), NULL},
        {DLM_LIT(g4, 0), "y4"}, {DLM_LIT(g5, 1), "y5"}, {DLM_LIT(g6, 0), "y6"},
        {DLM_LIT(g7, 0), "maj"}, {DLM_LIT(g8, 1), "lut6"}, {DLM_LIT(g9, 0), "y9"},
        {DLM_LIT(g10, 0), "y10"}, {DLM_LIT(g11, 0), "y11"}, {DLM_LIT(g12, 0), "y12"},
        {0, "zero"}, {1, "one"}, {DLM_LIT(x[0], 0), "a"}, {DLM_LIT(x[1], 1), "nb"},
        {DLM_LIT(g1, 0), "y1"}, {DLM_LIT(g1, 1), "y1n"}, {DLM_LIT(x[2], 0), NULL},
        {DLM_LIT(g7, 0), "has space"},
    };
    for (size_t k = 0; k < sizeof outs / sizeof outs[0]; k++) {
        /* clean: every output gets a distinct valid name (for comparing by name) */
        char nm[16];
        snprintf(nm, sizeof nm, "q%zu", k);
        int keep = outs[k].name && (k < 16 || k == 17) && k != 14;
        assert_int_equal(dlm_circuit_add_output(c, outs[k].lit, clean && !keep ? nm
                                                : outs[k].name, &e), DLM_OK);
    }
}

static uint64_t rng_next(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return *s >> 33;
}

/* A random circuit over all gate kinds (inputs may be node 0 or repeated). */
static void build_random(dlm_circuit *c, uint64_t seed, unsigned ncoins, unsigned ngates,
                         unsigned nout, int all_named)
{
    dlm_err e;
    uint64_t s = seed;
    assert_int_equal(dlm_circuit_init(c, "random", &e), DLM_OK);
    char name[32];
    for (unsigned k = 0; k < ncoins; k++) {
        snprintf(name, sizeof name, "x%u", k);
        assert_int_equal(dlm_circuit_add_coin(c, rng_next(&s) % 4 || all_named ? name : NULL,
                                              NULL, &e),
                         DLM_OK);
    }
    for (unsigned i = 0; i < ngates; i++) {
        dlm_gate_type t = (dlm_gate_type)(DLM_G_AND + rng_next(&s) % 4);
        unsigned nin = 1 + (unsigned)(rng_next(&s) % DLM_MAX_FANIN);
        uint32_t lits[DLM_MAX_FANIN];
        for (unsigned j = 0; j < nin; j++) {
            uint32_t node = rng_next(&s) % 16 == 0 ? 0 : (uint32_t)(rng_next(&s) % c->nnodes);
            lits[j] = DLM_LIT(node, rng_next(&s) & 1);
        }
        uint64_t tt = (rng_next(&s) << 32) ^ rng_next(&s) ^ (rng_next(&s) << 17);
        if (nin < 6) tt &= (UINT64_C(1) << (1u << nin)) - 1;
        gate(c, t, nin, lits, (int)(rng_next(&s) & 1), t == DLM_G_LUT ? tt : 0);
    }
    for (unsigned k = 0; k < nout; k++) {
        snprintf(name, sizeof name, "y%u", k);
        uint32_t lit = (uint32_t)(rng_next(&s) % (2 * c->nnodes));
        assert_int_equal(dlm_circuit_add_output(c, lit, rng_next(&s) % 3 || all_named ? name : NULL,
                                                &e),
                         DLM_OK);
    }
}

/* Writes c in the three formats, reads each back and checks equivalence. */
static void round_trip(const dlm_circuit *c, int check_names)
{
    static const struct { const char *ext; int binary; } fm[3] = {
        {"aag", 0}, {"aig", 1}, {"blif", -1}};
    for (int f = 0; f < 3; f++) {
        char name[32];
        snprintf(name, sizeof name, "rt.%s", fm[f].ext);
        const char *p = tpath(name);
        dlm_err e;
        dlm_circuit d;
        if (fm[f].binary >= 0) {
            write_ok(dlm_aiger_write(c, p, fm[f].binary, &e), &e);
            read_ok(dlm_aiger_read, &d, p);
        } else {
            write_ok(dlm_blif_write(c, p, &e), &e);
            read_ok(dlm_blif_read, &d, p);
        }
        assert_equiv(c, &d);
        if (check_names) {
            for (uint32_t k = 0; k < c->ncoins; k++) {
                const char *a = c->coin_names ? c->coin_names[k] : NULL;
                const char *b = d.coin_names ? d.coin_names[k] : NULL;
                if (a && fm[f].binary >= 0) assert_string_equal(a, b);
                if (a && !strchr(a, ' ')) assert_string_equal(a, b);
            }
            for (uint32_t k = 0; k < c->nout && fm[f].binary >= 0; k++) {
                /* AIGER keeps the first of repeated output names (ABC refuses repeats) */
                const char *a = c->out_names ? c->out_names[k] : NULL;
                const char *b = d.out_names ? d.out_names[k] : NULL;
                int first = a != NULL;
                for (uint32_t q = 0; q < k && first; q++)
                    first = !c->out_names[q] || strcmp(c->out_names[q], a) != 0;
                if (first) assert_string_equal(a, b);
                else if (a) assert_null(b);
            }
        }
        dlm_circuit_free(&d);
    }
}

// ---- round trips ---------------------------------------------------------------------

static void round_trip_mixed(void **state)
{
    (void)state;
    dlm_circuit c;
    build_mixed(&c, 0);
    round_trip(&c, 1);
    /* BLIF keeps the valid unique output names and generates the rest */
    const char *p = tpath("names.blif");
    dlm_err e;
    dlm_circuit d;
    write_ok(dlm_blif_write(&c, p, &e), &e);
    read_ok(dlm_blif_read, &d, p);
    assert_string_equal(d.coin_names[0], "a");
    assert_string_equal(d.coin_names[3], "d[0]");
    assert_string_equal(d.out_names[0], "y1");
    assert_string_equal(d.out_names[6], "maj");
    assert_string_equal(d.out_names[14], "a"); /* an output that is an input */
    assert_string_equal(d.out_names[15], "nb");
    assert_string_not_equal(d.out_names[16], "y1"); /* a duplicate name is renamed */
    assert_string_not_equal(d.out_names[19], "has space");
    dlm_circuit_free(&d);
    dlm_circuit_free(&c);
}

static void round_trip_random(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        dlm_circuit c;
        build_random(&c, seed, 1 + (unsigned)(seed % 10), 5 + (unsigned)(seed * 7 % 60),
                     1 + (unsigned)(seed % 12), 0);
        round_trip(&c, 1);
        dlm_circuit_free(&c);
    }
}

static void round_trip_edge_cases(void **state)
{
    (void)state;
    dlm_err e;
    dlm_circuit c;
    /* no coins at all: only constant outputs */
    assert_int_equal(dlm_circuit_init(&c, "consts", &e), DLM_OK);
    assert_int_equal(dlm_circuit_add_output(&c, 0, "lo", &e), DLM_OK);
    assert_int_equal(dlm_circuit_add_output(&c, 1, "hi", &e), DLM_OK);
    round_trip(&c, 1);
    dlm_circuit_free(&c);
    /* coins and no outputs */
    assert_int_equal(dlm_circuit_init(&c, "nout", &e), DLM_OK);
    assert_int_equal(dlm_circuit_add_coin(&c, "u", NULL, &e), DLM_OK);
    round_trip(&c, 1);
    dlm_circuit_free(&c);
    /* an empty circuit */
    assert_int_equal(dlm_circuit_init(&c, "", &e), DLM_OK);
    round_trip(&c, 1);
    dlm_circuit_free(&c);
}

/* The written AIGER numbers inputs first and keeps lhs > rhs0 >= rhs1, lhs increasing. */
static void aiger_writer_order(void **state)
{
    (void)state;
    dlm_circuit c;
    build_mixed(&c, 0);
    const char *p = tpath("order.aag");
    dlm_err e;
    write_ok(dlm_aiger_write(&c, p, 0, &e), &e);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    unsigned M, I, L, O, A;
    assert_int_equal(fscanf(f, "aag %u %u %u %u %u", &M, &I, &L, &O, &A), 5);
    assert_int_equal(M, I + A);
    assert_int_equal(L, 0);
    assert_int_equal(I, c.ncoins);
    assert_int_equal(O, c.nout);
    for (unsigned k = 0; k < I; k++) {
        unsigned lit;
        assert_int_equal(fscanf(f, "%u", &lit), 1);
        assert_int_equal(lit, 2 * (k + 1));
    }
    for (unsigned k = 0; k < O; k++) {
        unsigned lit;
        assert_int_equal(fscanf(f, "%u", &lit), 1);
        assert_true(lit <= 2 * M + 1);
    }
    for (unsigned i = 0; i < A; i++) {
        unsigned l, r0, r1;
        assert_int_equal(fscanf(f, "%u %u %u", &l, &r0, &r1), 3);
        assert_int_equal(l, 2 * (I + i + 1));
        assert_true(l > r0 && r0 >= r1);
    }
    char line[256];
    int saw_comment = 0, saw_i0 = 0, saw_o0 = 0;
    while (fgets(line, sizeof line, f)) {
        if (strcmp(line, "i0 a\n") == 0) saw_i0 = 1;
        if (strcmp(line, "o0 y1\n") == 0) saw_o0 = 1;
        if (strstr(line, "dlmsim")) saw_comment = 1;
    }
    fclose(f);
    assert_true(saw_i0 && saw_o0 && saw_comment);
    dlm_circuit_free(&c);
}

static void writers_refuse_biased_coins(void **state)
{
    (void)state;
    dlm_circuit c;
    dlm_err e;
    build_mixed(&c, 0);
    c.coin_thr = calloc(c.ncoins, sizeof *c.coin_thr);
    assert_non_null(c.coin_thr);
    for (uint32_t k = 0; k < c.ncoins; k++) c.coin_thr[k] = DLM_COIN_FAIR;
    const char *p = tpath("fair.aig");
    assert_int_equal(dlm_aiger_write(&c, p, 1, &e), DLM_OK); /* all fair: fine */
    c.coin_thr[2] = UINT64_C(1) << 30;
    assert_int_equal(dlm_aiger_write(&c, tpath("b.aag"), 0, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "biased"));
    assert_int_equal(dlm_aiger_write(&c, tpath("b.aig"), 1, &e), DLM_EINPUT);
    assert_int_equal(dlm_blif_write(&c, tpath("b.blif"), &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "biased"));
    dlm_circuit_free(&c);
}

static void io_errors(void **state)
{
    (void)state;
    dlm_circuit c;
    dlm_err e;
    const char *p = "test/data/io/does-not-exist.aag";
    memset(&c, 0x5a, sizeof c);
    assert_int_equal(dlm_aiger_read(&c, p, 0, &e), DLM_EIO);
    assert_int_equal(strncmp(e.msg, p, strlen(p)), 0);
    assert_non_null(strstr(e.msg, "No such file"));
    assert_null(c.g);
    assert_int_equal(dlm_blif_read(&c, "/nonexistent/x.blif", 0, &e), DLM_EIO);
    assert_int_equal(dlm_aiger_read(&c, dlm_test_tmpdir(), 0, &e), DLM_EINPUT); /* a directory */
    assert_non_null(strstr(e.msg, "a directory"));
    build_mixed(&c, 0);
    assert_int_equal(dlm_aiger_write(&c, "/nonexistent/dir/x.aig", 1, &e), DLM_EIO);
    assert_int_equal(strncmp(e.msg, "/nonexistent/dir/x.aig: ", 24), 0);
    assert_int_equal(dlm_blif_write(&c, "/nonexistent/dir/x.blif", &e), DLM_EIO);
    dlm_circuit_free(&c);
}

// ---- bounded input, checked outputs (dlm_read_file, dlm_out_check, dlm_file_replace) --

/* Readers refuse devices (also behind a symlink) after open, refuse a regular file over
 * the memory budget before reading it, and read a FIFO up to the budget only. */
static void readers_bounded_and_refuse_devices(void **state)
{
    (void)state;
    char p[600], out[4096];
    dlm_circuit c;
    dlm_err e;
    char *buf = NULL;
    size_t len = 0;
    assert_int_equal(dlm_read_file("/dev/zero", &buf, &len, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "a character device"));
    snprintf(p, sizeof p, "%s/zero.aag", dlm_test_tmpdir());
    unlink(p);
    assert_int_equal(symlink("/dev/zero", p), 0);
    assert_int_equal(dlm_aiger_read(&c, p, 0, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "a character device"));
    snprintf(p, sizeof p, "%s/urandom.blif", dlm_test_tmpdir());
    unlink(p);
    assert_int_equal(symlink("/dev/urandom", p), 0);
    assert_int_equal(dlm_blif_read(&c, p, 0, &e), DLM_EINPUT);
    /* a regular file over the bound: refused by its size */
    const char *big = dlm_test_file("big.aag", "aag 3 2 0 1 1\n2\n4\n6\n6 2 4\n");
    assert_int_equal(dlm_read_file_max(big, 10, &buf, &len, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "over the memory budget"));
    assert_int_equal(dlm_read_file_max(big, 1000, &buf, &len, &e), DLM_OK);
    assert_int_equal(len, strlen("aag 3 2 0 1 1\n2\n4\n6\n6 2 4\n"));
    free(buf);
    /* the budget (--max-memory) bounds every reader */
    assert_int_equal(dlm_aiger_read(&c, big, 16, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "over the memory budget"));
    /* a FIFO: a small circuit is read; an endless writer is cut off at the budget */
    snprintf(p, sizeof p, "%s/fifo.aag", dlm_test_tmpdir());
    unlink(p);
    assert_int_equal(mkfifo(p, 0600), 0);
    int rc = dlm_test_sh(out, sizeof out, "(cat %s > %s &) ; timeout 20 %s info %s", big, p, DLM_BIN, p);
    if (rc != 0) fail_msg("info on a FIFO: exit %d: %s", rc, out);
    assert_non_null(strstr(out, "coins"));
    rc = dlm_test_sh(out, sizeof out, "(cat /dev/zero > %s 2>/dev/null &) ; timeout 20 %s info %s --max-memory 1M",
                     p, DLM_BIN, p);
    if (rc != 2) fail_msg("info on an endless FIFO: exit %d, want 2: %s", rc, out);
    assert_non_null(strstr(out, "over the memory budget"));
    unlink(p);
}

/* Outputs: a new file or a regular one is accepted, a symlink is resolved (its target
 * replaced, the link kept), a device node, a FIFO and a directory are refused. */
static void outputs_replace_only_regular_files(void **state)
{
    (void)state;
    char dev[600], link[600], fifo[600], r[4096];
    dlm_err e;
    dlm_replace_fail why;
    snprintf(dev, sizeof dev, "%s/null-node", dlm_test_tmpdir());
    unlink(dev);
    if (mknod(dev, S_IFCHR | 0666, makedev(1, 3))) {
        print_message("skipped the device node part: mknod: %s\n", strerror(errno));
    } else {
        assert_int_equal(dlm_out_check(dev, r, sizeof r, &e), DLM_EINPUT);
        assert_non_null(strstr(e.msg, "a character device"));
        assert_int_equal(dlm_file_replace(dev, ".tmp", "x", 1, &why), -1);
        assert_int_equal(why.step, DLM_REPLACE_TARGET);
        struct stat sb;
        assert_int_equal(lstat(dev, &sb), 0);
        assert_true(S_ISCHR(sb.st_mode)); /* still a device node */
    }
    snprintf(fifo, sizeof fifo, "%s/out-fifo", dlm_test_tmpdir());
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(dlm_out_check(fifo, r, sizeof r, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "a FIFO"));
    assert_int_equal(dlm_out_check(dlm_test_tmpdir(), r, sizeof r, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "a directory"));
    assert_int_equal(dlm_out_check("/nonexistent-dlmsim/x", r, sizeof r, &e), DLM_EINPUT);
    /* a symlink to a regular file: the target is replaced, the link stays */
    const char *t = dlm_test_file("target.txt", "old\n");
    snprintf(link, sizeof link, "%s/link.txt", dlm_test_tmpdir());
    unlink(link);
    assert_int_equal(symlink("target.txt", link), 0);
    assert_int_equal(dlm_out_check(link, r, sizeof r, &e), DLM_OK);
    assert_non_null(strstr(r, "/target.txt"));
    assert_int_equal(dlm_file_replace(link, ".tmp.XXXXXX", "new\n", 4, &why), 0);
    struct stat sb;
    assert_int_equal(lstat(link, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    char *buf;
    size_t len;
    assert_int_equal(dlm_read_file(t, &buf, &len, &e), DLM_OK);
    assert_string_equal(buf, "new\n");
    free(buf);
    /* a dangling symlink: its target is created */
    snprintf(link, sizeof link, "%s/dangling.txt", dlm_test_tmpdir());
    unlink(link);
    assert_int_equal(symlink("created.txt", link), 0);
    dlm_out o;
    assert_int_equal(dlm_out_open(&o, link, 0, &e), DLM_OK);
    fputs("made\n", o.f);
    assert_int_equal(dlm_out_close(&o), 0);
    snprintf(link, sizeof link, "%s/created.txt", dlm_test_tmpdir());
    assert_int_equal(dlm_read_file(link, &buf, &len, &e), DLM_OK);
    assert_string_equal(buf, "made\n");
    free(buf);
    /* a symlink to a device node: refused, naming the target */
    snprintf(link, sizeof link, "%s/full-link", dlm_test_tmpdir());
    unlink(link);
    assert_int_equal(symlink("/dev/full", link), 0);
    assert_int_equal(dlm_out_check(link, r, sizeof r, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "links to /dev/full"));
    assert_int_equal(dlm_out_open(&o, "-", 1, &e), DLM_OK);
    assert_true(o.f == stdout);
    assert_int_equal(dlm_out_close(&o), 0);
}

/* An output replaces its target only when it is whole: until dlm_out_close, and for
 * ever after dlm_out_abort, the old file is there unchanged; the new file keeps the old
 * one's permission bits and no temporary file is left behind. */
static void out_replaces_only_when_whole(void **state)
{
    (void)state;
    dlm_err e;
    dlm_out o;
    char *buf;
    size_t len;
    const char *t = dlm_test_file("whole.txt", "old\n");
    assert_int_equal(chmod(t, 0640), 0);
    assert_int_equal(dlm_out_open(&o, t, 0, &e), DLM_OK);
    assert_non_null(strstr(o.tmp, "whole.txt.tmp."));
    fputs("new contents\n", o.f);
    fflush(o.f);
    assert_int_equal(dlm_read_file(t, &buf, &len, &e), DLM_OK);
    assert_string_equal(buf, "old\n"); /* still the old file while writing */
    free(buf);
    char tmp[sizeof o.tmp];
    snprintf(tmp, sizeof tmp, "%s", o.tmp);
    dlm_out_abort(&o);
    assert_null(o.f);
    assert_int_equal(access(tmp, F_OK), -1); /* the temporary file is gone */
    assert_int_equal(dlm_read_file(t, &buf, &len, &e), DLM_OK);
    assert_string_equal(buf, "old\n"); /* an abandoned output leaves the old file */
    free(buf);
    assert_int_equal(dlm_out_open(&o, t, 0, &e), DLM_OK);
    snprintf(tmp, sizeof tmp, "%s", o.tmp);
    fputs("new contents\n", o.f);
    assert_int_equal(dlm_out_close(&o), 0);
    assert_int_equal(dlm_out_close(&o), 0); /* a second close does nothing */
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(dlm_read_file(t, &buf, &len, &e), DLM_OK);
    assert_string_equal(buf, "new contents\n");
    free(buf);
    struct stat sb;
    assert_int_equal(stat(t, &sb), 0);
    assert_int_equal(sb.st_mode & 07777, 0640);
    dlm_out_abort(&o); /* after close: nothing */
    assert_int_equal(dlm_read_file(t, &buf, &len, &e), DLM_OK);
    assert_string_equal(buf, "new contents\n");
    free(buf);
}

// ---- AIGER reader: good files --------------------------------------------------------

/* AND definitions out of order, symbols, a comment that looks like symbols. */
static void aag_any_order_and_symbols(void **state)
{
    (void)state;
    /* y = a XOR b via three ANDs, listed users first; z = !a (negated input output) */
    const char *p = dlm_test_file("xor.aag",
                                  "aag 5 2 0 3 3\n2\n4\n11\n3\n1\n"
                                  "10 7 9\n6 2 5\n8 3 4\n"
                                  "i0 alpha\ni1 beta gamma\no0 x\no2 t\n"
                                  "c\nany text\ni0 not a symbol\n\x01\x02\n");
    dlm_circuit c;
    read_ok(dlm_aiger_read, &c, p);
    assert_int_equal(c.ncoins, 2);
    assert_int_equal(c.nout, 3);
    assert_int_equal(c.nnodes, 1 + 2 + 3);
    assert_string_equal(c.coin_names[0], "alpha");
    assert_string_equal(c.coin_names[1], "beta gamma");
    assert_string_equal(c.out_names[0], "x");
    assert_null(c.out_names[1]);
    assert_string_equal(c.out_names[2], "t");
    for (uint64_t x = 0; x < 4; x++) {
        uint64_t a = x & 1, b = (x >> 1) & 1;
        uint64_t want = (a ^ b) | ((a ^ 1) << 1) | (UINT64_C(1) << 2);
        assert_int_equal(outputs_of(&c, x), want);
    }
    for (uint32_t i = 1; i < c.nnodes; i++) /* inputs before users */
        for (unsigned j = 0; j < c.g[i].nin; j++) assert_true(DLM_LIT_NODE(c.g[i].in[j]) < i);
    dlm_circuit_free(&c);
}

static void aag_header_variants(void **state)
{
    (void)state;
    dlm_circuit c;
    /* AIGER 1.9 header with B C J F all zero, unused variable 3, CRLF, no final newline */
    const char *p = dlm_test_file("v19.aag", "aag 4 2 0 1 1 0 0 0 0\r\n2\r\n4\r\n9\r\n8 2 4");
    read_ok(dlm_aiger_read, &c, p);
    assert_int_equal(c.ncoins, 2);
    assert_int_equal(outputs_of(&c, 3), 0);
    assert_int_equal(outputs_of(&c, 2), 1);
    dlm_circuit_free(&c);
    /* AND with constant inputs and a constant output */
    p = dlm_test_file("k.aag", "aag 2 1 0 2 1\n2\n4\n0\n4 2 1\n");
    read_ok(dlm_aiger_read, &c, p);
    assert_int_equal(outputs_of(&c, 1), 1);
    assert_int_equal(outputs_of(&c, 0), 0);
    dlm_circuit_free(&c);
}

static void aig_binary_example(void **state)
{
    (void)state;
    /* The AIGER spec's AND example in binary: 6 = 2 & 4, deltas 2 and 2; plus a
     * second AND 8 = !6 & !2 (delta0 = 8-7 = 1, delta1 = 7-3 = 4) and names. */
    static const char bin[] = "aig 4 2 0 2 2\n6\n9\n\x02\x02\x01\x04i0 a\no1 nor\nc\nhi\n";
    const char *p = write_bytes("ex.aig", bin, sizeof bin - 1);
    dlm_circuit c;
    read_ok(dlm_aiger_read, &c, p);
    assert_int_equal(c.ncoins, 2);
    assert_int_equal(c.nnodes, 5);
    assert_string_equal(c.coin_names[0], "a");
    assert_string_equal(c.out_names[1], "nor");
    for (uint64_t x = 0; x < 4; x++) {
        uint64_t a = x & 1, b = x >> 1, and = a & b, g8 = (and ^ 1) & (a ^ 1);
        assert_int_equal(outputs_of(&c, x), and | ((g8 ^ 1) << 1));
    }
    dlm_circuit_free(&c);
    /* a multi-byte varint: 200 inputs, one AND of inputs 1 and 200 */
    char big[2048];
    int n = snprintf(big, sizeof big, "aig 201 200 0 1 1\n402\n");
    unsigned lhs = 402, d0 = lhs - 400, d1 = 400 - 2;
    big[n++] = (char)d0;
    big[n++] = (char)((d1 & 0x7f) | 0x80);
    big[n++] = (char)(d1 >> 7);
    p = write_bytes("big.aig", big, (size_t)n);
    read_ok(dlm_aiger_read, &c, p);
    assert_int_equal(c.ncoins, 200);
    assert_int_equal(c.g[201].type, DLM_G_AND);
    assert_int_equal(c.g[201].in[0], DLM_LIT(200, 0));
    assert_int_equal(c.g[201].in[1], DLM_LIT(1, 0));
    dlm_circuit_free(&c);
}

// ---- AIGER reader: malformed files ----------------------------------------------------

static void aiger_bad_header(void **state)
{
    (void)state;
    bad_aag("", 1, "bad header");
    bad_aag("abc 1 1 0 0 0\n2\n", 1, "bad header");
    bad_aag("aag 1 1 0 1\n2\n2\n", 1, "bad header");
    bad_aag("aag 1 1 0 0 0 0 0 0 0 0\n2\n", 1, "bad header");
    bad_aag("aag 1 x 0 0 0\n", 1, "bad header");
    bad_aag("aag1 1 0 0 0\n2\n", 1, "bad header");
    bad_aag("aag 1 1 0 0 0", 1, "truncated"); /* the header alone, no input line */
    bad_aag("aag 3 2 0 1 1 extra\n2\n4\n6\n6 2 4\n", 1, "bad header");
    bad_aag("aag 1 1 0 0 0 99999999999999999999\n", 1, "too large");
}

static void aiger_refuses_sequential(void **state)
{
    (void)state;
    bad_aag("aag 1 0 1 0 0\n2 3\n", 1, "latches are not supported");
    bad_aag("aag 1 1 0 0 0 1\n2\n2\n", 1, "bad-state");
    bad_aag("aag 1 1 0 0 0 0 1\n2\n2\n", 1, "invariant constraints");
    bad_aag("aag 1 1 0 0 0 0 0 1\n2\n1\n2\n", 1, "justice");
    bad_aag("aag 1 1 0 0 0 0 0 0 1\n2\n2\n", 1, "fairness");
    static const char latch[] = "aig 1 0 1 0 0\n2\n";
    bad_aig(latch, sizeof latch - 1, 1, "latches");
}

static void aiger_limits(void **state)
{
    (void)state;
    bad_aag("aag 99999999999 1 0 0 0\n2\n", 1, "exceeds the limit");
    bad_aag("aag 100000000 0 0 0 0\n", 1, "exceeds the limit");
    bad_aag("aag 67108864 0 0 0 67108864\n", 1, "too large");
    bad_aag("aag 1 1 0 16777217 0\n", 1, "exceeds the limit");
    bad_aag("aag 1 1 0 1 1\n2\n4\n4 2 3\n", 1, "smaller than I + L + A");
    /* the header promises far more than the file holds: refused before allocating */
    bad_aag("aag 60000000 10 0 1 50000000\n2\n", 1, "truncated");
    static const char big[] = "aig 50000000 0 0 0 50000000\n\x02\x01";
    bad_aig(big, sizeof big - 1, 1, "truncated");
}

static void aiger_bad_records(void **state)
{
    (void)state;
    const char *H = "aag 300 2 0 1 1\n"; /* long literals so that the size check passes */
    char t[512];
    snprintf(t, sizeof t, "%s200\n400\n600\n", H);
    bad_aag(t, 5, "end of file"); /* a missing AND line */
    bad_aag("aag 300 2 0 1 1\n200\n", 1, "truncated"); /* too short for the header */
    snprintf(t, sizeof t, "%s201\n400\n600\n600 2 4\n", H);
    bad_aag(t, 2, "odd");
    snprintf(t, sizeof t, "%s0\n400\n600\n600 2 4\n", H);
    bad_aag(t, 2, "constant");
    snprintf(t, sizeof t, "%s200\n200\n600\n600 200 201\n", H);
    bad_aag(t, 3, "defined twice"); /* an input listed twice */
    snprintf(t, sizeof t, "%s200\n402\n602\n600 200 201\n", H);
    bad_aag(t, 4, "out of range"); /* output > 2M+1 */
    snprintf(t, sizeof t, "%s200\n400\n600\n601 200 400\n", H);
    bad_aag(t, 5, "odd");
    snprintf(t, sizeof t, "%s200\n400\n600\n0 200 400\n", H);
    bad_aag(t, 5, "constant");
    snprintf(t, sizeof t, "%s200\n400\n600\n602 200 400\n", H);
    bad_aag(t, 5, "out of range"); /* lhs > 2M */
    snprintf(t, sizeof t, "%s200\n400\n600\n600 200 999\n", H);
    bad_aag(t, 5, "out of range"); /* rhs > 2M+1 */
    snprintf(t, sizeof t, "%s200\n400\n600\n600 200\n", H);
    bad_aag(t, 5, "missing");
    snprintf(t, sizeof t, "%s200\n400\n600\n600 200 400 8\n", H);
    bad_aag(t, 5, "unexpected text");
    snprintf(t, sizeof t, "%s200\n400\n600\n600 200 x\n", H);
    bad_aag(t, 5, "expected");
    snprintf(t, sizeof t, "%s200\n400\n600\n400 200 2\n", H);
    bad_aag(t, 5, "defined twice (first on line 3)"); /* an input redefined by an AND */
    bad_aag("aag 5 2 0 1 2\n2\n4\n6\n6 2 4\n6 2 5\n", 6, "defined twice (first on line 5)");
    bad_aag("aag 5 2 0 1 1\n2\n4\n6\n6 2 8\n", 5, "undefined");
    bad_aag("aag 5 2 0 1 1\n2\n4\n10\n6 2 4\n", 4, "undefined");
    bad_aag("aag 4 1 0 1 2\n2\n6\n6 2 8\n8 6 2\n", 4, "cycle");
    bad_aag("aag 4 1 0 1 2\n2\n8\n8 2 6\n6 7 2\n", 5, "cycle");
    bad_aag("aag 2 1 0 1 1\n2\n4\n4 5 2\n", 4, "cycle"); /* a self-loop */
}

static void aiger_bad_symbols(void **state)
{
    (void)state;
    bad_aag("aag 1 1 0 1 0\n2\n2\ni1 x\n", 4, "input 1");
    bad_aag("aag 1 1 0 1 0\n2\n2\no0 x\no1 y\n", 5, "output 1");
    bad_aag("aag 1 1 0 1 0\n2\n2\ni0 x\ni0 y\n", 5, "second symbol");
    bad_aag("aag 1 1 0 1 0\n2\n2\nl0 x\n", 4, "latch");
    bad_aag("aag 1 1 0 1 0\n2\n2\nb0 x\n", 4, "bad-state");
    bad_aag("aag 1 1 0 1 0\n2\n2\nc0 x\n", 4, "constraint");
    bad_aag("aag 1 1 0 1 0\n2\n2\nj0 x\n", 4, "justice");
    bad_aag("aag 1 1 0 1 0\n2\n2\nf0 x\n", 4, "fairness");
    bad_aag("aag 1 1 0 1 0\n2\n2\nhello\n", 4, "bad symbol table line");
    bad_aag("aag 1 1 0 1 0\n2\n2\ni0\n", 4, "name");
    bad_aag("aag 1 1 0 1 0\n2\n2\ni0 \n", 4, "empty name");
    bad_aag("aag 1 1 0 1 0\n2\n2\ni0 a\ncomment without the c line\n", 5, "bad symbol");
}

static void aig_bad_binary(void **state)
{
    (void)state;
    static const char trunc[] = "aig 3 2 0 1 1\n6\n\x82";
    bad_aig(trunc, sizeof trunc - 1, 0, "end of file");
    static const char trunc2[] = "aig 3 2 0 1 1\n6\n\x02";
    bad_aig(trunc2, sizeof trunc2 - 1, 0, "end of file");
    static const char zero[] = "aig 3 2 0 1 1\n6\n\x00\x02";
    bad_aig(zero, sizeof zero - 1, 0, "delta0");
    static const char far[] = "aig 3 2 0 1 1\n6\n\x07\x02";
    bad_aig(far, sizeof far - 1, 0, "delta0");
    static const char d1[] = "aig 3 2 0 1 1\n6\n\x02\x05";
    bad_aig(d1, sizeof d1 - 1, 0, "delta1");
    static const char huge[] = "aig 3 2 0 1 1\n6\n\xff\xff\xff\xff\x7f\x01";
    bad_aig(huge, sizeof huge - 1, 0, "32 bits");
    static const char out[] = "aig 3 2 0 1 1\n8\n\x02\x02";
    bad_aig(out, sizeof out - 1, 2, "out of range");
    static const char undef[] = "aig 4 2 0 1 1\n8\n\x02\x02";
    bad_aig(undef, sizeof undef - 1, 2, "undefined");
    static const char sym[] = "aig 3 2 0 1 1\n6\n\x02\x02i2 x\n";
    bad_aig(sym, sizeof sym - 1, 0, "input 2");
    static const char nolf[] = "aig 3 2 0 1 1\n6 \x02\x02";
    bad_aig(nolf, sizeof nolf - 1, 2, "unexpected text");
    /* the bundled bad file under test/data/io reports its own path and line */
    expect_bad_at(dlm_aiger_read, "test/data/io/cycle.aag", 4, "cycle");
    expect_bad_at(dlm_aiger_read, "test/data/io/latch.aag", 1, "latches");
}

// ---- BLIF reader ---------------------------------------------------------------------

static void blif_features(void **state)
{
    (void)state;
    const char *p = dlm_test_file("feat.blif",
        "# a comment line\n"
        ".model feat  # trailing comment\n"
        ".inputs a b \\\n"
        "   c\n"
        ".inputs d\n"
        ".outputs maj x \\\n"
        " zero one none \\\n"
        "  off a k1\n"
        ".outputs nd\n"
        ".names t1 c maj\n"     /* defined before t1 */
        "11 1\n"
        "1- 1\n"
        ".names a b t1\n"
        "11 1\n"
        ".names a b x\n"
        "10 1\n01 1\n"
        ".names zero\n"
        ".names one\n"
        " 1\n"
        ".names a b none\n"     /* inputs but no rows: constant 0 */
        ".names a d off\n"      /* OFF-set: off = !(a & !d) */
        "10 0\n"
        ".names k1\n1\n"
        ".names a b c d nd\n"   /* don't cares */
        "1--0 1\n"
        "-11- 1\n"
        ".end\n");
    dlm_circuit c;
    read_ok(dlm_blif_read, &c, p);
    assert_int_equal(c.ncoins, 4);
    assert_int_equal(c.nout, 9);
    assert_string_equal(c.coin_names[2], "c");
    assert_string_equal(c.out_names[0], "maj");
    assert_string_equal(c.out_names[8], "nd");
    assert_int_equal(c.out[3], 1);                /* constant 1: literal 1, no gate */
    assert_int_equal(c.out[2], 0);
    assert_int_equal(c.out[4], 0);
    assert_int_equal(c.out[6], DLM_LIT(c.coins[0], 0)); /* an output that is an input */
    for (uint64_t x = 0; x < 16; x++) {
        unsigned a = x & 1, b = (x >> 1) & 1, cc = (x >> 2) & 1, d = (x >> 3) & 1;
        unsigned maj = (a & b & cc) | (a & b);
        unsigned want = maj | (a ^ b) << 1 | 0 << 2 | 1 << 3 | 0 << 4 |
                        (!(a & !d)) << 5 | a << 6 | 1 << 7 |
                        ((a & !d) | (b & cc)) << 8;
        assert_int_equal(outputs_of(&c, x), want);
    }
    dlm_circuit_free(&c);
}

static void blif_refuses(void **state)
{
    (void)state;
    bad_blif(".model m\n.inputs a b c d e f g\n.outputs y\n.names a b c d e f g y\n1111111 1\n.end\n",
             4, "at most 6 inputs");
    bad_blif(".model m\n.inputs a\n.outputs y\n.latch a y 0\n.end\n", 4, ".latch");
    bad_blif(".model m\n.inputs a\n.outputs y\n.mlatch a y 0\n.end\n", 4, ".mlatch");
    bad_blif(".model m\n.inputs a\n.outputs y\n.subckt sub x=a y=y\n.end\n", 4, ".subckt");
    bad_blif(".model m\n.inputs a\n.outputs y\n.gate and2 A=a B=a O=y\n.end\n", 4, ".gate");
    bad_blif(".model m\n.inputs a\n.outputs y\n.names a y\n1 1\n.end\n.model n\n.end\n", 7,
             "several models");
    bad_blif(".model m\n.model n\n", 2, "several models");
    bad_blif(".model m\n.inputs a\n.outputs y\n.exdc\n.end\n", 4, "exdc");
    bad_blif(".model m\n.frobnicate\n.end\n", 2, "unknown");
    bad_blif(".model m\n.inputs a\n.outputs y\n.names a y\n1 1\n.end\nstray\n", 7, "after .end");
}

static void blif_bad_netlists(void **state)
{
    (void)state;
    bad_blif(".model m\n.inputs a\n.outputs y\n.names a q y\n11 1\n.end\n", 4, "'q' is used");
    bad_blif(".model m\n.inputs a\n.outputs y z\n.names a y\n1 1\n.end\n", 3,
             "output 'z' is never defined");
    bad_blif(".model m\n.inputs a\n.outputs y\n.names a y\n1 1\n.names a y\n0 1\n.end\n", 6,
             "defined twice (first on line 4)");
    bad_blif(".model m\n.inputs a\n.outputs a\n.names a\n1\n.end\n", 4, "defined twice");
    bad_blif(".model m\n.inputs a b\n.inputs a\n.outputs b\n.end\n", 3, "defined twice");
    bad_blif(".model m\n.inputs a\n.outputs y y\n.names a y\n1 1\n.end\n", 3, "listed twice");
    bad_blif(".model m\n.inputs a\n.outputs y\n.names a z y\n11 1\n.names y a z\n11 1\n.end\n",
             4, "cycle");
    bad_blif(".model m\n.inputs a\n.outputs y\n.names y a y\n11 1\n.end\n", 4, "cycle");
}

static void blif_bad_rows(void **state)
{
    (void)state;
    bad_blif(".model m\n.inputs a b\n.outputs y\n.names a b y\n1 1\n.end\n", 5, "2 inputs");
    bad_blif(".model m\n.inputs a b\n.outputs y\n.names a b y\n111 1\n.end\n", 5, "columns");
    bad_blif(".model m\n.inputs a b\n.outputs y\n.names a b y\n1x 1\n.end\n", 5, "character 'x'");
    bad_blif(".model m\n.inputs a b\n.outputs y\n.names a b y\n11 2\n.end\n", 5, "not 0 or 1");
    bad_blif(".model m\n.inputs a b\n.outputs y\n.names a b y\n11\n.end\n", 5, "output value");
    bad_blif(".model m\n.inputs a b\n.outputs y\n.names a b y\n11 1\n00 0\n.end\n", 6, "mixes");
    bad_blif(".model m\n.inputs a b\n.outputs y\n.names y\n1 1\n.end\n", 5, "single output");
    bad_blif(".model m\n.inputs a\n11 1\n.end\n", 3, "outside a .names");
    bad_blif(".model m\n.names\n.end\n", 2, "output signal");
    /* line numbers count the physical lines of continued logical lines */
    bad_blif(".model m\n.inputs a \\\n b \\\n c\n.outputs y\n.names a b \\\n c y\n1 1\n.end\n",
             8, "columns");
    static const char nul[] = ".model m\n.inputs a\n.outputs y\n.names a y\n1 1\n.end\n\0\n";
    expect_bad_at(dlm_blif_read, write_bytes("nul.blif", nul, sizeof nul - 1), 7, "NUL");
}

// ---- EPFL benchmarks against berkeley-abc --------------------------------------------

/* Parses ABC's print_stats: i/o = I/ O, "and = N" and "lev = D" (-1 when absent). */
static int abc_stats_lev(const char *path, unsigned *ni, unsigned *no, long *nand, long *lev)
{
    char out[8192];
    int rc = dlm_test_sh(out, sizeof out,
                         "berkeley-abc -q \"read %s; print_stats\" | sed 's/\\x1b\\[[0-9;]*m//g'",
                         path);
    const char *io = strstr(out, "i/o =");
    if (rc != 0 || !io || sscanf(io, "i/o = %u/ %u", ni, no) != 2) {
        print_error("abc print_stats on %s: %s\n", path, out);
        return 0;
    }
    const char *a = strstr(out, " and =");
    *nand = a ? strtol(a + 6, NULL, 10) : -1;
    const char *l = strstr(out, " lev =");
    *lev = l ? strtol(l + 6, NULL, 10) : -1;
    return 1;
}

static int abc_stats(const char *path, unsigned *ni, unsigned *no, long *nand)
{
    long lev;
    return abc_stats_lev(path, ni, no, nand, &lev);
}

static void skip_without_abc(void)
{
    if (!dlm_test_have_abc()) {
        print_message("berkeley-abc not installed (Debian package berkeley-abc): skipped\n");
        skip();
    }
    struct stat st;
    if (stat(DLM_EPFL, &st) != 0) fail_msg("%s not found (it is part of the tree)", DLM_EPFL);
}

static unsigned count_ands(const dlm_circuit *c)
{
    unsigned n = 0;
    for (uint32_t i = 1; i < c->nnodes; i++) n += c->g[i].type == DLM_G_AND;
    return n;
}

/* Calls fn on every file with suffix ext under DLM_EPFL/sub (sorted names). */
static unsigned for_each_file(const char *sub, const char *ext, void (*fn)(const char *path))
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", DLM_EPFL, sub);
    struct dirent **list;
    int n = scandir(dir, &list, NULL, alphasort);
    assert_true(n >= 0);
    unsigned done = 0;
    for (int i = 0; i < n; i++) {
        const char *nm = list[i]->d_name;
        size_t l = strlen(nm), m = strlen(ext);
        if (l > m && strcmp(nm + l - m, ext) == 0) {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, nm);
            fn(path);
            done++;
        }
        free(list[i]);
    }
    free(list);
    return done;
}

static void check_aig_stats(const char *path)
{
    dlm_circuit c;
    read_ok(dlm_aiger_read, &c, path);
    unsigned ni, no;
    long na, lev;
    assert_true(abc_stats_lev(path, &ni, &no, &na, &lev));
    dlm_levels lv;
    dlm_err e;
    assert_int_equal(dlm_levelize(&c, &lv, &e), DLM_OK);
    if (c.ncoins != ni || c.nout != no || (long)count_ands(&c) != na || (long)lv.depth != lev) {
        print_error("%s: dlmsim %u/%u and %u lev %u, abc %u/%u and %ld lev %ld\n", path, c.ncoins,
                    c.nout, count_ands(&c), lv.depth, ni, no, na, lev);
        fail();
    }
    dlm_levels_free(&lv);
    assert_int_equal(c.nnodes, 1 + c.ncoins + count_ands(&c));
    dlm_circuit_free(&c);
}

static void check_blif_stats(const char *path)
{
    dlm_circuit c;
    read_ok(dlm_blif_read, &c, path);
    unsigned ni, no;
    long na;
    assert_true(abc_stats(path, &ni, &no, &na));
    if (c.ncoins != ni || c.nout != no) {
        print_error("%s: dlmsim %u/%u, abc %u/%u\n", path, c.ncoins, c.nout, ni, no);
        fail();
    }
    dlm_circuit_free(&c);
}

static void epfl_aig_stats_match_abc(void **state)
{
    (void)state;
    skip_without_abc();
    unsigned n = for_each_file("arithmetic", ".aig", check_aig_stats);
    n += for_each_file("random_control", ".aig", check_aig_stats);
    assert_true(n >= 17);
}

static void epfl_blif_stats_match_abc(void **state)
{
    (void)state;
    skip_without_abc();
    assert_true(for_each_file("blif", ".blif", check_blif_stats) >= 4);
}

static void assert_cec(const char *a, const char *b)
{
    char out[8192];
    dlm_test_sh(out, sizeof out, "berkeley-abc -q \"cec %s %s\" | sed 's/\\x1b\\[[0-9;]*m//g'",
                a, b);
    if (!strstr(out, "Networks are equivalent")) {
        print_error("abc cec %s %s: %s\n", a, b, out);
        fail();
    }
}

static unsigned char *slurp_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    assert_true(len >= 0);
    rewind(f);
    unsigned char *b = malloc((size_t)len + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* Reading an EPFL .aig and writing it back gives the same bytes up to the comment
 * section: same header, outputs, delta-encoded ANDs and symbol table. */
static void check_aig_rewrite(const char *path)
{
    dlm_circuit c;
    dlm_err e;
    read_ok(dlm_aiger_read, &c, path);
    const char *p = tpath("same.aig");
    write_ok(dlm_aiger_write(&c, p, 1, &e), &e);
    dlm_circuit_free(&c);
    size_t n0, n1;
    unsigned char *a = slurp_file(path, &n0), *b = slurp_file(p, &n1);
    static const char mark[] = "\nc\nwritten by dlmsim";
    size_t at = SIZE_MAX;
    for (size_t i = 0; i + sizeof mark - 1 <= n1 && at == SIZE_MAX; i++)
        if (memcmp(b + i, mark, sizeof mark - 1) == 0) at = i;
    assert_true(at != SIZE_MAX);
    if (n0 < at + 3 || memcmp(a, b, at + 3) != 0) {
        size_t i = 0;
        while (i < at + 3 && i < n0 && a[i] == b[i]) i++;
        print_error("%s: our rewrite differs at byte %zu (comment at %zu)\n", path, i, at);
        fail();
    }
    free(a);
    free(b);
}

static void epfl_aig_rewrite_is_byte_identical(void **state)
{
    (void)state;
    struct stat st;
    if (stat(DLM_EPFL, &st) != 0) fail_msg("%s not found (it is part of the tree)", DLM_EPFL);
    unsigned n = for_each_file("arithmetic", ".aig", check_aig_rewrite);
    n += for_each_file("random_control", ".aig", check_aig_rewrite);
    assert_true(n >= 17);
}

/* EPFL .aig -> dlmsim -> .aig and .blif, each proved equivalent to the original. */
static void epfl_written_back_is_equivalent(void **state)
{
    (void)state;
    skip_without_abc();
    static const char *const files[] = {"random_control/ctrl.aig", "random_control/dec.aig",
                                        "random_control/i2c.aig", "random_control/priority.aig",
                                        "random_control/router.aig", "arithmetic/adder.aig",
                                        "arithmetic/bar.aig", "arithmetic/sin.aig"};
    unsigned done = 0;
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char orig[512];
        snprintf(orig, sizeof orig, "%s/%s", DLM_EPFL, files[i]);
        if (access(orig, R_OK) != 0) continue; /* router is not in every checkout */
        dlm_circuit c;
        dlm_err e;
        read_ok(dlm_aiger_read, &c, orig);
        const char *pa = tpath("epfl.aig"), *pb = tpath("epfl.blif"), *pc = tpath("epfl.aag");
        write_ok(dlm_aiger_write(&c, pa, 1, &e), &e);
        write_ok(dlm_blif_write(&c, pb, &e), &e);
        write_ok(dlm_aiger_write(&c, pc, 0, &e), &e);
        assert_cec(orig, pa);
        assert_cec(orig, pb);
        /* our .aig is the same graph: same counts; the ascii copy reads back the same */
        dlm_circuit d;
        read_ok(dlm_aiger_read, &d, pc);
        assert_int_equal(d.nnodes, c.nnodes);
        assert_int_equal(count_ands(&d), count_ands(&c));
        assert_memory_equal(d.out, c.out, c.nout * sizeof *c.out);
        dlm_circuit_free(&d);
        dlm_circuit_free(&c);
        done++;
    }
    assert_true(done >= 7);
}

/* EPFL .blif -> dlmsim -> .aig, equivalent to the EPFL .aig of the same circuit; and the
 * two readers agree exhaustively where the inputs are few. */
static void epfl_blif_matches_aig(void **state)
{
    (void)state;
    skip_without_abc();
    static const char *const pairs[][2] = {{"blif/ctrl.blif", "random_control/ctrl.aig"},
                                           {"blif/dec.blif", "random_control/dec.aig"},
                                           {"blif/priority.blif", "random_control/priority.aig"},
                                           {"blif/adder.blif", "arithmetic/adder.aig"}};
    for (size_t i = 0; i < 4; i++) {
        char bl[512], ai[512];
        snprintf(bl, sizeof bl, "%s/%s", DLM_EPFL, pairs[i][0]);
        snprintf(ai, sizeof ai, "%s/%s", DLM_EPFL, pairs[i][1]);
        dlm_circuit c, d;
        dlm_err e;
        read_ok(dlm_blif_read, &c, bl);
        const char *pa = tpath("fromblif.aig"), *pb = tpath("fromblif.blif");
        write_ok(dlm_aiger_write(&c, pa, 1, &e), &e);
        write_ok(dlm_blif_write(&c, pb, &e), &e);
        assert_cec(ai, pa);
        assert_cec(bl, pb);
        read_ok(dlm_aiger_read, &d, ai);
        if (c.ncoins <= 12) assert_equiv(&c, &d);
        dlm_circuit_free(&c);
        dlm_circuit_free(&d);
    }
}

/* A circuit of XOR / OR / LUT gates written as .aig and .blif: ABC proves them equal. */
static void abc_cec_of_our_two_writers(void **state)
{
    (void)state;
    skip_without_abc();
    dlm_circuit c;
    dlm_err e;
    build_mixed(&c, 1);
    const char *pa = tpath("mixed.aig"), *pb = tpath("mixed.blif");
    write_ok(dlm_aiger_write(&c, pa, 1, &e), &e);
    write_ok(dlm_blif_write(&c, pb, &e), &e);
    assert_cec(pa, pb);
    dlm_circuit_free(&c);
    for (uint64_t seed = 100; seed < 104; seed++) {
        build_random(&c, seed, 10, 80, 12, 1);
        write_ok(dlm_aiger_write(&c, pa, 1, &e), &e);
        write_ok(dlm_blif_write(&c, pb, &e), &e);
        assert_cec(pa, pb);
        dlm_circuit_free(&c);
    }
}

/* The example circuits shipped in circuits/ all read. */
static void example_circuits_read(void **state)
{
    (void)state;
    static const char *const files[] = {"circuits/and2.aag", "circuits/xor2.aag",
                                        "circuits/full_adder.aag", "circuits/full_adder.aig",
                                        "circuits/maj3.blif", "circuits/parity4.blif"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        dlm_circuit c;
        dlm_err e;
        assert_int_equal(dlm_circuit_load(&c, files[i], 0, &e), DLM_OK);
        assert_true(c.ncoins > 0 && c.nout > 0);
        for (uint64_t x = 0; x < (UINT64_C(1) << c.ncoins); x++) {
            unsigned pc = (unsigned)__builtin_popcountll(x), want;
            switch (i) {
            case 0: want = x == 3; break;                       /* and2 */
            case 1: want = pc & 1; break;                       /* xor2 */
            case 4: want = pc >= 2; break;                      /* maj3 */
            case 5: want = pc & 1; break;                       /* parity4 */
            default: want = (pc & 1) | ((pc >> 1) << 1); break; /* full adder */
            }
            assert_int_equal(outputs_of(&c, x), want);
        }
        dlm_circuit_free(&c);
    }
    dlm_circuit a, b;
    read_ok(dlm_aiger_read, &a, "circuits/full_adder.aag");
    read_ok(dlm_aiger_read, &b, "circuits/full_adder.aig");
    assert_equiv(&a, &b);
    for (uint64_t x = 0; x < 8; x++) {
        unsigned s = (unsigned)__builtin_popcountll(x);
        assert_int_equal(outputs_of(&a, x), (s & 1) | ((s >> 1) << 1));
    }
    dlm_circuit_free(&a);
    dlm_circuit_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_mixed),
        cmocka_unit_test(round_trip_random),
        cmocka_unit_test(round_trip_edge_cases),
        cmocka_unit_test(aiger_writer_order),
        cmocka_unit_test(writers_refuse_biased_coins),
        cmocka_unit_test(io_errors),
        cmocka_unit_test(aag_any_order_and_symbols),
        cmocka_unit_test(aag_header_variants),
        cmocka_unit_test(aig_binary_example),
        cmocka_unit_test(aiger_bad_header),
        cmocka_unit_test(aiger_refuses_sequential),
        cmocka_unit_test(aiger_limits),
        cmocka_unit_test(aiger_bad_records),
        cmocka_unit_test(aiger_bad_symbols),
        cmocka_unit_test(aig_bad_binary),
        cmocka_unit_test(blif_features),
        cmocka_unit_test(blif_refuses),
        cmocka_unit_test(blif_bad_netlists),
        cmocka_unit_test(blif_bad_rows),
        cmocka_unit_test(example_circuits_read),
        cmocka_unit_test(epfl_aig_stats_match_abc),
        cmocka_unit_test(epfl_blif_stats_match_abc),
        cmocka_unit_test(epfl_aig_rewrite_is_byte_identical),
        cmocka_unit_test(epfl_written_back_is_equivalent),
        cmocka_unit_test(epfl_blif_matches_aig),
        cmocka_unit_test(abc_cec_of_our_two_writers),
        cmocka_unit_test(readers_bounded_and_refuse_devices),
        cmocka_unit_test(outputs_replace_only_regular_files),
        cmocka_unit_test(out_replaces_only_when_whole),
    };
    return cmocka_run_group_tests_name("io", tests, NULL, NULL);
}
