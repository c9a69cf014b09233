/* srv_grad.h — "grad_output" on /conv, /pool and /mlp (and "target" on /mlp): the backward pass
 * of the request's layer, so a student can check a hand-written one (API.md "Gradients",
 * docs/backward.md).
 *
 * Each endpoint parses its op (srv_ops.h) with SRV_GRAD_KEYS / SRV_GRAD_MLP_KEYS as extra keys,
 * then, in this order:
 *   *_parse  reads the gradient (every tensor form srv_tensor_parse takes), checks it against
 *            the forward's output shape (400 naming "grad_output" / "target") and sets `work`,
 *            the backward's flops (scratch filling included); nothing else is allocated;
 *   the endpoint checks forward + backward work against max_work_flops (413) before any work;
 *   *_alloc  before the forward: allocates the gradients and the backward's buffers (counted
 *            in the memory budget: 413 / 503 naming the gradient);
 *   *_run    after the forward: computes them; a gradient that overflows float32 is a 400
 *            naming "grad_output" (or "target");
 *   *_write  appends them to the response (srv_buf_tensor: JSON or .npy as the request asked).
 * A request without the keys has g->on == 0 and every step is a no-op. *_free is safe on a
 * zeroed or failed g. */
#ifndef SRV_GRAD_H
#define SRV_GRAD_H

#include <cJSON.h>

#include "srv_api.h"
#include "srv_buf.h"
#include "srv_err.h"
#include "srv_ops.h"
#include "srv_tensor.h"

#define SRV_GRAD_KEYS ((const char *const[]){"grad_output", NULL})
#define SRV_GRAD_MLP_KEYS ((const char *const[]){"grad_output", "target", NULL})

/* ---- /conv: grad_input [H, W, C], grad_kernels [N, KH, KW, C], grad_bias [N] ---------------- */
typedef struct srv_conv_grad {
    int on;
    srv_tensor dy;   /* [OH, OW, N] the request's grad_output */
    srv_tensor dx;   /* [H, W, C] */
    srv_tensor dk;   /* [N, KH, KW, C] */
    srv_tensor db;   /* [N] */
    srv_tensor z, dz; /* [OH, OW, N] the pre-activation and its gradient (negative-slope leaky ReLU) */
    size_t ws_bytes; /* scratch of the batched backward (nn_conv_batch_workspace_size) */
    double work;     /* flops of the backward */
} srv_conv_grad;

int srv_conv_grad_parse(const srv_limits *lim, const cJSON *req, const srv_conv_op *op,
                        srv_conv_grad *g, srv_err *e);
/* y [OH, OW, N]: the forward's output (the activation's derivative is taken from it, as
 * PyTorch's autograd does; a leaky ReLU with a negative slope recomputes the pre-activation
 * instead, since y does not determine it). ws: the request's scratch, at least g->ws_bytes. */
int srv_conv_grad_alloc(const srv_limits *lim, const srv_conv_op *op, srv_conv_grad *g, srv_err *e);
int srv_conv_grad_run(const srv_conv_op *op, const float *y, srv_conv_grad *g, nn_workspace *ws,
                      srv_err *e);
void srv_conv_grad_write(srv_buf *out, const srv_conv_grad *g);
void srv_conv_grad_free(srv_conv_grad *g);

/* ---- /pool: grad_input [H, W, C] ------------------------------------------------------------ */
typedef struct srv_pool_grad {
    int on;
    srv_tensor dy;   /* op->out_shape: [OH, OW, C], or [C] for global pooling */
    srv_tensor dx;   /* [H, W, C] */
    double work;     /* the maximum found again per window element, and dx zeroed */
} srv_pool_grad;

int srv_pool_grad_parse(const srv_limits *lim, const cJSON *req, const srv_pool_op *op,
                        srv_pool_grad *g, srv_err *e);
int srv_pool_grad_alloc(const srv_limits *lim, const srv_pool_op *op, srv_pool_grad *g, srv_err *e);
int srv_pool_grad_run(const srv_pool_op *op, srv_pool_grad *g, srv_err *e);
void srv_pool_grad_write(srv_buf *out, const srv_pool_grad *g);
void srv_pool_grad_free(srv_pool_grad *g);

/* ---- /mlp: [loss], grad_input (the input's shape), grad_weights ---------------------------- */
typedef struct srv_mlp_grad {
    int on;
    int has_target;   /* "target": the loss is the softmax's cross-entropy */
    int target;       /* in [0, output_size) */
    double loss;      /* with a target, after run */
    srv_tensor dy;    /* [output_size]: grad_output, or with a target the loss's gradient */
    srv_tensor grads; /* [num_params] the layout of nn_mlp.params */
    srv_tensor dx;    /* the input's shape */
    srv_tensor scratch;
    double work;
} srv_mlp_grad;

int srv_mlp_grad_parse(const srv_limits *lim, const cJSON *req, const srv_mlp_op *op,
                       srv_mlp_grad *g, srv_err *e);
int srv_mlp_grad_alloc(const srv_limits *lim, const srv_mlp_op *op, srv_mlp_grad *g, srv_err *e);
/* After nn_mlp_forward of op->x (the backward reads the model's activations). */
int srv_mlp_grad_run(srv_mlp_op *op, srv_mlp_grad *g, srv_err *e);
void srv_mlp_grad_write(srv_buf *out, const srv_mlp_op *op, const srv_mlp_grad *g);
void srv_mlp_grad_free(srv_mlp_grad *g);

/* grad_output of `v` into dy: every tensor form; its shape must be `shape` (400 naming
 * "grad_output" with both shapes otherwise). Shared by the three endpoints. */
int srv_grad_parse_output(const srv_limits *lim, const cJSON *v, const size_t *shape,
                          size_t ndim, srv_tensor *dy, srv_err *e);

#endif
