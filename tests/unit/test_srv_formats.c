/* test_srv_formats.c — tensors as .npy through the request handlers (no socket): {"npy"} inputs
 * wherever a tensor is read (/conv input, kernel, kernels, bias; /pool input; /mlp input and
 * weights; /cnn kernels and weights; training init and dataset) give the same results as JSON
 * numbers; "output_format": "npy" returns every tensor with the exact float32 (float64 for
 * training weights) bits; a response tensor goes back in as it is; the bad cases answer 400/415/413
 * naming the field; the numpy_rand / numpy_randn inits give NumPy's own draws
 * (tests/fixtures/numpy_random.json). The .npy files are written and read here by
 * tests/support/npy_test.c, independently of the server's code, plus files NumPy wrote. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "handler_test.h"
#include "ndjson_sink.h"
#include "npy_test.h"
#include "srv_api.h"

/* ---- helpers --------------------------------------------------------------------------- */

/* POST, assert 200, parsed answer (req is kept). */
static cJSON *ok(const char *ep, const cJSON *req) { return ht_post_ok_json(NULL, ep, req); }

/* POST req twice: the answer in JSON (*json), then with "output_format": "npy" added (*npy). */
static void ok_json_and_npy(const char *ep, cJSON *req, cJSON **json, cJSON **npy) {
    *json = ok(ep, req);
    cJSON_AddStringToObject(req, "output_format", "npy");
    *npy = ok(ep, req);
}

/* POST (req consumed), assert the error status and field. */
static void err(const char *ep, cJSON *req, int status, const char *field) {
    ht_post_err_json(NULL, ep, req, status, field);
    cJSON_Delete(req);
}

/* {"npy": base64} for float32 data. */
static cJSON *npy_f32(const float *x, const size_t *shape, size_t ndim) {
    cJSON *o = cJSON_CreateObject();
    char *s = tnpy_b64_f32(x, shape, ndim);
    cJSON_AddStringToObject(o, "npy", s);
    free(s);
    return o;
}

static cJSON *npy_raw(const void *x, size_t item, const char *descr, const size_t *shape, size_t ndim, int fortran) {
    cJSON *o = cJSON_CreateObject();
    char *s = tnpy_b64(x, item, descr, shape, ndim, fortran);
    cJSON_AddStringToObject(o, "npy", s);
    free(s);
    return o;
}

static cJSON *json_f32(const float *x, const size_t *shape, size_t ndim) {
    cJSON *o = cJSON_CreateObject(), *sh = cJSON_AddArrayToObject(o, "shape"), *d = cJSON_AddArrayToObject(o, "data");
    size_t n = 1;
    for (size_t i = 0; i < ndim; i++) {
        cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)shape[i]));
        n *= shape[i];
    }
    for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(d, cJSON_CreateNumber(x[i]));
    return o;
}

/* The values of a JSON tensor {"shape", "data"} or plain list. */
static double *json_values(const cJSON *t, size_t *n) {
    const cJSON *d = cJSON_IsArray(t) ? t : cJSON_GetObjectItem(t, "data");
    cr_assert(cJSON_IsArray(d));
    *n = (size_t)cJSON_GetArraySize(d);
    double *v = malloc((*n + 1) * sizeof *v);
    size_t i = 0;
    for (const cJSON *c = d->child; c; c = c->next) v[i++] = c->valuedouble;
    return v;
}

/* JSON answer's member `key` and npy answer's member `key` hold the same float32 values. */
static void same_tensor(const cJSON *json, const cJSON *npy, const char *key, const char *dtype) {
    size_t n, m, shape[8], nd;
    double *a = json_values(cJSON_GetObjectItem(json, key), &n);
    double *b = tnpy_read(cJSON_GetObjectItem(npy, key), shape, &nd, &m, dtype);
    cr_assert_eq(n, m, "%s: %zu vs %zu values", key, n, m);
    for (size_t i = 0; i < n; i++) {
        double want = strcmp(dtype, "float32") == 0 ? (double)(float)a[i] : a[i];
        cr_assert(want == b[i], "%s[%zu]: json %.9g npy %.9g", key, i, a[i], b[i]);
    }
    free(a);
    free(b);
}

