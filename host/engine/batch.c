/* batch.c — long batches (dlm_batch.h): chunked runs, progress, stop flag, and
 * atomic checkpoints that a killed run resumes from exactly. */
#include "dlm_batch.h"
#include "dlm_util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

// ---------------------------------------------------------------------------
// Circuit hash

uint64_t dlm_circuit_hash(const dlm_circuit *c)
{
    uint64_t h = DLM_FNV_OFFSET;
    h = dlm_fnv1a(h, &c->nnodes, sizeof c->nnodes);
    for (uint32_t n = 0; n < c->nnodes; n++) {
        const dlm_gate *g = &c->g[n];
        unsigned char head[3] = {g->type, g->nin, g->out_neg};
        h = dlm_fnv1a(h, head, sizeof head);
        h = dlm_fnv1a(h, g->in, g->nin * sizeof *g->in);
        h = dlm_fnv1a(h, &g->tt, sizeof g->tt);
    }
    h = dlm_fnv1a(h, &c->nout, sizeof c->nout);
    h = dlm_fnv1a(h, c->out, c->nout * sizeof *c->out);
    for (uint32_t k = 0; k < c->ncoins; k++) {
        uint64_t thr = c->coin_thr ? c->coin_thr[k] : DLM_COIN_FAIR;
        h = dlm_fnv1a(h, &thr, sizeof thr);
    }
    return h;
}

// ---------------------------------------------------------------------------
// Checkpoint files: text, one "key value" per line, then the counts.
//
//   dlmsim-checkpoint 1
//   program dlmsim 0.1.0
//   circuit_hash 0123456789abcdef
//   mode revise
//   seed 0
//   chains 1000000000
//   nout 64
//   hist 0
//   next 123456789
//   counted 123456789
//   odd_parity 0
//   ones v0 v1 ... (nout numbers)
//   cells N          (hist 1 only: N lines "index count" for nonzero cells)
//   end

dlm_status dlm_checkpoint_write(const char *path, const dlm_batch_id *id, uint64_t next,
                                const dlm_counts *k, dlm_err *err)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return dlm_fail(err, DLM_ENOMEM, "out of memory");
    fprintf(f, "dlmsim-checkpoint %d\nprogram dlmsim %s\ncircuit_hash %016" PRIx64 "\n",
            DLM_CHECKPOINT_VERSION, DLMSIM_VERSION, id->circuit_hash);
    fprintf(f, "mode %s\nseed %" PRIu64 "\nchains %" PRIu64 "\nnout %u\nhist %d\n",
            dlm_mode_name(id->mode), id->seed, id->chains, id->nout, id->hist);
    fprintf(f, "next %" PRIu64 "\ncounted %" PRIu64 "\nodd_parity %" PRIu64 "\nones", next,
            k->chains, k->odd_parity);
    for (uint32_t j = 0; j < k->nout; j++) fprintf(f, " %" PRIu64, k->ones[j]);
    fputc('\n', f);
    if (id->hist) {
        uint64_t cells = 0, size = UINT64_C(1) << k->nout;
        for (uint64_t i = 0; i < size; i++) cells += k->hist[i] != 0;
        fprintf(f, "cells %" PRIu64 "\n", cells);
        for (uint64_t i = 0; i < size; i++)
            if (k->hist[i]) fprintf(f, "%" PRIu64 " %" PRIu64 "\n", i, k->hist[i]);
    }
    fputs("end\n", f);
    if (fclose(f)) {
        free(text);
        return dlm_fail(err, DLM_ENOMEM, "out of memory");
    }
    /* path.tmp, fsync'd, renamed over path, the directory fsync'd (dlm_util.h) */
    dlm_replace_fail why;
    int bad = dlm_file_replace(path, ".tmp", text, len, &why);
    free(text);
    if (!bad) return DLM_OK;
    if (why.step == DLM_REPLACE_TARGET) return dlm_fail(err, DLM_EINPUT, "%s", why.tmp);
    if (why.step == DLM_REPLACE_CREATE) return dlm_fail(err, DLM_EIO, "%s: %s", why.tmp, strerror(why.errnum));
    return dlm_fail(err, DLM_EIO, "%s: writing the checkpoint failed: %s", path, strerror(why.errnum));
}

