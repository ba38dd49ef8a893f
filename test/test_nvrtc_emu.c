/* test_nvrtc_emu.c — the CPU emulation's NVRTC and loaded libraries (test/cuda_emu/
 * nvrtc.h; cudaLibraryLoadData, cudaLibraryGetKernel, cudaLaunchKernel in emu.cc), the
 * path the JIT engine (kernels/engine_cuda_jit.cu) takes: include/dlm_jit_cuda.h, a
 * hand-written dlm_jit_f and DLM_JIT_KERNEL(dlm_jit_f), compiled, loaded and launched
 * over a few hundred pairs, its ones, odd count, samples and histogram against
 * dlm_coin on the host. Also: a compile error (NVRTC_ERROR_COMPILATION, the log names
 * it), the compile cache (DLM_EMU_JIT_CACHE), bad handles and the fake device's
 * refusals. Built only under the emulation (test/cuda_emu/emu.mk).
 */
#include "dlm_test.h"
#include "dlm_step.h"

#include <dirent.h>
#include <inttypes.h>
#include <time.h>

#include "cuda_runtime.h"
#include "dlm_emu.h"
#include "nvrtc.h"

#define SEED UINT64_C(0x9e3779b97f4a7c15)
#define COIN_A 3u
#define COIN_B 5u
#define KERNEL "dlm_jit_f_kernel"

/* as include/dlm_jit_cuda.h's dlm_jit_args (C layout; the kernel is C++) */
typedef struct {
    uint64_t npairs, chain0, lo, hi, seed;
    uint32_t nout;
    int ones_shared;
    int hist_mode;
    unsigned long long *ones, *odd;
    unsigned long long *hist;
    uint64_t *ow;
    uint64_t ostride;
    uint8_t *samples;
    uint64_t sbytes;
} jit_args;
enum { HIST_NONE = 0, HIST_SHARED = 1, HIST_GLOBAL = 2 };

/* one output: fair coin COIN_A */
static const char *const SRC_ONE =
    "#include \"dlm_jit_cuda.h\"\n"
    "DLM_JIT_FN void dlm_jit_f(uint64_t seed, uint64_t chain0, dlm_jit_sink &o)\n"
    "{\n"
    "    uint64_t a, b;\n"
    "    dlm_coin_pair(seed, chain0 >> 7, UINT64_C(3), &a, &b);\n"
    "    dlm_jit_out(o, 0u, a, b);\n"
    "}\n"
    "DLM_JIT_KERNEL(dlm_jit_f)\n";

/* two outputs: COIN_A, COIN_A xor COIN_B (odd parity = COIN_B) */
static const char *const SRC_TWO =
    "#include \"dlm_jit_cuda.h\"\n"
    "DLM_JIT_FN void dlm_jit_f(uint64_t seed, uint64_t chain0, dlm_jit_sink &o)\n"
    "{\n"
    "    uint64_t a, b, c, d;\n"
    "    dlm_coin_pair(seed, chain0 >> 7, UINT64_C(3), &a, &b);\n"
    "    dlm_jit_out(o, 0u, a, b);\n"
    "    dlm_coin_pair(seed, chain0 >> 7, UINT64_C(5), &c, &d);\n"
    "    dlm_jit_out(o, 1u, a ^ c, b ^ d);\n"
    "}\n"
    "DLM_JIT_KERNEL(dlm_jit_f)\n";

static const char *const NVRTC_OPTS[] = {"--gpu-architecture=sm_90", "-default-device",
                                         "-std=c++17", "--fmad=false"};

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Compiles src with NVRTC_OPTS and extra (may be NULL); returns the result, the log
 * (malloc'd) and on success the cubin (malloc'd) and its size. */
