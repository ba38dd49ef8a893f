/* run.c — dlmsim run CIRCUIT [...]: the batch loop with progress, checkpoints,
 * histograms and samples; a shard's count file (--shard, --first-chain, --counts,
 * dlm_tally.h) and the ranks of mpirun (host/cli/mpi.c). */
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
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

// ---------------------------------------------------------------------------
// run

typedef struct {
    const char *path, *hist, *samples, *counts;
    dlm_mode mode;
    uint64_t chains, seed;
    dlm_cli_part part;            /* --shard, --first-chain */
    uint64_t first, count, batch; /* chains first .. first+count-1 of a batch of `batch` */
    dlm_backend backend;
    dlm_cuda_kernel kernel;       /* --cuda-kernel */
    dlm_cli_ckpt ck; /* --checkpoint, --resume, --checkpoint-every */
    int threads, json, check, direct, quiet;
} run_args;

#define C "run"

static const char *const run_head =
    "usage: dlmsim run CIRCUIT [options]   (README.md, docs/batches.md, docs/scale-out.md)\n"
    "Samples --chains chains of CIRCUIT's DLM program and prints a summary.\n";

/* Options: the parser asks this table which take a value; --help prints their lines. */
static const dlm_cli_opt run_opts[] = {
    {"--mode", 1, "  --mode cot|remask|revise|ar   the DLM program (default cot)\n"},
    {"--chains", 1, "  --chains B          chains, 1 .. 2^56 (default 1e6; e.g. 1e6)\n"},
    {"--seed", 1, "  --seed S            an integer 0 .. 2^64-1 (default 0)\n"},
    {"--backend", 1, "  --backend auto|cpu|cpu-ref|cuda|cuda-ref   (default auto: cuda with a device, else cpu)\n"},
    {"--cuda-kernel", 1, DLM_CLI_KERNEL_HELP},
    {"--threads", 1, "  --threads N         CPU threads, 0 .. 4096 (default 0: one per core)\n"},
    {"--hist", 1, "  --hist FILE         the output histogram (at most 24 output bits; - for stdout)\n"},
    {"--samples", 1, "  --samples FILE      every sample, one line each (- for stdout; under mpirun a FILE)\n"},
    {"--json", 0, "  --json              one JSON object instead of the table\n"},
    {"--check", 0, "  --check             check the compiled program before running it\n"},
    {"--direct", 0, "  --direct            evaluate the circuit directly (the reference; CPU only)\n"},
    {"--quiet", 0, "  --quiet             no progress on stderr\n"},
    {"--checkpoint", 1, "  --checkpoint FILE   save the counts every --checkpoint-every SECONDS and on SIGINT/SIGTERM\n"},
    {"--checkpoint-every", 1, "  --checkpoint-every SECONDS   (default 60)\n"},
    {"--resume", 1, "  --resume FILE       continue a checkpointed run\n"},
    {"--shard", 1, "  --shard K/N | --first-chain A   run a part of the batch (needs --counts)\n"},
    {"--first-chain", 1, NULL},
    {"--counts", 1, "  --counts FILE       write the counts of the chains run (dlmsim merge sums them)\n"},
    {"--max-memory", 1, "  --max-memory SIZE   the memory budget (e.g. 4G; also DLMSIM_MAX_MEMORY)\n"},
    {NULL, 0, NULL}};
static const char *const run_tail = "";

