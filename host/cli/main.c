/* main.c — the dlmsim command line (host/cli/, the only code that prints and exits):
 * the memory budget (--max-memory, DLMSIM_MAX_MEMORY; read once here and passed to
 * the subcommand) and the dispatch to one file per subcommand (the usage text and the
 * shared helpers are util.c).
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
 *   dlmsim run ... [--shard K/N | --first-chain A] [--counts FILE]  (docs/scale-out.md)
 *   dlmsim merge COUNTS... -o FILE [--allow-gaps] [--json]  (host/cli/merge.c)
 *   mpirun -n R dlmsim run ...           (host/cli/mpi.c, docs/scale-out.md)
 *   dlmsim regress SUITE [...]           (host/cli/regress.c, docs/regress.md)
 *   dlmsim sample LAW [...], dlmsim verify LAW [...]  (host/cli/sample.c, docs/oracle.md)
 *
 * Exit codes: 0 success, 1 a check failed, 2 bad input or usage.
 */
#include "dlm_cli.h"

#include <gsl/gsl_errno.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The memory budget (dlm_memory_budget's max_bytes): --max-memory SIZE (taken out of
 * argv), else the environment variable DLMSIM_MAX_MEMORY, else 0 (the library's
 * default). A SIZE, or a DLMSIM_MAX_MEMORY that is set, must be a size > 0
 * (dlm_parse_size): else one line, 2. */
static int take_budget(int *argc, char **argv, uint64_t *max_bytes)
{
    int out = 0, given = 0;
    *max_bytes = 0;
    for (int i = 0; i < *argc; i++) {
        if (strcmp(argv[i], "--max-memory")) {
            argv[out++] = argv[i];
            continue;
        }
        if (i + 1 >= *argc) return dlm_cli_usage(NULL, "option --max-memory needs a value");
        if (dlm_parse_size(argv[i + 1], max_bytes) || *max_bytes == 0)
            return dlm_cli_bad(NULL, "--max-memory", argv[i + 1], "bytes > 0, e.g. 512M or 4G");
        given = 1;
        i++;
    }
    *argc = out;
    argv[out] = NULL;
    if (given) return 0; /* the option wins over the environment */
    const char *env = getenv("DLMSIM_MAX_MEMORY");
    if (!env || !*env) return 0; /* empty: unset */
    if (!dlm_parse_size(env, max_bytes) && *max_bytes > 0) return 0;
    if (dlm_cli_mpi_rank() == 0)
        fprintf(stderr, "dlmsim: bad DLMSIM_MAX_MEMORY '%s' (bytes > 0, e.g. 512M or 4G; unset it for half "
                "the machine's memory); see dlmsim --help\n", env);
    return 2;
}

static int dispatch(int argc, char **argv);

int main(int argc, char **argv)
{
    if (dlm_cli_mpi_init(&argc, &argv) < 0) {
        fprintf(stderr, "dlmsim: MPI_Init failed\n");
        return 2;
    }
    int rc = dispatch(argc, argv);
    dlm_cli_mpi_finalize();
    return rc;
}

static int dispatch(int argc, char **argv)
{
    /* GSL's default handler aborts; the library guards its calls and checks for NaN,
     * so a GSL error must come back as a value, never end the process. Switched off
     * once, here, for every subcommand (sample --verify included). */
    gsl_set_error_handler_off();
    /* the memory budget, read once and passed down; one that cannot be read is an
     * error in every command, not ignored */
    uint64_t mb;
    int mm = take_budget(&argc, argv, &mb);
    if (mm) return mm;
    if (argc < 2) return dlm_cli_usage(NULL, "missing command (info, run, export, verify, merge, regress, sample, kl)");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "info")) return dlm_cli_info(argc - 2, argv + 2, mb);
    if (!strcmp(cmd, "run")) return dlm_cli_run(argc - 2, argv + 2, mb);
    if (!strcmp(cmd, "export")) return dlm_cli_export(argc - 2, argv + 2, mb);
    if (!strcmp(cmd, "merge")) return dlm_cli_merge(argc - 2, argv + 2, mb);
    if (!strcmp(cmd, "regress")) return dlm_cli_regress(argc - 2, argv + 2, mb);
    if (!strcmp(cmd, "sample")) return dlm_cli_sample(argc - 2, argv + 2, 0, mb);
    if (!strcmp(cmd, "kl")) return dlm_cli_kl(argc - 2, argv + 2, mb);
    if (!strcmp(cmd, "verify") && argc > 2 && dlm_cli_is_law(argv[2])) return dlm_cli_sample(argc - 2, argv + 2, 1, mb);
    if (!strcmp(cmd, "verify")) return dlm_cli_verify(argc - 2, argv + 2, mb);
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(dlm_cli_usage_text, stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("dlmsim %s\n", DLMSIM_VERSION);
        return 0;
    }
    return dlm_cli_usage(NULL, "unknown command %s (info, run, export, verify, merge, regress, sample, kl)", cmd);
}
