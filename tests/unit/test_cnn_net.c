/* test_cnn_net.c — the trainable CNN (nn_cnn_net.h) and its training run (nn_cnn_train.h):
 * layout and shapes, He-normal weights with zero biases, the batched forward against the
 * forward-only nn_cnn model with the same weights, every parameter's gradient against central
 * finite differences (a net with conv, max and average pooling, global pooling and a hidden
 * MLP layer), bits independent of the thread count, byte and float image sets, shuffling,
 * the confusion matrix, cancellation, and the errors naming the API's fields. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_cnn.h"
#include "nn_cnn_train.h"
#include "nn_parallel.h"
#include "nn_rng.h"

static const nn_activation RELU = {NN_ACT_RELU, 0.01f}, TANH = {NN_ACT_TANH, 0.01f};

static void conv(nn_layer_spec *s, size_t n, size_t k, size_t stride, size_t pad, nn_activation act) {
    memset(s, 0, sizeof *s);
    s->type = NN_LAYER_CONV;
    s->filters = n;
    s->size_h = s->size_w = k;
    s->conv = (nn_conv_params){stride, stride, pad, pad, act};
    s->init = NN_INIT_HE_NORMAL;
}

static void pool(nn_layer_spec *s, nn_pool_kind kind, size_t k) {
    memset(s, 0, sizeof *s);
    s->type = NN_LAYER_POOL;
    s->pool = (nn_pool_params){kind, k, k, k, k};
}

static void mlp(nn_layer_spec *s, size_t hidden_layers, size_t hidden, size_t out, nn_activation act) {
    memset(s, 0, sizeof *s);
    s->type = NN_LAYER_MLP;
    nn_mlp_config_uniform(&s->mlp, 0, hidden_layers, hidden, out, act);
    s->mlp_init = NN_INIT_HE_NORMAL;
}

/* conv 16 pad 1 -> max 2 -> conv 32 pad 1 -> max 2 -> linear 1568 -> 10: the /train/cnn default. */
static size_t default_net(nn_layer_spec s[5]) {
    conv(&s[0], 16, 3, 1, 1, RELU);
    pool(&s[1], NN_POOL_MAX, 2);
    conv(&s[2], 32, 3, 1, 1, RELU);
    pool(&s[3], NN_POOL_MAX, 2);
    mlp(&s[4], 0, 0, 10, RELU);
    return 5;
}

static void random_set(nn_imageset *set, float *px, uint8_t *lb, size_t n, size_t side, size_t classes, uint64_t seed) {
    nn_rng r;
    nn_rng_seed(&r, seed);
    for (size_t i = 0; i < n * side * side; i++) px[i] = nn_rng_uniformf(&r);
    for (size_t i = 0; i < n; i++) lb[i] = (uint8_t)nn_rng_range(&r, 0, classes - 1);
    *set = (nn_imageset){NULL, px, lb, n, side, side, classes};
}

static nn_cnn_net *make(const nn_layer_spec *s, size_t n, size_t side, size_t batch, uint64_t seed) {
    nn_cnn_net *net = calloc(1, sizeof *net);
    nn_optim opt;
    nn_optim_adam(&opt, 1e-3);
    nn_error err;
    cr_assert_not_null(net);
    cr_assert_eq(nn_cnn_net_create(net, s, n, side, side, 1, batch, &opt, seed, &err), NN_OK, "%s", err.message);
    return net;
}

static void destroy(nn_cnn_net *net) {
    nn_cnn_net_free(net);
    free(net);
}

