/* nn_rnn_train.c — the adding-problem experiment: data, model, Adam + clipping, epochs, reports;
 * see nn_rnn_train.h. */
#include "nn_rnn_train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_adam.h"
#include "nn_cancel.h"
#include "nn_rnn_probe.h"

void nn_rnn_train_config_default(nn_rnn_train_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->model = NN_RNN_ELMAN;
    cfg->samples = 5000;
    cfg->test_samples = 1000;
    cfg->min_length = 3;
    cfg->max_length = 9;
    cfg->epochs = 20;
    cfg->hidden = 6;
    cfg->lr = 0.001;
    cfg->clip = 3.0;
    cfg->batch_size = 1;
    cfg->seed = 1;
    cfg->probe_samples = 32;
}

static const char *const init_fields[NN_RNN_NPARAMS] = {
    "init.weight_ih", "init.weight_hh", "init.bias_ih", "init.bias_hh", "init.fc.weight",
    "init.fc.bias",
};

nn_code nn_rnn_train_validate(const nn_rnn_train_config *cfg, nn_error *err) {
    if (!cfg) return nn_fail(err, NN_INVALID, "config", "no configuration");
    if ((unsigned)cfg->model > NN_RNN_GRU)
        return nn_fail(err, NN_INVALID, "model", "unknown model (rnn, lstm, gru)");
    if (cfg->hidden == 0) return nn_fail(err, NN_INVALID, "hidden_size", "hidden_size must be >= 1");
    if (cfg->min_length < 2)
        return nn_fail(err, NN_INVALID, "min_length",
                       "min_length must be >= 2 (two distinct marked positions)");
    if (cfg->max_length < cfg->min_length)
        return nn_fail(err, NN_INVALID, "max_length",
                       "max_length (%zu) must be >= min_length (%zu)", cfg->max_length,
                       cfg->min_length);
    if (cfg->epochs == 0) return nn_fail(err, NN_INVALID, "epochs", "epochs must be >= 1");
    if (!cfg->data_x && cfg->samples == 0)
        return nn_fail(err, NN_INVALID, "samples", "samples must be >= 1");
    if (!cfg->test_x && cfg->test_samples == 0)
        return nn_fail(err, NN_INVALID, "test_samples", "test_samples must be >= 1");
    if (!isfinite(cfg->lr) || !(cfg->lr > 0.0))
        return nn_fail(err, NN_INVALID, "learning_rate", "learning_rate must be a finite number > 0");
    if (isnan(cfg->clip) || !(cfg->clip > 0.0))
        return nn_fail(err, NN_INVALID, "clip", "clip must be > 0");
    if (cfg->batch_size == 0) return nn_fail(err, NN_INVALID, "batch_size", "batch_size must be >= 1");
    nn_code rc;
    if (cfg->data_x &&
        (rc = nn_seqset_check(cfg->data_x, cfg->data_len, cfg->data_y, cfg->data_count,
                              "dataset", err)))
        return rc;
    if (cfg->test_x && (rc = nn_seqset_check(cfg->test_x, cfg->test_len, cfg->test_y,
                                             cfg->test_count, "test_dataset", err)))
        return rc;
    for (int p = 0; p < NN_RNN_NPARAMS; p++) {
        size_t shape[2], nd;
        size_t n = nn_rnn_param_shape(cfg->model, NN_ADDING_FEATURES, cfg->hidden, p, shape, &nd);
        if (n == 0) return nn_fail(err, NN_TOO_LARGE, "hidden_size", "hidden_size is too large");
        if (!cfg->init[p]) continue;
        if (cfg->init_len[p] != n) {
            if (nd == 2)
                return nn_fail(err, NN_INVALID, init_fields[p],
                               "%s must have shape [%zu, %zu] (%zu values), got %zu values",
                               init_fields[p], shape[0], shape[1], n, cfg->init_len[p]);
            return nn_fail(err, NN_INVALID, init_fields[p],
                           "%s must have shape [%zu] (%zu values), got %zu values",
                           init_fields[p], shape[0], n, cfg->init_len[p]);
        }
        for (size_t i = 0; i < n; i++)
            if (!isfinite(cfg->init[p][i]))
                return nn_fail(err, NN_INVALID, init_fields[p], "%s[%zu] is not finite",
                               init_fields[p], i);
    }
    return NN_OK;
}

