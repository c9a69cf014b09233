/* srv_conv.c — POST /conv: one convolution (given kernel(s), a preset or generated filters). */
#include <stdlib.h>
#include <string.h>

#include "nn_conv.h"
#include "nn_filter_presets.h"
#include "nn_rng.h"
#include "srv_endpoints.h"
#include "srv_grad.h"
#include "srv_image.h"
#include "srv_json.h"
#include "srv_ops.h"
#include "srv_tensor.h"
#include "srv_workspace.h"

#define MAX_FILTERS 4096
#define MAX_KERNEL_SIDE 1024

/* Bias: a number for every map, or [N]. b must hold N floats. */
static int parse_bias(const cJSON *obj, const char *key, const char *base, size_t N, float *b,
                      size_t max_elems, srv_err *e) {
    const cJSON *v = srv_json_get(obj, key);
    char p[128];
    srv_path_key(p, sizeof p, base, key);
    for (size_t i = 0; i < N; i++) b[i] = 0.0f;
    if (!v) return 0;
    if (cJSON_IsNumber(v)) {
        double d;
        if (srv_json_num(v, p, &d, e)) return -1;
        for (size_t i = 0; i < N; i++) b[i] = (float)d;
        return 0;
    }
    srv_tensor t;
    if (srv_tensor_parse(v, p, max_elems, &t, e)) return -1;
    if (t.ndim != 1 || t.n != N) {
        srv_tensor_free(&t);
        return srv_fail(e, 400, p, "%s must be a number or a list of %zu numbers (one per output map)", p, N);
    }
    memcpy(b, t.data, N * sizeof *b);
    srv_tensor_free(&t);
    return 0;
}

/* "filters": {"count", "size", "init", "seed"} -> a generated bank [count, KH, KW, C]. The NumPy
 * inits draw as np.random.seed(seed) then one rand/randn(KH, KW, C) per filter, in order. */
static int generate_filters(const cJSON *req, const cJSON *filters, size_t C, const srv_limits *lim,
                            srv_tensor *k, srv_err *e) {
    if (!cJSON_IsObject(filters))
        return srv_fail(e, 400, "filters", "filters must be an object {\"count\", \"size\", \"init\", \"seed\"}");
    static const char *const keys[] = {"count", "size", "init", "seed", NULL};
    if (srv_json_only_keys(filters, "filters", keys, e)) return -1;
    long long count, size[2];
    unsigned long long seed, top_seed;
    nn_init_kind init;
    if (!srv_json_get(filters, "count")) return srv_fail(e, 400, "filters.count", "filters.count is missing");
    if (srv_json_int_opt(filters, "count", "filters", 1, MAX_FILTERS, 1, &count, e)) return -1;
    if (!srv_json_get(filters, "size")) return srv_fail(e, 400, "filters.size", "filters.size is missing");
    if (srv_json_pair_opt(filters, "size", "filters", 1, MAX_KERNEL_SIDE, 3, size, e)) return -1;
    if (srv_parse_init(filters, "filters", NN_INIT_HE, &init, e)) return -1;
    if (srv_json_seed_opt(req, "seed", "", 0, &top_seed, e)) return -1;
    if (srv_json_seed_opt(filters, "seed", "filters", top_seed, &seed, e)) return -1;
    if (nn_init_is_numpy(init) && seed > NN_MT19937_SEED_MAX) {
        const char *f = srv_json_get(filters, "seed") ? "filters.seed" : "seed";
        return srv_fail(e, 400, f, "%s: init %s needs a seed between 0 and 2**32 - 1 (NumPy's range); got %llu", f,
                        nn_init_name(init), seed);
    }
    size_t shape[4] = {(size_t)count, (size_t)size[0], (size_t)size[1], C};
    if (srv_tensor_alloc(k, shape, 4, lim->max_tensor_elems, "filters", e)) return -1;
    nn_error ne;
    nn_error_clear(&ne);
    nn_code rc;
    if (nn_init_is_numpy(init)) {
        nn_mt19937 mt;
        rc = nn_init_numpy_seed(&mt, seed, &ne);
        if (rc == NN_OK) rc = nn_init_fill_numpy(k->data, k->n, init, &mt, &ne);
    } else {
        nn_rng rng;
        nn_rng_seed(&rng, seed);
        size_t fan_in = shape[1] * shape[2] * C, fan_out = shape[0] * shape[1] * shape[2];
        rc = nn_init_fill(k->data, k->n, fan_in, fan_out, init, &rng, &ne);
    }
    if (rc != NN_OK) {
        srv_tensor_free(k);
        return srv_fail_nn(e, &ne, "filters");
    }
    return 0;
}

