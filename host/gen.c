/* gen.c — STUB, being replaced. */
#include "dlm_gen.h"
dlm_status dlm_gen_build(dlm_circuit *c, const char *spec, dlm_err *err)
{ (void)c; return dlm_fail(err, DLM_EINPUT, "%s: generators not built yet", spec); }
