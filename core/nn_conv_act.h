/* nn_conv_act.h — internal: the bit contract of the fast convolution and its scalar activation
 * maths, the reference that the portable kernels call and the SIMD ones reproduce lane by lane
 * (nn_conv_act_body.h). Not part of the public API.
 *
 * ---- bit-identical results on every path ----
 * (Jobs that nn_conv_wino_applies() admits follow the Winograd order in nn_conv_wino.h instead.)
 * Each output is accumulated in the same order on all paths, one fused multiply-add per term,
 * starting from the bias; filter rows in the vertical padding are skipped, taps in the
 * horizontal padding are fused in with a zero input:
 *   N > 1:  for ky (rows inside the input), kx, c:  acc = fma(x, k[n, ky, kx, c], acc)
 *   N = 1:  for ky (rows inside the input), c, kx:  acc = fma(x, k[0, ky, kx, c], acc)
 * then the activation below, which the SIMD kernels compute lane by lane with the same
 * operations (same polynomial, same fmas, correctly rounded reciprocal). */
#ifndef NN_CONV_ACT_H
#define NN_CONV_ACT_H

#include <math.h>

#include "nn_act.h"

/* e^x for x <= 0 (Cephes expf polynomial; below -104 the result is 0 or subnormal). */
static inline float nn_conv_exp_neg1(float x) {
    x = -104.0f > x ? -104.0f : x; /* as max_ps(-104, x): NaN kept */
    float fx = rintf(x * 1.44269504088896341f);
    float r = fmaf(-fx, 0.693359375f, x);
    r = fmaf(-fx, -2.12194440e-4f, r);
    float p = 1.9875691500E-4f;
    p = fmaf(p, r, 1.3981999507E-3f);
    p = fmaf(p, r, 8.3334519073E-3f);
    p = fmaf(p, r, 4.1665795894E-2f);
    p = fmaf(p, r, 1.6666665459E-1f);
    p = fmaf(p, r, 5.0000001201E-1f);
    p = fmaf(p, r * r, r + 1.0f);
    if (fx != fx) return p;
    return ldexpf(p, (int)fx); /* one rounding, like scalef */
}

static inline float nn_conv_sigmoid1(float x) {
    float e = nn_conv_exp_neg1(0.0f - fabsf(x)); /* e^-|x| in (0, 1] */
    float s = 1.0f / (1.0f + e);
    return x >= 0.0f ? s : e * s;
}

static inline float nn_conv_tanh1(float x) {
    float ax = fabsf(x), z = x * x;
    /* small |x|: odd polynomial (Cephes tanhf) avoids the cancellation in 1 - e */
    float p = -5.70498872745E-3f;
    p = fmaf(p, z, 2.06390887954E-2f);
    p = fmaf(p, z, -5.37397155531E-2f);
    p = fmaf(p, z, 1.33314422036E-1f);
    p = fmaf(p, z, -3.33332819422E-1f);
    if (ax < 0.625f) return fmaf(p * z, x, x);
    float e = nn_conv_exp_neg1(-2.0f * ax);
    return copysignf((1.0f - e) * (1.0f / (1.0f + e)), x);
}

static inline float nn_conv_act1(float v, nn_activation act) {
    switch (act.kind) {
    case NN_ACT_IDENTITY: return v;
    case NN_ACT_RELU: return 0.0f > v ? 0.0f : v; /* as max_ps(0, v): NaN kept */
    case NN_ACT_LEAKY_RELU: return v < 0.0f ? v * act.negative_slope : v;
    case NN_ACT_SIGMOID: return nn_conv_sigmoid1(v);
    case NN_ACT_TANH: return nn_conv_tanh1(v);
    }
    return v;
}

#endif
