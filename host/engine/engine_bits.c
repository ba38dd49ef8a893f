/* engine_bits.c — the bit-sliced CPU engine: the word step (dlm_step_op_words in
 * dlm_step.h) looped over tiles of 64-chain words. It runs the same compiled programs
 * as the byte engine (engine_cpu.c) and gives the same samples and counts bit for bit
 * (test/test_bits.c), about 64 chains per instruction instead of one.
 *
 * Why values only: an operation never depends on chain data, so the mask state of a
 * position is the same for all chains at every point of a program. The engine keeps
 * one uint64_t per live value per 64 chains (bit i = chain i of the word; positions
 * renamed to value slots by the slot plan, include/dlm_slots.h, and once per run
 * allocated anew by this engine to fuse pairs of gates, "Fused pairs" below) and applies
 * the operations in program order, in place, exactly as the byte engine does; the
 * program checker guarantees that no operation reads a position written earlier in
 * its round, so in-place, in-order execution equals the model's simultaneous update.
 * REMASK operations cost nothing: a masked position's word is never read.
 *
 * Layout: chains are cut into words aligned to multiples of 64 (word j covers chains
 * base + 64 j .. base + 64 j + 63, base = first_chain rounded down to 64); the chains
 * of the first and last word outside the requested range are computed and masked out
 * of every count. A tile is G consecutive words; each OpenMP thread runs all the
 * operations over one tile in a value buffer of nslots * G words, slot-major
 * (val[slot * G + g]), of up to TILE_BYTES (below). Counts are
 * integers merged with adds (histogram cells with atomic adds), so they do not depend
 * on the thread count or the tile size.
 *
 * What this file is not: a second copy of the step (it owns loops and memory only),
 * nor the reference (the byte engine is, `--backend cpu-ref`).
 */
#include "dlm_engine.h"
#include "dlm_util.h"
#include "dlm_slots.h"
#include "dlm_words.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Tile size. Every operation costs a dispatch and then about one cycle per word, so a
 * tile must hold many words: measured on the EPFL multiplier (docs/throughput.md),
 * tiles of 2-4 MiB (L3-resident, read plane by plane, sequentially) beat L2-sized
 * ones (256 KiB: 1-7 words for L = 4316-27190) by 1.5-5x. But the gate loops are
 * bound by the tile's cache level, so a tile is WORDS_MAX words, or fewer where those
 * would exceed TILE_BYTES. With fused pairs (below) 128 words beat 512-1504 on
 * gen:mult:8 and ctrl by 1.1-1.4x and 256 by up to 1.1x (gen:mult:8, arbiter), and
 * are within noise of 256 elsewhere (docs/throughput.md, Updates 5 and 7). */
#define WORDS_MAX 128u                        /* words per tile, at most */
#ifndef DLM_TILE_BYTES /* -DDLM_TILE_BYTES=... for bench/engine_ab.sh's tile comparison */
#define DLM_TILE_BYTES (UINT64_C(4) << 20)
#endif
#define TILE_BYTES ((uint64_t)(DLM_TILE_BYTES)) /* value bytes per thread */
#define DEFAULT_BUDGET (UINT64_C(256) << 20)  /* value bytes for all threads together */
#ifndef DLM_FUSE /* -DDLM_FUSE=0: no fused pairs (the operations below), for A/B comparisons */
#define DLM_FUSE 1
#endif

// ---------------------------------------------------------------- popcount

/* Counts are popcounts of output words. Without -mpopcnt gcc calls a libgcc routine
 * (about 10x slower), so the counting loop is compiled twice: with the popcnt
 * instruction when the CPU has it (checked at run time), and portable otherwise. */
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define HAVE_POPCNT_TARGET 1
#else
#define HAVE_POPCNT_TARGET 0
#endif

/* Counts one tile of n words: for every output k (plane by plane, so reads are
 * sequential) adds popcount(word & live[g]) to ones[k], XORs the word into par[g];
 * returns the number of live chains with odd parity. live[g] is all ones but in the
 * tile's first and last word (the engine's ranges are contiguous), so a plane's count
 * is PLANE(plane, par, n) = sum of popcount(plane[g]) over all words (which also XORs
 * the plane into par) less the dead bits of those two words, and a negated output
 * counts nlive - c and flips every parity bit once (par ^= the XOR of the negations).
 * So the word loop is a load, a popcount and a parity XOR, which gcc vectorises
 * with VPOPCNTQ where the target has it; the AVX2 version counts by nibble lookup. */
#define COUNT_BODY(PLANE)                                                                \
    {                                                                                    \
        uint64_t odd = 0, nlive = 0, negs = 0;                                           \
        for (unsigned g = 0; g < n; g++) {                                               \
            par[g] = 0;                                                                  \
            nlive += (uint64_t)__builtin_popcountll(live[g]);                            \
        }                                                                                \
        for (uint32_t k = 0; k < p->nout; k++) {                                         \
            const uint64_t neg = p->out_neg[k] ? ~UINT64_C(0) : 0;                       \
            uint64_t c = 0;                                                              \
            negs ^= neg;                                                                 \
            if (p->out_pos[k] != DLM_POS_CONST && n) {                                   \
                const uint64_t *plane = val + (size_t)p->out_pos[k] * stride;            \
                c = PLANE(plane, par, n);                                                \
                c -= (uint64_t)__builtin_popcountll(plane[0] & ~live[0]);                \
                if (n > 1) c -= (uint64_t)__builtin_popcountll(plane[n - 1] & ~live[n - 1]); \
            }                                                                            \
            ones[k] += neg ? nlive - c : c;                                              \
        }                                                                                \
        for (unsigned g = 0; g < n; g++)                                                 \
            odd += (uint64_t)__builtin_popcountll((par[g] ^ negs) & live[g]);            \
        return odd;                                                                      \
    }

