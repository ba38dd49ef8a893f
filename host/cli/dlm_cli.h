/* dlm_cli.h — the command line's own modules (the files of host/cli/): the shared
 * helpers and one entry point per subcommand, called from main() in host/cli/main.c.
 * Not part of the library. */
#ifndef DLM_CLI_H
#define DLM_CLI_H

#include "dlm_batch.h"
#include "dlm_level.h"
#include "dlm_regress.h"
#include "dlm_tally.h"
#include "dlm_util.h" /* dlm_parse_count, dlm_json_str, dlm_json_num, dlm_now */

#include <signal.h>
#include <stdio.h>

/* The top-level usage text. */
extern const char *const dlm_cli_usage_text;

/* --shard K/N and --first-chain A: a part of a batch of --chains chains. */
typedef struct {
    int have_shard, have_first;
    uint32_t k, n;
    uint64_t first;
} dlm_cli_part;
/* 1 when o is --shard or --first-chain (then *rc is 0, or 2 after a usage error). */
int dlm_cli_part_option(const char *cmd, const char *o, const char *v, dlm_cli_part *p, int *rc);

/* --checkpoint FILE, --resume FILE and --checkpoint-every SECONDS, as run, verify and
 * sample take them. */
typedef struct {
    const char *checkpoint, *resume;
    double every; /* 0 when not given */
} dlm_cli_ckpt;
/* 1 when o is one of them (then *rc is 0, or 2 after a usage error). */
/* --cuda-kernel auto|interpreter|jit into *k: 1 if o is it (*rc: 0, or the usage
 * error's exit code), 0 for another option. */
#define DLM_CLI_KERNEL_HELP "  --cuda-kernel auto|interpreter|jit   the cuda backend's kernel (default auto: jit when it pays; docs/gpu.md)\n"
int dlm_cli_kernel_option(const char *cmd, const char *o, const char *v, dlm_cuda_kernel *k, int *rc);
/* The directory where JIT cubins are kept across runs: DLMSIM_JIT_CACHE, or NULL when
 * it is unset or empty (dlm_jit_cache_keep_in; docs/gpu.md, "The JIT kernel"). */
const char *dlm_cli_jit_dir(void);
/* 2 (with one line) when --cuda-kernel names a kernel but the run's backend is not cuda. */
int dlm_cli_kernel_check(const char *cmd, dlm_cuda_kernel k, dlm_backend be);

int dlm_cli_ckpt_option(const char *cmd, const char *o, const char *v, dlm_cli_ckpt *c, int *rc);
/* The part's chains first .. first+count-1 of a batch of `batch` (a shard: the batch
 * is --chains; --first-chain A: A + --chains; no part: all of --chains). 0, or 2
 * after a usage error: both given, an empty shard, past 2^64. */
int dlm_cli_part_resolve(const char *cmd, const dlm_cli_part *p, uint64_t chains, uint64_t *first, uint64_t *count,
                         uint64_t *batch);

/* The one form of every usage error, one line on stderr (rank 0 only), returns 2:
 *   dlmsim: CMD: <fmt...>; see dlmsim CMD --help
 * cmd NULL: the top level ("dlmsim: <fmt...>; see dlmsim --help"). */
int dlm_cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A bad option value: "dlmsim: CMD: bad OPT VAL (ALLOWED); see dlmsim CMD --help". */
int dlm_cli_bad(const char *cmd, const char *opt, const char *val, const char *allowed);
/* 1 (after printing text on stdout) when argv holds --help or -h: the caller exits 0.
 * mk/man.sh makes the man page from these texts. */
int dlm_cli_help(const char *text, int argc, char **argv);
/* One option of a subcommand: the one table its parser asks whether an option is known
 * and takes a value, and (dlm_cli_help_opts) its --help lines are printed from.
 * test/cli_options.sh checks that every option --help shows is accepted. */
