/* kl.c — `dlmsim kl TARGET`: exact KL against the number of rounds for random-order
 * decoding with the exact oracle, with the theory overlays (docs/kl.md).
 *
 *   dlmsim kl TARGET [--schedules LIST] [--steps LIST] [--csv F] [--plot F.png] [--json]
 *                    [--chains N] [--seed S] [--threads N] [--estimate] [--max-work W]
 *
 * TARGET is a law spec (dlm_law.h: bsc:10:0.1, parity:8, circuit:gen:adder-prefix:4,
 * english:1024, ...). Laws with a table ((V+1)^L <= --max-work, default 4e9) get exact
 * curves from g(0..L); others (or --estimate) get path-KL estimates with 95% intervals.
 * Exit codes: 0 success, 1 a computation failed a check, 2 bad input or usage.
 * The library part is host/oracle/kl.c and host/oracle/kl_table.c (the rows); this file
 * parses, prints and plots (gnuplot).
 */
#include "dlm_cli.h"
#include "dlm_kl.h"
#include "dlm_kl_table.h"
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


typedef struct {
    const char *target, *csv, *plot;
    int json, estimate, threads;
    uint64_t chains, seed;
    double max_work;
    int use[DLM_KLS_COUNT];
    const char *steps;
} kl_args;

/* Options (their help is the synopsis above): the parser asks this table which take a
 * value; test/cli_options.sh checks that every option the synopsis shows is here. */
static const dlm_cli_opt kl_opts[] = {
    {"--schedules", 1, NULL}, {"--steps", 1, NULL}, {"--csv", 1, NULL},      {"--plot", 1, NULL},
    {"--chains", 1, NULL},    {"--seed", 1, NULL},  {"--threads", 1, NULL},  {"--max-work", 1, NULL},
    {"--json", 0, NULL},      {"--estimate", 0, NULL}, {NULL, 0, NULL}};

