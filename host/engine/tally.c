/* tally.c — count files (dlm_tally.h): chain ranges, shards, atomic writes, checked
 * reads and exact merges. */
#include "dlm_tally.h"
#include "dlm_util.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------------------
// Ranges

dlm_status dlm_ranges_add(dlm_ranges *rs, uint64_t first, uint64_t end, dlm_err *err)
{
    if (first >= end) return DLM_OK;
    /* i: the first range that ends after first */
    size_t i = 0;
    while (i < rs->n && rs->r[i].end <= first) i++;
    if (i < rs->n && rs->r[i].first < end) {
        uint64_t a = first > rs->r[i].first ? first : rs->r[i].first;
        uint64_t b = end < rs->r[i].end ? end : rs->r[i].end;
        return dlm_fail(err, DLM_EINPUT, "chains %" PRIu64 "..%" PRIu64 " are counted twice", a, b - 1);
    }
    int join_prev = i > 0 && rs->r[i - 1].end == first;
    int join_next = i < rs->n && rs->r[i].first == end;
    if (join_prev && join_next) {
        rs->r[i - 1].end = rs->r[i].end;
        memmove(rs->r + i, rs->r + i + 1, (rs->n - i - 1) * sizeof *rs->r);
        rs->n--;
    } else if (join_prev) {
        rs->r[i - 1].end = end;
    } else if (join_next) {
        rs->r[i].first = first;
    } else {
        if (rs->n == rs->cap) {
            size_t cap = rs->cap ? 2 * rs->cap : 8;
            dlm_range *r = realloc(rs->r, cap * sizeof *r);
            if (!r) return dlm_fail(err, DLM_ENOMEM, "out of memory for chain ranges");
            rs->r = r;
            rs->cap = cap;
        }
        memmove(rs->r + i + 1, rs->r + i, (rs->n - i) * sizeof *rs->r);
        rs->r[i] = (dlm_range){first, end};
        rs->n++;
    }
    return DLM_OK;
}

void dlm_ranges_free(dlm_ranges *rs)
{
    free(rs->r);
    memset(rs, 0, sizeof *rs);
}

uint64_t dlm_ranges_chains(const dlm_ranges *rs)
{
    uint64_t n = 0;
    for (size_t i = 0; i < rs->n; i++) n += rs->r[i].end - rs->r[i].first;
    return n;
}

// ---------------------------------------------------------------------------
// Shards

int dlm_shard_parse(const char *s, uint32_t *k, uint32_t *n)
{
    char *end;
    if (!s || *s < '0' || *s > '9') return -1;
    errno = 0;
    unsigned long long a = strtoull(s, &end, 10);
    if (errno || *end != '/' || end[1] < '0' || end[1] > '9') return -1;
    unsigned long long b = strtoull(end + 1, &end, 10);
    if (errno || *end || b == 0 || b > UINT32_MAX || a == 0 || a > b) return -1;
    *k = (uint32_t)a;
    *n = (uint32_t)b;
    return 0;
}

static uint64_t part_start(uint64_t chains, uint64_t j, uint64_t n)
{
    /* j * chains / n without overflow: chains = q n + r */
    uint64_t q = chains / n, r = chains % n;
    return j * q + (j * r) / n; /* j, r < 2^32 (n < 2^32) */
}

void dlm_shard_range(uint64_t chains, uint32_t k, uint32_t n, uint64_t *first, uint64_t *count)
{
    *first = part_start(chains, k - 1, n);
    *count = part_start(chains, k, n) - *first;
}

// ---------------------------------------------------------------------------
// Tallies

dlm_status dlm_tally_init(dlm_tally *t, uint64_t circuit_hash, const char *mode, uint64_t seed,
                          uint64_t batch, uint32_t nout, int hist, dlm_err *err)
{
    memset(t, 0, sizeof *t);
    t->circuit_hash = circuit_hash;
    snprintf(t->mode, sizeof t->mode, "%s", mode);
    t->seed = seed;
    t->batch = batch;
    return dlm_counts_init(&t->counts, nout, hist, err);
}

