/* blif.c — BLIF reader and writer, combinational subset (.model .inputs .outputs .names
 * .end, '#' comments, '\' line continuation).
 *
 * Reader: the file is read whole; comments are blanked and continuation lines joined in
 * place, then every logical line is tokenised. All signals are collected first and the
 * netlist is validated (duplicate definitions, undefined signals, cycles, cover rows)
 * before any IR node exists, so a bad file leaves nothing behind. Inputs become fair
 * coins in .inputs order; each .names becomes one DLM_G_LUT gate (at most 6 inputs)
 * whose 64-bit truth table is built from the cover (ON-set rows "... 1", or OFF-set
 * rows "... 0" whose complement is taken). A .names with no inputs is a constant and
 * so is a .names with inputs but no rows (constant 0): constants are the literals 0
 * and 1 of node 0, never gates.
 *
 * Writer: one .names per gate (cubes from the gate's folded truth table), coin and
 * output names kept when they are valid BLIF names and unique, else generated
 * (n<node>, o<k>); an output that is negated, constant or named apart from its driver
 * gets a .names buffer, inverter or constant of its own.
 *
 * This file is not: a hierarchical or sequential BLIF reader (.subckt, .gate, .latch,
 * several models are refused), nor a logic minimiser.
 * Format reference: docs/formats.md; tests: test/test_io.c.
 */
#include "dlm_io.h"
#include "dlm_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- string -> id hash table ---------------------------------------------------------

typedef struct {
    uint32_t *slot;     /* id + 1, 0 = empty */
    size_t mask, count;
    char **names;       /* names[id], owned by the caller */
} strmap;

/* Slot of name: either its entry or the empty slot where it would go. */
static size_t strmap_find(const strmap *m, const char *name)
{
    size_t i = (size_t)dlm_fnv1a(UINT64_C(1469598103934665603), name, strlen(name)) /* as before */ & m->mask;
    while (m->slot[i] && strcmp(m->names[m->slot[i] - 1], name) != 0) i = (i + 1) & m->mask;
    return i;
}

/* Makes room for one more entry (keeps the load under 1/2). 0 on failure. */
static int strmap_reserve(strmap *m)
{
    if (m->slot && 2 * (m->count + 1) <= m->mask + 1) return 1;
    size_t cap = m->slot ? 2 * (m->mask + 1) : 1024;
    uint32_t *ns = dlm_calloc(cap, sizeof *ns);
    if (!ns) return 0;
    uint32_t *old = m->slot;
    size_t oldcap = old ? m->mask + 1 : 0;
    m->slot = ns;
    m->mask = cap - 1;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i]) m->slot[strmap_find(m, m->names[old[i] - 1])] = old[i];
    free(old);
    return 1;
}

// ---- reader state ------------------------------------------------------------------

enum { SIG_NONE = 0, SIG_INPUT, SIG_NAMES };

typedef struct {
    uint32_t in[DLM_MAX_FANIN];
    uint32_t nin, out; /* signal ids */
    unsigned line;
    int outval;        /* -1: no rows yet; 0: OFF-set cover; 1: ON-set cover */
    uint64_t cover;    /* union of the rows' cubes */
} names_rec;

typedef struct {
    const char *path;
    dlm_err *err;
    strmap map;
    char **sname;      /* signal names (point into the buffer) */
    uint8_t *skind;    /* SIG_* */
    uint8_t *sout;     /* 1: listed in .outputs */
    uint32_t *sdef;    /* input index or names index */
    unsigned *sline;   /* line of the definition */
    uint32_t *slit;    /* IR literal (build time) */
    size_t nsig, scap;
    uint32_t *inputs;  /* signal ids in .inputs order */
    size_t nin, icap;
    uint32_t *outs;    /* signal ids in .outputs order */
    unsigned *oline;
    size_t nout, ocap;
    names_rec *nm;
    size_t nnames, ncap;
    uint32_t *order;   /* names indices in topological order */
    uint8_t *state;
    uint32_t *stack;
    char **tok;        /* tokens of the current line */
    size_t tcap;
} blif_reader;

