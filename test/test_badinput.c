/* test_badinput.c — the bad-input matrix: hostile files and bad command lines given to
 * the dlmsim binary (DLM_BIN), for every command (info, run, export, verify, regress).
 *
 * Every case must end with exit code 2 and exactly one line on stderr that starts with
 * "dlmsim: " — never a crash (a signal, exit code >= 128, a sanitizer report), never
 * another exit code, never a long wait. Usage errors too are one line (no usage dump).
 * Each case is
 * its own cmocka test (named after the case), so one failure does not hide the others.
 *
 * Cases: absurd AIGER header counts (M, I, A, O far over the limits, and a header that
 * promises more than the file holds), a BLIF cover with 7 inputs, empty files, random
 * bytes under each extension, directories, an unreadable file (skipped, with the reason,
 * when running as root, where chmod 000 does not stop reading), missing files, bad
 * generator specs; --chains 0 / overflowing / negative, bad --seed, unknown options and
 * commands, missing arguments, unknown mode / backend / format / target, --hist with more
 * than 24 outputs, export to an unwritable path, --direct on a CUDA backend, and the CUDA
 * backends (cuda, cuda-ref) asked for without a device (skipped, with the reason, where
 * a device is usable: there they run). Issue 16, item 4: every usage error in one form,
 * "dlmsim: CMD: ...; see dlmsim CMD --help" (checked for every usage case; the cases
 * with a `want` text check the wording), DLMSIM_MAX_MEMORY=abc/0/-1 in every
 * subcommand, zero where zero means nothing, --chains 1e19; and, as their own tests,
 * --help/-h everywhere, --threads 0 accepted, export -o -, no KL printed negative by
 * rounding.
 *
 * Not covered here: what the readers accept (test/test_io.c) and fuzzing (test/fuzz/,
 * docs/fuzzing.md). Run from the repository root:
 *   make BUILD=build/bad CUDA=0 build/bad/dlmsim build/bad/test/test_badinput && ./build/bad/test/test_badinput
 */
#include "dlm_test.h"
#include "dlm_engine.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define MAX_CASES 420

typedef struct {
    char name[128];
    char args[1024]; /* the command line after DLM_BIN */
    int usage;       /* 1: a usage error (one line too) */
    int unreadable;  /* 1: the chmod 000 case (skipped when reading is not prevented) */
    int no_device;   /* 1: bad only without a CUDA device (skipped when one is usable) */
    char want[128];  /* when set: the line must hold this text */
    char env[64];    /* when set: NAME=VALUE in the command's environment */
} bad_case;

static bad_case cases[MAX_CASES];
static int ncases;

// ---- the files ----------------------------------------------------------------------

static char dir[256];       /* scratch directory with the hostile files */
static char unreadable[512]; /* path of the chmod 000 file */
static int have_node;        /* 1: the mknod'd device node "node" exists */

static const char *fpath(const char *name)
{
    static char paths[8][512];
    static int k;
    char *p = paths[k++ & 7];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

static void put_file(const char *name, const void *data, size_t len)
{
    FILE *f = fopen(fpath(name), "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f)) {
        fprintf(stderr, "test_badinput: cannot write %s\n", fpath(name));
        exit(1);
    }
}

static void put_text(const char *name, const char *text) { put_file(name, text, strlen(text)); }

/* Deterministic "random" bytes (xorshift64*), so a failure can be reproduced. */
static void put_garbage(const char *name, uint64_t seed, size_t len)
{
    unsigned char *b = malloc(len);
    if (!b) exit(1);
    uint64_t x = seed | 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        b[i] = (unsigned char)((x * UINT64_C(0x2545F4914F6CDD1D)) >> 56);
    }
    put_file(name, b, len);
    free(b);
}

