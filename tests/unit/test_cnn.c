/* test_cnn.c — the CNN forward pass: whole networks with given weights against PyTorch (the
 * default architecture on small images and two custom ones, every intermediate checked), the
 * default architecture's shapes, seeded determinism and the documented draw order, buffer reuse
 * across calls, and validation errors that name "architecture[i].<field>". */
#include <ctype.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "nn_cnn.h"
#include "nn_parallel.h"
#include "nn_rng.h"

/* Relative error <= 1e-5, where values below a tenth of the tensor's largest magnitude are
 * compared against that tenth (a float32 dot product of 144 terms that cancels to ~0 cannot be
 * closer than ~1e-7 absolute). */
#define TOL 1e-5

static double scaled_err(const float *got, const double *want, size_t n) {
    double mx = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(want[i]));
    return fx_max_rel_err_f32(got, want, n, fmax(0.1 * mx, 1e-30));
}

/* Everything a spec list points at, freed after nn_cnn_create. */
typedef struct owned {
    float *bufs[256];
    size_t n;
} owned;

static float *keep(owned *o, float *p) {
    cr_assert_lt(o->n, 256);
    o->bufs[o->n++] = p;
    return p;
}

static void release(owned *o) {
    for (size_t i = 0; i < o->n; i++) free(o->bufs[i]);
    o->n = 0;
}

static void pair(const cJSON *obj, const char *key, size_t *a, size_t *b) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    cr_assert(cJSON_IsArray(v), "%s must be a pair", key);
    *a = (size_t)cJSON_GetArrayItem(v, 0)->valuedouble;
    *b = (size_t)cJSON_GetArrayItem(v, 1)->valuedouble;
}

static nn_activation act_of(const cJSON *c) {
    nn_activation a;
    cr_assert_eq(nn_act_parse(fx_str(c, "activation"), &a, NULL), NN_OK);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(c, "negative_slope");
    if (cJSON_IsNumber(s)) a.negative_slope = (float)s->valuedouble;
    return a;
}

static size_t specs_from_json(nn_layer_spec *specs, const cJSON *arch, owned *o) {
    size_t n = 0;
    const cJSON *L;
    cJSON_ArrayForEach(L, arch) {
        nn_layer_spec *s = &specs[n++];
        memset(s, 0, sizeof *s);
        cr_assert_eq(nn_layer_type_parse(fx_str(L, "type"), &s->type, "type", NULL), NN_OK);
        switch (s->type) {
        case NN_LAYER_CONV:
            s->filters = (size_t)fx_num(L, "filters");
            pair(L, "size", &s->size_h, &s->size_w);
            pair(L, "stride", &s->conv.stride_h, &s->conv.stride_w);
            pair(L, "padding", &s->conv.pad_h, &s->conv.pad_w);
            s->conv.act = act_of(L);
            s->kernels = keep(o, fx_tensor_f32(L, "kernels", NULL, NULL, &s->kernels_len));
            s->bias = keep(o, fx_tensor_f32(L, "bias", NULL, NULL, &s->bias_len));
            break;
        case NN_LAYER_POOL:
            cr_assert_eq(nn_pool_parse(fx_str(L, "function"), &s->pool.kind, NULL), NN_OK);
            pair(L, "size", &s->pool.size_h, &s->pool.size_w);
            pair(L, "stride", &s->pool.stride_h, &s->pool.stride_w);
            break;
        case NN_LAYER_GLOBAL_POOL:
            cr_assert_eq(nn_pool_parse(fx_str(L, "function"), &s->pool.kind, NULL), NN_OK);
            break;
        case NN_LAYER_MLP: {
            const cJSON *h;
            cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(L, "hidden_sizes"))
                s->mlp.hidden_sizes[s->mlp.hidden_layers++] = (size_t)h->valuedouble;
            s->mlp.output_size = (size_t)fx_num(L, "output_size");
            s->mlp.act = act_of(L);
            const cJSON *w;
            size_t l = 0;
            cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(L, "weights")) {
                s->mlp_weight[l] = keep(o, fx_tensor_f32(w, "weight", NULL, NULL, &s->mlp_weight_len[l]));
                s->mlp_bias[l] = keep(o, fx_tensor_f32(w, "bias", NULL, NULL, &s->mlp_bias_len[l]));
                l++;
            }
            break;
        }
        }
    }
    return n;
}

