/* test_grad_conv.c — the batched convolution layer's forward and backward (nn_conv_batch.h):
 * PyTorch autograd fixtures (float64 reference) on every SIMD path and on the naive reference;
 * the fast path against the naive one on hundreds of random shapes on every path; the same
 * bits on every path and thread count; finite differences of an independent float64 forward;
 * gradients added (not written); NULL gradients skipped; every validation error. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "grad_test.h"
#include "nn_conv_batch.h"
#include "nn_conv_dispatch.h"
#include "nn_cpu.h"
#include "nn_parallel.h"
#include "nn_rng.h"
#include "nn_tile.h"

static const int impls[] = {NN_SIMD_GENERIC, NN_SIMD_AVX2, NN_SIMD_AVX512};

/* ---- PyTorch fixtures ---- */

typedef struct conv_fx {
    float *x, *k, *b, *dy;
    double *y, *dx, *dk, *db;
    size_t B, H, W, C, N, KH, KW, OH, OW;
    nn_conv_params p;
    const char *name;
} conv_fx;

static void fx_read(const cJSON *c, conv_fx *f) {
    size_t xs[8], ks[8], ys[8], nd;
    f->x = fx_tensor_f32(c, "input", xs, &nd, NULL);
    f->k = fx_tensor_f32(c, "kernels", ks, &nd, NULL);
    f->dy = fx_tensor_f32(c, "grad_output", NULL, NULL, NULL);
    f->b = cJSON_GetObjectItemCaseSensitive(c, "bias") ? fx_tensor_f32(c, "bias", NULL, NULL, NULL) : NULL;
    f->y = fx_tensor_f64(c, "output", ys, &nd, NULL);
    f->dx = fx_tensor_f64(c, "grad_input", NULL, NULL, NULL);
    f->dk = fx_tensor_f64(c, "grad_kernels", NULL, NULL, NULL);
    f->db = fx_tensor_f64(c, "grad_bias", NULL, NULL, NULL);
    f->B = xs[0], f->H = xs[1], f->W = xs[2], f->C = xs[3];
    f->N = ks[0], f->KH = ks[1], f->KW = ks[2], f->OH = ys[1], f->OW = ys[2];
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(c, "stride"), *pd = cJSON_GetObjectItemCaseSensitive(c, "padding");
    f->p = (nn_conv_params){(size_t)cJSON_GetArrayItem(st, 0)->valuedouble, (size_t)cJSON_GetArrayItem(st, 1)->valuedouble,
                            (size_t)cJSON_GetArrayItem(pd, 0)->valuedouble, (size_t)cJSON_GetArrayItem(pd, 1)->valuedouble,
                            {NN_ACT_IDENTITY, 0.01f}};
    cr_assert_eq(nn_act_parse(fx_str(c, "activation"), &f->p.act, NULL), NN_OK);
    f->p.act.negative_slope = (float)fx_num(c, "negative_slope");
    f->name = fx_str(c, "name");
}

static void fx_free(conv_fx *f) {
    free(f->x), free(f->k), free(f->b), free(f->dy), free(f->y), free(f->dx), free(f->dk), free(f->db);
}

/* Every case of grad_conv.json through the fast path (impl >= 0) or the naive one (-1): the
 * output and all three gradients within 1e-5 of PyTorch's float64 autograd. */
