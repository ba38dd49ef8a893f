/* dlm_program.h — the DLM decoding program a circuit compiles to, and its checker.
 *
 * A program is a sequence length L, a number of rounds R, and for each round a list
 * of operations (dlm_op, defined in dlm_step.h) applied to every chain in program
 * order. An operation writes one position: unmasking (the position was masked),
 * revising (it was revealed; only in mode revise), or remasking. Vocabulary {0, 1}
 * plus the mask. At the end the circuit outputs are read from out_pos (with out_neg).
 *
 * Modes (docs/model.md gives the exact lengths):
 *   cot    one position per vertex, L = N; round r reveals layer r-1; R = depth+1
 *   remask two blocks of W slots swapped in place + counter copies; L = 2W + 2C
 *   revise one block of slots revised in place + one counter; L = W' + C
 *   ar     one position per vertex, one vertex per round; L = R = N
 */
#ifndef DLM_PROGRAM_H
#define DLM_PROGRAM_H

#include "dlm_level.h"
#include "dlm_step.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { DLM_MODE_COT = 0, DLM_MODE_REMASK, DLM_MODE_REVISE, DLM_MODE_AR, DLM_NMODES } dlm_mode;

#define DLM_POS_CONST UINT32_MAX /* out_pos value for a constant output */

typedef struct {
    dlm_mode mode;
    uint32_t L;             /* tokens per chain */
    uint32_t rounds;        /* R */
    uint64_t nops;
    dlm_op *ops;            /* all operations, round by round */
    uint64_t *round_start;  /* rounds+1 offsets into ops: round r is [round_start[r], round_start[r+1]) */
    uint32_t nout;
    uint32_t *out_pos;      /* position of output k, or DLM_POS_CONST */
    uint8_t *out_neg;       /* output k = token ^ out_neg[k] (or = out_neg[k] if constant) */
    uint32_t ncoins;
    uint32_t slots;         /* block width in positions (remask, revise); 0 otherwise */
    uint32_t counter_bits;  /* C: bits of one counter copy; 0 if the mask pattern suffices */
    uint32_t counter_base[2]; /* first position of each counter copy */
    uint32_t max_fanin;     /* largest number of positions one prediction reads */
    uint64_t max_bytes;     /* the circuit's memory budget (dlm_circuit.max_bytes), which
                               bounds the program and the bit-sliced engines' values */
} dlm_program;

const char *dlm_mode_name(dlm_mode m);
/* Parses "cot", "remask", "revise", "ar"; returns 0 on success. */
int dlm_mode_parse(const char *s, dlm_mode *m);

/* Compiles a levelized circuit into a program for mode. The program owns its memory. */
dlm_status dlm_compile(const dlm_circuit *c, const dlm_levels *lv, dlm_mode mode,
                       dlm_program *p, dlm_err *err);
void dlm_program_free(dlm_program *p);

/* Proves on the program, without running chains: every operation reads only
 * positions revealed at the start of its round and not written earlier in the round;
 * no position is revealed twice without a remask or revision between (revisions only
 * in mode revise); rounds = depth+1 (N for ar); the visible state at the start of
 * each round (mask pattern and counter tokens) differs from round to round; the
 * output positions are revealed at the end. DLM_ECHECK with the round and position
 * of the first violation. */
dlm_status dlm_program_check(const dlm_program *p, const dlm_levels *lv, dlm_err *err);

/* The part of the check about policies: the visible state at the start of every
 * round (which positions are masked, and the tokens of the counter positions) is
 * different for every round. Compares 64-bit Zobrist signatures plus the number of
 * revealed positions and the counter value, so equal states are always caught. */
dlm_status dlm_program_rounds_distinct(const dlm_program *p, dlm_err *err);

#ifdef __cplusplus
}
#endif
#endif
