/* nn_tile_body.h — the training kernels of nn_tile.h (corr, dw, colsum, poolmax, actgrad),
 * written once over the convolution's vector interface (nn_conv_vec.h) and included by each
 * instruction set's file (nn_conv_generic.c, nn_conv_avx2.c, nn_conv_avx512.c, and
 * nn_tile_avx512_256.c for the AVX-512 level's 8-lane copy), which defines first, besides the
 * interface and the activations (v_act: nn_conv_act_body.h, or the portable file's own):
 *   V_LOADN(p, n) V_STOREN(p, v, n)  lanes [0, n) (n >= VL: all); the others read as 0 / kept
 *   VIDX, V_IDX(i), V_ISTOREN(p, v, n), V_IBLEND(m, a, b)  vectors of uint32 (lanes i, i+1, ..)
 *   V_TAKE(v, m)       mask of v > m || isnan(v) (max pooling's rule)
 *   TILE_SIZES1(X), TILE_SIZES2(X)  the tile sizes (pixels for corr, taps for dw) with 1 and 2
 *                      vectors of channels: one of the T_SIZES_n lists below
 *   TILE_SETS_SIZES1(X), TILE_SETS_SIZES2(X)  the same for dw tiles of kernel rows shorter than
 *                      8 taps, which keep T_DW_SETS sets of sums (so 4x the accumulators)
 *   TILE_ONE_VECTOR    (optional) only groups of one vector are ever run (no 2-vector copies)
 *   TILE_NO_ACTGRAD    (optional) no actgrad (the file's other width has it)
 * Each tile keeps P pixels (or T taps) x NV vectors of accumulators in registers; the tile size
 * is a compile-time constant (one copy per size in the list, picked by a switch) so nothing
 * spills, and a row of n pixels is cut into about equal tiles (28 -> one tile of 28, 32 -> two
 * of 16), not a full tile and a thin remainder. The functions are static (tile_*): each file
 * has its own copy, and its nn_tile_ops table points at them. */
#include <math.h>

#include "nn_conv_act.h"
#include "nn_conv_vec.h"
#include "nn_tile.h"

#ifndef NN_TILE_BODY_ONCE
#define NN_TILE_BODY_ONCE
/* Tile sizes a path has a copy of, largest first: every size up to 8 (so any remainder is
 * covered), then a few wider ones. */
#define T_SIZES_1(X) X(1)
#define T_SIZES_3(X) X(3) X(2) T_SIZES_1(X)
#define T_SIZES_4(X) X(4) T_SIZES_3(X)
#define T_SIZES_6(X) X(6) X(5) T_SIZES_4(X)
#define T_SIZES_7(X) X(7) T_SIZES_6(X)
#define T_SIZES_8(X) X(8) T_SIZES_7(X)
#define T_SIZES_14(X) X(14) X(12) X(10) T_SIZES_8(X)
#define T_SIZES_28(X) X(28) X(24) X(20) X(16) T_SIZES_14(X)
#define T_ITEM(k) k,

/* The tile size for n items: equal tiles of at most the largest size, rounded up to a size
 * there is a copy of; the remainder then goes in the largest sizes that fit. */
static inline size_t nn_tile_size(size_t n, const unsigned char *sizes, size_t count) {
    size_t tiles = (n + sizes[0] - 1) / sizes[0], even = (n + tiles - 1) / tiles, best = sizes[0];
    for (size_t i = 0; i < count; i++)
        if (sizes[i] >= even) best = sizes[i];
    return best;
}

/* The largest size <= n (n >= 1; the list ends with 1). */
static inline size_t nn_tile_fit(size_t n, const unsigned char *sizes, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (sizes[i] <= n) return sizes[i];
    return 1;
}

/* Vectors of channels from m0 (at most 2) and the lanes of the last one if it is partial. */
static inline size_t nn_tile_group(size_t M, size_t m0, size_t lanes, size_t *tail) {
    size_t left = M - m0, nv = (left + lanes - 1) / lanes;
    if (nv > 2) nv = 2;
    *tail = m0 + nv * lanes > M ? left - (nv - 1) * lanes : 0;
    return nv;
}

static const float nn_tile_zeros[2 * NN_TILE_PAD];
static const float nn_tile_neg_inf = -INFINITY, nn_tile_one = 1.0f;
#endif

