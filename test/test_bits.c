/* test_bits.c — the bit-sliced CPU engine (host/engine/engine_bits.c) against the byte
 * engine (host/engine/engine_cpu.c, the reference): for every generator of test_engine.c and
 * every EPFL circuit, in every mode, the packed samples and all counts (histogram where
 * nout <= 24, ones, odd parity, chains) are equal byte for byte, for chain ranges that
 * start at 0, at 64 and at an unaligned chain (partial first and last words), with 1
 * and 2 threads and two tile sizes; also with biased coins; the slot plan stays within
 * L and about the width. The word step itself is checked against the byte step on
 * random operations (LUTs of 0..6 inputs, counters, coins). Build and run: make CUDA=0 build/test/test_bits && ./build/test/test_bits */
#include "dlm_test.h"
#include "dlm_engine.h"
#include "dlm_level.h"
#include "dlm_program.h"
#include "dlm_slots.h"

#include <glob.h>

// ---------------------------------------------------------------- helpers

typedef struct {
    dlm_counts k;
    uint8_t *smp;
} result;

/* Runs chains [first, first + chains) on the byte (ref = 1) or the bit-sliced engine;
 * tile_words > 0 sets max_bytes so that tiles hold that many words (bit-sliced) or
 * 64 * tile_words chains (byte engine). */
static void run_engine(int ref, const dlm_program *p, uint64_t first, uint64_t chains,
                       int threads, uint64_t tile_words, uint64_t seed, result *r)
{
    dlm_err e;
    int hist = p->nout <= DLM_HIST_MAX_BITS;
    assert_int_equal(dlm_counts_init(&r->k, p->nout, hist, &e), DLM_OK);
    size_t sb = dlm_sample_bytes(p);
    r->smp = calloc(chains ? chains : 1, sb ? sb : 1);
    assert_non_null(r->smp);
    dlm_run_opts o;
    memset(&o, 0, sizeof o);
    o.first_chain = first;
    o.chains = chains;
    o.seed = seed;
    o.want_hist = hist;
    o.samples = r->smp;
    o.threads = threads;
    /* bytes per word: L tokens of 64 chains (byte engine), planned slots (bit-sliced) */
    uint64_t L = p->L ? p->L : 1;
    if (!ref) {
        dlm_slot_plan sp;
        assert_int_equal(dlm_slot_plan_build(p, &sp, &e), DLM_OK);
        L = sp.nslots;
        dlm_slot_plan_free(&sp);
    }
    if (tile_words) o.max_bytes = (uint64_t)(threads ? threads : 1) * tile_words * 8 * L;
    dlm_status s = ref ? dlm_engine_cpu_run(p, &o, &r->k, &e) : dlm_engine_bits_run(p, &o, &r->k, &e);
    if (s) fail_msg("%s engine: %s", ref ? "byte" : "bits", e.msg);
}

static void result_free(result *r)
{
    dlm_counts_free(&r->k);
    free(r->smp);
}

/* Compares two results exactly; on a sample mismatch prints the first (chain, output)
 * and up to 5 more. */
static void same_result(const char *what, const dlm_program *p, uint64_t first, uint64_t chains,
                        const result *want, const result *got)
{
    size_t sb = dlm_sample_bytes(p);
    uint64_t mism = 0;
    for (uint64_t i = 0; i < chains; i++)
        for (uint32_t k = 0; k < p->nout; k++) {
            unsigned a = (want->smp[i * sb + k / 8] >> (k % 8)) & 1u;
            unsigned b = (got->smp[i * sb + k / 8] >> (k % 8)) & 1u;
            if (a != b && mism++ < 6)
                print_error("%s: chain %llu output %u: byte engine %u, bit-sliced %u\n", what,
                            (unsigned long long)(first + i), k, a, b);
        }
    if (mism) fail_msg("%s: %llu sample bits differ", what, (unsigned long long)mism);
    assert_memory_equal(want->smp, got->smp, chains * sb);
    assert_int_equal(want->k.chains, got->k.chains);
    assert_int_equal(got->k.chains, chains);
    if (want->k.odd_parity != got->k.odd_parity)
        fail_msg("%s: odd parity %llu vs %llu", what, (unsigned long long)want->k.odd_parity,
                 (unsigned long long)got->k.odd_parity);
    if (p->nout) assert_memory_equal(want->k.ones, got->k.ones, (size_t)p->nout * 8);
    if (want->k.hist) assert_memory_equal(want->k.hist, got->k.hist, ((size_t)1 << p->nout) * 8);
}

