/* test_cuda.c — the CUDA engines against the CPU engine, bit for bit, through the C ABI.
 *
 * For each circuit (four generators and the EPFL ctrl.aig) and each mode (cot, remask,
 * revise, ar): 100000 chains from a first chain that is not a multiple of 128 (nor 64),
 * a count that is not a multiple of 64, on the CPU (bit-sliced), on CUDA (the
 * bit-sliced kernel, `cuda`) and on the CUDA byte engine (`cuda-ref`) with the same
 * seed; raw samples are compared with memcmp (tolerance zero; on mismatch the first
 * differing chain and 5 more are printed) and so are the histogram, the ones counts
 * and the odd-parity count. The bit-sliced kernel is also run with its values forced
 * into global memory, with one-warp blocks, under value budgets of 37 and 1000 pairs
 * (ragged chunks; a small grid) and split over two calls at a chain inside a pair; the
 * byte engine with token budgets of 1000 and 37 chains. Nothing may change. Circuits
 * with hundreds of slots (values in global memory by the engine's own choice) and with
 * more outputs than the per-block ones counters hold are compared too, on fewer chains.
 *
 * Every GPU test calls skip() with the reason when dlm_cuda_device_count() is 0:
 * skipped, never passed; under DLMSIM_REQUIRE_GPU=1 it fails instead (DLM_TEST_NO_DEVICE). The backend-resolution test runs everywhere (it checks the
 * no-device answers on a machine without a device, the CUDA answers on one with).
 */
#include "dlm_test.h"
#include "dlm_engine.h"
#include "dlm_gen.h"
#include "dlm_io.h"
#include "dlm_level.h"
#include "dlm_program.h"
#include "dlm_slots.h"

#include <inttypes.h>

#if defined(DLM_CUDA_EMU)
#include "dlm_emu.h" /* the fake device's configuration (test/cuda_emu) */
#include "cuda_runtime.h" /* cudaGetDevice, emulated */
#endif

/* under the CPU emulation (test/cuda_emu) fewer chains, to keep `make test` short */
#if defined(DLM_CUDA_EMU)
#define NCHAINS 6000u
#define FEWER(n) ((n) / 4)
#else
#define NCHAINS 100000u
#define FEWER(n) (n)
#endif
#define FIRST_CHAIN UINT64_C(1000003)
#define SEED UINT64_C(0x9e3779b97f4a7c15)
#define HIST_BITS_MAX 20 /* compare full histograms up to this many outputs */

/* Skips the calling test (with the reason) when no CUDA device is usable. */
#define SKIP_WITHOUT_DEVICE()                                                     \
    do {                                                                          \
        char why_[256] = "";                                                      \
        if (dlm_cuda_device_count(why_, sizeof why_) == 0)                        \
            DLM_TEST_NO_DEVICE(why_);                                             \
    } while (0)

// ---------------------------------------------------------------- helpers

/* Loads, levelizes and compiles spec for mode; fails the test on any error. */
static void build_program(const char *spec, dlm_mode mode, dlm_program *p)
{
    dlm_circuit c;
    dlm_levels lv;
    dlm_err e;
    dlm_status st = dlm_circuit_load(&c, spec, 0, &e);
    if (st != DLM_OK) print_error("%s: %s\n", spec, e.msg);
    assert_int_equal(st, DLM_OK);
    st = dlm_levelize(&c, &lv, &e);
    if (st != DLM_OK) print_error("%s: levelize: %s\n", spec, e.msg);
    assert_int_equal(st, DLM_OK);
    memset(p, 0, sizeof *p);
    st = dlm_compile(&c, &lv, mode, p, &e);
    if (st != DLM_OK) print_error("%s: compile %s: %s\n", spec, dlm_mode_name(mode), e.msg);
    assert_int_equal(st, DLM_OK);
    dlm_levels_free(&lv);
    dlm_circuit_free(&c);
}

typedef struct {
    dlm_counts k;
    uint8_t *samples;
} run_result;

/* Engine knobs of one run: max_bytes, the bit-sliced CUDA kernel's test knobs, its
 * kernel (default auto: the interpreter at these chain counts) and JIT kernels. */
typedef struct {
    uint64_t max_bytes;
    unsigned cuda_block;
    int cuda_global;
    dlm_cuda_kernel kernel;
    dlm_jit_cache *jit;
} knobs;

static const knobs DEFAULTS = {0, 0, 0, DLM_CUDA_KERNEL_AUTO, NULL};

/* JIT kernels in the tests: plans of at most this many operations (the emulation
 * compiles each program with g++; the larger ones take the interpreter only). */
#define JIT_TEST_MAX_OPS 2000u

/* Runs chains [first, first+n) of p on backend b into fresh counts (and samples). */
static void run_on(dlm_backend b, const dlm_program *p, uint64_t first, uint64_t n,
                   const knobs *kn, int want_hist, int want_samples, run_result *r)
{
    dlm_err e;
    memset(r, 0, sizeof *r);
    assert_int_equal(dlm_counts_init(&r->k, p->nout, want_hist, &e), DLM_OK);
    if (want_samples) {
        r->samples = calloc(n ? n * dlm_sample_bytes(p) : 1, 1);
        assert_non_null(r->samples);
    }
    dlm_run_opts o;
    memset(&o, 0, sizeof o);
    o.first_chain = first;
    o.chains = n;
    o.seed = SEED;
    o.want_hist = want_hist;
    o.samples = r->samples;
    o.max_bytes = kn->max_bytes;
    o.cuda_block = kn->cuda_block;
    o.cuda_global = kn->cuda_global;
    o.cuda_kernel = kn->kernel;
    o.jit = kn->jit;
    dlm_status st = dlm_engine_run(b, p, &o, &r->k, &e);
    if (st != DLM_OK) print_error("%s engine: %s\n", dlm_backend_name(b), e.msg);
    assert_int_equal(st, DLM_OK);
    assert_int_equal(r->k.chains, n);
}

