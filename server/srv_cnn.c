/* srv_cnn.c — POST /cnn: a whole feed-forward CNN (conv, pool, global pool, MLP layers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_cnn.h"
#include "nn_softmax.h"
#include "srv_arch.h"
#include "srv_budget.h"
#include "srv_classes.h"
#include "srv_endpoints.h"
#include "srv_image.h"
#include "srv_json.h"
#include "srv_tensor.h"

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

/* The layers: "architecture", or the default one with a top-level "init" applied to it. */
static int parse_layers(const srv_limits *lim, const cJSON *req, srv_arch *a, srv_err *e) {
    /* A top-level "init" is every generated layer's default (a layer's own "init" wins). */
    srv_arch_defaults def = srv_arch_defaults_cnn;
    if (srv_parse_init(req, "", def.conv_init, &def.conv_init, e)) return -1;
    if (srv_parse_init(req, "", def.mlp_init, &def.mlp_init, e)) return -1;
    const cJSON *arch = srv_json_get(req, "architecture");
    if (arch) return srv_arch_parse(arch, "architecture", lim, &def, a, e);
    a->n = nn_cnn_default_spec(a->specs);
    if (srv_json_get(req, "init"))
        for (size_t i = 0; i < a->n; i++) {
            a->specs[i].init = def.conv_init;
            a->specs[i].mlp_init = def.mlp_init;
        }
    return 0;
}

/* The net on an [H, W, C] input within the request limits and the memory budget: the model's
 * one block, its convolution scratch, with render the PNG maps of its activations, with
 * outputs every activation and parameter as JSON text (at most ~16 bytes a number). */
static int admit(const srv_limits *lim, const srv_arch *a, const size_t *shape, int render, int outputs,
                 srv_err *e) {
    nn_cnn_info info;
    nn_error ne;
    nn_error_clear(&ne);
    if (nn_cnn_validate(a->specs, a->n, shape[0], shape[1], shape[2], &info, &ne) != NN_OK)
        return srv_fail_nn(e, &ne, NULL);
    if (info.work > lim->max_work_flops)
        return srv_fail(e, 413, "architecture", "this network needs %.3g flops; the limit is %.3g (%.3g of arithmetic, "
                        "pooling counted by its time, and the floats of scratch its convolutions fill)",
                        info.work, lim->max_work_flops, info.flops);
    if (info.num_params > lim->max_tensor_elems || info.num_acts > lim->max_tensor_elems)
        return srv_fail(e, 413, "architecture", "this network holds %zu parameters and %zu activations; the limit is "
                        "%zu each", info.num_params, info.num_acts, lim->max_tensor_elems);
    size_t per_act = (render ? 4 : 0) + (outputs ? 16 : 0);
    size_t need = srv_budget_add(srv_budget_add(info.bytes, info.ws_bytes), srv_budget_mul(info.num_acts, per_act));
    return srv_budget_need(srv_budget_add(need, srv_budget_mul(info.num_params, outputs ? 16 : 0)), "architecture", e);
}

/* "layers": each layer's type, shape and flops, with outputs its tensors, with render its maps. */
static int put_layers(srv_buf *out, const nn_cnn *m, int render, int outputs, srv_err *e) {
    srv_buf_puts(out, ",\"layers\":[");
    for (size_t i = 0; i < m->num_layers; i++) {
        const nn_cnn_layer *L = &m->layers[i];
        if (i) srv_buf_putc(out, ',');
        srv_buf_puts(out, "{\"type\":");
        srv_buf_str(out, nn_layer_type_name(L->type));
        srv_buf_puts(out, ",\"output_shape\":");
        srv_buf_sizes(out, L->out_shape, L->out_ndim);
        srv_buf_puts(out, ",\"flops\":");
        srv_buf_double(out, L->flops);
        if (outputs) put_layer_tensors(out, L);
        if (render && L->out_ndim == 3 &&
            srv_put_maps(out, L->output, L->out_shape[0], L->out_shape[1], L->out_shape[2], e))
            return -1;
        srv_buf_putc(out, '}');
    }
    srv_buf_putc(out, ']');
    return 0;
}

/* Run the admitted net on x and write the answer. */
static int run(const cJSON *req, const srv_arch *a, const srv_tensor *x, unsigned long long seed, int softmax,
               int render, int outputs, double t0, srv_buf *out, srv_err *e) {
    nn_cnn m;
    memset(&m, 0, sizeof m);
    srv_classes cls = {0};
    float *probs = NULL;
    nn_error ne;
    nn_error_clear(&ne);
    int rc = -1;
    if (nn_cnn_create(&m, a->specs, a->n, x->shape[0], x->shape[1], x->shape[2], seed, softmax, &ne) != NN_OK ||
        nn_cnn_forward(&m, x->data, &ne) != NN_OK) {
        srv_fail_nn(e, &ne, NULL);
        goto done;
    }
    if (srv_check_finite(m.logits, m.num_outputs, "input", e)) goto done;
    if (srv_classes_parse(req, m.num_outputs, &cls, e)) goto done;
    if (cls.top && !m.probs) {
        if (!(probs = malloc(m.num_outputs * sizeof *probs))) { srv_fail(e, 503, NULL, "out of memory"); goto done; }
        nn_softmax_forward(probs, m.logits, m.num_outputs);
    }
    srv_buf_puts(out, "{\"output\":");
    srv_buf_floats(out, softmax && m.probs ? m.probs : m.logits, m.num_outputs);
    srv_buf_puts(out, ",\"logits\":");
    srv_buf_floats(out, m.logits, m.num_outputs);
    srv_classes_write_top(out, &cls, m.probs ? m.probs : probs, m.num_outputs);
    srv_buf_puts(out, ",\"input_shape\":");
    srv_buf_sizes(out, x->shape, 3);
    if (put_layers(out, &m, render, outputs, e)) goto done;
    srv_buf_puts(out, ",\"flops\":");
    srv_buf_double(out, m.flops);
    srv_put_elapsed_end(out, t0);
    rc = 0;
done:
    nn_cnn_free(&m);
    srv_classes_free(&cls);
    free(probs);
    return rc;
}

int srv_cnn(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e) {
    static const char *const keys[] = {"image", "input", "grayscale", "resize", "architecture",
                                       "softmax", "seed", "init", "render", "outputs", "classes",
                                       "top", NULL};
    if (srv_json_only_keys(req, "", keys, e)) return -1;
    double t0 = srv_now_ms();
    int softmax, render, outputs;
    unsigned long long seed;
    if (srv_json_bool_opt(req, "softmax", "", 1, &softmax, e)) return -1;
    if (srv_json_bool_opt(req, "render", "", 0, &render, e)) return -1;
    if (srv_json_bool_opt(req, "outputs", "", 0, &outputs, e)) return -1;
    if (srv_json_seed_opt(req, "seed", "", 0, &seed, e)) return -1;
    srv_arch *a = calloc(1, sizeof *a);
    if (!a) return srv_fail(e, 503, NULL, "out of memory");
    srv_tensor x = {0};
    int rc = parse_layers(lim, req, a, e);
    if (rc == 0) rc = srv_request_input(req, lim, &x, e);
    if (rc == 0) rc = admit(lim, a, x.shape, render, outputs, e);
    if (rc == 0) rc = run(req, a, &x, seed, softmax, render, outputs, t0, out, e);
    srv_tensor_free(&x);
    srv_arch_free(a);
    free(a);
    return rc;
}