static void make_files(void)
{
    snprintf(dir, sizeof dir, "%s", dlm_test_tmpdir());
    if (!dir[0]) {
        fprintf(stderr, "test_badinput: no scratch directory\n");
        exit(1);
    }
    /* absurd header counts: refused on line 1 before anything is allocated */
    put_text("huge-m.aag", "aag 4294967295 1 0 1 0\n2\n2\n");
    put_text("huge-m.aig", "aig 4294967295 0 0 0 0\n");
    put_text("huge-i.aag", "aag 5 99999999999 0 0 0\n");
    put_text("huge-a.aig", "aig 67108864 0 0 1 67108864\n2\n");
    put_text("huge-o.aag", "aag 1 1 0 4294967295 0\n2\n");
    put_text("huge-digits.aag", "aag 99999999999999999999999999999 1 0 1 0\n2\n2\n");
    put_text("promises-more.aig", "aig 1000000 0 0 1 1000000\n2\n");
    put_text("promises-more.aag", "aag 50000 0 0 0 50000\n2 0 0\n");
    /* valid: 2^26 - 1 implicit inputs in 30 bytes (about 8 GB for info without a budget) */
    put_text("implicit-inputs.aig", "aig 67108863 67108863 0 1 0\n2\n");
    /* a .names with 7 inputs (LUTs have at most 6) */
    put_text("fanin7.blif", ".model m\n.inputs a b c d e f g\n.outputs y\n"
                            ".names a b c d e f g y\n1111111 1\n.end\n");
    put_text("empty.aag", "");
    put_text("empty.aig", "");
    put_text("empty.blif", "");
    put_garbage("garbage.aag", 1, 4096);
    put_garbage("garbage.aig", 2, 4096);
    put_garbage("garbage.blif", 3, 4096);
    mkdir(fpath("dir.aag"), 0755);
    mkdir(fpath("dir.aig"), 0755);
    mkdir(fpath("dir.blif"), 0755);
    put_text("unreadable.aag", "aag 3 2 0 1 1\n2\n4\n6\n6 2 4\n");
    snprintf(unreadable, sizeof unreadable, "%s", fpath("unreadable.aag"));
    chmod(unreadable, 0);
    /* devices: as inputs behind a symlink, and a device node as an output path */
    symlink("/dev/zero", fpath("zero.aag"));
    symlink("/dev/zero", fpath("zero.aig"));
    symlink("/dev/urandom", fpath("urandom.blif"));
    symlink("/dev/urandom", fpath("urandom.aag"));
    symlink("/dev/full", fpath("full-link"));
    have_node = mknod(fpath("node"), S_IFCHR | 0666, makedev(1, 3)) == 0; /* like /dev/null */
    mkfifo(fpath("fifo.out"), 0600);
}

// ---- the cases ----------------------------------------------------------------------

__attribute__((format(printf, 3, 4)))
static void add(int usage, const char *name, const char *fmt, ...)
{
    if (ncases >= MAX_CASES) {
        fprintf(stderr, "test_badinput: too many cases\n");
        exit(1);
    }
    bad_case *k = &cases[ncases++];
    snprintf(k->name, sizeof k->name, "%s", name);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->args, sizeof k->args, fmt, ap);
    va_end(ap);
    k->usage = usage;
    k->unreadable = strstr(k->args, "unreadable.aag") != NULL;
    k->no_device = 0;
    k->want[0] = k->env[0] = 0;
}

/* The last case's line must hold text. */
static void want(const char *text) { snprintf(cases[ncases - 1].want, sizeof cases[0].want, "%s", text); }

/* A file given to every command that reads a circuit. */
static void add_file(const char *what, const char *file)
{
    char n[128];
    const char *p = file[0] == '/' || !strncmp(file, "gen:", 4) ? file : fpath(file);
    snprintf(n, sizeof n, "info %s", what);
    add(0, n, "info %s", p);
    snprintf(n, sizeof n, "run %s", what);
    add(0, n, "run %s --chains 1000", p);
    snprintf(n, sizeof n, "export %s", what);
    add(0, n, "export %s --format aag -o %s", p, fpath("out.aag"));
    snprintf(n, sizeof n, "verify %s", what);
    add(0, n, "verify %s --chains 1000", p);
}

