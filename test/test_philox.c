/* test_philox.c — known-answer tests that pin the coins of every backend.
 *
 *   (a) Random123's philox4x32_R(10, ...) against the published philox4x32-10 KAT
 *       vectors (Random123 examples/kat_vectors; not shipped by Debian's
 *       librandom123-dev, so the three vectors are written out below).
 *   (b) dlm_coin_block and dlm_coin_word (dlm_step.h: the coin -> counter/key mapping)
 *       pinned to literal words. The literals were computed once by an independent
 *       Python Philox4x32-10 (which reproduces the vectors of (a)), so a change of
 *       the mapping, not only of Philox, fails here.
 *   (c) CUDA builds: cuRAND's host Philox4x32-10 generator. Its first block for seed
 *       s is Philox(ctr = {0,0,0,0}, key = {s lo, s hi}), the same function as (a);
 *       it runs on the CPU. If cuRAND cannot start for lack of a device the test is
 *       skipped with the reason, never passed.
 *   (d) CUDA builds with a device: the coin words computed by a device kernel
 *       (test/cuda_coin_words.cu, dlm_cuda_coin_words) equal the host's bit for bit.
 *       Skipped without a device.
 */
#include "dlm_test.h"
#include "dlm_engine.h"
#if DLM_HAVE_CUDA
#include "cuda_coin_words.h" /* the device hook, test/cuda_coin_words.cu */
#endif
#include "dlm_step.h"

#include <inttypes.h>

#if DLM_HAVE_CURAND
#include <curand.h>
#endif

// ---------------------------------------------------------------- (a) Random123 KAT

typedef struct {
    uint32_t ctr[4], key[2], want[4];
} kat_vector;

/* philox4x32 10 rows of Random123's kat_vectors */
static const kat_vector kat[] = {
    {{0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u},
     {0x00000000u, 0x00000000u},
     {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}},
    {{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu},
     {0xffffffffu, 0xffffffffu},
     {0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}},
    {{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u},
     {0xa4093822u, 0x299f31d0u},
     {0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}},
};

static philox4x32_ctr_t philox10(const uint32_t c[4], const uint32_t k[2])
{
    philox4x32_ctr_t ctr;
    philox4x32_key_t key;
    for (int i = 0; i < 4; i++) ctr.v[i] = c[i];
    key.v[0] = k[0];
    key.v[1] = k[1];
    return philox4x32_R(10, ctr, key);
}

static void random123_kat_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        philox4x32_ctr_t r = philox10(kat[i].ctr, kat[i].key);
        for (int j = 0; j < 4; j++) {
            if (r.v[j] != kat[i].want[j])
                print_error("vector %zu word %d: got %08" PRIx32 " want %08" PRIx32 "\n", i, j,
                            r.v[j], kat[i].want[j]);
            assert_int_equal(r.v[j], kat[i].want[j]);
        }
    }
}

// ---------------------------------------------------------------- (b) coin mapping

typedef struct {
    uint64_t seed, chain, coin;
    uint32_t want;
} coin_vector;

/* The coin mapping of dlm_step.h (contract version 2), pinned to words computed once
 * with an independent Python implementation of Philox4x32-10 (it reproduces the three
 * published vectors above). Fair coins: dlm_coin_block(seed, block, coin) = Philox of
 * counter {coin lo, coin hi, block lo, block hi}, key {seed lo, seed hi}; the first row
 * is the all-zero KAT vector. Biased coins: dlm_coin_word(seed, chain, coin) = word 0
 * of Philox of counter {coin lo, coin hi | 2^31, chain lo, chain hi}. */
typedef struct {
    uint64_t seed, block, coin;
    uint32_t want[4];
} block_vector;

static const block_vector blocks[] = {
    {UINT64_C(0x0), UINT64_C(0), UINT64_C(0), {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}},
    {UINT64_C(0x0), UINT64_C(0), UINT64_C(1), {0xf8e4cca4u, 0x5cb200dbu, 0xb1a574ebu, 0x097eff67u}},
    {UINT64_C(0x0), UINT64_C(0), UINT64_C(3), {0xc990ef29u, 0x6a4474a6u, 0x9ac9134fu, 0x6d413e04u}},
    {UINT64_C(0x1), UINT64_C(0), UINT64_C(0), {0xe3e80670u, 0xe50a0ebcu, 0x95f222c0u, 0xb615aa27u}},
    {UINT64_C(0x123456789abcdef), UINT64_C(42), UINT64_C(5), {0x8c2dcc89u, 0x27df290eu, 0x970d9c2fu, 0x28ac202eu}},
    {UINT64_C(0xffffffffffffffff), UINT64_C(1099511627779), UINT64_C(34359738375),
     {0x85c7fe5au, 0xcf84c6feu, 0x619f5d3bu, 0x4e75aa97u}},
    {UINT64_C(0x3039), UINT64_C(1000000), UINT64_C(3), {0x412d565cu, 0x797a0b18u, 0xc2646470u, 0xbe365a07u}},
    {UINT64_C(0x7ea), UINT64_C(7), UINT64_C(17179869184), {0xb80ce316u, 0x7f55ed3bu, 0x69c0b354u, 0xd552458du}},
};

