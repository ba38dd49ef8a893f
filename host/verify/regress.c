/* regress.c — the regression runner's library part (dlm_regress.h): suite parsing with
 * "FILE:LINE: what" errors, one case = one dlm_verify_run plus a digest of its exact
 * counts, the JSON and JUnit XML reports, and the atomic rewrite of a suite's digests.
 *
 * What this file is not: the terminal table, option parsing and exit codes
 * (host/cli/regress.c), nor a verifier (host/verify/verify.c). It writes only to the FILE*
 * it is given and to the suite file it is asked to update. docs/regress.md is its
 * prose companion (suite format, digest definition, report keys).
 */
#include "dlm_regress.h"
#include "dlm_util.h"
#include "dlm_level.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

// ---------------------------------------------------------------------------
// The digest: FNV-1a 64 over little-endian 64-bit words (dlm_regress.h).

uint64_t dlm_regress_digest(const dlm_counts *k)
{
    uint64_t h = DLM_REGRESS_FNV_OFFSET;
    h = dlm_fnv1a_u64(h, k->nout);
    h = dlm_fnv1a_u64(h, k->chains);
    h = dlm_fnv1a_u64(h, k->odd_parity);
    for (uint32_t i = 0; i < k->nout; i++) h = dlm_fnv1a_u64(h, k->ones ? k->ones[i] : 0);
    if (k->nout <= DLM_HIST_MAX_BITS && k->hist)
        for (size_t x = 0; x < ((size_t)1 << k->nout); x++) h = dlm_fnv1a_u64(h, k->hist[x]);
    return h;
}

void dlm_regress_digest_format(uint64_t d, char buf[17])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) buf[i] = hex[(d >> (60 - 4 * i)) & 0xf];
    buf[16] = 0;
}

int dlm_regress_digest_parse(const char *s, size_t n, uint64_t *d)
{
    if (n != 16) return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        unsigned x;
        if (ch >= '0' && ch <= '9') x = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f') x = (unsigned)(ch - 'a' + 10);
        else if (ch >= 'A' && ch <= 'F') x = (unsigned)(ch - 'A' + 10);
        else return -1;
        v = v << 4 | x;
    }
    *d = v;
    return 0;
}

// ---------------------------------------------------------------------------
// Suite parsing

/* A field of a line: [b, b+n) within the suite text. */
typedef struct {
    const char *b;
    size_t n;
} field;

static int field_is(const field *f, const char *s) { return strlen(s) == f->n && !memcmp(f->b, s, f->n); }

/* Unsigned decimal, or an exact integer in scientific notation (1e6), as the CLI takes. */
static int parse_u64_field(const field *f, uint64_t *v)
{
    char buf[64];
    if (f->n == 0 || f->n >= sizeof buf) return -1;
    memcpy(buf, f->b, f->n);
    buf[f->n] = 0;
    return dlm_parse_count(buf, v);
}

void dlm_regress_suite_free(dlm_regress_suite *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->ncases; i++) free(s->cases[i].circuit);
    free(s->cases);
    free(s->text);
    free(s->path);
    memset(s, 0, sizeof *s);
}

#define MAX_FIELDS 16