static void make_cases(void)
{
    static const char *const files[][2] = {
        {"aag header M = 2^32-1", "huge-m.aag"},
        {"aig header M = 2^32-1", "huge-m.aig"},
        {"aag header I = 99999999999", "huge-i.aag"},
        {"aig header A = 2^26 (over the node limit)", "huge-a.aig"},
        {"aag header O = 2^32-1", "huge-o.aag"},
        {"aag header M with 29 digits", "huge-digits.aag"},
        {"aig header promising 10^6 ANDs in 2 bytes", "promises-more.aig"},
        {"aag header promising 50000 ANDs in one line", "promises-more.aag"},
        {"blif .names with 7 inputs", "fanin7.blif"},
        {"empty .aag", "empty.aag"},
        {"empty .aig", "empty.aig"},
        {"empty .blif", "empty.blif"},
        {"random bytes .aag", "garbage.aag"},
        {"random bytes .aig", "garbage.aig"},
        {"random bytes .blif", "garbage.blif"},
        {"directory .aag", "dir.aag"},
        {"directory .aig", "dir.aig"},
        {"directory .blif", "dir.blif"},
        {"directory without extension", "."},
        {"unreadable (chmod 000) .aag", "unreadable.aag"},
        {"missing .aag", "missing.aag"},
        {"missing .aig", "missing.aig"},
        {"missing .blif", "missing.blif"},
        {"missing file, unknown extension", "missing.txt"},
        {"file in a missing directory", "/nonexistent-dlmsim-dir/x.blif"},
        {"gen: unknown generator", "gen:foo:3"},
        {"gen: N with 23 digits", "gen:parity-tree:99999999999999999999999"},
        {"gen: random W*D overflowing 64 bits", "gen:random:4294967296,4294967296,1"},
        {"gen: even maj", "gen:maj:4"},
        {"gen: empty spec", "gen:"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) add_file(files[i][0], files[i][1]);

    /* counts and seeds */
    static const char *const cmds[2] = {"run", "verify"};
    for (int c = 0; c < 2; c++) {
        const char *m = cmds[c];
        char n[128];
        static const char *const chains[] = {"0", "1e30", "99999999999999999999999", "-5", "-0",
                                             " -5", "1.5", "nan", "inf", "abc", ""};
        for (size_t i = 0; i < sizeof chains / sizeof chains[0]; i++) {
            snprintf(n, sizeof n, "%s --chains '%s'", m, chains[i]);
            add(1, n, "%s gen:maj:3 --chains '%s'", m, chains[i]);
        }
        static const char *const seeds[] = {"abc", "-1", " -1", "1e30", "18446744073709551616",
                                            "0x10", "nan"};
        for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
            snprintf(n, sizeof n, "%s --seed '%s'", m, seeds[i]);
            add(1, n, "%s gen:maj:3 --chains 1000 --seed '%s'", m, seeds[i]);
        }
        snprintf(n, sizeof n, "%s --mode foo", m);
        add(1, n, "%s gen:maj:3 --mode foo", m);
        snprintf(n, sizeof n, "%s --backend foo", m);
        add(1, n, "%s gen:maj:3 --backend foo", m);
        snprintf(n, sizeof n, "%s --threads -1", m);
        add(1, n, "%s gen:maj:3 --threads -1", m);
        snprintf(n, sizeof n, "%s --chains without a value", m);
        add(1, n, "%s gen:maj:3 --chains", m);
        snprintf(n, sizeof n, "%s two circuits", m);
        add(1, n, "%s gen:maj:3 gen:maj:5", m);
    }
    add(1, "verify --target foo", "verify gen:maj:3 --target foo");
    add(1, "verify --alpha 2", "verify gen:maj:3 --alpha 2");
    add(1, "verify --inject-bias 0:0.7", "verify gen:maj:3 --inject-bias 0:0.7");
    add(1, "verify --inject-bias x", "verify gen:maj:3 --inject-bias x");
    add(1, "run --checkpoint-every 0", "run gen:maj:3 --checkpoint FILE --checkpoint-every 0");
    add(1, "verify --checkpoint-every 0", "verify gen:maj:3 --checkpoint FILE --checkpoint-every 0");
    add(1, "verify --checkpoint-every without --checkpoint", "verify gen:maj:3 --checkpoint-every 5");
    add(1, "verify --counts FILE alone with --resume", "verify gen:maj:3 --counts FILE --resume FILE");
    add(1, "sample --checkpoint-every 0", "sample parity:4 --checkpoint FILE --checkpoint-every 0");
    add(1, "sample --checkpoint-every without --checkpoint", "sample parity:4 --checkpoint-every 5");
    add(1, "sample --counts FILE alone with --checkpoint", "sample parity:4 --counts FILE --checkpoint FILE");

    /* unknown options, commands; missing arguments */
    add(1, "info --bogus", "info gen:maj:3 --bogus");
    add(1, "run --bogus", "run gen:maj:3 --bogus");
    add(1, "export --bogus", "export gen:maj:3 --format aag -o %s --bogus", fpath("out.aag"));
    add(1, "verify --bogus", "verify gen:maj:3 --bogus");
    add(1, "regress --bogus", "regress --bogus");
    add(1, "unknown command", "bogus");
    add(1, "unknown command --bogus", "--bogus");
    add(1, "empty command", "''");
    add(1, "no command", "%s", "");
    add(1, "info without CIRCUIT", "info");
    add(1, "run without CIRCUIT", "run");
    add(1, "export without CIRCUIT", "export");
    add(1, "verify without CIRCUIT", "verify");
    add(1, "regress without SUITE", "regress");
    add(1, "info two circuits", "info gen:maj:3 gen:maj:5");
    add(1, "export without -o", "export gen:maj:3 --format aag");
    add(1, "export without --format", "export gen:maj:3 -o %s", fpath("out.aag"));
    add(1, "export -o without a value", "export gen:maj:3 --format aag -o");
    add(1, "export --format without a value", "export gen:maj:3 -o %s --format", fpath("out.aag"));
    add(1, "export --format foo", "export gen:maj:3 --format foo -o %s", fpath("out.aag"));
    add(0, "regress missing suite", "regress %s", fpath("missing-suite"));

    /* outputs */
    add(0, "run --hist with 30 outputs", "run gen:parity-tree:30 --chains 100 --hist %s",
        fpath("hist.txt"));
    add(0, "run --hist with 30 outputs (cpu, quiet)",
        "run gen:parity-tree:30 --chains 100 --backend cpu --quiet --hist %s", fpath("hist.txt"));
    static const char *const fmts[] = {"aag", "aig", "blif"};
    for (int i = 0; i < 3; i++) {
        char n[128];
        snprintf(n, sizeof n, "export %s to a missing directory", fmts[i]);
        add(0, n, "export gen:maj:3 --format %s -o /nonexistent-dlmsim-dir/x.%s", fmts[i], fmts[i]);
        snprintf(n, sizeof n, "export %s onto a directory", fmts[i]);
        add(0, n, "export gen:maj:3 --format %s -o %s", fmts[i], fpath("dir.aag"));
    }
    add(0, "run --samples to a missing directory (cpu, quiet)",
        "run gen:maj:3 --chains 100 --backend cpu --quiet --samples /nonexistent-dlmsim-dir/s.txt");
    add(0, "run --hist to a missing directory (cpu, quiet)",
        "run gen:maj:3 --chains 100 --backend cpu --quiet --hist /nonexistent-dlmsim-dir/h.txt");
    add(0, "info: 2^26 implicit AIGER inputs over --max-memory 1G",
        "info %s --max-memory 1G", fpath("implicit-inputs.aig"));
    add(0, "run: 2^26 implicit AIGER inputs over --max-memory 1G",
        "--max-memory 1G run %s --chains 10 --quiet", fpath("implicit-inputs.aig"));
    add(0, "verify: program over --max-memory 64K", "verify gen:parity-tree:4096 --mode cot --max-memory 64K");
    add(1, "--max-memory 0", "info gen:maj:3 --max-memory 0");
    add(1, "--max-memory without a value", "info gen:maj:3 --max-memory");
    add(1, "--max-memory -1", "info gen:maj:3 --max-memory -1");
    add(1, "--max-memory 12X", "info gen:maj:3 --max-memory 12X");
    add(0, "sample: law over --max-memory 1K", "sample random:20:2:1 --max-memory 1K");
    add(1, "sample without a law", "sample");
    add(0, "sample: unknown policy", "sample parity:4 --policy nope");
    add(0, "sample: --exact on a law too large to tabulate", "sample english:64 --exact");
    add(0, "sample: block length that does not divide L", "sample parity:6 --block-length 4");
    add(0, "sample: bad law spec", "sample bsc:0:0.1");
    add(0, "sample: missing markov file", "sample markov:%s", fpath("missing.markov"));
    add(0, "sample: missing table file", "sample table:%s", fpath("missing.table"));
    add(1, "sample --chains 0", "sample parity:4 --chains 0");

    /* --cuda-kernel: a name of the three, and for the cuda backend only */
    add(1, "run --cuda-kernel foo", "run gen:maj:3 --cuda-kernel foo");
    add(1, "verify --cuda-kernel foo", "verify gen:maj:3 --cuda-kernel foo");
    add(0, "run --cuda-kernel jit --backend cpu", "run gen:maj:3 --chains 100 --backend cpu --cuda-kernel jit");
    add(0, "run --cuda-kernel jit --direct", "run gen:maj:3 --chains 100 --direct --cuda-kernel jit");
    add(0, "verify --cuda-kernel interpreter --backend cpu",
        "verify gen:maj:3 --chains 1000 --backend cpu --cuda-kernel interpreter");

    /* CUDA backends: --direct is CPU-only; asked for without a device, they are refused */
    add(0, "run --direct --backend cuda", "run gen:maj:3 --chains 100 --direct --backend cuda");
    add(0, "run --direct --backend cuda-ref", "run gen:maj:3 --chains 100 --direct --backend cuda-ref");
    static const char *const cuda_cmds[][2] = {
        {"run --backend cuda without a device", "run gen:maj:3 --chains 100 --backend cuda"},
        {"run --backend cuda-ref without a device", "run gen:maj:3 --chains 100 --backend cuda-ref"},
        {"verify --backend cuda-ref without a device",
         "verify gen:maj:3 --chains 1000 --backend cuda-ref"},
    };
    for (size_t i = 0; i < sizeof cuda_cmds / sizeof cuda_cmds[0]; i++) {
        add(0, cuda_cmds[i][0], "%s", cuda_cmds[i][1]);
        cases[ncases - 1].no_device = 1;
    }
    /* readers: devices refused after open, the budget before reading (issue 16) */
    add(0, "info: .aag symlinked to /dev/zero, --max-memory 100M", "info %s --max-memory 100M", fpath("zero.aag"));
    add(0, "info: .aig symlinked to /dev/zero", "info %s", fpath("zero.aig"));
    add(0, "info: .blif symlinked to /dev/urandom", "info %s", fpath("urandom.blif"));
    add(0, "run: .aag symlinked to /dev/urandom", "run %s --chains 10", fpath("urandom.aag"));
    add(0, "sample markov:/dev/zero", "sample markov:/dev/zero");
    add(0, "sample table:/dev/urandom", "sample table:/dev/urandom");
    add(0, "sample circuit: of a .aag symlinked to /dev/zero", "sample circuit:%s", fpath("zero.aag"));
    add(0, "regress /dev/zero", "regress /dev/zero");
    add(0, "run --resume /dev/zero (cpu, quiet)", "run gen:maj:3 --chains 100 --backend cpu --quiet --resume /dev/zero");
    add(0, "sample --resume /dev/zero", "sample parity:4 --chains 100 --resume /dev/zero");
    add(0, "verify --resume /dev/zero (cpu, quiet)", "verify gen:maj:3 --chains 100 --backend cpu --quiet --resume /dev/zero");
    add(0, "info: file over --max-memory 1K", "info %s --max-memory 1K", fpath("garbage.aag"));
    /* outputs: a device node, a symlink to /dev/full, a FIFO, a directory are refused
     * before any work, and stay what they were (checked by the last test) */
    static const char *const outs[] = {"node", "full-link", "fifo.out", "dir.aag"};
    for (int i = 0; i < 4; i++) {
        const char *o = fpath(outs[i]);
        char n[128];
        snprintf(n, sizeof n, "run --checkpoint %s", outs[i]);
        add(0, n, "run gen:maj:3 --chains 100 --backend cpu --quiet --checkpoint %s", o);
        snprintf(n, sizeof n, "verify --checkpoint %s", outs[i]);
        add(0, n, "verify gen:maj:3 --chains 100 --backend cpu --quiet --checkpoint %s", o);
        snprintf(n, sizeof n, "run --hist %s", outs[i]);
        add(0, n, "run gen:maj:3 --chains 100 --backend cpu --quiet --hist %s", o);
        snprintf(n, sizeof n, "run --samples %s", outs[i]);
        add(0, n, "run gen:maj:3 --chains 100 --backend cpu --quiet --samples %s", o);
        snprintf(n, sizeof n, "sample --checkpoint %s", outs[i]);
        add(0, n, "sample parity:4 --chains 100 --checkpoint %s", o);
        snprintf(n, sizeof n, "sample --hist %s", outs[i]);
        add(0, n, "sample parity:4 --chains 100 --hist %s", o);
        snprintf(n, sizeof n, "export -o %s", outs[i]);
        add(0, n, "export gen:maj:3 --format aig -o %s", o);
        snprintf(n, sizeof n, "kl --csv %s", outs[i]);
        add(0, n, "kl parity:4 --steps 1-2 --csv %s", o);
        snprintf(n, sizeof n, "kl --plot %s", outs[i]);
        add(0, n, "kl parity:4 --steps 1-2 --plot %s", o);
        snprintf(n, sizeof n, "regress --junit %s", outs[i]);
        add(0, n, "regress test/suites/smoke.suite --junit %s", o);
    }
    /* issue 16, item 4: one form for every usage error, in every subcommand */
    static const char *const subs[][2] = {
        {"info", "info gen:maj:3"},
        {"run", "run gen:maj:3 --chains 10 --backend cpu --quiet"},
        {"export", "export gen:maj:3 --format aag -o -"},
        {"verify", "verify gen:maj:3 --chains 1000 --backend cpu --quiet"},
        {"merge", "merge x.counts -o y.counts"},
        {"regress", "regress test/suites/smoke.suite --backend cpu --quiet"},
        {"sample", "sample parity:4 --chains 10 --backend cpu"},
        {"kl", "kl parity:4 --steps 1-2"},
    };
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        char n[128], w[96];
        snprintf(n, sizeof n, "%s: --bogus in the one form", subs[i][0]);
        add(1, n, "%s --bogus", subs[i][1]);
        snprintf(w, sizeof w, "dlmsim: %s: unknown option --bogus; see dlmsim %s --help", subs[i][0], subs[i][0]);
        want(w);
        /* a budget that cannot be read is refused, in every command */
        static const char *const budgets[] = {"abc", "0", "-1"};
        for (int b = 0; b < 3; b++) {
            snprintf(n, sizeof n, "%s: DLMSIM_MAX_MEMORY=%s", subs[i][0], budgets[b]);
            add(1, n, "%s", subs[i][1]);
            snprintf(cases[ncases - 1].env, sizeof cases[0].env, "DLMSIM_MAX_MEMORY=%s", budgets[b]);
            snprintf(w, sizeof w, "bad DLMSIM_MAX_MEMORY '%s'", budgets[b]);
            want(w);
        }
    }
    add(1, "verify LAW: --bogus says verify:", "verify parity:4 --bogus");
    want("dlmsim: verify: unknown option --bogus; see dlmsim verify --help");
    add(1, "verify LAW: --chains 0 says verify:", "verify parity:4 --chains 0");
    want("dlmsim: verify: bad --chains 0 (");
    add(1, "run --chains 0 names what is allowed", "run gen:maj:3 --chains 0");
    want("dlmsim: run: bad --chains 0 (a count 1 .. 2^56, e.g. 1e6); see dlmsim run --help");
    /* zero where zero means nothing */
    static const char *const zeros[] = {"--steps", "--block-length", "--top-k", "--max-states"};
    for (int z = 0; z < 4; z++) {
        char n[128], w[96];
        snprintf(n, sizeof n, "sample %s 0", zeros[z]);
        add(1, n, "sample parity:4 --exact %s 0", zeros[z]);
        snprintf(w, sizeof w, "dlmsim: sample: bad %s 0 (", zeros[z]);
        want(w);
        snprintf(n, sizeof n, "verify LAW %s 0", zeros[z]);
        add(1, n, "verify parity:4 %s 0", zeros[z]);
        snprintf(w, sizeof w, "dlmsim: verify: bad %s 0 (", zeros[z]);
        want(w);
    }
    add(1, "kl --steps 0", "kl parity:4 --steps 0");
    want("dlmsim: kl: bad --steps 0 (");
    /* counts that could never finish */
    static const char *const huge[][2] = {{"run", "run gen:maj:3"}, {"verify", "verify gen:maj:3"},
                                          {"sample", "sample parity:4"}, {"kl", "kl parity:4 --estimate"}};
    for (int h = 0; h < 4; h++) {
        char n[128], w[96];
        snprintf(n, sizeof n, "%s --chains 1e19", huge[h][0]);
        add(1, n, "%s --chains 1e19", huge[h][1]);
        snprintf(w, sizeof w, "dlmsim: %s: bad --chains 1e19 (", huge[h][0]);
        want(w);
    }
    add(1, "--max-memory abc", "info gen:maj:3 --max-memory abc");
    want("dlmsim: bad --max-memory abc (");
    add(0, "sample circuit: with 64 outputs says 64", "sample circuit:gen:parity-revise:64");
    want("has 64 outputs");
    add(0, "regress DIR says it is a directory", "regress %s", fpath("dir.aag"));
    want("directory");
    add(0, "regress --update of a suite symlinked to /dev/null", "regress %s --update", fpath("full-link"));
    add(0, "run --resume a missing file (cpu, quiet)",
        "run gen:maj:3 --chains 100 --backend cpu --quiet --resume %s", fpath("missing.ckpt"));
}

