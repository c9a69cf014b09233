/* srv_rnn_export.h — "export": "pytorch" on POST /train/{rnn,lstm,gru}: the run as a
 * self-contained PyTorch script, carried by the start event as "pytorch".
 *
 * The script is server/rnn_export.py (compiled in as srv_rnn_export_template, see mk/assets.mk)
 * with its line "# @nnlab-run@" replaced by the run: RUN = {model, hidden_size, epochs,
 * batch_size, learning_rate, clip, seed} and DATA = {name: {"shape", "dtype", "npy"}} — the
 * training and test sets (train_x [steps, 2], train_length, train_y, and test_*) and the initial
 * weights by PyTorch's names, exactly those nn_rnn_train_run starts from (nn_rnn_train_begin),
 * as float64 .npy files in base64. Both are Python literals as written. */
#ifndef SRV_RNN_EXPORT_H
#define SRV_RNN_EXPORT_H

#include <stddef.h>

#include "nn_rnn_train.h"
#include "srv_buf.h"
#include "srv_err.h"

extern const char srv_rnn_export_template[];

/* At most how many bytes the script for cfg takes (its data sets at their longest), before
 * anything is generated: the daemon refuses an export beyond its body limit. */
size_t srv_rnn_export_bound(const nn_rnn_train_config *cfg);

/* The script for cfg (valid) as a JSON string (quoted and escaped) appended to b. 0, or -1 with
 * e filled (503 out of memory; the core's error). */
int srv_rnn_export_put(srv_buf *b, const nn_rnn_train_config *cfg, srv_err *e);

#endif