/* Sum of popcount(plane[g]) over g < n; par[g] ^= plane[g]. */
#define PLANE_LOOP_BODY                                                                  \
    {                                                                                    \
        uint64_t c = 0;                                                                  \
        for (unsigned g = 0; g < n; g++) {                                               \
            c += (uint64_t)__builtin_popcountll(plane[g]);                               \
            par[g] ^= plane[g];                                                          \
        }                                                                                \
        return c;                                                                        \
    }

typedef uint64_t (*count_fn)(const dlm_program *, const uint64_t *, size_t, unsigned,
                             const uint64_t *, uint64_t *, uint64_t *);
#define COUNT_ARGS                                                                       \
    (const dlm_program *p, const uint64_t *val, size_t stride, unsigned n,               \
     const uint64_t *live, uint64_t *par, uint64_t *ones)
#define PLANE_ARGS (const uint64_t *DLM_RESTRICT plane, uint64_t *DLM_RESTRICT par, unsigned n)

static inline uint64_t plane_portable PLANE_ARGS PLANE_LOOP_BODY
static uint64_t count_tile_portable COUNT_ARGS COUNT_BODY(plane_portable)

#if HAVE_POPCNT_TARGET
#include <immintrin.h>
__attribute__((target("popcnt"))) static inline uint64_t plane_popcnt PLANE_ARGS PLANE_LOOP_BODY
__attribute__((target("popcnt"))) static uint64_t count_tile_popcnt COUNT_ARGS
    COUNT_BODY(plane_popcnt)

/* AVX-512 with VPOPCNTQ: the same loop, vectorised by gcc. */
__attribute__((target("avx512f,avx512vpopcntdq,popcnt"))) static inline uint64_t
plane_vpopcnt PLANE_ARGS PLANE_LOOP_BODY
__attribute__((target("avx512f,avx512vpopcntdq,popcnt"))) static uint64_t count_tile_vpopcnt
    COUNT_ARGS COUNT_BODY(plane_vpopcnt)

/* AVX2: popcount of 4 words per instruction stream by a 16-entry nibble table
 * (VPSHUFB), byte counts summed by VPSADBW every 8 vectors (8 x 8 = 64 < 256). */
__attribute__((target("avx2,popcnt"))) static inline uint64_t plane_avx2 PLANE_ARGS
{
    const __m256i tab = _mm256_setr_epi8(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                                         0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4);
    const __m256i low = _mm256_set1_epi8(0x0f);
    __m256i total = _mm256_setzero_si256();
    unsigned g = 0;
    while (g + 4 <= n) {
        __m256i bytes = _mm256_setzero_si256();
        for (unsigned i = 0; i < 8 && g + 4 <= n; i++, g += 4) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(plane + g));
            __m256i *pp = (__m256i *)(void *)(par + g);
            _mm256_storeu_si256(pp, _mm256_xor_si256(_mm256_loadu_si256(pp), v));
            const __m256i lo = _mm256_shuffle_epi8(tab, _mm256_and_si256(v, low));
            const __m256i hi = _mm256_shuffle_epi8(tab, _mm256_and_si256(_mm256_srli_epi16(v, 4), low));
            bytes = _mm256_add_epi8(bytes, _mm256_add_epi8(lo, hi));
        }
        total = _mm256_add_epi64(total, _mm256_sad_epu8(bytes, _mm256_setzero_si256()));
    }
    uint64_t t[4];
    _mm256_storeu_si256((__m256i *)(void *)t, total);
    uint64_t c = t[0] + t[1] + t[2] + t[3];
    for (; g < n; g++) {
        c += (uint64_t)__builtin_popcountll(plane[g]);
        par[g] ^= plane[g];
    }
    return c;
}
__attribute__((target("avx2,popcnt"))) static uint64_t count_tile_avx2 COUNT_ARGS
    COUNT_BODY(plane_avx2)
#endif

/* The fastest counting loop the CPU runs (checked once per run). */
static count_fn pick_count(void)
{
#if HAVE_POPCNT_TARGET
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512vpopcntdq") && __builtin_cpu_supports("avx512f"))
        return count_tile_vpopcnt;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt")) return count_tile_avx2;
    if (__builtin_cpu_supports("popcnt")) return count_tile_popcnt;
#endif
    return count_tile_portable;
}

// ---------------------------------------------------------------- fair coins

/* Fair coins are Philox4x32-10 blocks of 128 chains (two words each, contract v2 in
 * dlm_step.h), about 60 % of a coin-heavy run. gcc vectorises dlm_step_op_words' block
 * loop poorly: it keeps the counter words as 32-bit lanes and spends most of the work
 * on shuffles between the widening multiplies' even and odd halves. Here each 64-bit
 * lane carries one block's 32-bit counter word (the upper half is don't-care where
 * only a multiply or the final truncation reads it), so a round is two 32x32->64
 * multiplies (VPMULUDQ), two shifts and four XORs per vector of 4 (AVX2) or 8
 * (AVX-512) blocks, two vectors in flight. One macro writes both widths, so the two
 * differ only in the intrinsics' names; the blocks a vector does not fill, and every
 * CPU without AVX2, take dlm_coin_block. Same bits as dlm_step_op_words
 * (test/test_bits.c compares the engine with the byte engine). */
typedef void (*philox_fn)(uint64_t seed, uint64_t b0, uint64_t coin, uint64_t *d,
                          unsigned nblocks);

/* Blocks b0 .. b0 + nblocks - 1 of coin `coin`: block h's two words to d[2h], d[2h+1]. */
static void philox_blocks_scalar(uint64_t seed, uint64_t b0, uint64_t coin, uint64_t *d,
                                 unsigned nblocks)
{
    for (unsigned h = 0; h < nblocks; h++) {
        philox4x32_ctr_t r = dlm_coin_block(seed, b0 + h, coin);
        d[2 * h] = (uint64_t)r.v[0] | (uint64_t)r.v[1] << 32;
        d[2 * h + 1] = (uint64_t)r.v[2] | (uint64_t)r.v[3] << 32;
    }
}

#if defined(__GNUC__) && defined(__x86_64__)
#define HAVE_PHILOX_SIMD 1
#include <immintrin.h>