static int parse_args(int argc, char **argv, kl_args *a)
{
    memset(a, 0, sizeof *a);
    a->chains = 10000;
    a->max_work = 4e9;
    for (int k = 0; k < DLM_KLS_COUNT; k++) a->use[k] = 1;
    for (int i = 0; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = dlm_cli_opt_takes(kl_opts, o);
        if (takes && !v) return dlm_cli_usage("kl", "option %s needs a value", o);
        if (!strcmp(o, "--schedules")) {
            for (int k = 0; k < DLM_KLS_COUNT; k++) a->use[k] = 0;
            char buf[512];
            snprintf(buf, sizeof buf, "%s", v);
            for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
                int k = dlm_kl_sched_parse(t);
                if (k < 0)
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

static void sizes_str(const dlm_kl_row *w, char *buf, size_t cap, int full)
{
    if (!w->sizes) {
        snprintf(buf, cap, "%s", w->sched == DLM_KLS_RANDSIZE ? "random (dyadic)" : "random (Binomial)");
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
                        const kl_args *a, const dlm_kl_row *rows, size_t nr)
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
        const dlm_kl_row *w = &rows[i];
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
        printf("%-15s %5u  %-24s %6s  %-19s %8s %8s %8s %8s", dlm_kl_sched_name(w->sched), w->T, sz, b5, klb,
               b1, b2, b3, b4);
        if (qb) {
            fmt(b1, sizeof b1, w->kl_qbar);
            fmt(b2, sizeof b2, w->rkl_qbar);
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

static int write_csv(const char *path, const dlm_kl_row *rows, size_t nr)
{
    dlm_err e;
    dlm_out o;
    if (dlm_out_open(&o, path, 0, &e)) return -1;
    FILE *f = o.f;
    fputs("schedule,T,sizes,smax,kl,se,lo,hi,li_cai,smax_bound,tc_T,dtc_T,kl_qbar,rkl_qbar,tv_qbar\n", f);
    for (size_t i = 0; i < nr; i++) {
        const dlm_kl_row *w = &rows[i];
        char sz[65536];
        if (w->sizes) {
            size_t n = 0;
            for (uint32_t t = 0; t < w->T && n + 12 < sizeof sz; t++)
                n += (size_t)snprintf(sz + n, sizeof sz - n, "%s%u", t ? " " : "", w->sizes[t]);
        } else {
            snprintf(sz, sizeof sz, "random");
        }
        fprintf(f, "%s,%u,%s", dlm_kl_sched_name(w->sched), w->T, sz);
        csv_num(f, w->smax);
        csv_num(f, w->kl);
        csv_num(f, w->se);
        csv_num(f, w->lo);
        csv_num(f, w->hi);
        csv_num(f, w->li_cai);
        csv_num(f, w->smax_bound);
        csv_num(f, w->tc_T);
        csv_num(f, w->dtc_T);
        csv_num(f, w->kl_qbar);
        csv_num(f, w->rkl_qbar);
        csv_num(f, w->tv_qbar);
        fputc('\n', f);
    }
    return dlm_out_close(&o) ? -1 : 0;
}

static void write_json(const dlm_law *law, const dlm_kl_dep *d, int have_dep, int exact, const double *g,
                       const kl_args *a, const dlm_kl_row *rows, size_t nr)
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
        const dlm_kl_row *w = &rows[i];
        fprintf(f, "%s\n  {\"schedule\": \"%s\", \"T\": %u, \"sizes\": ", i ? "," : "", dlm_kl_sched_name(w->sched), w->T);
        if (w->sizes) {
            fputc('[', f);
            for (uint32_t t = 0; t < w->T; t++) fprintf(f, "%s%u", t ? ", " : "", w->sizes[t]);
            fputc(']', f);
        } else {
            fputs("null", f);
        }
        const char *nm[] = {"smax", "kl", "se", "lo", "hi", "li_cai", "smax_bound", "tc_T", "dtc_T",
                            "kl_qbar", "rkl_qbar", "tv_qbar"};
        double v[] = {w->smax, w->kl, w->se, w->lo, w->hi, w->li_cai, w->smax_bound, w->tc_T,
                      w->dtc_T, w->kl_qbar, w->rkl_qbar, w->tv_qbar};
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
                      const kl_args *a, const dlm_kl_row *rows, size_t nr, const uint32_t *steps, uint32_t ns)
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
    int used[DLM_KLS_COUNT] = {0};
    for (size_t i = 0; i < nr; i++) used[rows[i].sched] = 1;
    for (int k = 0; k < DLM_KLS_COUNT; k++) {
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
    for (int k = 0; k < DLM_KLS_COUNT; k++) {
        if (!used[k]) continue;
        fprintf(gp, "%s$s%d using 1:2 with linespoints lw 2 title '%s'", first ? "" : ", ", k, dlm_kl_sched_name(k));
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

int dlm_cli_kl(int argc, char **argv, uint64_t max_bytes)
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
    dlm_status st = dlm_law_load(a.target, &law, max_bytes, &e);
    if (st) {
        fprintf(stderr, "dlmsim: kl: %s\n", e.msg);
        return dlm_exit_code(st);
    }
    uint32_t *steps = NULL, ns = 0;
    dlm_kl_table t;
    memset(&t, 0, sizeof t);
    if ((st = dlm_kl_steps_parse(a.steps, law.v.L, &steps, &ns, &e)) == DLM_EINPUT) {
        uint32_t L = law.v.L;
        dlm_law_free(&law);
        char lim[64];
        snprintf(lim, sizeof lim, "a list of T in 1..%u, e.g. 1,2,5 or 1-%u or all", L, L);
        return dlm_cli_bad("kl", "--steps", a.steps ? a.steps : "", lim);
    }
    if (st) goto out;
    dlm_kl_table_opts to;
    memset(&to, 0, sizeof to);
    memcpy(to.use, a.use, sizeof to.use);
    to.steps = steps;
    to.nsteps = ns;
    to.estimate = a.estimate;
    to.chains = a.chains;
    to.seed = a.seed;
    to.threads = a.threads;
    to.max_work = a.max_work;
    if ((st = dlm_kl_table_run(&law, &to, &t, &e))) goto out;
    if (t.optimal_skipped)
        fprintf(stderr, "dlmsim: kl: note: the optimal schedule needs g (an exact law); skipped\n");
    const dlm_kl_dep *dep = &t.dep;
    int have_dep = t.have_dep, exact = t.exact;
    const double *g = t.g;
    const dlm_kl_row *rows = t.rows;
    size_t nr = t.nrows;
    if (a.json) write_json(&law, dep, have_dep, exact, g, &a, rows, nr);
    else print_table(&law, dep, have_dep, exact, &a, rows, nr);
    if (a.csv && write_csv(a.csv, rows, nr)) {
        st = dlm_fail(&e, DLM_EIO, "%s: cannot write the CSV file", a.csv);
        goto out;
    }
    if (a.plot && write_plot(a.plot, &law, dep, have_dep, exact, &a, rows, nr, steps, ns)) {
        st = dlm_fail(&e, DLM_EIO, "%s: gnuplot could not write the plot", a.plot);
        goto out;
    }
out:
    dlm_kl_table_free(&t);
    free(steps);
    dlm_law_free(&law);
    if (st) {
        fprintf(stderr, "dlmsim: kl: %s\n", e.msg);
        return dlm_exit_code(st);
    }
    return 0;
}
