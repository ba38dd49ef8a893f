/* sampler_exact.c — the exact output law of a policy: every round of every reachable
 * chain state is re-run once per sequence of choices (dlm_rs enumeration mode), each
 * outcome weighed by the product of its choice probabilities; equal states are merged
 * after each round (a hash map keyed by the state bytes). The same dlm_sampler_round
 * that samples computes the law, so the two cannot drift apart. */
#include "dlm_sampler.h"
#include "dlm_sampler_step.h"
#include "dlm_util.h"

#include <stdlib.h>
#include <string.h>

#define EXACT_MAX_CHOICES 65536u
#define EXACT_DEFAULT_STATES (UINT64_C(1) << 20)

/* States: key = tokens, ctl and (ReMDM conf only) the reveal confidences. */
typedef struct {
    size_t kbytes, cap, n;
    uint8_t *keys;
    double *w;
    uint8_t *used;
} smap;

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    /* FNV-1a from 1469598103934665603, not the standard basis (a digit short of it):
     * the state map's order, and so the summation order of the exact law, depends on
     * it, so it stays as it was. */
    uint64_t h = dlm_fnv1a(UINT64_C(1469598103934665603), p, n);
    return h ^ (h >> 29);
}

static int smap_init(smap *m, size_t kbytes, size_t cap)
{
    m->kbytes = kbytes;
    m->cap = cap;
    m->n = 0;
    m->keys = dlm_malloc(cap, kbytes);
    m->w = dlm_calloc(cap, sizeof(double));
    m->used = dlm_calloc(cap, 1);
    return m->keys && m->w && m->used ? 0 : -1;
}

static void smap_free(smap *m)
{
    free(m->keys);
    free(m->w);
    free(m->used);
    memset(m, 0, sizeof *m);
}

static void smap_clear(smap *m)
{
    memset(m->used, 0, m->cap);
    m->n = 0;
}

static int smap_add(smap *m, const uint8_t *key, double w);

static int smap_grow(smap *m)
{
    smap g;
    if (smap_init(&g, m->kbytes, m->cap * 2)) {
        smap_free(&g);
        return -1;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->used[i]) smap_add(&g, m->keys + i * m->kbytes, m->w[i]);
    smap_free(m);
    *m = g;
    return 0;
}

/* Adds w to the state key (inserting it). -1 when out of memory. */
static int smap_add(smap *m, const uint8_t *key, double w)
{
    if (2 * (m->n + 1) > m->cap && smap_grow(m)) return -1;
    size_t i = hash_bytes(key, m->kbytes) & (m->cap - 1);
    while (m->used[i]) {
        if (!memcmp(m->keys + i * m->kbytes, key, m->kbytes)) {
            m->w[i] += w;
            return 0;
        }
        i = (i + 1) & (m->cap - 1);
    }
    m->used[i] = 1;
    memcpy(m->keys + i * m->kbytes, key, m->kbytes);
    m->w[i] = w;
    m->n++;
    return 0;
}

typedef struct {
    uint32_t L;
    int with_conf;
    size_t kbytes;
} layout;

static void pack(const layout *ly, const uint16_t *tok, const double *conf, const dlm_chain_ctl *ctl,
                 uint8_t *key)
{
    memcpy(key, tok, (size_t)ly->L * 2);
    memcpy(key + (size_t)ly->L * 2, ctl, sizeof *ctl);
    if (ly->with_conf) memcpy(key + (size_t)ly->L * 2 + sizeof *ctl, conf, (size_t)ly->L * 8);
}

static void unpack(const layout *ly, const uint8_t *key, uint16_t *tok, double *conf, dlm_chain_ctl *ctl)
{
    memcpy(tok, key, (size_t)ly->L * 2);
    memcpy(ctl, key + (size_t)ly->L * 2, sizeof *ctl);
    if (ly->with_conf) memcpy(conf, key + (size_t)ly->L * 2 + sizeof *ctl, (size_t)ly->L * 8);
    else memset(conf, 0, (size_t)ly->L * 8);
}

dlm_status dlm_sampler_exact(const dlm_law *law, const dlm_policy *p, uint64_t max_states, double *q,
                             dlm_exact_info *info, dlm_err *err)
{
    return dlm_sampler_exact_progress(law, p, max_states, q, info, NULL, NULL, err);
}

#define EXACT_PARTS 1000000u

/* The fraction of one state's choice sequences already enumerated: the odometer's
 * digits script[0..n) read as a mixed-radix fraction. */
static double odometer_fraction(const uint32_t *script, const uint32_t *arity, uint32_t n)
{
    double f = 0, scale = 1;
    for (uint32_t d = 0; d < n && scale > 1e-12; d++) {
        scale /= arity[d] ? arity[d] : 1;
        f += script[d] * scale;
    }
    return f;
}

