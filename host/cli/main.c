/* cli.c — the dlmsim command line: the only place that prints and exits.
 *
 *   dlmsim info CIRCUIT [--json]
 *   dlmsim run CIRCUIT [--mode M] [--chains B] [--seed S]
 *                      [--backend auto|cpu|cpu-ref|cuda|cuda-ref] [--threads N]
 *                      [--hist FILE] [--samples FILE] [--json] [--check]
 *   dlmsim export CIRCUIT --format aag|aig|blif -o FILE
 *   dlmsim verify CIRCUIT [--mode M] [--chains B] [--seed S] [--alpha A]
 *                         [--target auto|exact|reference]
 *                         [--backend auto|cpu|cpu-ref|cuda|cuda-ref] [--threads N]
 *                         [--inject-bias K:EPS] [--json]
 *   dlmsim regress SUITE [...]           (host/cli/regress.c, docs/regress.md)
 *   dlmsim sample LAW [...], dlmsim verify LAW [...]  (host/cli/sample.c, docs/oracle.md)
 *
 * Exit codes: 0 success, 1 a check failed, 2 bad input or usage.
 */
#include "dlm_batch.h"
#include "dlm_circuit.h"
#include "dlm_cli.h"
#include "dlm_engine.h"
#include "dlm_eval.h"
#include "dlm_info.h"
#include "dlm_io.h"
#include "dlm_level.h"
#include "dlm_program.h"
#include "dlm_verify.h"

#include <gsl/gsl_errno.h>
#include <math.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const usage_text =
    "usage:\n"
    "  dlmsim info CIRCUIT [--json]\n"
    "  dlmsim run CIRCUIT [--mode cot|remask|revise|ar] [--chains B] [--seed S]\n"
    "             [--backend auto|cpu|cpu-ref|cuda|cuda-ref] [--threads N] [--hist FILE]\n"
    "             [--samples FILE] [--json] [--check] [--direct] [--quiet] [--checkpoint FILE]\n"
    "             [--checkpoint-every SECONDS] [--resume FILE]\n"
    "  dlmsim export CIRCUIT --format aag|aig|blif -o FILE\n"
    "  dlmsim verify CIRCUIT [--mode cot|remask|revise|ar] [--chains B] [--seed S]\n"
    "             [--alpha A] [--target auto|exact|reference]\n"
    "             [--backend auto|cpu|cpu-ref|cuda|cuda-ref] [--threads N] [--inject-bias K:EPS]\n"
    "             [--json] [--quiet]\n"
    "             (--inject-bias is a testing aid: coin K gets P(1) = 1/2 + EPS; docs/verify.md)\n"
    "  dlmsim sample LAW [--policy NAME] [policy options] [--chains B] [--seed S]\n"
    "             [--backend auto|cpu|cuda] [--threads N] [--hist FILE] [--exact] [--verify]\n"
    "             [--alpha A] [--json]   (the oracle sampler; `dlmsim sample --help`, docs/oracle.md)\n"
    "  dlmsim verify LAW [sample's options]   (= sample --verify)\n"
    "  dlmsim kl LAW [--schedules LIST] [--steps LIST] [--csv F] [--plot F.png] [--json]\n"
    "             [--chains N] [--seed S] [--threads N] [--estimate]   (docs/kl.md)\n"
    "  dlmsim regress SUITE [--backend auto|cpu|cpu-ref|cuda|cuda-ref] [--threads N]\n"
    "             [--alpha A] [--json] [--junit FILE] [--update] [--quiet]\n"
    "Backends: cpu and cuda are the bit-sliced engines, cpu-ref and cuda-ref the byte\n"
    "engines they are tested against bit for bit; auto is cuda with a device, else cpu.\n"
    "Every command takes --max-memory SIZE (e.g. 4G): the memory budget of each data\n"
    "structure, checked before allocating (default: half the machine's memory).\n"
    "CIRCUIT is a .aag, .aig or .blif file or a generator spec gen:NAME:ARGS\n"
    "(docs/formats.md, docs/generators.md).\n";

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "dlmsim: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", usage_text);
    return 2;
}

