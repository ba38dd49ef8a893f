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

dlm_status dlm_tally_file_begin(dlm_tally_file *w, const char *kind, dlm_err *err)
{
    memset(w, 0, sizeof *w);
    w->f = open_memstream(&w->buf, &w->len);
    if (!w->f) return dlm_fail(err, DLM_ENOMEM, "out of memory for the count file");
    fprintf(w->f, "dlmsim-counts %d\nprogram dlmsim %s\nkind %s\n", DLM_TALLY_VERSION, DLMSIM_VERSION, kind);
    return DLM_OK;
}

void dlm_tally_put_ranges(FILE *f, const dlm_ranges *rs)
{
    fprintf(f, "ranges %zu\n", rs->n);
    for (size_t i = 0; i < rs->n; i++) fprintf(f, "%" PRIu64 " %" PRIu64 "\n", rs->r[i].first, rs->r[i].end);
}

void dlm_tally_put_cells(FILE *f, const uint64_t *h, uint64_t size)
{
    uint64_t cells = 0;
    for (uint64_t i = 0; i < size; i++) cells += h[i] != 0;
    fprintf(f, "cells %" PRIu64 "\n", cells);
    for (uint64_t i = 0; i < size; i++)
        if (h[i]) fprintf(f, "%" PRIu64 " %" PRIu64 "\n", i, h[i]);
}

void dlm_tally_put_list(FILE *f, const char *key, const uint64_t *v, size_t n)
{
    fputs(key, f);
    for (size_t i = 0; i < n; i++) fprintf(f, " %" PRIu64, v[i]);
    fputc('\n', f);
}

dlm_status dlm_tally_file_end(dlm_tally_file *w, const char *path, dlm_err *err)
{
    dlm_status s = DLM_OK;
    if (fflush(w->f) != 0) {
        fclose(w->f);
        s = dlm_fail(err, DLM_ENOMEM, "out of memory for the count file");
        goto out;
    }
    fprintf(w->f, "digest %016" PRIx64 "\nend\n", dlm_fnv1a(DLM_FNV_OFFSET, w->buf, w->len));
    if (fclose(w->f) != 0) {
        s = dlm_fail(err, DLM_ENOMEM, "out of memory for the count file");
        goto out;
    }
    dlm_replace_fail why;
    if (dlm_file_replace(path, ".tmp", w->buf, w->len, &why)) {
        if (why.step == DLM_REPLACE_TARGET) s = dlm_fail(err, DLM_EINPUT, "%s", why.tmp);
        else if (why.step == DLM_REPLACE_CREATE)
            s = dlm_fail(err, DLM_EIO, "%s: %s", why.tmp, strerror(why.errnum));
        else s = dlm_fail(err, DLM_EIO, "%s: writing the count file failed: %s", path, strerror(why.errnum));
    }
out:
    free(w->buf);
    memset(w, 0, sizeof *w);
    return s;
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
    dlm_tally_file w;
    dlm_status s = dlm_tally_file_begin(&w, t->verify ? "verify" : "run", err);
    if (s) return s;
    FILE *f = w.f;
    const dlm_counts *k = &t->counts;
    fprintf(f, "circuit_hash %016" PRIx64 "\nmode %s\n", t->circuit_hash, t->mode);
    fprintf(f, "seed %" PRIu64 "\nbatch %" PRIu64 "\nnout %u\nhist %d\n", t->seed, t->batch, k->nout,
            k->hist != NULL);
    dlm_tally_put_ranges(f, &t->ranges);
    fprintf(f, "chains %" PRIu64 "\nodd_parity %" PRIu64 "\n", k->chains, k->odd_parity);
    dlm_tally_put_list(f, "ones", k->ones, k->nout);
    if (k->hist) dlm_tally_put_cells(f, k->hist, UINT64_C(1) << k->nout);
    if (t->verify) {
        const dlm_tally_verify *v = &t->v;
        fprintf(f, "pairs %u\n", v->npairs);
        dlm_tally_put_list(f, "n11", v->n11, v->npairs);
        fprintf(f, "prefix %" PRIu64 " %" PRIu64 " %" PRIu64 " %u %u %u\n", v->prefix_checked,
                v->prefix_bad, v->bad_chain, v->bad_out, v->bad_engine, v->bad_direct);
    }
    return dlm_tally_file_end(&w, path, err);
}

