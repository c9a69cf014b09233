/* srv_train_cnn.h — POST /train/cnn: a CNN trained on Fashion-MNIST (or an inline data set),
 * streamed as NDJSON. srv_train.c's srv_train_prepare / _run / _free hand a "cnn" job to these
 * functions, so the HTTP layer runs it like a recurrent training: same slots, same queue, same
 * cancellation.
 *
 * Parameters (400 naming the field when invalid, 413 beyond a server limit):
 *   "architecture" (the /cnn layer list for a 28x28x1 input, ending in 10 values; default
 *   srv_cnn_default_spec), or "init": the same list with every weight given (what a done
 *   event's "weights" holds; not together with "architecture"); "epochs" (SRV_CNN_EPOCHS), "batch_size"
 *   (32), "optimizer" ("adam" | "sgd"), "learning_rate" (0.001 for Adam, 0.01 for SGD),
 *   "momentum" (SGD only, 0.9), "lr_decay" (the learning rate's factor after each epoch,
 *   SRV_CNN_LR_DECAY), "train_samples" (all), "test_samples" (all), "shuffle" (true),
 *   "seed" (1), "report_every" (50 steps), "stream" (true), "output_format" ("json" | "npy":
 *   srv_train.c takes it out), "dataset" / "test_dataset" (inline
 *   lists [{"image": base64 PNG/JPEG or tensor [28, 28, 1], "label": 0..9}] replacing
 *   Fashion-MNIST's training / test images).
 * Admission: one step within max_work_flops; the run's estimated computing time within
 * max_train_seconds (413 naming "epochs"; a run whose own thread's CPU time passes the limit
 * anyway ends with an error); the memory (net, inline images, the done line) reserved in the
 * memory budget for the job's lifetime (503 + Retry-After when there is no room); Fashion-MNIST
 * is loaded on first use (srv_dataset.h; 503 naming the package when it is missing).
 * The events are described in docs/api.md. */
#ifndef SRV_TRAIN_CNN_H
#define SRV_TRAIN_CNN_H

#include <cJSON.h>
#include <stdatomic.h>

#include "nn_cnn.h"
#include "srv_api.h"
#include "srv_err.h"

typedef struct srv_cnn_job srv_cnn_job;

/* The default net of POST /train/cnn, specs[0..returned): conv 16 3x3 pad 1 ReLU -> max-pool 2
 * -> conv 32 3x3 pad 1 ReLU -> max-pool 2 -> MLP 1568 -> 128 ReLU -> 10 (206 922 parameters;
 * He-normal weights, zero biases). With the default settings (2 epochs, batch 32, Adam 0.001,
 * shuffled, seed 1) it reaches 90.5 % on the 10 000 test images (docs/training.md). */
#define SRV_CNN_DEFAULT_LAYERS 5
/* The default "epochs", and "lr_decay": the learning rate's factor after each epoch. */
#define SRV_CNN_EPOCHS 3
#define SRV_CNN_LR_DECAY 0.5
size_t srv_cnn_default_spec(nn_layer_spec specs[SRV_CNN_DEFAULT_LAYERS]);

/* Validate the request object and admit the run; npy: write tensors as .npy ("output_format",
 * already taken out of req). NULL with e filled on failure. */
srv_cnn_job *srv_cnn_job_prepare(const srv_limits *lim, const cJSON *req, int npy, srv_err *e);

int srv_cnn_job_streaming(const srv_cnn_job *j);

/* The run's estimated computing time in CPU-seconds (what --max-train-seconds bounds; both
 * cores make the wall time about half) and the bytes it reserved. */
double srv_cnn_job_estimate_seconds(const srv_cnn_job *j);
size_t srv_cnn_job_memory_bytes(const srv_cnn_job *j);

/* Train, emitting lines (see srv_train_run in srv_api.h). Returns the HTTP status. */
int srv_cnn_job_run(srv_cnn_job *j, srv_emit_fn emit, void *ctx, const atomic_int *cancel);

/* Free the job and give back its memory reservation. */
void srv_cnn_job_free(srv_cnn_job *j);

#endif