static void result_free(run_result *r)
{
    dlm_counts_free(&r->k);
    free(r->samples);
}

/* memcmp of the samples; on mismatch prints the first differing chain and 5 more. */
static void expect_same_samples(const char *what, const dlm_program *p, uint64_t first,
                                const uint8_t *want, const uint8_t *got, uint64_t n)
{
    const size_t sb = dlm_sample_bytes(p);
    if (sb == 0 || memcmp(want, got, n * sb) == 0) return;
    unsigned shown = 0;
    uint64_t ndiff = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (memcmp(want + i * sb, got + i * sb, sb) == 0) continue;
        ndiff++;
        if (shown++ < 6) {
            char a[80] = "", b[80] = "";
            for (size_t j = 0; j < sb && j < 32; j++) {
                snprintf(a + 2 * j, 3, "%02x", want[i * sb + j]);
                snprintf(b + 2 * j, 3, "%02x", got[i * sb + j]);
            }
            print_error("%s: chain %" PRIu64 ": want %s%s got %s%s\n", what, first + i, a,
                        sb > 32 ? "..." : "", b, sb > 32 ? "..." : "");
        }
    }
    print_error("%s: %" PRIu64 " of %" PRIu64 " chains differ\n", what, ndiff, n);
    fail();
}

/* Exact equality of two counts of the same shape. */
static void expect_same_counts(const char *what, const dlm_counts *a, const dlm_counts *b)
{
    assert_int_equal(a->nout, b->nout);
    if (a->chains != b->chains || a->odd_parity != b->odd_parity)
        print_error("%s: chains %" PRIu64 "/%" PRIu64 ", odd parity %" PRIu64 "/%" PRIu64 "\n",
                    what, a->chains, b->chains, a->odd_parity, b->odd_parity);
    assert_int_equal(a->chains, b->chains);
    assert_int_equal(a->odd_parity, b->odd_parity);
    for (uint32_t k = 0; k < a->nout; k++)
        if (a->ones[k] != b->ones[k]) {
            print_error("%s: ones[%u] %" PRIu64 " vs %" PRIu64 "\n", what, k, a->ones[k],
                        b->ones[k]);
            fail();
        }
    assert_int_equal(a->hist != NULL, b->hist != NULL);
    if (a->hist) {
        const size_t n = (size_t)1 << a->nout;
        for (size_t i = 0; i < n; i++)
            if (a->hist[i] != b->hist[i]) {
                print_error("%s: hist[%zu] %" PRIu64 " vs %" PRIu64 "\n", what, i, a->hist[i],
                            b->hist[i]);
                fail();
            }
    }
}

/* Both: samples (when both runs kept them) and counts of got equal want's. */
static void expect_same(const char *what, const char *variant, const dlm_program *p,
                        uint64_t first, uint64_t n, const run_result *want, const run_result *got)
{
    char w[320];
    snprintf(w, sizeof w, "%s [%s]", what, variant);
    if (want->samples && got->samples) expect_same_samples(w, p, first, want->samples, got->samples, n);
    expect_same_counts(w, &want->k, &got->k);
}

/* Value slots of p's slot plan (16 value bytes per slot per pair of words); its
 * operations in *nops when nops is not NULL. */
static uint64_t plan_slots_ops(const dlm_program *p, uint64_t *nops)
{
    dlm_slot_plan sp;
    dlm_err e;
    assert_int_equal(dlm_slot_plan_build(p, &sp, &e), DLM_OK);
    const uint64_t n = sp.nslots;
    if (nops) *nops = sp.nops;
    dlm_slot_plan_free(&sp);
    return n;
}

static uint64_t plan_slots(const dlm_program *p) { return plan_slots_ops(p, NULL); }

/* The JIT kernel (kernels/engine_cuda_jit.cu) against the CPU's run `cpu` (samples and
 * histogram: the DLM_JIT_EMIT program), then without samples and histogram (the counts
 * program), under an output-word budget of 37 pairs (ragged chunks) and split over two
 * calls at a chain inside a pair. Both programs are compiled once, into one cache. */
static void jit_variants(const char *what, const dlm_program *p, uint64_t first, uint64_t n,
                         int want_hist, const run_result *cpu)
{
    dlm_err e;
    knobs kn = DEFAULTS;
    kn.kernel = DLM_CUDA_KERNEL_JIT;
    assert_int_equal(dlm_jit_cache_new(&kn.jit, &e), DLM_OK);
    run_result r;
    run_on(DLM_BACKEND_CUDA, p, first, n, &kn, want_hist, 1, &r);
    expect_same(what, "cuda jit vs cpu", p, first, n, cpu, &r);
    result_free(&r);
    run_result counts_only;
    run_on(DLM_BACKEND_CUDA, p, first, n, &kn, 0, 0, &counts_only);
    assert_int_equal(counts_only.k.odd_parity, cpu->k.odd_parity);
    assert_memory_equal(counts_only.k.ones, cpu->k.ones, p->nout * sizeof *cpu->k.ones);
    result_free(&counts_only);
    if (p->nout) {
        knobs b37 = kn;
        b37.max_bytes = 37 * 16 * (uint64_t)p->nout;
        run_on(DLM_BACKEND_CUDA, p, first, n, &b37, want_hist, 1, &r);
        expect_same(what, "cuda jit, 37-pair budget", p, first, n, cpu, &r);
        assert_true(r.k.bytes_tokens <= b37.max_bytes);
        result_free(&r);
    }
    run_result half;
    run_on(DLM_BACKEND_CUDA, p, first, n / 2, &kn, want_hist, 0, &half);
    dlm_run_opts o;
    memset(&o, 0, sizeof o);
    o.first_chain = first + n / 2;
    o.chains = n - n / 2;
    o.seed = SEED;
    o.want_hist = want_hist;
    o.cuda_kernel = DLM_CUDA_KERNEL_JIT;
    o.jit = kn.jit;
    assert_int_equal(dlm_engine_cuda_bits_run(p, &o, &half.k, &e), DLM_OK);
    expect_same_counts(what, &cpu->k, &half.k);
    result_free(&half);
    uint64_t compiled = 0;
    double secs = 0;
    uint64_t loaded = 0;
    dlm_jit_cache_stats(kn.jit, &compiled, &secs, &loaded);
    assert_int_equal(compiled, 2); /* the EMIT program and the counts program, once each */
    dlm_jit_cache_free(kn.jit);
}

