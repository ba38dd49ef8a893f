/* dlm_sampler_step.h — THE per-chain round of the oracle sampler, for the CPU sampler,
 * the CUDA sampler and the exact-law enumerator alike (DLM_HD; C11 and C++17).
 *
 * A chain is tok[L] (token or DLM_TOK_MASK), conf[L] (the predictor's probability of
 * each token when it was revealed; ReMDM conf reads it) and a dlm_chain_ctl. One call of
 * dlm_sampler_round runs one decoding round of policy p against the exact predictor of
 * law w (dlm_oracle.h): the oracle sees the state at the start of the round; reveals,
 * remasks and revisions of the round all use those probabilities.
 *
 * Randomness goes through a dlm_rs and nothing else:
 *   sampling     each draw is a Philox4x32-10 block keyed by (seed, chain, round,
 *                purpose, position, index), uniform u in (0,1) from 53 bits (docs/oracle.md
 *                "Random numbers"); a categorical draw inverts the CDF with one uniform
 *                (the same law as LLaDA's float64 Gumbel-max, and no libm, so the CPU
 *                and the GPU make the same draw; dlm_detmath.h for logs and exps);
 *   enumerating  each draw is a choice point: the enumerator (host/oracle/sampler_exact.c)
 *                re-runs the round for every sequence of choices and weighs the outcome
 *                by the product of the choice probabilities, so the exact law of the
 *                sampler is computed by the very code that samples.
 * Ties in rankings go to the lower position (torch.topk leaves them unspecified); argmax
 * ties to the lower token (torch.argmax returns the first).
 */
#ifndef DLM_SAMPLER_STEP_H
#define DLM_SAMPLER_STEP_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include <Random123/philox.h>

#include "dlm_detmath.h"
#include "dlm_hd.h"
#include "dlm_oracle.h"
#include "dlm_policy.h"
#include "dlm_schedule.h"

/* Draw purposes (a field of the Philox counter). */
enum { DLM_RS_PROPOSE = 1, DLM_RS_SELECT = 2, DLM_RS_REVEAL = 3, DLM_RS_REMASK = 4,
       DLM_RS_SCORE = 5, DLM_RS_REVISE = 6 };

#define DLM_RS_KEY_XOR UINT32_C(0x6F72636C) /* "orcl": key word 1 = seed hi ^ this */

typedef struct {
    uint64_t seed, chain;
    uint32_t round;
    /* enumeration (host only; 0 when sampling) */
    int enumerate;
    uint32_t depth;          /* choice points passed in this run */
    uint32_t nscript;        /* choices prescribed (script[d] for d < nscript, else 0) */
    const uint32_t *script;
    uint32_t *arity;         /* arity[d] recorded for d < cap */
    uint32_t cap;
    uint32_t zero_at;        /* first depth whose choice had probability 0, or UINT32_MAX */
    int overflow;            /* more than cap choice points */
    double weight;           /* product of the choice probabilities */
} dlm_rs;

typedef struct {
    uint32_t round;   /* rounds done */
    uint32_t block;   /* current block */
    uint32_t bstep;   /* rounds done in the current block (reveal rounds) */
    uint32_t bmask0;  /* FIXED: masked positions of the current block at its start */
    uint32_t post;    /* EDIT: edit-only rounds done (after everything is revealed) */
    uint32_t done;    /* the chain has finished */
    uint32_t offsupport; /* the revealed tokens became a combination of probability 0
                            (several tokens revealed at once can do that); from then on
                            the oracle predicts from the unconditional marginals */
} dlm_chain_ctl;

typedef struct {
    uint32_t revealed, remasked, revised;
    uint32_t ran;     /* 1 if the chain ran this round */
} dlm_round_stat;

/* Per-chain scratch (dlm_sampler_scratch_bytes). */
typedef struct {
    double *probs;    /* L*V: the oracle */
    double *probs0;   /* L*V: the unconditional marginals (only off the support) */
    double *q;        /* V: tempered, filtered proposal of one position */
    double *score;    /* L */
    double *ent;      /* L: entropy of each position's proposal */
    uint32_t *idx;    /* L: positions being ranked */
    uint32_t *vidx;   /* V: tokens, for top-p / top-k sorting */
    uint16_t *x0;     /* L */
    uint8_t *sel;     /* L */
    double *oracle;   /* dlm_oracle_scratch_doubles */
} dlm_sampler_scratch;