// ---- running one case -----------------------------------------------------------------

static void run_case(void **state)
{
    const bad_case *k = *state;
    if (k->unreadable) {
        int fd = open(unreadable, O_RDONLY);
        if (fd >= 0) {
            close(fd);
            print_message("skipped: %s can still be opened after chmod 000 (running as root, "
                          "euid %ld), so this case cannot be produced\n", unreadable,
                          (long)geteuid());
            skip();
        }
    }
    char why[256] = "";
    if (k->no_device && dlm_cuda_device_count(why, sizeof why) > 0) {
        print_message("skipped: a CUDA device is usable, so `%s` runs instead of being refused\n",
                      k->args);
        skip();
    }
    static char err[16384];
    /* stderr to the pipe, stdout discarded; timeout turns a hang (or a run that
     * was wrongly accepted and samples for ever) into exit 124, which fails the case
     * as any exit other than 2 does. How long a refusal takes is not asserted. */
    int rc = dlm_test_sh(err, sizeof err, "%s timeout 15 %s %s 2>&1 >/dev/null", k->env[0] ? k->env : "", DLM_BIN,
                         k->args);
    const char *nl = strchr(err, '\n');
    size_t first_len = nl ? (size_t)(nl - err) : strlen(err);
    int lines = 0;
    for (const char *p = err; *p; p++) lines += *p == '\n';
    if (err[0] && err[strlen(err) - 1] != '\n') lines++;
    int ok = 1;
    if (rc != 2) {
        print_error("[%s] dlmsim %s: exit %d, expected 2%s\n", k->name, k->args, rc,
                    rc < 0 || rc >= 128 ? (rc == 124 ? " (timed out)" : " (CRASH)") : "");
        ok = 0;
    }
    if (strstr(err, "Sanitizer") || strstr(err, "runtime error:")) {
        print_error("[%s] dlmsim %s: sanitizer report on stderr\n", k->name, k->args);
        ok = 0;
    }
    if (strncmp(err, "dlmsim: ", 8) != 0 || first_len <= 8) {
        print_error("[%s] dlmsim %s: stderr does not start with a 'dlmsim: ' message\n", k->name,
                    k->args);
        ok = 0;
    }
    if (lines != 1) {
        print_error("[%s] dlmsim %s: %d lines on stderr, expected exactly one\n", k->name, k->args,
                    lines);
        ok = 0;
    }
    /* a usage error names the help to read, in one form: "...; see dlmsim [CMD] --help" */
    const char *see = strstr(err, "; see dlmsim ");
    if (k->usage && (!see || see > err + first_len || first_len < 6 || strncmp(err + first_len - 6, "--help", 6))) {
        print_error("[%s] dlmsim %s: a usage error must end with '; see dlmsim CMD --help'\n", k->name, k->args);
        ok = 0;
    }
    if (k->want[0] && (!strstr(err, k->want) || strstr(err, k->want) > err + first_len)) {
        print_error("[%s] dlmsim %s: the line does not say '%s'\n", k->name, k->args, k->want);
        ok = 0;
    }
    if (!ok) {
        print_error("stderr was:\n%.2000s%s\n", err, strlen(err) > 2000 ? "..." : "");
        fail();
    }
}

