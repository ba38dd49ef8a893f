/* jit.c — straight-line source from a slot plan (include/dlm_jit.h): one statement or
 * block per operation on the slot variables, each through the word step's helpers
 * (include/dlm_step.h); each output handed over after the last write of its slot. */
#include "dlm_jit.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int is_ident(const char *s)
{
    if (!s || !*s || (*s >= '0' && *s <= '9')) return 0;
    for (; *s; s++)
        if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

/* Output k's call: the slot's words (0 for a constant output), negated if asked. */
static void emit_out(FILE *f, const dlm_program *p, const dlm_slot_plan *sp, uint32_t k)
{
    const char *neg = p->out_neg[k] ? "~" : "";
    if (sp->out_slot[k] == DLM_POS_CONST)
        fprintf(f, "    dlm_jit_out(o, %uu, %sUINT64_C(0), %sUINT64_C(0));\n", k, neg, neg);
    else
        fprintf(f, "    dlm_jit_out(o, %uu, %sa%u, %sb%u);\n", k, neg, sp->out_slot[k], neg,
                sp->out_slot[k]);
}

/* Operation i as the word step computes it (include/dlm_step.h), then the outputs whose
 * slot it writes last. Fair coins and gates call the step's own helpers on literal
 * constants, so each compiles to its few instructions: a fair coin dlm_coin_pair, a
 * gate of up to 2 inputs dlm_tt2_word on its table reduced as dlm_step_op_words reduces
 * it, of 3..6 inputs dlm_lut_word. Counter increments and biased coins (rare) call
 * dlm_step_op_words itself on a literal dlm_op and a local copy of their inputs' words.
 * A remask leaves the slot as it is, as the word step does. */
static void emit_op(FILE *f, const dlm_program *p, const dlm_slot_plan *sp, const uint64_t *last,
                    uint64_t i)
{
    const dlm_op *op = &sp->ops[i];
    const uint32_t d = op->pos;
    const unsigned nin = op->nin < 6u ? op->nin : 6u;
    if (op->kind == DLM_OP_COIN && op->thr == DLM_COIN_FAIR) {
        fprintf(f, "    dlm_coin_pair(seed, c0 >> 7, UINT64_C(%" PRIu64 "), &a%u, &b%u); /* op %" PRIu64 " */\n",
                op->arg, d, d, i);
    } else if (op->kind == DLM_OP_GATE && nin <= 2) {
        const unsigned t = (unsigned)op->arg;
        const unsigned T = nin == 0 ? ((t & 1u) ? 15u : 0u) : nin == 1 ? (t & 3u) * 5u : (t & 15u);
        const uint32_t x = nin >= 1 ? op->in[0] : d, y = nin == 2 ? op->in[1] : x;
        fprintf(f, "    a%u = dlm_tt2_word(%uu, a%u, a%u); /* op %" PRIu64 " */\n", d, T, x, y, i);
        fprintf(f, "    b%u = dlm_tt2_word(%uu, b%u, b%u);\n", d, T, x, y);
    } else if (op->kind == DLM_OP_GATE) {
        fprintf(f, "    { /* op %" PRIu64 " */\n        const uint64_t x0[%u] = {", i, nin);
        for (unsigned j = 0; j < nin; j++) fprintf(f, "%sa%u", j ? ", " : "", op->in[j]);
        fprintf(f, "}, x1[%u] = {", nin);
        for (unsigned j = 0; j < nin; j++) fprintf(f, "%sb%u", j ? ", " : "", op->in[j]);
        fprintf(f, "};\n        a%u = dlm_lut_word(%uu, UINT64_C(%" PRIu64 "), x0);\n"
                   "        b%u = dlm_lut_word(%uu, UINT64_C(%" PRIu64 "), x1);\n    }\n",
                d, nin, op->arg, d, nin, op->arg);
    } else if (op->kind == DLM_OP_INC || op->kind == DLM_OP_COIN) {
        /* INC reads slots arg .. arg + nin, renumbered 0.. in the local array */
        const int inc = op->kind == DLM_OP_INC;
        const unsigned nx = inc ? nin + 1u : 0u;
        fprintf(f, "    { /* op %" PRIu64 " */\n", i);
        fprintf(f, "        const dlm_op op = {%uu, %uu, %uu, 0, {0, 0, 0, 0, 0, 0}, "
                   "UINT64_C(%" PRIu64 "), UINT64_C(%" PRIu64 ")};\n",
                d, (unsigned)op->kind, op->nin, inc ? UINT64_C(0) : op->arg, op->thr);
        if (nx) {
            fprintf(f, "        const uint64_t x[%u] = {", 2 * nx);
            for (unsigned j = 0; j < nx; j++)
                fprintf(f, "%sa%" PRIu64 ", b%" PRIu64, j ? ", " : "", op->arg + j, op->arg + j);
            fprintf(f, "};\n");
        }
        fprintf(f, "        uint64_t w[2] = {a%u, b%u};\n", d, d);
        fprintf(f, "        dlm_step_op_words(&op, %s, 2, w, 2, c0, seed);\n", nx ? "x" : "w");
        fprintf(f, "        a%u = w[0];\n        b%u = w[1];\n    }\n", d, d);
    }
    for (uint32_t k = 0; k < p->nout; k++)
        if (sp->out_slot[k] == d && last[d] == i) emit_out(f, p, sp, k);
}

/* The order the generated code computes sp's operations in: program order, except
 * that a fair or biased coin (which reads nothing) comes just before the first later
 * operation that reads or writes its slot (or at the end), not where the program has it:
 * parity-revise:64 revise draws its 63 coins first, which would keep 63 values live at
 * once. *order: nops indices (malloc'd). */
static dlm_status jit_order(const dlm_slot_plan *sp, uint64_t **order, dlm_err *err)
{
    const size_t S = sp->nslots, n = (size_t)sp->nops;
    /* next[s]: the next operation touching slot s; first[j] and link[i]: the coins
     * computed before operation j, in program order */
    uint64_t *next = malloc(((S + 1) + 2 * (n + 1)) * sizeof *next);
    *order = malloc((n + 1) * sizeof **order);
    if (!next || !*order) {
        free(next);
        free(*order);
        *order = NULL;
        return dlm_fail(err, DLM_ENOMEM, "jit: out of memory");
    }
    uint64_t *first = next + S + 1, *link = first + n + 1;
    for (size_t s = 0; s < S; s++) next[s] = sp->nops;
    for (size_t j = 0; j <= n; j++) first[j] = UINT64_MAX;
    for (uint64_t i = sp->nops; i-- > 0;) {
        const dlm_op *op = &sp->ops[i];
        if (op->kind == DLM_OP_COIN) {
            link[i] = first[next[op->pos]];
            first[next[op->pos]] = i;
        }
        next[op->pos] = i;
        if (op->kind == DLM_OP_GATE)
            for (unsigned j = 0; j < op->nin; j++) next[op->in[j]] = i;
        else if (op->kind == DLM_OP_INC)
            for (unsigned j = 0; j <= op->nin; j++) next[op->arg + j] = i;
    }
    size_t k = 0;
    for (uint64_t j = 0; j <= sp->nops; j++) {
        for (uint64_t i = first[j]; i != UINT64_MAX; i = link[i]) (*order)[k++] = i;
        if (j < sp->nops && sp->ops[j].kind != DLM_OP_COIN) (*order)[k++] = j;
    }
    free(next);
    return DLM_OK;
}

dlm_status dlm_jit_source(FILE *f, const char *name, const dlm_program *p,
                          const dlm_slot_plan *sp, dlm_err *err)
{
    if (!is_ident(name)) return dlm_fail(err, DLM_EINPUT, "jit: bad function name");
    dlm_status st = dlm_slot_plan_validate(sp, p->nout, "jit", err);
    if (st != DLM_OK) return st;
    const uint32_t S = sp->nslots;
    /* last[s]: index of the last operation writing slot s, or nops (never written) */
    uint64_t *last = malloc(((size_t)S + 1) * sizeof *last), *order = NULL;
    if (!last) return dlm_fail(err, DLM_ENOMEM, "jit: out of memory");
    for (uint32_t s = 0; s < S; s++) last[s] = sp->nops;
    for (uint64_t i = 0; i < sp->nops; i++) last[sp->ops[i].pos] = i;
    if ((st = jit_order(sp, &order, err)) != DLM_OK) {
        free(last);
        return st;
    }
    fprintf(f, "/* %s: %" PRIu64 " operations, %u slots, %u outputs (host/engine/jit.c) */\n"
               "DLM_JIT_FN void %s([[maybe_unused]] uint64_t seed, uint64_t chain0,\n"
               "                   [[maybe_unused]] dlm_jit_sink &o)\n{\n"
               "    [[maybe_unused]] const uint64_t c0 = chain0 & ~UINT64_C(127);\n",
            name, sp->nops, S, p->nout, name);
    for (uint32_t s = 0; s < S; s++) fprintf(f, "    [[maybe_unused]] uint64_t a%u = 0, b%u = 0;\n", s, s);
    for (uint64_t k = 0; k < sp->nops; k++) emit_op(f, p, sp, last, order[k]);
    for (uint32_t k = 0; k < p->nout; k++) /* constant outputs and never-written slots */
        if (sp->out_slot[k] == DLM_POS_CONST || last[sp->out_slot[k]] == sp->nops) emit_out(f, p, sp, k);
    fprintf(f, "}\n");
    free(order);
    free(last);
    return ferror(f) ? dlm_fail(err, DLM_EIO, "jit: writing the source failed") : DLM_OK;
}

dlm_status dlm_jit_live_peak(const dlm_slot_plan *sp, uint32_t nout, uint32_t *peak, dlm_err *err)
{
    *peak = 0;
    dlm_status st = dlm_slot_plan_validate(sp, nout, "jit", err);
    if (st != DLM_OK) return st;
    const size_t S = sp->nslots;
    uint64_t *order = NULL, *last = malloc((S + 1) * sizeof *last);
    uint8_t *live = calloc(S + 1, 1), *is_out = calloc(S + 1, 1);
    if (!last || !live || !is_out || (st = jit_order(sp, &order, err)) != DLM_OK) {
        free(last);
        free(live);
        free(is_out);
        return st != DLM_OK ? st : dlm_fail(err, DLM_ENOMEM, "jit: out of memory");
    }
    for (size_t s = 0; s < S; s++) last[s] = sp->nops;
    for (uint64_t i = 0; i < sp->nops; i++) last[sp->ops[i].pos] = i;
    for (uint32_t k = 0; k < nout; k++)
        if (sp->out_slot[k] != DLM_POS_CONST) is_out[sp->out_slot[k]] = 1;
    /* backwards over the order: live before an operation = (live after - what it
     * writes) + what it reads; an output is read just after its slot's last write */
    uint32_t cnt = 0;
    for (uint64_t k = sp->nops; k-- > 0;) {
        const uint64_t i = order[k];
        const dlm_op *op = &sp->ops[i];
        if (op->kind == DLM_OP_REMASK) continue;
        const uint32_t d = op->pos;
        if (is_out[d] && last[d] == i && !live[d]) {
            live[d] = 1;
            cnt++;
        }
        const uint32_t at_end = cnt + (live[d] ? 0u : 1u); /* the result beside what stays live */
        if (at_end > *peak) *peak = at_end;
        if (live[d]) {
            live[d] = 0;
            cnt--;
        }
        const unsigned nr = op->kind == DLM_OP_GATE ? op->nin : op->kind == DLM_OP_INC ? op->nin + 1u : 0u;
        for (unsigned j = 0; j < nr; j++) {
            const uint32_t r = op->kind == DLM_OP_GATE ? op->in[j] : (uint32_t)op->arg + j;
            if (!live[r]) {
                live[r] = 1;
                cnt++;
            }
        }
        if (cnt > *peak) *peak = cnt;
    }
    free(order);
    free(last);
    free(live);
    free(is_out);
    return DLM_OK;
}

dlm_status dlm_jit_program(FILE *f, const dlm_program *p, const dlm_slot_plan *sp, dlm_err *err)
{
    fprintf(f, "#ifdef __CUDACC_RTC__\n#include \"dlm_jit_nvrtc.h\"\n#endif\n#define DLM_JIT_NOUT %u\n"
               "#include \"dlm_jit_cuda.h\"\n", p->nout);
    dlm_status st = dlm_jit_source(f, DLM_JIT_FN_NAME, p, sp, err);
    if (st != DLM_OK) return st;
    fprintf(f, "DLM_JIT_KERNEL(" DLM_JIT_FN_NAME ")\n");
    return ferror(f) ? dlm_fail(err, DLM_EIO, "jit: writing the source failed") : DLM_OK;
}