static void fill(float *x, size_t n, float scale, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = ((float)(seed >> 8) / 16777216.0f - 0.5f) * scale;
    }
}

/* ---- inputs ---------------------------------------------------------------------------- */

Test(npy_input, conv_npy_equals_json_in_every_tensor_field) {
    float x[5 * 6 * 3], k[2 * 3 * 3 * 3], b[2] = {0.25f, -0.5f};
    size_t xs[3] = {5, 6, 3}, ks[4] = {2, 3, 3, 3}, bs[1] = {2};
    fill(x, 90, 2.0f, 1);
    fill(k, 54, 1.0f, 2);
    cJSON *ja = cJSON_CreateObject(), *jb = cJSON_CreateObject();
    cJSON_AddItemToObject(ja, "input", json_f32(x, xs, 3));
    cJSON_AddItemToObject(ja, "kernels", json_f32(k, ks, 4));
    cJSON_AddItemToObject(ja, "bias", json_f32(b, bs, 1));
    cJSON_AddItemToObject(jb, "input", npy_f32(x, xs, 3));
    cJSON_AddItemToObject(jb, "kernels", npy_f32(k, ks, 4));
    cJSON_AddItemToObject(jb, "bias", npy_f32(b, bs, 1));
    cJSON *ra = ok("conv", ja), *rb = ok("conv", jb);
    size_t n, m;
    double *ya = json_values(cJSON_GetObjectItem(ra, "output"), &n), *yb = json_values(cJSON_GetObjectItem(rb, "output"), &m);
    cr_assert_eq(n, 3u * 4 * 2);
    cr_assert_eq(n, m);
    for (size_t i = 0; i < n; i++) cr_assert(ya[i] == yb[i], "output[%zu]", i);
    free(yb);
    /* float64 input (values exactly float32) and a 2-D "kernel" [KH, KW] as .npy */
    double xd[90], kd[9];
    for (size_t i = 0; i < 90; i++) xd[i] = x[i];
    for (size_t i = 0; i < 9; i++) kd[i] = (double)k[i];
    size_t k2[2] = {3, 3};
    cJSON *jc = cJSON_CreateObject(), *jd = cJSON_CreateObject();
    cJSON_AddItemToObject(jc, "input", npy_raw(xd, 8, "<f8", xs, 3, 0));
    cJSON_AddItemToObject(jc, "kernel", npy_raw(kd, 8, "<f8", k2, 2, 0));
    float kf[9];
    for (size_t i = 0; i < 9; i++) kf[i] = k[i];
    cJSON_AddItemToObject(jd, "input", json_f32(x, xs, 3));
    cJSON_AddItemToObject(jd, "kernel", json_f32(kf, k2, 2));
    cJSON *rc = ok("conv", jc), *rd = ok("conv", jd);
    free(ya);
    ya = json_values(cJSON_GetObjectItem(rc, "output"), &n);
    yb = json_values(cJSON_GetObjectItem(rd, "output"), &m);
    cr_assert_eq(n, m);
    for (size_t i = 0; i < n; i++) cr_assert(ya[i] == yb[i], "f64 output[%zu]", i);
    free(ya);
    free(yb);
    cJSON *all[] = {ja, jb, jc, jd, ra, rb, rc, rd};
    for (size_t i = 0; i < 8; i++) cJSON_Delete(all[i]);
}

