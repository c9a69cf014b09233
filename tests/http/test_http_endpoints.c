/* test_http_endpoints.c — every POST endpoint's happy path through the real daemon, with the
 * values compared against the PyTorch reference fixtures (tests/fixtures/NAME.json) or against a
 * naive computation here, and an image decoded here with stb_image. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_NO_STDIO
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#endif
#include <stb_image.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

#include "fixture.h"
#include "http_support.h"

static th_server srv;
static void up(void) { th_start(&srv, NULL); }
static void down(void) { cr_assert_eq(th_stop(&srv), 0); }
TestSuite(endpoints, .init = up, .fini = down, .timeout = 120);

/* POST a cJSON request (consumed), assert 200, return the parsed answer. */
static cJSON *post(const char *path, cJSON *req) {
    char *body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    cr_assert(body);
    th_resp r;
    cr_assert_eq(th_post_json(&srv, path, body, &r), 0);
    free(body);
    cr_assert_eq(r.status, 200, "%s: %.400s", path, r.body);
    cr_assert(strstr(r.content_type, "application/json"));
    cJSON *j = th_json(&r);
    th_resp_free(&r);
    return j;
}

/* The "data" of a tensor object as doubles (asserts the shape when want_shape is given). */
static double *tensor_data(const cJSON *t, size_t *n, const cJSON *want_shape) {
    cr_assert(cJSON_IsObject(t), "tensor object expected");
    const cJSON *shape = cJSON_GetObjectItem(t, "shape"), *data = cJSON_GetObjectItem(t, "data");
    cr_assert(cJSON_IsArray(shape) && cJSON_IsArray(data));
    if (want_shape) {
        /* Trailing 1s do not count: [H, W] input may give [OH, OW, 1]. */
        cJSON *sa = cJSON_Duplicate(shape, 1), *sb = cJSON_Duplicate(want_shape, 1);
        while (cJSON_GetArraySize(sa) > 1 &&
               cJSON_GetArrayItem(sa, cJSON_GetArraySize(sa) - 1)->valuedouble == 1)
            cJSON_DeleteItemFromArray(sa, cJSON_GetArraySize(sa) - 1);
        while (cJSON_GetArraySize(sb) > 1 &&
               cJSON_GetArrayItem(sb, cJSON_GetArraySize(sb) - 1)->valuedouble == 1)
            cJSON_DeleteItemFromArray(sb, cJSON_GetArraySize(sb) - 1);
        char *a = cJSON_PrintUnformatted(sa), *b = cJSON_PrintUnformatted(sb);
        cJSON_Delete(sa);
        cJSON_Delete(sb);
        cr_assert_str_eq(a, b, "shape %s, want %s", a, b);
        free(a);
        free(b);
    }
    *n = (size_t)cJSON_GetArraySize(data);
    double *v = malloc((*n ? *n : 1) * sizeof *v);
    size_t i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, data) v[i++] = x->valuedouble;
    return v;
}

static double *array_data(const cJSON *a, size_t *n) {
    cr_assert(cJSON_IsArray(a), "array expected");
    *n = (size_t)cJSON_GetArraySize(a);
    double *v = malloc((*n ? *n : 1) * sizeof *v);
    size_t i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, a) v[i++] = x->valuedouble;
    return v;
}

/* Compare got with a reference (object tensor or plain array) within rel/abs tolerance. */
static void expect_close(const char *what, const double *got, size_t n, const cJSON *want,
                         double tol) {
    size_t m = 0;
    double *w = cJSON_IsArray(want) ? array_data(want, &m)
                                    : tensor_data(want, &m, NULL);
    cr_assert_eq(n, m, "%s: %zu values, want %zu", what, n, m);
    for (size_t i = 0; i < n; i++)
        cr_assert(fabs(got[i] - w[i]) <= tol * fmax(1.0, fabs(w[i])),
                  "%s[%zu] = %.9g, want %.9g", what, i, got[i], w[i]);
    free(w);
}

static cJSON *dup(const cJSON *c, const char *key) {
    cJSON *v = cJSON_GetObjectItem(c, key);
    cr_assert(v, "fixture key %s", key);
    return cJSON_Duplicate(v, 1);
}

/* res's "output" tensor against the fixture case's. */
static void expect_output(const cJSON *res, const cJSON *c, double tol) {
    const cJSON *want = cJSON_GetObjectItem(c, "output");
    size_t n = 0;
    double *got = tensor_data(cJSON_GetObjectItem(res, "output"), &n, cJSON_GetObjectItem(want, "shape"));
    expect_close(fx_str(c, "name"), got, n, want, tol);
    free(got);
}

