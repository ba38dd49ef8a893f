/* cli_sample.c — `dlmsim sample LAW` and `dlmsim verify LAW`: run a decoding policy
 * against the exact predictor of a law (docs/oracle.md).
 *
 *   dlmsim sample LAW [policy options] [--chains B] [--seed S] [--backend auto|cpu|cuda]
 *                     [--threads N] [--hist FILE] [--exact] [--verify] [--alpha A]
 *                     [--max-states N] [--json]
 *   dlmsim verify LAW [the same]          (= sample --verify)
 *
 * --exact computes the sampler's own output law q by enumeration and reports KL(p||q),
 * KL(q||p) and TV against the target p; --verify also tests the sampled histogram
 * against q (chi-square and G, Holm-corrected at --alpha): exit 1 when it fails.
 * Exit codes: 0 success, 1 a check failed, 2 bad input or usage.
 */
#include "dlm_cli.h"
#include "dlm_kl.h"
#include "dlm_law.h"
#include "dlm_policy.h"
#include "dlm_sample_tally.h"
#include "dlm_sampler.h"
#include "dlm_verify.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sample_usage =
    "usage: dlmsim sample LAW [--policy NAME] [--unmask R] [--count R] [--steps T]\n"
    "                         [--block-length B] [--temperature X] [--top-p P] [--top-k K]\n"
    "                         [--alg-temp X] [--threshold X] [--factor F] [--gamma G]\n"
    "                         [--remainder first|last] [--grid linear|cosine] [--eps E]\n"
    "                         [--remask R] [--eta X] [--t-on X] [--t-off X] [--alpha-on X]\n"
    "                         [--revise none|edit|last] [--editing-threshold X]\n"
    "                         [--max-post-steps N] [--chains B] [--seed S]\n"
    "                         [--backend auto|cpu|cuda] [--threads N] [--hist FILE]\n"
    "                         [--exact] [--verify] [--alpha A] [--max-states N] [--json]\n"
    "                         [--shard K/N | --first-chain A] [--counts FILE]\n"
    "                         [--checkpoint FILE] [--checkpoint-every SECONDS] [--resume FILE]\n"
    "                         [--quiet]\n"
    "       dlmsim verify LAW [the same]   (= sample --verify)\n"
    "LAW: parity:N, random:L:V:SEED, table:FILE, circuit:CIRCUIT, markov:FILE,\n"
    "bsc:L:FLIP, sparse:V:K:L:SEED[:TELE], english:L (docs/oracle.md).\n"
    "--policy: llada, llada-random, mdlm, dream-origin, maskgit-plus, topk-margin, entropy,\n"
    "li-cai, fast-dllm, factor, eb, entsum, remdm-cap, remdm-rescale, remdm-conf, remdm-loop,\n"
    "llada21-edit, parity-revise, zhao-cai; the options after it change its rules\n"
    "(docs/oracle.md lists what each policy sets).\n"
    "--steps T, --block-length B, --top-k K: positive integers (leave one out for its default:\n"
    "T = L, B = L, no top-k). --chains: 1 .. 2^56 (default 1e5). --threads: 0 .. 4096, 0 = one\n"
    "per core (the default). --max-states N: at least 1 (default 2^20), the states --exact keeps.\n"
    "--exact: the policy's exact output law q and KL(p||q), KL(q||p), TV against the law p\n"
    "(a KL within 1e-12 nats below 0, rounding, is shown as 0). --verify: also test the\n"
    "samples against q (chi-square and G, Holm at --alpha, default 1e-3): exit 1 on FAIL.\n"
    "--shard K/N | --first-chain A: sample a part of the batch into --counts FILE (dlmsim merge\n"
    "sums the parts); --counts FILE alone: report (and with --exact/--verify check) the counts\n"
    "in FILE instead of sampling (docs/scale-out.md).\n"
    "--checkpoint FILE: save the counts so far (a count file) every --checkpoint-every SECONDS\n"
    "(default 60) and on SIGINT/SIGTERM; --resume FILE continues them (under mpirun FILE is a\n"
    "prefix: each rank keeps FILE.rankR; any number of ranks resumes them; docs/scale-out.md).\n"
    "--quiet: no progress on stderr (drawn on a terminal for sampling and the exact law once\n"
    "either has run a second; docs/batches.md).\n";

static const char *const law_prefixes[] = {"parity:", "random:", "table:", "circuit:", "markov:",
                                           "bsc:", "sparse:", "english:"};

int dlm_cli_is_law(const char *spec)
{
    for (size_t i = 0; i < sizeof law_prefixes / sizeof *law_prefixes; i++)
        if (!strncmp(spec, law_prefixes[i], strlen(law_prefixes[i]))) return 1;
    return 0;
}


