/* test_pool_sep.c — the two windowed-pooling kernels (direct and separable, core/nn_pool_sep.h)
 * against the naive loop on many shapes (few and many channels, windows up to the whole input,
 * stride 1 to wider than the window, every tiling path), with NaNs of several payloads and
 * zeros of both signs: max pooling bit for bit, the average within its documented rounding; the
 * separable kernel's bits on every SIMD level and thread count; its operation count (the work
 * budget's) against what an instrumented copy of the kernel does. (Which NaN an average gives
 * is not compared: x86 returns one operand's payload and a compiler may swap an addition's
 * operands.) */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn_cpu.h"
#include "nn_parallel.h"
#include "nn_pool.h"
#include "nn_rng.h"

/* ---- an instrumented copy of the separable kernel (its SEP_COUNT_* hooks count) ---------- */

static struct {
    double vector, scalar, calls, split;
} counted;

#define SEP_COUNT_RUN(L)                                                                       \
    (counted.vector += (double)((L) - (L) % 4), counted.scalar += (double)((L) % 4),          \
     counted.calls += 1.0)
#define SEP_COUNT_SCALAR(k) (counted.scalar += (double)(k), counted.calls += 1.0)
#define SEP_COUNT_SPLIT(n) (counted.split += (double)(n), counted.calls += 1.0)
#define nn_pool_sep_tiles counted_sep_tiles
#define nn_pool_sep_plan_for counted_sep_plan_for
#define nn_pool_sep_count counted_sep_count
#include "nn_pool_sep.c"
#undef nn_pool_sep_tiles
#undef nn_pool_sep_plan_for
#undef nn_pool_sep_count

/* ---- shapes and inputs ------------------------------------------------------------------- */

typedef struct shape {
    size_t H, W, C, kh, kw, sh, sw;
} shape;

/* Chosen to reach every path: one to three channels and many, stride 1 with windows up to the
 * whole input, strides wider than the window (rows and columns between windows), tall and wide
 * windows, stride phases that do not fit their buffer (output by output), partial last tiles. */
static const shape SHAPES[] = {
    {64, 64, 1, 33, 33, 1, 1},   {64, 64, 3, 64, 64, 1, 1},    {100, 37, 2, 17, 30, 1, 1},
    {50, 200, 1, 1, 150, 1, 1},  {200, 50, 1, 150, 1, 1, 1},   {128, 128, 1, 128, 1, 1, 1},
    {64, 64, 1, 8, 8, 3, 5},     {61, 67, 3, 7, 5, 2, 7},      {40, 40, 1, 3, 3, 7, 7},
    {64, 64, 5, 2, 2, 2, 2},     {33, 33, 17, 4, 4, 1, 1},     {20, 300, 1, 9, 40, 1, 4},
    {300, 20, 1, 40, 9, 4, 1},   {16, 16, 64, 3, 3, 1, 1},     {9, 9, 130, 5, 5, 2, 1},
    {30, 30, 1, 30, 30, 1, 1},   {1, 500, 1, 1, 500, 1, 1},    {500, 1, 1, 500, 1, 1, 1},
    {8, 64, 600, 2, 40, 1, 2},   {8, 64, 300, 2, 40, 1, 2},    {5, 3000, 1, 2, 1500, 1, 3},
    {70, 90, 4, 11, 13, 1, 1},   {257, 513, 1, 256, 256, 1, 1}, {96, 96, 3, 5, 5, 1, 3},
    {12, 12, 4100, 3, 3, 1, 1},  {1, 1, 1, 1, 1, 1, 1},         {2, 2, 1, 2, 2, 1, 1},
};
#define NSHAPES (sizeof SHAPES / sizeof SHAPES[0])

static nn_pool_params params_of(const shape *s, nn_pool_kind kind) {
    return (nn_pool_params){kind, s->kh, s->kw, s->sh, s->sw};
}

/* Uniform values in [-1, 1] with NaNs of several payloads and both signs (2 %), zeros of both
 * signs (5 %) and, for max pooling, infinities (1 %). */
