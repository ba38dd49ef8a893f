/* level.c — the levelizer: levels, placement layers, live ranges, width (dlm_level.h). */
#include "dlm_level.h"
#include "dlm_util.h"

#include <stdlib.h>
#include <string.h>

void dlm_levels_free(dlm_levels *lv)
{
    if (!lv) return;
    free(lv->level);
    free(lv->layer);
    free(lv->lastuse);
    free(lv->is_dead);
    free(lv->layer_count);
    free(lv->live_count);
    memset(lv, 0, sizeof *lv);
}

static int is_source(const dlm_circuit *c, uint32_t n)
{
    const dlm_gate *g = &c->g[n];
    if (g->type == DLM_G_COIN) return 1;
    for (unsigned j = 0; j < g->nin; j++)
        if (DLM_LIT_NODE(g->in[j]) != 0) return 0;
    return 1;
}

/* The progress of dlm_levelize_progress: four passes over the nodes, told as each
 * starts and every 2^20 nodes (a pass over 2^24 nodes takes about a second). */
typedef struct {
    dlm_progress_fn fn;
    void *ctx;
    double t0;
    uint64_t n;
} lv_progress;

static void lv_tick(const lv_progress *lp, unsigned pass, uint32_t v)
{
    if (lp->fn && ((v & 0xfffffu) == 0 || v == 1))
        lp->fn(lp->ctx, pass * lp->n + v, 4 * lp->n, dlm_now() - lp->t0);
}

dlm_status dlm_levelize(const dlm_circuit *c, dlm_levels *lv, dlm_err *err)
{
    return dlm_levelize_progress(c, lv, NULL, NULL, err);
}

dlm_status dlm_levelize_progress(const dlm_circuit *c, dlm_levels *lv, dlm_progress_fn progress, void *ctx,
                                 dlm_err *err)
{
    memset(lv, 0, sizeof *lv);
    const lv_progress lp = {progress, ctx, dlm_now(), c->nnodes};
    uint32_t n = c->nnodes;
    uint64_t need = (uint64_t)n * (4 * sizeof(uint32_t) + 1);
    uint64_t budget = dlm_memory_budget(c->max_bytes);
    if (need > budget)
        return dlm_fail(err, DLM_EINPUT, "levelizing %u nodes needs %llu bytes, over the memory budget of %llu "
                        "(half the machine's memory, or --max-memory)", n, (unsigned long long)need,
                        (unsigned long long)budget);
    uint32_t *minuse = dlm_malloc(n, sizeof *minuse);
    lv->level = dlm_calloc(n, sizeof *lv->level);
    lv->layer = dlm_calloc(n, sizeof *lv->layer);
    lv->lastuse = dlm_calloc(n, sizeof *lv->lastuse);
    lv->is_dead = dlm_calloc(n, 1);
    if (!minuse || !lv->level || !lv->layer || !lv->lastuse || !lv->is_dead) {
        free(minuse);
        dlm_levels_free(lv);
        return dlm_fail(err, DLM_ENOMEM, "out of memory levelizing %u nodes", n);
    }
    /* Levels (ABC convention) and statistics. */
    for (uint32_t v = 1; v < n; v++) {
        lv_tick(&lp, 0, v);
        const dlm_gate *g = &c->g[v];
        minuse[v] = UINT32_MAX;
        if (g->type == DLM_G_COIN) continue;
        lv->gates++;
        lv->gates_by_type[g->type]++;
        if (g->nin > lv->max_fanin) lv->max_fanin = g->nin;
        uint32_t m = 0;
        int any = 0;
        for (unsigned j = 0; j < g->nin; j++) {
            uint32_t u = DLM_LIT_NODE(g->in[j]);
            if (u == 0) continue;
            any = 1;
            if (lv->level[u] > m) m = lv->level[u];
        }
        lv->level[v] = any ? m + 1 : 0;
        if (lv->level[v] > lv->depth) lv->depth = lv->level[v];
    }
    lv->size = (uint64_t)c->ncoins + lv->gates;
    lv->nlayers = lv->depth + 1;
    uint32_t d = lv->depth;

    /* Liveness: reverse reachability from the outputs. */
    for (uint32_t v = 1; v < n; v++) lv->is_dead[v] = 1;
    for (uint32_t k = 0; k < c->nout; k++) {
        uint32_t u = DLM_LIT_NODE(c->out[k]);
        if (u) {
            lv->is_dead[u] = 0;
            lv->lastuse[u] = d + 1;
        }
    }
    for (uint32_t v = n; v-- > 1;) {
        lv_tick(&lp, 1, n - v);
        const dlm_gate *g = &c->g[v];
        for (unsigned j = 0; j < g->nin; j++) {
            uint32_t u = DLM_LIT_NODE(g->in[j]);
            if (u == 0) continue;
            if (lv->level[v] < minuse[u]) minuse[u] = lv->level[v];
            if (!lv->is_dead[v]) {
                lv->is_dead[u] = 0;
                if (lv->level[v] > lv->lastuse[u]) lv->lastuse[u] = lv->level[v];
            }
        }
    }
    /* Placement: gates at their level, sources as late as possible. */
    for (uint32_t v = 1; v < n; v++) {
        lv_tick(&lp, 2, v);
        if (is_source(c, v))
            lv->layer[v] = minuse[v] == UINT32_MAX ? d : minuse[v] - 1;
        else
            lv->layer[v] = lv->level[v];
        if (lv->is_dead[v]) {
            lv->dead++;
            lv->lastuse[v] = lv->layer[v];
        }
    }
    free(minuse);

    lv->layer_count = dlm_calloc(lv->nlayers, sizeof *lv->layer_count);
    lv->live_count = dlm_calloc((size_t)lv->nlayers + 1, sizeof *lv->live_count);
    if (!lv->layer_count || !lv->live_count) {
        dlm_levels_free(lv);
        return dlm_fail(err, DLM_ENOMEM, "out of memory levelizing %u layers", d + 1);
    }
    /* Live counts per boundary via a difference array: +1 at layer, -1 at lastuse. */
    int64_t run = 0;
    int64_t *diff = dlm_calloc((size_t)d + 2, sizeof *diff);
    if (!diff) {
        dlm_levels_free(lv);
        return dlm_fail(err, DLM_ENOMEM, "out of memory levelizing");
    }
    for (uint32_t v = 1; v < n; v++) {
        lv_tick(&lp, 3, v);
        lv->layer_count[lv->layer[v]]++;
        if (lv->is_dead[v]) continue;
        diff[lv->layer[v]]++;
        diff[lv->lastuse[v]]--;
    }
    for (uint32_t r = 0; r <= d; r++) {
        run += diff[r];
        lv->live_count[r] = (uint32_t)run;
        if (lv->live_count[r] > lv->width) lv->width = lv->live_count[r];
    }
    free(diff);
    if (progress) progress(ctx, 4 * lp.n, 4 * lp.n, dlm_now() - lp.t0);
    return DLM_OK;
}
