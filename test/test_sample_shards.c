/* test_sample_shards.c — `dlmsim sample LAW` split into parts (--shard, --first-chain,
 * --counts), merged with `dlmsim merge`, and reported and verified from the merged
 * count file; shared by mpirun ranks; killed and resumed from its checkpoints
 * (--checkpoint, --resume): every split gives the counts and the report of one process
 * (timings aside); count files of another law, policy or seed, and damaged ones, get
 * one line and exit 2 (docs/scale-out.md). */
#include "dlm_test.h"
#include "dlm_law.h"
#include "dlm_policy.h"
#include "dlm_sample_tally.h"

#include <string.h>

#ifndef DLM_HAVE_MPI
#define DLM_HAVE_MPI 0
#endif

#define MPIRUN "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 " \
               "timeout 120 mpirun --oversubscribe -n"
/* the report without its timing line or fields */
#define NOTIME " | sed -E '/^chains /d; s/\"(seconds|chains_per_s)\":[0-9.e+-]+//g; s/\"backend\":\"[a-z-]*\"//'"

/* N parts (shards, or --first-chain ranges when ranges is set) merged in reverse
 * order: the count file of one process, and its report and verdict. */
static void parts_match_one_process(const char *law, int n, int ranges)
{
    const char *d = dlm_test_tmpdir();
    char out[16384], one[16384], cmd[4096];
    const uint64_t chains = 20000;
    assert_int_equal(dlm_test_sh(NULL, 0, "%s sample %s --chains %llu --quiet --shard 1/1 --counts %s/one.counts "
                                 "2>/dev/null", DLM_BIN, law, (unsigned long long)chains, d), 0);
    assert_int_equal(dlm_test_sh(one, sizeof one, "%s verify %s --chains %llu --json 2>/dev/null" NOTIME, DLM_BIN, law,
                                 (unsigned long long)chains), 0);
    assert_non_null(strstr(one, "\"pass\":true"));
    int len = snprintf(cmd, sizeof cmd, "%s merge", DLM_BIN);
    for (int k = n; k >= 1; k--) {
        uint64_t a = (uint64_t)(k - 1) * chains / (uint64_t)n, b = (uint64_t)k * chains / (uint64_t)n;
        if (ranges)
            assert_int_equal(dlm_test_sh(out, sizeof out, "%s sample %s --chains %llu --first-chain %llu --counts "
                                         "%s/p%d.counts 2>/dev/null", DLM_BIN, law, (unsigned long long)(b - a),
                                         (unsigned long long)a, d, k), 0);
        else
            assert_int_equal(dlm_test_sh(out, sizeof out, "%s sample %s --chains %llu --shard %d/%d --counts "
                                         "%s/p%d.counts 2>/dev/null", DLM_BIN, law, (unsigned long long)chains, k, n,
                                         d, k), 0);
        len += snprintf(cmd + len, sizeof cmd - (size_t)len, " %s/p%d.counts", d, k);
    }
    snprintf(cmd + len, sizeof cmd - (size_t)len, " -o %s/m.counts > /dev/null", d);
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s", cmd), 0);
    assert_int_equal(dlm_test_sh(out, sizeof out, "cmp %s/m.counts %s/one.counts", d, d), 0);
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s verify %s --counts %s/m.counts --json" NOTIME, DLM_BIN, law, d), 0);
    assert_string_equal(out, one);
    /* the text report of the merge: one process's, but for the chains line */
    assert_int_equal(dlm_test_sh(one, sizeof one, "%s sample %s --chains %llu 2>/dev/null" NOTIME, DLM_BIN, law,
                                 (unsigned long long)chains), 0);
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s sample %s --counts %s/m.counts" NOTIME, DLM_BIN, law, d), 0);
    assert_string_equal(out, one);
}

static void table_law_shards(void **state)
{
    (void)state;
    parts_match_one_process("random:4:3:7 --policy llada --seed 11", 3, 0);
}

static void chain_law_ranges_with_remasking(void **state)
{
    (void)state;
    parts_match_one_process("bsc:8:0.2 --policy remdm-cap --seed 5", 4, 1);
}