#ifdef NN_TILE_SANITIZED
#undef TILE_SIZES1
#undef TILE_SIZES2
#undef TILE_SETS_SIZES1
#undef TILE_SETS_SIZES2
#define TILE_SIZES1 T_SIZES_4
#define TILE_SIZES2 T_SIZES_3
#define TILE_SETS_SIZES1 T_SIZES_3
#define TILE_SETS_SIZES2 T_SIZES_1
#endif

/* This file's copy of each function; whole or partial vectors (n = 0: whole) */
#define TN(name) tile_##name
#define T_LOADT(p, n) V_LOADN(p, (n) ? (n) : (size_t)VL)
#define T_STORET(p, v, n) V_STOREN(p, v, (n) ? (n) : (size_t)VL)
#define T_RELU(v) V_MAX(V_ZERO(), v) /* NaN is the 2nd operand: kept */

static const unsigned char TN(sizes1)[] = {TILE_SIZES1(T_ITEM)};
static const unsigned char TN(sizes2)[] = {TILE_SIZES2(T_ITEM)};
static const unsigned char TN(sets_sizes1)[] = {TILE_SETS_SIZES1(T_ITEM)};
static const unsigned char TN(sets_sizes2)[] = {TILE_SETS_SIZES2(T_ITEM)};
#define T_NSIZES1 (sizeof TN(sizes1))
#define T_NSIZES2 (sizeof TN(sizes2))
#define T_TILE_MAX 28

/* ---- corr: P output pixels x NV vectors of channels ---- */

/* The activation of a finished row of tiles, in place (P pixels of nm channels at stride yc):
 * the forward convolution's own vector activations (nn_conv_act_body.h), lane by lane the
 * scalar nn_conv_act1, so the same bits on every path. ReLU is fused into the tiles' stores. */
static VT __attribute__((noinline)) void TN(act_tile)(float *y, size_t yc, size_t P, size_t nm,
                                                     nn_activation act) {
    const VEC slope = V_SET1(act.negative_slope);
    for (size_t p = 0; p < P; p++) {
        float *o = y + p * yc;
        for (size_t m = 0; m < nm; m += VL) {
            size_t n = nm - m < VL ? nm - m : 0;
            T_STORET(o + m, v_act(T_LOADT(o + m, n), act.kind, slope), n);
        }
    }
}

/* x: tap (0, 0) of the first pixel; y, w: at the group's first channel; acc starts from
 * src[p*ss] (the output itself, the bias or zeros). */
V_INLINE VT void TN(corr_tile)(const nn_tile_job *j, const float *x, float *y, const float *w,
                               const float *src, size_t ss, size_t tail, const int P, const int NV) {
    VEC acc[T_TILE_MAX][2];
    const size_t xc = j->xc, yc = j->yc, L = j->L, wld = j->wld;
#pragma GCC unroll 28
    for (int p = 0; p < P; p++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            acc[p][v] = T_LOADT(src + (size_t)p * ss + (size_t)v * VL, v == NV - 1 ? tail : 0);
    for (size_t ky = 0; ky < j->KH; ky++) {
        const float *xk = x + ky * j->xk, *wk = w + ky * L * wld;
        for (size_t t = 0; t < L; t++) {
            VEC wv[2];
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++) wv[v] = V_LOADU(wk + t * wld + (size_t)v * VL);
            /* pixels in groups of 4 off one base bumped by 4*xc: offsets 0, xc, 2xc, 3xc fit
             * x86 addressing, where 28 separate pixel offsets would spill to the stack */
            const float *g = xk + t;
#pragma GCC unroll 7
            for (int p4 = 0; p4 < P; p4 += 4, g += 4 * xc)
#pragma GCC unroll 4
                for (int q = 0; q < 4; q++) {
                    if (p4 + q >= P) break;
                    VEC b = V_BCAST(g + (size_t)q * xc);
#pragma GCC unroll 2
                    for (int v = 0; v < NV; v++) acc[p4 + q][v] = V_FMA(b, wv[v], acc[p4 + q][v]);
                }
        }
    }
    const int relu = !j->accumulate && j->act.kind == NN_ACT_RELU; /* fused; others: act_tile */
#pragma GCC unroll 28
    for (int p = 0; p < P; p++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++)
            T_STORET(y + (size_t)p * yc + (size_t)v * VL, relu ? T_RELU(acc[p][v]) : acc[p][v], v == NV - 1 ? tail : 0);
}

