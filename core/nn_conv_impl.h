/* nn_conv_impl.h — internal: the shape bundle nn_conv.c hands to its kernels (generic C,
 * AVX2, AVX-512). Not part of the public API. */
#ifndef NN_CONV_IMPL_H
#define NN_CONV_IMPL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn_act.h"
#include "nn_status.h"

typedef struct nn_conv_job {
    float *y;          /* [OH, OW, N] */
    const float *x;    /* [H, W, C] */
    const float *k;    /* [N, KH, KW, C] */
    const float *bias; /* [N] or NULL */
    size_t H, W, C, N, KH, KW, OH, OW, sh, sw, ph, pw;
    nn_activation act;
    float *ws;         /* scratch, 64-byte aligned, at least the kernel's *_ws_floats */
    size_t threads;    /* threads the job may use (sizes the per-thread scratch) */
} nn_conv_job;


/* ---- bit-identical results on every path ----
 * (Jobs that nn_conv_wino_applies() admits follow the Winograd order in nn_conv_wino.h instead.)
 * Each output is accumulated in the same order on all paths, one fused multiply-add per term,
 * starting from the bias; kernel rows in the vertical padding are skipped, taps in the
 * horizontal padding are fused in with a zero input:
 *   N > 1:  for ky (rows inside the input), kx, c:  acc = fma(x, k[n, ky, kx, c], acc)
 *   N = 1:  for ky (rows inside the input), c, kx:  acc = fma(x, k[0, ky, kx, c], acc)
 * then the activation below, which the SIMD kernels compute lane by lane with the same
 * operations (same polynomial, same fmas, correctly rounded reciprocal). */

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

/* Which kernel nn_conv2d_forward runs. nn_conv_set_impl forces one (tests compare them);
 * NN_CONV_IMPL_AUTO goes back to the NNLAB_SIMD / CPU choice. Returns the kernel now in use
 * (a forced one the CPU lacks falls back to the best it has below it). Not thread-safe. */
enum { NN_CONV_IMPL_AUTO = -1, NN_CONV_IMPL_GENERIC, NN_CONV_IMPL_AVX2, NN_CONV_IMPL_AVX512 };
int nn_conv_set_impl(int impl);
/* The kernel in use (the choice made on first use, or forced), for the other kernel tables
 * that follow it (nn_tile.c). */
int nn_conv_impl_in_use(void);

/* ---- helpers shared by the SIMD kernels (plain C) ---- */

/* Kernel rows [ky0, ky1) of output row oy that land inside the input (iy = iy0 + ky in [0, H));
 * empty (ky0 == ky1) when the whole window is in the padding. */
static inline void nn_conv_kernel_rows(const nn_conv_job *j, size_t oy, ptrdiff_t *iy0, size_t *ky0, size_t *ky1) {
    ptrdiff_t base = (ptrdiff_t)(oy * j->sh) - (ptrdiff_t)j->ph;
    ptrdiff_t lo = base < 0 ? -base : 0, hi = (ptrdiff_t)j->H - base;
    if (hi > (ptrdiff_t)j->KH) hi = (ptrdiff_t)j->KH;
    if (lo > (ptrdiff_t)j->KH) lo = (ptrdiff_t)j->KH;
    if (hi < lo) hi = lo;
    *iy0 = base;
    *ky0 = (size_t)lo;
    *ky1 = (size_t)hi;
}

/* The zero-padded patch [P][KH][KW][C] (kernel rows ky0..ky1 filled) of output pixels start ..
 * start+P-1 of the output row whose window starts at input row iy0; pixels from npix on are
 * zeros. Only the few tiles that touch the horizontal padding need it. One select per float,
 * not a memcpy / memset per kernel column: with C = 3 those calls cost several times the tile's
 * arithmetic (measured: 13 % of the 64-filter layer's time on one core). */
