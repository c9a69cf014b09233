/* srv_rnn_params.h — the request parameters that every recurrent training shares
 * (POST /train/{rnn,lstm,gru} and POST /train/sweep). */
#ifndef SRV_RNN_PARAMS_H
#define SRV_RNN_PARAMS_H

#include <cJSON.h>

#include "nn_rnn_train.h"
#include "srv_err.h"

/* "learning_rate" and "clip" (finite, > 0), "seed" (an integer in [0, 2^53)) into c, and
 * "stream" (a boolean, default true) into *stream; absent members keep c's values. 0, or -1
 * with a 400 naming the member. */
int srv_rnn_params_optim(const cJSON *req, nn_rnn_train_config *c, int *stream, srv_err *e);

#endif