/* MSE over a set with the current weights, and the fraction within the accuracy tolerance.
 * Stops early (a meaningless result) once the thread's cancel flag is set. */
static double evaluate(nn_rnn_model *m, const nn_seqset *set, double *accuracy) {
    double s = 0.0;
    size_t hits = 0;
    for (size_t i = 0; i < set->count && !nn_cancelled(); i++) {
        double d = nn_rnn_model_forward(m, nn_seqset_x(set, i), nn_seqset_len(set, i)) - set->y[i];
        s += d * d;
        hits += fabs(d) < NN_RNN_TRAIN_ACCURACY_TOL;
    }
    if (accuracy) *accuracy = (double)hits / (double)set->count;
    return s / (double)set->count;
}

static nn_code result_alloc(nn_rnn_train_result *r, const nn_rnn_model *m, size_t epochs,
                            const nn_seqset *test, nn_error *err) {
    size_t np = test->count < NN_RNN_TRAIN_PREDICTIONS ? test->count : NN_RNN_TRAIN_PREDICTIONS;
    size_t ne = test->count < NN_RNN_TRAIN_EXAMPLES ? test->count : NN_RNN_TRAIN_EXAMPLES;
    size_t steps = test->start[ne]; /* the examples' steps */
    size_t n;
    if (nn_size_mul(2, epochs, &n) || nn_size_add(n, m->nparams, &n) ||
        nn_size_add(n, 2 * np + 2 * steps, &n) || n > SIZE_MAX / sizeof(double))
        return nn_fail(err, NN_TOO_LARGE, "epochs", "epochs is too large");
    double *block = calloc(n, sizeof(double));
    if (!block) return nn_fail(err, NN_NOMEM, "epochs", "out of memory for the results");
    r->block = block;
    r->train_loss = block;
    r->test_loss = block + epochs;
    double *w = block + 2 * epochs;
    for (int p = 0; p < NN_RNN_NPARAMS; p++) {
        r->names[p] = nn_rnn_param_name(p);
        r->numel[p] = nn_rnn_param_shape(m->kind, m->input, m->hidden, p, r->shape[p], &r->ndim[p]);
        r->weights[p] = w;
        w += r->numel[p];
    }
    r->pred_count = np;
    r->pred_y = w;
    r->pred = w + np;
    r->example_count = ne;
    r->example_x = w + 2 * np;
    for (size_t i = 0; i < ne; i++) r->example_len[i] = nn_seqset_len(test, i);
    memcpy(r->example_x, test->x, 2 * steps * sizeof(double));
    r->model = m->kind;
    r->input = m->input;
    r->hidden = m->hidden;
    return NN_OK;
}

/* ---- cost model ------------------------------------------------------------------------ */

/* Nanoseconds, calibrated on the reference machine (2-core AMD EPYC VM with AVX-512, gcc -O2,
 * one core; the minimum of 9 repeats of each kernel, T = 200, H = 6..256, all three models,
 * fitted by relative least squares and rounded up; every point within -20 % / +60 % of the
 * fit). w = G*H*(I+H) is the weights a time step multiplies, G*H the gate values it activates,
 * P the parameter count. bench/bench_train_estimate.c compares the estimate with whole runs. */
#define NS_TRAIN_STEP 40.0 /* forward + backward of one time step: + 0.45 w + 3.5 G*H */
#define NS_TRAIN_W 0.45
#define NS_TRAIN_GH 3.5
#define NS_EVAL_STEP 40.0 /* forward only (test set): + 0.12 w + 2.5 G*H */
#define NS_EVAL_W 0.12
#define NS_EVAL_GH 2.5
#define NS_OPT 70.0       /* zero_grad + clipping + Adam per optimiser step: + 1.6 P */
#define NS_OPT_P 1.6
#define NS_DATA_STEP 15.0 /* generating or copying one time step of a data set (once) */

/* Time steps of a set: the given lengths, or the expected total of generated ones. */
static double set_steps(const size_t *len, size_t count, size_t n_gen, size_t min_len, size_t max_len) {
    double s = 0.0;
    if (len) {
        for (size_t i = 0; i < count; i++) s += (double)len[i];
        return s;
    }
    return (double)n_gen * ((double)min_len + (double)max_len) / 2.0;
}