dlm_status dlm_tally_file_load(const char *path, char **bufp, dlm_cursor *body, char *kind, size_t kind_len,
                               uint64_t max_bytes, dlm_err *err)
{
    char *buf;
    size_t len;
    *bufp = NULL;
    dlm_status s = dlm_read_file_max(path, dlm_memory_budget(max_bytes), &buf, &len, err);
    if (s) return dlm_fail(err, DLM_EINPUT, "%s", err->msg);
    const char magic[] = "dlmsim-counts ";
    if (len < sizeof magic - 1 || memcmp(buf, magic, sizeof magic - 1)) {
        free(buf);
        return dlm_fail(err, DLM_EINPUT, "%s: not a dlmsim count file", path);
    }
    /* The digest line: the last line starting "digest ", followed by "end". */
    const char *dl = NULL;
    for (const char *q = buf; (q = strstr(q, "\ndigest ")); q++) dl = q + 1;
    uint64_t want = 0, ver = 0;
    dlm_cursor tail = {dl, buf + len};
    char prog[32] = "";
    if (!dl || dlm_cursor_expect(&tail, "digest") || dlm_cursor_num(&tail, &want, 16) ||
        dlm_cursor_expect(&tail, "end") || tail.p != buf + len - (len && buf[len - 1] == '\n')) {
        s = dlm_fail(err, DLM_EINPUT, "%s: truncated count file (no digest and end lines)", path);
    } else if (dlm_fnv1a(DLM_FNV_OFFSET, buf, (size_t)(dl - buf)) != want) {
        s = dlm_fail(err, DLM_EINPUT, "%s: the digest does not match the content (the file was "
                     "changed or damaged)", path);
    } else {
        *body = (dlm_cursor){buf, dl};
        if (dlm_cursor_keyed(body, "dlmsim-counts", &ver) || ver != DLM_TALLY_VERSION)
            s = dlm_fail(err, DLM_EINPUT, "%s: count file format version %" PRIu64 ", this dlmsim reads %d",
                         path, ver, DLM_TALLY_VERSION);
        else if (dlm_cursor_expect(body, "program") || dlm_cursor_expect(body, "dlmsim") ||
                 dlm_cursor_word(body, prog, sizeof prog) || strcmp(prog, DLMSIM_VERSION))
            s = dlm_fail(err, DLM_EINPUT, "%s: written by dlmsim %s, this is %s (samples may differ)", path,
                         prog, DLMSIM_VERSION);
        else if (dlm_cursor_expect(body, "kind") || dlm_cursor_word(body, kind, kind_len))
            s = dlm_fail(err, DLM_EINPUT, "%s: bad count file header (no kind)", path);
    }
    if (s) free(buf);
    else *bufp = buf;
    return s;
}

dlm_status dlm_tally_get_ranges(dlm_cursor *c, uint64_t batch, dlm_ranges *rs, const char *path, dlm_err *err)
{
    uint64_t nr = 0;
    if (dlm_cursor_keyed(c, "ranges", &nr) || nr > DLM_TALLY_MAX_RANGES)
        return dlm_fail(err, DLM_EINPUT, "%s: bad count file header (ranges)", path);
    for (uint64_t i = 0; i < nr; i++) {
        uint64_t a, b;
        if (dlm_cursor_num(c, &a, 10) || dlm_cursor_num(c, &b, 10) || a >= b || b > batch)
            return dlm_fail(err, DLM_EINPUT, "%s: bad chain range %" PRIu64 " (empty, or past batch %" PRIu64 ")",
                            path, i + 1, batch);
        if (dlm_ranges_add(rs, a, b, err)) return dlm_fail(err, DLM_EINPUT, "%s: %s", path, err->msg);
    }
    return DLM_OK;
}

const char *dlm_tally_get_cells(dlm_cursor *c, uint64_t *h, uint64_t size, uint64_t chains)
{
    uint64_t cells, i, v, sum = 0;
    if (dlm_cursor_keyed(c, "cells", &cells) || cells > size) return "bad cells line";
    for (uint64_t q = 0; q < cells; q++) {
        if (dlm_cursor_num(c, &i, 10) || dlm_cursor_num(c, &v, 10) || i >= size || h[i] || v == 0 || v > chains - sum)
            return "bad histogram cell (out of range, zero, repeated or over the count)";
        h[i] = v;
        sum += v;
    }
    return sum != chains ? "the histogram does not add up to chains" : NULL;
}

const char *dlm_tally_get_list(dlm_cursor *c, const char *key, uint64_t *v, size_t n, uint64_t max)
{
    if (dlm_cursor_expect(c, key)) return key;
    for (size_t i = 0; i < n; i++)
        if (dlm_cursor_num(c, &v[i], 10) || v[i] > max) return key;
    return NULL;
}