/* Parses one line's fields into c (c->line set by the caller). */
static dlm_status parse_case(const char *path, const char *text, const field *f, int nf,
                             dlm_regress_case *c, dlm_err *err)
{
    const unsigned line = c->line;
    if (nf < 6)
        return dlm_fail(err, DLM_EINPUT,
                        "%s:%u: %d field%s; a case is CIRCUIT MODE CHAINS SEED EXPECT DIGEST [bias=K:EPS] "
                        "[target=T]", path, line, nf, nf == 1 ? "" : "s");
    if (f[0].n > 1024) return dlm_fail(err, DLM_EINPUT, "%s:%u: CIRCUIT is longer than 1024 bytes", path, line);
    char mode[32];
    snprintf(mode, sizeof mode, "%.*s", (int)(f[1].n < 31 ? f[1].n : 31), f[1].b);
    if (f[1].n > 31 || dlm_mode_parse(mode, &c->mode))
        return dlm_fail(err, DLM_EINPUT, "%s:%u: unknown mode '%.*s' (cot, remask, revise, ar)", path, line,
                        (int)(f[1].n < 40 ? f[1].n : 40), f[1].b);
    if (parse_u64_field(&f[2], &c->chains) || c->chains == 0)
        return dlm_fail(err, DLM_EINPUT, "%s:%u: bad CHAINS '%.*s' (a positive integer)", path, line,
                        (int)(f[2].n < 40 ? f[2].n : 40), f[2].b);
    if (parse_u64_field(&f[3], &c->seed))
        return dlm_fail(err, DLM_EINPUT, "%s:%u: bad SEED '%.*s' (an unsigned 64-bit integer)", path, line,
                        (int)(f[3].n < 40 ? f[3].n : 40), f[3].b);
    if (field_is(&f[4], "pass")) c->expect_pass = 1;
    else if (field_is(&f[4], "fail")) c->expect_pass = 0;
    else
        return dlm_fail(err, DLM_EINPUT, "%s:%u: bad EXPECT '%.*s' (pass or fail)", path, line,
                        (int)(f[4].n < 40 ? f[4].n : 40), f[4].b);
    c->digest_off = (size_t)(f[5].b - text);
    c->digest_len = f[5].n;
    if (field_is(&f[5], "-")) c->have_digest = 0;
    else if (!dlm_regress_digest_parse(f[5].b, f[5].n, &c->digest)) c->have_digest = 1;
    else
        return dlm_fail(err, DLM_EINPUT, "%s:%u: bad DIGEST '%.*s' (16 hex digits, or - when not recorded)",
                        path, line, (int)(f[5].n < 40 ? f[5].n : 40), f[5].b);
    int seen_bias = 0, seen_target = 0;
    for (int i = 6; i < nf; i++) {
        if (f[i].n > 5 && !memcmp(f[i].b, "bias=", 5)) {
            if (seen_bias++) return dlm_fail(err, DLM_EINPUT, "%s:%u: bias= given twice", path, line);
            if (dlm_bias_parse(f[i].b + 5, f[i].n - 5, &c->inject_coin, &c->inject_eps))
                return dlm_fail(err, DLM_EINPUT, "%s:%u: bad '%.*s' (bias=K:EPS, coin K, -0.5 < EPS < 0.5)",
                                path, line, (int)(f[i].n < 60 ? f[i].n : 60), f[i].b);
            c->inject = 1;
        } else if (f[i].n > 7 && !memcmp(f[i].b, "target=", 7)) {
            if (seen_target++) return dlm_fail(err, DLM_EINPUT, "%s:%u: target= given twice", path, line);
            char t[32];
            snprintf(t, sizeof t, "%.*s", (int)(f[i].n - 7 < 31 ? f[i].n - 7 : 31), f[i].b + 7);
            if (f[i].n - 7 > 31 || dlm_target_want_parse(t, &c->target))
                return dlm_fail(err, DLM_EINPUT, "%s:%u: bad '%.*s' (target=auto, exact or reference)", path,
                                line, (int)(f[i].n < 60 ? f[i].n : 60), f[i].b);
        } else {
            return dlm_fail(err, DLM_EINPUT, "%s:%u: unknown field '%.*s' (optional fields: bias=K:EPS, "
                            "target=auto|exact|reference)", path, line, (int)(f[i].n < 60 ? f[i].n : 60), f[i].b);
        }
    }
    c->circuit = dup_n(f[0].b, f[0].n);
    if (!c->circuit) return dlm_fail(err, DLM_ENOMEM, "out of memory for the suite");
    return DLM_OK;
}

