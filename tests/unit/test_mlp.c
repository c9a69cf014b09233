/* test_mlp.c — linear layers, softmax and the MLP: PyTorch fixtures (float64 reference) for the
 * logits, the softmax and the backward pass; stable softmax on huge logits and NaN; deterministic
 * seeded init; one-allocation layout; every validation error. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "nn_act.h"
#include "nn_mlp.h"
#include "nn_rng.h"
#include "nn_softmax.h"

/* max |got - want| / max(|want|, 1e-2): relative error, absolute 1e-7 below 0.01 */
#define TOL 1e-5
#define FLOOR 1e-2

static nn_activation act_of(const cJSON *c) {
    nn_activation a;
    nn_error err;
    cr_assert_eq(nn_act_parse(fx_str(c, "activation"), &a, &err), NN_OK);
    a.negative_slope = (float)fx_num(c, "negative_slope");
    return a;
}

/* Build the case's model with its given weights. */
static void build(nn_mlp *m, const cJSON *c, size_t nin) {
    nn_mlp_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.input_size = nin;
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(c, "hidden_sizes"), *h;
    cJSON_ArrayForEach(h, hs) cfg.hidden_sizes[cfg.hidden_layers++] = (size_t)h->valuedouble;
    cfg.output_size = (size_t)fx_num(c, "output_size");
    cfg.act = act_of(c);
    nn_error err;
    cr_assert_eq(nn_mlp_create(m, &cfg, &err), NN_OK, "%s", err.message);
    const cJSON *ws = cJSON_GetObjectItemCaseSensitive(c, "weights"), *w;
    size_t l = 0;
    cJSON_ArrayForEach(w, ws) {
        size_t nw, nb, shw[8], ndw;
        float *W = fx_tensor_f32(w, "weight", shw, &ndw, &nw);
        float *b = fx_tensor_f32(w, "bias", NULL, NULL, &nb);
        cr_assert_eq(shw[0], m->in_size[l]);
        cr_assert_eq(shw[1], m->out_size[l]);
        cr_assert_eq(nn_mlp_set_layer(m, l, W, nw, b, nb, &err), NN_OK, "%s", err.message);
        free(W);
        free(b);
        l++;
    }
    cr_assert_eq(l, m->num_layers);
}

Test(mlp, fixtures_match_pytorch) {
    cJSON *doc = fx_require("mlp.json");
    int count = 0;
    for (const cJSON *c = fx_cases(doc); c; c = c->next) {
        const char *name = fx_str(c, "name");
        size_t nin, nout;
        float *x = fx_tensor_f32(c, "input", NULL, NULL, &nin);
        double *logits = fx_tensor_f64(c, "logits", NULL, NULL, &nout);
        double *probs = fx_tensor_f64(c, "softmax", NULL, NULL, NULL);
        nn_mlp m;
        build(&m, c, nin);
        nn_error err;
        cr_assert_eq(nn_mlp_forward(&m, x, &err), NN_OK);
        double e = fx_max_rel_err_f32(m.logits, logits, nout, FLOOR);
        cr_assert_leq(e, TOL, "%s: logits error %g", name, e);
        e = fx_max_rel_err_f32(m.probs, probs, nout, 1e-6);
        cr_assert_leq(e, TOL, "%s: softmax error %g", name, e);
        double sum = 0;
        for (size_t i = 0; i < nout; i++) sum += m.probs[i];
        cr_assert_float_eq(sum, 1.0, 1e-5, "%s", name);

        /* backward: grads ADDED into a zeroed block, dx likewise */
        float *dl = fx_tensor_f32(c, "grad_logits", NULL, NULL, NULL);
        double *dx_want = fx_tensor_f64(c, "grad_input", NULL, NULL, NULL);
        float *grads = calloc(m.num_params, sizeof *grads), *dx = calloc(nin, sizeof *dx);
        size_t width = 0;
        for (size_t l = 0; l < m.num_layers; l++) width = m.out_size[l] > width ? m.out_size[l] : width;
        float *scratch = malloc(2 * width * sizeof *scratch);
        cr_assert_eq(nn_mlp_backward(&m, grads, dx, dl, x, scratch, &err), NN_OK);
        e = fx_max_rel_err_f32(dx, dx_want, nin, FLOOR);
        cr_assert_leq(e, TOL, "%s: dx error %g", name, e);
        const cJSON *gw = cJSON_GetObjectItemCaseSensitive(c, "grad_weights"), *g;
        size_t l = 0;
        cJSON_ArrayForEach(g, gw) {
            size_t nw, nb;
            double *gW = fx_tensor_f64(g, "weight", NULL, NULL, &nw), *gb = fx_tensor_f64(g, "bias", NULL, NULL, &nb);
            e = fx_max_rel_err_f32(grads + (m.weight[l] - m.params), gW, nw, FLOOR);
            cr_assert_leq(e, TOL, "%s: dW[%zu] error %g", name, l, e);
            e = fx_max_rel_err_f32(grads + (m.bias[l] - m.params), gb, nb, FLOOR);
            cr_assert_leq(e, TOL, "%s: db[%zu] error %g", name, l, e);
            free(gW);
            free(gb);
            l++;
        }
        free(dl); free(dx_want); free(grads); free(dx); free(scratch);
        nn_mlp_free(&m);
        free(x); free(logits); free(probs);
        count++;
    }
    cr_assert_geq(count, 8);
    cJSON_Delete(doc);
}