/* The slot plan keeps live values only: never more slots than positions, and in
 * every mode about the circuit's width (here at most 2 w + 8, where cot and ar have
 * L = N), which is what lets a tile of a large circuit stay in cache; no remask is
 * left. That the renamed program gives the same samples is what the callers check. */
static void slot_plan_bounds(const loaded *L, const dlm_program *p)
{
    dlm_err e;
    dlm_slot_plan sp;
    assert_int_equal(dlm_slot_plan_build(p, &sp, &e), DLM_OK);
    if (sp.nslots > (p->L ? p->L : 1) || sp.nslots > 2 * L->lv.width + 8 || sp.nops > p->nops)
        fail_msg("%s %s: %u slots, %llu ops (L %u, w %u, %llu ops)", L->c.source,
                 dlm_mode_name(p->mode), sp.nslots, (unsigned long long)sp.nops, p->L, L->lv.width,
                 (unsigned long long)p->nops);
    for (uint64_t i = 0; i < sp.nops; i++) assert_true(sp.ops[i].kind != DLM_OP_REMASK);
    dlm_slot_plan_free(&sp);
}

/* One circuit, every mode: bit-sliced == byte for three ranges, 1 and 2 threads,
 * tiles of 1 and 3 words and the default tile. */
static void bits_equal_ref_all_modes(const loaded *L, uint64_t chains, uint64_t seed)
{
    const uint64_t firsts[3] = {0, 64, 37};
    for (int m = 0; m < DLM_NMODES; m++) {
        dlm_err e;
        dlm_program p;
        if (dlm_compile(&L->c, &L->lv, (dlm_mode)m, &p, &e))
            fail_msg("%s %s: %s", L->c.source, dlm_mode_name((dlm_mode)m), e.msg);
        slot_plan_bounds(L, &p);
        for (int f = 0; f < 3; f++) {
            result ref;
            run_engine(1, &p, firsts[f], chains, 1, 0, seed, &ref);
            for (int th = 1; th <= 2; th++)
                for (int t = 0; t < 3; t++) {
                    const uint64_t tiles[3] = {0, 1, 3};
                    result got;
                    run_engine(0, &p, firsts[f], chains, th, tiles[t], seed, &got);
                    char what[512];
                    snprintf(what, sizeof what, "%s %s first %llu threads %d tile %llu",
                             L->c.source, dlm_mode_name((dlm_mode)m),
                             (unsigned long long)firsts[f], th, (unsigned long long)tiles[t]);
                    same_result(what, &p, firsts[f], chains, &ref, &got);
                    result_free(&got);
                }
            result_free(&ref);
        }
        dlm_program_free(&p);
    }
}

/* Sets coin k's threshold the way dlm_verify_inject_bias does: coin_cap entries of
 * DLM_COIN_FAIR, then one changed. */
static void bias_coin(dlm_circuit *c, uint32_t k, uint64_t thr)
{
    if (!c->coin_thr) {
        c->coin_thr = malloc((c->coin_cap ? c->coin_cap : 1) * sizeof *c->coin_thr);
        assert_non_null(c->coin_thr);
        for (uint32_t i = 0; i < c->coin_cap; i++) c->coin_thr[i] = DLM_COIN_FAIR;
    }
    c->coin_thr[k] = thr;
}

static const char *const gens[] = {
    "gen:parity-tree:9",    "gen:parity-chain:7", "gen:parity-revise:12", "gen:parity-revise:2",
    "gen:adder-ripple:6",   "gen:adder-prefix:8", "gen:mult:4",           "gen:maj:7",
    "gen:random:6,5,1",     "gen:random:1,1,7",   "gen:random:16,40,3",
};

// ---------------------------------------------------------------- tests

