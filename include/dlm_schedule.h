/* dlm_schedule.h — how many tokens a decoding round reveals: the size schedules of the
 * policies (dlm_policy.h) and of the exact KL curves (dlm_kl.h), defined once.
 *
 * Fixed sizes (LLaDA get_num_transfer_tokens): n masked tokens over `steps` rounds,
 * base = n / steps each, the n mod steps remainder tokens one each to the FIRST rounds
 * (LLaDA) or to the LAST rounds.
 * Time grids (Dream, MDLM): t_i = 1 - i (1 - eps) / steps, i = 0..steps (linspace(1,
 * eps, steps+1)); a masked token is still masked at time t with probability m(t):
 * m(t) = t (linear / MDLM log-linear) or 1 - cos(pi t / 2) (cosine). Going from t_i to
 * t_{i+1}, a masked token is revealed with probability 1 - m(t_{i+1}) / m(t_i); the
 * last step (i = steps-1) reveals every remaining token (probability 1).
 * DLM_HD: the same arithmetic on the host and the device. Valid C11 and C++17.
 */
#ifndef DLM_SCHEDULE_H
#define DLM_SCHEDULE_H

#include <math.h>
#include <stdint.h>

#include "dlm_detmath.h"
#include "dlm_hd.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { DLM_GRID_LINEAR = 0, DLM_GRID_COSINE = 1 } dlm_grid;

#define DLM_GRID_EPS_DEFAULT 1e-3 /* Dream's eps */

/* Tokens revealed in round i (0-based) of `steps` when n tokens are masked at the start. */
DLM_HD uint32_t dlm_sched_fixed(uint32_t n, uint32_t steps, uint32_t i, int remainder_first)
{
    if (steps == 0 || i >= steps) return 0;
    uint32_t base = n / steps, rem = n % steps;
    if (remainder_first) return base + (i < rem ? 1u : 0u);
    return base + (i >= steps - rem ? 1u : 0u);
}

/* t_i of the time grid. */
DLM_HD double dlm_grid_t(uint32_t steps, uint32_t i, double eps)
{
    return 1.0 - (double)i * (1.0 - eps) / (double)steps;
}

/* m(t): probability that a token is still masked at time t. */
DLM_HD double dlm_grid_mask(int kind, double t)
{
    return kind == DLM_GRID_COSINE ? 1.0 - dlm_cos_q1(1.5707963267948966 * t) : t;
}

/* Probability that a token masked at t_i is revealed by t_{i+1} (1 in the last step). */
DLM_HD double dlm_grid_reveal_p(int kind, uint32_t steps, uint32_t i, double eps)
{
    if (i + 1 >= steps) return 1.0;
    double mt = dlm_grid_mask(kind, dlm_grid_t(steps, i, eps));
    double ms = dlm_grid_mask(kind, dlm_grid_t(steps, i + 1, eps));
    return mt > 0.0 ? 1.0 - ms / mt : 1.0;
}

/* Tokens revealed in round i by a count rule on the grid (Dream maskgit_plus, topk_margin,
 * entropy: int(n * (1 - s/t)), all remaining in the last step), n masked now. */
DLM_HD uint32_t dlm_sched_grid(int kind, uint32_t n, uint32_t steps, uint32_t i, double eps)
{
    if (i + 1 >= steps) return n;
    double k = (double)n * dlm_grid_reveal_p(kind, steps, i, eps);
    uint32_t r = (uint32_t)k; /* truncation, as Python's int() */
    return r > n ? n : r;
}

/* Randomized sizes, our reading of Zhao & Cai [unverified, docs/oracle.md]: with n
 * tokens masked and r rounds left (this one included), the last round (r = 1) reveals
 * all n; otherwise, with a = ceil(n / r) and J = floor(log2(min(n, 2a))), the round
 * reveals 2^j tokens, j uniform on 0..J. Returns J (the round has J + 1 equally likely
 * sizes 2^0 .. 2^J); n = 0 gives 0 (size 1 clipped to 0 by the caller). */
DLM_HD uint32_t dlm_sched_randsize_J(uint32_t n, uint32_t r)
{
    if (n == 0 || r <= 1) return 0;
    uint32_t a = (n + r - 1) / r, m = 2 * a < n ? 2 * a : n, J = 0;
    while ((UINT32_C(2) << J) <= m) J++;
    return J;
}

#ifdef __cplusplus
}
#endif
#endif
