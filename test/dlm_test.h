/* dlm_test.h — helpers shared by the cmocka tests: running the CLI, paths to the
 * vendored EPFL circuits (circuits/epfl), scratch files. Header-only (static functions), test code only. */
#ifndef DLM_TEST_H
#define DLM_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dlm_level.h"

#ifndef DLM_BIN
#define DLM_BIN "build/dlmsim"
#endif
#define DLM_EPFL "circuits/epfl"

/* Runs a shell command, captures stdout+stderr (up to cap-1 bytes) into out and
 * returns the exit status (or -1 if it did not exit normally). */
static inline int dlm_test_sh(char *out, size_t cap, const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char full[4200];
    snprintf(full, sizeof full, "(%s) 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p) return -1;
    size_t n = 0;
    if (out && cap) {
        size_t k;
        while (n + 1 < cap && (k = fread(out + n, 1, cap - 1 - n, p)) > 0) n += k;
        out[n] = 0;
    }
    char sink[4096];
    while (fread(sink, 1, sizeof sink, p) > 0) {}
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A fresh scratch directory path for this test binary (created once). */
static inline const char *dlm_test_tmpdir(void)
{
    static char dir[256];
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/dlmsim-test-XXXXXX");
        if (!mkdtemp(dir)) dir[0] = 0;
    }
    return dir;
}

/* Writes text to a file in the scratch directory and returns its path (static buffer
 * rotation of 8 entries). */
static inline const char *dlm_test_file(const char *name, const char *text)
{
    static char paths[8][512];
    static int k;
    char *p = paths[k++ & 7];
    snprintf(p, 512, "%s/%s", dlm_test_tmpdir(), name);
    FILE *f = fopen(p, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return p;
}

/* Fails the calling test when a circuit file it needs is missing: every circuit the
 * tests read is part of the tree (circuits/, circuits/epfl/, test/data/), so a missing
 * one is a broken checkout, never a reason to skip. Generator specs always exist. */
#define DLM_TEST_REQUIRE(path)                                                       \
    do {                                                                             \
        if (strncmp((path), "gen:", 4) != 0 && access((path), R_OK) != 0)            \
            fail_msg("%s not found (it is part of the tree)", (path));               \
    } while (0)


/* A progress hook for the library's *_progress calls: ctx is uint64_t[2], {calls, last
 * done}; fails the test when done falls or passes total. */
static inline void dlm_test_count_progress(void *ctx, uint64_t done, uint64_t total, double secs)
{
    uint64_t *c = ctx;
    (void)secs;
    assert_true(done >= c[1] && done <= total);
    c[0]++;
    c[1] = done;
}
/* 1 when DLMSIM_REQUIRE_GPU=1 (GPU CI runners, bench/gpu.sh): then a test that would
 * be skipped for want of a CUDA device fails instead. */
static inline int dlm_test_require_gpu(void)
{
    const char *v = getenv("DLMSIM_REQUIRE_GPU");
    return v && !strcmp(v, "1");
}

/* Skips the calling test for want of a CUDA device (why: dlm_cuda_device_count's
 * reason), or fails it under DLMSIM_REQUIRE_GPU=1. Only for that reason: a test
 * skipped because a device IS present skips as before. */
#define DLM_TEST_NO_DEVICE(why)                                                      \
    do {                                                                             \
        if (dlm_test_require_gpu())                                                  \
            fail_msg("no CUDA device (%s), and DLMSIM_REQUIRE_GPU=1 wants one",      \
                     (why));                                                         \
        print_message("skipped: %s\n", (why));                                      \
        skip();                                                                      \
    } while (0)

/* A circuit loaded (file or generator spec) and levelized, for the tests. */
typedef struct {
    dlm_circuit c;
    dlm_levels lv;
} loaded;

/* Loads and levelizes spec, failing the test with the library's message (or when the
 * file is missing). */
static inline void load_ok(const char *spec, loaded *L)
{
    dlm_err e;
    DLM_TEST_REQUIRE(spec);
    memset(L, 0, sizeof *L);
    if (dlm_circuit_load(&L->c, spec, 0, &e)) fail_msg("%s: %s", spec, e.msg);
    if (dlm_levelize(&L->c, &L->lv, &e)) fail_msg("%s: %s", spec, e.msg);
}

static inline void unload(loaded *L)
{
    dlm_levels_free(&L->lv);
    dlm_circuit_free(&L->c);
}

/* A minimal JSON syntax checker (RFC 8259 values), enough to say "it parses". */
static inline const char *js_ws(const char *s)
{
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') s++;
    return s;
}

static inline const char *js_value(const char *s, int depth);

static inline const char *js_string(const char *s)
{
    if (*s != '"') return NULL;
    for (s++; *s && *s != '"'; s++) {
        if ((unsigned char)*s < 0x20) return NULL;
        if (*s == '\\') {
            s++;
            if (*s == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!strchr("0123456789abcdefABCDEF", s[i]) || !s[i]) return NULL;
                s += 4;
            } else if (!*s || !strchr("\"\\/bfnrt", *s)) {
                return NULL;
            }
        }
    }
    return *s == '"' ? s + 1 : NULL;
}

static inline const char *js_number(const char *s)
{
    const char *b = s;
    if (*s == '-') s++;
    if (*s == '0') s++;
    else if (*s >= '1' && *s <= '9') while (*s >= '0' && *s <= '9') s++;
    else return NULL;
    if (*s == '.') {
        s++;
        if (!(*s >= '0' && *s <= '9')) return NULL;
        while (*s >= '0' && *s <= '9') s++;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        if (!(*s >= '0' && *s <= '9')) return NULL;
        while (*s >= '0' && *s <= '9') s++;
    }
    return s > b ? s : NULL;
}

static inline const char *js_value(const char *s, int depth)
{
    if (depth > 64) return NULL;
    s = js_ws(s);
    if (*s == '{' || *s == '[') {
        char close = *s == '{' ? '}' : ']';
        s = js_ws(s + 1);
        if (*s == close) return s + 1;
        for (;;) {
            if (close == '}') {
                if (!(s = js_string(js_ws(s)))) return NULL;
                s = js_ws(s);
                if (*s++ != ':') return NULL;
            }
            if (!(s = js_value(s, depth + 1))) return NULL;
            s = js_ws(s);
            if (*s == ',') {
                s++;
                continue;
            }
            return *s == close ? s + 1 : NULL;
        }
    }
    if (*s == '"') return js_string(s);
    if (!strncmp(s, "true", 4)) return s + 4;
    if (!strncmp(s, "false", 5)) return s + 5;
    if (!strncmp(s, "null", 4)) return s + 4;
    return js_number(s);
}

static inline int json_parses(const char *s)
{
    const char *e = js_value(s, 0);
    return e && !*js_ws(e);
}

/* 1 if berkeley-abc is on PATH. */
static inline int dlm_test_have_abc(void)
{
    return system("command -v berkeley-abc >/dev/null 2>&1") == 0;
}

#endif
