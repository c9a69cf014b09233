/* nn_cnn_net.h — a CNN that learns: the layer list of nn_cnn.h (conv, pool, global pool, MLP)
 * run on a batch of images, with its backward pass, softmax cross-entropy and an optimiser step.
 *
 * Layers and shapes are nn_cnn.h's (channels-last; an MLP flattens its input row-major, an MLP
 * with hidden_layers 0 is one linear layer), run on a batch [b, H, W, C] of b <= batch images.
 * The last layer must give K values per image (K >= 2 classes): the logits.
 *
 * Training step (nn_cnn_net_train_step), in PyTorch's float32 terms:
 *   logits = net(x);  loss = F.cross_entropy(logits, labels)  (the mean over the batch)
 *   optimizer.zero_grad(); loss.backward(); optimizer.step()
 * with the optimiser of nn_optim.h (torch.optim.Adam / torch.optim.SGD's float32 arithmetic)
 * and the same gradients as autograd: the ReLU's gradient at 0 is 0, max pooling sends a
 * window's gradient to its first maximum.
 *
 * Parameters: ONE block, layer by layer in nn_cnn.h's layout (a conv layer's kernels
 * [N, KH, KW, C] then bias [N]; an MLP's W_0 [in, out], b_0, W_1, b_1, ...), so /cnn's explicit
 * weights map onto it one to one. Given weights (the spec's kernels / bias / mlp_weight /
 * mlp_bias) are copied; every other weight is drawn from one nn_rng seeded with `seed`, layer by
 * layer, with the layer's init kind (conv: spec.init; MLP: spec.mlp_init; the API's training
 * default is NN_INIT_HE_NORMAL); biases not given are zero.
 *
 * Memory: ONE allocation per net holds the parameters, their gradients, the optimiser's state,
 * and for a full batch every activation the backward pass needs, two gradient buffers and the
 * softmax probabilities; the convolution scratch is reserved at creation. No call allocates
 * after nn_cnn_net_create. A net is not safe to use from two threads at once; the batch is
 * split over the cores inside the calls (nn_parallel.h). Results do not depend on the number of
 * threads. */
#ifndef NN_CNN_NET_H
#define NN_CNN_NET_H

#include <stddef.h>
#include <stdint.h>

#include "nn_cnn.h"
#include "nn_conv.h"
#include "nn_imageset.h"
#include "nn_optim.h"
#include "nn_status.h"

/* Steps of the forward pass at most (each linear layer of an MLP is one). */
#define NN_NET_MAX_OPS 64

/* One step of the forward pass: an MLP layer expands into its linear layers. */
typedef enum nn_op_type { NN_OP_CONV, NN_OP_POOL, NN_OP_GLOBAL_POOL, NN_OP_LINEAR } nn_op_type;

typedef struct nn_net_op {
    nn_op_type type;
    size_t layer;               /* the spec it belongs to */
    size_t in_shape[3], out_shape[3]; /* per image: conv/pool [H, W, C]; linear [in] / [out] */
    size_t in_len, out_len;     /* floats per image */
    /* conv: N, KH, KW, params; pool: params; global pool: kind; linear: act (identity last) */
    size_t filters, kh, kw;
    nn_conv_params conv;
    nn_pool_params pool;
    nn_activation act;
    float *w, *b;               /* conv kernels [N, KH, KW, C] / linear W [in, out]; bias */
    float *dw, *db;             /* their gradients, inside grads */
    float *out;                 /* [batch, out_len] this op's output */
    uint32_t *argmax;           /* max pooling: [batch, out_len] where each maximum came from */
} nn_net_op;

typedef struct nn_cnn_net {
    size_t num_layers;
    nn_layer_spec specs[NN_CNN_MAX_LAYERS]; /* copies (data pointers cleared) */
    size_t num_ops;
    nn_net_op ops[NN_NET_MAX_OPS];
    size_t in_h, in_w, in_c, in_len;  /* one image */
    size_t batch;                     /* the largest batch */
    size_t classes;                   /* K: values the last layer gives per image */
    nn_optim opt;                     /* its step counts the optimiser steps taken */

    float *params, *grads;            /* [num_params] each */
    float *opt_state;                 /* [nn_optim_state_floats] */
    size_t num_params;
    float *input;                     /* [batch, in_len]: callers write a batch here */
    float *logits;                    /* [batch, classes] == the last op's output */
    float *probs;                     /* [batch, classes] softmax, after nn_cnn_net_predict */
    int32_t *targets;                 /* [batch] the labels of the last loss */
    uint8_t *labels;                  /* [batch] the labels nn_cnn_net_load copied */
    uint8_t *pred;                    /* [batch] scratch for predictions */
    float *gbuf[2];                   /* gradient ping-pong, [batch * largest activation] */
    double flops_forward;             /* one image's forward pass (nn_cnn_info.flops) */
    double work_forward;              /* one image's forward and backward as training runs */
    double work_backward;             /*   them, in work-budget units (see train_work) */
    nn_workspace ws;                  /* convolution scratch, reserved at creation */
    void *memory;                     /* the one allocation */
    size_t bytes;                     /* its size */
} nn_cnn_net;