Test(cnn, fixtures_match_pytorch) {
    cJSON *doc = fx_require("cnn.json");
    int count = 0;
    for (const cJSON *c = fx_cases(doc); c; c = c->next) {
        const char *name = fx_str(c, "name");
        nn_layer_spec specs[NN_CNN_MAX_LAYERS];
        owned o = {0};
        size_t n = specs_from_json(specs, cJSON_GetObjectItemCaseSensitive(c, "architecture"), &o);
        size_t xs[8], nd;
        float *x = fx_tensor_f32(c, "input", xs, &nd, NULL);
        nn_cnn m;
        nn_error err;
        cr_assert_eq(nn_cnn_create(&m, specs, n, xs[0], xs[1], xs[2], 0, 1, &err), NN_OK, "%s: %s", name,
                     err.message);
        release(&o); /* the model copied everything */
        cr_assert_eq(nn_cnn_forward(&m, x, &err), NN_OK, "%s: %s", name, err.message);
        const cJSON *outs = cJSON_GetObjectItemCaseSensitive(c, "outputs");
        for (size_t i = 0; i < n; i++) {
            size_t ys[8], ynd, ny;
            double *want = fx_tensor_f64(cJSON_GetArrayItem(outs, (int)i), "data", ys, &ynd, &ny);
            (void)want;
            free(want);
            /* the tensor object itself is the array item: read it through a wrapper key */
            cJSON *wrap = cJSON_CreateObject();
            cJSON_AddItemReferenceToObject(wrap, "t", cJSON_GetArrayItem(outs, (int)i));
            want = fx_tensor_f64(wrap, "t", ys, &ynd, &ny);
            cJSON_Delete(wrap);
            cr_assert_eq(m.layers[i].out_ndim, ynd, "%s layer %zu ndim", name, i);
            for (size_t d = 0; d < ynd; d++)
                cr_assert_eq(m.layers[i].out_shape[d], ys[d], "%s layer %zu dim %zu: %zu vs torch %zu", name, i,
                             d, m.layers[i].out_shape[d], ys[d]);
            cr_assert_eq(m.layers[i].out_len, ny);
            double e = scaled_err(m.layers[i].output, want, ny);
            cr_assert_leq(e, TOL, "%s layer %zu (%s): error %g", name, i, nn_layer_type_name(m.layers[i].type), e);
            free(want);
        }
        size_t nl;
        double *logits = fx_tensor_f64(c, "logits", NULL, NULL, &nl);
        double *probs = fx_tensor_f64(c, "softmax", NULL, NULL, NULL);
        cr_assert_eq(m.num_outputs, nl);
        double e = scaled_err(m.logits, logits, nl);
        cr_assert_leq(e, TOL, "%s logits error %g", name, e);
        e = fx_max_rel_err_f32(m.probs, probs, nl, 1e-6);
        cr_assert_leq(e, TOL, "%s softmax error %g", name, e);
        free(logits);
        free(probs);
        free(x);
        nn_cnn_free(&m);
        count++;
    }
    cr_assert_geq(count, 4);
    cJSON_Delete(doc);
}

