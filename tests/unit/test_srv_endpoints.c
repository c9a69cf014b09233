/* test_srv_endpoints.c — POST /conv, /pool, /mlp, /cnn through srv_handle_json (no socket):
 * values against the core's naive kernels and PyTorch fixtures, images, rendering, budgets,
 * determinism, and a table of bad requests with their status and field. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "handler_test.h"
#include "nn_conv.h"
#include "nn_init.h"
#include "nn_filter_presets.h"
#include "nn_pool.h"
#include "nn_rng.h"
#include "srv_api.h"
#include "srv_base64.h"
#include "srv_image.h"


/* ---- helpers --------------------------------------------------------------------------- */

static srv_response call(const char *ep, const char *body) { return ht_post(NULL, ep, "application/json", body); }

static char *read_file(const char *path, size_t *len) {
    char *buf = fx_read_file(path, len);
    cr_assert_not_null(buf, "cannot read %s", path);
    return buf;
}

static char *b64_file(const char *path) {
    size_t n, m;
    char *raw = read_file(path, &n);
    char *s = srv_base64_encode((const unsigned char *)raw, n, &m);
    free(raw);
    return s;
}

/* Body text with a formatted image field: {"image": "<b64 of path>", <rest>} */
static char *image_body(const char *path, const char *rest) {
    char *b = b64_file(path);
    size_t n = strlen(b) + strlen(rest) + 64;
    char *body = malloc(n);
    snprintf(body, n, "{\"image\": \"%s\"%s%s}", b, *rest ? ", " : "", rest);
    free(b);
    return body;
}

static float *floats(const cJSON *arr, size_t *n) {
    *n = (size_t)cJSON_GetArraySize(arr);
    float *v = malloc((*n ? *n : 1) * sizeof *v);
    size_t i = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, arr) v[i++] = (float)c->valuedouble;
    return v;
}

static void shape_is(const cJSON *t, size_t nd, const size_t *want) {
    const cJSON *sh = cJSON_GetObjectItem(t, "shape");
    cr_assert_eq((size_t)cJSON_GetArraySize(sh), nd);
    for (size_t i = 0; i < nd; i++) cr_assert_eq((size_t)cJSON_GetArrayItem(sh, (int)i)->valuedouble, want[i]);
}

/* Everything before the final "elapsed_ms" (the only key allowed to differ between runs). */
static size_t stable_len(const char *body) {
    const char *p = strstr(body, "\"elapsed_ms\""), *last = NULL;
    while (p) { last = p; p = strstr(p + 1, "\"elapsed_ms\""); }
    return last ? (size_t)(last - body) : strlen(body);
}

/* ---- /conv ----------------------------------------------------------------------------- */

Test(srv_conv, matches_pytorch_fixtures) {
    cJSON *fx = fx_require("conv.json");
    int cases = 0;
    for (const cJSON *c = fx_cases(fx); c; c = c->next) {
        cJSON *req = fx_conv_request(c);
        char *body = cJSON_PrintUnformatted(req);
        cJSON *res = ht_post_ok(NULL, "conv", body);
        size_t shape[8], nd, n, got_n;
        double *want = fx_tensor_f64(c, "output", shape, &nd, &n);
        cJSON *out = cJSON_GetObjectItem(res, "output");
        shape_is(out, nd, shape);
        float *got = floats(cJSON_GetObjectItem(out, "data"), &got_n);
        cr_assert_eq(got_n, n);
        double err = fx_max_rel_err_f32(got, want, n, 1.0);
        cr_assert(err < 1e-5, "%s: rel err %g", fx_str(c, "name"), err);
        free(got);
        free(want);
        free(body);
        cJSON_Delete(res);
        cJSON_Delete(req);
        cases++;
    }
    cr_assert(cases >= 10);
    cJSON_Delete(fx);
}

Test(srv_conv, preset_on_png_and_nested_input) {
    /* identity preset with padding 1 on the 3x2 RGB image: output = R + G + B per pixel. */
    char *body = image_body("tests/data/srv/rgb_3x2.png", "\"kernel\": \"identity\", \"padding\": 1");
    cJSON *res = ht_post_ok(NULL, "conv", body);
    free(body);
    cJSON *out = cJSON_GetObjectItem(res, "output");
    size_t want_shape[3] = {2, 3, 1};
    shape_is(out, 3, want_shape);
    size_t n;
    float *v = floats(cJSON_GetObjectItem(out, "data"), &n);
    const int px[6][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}, {128, 128, 128}, {255, 255, 255}};
    for (size_t i = 0; i < 6; i++) {
        float want = (float)px[i][0] / 255.0f + (float)px[i][1] / 255.0f + (float)px[i][2] / 255.0f;
        cr_assert_float_eq(v[i], want, 1e-6, "pixel %zu: %g vs %g", i, v[i], want);
    }
    free(v);
    size_t ks[4] = {1, 3, 3, 3};
    shape_is(cJSON_GetObjectItem(res, "kernels"), 4, ks);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(res, "input_shape")), 3);
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(res, "flops")));
    cr_assert_eq(cJSON_GetObjectItem(res, "flops")->valuedouble, 2.0 * 2 * 3 * 1 * 3 * 3 * 3);
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(res, "elapsed_ms")));
    cJSON_Delete(res);

    /* A 2-D kernel on a nested [H, W] input: sobel_x by hand equals the preset. */
    const char *a = "{\"input\": [[1,2,3,4],[2,4,6,8],[0,1,0,1],[5,5,5,5]], \"kernel\": [[-1,0,1],[-2,0,2],[-1,0,1]]}";
    const char *b = "{\"input\": [[1,2,3,4],[2,4,6,8],[0,1,0,1],[5,5,5,5]], \"kernel\": \"Sobel X\"}";
    cJSON *ra = ht_post_ok(NULL, "conv", a), *rb = ht_post_ok(NULL, "conv", b);
    char *sa = cJSON_PrintUnformatted(cJSON_GetObjectItem(ra, "output"));
    char *sb = cJSON_PrintUnformatted(cJSON_GetObjectItem(rb, "output"));
    cr_assert_str_eq(sa, sb);
    /* by hand: top-left window rows (1,2,3),(2,4,6),(0,1,0) -> (3-1) + 2*(6-2) + (0-0) = 10 */
    cr_assert_float_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(ra, "output"), "data"), 0)->valuedouble, 10.0, 1e-6);
    free(sa);
    free(sb);
    cJSON_Delete(ra);
    cJSON_Delete(rb);
}

