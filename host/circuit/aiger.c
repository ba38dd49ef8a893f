/* aiger.c — AIGER 1.9 reader and writer: ascii (.aag) and binary (.aig), combinational.
 *
 * Reader: the whole file is read into memory, the header is checked against the limits
 * and against the file size before anything else is allocated, then every section is
 * parsed and validated (literal ranges, duplicate and undefined definitions, cycles)
 * before the first IR node is created, so a malformed file never leaves a partial
 * circuit. Inputs become fair coins in file order (IR nodes 1..I); AND gates become
 * 2-input DLM_G_AND nodes after the coins, in a topological order (file order for
 * binary files and for ascii files that are already sorted). Names from the symbol
 * table are kept for inputs and outputs; the comment section is skipped.
 *
 * Writer: variables are numbered inputs first (coin k = variable k+1), then AND gates
 * in creation order, so every AND has lhs > rhs0 >= rhs1 as binary AIGER requires.
 * OR gates use De Morgan, XOR costs 3 ANDs per 2-input step, LUTs are expanded by
 * Shannon decomposition on their truth table; constants are folded on the way.
 *
 * This file is not: a sequential-circuit reader (latches, properties and constraints
 * are refused), nor an AIG optimiser (no structural hashing beyond constant folding).
 * Format reference: docs/formats.md; tests: test/test_io.c.
 */
#include "dlm_io.h"
#include "dlm_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- cursor and error messages -----------------------------------------------------

typedef struct {
    const char *path;
    const char *b;
    size_t n, pos;
    unsigned line;  /* 1-based line of pos */
    int bytes;      /* 1: report "byte offset N" (binary section and what follows) */
    dlm_err *err;
} cursor;

static dlm_status vfail_at(const cursor *k, unsigned line, size_t off, int bytes,
                           const char *fmt, va_list ap)
{
    char m[440];
    vsnprintf(m, sizeof m, fmt, ap);
    if (bytes) return dlm_fail(k->err, DLM_EINPUT, "%s: byte offset %zu: %s", k->path, off, m);
    return dlm_fail(k->err, DLM_EINPUT, "%s:%u: %s", k->path, line, m);
}

/* An error at the cursor's position. */
__attribute__((format(printf, 2, 3)))
static dlm_status perr(const cursor *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dlm_status s = vfail_at(k, k->line, k->pos, k->bytes, fmt, ap);
    va_end(ap);
    return s;
}

/* An error on a given (ascii) line. */
__attribute__((format(printf, 3, 4)))
static dlm_status perr_line(const cursor *k, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dlm_status s = vfail_at(k, line, 0, 0, fmt, ap);
    va_end(ap);
    return s;
}

static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }
static int is_blank(char ch) { return ch == ' ' || ch == '\t'; }

static void skip_blank(cursor *k)
{
    while (k->pos < k->n && is_blank(k->b[k->pos])) k->pos++;
}

/* An unsigned decimal at the cursor (values above 2^40 are refused as absurd). */
static dlm_status rd_num(cursor *k, uint64_t *v, const char *what)
{
    if (k->pos >= k->n) return perr(k, "unexpected end of file (truncated?): expected %s", what);
    if (!is_digit(k->b[k->pos])) return perr(k, "expected %s (an unsigned number)", what);
    uint64_t x = 0;
    while (k->pos < k->n && is_digit(k->b[k->pos])) {
        x = x * 10 + (uint64_t)(k->b[k->pos++] - '0');
        if (x > (UINT64_C(1) << 40)) return perr(k, "number too large in %s", what);
    }
    *v = x;
    return DLM_OK;
}

/* At least one blank, then a number. */
static dlm_status rd_sep_num(cursor *k, uint64_t *v, const char *what)
{
    if (k->pos >= k->n || k->b[k->pos] == '\n')
        return perr(k, "missing %s", what);
    if (!is_blank(k->b[k->pos])) return perr(k, "expected a blank before %s", what);
    skip_blank(k);
    return rd_num(k, v, what);
}

/* End of line: optional blanks and '\r', then '\n' (or the end of the file). */
static dlm_status rd_eol(cursor *k, const char *what)
{
    skip_blank(k);
    if (k->pos < k->n && k->b[k->pos] == '\r') k->pos++;
    if (k->pos >= k->n) return DLM_OK;
    if (k->b[k->pos] != '\n') return perr(k, "unexpected text after %s", what);
    k->pos++;
    k->line++;
    return DLM_OK;
}