static inline void nn_conv_gather_patch(const nn_conv_job *j, float *patch, size_t start, size_t P,
                                        size_t npix, ptrdiff_t iy0, size_t ky0, size_t ky1) {
    const size_t C = j->C, KW = j->KW, L = KW * C;
    for (size_t p = 0; p < P; p++) {
        ptrdiff_t ix0 = (ptrdiff_t)((start + p) * j->sw) - (ptrdiff_t)j->pw;
        for (size_t r = ky0; r < ky1; r++) {
            float *dst = patch + (p * j->KH + r) * L;
            const float *row = j->x + (size_t)(iy0 + (ptrdiff_t)r) * j->W * C;
            for (size_t kx = 0; kx < KW; kx++) {
                ptrdiff_t ix = ix0 + (ptrdiff_t)kx;
                int inside = p < npix && ix >= 0 && ix < (ptrdiff_t)j->W;
                const float *src = row + (inside ? (size_t)ix * C : 0); /* always a valid read */
                for (size_t c = 0; c < C; c++) dst[kx * C + c] = inside ? src[c] : 0.0f;
            }
        }
    }
}

/* The planar (N = 1) kernels: row length of one zero-padded plane, with slack for whole
 * vectors past the last output column. */
static inline size_t nn_conv_planar_wq(const nn_conv_job *j) {
    size_t wp = j->W + 2 * j->pw;
    return (wp + j->sw - 1) / j->sw + j->KW + 64 + 15;
}

static inline size_t nn_conv_planar_ws_floats(const nn_conv_job *j) {
    size_t f;
    size_t dims[4] = {j->C, j->H, j->sw, nn_conv_planar_wq(j)};
    if (nn_size_prod(dims, 4, &f)) return SIZE_MAX;
    return f;
}

/* dst[i] = x[iy, i*sw + ph - pw, c] for i < Wq, zero outside the input. */
static inline void nn_conv_fill_plane_row(float *dst, const float *src_row, size_t C, size_t c, size_t sw, size_t ph,
                           size_t pw, size_t W, size_t Wq) {
    /* valid i: 0 <= i*sw + ph - pw < W */
    size_t lo = pw > ph ? (pw - ph + sw - 1) / sw : 0;
    size_t hi = (W + pw - ph + sw - 1) / sw;
    if (hi > Wq) hi = Wq;
    if (lo > hi) lo = hi;
    memset(dst, 0, lo * sizeof *dst);
    const float *src = src_row + c + (lo * sw + ph - pw) * C;
    for (size_t i = lo; i < hi; i++, src += sw * C) dst[i] = *src;
    memset(dst + hi, 0, (Wq - hi) * sizeof *dst);
}

/* Whether a SIMD kernel writes this job's output with streaming (non-temporal) stores, in whole
 * aligned vectors of `lanes` floats. Outputs over 8 MB cannot stay cached anyway, and skipping
 * the read-for-ownership halves the memory traffic of a store-bound layer. NNLAB_NO_STREAM in
 * the environment turns it off (for A/B measurements). */
static inline int nn_conv_streams(const nn_conv_job *j, size_t lanes) {
    return getenv("NNLAB_NO_STREAM") == NULL && j->N % lanes == 0 &&
           ((uintptr_t)j->y % (lanes * sizeof(float))) == 0 &&
           (double)j->OH * (double)j->OW * (double)j->N * sizeof(float) > (double)((size_t)8 << 20);
}

/* Floats of scratch each kernel needs for a job (shapes and threads filled in). */
size_t nn_conv_generic_ws_floats(const nn_conv_job *j);
void nn_conv_generic_run(const nn_conv_job *j);

#if defined(__x86_64__) || defined(__i386__)
#define NN_CONV_HAVE_X86 1
size_t nn_conv_avx512_ws_floats(const nn_conv_job *j);
void nn_conv_avx512_run(const nn_conv_job *j);
size_t nn_conv_avx2_ws_floats(const nn_conv_job *j);
void nn_conv_avx2_run(const nn_conv_job *j);
#endif

#endif
