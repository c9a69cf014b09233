/* test_grad_pool.c — batched pooling forward and backward (nn_pool_batch.h): PyTorch autograd
 * fixtures (ties included: the gradient goes to the first maximum), the argmax scatter against
 * the recomputing backward and against the per-image references (nn_pool2d_naive,
 * nn_pool2d_backward) on random shapes, finite differences of the forward, NaN windows,
 * gradients added, and every error. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "grad_test.h"
#include "nn_cpu.h"
#include "nn_parallel.h"
#include "nn_pool_batch.h"
#include "nn_rng.h"
#include "nn_tile.h"

static const int impls[] = {NN_SIMD_GENERIC, NN_SIMD_AVX2, NN_SIMD_AVX512};

static float *rand_levels(nn_rng *r, size_t n, int levels) {
    float *a = malloc((n ? n : 1) * sizeof *a);
    cr_assert_not_null(a);
    for (size_t i = 0; i < n; i++) /* levels > 0: few distinct values, so windows tie */
        a[i] = levels ? (float)nn_rng_range(r, 0, (uint64_t)levels - 1) : 2.0f * nn_rng_uniformf(r) - 1.0f;
    return a;
}

static size_t num(const cJSON *c, const char *key, int i) {
    return (size_t)cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(c, key), i)->valuedouble;
}

/* Every case of grad_pool.json: forward (with and without argmax) and backward (from argmax
 * and recomputed), each within 1e-6 of PyTorch's float64 autograd, on the given path. */
static void run_fixtures(int impl) {
    nn_cpu_set_simd(impl);
    cJSON *doc = fx_require("grad_pool.json");
    int count = 0, ties = 0;
    for (const cJSON *c = fx_cases(doc); c; c = c->next) {
        size_t xs[8], nd, ny, nx;
        float *x = fx_tensor_f32(c, "input", xs, &nd, &nx);
        float *dy = fx_tensor_f32(c, "grad_output", NULL, NULL, NULL);
        double *want_y = fx_tensor_f64(c, "output", NULL, NULL, &ny);
        double *want_dx = fx_tensor_f64(c, "grad_input", NULL, NULL, NULL);
        const char *name = fx_str(c, "name");
        nn_pool_kind kind;
        cr_assert_eq(nn_pool_parse(fx_str(c, "function"), &kind, NULL), NN_OK);
        int global = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "global"));
        ties += strstr(name, "ties") != NULL;
        size_t B = xs[0], H = xs[1], W = xs[2], C = xs[3];
        nn_pool_params p = {kind, 0, 0, 0, 0};
        if (!global) p = (nn_pool_params){kind, num(c, "size", 0), num(c, "size", 1), num(c, "stride", 0), num(c, "stride", 1)};
        for (int with_argmax = 0; with_argmax < 2; with_argmax++) {
            float *y = gt_zeros(ny), *dx = gt_zeros(nx);
            uint32_t *am = with_argmax && kind == NN_POOL_MAX ? malloc(ny * sizeof *am) : NULL;
            nn_error err;
            nn_code rc = global ? nn_global_pool_batch_forward(y, am, x, B, H, W, C, kind, &err)
                                : nn_pool_batch_forward(y, am, x, B, H, W, C, &p, &err);
            cr_assert_eq(rc, NN_OK, "%s: %s", name, err.message);
            rc = global ? nn_global_pool_batch_backward(dx, dy, am, x, B, H, W, C, kind, &err)
                        : nn_pool_batch_backward(dx, dy, am, x, B, H, W, C, &p, &err);
            cr_assert_eq(rc, NN_OK, "%s: %s", name, err.message);
            double ey = fx_max_rel_err_f32(y, want_y, ny, 1.0), ex = fx_max_rel_err_f32(dx, want_dx, nx, 1.0);
            cr_expect(ey <= 1e-6 && ex <= 1e-6, "%s (argmax %d): y %.3g dx %.3g", name, with_argmax, ey, ex);
            free(y), free(dx), free(am);
        }
        free(x), free(dy), free(want_y), free(want_dx);
        count++;
    }
    cr_assert_geq(count, 20);
    cr_assert_geq(ties, 6);
    cJSON_Delete(doc);
}

Test(grad_pool, generic_matches_pytorch) { run_fixtures(NN_SIMD_GENERIC); }
Test(grad_pool, avx2_matches_pytorch) { run_fixtures(NN_SIMD_AVX2); }
Test(grad_pool, avx512_matches_pytorch) { run_fixtures(NN_SIMD_AVX512); }

