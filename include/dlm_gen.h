/* dlm_gen.h — circuit generators, named by spec strings "gen:NAME:ARGS".
 *
 *   gen:parity-tree:N     N-1 coins x_1..x_{N-1}; outputs x_1..x_{N-1}, then their XOR
 *                         (balanced tree of 2-input XOR); uniform over even-parity N-bit strings
 *   gen:parity-chain:N    same law, XOR chain (depth N-2)
 *   gen:parity-revise:N   coins y_1..y_{N-1}; outputs x_i = y_{i-1} XOR y_i, y_0 = y_N = 0
 *                         (depth 1: the paper's two-round revision sampler)
 *   gen:adder-ripple:N    a + b for two uniform N-bit numbers, N+1 output bits, LSB first
 *   gen:adder-prefix:N    same sum, Kogge-Stone prefix carries (depth O(log N))
 *   gen:mult:N            a * b for two uniform N-bit numbers, 2N output bits, LSB first
 *   gen:maj:N             one output: majority of N coins (N odd)
 *   gen:random:W,D,SEED   random layered circuit of width W and depth D
 * Coins are the operand bits in order (a_0..a_{N-1}, then b_0..b_{N-1} for the
 * arithmetic generators). Bad specs give DLM_EINPUT with a message naming the spec.
 */
#ifndef DLM_GEN_H
#define DLM_GEN_H

#include "dlm_circuit.h"

/* Builds the circuit named by spec (which starts with "gen:") into c. */
dlm_status dlm_gen_build(dlm_circuit *c, const char *spec, dlm_err *err);

#endif
