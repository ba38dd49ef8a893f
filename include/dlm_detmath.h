/* dlm_detmath.h — log, exp and cos for DLM_HD code, computed with +, -, *, / and exact
 * scalings only, in a fixed order, so that the host (gcc -ffp-contract=off) and the
 * device (nvcc --fmad=false) get the same bits: libm's and CUDA's own functions may
 * differ in the last place, which would let a ranking or a draw differ between the
 * CPU and GPU samplers. Accuracy: a few ulp (test/test_sampler.c checks against libm
 * to 1e-15 relative). Valid C11 and C++17.
 */
#ifndef DLM_DETMATH_H
#define DLM_DETMATH_H

#include <math.h>

#include "dlm_hd.h"

#define DLM_LN2 0.69314718055994530942
#define DLM_SQRT_HALF 0.70710678118654752440

/* Natural log of x > 0 (-INFINITY at 0, NAN below). */
DLM_HD double dlm_log(double x)
{
    if (!(x > 0)) return x == 0 ? -INFINITY : NAN;
    if (x == INFINITY) return x;
    int e;
    double m = frexp(x, &e); /* exact: x = m 2^e, m in [0.5, 1) */
    if (m < DLM_SQRT_HALF) {
        m *= 2.0;
        e--;
    }
    double t = (m - 1.0) / (m + 1.0), t2 = t * t; /* |t| <= 0.1716 */
    double s = 1.0 / 25;
    for (int k = 23; k >= 1; k -= 2) s = 1.0 / k + t2 * s;
    return (double)e * DLM_LN2 + 2.0 * t * s;
}

/* e^x (0 below -745, INFINITY above 709.78). */
DLM_HD double dlm_exp(double x)
{
    if (x != x) return x;
    if (x < -745.0) return 0.0;
    if (x > 709.78) return INFINITY;
    double kf = floor(x / DLM_LN2 + 0.5);
    double r = (x - kf * 0.693145751953125) - kf * 1.4286068203094172321e-06; /* Cody-Waite */
    double s = 1.0;
    for (int k = 17; k >= 1; k--) s = 1.0 + r * s / k;
    return ldexp(s, (int)kf);
}

/* cos(x) for x in [0, pi/2] (the cosine time grid), by its Taylor series. */
DLM_HD double dlm_cos_q1(double x)
{
    double x2 = x * x, s = 1.0;
    for (int k = 22; k >= 2; k -= 2) s = 1.0 - x2 * s / (double)(k * (k - 1));
    return s;
}

#endif
