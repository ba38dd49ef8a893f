/* dlm_cli.h — the command line's own modules (the files of host/cli/): each subcommand that
 * lives outside host/cli/main.c is declared here. Not part of the library. */
#ifndef DLM_CLI_H
#define DLM_CLI_H

#include <stdint.h>
#include <stdio.h>

/* Helpers shared by the subcommands (host/cli/util.c). */
/* Parses a count: decimal digits, or a number like 1e6 or 2.5e3 that is an exact
 * integer. No sign, blank, hex, inf or nan. Returns 0 on success. */
int dlm_cli_parse_u64(const char *s, uint64_t *v);
/* --threads: a count (as dlm_cli_parse_u64) of at most 4096. Returns 0 on success. */
int dlm_cli_parse_threads(const char *s, int *threads);
/* --alpha: a number strictly between 0 and 1. Returns 0 on success. */
int dlm_cli_parse_alpha(const char *s, double *alpha);
/* Writes s as a JSON string literal. */
void dlm_cli_json_str(FILE *f, const char *s);
/* Writes x as a JSON number (null when not finite). */
void dlm_cli_json_num(FILE *f, double x);
/* Monotonic seconds. */
double dlm_cli_now(void);

/* dlmsim regress SUITE [...] (host/cli/regress.c); returns the exit code. */
int dlm_cli_regress(int argc, char **argv);

/* dlmsim kl TARGET [...] (host/cli/kl.c, docs/kl.md); returns the exit code. */
int dlm_cli_kl(int argc, char **argv);

/* dlmsim sample LAW [...] (host/cli/sample.c); verify = 1 for `dlmsim verify LAW`. */
int dlm_cli_sample(int argc, char **argv, int verify);
/* 1 if spec names a law (dlm_law.h) rather than a circuit. */
int dlm_cli_is_law(const char *spec);

#endif
