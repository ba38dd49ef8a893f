/* fuzz_suite.c — libFuzzer harness for regression suite files: the input is the text
 * of a suite, given to dlm_regress_parse (which takes the text and its length, so no
 * file is written; the input is passed as libFuzzer's buffer, not NUL-terminated, so
 * AddressSanitizer catches a read past text[len - 1]).
 *
 * A refusal must be DLM_EINPUT with a message "PATH:..." (the path given for
 * messages) and leave the suite empty. An accepted suite must hold 1..10000 cases
 * with increasing line numbers, a non-empty circuit of at most 1024 bytes, a valid
 * mode, CHAINS >= 1, a DIGEST span inside the text that reads "-" or the 16 hex digits
 * of the recorded digest, and a copy of the text and the path. Each case's JUnit name
 * is computed (dlm_regress_case_name), and the JSON and JUnit reports are written to a
 * memory stream for made-up results (pass / fail / error in turn): the JSON must be one
 * line, the JUnit XML must have no control characters but newlines, and both must be
 * valid UTF-8 (the circuit field is copied from the input into both). Then the suite
 * is freed (LeakSanitizer checks that nothing is left).
 *
 * Build and run: make fuzz (docs/fuzzing.md); by hand:
 *   build/fuzz/fuzz_suite -max_total_time=60 build/fuzz/corpus/suite test/fuzz/corpus/suite
 */
#include "dlm_regress.h"
#include "fuzz_common.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SUITE_PATH "fuzz.suite"
#define REPORT_CASES 64 /* reports and names only for suites this small */

/* 1 if s[0..n) is valid UTF-8 (no overlongs, no surrogates, at most U+10FFFF). */
static int valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char b = s[i];
        size_t k;
        uint32_t cp;
        if (b < 0x80) {
            i++;
            continue;
        }
        if (b >= 0xc2 && b <= 0xdf) k = 2, cp = b & 0x1fu;
        else if (b >= 0xe0 && b <= 0xef) k = 3, cp = b & 0x0fu;
        else if (b >= 0xf0 && b <= 0xf4) k = 4, cp = b & 0x07u;
        else return 0;
        if (i + k > n) return 0;
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3fu);
        }
        if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += k;
    }
    return 1;
}

