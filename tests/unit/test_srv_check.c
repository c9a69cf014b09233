/* test_srv_check.c — POST /check/{conv,pool,mlp} through srv_handle_json (no socket).
 *
 * Every answer here is computed by the test itself, in double precision with its own naive
 * loops (never with the server's code): the right answer passes (also sent as a float64 .npy,
 * as a NumPy student would), and for every diagnosis code an answer made with exactly that
 * mistake fails and gets exactly that code (after "shape_mismatch" when the mistake changes the
 * shape). Then the tolerance's edges, the error fields, the mismatch map, the work budget and
 * bad requests. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler_test.h"
#include "npy_test.h"
#include "srv_api.h"
#include "srv_image.h"

/* ---- helpers --------------------------------------------------------------------------- */

static srv_response call_lim(const srv_limits *lim, const char *ep, const char *body) {
    return ht_post(lim, ep, "application/json", body);
}

/* POST ep with req (deleted here); 200 expected; the parsed answer (caller deletes). */
static cJSON *check_ok(const char *ep, cJSON *req) {
    cJSON *j = ht_post_ok_json(NULL, ep, req);
    cJSON_Delete(req);
    return j;
}

static int is_true(const cJSON *res, const char *key) { return cJSON_IsTrue(cJSON_GetObjectItem(res, key)); }

/* The diagnosis codes are exactly the NULL-terminated list given, in order. */
static void expect_codes(const cJSON *res, ...) {
    const cJSON *d = cJSON_GetObjectItem(res, "diagnosis");
    char *txt = cJSON_PrintUnformatted(d);
    va_list ap;
    va_start(ap, res);
    int i = 0;
    for (const char *code; (code = va_arg(ap, const char *)); i++) {
        const cJSON *c = cJSON_GetObjectItem(cJSON_GetArrayItem(d, i), "code");
        cr_assert(cJSON_IsString(c) && strcmp(c->valuestring, code) == 0, "diagnosis %d: want %s in %s", i, code, txt);
        const cJSON *m = cJSON_GetObjectItem(cJSON_GetArrayItem(d, i), "message");
        cr_assert(cJSON_IsString(m) && strlen(m->valuestring) > 20, "a message for %s", code);
    }
    va_end(ap);
    cr_assert_eq(cJSON_GetArraySize(d), i, "want %d codes, got %s", i, txt);
    free(txt);
}

static const char *first_message(const cJSON *res, int i) {
    return cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(res, "diagnosis"), i), "message")->valuestring;
}

static cJSON *tensor(const double *v, const size_t *shape, size_t nd) {
    cJSON *t = cJSON_CreateObject();
    cJSON *s = cJSON_AddArrayToObject(t, "shape");
    size_t n = 1;
    for (size_t i = 0; i < nd; i++) {
        cJSON_AddItemToArray(s, cJSON_CreateNumber((double)shape[i]));
        n *= shape[i];
    }
    cJSON_AddItemToObject(t, "data", cJSON_CreateDoubleArray(v, (int)n));
    return t;
}

/* The same as a float64 .npy tensor, as NumPy would send it. */
static cJSON *tensor_npy64(const double *v, const size_t *shape, size_t nd) {
    char *b = tnpy_b64(v, sizeof(double), "<f8", shape, nd, 0);
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "npy", b);
    free(b);
    return t;
}

/* Deterministic values in [lo, hi). */
static unsigned long long g_seed = 12345;
static double rnd(double lo, double hi) {
    g_seed = g_seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * (double)(g_seed >> 11) / 9007199254740992.0;
}
static double *rnd_array(size_t n, double lo, double hi) {
    double *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = (double)(float)rnd(lo, hi); /* float32-exact */
    return v;
}

/* ---- a naive double-precision convolution, the test's own ----------------------------------- */

enum { A_ID, A_RELU, A_LEAKY, A_SIGMOID, A_TANH };
static const char *const ACT_NAME[] = {"identity", "relu", "leaky_relu", "sigmoid", "tanh"};

static double act_d(int a, double v) {
    switch (a) {
    case A_RELU: return v > 0 ? v : 0;
    case A_LEAKY: return v > 0 ? v : 0.01 * v;
    case A_SIGMOID: return 1 / (1 + exp(-v));
    case A_TANH: return tanh(v);
    default: return v;
    }
}

typedef struct tconv {
    size_t H, W, C, N, KH, KW, sh, sw, ph, pw;
    const double *x, *k, *b; /* [H, W, C], [N, KH, KW, C], [N] */
    int act;
} tconv;

/* y [OH, OW, N] with zero padding; OH, OW out. */
static double *conv_d(const tconv *t, size_t *OH, size_t *OW) {
    *OH = (t->H + 2 * t->ph - t->KH) / t->sh + 1;
    *OW = (t->W + 2 * t->pw - t->KW) / t->sw + 1;
    double *y = malloc(*OH * *OW * t->N * sizeof *y);
    for (size_t oy = 0; oy < *OH; oy++)
        for (size_t ox = 0; ox < *OW; ox++)
            for (size_t n = 0; n < t->N; n++) {
                double s = t->b ? t->b[n] : 0;
                for (size_t ky = 0; ky < t->KH; ky++)
                    for (size_t kx = 0; kx < t->KW; kx++)
                        for (size_t c = 0; c < t->C; c++) {
                            long iy = (long)(oy * t->sh + ky) - (long)t->ph, ix = (long)(ox * t->sw + kx) - (long)t->pw;
                            if (iy < 0 || ix < 0 || iy >= (long)t->H || ix >= (long)t->W) continue;
                            s += t->x[((size_t)iy * t->W + (size_t)ix) * t->C + c] * t->k[((n * t->KH + ky) * t->KW + kx) * t->C + c];
                        }
                y[(oy * *OW + ox) * t->N + n] = act_d(t->act, s);
            }
    return y;
}

