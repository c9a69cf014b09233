/* nn_rnn_train.h — the recurrent-net experiment: train an Elman RNN, LSTM or GRU on the adding
 * problem (or a given data set) with Adam and gradient-norm clipping, in float64, and report
 * per-epoch losses against the baseline that always predicts 1.
 *
 * What a run does (all of it deterministic from cfg->seed):
 *   - sub-seeds for the weights, the training set and the test set are drawn from
 *     nn_rng_seed(seed): init_seed, train_seed, test_seed = three successive nn_rng_u64 draws;
 *   - training set: cfg->data_* if given, else nn_adding_generate(samples, min/max length);
 *     test set: cfg->test_* if given, else nn_adding_generate(test_samples, min/max length);
 *   - weights: cfg->init[p] where given, else PyTorch's default U(-1/sqrt(H), 1/sqrt(H));
 *   - each epoch visits the training samples in order (no shuffling) in batches of batch_size
 *     consecutive samples (the last one may be smaller); per batch: zero grads, forward+backward
 *     of each sample with loss = mean over the batch of (pred - y)^2 (torch.nn.MSELoss on the
 *     batch's predictions), clip_grad_norm_(all parameters, clip), one Adam step
 *     (betas 0.9/0.999, eps 1e-8, no weight decay: PyTorch's defaults);
 *   - epoch report: train_loss = mean of the per-sample losses seen during the epoch (each taken
 *     before its batch's update), test_loss = MSE over the test set after the epoch, and the
 *     baseline (always 1) MSE on both sets;
 *   - at the end: test accuracy = fraction of test samples with |pred - y| < 0.04, the
 *     trained weights with their PyTorch names and shapes, and the first test samples' targets
 *     and predictions (a few with their sequences) so a client can show predictions vs targets;
 *   - with probe_samples > 0, at every epoch's end, the gradient of the loss at every step
 *     (nn_rnn_probe.h) over the first probe_samples test sequences of the longest length.
 * One model allocation, two data-set allocations, one probe allocation and one result allocation
 * per run; nothing is allocated inside the training loop. The library never prints. */
#ifndef NN_RNN_TRAIN_H
#define NN_RNN_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "nn_adding.h"
#include "nn_rnn_model.h"
#include "nn_status.h"

#define NN_RNN_TRAIN_ACCURACY_TOL 0.04
#define NN_RNN_TRAIN_PREDICTIONS 100 /* test samples whose final prediction the result keeps */
#define NN_RNN_TRAIN_EXAMPLES 3      /* of those, the first ones kept whole (their sequences) */

typedef struct nn_rnn_train_config {
    nn_rnn_kind model;       /* NN_RNN_ELMAN (default), NN_RNN_LSTM, NN_RNN_GRU */
    size_t samples;          /* 5000 training samples (ignored when data_x is given) */
    size_t test_samples;     /* 1000 (ignored when test_x is given) */
    size_t min_length;       /* 3 (>= 2: two distinct markers) */
    size_t max_length;       /* 9 (>= min_length) */
    size_t epochs;           /* 20 */
    size_t hidden;           /* 6 */
    double lr;               /* 0.001 (finite, > 0) */
    double clip;             /* 3 (> 0; +INFINITY disables clipping) */
    size_t batch_size;       /* 1 (>= 1) */
    uint64_t seed;           /* 1 */
    size_t probe_samples;    /* 32: test sequences of the longest length whose gradient by step
                                each epoch event reports (fewer if the test set has fewer; 0: no
                                probe). It does not change the run. */

    /* Optional given training set (data_x NULL = generate). Sequences back to back:
     * data_x [sum(data_len), 2] of (value, marker), data_len [data_count], data_y [data_count].
     * Any lengths >= 1 and finite values are accepted (a given set need not be an adding problem). */
    const double *data_x;
    const size_t *data_len;
    const double *data_y;
    size_t data_count;
    /* Optional given test set, same layout (test_x NULL = generate). */
    const double *test_x;
    const size_t *test_len;
    const double *test_y;
    size_t test_count;

    /* Optional initial weights, indexed NN_RNN_W_IH .. NN_RNN_FC_B (NULL = drawn from the
     * seed), row-major in PyTorch's layout; init_len[p] must equal the element count of
     * nn_rnn_param_shape(model, 2, hidden, p, ...). Only the given ones replace the drawn ones. */
    const double *init[NN_RNN_NPARAMS];
    size_t init_len[NN_RNN_NPARAMS];
} nn_rnn_train_config;

/* The assignment's settings: Elman, 5000 / 1000 samples, lengths 3..9, 20 epochs, hidden 6,
 * lr 0.001, clip 3, batch 1, seed 1, no given data or weights; probe of 32 sequences. */
void nn_rnn_train_config_default(nn_rnn_train_config *cfg);

/* Check every field; NN_INVALID with err->field naming it: "hidden_size", "min_length",
 * "max_length", "epochs", "samples", "test_samples", "learning_rate", "clip", "batch_size",
 * "dataset", "test_dataset", "init.weight_ih" (etc.); NN_TOO_LARGE if sizes overflow.
 * The field names are the HTTP API's parameter names. */
nn_code nn_rnn_train_validate(const nn_rnn_train_config *cfg, nn_error *err);

