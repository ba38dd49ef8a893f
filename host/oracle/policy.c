/* policy.c — decoding policy parameters: defaults, presets, options, checks
 * (dlm_policy.h; the rules themselves are in dlm_sampler_step.h). */
#include "dlm_policy.h"
#include "dlm_schedule.h"
#include "dlm_util.h"

#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const unmask_names[] = {"random", "low_confidence", "maskgit_plus", "topk_margin",
                                           "entropy"};
static const char *const count_names[] = {"fixed", "grid", "binomial", "threshold", "factor", "eb",
                                          "entsum", "randsize"};
static const char *const remask_names[] = {"none", "remdm-cap", "remdm-rescale", "remdm-conf",
                                           "remdm-loop"};
static const char *const revise_names[] = {"none", "edit", "last"};

#define NAME_OF(tab, r) ((r) >= 0 && (size_t)(r) < sizeof tab / sizeof *tab ? tab[r] : "?")
const char *dlm_unmask_name(int r) { return NAME_OF(unmask_names, r); }
const char *dlm_count_name(int r) { return NAME_OF(count_names, r); }
const char *dlm_remask_name(int r) { return NAME_OF(remask_names, r); }
const char *dlm_revise_name(int r) { return NAME_OF(revise_names, r); }

static int find_name(const char *const *tab, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(tab[i], s)) return (int)i;
    return -1;
}

void dlm_policy_default(dlm_policy *p)
{
    memset(p, 0, sizeof *p);
    p->unmask = DLM_UNMASK_LOW_CONFIDENCE;
    p->count = DLM_COUNT_FIXED;
    p->remask = DLM_REMASK_NONE;
    p->revise = DLM_REVISE_NONE;
    p->remainder_first = 1;
    p->grid = DLM_GRID_LINEAR;
    p->eps = DLM_GRID_EPS_DEFAULT;
    p->temperature = 1.0;
    p->top_p = 1.0;
    p->threshold = -1; /* resolved by the count rule: 0.9 (threshold), 1.0 nats (entsum) */
    p->factor = 1.0;
    p->gamma = 0.01;
    p->eta = -1;       /* resolved by the remask rule */
    p->t_on = 0.55;
    p->t_off = 0.05;
    p->alpha_on = 0.9;
    p->editing_threshold = 0.9;
    p->max_post_steps = 16;
}

typedef struct {
    const char *name;
    int unmask, count, remask, revise;
    double alg_temp;
} preset;

static const preset presets[] = {
    {"llada", DLM_UNMASK_LOW_CONFIDENCE, DLM_COUNT_FIXED, 0, 0, 0},
    {"llada-random", DLM_UNMASK_RANDOM, DLM_COUNT_FIXED, 0, 0, 0},
    {"mdlm", DLM_UNMASK_RANDOM, DLM_COUNT_BINOMIAL, 0, 0, 0},
    {"dream-origin", DLM_UNMASK_RANDOM, DLM_COUNT_BINOMIAL, 0, 0, 0},
    {"maskgit-plus", DLM_UNMASK_MASKGIT_PLUS, DLM_COUNT_GRID, 0, 0, 0},
    {"topk-margin", DLM_UNMASK_TOPK_MARGIN, DLM_COUNT_GRID, 0, 0, 0},
    {"entropy", DLM_UNMASK_ENTROPY, DLM_COUNT_GRID, 0, 0, 0},
    {"li-cai", DLM_UNMASK_ENTROPY, DLM_COUNT_FIXED, 0, 0, 0},
    {"fast-dllm", DLM_UNMASK_LOW_CONFIDENCE, DLM_COUNT_THRESHOLD, 0, 0, 0},
    {"factor", DLM_UNMASK_LOW_CONFIDENCE, DLM_COUNT_FACTOR, 0, 0, 0},
    {"eb", DLM_UNMASK_ENTROPY, DLM_COUNT_EB, 0, 0, 0},
    {"entsum", DLM_UNMASK_ENTROPY, DLM_COUNT_ENTSUM, 0, 0, 0},
    {"remdm-cap", DLM_UNMASK_RANDOM, DLM_COUNT_BINOMIAL, DLM_REMASK_CAP, 0, 0},
    {"remdm-rescale", DLM_UNMASK_RANDOM, DLM_COUNT_BINOMIAL, DLM_REMASK_RESCALE, 0, 0},
    {"remdm-conf", DLM_UNMASK_RANDOM, DLM_COUNT_BINOMIAL, DLM_REMASK_CONF, 0, 0},
    {"remdm-loop", DLM_UNMASK_RANDOM, DLM_COUNT_BINOMIAL, DLM_REMASK_LOOP, 0, 0},
    {"llada21-edit", DLM_UNMASK_LOW_CONFIDENCE, DLM_COUNT_THRESHOLD, 0, DLM_REVISE_EDIT, 0},
    {"parity-revise", DLM_UNMASK_RANDOM, DLM_COUNT_FIXED, 0, DLM_REVISE_LAST, 0},
    {"zhao-cai", DLM_UNMASK_RANDOM, DLM_COUNT_RANDSIZE, 0, 0, 0},
};

