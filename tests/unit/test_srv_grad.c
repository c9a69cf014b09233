/* test_srv_grad.c — "grad_output" on /conv, /pool, /mlp and "target" on /mlp through
 * srv_handle_json (no socket): every gradient against PyTorch autograd (float64,
 * tests/fixtures/srv_grad.json from tests/reference/gen_srv_grad.py), finite differences of the
 * endpoints' own forward, .npy in and out, bad gradients and targets (400 naming the field), and
 * the backward's work and memory counted before it runs (413). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "npy_test.h"
#include "srv_api.h"
#include "srv_budget.h"
#include "srv_buf.h"

#define TOL 1e-5 /* max |got - want| / max(|want|, 1), float32 against float64 autograd */

/* ---- helpers --------------------------------------------------------------------------- */

static srv_response call_lim(const srv_limits *lim, const char *ep, const char *body) {
    srv_response r;
    srv_handle_json(lim, ep, "application/json", body, strlen(body), NULL, &r);
    return r;
}

static srv_response call(const char *ep, const char *body) {
    srv_limits lim;
    srv_limits_default(&lim);
    return call_lim(&lim, ep, body);
}

/* 200 and the parsed body (caller deletes). */
static cJSON *call_ok(const char *ep, const cJSON *req) {
    char *body = cJSON_PrintUnformatted(req);
    srv_response r = call(ep, body);
    cr_assert_eq(r.status, 200, "%s: status %d: %.400s", ep, r.status, r.body);
    cJSON *j = cJSON_Parse(r.body);
    cr_assert_not_null(j);
    srv_response_free(&r);
    free(body);
    return j;
}

static void expect_err_lim(const srv_limits *lim, const char *ep, const char *body, int status,
                           const char *field) {
    srv_response r = call_lim(lim, ep, body);
    cr_assert_eq(r.status, status, "%s %.300s: want %d got %d: %.300s", ep, body, status, r.status, r.body);
    cJSON *j = cJSON_Parse(r.body);
    cr_assert_not_null(j);
    const cJSON *f = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "field");
    cr_assert(cJSON_IsString(f), "no field: %s", r.body);
    cr_assert_str_eq(f->valuestring, field, "%.300s: %s", body, r.body);
    cJSON_Delete(j);
    srv_response_free(&r);
}

static void expect_err(const char *ep, const char *body, int status, const char *field) {
    srv_limits lim;
    srv_limits_default(&lim);
    expect_err_lim(&lim, ep, body, status, field);
}

/* got (a response member) holds want's values (a fixture tensor) within TOL, shape included. */
static void close_to(const char *name, const char *key, const cJSON *got, const cJSON *want) {
    cr_assert_not_null(got, "%s: no %s in the response", name, key);
    if (cJSON_IsObject(got)) {
        char *a = cJSON_PrintUnformatted(cJSON_GetObjectItem(got, "shape"));
        char *b = cJSON_PrintUnformatted(cJSON_GetObjectItem(want, "shape"));
        cr_assert_str_eq(a, b, "%s: %s shape", name, key);
        free(a);
        free(b);
    }
    size_t n, m;
    double *g = tnpy_values(got, &n), *w = tnpy_values(want, &m);
    cr_assert_eq(n, m, "%s: %s has %zu values, want %zu", name, key, n, m);
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double err = fabs(g[i] - w[i]) / fmax(fabs(w[i]), 1.0);
        if (!(err <= worst)) worst = err;
    }
    cr_assert(worst <= TOL, "%s: %s off by %.3g (tolerance %g)", name, key, worst, TOL);
    free(g);
    free(w);
}

/* Every case of srv_grad.json for `endpoint`, each sent and checked with check(). */
static int each_case(const char *endpoint, void (*check)(const cJSON *c, const cJSON *res)) {
    cJSON *fx = fx_load("srv_grad.json");
    cr_assert_not_null(fx);
    int cases = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fx, "cases")) {
        if (strcmp(fx_str(c, "endpoint"), endpoint) != 0) continue;
        cJSON *res = call_ok(endpoint, cJSON_GetObjectItem(c, "request"));
        check(c, res);
        cJSON_Delete(res);
        cases++;
    }
    cJSON_Delete(fx);
    return cases;
}

