/* nn_mlp.h — fully connected layers and the multi-layer perceptron.
 *
 * A linear layer is y = x·W + b with W [in, out] (the API's layout; torch's Linear weight is its
 * transpose). An MLP is L = hidden_layers + 1 linear layers:
 *   h_0 = x [input_size],  h_{l+1} = act(h_l·W_l + b_l) for hidden layers,
 *   logits = h_{L-1}·W_{L-1} + b_{L-1} (no activation),  probs = softmax(logits).
 *
 * Memory (llm.c style): a model's parameters are ONE float block, W_0, b_0, W_1, b_1, ... in
 * that order, and its activations are a second block; the nn_mlp struct only points into them.
 * nn_mlp_create makes one allocation holding both; nn_mlp_bind points a model at memory the
 * caller owns (that is how nn_cnn keeps one allocation per model). Nothing allocates in
 * nn_mlp_forward. A model is not safe to run from two threads at once (it holds activations). */
#ifndef NN_MLP_H
#define NN_MLP_H

#include <stddef.h>
#include <stdint.h>

#include "nn_act.h"
#include "nn_init.h"
#include "nn_status.h"

#define NN_MLP_MAX_HIDDEN 32                    /* hidden layers at most */
#define NN_MLP_MAX_LAYERS (NN_MLP_MAX_HIDDEN + 1) /* linear layers at most */
#define NN_MLP_MAX_WIDTH ((size_t)1 << 24)      /* any layer's size at most (16M) */

/* ---- plain ops -------------------------------------------------------------------------- */

/* y [out] = x [in] · W [in, out] + b [out] (b may be NULL). */
void nn_linear_forward(float *y, const float *x, const float *W, const float *b, size_t in,
                       size_t out);

/* Backward of nn_linear_forward given dy [out]; every gradient is ADDED into:
 * dx [in] (may be NULL), dW [in, out] (may be NULL), db [out] (may be NULL). */
void nn_linear_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                        const float *W, size_t in, size_t out);

/* ---- the model -------------------------------------------------------------------------- */

typedef struct nn_mlp_config {
    size_t input_size;                      /* >= 1 */
    size_t hidden_layers;                   /* 0 .. NN_MLP_MAX_HIDDEN */
    size_t hidden_sizes[NN_MLP_MAX_HIDDEN]; /* [hidden_layers], each >= 1 */
    size_t output_size;                     /* >= 1 */
    nn_activation act;                      /* after every hidden layer (not the output) */
} nn_mlp_config;

/* Fill cfg with one hidden size for every hidden layer (the API's "hidden_size": int).
 * hidden_layers above NN_MLP_MAX_HIDDEN is stored as given so nn_mlp_validate reports it. */
void nn_mlp_config_uniform(nn_mlp_config *cfg, size_t input_size, size_t hidden_layers,
                           size_t hidden_size, size_t output_size, nn_activation act);

/* Check the config. Errors (field): input_size 0 ("input"), hidden_layers too many
 * ("hidden_layers"), a hidden size 0 or above NN_MLP_MAX_WIDTH ("hidden_size"), output_size 0
 * or too big ("output_size"), input too big ("input"), parameter count overflow (NN_TOO_LARGE). */
nn_code nn_mlp_validate(const nn_mlp_config *cfg, nn_error *err);

/* Floats needed: n_params for the parameter block, n_acts for the activation block. Validates. */
nn_code nn_mlp_sizes(const nn_mlp_config *cfg, size_t *n_params, size_t *n_acts, nn_error *err);

/* Multiply-adds x2 of one forward pass (for work budgets). cfg must be valid. */
double nn_mlp_flops(const nn_mlp_config *cfg);

typedef struct nn_mlp {
    nn_mlp_config cfg;
    size_t num_layers;                    /* L = hidden_layers + 1 */
    size_t in_size[NN_MLP_MAX_LAYERS];    /* layer l input size */
    size_t out_size[NN_MLP_MAX_LAYERS];   /* layer l output size */
    float *params;                        /* [num_params]: W_0, b_0, W_1, b_1, ... */
    size_t num_params;
    float *weight[NN_MLP_MAX_LAYERS];     /* W_l [in_size[l], out_size[l]], inside params */
    float *bias[NN_MLP_MAX_LAYERS];       /* b_l [out_size[l]], inside params */
    float *acts;                          /* [num_acts]: the activation block */
    size_t num_acts;
    float *pre[NN_MLP_MAX_LAYERS];        /* layer l before its activation [out_size[l]] */
    float *out[NN_MLP_MAX_LAYERS];        /* layer l output [out_size[l]] (== pre for the last) */
    float *logits;                        /* [output_size] == out[L-1], after nn_mlp_forward */
    float *probs;                         /* [output_size] softmax(logits), after nn_mlp_forward */
    void *memory;                         /* the allocation nn_mlp_create made (NULL if bound) */
} nn_mlp;

