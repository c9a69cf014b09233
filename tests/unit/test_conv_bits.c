/* test_conv_bits.c — the AVX-512, AVX2 and portable convolution kernels give bit-identical
 * outputs (the HTTP contract: the same request gives the same bytes on any machine): random
 * shapes through every path this CPU has (forced with nn_cpu_set_simd), compared with memcmp,
 * the fused activations on a sweep of pre-activation values, and the dispatch table itself. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_conv.h"
#include "nn_conv_dispatch.h"
#include "nn_cpu.h"
#include "nn_conv_wino.h"
#include "nn_rng.h"

static const char *const impl_names[] = {"generic", "avx2", "avx512"};

/* out[i] = the convolution on kernel i, or unset where the CPU lacks it; returns how many ran. */
static int run_all(float *out[3], size_t ny, const float *x, const float *k, const float *b, size_t H,
                   size_t W, size_t C, size_t N, size_t KH, size_t KW, const nn_conv_params *p) {
    int ran = 0;
    for (int i = NN_SIMD_GENERIC; i <= NN_SIMD_AVX512; i++) {
        out[i] = NULL;
        if ((int)nn_cpu_set_simd(i) != i) continue;
        /* 64-byte aligned, as a model's buffers are: big outputs then take the streaming stores */
        out[i] = aligned_alloc(64, ((ny ? ny : 1) * sizeof(float) + 63) / 64 * 64);
        cr_assert_not_null(out[i]);
        nn_error err;
        cr_assert_eq(nn_conv2d_forward(out[i], x, k, b, H, W, C, N, KH, KW, p, NULL, &err), NN_OK, "%s",
                     err.message);
        ran++;
    }
    nn_cpu_set_simd(NN_SIMD_AUTO);
    return ran;
}

/* First differing float of two outputs, or -1. */
static ptrdiff_t first_diff(const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (memcmp(a + i, b + i, sizeof(float))) return (ptrdiff_t)i;
    return -1;
}

static void expect_same(float *out[3], size_t ny, const char *what) {
    for (int i = NN_SIMD_AVX2; i <= NN_SIMD_AVX512; i++) {
        if (!out[i]) continue;
        ptrdiff_t d = first_diff(out[i], out[NN_SIMD_GENERIC], ny);
        cr_assert_eq(d, -1, "%s: %s and generic differ at %td: %a vs %a", what, impl_names[i], d,
                     d < 0 ? 0.0 : (double)out[i][d], d < 0 ? 0.0 : (double)out[NN_SIMD_GENERIC][d]);
    }
}

/* Values in [-scale, scale], with some exact +-0 (signed zeros must agree too). */
static float *rand_array(nn_rng *r, size_t n, float scale) {
    float *a = malloc((n ? n : 1) * sizeof *a);
    cr_assert_not_null(a);
    for (size_t i = 0; i < n; i++) {
        uint64_t pick = nn_rng_range(r, 0, 31);
        a[i] = pick == 0 ? 0.0f : pick == 1 ? -0.0f : scale * (2.0f * nn_rng_uniformf(r) - 1.0f);
    }
    return a;
}

Test(conv_bits, every_path_gives_the_same_bits_on_random_shapes, .timeout = 120) {
    nn_rng r;
    nn_rng_seed(&r, 20261129);
    int compared = 0;
    for (int t = 0; t < 600; t++) {
        size_t N = nn_rng_range(&r, 0, 3) == 0 ? 1 : nn_rng_range(&r, 1, 70);
        size_t C = nn_rng_range(&r, 1, 8), KH = nn_rng_range(&r, 1, 5), KW = nn_rng_range(&r, 1, 5);
        size_t H = nn_rng_range(&r, 1, 24), W = nn_rng_range(&r, 1, N == 1 ? 150 : 60);
        nn_conv_params p = {nn_rng_range(&r, 1, 3), nn_rng_range(&r, 1, 3), nn_rng_range(&r, 0, 2),
                            nn_rng_range(&r, 0, 2), {(nn_act_kind)(t % 5), 0.01f}};
        size_t OH, OW;
        if (nn_conv_output_size(H, W, C, N, KH, KW, &p, &OH, &OW, NULL) != NN_OK) { t--; continue; }
        /* scales spread the pre-activations over the polynomial, exp and saturated ranges */
        float scale = (float)nn_rng_range(&r, 1, 4) * 0.5f;
        float *x = rand_array(&r, H * W * C, scale), *k = rand_array(&r, N * KH * KW * C, 1.0f);
        float *b = nn_rng_range(&r, 0, 2) ? rand_array(&r, N, 1.0f) : NULL;
        size_t ny = OH * OW * N;
        float *out[3];
        int ran = run_all(out, ny, x, k, b, H, W, C, N, KH, KW, &p);
        char what[160];
        snprintf(what, sizeof what, "trial %d: %zux%zux%zu n%zu k%zux%zu s%zux%zu p%zux%zu %s", t, H, W, C, N,
                 KH, KW, p.stride_h, p.stride_w, p.pad_h, p.pad_w, nn_act_name(p.act.kind));
        expect_same(out, ny, what);
        compared += ran > 1;
        free(x), free(k), free(b);
        for (int i = 0; i < 3; i++) free(out[i]);
    }
    cr_log_info("%d shapes compared across paths", compared);
}

/* A 1x1 identity kernel makes the convolution the bare fused activation: sweep pre-activations
 * over [-100, 100] densely and over tiny and huge magnitudes, for one and many channels. */