Test(srv_conv, generated_filters_are_seeded_and_correct) {
    const char *body = "{\"input\": {\"shape\": [6, 5, 2], \"data\": [0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0,"
                       "1.1,1.2,1.3,1.4,1.5,1.6,1.7,1.8,1.9,2.0,-0.1,-0.2,-0.3,-0.4,-0.5,-0.6,-0.7,-0.8,-0.9,-1.0,"
                       "0,1,0,1,0,1,0,1,0,1,2,2,2,2,2,2,2,2,2,2,3,-3,3,-3,3,-3,3,-3,3,-3,0.5,0.5]},"
                       " \"filters\": {\"count\": 3, \"size\": [3, 2], \"init\": \"xavier\", \"seed\": 42},"
                       " \"stride\": [2, 1], \"padding\": 1, \"bias\": [0.1, -0.2, 0.3], \"activation\": \"leaky_relu\","
                       " \"negative_slope\": 0.1}";
    /* 6*5*2 = 60 values; the literal above has 62: must be refused. */
    ht_post_err(NULL, "conv", body, 400, "input.data");
    char fixed[2048];
    snprintf(fixed, sizeof fixed, "%s", body);
    char *cut = strstr(fixed, ",0.5,0.5]");
    memmove(cut, cut + 8, strlen(cut + 8) + 1);
    srv_response r1 = call("conv", fixed), r2 = call("conv", fixed);
    cr_assert_eq(r1.status, 200, "%s", r1.body);
    size_t l1 = stable_len(r1.body), l2 = stable_len(r2.body);
    cr_assert_eq(l1, l2);
    cr_assert_eq(memcmp(r1.body, r2.body, l1), 0, "same request, different bytes");
    cJSON *res = cJSON_Parse(r1.body);
    /* Kernels: exactly nn_init_fill(xavier) from seed 42. */
    float want_k[3 * 3 * 2 * 2];
    nn_rng rng;
    nn_rng_seed(&rng, 42);
    cr_assert_eq(nn_init_fill(want_k, 36, 3 * 2 * 2, 3 * 3 * 2, NN_INIT_XAVIER, &rng, NULL), NN_OK);
    size_t n;
    float *k = floats(cJSON_GetObjectItem(cJSON_GetObjectItem(res, "kernels"), "data"), &n);
    cr_assert_eq(n, 36u);
    for (size_t i = 0; i < n; i++) cr_assert_eq(k[i], want_k[i], "kernel %zu", i);
    /* Output: the naive reference on the same data. */
    size_t xn;
    cJSON *req = cJSON_Parse(fixed);
    float *x = floats(cJSON_GetObjectItem(cJSON_GetObjectItem(req, "input"), "data"), &xn);
    cr_assert_eq(xn, 60u);
    nn_conv_params p = {2, 1, 1, 1, {NN_ACT_LEAKY_RELU, 0.1f}};
    float bias[3] = {0.1f, -0.2f, 0.3f}, y[64];
    size_t OH, OW;
    cr_assert_eq(nn_conv_output_size(6, 5, 2, 3, 3, 2, &p, &OH, &OW, NULL), NN_OK);
    cr_assert_eq(nn_conv2d_naive(y, x, k, bias, 6, 5, 2, 3, 3, 2, &p, NULL), NN_OK);
    size_t yn;
    float *got = floats(cJSON_GetObjectItem(cJSON_GetObjectItem(res, "output"), "data"), &yn);
    cr_assert_eq(yn, OH * OW * 3);
    for (size_t i = 0; i < yn; i++) cr_assert_float_eq(got[i], y[i], 1e-5f * (1 + fabsf(y[i])), "output %zu", i);
    free(got);
    free(x);
    free(k);
    cJSON_Delete(req);
    cJSON_Delete(res);
    srv_response_free(&r1);
    srv_response_free(&r2);
}

Test(srv_conv, render_gives_one_png_per_map) {
    const char *body = "{\"input\": [[[0,1],[1,2],[2,3]],[[3,4],[4,5],[5,6]],[[6,7],[7,8],[8,9]]],"
                       " \"kernels\": {\"shape\": [2, 1, 1, 2], \"data\": [1, 0, 0, -1]}, \"render\": true}";
    cJSON *res = ht_post_ok(NULL, "conv", body);
    cJSON *maps = cJSON_GetObjectItem(res, "maps");
    cr_assert_eq(cJSON_GetArraySize(maps), 2);
    cJSON *m0 = cJSON_GetArrayItem(maps, 0), *m1 = cJSON_GetArrayItem(maps, 1);
    cr_assert_float_eq(cJSON_GetObjectItem(m0, "min")->valuedouble, 0.0, 1e-9);
    cr_assert_float_eq(cJSON_GetObjectItem(m0, "max")->valuedouble, 8.0, 1e-9);
    cr_assert_float_eq(cJSON_GetObjectItem(m1, "min")->valuedouble, -9.0, 1e-9);
    cr_assert_float_eq(cJSON_GetObjectItem(m1, "max")->valuedouble, -1.0, 1e-9);
    const char *png = cJSON_GetObjectItem(m0, "png")->valuestring;
    size_t len, pos;
    const char *why;
    unsigned char *bytes = srv_base64_decode(png, strlen(png), &len, &why, &pos);
    cr_assert_not_null(bytes);
    cr_assert_eq(memcmp(bytes, "\x89PNG", 4), 0);
    srv_limits lim;
    srv_limits_default(&lim);
    srv_tensor t;
    srv_err e = {0};
    cr_assert_eq(srv_image_decode(bytes, len, 1, &lim, "png", &t, &e), 0, "%s", e.message);
    cr_assert(t.shape[0] == 3 && t.shape[1] == 3 && t.shape[2] == 1);
    /* Map 0 is 0..8 scaled to 0..255: pixel i is round(255 * i / 8). */
    for (size_t i = 0; i < 9; i++) {
        int want = (int)(255.0f * (float)i / 8.0f + 0.5f);
        cr_assert_eq((int)lroundf(t.data[i] * 255.0f), want, "pixel %zu", i);
    }
    srv_tensor_free(&t);
    free(bytes);
    cJSON_Delete(res);
}