static nvrtcResult compile(const char *src, const char *extra, char **cubin, size_t *size,
                           char **log, double *seconds)
{
    const char *opts[8];
    int n = 0;
    for (size_t i = 0; i < sizeof NVRTC_OPTS / sizeof *NVRTC_OPTS; i++) opts[n++] = NVRTC_OPTS[i];
    if (extra) opts[n++] = extra;
    nvrtcProgram prog = NULL;
    assert_int_equal(nvrtcCreateProgram(&prog, src, "dlm_jit.cu", 0, NULL, NULL), NVRTC_SUCCESS);
    const double t0 = now_s();
    const nvrtcResult r = nvrtcCompileProgram(prog, n, opts);
    if (seconds) *seconds = now_s() - t0;
    size_t ls = 0;
    assert_int_equal(nvrtcGetProgramLogSize(prog, &ls), NVRTC_SUCCESS);
    assert_true(ls >= 1);
    *log = malloc(ls);
    assert_non_null(*log);
    assert_int_equal(nvrtcGetProgramLog(prog, *log), NVRTC_SUCCESS);
    assert_int_equal((*log)[ls - 1], 0);
    *cubin = NULL;
    *size = 0;
    if (r == NVRTC_SUCCESS) {
        assert_int_equal(nvrtcGetCUBINSize(prog, size), NVRTC_SUCCESS);
        assert_true(*size > 0);
        *cubin = malloc(*size);
        assert_non_null(*cubin);
        assert_int_equal(nvrtcGetCUBIN(prog, *cubin), NVRTC_SUCCESS);
    } else {
        size_t s = 0;
        assert_int_equal(nvrtcGetCUBINSize(prog, &s), NVRTC_ERROR_INVALID_PROGRAM);
    }
    assert_int_equal(nvrtcDestroyProgram(&prog), NVRTC_SUCCESS);
    assert_null(prog);
    return r;
}

/* Compiles (must succeed) and loads src; the library and its kernel. */
static void build(const char *src, const char *extra, cudaLibrary_t *lib, cudaKernel_t *k)
{
    char *cubin, *log;
    size_t size;
    double s;
    const nvrtcResult r = compile(src, extra, &cubin, &size, &log, &s);
    if (r != NVRTC_SUCCESS) print_error("compile: %s\n%s\n", nvrtcGetErrorString(r), log);
    assert_int_equal(r, NVRTC_SUCCESS);
    print_message("compiled %s%s in %.2f s (%zu bytes)\n", extra ? extra : "",
                  getenv("DLM_EMU_JIT_CACHE") ? " (cache on)" : "", s, size);
    assert_int_equal(cudaLibraryLoadData(lib, cubin, NULL, NULL, 0, NULL, NULL, 0), cudaSuccess);
    free(cubin); /* the library keeps no reference to the code */
    free(log);
    assert_int_equal(cudaLibraryGetKernel(k, *lib, KERNEL), cudaSuccess);
    cudaKernel_t again = NULL;
    assert_int_equal(cudaLibraryGetKernel(&again, *lib, KERNEL), cudaSuccess);
    assert_ptr_equal(again, *k);
}

/* The reference: output 0 = COIN_A, output 1 = COIN_A ^ COIN_B, of chain c. */
static unsigned ref_out(uint64_t c, unsigned k)
{
    const unsigned a = dlm_coin(SEED, c, COIN_A, DLM_COIN_FAIR);
    return k == 0 ? a : a ^ dlm_coin(SEED, c, COIN_B, DLM_COIN_FAIR);
}

typedef struct {
    uint32_t nout;
    int ones_shared, hist_mode, emit, samples;
    unsigned grid, block;
} run_case;

/* One launch of kernel k over npairs pairs from chain0, live [lo, hi); checks every
 * count (and samples, histogram) against ref_out. */
