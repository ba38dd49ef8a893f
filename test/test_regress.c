/* test_regress.c — the regression runner (dlm_regress.h, `dlmsim regress`): the digest
 * pinned to literal values (FNV-1a 64 over little-endian words, docs/regress.md), the
 * digest equal across modes and thread counts (the coin contract), suite parsing with
 * FILE:LINE errors, and the CLI end to end: the smoke suite passes (exit 0), a tampered
 * digest fails (exit 1), a bad line is bad input (exit 2), --update rewrites "-" digests
 * keeping the layout, --json parses with its keys, --junit is well-formed XML whose
 * counts match.
 *
 * Build and run (from the repository root; the CLI tests call DLM_BIN):
 *   make BUILD=build/reg CUDA=0 build/reg/dlmsim build/reg/test/test_regress
 *   ./build/reg/test/test_regress
 * Every run uses fixed seeds: the verdicts and digests are deterministic. */
#include "dlm_test.h"
#include "dlm_regress.h"

#include <errno.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <gsl/gsl_errno.h>

#define SMOKE_SUITE "test/suites/smoke.suite"

static char out[1 << 20];

/* Reads a whole file into a malloc'd NUL-terminated string (NULL if unreadable). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0, k;
    char *b = malloc(cap);
    while (b && (k = fread(b + n, 1, cap - 1 - n, f)) > 0) {
        n += k;
        if (n + 1 == cap) {
            char *p = realloc(b, cap *= 2);
            if (!p) {
                free(b);
                b = NULL;
            }
            b = p;
        }
    }
    fclose(f);
    if (b) b[n] = 0;
    return b;
}

// ---------------------------------------------------------------- the digest

/* The definition, byte by byte, written independently of host/verify/regress.c. */
static uint64_t fnv_ref(const uint64_t *v, size_t n)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (size_t i = 0; i < n; i++)
        for (int b = 0; b < 8; b++) {
            h ^= (uint8_t)(v[i] >> (8 * b));
            h *= UINT64_C(0x100000001b3);
        }
    return h;
}

static void digest_known_answers(void **state)
{
    (void)state;
    /* nout 2, chains 3, odd 1, ones {1, 2}, hist {1, 0, 1, 1}. */
    uint64_t ones[2] = {1, 2}, hist[4] = {1, 0, 1, 1};
    dlm_counts k;
    memset(&k, 0, sizeof k);
    k.nout = 2;
    k.chains = 3;
    k.odd_parity = 1;
    k.ones = ones;
    k.hist = hist;
    k.bytes_tokens = 12345; /* not part of the digest */
    uint64_t words[] = {2, 3, 1, 1, 2, 1, 0, 1, 1};
    assert_true(dlm_regress_digest(&k) == fnv_ref(words, 9));
    assert_true(dlm_regress_digest(&k) == UINT64_C(0xbd46a8fa1e755bc7)); /* computed in Python */
    /* Above 24 outputs there is no histogram: nout, chains, odd, ones only. */
    uint64_t ones30[30], w30[33] = {30, 5, 2};
    for (int i = 0; i < 30; i++) ones30[i] = w30[3 + i] = (uint64_t)i;
    dlm_counts k30 = {.nout = 30, .chains = 5, .odd_parity = 2, .ones = ones30};
    assert_true(dlm_regress_digest(&k30) == fnv_ref(w30, 33));
    assert_true(dlm_regress_digest(&k30) == UINT64_C(0x9abf2329526f75fd));
    /* Format and parse round-trip; 16 hex digits exactly. */
    char hex[17];
    dlm_regress_digest_format(UINT64_C(0x0123456789abcdef), hex);
    assert_string_equal(hex, "0123456789abcdef");
    uint64_t d;
    assert_int_equal(dlm_regress_digest_parse("0123456789ABCDEF", 16, &d), 0);
    assert_true(d == UINT64_C(0x0123456789abcdef));
    assert_int_not_equal(dlm_regress_digest_parse("0123456789abcde", 15, &d), 0);
    assert_int_not_equal(dlm_regress_digest_parse("0123456789abcdeg", 16, &d), 0);
}