/* The bit-sliced kernel under one knob setting, against the default run `gpu`; a value
 * budget must bound the value bytes reported. */
static void bits_variant(const char *what, const char *variant, const dlm_program *p,
                         uint64_t first, uint64_t n, const knobs *kn, int want_hist,
                         const run_result *gpu)
{
    run_result r;
    run_on(DLM_BACKEND_CUDA, p, first, n, kn, want_hist, 1, &r);
    expect_same(what, variant, p, first, n, gpu, &r);
    if (kn->max_bytes) assert_true(r.k.bytes_tokens <= kn->max_bytes);
    result_free(&r);
}

/* The whole comparison for one circuit, all four modes, n chains from first; with
 * ref_chunks also the byte engine's small chunks (thousands of launches per round). */
static void compare_circuit(const char *spec, uint64_t first, uint64_t n, int ref_chunks)
{
    for (int m = 0; m < DLM_NMODES; m++) {
        dlm_program p;
        build_program(spec, (dlm_mode)m, &p);
        char what[256];
        snprintf(what, sizeof what, "%s --mode %s", spec, dlm_mode_name((dlm_mode)m));
        const int want_hist = p.nout <= HIST_BITS_MAX;
        uint64_t nops = 0;
        const uint64_t pair_bytes = 16 * plan_slots_ops(&p, &nops);

        /* cpu (bit-sliced) = cuda (bit-sliced) = cuda-ref (byte) */
        run_result cpu, gpu, ref;
        run_on(DLM_BACKEND_CPU, &p, first, n, &DEFAULTS, want_hist, 1, &cpu);
        run_on(DLM_BACKEND_CUDA, &p, first, n, &DEFAULTS, want_hist, 1, &gpu);
        run_on(DLM_BACKEND_CUDA_REF, &p, first, n, &DEFAULTS, want_hist, 1, &ref);
        expect_same(what, "cuda vs cpu", &p, first, n, &cpu, &gpu);
        expect_same(what, "cuda-ref vs cpu", &p, first, n, &cpu, &ref);
        expect_same(what, "cuda vs cuda-ref", &p, first, n, &ref, &gpu);
        assert_true(gpu.k.bytes_tokens >= pair_bytes); /* something was reported */
        if (nops <= JIT_TEST_MAX_OPS) jit_variants(what, &p, first, n, want_hist, &cpu);

        /* the kernel's other layouts and chunkings */
        const knobs global = {0, 0, 1, DLM_CUDA_KERNEL_AUTO, NULL}, warp = {0, 32, 0, DLM_CUDA_KERNEL_AUTO, NULL};
        const knobs pairs37 = {37 * pair_bytes, 0, 0, DLM_CUDA_KERNEL_AUTO, NULL},
                    pairs1000 = {1000 * pair_bytes, 0, 0, DLM_CUDA_KERNEL_AUTO, NULL};
        bits_variant(what, "cuda, global values", &p, first, n, &global, want_hist, &gpu);
        bits_variant(what, "cuda, 32-thread blocks", &p, first, n, &warp, want_hist, &gpu);
        bits_variant(what, "cuda, 37-pair budget", &p, first, n, &pairs37, want_hist, &gpu);
        bits_variant(what, "cuda, 1000-pair budget", &p, first, n, &pairs1000, want_hist, &gpu);

        /* the byte engine's chunkings (token budgets of 1000 and 37 chains) */
        const uint64_t L = p.L ? p.L : 1;
        const knobs tok1000 = {1000 * L, 0, 0, DLM_CUDA_KERNEL_AUTO, NULL}, tok37 = {37 * L, 0, 0, DLM_CUDA_KERNEL_AUTO, NULL};
        for (int i = 0; ref_chunks && i < 2; i++) {
            run_result small;
            run_on(DLM_BACKEND_CUDA_REF, &p, first, n, i ? &tok37 : &tok1000, want_hist, 1, &small);
            expect_same(what, i ? "cuda-ref, 37 chains a chunk" : "cuda-ref, 1000 chains a chunk",
                        &p, first, n, &ref, &small);
            if (i && p.L) assert_true(small.k.bytes_tokens <= 37 * L);
            result_free(&small);
        }

        /* the batch split over two calls (at a chain inside a pair of words), added
         * into one counts */
        run_result half1;
        run_on(DLM_BACKEND_CUDA, &p, first, n / 2, &DEFAULTS, want_hist, 0, &half1);
        dlm_run_opts o;
        memset(&o, 0, sizeof o);
        o.first_chain = first + n / 2;
        o.chains = n - n / 2;
        o.seed = SEED;
        o.want_hist = want_hist;
        dlm_err e;
        dlm_status st = dlm_engine_cuda_bits_run(&p, &o, &half1.k, &e);
        if (st != DLM_OK) print_error("%s: %s\n", what, e.msg);
        assert_int_equal(st, DLM_OK);
        expect_same_counts(what, &gpu.k, &half1.k);

        result_free(&cpu);
        result_free(&gpu);
        result_free(&ref);
        result_free(&half1);
        dlm_program_free(&p);
    }
}

static void cpu_vs_cuda(const char *spec) { compare_circuit(spec, FIRST_CHAIN, NCHAINS, 1); }

// ---------------------------------------------------------------- tests

static void parity_revise_16(void **state)
{
    (void)state;
    SKIP_WITHOUT_DEVICE();
    cpu_vs_cuda("gen:parity-revise:16");
}

static void parity_revise_64(void **state)
{
    (void)state;
    SKIP_WITHOUT_DEVICE();
    cpu_vs_cuda("gen:parity-revise:64");
}

