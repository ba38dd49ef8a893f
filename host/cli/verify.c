/* verify.c — dlmsim verify CIRCUIT [...] (docs/verify.md; the JSON report is
 * dlm_verify_write_json, docs/report-format.md). */
#include "dlm_batch.h"
#include "dlm_circuit.h"
#include "dlm_cli.h"
#include "dlm_engine.h"
#include "dlm_eval.h"
#include "dlm_info.h"
#include "dlm_io.h"
#include "dlm_level.h"
#include "dlm_program.h"
#include "dlm_tally.h"
#include "dlm_verify.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

// ---------------------------------------------------------------------------
// verify (docs/verify.md; the JSON object is docs/report-format.md)

typedef struct {
    const char *path, *counts, *hist;
    dlm_cli_ckpt ck; /* --checkpoint, --resume, --checkpoint-every */
    dlm_verify_opts o;
    int json, quiet;
    int have_mode, have_seed, have_chains;
    dlm_cli_part part; /* --shard, --first-chain */
} verify_args;

#define C "verify"

static const char *const verify_head =
    "usage: dlmsim verify CIRCUIT [options]   (docs/verify.md, docs/report-format.md)\n"
    "       dlmsim verify LAW [sample's options]   (= dlmsim sample LAW --verify; dlmsim sample --help)\n"
    "Samples CIRCUIT's DLM program and tests the samples against the circuit's own law\n"
    "(invariants, then Holm-corrected tests at --alpha). Exit 0 PASS, 1 FAIL, 2 bad input.\n";

/* Options: the parser asks this table which take a value; --help prints their lines. */
static const dlm_cli_opt verify_opts[] = {
    {"--mode", 1, "  --mode cot|remask|revise|ar   the DLM program (default revise)\n"},
    {"--chains", 1, "  --chains B          chains, 1 .. 2^56 (default 1e6; e.g. 1e6)\n"},
    {"--seed", 1, "  --seed S            an integer 0 .. 2^64-1 (default 0)\n"},
    {"--alpha", 1, "  --alpha A           family-wise error rate, in (0, 1) (default 1e-3)\n"},
    {"--target", 1, "  --target auto|exact|reference   the law tested against (default auto)\n"},
    {"--backend", 1, "  --backend auto|cpu|cpu-ref|cuda|cuda-ref   (default auto: cuda with a device, else cpu)\n"},
    {"--cuda-kernel", 1, DLM_CLI_KERNEL_HELP},
    {"--threads", 1, "  --threads N         CPU threads, 0 .. 4096 (default 0: one per core)\n"},
    {"--inject-bias", 1, "  --inject-bias K:EPS testing aid: coin K gets P(1) = 1/2 + EPS (the run should FAIL)\n"},
    {"--hist", 1, "  --hist FILE         the output histogram (- for stdout)\n"},
    {"--json", 0, "  --json              one JSON object (docs/report-format.md)\n"},
    {"--quiet", 0, "  --quiet             no progress on stderr\n"},
    {"--shard", 1, "  --shard K/N | --first-chain A   a part of the batch, written to --counts FILE\n"},
    {"--first-chain", 1, NULL},
    {"--counts", 1, "  --counts FILE       with a part: write its counts; alone: verify the counts in FILE\n"},
    {"--checkpoint", 1, "  --checkpoint FILE   save the counts so far every --checkpoint-every SECONDS and on\n"
                        "                      SIGINT/SIGTERM (a count file; under mpirun a prefix: FILE.rankR)\n"},
    {"--checkpoint-every", 1, "  --checkpoint-every SECONDS   (default 60)\n"},
    {"--resume", 1, "  --resume FILE       continue a checkpointed verification (any number of ranks)\n"},
    {"--max-memory", 1, "  --max-memory SIZE   the memory budget (e.g. 4G; also DLMSIM_MAX_MEMORY)\n"},
    {NULL, 0, NULL}};
static const char *const verify_tail = "";