static float *make_input(size_t n, uint64_t seed, int with_inf) {
    float *x = malloc(n * sizeof *x);
    cr_assert_not_null(x);
    nn_rng r;
    nn_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) {
        uint64_t pick = nn_rng_range(&r, 0, 99);
        if (pick < 2) {
            uint32_t bits = (pick ? 0xffc00000u : 0x7fc00000u) | (uint32_t)nn_rng_range(&r, 1, 1000);
            memcpy(&x[i], &bits, sizeof bits);
        } else if (pick < 7) {
            x[i] = pick % 2 ? -0.0f : 0.0f;
        } else if (pick < 8 && with_inf) {
            x[i] = nn_rng_range(&r, 0, 1) ? INFINITY : -INFINITY;
        } else {
            x[i] = 2.0f * nn_rng_uniformf(&r) - 1.0f;
        }
    }
    return x;
}

static shape random_shape(nn_rng *r) {
    shape s;
    s.H = nn_rng_range(r, 1, 80);
    s.W = nn_rng_range(r, 1, 80);
    s.C = nn_rng_range(r, 1, 4) == 1 ? nn_rng_range(r, 5, 40) : nn_rng_range(r, 1, 4);
    s.kh = nn_rng_range(r, 1, s.H);
    s.kw = nn_rng_range(r, 1, s.W);
    s.sh = nn_rng_range(r, 1, 6);
    s.sw = nn_rng_range(r, 1, 6);
    return s;
}

/* ---- both kernels against the naive loop ------------------------------------------------- */

/* Bits of max pooling; the average within (kh + kw + 1) roundings of the window's mean |x| for
 * the separable kernel, (kh * kw + 1) for the direct one (their summation orders, nn_pool.h). */
static void expect_like_naive(const shape *s, nn_pool_kind kind, nn_pool_kernel kernel,
                              const float *x, const float *want, const float *got, size_t OH,
                              size_t OW, const char *what) {
    const size_t C = s->C;
    double roundings = kernel == NN_POOL_KERNEL_SEPARABLE ? (double)(s->kh + s->kw + 1)
                                                          : (double)(s->kh * s->kw + 1);
    for (size_t oy = 0; oy < OH; oy++)
        for (size_t ox = 0; ox < OW; ox++)
            for (size_t c = 0; c < C; c++) {
                size_t i = (oy * OW + ox) * C + c;
                if (kind == NN_POOL_MAX) {
                    cr_assert_eq(memcmp(&got[i], &want[i], sizeof(float)), 0,
                                 "%s %zux%zux%zu k%zux%zu s%zux%zu: y[%zu,%zu,%zu] = %a, naive %a",
                                 what, s->H, s->W, C, s->kh, s->kw, s->sh, s->sw, oy, ox, c,
                                 (double)got[i], (double)want[i]);
                    continue;
                }
                if (isnan(want[i])) {
                    cr_assert(isnan(got[i]), "%s: y[%zu] = %g, naive NaN", what, i, (double)got[i]);
                    continue;
                }
                double abs_sum = 0.0;
                for (size_t ky = 0; ky < s->kh; ky++)
                    for (size_t kx = 0; kx < s->kw; kx++)
                        abs_sum += fabs(x[((oy * s->sh + ky) * s->W + ox * s->sw + kx) * C + c]);
                double tol = roundings * 0x1p-24 * abs_sum / (double)(s->kh * s->kw) + 1e-30;
                cr_assert_leq(fabs((double)got[i] - (double)want[i]), tol,
                              "%s %zux%zux%zu k%zux%zu s%zux%zu: y[%zu] = %.9g, naive %.9g",
                              what, s->H, s->W, C, s->kh, s->kw, s->sh, s->sw, i, (double)got[i],
                              (double)want[i]);
            }
}