dlm_status dlm_policy_preset(dlm_policy *p, const char *name, dlm_err *err)
{
    for (size_t i = 0; i < sizeof presets / sizeof *presets; i++) {
        const preset *q = &presets[i];
        if (strcmp(q->name, name)) continue;
        p->unmask = q->unmask;
        p->count = q->count;
        p->remask = q->remask;
        p->revise = q->revise;
        p->alg_temp = q->alg_temp;
        if (q->revise == DLM_REVISE_LAST) p->steps = 1; /* the paper: reveal all, then revise */
        if (q->revise == DLM_REVISE_EDIT) p->threshold = 0.95; /* LLaDA 2.1 threshold */
        return DLM_OK;
    }
    return dlm_fail(err, DLM_EINPUT, "unknown policy '%s' (llada, llada-random, mdlm, dream-origin, "
                    "maskgit-plus, topk-margin, entropy, li-cai, fast-dllm, factor, eb, entsum, "
                    "remdm-cap, remdm-rescale, remdm-conf, remdm-loop, llada21-edit, parity-revise, zhao-cai)", name);
}

static int parse_double(const char *s, double *x)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v)) return -1;
    *x = v;
    return 0;
}

static int parse_u32(const char *s, uint32_t *x)
{
    char *end;
    if (*s < '0' || *s > '9') return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || errno || v > UINT32_MAX) return -1;
    *x = (uint32_t)v;
    return 0;
}

int dlm_policy_option(dlm_policy *p, const char *name, const char *val, dlm_status *st, dlm_err *err)
{
    static const struct { const char *name; size_t off; } dbl[] = {
        {"--eps", offsetof(dlm_policy, eps)},
        {"--temperature", offsetof(dlm_policy, temperature)},
        {"--top-p", offsetof(dlm_policy, top_p)},
        {"--alg-temp", offsetof(dlm_policy, alg_temp)},
        {"--threshold", offsetof(dlm_policy, threshold)},
        {"--factor", offsetof(dlm_policy, factor)},
        {"--gamma", offsetof(dlm_policy, gamma)},
        {"--eta", offsetof(dlm_policy, eta)},
        {"--t-on", offsetof(dlm_policy, t_on)},
        {"--t-off", offsetof(dlm_policy, t_off)},
        {"--alpha-on", offsetof(dlm_policy, alpha_on)},
        {"--editing-threshold", offsetof(dlm_policy, editing_threshold)},
    };
    static const struct { const char *name; size_t off; } u32[] = {
        {"--steps", offsetof(dlm_policy, steps)},
        {"--block-length", offsetof(dlm_policy, block_length)},
        {"--top-k", offsetof(dlm_policy, top_k)},
        {"--max-post-steps", offsetof(dlm_policy, max_post_steps)},
    };
    *st = DLM_OK;
    for (size_t i = 0; i < sizeof dbl / sizeof *dbl; i++) {
        if (strcmp(name, dbl[i].name)) continue;
        if (parse_double(val, (double *)((char *)p + dbl[i].off)))
            *st = dlm_fail(err, DLM_EINPUT, "bad %s %s (a number)", name, val);
        return 1;
    }
    for (size_t i = 0; i < sizeof u32 / sizeof *u32; i++) {
        if (strcmp(name, u32[i].name)) continue;
        uint32_t *x = (uint32_t *)((char *)p + u32[i].off);
        /* 0 would mean nothing here (no steps, empty blocks, no tokens kept): refused;
         * the defaults come from leaving the option out */
        int positive = i < 3;
        if (parse_u32(val, x) || (positive && *x == 0))
            *st = dlm_fail(err, DLM_EINPUT, "bad %s %s (%s)", name, val,
                           positive ? "a positive integer; leave the option out for the default"
                                    : "an integer 0 .. 2^32-1");
        return 1;
    }
    struct { const char *name; const char *const *tab; size_t n; int *dst; } en[] = {
        {"--unmask", unmask_names, sizeof unmask_names / sizeof *unmask_names, &p->unmask},
        {"--count", count_names, sizeof count_names / sizeof *count_names, &p->count},
        {"--remask", remask_names, sizeof remask_names / sizeof *remask_names, &p->remask},
        {"--revise", revise_names, sizeof revise_names / sizeof *revise_names, &p->revise},
    };
    for (size_t i = 0; i < sizeof en / sizeof *en; i++) {
        if (strcmp(name, en[i].name)) continue;
        int r = find_name(en[i].tab, en[i].n, val);
        if (r < 0) {
            char list[256] = "";
            size_t n = 0;
            for (size_t j = 0; j < en[i].n && n < sizeof list; j++)
                n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", j ? ", " : "", en[i].tab[j]);
            *st = dlm_fail(err, DLM_EINPUT, "bad %s %s (one of %s)", name, val, list);
        }
        else *en[i].dst = r;
        return 1;
    }
    if (!strcmp(name, "--remainder")) {
        if (!strcmp(val, "first")) p->remainder_first = 1;
        else if (!strcmp(val, "last")) p->remainder_first = 0;
        else *st = dlm_fail(err, DLM_EINPUT, "bad --remainder %s (first or last)", val);
        return 1;
    }
    if (!strcmp(name, "--grid")) {
        if (!strcmp(val, "linear")) p->grid = DLM_GRID_LINEAR;
        else if (!strcmp(val, "cosine")) p->grid = DLM_GRID_COSINE;
        else *st = dlm_fail(err, DLM_EINPUT, "bad --grid %s (linear or cosine)", val);
        return 1;
    }
    if (!strcmp(name, "--policy")) {
        *st = dlm_policy_preset(p, val, err);
        return 1;
    }
    return 0;
}

