/* test_engine.c — levelizer, compiler, program checker, CPU engine and direct
 * evaluator: every mode on every generator and EPFL circuit equals the direct
 * evaluation bit for bit; counts do not depend on threads, tiles or batch splits;
 * the checker proves good programs and catches broken ones. */
#include "dlm_test.h"
#include "dlm_engine.h"
#include "dlm_eval.h"
#include "dlm_level.h"
#include "dlm_program.h"

#include <glob.h>
#include <math.h>


static uint32_t ceil_log2(uint64_t x)
{
    uint32_t b = 0;
    while ((UINT64_C(1) << b) < x) b++;
    return b;
}

/* Compiles, checks, runs `chains` chains on the CPU engine and compares every
 * output bit with the direct evaluator on the same coins. */
static void engine_equals_direct(const loaded *L, dlm_mode m, uint64_t chains, uint64_t seed)
{
    dlm_err e;
    dlm_program p;
    dlm_status s = dlm_compile(&L->c, &L->lv, m, &p, &e);
    if (s) fail_msg("%s %s: %s", L->c.source, dlm_mode_name(m), e.msg);
    s = dlm_program_check(&p, &L->lv, &e);
    if (s) fail_msg("%s %s: %s", L->c.source, dlm_mode_name(m), e.msg);
    /* The figures the theory states. */
    const dlm_levels *lv = &L->lv;
    switch (m) {
    case DLM_MODE_COT:
        assert_int_equal(p.rounds, lv->depth + 1);
        assert_int_equal(p.L, lv->size);
        break;
    case DLM_MODE_AR:
        assert_int_equal(p.rounds, lv->size);
        assert_int_equal(p.L, lv->size);
        break;
    case DLM_MODE_REMASK:
        assert_int_equal(p.rounds, lv->depth + 1);
        assert_int_equal(p.slots, lv->width);
        assert_true(p.counter_bits == 0 || p.counter_bits == ceil_log2((uint64_t)lv->depth + 1));
        assert_int_equal(p.L, 2 * lv->width + 2 * p.counter_bits);
        break;
    default:
        assert_int_equal(p.rounds, lv->depth + 1);
        assert_true(p.slots >= lv->width);
        assert_true(p.counter_bits == 0 || p.counter_bits == ceil_log2((uint64_t)lv->depth + 1));
        assert_int_equal(p.L, p.slots + p.counter_bits);
        break;
    }
    size_t sb = dlm_sample_bytes(&p);
    uint8_t *smp = calloc(chains, sb ? sb : 1);
    dlm_counts k;
    assert_int_equal(dlm_counts_init(&k, p.nout, 0, &e), DLM_OK);
    dlm_run_opts o;
    memset(&o, 0, sizeof o);
    o.chains = chains;
    o.seed = seed;
    o.samples = smp;
    s = dlm_engine_cpu_run(&p, &o, &k, &e);
    if (s) fail_msg("%s", e.msg);
    assert_int_equal(k.chains, chains);
    uint64_t *scratch = calloc(L->c.nnodes, 8), *ow = calloc(L->c.nout ? L->c.nout : 1, 8);
    uint64_t mism = 0, odd = 0;
    for (uint64_t c0 = 0; c0 < chains; c0 += 64) {
        dlm_eval_words(&L->c, seed, c0, NULL, scratch, ow);
        for (uint64_t i = 0; i < 64 && c0 + i < chains; i++) {
            unsigned par = 0;
            for (uint32_t j = 0; j < L->c.nout; j++) {
                unsigned want = (ow[j] >> i) & 1u;
                unsigned got = (smp[(c0 + i) * sb + j / 8] >> (j % 8)) & 1u;
                par ^= want;
                if (want != got && mism++ < 6)
                    print_error("%s %s: chain %llu output %u: direct %u, engine %u\n", L->c.source,
                                dlm_mode_name(m), (unsigned long long)(c0 + i), j, want, got);
            }
            odd += par;
        }
    }
    assert_int_equal(mism, 0);
    assert_int_equal(odd, k.odd_parity);
    free(scratch);
    free(ow);
    free(smp);
    dlm_counts_free(&k);
    dlm_program_free(&p);
}