Test(cnn, default_architecture_shapes) {
    nn_layer_spec s[NN_CNN_DEFAULT_LAYERS];
    cr_assert_eq(nn_cnn_default_spec(s), 6);
    cr_assert_eq(s[0].type, NN_LAYER_CONV);
    cr_assert_eq(s[0].filters, 16);
    cr_assert_eq(s[0].conv.stride_h, 2);
    cr_assert_eq(s[0].conv.pad_h, 0);
    cr_assert_eq(s[0].conv.act.kind, NN_ACT_RELU);
    cr_assert_eq(s[1].pool.kind, NN_POOL_MAX);
    cr_assert_eq(s[2].filters, 32);
    cr_assert_eq(s[2].conv.pad_w, 1);
    cr_assert_eq(s[4].type, NN_LAYER_GLOBAL_POOL);
    cr_assert_eq(s[4].pool.kind, NN_POOL_AVG);
    cr_assert_eq(s[5].mlp.hidden_layers, 1);
    cr_assert_eq(s[5].mlp.hidden_sizes[0], 20);
    cr_assert_eq(s[5].mlp.act.kind, NN_ACT_TANH);
    cr_assert_eq(s[5].mlp.output_size, 1000);
    nn_cnn_info info;
    nn_error err;
    cr_assert_eq(nn_cnn_validate(s, 6, 224, 224, 3, &info, &err), NN_OK, "%s", err.message);
    size_t want[6][3] = {{111, 111, 16}, {55, 55, 16}, {55, 55, 32}, {27, 27, 32}, {32, 0, 0}, {1000, 0, 0}};
    for (int i = 0; i < 6; i++) {
        cr_assert_eq(info.out_ndim[i], i < 4 ? 3 : 1);
        for (size_t d = 0; d < info.out_ndim[i]; d++) cr_assert_eq(info.out_shape[i][d], want[i][d], "layer %d", i);
    }
    /* convolutions and the MLP: 2 per multiply-add; pools: their kernels' work (nn_pool.h) */
    double flops = 2.0 * (111 * 111 * 16 * 27 + 55 * 55 * 32 * 144 + 32 * 20 + 20 * 1000) +
                   nn_pool_work(55, 55, 16, &s[1].pool) + nn_pool_work(27, 27, 32, &s[3].pool) +
                   nn_global_pool_work(27, 27, 32);
    cr_assert_float_eq(info.flops, flops, 1.0);
    size_t params = 16 * 27 + 16 + 32 * 144 + 32 + 32 * 20 + 20 + 20 * 1000 + 1000;
    cr_assert_geq(info.num_params, params);
    cr_assert_lt(info.num_params, params + 16 * 6 * 2);
    cr_assert_eq(info.bytes, (info.num_params + info.num_acts) * sizeof(float));
}

Test(cnn, seeded_models_are_deterministic_and_follow_the_draw_order) {
    nn_layer_spec s[NN_CNN_DEFAULT_LAYERS];
    size_t n = nn_cnn_default_spec(s);
    nn_cnn a, b, c;
    nn_error err;
    cr_assert_eq(nn_cnn_create(&a, s, n, 37, 29, 3, 123, 1, &err), NN_OK, "%s", err.message);
    cr_assert_eq(nn_cnn_create(&b, s, n, 37, 29, 3, 123, 1, &err), NN_OK);
    cr_assert_eq(nn_cnn_create(&c, s, n, 37, 29, 3, 124, 0, &err), NN_OK);
    cr_assert_eq(a.num_params, b.num_params);
    cr_assert_eq(memcmp(a.params, b.params, a.num_params * sizeof(float)), 0);
    cr_assert_neq(memcmp(a.params, c.params, a.num_params * sizeof(float)), 0);
    cr_assert_null(c.probs, "no softmax requested");
    /* one rng: conv0 bank (he), conv1 bank (he), then the MLP (uniform W, torch-style b) */
    nn_rng r;
    nn_rng_seed(&r, 123);
    float k0[16 * 27], k1[32 * 144], w0[32 * 20];
    cr_assert_eq(nn_init_fill(k0, 16 * 27, 27, 16 * 9, NN_INIT_HE, &r, NULL), NN_OK);
    cr_assert_eq(nn_init_fill(k1, 32 * 144, 144, 32 * 9, NN_INIT_HE, &r, NULL), NN_OK);
    cr_assert_eq(nn_init_fill(w0, 32 * 20, 32, 20, NN_INIT_UNIFORM, &r, NULL), NN_OK);
    cr_assert_eq(memcmp(a.layers[0].kernels, k0, sizeof k0), 0);
    cr_assert_eq(memcmp(a.layers[2].kernels, k1, sizeof k1), 0);
    cr_assert_eq(memcmp(a.layers[5].mlp.weight[0], w0, sizeof w0), 0);
    for (int i = 0; i < 32; i++) cr_assert_eq(a.layers[2].bias[i], 0.0f, "generated biases are zero");
    /* everything lives in the one allocation */
    char *lo = a.memory, *hi = lo + (a.num_params + a.num_acts) * sizeof(float);
    for (size_t i = 0; i < a.num_layers; i++) {
        cr_assert((char *)a.layers[i].output >= lo && (char *)(a.layers[i].output + a.layers[i].out_len) <= hi);
        if (a.layers[i].type != NN_LAYER_MLP)
            cr_assert_eq((uintptr_t)a.layers[i].output % 64, 0, "layer %zu output 64-byte aligned", i);
    }
    cr_assert((char *)a.probs >= lo && (char *)(a.probs + a.num_outputs) <= hi);
    nn_cnn_free(&a);
    nn_cnn_free(&b);
    nn_cnn_free(&c);
}