/* The first case of `endpoint` whose name contains `part` (a copy: caller deletes). */
static cJSON *fixture_case(const char *endpoint, const char *part) {
    cJSON *fx = fx_load("srv_grad.json");
    const cJSON *c;
    cJSON *out = NULL;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fx, "cases"))
        if (!out && !strcmp(fx_str(c, "endpoint"), endpoint) && strstr(fx_str(c, "name"), part))
            out = cJSON_Duplicate(c, 1);
    cJSON_Delete(fx);
    cr_assert_not_null(out, "no %s case named *%s*", endpoint, part);
    return out;
}

/* ---- against PyTorch autograd ------------------------------------------------------------ */

/* close_to for each of keys (NULL-terminated): the response's member against the case's. */
static void close_keys(const cJSON *c, const cJSON *res, const char *const *keys) {
    for (; *keys; keys++)
        close_to(fx_str(c, "name"), *keys, cJSON_GetObjectItem(res, *keys), cJSON_GetObjectItem(c, *keys));
}

static void check_conv(const cJSON *c, const cJSON *res) {
    close_keys(c, res, (const char *const[]){"output", "grad_input", "grad_kernels", "grad_bias", NULL});
}

Test(srv_grad, conv_matches_pytorch_autograd) {
    cr_assert_geq(each_case("conv", check_conv), 9);
}

static void check_pool(const cJSON *c, const cJSON *res) {
    close_keys(c, res, (const char *const[]){"output", "grad_input", NULL});
}

Test(srv_grad, pool_matches_pytorch_autograd_ties_included) {
    cr_assert_geq(each_case("pool", check_pool), 10);
}

static void check_mlp(const cJSON *c, const cJSON *res) {
    const char *name = fx_str(c, "name");
    close_keys(c, res, (const char *const[]){"logits", "grad_input", NULL});
    const cJSON *loss = cJSON_GetObjectItem(c, "loss"), *got_loss = cJSON_GetObjectItem(res, "loss");
    if (loss) {
        cr_assert(cJSON_IsNumber(got_loss), "%s: no loss", name);
        cr_assert(fabs(got_loss->valuedouble - loss->valuedouble) <= TOL * fmax(1.0, fabs(loss->valuedouble)),
                  "%s: loss %.9g want %.9g", name, got_loss->valuedouble, loss->valuedouble);
    } else {
        cr_assert_null(got_loss, "%s: a loss without a target", name);
    }
    const cJSON *gw = cJSON_GetObjectItem(res, "grad_weights"), *ww = cJSON_GetObjectItem(c, "grad_weights");
    cr_assert_eq(cJSON_GetArraySize(gw), cJSON_GetArraySize(ww), "%s: grad_weights layers", name);
    for (int l = 0; l < cJSON_GetArraySize(ww); l++) {
        const cJSON *g = cJSON_GetArrayItem(gw, l), *w = cJSON_GetArrayItem(ww, l);
        close_to(name, "grad_weights.weight", cJSON_GetObjectItem(g, "weight"), cJSON_GetObjectItem(w, "weight"));
        close_to(name, "grad_weights.bias", cJSON_GetObjectItem(g, "bias"), cJSON_GetObjectItem(w, "bias"));
    }
}

Test(srv_grad, mlp_matches_pytorch_autograd_for_grad_output_and_target) {
    cr_assert_geq(each_case("mlp", check_mlp), 6);
}

/* ---- finite differences of the endpoints' own forward ----------------------------------- */

/* L = sum(grad_output * output) of the case's request with element i of `key` set to v, the
 * forward only (/mlp with a target: its loss). */
static double loss_at(const cJSON *c, const char *key, int i, double v) {
    const char *ep = fx_str(c, "endpoint");
    cJSON *req = cJSON_Duplicate(cJSON_GetObjectItem(c, "request"), 1);
    cJSON *t = cJSON_GetObjectItem(req, key);
    cJSON *data = cJSON_IsArray(t) ? t : cJSON_GetObjectItem(t, "data");
    cJSON_SetNumberValue(cJSON_GetArrayItem(data, i), v);
    cJSON *dy = cJSON_DetachItemFromObject(req, "grad_output");
    cJSON *res = call_ok(ep, req);
    double L;
    if (!dy) {
        L = cJSON_GetObjectItem(res, "loss")->valuedouble;
    } else {
        size_t n, m;
        double *y = tnpy_values(cJSON_GetObjectItem(res, strcmp(ep, "mlp") ? "output" : "logits"), &n);
        double *g = tnpy_values(dy, &m);
        cr_assert_eq(n, m);
        L = 0.0;
        for (size_t k = 0; k < n; k++) L += y[k] * g[k];
        free(y);
        free(g);
    }
    cJSON_Delete(dy);
    cJSON_Delete(res);
    cJSON_Delete(req);
    return L;
}