/* res[got_key], a plain list, against the fixture case's want_key. */
static void expect_list(const cJSON *res, const char *got_key, const cJSON *c, const char *want_key,
                        double tol) {
    size_t n = 0;
    double *got = array_data(cJSON_GetObjectItem(res, got_key), &n);
    expect_close(want_key, got, n, cJSON_GetObjectItem(c, want_key), tol);
    free(got);
}

/* Fixtures write a bias as a tensor object; the API takes the plain list [out]. */
static void plain_bias(cJSON *o) {
    cJSON *b = cJSON_GetObjectItem(o, "bias");
    if (cJSON_IsObject(b)) cJSON_ReplaceItemInObject(o, "bias", cJSON_Duplicate(cJSON_GetObjectItem(b, "data"), 1));
}

static cJSON *fixture(const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s.json", name);
    cJSON *f = fx_load(path);
    cr_assert(f, "%s", path);
    return f;
}

/* Post every case of fixture `name` to path as request(case) and check(answer, case); the
 * number of cases. */
static int each_case(const char *name, const char *path, cJSON *(*request)(const cJSON *c),
                     void (*check)(const cJSON *res, const cJSON *c)) {
    cJSON *f = fixture(name);
    int cases = 0;
    for (const cJSON *c = fx_cases(f); c; c = c->next, cases++) {
        cJSON *res = post(path, request(c));
        check(res, c);
        cJSON_Delete(res);
    }
    cJSON_Delete(f);
    return cases;
}

/* The fixtures spell an MLP's sizes "hidden_sizes" (o's, taken); the API says hidden_layers and
 * hidden_size. */
static void api_hidden_sizes(cJSON *o, cJSON *hs) {
    cJSON_AddNumberToObject(o, "hidden_layers", cJSON_GetArraySize(hs));
    if (cJSON_GetArraySize(hs) > 0) cJSON_AddItemToObject(o, "hidden_size", hs);
    else cJSON_Delete(hs);
}

static void check_conv(const cJSON *res, const cJSON *c) {
    expect_output(res, c, 1e-4);
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(res, "flops")));
}

Test(endpoints, conv_matches_pytorch_fixtures) {
    cr_assert_gt(each_case("conv", "/conv", fx_conv_request, check_conv), 5);
}

static cJSON *pool_request(const cJSON *c) {
    cJSON *req = cJSON_CreateObject();
    cJSON_AddItemToObject(req, "input", dup(c, "input"));
    cJSON_AddItemToObject(req, "function", dup(c, "function"));
    if (cJSON_IsTrue(cJSON_GetObjectItem(c, "global")))
        cJSON_AddStringToObject(req, "size", "global");
    else
        cJSON_AddItemToObject(req, "size", dup(c, "size"));
    if (cJSON_GetObjectItem(c, "stride")) cJSON_AddItemToObject(req, "stride", dup(c, "stride"));
    return req;
}

static void check_pool(const cJSON *res, const cJSON *c) { expect_output(res, c, 1e-5); }

Test(endpoints, pool_matches_pytorch_fixtures) {
    cr_assert_gt(each_case("pool", "/pool", pool_request, check_pool), 5);
}

static cJSON *mlp_request(const cJSON *c) {
    cJSON *req = cJSON_CreateObject();
    cJSON_AddItemToObject(req, "input", dup(c, "input"));
    api_hidden_sizes(req, dup(c, "hidden_sizes"));
    cJSON_AddItemToObject(req, "output_size", dup(c, "output_size"));
    fx_add_activation(req, c);
    cJSON *ws = dup(c, "weights"), *w;
    cJSON_ArrayForEach(w, ws) plain_bias(w);
    cJSON_AddItemToObject(req, "weights", ws);
    return req;
}

static void check_mlp(const cJSON *res, const cJSON *c) {
    expect_list(res, "logits", c, "logits", 1e-4);
    expect_list(res, "softmax", c, "softmax", 1e-4);
    cr_assert(cJSON_IsArray(cJSON_GetObjectItem(res, "layers")));
}

Test(endpoints, mlp_matches_pytorch_fixtures) {
    cr_assert_gt(each_case("mlp", "/mlp", mlp_request, check_mlp), 3);
}

static cJSON *cnn_request(const cJSON *c) {
    cJSON *req = cJSON_CreateObject();
    cJSON_AddItemToObject(req, "input", dup(c, "input"));
    cJSON *arch = dup(c, "architecture"), *l;
    cJSON_ArrayForEach(l, arch) {
        cJSON *hs = cJSON_DetachItemFromObject(l, "hidden_sizes");
        if (hs) api_hidden_sizes(l, hs);
        plain_bias(l);
        cJSON *w;
        cJSON_ArrayForEach(w, cJSON_GetObjectItem(l, "weights")) plain_bias(w);
    }
    cJSON_AddItemToObject(req, "architecture", arch);
    return req;
}

