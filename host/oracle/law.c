/* law.c — exactly known laws over token sequences (dlm_law.h, docs/oracle.md): the spec
 * loader with its generators (parity, random, bsc, sparse, english, circuit), the
 * subset-marginal table, the full table of an HMM, log p(x) and exact ancestral
 * samples. The two text formats (table files, markov/hmm files) and the writer are
 * law_file.c.
 *
 * What it deliberately is not: the exact predictor (include/dlm_oracle.h, shared with
 * the device) or a sampler of DLM rounds (dlm_sampler.h). Everything here runs on the
 * host, single-threaded, in a fixed order; sizes are checked against the limits of
 * dlm_law.h and dlm_memory_budget(law->max_bytes) before anything is allocated.
 *
 * Build/test: make BUILD=build/law CUDA=0 build/law/test/test_law && build/law/test/test_law
 */
#include "dlm_law.h"
#include "law_impl.h"
#include "dlm_oracle.h"
#include "dlm_util.h"
#include "dlm_verify.h"

#include <Random123/philox.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STAT_TOL 1e-14            /* power iteration: stop at this L1 change */
#define STAT_ITERS 10000          /* ... or after this many iterations */
#define ENGLISH_LAMBDA 1e-4       /* add-lambda smoothing of the English bigram counts */
#define LAW_CTR_TAG 0x6C617721u   /* 'law!': counter word 1 of the sampling domain */

// ---------------------------------------------------------------- small helpers

/* A uniform in (0, 1] (never 0, so -log is finite). */
static double unif_pos(uint64_t *st)
{
    return (double)((dlm_splitmix64(st) >> 11) + 1) * 0x1.0p-53;
}

static uint64_t hash_doubles(uint64_t h, const double *v, uint64_t n)
{
    for (uint64_t i = 0; v && i < n; i++) {
        uint64_t b;
        memcpy(&b, &v[i], sizeof b);
        h = dlm_fnv1a_u64(h, b);
    }
    return h;
}

uint64_t dlm_law_hash(const dlm_law_view *w)
{
    uint64_t h = dlm_fnv1a_u64(DLM_FNV_OFFSET, (uint64_t)w->kind);
    h = dlm_fnv1a_u64(dlm_fnv1a_u64(h, w->L), w->V);
    if (w->kind == DLM_LAW_TABLE) return hash_doubles(h, w->p, dlm_law_cells(w->L, w->V));
    uint64_t tele;
    memcpy(&tele, &w->tele, sizeof tele);
    h = dlm_fnv1a_u64(dlm_fnv1a_u64(h, w->S), tele);
    h = hash_doubles(h, w->start, w->S);
    uint64_t nnz = w->rowptr ? w->rowptr[w->S] : 0;
    for (uint32_t a = 0; w->rowptr && a <= w->S; a++) h = dlm_fnv1a_u64(h, w->rowptr[a]);
    for (uint64_t i = 0; w->col && i < nnz; i++) h = dlm_fnv1a_u64(h, w->col[i]);
    h = hash_doubles(h, w->val, nnz);
    h = dlm_fnv1a_u64(h, w->emit != NULL);
    return hash_doubles(h, w->emit, (uint64_t)w->S * w->V);
}

uint64_t dlm_law_cells(uint32_t L, uint32_t V)
{
    uint64_t n;
    return dlm_law_pow_le_(V, L, DLM_LAW_TABLE_MAX, &n) ? UINT64_MAX : n;
}

/* The first index i with u < p[0] + .. + p[i] (summed in order); the last positive
 * entry when rounding leaves u above the total. */
static uint32_t icdf(const double *p, uint32_t n, double u)
{
    double acc = 0.0;
    uint32_t last = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (p[i] <= 0.0) continue;
        acc += p[i];
        last = i;
        if (u < acc) return i;
    }
    return last;
}

// ---------------------------------------------------------------- allocation

void dlm_law_free(dlm_law *law)
{
    if (!law) return;
    free(law->p);
    free(law->marg);
    free(law->start);
    free(law->val);
    free(law->emit);
    free(law->pw);
    free(law->pim);
    free(law->rowptr);
    free(law->col);
    memset(law, 0, sizeof *law);
}

// ---------------------------------------------------------------- transitions

