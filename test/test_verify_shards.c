/* test_verify_shards.c — `dlmsim verify` split into shards (--shard, --first-chain,
 * --counts), merged, and verified from the merged count file; shared by mpirun ranks;
 * killed and resumed from its checkpoints (--checkpoint, --resume): every split gives
 * the report of one process (timings aside), and bad count files get one line and exit
 * 2 (docs/scale-out.md). */
#include "dlm_test.h"
#include "dlm_tally.h"

#include <string.h>

#ifndef DLM_HAVE_MPI
#define DLM_HAVE_MPI 0
#endif

#define MPIRUN "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 " \
               "timeout 120 mpirun --oversubscribe -n"
/* the report without its timings: the same bytes for every split */
#define NOTIME " | sed -E 's/\"seconds\":\\{[^}]*\\}//; s/\"backend\":\"[a-z-]*\"//'"

/* One process's report of CASE, then N shards merged in reverse order and verified
 * from the merged file: the same report. */
static void shards_match_one_process(const char *circuit, const char *opts, const char *check, int n)
{
    const char *d = dlm_test_tmpdir();
    char out[16384], one[16384], cmd[2048];
    assert_int_equal(dlm_test_sh(one, sizeof one, "%s verify %s %s --quiet --json" NOTIME, DLM_BIN, circuit, opts), 0);
    assert_non_null(strstr(one, "\"circuit\":"));
    int len = snprintf(cmd, sizeof cmd, "%s merge", DLM_BIN);
    for (int k = n; k >= 1; k--) {
        assert_int_equal(dlm_test_sh(out, sizeof out, "%s verify %s %s --quiet --shard %d/%d --counts %s/vs%d.counts",
                                     DLM_BIN, circuit, opts, k, n, d, k), 0);
        len += snprintf(cmd + len, sizeof cmd - (size_t)len, " %s/vs%d.counts", d, k);
    }
    snprintf(cmd + len, sizeof cmd - (size_t)len, " -o %s/vs.counts > /dev/null", d);
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s", cmd), 0);
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s verify %s --counts %s/vs.counts %s --json" NOTIME, DLM_BIN, circuit, d,
                                 check), 0);
    assert_string_equal(out, one);
}

static void exact_target_shards(void **state)
{
    (void)state;
    shards_match_one_process("gen:adder-ripple:4", "--mode remask --chains 300000 --seed 3 --backend cpu", "", 3);
    shards_match_one_process("gen:mult:3", "--mode cot --chains 100000 --seed 9 --backend cpu-ref --alpha 0.01", "--alpha 0.01", 4);
}

static void reference_target_shards(void **state)
{
    (void)state;
    /* the reference's chains are the batch's, whichever part a shard samples */
    shards_match_one_process("gen:random:16,8,4", "--mode revise --chains 60000 --seed 5 --target reference --backend cpu",
                             "--target reference", 2);
}

/* --first-chain parts tile the batch too; a run tally, a gap, another circuit, seed,
 * mode or chain count, a truncated and an edited file are each one line, exit 2. */
