/* cuda_coin_words.cu — test_philox's device hook (cuda_coin_words.h): the coin words
 * dlm_coin_word (include/dlm_step.h) gives on the device, one thread per (chain, coin)
 * pair, for the known-answer test against the host. Test-only: linked into test_philox
 * (and its emulated build, test/cuda_emu/emu.mk), never into the library. */
#include <cuda_runtime.h>

#include <stdint.h>
#include <stdio.h>

#include "dlm_step.h"

#include "cuda_coin_words.h"
#include "dlm_engine.h"
#include "dlm_cuda.h"

#define THREADS 256u /* threads per block */

static __global__ void coin_words_kernel(uint64_t seed, const uint64_t *__restrict__ chain,
                                         const uint64_t *__restrict__ coin, uint64_t n,
                                         uint32_t *__restrict__ words)
{
    const uint64_t stride = (uint64_t)gridDim.x * blockDim.x;
    for (uint64_t i = (uint64_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
        words[i] = dlm_coin_word(seed, chain[i], coin[i]);
}

static dlm_status coin_words_impl(void **d, uint64_t seed, const uint64_t *chain,
                                  const uint64_t *coin, size_t n, uint32_t *words, dlm_err *err)
{
    DLM_CUDA_TRY(cudaMalloc(&d[0], n * sizeof(uint64_t)));
    DLM_CUDA_TRY(cudaMalloc(&d[1], n * sizeof(uint64_t)));
    DLM_CUDA_TRY(cudaMalloc(&d[2], n * sizeof(uint32_t)));
    DLM_CUDA_TRY(cudaMemcpy(d[0], chain, n * sizeof(uint64_t), cudaMemcpyHostToDevice));
    DLM_CUDA_TRY(cudaMemcpy(d[1], coin, n * sizeof(uint64_t), cudaMemcpyHostToDevice));
    coin_words_kernel<<<dlm_cuda_grid(n, THREADS, 1024), THREADS>>>(
        seed, (const uint64_t *)d[0], (const uint64_t *)d[1], n, (uint32_t *)d[2]);
    DLM_CUDA_LAUNCHED();
    DLM_CUDA_TRY(cudaMemcpy(words, d[2], n * sizeof(uint32_t), cudaMemcpyDeviceToHost));
    return DLM_OK;
}

extern "C" dlm_status dlm_cuda_coin_words(uint64_t seed, const uint64_t *chain,
                                          const uint64_t *coin, size_t n, uint32_t *words,
                                          dlm_err *err)
{
    if (n == 0) return DLM_OK;
    void *d[3] = {NULL, NULL, NULL};
    dlm_status st = coin_words_impl(d, seed, chain, coin, n, words, err);
    for (int i = 0; i < 3; i++) cudaFree(d[i]);
    return st;
}
