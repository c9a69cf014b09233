/* nn_cpu.c — CPU feature detection and the NNLAB_SIMD cap; see nn_cpu.h. */
#include "nn_cpu.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[NN_SIMD_LEVELS] = {"generic", "avx2", "avx512"};

/* -1: not decided yet. Relaxed is enough: every thread that decides computes the same value. */
static atomic_int level_in_use = -1;

nn_simd nn_cpu_simd_max(void) {
#ifdef NN_CPU_X86
    __builtin_cpu_init();
    /* FMA with both: the conv kernels fuse every multiply-add (and no CPU has AVX-512 or AVX2
     * without it), so one flag per level is enough for every kernel. */
    int fma = __builtin_cpu_supports("fma");
    if (fma && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx2"))
        return NN_SIMD_AVX512;
    if (fma && __builtin_cpu_supports("avx2")) return NN_SIMD_AVX2;
#endif
    return NN_SIMD_GENERIC;
}

int nn_cpu_parse_simd(const char *name, nn_simd *out) {
    for (int i = 0; name && i < NN_SIMD_LEVELS; i++)
        if (!strcmp(name, names[i])) {
            *out = (nn_simd)i;
            return 0;
        }
    return -1;
}

const char *nn_cpu_simd_name(nn_simd level) {
    return (unsigned)level < NN_SIMD_LEVELS ? names[level] : "?";
}

static nn_simd capped(int want) {
    nn_simd max = nn_cpu_simd_max();
    return want >= 0 && want < (int)max ? (nn_simd)want : max;
}

static nn_simd from_environment(void) {
    nn_simd want;
    if (nn_cpu_parse_simd(getenv("NNLAB_SIMD"), &want)) want = NN_SIMD_AVX512;
    return capped((int)want);
}

nn_simd nn_cpu_simd(void) {
    int v = atomic_load_explicit(&level_in_use, memory_order_relaxed);
    if (v < 0) {
        v = (int)from_environment();
        atomic_store_explicit(&level_in_use, v, memory_order_relaxed);
    }
    return (nn_simd)v;
}

nn_simd nn_cpu_set_simd(int level) {
    nn_simd v = level == NN_SIMD_AUTO ? from_environment() : capped(level);
    atomic_store_explicit(&level_in_use, (int)v, memory_order_relaxed);
    return v;
}