/* A uint8 array NumPy wrote (tests/fixtures/npy/u8_4x3x3.npy) pools like its values as numbers. */
Test(npy_input, pool_reads_numpys_uint8_file) {
    char path[512];
    snprintf(path, sizeof path, "%s/npy/u8_4x3x3.npy", fx_dir());
    FILE *f = fopen(path, "rb");
    cr_assert(f, "%s", path);
    unsigned char raw[4096];
    size_t len = fread(raw, 1, sizeof raw, f);
    fclose(f);
    char *b64 = tnpy_base64(raw, len);
    cJSON *req = cJSON_CreateObject(), *in = cJSON_AddObjectToObject(req, "input");
    cJSON_AddStringToObject(in, "npy", b64);
    free(b64);
    cJSON_AddStringToObject(req, "function", "max");
    cJSON_AddNumberToObject(req, "size", 2);
    cJSON *r = ok("pool", req);
    cJSON *cases = fx_load("npy/cases.json");
    const cJSON *vals = NULL;
    for (const cJSON *c = cJSON_GetObjectItem(cases, "cases")->child; c; c = c->next)
        if (!strcmp(fx_str(c, "name"), "u8_4x3x3")) vals = cJSON_GetObjectItem(c, "values");
    cr_assert(vals);
    double v[36];
    size_t i = 0, n;
    for (const cJSON *c = vals->child; c; c = c->next) v[i++] = c->valuedouble;
    double *y = json_values(cJSON_GetObjectItem(r, "output"), &n);
    cr_assert_eq(n, 2u * 1 * 3);
    for (size_t oh = 0; oh < 2; oh++)
        for (size_t c = 0; c < 3; c++) {
            double m = -1;
            for (size_t dh = 0; dh < 2; dh++)
                for (size_t dw = 0; dw < 2; dw++) m = fmax(m, v[((2 * oh + dh) * 3 + dw) * 3 + c]);
            cr_assert_eq(y[oh * 3 + c], m, "output[%zu, 0, %zu]", oh, c);
        }
    free(y);
    cJSON_Delete(cases);
    cJSON_Delete(req);
    cJSON_Delete(r);
}

/* ---- output_format ---------------------------------------------------------------------- */

Test(npy_output, conv_every_tensor_exact_and_sent_back) {
    float x[9 * 8 * 3];
    size_t xs[3] = {9, 8, 3};
    fill(x, sizeof x / sizeof x[0], 3.0f, 9);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddItemToObject(req, "input", json_f32(x, xs, 3));
    cJSON *fl = cJSON_AddObjectToObject(req, "filters");
    cJSON_AddNumberToObject(fl, "count", 4);
    cJSON_AddNumberToObject(fl, "size", 3);
    cJSON_AddStringToObject(req, "activation", "tanh");
    cJSON *json, *npy;
    ok_json_and_npy("conv", req, &json, &npy);
    same_tensor(json, npy, "output", "float32");
    same_tensor(json, npy, "kernels", "float32");
    same_tensor(json, npy, "bias", "float32");
    cr_assert(cJSON_IsArray(cJSON_GetObjectItem(npy, "input_shape")), "shapes stay lists");
    /* the kernels object of the answer, sent back as it is, gives the same output */
    cJSON *again = cJSON_CreateObject();
    cJSON_AddItemToObject(again, "input", json_f32(x, xs, 3));
    cJSON_AddItemToObject(again, "kernels", cJSON_Duplicate(cJSON_GetObjectItem(npy, "kernels"), 1));
    cJSON_AddStringToObject(again, "activation", "tanh");
    cJSON_AddStringToObject(again, "output_format", "NPY");
    cJSON *r2 = ok("conv", again);
    cr_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(r2, "output"), "npy")->valuestring,
                     cJSON_GetObjectItem(cJSON_GetObjectItem(npy, "output"), "npy")->valuestring);
    cJSON *objs[] = {req, json, npy, again, r2};
    for (size_t i = 0; i < 5; i++) cJSON_Delete(objs[i]);
}