static void adder_ripple_8(void **state)
{
    (void)state;
    SKIP_WITHOUT_DEVICE();
    cpu_vs_cuda("gen:adder-ripple:8");
}

static void random_8_6_1(void **state)
{
    (void)state;
    SKIP_WITHOUT_DEVICE();
    cpu_vs_cuda("gen:random:8,6,1");
}

static void epfl_ctrl(void **state)
{
    (void)state;
    SKIP_WITHOUT_DEVICE();
    cpu_vs_cuda(DLM_EPFL "/random_control/ctrl.aig");
}

/* 258-268 slots: shared memory holds one warp's values only (32-thread blocks). */
static void mult_16_one_warp_blocks(void **state)
{
    (void)state;
    SKIP_WITHOUT_DEVICE();
    compare_circuit("gen:mult:16", FIRST_CHAIN, FEWER(20000), 0);
}

/* 604-737 slots: the values do not fit in shared memory even for one warp, so the
 * engine keeps them in global memory by its own choice; 600 outputs of 75 sample bytes. */
static void random_600_global_values(void **state)
{
    (void)state;
    SKIP_WITHOUT_DEVICE();
    compare_circuit("gen:random:600,4,1", FIRST_CHAIN, FEWER(20000), 0);
}

/* 4200 outputs: more than the per-block shared ones counters hold (4096), so the ones
 * go straight to the global counts with one atomic per warp and output. */
static void random_4200_many_outputs(void **state)
{
    (void)state;
    SKIP_WITHOUT_DEVICE();
    compare_circuit("gen:random:4200,2,1", FIRST_CHAIN, FEWER(5000), 0);
}

/* The JIT kernel with 4200 outputs (global ones counts, 525 sample bytes) from a tiny
 * program: an AIGER file of two inputs, one AND and 4200 outputs cycling through a, ~a,
 * b, a & b and ~(a & b). */
static void jit_4200_outputs(void **state)
{
    (void)state;
    SKIP_WITHOUT_DEVICE();
    const unsigned nout = 4200;
    char *text = malloc(64 + 8 * nout);
    assert_non_null(text);
    static const char *const lits[] = {"2", "3", "4", "6", "7"};
    int n = sprintf(text, "aag 3 2 0 %u 1\n2\n4\n", nout);
    for (unsigned k = 0; k < nout; k++) n += sprintf(text + n, "%s\n", lits[k % 5]);
    sprintf(text + n, "6 2 4\n");
    const char *path = dlm_test_file("outputs4200.aag", text);
    free(text);
    for (int m = 0; m < DLM_NMODES; m++) {
        dlm_program p;
        build_program(path, (dlm_mode)m, &p);
        assert_int_equal(p.nout, nout);
        char what[64];
        snprintf(what, sizeof what, "outputs4200.aag --mode %s", dlm_mode_name((dlm_mode)m));
        run_result cpu;
        run_on(DLM_BACKEND_CPU, &p, FIRST_CHAIN, FEWER(8000), &DEFAULTS, 0, 1, &cpu);
        jit_variants(what, &p, FIRST_CHAIN, FEWER(8000), 0, &cpu);
        result_free(&cpu);
        dlm_program_free(&p);
    }
}

/* Cubins kept in a directory (dlm_jit_cache_keep_in): a first cache compiles both
 * programs and writes two files; a second one, in a new cache, reads them back instead
 * (the same counts); a file overwritten with garbage is compiled again and rewritten;
 * a FIFO in a file's place is neither opened (no wait for a writer) nor replaced. */
static void jit_disk_cache(void **state)
{
    (void)state;
    SKIP_WITHOUT_DEVICE();
    dlm_program p;
    build_program("gen:adder-ripple:8", DLM_MODE_REVISE, &p);
    char dir[512], out[4096];
    snprintf(dir, sizeof dir, "%s/jitdir", dlm_test_tmpdir());
    run_result cpu;
    run_on(DLM_BACKEND_CPU, &p, FIRST_CHAIN, 3000, &DEFAULTS, 1, 1, &cpu);
    for (int round = 0; round < 4; round++) {
        dlm_err e;
        knobs kn = DEFAULTS;
        kn.kernel = DLM_CUDA_KERNEL_JIT;
        assert_int_equal(dlm_jit_cache_new(&kn.jit, &e), DLM_OK);
        assert_int_equal(dlm_jit_cache_keep_in(kn.jit, dir, &e), DLM_OK);
        run_result r, c;
        run_on(DLM_BACKEND_CUDA, &p, FIRST_CHAIN, 3000, &kn, 1, 1, &r); /* the EMIT program */
        run_on(DLM_BACKEND_CUDA, &p, FIRST_CHAIN, 3000, &kn, 0, 0, &c); /* the counts program */
        expect_same("adder-ripple:8 revise", "jit, cubins kept", &p, FIRST_CHAIN, 3000, &cpu, &r);
        assert_memory_equal(c.k.ones, cpu.k.ones, p.nout * sizeof *cpu.k.ones);
        uint64_t compiled = 0, loaded = 0;
        double secs = 0;
        dlm_jit_cache_stats(kn.jit, &compiled, &secs, &loaded);
        const uint64_t want_compiled[] = {2, 0, 1, 1};
        assert_int_equal(compiled, want_compiled[round]);
        assert_int_equal(loaded, 2 - want_compiled[round]);
        assert_int_equal(dlm_test_sh(out, sizeof out, "ls %s | grep -c '^dlmsim-jit-sm[0-9]*-\\(emit\\|counts\\)-[0-9a-f]\\{16\\}[.]cubin$'", dir), 0);
        assert_int_equal(atoi(out), 2);
        if (round == 1) /* garbage in the counts program's file */
            assert_int_equal(dlm_test_sh(out, sizeof out, "for f in %s/dlmsim-jit-sm*-counts-*.cubin; do printf garbage > \"$f\"; done", dir), 0);
        if (round == 2) /* a FIFO in its place */
            assert_int_equal(dlm_test_sh(out, sizeof out, "for f in %s/dlmsim-jit-sm*-counts-*.cubin; do rm \"$f\" && mkfifo \"$f\"; done", dir), 0);
        if (round == 3) /* still a FIFO */
            assert_int_equal(dlm_test_sh(out, sizeof out, "test -p %s/dlmsim-jit-sm*-counts-*.cubin", dir), 0);
        result_free(&r);
        result_free(&c);
        dlm_jit_cache_free(kn.jit);
    }
    result_free(&cpu);
    dlm_program_free(&p);
}

