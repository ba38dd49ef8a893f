/* compile.c — circuit + mode -> DLM decoding program (dlm_program.h).
 *
 * What the four modes emit is described in docs/model.md; in short:
 *   cot/ar   one position per vertex, ordered by layer then node;
 *   remask   two blocks of W slots; a vertex keeps one slot for its whole live range
 *            (interval colouring, exactly W = width slots); round r writes block r%2
 *            from block (r-1)%2, copies carried values, and remasks block (r-1)%2;
 *   revise   one block; new values revise slots of values that die this round,
 *            ordered so that every slot is read before it is rewritten (checked);
 *   a binary round counter (C bits, one copy per block parity in remask, one copy
 *   revised in place in revise) is added only if the mask pattern alone does not tell
 *   the rounds apart.
 * This file does not run chains; dlm_program_check (check.c) proves the result. Mode
 * names and the program's lifetime are program.c, below both.
 */
#include "dlm_program.h"

#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------
// Per-vertex predictor: a gate's truth table restricted to its distinct
// non-constant input nodes, or a coin.

typedef struct {
    const dlm_circuit *c;
    const dlm_levels *lv;
    uint32_t *coin_id;    /* per node: coin identity, or UINT32_MAX */
    uint8_t *fnin;        /* per node: folded fan-in */
    uint32_t (*fin)[DLM_MAX_FANIN]; /* per node: folded input nodes */
    uint64_t *ftt;        /* per node: folded truth table */
    uint32_t *order;      /* vertices sorted by (layer, node) */
    uint64_t *layer_first;/* nlayers+1 offsets into order */
} cctx;

static void fold_gate(const dlm_gate *g, uint8_t *nin, uint32_t *in, uint64_t *tt)
{
    uint64_t full = dlm_gate_truth_table(g);
    unsigned m = 0, where[DLM_MAX_FANIN];
    for (unsigned j = 0; j < g->nin; j++) {
        uint32_t u = DLM_LIT_NODE(g->in[j]);
        where[j] = UINT32_MAX;
        if (u == 0) continue;
        unsigned k = 0;
        while (k < m && in[k] != u) k++;
        if (k == m) in[m++] = u;
        where[j] = k;
    }
    uint64_t out = 0;
    for (unsigned i = 0; i < (1u << m); i++) {
        unsigned old = 0;
        for (unsigned j = 0; j < g->nin; j++)
            if (where[j] != UINT32_MAX) old |= ((i >> where[j]) & 1u) << j;
        out |= ((full >> old) & 1u) << i;
    }
    *nin = (uint8_t)m;
    *tt = out;
}

static void cctx_free(cctx *x)
{
    free(x->coin_id);
    free(x->fnin);
    free(x->fin);
    free(x->ftt);
    free(x->order);
    free(x->layer_first);
}

static dlm_status cctx_init(cctx *x, const dlm_circuit *c, const dlm_levels *lv, dlm_err *err)
{
    memset(x, 0, sizeof *x);
    x->c = c;
    x->lv = lv;
    uint32_t n = c->nnodes;
    x->coin_id = dlm_malloc(n, sizeof *x->coin_id);
    x->fnin = dlm_calloc(n, 1);
    x->fin = dlm_calloc(n, sizeof *x->fin);
    x->ftt = dlm_calloc(n, sizeof *x->ftt);
    x->order = dlm_malloc(n, sizeof *x->order);
    x->layer_first = dlm_calloc((size_t)lv->nlayers + 1, sizeof *x->layer_first);
    if (!x->coin_id || !x->fnin || !x->fin || !x->ftt || !x->order || !x->layer_first) {
        cctx_free(x);
        return dlm_fail(err, DLM_ENOMEM, "out of memory compiling %u nodes", n);
    }
    for (uint32_t v = 0; v < n; v++) x->coin_id[v] = UINT32_MAX;
    for (uint32_t k = 0; k < c->ncoins; k++) x->coin_id[c->coins[k]] = k;
    for (uint32_t v = 1; v < n; v++)
        if (c->g[v].type != DLM_G_COIN) fold_gate(&c->g[v], &x->fnin[v], x->fin[v], &x->ftt[v]);
    /* Counting sort of vertices by layer (stable: node order within a layer). */
    for (uint32_t v = 1; v < n; v++) x->layer_first[lv->layer[v] + 1]++;
    for (uint32_t r = 0; r < lv->nlayers; r++) x->layer_first[r + 1] += x->layer_first[r];
    uint64_t *fill = dlm_malloc((size_t)lv->nlayers + 1, sizeof *fill);
    if (!fill) {
        cctx_free(x);
        return dlm_fail(err, DLM_ENOMEM, "out of memory compiling");
    }
    memcpy(fill, x->layer_first, ((size_t)lv->nlayers + 1) * sizeof *fill);
    for (uint32_t v = 1; v < n; v++) x->order[fill[lv->layer[v]]++] = v;
    free(fill);
    return DLM_OK;
}

