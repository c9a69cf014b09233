/* test_grad_linear.c — the batched linear layer (nn_linear.h), the activations' backward from
 * their output (nn_act_backward_output) and the fused softmax cross-entropy (nn_loss.h):
 * PyTorch autograd fixtures on every SIMD path, fast against naive on random sizes, the same
 * bits on every path, finite differences of a float64 forward (linear + loss) and of every
 * activation, and the errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "grad_test.h"
#include "nn_act.h"
#include "nn_cpu.h"
#include "nn_linear.h"
#include "nn_loss.h"
#include "nn_parallel.h"
#include "nn_rng.h"
#include "nn_tile.h"

static const int impls[] = {NN_SIMD_GENERIC, NN_SIMD_AVX2, NN_SIMD_AVX512};

/* ---- linear ---- */

static void linear_fixtures(int impl) {
    if (impl >= 0) nn_cpu_set_simd(impl);
    cJSON *doc = fx_require("grad_linear.json");
    int count = 0;
    nn_workspace ws = {0};
    for (const cJSON *c = fx_cases(doc); c; c = c->next) {
        size_t xs[8], wsz[8], nd;
        float *x = fx_tensor_f32(c, "input", xs, &nd, NULL), *W = fx_tensor_f32(c, "weight", wsz, &nd, NULL);
        float *b = fx_tensor_f32(c, "bias", NULL, NULL, NULL), *dy = fx_tensor_f32(c, "grad_output", NULL, NULL, NULL);
        double *y_w = fx_tensor_f64(c, "output", NULL, NULL, NULL), *dx_w = fx_tensor_f64(c, "grad_input", NULL, NULL, NULL);
        double *dW_w = fx_tensor_f64(c, "grad_weight", NULL, NULL, NULL), *db_w = fx_tensor_f64(c, "grad_bias", NULL, NULL, NULL);
        size_t B = xs[0], in = wsz[0], out = wsz[1];
        float *y = gt_zeros(B * out), *dx = gt_zeros(B * in), *dW = gt_zeros(in * out), *db = gt_zeros(out);
        nn_error err;
        nn_code rc = impl >= 0 ? nn_linear_batch_forward(y, x, W, b, B, in, out, &ws, &err)
                               : nn_linear_batch_forward_naive(y, x, W, b, B, in, out, &err);
        cr_assert_eq(rc, NN_OK, "%s", err.message);
        rc = impl >= 0 ? nn_linear_batch_backward(dx, dW, db, dy, x, W, B, in, out, &ws, &err)
                       : nn_linear_batch_backward_naive(dx, dW, db, dy, x, W, B, in, out, &err);
        cr_assert_eq(rc, NN_OK, "%s", err.message);
        double e[4] = {fx_max_rel_err_f32(y, y_w, B * out, 1.0), fx_max_rel_err_f32(dx, dx_w, B * in, 1.0),
                       fx_max_rel_err_f32(dW, dW_w, in * out, 1.0), fx_max_rel_err_f32(db, db_w, out, 1.0)};
        cr_expect(e[0] <= 1e-5 && e[1] <= 1e-5 && e[2] <= 1e-5 && e[3] <= 1e-5, "%s (impl %d): y %.3g dx %.3g dW %.3g db %.3g",
                  fx_str(c, "name"), impl, e[0], e[1], e[2], e[3]);
        free(x), free(W), free(b), free(dy), free(y_w), free(dx_w), free(dW_w), free(db_w);
        free(y), free(dx), free(dW), free(db);
        count++;
    }
    cr_assert_geq(count, 9);
    nn_workspace_free(&ws);
    cJSON_Delete(doc);
}

Test(grad_linear, naive_matches_pytorch) { linear_fixtures(-1); }
Test(grad_linear, generic_matches_pytorch) { linear_fixtures(NN_SIMD_GENERIC); }
Test(grad_linear, avx2_matches_pytorch) { linear_fixtures(NN_SIMD_AVX2); }
Test(grad_linear, avx512_matches_pytorch) { linear_fixtures(NN_SIMD_AVX512); }

/* Random sizes on every path and thread count: within rounding of the naive layer, and the
 * same bits everywhere; gradients are added to what the buffers held. */