/* A random problem: x [H, W, C] in [0, 1), k [N, 3, 3, C] in [-1, 1), b [N] in [-0.5, 0.5). */
typedef struct problem {
    tconv t;
    double *x, *k, *b;
} problem;

static problem make_problem(size_t H, size_t W, size_t C, size_t N, size_t K) {
    problem p;
    memset(&p, 0, sizeof p);
    p.x = rnd_array(H * W * C, 0, 1);
    p.k = rnd_array(N * K * K * C, -1, 1);
    p.b = rnd_array(N, -0.5, 0.5);
    tconv t = {H, W, C, N, K, K, 1, 1, 0, 0, p.x, p.k, p.b, A_ID};
    p.t = t;
    return p;
}

static void free_problem(problem *p) {
    free(p->x);
    free(p->k);
    free(p->b);
}

/* The /check/conv request for problem p with answer a [shape]. */
static cJSON *conv_req(const problem *p, const double *a, const size_t *shape, size_t nd) {
    const tconv *t = &p->t;
    cJSON *r = cJSON_CreateObject();
    size_t xs[3] = {t->H, t->W, t->C}, ks[4] = {t->N, t->KH, t->KW, t->C}, bs[1] = {t->N};
    cJSON_AddItemToObject(r, "input", tensor(p->x, xs, 3));
    cJSON_AddItemToObject(r, "kernels", tensor(p->k, ks, 4));
    cJSON_AddItemToObject(r, "bias", tensor(p->b, bs, 1));
    cJSON *s = cJSON_AddArrayToObject(r, "stride"), *pd = cJSON_AddArrayToObject(r, "padding");
    cJSON_AddItemToArray(s, cJSON_CreateNumber((double)t->sh));
    cJSON_AddItemToArray(s, cJSON_CreateNumber((double)t->sw));
    cJSON_AddItemToArray(pd, cJSON_CreateNumber((double)t->ph));
    cJSON_AddItemToArray(pd, cJSON_CreateNumber((double)t->pw));
    cJSON_AddStringToObject(r, "activation", ACT_NAME[t->act]);
    if (a) cJSON_AddItemToObject(r, "answer", tensor(a, shape, nd));
    return r;
}

/* Check the answer that tconv u gives for the request of p; expect exactly the codes given. */
static cJSON *check_conv_as(const problem *p, const tconv *u) {
    size_t OH, OW;
    double *a = conv_d(u, &OH, &OW);
    size_t shape[3] = {OH, OW, u->N};
    cJSON *res = check_ok("check/conv", conv_req(p, a, shape, 3));
    free(a);
    return res;
}

/* The answer u gives fails with exactly the codes `first` (and `second`, may be NULL); the
 * response, for more checks (caller deletes). */
static cJSON *expect_mistake(const problem *p, const tconv *u, const char *first, const char *second) {
    cJSON *res = check_conv_as(p, u);
    cr_assert_not(is_true(res, "pass"));
    expect_codes(res, first, second, NULL);
    return res;
}

/* ---- /check/conv: right answers --------------------------------------------------------------- */

Test(check_conv, right_answer_passes_json_and_float64_npy) {
    problem p = make_problem(9, 7, 3, 4, 3);
    p.t.act = A_SIGMOID;
    p.t.ph = p.t.pw = 1;
    p.t.sh = 2;
    size_t OH, OW;
    double *a = conv_d(&p.t, &OH, &OW);
    size_t shape[3] = {OH, OW, 4};
    cJSON *res = check_ok("check/conv", conv_req(&p, a, shape, 3));
    cr_assert(is_true(res, "pass"), "%s", cJSON_PrintUnformatted(res));
    expect_codes(res, NULL);
    cr_assert_eq(cJSON_GetObjectItem(res, "mismatches")->valuedouble, 0);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(res, "mismatch_map")));
    cr_assert_lt(cJSON_GetObjectItem(res, "max_abs_error")->valuedouble, 1e-6);
    cJSON_Delete(res);
    /* The float64 .npy a NumPy notebook sends. */
    cJSON *req = conv_req(&p, NULL, NULL, 0);
    cJSON_AddItemToObject(req, "answer", tensor_npy64(a, shape, 3));
    res = check_ok("check/conv", req);
    cr_assert(is_true(res, "pass"), "%s", cJSON_PrintUnformatted(res));
    cJSON_Delete(res);
    /* [OH, OW] for one kernel: dimensions of size 1 do not count. */
    free(a);
    p.t.N = 1;
    a = conv_d(&p.t, &OH, &OW);
    size_t s2[2] = {OH, OW};
    res = check_ok("check/conv", conv_req(&p, a, s2, 2));
    cr_assert(is_true(res, "pass"));
    cJSON_Delete(res);
    free(a);
    free_problem(&p);
}

/* ---- /check/conv: each mistake gets its code --------------------------------------------------- */

Test(check_conv, kernel_ignored) {
    problem p = make_problem(8, 8, 3, 2, 3);
    p.t.act = A_RELU;
    tconv u = p.t;
    double *ones = malloc(2 * 9 * 3 * sizeof *ones);
    for (size_t i = 0; i < 2 * 9 * 3; i++) ones[i] = 1;
    u.k = ones;
    cJSON *res = expect_mistake(&p, &u, "kernel_ignored", NULL);
    cJSON_Delete(res);
    free(ones);
    free_problem(&p);
}

Test(check_conv, kernel_flipped) {
    problem p = make_problem(7, 6, 2, 3, 3);
    double *f = malloc(3 * 9 * 2 * sizeof *f);
    for (size_t n = 0; n < 3; n++)
        for (size_t ky = 0; ky < 3; ky++)
            for (size_t kx = 0; kx < 3; kx++)
                for (size_t c = 0; c < 2; c++)
                    f[((n * 3 + ky) * 3 + kx) * 2 + c] = p.k[((n * 3 + 2 - ky) * 3 + 2 - kx) * 2 + c];
    tconv u = p.t;
    u.k = f;
    cJSON *res = expect_mistake(&p, &u, "kernel_flipped", NULL);
    cJSON_Delete(res);
    free(f);
    free_problem(&p);
}

