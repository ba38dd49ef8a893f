/* dlm_oracle.h — the exact predictor of a law (dlm_law.h), per chain, for the host and
 * the device alike (DLM_HD; valid C11 and C++17; no allocation, no libm beyond exp/log).
 *
 * For a chain state tok[0..L-1] (token, or DLM_TOK_MASK), with revealed set S:
 *   out[i*V + v] = P(x_i = v | x_j for j in S, j != i)   for every position i
 * i.e. the conditional marginal of every masked position given the revealed tokens,
 * and for a revealed position its conditional given the other revealed tokens (what a
 * revision policy needs). Probabilities in double precision; the summation order is
 * fixed (documented in docs/oracle.md), so results do not depend on threads or device.
 *   TABLE with marg: V lookups per position, normalized by their sum.
 *   TABLE without marg: one pass over the V^L table.
 *   HMM: forward-backward with hard evidence, scaled per step, O(L (nnz + S V)).
 * Every row of out is divided by its own sum (summed v = 0..V-1), so rows sum to 1
 * within rounding. No libm call at all: only +, -, *, /.
 *
 * What this file is not: a sampler (dlm_sampler_step.h draws from these rows) or a
 * loader (host/oracle/law.c). Tests: test/test_law.c (against brute-force enumeration).
 */
#ifndef DLM_ORACLE_H
#define DLM_ORACLE_H

#include "dlm_hd.h"
#include "dlm_law.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Doubles of scratch that dlm_oracle_probs needs for one chain of this law:
 * TABLE 0; HMM (L + 3) * S (the forward predictions of every position and three
 * S-vectors). */
DLM_HD size_t dlm_oracle_scratch_doubles(const dlm_law_view *w)
{
    if (w->kind == DLM_LAW_HMM) return ((size_t)w->L + 3u) * (size_t)w->S;
    return 0;
}

// ---------------------------------------------------------------- helpers

/* The hard evidence of position token t on state s: 1 when masked; else emit[s][t],
 * or [s == t] for a Markov chain (the token is the state). */
DLM_HD double dlm_oracle_ev_(const dlm_law_view *w, uint16_t t, uint32_t s)
{
    if (t == (uint16_t)DLM_TOK_MASK) return 1.0;
    if (!w->emit) return s == (uint32_t)t ? 1.0 : 0.0;
    return w->emit[(size_t)s * w->V + t];
}

/* Divides out[0..n-1] by its sum (v ascending); -1 when the sum is not positive. */
DLM_HD int dlm_oracle_norm_(double *o, uint32_t n)
{
    double z = 0.0;
    for (uint32_t v = 0; v < n; v++) z += o[v];
    if (!(z > 0.0)) return -1;
    for (uint32_t v = 0; v < n; v++) o[v] /= z;
    return 0;
}

// ---------------------------------------------------------------- TABLE

/* With the subset-marginal table: the base index has digit tok_i (revealed) or V
 * (masked) at every position; row i reads the V entries with digit i set to 0..V-1,
 * i.e. P(x_i = v, x_{S \ i}), then is normalized. P(x_S) = marg[base] decides -1. */
DLM_HD int dlm_oracle_table_marg_(const dlm_law_view *w, const uint16_t *tok, double *out)
{
    const uint32_t L = w->L, V = w->V;
    uint64_t base = 0, pw = 1;
    for (uint32_t i = 0; i < L; i++) {
        uint64_t d = tok[i] == (uint16_t)DLM_TOK_MASK ? V : tok[i];
        base += d * pw;
        pw *= (uint64_t)V + 1u;
    }
    pw = 1;
    for (uint32_t i = 0; i < L; i++) {
        uint64_t d = tok[i] == (uint16_t)DLM_TOK_MASK ? V : tok[i];
        uint64_t b0 = base - d * pw;
        double *o = out + (size_t)i * V;
        for (uint32_t v = 0; v < V; v++) o[v] = w->marg[b0 + (uint64_t)v * pw];
        dlm_oracle_norm_(o, V); /* a row whose event has probability 0 stays 0 */
        pw *= (uint64_t)V + 1u;
    }
    return w->marg[base] > 0.0 ? 0 : -1;
}

/* Without it: one pass over x = 0 .. V^L-1 in index order. A sequence agreeing with
 * every revealed token adds p(x) to out[i][x_i] for all i; one disagreeing at exactly
 * one revealed position j adds p(x) to out[j][x_j] only (it counts for j's
 * leave-one-out conditional and nothing else). Then every row is normalized. */
