/* test_jit.c — the straight-line source of dlm_jit_source (host/engine/jit.c), compiled
 * by g++ as plain C++ with test/jit_host.cc (the text a CUDA kernel would compile), gives
 * the cpu engine's samples byte for byte and its odd-parity and ones counts, on
 * small generators, biased coins, negated and constant outputs, gates of 1 to 6 inputs
 * and round counters (gen:mult:4 in remask and revise) in every mode, for a range of chains that
 * starts and ends inside a 128-chain pair. Skipped without g++. Also: a bad name and a
 * plan naming a slot that does not exist are refused. Build and run:
 * make build/test/test_jit && ./build/test/test_jit */
#include "dlm_test.h"
#include "dlm_engine.h"
#include "dlm_jit.h"
#include "dlm_level.h"
#include "dlm_program.h"
#include "dlm_slots.h"

#define SEED 20261204u
#define FIRST 1000003u /* not a multiple of 64 or 128 */
#define CHAINS 3001u

/* small ones: g++ compiles every function in every mode, about 20 s for these */
static const char *const circuits[] = {
    "gen:parity-revise:16", "gen:adder-ripple:4", "gen:random:8,6,1", "gen:parity-chain:7",
    "biased:gen:adder-ripple:4", "aag:negated", "gen:mult:4", "blif:luts",
};
/* "aag:negated": outputs ~(a & b), a & b, the constant 1 and ~a (negations, a constant) */
#define NEGATED_AAG "aag 3 2 0 4 1\n2\n4\n7\n6\n1\n3\n6 2 4\n"
/* "blif:luts": gates of 3, 4, 5 and 6 inputs (dlm_lut_word) and one of 1 input */
#define LUTS_BLIF                                                                         \
    ".model luts\n.inputs a b c d e f\n.outputs y3 y4 y5 y6 n1\n"                          \
    ".names a b c y3\n1-1 1\n011 1\n"                                                   \
    ".names a b c d y4\n11-0 1\n0-11 1\n1001 1\n"                                      \
    ".names y3 b y4 d e y5\n1-1-1 1\n01-0- 1\n00000 1\n"                               \
    ".names a y5 c y4 e f y6\n1-1-1- 1\n-1-0-1 1\n000111 1\n"                          \
    ".names y6 n1\n0 1\n.end\n"
#define NCIRC (sizeof circuits / sizeof circuits[0])

/* circuit i in mode m, compiled (biased: every third coin P(1) = 0.3) */
static void compile_ok(size_t i, int m, loaded *L, dlm_program *p)
{
    dlm_err e;
    const char *spec = circuits[i];
    const int biased = !strncmp(spec, "biased:", 7);
    if (!strcmp(spec, "aag:negated")) spec = dlm_test_file("negated.aag", NEGATED_AAG);
    if (!strcmp(spec, "blif:luts")) spec = dlm_test_file("luts.blif", LUTS_BLIF);
    load_ok(biased ? spec + 7 : spec, L);
    if (biased) {
        L->c.coin_thr = malloc((L->c.coin_cap ? L->c.coin_cap : 1) * sizeof *L->c.coin_thr);
        assert_non_null(L->c.coin_thr);
        for (uint32_t k = 0; k < L->c.coin_cap; k++)
            L->c.coin_thr[k] = k % 3 ? DLM_COIN_FAIR : (uint64_t)(0.3 * 4294967296.0);
    }
    if (dlm_compile(&L->c, &L->lv, (dlm_mode)m, p, &e)) fail_msg("%s: %s", spec, e.msg);
}

/* A plan no compiler writes today (the slot plan drops round counters, whose values no
 * output reads): counter increments of 0 and 2 lower bits and a 3-input gate reading an
 * increment, for the generator's dlm_step_op_words path. 5 slots, 3 outputs (the
 * program of gen:adder-ripple:2 supplies nout = 3 and the negations). */
static const dlm_op inc_ops[] = {
    {0, DLM_OP_COIN, 0, 0, {0, 0, 0, 0, 0, 0}, 0, DLM_COIN_FAIR},
    {1, DLM_OP_COIN, 0, 0, {0, 0, 0, 0, 0, 0}, 1, DLM_COIN_FAIR},
    {2, DLM_OP_COIN, 0, 0, {0, 0, 0, 0, 0, 0}, 2, (uint64_t)(0.7 * 4294967296.0)},
    {3, DLM_OP_INC, 2, 0, {0, 0, 0, 0, 0, 0}, 0, 0},   /* s3 = s2 ^ (s0 & s1) */
    {4, DLM_OP_INC, 0, 0, {0, 0, 0, 0, 0, 0}, 1, 0},   /* s4 = ~s1 */
    {2, DLM_OP_GATE, 3, 0, {0, 3, 4, 0, 0, 0}, 0x96, 0}, /* s2 = s0 ^ s3 ^ s4 */
};
static uint32_t inc_out[] = {3, 4, 2};