/* The op that writes vertex v at position pos, its inputs read at base + slot[u]. */
static dlm_op vertex_op(const cctx *x, uint32_t v, uint32_t pos, const uint32_t *slot,
                        uint32_t base)
{
    dlm_op op;
    memset(&op, 0, sizeof op);
    op.pos = pos;
    uint32_t k = x->coin_id[v];
    if (k != UINT32_MAX) {
        op.kind = DLM_OP_COIN;
        op.arg = k;
        op.thr = x->c->coin_thr ? x->c->coin_thr[k] : DLM_COIN_FAIR;
        return op;
    }
    op.kind = DLM_OP_GATE;
    op.nin = x->fnin[v];
    for (unsigned j = 0; j < op.nin; j++) op.in[j] = base + slot[x->fin[v][j]];
    op.arg = x->ftt[v];
    return op;
}

// ---------------------------------------------------------------------------
// Program assembly.

typedef struct {
    dlm_program *p;
    uint64_t cap;
    uint32_t round;  /* rounds opened so far */
} builder;

static dlm_status b_init(builder *b, dlm_program *p, uint32_t rounds, uint64_t nops, dlm_err *err)
{
    b->p = p;
    b->cap = nops;
    b->round = 0;
    uint64_t bytes = nops * sizeof(dlm_op);
    uint64_t budget = dlm_memory_budget(p->max_bytes);
    if (bytes > budget)
        return dlm_fail(err, DLM_EINPUT,
                        "program of %llu operations needs %llu bytes, over the memory budget of "
                        "%llu (half the machine's memory, or --max-memory)",
                        (unsigned long long)nops, (unsigned long long)bytes,
                        (unsigned long long)budget);
    p->ops = dlm_malloc(nops ? nops : 1, sizeof *p->ops);
    p->round_start = dlm_calloc((size_t)rounds + 1, sizeof *p->round_start);
    if (!p->ops || !p->round_start)
        return dlm_fail(err, DLM_ENOMEM, "out of memory for %llu operations",
                        (unsigned long long)nops);
    p->rounds = rounds;
    return DLM_OK;
}

static void b_open_round(builder *b)
{
    b->p->round_start[b->round++] = b->p->nops;
}

static void b_emit(builder *b, dlm_op op)
{
    /* Capacity is computed exactly beforehand; overflowing it is a compiler bug. */
    if (b->p->nops >= b->cap) abort();
    b->p->ops[b->p->nops++] = op;
}

static void b_close(builder *b)
{
    b->p->round_start[b->p->rounds] = b->p->nops;
}

static dlm_op const_op(uint32_t pos, unsigned v)
{
    dlm_op op;
    memset(&op, 0, sizeof op);
    op.pos = pos;
    op.kind = DLM_OP_GATE;
    op.arg = v;
    return op;
}

static dlm_op remask_op(uint32_t pos)
{
    dlm_op op;
    memset(&op, 0, sizeof op);
    op.pos = pos;
    op.kind = DLM_OP_REMASK;
    return op;
}

/* Writes counter value `value` into copy at base: constants if from == UINT32_MAX,
 * else increments of the copy at `from` (bits emitted high to low, so that an in-place
 * increment reads every bit before it is rewritten). */
static void emit_counter(builder *b, uint32_t bits, uint32_t base, uint32_t from, uint32_t value)
{
    for (uint32_t j = bits; j-- > 0;) {
        if (from == UINT32_MAX) {
            b_emit(b, const_op(base + j, (value >> j) & 1u));
        } else {
            dlm_op op;
            memset(&op, 0, sizeof op);
            op.pos = base + j;
            op.kind = DLM_OP_INC;
            op.nin = (uint8_t)j;
            op.arg = from;
            b_emit(b, op);
        }
    }
}

static uint32_t ceil_log2(uint64_t x) /* smallest b with 2^b >= x */
{
    uint32_t b = 0;
    while ((UINT64_C(1) << b) < x) b++;
    return b;
}