DLM_HD int dlm_oracle_table_scan_(const dlm_law_view *w, const uint16_t *tok, double *out)
{
    const uint32_t L = w->L, V = w->V;
    uint64_t N = 1;
    for (uint32_t i = 0; i < L; i++) N *= V;
    for (size_t k = 0; k < (size_t)L * V; k++) out[k] = 0.0;
    double ev = 0.0; /* P(x_S) */
    for (uint64_t x = 0; x < N; x++) {
        double px = w->p[x];
        if (px == 0.0) continue;
        uint64_t t = x;
        uint32_t miss = 0, j = 0, dj = 0;
        for (uint32_t i = 0; i < L; i++) {
            uint32_t d = (uint32_t)(t % V);
            t /= V;
            if (tok[i] != (uint16_t)DLM_TOK_MASK && tok[i] != d) {
                if (++miss > 1) break;
                j = i;
                dj = d;
            }
        }
        if (miss == 1) {
            out[(size_t)j * V + dj] += px;
        } else if (miss == 0) {
            ev += px;
            t = x;
            for (uint32_t i = 0; i < L; i++) {
                out[(size_t)i * V + (uint32_t)(t % V)] += px;
                t /= V;
            }
        }
    }
    for (uint32_t i = 0; i < L; i++) dlm_oracle_norm_(out + (size_t)i * V, V); /* 0 rows stay 0 */
    return ev > 0.0 ? 0 : -1;
}

// ---------------------------------------------------------------- HMM

/* out = alpha P for the chain's P(b | a) = (1 - tele) T[a][b] + tele / S, T in CSR
 * form: a scatter over the rows (a ascending, k ascending), then the teleport term
 * (tele / S) sum(alpha). The one forward step: the forward-backward pass below and the
 * law's own likelihood and enumeration (host/oracle/law.c) all take it. */
DLM_HD void dlm_oracle_push_(const dlm_law_view *w, const double *alpha, double *out)
{
    const uint32_t S = w->S;
    const double keep = 1.0 - w->tele, tu = w->tele / (double)S;
    double sa = 0.0;
    for (uint32_t s = 0; s < S; s++) {
        out[s] = 0.0;
        sa += alpha[s];
    }
    for (uint32_t a = 0; a < S; a++) {
        double x = alpha[a];
        if (x == 0.0) continue;
        x *= keep;
        for (uint32_t k = w->rowptr[a]; k < w->rowptr[a + 1]; k++) out[w->col[k]] += x * w->val[k];
    }
    for (uint32_t s = 0; s < S; s++) out[s] += tu * sa;
}

/* Forward-backward with hard evidence e_t(s) (dlm_oracle_ev_), P(b | a) =
 * (1 - tele) T[a][b] + tele / S with T in CSR form (never densified).
 * Forward, t = 0..L-1: pred_t = start (t = 0) or alpha_{t-1} P, computed as a scatter
 * over the CSR rows (a ascending, k ascending) plus (tele/S) sum(alpha_{t-1});
 * alpha_t = pred_t * e_t / its sum (the sum is 0 exactly when the evidence has
 * probability 0: return -1). pred_t is kept for every t (L*S doubles of scratch).
 * Backward, t = L-1..0: beta_{L-1} = 1; row t of out is
 *   HMM:    sum_s pred_t(s) beta_t(s) emit[s][v]  (s ascending), normalized
 *   Markov: pred_t(v) beta_t(v), normalized
 * which is P(x_t = v | x_{S \ t}) since pred_t leaves out t's own evidence; then
 * beta_{t-1}(a) = (1 - tele) sum_k T[a][col_k] g(col_k) + (tele/S) sum_s g(s) with
 * g = e_t * beta_t, divided by its sum. */
DLM_HD int dlm_oracle_hmm_(const dlm_law_view *w, const uint16_t *tok, double *out,
                           double *scratch)
{
    const uint32_t L = w->L, V = w->V, S = w->S;
    const double keep = 1.0 - w->tele, tu = w->tele / (double)S;
    double *pred = scratch, *al = scratch + (size_t)L * S, *be = al + S, *g = be + S;
    for (uint32_t t = 0; t < L; t++) {
        double *pt = pred + (size_t)t * S;
        if (t == 0) {
            for (uint32_t s = 0; s < S; s++) pt[s] = w->start[s];
        } else {
            dlm_oracle_push_(w, al, pt);
        }
        double z = 0.0;
        for (uint32_t s = 0; s < S; s++) {
            al[s] = pt[s] * dlm_oracle_ev_(w, tok[t], s);
            z += al[s];
        }
        if (!(z > 0.0)) return -1;
        for (uint32_t s = 0; s < S; s++) al[s] /= z;
    }
    for (uint32_t s = 0; s < S; s++) be[s] = 1.0;
    for (uint32_t t = L; t-- > 0;) {
        const double *pt = pred + (size_t)t * S;
        double *o = out + (size_t)t * V;
        if (w->emit) {
            for (uint32_t v = 0; v < V; v++) o[v] = 0.0;
            for (uint32_t s = 0; s < S; s++) {
                double q = pt[s] * be[s];
                if (q == 0.0) continue;
                const double *e = w->emit + (size_t)s * V;
                for (uint32_t v = 0; v < V; v++) o[v] += q * e[v];
            }
        } else {
            for (uint32_t v = 0; v < V; v++) o[v] = pt[v] * be[v];
        }
        if (dlm_oracle_norm_(o, V)) return -1;
        if (t == 0) break;
        double gs = 0.0, zb = 0.0;
        for (uint32_t s = 0; s < S; s++) {
            g[s] = dlm_oracle_ev_(w, tok[t], s) * be[s];
            gs += g[s];
        }
        for (uint32_t a = 0; a < S; a++) {
            double r = 0.0;
            for (uint32_t k = w->rowptr[a]; k < w->rowptr[a + 1]; k++) r += w->val[k] * g[w->col[k]];
            be[a] = keep * r + tu * gs;
            zb += be[a];
        }
        if (!(zb > 0.0)) return -1;
        for (uint32_t a = 0; a < S; a++) be[a] /= zb;
    }
    return 0;
}

