/* fuzz_checkpoint.c — libFuzzer harness for checkpoint files (dlm_checkpoint_read,
 * include/dlm_batch.h, format in host/engine/batch.c).
 *
 * dlm_checkpoint_read takes a path, so each input is written to
 * /tmp/dlmsim-fuzz-PID.ckpt (fuzz_common.h: one file per process, removed and created
 * again for every input) and read back twice, against two fixed batch ids (computed
 * once, from the circuits' hashes):
 *   A  gen:maj:3, mode cot, seed 0, 100000 chains, 1 output, no histogram
 *      (what `dlmsim run gen:maj:3 --chains 100000 --checkpoint F` writes);
 *   B  gen:mult:3, mode revise, seed 7, 100000 chains, 6 outputs, histogram
 *      (`dlmsim run gen:mult:3 --mode revise --seed 7 --chains 100000
 *       --hist H --checkpoint F`).
 * The seed corpus holds checkpoints written for both, so mutations get past the header
 * comparison and into the counts. What dlm_batch.h documents, and the harness enforces:
 *   - a refusal is DLM_EINPUT with a one-line message "FILE: ..." (FILE the path read);
 *   - an accepted checkpoint has next <= the id's chains, and counts shaped as the id
 *     says (nout outputs, ones[], a histogram exactly when the id has one) holding
 *     next chains (counts.chains == next).
 * The consistency of the counts among themselves (ones[k] <= chains, histogram total)
 * is not documented as checked, so it is not enforced here (docs/fuzzing.md).
 * Anything else, a sanitizer report or a leak, is a bug: abort().
 *
 * Build and run: make fuzz (docs/fuzzing.md); by hand:
 *   build/fuzz/fuzz_checkpoint -max_total_time=60 build/fuzz/corpus/checkpoint \
 *       test/fuzz/corpus/checkpoint
 */
#include "fuzz_common.h"

#include "dlm_batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static dlm_batch_id ids[2];

static void make_id(dlm_batch_id *id, const char *spec, dlm_mode mode, uint64_t seed, int hist)
{
    dlm_circuit c;
    dlm_err e;
    if (dlm_circuit_load(&c, spec, 0, &e)) fuzz_die("cannot load %s: %s", spec, e.msg);
    id->circuit_hash = dlm_circuit_hash(&c);
    id->mode = mode;
    id->seed = seed;
    id->chains = 100000;
    id->nout = c.nout;
    id->hist = hist;
    dlm_circuit_free(&c);
}

static void read_one(const char *path, const dlm_batch_id *id)
{
    dlm_counts k;
    dlm_err e;
    uint64_t next = UINT64_MAX;
    e.msg[0] = 0;
    memset(&k, 0x5a, sizeof k);
    dlm_status s = dlm_checkpoint_read(path, id, &next, &k, 0, &e);
    if (s) {
        size_t n = strlen(path);
        if (s != DLM_EINPUT) fuzz_die("dlm_checkpoint_read returned status %d: %s", (int)s, e.msg);
        if (strncmp(e.msg, path, n) || e.msg[n] != ':' || e.msg[n + 1] != ' ' || !e.msg[n + 2])
            fuzz_die("dlm_checkpoint_read: message is not 'FILE: ...': '%s'", e.msg);
        if (strchr(e.msg, '\n')) fuzz_die("dlm_checkpoint_read: message of several lines: '%s'", e.msg);
        return;
    }
    if (next > id->chains)
        fuzz_die("accepted checkpoint: next %llu > chains %llu", (unsigned long long)next,
                 (unsigned long long)id->chains);
    if (k.nout != id->nout || !k.ones || !k.hist != !id->hist)
        fuzz_die("accepted checkpoint: counts of %u outputs (hist %d) for an id of %u (hist %d)",
                 k.nout, k.hist != NULL, id->nout, id->hist);
    if (k.chains != next)
        fuzz_die("accepted checkpoint: counts hold %llu chains, next is %llu",
                 (unsigned long long)k.chains, (unsigned long long)next);
    dlm_counts_free(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        make_id(&ids[0], "gen:maj:3", DLM_MODE_COT, 0, 0);
        make_id(&ids[1], "gen:mult:3", DLM_MODE_REVISE, 7, 1);
        ready = 1;
    }
    const char *path = fuzz_path(0, "", "ckpt");
    fuzz_write(path, data, size);
    read_one(path, &ids[0]);
    read_one(path, &ids[1]);
    return 0;
}