static int fail(dlm_status s, const dlm_err *e)
{
    fprintf(stderr, "dlmsim: %s\n", e->msg);
    return dlm_exit_code(s);
}

// ---------------------------------------------------------------------------
// Loading and levelizing, shared by the commands.

typedef struct {
    dlm_circuit c;
    dlm_levels lv;
} loaded;

static dlm_status load(const char *path, loaded *L, dlm_err *e)
{
    memset(L, 0, sizeof *L);
    dlm_status s = dlm_circuit_load(&L->c, path, e);
    if (s) return s;
    s = dlm_levelize(&L->c, &L->lv, e);
    if (s) dlm_circuit_free(&L->c);
    return s;
}

static void unload(loaded *L)
{
    dlm_levels_free(&L->lv);
    dlm_circuit_free(&L->c);
}

// ---------------------------------------------------------------------------
// info

static int cmd_info(int argc, char **argv)
{
    const char *path = NULL;
    int json = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (argv[i][0] == '-' && argv[i][1]) return usage_error("info: unknown option %s", argv[i]);
        else if (!path) path = argv[i];
        else return usage_error("info: unexpected argument %s", argv[i]);
    }
    if (!path) return usage_error("info: missing CIRCUIT%s", "");
    dlm_err e;
    loaded L;
    dlm_status s = load(path, &L, &e);
    if (s) return fail(s, &e);
    const dlm_levels *lv = &L.lv;
    dlm_info in;
    dlm_info_of(&L.c, lv, &in);
    if (json) {
        dlm_info_write_json(stdout, path, &L.c, lv, &in);
    } else {
        printf("circuit   %s\n", path);
        printf("coins     %u\noutputs   %u\ngates     %u (", L.c.ncoins, L.c.nout, lv->gates);
        int first = 1;
        for (int t = DLM_G_AND; t < DLM_G_NTYPES; t++)
            if (lv->gates_by_type[t]) {
                printf("%s%s %u", first ? "" : ", ", dlm_gate_type_name((dlm_gate_type)t), lv->gates_by_type[t]);
                first = 0;
            }
        printf(")\nsize N    %llu\ndepth d   %u\nwidth w   %u\nmax fanin %u\ndead      %u\n",
               (unsigned long long)lv->size, lv->depth, lv->width, lv->max_fanin, lv->dead);
        printf("layers    ");
        uint32_t show = lv->nlayers <= 24 ? lv->nlayers : 20;
        for (uint32_t r = 0; r < show; r++) printf("%s%u", r ? " " : "", lv->layer_count[r]);
        if (show < lv->nlayers) printf(" ... (%u layers)", lv->nlayers);
        printf("\nmode      rounds      L           slots       counter     fan-in      values\n");
        for (int m = 0; m < DLM_NMODES; m++) {
            const dlm_info_mode *im = &in.mode[m];
            if (im->ok)
                printf("%-9s %-11u %-11u %-11u %-11u %-11u %u\n", dlm_mode_name((dlm_mode)m),
                       im->rounds, im->L, im->slots, im->counter_bits, im->max_fanin, im->value_slots);
            else printf("%-9s (does not fit in memory)\n", dlm_mode_name((dlm_mode)m));
        }
    }
    unload(&L);
    return 0;
}

// ---------------------------------------------------------------------------
// run

typedef struct {
    const char *path, *hist, *samples, *checkpoint, *resume;
    dlm_mode mode;
    uint64_t chains, seed;
    dlm_backend backend;
    double checkpoint_every;
    int threads, json, check, direct, quiet;
} run_args;

