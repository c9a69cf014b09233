/* nn_conv_planar_body.h — the "planar" kernel for one output channel (N = 1,
 * NN_CONV_FWD_PLANAR), written once over the vector interface (nn_conv_vec.h) and the
 * activations (nn_conv_act_body.h).
 *
 * The input is first deinterleaved into zero-padded planes, one per (channel, row, stride
 * phase a kernel column can reach: min(sw, KW), so a stride far wider than the kernel costs no
 * scratch for columns no output reads), so VL consecutive output columns read VL consecutive
 * floats; each tap is one
 * broadcast weight and four FMAs on 4 * VL output pixels. Rows are split across the threads.
 *
 * The including file may define PL_FILL_RGB_ROW(d0, d1, d2, src, pw, W, Wq): one input row of
 * a 3-channel, stride-1 job split into its three plane rows, faster than the generic fill. */
#include <string.h>

#include "nn_cancel.h"
#include "nn_conv_vec.h"
#include "nn_parallel.h"
#include "nn_status.h"

typedef struct pl_plan {
    const nn_conv_job *j;
    float *planes; /* [C][H][phases][Wq] */
    size_t Wq;
} pl_plan;

/* Row length of one zero-padded plane, with slack for whole vectors past the last output
 * column. */
static size_t pl_wq(const nn_conv_job *j) {
    size_t wp = j->W + 2 * j->pw;
    return (wp + j->sw - 1) / j->sw + j->KW + 64 + 15;
}

/* Stride phases a kernel column reaches: kx % sw for kx < KW. */
static size_t pl_phases(const nn_conv_job *j) { return j->sw < j->KW ? j->sw : j->KW; }

static size_t pl_ws_floats(const nn_conv_job *j) {
    size_t f;
    size_t dims[4] = {j->C, j->H, pl_phases(j), pl_wq(j)};
    if (nn_size_prod(dims, 4, &f)) return SIZE_MAX;
    return f;
}

/* dst[i] = x[iy, i*sw + ph - pw, c] for i < Wq, zero outside the input. */
static void pl_fill_row(float *dst, const float *src_row, size_t C, size_t c, size_t sw, size_t ph, size_t pw,
                        size_t W, size_t Wq) {
    /* valid i: 0 <= i*sw + ph - pw < W */
    size_t lo = pw > ph ? (pw - ph + sw - 1) / sw : 0;
    size_t hi = (W + pw - ph + sw - 1) / sw;
    if (hi > Wq) hi = Wq;
    if (lo > hi) lo = hi;
    memset(dst, 0, lo * sizeof *dst);
    const float *src = src_row + c + (lo * sw + ph - pw) * C;
    const size_t step = sw * C;
    size_t i = lo;
    /* four at a time: a one-float loop is bound by its branch, and its speed then depends on
     * where the loop lands in memory (up to 1.3x on 256x256x3 with AVX2, measured) */
    for (; i + 4 <= hi; i += 4, src += 4 * step) {
        dst[i] = src[0];
        dst[i + 1] = src[step];
        dst[i + 2] = src[2 * step];
        dst[i + 3] = src[3 * step];
    }
    for (; i < hi; i++, src += step) dst[i] = *src;
    memset(dst + hi, 0, (Wq - hi) * sizeof *dst);
}

static VT void pl_fill(void *ctx, size_t begin, size_t end, size_t worker) {
    (void)worker;
    const pl_plan *pl = ctx;
    const nn_conv_job *j = pl->j;
    const size_t C = j->C, sw = j->sw, Wq = pl->Wq, phases = pl_phases(j);
    for (size_t iy = begin; iy < end; iy++) {
        if (nn_cancelled()) return; /* a row is C * phases * Wq floats */
        const float *src = j->x + iy * j->W * C;
#ifdef PL_FILL_RGB_ROW
        if (C == 3 && sw == 1) {
            PL_FILL_RGB_ROW(pl->planes + (0 * j->H + iy) * Wq, pl->planes + (1 * j->H + iy) * Wq,
                            pl->planes + (2 * j->H + iy) * Wq, src, j->pw, j->W, Wq);
            continue;
        }
#endif
        for (size_t c = 0; c < C; c++)
            for (size_t ph = 0; ph < phases; ph++)
                pl_fill_row(pl->planes + ((c * j->H + iy) * phases + ph) * Wq, src, C, c, sw, ph, j->pw, j->W, Wq);
    }
}

static VT void pl_rows(void *ctx, size_t begin, size_t end, size_t worker) {
    (void)worker;
    const pl_plan *pl = ctx;
    const nn_conv_job *j = pl->j;
    const size_t C = j->C, KW = j->KW, sw = j->sw, Wq = pl->Wq, OW = j->OW, phases = pl_phases(j);
    const VEC bias = V_SET1(j->bias ? j->bias[0] : 0.0f);
    const VEC slope = V_SET1(j->act.negative_slope);
    size_t meter = 0;
    for (size_t oy = begin; oy < end; oy++) {
        ptrdiff_t iy0;
        size_t ky0, ky1;
        nn_conv_rows_inside(j, oy, &iy0, &ky0, &ky1);
        float *yrow = j->y + oy * OW;
        for (size_t ox = 0; ox < OW; ox += 4 * VL) {
            if (nn_cancel_tick(&meter, 4 * VL * ((ky1 - ky0) * KW * C + 1))) return;
            VEC a0 = bias, a1 = bias, a2 = bias, a3 = bias;
            for (size_t ky = ky0; ky < ky1; ky++) {
                size_t iy = (size_t)(iy0 + (ptrdiff_t)ky);
                for (size_t c = 0; c < C; c++) {
                    const float *plane = pl->planes + ((c * j->H + iy) * phases) * Wq + ox;
                    const float *kw = j->k + ky * KW * C + c;
                    for (size_t kx = 0; kx < KW; kx++) {
                        const float *src = plane + (kx % sw) * Wq + kx / sw;
                        VEC w = V_SET1(kw[kx * C]);
                        a0 = V_FMA(w, V_LOADU(src), a0);
                        a1 = V_FMA(w, V_LOADU(src + VL), a1);
                        a2 = V_FMA(w, V_LOADU(src + 2 * VL), a2);
                        a3 = V_FMA(w, V_LOADU(src + 3 * VL), a3);
                    }
                }
            }
            VEC acc[4] = {a0, a1, a2, a3};
            for (int v = 0; v < 4; v++) {
                size_t o = ox + (size_t)v * VL;
                if (o >= OW) break;
                V_MASKSTORE(yrow + o, V_MASK_FIRST(OW - o), v_act(acc[v], j->act.kind, slope));
            }
        }
    }
}

static VT void pl_run(const nn_conv_job *j) {
    pl_plan pl = {.j = j, .planes = j->ws, .Wq = pl_wq(j)};
    size_t row_in = j->W * j->C, grain_in = row_in ? 16384 / row_in + 1 : 1;
    nn_parallel_for(j->H, grain_in, pl_fill, &pl);
    nn_parallel_for(j->OH, nn_conv_row_grain((double)j->OW * (double)(j->KH * j->KW * j->C)), pl_rows, &pl);
}