Test(check_conv, channels_not_summed) {
    problem p = make_problem(6, 6, 3, 2, 3);
    p.t.act = A_TANH;
    size_t OH = 4, OW = 4, N = 2, C = 3;
    double *a = malloc(OH * OW * N * C * sizeof *a);
    double *xc = malloc(36 * sizeof *xc), *kc = malloc(N * 9 * sizeof *kc);
    for (size_t c = 0; c < C; c++) {
        for (size_t i = 0; i < 36; i++) xc[i] = p.x[i * C + c];
        for (size_t i = 0; i < N * 9; i++) kc[i] = p.k[i * C + c];
        tconv u = p.t;
        u.C = 1;
        u.x = xc;
        u.k = kc;
        size_t oh, ow;
        double *y = conv_d(&u, &oh, &ow);
        for (size_t i = 0; i < OH * OW * N; i++) a[i * C + c] = y[i];
        free(y);
    }
    size_t shape[4] = {OH, OW, N, C};
    cJSON *res = check_ok("check/conv", conv_req(&p, a, shape, 4));
    cr_assert_not(is_true(res, "pass"));
    expect_codes(res, "shape_mismatch", "channels_not_summed", NULL);
    cr_assert(strstr(first_message(res, 0), "channels_not_summed"), "%s", first_message(res, 0));
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(res, "worst")));
    cr_assert(cJSON_IsNull(cJSON_GetObjectItem(res, "max_abs_error")));
    cJSON_Delete(res);
    free(a);
    free(xc);
    free(kc);
    free_problem(&p);
}

Test(check_conv, wrong_activation_names_the_one_used) {
    static const int used[] = {A_RELU, A_LEAKY, A_TANH};
    for (size_t i = 0; i < 3; i++) {
        problem p = make_problem(6, 5, 2, 2, 3);
        p.t.act = A_SIGMOID;
        tconv u = p.t;
        u.act = used[i];
        cJSON *res = expect_mistake(&p, &u, "wrong_activation", NULL);
        char want[64];
        snprintf(want, sizeof want, "activation %s instead of sigmoid", ACT_NAME[used[i]]);
        cr_assert(strstr(first_message(res, 0), want), "%s", first_message(res, 0));
        cJSON_Delete(res);
        free_problem(&p);
    }
}

/* A setting of the problem (the rest as make_problem leaves it). */
typedef struct setting {
    int act;
    size_t pad, stride;
} setting;

static void apply(tconv *t, setting st) {
    t->act = st.act;
    t->ph = t->pw = st.pad;
    t->sh = t->sw = st.stride;
}

/* The problem asks for one setting, the student's answer used another: the check's codes, and
 * a phrase that its message `at` holds (if given). */
