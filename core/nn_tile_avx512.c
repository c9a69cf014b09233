/* nn_tile_avx512.c — the tile kernels on AVX-512 (32 registers), compiled for any x86-64 with
 * target attributes and chosen at run time by nn_tile.c. Two copies of the body: 16-lane
 * vectors, and 8-lane ones (AVX-512VL, still 32 registers) for layers of at most 8 channels,
 * where a 16-lane vector would be half empty: on this generation a 512-bit FMA costs two
 * 256-bit ones, so the half-empty vector would halve the speed. */
#include "nn_tile.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#define TT __attribute__((target("avx512f,avx512vl,fma")))
#define T_SIZES1 T_SIZES_28 /* 28 accumulators + the weights + a broadcast, of 32 registers */
#define T_SIZES2 T_SIZES_14
#define T_SETS_SIZES1 T_SIZES_7 /* x 4 sets: 28 accumulators */
#define T_SETS_SIZES2 T_SIZES_3
/* lanes below n, or all when n is 0 */
#define T_MASK16(n) ((__mmask16)((n) ? (1u << (n)) - 1u : 0xffffu))
#define T_MASK8(n) ((__mmask8)((n) ? (1u << (n)) - 1u : 0xffu))

/* 16 lanes */
#define TN(name) z_##name
#define TV __m512
#define TL 16
#define T_LOAD(p) _mm512_loadu_ps(p)
#define T_STORE(p, v) _mm512_storeu_ps(p, v)
#define T_LOADT(p, n) _mm512_maskz_loadu_ps(T_MASK16(n), p)
#define T_STORET(p, v, n) _mm512_mask_storeu_ps(p, T_MASK16(n), v)
#define T_BCAST(p) _mm512_set1_ps(*(p))
#define T_ZERO() _mm512_setzero_ps()
#define T_ADD(a, b) _mm512_add_ps(a, b)
#define T_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define T_RELU(v) _mm512_max_ps(_mm512_setzero_ps(), v) /* NaN is the 2nd operand: kept */
#define T_LEAKY(v, s) _mm512_mask_mul_ps(v, _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ), \
                                         v, _mm512_set1_ps(s))
#define TI __m512i
#define T_IDX(i) _mm512_add_epi32(_mm512_set1_epi32((int)(uint32_t)(i)), \
                                  _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#define T_ISTORET(p, v, n) _mm512_mask_storeu_epi32(p, T_MASK16(n), v)
#define TM __mmask16
#define T_TAKE(v, m) ((__mmask16)(_mm512_cmp_ps_mask(v, m, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q)))
#define T_SEL(k, a, b) _mm512_mask_blend_ps(k, b, a)
#define T_ISEL(k, a, b) _mm512_mask_blend_epi32(k, b, a)
#define T_MUL(a, b) _mm512_mul_ps(a, b)
#define T_SUB(a, b) _mm512_sub_ps(a, b)
#define T_LE(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ)
#define T_GT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GT_OQ)
#include "nn_tile_body.h"
#undef TN
#undef TV
#undef TL
#undef T_LOAD
#undef T_STORE
#undef T_LOADT
#undef T_STORET
#undef T_BCAST
#undef T_ZERO
#undef T_ADD
#undef T_FMA
#undef T_RELU
#undef T_LEAKY
#undef TI
#undef T_IDX
#undef T_ISTORET
#undef TM
#undef T_TAKE
#undef T_SEL
#undef T_ISEL
#undef T_MUL
#undef T_SUB
#undef T_LE
#undef T_GT

/* 8 lanes, only for layers of at most 8 channels: one vector */
#define T_ONE_VECTOR
#define T_NO_ACTGRAD
#define TN(name) y_##name
#define TV __m256
#define TL 8
#define T_LOAD(p) _mm256_loadu_ps(p)
#define T_STORE(p, v) _mm256_storeu_ps(p, v)
#define T_LOADT(p, n) _mm256_maskz_loadu_ps(T_MASK8(n), p)
#define T_STORET(p, v, n) _mm256_mask_storeu_ps(p, T_MASK8(n), v)
#define T_BCAST(p) _mm256_set1_ps(*(p))
#define T_ZERO() _mm256_setzero_ps()
#define T_ADD(a, b) _mm256_add_ps(a, b)
#define T_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define T_RELU(v) _mm256_max_ps(_mm256_setzero_ps(), v)
#define T_LEAKY(v, s) _mm256_mask_mul_ps(v, _mm256_cmp_ps_mask(v, _mm256_setzero_ps(), _CMP_LT_OQ), \
                                         v, _mm256_set1_ps(s))
#define TI __m256i
#define T_IDX(i) _mm256_add_epi32(_mm256_set1_epi32((int)(uint32_t)(i)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define T_ISTORET(p, v, n) _mm256_mask_storeu_epi32(p, T_MASK8(n), v)
#define TM __mmask8
#define T_TAKE(v, m) ((__mmask8)(_mm256_cmp_ps_mask(v, m, _CMP_GT_OQ) | _mm256_cmp_ps_mask(v, v, _CMP_UNORD_Q)))
#define T_SEL(k, a, b) _mm256_mask_blend_ps(k, b, a)
#define T_ISEL(k, a, b) _mm256_mask_blend_epi32(k, b, a)
#define T_MUL(a, b) _mm256_mul_ps(a, b)
#define T_SUB(a, b) _mm256_sub_ps(a, b)
#define T_LE(a, b) _mm256_cmp_ps_mask(a, b, _CMP_LE_OQ)
#define T_GT(a, b) _mm256_cmp_ps_mask(a, b, _CMP_GT_OQ)
#include "nn_tile_body.h"

/* Layers of at most 8 channels take the 8-lane copy. */
static TT void avx512_corr(const nn_tile_job *j, size_t r0, size_t r1, size_t c0, size_t c1) {
    if (j->M <= 8) y_corr(j, r0, r1, c0, c1);
    else z_corr(j, r0, r1, c0, c1);
}

static TT void avx512_dw(const nn_tile_job *j, size_t r0, size_t r1, size_t c0, size_t c1, size_t t0,
                         size_t t1) {
    if (j->M <= 8) y_dw(j, r0, r1, c0, c1, t0, t1);
    else z_dw(j, r0, r1, c0, c1, t0, t1);
}

static TT void avx512_colsum(float *acc, const float *y, size_t n, size_t stride, size_t M) {
    if (M <= 8) y_colsum(acc, y, n, stride, M);
    else z_colsum(acc, y, n, stride, M);
}

static TT void avx512_poolmax(const nn_tile_pool *j, size_t oy0, size_t oy1) {
    if (j->C <= 8) y_poolmax(j, oy0, oy1);
    else z_poolmax(j, oy0, oy1);
}

const nn_tile_ops nn_tile_avx512_ops = {"avx512", avx512_corr, avx512_dw, avx512_colsum, avx512_poolmax, z_actgrad};

#endif
