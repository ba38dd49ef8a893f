/* engine_cuda_jit.cu — the JIT kernel of the bit-sliced CUDA engine (`--backend cuda`
 * with `--cuda-kernel jit`, or auto when it pays; docs/gpu.md, "The JIT kernel"): the
 * slot plan written as straight-line code (dlm_jit_source, host/engine/jit.c), compiled
 * at run time by NVRTC for the device's architecture, loaded with the runtime's library
 * API (cudaLibraryLoadData) and launched. The same samples and counts as the interpreter
 * kernel (kernels/engine_cuda_bits.cu) and the CPU engines, bit for bit: every value
 * comes from the word step's helpers in include/dlm_step.h.
 *
 *   program    include/dlm_jit_cuda.h + dlm_jit_source's function + DLM_JIT_KERNEL,
 *              compiled with the headers in memory (dlm_jit_headers, mk/embed.sh); a
 *              second program with DLM_JIT_EMIT=1 when samples or a histogram are asked.
 *   cache      dlm_jit_cache: the loaded programs of a caller (a batch, a verify run),
 *              keyed by the exact source, the variant and the architecture, so a
 *              program is compiled once however many calls run it.
 *   launch     thread = one pair of 64-chain words (128 chains), 256-thread blocks,
 *              values in registers; ones in per-block shared counters (or global with
 *              more than 4096 outputs); with EMIT, output words in a chunk buffer, then
 *              packed samples and histogram bins as the interpreter writes them.
 *   memory     bytes predicted before any cudaMalloc, as the interpreter; o->max_bytes
 *              bounds the output-word bytes.
 */
#include <cuda_runtime.h>
#include <nvrtc.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dlm_jit_cuda.h"

extern "C" {
#include "dlmsim.h"
#include "dlm_engine.h"
#include "dlm_jit.h"
#include "dlm_slots.h"
#include "dlm_util.h"
}

#include "dlm_cuda.h"

#define WHO "cuda engine (jit)"
#define JIT_BLOCK 256u                         /* __launch_bounds__(256) in dlm_jit_cuda.h */
#define JIT_MAX_CHUNK_PAIRS (UINT64_C(1) << 23) /* 2^30 chains: 32-bit shared counts hold */
#define JIT_ONES_SHARED_MAX (16u << 10)        /* per-block ones counters (4096 outputs) */

// ---------------------------------------------------------------- the cache

typedef struct {
    char *src;            /* the program's exact source (the key, with emit and arch) */
    size_t len;
    int emit, arch;
    cudaLibrary_t lib;
    cudaKernel_t kern = NULL;
} jit_entry;

struct dlm_jit_cache {
    jit_entry *e;
    size_t n, cap;
    uint64_t compiled;    /* programs compiled (NVRTC) */
    double compile_s;     /* their wall seconds */
    uint64_t loaded;      /* programs read from dir instead */
    char *dir;            /* NULL, or where cubins are kept across processes */
};

extern "C" dlm_status dlm_jit_cache_new(dlm_jit_cache **c, dlm_err *err)
{
    *c = (dlm_jit_cache *)calloc(1, sizeof **c);
    return *c ? DLM_OK : dlm_fail(err, DLM_ENOMEM, WHO ": out of memory for the kernel cache");
}

extern "C" void dlm_jit_cache_free(dlm_jit_cache *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        cudaLibraryUnload(c->e[i].lib); /* nothing to do about a failure here */
        free(c->e[i].src);
    }
    free(c->e);
    free(c->dir);
    free(c);
}

extern "C" dlm_status dlm_jit_cache_keep_in(dlm_jit_cache *c, const char *dir, dlm_err *err)
{
    free(c->dir);
    c->dir = NULL;
    if (!dir || !*dir) return DLM_OK;
    if (!(c->dir = strdup(dir))) return dlm_fail(err, DLM_ENOMEM, WHO ": out of memory");
    mkdir(dir, 0755); /* made when missing (one level); any failure shows as no copy kept */
    return DLM_OK;
}

