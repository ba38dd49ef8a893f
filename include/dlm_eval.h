/* dlm_eval.h — the direct evaluator: the circuit evaluated gate by gate with no DLM
 * machinery, 64 chains per machine word. It is the oracle the engines are checked
 * against bit for bit and the enumerator the verifier uses; it shares only the coin
 * mapping (dlm_coin in dlm_step.h) with the engines.
 */
#ifndef DLM_EVAL_H
#define DLM_EVAL_H

#include "dlm_circuit.h"
#include "dlm_engine.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Evaluates 64 chains: bit i of every word is chain first_chain + i.
 * coin_words: NULL to draw coin k of each chain from dlm_coin(seed, chain, k,
 * threshold), or c->ncoins words supplied by the caller (enumeration).
 * scratch: c->nnodes words owned by the caller. out_words: c->nout words. */
void dlm_eval_words(const dlm_circuit *c, uint64_t seed, uint64_t first_chain,
                    const uint64_t *coin_words, uint64_t *scratch, uint64_t *out_words);

/* Runs chains o->first_chain .. +o->chains through the direct evaluator (OpenMP over
 * words of 64 chains) and adds the same counts the engines produce (odd parity, ones,
 * histogram when out->hist is set, packed samples when o->samples is set) into out.
 * Used as the reference of benchmarks (`dlmsim run --direct`). */
dlm_status dlm_eval_run(const dlm_circuit *c, const dlm_run_opts *o, dlm_counts *out,
                        dlm_err *err);

#ifdef __cplusplus
}
#endif
#endif