Test(cnn_net, layout_of_the_default_net) {
    nn_layer_spec s[5];
    default_net(s);
    nn_cnn_net *net = make(s, 5, 28, 32, 1);
    cr_assert_eq(net->num_ops, 5u);
    cr_assert_eq(net->classes, 10u);
    cr_assert_eq(net->in_len, 784u);
    size_t want[5] = {28 * 28 * 16, 14 * 14 * 16, 14 * 14 * 32, 7 * 7 * 32, 10};
    for (int k = 0; k < 5; k++) cr_assert_eq(net->ops[k].out_len, want[k], "op %d", k);
    cr_assert_eq(net->ops[4].in_len, 1568u, "the linear layer flattens its [7, 7, 32] input");
    cr_assert_eq(net->logits, net->ops[4].out);
    cr_assert_not_null(net->ops[1].argmax);
    cr_assert_null(net->ops[0].argmax);
    /* params: 16*9 + 16, 32*144 + 32, 1568*10 + 10 (each tensor 64-byte aligned) */
    size_t real = 16 * 9 + 16 + 32 * 144 + 32 + 1568 * 10 + 10;
    cr_assert_geq(net->num_params, real);
    cr_assert_lt(net->num_params, real + 6 * 16);
    size_t bytes;
    double work[2];
    size_t classes;
    nn_optim opt;
    nn_optim_adam(&opt, 1e-3);
    cr_assert_eq(nn_cnn_net_plan(s, 5, 28, 28, 1, 32, &opt, &bytes, work, &classes, NULL), NN_OK);
    cr_assert_geq(bytes, net->bytes, "the plan covers the allocation");
    cr_assert_eq(classes, 10u);
    cr_assert_eq(work[0], net->work_forward);
    cr_assert_eq(work[1], net->work_backward);
    /* the convolutions and the linear layer dominate (1x and 2x their flops); the max poolings'
     * argmax scan adds about a tenth to the forward, their scatter little to the backward */
    cr_assert(work[0] > 1.02 * net->flops_forward && work[0] < 1.25 * net->flops_forward, "%g vs %g", work[0],
              net->flops_forward);
    cr_assert(work[1] > 1.9 * net->flops_forward && work[1] < 2.1 * net->flops_forward, "%g vs %g", work[1],
              net->flops_forward);
    destroy(net);
}

Test(cnn_net, he_normal_weights_and_zero_biases) {
    nn_layer_spec s[5];
    default_net(s);
    nn_cnn_net *a = make(s, 5, 28, 4, 7), *b = make(s, 5, 28, 4, 7), *c = make(s, 5, 28, 4, 8);
    cr_assert_eq(memcmp(a->params, b->params, a->num_params * 4), 0, "same seed, same weights");
    cr_assert_neq(memcmp(a->params, c->params, a->num_params * 4), 0);
    const nn_net_op *op = &a->ops[2]; /* conv 32: fan_in 144 */
    double ss = 0;
    size_t nw = 32 * 144;
    for (size_t i = 0; i < nw; i++) ss += (double)op->w[i] * op->w[i];
    cr_assert_lt(fabs(sqrt(ss / nw) / sqrt(2.0 / 144) - 1), 0.05, "std %g", sqrt(ss / nw));
    for (size_t k = 0; k < a->num_ops; k++)
        if (a->ops[k].b)
            for (size_t i = 0; i < a->ops[k].out_shape[a->ops[k].type == NN_OP_CONV ? 2 : 0]; i++)
                cr_assert_eq(a->ops[k].b[i], 0.0f);
    destroy(a);
    destroy(b);
    destroy(c);
}

/* A net of every kind of layer: conv (stride 2 too), max and average pooling, global pooling,
 * an MLP with a hidden layer. */
static size_t mixed_net(nn_layer_spec s[6], nn_pool_kind global) {
    conv(&s[0], 3, 3, 1, 1, TANH);
    pool(&s[1], NN_POOL_AVG, 2);
    conv(&s[2], 4, 3, 2, 1, RELU);
    pool(&s[3], NN_POOL_MAX, 2);
    mlp(&s[5], 1, 5, 3, TANH);
    memset(&s[4], 0, sizeof s[4]);
    s[4].type = NN_LAYER_GLOBAL_POOL;
    s[4].pool.kind = global;
    return 6;
}

