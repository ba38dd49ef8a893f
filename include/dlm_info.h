/* dlm_info.h — what `dlmsim info` reports about a circuit: its levels and, for each
 * decoding mode, the size of the compiled program and of the bit-sliced engines' slot
 * plan. Library code so that the CLI and the Python binding print the same bytes. */
#ifndef DLM_INFO_H
#define DLM_INFO_H

#include "dlm_slots.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One mode's program: ok = 0 when it did not compile (it does not fit in memory). */
typedef struct {
    int ok;
    uint32_t rounds, L, slots, counter_bits, max_fanin;
    uint64_t ops;
    uint32_t value_slots; /* the slot plan's live values (dlm_slots.h); 0 if it failed */
    uint64_t engine_ops;  /* the slot plan's operations */
} dlm_info_mode;

typedef struct {
    dlm_info_mode mode[DLM_NMODES];
} dlm_info;

/* Compiles c (levelized as lv) in every mode and records the sizes. Never fails: a mode
 * that does not compile is recorded with ok = 0. */
void dlm_info_of(const dlm_circuit *c, const dlm_levels *lv, dlm_info *out);
/* The same with a progress hook (dlm_progress_fn): 2 * DLM_NMODES steps (step 2m
 * compiles mode m, 2m + 1 builds its slot plan), each of total / (2 * DLM_NMODES) parts
 * (a compile reports its layers within its step: dlm_compile_progress); done == total
 * once at the end. */
void dlm_info_of_progress(const dlm_circuit *c, const dlm_levels *lv, dlm_progress_fn progress, void *ctx,
                          dlm_info *out);

/* Writes `dlmsim info --json`'s object for the circuit named name (as the user gave
 * it), one line ending in '\n': circuit, coins, outputs, gates, gates_by_type, size,
 * depth, width, max_fanin, dead, layers, live and modes (null for a mode that did not
 * compile). */
void dlm_info_write_json(FILE *f, const char *name, const dlm_circuit *c, const dlm_levels *lv,
                         const dlm_info *in);

#ifdef __cplusplus
}
#endif
#endif
