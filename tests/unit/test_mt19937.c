/* test_mt19937.c — NumPy's legacy random numbers (nn_mt19937.h) and the numpy_rand /
 * numpy_randn inits, bit for bit against values NumPy wrote (tests/fixtures/numpy_random.json,
 * from tests/reference/gen_numpy.py): the state after np.random.seed, the raw 32-bit stream
 * across refills, rand and randn streams (the Gaussian cache across calls), the assignment's
 * kernels and MLP weights, a /cnn architecture's draws layer by layer, and NumPy's seed range. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "nn_cnn.h"
#include "nn_init.h"
#include "nn_mlp.h"
#include "nn_mt19937.h"

static cJSON *fx;
static void load(void) {
    fx = fx_load("numpy_random.json");
    cr_assert(fx, "tests/fixtures/numpy_random.json missing (make fixtures)");
}
static void unload(void) { cJSON_Delete(fx); }
TestSuite(mt19937, .init = load, .fini = unload);

static const cJSON *get(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    cr_assert(v, "fixture key '%s' missing", k);
    return v;
}

/* Doubles of a JSON number list (malloc'd). */
static double *numbers(const cJSON *a, size_t *n) {
    *n = (size_t)cJSON_GetArraySize(a);
    double *v = malloc((*n ? *n : 1) * sizeof *v);
    cr_assert(v);
    size_t i = 0;
    for (const cJSON *c = a->child; c; c = c->next) v[i++] = c->valuedouble;
    return v;
}

/* The float32 values of a fixture tensor {"shape", "data"} must equal got[0..n) bit for bit. */
static void assert_f32(const float *got, const cJSON *t, size_t n_expected, const char *what) {
    size_t n;
    double *want = numbers(get(t, "data"), &n);
    cr_assert_eq(n, n_expected, "%s: %zu values in the fixture, %zu drawn", what, n, n_expected);
    for (size_t i = 0; i < n; i++)
        cr_assert(got[i] == (float)want[i], "%s[%zu]: %.9g, NumPy %.9g", what, i, got[i], want[i]);
    free(want);
}

Test(mt19937, seeding_matches_numpy_state) {
    int keys = 0;
    for (const cJSON *c = get(fx, "seeding")->child; c; c = c->next) {
        nn_mt19937 mt;
        nn_mt19937_seed(&mt, (uint32_t)get(c, "seed")->valuedouble);
        cr_assert_eq(mt.pos, (int)get(c, "pos")->valuedouble);
        const cJSON *key = cJSON_GetObjectItemCaseSensitive(c, "key");
        if (!key) continue;
        keys++;
        size_t n;
        double *k = numbers(key, &n);
        cr_assert_eq(n, (size_t)NN_MT19937_N);
        for (size_t i = 0; i < n; i++) cr_assert_eq(mt.key[i], (uint32_t)k[i], "key[%zu]", i);
        free(k);
    }
    cr_assert_eq(keys, 3);
}

Test(mt19937, raw_stream_across_refills) {
    size_t total = 0;
    for (const cJSON *c = get(fx, "seeding")->child; c; c = c->next) {
        nn_mt19937 mt;
        nn_mt19937_seed(&mt, (uint32_t)get(c, "seed")->valuedouble);
        size_t n;
        double *raw = numbers(get(c, "raw"), &n);
        cr_assert_gt(n, (size_t)NN_MT19937_N);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(nn_mt19937_next32(&mt), (uint32_t)raw[i], "seed %.0f, output %zu",
                         get(c, "seed")->valuedouble, i);
        total += n;
        free(raw);
    }
    cr_assert_geq(total, 5000);
}

Test(mt19937, rand_and_randn_streams_are_numpys_bits) {
    int long_streams = 0;
    for (const cJSON *c = get(fx, "streams")->child; c; c = c->next) {
        int gauss = strcmp(get(c, "kind")->valuestring, "randn") == 0;
        double seed = get(c, "seed")->valuedouble;
        nn_mt19937 mt;
        nn_mt19937_seed(&mt, (uint32_t)seed);
        size_t n;
        double *want = numbers(get(c, "values"), &n);
        for (size_t i = 0; i < n; i++) {
            double v = gauss ? nn_mt19937_gauss(&mt) : nn_mt19937_random_sample(&mt);
            cr_assert(v == want[i], "%s seed %.0f value %zu: %.17g, NumPy %.17g", gauss ? "randn" : "rand",
                      seed, i, v, want[i]);
        }
        long_streams += n > 1000;
        free(want);
    }
    cr_assert_eq(long_streams, 4);
}