static void run_fixtures(int impl) {
    if (impl >= 0) nn_cpu_set_simd(impl);
    cJSON *doc = fx_require("grad_conv.json");
    int count = 0;
    nn_workspace ws = {0};
    for (const cJSON *c = fx_cases(doc); c; c = c->next) {
        conv_fx f;
        fx_read(c, &f);
        size_t ny = f.B * f.OH * f.OW * f.N, nx = f.B * f.H * f.W * f.C, nk = f.N * f.KH * f.KW * f.C;
        float *y = gt_zeros(ny), *dx = gt_zeros(nx), *dk = gt_zeros(nk), *db = gt_zeros(f.N);
        nn_error err;
        nn_code rc = impl >= 0 ? nn_conv_batch_forward(y, f.x, f.k, f.b, f.B, f.H, f.W, f.C, f.N, f.KH, f.KW, &f.p, &ws, &err)
                               : nn_conv_batch_forward_naive(y, f.x, f.k, f.b, f.B, f.H, f.W, f.C, f.N, f.KH, f.KW, &f.p, &err);
        cr_assert_eq(rc, NN_OK, "%s: %s", f.name, err.message);
        rc = impl >= 0 ? nn_conv_batch_backward(dx, dk, db, f.dy, y, f.x, f.k, f.B, f.H, f.W, f.C, f.N, f.KH, f.KW, &f.p, &ws, &err)
                       : nn_conv_batch_backward_naive(dx, dk, db, f.dy, y, f.x, f.k, f.B, f.H, f.W, f.C, f.N, f.KH, f.KW, &f.p, &err);
        cr_assert_eq(rc, NN_OK, "%s: %s", f.name, err.message);
        double ey = fx_max_rel_err_f32(y, f.y, ny, 1.0), ex = fx_max_rel_err_f32(dx, f.dx, nx, 1.0),
               ek = fx_max_rel_err_f32(dk, f.dk, nk, 1.0), eb = fx_max_rel_err_f32(db, f.db, f.N, 1.0);
        cr_expect(ey <= 1e-5 && ex <= 1e-5 && ek <= 1e-5 && eb <= 1e-5, "%s (impl %d): y %.3g dx %.3g dk %.3g db %.3g",
                  f.name, impl, ey, ex, ek, eb);
        free(y), free(dx), free(dk), free(db);
        fx_free(&f);
        count++;
    }
    cr_assert_geq(count, 40);
    nn_workspace_free(&ws);
    cJSON_Delete(doc);
}

Test(grad_conv, naive_matches_pytorch) { run_fixtures(-1); }
Test(grad_conv, generic_matches_pytorch) { run_fixtures(NN_SIMD_GENERIC); }
Test(grad_conv, avx2_matches_pytorch) { run_fixtures(NN_SIMD_AVX2); }
Test(grad_conv, avx512_matches_pytorch) { run_fixtures(NN_SIMD_AVX512); }

/* The training kernels run at the forward convolution's SIMD level: NNLAB_SIMD or
 * nn_cpu_set_simd switches both, and every level the CPU has has its own table. */
Test(grad_conv, one_switch_for_the_forward_and_the_training_kernels) {
    setenv("NNLAB_SIMD", "generic", 1); /* each test runs in its own process */
    cr_assert_str_eq(nn_tile_pick()->name, "generic");
    for (int level = NN_SIMD_GENERIC; level <= (int)nn_cpu_simd_max(); level++) {
        cr_assert_eq(nn_cpu_set_simd(level), (nn_simd)level);
        const nn_tile_ops *t = nn_tile_pick();
        cr_assert(t && t->corr && t->dw && t->colsum && t->poolmax && t->actgrad);
        cr_assert_str_eq(t->name, nn_cpu_simd_name((nn_simd)level));
        cr_assert_eq(t, nn_tile_ops_at((nn_simd)level));
        cr_assert_eq(nn_conv_kernel_for(NN_CONV_FWD_BROADCAST), nn_conv_kernel_at((nn_simd)level, NN_CONV_FWD_BROADCAST));
    }
}

/* ---- random shapes: fast against naive, bits across paths and threads ---- */

typedef struct shape {
    size_t B, H, W, C, N, KH, KW, OH, OW;
    nn_conv_params p;
} shape;