static void check_cnn(const cJSON *res, const cJSON *c) {
    expect_list(res, "logits", c, "logits", 2e-4);
    expect_list(res, "output", c, "softmax", 2e-4);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(res, "layers")),
                 cJSON_GetArraySize(cJSON_GetObjectItem(c, "outputs")));
}

Test(endpoints, cnn_matches_pytorch_fixtures) {
    cr_assert_gt(each_case("cnn", "/cnn", cnn_request, check_cnn), 1);
}

/* The image path: pixels decoded by the daemon equal stb_image's here, scaled to [0, 1]. */
Test(endpoints, conv_on_a_png_matches_a_naive_convolution) {
    size_t len = 0;
    char *png = th_read_file("web/sample.png", &len);
    cr_assert(png);
    int W = 0, H = 0, C = 0;
    unsigned char *px = stbi_load_from_memory((const unsigned char *)png, (int)len, &W, &H, &C, 3);
    cr_assert(px && W == 256 && H == 256);
    /* An asymmetric 3x3x3 kernel, so flips or channel mix-ups show. */
    double k[3][3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            for (int ch = 0; ch < 3; ch++) k[i][j][ch] = (i - 1) * 0.5 + (j - 1) * 0.25 + ch * 0.1 - 0.05;
    cJSON *req = cJSON_CreateObject(), *kern = cJSON_CreateArray();
    for (int i = 0; i < 3; i++) {
        cJSON *row = cJSON_CreateArray();
        for (int j = 0; j < 3; j++) cJSON_AddItemToArray(row, cJSON_CreateDoubleArray(k[i][j], 3));
        cJSON_AddItemToArray(kern, row);
    }
    char *b64 = th_base64((const unsigned char *)png, len);
    char *uri = malloc(strlen(b64) + 32);
    sprintf(uri, "data:image/png;base64,%s", b64);
    cJSON_AddStringToObject(req, "image", uri);
    free(b64);
    free(uri);
    cJSON_AddItemToObject(req, "kernel", kern);
    cJSON_AddNumberToObject(req, "padding", 1);
    double t0 = th_now();
    cJSON *res = post("/conv", req);
    double dt = th_now() - t0;
    cJSON *shape = cJSON_Parse("[256,256,1]");
    size_t n = 0;
    double *got = tensor_data(cJSON_GetObjectItem(res, "output"), &n, shape);
    cJSON_Delete(shape);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double s = 0;
            for (int i = 0; i < 3; i++)
                for (int j = 0; j < 3; j++) {
                    int yy = y + i - 1, xx = x + j - 1;
                    if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                    for (int ch = 0; ch < 3; ch++)
                        s += k[i][j][ch] * px[(yy * W + xx) * 3 + ch] / 255.0;
                }
            cr_assert(fabs(got[y * W + x] - s) < 1e-4, "(%d,%d): %g vs %g", y, x,
                      got[y * W + x], s);
        }
    fprintf(stderr, "conv 256x256x3 * 3x3 via HTTP (with JSON output): %.1f ms\n", dt * 1e3);
    free(got);
    stbi_image_free(px);
    free(png);
    cJSON_Delete(res);
}

Test(endpoints, conv_preset_on_small_png_and_render) {
    size_t len = 0;
    char *png = th_read_file(TH_DATA "/http_small.png", &len);
    cr_assert(png);
    char *b64 = th_base64((const unsigned char *)png, len);
    free(png);
    char *body = malloc(strlen(b64) + 128);
    sprintf(body, "{\"image\":\"%s\",\"kernel\":\"identity\",\"render\":true}", b64);
    free(b64);
    th_resp r;
    cr_assert_eq(th_post_json(&srv, "/conv", body, &r), 0);
    free(body);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cJSON *res = th_json(&r);
    th_resp_free(&r);
    size_t n = 0;
    /* identity 3x3 replicated over RGB: each output is (r + g + b) / 255 of the centre pixel. */
    double *got = tensor_data(cJSON_GetObjectItem(res, "output"), &n, NULL);
    cr_assert_eq(n, 3 * 2);
    for (int y = 1; y <= 2; y++)
        for (int x = 1; x <= 3; x++) {
            double want = ((10 * x + y) + (50 + 3 * y) + (255 - 20 * x)) / 255.0;
            cr_assert(fabs(got[(y - 1) * 3 + (x - 1)] - want) < 1e-5, "(%d,%d)", y, x);
        }
    free(got);
    cJSON *maps = cJSON_GetObjectItem(res, "maps");
    cr_assert(cJSON_IsArray(maps) && cJSON_GetArraySize(maps) == 1, "render gives one map");
    cJSON_Delete(res);
}

