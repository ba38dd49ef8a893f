/* cli_kl.c — `dlmsim kl TARGET`: exact KL against the number of rounds for random-order
 * decoding with the exact oracle, with the theory overlays (docs/kl.md).
 *
 *   dlmsim kl TARGET [--schedules LIST] [--steps LIST] [--csv F] [--plot F.png] [--json]
 *                    [--chains N] [--seed S] [--threads N] [--estimate] [--max-work W]
 *
 * TARGET is a law spec (dlm_law.h: bsc:10:0.1, parity:8, circuit:gen:adder-prefix:4,
 * english:1024, ...). Laws with a table ((V+1)^L <= --max-work, default 4e9) get exact
 * curves from g(0..L); others (or --estimate) get path-KL estimates with 95% intervals.
 * Exit codes: 0 success, 1 a computation failed a check, 2 bad input or usage.
 * The library part is host/oracle/kl.c; this file parses, prints and plots (gnuplot).
 */
#include "dlm_cli.h"
#include "dlm_kl.h"
#include "dlm_law.h"
#include "dlm_schedule.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const kl_usage =
    "usage: dlmsim kl TARGET [--schedules LIST] [--steps LIST] [--csv F] [--plot F.png] [--json]\n"
    "                        [--chains N] [--seed S] [--threads N] [--estimate] [--max-work W]\n"
    "TARGET: a law spec (bsc:10:0.1, parity:8, circuit:gen:adder-prefix:4, english:1024, ...).\n"
    "LIST: comma-separated names among uniform-first, uniform-last, cosine, loglinear,\n"
    "binomial, binomial-cosine, random-sizes, optimal (default: all).\n"
    "--steps: e.g. 1,2,3,5,10 or 1-10 or all (default: all for L <= 32, else powers of 2 and L).\n"
    "--estimate: path-KL estimates (--chains, 2 .. 2^40, default 10000) even when exact curves exist.\n"
    "--threads: 0 .. 4096, 0 = one per core (the default). --csv, --plot: - for stdout.\n"
    "A KL within 1e-12 nats below 0 (rounding) is printed as 0.\n";


// ---------------------------------------------------------------- schedules by name

enum { S_UFIRST, S_ULAST, S_COSINE, S_LOGLIN, S_BINOM, S_BINOMCOS, S_RANDSIZE, S_OPTIMAL, S_COUNT };
static const char *const sched_names[S_COUNT] = {"uniform-first", "uniform-last", "cosine", "loglinear",
                                                 "binomial", "binomial-cosine", "random-sizes", "optimal"};

/* One row of the report. */
typedef struct {
    int sched;
    uint32_t T;
    uint32_t *sizes;        /* fixed kinds: T sizes (owned); NULL for random sizes */
    double smax;            /* s_max, or E[s_max] for random sizes */
    double kl, se, lo, hi;  /* exact: se = 0, lo = hi = kl */
    double li_cai, smax_bound, tc_T, dtc_T; /* NAN when unknown or not applicable */
    double kl_qbar, rkl_qbar, tv_qbar;      /* NAN when not computed */
} kl_row;

typedef struct {
    const char *target, *csv, *plot;
    int json, estimate, threads;
    uint64_t chains, seed;
    double max_work;
    int use[S_COUNT];
    const char *steps;
} kl_args;