static int parse_run(int argc, char **argv, run_args *a)
{
    memset(a, 0, sizeof *a);
    a->mode = DLM_MODE_COT;
    a->chains = 1000000;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(o, "--mode") || !strcmp(o, "--chains") || !strcmp(o, "--seed") ||
                    !strcmp(o, "--backend") || !strcmp(o, "--hist") || !strcmp(o, "--samples") ||
                    !strcmp(o, "--threads") || !strcmp(o, "--checkpoint") ||
                    !strcmp(o, "--checkpoint-every") || !strcmp(o, "--resume");
        if (takes && !v) return usage_error("option %s needs a value", o);
        if (!strcmp(o, "--mode")) {
            if (dlm_mode_parse(v, &a->mode)) return usage_error("unknown mode %s (cot, remask, revise, ar)", v);
        } else if (!strcmp(o, "--chains")) {
            if (dlm_parse_count(v, &a->chains) || a->chains == 0) return usage_error("bad --chains %s", v);
        } else if (!strcmp(o, "--seed")) {
            if (dlm_parse_count(v, &a->seed)) return usage_error("bad --seed %s", v);
        } else if (!strcmp(o, "--threads")) {
            if (dlm_cli_parse_threads(v, &a->threads)) return usage_error("bad --threads %s", v);
        } else if (!strcmp(o, "--backend")) {
            if (dlm_backend_parse(v, &a->backend)) return usage_error("unknown backend %s (auto, cpu, cpu-ref, cuda, cuda-ref)", v);
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
        } else if (!strcmp(o, "--checkpoint")) {
            a->checkpoint = v;
        } else if (!strcmp(o, "--resume")) {
            a->resume = v;
        } else if (!strcmp(o, "--checkpoint-every")) {
            char *end;
            errno = 0;
            a->checkpoint_every = strtod(v, &end);
            if (*end || errno || !(a->checkpoint_every > 0) || a->checkpoint_every > 1e9)
                return usage_error("bad --checkpoint-every %s (seconds > 0)", v);
        } else if (o[0] == '-' && o[1]) {
            return usage_error("unknown option %s", o);
        } else if (!a->path) {
            a->path = o;
            continue;
        } else {
            return usage_error("unexpected argument %s", o);
        }
        i++;
    }
    if (!a->path) return usage_error("run: missing CIRCUIT%s", "");
    if (a->samples && (a->checkpoint || a->resume))
        return usage_error("run: --samples cannot be combined with --checkpoint or --resume%s", "");
    if (a->checkpoint_every > 0 && !a->checkpoint && !a->resume)
        return usage_error("run: --checkpoint-every needs --checkpoint FILE%s", "");
    return 0;
}

static void put_bits(FILE *f, const uint8_t *s, uint32_t nout)
{
    for (uint32_t k = 0; k < nout; k++) fputc('0' + ((s[k >> 3] >> (k & 7)) & 1), f);
}

// ---------------------------------------------------------------------------
// Long batches: progress on stderr, SIGINT/SIGTERM stop at a checkpoint.

/* The CLI's only mutable global: the signal that asked a checkpointed run to stop. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

typedef struct {
    int tty, quiet, drawn;
    double last;
} progress_state;

/* A bar with rate and ETA on a terminal (redrawn at most 10 times a second), a plain
 * line every 10 s otherwise, nothing with --quiet. */
static void show_progress(void *ctx, uint64_t done, uint64_t total, double secs)
{
    progress_state *ps = ctx;
    if (ps->quiet) return;
    int final = done >= total;
    if (!final && secs - ps->last < (ps->tty ? 0.1 : 10.0)) return;
    ps->last = secs;
    double frac = total ? (double)done / (double)total : 1, rate = secs > 0 ? (double)done / secs : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    if (ps->tty) {
        char bar[31];
        int fill = (int)(frac * 30);
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
        bar[30] = 0;
        fprintf(stderr, "\r[%s] %5.1f%%  %.3g chains/s  ETA %.0f s  ", bar, 100 * frac, rate, eta);
        ps->drawn = 1;
        if (final) fputc('\n', stderr);
    } else {
        fprintf(stderr, "dlmsim: %llu/%llu chains (%.1f%%), %.3g chains/s, ETA %.0f s\n",
                (unsigned long long)done, (unsigned long long)total, 100 * frac, rate, eta);
    }
    fflush(stderr);
}

