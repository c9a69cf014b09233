/* test_status.c — nn_status helpers: messages, fields and overflow-checked sizes. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "nn_status.h"

Test(status, fail_fills_error) {
    nn_error e;
    nn_error_clear(&e);
    cr_assert_eq(nn_fail(&e, NN_INVALID, "stride", "stride must be >= %d", 1), NN_INVALID);
    cr_assert_eq(e.code, NN_INVALID);
    cr_assert_str_eq(e.field, "stride");
    cr_assert_str_eq(e.message, "stride must be >= 1");
    cr_assert_eq(nn_fail(NULL, NN_NOMEM, "x", "ignored"), NN_NOMEM);
}

Test(status, size_overflow_detected) {
    size_t out;
    cr_assert_eq(nn_size_mul(SIZE_MAX / 2, 3, &out), 1);
    cr_assert_eq(nn_size_mul(1000, 1000, &out), 0);
    cr_assert_eq(out, 1000000u);
    size_t dims[3] = {SIZE_MAX / 4, 2, 3};
    cr_assert_eq(nn_size_prod(dims, 3, &out), 1);
    size_t ok[3] = {4, 5, 6};
    cr_assert_eq(nn_size_prod(ok, 3, &out), 0);
    cr_assert_eq(out, 120u);
    cr_assert_str_eq(nn_code_name(NN_TOO_LARGE), "too_large");
}