Test(srv_conv, work_budget_and_output_limits) {
    srv_limits lim;
    srv_limits_default(&lim);
    lim.max_work_flops = 500; /* this one needs 2*6*6*9 = 648 */
    const char *body = "{\"input\": {\"shape\": [8, 8, 1], \"data\": [0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
                       "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}, \"kernel\": \"box\"}";
    srv_response r;
    srv_handle_json(&lim, "conv", NULL, body, strlen(body), NULL, &r);
    cr_assert_eq(r.status, 413, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"field\":\"kernel\""), "%s", r.body);
    srv_response_free(&r);
    lim.max_work_flops = 1e9;
    lim.max_tensor_elems = 40;
    srv_handle_json(&lim, "conv", NULL, body, strlen(body), NULL, &r);
    cr_assert_eq(r.status, 413, "%s", r.body);
    cr_assert_not_null(strstr(r.body, "\"field\":\"input\""), "%s", r.body);
    srv_response_free(&r);
    lim.max_tensor_elems = 1000;
    lim.max_body_bytes = 10;
    srv_handle_json(&lim, "conv", NULL, body, strlen(body), NULL, &r);
    cr_assert_eq(r.status, 413);
    srv_response_free(&r);
}

/* ---- images ---------------------------------------------------------------------------- */

static srv_tensor decode_file(const char *path, int gray, int *status, char *field) {
    size_t n;
    char *raw = read_file(path, &n);
    srv_limits lim;
    srv_limits_default(&lim);
    srv_tensor t;
    srv_err e = {0};
    srv_image_decode((const unsigned char *)raw, n, gray, &lim, "image", &t, &e);
    *status = e.status;
    strcpy(field, e.field);
    free(raw);
    return t;
}

Test(srv_image, png_variants) {
    int st;
    char f[128];
    srv_tensor t = decode_file("tests/data/srv/rgb_3x2.png", 0, &st, f);
    cr_assert_eq(st, 0);
    cr_assert(t.shape[0] == 2 && t.shape[1] == 3 && t.shape[2] == 3);
    cr_assert_eq(t.data[0], 1.0f);
    cr_assert_eq(t.data[1], 0.0f);
    cr_assert_eq(t.data[9], 10.0f / 255.0f);
    srv_tensor_free(&t);
    t = decode_file("tests/data/srv/rgb_3x2.png", 1, &st, f);
    cr_assert(t.shape[2] == 1);
    cr_assert_eq(t.data[0], (float)(0.299 * 255 / 255.0));
    cr_assert_eq(t.data[3], (float)((0.299 * 10 + 0.587 * 20 + 0.114 * 30) / 255.0));
    srv_tensor_free(&t);
    t = decode_file("tests/data/srv/rgba_2x2.png", 0, &st, f);
    cr_assert(st == 0 && t.shape[2] == 3);
    cr_assert_eq(t.data[3 * 3 + 0], 7.0f / 255.0f); /* alpha 10 dropped, colour kept */
    cr_assert_eq(t.data[3 * 1 + 1], 1.0f);
    srv_tensor_free(&t);
    t = decode_file("tests/data/srv/gray_2x2.png", 1, &st, f);
    cr_assert(st == 0 && t.shape[2] == 1);
    cr_assert_eq(t.data[1], 64.0f / 255.0f);
    srv_tensor_free(&t);
    t = decode_file("tests/data/srv/gray_2x2.png", 0, &st, f);
    cr_assert(t.shape[2] == 3 && t.data[3] == 64.0f / 255.0f && t.data[5] == 64.0f / 255.0f);
    srv_tensor_free(&t);
    decode_file("tests/data/srv/gray16_2x2.png", 0, &st, f);
    cr_assert_eq(st, 415);
    cr_assert_str_eq(f, "image");
    decode_file("tests/data/srv/wide_5000x1.png", 0, &st, f);
    cr_assert_eq(st, 413);
    decode_file("tests/data/srv/not_png.png", 0, &st, f);
    cr_assert_eq(st, 415);
}

Test(srv_image, stb_pitfalls_are_defused) {
    int st;
    char f[128];
    /* An empty first IDAT (stb_image 2.27 computes NULL + 0): decodes like the plain image. */
    srv_tensor a = decode_file("tests/data/srv/empty_idat_2x2.png", 1, &st, f);
    cr_assert_eq(st, 0);
    srv_tensor b = decode_file("tests/data/srv/gray_2x2.png", 1, &st, f);
    cr_assert_eq(a.n, 4u);
    cr_assert_eq(memcmp(a.data, b.data, 4 * sizeof(float)), 0);
    srv_tensor_free(&a);
    srv_tensor_free(&b);
    /* A DHT with more than 256 codes (stb_image 2.27 writes past its tables): refused first. */
    decode_file("tests/data/srv/dht_overflow.jpg", 0, &st, f);
    cr_assert_eq(st, 415);
    cr_assert_str_eq(f, "image");
    /* A 16x16 PNG whose IDAT inflates to 32 MiB: stopped by the allocation cap, quickly. */
    decode_file("tests/data/srv/bomb_16x16.png", 0, &st, f);
    cr_assert_eq(st, 415);
}

