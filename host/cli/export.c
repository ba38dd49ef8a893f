/* export.c — dlmsim export CIRCUIT --format aag|aig|blif -o FILE. */
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
// export

#define C "export"

static const char *const export_head =
    "usage: dlmsim export CIRCUIT --format aag|aig|blif -o FILE   (docs/formats.md)\n"
    "Writes CIRCUIT (a file or a gen: spec) in another format.\n";

/* Options: the parser asks this table which take a value; --help prints their lines. */
static const dlm_cli_opt export_opts[] = {
    {"--format", 1, "  --format aag|aig|blif   ASCII AIGER, binary AIGER or BLIF\n"},
    {"-o", 1, "  -o FILE             the output: a new or regular file (a symlink: its target); - for stdout\n"},
    {"--max-memory", 1, "  --max-memory SIZE   the memory budget (e.g. 4G; also DLMSIM_MAX_MEMORY)\n"},
    {NULL, 0, NULL}};
static const char *const export_tail = "";

int dlm_cli_export(int argc, char **argv, uint64_t max_bytes)
{
    if (dlm_cli_help_opts(export_head, export_opts, export_tail, argc, argv)) return 0;
    const char *path = NULL, *fmt = NULL, *out = NULL;
    for (int i = 0; i < argc; i++) {
        if (dlm_cli_opt_takes(export_opts, argv[i]) && i + 1 >= argc)
            return dlm_cli_usage(C, "option %s needs a value", argv[i]);
        if (!strcmp(argv[i], "--format")) fmt = argv[++i];
        else if (!strcmp(argv[i], "-o")) out = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1]) return dlm_cli_usage(C, "unknown option %s", argv[i]);
        else if (!path) path = argv[i];
        else return dlm_cli_usage(C, "unexpected argument %s (one CIRCUIT only)", argv[i]);
    }
    if (!path || !fmt || !out) return dlm_cli_usage(C, "needs CIRCUIT, --format and -o");
    if (strcmp(fmt, "aag") && strcmp(fmt, "aig") && strcmp(fmt, "blif"))
        return dlm_cli_bad(C, "--format", fmt, "aag, aig or blif");
    dlm_err e;
    char resolved[4096];
    if (strcmp(out, "-") && dlm_out_check(out, resolved, sizeof resolved, &e)) return dlm_cli_fail(DLM_EINPUT, &e);
    dlm_circuit c;
    dlm_status s = dlm_circuit_load(&c, path, max_bytes, &e);
    if (s) return dlm_cli_fail(s, &e);
    if (!strcmp(fmt, "blif")) s = dlm_blif_write(&c, out, &e);
    else s = dlm_aiger_write(&c, out, !strcmp(fmt, "aig"), &e);
    dlm_circuit_free(&c);
    return s ? dlm_cli_fail(s, &e) : 0;
}