dlm_status dlm_policy_check(dlm_policy *p, uint32_t L, dlm_err *err)
{
    if (L == 0) return dlm_fail(err, DLM_EINPUT, "policy: the sequence is empty");
    if (p->steps == 0) p->steps = L;
    if (p->block_length == 0) p->block_length = L;
    if (p->threshold < 0) p->threshold = p->count == DLM_COUNT_ENTSUM ? 1.0 : 0.9;
    if (p->eta < 0) {
        switch (p->remask) {
        case DLM_REMASK_CAP: p->eta = 0.008; break;
        case DLM_REMASK_RESCALE: p->eta = 0.015; break;
        case DLM_REMASK_LOOP: p->eta = 0.02; break;
        default: p->eta = 1.0; break;
        }
    }
    if (p->block_length > L || L % p->block_length)
        return dlm_fail(err, DLM_EINPUT, "--block-length %u must divide the sequence length %u",
                        p->block_length, L);
    uint32_t nb = L / p->block_length;
    int stepped = dlm_count_stepped(p->count);
    if (stepped && p->remask == DLM_REMASK_NONE && p->steps % nb)
        return dlm_fail(err, DLM_EINPUT, "--steps %u must be a multiple of the %u blocks (as in LLaDA)",
                        p->steps, nb);
    if (p->steps > 1000000) return dlm_fail(err, DLM_EINPUT, "--steps %u: at most 1000000", p->steps);
    if (p->remask != DLM_REMASK_NONE) {
        if (nb != 1) return dlm_fail(err, DLM_EINPUT, "ReMDM remasking works on one block (no --block-length)");
        if (p->revise != DLM_REVISE_NONE)
            return dlm_fail(err, DLM_EINPUT, "ReMDM remasking cannot be combined with --revise");
        if (!(p->eta >= 0)) return dlm_fail(err, DLM_EINPUT, "--eta must be >= 0");
        if (p->remask == DLM_REMASK_LOOP &&
            !(p->t_off > 0 && p->t_off < p->t_on && p->t_on < 1 && p->alpha_on > 0 && p->alpha_on < 1 &&
              p->eta <= 1))
            return dlm_fail(err, DLM_EINPUT, "remdm-loop needs 0 < t_off < t_on < 1, 0 < alpha_on < 1, eta <= 1");
    }
    if (p->unmask == DLM_UNMASK_RANDOM && !stepped)
        return dlm_fail(err, DLM_EINPUT, "--unmask random has no confidence for the adaptive count rule '%s'",
                        dlm_count_name(p->count));
    if (!(p->temperature >= 0)) return dlm_fail(err, DLM_EINPUT, "--temperature must be >= 0");
    if (!(p->top_p > 0 && p->top_p <= 1)) return dlm_fail(err, DLM_EINPUT, "--top-p must be in (0, 1]");
    if (!(p->alg_temp >= 0)) return dlm_fail(err, DLM_EINPUT, "--alg-temp must be >= 0");
    if (!(p->eps > 0 && p->eps < 1)) return dlm_fail(err, DLM_EINPUT, "--eps must be in (0, 1)");
    if (!(p->factor > 0)) return dlm_fail(err, DLM_EINPUT, "--factor must be > 0");
    if (!(p->gamma >= 0)) return dlm_fail(err, DLM_EINPUT, "--gamma must be >= 0");
    if (!(p->editing_threshold >= 0 && p->editing_threshold <= 1))
        return dlm_fail(err, DLM_EINPUT, "--editing-threshold must be in [0, 1]");
    if (p->revise == DLM_REVISE_EDIT && p->max_post_steps == 0) p->max_post_steps = 1;
    return DLM_OK;
}