// ---- variable -> definition map (ascii files define variables in any order) ---------

typedef struct {
    uint32_t *key; /* variable, 0 = empty slot */
    uint32_t *val; /* definition index: < I an input, else I + AND index */
    size_t mask;
} varmap;

static int varmap_init(varmap *h, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 2) cap *= 2;
    h->key = dlm_calloc(cap, sizeof *h->key);
    h->val = dlm_malloc(cap, sizeof *h->val);
    h->mask = cap - 1;
    return h->key && h->val;
}

static void varmap_free(varmap *h)
{
    free(h->key);
    free(h->val);
}

static size_t varmap_slot(const varmap *h, uint32_t var)
{
    size_t i = ((size_t)var * 0x9E3779B1u) & h->mask;
    while (h->key[i] && h->key[i] != var) i = (i + 1) & h->mask;
    return i;
}

// ---- reader -------------------------------------------------------------------------

typedef struct {
    cursor k;
    int binary;
    uint32_t M, I, O, A;
    uint32_t *out;      /* O output literals */
    uint32_t *and3;     /* 3*A: lhs, rhs0, rhs1 */
    char **iname;       /* I names or NULL (pointers into the buffer) */
    char **oname;       /* O names or NULL */
    varmap vm;          /* ascii only */
    uint32_t *deflit;   /* I + A: IR literal of each definition */
    uint32_t *order;    /* A: AND indices in topological order */
    uint8_t *state;     /* A: DFS state */
    uint32_t *stack;    /* A: DFS stack */
    uint64_t budget;    /* dlm_memory_budget of the caller's max_bytes */
} aig_reader;

static void reader_free(aig_reader *r)
{
    free(r->out);
    free(r->and3);
    free(r->iname);
    free(r->oname);
    varmap_free(&r->vm);
    free(r->deflit);
    free(r->order);
    free(r->state);
    free(r->stack);
}

/* Ascii line numbers: every record is exactly one line. */
static unsigned line_input(const aig_reader *r, uint32_t k)
{
    (void)r;
    return 2 + k;
}
static unsigned line_output(const aig_reader *r, uint32_t k)
{
    return r->binary ? 2 + k : 2 + r->I + k;
}
static unsigned line_and(const aig_reader *r, uint32_t i) { return 2 + r->I + r->O + i; }

/* Definition index of a variable (1..M), or UINT32_MAX if undefined. */
static uint32_t def_of(const aig_reader *r, uint32_t var)
{
    if (r->binary) return var >= 1 && var <= r->I + r->A ? var - 1 : UINT32_MAX;
    size_t s = varmap_slot(&r->vm, var);
    return r->vm.key[s] ? r->vm.val[s] : UINT32_MAX;
}

