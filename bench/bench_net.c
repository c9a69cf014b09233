/* bench_net.c — pooling and the CNN forward pass; one JSON line per case (see bench.h).
 * The op/shape strings are the ones bench/torch_bench.py prints for PyTorch, so lines pair up. */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "bench_pool.h"
#include "nn_cnn.h"
#include "nn_pool.h"
#include "nn_rng.h"

static void run_gap(void *ctx) {
    pool_ctx *c = ctx;
    nn_global_pool_forward(c->y, c->x, c->H, c->W, c->C, NN_POOL_AVG, NULL);
}

typedef struct cnn_ctx {
    nn_cnn *m;
    const float *x;
} cnn_ctx;

static void run_cnn(void *ctx) {
    cnn_ctx *c = ctx;
    nn_cnn_forward(c->m, c->x, NULL);
}

static float *random_image(size_t n, uint64_t seed) {
    float *x = malloc(n * sizeof *x);
    if (!x) exit(1);
    nn_rng r;
    nn_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) x[i] = nn_rng_uniformf(&r);
    return x;
}

static void measure_maxpool(const bench_case *c) {
    bench_report_stats(c->op, c->shape, bench_run(bench_run_pool, c->ctx, 5), 0);
}

static void measure_gap(const bench_case *c) {
    bench_report_stats(c->op, c->shape, bench_run(run_gap, c->ctx, 5), 0);
}

static void measure_cnn(const bench_case *c) {
    cnn_ctx *cc = c->ctx;
    bench_report_stats(c->op, c->shape, bench_run(run_cnn, cc, 5), cc->m->flops);
}

int main(int argc, char **argv) {
    size_t H = 254, W = 254, C = 16;
    float *x = random_image(H * W * C, 1);
    float *y = malloc(H * W * C * sizeof *y);
    if (!y) return 1;
    pool_ctx pc = {y, x, H, W, C, {NN_POOL_MAX, 2, 2, 2, 2}};

    nn_layer_spec specs[NN_CNN_DEFAULT_LAYERS];
    size_t n = nn_cnn_default_spec(specs);
    nn_cnn m;
    nn_error err;
    if (nn_cnn_create(&m, specs, n, 224, 224, 3, 42, 1, &err)) {
        fprintf(stderr, "bench_net: %s\n", err.message);
        return 1;
    }
    float *img = random_image(224 * 224 * 3, 2);
    cnn_ctx cc = {&m, img};
    const bench_case cases[] = {
        {measure_maxpool, &pc, "maxpool", "254x254x16 k2 s2"},
        {measure_gap, &pc, "global_avgpool", "254x254x16"},
        {measure_cnn, &cc, "cnn_forward", "224x224x3 default"},
    };
    int rc = bench_main(cases, sizeof cases / sizeof cases[0], argc, argv);
    nn_cnn_free(&m);
    free(img);
    free(x);
    free(y);
    return rc;
}