Test(cnn, forward_reuses_buffers_and_repeats_exactly) {
    nn_layer_spec s[NN_CNN_DEFAULT_LAYERS];
    size_t n = nn_cnn_default_spec(s);
    nn_cnn m;
    nn_error err;
    cr_assert_eq(nn_cnn_create(&m, s, n, 64, 48, 3, 9, 1, &err), NN_OK);
    float *x = malloc(64 * 48 * 3 * sizeof *x);
    nn_rng r;
    nn_rng_seed(&r, 1);
    for (size_t i = 0; i < 64 * 48 * 3; i++) x[i] = nn_rng_uniformf(&r);
    cr_assert_eq(nn_cnn_forward(&m, x, &err), NN_OK, "%s", err.message);
    float first[1000];
    memcpy(first, m.probs, sizeof first);
    void *mem = m.memory, *ws = m.ws.data;
    size_t ws_size = m.ws.size;
    nn_parallel_set_threads(1);
    cr_assert_eq(nn_cnn_forward(&m, x, &err), NN_OK);
    nn_parallel_set_threads(0);
    cr_assert_eq(nn_cnn_forward(&m, x, &err), NN_OK);
    cr_assert_eq(m.memory, mem);
    cr_assert_eq(m.ws.data, ws, "the conv workspace is kept across calls");
    cr_assert_eq(m.ws.size, ws_size);
    cr_assert_eq(memcmp(first, m.probs, sizeof first), 0);
    double sum = 0;
    for (int i = 0; i < 1000; i++) sum += m.probs[i];
    cr_assert_float_eq(sum, 1.0, 1e-5);
    for (size_t i = 0; i < m.layers[1].out_len; i++) cr_assert_geq(m.layers[1].output[i], 0.0f, "ReLU then max-pool");
    free(x);
    nn_cnn_free(&m);
    nn_cnn_free(&m); /* harmless twice */
}

/* A network that ends on a volume: logits are that volume flattened, softmax over all of it;
 * given kernels are used as is. */
