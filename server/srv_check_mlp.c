/* srv_check_mlp.c — POST /check/mlp: a student's MLP output against /mlp's (the softmax, or
 * with "softmax": false the logits), and the classic mistakes that reproduce it (srv_check.h).
 * The softmax and output-activation mistakes are functions of the reference's logits; leaving
 * the biases out and transposing the square weight matrices are one more forward pass each. */
#include <string.h>

#include "nn_mlp.h"
#include "nn_softmax.h"
#include "srv_budget.h"
#include "srv_check.h"
#include "srv_endpoints.h"
#include "srv_json.h"
#include "srv_ops.h"

typedef struct mlp_check {
    srv_mlp_op op;
    int softmax;              /* the answer is meant to be the softmax (else the logits) */
    const srv_limits *lim;
} mlp_check;

enum { OUT_LOGITS, OUT_SOFTMAX, OUT_SOFTMAX_TWICE, OUT_ACTIVATED };
enum { ALT_NO_BIAS, ALT_TRANSPOSED };

/* softmax_missing / softmax_applied / softmax_applied_twice / activation_on_output. */
static int output_fill(void *ctx, const srv_check_cand *c, float *out, srv_err *e) {
    (void)e;
    const mlp_check *mc = ctx;
    const nn_mlp *m = &mc->op.m;
    size_t n = m->cfg.output_size;
    if (c->arg == OUT_LOGITS) memcpy(out, m->logits, n * sizeof *out);
    if (c->arg == OUT_SOFTMAX) memcpy(out, m->probs, n * sizeof *out);
    if (c->arg == OUT_SOFTMAX_TWICE) nn_softmax_forward(out, m->probs, n);
    if (c->arg == OUT_ACTIVATED) {
        nn_act_forward(out, m->logits, n, m->cfg.act);
        if (mc->softmax) nn_softmax_forward(out, out, n);
    }
    return 0;
}

/* In place: W [n, n] -> its transpose. */
static void transpose_square(float *W, size_t n) {
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            float t = W[i * n + j];
            W[i * n + j] = W[j * n + i];
            W[j * n + i] = t;
        }
}

static void alter(nn_mlp *v, int what) {
    for (size_t l = 0; l < v->num_layers; l++) {
        if (what == ALT_NO_BIAS) memset(v->bias[l], 0, v->out_size[l] * sizeof(float));
        if (what == ALT_TRANSPOSED && v->in_size[l] == v->out_size[l]) transpose_square(v->weight[l], v->in_size[l]);
    }
}

/* bias_missing / weights_transposed: a copy of the model, altered, run forward. */
static int forward_fill(void *ctx, const srv_check_cand *c, float *out, srv_err *e) {
    const mlp_check *mc = ctx;
    const nn_mlp *m = &mc->op.m;
    nn_mlp v;
    memset(&v, 0, sizeof v);
    nn_error ne;
    nn_error_clear(&ne);
    size_t floats = srv_budget_add(m->num_params, m->num_acts);
    if (srv_budget_need(srv_budget_mul(floats, sizeof(float)), "weights", e)) return -1;
    if (nn_mlp_create(&v, &m->cfg, &ne) != NN_OK) return srv_fail_nn(e, &ne, NULL);
    memcpy(v.params, m->params, m->num_params * sizeof(float));
    alter(&v, c->arg);
    int rc = nn_mlp_forward(&v, mc->op.x.data, &ne) == NN_OK ? 0 : srv_fail_nn(e, &ne, NULL);
    if (rc == 0) memcpy(out, mc->softmax ? v.probs : v.logits, m->cfg.output_size * sizeof *out);
    nn_mlp_free(&v);
    return rc;
}

static int any_bias(const nn_mlp *m) {
    for (size_t l = 0; l < m->num_layers; l++)
        for (size_t j = 0; j < m->out_size[l]; j++)
            if (m->bias[l][j] != 0.0f) return 1;
    return 0;
}