static dlm_status parse_header(aig_reader *r)
{
    cursor *k = &r->k;
    const char *usage = "bad header: expected 'aag M I L O A' or 'aig M I L O A' "
                        "(optionally followed by B C J F)";
    if (k->n < 3 || (memcmp(k->b, "aag", 3) != 0 && memcmp(k->b, "aig", 3) != 0))
        return perr(k, "%s", usage);
    r->binary = k->b[1] == 'i';
    k->pos = 3;
    uint64_t h[9] = {0};
    int nh = 0;
    while (nh < 9 && k->pos < k->n && is_blank(k->b[k->pos])) {
        skip_blank(k);
        if (k->pos >= k->n || !is_digit(k->b[k->pos])) break;
        dlm_status s = rd_num(k, &h[nh++], "a header field");
        if (s) return s;
    }
    skip_blank(k);
    if (k->pos < k->n && k->b[k->pos] == '\r') k->pos++;
    if (nh < 5 || (k->pos < k->n && k->b[k->pos] != '\n')) return perr(k, "%s", usage);
    if (k->pos < k->n) { /* a header-only file may lack its final newline */
        k->pos++;
        k->line++;
    }
    static const char *const what[4] = {"bad-state properties (B)", "invariant constraints (C)",
                                        "justice properties (J)", "fairness constraints (F)"};
    if (h[2])
        return perr_line(k, 1, "latches are not supported (L = %llu): dlmsim reads "
                         "combinational AIGER only", (unsigned long long)h[2]);
    for (int j = 5; j < nh; j++)
        if (h[j])
            return perr_line(k, 1, "%s are not supported (%llu given): dlmsim reads "
                             "combinational AIGER without properties", what[j - 5],
                             (unsigned long long)h[j]);
    const char *names[5] = {"M", "I", "L", "O", "A"};
    for (int j = 0; j < 5; j++) {
        uint64_t lim = j == 3 ? DLM_MAX_OUTPUTS : DLM_MAX_NODES;
        if (h[j] > lim)
            return perr_line(k, 1, "%s = %llu exceeds the limit of %llu", names[j],
                             (unsigned long long)h[j], (unsigned long long)lim);
    }
    if (h[0] < h[1] + h[4])
        return perr_line(k, 1, "M = %llu is smaller than I + L + A = %llu",
                         (unsigned long long)h[0], (unsigned long long)(h[1] + h[4]));
    if (h[1] + h[4] + 1 > DLM_MAX_NODES)
        return perr_line(k, 1, "circuit too large: %llu inputs and AND gates exceed the limit "
                         "of %u nodes", (unsigned long long)(h[1] + h[4]), DLM_MAX_NODES - 1);
    r->M = (uint32_t)h[0];
    r->I = (uint32_t)h[1];
    r->O = (uint32_t)h[3];
    r->A = (uint32_t)h[4];
    /* The smallest encoding of each record: "2\n" per input and output line, "2 0 0\n"
     * per ascii AND, two varint bytes per binary AND. */
    uint64_t need = r->binary ? 2ull * r->O + 2ull * r->A
                              : 2ull * r->I + 2ull * r->O + 6ull * r->A;
    uint64_t left = k->n - k->pos;
    if (need > left + 1)
        return perr_line(k, 1, "truncated file: the header promises %u inputs, %u outputs and "
                         "%u AND gates, which need at least %llu bytes, but only %llu follow",
                         r->I, r->O, r->A, (unsigned long long)need, (unsigned long long)left);
    /* The IR needs about one gate record per input and AND; refuse what cannot fit. */
    uint64_t bytes = (1ull + r->I + r->A) * (sizeof(dlm_gate) + 24) + 16ull * r->O;
    uint64_t budget = r->budget;
    if (bytes > budget)
        return perr_line(k, 1, "circuit needs about %llu bytes, over the memory budget of %llu "
                         "(half the machine's memory, or --max-memory)", (unsigned long long)bytes,
                         (unsigned long long)budget);
    return DLM_OK;
}

/* Checks a literal read on the current line against 2M+1. */
static dlm_status check_lit(const aig_reader *r, uint64_t lit, const char *what)
{
    if (lit > 2ull * r->M + 1)
        return perr(&r->k, "%s literal %llu out of range (largest is 2M+1 = %llu)", what,
                    (unsigned long long)lit, 2ull * r->M + 1);
    return DLM_OK;
}

/* Adds a definition of var; refuses a second one. */
static dlm_status define_var(aig_reader *r, uint32_t var, uint32_t def, unsigned line)
{
    size_t s = varmap_slot(&r->vm, var);
    if (r->vm.key[s]) {
        uint32_t d = r->vm.val[s];
        unsigned first = d < r->I ? line_input(r, d) : line_and(r, d - r->I);
        return perr_line(&r->k, line, "variable %u (literal %u) is defined twice (first on "
                         "line %u)", var, 2 * var, first);
    }
    r->vm.key[s] = var;
    r->vm.val[s] = def;
    return DLM_OK;
}

static dlm_status parse_inputs(aig_reader *r)
{
    cursor *k = &r->k;
    if (r->binary) return DLM_OK; /* implicit: variables 1..I */
    for (uint32_t i = 0; i < r->I; i++) {
        uint64_t lit;
        dlm_status s = rd_num(k, &lit, "an input literal");
        if (!s) s = rd_eol(k, "the input literal");
        if (s) return s;
        unsigned line = k->line - 1;
        if (lit & 1) return perr_line(k, line, "input literal %llu is odd (negated)",
                                      (unsigned long long)lit);
        if (lit < 2) return perr_line(k, line, "input literal %llu is a constant",
                                      (unsigned long long)lit);
        if (lit > 2ull * r->M)
            return perr_line(k, line, "input literal %llu out of range (largest is 2M = %llu)",
                             (unsigned long long)lit, 2ull * r->M);
        s = define_var(r, (uint32_t)(lit >> 1), i, line);
        if (s) return s;
    }
    return DLM_OK;
}

