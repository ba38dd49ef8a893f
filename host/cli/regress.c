/* cli_regress.c — `dlmsim regress SUITE`: runs a regression suite (docs/regress.md) and
 * prints a table (default) or one JSON object (--json), writes JUnit XML (--junit FILE)
 * and, with --update, rewrites the suite's golden digests.
 *
 *   dlmsim regress SUITE [--backend auto|cpu|cpu-ref|cuda|cuda-ref] [--threads N] [--alpha A]
 *                        [--json] [--junit FILE] [--update] [--quiet]
 *
 * Exit codes: 0 every case passed, 1 a case failed (verdict or digest), 2 bad input or
 * usage (a malformed suite line "SUITE:LINE: what", an unreadable circuit, ...).
 * The library part (parsing, running, digests, reports, the atomic rewrite) is
 * host/verify/regress.c; this file only parses options, prints and exits.
 */
#include "dlm_cli.h"
#include "dlm_engine.h"
#include "dlm_regress.h"


#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const regress_usage =
    "usage: dlmsim regress SUITE [--backend auto|cpu|cpu-ref|cuda|cuda-ref] [--threads N]\n"
    "                            [--alpha A] [--json] [--junit FILE] [--update] [--quiet]\n"
    "       dlmsim regress SUITE --counts FILE [--counts FILE ...] [--alpha A]\n"
    "SUITE lines: CIRCUIT MODE CHAINS SEED pass|fail DIGEST|- [bias=K:EPS] [target=T]\n"
    "(docs/regress.md). --update rewrites the digests of cases whose verdict matches.\n"
    "--threads: 0 .. 4096, 0 = one per core (the default). --alpha: in (0, 1), default 1e-3.\n"
    "--junit FILE: JUnit XML (- for stdout). --quiet: no progress on stderr.\n";

#define C "regress"

/* Options (their help is the synopsis above): the parser asks this table which take a
 * value; test/cli_options.sh checks that every option the synopsis shows is here. */
static const dlm_cli_opt regress_opts[] = {
    {"--backend", 1, NULL}, {"--threads", 1, NULL}, {"--alpha", 1, NULL}, {"--junit", 1, NULL},
    {"--counts", 1, NULL},  {"--json", 0, NULL},    {"--update", 0, NULL}, {"--quiet", 0, NULL},
    {NULL, 0, NULL}};

typedef struct {
    const char *suite;
    const char *junit;
    int json, update, quiet;
    dlm_regress_opts o;
    const char **counts; /* --counts FILE, repeated: check these instead of sampling */
    int ncounts;
} regress_args;

static int parse_args(int argc, char **argv, regress_args *a, const char **counts)
{
    memset(a, 0, sizeof *a);
    a->counts = counts;
    dlm_regress_opts_default(&a->o);
    a->o.jit_dir = dlm_cli_jit_dir();
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = dlm_cli_opt_takes(regress_opts, o);
        if (takes && !v) return dlm_cli_usage(C, "option %s needs a value", o);
        if (!strcmp(o, "--backend")) {
            if (dlm_backend_parse(v, &a->o.backend)) return dlm_cli_bad(C, o, v, "auto, cpu, cpu-ref, cuda or cuda-ref");
        } else if (!strcmp(o, "--threads")) {
            if (dlm_cli_parse_threads(v, &a->o.threads)) return dlm_cli_bad(C, o, v, THREADS_ALLOWED);
        } else if (!strcmp(o, "--alpha")) {
            if (dlm_cli_parse_alpha(v, &a->o.alpha)) return dlm_cli_bad(C, o, v, "a number in (0, 1)");
        } else if (!strcmp(o, "--junit")) {
            a->junit = v;
        } else if (!strcmp(o, "--counts")) {
            a->counts[a->ncounts++] = v; /* argv has room: at most argc / 2 of them */
        } else if (!strcmp(o, "--json")) {
            a->json = 1;
            continue;
        } else if (!strcmp(o, "--update")) {
            a->update = a->o.update = 1;
            continue;
        } else if (!strcmp(o, "--quiet")) {
            a->quiet = 1;
            continue;
        } else if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            fputs(regress_usage, stdout);
            exit(0);
        } else if (o[0] == '-' && o[1]) {
            return dlm_cli_usage(C, "unknown option %s", o);
        } else if (!a->suite) {
            a->suite = o;
            continue;
        } else {
            return dlm_cli_usage(C, "unexpected argument %s (one SUITE only)", o);
        }
        i++;
    }
    if (!a->suite) return dlm_cli_usage(C, "missing SUITE");
    if (a->ncounts && (a->update || a->junit || a->json))
        return dlm_cli_usage(C, "--counts checks count files: not with --update, --junit or --json");
    return 0;
}

/* The circuit column: the circuit, plus the optional fields that change what runs. */
static void circuit_cell(const dlm_regress_case *c, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "%s", c->circuit);
    if (n < cap && c->inject) n += (size_t)snprintf(buf + n, cap - n, " bias=%u:%g", c->inject_coin, c->inject_eps);
    if (n < cap && c->target != DLM_TARGET_AUTO)
        snprintf(buf + n, cap - n, " target=%s", c->target == DLM_TARGET_EXACT ? "exact" : "reference");
}

