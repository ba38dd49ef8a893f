/* dlm_regress.h — the regression runner behind `dlmsim regress SUITE`: a suite file
 * lists cases (circuit, mode, chains, seed, expected verdict, golden digest); each case
 * is verified with dlm_verify_run and its exact sampled counts are reduced to a 64-bit
 * digest that must equal the recorded one. Because chain c under seed s yields the same
 * sample on every backend, mode, thread count and chunking (dlm_step.h), the digest of
 * a case depends only on (circuit, chains, seed, injected bias): a changed digest is a
 * changed sampler. docs/regress.md documents the suite format and the digest.
 *
 * This module parses suites (errors "FILE:LINE: what"), runs cases, computes digests,
 * writes the JSON and JUnit XML reports to a caller's FILE*, and rewrites a suite's
 * digests atomically (--update). It is not: the terminal table, option parsing or exit
 * codes (host/cli/regress.c).
 */
#ifndef DLM_REGRESS_H
#define DLM_REGRESS_H

#include "dlm_util.h"
#include "dlm_verify.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DLM_REGRESS_MAX_LINE 4096      /* longest suite line accepted, bytes */
#define DLM_REGRESS_MAX_CASES 10000    /* cases per suite, at most */
#define DLM_REGRESS_FNV_OFFSET DLM_FNV_OFFSET /* FNV-1a 64 offset basis (dlm_util.h) */
#define DLM_REGRESS_FNV_PRIME DLM_FNV_PRIME   /* FNV-1a 64 prime */

// ---------------------------------------------------------------- suites

/* One case: one non-comment line of a suite. */
typedef struct {
    uint32_t line;            /* 1-based line number in the suite file */
    char *circuit;            /* owned: file path (relative to the working directory) or gen: spec */
    dlm_mode mode;
    uint64_t chains, seed;
    int expect_pass;          /* EXPECT field: 1 pass, 0 fail */
    int have_digest;          /* 0 when the DIGEST field is "-" (not yet recorded) */
    uint64_t digest;
    int inject;               /* optional bias=K:EPS field */
    uint32_t inject_coin;
    double inject_eps;
    dlm_target_want target;   /* optional target=auto|exact|reference field */
    size_t digest_off, digest_len; /* byte span of the DIGEST field in the suite text */
} dlm_regress_case;

/* A parsed suite; owns its text (kept to rewrite digests in place) and its cases. */
typedef struct {
    char *path;               /* owned copy of the file name (for messages and rewriting) */
    char *text;               /* the file's bytes, NUL-terminated */
    size_t len;
    size_t ncases;
    dlm_regress_case *cases;
} dlm_regress_suite;

/* Parses a suite from text[0..len) (path names it in messages). Format (docs/regress.md):
 * one case per line, whitespace-separated fields
 *     CIRCUIT MODE CHAINS SEED EXPECT DIGEST [bias=K:EPS] [target=auto|exact|reference]
 * MODE cot|remask|revise|ar, CHAINS >= 1, SEED an unsigned 64-bit integer, EXPECT
 * pass|fail, DIGEST 16 hex digits or "-"; '#' starts a comment (to the end of the line),
 * blank lines are ignored. Errors: DLM_EINPUT "PATH:LINE: what" for the first bad line
 * (also for a suite with no cases), DLM_ENOMEM. On success s owns copies of path and
 * text; on error s is left empty (safe to free). Cost O(len). */
dlm_status dlm_regress_parse(const char *path, const char *text, size_t len, dlm_regress_suite *s,
                             dlm_err *err);
/* Reads the file path (at most 64 MiB and dlm_memory_budget(max_bytes)) and parses it
 * (DLM_EIO "PATH: why" when it cannot be read). */
dlm_status dlm_regress_load(const char *path, dlm_regress_suite *s, uint64_t max_bytes, dlm_err *err);
void dlm_regress_suite_free(dlm_regress_suite *s);

// ---------------------------------------------------------------- the digest

/* FNV-1a 64 (offset basis 0xcbf29ce484222325, prime 0x100000001b3, per byte:
 * h ^= byte; h *= prime) over the canonical byte string of the exact counts: each of
 * the following 64-bit values written as 8 bytes little-endian, in this order:
 *     nout, chains, odd_parity, ones[0], ..., ones[nout-1],
 *     and, when nout <= DLM_HIST_MAX_BITS, hist[0], ..., hist[2^nout - 1]
 * (hist index bit k = output k; dlm_verify_run always counts the histogram when
 * nout <= 24, a NULL hist is omitted). Token bytes and other facts of the run are not
 * part of it. Cost O(nout + 2^nout): 128 MiB of counts hashed for 24 outputs. */
uint64_t dlm_regress_digest(const dlm_counts *k);
/* Formats a digest as 16 lowercase hex digits plus NUL into buf[17]. */
void dlm_regress_digest_format(uint64_t d, char buf[17]);
/* Parses exactly 16 hex digits (either case); returns 0 on success. */
int dlm_regress_digest_parse(const char *s, size_t n, uint64_t *d);

// ---------------------------------------------------------------- running cases

