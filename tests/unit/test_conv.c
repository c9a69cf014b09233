/* test_conv.c — convolution: PyTorch fixtures (float64 reference), the fast kernel against the
 * naive one on random shapes, fused activations on extreme values, thread-count independence,
 * and every validation error. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "grad_test.h"
#include "nn_act.h"
#include "nn_conv.h"
#include "nn_parallel.h"
#include "nn_rng.h"

static nn_conv_params params(size_t sh, size_t sw, size_t ph, size_t pw, nn_act_kind kind) {
    return (nn_conv_params){sh, sw, ph, pw, {kind, 0.01f}};
}

/* Largest |got - want| / max(|want|, 1): relative for outputs above 1, absolute below. */
static double max_err(const float *got, const float *want, size_t n) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(got[i]) != isnan(want[i])) return INFINITY;
        if (isnan(want[i])) continue;
        double e = fabs((double)got[i] - want[i]) / fmax(fabs((double)want[i]), 1.0);
        if (e > worst) worst = e;
    }
    return worst;
}

static void run_fixtures(int fast) {
    cJSON *doc = fx_require("conv.json");
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(doc, "cases"), *c;
    int count = 0;
    nn_workspace ws = {0};
    cJSON_ArrayForEach(c, cases) {
        size_t xs[8], ks[8], ys[8], nd, ny;
        float *x = fx_tensor_f32(c, "input", xs, &nd, NULL);
        float *k = fx_tensor_f32(c, "kernels", ks, &nd, NULL);
        double *want = fx_tensor_f64(c, "output", ys, &nd, &ny);
        float *b = cJSON_GetObjectItemCaseSensitive(c, "bias") ? fx_tensor_f32(c, "bias", NULL, NULL, NULL) : NULL;
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(c, "stride");
        const cJSON *pd = cJSON_GetObjectItemCaseSensitive(c, "padding");
        nn_conv_params p = params((size_t)cJSON_GetArrayItem(st, 0)->valuedouble,
                                  (size_t)cJSON_GetArrayItem(st, 1)->valuedouble,
                                  (size_t)cJSON_GetArrayItem(pd, 0)->valuedouble,
                                  (size_t)cJSON_GetArrayItem(pd, 1)->valuedouble, NN_ACT_IDENTITY);
        nn_error err;
        cr_assert_eq(nn_act_parse(fx_str(c, "activation"), &p.act, &err), NN_OK);
        p.act.negative_slope = (float)fx_num(c, "negative_slope");
        size_t OH, OW;
        cr_assert_eq(nn_conv_output_size(xs[0], xs[1], xs[2], ks[0], ks[1], ks[2], &p, &OH, &OW, &err), NN_OK);
        cr_assert_eq(OH, ys[0], "%s: OH %zu vs %zu", fx_str(c, "name"), OH, ys[0]);
        cr_assert_eq(OW, ys[1], "%s: OW", fx_str(c, "name"));
        cr_assert_eq(ks[3], xs[2]);
        float *y = malloc(ny * sizeof *y);
        nn_code rc = fast ? nn_conv2d_forward(y, x, k, b, xs[0], xs[1], xs[2], ks[0], ks[1], ks[2], &p, &ws, &err)
                          : nn_conv2d_naive(y, x, k, b, xs[0], xs[1], xs[2], ks[0], ks[1], ks[2], &p, &err);
        cr_assert_eq(rc, NN_OK, "%s: %s", fx_str(c, "name"), err.message);
        double e = fx_max_rel_err_f32(y, want, ny, 1.0);
        cr_expect_leq(e, 1e-5, "%s (%s): max rel err %g", fx_str(c, "name"), fast ? "fast" : "naive", e);
        free(x), free(k), free(want), free(b), free(y);
        count++;
    }
    nn_workspace_free(&ws);
    cr_assert_geq(count, 15);
    cJSON_Delete(doc);
}

Test(conv, naive_matches_pytorch) { run_fixtures(0); }
Test(conv, fast_matches_pytorch) { run_fixtures(1); }
Test(conv, generic_fast_path_matches_pytorch) {
    setenv("NNLAB_SIMD", "generic", 1); /* each Criterion test runs in its own process */
    run_fixtures(1);
}