static void print_row(FILE *f, int w, const dlm_regress_case *c, const dlm_regress_result *r)
{
    char cell[1200], hex[17] = "-";
    circuit_cell(c, cell, sizeof cell);
    if (r->have_digest) dlm_regress_digest_format(r->digest, hex);
    const char *mark = r->have_digest && c->have_digest && r->digest != c->digest ? "*"
                       : r->have_digest && !c->have_digest                     ? "+"
                                                                                : " ";
    const char *res = r->outcome == DLM_REGRESS_PASS ? "ok" : r->outcome == DLM_REGRESS_FAIL ? "FAIL" : "ERROR";
    fprintf(f, "%5u  %-*s  %-6s %10llu %6llu  %-6s %-7s %-16s%s %8.2f  %s\n", c->line, w, cell,
            dlm_mode_name(c->mode), (unsigned long long)c->chains, (unsigned long long)c->seed,
            c->expect_pass ? "pass" : "fail", r->status ? "-" : r->verdict_pass ? "PASS" : "FAIL", hex, mark,
            r->seconds, res);
    fflush(f);
}

/* The cases an MPI rank takes (dlm_cli_mpi_share over case indices, one at a time). */
typedef struct {
    const dlm_regress_suite *s;
    const dlm_regress_opts *o;
    dlm_regress_result *res;
    unsigned char *mine;
} regress_part;

static dlm_status regress_chunk(void *ctx, uint64_t first, uint64_t count, dlm_err *err)
{
    (void)err;
    regress_part *p = ctx;
    for (uint64_t i = first; i < first + count; i++) {
        dlm_regress_run_case(p->s, &p->s->cases[i], p->o, &p->res[i]);
        p->mine[i] = 1;
    }
    return DLM_OK;
}

