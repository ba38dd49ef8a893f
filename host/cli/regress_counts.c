/* regress_counts.c — `dlmsim regress SUITE --counts FILE ...`: count files merged from
 * shards or written by a job (docs/scale-out.md) checked against the suite's cases
 * without sampling again. Each file must cover the whole batch of exactly one case
 * (same circuit with its bias, mode, seed and chains); its digest must equal the case's
 * golden digest, and a file of kind verify must also give the case's verdict. */
#include "dlm_cli.h"
#include "dlm_regress.h"
#include "dlm_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The case of s whose circuit (with its bias), mode, seed and chains are t's, with its
 * circuit loaded into L and its verifier options in vo; -1 if none. Circuits are
 * loaded only for the cases whose mode, seed and chains match. */
static long find_case(const dlm_regress_suite *s, const dlm_regress_opts *o, const dlm_tally *t, dlm_cli_loaded *L,
                      dlm_verify_opts *vo)
{
    dlm_err e;
    for (size_t i = 0; i < s->ncases; i++) {
        const dlm_regress_case *c = &s->cases[i];
        if (strcmp(dlm_mode_name(c->mode), t->mode) || c->seed != t->seed || c->chains != t->batch) continue;
        if (dlm_cli_load(c->circuit, o->max_bytes, 1, L, &e)) continue; /* an unloadable case cannot be this file's */
        dlm_regress_case_opts(c, o, vo);
        uint64_t hash;
        if (!dlm_verify_sampled_hash(&L->c, vo, &hash, &e) && hash == t->circuit_hash) return (long)i;
        dlm_cli_unload(L);
    }
    return -1;
}

int dlm_cli_regress_counts(const dlm_regress_suite *s, const char *const *files, int nfiles, const dlm_regress_opts *o)
{
    int status = 0;
    printf("%-24s %5s  %-28s %-6s %10s %6s  %-6s %-7s %-16s  %s\n", "counts", "line", "circuit", "mode", "chains",
           "seed", "expect", "verdict", "digest", "result");
    for (int f = 0; f < nfiles; f++) {
        dlm_err e;
        dlm_tally t;
        if (dlm_tally_read(files[f], &t, o->max_bytes, &e)) {
            fprintf(stderr, "dlmsim: %s\n", e.msg);
            return 2;
        }
        dlm_ranges gaps;
        memset(&gaps, 0, sizeof gaps);
        if (dlm_tally_gaps(&t, &gaps, &e) || gaps.n) {
            if (gaps.n)
                fprintf(stderr, "dlmsim: %s: chains %llu..%llu of the batch are in no shard (merge every shard first)\n",
                        files[f], (unsigned long long)gaps.r[0].first, (unsigned long long)gaps.r[0].end - 1);
            else fprintf(stderr, "dlmsim: %s: %s\n", files[f], e.msg);
            dlm_ranges_free(&gaps);
            dlm_tally_free(&t);
            return 2;
        }
        dlm_cli_loaded L;
        dlm_verify_opts vo;
        long ci = find_case(s, o, &t, &L, &vo);
        if (ci < 0) {
            fprintf(stderr, "dlmsim: %s: no case of %s has its circuit, mode %s, seed %llu and %llu chains\n",
                    files[f], s->path, t.mode, (unsigned long long)t.seed, (unsigned long long)t.batch);
            dlm_tally_free(&t);
            return 2;
        }
        const dlm_regress_case *c = &s->cases[ci];
        uint64_t d = dlm_regress_digest(&t.counts);
        char hex[17];
        dlm_regress_digest_format(d, hex);
        int digest_ok = !c->have_digest || c->digest == d;
        const char *verdict = "-";
        int verdict_ok = 1;
        if (t.verify) {
            dlm_verify_report r;
            if (dlm_verify_check(&L.c, &vo, &t, &r, &e)) {
                fprintf(stderr, "dlmsim: %s: %s\n", files[f], e.msg);
                dlm_verify_report_free(&r);
                dlm_cli_unload(&L);
                dlm_tally_free(&t);
                return 2;
            }
            verdict = r.pass ? "PASS" : "FAIL";
            verdict_ok = r.pass == c->expect_pass;
            dlm_verify_report_free(&r);
        }
        int ok = digest_ok && verdict_ok;
        if (!ok) status = 1;
        printf("%-24s %5u  %-28s %-6s %10llu %6llu  %-6s %-7s %-16s%s %s\n", files[f], c->line, c->circuit,
               t.mode, (unsigned long long)t.batch, (unsigned long long)t.seed, c->expect_pass ? "pass" : "fail",
               verdict, hex, digest_ok ? " " : "*", ok ? "ok" : "FAIL");
        dlm_cli_unload(&L);
        dlm_tally_free(&t);
    }
    printf("\n%d count file%s: result %s\n", nfiles, nfiles == 1 ? "" : "s", status ? "FAIL" : "PASS");
    return status;
}