static int parse_verify(int argc, char **argv, verify_args *a)
{
    memset(a, 0, sizeof *a);
    dlm_verify_opts_default(&a->o);
    a->o.jit_dir = dlm_cli_jit_dir();
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        int takes = dlm_cli_opt_takes(verify_opts, o);
        if (takes && !v) return dlm_cli_usage(C, "option %s needs a value", o);
        if (!strcmp(o, "--mode")) {
            if (dlm_mode_parse(v, &a->o.mode)) return dlm_cli_bad(C, o, v, "cot, remask, revise or ar");
            a->have_mode = 1;
        } else if (!strcmp(o, "--chains")) {
            if (dlm_cli_parse_chains(v, 1, &a->o.chains)) return dlm_cli_bad(C, o, v, CHAINS_ALLOWED);
            a->have_chains = 1;
        } else if (!strcmp(o, "--seed")) {
            if (dlm_parse_count(v, &a->o.seed)) return dlm_cli_bad(C, o, v, "an integer 0 .. 2^64-1");
            a->have_seed = 1;
        } else if (dlm_cli_part_option(C, o, v, &a->part, &rc)) {
            if (rc) return rc;
        } else if (!strcmp(o, "--counts")) {
            a->counts = v;
        } else if (!strcmp(o, "--hist")) {
            a->hist = v;
        } else if (dlm_cli_ckpt_option(C, o, v, &a->ck, &rc)) {
            if (rc) return rc;
        } else if (dlm_cli_kernel_option(C, o, v, &a->o.cuda_kernel, &rc)) {
            if (rc) return rc;
        } else if (!strcmp(o, "--threads")) {
            if (dlm_cli_parse_threads(v, &a->o.threads)) return dlm_cli_bad(C, o, v, THREADS_ALLOWED);
        } else if (!strcmp(o, "--alpha")) {
            if (dlm_cli_parse_alpha(v, &a->o.alpha)) return dlm_cli_bad(C, o, v, "a number in (0, 1)");
        } else if (!strcmp(o, "--target")) {
            if (dlm_target_want_parse(v, &a->o.target))
                return dlm_cli_bad(C, o, v, "auto, exact or reference");
        } else if (!strcmp(o, "--backend")) {
            if (dlm_backend_parse(v, &a->o.backend)) return dlm_cli_bad(C, o, v, "auto, cpu, cpu-ref, cuda or cuda-ref");
        } else if (!strcmp(o, "--inject-bias")) {
            uint32_t kk;
            double eps;
            int b = dlm_bias_parse(v, strlen(v), &kk, &eps);
            if (b == -1) return dlm_cli_bad(C, o, v, "K:EPS");
            if (b) return dlm_cli_bad(C, o, v, "K:EPS with -1/2 < EPS < 1/2");
            a->o.inject = 1;
            a->o.inject_coin = kk;
            a->o.inject_eps = eps;
        } else if (!strcmp(o, "--json")) {
            a->json = 1;
            continue;
        } else if (!strcmp(o, "--quiet")) {
            a->quiet = 1;
            continue;
        } else if (o[0] == '-' && o[1]) {
            return dlm_cli_usage(C, "unknown option %s", o);
        } else if (!a->path) {
            a->path = o;
            continue;
        } else {
            return dlm_cli_usage(C, "unexpected argument %s (one CIRCUIT only)", o);
        }
        i++;
    }
    if (!a->path) return dlm_cli_usage(C, "missing CIRCUIT");
    const int partial = a->part.have_shard || a->part.have_first;
    uint64_t first, count, batch;
    int rc = dlm_cli_part_resolve(C, &a->part, a->o.chains, &first, &count, &batch);
    if (rc) return rc;
    if (partial && !a->counts)
        return dlm_cli_usage(C, "a part of the batch (--shard, --first-chain) needs --counts FILE; "
                                   "verify the merged counts with dlmsim verify CIRCUIT --counts FILE");
    if (a->counts && !partial && dlm_cli_mpi_on())
        return dlm_cli_usage(C, "--counts FILE (verify the counts in FILE) needs no mpirun");
    if (a->counts && !partial && (a->ck.checkpoint || a->ck.resume))
        return dlm_cli_usage(C, "--checkpoint and --resume are for a sampled verification, not --counts FILE alone");
    if (a->ck.every > 0 && !a->ck.checkpoint && !a->ck.resume)
        return dlm_cli_usage(C, "--checkpoint-every needs --checkpoint FILE");
    return 0;
}

