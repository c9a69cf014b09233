/* nn_rnn_math.h — exp, sigmoid and tanh over arrays, written so the compiler can vectorize them
 * (no libm calls, no branches): the recurrent nets spend most of their time in these.
 *
 * exp: x = n ln2 + r (Cody-Waite, |r| <= ln2/2), exp(r) by its degree-13 Taylor polynomial
 * (truncation < 5e-18 relative) evaluated by Estrin's scheme (a tree of depth 4 instead of
 * Horner's chain of 13: the recurrent nets are latency-bound), times 2^n built in the exponent
 * bits. Within 2 ulp of libm's exp over [-708, 709] (checked in test_rnn_fast.c); inputs are
 * clamped to that range, so sigmoid/tanh saturate correctly.
 * sigmoid(x) = 1 / (1 + exp(-x)) — PyTorch's formula;
 * tanh(x) = 1 - 2 / (1 + exp(2x)) — absolute error ~2e-16 (relative error grows as |x| -> 0,
 * which does not matter for the hidden states it produces).
 *
 * nn_rnn_exp1 is the scalar definition; nn_rnn_sigmoid4 / nn_rnn_tanh4 compute 4 lanes at once
 * with GCC/clang vector extensions (ymm under AVX2, pairs of xmm otherwise), performing exactly
 * the same IEEE operations per lane, so they return the same bits as the scalar functions. */
#ifndef NN_RNN_MATH_H
#define NN_RNN_MATH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The part of exp shared by the scalar and the 4-lane version, written once over the type T
 * (double or nn_v4d) so both perform the same operations: from x (already clamped) it declares
 * t = x log2e rounded to an integer n kept in t's low mantissa bits, and p = exp(x - n ln2) by
 * the Taylor polynomial in Estrin's scheme. */
#define NN_RNN_EXP_CORE(T, x, t, p)                                                               \
    const double log2e_ = 1.4426950408889634074;                                                  \
    const double ln2hi_ = 6.93147180369123816490e-01; /* ln2 upper bits: n*ln2hi is exact */      \
    const double ln2lo_ = 1.90821492927058770002e-10;                                             \
    const double shifter_ = 0x1.8p52; /* adding it rounds to an integer kept in the low bits */   \
    T t = (x) * log2e_ + shifter_;                                                                \
    T n_ = t - shifter_;                                                                          \
    T r_ = ((x) - n_ * ln2hi_) - n_ * ln2lo_;                                                     \
    T r2_ = r_ * r_;                                                                              \
    T r4_ = r2_ * r2_;                                                                            \
    T r8_ = r4_ * r4_;                                                                            \
    T p01_ = 1.0 + r_;                                                                            \
    T p23_ = 0.5 + r_ * (1.0 / 6.0);                                                              \
    T p45_ = 1.0 / 24.0 + r_ * (1.0 / 120.0);                                                     \
    T p67_ = 1.0 / 720.0 + r_ * (1.0 / 5040.0);                                                   \
    T p89_ = 1.0 / 40320.0 + r_ * (1.0 / 362880.0);                                               \
    T pab_ = 1.0 / 3628800.0 + r_ * (1.0 / 39916800.0);                                           \
    T pcd_ = 1.0 / 479001600.0 + r_ * (1.0 / 6227020800.0);                                       \
    T q0_ = p01_ + p23_ * r2_;                                                                    \
    T q1_ = p45_ + p67_ * r2_;                                                                    \
    T q2_ = p89_ + pab_ * r2_;                                                                    \
    T s0_ = q0_ + q1_ * r4_;                                                                      \
    T s1_ = q2_ + pcd_ * r4_;                                                                     \
    T p = s0_ + s1_ * r8_

static inline double nn_rnn_exp1(double x) {
    x = x < -708.0 ? -708.0 : x;
    x = x > 709.0 ? 709.0 : x;
    NN_RNN_EXP_CORE(double, x, t, p);
    /* 2^n: t's mantissa holds 2^51 + n, so its low 12 bits shifted into the exponent field add
     * n to the exponent of 1.0 (n is within [-1021, 1023] after the clamp). */
    uint64_t tb, sb;
    double one = 1.0, scale;
    memcpy(&tb, &t, sizeof tb);
    memcpy(&sb, &one, sizeof sb);
    sb += tb << 52;
    memcpy(&scale, &sb, sizeof scale);
    return p * scale;
}

static inline double nn_rnn_sigmoid1(double x) { return 1.0 / (1.0 + nn_rnn_exp1(-x)); }
static inline double nn_rnn_tanh1(double x) { return 1.0 - 2.0 / (1.0 + nn_rnn_exp1(2.0 * x)); }