dlm_status dlm_tally_verify_init(dlm_tally *t, uint32_t npairs, dlm_err *err)
{
    free(t->v.n11);
    memset(&t->v, 0, sizeof t->v);
    t->verify = 1;
    t->v.npairs = npairs;
    t->v.n11 = calloc(npairs ? npairs : 1, sizeof *t->v.n11);
    if (!t->v.n11) return dlm_fail(err, DLM_ENOMEM, "out of memory for pair counts");
    return DLM_OK;
}

void dlm_tally_verify_add(dlm_tally_verify *a, const dlm_tally_verify *b)
{
    for (uint32_t q = 0; q < a->npairs && q < b->npairs; q++) a->n11[q] += b->n11[q];
    if (b->prefix_bad && (!a->prefix_bad || b->bad_chain < a->bad_chain)) {
        a->bad_chain = b->bad_chain;
        a->bad_out = b->bad_out;
        a->bad_engine = b->bad_engine;
        a->bad_direct = b->bad_direct;
    }
    a->prefix_checked += b->prefix_checked;
    a->prefix_bad += b->prefix_bad;
}

void dlm_tally_free(dlm_tally *t)
{
    free(t->v.n11);
    dlm_ranges_free(&t->ranges);
    dlm_counts_free(&t->counts);
    memset(t, 0, sizeof *t);
}

/* The file's text (docs/scale-out.md):
 *   dlmsim-counts 1
 *   program dlmsim 0.1.0
 *   kind run|verify
 *   circuit_hash 16 hex digits
 *   mode revise
 *   seed S
 *   batch B
 *   nout N
 *   hist 0|1
 *   ranges R         then R lines "FIRST END" (chains FIRST..END-1)
 *   chains C
 *   odd_parity O
 *   ones v0 .. v(N-1)
 *   cells M          (hist 1 only) then M lines "INDEX COUNT", nonzero cells
 *   pairs P          (kind verify only) then "n11 v0 .. v(P-1)" and
 *   prefix CHECKED BAD CHAIN OUTPUT ENGINE DIRECT  (the first violation, or zeros)
 *   digest 16 hex digits: FNV-1a 64 of every byte above this line
 *   end */
dlm_status dlm_tally_write(const char *path, const dlm_tally *t, dlm_err *err)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return dlm_fail(err, DLM_ENOMEM, "out of memory for the count file");
    const dlm_counts *k = &t->counts;
    fprintf(f, "dlmsim-counts %d\nprogram dlmsim %s\nkind %s\ncircuit_hash %016" PRIx64 "\nmode %s\n",
            DLM_TALLY_VERSION, DLMSIM_VERSION, t->verify ? "verify" : "run", t->circuit_hash, t->mode);
    fprintf(f, "seed %" PRIu64 "\nbatch %" PRIu64 "\nnout %u\nhist %d\nranges %zu\n", t->seed,
            t->batch, k->nout, k->hist != NULL, t->ranges.n);
    for (size_t i = 0; i < t->ranges.n; i++)
        fprintf(f, "%" PRIu64 " %" PRIu64 "\n", t->ranges.r[i].first, t->ranges.r[i].end);
    fprintf(f, "chains %" PRIu64 "\nodd_parity %" PRIu64 "\nones", k->chains, k->odd_parity);
    for (uint32_t j = 0; j < k->nout; j++) fprintf(f, " %" PRIu64, k->ones[j]);
    fputc('\n', f);
    if (k->hist) {
        uint64_t cells = 0, size = UINT64_C(1) << k->nout;
        for (uint64_t i = 0; i < size; i++) cells += k->hist[i] != 0;
        fprintf(f, "cells %" PRIu64 "\n", cells);
        for (uint64_t i = 0; i < size; i++)
            if (k->hist[i]) fprintf(f, "%" PRIu64 " %" PRIu64 "\n", i, k->hist[i]);
    }
    if (t->verify) {
        const dlm_tally_verify *v = &t->v;
        fprintf(f, "pairs %u\nn11", v->npairs);
        for (uint32_t q = 0; q < v->npairs; q++) fprintf(f, " %" PRIu64, v->n11[q]);
        fprintf(f, "\nprefix %" PRIu64 " %" PRIu64 " %" PRIu64 " %u %u %u\n", v->prefix_checked,
                v->prefix_bad, v->bad_chain, v->bad_out, v->bad_engine, v->bad_direct);
    }
    if (fflush(f) != 0) {
        fclose(f);
        free(buf);
        return dlm_fail(err, DLM_ENOMEM, "out of memory for the count file");
    }
    fprintf(f, "digest %016" PRIx64 "\nend\n", dlm_fnv1a(DLM_FNV_OFFSET, buf, len));
    int bad = fclose(f) != 0;
    if (bad) {
        free(buf);
        return dlm_fail(err, DLM_ENOMEM, "out of memory for the count file");
    }
    dlm_status s = DLM_OK;
    dlm_replace_fail why;
    if (dlm_file_replace(path, ".tmp", buf, len, &why)) {
        if (why.step == DLM_REPLACE_TARGET) s = dlm_fail(err, DLM_EINPUT, "%s", why.tmp);
        else if (why.step == DLM_REPLACE_CREATE)
            s = dlm_fail(err, DLM_EIO, "%s: %s", why.tmp, strerror(why.errnum));
        else s = dlm_fail(err, DLM_EIO, "%s: writing the count file failed: %s", path, strerror(why.errnum));
    }
    free(buf);
    return s;
}