/* ---------------------------------------------------------------- training */

static cJSON *rnn_request(const cJSON *c, int stream) {
    cJSON *req = cJSON_CreateObject(), *ds = cJSON_CreateArray();
    size_t shape[8], nd = 0, n = 0;
    double *x = fx_tensor_f64(c, "x", shape, &nd, &n);
    const cJSON *lens = cJSON_GetObjectItem(c, "len"), *ys = cJSON_GetObjectItem(c, "y"), *l;
    size_t off = 0, i = 0;
    cJSON_ArrayForEach(l, lens) {
        cJSON *s = cJSON_CreateObject(), *seq = cJSON_CreateArray();
        for (int t = 0; t < l->valueint; t++, off++)
            cJSON_AddItemToArray(seq, cJSON_CreateDoubleArray(x + off * 2, 2));
        cJSON_AddItemToObject(s, "x", seq);
        cJSON_AddNumberToObject(s, "y", cJSON_GetArrayItem(ys, (int)i++)->valuedouble);
        cJSON_AddItemToArray(ds, s);
    }
    cr_assert_eq(off, shape[0]);
    free(x);
    cJSON_AddItemToObject(req, "dataset", ds);
    cJSON_AddItemToObject(req, "init", dup(c, "init"));
    cJSON_AddItemToObject(req, "epochs", dup(c, "epochs"));
    cJSON_AddItemToObject(req, "batch_size", dup(c, "batch_size"));
    cJSON_AddItemToObject(req, "learning_rate", dup(c, "lr"));
    cJSON_AddItemToObject(req, "clip", dup(c, "clip"));
    cJSON_AddItemToObject(req, "hidden_size", dup(c, "hidden"));
    cJSON_AddNumberToObject(req, "test_samples", 50);
    cJSON_AddNumberToObject(req, "seed", 7);
    cJSON_AddBoolToObject(req, "stream", stream);
    return req;
}

static void expect_weights(const cJSON *got, const cJSON *want) {
    cr_assert(cJSON_IsObject(got), "done.weights");
    const cJSON *w;
    cJSON_ArrayForEach(w, want) {
        const cJSON *g = cJSON_GetObjectItem(got, w->string);
        cr_assert(g, "weights.%s missing", w->string);
        size_t n = 0;
        double *v = cJSON_IsArray(g) ? array_data(g, &n) : tensor_data(g, &n, NULL);
        expect_close(w->string, v, n, w, 1e-6);
        free(v);
    }
}

Test(endpoints, train_all_models_match_pytorch_fixtures) {
    cJSON *f = fixture("rnn_train");
    int cases = 0;
    for (const cJSON *c = fx_cases(f); c; c = c->next) {
        char path[64];
        snprintf(path, sizeof path, "/train/%s", fx_str(c, "model"));
        int stream = cases % 2 == 0;
        cJSON *req = rnn_request(c, stream);
        char *body = cJSON_PrintUnformatted(req);
        cJSON_Delete(req);
        if (stream) {
            static th_lines ls; /* 32 KiB: not on the stack */
            long status = th_stream(&srv, path, body, th_collect_lines, &ls);
            cr_assert_eq(status, 200);
            cr_assert_geq(ls.n, 2);
            cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(ls.items[0], "type")), "start");
            cJSON *done = ls.items[ls.n - 1];
            cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(done, "type")), "done",
                             "%s: last line must be done", fx_str(c, "name"));
            int epochs = 0;
            for (int i = 0; i < ls.n; i++)
                if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(ls.items[i], "type")), "epoch") == 0) epochs++;
            cr_assert_eq(epochs, (int)fx_num(c, "epochs"));
            cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(done, "train_loss")), epochs);
            expect_weights(cJSON_GetObjectItem(done, "weights"), cJSON_GetObjectItem(c, "final"));
            th_lines_free(&ls);
        } else {
            th_resp r;
            cr_assert_eq(th_post_json(&srv, path, body, &r), 0);
            cr_assert_eq(r.status, 200, "%s", r.body);
            cr_assert(strstr(r.content_type, "application/json"));
            cJSON *done = th_json(&r);
            th_resp_free(&r);
            cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(done, "type")), "done");
            expect_weights(cJSON_GetObjectItem(done, "weights"), cJSON_GetObjectItem(c, "final"));
            cJSON_Delete(done);
        }
        free(body);
        cases++;
    }
    cr_assert_geq(cases, 3);
    cJSON_Delete(f);
}
