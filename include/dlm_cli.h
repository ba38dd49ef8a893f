/* dlm_cli.h — the command line's own modules (host/cli*.c): each subcommand that
 * lives outside host/cli.c is declared here. Not part of the library. */
#ifndef DLM_CLI_H
#define DLM_CLI_H

/* dlmsim regress SUITE [...] (host/cli_regress.c); returns the exit code. */
int dlm_cli_regress(int argc, char **argv);

#endif
