/* srv_grad_conv.c — /conv's "grad_output": the convolution layer's backward (batch 1 of the
 * core's batched backward, nn_conv_batch.h); see srv_grad.h. */
#include <string.h>

#include "nn_conv_batch.h"
#include "srv_endpoints.h"
#include "srv_grad.h"
#include "srv_json.h"

int srv_grad_parse_output(const srv_limits *lim, const cJSON *v, const size_t *shape,
                          size_t ndim, srv_tensor *dy, srv_err *e) {
    if (srv_tensor_parse(v, "grad_output", lim->max_tensor_elems, dy, e)) return -1;
    if (dy->ndim == ndim && memcmp(dy->shape, shape, ndim * sizeof *shape) == 0) return 0;
    char got[64], want[64];
    srv_shape_str(got, sizeof got, dy->shape, dy->ndim);
    srv_shape_str(want, sizeof want, shape, ndim);
    srv_tensor_free(dy);
    return srv_fail(e, 400, "grad_output", "grad_output must have the output's shape %s (got %s)", want, got);
}

/* A leaky ReLU with a negative slope maps z < 0 to positive values: y no longer tells the two
 * sides apart, so the backward needs z itself. */
static int needs_preactivation(const nn_conv_params *p) {
    return p->act.kind == NN_ACT_LEAKY_RELU && p->act.negative_slope < 0.0f;
}

int srv_conv_grad_parse(const srv_limits *lim, const cJSON *req, const srv_conv_op *op,
                        srv_conv_grad *g, srv_err *e) {
    memset(g, 0, sizeof *g);
    const cJSON *v = srv_json_get(req, "grad_output");
    if (!v) return 0;
    size_t H = op->x.shape[0], W = op->x.shape[1], C = op->x.shape[2];
    size_t N = op->k.shape[0], KH = op->k.shape[1], KW = op->k.shape[2];
    size_t shape[3] = {op->OH, op->OW, N};
    if (srv_grad_parse_output(lim, v, shape, 3, &g->dy, e)) return -1;
    g->on = 1;
    nn_error ne;
    nn_error_clear(&ne);
    if (nn_conv_batch_workspace_size(1, H, W, C, N, KH, KW, &op->p, &g->ws_bytes, &ne) != NN_OK) {
        srv_conv_grad_free(g);
        return srv_fail_nn(e, &ne, NULL);
    }
    /* dX and dK cost a forward each; the scratch is filled, dZ written once. */
    double outs = (double)g->dy.n;
    g->work = 2.0 * op->flops + (double)g->ws_bytes / sizeof(float) + outs;
    if (needs_preactivation(&op->p)) g->work += op->flops + 2.0 * outs;
    return 0;
}

int srv_conv_grad_alloc(const srv_limits *lim, const srv_conv_op *op, srv_conv_grad *g, srv_err *e) {
    if (!g->on) return 0;
    size_t N = op->k.shape[0];
    if (srv_tensor_alloc(&g->dx, op->x.shape, 3, lim->max_tensor_elems, "grad_input", e)) return -1;
    if (srv_tensor_alloc(&g->dk, op->k.shape, 4, lim->max_tensor_elems, "grad_kernels", e)) return -1;
    if (srv_tensor_alloc(&g->db, &N, 1, lim->max_tensor_elems, "grad_bias", e)) return -1;
    if (!needs_preactivation(&op->p)) return 0;
    if (srv_tensor_alloc(&g->z, g->dy.shape, 3, lim->max_tensor_elems, "grad_output", e)) return -1;
    return srv_tensor_alloc(&g->dz, g->dy.shape, 3, lim->max_tensor_elems, "grad_output", e);
}

/* g->dz = dy * act'(z) with z recomputed (the convolution without its activation, whose
 * parameters p_out gets for the backward from dz). */
static int preactivation_grad(const srv_conv_op *op, srv_conv_grad *g, nn_conv_params *p_out,
                              nn_workspace *ws, srv_err *e) {
    size_t H = op->x.shape[0], W = op->x.shape[1], C = op->x.shape[2];
    size_t N = op->k.shape[0], KH = op->k.shape[1], KW = op->k.shape[2];
    *p_out = op->p;
    p_out->act.kind = NN_ACT_IDENTITY;
    nn_error ne;
    nn_error_clear(&ne);
    if (nn_conv2d_forward(g->z.data, op->x.data, op->k.data, op->bias, H, W, C, N, KH, KW, p_out, ws, &ne) != NN_OK)
        return srv_fail_nn(e, &ne, NULL);
    nn_act_backward(g->dz.data, g->dy.data, g->z.data, g->z.n, op->p.act);
    return 0;
}

int srv_conv_grad_run(const srv_conv_op *op, const float *y, srv_conv_grad *g, nn_workspace *ws,
                      srv_err *e) {
    if (!g->on) return 0;
    size_t H = op->x.shape[0], W = op->x.shape[1], C = op->x.shape[2];
    size_t N = op->k.shape[0], KH = op->k.shape[1], KW = op->k.shape[2];
    nn_conv_params p = op->p;
    const float *dy = g->dy.data;
    if (needs_preactivation(&op->p)) {
        if (preactivation_grad(op, g, &p, ws, e)) return -1;
        dy = g->dz.data;
        y = NULL;
    }
    nn_error ne;
    nn_error_clear(&ne);
    if (nn_conv_batch_backward(g->dx.data, g->dk.data, g->db.data, dy, y, op->x.data, op->k.data, 1, H, W, C, N,
                               KH, KW, &p, ws, &ne) != NN_OK)
        return srv_fail_nn(e, &ne, NULL);
    if (srv_check_finite(g->dx.data, g->dx.n, "grad_output", e)) return -1;
    if (srv_check_finite(g->dk.data, g->dk.n, "grad_output", e)) return -1;
    return srv_check_finite(g->db.data, g->db.n, "grad_output", e);
}

void srv_conv_grad_write(srv_buf *out, const srv_conv_grad *g) {
    if (!g->on) return;
    srv_buf_puts(out, ",\"grad_input\":");
    srv_buf_tensor(out, g->dx.data, g->dx.shape, 3);
    srv_buf_puts(out, ",\"grad_kernels\":");
    srv_buf_tensor(out, g->dk.data, g->dk.shape, 4);
    srv_buf_puts(out, ",\"grad_bias\":");
    srv_buf_floats(out, g->db.data, g->db.n);
}

void srv_conv_grad_free(srv_conv_grad *g) {
    srv_tensor_free(&g->dy);
    srv_tensor_free(&g->dx);
    srv_tensor_free(&g->dk);
    srv_tensor_free(&g->db);
    srv_tensor_free(&g->z);
    srv_tensor_free(&g->dz);
    g->on = 0;
}