static dlm_status set_outputs(dlm_program *p, const dlm_circuit *c, const uint32_t *slot,
                              uint32_t base, dlm_err *err)
{
    p->nout = c->nout;
    p->out_pos = dlm_malloc(c->nout, sizeof *p->out_pos);
    p->out_neg = dlm_malloc(c->nout, 1);
    if (!p->out_pos || !p->out_neg) return dlm_fail(err, DLM_ENOMEM, "out of memory");
    for (uint32_t k = 0; k < c->nout; k++) {
        uint32_t u = DLM_LIT_NODE(c->out[k]);
        p->out_pos[k] = u ? base + slot[u] : DLM_POS_CONST;
        p->out_neg[k] = (uint8_t)DLM_LIT_NEG(c->out[k]);
    }
    return DLM_OK;
}

// ---------------------------------------------------------------------------
// cot and ar: one position per vertex.

static dlm_status compile_full(const cctx *x, dlm_program *p, int ar, dlm_err *err)
{
    const dlm_levels *lv = x->lv;
    uint32_t n = x->c->nnodes;
    uint64_t N = lv->size;
    if (N > UINT32_MAX - 1) return dlm_fail(err, DLM_EINPUT, "circuit too large for one sequence");
    uint32_t *pos = dlm_calloc(n, sizeof *pos);
    if (!pos) return dlm_fail(err, DLM_ENOMEM, "out of memory");
    for (uint64_t i = 0; i < N; i++) pos[x->order[i]] = (uint32_t)i;
    p->L = (uint32_t)N;
    builder b;
    dlm_status s = b_init(&b, p, ar ? (uint32_t)N : lv->nlayers, N, err);
    for (uint32_t r = 0; !s && r < lv->nlayers; r++) {
        if (!ar) b_open_round(&b);
        for (uint64_t i = x->layer_first[r]; i < x->layer_first[r + 1]; i++) {
            if (ar) b_open_round(&b);
            b_emit(&b, vertex_op(x, x->order[i], pos[x->order[i]], pos, 0));
        }
    }
    if (!s) {
        b_close(&b);
        s = set_outputs(p, x->c, pos, 0, err);
    }
    free(pos);
    return s;
}

// ---------------------------------------------------------------------------
// remask: two blocks, interval-coloured slots.

static int live_at(const dlm_levels *lv, uint32_t v, uint32_t r)
{
    return !lv->is_dead[v] && lv->layer[v] <= r && r < lv->lastuse[v];
}

/* Assigns each live vertex one slot for its live range; returns the slot count. */
static uint32_t colour_intervals(const cctx *x, uint32_t *slot, uint32_t *stack)
{
    const dlm_levels *lv = x->lv;
    uint32_t nfree = 0, used = 0;
    /* Vertices whose range ends at boundary r-1 release their slot before layer r;
     * walk vertices by layer; ranges end at lastuse-1, so bucket by lastuse. */
    uint32_t n = x->c->nnodes;
    uint64_t *end_first = dlm_calloc((size_t)lv->nlayers + 2, sizeof *end_first);
    uint32_t *by_end = dlm_malloc(n, sizeof *by_end);
    if (!end_first || !by_end) {
        free(end_first);
        free(by_end);
        return UINT32_MAX;
    }
    for (uint32_t v = 1; v < n; v++)
        if (!lv->is_dead[v]) end_first[lv->lastuse[v] + 1]++;
    for (uint32_t r = 0; r <= lv->nlayers; r++) end_first[r + 1] += end_first[r];
    uint64_t *fill = dlm_malloc((size_t)lv->nlayers + 2, sizeof *fill);
    if (!fill) {
        free(end_first);
        free(by_end);
        return UINT32_MAX;
    }
    memcpy(fill, end_first, ((size_t)lv->nlayers + 2) * sizeof *fill);
    for (uint32_t v = 1; v < n; v++)
        if (!lv->is_dead[v]) by_end[fill[lv->lastuse[v]]++] = v;
    free(fill);
    for (uint32_t r = 0; r < lv->nlayers; r++) {
        for (uint64_t i = end_first[r]; i < end_first[r + 1]; i++) stack[nfree++] = slot[by_end[i]];
        for (uint64_t i = x->layer_first[r]; i < x->layer_first[r + 1]; i++) {
            uint32_t v = x->order[i];
            if (lv->is_dead[v]) continue;
            slot[v] = nfree ? stack[--nfree] : used++;
        }
    }
    free(end_first);
    free(by_end);
    return used;
}