static int cmp_test_p(const void *a, const void *b)
{
    const dlm_test_result *x = *(const dlm_test_result *const *)a, *y = *(const dlm_test_result *const *)b;
    return (x->p > y->p) - (x->p < y->p);
}

#define VERIFY_SHOW 12 /* tests listed on the terminal when there are many */

static void verify_text(const char *path, const dlm_verify_report *r)
{
    printf("circuit    %s\n", path);
    printf("sampler    mode %s, backend %s, %llu chains, seed %llu\n", dlm_mode_name(r->mode),
           r->from_counts ? "counts (read from a file)" : dlm_backend_name(r->backend),
           (unsigned long long)r->chains, (unsigned long long)r->seed);
    if (r->injected)
        printf("injected   coin %u has P(1) = 1/2 %+g (testing aid: this run should FAIL)\n", r->inject_coin,
               r->inject_eps);
    printf("target     %s: %s\n", dlm_target_kind_name(r->target_kind), r->target_desc);
    printf("time       target %.3f s, sampling %.3f s, tests %.3f s\n\n", r->seconds_target,
           r->seconds_sample, r->seconds_tests);
    printf("%-22s %14s %12s  %s\n", "invariant", "checked", "violations", "verdict");
    for (uint32_t i = 0; i < r->ninv; i++) {
        const dlm_invariant *v = &r->inv[i];
        printf("%-22s %14llu %12llu  %s\n", v->name, (unsigned long long)v->checked,
               (unsigned long long)v->violations, v->pass ? "pass" : "FAIL");
        if (!v->pass && v->detail[0]) printf("    first: %s\n", v->detail);
    }
    /* The histogram tests always, then the smallest p-values. */
    const dlm_test_result **order = r->ntests ? malloc(r->ntests * sizeof *order) : NULL;
    size_t nshow = 0, nfail = 0;
    if (order) {
        for (size_t i = 0; i < r->ntests; i++) {
            order[i] = &r->tests[i];
            nfail += !r->tests[i].pass;
        }
        qsort(order, r->ntests, sizeof *order, cmp_test_p);
        nshow = r->ntests <= VERIFY_SHOW + 4 ? r->ntests : VERIFY_SHOW;
    }
    printf("\n%-18s %14s %8s %12s %12s  %s\n", "test", "statistic", "df", "p", "p (Holm)", "verdict");
    for (size_t i = 0; i < r->ntests; i++) {
        const dlm_test_result *t = &r->tests[i];
        int shown = 0;
        for (size_t j = 0; j < nshow; j++) shown |= order[j] == t;
        if (strncmp(t->name, "hist-", 5) || shown) continue;
        printf("%-18s %14.6g %8.0f %12.4g %12.4g  %s\n", t->name, t->stat, t->df, t->p, t->p_holm,
               t->pass ? "pass" : "FAIL");
    }
    for (size_t j = 0; j < nshow; j++) {
        const dlm_test_result *t = order[j];
        printf("%-18s %14.6g %8.0f %12.4g %12.4g  %s\n", t->name, t->stat, t->df, t->p, t->p_holm,
               t->pass ? "pass" : "FAIL");
    }
    if (nshow < r->ntests)
        printf("... %zu tests in all (smallest p-values shown; --json lists every one), %zu failed\n",
               r->ntests, nfail);
    if (r->target_kind != DLM_TKIND_REFERENCE)
        printf("(df 0: the statistic is a z-score; bit tests are exact binomial, z-tests above 2^20 chains)\n");
    else
        printf("(two-sample tests against the reference chains under seed %#llx)\n",
               (unsigned long long)r->ref_seed);
    free(order);
    if (r->have_tv)
        printf("\nTV         %.6g (upper bound %.6g with confidence 1 - alpha)\n", r->tv, r->tv_upper);
    else
        printf("\nTV         n/a (more than %d outputs: marginals only)\n", DLM_HIST_MAX_BITS);
    printf("alpha      %g (Holm-corrected over %zu tests", r->alpha, r->ntests);
    if (r->dup_tests) printf("; %u bit tests left out as copies of another output's", r->dup_tests);
    printf(")\n");
    if (!(r->detect_bias >= 0))
        printf("power      n/a (no output bit is tested)\n");
    else if (r->detect_bias < 0.5)
        printf("power      a shift of %.3g in one output's P(1) is found with 50%% power at %llu chain%s\n",
               r->detect_bias, (unsigned long long)r->chains, r->chains == 1 ? "" : "s");
    else
        printf("power      none: at %llu chain%s no shift of one output's P(1) is found with 50%% power\n",
               (unsigned long long)r->chains, r->chains == 1 ? "" : "s");
    printf("verdict    %s\n", r->pass ? "PASS" : "FAIL");
}

