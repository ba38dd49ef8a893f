/* util.c — small helpers shared by the command-line modules (dlm_cli.h). */
#include "dlm_cli.h"

#include "dlm_level.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int dlm_cli_parse_threads(const char *s, int *threads)
{
    uint64_t t;
    if (dlm_parse_count(s, &t) || t > 4096) return -1;
    *threads = (int)t;
    return 0;
}

int dlm_cli_parse_chains(const char *s, uint64_t min, uint64_t *chains)
{
    uint64_t n;
    if (dlm_parse_count(s, &n) || n < min || n > DLM_CLI_CHAINS_MAX) return -1;
    *chains = n;
    return 0;
}

int dlm_cli_parse_alpha(const char *s, double *alpha)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end || errno || !(x > 0 && x < 1)) return -1;
    *alpha = x;
    return 0;
}

const char *const dlm_cli_usage_text =
    "usage:\n"
    "  dlmsim info CIRCUIT [--json] [--quiet]\n"
    "  dlmsim run CIRCUIT [--mode cot|remask|revise|ar] [--chains B] [--seed S]\n"
    "             [--backend auto|cpu|cpu-ref|cuda|cuda-ref] [--threads N] [--hist FILE]\n"
    "             [--samples FILE] [--json] [--check] [--direct] [--quiet] [--checkpoint FILE]\n"
    "             [--checkpoint-every SECONDS] [--resume FILE]\n"
    "             [--shard K/N | --first-chain A] [--counts FILE]   (docs/scale-out.md)\n"
    "  mpirun -n R dlmsim run|verify CIRCUIT ... | regress SUITE ...   (ranks share the work; docs/scale-out.md)\n"
    "  dlmsim merge COUNTS... -o FILE [--allow-gaps] [--json]   (sums count files; docs/scale-out.md)\n"
    "  dlmsim export CIRCUIT --format aag|aig|blif -o FILE\n"
    "  dlmsim verify CIRCUIT [--mode cot|remask|revise|ar] [--chains B] [--seed S]\n"
    "             [--alpha A] [--target auto|exact|reference]\n"
    "             [--backend auto|cpu|cpu-ref|cuda|cuda-ref] [--threads N] [--inject-bias K:EPS]\n"
    "             [--json] [--quiet] [--hist FILE] [--shard K/N | --first-chain A] [--counts FILE]\n"
    "             [--checkpoint FILE] [--checkpoint-every SECONDS] [--resume FILE]\n"
    "             (--inject-bias is a testing aid: coin K gets P(1) = 1/2 + EPS; docs/verify.md)\n"
    "  dlmsim sample LAW [--policy NAME] [policy options] [--chains B] [--seed S]\n"
    "             [--backend auto|cpu|cuda] [--threads N] [--hist FILE] [--exact] [--verify]\n"
    "             [--alpha A] [--json] [--shard K/N | --first-chain A] [--counts FILE]\n"
    "             [--checkpoint FILE] [--checkpoint-every SECONDS] [--resume FILE] [--quiet]\n"
    "             (the oracle sampler; `dlmsim sample --help`, docs/oracle.md)\n"
    "  dlmsim verify LAW [sample's options]   (= sample --verify)\n"
    "  dlmsim kl LAW [--schedules LIST] [--steps LIST] [--csv F] [--plot F.png] [--json]\n"
    "             [--chains N] [--seed S] [--threads N] [--estimate] [--quiet]   (docs/kl.md)\n"
    "  dlmsim regress SUITE [--backend auto|cpu|cpu-ref|cuda|cuda-ref] [--threads N]\n"
    "             [--alpha A] [--json] [--junit FILE] [--update] [--quiet]\n"
    "  dlmsim regress SUITE --counts FILE...   (merged count files vs the suite's digests)\n"
    "Backends: cpu and cuda are the bit-sliced engines, cpu-ref and cuda-ref the byte\n"
    "engines they are tested against bit for bit; auto is cuda with a device, else cpu.\n"
    "Every command takes --max-memory SIZE (e.g. 4G): the memory budget of each data\n"
    "structure, checked before allocating (default: half the machine's memory; the\n"
    "environment variable DLMSIM_MAX_MEMORY likewise, an error unless a size > 0).\n"
    "--threads N: CPU threads, 0 (the default) = one per core. --chains: at most 2^56.\n"
    "Progress: a phase that runs over a second (DLMSIM_PROGRESS_AFTER=SECONDS changes it)\n"
    "draws a bar on stderr when it is a terminal; --quiet silences it (docs/batches.md).\n"
    "Each subcommand prints its own options: dlmsim CMD --help (or -h).\n"
    "CIRCUIT is a .aag, .aig or .blif file or a generator spec gen:NAME:ARGS\n"
    "(docs/formats.md, docs/generators.md).\n";