/* What a net would take, without building it: nn_cnn_validate's checks plus the batch and a
 * last layer of K >= 2 values. bytes = the allocation plus the convolution scratch;
 * work = {forward, backward} of one image in work-budget units (nn_pool.h; a convolution flop
 * is one): the backward twice the forward for convolutions and linear layers, pooling at the
 * batched kernels' counts (nn_pool_batch.h). Errors name the field as
 * nn_cnn_validate does; "architecture" when the last layer gives fewer than 2 values, "batch_size"
 * for a zero batch. */
nn_code nn_cnn_net_plan(const nn_layer_spec *specs, size_t n, size_t H, size_t W, size_t C,
                        size_t batch, const nn_optim *opt, size_t *bytes, double work[2],
                        size_t *classes, nn_error *err);

/* Build a net for images [H, W, C] and batches of up to `batch`, parameters given or drawn
 * from seed (see above), optimiser state zero (opt is copied; its step restarts at 0). Errors:
 * nn_cnn_net_plan's, nn_optim_validate's, NN_NOMEM. On failure *net is left freeable. */
nn_code nn_cnn_net_create(nn_cnn_net *net, const nn_layer_spec *specs, size_t n, size_t H,
                          size_t W, size_t C, size_t batch, const nn_optim *opt,
                          uint64_t seed, nn_error *err);

/* Forward net->input [b, in_len] through every layer (b <= batch): net->logits [b, classes]. */
nn_code nn_cnn_net_forward(nn_cnn_net *net, size_t b, nn_error *err);

/* Forward, then softmax into net->probs; pred[i] (may be NULL) = the argmax of image i's
 * logits (the first one on ties, as torch.argmax). */
nn_code nn_cnn_net_predict(nn_cnn_net *net, size_t b, uint8_t *pred, nn_error *err);

/* The softmax cross-entropy of the last forward's logits against labels [b] (each < classes):
 * fills net->probs, returns the mean loss in *loss (and per-image losses into losses[b] if
 * non-NULL) and the number of correct argmax predictions in *correct (may be NULL). */
nn_code nn_cnn_net_loss(nn_cnn_net *net, size_t b, const uint8_t *labels, double *loss,
                        float *losses, size_t *correct, nn_error *err);

/* One optimiser step on the batch in net->input: forward, loss, zero the gradients, backward,
 * update (net->opt.step += 1). *loss is the batch's mean loss before the update, *correct how
 * many of its images the net classified right before the update (either may be NULL). */
nn_code nn_cnn_net_train_step(nn_cnn_net *net, size_t b, const uint8_t *labels, double *loss,
                              size_t *correct, nn_error *err);

/* The backward pass alone, after a forward: net->grads = d(mean loss)/d(params) for these
 * labels (overwritten, not added). For tests (finite differences) and for callers that step
 * themselves. */
nn_code nn_cnn_net_backward(nn_cnn_net *net, size_t b, const uint8_t *labels, nn_error *err);

/* The optimiser step alone, from net->grads. */
nn_code nn_cnn_net_update(nn_cnn_net *net, nn_error *err);

/* specs[0..num_layers) as copies of the net's specs whose data pointers point at the net's
 * current parameters (conv kernels / bias, every MLP layer's weight and bias): what /cnn takes
 * as explicit weights, valid while the net lives and is not stepped. */
void nn_cnn_net_export(const nn_cnn_net *net, nn_layer_spec *specs);

/* Copy b images of set into net->input and their labels into net->labels: image idx[i] (idx
 * NULL: first + i) into row i. Bytes become pixel / 255 in float32 (as torch's
 * uint8_tensor / 255); floats are copied. The set's images must have the net's in_len values
 * (in_c == 1). */
void nn_cnn_net_load(nn_cnn_net *net, const nn_imageset *set, const size_t *idx, size_t first,
                     size_t b);

void nn_cnn_net_free(nn_cnn_net *net);

#endif
