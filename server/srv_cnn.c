/* srv_cnn.c — POST /cnn: a whole feed-forward CNN (conv, pool, global pool, MLP layers). */
#include <stdio.h>
#include <string.h>

#include "nn_cnn.h"
#include "nn_softmax.h"
#include "srv_budget.h"
#include "srv_endpoints.h"
#include "srv_image.h"
#include "srv_json.h"
#include "srv_render.h"
#include "srv_tensor.h"

/* Tensors a layer's spec points into, freed after nn_cnn_create copied them. */
typedef struct layer_data {
    srv_tensor kernels, bias;
    srv_tensor w[NN_MLP_MAX_LAYERS], b[NN_MLP_MAX_LAYERS];
    size_t nw;
} layer_data;

static void layer_data_free(layer_data *d) {
    srv_tensor_free(&d->kernels);
    srv_tensor_free(&d->bias);
    for (size_t l = 0; l < d->nw; l++) {
        srv_tensor_free(&d->w[l]);
        srv_tensor_free(&d->b[l]);
    }
}

static int parse_conv(const cJSON *o, const char *lp, const srv_limits *lim, nn_init_kind def_init,
                      nn_layer_spec *s, layer_data *d, srv_err *e) {
    static const char *const keys[] = {"type", "filters", "size", "stride", "padding", "activation",
                                       "negative_slope", "init", "kernels", "bias", NULL};
    if (srv_json_only_keys(o, lp, keys, e)) return -1;
    long long n, size[2], stride[2], pad[2];
    char p[160];
    if (srv_json_int_opt(o, "filters", lp, 1, 4096, 16, &n, e)) return -1;
    if (srv_json_pair_opt(o, "size", lp, 1, 1024, 3, size, e)) return -1;
    if (srv_json_pair_opt(o, "stride", lp, 1, 1 << 20, 1, stride, e)) return -1;
    if (srv_json_pair_opt(o, "padding", lp, 0, 1 << 20, 0, pad, e)) return -1;
    if (srv_parse_activation(o, lp, NN_ACT_RELU, &s->conv.act, e)) return -1;
    if (srv_parse_init(o, lp, def_init, &s->init, e)) return -1;
    s->filters = (size_t)n;
    s->size_h = (size_t)size[0];
    s->size_w = (size_t)size[1];
    s->conv.stride_h = (size_t)stride[0];
    s->conv.stride_w = (size_t)stride[1];
    s->conv.pad_h = (size_t)pad[0];
    s->conv.pad_w = (size_t)pad[1];
    const cJSON *k = srv_json_get(o, "kernels"), *b = srv_json_get(o, "bias");
    if (k) {
        srv_path_key(p, sizeof p, lp, "kernels");
        if (srv_tensor_parse(k, p, lim->max_tensor_elems, &d->kernels, e)) return -1;
        srv_tensor *t = &d->kernels;
        if (t->ndim != 4 || t->shape[0] != s->filters || t->shape[1] != s->size_h || t->shape[2] != s->size_w)
            return srv_fail(e, 400, p, "%s must be [%zu, %zu, %zu, C] (filters, size, input channels)", p,
                            s->filters, s->size_h, s->size_w);
        s->kernels = t->data;
        s->kernels_len = t->n;
    }
    if (b) {
        srv_path_key(p, sizeof p, lp, "bias");
        size_t shape[1] = {s->filters};
        if (cJSON_IsNumber(b)) {
            double v;
            if (srv_json_num(b, p, &v, e)) return -1;
            if (srv_tensor_alloc(&d->bias, shape, 1, lim->max_tensor_elems, p, e)) return -1;
            for (size_t i = 0; i < s->filters; i++) d->bias.data[i] = (float)v;
        } else {
            if (srv_tensor_parse(b, p, lim->max_tensor_elems, &d->bias, e)) return -1;
            if (d->bias.ndim != 1 || d->bias.n != s->filters)
                return srv_fail(e, 400, p, "%s must be a number or a list of %zu numbers", p, s->filters);
        }
        s->bias = d->bias.data;
        s->bias_len = d->bias.n;
    }
    return 0;
}

