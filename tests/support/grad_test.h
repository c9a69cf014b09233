/* grad_test.h — helpers shared by the training-kernel suites (test_grad_*.c): float arrays,
 * the error measure, and the check of an error's code and field. Failures abort the test via
 * Criterion. */
#ifndef NN_TEST_GRAD_H
#define NN_TEST_GRAD_H

#include <stddef.h>

#include "nn_rng.h"
#include "nn_status.h"

/* n zeros (malloc'd, at least one element; the caller frees). */
float *gt_zeros(size_t n);

/* n values uniform in [-scale, scale) from r (malloc'd). */
float *gt_uniform(nn_rng *r, size_t n, float scale);

/* Largest |got - want| / max(|want|, 1) over n values; a NaN on either side counts as worst. */
double gt_max_err(const float *got, const float *want, size_t n);

/* The call returned `want` and named `field`. */
void gt_expect_error(nn_code got, nn_code want, const nn_error *err, const char *field);

#endif