static void run_and_check(cudaKernel_t k, const run_case *rc, uint64_t npairs, uint64_t chain0,
                          uint64_t lo, uint64_t hi)
{
    const uint32_t nout = rc->nout;
    const uint64_t nlive = hi - lo, nbins = (uint64_t)1 << nout;
    unsigned long long *d_ones = NULL, *d_odd = NULL, *d_hist = NULL;
    uint64_t *d_ow = NULL;
    uint8_t *d_samples = NULL;
    assert_int_equal(cudaMalloc((void **)&d_ones, nout * sizeof *d_ones), cudaSuccess);
    assert_int_equal(cudaMalloc((void **)&d_odd, sizeof *d_odd), cudaSuccess);
    assert_int_equal(cudaMemset(d_ones, 0, nout * sizeof *d_ones), cudaSuccess);
    assert_int_equal(cudaMemset(d_odd, 0, sizeof *d_odd), cudaSuccess);
    jit_args a;
    memset(&a, 0, sizeof a);
    a.npairs = npairs;
    a.chain0 = chain0;
    a.lo = lo;
    a.hi = hi;
    a.seed = SEED;
    a.nout = nout;
    a.ones_shared = rc->ones_shared;
    a.hist_mode = rc->hist_mode;
    a.ones = d_ones;
    a.odd = d_odd;
    if (rc->emit) {
        a.ostride = 2 * npairs;
        a.sbytes = (nout + 7) / 8;
        assert_int_equal(cudaMalloc((void **)&d_ow, nout * a.ostride * sizeof *d_ow), cudaSuccess);
        a.ow = d_ow;
        if (rc->samples) {
            assert_int_equal(cudaMalloc((void **)&d_samples, nlive * a.sbytes), cudaSuccess);
            a.samples = d_samples;
        }
        if (rc->hist_mode != HIST_NONE) {
            assert_int_equal(cudaMalloc((void **)&d_hist, nbins * sizeof *d_hist), cudaSuccess);
            assert_int_equal(cudaMemset(d_hist, 0, nbins * sizeof *d_hist), cudaSuccess);
            a.hist = d_hist;
        }
    }
    const size_t shmem = (rc->ones_shared ? nout : 0) * sizeof(unsigned) +
                         (rc->hist_mode == HIST_SHARED ? nbins * sizeof(unsigned) : 0);
    void *args[] = {&a};
    dlm_emu_launch_clear();
    dim3 grid = {rc->grid, 1, 1}, block = {rc->block, 1, 1};
    assert_int_equal(cudaLaunchKernel((const void *)k, grid, block, args, shmem, 0), cudaSuccess);
    assert_int_equal(cudaGetLastError(), cudaSuccess);
    assert_int_equal(dlm_emu_launch_count(), 1);
    dlm_emu_launch_rec r;
    assert_int_equal(dlm_emu_launch_get(0, &r), 0);
    assert_string_equal(r.name, KERNEL);
    assert_int_equal(r.grid[0], rc->grid);
    assert_int_equal(r.block[0], rc->block);
    assert_int_equal(r.shmem, shmem);

    unsigned long long ones[8] = {0}, odd = 0, want_ones[8] = {0}, want_odd = 0;
    unsigned long long hist[4] = {0}, want_hist[4] = {0};
    assert_true(nout <= 2);
    assert_int_equal(cudaMemcpy(ones, d_ones, nout * sizeof *ones, cudaMemcpyDeviceToHost), cudaSuccess);
    assert_int_equal(cudaMemcpy(&odd, d_odd, sizeof odd, cudaMemcpyDeviceToHost), cudaSuccess);
    uint8_t *samples = NULL;
    if (d_samples) {
        samples = malloc(nlive * a.sbytes);
        assert_non_null(samples);
        assert_int_equal(cudaMemcpy(samples, d_samples, nlive * a.sbytes, cudaMemcpyDeviceToHost), cudaSuccess);
    }
    if (d_hist)
        assert_int_equal(cudaMemcpy(hist, d_hist, nbins * sizeof *hist, cudaMemcpyDeviceToHost), cudaSuccess);
    uint64_t bad_samples = 0;
    for (uint64_t c = lo; c < hi; c++) {
        unsigned par = 0, bin = 0;
        for (unsigned j = 0; j < nout; j++) {
            const unsigned v = ref_out(c, j);
            want_ones[j] += v;
            par ^= v;
            bin |= v << j;
        }
        want_odd += par;
        want_hist[bin]++;
        if (samples && samples[c - lo] != bin) {
            if (bad_samples++ < 5)
                print_error("chain %" PRIu64 ": sample 0x%02x, want 0x%02x\n", c, samples[c - lo], bin);
        }
    }
    for (unsigned j = 0; j < nout; j++) {
        if (ones[j] != want_ones[j]) print_error("ones[%u] %llu, want %llu\n", j, ones[j], want_ones[j]);
        assert_int_equal(ones[j], want_ones[j]);
    }
    assert_true(want_ones[0] > nlive / 3 && want_ones[0] < 2 * nlive / 3); /* a fair coin */
    assert_int_equal(odd, want_odd);
    assert_int_equal(bad_samples, 0);
    if (d_hist)
        for (uint64_t b = 0; b < nbins; b++) assert_int_equal(hist[b], want_hist[b]);
    free(samples);
    assert_int_equal(cudaFree(d_ones), cudaSuccess);
    assert_int_equal(cudaFree(d_odd), cudaSuccess);
    assert_int_equal(cudaFree(d_hist), cudaSuccess);
    assert_int_equal(cudaFree(d_ow), cudaSuccess);
    assert_int_equal(cudaFree(d_samples), cudaSuccess);
}

