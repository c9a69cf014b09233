/* nn_cnn_train.h — training a CNN (nn_cnn_net.h) on a labelled image set and measuring it on a
 * test set: the experiment behind POST /train/cnn.
 *
 * What a run does, all of it deterministic from cfg->seed:
 *   - the training images are the first train_samples of cfg->train, the test images the first
 *     test_samples of cfg->test;
 *   - each epoch visits the training images in batches of batch_size (the last batch may be
 *     smaller): in order when shuffle is off, else in a fresh permutation per epoch (Fisher-
 *     Yates with an nn_rng seeded from seed, one stream for the whole run);
 *   - per batch one nn_cnn_net_train_step (forward, mean cross-entropy, backward, optimiser);
 *     after each epoch the learning rate is multiplied by lr_decay (when set);
 *   - after each epoch the test images are classified in batches: mean test loss, accuracy and
 *     the confusion matrix (rows = true class, columns = predicted);
 *   - train_loss / train_accuracy of an epoch are the means over its images of what each batch
 *     gave before its own update (what PyTorch's usual running loss shows).
 * The caller builds the net (its weights are the run's initial weights) and keeps it: after the
 * run it holds the trained weights. Nothing is allocated per step: one permutation and the
 * result's per-epoch arrays, at the start.
 *
 * Progress and cancellation: `progress` is called after every optimiser step (NN_CNN_STEP),
 * after every batch of the test evaluation (NN_CNN_EVAL) and after every epoch (NN_CNN_EPOCH);
 * returning nonzero stops the run at once with NN_CANCELLED. A step of the default net takes
 * milliseconds, so a stop takes effect within milliseconds. */
#ifndef NN_CNN_TRAIN_H
#define NN_CNN_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "nn_cnn_net.h"
#include "nn_imageset.h"
#include "nn_status.h"

#define NN_CNN_MAX_CLASSES 16   /* the confusion matrix's bound */
#define NN_CNN_EXAMPLES 16      /* test images whose predictions a result keeps */

typedef struct nn_cnn_train_config {
    const nn_imageset *train;   /* borrowed */
    const nn_imageset *test;    /* borrowed */
    size_t train_samples;       /* 1 .. train->count */
    size_t test_samples;        /* 1 .. test->count */
    size_t epochs;              /* >= 1 */
    size_t batch_size;          /* 1 .. net->batch */
    int shuffle;                /* 1: a seeded permutation per epoch */
    uint64_t seed;
    double lr_decay;            /* after every epoch the learning rate is multiplied by this
                                   (torch.optim.lr_scheduler.StepLR(step_size=1, gamma)); 0 or 1:
                                   constant */
} nn_cnn_train_config;

typedef enum nn_cnn_event_kind { NN_CNN_STEP = 0, NN_CNN_EVAL, NN_CNN_EPOCH } nn_cnn_event_kind;

typedef struct nn_cnn_event {
    nn_cnn_event_kind kind;
    size_t epoch, epochs;       /* 1-based */
    size_t step, steps_per_epoch; /* optimiser steps since the start (1-based) */
    size_t batch;               /* STEP: images in this batch; EVAL: images evaluated so far */
    double loss;                /* STEP: the batch's mean loss (before its update) */
    size_t correct;             /* STEP: images of the batch classified right */
    /* EPOCH: */
    double train_loss, train_accuracy, test_loss, test_accuracy;
    const size_t *confusion;    /* [classes * classes], row = true class */
    size_t classes;
    const nn_cnn_net *net;      /* the net now (read its weights; do not step it) */
} nn_cnn_event;

typedef int (*nn_cnn_progress_fn)(void *ctx, const nn_cnn_event *ev);

typedef struct nn_cnn_train_result {
    size_t epochs;              /* completed */
    size_t steps;
    size_t classes;
    double *train_loss, *train_accuracy, *test_loss, *test_accuracy; /* [epochs] each */
    size_t confusion[NN_CNN_MAX_CLASSES * NN_CNN_MAX_CLASSES]; /* of the last evaluation */
    /* The first min(NN_CNN_EXAMPLES, test_samples) test images: predicted class and its
     * probability, from the last evaluation. */
    size_t num_examples;
    uint8_t example_pred[NN_CNN_EXAMPLES];
    float example_prob[NN_CNN_EXAMPLES];
    void *block;                /* the allocation behind the arrays */
} nn_cnn_train_result;

/* Check cfg against the net: sizes in range, image shapes equal to the net's input, at most
 * NN_CNN_MAX_CLASSES classes, every label < the net's classes. Errors name the API's fields:
 * "train_samples", "test_samples", "epochs", "batch_size", "dataset", "test_dataset". */
nn_code nn_cnn_train_validate(const nn_cnn_net *net, const nn_cnn_train_config *cfg,
                              nn_error *err);

/* Validate, then train (see above). On NN_OK *res is filled (free with
 * nn_cnn_train_result_free); otherwise it holds nothing (freeing it is still safe). A loss that
 * is not finite ends the run with NN_INVALID, field "learning_rate". */
nn_code nn_cnn_train_run(nn_cnn_net *net, const nn_cnn_train_config *cfg,
                         nn_cnn_progress_fn progress, void *ctx, nn_cnn_train_result *res,
                         nn_error *err);

/* Classify the first n images of set in batches of up to net->batch: mean loss, accuracy and
 * confusion [classes * classes] (added into, may be NULL); pred[n] (may be NULL). progress (may
 * be NULL) gets an NN_CNN_EVAL event per batch and may stop it. */
nn_code nn_cnn_evaluate(nn_cnn_net *net, const nn_imageset *set, size_t n, double *loss,
                        double *accuracy, size_t *confusion, uint8_t *pred, float *prob,
                        nn_cnn_progress_fn progress, void *ctx, nn_error *err);

void nn_cnn_train_result_free(nn_cnn_train_result *res);

#endif
