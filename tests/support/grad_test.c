/* grad_test.c — see grad_test.h. */
#include "grad_test.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>

float *gt_zeros(size_t n) {
    float *a = calloc(n ? n : 1, sizeof *a);
    cr_assert_not_null(a);
    return a;
}

float *gt_uniform(nn_rng *r, size_t n, float scale) {
    float *a = malloc((n ? n : 1) * sizeof *a);
    cr_assert_not_null(a);
    for (size_t i = 0; i < n; i++) a[i] = scale * (2.0f * nn_rng_uniformf(r) - 1.0f);
    return a;
}

double gt_max_err(const float *got, const float *want, size_t n) {
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / fmax(fabs((double)want[i]), 1.0);
        if (!(e <= worst)) worst = e; /* NaN counts as worst */
    }
    return worst;
}

void gt_expect_error(nn_code got, nn_code want, const nn_error *err, const char *field) {
    cr_assert_eq(got, want, "expected %s, got %s (%s)", nn_code_name(want), nn_code_name(got), err->message);
    cr_assert_str_eq(err->field, field);
}