dlm_status dlm_regress_parse(const char *path, const char *text, size_t len, dlm_regress_suite *s,
                             dlm_err *err)
{
    memset(s, 0, sizeof *s);
    if (memchr(text, 0, len))
        return dlm_fail(err, DLM_EINPUT, "%s: contains a NUL byte (not a text file)", path);
    dlm_regress_suite t;
    memset(&t, 0, sizeof t);
    t.path = dup_n(path, strlen(path));
    t.text = dup_n(text, len);
    t.len = len;
    size_t cap = 0;
    if (!t.path || !t.text) {
        dlm_regress_suite_free(&t);
        return dlm_fail(err, DLM_ENOMEM, "out of memory for the suite");
    }
    dlm_status st = DLM_OK;
    uint32_t line = 0;
    for (size_t pos = 0; pos < len;) {
        line++;
        const char *b = t.text + pos;
        const char *nl = memchr(b, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - b) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (n > DLM_REGRESS_MAX_LINE) {
            st = dlm_fail(err, DLM_EINPUT, "%s:%u: line longer than %d bytes", path, line, DLM_REGRESS_MAX_LINE);
            break;
        }
        /* The comment ends the line; fields are separated by spaces, tabs (and a CR). */
        const char *hash = memchr(b, '#', n);
        if (hash) n = (size_t)(hash - b);
        field f[MAX_FIELDS];
        int nf = 0;
        for (size_t i = 0; i < n;) {
            while (i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r')) i++;
            if (i >= n) break;
            size_t j = i;
            while (j < n && b[j] != ' ' && b[j] != '\t' && b[j] != '\r') j++;
            if (nf == MAX_FIELDS) {
                nf++;
                break;
            }
            f[nf++] = (field){b + i, j - i};
            i = j;
        }
        if (nf == 0) continue;
        if (nf > MAX_FIELDS) {
            st = dlm_fail(err, DLM_EINPUT, "%s:%u: more than %d fields", path, line, MAX_FIELDS);
            break;
        }
        if (t.ncases == DLM_REGRESS_MAX_CASES) {
            st = dlm_fail(err, DLM_EINPUT, "%s:%u: more than %d cases", path, line, DLM_REGRESS_MAX_CASES);
            break;
        }
        if (t.ncases == cap) {
            size_t nc = cap ? 2 * cap : 16;
            dlm_regress_case *p = realloc(t.cases, nc * sizeof *p);
            if (!p) {
                st = dlm_fail(err, DLM_ENOMEM, "out of memory for the suite");
                break;
            }
            t.cases = p;
            cap = nc;
        }
        dlm_regress_case *c = &t.cases[t.ncases];
        memset(c, 0, sizeof *c);
        c->line = line;
        c->target = DLM_TARGET_AUTO;
        if ((st = parse_case(path, t.text, f, nf, c, err))) break;
        t.ncases++;
    }
    if (!st && t.ncases == 0) st = dlm_fail(err, DLM_EINPUT, "%s:%u: the suite has no cases", path, line);
    if (st) {
        dlm_regress_suite_free(&t);
        return st;
    }
    *s = t;
    return DLM_OK;
}

dlm_status dlm_regress_load(const char *path, dlm_regress_suite *s, uint64_t max_bytes, dlm_err *err)
{
    memset(s, 0, sizeof *s);
    /* at most 64 MiB (and the memory budget); devices refused (dlm_read_file_max) */
    char *buf = NULL;
    size_t n = 0;
    uint64_t max = (uint64_t)64 << 20, b = dlm_memory_budget(max_bytes);
    dlm_status st = dlm_read_file_max(path, b < max ? b : max, &buf, &n, err);
    if (!st) st = dlm_regress_parse(path, buf, n, s, err);
    free(buf);
    return st;
}

// ---------------------------------------------------------------------------
// Running a case

void dlm_regress_opts_default(dlm_regress_opts *o)
{
    memset(o, 0, sizeof *o);
    o->backend = DLM_BACKEND_AUTO;
    o->alpha = 1e-3;
}

/* Appends to r->reason, separated by "; ". */
static void reason_add(dlm_regress_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reason_add(dlm_regress_result *r, const char *fmt, ...)
{
    size_t n = strlen(r->reason);
    if (n + 3 >= sizeof r->reason) return;
    if (n) {
        memcpy(r->reason + n, "; ", 3);
        n += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->reason + n, sizeof r->reason - n, fmt, ap);
    va_end(ap);
}

#define REASON_TESTS 4 /* failed checks named in a verdict mismatch */

void dlm_regress_case_opts(const dlm_regress_case *c, const dlm_regress_opts *o, dlm_verify_opts *vo)
{
    dlm_verify_opts_default(vo);
    vo->mode = c->mode;
    vo->chains = c->chains;
    vo->seed = c->seed;
    vo->alpha = o->alpha;
    vo->target = c->target;
    vo->backend = o->backend;
    vo->jit_dir = o->jit_dir;
    vo->threads = o->threads;
    vo->inject = c->inject;
    vo->inject_coin = c->inject_coin;
    vo->inject_eps = c->inject_eps;
}

dlm_status dlm_regress_run_case(const dlm_regress_suite *s, const dlm_regress_case *c,
                                const dlm_regress_opts *o, dlm_regress_result *r)
{
    memset(r, 0, sizeof *r);
    double t0 = dlm_now();
    dlm_err e;
    e.msg[0] = 0;
    dlm_circuit circ;
    dlm_levels lv;
    memset(&circ, 0, sizeof circ);
    memset(&lv, 0, sizeof lv);
    int have_c = 0, have_lv = 0;
    dlm_verify_report rep;
    memset(&rep, 0, sizeof rep);
    dlm_status st = dlm_circuit_load(&circ, c->circuit, o->max_bytes, &e);
    if (!st) {
        have_c = 1;
        r->nout = circ.nout;
        r->ncoins = circ.ncoins;
        st = dlm_levelize(&circ, &lv, &e);
        have_lv = !st;
    }
    if (!st) {
        dlm_verify_opts vo;
        dlm_regress_case_opts(c, o, &vo);
        st = dlm_verify_run(&circ, &lv, &vo, &rep, &e);
        r->backend = rep.backend;
        snprintf(r->notice, sizeof r->notice, "%s", rep.backend_notice);
        r->target_kind = rep.target_kind;
    }
    r->status = st;
    if (st) {
        /* DLM_ECHECK from the verifier is a failed check (e.g. a chain count that does
         * not add up); anything else means the case could not run. */
        r->outcome = st == DLM_ECHECK ? DLM_REGRESS_FAIL : DLM_REGRESS_ERROR;
        snprintf(r->reason, sizeof r->reason, "%s:%u: %s", s->path, c->line, e.msg);
    } else {
        r->verdict_pass = rep.pass;
        r->digest = dlm_regress_digest(&rep.counts);
        r->have_digest = 1;
        r->verdict_ok = rep.pass == c->expect_pass;
        r->digest_ok = !c->have_digest || c->digest == r->digest;
        if (!r->verdict_ok) {
            reason_add(r, "verdict %s, expected %s", rep.pass ? "PASS" : "FAIL", c->expect_pass ? "pass" : "fail");
            /* Name what failed, so a nightly failure says where to look. */
            int named = 0;
            size_t nfail = 0;
            for (uint32_t i = 0; i < rep.ninv; i++)
                if (!rep.inv[i].pass) {
                    nfail++;
                    if (named++ < REASON_TESTS)
                        reason_add(r, "%s: %llu violations%s%s", rep.inv[i].name,
                                   (unsigned long long)rep.inv[i].violations, rep.inv[i].detail[0] ? ", " : "",
                                   rep.inv[i].detail);
                }
            for (size_t i = 0; i < rep.ntests; i++)
                if (!rep.tests[i].pass) {
                    nfail++;
                    if (named++ < REASON_TESTS)
                        reason_add(r, "%s p_holm %.3g", rep.tests[i].name, rep.tests[i].p_holm);
                }
            if (nfail > REASON_TESTS) reason_add(r, "%zu checks failed in all", nfail);
        }
        if (!r->digest_ok) {
            char got[17], want[17];
            dlm_regress_digest_format(r->digest, got);
            dlm_regress_digest_format(c->digest, want);
            reason_add(r, "digest %s, recorded %s (the exact counts changed)", got, want);
        }
        r->outcome = r->verdict_ok && (r->digest_ok || o->update) ? DLM_REGRESS_PASS : DLM_REGRESS_FAIL;
        if (r->outcome == DLM_REGRESS_PASS) r->reason[0] = 0;
    }
    dlm_verify_report_free(&rep);
    if (have_lv) dlm_levels_free(&lv);
    if (have_c) dlm_circuit_free(&circ);
    r->seconds = dlm_now() - t0;
    return st;
}

/* The name before disambiguation: "CIRCUIT MODE[ bias=K:EPS][ target=T]". */
static void base_name(const dlm_regress_case *c, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "%s %s", c->circuit, dlm_mode_name(c->mode));
    if (n < cap && c->inject) n += (size_t)snprintf(buf + n, cap - n, " bias=%u:%g", c->inject_coin, c->inject_eps);
    if (n < cap && c->target != DLM_TARGET_AUTO)
        snprintf(buf + n, cap - n, " target=%s", c->target == DLM_TARGET_EXACT ? "exact" : "reference");
}

static int same_base(const dlm_regress_case *a, const dlm_regress_case *b)
{
    return a->mode == b->mode && a->inject == b->inject && a->target == b->target &&
           (!a->inject || (a->inject_coin == b->inject_coin && a->inject_eps == b->inject_eps)) &&
           !strcmp(a->circuit, b->circuit);
}

void dlm_regress_case_name(const dlm_regress_suite *s, size_t i, char *buf, size_t cap)
{
    const dlm_regress_case *c = &s->cases[i];
    base_name(c, buf, cap);
    int dup = 0, dup2 = 0;
    for (size_t j = 0; j < s->ncases; j++)
        if (j != i && same_base(c, &s->cases[j])) {
            dup = 1;
            dup2 |= s->cases[j].seed == c->seed && s->cases[j].chains == c->chains;
        }
    size_t n = strlen(buf);
    if (dup && n < cap)
        n += (size_t)snprintf(buf + n, cap - n, " seed=%llu chains=%llu", (unsigned long long)c->seed,
                              (unsigned long long)c->chains);
    if (dup2 && n < cap) snprintf(buf + n, cap - n, " line=%u", c->line);
}

// ---------------------------------------------------------------------------
// Reports

void dlm_regress_totals_of(const dlm_regress_suite *s, const dlm_regress_result *res,
                           dlm_regress_totals *t)
{
    memset(t, 0, sizeof *t);
    t->cases = s->ncases;
    for (size_t i = 0; i < s->ncases; i++) {
        t->passed += res[i].outcome == DLM_REGRESS_PASS;
        t->failed += res[i].outcome == DLM_REGRESS_FAIL;
        t->errors += res[i].outcome == DLM_REGRESS_ERROR;
        t->seconds += res[i].seconds;
    }
}

static const char *outcome_name(dlm_regress_outcome o)
{
    return o == DLM_REGRESS_PASS ? "pass" : o == DLM_REGRESS_FAIL ? "fail" : "error";
}

static const char *target_name(dlm_target_want t)
{
    return t == DLM_TARGET_EXACT ? "exact" : t == DLM_TARGET_REFERENCE ? "reference" : "auto";
}

dlm_status dlm_regress_write_json(FILE *f, const dlm_regress_suite *s, const dlm_regress_result *res,
                                  const dlm_regress_opts *o, long updated, dlm_err *err)
{
    dlm_regress_totals t;
    dlm_regress_totals_of(s, res, &t);
    char name[2048], hex[17];
    fputs("{\"suite\":", f);
    dlm_json_str(f, s->path);
    fprintf(f, ",\"backend\":\"%s\",\"threads\":%d,\"alpha\":", dlm_backend_name(o->backend), o->threads);
    dlm_json_num(f, o->alpha);
    fprintf(f, ",\"update\":%s,\"updated\":", o->update ? "true" : "false");
    if (updated >= 0) fprintf(f, "%ld", updated);
    else fputs("null", f);
    fputs(",\"cases\":[", f);
    for (size_t i = 0; i < s->ncases; i++) {
        const dlm_regress_case *c = &s->cases[i];
        const dlm_regress_result *r = &res[i];
        dlm_regress_case_name(s, i, name, sizeof name);
        fprintf(f, "%s{\"line\":%u,\"name\":", i ? "," : "", c->line);
        dlm_json_str(f, name);
        fputs(",\"circuit\":", f);
        dlm_json_str(f, c->circuit);
        fprintf(f, ",\"mode\":\"%s\",\"chains\":%llu,\"seed\":%llu,\"bias\":", dlm_mode_name(c->mode),
                (unsigned long long)c->chains, (unsigned long long)c->seed);
        if (c->inject) {
            fprintf(f, "{\"coin\":%u,\"eps\":", c->inject_coin);
            dlm_json_num(f, c->inject_eps);
            fputc('}', f);
        } else {
            fputs("null", f);
        }
        fprintf(f, ",\"target\":\"%s\",\"expect\":\"%s\",\"verdict\":", target_name(c->target),
                c->expect_pass ? "pass" : "fail");
        if (r->status == DLM_OK) fprintf(f, "\"%s\"", r->verdict_pass ? "PASS" : "FAIL");
        else fputs("null", f);
        fputs(",\"digest_expected\":", f);
        if (c->have_digest) {
            dlm_regress_digest_format(c->digest, hex);
            fprintf(f, "\"%s\"", hex);
        } else {
            fputs("null", f);
        }
        fputs(",\"digest\":", f);
        if (r->have_digest) {
            dlm_regress_digest_format(r->digest, hex);
            fprintf(f, "\"%s\"", hex);
        } else {
            fputs("null", f);
        }
        fprintf(f, ",\"digest_match\":%s", !r->have_digest || !c->have_digest ? "null"
                                             : r->digest == c->digest ? "true" : "false");
        fprintf(f, ",\"backend\":\"%s\",\"seconds\":%.6f,\"result\":\"%s\",\"reason\":",
                r->status == DLM_OK ? dlm_backend_name(r->backend) : dlm_backend_name(o->backend), r->seconds,
                outcome_name(r->outcome));
        dlm_json_str(f, r->reason);
        fputc('}', f);
    }
    fprintf(f, "],\"totals\":{\"cases\":%zu,\"passed\":%zu,\"failed\":%zu,\"errors\":%zu,\"seconds\":%.6f}",
            t.cases, t.passed, t.failed, t.errors, t.seconds);
    fprintf(f, ",\"result\":\"%s\"}\n", t.errors ? "error" : t.failed ? "fail" : "pass");
    if (fflush(f) || ferror(f)) return dlm_fail(err, DLM_EIO, "writing the JSON report: %s", strerror(errno));
    return DLM_OK;
}

/* XML character data or attribute value: & < > " ' escaped; characters XML 1.0 does not
 * allow (controls other than tab, newline, CR) and invalid UTF-8 bytes become '?'. */
static void xml_str(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned char ch = p[i];
        switch (ch) {
        case '&': fputs("&amp;", f); i++; continue;
        case '<': fputs("&lt;", f); i++; continue;
        case '>': fputs("&gt;", f); i++; continue;
        case '"': fputs("&quot;", f); i++; continue;
        case '\'': fputs("&apos;", f); i++; continue;
        case '\t': fputs("&#9;", f); i++; continue;
        case '\n': fputs("&#10;", f); i++; continue;
        case '\r': fputs("&#13;", f); i++; continue;
        default: break;
        }
        if (ch < 0x20 || ch == 0x7f) {
            fputc('?', f);
            i++;
            continue;
        }
        size_t k = dlm_utf8_len(p + i, n - i);
        /* U+FFFE and U+FFFF are not XML characters either. */
        if (k == 3 && p[i] == 0xef && p[i + 1] == 0xbf && (p[i + 2] == 0xbe || p[i + 2] == 0xbf)) k = 0;
        if (!k) fputc('?', f), i++;
        else fwrite(p + i, 1, k, f), i += k;
    }
}

