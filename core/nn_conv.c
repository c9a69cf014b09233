/* nn_conv.c — convolution entry points: validation, workspace, the naive reference, and the
 * run-time choice of fast kernel (AVX-512, AVX2 or portable C); see nn_conv.h. */
#include "nn_conv.h"

#include <stdlib.h>
#include <string.h>

#include "nn_conv_impl.h"
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

static int impl_in_use = -1;
static int pick_impl(void);

static int detect_impl(int want) {
    int v = NN_CONV_IMPL_GENERIC;
#ifdef NN_CONV_HAVE_X86
    __builtin_cpu_init();
    int has512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                 __builtin_cpu_supports("fma");
    int has2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (want == NN_CONV_IMPL_AUTO) {
        const char *force = getenv("NNLAB_SIMD"); /* "generic" | "avx2" | unset: the best available */
        want = !force                   ? NN_CONV_IMPL_AVX512
               : !strcmp(force, "generic") ? NN_CONV_IMPL_GENERIC
               : !strcmp(force, "avx2")    ? NN_CONV_IMPL_AVX2
                                           : NN_CONV_IMPL_AVX512;
    }
    if (want >= NN_CONV_IMPL_AVX512 && has512) v = NN_CONV_IMPL_AVX512;
    else if (want >= NN_CONV_IMPL_AVX2 && has2) v = NN_CONV_IMPL_AVX2;
#else
    (void)want;
#endif
    return v;
}

int nn_conv_set_impl(int impl) {
    impl_in_use = detect_impl(impl);
    return impl_in_use;
}

int nn_conv_impl_in_use(void) { return pick_impl(); }

static int pick_impl(void) {
    int v = impl_in_use;
    if (v >= 0) return v;
    v = detect_impl(NN_CONV_IMPL_AUTO);
    impl_in_use = v; /* benign race: every thread computes the same value */
    return v;
}

static nn_code prepare(nn_conv_job *j, float *y, const float *x, const float *k, const float *bias,
                       size_t H, size_t W, size_t C, size_t N, size_t KH, size_t KW,
                       const nn_conv_params *p, size_t *floats, nn_error *err) {
    size_t OH, OW;
    nn_code rc = nn_conv_output_size(H, W, C, N, KH, KW, p, &OH, &OW, err);
    if (rc) return rc;
    *j = (nn_conv_job){.y = y, .x = x, .k = k, .bias = bias, .H = H, .W = W, .C = C, .N = N,
                       .KH = KH, .KW = KW, .OH = OH, .OW = OW, .sh = p->stride_h,
                       .sw = p->stride_w, .ph = p->pad_h, .pw = p->pad_w, .act = p->act,
                       .threads = nn_parallel_threads()};
    size_t f;
    switch (pick_impl()) {
#ifdef NN_CONV_HAVE_X86
    case NN_CONV_IMPL_AVX512: f = nn_conv_avx512_ws_floats(j); break;
    case NN_CONV_IMPL_AVX2: f = nn_conv_avx2_ws_floats(j); break;
#endif
    default: f = nn_conv_generic_ws_floats(j); break;
    }
    if (f == SIZE_MAX) return nn_fail(err, NN_TOO_LARGE, "input", "convolution workspace is too large");
    *floats = f;
    return NN_OK;
}

nn_code nn_conv_workspace_size(size_t H, size_t W, size_t C, size_t N, size_t KH, size_t KW,
                               const nn_conv_params *p, size_t *bytes, nn_error *err) {
    nn_conv_job j;
    size_t f;
    nn_code rc = prepare(&j, NULL, NULL, NULL, NULL, H, W, C, N, KH, KW, p, &f, err);
    if (rc) return rc;
    if (nn_size_mul(f, sizeof(float), &f))
        return nn_fail(err, NN_TOO_LARGE, "input", "convolution workspace is too large");
    if (bytes) *bytes = f;
    return NN_OK;
}

nn_code nn_conv2d_forward(float *y, const float *x, const float *k, const float *bias,
                          size_t H, size_t W, size_t C, size_t N, size_t KH, size_t KW,
                          const nn_conv_params *p, nn_workspace *ws, nn_error *err) {
    nn_conv_job j;
    size_t f;
    nn_code rc = prepare(&j, y, x, k, bias, H, W, C, N, KH, KW, p, &f, err);
    if (rc) return rc;
    if (!y) return nn_fail(err, NN_INVALID, "output", "output must not be NULL");
    if (!x) return nn_fail(err, NN_INVALID, "input", "input must not be NULL");
    if (!k) return nn_fail(err, NN_INVALID, "kernel", "kernel must not be NULL");
    nn_workspace local = {0};
    nn_workspace *w = ws ? ws : &local;
    if (f) {
        size_t bytes;
        if (nn_size_mul(f, sizeof(float), &bytes))
            return nn_fail(err, NN_TOO_LARGE, "input", "convolution workspace is too large");
        rc = nn_workspace_reserve(w, bytes, err);
        if (rc) return rc;
        j.ws = w->data;
    }
    switch (pick_impl()) {
#ifdef NN_CONV_HAVE_X86
    case NN_CONV_IMPL_AVX512: nn_conv_avx512_run(&j); break;
    case NN_CONV_IMPL_AVX2: nn_conv_avx2_run(&j); break;
#endif
    default: nn_conv_generic_run(&j); break;
    }
    nn_workspace_free(&local);
    return NN_OK;
}
