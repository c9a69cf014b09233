/* srv_sweep.h — POST /train/sweep: the adding problem's lesson in one streamed run.
 *
 * A sweep trains every model of "models" (default rnn, lstm, gru) at every sequence length of
 * "lengths" (default 10, 25, 50, 100, 200, those within max_length; each point a training with
 * min_length = max_length = T), one after another on the request's one training slot, with the /train/{rnn,lstm,gru}
 * parameters samples, test_samples, epochs, hidden_size, learning_rate, clip, batch_size and
 * seed (defaults: the assignment's; every point uses the same seed, so the same weights draw).
 * Points run by length, then model (rnn, lstm, gru), so a plot of final test loss against T
 * fills from the left.
 *
 * Stream (NDJSON, one line each): start {"models", "lengths", "points", the settings,
 * "estimated_seconds"}; progress {"model", "length", "point", "epoch", "epochs", "test_loss",
 * "elapsed_ms"} after every epoch of every point; point {"model", "length", "point", "points",
 * "train_loss", "test_loss", "baseline_loss", "test_accuracy", "test_losses" (per epoch),
 * "seconds", "elapsed_ms"} when a point is trained; done {"points": [every point as above without
 * its per-epoch list], "elapsed_ms"}; or error. With "stream": false the done object is the
 * whole answer. Admitted as a training is: each point's optimiser step and test-set evaluation
 * within max_work_flops, the whole sweep's estimated time within max_train_seconds (and its own
 * CPU time too: past it the sweep ends with a 413 error), the memory of its largest point claimed
 * in the budget for the sweep's lifetime; the cancel flag is bound to the kernels. */
#ifndef SRV_SWEEP_H
#define SRV_SWEEP_H

#include <cJSON.h>
#include <stdatomic.h>

#include "srv_api.h"
#include "srv_err.h"

#define SRV_SWEEP_MAX_LENGTHS 16

typedef struct srv_sweep srv_sweep;

/* Validate the request (its keys, the models, lengths and settings; the budget) and copy what
 * the sweep needs. NULL with e filled. *stream receives "stream" (default 1). */
srv_sweep *srv_sweep_prepare(const srv_limits *lim, const cJSON *req, int *stream, srv_err *e);

/* Run the sweep (see above; emit and cancel as srv_train_run). Returns the HTTP status. */
int srv_sweep_run(srv_sweep *s, srv_emit_fn emit, void *ctx, const atomic_int *cancel);

void srv_sweep_free(srv_sweep *s);

#endif