/* regress with room for the --counts FILE names (at most argc / 2 of them) */
static int regress_main(int argc, char **argv, const char **counts, uint64_t max_bytes)
{
    regress_args a;
    int rc = parse_args(argc, argv, &a, counts);
    if (rc) return rc;
    a.o.max_bytes = max_bytes;
    dlm_err e;
    /* outputs checked before any case runs (dlm_out_check): a regular file, a new one
     * or a symlink to one; --update rewrites a symlinked suite's target */
    char resolved[4096];
    if ((a.junit && strcmp(a.junit, "-") && dlm_out_check(a.junit, resolved, sizeof resolved, &e)) ||
        (a.update && dlm_out_check(a.suite, resolved, sizeof resolved, &e))) {
        fprintf(stderr, "dlmsim: %s\n", e.msg);
        return 2;
    }
    dlm_regress_suite s;
    dlm_status st = dlm_regress_load(a.suite, &s, max_bytes, &e);
    if (st) {
        fprintf(stderr, "dlmsim: %s\n", e.msg);
        return 2;
    }
    if (a.ncounts) {
        rc = dlm_cli_regress_counts(&s, (const char *const *)a.counts, a.ncounts, &a.o);
        dlm_regress_suite_free(&s);
        return rc;
    }
    dlm_regress_result *res = calloc(s.ncases, sizeof *res);
    if (!res) {
        fprintf(stderr, "dlmsim: out of memory for %zu results\n", s.ncases);
        dlm_regress_suite_free(&s);
        return 2;
    }

    /* The table streams a row per case as it completes (a nightly suite takes minutes);
     * with --json, a progress line goes to a terminal's stderr instead. */
    int w = 7;
    for (size_t i = 0; i < s.ncases; i++) {
        char cell[1200];
        circuit_cell(&s.cases[i], cell, sizeof cell);
        int n = (int)strlen(cell);
        if (n > w) w = n < 64 ? n : 64;
    }
    int progress = a.json && !a.quiet && isatty(2);
    if (!a.json && dlm_cli_mpi_rank() == 0)
        printf("%5s  %-*s  %-6s %10s %6s  %-6s %-7s %-16s  %8s  %s\n", "line", w, "circuit", "mode", "chains", "seed",
               "expect", "verdict", "digest", "seconds", "result");
    /* the no-device notice once, before any case and its progress (the cases' own
     * notices, the same text, are then not repeated) */
    int noticed = 0, gpu = -1;
    {
        char notice[256] = "";
        dlm_backend be;
        dlm_err ne;
        if (!dlm_backend_resolve(a.o.backend, &be, notice, sizeof notice, &ne)) {
            if (notice[0] && dlm_cli_mpi_rank() == 0) fprintf(stderr, "%s\n", notice);
            noticed = notice[0] != 0;
            /* under mpirun: this rank's GPU, by its node-local rank */
            if ((gpu = dlm_cli_mpi_gpu(be, &ne)) == -2) {
                fprintf(stderr, "dlmsim: regress: %s\n", ne.msg);
                free(res);
                dlm_regress_suite_free(&s);
                return 2;
            }
        }
    }
    if (dlm_cli_mpi_on()) {
        /* mpirun: the ranks take cases as they finish theirs; rank 0 prints them all
         * in suite order once every case has run */
        unsigned char *mine = calloc(s.ncases ? s.ncases : 1, 1);
        uint64_t took = 0;
        regress_part part = {&s, &a.o, res, mine};
        if (!mine || dlm_cli_mpi_share(0, s.ncases, 1, regress_chunk, &part, &took, &e)) {
            fprintf(stderr, "dlmsim: regress: %s\n", mine ? e.msg : "out of memory");
            free(mine);
            free(res);
            dlm_regress_suite_free(&s);
            return 2;
        }
        if (!a.quiet) dlm_cli_mpi_ran("cases", took, gpu);
        dlm_cli_mpi_collect(res, sizeof *res, s.ncases, mine);
        free(mine);
        if (dlm_cli_mpi_rank() != 0) {
            free(res);
            dlm_regress_suite_free(&s);
            return 0;
        }
        for (size_t i = 0; i < s.ncases; i++) {
            if (res[i].notice[0] && !noticed) {
                fprintf(stderr, "%s\n", res[i].notice);
                noticed = 1;
            }
            if (!a.json) print_row(stdout, w, &s.cases[i], &res[i]);
        }
    }
    for (size_t i = 0; i < s.ncases && !dlm_cli_mpi_on(); i++) {
        const dlm_regress_case *c = &s.cases[i];
        if (progress) {
            fprintf(stderr, "\r[%zu/%zu] %s %s ...\033[K", i + 1, s.ncases, c->circuit, dlm_mode_name(c->mode));
            fflush(stderr);
        }
        dlm_regress_run_case(&s, c, &a.o, &res[i]);
        if (res[i].notice[0] && !noticed) {
            if (progress) fputs("\r\033[K", stderr);
            fprintf(stderr, "%s\n", res[i].notice);
            noticed = 1;
        }
        if (!a.json) print_row(stdout, w, c, &res[i]);
    }
    if (progress) fputs("\r\033[K", stderr);

    dlm_regress_totals t;
    dlm_regress_totals_of(&s, res, &t);
    int status = t.errors ? 2 : t.failed ? 1 : 0;

    long updated = -1;
    if (a.update) {
        size_t changed = 0;
        st = dlm_regress_update(&s, res, &changed, &e);
        if (st) {
            fprintf(stderr, "dlmsim: %s\n", e.msg);
            status = 2;
        } else {
            updated = (long)changed;
        }
    }

    if (a.json) {
        st = dlm_regress_write_json(stdout, &s, res, &a.o, updated, &e);
        if (st) {
            fprintf(stderr, "dlmsim: %s\n", e.msg);
            status = 2;
        }
    } else {
        if (t.failed || t.errors) {
            printf("\n");
            for (size_t i = 0; i < s.ncases; i++)
                if (res[i].outcome == DLM_REGRESS_FAIL)
                    printf("FAIL  %s:%u: %s %s: %s\n", s.path, s.cases[i].line, s.cases[i].circuit,
                           dlm_mode_name(s.cases[i].mode), res[i].reason);
                else if (res[i].outcome == DLM_REGRESS_ERROR)
                    printf("ERROR %s\n", res[i].reason); /* already "SUITE:LINE: ..." */
        }
        printf("\n%zu case%s: %zu passed, %zu failed, %zu error%s (%.1f s)", t.cases, t.cases == 1 ? "" : "s",
               t.passed, t.failed, t.errors, t.errors == 1 ? "" : "s", t.seconds);
        if (updated >= 0) printf("; %ld digest%s rewritten in %s", updated, updated == 1 ? "" : "s", s.path);
        printf("\n(digest * differs from the recorded one, + not recorded yet)\n");
        printf("result %s\n", status == 0 ? "PASS" : status == 1 ? "FAIL" : "ERROR");
    }

    if (a.junit) {
        dlm_out o;
        if (dlm_out_open(&o, a.junit, 0, &e)) {
            fprintf(stderr, "dlmsim: %s\n", e.msg);
            status = 2;
        } else {
            st = dlm_regress_write_junit(o.f, &s, res, &e);
            if (st) dlm_out_abort(&o);
            else if (dlm_out_close(&o)) st = dlm_fail(&e, DLM_EIO, "write failed: %s", strerror(errno));
            if (st) {
                fprintf(stderr, "dlmsim: %s: %s\n", a.junit, e.msg);
                status = 2;
            }
        }
    }
    free(res);
    dlm_regress_suite_free(&s);
    return status;
}

int dlm_cli_regress(int argc, char **argv, uint64_t max_bytes)
{
    const char **counts = calloc((size_t)argc / 2 + 1, sizeof *counts);
    if (!counts) {
        fprintf(stderr, "dlmsim: out of memory\n");
        return 2;
    }
    int rc = regress_main(argc, argv, counts, max_bytes);
    free(counts);
    return rc;
}