#define T_CORR(k) case k: TN(corr_tile)(j, x + c * j->xc, y + c * yc, w, src + c * ss, ss, tail, k, NVC); break;

/* One row of n pixels, one group of NVC vectors of channels. */
#define T_CORR_ROW(NAME, SIZES, NSIZES, LIST, NVC_)                                             \
    static VT void TN(NAME)(const nn_tile_job *j, const float *x, float *y, const float *w,     \
                            const float *src, size_t ss, size_t tail, size_t n) {               \
        enum { NVC = NVC_ };                                                                    \
        const size_t yc = j->yc, P = nn_tile_size(n, SIZES, NSIZES);                            \
        for (size_t c = 0, k; c < n; c += k) {                                                  \
            k = n - c >= P ? P : nn_tile_fit(n - c, SIZES, NSIZES);                             \
            switch (k) { LIST(T_CORR) default: break; }                                         \
        }                                                                                       \
    }
T_CORR_ROW(corr_row1, TN(sizes1), T_NSIZES1, TILE_SIZES1, 1)
#ifndef TILE_ONE_VECTOR
T_CORR_ROW(corr_row2, TN(sizes2), T_NSIZES2, TILE_SIZES2, 2)
#endif

static VT void TN(corr)(const nn_tile_job *j, size_t r0, size_t r1, size_t c0, size_t c1) {
    if (c1 <= c0) return;
    int act = !j->accumulate && j->act.kind != NN_ACT_IDENTITY && j->act.kind != NN_ACT_RELU;
    for (size_t r = r0; r < r1; r++) {
        const float *x = j->x + r * j->xr + c0 * j->xc;
        float *y = j->y + r * j->yr + c0 * j->yc;
        for (size_t m0 = 0; m0 < j->M; m0 += 2 * (size_t)VL) {
            size_t tail, nv = nn_tile_group(j->M, m0, VL, &tail);
            (void)nv;
            const float *src = j->accumulate ? y + m0 : j->bias ? j->bias + m0 : nn_tile_zeros;
            size_t ss = j->accumulate ? j->yc : 0;
#ifndef TILE_ONE_VECTOR
            if (nv == 2) TN(corr_row2)(j, x, y + m0, j->w + m0, src, ss, tail, c1 - c0);
            else
#endif
                TN(corr_row1)(j, x, y + m0, j->w + m0, src, ss, tail, c1 - c0);
        }
        if (act) TN(act_tile)(y, j->yc, c1 - c0, j->M, j->act);
    }
}

/* ---- dw: T taps x NV vectors of channels, summed over pixels ---- */

/* Kernel rows shorter than this many taps keep T_DW_SETS running sums per tap and vector:
 * with fewer than 8 chains the adds wait on the FMA latency at every pixel (a 3-tap row ran
 * at a fifth of the speed). Pixel c of a row goes to set (c - c0) % T_DW_SETS, and the sets
 * are added in order at the end. The choice depends on L only, never on the path's tile
 * sizes or vector width, so every path still gives the same bits. */
#define T_DW_SHORT 8
#define T_DW_SETS 4

/* One pixel into set k: d = its gradient vectors, x at tap t of the tile. */
#define T_DW_PIXEL(k, xp, yp)                                                                    \
    do {                                                                                         \
        VEC d[2];                                                                                 \
        _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++)                                     \
            d[v] = T_LOADT((yp) + (size_t)v * VL, v == NV - 1 ? tail : 0);                       \
        _Pragma("GCC unroll 28") for (int t = 0; t < T; t++) {                                   \
            VEC b = V_BCAST((xp) + t);                                                            \
            _Pragma("GCC unroll 2") for (int v = 0; v < NV; v++)                                 \
                acc[k][t][v] = V_FMA(b, d[v], acc[k][t][v]);                                     \
        }                                                                                        \
    } while (0)

/* x: tap t of kernel row ky at pixel (0, 0); w: that tap's row, group's first channel;
 * y: the gradient at pixel (0, 0), group's first channel; SETS: 1 or T_DW_SETS. */