dlm_status dlm_sampler_exact_progress(const dlm_law *law, const dlm_policy *p, uint64_t max_states, double *q,
                                      dlm_exact_info *info, dlm_progress_fn progress, void *ctx,
                                      dlm_err *err)
{
    const double t0 = dlm_now();
    const dlm_law_view *w = &law->v;
    uint32_t L = w->L, V = w->V, R = dlm_policy_max_rounds(p, L);
    uint64_t cells = dlm_law_cells(L, V);
    if (cells == UINT64_MAX)
        return dlm_fail(err, DLM_EINPUT, "exact law: V^L is over %llu sequences",
                        (unsigned long long)DLM_LAW_TABLE_MAX);
    if (!max_states) max_states = EXACT_DEFAULT_STATES;
    memset(info, 0, sizeof *info);
    memset(q, 0, cells * sizeof *q);
    layout ly = {L, p->remask == DLM_REMASK_CONF, 0};
    ly.kbytes = (size_t)L * 2 + sizeof(dlm_chain_ctl) + (ly.with_conf ? (size_t)L * 8 : 0);
    smap cur, nxt;
    memset(&cur, 0, sizeof cur);
    memset(&nxt, 0, sizeof nxt);
    void *buf = malloc(dlm_sampler_scratch_bytes(w));
    uint8_t *key = malloc(ly.kbytes);
    uint16_t *tok = dlm_malloc(L, 2);
    double *conf = dlm_malloc(L, 8);
    uint32_t *script = dlm_malloc(EXACT_MAX_CHOICES, 4), *arity = dlm_malloc(EXACT_MAX_CHOICES, 4);
    dlm_status st = DLM_OK;
    if (!buf || !key || !tok || !conf || !script || !arity || smap_init(&cur, ly.kbytes, 64) ||
        smap_init(&nxt, ly.kbytes, 64)) {
        st = dlm_fail(err, DLM_ENOMEM, "exact law: out of memory");
        goto done;
    }
    dlm_sampler_scratch sc;
    dlm_sampler_scratch_carve(w, buf, &sc);
    dlm_chain_ctl ctl;
    memset(&ctl, 0, sizeof ctl);
    for (uint32_t i = 0; i < L; i++) tok[i] = DLM_TOK_MASK;
    memset(conf, 0, (size_t)L * 8);
    pack(&ly, tok, conf, &ctl, key);
    smap_add(&cur, key, 1.0);
    for (uint32_t round = 0; cur.n > 0; round++) {
        if (round > R) {
            st = dlm_fail(err, DLM_EINPUT, "exact law: chains still running after %u rounds", R);
            goto done;
        }
        smap_clear(&nxt);
        uint64_t seen = 0; /* states of this round begun */
        for (size_t si = 0; si < cur.cap; si++) {
            if (!cur.used[si]) continue;
            seen++;
            double w0 = cur.w[si];
            uint32_t nscript = 0;
            for (;;) {
                unpack(&ly, cur.keys + si * ly.kbytes, tok, conf, &ctl);
                dlm_rs rs;
                memset(&rs, 0, sizeof rs);
                rs.enumerate = 1;
                rs.script = script;
                rs.nscript = nscript;
                rs.arity = arity;
                rs.cap = EXACT_MAX_CHOICES;
                rs.zero_at = UINT32_MAX;
                rs.weight = 1.0;
                dlm_sampler_round(w, p, tok, conf, &ctl, &rs, &sc);
                info->branches++;
                if (rs.overflow) {
                    st = dlm_fail(err, DLM_EINPUT, "exact law: a round has more than %u choice points",
                                  EXACT_MAX_CHOICES);
                    goto done;
                }
                double wt = w0 * rs.weight;
                if (wt > 0) {
                    if (ctl.done) {
                        uint64_t idx = 0;
                        for (uint32_t i = L; i-- > 0;) idx = idx * V + tok[i];
                        q[idx] += wt;
                        info->total += wt;
                        if (ctl.offsupport) info->offsupport += wt;
                        info->rounds_mean += wt * ctl.round;
                        if (ctl.round > info->rounds_max) info->rounds_max = ctl.round;
                    } else {
                        pack(&ly, tok, conf, &ctl, key);
                        if (smap_add(&nxt, key, wt)) {
                            st = dlm_fail(err, DLM_ENOMEM, "exact law: out of memory for states");
                            goto done;
                        }
                        if (nxt.n > max_states) {
                            st = dlm_fail(err, DLM_EINPUT, "exact law: more than %llu chain states alive",
                                          (unsigned long long)max_states);
                            goto done;
                        }
                    }
                }
                /* next choice sequence: the odometer over the choices this run made */
                uint32_t used = rs.depth < rs.cap ? rs.depth : rs.cap;
                for (uint32_t d = nscript; d < used; d++) script[d] = 0;
                uint32_t lim = rs.zero_at != UINT32_MAX && rs.zero_at + 1 < used ? rs.zero_at + 1 : used;
                uint32_t j = lim;
                while (j > 0 && script[j - 1] + 1 >= arity[j - 1]) j--;
                if (j == 0) break;
                script[j - 1]++;
                nscript = j;
                if (progress && (info->branches & 4095) == 0) {
                    double f = (round + (seen - 1 + odometer_fraction(script, arity, nscript)) / (double)cur.n) / (R ? R : 1);
                    uint64_t part = (uint64_t)(f * EXACT_PARTS);
                    progress(ctx, part < EXACT_PARTS ? part : EXACT_PARTS - 1, EXACT_PARTS, dlm_now() - t0);
                }
            }
        }
        if (nxt.n > info->states_max) info->states_max = nxt.n;
        smap t = cur;
        cur = nxt;
        nxt = t;
    }
    if (info->total > 0) info->rounds_mean /= info->total;
    if (progress) progress(ctx, EXACT_PARTS, EXACT_PARTS, dlm_now() - t0);
done:
    smap_free(&cur);
    smap_free(&nxt);
    free(buf);
    free(key);
    free(tok);
    free(conf);
    free(script);
    free(arity);
    return st;
}
