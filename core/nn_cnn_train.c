/* nn_cnn_train.c — the CNN training run; see nn_cnn_train.h. */
#include "nn_cnn_train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_rng.h"

static nn_code check_set(const nn_cnn_net *net, const nn_imageset *s, size_t n, const char *field,
                         const char *count_field, nn_error *err) {
    if (!s || (!s->images && !s->pixels) || !s->labels || s->count == 0)
        return nn_fail(err, NN_INVALID, field, "%s is empty", field);
    if (n == 0 || n > s->count)
        return nn_fail(err, NN_INVALID, count_field, "%s is %zu; the set has %zu images", count_field, n, s->count);
    if (net->in_c != 1 || s->h != net->in_h || s->w != net->in_w)
        return nn_fail(err, NN_INVALID, field, "%s holds %zux%zu images; the net takes %zux%zux%zu", field, s->h, s->w,
                       net->in_h, net->in_w, net->in_c);
    if (s->classes > net->classes)
        return nn_fail(err, NN_INVALID, field, "%s has %zu classes; the net gives %zu values", field, s->classes,
                       net->classes);
    for (size_t i = 0; i < n; i++)
        if (s->labels[i] >= net->classes)
            return nn_fail(err, NN_INVALID, field, "%s: label %zu is %u; the net has %zu classes", field, i,
                           s->labels[i], net->classes);
    return NN_OK;
}

nn_code nn_cnn_train_validate(const nn_cnn_net *net, const nn_cnn_train_config *cfg,
                              nn_error *err) {
    if (!net || !net->memory || !cfg) return nn_fail(err, NN_INVALID, "architecture", "net or config missing");
    if (net->classes > NN_CNN_MAX_CLASSES)
        return nn_fail(err, NN_INVALID, "architecture", "the net gives %zu values; at most %d classes", net->classes,
                       NN_CNN_MAX_CLASSES);
    nn_code c = check_set(net, cfg->train, cfg->train_samples, "dataset", "train_samples", err);
    if (!c) c = check_set(net, cfg->test, cfg->test_samples, "test_dataset", "test_samples", err);
    if (c) return c;
    if (cfg->epochs == 0) return nn_fail(err, NN_INVALID, "epochs", "epochs must be >= 1");
    if (!(cfg->lr_decay >= 0 && cfg->lr_decay <= 1))
        return nn_fail(err, NN_INVALID, "lr_decay", "lr_decay must be in (0, 1]");
    if (cfg->batch_size == 0 || cfg->batch_size > net->batch || cfg->batch_size > cfg->train_samples)
        return nn_fail(err, NN_INVALID, "batch_size", "batch_size is %zu; it must be 1 to %zu", cfg->batch_size,
                       net->batch < cfg->train_samples ? net->batch : cfg->train_samples);
    return NN_OK;
}

void nn_cnn_train_result_free(nn_cnn_train_result *res) {
    if (!res) return;
    free(res->block);
    memset(res, 0, sizeof *res);
}

static int report(nn_cnn_progress_fn progress, void *ctx, const nn_cnn_event *ev) {
    return progress && progress(ctx, ev) != 0;
}

nn_code nn_cnn_evaluate(nn_cnn_net *net, const nn_imageset *set, size_t n, double *loss,
                        double *accuracy, size_t *confusion, uint8_t *pred, float *prob,
                        nn_cnn_progress_fn progress, void *ctx, nn_error *err) {
    size_t K = net->classes, right = 0;
    double sum = 0.0;
    const uint8_t *p = net->pred;
    nn_cnn_event ev = {.kind = NN_CNN_EVAL};
    size_t B = net->batch;
    for (size_t i = 0; i < n; i += B) {
        size_t b = n - i < B ? n - i : B;
        nn_cnn_net_load(net, set, NULL, i, b);
        double l;
        nn_code c = nn_cnn_net_predict(net, b, net->pred, err);
        if (!c) c = nn_cnn_net_loss(net, b, net->labels, &l, NULL, NULL, err);
        if (c) return c;
        sum += l * (double)b;
        for (size_t j = 0; j < b; j++) {
            uint8_t y = set->labels[i + j];
            right += p[j] == y;
            if (confusion) confusion[y * K + p[j]]++;
            if (pred) pred[i + j] = p[j];
            if (prob) prob[i + j] = net->probs[j * K + p[j]];
        }
        ev.batch = i + b;
        if (report(progress, ctx, &ev)) return nn_fail(err, NN_CANCELLED, "cancelled", "cancelled");
    }
    if (loss) *loss = sum / (double)n;
    if (accuracy) *accuracy = (double)right / (double)n;
    return NN_OK;
}

/* Fisher-Yates over [0, n) with rng. */
static void shuffle(size_t *idx, size_t n, nn_rng *rng) {
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)nn_rng_range(rng, 0, i - 1);
        size_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