Test(cnn_net, forward_matches_the_forward_only_model) {
    for (int g = 0; g < 2; g++) {
        nn_layer_spec s[6];
        mixed_net(s, g ? NN_POOL_MAX : NN_POOL_AVG);
        nn_cnn_net *net = make(s, 6, 12, 5, 3);
        /* biases nonzero so they are checked too */
        for (size_t k = 0; k < net->num_ops; k++)
            if (net->ops[k].b)
                for (size_t i = 0; i < 5; i++) net->ops[k].b[i] = 0.05f * (float)(i + 1);
        float px[5 * 144];
        uint8_t lb[5];
        nn_imageset set;
        random_set(&set, px, lb, 5, 12, 3, 11);
        nn_cnn_net_load(net, &set, NULL, 0, 5);
        cr_assert_eq(nn_cnn_net_forward(net, 5, NULL), NN_OK);
        nn_layer_spec ex[6];
        nn_cnn_net_export(net, ex);
        nn_cnn m;
        nn_error err;
        cr_assert_eq(nn_cnn_create(&m, ex, 6, 12, 12, 1, 0, 0, &err), NN_OK, "%s", err.message);
        for (size_t i = 0; i < 5; i++) {
            cr_assert_eq(nn_cnn_forward(&m, px + i * 144, NULL), NN_OK);
            for (size_t k = 0; k < 3; k++)
                cr_assert_float_eq(net->logits[i * 3 + k], m.logits[k], 1e-5, "image %zu logit %zu", i, k);
        }
        nn_cnn_free(&m);
        destroy(net);
    }
}

/* The mean loss in double, at the net's current parameters. */
static double loss_at(nn_cnn_net *net, size_t b, const uint8_t *lb) {
    double l;
    cr_assert_eq(nn_cnn_net_forward(net, b, NULL), NN_OK);
    cr_assert_eq(nn_cnn_net_loss(net, b, lb, &l, NULL, NULL, NULL), NN_OK);
    return l;
}

Test(cnn_net, gradients_match_finite_differences) {
    for (int g = 0; g < 2; g++) {
        nn_layer_spec s[6];
        mixed_net(s, g ? NN_POOL_MAX : NN_POOL_AVG);
        nn_cnn_net *net = make(s, 6, 12, 4, 5);
        float px[4 * 144];
        uint8_t lb[4];
        nn_imageset set;
        random_set(&set, px, lb, 4, 12, 3, 13);
        nn_cnn_net_load(net, &set, NULL, 0, 4);
        loss_at(net, 4, lb);
        cr_assert_eq(nn_cnn_net_backward(net, 4, lb, NULL), NN_OK);
        float *grads = malloc(net->num_params * sizeof *grads);
        memcpy(grads, net->grads, net->num_params * sizeof *grads);
        size_t checked = 0, bad = 0;
        for (size_t k = 0; k < net->num_ops; k++) {
            nn_net_op *op = &net->ops[k];
            if (!op->w) continue;
            size_t nw = op->type == NN_OP_CONV ? op->filters * op->kh * op->kw * op->in_shape[2] : op->in_len * op->out_len;
            size_t nb = op->type == NN_OP_CONV ? op->filters : op->out_len;
            float *ps[2] = {op->w, op->b};
            size_t ns[2] = {nw, nb};
            for (int t = 0; t < 2; t++)
                for (size_t i = 0; i < ns[t]; i++) {
                    float *p = ps[t] + i, keep = *p;
                    const float h = 1e-3f;
                    *p = keep + h;
                    double up = loss_at(net, 4, lb);
                    *p = keep - h;
                    double down = loss_at(net, 4, lb);
                    *p = keep;
                    double fd = (up - down) / (2.0 * (double)h), an = grads[p - net->params];
                    checked++;
                    /* float32 forward: the difference quotient carries ~1e-4 of noise; a max
                     * pooling or ReLU kink inside +-h would spoil one on its own */
                    if (fabs(fd - an) > 5e-4 + 5e-3 * fabs(fd)) { bad++; cr_log_info("g%d op %zu t%d i %zu fd %g an %g", g, k, t, i, fd, an); }
                }
        }
        cr_assert_gt(checked, 150u);
        cr_assert_leq(bad, checked / 50, "%zu of %zu gradients disagree with finite differences", bad, checked);
        free(grads);
        destroy(net);
    }
}

