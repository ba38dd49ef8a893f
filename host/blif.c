/* blif.c — STUB, being replaced. */
#include "dlm_io.h"
dlm_status dlm_blif_read(dlm_circuit *c, const char *path, dlm_err *err)
{ (void)c; return dlm_fail(err, DLM_EINPUT, "%s: BLIF reader not built yet", path); }
dlm_status dlm_blif_write(const dlm_circuit *c, const char *path, dlm_err *err)
{ (void)c; return dlm_fail(err, DLM_EINPUT, "%s: BLIF writer not built yet", path); }
