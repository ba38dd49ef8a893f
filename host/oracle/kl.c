/* kl.c — exact KL of random-order DLM sampling against the number of rounds
 * (dlm_kl.h, docs/kl.md): g(0..L) from a table, the dependence numbers, the E_M KL
 * formula and its DP for random round sizes, the optimal schedule, the bounds, the
 * brute-force enumeration of ordered partitions with the mixture q_bar, divergences.
 * The unbiased path-KL estimator for laws too large to tabulate is kl_path.c.
 *
 * What it deliberately is not: a sampler (the policies are host/oracle/policy.c) or a printer
 * (host/cli/kl.c prints). Everything here is double precision on the host; OpenMP
 * parallel loops combine per-branch or per-block partial sums in a fixed order, so the
 * results do not depend on the thread count.
 *
 * Build/test: make BUILD=build/kl CUDA=0 build/kl/test/test_kl && build/kl/test/test_kl
 */
#include "dlm_kl.h"
#include "dlm_util.h"
#include "dlm_oracle.h"
#include "dlm_schedule.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------- schedules

dlm_status dlm_kl_sched_check(const dlm_kl_sched *sc, uint32_t L, dlm_err *err)
{
    if (!sc || sc->T < 1) return dlm_fail(err, DLM_EINPUT, "schedule: at least one round needed");
    if (sc->kind == DLM_KL_SIZES) {
        uint64_t sum = 0;
        if (!sc->s) return dlm_fail(err, DLM_EINPUT, "schedule: no sizes");
        for (uint32_t t = 0; t < sc->T; t++) sum += sc->s[t];
        if (sum != L)
            return dlm_fail(err, DLM_EINPUT, "schedule: sizes sum to %llu, not L = %u",
                            (unsigned long long)sum, L);
    } else if (sc->kind == DLM_KL_BINOMIAL) {
        if (!sc->r) return dlm_fail(err, DLM_EINPUT, "schedule: no reveal probabilities");
        for (uint32_t t = 0; t < sc->T; t++)
            if (!(sc->r[t] >= 0 && sc->r[t] <= 1))
                return dlm_fail(err, DLM_EINPUT, "schedule: reveal probability %g of round %u not in [0, 1]",
                                sc->r[t], t + 1);
        if (sc->r[sc->T - 1] != 1.0)
            return dlm_fail(err, DLM_EINPUT, "schedule: the last round must reveal every token");
    } else if (sc->kind != DLM_KL_RANDSIZE) {
        return dlm_fail(err, DLM_EINPUT, "schedule: unknown kind %d", sc->kind);
    }
    return DLM_OK;
}

void dlm_kl_round_law(const dlm_kl_sched *sc, uint32_t t, uint32_t n, double *prob)
{
    for (uint32_t k = 0; k <= n; k++) prob[k] = 0.0;
    if (sc->kind == DLM_KL_SIZES) {
        uint32_t s = sc->s[t] < n ? sc->s[t] : n;
        prob[s] = 1.0;
    } else if (sc->kind == DLM_KL_BINOMIAL) {
        double r = sc->r[t];
        if (t + 1 >= sc->T || r >= 1.0) {
            prob[n] = 1.0;
        } else if (r <= 0.0) {
            prob[0] = 1.0;
        } else {
            /* C(n,k) r^k (1-r)^(n-k) in logs (lgamma), for n up to DLM_LAW_MAX_L */
            double lr = log(r), lq = log1p(-r), ln = lgamma((double)n + 1);
            for (uint32_t k = 0; k <= n; k++)
                prob[k] = exp(ln - lgamma((double)k + 1) - lgamma((double)(n - k) + 1) +
                              (double)k * lr + (double)(n - k) * lq);
        }
    } else { /* DLM_KL_RANDSIZE */
        uint32_t rleft = sc->T - t;
        if (n == 0) {
            prob[0] = 1.0;
        } else if (rleft <= 1) {
            prob[n] = 1.0;
        } else {
            uint32_t J = dlm_sched_randsize_J(n, rleft);
            for (uint32_t j = 0; j <= J; j++) prob[1u << j] += 1.0 / (double)(J + 1);
        }
    }
}

// ---------------------------------------------------------------- g(k) by DFS

