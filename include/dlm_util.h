/* dlm_util.h — the small helpers of host/base/ that every later stage shares, each
 * defined exactly once: a seeded random stream, a hash, a clock, a count parser, a JSON
 * string writer and atomic file replacement. Together with dlmsim.h (status codes,
 * errors, memory) this is the base folder's API; nothing here calls a later folder. */
#ifndef DLM_UTIL_H
#define DLM_UTIL_H

#include "dlmsim.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* splitmix64 (Steele, Lea, Flood 2014): advances *state by the golden gamma and
 * returns the mixed value. Used wherever a fixed, seeded stream is wanted (the random
 * generators and laws, the verifier's pairs) and, on a copy of the state, as a 64-bit
 * finaliser (the checker's Zobrist keys). Pure; same stream on every platform. */
uint64_t dlm_splitmix64(uint64_t *state);

/* FNV-1a 64: offset basis and prime. */
#define DLM_FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define DLM_FNV_PRIME UINT64_C(0x100000001b3)

/* FNV-1a 64 of n bytes continued from h (start with DLM_FNV_OFFSET). */
uint64_t dlm_fnv1a(uint64_t h, const void *data, size_t n);

/* FNV-1a 64 of the 8 bytes of v, least significant first, continued from h: the same
 * on every host byte order (the regression digest, dlm_regress.h). */
uint64_t dlm_fnv1a_u64(uint64_t h, uint64_t v);

/* A cursor over text read whole: words separated by blanks and newlines (the count
 * files, dlm_tally.h). Each returns 0 on success, -1 otherwise. */
typedef struct {
    const char *p, *end;
} dlm_cursor;
/* The next word into w (n bytes with its NUL); -1 at the end or when it is longer. */
int dlm_cursor_word(dlm_cursor *c, char *w, size_t n);
/* The next word is key. */
int dlm_cursor_expect(dlm_cursor *c, const char *key);
/* The next word is a number in base 10 or 16 (digits only, below 2^64). */
int dlm_cursor_num(dlm_cursor *c, uint64_t *v, int base);
/* The next words are key and a decimal number. */
int dlm_cursor_keyed(dlm_cursor *c, const char *key, uint64_t *v);

/* The OpenMP threads a run with --threads N uses: N, or all of them when N <= 0. */
int dlm_threads_of(int threads);

/* Seconds on the monotonic clock (for durations only; never part of a sample). */
double dlm_now(void);

/* Parses a count: decimal digits, or a number like 1e6 or 2.5e3 that is an exact
 * integer below 2^64. No sign, blank, hex, inf or nan. Returns 0 on success, -1 (and
 * *v untouched) otherwise. The CLI's --chains, --seed, ... and a suite's CHAINS and
 * SEED fields all go through it. */
int dlm_parse_count(const char *s, uint64_t *v);

/* Length of the valid UTF-8 sequence that starts at p (at most n bytes): 1 to 4, or 0
 * when it is not valid UTF-8 (overlong forms, surrogates and code points above U+10FFFF
 * are invalid). The JSON and XML writers use it. */
size_t dlm_utf8_len(const unsigned char *p, size_t n);

/* Writes s as a JSON string literal: quotes, backslashes and control characters
 * escaped, valid UTF-8 copied, each byte of an invalid UTF-8 sequence written as '?',
 * so the output is always valid JSON. */
void dlm_json_str(FILE *f, const char *s);

/* Writes x as a JSON number ("%.17g", which reads back to the same double), null when
 * it is not finite. */
void dlm_json_num(FILE *f, double x);

/* How dlm_file_replace failed: the step, the temporary file's name and errno. */
typedef enum {
    DLM_REPLACE_CREATE = 1, /* the temporary file could not be created */
    DLM_REPLACE_WRITE,      /* writing, chmod or fsync of the temporary file failed */
    DLM_REPLACE_CLOSE,      /* closing it failed */
    DLM_REPLACE_RENAME,     /* renaming it over path failed */
    DLM_REPLACE_TARGET      /* path is not a regular file, a new file or a link to one
                             * (dlm_out_check); tmp holds its one-line message */
} dlm_replace_step;
typedef struct {
    dlm_replace_step step;
    int errnum;
    char tmp[4096];
} dlm_replace_fail;

/* Checks an output path before any work: a missing file in a writable directory or an
 * existing writable regular file is accepted; a symlink is followed (also a dangling
 * one) and its target checked the same way; anything else (a directory, a device, a
 * FIFO, a socket) is refused. On success the absolute target is in resolved (n bytes).
 * DLM_EINPUT with a one-line message otherwise. */
dlm_status dlm_out_check(const char *path, char *resolved, size_t n, dlm_err *err);

/* An output being written. Its bytes go to a temporary file beside the resolved target
 * (the target's name + ".tmp.XXXXXX"), which dlm_out_close renames over the target once
 * everything is written, so until then, and for ever when the work fails, whatever was
 * at the path stays as it was. "-" is stdout (tmp empty). A hard link to the old file
 * keeps the old contents. */
typedef struct {
    FILE *f;
    char path[4096]; /* the resolved target (dlm_out_check) */
    char tmp[4096];  /* the temporary file; "" for stdout */
    unsigned mode;   /* permission bits the output gets: the old file's, else 0644 */
} dlm_out;

/* Opens path for writing (binary: "wb", else "w") after dlm_out_check. DLM_OK, or
 * DLM_EIO with a one-line message (dlm_out_check's when it refuses the path). */
dlm_status dlm_out_open(dlm_out *o, const char *path, int binary, dlm_err *err);

/* Finishes an output opened by dlm_out_open: stdout is flushed; a file is flushed,
 * fsync'd, given its mode, closed and renamed over its target. 0, or -1 with errno
 * set when any step failed (the temporary file is then removed, the target untouched).
 * o->f is NULL afterwards; a second call returns 0. */
int dlm_out_close(dlm_out *o);

/* Abandons an output: closed, its temporary file removed, the target untouched (stdout
 * is flushed). Does nothing when o->f is NULL. */
void dlm_out_abort(dlm_out *o);

/* Replaces the file path with the n bytes of data atomically: they are written to a
 * temporary file beside it (path + tmp_suffix; a suffix ending in "XXXXXX" is made
 * unique by mkstemp), fsync'd, given path's permission bits (0644 when path does not
 * exist yet) and renamed over path; then the directory is fsync'd so the rename is
 * durable. Readers see the old file or the new one, never a part. path goes through
 * dlm_out_check first: a symlink stays and its target is replaced (the temporary file
 * beside the target); a non-regular file is refused (DLM_REPLACE_TARGET). Returns 0, or -1
 * with *why filled (the temporary file removed); the caller words the message. */
int dlm_file_replace(const char *path, const char *tmp_suffix, const void *data, size_t n,
                     dlm_replace_fail *why);

#ifdef __cplusplus
}
#endif
#endif