int dlm_cli_usage(const char *cmd, const char *fmt, ...)
{
    if (dlm_cli_mpi_rank() != 0) return 2; /* under mpirun: one line, not R */
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "dlmsim: %s%s", cmd ? cmd : "", cmd ? ": " : "");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "; see dlmsim %s%s--help\n", cmd ? cmd : "", cmd ? " " : "");
    return 2;
}

int dlm_cli_bad(const char *cmd, const char *opt, const char *val, const char *allowed)
{
    return dlm_cli_usage(cmd, "bad %s %s%s%s (%s)", opt, *val ? "" : "'", val, *val ? "" : "'", allowed);
}

int dlm_cli_help(const char *text, int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            if (dlm_cli_mpi_rank() == 0) fputs(text, stdout);
            return 1;
        }
    return 0;
}

// ---------------------------------------------------------------------------
// SIGINT/SIGTERM: a checkpointed run stops after its current chunk.

/* The CLI's only mutable global: the signal that asked a checkpointed run to stop. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
    stop_signal = sig;
}

void dlm_cli_catch_stop(void)
{
    signal(SIGINT, on_stop_signal);
    signal(SIGTERM, on_stop_signal);
}

const volatile sig_atomic_t *dlm_cli_stop_flag(void)
{
    return &stop_signal;
}

const dlm_cli_opt *dlm_cli_opt_find(const dlm_cli_opt *opts, const char *name)
{
    for (; opts->name; opts++)
        if (!strcmp(opts->name, name)) return opts;
    return NULL;
}

int dlm_cli_opt_takes(const dlm_cli_opt *opts, const char *name)
{
    const dlm_cli_opt *o = dlm_cli_opt_find(opts, name);
    return o && o->takes;
}

int dlm_cli_help_opts(const char *head, const dlm_cli_opt *opts, const char *tail, int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            if (dlm_cli_mpi_rank() == 0) {
                fputs(head, stdout);
                for (; opts->name; opts++)
                    if (opts->help) fputs(opts->help, stdout);
                fputs(tail, stdout);
            }
            return 1;
        }
    return 0;
}

int dlm_cli_fail(dlm_status s, const dlm_err *e)
{
    if (dlm_cli_mpi_rank() == 0) fprintf(stderr, "dlmsim: %s\n", e->msg); /* one line, not R */
    return dlm_exit_code(s);
}

// ---------------------------------------------------------------------------
// Loading and levelizing, shared by the commands.

dlm_status dlm_cli_load(const char *path, uint64_t max_bytes, int quiet, dlm_cli_loaded *L, dlm_err *e)
{
    memset(L, 0, sizeof *L);
    /* a large generator takes seconds: its layers are the progress */
    dlm_cli_progress_state pl = dlm_cli_phase("load", "layers", quiet);
    dlm_status s = dlm_circuit_load_progress(&L->c, path, max_bytes, dlm_cli_progress, &pl, e);
    dlm_cli_phase_end(&pl);
    if (s) return s;
    dlm_cli_progress_state pv = dlm_cli_phase("levelize", "", quiet);
    s = dlm_levelize_progress(&L->c, &L->lv, dlm_cli_progress, &pv, e);
    dlm_cli_phase_end(&pv);
    if (s) dlm_circuit_free(&L->c);
    return s;
}