static int parse_args(int argc, char **argv, kl_args *a)
{
    memset(a, 0, sizeof *a);
    a->chains = 10000;
    a->max_work = 4e9;
    for (int k = 0; k < S_COUNT; k++) a->use[k] = 1;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = !strcmp(o, "--schedules") || !strcmp(o, "--steps") || !strcmp(o, "--csv") ||
                    !strcmp(o, "--plot") || !strcmp(o, "--chains") || !strcmp(o, "--seed") ||
                    !strcmp(o, "--threads") || !strcmp(o, "--max-work");
        if (takes && !v) return dlm_cli_usage("kl", "option %s needs a value", o);
        if (!strcmp(o, "--schedules")) {
            for (int k = 0; k < S_COUNT; k++) a->use[k] = 0;
            char buf[512];
            snprintf(buf, sizeof buf, "%s", v);
            for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
                int k = 0;
                while (k < S_COUNT && strcmp(t, sched_names[k])) k++;
                if (k == S_COUNT)
                    return dlm_cli_bad("kl", "--schedules", t, "uniform-first, uniform-last, cosine, loglinear, binomial, "
                                       "binomial-cosine, random-sizes, optimal");
                a->use[k] = 1;
            }
        } else if (!strcmp(o, "--steps")) {
            a->steps = v;
        } else if (!strcmp(o, "--csv")) {
            a->csv = v;
        } else if (!strcmp(o, "--plot")) {
            a->plot = v;
        } else if (!strcmp(o, "--chains")) {
            if (dlm_parse_count(v, &a->chains) || a->chains < 2 || a->chains > UINT64_C(1) << 40)
                return dlm_cli_bad("kl", o, v, "a count 2 .. 2^40, e.g. 1e4");
        } else if (!strcmp(o, "--seed")) {
            if (dlm_parse_count(v, &a->seed)) return dlm_cli_bad("kl", o, v, "an integer 0 .. 2^64-1");
        } else if (!strcmp(o, "--threads")) {
            if (dlm_cli_parse_threads(v, &a->threads)) return dlm_cli_bad("kl", o, v, THREADS_ALLOWED);
        } else if (!strcmp(o, "--max-work")) {
            char *end;
            a->max_work = strtod(v, &end);
            if (end == v || *end || !(a->max_work > 0)) return dlm_cli_bad("kl", o, v, "a number > 0, e.g. 4e9");
        } else if (!strcmp(o, "--json")) {
            a->json = 1;
            continue;
        } else if (!strcmp(o, "--estimate")) {
            a->estimate = 1;
            continue;
        } else if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            fputs(kl_usage, stdout);
            exit(0);
        } else if (o[0] == '-' && o[1] == '-') {
            return dlm_cli_usage("kl", "unknown option %s", o);
        } else if (!a->target) {
            a->target = o;
            continue;
        } else {
            return dlm_cli_usage("kl", "unexpected argument %s (one TARGET only)", o);
        }
        i++;
    }
    if (!a->target) return dlm_cli_usage("kl", "missing TARGET");
    return 0;
}

/* Parses the step list into a sorted, duplicate-free list of T in 1..L (*n entries,
 * malloc'd). Returns 0, or -1 for bad syntax or a T outside 1..L. */
static int parse_steps(const char *spec, uint32_t L, uint32_t **out, uint32_t *n)
{
    uint8_t *on = calloc((size_t)L + 1, 1);
    if (!on) return -1;
    if (!spec) {
        if (L <= 32) spec = "all";
        else {
            for (uint32_t t = 1; t <= L; t *= 2) on[t] = 1;
            on[L] = 1;
        }
    }
    if (spec && !strcmp(spec, "all")) {
        for (uint32_t t = 1; t <= L; t++) on[t] = 1;
    } else if (spec) {
        const char *p = spec;
        while (*p) {
            char *end;
            if (*p < '0' || *p > '9') goto bad;
            unsigned long a = strtoul(p, &end, 10), b = a;
            p = end;
            if (*p == '-') {
                p++;
                if (*p < '0' || *p > '9') goto bad;
                b = strtoul(p, &end, 10);
                p = end;
            }
            if (a < 1 || b < a || b > L) goto bad;
            for (unsigned long t = a; t <= b; t++) on[t] = 1;
            if (*p == ',') p++;
            else if (*p) goto bad;
        }
    }
    *n = 0;
    for (uint32_t t = 1; t <= L; t++) *n += on[t];
    *out = malloc((size_t)(*n ? *n : 1) * sizeof(uint32_t));
    if (!*out) goto bad;
    *n = 0;
    for (uint32_t t = 1; t <= L; t++)
        if (on[t]) (*out)[(*n)++] = t;
    free(on);
    return 0;
bad:
    free(on);
    return -1;
}