/* The word step equals the byte step chain by chain on random operations. */
static void word_step_equals_byte_step(void **state)
{
    (void)state;
    uint64_t x = UINT64_C(0x9E3779B97F4A7C15);
#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
    enum { NPOS = 12 };
    for (int it = 0; it < 20000; it++) {
        uint64_t val[NPOS];
        uint8_t tok[NPOS * 64];
        for (unsigned q = 0; q < NPOS; q++) {
            val[q] = RND();
            for (unsigned i = 0; i < 64; i++) tok[q * 64 + i] = (uint8_t)((val[q] >> i) & 1u);
        }
        dlm_op op;
        memset(&op, 0, sizeof op);
        op.pos = (uint32_t)(RND() % NPOS);
        unsigned kind = (unsigned)(RND() % 8);
        uint64_t chain0 = (RND() % 100000) * 64, seed = RND();
        if (kind < 5) { /* gate, 0..6 inputs (repeats and its own position allowed) */
            op.kind = DLM_OP_GATE;
            op.nin = (uint8_t)(RND() % 7);
            for (unsigned j = 0; j < op.nin; j++) op.in[j] = (uint32_t)(RND() % NPOS);
            op.arg = RND();
            if (it % 7 == 0) op.arg = 0;
            if (it % 11 == 0) op.arg = ~UINT64_C(0);
        } else if (kind == 5) {
            op.kind = DLM_OP_INC;
            op.nin = (uint8_t)(RND() % 6);
            op.arg = RND() % (NPOS - op.nin);
        } else if (kind == 6) {
            op.kind = DLM_OP_COIN;
            op.arg = RND() % 1000;
            op.thr = (it % 3) ? DLM_COIN_FAIR : RND() % (UINT64_C(1) << 32);
        } else {
            op.kind = DLM_OP_REMASK;
        }
        uint64_t w = dlm_step_op_word(&op, val, chain0, seed);
        for (unsigned i = 0; i < 64; i++) {
            unsigned want = dlm_step_op(&op, tok + i, 64, chain0 + i, seed) & 1u;
            unsigned got = (unsigned)((w >> i) & 1u);
            if (want != got)
                fail_msg("op kind %u nin %u arg %llx chain %llu: byte %u, word %u", op.kind, op.nin,
                         (unsigned long long)op.arg, (unsigned long long)(chain0 + i), want, got);
        }
    }
#undef RND
}

static void generators_bits_equal_ref(void **state)
{
    (void)state;
    for (size_t g = 0; g < sizeof gens / sizeof *gens; g++) {
        loaded L;
        load_ok(gens[g], &L);
        bits_equal_ref_all_modes(&L, 1000, 7);
        unload(&L);
    }
}

static void epfl_bits_equal_ref(void **state)
{
    (void)state;
    glob_t gl;
    if (glob(DLM_EPFL "/*/*.aig", 0, NULL, &gl) != 0) fail_msg("no %s/*/*.aig", DLM_EPFL);
    assert_int_equal(gl.gl_pathc, 17);
    for (size_t i = 0; i < gl.gl_pathc; i++) {
        loaded L;
        load_ok(gl.gl_pathv[i], &L);
        /* Fewer chains for the large circuits (the byte engine is the slow side); 200
         * chains from 37 still have a partial first and last word. */
        uint64_t chains = L.lv.size > 20000 ? 200 : 1000;
        bits_equal_ref_all_modes(&L, chains, 11);
        unload(&L);
    }
    globfree(&gl);
}

/* Collapsed triples (engine_bits.c): an AIG's XORs, written as three ANDs, run as one
 * XOR gate. A ^ B; XNOR(~(A ^ B), C) with Q's inputs in the other order (Q = C & ~X,
 * P = X & ~C: asymmetric, so the order matters) and its P and Q reading a collapsed gate; a triple whose P is also an output (not collapsed); one
 * whose function is the constant 0 (no fast form: not collapsed). Bit-sliced == byte. */
static void collapsed_xors_bits_equal_ref(void **state)
{
    (void)state;
    const char *aag = "aag 15 3 0 5 12\n2\n4\n6\n13\n18\n20\n24\n30\n"
                      "8 2 5\n10 3 4\n12 9 11\n"      /* 13 = a ^ b */
                      "14 12 7\n16 6 13\n18 15 17\n"  /* 18 = XNOR(~(a ^ b), c) */
                      "20 2 6\n22 3 7\n24 21 23\n"    /* 24 = XNOR(a, c), P an output */
                      "26 4 6\n28 4 7\n30 26 28\n";   /* 30 = 0 */
    loaded L;
    load_ok(dlm_test_file("xors.aag", aag), &L);
    bits_equal_ref_all_modes(&L, 1000, 5);
    unload(&L);
}