/* One unscaled forward step: out(s) = (prev P or start)(s) * P(token | s). */
static void fwd_step(const dlm_law_view *w, const double *prev, uint16_t tok, double *out)
{
    if (prev) dlm_oracle_push_(w, prev, out);
    else memcpy(out, w->start, w->S * sizeof(double));
    for (uint32_t s = 0; s < w->S; s++)
        out[s] *= w->emit ? w->emit[(size_t)s * w->V + tok] : (s == tok ? 1.0 : 0.0);
}

/* The stationary law of the chain into law->start: lazy power iteration
 * pi <- (pi + pi P) / 2 (same fixed points, aperiodic) from uniform, renormalized each
 * step, until the L1 change is <= STAT_TOL or after STAT_ITERS iterations. */
static dlm_status stationary(dlm_law *law, const char *what, dlm_err *err)
{
    const uint32_t S = law->v.S;
    double *pi = law->start, *nx = dlm_calloc(S, sizeof(double));
    if (!nx) return dlm_fail(err, DLM_ENOMEM, "%s: out of memory", what);
    for (uint32_t s = 0; s < S; s++) pi[s] = 1.0 / S;
    for (int it = 0; it < STAT_ITERS; it++) {
        dlm_oracle_push_(&law->v, pi, nx);
        double z = 0.0, d = 0.0;
        for (uint32_t s = 0; s < S; s++) z += nx[s] = 0.5 * (pi[s] + nx[s]);
        for (uint32_t s = 0; s < S; s++) {
            nx[s] /= z;
            d += fabs(nx[s] - pi[s]);
            pi[s] = nx[s];
        }
        if (d <= STAT_TOL) break;
    }
    free(nx);
    return DLM_OK;
}

// ---------------------------------------------------------------- generators

static dlm_status gen_parity(dlm_law *law, uint64_t n, const char *spec, dlm_err *err)
{
    if (n < 1 || n > 24) return dlm_fail(err, DLM_EINPUT, "%s: N must be 1..24", spec);
    dlm_status s = dlm_law_table_alloc_(law, (uint32_t)n, 2, spec, err);
    if (s) return s;
    uint64_t N = UINT64_C(1) << n;
    double q = n == 1 ? 1.0 : 1.0 / (double)(N / 2);
    for (uint64_t x = 0; x < N; x++) law->p[x] = __builtin_popcountll(x) & 1 ? 0.0 : q;
    snprintf(law->desc, sizeof law->desc, "uniform over even-parity %u-bit strings", (unsigned)n);
    return DLM_OK;
}

static dlm_status gen_random(dlm_law *law, uint64_t L, uint64_t V, uint64_t seed, const char *spec,
                             dlm_err *err)
{
    if (L > DLM_LAW_MAX_L || V > DLM_LAW_MAX_V)
        return dlm_fail(err, DLM_EINPUT, "%s: L or V too large", spec);
    dlm_status s = dlm_law_table_alloc_(law, (uint32_t)L, (uint32_t)V, spec, err);
    if (s) return s;
    uint64_t N = 0, st = seed;
    dlm_law_pow_le_((uint32_t)V, (uint32_t)L, DLM_LAW_TABLE_MAX, &N);
    double z = 0.0;
    for (uint64_t x = 0; x < N; x++) z += law->p[x] = -log(unif_pos(&st));
    for (uint64_t x = 0; x < N; x++) law->p[x] /= z;
    snprintf(law->desc, sizeof law->desc, "random law (Dirichlet(1)), L=%u, V=%u, seed %llu",
             (unsigned)L, (unsigned)V, (unsigned long long)seed);
    return DLM_OK;
}