static const uint64_t philox_iota[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

#define PHILOX_KERNEL(NAME, TARGET, V, NL, LOAD, STORE, SET1, ADD, MUL, SRL, SLL, XOR, AND, OR) \
    __attribute__((target(TARGET))) static void NAME(uint64_t seed, uint64_t b0, uint64_t coin, \
                                                     uint64_t *d, unsigned nblocks)     \
    {                                                                                    \
        const uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);                 \
        const V m0 = SET1(0xD2511F53), m1 = SET1(0xCD9E8D57), lo = SET1(0xFFFFFFFFll);   \
        const V iota = LOAD(philox_iota), iota2 = LOAD(philox_iota + NL);                \
        const V cc0 = SET1((long long)(uint32_t)coin), cc1 = SET1((long long)(coin >> 32)); \
        unsigned h = 0;                                                                  \
        for (; h + 2 * NL <= nblocks; h += 2 * NL) {                                     \
            const V bb = SET1((long long)(b0 + h));                                      \
            const V ba = ADD(bb, iota), bz = ADD(bb, iota2);                             \
            V a0 = cc0, a1 = cc1, a2 = AND(ba, lo), a3 = SRL(ba, 32);                    \
            V z0 = cc0, z1 = cc1, z2 = AND(bz, lo), z3 = SRL(bz, 32);                    \
            _Pragma("GCC unroll 10")                                                     \
            for (unsigned r = 0; r < 10; r++) {                                          \
                const V rk0 = SET1((long long)(uint32_t)(k0 + r * UINT32_C(0x9E3779B9))); \
                const V rk1 = SET1((long long)(uint32_t)(k1 + r * UINT32_C(0xBB67AE85))); \
                const V pa0 = MUL(a0, m0), pa1 = MUL(a2, m1);                            \
                const V pz0 = MUL(z0, m0), pz1 = MUL(z2, m1);                            \
                a0 = XOR(XOR(SRL(pa1, 32), a1), rk0);                                    \
                a2 = XOR(XOR(SRL(pa0, 32), a3), rk1);                                    \
                z0 = XOR(XOR(SRL(pz1, 32), z1), rk0);                                    \
                z2 = XOR(XOR(SRL(pz0, 32), z3), rk1);                                    \
                a1 = pa1;                                                                \
                a3 = pa0;                                                                \
                z1 = pz1;                                                                \
                z3 = pz0;                                                                \
            }                                                                            \
            uint64_t w[4][NL];                                                           \
            STORE(w[0], OR(AND(a0, lo), SLL(a1, 32)));                                   \
            STORE(w[1], OR(AND(a2, lo), SLL(a3, 32)));                                   \
            STORE(w[2], OR(AND(z0, lo), SLL(z1, 32)));                                   \
            STORE(w[3], OR(AND(z2, lo), SLL(z3, 32)));                                   \
            for (unsigned l = 0; l < NL; l++) {                                          \
                d[2 * (h + l)] = w[0][l];                                                \
                d[2 * (h + l) + 1] = w[1][l];                                            \
                d[2 * (h + NL + l)] = w[2][l];                                           \
                d[2 * (h + NL + l) + 1] = w[3][l];                                       \
            }                                                                            \
        }                                                                                \
        philox_blocks_scalar(seed, b0 + h, coin, d + 2 * h, nblocks - h);                \
    }

#define LOAD256(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define STORE256(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), v)
PHILOX_KERNEL(philox_blocks_avx2, "avx2", __m256i, 4, LOAD256, STORE256, _mm256_set1_epi64x,
              _mm256_add_epi64, _mm256_mul_epu32, _mm256_srli_epi64, _mm256_slli_epi64,
              _mm256_xor_si256, _mm256_and_si256, _mm256_or_si256)
#define LOAD512(p) _mm512_loadu_si512((const void *)(p))
#define STORE512(p, v) _mm512_storeu_si512((void *)(p), v)
PHILOX_KERNEL(philox_blocks_avx512, "avx512f", __m512i, 8, LOAD512, STORE512, _mm512_set1_epi64,
              _mm512_add_epi64, _mm512_mul_epu32, _mm512_srli_epi64, _mm512_slli_epi64,
              _mm512_xor_si512, _mm512_and_si512, _mm512_or_si512)
#else
#define HAVE_PHILOX_SIMD 0
#endif

/* The widest Philox the CPU runs (checked once per run). */
static philox_fn pick_philox(void)
{
#if HAVE_PHILOX_SIMD
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return philox_blocks_avx512;
    if (__builtin_cpu_supports("avx2")) return philox_blocks_avx2;
#endif
    return philox_blocks_scalar;
}

/* A fair coin over n words from chain0 (a multiple of 64): dlm_step_op_words' COIN
 * case (an upper half-block first when chain0 is one, a lower half last), with the
 * whole blocks by `ph`. */
static void fair_coin_words(philox_fn ph, uint64_t coin, uint64_t *dst, unsigned n,
                            uint64_t chain0, uint64_t seed)
{
    unsigned g = 0;
    if (n && ((chain0 >> 6) & 1u)) {
        philox4x32_ctr_t r = dlm_coin_block(seed, chain0 >> 7, coin);
        dst[g++] = (uint64_t)r.v[2] | (uint64_t)r.v[3] << 32;
    }
    const uint64_t b0 = (chain0 + 64u * (uint64_t)g) >> 7;
    const unsigned pairs = (n - g) / 2u;
    ph(seed, b0, coin, dst + g, pairs);
    if ((n - g) & 1u) {
        philox4x32_ctr_t r = dlm_coin_block(seed, b0 + pairs, coin);
        dst[n - 1] = (uint64_t)r.v[0] | (uint64_t)r.v[1] << 32;
    }
}

// ---------------------------------------------------------------- the operations

