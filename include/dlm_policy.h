/* dlm_policy.h — the decoding policies of the oracle sampler: which masked positions a
 * round reveals, how many, with which tokens, and what it remasks or revises. The names,
 * parameters and defaults follow the reference code (docs/oracle.md, "Policies"). This
 * header holds the parameters and their parsing; the per-chain round that executes them
 * is dlm_sampler_step.h.
 */
#ifndef DLM_POLICY_H
#define DLM_POLICY_H

#include "dlm_hd.h"
#include "dlmsim.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Which positions (ranking of the masked positions of the current block). */
typedef enum {
    DLM_UNMASK_RANDOM = 0,       /* LLaDA random: uniform random scores */
    DLM_UNMASK_LOW_CONFIDENCE,   /* LLaDA: p(x0) under the untempered predictor */
    DLM_UNMASK_MASKGIT_PLUS,     /* Dream: q(x0) under the tempered, filtered predictor */
    DLM_UNMASK_TOPK_MARGIN,      /* Dream: q top-1 minus q top-2 */
    DLM_UNMASK_ENTROPY,          /* Dream: minus the entropy of q (Li & Cai Remark 1 at
                                    temperature 1: lowest exact conditional entropy first) */
    DLM_UNMASK_COUNT_
} dlm_unmask_rule;

/* How many per round. */
typedef enum {
    DLM_COUNT_FIXED = 0,  /* LLaDA: per block, masked/steps each, remainder first (or last) */
    DLM_COUNT_GRID,       /* Dream maskgit_plus & co: int(masked (1 - s/t)), all at the end */
    DLM_COUNT_BINOMIAL,   /* Dream origin / MDLM: each masked token independently w.p. 1 - s/t */
    DLM_COUNT_THRESHOLD,  /* Fast-dLLM: top-1 plus every position with confidence >= tau */
    DLM_COUNT_FACTOR,     /* Fast-dLLM factor: largest n with n-th confidence >= 1 - f/(n+1) */
    DLM_COUNT_EB,         /* EB-Sampler: largest prefix with sum H - max H <= gamma */
    DLM_COUNT_ENTSUM,     /* Cai & Li: prefix while the cumulative entropy stays <= threshold */
    DLM_COUNT_RANDSIZE,   /* Zhao & Cai (our reading): sizes 2^j, j uniform (dlm_schedule.h) */
    DLM_COUNT_COUNT_
} dlm_count_rule;

/* 1 for the count rules that run a fixed number of rounds per block (the last reveals
 * what is left); 0 for the adaptive ones, which run until the block is full. */
DLM_HD int dlm_count_stepped(int count)
{
    return count == DLM_COUNT_FIXED || count == DLM_COUNT_GRID || count == DLM_COUNT_BINOMIAL ||
           count == DLM_COUNT_RANDSIZE;
}

typedef enum {
    DLM_REMASK_NONE = 0,
    DLM_REMASK_CAP,       /* ReMDM cap: sigma = min(eta, sigma_max) */
    DLM_REMASK_RESCALE,   /* ReMDM rescale: sigma = eta sigma_max */
    DLM_REMASK_CONF,      /* ReMDM conf: sigma_l = softmax(-conf)_l sigma_max */
    DLM_REMASK_LOOP,      /* ReMDM loop: MDLM to alpha_on by t_on, constant alpha with
                             remasking eta until t_off, MDLM to the end */
    DLM_REMASK_COUNT_
} dlm_remask_rule;

typedef enum {
    DLM_REVISE_NONE = 0,
    DLM_REVISE_EDIT,      /* LLaDA 2.1 editing: overwrite a committed token by the argmax of
                             its leave-one-out conditional when that exceeds editing_threshold */
    DLM_REVISE_LAST,      /* the paper's construction: once everything is revealed, one round
                             redraws the last position from its exact conditional */
    DLM_REVISE_COUNT_
} dlm_revise_rule;

