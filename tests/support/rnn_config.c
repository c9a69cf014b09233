/* rnn_config.c — see rnn_config.h. */
#include "rnn_config.h"

nn_rnn_train_config rc_config(nn_rnn_kind model, size_t samples, size_t test_samples, size_t epochs) {
    nn_rnn_train_config c;
    nn_rnn_train_config_default(&c);
    c.model = model;
    c.samples = samples;
    c.test_samples = test_samples;
    c.epochs = epochs;
    return c;
}