static dlm_status compile_remask(const cctx *x, dlm_program *p, int with_counter, dlm_err *err)
{
    const dlm_levels *lv = x->lv;
    uint32_t n = x->c->nnodes, R = lv->nlayers;
    uint32_t *slot = dlm_calloc(n, sizeof *slot), *stack = dlm_malloc(n, sizeof *stack);
    uint32_t *livelist = dlm_malloc(n, sizeof *livelist);
    dlm_status s = DLM_OK;
    if (!slot || !stack || !livelist) {
        s = dlm_fail(err, DLM_ENOMEM, "out of memory");
        goto out;
    }
    uint32_t W = colour_intervals(x, slot, stack);
    if (W == UINT32_MAX) {
        s = dlm_fail(err, DLM_ENOMEM, "out of memory");
        goto out;
    }
    uint32_t C = with_counter ? ceil_log2((uint64_t)lv->depth + 1) : 0;
    if ((uint64_t)2 * W + 2 * C > UINT32_MAX - 1) {
        s = dlm_fail(err, DLM_EINPUT, "sequence too long");
        goto out;
    }
    /* Exact op count: every live value is written once per boundary it crosses,
     * remasked in the next round (except after the last), plus counter writes and
     * remasks. */
    uint64_t nops = 0;
    for (uint32_t r = 0; r < R; r++) nops += (uint64_t)lv->live_count[r] * (r + 1 < R ? 2 : 1);
    nops += (uint64_t)C * 2 * (R > 1 ? R - 1 : 0);
    p->L = 2 * W + 2 * C;
    p->slots = W;
    p->counter_bits = C;
    p->counter_base[0] = 2 * W;
    p->counter_base[1] = 2 * W + C;
    builder b;
    if ((s = b_init(&b, p, R, nops, err))) goto out;
    /* Live list maintained incrementally: values of live(r-1) that survive, plus layer r. */
    uint32_t nlive = 0, nprev = 0;
    uint32_t *prev = stack; /* reuse: live(r-1) */
    for (uint32_t r = 0; r < R; r++) {
        b_open_round(&b);
        uint32_t blk = (r & 1u) * W, oblk = ((r + 1) & 1u) * W;
        nlive = 0;
        for (uint32_t i = 0; i < nprev; i++)
            if (live_at(lv, prev[i], r)) livelist[nlive++] = prev[i];
        for (uint64_t i = x->layer_first[r]; i < x->layer_first[r + 1]; i++)
            if (live_at(lv, x->order[i], r)) livelist[nlive++] = x->order[i];
        for (uint32_t i = 0; i < nlive; i++) {
            uint32_t v = livelist[i];
            if (lv->layer[v] == r) {
                b_emit(&b, vertex_op(x, v, blk + slot[v], slot, oblk));
            } else { /* carried: identity from the other block */
                dlm_op op = const_op(blk + slot[v], 0);
                op.nin = 1;
                op.in[0] = oblk + slot[v];
                op.arg = 2; /* truth table of the identity */
                b_emit(&b, op);
            }
        }
        if (C && r + 1 < R)
            emit_counter(&b, C, p->counter_base[r & 1u], r ? p->counter_base[(r + 1) & 1u] : UINT32_MAX,
                         r + 1);
        if (r > 0) {
            for (uint32_t i = 0; i < nprev; i++) b_emit(&b, remask_op(oblk + slot[prev[i]]));
            if (C)
                for (uint32_t j = 0; j < C; j++) b_emit(&b, remask_op(p->counter_base[(r + 1) & 1u] + j));
        }
        memcpy(prev, livelist, (size_t)nlive * sizeof *prev);
        nprev = nlive;
    }
    b_close(&b);
    s = set_outputs(p, x->c, slot, ((R - 1) & 1u) * W, err);
out:
    free(slot);
    free(stack);
    free(livelist);
    return s;
}

// ---------------------------------------------------------------------------
// revise: one block, slots revised in place.
//
// Round r writes the values of layer r. A value that dies this round (its last
// consumer is in layer r) frees its slot only once every op reading it has been
// emitted; an op that is the last reader of a dying value can write into that very
// slot (it reads before it writes). Ops are emitted greedily: last readers first,
// then ops into free slots, and a new slot only when neither is possible.

