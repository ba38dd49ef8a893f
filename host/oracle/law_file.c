/* law_file.c — the laws' text formats (dlm_law.h, docs/oracle.md): table files and
 * markov/hmm files, read with one "FILE:LINE: what" message per malformed input, and
 * dlm_law_write, which writes them back. The spec loader and the laws' arithmetic are
 * law.c; what the two share is law_base.c (law_impl.h). */
#include "dlm_law.h"
#include "law_impl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROW_TOL 1e-9              /* file rows must sum to 1 within this */

// ---------------------------------------------------------------- file reading

/* Line reader over a file read whole: blank lines and `#` comments skipped (an
 * `alphabet` line keeps its '#' characters inside the quotes). */
typedef struct {
    const char *path;
    char *next;     /* start of the next line */
    unsigned line;  /* number of the current line */
    char *cur;      /* scan position in the current line */
    dlm_err *err;
} rd;

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int rd_line(rd *r)
{
    while (r->next) {
        char *l = r->next, *nl = strchr(l, '\n');
        if (nl) {
            *nl = 0;
            r->next = nl + 1;
        } else {
            r->next = NULL;
        }
        r->line++;
        while (is_ws(*l)) l++;
        if (strncmp(l, "alphabet", 8) != 0) {
            char *h = strchr(l, '#');
            if (h) *h = 0;
        }
        if (!*l) continue;
        r->cur = l;
        return 1;
    }
    return 0;
}

/* The next whitespace-separated field of the current line (NUL-terminated), or NULL. */
static char *rd_field(rd *r)
{
    char *p = r->cur;
    while (is_ws(*p)) p++;
    if (!*p) {
        r->cur = p;
        return NULL;
    }
    char *f = p;
    while (*p && !is_ws(*p)) p++;
    if (*p) *p++ = 0;
    r->cur = p;
    return f;
}

static dlm_status rd_err(rd *r, const char *what, const char *field)
{
    if (field) return dlm_fail(r->err, DLM_EINPUT, "%s:%u: %s '%.40s'", r->path, r->line, what, field);
    return dlm_fail(r->err, DLM_EINPUT, "%s:%u: %s", r->path, r->line, what);
}

static dlm_status rd_u32(rd *r, const char *what, uint32_t lo, uint32_t hi, uint32_t *v)
{
    uint64_t x;
    char *f = rd_field(r);
    if (!f) return dlm_fail(r->err, DLM_EINPUT, "%s:%u: missing %s", r->path, r->line, what);
    if (dlm_law_parse_u64_(f, &x) || x < lo || x > hi)
        return dlm_fail(r->err, DLM_EINPUT, "%s:%u: bad %s '%.40s' (must be %u..%u)", r->path,
                        r->line, what, f, lo, hi);
    *v = (uint32_t)x;
    return DLM_OK;
}

static dlm_status rd_prob(rd *r, const char *what, double *v)
{
    char *f = rd_field(r);
    if (!f) return dlm_fail(r->err, DLM_EINPUT, "%s:%u: missing %s", r->path, r->line, what);
    if (dlm_law_parse_nonneg_(f, v)) return rd_err(r, "bad number (must be finite and >= 0)", f);
    return DLM_OK;
}

static dlm_status rd_end(rd *r)
{
    char *f = rd_field(r);
    return f ? rd_err(r, "unexpected field", f) : DLM_OK;
}

/* `alphabet "CHARS"`: exactly V printable characters between the first and the last
 * double quote of the line. */
static dlm_status rd_alphabet(rd *r, dlm_law *law, uint32_t V)
{
    char *q0 = strchr(r->cur, '"'), *q1 = strrchr(r->cur, '"');
    if (!q0 || q1 == q0) return rd_err(r, "alphabet: expected \"CHARACTERS\"", NULL);
    size_t n = (size_t)(q1 - q0 - 1);
    if (V > 256 || n != V)
        return dlm_fail(r->err, DLM_EINPUT, "%s:%u: alphabet has %zu characters, not V = %u "
                        "(at most 256)", r->path, r->line, n, V);
    for (size_t i = 0; i < n; i++)
        if (q0[1 + i] < 0x20 || q0[1 + i] > 0x7e) return rd_err(r, "alphabet: non-printable character", NULL);
    char *t = q1 + 1;
    while (is_ws(*t)) t++;
    if (*t && *t != '#') return rd_err(r, "unexpected text after the alphabet", NULL);
    memcpy(law->alphabet, q0 + 1, n);
    law->alphabet[n] = 0;
    return DLM_OK;
}