static void fast_vs_naive(uint64_t seed, int trials) {
    nn_rng r;
    nn_rng_seed(&r, seed);
    nn_workspace ws = {0};
    static const size_t chans[] = {1, 2, 3, 4, 7, 16, 33};
    static const size_t counts[] = {1, 1, 2, 3, 8, 15, 16, 17, 31, 32, 48, 63, 64, 65, 80, 130};
    for (int t = 0; t < trials; t++) {
        size_t H = nn_rng_range(&r, 1, 30), W = nn_rng_range(&r, 1, 45);
        size_t C = chans[nn_rng_range(&r, 0, 6)], N = counts[nn_rng_range(&r, 0, 15)];
        size_t KH = nn_rng_range(&r, 1, 5), KW = nn_rng_range(&r, 1, 5);
        nn_conv_params p = params(nn_rng_range(&r, 1, 3), nn_rng_range(&r, 1, 3), nn_rng_range(&r, 0, 2),
                                  nn_rng_range(&r, 0, 2), (nn_act_kind)nn_rng_range(&r, 0, 4));
        p.act.negative_slope = 0.1f;
        size_t OH, OW;
        if (nn_conv_output_size(H, W, C, N, KH, KW, &p, &OH, &OW, NULL) != NN_OK) { t--; continue; }
        float *x = gt_uniform(&r, H * W * C, 1), *k = gt_uniform(&r, N * KH * KW * C, 1);
        float *b = nn_rng_range(&r, 0, 1) ? gt_uniform(&r, N, 1) : NULL;
        float *y1 = malloc(OH * OW * N * sizeof *y1), *y2 = malloc(OH * OW * N * sizeof *y2);
        nn_error err;
        cr_assert_eq(nn_conv2d_naive(y1, x, k, b, H, W, C, N, KH, KW, &p, &err), NN_OK, "%s", err.message);
        /* Alternate between a kept workspace and none at all. */
        cr_assert_eq(nn_conv2d_forward(y2, x, k, b, H, W, C, N, KH, KW, &p, t % 2 ? &ws : NULL, &err), NN_OK,
                     "%s", err.message);
        /* float32 accumulation of K products drifts ~K ulps from the double-accumulated naive
         * result at worst: 1e-5 up to K = 256 terms, proportionally more beyond. */
        double K = (double)(KH * KW * C), tol = 1e-5 * fmax(1.0, K / 256.0);
        double e = max_err(y2, y1, OH * OW * N);
        cr_assert_leq(e, tol, "trial %d: %zux%zux%zu n%zu k%zux%zu s%zux%zu p%zux%zu %s: err %g", t, H, W, C, N,
                      KH, KW, p.stride_h, p.stride_w, p.pad_h, p.pad_w, nn_act_name(p.act.kind), e);
        free(x), free(k), free(b), free(y1), free(y2);
    }
    nn_workspace_free(&ws);
}

/* NNLAB_SIMD=avx2 selects the AVX2 kernels where the CPU has them (else the portable path). */
Test(conv, avx2_fast_path_matches_pytorch) {
    setenv("NNLAB_SIMD", "avx2", 1);
    run_fixtures(1);
}

/* The Winograd shapes (3x3, stride 1, C <= 4, N a multiple of 64) against the naive double-accumulated
 * loop: the transforms round differently from the direct sum but stay inside the same bound. */
static void winograd_vs_naive(uint64_t seed, int trials) {
    nn_rng r;
    nn_rng_seed(&r, seed);
    static const size_t counts[] = {64, 128, 192};
    nn_workspace ws = {0}; /* every other trial reuses it: grown and shrunk shapes */
    double worst = 0;
    for (int t = 0; t < trials; t++) {
        size_t H = nn_rng_range(&r, 1, 40), W = nn_rng_range(&r, 1, 40);
        size_t C = nn_rng_range(&r, 1, 4), N = counts[nn_rng_range(&r, 0, 2)];
        nn_conv_params p = params(1, 1, nn_rng_range(&r, 0, 2), nn_rng_range(&r, 0, 2),
                                  (nn_act_kind)nn_rng_range(&r, 0, 4));
        p.act.negative_slope = 0.1f;
        size_t OH, OW;
        if (nn_conv_output_size(H, W, C, N, 3, 3, &p, &OH, &OW, NULL) != NN_OK) { t--; continue; }
        float *x = gt_uniform(&r, H * W * C, 1), *k = gt_uniform(&r, N * 9 * C, 1), *b = gt_uniform(&r, N, 1);
        float *y1 = malloc(OH * OW * N * sizeof *y1), *y2 = malloc(OH * OW * N * sizeof *y2);
        cr_assert(y1 && y2);
        nn_error err;
        cr_assert_eq(nn_conv2d_naive(y1, x, k, b, H, W, C, N, 3, 3, &p, &err), NN_OK, "%s", err.message);
        cr_assert_eq(nn_conv2d_forward(y2, x, k, b, H, W, C, N, 3, 3, &p, t % 2 ? &ws : NULL, &err), NN_OK, "%s",
                     err.message);
        double e = max_err(y2, y1, OH * OW * N);
        worst = fmax(worst, e);
        cr_assert_leq(e, 1e-5, "trial %d: %zux%zux%zu n%zu p%zux%zu %s: err %g", t, H, W, C, N, p.pad_h, p.pad_w,
                      nn_act_name(p.act.kind), e);
        free(x), free(k), free(b), free(y1), free(y2);
    }
    nn_workspace_free(&ws);
    cr_log_info("winograd: worst error %g over %d shapes", worst, trials);
}