typedef struct {
    const char *name;  /* "--mode", "-o"; NULL ends a table */
    int takes;         /* 1: the next argument is its value */
    const char *help;  /* its line(s) of --help; NULL: shown on another option's line */
} dlm_cli_opt;
/* The entry of opts named name, or NULL. */
const dlm_cli_opt *dlm_cli_opt_find(const dlm_cli_opt *opts, const char *name);
/* 1 when name is in opts and takes a value. */
int dlm_cli_opt_takes(const dlm_cli_opt *opts, const char *name);
/* dlm_cli_help of the text head, each option's help lines in table order, tail. */
int dlm_cli_help_opts(const char *head, const dlm_cli_opt *opts, const char *tail, int argc, char **argv);
/* --chains: a count (dlm_parse_count) in min .. DLM_CLI_CHAINS_MAX. 0 on success. */
#define DLM_CLI_CHAINS_MAX (UINT64_C(1) << 56) /* 7.2e16: over 2 years at 10^9 chains/s */
int dlm_cli_parse_chains(const char *s, uint64_t min, uint64_t *chains);
/* What --chains and --threads allow, in the words of every usage error. */
#define CHAINS_ALLOWED "a count 1 .. 2^56, e.g. 1e6"
#define THREADS_ALLOWED "0 .. 4096, 0 = one per core"
/* "dlmsim: " + e->msg on stderr; returns the exit code of s. */
int dlm_cli_fail(dlm_status s, const dlm_err *e);

/* SIGINT and SIGTERM set the stop flag (the CLI's one mutable global, host/cli/util.c)
 * that a checkpointed run checks between chunks: catch_stop installs the handlers,
 * stop_flag is the flag (0, or the signal). */
void dlm_cli_catch_stop(void);
const volatile sig_atomic_t *dlm_cli_stop_flag(void);

/* A circuit loaded and levelized, shared by the circuit subcommands. */
typedef struct {
    dlm_circuit c;
    dlm_levels lv;
} dlm_cli_loaded;

/* dlm_circuit_load + dlm_levelize within the memory budget max_bytes, with the load's
 * progress on a terminal unless quiet (phase "load"); on failure nothing is left to
 * free. */
dlm_status dlm_cli_load(const char *path, uint64_t max_bytes, int quiet, dlm_cli_loaded *L, dlm_err *e);
void dlm_cli_unload(dlm_cli_loaded *L);

/* Progress of a long run on stderr (a dlm_progress_fn; ctx is a dlm_cli_progress_state):
 * a bar with rate and ETA on a terminal (redrawn at most 10 times a second), a plain
 * line every 10 s otherwise, nothing with quiet. A phase (dlm_cli_phase) is drawn on a
 * terminal only, once it has run `after` seconds, its line cleared when it ends. */
typedef struct {
    int tty, quiet, drawn;
    double last;
    const char *what;  /* a phase's name before the bar ("exact law"), or NULL */
    const char *unit;  /* of the rate: NULL "chains"; "" none (done/total is a fraction) */
    double after;      /* a phase: nothing before this many seconds; then cleared at the end */
} dlm_cli_progress_state;
void dlm_cli_progress(void *ctx, uint64_t done, uint64_t total, double secs);
/* A phase's progress: drawn only on a terminal (isatty(2)) and not quiet, from 1 s on
 * (DLMSIM_PROGRESS_AFTER=SECONDS changes that, for tests). */
dlm_cli_progress_state dlm_cli_phase(const char *what, const char *unit, int quiet);
/* Clears a phase's line if it is drawn (before an error message or the next phase). */
void dlm_cli_phase_end(dlm_cli_progress_state *ps);
/* DLMSIM_PROGRESS_AFTER that is not seconds >= 0: the one-line usage error (exit 2). */
int dlm_cli_check_progress_after(void);

/* The circuit subcommands; each returns the exit code. Every subcommand takes the
 * memory budget max_bytes of dlm_cli_budget (0: the library's default). */
int dlm_cli_info(int argc, char **argv, uint64_t max_bytes);   /* host/cli/info.c */
int dlm_cli_run(int argc, char **argv, uint64_t max_bytes);    /* host/cli/run.c */
int dlm_cli_export(int argc, char **argv, uint64_t max_bytes); /* host/cli/export.c */
int dlm_cli_verify(int argc, char **argv, uint64_t max_bytes); /* host/cli/verify.c, dlmsim verify CIRCUIT */

