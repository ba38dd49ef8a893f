/* test_cuda.c — the CUDA engine against the CPU engine, bit for bit, through the C ABI.
 *
 * For each circuit (three generators and the EPFL ctrl.aig) and each mode (cot,
 * remask, revise, ar): 100000 chains on the CPU and on CUDA with the same seed and
 * first chain; raw samples are compared with memcmp (tolerance zero; on mismatch the
 * first differing chain and 5 more are printed) and so are the histogram, the ones
 * counts and the odd-parity count. CUDA is also run with two small chunk sizes (via
 * max_bytes) and split over two calls; the counts must not change.
 *
 * Every GPU test calls skip() with the reason when dlm_cuda_device_count() is 0:
 * skipped, never passed. The backend-resolution test runs everywhere (it checks the
 * no-device answers on a machine without a device, the CUDA answers on one with).
 */
#include "dlm_test.h"
#include "dlm_engine.h"
#include "dlm_gen.h"
#include "dlm_io.h"
#include "dlm_level.h"
#include "dlm_program.h"

#include <inttypes.h>

#define NCHAINS 100000u
#define FIRST_CHAIN UINT64_C(1000003)
#define SEED UINT64_C(0x9e3779b97f4a7c15)
#define HIST_BITS_MAX 20 /* compare full histograms up to this many outputs */

/* Skips the calling test (with the reason) when no CUDA device is usable. */
#define SKIP_WITHOUT_DEVICE()                                                     \
    do {                                                                          \
        char why_[256] = "";                                                      \
        if (dlm_cuda_device_count(why_, sizeof why_) == 0) {                      \
            print_message("skipped: no CUDA device (%s)\n", why_);                \
            skip();                                                               \
        }                                                                         \
    } while (0)

// ---------------------------------------------------------------- helpers

/* Loads, levelizes and compiles spec for mode; fails the test on any error. */
static void build_program(const char *spec, dlm_mode mode, dlm_program *p)
{
    dlm_circuit c;
    dlm_levels lv;
    dlm_err e;
    dlm_status st = dlm_circuit_load(&c, spec, &e);
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

/* Runs chains [first, first+n) of p on backend b into fresh counts (and samples). */
static void run_on(dlm_backend b, const dlm_program *p, uint64_t first, uint64_t n,
                   uint64_t max_bytes, int want_hist, int want_samples, run_result *r)
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
    o.max_bytes = max_bytes;
    dlm_status st = dlm_engine_run(b, p, &o, &r->k, &e);
    if (st != DLM_OK) print_error("%s engine: %s\n", b == DLM_BACKEND_CUDA ? "cuda" : "cpu", e.msg);
    assert_int_equal(st, DLM_OK);
    assert_int_equal(r->k.chains, n);
}

static void result_free(run_result *r)
{
    dlm_counts_free(&r->k);
    free(r->samples);
}

