/* test_tally.c — count files, shards and merges (dlm_tally.h, dlmsim merge): ranges
 * refuse overlaps and join neighbours, shards tile a batch exactly, a count file
 * round-trips and refuses truncation and edits, and shards of a batch merged in any
 * order give the golden digest of one process (test/suites/nightly.suite). */
#include "dlm_test.h"

#include "dlm_tally.h"

#include <inttypes.h>

static void ranges_join_and_refuse_overlaps(void **state)
{
    (void)state;
    dlm_ranges r = {0};
    dlm_err e;
    assert_int_equal(dlm_ranges_add(&r, 10, 20, &e), DLM_OK);
    assert_int_equal(dlm_ranges_add(&r, 30, 40, &e), DLM_OK);
    assert_int_equal(dlm_ranges_add(&r, 0, 5, &e), DLM_OK);
    assert_int_equal(r.n, 3);
    assert_int_equal(dlm_ranges_add(&r, 19, 21, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "chains 19..19 are counted twice"));
    assert_int_equal(dlm_ranges_add(&r, 35, 50, &e), DLM_EINPUT);
    assert_int_equal(dlm_ranges_add(&r, 20, 30, &e), DLM_OK); /* joins both neighbours */
    assert_int_equal(r.n, 2);
    assert_int_equal(r.r[1].first, 10);
    assert_int_equal(r.r[1].end, 40);
    assert_int_equal(dlm_ranges_chains(&r), 35);
    dlm_ranges_free(&r);
}

static void shards_tile_the_batch(void **state)
{
    (void)state;
    const uint64_t sizes[] = {1, 7, 100, 1000003, UINT64_MAX};
    const uint32_t parts[] = {1, 2, 3, 7, 64, 4096};
    for (size_t a = 0; a < sizeof sizes / sizeof *sizes; a++)
        for (size_t b = 0; b < sizeof parts / sizeof *parts; b++) {
            uint64_t at = 0, first, count, lo = UINT64_MAX, hi = 0;
            for (uint32_t k = 1; k <= parts[b]; k++) {
                dlm_shard_range(sizes[a], k, parts[b], &first, &count);
                assert_int_equal(first, at);
                at += count;
                if (count < lo) lo = count;
                if (count > hi) hi = count;
            }
            assert_true(at == sizes[a]);
            assert_true(hi - lo <= 1); /* as even as integers allow */
        }
    uint32_t k, n;
    assert_int_equal(dlm_shard_parse("3/8", &k, &n), 0);
    assert_int_equal(k, 3);
    assert_int_equal(n, 8);
    const char *bad[] = {"0/3", "4/3", "1/0", "1", "/3", "1/3x", "-1/3", "1/99999999999", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) assert_int_equal(dlm_shard_parse(bad[i], &k, &n), -1);
}

static void make_tally(dlm_tally *t, uint64_t first, uint64_t end, uint64_t seed)
{
    dlm_err e;
    assert_int_equal(dlm_tally_init(t, 0x1234, "revise", seed, 100, 3, 1, &e), DLM_OK);
    assert_int_equal(dlm_ranges_add(&t->ranges, first, end, &e), DLM_OK);
    t->counts.chains = end - first;
    t->counts.hist[5] = end - first - 1;
    t->counts.hist[0] = 1;
    t->counts.ones[0] = t->counts.ones[2] = end - first - 1;
    t->counts.odd_parity = 0;
}