/* Helpers shared by the subcommands (host/cli/util.c). */
/* --threads: a count (as dlm_parse_count) of at most 4096. Returns 0 on success. */
int dlm_cli_parse_threads(const char *s, int *threads);
/* --alpha: a number strictly between 0 and 1. Returns 0 on success. */
int dlm_cli_parse_alpha(const char *s, double *alpha);

/* The nonzero cells of k's histogram, one line each: the output bits (output 0
 * first), a tab, the count (docs/formats.md, --hist). */
void dlm_cli_hist_print(FILE *f, const dlm_counts *k);
/* The same into path (dlm_out_open: "-" is stdout, only a regular file is replaced). */
dlm_status dlm_cli_hist_write(const char *path, const dlm_counts *k, dlm_err *e);

/* dlmsim regress SUITE [...] (host/cli/regress.c); returns the exit code. */
int dlm_cli_regress(int argc, char **argv, uint64_t max_bytes);

/* dlmsim regress SUITE --counts FILE... (host/cli/regress_counts.c): each count file
 * (merged shards of a case) checked against its case's digest and verdict without
 * sampling; returns the exit code. */
int dlm_cli_regress_counts(const dlm_regress_suite *s, const char *const *files, int nfiles,
                           const dlm_regress_opts *o);

/* dlmsim merge COUNTS... -o FILE [--allow-gaps] [--json] (host/cli/merge.c,
 * docs/scale-out.md). */
int dlm_cli_merge(int argc, char **argv, uint64_t max_bytes);

/* MPI (host/cli/mpi.c; without DLM_HAVE_MPI: one process, rank 0 of 1). init calls
 * MPI_Init only under mpirun: returns 1 then, 0 without mpirun, -1 if it failed. */
int dlm_cli_mpi_init(int *argc, char ***argv);
void dlm_cli_mpi_finalize(void);
int dlm_cli_mpi_rank(void);
int dlm_cli_mpi_size(void);
/* 1 when started by mpirun (MPI initialised), whatever the number of ranks: run,
 * verify and regress then take their MPI path, also with one rank. */
int dlm_cli_mpi_on(void);
/* Under mpirun with a CUDA backend: makes device (node-local rank) % (devices on the
 * node) current for this rank and returns it; -1 when not under mpirun or not a CUDA
 * backend (nothing done); -2 with err set when no device could be made current. */
int dlm_cli_mpi_gpu(dlm_backend be, dlm_err *err);
/* The per-rank line on stderr: "dlmsim: rank r of R ran N WHAT[ on CUDA device d]". */
void dlm_cli_mpi_ran(const char *what, uint64_t n, int device);
/* Chains first .. first+count-1 shared by the ranks: chunks of `chunk` chains handed
 * out dynamically (rank 0 holds the counter), fn called for each chunk this rank takes.
 * When any rank fails, every rank returns an error (its own, or "another rank
 * failed"). *mine: the chains this rank ran. Without MPI: fn(ctx, first, count). */
typedef dlm_status (*dlm_cli_chunk_fn)(void *ctx, uint64_t first, uint64_t count, dlm_err *err);
dlm_status dlm_cli_mpi_share(uint64_t first, uint64_t count, uint64_t chunk, dlm_cli_chunk_fn fn, void *ctx,
                             uint64_t *mine, dlm_err *err);
/* Sums every rank's k (and v, when not NULL: pair counts, bit-exact checks, the lowest
 * first violation) exactly onto rank 0; the other ranks' are left partial. */
void dlm_cli_mpi_reduce(dlm_counts *k, dlm_tally_verify *v);
/* 1 on every rank when bad is nonzero on any rank (a synchronisation point: no rank
 * returns before every rank has called it). Without MPI: bad != 0. */
int dlm_cli_mpi_any(int bad);
/* rank 0's n bytes at buf copied to every rank's buf. Without MPI: nothing. */
void dlm_cli_mpi_bcast(void *buf, size_t n);
/* v[0..n-1] summed (max = 0) or their maximum (max = 1) over the ranks, into rank 0's v. */
void dlm_cli_mpi_sum(uint64_t *v, uint64_t n, int max);
/* Items 0..n-1 of `size` bytes each, each computed on the one rank whose mine[i] is 1:
 * copied to rank 0, which then holds all of them (plain data, no pointers). */