Test(conv, winograd_matches_naive_random_shapes) { winograd_vs_naive(31, 200); }
Test(conv, winograd_generic_matches_naive_random_shapes) {
    setenv("NNLAB_SIMD", "generic", 1);
    winograd_vs_naive(32, 100);
}

Test(conv, fast_matches_naive_random_shapes) { fast_vs_naive(12345, 300); }
Test(conv, avx2_matches_naive_random_shapes) {
    setenv("NNLAB_SIMD", "avx2", 1);
    fast_vs_naive(4242, 300);
}
Test(conv, generic_matches_naive_random_shapes) {
    setenv("NNLAB_SIMD", "generic", 1);
    fast_vs_naive(777, 150);
}

/* The larger shapes of the benchmarks, where the fast path tiles and threads for real. */
Test(conv, fast_matches_naive_bench_shapes) {
    nn_rng r;
    nn_rng_seed(&r, 99);
    struct { size_t H, W, C, N, k, s, pad; nn_act_kind a; } cs[] = {
        {64, 70, 3, 1, 3, 1, 0, NN_ACT_RELU},   {60, 61, 3, 16, 3, 1, 0, NN_ACT_SIGMOID},
        {56, 57, 3, 64, 3, 1, 1, NN_ACT_IDENTITY}, {57, 55, 3, 16, 3, 2, 0, NN_ACT_RELU},
        {27, 29, 16, 32, 3, 1, 1, NN_ACT_RELU}, {33, 35, 32, 64, 3, 1, 1, NN_ACT_TANH},
    };
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++) {
        nn_conv_params p = params(cs[i].s, cs[i].s, cs[i].pad, cs[i].pad, cs[i].a);
        size_t OH, OW;
        cr_assert_eq(nn_conv_output_size(cs[i].H, cs[i].W, cs[i].C, cs[i].N, cs[i].k, cs[i].k, &p, &OH, &OW, NULL), NN_OK);
        size_t ny = OH * OW * cs[i].N;
        float *x = gt_uniform(&r, cs[i].H * cs[i].W * cs[i].C, 1), *k = gt_uniform(&r, cs[i].N * cs[i].k * cs[i].k * cs[i].C, 1);
        float *b = gt_uniform(&r, cs[i].N, 1), *y1 = malloc(ny * sizeof *y1), *y2 = malloc(ny * sizeof *y2);
        cr_assert_eq(nn_conv2d_naive(y1, x, k, b, cs[i].H, cs[i].W, cs[i].C, cs[i].N, cs[i].k, cs[i].k, &p, NULL), NN_OK);
        cr_assert_eq(nn_conv2d_forward(y2, x, k, b, cs[i].H, cs[i].W, cs[i].C, cs[i].N, cs[i].k, cs[i].k, &p, NULL, NULL), NN_OK);
        double e = max_err(y2, y1, ny);
        cr_assert_leq(e, 1e-5, "case %zu: err %g", i, e);
        free(x), free(k), free(b), free(y1), free(y2);
    }
}