typedef struct {
    const char *law, *hist, *counts;
    dlm_cli_ckpt ck; /* --checkpoint, --resume, --checkpoint-every */
    dlm_policy pol;
    dlm_cli_part part;
    int have_seed, have_chains;
    uint64_t chains, seed, max_states;
    dlm_backend backend;
    int threads, json, exact, verify, quiet;
    double alpha;
} sample_args;

/* The options besides the policy's (dlm_policy_option; the help is the synopsis above):
 * the parser asks this table which take a value; test/cli_options.sh checks that every
 * option the synopsis shows is accepted. */
static const dlm_cli_opt sample_opts[] = {
    {"--chains", 1, NULL},  {"--seed", 1, NULL},  {"--max-states", 1, NULL}, {"--threads", 1, NULL},
    {"--backend", 1, NULL}, {"--hist", 1, NULL},  {"--alpha", 1, NULL},      {"--shard", 1, NULL},
    {"--first-chain", 1, NULL}, {"--counts", 1, NULL}, {"--json", 0, NULL},  {"--exact", 0, NULL},
    {"--verify", 0, NULL},  {"--quiet", 0, NULL}, {"--checkpoint", 1, NULL}, {"--checkpoint-every", 1, NULL},
    {"--resume", 1, NULL},  {NULL, 0, NULL}};

static int parse_args(int argc, char **argv, sample_args *a, const char *C)
{
    memset(a, 0, sizeof *a);
    dlm_policy_default(&a->pol);
    a->chains = 100000;
    a->alpha = 1e-3;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--json")) { a->json = 1; continue; }
        if (!strcmp(o, "--exact")) { a->exact = 1; continue; }
        if (!strcmp(o, "--verify")) { a->verify = 1; continue; }
        if (!strcmp(o, "--quiet")) { a->quiet = 1; continue; }
        if (o[0] == '-' && o[1] == '-') {
            if (!v) {
                dlm_policy tmp = a->pol;
                dlm_status st;
                dlm_err e;
                int known = dlm_policy_option(&tmp, o, "", &st, &e) || dlm_cli_opt_takes(sample_opts, o);
                return known ? dlm_cli_usage(C, "option %s needs a value", o) : dlm_cli_usage(C, "unknown option %s", o);
            }
            dlm_status st;
            dlm_err e;
            int rc = 0;
            if (dlm_policy_option(&a->pol, o, v, &st, &e)) {
                if (st) return dlm_cli_usage(C, "%s", e.msg);
            } else if (dlm_cli_part_option(C, o, v, &a->part, &rc)) {
                if (rc) return rc;
            } else if (!strcmp(o, "--counts")) {
                a->counts = v;
            } else if (dlm_cli_ckpt_option(C, o, v, &a->ck, &rc)) {
                if (rc) return rc;
            } else if (!strcmp(o, "--chains")) {
                if (dlm_cli_parse_chains(v, 1, &a->chains)) return dlm_cli_bad(C, o, v, CHAINS_ALLOWED);
                a->have_chains = 1;
            } else if (!strcmp(o, "--seed")) {
                if (dlm_parse_count(v, &a->seed)) return dlm_cli_bad(C, o, v, "an integer 0 .. 2^64-1");
                a->have_seed = 1;
            } else if (!strcmp(o, "--max-states")) {
                if (dlm_parse_count(v, &a->max_states) || a->max_states == 0)
                    return dlm_cli_bad(C, o, v, "a positive count; leave it out for the default 2^20");
            } else if (!strcmp(o, "--threads")) {
                if (dlm_cli_parse_threads(v, &a->threads)) return dlm_cli_bad(C, o, v, THREADS_ALLOWED);
            } else if (!strcmp(o, "--backend")) {
                if (dlm_backend_parse(v, &a->backend) || a->backend == DLM_BACKEND_CPU_REF ||
                    a->backend == DLM_BACKEND_CUDA_REF) /* no reference engines here */
                    return dlm_cli_bad(C, o, v, "auto, cpu or cuda");
            } else if (!strcmp(o, "--hist")) {
                a->hist = v;
            } else if (!strcmp(o, "--alpha")) {
                if (dlm_cli_parse_alpha(v, &a->alpha)) return dlm_cli_bad(C, o, v, "a number in (0, 1)");
            } else {
                return dlm_cli_usage(C, "unknown option %s", o);
            }
            i++;
            continue;
        }
        if (a->law) return dlm_cli_usage(C, "unexpected argument %s (one LAW only)", o);
        a->law = o;
    }
    if (!a->law) return dlm_cli_usage(C, "missing LAW");
    const int partial = a->part.have_shard || a->part.have_first;
    if (partial && !a->counts)
        return dlm_cli_usage(C, "a part of the batch (--shard, --first-chain) needs --counts FILE; "
                                "check the merged counts with dlmsim %s LAW --counts FILE", C);
    if (a->counts && !partial && dlm_cli_mpi_on())
        return dlm_cli_usage(C, "--counts FILE (report the counts in FILE) needs no mpirun");
    if (a->counts && !partial && (a->ck.checkpoint || a->ck.resume))
        return dlm_cli_usage(C, "--checkpoint and --resume are for sampling, not --counts FILE alone");
    if (a->ck.every > 0 && !a->ck.checkpoint && !a->ck.resume)
        return dlm_cli_usage(C, "--checkpoint-every needs --checkpoint FILE");
    if (partial && (a->exact || a->verify || a->hist))
        return dlm_cli_usage(C, "a part of the batch writes its counts only: --exact, --verify and --hist "
                                "go with --counts MERGED");
    return 0;
}

