/* test_batch.c — long batches: checkpoints written atomically, resumed exactly (no
 * chain lost or counted twice) after a stop flag, SIGTERM or SIGKILL at pseudo-random
 * points, and refused when the circuit, mode or seed differ. */
#include "dlm_test.h"
#include "dlm_batch.h"
#include "dlm_level.h"

#include <signal.h>

typedef struct {
    dlm_circuit c;
    dlm_levels lv;
    dlm_program p;
} compiled;

static void compile_ok(const char *spec, dlm_mode m, compiled *x)
{
    dlm_err e;
    if (dlm_circuit_load(&x->c, spec, 0, &e) || dlm_levelize(&x->c, &x->lv, &e) ||
        dlm_compile(&x->c, &x->lv, m, &x->p, &e))
        fail_msg("%s", e.msg);
}

static void release(compiled *x)
{
    dlm_program_free(&x->p);
    dlm_levels_free(&x->lv);
    dlm_circuit_free(&x->c);
}

typedef struct {
    volatile sig_atomic_t stop;
    int calls, stop_after;
} stopper;

static void stop_after_calls(void *ctx, uint64_t done, uint64_t total, double secs)
{
    (void)done, (void)total, (void)secs;
    stopper *st = ctx;
    if (++st->calls == st->stop_after) st->stop = 1;
}

static void assert_counts_equal(const dlm_counts *a, const dlm_counts *b)
{
    assert_int_equal(a->chains, b->chains);
    assert_int_equal(a->odd_parity, b->odd_parity);
    assert_memory_equal(a->ones, b->ones, a->nout * sizeof *a->ones);
    assert_int_equal(!a->hist, !b->hist);
    if (a->hist) assert_memory_equal(a->hist, b->hist, ((size_t)1 << a->nout) * sizeof *a->hist);
}

/* Stopped after k chunks and resumed from the checkpoint, for several k: the counts
 * equal the uninterrupted run's. */