typedef struct {
    uint32_t *rem;      /* per node: readers of this round not yet emitted */
    uint64_t *rd_first; /* per node: first reader index in rd (this round) */
    uint32_t *rd;       /* readers (indices into the round's op list) */
    uint8_t *done;      /* per op of the round */
} revise_round;

static dlm_status compile_revise(const cctx *x, dlm_program *p, int with_counter, dlm_err *err)
{
    const dlm_levels *lv = x->lv;
    uint32_t n = x->c->nnodes, R = lv->nlayers;
    uint32_t *slot = dlm_calloc(n, sizeof *slot), *freel = dlm_malloc(n, sizeof *freel);
    uint32_t *rem = dlm_calloc(n, sizeof *rem), *cnt = dlm_calloc(n, sizeof *cnt);
    uint32_t *newv = dlm_malloc(n, sizeof *newv), *ready = dlm_malloc(7 * (size_t)n + 1, sizeof *ready);
    uint32_t *rd = dlm_malloc(6 * (size_t)n + 1, sizeof *rd), *rdfirst = dlm_calloc(n, sizeof *rdfirst);
    uint32_t *seq = dlm_malloc(n, sizeof *seq);
    uint8_t *done = dlm_calloc(n, 1);
    dlm_op *tmp = NULL;
    dlm_status s = DLM_OK;
    if (!slot || !freel || !rem || !cnt || !newv || !ready || !rd || !rdfirst || !seq || !done) {
        s = dlm_fail(err, DLM_ENOMEM, "out of memory");
        goto out;
    }
    uint32_t nfree = 0, W = 0;
    uint64_t nseq = 0;
    uint64_t nvert_live = lv->size - lv->dead;
    /* Pass 1: order and slot of every live vertex (seq = emission order). */
    for (uint32_t r = 0; r < R; r++) {
        uint32_t m = 0;
        for (uint64_t i = x->layer_first[r]; i < x->layer_first[r + 1]; i++)
            if (!lv->is_dead[x->order[i]]) newv[m++] = x->order[i];
        /* Readers of each dying input: u dies here if lastuse(u) == r. */
        uint32_t nrd = 0;
        for (uint32_t i = 0; i < m; i++)
            for (unsigned j = 0; j < x->fnin[newv[i]]; j++) {
                uint32_t u = x->fin[newv[i]][j];
                if (lv->lastuse[u] == r) cnt[u]++;
            }
        for (uint32_t i = 0; i < m; i++)
            for (unsigned j = 0; j < x->fnin[newv[i]]; j++) {
                uint32_t u = x->fin[newv[i]][j];
                if (lv->lastuse[u] == r && cnt[u]) {
                    rdfirst[u] = nrd;
                    rem[u] = cnt[u];
                    nrd += cnt[u];
                    cnt[u] = 0;
                }
            }
        for (uint32_t i = 0; i < m; i++)
            for (unsigned j = 0; j < x->fnin[newv[i]]; j++) {
                uint32_t u = x->fin[newv[i]][j];
                if (lv->lastuse[u] == r) rd[rdfirst[u] + cnt[u]++] = i;
            }
        uint32_t nready = 0, left = m;
        for (uint32_t i = 0; i < m; i++) done[i] = 0;
        for (uint32_t i = 0; i < m; i++)
            for (unsigned j = 0; j < x->fnin[newv[i]]; j++) {
                uint32_t u = x->fin[newv[i]][j];
                if (lv->lastuse[u] == r && rem[u] == 1) ready[nready++] = i;
            }
        uint32_t scan = 0;
        while (left) {
            uint32_t i = UINT32_MAX, at = UINT32_MAX;
            while (nready && i == UINT32_MAX) {
                uint32_t c = ready[--nready];
                if (!done[c]) i = c;
            }
            if (i != UINT32_MAX) { /* a last reader: take the slot of a value it finishes */
                for (unsigned j = 0; j < x->fnin[newv[i]] && at == UINT32_MAX; j++) {
                    uint32_t u = x->fin[newv[i]][j];
                    if (lv->lastuse[u] == r && rem[u] == 1) at = slot[u];
                }
            } else {
                /* No last reader: the pending op whose dying inputs are closest to free. */
                uint32_t best = UINT32_MAX;
                for (uint32_t k = 0; k < m; k++) {
                    uint32_t kk = (scan + k) % m;
                    if (done[kk]) continue;
                    uint32_t key = UINT32_MAX - 1;
                    for (unsigned j = 0; j < x->fnin[newv[kk]]; j++) {
                        uint32_t u = x->fin[newv[kk]][j];
                        if (lv->lastuse[u] == r && rem[u] < key) key = rem[u];
                    }
                    if (key < best) {
                        best = key;
                        i = kk;
                        if (key <= 2) break;
                    }
                }
                scan = i;
                at = nfree ? freel[--nfree] : W++;
            }
            uint32_t v = newv[i];
            done[i] = 1;
            left--;
            slot[v] = at;
            seq[nseq++] = v;
            for (unsigned j = 0; j < x->fnin[v]; j++) {
                uint32_t u = x->fin[v][j];
                if (lv->lastuse[u] != r) continue;
                if (--rem[u] == 0) {
                    if (slot[u] != at) freel[nfree++] = slot[u];
                } else if (rem[u] == 1) {
                    for (uint32_t t = rdfirst[u]; t < rdfirst[u] + cnt[u]; t++)
                        if (!done[rd[t]]) ready[nready++] = rd[t];
                }
            }
        }
        for (uint32_t i = 0; i < m; i++)
            for (unsigned j = 0; j < x->fnin[newv[i]]; j++) cnt[x->fin[newv[i]][j]] = 0;
    }
    /* Pass 2: the program. seq holds the live vertices round by round in emission order. */
    uint32_t C = with_counter ? ceil_log2((uint64_t)lv->depth + 1) : 0;
    if ((uint64_t)W + C > UINT32_MAX - 1) {
        s = dlm_fail(err, DLM_EINPUT, "sequence too long");
        goto out;
    }
    p->L = W + C;
    p->slots = W;
    p->counter_bits = C;
    p->counter_base[0] = p->counter_base[1] = W;
    builder b;
    if ((s = b_init(&b, p, R, nvert_live + (uint64_t)C * (R > 1 ? R - 1 : 0), err))) goto out;
    uint64_t at = 0;
    for (uint32_t r = 0; r < R; r++) {
        b_open_round(&b);
        while (at < nseq && lv->layer[seq[at]] == r) {
            uint32_t v = seq[at++];
            b_emit(&b, vertex_op(x, v, slot[v], slot, 0));
        }
        if (C && r + 1 < R) emit_counter(&b, C, W, r ? W : UINT32_MAX, r + 1);
    }
    b_close(&b);
    s = set_outputs(p, x->c, slot, 0, err);
out:
    free(slot); free(freel); free(rem); free(cnt); free(newv); free(ready);
    free(rd); free(rdfirst); free(seq); free(done); free(tmp);
    return s;
}