/* A 2-input gate whose table has 1 or 3 ones is an AND with optional negations,
 * ((a ^ x) & (b ^ y)) ^ z (x, y, z all-0 or all-1 words): every AIG gate; tables 6
 * and 9 are a ^ b ^ z. run_ops runs those in their own loops, so that the branch to
 * them is predicted (a switch on the table mispredicts where negations vary), from a
 * gate_op decoded once per run (20 bytes instead of the 48-byte operation and its
 * decoding, per operation and tile). Its form f: 0 for any other operation (ops[i] as
 * it is); else GF_FAST | GF_XOR? | z << 2 | y << 1 | x.
 *
 * Fused pairs: the gate loops are bound by their loads and stores (on a tile in L2
 * they run at about 80 % of the L1-resident AND-NOT micro-benchmark, bench/andnot.c),
 * so a gate P whose value has one reader R, also such a gate, and is no output, is
 * evaluated inside R's loop (t = P(a, b) in a register, then R(t, c)) and never
 * stored: 3 loads and a store for two gates instead of 4 and 2. The form's bits 8-12
 * are then P's form (GF_FUSED set) and bits 0-4 R's, with t as R's first input. */
#define GF_FAST 8u
#define GF_XOR 16u
#define GF_FUSED (GF_FAST << 8)
typedef struct {
    uint32_t pos, a, b, c; /* slot written; slots read (c: a fused pair's third input) */
    uint32_t f;            /* the form, above */
} gate_op;

static uint32_t table_form(unsigned t) /* of a 2-input gate's table t */
{
    const unsigned ones = (unsigned)__builtin_popcount(t);
    if (t == 6u || t == 9u) return GF_FAST | GF_XOR | (t == 9u ? 4u : 0u); /* a ^ b, ~(a ^ b) */
    if (ones != 1 && ones != 3) return 0;
    if (ones == 3) t = ~t & 15u;
    const unsigned k = (unsigned)__builtin_ctz(t); /* the one (a, b) = (k & 1, k >> 1) */
    return GF_FAST | (ones == 3 ? 4u : 0u) | ((k & 2u) ? 0u : 2u) | ((k & 1u) ? 0u : 1u);
}

static uint32_t gate_form(const dlm_op *op)
{
    return op->kind == DLM_OP_GATE && op->nin == 2 ? table_form((unsigned)op->arg & 15u) : 0;
}

/* Collapsed triples: a 2-input gate R whose inputs are gates P and Q, each read by R
 * alone, no output, on the same two values (A, B), is a function of (A, B) alone; where
 * that function has a fast form, R computes it from (A, B) and P and Q are not run. An
 * AIG writes A ^ B so, ~(~(A & ~B) & ~(~A & B)): three ANDs become one XOR (gen:mult:8
 * exported as an AIG: 104 triples, its revise plan 628 operations -> 339 with the pairs
 * below; EPFL adder 128 triples, hyp 15168). Samples are unchanged. The table
 * of R(P(A, B), Q(A, B)) as a function of (A, B), P's inputs in P's order, bit
 * A + 2B (the order of dlm_op's tables): */
static unsigned collapsed_table(unsigned tr, unsigned tp, unsigned tq, int q_swapped)
{
    unsigned t = 0;
    for (unsigned k = 0; k < 4; k++) {
        const unsigned kq = q_swapped ? (k >> 1 | (k & 1u) << 1) : k;
        const unsigned p = tp >> k & 1u, q = tq >> kq & 1u;
        t |= (tr >> (p | q << 1) & 1u) << k;
    }
    return t;
}

/* The slot plan the engine runs: sp's operations with fused pairs (above), the other
 * operations as they are, slots allocated anew. */
typedef struct {
    dlm_op *ops;        /* renamed operations (a fused pair's reader only) */
    gate_op *code;      /* their forms */
    uint64_t nops;
    uint32_t nslots;
    uint32_t *out_slot; /* slot of output k, or DLM_POS_CONST */
} fused_plan;

static void fused_plan_free(fused_plan *fp)
{
    free(fp->ops);
    free(fp->code);
    free(fp->out_slot);
    memset(fp, 0, sizeof *fp);
}

#define NO_VALUE UINT32_MAX
#define FUSE_SPAN 4096u

/* Builds fp from sp: values numbered by the operation that writes them (SSA), pairs
 * chosen in program order (a reader fuses at most one input, a fused gate hosts
 * none), and slots by a linear scan over the remaining operations (an operation's
 * slot is taken before its inputs' dead slots are freed, so no operation writes a
 * slot it reads, as dlm_step_op_words and the restrict loops need). fuse = 1 takes
 * every pair (fewer slots than sp's where pairs shorten lives: the multiplier 4316 ->
 * 1891, but more on others), 2 only pairs that keep the slots within sp's (below), 0
 * none: fp is sp's operations with their forms, as also for a plan with operations
 * other than gates and coins. DLM_ENOMEM. */