Test(mlp, backward_adds_into_gradients) {
    float W[2 * 3] = {1, 2, 3, 4, 5, 6}, x[2] = {0.5f, -1.0f}, dy[3] = {1, 0, -1};
    float dx[2] = {10, 20}, dW[6] = {1, 1, 1, 1, 1, 1}, db[3] = {7, 7, 7};
    nn_linear_backward(dx, dW, db, dy, x, W, 2, 3);
    cr_assert_float_eq(dx[0], 10 + (1 - 3), 1e-6);
    cr_assert_float_eq(dx[1], 20 + (4 - 6), 1e-6);
    cr_assert_float_eq(dW[0], 1 + 0.5f, 1e-6);
    cr_assert_float_eq(dW[2], 1 - 0.5f, 1e-6);
    cr_assert_float_eq(dW[3], 1 - 1.0f, 1e-6);
    cr_assert_float_eq(dW[5], 1 + 1.0f, 1e-6);
    cr_assert_float_eq(db[0], 8, 1e-6);
    cr_assert_float_eq(db[2], 6, 1e-6);
    float y[3];
    float b[3] = {0.25f, 0, -1};
    nn_linear_forward(y, x, W, b, 2, 3);
    cr_assert_float_eq(y[0], 0.25f + 0.5f - 4, 1e-6);
    cr_assert_float_eq(y[2], -1 + 1.5f - 6, 1e-6);
    nn_linear_forward(y, x, W, NULL, 2, 3);
    cr_assert_float_eq(y[1], 1 - 5, 1e-6);
}

Test(softmax, stable_for_huge_logits) {
    float x[4] = {1000.0f, 1001.0f, 1002.0f, -1e30f}, p[4];
    nn_softmax_forward(p, x, 4);
    double e0 = exp(-2.0), e1 = exp(-1.0), s = e0 + e1 + 1.0;
    cr_assert_float_eq(p[0], e0 / s, 1e-7);
    cr_assert_float_eq(p[1], e1 / s, 1e-7);
    cr_assert_float_eq(p[2], 1.0 / s, 1e-7);
    cr_assert_eq(p[3], 0.0f);
    /* in place */
    float y[3] = {-5e4f, -5e4f, -5e4f};
    nn_softmax_forward(y, y, 3);
    for (int i = 0; i < 3; i++) cr_assert_float_eq(y[i], 1.0f / 3, 1e-7);
    /* one element */
    float one = 123.0f;
    nn_softmax_forward(&one, &one, 1);
    cr_assert_eq(one, 1.0f);
}

