/* nn_conv.c — convolution entry points: validation, workspace, the naive reference, and the
 * one place the fast path is chosen (the operation from the shapes, the table from the SIMD
 * level; nn_conv_dispatch.h); see nn_conv.h. */
#include "nn_conv.h"

#include <stdlib.h>
#include <string.h>

#include "nn_cancel.h"
#include "nn_conv_act.h"
#include "nn_conv_dispatch.h"
#include "nn_conv_wino.h"
#include "nn_cpu.h"
#include "nn_parallel.h"

nn_code nn_workspace_reserve(nn_workspace *ws, size_t bytes, nn_error *err) {
    if (!ws) return nn_fail(err, NN_INVALID, "workspace", "workspace must not be NULL");
    if (ws->data && ws->size >= bytes) return NN_OK;
    size_t rounded;
    if (nn_size_add(bytes, 63, &rounded))
        return nn_fail(err, NN_TOO_LARGE, "workspace", "workspace of %zu bytes is too large", bytes);
    rounded &= ~(size_t)63;
    if (rounded == 0) rounded = 64;
    void *p = aligned_alloc(64, rounded);
    if (!p) return nn_fail(err, NN_NOMEM, "workspace", "cannot allocate %zu bytes of workspace", rounded);
    free(ws->data);
    ws->data = p;
    ws->size = rounded;
    return NN_OK;
}

void nn_workspace_free(nn_workspace *ws) {
    if (!ws) return;
    free(ws->data);
    ws->data = NULL;
    ws->size = 0;
}

nn_code nn_conv_output_size(size_t H, size_t W, size_t C, size_t N, size_t KH, size_t KW,
                            const nn_conv_params *p, size_t *OH, size_t *OW, nn_error *err) {
    if (!p) return nn_fail(err, NN_INVALID, "params", "convolution parameters must not be NULL");
    if (p->stride_h == 0 || p->stride_w == 0)
        return nn_fail(err, NN_INVALID, "stride", "stride must be >= 1 (got %zux%zu)", p->stride_h,
                       p->stride_w);
    if (H == 0 || W == 0 || C == 0)
        return nn_fail(err, NN_INVALID, "input", "input must be non-empty (got %zux%zux%zu)", H, W, C);
    if (N == 0) return nn_fail(err, NN_INVALID, "kernel", "kernel count must be >= 1");
    if (KH == 0 || KW == 0)
        return nn_fail(err, NN_INVALID, "kernel", "kernel must be non-empty (got %zux%zu)", KH, KW);
    size_t padded_h, padded_w;
    if (nn_size_mul(p->pad_h, 2, &padded_h) || nn_size_add(padded_h, H, &padded_h) ||
        nn_size_mul(p->pad_w, 2, &padded_w) || nn_size_add(padded_w, W, &padded_w))
        return nn_fail(err, NN_TOO_LARGE, "padding", "padding %zux%zu is too large", p->pad_h, p->pad_w);
    if (KH > padded_h || KW > padded_w)
        return nn_fail(err, NN_INVALID, "kernel",
                       "kernel %zux%zu is larger than the padded input %zux%zu", KH, KW, padded_h,
                       padded_w);
    size_t oh = (padded_h - KH) / p->stride_h + 1, ow = (padded_w - KW) / p->stride_w + 1;
    size_t in_dims[4] = {H, W, C, sizeof(float)};
    size_t k_dims[5] = {N, KH, KW, C, sizeof(float)};
    size_t out_dims[4] = {oh, ow, N, sizeof(float)};
    size_t tmp;
    if (nn_size_prod(in_dims, 4, &tmp))
        return nn_fail(err, NN_TOO_LARGE, "input", "input %zux%zux%zu is too large", H, W, C);
    if (nn_size_prod(k_dims, 5, &tmp))
        return nn_fail(err, NN_TOO_LARGE, "kernel", "kernel bank %zux%zux%zux%zu is too large", N, KH,
                       KW, C);
    if (nn_size_prod(out_dims, 4, &tmp))
        return nn_fail(err, NN_TOO_LARGE, "output", "output %zux%zux%zu is too large", oh, ow, N);
    /* The kernels index with a few extra vector widths of slack per row. */
    if (padded_w > ((size_t)1 << 40) || padded_h > ((size_t)1 << 40))
        return nn_fail(err, NN_TOO_LARGE, "input", "input %zux%zu is too large", H, W);
    if (OH) *OH = oh;
    if (OW) *OW = ow;
    return NN_OK;
}

double nn_conv_flops(size_t OH, size_t OW, size_t N, size_t KH, size_t KW, size_t C) {
    return 2.0 * (double)OH * (double)OW * (double)N * (double)KH * (double)KW * (double)C;
}

