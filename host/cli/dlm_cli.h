/* dlm_cli.h — the command line's own modules (the files of host/cli/): each subcommand that
 * lives outside host/cli/main.c is declared here. Not part of the library. */
#ifndef DLM_CLI_H
#define DLM_CLI_H

#include "dlm_util.h" /* dlm_parse_count, dlm_json_str, dlm_json_num, dlm_now */

/* Helpers shared by the subcommands (host/cli/util.c). */
/* --threads: a count (as dlm_parse_count) of at most 4096. Returns 0 on success. */
int dlm_cli_parse_threads(const char *s, int *threads);
/* --alpha: a number strictly between 0 and 1. Returns 0 on success. */
int dlm_cli_parse_alpha(const char *s, double *alpha);

/* dlmsim regress SUITE [...] (host/cli/regress.c); returns the exit code. */
int dlm_cli_regress(int argc, char **argv);

/* dlmsim kl TARGET [...] (host/cli/kl.c, docs/kl.md); returns the exit code. */
int dlm_cli_kl(int argc, char **argv);

/* dlmsim sample LAW [...] (host/cli/sample.c); verify = 1 for `dlmsim verify LAW`. */
int dlm_cli_sample(int argc, char **argv, int verify);
/* 1 if spec names a law (dlm_law.h) rather than a circuit. */
int dlm_cli_is_law(const char *spec);

#endif