Test(cnn, conv_only_network_flattens_its_output) {
    nn_layer_spec s[2];
    float k[2 * 1 * 1 * 1] = {2.0f, -1.0f}, b[2] = {0.5f, 0.0f};
    nn_layer_conv(&s[0], 2, 1, 1, (nn_conv_params){1, 1, 0, 0, {NN_ACT_IDENTITY, 0.01f}}, NN_INIT_HE);
    s[0].kernels = k;
    s[0].kernels_len = 2;
    s[0].bias = b;
    s[0].bias_len = 2;
    nn_layer_pool(&s[1], (nn_pool_params){NN_POOL_AVG, 1, 2, 1, 2});
    nn_cnn m;
    nn_error err;
    cr_assert_eq(nn_cnn_create(&m, s, 2, 2, 4, 1, 0, 1, &err), NN_OK, "%s", err.message);
    float x[8] = {1, 3, 0, 2, -1, 1, 4, 4}; /* [2, 4, 1] */
    cr_assert_eq(nn_cnn_forward(&m, x, &err), NN_OK);
    cr_assert_eq(m.num_outputs, 2 * 2 * 2);
    cr_assert_eq(m.logits, m.layers[1].output);
    /* conv: [2x+0.5, -x]; avg over pairs of columns */
    float want[8] = {4.5f, -2.0f, 2.5f, -1.0f, 0.5f, 0.0f, 8.5f, -4.0f};
    double sum = 0;
    for (int i = 0; i < 8; i++) {
        cr_assert_float_eq(m.logits[i], want[i], 1e-6, "logit %d", i);
        sum += m.probs[i];
    }
    cr_assert_float_eq(sum, 1.0, 1e-6);
    cr_assert_gt(m.probs[6], 0.9f);
    nn_cnn_free(&m);
}

static void expect_error(nn_code got, nn_code want, const nn_error *err, const char *field) {
    cr_assert_eq(got, want, "expected %s for %s, got %s (%s)", nn_code_name(want), field, nn_code_name(got),
                 err->message);
    cr_assert_str_eq(err->field, field, "field %s, message: %s", err->field, err->message);
    cr_assert_gt(strlen(err->message), 5);
}

