/* nn_conv_generic.c — the portable convolution kernels (any CPU) and their table
 * (nn_conv_dispatch.h): the fallback of every SIMD level.
 *   planar and broadcast: one direct kernel, filters repacked to [KH*KW*C, N] so the innermost
 *       loop runs over output channels with unit stride, one fmaf per term in the order of
 *       nn_conv_act.h for N = 1 and N > 1, rows in the vertical padding skipped, output rows
 *       split across threads;
 *   Winograd: the shared body (nn_conv_wino_body.h) over one-float "vectors", one filter per
 *       lane. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "nn_cancel.h"
#include "nn_conv_act.h"
#include "nn_conv_dispatch.h"
#include "nn_parallel.h"

#define VT
#define VEC float
#define VL 1
#define V_LOAD(p) (*(p))
#define V_LOADU(p) (*(p))
#define V_STORE(p, v) (*(p) = (v))
#define V_STOREU(p, v) (*(p) = (v))
#define V_STREAM(p, v) (*(p) = (v))
#define V_CAN_STREAM 0
#define V_FENCE() ((void)0)
#define V_BCAST(p) (*(p))
#define V_SET1(x) (x)
#define V_ZERO() 0.0f
#define V_ADD(a, b) ((a) + (b))
#define V_SUB(a, b) ((a) - (b))
#define V_FMA(a, b, c) fmaf(a, b, c)

static inline float v_act(float v, nn_act_kind kind, float slope) {
    return nn_conv_act1(v, (nn_activation){.kind = kind, .negative_slope = slope});
}

#define WINO_NV 16
#include "nn_conv_wino_body.h"

static size_t direct_ws_floats(const nn_conv_job *j) {
    /* packed filters + one accumulator row of N per thread; sizes were overflow-checked by
     * nn_conv_output_size except the thread multiple, checked here. */
    size_t K = j->KH * j->KW * j->C, wk = K * j->N, acc;
    if (__builtin_mul_overflow(j->threads, j->N, &acc) || __builtin_add_overflow(wk, acc, &acc))
        return SIZE_MAX;
    return acc;
}

/* acc[0] += one filter row of output pixel ix0.. in the planar order (channel outer, filter
 * column inner). */
static void direct_row_planar(float *acc, const nn_conv_job *j, const float *xrow, const float *kr,
                              ptrdiff_t ix0) {
    const size_t C = j->C, KW = j->KW;
    for (size_t c = 0; c < C; c++)
        for (size_t kx = 0; kx < KW; kx++) {
            ptrdiff_t ix = ix0 + (ptrdiff_t)kx;
            float v = ix >= 0 && ix < (ptrdiff_t)j->W ? xrow[(size_t)ix * C + c] : 0.0f;
            acc[0] = fmaf(v, kr[kx * C + c], acc[0]);
        }
}

/* acc[0..N) += one filter row (packed: wr [KW][C][N]) of output pixel ix0.. */
static void direct_row(float *acc, const nn_conv_job *j, const float *xrow, const float *wr, ptrdiff_t ix0) {
    const size_t C = j->C, N = j->N;
    for (size_t kx = 0; kx < j->KW; kx++) {
        ptrdiff_t ix = ix0 + (ptrdiff_t)kx;
        int inside = ix >= 0 && ix < (ptrdiff_t)j->W;
        const float *xp = xrow + (inside ? (size_t)ix * C : 0);
        const float *wp = wr + kx * C * N;
        for (size_t c = 0; c < C; c++) {
            float v = inside ? xp[c] : 0.0f;
            const float *w = wp + c * N;
            for (size_t n = 0; n < N; n++) acc[n] = fmaf(v, w[n], acc[n]);
        }
    }
}

/* The accumulation order and activation of nn_conv_act.h, one output pixel at a time, so the
 * result is bit-identical to the SIMD kernels; fmaf is exact even where it is computed in
 * software. Taps in the horizontal padding are fused in as zeros, as the SIMD kernels do
 * (fma(0, w, -0) is +0, so skipping them would not be the same). */