typedef struct {
    FILE *f;
    uint32_t nout;
} sample_sink;

static dlm_status write_samples(void *ctx, const uint8_t *smp, uint64_t n, dlm_err *err)
{
    sample_sink *ss = ctx;
    size_t sb = ((size_t)ss->nout + 7) / 8;
    for (uint64_t i = 0; i < n; i++) {
        put_bits(ss->f, smp + i * sb, ss->nout);
        fputc('\n', ss->f);
    }
    return ferror(ss->f) ? dlm_fail(err, DLM_EIO, "writing samples failed") : DLM_OK;
}

static int cmd_run(int argc, char **argv)
{
    run_args a;
    int rc = parse_run(argc, argv, &a);
    if (rc) return rc;
    dlm_err e;
    loaded L;
    dlm_status s = load(a.path, &L, &e);
    if (s) return fail(s, &e);
    dlm_program p;
    dlm_counts k;
    memset(&k, 0, sizeof k);
    sample_sink ss = {NULL, L.c.nout};
    FILE *fh = NULL;
    int want_hist = a.hist != NULL, stopped = 0;
    dlm_backend be = DLM_BACKEND_CPU;
    dlm_slot_plan plan;
    memset(&plan, 0, sizeof plan);
    memset(&p, 0, sizeof p);
    /* Everything that can be refused is refused before any notice or any work. */
    if (want_hist && L.c.nout > DLM_HIST_MAX_BITS) {
        s = dlm_fail(&e, DLM_EINPUT, "--hist needs at most %d output bits, %s has %u", DLM_HIST_MAX_BITS,
                     a.path, L.c.nout);
        goto done;
    }
    if (a.samples && !(ss.f = fopen(a.samples, "w"))) {
        s = dlm_fail(&e, DLM_EIO, "%s: %s", a.samples, strerror(errno));
        goto done;
    }
    if (a.hist && !(fh = fopen(a.hist, "w"))) {
        s = dlm_fail(&e, DLM_EIO, "%s: %s", a.hist, strerror(errno));
        goto done;
    }
    if (a.direct) { /* the reference: no DLM program, the circuit evaluated directly */
        memset(&p, 0, sizeof p);
        p.nout = L.c.nout;
        if (a.backend == DLM_BACKEND_CUDA || a.backend == DLM_BACKEND_CUDA_REF) {
            s = dlm_fail(&e, DLM_EINPUT, "--direct runs on the CPU only");
            goto done;
        }
    } else {
        if ((s = dlm_compile(&L.c, &L.lv, a.mode, &p, &e))) goto done;
        if (a.check && (s = dlm_program_check(&p, &L.lv, &e))) goto done;
        char notice[256] = "";
        if ((s = dlm_backend_resolve(a.backend, &be, notice, sizeof notice, &e))) goto done;
        if (notice[0]) fprintf(stderr, "%s\n", notice);
    }
    dlm_batch_id id = {dlm_circuit_hash(&L.c), a.direct ? DLM_MODE_COT : a.mode, a.seed, a.chains,
                       p.nout, want_hist};
    uint64_t next = 0;
    if (a.resume) {
        if ((s = dlm_checkpoint_read(a.resume, &id, &next, &k, &e))) goto done;
    } else if ((s = dlm_counts_init(&k, p.nout, want_hist, &e))) {
        goto done;
    }
    progress_state ps = {isatty(2), a.quiet, 0, 0};
    dlm_batch_opts bo;
    memset(&bo, 0, sizeof bo);
    bo.backend = be;
    bo.threads = a.threads;
    bo.stop = &stop_signal;
    bo.progress = show_progress;
    bo.progress_ctx = &ps;
    bo.direct = a.direct ? &L.c : NULL;
    bo.sink = ss.f ? write_samples : NULL;
    bo.sink_ctx = &ss;
    bo.checkpoint = a.checkpoint ? a.checkpoint : a.resume;
    bo.checkpoint_every = a.checkpoint_every;
    /* the bit-sliced engines' slot plan, made once and, like compiling, not timed */
    if (!a.direct && dlm_backend_uses_plan(be)) {
        if ((s = dlm_slot_plan_build(&p, &plan, &e))) goto done;
        bo.plan = &plan;
    }
    if (bo.checkpoint) {
        signal(SIGINT, on_stop_signal);
        signal(SIGTERM, on_stop_signal);
    }
    uint64_t first = next;
    double t0 = dlm_now();
    s = dlm_batch_run(&p, &id, &bo, &next, &k, &stopped, &e);
    double secs = dlm_now() - t0;
    if (s) goto done;
    if (stopped) {
        fprintf(stderr, "dlmsim: stopped by signal %d at chain %llu of %llu; counts saved in %s "
                "(continue with --resume %s)\n", (int)stop_signal, (unsigned long long)next,
                (unsigned long long)a.chains, bo.checkpoint, bo.checkpoint);
        rc = 128 + (int)stop_signal;
        goto done;
    }
    if (ss.f) {
        int bad = fclose(ss.f) != 0;
        ss.f = NULL;
        if (bad) {
            s = dlm_fail(&e, DLM_EIO, "%s: write failed", a.samples);
            goto done;
        }
    }
    if (fh) {
        uint8_t bits[4];
        for (uint64_t i = 0; i < (UINT64_C(1) << p.nout); i++) {
            if (!k.hist[i]) continue;
            for (int b = 0; b < 4; b++) bits[b] = (uint8_t)(i >> (8 * b));
            put_bits(fh, bits, p.nout);
            fprintf(fh, "\t%llu\n", (unsigned long long)k.hist[i]);
        }
        int bad = fclose(fh) != 0;
        fh = NULL;
        if (bad) {
            s = dlm_fail(&e, DLM_EIO, "%s: write failed", a.hist);
            goto done;
        }
    }
    double rate = secs > 0 ? (double)(a.chains - first) / secs : 0;
    const char *bname = dlm_backend_name(be);
    if (a.json) {
        printf("{\"circuit\":");
        dlm_json_str(stdout, a.path);
        printf(",\"mode\":\"%s\",\"backend\":\"%s\",\"chains\":%llu,\"seed\":%llu,\"rounds\":%u,"
               "\"L\":%u,\"depth\":%u,\"width\":%u,\"size\":%llu,\"coins\":%u,\"outputs\":%u,"
               "\"bytes_per_chain\":%u,\"bytes_tokens\":%llu,\"bytes_device_measured\":%llu,"
               "\"seconds\":%.6f,\"samples_per_s\":%.6g,\"odd_parity\":%llu,\"checked\":%s}\n",
               a.direct ? "direct" : dlm_mode_name(a.mode), bname, (unsigned long long)a.chains,
               (unsigned long long)a.seed, p.rounds, p.L, L.lv.depth, L.lv.width,
               (unsigned long long)L.lv.size, L.c.ncoins, L.c.nout, p.L,
               (unsigned long long)k.bytes_tokens, (unsigned long long)k.bytes_device_measured, secs,
               rate, (unsigned long long)k.odd_parity, a.check ? "true" : "false");
    } else {
        printf("circuit         %s\nmode            %s\nbackend         %s\nchains          %llu\n"
               "seed            %llu\nrounds          %u\nL               %u\nbytes/chain     %u\n"
               "token bytes     %llu\ntime            %.3f s\nsamples/s       %.4g\n"
               "odd parity      %llu\n",
               a.path, a.direct ? "direct" : dlm_mode_name(a.mode), bname, (unsigned long long)a.chains,
               (unsigned long long)a.seed, p.rounds, p.L, p.L, (unsigned long long)k.bytes_tokens,
               secs, rate, (unsigned long long)k.odd_parity);
        if (a.check) printf("program check   passed\n");
    }
done:
    dlm_slot_plan_free(&plan);
    dlm_program_free(&p);
    if (fh) fclose(fh);
    if (ss.f) fclose(ss.f);
    dlm_counts_free(&k);
    unload(&L);
    return s ? fail(s, &e) : rc;
}

