/* test_cpu.c — the one SIMD switch (nn_cpu.h): level names, NNLAB_SIMD read once and capped by
 * the CPU, the test override and its return to the environment's choice. Each Criterion test
 * runs in its own process, so each sees a fresh, undecided level. */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "nn_cpu.h"

static nn_simd min_level(nn_simd a, nn_simd b) { return a < b ? a : b; }

Test(cpu, names_parse_and_print) {
    static const char *const names[] = {"generic", "avx2", "avx512"};
    for (int i = 0; i < NN_SIMD_LEVELS; i++) {
        nn_simd s = NN_SIMD_AVX512;
        cr_assert_eq(nn_cpu_parse_simd(names[i], &s), 0, "%s", names[i]);
        cr_assert_eq((int)s, i);
        cr_assert_str_eq(nn_cpu_simd_name(s), names[i]);
    }
    nn_simd s = NN_SIMD_AVX2;
    cr_assert_eq(nn_cpu_parse_simd("AVX2", &s), -1);
    cr_assert_eq(nn_cpu_parse_simd("sse", &s), -1);
    cr_assert_eq(nn_cpu_parse_simd("", &s), -1);
    cr_assert_eq(nn_cpu_parse_simd(NULL, &s), -1);
    cr_assert_eq(s, NN_SIMD_AVX2, "a failed parse leaves *out alone");
    cr_assert_str_eq(nn_cpu_simd_name((nn_simd)7), "?");
}

Test(cpu, unset_means_the_best_the_cpu_has) {
    unsetenv("NNLAB_SIMD");
    cr_assert_eq(nn_cpu_simd(), nn_cpu_simd_max());
}

Test(cpu, unknown_value_means_the_best_the_cpu_has) {
    setenv("NNLAB_SIMD", "sse4", 1);
    cr_assert_eq(nn_cpu_simd(), nn_cpu_simd_max());
}

Test(cpu, generic_is_honoured) {
    setenv("NNLAB_SIMD", "generic", 1);
    cr_assert_eq(nn_cpu_simd(), NN_SIMD_GENERIC);
}

Test(cpu, avx2_caps_the_level) {
    setenv("NNLAB_SIMD", "avx2", 1);
    cr_assert_eq(nn_cpu_simd(), min_level(NN_SIMD_AVX2, nn_cpu_simd_max()));
}

/* The kernels call nn_cpu_simd() on every run: the environment must be read once, not then. */
Test(cpu, environment_is_read_once) {
    setenv("NNLAB_SIMD", "generic", 1);
    cr_assert_eq(nn_cpu_simd(), NN_SIMD_GENERIC);
    setenv("NNLAB_SIMD", "avx512", 1);
    cr_assert_eq(nn_cpu_simd(), NN_SIMD_GENERIC);
    unsetenv("NNLAB_SIMD");
    cr_assert_eq(nn_cpu_simd(), NN_SIMD_GENERIC);
}

Test(cpu, override_is_capped_and_auto_returns_to_the_environment) {
    setenv("NNLAB_SIMD", "avx2", 1);
    nn_simd max = nn_cpu_simd_max();
    for (int level = NN_SIMD_GENERIC; level < NN_SIMD_LEVELS; level++) {
        nn_simd got = nn_cpu_set_simd(level);
        cr_assert_eq(got, min_level((nn_simd)level, max), "asked %d", level);
        cr_assert_eq(nn_cpu_simd(), got);
    }
    cr_assert_eq(nn_cpu_set_simd(99), max);
    cr_assert_eq(nn_cpu_set_simd(NN_SIMD_AUTO), min_level(NN_SIMD_AVX2, max));
    cr_assert_eq(nn_cpu_simd(), min_level(NN_SIMD_AVX2, max));
}