/* The same circuit, chains and seed give one digest in every mode and with 1 or 2
 * threads (and so the digest pins the sample, not the program); another seed or a
 * bias changes it. */
static void digest_same_across_modes_and_threads(void **state)
{
    (void)state;
    const char *text =
        "gen:adder-prefix:5 cot    30000 7 pass -\n"
        "gen:adder-prefix:5 remask 30000 7 pass -\n"
        "gen:adder-prefix:5 revise 30000 7 pass -\n"
        "gen:adder-prefix:5 ar     30000 7 pass -\n"
        "gen:adder-ripple:5 ar     30000 7 pass -\n"   /* same function, other construction */
        "gen:adder-prefix:5 cot    30000 8 pass -\n"   /* another seed */
        "gen:adder-prefix:5 cot    30000 7 pass - bias=0:0.01\n"
        "gen:mult:8         remask 5000  1 pass -\n"   /* 16 outputs, 16 coins */
        "gen:mult:8         ar     5000  1 pass -\n"
        "gen:random:40,6,3  revise 5000  1 pass -\n"   /* 40 outputs: no histogram */
        "gen:random:40,6,3  cot    5000  1 pass -\n";
    dlm_regress_suite s;
    dlm_err e;
    if (dlm_regress_parse("modes.suite", text, strlen(text), &s, &e)) fail_msg("%s", e.msg);
    assert_int_equal(s.ncases, 11);
    dlm_regress_result r[11][2];
    for (int t = 0; t < 2; t++) {
        dlm_regress_opts o;
        dlm_regress_opts_default(&o);
        o.backend = DLM_BACKEND_CPU;
        o.threads = t + 1;
        for (size_t i = 0; i < s.ncases; i++) {
            if (dlm_regress_run_case(&s, &s.cases[i], &o, &r[i][t])) fail_msg("%s", r[i][t].reason);
            assert_int_equal(r[i][t].outcome, DLM_REGRESS_PASS);
            assert_true(r[i][t].have_digest);
            if (r[i][t].digest != r[i][0].digest)
                fail_msg("line %u: digest %016llx with %d threads, %016llx with 1", s.cases[i].line,
                         (unsigned long long)r[i][t].digest, t + 1, (unsigned long long)r[i][0].digest);
        }
    }
    for (int i = 1; i < 5; i++)
        if (r[i][0].digest != r[0][0].digest)
            fail_msg("line %u (%s): digest %016llx, cot %016llx", s.cases[i].line, dlm_mode_name(s.cases[i].mode),
                     (unsigned long long)r[i][0].digest, (unsigned long long)r[0][0].digest);
    assert_true(r[5][0].digest != r[0][0].digest);
    assert_true(r[6][0].digest != r[0][0].digest);
    assert_true(r[7][0].digest == r[8][0].digest);
    assert_true(r[9][0].digest == r[10][0].digest);
    /* The report's counts are what the digest covers: chains and outputs. */
    assert_int_equal(r[9][0].nout, 40);
    dlm_regress_suite_free(&s);
}

// ---------------------------------------------------------------- parsing