static dlm_status parse_outputs(aig_reader *r)
{
    cursor *k = &r->k;
    for (uint32_t i = 0; i < r->O; i++) {
        uint64_t lit;
        dlm_status s = rd_num(k, &lit, "an output literal");
        if (!s) s = check_lit(r, lit, "output");
        if (!s) s = rd_eol(k, "the output literal");
        if (s) return s;
        r->out[i] = (uint32_t)lit;
    }
    return DLM_OK;
}

static dlm_status parse_ands_ascii(aig_reader *r)
{
    cursor *k = &r->k;
    for (uint32_t i = 0; i < r->A; i++) {
        uint64_t v[3];
        dlm_status s = rd_num(k, &v[0], "an AND gate 'lhs rhs0 rhs1'");
        if (!s && (v[0] & 1)) s = perr(k, "AND lhs literal %llu is odd (negated)",
                                       (unsigned long long)v[0]);
        if (!s && v[0] < 2) s = perr(k, "AND lhs literal %llu is a constant",
                                     (unsigned long long)v[0]);
        if (!s && v[0] > 2ull * r->M)
            s = perr(k, "AND lhs literal %llu out of range (largest is 2M = %llu)",
                     (unsigned long long)v[0], 2ull * r->M);
        if (!s) s = rd_sep_num(k, &v[1], "the AND's rhs0");
        if (!s) s = check_lit(r, v[1], "rhs0");
        if (!s) s = rd_sep_num(k, &v[2], "the AND's rhs1");
        if (!s) s = check_lit(r, v[2], "rhs1");
        if (!s) s = rd_eol(k, "the AND gate");
        if (s) return s;
        for (int j = 0; j < 3; j++) r->and3[3 * i + j] = (uint32_t)v[j];
        s = define_var(r, (uint32_t)(v[0] >> 1), r->I + i, line_and(r, i));
        if (s) return s;
    }
    return DLM_OK;
}

/* One 7-bit varint of the binary AND section. */
static dlm_status rd_varint(cursor *k, uint32_t *v)
{
    uint64_t x = 0;
    size_t start = k->pos;
    for (unsigned sh = 0;; sh += 7) {
        if (k->pos >= k->n)
            return perr(k, "unexpected end of file inside the binary AND section (truncated?)");
        unsigned ch = (unsigned char)k->b[k->pos++];
        if (sh >= 35 || (sh == 28 && (ch & 0x7f) > 0xf)) {
            k->pos = start;
            return perr(k, "binary delta does not fit in 32 bits");
        }
        x |= (uint64_t)(ch & 0x7f) << sh;
        if (!(ch & 0x80)) break;
    }
    *v = (uint32_t)x;
    return DLM_OK;
}

static dlm_status parse_ands_binary(aig_reader *r)
{
    cursor *k = &r->k;
    k->bytes = 1;
    for (uint32_t i = 0; i < r->A; i++) {
        uint32_t lhs = 2 * (r->I + i + 1), d0, d1;
        size_t at = k->pos;
        dlm_status s = rd_varint(k, &d0);
        if (!s) s = rd_varint(k, &d1);
        if (s) return s;
        if (d0 == 0 || d0 > lhs) {
            k->pos = at;
            return perr(k, "AND gate %u (lhs %u): delta0 = %u gives rhs0 outside 0..lhs-1", i,
                        lhs, d0);
        }
        uint32_t rhs0 = lhs - d0;
        if (d1 > rhs0) {
            k->pos = at;
            return perr(k, "AND gate %u (lhs %u): delta1 = %u exceeds rhs0 = %u", i, lhs, d1,
                        rhs0);
        }
        r->and3[3 * i] = lhs;
        r->and3[3 * i + 1] = rhs0;
        r->and3[3 * i + 2] = rhs0 - d1;
    }
    return DLM_OK;
}

