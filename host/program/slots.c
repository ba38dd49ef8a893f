/* slots.c — the slot plan (include/dlm_slots.h): positions renamed to live value
 * slots for the bit-sliced engines.
 *
 * Three passes over the program, in program order:
 *   1. value numbering (dlm_slot_stream_feed, one operation at a time, so that the
 *      compiler can stream a program it never holds; the operations over values kept
 *      are the program less its copies and remasks): every write that is not an identity copy creates a new value;
 *      a copy makes its destination name its source's value; a remask forgets the
 *      position's value. Reads are renamed to the value the position holds when the
 *      operation runs, which (the program checker proves) is its value at the start
 *      of the round: the model's simultaneous update.
 *   2. liveness, backwards: a value is needed if it is an output or an input of a
 *      needed operation; operations whose value is not needed are dropped (samples are
 *      the outputs only, and a coin is a pure function of (seed, chain, coin), so no
 *      other draw moves).
 *   3. slot assignment, forwards: a needed value gets a free slot when it is written
 *      and gives it back after its last read (or never, if it is an output). The
 *      destination is taken before the inputs are given back, so an operation never
 *      writes a slot it reads (the word loops may then be vectorised without an alias
 *      check failing). Reuse is safe because an engine runs every operation over all
 *      its words before the next.
 * Counter positions (those INC operations read or write: a contiguous range, INC reads
 * arg..arg+nin) keep fixed slots 0..npin-1 and are updated in place; their operations
 * are dropped when nothing needed reads a counter position (pass 2).
 * dlm_slot_plan_build finds that range in the program and streams it; a compiler that
 * streams declares it first.
 */
#include "dlm_slots.h"

#include <stdlib.h>
#include <string.h>

#define VNONE UINT32_MAX         /* no value: the position is masked */
#define SLOT_NONE UINT32_MAX
#define LAST_KEEP UINT64_MAX     /* an output: keep its slot to the end */
#define PINNED(st, q) ((st)->npin && (q) >= (st)->pmin && (q) - (st)->pmin < (st)->npin)

dlm_status dlm_slot_plan_validate(const dlm_slot_plan *sp, uint32_t nout, const char *who, dlm_err *err)
{
    const uint32_t S = sp->nslots;
    for (uint64_t i = 0; i < sp->nops; i++) {
        const dlm_op *op = &sp->ops[i];
        int bad = op->pos >= S || op->kind > DLM_OP_INC;
        if (op->kind == DLM_OP_GATE) {
            bad |= op->nin > 6;
            for (unsigned j = 0; j < op->nin && j < 6; j++) bad |= op->in[j] >= S;
        } else if (op->kind == DLM_OP_INC) {
            bad |= op->arg >= S || op->arg + op->nin >= S;
        }
        if (bad)
            return dlm_fail(err, DLM_EINPUT, "%s: slot plan op %llu (kind %u) reads or writes outside %u slots", who,
                            (unsigned long long)i, (unsigned)op->kind, S);
    }
    for (uint32_t k = 0; k < nout; k++)
        if (sp->out_slot[k] != DLM_POS_CONST && sp->out_slot[k] >= S)
            return dlm_fail(err, DLM_EINPUT, "%s: output %u in slot %u >= %u slots", who, k, sp->out_slot[k], S);
    return DLM_OK;
}

void dlm_slot_plan_free(dlm_slot_plan *sp)
{
    free(sp->ops);
    free(sp->out_slot);
    memset(sp, 0, sizeof *sp);
}

/* The inputs an operation reads as values (GATE only; INC reads pinned slots). */
static unsigned op_nin(const dlm_op *op) { return op->kind == DLM_OP_GATE ? (op->nin < 6 ? op->nin : 6) : 0; }

/* Gives value x (written by e) a slot: a freed one, else a new one. Pinned values keep
 * theirs. */
static void take_slot(dlm_op *e, uint32_t x, uint32_t npin, uint32_t *slot_of, uint32_t *freed,
                      uint32_t *nfree, uint32_t *next)
{
    if (x < npin) return;
    e->pos = *nfree ? freed[--*nfree] : (*next)++;
    slot_of[x] = e->pos;
}

dlm_status dlm_slot_stream_init(dlm_slot_stream *st, uint32_t L, uint32_t pmin, uint32_t pmax,
                                dlm_err *err)
{
    memset(st, 0, sizeof *st);
    st->L = L;
    st->pmin = pmin;
    st->npin = pmin <= pmax ? pmax - pmin + 1 : 0;
    st->map = dlm_malloc(L ? L : 1, sizeof *st->map);
    st->vcap = 4096;
    st->v = dlm_malloc(st->vcap, sizeof *st->v);
    if (!st->map || !st->v) {
        dlm_slot_stream_free(st);
        return dlm_fail(err, DLM_ENOMEM, "out of memory planning value slots");
    }
    for (uint32_t q = 0; q < L; q++) st->map[q] = PINNED(st, q) ? q - pmin : VNONE;
    st->nextv = st->npin;
    return DLM_OK;
}