/* Bytes of per-chain scratch, and how to carve it from one aligned buffer. */
DLM_HD size_t dlm_sampler_scratch_bytes(const dlm_law_view *w)
{
    size_t L = w->L, V = w->V;
    return 8 * (2 * L * V + V + 2 * L + dlm_oracle_scratch_doubles(w)) + 4 * (L + V) + 2 * L + L + 64;
}
DLM_HD void dlm_sampler_scratch_carve(const dlm_law_view *w, void *buf, dlm_sampler_scratch *s)
{
    size_t L = w->L, V = w->V;
    double *d = (double *)buf;
    s->probs = d; d += L * V;
    s->probs0 = d; d += L * V;
    s->q = d; d += V;
    s->score = d; d += L;
    s->ent = d; d += L;
    s->oracle = d; d += dlm_oracle_scratch_doubles(w);
    s->idx = (uint32_t *)d;
    s->vidx = s->idx + L;
    s->x0 = (uint16_t *)(s->vidx + V);
    s->sel = (uint8_t *)(s->x0 + L);
}

/* ---------------------------------------------------------------- random draws */

/* Uniform in (0, 1) for (purpose, pos, index) of the chain's current round. */
DLM_HD double dlm_rs_u(const dlm_rs *r, uint32_t purpose, uint32_t pos, uint32_t index)
{
    philox4x32_ctr_t ctr;
    philox4x32_key_t key;
    ctr.v[0] = (uint32_t)r->chain;
    ctr.v[1] = (uint32_t)(r->chain >> 32);
    ctr.v[2] = r->round;
    ctr.v[3] = (purpose << 28) | ((pos & 0xFFFu) << 16) | (index & 0xFFFFu);
    key.v[0] = (uint32_t)r->seed;
    key.v[1] = (uint32_t)(r->seed >> 32) ^ DLM_RS_KEY_XOR;
    philox4x32_ctr_t o = philox4x32_R(10, ctr, key);
    uint64_t x = ((uint64_t)o.v[0] << 21) ^ ((uint64_t)o.v[1] >> 11); /* 53 bits */
    x &= (UINT64_C(1) << 53) - 1;
    return ((double)x + 0.5) * (1.0 / 9007199254740992.0);
}

/* Enumeration: a choice point over n weights w (sum total); returns the choice. */
DLM_HD uint32_t dlm_rs_choose(dlm_rs *r, const double *w, uint32_t n, double total)
{
    uint32_t d = r->depth++;
    if (d >= r->cap) {
        r->overflow = 1;
        return 0;
    }
    r->arity[d] = n;
    uint32_t c = d < r->nscript ? r->script[d] : 0;
    if (c >= n) c = n - 1;
    double pc = total > 0 ? w[c] / total : 0.0;
    if (pc <= 0.0 && r->zero_at == UINT32_MAX) r->zero_at = d;
    r->weight *= pc;
    return c;
}

/* Index j with probability w[j]/total (w >= 0, total = sum w > 0): inverse CDF. A
 * single positive weight is no choice at all (no draw, no choice point). */
DLM_HD uint32_t dlm_rs_cat(dlm_rs *r, uint32_t purpose, uint32_t pos, uint32_t index,
                           const double *w, uint32_t n, double total)
{
    uint32_t npos = 0, last = 0;
    for (uint32_t j = 0; j < n; j++)
        if (w[j] > 0) { npos++; last = j; }
    if (npos <= 1) return last;
    if (r->enumerate) return dlm_rs_choose(r, w, n, total);
    double u = dlm_rs_u(r, purpose, pos, index) * total, c = 0;
    for (uint32_t j = 0; j < n; j++) {
        if (w[j] <= 0) continue;
        c += w[j];
        if (u < c) return j;
    }
    return last;
}

/* 1 with probability p. */
DLM_HD uint32_t dlm_rs_bern(dlm_rs *r, uint32_t purpose, uint32_t pos, double p)
{
    if (p <= 0) return 0;
    if (p >= 1) return 1;
    if (r->enumerate) {
        double w[2];
        w[0] = 1.0 - p;
        w[1] = p;
        return dlm_rs_choose(r, w, 2, 1.0);
    }
    return dlm_rs_u(r, purpose, pos, 0) < p ? 1u : 0u;
}

