/* test_mpi.c — `mpirun -n R dlmsim run`: R = 1, 2 and 3 ranks (oversubscribed on a
 * small machine) give the histogram, count file and --samples file of one process,
 * with one report;
 * a bad input is one line, not R. Skipped (never passed) without Open MPI. */
#include "dlm_test.h"

#include <string.h>

#ifndef DLM_HAVE_MPI /* builds that do not pass it (the CUDA emulation, test/cuda_emu) */
#define DLM_HAVE_MPI 0
#endif

#define MPIRUN "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 " \
               "timeout 60 mpirun --oversubscribe -n"
#define CASE "gen:parity-tree:12 --mode revise --chains 200000 --seed 1 --threads 1"

static int have_mpi(void)
{
    return DLM_HAVE_MPI && dlm_test_sh(NULL, 0, "command -v mpirun") == 0;
}

static void ranks_give_one_process_counts(void **state)
{
    (void)state;
    if (!have_mpi()) skip();
    const char *d = dlm_test_tmpdir();
    char out[8192], one[8192];
    assert_int_equal(dlm_test_sh(one, sizeof one, "%s run " CASE " --quiet --hist %s/h0 --counts %s/c0 >/dev/null && "
                                 "%s merge %s/c0 -o %s/m0 | grep digest", DLM_BIN, d, d, DLM_BIN, d, d), 0);
    assert_non_null(strstr(one, "74ce757c9bf1289a")); /* the nightly suite's golden digest */
    for (int R = 1; R <= 3; R++) {
        int rc = dlm_test_sh(out, sizeof out, MPIRUN " %d %s run " CASE " --quiet --hist %s/h%d --counts %s/c%d "
                             "> %s/o%d", R, DLM_BIN, d, R, d, R, d, R);
        assert_int_equal(rc, 0);
        /* the same histogram, and the same counts and digest, as one process */
        assert_int_equal(dlm_test_sh(out, sizeof out, "cmp %s/h0 %s/h%d && cmp %s/c0 %s/c%d", d, d, R, d, d, R), 0);
        /* one report: one "circuit" line and the same odd-parity line as one process */
        assert_int_equal(dlm_test_sh(out, sizeof out, "grep -c '^circuit' %s/o%d", d, R), 0);
        assert_string_equal(out, "1\n");
        assert_int_equal(dlm_test_sh(out, sizeof out, "grep '^odd parity *0$' %s/o%d", d, R), 0);
    }
    /* a shard under MPI is the shard of one process */
    assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " 2 %s run " CASE " --quiet --shard 2/3 --counts %s/s2 >/dev/null && "
                                 "%s run " CASE " --quiet --shard 2/3 --counts %s/s2b >/dev/null && cmp %s/s2 %s/s2b",
                                 DLM_BIN, d, DLM_BIN, d, d, d), 0);
    /* bad input: one line on stderr (not one per rank), exit 2 */
    int rc = dlm_test_sh(out, sizeof out, MPIRUN " 2 %s run gen:nosuch:3 --quiet 2>&1 >/dev/null | grep -c dlmsim", DLM_BIN);
    (void)rc;
    assert_string_equal(out, "1\n");
    assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " 2 %s run gen:nosuch:3 --quiet", DLM_BIN), 2);
}

/* --samples under mpirun: every rank writes its chunks at their offsets, so the file is
 * byte for byte one process's, for R = 1, 2, 3, a shard and --direct; `--samples -` is
 * one line, exit 2. */
