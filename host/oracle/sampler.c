/* sampler.c — the oracle sampler on the CPU: OpenMP over chains, each chain run round
 * by round with dlm_sampler_round (dlm_sampler_step.h), reduced to integer counts. */
#include "dlm_sampler.h"
#include "dlm_util.h"
#include "dlm_sampler_step.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define SAMPLER_DEFAULT_BYTES (UINT64_C(1) << 30)

/* Scratch bytes rounded up to 8, so the chain state after it is aligned. */
static uint64_t scratch_bytes8(const dlm_law_view *w)
{
    return (dlm_sampler_scratch_bytes(w) + 7) & ~(uint64_t)7;
}

dlm_status dlm_sample_counts_init(dlm_sample_counts *k, const dlm_law *law, const dlm_policy *p,
                                  int want_hist, dlm_err *err)
{
    return dlm_sample_counts_alloc(k, law->v.L, law->v.V, dlm_policy_max_rounds(p, law->v.L), want_hist, err);
}

dlm_status dlm_sample_counts_alloc(dlm_sample_counts *k, uint32_t L, uint32_t V, uint32_t max_rounds,
                                   int want_hist, dlm_err *err)
{
    memset(k, 0, sizeof *k);
    k->L = L;
    k->V = V;
    k->max_rounds = max_rounds;
    uint64_t cells = dlm_law_cells(L, V);
    if (want_hist && cells > DLM_LAW_TABLE_MAX)
        return dlm_fail(err, DLM_EINPUT, "a histogram needs V^L <= %llu sequences (V=%u, L=%u)",
                        (unsigned long long)DLM_LAW_TABLE_MAX, k->V, k->L);
    size_t R = k->max_rounds;
    k->revealed = dlm_calloc(R, 8);
    k->remasked = dlm_calloc(R, 8);
    k->revised = dlm_calloc(R, 8);
    k->active = dlm_calloc(R, 8);
    k->pos = dlm_calloc((size_t)k->L * k->V, 8);
    if (want_hist) k->hist = dlm_calloc(cells, 8);
    if (!k->revealed || !k->remasked || !k->revised || !k->active || !k->pos || (want_hist && !k->hist)) {
        dlm_sample_counts_free(k);
        return dlm_fail(err, DLM_ENOMEM, "out of memory for the sampler's counts");
    }
    return DLM_OK;
}

void dlm_sample_counts_add(dlm_sample_counts *a, const dlm_sample_counts *b)
{
    for (uint32_t r = 0; r < a->max_rounds; r++) {
        a->revealed[r] += b->revealed[r];
        a->remasked[r] += b->remasked[r];
        a->revised[r] += b->revised[r];
        a->active[r] += b->active[r];
    }
    for (size_t i = 0; i < (size_t)a->L * a->V; i++) a->pos[i] += b->pos[i];
    if (a->hist && b->hist)
        for (uint64_t x = 0, n = dlm_law_cells(a->L, a->V); x < n; x++) a->hist[x] += b->hist[x];
    a->chains += b->chains;
    a->rounds_sum += b->rounds_sum;
    a->rounds_max = b->rounds_max > a->rounds_max ? b->rounds_max : a->rounds_max;
    a->offsupport += b->offsupport;
    a->unfinished += b->unfinished;
}

void dlm_sample_counts_free(dlm_sample_counts *k)
{
    free(k->revealed);
    free(k->remasked);
    free(k->revised);
    free(k->active);
    free(k->hist);
    free(k->pos);
    memset(k, 0, sizeof *k);
}

uint64_t dlm_sampler_chain_bytes(const dlm_law *law)
{
    const dlm_law_view *w = &law->v;
    return scratch_bytes8(w) + (uint64_t)w->L * (8 + 2);
}