dlm_status dlm_checkpoint_read(const char *path, const dlm_batch_id *id, uint64_t *next,
                               dlm_counts *k, uint64_t max_bytes, dlm_err *err)
{
    memset(k, 0, sizeof *k);
    /* read within the memory budget (devices refused), then parsed from memory */
    char *text;
    size_t tlen;
    dlm_status rs = dlm_read_file_max(path, dlm_memory_budget(max_bytes), &text, &tlen, err);
    if (rs) return rs == DLM_EIO ? DLM_EINPUT : rs;
    FILE *f = tlen ? fmemopen(text, tlen, "r") : NULL;
    if (!f) {
        free(text);
        return dlm_fail(err, DLM_EINPUT, "%s: not a dlmsim checkpoint (or truncated header)", path);
    }
    int ver = 0, hist = -1;
    char prog[64] = "", mode[32] = "";
    uint64_t hash = 0, seed = 0, chains = 0, nx = 0, counted = 0, odd = 0;
    unsigned nout = 0;
    dlm_status s = DLM_OK;
    if (fscanf(f, "dlmsim-checkpoint %d program dlmsim %63s circuit_hash %" SCNx64 " mode %31s "
                  "seed %" SCNu64 " chains %" SCNu64 " nout %u hist %d next %" SCNu64
                  " counted %" SCNu64 " odd_parity %" SCNu64 " ones",
               &ver, prog, &hash, mode, &seed, &chains, &nout, &hist, &nx, &counted, &odd) != 11) {
        s = dlm_fail(err, DLM_EINPUT, "%s: not a dlmsim checkpoint (or truncated header)", path);
        goto out;
    }
    const char *what = NULL;
    if (ver != DLM_CHECKPOINT_VERSION || strcmp(prog, DLMSIM_VERSION)) what = "program version";
    else if (hash != id->circuit_hash) what = "circuit";
    else if (strcmp(mode, dlm_mode_name(id->mode))) what = "mode";
    else if (seed != id->seed) what = "seed";
    else if (chains != id->chains) what = "number of chains";
    else if (nout != id->nout || hist != id->hist) what = "outputs or histogram setting";
    if (what) {
        s = dlm_fail(err, DLM_EINPUT, "%s: the checkpoint was written with a different %s; "
                     "refusing to resume", path, what);
        goto out;
    }
    if (nx > chains || counted != nx) {
        s = dlm_fail(err, DLM_EINPUT, "%s: inconsistent checkpoint (next %" PRIu64 ", counted %"
                     PRIu64 ", chains %" PRIu64 ")", path, nx, counted, chains);
        goto out;
    }
    if ((s = dlm_counts_init(k, nout, hist, err))) goto out;
    k->chains = counted;
    k->odd_parity = odd;
    if (odd > counted)
        s = dlm_fail(err, DLM_EINPUT, "%s: inconsistent checkpoint (odd_parity over counted)", path);
    for (uint32_t j = 0; j < nout && !s; j++) {
        if (fscanf(f, "%" SCNu64, &k->ones[j]) != 1)
            s = dlm_fail(err, DLM_EINPUT, "%s: truncated checkpoint (ones)", path);
        else if (k->ones[j] > counted)
            s = dlm_fail(err, DLM_EINPUT, "%s: inconsistent checkpoint (ones of output %u over counted)", path, j);
    }
    if (!s && hist) {
        uint64_t cells, i, v, sum = 0;
        if (fscanf(f, " cells %" SCNu64, &cells) != 1 || cells > (UINT64_C(1) << nout))
            s = dlm_fail(err, DLM_EINPUT, "%s: truncated checkpoint (cells)", path);
        for (uint64_t q = 0; !s && q < cells; q++) {
            if (fscanf(f, "%" SCNu64 " %" SCNu64, &i, &v) != 2 || i >> nout || k->hist[i] || v == 0 ||
                v > counted - sum)
                s = dlm_fail(err, DLM_EINPUT, "%s: bad histogram cell in checkpoint (out of range, "
                             "zero, repeated, or over the count)", path);
            else {
                k->hist[i] = v;
                sum += v;
            }
        }
        if (!s && sum != counted)
            s = dlm_fail(err, DLM_EINPUT, "%s: inconsistent checkpoint (histogram holds %" PRIu64
                         " chains, counted %" PRIu64 ")", path, sum, counted);
    }
    char endw[8] = "";
    if (!s && (fscanf(f, "%7s", endw) != 1 || strcmp(endw, "end")))
        s = dlm_fail(err, DLM_EINPUT, "%s: truncated checkpoint (no end line)", path);
    char extra;
    if (!s && fscanf(f, " %c", &extra) == 1)
        s = dlm_fail(err, DLM_EINPUT, "%s: text after the end line of the checkpoint", path);
    if (!s) *next = nx;
out:
    fclose(f);
    free(text);
    if (s) dlm_counts_free(k);
    return s;
}

// ---------------------------------------------------------------------------
// The batch loop