Test(srv_image, jpeg_and_tight_limits) {
    /* solid_8x8.jpg: every pixel (200, 100, 50), written by stb_image_write at quality 95. */
    size_t jn;
    char *jpg = read_file("tests/data/srv/solid_8x8.jpg", &jn);
    struct { const unsigned char *p; size_t n; } m = {(const unsigned char *)jpg, jn};
    srv_limits lim;
    srv_limits_default(&lim);
    srv_tensor t;
    srv_err e = {0};
    cr_assert_eq(srv_image_decode(m.p, m.n, 0, &lim, "image", &t, &e), 0, "%s", e.message);
    cr_assert(t.shape[0] == 8 && t.shape[1] == 8 && t.shape[2] == 3);
    cr_assert_float_eq(t.data[0], 200.0f / 255.0f, 0.03);
    cr_assert_float_eq(t.data[2], 50.0f / 255.0f, 0.03);
    srv_tensor_free(&t);
    lim.max_image_side = 7;
    memset(&e, 0, sizeof e);
    cr_assert_eq(srv_image_decode(m.p, m.n, 0, &lim, "image", &t, &e), -1);
    cr_assert_eq(e.status, 413);
    lim.max_image_side = 4096;
    lim.max_tensor_elems = 100;
    memset(&e, 0, sizeof e);
    cr_assert_eq(srv_image_decode(m.p, m.n, 0, &lim, "image", &t, &e), -1);
    cr_assert_eq(e.status, 413);
    /* Truncated data: refused, never a crash. */
    lim.max_tensor_elems = 1000;
    memset(&e, 0, sizeof e);
    cr_assert_eq(srv_image_decode(m.p, m.n / 2, 0, &lim, "image", &t, &e), -1);
    cr_assert_eq(e.status, 415);
    free(jpg);
}

Test(srv_image, resize_matches_pytorch) {
    cJSON *fx = fx_require("srv.json");
    const cJSON *c;
    int cases = 0;
    srv_limits lim;
    srv_limits_default(&lim);
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(fx, "cases")) {
        const char *name = fx_str(c, "name");
        if (strncmp(name, "resize", 6) != 0) continue;
        srv_tensor x = {0}, y;
        size_t n, nd, oshape[8], on;
        x.data = fx_tensor_f32(c, "input", x.shape, &x.ndim, &x.n);
        double *want = fx_tensor_f64(c, "output", oshape, &nd, &on);
        srv_err e = {0};
        cr_assert_eq(srv_image_resize(&x, oshape[0], oshape[1], &lim, "resize", &y, &e), 0);
        n = y.n;
        cr_assert_eq(n, on);
        double err = fx_max_rel_err_f32(y.data, want, n, 1.0);
        cr_assert(err < 1e-6, "%s: err %g", name, err);
        free(x.data);
        free(want);
        srv_tensor_free(&y);
        cases++;
    }
    cr_assert_geq(cases, 4);
    cJSON_Delete(fx);
    /* Through the API: resize an input tensor 1x2 -> 1x4 (align_corners=False: 0, .25, .75, 1). */
    cJSON *res = ht_post_ok(NULL, "pool", "{\"input\": [[0, 1]], \"resize\": [1, 4], \"size\": 1}");
    size_t m;
    float *v = floats(cJSON_GetObjectItem(cJSON_GetObjectItem(res, "output"), "data"), &m);
    cr_assert_eq(m, 4u);
    cr_assert(v[0] == 0.0f && v[1] == 0.25f && v[2] == 0.75f && v[3] == 1.0f);
    free(v);
    cJSON_Delete(res);
}

/* ---- /pool ----------------------------------------------------------------------------- */

Test(srv_pool, windowed_and_global_match_core) {
    float x[5 * 6 * 2];
    char body[4096];
    size_t used = (size_t)snprintf(body, sizeof body, "{\"input\": {\"shape\": [5, 6, 2], \"data\": [");
    for (int i = 0; i < 60; i++) {
        x[i] = (float)((i * 37) % 23) - 11.5f;
        used += (size_t)snprintf(body + used, sizeof body - used, "%s%g", i ? "," : "", (double)x[i]);
    }
    const char *variants[] = {"\"function\": \"max\", \"size\": 2", "\"function\": \"average\", \"size\": [2, 3], \"stride\": 1",
                              "\"function\": \"Avg\", \"size\": 3, \"stride\": [2, 1]"};
    nn_pool_params ps[] = {{NN_POOL_MAX, 2, 2, 2, 2}, {NN_POOL_AVG, 2, 3, 1, 1}, {NN_POOL_AVG, 3, 3, 2, 1}};
    for (int v = 0; v < 3; v++) {
        char full[4600];
        snprintf(full, sizeof full, "%s]}, %s}", body, variants[v]);
        cJSON *res = ht_post_ok(NULL, "pool", full);
        size_t OH, OW, n;
        cr_assert_eq(nn_pool_output_size(5, 6, 2, &ps[v], &OH, &OW, NULL), NN_OK);
        float want[60];
        cr_assert_eq(nn_pool2d_naive(want, x, 5, 6, 2, &ps[v], NULL), NN_OK);
        cJSON *out = cJSON_GetObjectItem(res, "output");
        size_t sh[3] = {OH, OW, 2};
        shape_is(out, 3, sh);
        float *got = floats(cJSON_GetObjectItem(out, "data"), &n);
        for (size_t i = 0; i < n; i++) cr_assert_float_eq(got[i], want[i], 1e-6, "variant %d [%zu]", v, i);
        free(got);
        cJSON_Delete(res);
    }
    char full[4600];
    snprintf(full, sizeof full, "%s]}, \"function\": \"average\", \"size\": \"global\"}", body);
    cJSON *res = ht_post_ok(NULL, "pool", full);
    cJSON *out = cJSON_GetObjectItem(res, "output");
    size_t sh[1] = {2};
    shape_is(out, 1, sh);
    float g[2];
    cr_assert_eq(nn_global_pool_naive(g, x, 5, 6, 2, NN_POOL_AVG, NULL), NN_OK);
    cr_assert_float_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(out, "data"), 1)->valuedouble, g[1], 1e-6);
    cJSON_Delete(res);
    /* [H, W] input is one channel; render gives one map. */
    res = ht_post_ok(NULL, "pool", "{\"input\": [[1, 2, 3, 4], [5, 6, 7, 8]], \"size\": 2, \"render\": true}");
    out = cJSON_GetObjectItem(res, "output");
    size_t sh2[3] = {1, 2, 1};
    shape_is(out, 3, sh2);
    cr_assert_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(out, "data"), 1)->valuedouble, 8.0);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(res, "maps")), 1);
    cJSON_Delete(res);
}

/* ---- /mlp and /cnn --------------------------------------------------------------------- */