static int parse_pool(const cJSON *o, const char *lp, int global, nn_layer_spec *s, srv_err *e) {
    static const char *const keys[] = {"type", "function", "size", "stride", NULL};
    static const char *const gkeys[] = {"type", "function", NULL};
    if (srv_json_only_keys(o, lp, global ? gkeys : keys, e)) return -1;
    const char *f;
    if (srv_json_string_opt(o, "function", lp, global ? "average" : "max", &f, e)) return -1;
    nn_error ne;
    nn_error_clear(&ne);
    if (nn_pool_parse(f, &s->pool.kind, &ne) != NN_OK) {
        char p[160];
        srv_path_key(p, sizeof p, lp, "function");
        return srv_fail(e, 400, p, "unknown pooling function '%.40s' (max, average)", f);
    }
    if (global) return 0;
    long long size[2], stride[2];
    if (srv_json_pair_opt(o, "size", lp, 1, 1 << 20, 2, size, e)) return -1;
    if (srv_json_pair_opt(o, "stride", lp, 1, 1 << 20, 1, stride, e)) return -1;
    if (!srv_json_get(o, "stride")) {
        stride[0] = size[0];
        stride[1] = size[1];
    }
    s->pool.size_h = (size_t)size[0];
    s->pool.size_w = (size_t)size[1];
    s->pool.stride_h = (size_t)stride[0];
    s->pool.stride_w = (size_t)stride[1];
    return 0;
}

static int parse_mlp_layer(const cJSON *o, const char *lp, const srv_limits *lim, nn_init_kind def_init,
                           nn_layer_spec *s, layer_data *d, srv_err *e) {
    static const char *const keys[] = {"type", "hidden_layers", "hidden_size", "activation",
                                       "negative_slope", "output_size", "init", "weights", NULL};
    if (srv_json_only_keys(o, lp, keys, e)) return -1;
    long long hl, os;
    char p[160];
    if (srv_json_int_opt(o, "hidden_layers", lp, 0, NN_MLP_MAX_HIDDEN, 1, &hl, e)) return -1;
    if (srv_json_int_opt(o, "output_size", lp, 1, (long long)NN_MLP_MAX_WIDTH, 1000, &os, e)) return -1;
    if (srv_parse_activation(o, lp, NN_ACT_TANH, &s->mlp.act, e)) return -1;
    if (srv_parse_init(o, lp, def_init, &s->mlp_init, e)) return -1;
    s->mlp.hidden_layers = (size_t)hl;
    s->mlp.output_size = (size_t)os;
    const cJSON *hs = srv_json_get(o, "hidden_size");
    srv_path_key(p, sizeof p, lp, "hidden_size");
    if (cJSON_IsArray(hs)) {
        if ((size_t)cJSON_GetArraySize(hs) != s->mlp.hidden_layers)
            return srv_fail(e, 400, p, "%s lists %d sizes but hidden_layers is %zu", p, cJSON_GetArraySize(hs), s->mlp.hidden_layers);
        size_t l = 0;
        for (const cJSON *c = hs->child; c; c = c->next, l++) {
            char q[180];
            long long v;
            srv_path_index(q, sizeof q, p, l);
            if (srv_json_int(c, q, 1, (long long)NN_MLP_MAX_WIDTH, &v, e)) return -1;
            s->mlp.hidden_sizes[l] = (size_t)v;
        }
    } else {
        long long v;
        if (hs && !cJSON_IsNumber(hs)) return srv_fail(e, 400, p, "%s must be an integer or one integer per hidden layer", p);
        if (srv_json_int_opt(o, "hidden_size", lp, 1, (long long)NN_MLP_MAX_WIDTH, 20, &v, e)) return -1;
        for (size_t l = 0; l < s->mlp.hidden_layers; l++) s->mlp.hidden_sizes[l] = (size_t)v;
    }
    const cJSON *w = srv_json_get(o, "weights");
    if (w) {
        size_t L = s->mlp.hidden_layers + 1, outs[NN_MLP_MAX_LAYERS];
        for (size_t l = 0; l < L; l++) outs[l] = l + 1 < L ? s->mlp.hidden_sizes[l] : s->mlp.output_size;
        srv_path_key(p, sizeof p, lp, "weights");
        if (srv_parse_mlp_weights(w, p, L, NULL, outs, lim->max_tensor_elems, d->w, d->b, e)) return -1;
        d->nw = L;
        for (size_t l = 0; l < L; l++) {
            s->mlp_weight[l] = d->w[l].data;
            s->mlp_weight_len[l] = d->w[l].n;
            s->mlp_bias[l] = d->b[l].data;
            s->mlp_bias_len[l] = d->b[l].n;
        }
    }
    return 0;
}