dlm_status dlm_batch_run(const dlm_program *p, const dlm_batch_id *id, const dlm_batch_opts *o,
                         uint64_t *next, dlm_counts *counts, int *stopped, dlm_err *err)
{
    double target = o->chunk_seconds > 0 ? o->chunk_seconds : 0.5;
    double every = o->checkpoint_every > 0 ? o->checkpoint_every : 60;
    uint64_t chunk = o->first_chunk ? o->first_chunk : 4096;
    /* With a sample sink a call holds chunk * sb bytes of samples; without one it holds
     * nothing per chain, and only the time per call (target) bounds it: the GPU engines
     * need calls of 10^9 chains and more to amortise their set-up (allocations, copies,
     * launches: about a millisecond a call). */
    size_t sb = ((size_t)id->nout + 7) / 8;
    uint64_t max_chunk = UINT64_C(1) << 36;
    if (o->sink) { /* at most 2^26 chains and 64 MiB of samples a call */
        max_chunk = (UINT64_C(64) << 20) / (sb ? sb : 1);
        if (max_chunk > (UINT64_C(1) << 26)) max_chunk = UINT64_C(1) << 26;
        if (max_chunk < 64) max_chunk = 64;
    }
    if (o->sink && chunk > max_chunk) chunk = max_chunk;
    uint8_t *buf = NULL;
    uint64_t bufn = 0;
    double t0 = dlm_now(), last_ckpt = t0;
    *stopped = 0;
    dlm_status s = DLM_OK;
    /* The bit-sliced engines' slot plan, made once for all calls (O(program ops)). */
    dlm_slot_plan plan;
    memset(&plan, 0, sizeof plan);
    const int planned = !o->direct && dlm_backend_uses_plan(o->backend);
    if (planned && !o->plan) s = dlm_slot_plan_build(p, &plan, err);
    const dlm_slot_plan *sp = !planned ? NULL : o->plan ? o->plan : &plan;
    dlm_bits_plan *own_bits = NULL; /* the CPU engine's plan, likewise once */
    if (!s && sp && o->backend == DLM_BACKEND_CPU && !o->bits)
        s = dlm_bits_plan_build(p, sp, &own_bits, err);
    /* the CUDA kernel, chosen once for the whole batch; its JIT kernels kept for every call */
    const dlm_cuda_kernel kern = o->backend == DLM_BACKEND_CUDA && sp && !s
        ? dlm_cuda_kernel_resolve(o->cuda_kernel, sp, p->nout, id->chains - *next) : o->cuda_kernel;
    dlm_jit_cache *own_jit = NULL;
    if (!s && kern == DLM_CUDA_KERNEL_JIT && !o->jit) s = dlm_jit_cache_new(&own_jit, err);
    while (*next < id->chains && !s) {
        if (o->stop && *o->stop) {
            *stopped = 1;
            break;
        }
        dlm_run_opts ro;
        memset(&ro, 0, sizeof ro);
        ro.first_chain = *next;
        ro.chains = id->chains - *next < chunk ? id->chains - *next : chunk;
        ro.seed = id->seed;
        ro.want_hist = id->hist;
        ro.threads = o->threads;
        ro.plan = sp;
        ro.bits = o->bits ? o->bits : own_bits;
        ro.cuda_kernel = kern;
        ro.jit = o->jit ? o->jit : own_jit;
        if (o->sink) {
            if (ro.chains > bufn) {
                free(buf);
                bufn = ro.chains;
                if (!(buf = dlm_malloc(bufn, sb ? sb : 1))) {
                    s = dlm_fail(err, DLM_ENOMEM, "out of memory for %llu samples",
                                 (unsigned long long)bufn);
                    break;
                }
            }
            ro.samples = buf;
        }
        double c0 = dlm_now();
        s = o->direct ? dlm_eval_run(o->direct, &ro, counts, err)
                      : dlm_engine_run(o->backend, p, &ro, counts, err);
        if (!s && o->sink) s = o->sink(o->sink_ctx, ro.first_chain, buf, ro.chains, err);
        if (s) break;
        double dt = dlm_now() - c0;
        *next += ro.chains;
        /* Adapt the chunk so that one takes about `target` seconds. */
        if (dt < target / 4 && chunk < max_chunk) chunk *= 4;
        else if (dt < target / 1.5 && chunk < max_chunk) chunk *= 2;
        else if (dt > target * 2 && chunk > 64) chunk /= 2;
        if (o->progress) o->progress(o->progress_ctx, *next, id->chains, dlm_now() - t0);
        if (o->checkpoint && dlm_now() - last_ckpt >= every) {
            s = dlm_checkpoint_write(o->checkpoint, id, *next, counts, err);
            last_ckpt = dlm_now();
        }
    }
    free(buf);
    dlm_jit_cache_free(own_jit);
    dlm_bits_plan_free(own_bits);
    dlm_slot_plan_free(&plan);
    if (!s && o->checkpoint) s = dlm_checkpoint_write(o->checkpoint, id, *next, counts, err);
    return s;
}