#if defined(__GNUC__)
typedef double nn_v4d __attribute__((vector_size(32)));
typedef uint64_t nn_v4u __attribute__((vector_size(32))); /* bit manipulation (no signed UB) */

/* Pointers, not vector values, cross the function boundary: no vector ABI questions. */
static inline __attribute__((always_inline)) void nn_rnn_exp4(nn_v4d *px) {
    const nn_v4d lo = {-708.0, -708.0, -708.0, -708.0}, hi = {709.0, 709.0, 709.0, 709.0};
    nn_v4d x = *px;
    nn_v4u below = (nn_v4u)(x < lo), above = (nn_v4u)(x > hi);
    x = (nn_v4d)(((nn_v4u)x & ~below) | ((nn_v4u)lo & below));
    x = (nn_v4d)(((nn_v4u)x & ~above) | ((nn_v4u)hi & above));
    NN_RNN_EXP_CORE(nn_v4d, x, t, p);
    const nn_v4d one = {1.0, 1.0, 1.0, 1.0};
    nn_v4u sb = (nn_v4u)one + ((nn_v4u)t << 52);
    *px = p * (nn_v4d)sb;
}

/* Load / store 4 lanes from k <= 4 doubles (missing lanes read as 0). Fixed-size memcpy for a
 * full chunk compiles to one vector move. */
static inline __attribute__((always_inline)) void nn_v4_load(nn_v4d *v, const double *a, size_t k) {
    if (k == 4) {
        memcpy(v, a, sizeof *v);
    } else {
        double t[4] = {0.0, 0.0, 0.0, 0.0};
        for (size_t i = 0; i < k; i++) t[i] = a[i];
        memcpy(v, t, sizeof *v);
    }
}

static inline __attribute__((always_inline)) void nn_v4_store(double *y, const nn_v4d *v, size_t k) {
    if (k == 4) {
        memcpy(y, v, sizeof *v);
    } else {
        double t[4];
        memcpy(t, v, sizeof t);
        for (size_t i = 0; i < k; i++) y[i] = t[i];
    }
}

/* y[0..n) = sigmoid(a[0..n)), 4 lanes at a time (y may equal a). */
static inline __attribute__((always_inline)) void nn_rnn_sigmoid_v(double *y, const double *a,
                                                                   size_t n) {
    for (size_t j = 0; j < n; j += 4) {
        size_t k = n - j < 4 ? n - j : 4;
        nn_v4d v;
        nn_v4_load(&v, a + j, k);
        v = -v;
        nn_rnn_exp4(&v);
        v = 1.0 / (1.0 + v);
        nn_v4_store(y + j, &v, k);
    }
}

/* y[0..n) = tanh(a[0..n)), 4 lanes at a time (y may equal a). */
static inline __attribute__((always_inline)) void nn_rnn_tanh_v(double *y, const double *a,
                                                                size_t n) {
    for (size_t j = 0; j < n; j += 4) {
        size_t k = n - j < 4 ? n - j : 4;
        nn_v4d v;
        nn_v4_load(&v, a + j, k);
        v = 2.0 * v;
        nn_rnn_exp4(&v);
        v = 1.0 - 2.0 / (1.0 + v);
        nn_v4_store(y + j, &v, k);
    }
}

/* a[0..n) . b[0..n) accumulated in 4 lanes (lane q takes the elements j = q mod 4), then
 * (lane0 + lane1) + (lane2 + lane3): a fixed order, the same on every instruction set. */
static inline __attribute__((always_inline)) double nn_rnn_dot4(const double *a, const double *b,
                                                                size_t n) {
    nn_v4d acc = {0.0, 0.0, 0.0, 0.0};
    size_t j = 0;
    for (; j + 4 <= n; j += 4) {
        nn_v4d va, vb;
        memcpy(&va, a + j, sizeof va);
        memcpy(&vb, b + j, sizeof vb);
        acc += va * vb;
    }
    for (; j < n; j++) acc[j & 3] += a[j] * b[j];
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}
#else
static inline void nn_rnn_sigmoid_v(double *y, const double *a, size_t n) {
    for (size_t j = 0; j < n; j++) y[j] = nn_rnn_sigmoid1(a[j]);
}
static inline void nn_rnn_tanh_v(double *y, const double *a, size_t n) {
    for (size_t j = 0; j < n; j++) y[j] = nn_rnn_tanh1(a[j]);
}
static inline double nn_rnn_dot4(const double *a, const double *b, size_t n) {
    double acc[4] = {0.0, 0.0, 0.0, 0.0};
    for (size_t j = 0; j < n; j++) acc[j & 3] += a[j] * b[j];
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}
#endif

#endif
