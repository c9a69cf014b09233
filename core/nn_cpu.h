/* nn_cpu.h — the one place that decides which SIMD instruction set the kernels use.
 *
 * Every kernel with a SIMD build (convolution, pooling, Adam, the recurrent cells) asks
 * nn_cpu_simd() which level to run and never tests CPU features itself. The level is the best
 * the CPU supports, capped by NNLAB_SIMD in the environment:
 *   NNLAB_SIMD=generic   portable code only (SSE2 on x86-64, whatever the compiler emits)
 *   NNLAB_SIMD=avx2      at most AVX2 + FMA
 *   NNLAB_SIMD=avx512    at most AVX-512 (F, VL) + FMA: the default (unset or any other value)
 * The environment is read once, on the first call; later changes to it are not seen. Every
 * level gives the same bits (the API promises the same bytes on any machine), so the choice
 * changes speed only. Thread-safe: concurrent first calls compute the same value. */
#ifndef NN_CPU_H
#define NN_CPU_H

/* x86 builds with GCC-style target attributes and __builtin_cpu_supports: the SIMD kernels
 * exist (compiled for their instruction set with target attributes, whatever -march says). */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define NN_CPU_X86 1
#endif

typedef enum nn_simd {
    NN_SIMD_GENERIC = 0, /* portable C */
    NN_SIMD_AVX2,        /* AVX2 + FMA */
    NN_SIMD_AVX512,      /* AVX-512 F + VL, with AVX2 and FMA */
} nn_simd;

#define NN_SIMD_LEVELS 3
#define NN_SIMD_AUTO (-1) /* nn_cpu_set_simd: back to the NNLAB_SIMD / CPU choice */

/* The level the kernels use now (cached after the first call). */
nn_simd nn_cpu_simd(void);

/* The best level this CPU supports, ignoring NNLAB_SIMD. */
nn_simd nn_cpu_simd_max(void);

/* For tests and benchmarks: use `level` from now on (lowered to nn_cpu_simd_max() when the CPU
 * lacks it), or NN_SIMD_AUTO to return to the NNLAB_SIMD / CPU choice. Returns the level now
 * in use. Not to be called while kernels run in other threads. */
nn_simd nn_cpu_set_simd(int level);

/* "generic" | "avx2" | "avx512" (exact, lower case) -> 0 and *out set; anything else -> -1. */
int nn_cpu_parse_simd(const char *name, nn_simd *out);

/* "generic", "avx2", "avx512"; "?" out of range. */
const char *nn_cpu_simd_name(nn_simd level);

#endif