double nn_rnn_train_estimate_seconds(const nn_rnn_train_config *cfg) {
    double G = (double)nn_rnn_kind_gates(cfg->model), H = (double)cfg->hidden;
    double w = G * H * (NN_ADDING_FEATURES + H), gh = G * H, P = w + 2.0 * gh + H + 1.0;
    size_t n = cfg->data_x ? cfg->data_count : cfg->samples;
    size_t B = cfg->batch_size && cfg->batch_size < n ? cfg->batch_size : (n ? n : 1);
    double train = set_steps(cfg->data_x ? cfg->data_len : NULL, cfg->data_count, cfg->samples,
                             cfg->min_length, cfg->max_length);
    double test = set_steps(cfg->test_x ? cfg->test_len : NULL, cfg->test_count, cfg->test_samples,
                            cfg->min_length, cfg->max_length);
    double steps_per_epoch = (double)((n + B - 1) / B);
    double eval_step = NS_EVAL_STEP + NS_EVAL_W * w + NS_EVAL_GH * gh;
    size_t nt = cfg->test_x ? cfg->test_count : cfg->test_samples;
    /* the probe at every epoch's end: forward and backward of probe_samples test sequences of
     * the longest length (for a generated set of nt, its expected longest: a + (b - a) nt/(nt+1)) */
    double longest_test = cfg->test_x ? 0.0
                                      : (double)cfg->min_length + (double)(cfg->max_length - cfg->min_length) *
                                                                      (double)nt / (double)(nt + 1);
    for (size_t i = 0; cfg->test_x && i < cfg->test_count; i++)
        longest_test = fmax(longest_test, (double)cfg->test_len[i]);
    double probe = (double)(cfg->probe_samples < nt ? cfg->probe_samples : nt) * longest_test;
    double epoch = (train + probe) * (NS_TRAIN_STEP + NS_TRAIN_W * w + NS_TRAIN_GH * gh) + test * eval_step +
                   steps_per_epoch * (NS_OPT + NS_OPT_P * P);
    /* the predictions kept at the end: at most NN_RNN_TRAIN_PREDICTIONS test samples again */
    double preds = test / (double)(nt ? nt : 1) *
                   (double)(nt < NN_RNN_TRAIN_PREDICTIONS ? nt : NN_RNN_TRAIN_PREDICTIONS);
    return ((double)cfg->epochs * epoch + preds * eval_step + (train + test) * NS_DATA_STEP) * 1e-9;
}

/* Bytes of a set of `count` sequences holding `steps` time steps (nn_adding.c's layout). */
static size_t set_bytes(size_t count, size_t steps) {
    size_t a = count + 1, b = steps, c = count;
    if (nn_size_mul(a, sizeof(size_t), &a) || nn_size_mul(b, NN_ADDING_FEATURES * sizeof(double), &b) ||
        nn_size_mul(c, sizeof(double), &c) || nn_size_add(a, b, &a) || nn_size_add(a, c, &a))
        return SIZE_MAX;
    return a;
}

/* The longest sequence and the total steps of a set (at most, for a generated one). */
static void set_extent(const size_t *len, size_t count, size_t n_gen, size_t max_len, size_t *longest,
                       size_t *steps) {
    if (!len) {
        *longest = max_len;
        *steps = nn_size_mul(n_gen, max_len, steps) ? SIZE_MAX : *steps;
        return;
    }
    size_t m = 0, s = 0;
    for (size_t i = 0; i < count; i++) {
        m = len[i] > m ? len[i] : m;
        s = nn_size_add(s, len[i], &s) ? SIZE_MAX : s;
    }
    *longest = m;
    *steps = s;
}

