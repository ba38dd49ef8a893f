/* eval.c — the direct evaluator (dlm_eval.h): gate by gate, 64 chains per word,
 * with bitwise AND/OR/XOR and a sum of minterms for LUTs. It shares only the coin
 * mapping with the engines, so agreement between the two is evidence, not tautology. */
#include "dlm_eval.h"
#include "dlm_util.h"
#include "dlm_step.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Coin k of chains first..first+63 as one word. Fair coins of an aligned word are half
 * of one 128-bit Philox block (the contract in dlm_step.h): no per-chain work. */
static uint64_t coin_word(const dlm_circuit *c, uint32_t k, uint64_t seed, uint64_t first)
{
    uint64_t thr = c->coin_thr ? c->coin_thr[k] : DLM_COIN_FAIR, w = 0;
    if (thr == DLM_COIN_FAIR && first % 64 == 0) {
        philox4x32_ctr_t r = dlm_coin_block(seed, first >> 7, k);
        unsigned h = (unsigned)(first >> 6) & 1u;
        return (uint64_t)r.v[2 * h] | (uint64_t)r.v[2 * h + 1] << 32;
    }
    for (unsigned i = 0; i < 64; i++) w |= (uint64_t)dlm_coin(seed, first + i, k, thr) << i;
    return w;
}

void dlm_eval_words(const dlm_circuit *c, uint64_t seed, uint64_t first_chain,
                    const uint64_t *coin_words, uint64_t *v, uint64_t *out_words)
{
    uint32_t k = 0;
    v[0] = 0;
    for (uint32_t n = 1; n < c->nnodes; n++) {
        const dlm_gate *g = &c->g[n];
        if (g->type == DLM_G_COIN) {
            v[n] = coin_words ? coin_words[k] : coin_word(c, k, seed, first_chain);
            k++;
            continue;
        }
        uint64_t x[DLM_MAX_FANIN];
        for (unsigned j = 0; j < g->nin; j++)
            x[j] = v[DLM_LIT_NODE(g->in[j])] ^ (DLM_LIT_NEG(g->in[j]) ? ~UINT64_C(0) : 0);
        uint64_t r;
        switch (g->type) {
        case DLM_G_AND:
            r = ~UINT64_C(0);
            for (unsigned j = 0; j < g->nin; j++) r &= x[j];
            break;
        case DLM_G_OR:
            r = 0;
            for (unsigned j = 0; j < g->nin; j++) r |= x[j];
            break;
        case DLM_G_XOR:
            r = 0;
            for (unsigned j = 0; j < g->nin; j++) r ^= x[j];
            break;
        default: /* LUT: OR over the rows whose output is 1 of the AND of literals */
            r = 0;
            for (unsigned i = 0; i < (1u << g->nin); i++) {
                if (!((g->tt >> i) & 1u)) continue;
                uint64_t m = ~UINT64_C(0);
                for (unsigned j = 0; j < g->nin; j++) m &= ((i >> j) & 1u) ? x[j] : ~x[j];
                r |= m;
            }
            break;
        }
        v[n] = g->out_neg ? ~r : r;
    }
    for (uint32_t o = 0; o < c->nout; o++)
        out_words[o] = v[DLM_LIT_NODE(c->out[o])] ^ (DLM_LIT_NEG(c->out[o]) ? ~UINT64_C(0) : 0);
}

dlm_status dlm_eval_run(const dlm_circuit *c, const dlm_run_opts *o, dlm_counts *out,
                        dlm_err *err)
{
    int nthreads = dlm_threads_of(o->threads);
    uint64_t nwords = (o->chains + 63) / 64;
    size_t sb = ((size_t)c->nout + 7) / 8;
    volatile int failed = 0;
#pragma omp parallel num_threads(nthreads)
    {
        uint64_t *v = dlm_malloc(c->nnodes, sizeof *v);
        uint64_t *ow = dlm_malloc(c->nout ? c->nout : 1, sizeof *ow);
        uint64_t *ones = dlm_calloc(c->nout ? c->nout : 1, sizeof *ones);
        uint64_t odd = 0, done = 0;
        if (!v || !ow || !ones) failed = 1;
#pragma omp for schedule(dynamic, 16)
        for (uint64_t w = 0; w < nwords; w++) {
            if (failed) continue;
            uint64_t first = o->first_chain + 64 * w;
            unsigned n = (unsigned)(o->chains - 64 * w < 64 ? o->chains - 64 * w : 64);
            uint64_t live = n == 64 ? ~UINT64_C(0) : (UINT64_C(1) << n) - 1;
            dlm_eval_words(c, o->seed, first, NULL, v, ow);
            uint64_t par = 0;
            for (uint32_t k = 0; k < c->nout; k++) {
                par ^= ow[k];
                ones[k] += (uint64_t)__builtin_popcountll(ow[k] & live);
            }
            odd += (uint64_t)__builtin_popcountll(par & live);
            if (out->hist || o->samples)
                for (unsigned i = 0; i < n; i++) {
                    uint64_t idx = 0;
                    uint8_t *s = o->samples ? o->samples + (64 * w + i) * sb : NULL;
                    if (s) memset(s, 0, sb);
                    for (uint32_t k = 0; k < c->nout; k++) {
                        uint64_t b = (ow[k] >> i) & 1u;
                        if (k < 64) idx |= b << k;
                        if (s) s[k >> 3] |= (uint8_t)(b << (k & 7));
                    }
                    if (out->hist) {
#pragma omp atomic
                        out->hist[idx]++;
                    }
                }
            done += n;
        }
#pragma omp critical
        {
            out->chains += done;
            out->odd_parity += odd;
            if (ones)
                for (uint32_t k = 0; k < c->nout; k++) out->ones[k] += ones[k];
        }
        free(v);
        free(ow);
        free(ones);
    }
    if (failed) return dlm_fail(err, DLM_ENOMEM, "out of memory for the direct evaluator");
    return DLM_OK;
}