static const char *const gens[] = {
    "gen:parity-tree:9",    "gen:parity-chain:7", "gen:parity-revise:12", "gen:parity-revise:2",
    "gen:adder-ripple:6",   "gen:adder-prefix:8", "gen:mult:4",           "gen:maj:7",
    "gen:random:6,5,1",     "gen:random:1,1,7",   "gen:random:16,40,3",
};

static void generators_all_modes(void **state)
{
    (void)state;
    for (size_t g = 0; g < sizeof gens / sizeof *gens; g++) {
        loaded L;
        load_ok(gens[g], &L);
        for (int m = 0; m < DLM_NMODES; m++) engine_equals_direct(&L, (dlm_mode)m, 1000, 7);
        unload(&L);
    }
}

static void epfl_all_modes(void **state)
{
    (void)state;
    glob_t gl;
    if (glob(DLM_EPFL "/*/*.aig", 0, NULL, &gl) != 0) fail_msg("no %s/*/*.aig", DLM_EPFL);
    assert_int_equal(gl.gl_pathc, 17);
    for (size_t i = 0; i < gl.gl_pathc; i++) {
        loaded L;
        load_ok(gl.gl_pathv[i], &L);
        /* Fewer chains for the large circuits: bit-exactness needs no statistics. */
        uint64_t chains = L.lv.size > 20000 ? 64 : 256;
        for (int m = 0; m < DLM_NMODES; m++) engine_equals_direct(&L, (dlm_mode)m, chains, 11);
        unload(&L);
    }
    globfree(&gl);
}

/* The revision sampler of the paper: 2 rounds at L = N, no odd-parity sample. */
static void parity_revise_is_the_paper_sampler(void **state)
{
    (void)state;
    loaded L;
    load_ok("gen:parity-revise:64", &L);
    dlm_err e;
    dlm_program p;
    assert_int_equal(dlm_compile(&L.c, &L.lv, DLM_MODE_REVISE, &p, &e), DLM_OK);
    assert_int_equal(dlm_program_check(&p, &L.lv, &e), DLM_OK);
    assert_int_equal(p.rounds, 2);
    assert_int_equal(p.L, 64);
    assert_int_equal(p.counter_bits, 0);
    dlm_counts k;
    assert_int_equal(dlm_counts_init(&k, p.nout, 0, &e), DLM_OK);
    dlm_run_opts o;
    memset(&o, 0, sizeof o);
    o.chains = 100000;
    o.seed = 5;
    assert_int_equal(dlm_engine_cpu_run(&p, &o, &k, &e), DLM_OK);
    assert_int_equal(k.odd_parity, 0);
    for (uint32_t j = 0; j < p.nout; j++) { /* each bit is a fair coin: 5 sigma */
        double z = ((double)k.ones[j] - 50000.0) / sqrt(25000.0);
        assert_true(z > -5 && z < 5);
    }
    dlm_counts_free(&k);
    dlm_program_free(&p);
    unload(&L);
}

/* Counts and samples are the same for 1 or 2 threads, tiny or large tiles, any
 * split of the chain range into calls, and the direct evaluator's run. */