/* The DFS decides, from the most significant position L-1 down to 0, whether each
 * position is kept or summed out. When position j is decided, the current table is
 * over positions 0..j (the low digits, stride V^i for position i) and the kept
 * positions above j (higher digits). Keeping j leaves the table as it is; summing it
 * out writes a table V times smaller into the next buffer. At the leaf the table is
 * the marginal of the kept set; its entropy is added to H[kept]. bufs[d] holds at
 * least V^(L-1-d) ... entries for a branch at depth d; see the sizes in dlm_kl_g. */
typedef struct {
    uint32_t V;
    double **buf;   /* buf[k] for k summed-out positions: V^(L-k) entries at most */
    double *H;      /* H[k]: sum of entropies of kept sets of size k (this branch) */
} dfs_ctx;

static double entropy_of(const double *t, uint64_t n)
{
    double h = 0.0;
    for (uint64_t i = 0; i < n; i++)
        if (t[i] > 0) h -= t[i] * log(t[i]);
    return h;
}

/* cur: table of `size` entries; j: the position to decide next (-1: leaf);
 * kept: kept count so far; summed: summed-out count so far. */
static void dfs(dfs_ctx *c, const double *cur, uint64_t size, int j, uint32_t kept, uint32_t summed)
{
    if (j < 0) {
        c->H[kept] += entropy_of(cur, size);
        return;
    }
    /* keep position j */
    dfs(c, cur, size, j - 1, kept + 1, summed);
    /* sum position j out: stride V^j */
    uint64_t lo = 1;
    for (int i = 0; i < j; i++) lo *= c->V;
    uint64_t blk = lo * c->V, hi = size / blk;
    double *nx = c->buf[summed + 1];
    for (uint64_t h = 0; h < hi; h++) {
        const double *src = cur + h * blk;
        double *dst = nx + h * lo;
        for (uint64_t l = 0; l < lo; l++) dst[l] = src[l];
        for (uint32_t v = 1; v < c->V; v++)
            for (uint64_t l = 0; l < lo; l++) dst[l] += src[v * lo + l];
    }
    dfs(c, nx, size / c->V, j - 1, kept, summed + 1);
}

dlm_status dlm_kl_g(const double *p, uint32_t L, uint32_t V, int threads, double max_work,
                    double *g, dlm_err *err)
{
    return dlm_kl_g_progress(p, L, V, threads, max_work, NULL, NULL, g, err);
}