/* The JIT kernel's per-thread ones counters (programs of at most 32 outputs keep them
 * in registers across a thread's pairs, include/dlm_jit_cuda.h) over many pairs per
 * thread: on one emulated multiprocessor (DLM_EMU_SMS=1: 2048 resident threads) 600000
 * chains are over two pairs a thread; on a device, 10^8 chains. Counts (and the odd
 * parity) equal the CPU's, in two modes. */
static void jit_counts_over_many_pairs(void **state)
{
    (void)state;
    SKIP_WITHOUT_DEVICE();
#if defined(DLM_CUDA_EMU)
    const uint64_t n = 600000;
    setenv("DLM_EMU_SMS", "1", 1);
    assert_int_equal(dlm_emu_reset(), 0);
#else
    const uint64_t n = 100000000;
#endif
    for (int m = 0; m < 2; m++) {
        dlm_program p;
        build_program("gen:adder-ripple:8", m ? DLM_MODE_REVISE : DLM_MODE_COT, &p);
        assert_true(p.nout <= 32);
        knobs kn = DEFAULTS;
        kn.kernel = DLM_CUDA_KERNEL_JIT;
        run_result cpu, jit;
        run_on(DLM_BACKEND_CPU, &p, 77, n, &DEFAULTS, 0, 0, &cpu);
#if defined(DLM_CUDA_EMU)
        dlm_emu_launch_clear();
#endif
        run_on(DLM_BACKEND_CUDA, &p, 77, n, &kn, 0, 0, &jit);
        expect_same_counts("adder-ripple:8, many pairs a thread", &cpu.k, &jit.k);
#if defined(DLM_CUDA_EMU) /* one launch, at least two pairs a thread */
        dlm_emu_launch_rec rec;
        assert_int_equal(dlm_emu_launch_count(), 1);
        assert_int_equal(dlm_emu_launch_get(0, &rec), 0);
        assert_string_equal(rec.name, "dlm_jit_f_kernel");
        assert_true(2 * (uint64_t)rec.grid[0] * rec.block[0] <= (n + 77) / 128);
#endif
        result_free(&cpu);
        result_free(&jit);
        dlm_program_free(&p);
    }
#if defined(DLM_CUDA_EMU)
    unsetenv("DLM_EMU_SMS");
    assert_int_equal(dlm_emu_reset(), 0);
#endif
}

/* The JIT kernel refuses the interpreter's knobs (auto with them stays on the
 * interpreter) and an output-word budget below one pair, with the numbers. */
static void jit_refusals(void **state)
{
    (void)state;
    SKIP_WITHOUT_DEVICE();
    dlm_program p;
    build_program("gen:adder-ripple:8", DLM_MODE_REVISE, &p);
    dlm_counts k;
    dlm_err e;
    assert_int_equal(dlm_counts_init(&k, p.nout, 1, &e), DLM_OK);
    dlm_run_opts o;
    memset(&o, 0, sizeof o);
    o.chains = 1000;
    o.want_hist = 1;
    o.cuda_kernel = DLM_CUDA_KERNEL_JIT;
    o.cuda_block = 64;
    assert_int_equal(dlm_engine_cuda_bits_run(&p, &o, &k, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "interpreter's"));
    o.cuda_kernel = DLM_CUDA_KERNEL_AUTO; /* the interpreter, with its knob */
    assert_int_equal(dlm_engine_cuda_bits_run(&p, &o, &k, &e), DLM_OK);
    assert_int_equal(k.chains, 1000);
    o.cuda_block = 0;
    o.cuda_kernel = DLM_CUDA_KERNEL_JIT;
    o.max_bytes = 16 * (uint64_t)p.nout - 1; /* the histogram's output words of one pair */
    assert_int_equal(dlm_engine_cuda_bits_run(&p, &o, &k, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "does not fit"));
    assert_int_equal(k.chains, 1000);
    dlm_counts_free(&k);
    dlm_program_free(&p);
}

/* A token budget below one chain is refused with the numbers, not run (byte engine). */
static void cuda_ref_refuses_budget_below_one_chain(void **state)
{
    (void)state;
    SKIP_WITHOUT_DEVICE();
    dlm_program p;
    build_program("gen:adder-ripple:8", DLM_MODE_COT, &p);
    assert_true(p.L > 1);
    dlm_counts k;
    dlm_err e;
    assert_int_equal(dlm_counts_init(&k, p.nout, 0, &e), DLM_OK);
    dlm_run_opts o;
    memset(&o, 0, sizeof o);
    o.chains = 10;
    o.max_bytes = p.L - 1;
    assert_int_equal(dlm_engine_cuda_run(&p, &o, &k, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "does not fit"));
    assert_int_equal(k.chains, 0);
    dlm_counts_free(&k);
    dlm_program_free(&p);
}

/* --max-memory (the program's max_bytes, which main sets from --max-memory or
 * DLMSIM_MAX_MEMORY; dlm_memory_budget) bounds both engines' buffers as o->max_bytes
 * does: below one chain (one pair) refused with the budget named. */