size_t nn_rnn_train_memory_bytes(const nn_rnn_train_config *cfg) {
    size_t n = cfg->data_x ? cfg->data_count : cfg->samples;
    size_t nt = cfg->test_x ? cfg->test_count : cfg->test_samples;
    size_t lt, st, le, se;
    set_extent(cfg->data_x ? cfg->data_len : NULL, cfg->data_count, cfg->samples, cfg->max_length, &lt, &st);
    set_extent(cfg->test_x ? cfg->test_len : NULL, cfg->test_count, cfg->test_samples, cfg->max_length, &le, &se);
    size_t T = lt > le ? lt : le, G = nn_rnn_kind_gates(cfg->model), H = cfg->hidden, P = 0;
    for (int p = 0; p < NN_RNN_NPARAMS; p++) {
        size_t shape[2], k = nn_rnn_param_shape(cfg->model, NN_ADDING_FEATURES, H, p, shape, NULL);
        if (k == 0 || nn_size_add(P, k, &P)) return SIZE_MAX;
    }
    /* nn_rnn_model_init: params, grads, two Adam moments; h, c, aux, dh and the gates for T
     * steps (the activations kept for backprop); scratch. Then the results: losses, weights,
     * predictions (two per kept test sample) and the examples' steps (two doubles each). */
    size_t model = 0, tmp, total, kept = nt < NN_RNN_TRAIN_PREDICTIONS ? nt : NN_RNN_TRAIN_PREDICTIONS;
    size_t ex = nt < NN_RNN_TRAIN_EXAMPLES ? nt : NN_RNN_TRAIN_EXAMPLES;
    if (nn_size_mul(4, P, &model) || nn_size_mul(T, H, &tmp) || nn_size_mul(tmp, 4 + G, &tmp) ||
        nn_size_add(model, tmp, &model) || nn_size_add(model, 16 * H, &model) ||
        nn_size_add(model, P, &model) || nn_size_mul(cfg->epochs, 2, &tmp) || nn_size_add(model, tmp, &model) ||
        nn_size_add(model, 2 * kept, &model) || nn_size_mul(ex, 2 * le, &tmp) || nn_size_add(model, tmp, &model) ||
        nn_size_mul(model, sizeof(double), &model))
        return SIZE_MAX;
    total = set_bytes(n, st);
    if (nn_size_add(total, set_bytes(nt, se), &total) || nn_size_add(total, model, &total)) return SIZE_MAX;
    /* the probe: its gradient by step [longest test sequence] and its set of indices */
    size_t probe = cfg->probe_samples < nt ? cfg->probe_samples : nt;
    if (nn_size_add(probe, le, &probe) || nn_size_mul(probe, sizeof(double), &probe) ||
        nn_size_add(total, probe, &total))
        return SIZE_MAX;
    return total;
}

void nn_rnn_train_result_free(nn_rnn_train_result *res) {
    if (!res) return;
    free(res->block);
    memset(res, 0, sizeof *res);
}

nn_code nn_rnn_train_begin(const nn_rnn_train_config *cfg, nn_seqset *train, nn_seqset *test,
                           nn_rnn_model *m, nn_error *err) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    memset(m, 0, sizeof *m);
    nn_code rc = nn_rnn_train_validate(cfg, err);
    if (rc) return rc;
    nn_rng root;
    nn_rng_seed(&root, cfg->seed);
    uint64_t init_seed = nn_rng_u64(&root);
    uint64_t train_seed = nn_rng_u64(&root);
    uint64_t test_seed = nn_rng_u64(&root);
    nn_rng rng;
    if (cfg->data_x) {
        rc = nn_seqset_copy(train, cfg->data_x, cfg->data_len, cfg->data_y, cfg->data_count,
                            "dataset", err);
    } else {
        nn_rng_seed(&rng, train_seed);
        rc = nn_adding_generate(train, cfg->samples, cfg->min_length, cfg->max_length, &rng, err);
    }
    if (rc) return rc;
    if (cfg->test_x) {
        rc = nn_seqset_copy(test, cfg->test_x, cfg->test_len, cfg->test_y, cfg->test_count,
                            "test_dataset", err);
    } else {
        nn_rng_seed(&rng, test_seed);
        rc = nn_adding_generate(test, cfg->test_samples, cfg->min_length, cfg->max_length, &rng,
                                err);
        if (rc && err && err->field && !strcmp(err->field, "samples")) err->field = "test_samples";
    }
    size_t max_len = train->max_len > test->max_len ? train->max_len : test->max_len;
    if (!rc) rc = nn_rnn_model_init(m, cfg->model, NN_ADDING_FEATURES, cfg->hidden, max_len, err);
    if (rc) {
        nn_seqset_free(train);
        nn_seqset_free(test);
        return rc;
    }
    nn_rng_seed(&rng, init_seed);
    nn_rnn_model_init_uniform(m, &rng);
    for (int p = 0; p < NN_RNN_NPARAMS; p++)
        if (cfg->init[p]) nn_rnn_model_set_param(m, p, cfg->init[p]);
    return NN_OK;
}