static dlm_status fused_plan_build(const dlm_slot_plan *sp, uint32_t nout, int fuse, fused_plan *fp,
                                   dlm_err *err)
{
    const uint64_t n = sp->nops, n1 = n ? n : 1;
    memset(fp, 0, sizeof *fp);
    fp->ops = dlm_malloc(n1, sizeof *fp->ops);
    fp->code = dlm_malloc(n1, sizeof *fp->code);
    fp->out_slot = dlm_malloc(nout ? nout : 1, sizeof *fp->out_slot);
    uint32_t *cur = dlm_malloc(sp->nslots ? sp->nslots : 1, sizeof *cur); /* slot -> value */
    uint32_t *inv = dlm_malloc(n1, 6 * sizeof *inv); /* inv[6i + j]: value of op i's input j */
    uint32_t *nread = dlm_calloc(n1, sizeof *nread); /* per value: readers */
    uint32_t *last = dlm_calloc(n1, sizeof *last);   /* per value: last reader's new index + 1 */
    uint64_t *need = dlm_malloc(n + 1, sizeof *need); /* per op: slots held (pairs, below) */
    uint32_t *slot = dlm_malloc(n1, sizeof *slot), *stack = dlm_malloc(n1, sizeof *stack);
    uint8_t *fs = dlm_calloc(n1, 1); /* per op: 1 fused into its reader, 2 + j hosts input j */
    uint8_t *isout = dlm_calloc(n1, 1);
    uint32_t *form = dlm_malloc(n1, sizeof *form); /* per op: its form (of its table in tt) */
    uint8_t *tt = dlm_malloc(n1, 1);               /* per op: its table, collapsed (16: as is) */
    dlm_status s = DLM_OK;
    if (!fp->ops || !fp->code || !fp->out_slot || !cur || !inv || !nread || !last || !need ||
        !slot || !stack || !fs || !isout || !form || !tt) {
        s = dlm_fail(err, DLM_ENOMEM, "out of memory for the bit-sliced engine's operations");
        goto done;
    }
    if (n > UINT32_MAX - 1) fuse = 0;
    for (uint32_t q = 0; q < sp->nslots; q++) cur[q] = NO_VALUE;
    for (uint64_t i = 0; i < n && fuse; i++) {
        const dlm_op *op = &sp->ops[i];
        if (op->kind != DLM_OP_GATE && op->kind != DLM_OP_COIN) fuse = 0;
        for (unsigned j = 0; j < op->nin && fuse && op->kind == DLM_OP_GATE; j++) {
            const uint32_t v = cur[op->in[j]];
            inv[6 * i + j] = v;
            if (v == NO_VALUE) fuse = 0; /* a read before any write: keep sp */
            else nread[v]++;
        }
        cur[op->pos] = (uint32_t)i;
    }
    for (uint32_t k = 0; k < nout && fuse; k++)
        if (sp->out_slot[k] != DLM_POS_CONST) {
            if (cur[sp->out_slot[k]] == NO_VALUE) fuse = 0;
            else isout[cur[sp->out_slot[k]]] = 1;
        }
    if (!fuse) goto plain;
    /* Collapsed triples (above), in program order (so a collapsed R can be a P or Q of a
     * later one): P and Q become fused-away (fs 1), R reads (A, B) with table tt. */
    for (uint64_t i = 0; i < n; i++) {
        const dlm_op *op = &sp->ops[i];
        form[i] = gate_form(op);
        tt[i] = 16;
        if (op->kind != DLM_OP_GATE || op->nin != 2) continue;
        const uint32_t P = inv[6 * i], Q = inv[6 * i + 1];
        if (P == Q || nread[P] != 1 || nread[Q] != 1 || isout[P] || isout[Q] ||
            sp->ops[P].kind != DLM_OP_GATE || sp->ops[P].nin != 2 ||
            sp->ops[Q].kind != DLM_OP_GATE || sp->ops[Q].nin != 2)
            continue;
        const uint32_t A = inv[6 * P], B = inv[6 * P + 1];
        const int swapped = inv[6 * Q] == B;
        if (A == B || (swapped ? inv[6 * Q + 1] != A : inv[6 * Q] != A || inv[6 * Q + 1] != B))
            continue;
#define TABLE(k) (tt[k] < 16 ? tt[k] : (unsigned)sp->ops[k].arg & 15u)
        const unsigned t = collapsed_table(TABLE(i), TABLE(P), TABLE(Q), swapped);
#undef TABLE
        if (!table_form(t)) continue;
        tt[i] = (uint8_t)t;
        form[i] = table_form(t);
        form[P] = form[Q] = 0;
        fs[P] = fs[Q] = 1;
        inv[6 * i] = A;
        inv[6 * i + 1] = B;
        nread[A]--; /* read by P and Q before, by R now */
        nread[B]--;
    }
    /* Pairs: a reader takes the first input that qualifies, if the slots stay within
     * sp's (the memory budget is sized by them): need[k] is the slots the linear scan
     * below holds at operation k (its own, and the values written before k and read at
     * k or later; outputs to the end), and a pair (P, R) changes it on (P, R] by -1 (P's
     * value) and +1 for each input of P whose last reader was before k (now R). Pairs
     * more than FUSE_SPAN operations apart are not tried (bounds the set-up time). */
    for (uint64_t i = 0; i < n; i++) { /* last reader (original index), or i for none */
        last[i] = isout[i] ? (uint32_t)n : (uint32_t)i;
        const dlm_op *op = &sp->ops[i];
        for (unsigned j = 0; op->kind == DLM_OP_GATE && j < op->nin && !fs[i]; j++)
            if (!isout[inv[6 * i + j]]) last[inv[6 * i + j]] = (uint32_t)i;
    }
    for (uint64_t k = 0; k <= n; k++) need[k] = 0;
    for (uint64_t v = 0; v < n; v++)
        if (last[v] > v) {
            need[v + 1]++;
            if (last[v] < n) need[last[v] + 1]--;
        }
    for (uint64_t k = 0, run = 0; k < n; k++) { /* prefix sums, plus the op's own slot */
        run += need[k];
        need[k] = run + 1;
    }
    for (uint64_t k = 0; k < n && fuse == 2; k++)
        if (need[k] > sp->nslots) goto plain; /* not even the plain linear scan fits */
    for (uint64_t i = 0; i < n; i++) {
        if (!form[i] || fs[i]) continue;
        for (unsigned j = 0; j < 2; j++) {
            const uint32_t v = inv[6 * i + j];
            if (nread[v] != 1 || isout[v] || fs[v] != 0 || !form[v] ||
                (fuse == 2 && i - v > FUSE_SPAN))
                continue;
            const uint32_t a = inv[6 * v], b = inv[6 * v + 1];
            int fits = 1;
            for (uint64_t k = v + 1; k <= i && fits && fuse == 2; k++)
                fits = need[k] - 1 + (last[a] < k) + (b != a && last[b] < k) <= sp->nslots;
            if (!fits) continue;
            for (uint64_t k = v + 1; k <= i && fuse == 2; k++)
                need[k] = need[k] - 1 + (uint64_t)((last[a] < k) + (b != a && last[b] < k));
            if (last[a] < i) last[a] = (uint32_t)i;
            if (last[b] < i) last[b] = (uint32_t)i;
            fs[v] = 1;
            fs[i] = (uint8_t)(2 + j);
            break;
        }
    }
    for (uint64_t i = 0; i < n; i++) last[i] = 0;
    /* The values each remaining operation reads: a fused reader P's inputs and its other one. */
#define READS(i, r, nr)                                                                  \
    do {                                                                                 \
        nr = 0;                                                                          \
        if (fs[i] >= 2) {                                                                \
            const unsigned j_ = fs[i] - 2u;                                              \
            const uint32_t p_ = inv[6 * (i) + j_];                                       \
            r[0] = inv[6 * p_];                                                          \
            r[1] = inv[6 * p_ + 1];                                                      \
            r[2] = inv[6 * (i) + 1 - j_];                                                \
            nr = 3;                                                                      \
        } else if (sp->ops[i].kind == DLM_OP_GATE)                                       \
            for (; nr < sp->ops[i].nin; nr++) r[nr] = inv[6 * (i) + nr];                 \
    } while (0)
    uint32_t m = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (fs[i] == 1) continue;
        uint32_t r[6];
        unsigned nr;
        READS(i, r, nr);
        m++;
        for (unsigned j = 0; j < nr; j++) last[r[j]] = m;
    }
    uint32_t nfree = 0, nslots = 0;
    m = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (fs[i] == 1) continue;
        const dlm_op *op = &sp->ops[i];
        uint32_t r[6];
        unsigned nr;
        READS(i, r, nr);
        m++;
        slot[i] = nfree ? stack[--nfree] : nslots++;
        dlm_op *no = &fp->ops[m - 1];
        *no = *op;
        no->pos = slot[i];
        if (tt[i] < 16) no->arg = tt[i];
        const uint32_t f = form[i];
        if (fs[i] >= 2) {
            const unsigned j = fs[i] - 2u;
            /* t is R's first input: where it was R's second, swap R's x and y */
            const uint32_t fr = j ? (f & ~3u) | (f >> 1 & 1u) | (f << 1 & 2u) : f;
            fp->code[m - 1] = (gate_op){slot[i], slot[r[0]], slot[r[1]], slot[r[2]],
                                        fr | form[inv[6 * i + j]] << 8};
        } else {
            for (unsigned j = 0; j < nr; j++) no->in[j] = slot[r[j]];
            fp->code[m - 1] = (gate_op){slot[i], no->in[0], no->in[1], 0, f};
        }
        /* Free the slots of values read for the last time (once each), and of a value no
         * one reads, after the operation's own slot is taken. */
        for (unsigned j = 0; j < nr; j++)
            if (last[r[j]] == m && !isout[r[j]]) {
                last[r[j]] = 0;
                stack[nfree++] = slot[r[j]];
            }
        if (last[i] == 0 && !isout[i]) stack[nfree++] = slot[i];
    }