// ---------------------------------------------------------------- Markov shortcut

/* A Markov chain with its powers P^d and position marginals (dlm_law_build_marginals):
 * given its nearest revealed neighbours a < i < b (other than i), position i is
 * independent of the rest, so
 *   out[i][v] proportional to  L(v) R(v),  L(v) = P^(i-a)(tok_a, v)  (or P(x_i = v) without a),
 *                                          R(v) = P^(b-i)(v, tok_b)  (or 1 without b),
 * a left-to-right pass for L, a right-to-left pass for R and the normalization (v
 * ascending). The evidence has probability 0 exactly when some factor
 * P(x_a0 = tok_a0) or P^(gap)(tok, tok') along the revealed positions is 0: -1, as for
 * the forward-backward pass (whose numbers these equal up to rounding; test_law). */
DLM_HD int dlm_oracle_markov_(const dlm_law_view *w, const uint16_t *tok, double *out)
{
    const uint32_t L = w->L, V = w->V;
    const size_t VV = (size_t)V * V;
    int64_t last = -1;
    for (uint32_t i = 0; i < L; i++) {
        if (tok[i] == (uint16_t)DLM_TOK_MASK) continue;
        double f = last < 0 ? w->pim[(size_t)i * V + tok[i]]
                            : w->pw[(size_t)(i - last) * VV + (size_t)tok[last] * V + tok[i]];
        if (!(f > 0.0)) return -1;
        last = i;
    }
    last = -1;
    for (uint32_t i = 0; i < L; i++) {
        double *o = out + (size_t)i * V;
        if (last < 0)
            for (uint32_t v = 0; v < V; v++) o[v] = w->pim[(size_t)i * V + v];
        else
            for (uint32_t v = 0; v < V; v++) o[v] = w->pw[(size_t)(i - last) * VV + (size_t)tok[last] * V + v];
        if (tok[i] != (uint16_t)DLM_TOK_MASK) last = i;
    }
    int64_t next = -1;
    for (uint32_t i = L; i-- > 0;) {
        double *o = out + (size_t)i * V;
        if (next >= 0)
            for (uint32_t v = 0; v < V; v++) o[v] *= w->pw[(size_t)(next - i) * VV + (size_t)v * V + tok[next]];
        if (dlm_oracle_norm_(o, V)) return -1;
        if (tok[i] != (uint16_t)DLM_TOK_MASK) next = i;
    }
    return 0;
}

// ---------------------------------------------------------------- entry point

/* Fills out (L*V doubles) as above. Returns 0, or -1 when the revealed tokens have
 * probability 0 under the law. Then, for a TABLE law, every row whose own conditioning
 * event still has positive probability (a revealed position whose leave-one-out event is
 * possible) is filled as usual and every other row is 0; for an HMM, out is undefined.
 * (The sampler uses this to revise a chain that has left the support.) A token that is neither
 * DLM_TOK_MASK nor below V counts as probability 0. scratch holds
 * dlm_oracle_scratch_doubles(w) doubles (may be NULL when that is 0). */
DLM_HD int dlm_oracle_probs(const dlm_law_view *w, const uint16_t *tok, double *out,
                            double *scratch)
{
    for (uint32_t i = 0; i < w->L; i++)
        if (tok[i] != (uint16_t)DLM_TOK_MASK && tok[i] >= w->V) return -1;
    if (w->kind == DLM_LAW_HMM && w->pw && !w->emit) return dlm_oracle_markov_(w, tok, out);
    if (w->kind == DLM_LAW_HMM) return dlm_oracle_hmm_(w, tok, out, scratch);
    if (w->marg) return dlm_oracle_table_marg_(w, tok, out);
    return dlm_oracle_table_scan_(w, tok, out);
}

#ifdef __cplusplus
}
#endif
#endif
