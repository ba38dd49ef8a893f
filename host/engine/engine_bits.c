/* engine_bits.c — the bit-sliced CPU engine: the word step (dlm_step_op_words in
 * dlm_step.h) looped over tiles of 64-chain words. It runs the same compiled programs
 * as the byte engine (engine_cpu.c) and gives the same samples and counts bit for bit
 * (test/test_bits.c), about 64 chains per instruction instead of one.
 *
 * Why values only: an operation never depends on chain data, so the mask state of a
 * position is the same for all chains at every point of a program. The engine keeps
 * one uint64_t per live value per 64 chains (bit i = chain i of the word; positions
 * renamed to value slots by the slot plan, include/dlm_slots.h) and applies
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

/* Tile size. Every operation costs a dispatch (a switch on its kind and truth table,
 * mostly mispredicted: about 10-20 cycles) and then about one cycle per word, so a
 * tile must hold many words: measured on the EPFL multiplier (docs/throughput.md),
 * tiles of 2-4 MiB (L3-resident, read plane by plane, sequentially) beat L2-sized
 * ones (256 KiB: 1-7 words for L = 4316-27190) by 1.5-5x. */
#define WORDS_MAX 4096u                       /* words per tile, at most */
#define TILE_BYTES (UINT64_C(4) << 20)        /* value bytes per thread */
#define DEFAULT_BUDGET (UINT64_C(256) << 20)  /* value bytes for all threads together */

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
 * returns the number of live chains with odd parity. */
#define COUNT_BODY                                                                       \
    {                                                                                    \
        uint64_t odd = 0;                                                                \
        for (unsigned g = 0; g < n; g++) par[g] = 0;                                     \
        for (uint32_t k = 0; k < p->nout; k++) {                                         \
            const uint64_t neg = p->out_neg[k] ? ~UINT64_C(0) : 0;                       \
            uint64_t c = 0;                                                              \
            if (p->out_pos[k] == DLM_POS_CONST) {                                        \
                for (unsigned g = 0; g < n; g++) {                                       \
                    c += (uint64_t)__builtin_popcountll(neg & live[g]);                  \
                    par[g] ^= neg;                                                       \
                }                                                                        \
            } else {                                                                     \
                const uint64_t *plane = val + (size_t)p->out_pos[k] * stride;            \
                for (unsigned g = 0; g < n; g++) {                                       \
                    uint64_t w = plane[g] ^ neg;                                         \
                    c += (uint64_t)__builtin_popcountll(w & live[g]);                    \
                    par[g] ^= w;                                                         \
                }                                                                        \
            }                                                                            \
            ones[k] += c;                                                                \
        }                                                                                \
        for (unsigned g = 0; g < n; g++) odd += (uint64_t)__builtin_popcountll(par[g] & live[g]); \
        return odd;                                                                      \
    }

static uint64_t count_tile_portable(const dlm_program *p, const uint64_t *val, size_t stride,
                                    unsigned n, const uint64_t *live, uint64_t *par,
                                    uint64_t *ones) COUNT_BODY

#if HAVE_POPCNT_TARGET
__attribute__((target("popcnt"))) static uint64_t
count_tile_popcnt(const dlm_program *p, const uint64_t *val, size_t stride, unsigned n,
                  const uint64_t *live, uint64_t *par, uint64_t *ones) COUNT_BODY
#endif

typedef uint64_t (*count_fn)(const dlm_program *, const uint64_t *, size_t, unsigned,
                             const uint64_t *, uint64_t *, uint64_t *);

static count_fn pick_count(void)
{
#if HAVE_POPCNT_TARGET
    __builtin_cpu_init();
    if (__builtin_cpu_supports("popcnt")) return count_tile_popcnt;
#endif
    return count_tile_portable;
}

// ---------------------------------------------------------------- the operations