static void inc_plan(dlm_slot_plan *sp)
{
    sp->ops = (dlm_op *)inc_ops;
    sp->nops = sizeof inc_ops / sizeof inc_ops[0];
    sp->nslots = 5;
    sp->out_slot = inc_out;
}

static void cpu_matches_generated(void **state)
{
    (void)state;
    const char *cxx = getenv("CXX") ? getenv("CXX") : "g++";
    char out[8192];
    if (dlm_test_sh(out, sizeof out, "command -v %s", cxx) != 0) {
        print_message("skipped: no %s\n", cxx);
        skip();
    }
    const char *dir = dlm_test_tmpdir();
    char gen[512];
    snprintf(gen, sizeof gen, "%s/jit_gen.inc", dir);
    FILE *f = fopen(gen, "w");
    assert_non_null(f);
    for (size_t i = 0; i < NCIRC; i++)
        for (int m = 0; m < DLM_NMODES; m++) {
            loaded L;
            dlm_program p;
            dlm_slot_plan sp;
            dlm_err e;
            char name[32];
            compile_ok(i, m, &L, &p);
            assert_int_equal(dlm_slot_plan_build(&p, &sp, &e), DLM_OK);
            snprintf(name, sizeof name, "f%zu_%d", i, m);
            if (dlm_jit_source(f, name, &p, &sp, &e)) fail_msg("%s: %s", circuits[i], e.msg);
            dlm_slot_plan_free(&sp);
            dlm_program_free(&p);
            dlm_levels_free(&L.lv);
            dlm_circuit_free(&L.c);
        }
    { /* the counter plan, as f_inc */
        loaded L;
        dlm_program p;
        dlm_slot_plan sp;
        dlm_err e;
        load_ok("gen:adder-ripple:2", &L);
        assert_int_equal(dlm_compile(&L.c, &L.lv, DLM_MODE_COT, &p, &e), DLM_OK);
        assert_int_equal(p.nout, 3);
        inc_plan(&sp);
        if (dlm_jit_source(f, "f_inc", &p, &sp, &e)) fail_msg("inc plan: %s", e.msg);
        dlm_program_free(&p);
        dlm_levels_free(&L.lv);
        dlm_circuit_free(&L.c);
    }
    fprintf(f, "static const jit_entry jit_fns[] = {\n    {\"f_inc\", f_inc, 3u},\n");
    for (size_t i = 0; i < NCIRC; i++)
        for (int m = 0; m < DLM_NMODES; m++) {
            loaded L;
            dlm_program p;
            compile_ok(i, m, &L, &p);
            fprintf(f, "    {\"f%zu_%d\", f%zu_%d, %uu},\n", i, m, i, m, p.nout);
            dlm_program_free(&p);
            dlm_levels_free(&L.lv);
            dlm_circuit_free(&L.c);
        }
    fprintf(f, "};\n");
    assert_int_equal(fclose(f), 0);
    /* the flags of the tree's C++ (emu.mk; restrict is C only): warnings are errors */
    int rc = dlm_test_sh(out, sizeof out,
                         "%s -std=c++17 -O1 -Wall -Wextra -Werror -ffp-contract=off -Drestrict=__restrict__ -Iinclude -DJIT_GEN='\"%s\"' "
                         "test/jit_host.cc -o %s/jit_host && %s/jit_host %u %u %u %s",
                         cxx, gen, dir, dir, SEED, FIRST, CHAINS, dir);
    if (rc != 0) fail_msg("compiling or running the generated source: %s", out);

    for (size_t i = 0; i <= NCIRC; i++) /* NCIRC: the counter plan */
        for (int m = 0; m < (i < NCIRC ? DLM_NMODES : 1); m++) {
            loaded L;
            dlm_program p;
            dlm_err e;
            dlm_slot_plan inc;
            if (i < NCIRC) {
                compile_ok(i, m, &L, &p);
            } else {
                load_ok("gen:adder-ripple:2", &L);
                assert_int_equal(dlm_compile(&L.c, &L.lv, DLM_MODE_COT, &p, &e), DLM_OK);
                inc_plan(&inc);
            }
            const char *cname = i < NCIRC ? circuits[i] : "counter plan";
            const size_t sb = dlm_sample_bytes(&p);
            dlm_counts k;
            assert_int_equal(dlm_counts_init(&k, p.nout, 0, &e), DLM_OK);
            uint8_t *smp = calloc((size_t)CHAINS * sb + 1, 1);
            assert_non_null(smp);
            dlm_run_opts o;
            memset(&o, 0, sizeof o);
            o.first_chain = FIRST;
            o.chains = CHAINS;
            o.seed = SEED;
            o.samples = smp;
            o.threads = 1;
            o.plan = i < NCIRC ? NULL : &inc;
            if (dlm_engine_bits_run(&p, &o, &k, &e)) fail_msg("cpu: %s", e.msg);
            /* the counts as jit_host writes them */
            char want[1 << 16], got[1 << 16], path[600];
            size_t n = (size_t)snprintf(want, sizeof want, "odd %llu\n", (unsigned long long)k.odd_parity);
            for (uint32_t q = 0; q < p.nout && n < sizeof want; q++)
                n += (size_t)snprintf(want + n, sizeof want - n, "ones %u %llu\n", q,
                                      (unsigned long long)k.ones[q]);
            if (i < NCIRC) snprintf(path, sizeof path, "%s/f%zu_%d.txt", dir, i, m);
            else snprintf(path, sizeof path, "%s/f_inc.txt", dir);
            FILE *t = fopen(path, "r");
            assert_non_null(t);
            size_t gn = fread(got, 1, sizeof got - 1, t);
            got[gn] = 0;
            fclose(t);
            if (strcmp(want, got))
                fail_msg("%s %s: counts differ from cpu\n--- cpu\n%.400s\n--- generated\n%.400s",
                         cname, dlm_mode_name((dlm_mode)m), want, got);
            if (i < NCIRC) snprintf(path, sizeof path, "%s/f%zu_%d.bin", dir, i, m);
            else snprintf(path, sizeof path, "%s/f_inc.bin", dir);
            t = fopen(path, "rb");
            assert_non_null(t);
            uint8_t *gs = calloc((size_t)CHAINS * sb + 1, 1);
            assert_non_null(gs);
            assert_int_equal(fread(gs, 1, (size_t)CHAINS * sb + 1, t), (size_t)CHAINS * sb);
            fclose(t);
            if (memcmp(gs, smp, (size_t)CHAINS * sb))
                fail_msg("%s %s: samples differ from cpu", cname, dlm_mode_name((dlm_mode)m));
            free(gs);
            free(smp);
            dlm_counts_free(&k);
            dlm_program_free(&p);
            dlm_levels_free(&L.lv);
            dlm_circuit_free(&L.c);
        }
}