/* Builds schedule `k` with T rounds for L tokens into sc (sizes or probabilities in
 * the caller's buffers, T entries each). Optimal needs g. */
static void build_sched(int k, uint32_t L, uint32_t T, const double *g, uint32_t *sz, double *r,
                        dlm_kl_sched *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->T = T;
    sc->kind = DLM_KL_SIZES;
    sc->s = sz;
    uint32_t n = L;
    switch (k) {
    case S_UFIRST:
    case S_ULAST:
        for (uint32_t i = 0; i < T; i++) sz[i] = dlm_sched_fixed(L, T, i, k == S_UFIRST);
        break;
    case S_COSINE:
    case S_LOGLIN:
        for (uint32_t i = 0; i < T; i++) {
            sz[i] = dlm_sched_grid(k == S_COSINE ? DLM_GRID_COSINE : DLM_GRID_LINEAR, n, T, i,
                                   DLM_GRID_EPS_DEFAULT);
            n -= sz[i];
        }
        break;
    case S_BINOM:
    case S_BINOMCOS:
        sc->kind = DLM_KL_BINOMIAL;
        sc->s = NULL;
        sc->r = r;
        for (uint32_t i = 0; i < T; i++)
            r[i] = dlm_grid_reveal_p(k == S_BINOM ? DLM_GRID_LINEAR : DLM_GRID_COSINE, T, i, DLM_GRID_EPS_DEFAULT);
        break;
    case S_RANDSIZE:
        sc->kind = DLM_KL_RANDSIZE;
        sc->s = NULL;
        break;
    default: /* S_OPTIMAL */
        dlm_kl_optimal(g, L, T, sz);
        break;
    }
}

// ---------------------------------------------------------------- output

static void sizes_str(const kl_row *w, char *buf, size_t cap, int full)
{
    if (!w->sizes) {
        snprintf(buf, cap, "%s", w->sched == S_RANDSIZE ? "random (dyadic)" : "random (Binomial)");
        return;
    }
    size_t n = 0;
    buf[0] = 0;
    for (uint32_t t = 0; t < w->T && n + 16 < cap; t++) {
        /* compress runs: 2x5 */
        uint32_t run = 1;
        while (t + run < w->T && w->sizes[t + run] == w->sizes[t]) run++;
        if (!full && n > 40) {
            n += (size_t)snprintf(buf + n, cap - n, " ...");
            break;
        }
        if (run > 1) n += (size_t)snprintf(buf + n, cap - n, "%s%ux%u", t ? " " : "", w->sizes[t], run);
        else n += (size_t)snprintf(buf + n, cap - n, "%s%u", t ? " " : "", w->sizes[t]);
        t += run - 1;
    }
}

static void fmt(char *b, size_t cap, double x)
{
    if (isnan(x)) snprintf(b, cap, "-");
    else if (isinf(x)) snprintf(b, cap, "inf");
    else snprintf(b, cap, "%.4f", x);
}

