/* nn_vec256.h — internal: the part of the vector interface (nn_conv_vec.h, nn_tile_body.h) that
 * is the same on every 256-bit level: 8 floats in a __m256, the plain arithmetic, loads and
 * stores, and the uint32 index vector. nn_conv_avx2.c (AVX2 + FMA) and nn_tile_avx512_256.c
 * (AVX-512VL on 256-bit registers) include it after <immintrin.h> and define the rest
 * themselves: VT, the masks (a vector on AVX2, a mask register on AVX-512), compares, blends,
 * rounding and the broadcast. */
#ifndef NN_VEC256_H
#define NN_VEC256_H

#include <stdint.h>

#define VEC __m256
#define VL 8
#define V_LOAD(p) _mm256_load_ps(p)
#define V_LOADU(p) _mm256_loadu_ps(p)
#define V_STORE(p, v) _mm256_store_ps(p, v)
#define V_STOREU(p, v) _mm256_storeu_ps(p, v)
#define V_SET1(x) _mm256_set1_ps(x)
#define V_ZERO() _mm256_setzero_ps()
#define V_ADD(a, b) _mm256_add_ps(a, b)
#define V_SUB(a, b) _mm256_sub_ps(a, b)
#define V_MUL(a, b) _mm256_mul_ps(a, b)
#define V_DIV(a, b) _mm256_div_ps(a, b)
#define V_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define V_FNMA(a, b, c) _mm256_fnmadd_ps(a, b, c)
#define V_MAX(a, b) _mm256_max_ps(a, b)
#define V_ABS(x) _mm256_castsi256_ps(_mm256_and_si256(_mm256_castps_si256(x), _mm256_set1_epi32(0x7fffffff)))
#define VIDX __m256i
#define V_IDX(i) _mm256_add_epi32(_mm256_set1_epi32((int)(uint32_t)(i)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))

#endif