static void bad_input_refused(void **state)
{
    (void)state;
    loaded L;
    dlm_program p;
    dlm_slot_plan sp;
    dlm_err e;
    compile_ok(0, DLM_MODE_REVISE, &L, &p);
    assert_int_equal(dlm_slot_plan_build(&p, &sp, &e), DLM_OK);
    char buf[1 << 16];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    assert_non_null(f);
    assert_int_equal(dlm_jit_source(f, "1x", &p, &sp, &e), DLM_EINPUT);
    sp.ops[0].pos = sp.nslots; /* a slot that does not exist */
    assert_int_equal(dlm_jit_source(f, "f", &p, &sp, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "outside"));
    fclose(f);
    dlm_slot_plan_free(&sp);
    dlm_program_free(&p);
    dlm_levels_free(&L.lv);
    dlm_circuit_free(&L.c);
}

/* The engine's NVRTC compile (kernels/engine_cuda_jit.cu, dlm_cuda_jit_compile) of the
 * program it would run, both variants, with the headers in memory only: a cubin (an
 * ELF file) for sm_90, no device needed; a broken program is refused with NVRTC's
 * message. CUDA builds only (skipped otherwise). */
static void nvrtc_compiles_the_program(void **state)
{
    (void)state;
#if DLM_HAVE_CUDA && !defined(DLM_CUDA_EMU)
    loaded L;
    dlm_program p;
    dlm_slot_plan sp;
    dlm_err e;
    compile_ok(0, DLM_MODE_REVISE, &L, &p); /* parity-revise:16 */
    assert_int_equal(dlm_slot_plan_build(&p, &sp, &e), DLM_OK);
    char *src = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&src, &len);
    assert_non_null(f);
    assert_int_equal(dlm_jit_program(f, &p, &sp, &e), DLM_OK);
    assert_int_equal(fclose(f), 0);
    for (int emit = 0; emit < 2; emit++) {
        char *cubin = NULL;
        size_t n = 0;
        if (dlm_cuda_jit_compile(src, emit, 90, &cubin, &n, &e)) fail_msg("emit %d: %s", emit, e.msg);
        assert_true(n > 1000);
        assert_memory_equal(cubin, "\177ELF", 4);
        free(cubin);
    }
    char *cubin = NULL;
    size_t n = 0;
    assert_int_equal(dlm_cuda_jit_compile("#include \"dlm_jit_cuda.h\"\nint x = y;\n", 0, 90,
                                          &cubin, &n, &e), DLM_ECUDA);
    assert_null(cubin);
    assert_non_null(strstr(e.msg, "NVRTC"));
    assert_non_null(strstr(e.msg, "\"y\""));
    free(src);
    dlm_slot_plan_free(&sp);
    dlm_program_free(&p);
    dlm_levels_free(&L.lv);
    dlm_circuit_free(&L.c);