Test(softmax, nan_and_inf_like_pytorch) {
    float x[3] = {1.0f, NAN, 2.0f}, p[3];
    nn_softmax_forward(p, x, 3);
    for (int i = 0; i < 3; i++) cr_assert(isnan(p[i]), "NaN must spread like torch.softmax");
    float y[3] = {1.0f, INFINITY, 2.0f};
    nn_softmax_forward(p, y, 3);
    for (int i = 0; i < 3; i++) cr_assert(isnan(p[i]), "+inf gives NaN like torch.softmax");
    float z[3] = {1.0f, -INFINITY, 2.0f};
    nn_softmax_forward(p, z, 3);
    cr_assert_eq(p[1], 0.0f);
    cr_assert_float_eq(p[0] + p[2], 1.0f, 1e-7);
}

Test(softmax, backward_matches_finite_differences) {
    float x[5] = {0.3f, -1.2f, 2.0f, 0.0f, 0.7f}, p[5], dp[5] = {0.5f, -1.0f, 0.25f, 2.0f, 0.0f};
    nn_softmax_forward(p, x, 5);
    float dx[5] = {0};
    nn_softmax_backward(dx, dp, p, 5);
    for (int i = 0; i < 5; i++) {
        double h = 1e-3, f[2];
        for (int s = 0; s < 2; s++) {
            float xs[5], ps[5];
            memcpy(xs, x, sizeof xs);
            xs[i] += (float)(s ? -h : h);
            nn_softmax_forward(ps, xs, 5);
            f[s] = 0;
            for (int j = 0; j < 5; j++) f[s] += (double)dp[j] * ps[j];
        }
        cr_assert_float_eq(dx[i], (f[0] - f[1]) / (2 * h), 2e-4, "dx[%d]", i);
    }
}

Test(mlp, seeded_init_is_deterministic_and_documented) {
    nn_mlp_config cfg;
    nn_activation tanh_act = {NN_ACT_TANH, 0.01f};
    nn_mlp_config_uniform(&cfg, 32, 2, 20, 10, tanh_act);
    nn_mlp a, b, c;
    nn_error err;
    cr_assert_eq(nn_mlp_create(&a, &cfg, &err), NN_OK);
    cr_assert_eq(nn_mlp_create(&b, &cfg, &err), NN_OK);
    cr_assert_eq(nn_mlp_create(&c, &cfg, &err), NN_OK);
    cr_assert_eq(nn_mlp_init_params(&a, 7, NN_INIT_XAVIER, &err), NN_OK);
    cr_assert_eq(nn_mlp_init_params(&b, 7, NN_INIT_XAVIER, &err), NN_OK);
    cr_assert_eq(nn_mlp_init_params(&c, 8, NN_INIT_XAVIER, &err), NN_OK);
    cr_assert_eq(a.num_params, 32 * 20 + 20 + 20 * 20 + 20 + 20 * 10 + 10);
    cr_assert_eq(memcmp(a.params, b.params, a.num_params * sizeof(float)), 0);
    cr_assert_neq(memcmp(a.params, c.params, a.num_params * sizeof(float)), 0);
    /* The documented draw order: W_0 with xavier, then b_0 with U(-1/sqrt(in), 1/sqrt(in)), ... */
    nn_rng r;
    nn_rng_seed(&r, 7);
    double xa = sqrt(6.0 / (32 + 20));
    for (size_t i = 0; i < 32 * 20; i++) cr_assert_eq(a.weight[0][i], (float)((2.0 * nn_rng_uniform(&r) - 1.0) * xa));
    for (size_t i = 0; i < 20; i++)
        cr_assert_eq(a.bias[0][i], (float)((2.0 * nn_rng_uniform(&r) - 1.0) * (1.0 / sqrt(32.0))));
    cr_assert_eq(a.weight[1], a.bias[0] + 20, "parameters are one block, W then b per layer");
    cr_assert_eq(a.weight[2], a.bias[1] + 20);
    cr_assert_eq(a.acts, a.params + a.num_params, "params and activations share one allocation");
    /* forward never fails and gives a probability vector */
    float x[32];
    for (int i = 0; i < 32; i++) x[i] = (float)i / 32;
    cr_assert_eq(nn_mlp_forward(&a, x, &err), NN_OK);
    for (size_t j = 0; j < 20; j++) cr_assert(fabsf(a.out[0][j]) <= 1.0f, "tanh hidden output");
    double s = 0;
    for (size_t j = 0; j < 10; j++) s += a.probs[j];
    cr_assert_float_eq(s, 1.0, 1e-6);
    nn_mlp_free(&a);
    nn_mlp_free(&b);
    nn_mlp_free(&c);
    nn_mlp_free(&c); /* freeing twice is harmless: free zeroes the struct */
}