static void first_chain_parts_and_refusals(void **state)
{
    (void)state;
    const char *d = dlm_test_tmpdir();
    char out[8192];
#define V DLM_BIN " verify gen:adder-ripple:3 --mode revise --seed 2 --quiet"
    assert_int_equal(dlm_test_sh(out, sizeof out, V " --chains 70000 --json" NOTIME " > %s/f0.json", d), 0);
    assert_int_equal(dlm_test_sh(out, sizeof out, V " --first-chain 0 --chains 25000 --counts %s/f1.counts && "
                                 V " --first-chain 25000 --chains 45000 --counts %s/f2.counts && "
                                 "%s merge %s/f2.counts %s/f1.counts -o %s/f.counts >/dev/null && "
                                 "%s verify gen:adder-ripple:3 --counts %s/f.counts --json" NOTIME " | cmp - %s/f0.json",
                                 d, d, DLM_BIN, d, d, d, DLM_BIN, d, d), 0);
    struct {
        const char *cmd, *want;
    } bad[] = {
        {"verify gen:adder-ripple:3 --counts %s/f2.counts", "chains 0..24999 of the batch 0..69999 are in no count file"},
        {"verify gen:adder-ripple:4 --counts %s/f.counts", "another circuit"},
        {"verify gen:adder-ripple:3 --counts %s/f.counts --seed 3", "another seed"},
        {"verify gen:adder-ripple:3 --counts %s/f.counts --mode cot", "another mode"},
        {"verify gen:adder-ripple:3 --counts %s/f.counts --chains 5", "--chains says 5"},
        {"verify gen:adder-ripple:3 --counts %s/f.counts --inject-bias 1:0.1", "another circuit (or --inject-bias)"},
        {"verify gen:adder-ripple:3 --counts %s/run.counts", "written by run, not verify"},
        {"merge %s/run.counts %s/f1.counts -o %s/x.counts", "another kind (run or verify)"},
        {"verify gen:adder-ripple:3 --counts %s/trunc.counts", "truncated count file"},
        {"verify gen:adder-ripple:3 --counts %s/edit.counts", "the digest does not match"},
        {"verify gen:adder-ripple:3 --shard 1/2 --chains 10", "needs --counts FILE"},
        {"verify gen:adder-ripple:3 --shard 1/2 --first-chain 3 --counts %s/y.counts", "exclude each other"},
        {"verify gen:adder-ripple:3 --counts %s/none.counts", "none.counts: No such file"},
        {"verify gen:adder-ripple:3 --mode revise --seed 2 --chains 70000 --resume %s/run.counts",
         "run.counts: a checkpoint of another kind (run) than this run"},
        {"verify gen:adder-ripple:3 --mode revise --seed 2 --chains 70000 --shard 1/2 --counts %s/y.counts --resume "
         "%s/f.counts", "f.counts: a checkpoint of another chain range than this run"},
        {"verify gen:adder-ripple:3 --mode revise --seed 2 --chains 70000 --resume %s/none.ck", "none.ck: No such file"},
        {"verify gen:adder-ripple:3 --counts %s/f.counts --checkpoint %s/x.ck", "not --counts FILE alone"},
        {"verify gen:adder-ripple:3 --checkpoint-every 5", "--checkpoint-every needs --checkpoint FILE"},
        {"verify gen:adder-ripple:3 --checkpoint %s", "a directory, not a regular file"},
    };
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s run gen:adder-ripple:3 --mode revise --seed 2 --chains 70000 --quiet "
                                 "--counts %s/run.counts > /dev/null && head -c 200 %s/f.counts > %s/trunc.counts && "
                                 "sed 's/^n11 1/n11 2/' %s/f.counts > %s/edit.counts && ! cmp -s %s/f.counts %s/edit.counts",
                                 DLM_BIN, d, d, d, d, d, d, d), 0);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, bad[i].cmd, d, d, d);
        int rc = dlm_test_sh(out, sizeof out, "%s %s 2>&1 >/dev/null", DLM_BIN, cmd);
        if (rc != 2 || !strstr(out, bad[i].want) || strchr(out, '\n') != out + strlen(out) - 1)
            fail_msg("%s: exit %d, stderr: %s (want one line with \"%s\")", cmd, rc, out, bad[i].want);
    }
#undef V
}

/* mpirun with R = 1, 2, 3 ranks: the report of one process, printed once; a shard
 * under mpirun writes the count file of one process's shard. */
static void ranks_give_one_report(void **state)
{
    (void)state;
    if (!DLM_HAVE_MPI || dlm_test_sh(NULL, 0, "command -v mpirun") != 0) skip();
    const char *d = dlm_test_tmpdir();
    char out[16384], one[16384];
#define C "gen:adder-ripple:4 --mode remask --chains 300000 --seed 3 --threads 1 --backend cpu"
    assert_int_equal(dlm_test_sh(one, sizeof one, "%s verify " C " --quiet --json" NOTIME, DLM_BIN), 0);
    for (int R = 1; R <= 3; R++) {
        assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " %d %s verify " C " --quiet --json" NOTIME, R, DLM_BIN), 0);
        assert_string_equal(out, one);
    }
    assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " 2 %s verify " C " --quiet --shard 2/3 --counts %s/m2.counts && "
                                 "%s verify " C " --quiet --shard 2/3 --counts %s/p2.counts && cmp %s/m2.counts %s/p2.counts",
                                 DLM_BIN, d, DLM_BIN, d, d, d), 0);
    /* a failing verdict: exit 1, reported once */
    assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " 2 %s verify " C " --quiet --inject-bias 0:0.1 > %s/f.txt",
                                 DLM_BIN, d), 1);
    assert_int_equal(dlm_test_sh(out, sizeof out, "grep -c '^verdict    FAIL' %s/f.txt", d), 0);
    assert_string_equal(out, "1\n");