// ---------------------------------------------------------------------------
// export

static int cmd_export(int argc, char **argv)
{
    const char *path = NULL, *fmt = NULL, *out = NULL;
    for (int i = 0; i < argc; i++) {
        if ((!strcmp(argv[i], "--format") || !strcmp(argv[i], "-o")) && i + 1 >= argc)
            return usage_error("option %s needs a value", argv[i]);
        if (!strcmp(argv[i], "--format")) fmt = argv[++i];
        else if (!strcmp(argv[i], "-o")) out = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1]) return usage_error("export: unknown option %s", argv[i]);
        else if (!path) path = argv[i];
        else return usage_error("export: unexpected argument %s", argv[i]);
    }
    if (!path || !fmt || !out) return usage_error("export: needs CIRCUIT, --format and -o%s", "");
    if (strcmp(fmt, "aag") && strcmp(fmt, "aig") && strcmp(fmt, "blif"))
        return usage_error("export: unknown format %s (aag, aig, blif)", fmt);
    dlm_err e;
    dlm_circuit c;
    dlm_status s = dlm_circuit_load(&c, path, &e);
    if (s) return fail(s, &e);
    if (!strcmp(fmt, "blif")) s = dlm_blif_write(&c, out, &e);
    else s = dlm_aiger_write(&c, out, !strcmp(fmt, "aig"), &e);
    dlm_circuit_free(&c);
    return s ? fail(s, &e) : 0;
}