void dlm_slot_stream_free(dlm_slot_stream *st)
{
    free(st->map);
    free(st->v);
    memset(st, 0, sizeof *st);
}

void dlm_slot_stream_remask(dlm_slot_stream *st, uint32_t pos)
{
    if (!st->s && !PINNED(st, pos)) st->map[pos] = VNONE;
}

void dlm_slot_stream_copy(dlm_slot_stream *st, uint32_t dst, uint32_t src)
{
    if (st->s) return;
    if (PINNED(st, dst)) { /* a new value of a counter position: the operation itself */
        dlm_op op;
        memset(&op, 0, sizeof op);
        op.pos = dst;
        op.kind = DLM_OP_GATE;
        op.nin = 1;
        op.in[0] = src;
        op.arg = 2;
        dlm_slot_stream_feed(st, &op);
        return;
    }
    if (st->map[src] == VNONE) {
        st->s = dlm_fail(&st->err, DLM_EINPUT, "program reads masked position %u", src);
        return;
    }
    st->map[dst] = st->map[src]; /* identity copy: same value */
}

/* 1. value numbering, one operation at a time */
void dlm_slot_stream_feed(dlm_slot_stream *st, const dlm_op *op)
{
    if (st->s) return;
    uint32_t *map = st->map;
    if (op->kind == DLM_OP_REMASK) {
        dlm_slot_stream_remask(st, op->pos);
        return;
    }
    if (op->kind == DLM_OP_GATE && op->nin == 1 && op->arg == 2 && !PINNED(st, op->pos)) {
        dlm_slot_stream_copy(st, op->pos, op->in[0]);
        return;
    }
    if (op->kind == DLM_OP_INC && (!PINNED(st, op->pos) || !PINNED(st, op->arg) || !PINNED(st, op->arg + op->nin))) {
        st->s = dlm_fail(&st->err, DLM_EINPUT, "counter operation at position %u outside the pinned range",
                         op->pos);
        return;
    }
    for (unsigned j = 0; j < op_nin(op); j++)
        if (map[op->in[j]] == VNONE) {
            st->s = dlm_fail(&st->err, DLM_EINPUT, "program reads masked position %u", op->in[j]);
            return;
        }
    dlm_op e = *op;
    for (unsigned j = 0; j < op_nin(op); j++) e.in[j] = map[op->in[j]];
    for (unsigned j = 0; j < op_nin(op) && st->unread_pins; j++)
        if (e.in[j] < st->npin) {
            st->s = dlm_fail(&st->err, DLM_EINPUT, "counter position %u is read, and the stream was told none is",
                             op->in[j]);
            return;
        }
    /* unread counter values: pass 2 would drop their operations (nothing reads them),
     * so they are dropped now; slots 0..npin-1 stay theirs all the same */
    if (st->unread_pins && PINNED(st, op->pos)) return;
    if (op->kind == DLM_OP_INC) e.arg = op->arg - st->pmin;
    e.pos = PINNED(st, op->pos) ? op->pos - st->pmin : st->nextv++;
    if (!PINNED(st, op->pos)) map[op->pos] = e.pos;
    if (st->nv == st->vcap) {
        dlm_op *g = realloc(st->v, (size_t)(st->vcap * 2) * sizeof *st->v);
        if (!g) {
            st->s = dlm_fail(&st->err, DLM_ENOMEM, "out of memory planning value slots");
            return;
        }
        st->v = g;
        st->vcap *= 2;
    }
    st->v[st->nv++] = e;
}

