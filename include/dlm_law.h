/* dlm_law.h — exactly known laws over token sequences: the targets of the oracle
 * sampler (`dlmsim sample`, docs/oracle.md) and of `dlmsim kl` (docs/kl.md).
 *
 * A law is a distribution p over sequences x = (x_0 .. x_{L-1}) of tokens in 0..V-1.
 * Two kinds:
 *   TABLE  a full probability table over V^L sequences (at most DLM_LAW_TABLE_MAX
 *          entries); index of x = sum_i x_i V^i (position 0 is the least significant
 *          digit). Parity laws, circuit output laws, random laws and table files.
 *   HMM    a first-order hidden Markov model with S states: start law start[S],
 *          transitions P(b | a) = (1 - tele) * T[a][b] + tele / S where T is stored
 *          sparse (CSR rows, each row summing to 1), and emissions emit[S*V] (row-major,
 *          emit[s*V + v] = P(token v | state s)). emit == NULL is a Markov chain on the
 *          tokens themselves (S == V, the token is the state). Any L up to DLM_LAW_MAX_L.
 * Spec strings accepted by dlm_law_load are listed there and in docs/oracle.md.
 *
 * The exact predictor (the oracle) for these laws lives in dlm_oracle.h and reads a
 * dlm_law_view: plain pointers, valid on the host and (copied) on a device.
 */
#ifndef DLM_LAW_H
#define DLM_LAW_H

#include "dlmsim.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DLM_TOK_MASK 0xFFFFu                  /* a masked position (uint16_t tokens) */
#define DLM_LAW_MAX_L 4096u                   /* longest sequence */
#define DLM_LAW_MAX_V 4096u                   /* largest vocabulary (and HMM state count) */
#define DLM_LAW_TABLE_MAX (UINT64_C(1) << 24) /* most entries of a TABLE law (V^L) */

typedef enum { DLM_LAW_TABLE = 1, DLM_LAW_HMM = 2 } dlm_law_kind;

/* Plain view of a law (no ownership); every pointer unused by the kind is NULL. */
typedef struct {
    int kind;              /* dlm_law_kind */
    uint32_t L, V;
    /* TABLE */
    const double *p;       /* V^L probabilities, summing to 1 */
    const double *marg;    /* NULL, or (V+1)^L subset marginals: index sum_i d_i (V+1)^i,
                              digit d_i = token, or V for "position summed out" */
    /* HMM */
    uint32_t S;
    const double *start;   /* S */
    const uint32_t *rowptr;/* S+1 */
    const uint32_t *col;   /* rowptr[S] */
    const double *val;     /* rowptr[S] */
    double tele;           /* teleport mass in [0, 1) */
    const double *emit;    /* S*V, or NULL (Markov chain) */
    /* Markov chains only, optional (dlm_law_build_marginals): the transition matrix's
     * powers pw[d*V*V + a*V + b] = P^d(a, b) for d = 0..L-1 (dense, teleport
     * included) and the marginals pim[i*V + v] = P(x_i = v), so that the oracle needs
     * only each position's nearest revealed neighbours: O(L V) a call. */
    const double *pw;
    const double *pim;
} dlm_law_view;

/* A loaded law: the view plus the arrays it points into (owned). */
typedef struct {
    dlm_law_view v;
    char desc[256];        /* one line, e.g. "binary symmetric chain, L=10, flip 0.1" */
    char alphabet[257];    /* "" or V (<= 256) display characters, one per token */
    double *p, *marg, *start, *val, *emit, *pw, *pim;
    uint32_t *rowptr, *col;
    uint64_t max_bytes;    /* the memory budget of its tables: dlm_memory_budget(max_bytes) */
} dlm_law;

/* Loads a law from a spec (docs/oracle.md has the grammar and file formats):
 *   parity:N              uniform over even-weight N-bit strings (TABLE, V=2)
 *   random:L:V:SEED       a random law, Dirichlet(1,...,1) weights (TABLE)
 *   table:FILE            a table file
 *   circuit:CIRCUIT       the exact output law (fair coins) of a circuit or gen: spec,
 *                         outputs as positions (TABLE, V=2, via dlm_target_build EXACT)
 *   markov:FILE           a Markov chain or HMM file
 *   bsc:L:FLIP            binary symmetric chain, uniform start (HMM, V=2)
 *   sparse:V:K:L:SEED[:TELE]  random sparse chain: K successors a row, teleport TELE
 *                         (default 1e-4), stationary start
 *   english:L             27-character chain (a-z and space) estimated from an English
 *                         text shipped by Debian, stationary start
 * Every law has L >= 1 and 2 <= V <= DLM_LAW_MAX_V (a one-token vocabulary is refused).
 * File formats (docs/oracle.md): `table L V` then rows `TOKENS WEIGHT` (weights divided
 * by their total); `markov L V` or `hmm L S V` then `start`, `row`/`edge`, `emit`,
 * `teleport`, `alphabet` lines (rows must sum to 1 within 1e-9, then are divided by
 * their sum). `#` starts a comment.
 * DLM_EINPUT with a one-line message for a bad spec, file or limit (also a missing or
 * unreadable file); files and sizes are checked against the limits above and
 * dlm_memory_budget(max_bytes) (0: the default; kept in law->max_bytes, which bounds
 * dlm_law_table too) before allocating. On failure *law is left empty (nothing to free). */