Test(check_conv, a_setting_missed_or_wrong) {
    static const struct {
        size_t H, W, C;
        setting asked, used;
        const char *first, *second;
        int at;
        const char *phrase;
    } cases[] = {
        {6, 6, 2, {A_RELU, 0, 1}, {A_ID, 0, 1}, "activation_missing", NULL, 0, NULL},
        {7, 7, 2, {A_ID, 1, 1}, {A_ID, 0, 1}, "shape_mismatch", "padding_missing", 0, NULL},
        {7, 6, 2, {A_ID, 0, 1}, {A_ID, 1, 1}, "shape_mismatch", "padding_wrong", 1, "\"same\""},
        {9, 9, 1, {A_ID, 0, 2}, {A_ID, 0, 1}, "shape_mismatch", "stride_ignored", 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        g_seed = 12345; /* each case's data as in a test of its own */
        problem p = make_problem(cases[i].H, cases[i].W, cases[i].C, 2, 3);
        apply(&p.t, cases[i].asked);
        tconv u = p.t;
        apply(&u, cases[i].used);
        cJSON *res = expect_mistake(&p, &u, cases[i].first, cases[i].second);
        if (cases[i].phrase)
            cr_assert(strstr(first_message(res, cases[i].at), cases[i].phrase), "%s", first_message(res, cases[i].at));
        cJSON_Delete(res);
        free_problem(&p);
    }
}

Test(check_conv, padding_wrong_image_in_the_corner) {
    problem p = make_problem(6, 7, 2, 2, 3);
    p.t.ph = p.t.pw = 1;
    /* The student's padded array: x at the top left, two zero rows / columns after it. */
    size_t PH = 8, PW = 9;
    double *xp = calloc(PH * PW * 2, sizeof *xp);
    for (size_t y = 0; y < 6; y++) memcpy(xp + y * PW * 2, p.x + y * 7 * 2, 7 * 2 * sizeof *xp);
    tconv u = p.t;
    u.x = xp;
    u.H = PH;
    u.W = PW;
    u.ph = u.pw = 0;
    cJSON *res = expect_mistake(&p, &u, "padding_wrong", NULL);
    cr_assert(strstr(first_message(res, 0), "corner"), "%s", first_message(res, 0));
    cJSON_Delete(res);
    free(xp);
    free_problem(&p);
}

Test(check_conv, output_size_ceil) {
    problem p = make_problem(8, 8, 2, 2, 3); /* (8 - 3) / 2 = 2.5: floor 3 outputs, ceil 4 */
    p.t.sh = p.t.sw = 2;
    /* The student's windows run past the edge into zeros: an input two zero rows/columns larger. */
    double *xe = calloc(9 * 9 * 2, sizeof *xe);
    for (size_t y = 0; y < 8; y++) memcpy(xe + y * 9 * 2, p.x + y * 8 * 2, 8 * 2 * sizeof *xe);
    tconv u = p.t;
    u.x = xe;
    u.H = u.W = 9;
    size_t OH, OW;
    double *a = conv_d(&u, &OH, &OW);
    cr_assert_eq(OH, 4);
    size_t shape[3] = {4, 4, 2};
    cJSON *res = check_ok("check/conv", conv_req(&p, a, shape, 3));
    cr_assert_not(is_true(res, "pass"));
    expect_codes(res, "shape_mismatch", "output_size_ceil", NULL);
    cJSON_Delete(res);
    free(a);
    free(xe);
    free_problem(&p);
}

static double *transpose_hw(const double *y, size_t OH, size_t OW, size_t N) {
    double *t = malloc(OH * OW * N * sizeof *t);
    for (size_t i = 0; i < OH; i++)
        for (size_t j = 0; j < OW; j++)
            for (size_t n = 0; n < N; n++) t[(j * OH + i) * N + n] = y[(i * OW + j) * N + n];
    return t;
}

Test(check_conv, transposed) {
    /* A square output: the same shape, other values. Then a wide one: the shape says it too. */
    size_t sides[2][2] = {{7, 7}, {6, 9}};
    for (size_t s = 0; s < 2; s++) {
        problem p = make_problem(sides[s][0], sides[s][1], 2, 2, 3);
        size_t OH, OW;
        double *y = conv_d(&p.t, &OH, &OW), *a = transpose_hw(y, OH, OW, 2);
        size_t shape[3] = {OW, OH, 2};
        cJSON *res = check_ok("check/conv", conv_req(&p, a, shape, 3));
        cr_assert_not(is_true(res, "pass"));
        if (s == 0) expect_codes(res, "transposed", NULL);
        else expect_codes(res, "shape_mismatch", "transposed", NULL);
        cJSON_Delete(res);
        free(y);
        free(a);
        free_problem(&p);
    }
}

Test(check_conv, not_normalised) {
    size_t len;
    FILE *f = fopen("tests/data/http_small.png", "rb");
    cr_assert_not_null(f);
    unsigned char buf[4096];
    len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    srv_limits lim;
    srv_limits_default(&lim);
    srv_tensor img;
    srv_err e = {0};
    cr_assert_eq(srv_image_decode(buf, len, 0, &lim, "image", &img, &e), 0, "%s", e.message);
    size_t H = img.shape[0], W = img.shape[1], C = img.shape[2];
    problem p = make_problem(H, W, C, 2, 3);
    double *raw = malloc(img.n * sizeof *raw);
    for (size_t i = 0; i < img.n; i++) raw[i] = round(img.data[i] * 255.0);
    srv_tensor_free(&img);
    tconv u = p.t;
    u.x = raw;
    size_t OH, OW;
    double *a = conv_d(&u, &OH, &OW);
    size_t shape[3] = {OH, OW, 2};
    cJSON *req = conv_req(&p, a, shape, 3);
    cJSON_DeleteItemFromObject(req, "input");
    char *b64 = tnpy_base64(buf, len);
    cJSON_AddStringToObject(req, "image", b64);
    free(b64);
    cJSON *res = check_ok("check/conv", req);
    cr_assert_not(is_true(res, "pass"));
    expect_codes(res, "not_normalised", NULL);
    cJSON_Delete(res);
    free(a);
    free(raw);
    free_problem(&p);
}

/* The assignment notebook's own bug: its 16-filter layer drew the kernels (numpy_randn, seed 42)
 * and then summed each window without them, so all 16 maps are the same window sum. */
Test(check_conv, the_notebooks_layer_bug_is_kernel_ignored) {
    problem p = make_problem(10, 9, 3, 1, 3);
    double *ones = malloc(27 * sizeof *ones);
    for (size_t i = 0; i < 27; i++) ones[i] = 1;
    tconv u = p.t;
    u.k = ones;
    u.b = NULL;
    u.act = A_SIGMOID;
    size_t OH, OW;
    double *s = conv_d(&u, &OH, &OW), *a = malloc(OH * OW * 16 * sizeof *a);
    for (size_t i = 0; i < OH * OW; i++)
        for (size_t n = 0; n < 16; n++) a[i * 16 + n] = s[i];
    size_t xs[3] = {10, 9, 3}, shape[3] = {OH, OW, 16};
    cJSON *req = cJSON_CreateObject();
    cJSON_AddItemToObject(req, "input", tensor(p.x, xs, 3));
    cJSON *fl = cJSON_AddObjectToObject(req, "filters");
    cJSON_AddNumberToObject(fl, "count", 16);
    cJSON_AddNumberToObject(fl, "size", 3);
    cJSON_AddStringToObject(fl, "init", "numpy_randn");
    cJSON_AddNumberToObject(req, "seed", 42);
    cJSON_AddStringToObject(req, "activation", "sigmoid");
    cJSON_AddItemToObject(req, "answer", tensor(a, shape, 3));
    cJSON *res = check_ok("check/conv", req);
    cr_assert_not(is_true(res, "pass"));
    expect_codes(res, "kernel_ignored", NULL);
    cJSON_Delete(res);
    free(s);
    free(a);
    free(ones);
    free_problem(&p);
}

Test(check_conv, an_answer_no_mistake_explains_has_no_diagnosis) {
    problem p = make_problem(6, 6, 2, 2, 3);
    size_t OH, OW;
    double *a = conv_d(&p.t, &OH, &OW);
    for (size_t i = 0; i < OH * OW * 2; i++) a[i] += rnd(-1, 1);
    size_t shape[3] = {OH, OW, 2};
    cJSON *res = check_ok("check/conv", conv_req(&p, a, shape, 3));
    cr_assert_not(is_true(res, "pass"));
    expect_codes(res, NULL);
    cr_assert_geq(cJSON_GetArraySize(cJSON_GetObjectItem(res, "mistakes_tried")), 5);
    cJSON_Delete(res);
    free(a);
    free_problem(&p);
}

/* ---- the tolerance, the error fields, the map -------------------------------------------------- */

Test(check_conv, tolerance_edges_and_error_fields) {
    problem p = make_problem(6, 5, 1, 1, 3);
    size_t OH, OW;
    double *y = conv_d(&p.t, &OH, &OW);
    double m = 1;
    for (size_t i = 0; i < OH * OW; i++) m = fmax(m, fabs(y[i]));
    double atol = 1e-4 * m;
    size_t shape[3] = {OH, OW, 1}, bad = 5; /* element [1, 2, 0] */
    for (int over = 0; over < 2; over++) {
        double *a = malloc(OH * OW * sizeof *a);
        memcpy(a, y, OH * OW * sizeof *a);
        double tol = atol + 1e-4 * fabs(y[bad]);
        a[bad] += over ? 1.05 * tol : 0.95 * tol;
        cJSON *res = check_ok("check/conv", conv_req(&p, a, shape, 3));
        cr_assert_eq(is_true(res, "pass"), !over, "over=%d: %s", over, cJSON_PrintUnformatted(res));
        const cJSON *t = cJSON_GetObjectItem(res, "tolerance");
        cr_assert_float_eq(cJSON_GetObjectItem(t, "atol")->valuedouble, atol, atol * 1e-5);
        cr_assert_eq(cJSON_GetObjectItem(t, "rtol")->valuedouble, 1e-4);
        cr_assert_eq(cJSON_GetObjectItem(res, "mismatches")->valuedouble, over);
        const cJSON *w = cJSON_GetObjectItem(res, "worst");
        cr_assert_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(w, "index"), 0)->valuedouble, 1);
        cr_assert_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(w, "index"), 1)->valuedouble, 2);
        cr_assert_float_eq(cJSON_GetObjectItem(w, "expected")->valuedouble, y[bad], 1e-5);
        cr_assert_float_eq(cJSON_GetObjectItem(res, "max_abs_error")->valuedouble, (over ? 1.05 : 0.95) * tol, tol * 0.02);
        if (over) {
            const cJSON *map = cJSON_GetObjectItem(res, "mismatch_map");
            cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(map, "shape")), 2);
            const cJSON *d = cJSON_GetObjectItem(map, "data");
            for (size_t i = 0; i < OH * OW; i++) cr_assert_eq(cJSON_GetArrayItem(d, (int)i)->valuedouble, i == bad);
        }
        cJSON_Delete(res);
        free(a);
    }
    free(y);
    free_problem(&p);
}