Test(srv_mlp, explicit_weights_match_pytorch) {
    cJSON *fx = fx_require("srv.json");
    int cases = 0;
    for (const cJSON *c = fx_cases(fx); c; c = c->next) {
        if (strncmp(fx_str(c, "name"), "mlp", 3) != 0) continue;
        cJSON *req = cJSON_CreateObject();
        cJSON_AddItemReferenceToObject(req, "input", cJSON_GetObjectItem(c, "input"));
        cJSON *hs = cJSON_GetObjectItem(c, "hidden_size");
        cJSON_AddNumberToObject(req, "hidden_layers", cJSON_GetArraySize(hs));
        if (cJSON_GetArraySize(hs) > 0) cJSON_AddItemReferenceToObject(req, "hidden_size", hs);
        cJSON_AddItemReferenceToObject(req, "output_size", cJSON_GetObjectItem(c, "output_size"));
        cJSON_AddItemReferenceToObject(req, "activation", cJSON_GetObjectItem(c, "activation"));
        cJSON_AddItemReferenceToObject(req, "weights", cJSON_GetObjectItem(c, "weights"));
        char *body = cJSON_PrintUnformatted(req);
        cJSON *res = ht_post_ok(NULL, "mlp", body);
        size_t shape[8], nd, n, gn;
        double *want = fx_tensor_f64(c, "logits", shape, &nd, &n);
        float *got = floats(cJSON_GetObjectItem(res, "logits"), &gn);
        cr_assert_eq(gn, n);
        cr_assert(fx_max_rel_err_f32(got, want, n, 1.0) < 1e-5, "%s logits", fx_str(c, "name"));
        free(got);
        free(want);
        want = fx_tensor_f64(c, "softmax", shape, &nd, &n);
        got = floats(cJSON_GetObjectItem(res, "softmax"), &gn);
        cr_assert(fx_max_rel_err_f32(got, want, n, 1.0) < 1e-5, "%s softmax", fx_str(c, "name"));
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(res, "layers")), cJSON_GetArraySize(hs) + 1);
        free(got);
        free(want);
        free(body);
        cJSON_Delete(res);
        cJSON_Delete(req);
        cases++;
    }
    cr_assert_geq(cases, 3);
    cJSON_Delete(fx);
}

Test(srv_mlp, generated_weights_deterministic) {
    const char *body = "{\"input\": [[1, 2], [3, 4]], \"hidden_layers\": 2, \"hidden_size\": [7, 5],"
                       " \"activation\": \"ReLU\", \"output_size\": 4, \"seed\": 9, \"return_weights\": true}";
    srv_response a = call("mlp", body), b = call("mlp", body);
    cr_assert_eq(a.status, 200, "%s", a.body);
    size_t la = stable_len(a.body);
    cr_assert_eq(la, stable_len(b.body));
    cr_assert_eq(memcmp(a.body, b.body, la), 0);
    cJSON *j = cJSON_Parse(a.body);
    size_t n;
    float *p = floats(cJSON_GetObjectItem(j, "softmax"), &n);
    cr_assert_eq(n, 4u);
    double s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    cr_assert_float_eq(s, 1.0, 1e-5);
    free(p);
    cJSON *layers = cJSON_GetObjectItem(j, "layers");
    cr_assert_eq(cJSON_GetArrayItem(cJSON_GetArrayItem(layers, 0), 0)->valuedouble, 4.0); /* flattened input */
    cr_assert_eq(cJSON_GetArrayItem(cJSON_GetArrayItem(layers, 2), 1)->valuedouble, 4.0);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "weights")), 3);
    cJSON_Delete(j);
    srv_response c = call("mlp", "{\"input\": [[1, 2], [3, 4]], \"hidden_layers\": 2, \"hidden_size\": [7, 5],"
                                 " \"activation\": \"ReLU\", \"output_size\": 4, \"seed\": 10}");
    cr_assert_eq(c.status, 200);
    cr_assert_neq(memcmp(a.body, c.body, 40), 0, "a different seed should change the logits");
    srv_response_free(&a);
    srv_response_free(&b);
    srv_response_free(&c);
}

Test(srv_cnn, explicit_network_matches_pytorch) {
    cJSON *fx = fx_require("srv.json");
    int found = 0;
    for (const cJSON *c = fx_cases(fx); c; c = c->next) {
        if (strcmp(fx_str(c, "name"), "cnn_small") != 0) continue;
        cJSON *req = cJSON_CreateObject();
        cJSON_AddItemReferenceToObject(req, "input", cJSON_GetObjectItem(c, "input"));
        cJSON_AddItemReferenceToObject(req, "architecture", cJSON_GetObjectItem(c, "architecture"));
        cJSON_AddTrueToObject(req, "render");
        char *body = cJSON_PrintUnformatted(req);
        cJSON *res = ht_post_ok(NULL, "cnn", body);
        size_t shape[8], nd, n, gn;
        double *want = fx_tensor_f64(c, "logits", shape, &nd, &n);
        float *got = floats(cJSON_GetObjectItem(res, "logits"), &gn);
        cr_assert_eq(gn, n);
        cr_assert(fx_max_rel_err_f32(got, want, n, 1.0) < 1e-5);
        free(got);
        free(want);
        want = fx_tensor_f64(c, "softmax", shape, &nd, &n);
        got = floats(cJSON_GetObjectItem(res, "output"), &gn);
        cr_assert(fx_max_rel_err_f32(got, want, n, 1.0) < 1e-5);
        free(got);
        free(want);
        cJSON *layers = cJSON_GetObjectItem(res, "layers");
        cr_assert_eq(cJSON_GetArraySize(layers), 5);
        cJSON *l0 = cJSON_GetArrayItem(layers, 0);
        cr_assert_str_eq(cJSON_GetObjectItem(l0, "type")->valuestring, "conv");
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(l0, "maps")), 4);
        cr_assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(layers, 3), "maps"));
        free(body);
        cJSON_Delete(res);
        cJSON_Delete(req);
        found = 1;
    }
    cr_assert(found);
    cJSON_Delete(fx);
}