/* Symbol table ("i0 name", "o3 name") and comment section (after a line "c"). */
static dlm_status parse_symbols(aig_reader *r, char *buf)
{
    cursor *k = &r->k;
    while (k->pos < k->n) {
        char t = k->b[k->pos];
        if (t == '\n' || t == '\r') { /* tolerate blank lines */
            dlm_status s = rd_eol(k, "a blank line");
            if (s) return s;
            continue;
        }
        if (t == 'c' && (k->pos + 1 >= k->n || k->b[k->pos + 1] == '\n' ||
                         k->b[k->pos + 1] == '\r'))
            return DLM_OK; /* comment section: free text up to the end of the file */
        if (!strchr("ilobcjf", t) || t == 0 || k->pos + 1 >= k->n ||
            !is_digit(k->b[k->pos + 1]))
            return perr(k, "bad symbol table line: expected 'iN NAME', 'oN NAME' or 'c'");
        k->pos++;
        uint64_t idx;
        dlm_status s = rd_num(k, &idx, "a symbol index");
        if (s) return s;
        if (k->pos >= k->n || k->b[k->pos] != ' ')
            return perr(k, "bad symbol table line: expected one space and a name");
        size_t a = ++k->pos, e = a;
        while (e < k->n && k->b[e] != '\n') e++;
        size_t z = e;
        if (z > a && k->b[z - 1] == '\r') z--;
        if (z == a) return perr(k, "symbol %c%llu has an empty name", t,
                                (unsigned long long)idx);
        const char *kind = t == 'l' ? "latch" : t == 'b' ? "bad-state property"
                         : t == 'c' ? "invariant constraint" : t == 'j' ? "justice property"
                         : t == 'f' ? "fairness constraint" : t == 'i' ? "input" : "output";
        uint32_t count = t == 'i' ? r->I : t == 'o' ? r->O : 0;
        if (idx >= count)
            return perr(k, "symbol for %s %llu, but the file has %u of them", kind,
                        (unsigned long long)idx, count);
        char ***tab = t == 'i' ? &r->iname : &r->oname;
        if (!*tab) {
            *tab = dlm_calloc(count, sizeof **tab);
            if (!*tab) return dlm_fail(k->err, DLM_ENOMEM, "%s: out of memory", k->path);
        }
        if ((*tab)[idx]) return perr(k, "second symbol for %s %llu", kind,
                                     (unsigned long long)idx);
        buf[z] = 0; /* names point into the buffer (this may overwrite the '\n') */
        (*tab)[idx] = buf + a;
        k->pos = e < k->n ? e + 1 : e;
        k->line++;
    }
    return DLM_OK;
}

/* Every used variable must be defined (ascii files may leave holes below M). */
static dlm_status check_defined(aig_reader *r)
{
    for (uint32_t i = 0; i < r->O; i++) {
        uint32_t v = r->out[i] >> 1;
        if (v && def_of(r, v) == UINT32_MAX)
            return perr_line(&r->k, line_output(r, i), "output literal %u is undefined "
                             "(variable %u is neither an input nor an AND gate)", r->out[i], v);
    }
    if (r->binary) return DLM_OK; /* deltas only reach earlier variables */
    for (uint32_t i = 0; i < r->A; i++)
        for (int j = 1; j < 3; j++) {
            uint32_t l = r->and3[3 * i + j], v = l >> 1;
            if (v && def_of(r, v) == UINT32_MAX)
                return perr_line(&r->k, line_and(r, i), "literal %u is undefined (variable %u "
                                 "is neither an input nor an AND gate)", l, v);
        }
    return DLM_OK;
}

/* Topological order of the AND gates by an iterative depth-first search. */
static dlm_status topo_sort(aig_reader *r)
{
    uint32_t A = r->A, no = 0;
    if (r->binary) {
        for (uint32_t i = 0; i < A; i++) r->order[i] = i;
        return DLM_OK;
    }
    r->state = dlm_calloc(A, 1);
    r->stack = dlm_malloc(A, sizeof *r->stack);
    if (!r->state || !r->stack)
        return dlm_fail(r->k.err, DLM_ENOMEM, "%s: out of memory", r->k.path);
    for (uint32_t root = 0; root < A; root++) {
        if (r->state[root]) continue;
        uint32_t sp = 0;
        r->stack[sp++] = root;
        r->state[root] = 1;
        while (sp) {
            uint32_t i = r->stack[sp - 1], next = UINT32_MAX;
            for (int j = 1; j < 3 && next == UINT32_MAX; j++) {
                uint32_t v = r->and3[3 * i + j] >> 1;
                if (!v) continue;
                uint32_t d = def_of(r, v);
                if (d < r->I) continue;
                uint32_t a = d - r->I;
                if (r->state[a] == 1)
                    return perr_line(&r->k, line_and(r, a), "combinational cycle through "
                                     "AND gate %u (its lhs is reached from itself)",
                                     r->and3[3 * a]);
                if (r->state[a] == 0) next = a;
            }
            if (next != UINT32_MAX) {
                r->state[next] = 1;
                r->stack[sp++] = next;
            } else {
                r->state[i] = 2;
                r->order[no++] = i;
                sp--;
            }
        }
    }
    return DLM_OK;
}