static void file_round_trip_and_refusals(void **state)
{
    (void)state;
    dlm_tally a, b, c;
    dlm_err e;
    make_tally(&a, 40, 100, 7);
    char path[512];
    snprintf(path, sizeof path, "%s/a.counts", dlm_test_tmpdir());
    assert_int_equal(dlm_tally_write(path, &a, &e), DLM_OK);
    assert_int_equal(dlm_tally_read(path, &b, 0, &e), DLM_OK);
    assert_int_equal(b.counts.chains, 60);
    assert_int_equal(b.counts.hist[5], 59);
    assert_int_equal(b.counts.ones[2], 59);
    assert_int_equal(b.ranges.n, 1);
    assert_int_equal(b.batch, 100);
    assert_string_equal(b.mode, "revise");
    dlm_tally_free(&b);

    /* Truncated at every length: refused, one message naming the file. */
    char *buf;
    size_t len;
    assert_int_equal(dlm_read_file(path, &buf, &len, &e), DLM_OK);
    char cut[512];
    snprintf(cut, sizeof cut, "%s/cut.counts", dlm_test_tmpdir());
    for (size_t n = 0; n + 1 < len; n++) {
        FILE *f = fopen(cut, "wb");
        fwrite(buf, 1, n, f);
        fclose(f);
        assert_int_equal(dlm_tally_read(cut, &b, 0, &e), DLM_EINPUT);
        assert_non_null(strstr(e.msg, cut));
    }
    /* Any one byte changed before the digest line: refused. */
    const char *dl = strstr(buf, "\ndigest ");
    assert_non_null(dl);
    for (size_t i = 0; i < (size_t)(dl - buf); i++) {
        char *m = strdup(buf);
        m[i] = m[i] == '7' ? '8' : '7';
        FILE *f = fopen(cut, "wb");
        fwrite(m, 1, len, f);
        fclose(f);
        free(m);
        assert_int_equal(dlm_tally_read(cut, &b, 0, &e), DLM_EINPUT);
    }
    free(buf);

    /* Merges: disjoint ranges add; an overlap or another seed is refused. */
    make_tally(&b, 0, 40, 7);
    assert_int_equal(dlm_tally_merge(&a, "A", &b, "B", &e), DLM_OK);
    assert_int_equal(a.counts.chains, 100);
    assert_int_equal(a.ranges.n, 1);
    dlm_ranges gaps;
    assert_int_equal(dlm_tally_gaps(&a, &gaps, &e), DLM_OK);
    assert_int_equal(gaps.n, 0);
    assert_int_equal(dlm_tally_merge(&a, "A", &b, "B", &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "counted twice"));
    dlm_tally_free(&b);
    make_tally(&c, 0, 10, 8);
    assert_int_equal(dlm_tally_merge(&a, "A", &c, "C", &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "C: another seed than A"));
    dlm_tally_free(&c);
    dlm_tally_free(&a);

    make_tally(&a, 10, 20, 1);
    assert_int_equal(dlm_tally_gaps(&a, &gaps, &e), DLM_OK);
    assert_int_equal(gaps.n, 2);
    assert_int_equal(gaps.r[0].end, 10);
    assert_int_equal(gaps.r[1].first, 20);
    assert_int_equal(gaps.r[1].end, 100);
    dlm_ranges_free(&gaps);
    dlm_tally_free(&a);
}

/* Shards of a nightly-suite case, merged in a scrambled order, give the suite's golden
 * digest (gen:parity-tree:12, 200000 chains, seed 1: 74ce757c9bf1289a), as one process
 * does; --first-chain ranges merge with --shard ones. */