#undef READS
    for (uint32_t k = 0; k < nout; k++)
        fp->out_slot[k] = sp->out_slot[k] == DLM_POS_CONST ? DLM_POS_CONST : slot[cur[sp->out_slot[k]]];
    fp->nops = m;
    fp->nslots = nslots ? nslots : 1;
    goto done;
plain: /* sp as it is */
    for (uint64_t i = 0; i < n; i++) {
        const dlm_op *op = &sp->ops[i];
        fp->ops[i] = *op;
        fp->code[i] = (gate_op){op->pos, op->in[0], op->in[1], 0, gate_form(op)};
    }
    memcpy(fp->out_slot, sp->out_slot, (nout ? nout : 1) * sizeof *fp->out_slot);
    fp->nops = n;
    fp->nslots = sp->nslots;
done:
    free(cur);
    free(inv);
    free(nread);
    free(last);
    free(need);
    free(slot);
    free(stack);
    free(fs);
    free(isout);
    free(form);
    free(tt);
    if (s) fused_plan_free(fp);
    return s;
}

/* The gate loops, d[g] = EXPR for g < n (with `blocked`, n is a multiple of AND_BLOCK
 * and every block is unrolled: no remainder loops), restrict: no alias checks. x, y, z
 * negate the (outer) gate's inputs and output, u, v, w a fused pair's inner gate's. */
#define AND_BLOCK 32u
#define GATE_KERNEL(NAME, EXPR)                                                          \
    static inline __attribute__((always_inline)) void NAME(                              \
        uint64_t *DLM_RESTRICT d, const uint64_t *DLM_RESTRICT a,                        \
        const uint64_t *DLM_RESTRICT b, const uint64_t *DLM_RESTRICT c, uint64_t x,      \
        uint64_t y, uint64_t z, uint64_t u, uint64_t v, uint64_t w, unsigned n, int blocked) \
    {                                                                                    \
        (void)c, (void)x, (void)y, (void)u, (void)v, (void)w;                            \
        if (blocked)                                                                     \
            for (unsigned k = 0; k < n; k += AND_BLOCK, d += AND_BLOCK, a += AND_BLOCK,  \
                          b += AND_BLOCK, c += AND_BLOCK)                                \
                _Pragma("GCC unroll 32") for (unsigned g = 0; g < AND_BLOCK; g++) d[g] = EXPR; \
        else                                                                             \
            for (unsigned g = 0; g < n; g++) d[g] = EXPR;                                \
    }
GATE_KERNEL(gate_and, ((a[g] ^ x) & (b[g] ^ y)) ^ z)
GATE_KERNEL(gate_xor, a[g] ^ b[g] ^ z)
GATE_KERNEL(gate_and_and, ((((a[g] ^ u) & (b[g] ^ v)) ^ w ^ x) & (c[g] ^ y)) ^ z)
GATE_KERNEL(gate_xor_and, ((a[g] ^ u) & (b[g] ^ v)) ^ w ^ c[g] ^ z)
GATE_KERNEL(gate_and_xor, ((a[g] ^ b[g] ^ w ^ x) & (c[g] ^ y)) ^ z)
GATE_KERNEL(gate_xor_xor, a[g] ^ b[g] ^ c[g] ^ w ^ z)