/* After every case: the device node is still a device, the link still points at
 * /dev/full, the FIFO still a FIFO (nothing was renamed over them). */
static void outputs_left_alone(void **state)
{
    (void)state;
    struct stat sb;
    if (have_node) {
        assert_int_equal(lstat(fpath("node"), &sb), 0);
        assert_true(S_ISCHR(sb.st_mode));
    } else {
        print_message("note: mknod failed here, so the device-node cases used a missing path\n");
    }
    assert_int_equal(lstat(fpath("full-link"), &sb), 0);
    assert_true(S_ISLNK(sb.st_mode));
    assert_int_equal(stat("/dev/full", &sb), 0);
    assert_true(S_ISCHR(sb.st_mode));
    assert_int_equal(lstat(fpath("fifo.out"), &sb), 0);
    assert_true(S_ISFIFO(sb.st_mode));
}

// ---- what bad-input handling must not break (issue 16, item 4) ---------------------

static char out[1 << 16];

/* Every subcommand answers --help and -h with its own options on stdout, exit 0. */
static void help_everywhere(void **state)
{
    (void)state;
    static const char *const subs[][2] = {
        {"info", "--json"}, {"run", "--chains"}, {"export", "--format"}, {"verify", "--alpha"},
        {"merge", "--allow-gaps"}, {"regress", "--junit"}, {"sample", "--policy"}, {"kl", "--schedules"},
    };
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
        for (int h = 0; h < 2; h++) {
            int rc = dlm_test_sh(out, sizeof out, "%s %s %s 2>/dev/null", DLM_BIN, subs[i][0], h ? "-h" : "--help");
            char head[64];
            snprintf(head, sizeof head, "usage: dlmsim %s ", subs[i][0]);
            if (rc != 0 || strncmp(out, head, strlen(head)) || !strstr(out, subs[i][1]))
                fail_msg("dlmsim %s %s: exit %d, stdout:\n%.500s", subs[i][0], h ? "-h" : "--help", rc, out);
        }
    }
    /* verify LAW --help is sample's (the options it takes) */
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s verify parity:4 --help 2>/dev/null", DLM_BIN), 0);
    assert_non_null(strstr(out, "--policy"));
}