static uint32_t ir_lit(const aig_reader *r, uint32_t lit)
{
    if (lit < 2) return lit;
    return r->deflit[def_of(r, lit >> 1)] ^ (lit & 1);
}

static dlm_status build(aig_reader *r, dlm_circuit *c, dlm_err *err)
{
    dlm_status s;
    for (uint32_t i = 0; i < r->I; i++) {
        uint32_t node;
        s = dlm_circuit_add_coin(c, r->iname ? r->iname[i] : NULL, &node, err);
        if (s) return s;
        r->deflit[i] = DLM_LIT(node, 0);
    }
    for (uint32_t t = 0; t < r->A; t++) {
        uint32_t i = r->order[t], node;
        uint32_t lits[2] = {ir_lit(r, r->and3[3 * i + 1]), ir_lit(r, r->and3[3 * i + 2])};
        s = dlm_circuit_add_gate(c, DLM_G_AND, 2, lits, 0, 0, &node, err);
        if (s) return s;
        r->deflit[r->I + i] = DLM_LIT(node, 0);
    }
    for (uint32_t i = 0; i < r->O; i++) {
        s = dlm_circuit_add_output(c, ir_lit(r, r->out[i]), r->oname ? r->oname[i] : NULL, err);
        if (s) return s;
    }
    return DLM_OK;
}

dlm_status dlm_aiger_read(dlm_circuit *c, const char *path, uint64_t max_bytes, dlm_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    memset(c, 0, sizeof *c);
    dlm_status s = dlm_read_file_max(path, dlm_memory_budget(max_bytes), &buf, &len, err);
    if (s) return s;
    aig_reader r;
    memset(&r, 0, sizeof r);
    r.k.path = path;
    r.k.b = buf;
    r.k.n = len;
    r.k.line = 1;
    r.k.err = err;
    r.budget = dlm_memory_budget(max_bytes);
    s = parse_header(&r);
    if (!s) {
        r.out = dlm_malloc(r.O, sizeof *r.out);
        r.and3 = dlm_malloc(r.A, 3 * sizeof *r.and3);
        r.deflit = dlm_malloc((size_t)r.I + r.A, sizeof *r.deflit);
        r.order = dlm_malloc(r.A, sizeof *r.order);
        if (!r.out || !r.and3 || !r.deflit || !r.order ||
            (!r.binary && !varmap_init(&r.vm, (size_t)r.I + r.A)))
            s = dlm_fail(err, DLM_ENOMEM, "%s: out of memory", path);
    }
    if (!s) s = parse_inputs(&r);
    if (!s) s = parse_outputs(&r);
    if (!s) s = r.binary ? parse_ands_binary(&r) : parse_ands_ascii(&r);
    if (!s) s = parse_symbols(&r, buf);
    if (!s) s = check_defined(&r);
    if (!s) s = topo_sort(&r);
    if (!s) s = dlm_circuit_init(c, path, err);
    if (!s) c->max_bytes = max_bytes;
    if (!s) {
        s = build(&r, c, err);
        if (s) dlm_circuit_free(c);
    }
    reader_free(&r);
    free(buf);
    return s;
}

// ---- writer: lowering the IR to an AIG ----------------------------------------------

typedef struct {
    uint32_t nin;   /* AIGER inputs: variables 1..nin */
    uint32_t *and3; /* lhs, rhs0, rhs1 with lhs > rhs0 >= rhs1 */
    size_t n, cap;  /* AND gates */
    int fail;       /* 1: out of memory or too many variables */
} aig_builder;

/* a AND b with constant folding; new gates get the next variable. */
static uint32_t mk_and(aig_builder *w, uint32_t a, uint32_t b)
{
    if (a == 0 || b == 0 || a == (b ^ 1)) return 0;
    if (a == 1 || a == b) return b;
    if (b == 1) return a;
    if (w->fail) return 0;
    if ((uint64_t)w->nin + w->n + 1 > (UINT32_MAX >> 1) - 1) {
        w->fail = 1;
        return 0;
    }
    if (w->n == w->cap) {
        size_t nc = w->cap ? 2 * w->cap : 1024;
        uint32_t *p = realloc(w->and3, nc * 3 * sizeof *p);
        if (!p) {
            w->fail = 1;
            return 0;
        }
        w->and3 = p;
        w->cap = nc;
    }
    uint32_t lhs = 2 * (w->nin + (uint32_t)w->n + 1);
    uint32_t *t = w->and3 + 3 * w->n++;
    t[0] = lhs;
    t[1] = a > b ? a : b;
    t[2] = a > b ? b : a;
    return lhs;
}