/* Runs one chain to the end; adds its statistics and final tokens into k. */
static void run_chain(const dlm_law_view *w, const dlm_policy *p, uint64_t seed, uint64_t chain,
                      uint16_t *tok, double *conf, dlm_sampler_scratch *s, dlm_sample_counts *k)
{
    dlm_chain_ctl ctl;
    memset(&ctl, 0, sizeof ctl);
    dlm_rs rs;
    memset(&rs, 0, sizeof rs);
    rs.seed = seed;
    rs.chain = chain;
    for (uint32_t i = 0; i < w->L; i++) {
        tok[i] = DLM_TOK_MASK;
        conf[i] = 0;
    }
    while (!ctl.done && ctl.round < k->max_rounds) {
        uint32_t r = ctl.round;
        dlm_round_stat st = dlm_sampler_round(w, p, tok, conf, &ctl, &rs, s);
        k->active[r] += 1;
        k->revealed[r] += st.revealed;
        k->remasked[r] += st.remasked;
        k->revised[r] += st.revised;
    }
    if (!ctl.done) k->unfinished++;
    k->offsupport += ctl.offsupport;
    k->chains++;
    k->rounds_sum += ctl.round;
    if (ctl.round > k->rounds_max) k->rounds_max = ctl.round;
    uint64_t idx = 0;
    for (uint32_t i = w->L; i-- > 0;) {
        uint16_t t = tok[i] == DLM_TOK_MASK ? 0 : tok[i];
        k->pos[(size_t)i * w->V + t]++;
        idx = idx * w->V + t;
    }
    if (k->hist) k->hist[idx]++;
}

dlm_status dlm_sampler_cpu_run(const dlm_law *law, const dlm_policy *p, const dlm_sample_opts *o,
                               dlm_sample_counts *k, dlm_err *err)
{
    const dlm_law_view *w = &law->v;
    int nt = dlm_threads_of(o->threads);
    if ((uint64_t)nt > o->chains) nt = o->chains ? (int)o->chains : 1;
    uint64_t per = dlm_sampler_chain_bytes(law), budget = o->max_bytes ? o->max_bytes : SAMPLER_DEFAULT_BYTES;
    if (per > budget)
        return dlm_fail(err, DLM_EINPUT, "one chain needs %llu bytes of working memory, over the budget of %llu",
                        (unsigned long long)per, (unsigned long long)budget);
    if ((uint64_t)nt * per > budget) nt = (int)(budget / per);
    dlm_status st = DLM_OK;
    uint64_t done = 0; /* chains finished, added by each thread every 16 of its own */
    double t0 = dlm_now();
#pragma omp parallel num_threads(nt)
    {
        uint64_t pend = 0;
        const int reporter = o->progress && omp_get_thread_num() == 0; /* the calling thread */
        dlm_sample_counts mine;
        dlm_err e;
        dlm_status s = dlm_sample_counts_init(&mine, law, p, k->hist != NULL, &e);
        void *buf = s ? NULL : malloc(per);
        if (!s && !buf) s = dlm_fail(&e, DLM_ENOMEM, "out of memory for a chain's scratch");
        if (!s) {
            dlm_sampler_scratch sc;
            dlm_sampler_scratch_carve(w, buf, &sc);
            char *tail = (char *)buf + scratch_bytes8(w);
            double *conf = (double *)tail;
            uint16_t *tok = (uint16_t *)(conf + w->L);
#pragma omp for schedule(dynamic, 64)
            for (uint64_t c = 0; c < o->chains; c++) {
                run_chain(w, p, o->seed, o->first_chain + c, tok, conf, &sc, &mine);
                if (o->samples) memcpy(o->samples + c * w->L, tok, (size_t)w->L * 2);
                if (o->progress && ++pend == 16) {
                    uint64_t now;
#pragma omp atomic capture
                    now = done += pend;
                    pend = 0;
                    if (reporter) o->progress(o->progress_ctx, now, o->chains, dlm_now() - t0);
                }
            }
        }
#pragma omp critical
        {
            if (s && !st) {
                st = s;
                if (err) *err = e;
            } else if (!s) {
                dlm_sample_counts_add(k, &mine);
            }
        }
        free(buf);
        dlm_sample_counts_free(&mine);
    }
    if (o->progress && !st) o->progress(o->progress_ctx, o->chains, o->chains, dlm_now() - t0);
    return st;
}

#if !DLM_HAVE_CUDA
dlm_status dlm_sampler_cuda_run(const dlm_law *law, const dlm_policy *p, const dlm_sample_opts *o,
                                dlm_sample_counts *k, dlm_err *err)
{
    (void)law, (void)p, (void)o, (void)k;
    return dlm_fail(err, DLM_EINPUT, "this build has no CUDA backend");
}
#endif

dlm_status dlm_sampler_run(dlm_backend b, const dlm_law *law, const dlm_policy *p, const dlm_sample_opts *o,
                           dlm_sample_counts *k, dlm_err *err)
{
    if (b == DLM_BACKEND_CUDA) return dlm_sampler_cuda_run(law, p, o, k, err);
    return dlm_sampler_cpu_run(law, p, o, k, err);
}