static void cuda_engines_obey_max_memory(void **state)
{
    (void)state;
    SKIP_WITHOUT_DEVICE();
    dlm_program p;
    build_program("gen:adder-ripple:8", DLM_MODE_REVISE, &p);
    const uint64_t pair_bytes = 16 * plan_slots(&p);
    dlm_counts k;
    dlm_err e;
    assert_int_equal(dlm_counts_init(&k, p.nout, 0, &e), DLM_OK);
    dlm_run_opts o;
    memset(&o, 0, sizeof o);
    o.chains = 10;
    p.max_bytes = p.L - 1;
    assert_int_equal(dlm_engine_cuda_run(&p, &o, &k, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "does not fit"));
    assert_non_null(strstr(e.msg, "--max-memory"));
    p.max_bytes = pair_bytes - 1;
    assert_int_equal(dlm_engine_cuda_bits_run(&p, &o, &k, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "does not fit"));
    assert_non_null(strstr(e.msg, "--max-memory"));
    assert_int_equal(k.chains, 0);
    dlm_counts_free(&k);
    dlm_program_free(&p);
}

/* The bit-sliced kernel: a value budget below one pair of words (16 bytes per slot) is
 * refused with the numbers; exactly one pair runs, one pair per chunk, and equals the
 * CPU; an odd block size is refused. */
static void cuda_bits_budget_of_one_pair(void **state)
{
    (void)state;
    SKIP_WITHOUT_DEVICE();
    dlm_program p;
    build_program("gen:adder-ripple:8", DLM_MODE_REVISE, &p);
    const uint64_t pair_bytes = 16 * plan_slots(&p);
    dlm_counts k;
    dlm_err e;
    assert_int_equal(dlm_counts_init(&k, p.nout, 0, &e), DLM_OK);
    dlm_run_opts o;
    memset(&o, 0, sizeof o);
    o.first_chain = 77;
    o.chains = 10;
    o.max_bytes = pair_bytes - 1;
    assert_int_equal(dlm_engine_cuda_bits_run(&p, &o, &k, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "does not fit"));
    assert_non_null(strstr(e.msg, "max_bytes"));
    assert_int_equal(k.chains, 0);
    o.max_bytes = 0;
    o.cuda_block = 48;
    assert_int_equal(dlm_engine_cuda_bits_run(&p, &o, &k, &e), DLM_EINPUT);
    assert_int_equal(k.chains, 0);
    dlm_counts_free(&k);

    const knobs one_pair = {pair_bytes, 0, 0, DLM_CUDA_KERNEL_AUTO, NULL};
    run_result cpu, gpu;
    run_on(DLM_BACKEND_CPU, &p, 77, 3001, &DEFAULTS, 1, 1, &cpu);
    run_on(DLM_BACKEND_CUDA, &p, 77, 3001, &one_pair, 1, 1, &gpu);
    expect_same("adder-ripple:8 revise", "one pair a chunk", &p, 77, 3001, &cpu, &gpu);
    assert_true(gpu.k.bytes_tokens <= pair_bytes);
    result_free(&cpu);
    result_free(&gpu);
    dlm_program_free(&p);
}

/* Resolution runs everywhere: without a device AUTO falls back to the CPU with one
 * notice and CUDA is refused with the reason; with one, AUTO picks CUDA. */
static void backend_resolution(void **state)
{
    (void)state;
    char why[256] = "", notice[512] = "x";
    dlm_err e;
    dlm_backend got = DLM_BACKEND_AUTO;
    const int n = dlm_cuda_device_count(why, sizeof why);

    assert_int_equal(dlm_backend_resolve(DLM_BACKEND_CPU, &got, notice, sizeof notice, &e), DLM_OK);
    assert_int_equal(got, DLM_BACKEND_CPU);
    assert_string_equal(notice, "");

    /* every name parses back to its backend */
    const dlm_backend all[] = {DLM_BACKEND_AUTO, DLM_BACKEND_CPU, DLM_BACKEND_CPU_REF,
                               DLM_BACKEND_CUDA, DLM_BACKEND_CUDA_REF};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        dlm_backend b = DLM_BACKEND_AUTO;
        assert_int_equal(dlm_backend_parse(dlm_backend_name(all[i]), &b), 0);
        assert_int_equal(b, all[i]);
    }
    assert_string_equal(dlm_backend_name(DLM_BACKEND_CUDA_REF), "cuda-ref");

    assert_int_equal(dlm_backend_resolve(DLM_BACKEND_AUTO, &got, notice, sizeof notice, &e), DLM_OK);
    if (n > 0) {
        assert_int_equal(got, DLM_BACKEND_CUDA);
        assert_string_equal(notice, "");
        assert_int_equal(dlm_backend_resolve(DLM_BACKEND_CUDA, &got, NULL, 0, &e), DLM_OK);
        assert_int_equal(got, DLM_BACKEND_CUDA);
        assert_int_equal(dlm_backend_resolve(DLM_BACKEND_CUDA_REF, &got, NULL, 0, &e), DLM_OK);
        assert_int_equal(got, DLM_BACKEND_CUDA_REF);
    } else {
        assert_true(why[0] != 0);
        assert_int_equal(got, DLM_BACKEND_CPU);
        assert_non_null(strstr(notice, "dlmsim: CUDA not usable: "));
        assert_non_null(strstr(notice, why));
        assert_non_null(strstr(notice, "using the CPU backend"));
        assert_int_equal(dlm_backend_resolve(DLM_BACKEND_CUDA, &got, NULL, 0, &e), DLM_EINPUT);
        assert_non_null(strstr(e.msg, why));
        assert_int_equal(dlm_backend_resolve(DLM_BACKEND_CUDA_REF, &got, NULL, 0, &e), DLM_EINPUT);
        assert_non_null(strstr(e.msg, "cuda-ref"));
        assert_non_null(strstr(e.msg, why));
#if !DLM_HAVE_CUDA
        assert_string_equal(why, "built without CUDA");
#endif
    }
    /* AUTO must be resolved before running */
    dlm_program p;
    memset(&p, 0, sizeof p);
    dlm_run_opts o;
    memset(&o, 0, sizeof o);
    dlm_counts k;
    memset(&k, 0, sizeof k);
    assert_int_equal(dlm_engine_run(DLM_BACKEND_AUTO, &p, &o, &k, &e), DLM_EINPUT);
}