dlm_status dlm_regress_write_junit(FILE *f, const dlm_regress_suite *s, const dlm_regress_result *res,
                                   dlm_err *err)
{
    dlm_regress_totals t;
    dlm_regress_totals_of(s, res, &t);
    char name[2048], hex[17], want[17];
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
    fprintf(f, "<testsuites name=\"dlmsim regress\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" time=\"%.3f\">\n",
            t.cases, t.failed, t.errors, t.seconds);
    fputs("  <testsuite name=\"", f);
    xml_str(f, s->path);
    fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"0\" time=\"%.3f\">\n", t.cases,
            t.failed, t.errors, t.seconds);
    for (size_t i = 0; i < s->ncases; i++) {
        const dlm_regress_case *c = &s->cases[i];
        const dlm_regress_result *r = &res[i];
        dlm_regress_case_name(s, i, name, sizeof name);
        fputs("    <testcase classname=\"dlmsim.regress\" name=\"", f);
        xml_str(f, name);
        fputs("\" file=\"", f);
        xml_str(f, s->path);
        fprintf(f, "\" line=\"%u\" time=\"%.3f\">\n", c->line, r->seconds);
        if (r->outcome != DLM_REGRESS_PASS) {
            const char *tag = r->outcome == DLM_REGRESS_ERROR ? "error" : "failure";
            const char *type = r->outcome == DLM_REGRESS_ERROR ? "error"
                               : !r->verdict_ok               ? "verdict"
                                                              : "digest";
            fprintf(f, "      <%s type=\"%s\" message=\"", tag, type);
            xml_str(f, r->reason);
            fprintf(f, "\">");
            xml_str(f, r->reason);
            fprintf(f, "</%s>\n", tag);
        }
        /* What ran, for the dashboard's detail view. */
        fputs("      <system-out>", f);
        dlm_regress_digest_format(r->digest, hex);
        dlm_regress_digest_format(c->digest, want);
        char line[512];
        snprintf(line, sizeof line, "mode %s, chains %llu, seed %llu, expect %s, verdict %s, digest %s, recorded %s",
                 dlm_mode_name(c->mode), (unsigned long long)c->chains, (unsigned long long)c->seed,
                 c->expect_pass ? "pass" : "fail",
                 r->status == DLM_OK ? (r->verdict_pass ? "PASS" : "FAIL") : "-", r->have_digest ? hex : "-",
                 c->have_digest ? want : "-");
        xml_str(f, line);
        fputs("</system-out>\n    </testcase>\n", f);
    }
    fputs("  </testsuite>\n</testsuites>\n", f);
    if (fflush(f) || ferror(f)) return dlm_fail(err, DLM_EIO, "writing the JUnit report: %s", strerror(errno));
    return DLM_OK;
}