Test(mlp, bind_uses_caller_memory) {
    nn_mlp_config cfg;
    nn_activation relu = {NN_ACT_RELU, 0.01f};
    nn_mlp_config_uniform(&cfg, 3, 1, 4, 2, relu);
    size_t np, na;
    nn_error err;
    cr_assert_eq(nn_mlp_sizes(&cfg, &np, &na, &err), NN_OK);
    cr_assert_eq(np, 3 * 4 + 4 + 4 * 2 + 2);
    cr_assert_eq(na, 2 * 4 + 2 * 2);
    float *params = calloc(np, sizeof(float)), *acts = calloc(na, sizeof(float));
    nn_mlp m;
    cr_assert_eq(nn_mlp_bind(&m, &cfg, params, acts, &err), NN_OK);
    cr_assert_eq(m.memory, NULL);
    cr_assert_eq(m.weight[0], params);
    cr_assert_eq(m.probs, acts + na - 2);
    cr_assert_float_eq(nn_mlp_flops(&cfg), 2.0 * (3 * 4 + 4 * 2), 1e-9);
    float W0[12] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, -1}, b0[4] = {0, 0, 0, 0.5f};
    float W1[8] = {1, 0, 0, 1, 0, 1, 1, 1}; /* [4, 2]: rows [1 0] [0 1] [0 1] [1 1] */
    cr_assert_eq(nn_mlp_set_layer(&m, 0, W0, 12, b0, 4, &err), NN_OK);
    cr_assert_eq(nn_mlp_set_layer(&m, 1, W1, 8, NULL, 0, &err), NN_OK);
    float x[3] = {2, -3, 1};
    cr_assert_eq(nn_mlp_forward(&m, x, &err), NN_OK);
    /* h = relu(x·W0 + b0) = relu([2, -3, 1, -0.5]) = [2, 0, 1, 0] */
    cr_assert_float_eq(m.out[0][0], 2.0f, 1e-6);
    cr_assert_float_eq(m.out[0][1], 0.0f, 1e-6);
    cr_assert_float_eq(m.pre[0][1], -3.0f, 1e-6);
    cr_assert_float_eq(m.out[0][3], 0.0f, 1e-6);
    cr_assert_float_eq(m.logits[0], 2.0f, 1e-6); /* 2*1 + 0*0 + 1*0 + 0*1 */
    cr_assert_float_eq(m.logits[1], 1.0f, 1e-6); /* 2*0 + 0*1 + 1*1 + 0*1 */
    nn_mlp_free(&m);                             /* does not free caller memory */
    params[0] = 1;
    free(params);
    free(acts);
}

static void expect_error(nn_code got, nn_code want, const nn_error *err, const char *field) {
    cr_assert_eq(got, want, "expected %s, got %s (%s)", nn_code_name(want), nn_code_name(got), err->message);
    cr_assert_str_eq(err->field, field);
    cr_assert_gt(strlen(err->message), 5);
}