static void counts_independent_of_threads_tiles_splits(void **state)
{
    (void)state;
    loaded L;
    load_ok("gen:adder-prefix:5", &L);
    dlm_err e;
    dlm_program p;
    assert_int_equal(dlm_compile(&L.c, &L.lv, DLM_MODE_REMASK, &p, &e), DLM_OK);
    const uint64_t B = 5000;
    size_t sb = dlm_sample_bytes(&p);
    dlm_counts k[4];
    uint8_t *smp[4];
    for (int v = 0; v < 4; v++) {
        assert_int_equal(dlm_counts_init(&k[v], p.nout, 1, &e), DLM_OK);
        smp[v] = calloc(B, sb);
        dlm_run_opts o;
        memset(&o, 0, sizeof o);
        o.seed = 99;
        o.want_hist = 1;
        if (v == 0) {
            o.chains = B;
            o.threads = 1;
            o.samples = smp[v];
            assert_int_equal(dlm_engine_cpu_run(&p, &o, &k[v], &e), DLM_OK);
        } else if (v == 1) {
            o.chains = B;
            o.threads = 2;
            o.max_bytes = 2 * 3 * p.L; /* tiles of 3 chains */
            o.samples = smp[v];
            assert_int_equal(dlm_engine_cpu_run(&p, &o, &k[v], &e), DLM_OK);
        } else if (v == 3) { /* the direct evaluator's run gives the same counts */
            o.chains = B;
            o.samples = smp[v];
            assert_int_equal(dlm_eval_run(&L.c, &o, &k[v], &e), DLM_OK);
        } else {
            for (uint64_t c0 = 0; c0 < B; c0 += 1237) {
                o.first_chain = c0;
                o.chains = B - c0 < 1237 ? B - c0 : 1237;
                o.samples = smp[v] + c0 * sb;
                assert_int_equal(dlm_engine_cpu_run(&p, &o, &k[v], &e), DLM_OK);
            }
        }
    }
    for (int v = 1; v < 4; v++) {
        assert_memory_equal(smp[0], smp[v], B * sb);
        assert_memory_equal(k[0].hist, k[v].hist, ((size_t)1 << p.nout) * 8);
        assert_memory_equal(k[0].ones, k[v].ones, p.nout * 8);
        assert_int_equal(k[0].odd_parity, k[v].odd_parity);
        assert_int_equal(k[0].chains, k[v].chains);
    }
    uint64_t total = 0;
    for (size_t i = 0; i < ((size_t)1 << p.nout); i++) total += k[0].hist[i];
    assert_int_equal(total, B);
    for (int v = 0; v < 4; v++) {
        dlm_counts_free(&k[v]);
        free(smp[v]);
    }
    dlm_program_free(&p);
    unload(&L);
}

/* A circuit whose layers all look alike needs the counter in remask mode; its
 * width is ceil(log2(d+1)). */
static void remask_counter_when_needed(void **state)
{
    (void)state;
    loaded L;
    load_ok("gen:random:4,20,1", &L);
    dlm_err e;
    dlm_program p;
    assert_int_equal(dlm_compile(&L.c, &L.lv, DLM_MODE_REMASK, &p, &e), DLM_OK);
    assert_int_equal(dlm_program_check(&p, &L.lv, &e), DLM_OK);
    assert_int_equal(p.counter_bits, ceil_log2((uint64_t)L.lv.depth + 1));
    /* Without its counter the same program is ambiguous: the checker says so. */
    dlm_program q = p;
    q.counter_bits = 0;
    dlm_op *ops = malloc(p.nops * sizeof *ops);
    uint64_t *rs = malloc(((size_t)p.rounds + 1) * sizeof *rs), n = 0;
    for (uint32_t r = 0; r < p.rounds; r++) {
        rs[r] = n;
        for (uint64_t i = p.round_start[r]; i < p.round_start[r + 1]; i++)
            if (p.ops[i].pos < 2 * p.slots) ops[n++] = p.ops[i];
    }
    rs[p.rounds] = n;
    q.ops = ops;
    q.nops = n;
    q.round_start = rs;
    assert_int_equal(dlm_program_check(&q, &L.lv, &e), DLM_ECHECK);
    assert_non_null(strstr(e.msg, "same visible state"));
    free(ops);
    free(rs);
    dlm_program_free(&p);
    unload(&L);
}

