/* nn_conv_generic.c — the portable fast path (any CPU): weights repacked to [KH*KW*C, N] so the
 * innermost loop runs over output channels with unit stride (the compiler vectorises it),
 * padding handled by clipping the kernel window, output rows split across threads. */
#include <string.h>

#include "nn_conv_impl.h"
#include "nn_parallel.h"

size_t nn_conv_generic_ws_floats(const nn_conv_job *j) {
    /* packed weights + one accumulator row of N per thread; sizes were overflow-checked by
     * nn_conv_output_size except the thread multiple, checked here. */
    size_t K = j->KH * j->KW * j->C, wk = K * j->N, acc;
    if (__builtin_mul_overflow(j->threads, j->N, &acc) || __builtin_add_overflow(wk, acc, &acc))
        return (size_t)-1;
    return acc;
}

static void rows(void *ctx, size_t begin, size_t end, size_t worker) {
    const nn_conv_job *j = ctx;
    const size_t N = j->N, C = j->C, K = j->KH * j->KW * C;
    const float *wt = j->ws;
    float *acc = j->ws + K * N + worker * N;
    for (size_t oy = begin; oy < end; oy++)
        for (size_t ox = 0; ox < j->OW; ox++) {
            for (size_t n = 0; n < N; n++) acc[n] = j->bias ? j->bias[n] : 0.0f;
            for (size_t ky = 0; ky < j->KH; ky++) {
                size_t iy = oy * j->sh + ky;
                if (iy < j->ph || iy - j->ph >= j->H) continue;
                iy -= j->ph;
                for (size_t kx = 0; kx < j->KW; kx++) {
                    size_t ix = ox * j->sw + kx;
                    if (ix < j->pw || ix - j->pw >= j->W) continue;
                    ix -= j->pw;
                    const float *xp = j->x + (iy * j->W + ix) * C;
                    const float *wp = wt + (ky * j->KW + kx) * C * N;
                    for (size_t c = 0; c < C; c++) {
                        float v = xp[c];
                        const float *w = wp + c * N;
                        for (size_t n = 0; n < N; n++) acc[n] += v * w[n];
                    }
                }
            }
            nn_act_forward(j->y + (oy * j->OW + ox) * N, acc, N, j->act);
        }
}

void nn_conv_generic_run(const nn_conv_job *j) {
    const size_t N = j->N, K = j->KH * j->KW * j->C;
    float *wt = j->ws;
    for (size_t n = 0; n < N; n++)
        for (size_t t = 0; t < K; t++) wt[t * N + n] = j->k[n * K + t];
    size_t per_row = j->OW * N * K, grain = per_row ? 65536 / per_row + 1 : 1;
    nn_parallel_for(j->OH, grain, rows, (void *)j);
}
