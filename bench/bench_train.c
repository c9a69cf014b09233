/* bench_train.c — one training epoch over Fashion-MNIST's 60 000 training images; one JSON line
 * per call (see bench.h), paired with bench/torch_bench.py's "train_epoch" case by compare.py.
 *
 * The benchmark net: conv 8x3x3 pad 1 ReLU -> max-pool 2 -> conv 16x3x3 pad 1 ReLU -> max-pool 2
 * -> linear 784 -> 10, batch 32, Adam (lr 1e-3), He-normal weights from seed 1, the images
 * shuffled (seeded). Each call builds the net afresh, so every round does the same work; the
 * time is the epoch alone (from the first step to the end of the last one: copying each batch
 * out of the byte images included, building the net and the test evaluation not), then the
 * 10 000 test images are classified and the accuracy is printed with the time ("test_accuracy"),
 * and with the CPU time the epoch took in all threads ("cpu_ms": on a busy machine, the cost).
 * An epoch is seconds, so `make bench` runs this case for BENCH_TRAIN_ROUNDS (3) rounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "nn_cnn_train.h"
#include "nn_fashion.h"

typedef struct train_ctx {
    nn_fashion fm;
    nn_layer_spec specs[5];
    double t_last, cpu_last; /* when the epoch's last step ended: wall and process CPU ms */
} train_ctx;

/* The process's CPU time in ms (every thread): on a busy machine, what the work cost. */
static double cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void bench_spec(nn_layer_spec s[5]) {
    memset(s, 0, 5 * sizeof s[0]);
    nn_activation relu = {NN_ACT_RELU, 0.01f};
    for (int i = 0; i < 2; i++) {
        s[2 * i].type = NN_LAYER_CONV;
        s[2 * i].filters = i ? 16 : 8;
        s[2 * i].size_h = s[2 * i].size_w = 3;
        s[2 * i].conv = (nn_conv_params){1, 1, 1, 1, relu};
        s[2 * i].init = NN_INIT_HE_NORMAL;
        s[2 * i + 1].type = NN_LAYER_POOL;
        s[2 * i + 1].pool = (nn_pool_params){NN_POOL_MAX, 2, 2, 2, 2};
    }
    s[4].type = NN_LAYER_MLP;
    nn_mlp_config_uniform(&s[4].mlp, 0, 0, 0, 10, relu);
    s[4].mlp_init = NN_INIT_HE_NORMAL;
}

static int on_event(void *ctx, const nn_cnn_event *ev) {
    train_ctx *c = ctx;
    if (ev->kind == NN_CNN_STEP && ev->step == ev->steps_per_epoch) {
        c->t_last = bench_now_ms();
        c->cpu_last = cpu_ms();
    }
    return 0;
}

static void measure_epoch(const bench_case *bc) {
    train_ctx *c = bc->ctx;
    nn_optim opt;
    nn_optim_adam(&opt, 1e-3);
    nn_cnn_net net;
    nn_error err;
    nn_cnn_train_result res;
    nn_cnn_train_config cfg = {&c->fm.train, &c->fm.test, NN_FASHION_TRAIN, NN_FASHION_TEST, 1, 32, 1, 1, 1};
    if (nn_cnn_net_create(&net, c->specs, 5, 28, 28, 1, 32, &opt, 1, &err) != NN_OK) {
        fprintf(stderr, "bench_train: %s\n", err.message);
        exit(1);
    }
    double t0 = bench_now_ms(), c0 = cpu_ms();
    if (nn_cnn_train_run(&net, &cfg, on_event, c, &res, &err) != NN_OK) {
        fprintf(stderr, "bench_train: %s\n", err.message);
        exit(1);
    }
    double ms = c->t_last - t0, flops = 3.0 * net.flops_forward * NN_FASHION_TRAIN;
    printf("{\"op\": \"%s\", \"shape\": \"%s\", \"impl\": \"nnlab\", \"ms_median\": %.1f, \"ms_min\": %.1f, "
           "\"cpu_ms\": %.1f, \"gflops\": %.2f, \"test_accuracy\": %.4f, \"train_loss\": %.4f}\n",
           bc->op, bc->shape, ms, ms, c->cpu_last - c0, flops / (ms * 1e6), res.test_accuracy[0], res.train_loss[0]);
    fflush(stdout);
    nn_cnn_train_result_free(&res);
    nn_cnn_net_free(&net);
}

int main(int argc, char **argv) {
    static train_ctx c;
    nn_error err;
    if (nn_fashion_load(&c.fm, NULL, &err) != NN_OK) {
        fprintf(stderr, "bench_train: %s (apt-get install %s)\n", err.message, NN_FASHION_PACKAGE);
        return 1;
    }
    bench_spec(c.specs);
    const bench_case cases[] = {
        {measure_epoch, &c, "train_epoch", "fashion-mnist 60000 conv8-pool-conv16-pool-linear b32 adam"},
    };
    int rc = bench_main(cases, sizeof cases / sizeof cases[0], argc, argv);
    nn_fashion_free(&c.fm);
    return rc;
}
