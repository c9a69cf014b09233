/* nn_tile_avx2.c — the tile kernels on AVX2 + FMA (8 lanes, 16 registers), compiled for any
 * x86-64 with target attributes and chosen at run time by nn_tile.c. */
#include "nn_tile.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#define TT __attribute__((target("avx2,fma")))
#define TN(name) avx2_##name
#define TV __m256
#define TL 8
#define T_SIZES1 T_SIZES_14 /* 14 accumulators + the weights + a broadcast: all 16 registers */
#define T_SIZES2 T_SIZES_6
#define T_SETS_SIZES1 T_SIZES_3 /* x 4 sets: 12 accumulators */
#define T_SETS_SIZES2 T_SIZES_1

static inline __attribute__((always_inline)) TT __m256i avx2_mask(size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

#define T_LOAD(p) _mm256_loadu_ps(p)
#define T_STORE(p, v) _mm256_storeu_ps(p, v)
/* a partial vector only at a row's end: the branch keeps the (slow) masked store off the
 * common path */
#define T_LOADT(p, n) ((n) ? _mm256_maskload_ps(p, avx2_mask(n)) : _mm256_loadu_ps(p))
#define T_STORET(p, v, n) ((n) ? _mm256_maskstore_ps(p, avx2_mask(n), v) : _mm256_storeu_ps(p, v))
#define T_BCAST(p) _mm256_broadcast_ss(p)
#define T_ZERO() _mm256_setzero_ps()
#define T_ADD(a, b) _mm256_add_ps(a, b)
#define T_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define T_RELU(v) _mm256_max_ps(_mm256_setzero_ps(), v) /* NaN is the 2nd operand: kept */
#define T_LEAKY(v, s) _mm256_blendv_ps(v, _mm256_mul_ps(v, _mm256_set1_ps(s)), \
                                       _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ))
#define TI __m256i
#define T_IDX(i) _mm256_add_epi32(_mm256_set1_epi32((int)(uint32_t)(i)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define T_ISTORET(p, v, n) \
    ((n) ? _mm256_maskstore_epi32((int *)(p), avx2_mask(n), v) : _mm256_storeu_si256((__m256i *)(p), v))
#define TM __m256
#define T_TAKE(v, m) _mm256_or_ps(_mm256_cmp_ps(v, m, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q))
#define T_SEL(k, a, b) _mm256_blendv_ps(b, a, k)
#define T_ISEL(k, a, b) \
    _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(b), _mm256_castsi256_ps(a), k))
#define T_MUL(a, b) _mm256_mul_ps(a, b)
#define T_SUB(a, b) _mm256_sub_ps(a, b)
#define T_LE(a, b) _mm256_cmp_ps(a, b, _CMP_LE_OQ)
#define T_GT(a, b) _mm256_cmp_ps(a, b, _CMP_GT_OQ)
#include "nn_tile_body.h"

const nn_tile_ops nn_tile_avx2_ops = {"avx2", avx2_corr, avx2_dw, avx2_colsum, avx2_poolmax, avx2_actgrad};

#endif