// ---------------------------------------------------------------------------
// verify (docs/verify.md; the JSON object is docs/report-format.md)

typedef struct {
    const char *path;
    dlm_verify_opts o;
    int json, quiet;
} verify_args;

static int parse_verify(int argc, char **argv, verify_args *a)
{
    memset(a, 0, sizeof *a);
    dlm_verify_opts_default(&a->o);
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(o, "--mode") || !strcmp(o, "--chains") || !strcmp(o, "--seed") ||
                    !strcmp(o, "--backend") || !strcmp(o, "--threads") || !strcmp(o, "--alpha") ||
                    !strcmp(o, "--target") || !strcmp(o, "--inject-bias");
        if (takes && !v) return usage_error("option %s needs a value", o);
        if (!strcmp(o, "--mode")) {
            if (dlm_mode_parse(v, &a->o.mode)) return usage_error("unknown mode %s (cot, remask, revise, ar)", v);
        } else if (!strcmp(o, "--chains")) {
            if (dlm_parse_count(v, &a->o.chains) || a->o.chains == 0) return usage_error("bad --chains %s", v);
        } else if (!strcmp(o, "--seed")) {
            if (dlm_parse_count(v, &a->o.seed)) return usage_error("bad --seed %s", v);
        } else if (!strcmp(o, "--threads")) {
            if (dlm_cli_parse_threads(v, &a->o.threads)) return usage_error("bad --threads %s", v);
        } else if (!strcmp(o, "--alpha")) {
            if (dlm_cli_parse_alpha(v, &a->o.alpha)) return usage_error("bad --alpha %s (a number in (0, 1))", v);
        } else if (!strcmp(o, "--target")) {
            if (dlm_target_want_parse(v, &a->o.target))
                return usage_error("unknown target %s (auto, exact, reference)", v);
        } else if (!strcmp(o, "--backend")) {
            if (dlm_backend_parse(v, &a->o.backend)) return usage_error("unknown backend %s (auto, cpu, cpu-ref, cuda, cuda-ref)", v);
        } else if (!strcmp(o, "--inject-bias")) {
            uint32_t kk;
            double eps;
            int b = dlm_bias_parse(v, strlen(v), &kk, &eps);
            if (b == -1) return usage_error("bad --inject-bias %s (K:EPS)", v);
            if (b) return usage_error("bad --inject-bias %s (K:EPS with -1/2 < EPS < 1/2)", v);
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
            return usage_error("verify: unknown option %s", o);
        } else if (!a->path) {
            a->path = o;
            continue;
        } else {
            return usage_error("verify: unexpected argument %s", o);
        }
        i++;
    }
    if (!a->path) return usage_error("verify: missing CIRCUIT%s", "");
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
           dlm_backend_name(r->backend), (unsigned long long)r->chains,
           (unsigned long long)r->seed);
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
    printf("alpha      %g (Holm-corrected over %zu tests)\n", r->alpha, r->ntests);
    printf("verdict    %s\n", r->pass ? "PASS" : "FAIL");
}

