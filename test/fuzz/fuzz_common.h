/* fuzz_common.h — what the three libFuzzer harnesses (fuzz_aiger.c, fuzz_blif.c,
 * fuzz_gen.c) share: a per-process scratch file, and the checks run on every circuit
 * a reader or generator accepts.
 *
 * The readers take a path, so each input is written to /tmp/dlmsim-fuzz-PID.EXT (one
 * path per process and extension, reused for every input) and read back from there.
 * A circuit that is accepted must then:
 *   - levelize (dlm_levelize);
 *   - when small (< FUZZ_SMALL nodes), compile in every mode and pass the program
 *     checker (dlm_compile, dlm_program_check);
 *   - round-trip through each writer (.aag, .aig, .blif): the written file must read
 *     back, with the same numbers of coins and outputs and the same output values
 *     on a few coin assignments (a scalar evaluator over dlm_gate_truth_table).
 * Anything else is a bug: the harness prints what failed and calls abort(), which
 * libFuzzer reports as a crash and saves as a reproducer.
 *
 * Not a test of its own: header-only (static functions), included by the harnesses,
 * which are built by `make fuzz` (docs/fuzzing.md) with
 *   clang -fsanitize=fuzzer,address,undefined.
 */
#ifndef DLM_FUZZ_COMMON_H
#define DLM_FUZZ_COMMON_H

#include "dlm_circuit.h"
#include "dlm_io.h"
#include "dlm_level.h"
#include "dlm_program.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef FUZZ_SMALL
#define FUZZ_SMALL 500u /* compile + check every mode below this many nodes */
#endif
#define FUZZ_EVAL_MAX 200000u /* evaluate round trips below this many nodes */
#define FUZZ_ASSIGNMENTS 8    /* coin assignments compared per round trip */

// ---- failing loudly ------------------------------------------------------------------

