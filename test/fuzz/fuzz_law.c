/* fuzz_law.c — libFuzzer harness for law files: the input is written to
 * /tmp/dlmsim-fuzz-PID.law (fuzz_common.h: one file per process, removed and created
 * again for every input) and loaded twice, as dlm_law_load("table:" + path) and as
 * dlm_law_load("markov:" + path) (table files, and markov/hmm files; docs/oracle.md).
 *
 * Sizes are kept small, like fuzz_gen.c's caps: the loader accepts V^L up to 2^24 and
 * L up to 4096, which is slow per run without finding more. The harness reads the
 * header itself (the first line that is not blank or a comment: `table L V`,
 * `markov L V` or `hmm L S V`) and refuses (returns 0 without calling the library) an
 * input in which L, S or V is in (64, 4096], or, for a table with L, V <= 64, V^L is in
 * (2^16, 2^24]. Values above the documented limits are passed on, so the loader's
 * refusals of them are exercised (and must be quick).
 *
 * A refusal must be DLM_EINPUT with a one-line message that starts with the path, and
 * leave the law empty (dlm_law.h). An accepted law is checked:
 *   - kind TABLE for table:, HMM for markov: (emit == NULL exactly for `markov`, and
 *     then S == V); 1 <= L <= 4096, 2 <= V <= 4096, 1 <= S <= 4096, V^L <= 2^24;
 *   - TABLE: every p finite and >= 0, summing to 1 within 1e-9;
 *   - HMM: start and every emission row finite, >= 0, summing to 1 within 1e-9; the
 *     CSR transitions well formed (rowptr[0] = 0, non-decreasing, every state with an
 *     entry, columns < S, values finite and >= 0, each row summing to 1 within 1e-9);
 *     teleport in [0, 1);
 *   - the alphabet is "" or V printable characters; desc is one non-empty line;
 *   - two exact samples (dlm_law_sample, chains 0 and 1) have tokens < V and a finite
 *     log-probability (dlm_law_logp): a sampled sequence has positive probability.
 * Then dlm_law_free. Anything else, a sanitizer report or a leak, is a bug: abort().
 *
 * Build and run: make fuzz (docs/fuzzing.md); by hand:
 *   build/fuzz/fuzz_law -max_total_time=60 build/fuzz/corpus/law test/fuzz/corpus/law
 */
#include "fuzz_common.h"

#include "dlm_law.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define LAW_CAP 64u                     /* L, S, V above this (and <= 4096): skipped */
#define LAW_TABLE_CAP (UINT64_C(1) << 16) /* V^L above this (and <= 2^24): skipped */
#define LAW_TOL 1e-9

static int law_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Saturating decimal value of a field of digits; UINT64_MAX when not all digits. */
static uint64_t law_num(const char *f, size_t n)
{
    uint64_t x = 0;
    if (!n) return UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        if (f[i] < '0' || f[i] > '9') return UINT64_MAX;
        x = x > UINT64_MAX / 16 ? UINT64_MAX : x * 10 + (uint64_t)(f[i] - '0');
    }
    return x;
}

static int over_cap(uint64_t v)
{
    return v > LAW_CAP && v <= DLM_LAW_MAX_L; /* DLM_LAW_MAX_L == DLM_LAW_MAX_V */
}

/* 1 if the header of text[0..n) (NUL-free) asks for a law too large for fuzzing;
 * *hmm = 1 when the header's keyword is `hmm`. */
static int too_big(const char *text, size_t n, int *hmm)
{
    size_t pos = 0;
    while (pos < n) {
        const char *l = text + pos, *nl = memchr(l, '\n', n - pos);
        size_t len = nl ? (size_t)(nl - l) : n - pos;
        pos += len + 1;
        size_t i = 0;
        while (i < len && law_ws(l[i])) i++;
        if (!(len - i >= 8 && !memcmp(l + i, "alphabet", 8))) {
            const char *h = memchr(l, '#', len);
            if (h) len = (size_t)(h - l);
        }
        if (i >= len) continue;
        /* the header: up to 4 fields */
        const char *f[5];
        size_t fl[5];
        int nf = 0;
        while (i < len && nf < 5) {
            while (i < len && law_ws(l[i])) i++;
            if (i >= len) break;
            f[nf] = l + i;
            while (i < len && !law_ws(l[i])) i++;
            fl[nf] = (size_t)(l + i - f[nf]);
            nf++;
        }
        uint64_t a[3] = {0, 0, 0};
        for (int k = 1; k < nf && k < 4; k++) a[k - 1] = law_num(f[k], fl[k]);
        *hmm = fl[0] == 3 && !memcmp(f[0], "hmm", 3);
        if (*hmm) return over_cap(a[0]) || over_cap(a[1]) || over_cap(a[2]);
        if (over_cap(a[0]) || over_cap(a[1])) return 1;
        if (fl[0] == 5 && !memcmp(f[0], "table", 5) && a[0] >= 1 && a[0] <= LAW_CAP && a[1] >= 2 &&
            a[1] <= LAW_CAP) {
            uint64_t N = 1;
            for (uint64_t k = 0; k < a[0] && N <= DLM_LAW_TABLE_MAX; k++) N *= a[1];
            return N > LAW_TABLE_CAP && N <= DLM_LAW_TABLE_MAX;
        }
        return 0;
    }
    return 0;
}