Test(check_conv, mismatch_map_counts_channels_and_tolerance_can_be_given) {
    problem p = make_problem(5, 5, 1, 3, 3);
    size_t OH, OW;
    double *a = conv_d(&p.t, &OH, &OW);
    a[(1 * OW + 1) * 3 + 0] += 0.5;
    a[(1 * OW + 1) * 3 + 2] += 0.5;
    a[(2 * OW + 0) * 3 + 1] += 0.5;
    size_t shape[3] = {OH, OW, 3};
    cJSON *res = check_ok("check/conv", conv_req(&p, a, shape, 3));
    const cJSON *d = cJSON_GetObjectItem(cJSON_GetObjectItem(res, "mismatch_map"), "data");
    cr_assert_eq(cJSON_GetArraySize(d), (int)(OH * OW));
    cr_assert_eq(cJSON_GetArrayItem(d, (int)(1 * OW + 1))->valuedouble, 2);
    cr_assert_eq(cJSON_GetArrayItem(d, (int)(2 * OW + 0))->valuedouble, 1);
    cr_assert_eq(cJSON_GetObjectItem(res, "mismatches")->valuedouble, 3);
    cJSON_Delete(res);
    /* A teacher's tolerance: atol 1 lets 0.5 through. */
    cJSON *req = conv_req(&p, a, shape, 3);
    cJSON *t = cJSON_AddObjectToObject(req, "tolerance");
    cJSON_AddNumberToObject(t, "atol", 1);
    cJSON_AddNumberToObject(t, "rtol", 0);
    res = check_ok("check/conv", req);
    cr_assert(is_true(res, "pass"));
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(res, "tolerance"), "atol")->valuedouble, 1);
    cJSON_Delete(res);
    free(a);
    free_problem(&p);
}

/* The reference is /conv's own output, to the bit: /conv's answer sent back has no error at all
 * (a layer big enough for the vectorised kernels, whose sigmoid rounds differently from the
 * scalar one), and the worst element's expected value is /conv's. */
static cJSON *tensor_f(const float *v, const size_t *shape, size_t nd) {
    size_t n = 1;
    for (size_t i = 0; i < nd; i++) n *= shape[i];
    double *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++) d[i] = v[i];
    cJSON *t = tensor(d, shape, nd);
    free(d);
    return t;
}

Test(check_conv, the_reference_is_the_conv_endpoints_output) {
    double *x = rnd_array(40 * 37 * 3, 0, 1);
    size_t xs[3] = {40, 37, 3};
    cJSON *req = cJSON_CreateObject();
    cJSON_AddItemToObject(req, "input", tensor(x, xs, 3));
    cJSON *fl = cJSON_AddObjectToObject(req, "filters");
    cJSON_AddNumberToObject(fl, "count", 16);
    cJSON_AddNumberToObject(fl, "size", 3);
    cJSON_AddStringToObject(fl, "init", "numpy_randn");
    cJSON_AddNumberToObject(req, "seed", 42);
    cJSON_AddStringToObject(req, "activation", "sigmoid");
    char *body = cJSON_PrintUnformatted(req);
    srv_limits lim;
    srv_limits_default(&lim);
    srv_response r = call_lim(&lim, "conv", body);
    cr_assert_eq(r.status, 200);
    cJSON *conv = cJSON_Parse(r.body);
    srv_response_free(&r);
    const cJSON *out = cJSON_GetObjectItem(conv, "output"), *d = cJSON_GetObjectItem(out, "data");
    size_t n = (size_t)cJSON_GetArraySize(d), shape[3] = {38, 35, 16};
    float *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) y[i] = (float)cJSON_GetArrayItem(d, (int)i)->valuedouble;
    cJSON_AddItemToObject(req, "answer", tensor_f(y, shape, 3));
    cJSON *res = check_ok("check/conv", cJSON_Duplicate(req, 1));
    cr_assert(is_true(res, "pass"));
    cr_assert_eq(cJSON_GetObjectItem(res, "max_abs_error")->valuedouble, 0, "%s", cJSON_PrintUnformatted(res));
    cJSON_Delete(res);
    /* One element off: the worst element's expected value is /conv's. */
    y[1234] += 0.5f;
    cJSON_ReplaceItemInObject(req, "answer", tensor_f(y, shape, 3));
    res = check_ok("check/conv", req);
    const cJSON *w = cJSON_GetObjectItem(res, "worst");
    const cJSON *idx = cJSON_GetObjectItem(w, "index");
    size_t i = ((size_t)cJSON_GetArrayItem(idx, 0)->valuedouble * 35 + (size_t)cJSON_GetArrayItem(idx, 1)->valuedouble) * 16 +
               (size_t)cJSON_GetArrayItem(idx, 2)->valuedouble;
    cr_assert_eq(i, 1234);
    cr_assert_eq((float)cJSON_GetObjectItem(w, "expected")->valuedouble, (float)cJSON_GetArrayItem(d, 1234)->valuedouble);
    cJSON_Delete(res);
    cJSON_Delete(conv);
    free(y);
    free(body);
    free(x);
}

