/* bench_grad.c — the training kernels (issue 14) on the benchmark net's shapes, batch 32: conv
 * 8x3x3 pad 1 ReLU on 28x28x1 -> max-pool 2 -> conv 16x3x3 pad 1 ReLU on 14x14x8 -> max-pool 2
 * -> linear 784 -> 10, softmax cross-entropy, Adam. One JSON line per case (bench.h); the
 * op/shape strings are bench/torch_bench.py's, so bench/compare.py pairs them with PyTorch's.
 *
 * Cases:
 *   conv_fwd_batch  the two conv layers' forward (ReLU fused)
 *   conv_bwd_dw     dW + db of each conv layer (the ReLU's gradient included, from y)
 *   conv_bwd_dx     dx of the second layer (the first needs none)
 *   maxpool_fwd_argmax / maxpool_bwd  the first pool (forward recording positions; backward
 *                   zeroing dx, then scattering)
 *   linear_fwd / linear_bwd  784 -> 10 (backward: dx, dW, db)
 *   softmax_ce      loss and dlogits of 32 x 10
 *   adam_step       Adam over the net's 9 098 parameters
 *   train_step      one whole step: forward, loss, backward, Adam (the epoch is 1 875 of them)
 * Every buffer and workspace is allocated once, as a trainer keeps them. "gflops" count the
 * multiply-adds of the convolution or linear layer (x2). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "nn_conv_batch.h"
#include "nn_linear.h"
#include "nn_loss.h"
#include "nn_optim.h"
#include "nn_pool_batch.h"
#include "nn_rng.h"

enum { B = 32, K1 = 8, K2 = 16, NCLASS = 10, FLAT = 7 * 7 * 16 };
#define NPARAM (K1 * 9 + K1 + K2 * 9 * K1 + K2 + FLAT * NCLASS + NCLASS)

/* The net's parameters, gradients, activations and their gradients, and workspaces. */
typedef struct net {
    float param[NPARAM], grad[NPARAM], state[2 * NPARAM];
    float *k1, *b1, *k2, *b2, *w, *bl, *gk1, *gb1, *gk2, *gb2, *gw, *gbl;
    float *x, *y1, *p1, *y2, *p2, *z, *dz, *dp2, *dy2, *dp1, *dy1;
    uint32_t *a1, *a2;
    int32_t t[B];
    nn_workspace ws1, ws2, wsl;
    nn_optim opt;
} net;

static const nn_conv_params conv_p = {1, 1, 1, 1, {NN_ACT_RELU, 0.0f}};
static const nn_pool_params pool_p = {NN_POOL_MAX, 2, 2, 2, 2};

static float *buf(size_t n, nn_rng *r) {
    float *a = malloc(n * sizeof *a);
    if (!a) abort();
    for (size_t i = 0; i < n; i++) a[i] = r ? 2.0f * nn_rng_uniformf(r) - 1.0f : 0.0f;
    return a;
}

static void net_init(net *n) {
    nn_rng r;
    nn_rng_seed(&r, 14);
    memset(n, 0, sizeof *n);
    for (size_t i = 0; i < NPARAM; i++) n->param[i] = 0.3f * (2.0f * nn_rng_uniformf(&r) - 1.0f);
    float *p = n->param, *g = n->grad;
    n->k1 = p, n->b1 = p + 72, n->k2 = p + 80, n->b2 = p + 80 + 1152, n->w = n->b2 + 16, n->bl = n->w + FLAT * NCLASS;
    n->gk1 = g, n->gb1 = g + 72, n->gk2 = g + 80, n->gb2 = g + 80 + 1152, n->gw = n->gb2 + 16, n->gbl = n->gw + FLAT * NCLASS;
    n->x = buf(B * 784, &r);
    for (size_t i = 0; i < B * 784; i++) n->x[i] = 0.5f * n->x[i] + 0.5f; /* pixels in [0, 1] */
    n->y1 = buf(B * 784 * K1, NULL), n->p1 = buf(B * 196 * K1, NULL), n->y2 = buf(B * 196 * K2, NULL);
    n->p2 = buf(B * FLAT, NULL), n->z = buf(B * NCLASS, NULL), n->dz = buf(B * NCLASS, NULL);
    n->dp2 = buf(B * FLAT, NULL), n->dy2 = buf(B * 196 * K2, &r), n->dp1 = buf(B * 196 * K1, NULL);
    n->dy1 = buf(B * 784 * K1, &r);
    n->a1 = malloc(B * 196 * K1 * sizeof *n->a1), n->a2 = malloc(B * FLAT * sizeof *n->a2);
    if (!n->a1 || !n->a2) abort();
    for (int i = 0; i < B; i++) n->t[i] = i % NCLASS;
    nn_optim_adam(&n->opt, 1e-3);
}