/* The central difference of the loss in element i of `key` against the endpoint's gradient
 * `gkey` (i < 0: the first element whose gradient is above 0.01). Steps are float32 values, so
 * h is what the server really sees. */
static void spot_check(const char *ep, const char *part, const char *key, const char *gkey, int i, double h) {
    cJSON *c = fixture_case(ep, part);
    cJSON *res = call_ok(ep, cJSON_GetObjectItem(c, "request"));
    size_t n;
    double *gv = tnpy_values(cJSON_GetObjectItem(res, gkey), &n);
    for (size_t k = 0; i < 0 && k < n; k++)
        if (fabs(gv[k]) > 1e-2) i = (int)k;
    cr_assert(i >= 0 && (size_t)i < n && fabs(gv[i]) > 1e-3, "%s %s[%d]: pick an element with a gradient",
              fx_str(c, "name"), key, i);
    const cJSON *t = cJSON_GetObjectItem(cJSON_GetObjectItem(c, "request"), key);
    const cJSON *data = cJSON_IsArray(t) ? t : cJSON_GetObjectItem(t, "data");
    double x = cJSON_GetArrayItem(data, i)->valuedouble;
    float up = (float)(x + h), down = (float)(x - h);
    double fd = (loss_at(c, key, i, up) - loss_at(c, key, i, down)) / ((double)up - (double)down);
    cr_assert(fabs(fd - gv[i]) <= 2e-3 * fmax(1.0, fabs(gv[i])), "%s %s[%d]: finite difference %.6g, gradient %.6g",
              fx_str(c, "name"), key, i, fd, gv[i]);
    free(gv);
    cJSON_Delete(res);
    cJSON_Delete(c);
}

Test(srv_grad, conv_gradients_match_finite_differences) {
    spot_check("conv", "sigmoid", "input", "grad_input", 17, 1e-2);
    spot_check("conv", "sigmoid", "kernels", "grad_kernels", 5, 1e-2);
    spot_check("conv", "sigmoid", "bias", "grad_bias", 1, 1e-2);
    spot_check("conv", "s2x2_p1x1_relu", "input", "grad_input", 40, 1e-3);
    spot_check("conv", "tanh", "kernels", "grad_kernels", 11, 1e-2);
    spot_check("conv", "leaky_relu_-0.5", "input", "grad_input", 20, 1e-3);
}

Test(srv_grad, pool_and_mlp_gradients_match_finite_differences) {
    spot_check("pool", "average_7x7x2_3x3", "input", "grad_input", 16, 1e-2);
    spot_check("pool", "average_5x6x3_global", "input", "grad_input", 4, 1e-2);
    spot_check("pool", "max_7x9x4_3x2", "input", "grad_input", -1, 1e-4);
    spot_check("mlp", "relu_target2", "input", "grad_input", 3, 1e-2);
    spot_check("mlp", "sigmoid_grad_output", "input", "grad_input", 7, 1e-2);
}

/* ---- .npy in and out ------------------------------------------------------------------------ */

/* The .npy answer's tensor equals the JSON answer's, bit for bit. */
static void same_bits(const cJSON *json, const cJSON *npy, const char *what) {
    size_t n, m, shape[8], nd;
    double *a = tnpy_values(json, &n);
    double *b = tnpy_read(npy, shape, &nd, &m, "float32");
    cr_assert_eq(n, m, "%s: %zu vs %zu values", what, n, m);
    for (size_t i = 0; i < n; i++)
        cr_assert((double)(float)a[i] == b[i], "%s[%zu]: json %.9g npy %.9g", what, i, a[i], b[i]);
    free(a);
    free(b);
}

/* The case sent as JSON and again with its tensors `npy_keys` as .npy and "output_format":
 * "npy": the gradient members `grad_keys` agree. */
