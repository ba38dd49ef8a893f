/* law_impl.h — what law.c (the spec loader and the laws' arithmetic) and law_file.c
 * (the text formats) share: law_base.c's helpers, below both, and law_file.c's two
 * loaders, called by law.c. Internal to host/oracle/; not part of the public API. */
#ifndef DLM_LAW_IMPL_H
#define DLM_LAW_IMPL_H

#include "dlm_law.h"

/* Decimal unsigned integer, digits only, no overflow; 0 on success. */
int dlm_law_parse_u64_(const char *s, uint64_t *v);
/* A finite non-negative number (strtod syntax, the whole string); 0 on success. */
int dlm_law_parse_nonneg_(const char *s, double *v);
/* n = V^L when it is at most max; 0 on success. */
int dlm_law_pow_le_(uint32_t V, uint32_t L, uint64_t max, uint64_t *n);
/* DLM_EINPUT when `bytes` exceed the memory budget (what names the structure). */
dlm_status dlm_law_budget_(const dlm_law *law, uint64_t bytes, const char *what, dlm_err *err);
/* A TABLE law of V^L entries (p zeroed). what: the spec or file, for messages. */
dlm_status dlm_law_table_alloc_(dlm_law *law, uint32_t L, uint32_t V, const char *what, dlm_err *err);
/* An HMM law: start (S), rowptr (S+1), col/val (nnz), emit (S*V) when with_emit. */
dlm_status dlm_law_hmm_alloc_(dlm_law *law, uint32_t L, uint32_t S, uint32_t V, uint64_t nnz,
                              int with_emit, const char *what, dlm_err *err);
/* dlm_law_load's "table:FILE" and "markov:FILE" (law_file.c). */
dlm_status dlm_law_load_table_(dlm_law *law, const char *path, dlm_err *err);
dlm_status dlm_law_load_markov_(dlm_law *law, const char *path, dlm_err *err);

#endif