static void draw_shape(nn_rng *r, shape *s) {
    static const size_t counts[] = {1, 2, 3, 5, 8, 13, 16, 17, 24, 32, 33};
    for (;;) {
        s->B = nn_rng_range(r, 1, 5), s->H = nn_rng_range(r, 1, 14), s->W = nn_rng_range(r, 1, 14);
        s->C = counts[nn_rng_range(r, 0, 10)], s->N = counts[nn_rng_range(r, 0, 10)];
        s->KH = nn_rng_range(r, 1, 4), s->KW = nn_rng_range(r, 1, 4);
        s->p = (nn_conv_params){nn_rng_range(r, 1, 3), nn_rng_range(r, 1, 3), nn_rng_range(r, 0, 3),
                                nn_rng_range(r, 0, 3), {(nn_act_kind)nn_rng_range(r, 0, 4), 0.1f}};
        if (nn_conv_output_size(s->H, s->W, s->C, s->N, s->KH, s->KW, &s->p, &s->OH, &s->OW, NULL) == NN_OK) return;
    }
}

typedef struct grads {
    float *y, *dx, *dk, *db;
} grads;

/* Forward and backward of s through the fast path into g (gradients start at `start`). */
static void run_fast(const shape *s, const float *x, const float *k, const float *b, const float *dy, grads *g,
                     float start, nn_workspace *ws) {
    size_t nx = s->B * s->H * s->W * s->C, nk = s->N * s->KH * s->KW * s->C;
    g->y = gt_zeros(s->B * s->OH * s->OW * s->N), g->dx = gt_zeros(nx), g->dk = gt_zeros(nk), g->db = gt_zeros(s->N);
    for (size_t i = 0; i < nx; i++) g->dx[i] = start;
    for (size_t i = 0; i < nk; i++) g->dk[i] = start;
    for (size_t i = 0; i < s->N; i++) g->db[i] = start;
    nn_error err;
    cr_assert_eq(nn_conv_batch_forward(g->y, x, k, b, s->B, s->H, s->W, s->C, s->N, s->KH, s->KW, &s->p, ws, &err), NN_OK,
                 "%s", err.message);
    cr_assert_eq(nn_conv_batch_backward(g->dx, g->dk, g->db, dy, g->y, x, k, s->B, s->H, s->W, s->C, s->N, s->KH, s->KW,
                                        &s->p, ws, &err), NN_OK, "%s", err.message);
}

static void grads_free(grads *g) { free(g->y), free(g->dx), free(g->dk), free(g->db); }

/* Float sums of n terms drift about sqrt(n) ulps from the double-accumulated reference and at
 * worst n: 1e-5 covers 256 terms, proportionally more beyond. */
static double tol(double terms) { return 1e-5 * fmax(1.0, terms / 256.0); }

static void fast_vs_naive(int impl, uint64_t seed, int trials) {
    nn_cpu_set_simd(impl);
    nn_rng r;
    nn_rng_seed(&r, seed);
    nn_workspace ws = {0};
    for (int t = 0; t < trials; t++) {
        shape s;
        draw_shape(&r, &s);
        size_t nx = s.B * s.H * s.W * s.C, nk = s.N * s.KH * s.KW * s.C, ny = s.B * s.OH * s.OW * s.N;
        float *x = gt_uniform(&r, nx, 1), *k = gt_uniform(&r, nk, 1), *dy = gt_uniform(&r, ny, 1);
        float *b = nn_rng_range(&r, 0, 1) ? gt_uniform(&r, s.N, 1) : NULL;
        grads g;
        /* every other trial without a kept workspace; gradients start at 0.5 (added into) */
        run_fast(&s, x, k, b, dy, &g, 0.5f, t % 2 ? &ws : NULL);
        float *y = gt_zeros(ny), *dx = gt_zeros(nx), *dk = gt_zeros(nk), *db = gt_zeros(s.N);
        for (size_t i = 0; i < nx; i++) dx[i] = 0.5f;
        for (size_t i = 0; i < nk; i++) dk[i] = 0.5f;
        for (size_t i = 0; i < s.N; i++) db[i] = 0.5f;
        cr_assert_eq(nn_conv_batch_forward_naive(y, x, k, b, s.B, s.H, s.W, s.C, s.N, s.KH, s.KW, &s.p, NULL), NN_OK);
        /* the naive backward from the fast forward's y: the same act' as the fast path */
        cr_assert_eq(nn_conv_batch_backward_naive(dx, dk, db, dy, g.y, x, k, s.B, s.H, s.W, s.C, s.N, s.KH, s.KW, &s.p,
                                                  NULL), NN_OK);
        double ey = gt_max_err(g.y, y, ny), ex = gt_max_err(g.dx, dx, nx), ek = gt_max_err(g.dk, dk, nk),
               eb = gt_max_err(g.db, db, s.N);
        double pix = (double)(s.B * s.OH * s.OW);
        cr_assert(ey <= tol((double)(s.KH * s.KW * s.C)) && ex <= tol((double)(s.KH * s.KW * s.N)) &&
                      ek <= tol(pix) && eb <= tol(pix),
                  "impl %d trial %d: b%zu %zux%zux%zu n%zu k%zux%zu s%zux%zu p%zux%zu %s: y %.3g dx %.3g dk %.3g db %.3g",
                  impl, t, s.B, s.H, s.W, s.C, s.N, s.KH, s.KW, s.p.stride_h, s.p.stride_w, s.p.pad_h, s.p.pad_w,
                  nn_act_name(s.p.act.kind), ey, ex, ek, eb);
        grads_free(&g);
        free(x), free(k), free(b), free(dy), free(y), free(dx), free(dk), free(db);
    }
    nn_workspace_free(&ws);
}