static void check_shape(const shape *s, uint64_t seed) {
    for (int k = 0; k < 2; k++) {
        nn_pool_kind kind = k ? NN_POOL_AVG : NN_POOL_MAX;
        nn_pool_params p = params_of(s, kind);
        size_t OH, OW;
        nn_error err;
        cr_assert_eq(nn_pool_output_size(s->H, s->W, s->C, &p, &OH, &OW, &err), NN_OK, "%s", err.message);
        float *x = make_input(s->H * s->W * s->C, seed, kind == NN_POOL_MAX);
        size_t ny = OH * OW * s->C;
        float *want = malloc(ny * sizeof *want), *got = malloc(ny * sizeof *got);
        cr_assert_eq(nn_pool2d_naive(want, x, s->H, s->W, s->C, &p, &err), NN_OK);
        for (int kn = 0; kn < 2; kn++) {
            nn_pool_kernel kernel = kn ? NN_POOL_KERNEL_SEPARABLE : NN_POOL_KERNEL_DIRECT;
            memset(got, 0xA5, ny * sizeof *got);
            cr_assert_eq(nn_pool2d_forward_kernel(got, x, s->H, s->W, s->C, &p, kernel, &err), NN_OK);
            expect_like_naive(s, kind, kernel, x, want, got, OH, OW, kn ? "separable" : "direct");
        }
        free(x);
        free(want);
        free(got);
    }
}

Test(pool_sep, both_kernels_match_the_naive_loop_on_chosen_shapes, .timeout = 120) {
    for (size_t i = 0; i < NSHAPES; i++) check_shape(&SHAPES[i], 100 + i);
}

Test(pool_sep, both_kernels_match_the_naive_loop_on_random_shapes, .timeout = 120) {
    nn_rng r;
    nn_rng_seed(&r, 2024);
    for (int t = 0; t < 300; t++) {
        shape s = random_shape(&r);
        check_shape(&s, 1000 + (uint64_t)t);
    }
}

/* PyTorch's element (tests/reference/gen_numpy.py cannot make these): the first maximum in
 * row-major order, so a zero maximum keeps the sign of the first zero; the last NaN. A
 * column-first reduction would pick the -0 at (1, 0) and the NaN at (0, 1). */
Test(pool_sep, max_takes_the_first_zero_and_the_last_nan_in_row_major_order) {
    const uint32_t nan_a = 0x7fc00001u, nan_b = 0xffc00002u;
    float x[2 * 2], y[1];
    x[0] = -1.0f, x[1] = 0.0f, x[2] = -0.0f, x[3] = -1.0f;
    nn_pool_params p = {NN_POOL_MAX, 2, 2, 1, 1};
    for (int kn = 0; kn < 2; kn++) {
        nn_pool_kernel kernel = kn ? NN_POOL_KERNEL_SEPARABLE : NN_POOL_KERNEL_DIRECT;
        cr_assert_eq(nn_pool2d_forward_kernel(y, x, 2, 2, 1, &p, kernel, NULL), NN_OK);
        cr_assert(y[0] == 0.0f && !signbit(y[0]), "kernel %d: %g", kn, (double)y[0]);
    }
    memcpy(&x[1], &nan_a, 4);
    memcpy(&x[2], &nan_b, 4);
    for (int kn = 0; kn < 2; kn++) {
        nn_pool_kernel kernel = kn ? NN_POOL_KERNEL_SEPARABLE : NN_POOL_KERNEL_DIRECT;
        cr_assert_eq(nn_pool2d_forward_kernel(y, x, 2, 2, 1, &p, kernel, NULL), NN_OK);
        uint32_t bits;
        memcpy(&bits, y, 4);
        cr_assert_eq(bits, nan_b, "kernel %d: %08x", kn, bits);
    }
}

/* ---- the separable kernel's bits on every level and thread count ------------------------- */