/* ---------------------------------------------------------------- rankings */

/* 1 if position a ranks before b: higher score, ties to the lower position. */
DLM_HD int dlm_rank_before(const double *score, uint32_t a, uint32_t b)
{
    return score[a] > score[b] || (score[a] == score[b] && a < b);
}

/* Sorts idx[0..n-1] by dlm_rank_before (heapsort: no recursion, no allocation). */
DLM_HD void dlm_rank_sort(uint32_t *idx, uint32_t n, const double *score)
{
    /* max-heap under "ranks after", so the root is the worst; pop to the end. */
    for (uint32_t k = n / 2; k-- > 0;) {
        uint32_t i = k;
        for (;;) {
            uint32_t c = 2 * i + 1, m = i;
            if (c < n && dlm_rank_before(score, idx[m], idx[c])) m = c;
            if (c + 1 < n && dlm_rank_before(score, idx[m], idx[c + 1])) m = c + 1;
            if (m == i) break;
            uint32_t t = idx[i]; idx[i] = idx[m]; idx[m] = t;
            i = m;
        }
    }
    for (uint32_t end = n; end > 1; end--) {
        uint32_t t = idx[0]; idx[0] = idx[end - 1]; idx[end - 1] = t;
        uint32_t i = 0, len = end - 1;
        for (;;) {
            uint32_t c = 2 * i + 1, m = i;
            if (c < len && dlm_rank_before(score, idx[m], idx[c])) m = c;
            if (c + 1 < len && dlm_rank_before(score, idx[m], idx[c + 1])) m = c + 1;
            if (m == i) break;
            t = idx[i]; idx[i] = idx[m]; idx[m] = t;
            i = m;
        }
    }
}

/* ---------------------------------------------------------------- the proposal */

/* q = the predictor row p (V entries) tempered (q ~ p^(1/T)), top-k and top-p filtered
 * (Dream's top_p_logits: sorted descending, a token is dropped when the mass before it
 * already exceeds top_p) and renormalised. Temperature 0 leaves q = p (the caller takes
 * the argmax). idx: V scratch. */
DLM_HD void dlm_proposal(const dlm_policy *pol, const double *p, uint32_t V, double *q,
                         uint32_t *idx)
{
    double mx = 0;
    for (uint32_t v = 0; v < V; v++) mx = p[v] > mx ? p[v] : mx;
    double z = 0;
    for (uint32_t v = 0; v < V; v++) {
        double x = p[v];
        if (pol->temperature > 0 && pol->temperature != 1.0 && x > 0)
            x = dlm_exp((dlm_log(x) - dlm_log(mx)) / pol->temperature);
        q[v] = x;
        z += x;
    }
    for (uint32_t v = 0; v < V; v++) q[v] /= z;
    if (pol->top_k == 0 && !(pol->top_p < 1.0)) return;
    for (uint32_t v = 0; v < V; v++) idx[v] = v;
    dlm_rank_sort(idx, V, q);
    double c = 0;
    z = 0;
    for (uint32_t j = 0; j < V; j++) {
        uint32_t v = idx[j];
        int drop = (pol->top_k && j >= pol->top_k) || (pol->top_p < 1.0 && c > pol->top_p);
        c += q[v];
        if (drop) q[v] = 0;
        z += q[v];
    }
    for (uint32_t v = 0; v < V; v++) q[v] /= z;
}

DLM_HD uint32_t dlm_argmax(const double *p, uint32_t n)
{
    uint32_t a = 0;
    for (uint32_t v = 1; v < n; v++)
        if (p[v] > p[a]) a = v;
    return a;
}

/* Draws x0[i] for masked position i and sets score[i] (the unmask rule's confidence)
 * and ent[i] (entropy of the proposal, nats). */