dlm_status dlm_law_load(const char *spec, dlm_law *law, uint64_t max_bytes, dlm_err *err);
void dlm_law_free(dlm_law *law);

/* Builds law->marg (TABLE only) when (V+1)^L entries take at most max_bytes; returns
 * DLM_OK without building it otherwise (the oracle then sums the table), and for an HMM
 * law. Cost O(L V (V+1)^L). */
dlm_status dlm_law_build_marginals(dlm_law *law, uint64_t max_bytes, dlm_err *err);

/* The full table of the law (V^L <= DLM_LAW_TABLE_MAX; HMMs enumerated): *p malloc'd,
 * caller frees. DLM_EINPUT when too large. */
dlm_status dlm_law_table(const dlm_law *law, double **p, dlm_err *err);

/* log p(x) (natural log; -INFINITY when p(x) = 0, or when a token is >= V). x has L
 * tokens, none masked. HMM: the scaled forward algorithm, O(L (nnz + S)) (allocates
 * 2S doubles; NAN if that fails); Markov chain: a product of transitions. */
double dlm_law_logp(const dlm_law *law, const uint16_t *x);

/* An exact sample x ~ p for chain `chain` under `seed` (ancestral sampling, Philox
 * uniforms from a counter domain of its own; docs/oracle.md): block t of a chain is
 * Philox4x32-10(counter {t, 0x6C617721 ('law!'), chain lo, chain hi}, key {seed lo,
 * seed hi}); its words 0,1 make the 53-bit uniform (w0 >> 5) 2^-27 + (w1 >> 6) 2^-53
 * that picks the table entry (t = 0, inverse CDF in index order) or the state of
 * position t, words 2,3 the one that picks position t's token from its state's
 * emission row. TABLE: O(V^L) per sample (a linear scan). */
void dlm_law_sample(const dlm_law *law, uint64_t seed, uint64_t chain, uint16_t *x);

/* FNV-1a 64 of what defines the law's samples: kind, L, V and its defining arrays
 * (the table; start, rows, teleport and emissions of a chain), the bytes of every
 * double as they are. Derived arrays (marginals, powers) are not part of it. Two laws
 * with the same hash give the same samples (the oracle sampler's count files). */
uint64_t dlm_law_hash(const dlm_law_view *w);

/* V^L: the number of sequences of a table over L positions and V tokens, or
 * UINT64_MAX when it is over DLM_LAW_TABLE_MAX. */
uint64_t dlm_law_cells(uint32_t L, uint32_t V);

/* The chain's transition matrix, dense: P[a*S + b] = tele / S + (1 - tele) T[a][b]
 * (S*S doubles). The one densification of the CSR rows (the law's marginals and KL's
 * dependence measures). */
void dlm_law_dense_transitions(const dlm_law_view *w, double *P);

/* The powers P^0 = I, P^1, ..., P^(n-1) of a dense S x S matrix into pw (n*S*S
 * doubles), each P^d = P^(d-1) P (d >= 2) with sums over k ascending. P may be
 * pw + S*S itself (it is then left in place as P^1). */
void dlm_law_powers(const double *P, uint32_t S, uint32_t n, double *pw);

/* next = cur P for a dense S x S matrix P (sums over a ascending): one step of the
 * position marginals. */
void dlm_law_marginal_step(const double *cur, const double *P, uint32_t S, double *next);

/* Writes the law in its file format (table or markov) to f, numbers as %.17g, so that
 * dlm_law_load("table:F" or "markov:F") gives it back (to rounding of the renormalizing
 * division). DLM_EIO when writing fails. */
dlm_status dlm_law_write(const dlm_law *law, FILE *f, dlm_err *err);

#ifdef __cplusplus
}
#endif
#endif
