/* aiger.c — STUB, being replaced. */
#include "dlm_io.h"
dlm_status dlm_aiger_read(dlm_circuit *c, const char *path, dlm_err *err)
{ (void)c; return dlm_fail(err, DLM_EINPUT, "%s: AIGER reader not built yet", path); }
dlm_status dlm_aiger_write(const dlm_circuit *c, const char *path, int binary, dlm_err *err)
{ (void)c; (void)binary; return dlm_fail(err, DLM_EINPUT, "%s: AIGER writer not built yet", path); }
