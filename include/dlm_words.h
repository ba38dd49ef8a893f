/* dlm_words.h — 64-chain value words to per-chain samples, for the bit-sliced
 * engines on the host (host/engine/engine_bits.c) and the device (kernels/engine_cuda_bits.cu).
 * DLM_HD: one source for both.
 */
#ifndef DLM_WORDS_H
#define DLM_WORDS_H

#include <stddef.h>
#include <stdint.h>

#include "dlm_hd.h"

/* Packs the samples of the 64 chains of one word: ow[k] is output k's word (bit i =
 * chain i, negation applied); out[i * sb + j] bit r = output 8 j + r of chain i, the
 * engines' sample layout (sb = (nout + 7) / 8). Eight outputs at a time as an 8x8 bit
 * matrix per 8 chains, transposed in three steps (Hacker's Delight, transpose8). */
DLM_HD void dlm_pack_word(const uint64_t *ow, uint32_t nout, size_t sb, uint8_t *out)
{
    for (size_t j = 0; j < sb; j++) {
        uint64_t o[8];
        for (unsigned r = 0; r < 8; r++) o[r] = 8 * j + r < nout ? ow[8 * j + r] : 0;
        for (unsigned q = 0; q < 8; q++) {
            uint64_t x = 0, t;
            for (unsigned r = 0; r < 8; r++) x |= ((o[r] >> (8 * q)) & 0xFFu) << (8 * r);
            /* bit 8 r + c (output r, chain c) -> bit 8 c + r */
            t = (x ^ (x >> 7)) & UINT64_C(0x00AA00AA00AA00AA);
            x ^= t ^ (t << 7);
            t = (x ^ (x >> 14)) & UINT64_C(0x0000CCCC0000CCCC);
            x ^= t ^ (t << 14);
            t = (x ^ (x >> 28)) & UINT64_C(0x00000000F0F0F0F0);
            x ^= t ^ (t << 28);
            for (unsigned c = 0; c < 8; c++) out[(8 * q + c) * sb + j] = (uint8_t)(x >> (8 * c));
        }
    }
}

#endif