Test(srv_cnn, default_architecture_on_png) {
    char *body = image_body("tests/data/srv/rgb_3x2.png", "\"resize\": [32, 32], \"seed\": 3");
    srv_response a = call("cnn", body), b = call("cnn", body);
    free(body);
    cr_assert_eq(a.status, 200, "%s", a.body);
    size_t la = stable_len(a.body);
    cr_assert_eq(memcmp(a.body, b.body, la), 0);
    cJSON *j = cJSON_Parse(a.body);
    size_t n;
    float *p = floats(cJSON_GetObjectItem(j, "output"), &n);
    cr_assert_eq(n, 1000u);
    double s = 0;
    for (size_t i = 0; i < n; i++) s += p[i];
    cr_assert_float_eq(s, 1.0, 1e-4);
    free(p);
    cJSON *layers = cJSON_GetObjectItem(j, "layers");
    cr_assert_eq(cJSON_GetArraySize(layers), 6);
    /* 32x32 -> conv s2 -> 15x15x16 -> pool -> 7x7x16 -> conv p1 -> 7x7x32 -> pool 3x3x32 -> [32] -> [1000] */
    size_t s0[3] = {15, 15, 16}, s3[3] = {3, 3, 32}, s4[1] = {32};
    cJSON *sh = cJSON_GetObjectItem(cJSON_GetArrayItem(layers, 0), "output_shape");
    for (int i = 0; i < 3; i++) cr_assert_eq((size_t)cJSON_GetArrayItem(sh, i)->valuedouble, s0[i]);
    sh = cJSON_GetObjectItem(cJSON_GetArrayItem(layers, 3), "output_shape");
    for (int i = 0; i < 3; i++) cr_assert_eq((size_t)cJSON_GetArrayItem(sh, i)->valuedouble, s3[i]);
    sh = cJSON_GetObjectItem(cJSON_GetArrayItem(layers, 4), "output_shape");
    cr_assert_eq((size_t)cJSON_GetArrayItem(sh, 0)->valuedouble, s4[0]);
    cJSON_Delete(j);
    srv_response_free(&a);
    srv_response_free(&b);
    cJSON *nos = ht_post_ok(NULL, "cnn", "{\"input\": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], \"softmax\": false,"
                                " \"architecture\": [{\"type\": \"global_pool\", \"function\": \"max\"}]}");
    cr_assert_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(nos, "output"), 0)->valuedouble, 9.0);
    cJSON_Delete(nos);
}

/* "outputs": every layer's tensor and every conv layer's kernels and bias, the numbers the
 * network computed with: a conv layer's output is /conv on its input with those kernels, a pool
 * layer's is /pool on its input, the last layer's is the logits. Without it, none of them. */
Test(srv_cnn, layer_outputs_on_request) {
    const char *arch = "\"architecture\": [{\"type\": \"conv\", \"filters\": 3, \"size\": 3, \"stride\": 2},"
                       " {\"type\": \"pool\", \"size\": 2}, {\"type\": \"global_pool\"},"
                       " {\"type\": \"mlp\", \"hidden_layers\": 0, \"output_size\": 4}], \"seed\": 9";
    char *body = image_body("tests/data/srv/rgb_3x2.png", "\"resize\": [17, 17], \"outputs\": true, \"softmax\": false");
    char *full = malloc(strlen(body) + strlen(arch) + 4);
    sprintf(full, "%.*s, %s}", (int)(strlen(body) - 1), body, arch);
    cJSON *res = ht_post_ok(NULL, "cnn", full);
    cJSON *layers = cJSON_GetObjectItem(res, "layers");
    cr_assert_eq(cJSON_GetArraySize(layers), 4);
    size_t s0[3] = {8, 8, 3}, s1[3] = {4, 4, 3}, s2[1] = {3}, s3[1] = {4}, sk[4] = {3, 3, 3, 3};
    cJSON *l0 = cJSON_GetArrayItem(layers, 0), *l1 = cJSON_GetArrayItem(layers, 1);
    shape_is(cJSON_GetObjectItem(l0, "output"), 3, s0);
    shape_is(cJSON_GetObjectItem(l0, "kernels"), 4, sk);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(l0, "bias")), 3);
    shape_is(cJSON_GetObjectItem(l1, "output"), 3, s1);
    cr_assert_null(cJSON_GetObjectItem(l1, "kernels"));
    shape_is(cJSON_GetObjectItem(cJSON_GetArrayItem(layers, 2), "output"), 1, s2);
    cJSON *l3 = cJSON_GetObjectItem(cJSON_GetArrayItem(layers, 3), "output");
    shape_is(l3, 1, s3);
    cr_assert(cJSON_Compare(cJSON_GetObjectItem(l3, "data"), cJSON_GetObjectItem(res, "logits"), 1));

    /* Layer 0 = /conv of the same image with the returned kernels; layer 1 = /pool of layer 0. */
    cJSON *creq = cJSON_Parse(body);
    cJSON_DeleteItemFromObject(creq, "outputs");
    cJSON_DeleteItemFromObject(creq, "softmax");
    cJSON_AddItemReferenceToObject(creq, "kernels", cJSON_GetObjectItem(l0, "kernels"));
    cJSON_AddNumberToObject(creq, "stride", 2);
    cJSON_AddStringToObject(creq, "activation", "relu");
    char *cbody = cJSON_PrintUnformatted(creq);
    cJSON *conv = ht_post_ok(NULL, "conv", cbody);
    cr_assert(cJSON_Compare(cJSON_GetObjectItem(conv, "output"), cJSON_GetObjectItem(l0, "output"), 1),
              "layer 0's output is /conv's, to the bit");
    cJSON *preq = cJSON_CreateObject();
    cJSON_AddItemReferenceToObject(preq, "input", cJSON_GetObjectItem(l0, "output"));
    cJSON_AddNumberToObject(preq, "size", 2);
    char *pbody = cJSON_PrintUnformatted(preq);
    cJSON *pool = ht_post_ok(NULL, "pool", pbody);
    cr_assert(cJSON_Compare(cJSON_GetObjectItem(pool, "output"), cJSON_GetObjectItem(l1, "output"), 1));

    /* Without "outputs": no tensors. */
    sprintf(full, "%.*s, %s}", (int)(strlen(body) - 1), body, arch);
    char *at = strstr(full, "\"outputs\": true");
    memcpy(at, "\"outputs\":false", strlen("\"outputs\":false"));
    cJSON *plain = ht_post_ok(NULL, "cnn", full);
    cr_assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(plain, "layers"), 0), "output"));
    cr_assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(plain, "layers"), 0), "kernels"));
    cJSON_Delete(plain);
    cJSON_Delete(pool);
    cJSON_Delete(preq);
    cJSON_Delete(conv);
    cJSON_Delete(creq);
    cJSON_Delete(res);
    free(pbody);
    free(cbody);
    free(full);
    free(body);
}

