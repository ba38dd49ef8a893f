/* info.c — the facts `dlmsim info` prints (dlm_info.h): per mode, the compiled
 * program's and the slot plan's sizes; and their JSON form. */
#include "dlm_info.h"
#include "dlm_util.h"

#include <string.h>

void dlm_info_of(const dlm_circuit *c, const dlm_levels *lv, dlm_info *out)
{
    dlm_info_of_progress(c, lv, NULL, NULL, out);
}

#define INFO_STEP 1000000u /* parts per step */

/* The compiler's progress (dlm_compile_progress) as a part of the info's step. */
typedef struct {
    dlm_progress_fn fn;
    void *ctx;
    uint64_t step, total;
    double t0;
} step_progress;

static void compile_step(void *ctx, uint64_t done, uint64_t total, double secs)
{
    step_progress *sp = ctx;
    (void)secs;
    uint64_t within = total ? (uint64_t)((double)done / (double)total * (INFO_STEP - 1)) : 0;
    sp->fn(sp->ctx, sp->step * INFO_STEP + within, sp->total, dlm_now() - sp->t0);
}

void dlm_info_of_progress(const dlm_circuit *c, const dlm_levels *lv, dlm_progress_fn progress, void *ctx,
                          dlm_info *out)
{
    const double t0 = dlm_now();
    const uint64_t steps = 2 * DLM_NMODES * (uint64_t)INFO_STEP;
    memset(out, 0, sizeof *out);
    for (int m = 0; m < DLM_NMODES; m++) {
        dlm_info_mode *im = &out->mode[m];
        dlm_program p;
        dlm_err pe;
        step_progress stp = {progress, ctx, 2 * (uint64_t)m, steps, t0};
        if (progress) progress(ctx, 2 * (uint64_t)m * INFO_STEP, steps, dlm_now() - t0);
        if (dlm_compile_progress(c, lv, (dlm_mode)m, progress ? compile_step : NULL, &stp, &p, &pe) != DLM_OK) continue;
        im->ok = 1;
        im->rounds = p.rounds;
        im->L = p.L;
        im->slots = p.slots;
        im->counter_bits = p.counter_bits;
        im->max_fanin = p.max_fanin;
        im->ops = p.nops;
        dlm_slot_plan sp;
        if (progress) progress(ctx, (2 * (uint64_t)m + 1) * INFO_STEP, steps, dlm_now() - t0);
        if (dlm_slot_plan_build(&p, &sp, &pe) == DLM_OK) {
            im->value_slots = sp.nslots;
            im->engine_ops = sp.nops;
            dlm_slot_plan_free(&sp);
        }
        dlm_program_free(&p);
    }
    if (progress) progress(ctx, steps, steps, dlm_now() - t0);
}

void dlm_info_write_json(FILE *f, const char *name, const dlm_circuit *c, const dlm_levels *lv,
                         const dlm_info *in)
{
    fprintf(f, "{\"circuit\":");
    dlm_json_str(f, name);
    fprintf(f, ",\"coins\":%u,\"outputs\":%u,\"gates\":%u,\"gates_by_type\":{", c->ncoins, c->nout, lv->gates);
    int first = 1;
    for (int t = DLM_G_AND; t < DLM_G_NTYPES; t++) {
        fprintf(f, "%s\"%s\":%u", first ? "" : ",", dlm_gate_type_name((dlm_gate_type)t), lv->gates_by_type[t]);
        first = 0;
    }
    fprintf(f, "},\"size\":%llu,\"depth\":%u,\"width\":%u,\"max_fanin\":%u,\"dead\":%u,\"layers\":[",
            (unsigned long long)lv->size, lv->depth, lv->width, lv->max_fanin, lv->dead);
    for (uint32_t r = 0; r < lv->nlayers; r++) fprintf(f, "%s%u", r ? "," : "", lv->layer_count[r]);
    fprintf(f, "],\"live\":[");
    for (uint32_t r = 0; r < lv->nlayers; r++) fprintf(f, "%s%u", r ? "," : "", lv->live_count[r]);
    fprintf(f, "],\"modes\":{");
    for (int m = 0; m < DLM_NMODES; m++) {
        const dlm_info_mode *im = &in->mode[m];
        fprintf(f, "%s\"%s\":", m ? "," : "", dlm_mode_name((dlm_mode)m));
        if (im->ok)
            fprintf(f, "{\"rounds\":%u,\"L\":%u,\"slots\":%u,\"counter_bits\":%u,"
                       "\"max_fanin\":%u,\"ops\":%llu,\"value_slots\":%u,\"engine_ops\":%llu}",
                    im->rounds, im->L, im->slots, im->counter_bits, im->max_fanin, (unsigned long long)im->ops,
                    im->value_slots, (unsigned long long)im->engine_ops);
        else fprintf(f, "null");
    }
    fprintf(f, "}}\n");
}