typedef struct {
    int unmask;           /* dlm_unmask_rule; default LOW_CONFIDENCE */
    int count;            /* dlm_count_rule; default FIXED */
    int remask;           /* dlm_remask_rule; default NONE */
    int revise;           /* dlm_revise_rule; default NONE */
    uint32_t steps;       /* rounds (FIXED/GRID/BINOMIAL/ReMDM), over all blocks; default L */
    uint32_t block_length;/* semi-autoregressive blocks; 0 = L (one block) */
    int remainder_first;  /* FIXED: 1 (LLaDA) or 0 */
    int grid;             /* dlm_grid for GRID/BINOMIAL; default DLM_GRID_LINEAR */
    double eps;           /* time-grid eps; default 1e-3 (Dream) */
    double temperature;   /* default 1 (exact); 0 = argmax */
    double top_p;         /* 1 = off */
    uint32_t top_k;       /* 0 = off */
    double alg_temp;      /* 0 = deterministic top-k of confidence; > 0 sample positions */
    double threshold;     /* THRESHOLD tau (0.9), ENTSUM threshold (nats, default 1.0) */
    double factor;        /* FACTOR f (1.0) */
    double gamma;         /* EB gamma (0.01 nats) */
    double eta;           /* ReMDM eta (cap 0.008, rescale 0.015, conf 1, loop 0.02) */
    double t_on, t_off, alpha_on; /* ReMDM loop (0.55, 0.05, 0.9) */
    double editing_threshold;     /* EDIT (0.9) */
    uint32_t max_post_steps;      /* EDIT (16) */
} dlm_policy;

/* Defaults (above); steps and block_length are resolved against L by dlm_policy_check. */
void dlm_policy_default(dlm_policy *p);

/* Parses one option NAME with value VAL ("--unmask", "--count", "--steps", ...; the
 * table in docs/oracle.md). Returns 1 if NAME is a policy option (then DLM_OK or
 * DLM_EINPUT in *st), 0 if it is not one. */
int dlm_policy_option(dlm_policy *p, const char *name, const char *val, dlm_status *st,
                      dlm_err *err);

/* Applies a named preset (--policy NAME): llada, llada-random, dream-origin, maskgit-plus,
 * topk-margin, entropy, li-cai, fast-dllm, factor, eb, entsum, mdlm, remdm-cap,
 * remdm-rescale, remdm-conf, remdm-loop, llada21-edit, parity-revise. DLM_EINPUT if
 * unknown. Later options override a preset's fields. */
dlm_status dlm_policy_preset(dlm_policy *p, const char *name, dlm_err *err);

/* Resolves defaults against L (steps 0 -> L, block_length 0 -> L) and refuses
 * inconsistent settings (block_length not dividing L, steps not a multiple of the block
 * count for FIXED/GRID/BINOMIAL, parameters out of range). */
dlm_status dlm_policy_check(dlm_policy *p, uint32_t L, dlm_err *err);

/* Upper bound on the rounds a chain can take (for buffers and the enumerator). */
uint32_t dlm_policy_max_rounds(const dlm_policy *p, uint32_t L);

/* 1 when the setting makes the predictor inexact (temperature != 1, top-p < 1, top-k,
 * ReMDM's nucleus is not applied here); why gets a one-line reason. */
int dlm_policy_inexact(const dlm_policy *p, char *why, size_t why_len);

const char *dlm_unmask_name(int r);
const char *dlm_count_name(int r);
const char *dlm_remask_name(int r);
const char *dlm_revise_name(int r);

/* One line describing the policy ("unmask=low_confidence count=fixed steps=8 ..."). */
void dlm_policy_describe(const dlm_policy *p, char *buf, size_t len);
/* FNV-1a 64 of every field (the bits of each double): equal policies, equal hashes. */
uint64_t dlm_policy_hash(const dlm_policy *p);

#ifdef __cplusplus
}
#endif
#endif