dlm_status dlm_tally_read(const char *path, dlm_tally *t, uint64_t max_bytes, dlm_err *err)
{
    memset(t, 0, sizeof *t);
    char *buf, kind[16] = "";
    dlm_cursor c;
    dlm_status s = dlm_tally_file_load(path, &buf, &c, kind, sizeof kind, max_bytes, err);
    if (s) return s;
    uint64_t hash = 0, seed = 0, batch = 0, nout = 0, hist = 0, chains = 0;
    char mode[16] = "";
    if (strcmp(kind, "run") && strcmp(kind, "verify")) {
        s = dlm_fail(err, DLM_EINPUT, "%s: a count file of kind %s, not of run or verify", path, kind);
        goto out;
    }
    if (dlm_cursor_expect(&c, "circuit_hash") || dlm_cursor_num(&c, &hash, 16) || dlm_cursor_expect(&c, "mode") ||
        dlm_cursor_word(&c, mode, sizeof mode) || dlm_cursor_keyed(&c, "seed", &seed) ||
        dlm_cursor_keyed(&c, "batch", &batch) || dlm_cursor_keyed(&c, "nout", &nout) ||
        dlm_cursor_keyed(&c, "hist", &hist) || hist > 1 || nout > UINT32_MAX) {
        s = dlm_fail(err, DLM_EINPUT, "%s: bad count file header", path);
        goto out;
    }
    if ((s = dlm_tally_init(t, hash, mode, seed, batch, (uint32_t)nout, (int)hist, err))) {
        s = dlm_fail(err, DLM_EINPUT, "%s: %s", path, err->msg);
        goto out;
    }
    if ((s = dlm_tally_get_ranges(&c, batch, &t->ranges, path, err))) goto out;
    dlm_counts *k = &t->counts;
    if (dlm_cursor_keyed(&c, "chains", &chains) || dlm_cursor_keyed(&c, "odd_parity", &k->odd_parity)) {
        s = dlm_fail(err, DLM_EINPUT, "%s: bad count file (chains, odd_parity, ones)", path);
        goto out;
    }
    k->chains = chains;
    const char *what = NULL;
    if (chains != dlm_ranges_chains(&t->ranges)) what = "chains differ from the ranges' total";
    else if (k->odd_parity > chains) what = "odd_parity over chains";
    else what = dlm_tally_get_list(&c, "ones", k->ones, k->nout, chains);
    if (!what && k->hist) what = dlm_tally_get_cells(&c, k->hist, UINT64_C(1) << k->nout, chains);
    if (!what && !strcmp(kind, "verify")) {
        uint64_t np = 0, bo = 0, be = 0, bd = 0;
        dlm_tally_verify *v = &t->v;
        if (dlm_cursor_keyed(&c, "pairs", &np) || np > (uint64_t)nout * nout) what = "bad pairs line";
        else if ((s = dlm_tally_verify_init(t, (uint32_t)np, err))) goto out;
        if (!what) what = dlm_tally_get_list(&c, "n11", v->n11, v->npairs, chains);
        if (!what && (dlm_cursor_expect(&c, "prefix") || dlm_cursor_num(&c, &v->prefix_checked, 10) ||
                      dlm_cursor_num(&c, &v->prefix_bad, 10) || dlm_cursor_num(&c, &v->bad_chain, 10) ||
                      dlm_cursor_num(&c, &bo, 10) || dlm_cursor_num(&c, &be, 10) || dlm_cursor_num(&c, &bd, 10) ||
                      v->prefix_bad > v->prefix_checked || v->prefix_checked > chains || bo >= (nout ? nout : 1) ||
                      be > 1 || bd > 1))
            what = "bad prefix line";
        v->bad_out = (uint32_t)bo;
        v->bad_engine = (uint32_t)be;
        v->bad_direct = (uint32_t)bd;
    }
    char extra[8];
    if (!what && !dlm_cursor_word(&c, extra, sizeof extra)) what = "unexpected text before the digest";
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
    dlm_status s = dlm_ranges_merge(&a->ranges, name_a, &b->ranges, name_b, err);
    if (s) return s;
    dlm_counts_add(&a->counts, &b->counts);
    if (a->verify) dlm_tally_verify_add(&a->v, &b->v);
    if (b->batch > a->batch) a->batch = b->batch;
    return DLM_OK;
}

dlm_status dlm_ranges_merge(dlm_ranges *a, const char *name_a, const dlm_ranges *b, const char *name_b,
                            dlm_err *err)
{
    for (size_t i = 0; i < b->n; i++) {
        dlm_err e2;
        if (dlm_ranges_add(a, b->r[i].first, b->r[i].end, &e2))
            return dlm_fail(err, DLM_EINPUT, "%s: %s (they are also in %s)", name_b, e2.msg, name_a);
    }
    return DLM_OK;
}

dlm_status dlm_ranges_gaps(const dlm_ranges *rs, uint64_t batch, dlm_ranges *gaps, dlm_err *err)
{
    memset(gaps, 0, sizeof *gaps);
    uint64_t at = 0;
    dlm_status s = DLM_OK;
    for (size_t i = 0; i <= rs->n && !s; i++) {
        uint64_t next = i < rs->n ? rs->r[i].first : batch;
        if (next > at) s = dlm_ranges_add(gaps, at, next, err);
        if (i < rs->n) at = rs->r[i].end;
    }
    if (s) dlm_ranges_free(gaps);
    return s;
}

dlm_status dlm_tally_gaps(const dlm_tally *t, dlm_ranges *gaps, dlm_err *err)
{
    return dlm_ranges_gaps(&t->ranges, t->batch, gaps, err);
}
