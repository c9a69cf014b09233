/* srv_rnn_params.c — the shared recurrent-training parameters; see srv_rnn_params.h. */
#include "srv_rnn_params.h"

#include "srv_json.h"

int srv_rnn_params_optim(const cJSON *req, nn_rnn_train_config *c, int *stream, srv_err *e) {
    if (srv_json_num_opt(req, "learning_rate", "", c->lr, &c->lr, e)) return -1;
    if (!(c->lr > 0)) return srv_fail(e, 400, "learning_rate", "learning_rate must be > 0");
    if (srv_json_num_opt(req, "clip", "", c->clip, &c->clip, e)) return -1;
    if (!(c->clip > 0)) return srv_fail(e, 400, "clip", "clip must be > 0");
    unsigned long long seed;
    if (srv_json_seed_opt(req, "seed", "", c->seed, &seed, e)) return -1;
    c->seed = seed;
    return srv_json_bool_opt(req, "stream", "", 1, stream, e);
}