Test(pool_sep, the_same_bits_on_every_simd_level_and_thread_count, .timeout = 120) {
    static const nn_simd levels[] = {NN_SIMD_GENERIC, NN_SIMD_AVX2, NN_SIMD_AVX512};
    size_t compared = 0;
    for (size_t i = 0; i < NSHAPES; i++) {
        const shape *s = &SHAPES[i];
        for (int k = 0; k < 2; k++) {
            nn_pool_params p = params_of(s, k ? NN_POOL_AVG : NN_POOL_MAX);
            size_t OH, OW;
            cr_assert_eq(nn_pool_output_size(s->H, s->W, s->C, &p, &OH, &OW, NULL), NN_OK);
            float *x = make_input(s->H * s->W * s->C, 7 + i, 0);
            size_t ny = OH * OW * s->C;
            float *first = malloc(ny * sizeof *first), *y = malloc(ny * sizeof *y);
            int have_first = 0;
            for (size_t l = 0; l < 3; l++) {
                if (nn_cpu_set_simd(levels[l]) != levels[l]) continue;
                for (int th = 0; th < 2; th++) {
                    nn_parallel_set_threads(th ? 0 : 1);
                    cr_assert_eq(nn_pool2d_forward_kernel(have_first ? y : first, x, s->H, s->W, s->C,
                                                          &p, NN_POOL_KERNEL_SEPARABLE, NULL), NN_OK);
                    for (size_t j = 0; have_first && j < ny; j++) /* an average's NaN: any */
                        cr_assert(memcmp(&y[j], &first[j], sizeof *y) == 0 ||
                                      (k && isnan(y[j]) && isnan(first[j])),
                                  "shape %zu %s level %d threads %d: y[%zu] = %a, first %a", i,
                                  k ? "avg" : "max", (int)levels[l], th, j, (double)y[j],
                                  (double)first[j]);
                    have_first = 1;
                    compared++;
                }
            }
            free(x);
            free(first);
            free(y);
        }
    }
    nn_cpu_set_simd(NN_SIMD_AUTO);
    nn_parallel_set_threads(0);
    cr_assert_geq(compared, 2 * 2 * NSHAPES);
}

/* ---- the count is what the kernel does ---------------------------------------------------- */

static void expect_counted(const shape *s, nn_pool_kind kind) {
    nn_pool_params p = params_of(s, kind);
    size_t OH, OW;
    cr_assert_eq(nn_pool_output_size(s->H, s->W, s->C, &p, &OH, &OW, NULL), NN_OK);
    if (s->C > NN_POOL_SEP_MAX_C) return;
    float *x = make_input(s->H * s->W * s->C, 3, 0), *y = malloc(OH * OW * s->C * sizeof *y);
    nn_pool_sep_plan plan = counted_sep_plan_for(OW, s->C, &p);
    memset(&counted, 0, sizeof counted);
    cr_assert_eq(counted_sep_tiles(y, x, s->W, s->C, OH, OW, &p, &plan, 0, plan.tiles), 0);
    nn_pool_sep_ops want = counted_sep_count(OH, OW, s->C, &p);
    cr_assert(counted.vector == want.vector && counted.scalar == want.scalar &&
                  counted.calls == want.calls && counted.split == want.split,
              "%zux%zux%zu k%zux%zu s%zux%zu %s: did %g/%g/%g/%g, counted %g/%g/%g/%g "
              "(vector/scalar/calls/split)", s->H, s->W, s->C, s->kh, s->kw, s->sh, s->sw,
              kind == NN_POOL_MAX ? "max" : "avg", counted.vector, counted.scalar, counted.calls,
              counted.split, want.vector, want.scalar, want.calls, want.split);
    free(x);
    free(y);
}

Test(pool_sep, the_count_is_what_the_kernel_does, .timeout = 60) {
    for (size_t i = 0; i < NSHAPES; i++)
        for (int k = 0; k < 2; k++) expect_counted(&SHAPES[i], k ? NN_POOL_AVG : NN_POOL_MAX);
    nn_rng r;
    nn_rng_seed(&r, 31);
    for (int t = 0; t < 200; t++) {
        shape s = random_shape(&r);
        expect_counted(&s, t % 2 ? NN_POOL_AVG : NN_POOL_MAX);
    }
}
