/* srv_mlp.c — POST /mlp: a multi-layer perceptron's forward pass, logits and softmax. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn_mlp.h"
#include "srv_budget.h"
#include "srv_endpoints.h"
#include "srv_grad.h"
#include "srv_json.h"
#include "srv_ops.h"
#include "srv_tensor.h"

int srv_check_finite(const float *x, size_t n, const char *field, srv_err *e) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return srv_fail(e, 400, field, "the result is not finite (element %zu overflowed float32); "
                            "scale the input or the weights down", i);
    return 0;
}

int srv_parse_mlp_weights(const cJSON *v, const char *path, size_t L, const size_t *in,
                          const size_t *out, size_t max_elems, srv_tensor *W, srv_tensor *B,
                          srv_err *e) {
    for (size_t l = 0; l < L; l++) {
        memset(&W[l], 0, sizeof W[l]);
        memset(&B[l], 0, sizeof B[l]);
    }
    if (!cJSON_IsArray(v) || (size_t)cJSON_GetArraySize(v) != L)
        return srv_fail(e, 400, path, "%s must be a list of %zu layers [{\"weight\": [in, out], \"bias\": [out]}, ...]", path, L);
    size_t l = 0;
    char lp[128], wp[150], bp[150];
    for (const cJSON *c = v->child; c; c = c->next, l++) {
        srv_path_index(lp, sizeof lp, path, l);
        srv_path_key(wp, sizeof wp, lp, "weight");
        srv_path_key(bp, sizeof bp, lp, "bias");
        static const char *const keys[] = {"weight", "bias", NULL};
        if (!cJSON_IsObject(c)) { srv_fail(e, 400, lp, "%s must be {\"weight\": [in, out], \"bias\": [out]}", lp); goto fail; }
        if (srv_json_only_keys(c, lp, keys, e)) goto fail;
        const cJSON *w = srv_json_get(c, "weight"), *b = srv_json_get(c, "bias");
        if (!w) { srv_fail(e, 400, wp, "%s is missing", wp); goto fail; }
        if (srv_tensor_parse(w, wp, max_elems, &W[l], e)) goto fail;
        if (W[l].ndim != 2 || W[l].shape[1] != out[l] || (in && W[l].shape[0] != in[l])) {
            char got[64];
            srv_shape_str(got, sizeof got, W[l].shape, W[l].ndim);
            if (in) srv_fail(e, 400, wp, "%s must be [%zu, %zu] (got %s)", wp, in[l], out[l], got);
            else srv_fail(e, 400, wp, "%s must be [in, %zu] (got %s)", wp, out[l], got);
            goto fail;
        }
        if (b) {
            if (srv_tensor_parse(b, bp, max_elems, &B[l], e)) goto fail;
            if (B[l].n != out[l] || B[l].ndim != 1) { srv_fail(e, 400, bp, "%s must be a list of %zu numbers", bp, out[l]); goto fail; }
        }
    }
    return 0;
fail:
    for (size_t k = 0; k < L; k++) {
        srv_tensor_free(&W[k]);
        srv_tensor_free(&B[k]);
    }
    return -1;
}

/* "hidden_layers", "hidden_size" (one or one per layer), "output_size", "activation" into cfg. */
static int parse_config(const cJSON *req, nn_mlp_config *cfg, srv_err *e) {
    long long hl, os;
    memset(cfg, 0, sizeof *cfg);
    if (srv_json_int_opt(req, "hidden_layers", "", 0, NN_MLP_MAX_HIDDEN, 1, &hl, e)) return -1;
    if (srv_json_int_opt(req, "output_size", "", 1, (long long)NN_MLP_MAX_WIDTH, 10, &os, e)) return -1;
    if (srv_parse_activation(req, "", NN_ACT_TANH, &cfg->act, e)) return -1;
    cfg->hidden_layers = (size_t)hl;
    cfg->output_size = (size_t)os;
    const cJSON *hs = srv_json_get(req, "hidden_size");
    if (cJSON_IsArray(hs)) {
        if ((size_t)cJSON_GetArraySize(hs) != cfg->hidden_layers)
            return srv_fail(e, 400, "hidden_size", "hidden_size lists %d sizes but hidden_layers is %zu",
                            cJSON_GetArraySize(hs), cfg->hidden_layers);
        size_t l = 0;
        for (const cJSON *c = hs->child; c; c = c->next, l++) {
            char p[64];
            long long v;
            srv_path_index(p, sizeof p, "hidden_size", l);
            if (srv_json_int(c, p, 1, (long long)NN_MLP_MAX_WIDTH, &v, e)) return -1;
            cfg->hidden_sizes[l] = (size_t)v;
        }
    } else {
        long long v;
        if (hs && !cJSON_IsNumber(hs)) return srv_fail(e, 400, "hidden_size", "hidden_size must be an integer or one integer per hidden layer");
        if (srv_json_int_opt(req, "hidden_size", "", 1, (long long)NN_MLP_MAX_WIDTH, 20, &v, e)) return -1;
        for (size_t l = 0; l < cfg->hidden_layers; l++) cfg->hidden_sizes[l] = (size_t)v;
    }
    return 0;
}

