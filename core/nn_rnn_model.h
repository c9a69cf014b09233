/* nn_rnn_model.h — a recurrent model for sequence regression: one recurrent layer (Elman RNN,
 * LSTM or GRU, PyTorch's equations) + a linear head on the last hidden state.
 *
 * Parameters are named and shaped exactly as PyTorch's (G = gates: Elman 1, LSTM 4, GRU 3):
 *   weight_ih [G*H, I]   weight_hh [G*H, H]   bias_ih [G*H]   bias_hh [G*H]
 *   fc.weight [1, H]     fc.bias [1]
 * Gate rows are stacked in PyTorch's order: LSTM i, f, g, o; GRU r, z, n.
 *
 * Storage: weight_ih and weight_hh are held TRANSPOSED inside the model, [I, G*H] and [H, G*H]
 * (the layout the fast kernels of nn_rnn_fast.h run on), and so are their gradients; the other
 * four are as PyTorch's. Use nn_rnn_model_set_param / nn_rnn_model_get_param to move a tensor
 * in or out in PyTorch's layout. Adam and clipping do not care: they are elementwise / norms.
 *
 * Memory: nn_rnn_model_init makes ONE allocation holding the parameters, their gradients, the
 * two Adam moments and the activation cache for backprop-through-time sized for max_len steps;
 * every tensor points into it. Nothing is allocated afterwards. All six parameter tensors are
 * contiguous in the order above, so `params`/`grads`/`adam_m`/`adam_v` can be treated as one
 * flat vector of `nparams` doubles. */
#ifndef NN_RNN_MODEL_H
#define NN_RNN_MODEL_H

#include <stddef.h>

#include "nn_rng.h"
#include "nn_status.h"

typedef enum nn_rnn_kind { NN_RNN_ELMAN = 0, NN_RNN_LSTM, NN_RNN_GRU } nn_rnn_kind;

/* Parameter indices, in storage order. */
enum {
    NN_RNN_W_IH = 0,
    NN_RNN_W_HH,
    NN_RNN_B_IH,
    NN_RNN_B_HH,
    NN_RNN_FC_W,
    NN_RNN_FC_B,
    NN_RNN_NPARAMS
};

/* "rnn" | "elman" -> Elman, "lstm", "gru" (case-insensitive). NN_INVALID, field "model". */
nn_code nn_rnn_kind_parse(const char *name, nn_rnn_kind *out, nn_error *err);
/* "rnn", "lstm", "gru". */
const char *nn_rnn_kind_name(nn_rnn_kind kind);
/* Gates G: 1, 4, 3. */
size_t nn_rnn_kind_gates(nn_rnn_kind kind);

/* PyTorch's name of parameter p: "weight_ih", "weight_hh", "bias_ih", "bias_hh", "fc.weight",
 * "fc.bias" (NULL for an out-of-range p). */
const char *nn_rnn_param_name(int p);
/* Shape of parameter p for a model with input size I and hidden size H: fills shape[0..ndim)
 * and returns the element count (0 if it overflows or p is out of range). */
size_t nn_rnn_param_shape(nn_rnn_kind kind, size_t I, size_t H, int p, size_t shape[2],
                          size_t *ndim);

typedef struct nn_rnn_model {
    nn_rnn_kind kind;
    size_t input;    /* I */
    size_t hidden;   /* H */
    size_t gates;    /* G */
    size_t max_len;  /* longest sequence the activation cache holds */
    size_t nparams;  /* total parameter count */
    double *params;  /* [nparams] all parameters, storage order above */
    double *grads;   /* [nparams] gradients (backward adds into them) */
    double *adam_m;  /* [nparams] Adam first moment */
    double *adam_v;  /* [nparams] Adam second moment */
    double *p[NN_RNN_NPARAMS];   /* views into params (W_IH, W_HH transposed, see above) */
    double *g[NN_RNN_NPARAMS];   /* views into grads (same layout as p) */
    size_t numel[NN_RNN_NPARAMS];
    /* activation cache of the last forward (for BPTT) */
    double *h;       /* [max_len, H] hidden states */
    double *c;       /* [max_len, H] LSTM cell states (unused otherwise) */
    double *gate;    /* [max_len, G*H] activated gates (LSTM i,f,g,o; GRU r,z,n) */
    double *aux;     /* [max_len, H] LSTM tanh(c_t); GRU W_hn h_{t-1} + b_hn */
    double *dh;      /* [max_len, H]; backward uses the first H: dL/dh_{T-1} from the head;
                        after nn_rnn_model_backward_dh, dh[t] = dL/dh_t for t < last_len */
    double *scratch; /* [16 * H] */
    size_t last_len; /* T of the last forward */
    void *block;     /* the single allocation */
} nn_rnn_model;

/* Allocate a model (parameters zeroed). NN_INVALID (fields "input", "hidden_size",
 * "max_length") for zero sizes, NN_TOO_LARGE if sizes overflow, NN_NOMEM. */
nn_code nn_rnn_model_init(nn_rnn_model *m, nn_rnn_kind kind, size_t input, size_t hidden,
                          size_t max_len, nn_error *err);
void nn_rnn_model_free(nn_rnn_model *m);

/* PyTorch's default init: every parameter U(-1/sqrt(H), 1/sqrt(H)), drawn from rng tensor by
 * tensor (weight_ih, weight_hh, bias_ih, bias_hh, fc.weight, fc.bias), each in PyTorch's
 * row-major order. */
void nn_rnn_model_init_uniform(nn_rnn_model *m, nn_rng *rng);

/* Copy parameter p in / out in PyTorch's layout (numel[p] values, row-major). */
void nn_rnn_model_set_param(nn_rnn_model *m, int p, const double *src);
void nn_rnn_model_get_param(const nn_rnn_model *m, int p, double *dst);

/* Zero the gradients. */
void nn_rnn_model_zero_grad(nn_rnn_model *m);

/* Forward one sequence x [T, I] from h0 = 0 (and c0 = 0) and return the prediction
 * fc.weight . h_{T-1} + fc.bias. Caches activations for nn_rnn_model_backward.
 * Requires 1 <= T <= max_len. */
double nn_rnn_model_forward(nn_rnn_model *m, const double *x, size_t T);

/* Backward of the last forward (same x [T, I]) given dloss/dprediction: ADDS into grads. */
void nn_rnn_model_backward(nn_rnn_model *m, const double *x, double dpred);

/* The same, and m->dh [T, H] keeps the gradient of the loss w.r.t. every hidden state:
 * m->dh[t] = dL/dh_t (the backprop through time computes it anyway; for the LSTM with c_t a
 * separate variable, as PyTorch's h_t.grad). */
void nn_rnn_model_backward_dh(nn_rnn_model *m, const double *x, double dpred);

#endif
