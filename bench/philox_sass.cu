/* philox_sass.cu — kernels that are compiled, never run: their SASS is read to count the
 * instructions of one Philox4x32-10 block on the device (bench/philox_sass.sh; the
 * Philox bound of the bit-sliced kernel in docs/gpu.md).
 *
 *   philox_kernel    one block dlm_coin_block(seed, block, coin) per thread, stored
 *   baseline_kernel  the same loads and store with no Philox (subtracted)
 *   coin_pair_kernel the bit-sliced engine's fair coin for one thread's pair of words:
 *                    dlm_step_op_words on a COIN op with n = 2 and chain0 a multiple
 *                    of 128 (the kernel's case, made visible to the compiler so that
 *                    only the path that runs is compiled), value stores included
 *   xor_pair_kernel  the same for a 2-input XOR gate (two loads, one store per word)
 *
 * Build: nvcc -std=c++17 -O3 --fmad=false -arch=sm_90 -cubin -Iinclude bench/philox_sass.cu
 */
#include <stdint.h>

#include "dlm_step.h"

__global__ void philox_kernel(uint64_t seed, const uint64_t *__restrict__ block,
                              const uint64_t *__restrict__ coin, uint4 *__restrict__ out)
{
    const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    const philox4x32_ctr_t r = dlm_coin_block(seed, block[i], coin[i]);
    out[i] = make_uint4(r.v[0], r.v[1], r.v[2], r.v[3]);
}

__global__ void baseline_kernel(uint64_t seed, const uint64_t *__restrict__ block,
                                const uint64_t *__restrict__ coin, uint4 *__restrict__ out)
{
    const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    const uint64_t b = block[i], c = coin[i];
    out[i] = make_uint4((uint32_t)b ^ (uint32_t)seed, (uint32_t)(b >> 32),
                        (uint32_t)c ^ (uint32_t)(seed >> 32), (uint32_t)(c >> 32));
}

/* An operation known to the compiler (its switch folds away), inputs 0..nin-1. */
__device__ __forceinline__ dlm_op make_op(uint8_t kind, uint8_t nin, uint32_t pos, uint64_t arg,
                                          uint64_t thr)
{
    dlm_op op;
    op.pos = pos;
    op.kind = kind;
    op.nin = nin;
    op.pad = 0;
    for (uint32_t j = 0; j < 6; j++) op.in[j] = j;
    op.arg = arg;
    op.thr = thr;
    return op;
}

__global__ void coin_pair_kernel(uint64_t seed, const uint64_t *__restrict__ coin,
                                 uint64_t *__restrict__ val, uint64_t chain0)
{
    const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    const dlm_op op = make_op(DLM_OP_COIN, 0, 0, coin[i], DLM_COIN_FAIR);
    uint64_t *v = val + 2 * (uint64_t)i;
    dlm_step_op_words(&op, v, 1, v, 2, (chain0 + 128 * (uint64_t)i) & ~UINT64_C(127), seed);
}

__global__ void xor_pair_kernel(uint64_t *__restrict__ val, size_t stride)
{
    const unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
    const dlm_op op = make_op(DLM_OP_GATE, 2, 2, 6 /* XOR */, 0);
    uint64_t *v = val + 2 * (uint64_t)i;
    dlm_step_op_words(&op, v, stride, v + 2 * stride, 2, 0, 0);
}