/* Broken programs are caught with the round and the position. */
static void checker_catches_broken_programs(void **state)
{
    (void)state;
    loaded L;
    load_ok("gen:adder-ripple:4", &L);
    dlm_err e;
    for (int m = 0; m < DLM_NMODES; m++) {
        dlm_program p;
        assert_int_equal(dlm_compile(&L.c, &L.lv, (dlm_mode)m, &p, &e), DLM_OK);
        assert_int_equal(dlm_program_check(&p, &L.lv, &e), DLM_OK);
        /* 1: the first gate with inputs reads a position not revealed before its round. */
        uint64_t last = 0;
        while (p.ops[last].kind != DLM_OP_GATE || p.ops[last].nin == 0) last++;
        uint32_t rr = 0;
        while (p.round_start[rr + 1] <= last) rr++;
        uint8_t *w1 = calloc(p.L, 1);
        for (uint64_t i = 0; i < p.round_start[rr]; i++) w1[p.ops[i].pos] = 1;
        uint32_t masked = 0;
        while (masked < p.L && w1[masked]) masked++;
        assert_true(masked < p.L);
        free(w1);
        dlm_op save = p.ops[last];
        p.ops[last].in[0] = masked;
        if (dlm_program_check(&p, &L.lv, &e) != DLM_ECHECK)
            fail_msg("mode %s: reading masked position %u in op %llu not caught", dlm_mode_name((dlm_mode)m),
                     masked, (unsigned long long)last);
        assert_non_null(strstr(e.msg, "round"));
        p.ops[last] = save;
        /* 2: the first op written twice in round 1 (duplicate a position). */
        dlm_op save1 = p.ops[1];
        p.ops[1].pos = p.ops[0].pos;
        assert_int_equal(dlm_program_check(&p, &L.lv, &e), DLM_ECHECK);
        p.ops[1] = save1;
        /* 3: one round too few. */
        p.rounds--;
        assert_int_equal(dlm_program_check(&p, &L.lv, &e), DLM_ECHECK);
        p.rounds++;
        assert_int_equal(dlm_program_check(&p, &L.lv, &e), DLM_OK);
        dlm_program_free(&p);
    }
    /* 4: in cot mode, reading a position written in the same round. */
    dlm_program p;
    assert_int_equal(dlm_compile(&L.c, &L.lv, DLM_MODE_COT, &p, &e), DLM_OK);
    uint64_t i = p.round_start[1], j = i + 1;
    p.ops[j].kind = DLM_OP_GATE;
    p.ops[j].nin = 1;
    p.ops[j].in[0] = p.ops[i].pos;
    assert_int_equal(dlm_program_check(&p, &L.lv, &e), DLM_ECHECK);
    assert_non_null(strstr(e.msg, "same round"));
    dlm_program_free(&p);
    unload(&L);
}

/* Levels match the definitions on a hand-made circuit with a long wire, a dead
 * gate and a late coin. */
static void levelizer_by_hand(void **state)
{
    (void)state;
    dlm_circuit c;
    dlm_err e;
    dlm_levels lv;
    assert_int_equal(dlm_circuit_init(&c, "hand", &e), DLM_OK);
    uint32_t a, b, z, g1, g2, g3, dead;
    dlm_circuit_add_coin(&c, "a", &a, &e);
    dlm_circuit_add_coin(&c, "b", &b, &e);
    dlm_circuit_add_coin(&c, "z", &z, &e); /* used only at level 3: placed in layer 2 */
    uint32_t l1[2] = {DLM_LIT(a, 0), DLM_LIT(b, 0)};
    dlm_circuit_add_gate(&c, DLM_G_AND, 2, l1, 0, 0, &g1, &e);   /* level 1 */
    uint32_t l2[2] = {DLM_LIT(g1, 1), DLM_LIT(b, 0)};
    dlm_circuit_add_gate(&c, DLM_G_XOR, 2, l2, 0, 0, &g2, &e);   /* level 2 */
    uint32_t l3[3] = {DLM_LIT(g2, 0), DLM_LIT(z, 0), DLM_LIT(a, 1)};
    dlm_circuit_add_gate(&c, DLM_G_OR, 3, l3, 1, 0, &g3, &e);    /* level 3 */
    uint32_t l4[2] = {DLM_LIT(g1, 0), 1};
    dlm_circuit_add_gate(&c, DLM_G_AND, 2, l4, 0, 0, &dead, &e); /* level 2, dead */
    dlm_circuit_add_output(&c, DLM_LIT(g3, 0), "y", &e);
    dlm_circuit_add_output(&c, DLM_LIT(a, 0), "a", &e);
    assert_int_equal(dlm_levelize(&c, &lv, &e), DLM_OK);
    assert_int_equal(lv.depth, 3);
    assert_int_equal(lv.size, 7);
    assert_int_equal(lv.gates, 4);
    assert_int_equal(lv.max_fanin, 3);
    assert_int_equal(lv.dead, 1);
    assert_int_equal(lv.layer[z], 2);
    assert_int_equal(lv.layer[a], 0);
    /* live: boundary 0 {a,b}; 1 {a,b,g1}->{a, b, g1}; see docs/model.md */
    assert_int_equal(lv.live_count[0], 2); /* a, b */
    assert_int_equal(lv.live_count[1], 3); /* a, b, g1 */
    assert_int_equal(lv.live_count[2], 3); /* a, g2, z */
    assert_int_equal(lv.live_count[3], 2); /* g3, a (outputs) */
    assert_int_equal(lv.width, 3);
    assert_int_equal(lv.layer_count[0], 2);
    assert_int_equal(lv.layer_count[1], 1);
    assert_int_equal(lv.layer_count[2], 3); /* g2, dead, z */
    assert_int_equal(lv.layer_count[3], 1);
    dlm_levels_free(&lv);
    dlm_circuit_free(&c);
}