/* Random shapes, values with many ties, overlapping windows, every path: forward values equal
 * nn_pool2d_naive's, both backwards equal nn_pool2d_backward's (exactly: the same adds in the
 * same order for max; average within rounding), on one and two threads. */
Test(grad_pool, batch_matches_per_image_references) {
    nn_rng r;
    nn_rng_seed(&r, 21);
    for (int t = 0; t < 450; t++) {
        nn_cpu_set_simd(impls[t % 3]);
        nn_parallel_set_threads(t % 2 ? 1 : 0);
        size_t B = nn_rng_range(&r, 1, 6), H = nn_rng_range(&r, 1, 20), W = nn_rng_range(&r, 1, 20);
        size_t C = nn_rng_range(&r, 1, 3) == 1 ? nn_rng_range(&r, 65, 140) : nn_rng_range(&r, 1, 17);
        nn_pool_params p = {(nn_pool_kind)nn_rng_range(&r, 0, 1), nn_rng_range(&r, 1, 4), nn_rng_range(&r, 1, 4),
                            nn_rng_range(&r, 1, 4), nn_rng_range(&r, 1, 4)};
        size_t OH, OW;
        if (nn_pool_output_size(H, W, C, &p, &OH, &OW, NULL) != NN_OK) { t--; continue; }
        size_t in = H * W * C, out = OH * OW * C;
        float *x = rand_levels(&r, B * in, t % 3 ? 3 : 0), *dy = rand_levels(&r, B * out, 0);
        float *y = gt_zeros(B * out), *dx1 = gt_zeros(B * in), *dx2 = gt_zeros(B * in), *yr = gt_zeros(out), *dxr = gt_zeros(in);
        uint32_t *am = malloc(B * out * sizeof *am);
        cr_assert_eq(nn_pool_batch_forward(y, p.kind == NN_POOL_MAX ? am : NULL, x, B, H, W, C, &p, NULL), NN_OK);
        cr_assert_eq(nn_pool_batch_backward(dx1, dy, p.kind == NN_POOL_MAX ? am : NULL, x, B, H, W, C, &p, NULL), NN_OK);
        cr_assert_eq(nn_pool_batch_backward(dx2, dy, NULL, x, B, H, W, C, &p, NULL), NN_OK);
        for (size_t b = 0; b < B; b++) {
            memset(dxr, 0, in * sizeof *dxr);
            cr_assert_eq(nn_pool2d_naive(yr, x + b * in, H, W, C, &p, NULL), NN_OK);
            cr_assert_eq(nn_pool2d_backward(dxr, dy + b * out, x + b * in, H, W, C, &p, NULL), NN_OK);
            for (size_t i = 0; i < out; i++)
                cr_assert(fabsf(y[b * out + i] - yr[i]) <= 1e-6f * fmaxf(1.0f, fabsf(yr[i])), "trial %d y[%zu]", t, i);
            for (size_t i = 0; i < in; i++) {
                float d1 = dx1[b * in + i], d2 = dx2[b * in + i], tol = p.kind == NN_POOL_MAX ? 0.0f : 1e-6f;
                cr_assert(fabsf(d1 - dxr[i]) <= tol && fabsf(d2 - dxr[i]) <= tol,
                          "trial %d %s b%zu %zux%zux%zu k%zux%zu s%zux%zu: dx[%zu] %g / %g, reference %g", t,
                          nn_pool_name(p.kind), B, H, W, C, p.size_h, p.size_w, p.stride_h, p.stride_w, i, d1, d2, dxr[i]);
            }
        }
        free(x), free(dy), free(y), free(dx1), free(dx2), free(yr), free(dxr), free(am);
    }
}

