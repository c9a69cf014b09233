/* test_http_npy.c — .npy tensors through the real daemon: the assignment's 16-filter layer on
 * the 256x256 sample PNG answered as JSON numbers and as .npy holds the same float32 bits (and
 * the .npy answer is the smaller); an .npy input works and a refused one is a 415 JSON error
 * naming its field; a streamed training run with "output_format": "npy" ends with float64 .npy
 * weights that equal the JSON run's; NumPy's own kernels (numpy_randn, seed 42). The .npy files
 * are read and written by tests/support/npy_test.c, independently of the server. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "http_support.h"
#include "npy_test.h"

static th_server srv;
static void up(void) { th_start(&srv, NULL); }
static void down(void) { cr_assert_eq(th_stop(&srv), 0); }
TestSuite(npy_http, .init = up, .fini = down, .timeout = 120);

static cJSON *post_ok(const char *path, const char *body, size_t *bytes) {
    th_resp r;
    cr_assert_eq(th_post_json(&srv, path, body, &r), 0);
    cr_assert_eq(r.status, 200, "%s: %ld %.300s", path, r.status, r.body);
    if (bytes) *bytes = r.len;
    cJSON *j = th_json(&r);
    th_resp_free(&r);
    return j;
}

Test(npy_http, sixteen_filter_layer_same_bits_as_json) {
    size_t len;
    char *png = th_read_file("web/sample.png", &len);
    cr_assert(png);
    char *b64 = th_base64((const unsigned char *)png, len);
    size_t n = strlen(b64) + 256;
    char *body = malloc(n);
    const char *fmt = "{\"image\":\"%s\",\"filters\":{\"count\":16,\"size\":3,\"init\":\"numpy_randn\"},"
                      "\"seed\":42,\"activation\":\"sigmoid\"%s}";
    snprintf(body, n, fmt, b64, "");
    size_t json_bytes, npy_bytes;
    cJSON *a = post_ok("/conv", body, &json_bytes);
    snprintf(body, n, fmt, b64, ",\"output_format\":\"npy\"");
    cJSON *b = post_ok("/conv", body, &npy_bytes);
    size_t shape[8], nd, m;
    double *y = tnpy_read(cJSON_GetObjectItem(b, "output"), shape, &nd, &m, "float32");
    cr_assert_eq(nd, 3);
    cr_assert(shape[0] == 254 && shape[1] == 254 && shape[2] == 16);
    const cJSON *data = cJSON_GetObjectItem(cJSON_GetObjectItem(a, "output"), "data"), *v;
    size_t i = 0;
    cJSON_ArrayForEach(v, data) {
        cr_assert((float)v->valuedouble == (float)y[i], "output[%zu]: %.9g vs %.9g", i, v->valuedouble, y[i]);
        i++;
    }
    cr_assert_eq(i, m);
    cr_assert_lt(npy_bytes * 2, json_bytes + json_bytes / 4, "npy %zu bytes, json %zu", npy_bytes, json_bytes);
    /* the kernels are NumPy's: np.random.seed(42); 16 x np.random.randn(3, 3, 3) */
    cJSON *fx = fx_require("numpy_random.json");
    const cJSON *want = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(fx, "assignment"), "kernels"), "data");
    double *k = tnpy_read(cJSON_GetObjectItem(b, "kernels"), shape, &nd, &m, "float32");
    cr_assert_eq(m, 16u * 27);
    i = 0;
    cJSON_ArrayForEach(v, want) {
        cr_assert(k[i] == v->valuedouble, "kernel value %zu: %.9g, NumPy %.9g", i, k[i], v->valuedouble);
        i++;
    }
    free(k);
    free(y);
    cJSON_Delete(fx);
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(body);
    free(b64);
    free(png);
}

Test(npy_http, npy_input_and_refusals) {
    float x[4 * 4 * 2];
    for (int i = 0; i < 32; i++) x[i] = (float)i / 8.0f;
    size_t s[3] = {4, 4, 2};
    char *npy = tnpy_b64_f32(x, s, 3);
    char body[2048];
    snprintf(body, sizeof body, "{\"input\":{\"npy\":\"%s\"},\"function\":\"max\",\"size\":2}", npy);
    cJSON *r = post_ok("/pool", body, NULL);
    const cJSON *out = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "output"), "data");
    cr_assert_eq(cJSON_GetArraySize(out), 8);
    cr_assert_eq(cJSON_GetArrayItem(out, 0)->valuedouble, x[(1 * 4 + 1) * 2]);
    cJSON_Delete(r);
    free(npy);
    /* a Fortran-order file: 415, JSON error naming input.npy */
    npy = tnpy_b64(x, 4, "<f4", s, 3, 1);
    snprintf(body, sizeof body, "{\"input\":{\"npy\":\"%s\"},\"function\":\"max\",\"size\":2}", npy);
    th_resp e;
    cr_assert_eq(th_post_json(&srv, "/pool", body, &e), 0);
    cr_assert_eq(e.status, 415, "%.300s", e.body);
    cr_assert(strstr(e.content_type, "application/json"));
    cJSON *j = th_json(&e);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "field")), "input.npy");
    cr_assert(strstr(e.body, "Fortran"), "%s", e.body);
    cJSON_Delete(j);
    th_resp_free(&e);
    free(npy);
}

Test(npy_http, streamed_training_ends_with_float64_npy_weights) {
    const char *json = "{\"samples\":40,\"test_samples\":10,\"epochs\":2,\"hidden_size\":3,\"seed\":3,"
                       "\"report_every\":10,\"stream\":false}";
    cJSON *a = post_ok("/train/lstm", json, NULL);
    static th_lines ls; /* 32 KiB: not on the stack */
    long st = th_stream(&srv, "/train/lstm",
                        "{\"samples\":40,\"test_samples\":10,\"epochs\":2,\"hidden_size\":3,\"seed\":3,"
                        "\"report_every\":10,\"output_format\":\"npy\"}",
                        th_collect_lines, &ls);
    cr_assert_eq(st, 200);
    cr_assert_geq(ls.n, 4);
    cJSON *done = ls.items[ls.n - 1];
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(done, "type")), "done");
    cr_assert(cJSON_IsArray(cJSON_GetObjectItem(done, "train_loss")), "loss curves stay lists");
    const cJSON *wa = cJSON_GetObjectItem(a, "weights"), *w;
    int names = 0;
    cJSON_ArrayForEach(w, wa) {
        size_t shape[8], nd, n;
        double *v = tnpy_read(cJSON_GetObjectItem(cJSON_GetObjectItem(done, "weights"), w->string), shape, &nd, &n,
                              "float64");
        const cJSON *d = cJSON_GetObjectItem(w, "data"), *x;
        size_t i = 0;
        cJSON_ArrayForEach(x, d) {
            cr_assert(v[i] == x->valuedouble, "%s[%zu]: %.17g vs %.17g", w->string, i, v[i], x->valuedouble);
            i++;
        }
        cr_assert_eq(i, n);
        free(v);
        names++;
    }
    cr_assert_eq(names, 6);
    th_lines_free(&ls);
    cJSON_Delete(a);
}