/* ---- bad requests ---------------------------------------------------------------------- */

typedef struct bad { const char *ep, *body; int status; const char *field; } bad;

/* A 3x3 one-channel input plus `rest`, kept in a static pool. */
static const char *with_input(const char *rest) {
    static char pool[96][512];
    static int used;
    cr_assert_lt(used, 96);
    snprintf(pool[used], sizeof pool[used], "{\"input\": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], %s}", rest);
    return pool[used++];
}

Test(srv_errors, table) {
#define B(rest) with_input(rest)
    const bad table[] = {
        {"conv", "{\"input\": [[1]], \"kernel\": \"box\"", 400, "body"},
        {"conv", "{\"input\": [[1]], \"kernel\": \"box\"} trailing", 400, "body"},
        {"conv", "[1, 2]", 400, "body"},
        {"conv", "", 400, "body"},
        {"conv", B("\"kernel\": \"box\", \"kernel\": \"box\""), 400, "kernel"},
        {"conv", B("\"kernel\": \"nope\""), 400, "kernel"},
        {"conv", B("\"kernel\": \"box\", \"stride\": 0"), 400, "stride"},
        {"conv", B("\"kernel\": \"box\", \"stride\": 1.5"), 400, "stride"},
        {"conv", B("\"kernel\": \"box\", \"stride\": \"2\""), 400, "stride"},
        {"conv", B("\"kernel\": \"box\", \"stride\": [1, 2, 3]"), 400, "stride"},
        {"conv", B("\"kernel\": \"box\", \"stride\": [1, 0]"), 400, "stride[1]"},
        {"conv", B("\"kernel\": \"box\", \"padding\": -1"), 400, "padding"},
        {"conv", B("\"kernel\": \"box\", \"padding\": 1e300"), 400, "padding"},
        {"conv", B("\"kernel\": \"box\", \"activation\": \"swish\""), 400, "activation"},
        {"conv", B("\"kernel\": \"box\", \"activation\": 3"), 400, "activation"},
        {"conv", B("\"kernel\": \"box\", \"render\": 1"), 400, "render"},
        {"conv", B("\"kernel\": [[[1, 1]]]"), 400, "kernel"},
        {"conv", B("\"kernels\": [[[1]]]"), 400, "kernels"},
        {"conv", B("\"kernel\": [[1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1], [1, 1, 1, 1]]"), 400, "kernel"},
        {"conv", B("\"kernel\": \"box\", \"kernels\": [[[[1]]]]"), 400, "kernels"},
        {"conv", "{\"input\": [[1, 2, 3], [4, 5, 6], [7, 8, 9]]}", 400, "kernel"},
        {"conv", "{\"kernel\": \"box\"}", 400, "input"},
        {"conv", B("\"kernel\": \"box\", \"image\": \"aGk=\""), 400, "input"},
        {"conv", "{\"image\": \"!!!!\", \"kernel\": \"box\"}", 400, "image"},
        {"conv", "{\"image\": \"aGVsbG8gd29ybGQ=\", \"kernel\": \"box\"}", 415, "image"},
        {"conv", "{\"image\": 5, \"kernel\": \"box\"}", 400, "image"},
        {"conv", B("\"kernel\": \"box\", \"grayscale\": true"), 400, "grayscale"},
        {"conv", B("\"kernel\": \"box\", \"paddding\": 1"), 400, "paddding"},
        {"conv", B("\"filters\": {\"count\": 0, \"size\": 3}"), 400, "filters.count"},
        {"conv", B("\"filters\": {\"count\": 2}"), 400, "filters.size"},
        {"conv", B("\"filters\": {\"count\": 2, \"size\": 3, \"init\": \"zeros\"}"), 400, "filters.init"},
        {"conv", B("\"filters\": {\"count\": 2, \"size\": 3, \"seed\": -1}"), 400, "filters.seed"},
        {"conv", B("\"filters\": 3"), 400, "filters"},
        {"conv", B("\"kernel\": \"box\", \"seed\": \"abc\""), 400, "seed"},
        {"conv", B("\"kernel\": \"box\", \"seed\": 1.5"), 400, "seed"},
        {"conv", B("\"kernel\": \"box\", \"bias\": [1, 2]"), 400, "bias"},
        {"conv", B("\"kernel\": \"box\", \"bias\": \"x\""), 400, "bias"},
        {"conv", "{\"input\": [[1, 2], [3]], \"kernel\": \"box\"}", 400, "input"},
        {"conv", "{\"input\": [[1, null]], \"kernel\": \"box\"}", 400, "input"},
        {"conv", "{\"input\": {\"shape\": [2, 2], \"data\": [1, 2, 3]}, \"kernel\": \"box\"}", 400, "input.data"},
        {"conv", "{\"input\": {\"shape\": [2, -2], \"data\": [1, 2, 3]}, \"kernel\": \"box\"}", 400, "input.shape[1]"},
        {"conv", "{\"input\": [[[[1]]]], \"kernel\": \"box\"}", 400, "input"},
        {"pool", B("\"function\": \"median\""), 400, "function"},
        {"pool", B("\"size\": 4"), 400, "size"},
        {"pool", B("\"size\": \"huge\""), 400, "size"},
        {"pool", B("\"size\": \"global\", \"stride\": 2"), 400, "stride"},
        {"pool", B("\"stride\": 0"), 400, "stride"},
        {"mlp", "{\"input\": [1, 2], \"hidden_layers\": -1}", 400, "hidden_layers"},
        {"mlp", "{\"input\": [1, 2], \"hidden_layers\": 2, \"hidden_size\": [3]}", 400, "hidden_size"},
        {"mlp", "{\"input\": [1, 2], \"hidden_size\": [0]}", 400, "hidden_size[0]"},
        {"mlp", "{\"input\": [1, 2], \"output_size\": 0}", 400, "output_size"},
        {"mlp", "{\"hidden_layers\": 1}", 400, "input"},
        {"mlp", "{\"input\": [1, 2], \"hidden_layers\": 0, \"output_size\": 2, \"weights\": [{\"weight\": [[1, 2, 3], [4, 5, 6]]}]}", 400, "weights[0].weight"},
        {"mlp", "{\"input\": [1, 2], \"hidden_layers\": 0, \"output_size\": 2, \"weights\": [{\"weight\": [[1, 2], [4, 5]], \"bias\": [1]}]}", 400, "weights[0].bias"},
        {"mlp", "{\"input\": [1, 2], \"hidden_layers\": 0, \"weights\": []}", 400, "weights"},
        {"mlp", "{\"input\": [1e38, 1e38], \"hidden_layers\": 0, \"output_size\": 1, \"weights\": [{\"weight\": [[1e38], [1e38]]}]}", 400, "input"},
        {"conv", "{\"input\": [[3e38, 3e38]], \"kernel\": [[1, 1]]}", 400, "input"},
        {"cnn", B("\"architecture\": [{\"type\": \"dropout\"}]"), 400, "architecture[0].type"},
        {"cnn", B("\"architecture\": [{\"size\": 3}]"), 400, "architecture[0].type"},
        {"cnn", B("\"architecture\": []"), 400, "architecture"},
        {"cnn", B("\"architecture\": [{\"type\": \"conv\", \"filters\": 2, \"size\": 5}]"), 400, "architecture[0].size"},
        {"cnn", B("\"architecture\": [{\"type\": \"pool\", \"size\": 2}, {\"type\": \"pool\", \"size\": 2}]"), 400, "architecture[1].size"},
        {"cnn", B("\"architecture\": [{\"type\": \"conv\", \"filters\": 2, \"size\": 1, \"stride\": 0}]"), 400, "architecture[0].stride"},
        {"cnn", B("\"architecture\": [{\"type\": \"mlp\", \"output_size\": 2}, {\"type\": \"conv\", \"filters\": 1, \"size\": 1}]"), 400, NULL},
        {"cnn", B("\"architecture\": [{\"type\": \"conv\", \"filters\": 2, \"size\": 1, \"activation\": \"gelu\"}]"), 400, "architecture[0].activation"},
        {"cnn", B("\"softmax\": \"yes\""), 400, "softmax"},
        {"cnn", B("\"seed\": 0.5"), 400, "seed"},
        {"nope", "{}", 404, NULL},
    };
#undef B
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        ht_post_err(NULL, table[i].ep, table[i].body, table[i].status, table[i].field);
    cr_assert_geq(sizeof table / sizeof table[0], 40u);
    const char *const not_json[] = {"text/plain", "multipart/form-data; boundary=x"};
    for (size_t i = 0; i < 2; i++) {
        srv_response r = ht_post(NULL, "conv", not_json[i], "{}");
        ht_expect_error(&r, 415, "Content-Type");
        srv_response_free(&r);
    }
    /* curl -d's default Content-Type is accepted. */
    srv_response r = ht_post(NULL, "pool", "application/x-www-form-urlencoded", "{\"input\": [[1, 2], [3, 4]]}");
    cr_assert_eq(r.status, 200, "%s", r.body);
    srv_response_free(&r);
    r = ht_post(NULL, "pool", NULL, "{\"input\": [[1, 2], [3, 4]]}");
    cr_assert_eq(r.status, 200);
    srv_response_free(&r);
}