static dlm_status gen_bsc(dlm_law *law, uint64_t L, double flip, const char *spec, dlm_err *err)
{
    if (!(flip >= 0.0 && flip <= 1.0))
        return dlm_fail(err, DLM_EINPUT, "%s: FLIP must be in [0, 1]", spec);
    if (L > DLM_LAW_MAX_L) return dlm_fail(err, DLM_EINPUT, "%s: L must be 1..%u", spec, DLM_LAW_MAX_L);
    dlm_status s = dlm_law_hmm_alloc_(law, (uint32_t)L, 2, 2, 4, 0, spec, err);
    if (s) return s;
    for (uint32_t a = 0; a < 2; a++) {
        law->start[a] = 0.5;
        law->rowptr[a + 1] = 2 * (a + 1);
        for (uint32_t b = 0; b < 2; b++) {
            law->col[2 * a + b] = b;
            law->val[2 * a + b] = a == b ? 1.0 - flip : flip;
        }
    }
    snprintf(law->desc, sizeof law->desc, "binary symmetric chain, L=%u, flip %g", (unsigned)L, flip);
    return DLM_OK;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static dlm_status gen_sparse(dlm_law *law, uint64_t V, uint64_t K, uint64_t L, uint64_t seed,
                             double tele, const char *spec, dlm_err *err)
{
    if (V < 2 || V > DLM_LAW_MAX_V) return dlm_fail(err, DLM_EINPUT, "%s: V must be 2..%u", spec, DLM_LAW_MAX_V);
    if (K < 1 || K > V) return dlm_fail(err, DLM_EINPUT, "%s: K must be 1..V", spec);
    if (L < 1 || L > DLM_LAW_MAX_L) return dlm_fail(err, DLM_EINPUT, "%s: L must be 1..%u", spec, DLM_LAW_MAX_L);
    if (!(tele >= 0.0 && tele < 1.0)) return dlm_fail(err, DLM_EINPUT, "%s: TELE must be in [0, 1)", spec);
    uint32_t S = (uint32_t)V;
    dlm_status s = dlm_law_hmm_alloc_(law, (uint32_t)L, S, S, V * K, 0, spec, err);
    if (s) return s;
    law->v.tele = tele;
    uint32_t *perm = dlm_calloc(S, sizeof(uint32_t));
    if (!perm) return dlm_fail(err, DLM_ENOMEM, "%s: out of memory", spec);
    for (uint32_t i = 0; i < S; i++) perm[i] = i;
    uint64_t st = seed;
    for (uint32_t a = 0; a < S; a++) {
        /* K distinct successors: a partial Fisher-Yates shuffle of perm, sorted */
        uint32_t *c = law->col + (size_t)a * K;
        for (uint32_t j = 0; j < K; j++) {
            uint32_t r = j + (uint32_t)(dlm_splitmix64(&st) % (S - j)), t = perm[j];
            perm[j] = perm[r];
            perm[r] = t;
            c[j] = perm[j];
        }
        qsort(c, K, sizeof *c, cmp_u32);
        double z = 0.0, *v = law->val + (size_t)a * K;
        for (uint32_t j = 0; j < K; j++) z += v[j] = -log(unif_pos(&st));
        for (uint32_t j = 0; j < K; j++) v[j] /= z;
        law->rowptr[a + 1] = (uint32_t)((a + 1) * K);
    }
    free(perm);
    if ((s = stationary(law, spec, err))) return s;
    snprintf(law->desc, sizeof law->desc, "random sparse chain, V=%u, K=%u, L=%u, seed %llu, "
             "teleport %g, stationary start", S, (unsigned)K, (unsigned)L,
             (unsigned long long)seed, tele);
    return DLM_OK;
}

/* English texts that Debian's base-files ships, in order of preference. */
static const char *const english_texts[] = {
    "/usr/share/common-licenses/GPL-3", "/usr/share/common-licenses/GPL-2",
    "/usr/share/common-licenses/Apache-2.0", "/usr/share/common-licenses/GFDL-1.3",
    "/usr/share/common-licenses/LGPL-2.1", "/usr/share/common-licenses/Artistic",
};

static dlm_status gen_english(dlm_law *law, uint64_t L, const char *spec, dlm_err *err)
{
    if (L < 1 || L > DLM_LAW_MAX_L) return dlm_fail(err, DLM_EINPUT, "%s: L must be 1..%u", spec, DLM_LAW_MAX_L);
    char *buf = NULL;
    size_t len = 0;
    const char *path = NULL;
    for (size_t i = 0; i < sizeof english_texts / sizeof *english_texts && !path; i++) {
        dlm_err e2;
        if (!dlm_read_file_max(english_texts[i], dlm_memory_budget(law->max_bytes), &buf, &len, &e2)) path = english_texts[i];
    }
    if (!path)
        return dlm_fail(err, DLM_EINPUT, "%s: no English text found (looked for "
                        "/usr/share/common-licenses/GPL-3, GPL-2, Apache-2.0, GFDL-1.3, "
                        "LGPL-2.1, Artistic: Debian's base-files)", spec);
    /* bigram counts over the text mapped to 0..25 (letters, lower-cased) and 26 (every
     * run of other bytes) */
    double cnt[27][27];
    memset(cnt, 0, sizeof cnt);
    int prev = -1;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)buf[i];
        int c = ch >= 'a' && ch <= 'z' ? ch - 'a' : ch >= 'A' && ch <= 'Z' ? ch - 'A' : 26;
        if (c == 26 && prev == 26) continue;
        if (prev >= 0) cnt[prev][c] += 1.0;
        prev = c;
    }
    free(buf);
    dlm_status s = dlm_law_hmm_alloc_(law, (uint32_t)L, 27, 27, 27 * 27, 0, spec, err);
    if (s) return s;
    for (uint32_t a = 0; a < 27; a++) {
        double z = 0.0;
        for (uint32_t b = 0; b < 27; b++) z += cnt[a][b] + ENGLISH_LAMBDA;
        for (uint32_t b = 0; b < 27; b++) {
            law->col[27 * a + b] = b;
            law->val[27 * a + b] = (cnt[a][b] + ENGLISH_LAMBDA) / z;
        }
        law->rowptr[a + 1] = 27 * (a + 1);
    }
    if ((s = stationary(law, spec, err))) return s;
    snprintf(law->alphabet, sizeof law->alphabet, "abcdefghijklmnopqrstuvwxyz ");
    snprintf(law->desc, sizeof law->desc, "English letter chain (a-z, space) from %s, L=%u, "
             "lambda %g, stationary start", path, (unsigned)L, ENGLISH_LAMBDA);
    return DLM_OK;
}