Test(grad_conv, generic_matches_naive_on_random_shapes) { fast_vs_naive(NN_SIMD_GENERIC, 11, 150); }
Test(grad_conv, avx2_matches_naive_on_random_shapes) { fast_vs_naive(NN_SIMD_AVX2, 12, 300); }
Test(grad_conv, avx512_matches_naive_on_random_shapes) { fast_vs_naive(NN_SIMD_AVX512, 13, 300); }

/* The bit contract of nn_tile.h: every path, 1 or 2 threads, the same bits. */
Test(grad_conv, same_bits_on_every_path_and_thread_count) {
    nn_rng r;
    nn_rng_seed(&r, 14);
    nn_workspace ws = {0};
    for (int t = 0; t < 60; t++) {
        shape s;
        draw_shape(&r, &s);
        if (t % 5 == 0) s.B = 1; /* bands of rows instead of whole images */
        size_t nx = s.B * s.H * s.W * s.C, nk = s.N * s.KH * s.KW * s.C, ny = s.B * s.OH * s.OW * s.N;
        float *x = gt_uniform(&r, nx, 3), *k = gt_uniform(&r, nk, 1), *dy = gt_uniform(&r, ny, 1), *b = gt_uniform(&r, s.N, 1);
        grads ref;
        nn_cpu_set_simd(NN_SIMD_GENERIC);
        nn_parallel_set_threads(1);
        run_fast(&s, x, k, b, dy, &ref, 0.0f, &ws);
        for (int i = 0; i < 3; i++)
            for (size_t threads = 0; threads < 2; threads++) {
                nn_cpu_set_simd(impls[i]);
                nn_parallel_set_threads(threads); /* 0: all cores */
                grads g;
                run_fast(&s, x, k, b, dy, &g, 0.0f, &ws);
                cr_assert(!memcmp(g.y, ref.y, ny * sizeof(float)) && !memcmp(g.dx, ref.dx, nx * sizeof(float)) &&
                              !memcmp(g.dk, ref.dk, nk * sizeof(float)) && !memcmp(g.db, ref.db, s.N * sizeof(float)),
                          "trial %d impl %s threads %zu: bits differ from the generic single-thread run", t,
                          nn_tile_pick()->name, threads);
                grads_free(&g);
            }
        grads_free(&ref);
        free(x), free(k), free(dy), free(b);
    }
    nn_workspace_free(&ws);
}

/* ---- finite differences of an independent float64 forward ---- */

typedef struct fd_net {
    const shape *s;
    const double *x, *k, *b, *dy;
} fd_net;

