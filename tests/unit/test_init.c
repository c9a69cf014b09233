/* test_init.c — deterministic RNG and weight initialisation: fixed bit patterns for a seed
 * (so every machine agrees), bounds of each scheme, ranges, parsing. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "nn_init.h"
#include "nn_rng.h"

Test(init, rng_is_reproducible_and_known) {
    nn_rng a, b;
    nn_rng_seed(&a, 42);
    nn_rng_seed(&b, 42);
    for (int i = 0; i < 1000; i++) cr_assert_eq(nn_rng_u64(&a), nn_rng_u64(&b));
    /* splitmix64(0) is a published constant: the first state word for seed 0. */
    nn_rng z;
    nn_rng_seed(&z, 0);
    cr_assert_eq(z.s[0], 0xe220a8397b1dcdafull);
    nn_rng_seed(&b, 43);
    nn_rng_seed(&a, 42);
    cr_assert_neq(nn_rng_u64(&a), nn_rng_u64(&b));
}

Test(init, uniform_draws_are_in_range_and_spread) {
    nn_rng r;
    nn_rng_seed(&r, 1);
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        double u = nn_rng_uniform(&r);
        float f = nn_rng_uniformf(&r);
        cr_assert(u >= 0.0 && u < 1.0);
        cr_assert(f >= 0.0f && f < 1.0f);
        sum += u;
    }
    cr_assert_float_eq(sum / 100000, 0.5, 0.01);
    int seen[7] = {0};
    for (int i = 0; i < 7000; i++) {
        uint64_t v = nn_rng_range(&r, 3, 9);
        cr_assert(v >= 3 && v <= 9);
        seen[v - 3]++;
    }
    for (int i = 0; i < 7; i++) cr_assert_gt(seen[i], 800, "value %d drawn %d times", i + 3, seen[i]);
    cr_assert_eq(nn_rng_range(&r, 5, 5), 5);
}

Test(init, bounds_of_each_scheme) {
    cr_assert_float_eq(nn_init_bound(NN_INIT_HE, 27, 144), sqrt(6.0 / 27), 1e-15);
    cr_assert_float_eq(nn_init_bound(NN_INIT_XAVIER, 27, 144), sqrt(6.0 / 171), 1e-15);
    cr_assert_float_eq(nn_init_bound(NN_INIT_UNIFORM, 27, 144), 1 / sqrt(27.0), 1e-15);
}

Test(init, fill_is_deterministic_and_bounded) {
    for (int k = NN_INIT_HE; k <= NN_INIT_UNIFORM; k++) {
        float w1[500], w2[500];
        nn_rng r1, r2;
        nn_rng_seed(&r1, 7);
        nn_rng_seed(&r2, 7);
        cr_assert_eq(nn_init_fill(w1, 500, 27, 144, (nn_init_kind)k, &r1, NULL), NN_OK);
        cr_assert_eq(nn_init_fill(w2, 500, 27, 144, (nn_init_kind)k, &r2, NULL), NN_OK);
        cr_assert_eq(memcmp(w1, w2, sizeof w1), 0);
        double a = nn_init_bound((nn_init_kind)k, 27, 144), mx = 0;
        for (int i = 0; i < 500; i++) {
            cr_assert_leq(fabs(w1[i]), a * (1 + 1e-7));
            mx = fmax(mx, fabs(w1[i]));
        }
        cr_assert_gt(mx, 0.9 * a, "draws fill the interval");
        double d[100];
        nn_rng_seed(&r1, 7);
        cr_assert_eq(nn_init_fill_f64(d, 100, 27, 144, (nn_init_kind)k, &r1, NULL), NN_OK);
        for (int i = 0; i < 100; i++) cr_assert_float_eq((float)d[i], w1[i], 0, "f32 is the rounded f64");
    }
    nn_error e;
    nn_rng r;
    nn_rng_seed(&r, 1);
    float w[4];
    cr_assert_eq(nn_init_fill(w, 4, 0, 4, NN_INIT_HE, &r, &e), NN_INVALID);
    cr_assert_str_eq(e.field, "init");
}

Test(init, parse_names) {
    nn_init_kind k;
    cr_assert_eq(nn_init_parse("He", &k, NULL), NN_OK);
    cr_assert_eq(k, NN_INIT_HE);
    cr_assert_eq(nn_init_parse("kaiming", &k, NULL), NN_OK);
    cr_assert_eq(k, NN_INIT_HE);
    cr_assert_eq(nn_init_parse("GLOROT", &k, NULL), NN_OK);
    cr_assert_eq(k, NN_INIT_XAVIER);
    cr_assert_eq(nn_init_parse("uniform", &k, NULL), NN_OK);
    cr_assert_str_eq(nn_init_name(NN_INIT_XAVIER), "xavier");
    nn_error e;
    cr_assert_eq(nn_init_parse("normal", &k, &e), NN_INVALID);
    cr_assert_str_eq(e.field, "init");
    cr_assert_not_null(strstr(e.message, "normal"));
}

/* He-normal: N(0, 2 / fan_in) as kaiming_normal_; 20 000 draws have its mean, variance and
 * fourth moment (3 sigma^4 for a normal; a uniform would give 1.8) within sampling error, the
 * same seed gives the same bits, and f32 is the rounded f64 draw. */
Test(init, he_normal_has_the_normal_moments) {
    enum { N = 20000 };
    static float w[N], w2[N];
    static double d[N];
    nn_rng r1, r2, r3;
    nn_rng_seed(&r1, 3);
    nn_rng_seed(&r2, 3);
    nn_rng_seed(&r3, 3);
    cr_assert_eq(nn_init_fill(w, N, 72, 144, NN_INIT_HE_NORMAL, &r1, NULL), NN_OK);
    cr_assert_eq(nn_init_fill(w2, N, 72, 144, NN_INIT_HE_NORMAL, &r2, NULL), NN_OK);
    cr_assert_eq(nn_init_fill_f64(d, N, 72, 144, NN_INIT_HE_NORMAL, &r3, NULL), NN_OK);
    cr_assert_eq(memcmp(w, w2, sizeof w), 0);
    double sd = nn_init_bound(NN_INIT_HE_NORMAL, 72, 144), m = 0, v = 0, k4 = 0;
    cr_assert_float_eq(sd, sqrt(2.0 / 72), 1e-15);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(w[i], (float)d[i]);
        m += w[i];
    }
    m /= N;
    for (int i = 0; i < N; i++) {
        double z = (w[i] - m) / sd;
        v += z * z;
        k4 += z * z * z * z;
    }
    v /= N;
    k4 /= N;
    cr_assert_lt(fabs(m) / sd, 4.0 / sqrt(N), "mean %g", m);
    cr_assert_lt(fabs(v - 1.0), 4.0 * sqrt(2.0 / N), "variance ratio %g", v);
    cr_assert_lt(fabs(k4 - 3.0), 0.2, "fourth moment %g", k4);
    nn_init_kind k;
    cr_assert_eq(nn_init_parse("He_Normal", &k, NULL), NN_OK);
    cr_assert_eq(k, NN_INIT_HE_NORMAL);
    cr_assert_eq(nn_init_parse("kaiming_normal", &k, NULL), NN_OK);
    cr_assert_str_eq(nn_init_name(NN_INIT_HE_NORMAL), "he_normal");
}