/* ---- work budget and bad requests -------------------------------------------------------------- */

Test(check_conv, the_work_of_every_recomputation_is_counted_first) {
    problem p = make_problem(20, 20, 3, 8, 3);
    p.t.act = A_RELU;
    p.t.ph = p.t.pw = 1;
    p.t.sh = p.t.sw = 2;
    size_t OH, OW;
    double *a = conv_d(&p.t, &OH, &OW);
    size_t shape[3] = {OH, OW, 8};
    cJSON *req = conv_req(&p, a, shape, 3);
    char *body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    srv_limits lim;
    srv_limits_default(&lim);
    double op = 2.0 * OH * OW * 8 * 9 * 3;
    lim.max_work_flops = 2 * op; /* /conv fits, the check does not */
    srv_response r = call_lim(&lim, "check/conv", body);
    cr_assert_eq(r.status, 413, "%s", r.body);
    cr_assert(strstr(r.body, "\"field\":\"kernels\""), "%s", r.body);
    srv_response_free(&r);
    char *plain = strstr(body, ",\"answer\"");
    *plain = '}';
    plain[1] = '\0';
    r = call_lim(&lim, "conv", body);
    cr_assert_eq(r.status, 200, "%s", r.body);
    srv_response_free(&r);
    free(body);
    free(a);
    free_problem(&p);
}

Test(check_conv, bad_requests) {
    const char *in = "\"input\": [[1,2,3],[4,5,6],[7,8,9]], \"kernel\": \"box\"";
    char b[512];
    snprintf(b, sizeof b, "{%s}", in);
    ht_post_err(NULL, "check/conv", b, 400, "answer");
    snprintf(b, sizeof b, "{%s, \"answer\": [[1, 2], [3]]}", in);
    ht_post_err(NULL, "check/conv", b, 400, "answer");
    snprintf(b, sizeof b, "{%s, \"answer\": {\"npy\": \"AAAA\"}}", in);
    ht_post_err(NULL, "check/conv", b, 415, "answer.npy");
    snprintf(b, sizeof b, "{%s, \"answer\": [1], \"softmax\": true}", in);
    ht_post_err(NULL, "check/conv", b, 400, "softmax");
    snprintf(b, sizeof b, "{%s, \"answer\": [1], \"tolerance\": 0.1}", in);
    ht_post_err(NULL, "check/conv", b, 400, "tolerance");
    snprintf(b, sizeof b, "{%s, \"answer\": [1], \"tolerance\": {\"rtol\": -1}}", in);
    ht_post_err(NULL, "check/conv", b, 400, "tolerance.rtol");
    snprintf(b, sizeof b, "{%s, \"answer\": [1], \"tolerance\": {\"atol\": 1, \"x\": 1}}", in);
    ht_post_err(NULL, "check/conv", b, 400, "tolerance.x");
    ht_post_err(NULL, "check/conv", "{\"answer\": [1], \"kernel\": \"box\"}", 400, "input");
    ht_post_err(NULL, "check/nothing", "{}", 404, NULL);
}

/* ---- /check/pool ------------------------------------------------------------------------------- */

/* Pooling by the test's own loops: y [OH, OW, C]; avg when avg, else max. */
static double *pool_d(const double *x, size_t H, size_t W, size_t C, size_t k, size_t s, int avg,
                      size_t *OH, size_t *OW) {
    *OH = (H - k) / s + 1;
    *OW = (W - k) / s + 1;
    double *y = malloc(*OH * *OW * C * sizeof *y);
    for (size_t oy = 0; oy < *OH; oy++)
        for (size_t ox = 0; ox < *OW; ox++)
            for (size_t c = 0; c < C; c++) {
                double acc = avg ? 0 : -INFINITY;
                for (size_t i = 0; i < k; i++)
                    for (size_t j = 0; j < k; j++) {
                        double v = x[((oy * s + i) * W + ox * s + j) * C + c];
                        acc = avg ? acc + v : fmax(acc, v);
                    }
                y[(oy * *OW + ox) * C + c] = avg ? acc / (double)(k * k) : acc;
            }
    return y;
}

static cJSON *pool_req(const double *x, size_t H, size_t W, size_t C, const char *fn, int size,
                       int stride, const double *a, const size_t *shape, size_t nd) {
    cJSON *r = cJSON_CreateObject();
    size_t xs[3] = {H, W, C};
    cJSON_AddItemToObject(r, "input", tensor(x, xs, 3));
    cJSON_AddStringToObject(r, "function", fn);
    if (size) cJSON_AddNumberToObject(r, "size", size);
    else cJSON_AddStringToObject(r, "size", "global");
    if (stride) cJSON_AddNumberToObject(r, "stride", stride);
    cJSON_AddItemToObject(r, "answer", tensor(a, shape, nd));
    return r;
}