Test(mlp, validation_errors) {
    nn_error err;
    nn_mlp_config cfg;
    nn_activation tanh_act = {NN_ACT_TANH, 0.01f};
    nn_mlp m;
    nn_mlp_config_uniform(&cfg, 0, 1, 4, 2, tanh_act);
    expect_error(nn_mlp_create(&m, &cfg, &err), NN_INVALID, &err, "input");
    nn_mlp_free(&m);
    nn_mlp_config_uniform(&cfg, 3, NN_MLP_MAX_HIDDEN + 1, 4, 2, tanh_act);
    expect_error(nn_mlp_validate(&cfg, &err), NN_INVALID, &err, "hidden_layers");
    nn_mlp_config_uniform(&cfg, 3, 3, 4, 2, tanh_act);
    cfg.hidden_sizes[2] = 0;
    expect_error(nn_mlp_validate(&cfg, &err), NN_INVALID, &err, "hidden_size");
    cr_assert(strstr(err.message, "hidden_size[2]"), "%s", err.message);
    nn_mlp_config_uniform(&cfg, 3, 1, 4, 0, tanh_act);
    expect_error(nn_mlp_validate(&cfg, &err), NN_INVALID, &err, "output_size");
    nn_mlp_config_uniform(&cfg, 3, 1, NN_MLP_MAX_WIDTH + 1, 2, tanh_act);
    expect_error(nn_mlp_validate(&cfg, &err), NN_TOO_LARGE, &err, "hidden_size");
    nn_mlp_config_uniform(&cfg, NN_MLP_MAX_WIDTH + 1, 0, 1, 2, tanh_act);
    expect_error(nn_mlp_validate(&cfg, &err), NN_TOO_LARGE, &err, "input");
    nn_mlp_config_uniform(&cfg, 3, 1, 4, NN_MLP_MAX_WIDTH + 1, tanh_act);
    expect_error(nn_mlp_validate(&cfg, &err), NN_TOO_LARGE, &err, "output_size");
    nn_mlp_config_uniform(&cfg, 3, 1, 4, 2, tanh_act);
    cfg.act.kind = (nn_act_kind)42;
    expect_error(nn_mlp_validate(&cfg, &err), NN_INVALID, &err, "activation");
    expect_error(nn_mlp_validate(NULL, &err), NN_INVALID, &err, "input");
    /* given weights of the wrong shape name the layer */
    nn_mlp_config_uniform(&cfg, 3, 1, 4, 2, tanh_act);
    cr_assert_eq(nn_mlp_create(&m, &cfg, &err), NN_OK);
    float buf[64] = {0};
    expect_error(nn_mlp_set_layer(&m, 0, buf, 11, NULL, 0, &err), NN_INVALID, &err, "weights[0].weight");
    cr_assert(strstr(err.message, "[3, 4]"), "%s", err.message);
    expect_error(nn_mlp_set_layer(&m, 1, buf, 8, buf, 3, &err), NN_INVALID, &err, "weights[1].bias");
    expect_error(nn_mlp_set_layer(&m, 1, NULL, 8, NULL, 0, &err), NN_INVALID, &err, "weights[1].weight");
    expect_error(nn_mlp_set_layer(&m, 2, buf, 8, NULL, 0, &err), NN_INVALID, &err, "weights");
    expect_error(nn_mlp_forward(&m, NULL, &err), NN_INVALID, &err, "input");
    expect_error(nn_mlp_backward(&m, NULL, NULL, buf, buf, buf, &err), NN_INVALID, &err, "grads");
    expect_error(nn_mlp_backward(&m, buf, NULL, buf, buf, NULL, &err), NN_INVALID, &err, "scratch");
    nn_mlp_free(&m);
    expect_error(nn_mlp_forward(&m, buf, &err), NN_INVALID, &err, "input"); /* freed model */
    cr_assert_str_eq(nn_mlp_field("weight", 3), "weights[3].weight");
    cr_assert_str_eq(nn_mlp_field("bias", 0), "weights[0].bias");
    cr_assert_str_eq(nn_mlp_field("bias", 1000), "weights");
}