DLM_HD void dlm_propose(const dlm_policy *pol, uint32_t V, uint32_t i, dlm_rs *rs,
                        dlm_sampler_scratch *s)
{
    const double *p = s->probs + (size_t)i * V;
    double *q = s->q;
    dlm_proposal(pol, p, V, q, s->vidx);
    uint32_t x = pol->temperature > 0 ? dlm_rs_cat(rs, DLM_RS_PROPOSE, i, 0, q, V, 1.0) : dlm_argmax(q, V);
    s->x0[i] = (uint16_t)x;
    /* the entropy (V logs) only where a rule reads it */
    int need_h = pol->unmask == DLM_UNMASK_ENTROPY || pol->count == DLM_COUNT_EB || pol->count == DLM_COUNT_ENTSUM;
    double h = 0, t1 = 0, t2 = 0;
    for (uint32_t v = 0; v < V; v++) {
        double y = q[v];
        if (need_h && y > 0) h -= y * dlm_log(y);
        if (y > t1) { t2 = t1; t1 = y; } else if (y > t2) t2 = y;
    }
    s->ent[i] = h;
    switch (pol->unmask) {
    case DLM_UNMASK_LOW_CONFIDENCE: s->score[i] = p[x]; break;
    case DLM_UNMASK_MASKGIT_PLUS: s->score[i] = q[x]; break;
    case DLM_UNMASK_TOPK_MARGIN: s->score[i] = t1 - t2; break;
    case DLM_UNMASK_ENTROPY: s->score[i] = -h; break;
    default: s->score[i] = 0; break; /* RANDOM: set by the selection */
    }
}

/* ---------------------------------------------------------------- selection */

/* Marks sel[] for k of the n masked positions in idx[] (ascending positions on entry):
 * uniformly at random (RANDOM), sampled without replacement with weights
 * softmax(score / alg_temp) (alg_temp > 0), or the top k by score. */
DLM_HD void dlm_select_k(const dlm_policy *pol, uint32_t *idx, uint32_t n, uint32_t k,
                         dlm_rs *rs, dlm_sampler_scratch *s)
{
    if (k > n) k = n;
    if (k == 0) return;
    if (pol->unmask == DLM_UNMASK_RANDOM || pol->alg_temp > 0) {
        if (pol->unmask == DLM_UNMASK_RANDOM && !rs->enumerate) {
            /* LLaDA: uniform random scores, top k */
            for (uint32_t j = 0; j < n; j++) s->score[idx[j]] = dlm_rs_u(rs, DLM_RS_SCORE, idx[j], 0);
            dlm_rank_sort(idx, n, s->score);
            for (uint32_t j = 0; j < k; j++) s->sel[idx[j]] = 1;
            return;
        }
        /* Dream alg_temp (and RANDOM when enumerating): k sequential draws without
         * replacement, weights softmax(score / alg_temp) (1 each for RANDOM), in idx
         * order in ent (free here: only the adaptive counts read the entropies). */
        double mx = -INFINITY, *wt = s->ent;
        for (uint32_t j = 0; j < n; j++) mx = s->score[idx[j]] > mx ? s->score[idx[j]] : mx;
        for (uint32_t j = 0; j < n; j++)
            wt[j] = pol->unmask == DLM_UNMASK_RANDOM ? 1.0 : dlm_exp((s->score[idx[j]] - mx) / pol->alg_temp);
        for (uint32_t t = 0; t < k; t++) {
            double tot = 0;
            for (uint32_t j = 0; j < n; j++) tot += wt[j];
            uint32_t pick = dlm_rs_cat(rs, DLM_RS_SELECT, t, 0, wt, n, tot);
            s->sel[idx[pick]] = 1;
            wt[pick] = 0;
        }
        return;
    }
    if (k <= 16) { /* partial selection, O(n k): the usual case (a few tokens a round) */
        for (uint32_t j = 0; j < k; j++) {
            uint32_t best = j;
            for (uint32_t t = j + 1; t < n; t++)
                if (dlm_rank_before(s->score, idx[t], idx[best])) best = t;
            uint32_t tmp = idx[j];
            idx[j] = idx[best];
            idx[best] = tmp;
        }
    } else {
        dlm_rank_sort(idx, n, s->score);
    }
    for (uint32_t j = 0; j < k; j++) s->sel[idx[j]] = 1;
}

