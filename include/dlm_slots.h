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

/* Checks that sp names only slots it has, in operations the word step knows, and that
 * its nout outputs lie in its slots: what code run without checks (a GPU kernel, a
 * generated kernel) needs, where an out-of-range slot is a memory fault. O(nops + nout).
 * DLM_EINPUT with a message starting "who: " otherwise. */
dlm_status dlm_slot_plan_validate(const dlm_slot_plan *sp, uint32_t nout, const char *who, dlm_err *err);

/* dlm_compile and dlm_slot_plan_build in one, without ever holding the program's
 * operations (a deep circuit in mode remask has 10^7 and more, mostly copies and
 * remasks the plan drops; host/program/compile.c streams them into the plan): p gets
 * everything dlm_compile gives except its operations (p->ops is NULL, p->nops and
 * p->round_start count them), sp the plan dlm_slot_plan_build would give, operation
 * for operation (test/test_slots.c). For the bit-sliced engines only: the byte
 * engines, the checker and `info` need dlm_compile. */
dlm_status dlm_compile_plan(const dlm_circuit *c, const dlm_levels *lv, dlm_mode mode,
                            dlm_program *p, dlm_slot_plan *sp, dlm_err *err);
/* The same with a progress hook (as dlm_compile_progress; NULL for none). */
dlm_status dlm_compile_plan_progress(const dlm_circuit *c, const dlm_levels *lv, dlm_mode mode,
                                     dlm_progress_fn progress, void *ctx, dlm_program *p,
                                     dlm_slot_plan *sp, dlm_err *err);

/* The same plan built as the program is made, without holding it (dlm_compile_plan):
 * init with L and the counter positions pmin..pmax (pmin > pmax: none), feed every
 * operation in program order, finish with the outputs. dlm_slot_plan_build is init +
 * feed + finish over a program, so both give the same plan. A failure in feed is kept
 * and returned by finish; finish (or free, to give up) releases the stream. */
typedef struct {
    uint32_t L, pmin, npin; /* positions; pinned counter positions pmin .. pmin+npin-1 */
    uint32_t *map;          /* per position: the value it holds, or none */
    dlm_op *v;              /* the operations over values so far */
    uint64_t nv, vcap;
    uint32_t nextv;         /* values numbered so far */
    int unread_pins;        /* set after init when no operation reads a counter position
                             * and no output is one (a compiler knows): their operations
                             * are dropped at once, not kept for pass 2 to drop (the same
                             * plan); a read or such an output is then refused */
    dlm_status s;           /* the first failure, DLM_OK if none */
    dlm_err err;
} dlm_slot_stream;

dlm_status dlm_slot_stream_init(dlm_slot_stream *st, uint32_t L, uint32_t pmin, uint32_t pmax,
                                dlm_err *err);
void dlm_slot_stream_feed(dlm_slot_stream *st, const dlm_op *op);
/* feed of a remask of pos, and of the identity copy src -> dst (truth table 2), without
 * making the operation: the remask mode's 10^7 carried values */
void dlm_slot_stream_remask(dlm_slot_stream *st, uint32_t pos);
void dlm_slot_stream_copy(dlm_slot_stream *st, uint32_t dst, uint32_t src);
dlm_status dlm_slot_stream_finish(dlm_slot_stream *st, uint32_t nout, const uint32_t *out_pos,
                                  dlm_slot_plan *sp, dlm_err *err);
void dlm_slot_stream_free(dlm_slot_stream *st);

#ifdef __cplusplus
}
#endif
#endif