extern "C" void dlm_jit_cache_stats(const dlm_jit_cache *c, uint64_t *compiled, double *compile_s,
                                    uint64_t *loaded)
{
    *compiled = c ? c->compiled : 0;
    *compile_s = c ? c->compile_s : 0;
    *loaded = c ? c->loaded : 0;
}

// ---------------------------------------------------------------- cubins kept on disk

/* File: JIT_MAGIC, then the key, the source's length and the cubin's size (three
 * little-endian u64), then the cubin. */
#define JIT_MAGIC "DLMJITC1"
#define JIT_HEAD 32u

/* The key of a program: FNV-1a 64 of the embedded headers, its source, the variant,
 * the architecture and NVRTC's version. */
static uint64_t jit_key(const char *src, size_t len, int emit, int arch)
{
    uint64_t h = DLM_FNV_OFFSET;
    for (unsigned i = 0; i < dlm_jit_nheaders; i++) {
        h = dlm_fnv1a(h, dlm_jit_headers[i].name, strlen(dlm_jit_headers[i].name) + 1);
        h = dlm_fnv1a(h, dlm_jit_headers[i].text, strlen(dlm_jit_headers[i].text) + 1);
    }
    h = dlm_fnv1a(h, src, len);
    int major = 0, minor = 0;
    nvrtcVersion(&major, &minor);
    const uint64_t v[4] = {(uint64_t)emit, (uint64_t)arch, (uint64_t)major, (uint64_t)minor};
    for (unsigned i = 0; i < 4; i++) h = dlm_fnv1a_u64(h, v[i]);
    return h;
}

static void jit_path(const dlm_jit_cache *c, uint64_t key, int arch, int emit, char *path, size_t n)
{
    snprintf(path, n, "%s/dlmsim-jit-sm%d-%s-%016llx.cubin", c->dir, arch, emit ? "emit" : "counts",
             (unsigned long long)key);
}

static uint64_t get_u64(const unsigned char *b)
{
    uint64_t v = 0;
    for (unsigned i = 8; i-- > 0;) v = v << 8 | b[i];
    return v;
}

static void put_u64(unsigned char *b, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++, v >>= 8) b[i] = (unsigned char)v;
}

/* The cubin kept for (key, len) at path, or NULL (none, unreadable, or another's).
 * Only a regular file is opened: opening a FIFO would wait for a writer. */
static char *jit_disk_read(const char *path, uint64_t key, size_t len, uint64_t max_bytes, size_t *size)
{
    char *buf = NULL;
    size_t n = 0;
    dlm_err e;
    struct stat sb;
    if (stat(path, &sb) || !S_ISREG(sb.st_mode)) return NULL;
    if (dlm_read_file_max(path, dlm_memory_budget(max_bytes), &buf, &n, &e) != DLM_OK) return NULL;
    const unsigned char *b = (const unsigned char *)buf;
    if (n < JIT_HEAD || memcmp(buf, JIT_MAGIC, 8) || get_u64(b + 8) != key || get_u64(b + 16) != len ||
        get_u64(b + 24) != n - JIT_HEAD || n == JIT_HEAD) {
        free(buf);
        return NULL;
    }
    memmove(buf, buf + JIT_HEAD, n - JIT_HEAD);
    *size = n - JIT_HEAD;
    return buf;
}

/* Keeps cubin at path (atomically: dlm_out); a failure only loses the copy. */
static void jit_disk_write(const char *path, uint64_t key, size_t len, const char *cubin, size_t size)
{
    dlm_out o;
    dlm_err e;
    unsigned char head[JIT_HEAD];
    memcpy(head, JIT_MAGIC, 8);
    put_u64(head + 8, key);
    put_u64(head + 16, len);
    put_u64(head + 24, size);
    if (dlm_out_open(&o, path, 1, &e) != DLM_OK) return;
    if (fwrite(head, 1, JIT_HEAD, o.f) != JIT_HEAD || fwrite(cubin, 1, size, o.f) != size) {
        dlm_out_abort(&o);
        return;
    }
    dlm_out_close(&o);
}

