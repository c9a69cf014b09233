/* test_cnn_train.c — the trainable CNN against PyTorch: 200 optimiser steps of the benchmark
 * net (conv 8 -> max-pool -> conv 16 -> max-pool -> linear 784 -> 10) over Fashion-MNIST's
 * first training images in order, from the initial weights of tests/fixtures/cnn_train.json
 * (tests/reference/gen_cnn_train.py): one epoch of 6400 images with Adam, the same with SGD +
 * momentum, and two epochs of 1600 with Adam and the learning rate halved after the first
 * (lr_decay, StepLR's gamma). Every step's loss matches PyTorch's float32 run to 1e-4 relative,
 * or to the drift between PyTorch's own NCHW and channels-last runs up to that step (times 2:
 * we are a third rounding of the same sums) where that is wider.
 * The decay run checks the schedule: its first 60 steps (the whole first epoch and ten steps
 * at the halved rate) within 1e-5 — without the decay step 52 is already 4e-2 off — and the rest
 * within 1e-3: there the two PyTorch runs happen to round alike (3.7e-7 apart), while ours drifts
 * to 2e-4 by step 100 once a max-pooling choice flips (from step ~76). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "nn_cnn_train.h"
#include "nn_fashion.h"

static nn_fashion g_fm;

static void load_data(void) {
    nn_error err;
    cr_assert_eq(nn_fashion_load(&g_fm, NULL, &err), NN_OK, "%s (install %s)", err.message, NN_FASHION_PACKAGE);
}

static void free_data(void) { nn_fashion_free(&g_fm); }

/* The benchmark net; weights given from the fixture when w is non-NULL. */
static void bench_net(nn_layer_spec s[5], float *const *w) {
    memset(s, 0, 5 * sizeof s[0]);
    nn_activation relu = {NN_ACT_RELU, 0.01f};
    for (int i = 0; i < 2; i++) {
        nn_layer_spec *c = &s[2 * i], *p = &s[2 * i + 1];
        c->type = NN_LAYER_CONV;
        c->filters = i ? 16 : 8;
        c->size_h = c->size_w = 3;
        c->conv = (nn_conv_params){1, 1, 1, 1, relu};
        c->init = NN_INIT_HE_NORMAL;
        p->type = NN_LAYER_POOL;
        p->pool = (nn_pool_params){NN_POOL_MAX, 2, 2, 2, 2};
    }
    s[4].type = NN_LAYER_MLP;
    nn_mlp_config_uniform(&s[4].mlp, 0, 0, 0, 10, relu);
    s[4].mlp_init = NN_INIT_HE_NORMAL;
    if (!w) return;
    s[0].kernels = w[0];
    s[0].kernels_len = 8 * 9;
    s[0].bias = w[1];
    s[0].bias_len = 8;
    s[2].kernels = w[2];
    s[2].kernels_len = 16 * 9 * 8;
    s[2].bias = w[3];
    s[2].bias_len = 16;
    s[4].mlp_weight[0] = w[4];
    s[4].mlp_weight_len[0] = 784 * 10;
    s[4].mlp_bias[0] = w[5];
    s[4].mlp_bias_len[0] = 10;
}

typedef struct {
    double loss[400];
    size_t n;
} steps;

static int record(void *ctx, const nn_cnn_event *ev) {
    steps *s = ctx;
    if (ev->kind == NN_CNN_STEP && s->n < 400) s->loss[s->n++] = ev->loss;
    return 0;
}

/* strict: the steps held to max(floor, 2 x drift); the later ones to max(late, 2 x drift). */
static void trajectory(const char *name, size_t strict, double floor, double late) {
    cJSON *doc = fx_load("cnn_train.json");
    cr_assert_not_null(doc);
    const cJSON *wj = cJSON_GetObjectItem(doc, "weights"), *c = NULL, *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(doc, "cases")) if (!strcmp(fx_str(it, "name"), name)) c = it;
    cr_assert_not_null(c);
    static const char *const keys[6] = {"conv1.kernels", "conv1.bias", "conv2.kernels", "conv2.bias",
                                        "fc.weight", "fc.bias"};
    float *w[6];
    size_t n;
    for (int k = 0; k < 6; k++) w[k] = fx_tensor_f32(wj, keys[k], NULL, NULL, &n);
    nn_layer_spec specs[5];
    bench_net(specs, w);
    nn_optim opt;
    if (!strcmp(fx_str(c, "optimizer"), "adam")) nn_optim_adam(&opt, fx_num(c, "learning_rate"));
    else nn_optim_sgd(&opt, fx_num(c, "learning_rate"), fx_num(c, "momentum"));
    nn_cnn_net net;
    nn_error err;
    cr_assert_eq(nn_cnn_net_create(&net, specs, 5, 28, 28, 1, 32, &opt, 0, &err), NN_OK, "%s", err.message);
    nn_cnn_train_config cfg = {&g_fm.train, &g_fm.test, (size_t)fx_num(c, "images"), 100, (size_t)fx_num(c, "epochs"),
                               32, 0, 1, fx_num(c, "lr_decay")};
    static steps got;
    got.n = 0;
    nn_cnn_train_result res;
    cr_assert_eq(nn_cnn_train_run(&net, &cfg, record, &got, &res, &err), NN_OK, "%s", err.message);
    double *want = fx_tensor_f64(c, "losses", NULL, NULL, &n), *cl = fx_tensor_f64(c, "losses_channels_last", NULL, NULL, &n);
    cr_assert_eq(got.n, n);
    cr_assert_eq(n, cfg.epochs * cfg.train_samples / 32);
    cr_assert_geq(n, strict);
    double drift = 0, worst = 0, early = 0;
    for (size_t s = 0; s < n; s++) {
        drift = fmax(drift, fabs(want[s] - cl[s]) / fabs(cl[s]));
        double tol = fmax(s < strict ? floor : late, 2 * drift), rel = fabs(got.loss[s] - want[s]) / fabs(want[s]);
        worst = fmax(worst, rel / tol);
        if (s < 20) early = fmax(early, rel);
        cr_assert_leq(rel, tol, "%s step %zu: loss %.9g, PyTorch %.9g (relative %.2e, allowed %.2e)", name, s + 1,
                      got.loss[s], want[s], rel, tol);
    }
    cr_log_info("%s: %zu steps, loss %.4f -> %.4f; steps 1-20 within %.1e relative; worst %.2f of the allowed", name,
                n, got.loss[0], got.loss[n - 1], early, worst);
    nn_cnn_train_result_free(&res);
    nn_cnn_net_free(&net);
    for (int k = 0; k < 6; k++) free(w[k]);
    free(want);
    free(cl);
    cJSON_Delete(doc);
}

TestSuite(cnn_torch, .init = load_data, .fini = free_data, .timeout = 300);

Test(cnn_torch, adam_trajectory_matches_pytorch) { trajectory("adam", 200, 1e-4, 1e-4); }
Test(cnn_torch, sgd_momentum_trajectory_matches_pytorch) { trajectory("sgd", 200, 1e-4, 1e-4); }
Test(cnn_torch, adam_with_lr_decay_matches_pytorch_steplr) { trajectory("adam_decay", 60, 1e-5, 1e-3); }