Test(conv_bits, fused_activations_same_bits) {
    const size_t n = 40000;
    float *x = malloc(n * sizeof *x);
    cr_assert_not_null(x);
    for (size_t i = 0; i < n; i++) {
        if (i < 30000) x[i] = -100.0f + 200.0f * (float)i / 30000.0f;
        else {
            float mag = ldexpf(1.0f + (float)(i % 7) / 7.0f, (int)(i % 300) - 150);
            x[i] = i % 2 ? mag : -mag;
        }
    }
    x[0] = 0.0f, x[1] = -0.0f, x[2] = INFINITY, x[3] = -INFINITY, x[4] = 0.625f, x[5] = -0.625f;
    for (size_t N = 1; N <= 17; N += 16) {
        float *k = malloc(N * sizeof *k);
        for (size_t j = 0; j < N; j++) k[j] = 1.0f;
        for (int a = 0; a < 5; a++) {
            nn_conv_params p = {1, 1, 0, 0, {(nn_act_kind)a, 0.01f}};
            float *out[3];
            run_all(out, n * N, x, k, NULL, 1, n, 1, N, 1, 1, &p);
            char what[64];
            snprintf(what, sizeof what, "N=%zu %s", N, nn_act_name((nn_act_kind)a));
            expect_same(out, n * N, what);
            for (int i = 0; i < 3; i++) free(out[i]);
        }
        free(k);
    }
    free(x);
}

/* The Winograd path (nn_conv_wino.h: 3x3, stride 1, C <= 4, N a multiple of 64) on its own:
 * every channel count, odd and even output sizes (half tiles), paddings 0-5 (wider than the
 * kernel: rows and columns of bias only), one to four filter groups, all activations, and one
 * aligned output past 8 MB so the streaming stores run too. */
Test(conv_bits, winograd_path_same_bits, .timeout = 120) {
    nn_rng r;
    nn_rng_seed(&r, 20261130);
    static const size_t counts[] = {64, 128, 192, 256};
    for (int t = 0; t < 120; t++) {
        int big = t == 0;
        size_t C = nn_rng_range(&r, 1, 4), N = big ? 64 : counts[nn_rng_range(&r, 0, 3)];
        size_t H = big ? 200 : nn_rng_range(&r, 1, 19), W = big ? 180 : nn_rng_range(&r, 1, 23);
        nn_conv_params p = {1, 1, nn_rng_range(&r, 0, 5), nn_rng_range(&r, 0, 5), {(nn_act_kind)(t % 5), 0.01f}};
        size_t OH, OW;
        if (nn_conv_output_size(H, W, C, N, 3, 3, &p, &OH, &OW, NULL) != NN_OK) { t--; continue; }
        nn_conv_job j = {.C = C, .N = N, .KH = 3, .KW = 3, .sh = 1, .sw = 1};
        cr_assert(nn_conv_wino_applies(&j), "C=%zu N=%zu should take the Winograd path", C, N);
        float scale = (float)nn_rng_range(&r, 1, 4) * 0.5f;
        float *x = rand_array(&r, H * W * C, scale), *k = rand_array(&r, N * 9 * C, 1.0f);
        float *b = nn_rng_range(&r, 0, 2) ? rand_array(&r, N, 1.0f) : NULL;
        size_t ny = OH * OW * N;
        float *out[3];
        run_all(out, ny, x, k, b, H, W, C, N, 3, 3, &p);
        char what[160];
        snprintf(what, sizeof what, "trial %d: %zux%zux%zu n%zu p%zux%zu %s", t, H, W, C, N, p.pad_h, p.pad_w,
                 nn_act_name(p.act.kind));
        expect_same(out, ny, what);
        free(x), free(k), free(b);
        for (int i = 0; i < 3; i++) free(out[i]);
    }
}

/* The operation is chosen from the shapes alone (the same on every path), and every SIMD table
 * the CPU has fills every forward slot with its own kernel. */
Test(conv_bits, dispatch_chooses_once_and_tables_are_complete) {
    nn_conv_job j = {.C = 3, .N = 64, .KH = 3, .KW = 3, .sh = 1, .sw = 1};
    cr_assert_eq(nn_conv_choose(&j), NN_CONV_FWD_WINOGRAD);
    j.N = 48;
    cr_assert_eq(nn_conv_choose(&j), NN_CONV_FWD_BROADCAST, "48 filters: not whole Winograd groups");
    j.N = 64, j.C = 5;
    cr_assert_eq(nn_conv_choose(&j), NN_CONV_FWD_BROADCAST, "5 channels: too many for Winograd");
    j.C = 3, j.sw = 2;
    cr_assert_eq(nn_conv_choose(&j), NN_CONV_FWD_BROADCAST, "stride 2");
    j.N = 1;
    cr_assert_eq(nn_conv_choose(&j), NN_CONV_FWD_PLANAR);
    for (int level = NN_SIMD_GENERIC; level <= (int)nn_cpu_simd_max(); level++)
        for (int op = NN_CONV_FWD_WINOGRAD; op <= NN_CONV_FWD_BROADCAST; op++) {
            const nn_conv_kernel *k = nn_conv_kernel_at((nn_simd)level, (nn_conv_op)op);
            cr_assert(k && k->run && k->ws_floats, "level %d op %d has no kernel", level, op);
            if (level > NN_SIMD_GENERIC) /* its own, not the fallback of the level below */
                cr_assert_neq(k, nn_conv_kernel_at((nn_simd)(level - 1), (nn_conv_op)op), "level %d op %d", level, op);
        }
}
