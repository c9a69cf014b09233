/* rnn_config.h — the recurrent-training settings the tests start from: the library's defaults
 * (nn_rnn_train_config_default) with the model and the run's size chosen. */
#ifndef RNN_CONFIG_H
#define RNN_CONFIG_H

#include <stddef.h>

#include "nn_rnn_train.h"

/* The defaults, with `model`, `samples` training and `test_samples` test sequences, `epochs`. */
nn_rnn_train_config rc_config(nn_rnn_kind model, size_t samples, size_t test_samples, size_t epochs);

#endif