/* Prints the failure and aborts: libFuzzer saves the input as crash-<sha1>. */
__attribute__((noreturn, format(printf, 1, 2)))
static inline void fuzz_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("dlmsim-fuzz: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

// ---- scratch files -------------------------------------------------------------------

/* "/tmp/dlmsim-fuzz-PID<tag>.<ext>"; static storage, one buffer per call site slot. */
static inline const char *fuzz_path(int slot, const char *tag, const char *ext)
{
    static char paths[8][96];
    char *p = paths[slot & 7];
    snprintf(p, sizeof paths[0], "/tmp/dlmsim-fuzz-%ld%s.%s", (long)getpid(), tag, ext);
    return p;
}

/* Removes path if it exists. Writing over an existing file truncates it, and ext4
 * (auto_da_alloc) then flushes it to disk on close: measured, that left the fuzzers
 * waiting on the disk (state D) for most of their time. A fresh file is not flushed. */
static inline void fuzz_fresh(const char *path)
{
    unlink(path);
}

/* Writes data[0..size) to a fresh file at path; aborts if that fails. */
static inline void fuzz_write(const char *path, const uint8_t *data, size_t size)
{
    fuzz_fresh(path);
    FILE *f = fopen(path, "wb");
    if (!f) fuzz_die("cannot create %s", path);
    if (size && fwrite(data, 1, size, f) != size) fuzz_die("cannot write %s", path);
    if (fclose(f)) fuzz_die("cannot write %s", path);
}

// ---- a scalar evaluator (the round-trip oracle) -------------------------------------

/* Value of coin k under assignment number a: a fixed mix of (a, k), so circuits with
 * more than 64 coins get varied assignments too. Assignment 0 is all zeros, 1 all ones. */
static inline unsigned fuzz_coin_bit(unsigned a, uint32_t k)
{
    if (a < 2) return a;
    uint64_t z = ((uint64_t)a << 32 | k) * UINT64_C(0x9E3779B97F4A7C15);
    z ^= z >> 31;
    z *= UINT64_C(0xBF58476D1CE4E5B9);
    z ^= z >> 29;
    return (unsigned)(z & 1u);
}

/* Truth table of every gate of c (0 for coins and node 0), computed once per circuit;
 * aborts if a gate reads a node that is not before it. Caller frees. */
static inline uint64_t *fuzz_tables(const dlm_circuit *c)
{
    uint64_t *tt = calloc(c->nnodes, sizeof *tt);
    if (!tt) fuzz_die("out of memory");
    for (uint32_t i = 1; i < c->nnodes; i++) {
        const dlm_gate *g = &c->g[i];
        if (g->type == DLM_G_COIN) continue;
        for (unsigned j = 0; j < g->nin; j++)
            if (DLM_LIT_NODE(g->in[j]) >= i)
                fuzz_die("%s: gate %u reads node %u (not topological)", c->source, i,
                         DLM_LIT_NODE(g->in[j]));
        tt[i] = dlm_gate_truth_table(g);
    }
    return tt;
}

/* Output bits of c under assignment a into out[0..nout). val: nnodes bytes scratch. */
static inline void fuzz_eval(const dlm_circuit *c, const uint64_t *tt, unsigned a, uint8_t *val,
                             uint8_t *out)
{
    memset(val, 0, c->nnodes);
    for (uint32_t k = 0; k < c->ncoins; k++) val[c->coins[k]] = (uint8_t)fuzz_coin_bit(a, k);
    for (uint32_t i = 1; i < c->nnodes; i++) {
        const dlm_gate *g = &c->g[i];
        if (g->type == DLM_G_COIN) continue;
        unsigned idx = 0;
        for (unsigned j = 0; j < g->nin; j++) idx |= (unsigned)val[DLM_LIT_NODE(g->in[j])] << j;
        val[i] = (uint8_t)((tt[i] >> idx) & 1u);
    }
    for (uint32_t k = 0; k < c->nout; k++) {
        uint32_t n = DLM_LIT_NODE(c->out[k]);
        if (n >= c->nnodes) fuzz_die("%s: output %u reads node %u of %u", c->source, k, n, c->nnodes);
        out[k] = val[n] ^ (uint8_t)DLM_LIT_NEG(c->out[k]);
    }
}

/* Aborts unless a and b have the same coins/outputs and agree on the assignments. */
static inline void fuzz_same(const dlm_circuit *a, const dlm_circuit *b, const char *what)
{
    if (a->ncoins != b->ncoins || a->nout != b->nout)
        fuzz_die("%s round trip: %u coins, %u outputs became %u coins, %u outputs", what,
                 a->ncoins, a->nout, b->ncoins, b->nout);
    if (a->nnodes > FUZZ_EVAL_MAX || b->nnodes > FUZZ_EVAL_MAX) return;
    uint8_t *va = malloc(a->nnodes), *vb = malloc(b->nnodes);
    uint8_t *oa = malloc(a->nout + 1u), *ob = malloc(b->nout + 1u);
    uint64_t *ta = fuzz_tables(a), *tb = fuzz_tables(b);
    if (!va || !vb || !oa || !ob) fuzz_die("out of memory");
    for (unsigned x = 0; x < FUZZ_ASSIGNMENTS; x++) {
        fuzz_eval(a, ta, x, va, oa);
        fuzz_eval(b, tb, x, vb, ob);
        for (uint32_t k = 0; k < a->nout; k++)
            if (oa[k] != ob[k])
                fuzz_die("%s round trip: output %u differs under assignment %u (%u vs %u)",
                         what, k, x, oa[k], ob[k]);
    }
    free(va);
    free(vb);
    free(oa);
    free(ob);
    free(ta);
    free(tb);
}

// ---- the checks on an accepted circuit ----------------------------------------------

/* Writes c with one writer (fmt 0 aag, 1 aig, 2 blif), reads it back, compares. */
static inline void fuzz_round_trip(const dlm_circuit *c, int fmt)
{
    static const char *const ext[3] = {"aag", "aig", "blif"};
    const char *path = fuzz_path(4 + fmt, "-rt", ext[fmt]);
    dlm_err e;
    fuzz_fresh(path);
    dlm_status s = fmt == 2 ? dlm_blif_write(c, path, &e) : dlm_aiger_write(c, path, fmt, &e);
    if (s) fuzz_die("writing %s failed (status %d): %s", ext[fmt], (int)s, e.msg);
    dlm_circuit d;
    s = fmt == 2 ? dlm_blif_read(&d, path, 0, &e) : dlm_aiger_read(&d, path, 0, &e);
    if (s) fuzz_die("reading back the %s we wrote failed (status %d): %s", ext[fmt], (int)s, e.msg);
    fuzz_same(c, &d, ext[fmt]);
    dlm_circuit_free(&d);
}

/* Everything a circuit that was accepted must survive. */
static inline void fuzz_check_circuit(const dlm_circuit *c)
{
    dlm_err e;
    dlm_levels lv;
    memset(&lv, 0, sizeof lv);
    dlm_status s = dlm_levelize(c, &lv, &e);
    if (s) fuzz_die("dlm_levelize failed (status %d): %s", (int)s, e.msg);
    if (c->nnodes < FUZZ_SMALL) {
        for (int m = 0; m < DLM_NMODES; m++) {
            dlm_program p;
            memset(&p, 0, sizeof p);
            s = dlm_compile(c, &lv, (dlm_mode)m, &p, &e);
            if (s) fuzz_die("dlm_compile(%s) failed (status %d): %s", dlm_mode_name((dlm_mode)m),
                            (int)s, e.msg);
            s = dlm_program_check(&p, &lv, &e);
            if (s) fuzz_die("dlm_program_check(%s) failed (status %d): %s",
                            dlm_mode_name((dlm_mode)m), (int)s, e.msg);
            dlm_program_free(&p);
        }
    }
    dlm_levels_free(&lv);
    for (int fmt = 0; fmt < 3; fmt++) fuzz_round_trip(c, fmt);
}

#endif