// ---------------------------------------------------------------------------
// --update: rewrite the digests, atomically

dlm_status dlm_regress_update(dlm_regress_suite *s, const dlm_regress_result *res, size_t *changed,
                              dlm_err *err)
{
    *changed = 0;
    /* New text: the old one with each eligible DIGEST field replaced. Each field grows
     * by at most 16 bytes. */
    size_t cap = s->len + 16 * s->ncases + 1;
    char *nt = malloc(cap);
    size_t *noff = malloc((s->ncases ? s->ncases : 1) * sizeof *noff);
    if (!nt || !noff) {
        free(nt);
        free(noff);
        return dlm_fail(err, DLM_ENOMEM, "out of memory rewriting %s", s->path);
    }
    size_t n = 0, from = 0;
    for (size_t i = 0; i < s->ncases; i++) {
        const dlm_regress_case *c = &s->cases[i];
        memcpy(nt + n, s->text + from, c->digest_off - from);
        n += c->digest_off - from;
        noff[i] = n;
        const char *old = s->text + c->digest_off;
        from = c->digest_off + c->digest_len;
        if (res[i].status == DLM_OK && res[i].verdict_ok && res[i].have_digest) {
            char hex[17];
            dlm_regress_digest_format(res[i].digest, hex);
            if (c->digest_len != 16 || memcmp(old, hex, 16)) ++*changed;
            memcpy(nt + n, hex, 16);
            n += 16;
        } else {
            memcpy(nt + n, old, c->digest_len);
            n += c->digest_len;
        }
    }
    memcpy(nt + n, s->text + from, s->len - from);
    n += s->len - from;
    nt[n] = 0;
    if (*changed == 0) {
        free(nt);
        free(noff);
        return DLM_OK;
    }

    /* A temporary file beside the suite (same file system, so the rename is atomic). */
    dlm_status st = DLM_OK;
    dlm_replace_fail why;
    if (dlm_file_replace(s->path, ".tmp.XXXXXX", nt, n, &why)) {
        const char *e = strerror(why.errnum);
        switch (why.step) {
        case DLM_REPLACE_TARGET: st = dlm_fail(err, DLM_EINPUT, "%s", why.tmp); break;
        case DLM_REPLACE_CREATE:
            st = dlm_fail(err, DLM_EIO, "%s: cannot create a temporary file: %s", s->path, e);
            break;
        case DLM_REPLACE_WRITE: st = dlm_fail(err, DLM_EIO, "%s: writing %s: %s", s->path, why.tmp, e); break;
        case DLM_REPLACE_CLOSE: st = dlm_fail(err, DLM_EIO, "%s: closing %s: %s", s->path, why.tmp, e); break;
        default: st = dlm_fail(err, DLM_EIO, "%s: renaming %s over it: %s", s->path, why.tmp, e); break;
        }
        goto done;
    }
    /* The text and field spans now describe the new file; the cases keep the digests
     * they were read with (the reports show what was recorded before the update). */
    free(s->text);
    s->text = nt;
    s->len = n;
    nt = NULL;
    for (size_t i = 0; i < s->ncases; i++) {
        dlm_regress_case *c = &s->cases[i];
        c->digest_off = noff[i];
        if (res[i].status == DLM_OK && res[i].verdict_ok && res[i].have_digest) c->digest_len = 16;
    }
done:
    free(nt);
    free(noff);
    if (st) *changed = 0;
    return st;
}