/* Train a few steps, returning the losses. */
static void run_steps(const nn_layer_spec *s, size_t n, nn_imageset *set, int shuffle, double *losses, size_t steps);

typedef struct {
    double *loss;
    size_t n, max, stop_at;
    nn_cnn_event_kind stop_kind;
    size_t evals, epochs;
} recorder;

static int record(void *ctx, const nn_cnn_event *ev) {
    recorder *r = ctx;
    if (ev->kind == NN_CNN_STEP && r->n < r->max) r->loss[r->n++] = ev->loss;
    if (ev->kind == NN_CNN_EVAL) r->evals++;
    if (ev->kind == NN_CNN_EPOCH) r->epochs++;
    return r->stop_at && ev->kind == r->stop_kind && (ev->kind == NN_CNN_STEP ? r->n : r->evals) >= r->stop_at;
}

static void run_steps(const nn_layer_spec *s, size_t n, nn_imageset *set, int shuffle, double *losses, size_t steps) {
    nn_cnn_net *net = make(s, n, set->h, 8, 2);
    nn_cnn_train_config cfg = {set, set, steps * 8, 16, 1, 8, shuffle, 9, 1};
    recorder r = {losses, 0, steps, 0, NN_CNN_STEP, 0, 0};
    nn_cnn_train_result res;
    nn_error err;
    cr_assert_eq(nn_cnn_train_run(net, &cfg, record, &r, &res, &err), NN_OK, "%s", err.message);
    cr_assert_eq(r.n, steps);
    nn_cnn_train_result_free(&res);
    destroy(net);
}

Test(cnn_net, bits_do_not_depend_on_the_thread_count) {
    nn_layer_spec s[5];
    default_net(s);
    static float px[160 * 784];
    static uint8_t lb[160];
    nn_imageset set;
    random_set(&set, px, lb, 160, 28, 10, 17);
    double one[20], two[20];
    nn_parallel_set_threads(1);
    run_steps(s, 5, &set, 1, one, 20);
    nn_parallel_set_threads(0);
    run_steps(s, 5, &set, 1, two, 20);
    cr_assert_eq(memcmp(one, two, sizeof one), 0, "1 and %zu threads differ", nn_parallel_threads());
}

Test(cnn_net, byte_images_are_pixel_over_255) {
    nn_layer_spec s[6];
    mixed_net(s, NN_POOL_AVG);
    uint8_t bytes[64 * 144], lb[64];
    static float px[64 * 144];
    nn_rng r;
    nn_rng_seed(&r, 3);
    for (size_t i = 0; i < sizeof bytes; i++) {
        bytes[i] = (uint8_t)nn_rng_range(&r, 0, 255);
        px[i] = (float)bytes[i] / 255.0f;
    }
    for (size_t i = 0; i < 64; i++) lb[i] = (uint8_t)(i % 3);
    nn_imageset a = {bytes, NULL, lb, 64, 12, 12, 3}, b = {NULL, px, lb, 64, 12, 12, 3};
    double la[8], lb2[8], shuffled[8];
    run_steps(s, 6, &a, 0, la, 8);
    run_steps(s, 6, &b, 0, lb2, 8);
    cr_assert_eq(memcmp(la, lb2, sizeof la), 0);
    run_steps(s, 6, &a, 1, shuffled, 8);
    cr_assert_neq(memcmp(la, shuffled, sizeof la), 0, "shuffling changed nothing");
}