static double act64(double z, nn_activation a) {
    switch (a.kind) {
    case NN_ACT_IDENTITY: return z;
    case NN_ACT_SIGMOID: return 1.0 / (1.0 + exp(-z));
    case NN_ACT_TANH: return tanh(z);
    case NN_ACT_RELU: return z > 0 ? z : 0;
    case NN_ACT_LEAKY_RELU: return z > 0 ? z : z * a.negative_slope;
    }
    return z;
}

/* L = sum dy * act(conv(x, k) + b), all in double, straight from the definition. */
static double fd_loss(const fd_net *n) {
    const shape *s = n->s;
    double L = 0;
    for (size_t bi = 0; bi < s->B; bi++)
        for (size_t oy = 0; oy < s->OH; oy++)
            for (size_t ox = 0; ox < s->OW; ox++)
                for (size_t c = 0; c < s->N; c++) {
                    double z = n->b[c];
                    for (size_t ky = 0; ky < s->KH; ky++)
                        for (size_t kx = 0; kx < s->KW; kx++) {
                            long iy = (long)(oy * s->p.stride_h + ky) - (long)s->p.pad_h;
                            long ix = (long)(ox * s->p.stride_w + kx) - (long)s->p.pad_w;
                            if (iy < 0 || ix < 0 || iy >= (long)s->H || ix >= (long)s->W) continue;
                            for (size_t ci = 0; ci < s->C; ci++)
                                z += n->x[((bi * s->H + (size_t)iy) * s->W + (size_t)ix) * s->C + ci] *
                                     n->k[((c * s->KH + ky) * s->KW + kx) * s->C + ci];
                        }
                    L += n->dy[((bi * s->OH + oy) * s->OW + ox) * s->N + c] * act64(z, s->p.act);
                }
    return L;
}

static double *to_f64(const float *a, size_t n) {
    double *d = malloc((n ? n : 1) * sizeof *d);
    cr_assert_not_null(d);
    for (size_t i = 0; i < n; i++) d[i] = a[i];
    return d;
}

/* Central difference of L in coordinate i of v (h = 1e-5: truncation and rounding ~1e-9). */
static double fd_slope(fd_net *n, double *v, size_t i) {
    double keep = v[i], h = 1e-5;
    v[i] = keep + h;
    double up = fd_loss(n);
    v[i] = keep - h;
    double down = fd_loss(n);
    v[i] = keep;
    return (up - down) / (2 * h);
}

static void fd_check(const float *got, double *v, size_t n, fd_net *net, nn_rng *r, const char *what, int trial) {
    for (int q = 0; q < 6 && n; q++) {
        size_t i = nn_rng_range(r, 0, n - 1);
        double want = fd_slope(net, v, i);
        cr_assert(fabs(got[i] - want) <= 1e-4 * fmax(1.0, fabs(want)), "trial %d %s[%zu]: backward %.8g, finite difference %.8g",
                  trial, what, i, got[i], want);
    }
}

/* Smooth activations only: ReLU's kink would need points away from 0. */
Test(grad_conv, gradients_match_finite_differences) {
    nn_rng r;
    nn_rng_seed(&r, 15);
    for (int t = 0; t < 40; t++) {
        shape s;
        draw_shape(&r, &s);
        s.p.act.kind = (nn_act_kind)(t % 3); /* identity, sigmoid, tanh */
        size_t nx = s.B * s.H * s.W * s.C, nk = s.N * s.KH * s.KW * s.C, ny = s.B * s.OH * s.OW * s.N;
        float *x = gt_uniform(&r, nx, 1), *k = gt_uniform(&r, nk, 0.5f), *dy = gt_uniform(&r, ny, 1), *b = gt_uniform(&r, s.N, 1);
        grads g;
        run_fast(&s, x, k, b, dy, &g, 0.0f, NULL);
        double *x64 = to_f64(x, nx), *k64 = to_f64(k, nk), *b64 = to_f64(b, s.N), *dy64 = to_f64(dy, ny);
        fd_net net = {&s, x64, k64, b64, dy64};
        fd_check(g.dx, x64, nx, &net, &r, "dx", t);
        fd_check(g.dk, k64, nk, &net, &r, "dk", t);
        fd_check(g.db, b64, s.N, &net, &r, "db", t);
        grads_free(&g);
        free(x), free(k), free(dy), free(b), free(x64), free(k64), free(b64), free(dy64);
    }
}

