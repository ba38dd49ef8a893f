/* info.c — dlmsim info CIRCUIT [--json]: levels and per-mode program sizes
 * (dlm_info.h writes the JSON). */
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
// info

#define C "info"

static const char *const info_head =
    "usage: dlmsim info CIRCUIT [--json] [--quiet]   (docs/formats.md, docs/generators.md)\n"
    "Prints CIRCUIT's coins, outputs, gates, levels and the size of its DLM program in\n"
    "each mode (rounds, L, slots, counter bits, fan-in, value slots).\n";

/* Options: the parser asks this table which take a value; --help prints their lines. */
static const dlm_cli_opt info_opts[] = {
    {"--json", 0, "  --json              one JSON object instead of the table\n"},
    {"--quiet", 0, "  --quiet             no progress on stderr (drawn on a terminal while the modes compile,\n"
                   "                      once that has run a second; docs/batches.md)\n"},
    {"--max-memory", 1, "  --max-memory SIZE   the memory budget (e.g. 4G; also DLMSIM_MAX_MEMORY)\n"},
    {NULL, 0, NULL}};
static const char *const info_tail =
    "CIRCUIT: a .aag, .aig or .blif file, or a generator spec gen:NAME:ARGS.\n";

/* The compile steps' progress, the step named before the bar ("info: compile revise"). */
static void info_progress(void *ctx, uint64_t done, uint64_t total, double secs)
{
    dlm_cli_progress_state *ps = ctx;
    char what[64];
    uint64_t step = total ? (uint64_t)((double)done / (double)total * (2 * DLM_NMODES)) : 0;
    if (done < total)
        snprintf(what, sizeof what, "info: %s %s", step % 2 ? "slot plan" : "compile", dlm_mode_name((dlm_mode)(step / 2)));
    ps->what = done < total ? what : "info";
    dlm_cli_progress(ctx, done, total, secs);
    ps->what = "info";
}

int dlm_cli_info(int argc, char **argv, uint64_t max_bytes)
{
    if (dlm_cli_help_opts(info_head, info_opts, info_tail, argc, argv)) return 0;
    const char *path = NULL;
    int json = 0, quiet = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--quiet")) quiet = 1;
        else if (argv[i][0] == '-' && argv[i][1]) return dlm_cli_usage(C, "unknown option %s", argv[i]);
        else if (!path) path = argv[i];
        else return dlm_cli_usage(C, "unexpected argument %s (one CIRCUIT only)", argv[i]);
    }
    if (!path) return dlm_cli_usage(C, "missing CIRCUIT");
    dlm_err e;
    dlm_cli_loaded L;
    dlm_status s = dlm_cli_load(path, max_bytes, quiet, &L, &e);
    if (s) return dlm_cli_fail(s, &e);
    const dlm_levels *lv = &L.lv;
    dlm_info in;
    dlm_cli_progress_state ps = dlm_cli_phase("info", "", quiet);
    dlm_info_of_progress(&L.c, lv, info_progress, &ps, &in);
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
    dlm_cli_unload(&L);
    return 0;
}