static void print_table(const dlm_law *law, const dlm_kl_dep *d, int have_dep, int exact,
                        const kl_args *a, const kl_row *rows, size_t nr)
{
    printf("target %s: %s\n", a->target, law->desc);
    printf("L = %u, V = %u; %s\n", law->v.L, law->v.V,
           exact ? "exact E_M KL(p || q_M) from g(0..L)"
                 : "path-KL estimates of E_M KL(p || q_M), mean +- 1.96 se");
    if (have_dep)
        printf("H = %.4f  sum I = %.4f  TC = %.4f  DTC = %.4f  (nats)\n", d->H, d->sumI, d->TC, d->DTC);
    if (!exact) printf("chains %llu, seed %llu\n", (unsigned long long)a->chains, (unsigned long long)a->seed);
    printf("%-15s %5s  %-24s %6s  %-19s %8s %8s %8s %8s", "schedule", "T", "sizes", "s_max",
           exact ? "E_M KL" : "E_M KL (95% CI)", "Li-Cai", "(s-1)/L", "TC/T", "DTC/T");
    int qb = 0;
    for (size_t i = 0; i < nr; i++) qb |= !isnan(rows[i].kl_qbar) || !isnan(rows[i].rkl_qbar);
    if (qb) printf(" %8s %8s %8s", "KL(p|qb)", "KL(qb|p)", "TV");
    printf("\n");
    for (size_t i = 0; i < nr; i++) {
        const kl_row *w = &rows[i];
        char sz[64], klb[64], b1[16], b2[16], b3[16], b4[16], b5[16];
        sizes_str(w, sz, sizeof sz, 0);
        if (strlen(sz) > 24) strcpy(sz + 20, " ...");
        double kl = fabs(w->kl) < 5e-13 ? 0.0 : w->kl; /* no "-0.0000" from rounding */
        if (exact) snprintf(klb, sizeof klb, "%.4f", kl);
        else snprintf(klb, sizeof klb, "%.4f+-%.4f", kl, 1.959963984540054 * w->se);
        if (isnan(w->smax)) snprintf(b5, sizeof b5, "-");
        else snprintf(b5, sizeof b5, "%.2f", w->smax);
        fmt(b1, sizeof b1, w->li_cai);
        fmt(b2, sizeof b2, w->smax_bound);
        fmt(b3, sizeof b3, w->tc_T);
        fmt(b4, sizeof b4, w->dtc_T);
        printf("%-15s %5u  %-24s %6s  %-19s %8s %8s %8s %8s", sched_names[w->sched], w->T, sz, b5, klb,
               b1, b2, b3, b4);
        if (qb) {
            fmt(b1, sizeof b1, dlm_cli_kl_shown(w->kl_qbar));
            fmt(b2, sizeof b2, dlm_cli_kl_shown(w->rkl_qbar));
            fmt(b3, sizeof b3, w->tv_qbar);
            printf(" %8s %8s %8s", b1, b2, b3);
        }
        printf("\n");
    }
}

static void csv_num(FILE *f, double x)
{
    if (isnan(x)) fputs(",", f);
    else if (isinf(x)) fputs(",inf", f);
    else fprintf(f, ",%.10g", x);
}

static int write_csv(const char *path, const kl_row *rows, size_t nr)
{
    dlm_err e;
    FILE *f = dlm_out_open(path, 0, &e);
    if (!f) return -1;
    fputs("schedule,T,sizes,smax,kl,se,lo,hi,li_cai,smax_bound,tc_T,dtc_T,kl_qbar,rkl_qbar,tv_qbar\n", f);
    for (size_t i = 0; i < nr; i++) {
        const kl_row *w = &rows[i];
        char sz[65536];
        if (w->sizes) {
            size_t n = 0;
            for (uint32_t t = 0; t < w->T && n + 12 < sizeof sz; t++)
                n += (size_t)snprintf(sz + n, sizeof sz - n, "%s%u", t ? " " : "", w->sizes[t]);
        } else {
            snprintf(sz, sizeof sz, "random");
        }
        fprintf(f, "%s,%u,%s", sched_names[w->sched], w->T, sz);
        csv_num(f, w->smax);
        csv_num(f, dlm_cli_kl_shown(w->kl));
        csv_num(f, w->se);
        csv_num(f, dlm_cli_kl_shown(w->lo));
        csv_num(f, dlm_cli_kl_shown(w->hi));
        csv_num(f, w->li_cai);
        csv_num(f, w->smax_bound);
        csv_num(f, w->tc_T);
        csv_num(f, w->dtc_T);
        csv_num(f, dlm_cli_kl_shown(w->kl_qbar));
        csv_num(f, dlm_cli_kl_shown(w->rkl_qbar));
        csv_num(f, w->tv_qbar);
        fputc('\n', f);
    }
    return dlm_out_close(f) ? -1 : 0;
}

