/* nn_tile_avx512_256.c — the AVX-512 level's 8-lane copy of the training kernels
 * (nn_tile_body.h): the vector interface (nn_conv_vec.h) on 256-bit registers with AVX-512VL,
 * so 32 of them and mask registers. nn_conv_avx512.c's table sends layers of at most 8 channels
 * here, where a 16-lane vector would be half empty (a 512-bit FMA costs two 256-bit ones on this
 * generation; the AVX2 kernels' 16 registers measured 34 % slower on the 3-tap weight gradient
 * of a 28x28x1 -> 8 layer). */
#include "nn_conv_dispatch.h"

#ifdef NN_CPU_X86

#include <immintrin.h>
#include <stdint.h>

#include "nn_conv_act.h"
#include "nn_vec256.h"

#define VT __attribute__((target("avx512f,avx512vl,fma")))
#define VMASK __mmask8
#define V_MASK_FIRST(n) ((n) >= 8 ? (__mmask8)0xff : (__mmask8)((1u << (n)) - 1))
#define V_MASKSTORE(p, m, v) _mm256_mask_storeu_ps(p, m, v)
#define V_BCAST(p) _mm256_set1_ps(*(p))
#define V_ROUND(x) _mm256_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define V_SCALE2N(p, n) _mm256_scalef_ps(p, n)
#define V_OR_SIGN(t, x)                                                                          \
    _mm256_castsi256_ps(_mm256_or_si256(_mm256_castps_si256(t),                                  \
                                        _mm256_and_si256(_mm256_castps_si256(x),                 \
                                                         _mm256_set1_epi32((int)0x80000000u))))
#define V_LT(a, b) _mm256_cmp_ps_mask(a, b, _CMP_LT_OQ)
#define V_GE(a, b) _mm256_cmp_ps_mask(a, b, _CMP_GE_OQ)
#define V_BLEND(m, a, b) _mm256_mask_blend_ps(m, a, b)

#include "nn_conv_act_body.h"

#define V_LOADN(p, n) _mm256_maskz_loadu_ps(V_MASK_FIRST(n), p)
#define V_STOREN(p, v, n) _mm256_mask_storeu_ps(p, V_MASK_FIRST(n), v)
#define V_ISTOREN(p, v, n) _mm256_mask_storeu_epi32(p, V_MASK_FIRST(n), v)
#define V_IBLEND(m, a, b) _mm256_mask_blend_epi32(m, a, b)
#define V_TAKE(v, m) ((__mmask8)(_mm256_cmp_ps_mask(v, m, _CMP_GT_OQ) | _mm256_cmp_ps_mask(v, v, _CMP_UNORD_Q)))
#define TILE_SIZES1 T_SIZES_28 /* 28 accumulators + the weights + a broadcast, of 32 registers */
#define TILE_SIZES2 T_SIZES_14
#define TILE_SETS_SIZES1 T_SIZES_7 /* x 4 sets: 28 accumulators */
#define TILE_SETS_SIZES2 T_SIZES_3
#define TILE_ONE_VECTOR /* only layers of <= 8 channels come here */
#define TILE_NO_ACTGRAD /* element-wise: the 16-lane copy does it */
#include "nn_tile_body.h"

const nn_tile_ops nn_tile_avx512_256 = {"avx512 (8 lanes)", tile_corr, tile_dw, tile_colsum, tile_poolmax, NULL};

#endif
