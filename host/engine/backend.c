/* backend.c — choosing the engine (CPU or CUDA) and dispatching a run to it.
 *
 * What this file is: the one place that decides which backend runs a batch.
 * AUTO means CUDA when this build has the CUDA backend (DLM_HAVE_CUDA) and the
 * runtime reports at least one device, and the CPU otherwise; in that case one
 * notice line says why, so the CLI can print it once. Asking for CUDA (or CUDA_REF)
 * explicitly when no device can be used is bad input (DLM_EINPUT), never a silent
 * fallback.
 *
 * CPU and CUDA are the bit-sliced engines (host/engine/engine_bits.c,
 * kernels/engine_cuda_bits.cu); CPU_REF ("cpu-ref") and CUDA_REF ("cuda-ref") the byte
 * engines they are checked against (host/engine/engine_cpu.c, kernels/engine_cuda.cu); AUTO
 * never picks a reference.
 *
 * What it is not: an engine. The CPU engines are host/engine_*.c, the CUDA engines
 * kernels/engine_cuda*.cu. This file never includes cuda_runtime.h; in a CPU-only
 * build (DLM_HAVE_CUDA == 0) it defines the CUDA entry points as stubs that say
 * "built without CUDA", so the library links the same way in both builds.
 */
#include "dlm_engine.h"
#include "dlm_jit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------- the CUDA kernel choice

static const char *const kernel_names[] = {"auto", "interpreter", "jit"};

const char *dlm_cuda_kernel_name(dlm_cuda_kernel k)
{
    return (unsigned)k < 3u ? kernel_names[k] : "?";
}

int dlm_cuda_kernel_parse(const char *s, dlm_cuda_kernel *k)
{
    for (unsigned i = 0; s && i < 3u; i++)
        if (!strcmp(s, kernel_names[i])) {
            *k = (dlm_cuda_kernel)i;
            return 0;
        }
    return -1;
}

dlm_cuda_kernel dlm_cuda_kernel_resolve(dlm_cuda_kernel asked, const dlm_slot_plan *sp, uint32_t nout,
                                        uint64_t chains)
{
    if (asked != DLM_CUDA_KERNEL_AUTO) return asked;
    return dlm_cuda_jit_pays(sp, nout, chains) ? DLM_CUDA_KERNEL_JIT : DLM_CUDA_KERNEL_INTERP;
}

int dlm_cuda_jit_pays(const dlm_slot_plan *sp, uint32_t nout, uint64_t chains)
{
    if (!sp || sp->nops == 0 || sp->nops > DLM_JIT_AUTO_MAX_OPS) return 0;
    const double nops = (double)sp->nops;
    if ((double)chains * nops * DLM_JIT_SAVE_S_OP <= DLM_JIT_COMPILE_S0 + DLM_JIT_COMPILE_S_OP * nops) return 0;
    uint32_t peak = 0;
    dlm_err e;
    return dlm_jit_live_peak(sp, nout, &peak, &e) == DLM_OK && peak <= DLM_JIT_AUTO_MAX_LIVE;
}

// ---------------------------------------------------------------- CPU-only stubs

#if !DLM_HAVE_CUDA
/* Without the CUDA backend compiled in there is never a device to use. */
int dlm_cuda_device_count(char *why, size_t why_len)
{
    if (why && why_len) snprintf(why, why_len, "built without CUDA");
    return 0;
}

int dlm_cuda_select_device(int ordinal, char *why, size_t why_len)
{
    (void)ordinal;
    if (why && why_len) snprintf(why, why_len, "built without CUDA");
    return -1;
}

static dlm_status no_cuda(dlm_err *err)
{
    return dlm_fail(err, DLM_EINPUT,
                    "the CUDA backend is not available: dlmsim was built without CUDA "
                    "(rebuild with nvcc on PATH, or CUDA=1)");
}

dlm_status dlm_engine_cuda_run(const dlm_program *p, const dlm_run_opts *o, dlm_counts *out,
                               dlm_err *err)
{
    (void)p;
    (void)o;
    (void)out;
    return no_cuda(err);
}

dlm_status dlm_engine_cuda_bits_run(const dlm_program *p, const dlm_run_opts *o,
                                    dlm_counts *out, dlm_err *err)
{
    (void)p;
    (void)o;
    (void)out;
    return no_cuda(err);
}

/* No kernels to keep: an empty cache, so callers need no case of their own. */
struct dlm_jit_cache {
    int unused;
};

