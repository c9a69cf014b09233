/* test_adding.c — the adding-problem generator and sequence sets: two distinct markers per
 * sequence, lengths in range, target = sum of the marked values, determinism from the seed,
 * baseline MSE ~ 1/6, given sets copied and checked, errors naming the field. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "nn_adding.h"

/* count samples of lengths [min_len, max_len] from a generator seeded with seed (caller frees). */
static nn_seqset generated(uint64_t seed, size_t count, size_t min_len, size_t max_len) {
    nn_rng r;
    nn_rng_seed(&r, seed);
    nn_seqset s;
    cr_assert_eq(nn_adding_generate(&s, count, min_len, max_len, &r, NULL), NN_OK);
    return s;
}

Test(adding, samples_have_two_distinct_markers_and_sum_targets) {
    nn_seqset s = generated(11, 2000, 3, 9);
    cr_assert_eq(s.count, 2000u);
    size_t seen[10] = {0}, total = 0;
    for (size_t i = 0; i < s.count; i++) {
        size_t T = nn_seqset_len(&s, i);
        cr_assert(T >= 3 && T <= 9, "length %zu", T);
        seen[T]++;
        total += T;
        const double *x = nn_seqset_x(&s, i);
        int marks = 0;
        double sum = 0.0;
        for (size_t t = 0; t < T; t++) {
            cr_assert(x[2 * t] >= 0.0 && x[2 * t] < 1.0);
            cr_assert(x[2 * t + 1] == 0.0 || x[2 * t + 1] == 1.0);
            if (x[2 * t + 1] == 1.0) {
                marks++;
                sum += x[2 * t];
            }
        }
        cr_assert_eq(marks, 2, "sample %zu has %d markers", i, marks);
        cr_assert_eq(s.y[i], sum);
    }
    cr_assert_eq(total, s.total);
    cr_assert_eq(s.start[s.count], s.total);
    for (size_t T = 3; T <= 9; T++) cr_assert(seen[T] > 200, "length %zu seen %zu times", T, seen[T]);
    cr_assert_eq(s.max_len, 9u);
    nn_seqset_free(&s);
}

Test(adding, every_marker_position_pair_occurs) {
    /* Length fixed at 3: the 3 unordered pairs of positions must all appear, roughly evenly. */
    nn_seqset s = generated(5, 3000, 3, 3);
    size_t pair[3] = {0};
    for (size_t i = 0; i < s.count; i++) {
        const double *x = nn_seqset_x(&s, i);
        int m0 = x[1] == 1.0, m1 = x[3] == 1.0, m2 = x[5] == 1.0;
        cr_assert_eq(m0 + m1 + m2, 2);
        pair[!m0 ? 0 : !m1 ? 1 : 2]++;
    }
    for (int k = 0; k < 3; k++) cr_assert(pair[k] > 900 && pair[k] < 1100, "pair %d: %zu", k, pair[k]);
    nn_seqset_free(&s);
}

Test(adding, deterministic_from_the_seed) {
    nn_seqset a = generated(42, 500, 2, 12), b = generated(42, 500, 2, 12), c = generated(43, 500, 2, 12);
    cr_assert_eq(a.total, b.total);
    cr_assert_arr_eq(a.x, b.x, a.total * 2 * sizeof(double));
    cr_assert_arr_eq(a.y, b.y, a.count * sizeof(double));
    cr_assert_arr_eq(a.start, b.start, (a.count + 1) * sizeof(size_t));
    cr_assert(a.total != c.total || memcmp(a.y, c.y, a.count * sizeof(double)) != 0);
    /* Pinned bytes: the generator's draw order is part of the contract (same seed, same data
     * on every machine), so a change to it must be deliberate. */
    cr_assert_eq(a.total, 3402u);
    cr_assert_eq(a.start[1], 2u);
    cr_assert_eq(a.x[0], 0x1.84136619b444ep-2);
    cr_assert_eq(a.y[0], 0x1.0f1c2cb8a6f5dp+0);
    cr_assert_eq(a.y[499], 0x1.3c4512ef00a51p+0);
    nn_seqset_free(&a);
    nn_seqset_free(&b);
    nn_seqset_free(&c);
}