/* ---- partial requests, the benchmark's shapes, errors ---- */

/* Each gradient may be NULL; the others are unchanged by leaving it out. */
Test(grad_conv, null_gradients_are_skipped) {
    nn_rng r;
    nn_rng_seed(&r, 16);
    shape s = {.B = 3, .H = 9, .W = 7, .C = 3, .N = 5, .KH = 3, .KW = 3, .p = {1, 1, 1, 1, {NN_ACT_TANH, 0}}};
    cr_assert_eq(nn_conv_output_size(s.H, s.W, s.C, s.N, s.KH, s.KW, &s.p, &s.OH, &s.OW, NULL), NN_OK);
    size_t nx = s.B * s.H * s.W * s.C, nk = s.N * s.KH * s.KW * s.C, ny = s.B * s.OH * s.OW * s.N;
    float *x = gt_uniform(&r, nx, 1), *k = gt_uniform(&r, nk, 1), *dy = gt_uniform(&r, ny, 1);
    grads all;
    run_fast(&s, x, k, NULL, dy, &all, 0.0f, NULL);
    float *dx = gt_zeros(nx), *dk = gt_zeros(nk), *db = gt_zeros(s.N);
    cr_assert_eq(nn_conv_batch_backward(dx, NULL, NULL, dy, all.y, NULL, k, s.B, s.H, s.W, s.C, s.N, 3, 3, &s.p, NULL, NULL), NN_OK);
    cr_assert_eq(nn_conv_batch_backward(NULL, dk, NULL, dy, all.y, x, NULL, s.B, s.H, s.W, s.C, s.N, 3, 3, &s.p, NULL, NULL), NN_OK);
    cr_assert_eq(nn_conv_batch_backward(NULL, NULL, db, dy, all.y, NULL, NULL, s.B, s.H, s.W, s.C, s.N, 3, 3, &s.p, NULL, NULL), NN_OK);
    cr_assert(!memcmp(dx, all.dx, nx * sizeof *dx) && !memcmp(dk, all.dk, nk * sizeof *dk) &&
              !memcmp(db, all.db, s.N * sizeof *db));
    cr_assert_eq(nn_conv_batch_backward(NULL, NULL, NULL, dy, all.y, NULL, NULL, s.B, s.H, s.W, s.C, s.N, 3, 3, &s.p, NULL, NULL),
                 NN_OK);
    grads_free(&all);
    free(x), free(k), free(dy), free(dx), free(dk), free(db);
}

/* The workspace size the header promises is enough: a call with exactly that never grows it. */
Test(grad_conv, workspace_size_is_enough) {
    nn_rng r;
    nn_rng_seed(&r, 17);
    for (int t = 0; t < 50; t++) {
        shape s;
        draw_shape(&r, &s);
        size_t bytes;
        cr_assert_eq(nn_conv_batch_workspace_size(s.B, s.H, s.W, s.C, s.N, s.KH, s.KW, &s.p, &bytes, NULL), NN_OK);
        nn_workspace ws = {0};
        cr_assert_eq(nn_workspace_reserve(&ws, bytes, NULL), NN_OK);
        void *before = ws.data;
        size_t nx = s.B * s.H * s.W * s.C, nk = s.N * s.KH * s.KW * s.C, ny = s.B * s.OH * s.OW * s.N;
        float *x = gt_uniform(&r, nx, 1), *k = gt_uniform(&r, nk, 1), *dy = gt_uniform(&r, ny, 1);
        grads g;
        run_fast(&s, x, k, NULL, dy, &g, 0.0f, &ws);
        cr_assert_eq(ws.data, before, "trial %d: the workspace was grown", t);
        grads_free(&g);
        free(x), free(k), free(dy);
        nn_workspace_free(&ws);
    }
}