// ---------------------------------------------------------------- tests

static void versions_and_attributes(void **state)
{
    (void)state;
    int major = 0, minor = -1;
    assert_int_equal(nvrtcVersion(&major, &minor), NVRTC_SUCCESS);
    assert_int_equal(major, 13);
    assert_int_equal(minor, 0);
    assert_int_equal(nvrtcVersion(NULL, &minor), NVRTC_ERROR_INVALID_INPUT);
    assert_string_equal(nvrtcGetErrorString(NVRTC_ERROR_COMPILATION), "NVRTC_ERROR_COMPILATION");
    int v = 0;
    assert_int_equal(cudaDeviceGetAttribute(&v, cudaDevAttrComputeCapabilityMajor, 0), cudaSuccess);
    assert_int_equal(v, 9);
    assert_int_equal(cudaDeviceGetAttribute(&v, cudaDevAttrComputeCapabilityMinor, 0), cudaSuccess);
    assert_int_equal(v, 0);
}

/* one output, ones in shared and in global counters, several grids and blocks */
static void jit_kernel_counts(void **state)
{
    (void)state;
    cudaLibrary_t lib;
    cudaKernel_t k;
    build(SRC_ONE, NULL, &lib, &k);
    cudaFuncAttributes fa;
    assert_int_equal(cudaFuncGetAttributes(&fa, (const void *)k), cudaSuccess);
    assert_int_equal(fa.maxThreadsPerBlock, 256);
    assert_true(fa.numRegs > 0);
    int n = -1;
    assert_int_equal(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, (const void *)k, 256, 4), cudaSuccess);
    assert_true(n > 0);
    assert_int_equal(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, (const void *)k, 512, 4), cudaSuccess);
    assert_int_equal(n, 0);
    const uint64_t chain0 = UINT64_C(128) * 7919, npairs = 300;
    const run_case cases[] = {
        {1, 1, HIST_NONE, 0, 0, 2, 64},  {1, 0, HIST_NONE, 0, 0, 2, 64},
        {1, 1, HIST_NONE, 0, 0, 1, 256}, {1, 1, HIST_NONE, 0, 0, 7, 32},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        run_and_check(k, &cases[i], npairs, chain0, chain0 + 37, chain0 + 128 * npairs - 50);
    /* a chunk whose live range starts past its first pairs */
    run_and_check(k, &cases[0], npairs, chain0, chain0 + 128 * 100 + 3, chain0 + 128 * 101 + 90);
    assert_int_equal(cudaLibraryUnload(lib), cudaSuccess);
}