Test(mt19937, a_sequence_of_calls_is_one_stream) {
    for (const cJSON *c = get(fx, "calls")->child; c; c = c->next) {
        nn_mt19937 mt;
        nn_mt19937_seed(&mt, (uint32_t)get(c, "seed")->valuedouble);
        size_t n, at = 0;
        double *want = numbers(get(c, "values"), &n);
        for (const cJSON *call = get(c, "calls")->child; call; call = call->next) {
            int gauss = strcmp(cJSON_GetArrayItem(call, 0)->valuestring, "randn") == 0;
            size_t k = (size_t)cJSON_GetArrayItem(call, 1)->valuedouble;
            for (size_t i = 0; i < k; i++, at++) {
                double v = gauss ? nn_mt19937_gauss(&mt) : nn_mt19937_random_sample(&mt);
                cr_assert(v == want[at], "value %zu: %.17g, NumPy %.17g", at, v, want[at]);
            }
        }
        cr_assert_eq(at, n);
        free(want);
    }
}

Test(mt19937, assignment_kernels_through_the_init) {
    const cJSON *a = get(fx, "assignment");
    nn_mt19937 mt;
    float k[16 * 27];
    cr_assert_eq(nn_init_numpy_seed(&mt, 42, NULL), NN_OK);
    cr_assert_eq(nn_init_fill_numpy(k, 27, NN_INIT_NUMPY_RAND, &mt, NULL), NN_OK);
    assert_f32(k, get(a, "rand_kernel"), 27, "rand(3, 3, 3)");
    /* 16 calls randn(3, 3, 3) one after another == one fill of the whole bank */
    cr_assert_eq(nn_init_numpy_seed(&mt, 42, NULL), NN_OK);
    for (int f = 0; f < 16; f++) cr_assert_eq(nn_init_fill_numpy(k + 27 * f, 27, NN_INIT_NUMPY_RANDN, &mt, NULL), NN_OK);
    assert_f32(k, get(a, "kernels"), 16 * 27, "16 x randn(3, 3, 3)");
    cr_assert_eq(nn_init_numpy_seed(&mt, 42, NULL), NN_OK);
    cr_assert_eq(nn_init_fill_numpy(k, 16 * 27, NN_INIT_NUMPY_RANDN, &mt, NULL), NN_OK);
    assert_f32(k, get(a, "kernels"), 16 * 27, "randn bank at once");
}

Test(mt19937, assignment_mlp_weights_biases_zero) {
    const cJSON *a = get(fx, "assignment");
    nn_mlp_config cfg;
    nn_activation relu = {NN_ACT_RELU, 0.01f};
    nn_mlp_config_uniform(&cfg, 16, 2, 64, 10, relu);
    nn_mlp m;
    nn_error e;
    cr_assert_eq(nn_mlp_create(&m, &cfg, &e), NN_OK, "%s", e.message);
    for (size_t l = 0; l < m.num_layers; l++)
        for (size_t j = 0; j < m.out_size[l]; j++) m.bias[l][j] = 1.0f; /* must be overwritten */
    cr_assert_eq(nn_mlp_init_params(&m, 42, NN_INIT_NUMPY_RANDN, &e), NN_OK, "%s", e.message);
    size_t l = 0;
    for (const cJSON *w = get(a, "mlp")->child; w; w = w->next, l++) {
        assert_f32(m.weight[l], w, m.in_size[l] * m.out_size[l], "mlp weight");
        for (size_t j = 0; j < m.out_size[l]; j++) cr_assert_eq(m.bias[l][j], 0.0f);
    }
    cr_assert_eq(l, 3);
    cr_assert_eq(nn_mlp_init_params(&m, 1ull << 32, NN_INIT_NUMPY_RANDN, &e), NN_INVALID);
    cr_assert_str_eq(e.field, "seed");
    nn_mlp_free(&m);
}