V_INLINE VT void TN(dw_tile)(const nn_tile_job *j, size_t r0, size_t r1, size_t c0, size_t c1,
                             const float *x, float *w, const float *y, size_t tail, const int T,
                             const int NV, const int SETS) {
    VEC acc[T_DW_SETS][T_TILE_MAX][2];
    const size_t wld = j->wld, xc = j->xc, yc = j->yc;
#pragma GCC unroll 4
    for (int k = 0; k < SETS; k++)
#pragma GCC unroll 28
        for (int t = 0; t < T; t++)
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++)
                acc[k][t][v] = k ? V_ZERO() : T_LOADT(w + (size_t)t * wld + (size_t)v * VL, v == NV - 1 ? tail : 0);
    for (size_t r = r0; r < r1; r++) {
        const float *xp = x + r * j->xr + c0 * xc, *yp = y + r * j->yr + c0 * yc;
        size_t c = c0;
        for (; c + (size_t)SETS <= c1; c += (size_t)SETS, xp += (size_t)SETS * xc, yp += (size_t)SETS * yc)
#pragma GCC unroll 4
            for (int k = 0; k < SETS; k++) T_DW_PIXEL(k, xp + (size_t)k * xc, yp + (size_t)k * yc);
#pragma GCC unroll 4
        for (int k = 0; k < SETS - 1; k++) /* the row's last c1 - c < SETS pixels */
            if (c + (size_t)k < c1) T_DW_PIXEL(k, xp + (size_t)k * xc, yp + (size_t)k * yc);
    }
#pragma GCC unroll 28
    for (int t = 0; t < T; t++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) {
            VEC sum = acc[0][t][v];
#pragma GCC unroll 4
            for (int k = 1; k < SETS; k++) sum = V_ADD(sum, acc[k][t][v]);
            T_STORET(w + (size_t)t * wld + (size_t)v * VL, sum, v == NV - 1 ? tail : 0);
        }
}

#define T_DW(k) case k: TN(dw_tile)(j, r0, r1, c0, c1, x + t, w + t * j->wld, y, tail, k, NVC, SETSC); break;

/* Kernel row ky's taps [t0, t1), one group of NVC vectors of channels. */
#define T_DW_ROW(NAME, SIZES, NSIZES, LIST, NVC_, SETS_)                                        \
    static VT void TN(NAME)(const nn_tile_job *j, size_t r0, size_t r1, size_t c0, size_t c1,   \
                            const float *x, float *w, const float *y, size_t tail, size_t t0,   \
                            size_t t1) {                                                        \
        enum { NVC = NVC_, SETSC = SETS_ };                                                     \
        const size_t T = nn_tile_size(t1 - t0, SIZES, NSIZES);                                  \
        for (size_t t = t0, k; t < t1; t += k) {                                                \
            k = t1 - t >= T ? T : nn_tile_fit(t1 - t, SIZES, NSIZES);                           \
            switch (k) { LIST(T_DW) default: break; }                                           \
        }                                                                                       \
    }
T_DW_ROW(dw_row1, TN(sizes1), T_NSIZES1, TILE_SIZES1, 1, 1)
T_DW_ROW(dw_sets1, TN(sets_sizes1), sizeof TN(sets_sizes1), TILE_SETS_SIZES1, 1, T_DW_SETS)
#ifndef TILE_ONE_VECTOR
T_DW_ROW(dw_row2, TN(sizes2), T_NSIZES2, TILE_SIZES2, 2, 1)
T_DW_ROW(dw_sets2, TN(sets_sizes2), sizeof TN(sets_sizes2), TILE_SETS_SIZES2, 2, T_DW_SETS)
#endif

static VT void TN(dw)(const nn_tile_job *j, size_t r0, size_t r1, size_t c0, size_t c1, size_t t0,
                      size_t t1) {
    if (c1 <= c0 || r1 <= r0 || t1 <= t0) return;
    const int sets = j->L < T_DW_SHORT;
    for (size_t m0 = 0; m0 < j->M; m0 += 2 * (size_t)VL) {
        size_t tail, nv = nn_tile_group(j->M, m0, VL, &tail);
        (void)nv;
        for (size_t ky = 0; ky < j->KH; ky++) {
            const float *x = j->x + ky * j->xk;
            float *w = j->w + ky * j->L * j->wld + m0;
#ifndef TILE_ONE_VECTOR
            if (nv == 2 && sets) TN(dw_sets2)(j, r0, r1, c0, c1, x, w, j->y + m0, tail, t0, t1);
            else if (nv == 2) TN(dw_row2)(j, r0, r1, c0, c1, x, w, j->y + m0, tail, t0, t1);
            else
#endif
            if (sets) TN(dw_sets1)(j, r0, r1, c0, c1, x, w, j->y + m0, tail, t0, t1);
            else TN(dw_row1)(j, r0, r1, c0, c1, x, w, j->y + m0, tail, t0, t1);
        }
    }
}

