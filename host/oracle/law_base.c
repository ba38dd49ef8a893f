/* law_base.c — the pieces law.c (the spec loader, generators and arithmetic) and
 * law_file.c (the text formats) both build laws with: number parsing, the memory
 * budget check and the table and HMM allocators (law_impl.h). It calls neither. */
#include "dlm_law.h"
#include "law_impl.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Decimal unsigned integer, digits only, no overflow; 0 on success. */
int dlm_law_parse_u64_(const char *s, uint64_t *v)
{
    uint64_t x = 0;
    if (!s || !*s) return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        if (x > (UINT64_MAX - 9) / 10) return -1;
        x = 10 * x + (uint64_t)(*s - '0');
    }
    *v = x;
    return 0;
}

/* A finite non-negative number (strtod syntax, the whole string); 0 on success. */
int dlm_law_parse_nonneg_(const char *s, double *v)
{
    char *end;
    if (!s || !*s) return -1;
    errno = 0;
    double x = strtod(s, &end);
    if (*end || end == s || !isfinite(x) || x < 0 || (errno == ERANGE && x != 0)) return -1;
    *v = x;
    return 0;
}

/* n = V^L when it is at most max; 0 on success. */
int dlm_law_pow_le_(uint32_t V, uint32_t L, uint64_t max, uint64_t *n)
{
    uint64_t x = 1;
    for (uint32_t i = 0; i < L; i++) {
        if (x > max / V) return -1;
        x *= V;
    }
    *n = x;
    return 0;
}

/* DLM_EINPUT when `bytes` exceed law's memory budget (what names the structure). */
dlm_status dlm_law_budget_(const dlm_law *law, uint64_t bytes, const char *what, dlm_err *err)
{
    uint64_t b = dlm_memory_budget(law->max_bytes);
    if (bytes > b)
        return dlm_fail(err, DLM_EINPUT, "%s: needs %llu bytes, over the memory budget of %llu "
                        "(DLMSIM_MAX_MEMORY)", what, (unsigned long long)bytes,
                        (unsigned long long)b);
    return DLM_OK;
}

/* A TABLE law of V^L entries (p zeroed). what: the spec or file, for messages. */
dlm_status dlm_law_table_alloc_(dlm_law *law, uint32_t L, uint32_t V, const char *what, dlm_err *err)
{
    uint64_t n;
    if (L < 1) return dlm_fail(err, DLM_EINPUT, "%s: L must be at least 1", what);
    if (V < 2 || V > DLM_LAW_MAX_V)
        return dlm_fail(err, DLM_EINPUT, "%s: V = %u, must be 2..%u", what, V, DLM_LAW_MAX_V);
    if (dlm_law_pow_le_(V, L, DLM_LAW_TABLE_MAX, &n))
        return dlm_fail(err, DLM_EINPUT, "%s: V^L = %u^%u is over the table limit 2^24 "
                        "(DLM_LAW_TABLE_MAX)", what, V, L);
    dlm_status s = dlm_law_budget_(law, n * sizeof(double), what, err);
    if (s) return s;
    law->p = dlm_calloc((size_t)n, sizeof(double));
    if (!law->p) return dlm_fail(err, DLM_ENOMEM, "%s: out of memory for %llu entries", what,
                                 (unsigned long long)n);
    law->v.kind = DLM_LAW_TABLE;
    law->v.L = L;
    law->v.V = V;
    law->v.p = law->p;
    return DLM_OK;
}

/* An HMM law: start (S), rowptr (S+1), col/val (nnz), emit (S*V) when with_emit. */
dlm_status dlm_law_hmm_alloc_(dlm_law *law, uint32_t L, uint32_t S, uint32_t V, uint64_t nnz,
                              int with_emit, const char *what, dlm_err *err)
{
    if (L < 1 || L > DLM_LAW_MAX_L)
        return dlm_fail(err, DLM_EINPUT, "%s: L = %u, must be 1..%u", what, L, DLM_LAW_MAX_L);
    if (V < 2 || V > DLM_LAW_MAX_V)
        return dlm_fail(err, DLM_EINPUT, "%s: V = %u, must be 2..%u", what, V, DLM_LAW_MAX_V);
    if (S < 1 || S > DLM_LAW_MAX_V)
        return dlm_fail(err, DLM_EINPUT, "%s: S = %u states, must be 1..%u", what, S, DLM_LAW_MAX_V);
    if (nnz > UINT32_MAX) return dlm_fail(err, DLM_EINPUT, "%s: too many transitions", what);
    uint64_t bytes = 8ull * S + 4ull * (S + 1) + 12ull * nnz + (with_emit ? 8ull * S * V : 0);
    dlm_status s = dlm_law_budget_(law, bytes, what, err);
    if (s) return s;
    law->start = dlm_calloc(S, sizeof(double));
    law->rowptr = dlm_calloc((size_t)S + 1, sizeof(uint32_t));
    law->col = dlm_calloc(nnz ? (size_t)nnz : 1, sizeof(uint32_t));
    law->val = dlm_calloc(nnz ? (size_t)nnz : 1, sizeof(double));
    law->emit = with_emit ? dlm_calloc((size_t)S * V, sizeof(double)) : NULL;
    if (!law->start || !law->rowptr || !law->col || !law->val || (with_emit && !law->emit))
        return dlm_fail(err, DLM_ENOMEM, "%s: out of memory", what);
    law->v.kind = DLM_LAW_HMM;
    law->v.L = L;
    law->v.V = V;
    law->v.S = S;
    law->v.start = law->start;
    law->v.rowptr = law->rowptr;
    law->v.col = law->col;
    law->v.val = law->val;
    law->v.emit = law->emit;
    return DLM_OK;
}