static void npy_round_trip(const char *ep, const char *part, const char *const *npy_keys,
                           const char *const *grad_keys) {
    cJSON *c = fixture_case(ep, part);
    cJSON *req = cJSON_GetObjectItem(c, "request");
    cJSON *json = call_ok(ep, req);
    for (size_t i = 0; npy_keys[i]; i++) tnpy_replace_f32(req, npy_keys[i]);
    cJSON_AddStringToObject(req, "output_format", "npy");
    cJSON *npy = call_ok(ep, req);
    for (size_t i = 0; grad_keys[i]; i++)
        same_bits(cJSON_GetObjectItem(json, grad_keys[i]), cJSON_GetObjectItem(npy, grad_keys[i]), grad_keys[i]);
    cJSON_Delete(json);
    cJSON_Delete(npy);
    cJSON_Delete(c);
}

Test(srv_grad, npy_grad_output_and_npy_answers) {
    npy_round_trip("conv", "relu", (const char *const[]){"input", "kernels", "grad_output", NULL},
                   (const char *const[]){"grad_input", "grad_kernels", "grad_bias", NULL});
    npy_round_trip("pool", "max_6x6x3", (const char *const[]){"input", "grad_output", NULL},
                   (const char *const[]){"grad_input", NULL});
    npy_round_trip("pool", "global", (const char *const[]){"grad_output", NULL},
                   (const char *const[]){"grad_input", NULL});
    npy_round_trip("mlp", "tanh_grad_output", (const char *const[]){"input", "grad_output", NULL},
                   (const char *const[]){"grad_input", NULL});
    /* grad_weights' members as .npy too */
    cJSON *c = fixture_case("mlp", "2x3_7_4_leaky_relu_target3");
    cJSON *req = cJSON_GetObjectItem(c, "request");
    cJSON *json = call_ok("mlp", req);
    cJSON_AddStringToObject(req, "output_format", "npy");
    cJSON *npy = call_ok("mlp", req);
    for (int l = 0; l < 2; l++) {
        const cJSON *a = cJSON_GetArrayItem(cJSON_GetObjectItem(json, "grad_weights"), l);
        const cJSON *b = cJSON_GetArrayItem(cJSON_GetObjectItem(npy, "grad_weights"), l);
        same_bits(cJSON_GetObjectItem(a, "weight"), cJSON_GetObjectItem(b, "weight"), "grad_weights.weight");
        same_bits(cJSON_GetObjectItem(a, "bias"), cJSON_GetObjectItem(b, "bias"), "grad_weights.bias");
    }
    same_bits(cJSON_GetObjectItem(json, "grad_input"), cJSON_GetObjectItem(npy, "grad_input"), "grad_input");
    cr_assert_eq(cJSON_GetObjectItem(json, "loss")->valuedouble, cJSON_GetObjectItem(npy, "loss")->valuedouble);
    cJSON_Delete(json);
    cJSON_Delete(npy);
    cJSON_Delete(c);
}

/* ---- bad gradients and targets ------------------------------------------------------------ */

#define CONV3 "\"input\": [[[1],[2],[3]],[[4],[5],[6]],[[7],[8],[9]]], \"kernel\": [[1,0],[0,1]]"
#define INPUT3 "\"input\": [[[1],[2],[3]],[[4],[5],[6]],[[7],[8],[9]]]"
#define POOL4 "\"input\": {\"shape\": [4, 4, 1], \"data\": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}"
#define MLP3 "\"input\": [1, 2, 3], \"hidden_size\": 4, \"output_size\": 3"