/* A sampled verification's chains, in calls of about a second when it can be stopped
 * (--checkpoint, --resume), else one call per range: the sample function of the
 * ranks' job (dlm_cli_mpi_job) and of one process. */
typedef struct {
    dlm_verify_sampler *S;
    dlm_tally *t;
    const volatile sig_atomic_t *stop; /* NULL: one call per range */
    uint64_t chunk;                    /* the chains of the next call */
    const char *checkpoint;            /* one process: t written there every `every` s */
    double every, last;
    /* one process's progress over the whole part: base chains were counted before */
    void (*progress)(void *ctx, uint64_t done, uint64_t total, double seconds);
    void *progress_ctx;
    uint64_t base, total;
    double t0;
} verify_part;

static void part_progress(void *ctx, uint64_t done, uint64_t total, double secs)
{
    (void)total;
    (void)secs;
    verify_part *v = ctx;
    v->progress(v->progress_ctx, v->base + done, v->total, dlm_now() - v->t0);
}

static dlm_status verify_range(void *ctx, uint64_t first, uint64_t end, uint64_t *next, dlm_err *e)
{
    verify_part *v = ctx;
    dlm_status s = DLM_OK;
    *next = first;
    while (*next < end && !s && !(v->stop && *v->stop)) {
        uint64_t n = v->stop && end - *next > v->chunk ? v->chunk : end - *next;
        v->base = v->t->counts.chains;
        double c0 = dlm_now();
        if ((s = dlm_verify_sample(v->S, *next, n, v->t, e))) break;
        *next += n;
        double dt = dlm_now() - c0; /* calls of about a second: a stop waits for one */
        if (dt < 0.25 && v->chunk < (UINT64_C(1) << 36)) v->chunk *= 2;
        else if (dt > 1 && v->chunk > 4096) v->chunk /= 2;
        if (v->checkpoint && dlm_now() - v->last >= v->every) {
            s = dlm_tally_write(v->checkpoint, v->t, e);
            v->last = dlm_now();
        }
    }
    return s;
}

/* One process: the tally of --resume FILE, checked against the job, into t. */
static dlm_status verify_resume(const char *path, const dlm_cli_mpi_job *j, dlm_tally *t, dlm_err *e)
{
    dlm_tally r;
    dlm_status s = dlm_tally_read(path, &r, j->max_bytes, e);
    if (s) return s;
    const char *what = dlm_cli_checkpoint_differs(j, &r);
    if (what) {
        dlm_tally_free(&r);
        return dlm_fail(e, DLM_EINPUT, "%s: a checkpoint of another %s than this run", path, what);
    }
    dlm_tally_free(t);
    *t = r;
    return DLM_OK;
}