static int cmd_verify(int argc, char **argv)
{
    verify_args a;
    int rc = parse_verify(argc, argv, &a);
    if (rc) return rc;
    dlm_err e;
    loaded L;
    dlm_status s = load(a.path, &L, &e);
    if (s) return fail(s, &e);
    dlm_verify_report r;
    progress_state ps = {isatty(2), a.quiet, 0, 0};
    a.o.progress = show_progress;
    a.o.progress_ctx = &ps;
    s = dlm_verify_run(&L.c, &L.lv, &a.o, &r, &e);
    if (!s) {
        if (r.backend_notice[0]) fprintf(stderr, "%s\n", r.backend_notice);
        if (a.json) dlm_verify_write_json(stdout, a.path, &r);
        else verify_text(a.path, &r);
    }
    int pass = !s && r.pass;
    dlm_verify_report_free(&r);
    unload(&L);
    if (s) return fail(s, &e);
    return pass ? 0 : 1;
}

/* --max-memory SIZE, accepted by every command (anywhere after it), sets the memory
 * budget (DLMSIM_MAX_MEMORY, dlm_memory_budget) and is removed from argv. */
static int take_max_memory(int *argc, char **argv)
{
    int out = 0;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "--max-memory")) {
            argv[out++] = argv[i];
            continue;
        }
        uint64_t b;
        if (i + 1 >= *argc) return usage_error("option needs a value: %s", "--max-memory");
        if (dlm_parse_size(argv[i + 1], &b) || b == 0)
            return usage_error("bad --max-memory (bytes, e.g. 512M or 4G): %s", argv[i + 1]);
        if (setenv("DLMSIM_MAX_MEMORY", argv[i + 1], 1)) return usage_error("cannot set %s", "DLMSIM_MAX_MEMORY");
        i++;
    }
    *argc = out;
    argv[out] = NULL;
    return 0;
}

int main(int argc, char **argv)
{
    /* GSL's default handler aborts; the library guards its calls and checks for NaN,
     * so a GSL error must come back as a value, never end the process. Switched off
     * once, here, for every subcommand (sample --verify included). */
    gsl_set_error_handler_off();
    int mm = take_max_memory(&argc, argv);
    if (mm) return mm;
    if (argc < 2) return usage_error("missing command%s", "");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "info")) return cmd_info(argc - 2, argv + 2);
    if (!strcmp(cmd, "run")) return cmd_run(argc - 2, argv + 2);
    if (!strcmp(cmd, "export")) return cmd_export(argc - 2, argv + 2);
    if (!strcmp(cmd, "regress")) return dlm_cli_regress(argc - 2, argv + 2);
    if (!strcmp(cmd, "sample")) return dlm_cli_sample(argc - 2, argv + 2, 0);
    if (!strcmp(cmd, "kl")) return dlm_cli_kl(argc - 2, argv + 2);
    if (!strcmp(cmd, "verify") && argc > 2 && dlm_cli_is_law(argv[2])) return dlm_cli_sample(argc - 2, argv + 2, 1);
    if (!strcmp(cmd, "verify")) return cmd_verify(argc - 2, argv + 2);
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("dlmsim %s\n", DLMSIM_VERSION);
        return 0;
    }
    return usage_error("unknown command %s", cmd);
}