typedef struct {
    dlm_backend backend;      /* default AUTO */
    const char *jit_dir;      /* NULL, or where JIT cubins are kept (dlm_jit_cache_keep_in) */
    int threads;              /* CPU threads, 0 = all cores */
    double alpha;             /* default 1e-3 */
    int update;               /* --update: a differing digest does not fail the case
                                 (it is about to be rewritten); it is still reported */
    uint64_t max_bytes;       /* each case's memory budget, dlm_memory_budget(max_bytes) */
} dlm_regress_opts;

void dlm_regress_opts_default(dlm_regress_opts *o);

typedef enum {
    DLM_REGRESS_PASS = 0,     /* verdict == EXPECT and (if recorded) digest matches */
    DLM_REGRESS_FAIL,         /* the verdict or the digest differs */
    DLM_REGRESS_ERROR         /* the case could not run (unreadable circuit, bad bias, ...) */
} dlm_regress_outcome;

typedef struct {
    dlm_regress_outcome outcome;
    dlm_status status;        /* DLM_OK when the checks ran, else why not (outcome ERROR) */
    int verdict_pass;         /* the verifier's verdict (valid when status == DLM_OK) */
    int have_digest;          /* the digest was computed */
    uint64_t digest;
    int verdict_ok, digest_ok;/* verdict == EXPECT; digest recorded and equal (or not recorded) */
    dlm_backend backend;      /* resolved backend */
    char notice[256];         /* the backend notice (e.g. no CUDA device), or empty */
    uint32_t nout, ncoins;
    dlm_target_kind target_kind;
    double seconds;           /* wall-clock: load, levelize, target, sampling, tests */
    char reason[640];         /* why it failed or errored; empty when it passed */
} dlm_regress_result;

/* The verifier's options of case c under the run's options o (mode, chains, seed,
 * alpha, target, backend, threads, bias): what dlm_regress_run_case verifies with. */
void dlm_regress_case_opts(const dlm_regress_case *c, const dlm_regress_opts *o, dlm_verify_opts *vo);

/* Runs case c: loads and levelizes the circuit, dlm_verify_run with the case's mode,
 * chains, seed, bias and target and o's backend, threads and alpha, then digests the
 * counts. Always fills r (an error becomes outcome ERROR with the library's message,
 * prefixed "SUITE:LINE: ", in r->reason) and returns r->status. Cost: one verify run. */
dlm_status dlm_regress_run_case(const dlm_regress_suite *s, const dlm_regress_case *c,
                                const dlm_regress_opts *o, dlm_regress_result *r);

/* The JUnit test name of case i: "CIRCUIT MODE", then " bias=K:EPS" / " target=T" when
 * those fields are set, then " seed=S chains=B" when another case of the suite has the
 * same name so far (names are unique and stable under edits elsewhere in the file). */
void dlm_regress_case_name(const dlm_regress_suite *s, size_t i, char *buf, size_t cap);

// ---------------------------------------------------------------- reports

typedef struct {
    size_t cases, passed, failed, errors;
    double seconds;
} dlm_regress_totals;

/* Adds up outcomes and seconds of res[0..s->ncases). */
void dlm_regress_totals_of(const dlm_regress_suite *s, const dlm_regress_result *res,
                           dlm_regress_totals *t);

/* One JSON object on one line (docs/regress.md): suite, backend, alpha, update,
 * cases[] and totals. updated < 0 writes "updated":null. Returns DLM_EIO if f failed. */
dlm_status dlm_regress_write_json(FILE *f, const dlm_regress_suite *s, const dlm_regress_result *res,
                                  const dlm_regress_opts *o, long updated, dlm_err *err);

/* JUnit XML: <testsuites> holding one <testsuite name=SUITE tests failures errors
 * skipped time> with one <testcase classname="dlmsim.regress" name=... time=...> per
 * case and a <failure message=...> or <error message=...> child when it did not pass.
 * Text is XML-escaped (& < > " '), control characters and invalid UTF-8 become '?'. */
dlm_status dlm_regress_write_junit(FILE *f, const dlm_regress_suite *s, const dlm_regress_result *res,
                                   dlm_err *err);

/* --update: rewrites s->path with the DIGEST field of every case whose verdict matched
 * EXPECT (res[i].status == DLM_OK && res[i].verdict_ok) replaced by its new digest;
 * every other byte (comments, spacing, other fields) is kept. Writes a temporary file
 * beside it (same mode), fsyncs, renames it over the suite and fsyncs the directory,
 * so a crash leaves the old or the new file, never a mix. *changed = digests whose text
 * changed; the file is not touched when none did. s->text and the DIGEST spans are
 * updated to the new file; the cases keep the digests they were read with (so reports
 * written afterwards show what was recorded before). Errors: DLM_EIO "PATH: why",
 * DLM_ENOMEM (the suite file is then unchanged). */
dlm_status dlm_regress_update(dlm_regress_suite *s, const dlm_regress_result *res, size_t *changed,
                              dlm_err *err);

#ifdef __cplusplus
}
#endif
#endif