/* Splitting rows across threads must not change a single bit. */
Test(conv, thread_count_does_not_change_results) {
    nn_rng r;
    nn_rng_seed(&r, 5);
    size_t H = 40, W = 50, C = 3, N = 24;
    nn_conv_params p = params(1, 1, 1, 1, NN_ACT_TANH);
    float *x = gt_uniform(&r, H * W * C, 1), *k = gt_uniform(&r, N * 9 * C, 1);
    float *y1 = malloc(H * W * N * sizeof *y1), *y2 = malloc(H * W * N * sizeof *y2);
    nn_parallel_set_threads(1);
    cr_assert_eq(nn_parallel_threads(), 1);
    cr_assert_eq(nn_conv2d_forward(y1, x, k, NULL, H, W, C, N, 3, 3, &p, NULL, NULL), NN_OK);
    nn_parallel_set_threads(0);
    cr_assert_eq(nn_conv2d_forward(y2, x, k, NULL, H, W, C, N, 3, 3, &p, NULL, NULL), NN_OK);
    cr_assert_eq(memcmp(y1, y2, H * W * N * sizeof *y1), 0);
    free(x), free(k), free(y1), free(y2);
}

/* A 1x1 identity kernel turns the convolution into the bare activation, so the fused SIMD
 * activations (for one output channel and for many) are checked on the activation fixtures'
 * extreme values, and NaN must come out as NaN. */
static void fused_act(size_t N) {
    cJSON *doc = fx_require("act.json");
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(doc, "cases")) {
        size_t n;
        float *x = fx_tensor_f32(c, "input", NULL, NULL, &n);
        double *want = fx_tensor_f64(c, "output", NULL, NULL, NULL);
        float *xx = malloc((n + 1) * sizeof *xx), *k = calloc(N, sizeof *k), *y = malloc((n + 1) * N * sizeof *y);
        memcpy(xx, x, n * sizeof *x);
        xx[n] = NAN;
        for (size_t i = 0; i < N; i++) k[i] = 1.0f;
        nn_conv_params p = params(1, 1, 0, 0, NN_ACT_IDENTITY);
        cr_assert_eq(nn_act_parse(fx_str(c, "activation"), &p.act, NULL), NN_OK);
        p.act.negative_slope = (float)fx_num(c, "negative_slope");
        /* input [1, n+1, 1], kernels [N, 1, 1, 1] -> output [1, n+1, N] */
        cr_assert_eq(nn_conv2d_forward(y, xx, k, NULL, 1, n + 1, 1, N, 1, 1, &p, NULL, NULL), NN_OK);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < N; j++) {
                double g = y[i * N + j], w = want[i];
                double e = fabs(g - w) / fmax(fabs(w), 1e-30);
                /* float32 cannot hold results below its normal range to 1e-5 relative */
                if (fabs(w) < 1.2e-38) e = fabs(g - w) < 1.2e-38 ? 0 : e;
                cr_assert_leq(e, 1e-5, "%s N=%zu x=%g: got %g want %g", fx_str(c, "name"), N, (double)x[i], g, w);
            }
        for (size_t j = 0; j < N; j++) cr_assert(isnan(y[n * N + j]), "%s: NaN lost", fx_str(c, "name"));
        free(x), free(want), free(xx), free(k), free(y);
    }
    cJSON_Delete(doc);
}

Test(conv, fused_activations_one_channel) { fused_act(1); }
Test(conv, fused_activations_many_channels) { fused_act(16); }
Test(conv, fused_activations_odd_channels) { fused_act(21); }
Test(conv, avx2_fused_activations) {
    setenv("NNLAB_SIMD", "avx2", 1);
    fused_act(1);
    fused_act(8);
    fused_act(21);
}

Test(conv, bias_broadcast_and_padding_only_windows) {
    /* A window entirely inside the padding sees only the bias (then the activation). */
    float x[1] = {2.0f}, k[2 * 1 * 1 * 1] = {3.0f, -1.0f}, b[2] = {0.5f, -0.25f}, y[3 * 3 * 2];
    nn_conv_params p = params(1, 1, 1, 1, NN_ACT_RELU);
    cr_assert_eq(nn_conv2d_forward(y, x, k, b, 1, 1, 1, 2, 1, 1, &p, NULL, NULL), NN_OK);
    for (size_t i = 0; i < 9; i++) {
        float want0 = i == 4 ? 6.5f : 0.5f, want1 = 0.0f; /* -2.25 and -0.25 both ReLU to 0 */
        cr_assert_float_eq(y[i * 2], want0, 1e-6, "pixel %zu", i);
        cr_assert_float_eq(y[i * 2 + 1], want1, 1e-6, "pixel %zu", i);
    }
}