Test(npy_output, pool_mlp_cnn) {
    float x[6 * 6 * 2];
    size_t xs[3] = {6, 6, 2};
    fill(x, 72, 1.0f, 4);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddItemToObject(req, "input", npy_f32(x, xs, 3));
    cJSON_AddStringToObject(req, "function", "average");
    cJSON_AddNumberToObject(req, "size", 3);
    cJSON *a, *b;
    ok_json_and_npy("pool", req, &a, &b);
    same_tensor(a, b, "output", "float32");
    cJSON_Delete(req), cJSON_Delete(a), cJSON_Delete(b);
    /* /mlp: input and weights as .npy; logits, softmax and weights come back as .npy */
    float w0[72 * 5], b0[5], w1[5 * 3];
    fill(w0, 360, 0.2f, 5);
    fill(b0, 5, 0.1f, 6);
    fill(w1, 15, 0.5f, 7);
    size_t s0[2] = {72, 5}, sb[1] = {5}, s1[2] = {5, 3};
    req = cJSON_CreateObject();
    cJSON_AddItemToObject(req, "input", npy_f32(x, xs, 3));
    cJSON_AddNumberToObject(req, "hidden_layers", 1);
    cJSON_AddNumberToObject(req, "hidden_size", 5);
    cJSON_AddNumberToObject(req, "output_size", 3);
    cJSON_AddTrueToObject(req, "return_weights");
    cJSON *ws = cJSON_AddArrayToObject(req, "weights"), *l0 = cJSON_CreateObject(), *l1 = cJSON_CreateObject();
    cJSON_AddItemToObject(l0, "weight", npy_f32(w0, s0, 2));
    cJSON_AddItemToObject(l0, "bias", npy_f32(b0, sb, 1));
    cJSON_AddItemToObject(l1, "weight", json_f32(w1, s1, 2));
    cJSON_AddItemToArray(ws, l0);
    cJSON_AddItemToArray(ws, l1);
    ok_json_and_npy("mlp", req, &a, &b);
    same_tensor(a, b, "logits", "float32");
    same_tensor(a, b, "softmax", "float32");
    same_tensor(cJSON_GetArrayItem(cJSON_GetObjectItem(a, "weights"), 0),
                cJSON_GetArrayItem(cJSON_GetObjectItem(b, "weights"), 0), "weight", "float32");
    same_tensor(cJSON_GetArrayItem(cJSON_GetObjectItem(a, "weights"), 1),
                cJSON_GetArrayItem(cJSON_GetObjectItem(b, "weights"), 1), "bias", "float32");
    cJSON_Delete(req), cJSON_Delete(a), cJSON_Delete(b);
    /* /cnn: a conv layer's kernels as .npy, the output as .npy */
    float k[3 * 3 * 3 * 2];
    size_t ks[4] = {3, 3, 3, 2};
    fill(k, 54, 0.5f, 8);
    req = cJSON_CreateObject();
    cJSON_AddItemToObject(req, "input", npy_f32(x, xs, 3));
    cJSON *arch = cJSON_AddArrayToObject(req, "architecture"), *conv = cJSON_CreateObject(), *gp = cJSON_CreateObject(),
          *mlp = cJSON_CreateObject();
    cJSON_AddStringToObject(conv, "type", "conv");
    cJSON_AddNumberToObject(conv, "filters", 3);
    cJSON_AddItemToObject(conv, "kernels", npy_f32(k, ks, 4));
    cJSON_AddStringToObject(gp, "type", "global_pool");
    cJSON_AddStringToObject(mlp, "type", "mlp");
    cJSON_AddNumberToObject(mlp, "output_size", 4);
    cJSON_AddItemToArray(arch, conv);
    cJSON_AddItemToArray(arch, gp);
    cJSON_AddItemToArray(arch, mlp);
    ok_json_and_npy("cnn", req, &a, &b);
    same_tensor(a, b, "output", "float32");
    same_tensor(a, b, "logits", "float32");
    cJSON_Delete(req), cJSON_Delete(a), cJSON_Delete(b);
}

/* ---- errors ----------------------------------------------------------------------------- */

static cJSON *conv_with_input(cJSON *input) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "input", input);
    cJSON_AddStringToObject(r, "kernel", "box");
    return r;
}