/* Keeps outputs lo..hi of c (in order) and drops the others. */
static void keep_outputs(dlm_circuit *c, uint32_t lo, uint32_t hi)
{
    for (uint32_t k = 0; k < c->nout; k++) {
        if (c->out_names && (k < lo || k > hi)) {
            free(c->out_names[k]);
            c->out_names[k] = NULL;
        }
    }
    for (uint32_t k = lo; k <= hi; k++) {
        c->out[k - lo] = c->out[k];
        if (c->out_names) c->out_names[k - lo] = c->out_names[k];
    }
    c->nout = hi - lo + 1;
}

/* circuit:CIRCUIT or circuit:CIRCUIT@A-B (outputs A..B only, their joint law). */
static dlm_status gen_circuit(dlm_law *law, const char *cspec_in, const char *spec, dlm_err *err)
{
    dlm_circuit c;
    dlm_target t;
    char cspec[1024];
    unsigned lo = 0, hi = 0;
    int sel = 0;
    snprintf(cspec, sizeof cspec, "%s", cspec_in);
    char *at = strrchr(cspec, '@');
    if (at) {
        char tail;
        if (sscanf(at + 1, "%u-%u%c", &lo, &hi, &tail) != 2 || lo > hi || hi - lo >= 24)
            return dlm_fail(err, DLM_EINPUT, "%s: expected circuit:CIRCUIT@A-B with A <= B < A + 24", spec);
        *at = 0;
        sel = 1;
    }
    dlm_status s = dlm_circuit_load(&c, cspec, law->max_bytes, err);
    if (s) return s == DLM_EIO ? DLM_EINPUT : s;
    if (sel && hi >= c.nout) {
        s = dlm_fail(err, DLM_EINPUT, "%s: the circuit has %u outputs (0..%u)", spec, c.nout, c.nout - 1);
        dlm_circuit_free(&c);
        return s;
    }
    if (sel) keep_outputs(&c, lo, hi);
    if (c.nout > 24) {
        uint32_t nout = c.nout; /* read before the free, which zeroes it */
        dlm_circuit_free(&c);
        return dlm_fail(err, DLM_EINPUT, "%s: the circuit has %u outputs; a law takes at most 24 "
                        "(select some with circuit:CIRCUIT@A-B)", spec, nout);
    }
    memset(&t, 0, sizeof t);
    s = dlm_target_build(&c, DLM_TARGET_EXACT, 0, 0, 0, &t, err);
    if (!s && !t.hist) s = dlm_fail(err, DLM_EINPUT, "%s: no exact histogram", spec);
    if (!s) s = dlm_law_table_alloc_(law, c.nout, 2, spec, err);
    if (!s) {
        uint64_t N = UINT64_C(1) << c.nout;
        double z = 0.0;
        for (uint64_t x = 0; x < N; x++) z += t.hist[x];
        for (uint64_t x = 0; x < N; x++) law->p[x] = t.hist[x] / z;
        if (sel)
            snprintf(law->desc, sizeof law->desc, "output law of %.100s, outputs %u..%u (%.100s)", cspec, lo,
                     hi, t.desc);
        else
            snprintf(law->desc, sizeof law->desc, "output law of %.100s (%u outputs, %.100s)", cspec,
                     c.nout, t.desc);
    }
    dlm_target_free(&t);
    dlm_circuit_free(&c);
    return s;
}