static void blif_reader_free(blif_reader *r)
{
    free(r->map.slot);
    free(r->sname);
    free(r->skind);
    free(r->sout);
    free(r->sdef);
    free(r->sline);
    free(r->slit);
    free(r->inputs);
    free(r->outs);
    free(r->oline);
    free(r->nm);
    free(r->order);
    free(r->state);
    free(r->stack);
    free(r->tok);
}

__attribute__((format(printf, 3, 4)))
static dlm_status berr(const blif_reader *r, unsigned line, const char *fmt, ...)
{
    char m[440];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    return dlm_fail(r->err, DLM_EINPUT, "%s:%u: %s", r->path, line, m);
}

static dlm_status oom(const blif_reader *r)
{
    return dlm_fail(r->err, DLM_ENOMEM, "%s: out of memory", r->path);
}

/* Grows an array to hold n+1 elements. */
static int grow(void **p, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap) return 1;
    size_t nc = *cap ? 2 * *cap : 64;
    void *q = realloc(*p, nc * sz);
    if (!q) return 0;
    *p = q;
    *cap = nc;
    return 1;
}

/* The id of a signal name, created (undefined) if new; UINT32_MAX on failure. */
static uint32_t signal_id(blif_reader *r, char *name, unsigned line, dlm_status *st)
{
    if (!r->map.slot && !strmap_reserve(&r->map)) {
        *st = oom(r);
        return UINT32_MAX;
    }
    r->map.names = r->sname;
    size_t i = strmap_find(&r->map, name);
    if (r->map.slot[i]) return r->map.slot[i] - 1;
    if (r->nsig + 1 >= DLM_MAX_NODES) {
        *st = berr(r, line, "too many signals (the limit is %u nodes)", DLM_MAX_NODES - 1);
        return UINT32_MAX;
    }
    if (r->nsig >= r->scap) {
        size_t nc = r->scap ? 2 * r->scap : 1024;
        char **a = realloc(r->sname, nc * sizeof *a);
        if (a) r->sname = a;
        uint8_t *b = realloc(r->skind, nc);
        if (b) r->skind = b;
        uint8_t *o = realloc(r->sout, nc);
        if (o) r->sout = o;
        uint32_t *d = realloc(r->sdef, nc * sizeof *d);
        if (d) r->sdef = d;
        unsigned *l = realloc(r->sline, nc * sizeof *l);
        if (l) r->sline = l;
        if (!a || !b || !o || !d || !l) {
            *st = oom(r);
            return UINT32_MAX;
        }
        r->scap = nc;
    }
    uint32_t id = (uint32_t)r->nsig++;
    r->sname[id] = name;
    r->skind[id] = SIG_NONE;
    r->sout[id] = 0;
    r->sdef[id] = 0;
    r->sline[id] = line;
    r->map.names = r->sname;
    if (!strmap_reserve(&r->map)) {
        *st = oom(r);
        return UINT32_MAX;
    }
    r->map.slot[strmap_find(&r->map, name)] = id + 1;
    r->map.count++;
    return id;
}

/* Marks signal id as defined (an input or a .names output); refuses a second one. */
static dlm_status define(blif_reader *r, uint32_t id, int kind, uint32_t def, unsigned line)
{
    if (r->skind[id] != SIG_NONE)
        return berr(r, line, "signal '%s' is defined twice (first on line %u)", r->sname[id],
                    r->sline[id]);
    r->skind[id] = (uint8_t)kind;
    r->sdef[id] = def;
    r->sline[id] = line;
    return DLM_OK;
}

// ---- parsing -----------------------------------------------------------------------