Test(grad_conv, validation_errors_name_the_field) {
    float buf[64] = {0};
    nn_error err;
    nn_conv_params p = {1, 1, 0, 0, {NN_ACT_RELU, 0}};
    gt_expect_error(nn_conv_batch_forward(buf, buf, buf, NULL, 0, 2, 2, 1, 1, 1, 1, &p, NULL, &err), NN_INVALID, &err, "batch");
    gt_expect_error(nn_conv_batch_backward(buf, buf, buf, buf, buf, buf, buf, 0, 2, 2, 1, 1, 1, 1, &p, NULL, &err), NN_INVALID,
                 &err, "batch");
    p.stride_h = 0;
    gt_expect_error(nn_conv_batch_forward(buf, buf, buf, NULL, 1, 2, 2, 1, 1, 1, 1, &p, NULL, &err), NN_INVALID, &err, "stride");
    p.stride_h = 1;
    gt_expect_error(nn_conv_batch_forward(buf, buf, buf, NULL, 1, 2, 2, 1, 1, 3, 3, &p, NULL, &err), NN_INVALID, &err, "kernel");
    gt_expect_error(nn_conv_batch_forward(NULL, buf, buf, NULL, 1, 2, 2, 1, 1, 1, 1, &p, NULL, &err), NN_INVALID, &err, "output");
    gt_expect_error(nn_conv_batch_forward(buf, NULL, buf, NULL, 1, 2, 2, 1, 1, 1, 1, &p, NULL, &err), NN_INVALID, &err, "input");
    gt_expect_error(nn_conv_batch_forward(buf, buf, NULL, NULL, 1, 2, 2, 1, 1, 1, 1, &p, NULL, &err), NN_INVALID, &err, "kernel");
    gt_expect_error(nn_conv_batch_backward(buf, buf, buf, NULL, buf, buf, buf, 1, 2, 2, 1, 1, 1, 1, &p, NULL, &err), NN_INVALID,
                 &err, "grad_output");
    gt_expect_error(nn_conv_batch_backward(buf, buf, buf, buf, NULL, buf, buf, 1, 2, 2, 1, 1, 1, 1, &p, NULL, &err), NN_INVALID,
                 &err, "output");
    gt_expect_error(nn_conv_batch_backward(NULL, buf, NULL, buf, buf, NULL, buf, 1, 2, 2, 1, 1, 1, 1, &p, NULL, &err), NN_INVALID,
                 &err, "input");
    gt_expect_error(nn_conv_batch_backward(buf, NULL, NULL, buf, buf, buf, NULL, 1, 2, 2, 1, 1, 1, 1, &p, NULL, &err), NN_INVALID,
                 &err, "kernel");
    p.act = (nn_activation){NN_ACT_LEAKY_RELU, -0.5f}; /* x is not recoverable from y */
    gt_expect_error(nn_conv_batch_backward(buf, buf, buf, buf, buf, buf, buf, 1, 2, 2, 1, 1, 1, 1, &p, NULL, &err), NN_INVALID,
                 &err, "negative_slope");
    gt_expect_error(nn_conv_batch_backward_naive(buf, buf, buf, buf, buf, buf, buf, 1, 2, 2, 1, 1, 1, 1, &p, &err), NN_INVALID,
                 &err, "negative_slope");
    p.act.kind = NN_ACT_IDENTITY; /* y may be NULL for the identity */
    cr_assert_eq(nn_conv_batch_backward(buf, buf, buf, buf, NULL, buf, buf, 1, 2, 2, 1, 1, 1, 1, &p, NULL, &err), NN_OK);
    size_t bytes;
    gt_expect_error(nn_conv_batch_workspace_size(SIZE_MAX / 2, 4, 4, 4, 4, 3, 3, &p, &bytes, &err), NN_TOO_LARGE, &err, "input");
}