void dlm_cli_mpi_collect(void *items, size_t size, size_t n, const unsigned char *mine);
/* A run over the ranks (mpirun -n R dlmsim run; verify's and sample's sampling): chains
 * first .. first+count-1 of a batch of `batch` (the count files' batch), in chunks
 * handed out as ranks finish. With checkpoint, rank r keeps PREFIX.rank<r> (a count
 * file: the ranges and counts of the chains it counted), rewritten atomically every
 * `every` seconds, on a stop and at the end. With resume, rank 0 reads the PREFIX.rank*
 * files of an earlier job (any number of ranks), takes over their counts (writing them
 * as its own file before any rank rewrites one: an earlier file is then inside rank
 * 0's and is skipped the next time) and only the chains none of them holds are run. */
typedef struct {
    const dlm_program *p;
    const dlm_batch_id *id;       /* id->chains: unused (first + count is the end) */
    dlm_batch_opts bo;            /* backend, threads, plan, direct */
    uint64_t first, count, batch;
    const char *mode_name;
    const char *checkpoint, *resume; /* prefixes, or NULL */
    double every;                 /* seconds between checkpoints */
    const volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM: stop after the chunk */
    /* verify's job (NULL for run): the verifier's counts besides k, kept in the
     * checkpoints (count files of kind verify), taken over on resume and reduced */
    dlm_tally_verify *v;
    /* NULL: run's chunks (dlm_batch_run of p with bo). Else it samples chains first ..
     * end-1 into the caller's counts (k and v), stops early once *stop is set, and sets
     * *next to the chain it reached. */
    dlm_status (*sample)(void *ctx, uint64_t first, uint64_t end, uint64_t *next, dlm_err *e);
    void *sample_ctx;
    /* NULL: the counts are k (and v), the checkpoints count files (dlm_tally.h). Else
     * the caller's own (the oracle sampler's). */
    const struct dlm_cli_mpi_counts *counts;
    uint64_t max_bytes;           /* the memory budget a checkpoint is read within */
} dlm_cli_mpi_job;
/* What a job counts, other than run's and verify's: how its checkpoints are read
 * (checked against the job: DLM_EINPUT with one line naming path; *ranges: the file's
 * chain ranges, inside *file), taken into this rank's counts, freed, written (this
 * rank's counts, of the chains in mine), and how the counts are summed on rank 0. */
typedef struct dlm_cli_mpi_counts {
    dlm_status (*read)(void *ctx, const char *path, void **file, const dlm_ranges **ranges, dlm_err *e);
    void (*take)(void *ctx, const void *file);
    void (*drop)(void *file);
    dlm_status (*write)(void *ctx, const char *path, const dlm_ranges *mine, dlm_err *e);
    void (*reduce)(void *ctx);
    void *ctx;
} dlm_cli_mpi_counts;
/* NULL, or what a checkpoint t (a count file) holds of another job than j: "circuit",
 * "mode", "seed", "batch (--chains, --shard)", "outputs", the kind, or a "chain range"
 * outside j's first .. first+count-1. The same with and without MPI. */
const char *dlm_cli_checkpoint_differs(const dlm_cli_mpi_job *j, const dlm_tally *t);
/* Adds into k (zeroed by the caller; unused with j->counts): rank 0 ends with the whole
 * run's counts, unless a rank was stopped (*stopped = 1 on every rank, the checkpoints
 * written). *ran: the chains this rank ran in this job. */
dlm_status dlm_cli_mpi_run(const dlm_cli_mpi_job *j, dlm_counts *k, uint64_t *ran, int *stopped, dlm_err *e);
/* Chunk size for count chains over R ranks: about 1/(8R) of the work, a multiple of
 * 64, at least 4096. */
uint64_t dlm_cli_mpi_chunk(uint64_t count);

/* dlmsim kl TARGET [...] (host/cli/kl.c, docs/kl.md); returns the exit code. */
int dlm_cli_kl(int argc, char **argv, uint64_t max_bytes);

/* dlmsim sample LAW [...] (host/cli/sample.c); verify = 1 for `dlmsim verify LAW`. */
int dlm_cli_sample(int argc, char **argv, int verify, uint64_t max_bytes);
/* 1 if spec names a law (dlm_law.h) rather than a circuit. */
int dlm_cli_is_law(const char *spec);

#endif