/* ---- colsum ---- */

/* Four running sums (pixels p = 4i + k go to sum k), then (s0 + s1) + (s2 + s3) added to acc:
 * one sum alone waits on the adder's latency at every pixel. */
static VT void TN(colsum)(float *acc, const float *y, size_t n, size_t stride, size_t M) {
    for (size_t m = 0; m < M; m += VL) {
        size_t tail = m + VL > M ? M - m : 0;
        VEC a[4] = {V_ZERO(), V_ZERO(), V_ZERO(), V_ZERO()};
        size_t p = 0;
        for (; p + 4 <= n; p += 4)
#pragma GCC unroll 4
            for (int k = 0; k < 4; k++) a[k] = V_ADD(a[k], T_LOADT(y + (p + (size_t)k) * stride + m, tail));
        for (int k = 0; p < n; p++, k++) a[k] = V_ADD(a[k], T_LOADT(y + p * stride + m, tail));
        VEC sum = V_ADD(V_ADD(a[0], a[1]), V_ADD(a[2], a[3]));
        T_STORET(acc + m, V_ADD(T_LOADT(acc + m, tail), sum), tail);
    }
}

/* ---- poolmax ---- */

static VT void TN(poolmax)(const nn_tile_pool *j, size_t oy0, size_t oy1) {
    const size_t C = j->C, W = j->W;
    for (size_t oy = oy0; oy < oy1; oy++)
        for (size_t ox = 0; ox < j->OW; ox++) {
            const size_t first = (oy * j->sh * W + ox * j->sw) * C, o = (oy * j->OW + ox) * C;
            for (size_t c = 0; c < C; c += VL) {
                size_t tail = c + VL > C ? C - c : 0;
                VEC m = V_BCAST(&nn_tile_neg_inf);
                VIDX id = V_IDX(first + c);
                for (size_t ky = 0; ky < j->kh; ky++)
                    for (size_t kx = 0; kx < j->kw; kx++) {
                        size_t at = first + (ky * W + kx) * C + c;
                        VEC v = T_LOADT(j->x + at, tail);
                        VMASK take = V_TAKE(v, m);
                        m = V_BLEND(take, m, v);
                        id = V_IBLEND(take, id, V_IDX(at));
                    }
                T_STORET(j->y + o + c, m, tail);
                V_ISTOREN(j->arg + o + c, id, tail ? tail : (size_t)VL);
            }
        }
}

/* ---- actgrad: nn_act_grad_output's expressions, in its order ---- */

#ifndef TILE_NO_ACTGRAD
static VT void TN(actgrad)(float *dz, const float *dy, const float *y, size_t n, nn_activation act) {
    const VEC zero = V_ZERO(), one = V_BCAST(&nn_tile_one), slope = V_BCAST(&act.negative_slope);
    for (size_t i = 0; i < n; i += VL) {
        size_t tail = i + VL > n ? n - i : 0;
        VEC d = T_LOADT(dy + i, tail), v = T_LOADT(y + i, tail), g = d;
        switch (act.kind) {
        case NN_ACT_IDENTITY: break;
        case NN_ACT_SIGMOID: g = V_MUL(V_MUL(d, V_SUB(one, v)), v); break;
        case NN_ACT_TANH: g = V_MUL(d, V_SUB(one, V_MUL(v, v))); break;
        case NN_ACT_RELU: g = V_BLEND(V_GE(zero, v), d, zero); break;       /* v <= 0 ? 0 : d */
        case NN_ACT_LEAKY_RELU: g = V_BLEND(V_LT(zero, v), V_MUL(d, slope), d); break; /* v > 0 ? d : d*s */
        }
        T_STORET(dz + i, g, tail);
    }
}
#endif

#undef T_TILE_MAX
#undef TN
#undef T_LOADT
#undef T_STORET
#undef T_RELU
#undef T_NSIZES1
#undef T_NSIZES2
#undef T_CORR
#undef T_CORR_ROW
#undef T_DW
#undef T_DW_ROW
#undef T_DW_PIXEL
