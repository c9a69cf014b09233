/* srv_grad_mlp.c — /mlp's "grad_output" (the gradient of the logits) or "target" (a class: the
 * softmax's cross-entropy, nn_loss.h): the MLP's backward (nn_mlp_backward); see srv_grad.h. */
#include <string.h>

#include "nn_loss.h"
#include "srv_endpoints.h"
#include "srv_grad.h"
#include "srv_json.h"

int srv_mlp_grad_parse(const srv_limits *lim, const cJSON *req, const srv_mlp_op *op,
                       srv_mlp_grad *g, srv_err *e) {
    memset(g, 0, sizeof *g);
    const cJSON *dy = srv_json_get(req, "grad_output"), *t = srv_json_get(req, "target");
    if (!dy && !t) return 0;
    if (dy && t) return srv_fail(e, 400, "target", "give \"grad_output\" or \"target\", not both");
    size_t K = op->m.cfg.output_size;
    if (dy) {
        if (srv_grad_parse_output(lim, dy, &K, 1, &g->dy, e)) return -1;
    } else {
        long long v;
        if (!cJSON_IsNumber(t))
            return srv_fail(e, 400, "target", "target must be a class index, an integer in [0, %zu)", K);
        if (srv_json_int(t, "target", 0, (long long)K - 1, &v, e)) return -1;
        g->has_target = 1;
        g->target = (int)v;
        if (srv_tensor_alloc(&g->dy, &K, 1, lim->max_tensor_elems, "target", e)) return -1;
    }
    g->on = 1;
    /* Every layer's dW and dx cost its forward again each; the gradients are zeroed first. */
    g->work = 2.0 * op->flops + (double)op->m.num_params + (double)op->x.n;
    return 0;
}

int srv_mlp_grad_alloc(const srv_limits *lim, const srv_mlp_op *op, srv_mlp_grad *g, srv_err *e) {
    if (!g->on) return 0;
    const nn_mlp *m = &op->m;
    size_t width = 0;
    for (size_t l = 0; l < m->num_layers; l++)
        if (m->out_size[l] > width) width = m->out_size[l];
    size_t np = m->num_params, ns = 2 * width;
    if (srv_tensor_alloc(&g->grads, &np, 1, lim->max_tensor_elems, "grad_weights", e)) return -1;
    if (srv_tensor_alloc(&g->dx, op->x.shape, op->x.ndim, lim->max_tensor_elems, "grad_input", e)) return -1;
    return srv_tensor_alloc(&g->scratch, &ns, 1, lim->max_tensor_elems, "grad_output", e);
}

int srv_mlp_grad_run(srv_mlp_op *op, srv_mlp_grad *g, srv_err *e) {
    if (!g->on) return 0;
    nn_mlp *m = &op->m;
    nn_error ne;
    nn_error_clear(&ne);
    if (g->has_target) {
        int32_t t = g->target;
        if (nn_softmax_ce(&g->loss, g->dy.data, NULL, m->logits, &t, 1, m->cfg.output_size, &ne) != NN_OK)
            return srv_fail_nn(e, &ne, NULL);
    }
    if (nn_mlp_backward(m, g->grads.data, g->dx.data, g->dy.data, op->x.data, g->scratch.data, &ne) != NN_OK)
        return srv_fail_nn(e, &ne, NULL);
    const char *field = g->has_target ? "target" : "grad_output";
    if (srv_check_finite(g->grads.data, g->grads.n, field, e)) return -1;
    return srv_check_finite(g->dx.data, g->dx.n, field, e);
}

void srv_mlp_grad_write(srv_buf *out, const srv_mlp_op *op, const srv_mlp_grad *g) {
    if (!g->on) return;
    const nn_mlp *m = &op->m;
    if (g->has_target) {
        srv_buf_puts(out, ",\"loss\":");
        srv_buf_double(out, g->loss);
    }
    srv_buf_puts(out, ",\"grad_input\":");
    srv_buf_tensor(out, g->dx.data, g->dx.shape, g->dx.ndim);
    srv_buf_puts(out, ",\"grad_weights\":[");
    for (size_t l = 0; l < m->num_layers; l++) {
        size_t sh[2] = {m->in_size[l], m->out_size[l]};
        if (l) srv_buf_putc(out, ',');
        srv_buf_puts(out, "{\"weight\":");
        srv_buf_tensor(out, g->grads.data + (m->weight[l] - m->params), sh, 2);
        srv_buf_puts(out, ",\"bias\":");
        srv_buf_floats(out, g->grads.data + (m->bias[l] - m->params), m->out_size[l]);
        srv_buf_putc(out, '}');
    }
    srv_buf_putc(out, ']');
}

void srv_mlp_grad_free(srv_mlp_grad *g) {
    srv_tensor_free(&g->dy);
    srv_tensor_free(&g->grads);
    srv_tensor_free(&g->dx);
    srv_tensor_free(&g->scratch);
    g->on = 0;
}