/* Reads path whole; a missing or unreadable file is DLM_EINPUT (bad input). */
static dlm_status rd_open(rd *r, const char *path, uint64_t max_bytes, char **buf, dlm_err *err)
{
    size_t len;
    memset(r, 0, sizeof *r);
    dlm_status s = dlm_read_file_max(path, dlm_memory_budget(max_bytes), buf, &len, err);
    if (s) return s == DLM_EIO ? DLM_EINPUT : s;
    if (strlen(*buf) != len) {
        free(*buf);
        *buf = NULL;
        return dlm_fail(err, DLM_EINPUT, "%s: contains a NUL byte (not a text file)", path);
    }
    r->path = path;
    r->next = *buf;
    r->err = err;
    return DLM_OK;
}

// ---------------------------------------------------------------- table files

/* table L V / [alphabet "..."] / rows `TOKENS WEIGHT` (TOKENS: L integers, or for
 * V <= 10 one string of L digits, position 0 first). Weights are divided by their
 * total; missing sequences have weight 0; a sequence given twice is an error. */
dlm_status dlm_law_load_table_(dlm_law *law, const char *path, dlm_err *err)
{
    rd r;
    char *buf;
    uint8_t *seen = NULL;
    uint32_t L = 0, V = 0;
    dlm_status s = rd_open(&r, path, law->max_bytes, &buf, err);
    if (s) return s;
    char *f;
    if (!rd_line(&r)) {
        s = dlm_fail(err, DLM_EINPUT, "%s: empty file (expected 'table L V')", path);
        goto out;
    }
    if (!(f = rd_field(&r)) || strcmp(f, "table")) {
        s = rd_err(&r, "expected 'table L V', got", f ? f : "");
        goto out;
    }
    if ((s = rd_u32(&r, "L", 1, DLM_LAW_MAX_L, &L)) || (s = rd_u32(&r, "V", 2, DLM_LAW_MAX_V, &V)) ||
        (s = rd_end(&r)))
        goto out;
    char what[600];
    snprintf(what, sizeof what, "%s:%u", path, r.line);
    if ((s = dlm_law_table_alloc_(law, L, V, what, err))) goto out;
    uint64_t N = 0;
    dlm_law_pow_le_(V, L, DLM_LAW_TABLE_MAX, &N);
    if ((s = dlm_law_budget_(law, N, path, err))) goto out;
    seen = dlm_calloc((size_t)N, 1);
    if (!seen) {
        s = dlm_fail(err, DLM_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    double total = 0.0;
    while (rd_line(&r)) {
        if (!strncmp(r.cur, "alphabet", 8) && is_ws(r.cur[8])) {
            if ((s = rd_alphabet(&r, law, V))) goto out;
            continue;
        }
        /* count the fields, then parse them */
        unsigned nf = 0;
        for (char *p = r.cur; *p;) {
            while (is_ws(*p)) p++;
            if (!*p) break;
            nf++;
            while (*p && !is_ws(*p)) p++;
        }
        uint64_t idx = 0, pw = 1;
        if (nf == L + 1) {
            for (uint32_t i = 0; i < L; i++, pw *= V) {
                uint32_t t;
                if ((s = rd_u32(&r, "token", 0, V - 1, &t))) goto out;
                idx += t * pw;
            }
        } else if (nf == 2 && V <= 10) {
            f = rd_field(&r);
            if (strlen(f) != L) {
                s = rd_err(&r, "expected a string of L digits, got", f);
                goto out;
            }
            for (uint32_t i = 0; i < L; i++, pw *= V) {
                if (f[i] < '0' || (uint32_t)(f[i] - '0') >= V) {
                    s = rd_err(&r, "bad token digit in", f);
                    goto out;
                }
                idx += (uint64_t)(f[i] - '0') * pw;
            }
        } else {
            s = dlm_fail(err, DLM_EINPUT, "%s:%u: expected %u tokens and a weight%s", path, r.line,
                         L, V <= 10 ? " (or a digit string and a weight)" : "");
            goto out;
        }
        double wgt;
        if ((s = rd_prob(&r, "weight", &wgt)) || (s = rd_end(&r))) goto out;
        if (seen[idx]) {
            s = rd_err(&r, "sequence given twice", NULL);
            goto out;
        }
        seen[idx] = 1;
        law->p[idx] = wgt;
        total += wgt;
    }
    if (!(total > 0.0) || !isfinite(total)) {
        s = dlm_fail(err, DLM_EINPUT, "%s: the weights sum to %g (need a positive finite total)",
                     path, total);
        goto out;
    }
    for (uint64_t x = 0; x < N; x++) law->p[x] /= total;
    snprintf(law->desc, sizeof law->desc, "table %.180s, L=%u, V=%u", path, L, V);
out:
    free(seen);
    free(buf);
    return s;
}

// ---------------------------------------------------------------- markov files

typedef struct {
    uint32_t a, b, line;
    double p;
} edge;

static int cmp_edge(const void *x, const void *y)
{
    const edge *e = (const edge *)x, *f = (const edge *)y;
    if (e->a != f->a) return e->a < f->a ? -1 : 1;
    if (e->b != f->b) return e->b < f->b ? -1 : 1;
    return e->line < f->line ? -1 : e->line > f->line;
}

/* Checks that p[0..n-1] sums to 1 within ROW_TOL and divides it by its sum. */
static dlm_status row_check(double *p, uint32_t n, const char *path, unsigned line,
                            const char *what, dlm_err *err)
{
    double z = 0.0;
    for (uint32_t i = 0; i < n; i++) z += p[i];
    if (!(fabs(z - 1.0) <= ROW_TOL))
        return dlm_fail(err, DLM_EINPUT, "%s:%u: %s sums to %.17g, not 1 (tolerance 1e-9)", path,
                        line, what, z);
    for (uint32_t i = 0; i < n; i++) p[i] /= z;
    return DLM_OK;
}

/* markov L V | hmm L S V, then in any order: alphabet "...", teleport EPS,
 * start P_0 .. P_{S-1}, row A P_0 .. P_{S-1} (dense), edge A B P (sparse),
 * emit A P_0 .. P_{V-1} (hmm only, every state). Every state needs transitions; an
 * entry given twice is an error; zero entries are kept. */
/* What a markov/hmm file has said so far. */
typedef struct {
    rd r;
    const char *path;
    dlm_err *err;
    dlm_law *law;
    edge *E;
    double *start, *emit;
    uint8_t *emit_seen;
    size_t ne, cap;
    uint32_t L, S, V;
    unsigned start_line;
    int hmm, have_tele;
    double tele;
} mk_file;

/* The first line, "markov L V" or "hmm L S V", and the buffers it sizes. */
static dlm_status mk_header(mk_file *m)
{
    rd *r = &m->r;
    dlm_status s;
    if (!rd_line(r))
        return dlm_fail(m->err, DLM_EINPUT, "%s: empty file (expected 'markov L V' or 'hmm L S V')", m->path);
    char *f = rd_field(r);
    m->hmm = f && !strcmp(f, "hmm");
    if (!f || (!m->hmm && strcmp(f, "markov")))
        return rd_err(r, "expected 'markov L V' or 'hmm L S V', got", f ? f : "");
    if ((s = rd_u32(r, "L", 1, DLM_LAW_MAX_L, &m->L))) return s;
    if (m->hmm && (s = rd_u32(r, "S", 1, DLM_LAW_MAX_V, &m->S))) return s;
    if ((s = rd_u32(r, "V", 2, DLM_LAW_MAX_V, &m->V)) || (s = rd_end(r))) return s;
    if (!m->hmm) m->S = m->V;
    const uint32_t S = m->S, V = m->V;
    if ((s = dlm_law_budget_(m->law, 8ull * S + (m->hmm ? 9ull * S * V : 0), m->path, m->err))) return s;
    m->start = dlm_calloc(S, sizeof(double));
    m->emit = m->hmm ? dlm_calloc((size_t)S * V, sizeof(double)) : NULL;
    m->emit_seen = m->hmm ? dlm_calloc(S, 1) : NULL;
    if (!m->start || (m->hmm && (!m->emit || !m->emit_seen)))
        return dlm_fail(m->err, DLM_ENOMEM, "%s: out of memory", m->path);
    return DLM_OK;
}

/* teleport P */
static dlm_status kw_teleport(mk_file *m, const char *kw)
{
    (void)kw;
    rd *r = &m->r;
    dlm_status s;
    if (m->have_tele++) return rd_err(r, "teleport given twice", NULL);
    if ((s = rd_prob(r, "teleport", &m->tele)) || (s = rd_end(r))) return s;
    if (!(m->tele < 1.0)) return rd_err(r, "teleport must be in [0, 1)", NULL);
    return DLM_OK;
}

/* start P_0 .. P_{S-1} */
static dlm_status kw_start(mk_file *m, const char *kw)
{
    (void)kw;
    rd *r = &m->r;
    dlm_status s;
    if (m->start_line) return rd_err(r, "start given twice", NULL);
    m->start_line = r->line;
    for (uint32_t i = 0; i < m->S; i++)
        if ((s = rd_prob(r, "start probability", &m->start[i]))) return s;
    if ((s = rd_end(r))) return s;
    return row_check(m->start, m->S, m->path, r->line, "start", m->err);
}

/* emit A P_0 .. P_{V-1} (hmm only) */
static dlm_status kw_emit(mk_file *m, const char *kw)
{
    (void)kw;
    rd *r = &m->r;
    dlm_status s;
    uint32_t a;
    if (!m->hmm) return rd_err(r, "emit rows belong in an 'hmm' file", NULL);
    if ((s = rd_u32(r, "state", 0, m->S - 1, &a))) return s;
    if (m->emit_seen[a]++) return rd_err(r, "emit row given twice for this state", NULL);
    double *row = m->emit + (size_t)a * m->V;
    for (uint32_t v = 0; v < m->V; v++)
        if ((s = rd_prob(r, "emission probability", &row[v]))) return s;
    if ((s = rd_end(r))) return s;
    return row_check(row, m->V, m->path, r->line, "emit row", m->err);
}

/* row A P_0 .. P_{S-1} (dense) or edge A B P (one transition) */
static dlm_status kw_transitions(mk_file *m, const char *kw)
{
    rd *r = &m->r;
    dlm_status s;
    int dense = kw[0] == 'r';
    uint32_t a, b = 0, n = dense ? m->S : 1;
    if ((s = rd_u32(r, "state", 0, m->S - 1, &a))) return s;
    if (!dense && (s = rd_u32(r, "state", 0, m->S - 1, &b))) return s;
    if (m->ne + n > m->cap) {
        size_t nc = m->cap ? 2 * m->cap : 256;
        while (nc < m->ne + n) nc *= 2;
        if ((s = dlm_law_budget_(m->law, (uint64_t)nc * sizeof(edge), m->path, m->err))) return s;
        edge *ne2 = realloc(m->E, nc * sizeof(edge));
        if (!ne2) return dlm_fail(m->err, DLM_ENOMEM, "%s: out of memory", m->path);
        m->E = ne2;
        m->cap = nc;
    }
    double z = 0.0;
    for (uint32_t k = 0; k < n; k++) {
        edge *e = &m->E[m->ne + k];
        e->a = a;
        e->b = dense ? k : b;
        e->line = r->line;
        if ((s = rd_prob(r, "transition probability", &e->p))) return s;
        z += e->p;
    }
    if ((s = rd_end(r))) return s;
    if (dense && !(fabs(z - 1.0) <= ROW_TOL))
        return dlm_fail(m->err, DLM_EINPUT, "%s:%u: row of state %u sums to %.17g, not 1 "
                        "(tolerance 1e-9)", m->path, r->line, a, z);
    m->ne += n;
    return DLM_OK;
}

static const struct {
    const char *kw;
    dlm_status (*handle)(mk_file *m, const char *kw);
} mk_keywords[] = {
    {"teleport", kw_teleport}, {"start", kw_start}, {"emit", kw_emit},
    {"row", kw_transitions},   {"edge", kw_transitions},
};

/* After the last line: every required line seen, transitions unique, then the law. */
static dlm_status mk_build(mk_file *m)
{
    const char *path = m->path;
    dlm_err *err = m->err;
    dlm_law *law = m->law;
    const uint32_t S = m->S, V = m->V;
    edge *E = m->E;
    const size_t ne = m->ne;
    dlm_status s;
    if (!m->start_line) return dlm_fail(err, DLM_EINPUT, "%s: no 'start' line", path);
    for (uint32_t a = 0; m->hmm && a < S; a++)
        if (!m->emit_seen[a]) return dlm_fail(err, DLM_EINPUT, "%s: no emit row for state %u", path, a);
    if (ne) qsort(E, ne, sizeof *E, cmp_edge);
    for (size_t k = 1; k < ne; k++)
        if (E[k].a == E[k - 1].a && E[k].b == E[k - 1].b)
            return dlm_fail(err, DLM_EINPUT, "%s:%u: transition %u -> %u given twice (first at line %u)",
                            path, E[k].line, E[k].a, E[k].b, E[k - 1].line);
    if ((s = dlm_law_hmm_alloc_(law, m->L, S, V, ne, m->hmm, path, err))) return s;
    law->v.tele = m->tele;
    memcpy(law->start, m->start, S * sizeof(double));
    if (m->hmm) memcpy(law->emit, m->emit, (size_t)S * V * sizeof(double));
    for (size_t k = 0; k < ne; k++) {
        law->col[k] = E[k].b;
        law->val[k] = E[k].p;
        law->rowptr[E[k].a + 1]++;
    }
    for (uint32_t a = 0; a < S; a++) {
        uint32_t b0 = law->rowptr[a];
        law->rowptr[a + 1] += b0;
        char what[48];
        snprintf(what, sizeof what, "transitions of state %u", a);
        if (law->rowptr[a + 1] == b0)
            return dlm_fail(err, DLM_EINPUT, "%s: state %u has no transitions (row or edge lines)", path, a);
        if ((s = row_check(law->val + b0, law->rowptr[a + 1] - b0, path, E[b0].line, what, err))) return s;
    }
    snprintf(law->desc, sizeof law->desc, "%s %.160s, L=%u, %s%u, %u transitions, teleport %g",
             m->hmm ? "HMM" : "Markov chain", path, m->L, m->hmm ? "S=" : "V=", m->hmm ? S : V,
             (unsigned)ne, m->tele);
    if (m->hmm)
        snprintf(law->desc + strlen(law->desc), sizeof law->desc - strlen(law->desc), ", V=%u", V);
    return DLM_OK;
}

dlm_status dlm_law_load_markov_(dlm_law *law, const char *path, dlm_err *err)
{
    mk_file m;
    memset(&m, 0, sizeof m);
    m.path = path;
    m.err = err;
    m.law = law;
    char *buf;
    dlm_status s = rd_open(&m.r, path, law->max_bytes, &buf, err);
    if (s) return s;
    s = mk_header(&m);
    while (!s && rd_line(&m.r)) {
        if (!strncmp(m.r.cur, "alphabet", 8) && is_ws(m.r.cur[8])) {
            s = rd_alphabet(&m.r, law, m.V);
            continue;
        }
        const char *f = rd_field(&m.r);
        size_t i = 0, n = sizeof mk_keywords / sizeof mk_keywords[0];
        while (i < n && strcmp(f, mk_keywords[i].kw)) i++;
        s = i < n ? mk_keywords[i].handle(&m, f)
                  : rd_err(&m.r, "unknown keyword (expected start, row, edge, emit, teleport, alphabet)", f);
    }
    if (!s) s = mk_build(&m);
    free(m.E);
    free(m.start);
    free(m.emit);
    free(m.emit_seen);
    free(buf);
    return s;
}

// ---------------------------------------------------------------- writer

dlm_status dlm_law_write(const dlm_law *law, FILE *f, dlm_err *err)
{
    const dlm_law_view *w = &law->v;
    if (w->kind == DLM_LAW_TABLE) {
        uint64_t N = 0;
        dlm_law_pow_le_(w->V, w->L, DLM_LAW_TABLE_MAX, &N);
        fprintf(f, "# %s\ntable %u %u\n", law->desc, w->L, w->V);
        if (law->alphabet[0]) fprintf(f, "alphabet \"%s\"\n", law->alphabet);
        for (uint64_t x = 0; x < N; x++) {
            if (w->p[x] == 0.0) continue;
            uint64_t t = x;
            for (uint32_t i = 0; i < w->L; i++, t /= w->V)
                fprintf(f, w->V <= 10 ? "%u" : i ? " %u" : "%u", (unsigned)(t % w->V));
            fprintf(f, " %.17g\n", w->p[x]);
        }
    } else {
        fprintf(f, "# %s\n", law->desc);
        if (w->emit) fprintf(f, "hmm %u %u %u\n", w->L, w->S, w->V);
        else fprintf(f, "markov %u %u\n", w->L, w->V);
        if (law->alphabet[0]) fprintf(f, "alphabet \"%s\"\n", law->alphabet);
        if (w->tele > 0) fprintf(f, "teleport %.17g\n", w->tele);
        fprintf(f, "start");
        for (uint32_t s = 0; s < w->S; s++) fprintf(f, " %.17g", w->start[s]);
        fprintf(f, "\n");
        for (uint32_t a = 0; a < w->S; a++)
            for (uint32_t k = w->rowptr[a]; k < w->rowptr[a + 1]; k++)
                fprintf(f, "edge %u %u %.17g\n", a, w->col[k], w->val[k]);
        for (uint32_t a = 0; w->emit && a < w->S; a++) {
            fprintf(f, "emit %u", a);
            for (uint32_t v = 0; v < w->V; v++) fprintf(f, " %.17g", w->emit[(size_t)a * w->V + v]);
            fprintf(f, "\n");
        }
    }
    if (fflush(f) || ferror(f)) return dlm_fail(err, DLM_EIO, "writing the law: %s", strerror(errno));
    return DLM_OK;
}