static const coin_vector coins[] = {
    {UINT64_C(0x0), UINT64_C(0), UINT64_C(0), 0xa2b20ccfu},
    {UINT64_C(0x0), UINT64_C(0), UINT64_C(1), 0x4d789cc1u},
    {UINT64_C(0x0), UINT64_C(0), UINT64_C(3), 0x900dd16du},
    {UINT64_C(0x1), UINT64_C(0), UINT64_C(0), 0x34a4d61du},
    {UINT64_C(0x123456789abcdef), UINT64_C(42), UINT64_C(5), 0xed2ac4edu},
    {UINT64_C(0xffffffffffffffff), UINT64_C(1099511627779), UINT64_C(34359738375), 0x1827816au},
    {UINT64_C(0x3039), UINT64_C(1000000), UINT64_C(3), 0x66cf77dcu},
    {UINT64_C(0x7ea), UINT64_C(7), UINT64_C(17179869184), 0xc7d00027u},
};
#define NCOINS (sizeof coins / sizeof coins[0])

static void coin_mapping_pinned(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++) {
        philox4x32_ctr_t r = dlm_coin_block(blocks[i].seed, blocks[i].block, blocks[i].coin);
        for (int j = 0; j < 4; j++) {
            if (r.v[j] != blocks[i].want[j])
                print_error("block row %zu word %d: got %08" PRIx32 " want %08" PRIx32 "\n", i, j,
                            r.v[j], blocks[i].want[j]);
            assert_int_equal(r.v[j], blocks[i].want[j]);
        }
        /* fair coin of chain 128*block + t is bit t%32 of word t/32 */
        for (unsigned t = 0; t < 128; t += 9) {
            uint64_t chain = blocks[i].block * 128 + t;
            assert_int_equal(dlm_coin(blocks[i].seed, chain, blocks[i].coin, DLM_COIN_FAIR),
                             (blocks[i].want[t / 32] >> (t % 32)) & 1u);
        }
    }
    for (size_t i = 0; i < NCOINS; i++) {
        uint32_t w = dlm_coin_word(coins[i].seed, coins[i].chain, coins[i].coin);
        if (w != coins[i].want)
            print_error("coin row %zu (seed %" PRIx64 ", chain %" PRIu64 ", coin %" PRIu64
                        "): got %08" PRIx32 " want %08" PRIx32 "\n",
                        i, coins[i].seed, coins[i].chain, coins[i].coin, w, coins[i].want);
        assert_int_equal(w, coins[i].want);
        /* a biased coin is the word's comparison with its threshold */
        uint64_t thr = (UINT64_C(1) << 31) + 12345;
        assert_int_equal(dlm_coin(coins[i].seed, coins[i].chain, coins[i].coin, thr),
                         coins[i].want < thr ? 1u : 0u);
    }
    /* thresholds: 0 never, 2^32 always */
    assert_int_equal(dlm_coin(1, 2, 3, 0), 0u);
    assert_int_equal(dlm_coin(1, 2, 3, UINT64_C(1) << 32), 1u);
}

// ---------------------------------------------------------------- (c) cuRAND host