/* Files that do not belong together, damaged files, and a report of another law,
 * policy or seed: one line on stderr, exit 2. */
static void refusals(void **state)
{
    (void)state;
    const char *d = dlm_test_tmpdir();
    char out[8192];
    const char *law = "bsc:6:0.1 --policy llada --chains 3000 --seed 2";
    for (int k = 1; k <= 3; k++)
        assert_int_equal(dlm_test_sh(NULL, 0, "%s sample %s --shard %d/3 --counts %s/r%d 2>/dev/null", DLM_BIN, law, k,
                                     d, k), 0);
    assert_int_equal(dlm_test_sh(NULL, 0, "%s sample bsc:6:0.1 --policy mdlm --chains 3000 --seed 2 --shard 2/3 "
                                 "--counts %s/other 2>/dev/null", DLM_BIN, d), 0);
    assert_int_equal(dlm_test_sh(NULL, 0, "%s run gen:parity-tree:4 --chains 100 --shard 1/1 --counts %s/run "
                                 "2>/dev/null >/dev/null", DLM_BIN, d), 0);
    struct {
        const char *cmd, *want;
    } cases[] = {
        {"merge D/r1 D/r1 -o D/x", "are counted twice"},
        {"merge D/r1 D/r3 -o D/x", "gap: chains 1000..1999"},
        {"merge D/r1 D/other -o D/x", "another policy than"},
        {"merge D/r1 D/run -o D/x", "not of the oracle sampler"},
        {"merge D/run D/r1 -o D/x", "not of run or verify"},
        {"sample bsc:6:0.11 --policy llada --counts D/r1", "another law than"},
        {"sample bsc:6:0.1 --policy llada --temperature 0.999 --counts D/r1", "another policy"},
        {"sample bsc:6:0.1 --policy llada --seed 3 --counts D/r1", "the counts are of seed 2, --seed says 3"},
        {"sample bsc:6:0.1 --policy llada --chains 5 --counts D/r1", "the counts are of 1000 chains"},
        {"sample bsc:6:0.1 --policy llada --shard 1/2", "needs --counts FILE"},
        {"sample bsc:6:0.1 --policy llada --shard 1/2 --first-chain 3 --counts D/y", "exclude each other"},
        {"sample bsc:6:0.1 --policy llada --shard 1/2 --verify --counts D/y", "--exact, --verify and --hist"},
        {"sample bsc:6:0.1 --policy llada --chains 1 --shard 2/3 --counts D/y", "this --shard is empty"},
        {"sample bsc:6:0.1 --policy llada --shard 0/3 --counts D/y", "bad --shard 0/3"},
        {"sample bsc:6:0.1 --policy llada --counts D/edited", "the digest does not match"},
        {"sample bsc:6:0.1 --policy llada --counts D/truncated", "truncated count file"},
    };
    assert_int_equal(dlm_test_sh(NULL, 0, "sed 's/^chains 1000$/chains 1001/' %s/r1 > %s/edited && head -c 300 %s/r1 > "
                                 "%s/truncated", d, d, d, d), 0);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char cmd[1024];
        size_t n = 0;
        for (const char *p = cases[i].cmd; *p && n + 300 < sizeof cmd; p++) {
            if (*p == 'D' && p[1] == '/') n += (size_t)snprintf(cmd + n, sizeof cmd - n, "%s", d);
            else cmd[n++] = *p;
        }
        cmd[n] = 0;
        int rc = dlm_test_sh(out, sizeof out, "%s %s 2>&1 >/dev/null", DLM_BIN, cmd);
        if (rc != 2 || !strstr(out, cases[i].want) || strchr(out, '\n') != out + strlen(out) - 1)
            fail_msg("%s: rc %d, stderr '%s' (wanted one line with '%s')", cmd, rc, out, cases[i].want);
    }
}