#undef C
}

/* verify --checkpoint/--resume: a verification killed (SIGKILL) after a checkpoint,
 * resumed, stopped by SIGTERM and resumed again gives the report of one uninterrupted
 * process (timings aside), in one process and over R = 2, 3, 1 ranks in turn; nothing
 * is lost or counted twice. A checkpoint of another run is one line, exit 2. */
static void killed_verify_resumes_exactly(void **state)
{
    (void)state;
    const char *d = dlm_test_tmpdir();
    char out[16384], one[16384];
#define K "gen:random:12,40,5 --mode revise --chains 100000000 --seed 4242 --threads 1 --backend cpu --quiet --json"
/* until FILE holds another "chains" line than it did (or was missing), 30 s at most */
#define WAIT_NEW(F) "c0=$(grep '^chains' " F " 2>/dev/null); for i in $(seq 600); do c=$(grep '^chains' " F " 2>/dev/null); " \
                    "[ -n \"$c\" ] && [ \"$c\" != \"$c0\" ] && break; sleep 0.05; done; "
    assert_int_equal(dlm_test_sh(one, sizeof one, "%s verify " K " --hist %s/h1" NOTIME, DLM_BIN, d), 0);
    /* one process: killed, resumed and stopped, resumed to the end */
#define ONE(OPT, SIG) "%s verify " K " " OPT " %s/ck --checkpoint-every 0.05 > /dev/null 2> %s/ck.err & m=$!; " \
                      WAIT_NEW("%s/ck") "kill -" SIG " $m; wait $m"
    dlm_test_sh(out, sizeof out, ONE("--checkpoint", "KILL"), DLM_BIN, d, d, d, d);
    assert_int_equal(dlm_test_sh(out, sizeof out, "grep -c '^chains' %s/ck", d), 0);
    assert_string_equal(out, "1\n");
    assert_int_equal(dlm_test_sh(out, sizeof out, ONE("--resume", "TERM"), DLM_BIN, d, d, d, d), 143);
    assert_int_equal(dlm_test_sh(out, sizeof out, "grep -c 'stopped by signal 15 after' %s/ck.err", d), 0);
    assert_string_equal(out, "1\n");
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s verify " K " --resume %s/ck --hist %s/h2" NOTIME, DLM_BIN, d, d), 0);
    assert_string_equal(out, one);
    assert_int_equal(dlm_test_sh(out, sizeof out, "cmp %s/h1 %s/h2", d, d), 0);
    /* a checkpoint of another seed: one line, exit 2 */
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s verify " K " --seed 1 --resume %s/ck 2>&1 >/dev/null", DLM_BIN, d), 2);
    assert_non_null(strstr(out, "ck: a checkpoint of another seed than this run\n"));
    assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
    if (!DLM_HAVE_MPI || dlm_test_sh(NULL, 0, "command -v mpirun") != 0) return;
    /* R ranks: killed with 2 and stopped with 3 once every rank has a file, killed with 1
     * once rank 0 has rewritten its file (with what it took over), finished with 2 */
#define RANKS(R, OPT) MPIRUN " " #R " %s verify " K " " OPT " %s/mk --checkpoint-every 0.05 > /dev/null 2> %s/mk.err & m=$!; "
#define FILES(N) "for i in $(seq 600); do [ $(ls %s/mk.rank? 2>/dev/null | wc -l) -ge " #N " ] && break; sleep 0.05; done; "
#define SIGNAL(SIG) "pkill -" SIG " -P \"$(pgrep -d, -P $m)\"; wait $m"
    dlm_test_sh(out, sizeof out, RANKS(2, "--checkpoint") FILES(2) SIGNAL("KILL"), DLM_BIN, d, d, d);
    assert_int_equal(dlm_test_sh(out, sizeof out, "cat %s/mk.rank0 %s/mk.rank1 | grep -c '^chains'", d, d), 0);
    assert_string_equal(out, "2\n");
    assert_int_equal(dlm_test_sh(out, sizeof out, RANKS(3, "--resume") FILES(3) SIGNAL("TERM"), DLM_BIN, d, d, d), 143);
    assert_int_equal(dlm_test_sh(out, sizeof out, "grep -c 'stopped by signal 15; the counts of every rank' %s/mk.err", d), 0);
    assert_string_equal(out, "1\n");
    dlm_test_sh(out, sizeof out, RANKS(1, "--resume") WAIT_NEW("%s/mk.rank0") SIGNAL("KILL"), DLM_BIN, d, d, d, d);
    assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " 2 %s verify " K " --resume %s/mk --hist %s/h3" NOTIME, DLM_BIN,
                                 d, d), 0);
    assert_string_equal(out, one);
    assert_int_equal(dlm_test_sh(out, sizeof out, "cmp %s/h1 %s/h3", d, d), 0);
    /* the ranks' checkpoints of another seed: one line, exit 2 */
    assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " 2 %s verify " K " --seed 1 --resume %s/mk 2>&1 >/dev/null | "
                                 "grep -c 'a checkpoint of another seed'", DLM_BIN, d), 0);
    assert_string_equal(out, "1\n");