uint32_t dlm_policy_max_rounds(const dlm_policy *p, uint32_t L)
{
    if (p->remask != DLM_REMASK_NONE) return p->steps;
    int stepped = dlm_count_stepped(p->count);
    uint32_t r = stepped ? p->steps : L; /* adaptive rules reveal at least one a round */
    if (p->revise == DLM_REVISE_LAST) r += 1;
    if (p->revise == DLM_REVISE_EDIT) r += p->max_post_steps;
    return r;
}

int dlm_policy_inexact(const dlm_policy *p, char *why, size_t why_len)
{
    const char *w = NULL;
    if (p->temperature != 1.0) w = p->temperature == 0 ? "temperature 0 (argmax) replaces the predictor's law"
                                                         : "temperature != 1 tempers the predictor's law";
    else if (p->top_p < 1.0) w = "top-p < 1 truncates and renormalises the predictor's law";
    else if (p->top_k) w = "top-k truncates and renormalises the predictor's law";
    if (w && why) snprintf(why, why_len, "%s: the predictor is no longer exact", w);
    return w != NULL;
}

void dlm_policy_describe(const dlm_policy *p, char *buf, size_t len)
{
    int n = snprintf(buf, len, "unmask=%s count=%s steps=%u block_length=%u temperature=%g",
                     dlm_unmask_name(p->unmask), dlm_count_name(p->count), p->steps, p->block_length,
                     p->temperature);
    size_t k = n > 0 && (size_t)n < len ? (size_t)n : len;
#define ADD(...) do { if (k < len) { int m_ = snprintf(buf + k, len - k, __VA_ARGS__); \
                      k += m_ > 0 ? (size_t)m_ : 0; } } while (0)
    if (p->count == DLM_COUNT_FIXED) ADD(" remainder=%s", p->remainder_first ? "first" : "last");
    if (p->count == DLM_COUNT_GRID || p->count == DLM_COUNT_BINOMIAL)
        ADD(" grid=%s eps=%g", p->grid == DLM_GRID_COSINE ? "cosine" : "linear", p->eps);
    if (p->count == DLM_COUNT_THRESHOLD || p->count == DLM_COUNT_ENTSUM) ADD(" threshold=%g", p->threshold);
    if (p->count == DLM_COUNT_FACTOR) ADD(" factor=%g", p->factor);
    if (p->count == DLM_COUNT_EB) ADD(" gamma=%g", p->gamma);
    if (p->top_p < 1) ADD(" top_p=%g", p->top_p);
    if (p->top_k) ADD(" top_k=%u", p->top_k);
    if (p->alg_temp > 0) ADD(" alg_temp=%g", p->alg_temp);
    if (p->remask != DLM_REMASK_NONE) ADD(" remask=%s eta=%g", dlm_remask_name(p->remask), p->eta);
    if (p->remask == DLM_REMASK_LOOP) ADD(" t_on=%g t_off=%g alpha_on=%g", p->t_on, p->t_off, p->alpha_on);
    if (p->revise == DLM_REVISE_EDIT)
        ADD(" revise=edit editing_threshold=%g max_post_steps=%u", p->editing_threshold, p->max_post_steps);
    if (p->revise == DLM_REVISE_LAST) ADD(" revise=last");
#undef ADD
}

static uint64_t hash_double(uint64_t h, double x)
{
    uint64_t b;
    memcpy(&b, &x, sizeof b);
    return dlm_fnv1a_u64(h, b);
}

uint64_t dlm_policy_hash(const dlm_policy *p)
{
    const uint64_t ints[] = {(uint64_t)p->unmask, (uint64_t)p->count, (uint64_t)p->remask, (uint64_t)p->revise,
                             p->steps, p->block_length, (uint64_t)p->remainder_first, (uint64_t)p->grid,
                             p->top_k, p->max_post_steps};
    const double dbl[] = {p->eps, p->temperature, p->top_p, p->alg_temp, p->threshold, p->factor, p->gamma,
                          p->eta, p->t_on, p->t_off, p->alpha_on, p->editing_threshold};
    uint64_t h = DLM_FNV_OFFSET;
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) h = dlm_fnv1a_u64(h, ints[i]);
    for (size_t i = 0; i < sizeof dbl / sizeof *dbl; i++) h = hash_double(h, dbl[i]);
    return h;
}