static void stop_and_resume_is_exact(void **state)
{
    (void)state;
    compiled x;
    compile_ok("gen:adder-prefix:6", DLM_MODE_REVISE, &x);
    dlm_err e;
    dlm_batch_id id = {dlm_circuit_hash(&x.c), DLM_MODE_REVISE, 17, 300000, x.p.nout, 1};
    dlm_batch_opts o;
    memset(&o, 0, sizeof o);
    o.backend = DLM_BACKEND_CPU;
    o.first_chunk = 1000;
    o.chunk_seconds = 1e-4; /* small chunks: many stop points */
    dlm_counts ref;
    uint64_t next = 0;
    int stopped;
    assert_int_equal(dlm_counts_init(&ref, x.p.nout, 1, &e), DLM_OK);
    assert_int_equal(dlm_batch_run(&x.p, &id, &o, &next, &ref, &stopped, &e), DLM_OK);
    assert_int_equal(next, id.chains);
    assert_int_equal(stopped, 0);
    char ck[512];
    snprintf(ck, sizeof ck, "%s/stop.ckpt", dlm_test_tmpdir());
    for (int k = 1; k <= 7; k += 3) {
        stopper st = {0, 0, k};
        dlm_batch_opts so = o;
        so.stop = &st.stop;
        so.progress = stop_after_calls;
        so.progress_ctx = &st;
        so.checkpoint = ck;
        dlm_counts a;
        assert_int_equal(dlm_counts_init(&a, x.p.nout, 1, &e), DLM_OK);
        next = 0;
        assert_int_equal(dlm_batch_run(&x.p, &id, &so, &next, &a, &stopped, &e), DLM_OK);
        assert_int_equal(stopped, 1);
        assert_true(next > 0 && next < id.chains);
        dlm_counts_free(&a);
        /* Resume in a fresh process state: everything comes from the file. */
        dlm_counts b;
        uint64_t resumed = 0;
        assert_int_equal(dlm_checkpoint_read(ck, &id, &resumed, &b, 0, &e), DLM_OK);
        assert_int_equal(resumed, next);
        so.stop = NULL;
        so.progress = NULL;
        assert_int_equal(dlm_batch_run(&x.p, &id, &so, &resumed, &b, &stopped, &e), DLM_OK);
        assert_counts_equal(&ref, &b);
        dlm_counts_free(&b);
    }
    /* A checkpoint of another seed, mode or circuit is refused. */
    dlm_counts z;
    uint64_t nz;
    dlm_batch_id other = id;
    other.seed = 18;
    assert_int_equal(dlm_checkpoint_read(ck, &other, &nz, &z, 0, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "seed"));
    other = id;
    other.mode = DLM_MODE_COT;
    assert_int_equal(dlm_checkpoint_read(ck, &other, &nz, &z, 0, &e), DLM_EINPUT);
    other = id;
    other.circuit_hash ^= 1;
    assert_int_equal(dlm_checkpoint_read(ck, &other, &nz, &z, 0, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "circuit"));
    /* A truncated checkpoint is refused, not half-read. */
    FILE *f = fopen(ck, "r+");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fclose(f);
    assert_int_equal(truncate(ck, len / 2), 0);
    assert_int_equal(dlm_checkpoint_read(ck, &id, &nz, &z, 0, &e), DLM_EINPUT);
    /* Counts that cannot belong together are refused (found by fuzz_checkpoint): a
     * ones count or odd parity over the chains counted, a repeated or zero histogram
     * cell, cells not adding up to the count, text after the end line. */
    dlm_counts c5;
    assert_int_equal(dlm_counts_init(&c5, x.p.nout, 1, &e), DLM_OK);
    c5.chains = 5;
    c5.odd_parity = 1;
    c5.hist[3] = 2;
    c5.hist[5] = 3;
    c5.ones[0] = 5;
    dlm_batch_id id5 = id;
    assert_int_equal(dlm_checkpoint_write(ck, &id5, 5, &c5, &e), DLM_OK);
    assert_int_equal(dlm_checkpoint_read(ck, &id5, &nz, &z, 0, &e), DLM_OK);
    dlm_counts_free(&z);
    char good[4096];
    f = fopen(ck, "r");
    size_t glen = fread(good, 1, sizeof good - 1, f);
    fclose(f);
    good[glen] = 0;
    static const char *const edits[][2] = {
        {"odd_parity 1", "odd_parity 6"}, {"ones 5", "ones 6"}, {"3 2\n5 3", "3 2\n3 3"},
        {"3 2\n5 3", "3 0\n5 3"}, {"3 2\n5 3", "3 1\n5 3"}, {"end", "end\ngarbage"},
    };
    for (size_t q = 0; q < sizeof edits / sizeof *edits; q++) {
        char bad[4200], *at = strstr(good, edits[q][0]);
        assert_non_null(at);
        snprintf(bad, sizeof bad, "%.*s%s%s", (int)(at - good), good, edits[q][1], at + strlen(edits[q][0]));
        f = fopen(ck, "w");
        fputs(bad, f);
        fclose(f);
        if (dlm_checkpoint_read(ck, &id5, &nz, &z, 0, &e) == DLM_OK) fail_msg("edit %zu accepted", q);
    }
    dlm_counts_free(&c5);
    dlm_counts_free(&ref);
    release(&x);
}

/* The CLI killed (SIGKILL, SIGTERM) at pseudo-random points and resumed until it
 * finishes gives exactly the histogram of an uninterrupted run. The batch must last
 * well over the kill times (0.15-0.65 s): on the bit-sliced engine even 60M chains
 * sometimes finished first, so it runs on the byte engine (below). */