// ---------------------------------------------------------------- NVRTC

#define NVRTC_TRY(stmt)                                                                    \
    do {                                                                                   \
        nvrtcResult r_ = (stmt);                                                           \
        if (r_ != NVRTC_SUCCESS) {                                                         \
            st = dlm_fail(err, DLM_ECUDA, WHO ": %s: %s", #stmt, nvrtcGetErrorString(r_)); \
            goto done;                                                                     \
        }                                                                                  \
    } while (0)

/* The program's source: the headers, the function, the kernel. DLM_ENOMEM, DLM_EIO. */
static dlm_status jit_program_source(const dlm_program *p, const dlm_slot_plan *sp, char **src,
                                     size_t *len, dlm_err *err)
{
    FILE *f = open_memstream(src, len);
    if (!f) return dlm_fail(err, DLM_ENOMEM, WHO ": out of memory for the kernel source");
    dlm_status st = dlm_jit_program(f, p, sp, err);
    if (fclose(f) && st == DLM_OK) st = dlm_fail(err, DLM_EIO, WHO ": writing the kernel source failed");
    if (st != DLM_OK) {
        free(*src);
        *src = NULL;
    }
    return st;
}

/* Compiles src for sm_<arch> into a cubin (malloc'd). The log's first line names a
 * compile error (a bug: the generator's text is valid by construction). */
extern "C" dlm_status dlm_cuda_jit_compile(const char *src, int emit, int arch, char **cubin,
                                           size_t *size, dlm_err *err)
{
    const char *names[64], *texts[64];
    const unsigned nh = dlm_jit_nheaders < 64 ? dlm_jit_nheaders : 64;
    for (unsigned i = 0; i < nh; i++) {
        names[i] = dlm_jit_headers[i].name;
        texts[i] = dlm_jit_headers[i].text;
    }
    char gpu[48], cuv[48];
    snprintf(gpu, sizeof gpu, "--gpu-architecture=sm_%d", arch);
    snprintf(cuv, sizeof cuv, "-DDLM_JIT_CUDART_VERSION=%d", CUDART_VERSION);
    /* 161: Random123's "#pragma diag_suppress", which NVRTC does not know */
    /* line info: source lines in the SASS (bench/sass.sh), the same code */
    const char *opts[] = {gpu, "-std=c++17", "--fmad=false", "-default-device", "-diag-suppress=161",
                          "--generate-line-info", cuv,
                          "-DDLM_HAVE_CUDA=1", emit ? "-DDLM_JIT_EMIT=1" : "-DDLM_JIT_EMIT=0"};
    nvrtcProgram prog = NULL;
    dlm_status st = DLM_OK;
    *cubin = NULL;
    *size = 0;
    NVRTC_TRY(nvrtcCreateProgram(&prog, src, "dlm_jit.cu", (int)nh, texts, names));
    {
        const nvrtcResult r = nvrtcCompileProgram(prog, (int)(sizeof opts / sizeof opts[0]), opts);
        if (r != NVRTC_SUCCESS) {
            size_t n = 0;
            char log[512] = "";
            if (nvrtcGetProgramLogSize(prog, &n) == NVRTC_SUCCESS && n > 0) {
                char *full = (char *)malloc(n);
                if (full && nvrtcGetProgramLog(prog, full) == NVRTC_SUCCESS) {
                    const char *e = strstr(full, "error");
                    while (e && e > full && e[-1] != '\n') e--; /* its line */
                    snprintf(log, sizeof log, "%s", e ? e : full);
                }
                free(full);
                log[strcspn(log, "\n")] = 0;
            }
            st = dlm_fail(err, DLM_ECUDA, WHO ": NVRTC: %s: %s", nvrtcGetErrorString(r),
                          log[0] ? log : "(no log)");
            goto done;
        }
    }
    NVRTC_TRY(nvrtcGetCUBINSize(prog, size));
    *cubin = (char *)malloc(*size ? *size : 1);
    if (!*cubin) {
        st = dlm_fail(err, DLM_ENOMEM, WHO ": out of memory for the cubin");
        goto done;
    }
    NVRTC_TRY(nvrtcGetCUBIN(prog, *cubin));
done:
    if (st != DLM_OK) {
        free(*cubin);
        *cubin = NULL;
        *size = 0;
    }
    if (prog) nvrtcDestroyProgram(&prog);
    return st;
}

/* The loaded kernel of (p, sp, emit) for the current device, from c, else from c's
 * directory, else compiled (and kept there). */
static dlm_status jit_kernel(dlm_jit_cache *c, const dlm_program *p, const dlm_slot_plan *sp,
                             int emit, cudaKernel_t *kern, dlm_err *err)
{
    int dev = 0, major = 0, minor = 0;
    DLM_CUDA_TRY(cudaGetDevice(&dev));
    DLM_CUDA_TRY(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, dev));
    DLM_CUDA_TRY(cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, dev));
    const int arch = 10 * major + minor;
    char *src = NULL;
    size_t len = 0;
    dlm_status st = jit_program_source(p, sp, &src, &len, err);
    if (st != DLM_OK) return st;
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].emit == emit && c->e[i].arch == arch && c->e[i].len == len &&
            !memcmp(c->e[i].src, src, len)) {
            free(src);
            *kern = c->e[i].kern;
            return DLM_OK;
        }
    if (c->n == c->cap) {
        const size_t cap = c->cap ? 2 * c->cap : 4;
        jit_entry *e = (jit_entry *)realloc(c->e, cap * sizeof *e);
        if (!e) {
            free(src);
            return dlm_fail(err, DLM_ENOMEM, WHO ": out of memory for the kernel cache");
        }
        c->e = e;
        c->cap = cap;
    }
    const double t0 = dlm_now();
    char *cubin = NULL, path[4096] = "";
    size_t size = 0;
    const uint64_t key = c->dir ? jit_key(src, len, emit, arch) : 0;
    if (c->dir) jit_path(c, key, arch, emit, path, sizeof path);
    const int from_disk = c->dir && (cubin = jit_disk_read(path, key, len, p->max_bytes, &size)) != NULL;
    if (!from_disk) {
        st = dlm_cuda_jit_compile(src, emit, arch, &cubin, &size, err);
        if (st == DLM_OK && c->dir) jit_disk_write(path, key, len, cubin, size);
    }
    jit_entry e = {};
    if (st == DLM_OK) {
        const cudaError_t r = cudaLibraryLoadData(&e.lib, cubin, NULL, NULL, 0, NULL, NULL, 0);
        if (r == cudaSuccess) {
            const cudaError_t g = cudaLibraryGetKernel(&e.kern, e.lib, DLM_JIT_KERNEL_NAME);
            if (g != cudaSuccess) {
                cudaLibraryUnload(e.lib);
                st = dlm_fail(err, DLM_ECUDA, WHO ": cudaLibraryGetKernel: %s (%s)",
                              cudaGetErrorName(g), cudaGetErrorString(g));
            }
        } else {
            st = dlm_fail(err, DLM_ECUDA, WHO ": cudaLibraryLoadData: %s (%s)", cudaGetErrorName(r),
                          cudaGetErrorString(r));
        }
    }
    free(cubin);
    if (st != DLM_OK) {
        free(src);
        return st;
    }
    if (from_disk) {
        c->loaded++;
    } else {
        c->compiled++;
        c->compile_s += dlm_now() - t0;
    }
    e.src = src;
    e.len = len;
    e.emit = emit;
    e.arch = arch;
    c->e[c->n++] = e;
    *kern = e.kern;
    return DLM_OK;
}