/* The kernel bank [N, KH, KW, C] from "kernel", "kernels" or "filters". */
static int parse_kernels(const cJSON *req, size_t C, const srv_limits *lim, srv_tensor *k,
                         const char **field, srv_err *e) {
    const cJSON *kernel = srv_json_get(req, "kernel"), *kernels = srv_json_get(req, "kernels"),
                *filters = srv_json_get(req, "filters");
    int given = !!kernel + !!kernels + !!filters;
    if (given == 0)
        return srv_fail(e, 400, "kernel", "give one of \"kernel\" (tensor [KH, KW, C] or a preset name), \"kernels\" ([N, KH, KW, C]) or \"filters\"");
    if (given > 1) {
        *field = kernels ? "kernels" : "filters";
        return srv_fail(e, 400, *field, "give only one of \"kernel\", \"kernels\" and \"filters\"");
    }
    /* "seed" only matters for generated filters, but a malformed one is still an error. */
    unsigned long long unused_seed;
    if (srv_json_seed_opt(req, "seed", "", 0, &unused_seed, e)) return -1;
    memset(k, 0, sizeof *k);
    if (kernel && cJSON_IsString(kernel)) {
        *field = "kernel";
        nn_filter_preset preset;
        nn_error ne;
        nn_error_clear(&ne);
        if (nn_filter_preset_parse(kernel->valuestring, &preset, &ne) != NN_OK) return srv_fail_nn(e, &ne, NULL);
        size_t shape[4] = {1, NN_FILTER_PRESET_SIZE, NN_FILTER_PRESET_SIZE, C};
        if (srv_tensor_alloc(k, shape, 4, lim->max_tensor_elems, "kernel", e)) return -1;
        if (nn_filter_preset_fill(k->data, preset, C, &ne) != NN_OK) {
            srv_tensor_free(k);
            return srv_fail_nn(e, &ne, NULL);
        }
        return 0;
    }
    if (kernel) {
        *field = "kernel";
        if (srv_tensor_parse(kernel, "kernel", lim->max_tensor_elems, k, e)) return -1;
        if (k->ndim == 2) {
            /* A 2-D kernel is replicated over the input channels, like a preset. */
            srv_tensor r;
            size_t shape[4] = {1, k->shape[0], k->shape[1], C};
            if (srv_tensor_alloc(&r, shape, 4, lim->max_tensor_elems, "kernel", e)) {
                srv_tensor_free(k);
                return -1;
            }
            for (size_t i = 0; i < k->n; i++)
                for (size_t c = 0; c < C; c++) r.data[i * C + c] = k->data[i];
            srv_tensor_free(k);
            *k = r;
            return 0;
        }
        if (k->ndim != 3) {
            srv_tensor_free(k);
            return srv_fail(e, 400, "kernel", "kernel must be [KH, KW, C] (or [KH, KW], or a preset name)");
        }
        memmove(k->shape + 1, k->shape, 3 * sizeof k->shape[0]);
        k->shape[0] = 1;
        k->ndim = 4;
    } else if (kernels) {
        *field = "kernels";
        if (srv_tensor_parse(kernels, "kernels", lim->max_tensor_elems, k, e)) return -1;
        if (k->ndim != 4) {
            srv_tensor_free(k);
            return srv_fail(e, 400, "kernels", "kernels must be [N, KH, KW, C]");
        }
    } else {
        *field = "filters";
        return generate_filters(req, filters, C, lim, k, e);
    }
    if (k->shape[3] != C) {
        size_t kc = k->shape[3];
        srv_tensor_free(k);
        return srv_fail(e, 400, *field, "%s has %zu channels but the input has %zu", *field, kc, C);
    }
    return 0;
}

int srv_conv_parse(const srv_limits *lim, const cJSON *req, const char *const *extra_keys,
                   srv_conv_op *op, srv_err *e) {
    static const char *const keys[] = {"image", "input", "grayscale", "resize", "kernel", "kernels",
                                       "filters", "seed", "bias", "stride", "padding", "activation",
                                       "negative_slope", "render", NULL};
    memset(op, 0, sizeof *op);
    op->kfield = "kernel";
    if (srv_json_only_keys_plus(req, "", keys, extra_keys, e)) return -1;
    long long stride[2], pad[2];
    nn_conv_params *p = &op->p;
    if (srv_json_pair_opt(req, "stride", "", 1, 1 << 20, 1, stride, e)) return -1;
    if (srv_json_pair_opt(req, "padding", "", 0, 1 << 20, 0, pad, e)) return -1;
    if (srv_parse_activation(req, "", NN_ACT_IDENTITY, &p->act, e)) return -1;
    if (srv_json_bool_opt(req, "render", "", 0, &op->render, e)) return -1;
    p->stride_h = (size_t)stride[0];
    p->stride_w = (size_t)stride[1];
    p->pad_h = (size_t)pad[0];
    p->pad_w = (size_t)pad[1];
    op->from_image = srv_json_get(req, "image") != NULL;

    if (srv_request_input(req, lim, &op->x, e)) goto fail;
    size_t H = op->x.shape[0], W = op->x.shape[1], C = op->x.shape[2];
    if (parse_kernels(req, C, lim, &op->k, &op->kfield, e)) goto fail;
    size_t N = op->k.shape[0], KH = op->k.shape[1], KW = op->k.shape[2];
    op->bias = malloc(N * sizeof *op->bias);
    if (!op->bias) { srv_fail(e, 503, NULL, "out of memory"); goto fail; }
    if (parse_bias(req, "bias", "", N, op->bias, lim->max_tensor_elems, e)) goto fail;

    nn_error ne;
    nn_error_clear(&ne);
    if (nn_conv_output_size(H, W, C, N, KH, KW, p, &op->OH, &op->OW, &ne) != NN_OK) {
        if (ne.field && strcmp(ne.field, "kernel") == 0) ne.field = op->kfield;
        srv_fail_nn(e, &ne, NULL);
        goto fail;
    }
    op->flops = nn_conv_flops(op->OH, op->OW, N, KH, KW, C);
    return 0;
fail:
    srv_conv_op_free(op);
    return -1;
}

