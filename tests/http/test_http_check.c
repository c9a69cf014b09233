/* test_http_check.c — POST /check/{conv,pool,mlp} through the real daemon: the assignment's
 * 16-filter layer on the sample PNG sent back as a float64 .npy passes; the notebook's own bug
 * (each window summed without the kernels, computed here from the pixels) is diagnosed as
 * kernel_ignored; one wrong element shows in the .npy mismatch map; routing (405, 404) and the
 * per-path metrics. Answers are computed by the test (tests/support/npy_test.c reads and writes
 * the .npy files, independently of the server). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_body.h"
#include "http_support.h"
#include "npy_test.h"

static th_server srv;
static void up(void) { th_start(&srv, NULL); }
static void down(void) { cr_assert_eq(th_stop(&srv), 0); }
TestSuite(check_http, .init = up, .fini = down, .timeout = 180);

static cJSON *post_ok(const char *path, const char *body) {
    th_resp r;
    cr_assert_eq(th_post_json(&srv, path, body, &r), 0);
    cr_assert_eq(r.status, 200, "%s: %ld %.300s", path, r.status, r.body);
    cJSON *j = th_json(&r);
    th_resp_free(&r);
    return j;
}

static char *sample_b64(void) {
    size_t len;
    char *png = th_read_file("web/sample.png", &len);
    cr_assert(png);
    char *b64 = th_base64((const unsigned char *)png, len);
    free(png);
    return b64;
}

#define LAYER "\"filters\":{\"count\":16,\"size\":3,\"init\":\"numpy_randn\"},\"seed\":42,\"activation\":\"sigmoid\""

/* {"image": <sample>, LAYER, "output_format": "npy", "answer": {"npy": answer}} */
static char *check_body(const char *img, const char *answer_b64) {
    size_t n = strlen(img) + strlen(answer_b64) + 512;
    char *body = malloc(n);
    snprintf(body, n, "{\"image\":\"%s\"," LAYER ",\"output_format\":\"npy\",\"answer\":{\"npy\":\"%s\"}}", img, answer_b64);
    return body;
}

static double sigmoid(double v) { return 1 / (1 + exp(-v)); }

Test(check_http, assignment_layer_right_wrong_and_the_notebooks_bug) {
    char *img = sample_b64();
    size_t n = strlen(img) + 256;
    char *body = malloc(n);
    snprintf(body, n, "{\"image\":\"%s\"," LAYER ",\"output_format\":\"npy\"}", img);
    cJSON *conv = post_ok("/conv", body);
    size_t shape[8], nd, m;
    double *y = tnpy_read(cJSON_GetObjectItem(conv, "output"), shape, &nd, &m, "float32");
    cr_assert(nd == 3 && shape[0] == 254 && shape[1] == 254 && shape[2] == 16);

    /* The right answer, as a NumPy student's float64 array. */
    char *a64 = tnpy_b64(y, sizeof(double), "<f8", shape, 3, 0);
    char *cb = check_body(img, a64);
    cJSON *res = post_ok("/check/conv", cb);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(res, "pass")), "%.300s", cJSON_PrintUnformatted(res));
    cr_assert_eq(cJSON_GetObjectItem(res, "mismatches")->valuedouble, 0);
    cr_assert_eq(cJSON_GetObjectItem(res, "max_abs_error")->valuedouble, 0); /* /conv's own bits */
    cJSON_Delete(res);
    free(cb);
    free(a64);

    /* One element wrong: the .npy mismatch map holds a single 1, where it is. */
    y[(100 * 254 + 37) * 16 + 5] += 0.01;
    a64 = tnpy_b64(y, sizeof(double), "<f8", shape, 3, 0);
    cb = check_body(img, a64);
    res = post_ok("/check/conv", cb);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(res, "pass")));
    cr_assert_eq(cJSON_GetObjectItem(res, "mismatches")->valuedouble, 1);
    size_t ms[8], mnd, mn;
    double *map = tnpy_read(cJSON_GetObjectItem(res, "mismatch_map"), ms, &mnd, &mn, "float32");
    cr_assert(mnd == 2 && ms[0] == 254 && ms[1] == 254);
    for (size_t i = 0; i < mn; i++) cr_assert_eq(map[i], i == 100 * 254 + 37 ? 1.0 : 0.0, "map[%zu]", i);
    const cJSON *idx = cJSON_GetObjectItem(cJSON_GetObjectItem(res, "worst"), "index");
    cr_assert(cJSON_GetArrayItem(idx, 0)->valuedouble == 100 && cJSON_GetArrayItem(idx, 1)->valuedouble == 37 &&
              cJSON_GetArrayItem(idx, 2)->valuedouble == 5);
    free(map);
    cJSON_Delete(res);
    free(cb);
    free(a64);

    /* The notebook's bug: every map is sigmoid(the 3x3x3 window's plain sum). The pixels come
     * from /pool with a 1x1 window (the image as the service reads it). */
    snprintf(body, n, "{\"image\":\"%s\",\"size\":1,\"output_format\":\"npy\"}", img);
    cJSON *pool = post_ok("/pool", body);
    size_t ps[8], pnd, pm;
    double *px = tnpy_read(cJSON_GetObjectItem(pool, "output"), ps, &pnd, &pm, "float32");
    cr_assert(ps[0] == 256 && ps[1] == 256 && ps[2] == 3);
    for (size_t oy = 0; oy < 254; oy++)
        for (size_t ox = 0; ox < 254; ox++) {
            double s = 0;
            for (size_t ky = 0; ky < 3; ky++)
                for (size_t kx = 0; kx < 3; kx++)
                    for (size_t c = 0; c < 3; c++) s += px[((oy + ky) * 256 + ox + kx) * 3 + c];
            for (size_t f = 0; f < 16; f++) y[(oy * 254 + ox) * 16 + f] = sigmoid(s);
        }
    a64 = tnpy_b64(y, sizeof(double), "<f8", shape, 3, 0);
    cb = check_body(img, a64);
    res = post_ok("/check/conv", cb);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(res, "pass")));
    const cJSON *d = cJSON_GetObjectItem(res, "diagnosis");
    cr_assert_eq(cJSON_GetArraySize(d), 1, "%.500s", cJSON_PrintUnformatted(d));
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(d, 0), "code")->valuestring, "kernel_ignored");
    cJSON_Delete(res);
    free(cb);
    free(a64);
    free(px);
    cJSON_Delete(pool);
    free(y);
    cJSON_Delete(conv);
    free(body);
    free(img);
}