/* -DDLM_JIT_EMIT=1: samples and histogram (shared and global), two outputs */
static void jit_kernel_emit(void **state)
{
    (void)state;
    cudaLibrary_t lib;
    cudaKernel_t k;
    build(SRC_TWO, "-DDLM_JIT_EMIT=1", &lib, &k);
    const uint64_t chain0 = UINT64_C(128) * 4242, npairs = 260;
    const run_case cases[] = {
        {2, 1, HIST_SHARED, 1, 1, 2, 64}, {2, 1, HIST_GLOBAL, 1, 1, 3, 128},
        {2, 0, HIST_NONE, 1, 1, 1, 256},  {2, 1, HIST_SHARED, 1, 0, 2, 96},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        run_and_check(k, &cases[i], npairs, chain0, chain0 + 5, chain0 + 128 * npairs - 1);
    assert_int_equal(cudaLibraryUnload(lib), cudaSuccess);
    /* the same program without DLM_JIT_EMIT: counts only */
    build(SRC_TWO, NULL, &lib, &k);
    const run_case plain = {2, 1, HIST_NONE, 0, 0, 2, 64};
    run_and_check(k, &plain, npairs, chain0, chain0 + 5, chain0 + 128 * npairs - 1);
    assert_int_equal(cudaLibraryUnload(lib), cudaSuccess);
}

static void compile_error_has_a_log(void **state)
{
    (void)state;
    const char *src = "#include \"dlm_jit_cuda.h\"\n"
                      "DLM_JIT_FN void dlm_jit_f(uint64_t seed, uint64_t chain0, dlm_jit_sink &o)\n"
                      "{\n"
                      "    dlm_jit_out(o, 0u, seed, no_such_word);\n"
                      "}\n"
                      "DLM_JIT_KERNEL(dlm_jit_f)\n";
    char *cubin, *log;
    size_t size;
    assert_int_equal(compile(src, NULL, &cubin, &size, &log, NULL), NVRTC_ERROR_COMPILATION);
    assert_null(cubin);
    assert_non_null(strstr(log, "no_such_word"));
    assert_non_null(strstr(log, "dlm_jit.cu:4:")); /* the program's name and line */
    assert_non_null(strstr(log, "error"));
    free(log);
    /* a missing header fails in the preprocessor: also a compilation error */
    assert_int_equal(compile("#include \"no_such_header.h\"\n", NULL, &cubin, &size, &log, NULL),
                     NVRTC_ERROR_COMPILATION);
    assert_non_null(strstr(log, "no_such_header.h"));
    free(log);
    /* an option that is not one */
    nvrtcProgram prog;
    const char *bad[] = {"DLM_JIT_EMIT=1"};
    assert_int_equal(nvrtcCreateProgram(&prog, SRC_ONE, NULL, 0, NULL, NULL), NVRTC_SUCCESS);
    assert_int_equal(nvrtcCompileProgram(prog, 1, bad), NVRTC_ERROR_INVALID_OPTION);
    const char *dangling[] = {"-D"};
    assert_int_equal(nvrtcCompileProgram(prog, 1, dangling), NVRTC_ERROR_INVALID_OPTION);
    assert_int_equal(nvrtcCompileProgram(prog, 1, NULL), NVRTC_ERROR_INVALID_INPUT);
    assert_int_equal(nvrtcDestroyProgram(&prog), NVRTC_SUCCESS);
    assert_int_equal(nvrtcCompileProgram(NULL, 0, NULL), NVRTC_ERROR_INVALID_PROGRAM);
    assert_int_equal(nvrtcDestroyProgram(&prog), NVRTC_ERROR_INVALID_PROGRAM);
    assert_int_equal(nvrtcCreateProgram(&prog, NULL, NULL, 0, NULL, NULL), NVRTC_ERROR_INVALID_INPUT);
}

/* Count of entries of dir whose name does not start with '.'; *so those ending in .so. */
static int count_entries(const char *dir, int *so)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    *so = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        n++;
        const size_t l = strlen(e->d_name);
        if (l == 19 && strcmp(e->d_name + 16, ".so") == 0) ++*so;
    }
    closedir(d);
    return n;
}