/* Applies ops[0..nops) in program order to a tile of n words (stride G). The word
 * loops of dlm_step_op_words (forced inline) are vectorised: this file is compiled
 * with -fvect-cost-model=dynamic (Makefile; gcc's -O2 default leaves loops that need
 * an alias check scalar, and the slot plan never lets an operation write a slot it
 * reads, so the check passes), and on x86-64 in two versions, AVX2 (4 words per
 * instruction) and the baseline (SSE2, 2), chosen once by the loader (target_clones).
 * Measured in docs/throughput.md ("Update: vectorised word loops"). */
#if defined(__GNUC__) && defined(__x86_64__)
__attribute__((target_clones("avx2", "default")))
#endif
static void run_ops(const dlm_op *ops, uint64_t nops, uint64_t *val, size_t G, unsigned n, uint64_t chain0,
        uint64_t seed)
{
    for (uint64_t i = 0; i < nops; i++) {
        /* A local copy: value stores (uint64_t) may alias the op's fields. */
        const dlm_op op = ops[i];
        dlm_step_op_words(&op, val, G, val + (size_t)op.pos * G, n, chain0, seed);
    }
}

// ---------------------------------------------------------------- the engine

dlm_status dlm_engine_bits_run(const dlm_program *p, const dlm_run_opts *o, dlm_counts *out,
                               dlm_err *err)
{
    if (!p || !o || !out) return dlm_fail(err, DLM_EINPUT, "dlm_engine_bits_run: NULL argument");
    int nthreads = dlm_threads_of(o->threads);
    uint64_t budget = o->max_bytes ? o->max_bytes : DEFAULT_BUDGET;
    if (budget > dlm_memory_budget()) budget = dlm_memory_budget();
    dlm_slot_plan own;
    memset(&own, 0, sizeof own);
    if (!o->plan) {
        dlm_status ps = dlm_slot_plan_build(p, &own, err);
        if (ps) return ps;
    }
    const dlm_slot_plan sp = o->plan ? *o->plan : own;
    /* The renamed program: slots for positions (the counting code reads out_pos). */
    dlm_program rp = *p;
    rp.out_pos = sp.out_slot;
    rp.L = sp.nslots;
    uint64_t L = sp.nslots, word_bytes = 8 * L;
    /* Words aligned to 64 chains; `skew` chains of the first word precede the range. */
    const uint64_t base = o->first_chain & ~UINT64_C(63), skew = o->first_chain - base;
    const uint64_t end = o->first_chain + o->chains;
    const uint64_t nwords = o->chains ? (skew + o->chains + 63) / 64 : 0;
    /* Tile: as many words as fit in TILE_BYTES, within the budget, and no more than
     * an equal share of the words per thread. */
    uint64_t G = TILE_BYTES / word_bytes;
    if (G == 0) G = 1;
    if (G > WORDS_MAX) G = WORDS_MAX;
    uint64_t gb = budget / ((uint64_t)nthreads * word_bytes);
    if (gb == 0) {
        if (word_bytes > budget) {
            dlm_slot_plan_free(&own);
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
    const uint64_t ntiles = (nwords + G - 1) / G;
    if ((uint64_t)nthreads > ntiles) nthreads = ntiles ? (int)ntiles : 1;
    out->bytes_tokens = (uint64_t)nthreads * G * word_bytes;
    const size_t sb = dlm_sample_bytes(p);
    const uint32_t nout = p->nout;
    const count_fn count = pick_count();
    volatile int failed = 0;

#pragma omp parallel num_threads(nthreads)
    {
        uint64_t *val = dlm_calloc(G * L, sizeof *val); /* zeroed: deterministic even unchecked */
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
            run_ops(sp.ops, sp.nops, val, G, n, chain0, seed);
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
    dlm_slot_plan_free(&own);
    if (failed) return dlm_fail(err, DLM_ENOMEM, "out of memory for the bit-sliced engine's value tiles");
    return DLM_OK;
}