/* The probe (nn_rnn_probe.h): its gradient by step grad [test.max_len] and its set idx [n], in
 * one allocation (*grad; NULL without a probe). */
static nn_code probe_alloc(const nn_rnn_train_config *cfg, const nn_seqset *test, double **grad,
                           size_t **idx, size_t *count, nn_error *err) {
    *grad = NULL;
    *count = 0;
    if (cfg->probe_samples == 0) return NN_OK;
    size_t n = cfg->probe_samples < test->count ? cfg->probe_samples : test->count, a, b;
    if (nn_size_mul(n, sizeof(size_t), &a) || nn_size_mul(test->max_len, sizeof(double), &b) ||
        nn_size_add(a, b, &a))
        return nn_fail(err, NN_TOO_LARGE, "probe_samples", "probe_samples is too large");
    *grad = malloc(a);
    if (!*grad) return nn_fail(err, NN_NOMEM, "probe_samples", "out of memory for the probe");
    *idx = (size_t *)(*grad + test->max_len);
    *count = nn_rnn_probe_select(test, n, *idx);
    return NN_OK;
}

/* One run's state, shared by the steps of nn_rnn_train_run. */
typedef struct {
    const nn_rnn_train_config *cfg;
    nn_rnn_train_progress_fn progress;
    void *ctx;
    nn_rnn_train_result *out;
    nn_seqset train, test;
    nn_rnn_model m;
    nn_adam opt;
    nn_rnn_train_event ev; /* the next event, its run-wide fields filled once */
    size_t batch;          /* samples per optimiser step, at most train.count */
    double *probe_grad;    /* NULL without a probe (probe_alloc) */
    size_t *probe_idx, probe_count;
} train_run;

static nn_code run_cancelled(nn_error *err) {
    return nn_fail(err, NN_CANCELLED, "cancelled", "training cancelled");
}

static nn_code run_stopped(nn_error *err) {
    return nn_fail(err, NN_CANCELLED, "progress", "training cancelled");
}

/* One optimiser step over the training samples [b0, b0 + nb) of epoch e: forward and backward
 * per sample, clip, Adam, the step event. Adds the batch's summed squared error to *sum. */
static nn_code run_step(train_run *r, size_t e, size_t b0, size_t nb, double *sum, nn_error *err) {
    nn_rnn_model *m = &r->m;
    nn_rnn_model_zero_grad(m);
    double batch_sum = 0.0;
    for (size_t i = b0; i < b0 + nb; i++) {
        const double *x = nn_seqset_x(&r->train, i);
        double d = nn_rnn_model_forward(m, x, nn_seqset_len(&r->train, i)) - r->train.y[i];
        batch_sum += d * d;
        nn_rnn_model_backward(m, x, 2.0 * d / (double)nb);
        if (nn_cancelled()) return run_cancelled(err);
    }
    if (!isfinite(batch_sum)) /* e.g. a given data set with values near DBL_MAX */
        return nn_fail(err, NN_INVALID, "learning_rate",
                       "training diverged at epoch %zu, step %zu (loss is not finite)", e + 1,
                       r->out->steps + 1);
    nn_clip_grad_norm(m->grads, m->numel, NN_RNN_NPARAMS, r->cfg->clip);
    nn_adam_step(&r->opt, m->params, m->grads, m->adam_m, m->adam_v, m->nparams);
    *sum += batch_sum;
    r->out->steps++;
    if (!r->progress) return NN_OK;
    r->ev.kind = NN_RNN_TRAIN_STEP;
    r->ev.step = r->out->steps;
    r->ev.loss = batch_sum / (double)nb;
    return r->progress(r->ctx, &r->ev) ? run_stopped(err) : NN_OK;
}