/* The parameters: explicit "weights", or drawn from "seed" with "init". */
static int set_params(const srv_limits *lim, const cJSON *req, unsigned long long seed,
                      nn_init_kind init, nn_mlp *m, srv_err *e) {
    srv_tensor W[NN_MLP_MAX_LAYERS], B[NN_MLP_MAX_LAYERS];
    size_t L = m->num_layers;
    nn_error ne;
    nn_error_clear(&ne);
    const cJSON *wv = srv_json_get(req, "weights");
    if (!wv) return nn_mlp_init_params(m, seed, init, &ne) == NN_OK ? 0 : srv_fail_nn(e, &ne, NULL);
    if (srv_parse_mlp_weights(wv, "weights", L, m->in_size, m->out_size, lim->max_tensor_elems, W, B, e)) return -1;
    int rc = 0;
    for (size_t l = 0; l < L && rc == 0; l++)
        if (nn_mlp_set_layer(m, l, W[l].data, W[l].n, B[l].data, B[l].n, &ne) != NN_OK) rc = srv_fail_nn(e, &ne, NULL);
    for (size_t l = 0; l < L; l++) {
        srv_tensor_free(&W[l]);
        srv_tensor_free(&B[l]);
    }
    return rc;
}

int srv_mlp_parse(const srv_limits *lim, const cJSON *req, const char *const *extra_keys,
                  srv_mlp_op *op, srv_err *e) {
    static const char *const keys[] = {"input", "hidden_layers", "hidden_size", "activation",
                                       "negative_slope", "output_size", "seed", "init", "weights",
                                       "return_weights", NULL};
    memset(op, 0, sizeof *op);
    if (srv_json_only_keys_plus(req, "", keys, extra_keys, e)) return -1;
    nn_mlp_config cfg;
    unsigned long long seed;
    nn_init_kind init;
    if (parse_config(req, &cfg, e)) return -1;
    if (srv_json_seed_opt(req, "seed", "", 0, &seed, e)) return -1;
    if (srv_parse_init(req, "", NN_INIT_UNIFORM, &init, e)) return -1;
    if (srv_json_bool_opt(req, "return_weights", "", 0, &op->return_weights, e)) return -1;
    const cJSON *in = srv_json_get(req, "input");
    if (!in) return srv_fail(e, 400, "input", "input is missing (a vector, or a tensor that is flattened)");
    nn_error ne;
    nn_error_clear(&ne);
    if (srv_tensor_parse(in, "input", lim->max_tensor_elems, &op->x, e)) return -1;
    cfg.input_size = op->x.n;
    size_t n_params, n_acts;
    if (nn_mlp_sizes(&cfg, &n_params, &n_acts, &ne) != NN_OK) { srv_fail_nn(e, &ne, NULL); goto fail; }
    if (n_params > lim->max_tensor_elems || n_acts > lim->max_tensor_elems) {
        srv_fail(e, 413, "hidden_size", "this MLP has %zu parameters; the limit is %zu", n_params, lim->max_tensor_elems);
        goto fail;
    }
    op->flops = nn_mlp_flops(&cfg);
    /* Refused here, before the parameters are allocated and drawn: every caller runs at least
     * one forward pass. */
    if (op->flops > lim->max_work_flops) {
        srv_fail(e, 413, "hidden_size", "this MLP needs %.3g flops; the limit is %.3g", op->flops, lim->max_work_flops);
        goto fail;
    }
    /* the model's one block, and with return_weights the JSON text of every weight */
    size_t per_param = op->return_weights ? SRV_BUDGET_PER_ELEMENT : sizeof(float);
    if (srv_budget_need(srv_budget_add(srv_budget_mul(n_params, per_param), srv_budget_mul(n_acts, sizeof(float))),
                        "hidden_size", e))
        goto fail;
    if (nn_mlp_create(&op->m, &cfg, &ne) != NN_OK) { srv_fail_nn(e, &ne, NULL); goto fail; }
    if (set_params(lim, req, seed, init, &op->m, e)) goto fail;
    return 0;
fail:
    srv_mlp_op_free(op);
    return -1;
}