/* Global pooling: forward as nn_global_pool_naive; backward against its definition. */
Test(grad_pool, global_matches_definition) {
    nn_rng r;
    nn_rng_seed(&r, 22);
    for (int t = 0; t < 150; t++) {
        nn_cpu_set_simd(impls[t % 3]);
        size_t B = nn_rng_range(&r, 1, 5), H = nn_rng_range(&r, 1, 12), W = nn_rng_range(&r, 1, 12), C = nn_rng_range(&r, 1, 80);
        nn_pool_kind kind = (nn_pool_kind)(t / 3 % 2);
        float *x = rand_levels(&r, B * H * W * C, t % 4 < 2 ? 2 : 0), *dy = rand_levels(&r, B * C, 0);
        float *y = gt_zeros(B * C), *yr = gt_zeros(C), *dx = gt_zeros(B * H * W * C);
        uint32_t *am = malloc(B * C * sizeof *am);
        int use_am = kind == NN_POOL_MAX && t % 3;
        cr_assert_eq(nn_global_pool_batch_forward(y, use_am ? am : NULL, x, B, H, W, C, kind, NULL), NN_OK);
        cr_assert_eq(nn_global_pool_batch_backward(dx, dy, use_am ? am : NULL, x, B, H, W, C, kind, NULL), NN_OK);
        for (size_t b = 0; b < B; b++) {
            cr_assert_eq(nn_global_pool_naive(yr, x + b * H * W * C, H, W, C, kind, NULL), NN_OK);
            for (size_t c = 0; c < C; c++) {
                cr_assert(fabsf(y[b * C + c] - yr[c]) <= 1e-6f, "trial %d y", t);
                size_t first = SIZE_MAX; /* the first pixel holding the maximum */
                for (size_t px = 0; px < H * W && kind == NN_POOL_MAX; px++)
                    if (x[(b * H * W + px) * C + c] == yr[c]) { first = px; break; }
                for (size_t px = 0; px < H * W; px++) {
                    float want = kind == NN_POOL_MAX ? (px == first ? dy[b * C + c] : 0.0f) : dy[b * C + c] / (float)(H * W);
                    cr_assert(fabsf(dx[(b * H * W + px) * C + c] - want) <= 1e-7f, "trial %d px %zu c %zu", t, px, c);
                }
            }
        }
        free(x), free(dy), free(y), free(yr), free(dx), free(am);
    }
}

/* A NaN in a window is its maximum and takes the gradient (the last NaN, as PyTorch's rule
 * `v > m || isnan(v)` gives); gradients are added to what dx held. */
/* ---- finite differences ---- */

/* L = sum(dy * pool(x)) in double, pool by the library's forward (windowed, or global when
 * p is NULL). */
static double pool_loss(const float *x, const float *dy, float *y, size_t B, size_t H, size_t W, size_t C,
                        const nn_pool_params *p, nn_pool_kind kind, size_t ny) {
    nn_code rc = p ? nn_pool_batch_forward(y, NULL, x, B, H, W, C, p, NULL)
                   : nn_global_pool_batch_forward(y, NULL, x, B, H, W, C, kind, NULL);
    cr_assert_eq(rc, NN_OK);
    double L = 0;
    for (size_t i = 0; i < ny; i++) L += (double)dy[i] * y[i];
    return L;
}

/* The backward of max, average, overlapping and global pooling against central differences
 * of the forward. The inputs are a shuffled ladder 0.05 apart, so no maximum changes within
 * +-h (max pooling is piecewise linear: the quotient is then exact up to rounding). */
Test(grad_pool, backward_matches_finite_differences) {
    nn_rng r;
    nn_rng_seed(&r, 77);
    for (int t = 0; t < 24; t++) {
        size_t B = nn_rng_range(&r, 1, 2), H = nn_rng_range(&r, 3, 7), W = nn_rng_range(&r, 3, 7), C = nn_rng_range(&r, 1, 3);
        size_t nx = B * H * W * C, k = nn_rng_range(&r, 1, 3), s = nn_rng_range(&r, 1, k);
        nn_pool_kind kind = t % 2 ? NN_POOL_MAX : NN_POOL_AVG;
        nn_pool_params p = {kind, k, k, s, s};
        const nn_pool_params *pp = t % 6 >= 4 ? NULL : &p; /* every third pair global */
        size_t ny = pp ? B * ((H - k) / s + 1) * ((W - k) / s + 1) * C : B * C;
        float *x = gt_zeros(nx), *dy = gt_uniform(&r, ny, 1), *y = gt_zeros(ny), *dx = gt_zeros(nx);
        for (size_t i = 0; i < nx; i++) x[i] = 0.05f * (float)i;
        for (size_t i = nx - 1; i > 0; i--) { /* Fisher-Yates */
            size_t j = nn_rng_range(&r, 0, i);
            float v = x[i];
            x[i] = x[j], x[j] = v;
        }
        cr_assert_eq(pp ? nn_pool_batch_backward(dx, dy, NULL, x, B, H, W, C, pp, NULL)
                        : nn_global_pool_batch_backward(dx, dy, NULL, x, B, H, W, C, kind, NULL), NN_OK);
        for (size_t i = 0; i < nx; i++) {
            const float h = 0.01f, keep = x[i];
            x[i] = keep + h;
            double up = pool_loss(x, dy, y, B, H, W, C, pp, kind, ny);
            x[i] = keep - h;
            double down = pool_loss(x, dy, y, B, H, W, C, pp, kind, ny);
            x[i] = keep;
            double fd = (up - down) / (double)((keep + h) - (keep - h));
            cr_assert(fabs(dx[i] - fd) <= 1e-4 * fmax(1, fabs(fd)), "trial %d (%s%s k %zu s %zu) x[%zu]: %.7g vs %.7g",
                      t, pp ? "" : "global ", kind == NN_POOL_MAX ? "max" : "avg", k, s, i, dx[i], fd);
        }
        free(x), free(dy), free(y), free(dx);
    }
}

