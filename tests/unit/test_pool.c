/* test_pool.c — pooling: PyTorch fixtures (float64 reference) for windowed max/average pooling
 * (forward and backward) and global pooling, the fast kernels against the naive ones on random
 * shapes, thread-count independence, PyTorch's NaN rules, and every validation error. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "nn_cpu.h"
#include "nn_parallel.h"
#include "nn_pool.h"
#include "nn_rng.h"

/* Agreement: max |got - want| / max(|want|, 1e-2): relative error <= 1e-5, and for outputs below
 * 0.01 (sums of O(1) inputs that cancel) an absolute error <= 1e-7, float32's resolution. */
#define TOL 1e-5
#define FLOOR 1e-2

static nn_pool_params params(nn_pool_kind kind, size_t kh, size_t kw, size_t sh, size_t sw) {
    return (nn_pool_params){kind, kh, kw, sh, sw};
}

static void random_fill(float *x, size_t n, uint64_t seed) {
    nn_rng r;
    nn_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) x[i] = 2.0f * nn_rng_uniformf(&r) - 1.0f;
}

Test(pool, fixtures_match_pytorch) {
    cJSON *doc = fx_require("pool.json");
    const cJSON *c;
    int windowed = 0, global = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases")) {
        const char *name = fx_str(c, "name");
        size_t xs[8], ys[8], nd, ndy, nx, ny;
        float *x = fx_tensor_f32(c, "input", xs, &nd, &nx);
        double *want = fx_tensor_f64(c, "output", ys, &ndy, &ny);
        size_t H = xs[0], W = xs[1], C = nd == 3 ? xs[2] : 1; /* [H, W] maps are C = 1 */
        nn_pool_kind kind;
        nn_error err;
        cr_assert_eq(nn_pool_parse(fx_str(c, "function"), &kind, &err), NN_OK);
        float *y = malloc(ny * sizeof *y), *y2 = malloc(ny * sizeof *y2);
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "global"))) {
            cr_assert_eq(ny, C);
            cr_assert_eq(nn_global_pool_forward(y, x, H, W, C, kind, &err), NN_OK, "%s: %s", name, err.message);
            cr_assert_eq(nn_global_pool_naive(y2, x, H, W, C, kind, &err), NN_OK);
            global++;
        } else {
            const cJSON *sz = cJSON_GetObjectItemCaseSensitive(c, "size");
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(c, "stride");
            nn_pool_params p = params(kind, (size_t)cJSON_GetArrayItem(sz, 0)->valuedouble,
                                      (size_t)cJSON_GetArrayItem(sz, 1)->valuedouble,
                                      (size_t)cJSON_GetArrayItem(st, 0)->valuedouble,
                                      (size_t)cJSON_GetArrayItem(st, 1)->valuedouble);
            size_t OH, OW;
            cr_assert_eq(nn_pool_output_size(H, W, C, &p, &OH, &OW, &err), NN_OK, "%s", name);
            cr_assert_eq(OH, ys[0], "%s: OH %zu, torch %zu", name, OH, ys[0]);
            cr_assert_eq(OW, ys[1], "%s: OW %zu, torch %zu", name, OW, ys[1]);
            cr_assert_eq(ndy, nd);
            cr_assert_eq(nn_pool2d_forward(y, x, H, W, C, &p, &err), NN_OK, "%s: %s", name, err.message);
            cr_assert_eq(nn_pool2d_naive(y2, x, H, W, C, &p, &err), NN_OK);
            /* backward: gradient ADDED into dx */
            float *dy = fx_tensor_f32(c, "grad_output", NULL, NULL, NULL);
            double *dx_want = fx_tensor_f64(c, "grad_input", NULL, NULL, NULL);
            float *dx = malloc(nx * sizeof *dx);
            memset(dx, 0, nx * sizeof *dx);
            cr_assert_eq(nn_pool2d_backward(dx, dy, x, H, W, C, &p, &err), NN_OK);
            double e = fx_max_rel_err_f32(dx, dx_want, nx, FLOOR);
            cr_assert_leq(e, TOL, "%s: backward error %g", name, e);
            free(dy);
            free(dx_want);
            free(dx);
            windowed++;
        }
        double e = fx_max_rel_err_f32(y, want, ny, FLOOR), e2 = fx_max_rel_err_f32(y2, want, ny, FLOOR);
        cr_assert_leq(e, TOL, "%s: fast error %g", name, e);
        cr_assert_leq(e2, TOL, "%s: naive error %g", name, e2);
        free(x);
        free(want);
        free(y);
        free(y2);
    }
    cr_assert_geq(windowed, 15);
    cr_assert_geq(global, 7);
    cJSON_Delete(doc);
}