Test(grad_linear, fast_matches_naive_and_bits_agree) {
    nn_rng r;
    nn_rng_seed(&r, 31);
    nn_workspace ws = {0};
    for (int t = 0; t < 120; t++) {
        size_t B = nn_rng_range(&r, 1, 40), in = nn_rng_range(&r, 1, t % 4 ? 70 : 900), out = nn_rng_range(&r, 1, 70);
        float *x = gt_uniform(&r, B * in, 1), *W = gt_uniform(&r, in * out, 1), *b = gt_uniform(&r, out, 1),
              *dy = gt_uniform(&r, B * out, 1);
        float *y0 = gt_zeros(B * out), *dx0 = gt_zeros(B * in), *dW0 = gt_zeros(in * out), *db0 = gt_zeros(out);
        for (size_t i = 0; i < B * in; i++) dx0[i] = 0.25f;
        cr_assert_eq(nn_linear_batch_forward_naive(y0, x, W, b, B, in, out, NULL), NN_OK);
        cr_assert_eq(nn_linear_batch_backward_naive(dx0, dW0, db0, dy, x, W, B, in, out, NULL), NN_OK);
        float *ref[4] = {NULL, NULL, NULL, NULL};
        for (int i = 0; i < 3; i++)
            for (size_t threads = 0; threads < 2; threads++) {
                nn_cpu_set_simd(impls[i]);
                nn_parallel_set_threads(threads);
                float *y = gt_zeros(B * out), *dx = gt_zeros(B * in), *dW = gt_zeros(in * out), *db = gt_zeros(out);
                for (size_t k = 0; k < B * in; k++) dx[k] = 0.25f;
                cr_assert_eq(nn_linear_batch_forward(y, x, W, b, B, in, out, threads ? &ws : NULL, NULL), NN_OK);
                cr_assert_eq(nn_linear_batch_backward(dx, dW, db, dy, x, W, B, in, out, threads ? &ws : NULL, NULL), NN_OK);
                double tin = 1e-5 * fmax(1, (double)in / 256), tb = 1e-5 * fmax(1, (double)B / 256),
                       tout = 1e-5 * fmax(1, (double)out / 256);
                cr_assert(gt_max_err(y, y0, B * out) <= tin && gt_max_err(dx, dx0, B * in) <= tout &&
                              gt_max_err(dW, dW0, in * out) <= tb && gt_max_err(db, db0, out) <= tb,
                          "trial %d b%zu %zu->%zu on %s", t, B, in, out, nn_tile_pick()->name);
                float *got[4] = {y, dx, dW, db};
                size_t n[4] = {B * out, B * in, in * out, out};
                for (int k = 0; k < 4; k++) {
                    if (!ref[k]) ref[k] = got[k];
                    else {
                        cr_assert(!memcmp(got[k], ref[k], n[k] * sizeof(float)), "trial %d: bits differ on %s", t,
                                  nn_tile_pick()->name);
                        free(got[k]);
                    }
                }
            }
        for (int k = 0; k < 4; k++) free(ref[k]);
        free(x), free(W), free(b), free(dy), free(y0), free(dx0), free(dW0), free(db0);
    }
    nn_workspace_free(&ws);
}

/* ---- activations from their output ---- */

Test(grad_linear, activation_backward_from_output_matches_pytorch) {
    cJSON *doc = fx_require("grad_act.json");
    int count = 0;
    for (const cJSON *c = fx_cases(doc); c; c = c->next) {
        size_t n;
        float *x = fx_tensor_f32(c, "input", NULL, NULL, &n), *dy = fx_tensor_f32(c, "grad_output", NULL, NULL, NULL);
        double *want = fx_tensor_f64(c, "grad_input", NULL, NULL, NULL);
        nn_activation a;
        cr_assert_eq(nn_act_parse(fx_str(c, "activation"), &a, NULL), NN_OK);
        a.negative_slope = (float)fx_num(c, "negative_slope");
        float *y = gt_zeros(n), *dx = gt_zeros(n), *dz = gt_zeros(n);
        nn_act_forward(y, x, n, a);
        for (size_t i = 0; i < n; i++) dx[i] = 1.0f;
        nn_act_backward_output(dx, dy, y, n, a);
        for (size_t i = 0; i < n; i++) dx[i] -= 1.0f; /* it added */
        nn_act_grad_output(dz, dy, y, n, a);
        double e = fx_max_rel_err_f32(dx, want, n, 1.0), e2 = fx_max_rel_err_f32(dz, want, n, 1.0);
        cr_expect(e <= 1e-6 && e2 <= 1e-6, "%s: %.3g %.3g", fx_str(c, "name"), e, e2);
        memcpy(dz, dy, n * sizeof *dz); /* in place */
        nn_act_grad_output(dz, dz, y, n, a);
        cr_expect(fx_max_rel_err_f32(dz, want, n, 1.0) <= 1e-6);
        free(x), free(dy), free(want), free(y), free(dx), free(dz);
        count++;
    }
    cr_assert_eq(count, 7);
    cJSON_Delete(doc);
}