static void write_json(const dlm_law *law, const dlm_kl_dep *d, int have_dep, int exact, const double *g,
                       const kl_args *a, const kl_row *rows, size_t nr)
{
    FILE *f = stdout;
    fputs("{\"target\": ", f);
    dlm_json_str(f, a->target);
    fputs(", \"desc\": ", f);
    dlm_json_str(f, law->desc);
    fprintf(f, ", \"L\": %u, \"V\": %u, \"method\": \"%s\", \"units\": \"nats\"", law->v.L, law->v.V,
            exact ? "exact" : "path-kl");
    fputs(", \"direction\": \"kl = E_M KL(p || q_M); kl_qbar = KL(p || q_bar); rkl_qbar = KL(q_bar || p)\"", f);
    const char *kn[4] = {"H", "sumI", "TC", "DTC"};
    double kv[4] = {d->H, d->sumI, d->TC, d->DTC};
    for (int k = 0; k < 4; k++) {
        fprintf(f, ", \"%s\": ", kn[k]);
        dlm_json_num(f, have_dep ? kv[k] : NAN);
    }
    if (exact) {
        fputs(", \"g\": [", f);
        for (uint32_t k = 0; k <= law->v.L; k++) {
            if (k) fputs(", ", f);
            dlm_json_num(f, g[k]);
        }
        fputs("]", f);
    } else {
        fprintf(f, ", \"chains\": %llu, \"seed\": %llu", (unsigned long long)a->chains,
                (unsigned long long)a->seed);
    }
    fputs(", \"rows\": [", f);
    for (size_t i = 0; i < nr; i++) {
        const kl_row *w = &rows[i];
        fprintf(f, "%s\n  {\"schedule\": \"%s\", \"T\": %u, \"sizes\": ", i ? "," : "", sched_names[w->sched], w->T);
        if (w->sizes) {
            fputc('[', f);
            for (uint32_t t = 0; t < w->T; t++) fprintf(f, "%s%u", t ? ", " : "", w->sizes[t]);
            fputc(']', f);
        } else {
            fputs("null", f);
        }
        const char *nm[] = {"smax", "kl", "se", "lo", "hi", "li_cai", "smax_bound", "tc_T", "dtc_T",
                            "kl_qbar", "rkl_qbar", "tv_qbar"};
        double v[] = {w->smax, dlm_cli_kl_shown(w->kl), w->se, dlm_cli_kl_shown(w->lo), dlm_cli_kl_shown(w->hi), w->li_cai, w->smax_bound, w->tc_T,
                      w->dtc_T, dlm_cli_kl_shown(w->kl_qbar), dlm_cli_kl_shown(w->rkl_qbar), w->tv_qbar};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
            fprintf(f, ", \"%s\": ", nm[k]);
            dlm_json_num(f, v[k]);
        }
        fputc('}', f);
    }
    fputs("\n]}\n", f);
}

/* KL against T per schedule, with the overlays computed for the uniform schedule's
 * s_max = ceil(L/T): Li-Cai, (s_max-1)/L sum I, TC/T, DTC/T. Runs gnuplot, which
 * writes a temporary file beside the resolved target (renamed over it when gnuplot
 * made a PNG), or stdout for "-" only: the PNG never reaches stdout otherwise. */