Test(mt19937, cnn_draws_layer_by_layer) {
    const cJSON *c = get(fx, "cnn");
    nn_layer_spec s[5];
    nn_activation relu = {NN_ACT_RELU, 0.01f}, tanh_act = {NN_ACT_TANH, 0.01f};
    nn_layer_conv(&s[0], 4, 3, 3, (nn_conv_params){1, 1, 0, 0, relu}, NN_INIT_NUMPY_RANDN);
    nn_layer_pool(&s[1], (nn_pool_params){NN_POOL_MAX, 2, 2, 2, 2});
    nn_layer_conv(&s[2], 2, 3, 3, (nn_conv_params){1, 1, 1, 1, relu}, NN_INIT_NUMPY_RAND);
    nn_layer_global_pool(&s[3], NN_POOL_AVG);
    nn_layer_mlp(&s[4], 1, 5, 3, tanh_act, NN_INIT_NUMPY_RANDN);
    nn_cnn m;
    nn_error e;
    cr_assert_eq(nn_cnn_create(&m, s, 5, 8, 8, 3, (uint64_t)get(c, "seed")->valuedouble, 1, &e), NN_OK, "%s", e.message);
    size_t n;
    double *want = numbers(get(c, "conv0"), &n);
    cr_assert_eq(n, 4u * 27);
    for (size_t i = 0; i < n; i++) cr_assert(m.layers[0].kernels[i] == (float)want[i], "conv0[%zu]", i);
    free(want);
    want = numbers(get(c, "conv2"), &n);
    cr_assert_eq(n, 2u * 36);
    for (size_t i = 0; i < n; i++) cr_assert(m.layers[2].kernels[i] == (float)want[i], "conv2[%zu]", i);
    free(want);
    const char *names[2] = {"mlp0", "mlp1"};
    for (size_t l = 0; l < 2; l++) {
        want = numbers(get(c, names[l]), &n);
        cr_assert_eq(n, m.layers[4].mlp.in_size[l] * m.layers[4].mlp.out_size[l]);
        for (size_t i = 0; i < n; i++) cr_assert(m.layers[4].mlp.weight[l][i] == (float)want[i], "%s[%zu]", names[l], i);
        for (size_t j = 0; j < m.layers[4].mlp.out_size[l]; j++) cr_assert_eq(m.layers[4].mlp.bias[l][j], 0.0f);
        free(want);
    }
    for (size_t j = 0; j < 4; j++) cr_assert_eq(m.layers[0].bias[j], 0.0f);
    nn_cnn_free(&m);
    cr_assert_eq(nn_cnn_create(&m, s, 5, 8, 8, 3, 1ull << 32, 1, &e), NN_INVALID);
    cr_assert_str_eq(e.field, "seed");
    nn_cnn_free(&m);
    /* without a NumPy init any seed is fine (nn_rng takes 64 bits) */
    s[0].init = s[2].init = NN_INIT_HE;
    s[4].mlp_init = NN_INIT_UNIFORM;
    cr_assert_eq(nn_cnn_create(&m, s, 5, 8, 8, 3, 1ull << 40, 1, &e), NN_OK, "%s", e.message);
    nn_cnn_free(&m);
}

Test(mt19937, numpy_seed_range) {
    nn_mt19937 mt;
    nn_error e;
    size_t n;
    double *bad = numbers(get(fx, "bad_seeds"), &n);
    cr_assert_eq(n, 3);
    for (size_t i = 0; i < n; i++) {
        uint64_t s = bad[i] < 0 ? UINT64_MAX : (uint64_t)bad[i];
        cr_assert_eq(nn_init_numpy_seed(&mt, s, &e), NN_INVALID, "seed %.0f", bad[i]);
        cr_assert_str_eq(e.field, "seed");
    }
    free(bad);
    cr_assert_eq(nn_init_numpy_seed(&mt, 0xffffffffull, &e), NN_OK);
    cr_assert_eq(nn_init_numpy_seed(&mt, 0, &e), NN_OK);
}

Test(mt19937, init_kinds_dispatch) {
    nn_init_kind k;
    cr_assert_eq(nn_init_parse("numpy_randn", &k, NULL), NN_OK);
    cr_assert_eq(k, NN_INIT_NUMPY_RANDN);
    cr_assert_eq(nn_init_parse("NumPy_Rand", &k, NULL), NN_OK);
    cr_assert_eq(k, NN_INIT_NUMPY_RAND);
    cr_assert_str_eq(nn_init_name(NN_INIT_NUMPY_RAND), "numpy_rand");
    cr_assert(nn_init_is_numpy(NN_INIT_NUMPY_RANDN) && !nn_init_is_numpy(NN_INIT_HE));
    float w[4];
    nn_rng r;
    nn_rng_seed(&r, 1);
    nn_error e;
    cr_assert_eq(nn_init_fill(w, 4, 4, 4, NN_INIT_NUMPY_RANDN, &r, &e), NN_INVALID);
    cr_assert_str_eq(e.field, "init");
    nn_mt19937 mt;
    nn_mt19937_seed(&mt, 1);
    cr_assert_eq(nn_init_fill_numpy(w, 4, NN_INIT_HE, &mt, &e), NN_INVALID);
}
