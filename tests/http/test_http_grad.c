/* test_http_grad.c — "grad_output" and "target" through the real daemon: every case of
 * tests/fixtures/srv_grad.json (PyTorch autograd, float64) posted as JSON and answered within
 * 1e-5; the same gradients with .npy tensors in and "output_format": "npy" out; a wrong shape is
 * a 400 JSON error naming grad_output. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "http_support.h"
#include "npy_test.h"

static th_server srv;
static void up(void) { th_start(&srv, NULL); }
static void down(void) { cr_assert_eq(th_stop(&srv), 0); }
TestSuite(grad_http, .init = up, .fini = down, .timeout = 120);

static cJSON *post_ok(const char *ep, const cJSON *req) {
    char path[32], *body = cJSON_PrintUnformatted(req);
    snprintf(path, sizeof path, "/%s", ep);
    th_resp r;
    cr_assert_eq(th_post_json(&srv, path, body, &r), 0);
    cr_assert_eq(r.status, 200, "%s: %ld %.300s", path, r.status, r.body);
    cJSON *j = th_json(&r);
    th_resp_free(&r);
    free(body);
    return j;
}

static void close_to(const char *name, const char *key, const cJSON *got, const cJSON *want) {
    cr_assert_not_null(got, "%s: no %s", name, key);
    size_t n, m;
    double *g = tnpy_values(got, &n), *w = tnpy_values(want, &m);
    cr_assert_eq(n, m, "%s: %s has %zu values, want %zu", name, key, n, m);
    for (size_t i = 0; i < n; i++)
        cr_assert(fabs(g[i] - w[i]) <= 1e-5 * fmax(1.0, fabs(w[i])), "%s: %s[%zu] = %.9g, autograd %.9g", name, key,
                  i, g[i], w[i]);
    free(g);
    free(w);
}

/* Every gradient member of case c in the answer res. */
static void check_case(const cJSON *c, const cJSON *res) {
    const char *name = fx_str(c, "name");
    static const char *const keys[] = {"grad_input", "grad_kernels", "grad_bias"};
    for (size_t i = 0; i < 3; i++)
        if (cJSON_GetObjectItem(c, keys[i])) close_to(name, keys[i], cJSON_GetObjectItem(res, keys[i]), cJSON_GetObjectItem(c, keys[i]));
    const cJSON *ww = cJSON_GetObjectItem(c, "grad_weights");
    for (int l = 0; l < cJSON_GetArraySize(ww); l++) {
        const cJSON *g = cJSON_GetArrayItem(cJSON_GetObjectItem(res, "grad_weights"), l), *w = cJSON_GetArrayItem(ww, l);
        close_to(name, "grad_weights.weight", cJSON_GetObjectItem(g, "weight"), cJSON_GetObjectItem(w, "weight"));
        close_to(name, "grad_weights.bias", cJSON_GetObjectItem(g, "bias"), cJSON_GetObjectItem(w, "bias"));
    }
    const cJSON *loss = cJSON_GetObjectItem(c, "loss");
    if (loss) cr_assert(fabs(cJSON_GetObjectItem(res, "loss")->valuedouble - loss->valuedouble) < 1e-5, "%s: loss", name);
}

Test(grad_http, every_fixture_case_as_json) {
    cJSON *fx = fx_load("srv_grad.json");
    int n = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fx, "cases")) {
        cJSON *res = post_ok(fx_str(c, "endpoint"), cJSON_GetObjectItem(c, "request"));
        check_case(c, res);
        cJSON_Delete(res);
        n++;
    }
    cJSON_Delete(fx);
    cr_assert_geq(n, 25);
}

Test(grad_http, npy_in_and_out) {
    cJSON *fx = fx_load("srv_grad.json");
    int n = 0;
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fx, "cases")) {
        const char *name = fx_str(c, "name");
        if (!strstr(name, "n4_k3x3_s2x2_p1x1_relu") && !strstr(name, "3x3_s2x2_ties") && !strstr(name, "target3")) continue;
        cJSON *req = cJSON_GetObjectItem(c, "request");
        tnpy_replace_f32(req, "input");
        if (cJSON_GetObjectItem(req, "grad_output")) tnpy_replace_f32(req, "grad_output");
        cJSON_AddStringToObject(req, "output_format", "npy");
        cJSON *res = post_ok(fx_str(c, "endpoint"), req);
        cr_assert(cJSON_GetObjectItem(cJSON_GetObjectItem(res, "grad_input"), "npy"), "%s: grad_input is not .npy", name);
        check_case(c, res);
        cJSON_Delete(res);
        n++;
    }
    cJSON_Delete(fx);
    cr_assert_eq(n, 3);
}

Test(grad_http, wrong_shape_is_400_naming_grad_output) {
    th_resp r;
    cr_assert_eq(th_post_json(&srv, "/pool", "{\"input\": [[[1],[2]],[[3],[4]]], \"size\": 2, \"grad_output\": [1, 2]}", &r), 0);
    cr_assert_eq(r.status, 400, "%.300s", r.body);
    cJSON *j = th_json(&r);
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "field")->valuestring, "grad_output");
    cJSON_Delete(j);
    th_resp_free(&r);
}