/* The end of epoch e's event, with the probe's gradient by step when there is a probe. */
static nn_code report_epoch(train_run *r, size_t e, nn_error *err) {
    nn_rnn_train_event *ev = &r->ev;
    if (r->probe_grad) {
        nn_rnn_probe_grad_by_step(&r->m, &r->test, r->probe_idx, r->probe_count, r->probe_grad);
        if (nn_cancelled()) return run_cancelled(err); /* the kernels stopped early: no probe */
        ev->grad_by_step = r->probe_grad;
        ev->grad_steps = nn_seqset_len(&r->test, r->probe_idx[0]);
        ev->probe_count = r->probe_count;
    }
    ev->kind = NN_RNN_TRAIN_EPOCH;
    ev->loss = r->out->train_loss[e];
    ev->train_loss = r->out->train_loss[e];
    ev->test_loss = r->out->test_loss[e];
    int stop = r->progress(r->ctx, ev);
    ev->grad_by_step = NULL; /* step events carry none */
    ev->grad_steps = ev->probe_count = 0;
    return stop ? run_stopped(err) : NN_OK;
}

/* Epoch e: its steps, then the losses on both sets (*accuracy: the test set's) and its event. */
static nn_code run_epoch(train_run *r, size_t e, double *accuracy, nn_error *err) {
    size_t N = r->train.count, B = r->batch;
    r->ev.epoch = e + 1;
    double epoch_sum = 0.0;
    for (size_t b0 = 0; b0 < N; b0 += B) {
        nn_code rc = run_step(r, e, b0, N - b0 < B ? N - b0 : B, &epoch_sum, err);
        if (rc) return rc;
    }
    r->out->train_loss[e] = epoch_sum / (double)N;
    r->out->test_loss[e] = evaluate(&r->m, &r->test, accuracy);
    if (nn_cancelled()) return run_cancelled(err);
    r->out->epochs = e + 1;
    return r->progress ? report_epoch(r, e, err) : NN_OK;
}

/* The allocations and the run-wide fields of the result and of the events. */
static nn_code run_setup(train_run *r, nn_error *err) {
    const nn_rnn_train_config *cfg = r->cfg;
    nn_rnn_train_result *out = r->out;
    nn_code rc = probe_alloc(cfg, &r->test, &r->probe_grad, &r->probe_idx, &r->probe_count, err);
    if (!rc) rc = result_alloc(out, &r->m, cfg->epochs, &r->test, err);
    if (rc) return rc;
    out->train_count = r->train.count;
    out->test_count = r->test.count;
    out->baseline_train = nn_seqset_constant_mse(&r->train, 1.0);
    out->baseline_test = nn_seqset_constant_mse(&r->test, 1.0);
    nn_adam_init(&r->opt, cfg->lr);
    size_t N = r->train.count;
    r->batch = cfg->batch_size < N ? cfg->batch_size : N;
    memset(&r->ev, 0, sizeof r->ev);
    r->ev.epochs = cfg->epochs;
    r->ev.steps_per_epoch = (N + r->batch - 1) / r->batch;
    r->ev.baseline_train = out->baseline_train;
    r->ev.baseline_test = out->baseline_test;
    return NN_OK;
}

nn_code nn_rnn_train_run(const nn_rnn_train_config *cfg, nn_rnn_train_progress_fn progress, void *ctx,
                     nn_rnn_train_result *out, nn_error *err) {
    if (out) memset(out, 0, sizeof *out);
    if (!out) return nn_fail(err, NN_INVALID, "result", "no result");
    train_run r = {.cfg = cfg, .progress = progress, .ctx = ctx, .out = out};
    nn_code rc = nn_rnn_train_begin(cfg, &r.train, &r.test, &r.m, err);
    if (rc) return rc;
    rc = run_setup(&r, err);
    double accuracy = 0.0;
    for (size_t e = 0; !rc && e < cfg->epochs; e++) rc = run_epoch(&r, e, &accuracy, err);
    if (!rc) {
        out->test_accuracy = accuracy;
        for (size_t i = 0; i < out->pred_count; i++) {
            out->pred_y[i] = r.test.y[i];
            out->pred[i] = nn_rnn_model_forward(&r.m, nn_seqset_x(&r.test, i),
                                                nn_seqset_len(&r.test, i));
        }
        for (int p = 0; p < NN_RNN_NPARAMS; p++) nn_rnn_model_get_param(&r.m, p, out->weights[p]);
    }
    if (rc) nn_rnn_train_result_free(out);
    free(r.probe_grad);
    nn_rnn_model_free(&r.m);
    nn_seqset_free(&r.train);
    nn_seqset_free(&r.test);
    return rc;
}
