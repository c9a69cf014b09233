/* srv_arch.c — the layer list in and out of JSON; see srv_arch.h. */
#include "srv_arch.h"

#include <string.h>

#include "nn_cnn.h"
#include "srv_endpoints.h"
#include "srv_json.h"

const srv_arch_defaults srv_arch_defaults_cnn = {NN_INIT_HE, NN_INIT_UNIFORM, NN_ACT_TANH, 1000};
const srv_arch_defaults srv_arch_defaults_train = {NN_INIT_HE_NORMAL, NN_INIT_HE_NORMAL, NN_ACT_RELU, 10};

typedef struct srv_arch_data layer_data;

static void layer_data_free(layer_data *d) {
    srv_tensor_free(&d->kernels);
    srv_tensor_free(&d->bias);
    for (size_t l = 0; l < d->nw; l++) {
        srv_tensor_free(&d->w[l]);
        srv_tensor_free(&d->b[l]);
    }
}

static int parse_conv(const cJSON *o, const char *lp, const srv_limits *lim,
                      const srv_arch_defaults *def, nn_layer_spec *s, layer_data *d, srv_err *e) {
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
    if (srv_parse_init(o, lp, def->conv_init, &s->init, e)) return -1;
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

static int parse_mlp_layer(const cJSON *o, const char *lp, const srv_limits *lim,
                           const srv_arch_defaults *def, nn_layer_spec *s, layer_data *d, srv_err *e) {
    static const char *const keys[] = {"type", "hidden_layers", "hidden_size", "activation",
                                       "negative_slope", "output_size", "init", "weights", NULL};
    if (srv_json_only_keys(o, lp, keys, e)) return -1;
    long long hl, os;
    char p[160];
    if (srv_json_int_opt(o, "hidden_layers", lp, 0, NN_MLP_MAX_HIDDEN, 1, &hl, e)) return -1;
    if (srv_json_int_opt(o, "output_size", lp, 1, (long long)NN_MLP_MAX_WIDTH, (long long)def->mlp_output, &os, e)) return -1;
    if (srv_parse_activation(o, lp, def->mlp_act, &s->mlp.act, e)) return -1;
    if (srv_parse_init(o, lp, def->mlp_init, &s->mlp_init, e)) return -1;
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

void srv_arch_free(srv_arch *a) {
    if (!a) return;
    for (size_t i = 0; i < a->n && i < NN_CNN_MAX_LAYERS; i++) layer_data_free(&a->data[i]);
    a->n = 0;
}

int srv_arch_parse(const cJSON *v, const char *path, const srv_limits *lim,
                   const srv_arch_defaults *def, srv_arch *a, srv_err *e) {
    memset(a, 0, sizeof *a);
    if (!cJSON_IsArray(v)) return srv_fail(e, 400, path, "%s must be a list of layers", path);
    size_t count = (size_t)cJSON_GetArraySize(v);
    if (count == 0 || count > NN_CNN_MAX_LAYERS)
        return srv_fail(e, 400, path, "%s must have 1 to %d layers", path, NN_CNN_MAX_LAYERS);
    nn_error ne;
    nn_error_clear(&ne);
    for (const cJSON *c = v->child; c; c = c->next) {
        size_t i = a->n++;
        char lp[64], tp[80];
        srv_path_index(lp, sizeof lp, path, i);
        srv_path_key(tp, sizeof tp, lp, "type");
        nn_layer_spec *s = &a->specs[i];
        const char *type;
        int r = -1;
        nn_layer_type lt;
        if (!cJSON_IsObject(c)) srv_fail(e, 400, lp, "%s must be an object with a \"type\"", lp);
        else if (srv_json_string_opt(c, "type", lp, NULL, &type, e)) (void)0;
        else if (!type) srv_fail(e, 400, tp, "%s is missing (conv, pool, global_pool, mlp)", tp);
        else if (nn_layer_type_parse(type, &lt, nn_cnn_field(i, "type"), &ne) != NN_OK)
            srv_fail(e, 400, tp, "unknown layer type '%.40s' (conv, pool, global_pool, mlp)", type);
        else {
            s->type = lt;
            switch (lt) {
            case NN_LAYER_CONV: r = parse_conv(c, lp, lim, def, s, &a->data[i], e); break;
            case NN_LAYER_POOL: r = parse_pool(c, lp, 0, s, e); break;
            case NN_LAYER_GLOBAL_POOL: r = parse_pool(c, lp, 1, s, e); break;
            case NN_LAYER_MLP: r = parse_mlp_layer(c, lp, lim, def, s, &a->data[i], e); break;
            }
        }
        if (r) {
            srv_arch_free(a);
            return -1;
        }
    }
    return 0;
}

int srv_arch_has_weights(const srv_arch *a) {
    for (size_t i = 0; i < a->n; i++) {
        const nn_layer_spec *s = &a->specs[i];
        if ((s->type == NN_LAYER_CONV && !s->kernels) || (s->type == NN_LAYER_MLP && !s->mlp_weight[0]))
            return 0;
    }
    return 1;
}

/* ---- writing ------------------------------------------------------------------------------ */

static void put_pair(srv_buf *out, const char *key, size_t a, size_t b) {
    srv_buf_printf(out, ",\"%s\":", key);
    if (a == b) srv_buf_size(out, a);
    else srv_buf_printf(out, "[%zu,%zu]", a, b);
}

static void put_activation(srv_buf *out, nn_activation act) {
    srv_buf_puts(out, ",\"activation\":");
    srv_buf_str(out, nn_act_name(act.kind));
    if (act.kind == NN_ACT_LEAKY_RELU) {
        srv_buf_puts(out, ",\"negative_slope\":");
        srv_buf_float(out, act.negative_slope);
    }
}

static void write_conv(srv_buf *out, const nn_layer_spec *s, size_t C) {
    srv_buf_printf(out, ",\"filters\":%zu", s->filters);
    put_pair(out, "size", s->size_h, s->size_w);
    put_pair(out, "stride", s->conv.stride_h, s->conv.stride_w);
    put_pair(out, "padding", s->conv.pad_h, s->conv.pad_w);
    put_activation(out, s->conv.act);
    size_t shape[4] = {s->filters, s->size_h, s->size_w, C};
    srv_buf_puts(out, ",\"kernels\":");
    srv_buf_tensor(out, s->kernels, shape, 4);
    srv_buf_puts(out, ",\"bias\":");
    if (s->bias) srv_buf_floats(out, s->bias, s->filters);
    else srv_buf_puts(out, "0");
}

static void write_mlp(srv_buf *out, const nn_layer_spec *s, size_t in) {
    const nn_mlp_config *m = &s->mlp;
    srv_buf_printf(out, ",\"hidden_layers\":%zu,\"hidden_size\":", m->hidden_layers);
    srv_buf_sizes(out, m->hidden_sizes, m->hidden_layers);
    put_activation(out, m->act);
    srv_buf_printf(out, ",\"output_size\":%zu,\"weights\":[", m->output_size);
    for (size_t l = 0; l <= m->hidden_layers; l++) {
        size_t lin = l ? m->hidden_sizes[l - 1] : in, lout = l < m->hidden_layers ? m->hidden_sizes[l] : m->output_size;
        size_t shape[2] = {lin, lout};
        srv_buf_puts(out, l ? ",{\"weight\":" : "{\"weight\":");
        srv_buf_tensor(out, s->mlp_weight[l], shape, 2);
        if (s->mlp_bias[l]) {
            srv_buf_puts(out, ",\"bias\":");
            srv_buf_floats(out, s->mlp_bias[l], lout);
        }
        srv_buf_putc(out, '}');
    }
    srv_buf_putc(out, ']');
}

void srv_arch_write(srv_buf *out, const nn_layer_spec *specs, size_t n, size_t H, size_t W,
                    size_t C) {
    nn_cnn_info info;
    if (nn_cnn_validate(specs, n, H, W, C, &info, NULL) != NN_OK) {
        srv_buf_puts(out, "null");
        return;
    }
    srv_buf_putc(out, '[');
    size_t shape[3] = {H, W, C}, ndim = 3;
    for (size_t i = 0; i < n; i++) {
        const nn_layer_spec *s = &specs[i];
        srv_buf_puts(out, i ? ",{\"type\":" : "{\"type\":");
        srv_buf_str(out, nn_layer_type_name(s->type));
        size_t in = 1;
        for (size_t d = 0; d < ndim; d++) in *= shape[d];
        switch (s->type) {
        case NN_LAYER_CONV: write_conv(out, s, shape[2]); break;
        case NN_LAYER_POOL:
            srv_buf_puts(out, ",\"function\":");
            srv_buf_str(out, nn_pool_name(s->pool.kind));
            put_pair(out, "size", s->pool.size_h, s->pool.size_w);
            put_pair(out, "stride", s->pool.stride_h, s->pool.stride_w);
            break;
        case NN_LAYER_GLOBAL_POOL:
            srv_buf_puts(out, ",\"function\":");
            srv_buf_str(out, nn_pool_name(s->pool.kind));
            break;
        case NN_LAYER_MLP: write_mlp(out, s, in); break;
        }
        srv_buf_putc(out, '}');
        memcpy(shape, info.out_shape[i], sizeof shape);
        ndim = info.out_ndim[i];
    }
    srv_buf_putc(out, ']');
}