static int parse_run(int argc, char **argv, run_args *a)
{
    memset(a, 0, sizeof *a);
    a->mode = DLM_MODE_COT;
    a->chains = 1000000;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        int takes = dlm_cli_opt_takes(run_opts, o);
        if (takes && !v) return dlm_cli_usage(C, "option %s needs a value", o);
        if (!strcmp(o, "--mode")) {
            if (dlm_mode_parse(v, &a->mode)) return dlm_cli_bad(C, o, v, "cot, remask, revise or ar");
        } else if (!strcmp(o, "--chains")) {
            if (dlm_cli_parse_chains(v, 1, &a->chains)) return dlm_cli_bad(C, o, v, CHAINS_ALLOWED);
        } else if (dlm_cli_part_option(C, o, v, &a->part, &rc)) {
            if (rc) return rc;
        } else if (!strcmp(o, "--counts")) {
            a->counts = v;
        } else if (!strcmp(o, "--seed")) {
            if (dlm_parse_count(v, &a->seed)) return dlm_cli_bad(C, o, v, "an integer 0 .. 2^64-1");
        } else if (!strcmp(o, "--threads")) {
            if (dlm_cli_parse_threads(v, &a->threads)) return dlm_cli_bad(C, o, v, THREADS_ALLOWED);
        } else if (!strcmp(o, "--backend")) {
            if (dlm_backend_parse(v, &a->backend)) return dlm_cli_bad(C, o, v, "auto, cpu, cpu-ref, cuda or cuda-ref");
        } else if (!strcmp(o, "--hist")) {
            a->hist = v;
        } else if (!strcmp(o, "--samples")) {
            a->samples = v;
        } else if (!strcmp(o, "--json")) {
            a->json = 1;
            continue;
        } else if (!strcmp(o, "--check")) {
            a->check = 1;
            continue;
        } else if (!strcmp(o, "--direct")) {
            a->direct = 1;
            continue;
        } else if (!strcmp(o, "--quiet")) {
            a->quiet = 1;
            continue;
        } else if (dlm_cli_ckpt_option(C, o, v, &a->ck, &rc)) {
            if (rc) return rc;
        } else if (dlm_cli_kernel_option(C, o, v, &a->kernel, &rc)) {
            if (rc) return rc;
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
    if (a->samples && (a->ck.checkpoint || a->ck.resume))
        return dlm_cli_usage(C, "--samples cannot be combined with --checkpoint or --resume");
    if (a->ck.every > 0 && !a->ck.checkpoint && !a->ck.resume)
        return dlm_cli_usage(C, "--checkpoint-every needs --checkpoint FILE");
    int rc = dlm_cli_part_resolve(C, &a->part, a->chains, &a->first, &a->count, &a->batch);
    if (rc) return rc;
    if (a->counts && a->direct) return dlm_cli_usage(C, "--counts needs a DLM mode, not --direct");
    if (dlm_cli_mpi_on() && a->samples && !strcmp(a->samples, "-"))
        return dlm_cli_usage(C, "under mpirun, --samples needs a FILE, not - (every rank writes its chains "
                                   "at their place in it; docs/scale-out.md)");
    return 0;
}

static void put_bits(FILE *f, const uint8_t *s, uint32_t nout)
{
    for (uint32_t k = 0; k < nout; k++) fputc('0' + ((s[k >> 3] >> (k & 7)) & 1), f);
}

// ---------------------------------------------------------------------------
// Long batches: progress on stderr, SIGINT/SIGTERM stop at a checkpoint.

/* --samples: one line of nout characters per chain. One process writes them in chain
 * order; under mpirun every rank writes its chunks with pwrite at their offsets (chain
 * c's line at (c - first) x (nout + 1)) into the file rank 0 created at its full size. */
typedef struct {
    FILE *f;
    int fd;          /* under mpirun: the file, open on every rank (else -1) */
    int own_fd;      /* fd was opened here (the ranks but 0), not by dlm_out_open */
    uint64_t first;  /* the file's first chain */
    uint32_t nout;
    const char *path;
} sample_sink;

static dlm_status write_samples(void *ctx, uint64_t first, const uint8_t *smp, uint64_t n, dlm_err *err)
{
    sample_sink *ss = ctx;
    size_t sb = ((size_t)ss->nout + 7) / 8, line = (size_t)ss->nout + 1;
    if (ss->fd < 0) {
        for (uint64_t i = 0; i < n; i++) {
            put_bits(ss->f, smp + i * sb, ss->nout);
            fputc('\n', ss->f);
        }
        return ferror(ss->f) ? dlm_fail(err, DLM_EIO, "writing samples failed") : DLM_OK;
    }
    /* lines formatted into blocks of about 1 MiB, each written at its offset */
    uint64_t per = line < (1u << 20) ? (1u << 20) / line : 1;
    char *buf = malloc(per * line);
    if (!buf) return dlm_fail(err, DLM_ENOMEM, "out of memory for the samples' lines");
    dlm_status s = DLM_OK;
    for (uint64_t i = 0; i < n && !s; i += per) {
        uint64_t m = n - i < per ? n - i : per;
        for (uint64_t q = 0; q < m; q++) {
            const uint8_t *x = smp + (i + q) * sb;
            char *l = buf + q * line;
            for (uint32_t k = 0; k < ss->nout; k++) l[k] = (char)('0' + ((x[k >> 3] >> (k & 7)) & 1));
            l[ss->nout] = '\n';
        }
        size_t len = m * line, done = 0;
        off_t at = (off_t)((first + i - ss->first) * line);
        while (done < len) {
            ssize_t w = pwrite(ss->fd, buf + done, len - done, at + (off_t)done);
            if (w <= 0) {
                s = dlm_fail(err, DLM_EIO, "%s: writing samples failed: %s", ss->path, w ? strerror(errno) : "no space");
                break;
            }
            done += (size_t)w;
        }
    }
    free(buf);
    return s;
}

/* Under mpirun: rank 0 opens the samples' output (dlm_out_open: a temporary file beside
 * the target, renamed over it when whole) at its full size, then every rank opens that
 * temporary file. */
static dlm_status open_samples_ranks(sample_sink *ss, dlm_out *so, uint64_t count, dlm_err *e)
{
    dlm_status s = DLM_OK;
    uint64_t line = (uint64_t)ss->nout + 1;
    char tmp[sizeof so->tmp] = "";
    if (count > (uint64_t)INT64_MAX / line)
        s = dlm_fail(e, DLM_EINPUT, "%s: %llu samples of %llu bytes are more than a file holds", ss->path,
                     (unsigned long long)count, (unsigned long long)line);
    else if (dlm_cli_mpi_rank() == 0 && !(s = dlm_out_open(so, ss->path, 0, e))) {
        ss->fd = fileno(so->f);
        snprintf(tmp, sizeof tmp, "%s", so->tmp);
        if (ftruncate(ss->fd, (off_t)(count * line)))
            s = dlm_fail(e, DLM_EIO, "%s: cannot make it %llu bytes long: %s", ss->path,
                         (unsigned long long)(count * line), strerror(errno));
    }
    if (dlm_cli_mpi_any(s != DLM_OK)) return s ? s : dlm_fail(e, DLM_EIO, "rank 0 could not create %s", ss->path);
    dlm_cli_mpi_bcast(tmp, sizeof tmp);
    if (dlm_cli_mpi_rank() != 0) {
        if ((ss->fd = open(tmp, O_WRONLY)) < 0) s = dlm_fail(e, DLM_EIO, "%s: %s", tmp, strerror(errno));
        else ss->own_fd = 1;
    }
    if (dlm_cli_mpi_any(s != DLM_OK)) return s ? s : dlm_fail(e, DLM_EIO, "another rank could not open %s", tmp);
    return DLM_OK;
}

/* Under mpirun, after the job: every rank's lines are on disk (fsync, close) before rank
 * 0 renames the file over its target. */
static dlm_status close_samples_ranks(sample_sink *ss, dlm_err *e)
{
    dlm_status s = DLM_OK;
    if (ss->own_fd) {
        if (fsync(ss->fd) || close(ss->fd)) s = dlm_fail(e, DLM_EIO, "%s: write failed: %s", ss->path, strerror(errno));
        ss->own_fd = 0;
    }
    if (dlm_cli_mpi_any(s != DLM_OK)) return s ? s : dlm_fail(e, DLM_EIO, "another rank could not write %s", ss->path);
    return DLM_OK;
}

int dlm_cli_run(int argc, char **argv, uint64_t max_bytes)
{
    if (dlm_cli_help_opts(run_head, run_opts, run_tail, argc, argv)) return 0;
    run_args a;
    int rc = parse_run(argc, argv, &a);
    if (rc) return rc;
    dlm_err e;
    /* every output path is checked before the circuit is read (dlm_out_check) */
    /* under mpirun, --checkpoint and --resume are prefixes: this rank writes PREFIX.rankR */
    char rankfile[4200] = "";
    const char *prefix = a.ck.checkpoint ? a.ck.checkpoint : a.ck.resume;
    if (dlm_cli_mpi_on() && prefix) snprintf(rankfile, sizeof rankfile, "%s.rank%d", prefix, dlm_cli_mpi_rank());
    const char *outs[5] = {a.samples, a.hist, rankfile[0] ? rankfile : a.ck.checkpoint, rankfile[0] ? NULL : a.ck.resume,
                           a.counts};
    char resolved[4096];
    for (int i = 0; i < 5; i++)
        if (outs[i] && (i >= 2 || strcmp(outs[i], "-")) && dlm_out_check(outs[i], resolved, sizeof resolved, &e))
            return dlm_cli_fail(DLM_EINPUT, &e);
    dlm_cli_loaded L;
    dlm_status s = dlm_cli_load(a.path, max_bytes, a.quiet || dlm_cli_mpi_rank() != 0, &L, &e);
    if (s) return dlm_cli_fail(s, &e);
    dlm_program p;
    dlm_counts k;
    memset(&k, 0, sizeof k);
    sample_sink ss = {NULL, -1, 0, a.first, L.c.nout, a.samples};
    dlm_out so = {.f = NULL}, ho = {.f = NULL}; /* --samples and --hist, replaced when whole */
    int want_hist = a.hist != NULL || (a.counts && L.c.nout <= DLM_HIST_MAX_BITS), stopped = 0;
    dlm_backend be = DLM_BACKEND_CPU;
    dlm_slot_plan plan;
    memset(&plan, 0, sizeof plan);
    dlm_bits_plan *bits = NULL;
    memset(&p, 0, sizeof p);
    dlm_jit_cache *jit = NULL; /* the JIT kernels of the warm-up and the batch */
    /* Everything that can be refused is refused before any notice or any work. */
    if (a.hist && L.c.nout > DLM_HIST_MAX_BITS) {
        s = dlm_fail(&e, DLM_EINPUT, "--hist needs at most %d output bits, %s has %u", DLM_HIST_MAX_BITS,
                     a.path, L.c.nout);
        goto done;
    }
    /* SIGINT/SIGTERM stop the run between chunks: with a checkpoint its counts are kept;
     * without one the outputs are abandoned, so what was at their paths stays as it was.
     * Caught before any output is opened, so none that arrives once one exists is lost. */
    if (a.ck.checkpoint || a.ck.resume || !dlm_cli_mpi_on()) dlm_cli_catch_stop();
    if (a.samples && dlm_cli_mpi_on()) {
        if ((s = open_samples_ranks(&ss, &so, a.count, &e))) goto done;
    } else if (a.samples) {
        if ((s = dlm_out_open(&so, a.samples, 0, &e))) goto done;
        ss.f = so.f;
    }
    const int root = dlm_cli_mpi_rank() == 0; /* under mpirun only rank 0 writes and prints */
    if (a.direct) { /* the reference: no DLM program, the circuit evaluated directly */
        memset(&p, 0, sizeof p);
        p.nout = L.c.nout;
        if (a.backend == DLM_BACKEND_CUDA || a.backend == DLM_BACKEND_CUDA_REF) {
            s = dlm_fail(&e, DLM_EINPUT, "--direct runs on the CPU only");
            goto done;
        }
        if ((rc = dlm_cli_kernel_check(C, a.kernel, be))) goto done;
    } else {
        /* the no-device notice, then the compile's progress (a large circuit's takes long) */
        char notice[256] = "";
        if ((s = dlm_backend_resolve(a.backend, &be, notice, sizeof notice, &e))) goto done;
        if (notice[0] && root) fprintf(stderr, "%s\n", notice);
        if ((rc = dlm_cli_kernel_check(C, a.kernel, be))) goto done;
        /* the bit-sliced engines' slot plan, made once and, like compiling, not timed:
         * streamed from the compiler (the per-round program is never held) unless the
         * checker needs the program */
        dlm_cli_progress_state pc = dlm_cli_phase("compile", "", a.quiet || !root);
        if (dlm_backend_uses_plan(be) && !a.check)
            s = dlm_compile_plan_progress(&L.c, &L.lv, a.mode, dlm_cli_progress, &pc, &p, &plan, &e);
        else
            s = dlm_compile_progress(&L.c, &L.lv, a.mode, dlm_cli_progress, &pc, &p, &e);
        dlm_cli_phase_end(&pc);
        if (s) goto done;
        if (a.check && (s = dlm_program_check(&p, &L.lv, &e))) goto done;
        if (a.check && dlm_backend_uses_plan(be) && (s = dlm_slot_plan_build(&p, &plan, &e))) goto done;
    }
    /* A shard or --first-chain runs chains a.first .. a.first+a.count-1. */
    dlm_batch_id id = {dlm_circuit_hash(&L.c), a.direct ? DLM_MODE_COT : a.mode, a.seed,
                       a.first + a.count, p.nout, want_hist};
    uint64_t next = a.first;
    if (a.ck.resume && !dlm_cli_mpi_on()) {
        if ((s = dlm_checkpoint_read(a.ck.resume, &id, &next, &k, max_bytes, &e))) goto done;
    } else if ((s = dlm_counts_init(&k, p.nout, want_hist, &e))) {
        goto done;
    }
    dlm_cli_progress_state ps = {isatty(2), a.quiet || !root, 0, 0, NULL, NULL, 0};
    dlm_batch_opts bo;
    memset(&bo, 0, sizeof bo);
    bo.backend = be;
    bo.threads = a.threads;
    bo.stop = dlm_cli_stop_flag();
    bo.progress = dlm_cli_progress;
    bo.progress_ctx = &ps;
    bo.direct = a.direct ? &L.c : NULL;
    bo.sink = a.samples ? write_samples : NULL;
    bo.sink_ctx = &ss;
    bo.checkpoint = a.ck.checkpoint ? a.ck.checkpoint : a.ck.resume;
    bo.checkpoint_every = a.ck.every;
    if (!a.direct && dlm_backend_uses_plan(be)) bo.plan = &plan;
    /* the CPU engine's form of it, likewise made once and not timed */
    if (!a.direct && be == DLM_BACKEND_CPU && (s = dlm_bits_plan_build(&p, &plan, &bits, &e))) goto done;
    bo.bits = bits;
    /* the cuda backend's kernel, for the chains this process runs (dlm_cuda_kernel_resolve) */
    const dlm_cuda_kernel kern = be == DLM_BACKEND_CUDA && !a.direct
        ? dlm_cuda_kernel_resolve(a.kernel, &plan, p.nout, a.first + a.count - next) : a.kernel;
    if (kern == DLM_CUDA_KERNEL_JIT &&
        ((s = dlm_jit_cache_new(&jit, &e)) || (s = dlm_jit_cache_keep_in(jit, dlm_cli_jit_dir(), &e))))
        goto done;
    bo.cuda_kernel = kern;
    bo.jit = jit;
    /* under mpirun: this rank's GPU, by its node-local rank, before any CUDA call */
    int gpu = dlm_cli_mpi_gpu(be, &e);
    if (gpu == -2) {
        s = DLM_ECUDA;
        goto done;
    }
    /* A CUDA run first creates the context and loads the kernels (compiles the JIT
     * kernel the run takes, with samples and histogram if it writes them): one untimed
     * warm-up call of up to 4096 chains, into counts and samples that are thrown away
     * (those reported are of the timed run alone), so "seconds" is the sampling. */
    double warm = 0;
    if (be == DLM_BACKEND_CUDA || be == DLM_BACKEND_CUDA_REF) {
        dlm_counts wk;
        dlm_run_opts wo;
        memset(&wo, 0, sizeof wo);
        wo.chains = a.chains < 4096 ? a.chains : 4096;
        wo.seed = a.seed;
        wo.plan = bo.plan;
        wo.want_hist = want_hist;
        wo.cuda_kernel = kern;
        wo.jit = jit;
        const size_t sb = dlm_sample_bytes(&p);
        uint8_t *wsmp = a.samples && sb ? dlm_malloc(wo.chains, sb) : NULL;
        wo.samples = wsmp;
        double w0 = dlm_now();
        if (a.samples && sb && !wsmp) s = dlm_fail(&e, DLM_ENOMEM, "out of memory for the warm-up's samples");
        else if (!(s = dlm_counts_init(&wk, p.nout, want_hist, &e))) {
            s = wo.chains ? dlm_engine_run(be, &p, &wo, &wk, &e) : DLM_OK;
            dlm_counts_free(&wk);
        }
        free(wsmp);
        if (s) goto done;
        warm = dlm_now() - w0;
    }
    uint64_t first = next;
    double t0 = dlm_now();
    if (dlm_cli_mpi_on()) {
        dlm_cli_mpi_job job = {&p, &id, bo, a.first, a.count, a.batch,
                               dlm_mode_name(a.mode), bo.checkpoint, a.ck.resume, a.ck.every > 0 ? a.ck.every : 60,
                               dlm_cli_stop_flag(), NULL, NULL, NULL, NULL, max_bytes};
        uint64_t mine = 0;
        s = dlm_cli_mpi_run(&job, &k, &mine, &stopped, &e);
        if (!s && !stopped && a.samples) s = close_samples_ranks(&ss, &e);
        next = id.chains;
        if (!s && !a.quiet) dlm_cli_mpi_ran("chains", mine, gpu);
        if (!s && stopped) {
            if (root)
                fprintf(stderr, "dlmsim: stopped by signal %d; the counts of every rank are in %s.rank* (continue "
                        "with mpirun ... --resume %s)\n", (int)*bo.stop, bo.checkpoint, bo.checkpoint);
            rc = 128 + (int)(*bo.stop ? *bo.stop : SIGTERM);
            goto done;
        }
        if (!s && !root) goto done;
    } else {
        s = dlm_batch_run(&p, &id, &bo, &next, &k, &stopped, &e);
    }
    double secs = dlm_now() - t0;
    if (s) goto done;
    if (stopped && !bo.checkpoint) {
        fprintf(stderr, "dlmsim: stopped by signal %d at chain %llu of %llu; nothing written (--checkpoint FILE "
                "keeps the counts of a stopped run)\n", (int)*bo.stop, (unsigned long long)next,
                (unsigned long long)(a.first + a.count));
        rc = 128 + (int)*bo.stop;
        goto done;
    }
    if (stopped) {
        fprintf(stderr, "dlmsim: stopped by signal %d at chain %llu of %llu; counts saved in %s "
                "(continue with --resume %s)\n", (int)*bo.stop, (unsigned long long)next,
                (unsigned long long)(a.first + a.count), bo.checkpoint, bo.checkpoint);
        rc = 128 + (int)*bo.stop;
        goto done;
    }
    if (so.f && dlm_out_close(&so)) {
        s = dlm_fail(&e, DLM_EIO, "%s: write failed: %s", a.samples, strerror(errno));
        goto done;
    }
    /* --hist is opened only now, when it is written (its path was checked up front) */
    if (a.hist && root) {
        if ((s = dlm_out_open(&ho, a.hist, 0, &e))) goto done;
        dlm_cli_hist_print(ho.f, &k);
        if (dlm_out_close(&ho)) {
            s = dlm_fail(&e, DLM_EIO, "%s: write failed: %s", a.hist, strerror(errno));
            goto done;
        }
    }
    if (a.counts && root) {
        dlm_tally t;
        memset(&t, 0, sizeof t);
        t.circuit_hash = id.circuit_hash;
        snprintf(t.mode, sizeof t.mode, "%s", dlm_mode_name(a.mode));
        t.seed = a.seed;
        t.batch = a.batch;
        t.counts = k;
        if (!(s = dlm_ranges_add(&t.ranges, a.first, a.first + a.count, &e)))
            s = dlm_tally_write(a.counts, &t, &e);
        dlm_ranges_free(&t.ranges);
        if (s) goto done;
    }
    double rate = secs > 0 ? (double)(a.first + a.count - first) / secs : 0;
    const char *bname = dlm_backend_name(be);
    uint64_t jit_n = 0, jit_loaded = 0;
    double jit_s = 0;
    dlm_jit_cache_stats(jit, &jit_n, &jit_s, &jit_loaded);
    char kinfo[160] = ""; /* the cuda backend's kernel */
    if (be == DLM_BACKEND_CUDA && a.json)
        snprintf(kinfo, sizeof kinfo, ",\"cuda_kernel\":\"%s\",\"jit_compiled\":%llu,\"jit_loaded\":%llu,"
                 "\"jit_compile_seconds\":%.3f", dlm_cuda_kernel_name(kern), (unsigned long long)jit_n,
                 (unsigned long long)jit_loaded, jit_s);
    else if (be == DLM_BACKEND_CUDA)
        snprintf(kinfo, sizeof kinfo, "cuda kernel     %s%s\n", dlm_cuda_kernel_name(kern),
                 kern == DLM_CUDA_KERNEL_JIT ? " (compiled in the warm-up, not timed)" : "");
    if (a.json) {
        printf("{\"circuit\":");
        dlm_json_str(stdout, a.path);
        printf(",\"mode\":\"%s\",\"backend\":\"%s\",\"chains\":%llu,\"seed\":%llu,\"rounds\":%u,"
               "\"L\":%u,\"depth\":%u,\"width\":%u,\"size\":%llu,\"coins\":%u,\"outputs\":%u,"
               "\"bytes_per_chain\":%u,\"bytes_tokens\":%llu,\"bytes_device_measured\":%llu,"
               "\"warmup_seconds\":%.6f,\"seconds\":%.6f,\"samples_per_s\":%.6g,\"odd_parity\":%llu,"
               "\"checked\":%s%s}\n",
               a.direct ? "direct" : dlm_mode_name(a.mode), bname, (unsigned long long)a.count,
               (unsigned long long)a.seed, p.rounds, p.L, L.lv.depth, L.lv.width,
               (unsigned long long)L.lv.size, L.c.ncoins, L.c.nout, p.L,
               (unsigned long long)k.bytes_tokens, (unsigned long long)k.bytes_device_measured, warm, secs,
               rate, (unsigned long long)k.odd_parity, a.check ? "true" : "false", kinfo);
    } else {
        printf("circuit         %s\nmode            %s\nbackend         %s\nchains          %llu\n"
               "seed            %llu\nrounds          %u\nL               %u\nbytes/chain     %u\n"
               "token bytes     %llu\ntime            %.3f s\nsamples/s       %.4g\n"
               "odd parity      %llu\n",
               a.path, a.direct ? "direct" : dlm_mode_name(a.mode), bname, (unsigned long long)a.count,
               (unsigned long long)a.seed, p.rounds, p.L, p.L, (unsigned long long)k.bytes_tokens,
               secs, rate, (unsigned long long)k.odd_parity);
        fputs(kinfo, stdout);
        if (a.check) printf("program check   passed\n");
    }
done:
    dlm_jit_cache_free(jit);
    dlm_bits_plan_free(bits);
    dlm_slot_plan_free(&plan);
    dlm_program_free(&p);
    dlm_out_abort(&ho); /* a failed or stopped run leaves what was at these paths */
    dlm_out_abort(&so);
    if (ss.own_fd) close(ss.fd);
    dlm_counts_free(&k);
    dlm_cli_unload(&L);
    return s ? dlm_cli_fail(s, &e) : rc;
}