dlm_status dlm_kl_g_progress(const double *p, uint32_t L, uint32_t V, int threads, double max_work,
                             dlm_progress_fn progress, void *ctx, double *g, dlm_err *err)
{
    const double t0 = dlm_now();
    if (L < 1 || V < 2) return dlm_fail(err, DLM_EINPUT, "g: need L >= 1 and V >= 2");
    double work = pow((double)V + 1, (double)L), cells = pow((double)V, (double)L);
    if (cells > (double)DLM_LAW_TABLE_MAX)
        return dlm_fail(err, DLM_EINPUT, "g: V^L = %.3g entries exceed the table limit %llu", cells,
                        (unsigned long long)DLM_LAW_TABLE_MAX);
    if (max_work > 0 && work > max_work)
        return dlm_fail(err, DLM_EINPUT, "g: (V+1)^L = %.3g operations exceed the limit %.3g "
                        "(use the path-KL estimator)", work, max_work);
    uint64_t N = (uint64_t)cells;
    /* Branches: the decisions for the top D positions (2^D of them), each run by one
     * thread with its own buffers and its own H; combined in branch order. */
    uint32_t D = L < 6 ? L : 6;
    uint32_t nb = 1u << D;
    int nt = dlm_threads_of(threads);
    if ((uint32_t)nt > nb) nt = (int)nb;
    double *Hb = dlm_calloc((size_t)nb * (L + 1), sizeof(double));
    if (!Hb) return dlm_fail(err, DLM_ENOMEM, "g: out of memory");
    /* Per-thread scratch: buffers for k = 1..L summed positions, V^(L-k) each. */
    uint64_t per = 0;
    for (uint64_t k = 1, sz = N / V; k <= L; k++, sz /= V) per += sz + 1;
    double *scratch = dlm_malloc((size_t)nt * per, sizeof(double));
    if (!scratch) {
        free(Hb);
        return dlm_fail(err, DLM_ENOMEM, "g: out of memory (%.3g doubles of scratch)", (double)nt * (double)per);
    }
    uint64_t done = 0; /* branches finished */
#pragma omp parallel num_threads(nt)
    {
        int tid = omp_get_thread_num();
        double *bufs[26]; /* V^L <= 2^24 with V >= 2: L <= 24 */
        double *base = scratch + (size_t)tid * per;
        uint64_t off = 0, sz = N;
        bufs[0] = NULL;
        for (uint32_t k = 1; k <= L; k++) {
            sz /= V;
            bufs[k] = base + off;
            off += sz + 1;
        }
        dfs_ctx c;
        c.V = V;
        c.buf = bufs;
#pragma omp for schedule(dynamic, 1)
        for (uint32_t b = 0; b < nb; b++) {
            /* bit i of b (i = 0..D-1): position L-1-i summed out (1) or kept (0) */
            c.H = Hb + (size_t)b * (L + 1);
            const double *cur = p;
            uint64_t size = N;
            uint32_t kept = 0, summed = 0;
            for (uint32_t i = 0; i < D; i++) {
                int j = (int)(L - 1 - i);
                if (!((b >> i) & 1u)) {
                    kept++;
                    continue;
                }
                uint64_t lo = 1;
                for (int q = 0; q < j; q++) lo *= V;
                uint64_t blk = lo * V, hi = size / blk;
                double *nx = bufs[summed + 1];
                for (uint64_t h = 0; h < hi; h++) {
                    const double *src = cur + h * blk;
                    double *dst = nx + h * lo;
                    for (uint64_t l = 0; l < lo; l++) dst[l] = src[l];
                    for (uint32_t v = 1; v < V; v++)
                        for (uint64_t l = 0; l < lo; l++) dst[l] += src[v * lo + l];
                }
                cur = nx;
                size /= V;
                summed++;
            }
            dfs(&c, cur, size, (int)L - 1 - (int)D, kept, summed);
            if (progress) {
                uint64_t now;
#pragma omp atomic capture
                now = ++done;
                if (tid == 0) progress(ctx, now, nb, dlm_now() - t0);
            }
        }
    }
    /* combine in branch order, then divide by C(L, k) */
    for (uint32_t k = 0; k <= L; k++) {
        double s = 0.0;
        for (uint32_t b = 0; b < nb; b++) s += Hb[(size_t)b * (L + 1) + k];
        double binom = exp(lgamma((double)L + 1) - lgamma((double)k + 1) - lgamma((double)(L - k) + 1));
        binom = floor(binom + 0.5);
        g[k] = s / binom;
    }
    g[0] = 0.0;
    free(scratch);
    free(Hb);
    if (progress) progress(ctx, nb, nb, dlm_now() - t0);
    return DLM_OK;
}

void dlm_kl_dep_from_g(const double *g, uint32_t L, dlm_kl_dep *d)
{
    double dg0 = g[1] - g[0], dgl = g[L] - g[L - 1];
    d->H = g[L];
    d->sumI = (double)L * (dg0 - dgl);
    d->TC = (double)L * g[1] - g[L];
    d->DTC = g[L] - (double)L * dgl;
}

// ---------------------------------------------------------------- exact E_M KL

/* The expected KL of one round revealing s tokens after m: s dg(m) - (g(m+s) - g(m)).
 * Zero for s <= 1 (dg(m) - (g(m+1) - g(m)) cancels exactly) and at m = L. */
static double round_term(const double *g, uint32_t L, uint32_t m, uint32_t s)
{
    if (s <= 1 || m >= L) return 0.0;
    return (double)s * (g[m + 1] - g[m]) - (g[m + s] - g[m]);
}

double dlm_kl_sizes(const double *g, uint32_t L, const uint32_t *s, uint32_t T)
{
    double kl = 0.0;
    uint32_t m = 0;
    for (uint32_t t = 0; t < T; t++) {
        kl += round_term(g, L, m, s[t]);
        m += s[t];
    }
    return kl;
}

/* Runs the DP over m (tokens revealed before round t): P_t(m), and per round the
 * round-size law. Calls f(ctx, t, m, s, weight) for every reachable (m, s) with its
 * probability weight, in a fixed order (t, then m, then s). Returns 0, -1 on OOM. */
typedef void (*dp_visit)(void *ctx, uint32_t t, uint32_t m, uint32_t s, double w);