static void cli_killed_and_resumed_is_exact(void **state)
{
    (void)state;
    const char *d = dlm_test_tmpdir();
    /* The byte-per-token engine (cpu-ref) is ~100x slower than the bit-sliced one, so
     * this batch lasts seconds on any machine and the kills (150-650 ms) land inside it;
     * the checkpoint logic does not depend on the engine. */
    const char *spec = "gen:adder-ripple:8 --mode remask --chains 4000000 --seed 5 --threads 2 "
                       "--backend cpu-ref";
    char out[4096];
    int rc = dlm_test_sh(out, sizeof out, "%s run %s --quiet --hist %s/ref.txt >/dev/null", DLM_BIN,
                         spec, d);
    assert_int_equal(rc, 0);
    uint64_t x = 88172645463325252ull; /* xorshift: fixed pseudo-random kill times */
    for (int trial = 0; trial < 2; trial++) {
        dlm_test_sh(out, sizeof out, "rm -f %s/k.ckpt %s/k.txt", d, d);
        /* attempts: runs since the last checkpoint-less restart; restarts: kills that came
         * before the first checkpoint (a slow start, e.g. under ASan on a busy machine).
         * Each restart, and every fourth resumed attempt, lengthens the next run's time
         * before the kill, so a slow machine (ASan on a loaded one: 40 attempts that
         * grew every tenth did not finish) still reaches a checkpoint and the end;
         * runs bounds the loop whatever happens. */
        int attempts = 0, runs = 0, restarts = 0, finished = 0;
        while (!finished && attempts < 60 && runs++ < 200) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int ms = (150 + (int)(x % 500)) * (1 + restarts + attempts / 4);
            const char *sig = (attempts + trial) % 2 ? "TERM" : "KILL";
            const char *resume = attempts ? "--resume" : "--checkpoint";
            rc = dlm_test_sh(out, sizeof out,
                             "%s run %s --quiet --hist %s/k.txt %s %s/k.ckpt --checkpoint-every 0.05 "
                             ">/dev/null & p=$!; sleep %d.%03d; kill -%s $p 2>/dev/null; wait $p",
                             DLM_BIN, spec, d, resume, d, ms / 1000, ms % 1000, sig);
            /* 0: finished before the kill; 143 / 137: killed; anything else is a bug. */
            if (rc != 0 && rc != 143 && rc != 137) fail_msg("exit %d: %s", rc, out);
            finished = rc == 0;
            /* A SIGKILL before the first checkpoint leaves nothing to resume: start over. */
            char ck[600];
            snprintf(ck, sizeof ck, "%s/k.ckpt", d);
            if (!finished && access(ck, R_OK) != 0) {
                attempts = 0;
                restarts++;
                continue;
            }
            attempts++;
        }
        if (!finished)
            print_error("trial %d: not finished after %d runs (%d restarts, %d resumed attempts)\n", trial,
                        runs, restarts, attempts);
        assert_true(finished);
        print_message("trial %d: finished after %d interruptions (%d restarts before a first checkpoint)\n",
                      trial, attempts - 1, restarts);
        assert_true(attempts >= 2); /* at least one kill was resumed from */
        rc = dlm_test_sh(out, sizeof out, "cmp %s/ref.txt %s/k.txt", d, d);
        if (rc) fail_msg("resumed histogram differs: %s", out);
    }
    /* Resuming with another seed is refused with exit code 2. */
    rc = dlm_test_sh(out, sizeof out,
                     "%s run gen:adder-ripple:8 --mode remask --chains 4000000 --seed 6 --threads 2 --backend cpu-ref "
                     "--quiet --resume %s/k.ckpt", DLM_BIN, d);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(out, "seed"));
    /* --samples and checkpoints do not mix. */
    rc = dlm_test_sh(out, sizeof out, "%s run gen:maj:3 --samples %s/s.txt --checkpoint %s/c", DLM_BIN, d, d);
    assert_int_equal(rc, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stop_and_resume_is_exact),
        cmocka_unit_test(cli_killed_and_resumed_is_exact),
    };
    return cmocka_run_group_tests_name("batch", tests, NULL, NULL);
}
