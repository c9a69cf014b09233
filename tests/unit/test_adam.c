/* test_adam.c — Adam and clip_grad_norm_ against PyTorch (tests/fixtures/rnn_adam.json from
 * tests/reference/gen_rnn.py): fixed gradients fed to several tensors for 12 steps, with
 * clipping that binds on some steps and with none; every parameter after every step must match
 * to 1e-12, and the returned norm to 1e-12. Plus the update's defining properties. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "nn_adam.h"
#include "nn_cpu.h"

Test(adam, matches_torch_with_and_without_clipping) {
    cJSON *doc = fx_require("rnn_adam.json");
    int ncases = 0;
    for (const cJSON *c = fx_cases(doc); c; c = c->next) {
        ncases++;
        size_t nt, np, ng, nw, nn;
        double *numelf = fx_tensor_f64(c, "numel", NULL, NULL, &nt);
        double *param = fx_tensor_f64(c, "init", NULL, NULL, &np);
        size_t gshape[8];
        double *grads = fx_tensor_f64(c, "grads", gshape, NULL, &ng);
        double *want = fx_tensor_f64(c, "params", NULL, NULL, &nw);
        double *norms = fx_tensor_f64(c, "norms", NULL, NULL, &nn);
        size_t numel[8], steps = gshape[0];
        for (size_t k = 0; k < nt; k++) numel[k] = (size_t)numelf[k];
        double *m = calloc(np, sizeof *m), *v = calloc(np, sizeof *v), *g = malloc(np * sizeof *g);
        cr_assert(m && v && g);
        nn_adam opt;
        nn_adam_init(&opt, fx_num(c, "lr"));
        double clip = fx_num(c, "clip");
        int bound = 0;
        for (size_t s = 0; s < steps; s++) {
            memcpy(g, grads + s * np, np * sizeof *g);
            double norm = nn_clip_grad_norm(g, numel, nt, clip);
            cr_assert(fabs(norm - norms[s]) <= 1e-12 * norms[s], "%s step %zu: norm %.17g torch %.17g",
                      fx_str(c, "name"), s, norm, norms[s]);
            bound += norm > clip;
            nn_adam_step(&opt, param, g, m, v, np);
            cr_assert_eq(opt.step, s + 1);
            double e = fx_max_rel_err_f64(param, want + s * np, np, 1e-3);
            cr_assert(e <= 1e-12, "%s step %zu: params rel err %.3g", fx_str(c, "name"), s, e);
        }
        if (!strcmp(fx_str(c, "name"), "adam_clip")) cr_assert(bound >= 4 && bound < (int)steps);
        else cr_assert_eq(bound, 0);
        free(numelf); free(param); free(grads); free(want); free(norms); free(m); free(v); free(g);
    }
    cr_assert_eq(ncases, 2);
    cJSON_Delete(doc);
}

Test(adam, defaults_and_first_step) {
    nn_adam opt;
    nn_adam_init(&opt, 0.001);
    cr_assert_eq(opt.beta1, 0.9);
    cr_assert_eq(opt.beta2, 0.999);
    cr_assert_eq(opt.eps, 1e-8);
    cr_assert_eq(opt.step, 0u);
    /* Bias correction makes the first step lr * g / (|g| + eps): about lr * sign(g). */
    double p[3] = {1.0, 1.0, 1.0}, g[3] = {0.5, -2.0, 0.0}, m[3] = {0}, v[3] = {0};
    nn_adam_step(&opt, p, g, m, v, 3);
    cr_assert_float_eq(p[0], 1.0 - 0.001 * 0.5 / (0.5 + 1e-8), 1e-15);
    cr_assert_float_eq(p[1], 1.0 + 0.001 * 2.0 / (2.0 + 1e-8), 1e-15);
    cr_assert_eq(p[2], 1.0); /* zero gradient, zero moments: no move */
    cr_assert_float_eq(m[0], 0.05, 1e-16); /* (1 - 0.9) is not exactly 0.1 */
    cr_assert_float_eq(v[1], 0.004, 1e-16);
}

Test(adam, clip_scales_only_above_the_limit) {
    double g[5] = {3.0, 4.0, 0.0, 12.0, 0.0}; /* tensors [3, 4] and [0, 12, 0]: norms 5, 12 */
    size_t numel[2] = {2, 3};
    double n = nn_clip_grad_norm(g, numel, 2, 26.0);
    cr_assert_float_eq(n, 13.0, 1e-14);
    cr_assert_eq(g[0], 3.0); /* 26 / 13 >= 1: untouched */
    n = nn_clip_grad_norm(g, numel, 2, 6.5);
    cr_assert_float_eq(n, 13.0, 1e-14);
    double coef = 6.5 / (13.0 + 1e-6);
    cr_assert_eq(g[0], 3.0 * coef);
    cr_assert_eq(g[3], 12.0 * coef);
    double after = sqrt(g[0] * g[0] + g[1] * g[1] + g[3] * g[3]);
    cr_assert(after < 6.5 && after > 6.5 - 1e-6);
    double h[2] = {1e300, 1e300};
    size_t one[1] = {2};
    nn_clip_grad_norm(h, one, 1, INFINITY); /* +inf never clips */
    cr_assert_eq(h[0], 1e300);
}

/* The plain and the AVX2 build of the update and of the norm (nn_cpu.h picks one) give the same
 * bits: no FMA, the same operations in the same order. */
Test(adam, every_simd_level_gives_the_same_bits) {
    enum { N = 1000, LEVELS = 3 };
    static const size_t numel[4] = {1, 7, 500, 492};
    double p[LEVELS][N], m[LEVELS][N], v[LEVELS][N], g[LEVELS][N], norm[LEVELS];
    int ran[LEVELS] = {0};
    for (int level = 0; level < LEVELS; level++) {
        if ((int)nn_cpu_set_simd(level) != level) continue;
        ran[level] = 1;
        nn_adam opt;
        nn_adam_init(&opt, 0.01);
        for (size_t i = 0; i < N; i++) p[level][i] = m[level][i] = v[level][i] = 0.0;
        for (int step = 0; step < 5; step++) {
            for (size_t i = 0; i < N; i++) g[level][i] = sin((double)(i * 7 + (size_t)step)) * (1.0 + (double)i);
            norm[level] = nn_clip_grad_norm(g[level], numel, 4, 3.0);
            nn_adam_step(&opt, p[level], g[level], m[level], v[level], N);
        }
    }
    nn_cpu_set_simd(NN_SIMD_AUTO);
    for (int level = 1; level < LEVELS; level++) {
        if (!ran[level]) continue;
        cr_assert_eq(memcmp(&norm[level], &norm[0], sizeof norm[0]), 0, "level %d: norm", level);
        cr_assert_eq(memcmp(p[level], p[0], sizeof p[0]), 0, "level %d: parameters", level);
        cr_assert_eq(memcmp(m[level], m[0], sizeof m[0]), 0, "level %d: first moments", level);
        cr_assert_eq(memcmp(v[level], v[0], sizeof v[0]), 0, "level %d: second moments", level);
    }
}