/* A cursor over the file's text: whitespace-separated words. */
typedef struct {
    const char *p, *end;
} cursor;

static int word(cursor *c, char *w, size_t n)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n')) c->p++;
    size_t i = 0;
    while (c->p < c->end && *c->p != ' ' && *c->p != '\n') {
        if (i + 1 >= n) return -1;
        w[i++] = *c->p++;
    }
    w[i] = 0;
    return i ? 0 : -1;
}

static int expect(cursor *c, const char *key)
{
    char w[64];
    return word(c, w, sizeof w) || strcmp(w, key) ? -1 : 0;
}

static int num(cursor *c, uint64_t *v, int base)
{
    char w[32], *e;
    if (word(c, w, sizeof w) || w[0] < '0' || (w[0] > '9' && base != 16)) return -1;
    errno = 0;
    unsigned long long x = strtoull(w, &e, base);
    if (errno || *e) return -1;
    *v = x;
    return 0;
}

static int keyed(cursor *c, const char *key, uint64_t *v)
{
    return expect(c, key) || num(c, v, 10) ? -1 : 0;
}

dlm_status dlm_tally_read(const char *path, dlm_tally *t, dlm_err *err)
{
    memset(t, 0, sizeof *t);
    char *buf;
    size_t len;
    dlm_status s = dlm_read_file(path, &buf, &len, err);
    if (s) return dlm_fail(err, DLM_EINPUT, "%s", err->msg);
    const char magic[] = "dlmsim-counts ";
    if (len < sizeof magic - 1 || memcmp(buf, magic, sizeof magic - 1)) {
        free(buf);
        return dlm_fail(err, DLM_EINPUT, "%s: not a dlmsim count file", path);
    }
    /* The digest line: the last line starting "digest ", followed by "end". */
    const char *dl = NULL;
    for (const char *q = buf; (q = strstr(q, "\ndigest ")); q++) dl = q + 1;
    uint64_t want = 0, hash = 0, seed = 0, batch = 0, nout = 0, hist = 0, nr = 0, chains = 0;
    cursor tail = {dl, buf + len};
    if (!dl || expect(&tail, "digest") || num(&tail, &want, 16) || expect(&tail, "end") ||
        tail.p != buf + len - (len && buf[len - 1] == '\n')) {
        s = dlm_fail(err, DLM_EINPUT, "%s: truncated count file (no digest and end lines)", path);
        goto out;
    }
    if (dlm_fnv1a(DLM_FNV_OFFSET, buf, (size_t)(dl - buf)) != want) {
        s = dlm_fail(err, DLM_EINPUT, "%s: the digest does not match the content (the file was "
                     "changed or damaged)", path);
        goto out;
    }
    cursor c = {buf, dl};
    char prog[32] = "", mode[16] = "", kind[16] = "";
    uint64_t ver = 0;
    if (keyed(&c, "dlmsim-counts", &ver) || ver != DLM_TALLY_VERSION) {
        s = dlm_fail(err, DLM_EINPUT, "%s: count file format version %" PRIu64 ", this dlmsim reads %d",
                     path, ver, DLM_TALLY_VERSION);
        goto out;
    }
    if (expect(&c, "program") || expect(&c, "dlmsim") || word(&c, prog, sizeof prog) ||
        strcmp(prog, DLMSIM_VERSION)) {
        s = dlm_fail(err, DLM_EINPUT, "%s: written by dlmsim %s, this is %s (samples may differ)", path,
                     prog, DLMSIM_VERSION);
        goto out;
    }
    if (expect(&c, "kind") || word(&c, kind, sizeof kind) || (strcmp(kind, "run") && strcmp(kind, "verify"))) {
        s = dlm_fail(err, DLM_EINPUT, "%s: bad count file header (kind run or verify)", path);
        goto out;
    }
    if (expect(&c, "circuit_hash") || num(&c, &hash, 16) || expect(&c, "mode") ||
        word(&c, mode, sizeof mode) || keyed(&c, "seed", &seed) || keyed(&c, "batch", &batch) ||
        keyed(&c, "nout", &nout) || keyed(&c, "hist", &hist) || keyed(&c, "ranges", &nr) ||
        hist > 1 || nout > UINT32_MAX || nr > DLM_TALLY_MAX_RANGES) {
        s = dlm_fail(err, DLM_EINPUT, "%s: bad count file header", path);
        goto out;
    }
    if ((s = dlm_tally_init(t, hash, mode, seed, batch, (uint32_t)nout, (int)hist, err))) {
        s = dlm_fail(err, DLM_EINPUT, "%s: %s", path, err->msg);
        goto out;
    }
    for (uint64_t i = 0; i < nr; i++) {
        uint64_t a, b;
        if (num(&c, &a, 10) || num(&c, &b, 10) || a >= b || b > batch) {
            s = dlm_fail(err, DLM_EINPUT, "%s: bad chain range %" PRIu64 " (empty, or past batch %" PRIu64 ")",
                         path, i + 1, batch);
            goto out;
        }
        if ((s = dlm_ranges_add(&t->ranges, a, b, err))) {
            s = dlm_fail(err, DLM_EINPUT, "%s: %s", path, err->msg);
            goto out;
        }
    }
    dlm_counts *k = &t->counts;
    if (keyed(&c, "chains", &chains) || keyed(&c, "odd_parity", &k->odd_parity) || expect(&c, "ones")) {
        s = dlm_fail(err, DLM_EINPUT, "%s: bad count file (chains, odd_parity, ones)", path);
        goto out;
    }
    k->chains = chains;
    const char *what = NULL;
    if (chains != dlm_ranges_chains(&t->ranges)) what = "chains differ from the ranges' total";
    else if (k->odd_parity > chains) what = "odd_parity over chains";
    for (uint32_t j = 0; j < k->nout && !what; j++)
        if (num(&c, &k->ones[j], 10)) what = "ones: too few numbers";
        else if (k->ones[j] > chains) what = "ones over chains";
    if (!what && k->hist) {
        uint64_t cells, i, v, sum = 0;
        if (keyed(&c, "cells", &cells) || cells > (UINT64_C(1) << k->nout)) what = "bad cells line";
        for (uint64_t q = 0; !what && q < cells; q++) {
            if (num(&c, &i, 10) || num(&c, &v, 10) || i >> k->nout || k->hist[i] || v == 0 || v > chains - sum)
                what = "bad histogram cell (out of range, zero, repeated or over the count)";
            else {
                k->hist[i] = v;
                sum += v;
            }
        }
        if (!what && sum != chains) what = "the histogram does not add up to chains";
    }
    if (!what && !strcmp(kind, "verify")) {
        uint64_t np = 0, bo = 0, be = 0, bd = 0;
        dlm_tally_verify *v = &t->v;
        if (keyed(&c, "pairs", &np) || np > (uint64_t)nout * nout || expect(&c, "n11")) what = "bad pairs line";
        else if ((s = dlm_tally_verify_init(t, (uint32_t)np, err))) goto out;
        for (uint32_t q = 0; q < v->npairs && !what; q++)
            if (num(&c, &v->n11[q], 10) || v->n11[q] > chains) what = "bad n11 count";
        if (!what && (expect(&c, "prefix") || num(&c, &v->prefix_checked, 10) || num(&c, &v->prefix_bad, 10) ||
                      num(&c, &v->bad_chain, 10) || num(&c, &bo, 10) || num(&c, &be, 10) || num(&c, &bd, 10) ||
                      v->prefix_bad > v->prefix_checked || v->prefix_checked > chains || bo >= (nout ? nout : 1) ||
                      be > 1 || bd > 1))
            what = "bad prefix line";
        v->bad_out = (uint32_t)bo;
        v->bad_engine = (uint32_t)be;
        v->bad_direct = (uint32_t)bd;
    }
    char extra[8];
    if (!what && !word(&c, extra, sizeof extra)) what = "unexpected text before the digest";
    if (what) s = dlm_fail(err, DLM_EINPUT, "%s: bad count file (%s)", path, what);
out:
    free(buf);
    if (s) dlm_tally_free(t);
    return s;
}

