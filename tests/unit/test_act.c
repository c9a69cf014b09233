/* test_act.c — activations against PyTorch (float64 fixtures), NaN propagation, stability at
 * large |x|, backward against finite differences, and name parsing. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "nn_act.h"

Test(act, forward_matches_pytorch) {
    cJSON *doc = fx_require("act.json");
    int count = 0;
    for (const cJSON *c = fx_cases(doc); c; c = c->next) {
        size_t n;
        float *x = fx_tensor_f32(c, "input", NULL, NULL, &n);
        double *want = fx_tensor_f64(c, "output", NULL, NULL, NULL);
        nn_activation a;
        cr_assert_eq(nn_act_parse(fx_str(c, "activation"), &a, NULL), NN_OK);
        a.negative_slope = (float)fx_num(c, "negative_slope");
        float *y = malloc(n * sizeof *y);
        nn_act_forward(y, x, n, a);
        for (size_t i = 0; i < n; i++) {
            double w = want[i], g = y[i];
            /* Below float32's normal range only absolute agreement is meaningful. */
            double e = fabs(w) < 1.2e-38 ? (fabs(g - w) < 1.2e-38 ? 0 : 1) : fabs(g - w) / fabs(w);
            cr_assert_leq(e, 1e-5, "%s(%g): got %.9g want %.9g", fx_str(c, "name"), (double)x[i], g, w);
            cr_assert_float_eq(nn_act_scalar(x[i], a), y[i], 0.0, "scalar and array forms agree");
        }
        nn_act_forward(x, x, n, a); /* in place */
        cr_assert_eq(memcmp(x, y, n * sizeof *y), 0);
        free(x), free(want), free(y);
        count++;
    }
    cr_assert_geq(count, 6);
    cJSON_Delete(doc);
}

Test(act, nan_propagates_everywhere) {
    for (int k = NN_ACT_IDENTITY; k <= NN_ACT_LEAKY_RELU; k++) {
        nn_activation a = {(nn_act_kind)k, 0.01f};
        float x[3] = {NAN, -NAN, 1.0f}, y[3];
        nn_act_forward(y, x, 3, a);
        cr_assert(isnan(y[0]) && isnan(y[1]), "%s lost a NaN", nn_act_name(a.kind));
        cr_assert(!isnan(y[2]));
    }
}

Test(act, sigmoid_stable_for_large_magnitudes) {
    nn_activation s = {NN_ACT_SIGMOID, 0};
    float x[4] = {-1e30f, -200.0f, 200.0f, 1e30f}, y[4];
    nn_act_forward(y, x, 4, s);
    cr_assert_eq(y[0], 0.0f);
    cr_assert(y[1] >= 0.0f && y[1] < 1e-38f);
    cr_assert_eq(y[2], 1.0f);
    cr_assert_eq(y[3], 1.0f);
    nn_activation t = {NN_ACT_TANH, 0};
    nn_act_forward(y, x, 4, t);
    cr_assert_eq(y[0], -1.0f);
    cr_assert_eq(y[3], 1.0f);
}

Test(act, leaky_slope_is_configurable) {
    nn_activation a = {NN_ACT_LEAKY_RELU, 0.25f};
    float x[3] = {-4.0f, 0.0f, 3.0f}, y[3];
    nn_act_forward(y, x, 3, a);
    cr_assert_float_eq(y[0], -1.0f, 0);
    cr_assert_float_eq(y[1], 0.0f, 0);
    cr_assert_float_eq(y[2], 3.0f, 0);
    a.kind = NN_ACT_RELU;
    nn_act_forward(y, x, 3, a);
    cr_assert_float_eq(y[0], 0.0f, 0);
}

Test(act, backward_matches_finite_differences) {
    const float xs[] = {-3.0f, -0.7f, -0.1f, 0.2f, 0.9f, 2.5f};
    for (int k = NN_ACT_IDENTITY; k <= NN_ACT_LEAKY_RELU; k++) {
        nn_activation a = {(nn_act_kind)k, 0.1f};
        for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
            double h = 1e-3;
            double num = ((double)nn_act_scalar(xs[i] + (float)h, a) - nn_act_scalar(xs[i] - (float)h, a)) / (2 * h);
            float dx = 0.5f, dy = 2.0f; /* backward adds: dx = 0.5 + 2 * act' */
            nn_act_backward(&dx, &dy, &xs[i], 1, a);
            cr_assert_float_eq(dx, 0.5 + 2.0 * num, 2e-3, "%s'(%g)", nn_act_name(a.kind), (double)xs[i]);
        }
    }
}

Test(act, parse_accepts_assignment_spellings) {
    struct { const char *s; nn_act_kind k; } ok[] = {
        {"identity", NN_ACT_IDENTITY}, {"Linear", NN_ACT_IDENTITY}, {"sigmoid", NN_ACT_SIGMOID},
        {"TANH", NN_ACT_TANH}, {"ReLU", NN_ACT_RELU}, {"relu", NN_ACT_RELU},
        {"Leaky ReLU", NN_ACT_LEAKY_RELU}, {"leaky_relu", NN_ACT_LEAKY_RELU}, {"leakyrelu", NN_ACT_LEAKY_RELU},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        nn_activation a;
        cr_assert_eq(nn_act_parse(ok[i].s, &a, NULL), NN_OK, "%s", ok[i].s);
        cr_assert_eq(a.kind, ok[i].k, "%s", ok[i].s);
        cr_assert_float_eq(a.negative_slope, 0.01f, 0);
    }
    cr_assert_str_eq(nn_act_name(NN_ACT_LEAKY_RELU), "leaky_relu");
    const char *bad[] = {"softmax", "", "relu6", "a-very-long-name-that-is-not-an-activation-at-all"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nn_error e;
        nn_activation a;
        cr_assert_eq(nn_act_parse(bad[i], &a, &e), NN_INVALID, "'%s'", bad[i]);
        cr_assert_str_eq(e.field, "activation");
        cr_assert_not_null(strstr(e.message, "unknown activation"));
    }
    nn_error e;
    cr_assert_eq(nn_act_parse(NULL, NULL, &e), NN_INVALID);
    cr_assert_str_eq(e.field, "activation");
}
