/* nn_conv_generic.c — the portable fast path (any CPU): weights repacked to [KH*KW*C, N] so the
 * innermost loop runs over output channels with unit stride, one fmaf per term (see rows),
 * rows in the vertical padding skipped, output rows split across threads. Layers that
 * nn_conv_wino_applies() admits run the shared Winograd body instead, one filter per lane. */
#include "nn_conv_impl.h"
#include "nn_parallel.h"

/* 3x3 stride 1, few channels, many filters: Winograd (nn_conv_wino_body.h), lane = filter */
#define WT
#define WV float
#define WL 1
#define WNV 16
#define W_LOAD(p) (*(p))
#define W_LOADU(p) (*(p))
#define W_STORE(p, v) (*(p) = (v))
#define W_STOREU(p, v) (*(p) = (v))
#define W_BCAST(p) (*(p))
#define W_ZERO() 0.0f
#define W_ADD(a, b) ((a) + (b))
#define W_SUB(a, b) ((a) - (b))
#define W_FMA(a, b, c) fmaf(a, b, c)
#define W_PUT(p, v, stream) ((void)(stream), *(p) = (v))
#define W_ACT(v, act) nn_conv_act1(v, act)
#define W_CAN_STREAM 0
#define W_FENCE() ((void)0)
#include "nn_conv_wino_body.h"

static size_t direct_ws_floats(const nn_conv_job *j) {
    /* packed weights + one accumulator row of N per thread; sizes were overflow-checked by
     * nn_conv_output_size except the thread multiple, checked here. */
    size_t K = j->KH * j->KW * j->C, wk = K * j->N, acc;
    if (__builtin_mul_overflow(j->threads, j->N, &acc) || __builtin_add_overflow(wk, acc, &acc))
        return (size_t)-1;
    return acc;
}

/* The accumulation order and activation of nn_conv_impl.h, one output pixel at a time, so the
 * result is bit-identical to the SIMD kernels; fmaf is exact even where it is computed in
 * software. Taps in the horizontal padding are fused in as zeros, as the SIMD kernels do
 * (fma(0, w, -0) is +0, so skipping them would not be the same). */
static void rows(void *ctx, size_t begin, size_t end, size_t worker) {
    const nn_conv_job *j = ctx;
    const size_t N = j->N, C = j->C, KW = j->KW, K = j->KH * KW * C;
    const float *wt = j->ws;
    float *acc = j->ws + K * N + worker * N;
    size_t meter = 0;
    for (size_t oy = begin; oy < end; oy++) {
        ptrdiff_t iy0;
        size_t ky0, ky1;
        nn_conv_kernel_rows(j, oy, &iy0, &ky0, &ky1);
        for (size_t ox = 0; ox < j->OW; ox++) {
            if (nn_cancel_tick(&meter, N * K + 1)) return;
            float *y = j->y + (oy * j->OW + ox) * N;
            ptrdiff_t ix0 = (ptrdiff_t)(ox * j->sw) - (ptrdiff_t)j->pw;
            for (size_t n = 0; n < N; n++) acc[n] = j->bias ? j->bias[n] : 0.0f;
            for (size_t ky = ky0; ky < ky1; ky++) {
                const float *xrow = j->x + (size_t)(iy0 + (ptrdiff_t)ky) * j->W * C;
                if (N == 1) {
                    /* planar order: channel outer, kernel column inner */
                    const float *kr = j->k + ky * KW * C;
                    for (size_t c = 0; c < C; c++)
                        for (size_t kx = 0; kx < KW; kx++) {
                            ptrdiff_t ix = ix0 + (ptrdiff_t)kx;
                            float v = ix >= 0 && ix < (ptrdiff_t)j->W ? xrow[(size_t)ix * C + c] : 0.0f;
                            acc[0] = fmaf(v, kr[kx * C + c], acc[0]);
                        }
                    continue;
                }
                for (size_t kx = 0; kx < KW; kx++) {
                    ptrdiff_t ix = ix0 + (ptrdiff_t)kx;
                    int inside = ix >= 0 && ix < (ptrdiff_t)j->W;
                    const float *xp = xrow + (inside ? (size_t)ix * C : 0);
                    const float *wp = wt + (ky * KW + kx) * C * N;
                    for (size_t c = 0; c < C; c++) {
                        float v = inside ? xp[c] : 0.0f;
                        const float *w = wp + c * N;
                        for (size_t n = 0; n < N; n++) acc[n] = fmaf(v, w[n], acc[n]);
                    }
                }
            }
            for (size_t n = 0; n < N; n++) y[n] = nn_conv_act1(acc[n], j->act);
        }
    }
}

size_t nn_conv_generic_ws_floats(const nn_conv_job *j) {
    return nn_conv_wino_applies(j) ? wino_ws_floats(j) : direct_ws_floats(j);
}

void nn_conv_generic_run(const nn_conv_job *j) {
    if (nn_conv_wino_applies(j)) {
        wino_run(j);
        return;
    }
    const size_t N = j->N, K = j->KH * j->KW * j->C;
    float *wt = j->ws;
    for (size_t n = 0; n < N; n++)
        for (size_t t = 0; t < K; t++) wt[t * N + n] = j->k[n * K + t];
    size_t per_row = j->OW * N * K, grain = per_row ? 65536 / per_row + 1 : 1;
    nn_parallel_for(j->OH, grain, rows, (void *)j);
}
