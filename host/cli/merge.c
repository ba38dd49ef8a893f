/* merge.c — dlmsim merge COUNTS... -o FILE [--allow-gaps] [--json]: sums count files
 * (dlm_tally.h) after checking that they belong together (same circuit, mode, seed,
 * outputs, versions) and that no chain is in two of them. Gaps against the batch are
 * reported one line each; they refuse the merge (exit 2) unless --allow-gaps. Prints
 * the merged chains and the regression digest (dlm_regress.h) of the merged counts,
 * which equals the digest of one process that ran the same chains (docs/scale-out.md). */
#include "dlm_cli.h"
#include "dlm_regress.h"
#include "dlm_sample_tally.h"
#include "dlm_tally.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define C "merge"

static const char *const merge_head =
    "usage: dlmsim merge COUNTS... -o FILE [--allow-gaps] [--json]   (docs/scale-out.md)\n"
    "Sums count files (run, verify or sample --counts) of one circuit, mode and seed (or one\n"
    "law, policy and seed); no chain may be in two.\n"
    "Prints the merged chains and the regression digest (equal to one process's).\n";

/* Options: the parser asks this table which take a value; --help prints their lines. */
static const dlm_cli_opt merge_opts[] = {
    {"-o", 1, "  -o FILE             the merged count file\n"},
    {"--allow-gaps", 0, "  --allow-gaps        merge even when chains of the batch are in none of the files\n"},
    {"--json", 0, "  --json              one JSON object instead of the table\n"},
    {NULL, 0, NULL}};
static const char *const merge_tail = "";

/* Prints the gaps (one line each); 1 when there are some. */
static int report_gaps(const dlm_ranges *gaps, uint64_t batch, int allow_gaps)
{
    for (size_t g = 0; g < gaps->n; g++)
        fprintf(stderr, "dlmsim: merge: %s chains %" PRIu64 "..%" PRIu64 " (of batch 0..%" PRIu64
                ") are in none of the files\n", allow_gaps ? "note:" : "gap:", gaps->r[g].first,
                gaps->r[g].end - 1, batch - 1);
    return gaps->n != 0;
}

/* The oracle sampler's count files (kind sample, dlm_sample_tally.h). */
static int merge_sample(char **in, int nin, const char *out, int allow_gaps, int json, uint64_t max_bytes)
{
    dlm_err e;
    dlm_sample_tally sum, t;
    dlm_status s = dlm_sample_tally_read(in[0], &sum, max_bytes, &e);
    if (s) return dlm_cli_fail(DLM_EINPUT, &e);
    for (int i = 1; i < nin && !s; i++) {
        if ((s = dlm_sample_tally_read(in[i], &t, max_bytes, &e))) break;
        s = dlm_sample_tally_merge(&sum, i == 1 ? in[0] : "the files before it", &t, in[i], &e);
        dlm_sample_tally_free(&t);
    }
    dlm_ranges gaps = {0};
    if (!s) s = dlm_ranges_gaps(&sum.ranges, sum.batch, &gaps, &e);
    int rc = 0;
    if (s) {
        rc = dlm_cli_fail(DLM_EINPUT, &e);
    } else if (report_gaps(&gaps, sum.batch, allow_gaps) && !allow_gaps) {
        rc = 2;
    } else if ((s = dlm_sample_tally_write(out, &sum, &e))) {
        rc = dlm_cli_fail(DLM_EINPUT, &e);
    } else {
        uint64_t d = dlm_sample_counts_digest(&sum.k);
        if (json)
            printf("{\"files\":%d,\"kind\":\"sample\",\"chains\":%" PRIu64 ",\"batch\":%" PRIu64
                   ",\"gaps\":%zu,\"digest\":\"%016" PRIx64 "\"}\n", nin, sum.k.chains, sum.batch, gaps.n, d);
        else
            printf("merged      %d files into %s\nkind        sample (the oracle sampler)\nchains      %" PRIu64
                   " of batch %" PRIu64 "\ngaps        %zu\ndigest      %016" PRIx64 "\n", nin, out, sum.k.chains,
                   sum.batch, gaps.n, d);
    }
    dlm_ranges_free(&gaps);
    dlm_sample_tally_free(&sum);
    return rc;
}

int dlm_cli_merge(int argc, char **argv, uint64_t max_bytes)
{
    if (dlm_cli_help_opts(merge_head, merge_opts, merge_tail, argc, argv)) return 0;
    const char *out = NULL;
    int allow_gaps = 0, json = 0, nin = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "-o")) {
            if (i + 1 >= argc) return dlm_cli_usage(C, "option -o needs a value");
            out = argv[++i];
        } else if (!strcmp(argv[i], "--allow-gaps")) {
            allow_gaps = 1;
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return dlm_cli_usage(C, "unknown option %s", argv[i]);
        } else {
            argv[nin++] = argv[i];
        }
    }
    if (!nin || !out) return dlm_cli_usage(C, "%s", !nin ? "missing COUNTS files" : "missing -o FILE");
    dlm_err e;
    char resolved[4096];
    if (dlm_out_check(out, resolved, sizeof resolved, &e)) return dlm_cli_fail(DLM_EINPUT, &e);
    /* the first file's kind says which counts these are */
    char *buf, kind[16] = "";
    dlm_cursor body;
    if (dlm_tally_file_load(argv[0], &buf, &body, kind, sizeof kind, max_bytes, &e)) return dlm_cli_fail(DLM_EINPUT, &e);
    free(buf);
    if (!strcmp(kind, "sample")) return merge_sample(argv, nin, out, allow_gaps, json, max_bytes);
    dlm_tally sum, t;
    dlm_status s = dlm_tally_read(argv[0], &sum, max_bytes, &e);
    if (s) {
        fprintf(stderr, "dlmsim: %s\n", e.msg);
        return 2;
    }
    for (int i = 1; i < nin && !s; i++) {
        if ((s = dlm_tally_read(argv[i], &t, max_bytes, &e))) break;
        s = dlm_tally_merge(&sum, i == 1 ? argv[0] : "the files before it", &t, argv[i], &e);
        dlm_tally_free(&t);
    }
    dlm_ranges gaps = {0};
    if (!s) s = dlm_tally_gaps(&sum, &gaps, &e);
    if (s) {
        fprintf(stderr, "dlmsim: %s\n", e.msg);
        dlm_tally_free(&sum);
        return 2;
    }
    int rc = 0;
    if (report_gaps(&gaps, sum.batch, allow_gaps) && !allow_gaps) {
        rc = 2;
    } else if ((s = dlm_tally_write(out, &sum, &e))) {
        fprintf(stderr, "dlmsim: %s\n", e.msg);
        rc = 2;
    } else {
        char hex[17];
        dlm_regress_digest_format(dlm_regress_digest(&sum.counts), hex);
        if (json)
            printf("{\"files\":%d,\"chains\":%" PRIu64 ",\"batch\":%" PRIu64 ",\"gaps\":%zu,"
                   "\"odd_parity\":%" PRIu64 ",\"digest\":\"%s\"}\n", nin, sum.counts.chains, sum.batch,
                   gaps.n, sum.counts.odd_parity, hex);
        else
            printf("merged      %d files into %s\nchains      %" PRIu64 " of batch %" PRIu64
                   "\ngaps        %zu\nodd parity  %" PRIu64 "\ndigest      %s\n", nin, out,
                   sum.counts.chains, sum.batch, gaps.n, sum.counts.odd_parity, hex);
    }
    dlm_ranges_free(&gaps);
    dlm_tally_free(&sum);
    return rc;
}