static uint32_t mk_or(aig_builder *w, uint32_t a, uint32_t b)
{
    return mk_and(w, a ^ 1, b ^ 1) ^ 1;
}

/* 3 AND gates: (a & !b) | (!a & b). */
static uint32_t mk_xor(aig_builder *w, uint32_t a, uint32_t b)
{
    if (a < 2) return b ^ a;
    if (b < 2) return a ^ b;
    if (a == b) return 0;
    if (a == (b ^ 1)) return 1;
    return mk_or(w, mk_and(w, a, b ^ 1), mk_and(w, a ^ 1, b));
}

/* s ? f1 : f0 */
static uint32_t mk_mux(aig_builder *w, uint32_t s, uint32_t f1, uint32_t f0)
{
    if (f1 == f0) return f0;
    if (f1 == (f0 ^ 1)) return mk_xor(w, s, f0); /* s ? !f0 : f0 */
    return mk_or(w, mk_and(w, s, f1), mk_and(w, s ^ 1, f0));
}

/* Shannon expansion of tt (2^n rows, row i = inputs x[j] = bit j of i) on its top input. */
static uint32_t shannon(aig_builder *w, uint64_t tt, unsigned n, const uint32_t *x)
{
    uint64_t mask = n >= 6 ? ~UINT64_C(0) : (UINT64_C(1) << (1u << n)) - 1;
    tt &= mask;
    if (tt == 0) return 0;
    if (tt == mask) return 1;
    unsigned h = 1u << (n - 1); /* n >= 1 here: a 0-input table is constant */
    uint64_t hm = (UINT64_C(1) << h) - 1;
    uint64_t f0 = tt & hm, f1 = (tt >> h) & hm;
    if (f0 == f1) return shannon(w, f0, n - 1, x);
    return mk_mux(w, x[n - 1], shannon(w, f1, n - 1, x), shannon(w, f0, n - 1, x));
}

/* Refuses biased coins: AIGER and BLIF inputs are fair coins. Shared wording. */
static dlm_status check_fair(const dlm_circuit *c, const char *path, dlm_err *err)
{
    if (!c->coin_thr) return DLM_OK;
    for (uint32_t k = 0; k < c->ncoins; k++)
        if (c->coin_thr[k] != DLM_COIN_FAIR)
            return dlm_fail(err, DLM_EINPUT, "%s: coin %u is biased (P(1) = %llu/2^32); "
                            "AIGER inputs are fair coins and cannot express it", path, k,
                            (unsigned long long)c->coin_thr[k]);
    return DLM_OK;
}

static void put_varint(FILE *f, uint32_t x)
{
    while (x & ~0x7fu) {
        putc((int)((x & 0x7f) | 0x80), f);
        x >>= 7;
    }
    putc((int)x, f);
}

/* A name can go into a symbol table if it is one line. */
static int symbol_ok(const char *s)
{
    return s && *s && !strchr(s, '\n') && !strchr(s, '\r');
}

typedef struct {
    const char *s;
    uint32_t k;
} named;

static int named_cmp(const void *a, const void *b)
{
    const named *x = a, *y = b;
    int r = strcmp(x->s, y->s);
    return r ? r : (x->k > y->k) - (x->k < y->k);
}

/* keep[k] = 1 for names that can be written: one line, and the first of equal names
 * (berkeley-abc refuses a file whose outputs, or inputs, repeat a name). NULL on
 * out of memory; a zero-filled array when names is NULL. */
static uint8_t *names_to_keep(char *const *names, uint32_t n)
{
    uint8_t *keep = dlm_calloc(n, 1);
    named *v = dlm_malloc(n, sizeof *v);
    if (!keep || !v) {
        free(keep);
        free(v);
        return NULL;
    }
    uint32_t m = 0;
    for (uint32_t k = 0; names && k < n; k++)
        if (symbol_ok(names[k])) v[m++] = (named){names[k], k};
    qsort(v, m, sizeof *v, named_cmp);
    for (uint32_t i = 0; i < m; i++)
        if (i == 0 || strcmp(v[i].s, v[i - 1].s) != 0) keep[v[i].k] = 1;
    free(v);
    return keep;
}

