/* srv_arch.h — a CNN's layer list ("architecture") in JSON, both ways: read by POST /cnn and
 * POST /train/cnn, written back with its weights by /train/cnn's done event (so that list is
 * exactly what /cnn accepts).
 *
 * A layer is {"type": "conv", "filters", "size", "stride", "padding", "activation",
 * "negative_slope", "init", "kernels" [N, KH, KW, C], "bias" (number or [N])},
 * {"type": "pool", "function", "size", "stride" (default = size)},
 * {"type": "global_pool", "function"}, or {"type": "mlp", "hidden_layers", "hidden_size"
 * (int or one per hidden layer), "activation", "negative_slope", "output_size", "init",
 * "weights": [{"weight": [in, out], "bias": [out]}, ...]}. Errors name the field as
 * "architecture[i].<key>" (or under the path given). */
#ifndef SRV_ARCH_H
#define SRV_ARCH_H

#include <cJSON.h>

#include "nn_cnn.h"
#include "srv_api.h"
#include "srv_buf.h"
#include "srv_err.h"
#include "srv_tensor.h"

/* The defaults where a layer leaves a key out: /cnn's (srv_arch_defaults_cnn) and
 * /train/cnn's (He-normal weights, ReLU hidden layers, 10 outputs). */
typedef struct srv_arch_defaults {
    nn_init_kind conv_init, mlp_init;
    nn_act_kind mlp_act;
    size_t mlp_output;
} srv_arch_defaults;

extern const srv_arch_defaults srv_arch_defaults_cnn;
extern const srv_arch_defaults srv_arch_defaults_train;

/* A parsed list: specs[0..n) point into tensors the struct owns. Big (~70 KB): allocate it. */
typedef struct srv_arch {
    size_t n;
    nn_layer_spec specs[NN_CNN_MAX_LAYERS];
    struct srv_arch_data {
        srv_tensor kernels, bias;
        srv_tensor w[NN_MLP_MAX_LAYERS], b[NN_MLP_MAX_LAYERS];
        size_t nw;
    } data[NN_CNN_MAX_LAYERS];
} srv_arch;

/* Parse the list v found at `path` ("architecture", "init") into a (zeroed first). On failure
 * everything parsed so far is freed. */
int srv_arch_parse(const cJSON *v, const char *path, const srv_limits *lim,
                   const srv_arch_defaults *def, srv_arch *a, srv_err *e);

/* 1 when every conv layer of a has its kernels and every MLP layer its weights. */
int srv_arch_has_weights(const srv_arch *a);

void srv_arch_free(srv_arch *a);

/* Write specs[0..n) (with their data pointers set: nn_cnn_net_export) as a JSON list of layers
 * with explicit weights, for an input [H, W, C]. Every key is written (nothing left to a
 * default), so the list reads back as the same net whatever the defaults. */
void srv_arch_write(srv_buf *out, const nn_layer_spec *specs, size_t n, size_t H, size_t W,
                    size_t C);

#endif