static void direct_rows(void *ctx, size_t begin, size_t end, size_t worker) {
    const nn_conv_job *j = ctx;
    const size_t N = j->N, C = j->C, KW = j->KW, K = j->KH * KW * C;
    const float *wt = j->ws;
    float *acc = j->ws + K * N + worker * N;
    size_t meter = 0;
    for (size_t oy = begin; oy < end; oy++) {
        ptrdiff_t iy0;
        size_t ky0, ky1;
        nn_conv_rows_inside(j, oy, &iy0, &ky0, &ky1);
        for (size_t ox = 0; ox < j->OW; ox++) {
            if (nn_cancel_tick(&meter, N * K + 1)) return;
            float *y = j->y + (oy * j->OW + ox) * N;
            ptrdiff_t ix0 = (ptrdiff_t)(ox * j->sw) - (ptrdiff_t)j->pw;
            for (size_t n = 0; n < N; n++) acc[n] = j->bias ? j->bias[n] : 0.0f;
            for (size_t ky = ky0; ky < ky1; ky++) {
                const float *xrow = j->x + (size_t)(iy0 + (ptrdiff_t)ky) * j->W * C;
                if (N == 1) direct_row_planar(acc, j, xrow, j->k + ky * KW * C, ix0);
                else direct_row(acc, j, xrow, wt + ky * KW * C * N, ix0);
            }
            for (size_t n = 0; n < N; n++) y[n] = nn_conv_act1(acc[n], j->act);
        }
    }
}

static void direct_run(const nn_conv_job *j) {
    const size_t N = j->N, K = j->KH * j->KW * j->C;
    float *wt = j->ws;
    for (size_t n = 0; n < N; n++)
        for (size_t t = 0; t < K; t++) wt[t * N + n] = j->k[n * K + t];
    size_t per_row = j->OW * N * K, grain = per_row ? 65536 / per_row + 1 : 1;
    nn_parallel_for(j->OH, grain, direct_rows, (void *)j);
}

/* The training kernels (nn_tile_body.h) on one-float "vectors": one fmaf per term, the same
 * bits as the SIMD levels'. The rest of the interface they use: */
#define VMASK int
#define V_MUL(a, b) ((a) * (b))
#define V_MAX(a, b) ((a) > (b) ? (a) : (b)) /* b where either is NaN, as maxps */
#define V_LT(a, b) ((a) < (b))
#define V_GE(a, b) ((a) >= (b))
#define V_BLEND(m, a, b) ((m) ? (b) : (a))
#define V_LOADN(p, n) ((void)(n), *(p))
#define V_STOREN(p, v, n) ((void)(n), *(p) = (v))
#define VIDX uint32_t
#define V_IDX(i) ((uint32_t)(i))
#define V_ISTOREN(p, v, n) ((void)(n), *(p) = (v))
#define V_IBLEND(m, a, b) ((m) ? (b) : (a))
#define V_TAKE(v, m) ((v) > (m) || (v) != (v))
#define TILE_SIZES1 T_SIZES_8
#define TILE_SIZES2 T_SIZES_4
#define TILE_SETS_SIZES1 T_SIZES_3
#define TILE_SETS_SIZES2 T_SIZES_1
#include "nn_tile_body.h"

static const nn_tile_ops tile_ops = {"generic", tile_corr, tile_dw, tile_colsum, tile_poolmax, tile_actgrad};

const nn_conv_isa nn_conv_isa_generic = {
    .name = "generic",
    .op = {[NN_CONV_FWD_WINOGRAD] = {wino_ws_floats, wino_run},
           [NN_CONV_FWD_PLANAR] = {direct_ws_floats, direct_run},
           [NN_CONV_FWD_BROADCAST] = {direct_ws_floats, direct_run}},
    .tile = &tile_ops,
};
