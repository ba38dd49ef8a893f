/* kl_table.c — the table of `dlmsim kl` (dlm_kl_table.h): named schedules, step lists
 * and the rows, computed once for the CLI and the Python binding. */
#include "dlm_kl_table.h"
#include "dlm_schedule.h"
#include "dlm_util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sched_names[DLM_KLS_COUNT] = {"uniform-first", "uniform-last", "cosine",
                                                       "loglinear", "binomial", "binomial-cosine",
                                                       "random-sizes", "optimal"};

const char *dlm_kl_sched_name(int k)
{
    return k >= 0 && k < DLM_KLS_COUNT ? sched_names[k] : NULL;
}

int dlm_kl_sched_parse(const char *name)
{
    for (int k = 0; k < DLM_KLS_COUNT; k++)
        if (!strcmp(name, sched_names[k])) return k;
    return -1;
}

dlm_status dlm_kl_steps_parse(const char *spec, uint32_t L, uint32_t **out, uint32_t *n, dlm_err *err)
{
    const char *given = spec;
    uint8_t *on = dlm_calloc((size_t)L + 1, 1);
    if (!on) return dlm_fail(err, DLM_ENOMEM, "kl: out of memory");
    if (!spec) {
        if (L <= 32) spec = "all";
        else {
            for (uint32_t t = 1; t <= L; t *= 2) on[t] = 1;
            on[L] = 1;
        }
    }
    if (spec && !strcmp(spec, "all")) {
        for (uint32_t t = 1; t <= L; t++) on[t] = 1;
    } else if (spec) {
        const char *p = spec;
        while (*p) {
            char *end;
            if (*p < '0' || *p > '9') goto bad;
            unsigned long a = strtoul(p, &end, 10), b = a;
            p = end;
            if (*p == '-') {
                p++;
                if (*p < '0' || *p > '9') goto bad;
                b = strtoul(p, &end, 10);
                p = end;
            }
            if (a < 1 || b < a || b > L) goto bad;
            for (unsigned long t = a; t <= b; t++) on[t] = 1;
            if (*p == ',') p++;
            else if (*p) goto bad;
        }
    }
    *n = 0;
    for (uint32_t t = 1; t <= L; t++) *n += on[t];
    if (*n == 0) goto bad;
    *out = dlm_malloc(*n, sizeof(uint32_t));
    if (!*out) {
        free(on);
        return dlm_fail(err, DLM_ENOMEM, "kl: out of memory");
    }
    *n = 0;
    for (uint32_t t = 1; t <= L; t++)
        if (on[t]) (*out)[(*n)++] = t;
    free(on);
    return DLM_OK;
bad:
    free(on);
    return dlm_fail(err, DLM_EINPUT, "bad --steps %s (T in 1..%u)", given ? given : "", L);
}

void dlm_kl_sched_build(int k, uint32_t L, uint32_t T, const double *g, uint32_t *sz, double *r,
                        dlm_kl_sched *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->T = T;
    sc->kind = DLM_KL_SIZES;
    sc->s = sz;
    uint32_t n = L;
    switch (k) {
    case DLM_KLS_UFIRST:
    case DLM_KLS_ULAST:
        for (uint32_t i = 0; i < T; i++) sz[i] = dlm_sched_fixed(L, T, i, k == DLM_KLS_UFIRST);
        break;
    case DLM_KLS_COSINE:
    case DLM_KLS_LOGLIN:
        for (uint32_t i = 0; i < T; i++) {
            sz[i] = dlm_sched_grid(k == DLM_KLS_COSINE ? DLM_GRID_COSINE : DLM_GRID_LINEAR, n, T, i,
                                   DLM_GRID_EPS_DEFAULT);
            n -= sz[i];
        }
        break;
    case DLM_KLS_BINOM:
    case DLM_KLS_BINOMCOS:
        sc->kind = DLM_KL_BINOMIAL;
        sc->s = NULL;
        sc->r = r;
        for (uint32_t i = 0; i < T; i++)
            r[i] = dlm_grid_reveal_p(k == DLM_KLS_BINOM ? DLM_GRID_LINEAR : DLM_GRID_COSINE, T, i,
                                     DLM_GRID_EPS_DEFAULT);
        break;
    case DLM_KLS_RANDSIZE:
        sc->kind = DLM_KL_RANDSIZE;
        sc->s = NULL;
        break;
    default: /* DLM_KLS_OPTIMAL */
        dlm_kl_optimal(g, L, T, sz);
        break;
    }
}