static int dp_walk(uint32_t L, const dlm_kl_sched *sc, dp_visit f, void *ctx)
{
    double *P = dlm_calloc((size_t)L + 1, sizeof(double));
    double *Q = dlm_calloc((size_t)L + 1, sizeof(double));
    double *law = dlm_calloc((size_t)L + 1, sizeof(double));
    if (!P || !Q || !law) {
        free(P);
        free(Q);
        free(law);
        return -1;
    }
    P[0] = 1.0;
    for (uint32_t t = 0; t < sc->T; t++) {
        for (uint32_t m = 0; m <= L; m++) Q[m] = 0.0;
        for (uint32_t m = 0; m <= L; m++) {
            if (P[m] == 0.0) continue;
            uint32_t n = L - m;
            dlm_kl_round_law(sc, t, n, law);
            for (uint32_t s = 0; s <= n; s++) {
                if (law[s] == 0.0) continue;
                double w = P[m] * law[s];
                f(ctx, t, m, s, w);
                Q[m + s] += w;
            }
        }
        double *x = P;
        P = Q;
        Q = x;
    }
    free(P);
    free(Q);
    free(law);
    return 0;
}

typedef struct {
    const double *g;
    uint32_t L, T;
    double acc, round_acc;
    uint32_t last_t;
    double *smax_law; /* expected s_max DP: joint of (m, running max) — not used here */
} kl_acc;

static void visit_kl(void *ctx, uint32_t t, uint32_t m, uint32_t s, double w)
{
    kl_acc *a = ctx;
    if (t != a->last_t) { /* a new round: add the previous round's sum */
        a->acc += a->round_acc;
        a->round_acc = 0.0;
        a->last_t = t;
    }
    double term = round_term(a->g, a->L, m, s);
    if (term != 0.0) a->round_acc += w * term;
}

double dlm_kl_expected(const double *g, uint32_t L, const dlm_kl_sched *sc)
{
    if (sc->kind == DLM_KL_SIZES) return dlm_kl_sizes(g, L, sc->s, sc->T);
    kl_acc a;
    memset(&a, 0, sizeof a);
    a.g = g;
    a.L = L;
    a.T = sc->T;
    if (dp_walk(L, sc, visit_kl, &a)) return NAN;
    return a.acc + a.round_acc;
}

double dlm_kl_expected_smax(uint32_t L, const dlm_kl_sched *sc)
{
    if (sc->kind == DLM_KL_SIZES) {
        uint32_t mx = 0;
        for (uint32_t t = 0; t < sc->T; t++)
            if (sc->s[t] > mx) mx = sc->s[t];
        return mx;
    }
    /* DP over (m, running max): (L+1)^2 states, O(T L^3): NAN when that is over 1e9 */
    size_t n1 = (size_t)L + 1;
    if ((double)n1 * (double)n1 * (double)n1 * (double)sc->T > 1e9) return NAN;
    double *P = dlm_calloc(n1 * n1, sizeof(double));
    double *Q = dlm_calloc(n1 * n1, sizeof(double));
    double *law = dlm_calloc(n1, sizeof(double));
    double e = NAN;
    if (P && Q && law) {
        P[0] = 1.0;
        for (uint32_t t = 0; t < sc->T; t++) {
            memset(Q, 0, n1 * n1 * sizeof(double));
            for (uint32_t m = 0; m <= L; m++) {
                dlm_kl_round_law(sc, t, L - m, law);
                for (uint32_t mx = 0; mx <= L; mx++) {
                    double pm = P[(size_t)m * n1 + mx];
                    if (pm == 0.0) continue;
                    for (uint32_t s = 0; s <= L - m; s++)
                        if (law[s] != 0.0) Q[(size_t)(m + s) * n1 + (s > mx ? s : mx)] += pm * law[s];
                }
            }
            double *x = P;
            P = Q;
            Q = x;
        }
        e = 0.0;
        for (uint32_t mx = 0; mx <= L; mx++) e += (double)mx * P[(size_t)L * n1 + mx];
    }
    free(P);
    free(Q);
    free(law);
    return e;
}