static int is_space(char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f'; }

/* Blanks comments and joins continuation lines in place: a trailing '\' and its
 * newline become blanks ('\f' for the newline, so that line numbers stay countable). */
static dlm_status preprocess(blif_reader *r, char *b, size_t n)
{
    unsigned line = 1;
    for (size_t a = 0; a < n;) {
        size_t e = a;
        while (e < n && b[e] != '\n') {
            if (b[e] == 0) return berr(r, line, "NUL byte in a text file");
            e++;
        }
        char *hash = memchr(b + a, '#', e - a);
        if (hash) memset(hash, ' ', (size_t)(b + e - hash));
        size_t z = e;
        while (z > a && is_space(b[z - 1])) z--;
        if (z > a && b[z - 1] == '\\') {
            b[z - 1] = ' ';
            if (e < n) b[e] = '\f';
        }
        line++;
        a = e + 1;
    }
    return DLM_OK;
}

static dlm_status row(blif_reader *r, names_rec *x, unsigned line, size_t ntok)
{
    const char *plane = ntok == 2 ? r->tok[0] : "";
    const char *outc = ntok == 2 ? r->tok[1] : r->tok[0];
    if (x->nin == 0 ? ntok != 1 : ntok != 2)
        return berr(r, line, "bad cover row: expected %s", x->nin == 0
                    ? "a single output value 0 or 1 (the .names has no inputs)"
                    : "an input plane of 0/1/- and an output value 0 or 1");
    if (strlen(plane) != x->nin)
        return berr(r, line, "bad cover row: input plane '%s' has %zu columns, the .names "
                    "has %u inputs", plane, strlen(plane), x->nin);
    if ((outc[0] != '0' && outc[0] != '1') || outc[1])
        return berr(r, line, "bad cover row: output value '%s' is not 0 or 1", outc);
    int v = outc[0] - '0';
    if (x->outval >= 0 && x->outval != v)
        return berr(r, line, "cover of '%s' mixes ON-set (1) and OFF-set (0) rows",
                    r->sname[x->out]);
    x->outval = v;
    uint32_t care = 0, val = 0;
    for (unsigned j = 0; j < x->nin; j++) {
        char ch = plane[j];
        if (ch != '0' && ch != '1' && ch != '-')
            return berr(r, line, "bad cover row: character '%c' in the input plane (only "
                        "0, 1, -)", ch);
        if (ch != '-') care |= 1u << j;
        if (ch == '1') val |= 1u << j;
    }
    for (uint32_t i = 0; i < (1u << x->nin); i++)
        if ((i & care) == val) x->cover |= UINT64_C(1) << i;
    return DLM_OK;
}

static int starts(const char *tok, const char *word) { return strcmp(tok, word) == 0; }

static dlm_status parse(blif_reader *r, char *b, size_t n)
{
    dlm_status s = preprocess(r, b, n);
    if (s) return s;
    unsigned line = 1, next_line = 1;
    int seen_model = 0, ended = 0;
    long cur = -1; /* the .names whose rows follow */
    for (size_t a = 0; a < n; line = next_line) {
        /* one logical line: [a, e) */
        size_t e = a, ntok = 0;
        next_line = line + 1;
        while (e < n && b[e] != '\n') {
            if (b[e] == '\f') next_line++;
            e++;
        }
        b[e < n ? e : n] = 0;
        for (size_t p = a; p < e;) {
            while (p < e && is_space(b[p])) p++;
            if (p >= e) break;
            if (!grow((void **)&r->tok, &r->tcap, ntok, sizeof *r->tok)) return oom(r);
            r->tok[ntok++] = b + p;
            while (p < e && !is_space(b[p])) p++;
            b[p] = 0;
            p++;
        }
        a = e + 1;
        if (ntok == 0) continue;
        char *t0 = r->tok[0];
        if (ended && !starts(t0, ".model"))
            return berr(r, line, "text after .end ('%s')", t0);
        if (t0[0] != '.') {
            if (cur < 0)
                return berr(r, line, "cover row '%s' outside a .names", t0);
            s = row(r, &r->nm[cur], line, ntok);
            if (s) return s;
            continue;
        }
        cur = -1;
        if (starts(t0, ".model")) {
            if (seen_model)
                return berr(r, line, "a second .model: files with several models "
                            "(hierarchical BLIF) are not supported");
            seen_model = 1;
            ended = 0;
        } else if (starts(t0, ".inputs")) {
            for (size_t j = 1; j < ntok; j++) {
                uint32_t id = signal_id(r, r->tok[j], line, &s);
                if (id == UINT32_MAX) return s;
                s = define(r, id, SIG_INPUT, (uint32_t)r->nin, line);
                if (s) return s;
                if (!grow((void **)&r->inputs, &r->icap, r->nin, sizeof *r->inputs))
                    return oom(r);
                r->inputs[r->nin++] = id;
            }
        } else if (starts(t0, ".outputs")) {
            for (size_t j = 1; j < ntok; j++) {
                uint32_t id = signal_id(r, r->tok[j], line, &s);
                if (id == UINT32_MAX) return s;
                if (r->sout[id]) return berr(r, line, "output '%s' is listed twice", r->tok[j]);
                if (r->nout >= DLM_MAX_OUTPUTS)
                    return berr(r, line, "more than %u outputs", DLM_MAX_OUTPUTS);
                r->sout[id] = 1;
                size_t oc = r->ocap;
                if (!grow((void **)&r->outs, &r->ocap, r->nout, sizeof *r->outs)) return oom(r);
                r->ocap = oc;
                if (!grow((void **)&r->oline, &r->ocap, r->nout, sizeof *r->oline))
                    return oom(r);
                r->outs[r->nout] = id;
                r->oline[r->nout++] = line;
            }
        } else if (starts(t0, ".names")) {
            if (ntok < 2) return berr(r, line, ".names needs at least an output signal");
            if (ntok - 2 > DLM_MAX_FANIN)
                return berr(r, line, ".names with %zu inputs: LUTs have at most %d inputs "
                            "(decompose the cover, e.g. with berkeley-abc 'strash; "
                            "write_blif')", ntok - 2, DLM_MAX_FANIN);
            if (!grow((void **)&r->nm, &r->ncap, r->nnames, sizeof *r->nm)) return oom(r);
            names_rec *x = &r->nm[r->nnames];
            memset(x, 0, sizeof *x);
            x->nin = (uint32_t)(ntok - 2);
            x->line = line;
            x->outval = -1;
            for (size_t j = 1; j < ntok; j++) {
                uint32_t id = signal_id(r, r->tok[j], line, &s);
                if (id == UINT32_MAX) return s;
                if (j + 1 < ntok) x->in[j - 1] = id;
                else x->out = id;
            }
            s = define(r, x->out, SIG_NAMES, (uint32_t)r->nnames, line);
            if (s) return s;
            cur = (long)r->nnames++;
        } else if (starts(t0, ".end")) {
            ended = 1;
        } else if (starts(t0, ".latch") || starts(t0, ".mlatch")) {
            return berr(r, line, "%s is not supported: dlmsim reads combinational BLIF only "
                        "(inputs become coins; there is no state)", t0);
        } else if (starts(t0, ".subckt") || starts(t0, ".gate") || starts(t0, ".search")) {
            return berr(r, line, "%s is not supported: dlmsim reads a single flat model of "
                        ".names covers", t0);
        } else if (starts(t0, ".exdc")) {
            return berr(r, line, ".exdc (external don't-care network) is not supported");
        } else if (starts(t0, ".default_input_arrival") || starts(t0, ".default_output_required")
                   || starts(t0, ".default_input_drive") || starts(t0, ".default_output_load")
                   || starts(t0, ".default_max_input_load") || starts(t0, ".input_arrival")
                   || starts(t0, ".output_required") || starts(t0, ".input_drive")
                   || starts(t0, ".output_load") || starts(t0, ".max_input_load")
                   || starts(t0, ".wire_load_slope") || starts(t0, ".wire")
                   || starts(t0, ".area") || starts(t0, ".delay")) {
            /* timing annotations do not change the function: ignored */
        } else {
            return berr(r, line, "unknown or unsupported BLIF construct '%s'", t0);
        }
    }
    return DLM_OK;
}

/* Undefined signals, outputs never defined, and the final truth tables. */
static dlm_status check(blif_reader *r)
{
    for (size_t i = 0; i < r->nnames; i++) {
        names_rec *x = &r->nm[i];
        for (unsigned j = 0; j < x->nin; j++)
            if (r->skind[x->in[j]] == SIG_NONE)
                return berr(r, x->line, "signal '%s' is used but never defined (neither an "
                            "input nor the output of a .names)", r->sname[x->in[j]]);
        uint64_t mask = x->nin == 6 ? ~UINT64_C(0) : (UINT64_C(1) << (1u << x->nin)) - 1;
        /* ON-set: the union of the cubes; OFF-set: its complement; no rows: 0 */
        x->cover = x->outval == 0 ? ~x->cover & mask : x->outval == 1 ? x->cover : 0;
    }
    for (size_t k = 0; k < r->nout; k++)
        if (r->skind[r->outs[k]] == SIG_NONE)
            return berr(r, r->oline[k], "output '%s' is never defined (neither an input nor "
                        "the output of a .names)", r->sname[r->outs[k]]);
    return DLM_OK;
}

static dlm_status topo_sort(blif_reader *r)
{
    size_t N = r->nnames, no = 0;
    r->order = dlm_malloc(N, sizeof *r->order);
    r->state = dlm_calloc(N, 1);
    r->stack = dlm_malloc(N, sizeof *r->stack);
    if (!r->order || !r->state || !r->stack) return oom(r);
    for (size_t root = 0; root < N; root++) {
        if (r->state[root]) continue;
        size_t sp = 0;
        r->stack[sp++] = (uint32_t)root;
        r->state[root] = 1;
        while (sp) {
            uint32_t i = r->stack[sp - 1], next = UINT32_MAX;
            const names_rec *x = &r->nm[i];
            for (unsigned j = 0; j < x->nin && next == UINT32_MAX; j++) {
                uint32_t id = x->in[j];
                if (r->skind[id] != SIG_NAMES) continue;
                uint32_t d = r->sdef[id];
                if (r->state[d] == 1)
                    return berr(r, r->nm[d].line, "combinational cycle through signal '%s'",
                                r->sname[id]);
                if (r->state[d] == 0) next = d;
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

static dlm_status build(blif_reader *r, dlm_circuit *c, dlm_err *err)
{
    r->slit = dlm_malloc(r->nsig, sizeof *r->slit);
    if (!r->slit) return oom(r);
    dlm_status s;
    for (size_t k = 0; k < r->nin; k++) {
        uint32_t node, id = r->inputs[k];
        s = dlm_circuit_add_coin(c, r->sname[id], &node, err);
        if (s) return s;
        r->slit[id] = DLM_LIT(node, 0);
    }
    for (size_t t = 0; t < r->nnames; t++) {
        const names_rec *x = &r->nm[r->order[t]];
        if (x->nin == 0 || x->outval < 0) { /* a constant: literal 0 or 1 of node 0 */
            r->slit[x->out] = x->nin == 0 ? (uint32_t)(x->cover & 1) : 0;
            continue;
        }
        uint32_t lits[DLM_MAX_FANIN], node;
        for (unsigned j = 0; j < x->nin; j++) lits[j] = r->slit[x->in[j]];
        s = dlm_circuit_add_gate(c, DLM_G_LUT, x->nin, lits, 0, x->cover, &node, err);
        if (s) return s;
        r->slit[x->out] = DLM_LIT(node, 0);
    }
    for (size_t k = 0; k < r->nout; k++) {
        uint32_t id = r->outs[k];
        s = dlm_circuit_add_output(c, r->slit[id], r->sname[id], err);
        if (s) return s;
    }
    return DLM_OK;
}

dlm_status dlm_blif_read(dlm_circuit *c, const char *path, uint64_t max_bytes, dlm_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    memset(c, 0, sizeof *c);
    dlm_status s = dlm_read_file_max(path, dlm_memory_budget(max_bytes), &buf, &len, err);
    if (s) return s;
    blif_reader r;
    memset(&r, 0, sizeof r);
    r.path = path;
    r.err = err;
    s = parse(&r, buf, len);
    if (!s) s = check(&r);
    if (!s) s = topo_sort(&r);
    if (!s) s = dlm_circuit_init(c, path, err);
    if (!s) c->max_bytes = max_bytes;
    if (!s) {
        s = build(&r, c, err);
        if (s) dlm_circuit_free(c);
    }
    blif_reader_free(&r);
    free(buf);
    return s;
}

// ---- writer ------------------------------------------------------------------------

/* A name BLIF can carry unchanged: no blanks or control characters, no comment or
 * continuation character, not a dot command. */
static int blif_name_ok(const char *s)
{
    if (!s || !*s || *s == '.') return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == 127 || *p == '#' || *p == '\\') return 0;
    return 1;
}

typedef struct {
    strmap map;
    char **names;      /* all names taken, owned */
    size_t n, cap;
} nameset;

static void nameset_free(nameset *ns)
{
    for (size_t i = 0; i < ns->n; i++) free(ns->names[i]);
    free(ns->names);
    free(ns->map.slot);
}

static int nameset_has(nameset *ns, const char *s)
{
    if (!ns->map.slot) return 0;
    ns->map.names = ns->names;
    return ns->map.slot[strmap_find(&ns->map, s)] != 0;
}

/* Takes a copy of s (which must not be taken yet); NULL on out of memory. */
static char *nameset_add(nameset *ns, const char *s)
{
    size_t len = strlen(s) + 1;
    char *d = malloc(len);
    if (!d) return NULL;
    memcpy(d, s, len);
    if (!grow((void **)&ns->names, &ns->cap, ns->n, sizeof *ns->names)) {
        free(d);
        return NULL;
    }
    ns->names[ns->n] = d;
    ns->map.names = ns->names;
    if (!strmap_reserve(&ns->map)) {
        free(d);
        return NULL;
    }
    ns->map.slot[strmap_find(&ns->map, d)] = (uint32_t)ns->n + 1;
    ns->map.count++;
    ns->n++;
    return d;
}

/* A fresh name "<prefix><k>", suffixed "_<j>" until it is unique. */
static char *nameset_fresh(nameset *ns, char prefix, uint32_t k)
{
    char buf[48];
    snprintf(buf, sizeof buf, "%c%u", prefix, k);
    for (unsigned j = 1; nameset_has(ns, buf); j++)
        snprintf(buf, sizeof buf, "%c%u_%u", prefix, k, j);
    return nameset_add(ns, buf);
}

/* Fixes input j of a table over n inputs to the value of input k (k < j) or, for
 * k < 0, to the constant 0; the result is a table over the other n-1 inputs. */
static uint64_t restrict_tt(uint64_t tt, unsigned n, unsigned j, int k)
{
    uint64_t r = 0;
    for (uint32_t i = 0; i < (1u << (n - 1)); i++) {
        uint32_t lo = i & ((1u << j) - 1), hi = (i >> j) << (j + 1);
        uint32_t v = k < 0 ? 0 : (i >> k) & 1u;
        r |= ((tt >> (hi | (v << j) | lo)) & 1u) << i;
    }
    return r;
}

/* Writes "a b c \" lists wrapped near 80 columns. */
static void put_list(FILE *f, const char *head, char *const *names, size_t n,
                     const uint32_t *idx)
{
    size_t col = (size_t)fprintf(f, "%s", head);
    for (size_t i = 0; i < n; i++) {
        const char *s = names[idx ? idx[i] : i];
        size_t len = strlen(s);
        if (col + len + 1 > 78 && col > strlen(head)) {
            fputs(" \\\n", f);
            col = 0;
        }
        col += (size_t)fprintf(f, " %s", s);
    }
    fputc('\n', f);
}

/* The cubes of tt (inputs 0..n-1 free; row[n..] already set): disjoint cubes from the
 * Shannon split, '-' where both halves agree. */
static void put_cover(FILE *f, uint64_t tt, unsigned n, char *row)
{
    uint64_t mask = n >= 6 ? ~UINT64_C(0) : (UINT64_C(1) << (1u << n)) - 1;
    tt &= mask;
    if (tt == 0) return;
    if (tt == mask) {
        for (unsigned j = 0; j < n; j++) row[j] = '-';
        fprintf(f, "%s 1\n", row);
        return;
    }
    unsigned h = 1u << (n - 1);
    uint64_t hm = (UINT64_C(1) << h) - 1, f0 = tt & hm, f1 = (tt >> h) & hm;
    if (f0 == f1) {
        row[n - 1] = '-';
        put_cover(f, f0, n - 1, row);
        return;
    }
    row[n - 1] = '0';
    put_cover(f, f0, n - 1, row);
    row[n - 1] = '1';
    put_cover(f, f1, n - 1, row);
}

dlm_status dlm_blif_write(const dlm_circuit *c, const char *path, dlm_err *err)
{
    if (c->coin_thr)
        for (uint32_t k = 0; k < c->ncoins; k++)
            if (c->coin_thr[k] != DLM_COIN_FAIR)
                return dlm_fail(err, DLM_EINPUT, "%s: coin %u is biased (P(1) = %llu/2^32); "
                                "BLIF inputs are fair coins and cannot express it", path, k,
                                (unsigned long long)c->coin_thr[k]);
    nameset ns;
    memset(&ns, 0, sizeof ns);
    char **sig = dlm_calloc(c->nnodes, sizeof *sig); /* node -> signal name (in ns) */
    char **osig = dlm_calloc(c->nout ? c->nout : 1, sizeof *osig);
    uint8_t *isout = dlm_calloc(c->nnodes, 1); /* node's name came from an output */
    FILE *f = NULL;
    dlm_out out = {.f = NULL};
    dlm_status s = DLM_OK;
    if (!sig || !osig || !isout) goto nomem;
    /* names: coins first, then outputs that can name their driving gate */
    for (uint32_t k = 0; k < c->ncoins; k++) {
        const char *nm = c->coin_names ? c->coin_names[k] : NULL;
        if (blif_name_ok(nm) && !nameset_has(&ns, nm) && !(sig[c->coins[k]] = nameset_add(&ns, nm)))
            goto nomem;
    }
    for (uint32_t k = 0; k < c->nout; k++) {
        const char *nm = c->out_names ? c->out_names[k] : NULL;
        uint32_t lit = c->out[k], node = DLM_LIT_NODE(lit);
        if (!blif_name_ok(nm)) continue;
        if (nameset_has(&ns, nm)) {
            /* the same name as its own coin (an output that is an input) is fine once */
            if (!DLM_LIT_NEG(lit) && node && sig[node] && strcmp(sig[node], nm) == 0 &&
                !isout[node]) {
                osig[k] = sig[node];
                isout[node] = 1;
            }
            continue;
        }
        if (!(osig[k] = nameset_add(&ns, nm))) goto nomem;
        if (!DLM_LIT_NEG(lit) && node && c->g[node].type != DLM_G_COIN && !sig[node]) {
            sig[node] = osig[k];
            isout[node] = 1;
        }
    }
    for (uint32_t i = 1; i < c->nnodes; i++)
        if (!sig[i] && !(sig[i] = nameset_fresh(&ns, 'n', i))) goto nomem;
    for (uint32_t k = 0; k < c->nout; k++)
        if (!osig[k] && !(osig[k] = nameset_fresh(&ns, 'o', k))) goto nomem;

    /* a regular file, a new one, a link to one, or "-"; replaced once it is whole */
    if ((s = dlm_out_open(&out, path, 0, err))) goto done;
    f = out.f;
    /* model name: the source's base name without extension, made a valid name */
    char model[64] = "dlmsim";
    const char *src = c->source ? c->source : "";
    const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
    size_t ml = 0;
    for (; base[ml] && base[ml] != '.' && ml + 1 < sizeof model; ml++)
        model[ml] = blif_name_ok((char[2]){base[ml], 0}) ? base[ml] : '_';
    if (ml) model[ml] = 0;
    fprintf(f, "# written by dlmsim %s\n.model %s\n", DLMSIM_VERSION, model);
    put_list(f, ".inputs", sig, c->ncoins, c->coins);
    put_list(f, ".outputs", osig, c->nout, NULL);
    char row[DLM_MAX_FANIN + 1];
    for (uint32_t i = 1; i < c->nnodes; i++) {
        const dlm_gate *g = &c->g[i];
        if (g->type == DLM_G_COIN) continue;
        uint64_t tt = dlm_gate_truth_table(g);
        uint32_t in[DLM_MAX_FANIN];
        unsigned n = g->nin;
        for (unsigned j = 0; j < n; j++) in[j] = DLM_LIT_NODE(g->in[j]);
        /* constant inputs are folded in; repeated inputs merged (BLIF needs neither) */
        for (unsigned j = n; j-- > 0;) {
            int k = -1, drop = in[j] == 0;
            for (unsigned q = 0; q < j && !drop; q++)
                if (in[q] == in[j]) k = (int)q, drop = 1;
            if (!drop) continue;
            tt = restrict_tt(tt, n, j, k);
            for (unsigned q = j; q + 1 < n; q++) in[q] = in[q + 1];
            n--;
        }
        uint64_t mask = n >= 6 ? ~UINT64_C(0) : (UINT64_C(1) << (1u << n)) - 1;
        tt &= mask;
        if (tt == 0 || tt == mask) { /* constant gate */
            fprintf(f, ".names %s\n%s", sig[i], tt ? "1\n" : "");
            continue;
        }
        fputs(".names", f);
        for (unsigned j = 0; j < n; j++) fprintf(f, " %s", sig[in[j]]);
        fprintf(f, " %s\n", sig[i]);
        row[n] = 0;
        put_cover(f, tt, n, row);
    }
    for (uint32_t k = 0; k < c->nout; k++) {
        uint32_t lit = c->out[k], node = DLM_LIT_NODE(lit);
        if (node == 0) {
            fprintf(f, ".names %s\n%s", osig[k], DLM_LIT_NEG(lit) ? "1\n" : "");
        } else if (DLM_LIT_NEG(lit) || sig[node] != osig[k]) {
            fprintf(f, ".names %s %s\n%c 1\n", sig[node], osig[k],
                    DLM_LIT_NEG(lit) ? '0' : '1');
        }
    }
    fputs(".end\n", f);
    if (dlm_out_close(&out)) s = dlm_fail(err, DLM_EIO, "%s: %s", path, strerror(errno ? errno : EIO));
    goto done;
nomem:
    s = dlm_fail(err, DLM_ENOMEM, "%s: out of memory naming signals", path);
done:
    dlm_out_abort(&out);
    free(sig);
    free(osig);
    free(isout);
    nameset_free(&ns);
    return s;
}