// ---------------------------------------------------------------------------

dlm_status dlm_compile(const dlm_circuit *c, const dlm_levels *lv, dlm_mode mode,
                       dlm_program *p, dlm_err *err)
{
    memset(p, 0, sizeof *p);
    if ((unsigned)mode >= DLM_NMODES) return dlm_fail(err, DLM_EINPUT, "unknown mode");
    cctx x;
    dlm_status s = cctx_init(&x, c, lv, err);
    if (s) return s;
    for (int with_counter = 0; with_counter < 2; with_counter++) {
        dlm_program_free(p);
        p->mode = mode;
        p->ncoins = c->ncoins;
        p->max_bytes = c->max_bytes;
        switch (mode) {
        case DLM_MODE_COT: s = compile_full(&x, p, 0, err); break;
        case DLM_MODE_AR: s = compile_full(&x, p, 1, err); break;
        case DLM_MODE_REMASK: s = compile_remask(&x, p, with_counter, err); break;
        default: s = compile_revise(&x, p, with_counter, err); break;
        }
        if (s) break;
        p->max_fanin = 0;
        for (uint64_t i = 0; i < p->nops; i++) {
            uint32_t f = p->ops[i].kind == DLM_OP_GATE ? p->ops[i].nin
                       : p->ops[i].kind == DLM_OP_INC ? p->ops[i].nin + 1u : 0u;
            if (f > p->max_fanin) p->max_fanin = f;
        }
        /* The counter is added only when the mask pattern cannot tell rounds apart. */
        if (mode == DLM_MODE_COT || mode == DLM_MODE_AR || with_counter) break;
        dlm_err tmp;
        if (dlm_program_rounds_distinct(p, &tmp) == DLM_OK) break;
    }
    cctx_free(&x);
    if (s) dlm_program_free(p);
    return s;
}