double dlm_kl_optimal(const double *g, uint32_t L, uint32_t T, uint32_t *s)
{
    /* best[t][m]: least KL revealing the L - m remaining tokens in t rounds, each >= 1 */
    size_t n1 = (size_t)L + 1;
    double *best = dlm_malloc((size_t)(T + 1) * n1, sizeof(double));
    uint32_t *arg = dlm_calloc((size_t)(T + 1) * n1, sizeof(uint32_t));
    if (!best || !arg || T < 1 || T > L) {
        free(best);
        free(arg);
        return NAN;
    }
    for (size_t i = 0; i < (size_t)(T + 1) * n1; i++) best[i] = INFINITY;
    best[L] = 0.0; /* t = 0, m = L */
    for (uint32_t t = 1; t <= T; t++)
        for (uint32_t m = 0; m + t <= L; m++) {
            double b = INFINITY;
            uint32_t bs = 0;
            for (uint32_t k = 1; m + k + (t - 1) <= L; k++) {
                double v = round_term(g, L, m, k) + best[(size_t)(t - 1) * n1 + m + k];
                /* a strictly better value by more than rounding (1e-12): ties (parity's
                 * zeros that differ by 1e-17) keep the smallest first size */
                if (b == INFINITY || v < b - 1e-12 * (1.0 + fabs(b))) {
                    b = v;
                    bs = k;
                }
            }
            best[(size_t)t * n1 + m] = b;
            arg[(size_t)t * n1 + m] = bs;
        }
    double v = best[(size_t)T * n1 + 0];
    uint32_t m = 0;
    for (uint32_t t = T; t >= 1; t--) {
        uint32_t k = arg[(size_t)t * n1 + m];
        s[T - t] = k;
        m += k;
    }
    free(best);
    free(arg);
    return v;
}

// ---------------------------------------------------------------- bounds

void dlm_kl_bounds_of(const dlm_kl_dep *d, uint32_t L, uint32_t smax, uint32_t T,
                      dlm_kl_bounds *b)
{
    uint64_t pw = 1;
    while (pw < smax) pw <<= 1;
    b->li_cai = smax ? (double)(pw - 1) / (double)L * d->sumI : 0.0;
    b->smax = smax ? (double)(smax - 1) / (double)L * d->sumI : 0.0;
    b->tc_T = d->TC / (double)T;
    b->dtc_T = d->DTC / (double)T;
}

// ---------------------------------------------------------------- brute force, q_bar

/* The (V+1)^L subset-marginal table: index sum_i d_i (V+1)^i, d_i = x_i or V for
 * "summed out". Built position by position from p. */
static double *marginals(const double *p, uint32_t L, uint32_t V)
{
    uint64_t n = 1;
    for (uint32_t i = 0; i < L; i++) n *= V + 1;
    double *m = dlm_calloc(n, sizeof(double));
    if (!m) return NULL;
    /* scatter p into the digits 0..V-1 */
    uint64_t N = 1;
    for (uint32_t i = 0; i < L; i++) N *= V;
    for (uint64_t x = 0; x < N; x++) {
        uint64_t y = x, idx = 0, pw = 1;
        for (uint32_t i = 0; i < L; i++) {
            idx += (y % V) * pw;
            y /= V;
            pw *= V + 1;
        }
        m[idx] = p[x];
    }
    /* for each position i, digit V = sum of digits 0..V-1 (in increasing order) */
    uint64_t stride = 1;
    for (uint32_t i = 0; i < L; i++) {
        for (uint64_t idx = 0; idx < n; idx++) {
            if ((idx / stride) % (V + 1) != V) continue;
            double s = 0.0;
            uint64_t base = idx - (uint64_t)V * stride;
            for (uint32_t v = 0; v < V; v++) s += m[base + v * stride];
            m[idx] = s;
        }
        stride *= V + 1;
    }
    return m;
}

typedef struct {
    const double *p, *marg;
    uint32_t L, V, T;
    const uint32_t *s;
    uint64_t N;
    uint64_t pw[32];      /* (V+1)^i */
    uint32_t order[32];   /* the current ordered partition: positions in reveal order */
    double *q;            /* V^L scratch for q_D */
    double *qbar;         /* accumulator or NULL */
    double klsum;
    uint64_t count;
} enum_ctx;

