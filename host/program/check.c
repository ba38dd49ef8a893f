/* check.c — the program checker (dlm_program.h): proves the contracts of a compiled
 * program by walking its operations once, without running chains. */
#include "dlm_program.h"
#include "dlm_util.h"

#include <stdlib.h>
#include <string.h>

/* A fixed Zobrist key per input: the splitmix64 finaliser of x. */
static uint64_t mix64(uint64_t x)
{
    return dlm_splitmix64(&x);
}

static int is_counter(const dlm_program *p, uint32_t pos)
{
    for (int k = 0; k < 2; k++)
        if (pos >= p->counter_base[k] && pos < p->counter_base[k] + p->counter_bits) return 1;
    return 0;
}

/* Zobrist contribution of one position: masked positions contribute nothing,
 * revealed ones their position, counter positions also their token. */
static uint64_t contrib(const dlm_program *p, uint32_t pos, uint8_t tok)
{
    if (tok == DLM_MASK) return 0;
    return mix64(((uint64_t)pos << 2) | (is_counter(p, pos) ? 1u + tok : 0u));
}

static int sig_cmp(const void *a, const void *b)
{
    const dlm_round_sig *x = a, *y = b;
    if (x->hash != y->hash) return x->hash < y->hash ? -1 : 1;
    if (x->nrev != y->nrev) return x->nrev < y->nrev ? -1 : 1;
    return (x->round > y->round) - (x->round < y->round);
}

dlm_status dlm_rounds_sig_init(dlm_rounds_sig *rs, const dlm_program *p, dlm_err *err)
{
    memset(rs, 0, sizeof *rs);
    rs->p = p;
    rs->tok = dlm_malloc(p->L ? p->L : 1, 1);
    rs->sig = dlm_malloc(p->rounds ? p->rounds : 1, sizeof *rs->sig);
    rs->key = dlm_malloc(p->L ? p->L : 1, sizeof *rs->key);
    rs->mask = 1;
    while (rs->mask < 2 * (uint64_t)p->rounds && rs->mask < UINT32_MAX / 2 + 1) rs->mask *= 2;
    rs->seen = dlm_calloc(rs->mask, sizeof *rs->seen);
    rs->mask--;
    if (!rs->tok || !rs->sig || !rs->key || !rs->seen) {
        dlm_rounds_sig_free(rs);
        return dlm_fail(err, DLM_ENOMEM, "out of memory checking a program");
    }
    memset(rs->tok, DLM_MASK, p->L);
    for (uint32_t q = 0; q < p->L; q++) rs->key[q] = contrib(p, q, 0);
    return DLM_OK;
}

void dlm_rounds_sig_free(dlm_rounds_sig *rs)
{
    free(rs->tok);
    free(rs->sig);
    free(rs->key);
    free(rs->seen);
    memset(rs, 0, sizeof *rs);
}

void dlm_rounds_sig_open(dlm_rounds_sig *rs)
{
    if (rs->round >= rs->p->rounds) return;
    dlm_round_sig *g = &rs->sig[rs->round];
    g->hash = rs->hash;
    g->nrev = rs->nrev;
    g->round = rs->round++;
    uint32_t h = (uint32_t)(g->hash ^ (g->hash >> 32) ^ g->nrev * UINT64_C(0x9E3779B97F4A7C15)) & rs->mask;
    for (; rs->seen[h]; h = (h + 1) & rs->mask) {
        const dlm_round_sig *o = &rs->sig[rs->seen[h] - 1];
        if (o->hash == g->hash && o->nrev == g->nrev) {
            rs->same = 1;
            return;
        }
    }
    rs->seen[h] = g->round + 1;
}

void dlm_rounds_sig_mark(dlm_rounds_sig *rs, uint32_t pos, int revealed)
{
    const int old = rs->tok[pos] != DLM_MASK;
    if (old != revealed) {
        rs->hash ^= rs->key[pos];
        rs->nrev += (uint64_t)revealed - (uint64_t)old;
    }
    rs->tok[pos] = revealed ? 0 : DLM_MASK; /* only the mask matters outside the counter */
}

void dlm_rounds_sig_feed(dlm_rounds_sig *rs, const dlm_op *op)
{
    const dlm_program *p = rs->p;
    if (!is_counter(p, op->pos)) {
        dlm_rounds_sig_mark(rs, op->pos, op->kind != DLM_OP_REMASK);
        return;
    }
    uint8_t old = rs->tok[op->pos], nv;
    if (op->kind == DLM_OP_REMASK) nv = DLM_MASK;
    else nv = dlm_step_op(op, rs->tok, 1, 0, 0);
    rs->hash ^= contrib(p, op->pos, old) ^ contrib(p, op->pos, nv);
    rs->nrev += (nv != DLM_MASK) - (old != DLM_MASK);
    rs->tok[op->pos] = nv;
}