Test(grad_pool, nan_takes_the_gradient_and_backward_adds) {
    float x[8] = {1, NAN, 3, 3, 0, NAN, 2, 9}; /* 2x4x1: windows 2x2 */
    float y[2], dy[2] = {10, 20}, dx[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    uint32_t am[2];
    nn_pool_params p = {NN_POOL_MAX, 2, 2, 2, 2};
    cr_assert_eq(nn_pool_batch_forward(y, am, x, 1, 2, 4, 1, &p, NULL), NN_OK);
    cr_assert(isnan(y[0]) && y[1] == 9.0f);
    cr_assert_eq(am[0], 5u); /* the later NaN */
    cr_assert_eq(am[1], 7u);
    cr_assert_eq(nn_pool_batch_backward(dx, dy, am, NULL, 1, 2, 4, 1, &p, NULL), NN_OK);
    float want[8] = {1, 1, 1, 1, 1, 11, 1, 21};
    cr_assert(!memcmp(dx, want, sizeof want));
    /* ties: the first in scan order */
    float t[4] = {2, 2, 2, 2}, g = 5, d[4] = {0};
    cr_assert_eq(nn_pool_batch_forward(y, am, t, 1, 2, 2, 1, &p, NULL), NN_OK);
    cr_assert_eq(am[0], 0u);
    cr_assert_eq(nn_pool_batch_backward(d, &g, NULL, t, 1, 2, 2, 1, &p, NULL), NN_OK);
    cr_assert(d[0] == 5 && d[1] == 0 && d[2] == 0 && d[3] == 0);
}

Test(grad_pool, validation_errors_name_the_field) {
    float buf[64] = {0};
    uint32_t am[64];
    nn_error err;
    nn_pool_params p = {NN_POOL_MAX, 2, 2, 2, 2};
    gt_expect_error(nn_pool_batch_forward(buf, am, buf, 0, 4, 4, 1, &p, &err), NN_INVALID, &err, "batch");
    gt_expect_error(nn_pool_batch_forward(NULL, am, buf, 1, 4, 4, 1, &p, &err), NN_INVALID, &err, "output");
    gt_expect_error(nn_pool_batch_forward(buf, am, NULL, 1, 4, 4, 1, &p, &err), NN_INVALID, &err, "input");
    gt_expect_error(nn_pool_batch_backward(buf, NULL, am, buf, 1, 4, 4, 1, &p, &err), NN_INVALID, &err, "grad_output");
    gt_expect_error(nn_pool_batch_backward(buf, buf, NULL, NULL, 1, 4, 4, 1, &p, &err), NN_INVALID, &err, "input");
    gt_expect_error(nn_pool_batch_forward(buf, am, buf, 1, 1, 4, 1, &p, &err), NN_INVALID, &err, "size");
    gt_expect_error(nn_pool_batch_forward(buf, am, buf, SIZE_MAX / 8, 4, 4, 4, &p, &err), NN_TOO_LARGE, &err, "input");
    gt_expect_error(nn_pool_batch_forward(buf, am, buf, 1, 1u << 17, 1u << 17, 1, &p, &err), NN_TOO_LARGE, &err, "input");
    gt_expect_error(nn_global_pool_batch_forward(buf, am, buf, 1, 2, 2, 1, (nn_pool_kind)7, &err), NN_INVALID, &err, "function");
    gt_expect_error(nn_global_pool_batch_forward(buf, am, buf, 1, 0, 2, 1, NN_POOL_MAX, &err), NN_INVALID, &err, "input");
    gt_expect_error(nn_global_pool_batch_backward(buf, buf, NULL, NULL, 1, 2, 2, 1, NN_POOL_MAX, &err), NN_INVALID, &err, "input");
    p.kind = NN_POOL_AVG; /* the average needs neither argmax nor x */
    cr_assert_eq(nn_pool_batch_backward(buf, buf, NULL, NULL, 1, 4, 4, 1, &p, &err), NN_OK);
}
