/* dlm_io.h — readers and writers of real circuit formats: AIGER 1.9 (ascii .aag and
 * binary .aig, combinational only) and BLIF (combinational subset).
 *
 * Readers fill an initialised-by-them circuit (call dlm_circuit_free on success only;
 * on failure nothing is left allocated). Every malformed input gives DLM_EINPUT with
 * one message "FILE:LINE: what is wrong" and no partial result. Inputs become fair
 * coins, in file order; outputs keep file order; names from a symbol table or from
 * BLIF signal names are kept for inputs and outputs.
 *
 * Writers produce files that berkeley-abc and the AIGER tools read. Gates other than
 * 2-input AND are decomposed into AND gates for AIGER; BLIF writes each gate as one
 * .names cover.
 */
#ifndef DLM_IO_H
#define DLM_IO_H

#include "dlm_circuit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads an AIGER 1.9 file, ascii or binary (told apart by its "aag"/"aig" header, not
 * by the file name), into c. Latches, bad-state, constraint, justice and fairness
 * sections are refused (combinational only). DLM_OK with c initialised and owned by
 * the caller; DLM_EINPUT "FILE:LINE: ..." (or "FILE: byte offset N: ..." in the binary
 * section) for malformed input; DLM_EIO when the file cannot be read; the file and the
 * sizes are checked against dlm_memory_budget(max_bytes) before allocating (0: the
 * default; kept in c->max_bytes). */
dlm_status dlm_aiger_read(dlm_circuit *c, const char *path, uint64_t max_bytes, dlm_err *err);

/* Reads the combinational subset of BLIF (.model, .inputs, .outputs, .names covers,
 * .end) into c: one gate per .names cover, signals resolved by name in any order.
 * Errors as dlm_aiger_read (cycles, undefined or doubly defined signals included). */
dlm_status dlm_blif_read(dlm_circuit *c, const char *path, uint64_t max_bytes, dlm_err *err);

/* Writes c to path as AIGER: binary = 0 ascii "aag", binary = 1 binary "aig"; gates
 * other than 2-input AND are decomposed into ANDs, coin and output names go to the
 * symbol table. DLM_EINPUT when a coin is biased (AIGER inputs are fair), DLM_EIO when
 * the file cannot be written, DLM_ENOMEM. c is not changed. */
dlm_status dlm_aiger_write(const dlm_circuit *c, const char *path, int binary, dlm_err *err);

/* Writes c to path as BLIF, each gate one .names cover, coins as .inputs. Errors as
 * dlm_aiger_write. */
dlm_status dlm_blif_write(const dlm_circuit *c, const char *path, dlm_err *err);

#ifdef __cplusplus
}
#endif
#endif