dlm_status dlm_rounds_sig_finish(dlm_rounds_sig *rs, dlm_err *err)
{
    const dlm_program *p = rs->p;
    dlm_round_sig *sig = rs->sig;
    const uint32_t n = rs->round;
    qsort(sig, n, sizeof *sig, sig_cmp);
    dlm_status s = DLM_OK;
    for (uint32_t r = 1; r < n && !s; r++)
        if (sig[r].hash == sig[r - 1].hash && sig[r].nrev == sig[r - 1].nrev)
            s = dlm_fail(err, DLM_ECHECK,
                         "program check (%s): rounds %u and %u start from the same visible "
                         "state (mask pattern and counter): a policy cannot tell them apart",
                         dlm_mode_name(p->mode), sig[r - 1].round + 1, sig[r].round + 1);
    dlm_rounds_sig_free(rs);
    return s;
}

dlm_status dlm_program_rounds_distinct(const dlm_program *p, dlm_err *err)
{
    if (!p->ops && p->nops) return dlm_fail(err, DLM_EINPUT, DLM_NO_OPS, "dlm_program_rounds_distinct");
    dlm_rounds_sig rs;
    dlm_status s = dlm_rounds_sig_init(&rs, p, err);
    if (s) return s;
    for (uint32_t r = 0; r < p->rounds; r++) {
        dlm_rounds_sig_open(&rs);
        for (uint64_t i = p->round_start[r]; i < p->round_start[r + 1]; i++) dlm_rounds_sig_feed(&rs, &p->ops[i]);
    }
    return dlm_rounds_sig_finish(&rs, err);
}

#define FAIL(...) do { s = dlm_fail(err, DLM_ECHECK, __VA_ARGS__); goto out; } while (0)

dlm_status dlm_program_check(const dlm_program *p, const dlm_levels *lv, dlm_err *err)
{
    if (!p->ops && p->nops) return dlm_fail(err, DLM_EINPUT, DLM_NO_OPS, "dlm_program_check");
    const char *m = dlm_mode_name(p->mode);
    uint64_t want = p->mode == DLM_MODE_AR ? lv->size : lv->nlayers;
    if (p->rounds != want)
        return dlm_fail(err, DLM_ECHECK, "program check (%s): %u rounds, expected %llu", m,
                        p->rounds, (unsigned long long)want);
    uint8_t *rev = dlm_calloc(p->L ? p->L : 1, 1);
    uint32_t *wround = dlm_calloc(p->L ? p->L : 1, sizeof *wround);
    dlm_status s = DLM_OK;
    if (!rev || !wround) {
        s = dlm_fail(err, DLM_ENOMEM, "out of memory checking a program");
        goto out;
    }
    for (uint32_t r = 0; r < p->rounds; r++) {
        for (uint64_t i = p->round_start[r]; i < p->round_start[r + 1]; i++) {
            const dlm_op *op = &p->ops[i];
            uint32_t q = op->pos, reads[DLM_MAX_FANIN + 64];
            unsigned nr = 0;
            if (q >= p->L) FAIL("program check (%s): round %u writes position %u beyond L = %u", m, r + 1, q, p->L);
            if (op->kind == DLM_OP_GATE) {
                if (op->nin > 6) FAIL("program check (%s): round %u, position %u: fan-in %u", m, r + 1, q, op->nin);
                for (unsigned j = 0; j < op->nin; j++) reads[nr++] = op->in[j];
            } else if (op->kind == DLM_OP_INC) {
                if (op->nin >= 64 || op->arg + op->nin >= p->L)
                    FAIL("program check (%s): round %u, position %u: bad counter operation", m, r + 1, q);
                for (unsigned j = 0; j <= op->nin; j++) reads[nr++] = (uint32_t)op->arg + j;
            } else if (op->kind != DLM_OP_COIN && op->kind != DLM_OP_REMASK) {
                FAIL("program check (%s): round %u, position %u: unknown operation %u", m, r + 1, q, op->kind);
            }
            for (unsigned j = 0; j < nr; j++) {
                uint32_t a = reads[j];
                if (a >= p->L || !rev[a])
                    FAIL("program check (%s): round %u, position %u is predicted from position "
                         "%u, which is masked at the start of the round", m, r + 1, q, a);
                if (wround[a] == r + 1)
                    FAIL("program check (%s): round %u, position %u is predicted from position "
                         "%u, which an earlier operation of the same round rewrote", m, r + 1, q, a);
            }
            if (wround[q] == r + 1)
                FAIL("program check (%s): round %u writes position %u twice", m, r + 1, q);
            if (op->kind == DLM_OP_REMASK) {
                if (!rev[q]) FAIL("program check (%s): round %u remasks position %u, which is masked", m, r + 1, q);
                rev[q] = 0;
            } else {
                if (rev[q] && p->mode != DLM_MODE_REVISE)
                    FAIL("program check (%s): round %u reveals position %u again without a remask "
                         "in between", m, r + 1, q);
                rev[q] = 1;
            }
            wround[q] = r + 1;
        }
    }
    for (uint32_t k = 0; k < p->nout; k++)
        if (p->out_pos[k] != DLM_POS_CONST && (p->out_pos[k] >= p->L || !rev[p->out_pos[k]]))
            FAIL("program check (%s): output %u is read from position %u, which is masked at the end",
                 m, k, p->out_pos[k]);
    s = dlm_program_rounds_distinct(p, err);
out:
    free(rev);
    free(wround);
    return s;
}