/* --threads 0 is "one per core" (the default) in every subcommand that takes it. */
static void threads_zero_is_every_core(void **state)
{
    (void)state;
    static const char *const cmds[] = {
        "run gen:maj:3 --chains 100 --backend cpu --quiet --threads 0",
        "verify gen:maj:3 --chains 1000 --backend cpu --quiet --threads 0",
        "sample parity:4 --chains 100 --backend cpu --threads 0",
        "kl parity:4 --steps 1-2 --threads 0",
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        int rc = dlm_test_sh(out, sizeof out, "%s %s 2>&1", DLM_BIN, cmds[i]);
        if (rc != 0) fail_msg("dlmsim %s: exit %d:\n%.500s", cmds[i], rc, out);
    }
}

/* export -o - writes the circuit to stdout, and nothing named "-" appears. */
static void export_to_stdout(void **state)
{
    (void)state;
    char cwd[4096];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(dlm_test_sh(out, sizeof out, "cd %s && %s/%s export gen:maj:3 --format aag -o - 2>/dev/null",
                                 dir, cwd, DLM_BIN), 0);
    assert_int_equal(strncmp(out, "aag ", 4), 0);
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s export gen:maj:3 --format blif -o - 2>/dev/null", DLM_BIN), 0);
    assert_non_null(strstr(out, ".model"));
    struct stat sb;
    assert_int_not_equal(lstat(fpath("-"), &sb), 0);
}