/* Applies ops[0..nops) in program order to a tile of n words (stride G). The word
 * loops of dlm_step_op_words (forced inline) are vectorised: this file is compiled
 * with -fvect-cost-model=dynamic (Makefile; gcc's -O2 default leaves loops that need
 * an alias check scalar, and the slot plan never lets an operation write a slot it
 * reads, so the check passes), and on x86-64 in three versions, x86-64-v4 (AVX-512:
 * 8 words per instruction), AVX2 (4) and the baseline (SSE2, 2), chosen once by the
 * loader (target_clones). Gates of a fast form run the loops above (over whole
 * AND_BLOCKs where G is a multiple of it: the words past n are computed, never
 * counted); fair coins go to `ph` (above). Measured in docs/throughput.md ("Update:
 * vectorised word loops", "Update 3", "Update 7"). */
#if defined(__GNUC__) && defined(__x86_64__)
__attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
static void run_ops(const dlm_op *ops, const gate_op *code, uint64_t nops, uint64_t *val, size_t G,
        unsigned n, uint64_t chain0, uint64_t seed, philox_fn ph)
{
    const int blocked = G % AND_BLOCK == 0;
    const unsigned nb = blocked ? (n + AND_BLOCK - 1) / AND_BLOCK * AND_BLOCK : n;
    for (uint64_t i = 0; i < nops; i++) {
        const gate_op c = code[i];
        if (c.f) {
            const uint64_t x = 0 - (uint64_t)(c.f & 1u), y = 0 - (uint64_t)(c.f >> 1 & 1u);
            const uint64_t z = 0 - (uint64_t)(c.f >> 2 & 1u), u = 0 - (uint64_t)(c.f >> 8 & 1u);
            const uint64_t v = 0 - (uint64_t)(c.f >> 9 & 1u), w = 0 - (uint64_t)(c.f >> 10 & 1u);
            const uint64_t *a = val + (size_t)c.a * G, *b = val + (size_t)c.b * G;
            const uint64_t *cc = val + (size_t)c.c * G;
            uint64_t *dst = val + (size_t)c.pos * G;
            if (!(c.f & GF_FUSED)) {
                if (c.f & GF_XOR) gate_xor(dst, a, b, cc, x, y, z, u, v, w, nb, blocked);
                else gate_and(dst, a, b, cc, x, y, z, u, v, w, nb, blocked);
            } else if (c.f & GF_XOR) {
                if (c.f & (GF_XOR << 8)) gate_xor_xor(dst, a, b, cc, x, y, z, u, v, w, nb, blocked);
                else gate_xor_and(dst, a, b, cc, x, y, z, u, v, w, nb, blocked);
            } else {
                if (c.f & (GF_XOR << 8)) gate_and_xor(dst, a, b, cc, x, y, z, u, v, w, nb, blocked);
                else gate_and_and(dst, a, b, cc, x, y, z, u, v, w, nb, blocked);
            }
            continue;
        }
        /* A local copy: value stores (uint64_t) may alias the op's fields. */
        const dlm_op op = ops[i];
        uint64_t *dst = val + (size_t)op.pos * G;
        if (op.kind == DLM_OP_COIN && op.thr == DLM_COIN_FAIR)
            fair_coin_words(ph, op.arg, dst, n, chain0, seed);
        else
            dlm_step_op_words(&op, val, G, dst, n, chain0, seed);
    }
}

// ---------------------------------------------------------------- the engine

struct dlm_bits_plan {
    fused_plan fp;
};

/* The fused plan in as many slots as the slot plan at most (the memory budget is sized
 * by those): every pair if that fits, else the pairs that fit, else none. sp NULL:
 * p's slot plan is made here. */
static dlm_status bits_plan_make(const dlm_program *p, const dlm_slot_plan *sp, fused_plan *fp,
                                 dlm_err *err)
{
    dlm_slot_plan own;
    memset(&own, 0, sizeof own);
    if (!sp) {
        dlm_status ps = dlm_slot_plan_build(p, &own, err);
        if (ps) return ps;
    }
    const dlm_slot_plan *plan = sp ? sp : &own;
    dlm_status fs = DLM_OK;
    for (int fuse = DLM_FUSE ? 1 : 0;; fuse = fuse == 1 ? 2 : 0) {
        fs = fused_plan_build(plan, p->nout, fuse, fp, err);
        if (fs || fp->nslots <= plan->nslots || fuse == 0) break;
        fused_plan_free(fp);
    }
    dlm_slot_plan_free(&own);
    return fs;
}

dlm_status dlm_bits_plan_build(const dlm_program *p, const dlm_slot_plan *sp, dlm_bits_plan **out,
                               dlm_err *err)
{
    if (!p || !out) return dlm_fail(err, DLM_EINPUT, "dlm_bits_plan_build: NULL argument");
    *out = dlm_calloc(1, sizeof **out);
    if (!*out) return dlm_fail(err, DLM_ENOMEM, "out of memory for the bit-sliced engine's plan");
    dlm_status s = bits_plan_make(p, sp, &(*out)->fp, err);
    if (s) {
        free(*out);
        *out = NULL;
    }
    return s;
}

void dlm_bits_plan_free(dlm_bits_plan *bp)
{
    if (!bp) return;
    fused_plan_free(&bp->fp);
    free(bp);
}