// ---------------------------------------------------------------- dlm_law_load

/* Splits a copy of spec at ':' into at most max fields; returns the count. */
static int split(char *s, char **f, int max)
{
    int n = 0;
    f[n++] = s;
    for (char *p = s; *p && n < max; p++)
        if (*p == ':') {
            *p = 0;
            f[n++] = p + 1;
        }
    return n;
}

dlm_status dlm_law_load(const char *spec, dlm_law *law, uint64_t max_bytes, dlm_err *err)
{
    char cp[1024], *f[8];
    memset(law, 0, sizeof *law);
    law->max_bytes = max_bytes;
    if (!spec || !*spec) return dlm_fail(err, DLM_EINPUT, "empty law spec");
    if (strlen(spec) >= sizeof cp) return dlm_fail(err, DLM_EINPUT, "law spec too long");
    const char *arg = strchr(spec, ':');
    dlm_status s;
    if (!strncmp(spec, "table:", 6)) s = dlm_law_load_table_(law, arg + 1, err);
    else if (!strncmp(spec, "markov:", 7)) s = dlm_law_load_markov_(law, arg + 1, err);
    else if (!strncmp(spec, "circuit:", 8)) s = gen_circuit(law, arg + 1, spec, err);
    else {
        strcpy(cp, spec);
        int n = split(cp, f, 7);
        uint64_t a[5] = {0, 0, 0, 0, 0};
        double d = 0.0;
        const char *k = f[0];
        /* numeric generators: the fields after the name are integers, except bsc's FLIP
         * and sparse's TELE */
        int want = !strcmp(k, "parity") ? 1 : !strcmp(k, "random") ? 3 : !strcmp(k, "bsc") ? 2
                 : !strcmp(k, "sparse") ? 4 : !strcmp(k, "english") ? 1 : -1;
        if (want < 0)
            return dlm_fail(err, DLM_EINPUT, "%s: unknown law (known: parity:N, random:L:V:SEED, "
                            "table:FILE, circuit:CIRCUIT, markov:FILE, bsc:L:FLIP, "
                            "sparse:V:K:L:SEED[:TELE], english:L)", spec);
        if (n - 1 != want && !(!strcmp(k, "sparse") && n - 1 == 5))
            return dlm_fail(err, DLM_EINPUT, "%s: expected %d field%s after '%s:'", spec, want,
                            want > 1 ? "s" : "", k);
        for (int i = 1; i < n; i++) {
            int fl = (!strcmp(k, "bsc") && i == 2) || (!strcmp(k, "sparse") && i == 5);
            if (fl ? dlm_law_parse_nonneg_(f[i], &d) : dlm_law_parse_u64_(f[i], &a[i - 1]))
                return dlm_fail(err, DLM_EINPUT, "%s: bad number '%s'", spec, f[i]);
        }
        if (!strcmp(k, "sparse") && n == 5) d = 1e-4;
        if ((!strcmp(k, "random") || !strcmp(k, "bsc") || !strcmp(k, "english")) &&
            (a[0] < 1 || a[0] > DLM_LAW_MAX_L))
            return dlm_fail(err, DLM_EINPUT, "%s: L must be 1..%u", spec, DLM_LAW_MAX_L);
        if (!strcmp(k, "parity")) s = gen_parity(law, a[0], spec, err);
        else if (!strcmp(k, "random"))
            s = a[1] > DLM_LAW_MAX_V ? dlm_fail(err, DLM_EINPUT, "%s: V must be 2..%u", spec, DLM_LAW_MAX_V)
                                     : gen_random(law, a[0], a[1], a[2], spec, err);
        else if (!strcmp(k, "bsc")) s = gen_bsc(law, a[0], d, spec, err);
        else if (!strcmp(k, "sparse")) s = gen_sparse(law, a[0], a[1], a[2], a[3], d, spec, err);
        else s = gen_english(law, a[0], spec, err);
    }
    if (s) dlm_law_free(law);
    return s;
}

