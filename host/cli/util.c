/* util.c — small helpers shared by the command-line modules (dlm_cli.h). */
#include "dlm_cli.h"

#include <errno.h>
#include <stdlib.h>

int dlm_cli_parse_threads(const char *s, int *threads)
{
    uint64_t t;
    if (dlm_parse_count(s, &t) || t > 4096) return -1;
    *threads = (int)t;
    return 0;
}

int dlm_cli_parse_alpha(const char *s, double *alpha)
{
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s || *end || errno || !(x > 0 && x < 1)) return -1;
    *alpha = x;
    return 0;
}
