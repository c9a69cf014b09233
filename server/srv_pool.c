/* srv_pool.c — POST /pool: windowed or global max / average pooling. Its work (nn_pool_work:
 * the operations of the kernel that will run, weighted by their time, in convolution flops) is
 * within max_work_flops or the request gets 413 before any of it is done. */
#include <string.h>

#include "nn_pool.h"
#include "srv_endpoints.h"
#include "srv_grad.h"
#include "srv_image.h"
#include "srv_json.h"
#include "srv_ops.h"
#include "srv_tensor.h"

/* "function", "size" (or "global") and "stride" (default: the size) into op. */
static int parse_window(const cJSON *req, srv_pool_op *op, srv_err *e) {
    const char *fname;
    nn_pool_params *p = &op->p;
    nn_error ne;
    nn_error_clear(&ne);
    if (srv_json_string_opt(req, "function", "", "max", &fname, e)) return -1;
    if (nn_pool_parse(fname, &p->kind, &ne) != NN_OK)
        return srv_fail(e, 400, "function", "unknown pooling function '%.40s' (max, average)", fname);
    long long size[2] = {2, 2}, stride[2];
    const cJSON *sz = srv_json_get(req, "size");
    if (cJSON_IsString(sz)) {
        if (strcmp(sz->valuestring, "global") != 0)
            return srv_fail(e, 400, "size", "size must be an integer, [h, w] or \"global\"");
        op->global = 1;
        if (srv_json_get(req, "stride")) return srv_fail(e, 400, "stride", "global pooling takes no stride");
    } else if (srv_json_pair_opt(req, "size", "", 1, 1 << 20, 2, size, e)) {
        return -1;
    }
    if (!op->global && srv_json_pair_opt(req, "stride", "", 1, 1 << 20, 0, stride, e)) return -1;
    if (!op->global && !srv_json_get(req, "stride")) {
        stride[0] = size[0];
        stride[1] = size[1];
    }
    p->size_h = (size_t)size[0];
    p->size_w = (size_t)size[1];
    p->stride_h = op->global ? 1 : (size_t)stride[0];
    p->stride_w = op->global ? 1 : (size_t)stride[1];
    return 0;
}

int srv_pool_parse(const srv_limits *lim, const cJSON *req, const char *const *extra_keys,
                   srv_pool_op *op, srv_err *e) {
    static const char *const keys[] = {"input", "image", "grayscale", "resize", "function", "size",
                                       "stride", "render", NULL};
    memset(op, 0, sizeof *op);
    if (srv_json_only_keys_plus(req, "", keys, extra_keys, e)) return -1;
    if (parse_window(req, op, e)) return -1;
    if (srv_json_bool_opt(req, "render", "", 0, &op->render, e)) return -1;
    if (srv_request_input(req, lim, &op->x, e)) return -1;
    size_t H = op->x.shape[0], W = op->x.shape[1], C = op->x.shape[2];
    if (op->global) {
        op->out_shape[0] = C;
        op->out_ndim = 1;
        op->flops = nn_global_pool_work(H, W, C);
        return 0;
    }
    size_t OH, OW;
    nn_error ne;
    nn_error_clear(&ne);
    if (nn_pool_output_size(H, W, C, &op->p, &OH, &OW, &ne) != NN_OK) {
        srv_pool_op_free(op);
        return srv_fail_nn(e, &ne, NULL);
    }
    op->out_shape[0] = OH;
    op->out_shape[1] = OW;
    op->out_shape[2] = C;
    op->out_ndim = 3;
    op->flops = nn_pool_work(OH, OW, C, &op->p);
    return 0;
}

int srv_pool_run(const srv_pool_op *op, const nn_pool_params *p, float *y, srv_err *e) {
    size_t H = op->x.shape[0], W = op->x.shape[1], C = op->x.shape[2];
    nn_error ne;
    nn_error_clear(&ne);
    nn_code rc = op->global ? nn_global_pool_forward(y, op->x.data, H, W, C, p->kind, &ne)
                            : nn_pool2d_forward(y, op->x.data, H, W, C, p, &ne);
    return rc == NN_OK ? 0 : srv_fail_nn(e, &ne, NULL);
}

void srv_pool_op_free(srv_pool_op *op) { srv_tensor_free(&op->x); }

int srv_pool(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e) {
    double t0 = srv_now_ms();
    srv_pool_op op;
    if (srv_pool_parse(lim, req, SRV_GRAD_KEYS, &op, e)) return -1;
    srv_tensor y = {0};
    srv_pool_grad g;
    int rc = -1;
    size_t C = op.x.shape[2];
    if (srv_pool_grad_parse(lim, req, &op, &g, e)) goto done;
    if (op.flops > lim->max_work_flops) {
        srv_fail(e, 413, op.global ? "input" : "size", "this pooling needs %.3g flops; the limit is %.3g (its "
                 "operations counted by their time, as many convolution flops)", op.flops, lim->max_work_flops);
        goto done;
    }
    if (g.on && op.flops + g.work > lim->max_work_flops) {
        srv_fail(e, 413, "grad_output", "this pooling and its backward pass need %.3g flops; the limit is %.3g "
                 "(%.3g for the forward, %.3g for the backward)", op.flops + g.work, lim->max_work_flops, op.flops, g.work);
        goto done;
    }
    if (srv_tensor_alloc(&y, op.out_shape, op.out_ndim, lim->max_tensor_elems, "output", e)) goto done;
    if (srv_pool_grad_alloc(lim, &op, &g, e)) goto done;
    if (srv_pool_run(&op, &op.p, y.data, e)) goto done;
    if (srv_check_finite(y.data, y.n, "input", e)) goto done;
    if (srv_pool_grad_run(&op, &g, e)) goto done;
    srv_buf_puts(out, "{\"output\":");
    srv_buf_tensor(out, y.data, y.shape, y.ndim);
    srv_buf_puts(out, ",\"input_shape\":");
    srv_buf_sizes(out, op.x.shape, 3);
    srv_buf_puts(out, ",\"function\":");
    srv_buf_str(out, nn_pool_name(op.p.kind));
    srv_pool_grad_write(out, &g);
    if (op.render && !op.global && srv_put_maps(out, y.data, y.shape[0], y.shape[1], C, e)) goto done;
    srv_put_elapsed_end(out, t0);
    rc = 0;
done:
    srv_pool_grad_free(&g);
    srv_pool_op_free(&op);
    srv_tensor_free(&y);
    return rc;
}