#if defined(DLM_CUDA_EMU)
/* The fake device in state mode (DLM_EMU_DEVICE; devices: DLM_EMU_DEVICES, NULL = unset). */
static void emu_state(const char *mode, const char *devices);
/* The fake device as the environment the test binary was started in said (so that
 * DLM_EMU_DEVICE=none for the whole binary stays none after a test that changes it). */
static void emu_restore(void);
#endif

#if defined(DLM_CUDA_EMU)
static char emu_saved_mode[64], emu_saved_devices[64];
static int emu_saved_have_mode = -1, emu_saved_have_devices;

static void emu_save(void)
{
    if (emu_saved_have_mode >= 0) return;
    const char *m = getenv("DLM_EMU_DEVICE"), *d = getenv("DLM_EMU_DEVICES");
    emu_saved_have_mode = m != NULL;
    emu_saved_have_devices = d != NULL;
    snprintf(emu_saved_mode, sizeof emu_saved_mode, "%s", m ? m : "");
    snprintf(emu_saved_devices, sizeof emu_saved_devices, "%s", d ? d : "");
}

static void emu_restore(void)
{
    emu_save();
    emu_state(emu_saved_have_mode ? emu_saved_mode : NULL,
              emu_saved_have_devices ? emu_saved_devices : NULL);
}

static void emu_state(const char *mode, const char *devices)
{
    emu_save();
    if (mode) setenv("DLM_EMU_DEVICE", mode, 1);
    else unsetenv("DLM_EMU_DEVICE");
    if (devices) setenv("DLM_EMU_DEVICES", devices, 1);
    else unsetenv("DLM_EMU_DEVICES");
    assert_int_equal(dlm_emu_reset(), 0);
}

/* Each way of having no usable device, as the library and the command line say it: the
 * reason names which (no device, no driver, a driver too old with both versions, another
 * error); auto falls back with one notice line, cuda and cuda-ref exit 2 with one line. */
static void detection_states(void **state)
{
    (void)state;
    static const struct {
        const char *mode, *devices, *why;
    } cases[] = {
        {"none", NULL, "no CUDA device (cudaErrorNoDevice)"},
        {"ok", "0", "no CUDA device (cudaErrorNoDevice)"},
        {"no-driver", NULL, "no CUDA driver installed (cudaDriverGetVersion gives 0)"},
        {"old-driver", NULL, "the CUDA driver supports CUDA 12.4, this dlmsim was built for "
                             "CUDA 13.0 (cudaErrorInsufficientDriver: update the driver)"},
        {"error", NULL, "CUDA error cudaErrorInitializationError (initialization error) from "
                        "cudaGetDeviceCount, driver for CUDA 13.0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        emu_state(cases[i].mode, cases[i].devices);
        char why[256] = "", notice[512] = "", want[512], out[4096];
        dlm_err e;
        dlm_backend got = DLM_BACKEND_CUDA;
        assert_int_equal(dlm_cuda_device_count(why, sizeof why), 0);
        assert_string_equal(why, cases[i].why);
        assert_int_equal(dlm_backend_resolve(DLM_BACKEND_AUTO, &got, notice, sizeof notice, &e),
                         DLM_OK);
        assert_int_equal(got, DLM_BACKEND_CPU);
        snprintf(want, sizeof want, "dlmsim: CUDA not usable: %s; using the CPU backend",
                 cases[i].why);
        assert_string_equal(notice, want);
        assert_int_equal(dlm_backend_resolve(DLM_BACKEND_CUDA, &got, NULL, 0, &e), DLM_EINPUT);
        assert_non_null(strstr(e.msg, cases[i].why));
        assert_int_equal(dlm_cuda_select_device(0, why, sizeof why), -1);
        assert_string_equal(why, cases[i].why);

        /* the command line: auto runs on the CPU after exactly the notice line */
        const char *env = cases[i].devices ? "DLM_EMU_DEVICES=0" : "";
        int rc = dlm_test_sh(out, sizeof out,
                             "DLM_EMU_DEVICE=%s %s %s run gen:parity-revise:8 --chains 300 "
                             "--backend auto --quiet --json 2>&1 >/dev/null",
                             cases[i].mode, env, DLM_BIN);
        assert_int_equal(rc, 0);
        snprintf(want, sizeof want, "dlmsim: CUDA not usable: %s; using the CPU backend\n",
                 cases[i].why);
        assert_string_equal(out, want);
        for (int r = 0; r < 2; r++) {
            const char *be = r ? "cuda-ref" : "cuda";
            rc = dlm_test_sh(out, sizeof out,
                             "DLM_EMU_DEVICE=%s %s %s run gen:parity-revise:8 --chains 300 "
                             "--backend %s --quiet 2>&1 >/dev/null",
                             cases[i].mode, env, DLM_BIN, be);
            assert_int_equal(rc, 2);
            assert_non_null(strstr(out, cases[i].why));
            assert_non_null(strstr(out, be));
            assert_non_null(strchr(out, '\n'));
            assert_string_equal(strchr(out, '\n'), "\n"); /* one line */
        }
    }
    emu_restore();
}

/* dlm_cuda_select_device: ordinal modulo the devices, current afterwards. */
static void select_device(void **state)
{
    (void)state;
    char why[256] = "x";
    int d = -1;
    emu_state(NULL, "4");
    assert_int_equal(dlm_cuda_device_count(why, sizeof why), 4);
    for (int ord = 0; ord < 9; ord++) {
        assert_int_equal(dlm_cuda_select_device(ord, why, sizeof why), ord % 4);
        assert_string_equal(why, "");
        assert_int_equal(cudaGetDevice(&d), cudaSuccess);
        assert_int_equal(d, ord % 4);
    }
    assert_int_equal(dlm_cuda_select_device(-1, why, sizeof why), -1);
    assert_string_equal(why, "device ordinal -1 is negative");
    assert_int_equal(cudaGetDevice(&d), cudaSuccess);
    assert_int_equal(d, 0); /* unchanged by the refusal */
    emu_state(NULL, NULL);
    assert_int_equal(dlm_cuda_select_device(3, why, sizeof why), 0);
    emu_restore();
}
#else
/* dlm_cuda_select_device outside the emulation: -1 with the reason without a device
 * (or without CUDA), else ordinal modulo the devices. */
static void select_device(void **state)
{
    (void)state;
    char why[256] = "", why2[256] = "";
    const int n = dlm_cuda_device_count(why, sizeof why);
    const int d = dlm_cuda_select_device(5, why2, sizeof why2);
    if (n == 0) {
        assert_int_equal(d, -1);
        assert_string_equal(why2, why);
    } else {
        assert_int_equal(d, 5 % n);
        assert_int_equal(dlm_cuda_select_device(0, why2, sizeof why2), 0);
    }
}
#endif

#ifndef DLM_HAVE_MPI
#define DLM_HAVE_MPI 0
#endif
/* mpirun -n 3 dlmsim run|verify --backend cuda: each rank makes device (node-local
 * rank) % (devices) current and says so; the counts are those of one CPU process.
 * Under the emulation the node has 2 devices (DLM_EMU_DEVICES=2). */
static void ranks_take_gpus_by_local_rank(void **state)
{
    (void)state;
    char out[8192];
    if (!DLM_HAVE_MPI || dlm_test_sh(NULL, 0, "command -v mpirun") != 0) {
        print_message("skipped: no Open MPI (this dlmsim is built without it, or mpirun is missing)\n");
        skip();
    }
    SKIP_WITHOUT_DEVICE(); /* also under the emulation with its device taken away */
#if defined(DLM_CUDA_EMU)
    const char *env = "DLM_EMU_DEVICES=2 ";
    const int ndev = 2;
#else
    const char *env = "";
    const int ndev = dlm_cuda_device_count(NULL, 0);
#endif
    const char *d = dlm_test_tmpdir();
#define MPI3 "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 timeout 300 mpirun --oversubscribe -n 3 "
#define GCASE "gen:adder-ripple:8 --mode remask --chains 30000 --seed 5 --threads 1"
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s run " GCASE " --quiet --backend cpu --counts %s/g1 >/dev/null",
                                 DLM_BIN, d), 0);
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s" MPI3 "%s run " GCASE " --backend cuda --counts %s/g3 "
                                 "2>%s/g3.err >/dev/null && cmp %s/g1 %s/g3", env, DLM_BIN, d, d, d, d), 0);
    for (int r = 0; r < 3; r++) {
        char want[128];
        snprintf(want, sizeof want, "dlmsim: rank %d of 3 ran", r);
        assert_int_equal(dlm_test_sh(out, sizeof out, "grep '^%s [0-9]* chains on CUDA device' %s/g3.err", want, d), 0);
        snprintf(want, sizeof want, " on CUDA device %d\n", r % ndev);
        assert_non_null(strstr(out, want));
    }
    /* verify: the same rule, and the verdict of one process */
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s" MPI3 "%s verify gen:adder-ripple:8 --mode remask --chains 30000 "
                                 "--backend cuda --threads 1 2>&1 | grep -c -e 'on CUDA device' -e '^verdict    PASS'",
                                 env, DLM_BIN), 0);
    assert_string_equal(out, "4\n");
