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
        if (takes && !v) return dlm_cli_usage_error("option %s needs a value", o);
        if (!strcmp(o, "--mode")) {
            if (dlm_mode_parse(v, &a->o.mode)) return dlm_cli_usage_error("unknown mode %s (cot, remask, revise, ar)", v);
        } else if (!strcmp(o, "--chains")) {
            if (dlm_parse_count(v, &a->o.chains) || a->o.chains == 0) return dlm_cli_usage_error("bad --chains %s", v);
        } else if (!strcmp(o, "--seed")) {
            if (dlm_parse_count(v, &a->o.seed)) return dlm_cli_usage_error("bad --seed %s", v);
        } else if (!strcmp(o, "--threads")) {
            if (dlm_cli_parse_threads(v, &a->o.threads)) return dlm_cli_usage_error("bad --threads %s", v);
        } else if (!strcmp(o, "--alpha")) {
            if (dlm_cli_parse_alpha(v, &a->o.alpha)) return dlm_cli_usage_error("bad --alpha %s (a number in (0, 1))", v);
        } else if (!strcmp(o, "--target")) {
            if (dlm_target_want_parse(v, &a->o.target))
                return dlm_cli_usage_error("unknown target %s (auto, exact, reference)", v);
        } else if (!strcmp(o, "--backend")) {
            if (dlm_backend_parse(v, &a->o.backend)) return dlm_cli_usage_error("unknown backend %s (auto, cpu, cpu-ref, cuda, cuda-ref)", v);
        } else if (!strcmp(o, "--inject-bias")) {
            uint32_t kk;
            double eps;
            int b = dlm_bias_parse(v, strlen(v), &kk, &eps);
            if (b == -1) return dlm_cli_usage_error("bad --inject-bias %s (K:EPS)", v);
            if (b) return dlm_cli_usage_error("bad --inject-bias %s (K:EPS with -1/2 < EPS < 1/2)", v);
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
            return dlm_cli_usage_error("verify: unknown option %s", o);
        } else if (!a->path) {
            a->path = o;
            continue;
        } else {
            return dlm_cli_usage_error("verify: unexpected argument %s", o);
        }
        i++;
    }
    if (!a->path) return dlm_cli_usage_error("verify: missing CIRCUIT%s", "");
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

int dlm_cli_verify(int argc, char **argv)
{
    verify_args a;
    int rc = parse_verify(argc, argv, &a);
    if (rc) return rc;
    dlm_err e;
    dlm_cli_loaded L;
    dlm_status s = dlm_cli_load(a.path, &L, &e);
    if (s) return dlm_cli_fail(s, &e);
    dlm_verify_report r;
    dlm_cli_progress_state ps = {isatty(2), a.quiet, 0, 0};
    a.o.progress = dlm_cli_progress;
    a.o.progress_ctx = &ps;
    s = dlm_verify_run(&L.c, &L.lv, &a.o, &r, &e);
    if (!s) {
        if (r.backend_notice[0]) fprintf(stderr, "%s\n", r.backend_notice);
        if (a.json) dlm_verify_write_json(stdout, a.path, &r);
        else verify_text(a.path, &r);
    }
    int pass = !s && r.pass;
    dlm_verify_report_free(&r);
    dlm_cli_unload(&L);
    if (s) return dlm_cli_fail(s, &e);
    return pass ? 0 : 1;
}

/* --max-memory SIZE, accepted by every command (anywhere after it), sets the memory
 * budget (DLMSIM_MAX_MEMORY, dlm_memory_budget) and is removed from argv. */
