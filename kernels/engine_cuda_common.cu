/* engine_cuda_common.cu — what the two CUDA program engines share on the host: the
 * program checks made before touching the device, and the run's device counters (ones,
 * histogram, odd parity and the error word), allocated, zeroed, copied back and added
 * into the caller's counts the same way by both (include/dlm_cuda.h).
 *
 * What it is not: an engine. The byte engine is kernels/engine_cuda.cu (--backend
 * cuda-ref), the bit-sliced one kernels/engine_cuda_bits.cu (--backend cuda).
 */
#include <cuda_runtime.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dlm_step.h"

extern "C" {
#include "dlmsim.h"
#include "dlm_engine.h"
}

#include "dlm_cuda.h"

// ---------------------------------------------------------------- program checks

/* The program checks of dlm_cuda_engine_enter (include/dlm_cuda.h). */
static dlm_status check_program(const dlm_program *p, const dlm_run_opts *o,
                                const dlm_counts *out, const char *who, dlm_err *err)
{
    if (out->nout != p->nout)
        return dlm_fail(err, DLM_EINPUT, "%s: counts are for %u outputs, program has %u", who,
                        out->nout, p->nout);
    if ((o->want_hist || out->hist) && p->nout > DLM_HIST_MAX_BITS)
        return dlm_fail(err, DLM_EINPUT,
                        "%s: full histogram needs nout <= %d, program has %u outputs", who,
                        DLM_HIST_MAX_BITS, p->nout);
    if (o->want_hist && !out->hist)
        return dlm_fail(err, DLM_EINPUT, "%s: want_hist but counts have no histogram", who);
    if (p->nout && (!p->out_pos || !p->out_neg || !out->ones))
        return dlm_fail(err, DLM_EINPUT, "%s: program or counts lack output arrays", who);
    if (p->rounds && !p->round_start)
        return dlm_fail(err, DLM_EINPUT, "%s: program has no round offsets", who);
    if (p->rounds && p->round_start[p->rounds] != p->nops)
        return dlm_fail(err, DLM_EINPUT, "%s: round offsets end at %llu, program has %llu ops",
                        who, (unsigned long long)p->round_start[p->rounds],
                        (unsigned long long)p->nops);
    for (uint32_t r = 0; r < p->rounds; r++)
        if (p->round_start[r] > p->round_start[r + 1])
            return dlm_fail(err, DLM_EINPUT, "%s: round %u has negative length", who, r);
    /* a program from dlm_compile_plan has no operations: the bit-sliced engine runs
     * its plan (validated there), another engine refuses it */
    if (!p->ops && p->nops && !o->plan) return dlm_fail(err, DLM_EINPUT, DLM_NO_OPS, who);
    for (uint64_t i = 0; p->ops && i < p->nops; i++) {
        const dlm_op *op = &p->ops[i];
        int bad = op->pos >= p->L;
        if (op->kind == DLM_OP_GATE) {
            bad |= op->nin > 6;
            for (unsigned j = 0; j < op->nin && j < 6; j++) bad |= op->in[j] >= p->L;
        } else if (op->kind == DLM_OP_INC) {
            bad |= op->arg + op->nin >= p->L || op->arg >= p->L;
        }
        if (bad)
            return dlm_fail(err, DLM_EINPUT, "%s: op %llu (kind %u) reads or writes outside L = %u",
                            who, (unsigned long long)i, (unsigned)op->kind, p->L);
    }
    for (uint32_t k = 0; k < p->nout; k++)
        if (p->out_pos[k] != DLM_POS_CONST && p->out_pos[k] >= p->L)
            return dlm_fail(err, DLM_EINPUT, "%s: output %u at position %u >= L = %u", who, k,
                            p->out_pos[k], p->L);
    return DLM_OK;
}

dlm_status dlm_cuda_engine_enter(const dlm_program *p, const dlm_run_opts *o,
                                 const dlm_counts *out, const char *who, dlm_err *err)
{
    if (!p || !o || !out) return dlm_fail(err, DLM_EINPUT, "%s: NULL argument", who);
    dlm_status st = check_program(p, o, out, who, err);
    if (st != DLM_OK || o->chains == 0) return st;
    char why[256];
    if (dlm_cuda_device_count(why, sizeof why) <= 0)
        return dlm_fail(err, DLM_EINPUT, "%s: CUDA is not usable: %s", who, why);
    return DLM_OK;
}

