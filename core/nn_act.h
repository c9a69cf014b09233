/* nn_act.h — element-wise activations: identity, sigmoid, tanh, ReLU, leaky ReLU.
 *
 * Semantics match torch.nn.functional: sigmoid is computed without overflow for large |x|
 * (1/(1+e^-x) for x >= 0, e^x/(1+e^x) otherwise); NaN in gives NaN out (ReLU included: no silent
 * clamping). */
#ifndef NN_ACT_H
#define NN_ACT_H

#include <stddef.h>

#include "nn_status.h"

typedef enum nn_act_kind {
    NN_ACT_IDENTITY = 0,
    NN_ACT_SIGMOID,
    NN_ACT_TANH,
    NN_ACT_RELU,
    NN_ACT_LEAKY_RELU,
} nn_act_kind;

typedef struct nn_activation {
    nn_act_kind kind;
    float negative_slope; /* leaky ReLU only; PyTorch's default is 0.01 */
} nn_activation;

/* y[i] = act(x[i]) for i < n; y == x (in place) is allowed. */
void nn_act_forward(float *y, const float *x, size_t n, nn_activation act);

/* act(x) for one value (the same results as nn_act_forward). */
float nn_act_scalar(float x, nn_activation act);

/* Backward: dx[i] += dy[i] * act'(x[i]), given the forward input x. */
void nn_act_backward(float *dx, const float *dy, const float *x, size_t n, nn_activation act);

/* Backward from the forward's OUTPUT y = act(x), as PyTorch's autograd computes it (so a
 * layer keeps only y): dx[i] += g with, in this float order,
 *   identity  g = dy                      sigmoid  g = (dy * (1 - y)) * y
 *   tanh      g = dy * (1 - y*y)          relu     g = y <= 0 ? 0 : dy   (NaN y passes dy)
 *   leaky     g = y > 0 ? dy : dy * slope
 * The leaky ReLU's x is only recoverable from y for slope >= 0 (callers check). */
void nn_act_backward_output(float *dx, const float *dy, const float *y, size_t n, nn_activation act);

/* The same gradient WRITTEN: dz[i] = g. dz == dy (in place) is allowed. */
void nn_act_grad_output(float *dz, const float *dy, const float *y, size_t n, nn_activation act);

/* Parse a name, case-insensitively, accepting the assignment's spellings: "identity", "linear",
 * "sigmoid", "tanh", "relu"/"ReLU", "leaky_relu"/"Leaky ReLU"/"leakyrelu". NN_INVALID (field
 * "activation") for anything else. The slope is left at 0.01. */
nn_code nn_act_parse(const char *name, nn_activation *out, nn_error *err);

/* Canonical lowercase name ("leaky_relu", ...). */
const char *nn_act_name(nn_act_kind kind);

#endif