Test(npy_errors, status_and_field) {
    float x[12] = {0};
    size_t s3[3] = {2, 2, 3}, s0[1] = {0};
    double big[2] = {1e39, 1};
    float nanv[2] = {0, NAN};
    unsigned char u[12] = {0};
    long long i64[12] = {0};
    size_t s1[1] = {2}, s9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 12}, s4[4] = {1, 2, 2, 3};
    err("conv", conv_with_input(npy_raw(i64, 8, "<i8", s3, 3, 0)), 415, "input.npy");
    err("conv", conv_with_input(npy_raw(x, 4, ">f4", s3, 3, 0)), 415, "input.npy");
    err("conv", conv_with_input(npy_raw(x, 4, "<f4", s3, 3, 1)), 415, "input.npy");
    err("conv", conv_with_input(npy_raw(x, 4, "<f4", s0, 1, 0)), 400, "input.npy");
    err("conv", conv_with_input(npy_raw(x, 4, "<f4", s0, 0, 0)), 400, "input.npy");
    err("conv", conv_with_input(npy_raw(x, 4, "<f4", s9, 9, 0)), 400, "input.npy");
    err("conv", conv_with_input(npy_raw(x, 4, "<f4", s4, 4, 0)), 400, "input");
    err("conv", conv_with_input(npy_raw(big, 8, "<f8", s1, 1, 0)), 400, "input.npy");
    err("conv", conv_with_input(npy_raw(nanv, 4, "<f4", s1, 1, 0)), 400, "input.npy");
    err("conv", conv_with_input(npy_raw(u, 1, "|u1", s3, 3, 0)), 400, "kernel"); /* fine input; box is 3x3 > 2x2 */
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "npy", "AAAA$");
    err("conv", conv_with_input(o), 400, "input.npy");
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "npy", "iVBORw0KGgo=");
    err("conv", conv_with_input(o), 415, "input.npy");
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "npy", 3);
    err("conv", conv_with_input(o), 400, "input.npy");
    o = npy_f32(x, s3, 3);
    cJSON_AddItemToObject(o, "shape", cJSON_CreateIntArray((const int[]){3, 2, 2}, 3));
    err("conv", conv_with_input(o), 400, "input.shape");
    o = npy_f32(x, s3, 3);
    cJSON_AddStringToObject(o, "dtype", "float64");
    err("conv", conv_with_input(o), 400, "input.dtype");
    o = npy_f32(x, s3, 3);
    cJSON_AddNumberToObject(o, "data", 1);
    err("conv", conv_with_input(o), 400, "input.data");
    /* the data of a .npy counts against the element limit like JSON data (413) */
    srv_limits lim;
    srv_limits_default(&lim);
    lim.max_tensor_elems = 10;
    cJSON *req = conv_with_input(npy_f32(x, s3, 3));
    char *body = cJSON_PrintUnformatted(req);
    srv_response r;
    srv_handle_json(&lim, "conv", NULL, body, strlen(body), NULL, &r);
    cr_assert_eq(r.status, 413, "%s", r.body);
    cr_assert(strstr(r.body, "\"field\":\"input.npy\""), "%s", r.body);
    srv_response_free(&r);
    free(body);
    cJSON_Delete(req);
    /* nested: an MLP layer's weight, a CNN layer's kernels */
    req = cJSON_CreateObject();
    cJSON_AddItemToObject(req, "input", cJSON_CreateFloatArray(x, 2));
    cJSON_AddNumberToObject(req, "hidden_layers", 0);
    cJSON_AddNumberToObject(req, "output_size", 2);
    cJSON *ws = cJSON_AddArrayToObject(req, "weights"), *l0 = cJSON_CreateObject();
    size_t s22[2] = {2, 2};
    cJSON_AddItemToObject(l0, "weight", npy_raw(x, 4, "<f4", s22, 2, 1));
    cJSON_AddItemToArray(ws, l0);
    err("mlp", req, 415, "weights[0].weight.npy");
    req = cJSON_CreateObject();
    cJSON_AddStringToObject(req, "output_format", "xml");
    cJSON_AddItemToObject(req, "input", cJSON_CreateFloatArray(x, 2));
    err("mlp", req, 400, "output_format");
}

/* ---- NumPy's random numbers through the endpoints -------------------------------------- */

