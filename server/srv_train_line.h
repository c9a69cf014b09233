/* srv_train_line.h — how a training's output reaches its client: the NDJSON lines and the error
 * outcome, shared by the recurrent trainings (srv_train.c), the CNN's (srv_train_cnn_run.c) and
 * the sweep (srv_sweep.c).
 *
 * A run builds each line in a srv_buf and hands it to the emit callback of srv_api.h; once the
 * callback refuses (client gone, server stopping) or the buffer ran out of memory, *stopped is
 * set and nothing more is emitted. */
#ifndef SRV_TRAIN_LINE_H
#define SRV_TRAIN_LINE_H

#include <stdatomic.h>
#include <stddef.h>

#include "nn_status.h"
#include "srv_api.h"
#include "srv_buf.h"

/* Finish the line in `line` with '\n', emit it (unless stopped) and empty the buffer. */
void srv_train_send(srv_buf *line, srv_emit_fn emit, void *ctx, int *stopped);

/* The outcome as an error: streaming, a line {"type": "error", "status", "code", "message",
 * "field"?, "step"?} (code NULL: the status's); else the contract's error object as the whole
 * body. Nothing when already stopped. Returns status. */
int srv_train_error(srv_buf *line, srv_emit_fn emit, void *ctx, int stream, int *stopped, int status,
                    const char *code, const char *field, const char *msg, size_t step);

/* The check at each progress event of a run: 1 once it is to stop (*stopped already set, or
 * cancel raised, which sets *stopped), 2 when its CPU time since cpu0 passed max_seconds
 * (srv_cpu_over, srv_clock.h), else 0. */
int srv_train_check(const atomic_int *cancel, int *stopped, double max_seconds, double cpu0, double *checked_ms);

/* The done object built in `line` to the client: streaming, as the last line; else, with its
 * newline, as the whole body (a 503 error instead when building it ran out of memory). Returns
 * the status: 200, or that 503. */
int srv_train_send_done(srv_buf *line, srv_emit_fn emit, void *ctx, int stream, int *stopped);

/* The HTTP status of a run that failed with rc (not NN_OK, not NN_CANCELLED). */
int srv_train_status(nn_code rc);

/* The 413 message of a run stopped at its CPU-time limit, into msg[n]: "the <what> passed the
 * limit of <max_seconds> s of computing (--max-train-seconds) <where> <k> of <of> (it was
 * estimated at <est_seconds> s) and was stopped" (where: "in epoch", "at point"). */
void srv_train_over_time_msg(char *msg, size_t n, const char *what, double max_seconds, const char *where,
                             size_t k, size_t of, double est_seconds);

#endif