/* Token v of a law as text: its alphabet character, a digit (V <= 10), or a number. */
static void put_seq(FILE *f, const dlm_law *law, uint64_t idx)
{
    uint32_t V = law->v.V;
    for (uint32_t i = 0; i < law->v.L; i++, idx /= V) {
        uint32_t t = (uint32_t)(idx % V);
        if (law->alphabet[0]) fputc(law->alphabet[t], f);
        else if (V <= 10) fputc('0' + (int)t, f);
        else fprintf(f, "%s%u", i ? "," : "", t);
    }
}

typedef struct {
    int have;            /* the exact law was computed */
    dlm_exact_info info;
    double kl_fwd, kl_rev, tv;
    dlm_gof gof;
    int tested;
    double p_holm[2];
    int pass;
} exact_report;

static void print_json(const sample_args *a, const dlm_law *law, const dlm_sample_counts *k, const char *bname,
                       double secs, const char *inexact, const exact_report *x)
{
    char desc[512];
    dlm_policy_describe(&a->pol, desc, sizeof desc);
    printf("{\"law\":");
    dlm_json_str(stdout, a->law);
    printf(",\"law_desc\":");
    dlm_json_str(stdout, law->desc);
    printf(",\"L\":%u,\"V\":%u,\"policy\":", law->v.L, law->v.V);
    dlm_json_str(stdout, desc);
    printf(",\"inexact\":");
    if (inexact) dlm_json_str(stdout, inexact);
    else printf("null");
    printf(",\"backend\":\"%s\",\"chains\":%llu,\"seed\":%llu,\"seconds\":", bname,
           (unsigned long long)k->chains, (unsigned long long)a->seed);
    dlm_json_num(stdout, secs);
    printf(",\"chains_per_s\":");
    dlm_json_num(stdout, secs > 0 ? (double)k->chains / secs : 0);
    printf(",\"rounds_mean\":");
    dlm_json_num(stdout, (double)k->rounds_sum / (double)k->chains);
    printf(",\"rounds_max\":%llu,\"offsupport\":%llu,\"per_round\":[", (unsigned long long)k->rounds_max,
           (unsigned long long)k->offsupport);
    for (uint64_t r = 0; r < k->rounds_max; r++)
        printf("%s{\"round\":%llu,\"chains\":%llu,\"revealed\":%llu,\"remasked\":%llu,\"revised\":%llu}",
               r ? "," : "", (unsigned long long)r + 1, (unsigned long long)k->active[r],
               (unsigned long long)k->revealed[r], (unsigned long long)k->remasked[r],
               (unsigned long long)k->revised[r]);
    printf("]");
    if (x->have) {
        printf(",\"exact\":{\"kl_forward\":");
        dlm_json_num(stdout, dlm_kl_shown(x->kl_fwd));
        printf(",\"kl_reverse\":");
        dlm_json_num(stdout, dlm_kl_shown(x->kl_rev));
        printf(",\"tv\":");
        dlm_json_num(stdout, x->tv);
        printf(",\"rounds_mean\":");
        dlm_json_num(stdout, x->info.rounds_mean);
        printf(",\"offsupport\":");
        dlm_json_num(stdout, x->info.offsupport);
        printf(",\"states_max\":%llu,\"branches\":%llu}", (unsigned long long)x->info.states_max,
               (unsigned long long)x->info.branches);
    }
    if (x->tested) {
        printf(",\"verify\":{\"pass\":%s,\"alpha\":", x->pass ? "true" : "false");
        dlm_json_num(stdout, a->alpha);
        printf(",\"chi2\":");
        dlm_json_num(stdout, x->gof.chi2);
        printf(",\"chi2_df\":");
        dlm_json_num(stdout, x->gof.df_chi2);
        printf(",\"chi2_p\":");
        dlm_json_num(stdout, x->gof.p_chi2);
        printf(",\"g\":");
        dlm_json_num(stdout, x->gof.g);
        printf(",\"g_df\":");
        dlm_json_num(stdout, x->gof.df_g);
        printf(",\"g_p\":");
        dlm_json_num(stdout, x->gof.p_g);
        printf(",\"impossible\":%llu,\"tv_sampled\":", (unsigned long long)x->gof.impossible);
        dlm_json_num(stdout, x->gof.tv);
        printf("}");
    }
    printf("}\n");
}