/* Every activation's backward (from its input, and from its output as the training uses it)
 * against central differences of the library's own forward, away from ReLU's kink. */
Test(grad_linear, activations_match_finite_differences) {
    nn_rng r;
    nn_rng_seed(&r, 34);
    for (int k = 0; k < 5; k++) {
        nn_activation a = {(nn_act_kind)k, 0.125f};
        enum { N = 64 };
        float x[N], dy[N], y[N], dx[N] = {0}, dz[N];
        for (size_t i = 0; i < N; i++) {
            x[i] = 6.0f * nn_rng_uniformf(&r) - 3.0f;
            if (fabsf(x[i]) < 0.05f) x[i] = 0.5f; /* no kink within +-h */
            dy[i] = 2.0f * nn_rng_uniformf(&r) - 1.0f;
        }
        nn_act_forward(y, x, N, a);
        nn_act_backward(dx, dy, x, N, a);
        nn_act_grad_output(dz, dy, y, N, a);
        for (size_t i = 0; i < N; i++) {
            const float h = 0.01f;
            double fd = dy[i] * ((double)nn_act_scalar(x[i] + h, a) - nn_act_scalar(x[i] - h, a)) /
                        (double)((x[i] + h) - (x[i] - h));
            /* truncation (h^2 times the third derivative / 6) and float rounding / h: ~2e-5 */
            cr_assert(fabs(dx[i] - fd) <= 1e-4 && fabs(dz[i] - fd) <= 1e-4, "%s at %g: dx %.7g dz %.7g fd %.7g",
                      nn_act_name(a.kind), x[i], dx[i], dz[i], fd);
        }
    }
}

/* The SIMD kernel the convolution uses for dz is nn_act_grad_output to the bit, NaN and
 * every tail length included, on every path. */
Test(grad_linear, tile_actgrad_is_act_grad_output) {
    nn_rng r;
    nn_rng_seed(&r, 33);
    for (int t = 0; t < 90; t++) {
        nn_cpu_set_simd(impls[t % 3]);
        size_t n = nn_rng_range(&r, 1, 70);
        float *dy = gt_uniform(&r, n, 3), *y = gt_uniform(&r, n, 2), *a = gt_zeros(n), *b = gt_zeros(n);
        y[nn_rng_range(&r, 0, n - 1)] = NAN, y[nn_rng_range(&r, 0, n - 1)] = 0.0f;
        nn_activation act = {(nn_act_kind)(t / 3 % 5), 0.125f};
        nn_act_grad_output(a, dy, y, n, act);
        nn_tile_pick()->actgrad(b, dy, y, n, act);
        cr_assert(!memcmp(a, b, n * sizeof *a), "trial %d %s on %s", t, nn_act_name(act.kind), nn_tile_pick()->name);
        free(dy), free(y), free(a), free(b);
    }
}

/* ReLU's gradient passes a NaN output's dy, as torch's threshold_backward does. */
Test(grad_linear, relu_backward_at_zero_and_nan) {
    float y[3] = {0.0f, NAN, 2.0f}, dy[3] = {5, 6, 7}, dx[3] = {0, 0, 0};
    nn_act_backward_output(dx, dy, y, 3, (nn_activation){NN_ACT_RELU, 0});
    cr_assert(dx[0] == 0.0f && dx[1] == 6.0f && dx[2] == 7.0f);
    nn_act_grad_output(dx, dy, y, 3, (nn_activation){NN_ACT_LEAKY_RELU, 0.5f});
    cr_assert(dx[0] == 2.5f && dx[1] == 3.0f && dx[2] == 7.0f);
}

/* ---- softmax cross-entropy ---- */

