/* util.c — error records, checked allocation, machine facts, the clock. */
#include "dlm_util.h"

#include <errno.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

dlm_status dlm_fail(dlm_err *err, dlm_status code, const char *fmt, ...)
{
    if (err) {
        /* formatted apart first: a caller may pass err->msg itself as an argument,
         * to prefix it ("%s: %s", path, err->msg) */
        char msg[sizeof err->msg];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        memcpy(err->msg, msg, sizeof msg);
    }
    return code;
}

int dlm_exit_code(dlm_status s)
{
    if (s == DLM_OK) return 0;
    if (s == DLM_ECHECK) return 1;
    return 2;
}

void *dlm_calloc(size_t n, size_t size)
{
    if (n == 0 || size == 0) return calloc(1, 1);
    if (n > SIZE_MAX / size) return NULL;
    return calloc(n, size);
}

void *dlm_malloc(size_t n, size_t size)
{
    if (n == 0 || size == 0) return malloc(1);
    if (n > SIZE_MAX / size) return NULL;
    return malloc(n * size);
}

int dlm_threads_of(int threads)
{
    return threads > 0 ? threads : omp_get_max_threads();
}

double dlm_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

uint64_t dlm_host_memory_bytes(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || psize <= 0) return 0;
    return (uint64_t)pages * (uint64_t)psize;
}

int dlm_parse_size(const char *s, uint64_t *bytes)
{
    char *end;
    if (!s || *s < '0' || *s > '9') return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v >= 0)) return -1;
    double mul = 1;
    switch (*end) {
    case 'K': case 'k': mul = 1024.0; end++; break;
    case 'M': case 'm': mul = 1024.0 * 1024; end++; break;
    case 'G': case 'g': mul = 1024.0 * 1024 * 1024; end++; break;
    case 'T': case 't': mul = 1024.0 * 1024 * 1024 * 1024; end++; break;
    default: break;
    }
    if (*end == 'B' || *end == 'b') end++;
    if (*end || v * mul >= 18446744073709551615.0) return -1;
    *bytes = (uint64_t)(v * mul);
    return 0;
}

uint64_t dlm_memory_budget(uint64_t max_bytes)
{
    uint64_t mem = dlm_host_memory_bytes(), b = mem ? mem / 2 : UINT64_MAX;
    return max_bytes && max_bytes < b ? max_bytes : b;
}