static void must(nn_code rc) {
    if (rc) abort();
}

static void forward(net *n) {
    must(nn_conv_batch_forward(n->y1, n->x, n->k1, n->b1, B, 28, 28, 1, K1, 3, 3, &conv_p, &n->ws1, NULL));
    must(nn_pool_batch_forward(n->p1, n->a1, n->y1, B, 28, 28, K1, &pool_p, NULL));
    must(nn_conv_batch_forward(n->y2, n->p1, n->k2, n->b2, B, 14, 14, K1, K2, 3, 3, &conv_p, &n->ws2, NULL));
    must(nn_pool_batch_forward(n->p2, n->a2, n->y2, B, 14, 14, K2, &pool_p, NULL));
    must(nn_linear_batch_forward(n->z, n->p2, n->w, n->bl, B, FLAT, NCLASS, &n->wsl, NULL));
}

static void backward(net *n) {
    memset(n->grad, 0, sizeof n->grad);
    memset(n->dz, 0, B * NCLASS * sizeof *n->dz);
    must(nn_softmax_ce(NULL, n->dz, NULL, n->z, n->t, B, NCLASS, NULL));
    memset(n->dp2, 0, B * FLAT * sizeof *n->dp2);
    must(nn_linear_batch_backward(n->dp2, n->gw, n->gbl, n->dz, n->p2, n->w, B, FLAT, NCLASS, &n->wsl, NULL));
    memset(n->dy2, 0, B * 196 * K2 * sizeof *n->dy2);
    must(nn_pool_batch_backward(n->dy2, n->dp2, n->a2, NULL, B, 14, 14, K2, &pool_p, NULL));
    memset(n->dp1, 0, B * 196 * K1 * sizeof *n->dp1);
    must(nn_conv_batch_backward(n->dp1, n->gk2, n->gb2, n->dy2, n->y2, n->p1, n->k2, B, 14, 14, K1, K2, 3, 3, &conv_p,
                                &n->ws2, NULL));
    memset(n->dy1, 0, B * 784 * K1 * sizeof *n->dy1);
    must(nn_pool_batch_backward(n->dy1, n->dp1, n->a1, NULL, B, 28, 28, K1, &pool_p, NULL));
    must(nn_conv_batch_backward(NULL, n->gk1, n->gb1, n->dy1, n->y1, n->x, n->k1, B, 28, 28, 1, K1, 3, 3, &conv_p,
                                &n->ws1, NULL));
}

/* ---- the cases ---- */