/* A caller's plan (dlm_bits_plan_build, from the slot plan or from p alone) gives what
 * the engine's own per-call plan gives, over two calls that split the range. */
static void bits_plan_given_equals_own(void **state)
{
    (void)state;
    const char *specs[] = {"gen:mult:4", "gen:adder-ripple:6", "gen:random:6,5,1"};
    for (size_t g = 0; g < sizeof specs / sizeof *specs; g++) {
        loaded L;
        load_ok(specs[g], &L);
        for (int m = 0; m < DLM_NMODES; m++) {
            dlm_err e;
            dlm_program p;
            dlm_slot_plan sp;
            if (dlm_compile(&L.c, &L.lv, (dlm_mode)m, &p, &e)) fail_msg("%s: %s", specs[g], e.msg);
            assert_int_equal(dlm_slot_plan_build(&p, &sp, &e), DLM_OK);
            result want;
            run_engine(0, &p, 37, 1000, 2, 0, 3, &want);
            for (int from_sp = 0; from_sp < 2; from_sp++) {
                dlm_bits_plan *bp = NULL;
                assert_int_equal(dlm_bits_plan_build(&p, from_sp ? &sp : NULL, &bp, &e), DLM_OK);
                result got;
                assert_int_equal(dlm_counts_init(&got.k, p.nout, p.nout <= DLM_HIST_MAX_BITS, &e), DLM_OK);
                const size_t sb = dlm_sample_bytes(&p);
                got.smp = calloc(1000, sb ? sb : 1);
                assert_non_null(got.smp);
                for (int half = 0; half < 2; half++) {
                    dlm_run_opts o;
                    memset(&o, 0, sizeof o);
                    o.first_chain = 37 + 500 * (uint64_t)half;
                    o.chains = 500;
                    o.seed = 3;
                    o.want_hist = p.nout <= DLM_HIST_MAX_BITS;
                    o.samples = got.smp + 500 * (size_t)half * sb;
                    o.threads = 2;
                    o.plan = from_sp ? &sp : NULL;
                    o.bits = bp;
                    assert_int_equal(dlm_engine_bits_run(&p, &o, &got.k, &e), DLM_OK);
                }
                same_result(specs[g], &p, 37, 1000, &want, &got);
                result_free(&got);
                dlm_bits_plan_free(bp);
            }
            result_free(&want);
            dlm_slot_plan_free(&sp);
            dlm_program_free(&p);
        }
        unload(&L);
    }
}

/* Biased coins (per-chain words) next to fair ones. */
static void biased_coins_bits_equal_ref(void **state)
{
    (void)state;
    const char *specs[] = {"gen:parity-revise:12", "gen:adder-ripple:6", "gen:random:6,5,1",
                           DLM_EPFL "/random_control/ctrl.aig"};
    for (size_t s = 0; s < sizeof specs / sizeof *specs; s++) {
        if (strncmp(specs[s], "gen:", 4) != 0 && access(specs[s], R_OK) != 0) {
            print_message("%s not found: not checked with biased coins\n", specs[s]);
            continue; /* the generators above still ran */
        }
        loaded L;
        load_ok(specs[s], &L);
        assert_true(L.c.ncoins >= 2);
        bias_coin(&L.c, 1, UINT64_C(0x60000000)); /* P(1) = 3/8 */
        bias_coin(&L.c, L.c.ncoins - 1, UINT64_C(0xF0000000));
        bits_equal_ref_all_modes(&L, 1000, 3);
        unload(&L);
    }
}

/* Coin-heavy runs of many lengths: the engine's vector Philox (whole vectors of 4 or
 * 8 blocks, two in flight, then single blocks) and its counting loops (the live mask
 * of a tile's first and last word, negated outputs) against the byte engine, at range
 * starts that begin with an upper half-block, in a chain range whose block numbers
 * need 33 bits, under a seed with both key words set, 1 and 2 threads, default and
 * 19-word tiles. */