/* Some layer's weights are square and not symmetric (so transposing them changes something). */
static int any_square(const nn_mlp *m) {
    for (size_t l = 0; l < m->num_layers; l++) {
        size_t n = m->in_size[l];
        if (n != m->out_size[l]) continue;
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                if (m->weight[l][i * n + j] != m->weight[l][j * n + i]) return 1;
    }
    return 0;
}

static void add_output_mistakes(srv_check *chk, const mlp_check *mc, const size_t *y) {
    const nn_mlp_config *cfg = &mc->op.m.cfg;
    if (mc->softmax) {
        srv_check_add(chk, "softmax_missing", output_fill, OUT_LOGITS, 0, y, 1,
                      "Your answer is the logits: apply the softmax to them, exp(z_i) / sum_j exp(z_j).");
        srv_check_add(chk, "softmax_applied_twice", output_fill, OUT_SOFTMAX_TWICE, 0, y, 1,
                      "Your answer is the softmax of the softmax: apply it once, to the logits.");
    } else {
        srv_check_add(chk, "softmax_applied", output_fill, OUT_SOFTMAX, 0, y, 1,
                      "Your answer is the softmax, but the logits (\"softmax\": false) were asked for.");
    }
    if (cfg->act.kind != NN_ACT_IDENTITY)
        srv_check_add(chk, "activation_on_output", output_fill, OUT_ACTIVATED, 0, y, 1,
                      "Your answer applies %s to the output layer too: the last layer has no activation%s.",
                      nn_act_name(cfg->act.kind), mc->softmax ? ", only the softmax" : "");
}

static void add_weight_mistakes(srv_check *chk, const mlp_check *mc, const size_t *y) {
    const nn_mlp *m = &mc->op.m;
    if (any_bias(m))
        srv_check_add(chk, "bias_missing", forward_fill, ALT_NO_BIAS, mc->op.flops, y, 1,
                      "Your answer leaves the biases out: every layer is x . W + b.");
    if (any_square(m))
        srv_check_add(chk, "weights_transposed", forward_fill, ALT_TRANSPOSED, mc->op.flops, y, 1,
                      "Your answer multiplies by the transposed weights (W . h instead of h . W) in the "
                      "square layers: W is [in, out], so a layer is h @ W.");
}

int srv_check_mlp(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e) {
    static const char *const keys[] = {"answer", "tolerance", "softmax", NULL};
    mlp_check mc = {.lim = lim};
    srv_check chk = {0};
    if (srv_mlp_parse(lim, req, keys, &mc.op, e)) return -1;
    int rc = -1;
    nn_error ne;
    nn_error_clear(&ne);
    if (srv_json_bool_opt(req, "softmax", "", 1, &mc.softmax, e)) goto done;
    if (srv_check_begin(lim, req, mc.op.flops, &chk, e)) goto done;
    nn_mlp *m = &mc.op.m;
    size_t y[1] = {m->cfg.output_size};
    add_output_mistakes(&chk, &mc, y);
    add_weight_mistakes(&chk, &mc, y);
    if (srv_check_afford(&chk, lim, "hidden_size", e)) goto done;
    /* the reference is the op's own model; each forward replay copies it */
    size_t copy = srv_budget_mul(srv_budget_add(m->num_params, m->num_acts), sizeof(float));
    for (size_t i = 0; i < chk.ncand; i++)
        if (chk.cand[i].fill == forward_fill) chk.cand[i].scratch = copy;
    if (srv_check_reserve(&chk, lim, 0, y, 1, 0, "hidden_size", e)) goto done;
    if (nn_mlp_forward(m, mc.op.x.data, &ne) != NN_OK) { srv_fail_nn(e, &ne, NULL); goto done; }
    if (srv_check_finite(m->logits, y[0], "input", e)) goto done;
    rc = srv_check_finish(&chk, &mc, mc.softmax ? m->probs : m->logits, y, 1, lim, out, e);
done:
    srv_check_free(&chk);
    srv_mlp_op_free(&mc.op);
    return rc;
}
