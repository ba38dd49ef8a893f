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

dlm_status dlm_aiger_read(dlm_circuit *c, const char *path, dlm_err *err);
dlm_status dlm_blif_read(dlm_circuit *c, const char *path, dlm_err *err);

/* binary = 0: ascii "aag"; binary = 1: binary "aig". */
dlm_status dlm_aiger_write(const dlm_circuit *c, const char *path, int binary, dlm_err *err);
dlm_status dlm_blif_write(const dlm_circuit *c, const char *path, dlm_err *err);

#ifdef __cplusplus
}
#endif
#endif
