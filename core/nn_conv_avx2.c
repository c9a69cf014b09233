/* nn_conv_avx2.c — the AVX2 + FMA convolution kernels: the vector interface (nn_conv_vec.h)
 * on 8-lane registers, the kernel bodies instantiated over it, and the table nn_conv.c
 * dispatches through (nn_conv_dispatch.h). Used at the avx2 SIMD level (nn_cpu.h). With 16
 * registers the tiles are smaller than AVX-512's:
 *   broadcast: blocks of 16 filters (2 vectors), tiles of 12 / nv pixels
 *   planar:    32 output pixels a step
 *   Winograd:  filter groups of 16 (2 vectors: C * 2 weight vectors fit the registers),
 *              multiply and output transform apart (fused, M spills: 1.5x slower) */
#include "nn_conv_dispatch.h"

#ifdef NN_CPU_X86

#include <immintrin.h>

#include "nn_conv_act.h"
#include "nn_vec256.h"

#define VT __attribute__((target("avx2,fma")))
#define VMASK __m256i
#define V_STREAM(p, v) _mm256_stream_ps(p, v)
#define V_CAN_STREAM 1
#define V_FENCE() _mm_sfence()
#define V_MASK_FIRST(n) lanes(n)
#define V_MASKSTORE(p, m, v) _mm256_maskstore_ps(p, m, v)
#define V_BCAST(p) _mm256_broadcast_ss(p)
#define V_ROUND(x) _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define V_SCALE2N(p, n) scale2n(p, n)
#define V_OR_SIGN(t, x) _mm256_or_ps(t, _mm256_and_ps(x, _mm256_set1_ps(-0.0f)))
#define V_LT(a, b) _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_LT_OQ))
#define V_GE(a, b) _mm256_castps_si256(_mm256_cmp_ps(a, b, _CMP_GE_OQ))
#define V_BLEND(m, a, b) _mm256_blendv_ps(a, b, _mm256_castsi256_ps(m))

/* Lanes [0, n) of an 8-lane mask. */
static inline __attribute__((always_inline)) VT __m256i lanes(size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 8 ? n : 8)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* p * 2^n, n integral in [-151, 0] here: applied in two halves so each factor stays a normal
 * float and the product rounds once, as scalef and ldexpf do. */
static inline __attribute__((always_inline)) VT __m256 scale2n(__m256 p, __m256 fx) {
    __m256i n = _mm256_cvtps_epi32(fx);
    __m256i n1 = _mm256_srai_epi32(n, 1), n2 = _mm256_sub_epi32(n, n1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

#include "nn_conv_act_body.h"

#define BC_NV 2
#define BC_ACC 12
#include "nn_conv_bcast_body.h"

#include "nn_conv_planar_body.h"

#define WINO_NV 2
#include "nn_conv_wino_body.h"

/* The training kernels (nn_tile_body.h). Partial vectors only at a row's end: the branch keeps
 * the (slow) masked store off the common path. */
#define V_LOADN(p, n) ((n) >= 8 ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, lanes(n)))
#define V_STOREN(p, v, n) ((n) >= 8 ? _mm256_storeu_ps(p, v) : _mm256_maskstore_ps(p, lanes(n), v))
#define V_ISTOREN(p, v, n) \
    ((n) >= 8 ? _mm256_storeu_si256((__m256i *)(p), v) : _mm256_maskstore_epi32((int *)(p), lanes(n), v))
#define V_IBLEND(m, a, b) _mm256_blendv_epi8(a, b, m)
#define V_TAKE(v, m) \
    _mm256_castps_si256(_mm256_or_ps(_mm256_cmp_ps(v, m, _CMP_GT_OQ), _mm256_cmp_ps(v, v, _CMP_UNORD_Q)))
#define TILE_SIZES1 T_SIZES_14 /* 14 accumulators + the weights + a broadcast: all 16 registers */
#define TILE_SIZES2 T_SIZES_6
#define TILE_SETS_SIZES1 T_SIZES_3 /* x 4 sets: 12 accumulators */
#define TILE_SETS_SIZES2 T_SIZES_1
#include "nn_tile_body.h"

static const nn_tile_ops tile_ops = {"avx2", tile_corr, tile_dw, tile_colsum, tile_poolmax, tile_actgrad};

const nn_conv_isa nn_conv_isa_avx2 = {
    .name = "avx2",
    .op = {[NN_CONV_FWD_WINOGRAD] = {wino_ws_floats, wino_run},
           [NN_CONV_FWD_PLANAR] = {pl_ws_floats, pl_run},
           [NN_CONV_FWD_BROADCAST] = {bc_ws_floats, bc_run}},
    .tile = &tile_ops,
};

#endif