static void samples_over_ranks(void **state)
{
    (void)state;
    if (!have_mpi()) skip();
    const char *d = dlm_test_tmpdir();
    char out[8192];
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s run " CASE " --quiet --samples %s/sm0 > /dev/null && "
                                 "%s run " CASE " --quiet --shard 2/3 --samples %s/sh0 > /dev/null",
                                 DLM_BIN, d, DLM_BIN, d), 0);
    for (int R = 1; R <= 3; R++) {
        assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " %d %s run " CASE " --quiet --samples %s/sm%d > /dev/null && "
                                     "cmp %s/sm0 %s/sm%d", R, DLM_BIN, d, R, d, d, R), 0);
        assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " %d %s run " CASE " --quiet --shard 2/3 --samples %s/sh%d "
                                     "> /dev/null && cmp %s/sh0 %s/sh%d", R, DLM_BIN, d, R, d, d, R), 0);
    }
    /* the direct evaluator under mpirun: the same samples */
    assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " 2 %s run " CASE " --quiet --direct --samples %s/smd > /dev/null && "
                                 "cmp %s/sm0 %s/smd", DLM_BIN, d, d, d), 0);
    /* an existing longer file is replaced, not left with a tail */
    assert_int_equal(dlm_test_sh(out, sizeof out, "cat %s/sm0 %s/sm0 > %s/long && " MPIRUN " 2 %s run " CASE
                                 " --quiet --samples %s/long > /dev/null && cmp %s/sm0 %s/long", d, d, d, DLM_BIN, d, d, d), 0);
    /* no temporary file is left beside them; a job that fails leaves the old file */
    assert_int_equal(dlm_test_sh(out, sizeof out, "! ls %s/*.tmp.* 2>/dev/null", d), 0);
    assert_int_equal(dlm_test_sh(out, sizeof out, "echo precious > %s/old && " MPIRUN " 2 %s run gen:parity-tree:12 --chains 1000 "
                                 "--quiet --direct --backend cuda --samples %s/old > /dev/null 2>&1; grep -qx precious %s/old && "
                                 "! ls %s/*.tmp.* 2>/dev/null", d, DLM_BIN, d, d, d), 0);
    int rc = dlm_test_sh(out, sizeof out, MPIRUN " 2 %s run " CASE " --quiet --samples - 2>&1 >/dev/null | grep -c 'needs a FILE, not -'",
                         DLM_BIN);
    (void)rc;
    assert_string_equal(out, "1\n");
    assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " 2 %s run " CASE " --quiet --samples -", DLM_BIN), 2);
}

/* mpirun -n R dlmsim regress: the ranks share the cases; rank 0 prints the table and
 * the JSON of one process (timings aside), once; a failing case fails the job. */
static void regress_over_ranks(void **state)
{
    (void)state;
    if (!have_mpi()) skip();
    const char *d = dlm_test_tmpdir();
    char out[8192];
#define NOSECS " | sed -E 's/\"seconds\":[0-9.e-]+//g'"
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s regress test/suites/smoke.suite --backend cpu --threads 1 --quiet --json" NOSECS
                                 " > %s/r1.json", DLM_BIN, d), 0);
    for (int R = 2; R <= 3; R++) {
        assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " %d %s regress test/suites/smoke.suite --backend cpu --threads 1 --quiet "
                                     "--json" NOSECS " | cmp - %s/r1.json", R, DLM_BIN, d), 0);
        assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " %d %s regress test/suites/smoke.suite --backend cpu --threads 1 --quiet "
                                     "| grep -c '^result PASS'", R, DLM_BIN), 0);
        assert_string_equal(out, "1\n");
    }
    /* a case whose digest differs: FAIL, exit 1 */
    assert_int_equal(dlm_test_sh(out, sizeof out, "sed 's/f6191cc598377bf7/0000000000000000/' test/suites/smoke.suite "
                                 "> %s/bad.suite", d), 0);
    assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " 2 %s regress %s/bad.suite --backend cpu --threads 1 --quiet > %s/bad.txt",
                                 DLM_BIN, d, d), 1);
    assert_int_equal(dlm_test_sh(out, sizeof out, "grep -c '^result FAIL' %s/bad.txt", d), 0);
    assert_string_equal(out, "1\n");
#undef NOSECS
}