#undef SIGNAL
#undef FILES
#undef RANKS
#undef ONE
#undef WAIT_NEW
#undef K
}

/* regress SUITE --counts FILE: merged shards checked against a case's golden digest
 * (run's count files) and verdict (verify's), without sampling. */
static void regress_checks_merged_counts(void **state)
{
    (void)state;
    const char *d = dlm_test_tmpdir();
    char out[8192];
    for (int k = 1; k <= 3; k++)
        assert_int_equal(dlm_test_sh(out, sizeof out,
                                     "%s run gen:parity-tree:12 --mode revise --chains 200000 --seed 1 --shard %d/3 --quiet "
                                     "--backend cpu --counts %s/rp%d.counts > /dev/null && "
                                     "%s verify gen:parity-revise:8 --mode revise --chains 200000 --seed 2 --inject-bias "
                                     "0:0.05 --shard %d/3 --quiet --backend cpu --counts %s/rb%d.counts",
                                     DLM_BIN, k, d, k, DLM_BIN, k, d, k), 0);
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s merge %s/rp1.counts %s/rp2.counts %s/rp3.counts -o %s/rp.counts && "
                                 "%s merge %s/rb3.counts %s/rb2.counts %s/rb1.counts -o %s/rb.counts",
                                 DLM_BIN, d, d, d, d, DLM_BIN, d, d, d, d), 0);
    /* nightly line 15 (digest 74ce757c9bf1289a) and smoke line 22 (a biased case that must FAIL) */
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s regress test/suites/nightly.suite --counts %s/rp.counts", DLM_BIN, d), 0);
    assert_non_null(strstr(out, "74ce757c9bf1289a  ok"));
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s regress test/suites/smoke.suite --counts %s/rb.counts", DLM_BIN, d), 0);
    assert_non_null(strstr(out, "FAIL    1794d2b95b548665  ok"));
    /* another golden digest: FAIL, exit 1 */
    assert_int_equal(dlm_test_sh(out, sizeof out, "sed 's/74ce757c9bf1289a/74ce757c9bf1289b/' test/suites/nightly.suite "
                                 "> %s/n.suite && %s regress %s/n.suite --counts %s/rp.counts", d, DLM_BIN, d, d), 1);
    assert_non_null(strstr(out, "result FAIL"));
    /* a file of no case, and a part with a gap: one line, exit 2 */
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s regress test/suites/smoke.suite --counts %s/rp.counts 2>&1 >/dev/null",
                                 DLM_BIN, d), 2);
    assert_non_null(strstr(out, "no case of test/suites/smoke.suite"));
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s regress test/suites/nightly.suite --counts %s/rp2.counts 2>&1 >/dev/null",
                                 DLM_BIN, d), 2);
    assert_non_null(strstr(out, "are in no shard"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_target_shards),
        cmocka_unit_test(reference_target_shards),
        cmocka_unit_test(first_chain_parts_and_refusals),
        cmocka_unit_test(ranks_give_one_report),
        cmocka_unit_test(killed_verify_resumes_exactly),
        cmocka_unit_test(regress_checks_merged_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