static void check_reports(const dlm_regress_suite *s)
{
    dlm_regress_result *res = calloc(s->ncases, sizeof *res);
    if (!res) fuzz_die("out of memory");
    for (size_t i = 0; i < s->ncases; i++) {
        res[i].outcome = (dlm_regress_outcome)(i % 3);
        res[i].status = i % 3 == 2 ? DLM_EINPUT : DLM_OK;
        res[i].verdict_pass = (int)(i & 1);
        res[i].have_digest = i % 3 != 2;
        res[i].digest = s->cases[i].digest ^ i;
        res[i].verdict_ok = i % 3 == 0;
        res[i].digest_ok = i % 3 == 0;
        res[i].backend = DLM_BACKEND_CPU;
        res[i].nout = 1;
        res[i].seconds = 0.5;
        if (i % 3) snprintf(res[i].reason, sizeof res[i].reason, "%s:%u: made-up reason <&\"'>",
                            s->path, s->cases[i].line);
    }
    dlm_regress_opts o;
    dlm_regress_opts_default(&o);
    for (int which = 0; which < 2; which++) {
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);
        if (!f) fuzz_die("open_memstream failed");
        dlm_err e;
        e.msg[0] = 0;
        dlm_status st = which ? dlm_regress_write_junit(f, s, res, &e)
                              : dlm_regress_write_json(f, s, res, &o, -1, &e);
        if (fclose(f) || !buf) fuzz_die("memory stream failed");
        if (st) fuzz_die("%s report failed (status %d): %s", which ? "JUnit" : "JSON", (int)st, e.msg);
        const char *what = which ? "JUnit" : "JSON";
        if (!valid_utf8((const unsigned char *)buf, n)) fuzz_die("%s report is not valid UTF-8", what);
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)buf[i];
            if (ch == '\n' && which) continue;
            if (ch == '\n' && i + 1 == n) continue; /* the JSON line's end */
            if (ch < 0x20)
                fuzz_die("%s report has control character 0x%02x at byte %zu of %zu", what, ch, i, n);
        }
        free(buf);
    }
    free(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char empty = 0;
    const char *text = size ? (const char *)data : &empty;
    dlm_regress_suite s;
    dlm_err e;
    e.msg[0] = 0;
    memset(&s, 0x5a, sizeof s); /* the parser must set it */
    dlm_status st = dlm_regress_parse(SUITE_PATH, text, size, &s, &e);
    if (st) {
        if (st != DLM_EINPUT) fuzz_die("dlm_regress_parse returned status %d: %s", (int)st, e.msg);
        if (strncmp(e.msg, SUITE_PATH ":", strlen(SUITE_PATH) + 1) != 0)
            fuzz_die("dlm_regress_parse: message does not start with the path: '%s'", e.msg);
        if (strchr(e.msg, '\n')) fuzz_die("dlm_regress_parse: message of several lines: '%s'", e.msg);
        if (s.path || s.text || s.cases || s.ncases || s.len)
            fuzz_die("dlm_regress_parse: refused suite is not left empty");
        dlm_regress_suite_free(&s); /* documented as safe */
        return 0;
    }
    if (!s.path || strcmp(s.path, SUITE_PATH)) fuzz_die("suite path is not a copy of the path");
    if (s.len != size || !s.text || (size && memcmp(s.text, data, size)) || s.text[size])
        fuzz_die("suite text is not a NUL-terminated copy of the input");
    if (s.ncases < 1 || s.ncases > DLM_REGRESS_MAX_CASES || !s.cases)
        fuzz_die("accepted suite has %zu cases", s.ncases);
    uint32_t prev = 0;
    for (size_t i = 0; i < s.ncases; i++) {
        const dlm_regress_case *c = &s.cases[i];
        if (c->line <= prev) fuzz_die("case %zu: line %u after line %u", i, c->line, prev);
        prev = c->line;
        if (!c->circuit || !c->circuit[0] || strlen(c->circuit) > 1024)
            fuzz_die("case %zu (line %u): bad circuit field", i, c->line);
        if ((int)c->mode < 0 || (int)c->mode >= DLM_NMODES) fuzz_die("case %zu: mode %d", i, (int)c->mode);
        if (c->chains == 0) fuzz_die("case %zu (line %u): 0 chains accepted", i, c->line);
        if (c->expect_pass != 0 && c->expect_pass != 1) fuzz_die("case %zu: expect_pass %d", i, c->expect_pass);
        if (c->digest_off > size || c->digest_len > size - c->digest_off)
            fuzz_die("case %zu (line %u): DIGEST span %zu+%zu outside the text of %zu bytes", i, c->line,
                c->digest_off, c->digest_len, size);
        const char *d = s.text + c->digest_off;
        if (c->have_digest) {
            uint64_t v;
            if (c->digest_len != 16 || dlm_regress_digest_parse(d, 16, &v) || v != c->digest)
                fuzz_die("case %zu (line %u): DIGEST span does not hold the digest", i, c->line);
            char hex[17];
            dlm_regress_digest_format(c->digest, hex);
            if (strlen(hex) != 16 || dlm_regress_digest_parse(hex, 16, &v) || v != c->digest)
                fuzz_die("case %zu: digest does not round-trip through format/parse", i);
        } else if (c->digest_len != 1 || d[0] != '-') {
            fuzz_die("case %zu (line %u): no digest but the span is not '-'", i, c->line);
        }
        if (c->inject && !(c->inject_eps > -0.5 && c->inject_eps < 0.5))
            fuzz_die("case %zu (line %u): bias eps %g accepted", i, c->line, c->inject_eps);
    }
    if (s.ncases <= REPORT_CASES) {
        char name[4096];
        for (size_t i = 0; i < s.ncases; i++) {
            memset(name, 0x5a, sizeof name);
            dlm_regress_case_name(&s, i, name, sizeof name);
            if (!memchr(name, 0, sizeof name)) fuzz_die("case %zu: name not NUL-terminated", i);
        }
        check_reports(&s);
    }
    dlm_regress_suite_free(&s);
    return 0;
}