/* One process with --checkpoint or --resume: the chains t (resumed) does not hold,
 * t written to the checkpoint every `every` seconds, on a stop and at the end. */
static dlm_status verify_checkpointed(const dlm_cli_mpi_job *j, verify_part *part, int *stopped, dlm_err *e)
{
    dlm_tally *t = part->t;
    dlm_status s = DLM_OK;
    dlm_ranges gaps;
    if ((s = dlm_tally_gaps(t, &gaps, e))) return s;
    for (size_t q = 0; q < gaps.n && !s && !*stopped; q++) {
        uint64_t end = j->first + j->count, next; /* the part's gaps (the batch may be longer) */
        uint64_t g0 = gaps.r[q].first < j->first ? j->first : gaps.r[q].first;
        uint64_t g1 = gaps.r[q].end > end ? end : gaps.r[q].end;
        if (g1 <= g0) continue;
        s = verify_range(part, g0, g1, &next, e);
        *stopped = !s && next < g1;
    }
    dlm_ranges_free(&gaps);
    if (!s) s = dlm_tally_write(part->checkpoint, t, e);
    return s;
}

/* Samples chains first .. first+count-1 of a batch of `batch` into t, shared by the
 * ranks under mpirun and summed on rank 0; with --checkpoint or --resume it can be
 * stopped (*stopped = 1, the checkpoints written) and resumed. */
static dlm_status verify_sample(dlm_cli_loaded *L, verify_args *a, uint64_t batch, uint64_t first,
                                uint64_t count, dlm_verify_sampler *S, dlm_tally *t, int *stopped, uint64_t max_bytes,
                                dlm_err *e)
{
    *stopped = 0;
    dlm_status s = dlm_verify_sampler_open(&L->c, &L->lv, &a->o, S, e);
    if (s) return s;
    if ((s = dlm_verify_tally_init(S, batch, t, e))) return s;
    const char *ckpt = a->ck.checkpoint ? a->ck.checkpoint : a->ck.resume;
    dlm_batch_id id = {t->circuit_hash, a->o.mode, a->o.seed, first + count, t->counts.nout, t->counts.hist != NULL};
    double every = a->ck.every > 0 ? a->ck.every : 60;
    verify_part part = {S, t, ckpt ? dlm_cli_stop_flag() : NULL, 65536, NULL, every, dlm_now(), NULL, NULL, 0, count,
                        dlm_now()};
    dlm_cli_mpi_job j;
    memset(&j, 0, sizeof j);
    j.id = &id;
    j.first = first;
    j.count = count;
    j.batch = batch;
    j.mode_name = t->mode;
    j.checkpoint = ckpt;
    j.resume = a->ck.resume;
    j.every = every;
    j.stop = part.stop;
    j.v = &t->v;
    j.sample = verify_range;
    j.sample_ctx = &part;
    j.max_bytes = max_bytes;
    /* one process: a checkpoint that does not match is refused before any notice */
    if (!dlm_cli_mpi_on() && a->ck.resume && (s = verify_resume(a->ck.resume, &j, t, e))) return s;
    if (S->backend_notice[0] && dlm_cli_mpi_rank() == 0) fprintf(stderr, "%s\n", S->backend_notice);
    if (!dlm_cli_mpi_on() && !ckpt) return dlm_verify_sample(S, first, count, t, e);
    if (ckpt) dlm_cli_catch_stop();
    if (!dlm_cli_mpi_on()) {
        part.checkpoint = ckpt;
        if (S->o.progress) { /* the progress of the whole part, resumed chains included */
            part.progress = S->o.progress;
            part.progress_ctx = S->o.progress_ctx;
            S->o.progress = part_progress;
            S->o.progress_ctx = &part;
        }
        return verify_checkpointed(&j, &part, stopped, e);
    }
    S->o.progress = NULL; /* one rank's view is not the job's progress */
    int gpu = dlm_cli_mpi_gpu(S->backend, e);
    if (gpu == -2) return DLM_ECUDA;
    uint64_t mine = 0;
    if ((s = dlm_cli_mpi_run(&j, &t->counts, &mine, stopped, e))) return s;
    if (!a->quiet) dlm_cli_mpi_ran("chains", mine, gpu);
    if (*stopped) return DLM_OK;
    /* rank 0 now holds the counts of the whole part */
    dlm_ranges_free(&t->ranges);
    if (dlm_cli_mpi_rank() == 0 && (s = dlm_ranges_add(&t->ranges, first, first + count, e))) return s;
    return DLM_OK;
}

