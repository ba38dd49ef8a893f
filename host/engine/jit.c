/* jit.c — straight-line source from a slot plan (include/dlm_jit.h): one block per
 * operation, a literal dlm_op and dlm_step_op_words on the words of its inputs, copied
 * into a local array (stride 2: x[2 j + g] is word g of input j), the result into the
 * slot's two variables; each output handed over after the last write of its slot. */
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

/* Operation i: a literal dlm_op on a local copy of its inputs' words, then the outputs
 * whose slot it writes last. */
static void emit_op(FILE *f, const dlm_program *p, const dlm_slot_plan *sp, const uint64_t *last,
                    uint64_t i)
{
    const dlm_op *op = &sp->ops[i];
    /* the inputs, renumbered 0.. in the local array; INC reads slots arg..arg+nin */
    uint32_t in[7], nx = 0;
    unsigned nin = op->nin, lin[6] = {0};
    uint64_t arg = op->arg;
    if (op->kind == DLM_OP_GATE) {
        for (unsigned j = 0; j < nin; j++) {
            in[nx] = op->in[j];
            lin[j] = nx++;
        }
    } else if (op->kind == DLM_OP_INC) {
        for (unsigned j = 0; j <= nin; j++) in[nx++] = (uint32_t)op->arg + j;
        arg = 0;
    }
    fprintf(f, "    { /* op %" PRIu64 " */\n", i);
    fprintf(f, "        const dlm_op op = {%uu, %uu, %uu, 0, {%uu, %uu, %uu, %uu, %uu, %uu}, "
               "UINT64_C(%" PRIu64 "), UINT64_C(%" PRIu64 ")};\n",
            op->pos, (unsigned)op->kind, nin, lin[0], lin[1], lin[2], lin[3], lin[4], lin[5],
            arg, op->thr);
    if (nx) {
        fprintf(f, "        const uint64_t x[%u] = {", 2 * nx);
        for (uint32_t j = 0; j < nx; j++) fprintf(f, "%sa%u, b%u", j ? ", " : "", in[j], in[j]);
        fprintf(f, "};\n");
    }
    fprintf(f, "        uint64_t w[2] = {a%u, b%u};\n", op->pos, op->pos);
    fprintf(f, "        dlm_step_op_words(&op, %s, 2, w, 2, c0, seed);\n", nx ? "x" : "w");
    fprintf(f, "        a%u = w[0];\n        b%u = w[1];\n    }\n", op->pos, op->pos);
    for (uint32_t k = 0; k < p->nout; k++)
        if (sp->out_slot[k] == op->pos && last[op->pos] == i) emit_out(f, p, sp, k);
}

dlm_status dlm_jit_source(FILE *f, const char *name, const dlm_program *p,
                          const dlm_slot_plan *sp, dlm_err *err)
{
    if (!is_ident(name)) return dlm_fail(err, DLM_EINPUT, "jit: bad function name");
    dlm_status st = dlm_slot_plan_validate(sp, p->nout, "jit", err);
    if (st != DLM_OK) return st;
    const uint32_t S = sp->nslots;
    /* last[s]: index of the last operation writing slot s, or nops (never written);
     * next[s], first[j], link[i]: below */
    const size_t n = (size_t)sp->nops;
    uint64_t *last = malloc((2 * ((size_t)S + 1) + 2 * (n + 1)) * sizeof *last);
    if (!last) return dlm_fail(err, DLM_ENOMEM, "jit: out of memory");
    uint64_t *next = last + S + 1, *first = next + S + 1, *link = first + n + 1;
    for (uint32_t s = 0; s < S; s++) last[s] = sp->nops;
    for (uint64_t i = 0; i < sp->nops; i++) last[sp->ops[i].pos] = i;

    fprintf(f, "/* %s: %" PRIu64 " operations, %u slots, %u outputs (host/engine/jit.c) */\n"
               "DLM_JIT_FN void %s(uint64_t seed, uint64_t chain0, dlm_jit_sink &o)\n{\n"
               "    const uint64_t c0 = chain0 & ~UINT64_C(127);\n",
            name, sp->nops, S, p->nout, name);
    for (uint32_t s = 0; s < S; s++) fprintf(f, "    [[maybe_unused]] uint64_t a%u = 0, b%u = 0;\n", s, s);
    /* A fair or biased coin reads nothing, so it is computed just before the first later
     * operation that reads or writes its slot (at[i]; nops: the end), not where the
     * program has it: parity-revise:64 revise draws its 63 coins first, which would keep
     * 63 values live at once. next[s]: the next operation touching slot s; first[j] and
     * link[i]: the coins computed before operation j, in program order. */
    for (uint32_t s = 0; s < S; s++) next[s] = sp->nops;
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
    for (uint64_t j = 0; j <= sp->nops; j++) {
        for (uint64_t i = first[j]; i != UINT64_MAX; i = link[i]) emit_op(f, p, sp, last, i);
        if (j < sp->nops && sp->ops[j].kind != DLM_OP_COIN) emit_op(f, p, sp, last, j);
    }
    for (uint32_t k = 0; k < p->nout; k++) /* constant outputs and never-written slots */
        if (sp->out_slot[k] == DLM_POS_CONST || last[sp->out_slot[k]] == sp->nops) emit_out(f, p, sp, k);
    fprintf(f, "}\n");
    free(last);
    return ferror(f) ? dlm_fail(err, DLM_EIO, "jit: writing the source failed") : DLM_OK;
}