Test(numpy_init, conv_mlp_cnn_draw_numpys_numbers) {
    cJSON *fx = fx_require("numpy_random.json");
    const cJSON *asg = cJSON_GetObjectItem(fx, "assignment");
    float x[5 * 5 * 3] = {0};
    size_t xs[3] = {5, 5, 3};
    cJSON *req = cJSON_CreateObject(), *fl;
    cJSON_AddItemToObject(req, "input", json_f32(x, xs, 3));
    fl = cJSON_AddObjectToObject(req, "filters");
    cJSON_AddNumberToObject(fl, "count", 16);
    cJSON_AddNumberToObject(fl, "size", 3);
    cJSON_AddStringToObject(fl, "init", "numpy_randn");
    cJSON_AddNumberToObject(req, "seed", 42);
    cJSON_AddStringToObject(req, "output_format", "npy");
    cJSON *r = ok("conv", req);
    size_t n, m, shape[8], nd;
    double *got = tnpy_read(cJSON_GetObjectItem(r, "kernels"), shape, &nd, &n, "float32");
    double *want = json_values(cJSON_GetObjectItem(asg, "kernels"), &m);
    cr_assert_eq(n, 16u * 27);
    cr_assert_eq(n, m);
    for (size_t i = 0; i < n; i++) cr_assert(got[i] == want[i], "kernels[%zu] %.9g, NumPy %.9g", i, got[i], want[i]);
    free(got), free(want), cJSON_Delete(r);
    /* NumPy's seed range: 2**32 is refused, naming where the seed was given */
    cJSON_ReplaceItemInObject(req, "seed", cJSON_CreateNumber(4294967296.0));
    err("conv", cJSON_Duplicate(req, 1), 400, "seed");
    cJSON_AddNumberToObject(fl, "seed", 4294967296.0);
    err("conv", cJSON_Duplicate(req, 1), 400, "filters.seed");
    cJSON_Delete(req);
    /* /mlp: randn(16, 64), randn(64, 64), randn(64, 10), biases zero */
    float v[16] = {0};
    req = cJSON_CreateObject();
    cJSON_AddItemToObject(req, "input", cJSON_CreateFloatArray(v, 16));
    cJSON_AddNumberToObject(req, "hidden_layers", 2);
    cJSON_AddNumberToObject(req, "hidden_size", 64);
    cJSON_AddNumberToObject(req, "output_size", 10);
    cJSON_AddStringToObject(req, "activation", "relu");
    cJSON_AddStringToObject(req, "init", "numpy_randn");
    cJSON_AddNumberToObject(req, "seed", 42);
    cJSON_AddTrueToObject(req, "return_weights");
    r = ok("mlp", req);
    size_t l = 0;
    for (const cJSON *w = cJSON_GetObjectItem(asg, "mlp")->child; w; w = w->next, l++) {
        const cJSON *layer = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "weights"), (int)l);
        got = json_values(cJSON_GetObjectItem(layer, "weight"), &n);
        want = json_values(w, &m);
        cr_assert_eq(n, m);
        for (size_t i = 0; i < n; i++) cr_assert((float)got[i] == (float)want[i], "mlp W%zu[%zu]", l, i);
        free(got), free(want);
        got = json_values(cJSON_GetObjectItem(layer, "bias"), &n);
        for (size_t i = 0; i < n; i++) cr_assert_eq(got[i], 0.0);
        free(got);
    }
    cr_assert_eq(l, 3);
    cJSON_Delete(r);
    cJSON_ReplaceItemInObject(req, "seed", cJSON_CreateNumber(4294967296.0));
    err("mlp", req, 400, "seed");
    cJSON_Delete(fx);
}

/* ---- training ---------------------------------------------------------------------------- */

static cJSON *train(cJSON *req) {
    char *body = cJSON_PrintUnformatted(req);
    srv_limits lim;
    srv_limits_default(&lim);
    srv_response e;
    srv_train_job *j = srv_train_prepare(&lim, "gru", NULL, body, strlen(body), &e);
    free(body);
    cr_assert(j, "%s", e.body);
    sink s = {0};
    cr_assert_eq(srv_train_run(j, emit, &s, NULL), 200, "%s", s.buf);
    srv_train_free(j);
    cJSON *r = cJSON_Parse(s.buf);
    cr_assert(r);
    free(s.buf);
    return r;
}