dlm_status dlm_slot_stream_finish(dlm_slot_stream *st, uint32_t nout, const uint32_t *out_pos,
                                  dlm_slot_plan *sp, dlm_err *err)
{
    memset(sp, 0, sizeof *sp);
    const uint32_t npin = st->npin, nextv = st->nextv, L = st->L;
    const uint64_t nv = st->nv;
    const dlm_op *v = st->v;
    const uint32_t *map = st->map;
    uint32_t *out_val = dlm_malloc(nout ? nout : 1, sizeof *out_val);
    uint32_t *slot_of = NULL, *freed = NULL;
    uint64_t *last = NULL; /* per value: 0 not read; i+1 last read by op i; LAST_KEEP */
    uint8_t *live = NULL;
    sp->out_slot = dlm_malloc(nout ? nout : 1, sizeof *sp->out_slot);
    dlm_status s = st->s;
    if (s) {
        dlm_fail(err, s, "%s", st->err.msg);
        goto done;
    }
    if (!out_val || !sp->out_slot) {
        s = dlm_fail(err, DLM_ENOMEM, "out of memory planning value slots");
        goto done;
    }
    slot_of = dlm_malloc((size_t)nextv + 1, sizeof *slot_of);
    freed = dlm_malloc((size_t)nextv + 1, sizeof *freed);
    last = dlm_calloc((size_t)nextv + 1, sizeof *last);
    live = dlm_calloc(nv ? nv : 1, 1);
    if (!slot_of || !freed || !last || !live) {
        s = dlm_fail(err, DLM_ENOMEM, "out of memory planning value slots");
        goto done;
    }
    for (uint32_t k = 0; k < nout; k++) {
        out_val[k] = out_pos[k] == DLM_POS_CONST ? VNONE : map[out_pos[k]];
        if (out_pos[k] != DLM_POS_CONST && out_val[k] == VNONE) {
            s = dlm_fail(err, DLM_EINPUT, "output %u is masked at the end of the program", k);
            goto done;
        }
        if (out_val[k] != VNONE) last[out_val[k]] = LAST_KEEP;
    }
    /* 2. liveness (values are written once, so one backward pass is exact); `last`
     * holds LAST_KEEP for outputs and, for now, 1 for "read by a needed op". The
     * counter positions are one group: its operations are needed from the last needed
     * read of a counter position backwards (a counter feeds only its own increments
     * unless a circuit reads it, so usually none are: the round counter makes the
     * rounds' states distinct for a policy and does not change a sample). */
    int pin_live = 0;
    for (uint32_t k = 0; k < nout; k++) pin_live |= out_val[k] != VNONE && out_val[k] < npin;
    if (pin_live && st->unread_pins) {
        s = dlm_fail(err, DLM_EINPUT, "an output is a counter position, and the stream was told none is");
        goto done;
    }
    for (uint64_t i = nv; i-- > 0;) {
        const dlm_op *e = &v[i];
        if (e->pos >= npin ? last[e->pos] == 0 : !pin_live) continue; /* unread: dropped */
        live[i] = 1;
        for (unsigned j = 0; j < op_nin(e); j++) {
            if (e->in[j] < npin) pin_live = 1;
            else if (last[e->in[j]] == 0) last[e->in[j]] = 1;
        }
    }
    for (uint64_t i = 0; i < nv; i++) /* the last needed read of every value */
        if (live[i])
            for (unsigned j = 0; j < op_nin(&v[i]); j++)
                if (v[i].in[j] >= npin && last[v[i].in[j]] != LAST_KEEP) last[v[i].in[j]] = i + 1;
    /* 3. slots */
    sp->ops = dlm_malloc(nv ? nv : 1, sizeof *sp->ops);
    if (!sp->ops) {
        s = dlm_fail(err, DLM_ENOMEM, "out of memory planning value slots");
        goto done;
    }
    for (uint32_t q = 0; q < npin; q++) slot_of[q] = q;
    uint32_t nfree = 0, next = npin;
    for (uint64_t i = 0; i < nv; i++) {
        if (!live[i]) continue;
        dlm_op e = v[i];
        for (unsigned j = 0; j < op_nin(&e); j++) e.in[j] = slot_of[v[i].in[j]];
        /* The destination first (never an input's slot), unless that would need an
         * (L+1)-th slot: then in place, so that nslots <= L always (the values needed
         * after an operation are held by positions, at most L of them). */
        const int dst_first = nfree > 0 || next < L;
        if (dst_first) take_slot(&e, v[i].pos, npin, slot_of, freed, &nfree, &next);
        for (unsigned j = 0; j < op_nin(&e); j++) {
            const uint32_t x = v[i].in[j];
            if (x >= npin && last[x] == i + 1 && slot_of[x] != SLOT_NONE) {
                freed[nfree++] = slot_of[x];
                slot_of[x] = SLOT_NONE; /* an input read twice is given back once */
            }
        }
        if (!dst_first) take_slot(&e, v[i].pos, npin, slot_of, freed, &nfree, &next);
        sp->ops[sp->nops++] = e;
    }
    for (uint32_t k = 0; k < nout; k++)
        sp->out_slot[k] = out_val[k] == VNONE ? DLM_POS_CONST : slot_of[out_val[k]];
    sp->nslots = next ? next : 1;
done:
    free(slot_of);
    free(freed);
    free(out_val);
    free(last);
    free(live);
    dlm_slot_stream_free(st);
    if (s) dlm_slot_plan_free(sp);
    return s;
}

dlm_status dlm_slot_plan_build(const dlm_program *p, dlm_slot_plan *sp, dlm_err *err)
{
    memset(sp, 0, sizeof *sp);
    if (!p->ops && p->nops) return dlm_fail(err, DLM_EINPUT, DLM_NO_OPS, "dlm_slot_plan_build");
    uint32_t pmin = UINT32_MAX, pmax = 0;
    const uint64_t nops = p->round_start[p->rounds];
    for (uint64_t i = 0; i < nops; i++) {
        const dlm_op *op = &p->ops[i];
        if (op->kind != DLM_OP_INC) continue;
        uint64_t lo = op->arg < op->pos ? op->arg : op->pos, hi = op->arg + op->nin;
        hi = hi > op->pos ? hi : op->pos;
        pmin = lo < pmin ? (uint32_t)lo : pmin;
        pmax = hi > pmax ? (uint32_t)hi : pmax;
    }
    dlm_slot_stream st;
    dlm_status s = dlm_slot_stream_init(&st, p->L, pmin, pmax, err);
    if (s) return s;
    for (uint64_t i = 0; i < nops; i++) dlm_slot_stream_feed(&st, &p->ops[i]);
    return dlm_slot_stream_finish(&st, p->nout, p->out_pos, sp, err);
}