/* Aborts unless p[0..n) is finite, >= 0 and sums to 1 within LAW_TOL. */
static void law_stochastic(const double *p, uint64_t n, const char *what, uint64_t which)
{
    double z = 0.0;
    for (uint64_t i = 0; i < n; i++) {
        if (!isfinite(p[i]) || p[i] < 0) fuzz_die("%s %llu: entry %llu is %g", what,
                                                  (unsigned long long)which, (unsigned long long)i, p[i]);
        z += p[i];
    }
    if (!(fabs(z - 1.0) <= LAW_TOL))
        fuzz_die("%s %llu: sums to %.17g", what, (unsigned long long)which, z);
}

static void law_check(const dlm_law *law, int table, int markov)
{
    const dlm_law_view *w = &law->v;
    if (w->L < 1 || w->L > DLM_LAW_MAX_L || w->V < 2 || w->V > DLM_LAW_MAX_V)
        fuzz_die("accepted law has L = %u, V = %u", w->L, w->V);
    if (table) {
        uint64_t N = 1;
        for (uint32_t i = 0; i < w->L; i++) {
            N *= w->V;
            if (N > DLM_LAW_TABLE_MAX) fuzz_die("accepted table has V^L = %u^%u > 2^24", w->V, w->L);
        }
        if (w->kind != DLM_LAW_TABLE || !w->p || w->p != law->p || w->start || w->emit || w->rowptr)
            fuzz_die("table: kind %d, or the wrong arrays set", w->kind);
        law_stochastic(w->p, N, "table", 0);
    } else {
        const uint32_t S = w->S;
        if (w->kind != DLM_LAW_HMM || !w->start || !w->rowptr || !w->col || !w->val || w->p)
            fuzz_die("markov: kind %d, or the wrong arrays set", w->kind);
        if (S < 1 || S > DLM_LAW_MAX_V) fuzz_die("markov: S = %u", S);
        if (markov ? (w->emit || S != w->V) : !w->emit)
            fuzz_die("%s file: emit %s, S = %u, V = %u", markov ? "markov" : "hmm",
                     w->emit ? "set" : "NULL", S, w->V);
        if (!(w->tele >= 0.0 && w->tele < 1.0)) fuzz_die("markov: teleport %g", w->tele);
        law_stochastic(w->start, S, "start", 0);
        if (w->rowptr[0] != 0) fuzz_die("markov: rowptr[0] = %u", w->rowptr[0]);
        for (uint32_t a = 0; a < S; a++) {
            uint32_t b0 = w->rowptr[a], b1 = w->rowptr[a + 1];
            if (b1 <= b0) fuzz_die("markov: state %u has rowptr %u..%u", a, b0, b1);
            for (uint32_t k = b0; k < b1; k++)
                if (w->col[k] >= S) fuzz_die("markov: state %u goes to state %u of %u", a, w->col[k], S);
            law_stochastic(w->val + b0, b1 - b0, "transition row", a);
        }
        if (w->emit)
            for (uint32_t a = 0; a < S; a++) law_stochastic(w->emit + (size_t)a * w->V, w->V, "emit row", a);
    }
    size_t al = strnlen(law->alphabet, sizeof law->alphabet);
    if (al == sizeof law->alphabet || (al && al != w->V)) fuzz_die("alphabet of %zu characters, V = %u", al, w->V);
    for (size_t i = 0; i < al; i++)
        if (law->alphabet[i] < 0x20 || law->alphabet[i] > 0x7e) fuzz_die("alphabet: non-printable character");
    size_t dl = strnlen(law->desc, sizeof law->desc);
    if (!dl || dl == sizeof law->desc || memchr(law->desc, '\n', dl)) fuzz_die("bad desc '%.80s'", law->desc);
    uint16_t *x = malloc(w->L * sizeof *x);
    if (!x) fuzz_die("out of memory");
    for (uint64_t chain = 0; chain < 2; chain++) {
        dlm_law_sample(law, 1, chain, x);
        for (uint32_t i = 0; i < w->L; i++)
            if (x[i] >= w->V) fuzz_die("sample %llu: token %u at %u, V = %u", (unsigned long long)chain, x[i], i, w->V);
        double lp = dlm_law_logp(law, x);
        if (!isfinite(lp) || lp > 1e-9)
            fuzz_die("sample %llu has log-probability %g", (unsigned long long)chain, lp);
    }
    free(x);
}

static void load_one(const char *kind, const char *path, int table, int markov)
{
    char spec[128];
    snprintf(spec, sizeof spec, "%s:%s", kind, path);
    dlm_law law;
    dlm_err e;
    e.msg[0] = 0;
    memset(&law, 0x5a, sizeof law);
    dlm_status s = dlm_law_load(spec, &law, 0, &e);
    if (s) {
        static const dlm_law zero;
        if (s != DLM_EINPUT) fuzz_die("dlm_law_load(%s) returned status %d: %s", kind, (int)s, e.msg);
        if (strncmp(e.msg, path, strlen(path)) || strchr(e.msg, '\n'))
            fuzz_die("dlm_law_load(%s): message is not one line starting with the path: '%s'", kind, e.msg);
        if (memcmp(&law, &zero, sizeof law)) fuzz_die("dlm_law_load(%s): refused law is not left empty", kind);
        return;
    }
    law_check(&law, table, markov);
    dlm_law_free(&law);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int hmm = 0; /* a file with a NUL byte is refused whatever its header */
    if (!memchr(data, 0, size) && too_big((const char *)data, size, &hmm)) return 0;
    int markov = !hmm;
    const char *path = fuzz_path(0, "", "law");
    fuzz_write(path, data, size);
    load_one("table", path, 1, markov);
    load_one("markov", path, 0, markov);
    return 0;
}