static void compile_cache(void **state)
{
    (void)state;
    const char *old = getenv("DLM_EMU_JIT_CACHE");
    char *saved = old ? strdup(old) : NULL;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/jit-cache/sub", dlm_test_tmpdir());
    assert_int_equal(setenv("DLM_EMU_JIT_CACHE", dir, 1), 0);
    const char *variant = "-DDLM_TEST_CACHE_VARIANT=1"; /* a key nothing else has */
    char *c1, *c2, *c3, *log;
    size_t s1, s2, s3;
    double t1, t2;
    assert_int_equal(compile(SRC_ONE, variant, &c1, &s1, &log, &t1), NVRTC_SUCCESS);
    free(log);
    int so = 0;
    assert_int_equal(count_entries(dir, &so), 1);
    assert_int_equal(so, 1);
    assert_int_equal(compile(SRC_ONE, variant, &c2, &s2, &log, &t2), NVRTC_SUCCESS);
    free(log);
    print_message("compile %.2f s, from the cache %.2f s\n", t1, t2);
    assert_int_equal(s1, s2);
    assert_memory_equal(c1, c2, s1);
    assert_true(t2 < t1);
    /* another option: another entry */
    assert_int_equal(compile(SRC_ONE, "-DDLM_TEST_CACHE_VARIANT=2", &c3, &s3, &log, NULL), NVRTC_SUCCESS);
    free(log);
    assert_int_equal(count_entries(dir, &so), 2);
    assert_int_equal(so, 2);
    /* the cached code loads and runs */
    cudaLibrary_t lib;
    cudaKernel_t k;
    assert_int_equal(cudaLibraryLoadData(&lib, c2, NULL, NULL, 0, NULL, NULL, 0), cudaSuccess);
    assert_int_equal(cudaLibraryGetKernel(&k, lib, KERNEL), cudaSuccess);
    const run_case rc = {1, 1, HIST_NONE, 0, 0, 1, 64};
    run_and_check(k, &rc, 40, 0, 1, 128 * 40 - 1);
    assert_int_equal(cudaLibraryUnload(lib), cudaSuccess);
    free(c1);
    free(c2);
    free(c3);
    /* without the variable: no cache */
    assert_int_equal(unsetenv("DLM_EMU_JIT_CACHE"), 0);
    assert_int_equal(compile(SRC_ONE, "-DDLM_TEST_CACHE_VARIANT=3", &c1, &s1, &log, NULL), NVRTC_SUCCESS);
    free(c1);
    free(log);
    assert_int_equal(count_entries(dir, &so), 2);
    if (saved) setenv("DLM_EMU_JIT_CACHE", saved, 1);
    free(saved);
    char out[256];
    dlm_test_sh(out, sizeof out, "rm -rf '%s/jit-cache'", dlm_test_tmpdir());
}

static void bad_handles(void **state)
{
    (void)state;
    cudaLibrary_t lib = NULL;
    cudaKernel_t k = NULL;
    const char junk[64] = "not an ELF file";
    assert_int_equal(cudaLibraryLoadData(&lib, junk, NULL, NULL, 0, NULL, NULL, 0), cudaErrorInvalidKernelImage);
    assert_int_equal(cudaLibraryLoadData(NULL, junk, NULL, NULL, 0, NULL, NULL, 0), cudaErrorInvalidValue);
    assert_int_equal(cudaLibraryLoadData(&lib, NULL, NULL, NULL, 0, NULL, NULL, 0), cudaErrorInvalidValue);
    assert_int_equal(cudaLibraryGetKernel(&k, NULL, KERNEL), cudaErrorInvalidResourceHandle);
    assert_int_equal(cudaLibraryUnload(NULL), cudaErrorInvalidResourceHandle);
    (void)cudaGetLastError();
    build(SRC_ONE, NULL, &lib, &k);
    cudaKernel_t none;
    assert_int_equal(cudaLibraryGetKernel(&none, lib, "no_such_kernel"), cudaErrorSymbolNotFound);
    assert_int_equal(cudaLibraryGetKernel(&none, lib, "dlm_jit_f"), cudaErrorSymbolNotFound);
    jit_args a;
    memset(&a, 0, sizeof a);
    void *args[] = {&a};
    dim3 grid = {1, 1, 1}, big = {512, 1, 1}, zero = {0, 1, 1};
    /* a kernel of the executable, or none, cannot be launched this way */
    assert_int_equal(cudaLaunchKernel((const void *)junk, grid, grid, args, 0, 0), cudaErrorInvalidDeviceFunction);
    assert_int_equal(cudaLaunchKernel((const void *)k, grid, big, args, 0, 0), cudaErrorLaunchOutOfResources);
    assert_int_equal(cudaLaunchKernel((const void *)k, grid, zero, args, 0, 0), cudaErrorInvalidConfiguration);
    assert_int_equal(cudaLaunchKernel((const void *)k, grid, grid, NULL, 0, 0), cudaErrorInvalidValue);
    /* dynamic shared memory over 48 KiB needs the attribute, on the handle */
    dim3 b32 = {32, 1, 1};
    unsigned long long *d = NULL;
    assert_int_equal(cudaMalloc((void **)&d, 2 * sizeof *d), cudaSuccess);
    assert_int_equal(cudaMemset(d, 0, 2 * sizeof *d), cudaSuccess);
    a.npairs = 1;
    a.hi = 128;
    a.seed = SEED;
    a.nout = 1;
    a.ones_shared = 1;
    a.ones = d;
    a.odd = d + 1;
    assert_int_equal(cudaLaunchKernel((const void *)k, grid, b32, args, 65536, 0), cudaErrorInvalidValue);
    (void)cudaGetLastError();
    assert_int_equal(cudaFuncSetAttribute((const void *)k, cudaFuncAttributeMaxDynamicSharedMemorySize, 65536), cudaSuccess);
    cudaFuncAttributes fa;
    assert_int_equal(cudaFuncGetAttributes(&fa, (const void *)k), cudaSuccess);
    assert_int_equal(fa.maxDynamicSharedSizeBytes, 65536);
    assert_int_equal(cudaLaunchKernel((const void *)k, grid, b32, args, 65536, 0), cudaSuccess);
    unsigned long long h[2];
    assert_int_equal(cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost), cudaSuccess);
    unsigned long long want = 0;
    for (uint64_t c = 0; c < 128; c++) want += ref_out(c, 0);
    assert_int_equal(h[0], want);
    assert_int_equal(h[1], want);
    assert_int_equal(cudaFree(d), cudaSuccess);
    assert_int_equal(cudaLibraryUnload(lib), cudaSuccess);
    /* unloaded: the handles are gone */
    assert_int_equal(cudaLibraryUnload(lib), cudaErrorInvalidResourceHandle);
    assert_int_equal(cudaLibraryGetKernel(&none, lib, KERNEL), cudaErrorInvalidResourceHandle);
    assert_int_equal(cudaLaunchKernel((const void *)k, grid, b32, args, 0, 0), cudaErrorInvalidDeviceFunction);
    (void)cudaGetLastError();
}