/* Per-rank checkpoints: a job killed (SIGKILL) right after its first checkpoints is
 * resumed with another number of ranks, stopped by SIGTERM and resumed again with one:
 * the counts of one process, nothing lost or counted twice. A resume that does not
 * match the run is one line, exit 2. */
static void killed_ranks_resume_exactly(void **state)
{
    (void)state;
    if (!have_mpi()) skip();
    const char *d = dlm_test_tmpdir();
    char out[8192];
#define K "gen:random:64,20,5 --mode revise --chains 300000000 --seed 4242 --threads 1 --backend cpu --quiet"
/* starts R ranks in the background, waits until MIN ranks have written a checkpoint in
 * this job (files newer than PREFIX.start: a resumed job finds the earlier job's files
 * there, and on a loaded machine a late rank may write its first only at the end),
 * signals the ranks (the children of mpirun, itself the child of MPIRUN's timeout) */
#define START_AND_SIGNAL(R, MIN, PREFIX, SIG) \
    "touch %s/" PREFIX ".start; sleep 0.01; " \
    MPIRUN " " #R " %s run " K " --checkpoint %s/" PREFIX " --checkpoint-every 0.05 > /dev/null 2> %s/" PREFIX ".err & " \
    "m=$!; for i in $(seq 600); do n=$(find %s -maxdepth 1 -name '" PREFIX ".rank*' -newer %s/" PREFIX ".start " \
    "| wc -l); [ $n -ge " #MIN " ] && break; sleep 0.05; done; pkill -" SIG " -P \"$(pgrep -d, -P $m)\"; wait $m"
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s run " K " --counts %s/ref.counts", DLM_BIN, d), 0);
    dlm_test_sh(out, sizeof out, START_AND_SIGNAL(2, 2, "ck", "KILL"), d, DLM_BIN, d, d, d, d);
    assert_int_equal(dlm_test_sh(out, sizeof out, "cat %s/ck.rank0 %s/ck.rank1 | grep -c '^chains'", d, d), 0);
    assert_string_equal(out, "2\n");
    /* how far it got (a note; the check below holds wherever the kill landed) */
    dlm_test_sh(out, sizeof out, "grep -h '^chains' %s/ck.rank0 %s/ck.rank1 | awk '{s += $2} END {print s}'", d, d);
    print_message("killed after %s of 300000000 chains\n", strtok(out, "\n"));
    /* resumed with 3 ranks and stopped by SIGTERM: exit 143 and the counts saved */
    assert_int_equal(dlm_test_sh(out, sizeof out, START_AND_SIGNAL(3, 1, "ck", "TERM"), d, DLM_BIN, d, d, d, d), 143);
    assert_int_equal(dlm_test_sh(out, sizeof out, "grep -c 'stopped by signal 15' %s/ck.err", d), 0);
    assert_string_equal(out, "1\n");
    /* the last resume, with one rank: the counts of one process */
    assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " 1 %s run " K " --resume %s/ck --counts %s/res.counts > /dev/null && "
                                 "cmp %s/ref.counts %s/res.counts", DLM_BIN, d, d, d, d), 0);
    /* a resume of another run: one line, exit 2 */
    int rc = dlm_test_sh(out, sizeof out, MPIRUN " 2 %s run gen:random:64,20,5 --mode revise --chains 300000000 --seed 1 "
                         "--quiet --backend cpu --resume %s/ck 2>&1 >/dev/null | grep -c 'a checkpoint of another seed'",
                         DLM_BIN, d);
    (void)rc;
    assert_string_equal(out, "1\n");
    assert_int_equal(dlm_test_sh(out, sizeof out, MPIRUN " 2 %s run " K " --resume %s/nosuch", DLM_BIN, d), 2);
#undef START_AND_SIGNAL
#undef K
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ranks_give_one_process_counts),
        cmocka_unit_test(samples_over_ranks),
        cmocka_unit_test(regress_over_ranks),
        cmocka_unit_test(killed_ranks_resume_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