/* The fast kernel against the naive one on random shapes, including inputs big enough to be
 * split over threads; with every channel count's SIMD/tail mix. */
Test(pool, fast_matches_naive_random) {
    nn_rng r;
    nn_rng_seed(&r, 99);
    for (int t = 0; t < 60; t++) {
        size_t H = nn_rng_range(&r, 1, t < 50 ? 40 : 200), W = nn_rng_range(&r, 1, t < 50 ? 40 : 200);
        size_t C = nn_rng_range(&r, 1, t < 50 ? 40 : 20);
        size_t kh = nn_rng_range(&r, 1, H < 5 ? H : 5), kw = nn_rng_range(&r, 1, W < 5 ? W : 5);
        nn_pool_params p = params(t % 2 ? NN_POOL_AVG : NN_POOL_MAX, kh, kw, nn_rng_range(&r, 1, 3),
                                  nn_rng_range(&r, 1, 3));
        size_t OH, OW;
        nn_error err;
        cr_assert_eq(nn_pool_output_size(H, W, C, &p, &OH, &OW, &err), NN_OK, "%s", err.message);
        float *x = malloc(H * W * C * sizeof *x), *a = malloc(OH * OW * C * sizeof *a),
              *b = malloc(OH * OW * C * sizeof *b);
        random_fill(x, H * W * C, (uint64_t)t);
        cr_assert_eq(nn_pool2d_forward(a, x, H, W, C, &p, &err), NN_OK);
        cr_assert_eq(nn_pool2d_naive(b, x, H, W, C, &p, &err), NN_OK);
        for (size_t i = 0; i < OH * OW * C; i++) {
            if (p.kind == NN_POOL_MAX) cr_assert_eq(a[i], b[i], "case %d index %zu", t, i);
            else cr_assert_float_eq(a[i], b[i], 1e-6, "case %d index %zu", t, i);
        }
        float *g1 = malloc(C * sizeof *g1), *g2 = malloc(C * sizeof *g2);
        cr_assert_eq(nn_global_pool_forward(g1, x, H, W, C, p.kind, &err), NN_OK);
        cr_assert_eq(nn_global_pool_naive(g2, x, H, W, C, p.kind, &err), NN_OK);
        for (size_t c = 0; c < C; c++) cr_assert_float_eq(g1[c], g2[c], 1e-6, "case %d global %zu", t, c);
        free(x); free(a); free(b); free(g1); free(g2);
    }
}

Test(pool, results_do_not_depend_on_thread_count) {
    size_t H = 254, W = 254, C = 16;
    float *x = malloc(H * W * C * sizeof *x);
    random_fill(x, H * W * C, 5);
    nn_pool_params p = params(NN_POOL_AVG, 3, 2, 2, 2);
    size_t OH, OW;
    cr_assert_eq(nn_pool_output_size(H, W, C, &p, &OH, &OW, NULL), NN_OK);
    float *y1 = malloc(OH * OW * C * sizeof *y1), *y2 = malloc(OH * OW * C * sizeof *y2);
    float g1[16], g2[16];
    nn_parallel_set_threads(1);
    cr_assert_eq(nn_pool2d_forward(y1, x, H, W, C, &p, NULL), NN_OK);
    cr_assert_eq(nn_global_pool_forward(g1, x, H, W, C, NN_POOL_AVG, NULL), NN_OK);
    nn_parallel_set_threads(0);
    cr_assert_eq(nn_pool2d_forward(y2, x, H, W, C, &p, NULL), NN_OK);
    cr_assert_eq(nn_global_pool_forward(g2, x, H, W, C, NN_POOL_AVG, NULL), NN_OK);
    cr_assert_eq(memcmp(y1, y2, OH * OW * C * sizeof *y1), 0);
    cr_assert_eq(memcmp(g1, g2, sizeof g1), 0);
    free(x); free(y1); free(y2);
}

