/* slots.c — the slot plan (include/dlm_slots.h): positions renamed to live value
 * slots for the bit-sliced engines.
 *
 * Why it is safe: a freed slot is unreachable, and the operations that read it earlier
 * in the round have run, since an engine runs every operation over all its words
 * before the next. Counter positions (those INC operations read or write: a
 * contiguous range, INC reads arg..arg+nin) keep fixed slots 0..npin-1 and are
 * updated in place.
 */
#include "dlm_slots.h"

#include <stdlib.h>
#include <string.h>

#define SLOT_NONE UINT32_MAX

void dlm_slot_plan_free(dlm_slot_plan *sp)
{
    free(sp->ops);
    free(sp->out_slot);
    memset(sp, 0, sizeof *sp);
}

typedef struct {
    uint32_t *map, *refc, *freed;
    uint32_t nfree, next, npin;
} slot_state;

static void slot_drop(slot_state *st, uint32_t s)
{
    if (s != SLOT_NONE && s >= st->npin && --st->refc[s] == 0) st->freed[st->nfree++] = s;
}

dlm_status dlm_slot_plan_build(const dlm_program *p, dlm_slot_plan *sp, dlm_err *err)
{
    memset(sp, 0, sizeof *sp);
    const uint32_t L = p->L;
    uint32_t pmin = UINT32_MAX, pmax = 0;
    for (uint64_t i = 0; i < p->nops; i++) {
        const dlm_op *op = &p->ops[i];
        if (op->kind != DLM_OP_INC) continue;
        uint64_t lo = op->arg < op->pos ? op->arg : op->pos, hi = op->arg + op->nin;
        hi = hi > op->pos ? hi : op->pos;
        pmin = lo < pmin ? (uint32_t)lo : pmin;
        pmax = hi > pmax ? (uint32_t)hi : pmax;
    }
    slot_state st;
    memset(&st, 0, sizeof st);
    st.npin = pmin == UINT32_MAX ? 0 : pmax - pmin + 1;
    const size_t cap = (size_t)L + st.npin + 2;
    st.map = dlm_malloc(L ? L : 1, sizeof *st.map);
    st.refc = dlm_calloc(cap, sizeof *st.refc);
    st.freed = dlm_malloc(cap, sizeof *st.freed);
    sp->ops = dlm_malloc(p->nops ? p->nops : 1, sizeof *sp->ops);
    sp->out_slot = dlm_malloc(p->nout ? p->nout : 1, sizeof *sp->out_slot);
    dlm_status s = DLM_OK;
    if (!st.map || !st.refc || !st.freed || !sp->ops || !sp->out_slot) {
        s = dlm_fail(err, DLM_ENOMEM, "out of memory planning value slots");
        goto done;
    }
#define PINNED(q) (st.npin && (q) >= pmin && (q) <= pmax)
    for (uint32_t q = 0; q < L; q++) st.map[q] = PINNED(q) ? q - pmin : SLOT_NONE;
    st.next = st.npin;
    for (uint32_t r = 0; r < p->rounds; r++) {
        for (uint64_t i = p->round_start[r]; i < p->round_start[r + 1]; i++) {
            const dlm_op *op = &p->ops[i];
            if (op->kind == DLM_OP_REMASK) {
                if (!PINNED(op->pos)) {
                    slot_drop(&st, st.map[op->pos]);
                    st.map[op->pos] = SLOT_NONE;
                }
                continue;
            }
            if (op->kind == DLM_OP_GATE && op->nin == 1 && op->arg == 2 && !PINNED(op->pos) &&
                !PINNED(op->in[0])) { /* identity copy: share the slot */
                uint32_t src = st.map[op->in[0]];
                if (src == SLOT_NONE) {
                    s = dlm_fail(err, DLM_EINPUT, "program reads masked position %u", op->in[0]);
                    goto done;
                }
                st.refc[src]++;
                slot_drop(&st, st.map[op->pos]);
                st.map[op->pos] = src;
                continue;
            }
            dlm_op e = *op;
            if (op->kind == DLM_OP_GATE)
                for (unsigned j = 0; j < op->nin && j < 6; j++) {
                    e.in[j] = st.map[op->in[j]];
                    if (e.in[j] == SLOT_NONE) {
                        s = dlm_fail(err, DLM_EINPUT, "program reads masked position %u", op->in[j]);
                        goto done;
                    }
                }
            if (op->kind == DLM_OP_INC) e.arg = op->arg - pmin;
            if (PINNED(op->pos)) {
                e.pos = op->pos - pmin;
            } else {
                slot_drop(&st, st.map[op->pos]);
                uint32_t ns = st.nfree ? st.freed[--st.nfree] : st.next++;
                st.refc[ns] = 1;
                st.map[op->pos] = ns;
                e.pos = ns;
            }
            sp->ops[sp->nops++] = e;
        }
    }
    for (uint32_t k = 0; k < p->nout; k++)
        sp->out_slot[k] = p->out_pos[k] == DLM_POS_CONST ? DLM_POS_CONST : st.map[p->out_pos[k]];
    for (uint32_t k = 0; k < p->nout; k++)
        if (p->out_pos[k] != DLM_POS_CONST && sp->out_slot[k] == SLOT_NONE) {
            s = dlm_fail(err, DLM_EINPUT, "output %u is masked at the end of the program", k);
            goto done;
        }
    sp->nslots = st.next ? st.next : 1;
#undef PINNED
done:
    free(st.map);
    free(st.refc);
    free(st.freed);
    if (s) dlm_slot_plan_free(sp);
    return s;
}