/* What the file identifies: a law and a policy by every parameter's bits. */
static void law_and_policy_hashes(void **state)
{
    (void)state;
    dlm_law a, b;
    dlm_err e;
    assert_int_equal(dlm_law_load("bsc:8:0.2", &a, 0, &e), DLM_OK);
    assert_int_equal(dlm_law_load("bsc:8:0.2", &b, 0, &e), DLM_OK);
    assert_true(dlm_law_hash(&a.v) == dlm_law_hash(&b.v));
    dlm_law_free(&b);
    assert_int_equal(dlm_law_load("bsc:8:0.2000000001", &b, 0, &e), DLM_OK);
    assert_true(dlm_law_hash(&a.v) != dlm_law_hash(&b.v));
    dlm_law_free(&b);
    assert_int_equal(dlm_law_load("bsc:9:0.2", &b, 0, &e), DLM_OK);
    assert_true(dlm_law_hash(&a.v) != dlm_law_hash(&b.v));
    dlm_law_free(&b);
    assert_int_equal(dlm_law_load("random:3:2:1", &b, 0, &e), DLM_OK);
    dlm_law c;
    assert_int_equal(dlm_law_load("random:3:2:2", &c, 0, &e), DLM_OK);
    assert_true(dlm_law_hash(&b.v) != dlm_law_hash(&c.v));
    dlm_law_free(&b);
    dlm_law_free(&c);
    dlm_law_free(&a);
    dlm_policy p, q;
    dlm_policy_default(&p);
    dlm_policy_default(&q);
    assert_true(dlm_policy_hash(&p) == dlm_policy_hash(&q));
    q.temperature = 1 - 1e-15;
    assert_true(dlm_policy_hash(&p) != dlm_policy_hash(&q));
    q = p;
    q.max_post_steps++;
    assert_true(dlm_policy_hash(&p) != dlm_policy_hash(&q));
}

/* mpirun -n R dlmsim sample|verify LAW: the histogram, count file and report of one
 * process, printed once. */
static void ranks_give_one_process_counts(void **state)
{
    (void)state;
    if (!DLM_HAVE_MPI || dlm_test_sh(NULL, 0, "command -v mpirun") != 0) {
        print_message("skipped: no Open MPI (built with MPI=0, or mpirun is missing)\n");
        skip();
    }
    const char *d = dlm_test_tmpdir();
    char out[16384], one[16384];
    const char *law = "bsc:8:0.2 --policy llada --chains 30000 --seed 3 --threads 1";
    assert_int_equal(dlm_test_sh(one, sizeof one, "%s sample %s --hist %s/h1 2>/dev/null" NOTIME, DLM_BIN, law, d), 0);
    assert_int_equal(dlm_test_sh(NULL, 0, "%s sample %s --shard 1/1 --counts %s/c1 2>/dev/null", DLM_BIN, law, d), 0);
    for (int R = 2; R <= 3; R++) {
        assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " %d %s sample %s --hist %s/hR 2>/dev/null" NOTIME, R,
                                     DLM_BIN, law, d), 0);
        assert_string_equal(out, one);
        assert_int_equal(dlm_test_sh(out, sizeof out, "cmp %s/h1 %s/hR", d, d), 0);
        assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " %d %s sample %s --shard 1/1 --counts %s/cR 2>&1 | "
                                     "grep -c 'ran [0-9]* chains' && cmp %s/c1 %s/cR", R, DLM_BIN, law, d, d, d), 0);
        char want[8];
        snprintf(want, sizeof want, "%d\n", R);
        assert_string_equal(out, want); /* one line per rank */
    }
    assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " 2 %s verify %s 2>/dev/null | grep -c '^PASS$'", DLM_BIN, law),
                     0);
    assert_string_equal(out, "1\n");
}

/* --checkpoint/--resume: killed (SIGKILL) after a checkpoint, resumed and stopped by
 * SIGTERM, resumed to the end: the report and histogram of one uninterrupted process,
 * in one process and over R = 2, 3, 1, 2 ranks in turn. */