static void curand_host_matches_random123(void **state)
{
    (void)state;
#if DLM_HAVE_CURAND
    static const uint64_t seeds[] = {0, 1, 0xffffffffu, UINT64_C(0x0123456789abcdef),
                                     UINT64_C(0xffffffffffffffff), 2026};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        /* a fresh generator per seed: a reseeded one keeps its offset */
        curandGenerator_t g;
        curandStatus_t s = curandCreateGeneratorHost(&g, CURAND_RNG_PSEUDO_PHILOX4_32_10);
        if (s == CURAND_STATUS_INITIALIZATION_FAILED || s == CURAND_STATUS_ARCH_MISMATCH) {
            char why[256];
            int n = dlm_cuda_device_count(why, sizeof why);
            if (n == 0) {
                print_message("curandCreateGeneratorHost failed (status %d)\n", (int)s);
                DLM_TEST_NO_DEVICE(why);
            }
        }
        assert_int_equal(s, CURAND_STATUS_SUCCESS);
        assert_int_equal(curandSetPseudoRandomGeneratorSeed(g, seeds[i]), CURAND_STATUS_SUCCESS);
        unsigned int buf[4] = {0, 0, 0, 0};
        assert_int_equal(curandGenerate(g, buf, 4), CURAND_STATUS_SUCCESS);
        assert_int_equal(curandDestroyGenerator(g), CURAND_STATUS_SUCCESS);

        const uint32_t ctr[4] = {0, 0, 0, 0};
        const uint32_t key[2] = {(uint32_t)seeds[i], (uint32_t)(seeds[i] >> 32)};
        philox4x32_ctr_t r = philox10(ctr, key);
        for (int j = 0; j < 4; j++) {
            if (buf[j] != r.v[j])
                print_error("seed %" PRIx64 " word %d: cuRAND %08x, Random123 %08" PRIx32 "\n",
                            seeds[i], j, buf[j], r.v[j]);
            assert_int_equal(buf[j], r.v[j]);
        }
        /* and hence our mapping: coin 0 of chains 0..127 is this very block */
        philox4x32_ctr_t b = dlm_coin_block(seeds[i], 0, 0);
        for (int j = 0; j < 4; j++) assert_int_equal(b.v[j], buf[j]);
    }
#else
    print_message("skipped: built without cuRAND (CUDA=0, or no libcurand)\n");
    skip();
#endif
}

// ---------------------------------------------------------------- (d) device step

static void device_coin_words_match_host(void **state)
{
    (void)state;
    char why[256] = "";
    if (dlm_cuda_device_count(why, sizeof why) == 0) DLM_TEST_NO_DEVICE(why);
#if DLM_HAVE_CUDA
    /* the pinned rows, then a block of consecutive (chain, coin) pairs */
    enum { NEXTRA = 4096 };
    const size_t n = NCOINS + NEXTRA;
    const uint64_t seed = UINT64_C(0x5eed5eed12345678);
    uint64_t *chain = calloc(n, sizeof *chain), *coin = calloc(n, sizeof *coin);
    uint32_t *got = calloc(n, sizeof *got);
    assert_non_null(chain);
    assert_non_null(coin);
    assert_non_null(got);
    for (size_t i = 0; i < NCOINS; i++) {
        chain[i] = coins[i].chain;
        coin[i] = coins[i].coin;
    }
    for (size_t i = 0; i < NEXTRA; i++) {
        chain[NCOINS + i] = UINT64_C(0xfffffff0) + i / 64; /* crosses 2^32 */
        coin[NCOINS + i] = i % 64;
    }
    dlm_err e;
    /* the pinned rows need their own seeds: run them one by one */
    for (size_t i = 0; i < NCOINS; i++) {
        uint32_t w = 0;
        dlm_status st = dlm_cuda_coin_words(coins[i].seed, &chain[i], &coin[i], 1, &w, &e);
        if (st != DLM_OK) print_error("%s\n", e.msg);
        assert_int_equal(st, DLM_OK);
        assert_int_equal(w, coins[i].want);
    }
    dlm_status st = dlm_cuda_coin_words(seed, chain + NCOINS, coin + NCOINS, NEXTRA, got, &e);
    if (st != DLM_OK) print_error("%s\n", e.msg);
    assert_int_equal(st, DLM_OK);
    size_t bad = 0;
    for (size_t i = 0; i < NEXTRA; i++) {
        uint32_t want = dlm_coin_word(seed, chain[NCOINS + i], coin[NCOINS + i]);
        if (got[i] != want && bad++ < 6)
            print_error("chain %" PRIu64 " coin %" PRIu64 ": device %08" PRIx32 " host %08" PRIx32
                        "\n", chain[NCOINS + i], coin[NCOINS + i], got[i], want);
    }
    free(chain);
    free(coin);
    free(got);
    assert_int_equal(bad, 0);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random123_kat_vectors),
        cmocka_unit_test(coin_mapping_pinned),
        cmocka_unit_test(curand_host_matches_random123),
        cmocka_unit_test(device_coin_words_match_host),
    };
    return cmocka_run_group_tests_name("philox", tests, NULL, NULL);
}