/* Adaptive counts: idx[] sorted by rank; returns how many of the first to take. */
DLM_HD uint32_t dlm_adaptive_count(const dlm_policy *pol, const uint32_t *idx, uint32_t n,
                                   const dlm_sampler_scratch *s)
{
    uint32_t k = 1;
    double sum = 0, mx = 0;
    switch (pol->count) {
    case DLM_COUNT_THRESHOLD:
        for (k = 1; k < n && s->score[idx[k]] >= pol->threshold; k++) {}
        return k;
    case DLM_COUNT_FACTOR:
        for (k = 1; k < n && s->score[idx[k]] >= 1.0 - pol->factor / (double)(k + 2); k++) {}
        return k;
    case DLM_COUNT_EB:
        for (k = 0; k < n; k++) {
            double h = s->ent[idx[k]];
            double nmx = h > mx ? h : mx;
            if (k > 0 && sum + h - nmx > pol->gamma) break;
            sum += h;
            mx = nmx;
        }
        return k ? k : 1;
    case DLM_COUNT_ENTSUM:
        for (k = 0; k < n; k++) {
            if (k > 0 && sum + s->ent[idx[k]] > pol->threshold) break;
            sum += s->ent[idx[k]];
        }
        return k ? k : 1;
    default:
        return n;
    }
}

/* The oracle on the chain's tokens. When they have probability 0 under the law (the
 * chain has left the support), every row whose own conditioning event has probability 0
 * (all of them for an HMM; for a table, the masked positions and any revealed one whose
 * leave-one-out event is impossible: the oracle leaves those rows 0) is replaced by the
 * position's unconditional marginal, and the chain is marked. */
DLM_HD void dlm_predict(const dlm_law_view *w, const uint16_t *tok, dlm_chain_ctl *ctl,
                        dlm_sampler_scratch *s)
{
    if (!dlm_oracle_probs(w, tok, s->probs, s->oracle)) return;
    ctl->offsupport = 1;
    uint32_t L = w->L, V = w->V;
    for (uint32_t i = 0; i < L; i++) s->x0[i] = (uint16_t)DLM_TOK_MASK;
    dlm_oracle_probs(w, s->x0, s->probs0, s->oracle);
    for (uint32_t i = 0; i < L; i++) {
        double *row = s->probs + (size_t)i * V, z = 0;
        for (uint32_t v = 0; v < V; v++) z += row[v];
        if (w->kind == DLM_LAW_HMM || !(z > 0.5))
            for (uint32_t v = 0; v < V; v++) row[v] = s->probs0[(size_t)i * V + v];
    }
}

/* ---------------------------------------------------------------- ReMDM */

/* alpha(t): the unmasked fraction at time t. */
DLM_HD double dlm_remdm_alpha(const dlm_policy *pol, double t)
{
    if (pol->remask != DLM_REMASK_LOOP) return 1.0 - t;
    if (t >= pol->t_on) return pol->alpha_on * (1.0 - t) / (1.0 - pol->t_on);
    if (t >= pol->t_off) return pol->alpha_on;
    return pol->alpha_on + (1.0 - pol->alpha_on) * (pol->t_off - t) / pol->t_off;
}

/* One ReMDM round: every revealed token is remasked with probability sigma, every masked
 * one revealed with (alpha_s - (1 - sigma) alpha_t) / (1 - alpha_t), on the grid
 * t = 1 - r/steps. */
