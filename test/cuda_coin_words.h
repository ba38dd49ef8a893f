/* cuda_coin_words.h — test_philox's device hook (test/cuda_coin_words.cu, linked only
 * into test_philox and its emulated build; not part of the library). */
#ifndef DLM_CUDA_COIN_WORDS_H
#define DLM_CUDA_COIN_WORDS_H

#include "dlmsim.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* words[i] = dlm_coin_word(seed, chain[i], coin[i]) computed by a device kernel, so a
 * test can pin the device's coins to the host's. DLM_ECUDA on a runtime error. */
dlm_status dlm_cuda_coin_words(uint64_t seed, const uint64_t *chain, const uint64_t *coin,
                               size_t n, uint32_t *words, dlm_err *err);

#ifdef __cplusplus
}
#endif
#endif