Test(cnn, validation_errors_name_layer_and_field) {
    nn_layer_spec d[NN_CNN_DEFAULT_LAYERS], s[NN_CNN_DEFAULT_LAYERS];
    nn_cnn_default_spec(d);
    nn_error err;
    nn_cnn m;
#define RESET() memcpy(s, d, sizeof s)
    RESET();
    s[0].filters = 0;
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture[0].filters");
    cr_assert(strstr(err.message, "architecture[0] (conv)"), "%s", err.message);
    RESET();
    s[2].size_w = 0;
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture[2].size");
    RESET();
    s[2].conv.stride_h = 0;
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture[2].stride");
    RESET();
    s[1].pool.stride_w = 0;
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture[1].stride");
    RESET();
    s[3].pool.size_h = s[3].pool.size_w = 56; /* its input is 55x55 */
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture[3].size");
    cr_assert(strstr(err.message, "larger"), "%s", err.message);
    RESET();
    s[0].size_h = 300; /* kernel larger than the image */
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture[0].size");
    RESET();
    s[1].pool.kind = (nn_pool_kind)9;
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture[1].function");
    RESET();
    s[4].pool.kind = (nn_pool_kind)9;
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture[4].function");
    RESET();
    s[0].conv.act.kind = (nn_act_kind)99;
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture[0].activation");
    RESET();
    s[0].init = (nn_init_kind)99;
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture[0].init");
    RESET();
    s[2].conv.pad_h = SIZE_MAX / 2 + 1;
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_TOO_LARGE, &err, "architecture[2].padding");
    RESET();
    s[5].mlp.output_size = 0;
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture[5].output_size");
    RESET();
    s[5].mlp.hidden_sizes[0] = 0;
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture[5].hidden_size");
    RESET();
    s[5].mlp.hidden_layers = NN_MLP_MAX_HIDDEN + 1;
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err,
                 "architecture[5].hidden_layers");
    RESET();
    s[5].mlp.act.kind = (nn_act_kind)99;
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture[5].activation");
    /* a conv or pool after the data became a vector */
    RESET();
    s[5] = d[0];
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture[5].type");
    RESET();
    s[5] = d[1];
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture[5].type");
    RESET();
    s[5].type = (nn_layer_type)17;
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture[5].type");
    /* given parameters of the wrong size */
    float buf[16 * 27 + 1] = {0};
    RESET();
    s[0].kernels = buf;
    s[0].kernels_len = 16 * 27 - 1;
    expect_error(nn_cnn_create(&m, s, 6, 224, 224, 3, 1, 1, &err), NN_INVALID, &err, "architecture[0].kernels");
    cr_assert(strstr(err.message, "[16, 3, 3, 3]"), "%s", err.message);
    nn_cnn_free(&m);
    RESET();
    s[2].bias = buf;
    s[2].bias_len = 31;
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture[2].bias");
    RESET();
    s[5].mlp_weight[0] = buf;
    s[5].mlp_weight_len[0] = 32 * 20;
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture[5].weights");
    cr_assert(strstr(err.message, "weights[1].weight"), "all layers must be given: %s", err.message);
    RESET();
    s[5].mlp_weight[0] = buf;
    s[5].mlp_weight_len[0] = 7;
    expect_error(nn_cnn_validate(s, 6, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture[5].weights");
    cr_assert(strstr(err.message, "[32, 20]"), "%s", err.message);
    /* whole-architecture and input errors */
    RESET();
    expect_error(nn_cnn_validate(s, 0, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture");
    expect_error(nn_cnn_validate(NULL, 3, 224, 224, 3, NULL, &err), NN_INVALID, &err, "architecture");
    nn_layer_spec many[NN_CNN_MAX_LAYERS + 1];
    memset(many, 0, sizeof many);
    expect_error(nn_cnn_validate(many, NN_CNN_MAX_LAYERS + 1, 224, 224, 3, NULL, &err), NN_INVALID, &err,
                 "architecture");
    expect_error(nn_cnn_validate(s, 6, 0, 224, 3, NULL, &err), NN_INVALID, &err, "input");
    expect_error(nn_cnn_validate(s, 6, SIZE_MAX / 2, SIZE_MAX / 2, 3, NULL, &err), NN_TOO_LARGE, &err, "input");
    expect_error(nn_cnn_validate(s, 6, 8, 8, 3, NULL, &err), NN_INVALID, &err, "architecture[3].size");
    expect_error(nn_cnn_create(&m, s, 6, 4, 4, 3, 0, 1, &err), NN_INVALID, &err, "architecture[1].size");
    cr_assert_null(m.memory, "a failed create leaves nothing allocated");
    nn_cnn_free(&m);
    cr_assert_eq(nn_cnn_create(&m, s, 6, 32, 32, 3, 0, 1, &err), NN_OK);
    expect_error(nn_cnn_forward(&m, NULL, &err), NN_INVALID, &err, "input");
    nn_cnn_free(&m);
    expect_error(nn_cnn_forward(&m, buf, &err), NN_INVALID, &err, "architecture");
#undef RESET
}

Test(cnn, names_and_fields) {
    nn_layer_type t;
    nn_error err;
    cr_assert_eq(nn_layer_type_parse("Conv", &t, "type", &err), NN_OK);
    cr_assert_eq(t, NN_LAYER_CONV);
    cr_assert_eq(nn_layer_type_parse("global_pool", &t, "type", &err), NN_OK);
    cr_assert_eq(t, NN_LAYER_GLOBAL_POOL);
    cr_assert_eq(nn_layer_type_parse("MLP", &t, "type", &err), NN_OK);
    cr_assert_eq(t, NN_LAYER_MLP);
    cr_assert_eq(nn_layer_type_parse("pool", &t, "type", &err), NN_OK);
    cr_assert_eq(t, NN_LAYER_POOL);
    cr_assert_eq(nn_layer_type_parse("dropout", &t, "architecture[3].type", &err), NN_INVALID);
    cr_assert_str_eq(err.field, "architecture[3].type");
    cr_assert(strstr(err.message, "dropout"));
    cr_assert_eq(nn_layer_type_parse(NULL, &t, NULL, &err), NN_INVALID);
    cr_assert_str_eq(err.field, "type");
    cr_assert_str_eq(nn_layer_type_name(NN_LAYER_GLOBAL_POOL), "global_pool");
    /* The alias list is the parser's: each spelling (and its upper case) parses to its type,
     * each type's first spelling is its canonical name, and every type is listed. */
    int seen[4] = {0};
    size_t n = 0;
    nn_layer_type at;
    for (const char *a; (a = nn_layer_type_alias(n, &at)); n++) {
        char up[32];
        size_t k = 0;
        for (; a[k] && k + 1 < sizeof up; k++) up[k] = (char)toupper((unsigned char)a[k]);
        up[k] = 0;
        cr_assert_eq(nn_layer_type_parse(a, &t, "type", &err), NN_OK, "%s", a);
        cr_assert_eq(t, at, "%s", a);
        cr_assert_eq(nn_layer_type_parse(up, &t, "type", &err), NN_OK, "%s", up);
        if (!seen[at]) cr_assert_str_eq(a, nn_layer_type_name(at), "canonical name first");
        seen[at] = 1;
    }
    cr_assert_eq(n, 11);
    cr_assert(seen[NN_LAYER_CONV] && seen[NN_LAYER_POOL] && seen[NN_LAYER_GLOBAL_POOL] && seen[NN_LAYER_MLP]);
    cr_assert_null(nn_layer_type_alias(n, &at));
    cr_assert_str_eq(nn_cnn_field(2, "size"), "architecture[2].size");
    cr_assert_str_eq(nn_cnn_field(31, "weights"), "architecture[31].weights");
    cr_assert_str_eq(nn_cnn_field(0, ""), "architecture[0]");
    cr_assert_str_eq(nn_cnn_field(32, "size"), "architecture");
    cr_assert_str_eq(nn_cnn_field(1, "nonsense"), "architecture");
    cr_assert_eq(nn_cnn_field(4, "stride"), nn_cnn_field(4, "stride"), "field strings are static");
}

/* Pooling is work too (issue 13): each pool layer reports its kernel's work (nn_pool_work, a
 * global pool nn_global_pool_work), and they count in the total. */
Test(cnn, pool_layers_count_their_work) {
    nn_layer_spec s[3];
    nn_layer_pool(&s[0], (nn_pool_params){NN_POOL_MAX, 3, 2, 1, 2});
    nn_layer_pool(&s[1], (nn_pool_params){NN_POOL_AVG, 2, 2, 2, 2});
    nn_layer_global_pool(&s[2], NN_POOL_AVG);
    nn_cnn m;
    nn_error err;
    cr_assert_eq(nn_cnn_create(&m, s, 3, 10, 9, 5, 1, 0, &err), NN_OK, "%s", err.message);
    /* 10x9 -> (3x2 window, stride 1x2) 8x4 -> (2x2 / 2) 4x2 -> [5] */
    double w0 = nn_pool_work(8, 4, 5, &s[0].pool), w1 = nn_pool_work(4, 2, 5, &s[1].pool);
    double w2 = nn_global_pool_work(4, 2, 5);
    cr_assert(w0 > 0 && w1 > 0 && w2 > 0);
    cr_assert_float_eq(m.layers[0].flops, w0, 1e-9);
    cr_assert_float_eq(m.layers[1].flops, w1, 1e-9);
    cr_assert_float_eq(m.layers[2].flops, w2, 1e-9);
    cr_assert_float_eq(m.flops, w0 + w1 + w2, 1e-9);
    nn_cnn_info info;
    cr_assert_eq(nn_cnn_validate(s, 3, 10, 9, 5, &info, &err), NN_OK);
    cr_assert_float_eq(info.flops, m.flops, 1e-9);
    cr_assert_float_eq(info.work, m.flops, 1e-9, "no convolution: no scratch");
    cr_assert_eq(info.ws_bytes, 0);
    nn_cnn_free(&m);
}