// ---------------------------------------------------------------- device counters

uint64_t dlm_cuda_counters_bytes(uint32_t nout, int hist)
{
    return (uint64_t)nout * sizeof(unsigned long long) +
           (hist ? (uint64_t)sizeof(unsigned long long) << nout : 0) + sizeof(dlm_cuda_misc);
}

dlm_status dlm_cuda_counters_alloc(dlm_cuda_counters *c, uint32_t nout, int hist, dlm_err *err)
{
    memset(c, 0, sizeof *c);
    c->nout = nout;
    c->hist = hist;
    const size_t b_ones = (size_t)nout * sizeof(unsigned long long);
    const size_t b_hist = hist ? sizeof(unsigned long long) << nout : 0;
    /* host staging first: a host shortage is found before any device work */
    if (nout && !(c->h_ones = (uint64_t *)dlm_malloc(nout, sizeof(uint64_t))))
        return dlm_fail(err, DLM_ENOMEM, "cuda engine: out of host memory (ones)");
    if (hist && !(c->h_hist = (uint64_t *)dlm_malloc((size_t)1 << nout, sizeof(uint64_t))))
        return dlm_fail(err, DLM_ENOMEM, "cuda engine: out of host memory (histogram)");
    if (b_ones) {
        DLM_CUDA_TRY(cudaMalloc((void **)&c->d_ones, b_ones));
        DLM_CUDA_TRY(cudaMemset(c->d_ones, 0, b_ones));
    }
    if (b_hist) {
        DLM_CUDA_TRY(cudaMalloc((void **)&c->d_hist, b_hist));
        DLM_CUDA_TRY(cudaMemset(c->d_hist, 0, b_hist));
    }
    DLM_CUDA_TRY(cudaMalloc((void **)&c->d_misc, sizeof(dlm_cuda_misc)));
    dlm_cuda_misc m0;
    m0.odd = 0;
    m0.bad = 0;
    m0.bad_k = UINT32_MAX; /* atomicMin target */
    DLM_CUDA_TRY(cudaMemcpy(c->d_misc, &m0, sizeof m0, cudaMemcpyHostToDevice));
    return DLM_OK;
}

dlm_status dlm_cuda_counters_misc(const dlm_cuda_counters *c, dlm_cuda_misc *m, dlm_err *err)
{
    DLM_CUDA_TRY(cudaMemcpy(m, c->d_misc, sizeof *m, cudaMemcpyDeviceToHost));
    return DLM_OK;
}

dlm_status dlm_cuda_counters_add(dlm_cuda_counters *c, uint64_t chains, uint64_t bytes_tokens,
                                 uint64_t bytes_measured, dlm_counts *out, dlm_err *err)
{
    dlm_cuda_misc m;
    dlm_status st = dlm_cuda_counters_misc(c, &m, err);
    if (st != DLM_OK) return st;
    if (c->nout) {
        DLM_CUDA_TRY(cudaMemcpy(c->h_ones, c->d_ones, (size_t)c->nout * sizeof(uint64_t),
                                cudaMemcpyDeviceToHost));
    }
    if (c->hist) {
        DLM_CUDA_TRY(cudaMemcpy(c->h_hist, c->d_hist, sizeof(uint64_t) << c->nout,
                                cudaMemcpyDeviceToHost));
    }
    out->chains += chains;
    out->odd_parity += m.odd;
    for (uint32_t k = 0; k < c->nout; k++) out->ones[k] += c->h_ones[k];
    if (c->hist)
        for (uint64_t i = 0; i < ((uint64_t)1 << c->nout); i++) out->hist[i] += c->h_hist[i];
    /* sizes, not counts: the largest seen by these counts */
    if (bytes_tokens > out->bytes_tokens) out->bytes_tokens = bytes_tokens;
    if (bytes_measured > out->bytes_device_measured) out->bytes_device_measured = bytes_measured;
    return DLM_OK;
}

void dlm_cuda_counters_free(dlm_cuda_counters *c)
{
    /* cudaFree(NULL) is a no-op; errors here cannot be acted upon and would mask the
     * first error, which is the one reported. */
    cudaFree(c->d_ones);
    cudaFree(c->d_hist);
    cudaFree(c->d_misc);
    free(c->h_ones);
    free(c->h_hist);
    memset(c, 0, sizeof *c);
}