Test(srv_errors, oversized_work_is_413) {
    char *body = image_body("tests/data/srv/rgb_3x2.png", "\"resize\": [4096, 4096], \"filters\": {\"count\": 4096, \"size\": 3}");
    srv_response r = call("conv", body);
    free(body);
    cr_assert_eq(r.status, 413, "%s", r.body);
    srv_response_free(&r);
    ht_post_err(NULL, "cnn", "{\"input\": [[1, 2], [3, 4]], \"architecture\": [{\"type\": \"mlp\", \"hidden_size\": 16000000, \"output_size\": 16000000}]}", 413, "architecture");
    ht_post_err(NULL, "mlp", "{\"input\": [1, 2], \"hidden_size\": 16000000, \"output_size\": 16000000}", 413, "hidden_size");
}

/* An mlp with "hidden_layers": 0 right after a conv layer is one linear layer over the conv's
 * [H, W, C] volume flattened in (h, w, c) order: with filters x1 and x10 over [[1, 2], [3, 4]] the
 * flat vector is [1, 10, 2, 20, 3, 30, 4, 40] (PyTorch's NCHW order would be [1, 2, 3, 4, 10, ...]),
 * and a weight matrix [8, 2] picking entries 2 and 5 answers 2 and 30. */
Test(srv_cnn, mlp_without_hidden_layers_flattens_hwc) {
    cJSON *res = ht_post_ok(NULL, "cnn",
        "{\"input\": [[[1], [2]], [[3], [4]]], \"softmax\": false, \"architecture\": ["
        "{\"type\": \"conv\", \"filters\": 2, \"size\": 1, \"activation\": \"identity\","
        " \"kernels\": {\"shape\": [2, 1, 1, 1], \"data\": [1, 10]}, \"bias\": [0, 0]},"
        "{\"type\": \"mlp\", \"hidden_layers\": 0, \"output_size\": 2, \"weights\": [{\"weight\":"
        " [[0, 0], [0, 0], [1, 0], [0, 0], [0, 0], [0, 1], [0, 0], [0, 0]], \"bias\": [0, 0.5]}]}]}");
    const cJSON *logits = cJSON_GetObjectItem(res, "logits");
    cr_assert_eq(cJSON_GetArraySize(logits), 2);
    cr_assert_float_eq(cJSON_GetArrayItem(logits, 0)->valuedouble, 2.0, 1e-6);
    cr_assert_float_eq(cJSON_GetArrayItem(logits, 1)->valuedouble, 30.5, 1e-6);
    const cJSON *layers = cJSON_GetObjectItem(res, "layers");
    cr_assert_eq(cJSON_GetArraySize(layers), 2, "one linear layer, no hidden one");
    cJSON_Delete(res);
}