/* With "outputs": the layer's output tensor, and a conv layer's kernels [N, KH, KW, C] and
 * bias [N], so a client can draw and check every layer from one request. */
static void put_layer_tensors(srv_buf *out, const nn_cnn_layer *L) {
    srv_buf_puts(out, ",\"output\":");
    srv_buf_tensor(out, L->output, L->out_shape, L->out_ndim);
    if (L->type != NN_LAYER_CONV) return;
    size_t ks[4] = {L->spec.filters, L->spec.size_h, L->spec.size_w, L->in_shape[2]};
    srv_buf_puts(out, ",\"kernels\":");
    srv_buf_tensor(out, L->kernels, ks, 4);
    srv_buf_puts(out, ",\"bias\":");
    srv_buf_floats(out, L->bias, L->spec.filters);
}

int srv_cnn(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e) {
    static const char *const keys[] = {"image", "input", "grayscale", "resize", "architecture",
                                       "softmax", "seed", "init", "render", "outputs", NULL};
    if (srv_json_only_keys(req, "", keys, e)) return -1;
    double t0 = srv_now_ms();
    int softmax, render, outputs;
    unsigned long long seed;
    if (srv_json_bool_opt(req, "softmax", "", 1, &softmax, e)) return -1;
    if (srv_json_bool_opt(req, "render", "", 0, &render, e)) return -1;
    if (srv_json_bool_opt(req, "outputs", "", 0, &outputs, e)) return -1;
    if (srv_json_seed_opt(req, "seed", "", 0, &seed, e)) return -1;
    /* A top-level "init" is every generated layer's default (a layer's own "init" wins). */
    nn_init_kind conv_init, mlp_init;
    if (srv_parse_init(req, "", NN_INIT_HE, &conv_init, e)) return -1;
    if (srv_parse_init(req, "", NN_INIT_UNIFORM, &mlp_init, e)) return -1;

    nn_layer_spec specs[NN_CNN_MAX_LAYERS];
    layer_data data[NN_CNN_MAX_LAYERS];
    memset(specs, 0, sizeof specs);
    memset(data, 0, sizeof data);
    size_t n = 0;
    int rc = -1;
    srv_tensor x = {0};
    nn_cnn m;
    memset(&m, 0, sizeof m);
    nn_error ne;
    nn_error_clear(&ne);

    const cJSON *arch = srv_json_get(req, "architecture");
    if (!arch) {
        n = nn_cnn_default_spec(specs);
        if (srv_json_get(req, "init"))
            for (size_t i = 0; i < n; i++) {
                specs[i].init = conv_init;
                specs[i].mlp_init = mlp_init;
            }
    } else {
        if (!cJSON_IsArray(arch)) return srv_fail(e, 400, "architecture", "architecture must be a list of layers");
        size_t count = (size_t)cJSON_GetArraySize(arch);
        if (count == 0 || count > NN_CNN_MAX_LAYERS)
            return srv_fail(e, 400, "architecture", "architecture must have 1 to %d layers", NN_CNN_MAX_LAYERS);
        for (const cJSON *c = arch->child; c; c = c->next, n++) {
            char lp[64], tp[80];
            srv_path_index(lp, sizeof lp, "architecture", n);
            srv_path_key(tp, sizeof tp, lp, "type");
            if (!cJSON_IsObject(c)) { srv_fail(e, 400, lp, "%s must be an object with a \"type\"", lp); goto done; }
            const char *type;
            if (srv_json_string_opt(c, "type", lp, NULL, &type, e)) goto done;
            if (!type) { srv_fail(e, 400, tp, "%s is missing (conv, pool, global_pool, mlp)", tp); goto done; }
            nn_layer_type lt;
            if (nn_layer_type_parse(type, &lt, nn_cnn_field(n, "type"), &ne) != NN_OK) {
                srv_fail(e, 400, tp, "unknown layer type '%.40s' (conv, pool, global_pool, mlp)", type);
                goto done;
            }
            specs[n].type = lt;
            int r = 0;
            switch (lt) {
            case NN_LAYER_CONV: r = parse_conv(c, lp, lim, conv_init, &specs[n], &data[n], e); break;
            case NN_LAYER_POOL: r = parse_pool(c, lp, 0, &specs[n], e); break;
            case NN_LAYER_GLOBAL_POOL: r = parse_pool(c, lp, 1, &specs[n], e); break;
            case NN_LAYER_MLP: r = parse_mlp_layer(c, lp, lim, mlp_init, &specs[n], &data[n], e); break;
            }
            if (r) { n++; goto done; }
        }
    }
    if (srv_request_input(req, lim, &x, e)) goto done;
    size_t H = x.shape[0], W = x.shape[1], C = x.shape[2];
    nn_cnn_info info;
    if (nn_cnn_validate(specs, n, H, W, C, &info, &ne) != NN_OK) { srv_fail_nn(e, &ne, NULL); goto done; }
    if (info.work > lim->max_work_flops) {
        srv_fail(e, 413, "architecture", "this network needs %.3g flops; the limit is %.3g (%.3g of arithmetic, pooling "
                 "counting 1 per window element, and the floats of scratch its convolutions fill)",
                 info.work, lim->max_work_flops, info.flops);
        goto done;
    }
    if (info.num_params > lim->max_tensor_elems || info.num_acts > lim->max_tensor_elems) {
        srv_fail(e, 413, "architecture", "this network holds %zu parameters and %zu activations; the limit is %zu each",
                 info.num_params, info.num_acts, lim->max_tensor_elems);
        goto done;
    }
    /* the model's one block, its convolution scratch, with render the PNG maps of its
     * activations, with outputs every activation and parameter as JSON text (at most ~16 bytes
     * a number) */
    size_t per_act = (render ? 4 : 0) + (outputs ? 16 : 0);
    size_t need = srv_budget_add(srv_budget_add(info.bytes, info.ws_bytes), srv_budget_mul(info.num_acts, per_act));
    if (srv_budget_need(srv_budget_add(need, srv_budget_mul(info.num_params, outputs ? 16 : 0)), "architecture", e))
        goto done;
    if (nn_cnn_create(&m, specs, n, H, W, C, seed, softmax, &ne) != NN_OK) { srv_fail_nn(e, &ne, NULL); goto done; }
    if (nn_cnn_forward(&m, x.data, &ne) != NN_OK) { srv_fail_nn(e, &ne, NULL); goto done; }
    if (srv_check_finite(m.logits, m.num_outputs, "input", e)) goto done;

    srv_buf_puts(out, "{\"output\":");
    srv_buf_floats(out, softmax && m.probs ? m.probs : m.logits, m.num_outputs);
    srv_buf_puts(out, ",\"logits\":");
    srv_buf_floats(out, m.logits, m.num_outputs);
    srv_buf_puts(out, ",\"input_shape\":");
    srv_buf_sizes(out, x.shape, 3);
    srv_buf_puts(out, ",\"layers\":[");
    for (size_t i = 0; i < m.num_layers; i++) {
        const nn_cnn_layer *L = &m.layers[i];
        if (i) srv_buf_putc(out, ',');
        srv_buf_puts(out, "{\"type\":");
        srv_buf_str(out, nn_layer_type_name(L->type));
        srv_buf_puts(out, ",\"output_shape\":");
        srv_buf_sizes(out, L->out_shape, L->out_ndim);
        srv_buf_puts(out, ",\"flops\":");
        srv_buf_double(out, L->flops);
        if (outputs) put_layer_tensors(out, L);
        if (render && L->out_ndim == 3) {
            srv_buf_putc(out, ',');
            if (srv_render_maps(out, L->output, L->out_shape[0], L->out_shape[1], L->out_shape[2])) {
                srv_fail(e, 503, NULL, "out of memory rendering maps");
                goto done;
            }
        }
        srv_buf_putc(out, '}');
    }
    srv_buf_puts(out, "],\"flops\":");
    srv_buf_double(out, m.flops);
    srv_buf_puts(out, ",\"elapsed_ms\":");
    srv_buf_printf(out, "%.3f", srv_now_ms() - t0);
    srv_buf_putc(out, '}');
    rc = 0;
done:
    nn_cnn_free(&m);
    srv_tensor_free(&x);
    for (size_t i = 0; i < n && i < NN_CNN_MAX_LAYERS; i++) layer_data_free(&data[i]);
    return rc;
}