Test(conv, output_size_formula) {
    size_t OH, OW;
    nn_conv_params p = params(2, 3, 1, 2, NN_ACT_IDENTITY);
    cr_assert_eq(nn_conv_output_size(224, 225, 3, 8, 3, 5, &p, &OH, &OW, NULL), NN_OK);
    cr_assert_eq(OH, (224 + 2 - 3) / 2 + 1);
    cr_assert_eq(OW, (225 + 4 - 5) / 3 + 1);
    cr_assert_float_eq(nn_conv_flops(2, 3, 4, 5, 6, 7), 2.0 * 2 * 3 * 4 * 5 * 6 * 7, 1e-9);
    size_t bytes = 0;
    cr_assert_eq(nn_conv_workspace_size(224, 224, 3, 64, 3, 3, &p, &bytes, NULL), NN_OK);
    cr_assert_gt(bytes, 0);
}

static void expect_error(nn_code rc, const nn_error *e, nn_code code, const char *field, const char *needle) {
    cr_assert_eq(rc, code, "want %s, got %s (%s)", nn_code_name(code), nn_code_name(rc), e->message);
    cr_assert_eq(e->code, code);
    cr_assert_str_eq(e->field, field);
    cr_assert_not_null(strstr(e->message, needle), "message '%s' lacks '%s'", e->message, needle);
}

Test(conv, validation_errors_name_the_field) {
    float x[16] = {0}, k[16] = {0}, y[64];
    nn_error e;
    size_t OH, OW;
    nn_conv_params p = params(1, 1, 0, 0, NN_ACT_IDENTITY);

    nn_conv_params s0 = params(0, 1, 0, 0, NN_ACT_IDENTITY);
    expect_error(nn_conv2d_forward(y, x, k, NULL, 4, 4, 1, 1, 3, 3, &s0, NULL, &e), &e, NN_INVALID, "stride", "stride");
    s0 = params(1, 0, 0, 0, NN_ACT_IDENTITY);
    expect_error(nn_conv2d_naive(y, x, k, NULL, 4, 4, 1, 1, 3, 3, &s0, &e), &e, NN_INVALID, "stride", "stride");
    expect_error(nn_conv_output_size(4, 4, 1, 1, 3, 3, NULL, &OH, &OW, &e), &e, NN_INVALID, "params", "NULL");
    expect_error(nn_conv_output_size(0, 4, 1, 1, 3, 3, &p, &OH, &OW, &e), &e, NN_INVALID, "input", "non-empty");
    expect_error(nn_conv_output_size(4, 0, 1, 1, 3, 3, &p, &OH, &OW, &e), &e, NN_INVALID, "input", "non-empty");
    expect_error(nn_conv_output_size(4, 4, 0, 1, 3, 3, &p, &OH, &OW, &e), &e, NN_INVALID, "input", "non-empty");
    expect_error(nn_conv_output_size(4, 4, 1, 0, 3, 3, &p, &OH, &OW, &e), &e, NN_INVALID, "kernel", "count");
    expect_error(nn_conv_output_size(4, 4, 1, 1, 0, 3, &p, &OH, &OW, &e), &e, NN_INVALID, "kernel", "non-empty");
    expect_error(nn_conv_output_size(4, 4, 1, 1, 3, 0, &p, &OH, &OW, &e), &e, NN_INVALID, "kernel", "non-empty");
    expect_error(nn_conv_output_size(4, 4, 1, 1, 5, 3, &p, &OH, &OW, &e), &e, NN_INVALID, "kernel", "larger than the padded input");
    expect_error(nn_conv_output_size(4, 4, 1, 1, 3, 7, &p, &OH, &OW, &e), &e, NN_INVALID, "kernel", "larger");
    nn_conv_params pad1 = params(1, 1, 1, 1, NN_ACT_IDENTITY);
    cr_assert_eq(nn_conv_output_size(4, 4, 1, 1, 6, 6, &pad1, &OH, &OW, &e), NN_OK, "padding makes room");
    cr_assert_eq(OH, 1);

    expect_error(nn_conv_output_size(SIZE_MAX / 2, SIZE_MAX / 2, 1, 1, 1, 1, &p, &OH, &OW, &e), &e,
                 NN_TOO_LARGE, "input", "too large");
    expect_error(nn_conv_output_size(2, 2, 1, SIZE_MAX / 2, 1, 1, &p, &OH, &OW, &e), &e, NN_TOO_LARGE,
                 "kernel", "too large");
    nn_conv_params huge = params(1, 1, SIZE_MAX / 2, 0, NN_ACT_IDENTITY);
    expect_error(nn_conv_output_size(2, 2, 1, 1, 1, 1, &huge, &OH, &OW, &e), &e, NN_TOO_LARGE, "padding", "too large");
    /* the output product overflows although input and kernels fit: big padding, many kernels */
    nn_conv_params bigpad = params(1, 1, (size_t)1 << 20, (size_t)1 << 20, NN_ACT_IDENTITY);
    expect_error(nn_conv_output_size(1, 1, 1, (size_t)1 << 30, 1, 1, &bigpad, &OH, &OW, &e), &e, NN_TOO_LARGE,
                 "output", "too large");

    expect_error(nn_conv2d_forward(NULL, x, k, NULL, 4, 4, 1, 1, 3, 3, &p, NULL, &e), &e, NN_INVALID, "output", "NULL");
    expect_error(nn_conv2d_forward(y, NULL, k, NULL, 4, 4, 1, 1, 3, 3, &p, NULL, &e), &e, NN_INVALID, "input", "NULL");
    expect_error(nn_conv2d_forward(y, x, NULL, NULL, 4, 4, 1, 1, 3, 3, &p, NULL, &e), &e, NN_INVALID, "kernel", "NULL");
    expect_error(nn_conv2d_naive(y, x, NULL, NULL, 4, 4, 1, 1, 3, 3, &p, &e), &e, NN_INVALID, "kernel", "NULL");
    /* errors are reported even without an nn_error */
    cr_assert_eq(nn_conv2d_forward(y, x, k, NULL, 4, 4, 1, 1, 9, 9, &p, NULL, NULL), NN_INVALID);
}