void dlm_cli_unload(dlm_cli_loaded *L)
{
    dlm_levels_free(&L->lv);
    dlm_circuit_free(&L->c);
}

/* A bar with rate and ETA on a terminal (redrawn at most 10 times a second), a plain
 * line every 10 s otherwise, nothing with --quiet; a phase (ps->after > 0) only on a
 * terminal, from ps->after seconds on, its line cleared when it ends. */
void dlm_cli_progress(void *ctx, uint64_t done, uint64_t total, double secs)
{
    dlm_cli_progress_state *ps = ctx;
    if (ps->quiet) return;
    int final = done >= total;
    if (ps->after > 0 && final) {
        dlm_cli_phase_end(ps);
        return;
    }
    if (ps->after > 0 && secs < ps->after) return;
    /* a phase draws at once when it is due; then like a run, at most every 0.1 s */
    if (!final && (ps->after <= 0 || ps->drawn) && secs - ps->last < (ps->tty ? 0.1 : 10.0)) return;
    ps->last = secs;
    double frac = total ? (double)done / (double)total : 1, rate = secs > 0 ? (double)done / secs : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    const char *unit = ps->unit ? ps->unit : "chains";
    if (ps->tty) {
        char bar[31], speed[64] = "";
        int fill = (int)(frac * 30);
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '=' : (i == fill ? '>' : ' ');
        bar[30] = 0;
        if (*unit) snprintf(speed, sizeof speed, "  %.3g %s/s", rate, unit);
        /* a phase's name changes length (info's steps): the rest of the line is cleared */
        fprintf(stderr, "\r%s%s[%s] %5.1f%%%s  ETA %.0f s  %s", ps->what ? ps->what : "", ps->what ? " " : "", bar,
                100 * frac, speed, eta, ps->after > 0 ? "\033[K" : "");
        ps->drawn = 1;
        if (final) fputc('\n', stderr);
    } else {
        fprintf(stderr, "dlmsim: %llu/%llu %s (%.1f%%), %.3g %s/s, ETA %.0f s\n", (unsigned long long)done,
                (unsigned long long)total, unit, 100 * frac, rate, unit, eta);
    }
    fflush(stderr);
}

/* DLMSIM_PROGRESS_AFTER: seconds >= 0, or unset (1 s). -1 when it is not a number. */
static double progress_after(void)
{
    const char *v = getenv("DLMSIM_PROGRESS_AFTER");
    if (!v || !*v) return 1.0; /* empty: unset */
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    return end == v || *end || errno || !(d >= 0 && d < 1e9) ? -1 : d;
}

int dlm_cli_check_progress_after(void)
{
    if (progress_after() >= 0) return 0;
    if (dlm_cli_mpi_rank() == 0)
        fprintf(stderr, "dlmsim: bad DLMSIM_PROGRESS_AFTER '%s' (seconds >= 0 before a phase's progress is drawn; "
                "unset it for 1); see dlmsim --help\n", getenv("DLMSIM_PROGRESS_AFTER"));
    return 2;
}

dlm_cli_progress_state dlm_cli_phase(const char *what, const char *unit, int quiet)
{
    dlm_cli_progress_state ps = {1, quiet || !isatty(2), 0, 0, what, unit, progress_after()};
    if (ps.after <= 0) ps.after = 1e-9; /* at once, and still a phase */
    return ps;
}

void dlm_cli_phase_end(dlm_cli_progress_state *ps)
{
    if (!ps->drawn) return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    ps->drawn = 0;
}