static void parse_errors_name_file_and_line(void **state)
{
    (void)state;
    static const struct {
        const char *line, *want;
    } bad[] = {
        {"gen:maj:5 revise 100 1 pass", "5 fields"},
        {"gen:maj:5 sideways 100 1 pass -", "unknown mode 'sideways'"},
        {"gen:maj:5 revise 0 1 pass -", "bad CHAINS '0'"},
        {"gen:maj:5 revise 12x 1 pass -", "bad CHAINS"},
        {"gen:maj:5 revise 100 -1 pass -", "bad SEED"},
        {"gen:maj:5 revise 100 1 maybe -", "bad EXPECT 'maybe'"},
        {"gen:maj:5 revise 100 1 pass 12345", "bad DIGEST '12345'"},
        {"gen:maj:5 revise 100 1 pass 0123456789abcdeZ", "bad DIGEST"},
        {"gen:maj:5 revise 100 1 pass - bias=0", "bad 'bias=0'"},
        {"gen:maj:5 revise 100 1 pass - bias=0:0.6", "bad 'bias=0:0.6'"},
        {"gen:maj:5 revise 100 1 pass - bias=0:0.1 bias=1:0.1", "bias= given twice"},
        {"gen:maj:5 revise 100 1 pass - target=fuzzy", "bad 'target=fuzzy'"},
        {"gen:maj:5 revise 100 1 pass - colour=red", "unknown field 'colour=red'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[512];
        /* Line 3 is the bad one: a comment and a good case come first. */
        snprintf(text, sizeof text, "# header\ngen:maj:5 cot 100 1 pass -\n%s\n", bad[i].line);
        dlm_regress_suite s;
        dlm_err e;
        dlm_status st = dlm_regress_parse("x.suite", text, strlen(text), &s, &e);
        if (st != DLM_EINPUT) fail_msg("'%s': status %d, want DLM_EINPUT", bad[i].line, st);
        if (strncmp(e.msg, "x.suite:3: ", 11) || !strstr(e.msg, bad[i].want))
            fail_msg("'%s': message '%s', want 'x.suite:3: ...%s...'", bad[i].line, e.msg, bad[i].want);
        assert_int_equal(s.ncases, 0);
        dlm_regress_suite_free(&s);
    }
    /* No cases at all is an error too; comments, blank lines, CRLF and tabs are fine. */
    dlm_regress_suite s;
    dlm_err e;
    const char *empty = "# nothing\n\n   \n";
    assert_int_equal(dlm_regress_parse("e.suite", empty, strlen(empty), &s, &e), DLM_EINPUT);
    assert_non_null(strstr(e.msg, "no cases"));
    const char *ok = "# c\r\n\tgen:maj:5\tar 1e4 18446744073709551615 fail ABCDEF0123456789 target=exact "
                     "bias=2:-0.125 # trailing\r\n\ngen:maj:5 cot 5 0 pass -";
    if (dlm_regress_parse("ok.suite", ok, strlen(ok), &s, &e)) fail_msg("%s", e.msg);
    assert_int_equal(s.ncases, 2);
    const dlm_regress_case *c = &s.cases[0];
    assert_int_equal(c->line, 2);
    assert_string_equal(c->circuit, "gen:maj:5");
    assert_int_equal(c->mode, DLM_MODE_AR);
    assert_true(c->chains == 10000);
    assert_true(c->seed == UINT64_MAX);
    assert_int_equal(c->expect_pass, 0);
    assert_true(c->have_digest && c->digest == UINT64_C(0xabcdef0123456789));
    assert_int_equal(c->target, DLM_TARGET_EXACT);
    assert_true(c->inject && c->inject_coin == 2 && c->inject_eps == -0.125);
    assert_int_equal(memcmp(ok + c->digest_off, "ABCDEF0123456789", 16), 0);
    assert_int_equal(s.cases[1].line, 4);
    assert_false(s.cases[1].have_digest);
    /* Names: "CIRCUIT MODE", unique. */
    char name[256];
    dlm_regress_case_name(&s, 0, name, sizeof name);
    assert_string_equal(name, "gen:maj:5 ar bias=2:-0.125 target=exact");
    dlm_regress_case_name(&s, 1, name, sizeof name);
    assert_string_equal(name, "gen:maj:5 cot");
    dlm_regress_suite_free(&s);
    const char *dup = "gen:maj:5 cot 5 0 pass -\ngen:maj:5 cot 5 1 pass -\n";
    if (dlm_regress_parse("d.suite", dup, strlen(dup), &s, &e)) fail_msg("%s", e.msg);
    dlm_regress_case_name(&s, 1, name, sizeof name);
    assert_string_equal(name, "gen:maj:5 cot seed=1 chains=5");
    dlm_regress_suite_free(&s);
}

// ---------------------------------------------------------------- the CLI

static void smoke_suite(void **state)
{
    (void)state;
    int rc = dlm_test_sh(out, sizeof out, "%s regress %s", DLM_BIN, SMOKE_SUITE);
    if (rc != 0) fail_msg("exit %d, want 0:\n%s", rc, out);
    assert_non_null(strstr(out, "0 failed, 0 errors"));
    assert_non_null(strstr(out, "result PASS"));
    /* The smoke suite's digests are all recorded (none pending). */
    char *text = slurp(SMOKE_SUITE);
    assert_non_null(text);
    dlm_regress_suite s;
    dlm_err e;
    if (dlm_regress_parse(SMOKE_SUITE, text, strlen(text), &s, &e)) fail_msg("%s", e.msg);
    for (size_t i = 0; i < s.ncases; i++)
        if (!s.cases[i].have_digest) fail_msg("%s:%u: digest not recorded", SMOKE_SUITE, s.cases[i].line);
    dlm_regress_suite_free(&s);
    free(text);
    /* One thread gives the same digests as all cores. */
    rc = dlm_test_sh(out, sizeof out, "%s regress %s --threads 1 --quiet", DLM_BIN, SMOKE_SUITE);
    if (rc != 0) fail_msg("--threads 1: exit %d, want 0:\n%s", rc, out);
}

static void tampered_digest_fails(void **state)
{
    (void)state;
    /* Record a digest, then change one hex digit. */
    const char *p = dlm_test_file("tamper.suite", "gen:parity-revise:6 revise 10000 4 pass -\n"
                                                  "gen:parity-revise:6 cot 10000 4 pass -\n");
    int rc = dlm_test_sh(out, sizeof out, "%s regress %s --update", DLM_BIN, p);
    if (rc != 0) fail_msg("--update: exit %d:\n%s", rc, out);
    char *text = slurp(p);
    assert_non_null(text);
    char *d = strstr(text, "pass ") + 5; /* first digest */
    d[15] = d[15] == '0' ? '1' : '0';
    FILE *f = fopen(p, "wb");
    fputs(text, f);
    fclose(f);
    free(text);
    rc = dlm_test_sh(out, sizeof out, "%s regress %s", DLM_BIN, p);
    if (rc != 1) fail_msg("tampered digest: exit %d, want 1:\n%s", rc, out);
    assert_non_null(strstr(out, "FAIL "));
    assert_non_null(strstr(out, "tamper.suite:1"));
    assert_non_null(strstr(out, "recorded"));
    assert_non_null(strstr(out, "1 passed, 1 failed"));
    /* A verdict that differs from EXPECT fails too: a correct sampler expected to fail. */
    p = dlm_test_file("wrong.suite", "gen:parity-revise:6 revise 10000 4 fail -\n");
    rc = dlm_test_sh(out, sizeof out, "%s regress %s", DLM_BIN, p);
    if (rc != 1) fail_msg("wrong EXPECT: exit %d, want 1:\n%s", rc, out);
    assert_non_null(strstr(out, "verdict PASS, expected fail"));
    /* And a biased sampler expected to pass fails, naming the failed checks. */
    p = dlm_test_file("bias.suite", "gen:parity-revise:6 revise 200000 4 pass - bias=1:0.05\n");
    rc = dlm_test_sh(out, sizeof out, "%s regress %s", DLM_BIN, p);
    if (rc != 1) fail_msg("biased: exit %d, want 1:\n%s", rc, out);
    assert_non_null(strstr(out, "verdict FAIL, expected pass"));
    assert_non_null(strstr(out, "p_holm"));
}

static void bad_input_exit2(void **state)
{
    (void)state;
    const char *p = dlm_test_file("bad.suite", "# ok so far\ngen:maj:5 cot 100 1 pass -\ngen:maj:5 cot 100 1 pas -\n");
    int rc = dlm_test_sh(out, sizeof out, "%s regress %s", DLM_BIN, p);
    if (rc != 2) fail_msg("bad line: exit %d, want 2:\n%s", rc, out);
    char want[600];
    snprintf(want, sizeof want, "dlmsim: %s:3: bad EXPECT 'pas'", p);
    if (!strstr(out, want)) fail_msg("want '%s' in:\n%s", want, out);
    /* Usage errors and a missing suite. */
    const char *usage[] = {"", "--alpha 2 S", "--threads x S", "--backend tpu S", "--frobnicate S", "A B",
                           "--junit"};
    for (size_t i = 0; i < sizeof usage / sizeof *usage; i++) {
        rc = dlm_test_sh(out, sizeof out, "%s regress %s", DLM_BIN, usage[i]);
        if (rc != 2) fail_msg("'regress %s': exit %d, want 2:\n%s", usage[i], rc, out);
    }
    rc = dlm_test_sh(out, sizeof out, "%s regress %s/no-such.suite", DLM_BIN, dlm_test_tmpdir());
    assert_int_equal(rc, 2);
    assert_non_null(strstr(out, "no-such.suite"));
    /* A circuit that cannot be loaded is an error case: the others still run, exit 2. */
    p = dlm_test_file("missing.suite", "gen:maj:5 cot 1000 1 pass -\nno/such/file.aag cot 1000 1 pass -\n"
                                       "gen:maj:999999999 cot 1000 1 pass -\n");
    rc = dlm_test_sh(out, sizeof out, "%s regress %s", DLM_BIN, p);
    if (rc != 2) fail_msg("missing circuit: exit %d, want 2:\n%s", rc, out);
    assert_non_null(strstr(out, "1 passed, 0 failed, 2 errors"));
    assert_non_null(strstr(out, "missing.suite:2: "));
}

/* --update on a symlinked suite rewrites the real suite and keeps the link; a suite
 * that is a link to a device, or a --junit path that is a device node, is refused
 * before any case runs, and the device is left as it was. */
static void update_follows_a_symlinked_suite(void **state)
{
    (void)state;
    const char *real = dlm_test_file("real.suite", "gen:parity-revise:6 revise 10000 4 pass -\n");
    char link[600], node[600];
    snprintf(link, sizeof link, "%s/linked.suite", dlm_test_tmpdir());
    unlink(link);
    assert_int_equal(symlink("real.suite", link), 0);
    int rc = dlm_test_sh(out, sizeof out, "%s regress %s --update --quiet", DLM_BIN, link);
    if (rc != 0) fail_msg("--update through a symlink: exit %d:\n%s", rc, out);
    struct stat sb;
    assert_int_equal(lstat(link, &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    char *text = slurp(real);
    assert_non_null(text);
    assert_null(strstr(text, " -\n")); /* the real suite has its digest now */
    free(text);
    rc = dlm_test_sh(out, sizeof out, "%s regress %s --quiet", DLM_BIN, link);
    if (rc != 0) fail_msg("after --update through a symlink: exit %d:\n%s", rc, out);
    snprintf(link, sizeof link, "%s/null.suite", dlm_test_tmpdir());
    unlink(link);
    assert_int_equal(symlink("/dev/null", link), 0);
    rc = dlm_test_sh(out, sizeof out, "%s regress %s --update", DLM_BIN, link);
    if (rc != 2) fail_msg("--update of a link to /dev/null: exit %d, want 2:\n%s", rc, out);
    assert_non_null(strstr(out, "a character device"));
    assert_int_equal(stat("/dev/null", &sb), 0);
    assert_true(S_ISCHR(sb.st_mode));
    snprintf(node, sizeof node, "%s/junit-node", dlm_test_tmpdir());
    unlink(node);
    if (mknod(node, S_IFCHR | 0666, makedev(1, 3)) == 0) {
        rc = dlm_test_sh(out, sizeof out, "%s regress %s --junit %s", DLM_BIN, real, node);
        if (rc != 2) fail_msg("--junit onto a device node: exit %d, want 2:\n%s", rc, out);
        assert_null(strstr(out, "line")); /* refused before the table's header */
        assert_int_equal(lstat(node, &sb), 0);
        assert_true(S_ISCHR(sb.st_mode));
    } else {
        print_message("skipped the --junit device node part: mknod: %s\n", strerror(errno));
    }
}

static void update_rewrites_digests(void **state)
{
    (void)state;
    const char *orig = "# keep this comment\n"
                       "gen:maj:7   revise 10000 1 pass -    # and this one\n"
                       "\n"
                       "gen:maj:7\tcot 10000 1 pass 0000000000000000 target=exact\n"
                       "gen:maj:7   ar 10000 1 fail -\n"; /* verdict PASS != fail: kept as "-" */
    const char *p = dlm_test_file("upd.suite", orig);
    int rc = dlm_test_sh(out, sizeof out, "%s regress %s --update", DLM_BIN, p);
    if (rc != 1) fail_msg("--update with one wrong EXPECT: exit %d, want 1:\n%s", rc, out);
    assert_non_null(strstr(out, "2 digests rewritten"));
    char *text = slurp(p);
    assert_non_null(text);
    /* Everything but the two digest fields is byte for byte the same. */
    dlm_regress_suite s;
    dlm_err e;
    if (dlm_regress_parse(p, text, strlen(text), &s, &e)) fail_msg("%s", e.msg);
    assert_int_equal(s.ncases, 3);
    assert_true(s.cases[0].have_digest && s.cases[1].have_digest);
    assert_false(s.cases[2].have_digest);
    assert_true(s.cases[0].digest == s.cases[1].digest); /* same circuit, chains, seed */
    char want[1024], hex[17];
    dlm_regress_digest_format(s.cases[0].digest, hex);
    snprintf(want, sizeof want,
             "# keep this comment\n"
             "gen:maj:7   revise 10000 1 pass %s    # and this one\n"
             "\n"
             "gen:maj:7\tcot 10000 1 pass %s target=exact\n"
             "gen:maj:7   ar 10000 1 fail -\n",
             hex, hex);
    assert_string_equal(text, want);
    dlm_regress_suite_free(&s);
    free(text);
    /* No temporary file is left behind. */
    rc = dlm_test_sh(out, sizeof out, "ls %s | grep -c 'upd.suite.tmp' || true", dlm_test_tmpdir());
    assert_int_equal(atoi(out), 0);
    /* With the wrong EXPECT fixed, the suite passes as recorded; a second --update
     * changes nothing but the new "-". */
    FILE *f = fopen(p, "ab");
    fputs("gen:maj:7 remask 10000 1 pass -\n", f);
    fclose(f);
    rc = dlm_test_sh(out, sizeof out, "sed -i 's/ ar 10000 1 fail/ ar 10000 1 pass/' %s && %s regress %s --update",
                     p, DLM_BIN, p);
    if (rc != 0) fail_msg("exit %d:\n%s", rc, out);
    assert_non_null(strstr(out, "2 digests rewritten"));
    rc = dlm_test_sh(out, sizeof out, "%s regress %s", DLM_BIN, p);
    if (rc != 0) fail_msg("after --update: exit %d:\n%s", rc, out);
}

// ---------------------------------------------------------------- JSON and JUnit

static void json_report(void **state)
{
    (void)state;
    const char *p = dlm_test_file("json \"q\".suite",
                                  "gen:parity-revise:6 revise 10000 4 pass -\n"
                                  "gen:parity-revise:6 revise 100000 4 fail - bias=0:0.1\n");
    int rc = dlm_test_sh(out, sizeof out, "%s regress '%s' --json 2>/dev/null", DLM_BIN, p);
    if (rc != 0) fail_msg("exit %d:\n%s", rc, out);
    if (!json_parses(out)) fail_msg("not JSON:\n%s", out);
    const char *keys[] = {"\"suite\":", "json \\\"q\\\".suite\"", "\"backend\":\"auto\"", "\"alpha\":0.001",
                          "\"update\":false", "\"updated\":null", "\"cases\":[", "\"line\":1", "\"name\":\"gen:parity-revise:6 revise\"",
                          "\"circuit\":\"gen:parity-revise:6\"", "\"mode\":\"revise\"", "\"chains\":10000",
                          "\"seed\":4", "\"bias\":null", "\"bias\":{\"coin\":0,\"eps\":0.10000000000000001}",
                          "\"target\":\"auto\"", "\"expect\":\"fail\"", "\"verdict\":\"FAIL\"",
                          "\"verdict\":\"PASS\"", "\"digest_expected\":null", "\"digest\":\"", "\"digest_match\":null",
                          "\"seconds\":", "\"result\":\"pass\"", "\"reason\":\"\"",
                          "\"totals\":{\"cases\":2,\"passed\":2,\"failed\":0,\"errors\":0,\"seconds\":"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (!strstr(out, keys[i])) fail_msg("JSON lacks %s:\n%s", keys[i], out);
    /* --update --json: the count of rewritten digests, and the object still parses. */
    rc = dlm_test_sh(out, sizeof out, "%s regress '%s' --json --update 2>/dev/null", DLM_BIN, p);
    if (rc != 0) fail_msg("exit %d:\n%s", rc, out);
    assert_true(json_parses(out));
    assert_non_null(strstr(out, "\"updated\":2"));
    /* A failing case: result fail with a reason. */
    p = dlm_test_file("jfail.suite", "gen:parity-revise:6 revise 10000 4 pass 0123456789abcdef\n");
    rc = dlm_test_sh(out, sizeof out, "%s regress %s --json 2>/dev/null", DLM_BIN, p);
    assert_int_equal(rc, 1);
    assert_true(json_parses(out));
    assert_non_null(strstr(out, "\"digest_match\":false"));
    assert_non_null(strstr(out, "\"result\":\"fail\""));
    assert_non_null(strstr(out, "\"digest_expected\":\"0123456789abcdef\""));
}

/* A small XML well-formedness check: one root, properly nested and closed tags, quoted
 * attributes, no raw '<' or bare '&' in text or attribute values. Counts elements
 * named `count_tag`. Returns 1 when well-formed. */
static int xml_ok(const char *s, const char *count_tag, int *count)
{
    char stack[32][64];
    int depth = 0, roots = 0;
    *count = 0;
    if (!strncmp(s, "<?xml", 5)) {
        const char *e = strstr(s, "?>");
        if (!e) return 0;
        s = e + 2;
    }
    while (*s) {
        if (*s == '&') {
            const char *e = strchr(s, ';');
            if (!e || e - s > 8) return 0;
            s = e + 1;
            continue;
        }
        if (*s != '<') {
            if (!depth && !strchr(" \t\r\n", *s)) return 0;
            s++;
            continue;
        }
        int closing = s[1] == '/';
        s += 1 + closing;
        char name[64];
        int n = 0;
        while (*s && !strchr(" \t\r\n/>", *s) && n < 63) name[n++] = *s++;
        name[n] = 0;
        if (!n) return 0;
        if (closing) {
            s = js_ws(s);
            if (*s++ != '>' || !depth || strcmp(stack[depth - 1], name)) return 0;
            depth--;
            continue;
        }
        if (!strcmp(name, count_tag)) ++*count;
        for (;;) { /* attributes */
            s = js_ws(s);
            if (*s == '>' || (*s == '/' && s[1] == '>')) break;
            while (*s && !strchr(" \t\r\n=/>", *s)) s++;
            if (*s++ != '=' || *s++ != '"') return 0;
            while (*s && *s != '"') {
                if (*s == '<') return 0;
                if (*s == '&') {
                    const char *e = strchr(s, ';');
                    if (!e || e - s > 8) return 0;
                    s = e;
                }
                s++;
            }
            if (*s++ != '"') return 0;
        }
        if (*s == '/') {
            s += 2;
            if (!depth) roots++;
            continue;
        }
        s++;
        if (!depth) roots++;
        if (depth == 32) return 0;
        snprintf(stack[depth++], 64, "%s", name);
    }
    return depth == 0 && roots == 1;
}

/* The integer value of attribute attr in the first element named tag. */
static long xml_attr(const char *s, const char *tag, const char *attr)
{
    char open[80], key[80];
    snprintf(open, sizeof open, "<%s ", tag);
    snprintf(key, sizeof key, " %s=\"", attr);
    const char *t = strstr(s, open);
    if (!t) return -1;
    const char *end = strchr(t, '>');
    const char *a = strstr(t, key);
    if (!a || a > end) return -1;
    return strtol(a + strlen(key), NULL, 10);
}

static void junit_report(void **state)
{
    (void)state;
    /* Two passes, a failure (tampered digest) and an error (a file name that needs XML
     * escaping and does not exist). */
    char suite[1024];
    snprintf(suite, sizeof suite,
             "gen:parity-revise:6 revise 10000 4 pass -\n"
             "gen:parity-revise:6 cot 10000 4 pass -\n"
             "gen:parity-revise:6 ar 10000 4 pass 0123456789abcdef\n"
             "%s/a&b<c>\"d'.aag remask 1000 1 pass -\n",
             dlm_test_tmpdir());
    const char *p = dlm_test_file("junit.suite", suite);
    char xmlpath[600];
    snprintf(xmlpath, sizeof xmlpath, "%s/report.xml", dlm_test_tmpdir());
    int rc = dlm_test_sh(out, sizeof out, "%s regress %s --junit %s", DLM_BIN, p, xmlpath);
    if (rc != 2) fail_msg("exit %d, want 2 (one error case):\n%s", rc, out);
    char *x = slurp(xmlpath);
    assert_non_null(x);
    int ncase = 0;
    if (!xml_ok(x, "testcase", &ncase)) fail_msg("not well-formed XML:\n%s", x);
    assert_int_equal(ncase, 4);
    assert_int_equal(xml_attr(x, "testsuite", "tests"), 4);
    assert_int_equal(xml_attr(x, "testsuite", "failures"), 1);
    assert_int_equal(xml_attr(x, "testsuite", "errors"), 1);
    assert_int_equal(xml_attr(x, "testsuite", "skipped"), 0);
    int nfail = 0, nerr = 0;
    xml_ok(x, "failure", &nfail);
    xml_ok(x, "error", &nerr);
    assert_int_equal(nfail, 1);
    assert_int_equal(nerr, 1);
    assert_non_null(strstr(x, "classname=\"dlmsim.regress\" name=\"gen:parity-revise:6 revise\""));
    assert_non_null(strstr(x, "a&amp;b&lt;c&gt;&quot;d&apos;.aag remask"));
    assert_non_null(strstr(x, "<testsuite name="));
    assert_non_null(strstr(x, " time=\""));
    free(x);
    /* All passing: zero failures. */
    p = dlm_test_file("junit2.suite", "gen:maj:3 cot 1000 1 pass -\n");
    rc = dlm_test_sh(out, sizeof out, "%s regress %s --junit %s --json", DLM_BIN, p, xmlpath);
    assert_int_equal(rc, 0);
    x = slurp(xmlpath);
    assert_non_null(x);
    assert_true(xml_ok(x, "testcase", &ncase));
    assert_int_equal(ncase, 1);
    assert_int_equal(xml_attr(x, "testsuite", "failures"), 0);
    assert_int_equal(xml_attr(x, "testsuites", "tests"), 1);
    free(x);
}

int main(void)
{
    gsl_set_error_handler_off();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(digest_known_answers),
        cmocka_unit_test(digest_same_across_modes_and_threads),
        cmocka_unit_test(parse_errors_name_file_and_line),
        cmocka_unit_test(smoke_suite),
        cmocka_unit_test(tampered_digest_fails),
        cmocka_unit_test(bad_input_exit2),
        cmocka_unit_test(update_rewrites_digests),
        cmocka_unit_test(update_follows_a_symlinked_suite),
        cmocka_unit_test(json_report),
        cmocka_unit_test(junit_report),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