static void print_text(const sample_args *a, const dlm_law *law, const dlm_sample_counts *k, const char *bname,
                       double secs, const char *inexact, const exact_report *x)
{
    char desc[512];
    dlm_policy_describe(&a->pol, desc, sizeof desc);
    printf("law      %s (L=%u, V=%u)\n", law->desc, law->v.L, law->v.V);
    printf("policy   %s\n", desc);
    if (inexact) printf("note     %s\n", inexact);
    if (a->counts)
        printf("chains   %llu read from %s, seed %llu\n", (unsigned long long)k->chains, a->counts,
               (unsigned long long)a->seed);
    else
        printf("chains   %llu on %s, seed %llu: %.3f s, %.4g chains/s\n", (unsigned long long)k->chains, bname,
               (unsigned long long)a->seed, secs, secs > 0 ? (double)k->chains / secs : 0);
    printf("rounds   mean %.4f, max %llu\n", (double)k->rounds_sum / (double)k->chains,
           (unsigned long long)k->rounds_max);
    if (k->offsupport)
        printf("support  %llu chains (%.4g) revealed a combination of probability 0\n",
               (unsigned long long)k->offsupport, (double)k->offsupport / (double)k->chains);
    printf("round    chains  revealed/chain  remasked/chain  revised/chain\n");
    for (uint64_t r = 0; r < k->rounds_max; r++) {
        if (k->rounds_max > 24 && r == 12) {
            printf("...\n");
            r = k->rounds_max - 12;
        }
        double n = k->active[r] ? (double)k->active[r] : 1;
        printf("%5llu %9llu %15.4f %15.4f %14.4f\n", (unsigned long long)r + 1, (unsigned long long)k->active[r],
               (double)k->revealed[r] / n, (double)k->remasked[r] / n, (double)k->revised[r] / n);
    }
    if (x->have) {
        printf("exact    KL(p||q) = %.6g nats, KL(q||p) = %.6g nats, TV = %.6g (q: the policy's exact output "
               "law; %llu states at most, expected rounds %.4f)\n",
               dlm_kl_shown(x->kl_fwd), dlm_kl_shown(x->kl_rev), x->tv, (unsigned long long)x->info.states_max, x->info.rounds_mean);
    }
    if (x->tested) {
        printf("verify   samples vs the policy's exact law: chi2 = %.4g (df %.0f, p %.3g, Holm %.3g), "
               "G = %.4g (df %.0f, p %.3g, Holm %.3g), impossible %llu, TV %.4g\n",
               x->gof.chi2, x->gof.df_chi2, x->gof.p_chi2, x->p_holm[0], x->gof.g, x->gof.df_g, x->gof.p_g,
               x->p_holm[1], (unsigned long long)x->gof.impossible, x->gof.tv);
        printf("%s\n", x->pass ? "PASS" : "FAIL");
    }
}

/* One rank's chunk of the chains under mpirun (dlm_cli_mpi_share). */
typedef struct {
    dlm_backend be;
    const dlm_law *law;
    const dlm_policy *pol;
    dlm_sample_opts so;
    dlm_sample_counts *k;
} sample_part;

static dlm_status sample_chunk(void *ctx, uint64_t first, uint64_t count, dlm_err *err)
{
    sample_part *sp = ctx;
    dlm_sample_opts o = sp->so;
    o.first_chain = first;
    o.chains = count;
    return dlm_sampler_run(sp->be, sp->law, sp->pol, &o, sp->k, err);
}

/* Every count summed over the ranks into rank 0's k (rounds_max: the largest). */
static void mpi_reduce_counts(dlm_sample_counts *k)
{
    uint64_t head[4] = {k->chains, k->rounds_sum, k->offsupport, k->unfinished};
    dlm_cli_mpi_sum(head, 4, 0);
    dlm_cli_mpi_sum(&k->rounds_max, 1, 1);
    dlm_cli_mpi_sum(k->active, k->max_rounds, 0);
    dlm_cli_mpi_sum(k->revealed, k->max_rounds, 0);
    dlm_cli_mpi_sum(k->remasked, k->max_rounds, 0);
    dlm_cli_mpi_sum(k->revised, k->max_rounds, 0);
    dlm_cli_mpi_sum(k->pos, (uint64_t)k->L * k->V, 0);
    if (k->hist) dlm_cli_mpi_sum(k->hist, dlm_law_cells(k->L, k->V), 0);
    if (dlm_cli_mpi_rank() == 0) {
        k->chains = head[0];
        k->rounds_sum = head[1];
        k->offsupport = head[2];
        k->unfinished = head[3];
    }
}

/* Chains first .. first+count-1 into k: here, or shared by the ranks under mpirun
 * (rank 0 then holds the sums of all of them). */