// ---------------------------------------------------------------- marginals

void dlm_law_dense_transitions(const dlm_law_view *w, double *P)
{
    const uint32_t S = w->S;
    const double keep = 1.0 - w->tele, tu = w->tele / (double)S;
    for (uint32_t a = 0; a < S; a++) {
        for (uint32_t b = 0; b < S; b++) P[(size_t)a * S + b] = tu;
        for (uint32_t k = w->rowptr[a]; k < w->rowptr[a + 1]; k++) P[(size_t)a * S + w->col[k]] += keep * w->val[k];
    }
}

void dlm_law_powers(const double *P, uint32_t S, uint32_t n, double *pw)
{
    const size_t SS = (size_t)S * S;
    if (n == 0) return;
    for (uint32_t a = 0; a < S; a++)
        for (uint32_t b = 0; b < S; b++) pw[(size_t)a * S + b] = a == b ? 1.0 : 0.0;
    if (n == 1) return;
    /* P^1 = I P = P exactly (entries are finite), and P may already be pw + S*S */
    if (pw + SS != P) memcpy(pw + SS, P, SS * sizeof *P);
    for (uint32_t d = 2; d < n; d++) {
        const double *prev = pw + (size_t)(d - 1) * SS;
        double *cur = pw + (size_t)d * SS;
        for (uint32_t a = 0; a < S; a++)
            for (uint32_t b = 0; b < S; b++) {
                double z = 0.0;
                for (uint32_t k = 0; k < S; k++) z += prev[(size_t)a * S + k] * P[(size_t)k * S + b];
                cur[(size_t)a * S + b] = z;
            }
    }
}

void dlm_law_marginal_step(const double *cur, const double *P, uint32_t S, double *next)
{
    for (uint32_t b = 0; b < S; b++) {
        double z = 0.0;
        for (uint32_t a = 0; a < S; a++) z += cur[a] * P[(size_t)a * S + b];
        next[b] = z;
    }
}

/* Markov chains: the powers P^d (d = 0..L-1, dense, rows a ascending, then b, sums over
 * k ascending) and the position marginals, when (L V^2 + L V) doubles fit in max_bytes. */
static dlm_status build_powers(dlm_law *law, uint64_t max_bytes, dlm_err *err)
{
    const uint32_t L = law->v.L, V = law->v.V;
    if (law->v.emit || law->pw || V != law->v.S) return DLM_OK;
    double n = ((double)L * V * V + (double)L * V) * sizeof(double);
    if (n > (double)max_bytes) return DLM_OK;
    dlm_status s = dlm_law_budget_(law, (uint64_t)n, "transition powers", err);
    if (s) return s;
    double *pw = dlm_malloc((size_t)L * V * V, sizeof(double)), *pim = dlm_malloc((size_t)L * V, sizeof(double));
    double *P = dlm_malloc((size_t)V * V, sizeof(double));
    if (!pw || !pim || !P) {
        free(pw);
        free(pim);
        free(P);
        return dlm_fail(err, DLM_ENOMEM, "transition powers: out of memory");
    }
    dlm_law_dense_transitions(&law->v, P);
    dlm_law_powers(P, V, L, pw);
    for (uint32_t v = 0; v < V; v++) pim[v] = law->v.start[v];
    for (uint32_t i = 1; i < L; i++) dlm_law_marginal_step(pim + (size_t)(i - 1) * V, P, V, pim + (size_t)i * V);
    free(P);
    law->pw = pw;
    law->pim = pim;
    law->v.pw = pw;
    law->v.pim = pim;
    return DLM_OK;
}