/* q_D for the partition in c->order (cut by c->s), then its KL and the q_bar sum. */
static void score_partition(enum_ctx *c)
{
    uint64_t all = 0;
    for (uint32_t i = 0; i < c->L; i++) all += (uint64_t)c->V * c->pw[i];
    double kl = 0.0;
    for (uint64_t x = 0; x < c->N; x++) {
        uint32_t xi[32];
        uint64_t y = x;
        for (uint32_t i = 0; i < c->L; i++) {
            xi[i] = (uint32_t)(y % c->V);
            y /= c->V;
        }
        double q = 1.0;
        uint64_t prev = all; /* index of x on D_<t */
        uint32_t k = 0;
        for (uint32_t t = 0; t < c->T && q > 0; t++) {
            double den = c->marg[prev];
            uint64_t next = prev;
            for (uint32_t u = 0; u < c->s[t]; u++, k++) {
                uint32_t i = c->order[k];
                uint64_t one = prev - ((uint64_t)c->V - xi[i]) * c->pw[i];
                next -= ((uint64_t)c->V - xi[i]) * c->pw[i];
                if (den <= 0) {
                    q = 0.0;
                    break;
                }
                q *= c->marg[one] / den;
            }
            prev = next;
        }
        c->q[x] = q;
        if (c->qbar) c->qbar[x] += q;
    }
    kl = dlm_kl_div(c->p, c->q, c->N);
    c->klsum += kl;
    c->count++;
}

/* Recursively fills c->order round by round: round t takes s[t] of the unused
 * positions as an increasing combination (a set), in lexicographic order. */
static void enum_rec(enum_ctx *c, uint32_t t, uint32_t k, uint32_t used, uint32_t within, uint32_t minpos)
{
    if (t == c->T) {
        score_partition(c);
        return;
    }
    if (within == c->s[t]) {
        enum_rec(c, t + 1, k, used, 0, 0);
        return;
    }
    for (uint32_t i = minpos; i < c->L; i++) {
        if (used & (1u << i)) continue;
        c->order[k] = i;
        enum_rec(c, t, k + 1, used | (1u << i), within + 1, i + 1);
    }
}

dlm_status dlm_kl_enum_sizes(const double *p, uint32_t L, uint32_t V, const uint32_t *s,
                             uint32_t T, double max_work, double *emkl, double *qbar,
                             dlm_err *err)
{
    if (L < 1 || L > 12 || V < 2)
        return dlm_fail(err, DLM_EINPUT, "enumeration: needs 1 <= L <= 12 and V >= 2 (L = %u)", L);
    double N = pow((double)V, (double)L);
    if (N > (double)(1u << 20)) return dlm_fail(err, DLM_EINPUT, "enumeration: V^L = %.3g > 2^20", N);
    uint64_t sum = 0;
    double parts = lgamma((double)L + 1);
    for (uint32_t t = 0; t < T; t++) {
        sum += s[t];
        parts -= lgamma((double)s[t] + 1);
    }
    if (sum != L) return dlm_fail(err, DLM_EINPUT, "enumeration: sizes sum to %llu, not %u", (unsigned long long)sum, L);
    double work = exp(parts) * N * (double)L;
    if (work > (max_work > 0 ? max_work : 2e9))
        return dlm_fail(err, DLM_EINPUT, "enumeration: %.3g operations exceed the limit %.3g", work,
                        max_work > 0 ? max_work : 2e9);
    enum_ctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.L = L;
    c.V = V;
    c.T = T;
    c.s = s;
    c.N = (uint64_t)N;
    c.pw[0] = 1;
    for (uint32_t i = 1; i < L; i++) c.pw[i] = c.pw[i - 1] * (V + 1);
    double *marg = marginals(p, L, V);
    c.q = dlm_malloc(c.N, sizeof(double));
    if (!marg || !c.q) {
        free(marg);
        free(c.q);
        return dlm_fail(err, DLM_ENOMEM, "enumeration: out of memory");
    }
    c.marg = marg;
    c.qbar = qbar;
    if (qbar)
        for (uint64_t x = 0; x < c.N; x++) qbar[x] = 0.0;
    enum_rec(&c, 0, 0, 0, 0, 0);
    if (qbar)
        for (uint64_t x = 0; x < c.N; x++) qbar[x] /= (double)c.count;
    if (emkl) *emkl = c.klsum / (double)c.count;
    free(marg);
    free(c.q);
    return DLM_OK;
}

double dlm_kl_div(const double *p, const double *q, uint64_t n)
{
    double kl = 0.0;
    for (uint64_t x = 0; x < n; x++) {
        if (!(p[x] > 0)) continue;
        if (!(q[x] > 0)) return INFINITY;
        kl += p[x] * log(p[x] / q[x]);
    }
    return kl;
}