/* the fake device's states refuse these calls as every other */
static void device_states_refuse(void **state)
{
    (void)state;
    char *cubin, *log;
    size_t size;
    assert_int_equal(compile(SRC_ONE, NULL, &cubin, &size, &log, NULL), NVRTC_SUCCESS);
    free(log);
    cudaLibrary_t lib;
    cudaKernel_t k;
    assert_int_equal(cudaLibraryLoadData(&lib, cubin, NULL, NULL, 0, NULL, NULL, 0), cudaSuccess);
    assert_int_equal(cudaLibraryGetKernel(&k, lib, KERNEL), cudaSuccess);
    static const struct {
        const char *mode;
        cudaError_t e;
    } states[] = {{"none", cudaErrorNoDevice},
                  {"no-driver", cudaErrorInsufficientDriver},
                  {"error", cudaErrorInitializationError}};
    for (size_t i = 0; i < sizeof states / sizeof *states; i++) {
        assert_int_equal(setenv("DLM_EMU_DEVICE", states[i].mode, 1), 0);
        assert_int_equal(dlm_emu_reset(), 0);
        const cudaError_t e = states[i].e;
        cudaLibrary_t l2;
        cudaKernel_t k2;
        assert_int_equal(cudaLibraryLoadData(&l2, cubin, NULL, NULL, 0, NULL, NULL, 0), e);
        assert_int_equal(cudaLibraryGetKernel(&k2, lib, KERNEL), e);
        jit_args a;
        memset(&a, 0, sizeof a);
        void *args[] = {&a};
        dim3 one = {1, 1, 1}, b = {32, 1, 1};
        assert_int_equal(cudaLaunchKernel((const void *)k, one, b, args, 4, 0), e);
        assert_int_equal(cudaLibraryUnload(lib), e);
    }
    assert_int_equal(unsetenv("DLM_EMU_DEVICE"), 0);
    assert_int_equal(dlm_emu_reset(), 0);
    (void)cudaGetLastError();
    assert_int_equal(cudaLibraryUnload(lib), cudaSuccess);
    free(cubin);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(versions_and_attributes), cmocka_unit_test(jit_kernel_counts),
        cmocka_unit_test(jit_kernel_emit),         cmocka_unit_test(compile_error_has_a_log),
        cmocka_unit_test(compile_cache),           cmocka_unit_test(bad_handles),
        cmocka_unit_test(device_states_refuse),
    };
    return cmocka_run_group_tests_name("nvrtc and libraries (CPU emulation)", tests, NULL, NULL);
}
