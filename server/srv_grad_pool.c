/* srv_grad_pool.c — /pool's "grad_output": the pooling's backward (batch 1 of nn_pool_batch.h:
 * each gradient to its window's first maximum, or spread over the window or map for the
 * average); see srv_grad.h. */
#include <string.h>

#include "nn_pool_batch.h"
#include "srv_endpoints.h"
#include "srv_grad.h"
#include "srv_json.h"

int srv_pool_grad_parse(const srv_limits *lim, const cJSON *req, const srv_pool_op *op,
                        srv_pool_grad *g, srv_err *e) {
    memset(g, 0, sizeof *g);
    const cJSON *v = srv_json_get(req, "grad_output");
    if (!v) return 0;
    if (srv_grad_parse_output(lim, v, op->out_shape, op->out_ndim, &g->dy, e)) return -1;
    g->on = 1;
    /* The windows are scanned again (no argmax kept from the forward), by loops far slower than
     * the forward's kernels (a global pooling: the forward's work again); then grad_input
     * zeroed and each output's gradient added. */
    size_t C = op->x.shape[2];
    double scan = op->global ? op->flops
                             : nn_pool_batch_scan_work(op->out_shape[0], op->out_shape[1], C, &op->p);
    g->work = scan + (double)op->x.n + (double)g->dy.n;
    return 0;
}

int srv_pool_grad_alloc(const srv_limits *lim, const srv_pool_op *op, srv_pool_grad *g, srv_err *e) {
    return g->on ? srv_tensor_alloc(&g->dx, op->x.shape, 3, lim->max_tensor_elems, "grad_input", e) : 0;
}

int srv_pool_grad_run(const srv_pool_op *op, srv_pool_grad *g, srv_err *e) {
    if (!g->on) return 0;
    size_t H = op->x.shape[0], W = op->x.shape[1], C = op->x.shape[2];
    nn_error ne;
    nn_error_clear(&ne);
    nn_code rc = op->global
        ? nn_global_pool_batch_backward(g->dx.data, g->dy.data, NULL, op->x.data, 1, H, W, C, op->p.kind, &ne)
        : nn_pool_batch_backward(g->dx.data, g->dy.data, NULL, op->x.data, 1, H, W, C, &op->p, &ne);
    if (rc != NN_OK) return srv_fail_nn(e, &ne, NULL);
    return srv_check_finite(g->dx.data, g->dx.n, "grad_output", e);
}

void srv_pool_grad_write(srv_buf *out, const srv_pool_grad *g) {
    if (!g->on) return;
    srv_buf_puts(out, ",\"grad_input\":");
    srv_buf_tensor(out, g->dx.data, g->dx.shape, 3);
}

void srv_pool_grad_free(srv_pool_grad *g) {
    srv_tensor_free(&g->dy);
    srv_tensor_free(&g->dx);
    g->on = 0;
}
