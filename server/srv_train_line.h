/* srv_train_line.h — how a training's output reaches its client: the NDJSON lines and the error
 * outcome, shared by the recurrent trainings (srv_train.c) and the CNN's (srv_train_cnn_run.c).
 *
 * A run builds each line in a srv_buf and hands it to the emit callback of srv_api.h; once the
 * callback refuses (client gone, server stopping) or the buffer ran out of memory, *stopped is
 * set and nothing more is emitted. */
#ifndef SRV_TRAIN_LINE_H
#define SRV_TRAIN_LINE_H

#include <stddef.h>

#include "srv_api.h"
#include "srv_buf.h"

/* Finish the line in `line` with '\n', emit it (unless stopped) and empty the buffer. */
void srv_train_send(srv_buf *line, srv_emit_fn emit, void *ctx, int *stopped);

/* The outcome as an error: streaming, a line {"type": "error", "status", "code", "message",
 * "field"?, "step"?} (code NULL: the status's); else the contract's error object as the whole
 * body. Nothing when already stopped. Returns status. */
int srv_train_error(srv_buf *line, srv_emit_fn emit, void *ctx, int stream, int *stopped, int status,
                    const char *code, const char *field, const char *msg, size_t step);

#endif
