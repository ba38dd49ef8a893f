/* dlm_slots.h — the slot plan: a program renamed from positions to live value slots,
 * for the bit-sliced engines (host/engine/engine_bits.c, kernels/engine_cuda_bits.cu).
 *
 * A bit-sliced engine keeps one word per live VALUE, not per position (as ABC keeps
 * only live values). Before a run the program is renamed once: a position gets a
 * slot when it is written, and the slot is freed as soon as no position holds its
 * value any more; an identity copy (the remask mode's carried values) shares its
 * source's slot and costs nothing; REMASK drops a reference. At most L slots exist,
 * and in the remask and revise modes about the circuit's width: the theory's space
 * result made practical (8 bytes per live value per 64 chains).
 *
 * The renamed operations are the program's own, in program order, minus the copies
 * and remasks, with positions replaced by slots; applied with dlm_step_op_words to a
 * value buffer of nslots planes they give the byte engine's samples bit for bit
 * (test/test_bits.c, every mode of every generator and EPFL circuit).
 */
#ifndef DLM_SLOTS_H
#define DLM_SLOTS_H

#include "dlm_program.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    dlm_op *ops;        /* renamed operations, in program order */
    uint64_t nops;
    uint32_t nslots;    /* value words per 64 chains (at least 1) */
    uint32_t *out_slot; /* slot of output k, or DLM_POS_CONST */
} dlm_slot_plan;

/* Renames p. DLM_ENOMEM; DLM_EINPUT when the program reads a masked position or an
 * output is masked at the end (a checked program never does). */
dlm_status dlm_slot_plan_build(const dlm_program *p, dlm_slot_plan *sp, dlm_err *err);
void dlm_slot_plan_free(dlm_slot_plan *sp);

#ifdef __cplusplus
}
#endif
#endif