Test(grad_linear, softmax_ce_matches_pytorch) {
    cJSON *doc = fx_require("grad_loss.json");
    int count = 0;
    for (const cJSON *c = fx_cases(doc); c; c = c->next) {
        size_t shape[8], nd, n;
        float *z = fx_tensor_f32(c, "logits", shape, &nd, &n);
        double *want = fx_tensor_f64(c, "grad_logits", NULL, NULL, NULL);
        size_t B = shape[0], K = shape[1];
        int32_t *t = malloc(B * sizeof *t);
        const cJSON *tj = cJSON_GetObjectItemCaseSensitive(c, "target");
        for (size_t b = 0; b < B; b++) t[b] = (int32_t)cJSON_GetArrayItem(tj, (int)b)->valuedouble;
        float *d = gt_zeros(n);
        double loss;
        size_t correct;
        nn_error err;
        cr_assert_eq(nn_softmax_ce(&loss, d, &correct, z, t, B, K, &err), NN_OK, "%s", err.message);
        double wl = fx_num(c, "loss");
        cr_expect(fabs(loss - wl) <= 1e-9 * fmax(1, fabs(wl)), "%s: loss %.12g torch %.12g", fx_str(c, "name"), loss, wl);
        cr_expect(fx_max_rel_err_f32(d, want, n, 1.0 / (double)B) <= 1e-6, "%s: dlogits", fx_str(c, "name"));
        cr_expect_eq(correct, (size_t)fx_num(c, "correct"), "%s", fx_str(c, "name"));
        /* loss alone, gradient alone */
        double l2;
        cr_assert_eq(nn_softmax_ce(&l2, NULL, NULL, z, t, B, K, NULL), NN_OK);
        cr_assert_eq(l2, loss);
        free(z), free(want), free(t), free(d);
        count++;
    }
    cr_assert_eq(count, 8);
    cJSON_Delete(doc);
}

/* Logits far beyond exp's range give finite loss and gradients; NaN gives NaN. */
Test(grad_linear, softmax_ce_is_stable) {
    float z[6] = {1e30f, -1e30f, 0.0f, 3e38f, 3e38f, -3e38f};
    int32_t t[2] = {1, 0};
    float d[6] = {0};
    double loss;
    cr_assert_eq(nn_softmax_ce(&loss, d, NULL, z, t, 2, 3, NULL), NN_OK);
    cr_assert(fabs(loss - (2e30 + log(2.0)) / 2) <= 1e-6 * 1e30, "loss %g", loss);
    cr_assert(d[0] == 0.5f && d[1] == -0.5f && d[2] == 0.0f, "%g %g %g", d[0], d[1], d[2]);
    cr_assert(fabsf(d[3] + 0.25f) < 1e-7f && fabsf(d[4] - 0.25f) < 1e-7f && d[5] == 0.0f);
    float n[2] = {NAN, 1.0f}, dn[2] = {0};
    int32_t t0 = 1;
    cr_assert_eq(nn_softmax_ce(&loss, dn, NULL, n, &t0, 1, 2, NULL), NN_OK);
    cr_assert(isnan(loss) && isnan(dn[0]) && isnan(dn[1]));
}

/* ---- finite differences through linear + loss, in float64 ---- */

static double fd_loss(const double *x, const double *W, const double *b, const int32_t *t, size_t B, size_t in,
                      size_t out) {
    double L = 0;
    for (size_t r = 0; r < B; r++) {
        double z[16], m = -INFINITY, s = 0;
        for (size_t o = 0; o < out; o++) {
            z[o] = b[o];
            for (size_t i = 0; i < in; i++) z[o] += x[r * in + i] * W[i * out + o];
            m = fmax(m, z[o]);
        }
        for (size_t o = 0; o < out; o++) s += exp(z[o] - m);
        L += m + log(s) - z[t[r]];
    }
    return L / (double)B;
}

