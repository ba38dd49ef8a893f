/* dlm_gen.h — circuit generators, named by spec strings "gen:NAME:ARGS".
 *
 *   gen:parity-tree:N     N-1 coins x1..x{N-1}; outputs x_1..x_{N-1}, then their XOR
 *                         (balanced tree of 2-input XOR, depth ceil(log2(N-1)), 1 for N = 2);
 *                         uniform over even-parity N-bit strings
 *   gen:parity-chain:N    same law, XOR chain (depth max(N-2, 1))
 *   gen:parity-revise:N   coins y1..y{N-1}; outputs x_i = y_{i-1} XOR y_i, y_0 = y_N = 0
 *                         (depth 1: the paper's two-round revision sampler)
 *   gen:adder-ripple:N    a + b for two uniform N-bit numbers, N+1 output bits, LSB first
 *   gen:adder-prefix:N    same sum, Kogge-Stone prefix carries (depth O(log N))
 *   gen:mult:N            a * b for two uniform N-bit numbers, 2N output bits, LSB first
 *                         (carry-save tree + prefix adder; for N = 1 output p1 is constant 0)
 *   gen:maj:N             one output: majority of N coins x1..xN (N odd)
 *   gen:random:W,D,SEED   random layered circuit of width W and depth D, coins x0..x{W-1}
 * Coins of the arithmetic generators are the operand bits in order (a0..a{N-1}, then
 * b0..b{N-1}). docs/generators.md has the exact constructions. Bad specs give DLM_EINPUT with a message naming the spec.
 */
#ifndef DLM_GEN_H
#define DLM_GEN_H

#include "dlm_circuit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Builds the circuit named by spec (which starts with "gen:") into c, within the memory
 * budget dlm_memory_budget(max_bytes) (0: the default; kept in c->max_bytes). */
dlm_status dlm_gen_build(dlm_circuit *c, const char *spec, uint64_t max_bytes, dlm_err *err);
/* The same with a progress hook (NULL for none): gen:random reports its layers. */
dlm_status dlm_gen_build_progress(dlm_circuit *c, const char *spec, uint64_t max_bytes, dlm_progress_fn progress,
                                  void *ctx, dlm_err *err);

#ifdef __cplusplus
}
#endif
#endif