void dlm_cli_hist_print(FILE *f, const dlm_counts *k)
{
    for (uint64_t i = 0; k->hist && i < (UINT64_C(1) << k->nout); i++) {
        if (!k->hist[i]) continue;
        for (uint32_t b = 0; b < k->nout; b++) fputc('0' + (int)((i >> b) & 1), f);
        fprintf(f, "\t%llu\n", (unsigned long long)k->hist[i]);
    }
}

dlm_status dlm_cli_hist_write(const char *path, const dlm_counts *k, dlm_err *e)
{
    dlm_out o;
    dlm_status s = dlm_out_open(&o, path, 0, e);
    if (s) return s;
    dlm_cli_hist_print(o.f, k);
    return dlm_out_close(&o) ? dlm_fail(e, DLM_EIO, "%s: write failed: %s", path, strerror(errno)) : DLM_OK;
}

int dlm_cli_part_option(const char *cmd, const char *o, const char *v, dlm_cli_part *p, int *rc)
{
    *rc = 0;
    if (!strcmp(o, "--shard")) {
        if (dlm_shard_parse(v, &p->k, &p->n)) *rc = dlm_cli_bad(cmd, o, v, "K/N with 1 <= K <= N");
        p->have_shard = 1;
        return 1;
    }
    if (!strcmp(o, "--first-chain")) {
        if (dlm_parse_count(v, &p->first)) *rc = dlm_cli_bad(cmd, o, v, "a chain index, 0 or more");
        p->have_first = 1;
        return 1;
    }
    return 0;
}

int dlm_cli_kernel_option(const char *cmd, const char *o, const char *v, dlm_cuda_kernel *k, int *rc)
{
    *rc = 0;
    if (strcmp(o, "--cuda-kernel")) return 0;
    if (dlm_cuda_kernel_parse(v, k)) *rc = dlm_cli_bad(cmd, o, v, "auto, interpreter or jit");
    return 1;
}

const char *dlm_cli_jit_dir(void)
{
    const char *d = getenv("DLMSIM_JIT_CACHE");
    return d && *d ? d : NULL;
}

int dlm_cli_kernel_check(const char *cmd, dlm_cuda_kernel k, dlm_backend be)
{
    if (k == DLM_CUDA_KERNEL_AUTO || be == DLM_BACKEND_CUDA) return 0;
    fprintf(stderr, "dlmsim: %s: --cuda-kernel %s is for --backend cuda (this run uses %s)\n", cmd,
            dlm_cuda_kernel_name(k), dlm_backend_name(be));
    return 2;
}

int dlm_cli_ckpt_option(const char *cmd, const char *o, const char *v, dlm_cli_ckpt *c, int *rc)
{
    *rc = 0;
    if (!strcmp(o, "--checkpoint")) {
        c->checkpoint = v;
    } else if (!strcmp(o, "--resume")) {
        c->resume = v;
    } else if (!strcmp(o, "--checkpoint-every")) {
        char *end;
        errno = 0;
        c->every = strtod(v, &end);
        if (*end || errno || !(c->every > 0) || c->every > 1e9) *rc = dlm_cli_bad(cmd, o, v, "seconds > 0");
    } else {
        return 0;
    }
    return 1;
}

int dlm_cli_part_resolve(const char *cmd, const dlm_cli_part *p, uint64_t chains, uint64_t *first, uint64_t *count,
                         uint64_t *batch)
{
    *first = 0;
    *count = *batch = chains;
    if (p->have_shard && p->have_first) return dlm_cli_usage(cmd, "--shard and --first-chain exclude each other");
    if (p->have_shard) {
        dlm_shard_range(chains, p->k, p->n, first, count);
        if (*count == 0) return dlm_cli_usage(cmd, "this --shard is empty (fewer chains than shards)");
    } else if (p->have_first) {
        if (p->first > UINT64_MAX - chains) return dlm_cli_usage(cmd, "--first-chain + --chains is past 2^64");
        *first = p->first;
        *batch = p->first + chains;
    }
    return 0;
}