/* Progress events. */
typedef enum nn_rnn_train_event_kind {
    NN_RNN_TRAIN_STEP = 0,  /* after every optimiser step */
    NN_RNN_TRAIN_EPOCH,     /* after every epoch (test loss computed) */
} nn_rnn_train_event_kind;

typedef struct nn_rnn_train_event {
    nn_rnn_train_event_kind kind;
    size_t epoch;            /* 1-based epoch */
    size_t epochs;           /* total epochs of the run */
    size_t step;             /* 1-based optimiser step since the start of the run */
    size_t steps_per_epoch;
    double loss;             /* STEP: this batch's loss (before its update) */
    double train_loss;       /* EPOCH: mean per-sample training loss of the epoch */
    double test_loss;        /* EPOCH: test MSE after the epoch */
    double baseline_train;   /* EPOCH: MSE of always predicting 1, training set */
    double baseline_test;    /* EPOCH: the same on the test set */
    /* EPOCH, with probe_samples > 0: grad_by_step [grad_steps] = the mean over probe_count test
     * sequences of length grad_steps of ||dL/dh_t||_2, t = 0..grad_steps-1 (nn_rnn_probe.h);
     * valid during the callback. NULL and 0 without a probe. */
    const double *grad_by_step;
    size_t grad_steps;
    size_t probe_count;
} nn_rnn_train_event;

/* Called synchronously from nn_rnn_train_run after every step and every epoch (a cheap call: keep it
 * cheap too, e.g. only format a line every N steps). Return nonzero to cancel: nn_rnn_train_run then
 * returns NN_CANCELLED at once, before the next step. */
typedef int (*nn_rnn_train_progress_fn)(void *ctx, const nn_rnn_train_event *ev);

typedef struct nn_rnn_train_result {
    nn_rnn_kind model;
    size_t input;            /* 2 */
    size_t hidden;
    size_t epochs;           /* epochs completed */
    size_t steps;            /* optimiser steps taken */
    size_t train_count, test_count;
    double *train_loss;      /* [epochs] */
    double *test_loss;       /* [epochs] */
    double baseline_train;   /* MSE of always predicting 1 on the training set */
    double baseline_test;    /* ... on the test set */
    double test_accuracy;    /* fraction of test samples with |pred - y| < 0.04, in [0, 1] */
    /* The first pred_count = min(NN_RNN_TRAIN_PREDICTIONS, test_count) test samples: target and the
     * trained net's prediction; the first example_count = min(NN_RNN_TRAIN_EXAMPLES, test_count) of
     * them also as sequences, back to back: example_x [sum(example_len), 2] of (value, marker). */
    size_t pred_count;
    double *pred_y, *pred;   /* [pred_count] */
    size_t example_count;
    size_t example_len[NN_RNN_TRAIN_EXAMPLES];
    double *example_x;
    /* Trained weights by PyTorch name: weights[p] has numel[p] values, shape[p][0..ndim[p]). */
    const char *names[NN_RNN_NPARAMS];
    double *weights[NN_RNN_NPARAMS];
    size_t shape[NN_RNN_NPARAMS][2];
    size_t ndim[NN_RNN_NPARAMS];
    size_t numel[NN_RNN_NPARAMS];
    void *block;             /* the single allocation behind every pointer above */
} nn_rnn_train_result;

/* Validate cfg, then train to the end. progress may be NULL. Cancellable (nn_cancel.h): the
 * thread's cancel flag is looked at inside every forward and backward pass through time,
 * after every sample and during the test-set evaluation (NN_CANCELLED, field "cancelled").
 * On NN_OK *out is filled (free with nn_rnn_train_result_free). On any other code (NN_INVALID,
 * NN_TOO_LARGE, NN_NOMEM, NN_CANCELLED) *out holds nothing (nn_rnn_train_result_free on it is
 * still safe). A loss that stops being finite
 * (only possible with extreme given data) ends the run with NN_INVALID, field "learning_rate". */
nn_code nn_rnn_train_run(const nn_rnn_train_config *cfg, nn_rnn_train_progress_fn progress, void *ctx,
                     nn_rnn_train_result *out, nn_error *err);

void nn_rnn_train_result_free(nn_rnn_train_result *res);

/* What nn_rnn_train_run(cfg) will cost, for admission before it starts (cfg valid):
 * the estimated wall time in seconds with one core of the reference machine to itself (a cost
 * model per time step, optimiser step and data-set step, calibrated there; see nn_train.c),
 * and the bytes it allocates at most (both data sets, the model with its Adam moments and the
 * activations kept for backprop through the longest sequence, the results; SIZE_MAX when that
 * overflows). */
double nn_rnn_train_estimate_seconds(const nn_rnn_train_config *cfg);
size_t nn_rnn_train_memory_bytes(const nn_rnn_train_config *cfg);

/* What nn_rnn_train_run(cfg) starts from — it calls this: cfg validated (as
 * nn_rnn_train_validate), the training and test sets (generated from the seed or copied from
 * cfg), and the model (max_len = the longest sequence of both) holding the initial weights
 * (drawn from the seed, then cfg->init where given). So a client can hand exactly the run's
 * data and initial weights to another implementation (the daemon's PyTorch export). On NN_OK
 * free the three with nn_seqset_free / nn_rnn_model_free; on an error they hold nothing. */
nn_code nn_rnn_train_begin(const nn_rnn_train_config *cfg, nn_seqset *train, nn_seqset *test,
                           nn_rnn_model *m, nn_error *err);

#endif