static void killed_sample_resumes_exactly(void **state)
{
    (void)state;
    const char *d = dlm_test_tmpdir();
    char out[16384], one[16384];
#define K "bsc:10:0.2 --policy llada --chains 600000 --seed 3 --threads 1 --backend cpu --quiet --exact"
/* until FILE holds another "chains" line than it did (or was missing), 30 s at most */
#define WAIT_NEW(F) "c0=$(grep '^chains' " F " 2>/dev/null); for i in $(seq 600); do c=$(grep '^chains' " F " 2>/dev/null); " \
                    "[ -n \"$c\" ] && [ \"$c\" != \"$c0\" ] && break; sleep 0.05; done; "
    assert_int_equal(dlm_test_sh(one, sizeof one, "%s sample " K " --hist %s/h1" NOTIME, DLM_BIN, d), 0);
#define ONE(OPT, SIG) "%s sample " K " " OPT " %s/ck --checkpoint-every 0.05 > /dev/null 2> %s/ck.err & m=$!; " \
                      WAIT_NEW("%s/ck") "kill -" SIG " $m; wait $m"
    dlm_test_sh(out, sizeof out, ONE("--checkpoint", "KILL"), DLM_BIN, d, d, d, d);
    assert_int_equal(dlm_test_sh(out, sizeof out, "grep -c '^kind sample' %s/ck", d), 0);
    assert_string_equal(out, "1\n");
    assert_int_equal(dlm_test_sh(out, sizeof out, ONE("--resume", "TERM"), DLM_BIN, d, d, d, d), 143);
    assert_int_equal(dlm_test_sh(out, sizeof out, "grep -c 'stopped by signal 15 after' %s/ck.err", d), 0);
    assert_string_equal(out, "1\n");
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s sample " K " --resume %s/ck --hist %s/h2" NOTIME, DLM_BIN, d, d), 0);
    assert_string_equal(out, one);
    assert_int_equal(dlm_test_sh(out, sizeof out, "cmp %s/h1 %s/h2", d, d), 0);
    /* another policy's checkpoint: one line, exit 2 */
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s sample " K " --steps 5 --resume %s/ck 2>&1 >/dev/null", DLM_BIN, d), 2);
    assert_non_null(strstr(out, "ck: a checkpoint of another policy (or policy options) than this run\n"));
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
    if (!DLM_HAVE_MPI || dlm_test_sh(NULL, 0, "command -v mpirun") != 0) return;
#define RANKS(R, OPT) MPIRUN " " #R " %s sample " K " " OPT " %s/mk --checkpoint-every 0.05 > /dev/null 2> %s/mk.err & m=$!; "
#define FILES(N) "for i in $(seq 600); do [ $(ls %s/mk.rank? 2>/dev/null | wc -l) -ge " #N " ] && break; sleep 0.05; done; "
#define SIGNAL(SIG) "pkill -" SIG " -P \"$(pgrep -d, -P $m)\"; wait $m"
    dlm_test_sh(out, sizeof out, RANKS(2, "--checkpoint") FILES(2) SIGNAL("KILL"), DLM_BIN, d, d, d);
    assert_int_equal(dlm_test_sh(out, sizeof out, "cat %s/mk.rank0 %s/mk.rank1 | grep -c '^kind sample'", d, d), 0);
    assert_string_equal(out, "2\n");
    assert_int_equal(dlm_test_sh(out, sizeof out, RANKS(3, "--resume") FILES(3) SIGNAL("TERM"), DLM_BIN, d, d, d), 143);
    assert_int_equal(dlm_test_sh(out, sizeof out, "grep -c 'stopped by signal 15; the counts of every rank' %s/mk.err", d), 0);
    assert_string_equal(out, "1\n");
    dlm_test_sh(out, sizeof out, RANKS(1, "--resume") WAIT_NEW("%s/mk.rank0") SIGNAL("KILL"), DLM_BIN, d, d, d, d);
    assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " 2 %s sample " K " --resume %s/mk --hist %s/h3" NOTIME, DLM_BIN,
                                 d, d), 0);
    assert_string_equal(out, one);
    assert_int_equal(dlm_test_sh(out, sizeof out, "cmp %s/h1 %s/h3", d, d), 0);
#undef SIGNAL
#undef FILES
#undef RANKS
#undef ONE
#undef WAIT_NEW
#undef K
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_law_shards),
        cmocka_unit_test(chain_law_ranges_with_remasking),
        cmocka_unit_test(refusals),
        cmocka_unit_test(law_and_policy_hashes),
        cmocka_unit_test(ranks_give_one_process_counts),
        cmocka_unit_test(killed_sample_resumes_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