Test(adding, baseline_mse_is_about_one_sixth) {
    /* y = u1 + u2 with u ~ U(0,1): E[(1 - y)^2] = Var(y) = 2/12 = 1/6. */
    nn_seqset s = generated(3, 50000, 3, 9);
    double mse = nn_seqset_constant_mse(&s, 1.0);
    cr_assert(fabs(mse - 1.0 / 6.0) < 0.005, "baseline MSE %g", mse);
    double mean = 0.0;
    for (size_t i = 0; i < s.count; i++) mean += s.y[i];
    mean /= (double)s.count;
    cr_assert(fabs(mean - 1.0) < 0.01, "mean target %g", mean);
    cr_assert(nn_seqset_constant_mse(&s, 0.0) > 1.0); /* E[y^2] = 7/6 */
    nn_seqset_free(&s);
}

Test(adding, generator_errors_name_the_field) {
    nn_rng r;
    nn_rng_seed(&r, 1);
    nn_seqset s;
    nn_error e;
    cr_assert_eq(nn_adding_generate(&s, 0, 3, 9, &r, &e), NN_INVALID);
    cr_assert_str_eq(e.field, "samples");
    cr_assert_eq(nn_adding_generate(&s, 10, 1, 9, &r, &e), NN_INVALID);
    cr_assert_str_eq(e.field, "min_length");
    cr_assert(strstr(e.message, "min_length"));
    cr_assert_eq(nn_adding_generate(&s, 10, 5, 4, &r, &e), NN_INVALID);
    cr_assert_str_eq(e.field, "max_length");
    cr_assert(strstr(e.message, "max_length"));
    cr_assert_eq(nn_adding_generate(&s, 10, 2, 2, &r, &e), NN_OK); /* length 2: both marked */
    for (size_t i = 0; i < s.count; i++) cr_assert_eq(s.y[i], s.x[4 * i] + s.x[4 * i + 2]);
    nn_seqset_free(&s);
}

Test(adding, copy_given_set) {
    const double x[] = {0.1, 1, 0.2, 0, 0.3, 1, /* len 3 */ 0.5, 1, 0.25, 1 /* len 2 */};
    const size_t len[] = {3, 2};
    const double y[] = {0.4, 0.75};
    nn_seqset s;
    nn_error e;
    cr_assert_eq(nn_seqset_copy(&s, x, len, y, 2, "dataset", &e), NN_OK);
    cr_assert_eq(s.count, 2u);
    cr_assert_eq(s.total, 5u);
    cr_assert_eq(s.max_len, 3u);
    cr_assert_eq(nn_seqset_len(&s, 1), 2u);
    cr_assert_eq(nn_seqset_x(&s, 1)[2], 0.25);
    cr_assert_eq(s.y[1], 0.75);
    cr_assert_float_eq(nn_seqset_constant_mse(&s, 1.0), (0.36 + 0.0625) / 2, 1e-15);
    nn_seqset_free(&s);

    const size_t bad_len[] = {3, 0};
    cr_assert_eq(nn_seqset_copy(&s, x, bad_len, y, 2, "dataset", &e), NN_INVALID);
    cr_assert_str_eq(e.field, "dataset");
    cr_assert(strstr(e.message, "dataset[1]"), "%s", e.message);
    double xn[10];
    memcpy(xn, x, sizeof xn);
    xn[7] = NAN;
    cr_assert_eq(nn_seqset_copy(&s, xn, len, y, 2, "test_dataset", &e), NN_INVALID);
    cr_assert_str_eq(e.field, "test_dataset");
    cr_assert(strstr(e.message, "test_dataset[1].x[0][1]"), "%s", e.message);
    const double yn[] = {0.4, INFINITY};
    cr_assert_eq(nn_seqset_copy(&s, x, len, yn, 2, "dataset", &e), NN_INVALID);
    cr_assert(strstr(e.message, "dataset[1].y"), "%s", e.message);
    cr_assert_eq(nn_seqset_copy(&s, x, len, y, 0, "dataset", &e), NN_INVALID);
    cr_assert_str_eq(e.field, "dataset");
}