static void coin_runs_equal_ref(void **state)
{
    (void)state;
    const char *specs[] = {"gen:parity-revise:16", "gen:random:16,3,2",
                           DLM_EPFL "/random_control/ctrl.aig"}; /* 6 of 26 outputs negated */
    const uint64_t firsts[] = {0, 64, 37, 64 * 21, (UINT64_C(1) << 39) + 101};
    const uint64_t lens[] = {64, 64 * 17 + 5, 64 * 40 + 1, 64 * 33, 64 * 64 + 63};
    const uint64_t seed = UINT64_C(0x9E3779B97F4A7C15);
    for (size_t s = 0; s < sizeof specs / sizeof *specs; s++) {
        if (strncmp(specs[s], "gen:", 4) != 0 && access(specs[s], R_OK) != 0) {
            print_message("%s not found: not checked\n", specs[s]);
            continue;
        }
        loaded L;
        load_ok(specs[s], &L);
        dlm_err e;
        dlm_program p;
        if (dlm_compile(&L.c, &L.lv, DLM_MODE_REVISE, &p, &e)) fail_msg("%s: %s", specs[s], e.msg);
        for (size_t f = 0; f < sizeof firsts / sizeof *firsts; f++)
            for (size_t c = 0; c < sizeof lens / sizeof *lens; c++) {
                result ref;
                run_engine(1, &p, firsts[f], lens[c], 1, 0, seed, &ref);
                for (int th = 1; th <= 2; th++)
                    for (uint64_t t = 0; t <= 19; t += 19) {
                        result got;
                        run_engine(0, &p, firsts[f], lens[c], th, t, seed, &got);
                        char what[256];
                        snprintf(what, sizeof what, "%s first %llu chains %llu threads %d tile %llu",
                                 specs[s], (unsigned long long)firsts[f],
                                 (unsigned long long)lens[c], th, (unsigned long long)t);
                        same_result(what, &p, firsts[f], lens[c], &ref, &got);
                        result_free(&got);
                    }
                result_free(&ref);
            }
        dlm_program_free(&p);
        unload(&L);
    }
}

/* Any split of a range into calls gives the same counts; an empty range counts nothing;
 * a budget below one 64-chain word is refused. */
static void splits_empty_and_budget(void **state)
{
    (void)state;
    loaded L;
    load_ok("gen:adder-prefix:5", &L);
    dlm_err e;
    dlm_program p;
    assert_int_equal(dlm_compile(&L.c, &L.lv, DLM_MODE_REVISE, &p, &e), DLM_OK);
    result whole, ref;
    run_engine(0, &p, 5, 5000, 2, 0, 99, &whole);
    run_engine(1, &p, 5, 5000, 1, 0, 99, &ref);
    same_result("whole", &p, 5, 5000, &ref, &whole);
    dlm_counts k;
    assert_int_equal(dlm_counts_init(&k, p.nout, 1, &e), DLM_OK);
    size_t sb = dlm_sample_bytes(&p);
    uint8_t *smp = calloc(5000, sb);
    for (uint64_t c0 = 5; c0 < 5005; c0 += 1237) {
        dlm_run_opts o;
        memset(&o, 0, sizeof o);
        o.first_chain = c0;
        o.chains = 5005 - c0 < 1237 ? 5005 - c0 : 1237;
        o.seed = 99;
        o.want_hist = 1;
        o.samples = smp + (c0 - 5) * sb;
        assert_int_equal(dlm_engine_bits_run(&p, &o, &k, &e), DLM_OK);
    }
    assert_memory_equal(smp, whole.smp, 5000 * sb);
    assert_memory_equal(k.hist, whole.k.hist, ((size_t)1 << p.nout) * 8);
    assert_memory_equal(k.ones, whole.k.ones, p.nout * 8);
    assert_int_equal(k.odd_parity, whole.k.odd_parity);
    assert_int_equal(k.chains, 5000);
    /* Empty range. */
    dlm_counts z;
    assert_int_equal(dlm_counts_init(&z, p.nout, 1, &e), DLM_OK);
    dlm_run_opts o;
    memset(&o, 0, sizeof o);
    o.first_chain = 123;
    assert_int_equal(dlm_engine_bits_run(&p, &o, &z, &e), DLM_OK);
    assert_int_equal(z.chains, 0);
    /* Budget below one word of 64 chains (8 bytes a value slot; the engine's fused plan
     * may hold fewer slots than the program's L positions, so below any plan's word). */
    o.chains = 10;
    o.max_bytes = 7;
    assert_int_equal(dlm_engine_bits_run(&p, &o, &z, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "budget"));
    assert_int_equal(z.chains, 0);
    dlm_counts_free(&z);
    dlm_counts_free(&k);
    free(smp);
    result_free(&whole);
    result_free(&ref);
    dlm_program_free(&p);
    unload(&L);
}