dlm_status dlm_engine_bits_run(const dlm_program *p, const dlm_run_opts *o, dlm_counts *out,
                               dlm_err *err)
{
    if (!p || !o || !out) return dlm_fail(err, DLM_EINPUT, "dlm_engine_bits_run: NULL argument");
    int nthreads = dlm_threads_of(o->threads);
    uint64_t budget = o->max_bytes ? o->max_bytes : DEFAULT_BUDGET;
    if (budget > dlm_memory_budget(p->max_bytes)) budget = dlm_memory_budget(p->max_bytes);
    /* the caller's plan (o->bits), else one made for this call */
    fused_plan own;
    memset(&own, 0, sizeof own);
    if (!o->bits) {
        dlm_status fs = bits_plan_make(p, o->plan, &own, err);
        if (fs) return fs;
    }
    const fused_plan sp = o->bits ? o->bits->fp : own;
    /* The renamed program: slots for positions (the counting code reads out_pos). */
    dlm_program rp = *p;
    rp.out_pos = sp.out_slot;
    rp.L = sp.nslots;
    uint64_t L = sp.nslots, word_bytes = 8 * L;
    /* Words aligned to 64 chains; `skew` chains of the first word precede the range. */
    const uint64_t base = o->first_chain & ~UINT64_C(63), skew = o->first_chain - base;
    const uint64_t end = o->first_chain + o->chains;
    const uint64_t nwords = o->chains ? (skew + o->chains + 63) / 64 : 0;
    /* Tile: WORDS_MAX words, or as many as fit in TILE_BYTES, within the budget, and no
     * more than an equal share of the words per thread. */
    uint64_t G = TILE_BYTES / word_bytes < WORDS_MAX ? TILE_BYTES / word_bytes : WORDS_MAX;
    if (G == 0) G = 1;
    uint64_t gb = budget / ((uint64_t)nthreads * word_bytes);
    if (gb == 0) {
        if (word_bytes > budget) {
            fused_plan_free(&own);
            return dlm_fail(err, DLM_EINPUT,
                            "one word of 64 chains needs %llu value bytes, over the budget of %llu",
                            (unsigned long long)word_bytes, (unsigned long long)budget);
        }
        gb = 1;
        nthreads = (int)(budget / word_bytes);
    }
    if (G > gb) G = gb;
    uint64_t share = (nwords + (uint64_t)nthreads - 1) / (uint64_t)nthreads;
    if (G > share && share > 0) G = share;
    /* Whole 16-block vectors of the AVX-512 Philox kernel (else 4-15 blocks a coin
     * take the scalar path, 0.8 % of gen:mult:8). */
    if (G >= 64) G &= ~UINT64_C(31);
    const uint64_t ntiles = (nwords + G - 1) / G;
    if ((uint64_t)nthreads > ntiles) nthreads = ntiles ? (int)ntiles : 1;
    out->bytes_tokens = (uint64_t)nthreads * G * word_bytes;
    const size_t sb = dlm_sample_bytes(p);
    const uint32_t nout = p->nout;
    const count_fn count = pick_count();
    const philox_fn ph = pick_philox();
    volatile int failed = 0;

#pragma omp parallel num_threads(nthreads)
    {
        /* 64-byte aligned (with G a multiple of 8, every plane starts a cache line) and
         * zeroed: deterministic even unchecked. */
        const size_t vb = ((size_t)(G * L) * sizeof(uint64_t) + 63u) & ~(size_t)63u;
        uint64_t *val = aligned_alloc(64, vb);
        if (val) memset(val, 0, vb);
        uint64_t *ow = dlm_malloc(nout ? nout : 1, sizeof *ow);
        uint8_t *pk = dlm_malloc(64 * (sb ? sb : 1), 1);
        uint64_t *ones = dlm_calloc(nout ? nout : 1, sizeof *ones);
        uint64_t *live = dlm_malloc(G, sizeof *live), *par = dlm_malloc(G, sizeof *par);
        uint64_t odd = 0, done = 0;
        if (!val || !ow || !pk || !ones || !live || !par) failed = 1;
#pragma omp for schedule(dynamic, 1)
        for (uint64_t t = 0; t < ntiles; t++) {
            if (failed) continue;
            const uint64_t w0 = t * G;
            const unsigned n = (unsigned)(nwords - w0 < G ? nwords - w0 : G);
            const uint64_t chain0 = base + 64 * w0, seed = o->seed;
            run_ops(sp.ops, sp.code, sp.nops, val, G, n, chain0, seed, ph);
            /* Chains [cw + lo[g], cw + hi[g]) of word g (cw = chain0 + 64 g) are in the
             * range: all 64 except in the first and the last word. */
            for (unsigned g = 0; g < n; g++) {
                const uint64_t cw = chain0 + 64 * (uint64_t)g;
                const unsigned lo = cw < o->first_chain ? (unsigned)(o->first_chain - cw) : 0;
                const unsigned hi = end - cw < 64 ? (unsigned)(end - cw) : 64;
                live[g] = (hi == 64 ? ~UINT64_C(0) : (UINT64_C(1) << hi) - 1) &
                          ~((UINT64_C(1) << lo) - 1);
                done += hi - lo;
            }
            odd += count(&rp, val, G, n, live, par, ones);
            if (out->hist || o->samples)
                for (unsigned g = 0; g < n; g++) {
                    const uint64_t cw = chain0 + 64 * (uint64_t)g;
                    const unsigned lo = cw < o->first_chain ? (unsigned)(o->first_chain - cw) : 0;
                    const unsigned hi = end - cw < 64 ? (unsigned)(end - cw) : 64;
                    for (uint32_t k = 0; k < nout; k++) {
                        uint64_t w = rp.out_pos[k] == DLM_POS_CONST
                                         ? 0
                                         : val[(size_t)rp.out_pos[k] * G + g];
                        ow[k] = p->out_neg[k] ? ~w : w;
                    }
                    dlm_pack_word(ow, nout, sb, pk);
                    if (o->samples)
                        memcpy(o->samples + (cw + lo - o->first_chain) * sb, pk + lo * sb,
                               (hi - lo) * sb);
                    if (out->hist)
                        for (unsigned i = lo; i < hi; i++) {
                            uint64_t idx = 0;
                            for (size_t b = 0; b < sb; b++) idx |= (uint64_t)pk[i * sb + b] << (8 * b);
#pragma omp atomic
                            out->hist[idx]++;
                        }
                }
        }
#pragma omp critical
        {
            out->chains += done;
            out->odd_parity += odd;
            if (ones)
                for (uint32_t k = 0; k < nout; k++) out->ones[k] += ones[k];
        }
        free(val);
        free(ow);
        free(pk);
        free(ones);
        free(live);
        free(par);
    }
    fused_plan_free(&own);
    if (failed) return dlm_fail(err, DLM_ENOMEM, "out of memory for the bit-sliced engine's value tiles");
    return DLM_OK;
}