static dlm_status sample_chains(sample_part *sp, uint64_t first, uint64_t count, int quiet, dlm_err *e)
{
    if (!dlm_cli_mpi_on()) return sample_chunk(sp, first, count, e);
    int gpu = dlm_cli_mpi_gpu(sp->be, e);
    if (gpu == -2) return DLM_ECUDA;
    uint64_t mine = 0;
    dlm_status s = dlm_cli_mpi_share(first, count, dlm_cli_mpi_chunk(count), sample_chunk, sp, &mine, e);
    if (s) return s;
    mpi_reduce_counts(sp->k);
    if (!quiet) dlm_cli_mpi_ran("chains", mine, gpu);
    return DLM_OK;
}

// ---------------------------------------------------------------------------
// Checkpoints (--checkpoint, --resume): count files of kind sample, as a part writes.

/* The job a checkpoint must belong to: want (the law, policy, seed, batch, L, V, rounds
 * and histogram setting; no counts) and chains first .. end-1. */
typedef struct {
    const dlm_sample_tally *want;
    uint64_t first, end;
    dlm_sample_counts *k; /* this rank's counts */
    uint64_t max_bytes;   /* the budget a checkpoint is read within */
} sample_job;

static const char *sample_differs(const sample_job *j, const dlm_sample_tally *t)
{
    const dlm_sample_tally *w = j->want;
    if (t->law_hash != w->law_hash || t->k.L != w->k.L || t->k.V != w->k.V) return "law";
    if (t->policy_hash != w->policy_hash || t->k.max_rounds != w->k.max_rounds) return "policy (or policy options)";
    if (t->seed != w->seed) return "seed";
    if (t->batch != w->batch) return "batch (--chains, --shard)";
    if ((t->k.hist != NULL) != (w->k.hist != NULL)) return "histogram setting";
    for (size_t q = 0; q < t->ranges.n; q++)
        if (t->ranges.r[q].first < j->first || t->ranges.r[q].end > j->end) return "chain range";
    return NULL;
}

static dlm_status ckpt_read(void *ctx, const char *path, void **file, const dlm_ranges **ranges, dlm_err *e)
{
    dlm_sample_tally *t = malloc(sizeof *t);
    if (!t) return dlm_fail(e, DLM_ENOMEM, "out of memory for a checkpoint");
    dlm_status s = dlm_sample_tally_read(path, t, ((const sample_job *)ctx)->max_bytes, e);
    const char *what = s ? NULL : sample_differs(ctx, t);
    if (what) {
        dlm_sample_tally_free(t);
        s = dlm_fail(e, DLM_EINPUT, "%s: a checkpoint of another %s than this run", path, what);
    }
    if (s) {
        free(t);
        return s;
    }
    *file = t;
    *ranges = &t->ranges;
    return DLM_OK;
}

static void ckpt_take(void *ctx, const void *file)
{
    const sample_job *j = ctx;
    dlm_sample_counts_add(j->k, &((const dlm_sample_tally *)file)->k);
}

static void ckpt_drop(void *file)
{
    dlm_sample_tally_free(file);
    free(file);
}

static dlm_status ckpt_write(void *ctx, const char *path, const dlm_ranges *mine, dlm_err *e)
{
    const sample_job *j = ctx;
    dlm_sample_tally t = *j->want;
    t.ranges = *mine;
    t.k = *j->k;
    return dlm_sample_tally_write(path, &t, e);
}

static void ckpt_reduce(void *ctx)
{
    mpi_reduce_counts(((sample_job *)ctx)->k);
}

/* The chains in calls of about a second, so that a stop waits for one (the ranks'
 * job's sample function, and one process's). */
typedef struct {
    sample_part *sp;
    const volatile sig_atomic_t *stop;
    uint64_t chunk;
    dlm_sample_tally *t;   /* one process: the tally, its ranges grown here, written to */
    const char *checkpoint;/* every `every` seconds */
    double every, last;
} sample_ranges;

static dlm_status sample_range(void *ctx, uint64_t first, uint64_t end, uint64_t *next, dlm_err *e)
{
    sample_ranges *r = ctx;
    dlm_status s = DLM_OK;
    *next = first;
    while (*next < end && !s && !*r->stop) {
        uint64_t n = end - *next > r->chunk ? r->chunk : end - *next;
        double c0 = dlm_now();
        if ((s = sample_chunk(r->sp, *next, n, e))) break;
        if (r->t && (s = dlm_ranges_add(&r->t->ranges, *next, *next + n, e))) break;
        *next += n;
        double dt = dlm_now() - c0;
        if (dt < 0.25 && r->chunk < (UINT64_C(1) << 36)) r->chunk *= 2;
        else if (dt > 1 && r->chunk > 4096) r->chunk /= 2;
        if (r->checkpoint && dlm_now() - r->last >= r->every) {
            s = dlm_sample_tally_write(r->checkpoint, r->t, e);
            r->last = dlm_now();
        }
    }
    return s;
}