int dlm_cli_verify(int argc, char **argv, uint64_t max_bytes)
{
    if (dlm_cli_help_opts(verify_head, verify_opts, verify_tail, argc, argv)) return 0;
    verify_args a;
    int rc = parse_verify(argc, argv, &a);
    if (rc) return rc;
    dlm_err e;
    const int partial = a.part.have_shard || a.part.have_first, from_file = a.counts && !partial;
    const int root = dlm_cli_mpi_rank() == 0; /* under mpirun only rank 0 writes and prints */
    /* every output path is checked before the circuit is read (dlm_out_check) */
    /* under mpirun, --checkpoint and --resume are prefixes: this rank writes PREFIX.rankR */
    char resolved[4096], rankfile[4200] = "";
    const char *prefix = a.ck.checkpoint ? a.ck.checkpoint : a.ck.resume;
    if (dlm_cli_mpi_on() && prefix) snprintf(rankfile, sizeof rankfile, "%s.rank%d", prefix, dlm_cli_mpi_rank());
    const char *outs[4] = {partial ? a.counts : NULL, a.hist, rankfile[0] ? rankfile : a.ck.checkpoint,
                           rankfile[0] ? NULL : a.ck.resume};
    for (int i = 0; i < 4; i++)
        if (outs[i] && (i != 1 || strcmp(outs[i], "-")) && dlm_out_check(outs[i], resolved, sizeof resolved, &e))
            return dlm_cli_fail(DLM_EINPUT, &e);
    dlm_tally t;
    memset(&t, 0, sizeof t);
    dlm_status s;
    if (from_file) {
        if ((s = dlm_tally_read(a.counts, &t, max_bytes, &e))) return dlm_cli_fail(s, &e);
        /* the file says what it counted; options given must agree with it */
        if (!a.have_mode && dlm_mode_parse(t.mode, &a.o.mode)) {
            dlm_tally_free(&t);
            fprintf(stderr, "dlmsim: %s: the counts are of mode %s, not a DLM mode\n", a.counts, t.mode);
            return 2;
        }
        if (!a.have_seed) a.o.seed = t.seed;
        if (a.have_chains && a.o.chains != t.counts.chains) {
            fprintf(stderr, "dlmsim: %s: the counts are of %llu chains, --chains says %llu\n", a.counts,
                    (unsigned long long)t.counts.chains, (unsigned long long)a.o.chains);
            dlm_tally_free(&t);
            return 2;
        }
        a.o.chains = t.counts.chains;
    }
    dlm_cli_loaded L;
    if ((s = dlm_cli_load(a.path, max_bytes, a.quiet || dlm_cli_mpi_rank() != 0, &L, &e))) {
        dlm_tally_free(&t);
        return dlm_cli_fail(s, &e);
    }
    if (a.hist && L.c.nout > DLM_HIST_MAX_BITS) {
        fprintf(stderr, "dlmsim: --hist needs at most %d output bits, %s has %u\n", DLM_HIST_MAX_BITS, a.path,
                L.c.nout);
        dlm_tally_free(&t);
        dlm_cli_unload(&L);
        return 2;
    }
    dlm_verify_report r;
    memset(&r, 0, sizeof r);
    dlm_verify_sampler S;
    memset(&S, 0, sizeof S);
    dlm_cli_progress_state ps = {isatty(2), a.quiet || !root, 0, 0, NULL, NULL, 0};
    a.o.progress = dlm_cli_progress;
    a.o.progress_ctx = &ps;
    dlm_cli_progress_state pt = dlm_cli_phase("target", "", a.quiet || !root); /* the target's phase */
    a.o.target_progress = dlm_cli_progress;
    a.o.target_progress_ctx = &pt;
    dlm_cli_progress_state pc = dlm_cli_phase("compile", "", a.quiet || !root); /* the compile's */
    a.o.compile_progress = dlm_cli_progress;
    a.o.compile_progress_ctx = &pc;
    int have_report = 0, stop_rc = 0;
    double t0 = dlm_now();
    if (from_file) {
        if ((s = dlm_verify_check(&L.c, &a.o, &t, &r, &e))) {
            s = dlm_fail(&e, s, "%s: %s", a.counts, e.msg);
            goto done;
        }
        have_report = 1;
    } else if (partial || dlm_cli_mpi_on() || prefix) {
        uint64_t first, count, batch; /* checked by parse_verify */
        dlm_cli_part_resolve(C, &a.part, a.o.chains, &first, &count, &batch);
        int stopped = 0;
        if ((s = verify_sample(&L, &a, batch, first, count, &S, &t, &stopped, max_bytes, &e))) goto done;
        if (stopped) {
            int sig = *dlm_cli_stop_flag() ? (int)*dlm_cli_stop_flag() : SIGTERM;
            if (dlm_cli_mpi_on() && root)
                fprintf(stderr, "dlmsim: stopped by signal %d; the counts of every rank are in %s.rank* (continue "
                        "with mpirun ... --resume %s)\n", sig, prefix, prefix);
            else if (root)
                fprintf(stderr, "dlmsim: stopped by signal %d after %llu of %llu chains; counts saved in %s "
                        "(continue with --resume %s)\n", sig, (unsigned long long)t.counts.chains,
                        (unsigned long long)count, prefix, prefix);
            stop_rc = 128 + sig;
            goto done;
        }
        if (!root) goto done;
        if (partial) {
            if ((s = dlm_tally_write(a.counts, &t, &e))) goto done;
            if (!a.quiet)
                fprintf(stderr, "dlmsim: chains %llu..%llu of %llu sampled in %.3f s; counts in %s (verify the "
                        "merge with dlmsim verify %s --counts FILE)\n", (unsigned long long)first,
                        (unsigned long long)(first + count - 1), (unsigned long long)batch, dlm_now() - t0,
                        a.counts, a.path);
            if (a.hist) s = dlm_cli_hist_write(a.hist, &t.counts, &e);
            goto done;
        }
        if ((s = dlm_verify_check(&L.c, &a.o, &t, &r, &e))) goto done;
        r.backend = S.backend;
        r.from_counts = 0;
        r.seconds_sample = dlm_now() - t0 - r.seconds_target - r.seconds_tests;
        have_report = 1;
    } else {
        /* the no-device notice before the target's and the sampling's progress */
        char notice[256] = "";
        dlm_backend be;
        if ((s = dlm_backend_resolve(a.o.backend, &be, notice, sizeof notice, &e))) goto done;
        if (notice[0] && root) fprintf(stderr, "%s\n", notice);
        a.o.backend = be;
        if ((s = dlm_verify_run(&L.c, &L.lv, &a.o, &r, &e))) goto done;
        have_report = 1;
    }
    if (a.hist && (s = dlm_cli_hist_write(a.hist, &r.counts, &e))) goto done;
    if (a.json) dlm_verify_write_json(stdout, a.path, &r);
    else verify_text(a.path, &r);
done:
    dlm_cli_phase_end(&pt);
    dlm_cli_phase_end(&pc);
    int pass = have_report && r.pass;
    dlm_verify_report_free(&r);
    dlm_verify_sampler_close(&S);
    dlm_tally_free(&t);
    dlm_cli_unload(&L);
    if (s) return dlm_cli_fail(s, &e);
    if (stop_rc) return stop_rc;
    if (partial || !root) return 0;
    return pass ? 0 : 1;
}