Test(check_pool, right_answers_pass_and_each_mistake_gets_its_code) {
    double *x = rnd_array(9 * 6 * 2, -1, 1);
    size_t OH, OW;
    double *right = pool_d(x, 9, 6, 2, 2, 2, 0, &OH, &OW), *avg = pool_d(x, 9, 6, 2, 2, 2, 1, &OH, &OW);
    size_t shape[3] = {OH, OW, 2};
    cJSON *res = check_ok("check/pool", pool_req(x, 9, 6, 2, "max", 2, 0, right, shape, 3));
    cr_assert(is_true(res, "pass"));
    cJSON_Delete(res);
    res = check_ok("check/pool", pool_req(x, 9, 6, 2, "max", 2, 0, avg, shape, 3));
    cr_assert_not(is_true(res, "pass"));
    expect_codes(res, "avg_instead_of_max", NULL);
    cJSON_Delete(res);
    res = check_ok("check/pool", pool_req(x, 9, 6, 2, "average", 2, 0, right, shape, 3));
    cr_assert_not(is_true(res, "pass"));
    expect_codes(res, "max_instead_of_avg", NULL);
    cJSON_Delete(res);
    /* stride 1 instead of 2 */
    size_t oh1, ow1;
    double *s1 = pool_d(x, 9, 6, 2, 2, 1, 0, &oh1, &ow1);
    size_t s1shape[3] = {oh1, ow1, 2};
    res = check_ok("check/pool", pool_req(x, 9, 6, 2, "max", 2, 2, s1, s1shape, 3));
    cr_assert_not(is_true(res, "pass"));
    expect_codes(res, "shape_mismatch", "stride_ignored", NULL);
    cJSON_Delete(res);
    /* H and W swapped (4 x 3 outputs: the shape shows it too) */
    double *t = transpose_hw(right, OH, OW, 2);
    size_t tshape[3] = {OW, OH, 2};
    res = check_ok("check/pool", pool_req(x, 9, 6, 2, "max", 2, 0, t, tshape, 3));
    expect_codes(res, "shape_mismatch", "transposed", NULL);
    cJSON_Delete(res);
    free(s1);
    free(t);
    free(right);
    free(avg);
    free(x);
}

Test(check_pool, output_size_ceil) {
    /* 9 rows, window 2: floor gives 4 rows, ceil 5 (the last window half outside). */
    double *x = rnd_array(9 * 9 * 1, 0, 1);
    size_t OH, OW;
    double *y = pool_d(x, 9, 9, 1, 2, 2, 0, &OH, &OW), *a = malloc(25 * sizeof *a);
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < 5; j++) a[i * 5 + j] = i < 4 && j < 4 ? y[i * 4 + j] : x[(2 * i) * 9 + 2 * j];
    size_t shape[2] = {5, 5};
    cJSON *res = check_ok("check/pool", pool_req(x, 9, 9, 1, "max", 2, 0, a, shape, 2));
    cr_assert_not(is_true(res, "pass"));
    expect_codes(res, "shape_mismatch", "output_size_ceil", NULL);
    cJSON_Delete(res);
    free(x);
    free(y);
    free(a);
}

Test(check_pool, global_pooling) {
    double *x = rnd_array(5 * 4 * 3, -1, 1), mean[3] = {0, 0, 0}, max[3] = {-9, -9, -9};
    for (size_t i = 0; i < 20; i++)
        for (size_t c = 0; c < 3; c++) {
            mean[c] += x[i * 3 + c] / 20;
            max[c] = fmax(max[c], x[i * 3 + c]);
        }
    size_t shape[1] = {3};
    cJSON *res = check_ok("check/pool", pool_req(x, 5, 4, 3, "average", 0, 0, mean, shape, 1));
    cr_assert(is_true(res, "pass"));
    cJSON_Delete(res);
    res = check_ok("check/pool", pool_req(x, 5, 4, 3, "average", 0, 0, max, shape, 1));
    expect_codes(res, "max_instead_of_avg", NULL);
    const cJSON *map = cJSON_GetObjectItem(res, "mismatch_map");
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(map, "data")), 3);
    cJSON_Delete(res);
    free(x);
}

Test(check_pool, work_is_bounded) {
    /* 64 x 64 input, window 32, stride 32: 4 outputs, but stride 1 would be 33 x 33 windows. */
    char *body = malloc(200000);
    size_t n = (size_t)sprintf(body, "{\"input\": {\"shape\": [64, 64, 1], \"data\": [");
    for (int i = 0; i < 64 * 64; i++) n += (size_t)sprintf(body + n, "%s%d", i ? "," : "", i % 7);
    sprintf(body + n, "]}, \"size\": 32, \"answer\": [[0, 0], [0, 0]]}");
    srv_limits lim;
    srv_limits_default(&lim);
    lim.max_work_flops = 1e5;
    srv_response r = call_lim(&lim, "check/pool", body);
    cr_assert_eq(r.status, 413, "%s", r.body);
    cr_assert(strstr(r.body, "\"field\":\"size\""), "%s", r.body);
    srv_response_free(&r);
    lim.max_work_flops = 1e7; /* the answer (5e5) and its alternatives, stride 1 the largest (1.4e6) */
    r = call_lim(&lim, "check/pool", body);
    cr_assert_eq(r.status, 200, "%s", r.body);
    srv_response_free(&r);
    free(body);
}

/* ---- /check/mlp -------------------------------------------------------------------------------- */

typedef struct tmlp {
    size_t L, size[4];           /* sizes: in, h1, ..., out */
    double *W[3], *b[3];
    double x[16];
    int act;
} tmlp;

/* logits (z) and softmax (p), with the variant: 1 biases left out, 2 square W transposed,
 * 3 the activation on the output layer too. */