dlm_status dlm_law_build_marginals(dlm_law *law, uint64_t max_bytes, dlm_err *err)
{
    const uint32_t L = law->v.L, V = law->v.V;
    uint64_t M = 0, N = 0;
    if (law->v.kind == DLM_LAW_HMM) return build_powers(law, max_bytes, err);
    if (law->v.kind != DLM_LAW_TABLE || law->marg) return DLM_OK;
    if (dlm_law_pow_le_(V + 1, L, max_bytes / sizeof(double), &M)) return DLM_OK;
    dlm_status s = dlm_law_budget_(law, M * sizeof(double), "subset-marginal table", err);
    if (s) return s;
    double *m = dlm_calloc((size_t)M, sizeof(double));
    if (!m) return dlm_fail(err, DLM_ENOMEM, "subset-marginal table: out of memory");
    dlm_law_pow_le_(V, L, DLM_LAW_TABLE_MAX, &N);
    /* the table itself: every digit < V */
    uint32_t d[64];
    memset(d, 0, sizeof d);
    uint64_t y = 0;
    for (uint64_t x = 0; x < N; x++) {
        m[y] = law->p[x];
        /* increment the base-V digits of x, keeping y = sum d_i (V+1)^i */
        uint64_t pw = 1;
        for (uint32_t i = 0; i < L; i++, pw *= V + 1) {
            if (++d[i] < V) {
                y += pw;
                break;
            }
            y -= (uint64_t)(V - 1) * pw;
            d[i] = 0;
        }
    }
    /* sum out one position at a time: after step i every entry whose summed-out digits
     * lie in 0..i is exact (entries with digit i == V are rewritten from entries with
     * digit i < V, whose own summed-out digits lie in 0..i-1) */
    uint64_t pw = 1;
    for (uint32_t i = 0; i < L; i++, pw *= V + 1)
        for (uint64_t z = 0; z < M; z++) {
            if ((z / pw) % (V + 1) != V) continue;
            double acc = 0.0;
            uint64_t b0 = z - (uint64_t)V * pw;
            for (uint32_t v = 0; v < V; v++) acc += m[b0 + v * pw];
            m[z] = acc;
        }
    law->marg = m;
    law->v.marg = m;
    return DLM_OK;
}

// ---------------------------------------------------------------- table, logp, sample

/* Depth-first enumeration of the HMM's prefixes: alpha + t*S is the unscaled forward
 * vector of the prefix x_0..x_t; a prefix of probability 0 leaves its subtree 0. */
static void enum_rec(const dlm_law_view *w, uint32_t t, uint64_t idx, uint64_t pw, double *alpha,
                     double *p)
{
    const uint32_t S = w->S;
    double *a = alpha + (size_t)t * S;
    for (uint32_t v = 0; v < w->V; v++) {
        fwd_step(w, t ? a - S : NULL, (uint16_t)v, a);
        double z = 0.0;
        for (uint32_t s = 0; s < S; s++) z += a[s];
        if (z == 0.0) continue;
        if (t + 1 == w->L) p[idx + v * pw] = z;
        else enum_rec(w, t + 1, idx + v * pw, pw * w->V, alpha, p);
    }
}

dlm_status dlm_law_table(const dlm_law *law, double **p, dlm_err *err)
{
    const dlm_law_view *w = &law->v;
    uint64_t N = 0;
    *p = NULL;
    if (dlm_law_pow_le_(w->V, w->L, DLM_LAW_TABLE_MAX, &N))
        return dlm_fail(err, DLM_EINPUT, "law table: V^L = %u^%u is over the limit 2^24", w->V, w->L);
    dlm_status s = dlm_law_budget_(law, N * sizeof(double), "law table", err);
    if (s) return s;
    double *t = dlm_calloc((size_t)N, sizeof(double));
    if (!t) return dlm_fail(err, DLM_ENOMEM, "law table: out of memory");
    if (w->kind == DLM_LAW_TABLE) {
        memcpy(t, w->p, (size_t)N * sizeof(double));
    } else {
        double *alpha = dlm_calloc((size_t)w->L * w->S, sizeof(double));
        if (!alpha) {
            free(t);
            return dlm_fail(err, DLM_ENOMEM, "law table: out of memory");
        }
        enum_rec(w, 0, 0, 1, alpha, t);
        free(alpha);
    }
    *p = t;
    return DLM_OK;
}

/* P(b | a) of the chain (CSR lookup plus teleport). */
static double trans(const dlm_law_view *w, uint32_t a, uint32_t b)
{
    double t = 0.0;
    for (uint32_t k = w->rowptr[a]; k < w->rowptr[a + 1]; k++)
        if (w->col[k] == b) t = w->val[k];
    return (1.0 - w->tele) * t + w->tele / (double)w->S;
}