Test(grad_linear, linear_and_loss_match_finite_differences) {
    nn_rng r;
    nn_rng_seed(&r, 32);
    for (int trial = 0; trial < 30; trial++) {
        size_t B = nn_rng_range(&r, 1, 9), in = nn_rng_range(&r, 1, 30), out = nn_rng_range(&r, 2, 16);
        float *x = gt_uniform(&r, B * in, 1), *W = gt_uniform(&r, in * out, 1), *b = gt_uniform(&r, out, 1);
        int32_t t[9];
        for (size_t k = 0; k < B; k++) t[k] = (int32_t)nn_rng_range(&r, 0, out - 1);
        float *z = gt_zeros(B * out), *dz = gt_zeros(B * out), *dx = gt_zeros(B * in), *dW = gt_zeros(in * out), *db = gt_zeros(out);
        cr_assert_eq(nn_linear_batch_forward(z, x, W, b, B, in, out, NULL, NULL), NN_OK);
        cr_assert_eq(nn_softmax_ce(NULL, dz, NULL, z, t, B, out, NULL), NN_OK);
        cr_assert_eq(nn_linear_batch_backward(dx, dW, db, dz, x, W, B, in, out, NULL, NULL), NN_OK);
        double *v[3] = {malloc(B * in * sizeof(double)), malloc(in * out * sizeof(double)), malloc(out * sizeof(double))};
        const float *src[3] = {x, W, b}, *got[3] = {dx, dW, db};
        size_t n[3] = {B * in, in * out, out};
        for (int k = 0; k < 3; k++)
            for (size_t i = 0; i < n[k]; i++) v[k][i] = src[k][i];
        for (int k = 0; k < 3; k++)
            for (int q = 0; q < 5; q++) {
                size_t i = nn_rng_range(&r, 0, n[k] - 1);
                double keep = v[k][i], h = 1e-6;
                v[k][i] = keep + h;
                double up = fd_loss(v[0], v[1], v[2], t, B, in, out);
                v[k][i] = keep - h;
                double down = fd_loss(v[0], v[1], v[2], t, B, in, out);
                v[k][i] = keep;
                double want = (up - down) / (2 * h);
                cr_assert(fabs(got[k][i] - want) <= 1e-5 * fmax(1, fabs(want)), "trial %d tensor %d [%zu]: %.8g vs %.8g",
                          trial, k, i, got[k][i], want);
            }
        for (int k = 0; k < 3; k++) free(v[k]);
        free(x), free(W), free(b), free(z), free(dz), free(dx), free(dW), free(db);
    }
}

Test(grad_linear, validation_errors_name_the_field) {
    float buf[16] = {0};
    int32_t t[2] = {0, 3};
    nn_error err;
    gt_expect_error(nn_linear_batch_forward(buf, buf, buf, NULL, 0, 2, 2, NULL, &err), NN_INVALID, &err, "input");
    gt_expect_error(nn_linear_batch_forward(NULL, buf, buf, NULL, 1, 2, 2, NULL, &err), NN_INVALID, &err, "output");
    gt_expect_error(nn_linear_batch_forward(buf, buf, NULL, NULL, 1, 2, 2, NULL, &err), NN_INVALID, &err, "weights");
    gt_expect_error(nn_linear_batch_backward(buf, buf, buf, NULL, buf, buf, 1, 2, 2, NULL, &err), NN_INVALID, &err, "grad_output");
    gt_expect_error(nn_linear_batch_backward(NULL, buf, NULL, buf, NULL, buf, 1, 2, 2, NULL, &err), NN_INVALID, &err, "input");
    gt_expect_error(nn_linear_batch_backward(buf, NULL, NULL, buf, buf, NULL, 1, 2, 2, NULL, &err), NN_INVALID, &err, "weights");
    gt_expect_error(nn_linear_batch_forward(buf, buf, buf, NULL, SIZE_MAX / 4, 8, 2, NULL, &err), NN_TOO_LARGE, &err, "input");
    gt_expect_error(nn_softmax_ce(NULL, buf, NULL, buf, t, 2, 3, &err), NN_INVALID, &err, "target");
    t[1] = -1;
    gt_expect_error(nn_softmax_ce(NULL, buf, NULL, buf, t, 2, 3, &err), NN_INVALID, &err, "target");
    gt_expect_error(nn_softmax_ce(NULL, buf, NULL, buf, NULL, 2, 3, &err), NN_INVALID, &err, "target");
    gt_expect_error(nn_softmax_ce(NULL, buf, NULL, buf, t, 0, 3, &err), NN_INVALID, &err, "logits");
    gt_expect_error(nn_softmax_ce(NULL, buf, NULL, NULL, t, 1, 3, &err), NN_INVALID, &err, "logits");
}