Test(srv_grad, bad_gradients_and_targets_are_400_naming_the_field) {
    static const struct { const char *ep, *body, *field; } cases[] = {
        {"conv", "{" CONV3 ", \"grad_output\": [[1, 2], [3, 4]]}", "grad_output"},
        {"conv", "{" CONV3 ", \"grad_output\": [[[1], [2]], [[3], [4]], [[5], [6]]]}", "grad_output"},
        {"conv", "{" CONV3 ", \"grad_output\": \"x\"}", "grad_output"},
        {"conv", "{" CONV3 ", \"grad_output\": [[[1], [2]], [[3], [\"a\"]]]}", "grad_output"},
        {"conv", "{" CONV3 ", \"grad_output\": [[[1], [2]], [[3], [1e39]]]}", "grad_output"},
        {"conv", "{" CONV3 ", \"grad_output\": {\"npy\": \"!!\"}}", "grad_output.npy"},
        {"conv", "{" CONV3 ", \"target\": 1}", "target"},
        {"pool", "{" POOL4 ", \"grad_output\": [1, 2, 3, 4]}", "grad_output"},
        {"pool", "{" POOL4 ", \"size\": \"global\", \"grad_output\": [1, 2]}", "grad_output"},
        {"pool", "{" POOL4 ", \"grad_output\": [[[1], [2]], [[3], [4]]], \"target\": 0}", "target"},
        {"mlp", "{" MLP3 ", \"target\": 3}", "target"},
        {"mlp", "{" MLP3 ", \"target\": -1}", "target"},
        {"mlp", "{" MLP3 ", \"target\": 1.5}", "target"},
        {"mlp", "{" MLP3 ", \"target\": \"1\"}", "target"},
        {"mlp", "{" MLP3 ", \"target\": [1]}", "target"},
        {"mlp", "{" MLP3 ", \"target\": 1, \"grad_output\": [1, 2, 3]}", "target"},
        {"mlp", "{" MLP3 ", \"grad_output\": [1, 2]}", "grad_output"},
        {"mlp", "{" MLP3 ", \"grad_output\": [[1, 2, 3]]}", "grad_output"},
        {"mlp", "{" MLP3 ", \"grad_output\": [1, 2, null]}", "grad_output"},
        {"check/conv", "{" CONV3 ", \"answer\": [[[0], [0]], [[0], [0]]], \"grad_output\": [[[1], [2]], [[3], [4]]]}", "grad_output"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) expect_err(cases[i].ep, cases[i].body, 400, cases[i].field);
}

/* The gradient of a loss overflowing float32 is reported, not returned as inf. */
Test(srv_grad, overflowing_gradient_is_400_naming_grad_output) {
    expect_err("conv", "{" INPUT3 ", \"grad_output\": [[[3e38], [3e38]], [[3e38], [3e38]]], \"kernel\": [[2,2],[2,2]]}", 400,
               "grad_output");
    expect_err("mlp", "{" MLP3 ", \"weights\": [{\"weight\": [[1e10,1e10,1e10,1e10],[0,0,0,0],[0,0,0,0]]}, "
               "{\"weight\": [[1e10,1e10,1e10],[1,1,1],[1,1,1],[1,1,1]]}], \"activation\": \"identity\", "
               "\"grad_output\": [1e30, 1e30, 1e30]}", 400, "grad_output");
}

/* ---- work and memory, counted before the backward runs ------------------------------------ */

/* A limit the forward just fits (its flops and the scratch it fills, found in steps of 10 %)
 * but not forward + backward: 413 naming the gradient's field with it, 200 without it. */
static void work_limit(const char *ep, const char *forward, const char *grad, const char *field) {
    char *body = malloc(strlen(forward) + strlen(grad) + 8);
    sprintf(body, "{%s}", forward);
    srv_response r = call(ep, body);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cJSON *j = cJSON_Parse(r.body);
    srv_limits lim;
    srv_limits_default(&lim);
    const cJSON *flops = cJSON_GetObjectItem(j, "flops"); /* /pool reports none */
    lim.max_work_flops = flops ? flops->valuedouble : 1.0;
    cJSON_Delete(j);
    srv_response_free(&r);
    for (r = call_lim(&lim, ep, body); r.status == 413; r = call_lim(&lim, ep, body)) {
        srv_response_free(&r);
        lim.max_work_flops *= 1.1;
    }
    cr_assert_eq(r.status, 200, "the forward alone fits: %s", r.body);
    srv_response_free(&r);
    sprintf(body, "{%s, %s}", forward, grad);
    expect_err_lim(&lim, ep, body, 413, field);
    free(body);
}

Test(srv_grad, backward_work_counts_against_the_work_limit) {
    work_limit("conv", CONV3, "\"grad_output\": [[[1], [2]], [[3], [4]]]", "grad_output");
    work_limit("pool", POOL4, "\"grad_output\": [[[1], [2]], [[3], [4]]]", "grad_output");
    work_limit("mlp", MLP3, "\"grad_output\": [1, 2, 3]", "grad_output");
    work_limit("mlp", MLP3, "\"target\": 1", "target");
}

/* A pooling's backward finds every maximum again with loops far slower than the forward's
 * kernels (nn_pool_batch_scan_work): issue 13's /pool (1x1 resized to 1024^2, window 512,
 * stride 1) is allowed forward (its separable kernel, 4e9 flops) but its backward would scan
 * 6.9e10 window elements (minutes): 413 naming grad_output, at once. */
Test(srv_grad, a_poolings_backward_is_counted_by_its_own_loops, .timeout = 30) {
    const char *forward = "\"input\": [[[1]]], \"resize\": [1024, 1024], \"size\": 512, \"stride\": 1";
    size_t n = 513 * 513;
    char *body = malloc(2 * n + 256), *p = body;
    p += sprintf(p, "{%s, \"grad_output\": {\"shape\": [513, 513, 1], \"data\": [", forward);
    for (size_t i = 0; i < n; i++) p += sprintf(p, i ? ",1" : "1");
    sprintf(p, "]}}");
    srv_limits lim;
    srv_limits_default(&lim);
    expect_err_lim(&lim, "pool", body, 413, "grad_output");
    sprintf(body, "{%s}", forward);
    srv_response r = call_lim(&lim, "pool", body);
    cr_assert_eq(r.status, 200, "the forward alone fits: %.200s", r.body);
    srv_response_free(&r);
    free(body);
}

/* A /conv of 64 generated 3x3 filters over an 8x8x4 input, its grad_output all ones if asked. */
static char *big_conv(int grad) {
    srv_buf b = {0};
    srv_buf_puts(&b, "{\"input\": {\"shape\": [8, 8, 4], \"data\": [");
    for (int i = 0; i < 256; i++) srv_buf_printf(&b, "%s%d", i ? "," : "", i % 7);
    srv_buf_puts(&b, "]}, \"filters\": {\"count\": 64, \"size\": 3}");
    if (grad) {
        srv_buf_puts(&b, ", \"grad_output\": {\"shape\": [6, 6, 64], \"data\": [");
        for (int i = 0; i < 6 * 6 * 64; i++) srv_buf_puts(&b, i ? ",1" : "1");
        srv_buf_puts(&b, "]}");
    }
    srv_buf_putc(&b, '}');
    size_t len;
    return srv_buf_take(&b, &len);
}

/* What the request claims from the memory budget (budget `total`): its status and claim. */
static int claim_of(const char *body, size_t total, size_t *claimed) {
    srv_budget_init(total);
    srv_account a = {0};
    srv_budget_set_current(&a);
    srv_response r = call("conv", body);
    srv_budget_set_current(NULL);
    *claimed = a.claimed;
    srv_budget_release(&a);
    int status = r.status;
    srv_response_free(&r);
    srv_budget_init(0);
    return status;
}

Test(srv_grad, gradients_are_counted_in_the_memory_budget) {
    char *plain = big_conv(0), *grad = big_conv(1);
    size_t without, with;
    cr_assert_eq(claim_of(plain, (size_t)1 << 30, &without), 200);
    cr_assert_eq(claim_of(grad, (size_t)1 << 30, &with), 200);
    /* grad_output, grad_input, grad_kernels and grad_bias, each element as a float and its text */
    size_t grads = (6 * 6 * 64 + 8 * 8 * 4 + 64 * 3 * 3 * 4 + 64) * (size_t)SRV_BUDGET_PER_ELEMENT;
    cr_assert_geq(with - without, grads, "the gradients claimed %zu bytes, want at least %zu", with - without, grads);
    /* a budget the forward fits in but not the gradients: 413 before the backward */
    size_t claimed;
    cr_assert_eq(claim_of(plain, without + grads / 2, &claimed), 200);
    srv_budget_init(without + grads / 2);
    srv_account a = {0};
    srv_budget_set_current(&a);
    srv_response r = call("conv", grad);
    srv_budget_set_current(NULL);
    srv_budget_release(&a);
    srv_budget_init(0);
    cr_assert_eq(r.status, 413, "%s", r.body);
    cr_assert(strstr(r.body, "\"field\":\"grad_"), "%s", r.body);
    srv_response_free(&r);
    free(plain);
    free(grad);
}
