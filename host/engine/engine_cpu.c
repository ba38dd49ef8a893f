/* engine_cpu.c — the CPU engine: the shared per-chain step (dlm_step.h) looped over
 * chains. Chains are cut into tiles; each OpenMP thread runs every round of a tile in
 * a token buffer of L * T bytes, position-major (tok[pos * T + c]), updated in place.
 * Counts are integers merged with atomics, so the result does not depend on the
 * number of threads or the tile size. This file owns loops and memory only. */
#include "dlm_engine.h"
#include "dlm_util.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define TILE_MAX 1024u
#define DEFAULT_BUDGET (UINT64_C(256) << 20) /* token bytes for all threads together */

/* Output bits of chain c of a tile, packed into out (nout bits); returns parity. */
static unsigned chain_outputs(const dlm_program *p, const uint8_t *tok, uint32_t T, uint32_t c,
                              uint8_t *out)
{
    unsigned par = 0;
    memset(out, 0, dlm_sample_bytes(p));
    for (uint32_t k = 0; k < p->nout; k++) {
        unsigned b = p->out_pos[k] == DLM_POS_CONST
                         ? p->out_neg[k]
                         : (tok[(size_t)p->out_pos[k] * T + c] & 1u) ^ p->out_neg[k];
        out[k >> 3] |= (uint8_t)(b << (k & 7));
        par ^= b;
    }
    return par;
}

dlm_status dlm_engine_cpu_run(const dlm_program *p, const dlm_run_opts *o, dlm_counts *out,
                              dlm_err *err)
{
    int nthreads = dlm_threads_of(o->threads);
    uint64_t budget = o->max_bytes ? o->max_bytes : DEFAULT_BUDGET;
    uint64_t L = p->L ? p->L : 1;
    uint64_t T = budget / ((uint64_t)nthreads * L);
    if (T > TILE_MAX) T = TILE_MAX;
    if (T >= 64) T &= ~UINT64_C(63);
    if (T == 0) {
        if (L > budget)
            return dlm_fail(err, DLM_EINPUT, "one chain needs %llu token bytes, over the budget of %llu",
                            (unsigned long long)L, (unsigned long long)budget);
        T = 1;
        nthreads = 1;
    }
    size_t sb = dlm_sample_bytes(p);
    uint64_t ntiles = (o->chains + T - 1) / T;
    out->bytes_tokens = (uint64_t)nthreads * T * L;
    volatile int failed = 0;

#pragma omp parallel num_threads(nthreads)
    {
        uint8_t *tok = dlm_malloc(T * L, 1);
        uint8_t *smp = dlm_malloc(sb ? sb : 1, 1);
        uint64_t *ones = dlm_calloc(p->nout ? p->nout : 1, sizeof *ones);
        uint64_t odd = 0, done = 0;
        if (!tok || !smp || !ones) failed = 1;
#pragma omp for schedule(dynamic, 1)
        for (uint64_t t = 0; t < ntiles; t++) {
            if (failed) continue;
            uint64_t c0 = o->first_chain + t * T;
            uint32_t nt = (uint32_t)((t + 1) * T <= o->chains ? T : o->chains - t * T);
            memset(tok, DLM_MASK, T * L);
            for (uint32_t r = 0; r < p->rounds; r++)
                for (uint64_t i = p->round_start[r]; i < p->round_start[r + 1]; i++) {
                    /* A local copy: token stores (uint8_t) may alias anything, so
                     * reading the op through p->ops would be repeated per chain. */
                    const dlm_op op = p->ops[i];
                    const uint64_t seed = o->seed;
                    uint8_t *dst = tok + (size_t)op.pos * T;
                    for (uint32_t c = 0; c < nt; c++)
                        dst[c] = dlm_step_op(&op, tok + c, T, c0 + c, seed);
                }
            for (uint32_t c = 0; c < nt; c++) {
                unsigned par = chain_outputs(p, tok, (uint32_t)T, c, smp);
                odd += par;
                for (uint32_t k = 0; k < p->nout; k++) ones[k] += (smp[k >> 3] >> (k & 7)) & 1u;
                if (out->hist) {
                    uint64_t idx = 0;
                    for (size_t b = 0; b < sb; b++) idx |= (uint64_t)smp[b] << (8 * b);
#pragma omp atomic
                    out->hist[idx]++;
                }
                if (o->samples) memcpy(o->samples + (c0 - o->first_chain + c) * sb, smp, sb);
            }
            done += nt;
        }
#pragma omp critical
        {
            out->chains += done;
            out->odd_parity += odd;
            if (ones)
                for (uint32_t k = 0; k < p->nout; k++) out->ones[k] += ones[k];
        }
        free(tok);
        free(smp);
        free(ones);
    }
    if (failed) return dlm_fail(err, DLM_ENOMEM, "out of memory for the CPU engine's token tiles");
    return DLM_OK;
}