#undef MPI3
#undef GCASE
}

/* Without a device both CUDA engines refuse with an input error, never run. */
static void cuda_engine_without_device_refuses(void **state)
{
    (void)state;
    char why[256] = "";
#if defined(DLM_CUDA_EMU)
    /* the emulated device can be taken away: DLM_EMU_DEVICE=none (cudaErrorNoDevice) */
    emu_state("none", NULL);
#endif
    if (dlm_cuda_device_count(why, sizeof why) > 0) {
        print_message("skipped: a CUDA device is present; this checks the no-device path\n");
        skip();
    }
    dlm_program p;
    memset(&p, 0, sizeof p);
    dlm_run_opts o;
    memset(&o, 0, sizeof o);
    o.chains = 1;
    dlm_counts k;
    dlm_err e;
    assert_int_equal(dlm_counts_init(&k, 0, 0, &e), DLM_OK);
    assert_int_equal(dlm_engine_cuda_run(&p, &o, &k, &e), DLM_EINPUT);
    assert_int_equal(dlm_engine_cuda_bits_run(&p, &o, &k, &e), DLM_EINPUT);
    assert_int_equal(k.chains, 0);
    dlm_counts_free(&k);
#if defined(DLM_CUDA_EMU)
    emu_restore(); /* the device is back (if it was there) for the tests after this one */
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backend_resolution),
        cmocka_unit_test(cuda_engine_without_device_refuses),
#if defined(DLM_CUDA_EMU)
        cmocka_unit_test(detection_states),
#endif
        cmocka_unit_test(select_device),
        cmocka_unit_test(ranks_take_gpus_by_local_rank),
        cmocka_unit_test(parity_revise_16),
        cmocka_unit_test(parity_revise_64),
        cmocka_unit_test(adder_ripple_8),
        cmocka_unit_test(random_8_6_1),
        cmocka_unit_test(epfl_ctrl),
        cmocka_unit_test(mult_16_one_warp_blocks),
        cmocka_unit_test(random_600_global_values),
        cmocka_unit_test(random_4200_many_outputs),
        cmocka_unit_test(jit_4200_outputs),
        cmocka_unit_test(jit_refusals),
        cmocka_unit_test(jit_counts_over_many_pairs),
        cmocka_unit_test(jit_disk_cache),
        cmocka_unit_test(cuda_ref_refuses_budget_below_one_chain),
        cmocka_unit_test(cuda_bits_budget_of_one_pair),
        cmocka_unit_test(cuda_engines_obey_max_memory),
    };
#if defined(DLM_CUDA_EMU)
    return cmocka_run_group_tests_name("cuda (CPU emulation of the device)", tests, NULL, NULL);
#else
    return cmocka_run_group_tests_name("cuda", tests, NULL, NULL);
#endif
}
