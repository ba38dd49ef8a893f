/* sample_tally.c — the oracle sampler's count files (dlm_sample_tally.h). */
#include "dlm_sample_tally.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define ROUNDS_MAX (UINT32_C(1) << 24) /* rounds a file may list */

dlm_status dlm_sample_tally_init(dlm_sample_tally *t, const dlm_law *law, const dlm_policy *p, uint64_t seed,
                                 uint64_t batch, int want_hist, dlm_err *err)
{
    memset(t, 0, sizeof *t);
    t->law_hash = dlm_law_hash(&law->v);
    t->policy_hash = dlm_policy_hash(p);
    t->seed = seed;
    t->batch = batch;
    return dlm_sample_counts_init(&t->k, law, p, want_hist, err);
}

void dlm_sample_tally_free(dlm_sample_tally *t)
{
    dlm_ranges_free(&t->ranges);
    dlm_sample_counts_free(&t->k);
    memset(t, 0, sizeof *t);
}

/* After the common header (dlm_tally_file_begin):
 *   law_hash H, policy_hash H (16 hex digits each), seed S, batch B, L, V, rounds R,
 *   hist 0|1, ranges (as run's), chains C, rounds_sum, rounds_max, offsupport,
 *   unfinished, then the lists active, revealed, remasked, revised (R numbers each:
 *   per round) and pos (L*V: position i ended as token v at i*V + v), then cells (hist
 *   1 only: nonzero entries of the V^L histogram), digest, end. */
dlm_status dlm_sample_tally_write(const char *path, const dlm_sample_tally *t, dlm_err *err)
{
    dlm_tally_file w;
    dlm_status s = dlm_tally_file_begin(&w, "sample", err);
    if (s) return s;
    FILE *f = w.f;
    const dlm_sample_counts *k = &t->k;
    fprintf(f, "law_hash %016" PRIx64 "\npolicy_hash %016" PRIx64 "\nseed %" PRIu64 "\nbatch %" PRIu64
            "\nL %u\nV %u\nrounds %u\nhist %d\n", t->law_hash, t->policy_hash, t->seed, t->batch, k->L, k->V,
            k->max_rounds, k->hist != NULL);
    dlm_tally_put_ranges(f, &t->ranges);
    fprintf(f, "chains %" PRIu64 "\nrounds_sum %" PRIu64 "\nrounds_max %" PRIu64 "\noffsupport %" PRIu64
            "\nunfinished %" PRIu64 "\n", k->chains, k->rounds_sum, k->rounds_max, k->offsupport, k->unfinished);
    dlm_tally_put_list(f, "active", k->active, k->max_rounds);
    dlm_tally_put_list(f, "revealed", k->revealed, k->max_rounds);
    dlm_tally_put_list(f, "remasked", k->remasked, k->max_rounds);
    dlm_tally_put_list(f, "revised", k->revised, k->max_rounds);
    dlm_tally_put_list(f, "pos", k->pos, (size_t)k->L * k->V);
    if (k->hist) dlm_tally_put_cells(f, k->hist, dlm_law_cells(k->L, k->V));
    return dlm_tally_file_end(&w, path, err);
}

/* NULL, or what is wrong with counts read from a file. */
static const char *check_counts(const dlm_sample_counts *k)
{
    if (k->offsupport > k->chains || k->unfinished > k->chains) return "offsupport or unfinished over chains";
    if (k->rounds_max > k->max_rounds) return "rounds_max over rounds";
    for (uint32_t r = 0; r < k->max_rounds; r++)
        if (k->active[r] > k->chains) return "active over chains";
    for (uint32_t i = 0; i < k->L; i++) {
        uint64_t sum = 0;
        for (uint32_t v = 0; v < k->V; v++) {
            if (k->pos[(size_t)i * k->V + v] > k->chains - sum) return "pos: a position's counts over chains";
            sum += k->pos[(size_t)i * k->V + v];
        }
        if (sum != k->chains) return "pos: a position's counts do not add up to chains";
    }
    return NULL;
}