dlm_status dlm_tally_merge(dlm_tally *a, const char *name_a, const dlm_tally *b, const char *name_b,
                           dlm_err *err)
{
    const char *what = NULL;
    if (a->circuit_hash != b->circuit_hash) what = "circuit";
    else if (strcmp(a->mode, b->mode)) what = "mode";
    else if (a->seed != b->seed) what = "seed";
    else if (a->counts.nout != b->counts.nout) what = "number of outputs";
    else if ((a->counts.hist != NULL) != (b->counts.hist != NULL)) what = "histogram setting";
    else if (a->verify != b->verify) what = "kind (run or verify)";
    else if (a->verify && a->v.npairs != b->v.npairs) what = "number of pairs";
    if (what)
        return dlm_fail(err, DLM_EINPUT, "%s: another %s than %s; these counts do not belong together",
                        name_b, what, name_a);
    for (size_t i = 0; i < b->ranges.n; i++) {
        dlm_err e2;
        if (dlm_ranges_add(&a->ranges, b->ranges.r[i].first, b->ranges.r[i].end, &e2))
            return dlm_fail(err, DLM_EINPUT, "%s: %s (they are also in %s)", name_b, e2.msg, name_a);
    }
    dlm_counts_add(&a->counts, &b->counts);
    if (a->verify) dlm_tally_verify_add(&a->v, &b->v);
    if (b->batch > a->batch) a->batch = b->batch;
    return DLM_OK;
}

dlm_status dlm_tally_gaps(const dlm_tally *t, dlm_ranges *gaps, dlm_err *err)
{
    memset(gaps, 0, sizeof *gaps);
    uint64_t at = 0;
    dlm_status s = DLM_OK;
    for (size_t i = 0; i <= t->ranges.n && !s; i++) {
        uint64_t next = i < t->ranges.n ? t->ranges.r[i].first : t->batch;
        if (next > at) s = dlm_ranges_add(gaps, at, next, err);
        if (i < t->ranges.n) at = t->ranges.r[i].end;
    }
    if (s) dlm_ranges_free(gaps);
    return s;
}