dlm_status dlm_jit_cache_new(dlm_jit_cache **c, dlm_err *err)
{
    *c = calloc(1, sizeof **c);
    return *c ? DLM_OK : dlm_fail(err, DLM_ENOMEM, "out of memory for the kernel cache");
}

void dlm_jit_cache_free(dlm_jit_cache *c) { free(c); }

dlm_status dlm_jit_cache_keep_in(dlm_jit_cache *c, const char *dir, dlm_err *err)
{
    (void)c, (void)dir, (void)err;
    return DLM_OK;
}

void dlm_jit_cache_stats(const dlm_jit_cache *c, uint64_t *compiled, double *compile_s, uint64_t *loaded)
{
    (void)c;
    *compiled = *loaded = 0;
    *compile_s = 0;
}
#endif

// ---------------------------------------------------------------- resolution

const char *dlm_backend_name(dlm_backend b)
{
    switch (b) {
    case DLM_BACKEND_AUTO: return "auto";
    case DLM_BACKEND_CPU: return "cpu";
    case DLM_BACKEND_CUDA: return "cuda";
    case DLM_BACKEND_CPU_REF: return "cpu-ref";
    case DLM_BACKEND_CUDA_REF: return "cuda-ref";
    }
    return "?";
}

int dlm_backend_parse(const char *s, dlm_backend *b)
{
    const dlm_backend all[] = {DLM_BACKEND_AUTO, DLM_BACKEND_CPU, DLM_BACKEND_CPU_REF,
                               DLM_BACKEND_CUDA, DLM_BACKEND_CUDA_REF};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++)
        if (!strcmp(s, dlm_backend_name(all[i]))) {
            *b = all[i];
            return 0;
        }
    return -1;
}

dlm_status dlm_backend_resolve(dlm_backend want, dlm_backend *got, char *notice,
                               size_t notice_len, dlm_err *err)
{
    if (notice && notice_len) notice[0] = 0;
    if (!got) return dlm_fail(err, DLM_EINPUT, "dlm_backend_resolve: got is NULL");
    switch (want) {
    case DLM_BACKEND_CPU:
    case DLM_BACKEND_CPU_REF:
        *got = want;
        return DLM_OK;
    case DLM_BACKEND_AUTO:
    case DLM_BACKEND_CUDA:
    case DLM_BACKEND_CUDA_REF: {
        /* Query the runtime once; `why` explains a zero in words that say which: no
         * device, no driver installed, a driver older than the runtime (both versions),
         * another CUDA error, or a CPU-only build. */
        char why[256] = "";
        int n = dlm_cuda_device_count(why, sizeof why);
        if (n > 0) {
            *got = want == DLM_BACKEND_AUTO ? DLM_BACKEND_CUDA : want;
            return DLM_OK;
        }
        if (!why[0]) snprintf(why, sizeof why, "no CUDA device (none reported)");
        if (want != DLM_BACKEND_AUTO)
            return dlm_fail(err, DLM_EINPUT,
                            "backend %s requested but CUDA is not usable: %s; "
                            "use --backend cpu or auto", dlm_backend_name(want), why);
        *got = DLM_BACKEND_CPU;
        if (notice && notice_len)
            snprintf(notice, notice_len, "dlmsim: CUDA not usable: %s; using the CPU backend",
                     why);
        return DLM_OK;
    }
    }
    return dlm_fail(err, DLM_EINPUT, "unknown backend %d", (int)want);
}

// ---------------------------------------------------------------- dispatch

dlm_status dlm_engine_run(dlm_backend b, const dlm_program *p, const dlm_run_opts *o,
                          dlm_counts *out, dlm_err *err)
{
    if (!p || !o || !out) return dlm_fail(err, DLM_EINPUT, "dlm_engine_run: NULL argument");
    if (!p->ops && p->nops && !(dlm_backend_uses_plan(b) && o->plan))
        return dlm_fail(err, DLM_EINPUT, DLM_NO_OPS, dlm_backend_name(b));
    switch (b) {
    case DLM_BACKEND_CPU: return dlm_engine_bits_run(p, o, out, err);
    case DLM_BACKEND_CPU_REF: return dlm_engine_cpu_run(p, o, out, err);
    case DLM_BACKEND_CUDA: return dlm_engine_cuda_bits_run(p, o, out, err);
    case DLM_BACKEND_CUDA_REF: return dlm_engine_cuda_run(p, o, out, err);
    case DLM_BACKEND_AUTO:
        break;
    }
    return dlm_fail(err, DLM_EINPUT,
                    "dlm_engine_run: backend '%s' must be resolved first (dlm_backend_resolve)",
                    dlm_backend_name(b));
}
