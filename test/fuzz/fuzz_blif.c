/* fuzz_blif.c — libFuzzer harness for the BLIF reader (dlm_blif_read).
 *
 * Each input is written to /tmp/dlmsim-fuzz-PID.blif and read. A refusal must be
 * DLM_EINPUT (or DLM_EIO/DLM_ENOMEM) with a "PATH:" message; an accepted circuit goes
 * through fuzz_check_circuit (levelize, compile + check every mode when small, round
 * trip through the three writers). Sanitizers report memory errors and UB.
 *
 * Build and run: make fuzz (docs/fuzzing.md); by hand:
 *   build/fuzz/fuzz_blif -max_total_time=60 build/fuzz/corpus/blif test/fuzz/corpus/blif
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_path(0, "", "blif");
    fuzz_write(path, data, size);
    dlm_circuit c;
    dlm_err e;
    e.msg[0] = 0;
    dlm_status s = dlm_blif_read(&c, path, 0, &e);
    if (s) {
        if (s != DLM_EINPUT && s != DLM_ENOMEM && s != DLM_EIO)
            fuzz_die("dlm_blif_read returned status %d: %s", (int)s, e.msg);
        if (strncmp(e.msg, path, strlen(path)) != 0)
            fuzz_die("dlm_blif_read: message does not start with the path: %s", e.msg);
        return 0;
    }
    fuzz_check_circuit(&c);
    dlm_circuit_free(&c);
    return 0;
}