void dlm_kl_table_free(dlm_kl_table *t)
{
    if (t->rows)
        for (size_t i = 0; i < t->nrows; i++) free(t->rows[i].sizes);
    free(t->rows);
    free(t->g);
    memset(t, 0, sizeof *t);
}

/* The table's progress as one fraction of its work, in millionths: a part (g, or one
 * row) of weight w starting at `at` reports at + w * done / total. */
#define TABLE_PARTS 1000000u
typedef struct {
    const dlm_kl_table_opts *o;
    double at, w, t0;
} table_progress;

static void part_progress(void *ctx, uint64_t done, uint64_t total, double secs)
{
    table_progress *tp = ctx;
    (void)secs;
    double f = tp->at + tp->w * (total ? (double)done / (double)total : 1);
    uint64_t part = (uint64_t)(f * TABLE_PARTS);
    tp->o->progress(tp->o->progress_ctx, part < TABLE_PARTS ? part : TABLE_PARTS - 1, TABLE_PARTS, dlm_now() - tp->t0);
}

dlm_status dlm_kl_table_run(dlm_law *law, const dlm_kl_table_opts *o, dlm_kl_table *t, dlm_err *err)
{
    memset(t, 0, sizeof *t);
    uint32_t L = law->v.L, V = law->v.V;
    for (uint32_t j = 0; j < o->nsteps; j++)
        if (o->steps[j] < 1 || o->steps[j] > L || (j && o->steps[j] <= o->steps[j - 1]))
            return dlm_fail(err, DLM_EINPUT, "kl: steps must be ascending, each in 1..%u", L);
    if (o->nsteps == 0) return dlm_fail(err, DLM_EINPUT, "kl: no steps (T in 1..%u)", L);
    int use[DLM_KLS_COUNT];
    memcpy(use, o->use, sizeof use);
    /* exact when a table exists and g is affordable */
    double *p = NULL;
    double cells = pow((double)V, (double)L), work = pow((double)V + 1, (double)L);
    t->exact = !o->estimate && cells <= (double)DLM_LAW_TABLE_MAX && work <= o->max_work;
    uint32_t *szbuf = NULL;
    double *rbuf = NULL, *qbar = NULL;
    dlm_status st = DLM_OK;
    size_t nsched = 0;
    for (int k = 0; k < DLM_KLS_COUNT; k++) nsched += (size_t)(use[k] != 0);
    /* progress: with q_bar (small laws) g and each row weigh the same; otherwise exact
     * rows are quick and g is all the work, and estimated rows share it */
    int enum_ok = t->exact && L <= 12 && cells <= 1048576; /* and the work limit below */
    double nrows_all = (double)nsched * o->nsteps;
    table_progress tp = {o, 0, enum_ok ? 1 / (1 + nrows_all) : 1, dlm_now()};
    dlm_progress_fn partp = o->progress ? part_progress : NULL;
    if (t->exact) {
        if (law->v.kind == DLM_LAW_TABLE) {
            p = law->p;
        } else if ((st = dlm_law_table(law, &p, err))) {
            goto out;
        }
        t->g = dlm_malloc((size_t)L + 1, sizeof(double));
        if (!t->g) {
            st = dlm_fail(err, DLM_ENOMEM, "kl: out of memory");
            goto out;
        }
        if ((st = dlm_kl_g_progress(p, L, V, o->threads, o->max_work, partp, &tp, t->g, err))) goto out;
        tp.at = tp.w;
        tp.w = enum_ok ? 1 / (1 + nrows_all) : 0;
        dlm_kl_dep_from_g(t->g, L, &t->dep);
        t->have_dep = 1;
    } else {
        if (use[DLM_KLS_OPTIMAL]) {
            t->optimal_skipped = 1;
            use[DLM_KLS_OPTIMAL] = 0;
        }
        dlm_err e2;
        if (!dlm_kl_dep_markov(law, &t->dep, &e2)) t->have_dep = 1;
        if (law->v.kind == DLM_LAW_TABLE && !law->v.marg) dlm_law_build_marginals(law, UINT64_C(1) << 28, &e2);
    }
    if (!t->exact) tp.w = 1 / nrows_all;
    t->rows = dlm_calloc(nsched * o->nsteps + 1, sizeof(dlm_kl_row));
    szbuf = dlm_malloc((size_t)L + 1, sizeof(uint32_t));
    rbuf = dlm_malloc((size_t)L + 1, sizeof(double));
    if (!t->rows || !szbuf || !rbuf) {
        st = dlm_fail(err, DLM_ENOMEM, "kl: out of memory");
        goto out;
    }
    if (enum_ok && !(qbar = dlm_malloc((size_t)cells, sizeof(double)))) enum_ok = 0;
    for (int k = 0; k < DLM_KLS_COUNT; k++) {
        if (!use[k]) continue;
        for (uint32_t j = 0; j < o->nsteps; j++) {
            uint32_t T = o->steps[j];
            dlm_kl_row *w = &t->rows[t->nrows++];
            dlm_kl_sched sc;
            dlm_kl_sched_build(k, L, T, t->g, szbuf, rbuf, &sc);
            w->sched = k;
            w->T = T;
            w->li_cai = w->smax_bound = w->tc_T = w->dtc_T = NAN;
            w->kl_qbar = w->rkl_qbar = w->tv_qbar = NAN;
            if (sc.kind == DLM_KL_SIZES) {
                w->sizes = dlm_malloc(T, sizeof(uint32_t));
                if (!w->sizes) {
                    st = dlm_fail(err, DLM_ENOMEM, "kl: out of memory");
                    goto out;
                }
                memcpy(w->sizes, szbuf, T * sizeof(uint32_t));
                sc.s = w->sizes;
            }
            w->smax = dlm_kl_expected_smax(L, &sc);
            if (t->exact) {
                w->kl = w->lo = w->hi = dlm_kl_shown(dlm_kl_expected(t->g, L, &sc));
                w->se = 0;
            } else {
                dlm_kl_est est;
                st = dlm_kl_path_progress(law, &sc, o->chains, o->seed, o->threads, 1, partp, &tp, &est, err);
                if (st) goto out;
                w->kl = dlm_kl_shown(est.mean);
                w->se = est.se;
                w->lo = dlm_kl_shown(est.lo);
                w->hi = dlm_kl_shown(est.hi);
            }
            if (t->have_dep) {
                dlm_kl_bounds b;
                dlm_kl_bounds_of(&t->dep, L, sc.kind == DLM_KL_SIZES ? (uint32_t)w->smax : 1, T, &b);
                w->tc_T = b.tc_T;
                w->dtc_T = b.dtc_T;
                if (sc.kind == DLM_KL_SIZES) {
                    w->li_cai = b.li_cai;
                    w->smax_bound = b.smax;
                }
            }
            if (enum_ok && sc.kind == DLM_KL_SIZES) {
                dlm_err e2;
                if (!dlm_kl_enum_sizes(p, L, V, w->sizes, T, 2e8, NULL, qbar, &e2)) {
                    w->kl_qbar = dlm_kl_shown(dlm_kl_div(p, qbar, (uint64_t)cells));
                    w->rkl_qbar = dlm_kl_shown(dlm_kl_div(qbar, p, (uint64_t)cells));
                    w->tv_qbar = dlm_kl_tv(p, qbar, (uint64_t)cells);
                }
            }
            tp.at += tp.w;
            if (partp) part_progress(&tp, 0, 1, 0);
        }
    }
    if (o->progress) o->progress(o->progress_ctx, TABLE_PARTS, TABLE_PARTS, dlm_now() - tp.t0);
out:
    free(qbar);
    free(szbuf);
    free(rbuf);
    if (p && p != law->p) free(p);
    if (st) dlm_kl_table_free(t);
    return st;
}