void srv_mlp_op_free(srv_mlp_op *op) {
    nn_mlp_free(&op->m);
    srv_tensor_free(&op->x);
}

static void write_response(srv_buf *out, const srv_mlp_op *op) {
    const nn_mlp *m = &op->m;
    size_t L = m->num_layers, K = m->cfg.output_size;
    srv_buf_puts(out, "{\"logits\":");
    srv_buf_floats(out, m->logits, K);
    srv_buf_puts(out, ",\"softmax\":");
    srv_buf_floats(out, m->probs, K);
    srv_buf_puts(out, ",\"layers\":[");
    for (size_t l = 0; l < L; l++) {
        size_t sh[2] = {m->in_size[l], m->out_size[l]};
        if (l) srv_buf_putc(out, ',');
        srv_buf_sizes(out, sh, 2);
    }
    srv_buf_puts(out, "],\"activation\":");
    srv_buf_str(out, nn_act_name(m->cfg.act.kind));
    srv_buf_puts(out, ",\"flops\":");
    srv_buf_double(out, op->flops);
    if (op->return_weights) {
        srv_buf_puts(out, ",\"weights\":[");
        for (size_t l = 0; l < L; l++) {
            size_t sh[2] = {m->in_size[l], m->out_size[l]};
            if (l) srv_buf_putc(out, ',');
            srv_buf_puts(out, "{\"weight\":");
            srv_buf_tensor(out, m->weight[l], sh, 2);
            srv_buf_puts(out, ",\"bias\":");
            srv_buf_floats(out, m->bias[l], m->out_size[l]);
            srv_buf_putc(out, '}');
        }
        srv_buf_putc(out, ']');
    }
}

int srv_mlp(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e) {
    double t0 = srv_now_ms();
    srv_mlp_op op;
    if (srv_mlp_parse(lim, req, SRV_GRAD_MLP_KEYS, &op, e)) return -1;
    srv_mlp_grad g;
    int rc = -1;
    nn_error ne;
    nn_error_clear(&ne);
    if (srv_mlp_grad_parse(lim, req, &op, &g, e)) goto done;
    if (g.on && op.flops + g.work > lim->max_work_flops) {
        srv_fail(e, 413, g.has_target ? "target" : "grad_output", "this MLP and its backward pass need %.3g flops; "
                 "the limit is %.3g (%.3g for the forward, %.3g for the backward)", op.flops + g.work,
                 lim->max_work_flops, op.flops, g.work);
        goto done;
    }
    if (srv_mlp_grad_alloc(lim, &op, &g, e)) goto done;
    if (nn_mlp_forward(&op.m, op.x.data, &ne) != NN_OK) { srv_fail_nn(e, &ne, NULL); goto done; }
    if (srv_check_finite(op.m.logits, op.m.cfg.output_size, "input", e)) goto done;
    if (srv_mlp_grad_run(&op, &g, e)) goto done;
    write_response(out, &op);
    srv_mlp_grad_write(out, &op, &g);
    srv_put_elapsed_end(out, t0);
    rc = 0;
done:
    srv_mlp_grad_free(&g);
    srv_mlp_op_free(&op);
    return rc;
}
