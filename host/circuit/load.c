/* load.c — dlm_circuit_load: a circuit by path (.aag, .aig, .blif) or generator spec
 * (gen:NAME:ARGS). It sits above the readers (aiger.c, blif.c) and the generators (gen.c),
 * which build on the IR (circuit.c) and never call back here. */
#include "dlm_circuit.h"
#include "dlm_gen.h"
#include "dlm_io.h"

#include <string.h>

static int ends_with(const char *s, const char *suf)
{
    size_t n = strlen(s), m = strlen(suf);
    return n >= m && strcmp(s + n - m, suf) == 0;
}

dlm_status dlm_circuit_load(dlm_circuit *c, const char *path, uint64_t max_bytes, dlm_err *err)
{
    return dlm_circuit_load_progress(c, path, max_bytes, NULL, NULL, err);
}

dlm_status dlm_circuit_load_progress(dlm_circuit *c, const char *path, uint64_t max_bytes,
                                     dlm_progress_fn progress, void *ctx, dlm_err *err)
{
    dlm_status s;
    if (strncmp(path, "gen:", 4) == 0) s = dlm_gen_build_progress(c, path, max_bytes, progress, ctx, err);
    else if (ends_with(path, ".blif")) s = dlm_blif_read(c, path, max_bytes, err);
    else if (ends_with(path, ".aag") || ends_with(path, ".aig")) s = dlm_aiger_read(c, path, max_bytes, err);
    else
        return dlm_fail(err, DLM_EINPUT,
                        "%s: unknown circuit format (expected .aag, .aig, .blif or gen:SPEC)", path);
    if (s == DLM_OK && c->nout == 0) { /* a sampler of nothing is a mistake, not a result */
        dlm_circuit_free(c);
        return dlm_fail(err, DLM_EINPUT, "%s: the circuit has no outputs (nothing to sample)", path);
    }
    return s;
}