static void shards_merge_to_the_golden_digest(void **state)
{
    (void)state;
    const char *d = dlm_test_tmpdir();
    char out[8192], bin[4096];
    assert_non_null(realpath(DLM_BIN, bin)); /* the merges below run inside d */
    for (int k = 1; k <= 4; k++)
        assert_int_equal(dlm_test_sh(out, sizeof out, "%s run gen:parity-tree:12 --mode revise --chains 200000 "
                                     "--seed 1 --shard %d/5 --quiet --counts %s/p%d.counts", DLM_BIN, k, d, k), 0);
    /* shard 5/5 = chains 160000..199999, as two --first-chain pieces */
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s run gen:parity-tree:12 --mode revise --chains 15000 "
                                 "--first-chain 160000 --seed 1 --quiet --counts %s/q1.counts", DLM_BIN, d), 0);
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s run gen:parity-tree:12 --mode revise --chains 25000 "
                                 "--first-chain 175000 --seed 1 --quiet --counts %s/q2.counts", DLM_BIN, d), 0);
    int rc = dlm_test_sh(out, sizeof out, "cd %s && %s merge q2.counts p3.counts p1.counts q1.counts p4.counts "
                         "p2.counts -o m.counts", d, bin);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "digest      74ce757c9bf1289a"));
    assert_non_null(strstr(out, "chains      200000 of batch 200000"));
    /* merging a merged file with nothing new is itself */
    rc = dlm_test_sh(out, sizeof out, "cd %s && %s merge m.counts -o m2.counts && cmp m.counts m2.counts", d, bin);
    assert_int_equal(rc, 0);

    /* A gap: one line naming the chains, exit 2, nothing written. */
    rc = dlm_test_sh(out, sizeof out, "cd %s && %s merge p1.counts p3.counts p4.counts q1.counts q2.counts -o g.counts; "
                     "echo rc=$?; test ! -e g.counts && echo none", d, bin);
    assert_non_null(strstr(out, "dlmsim: merge: gap: chains 40000..79999 (of batch 0..199999) are in none of the files\nrc=2\nnone"));
    /* --allow-gaps writes the partial merge */
    rc = dlm_test_sh(out, sizeof out, "cd %s && %s merge p1.counts p3.counts --allow-gaps -o g.counts", d, bin);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "chains      80000 of batch 200000"));
    /* An overlap (shard 1/5 and chains 0..9999 from a --first-chain run): one line, exit 2. */
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s run gen:parity-tree:12 --mode revise --chains 10000 "
                                 "--seed 1 --quiet --counts %s/o.counts", DLM_BIN, d), 0);
    rc = dlm_test_sh(out, sizeof out, "cd %s && %s merge p1.counts o.counts -o x.counts", d, bin);
    assert_int_equal(rc, 2);
    assert_string_equal(out, "dlmsim: o.counts: chains 0..9999 are counted twice (they are also in p1.counts)\n");
    /* Another mode, seed or circuit: one line, exit 2. */
    const char *other[] = {"--mode cot --seed 1 gen:parity-tree:12", "--mode revise --seed 2 gen:parity-tree:12",
                           "--mode revise --seed 1 gen:parity-chain:12"};
    const char *word[] = {"mode", "seed", "circuit"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(dlm_test_sh(out, sizeof out, "%s run %s --chains 200000 --shard 2/5 --quiet --counts "
                                     "%s/w.counts", DLM_BIN, other[i], d), 0);
        rc = dlm_test_sh(out, sizeof out, "cd %s && %s merge p1.counts w.counts -o x.counts", d, bin);
        assert_int_equal(rc, 2);
        char want[128];
        snprintf(want, sizeof want, "dlmsim: w.counts: another %s than p1.counts; these counts do not belong together\n",
                 word[i]);
        assert_string_equal(out, want);
    }
    /* Truncated and tampered files: one line, exit 2. */
    rc = dlm_test_sh(out, sizeof out, "cd %s && head -c 200 p2.counts > t.counts && %s merge p1.counts t.counts -o x.counts",
                     d, bin);
    assert_int_equal(rc, 2);
    assert_string_equal(out, "dlmsim: t.counts: truncated count file (no digest and end lines)\n");
    rc = dlm_test_sh(out, sizeof out, "cd %s && sed 's/^chains 40000$/chains 40001/' p2.counts > t.counts && "
                     "! cmp -s t.counts p2.counts && %s merge p1.counts t.counts -o x.counts", d, bin);
    assert_int_equal(rc, 2);
    assert_string_equal(out, "dlmsim: t.counts: the digest does not match the content (the file was changed or damaged)\n");
    /* Bad usage. */
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s run gen:parity-tree:12 --shard 6/5 --quiet", DLM_BIN), 2);
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s run gen:parity-tree:12 --chains 3 --shard 1/5 --quiet", DLM_BIN), 2);
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s merge %s/p1.counts", DLM_BIN, d), 2);
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s merge %s/p1.counts -o /dev/null", DLM_BIN, d), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ranges_join_and_refuse_overlaps),
        cmocka_unit_test(shards_tile_the_batch),
        cmocka_unit_test(file_round_trip_and_refusals),
        cmocka_unit_test(shards_merge_to_the_golden_digest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