static void run_conv1_fwd(void *c) {
    net *n = c;
    must(nn_conv_batch_forward(n->y1, n->x, n->k1, n->b1, B, 28, 28, 1, K1, 3, 3, &conv_p, &n->ws1, NULL));
}
static void run_conv2_fwd(void *c) {
    net *n = c;
    must(nn_conv_batch_forward(n->y2, n->p1, n->k2, n->b2, B, 14, 14, K1, K2, 3, 3, &conv_p, &n->ws2, NULL));
}
static void run_conv1_dw(void *c) {
    net *n = c;
    must(nn_conv_batch_backward(NULL, n->gk1, n->gb1, n->dy1, n->y1, n->x, n->k1, B, 28, 28, 1, K1, 3, 3, &conv_p,
                                &n->ws1, NULL));
}
static void run_conv2_dw(void *c) {
    net *n = c;
    must(nn_conv_batch_backward(NULL, n->gk2, n->gb2, n->dy2, n->y2, n->p1, n->k2, B, 14, 14, K1, K2, 3, 3, &conv_p,
                                &n->ws2, NULL));
}
static void run_conv2_dx(void *c) {
    net *n = c;
    must(nn_conv_batch_backward(n->dp1, NULL, NULL, n->dy2, n->y2, n->p1, n->k2, B, 14, 14, K1, K2, 3, 3, &conv_p,
                                &n->ws2, NULL));
}
static void run_pool_fwd(void *c) {
    net *n = c;
    must(nn_pool_batch_forward(n->p1, n->a1, n->y1, B, 28, 28, K1, &pool_p, NULL));
}
static void run_pool_bwd(void *c) {
    net *n = c;
    memset(n->dy1, 0, B * 784 * K1 * sizeof *n->dy1);
    must(nn_pool_batch_backward(n->dy1, n->dp1, n->a1, NULL, B, 28, 28, K1, &pool_p, NULL));
}
static void run_linear_fwd(void *c) {
    net *n = c;
    must(nn_linear_batch_forward(n->z, n->p2, n->w, n->bl, B, FLAT, NCLASS, &n->wsl, NULL));
}
static void run_linear_bwd(void *c) {
    net *n = c;
    memset(n->dp2, 0, B * FLAT * sizeof *n->dp2);
    must(nn_linear_batch_backward(n->dp2, n->gw, n->gbl, n->dz, n->p2, n->w, B, FLAT, NCLASS, &n->wsl, NULL));
}
static void run_ce(void *c) {
    net *n = c;
    double loss;
    memset(n->dz, 0, B * NCLASS * sizeof *n->dz);
    must(nn_softmax_ce(&loss, n->dz, NULL, n->z, n->t, B, NCLASS, NULL));
}
static void run_adam(void *c) {
    net *n = c;
    must(nn_optim_step(&n->opt, n->param, n->grad, n->state, NPARAM, NULL));
}
static void run_step(void *c) {
    net *n = c;
    forward(n);
    backward(n);
    must(nn_optim_step(&n->opt, n->param, n->grad, n->state, NPARAM, NULL));
}

typedef struct grad_case {
    void (*run)(void *);
    double flops;
} grad_case;

static net the_net;

static void measure(const bench_case *c) {
    const grad_case *g = c->ctx;
    bench_report_stats(c->op, c->shape, bench_run(g->run, &the_net, 10), g->flops);
}

int main(int argc, char **argv) {
    net *n = &the_net;
    net_init(n);
    forward(n); /* real activations, argmax and gradients for the backward cases */
    backward(n);
    const double c1 = 2.0 * B * 784 * K1 * 9, c2 = 2.0 * B * 196 * K2 * 9 * K1, lin = 2.0 * B * FLAT * NCLASS;
    static grad_case g[13];
    g[0] = (grad_case){run_conv1_fwd, c1}, g[1] = (grad_case){run_conv2_fwd, c2};
    g[2] = (grad_case){run_conv1_dw, c1}, g[3] = (grad_case){run_conv2_dw, c2}, g[4] = (grad_case){run_conv2_dx, c2};
    g[5] = (grad_case){run_pool_fwd, 0}, g[6] = (grad_case){run_pool_bwd, 0};
    g[7] = (grad_case){run_linear_fwd, lin}, g[8] = (grad_case){run_linear_bwd, 2 * lin};
    g[9] = (grad_case){run_ce, 0}, g[10] = (grad_case){run_adam, 0};
    g[11] = (grad_case){run_step, 3 * c2 + 2 * c1 + 3 * lin};
    const bench_case cases[] = {
        {measure, &g[0], "conv_fwd_batch", "32x28x28x1 k3x3 n8 pad1 relu"},
        {measure, &g[1], "conv_fwd_batch", "32x14x14x8 k3x3 n16 pad1 relu"},
        {measure, &g[2], "conv_bwd_dw", "32x28x28x1 k3x3 n8 pad1 relu"},
        {measure, &g[3], "conv_bwd_dw", "32x14x14x8 k3x3 n16 pad1 relu"},
        {measure, &g[4], "conv_bwd_dx", "32x14x14x8 k3x3 n16 pad1 relu"},
        {measure, &g[5], "maxpool_fwd_argmax", "32x28x28x8 k2 s2"},
        {measure, &g[6], "maxpool_bwd", "32x28x28x8 k2 s2"},
        {measure, &g[7], "linear_fwd", "32x784->10"},
        {measure, &g[8], "linear_bwd", "32x784->10"},
        {measure, &g[9], "softmax_ce", "32x10"},
        {measure, &g[10], "adam_step", "9098 params"},
        {measure, &g[11], "train_step", "fashion-mnist net, batch 32"},
    };
    return bench_main(cases, sizeof cases / sizeof cases[0], argc, argv);
}