/* Allocate (one block: params then activations) and lay out a model. Parameters are zero until
 * set with nn_mlp_init_params / nn_mlp_set_layer. On failure *m is left freeable (all NULL).
 * Errors: those of nn_mlp_validate, NN_NOMEM. Release with nn_mlp_free. */
nn_code nn_mlp_create(nn_mlp *m, const nn_mlp_config *cfg, nn_error *err);

/* Lay out a model over caller-owned memory: params [n_params], acts [n_acts] from nn_mlp_sizes
 * (contents untouched). The caller keeps ownership; nn_mlp_free on it does nothing. */
nn_code nn_mlp_bind(nn_mlp *m, const nn_mlp_config *cfg, float *params, float *acts,
                    nn_error *err);

/* Generate every parameter from seed, deterministically on every machine: one nn_rng seeded
 * with `seed` draws W_0, b_0, W_1, b_1, ... in order; weights with `kind` (fan_in = in,
 * fan_out = out), biases U(-1/sqrt(in), 1/sqrt(in)) as torch.nn.Linear does.
 * The NumPy kinds instead draw as the assignment's notebook does: np.random.seed(seed), then
 * rand/randn(in, hidden), (hidden, hidden) ..., (hidden, out) — W_0, W_1, ... in order, [in, out]
 * each, biases zero (nn_mlp_init_params_numpy). Seeds beyond 2^32 - 1: NN_INVALID ("seed"). */
nn_code nn_mlp_init_params(nn_mlp *m, uint64_t seed, nn_init_kind kind, nn_error *err);
/* The same drawing from a caller's rng (nn_cnn uses it to continue one stream). */
nn_code nn_mlp_init_params_rng(nn_mlp *m, nn_rng *rng, nn_init_kind kind, nn_error *err);
/* The NumPy kinds drawing from a caller's MT19937 stream (nn_cnn continues one across layers):
 * W_l = rand/randn(in_l, out_l) for l = 0, 1, ... in order, biases zero. NN_INVALID ("init") for a
 * kind that is not a NumPy one. */
nn_code nn_mlp_init_params_numpy(nn_mlp *m, nn_mt19937 *mt, nn_init_kind kind, nn_error *err);

/* Copy given parameters of layer l: W [w_len == in*out] in [in, out] layout, b [b_len == out]
 * (b may be NULL: zeros). Errors: l out of range ("weights"), wrong W length
 * ("weights[l].weight"), wrong b length ("weights[l].bias"); the message gives the expected
 * shape. */
nn_code nn_mlp_set_layer(nn_mlp *m, size_t l, const float *W, size_t w_len, const float *b,
                         size_t b_len, nn_error *err);

/* Forward x [input_size] -> m->logits and m->probs (and every m->pre / m->out). Never fails for
 * a created or bound model; returns NN_INVALID (field "input") if x or m is NULL. */
nn_code nn_mlp_forward(nn_mlp *m, const float *x, nn_error *err);

/* Backward of the logits (softmax is separate: see nn_softmax_backward). Given dlogits
 * [output_size] and the x of the last forward, ADDS into grads [num_params] (the same layout as
 * params) and, if dx is non-NULL, into dx [input_size]. scratch: 2 * max_l out_size[l] floats.
 * Errors: NULL arguments ("grads"/"scratch"). */
nn_code nn_mlp_backward(nn_mlp *m, float *grads, float *dx, const float *dlogits, const float *x,
                        float *scratch, nn_error *err);

/* Free what nn_mlp_create allocated; safe on a zeroed, failed or bound model. */
void nn_mlp_free(nn_mlp *m);

/* Static field names "weights[l].weight" / "weights[l].bias" / "hidden_size[l]" for l below
 * NN_MLP_MAX_LAYERS (a generic name beyond), for errors that name a layer. */
const char *nn_mlp_field(const char *what, size_t l);

#endif
