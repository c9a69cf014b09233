/* test_optim.c — float32 SGD and Adam (nn_optim.h) against torch.optim's own float32 runs
 * (tests/fixtures/optim.json from tests/reference/gen_grad.py): 7 steps of given gradients
 * (large, tiny, zero) for plain SGD, momentum, dampening, Nesterov, weight decay and Adam with
 * and without weight decay; the parameters after every step must be torch's to the bit. Plus
 * state sizes, defaults and the validation errors. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "nn_optim.h"

static double opt_num(const cJSON *c, const char *key, double dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, key);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

Test(optim, matches_torch_bit_for_bit) {
    cJSON *doc = fx_require("optim.json");
    int count = 0;
    for (const cJSON *c = fx_cases(doc); c; c = c->next) {
        size_t n, gs[8], nd;
        float *p = fx_tensor_f32(c, "init", NULL, NULL, &n);
        float *grads = fx_tensor_f32(c, "grads", gs, &nd, NULL);
        float *want = fx_tensor_f32(c, "params", NULL, NULL, NULL);
        nn_optim o;
        if (!strcmp(fx_str(c, "optimizer"), "sgd")) {
            nn_optim_sgd(&o, fx_num(c, "lr"), opt_num(c, "momentum", 0));
            o.dampening = opt_num(c, "dampening", 0);
            o.nesterov = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "nesterov"));
        } else {
            nn_optim_adam(&o, fx_num(c, "lr"));
            o.beta1 = opt_num(c, "beta1", 0.9), o.beta2 = opt_num(c, "beta2", 0.999), o.eps = opt_num(c, "eps", 1e-8);
        }
        o.weight_decay = opt_num(c, "weight_decay", 0);
        size_t ns = nn_optim_state_floats(&o, n);
        float *state = calloc(ns ? ns : 1, sizeof *state);
        for (size_t s = 0; s < gs[0]; s++) {
            nn_error err;
            cr_assert_eq(nn_optim_step(&o, p, grads + s * n, ns ? state : NULL, n, &err), NN_OK, "%s", err.message);
            cr_assert_eq(o.step, s + 1);
            for (size_t i = 0; i < n; i++)
                cr_assert(p[i] == want[s * n + i], "%s step %zu param %zu: %.9g, torch %.9g", fx_str(c, "name"), s, i,
                          (double)p[i], (double)want[s * n + i]);
        }
        free(p), free(grads), free(want), free(state);
        count++;
    }
    cr_assert_eq(count, 7);
    cJSON_Delete(doc);
}

Test(optim, defaults_and_state_sizes) {
    nn_optim o;
    nn_optim_adam(&o, 1e-3);
    cr_assert(o.kind == NN_OPTIM_ADAM && o.lr == 1e-3 && o.beta1 == 0.9 && o.beta2 == 0.999 && o.eps == 1e-8 &&
              o.weight_decay == 0 && o.step == 0);
    cr_assert_eq(nn_optim_state_floats(&o, 10), 20u);
    nn_optim_sgd(&o, 0.1, 0.9);
    cr_assert(o.kind == NN_OPTIM_SGD && o.momentum == 0.9 && o.dampening == 0 && !o.nesterov);
    cr_assert_eq(nn_optim_state_floats(&o, 10), 10u);
    nn_optim_sgd(&o, 0.1, 0);
    cr_assert_eq(nn_optim_state_floats(&o, 10), 0u);
    float p = 1, g = 2;
    cr_assert_eq(nn_optim_step(&o, &p, &g, NULL, 1, NULL), NN_OK); /* plain SGD needs no state */
    cr_assert_eq(p, 0.8f);
}

static void expect_error(nn_optim *o, const char *field) {
    float p = 0, g = 0, s[2] = {0};
    nn_error err;
    cr_assert_eq(nn_optim_step(o, &p, &g, s, 1, &err), NN_INVALID);
    cr_assert_str_eq(err.field, field);
    cr_assert_eq(o->step, 0u);
}

Test(optim, validation_errors_name_the_field) {
    nn_optim o;
    nn_optim_sgd(&o, -1, 0);
    expect_error(&o, "learning_rate");
    nn_optim_sgd(&o, NAN, 0);
    expect_error(&o, "learning_rate");
    nn_optim_sgd(&o, 0.1, -0.5);
    expect_error(&o, "momentum");
    nn_optim_sgd(&o, 0.1, 0);
    o.nesterov = 1;
    expect_error(&o, "nesterov");
    nn_optim_sgd(&o, 0.1, 0.9);
    o.nesterov = 1, o.dampening = 0.1;
    expect_error(&o, "nesterov");
    nn_optim_sgd(&o, 0.1, 0.9);
    o.weight_decay = -1;
    expect_error(&o, "weight_decay");
    nn_optim_adam(&o, 0.1);
    o.beta1 = 1.0;
    expect_error(&o, "beta1");
    nn_optim_adam(&o, 0.1);
    o.beta2 = -0.1;
    expect_error(&o, "beta2");
    nn_optim_adam(&o, 0.1);
    o.eps = -1;
    expect_error(&o, "eps");
    nn_optim_adam(&o, 0.1);
    float p = 0, g = 0;
    nn_error err;
    cr_assert_eq(nn_optim_step(&o, &p, &g, NULL, 1, &err), NN_INVALID);
    cr_assert_str_eq(err.field, "state");
    cr_assert_eq(nn_optim_step(&o, NULL, &g, &p, 1, &err), NN_INVALID);
    cr_assert_str_eq(err.field, "param");
}