void srv_conv_op_free(srv_conv_op *op) {
    free(op->bias);
    op->bias = NULL;
    srv_tensor_free(&op->x);
    srv_tensor_free(&op->k);
}

/* The forward's work (arithmetic and the scratch it fills) and the backward's, against the
 * request's work limit, before any of it is done. */
static int check_work(const srv_limits *lim, const srv_conv_op *op, size_t fwd_ws,
                      const srv_conv_grad *g, srv_err *e) {
    double fwd = op->flops + (double)fwd_ws / sizeof(float);
    if (fwd > lim->max_work_flops)
        return srv_fail(e, 413, op->kfield, "this convolution needs %.3g flops; the limit is %.3g (%.3g of arithmetic "
                        "and %.3g floats of scratch to fill)", fwd, lim->max_work_flops, op->flops,
                        (double)fwd_ws / sizeof(float));
    if (g->on && fwd + g->work > lim->max_work_flops)
        return srv_fail(e, 413, "grad_output", "this convolution and its backward pass need %.3g flops; the limit is "
                        "%.3g (%.3g for the forward, %.3g for the backward)", fwd + g->work, lim->max_work_flops,
                        fwd, g->work);
    return 0;
}

static void write_response(srv_buf *out, const srv_conv_op *op, const srv_tensor *y,
                           const srv_conv_grad *g) {
    srv_buf_puts(out, "{\"output\":");
    srv_buf_tensor(out, y->data, y->shape, 3);
    srv_buf_puts(out, ",\"kernels\":");
    srv_buf_tensor(out, op->k.data, op->k.shape, 4);
    srv_buf_puts(out, ",\"bias\":");
    srv_buf_floats(out, op->bias, op->k.shape[0]);
    srv_buf_puts(out, ",\"input_shape\":");
    srv_buf_sizes(out, op->x.shape, 3);
    srv_buf_puts(out, ",\"activation\":");
    srv_buf_str(out, nn_act_name(op->p.act.kind));
    srv_buf_puts(out, ",\"flops\":");
    srv_buf_double(out, op->flops);
    srv_conv_grad_write(out, g);
}

int srv_conv(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e) {
    double t0 = srv_now_ms();
    srv_conv_op op;
    if (srv_conv_parse(lim, req, SRV_GRAD_KEYS, &op, e)) return -1;
    srv_tensor y = {0};
    srv_conv_grad g;
    int rc = -1;
    size_t H = op.x.shape[0], W = op.x.shape[1], C = op.x.shape[2];
    size_t N = op.k.shape[0], KH = op.k.shape[1], KW = op.k.shape[2];
    if (srv_conv_grad_parse(lim, req, &op, &g, e)) goto done;
    nn_error ne;
    nn_error_clear(&ne);
    size_t ws_bytes;
    if (nn_conv_workspace_size(H, W, C, N, KH, KW, &op.p, &ws_bytes, &ne) != NN_OK) { srv_fail_nn(e, &ne, NULL); goto done; }
    if (check_work(lim, &op, ws_bytes, &g, e)) goto done;
    size_t shape[3] = {op.OH, op.OW, N};
    if (srv_tensor_alloc(&y, shape, 3, lim->max_tensor_elems, "output", e)) goto done;
    if (srv_conv_grad_alloc(lim, &op, &g, e)) goto done;
    /* the scratch is the backward's when that is the larger */
    nn_workspace *ws = g.ws_bytes > ws_bytes ? srv_workspace_get(g.ws_bytes, "grad_output", e)
                                             : srv_workspace_get(ws_bytes, op.kfield, e);
    if (!ws) goto done;
    if (nn_conv2d_forward(y.data, op.x.data, op.k.data, op.bias, H, W, C, N, KH, KW, &op.p, ws, &ne) != NN_OK) {
        srv_fail_nn(e, &ne, NULL);
        goto done;
    }
    if (srv_check_finite(y.data, y.n, "input", e)) goto done;
    if (srv_conv_grad_run(&op, y.data, &g, ws, e)) goto done;
    write_response(out, &op, &y, &g);
    if (op.render && srv_put_maps(out, y.data, op.OH, op.OW, N, e)) goto done;
    srv_put_elapsed_end(out, t0);
    rc = 0;
done:
    srv_conv_grad_free(&g);
    srv_conv_op_free(&op);
    srv_tensor_free(&y);
    return rc;
}