Test(cnn_net, evaluation_confusion_and_examples) {
    nn_layer_spec s[6];
    mixed_net(s, NN_POOL_MAX);
    static float px[100 * 144];
    uint8_t lb[100];
    nn_imageset set;
    random_set(&set, px, lb, 100, 12, 3, 21);
    nn_cnn_net *net = make(s, 6, 12, 16, 4);
    nn_cnn_train_config cfg = {&set, &set, 64, 70, 2, 16, 1, 3, 1};
    double losses[8];
    recorder r = {losses, 0, 8, 0, NN_CNN_STEP, 0, 0};
    nn_cnn_train_result res;
    cr_assert_eq(nn_cnn_train_run(net, &cfg, record, &r, &res, NULL), NN_OK);
    cr_assert_eq(res.epochs, 2u);
    cr_assert_eq(res.steps, 8u);
    cr_assert_eq(net->opt.lr, 1e-3, "lr_decay 1 keeps the learning rate");
    cr_assert_eq(r.epochs, 2u);
    cr_assert_eq(r.evals, 2 * 5 + 1, "70 test images in batches of 16, twice, and the examples");
    size_t total = 0, diag = 0;
    for (size_t t = 0; t < 3; t++)
        for (size_t p = 0; p < 3; p++) {
            total += res.confusion[t * 3 + p];
            if (t == p) diag += res.confusion[t * 3 + p];
        }
    cr_assert_eq(total, 70u);
    cr_assert_float_eq(res.test_accuracy[1], diag / 70.0, 1e-12);
    cr_assert_eq(res.num_examples, 16u);
    /* the examples are the first 16 test images as the trained net sees them */
    nn_cnn_net_load(net, &set, NULL, 0, 16);
    uint8_t pred[16];
    cr_assert_eq(nn_cnn_net_predict(net, 16, pred, NULL), NN_OK);
    for (size_t i = 0; i < 16; i++) {
        cr_assert_eq(res.example_pred[i], pred[i]);
        cr_assert_float_eq(res.example_prob[i], net->probs[i * 3 + pred[i]], 0);
    }
    nn_cnn_train_result_free(&res);
    destroy(net);
}

Test(cnn_net, a_callback_cancels_training_and_evaluation) {
    nn_layer_spec s[6];
    mixed_net(s, NN_POOL_AVG);
    static float px[200 * 144];
    uint8_t lb[200];
    nn_imageset set;
    random_set(&set, px, lb, 200, 12, 3, 5);
    double losses[50];
    for (int kind = 0; kind < 2; kind++) {
        nn_cnn_net *net = make(s, 6, 12, 8, 4);
        nn_cnn_train_config cfg = {&set, &set, 200, 200, 3, 8, 1, 1, 1};
        recorder r = {losses, 0, 50, 3, kind ? NN_CNN_EVAL : NN_CNN_STEP, 0, 0};
        nn_cnn_train_result res;
        nn_error err;
        cr_assert_eq(nn_cnn_train_run(net, &cfg, record, &r, &res, &err), NN_CANCELLED);
        cr_assert_str_eq(err.field, "cancelled");
        if (kind) cr_assert_eq(r.evals, 3u);
        else cr_assert_eq(r.n, 3u, "stopped right after the step that asked");
        cr_assert_null(res.block);
        destroy(net);
    }
}