static int write_plot(const char *png, const dlm_law *law, const dlm_kl_dep *d, int have_dep, int exact,
                      const kl_args *a, const kl_row *rows, size_t nr, const uint32_t *steps, uint32_t ns)
{
    int to_stdout = !strcmp(png, "-");
    char target[4096], tmp[4200] = "";
    dlm_err e;
    if (!to_stdout) {
        if (dlm_out_check(png, target, sizeof target, &e)) return -1;
        snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", target);
        int fd = mkstemp(tmp);
        if (fd < 0) return -1;
        close(fd);
    }
    fflush(stdout);
    FILE *gp = popen(to_stdout ? "gnuplot 2>/dev/null" : "gnuplot >/dev/null 2>&1", "w");
    if (!gp) {
        if (tmp[0]) unlink(tmp);
        return -1;
    }
    uint32_t L = law->v.L;
    fputs("set terminal pngcairo size 900,600 font ',10'\n", gp);
    if (!to_stdout) fprintf(gp, "set output '%s'\n", tmp);
    fprintf(gp, "set title \"%s (%s)\\nE_M KL(p || q_M) against rounds T%s\" noenhanced\n", a->target, law->desc,
            exact ? ", exact" : ", path-KL 95% CI");
    fputs("set xlabel 'rounds T'\nset ylabel 'nats'\nset key outside right\nset grid\n", gp);
    if (steps[ns - 1] > 64) fputs("set logscale x 2\n", gp);
    fprintf(gp, "set xrange [%u:%u]\nset key noenhanced\n", steps[0], steps[ns - 1] > steps[0] ? steps[ns - 1] : steps[0] + 1);
    fputs("set logscale y\nset format y '%g'\n", gp);
    /* data blocks: one per schedule in use, then the overlays */
    int used[S_COUNT] = {0};
    for (size_t i = 0; i < nr; i++) used[rows[i].sched] = 1;
    for (int k = 0; k < S_COUNT; k++) {
        if (!used[k]) continue;
        fprintf(gp, "$s%d << EOD\n", k);
        for (size_t i = 0; i < nr; i++)
            if (rows[i].sched == k && rows[i].kl > 0)
                fprintf(gp, "%u %.10g %.10g %.10g\n", rows[i].T, rows[i].kl, rows[i].lo > 0 ? rows[i].lo : rows[i].kl * 1e-3,
                        rows[i].hi);
        fputs("EOD\n", gp);
    }
    if (have_dep) {
        fputs("$ov << EOD\n", gp);
        for (uint32_t j = 0; j < ns; j++) {
            uint32_t T = steps[j], smax = (L + T - 1) / T;
            dlm_kl_bounds b;
            dlm_kl_bounds_of(d, L, smax, T, &b);
            fprintf(gp, "%u %.10g %.10g %.10g %.10g\n", T, b.li_cai > 0 ? b.li_cai : NAN, b.smax > 0 ? b.smax : NAN,
                    b.tc_T, b.dtc_T);
        }
        fputs("EOD\n", gp);
    }
    fputs("plot ", gp);
    int first = 1;
    for (int k = 0; k < S_COUNT; k++) {
        if (!used[k]) continue;
        fprintf(gp, "%s$s%d using 1:2 with linespoints lw 2 title '%s'", first ? "" : ", ", k, sched_names[k]);
        if (!exact) fprintf(gp, ", $s%d using 1:2:3:4 with yerrorbars notitle lc 'black' pt 0", k);
        first = 0;
    }
    if (have_dep)
        fputs(", $ov using 1:2 with lines dt 2 lw 1.5 lc 'red' title 'Li-Cai bound (s_max = ceil(L/T))'"
              ", $ov using 1:3 with lines dt 3 lw 1.5 lc 'dark-red' title '(s_max-1)/L sum I'"
              ", $ov using 1:4 with lines dt 4 lw 1.5 lc 'blue' title 'TC/T'"
              ", $ov using 1:5 with lines dt 5 lw 1.5 lc 'dark-green' title 'DTC/T'", gp);
    fputs("\n", gp);
    int rc = pclose(gp);
    if (to_stdout) return rc == 0 ? 0 : -1;
    struct stat sb;
    if (rc != 0 || stat(tmp, &sb) || sb.st_size == 0 || chmod(tmp, 0644) || rename(tmp, target)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

// ---------------------------------------------------------------- the command

int dlm_cli_kl(int argc, char **argv)
{
    kl_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc;
    dlm_err e;
    /* the output paths are checked before any work (dlm_out_check); the plot path goes
     * into gnuplot's quotes, so a quote in it is refused */
    char resolved[4096];
    const char *outs[2] = {a.csv, a.plot};
    for (int i = 0; i < 2; i++) {
        if (!outs[i] || !strcmp(outs[i], "-")) continue;
        if (dlm_out_check(outs[i], resolved, sizeof resolved, &e)) {
            fprintf(stderr, "dlmsim: kl: %s\n", e.msg);
            return 2;
        }
        if (i == 1 && (strchr(resolved, '\'') || strchr(resolved, '\n'))) {
            fprintf(stderr, "dlmsim: kl: %s: a quote or newline in the plot path is not supported\n", outs[i]);
            return 2;
        }
    }
    dlm_law law;
    memset(&law, 0, sizeof law);
    dlm_status st = dlm_law_load(a.target, &law, &e);
    if (st) {
        fprintf(stderr, "dlmsim: kl: %s\n", e.msg);
        return dlm_exit_code(st);
    }
    uint32_t L = law.v.L, V = law.v.V;
    uint32_t *steps = NULL, ns = 0;
    if (parse_steps(a.steps, L, &steps, &ns) || ns == 0) {
        dlm_law_free(&law);
        char lim[64];
        snprintf(lim, sizeof lim, "a list of T in 1..%u, e.g. 1,2,5 or 1-%u or all", L, L);
        return dlm_cli_bad("kl", "--steps", a.steps ? a.steps : "", lim);
    }
    /* exact when a table exists and g is affordable */
    double *p = NULL, *g = NULL;
    int exact = 0;
    double cells = pow((double)V, (double)L), work = pow((double)V + 1, (double)L);
    if (!a.estimate && cells <= (double)DLM_LAW_TABLE_MAX && work <= a.max_work) exact = 1;
    dlm_kl_dep dep;
    memset(&dep, 0, sizeof dep);
    int have_dep = 0;
    kl_row *rows = NULL;
    size_t nr = 0;
    uint32_t *szbuf = NULL;
    double *rbuf = NULL;
    if (exact) {
        if (law.v.kind == DLM_LAW_TABLE) {
            p = law.p;
        } else if ((st = dlm_law_table(&law, &p, &e))) {
            goto out;
        }
        g = dlm_malloc((size_t)L + 1, sizeof(double));
        if (!g) {
            st = dlm_fail(&e, DLM_ENOMEM, "kl: out of memory");
            goto out;
        }
        if ((st = dlm_kl_g(p, L, V, a.threads, a.max_work, g, &e))) goto out;
        dlm_kl_dep_from_g(g, L, &dep);
        have_dep = 1;
    } else {
        if (a.use[S_OPTIMAL]) {
            fprintf(stderr, "dlmsim: kl: note: the optimal schedule needs g (an exact law); skipped\n");
            a.use[S_OPTIMAL] = 0;
        }
        if (!dlm_kl_dep_markov(&law, &dep, &e)) have_dep = 1;
        if (law.v.kind == DLM_LAW_TABLE && !law.v.marg) dlm_law_build_marginals(&law, UINT64_C(1) << 28, &e);
    }
    size_t nsched = 0;
    for (int k = 0; k < S_COUNT; k++) nsched += (size_t)a.use[k];
    rows = dlm_calloc(nsched * ns + 1, sizeof(kl_row));
    szbuf = dlm_malloc((size_t)L + 1, sizeof(uint32_t));
    rbuf = dlm_malloc((size_t)L + 1, sizeof(double));
    if (!rows || !szbuf || !rbuf) {
        st = dlm_fail(&e, DLM_ENOMEM, "kl: out of memory");
        goto out;
    }
    double *qbar = NULL;
    int enum_ok = exact && L <= 12 && cells <= 1048576; /* and the work limit below */
    if (enum_ok && !(qbar = dlm_malloc((size_t)cells, sizeof(double)))) enum_ok = 0;
    for (int k = 0; k < S_COUNT; k++) {
        if (!a.use[k]) continue;
        for (uint32_t j = 0; j < ns; j++) {
            uint32_t T = steps[j];
            kl_row *w = &rows[nr++];
            dlm_kl_sched sc;
            build_sched(k, L, T, g, szbuf, rbuf, &sc);
            w->sched = k;
            w->T = T;
            w->li_cai = w->smax_bound = w->tc_T = w->dtc_T = NAN;
            w->kl_qbar = w->rkl_qbar = w->tv_qbar = NAN;
            if (sc.kind == DLM_KL_SIZES) {
                w->sizes = dlm_malloc(T, sizeof(uint32_t));
                if (!w->sizes) {
                    st = dlm_fail(&e, DLM_ENOMEM, "kl: out of memory");
                    free(qbar);
                    goto out;
                }
                memcpy(w->sizes, szbuf, T * sizeof(uint32_t));
                sc.s = w->sizes;
            }
            w->smax = dlm_kl_expected_smax(L, &sc);
            if (exact) {
                w->kl = w->lo = w->hi = dlm_kl_expected(g, L, &sc);
                w->se = 0;
            } else {
                dlm_kl_est est;
                if ((st = dlm_kl_path(&law, &sc, a.chains, a.seed, a.threads, 1, &est, &e))) {
                    free(qbar);
                    goto out;
                }
                w->kl = est.mean;
                w->se = est.se;
                w->lo = est.lo;
                w->hi = est.hi;
            }
            if (have_dep) {
                dlm_kl_bounds b;
                dlm_kl_bounds_of(&dep, L, sc.kind == DLM_KL_SIZES ? (uint32_t)w->smax : 1, T, &b);
                w->tc_T = b.tc_T;
                w->dtc_T = b.dtc_T;
                if (sc.kind == DLM_KL_SIZES) {
                    w->li_cai = b.li_cai;
                    w->smax_bound = b.smax;
                }
            }
            if (enum_ok && sc.kind == DLM_KL_SIZES) {
                dlm_err e2;
                if (!dlm_kl_enum_sizes(p, L, V, w->sizes, T, 2e8, NULL, qbar, &e2)) {
                    w->kl_qbar = dlm_kl_div(p, qbar, (uint64_t)cells);
                    w->rkl_qbar = dlm_kl_div(qbar, p, (uint64_t)cells);
                    w->tv_qbar = dlm_kl_tv(p, qbar, (uint64_t)cells);
                }
            }
        }
    }
    free(qbar);
    if (a.json) write_json(&law, &dep, have_dep, exact, g, &a, rows, nr);
    else print_table(&law, &dep, have_dep, exact, &a, rows, nr);
    if (a.csv && write_csv(a.csv, rows, nr)) {
        st = dlm_fail(&e, DLM_EIO, "%s: cannot write the CSV file", a.csv);
        goto out;
    }
    if (a.plot && write_plot(a.plot, &law, &dep, have_dep, exact, &a, rows, nr, steps, ns)) {
        st = dlm_fail(&e, DLM_EIO, "%s: gnuplot could not write the plot", a.plot);
        goto out;
    }
out:
    if (rows)
        for (size_t i = 0; i < nr; i++) free(rows[i].sizes);
    free(rows);
    free(szbuf);
    free(rbuf);
    free(g);
    if (p && p != law.p) free(p);
    free(steps);
    dlm_law_free(&law);
    if (st) {
        fprintf(stderr, "dlmsim: kl: %s\n", e.msg);
        return dlm_exit_code(st);
    }
    return 0;
}