Test(npy_train, init_and_dataset_as_npy_weights_back_as_float64) {
    /* the same run three ways: JSON in and out; .npy in, JSON out; .npy in and out. The values
     * are short binary fractions: cJSON prints doubles to 15 digits when that reads back within
     * an epsilon, so other values would not reach the JSON run exactly (what .npy is for). */
    double xs[4][3][2] = {{{0.5, 1}, {0.25, 0}, {0.75, 1}}, {{0.1, 0}, {0.9, 1}, {0.3, 1}},
                          {{0.2, 1}, {0.4, 1}, {0.6, 0}}, {{0.8, 0}, {0.7, 1}, {0.5, 1}}};
    double ys[4] = {1.25, 1.2, 0.6, 1.2};
    size_t H = 2, sx[2] = {3, 2};
    double wih[6 * 2], whh[6 * 2];
    for (size_t i = 0; i < 12; i++) {
        wih[i] = ((double)i - 6.0) / 16.0;
        whh[i] = (5.0 - (double)i) / 32.0;
    }
    size_t sw[2] = {3 * H, 2}, sh[2] = {3 * H, H};
    cJSON *reqs[2];
    for (int k = 0; k < 2; k++) {
        cJSON *req = cJSON_CreateObject(), *ds = cJSON_AddArrayToObject(req, "dataset"),
              *init = cJSON_AddObjectToObject(req, "init");
        for (int s = 0; s < 4; s++) {
            cJSON *smp = cJSON_CreateObject();
            if (k) {
                cJSON_AddItemToObject(smp, "x", npy_raw(xs[s], 8, "<f8", sx, 2, 0));
            } else {
                cJSON *x = cJSON_AddArrayToObject(smp, "x");
                for (int t = 0; t < 3; t++) cJSON_AddItemToArray(x, cJSON_CreateDoubleArray(xs[s][t], 2));
            }
            cJSON_AddNumberToObject(smp, "y", ys[s]);
            cJSON_AddItemToArray(ds, smp);
        }
        if (k) {
            cJSON_AddItemToObject(init, "weight_ih", npy_raw(wih, 8, "<f8", sw, 2, 0));
            cJSON_AddItemToObject(init, "weight_hh", npy_raw(whh, 8, "<f8", sh, 2, 0));
        } else {
            cJSON *a = cJSON_AddArrayToObject(init, "weight_ih"), *b = cJSON_AddArrayToObject(init, "weight_hh");
            for (size_t r = 0; r < 3 * H; r++) {
                cJSON_AddItemToArray(a, cJSON_CreateDoubleArray(wih + 2 * r, 2));
                cJSON_AddItemToArray(b, cJSON_CreateDoubleArray(whh + H * r, (int)H));
            }
        }
        cJSON_AddNumberToObject(req, "hidden_size", (double)H);
        cJSON_AddNumberToObject(req, "epochs", 2);
        cJSON_AddNumberToObject(req, "test_samples", 3);
        cJSON_AddFalseToObject(req, "stream");
        reqs[k] = req;
    }
    cJSON *a = train(reqs[0]), *b = train(reqs[1]);
    cJSON_AddStringToObject(reqs[1], "output_format", "npy");
    cJSON *c = train(reqs[1]);
    cJSON *wa = cJSON_GetObjectItem(a, "weights"), *wb = cJSON_GetObjectItem(b, "weights"),
          *wc = cJSON_GetObjectItem(c, "weights");
    int names = 0;
    for (const cJSON *t = wa->child; t; t = t->next, names++) {
        size_t n, m;
        double *va = json_values(t, &n), *vb = json_values(cJSON_GetObjectItem(wb, t->string), &m);
        cr_assert_eq(n, m);
        for (size_t i = 0; i < n; i++) cr_assert(va[i] == vb[i], "%s[%zu] %.17g %.17g", t->string, i, va[i], vb[i]);
        free(va), free(vb);
        same_tensor(wa, wc, t->string, "float64");
    }
    cr_assert_eq(names, 6);
    /* a tensor x that is not [T, 2] */
    cJSON *bad = cJSON_Duplicate(reqs[1], 1);
    double flat[6] = {0};
    size_t s6[1] = {6};
    cJSON *smp = cJSON_GetArrayItem(cJSON_GetObjectItem(bad, "dataset"), 2);
    cJSON_ReplaceItemInObject(smp, "x", npy_raw(flat, 8, "<f8", s6, 1, 0));
    char *body = cJSON_PrintUnformatted(bad);
    srv_response e;
    cr_assert_null(srv_train_prepare(NULL, "gru", NULL, body, strlen(body), &e));
    cr_assert_eq(e.status, 400);
    cr_assert(strstr(e.body, "\"field\":\"dataset[2].x\""), "%s", e.body);
    srv_response_free(&e);
    free(body);
    cJSON *objs[] = {reqs[0], reqs[1], a, b, c, bad};
    for (size_t i = 0; i < 6; i++) cJSON_Delete(objs[i]);
}
