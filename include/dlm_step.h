/* dlm_step.h — THE per-chain step of a DLM decoding round, and the coin mapping.
 *
 * Both engines execute a program by applying, for each round and each chain, the
 * round's operations in program order with dlm_step_op; the CPU engine loops over
 * chains on the host, the CUDA engine runs one thread per chain. This header is the
 * only place where a token value is computed, so the two cannot drift. It uses
 * integers only: no libm, no allocation, no static or global state, nothing that
 * depends on thread, block or chunk. Valid C11 and C++17 (nvcc).
 *
 * Tokens: 0, 1, or DLM_MASK. The token buffer is position-major: token of position p
 * of a chain is tok[p * stride] where tok points at the chain's first token, so
 * neighbouring chains (threads) touch neighbouring bytes.
 *
 * Dimension letters used across dlmsim: B chains per chunk, L tokens per chain,
 * R rounds, W block width (slots).
 *
 * Coin contract (version 2). A fair coin k (the k-th circuit input) of chain c under
 * seed s is one bit of a 128-bit Philox block shared by 128 consecutive chains:
 *     b = c / 128,  i = c mod 128
 *     r = Philox4x32-10(counter = {k mod 2^32, k / 2^32, b mod 2^32, b / 2^32},
 *                       key = {s mod 2^32, s / 2^32})
 *     coin = bit (i mod 32) of word r[i / 32]
 * so the coins of 64 (CPU word) or 32 (GPU lane word) consecutive chains are whole
 * Philox words: bit-sliced engines draw them without a transpose, 128 coins per call.
 * A biased coin (threshold thr != DLM_COIN_FAIR) uses a uniform 32-bit word per chain
 * from a disjoint counter domain (bit 31 of counter word 1 set):
 *     w = Philox4x32-10({k mod 2^32, (k / 2^32) | 2^31, c mod 2^32, c / 2^32}, key) word 0
 *     coin = 1 if w < thr else 0            (P(1) = thr / 2^32)
 * A sample is thus a pure function of (seed, chain, program): the same on every
 * backend, chunk size, thread count and process count. Philox is Random123's
 * philox4x32_R(10, ...), which is the function cuRAND's Philox4x32-10 computes
 * (test/test_philox.c pins both, and this mapping, to independent literals).
 */
#ifndef DLM_STEP_H
#define DLM_STEP_H

#include <stddef.h>
#include <stdint.h>

#include <Random123/philox.h>

#include "dlm_hd.h"

#define DLM_MASK 2u

/* Operation kinds. Every operation writes exactly one position, op->pos. */
enum {
    DLM_OP_GATE = 0,   /* token = bit (index) of arg, index bit j = token at in[j]; nin 0..6 */
    DLM_OP_COIN = 1,   /* token = coin arg (coin identity) with threshold thr */
    DLM_OP_INC = 2,    /* counter increment: token = bit nin of (counter at arg..arg+nin) + 1 */
    DLM_OP_REMASK = 3  /* token = DLM_MASK */
};

typedef struct {
    uint32_t pos;      /* position written */
    uint8_t kind;      /* DLM_OP_* */
    uint8_t nin;       /* GATE: inputs; INC: bit index */
    uint16_t pad;
    uint32_t in[6];    /* GATE: predecessor positions */
    uint64_t arg;      /* GATE: truth table; COIN: coin identity; INC: counter base position */
    uint64_t thr;      /* COIN: threshold, P(1) = thr / 2^32 */
} dlm_op;

#ifndef DLM_COIN_FAIR
#define DLM_COIN_FAIR (UINT64_C(1) << 31) /* threshold of a fair coin */
#endif

/* The 128 fair-coin bits of coin `coin` for chains 128*block .. 128*block+127. */
DLM_HD philox4x32_ctr_t dlm_coin_block(uint64_t seed, uint64_t block, uint64_t coin)
{
    philox4x32_ctr_t ctr;
    philox4x32_key_t key;
    ctr.v[0] = (uint32_t)coin;
    ctr.v[1] = (uint32_t)(coin >> 32);
    ctr.v[2] = (uint32_t)block;
    ctr.v[3] = (uint32_t)(block >> 32);
    key.v[0] = (uint32_t)seed;
    key.v[1] = (uint32_t)(seed >> 32);
    return philox4x32_R(10, ctr, key);
}

/* The uniform 32-bit word of a biased coin `coin` of chain `chain`. */
DLM_HD uint32_t dlm_coin_word(uint64_t seed, uint64_t chain, uint64_t coin)
{
    philox4x32_ctr_t ctr;
    philox4x32_key_t key;
    ctr.v[0] = (uint32_t)coin;
    ctr.v[1] = (uint32_t)(coin >> 32) | UINT32_C(0x80000000);
    ctr.v[2] = (uint32_t)chain;
    ctr.v[3] = (uint32_t)(chain >> 32);
    key.v[0] = (uint32_t)seed;
    key.v[1] = (uint32_t)(seed >> 32);
    return philox4x32_R(10, ctr, key).v[0];
}

/* The value (0/1) of coin `coin` of chain `chain` with threshold thr. */
DLM_HD unsigned dlm_coin(uint64_t seed, uint64_t chain, uint64_t coin, uint64_t thr)
{
    if (thr == DLM_COIN_FAIR) {
        philox4x32_ctr_t r = dlm_coin_block(seed, chain >> 7, coin);
        return (r.v[(chain >> 5) & 3u] >> (chain & 31u)) & 1u;
    }
    return (uint64_t)dlm_coin_word(seed, chain, coin) < thr ? 1u : 0u;
}

/* The token that op writes for one chain, reading the chain's tokens as they are
 * (the caller guarantees, via the program checker, that no earlier op of the same
 * round wrote a position this op reads). A predecessor that is masked cannot occur
 * in a checked program. */
DLM_HD uint8_t dlm_step_op(const dlm_op *op, const uint8_t *tok, size_t stride,
                           uint64_t chain, uint64_t seed)
{
    switch (op->kind) {
    case DLM_OP_GATE: {
        unsigned idx = 0, n = op->nin < 6u ? op->nin : 6u; /* the checker refuses nin > 6 */
        for (unsigned j = 0; j < n; j++)
            idx |= (unsigned)(tok[(size_t)op->in[j] * stride] & 1u) << j;
        return (uint8_t)((op->arg >> idx) & 1u);
    }
    case DLM_OP_COIN:
        return (uint8_t)dlm_coin(seed, chain, op->arg, op->thr);
    case DLM_OP_INC: {
        unsigned carry = 1;
        for (unsigned j = 0; j < op->nin; j++)
            carry &= tok[(size_t)(op->arg + j) * stride] & 1u;
        return (uint8_t)((tok[(size_t)(op->arg + op->nin) * stride] & 1u) ^ carry);
    }
    default:
        return (uint8_t)DLM_MASK;
    }
}

#endif
