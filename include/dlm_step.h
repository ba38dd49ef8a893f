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
#include "dlmsim.h" /* DLM_COIN_FAIR */

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


/* The 128 fair-coin bits of coin `coin` for chains 128*block .. 128*block+127. */
DLM_HD_FORCE philox4x32_ctr_t dlm_coin_block(uint64_t seed, uint64_t block, uint64_t coin)
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

/* The two 64-chain words of fair coin `coin` for chains 128*block .. 128*block+127:
 * words 0, 1 and 2, 3 of the block (contract v2), lower chains first. */
DLM_HD_FORCE void dlm_coin_pair(uint64_t seed, uint64_t block, uint64_t coin, uint64_t *w0,
                                uint64_t *w1)
{
    const philox4x32_ctr_t r = dlm_coin_block(seed, block, coin);
    *w0 = (uint64_t)r.v[0] | (uint64_t)r.v[1] << 32;
    *w1 = (uint64_t)r.v[2] | (uint64_t)r.v[3] << 32;
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

// ---------------------------------------------------------------- the word step

/* The same step over value words: 64 chains per uint64_t, bit i of a word is chain
 * chain0 + i (chain0 a multiple of 64). A bit-sliced engine keeps no mask state: in
 * every program the set of masked positions at each point is the same for all chains
 * (operations never depend on chain data), so only values are stored, one word per
 * position per 64 chains, and a position's word is meaningful exactly when the byte
 * engine's token there is 0 or 1 (bit i = token & 1 of chain chain0 + i). */

/* The 2-input function with 4-bit truth table t (bit a + 2b is f(a, b)), bitwise.
 * With a constant t (the engine's loops below) each case is one or two instructions. */
DLM_HD_FORCE uint64_t dlm_tt2_word(unsigned t, uint64_t a, uint64_t b)
{
    switch (t & 15u) {
    case 0: return 0;
    case 1: return ~(a | b);
    case 2: return a & ~b;
    case 3: return ~b;
    case 4: return ~a & b;
    case 5: return ~a;
    case 6: return a ^ b;
    case 7: return ~(a & b);
    case 8: return a & b;
    case 9: return ~(a ^ b);
    case 10: return a;
    case 11: return a | ~b;
    case 12: return b;
    case 13: return ~a | b;
    case 14: return a | b;
    default: return ~UINT64_C(0);
    }
}

/* A truth table tt over nin inputs (0..6; bit idx of tt, idx bit j = x[j]) evaluated
 * bitwise by Shannon expansion without branches: the 2^nin table bits become all-0 or
 * all-1 words, then each level muxes pairs by one input (lowest input first):
 * mux(x, f0, f1) = f0 ^ (x & (f0 ^ f1)). 2^nin - 1 muxes, 3 instructions each. */
DLM_HD uint64_t dlm_lut_word(unsigned nin, uint64_t tt, const uint64_t *x)
{
    uint64_t v[32];
    if (nin == 0) return (uint64_t)0 - (tt & 1u);
    unsigned n = 1u << (nin - 1); /* nodes after the first level */
    for (unsigned i = 0; i < n; i++) {
        uint64_t f0 = (uint64_t)0 - ((tt >> (2 * i)) & 1u);
        uint64_t f1 = (uint64_t)0 - ((tt >> (2 * i + 1)) & 1u);
        v[i] = f0 ^ (x[0] & (f0 ^ f1));
    }
    for (unsigned j = 1; j < nin; j++) {
        n >>= 1;
        for (unsigned i = 0; i < n; i++) v[i] = v[2 * i] ^ (x[j] & (v[2 * i] ^ v[2 * i + 1]));
    }
    return v[0];
}

/* Applies op to n consecutive value words: word g covers chains chain0 + 64 g ..
 * chain0 + 64 g + 63 (chain0 a multiple of 64). The value word g of position q is
 * val[q * stride + g] (n <= stride); the result word g goes to dst[g]. dst may be the
 * op's own plane (val + op->pos * stride), also when the op reads that position (a
 * revision): every result word is computed from the same g of each input only. The
 * caller guarantees, via the program checker, that no earlier op of the same round
 * wrote a position op reads; positions op reads were revealed, so their words hold
 * their values.
 *   GATE   the truth table by dlm_tt2_word for nin <= 2 (one loop per table, the
 *          switch hoisted out of it), dlm_lut_word for 3..6 inputs.
 *   COIN   fair: half of one 128-chain Philox block per word (word 2h, 2h+1 of the
 *          block for h = (chain / 64) mod 2, contract v2 above); biased: dlm_coin per
 *          chain.
 *   INC    carry = AND of the lower counter bits' words; word = bit's word ^ carry.
 *   REMASK leaves dst as it is: a masked position has no value, and a checked
 *          program never reads one (dlm_step_op_word returns 0 = DLM_MASK & 1).
 * Bit-identical to dlm_step_op chain by chain (test/test_bits.c). Always inlined, so
 * that the caller's target (the AVX2 clone of the CPU engine's loop) compiles these
 * word loops, and the 2-input truth table with it. */
DLM_HD_FORCE void dlm_step_op_words(const dlm_op *op, const uint64_t *val, size_t stride,
                              uint64_t *dst, unsigned n, uint64_t chain0, uint64_t seed)
{
    switch (op->kind) {
    case DLM_OP_GATE: {
        unsigned nin = op->nin < 6u ? op->nin : 6u;
        if (nin <= 2) {
            /* Reduce to a 4-bit table over (a, b); unused inputs read a valid plane. */
            unsigned t = (unsigned)op->arg;
            const uint64_t *a = nin >= 1 ? val + (size_t)op->in[0] * stride : dst;
            const uint64_t *b = nin == 2 ? val + (size_t)op->in[1] * stride : a;
            t = nin == 0 ? ((t & 1u) ? 15u : 0u) : nin == 1 ? (t & 3u) * 5u : (t & 15u);
            switch (t) {
#define DLM_TT2_LOOP(T)                                                                  \
    case T:                                                                              \
        for (unsigned g = 0; g < n; g++) dst[g] = dlm_tt2_word(T, a[g], b[g]);           \
        break;
                DLM_TT2_LOOP(0) DLM_TT2_LOOP(1) DLM_TT2_LOOP(2) DLM_TT2_LOOP(3)
                DLM_TT2_LOOP(4) DLM_TT2_LOOP(5) DLM_TT2_LOOP(6) DLM_TT2_LOOP(7)
                DLM_TT2_LOOP(8) DLM_TT2_LOOP(9) DLM_TT2_LOOP(10) DLM_TT2_LOOP(11)
                DLM_TT2_LOOP(12) DLM_TT2_LOOP(13) DLM_TT2_LOOP(14) DLM_TT2_LOOP(15)
#undef DLM_TT2_LOOP
            }
            return;
        }
        for (unsigned g = 0; g < n; g++) {
            uint64_t x[6];
            for (unsigned j = 0; j < nin; j++) x[j] = val[(size_t)op->in[j] * stride + g];
            dst[g] = dlm_lut_word(nin, op->arg, x);
        }
        return;
    }
    case DLM_OP_COIN:
        if (op->thr == DLM_COIN_FAIR) {
            /* Words come in pairs, one Philox block each (lower half first); a range may
             * start with an upper half and end with a lower one. The loop over whole
             * blocks has independent counters, so it is vectorised where the caller's
             * target allows (AVX2: four blocks per instruction stream). */
            unsigned g = 0;
            if (n && ((chain0 >> 6) & 1u)) {
                philox4x32_ctr_t r = dlm_coin_block(seed, chain0 >> 7, op->arg);
                dst[g++] = (uint64_t)r.v[2] | (uint64_t)r.v[3] << 32;
            }
            const uint64_t b0 = (chain0 + 64u * (uint64_t)g) >> 7;
            const unsigned pairs = (n - g) / 2u;
            uint64_t *DLM_RESTRICT d = dst + g;
            for (unsigned h = 0; h < pairs; h++) dlm_coin_pair(seed, b0 + h, op->arg, d + 2 * h, d + 2 * h + 1);
            if ((n - g) & 1u) {
                philox4x32_ctr_t r = dlm_coin_block(seed, b0 + pairs, op->arg);
                dst[n - 1] = (uint64_t)r.v[0] | (uint64_t)r.v[1] << 32;
            }
        } else {
            for (unsigned g = 0; g < n; g++) {
                uint64_t c = chain0 + 64u * (uint64_t)g, w = 0;
                for (unsigned i = 0; i < 64; i++)
                    w |= (uint64_t)dlm_coin(seed, c + i, op->arg, op->thr) << i;
                dst[g] = w;
            }
        }
        return;
    case DLM_OP_INC: {
        /* Plane by plane over blocks of 16 words (sequential reads; a word-by-word loop
         * over the planes strides by `stride` words and cost 30 % of a revise run). */
        const uint64_t *base = val + (size_t)op->arg * stride;
        for (unsigned g0 = 0; g0 < n; g0 += 16) {
            const unsigned m = n - g0 < 16u ? n - g0 : 16u;
            uint64_t carry[16];
            for (unsigned g = 0; g < m; g++) carry[g] = ~UINT64_C(0);
            for (unsigned j = 0; j < op->nin; j++)
                for (unsigned g = 0; g < m; g++) carry[g] &= base[(size_t)j * stride + g0 + g];
            for (unsigned g = 0; g < m; g++)
                dst[g0 + g] = base[(size_t)op->nin * stride + g0 + g] ^ carry[g];
        }
        return;
    }
    default:
        return;
    }
}

/* The word of op for chains chain0 .. chain0 + 63 (chain0 a multiple of 64), reading
 * position q's word at val[q]: dlm_step_op_words for one word. 0 for REMASK. */
DLM_HD uint64_t dlm_step_op_word(const dlm_op *op, const uint64_t *val, uint64_t chain0,
                                 uint64_t seed)
{
    uint64_t w = 0;
    dlm_step_op_words(op, val, 1, &w, 1, chain0, seed);
    return w;
}

#endif
