/* eval.c — the direct evaluator (dlm_eval.h): gate by gate, 64 chains per word,
 * with bitwise AND/OR/XOR and a sum of minterms for LUTs. It shares only the coin
 * mapping with the engines, so agreement between the two is evidence, not tautology. */
#include "dlm_eval.h"
#include "dlm_step.h"

static uint64_t coin_word(const dlm_circuit *c, uint32_t k, uint64_t seed, uint64_t first)
{
    uint64_t thr = c->coin_thr ? c->coin_thr[k] : DLM_COIN_FAIR, w = 0;
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