Test(conv, workspace_grows_and_is_reused) {
    nn_workspace ws = {0};
    nn_error e;
    cr_assert_eq(nn_workspace_reserve(&ws, 100, &e), NN_OK);
    cr_assert_geq(ws.size, 100);
    cr_assert_eq((uintptr_t)ws.data % 64, 0);
    void *first = ws.data;
    cr_assert_eq(nn_workspace_reserve(&ws, 50, &e), NN_OK);
    cr_assert_eq(ws.data, first, "a smaller request keeps the buffer");
    cr_assert_eq(nn_workspace_reserve(&ws, 1 << 20, &e), NN_OK);
    cr_assert_geq(ws.size, (size_t)1 << 20);
    expect_error(nn_workspace_reserve(&ws, SIZE_MAX - 10, &e), &e, NN_TOO_LARGE, "workspace", "too large");
    expect_error(nn_workspace_reserve(NULL, 10, &e), &e, NN_INVALID, "workspace", "NULL");
    nn_workspace_free(&ws);
    cr_assert_null(ws.data);
    cr_assert_eq(ws.size, 0);
}

/* An output above 8 MB, 64-byte aligned, takes the streaming-store path of the fast kernel:
 * of the Winograd path with C = 3, of the direct kernel with C = 5 (outside Winograd's rule). */
static void large_output(size_t C) {
    nn_rng r;
    nn_rng_seed(&r, 3);
    size_t H = 224, W = 224, N = 64;
    nn_conv_params p = params(1, 1, 1, 1, NN_ACT_LEAKY_RELU);
    float *x = gt_uniform(&r, H * W * C, 1), *k = gt_uniform(&r, N * 9 * C, 1), *b = gt_uniform(&r, N, 1);
    float *y1 = malloc(H * W * N * sizeof *y1), *y2 = aligned_alloc(64, H * W * N * sizeof *y2);
    cr_assert_not_null(y2);
    cr_assert_eq(nn_conv2d_naive(y1, x, k, b, H, W, C, N, 3, 3, &p, NULL), NN_OK);
    cr_assert_eq(nn_conv2d_forward(y2, x, k, b, H, W, C, N, 3, 3, &p, NULL, NULL), NN_OK);
    cr_assert_leq(max_err(y2, y1, H * W * N), 1e-5);
    free(x), free(k), free(b), free(y1), free(y2);
}

Test(conv, large_output_streaming_path, .timeout = 60) {
    large_output(3);
    large_output(5);
}
Test(conv, avx2_large_output_streaming_path, .timeout = 60) {
    setenv("NNLAB_SIMD", "avx2", 1);
    large_output(3);
    large_output(5);
}