dlm_status dlm_aiger_write(const dlm_circuit *c, const char *path, int binary, dlm_err *err)
{
    dlm_status s = check_fair(c, path, err);
    if (s) return s;
    aig_builder w;
    memset(&w, 0, sizeof w);
    w.nin = c->ncoins;
    uint32_t *map = dlm_malloc(c->nnodes, sizeof *map); /* IR node -> AIG literal */
    if (!map) return dlm_fail(err, DLM_ENOMEM, "%s: out of memory", path);
    map[0] = 0;
    for (uint32_t k = 0; k < c->ncoins; k++) map[c->coins[k]] = 2 * (k + 1);
    for (uint32_t i = 1; i < c->nnodes && !w.fail; i++) {
        const dlm_gate *g = &c->g[i];
        if (g->type == DLM_G_COIN) continue;
        uint32_t x[DLM_MAX_FANIN], r;
        for (unsigned j = 0; j < g->nin; j++) x[j] = map[DLM_LIT_NODE(g->in[j])];
        switch (g->type) {
        case DLM_G_AND:
        case DLM_G_OR: {
            unsigned inv = g->type == DLM_G_OR; /* OR = !AND(!x) */
            r = 1;
            for (unsigned j = 0; j < g->nin; j++)
                r = mk_and(&w, r, x[j] ^ DLM_LIT_NEG(g->in[j]) ^ inv);
            r ^= inv;
            break;
        }
        case DLM_G_XOR:
            r = 0;
            for (unsigned j = 0; j < g->nin; j++)
                r = mk_xor(&w, r, x[j] ^ DLM_LIT_NEG(g->in[j]));
            break;
        case DLM_G_LUT:
            /* the folded table is over node values: negations and out_neg included */
            r = shannon(&w, dlm_gate_truth_table(g), g->nin, x);
            break;
        default:
            free(map);
            free(w.and3);
            return dlm_fail(err, DLM_EINPUT, "%s: node %u has gate type %d, which cannot be "
                            "written", path, i, (int)g->type);
        }
        map[i] = g->type == DLM_G_LUT ? r : r ^ g->out_neg;
    }
    uint8_t *ikeep = w.fail ? NULL : names_to_keep(c->coin_names, c->ncoins);
    uint8_t *okeep = w.fail ? NULL : names_to_keep(c->out_names, c->nout);
    if (w.fail || !ikeep || !okeep) {
        free(map);
        free(w.and3);
        free(ikeep);
        free(okeep);
        return dlm_fail(err, DLM_ENOMEM, "%s: out of memory or too many AIG variables "
                        "lowering the circuit", path);
    }
    /* a regular file, a new one, a link to one, or "-"; replaced once it is whole */
    dlm_out out;
    dlm_status os = dlm_out_open(&out, path, 1, err);
    if (os) {
        free(map);
        free(w.and3);
        free(ikeep);
        free(okeep);
        return os;
    }
    FILE *f = out.f;
    uint32_t M = w.nin + (uint32_t)w.n;
    fprintf(f, "%s %u %u 0 %u %zu\n", binary ? "aig" : "aag", M, w.nin, c->nout, w.n);
    if (!binary)
        for (uint32_t k = 0; k < w.nin; k++) fprintf(f, "%u\n", 2 * (k + 1));
    for (uint32_t k = 0; k < c->nout; k++)
        fprintf(f, "%u\n", map[DLM_LIT_NODE(c->out[k])] ^ DLM_LIT_NEG(c->out[k]));
    for (size_t i = 0; i < w.n; i++) {
        const uint32_t *t = w.and3 + 3 * i;
        if (binary) {
            put_varint(f, t[0] - t[1]);
            put_varint(f, t[1] - t[2]);
        } else {
            fprintf(f, "%u %u %u\n", t[0], t[1], t[2]);
        }
    }
    for (uint32_t k = 0; c->coin_names && k < c->ncoins; k++)
        if (ikeep[k]) fprintf(f, "i%u %s\n", k, c->coin_names[k]);
    for (uint32_t k = 0; c->out_names && k < c->nout; k++)
        if (okeep[k]) fprintf(f, "o%u %s\n", k, c->out_names[k]);
    free(ikeep);
    free(okeep);
    const char *src = c->source ? c->source : "";
    int srclen = (int)strcspn(src, "\r\n");
    fprintf(f, "c\nwritten by dlmsim %s%s%.*s\n", DLMSIM_VERSION, srclen ? " from " : "",
            srclen, src);
    free(map);
    free(w.and3);
    if (dlm_out_close(&out)) return dlm_fail(err, DLM_EIO, "%s: %s", path, strerror(errno ? errno : EIO));
    return DLM_OK;
}