/* Chains first .. first+count-1 into t (an empty tally of the job) with checkpoints:
 * one process resumes --resume FILE into t and samples what it lacks; under mpirun the
 * ranks keep PREFIX.rankR (dlm_cli_mpi_run) and rank 0 ends with the sums. *stopped:
 * a signal stopped it, the checkpoints written. */
static dlm_status sample_checkpointed(sample_part *sp, const sample_args *a, dlm_sample_tally *t, uint64_t first,
                                      uint64_t count, int *stopped, uint64_t max_bytes, dlm_err *e)
{
    *stopped = 0;
    const char *ckpt = a->ck.checkpoint ? a->ck.checkpoint : a->ck.resume;
    dlm_sample_tally want = *t; /* the header only: what a checkpoint must match */
    memset(&want.ranges, 0, sizeof want.ranges);
    sample_job sj = {&want, first, first + count, &t->k, max_bytes};
    dlm_status s = DLM_OK;
    if (!dlm_cli_mpi_on() && a->ck.resume) { /* refused before any work */
        void *file;
        const dlm_ranges *rs;
        if ((s = ckpt_read(&sj, a->ck.resume, &file, &rs, e))) return s;
        dlm_sample_tally *r = file;
        dlm_sample_tally_free(t);
        *t = *r;
        free(r);
    }
    dlm_cli_catch_stop();
    double every = a->ck.every > 0 ? a->ck.every : 60;
    sample_ranges sr = {sp, dlm_cli_stop_flag(), 65536, NULL, NULL, every, dlm_now()};
    sp->k = &t->k;
    if (!dlm_cli_mpi_on()) {
        sr.t = t;
        sr.checkpoint = ckpt;
        dlm_ranges gaps;
        if ((s = dlm_ranges_gaps(&t->ranges, first + count, &gaps, e))) return s;
        for (size_t q = 0; q < gaps.n && !s && !*stopped; q++) {
            uint64_t g0 = gaps.r[q].first < first ? first : gaps.r[q].first, g1 = gaps.r[q].end, next;
            if (g1 <= g0) continue;
            s = sample_range(&sr, g0, g1, &next, e);
            *stopped = !s && next < g1;
        }
        dlm_ranges_free(&gaps);
        return s ? s : dlm_sample_tally_write(ckpt, t, e);
    }
    int gpu = dlm_cli_mpi_gpu(sp->be, e);
    if (gpu == -2) return DLM_ECUDA;
    sj.k = &t->k;
    const dlm_cli_mpi_counts cc = {ckpt_read, ckpt_take, ckpt_drop, ckpt_write, ckpt_reduce, &sj};
    dlm_batch_id id;
    memset(&id, 0, sizeof id);
    dlm_cli_mpi_job j;
    memset(&j, 0, sizeof j);
    j.id = &id;
    j.first = first;
    j.count = count;
    j.batch = t->batch;
    j.mode_name = "sample";
    j.checkpoint = ckpt;
    j.resume = a->ck.resume;
    j.every = every;
    j.stop = sr.stop;
    j.sample = sample_range;
    j.sample_ctx = &sr;
    j.counts = &cc;
    j.max_bytes = max_bytes;
    uint64_t mine = 0;
    if ((s = dlm_cli_mpi_run(&j, NULL, &mine, stopped, e))) return s;
    if (!a->quiet) dlm_cli_mpi_ran("chains", mine, gpu);
    dlm_ranges_free(&t->ranges); /* rank 0 now holds the counts of the whole part */
    if (!*stopped && dlm_cli_mpi_rank() == 0) s = dlm_ranges_add(&t->ranges, first, first + count, e);
    return s;
}