/* memcmp of the samples; on mismatch prints the first differing chain and 5 more. */
static void expect_same_samples(const char *what, const dlm_program *p, const uint8_t *want,
                                const uint8_t *got, uint64_t n)
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
            print_error("%s: chain %" PRIu64 ": cpu %s%s cuda %s%s\n", what, FIRST_CHAIN + i, a,
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

/* The whole comparison for one circuit, all four modes. */
static void cpu_vs_cuda(const char *spec)
{
    for (int m = 0; m < DLM_NMODES; m++) {
        dlm_program p;
        build_program(spec, (dlm_mode)m, &p);
        char what[256];
        snprintf(what, sizeof what, "%s --mode %s", spec, dlm_mode_name((dlm_mode)m));
        const int want_hist = p.nout <= HIST_BITS_MAX;

        run_result cpu, gpu, small_a, small_b, half1;
        run_on(DLM_BACKEND_CPU, &p, FIRST_CHAIN, NCHAINS, 0, want_hist, 1, &cpu);
        run_on(DLM_BACKEND_CUDA, &p, FIRST_CHAIN, NCHAINS, 0, want_hist, 1, &gpu);
        expect_same_samples(what, &p, cpu.samples, gpu.samples, NCHAINS);
        expect_same_counts(what, &cpu.k, &gpu.k);
        assert_true(gpu.k.bytes_tokens >= (uint64_t)p.L); /* something was reported */

        /* two chunk sizes (token budgets of 1000 and 37 chains; 37 leaves a ragged
         * last chunk) must give the same counts and samples */
        const uint64_t L = p.L ? p.L : 1;
        run_on(DLM_BACKEND_CUDA, &p, FIRST_CHAIN, NCHAINS, 1000 * L, want_hist, 1, &small_a);
        run_on(DLM_BACKEND_CUDA, &p, FIRST_CHAIN, NCHAINS, 37 * L, want_hist, 1, &small_b);
        expect_same_counts(what, &gpu.k, &small_a.k);
        expect_same_counts(what, &gpu.k, &small_b.k);
        expect_same_samples(what, &p, gpu.samples, small_a.samples, NCHAINS);
        expect_same_samples(what, &p, gpu.samples, small_b.samples, NCHAINS);
        if (p.L) assert_true(small_b.k.bytes_tokens <= 37 * L);

        /* the batch split over two calls, added into one counts */
        run_on(DLM_BACKEND_CUDA, &p, FIRST_CHAIN, NCHAINS / 2, 0, want_hist, 0, &half1);
        dlm_run_opts o;
        memset(&o, 0, sizeof o);
        o.first_chain = FIRST_CHAIN + NCHAINS / 2;
        o.chains = NCHAINS - NCHAINS / 2;
        o.seed = SEED;
        o.want_hist = want_hist;
        dlm_err e;
        dlm_status st = dlm_engine_cuda_run(&p, &o, &half1.k, &e);
        if (st != DLM_OK) print_error("%s: %s\n", what, e.msg);
        assert_int_equal(st, DLM_OK);
        expect_same_counts(what, &gpu.k, &half1.k);

        result_free(&cpu);
        result_free(&gpu);
        result_free(&small_a);
        result_free(&small_b);
        result_free(&half1);
        dlm_program_free(&p);
    }
}

// ---------------------------------------------------------------- tests

static void parity_revise_16(void **state)
{
    (void)state;
    SKIP_WITHOUT_DEVICE();
    cpu_vs_cuda("gen:parity-revise:16");
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

/* A token budget below one chain is refused with the numbers, not run. */
static void cuda_refuses_budget_below_one_chain(void **state)
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

    assert_int_equal(dlm_backend_resolve(DLM_BACKEND_AUTO, &got, notice, sizeof notice, &e), DLM_OK);
    if (n > 0) {
        assert_int_equal(got, DLM_BACKEND_CUDA);
        assert_string_equal(notice, "");
        assert_int_equal(dlm_backend_resolve(DLM_BACKEND_CUDA, &got, NULL, 0, &e), DLM_OK);
        assert_int_equal(got, DLM_BACKEND_CUDA);
    } else {
        assert_true(why[0] != 0);
        assert_int_equal(got, DLM_BACKEND_CPU);
        assert_non_null(strstr(notice, "dlmsim: no CUDA device ("));
        assert_non_null(strstr(notice, why));
        assert_non_null(strstr(notice, "using the CPU backend"));
        assert_int_equal(dlm_backend_resolve(DLM_BACKEND_CUDA, &got, NULL, 0, &e), DLM_EINPUT);
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

/* Without a device the CUDA engine refuses with an input error, never runs. */
static void cuda_engine_without_device_refuses(void **state)
{
    (void)state;
    char why[256] = "";
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
    assert_int_equal(k.chains, 0);
    dlm_counts_free(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backend_resolution),
        cmocka_unit_test(cuda_engine_without_device_refuses),
        cmocka_unit_test(parity_revise_16),
        cmocka_unit_test(adder_ripple_8),
        cmocka_unit_test(random_8_6_1),
        cmocka_unit_test(epfl_ctrl),
        cmocka_unit_test(cuda_refuses_budget_below_one_chain),
    };
    return cmocka_run_group_tests_name("cuda", tests, NULL, NULL);
}