Test(cnn_net, errors_name_the_field) {
    nn_layer_spec s[6];
    nn_optim opt;
    nn_optim_adam(&opt, 1e-3);
    nn_error err;
    nn_cnn_net net;
    /* a net whose last layer gives one value is no classifier */
    conv(&s[0], 1, 3, 1, 1, RELU);
    memset(&s[1], 0, sizeof s[1]);
    s[1].type = NN_LAYER_GLOBAL_POOL;
    cr_assert_eq(nn_cnn_net_create(&net, s, 2, 8, 8, 1, 4, &opt, 1, &err), NN_INVALID);
    cr_assert_str_eq(err.field, "architecture");
    mixed_net(s, NN_POOL_AVG);
    cr_assert_eq(nn_cnn_net_create(&net, s, 6, 12, 12, 1, 0, &opt, 1, &err), NN_INVALID);
    cr_assert_str_eq(err.field, "batch_size");
    s[2].size_h = 40;
    cr_assert_eq(nn_cnn_net_create(&net, s, 6, 12, 12, 1, 4, &opt, 1, &err), NN_INVALID);
    cr_assert_str_eq(err.field, "architecture[2].size");
    mixed_net(s, NN_POOL_AVG);
    s[2].init = NN_INIT_NUMPY_RANDN;
    cr_assert_eq(nn_cnn_net_create(&net, s, 6, 12, 12, 1, 4, &opt, 1, &err), NN_INVALID);
    cr_assert_str_eq(err.field, "architecture[2].init");
    mixed_net(s, NN_POOL_AVG);
    nn_optim bad = opt;
    bad.lr = -1;
    cr_assert_eq(nn_cnn_net_create(&net, s, 6, 12, 12, 1, 4, &bad, 1, &err), NN_INVALID);
    cr_assert_str_eq(err.field, "learning_rate");

    nn_cnn_net *ok = make(s, 6, 12, 4, 1);
    float px[10 * 144];
    uint8_t lb[10];
    nn_imageset set, small;
    random_set(&set, px, lb, 10, 12, 3, 1);
    uint8_t bad_label = 3;
    cr_assert_eq(nn_cnn_net_loss(ok, 1, &bad_label, NULL, NULL, NULL, &err), NN_INVALID);
    cr_assert_str_eq(err.field, "target");
    struct { size_t train, test, epochs, batch; const char *field; } cases[] = {
        {11, 5, 1, 4, "train_samples"}, {10, 0, 1, 4, "test_samples"}, {10, 5, 0, 4, "epochs"},
        {10, 5, 1, 5, "batch_size"}, {3, 5, 1, 4, "batch_size"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nn_cnn_train_config cfg = {&set, &set, cases[i].train, cases[i].test, cases[i].epochs, cases[i].batch, 0, 1, 1};
        cr_assert_eq(nn_cnn_train_validate(ok, &cfg, &err), NN_INVALID, "case %zu", i);
        cr_assert_str_eq(err.field, cases[i].field, "case %zu", i);
    }
    small = set;
    small.h = small.w = 10;
    nn_cnn_train_config cfg = {&small, &set, 1, 1, 1, 1, 0, 1, 1};
    cr_assert_eq(nn_cnn_train_validate(ok, &cfg, &err), NN_INVALID);
    cr_assert_str_eq(err.field, "dataset");
    cfg = (nn_cnn_train_config){&set, &set, 10, 10, 1, 1, 0, 1, 1.5};
    cr_assert_eq(nn_cnn_train_validate(ok, &cfg, &err), NN_INVALID);
    cr_assert_str_eq(err.field, "lr_decay");
    /* two epochs with lr_decay 0.5: the rate is halved after each, as StepLR(gamma=0.5) */
    cfg = (nn_cnn_train_config){&set, &set, 8, 4, 2, 4, 1, 1, 0.5};
    nn_cnn_train_result res;
    cr_assert_eq(nn_cnn_train_run(ok, &cfg, NULL, NULL, &res, &err), NN_OK, "%s", err.message);
    cr_assert_eq(ok->opt.lr, 1e-3 * 0.5 * 0.5);
    nn_cnn_train_result_free(&res);
    lb[4] = 7;
    cfg = (nn_cnn_train_config){&set, &set, 10, 10, 1, 1, 0, 1, 1};
    cr_assert_eq(nn_cnn_train_validate(ok, &cfg, &err), NN_INVALID);
    cr_assert_str_eq(err.field, "dataset");
    destroy(ok);
}