/* PyTorch: max pooling propagates NaN (a NaN anywhere in the window wins), so does the average;
 * -inf windows stay -inf. Checked on the SIMD path (C = 16, 20) and the scalar path (C = 1, 3). */
Test(pool, nan_and_inf_like_pytorch) {
    size_t Cs[] = {1, 3, 16, 20};
    for (size_t ci = 0; ci < 4; ci++) {
        size_t H = 4, W = 4, C = Cs[ci];
        float x[4 * 4 * 20], y[2 * 2 * 20], g[20];
        for (size_t i = 0; i < H * W * C; i++) x[i] = (float)(i % 7) - 3.0f;
        /* window (0,0) channel 0: NaN at its last position (1,1); window (0,1): NaN first (0,2) */
        x[(1 * W + 1) * C + 0] = NAN;
        x[(0 * W + 2) * C + 0] = NAN;
        /* window (1,1) channel C-1: all -inf */
        for (size_t yy = 2; yy < 4; yy++)
            for (size_t xx = 2; xx < 4; xx++) x[(yy * W + xx) * C + C - 1] = -INFINITY;
        nn_pool_params mx = params(NN_POOL_MAX, 2, 2, 2, 2);
        for (int naive = 0; naive < 2; naive++) {
            cr_assert_eq((naive ? nn_pool2d_naive : nn_pool2d_forward)(y, x, H, W, C, &mx, NULL), NN_OK);
            cr_assert(isnan(y[0]), "C=%zu naive=%d: NaN last in window not propagated", C, naive);
            cr_assert(isnan(y[1 * C]), "C=%zu naive=%d: NaN first in window not propagated", C, naive);
            cr_assert(isnan(y[2 * C - 1]) == (C == 1), "C=%zu", C); /* channel C-1 of window (0,1) */
            cr_assert(!isnan(y[(2 * 2) * C - 1]) && y[(2 * 2) * C - 1] == -INFINITY, "C=%zu -inf window", C);
            if (C > 1) cr_assert(!isnan(y[1]), "C=%zu: NaN leaked to another channel", C);
        }
        nn_pool_params av = params(NN_POOL_AVG, 2, 2, 2, 2);
        cr_assert_eq(nn_pool2d_forward(y, x, H, W, C, &av, NULL), NN_OK);
        cr_assert(isnan(y[0]));
        cr_assert(y[(2 * 2) * C - 1] == -INFINITY);
        cr_assert_eq(nn_global_pool_forward(g, x, H, W, C, NN_POOL_MAX, NULL), NN_OK);
        cr_assert(isnan(g[0]));
        if (C > 1) cr_assert(!isnan(g[1]) && g[1] == 3.0f, "C=%zu global max %g", C, g[1]);
        cr_assert_eq(nn_global_pool_forward(g, x, H, W, C, NN_POOL_AVG, NULL), NN_OK);
        cr_assert(isnan(g[0]));
    }
}

/* PyTorch's argmax: ties go to the first element of the window, a NaN always takes it (the last
 * NaN when there are several); the gradient is ADDED. */