Test(check_http, routes_methods_and_metrics) {
    th_resp r;
    th_expect_post_only(&srv, "/check/conv");
    th_expect(&srv, "POST", "/check/cnn", "{}", 404, &r);
    th_resp_free(&r);
    th_expect(&srv, "POST", "/check/pool", "{\"input\":[[1,2],[3,4]],\"size\":2}", 400, &r);
    cr_assert(strstr(r.body, "\"field\":\"answer\""), "%s", r.body);
    th_resp_free(&r);
    cJSON *res = post_ok("/check/mlp", "{\"input\":[1,2,3],\"hidden_layers\":1,\"hidden_size\":4,"
                                       "\"output_size\":3,\"seed\":1,\"softmax\":false,\"answer\":[0,0,0]}");
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(res, "pass")));
    cJSON_Delete(res);
    /* counted when complete, just after the client read the answer: wait for the counts */
    cr_assert_eq(th_wait_metric(&srv, "nnlab_http_requests_total{path=\"/check/mlp\",status=\"200\"}",
                                1, 5 * th_slow()), 1);
    cr_assert_eq(th_wait_metric(&srv, "nnlab_http_requests_total{path=\"/check/pool\",status=\"400\"}",
                                1, 5 * th_slow()), 1);
}

/* What a check allocates (the reference, the replays its answer's shape allows, their
 * temporaries) is reserved before anything is computed: over a small --max-memory, 413 naming
 * the memory; with room, the same request is checked (tcb_channels_check: 6.2 MB in all;
 * tests/unit/test_srv_limits.c shows that nothing is computed before the refusal). */
Test(check_http_memory, an_oversized_check_is_413_before_any_work, .timeout = 60) {
    char *b = tcb_channels_check();
    static const char *const small[] = {"--max-memory", "5000000", NULL};
    th_server s;
    th_start(&s, small);
    th_resp r;
    cr_assert_eq(th_post_json(&s, "/check/conv", b, &r), 0);
    cr_assert_eq(r.status, 413, "%.300s", r.body);
    cJSON *j = th_json(&r), *e = cJSON_GetObjectItem(j, "error");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(e, "field")), "filters");
    cr_assert(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(e, "message")), "memory"), "%s", r.body);
    cJSON_Delete(j);
    th_resp_free(&r);
    cr_assert_eq(th_wait_metric(&s, "nnlab_memory_reserved_bytes", 0, 5 * th_slow()), 0, "all given back");
    cr_assert_eq(th_stop(&s), 0);
    th_start(&s, NULL);
    cr_assert_eq(th_post_json(&s, "/check/conv", b, &r), 0);
    cr_assert_eq(r.status, 200, "%.300s", r.body);
    cr_assert(strstr(r.body, "\"pass\":false") && strstr(r.body, "channels_not_summed"), "%.300s", r.body);
    th_resp_free(&r);
    cr_assert_eq(th_stop(&s), 0);
    free(b);
}