dlm_status dlm_sample_tally_read(const char *path, dlm_sample_tally *t, uint64_t max_bytes, dlm_err *err)
{
    memset(t, 0, sizeof *t);
    char *buf, kind[16] = "";
    dlm_cursor c;
    dlm_status s = dlm_tally_file_load(path, &buf, &c, kind, sizeof kind, max_bytes, err);
    if (s) return s;
    uint64_t L = 0, V = 0, R = 0, hist = 0;
    dlm_sample_counts *k = &t->k;
    const char *what = NULL;
    if (strcmp(kind, "sample")) {
        s = dlm_fail(err, DLM_EINPUT, "%s: a count file of kind %s, not of the oracle sampler (sample)", path, kind);
        goto out;
    }
    if (dlm_cursor_expect(&c, "law_hash") || dlm_cursor_num(&c, &t->law_hash, 16) ||
        dlm_cursor_expect(&c, "policy_hash") || dlm_cursor_num(&c, &t->policy_hash, 16) ||
        dlm_cursor_keyed(&c, "seed", &t->seed) || dlm_cursor_keyed(&c, "batch", &t->batch) ||
        dlm_cursor_keyed(&c, "L", &L) || dlm_cursor_keyed(&c, "V", &V) || dlm_cursor_keyed(&c, "rounds", &R) ||
        dlm_cursor_keyed(&c, "hist", &hist) || L < 1 || L > DLM_LAW_MAX_L || V < 2 || V > DLM_LAW_MAX_V ||
        R < 1 || R > ROUNDS_MAX || hist > 1) {
        s = dlm_fail(err, DLM_EINPUT, "%s: bad count file header", path);
        goto out;
    }
    if ((s = dlm_sample_counts_alloc(k, (uint32_t)L, (uint32_t)V, (uint32_t)R, (int)hist, err))) {
        s = dlm_fail(err, s, "%s: %s", path, err->msg);
        goto out;
    }
    if ((s = dlm_tally_get_ranges(&c, t->batch, &t->ranges, path, err))) goto out;
    if (dlm_cursor_keyed(&c, "chains", &k->chains) || dlm_cursor_keyed(&c, "rounds_sum", &k->rounds_sum) ||
        dlm_cursor_keyed(&c, "rounds_max", &k->rounds_max) || dlm_cursor_keyed(&c, "offsupport", &k->offsupport) ||
        dlm_cursor_keyed(&c, "unfinished", &k->unfinished))
        what = "chains, rounds_sum, rounds_max, offsupport, unfinished";
    else if (k->chains != dlm_ranges_chains(&t->ranges))
        what = "chains differ from the ranges' total";
    if (!what) what = dlm_tally_get_list(&c, "active", k->active, R, UINT64_MAX);
    if (!what) what = dlm_tally_get_list(&c, "revealed", k->revealed, R, UINT64_MAX);
    if (!what) what = dlm_tally_get_list(&c, "remasked", k->remasked, R, UINT64_MAX);
    if (!what) what = dlm_tally_get_list(&c, "revised", k->revised, R, UINT64_MAX);
    if (!what) what = dlm_tally_get_list(&c, "pos", k->pos, (size_t)(L * V), UINT64_MAX);
    if (!what && k->hist) what = dlm_tally_get_cells(&c, k->hist, dlm_law_cells(k->L, k->V), k->chains);
    if (!what) what = check_counts(k);
    char extra[8];
    if (!what && !dlm_cursor_word(&c, extra, sizeof extra)) what = "unexpected text before the digest";
    if (what) s = dlm_fail(err, DLM_EINPUT, "%s: bad count file (%s)", path, what);
out:
    free(buf);
    if (s) dlm_sample_tally_free(t);
    return s;
}

dlm_status dlm_sample_tally_merge(dlm_sample_tally *a, const char *name_a, const dlm_sample_tally *b,
                                  const char *name_b, dlm_err *err)
{
    const char *what = NULL;
    if (a->law_hash != b->law_hash) what = "law";
    else if (a->policy_hash != b->policy_hash) what = "policy";
    else if (a->seed != b->seed) what = "seed";
    else if (a->k.L != b->k.L || a->k.V != b->k.V || a->k.max_rounds != b->k.max_rounds) what = "L, V or rounds";
    else if ((a->k.hist != NULL) != (b->k.hist != NULL)) what = "histogram setting";
    if (what)
        return dlm_fail(err, DLM_EINPUT, "%s: another %s than %s; these counts do not belong together",
                        name_b, what, name_a);
    dlm_status s = dlm_ranges_merge(&a->ranges, name_a, &b->ranges, name_b, err);
    if (s) return s;
    dlm_sample_counts_add(&a->k, &b->k);
    if (b->batch > a->batch) a->batch = b->batch;
    return DLM_OK;
}

static uint64_t hash_list(uint64_t h, const uint64_t *v, uint64_t n)
{
    for (uint64_t i = 0; v && i < n; i++) h = dlm_fnv1a_u64(h, v[i]);
    return h;
}

uint64_t dlm_sample_counts_digest(const dlm_sample_counts *k)
{
    const uint64_t head[] = {k->L, k->V, k->max_rounds, k->chains, k->rounds_sum, k->rounds_max,
                             k->offsupport, k->unfinished};
    uint64_t h = hash_list(DLM_FNV_OFFSET, head, sizeof head / sizeof *head);
    h = hash_list(h, k->active, k->max_rounds);
    h = hash_list(h, k->revealed, k->max_rounds);
    h = hash_list(h, k->remasked, k->max_rounds);
    h = hash_list(h, k->revised, k->max_rounds);
    h = hash_list(h, k->pos, (uint64_t)k->L * k->V);
    return hash_list(h, k->hist, k->hist ? dlm_law_cells(k->L, k->V) : 0);
}