/* The CLI's --samples and --hist files agree: one line per chain in chain order, the
 * histogram counts the same strings; --json carries the documented keys. */
static void cli_samples_and_hist_agree(void **state)
{
    (void)state;
    const char *d = dlm_test_tmpdir();
    char out[8192];
    int rc = dlm_test_sh(out, sizeof out,
                         "%s run gen:adder-ripple:3 --mode remask --chains 5000 --seed 3 --quiet "
                         "--backend cpu --samples %s/s.txt --hist %s/h.txt --json",
                         DLM_BIN, d, d);
    assert_int_equal(rc, 0);
    const char *keys[] = {"\"circuit\"", "\"mode\":\"remask\"", "\"backend\":\"cpu\"",
                          "\"chains\":5000", "\"seed\":3", "\"rounds\":", "\"L\":", "\"depth\":",
                          "\"width\":", "\"size\":", "\"bytes_per_chain\":", "\"seconds\":",
                          "\"samples_per_s\":", "\"odd_parity\":"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!strstr(out, keys[i])) fail_msg("--json lacks %s: %s", keys[i], out);
    char path[600];
    snprintf(path, sizeof path, "%s/s.txt", d);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    uint64_t count[16] = {0}, lines = 0;
    char line[64];
    while (fgets(line, sizeof line, f)) {
        assert_int_equal(strlen(line), 5); /* 4 output bits and a newline */
        unsigned v = 0;
        for (int k = 0; k < 4; k++) v |= (unsigned)(line[k] - '0') << k;
        count[v]++;
        lines++;
    }
    fclose(f);
    assert_int_equal(lines, 5000);
    snprintf(path, sizeof path, "%s/h.txt", d);
    f = fopen(path, "r");
    assert_non_null(f);
    uint64_t total = 0;
    char bits[16];
    unsigned long long n;
    while (fscanf(f, "%15s\t%llu", bits, &n) == 2) {
        assert_int_equal(strlen(bits), 4);
        unsigned v = 0;
        for (int k = 0; k < 4; k++) v |= (unsigned)(bits[k] - '0') << k;
        assert_int_equal(count[v], n);
        total += n;
    }
    fclose(f);
    assert_int_equal(total, 5000);
    /* The sum of two 3-bit numbers is at most 14: output value 15 never occurs. */
    assert_int_equal(count[15], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(levelizer_by_hand),
        cmocka_unit_test(generators_all_modes),
        cmocka_unit_test(parity_revise_is_the_paper_sampler),
        cmocka_unit_test(counts_independent_of_threads_tiles_splits),
        cmocka_unit_test(remask_counter_when_needed),
        cmocka_unit_test(checker_catches_broken_programs),
        cmocka_unit_test(epfl_all_modes),
        cmocka_unit_test(cli_samples_and_hist_agree),
    };
    return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