int dlm_cli_sample(int argc, char **argv, int verify, uint64_t max_bytes)
{
    if (dlm_cli_help(sample_usage, argc, argv)) return 0;
    sample_args a;
    int rc = parse_args(argc, argv, &a, verify ? "verify" : "sample");
    if (rc) return rc;
    const int partial = a.part.have_shard || a.part.have_first, from_file = a.counts && !partial;
    a.verify |= verify && !partial; /* a part writes its counts; the merge is verified */
    uint64_t first, count, batch;
    if ((rc = dlm_cli_part_resolve(verify ? "verify" : "sample", &a.part, a.chains, &first, &count, &batch)))
        return rc;
    dlm_sample_tally t;
    memset(&t, 0, sizeof t);
    dlm_law law;
    dlm_err e;
    dlm_sample_counts k;
    memset(&k, 0, sizeof k);
    memset(&law, 0, sizeof law);
    double *q = NULL, *p = NULL;
    exact_report x;
    memset(&x, 0, sizeof x);
    dlm_cli_progress_state ps; /* the phase drawn now, cleared before anything is printed */
    memset(&ps, 0, sizeof ps);
    dlm_out ho = {.f = NULL}; /* --hist, replaced when whole */
    char resolved[4096];
    dlm_status s = DLM_OK;
    /* the output path is checked before the law is read (dlm_out_check) */
    if (a.hist && strcmp(a.hist, "-") && (s = dlm_out_check(a.hist, resolved, sizeof resolved, &e))) goto done;
    if (partial && (s = dlm_out_check(a.counts, resolved, sizeof resolved, &e))) goto done;
    /* checkpoints: FILE (and --resume's, rewritten), or under mpirun this rank's PREFIX.rankR */
    const char *ckpt = a.ck.checkpoint ? a.ck.checkpoint : a.ck.resume;
    char rankfile[4200] = "";
    if (ckpt && dlm_cli_mpi_on()) snprintf(rankfile, sizeof rankfile, "%s.rank%d", ckpt, dlm_cli_mpi_rank());
    const char *couts[2] = {rankfile[0] ? rankfile : a.ck.checkpoint, rankfile[0] ? NULL : a.ck.resume};
    for (int i = 0; i < 2 && !s; i++)
        if (couts[i]) s = dlm_out_check(couts[i], resolved, sizeof resolved, &e);
    if (s) goto done;
    s = dlm_law_load(a.law, &law, max_bytes, &e);
    if (s) goto done;
    if ((s = dlm_policy_check(&a.pol, law.v.L, &e))) goto done;
    if ((s = dlm_law_build_marginals(&law, UINT64_C(256) << 20, &e))) goto done;
    dlm_backend be;
    char notice[256] = "";
    if ((s = dlm_backend_resolve(a.backend, &be, notice, sizeof notice, &e))) goto done;
    int want_exact = a.exact || a.verify;
    int want_hist = a.hist != NULL || a.verify;
    uint64_t cells = dlm_law_cells(law.v.L, law.v.V);
    if (from_file) {
        /* the counts of a merge: the file must be of this law, policy and seed */
        if ((s = dlm_sample_tally_read(a.counts, &t, max_bytes, &e))) goto done;
        const char *other = t.law_hash != dlm_law_hash(&law.v) ? "law"
                          : t.policy_hash != dlm_policy_hash(&a.pol) ? "policy (or policy options)"
                          : a.have_seed && t.seed != a.seed ? "seed" : NULL;
        if (other) {
            if (*other == 's')
                s = dlm_fail(&e, DLM_EINPUT, "%s: the counts are of seed %llu, --seed says %llu", a.counts,
                             (unsigned long long)t.seed, (unsigned long long)a.seed);
            else
                s = dlm_fail(&e, DLM_EINPUT, "%s: the counts are of another %s than %s", a.counts, other, a.law);
            goto done;
        }
        if (a.have_chains && a.chains != t.k.chains) {
            s = dlm_fail(&e, DLM_EINPUT, "%s: the counts are of %llu chains, --chains says %llu", a.counts,
                         (unsigned long long)t.k.chains, (unsigned long long)a.chains);
            goto done;
        }
        if (want_hist && !t.k.hist) {
            s = dlm_fail(&e, DLM_EINPUT, "%s: no histogram in the counts (--verify and --hist need one)", a.counts);
            goto done;
        }
        a.seed = t.seed;
        k = t.k; /* moved: t.k is not freed below */
        memset(&t.k, 0, sizeof t.k);
    } else if (partial || ckpt) {
        /* the histogram whenever the law has a table, so that the merge can be verified
         * (and a checkpoint is the same whatever --hist and --verify) */
        if ((s = dlm_sample_tally_init(&t, &law, &a.pol, a.seed, batch, want_hist || cells != UINT64_MAX, &e)))
            goto done;
        if (!ckpt && (s = dlm_ranges_add(&t.ranges, first, first + count, &e))) goto done;
    } else if ((s = dlm_sample_counts_init(&k, &law, &a.pol, want_hist, &e))) {
        goto done;
    }
    const int root = dlm_cli_mpi_rank() == 0; /* under mpirun only rank 0 writes and prints */
    if (want_exact && cells == UINT64_MAX) {
        s = dlm_fail(&e, DLM_EINPUT, "--exact and --verify need V^L <= %llu sequences (this law: V=%u, L=%u)",
                     (unsigned long long)DLM_LAW_TABLE_MAX, law.v.V, law.v.L);
        goto done;
    }
    /* the notice before the work (the exact law can take long) */
    if (notice[0] && !a.json && !from_file && root) fprintf(stderr, "%s\n", notice);
    dlm_sample_opts so;
    memset(&so, 0, sizeof so);
    so.first_chain = first;
    so.chains = count;
    so.seed = a.seed;
    so.threads = a.threads;
    double t0 = dlm_now();
    dlm_sample_counts *ran = partial || ckpt ? &t.k : &k;
    sample_part sp = {be, &law, &a.pol, so, ran};
    /* progress on a terminal; under mpirun one rank's view is not the job's progress */
    ps = dlm_cli_phase("sampling", NULL, a.quiet || dlm_cli_mpi_on());
    sp.so.progress = dlm_cli_progress;
    sp.so.progress_ctx = &ps;
    int stopped = 0;
    if (ckpt && !from_file) s = sample_checkpointed(&sp, &a, &t, first, count, &stopped, max_bytes, &e);
    else if (!from_file) s = sample_chains(&sp, first, count, a.quiet, &e);
    dlm_cli_phase_end(&ps);
    if (s) goto done;
    double secs = dlm_now() - t0;
    if (stopped) {
        int sig = *dlm_cli_stop_flag() ? (int)*dlm_cli_stop_flag() : SIGTERM;
        if (dlm_cli_mpi_on() && root)
            fprintf(stderr, "dlmsim: stopped by signal %d; the counts of every rank are in %s.rank* (continue with "
                    "mpirun ... --resume %s)\n", sig, ckpt, ckpt);
        else if (root)
            fprintf(stderr, "dlmsim: stopped by signal %d after %llu of %llu chains; counts saved in %s (continue "
                    "with --resume %s)\n", sig, (unsigned long long)t.k.chains, (unsigned long long)count, ckpt, ckpt);
        rc = 128 + sig;
        goto done;
    }
    if (!root) goto done; /* rank 0 reports for all */
    if (ckpt && !partial) { /* the report reads k */
        k = t.k;
        ran = &k;
        memset(&t.k, 0, sizeof t.k);
    }
    if (ran->unfinished) {
        s = dlm_fail(&e, DLM_ECHECK, "%llu chains did not finish in %u rounds (an internal error)",
                     (unsigned long long)ran->unfinished, ran->max_rounds);
        goto done;
    }
    if (partial) {
        if ((s = dlm_sample_tally_write(a.counts, &t, &e))) goto done;
        fprintf(stderr, "dlmsim: chains %llu..%llu of %llu sampled in %.3f s; counts in %s (merge the parts with "
                "dlmsim merge, then dlmsim %s %s ... --counts FILE)\n", (unsigned long long)first,
                (unsigned long long)(first + count - 1), (unsigned long long)batch, secs, a.counts,
                verify ? "verify" : "sample", a.law);
        goto done;
    }
    if (want_exact) {
        if (!(q = dlm_calloc(cells, sizeof *q))) {
            s = dlm_fail(&e, DLM_ENOMEM, "out of memory for the exact law");
            goto done;
        }
        ps = dlm_cli_phase("exact law", "", a.quiet);
        if ((s = dlm_sampler_exact_progress(&law, &a.pol, a.max_states, q, &x.info, dlm_cli_progress, &ps, &e)))
            goto done;
        if ((s = dlm_law_table(&law, &p, &e))) goto done;
        x.have = 1;
        x.kl_fwd = dlm_kl_div(p, q, cells);
        x.kl_rev = dlm_kl_div(q, p, cells);
        x.tv = dlm_kl_tv(p, q, cells);
    }
    /* --hist is opened only now, when it is written (its path was checked up front) */
    if (a.hist && root) {
        if ((s = dlm_out_open(&ho, a.hist, 0, &e))) goto done;
        for (uint64_t i = 0; i < cells; i++) {
            if (!k.hist[i]) continue;
            put_seq(ho.f, &law, i);
            fprintf(ho.f, "\t%llu\n", (unsigned long long)k.hist[i]);
        }
        if (dlm_out_close(&ho)) {
            s = dlm_fail(&e, DLM_EIO, "%s: write failed: %s", a.hist, strerror(errno));
            goto done;
        }
    }
    if (a.verify) {
        dlm_stat_hist_gof(q, k.hist, cells, &x.gof);
        double praw[2] = {x.gof.p_chi2, x.gof.p_g};
        if ((s = dlm_stat_holm(praw, 2, x.p_holm, &e))) goto done;
        x.tested = 1;
        x.pass = x.gof.impossible == 0 && x.p_holm[0] >= a.alpha && x.p_holm[1] >= a.alpha;
    }
    char why[160];
    const char *inexact = dlm_policy_inexact(&a.pol, why, sizeof why) ? why : NULL;
    const char *bname = from_file ? "counts" : dlm_backend_name(be);
    if (a.json) print_json(&a, &law, &k, bname, secs, inexact, &x);
    else print_text(&a, &law, &k, bname, secs, inexact, &x);
    rc = x.tested && !x.pass ? 1 : 0;
done:
    dlm_cli_phase_end(&ps);
    dlm_out_abort(&ho);
    free(q);
    free(p);
    dlm_sample_counts_free(&k);
    dlm_sample_tally_free(&t);
    dlm_law_free(&law);
    if (s) {
        fprintf(stderr, "dlmsim: %s\n", e.msg);
        return dlm_exit_code(s);
    }
    return rc;
}
