/* srv_ops.h — the parsed operation of a /conv, /pool or /mlp request: what the endpoint and its
 * /check/{conv,pool,mlp} twin (srv_check.h) both need, so the request is read in one place.
 *
 * Each *_parse reads and validates the whole request (unknown keys are a 400 unless listed in
 * `extra_keys`, a NULL-terminated list or NULL), allocates the op's tensors (counted against
 * the memory budget) and computes the output's shape and the work of one forward pass; it does
 * NOT check the work against max_work_flops (the caller knows how many passes it will run).
 * On failure everything is freed; on success the caller frees with the matching *_free. */
#ifndef SRV_OPS_H
#define SRV_OPS_H

#include <cJSON.h>

#include "nn_conv.h"
#include "nn_mlp.h"
#include "nn_pool.h"
#include "srv_api.h"
#include "srv_err.h"
#include "srv_tensor.h"

/* POST /conv: y [OH, OW, N] = act(bias + x ⋆ k). */
typedef struct srv_conv_op {
    nn_conv_params p;
    srv_tensor x;        /* [H, W, C] the input volume */
    srv_tensor k;        /* [N, KH, KW, C] the kernels */
    float *bias;         /* [N] (malloc'd) */
    size_t OH, OW;
    double flops;        /* one forward pass (nn_conv_flops) */
    const char *kfield;  /* the request field the kernels came from: kernel, kernels, filters */
    int render;          /* "render": true */
    int from_image;      /* the input was an "image" (pixels v / 255), not an "input" tensor */
} srv_conv_op;

int srv_conv_parse(const srv_limits *lim, const cJSON *req, const char *const *extra_keys,
                   srv_conv_op *op, srv_err *e);
void srv_conv_op_free(srv_conv_op *op);

/* POST /pool: y [OH, OW, C] windowed, or [C] global. */
typedef struct srv_pool_op {
    nn_pool_params p;    /* stride 1 for global pooling */
    int global;
    int render;
    srv_tensor x;        /* [H, W, C] */
    size_t out_shape[3]; /* [OH, OW, C], or [C] for global pooling */
    size_t out_ndim;     /* 3, or 1 */
    double flops;        /* one pass: a comparison or addition per window element */
} srv_pool_op;

int srv_pool_parse(const srv_limits *lim, const cJSON *req, const char *const *extra_keys,
                   srv_pool_op *op, srv_err *e);
/* y [op->out_shape] written: the pooling of op->x with parameters p (op->p or a variant of it:
 * the window may differ from op's, so y must hold what nn_pool_output_size gives for p). */
int srv_pool_run(const srv_pool_op *op, const nn_pool_params *p, float *y, srv_err *e);
void srv_pool_op_free(srv_pool_op *op);

/* POST /mlp: the model (created, its parameters given or drawn) and the input vector. */
typedef struct srv_mlp_op {
    nn_mlp m;            /* m.cfg is the configuration */
    srv_tensor x;        /* [input_size] (flattened) */
    double flops;        /* one forward pass (nn_mlp_flops) */
    int return_weights;  /* "return_weights": true */
} srv_mlp_op;

int srv_mlp_parse(const srv_limits *lim, const cJSON *req, const char *const *extra_keys,
                  srv_mlp_op *op, srv_err *e);
void srv_mlp_op_free(srv_mlp_op *op);

#endif
