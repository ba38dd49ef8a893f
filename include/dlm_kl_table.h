/* dlm_kl_table.h — the table `dlmsim kl` prints: E_M KL(p || q_M) against the number
 * of rounds T for named size schedules, with the theory overlays (docs/kl.md). Library
 * code so that the CLI (host/cli/kl.c) and the Python binding (python/dlmsim) report
 * the same numbers from one computation; the formulas are dlm_kl.h's.
 *
 * Exact when the law has a table (V^L <= DLM_LAW_TABLE_MAX) and (V+1)^L <= max_work
 * (the cost of g), unless estimate is set; otherwise path-KL estimates (dlm_kl_path)
 * with 95% intervals. The library prints nothing.
 */
#ifndef DLM_KL_TABLE_H
#define DLM_KL_TABLE_H

#include "dlm_kl.h"

/* The named schedules, in the order of the table. */
typedef enum {
    DLM_KLS_UFIRST = 0,  /* "uniform-first": LLaDA's fixed sizes, remainder first */
    DLM_KLS_ULAST,       /* "uniform-last": remainder last */
    DLM_KLS_COSINE,      /* "cosine": Dream's grid sizes on the cosine schedule */
    DLM_KLS_LOGLIN,      /* "loglinear": on the linear (MDLM log-linear) schedule */
    DLM_KLS_BINOM,       /* "binomial": Binomial sizes on the linear grid */
    DLM_KLS_BINOMCOS,    /* "binomial-cosine": on the cosine grid */
    DLM_KLS_RANDSIZE,    /* "random-sizes": dlm_sched_randsize_J */
    DLM_KLS_OPTIMAL,     /* "optimal": the DP optimum for g (exact laws only) */
    DLM_KLS_COUNT
} dlm_kl_named;

/* The name of schedule k, or NULL outside 0..DLM_KLS_COUNT-1. */
const char *dlm_kl_sched_name(int k);
/* The schedule called name, or -1. */
int dlm_kl_sched_parse(const char *name);

/* Builds named schedule k with T rounds for L tokens into sc, its sizes or reveal
 * probabilities in the caller's buffers sz and r (T entries each). OPTIMAL needs g. */
void dlm_kl_sched_build(int k, uint32_t L, uint32_t T, const double *g, uint32_t *sz, double *r,
                        dlm_kl_sched *sc);

/* Parses a step list ("1,2,3,5", "1-10", "all"; NULL: all for L <= 32, else the powers
 * of 2 and L) into a sorted, duplicate-free list of T in 1..L (*n >= 1 entries,
 * malloc'd). DLM_EINPUT "bad --steps SPEC (T in 1..L)" otherwise. */
dlm_status dlm_kl_steps_parse(const char *spec, uint32_t L, uint32_t **out, uint32_t *n, dlm_err *err);

typedef struct {
    int use[DLM_KLS_COUNT]; /* schedules in the table */
    const uint32_t *steps;  /* the T values, ascending, each in 1..L */
    uint32_t nsteps;
    int estimate;           /* path-KL estimates even when exact curves exist */
    uint64_t chains, seed;  /* of the estimates (chains >= 2) */
    int threads;            /* 0: all cores */
    double max_work;        /* largest (V+1)^L for exact curves (the CLI's 4e9) */
    dlm_progress_fn progress; /* NULL, or called with the estimated fraction done, in
                                 millionths: the path-KL chains scored of all rows'; for
                                 exact curves g's branches, then (with q_bar) the rows */
    void *progress_ctx;
} dlm_kl_table_opts;

/* One row of the table. */
typedef struct {
    int sched;              /* dlm_kl_named */
    uint32_t T;
    uint32_t *sizes;        /* fixed kinds: T sizes (owned); NULL for random sizes */
    double smax;            /* s_max, or E[s_max] for random sizes */
    double kl, se, lo, hi;  /* exact: se = 0, lo = hi = kl */
    double li_cai, smax_bound, tc_T, dtc_T; /* NAN when unknown or not applicable */
    double kl_qbar, rkl_qbar, tv_qbar;      /* NAN when not computed */
} dlm_kl_row;

typedef struct {
    int exact;              /* 1: exact curves from g; 0: path-KL estimates */
    int have_dep;           /* dep is known (exact laws, Markov chains) */
    int optimal_skipped;    /* "optimal" was asked for without g, and left out */
    dlm_kl_dep dep;
    double *g;              /* exact: g[0..L] (owned); else NULL */
    dlm_kl_row *rows;       /* owned; schedule by schedule, T ascending */
    size_t nrows;
} dlm_kl_table;

/* Computes the table for law (whose marginals it may build, hence not const). On
 * failure t is left empty. */
dlm_status dlm_kl_table_run(dlm_law *law, const dlm_kl_table_opts *o, dlm_kl_table *t, dlm_err *err);
void dlm_kl_table_free(dlm_kl_table *t);

#endif