static void mlp_d(const tmlp *m, int variant, double *z, double *p) {
    double h[64], o[64];
    size_t n = m->size[0];
    memcpy(h, m->x, n * sizeof *h);
    for (size_t l = 0; l < m->L; l++) {
        size_t in = m->size[l], out = m->size[l + 1];
        for (size_t j = 0; j < out; j++) {
            double s = variant == 1 ? 0 : m->b[l][j];
            for (size_t i = 0; i < in; i++)
                s += h[i] * (variant == 2 && in == out ? m->W[l][j * out + i] : m->W[l][i * out + j]);
            o[j] = l + 1 < m->L || variant == 3 ? act_d(m->act, s) : s;
        }
        memcpy(h, o, out * sizeof *h);
        n = out;
    }
    memcpy(z, h, n * sizeof *z);
    double mx = z[0], sum = 0;
    for (size_t j = 1; j < n; j++) mx = fmax(mx, z[j]);
    for (size_t j = 0; j < n; j++) sum += exp(z[j] - mx);
    for (size_t j = 0; j < n; j++) p[j] = exp(z[j] - mx) / sum;
}

static tmlp make_mlp(void) {
    tmlp m = {3, {6, 5, 5, 4}, {0}, {0}, {0}, A_TANH};
    for (size_t l = 0; l < m.L; l++) {
        m.W[l] = rnd_array(m.size[l] * m.size[l + 1], -1, 1);
        m.b[l] = rnd_array(m.size[l + 1], -0.5, 0.5);
    }
    for (size_t i = 0; i < 6; i++) m.x[i] = (double)(float)rnd(-1, 1);
    return m;
}

static void free_mlp(tmlp *m) {
    for (size_t l = 0; l < m->L; l++) {
        free(m->W[l]);
        free(m->b[l]);
    }
}

static cJSON *mlp_req(const tmlp *m, const double *a, int softmax) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "input", cJSON_CreateDoubleArray(m->x, 6));
    cJSON_AddNumberToObject(r, "hidden_layers", 2);
    cJSON_AddNumberToObject(r, "hidden_size", 5);
    cJSON_AddNumberToObject(r, "output_size", 4);
    cJSON_AddStringToObject(r, "activation", ACT_NAME[m->act]);
    cJSON *w = cJSON_AddArrayToObject(r, "weights");
    for (size_t l = 0; l < m->L; l++) {
        cJSON *layer = cJSON_CreateObject();
        size_t ws[2] = {m->size[l], m->size[l + 1]};
        cJSON_AddItemToObject(layer, "weight", tensor(m->W[l], ws, 2));
        cJSON_AddItemToObject(layer, "bias", cJSON_CreateDoubleArray(m->b[l], (int)m->size[l + 1]));
        cJSON_AddItemToArray(w, layer);
    }
    if (softmax >= 0) cJSON_AddBoolToObject(r, "softmax", softmax);
    cJSON_AddItemToObject(r, "answer", cJSON_CreateDoubleArray(a, 4));
    return r;
}

/* Check answer a; expect pass or exactly `code`. */
static void mlp_expect(const tmlp *m, const double *a, int softmax, const char *code) {
    cJSON *res = check_ok("check/mlp", mlp_req(m, a, softmax));
    char *txt = cJSON_PrintUnformatted(res);
    cr_assert_eq(is_true(res, "pass"), code == NULL, "%s: %s", code ? code : "right", txt);
    if (code) expect_codes(res, code, NULL);
    free(txt);
    cJSON_Delete(res);
}

Test(check_mlp, right_answers_and_every_mistake) {
    tmlp m = make_mlp();
    double z[4], p[4], z2[4], p2[4], twice[4];
    mlp_d(&m, 0, z, p);
    mlp_expect(&m, p, -1, NULL);             /* softmax by default */
    mlp_expect(&m, z, 0, NULL);              /* the logits when asked */
    mlp_expect(&m, z, -1, "softmax_missing");
    double mx = p[0], sum = 0;
    for (int j = 1; j < 4; j++) mx = fmax(mx, p[j]);
    for (int j = 0; j < 4; j++) sum += exp(p[j] - mx);
    for (int j = 0; j < 4; j++) twice[j] = exp(p[j] - mx) / sum;
    mlp_expect(&m, twice, 1, "softmax_applied_twice");
    mlp_expect(&m, p, 0, "softmax_applied");
    mlp_d(&m, 1, z2, p2);
    mlp_expect(&m, p2, 1, "bias_missing");
    mlp_d(&m, 2, z2, p2);
    mlp_expect(&m, p2, 1, "weights_transposed");
    mlp_d(&m, 3, z2, p2);
    mlp_expect(&m, p2, 1, "activation_on_output");
    mlp_expect(&m, z2, 0, "activation_on_output");
    free_mlp(&m);
}

Test(check_mlp, float64_npy_answer_and_shape) {
    tmlp m = make_mlp();
    double z[4], p[4];
    mlp_d(&m, 0, z, p);
    cJSON *req = mlp_req(&m, p, 1);
    size_t shape[2] = {1, 4};
    cJSON_ReplaceItemInObject(req, "answer", tensor_npy64(p, shape, 2));
    cJSON *res = check_ok("check/mlp", req);
    cr_assert(is_true(res, "pass"), "%s", cJSON_PrintUnformatted(res));
    cJSON_Delete(res);
    double five[5] = {p[0], p[1], p[2], p[3], 0};
    req = mlp_req(&m, p, 1);
    cJSON_ReplaceItemInObject(req, "answer", cJSON_CreateDoubleArray(five, 5));
    res = check_ok("check/mlp", req);
    expect_codes(res, "shape_mismatch", NULL);
    cJSON_Delete(res);
    free_mlp(&m);
    ht_post_err(NULL, "check/mlp", "{\"input\": [1, 2], \"answer\": [1], \"softmax\": 3}", 400, "softmax");
}