double dlm_kl_tv(const double *p, const double *q, uint64_t n)
{
    double tv = 0.0;
    for (uint64_t x = 0; x < n; x++) tv += fabs(p[x] - q[x]);
    return 0.5 * tv;
}

// ---------------------------------------------------------------- Markov-chain dependence

static double xlogx(double x)
{
    return x > 0 ? x * log(x) : 0.0;
}

dlm_status dlm_kl_dep_markov(const dlm_law *law, dlm_kl_dep *d, dlm_err *err)
{
    const dlm_law_view *w = &law->v;
    if (w->kind != DLM_LAW_HMM || w->emit)
        return dlm_fail(err, DLM_EINPUT, "dependence: not a Markov chain on the tokens");
    uint32_t S = w->S, L = w->L;
    if (S > 64) return dlm_fail(err, DLM_EINPUT, "dependence: %u states > 64", S);
    size_t SS = (size_t)S * S;
    double *P = dlm_malloc(SS, sizeof(double)), *P2 = dlm_calloc(SS, sizeof(double));
    double *pi = dlm_malloc((size_t)S * 2, sizeof(double)), *hrow = dlm_malloc(S, sizeof(double));
    if (!P || !P2 || !pi || !hrow) {
        free(P);
        free(P2);
        free(pi);
        free(hrow);
        return dlm_fail(err, DLM_ENOMEM, "dependence: out of memory");
    }
    dlm_law_dense_transitions(w, P);
    for (uint32_t a = 0; a < S; a++) {
        double h = 0;
        for (uint32_t b = 0; b < S; b++) {
            h -= xlogx(P[(size_t)a * S + b]);
            for (uint32_t c = 0; c < S; c++) P2[(size_t)a * S + c] += P[(size_t)a * S + b] * P[(size_t)b * S + c];
        }
        hrow[a] = h;
    }
    double *cur = pi, *nxt = pi + S;
    for (uint32_t a = 0; a < S; a++) cur[a] = w->start[a];
    double H = 0, sumHi = 0, sumCond = 0;
    for (uint32_t i = 0; i < L; i++) {
        /* cur = law of X_i */
        double hi = 0;
        for (uint32_t a = 0; a < S; a++) hi -= xlogx(cur[a]);
        sumHi += hi;
        if (i == 0) H += hi;
        if (i + 1 < L)
            for (uint32_t a = 0; a < S; a++) H += cur[a] * hrow[a]; /* H(X_{i+1} | X_i) */
        /* H(X_i | X_-i) = H(X_i | X_{i-1}, X_{i+1}) (Markov) */
        if (L == 1) {
            sumCond += hi;
        } else if (i == 0) { /* H(X_0, X_1) - H(X_1) */
            double h01 = 0, h1 = 0;
            for (uint32_t b = 0; b < S; b++) {
                double m = 0;
                for (uint32_t a = 0; a < S; a++) {
                    double j = cur[a] * P[(size_t)a * S + b];
                    h01 -= xlogx(j);
                    m += j;
                }
                h1 -= xlogx(m);
            }
            sumCond += h01 - h1;
        }
        if (i + 1 == L - 1 && L > 1) { /* H(X_{L-1} | X_{L-2}), cur = law of X_{L-2} */
            for (uint32_t a = 0; a < S; a++) sumCond += cur[a] * hrow[a];
        } else if (i + 2 <= L - 1) { /* middle position i+1: H(a,b,c) - H(a,c), cur = X_i */
            double habc = 0, hac = 0;
            for (uint32_t a = 0; a < S; a++) {
                if (cur[a] == 0) continue;
                for (uint32_t c = 0; c < S; c++) {
                    hac -= xlogx(cur[a] * P2[(size_t)a * S + c]);
                    for (uint32_t b = 0; b < S; b++)
                        habc -= xlogx(cur[a] * P[(size_t)a * S + b] * P[(size_t)b * S + c]);
                }
            }
            sumCond += habc - hac;
        }
        dlm_law_marginal_step(cur, P, S, nxt);
        double *x = cur;
        cur = nxt;
        nxt = x;
    }
    d->H = H;
    d->TC = sumHi - H;
    d->DTC = H - sumCond;
    d->sumI = d->TC + d->DTC;
    free(P);
    free(P2);
    free(pi);
    free(hrow);
    return DLM_OK;
}