DLM_HD dlm_round_stat dlm_remdm_round(const dlm_law_view *w, const dlm_policy *pol,
                                      uint16_t *tok, double *conf, dlm_chain_ctl *ctl,
                                      dlm_rs *rs, dlm_sampler_scratch *s)
{
    dlm_round_stat st = {0, 0, 0, 1};
    uint32_t L = w->L, V = w->V, r = ctl->round;
    double t = 1.0 - (double)r / pol->steps, tn = 1.0 - (double)(r + 1) / pol->steps;
    if (tn < 0) tn = 0;
    double at = dlm_remdm_alpha(pol, t), as = dlm_remdm_alpha(pol, tn);
    double smax = at > 0 ? (1.0 - as) / at : 0.0;
    smax = smax < 1.0 ? smax : 1.0;
    if (smax < 0) smax = 0;
    double sigma = 0;
    int loop_mid = pol->remask == DLM_REMASK_LOOP && t <= pol->t_on && t > pol->t_off;
    if (pol->remask == DLM_REMASK_CAP) sigma = pol->eta < smax ? pol->eta : smax;
    else if (pol->remask == DLM_REMASK_RESCALE) sigma = pol->eta * smax;
    else if (pol->remask == DLM_REMASK_CONF) sigma = smax; /* scaled per token below */
    else if (loop_mid) sigma = pol->eta;
    /* conf: sigma_l = sigma_max * softmax_l(-conf) over the revealed positions */
    uint32_t nrev = 0;
    double cmx = -INFINITY, cz = 0;
    for (uint32_t i = 0; i < L; i++)
        if (tok[i] != DLM_TOK_MASK) { nrev++; cmx = -conf[i] > cmx ? -conf[i] : cmx; }
    if (pol->remask == DLM_REMASK_CONF)
        for (uint32_t i = 0; i < L; i++)
            if (tok[i] != DLM_TOK_MASK) cz += dlm_exp(-conf[i] - cmx);
    double sbar = pol->remask == DLM_REMASK_CONF ? (nrev ? smax / nrev : 0.0) : sigma;
    double qrev = at < 1.0 ? (as - (1.0 - sbar) * at) / (1.0 - at) : 1.0;
    qrev = qrev < 0 ? 0 : (qrev > 1 ? 1 : qrev);
    if (r + 1 >= pol->steps) { qrev = 1; sigma = 0; }
    dlm_predict(w, tok, ctl, s);
    for (uint32_t i = 0; i < L; i++) {
        s->sel[i] = 0;
        if (tok[i] == DLM_TOK_MASK) {
            if (dlm_rs_bern(rs, DLM_RS_REVEAL, i, qrev)) {
                dlm_propose(pol, V, i, rs, s);
                s->sel[i] = 1;
            }
        } else if (r + 1 < pol->steps) {
            double si = pol->remask == DLM_REMASK_CONF ? smax * dlm_exp(-conf[i] - cmx) / cz : sigma;
            if (dlm_rs_bern(rs, DLM_RS_REMASK, i, si)) s->sel[i] = 2;
        }
    }
    for (uint32_t i = 0; i < L; i++) {
        if (s->sel[i] == 1) {
            tok[i] = s->x0[i];
            conf[i] = s->probs[(size_t)i * V + s->x0[i]];
            st.revealed++;
        } else if (s->sel[i] == 2) {
            tok[i] = DLM_TOK_MASK;
            conf[i] = 0;
            st.remasked++;
        }
    }
    ctl->round++;
    if (ctl->round >= pol->steps) ctl->done = 1;
    return st;
}

/* ---------------------------------------------------------------- the round */

/* Edits (EDIT), called before the round's reveals are written: every revealed position
 * whose leave-one-out argmax differs from its token with probability above
 * editing_threshold is overwritten by it (all at once, from the round's predictions).
 * Returns the edits made. */
DLM_HD uint32_t dlm_edit(const dlm_law_view *w, const dlm_policy *pol, uint16_t *tok,
                         const dlm_sampler_scratch *s)
{
    uint32_t n = 0, V = w->V;
    for (uint32_t i = 0; i < w->L; i++) {
        if (tok[i] == DLM_TOK_MASK) continue;
        const double *p = s->probs + (size_t)i * V;
        uint32_t a = dlm_argmax(p, V);
        if (a != tok[i] && p[a] > pol->editing_threshold) {
            tok[i] = (uint16_t)a;
            n++;
        }
    }
    return n;
}

