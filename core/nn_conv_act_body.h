/* nn_conv_act_body.h — the fused activations over the vector interface (nn_conv_vec.h): lane
 * by lane the operations of nn_conv_act1 (nn_conv_act.h), so every path agrees to the bit.
 * NaN propagates. Included by the SIMD files before the kernel bodies. */
#include "nn_conv_vec.h"

/* e^x for x <= 0 (Cephes expf polynomial, ~1 ulp); V_SCALE2N reaches the subnormal range. */
V_INLINE VT VEC v_exp_neg(VEC x) {
    x = V_MAX(V_SET1(-104.0f), x); /* NaN is the 2nd operand: kept */
    VEC fx = V_ROUND(V_MUL(x, V_SET1(1.44269504088896341f)));
    VEC r = V_FNMA(fx, V_SET1(0.693359375f), x);
    r = V_FNMA(fx, V_SET1(-2.12194440e-4f), r);
    VEC p = V_SET1(1.9875691500E-4f);
    p = V_FMA(p, r, V_SET1(1.3981999507E-3f));
    p = V_FMA(p, r, V_SET1(8.3334519073E-3f));
    p = V_FMA(p, r, V_SET1(4.1665795894E-2f));
    p = V_FMA(p, r, V_SET1(1.6666665459E-1f));
    p = V_FMA(p, r, V_SET1(5.0000001201E-1f));
    p = V_FMA(p, V_MUL(r, r), V_ADD(r, V_SET1(1.0f)));
    return V_SCALE2N(p, fx);
}

/* 1 / (1 + e) as a correctly rounded division: the same bits as the 1.0f / d of the scalar
 * path (a reciprocal estimate plus Newton steps is not, for every d). Measured no slower in
 * the sigmoid tile: the divide overlaps the exp polynomial. */
V_INLINE VT VEC v_recip_1p(VEC e) { return V_DIV(V_SET1(1.0f), V_ADD(V_SET1(1.0f), e)); }

V_INLINE VT VEC v_sigmoid(VEC x) {
    VEC e = v_exp_neg(V_SUB(V_ZERO(), V_ABS(x))); /* e^-|x| in (0, 1] */
    VEC s = v_recip_1p(e);
    return V_BLEND(V_GE(x, V_ZERO()), V_MUL(e, s), s); /* NaN: not >= 0 -> e*s = NaN */
}

V_INLINE VT VEC v_tanh(VEC x) {
    VEC ax = V_ABS(x), z = V_MUL(x, x);
    /* small |x|: odd polynomial (Cephes tanhf) avoids the cancellation in 1 - e */
    VEC p = V_SET1(-5.70498872745E-3f);
    p = V_FMA(p, z, V_SET1(2.06390887954E-2f));
    p = V_FMA(p, z, V_SET1(-5.37397155531E-2f));
    p = V_FMA(p, z, V_SET1(1.33314422036E-1f));
    p = V_FMA(p, z, V_SET1(-3.33332819422E-1f));
    VEC small = V_FMA(V_MUL(p, z), x, x);
    /* large |x|: (1 - e) * (1 / (1 + e)) with e = e^-2|x| (not one division: the rounding of
     * nn_conv_tanh1), sign restored */
    VEC e = v_exp_neg(V_MUL(V_SET1(-2.0f), ax));
    VEC big = V_OR_SIGN(V_MUL(V_SUB(V_SET1(1.0f), e), v_recip_1p(e)), x);
    return V_BLEND(V_LT(ax, V_SET1(0.625f)), big, small);
}

V_INLINE VT VEC v_act(VEC v, nn_act_kind kind, VEC slope) {
    switch (kind) {
    case NN_ACT_IDENTITY: return v;
    case NN_ACT_RELU: return V_MAX(V_ZERO(), v); /* NaN: 2nd operand kept */
    case NN_ACT_LEAKY_RELU: return V_BLEND(V_LT(v, V_ZERO()), v, V_MUL(v, slope));
    case NN_ACT_SIGMOID: return v_sigmoid(v);
    case NN_ACT_TANH: return v_tanh(v);
    }
    return v;
}
