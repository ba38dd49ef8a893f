/* counts.c — exact 64-bit output counts shared by the engines (dlm_engine.h). */
#include "dlm_engine.h"

#include <stdlib.h>
#include <string.h>

dlm_status dlm_counts_init(dlm_counts *k, uint32_t nout, int want_hist, dlm_err *err)
{
    memset(k, 0, sizeof *k);
    k->nout = nout;
    if (want_hist && nout > DLM_HIST_MAX_BITS)
        return dlm_fail(err, DLM_EINPUT, "a full histogram needs at most %d output bits, the circuit has %u",
                        DLM_HIST_MAX_BITS, nout);
    k->ones = dlm_calloc(nout ? nout : 1, sizeof *k->ones);
    if (want_hist) k->hist = dlm_calloc((size_t)1 << nout, sizeof *k->hist);
    if (!k->ones || (want_hist && !k->hist)) {
        dlm_counts_free(k);
        return dlm_fail(err, DLM_ENOMEM, "out of memory for counts");
    }
    return DLM_OK;
}

void dlm_counts_add(dlm_counts *a, const dlm_counts *b)
{
    a->chains += b->chains;
    a->odd_parity += b->odd_parity;
    for (uint32_t k = 0; k < a->nout; k++) a->ones[k] += b->ones[k];
    if (a->hist && b->hist)
        for (size_t i = 0; i < ((size_t)1 << a->nout); i++) a->hist[i] += b->hist[i];
    if (b->bytes_tokens > a->bytes_tokens) a->bytes_tokens = b->bytes_tokens;
    if (b->bytes_device_measured > a->bytes_device_measured)
        a->bytes_device_measured = b->bytes_device_measured;
}

void dlm_counts_free(dlm_counts *k)
{
    if (!k) return;
    free(k->ones);
    free(k->hist);
    memset(k, 0, sizeof *k);
}