/* One round of chain (tok, conf, ctl). Does nothing once ctl->done. */
DLM_HD dlm_round_stat dlm_sampler_round(const dlm_law_view *w, const dlm_policy *pol,
                                        uint16_t *tok, double *conf, dlm_chain_ctl *ctl,
                                        dlm_rs *rs, dlm_sampler_scratch *s)
{
    dlm_round_stat st = {0, 0, 0, 0};
    if (ctl->done) return st;
    rs->round = ctl->round;
    if (pol->remask != DLM_REMASK_NONE) return dlm_remdm_round(w, pol, tok, conf, ctl, rs, s);
    uint32_t L = w->L, V = w->V, B = pol->block_length, nb = L / B;
    uint32_t spb = pol->steps / nb;
    st.ran = 1;
    dlm_predict(w, tok, ctl, s);
    uint32_t lo = ctl->block * B, hi = lo + B, n = 0, nmask_all = 0;
    for (uint32_t i = 0; i < L; i++) {
        s->sel[i] = 0;
        nmask_all += tok[i] == DLM_TOK_MASK;
    }
    if (nmask_all == 0) {
        /* everything revealed: revision rounds */
        if (pol->revise == DLM_REVISE_LAST) {
            uint32_t i = L - 1;
            uint32_t v = dlm_rs_cat(rs, DLM_RS_REVISE, i, 0, s->probs + (size_t)i * V, V, 1.0);
            st.revised = v != tok[i];
            tok[i] = (uint16_t)v;
        } else if (pol->revise == DLM_REVISE_EDIT) {
            st.revised = dlm_edit(w, pol, tok, s);
            ctl->post++;
            if (st.revised == 0 || ctl->post >= pol->max_post_steps) ctl->done = 1;
            ctl->round++;
            return st;
        }
        ctl->round++;
        ctl->done = 1;
        return st;
    }
    /* the masked positions of the current block, ascending */
    for (uint32_t i = lo; i < hi; i++)
        if (tok[i] == DLM_TOK_MASK) s->idx[n++] = i;
    if (pol->count == DLM_COUNT_BINOMIAL) {
        double pr = dlm_grid_reveal_p(pol->grid, spb, ctl->bstep, pol->eps);
        for (uint32_t j = 0; j < n; j++) {
            uint32_t i = s->idx[j];
            if (dlm_rs_bern(rs, DLM_RS_REVEAL, i, pr)) {
                dlm_propose(pol, V, i, rs, s);
                s->sel[i] = 1;
            }
        }
    } else {
        for (uint32_t j = 0; j < n; j++) dlm_propose(pol, V, s->idx[j], rs, s);
        uint32_t k;
        if (pol->count == DLM_COUNT_FIXED) {
            /* LLaDA: the block's sizes are fixed by its masked count at block start */
            if (ctl->bstep == 0) ctl->bmask0 = n;
            k = dlm_sched_fixed(ctl->bmask0, spb, ctl->bstep, pol->remainder_first);
        } else if (pol->count == DLM_COUNT_GRID) {
            k = dlm_sched_grid(pol->grid, n, spb, ctl->bstep, pol->eps);
        } else if (pol->count == DLM_COUNT_RANDSIZE) {
            uint32_t J = dlm_sched_randsize_J(n, spb - ctl->bstep);
            if (spb - ctl->bstep <= 1) {
                k = n;
            } else {
                double eq[32];
                for (uint32_t j = 0; j <= J; j++) eq[j] = 1.0;
                k = UINT32_C(1) << dlm_rs_cat(rs, DLM_RS_SELECT, 0xFFFu, 0xFFFFu, eq, J + 1, (double)(J + 1));
                k = k < n ? k : n;
            }
        } else {
            dlm_rank_sort(s->idx, n, s->score);
            k = dlm_adaptive_count(pol, s->idx, n, s);
            for (uint32_t j = 0; j < k; j++) s->sel[s->idx[j]] = 1;
            n = 0; /* selected already */
        }
        if (n) dlm_select_k(pol, s->idx, n, k, rs, s);
    }
    /* edits of the tokens revealed before this round (LLaDA 2.1), then the reveals */
    if (pol->revise == DLM_REVISE_EDIT) st.revised = dlm_edit(w, pol, tok, s);
    for (uint32_t i = lo; i < hi; i++) {
        if (s->sel[i] != 1) continue;
        tok[i] = s->x0[i];
        conf[i] = s->probs[(size_t)i * V + s->x0[i]];
        st.revealed++;
    }
    ctl->round++;
    ctl->bstep++;
    int full = 1;
    for (uint32_t i = lo; i < hi; i++) full &= tok[i] != DLM_TOK_MASK;
    if (dlm_count_stepped(pol->count) ? ctl->bstep >= spb : full) {
        ctl->block++;
        ctl->bstep = 0;
    }
    if (nmask_all == st.revealed && pol->revise == DLM_REVISE_NONE) ctl->done = 1;
    return st;
}

#endif