#else
    print_message("skipped: built without CUDA\n");
    skip();
#endif
}

/* The auto choice (dlm_cuda_kernel_resolve, dlm_cuda_jit_pays): the interpreter for a
 * short run, the JIT kernel for a long one, never for a plan wider than the registers
 * (gen:mult:16: hundreds of slots) or without operations; an explicit kernel is kept;
 * the names parse and print. */
static void auto_choice(void **state)
{
    (void)state;
    loaded L;
    dlm_program p;
    dlm_slot_plan sp;
    dlm_err e;
    compile_ok(0, DLM_MODE_REVISE, &L, &p); /* parity-revise:16: 31 operations, 16 slots */
    assert_int_equal(dlm_slot_plan_build(&p, &sp, &e), DLM_OK);
    uint32_t peak = 0;
    assert_int_equal(dlm_jit_live_peak(&sp, p.nout, &peak, &e), DLM_OK);
    assert_true(peak >= 2 && peak <= DLM_JIT_AUTO_MAX_LIVE);
    assert_int_equal(dlm_cuda_kernel_resolve(DLM_CUDA_KERNEL_AUTO, &sp, p.nout, 1000000), DLM_CUDA_KERNEL_INTERP);
    assert_int_equal(dlm_cuda_kernel_resolve(DLM_CUDA_KERNEL_AUTO, &sp, p.nout, UINT64_C(1) << 50), DLM_CUDA_KERNEL_JIT);
    assert_int_equal(dlm_cuda_kernel_resolve(DLM_CUDA_KERNEL_INTERP, &sp, p.nout, UINT64_C(1) << 50),
                     DLM_CUDA_KERNEL_INTERP);
    assert_int_equal(dlm_cuda_kernel_resolve(DLM_CUDA_KERNEL_JIT, &sp, p.nout, 1), DLM_CUDA_KERNEL_JIT);
    /* the break-even of the model, to the chain */
    const double be = (DLM_JIT_COMPILE_S0 + DLM_JIT_COMPILE_S_OP * (double)sp.nops) /
                      ((double)sp.nops * DLM_JIT_SAVE_S_OP);
    assert_false(dlm_cuda_jit_pays(&sp, p.nout, (uint64_t)(be * 0.99)));
    assert_true(dlm_cuda_jit_pays(&sp, p.nout, (uint64_t)(be * 1.01)));
    const uint64_t nops = sp.nops;
    sp.nops = 0;
    assert_false(dlm_cuda_jit_pays(&sp, p.nout, UINT64_C(1) << 60));
    sp.nops = nops;
    assert_false(dlm_cuda_jit_pays(NULL, 0, UINT64_C(1) << 60));
    dlm_slot_plan_free(&sp);
    dlm_program_free(&p);
    dlm_levels_free(&L.lv);
    dlm_circuit_free(&L.c);
    load_ok("gen:mult:16", &L);
    assert_int_equal(dlm_compile(&L.c, &L.lv, DLM_MODE_REVISE, &p, &e), DLM_OK);
    assert_int_equal(dlm_slot_plan_build(&p, &sp, &e), DLM_OK);
    assert_int_equal(dlm_jit_live_peak(&sp, p.nout, &peak, &e), DLM_OK);
    assert_true(peak > DLM_JIT_AUTO_MAX_LIVE);
    assert_false(dlm_cuda_jit_pays(&sp, p.nout, UINT64_C(1) << 60));
    dlm_slot_plan_free(&sp);
    dlm_program_free(&p);
    dlm_levels_free(&L.lv);
    dlm_circuit_free(&L.c);
    dlm_cuda_kernel k = DLM_CUDA_KERNEL_AUTO;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(dlm_cuda_kernel_parse(dlm_cuda_kernel_name((dlm_cuda_kernel)i), &k), 0);
        assert_int_equal(k, i);
    }
    assert_int_equal(dlm_cuda_kernel_parse("interp", &k), -1);
    assert_int_equal(dlm_cuda_kernel_parse(NULL, &k), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cpu_matches_generated),
        cmocka_unit_test(bad_input_refused),
        cmocka_unit_test(nvrtc_compiles_the_program),
        cmocka_unit_test(auto_choice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
