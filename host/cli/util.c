/* cli_util.c — small helpers shared by the command-line modules (dlm_cli.h). */
#include "dlm_cli.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int dlm_cli_parse_u64(const char *s, uint64_t *v)
{
    if (!s[0] || s[0] < '0' || s[0] > '9') return -1;
    if (strspn(s, "0123456789.eE+") != strlen(s)) return -1;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (!*end && !errno) {
        *v = x;
        return 0;
    }
    errno = 0;
    double d = strtod(s, &end);
    if (*end || errno || d < 0 || d >= 18446744073709551616.0 || d != (double)(uint64_t)d) return -1;
    *v = (uint64_t)d;
    return 0;
}

int dlm_cli_parse_threads(const char *s, int *threads)
{
    uint64_t t;
    if (dlm_cli_parse_u64(s, &t) || t > 4096) return -1;
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

void dlm_cli_json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

void dlm_cli_json_num(FILE *f, double x)
{
    if (isfinite(x)) fprintf(f, "%.17g", x);
    else fputs("null", f);
}

double dlm_cli_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