/* The CPU backend is the bit-sliced engine, cpu-ref the byte engine: both resolve to
 * themselves, dispatch, and agree. */
static void backends_cpu_and_cpu_ref(void **state)
{
    (void)state;
    dlm_err e;
    dlm_backend got = DLM_BACKEND_AUTO;
    assert_int_equal(dlm_backend_resolve(DLM_BACKEND_CPU_REF, &got, NULL, 0, &e), DLM_OK);
    assert_int_equal(got, DLM_BACKEND_CPU_REF);
    assert_int_equal(dlm_backend_resolve(DLM_BACKEND_CPU, &got, NULL, 0, &e), DLM_OK);
    assert_int_equal(got, DLM_BACKEND_CPU);
    loaded L;
    load_ok("gen:mult:4", &L);
    dlm_program p;
    assert_int_equal(dlm_compile(&L.c, &L.lv, DLM_MODE_REMASK, &p, &e), DLM_OK);
    dlm_counts a, b;
    assert_int_equal(dlm_counts_init(&a, p.nout, 1, &e), DLM_OK);
    assert_int_equal(dlm_counts_init(&b, p.nout, 1, &e), DLM_OK);
    dlm_run_opts o;
    memset(&o, 0, sizeof o);
    o.first_chain = 1000;
    o.chains = 3001;
    o.want_hist = 1;
    assert_int_equal(dlm_engine_run(DLM_BACKEND_CPU, &p, &o, &a, &e), DLM_OK);
    assert_int_equal(dlm_engine_run(DLM_BACKEND_CPU_REF, &p, &o, &b, &e), DLM_OK);
    assert_memory_equal(a.hist, b.hist, ((size_t)1 << p.nout) * 8);
    assert_int_equal(a.odd_parity, b.odd_parity);
    dlm_counts_free(&a);
    dlm_counts_free(&b);
    dlm_program_free(&p);
    unload(&L);
}

/* The CLI accepts --backend cpu-ref, names it in the JSON, and both CPU backends give
 * the same odd-parity count. Skipped when the CLI binary was not built. */
static void cli_backend_cpu_ref(void **state)
{
    (void)state;
    if (access(DLM_BIN, X_OK) != 0) {
        print_message("%s not built: skipped\n", DLM_BIN);
        skip();
    }
    char out[4096];
    const char *be[2] = {"cpu", "cpu-ref"};
    char odd[2][64];
    for (int i = 0; i < 2; i++) {
        int rc = dlm_test_sh(out, sizeof out,
                             "%s run gen:parity-revise:16 --mode revise --chains 10001 --seed 4 "
                             "--quiet --json --backend %s", DLM_BIN, be[i]);
        assert_int_equal(rc, 0);
        char key[64];
        snprintf(key, sizeof key, "\"backend\":\"%s\"", be[i]);
        if (!strstr(out, key)) fail_msg("no %s in %s", key, out);
        const char *q = strstr(out, "\"odd_parity\":");
        assert_non_null(q);
        snprintf(odd[i], sizeof odd[i], "%.20s", q);
    }
    assert_string_equal(odd[0], odd[1]);
    int rc = dlm_test_sh(out, sizeof out, "%s run gen:parity-revise:4 --backend cpu-fast", DLM_BIN);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(out, "cpu-ref"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(word_step_equals_byte_step),
        cmocka_unit_test(generators_bits_equal_ref),
        cmocka_unit_test(collapsed_xors_bits_equal_ref),
        cmocka_unit_test(bits_plan_given_equals_own),
        cmocka_unit_test(biased_coins_bits_equal_ref),
        cmocka_unit_test(coin_runs_equal_ref),
        cmocka_unit_test(splits_empty_and_budget),
        cmocka_unit_test(backends_cpu_and_cpu_ref),
        cmocka_unit_test(cli_backend_cpu_ref),
        cmocka_unit_test(epfl_bits_equal_ref),
    };
    return cmocka_run_group_tests_name("bits", tests, NULL, NULL);
}