nn_code nn_conv2d_naive(float *y, const float *x, const float *k, const float *bias,
                        size_t H, size_t W, size_t C, size_t N, size_t KH, size_t KW,
                        const nn_conv_params *p, nn_error *err) {
    size_t OH, OW;
    nn_code rc = nn_conv_output_size(H, W, C, N, KH, KW, p, &OH, &OW, err);
    if (rc) return rc;
    if (!y) return nn_fail(err, NN_INVALID, "output", "output must not be NULL");
    if (!x) return nn_fail(err, NN_INVALID, "input", "input must not be NULL");
    if (!k) return nn_fail(err, NN_INVALID, "kernel", "kernel must not be NULL");
    for (size_t oy = 0; oy < OH; oy++)
        for (size_t ox = 0; ox < OW; ox++)
            for (size_t n = 0; n < N; n++) {
                /* Double accumulation keeps the reference within float rounding of the truth. */
                double acc = bias ? bias[n] : 0.0;
                for (size_t ky = 0; ky < KH; ky++) {
                    size_t iy = oy * p->stride_h + ky; /* index into the padded input */
                    if (iy < p->pad_h || iy - p->pad_h >= H) continue;
                    iy -= p->pad_h;
                    for (size_t kx = 0; kx < KW; kx++) {
                        size_t ix = ox * p->stride_w + kx;
                        if (ix < p->pad_w || ix - p->pad_w >= W) continue;
                        ix -= p->pad_w;
                        const float *xp = x + (iy * W + ix) * C;
                        const float *kp = k + ((n * KH + ky) * KW + kx) * C;
                        for (size_t c = 0; c < C; c++) acc += (double)xp[c] * (double)kp[c];
                    }
                }
                y[(oy * OW + ox) * N + n] = nn_act_scalar((float)acc, p->act);
            }
    return NN_OK;
}

/* ---- the fast path: the operation is chosen here once, run through the SIMD level's table
 * (nn_conv_dispatch.h) ---- */

nn_conv_op nn_conv_choose(const nn_conv_job *j) {
    if (nn_conv_wino_applies(j)) return NN_CONV_FWD_WINOGRAD;
    return j->N == 1 ? NN_CONV_FWD_PLANAR : NN_CONV_FWD_BROADCAST;
}

static const nn_conv_isa *isa_at(nn_simd level) {
#ifdef NN_CPU_X86
    if (level == NN_SIMD_AVX512) return &nn_conv_isa_avx512;
    if (level == NN_SIMD_AVX2) return &nn_conv_isa_avx2;
#endif
    (void)level;
    return &nn_conv_isa_generic;
}

const nn_conv_kernel *nn_conv_kernel_at(nn_simd level, nn_conv_op op) {
    for (int l = (int)level; l >= NN_SIMD_GENERIC; l--) {
        const nn_conv_kernel *kern = &isa_at((nn_simd)l)->op[op];
        if (kern->run) return kern;
    }
    return NULL;
}

const nn_conv_kernel *nn_conv_kernel_for(nn_conv_op op) { return nn_conv_kernel_at(nn_cpu_simd(), op); }

const nn_tile_ops *nn_tile_ops_at(nn_simd level) {
    for (int l = (int)level; l >= NN_SIMD_GENERIC; l--)
        if (isa_at((nn_simd)l)->tile) return isa_at((nn_simd)l)->tile;
    return NULL; /* not reached: the portable table has one */
}

const nn_tile_ops *nn_tile_pick(void) { return nn_tile_ops_at(nn_cpu_simd()); }

/* One call of the fast path: its job, the kernel chosen for it, the scratch it needs. */
typedef struct conv_call {
    nn_conv_job j;
    const nn_conv_kernel *kern;
    size_t floats;
} conv_call;

/* Validate, fill the job's shapes, pick its kernel and size its scratch. */
static nn_code prepare(conv_call *c, size_t H, size_t W, size_t C, size_t N, size_t KH, size_t KW,
                       const nn_conv_params *p, nn_error *err) {
    size_t OH, OW, bytes;
    nn_code rc = nn_conv_output_size(H, W, C, N, KH, KW, p, &OH, &OW, err);
    if (rc) return rc;
    c->j = (nn_conv_job){.H = H, .W = W, .C = C, .N = N, .KH = KH, .KW = KW, .OH = OH, .OW = OW,
                         .sh = p->stride_h, .sw = p->stride_w, .ph = p->pad_h, .pw = p->pad_w,
                         .act = p->act, .threads = nn_parallel_threads()};
    c->kern = nn_conv_kernel_for(nn_conv_choose(&c->j));
    c->floats = c->kern->ws_floats(&c->j);
    if (c->floats == SIZE_MAX || nn_size_mul(c->floats, sizeof(float), &bytes))
        return nn_fail(err, NN_TOO_LARGE, "input", "convolution workspace is too large");
    return NN_OK;
}

nn_code nn_conv_workspace_size(size_t H, size_t W, size_t C, size_t N, size_t KH, size_t KW,
                               const nn_conv_params *p, size_t *bytes, nn_error *err) {
    conv_call c;
    nn_code rc = prepare(&c, H, W, C, N, KH, KW, p, err);
    if (rc == NN_OK && bytes) *bytes = c.floats * sizeof(float);
    return rc;
}

nn_code nn_conv2d_forward(float *y, const float *x, const float *k, const float *bias,
                          size_t H, size_t W, size_t C, size_t N, size_t KH, size_t KW,
                          const nn_conv_params *p, nn_workspace *ws, nn_error *err) {
    conv_call c;
    nn_code rc = prepare(&c, H, W, C, N, KH, KW, p, err);
    if (rc) return rc;
    if (!y) return nn_fail(err, NN_INVALID, "output", "output must not be NULL");
    if (!x) return nn_fail(err, NN_INVALID, "input", "input must not be NULL");
    if (!k) return nn_fail(err, NN_INVALID, "kernel", "kernel must not be NULL");
    c.j.y = y, c.j.x = x, c.j.k = k, c.j.bias = bias;
    nn_workspace local = {0};
    nn_workspace *w = ws ? ws : &local;
    if (c.floats) {
        rc = nn_workspace_reserve(w, c.floats * sizeof(float), err);
        if (rc) return rc;
        c.j.ws = w->data;
    }
    c.kern->run(&c.j);
    nn_workspace_free(&local);
    if (nn_cancelled()) return nn_fail(err, NN_CANCELLED, "cancelled", "the convolution was cancelled");
    return NN_OK;
}
