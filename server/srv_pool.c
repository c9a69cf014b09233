/* srv_pool.c — POST /pool: windowed or global max / average pooling. Its work (one operation
 * per window element of every output value) is within max_work_flops or the request gets 413
 * before any of it is done. */
#include <string.h>

#include "nn_pool.h"
#include "srv_endpoints.h"
#include "srv_image.h"
#include "srv_json.h"
#include "srv_render.h"
#include "srv_tensor.h"

static int check_work(double work, const srv_limits *lim, const char *field, srv_err *e) {
    if (work <= lim->max_work_flops) return 0;
    return srv_fail(e, 413, field, "this pooling needs %.3g flops; the limit is %.3g (one per window element of every "
                    "output value)", work, lim->max_work_flops);
}

int srv_pool(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e) {
    static const char *const keys[] = {"input", "image", "grayscale", "resize", "function", "size",
                                       "stride", "render", NULL};
    if (srv_json_only_keys(req, "", keys, e)) return -1;
    double t0 = srv_now_ms();
    const char *fname;
    nn_pool_params p;
    nn_error ne;
    nn_error_clear(&ne);
    if (srv_json_string_opt(req, "function", "", "max", &fname, e)) return -1;
    if (nn_pool_parse(fname, &p.kind, &ne) != NN_OK)
        return srv_fail(e, 400, "function", "unknown pooling function '%.40s' (max, average)", fname);
    int global = 0, render;
    long long size[2] = {2, 2}, stride[2];
    const cJSON *sz = srv_json_get(req, "size");
    if (cJSON_IsString(sz)) {
        if (strcmp(sz->valuestring, "global") != 0)
            return srv_fail(e, 400, "size", "size must be an integer, [h, w] or \"global\"");
        global = 1;
        if (srv_json_get(req, "stride")) return srv_fail(e, 400, "stride", "global pooling takes no stride");
    } else if (srv_json_pair_opt(req, "size", "", 1, 1 << 20, 2, size, e)) {
        return -1;
    }
    if (!global && srv_json_pair_opt(req, "stride", "", 1, 1 << 20, 0, stride, e)) return -1;
    if (!global && !srv_json_get(req, "stride")) {
        stride[0] = size[0];
        stride[1] = size[1];
    }
    if (srv_json_bool_opt(req, "render", "", 0, &render, e)) return -1;
    p.size_h = (size_t)size[0];
    p.size_w = (size_t)size[1];
    p.stride_h = global ? 1 : (size_t)stride[0];
    p.stride_w = global ? 1 : (size_t)stride[1];

    srv_tensor x = {0}, y = {0};
    int rc = -1;
    if (srv_request_input(req, lim, &x, e)) goto done;
    size_t H = x.shape[0], W = x.shape[1], C = x.shape[2];
    if (global) {
        if (check_work(nn_global_pool_work(H, W, C), lim, "input", e)) goto done;
        size_t shape[1] = {C};
        if (srv_tensor_alloc(&y, shape, 1, lim->max_tensor_elems, "output", e)) goto done;
        if (nn_global_pool_forward(y.data, x.data, H, W, C, p.kind, &ne) != NN_OK) { srv_fail_nn(e, &ne, NULL); goto done; }
    } else {
        size_t OH, OW;
        if (nn_pool_output_size(H, W, C, &p, &OH, &OW, &ne) != NN_OK) { srv_fail_nn(e, &ne, NULL); goto done; }
        if (check_work(nn_pool_work(OH, OW, C, &p), lim, "size", e)) goto done;
        size_t shape[3] = {OH, OW, C};
        if (srv_tensor_alloc(&y, shape, 3, lim->max_tensor_elems, "output", e)) goto done;
        if (nn_pool2d_forward(y.data, x.data, H, W, C, &p, &ne) != NN_OK) { srv_fail_nn(e, &ne, NULL); goto done; }
    }
    if (srv_check_finite(y.data, y.n, "input", e)) goto done;
    srv_buf_puts(out, "{\"output\":");
    srv_buf_tensor(out, y.data, y.shape, y.ndim);
    srv_buf_puts(out, ",\"input_shape\":");
    srv_buf_sizes(out, x.shape, 3);
    srv_buf_puts(out, ",\"function\":");
    srv_buf_str(out, nn_pool_name(p.kind));
    if (render && !global) {
        srv_buf_putc(out, ',');
        if (srv_render_maps(out, y.data, y.shape[0], y.shape[1], C)) { srv_fail(e, 503, NULL, "out of memory rendering maps"); goto done; }
    }
    srv_buf_puts(out, ",\"elapsed_ms\":");
    srv_buf_printf(out, "%.3f", srv_now_ms() - t0);
    srv_buf_putc(out, '}');
    rc = 0;
done:
    srv_tensor_free(&x);
    srv_tensor_free(&y);
    return rc;
}