/* The per-epoch arrays and the permutation, in one allocation. */
static nn_code alloc_result(nn_cnn_train_result *res, size_t epochs, size_t n, size_t **perm, nn_error *err) {
    size_t bytes = 4 * epochs * sizeof(double) + n * sizeof(size_t);
    res->block = malloc(bytes);
    if (!res->block) return nn_fail(err, NN_NOMEM, "epochs", "cannot allocate the run's results");
    double *d = res->block;
    res->train_loss = d;
    res->train_accuracy = d + epochs;
    res->test_loss = d + 2 * epochs;
    res->test_accuracy = d + 3 * epochs;
    *perm = (size_t *)(d + 4 * epochs);
    for (size_t i = 0; i < n; i++) (*perm)[i] = i;
    return NN_OK;
}

/* One epoch of training: the mean loss and accuracy over its images (before each update). */
static nn_code train_epoch(nn_cnn_net *net, const nn_cnn_train_config *cfg, const size_t *perm, nn_cnn_event *ev,
                           nn_cnn_progress_fn progress, void *ctx, double *loss, double *acc, nn_error *err) {
    size_t n = cfg->train_samples, B = cfg->batch_size, right = 0;
    double sum = 0.0;
    for (size_t i = 0; i < n; i += B) {
        size_t b = n - i < B ? n - i : B;
        nn_cnn_net_load(net, cfg->train, perm + i, 0, b);
        double l = 0.0;
        size_t ok = 0;
        nn_code c = nn_cnn_net_train_step(net, b, net->labels, &l, &ok, err);
        if (c) return c;
        if (!isfinite(l)) return nn_fail(err, NN_INVALID, "learning_rate", "diverged: the loss is not finite");
        sum += l * (double)b;
        right += ok;
        ev->kind = NN_CNN_STEP;
        ev->step++;
        ev->batch = b;
        ev->loss = l;
        ev->correct = ok;
        if (report(progress, ctx, ev)) return nn_fail(err, NN_CANCELLED, "cancelled", "cancelled");
    }
    *loss = sum / (double)n;
    *acc = (double)right / (double)n;
    return NN_OK;
}

nn_code nn_cnn_train_run(nn_cnn_net *net, const nn_cnn_train_config *cfg,
                         nn_cnn_progress_fn progress, void *ctx, nn_cnn_train_result *res,
                         nn_error *err) {
    if (!res) return nn_fail(err, NN_INVALID, "result", "result missing");
    memset(res, 0, sizeof *res);
    nn_code c = nn_cnn_train_validate(net, cfg, err);
    size_t *perm = NULL, K = net ? net->classes : 0;
    if (!c) c = alloc_result(res, cfg->epochs, cfg->train_samples, &perm, err);
    if (c) return c;
    nn_rng rng;
    nn_rng_seed(&rng, cfg->seed);
    nn_cnn_event ev = {.epochs = cfg->epochs, .classes = K, .net = net,
                       .steps_per_epoch = (cfg->train_samples + cfg->batch_size - 1) / cfg->batch_size};
    res->classes = K;
    res->num_examples = cfg->test_samples < NN_CNN_EXAMPLES ? cfg->test_samples : NN_CNN_EXAMPLES;
    for (size_t e = 0; e < cfg->epochs && !c; e++) {
        ev.epoch = e + 1;
        if (cfg->shuffle) shuffle(perm, cfg->train_samples, &rng);
        c = train_epoch(net, cfg, perm, &ev, progress, ctx, &res->train_loss[e], &res->train_accuracy[e], err);
        if (c) break;
        memset(res->confusion, 0, sizeof res->confusion);
        c = nn_cnn_evaluate(net, cfg->test, cfg->test_samples, &res->test_loss[e], &res->test_accuracy[e],
                            res->confusion, NULL, NULL, progress, ctx, err);
        if (c) break;
        if (!isfinite(res->test_loss[e])) {
            c = nn_fail(err, NN_INVALID, "learning_rate", "diverged: the test loss is not finite");
            break;
        }
        res->epochs = e + 1;
        res->steps = ev.step;
        if (cfg->lr_decay > 0) net->opt.lr *= cfg->lr_decay; /* as StepLR: one multiply per epoch */
        ev.kind = NN_CNN_EPOCH;
        ev.train_loss = res->train_loss[e];
        ev.train_accuracy = res->train_accuracy[e];
        ev.test_loss = res->test_loss[e];
        ev.test_accuracy = res->test_accuracy[e];
        ev.confusion = res->confusion;
        if (report(progress, ctx, &ev)) c = nn_fail(err, NN_CANCELLED, "cancelled", "cancelled");
    }
    /* the examples: the first test images, classified by the trained net */
    if (!c) c = nn_cnn_evaluate(net, cfg->test, res->num_examples, NULL, NULL, NULL, res->example_pred,
                                res->example_prob, progress, ctx, err);
    if (c) nn_cnn_train_result_free(res);
    return c;
}