// ---------------------------------------------------------------- the run

/* Everything one run allocates (the kernels belong to the cache). */
typedef struct {
    uint64_t *d_ow;
    uint8_t *d_samples;
    dlm_cuda_counters cnt;
} jit_bufs;

static dlm_status jit_run_impl(jit_bufs *x, cudaKernel_t kern, const dlm_program *p,
                               const dlm_run_opts *o, dlm_counts *out, dlm_err *err)
{
    const uint32_t nout = p->nout;
    const uint64_t sbytes = dlm_sample_bytes(p);
    const int want_samples = o->samples != NULL && sbytes > 0;
    const int want_hist = o->want_hist || out->hist != NULL;
    const int emit = want_samples || want_hist;
    const uint64_t base = o->first_chain & ~UINT64_C(127), end = o->first_chain + o->chains;
    const uint64_t npairs = (end - base + 127) / 128;
    const void *fn = (const void *)kern;

    int sms = 0, optin = 0;
    dlm_status st = dlm_cuda_device_facts(&sms, &optin, err);
    if (st != DLM_OK) return st;
    cudaFuncAttributes fa;
    DLM_CUDA_TRY(cudaFuncGetAttributes(&fa, fn));
    const uint64_t budget = (uint64_t)optin > fa.sharedSizeBytes ? (uint64_t)optin - fa.sharedSizeBytes : 0;
    const uint64_t ones_b = (uint64_t)nout * sizeof(unsigned);
    const int ones_shared = nout && ones_b <= dlm_cuda_min(JIT_ONES_SHARED_MAX, budget);
    uint64_t shmem = ones_shared ? ones_b : 0;
    int hist_mode = DLM_JIT_HIST_NONE;
    if (want_hist) {
        const uint64_t hb = (uint64_t)sizeof(unsigned) << nout;
        hist_mode = shmem + hb <= budget ? DLM_JIT_HIST_SHARED : DLM_JIT_HIST_GLOBAL;
        if (hist_mode == DLM_JIT_HIST_SHARED) shmem += hb;
    }
    if (shmem > 48u * 1024u) {
        DLM_CUDA_TRY(cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem));
    }
    int per_sm = 0;
    DLM_CUDA_TRY(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, fn, (int)JIT_BLOCK, (size_t)shmem));
    if (per_sm < 1)
        return dlm_fail(err, DLM_ECUDA, WHO ": no block of %u threads with %llu shared bytes fits "
                        "on a multiprocessor", JIT_BLOCK, (unsigned long long)shmem);
    const unsigned grid_cap = (unsigned)sms * (unsigned)per_sm;

    // -- bytes needed, before any allocation
    const uint64_t fixed = dlm_cuda_counters_bytes(nout, want_hist);
    const uint64_t ow_pair = emit ? 16 * (uint64_t)nout : 0; /* two words per output */
    const uint64_t per_pair = ow_pair + (want_samples ? 128 * sbytes : 0);
    size_t free0 = 0, total = 0;
    DLM_CUDA_TRY(cudaMemGetInfo(&free0, &total));
    const uint64_t margin = dlm_cuda_margin(free0);
    const uint64_t avail = (uint64_t)free0 > margin ? (uint64_t)free0 - margin : 0;
    uint64_t P = dlm_cuda_min(npairs, JIT_MAX_CHUNK_PAIRS);
    if (fixed >= avail) P = 0;
    else if (per_pair) P = dlm_cuda_min(P, (avail - fixed) / per_pair);
    if (ow_pair && o->max_bytes) P = dlm_cuda_min(P, o->max_bytes / ow_pair);
    if (P == 0)
        return dlm_fail(err, DLM_EINPUT,
                        WHO ": one pair of words (128 chains) does not fit: needs %llu fixed bytes "
                        "+ %llu per pair (output words %llu, samples %llu); device has %llu of "
                        "%llu bytes free, %llu usable after a %llu-byte margin; value budget %llu "
                        "bytes (max_bytes or --max-memory)",
                        (unsigned long long)fixed, (unsigned long long)per_pair,
                        (unsigned long long)ow_pair,
                        (unsigned long long)(want_samples ? 128 * sbytes : 0),
                        (unsigned long long)free0, (unsigned long long)total,
                        (unsigned long long)avail, (unsigned long long)margin,
                        (unsigned long long)o->max_bytes);

    // -- allocation (sizes computed above)
    if ((st = dlm_cuda_counters_alloc(&x->cnt, nout, want_hist, err)) != DLM_OK) return st;
    if (ow_pair) {
        DLM_CUDA_TRY(cudaMalloc((void **)&x->d_ow, (size_t)(P * ow_pair)));
    }
    if (want_samples) {
        DLM_CUDA_TRY(cudaMalloc((void **)&x->d_samples, (size_t)(P * 128 * sbytes)));
    }
    size_t free1 = 0;
    DLM_CUDA_TRY(cudaMemGetInfo(&free1, &total));
    const uint64_t measured = free0 > free1 ? (uint64_t)(free0 - free1) : 0;

    // -- chunks of P pairs, the last one possibly shorter
    dlm_jit_args a;
    memset(&a, 0, sizeof a);
    a.seed = o->seed;
    a.nout = nout;
    a.ones_shared = ones_shared;
    a.hist_mode = hist_mode;
    a.ones = x->cnt.d_ones;
    a.odd = &x->cnt.d_misc->odd;
    a.hist = x->cnt.d_hist;
    a.ow = x->d_ow;
    a.ostride = 2 * P;
    a.samples = want_samples ? x->d_samples : NULL;
    a.sbytes = sbytes;
    void *args[] = {&a};
    for (uint64_t p0 = 0; p0 < npairs; p0 += P) {
        a.npairs = dlm_cuda_min(P, npairs - p0);
        a.chain0 = base + 128 * p0;
        a.lo = a.chain0 > o->first_chain ? a.chain0 : o->first_chain;
        a.hi = dlm_cuda_min(end, a.chain0 + 128 * a.npairs);
        const unsigned grid = dlm_cuda_grid(a.npairs, JIT_BLOCK, grid_cap);
        DLM_CUDA_TRY(cudaLaunchKernel(fn, dim3(grid), dim3(JIT_BLOCK), args, (size_t)shmem, 0));
        DLM_CUDA_LAUNCHED();
        if (want_samples) {
            DLM_CUDA_TRY(cudaMemcpy(o->samples + (a.lo - o->first_chain) * sbytes, x->d_samples,
                                    (size_t)((a.hi - a.lo) * sbytes), cudaMemcpyDeviceToHost));
        }
        dlm_cuda_misc m; /* once per chunk: where this chunk's execution errors surface */
        if ((st = dlm_cuda_counters_misc(&x->cnt, &m, err)) != DLM_OK) return st;
    }
    return dlm_cuda_counters_add(&x->cnt, o->chains, P * ow_pair, measured, out, err);
}

/* The run of plan sp with the JIT kernel; the cache o->jit, or one for this call. */
extern "C" dlm_status dlm_cuda_jit_run(const dlm_program *p, const dlm_slot_plan *sp,
                                       const dlm_run_opts *o, dlm_counts *out, dlm_err *err)
{
    dlm_jit_cache *own = NULL, *c = o->jit;
    dlm_status st = DLM_OK;
    if (!c && (st = dlm_jit_cache_new(&own, err)) != DLM_OK) return st;
    if (!c) c = own;
    const int emit = (o->samples != NULL && dlm_sample_bytes(p) > 0) || o->want_hist || out->hist != NULL;
    cudaKernel_t kern = NULL;
    st = jit_kernel(c, p, sp, emit, &kern, err);
    jit_bufs x;
    memset(&x, 0, sizeof x);
    if (st == DLM_OK) st = jit_run_impl(&x, kern, p, o, out, err);
    /* errors here cannot be acted upon and would mask the first one, which is reported */
    cudaFree(x.d_ow);
    cudaFree(x.d_samples);
    dlm_cuda_counters_free(&x.cnt);
    dlm_jit_cache_free(own);
    return st;
}