Test(pool, max_backward_ties_and_nan) {
    float x[2 * 4] = {5, 5, 1, NAN, 5, 5, NAN, 2}; /* [2, 4, 1]: windows 2x2 stride 2 */
    float dy[2] = {3, 4}, dx[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    nn_pool_params p = params(NN_POOL_MAX, 2, 2, 2, 2);
    cr_assert_eq(nn_pool2d_backward(dx, dy, x, 2, 4, 1, &p, NULL), NN_OK);
    /* window 0 is all 5s: the first, (0,0), takes dy; window 1 holds NaN at (0,3) and (1,2):
     * the later one in scan order, (1,2), takes it */
    float want[8] = {4, 1, 1, 1, 1, 1, 5, 1};
    for (int i = 0; i < 8; i++) cr_assert_eq(dx[i], want[i], "dx[%d] = %g, want %g", i, dx[i], want[i]);
    p.kind = NN_POOL_AVG;
    cr_assert_eq(nn_pool2d_backward(dx, dy, NULL, 2, 4, 1, &p, NULL), NN_OK); /* x unused */
    cr_assert_eq(dx[0], 4 + 0.75f);
    cr_assert_eq(dx[7], 1 + 1.0f);
}

Test(pool, global_average_of_large_input_is_accurate) {
    /* 1000x1000 of 0.1f: a float running sum would drift by ~1e-3; accumulation in double does not */
    size_t H = 1000, W = 1000, C = 2;
    float *x = malloc(H * W * C * sizeof *x), y[2];
    for (size_t i = 0; i < H * W * C; i++) x[i] = 0.1f;
    cr_assert_eq(nn_global_pool_forward(y, x, H, W, C, NN_POOL_AVG, NULL), NN_OK);
    cr_assert_eq(y[0], 0.1f);
    cr_assert_eq(y[1], 0.1f);
    free(x);
}

Test(pool, two_d_map_is_one_channel) {
    float x[3 * 4] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, y[2];
    nn_pool_params p = params(NN_POOL_MAX, 3, 2, 1, 2); /* -> 1 x 2 */
    size_t OH, OW;
    cr_assert_eq(nn_pool_output_size(3, 4, 1, &p, &OH, &OW, NULL), NN_OK);
    cr_assert_eq(OH, 1);
    cr_assert_eq(OW, 2);
    cr_assert_eq(nn_pool2d_forward(y, x, 3, 4, 1, &p, NULL), NN_OK);
    cr_assert_eq(y[0], 10.0f);
    cr_assert_eq(y[1], 12.0f);
    p.kind = NN_POOL_AVG;
    cr_assert_eq(nn_pool2d_forward(y, x, 3, 4, 1, &p, NULL), NN_OK);
    cr_assert_float_eq(y[0], (1 + 2 + 5 + 6 + 9 + 10) / 6.0f, 1e-6);
    cr_assert_float_eq(y[1], (3 + 4 + 7 + 8 + 11 + 12) / 6.0f, 1e-6);
}

static void expect_error(nn_code got, nn_code want, const nn_error *err, const char *field) {
    cr_assert_eq(got, want, "expected %s, got %s (%s)", nn_code_name(want), nn_code_name(got), err->message);
    cr_assert_eq(err->code, want);
    cr_assert_str_eq(err->field, field);
    cr_assert_gt(strlen(err->message), 5);
}

Test(pool, validation_errors) {
    nn_error err;
    size_t OH, OW;
    float x[64], y[64];
    nn_pool_params p = params(NN_POOL_MAX, 2, 2, 2, 2);
    p.stride_w = 0;
    expect_error(nn_pool_output_size(4, 4, 1, &p, &OH, &OW, &err), NN_INVALID, &err, "stride");
    expect_error(nn_pool2d_forward(y, x, 4, 4, 1, &p, &err), NN_INVALID, &err, "stride");
    cr_assert(strstr(err.message, "stride"));
    p = params(NN_POOL_MAX, 0, 2, 1, 1);
    expect_error(nn_pool2d_forward(y, x, 4, 4, 1, &p, &err), NN_INVALID, &err, "size");
    p = params(NN_POOL_AVG, 5, 2, 1, 1);
    expect_error(nn_pool2d_naive(y, x, 4, 4, 1, &p, &err), NN_INVALID, &err, "size");
    cr_assert(strstr(err.message, "larger"), "%s", err.message);
    p = params(NN_POOL_MAX, 2, 5, 1, 1);
    expect_error(nn_pool2d_forward(y, x, 4, 4, 1, &p, &err), NN_INVALID, &err, "size");
    p = params(NN_POOL_MAX, 1, 1, 1, 1);
    expect_error(nn_pool2d_forward(y, x, 0, 4, 1, &p, &err), NN_INVALID, &err, "input");
    expect_error(nn_pool2d_forward(y, x, 4, 4, 0, &p, &err), NN_INVALID, &err, "input");
    expect_error(nn_pool2d_forward(y, x, SIZE_MAX / 2, 4, 3, &p, &err), NN_TOO_LARGE, &err, "input");
    expect_error(nn_pool2d_forward(NULL, x, 4, 4, 1, &p, &err), NN_INVALID, &err, "input");
    p.kind = (nn_pool_kind)7;
    expect_error(nn_pool2d_forward(y, x, 4, 4, 1, &p, &err), NN_INVALID, &err, "function");
    expect_error(nn_pool_output_size(4, 4, 1, NULL, &OH, &OW, &err), NN_INVALID, &err, "function");
    p = params(NN_POOL_MAX, 2, 2, 0, 1);
    expect_error(nn_pool2d_backward(y, x, x, 4, 4, 1, &p, &err), NN_INVALID, &err, "stride");
    /* global */
    expect_error(nn_global_pool_forward(y, x, 0, 4, 1, NN_POOL_AVG, &err), NN_INVALID, &err, "input");
    expect_error(nn_global_pool_forward(y, x, 4, 4, 0, NN_POOL_MAX, &err), NN_INVALID, &err, "input");
    expect_error(nn_global_pool_forward(y, x, SIZE_MAX / 4, SIZE_MAX / 4, 1, NN_POOL_MAX, &err), NN_TOO_LARGE,
                 &err, "input");
    expect_error(nn_global_pool_forward(y, NULL, 4, 4, 1, NN_POOL_MAX, &err), NN_INVALID, &err, "input");
    expect_error(nn_global_pool_naive(y, x, 4, 4, 1, (nn_pool_kind)-1, &err), NN_INVALID, &err, "function");
    /* names */
    nn_pool_kind k;
    cr_assert_eq(nn_pool_parse("Average", &k, &err), NN_OK);
    cr_assert_eq(k, NN_POOL_AVG);
    cr_assert_eq(nn_pool_parse("MAX", &k, &err), NN_OK);
    cr_assert_eq(k, NN_POOL_MAX);
    cr_assert_eq(nn_pool_parse("avg", &k, &err), NN_OK);
    expect_error(nn_pool_parse("median", &k, &err), NN_INVALID, &err, "function");
    cr_assert(strstr(err.message, "median"));
    expect_error(nn_pool_parse(NULL, &k, &err), NN_INVALID, &err, "function");
    cr_assert_str_eq(nn_pool_name(NN_POOL_AVG), "average");
    cr_assert_str_eq(nn_pool_name(NN_POOL_MAX), "max");
    /* a NULL nn_error is fine */
    cr_assert_eq(nn_pool2d_forward(y, x, 0, 0, 0, &p, NULL), NN_INVALID);
}

/* The AVX-512 kernels and the SSE / portable ones give the same bits (the HTTP contract: the
 * same request gives the same bytes on any machine): random shapes, every channel count from 1
 * to 70 (masked tails, several 64-channel blocks), maps from 1 pixel to more than the 32
 * chunks global pooling cuts them into, with NaN and -0 mixed in, on 1 and 2 threads. A
 * different summation order anywhere would show: magnitudes span 2^-12 .. 2^12. */
Test(pool, simd_paths_give_the_same_bits) {
    nn_rng r;
    nn_rng_seed(&r, 77);
    int have512 = nn_cpu_set_simd(NN_SIMD_AVX512) == NN_SIMD_AVX512;
    size_t compared = 0;
    for (int t = 0; t < 200; t++) {
        size_t H = (size_t)nn_rng_range(&r, 1, t % 10 == 0 ? 300 : 40);
        size_t W = (size_t)nn_rng_range(&r, 1, t % 10 == 0 ? 300 : 40);
        size_t C = (size_t)nn_rng_range(&r, 1, 70);
        size_t n = H * W * C;
        float *x = malloc(n * sizeof *x);
        cr_assert_not_null(x);
        for (size_t i = 0; i < n; i++) {
            uint64_t pick = nn_rng_range(&r, 0, 999);
            /* magnitudes 2^-12 .. 2^12: float additions round visibly, so a different
             * summation order shows in the mean */
            float mag = ldexpf(1.0f, (int)nn_rng_range(&r, 0, 24) - 12);
            x[i] = pick == 0 ? NAN : pick == 1 ? -0.0f : mag * (2.0f * nn_rng_uniformf(&r) - 1.0f);
        }
        nn_pool_kind kind = t % 2 ? NN_POOL_MAX : NN_POOL_AVG;
        size_t k = (size_t)nn_rng_range(&r, 1, 3), s = (size_t)nn_rng_range(&r, 1, 3);
        nn_pool_params p = params(kind, k < H ? k : H, k < W ? k : W, s, s);
        size_t OH = 0, OW = 0;
        cr_assert_eq(nn_pool_output_size(H, W, C, &p, &OH, &OW, NULL), NN_OK);
        size_t ny = OH * OW * C;
        float *y[2][2], *g[2][2];
        for (int simd = 0; simd < 2; simd++)
            for (int th = 0; th < 2; th++) {
                nn_cpu_set_simd(simd ? NN_SIMD_AVX512 : NN_SIMD_GENERIC);
                nn_parallel_set_threads(th ? 0 : 1);
                y[simd][th] = malloc(ny * sizeof(float));
                g[simd][th] = malloc(C * sizeof(float));
                cr_assert(y[simd][th] && g[simd][th]);
                cr_assert_eq(nn_pool2d_forward(y[simd][th], x, H, W, C, &p, NULL), NN_OK);
                cr_assert_eq(nn_global_pool_forward(g[simd][th], x, H, W, C, kind, NULL), NN_OK);
            }
        for (int simd = 0; simd < 2; simd++)
            for (int th = 0; th < 2; th++) {
                cr_assert_eq(memcmp(y[simd][th], y[0][0], ny * sizeof(float)), 0,
                             "case %d %zux%zux%zu windowed: avx512=%d threads=%d differ", t, H, W, C, simd, th);
                cr_assert_eq(memcmp(g[simd][th], g[0][0], C * sizeof(float)), 0,
                             "case %d %zux%zux%zu global %s: avx512=%d threads=%d differ", t, H, W, C,
                             kind == NN_POOL_MAX ? "max" : "avg", simd, th);
            }
        for (int i = 0; i < 4; i++) {
            free(y[i / 2][i % 2]);
            free(g[i / 2][i % 2]);
        }
        compared++;
        free(x);
    }
    nn_cpu_set_simd(NN_SIMD_AUTO);
    nn_parallel_set_threads(0);
    cr_assert_eq(compared, 200);
    if (!have512) cr_log_warn("no AVX-512 on this CPU: only the portable path was compared");
}

/* Summing in double, never in float: huge values do not overflow, small ones are not lost next
 * to big ones, on every path and thread count. */
Test(pool, global_average_neither_overflows_nor_loses_small_values) {
    size_t H = 64, W = 64, C = 16, n = H * W * C;
    float *x = malloc(n * sizeof *x), y[16];
    cr_assert_not_null(x);
    for (int simd = 0; simd < 2; simd++)
        for (int th = 0; th < 2; th++) {
            nn_cpu_set_simd(simd ? NN_SIMD_AVX512 : NN_SIMD_GENERIC);
            nn_parallel_set_threads(th ? 0 : 1);
            for (size_t i = 0; i < n; i++) x[i] = 1e38f;
            cr_assert_eq(nn_global_pool_forward(y, x, H, W, C, NN_POOL_AVG, NULL), NN_OK);
            for (size_t c = 0; c < C; c++)
                cr_assert_eq(y[c], 1e38f, "avx512=%d threads=%d: mean of 1e38s is %g", simd, th, y[c]);
            static const float pattern[4] = {1.0f, 1e8f, 1.0f, -1e8f};
            for (size_t p = 0; p < H * W; p++)
                for (size_t c = 0; c < C; c++) x[p * C + c] = pattern[(p + c) % 4];
            cr_assert_eq(nn_global_pool_forward(y, x, H, W, C, NN_POOL_AVG, NULL), NN_OK);
            for (size_t c = 0; c < C; c++)
                cr_assert_eq(y[c], 0.5f, "avx512=%d threads=%d: mean of [1, 1e8, 1, -1e8] is %g",
                             simd, th, y[c]);
        }
    nn_cpu_set_simd(NN_SIMD_AUTO);
    nn_parallel_set_threads(0);
    free(x);
}