/* A KL that is 0 but sums to -1e-15 by rounding is printed as 0 (parity:6 with
 * T = 4 is such a case in the exact table): no value in (-1e-12, 0) in the CSV. */
static void kl_rounding_is_not_negative(void **state)
{
    (void)state;
    assert_int_equal(dlm_test_sh(out, sizeof out, "%s kl parity:6 --steps 4 --csv - 2>/dev/null", DLM_BIN), 0);
    int rows = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, "schedule,", 9)) continue;
        rows++;
        for (char *f = strchr(line, ','); f; f = strchr(f + 1, ',')) {
            double x = strtod(f + 1, NULL);
            if (x < 0 && x > -1e-12) fail_msg("a KL of %g printed in: %s", x, line);
        }
    }
    assert_true(rows > 0);
}

int main(void)
{
    make_files();
    make_cases();
    /* Entries past ncases stay zero: cmocka runs only entries with a name, so the
     * public macro (which counts the whole array) can run a table filled at run time. */
    static struct CMUnitTest tests[MAX_CASES + 6];
    for (int i = 0; i < ncases; i++) {
        struct CMUnitTest t = {cases[i].name, run_case, NULL, NULL, &cases[i]};
        tests[i] = t;
    }
    struct CMUnitTest more[] = {
        {"outputs left alone", outputs_left_alone, NULL, NULL, NULL},
        {"help everywhere", help_everywhere, NULL, NULL, NULL},
        {"threads 0 is every core", threads_zero_is_every_core, NULL, NULL, NULL},
        {"export -o - to stdout", export_to_stdout, NULL, NULL, NULL},
        {"kl rounding is not negative", kl_rounding_is_not_negative, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++) tests[ncases + i] = more[i];
    int failed = cmocka_run_group_tests_name("badinput", tests, NULL, NULL);
    chmod(unreadable, 0600);
    return failed;
}