double dlm_law_logp(const dlm_law *law, const uint16_t *x)
{
    const dlm_law_view *w = &law->v;
    for (uint32_t i = 0; i < w->L; i++)
        if (x[i] >= w->V) return -INFINITY;
    if (w->kind == DLM_LAW_TABLE) {
        uint64_t idx = 0, pw = 1;
        for (uint32_t i = 0; i < w->L; i++, pw *= w->V) idx += x[i] * pw;
        return log(w->p[idx]);
    }
    if (!w->emit) {
        double lp = log(w->start[x[0]]);
        for (uint32_t t = 1; t < w->L; t++) lp += log(trans(w, x[t - 1], x[t]));
        return lp;
    }
    /* scaled forward algorithm: log p = sum_t log c_t, c_t the sum of the step */
    double *a = dlm_calloc(2 * (size_t)w->S, sizeof(double)), lp = 0.0;
    if (!a) return NAN;
    double *b = a + w->S;
    for (uint32_t t = 0; t < w->L; t++) {
        fwd_step(w, t ? a : NULL, x[t], b);
        double z = 0.0;
        for (uint32_t s = 0; s < w->S; s++) z += b[s];
        if (z == 0.0) {
            lp = -INFINITY;
            break;
        }
        lp += log(z);
        for (uint32_t s = 0; s < w->S; s++) a[s] = b[s] / z;
    }
    free(a);
    return lp;
}

/* Philox block `index` of chain `chain` under seed in the law-sampling domain:
 * counter {index, 'law!', chain lo, chain hi}, key {seed lo, seed hi}. */
static philox4x32_ctr_t law_block(uint64_t seed, uint64_t chain, uint32_t index)
{
    philox4x32_ctr_t c;
    philox4x32_key_t k;
    c.v[0] = index;
    c.v[1] = LAW_CTR_TAG;
    c.v[2] = (uint32_t)chain;
    c.v[3] = (uint32_t)(chain >> 32);
    k.v[0] = (uint32_t)seed;
    k.v[1] = (uint32_t)(seed >> 32);
    return philox4x32_R(10, c, k);
}

/* A 53-bit uniform in [0, 1) from two words: (hi >> 5) * 2^26 + (lo >> 6), times 2^-53. */
static double u53(uint32_t hi, uint32_t lo)
{
    return (double)(((uint64_t)(hi >> 5) << 26) | (lo >> 6)) * 0x1.0p-53;
}

void dlm_law_sample(const dlm_law *law, uint64_t seed, uint64_t chain, uint16_t *x)
{
    const dlm_law_view *w = &law->v;
    if (w->kind == DLM_LAW_TABLE) {
        uint64_t N = 0, idx = 0, last = 0;
        dlm_law_pow_le_(w->V, w->L, DLM_LAW_TABLE_MAX, &N);
        philox4x32_ctr_t r = law_block(seed, chain, 0);
        double u = u53(r.v[0], r.v[1]), acc = 0.0;
        for (idx = 0; idx < N; idx++) {
            if (w->p[idx] <= 0.0) continue;
            acc += w->p[idx];
            last = idx;
            if (u < acc) break;
        }
        if (idx == N) idx = last;
        for (uint32_t i = 0; i < w->L; i++, idx /= w->V) x[i] = (uint16_t)(idx % w->V);
        return;
    }
    uint32_t s = 0;
    for (uint32_t t = 0; t < w->L; t++) {
        philox4x32_ctr_t r = law_block(seed, chain, t);
        double u = u53(r.v[0], r.v[1]);
        if (t == 0) {
            s = icdf(w->start, w->S, u);
        } else if (u < w->tele) {
            s = (uint32_t)(u / w->tele * w->S);
            if (s >= w->S) s = w->S - 1;
        } else {
            uint32_t k0 = w->rowptr[s];
            s = w->col[k0 + icdf(w->val + k0, w->rowptr[s + 1] - k0, (u - w->tele) / (1.0 - w->tele))];
        }
        x[t] = (uint16_t)(w->emit ? icdf(w->emit + (size_t)s * w->V, w->V, u53(r.v[2], r.v[3])) : s);
    }
}
