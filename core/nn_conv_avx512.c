/* nn_conv_avx512.c — the AVX-512 convolution kernels: the vector interface (nn_conv_vec.h) on
 * 16-lane registers, the kernel bodies instantiated over it, and the table nn_conv.c dispatches
 * through (nn_conv_dispatch.h). Compiled for any x86-64 with target attributes; used at the
 * avx512 SIMD level (nn_cpu.h).
 *   broadcast: blocks of 64 filters (4 vectors), tiles of 24 / nv pixels (16 for one vector
 *              when KW*C = 9: no address-register spills); sigmoid / tanh tiles stored out of
 *              line (their constants would spill the 24 accumulators)
 *   planar:    64 output pixels a step; RGB stride-1 rows split into planes with permutes
 *   Winograd:  filter groups of 64 (4 vectors), multiply and output transform fused (M in
 *              registers: 0.85x the time of the unfused body on 224x224x3, 64 filters) */
#include "nn_conv_dispatch.h"

#ifdef NN_CPU_X86

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "nn_conv_act.h"

#define VT __attribute__((target("avx512f,avx512vl,fma")))
#define VEC __m512
#define VMASK __mmask16
#define VL 16
#define V_LOAD(p) _mm512_load_ps(p)
#define V_LOADU(p) _mm512_loadu_ps(p)
#define V_STORE(p, v) _mm512_store_ps(p, v)
#define V_STOREU(p, v) _mm512_storeu_ps(p, v)
#define V_STREAM(p, v) _mm512_stream_ps(p, v)
#define V_CAN_STREAM 1
#define V_FENCE() _mm_sfence()
#define V_MASK_FIRST(n) ((n) >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n)) - 1))
#define V_MASKSTORE(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define V_BCAST(p) _mm512_set1_ps(*(p))
#define V_SET1(x) _mm512_set1_ps(x)
#define V_ZERO() _mm512_setzero_ps()
#define V_ADD(a, b) _mm512_add_ps(a, b)
#define V_SUB(a, b) _mm512_sub_ps(a, b)
#define V_MUL(a, b) _mm512_mul_ps(a, b)
#define V_DIV(a, b) _mm512_div_ps(a, b)
#define V_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define V_FNMA(a, b, c) _mm512_fnmadd_ps(a, b, c)
#define V_MAX(a, b) _mm512_max_ps(a, b)
#define V_ROUND(x) _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define V_SCALE2N(p, n) _mm512_scalef_ps(p, n)
#define V_ABS(x) _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff)))
/* integer or / and: the float forms need AVX-512 DQ */
#define V_OR_SIGN(t, x)                                                                          \
    _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(t),                                  \
                                        _mm512_and_si512(_mm512_castps_si512(x),                 \
                                                         _mm512_set1_epi32((int)0x80000000u))))
#define V_LT(a, b) _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ)
#define V_GE(a, b) _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ)
#define V_BLEND(m, a, b) _mm512_mask_blend_ps(m, a, b)

#include "nn_conv_act_body.h"

#define BC_NV 4
#define BC_ACC 24
#define BC_PIX_L9_NV1 16
#define BC_EXP_BUFFERED
#include "nn_conv_bcast_body.h"

/* The common RGB case (C = 3, stride 1): split 16 pixels into three planes with two permutes
 * per plane instead of 48 scalar moves. */
static VT void fill_rgb_row(float *d0, float *d1, float *d2, const float *src, size_t pw, size_t W, size_t Wq) {
    __m512i i1[3], i2[3];
    for (int ch = 0; ch < 3; ch++) {
        int a[16], b[16];
        for (int lane = 0; lane < 16; lane++) {
            int e = 3 * lane + ch;
            a[lane] = e < 32 ? e : 0;
            b[lane] = e < 32 ? lane : 16 + (e - 32);
        }
        i1[ch] = _mm512_loadu_si512(a);
        i2[ch] = _mm512_loadu_si512(b);
    }
    float *d[3] = {d0, d1, d2};
    for (int ch = 0; ch < 3; ch++) {
        memset(d[ch], 0, pw * sizeof(float));
        memset(d[ch] + pw + W, 0, (Wq - pw - W) * sizeof(float));
    }
    size_t x = 0;
    for (; x + 16 <= W; x += 16) {
        const float *s = src + 3 * x;
        __m512 va = _mm512_loadu_ps(s), vb = _mm512_loadu_ps(s + 16), vc = _mm512_loadu_ps(s + 32);
        for (int ch = 0; ch < 3; ch++) {
            __m512 t = _mm512_permutex2var_ps(va, i1[ch], vb);
            _mm512_storeu_ps(d[ch] + pw + x, _mm512_permutex2var_ps(t, i2[ch], vc));
        }
    }
    for (; x < W; x++)
        for (int ch = 0; ch < 3; ch++) d[ch][pw + x] = src[3 * x + (size_t)ch];
}
#define PL_FILL_RGB_ROW fill_rgb_row
#include "nn_conv_planar_body.h"

#define WINO_NV 4
#define WINO_FUSED
#include "nn_conv_wino_body.h"

/* The training kernels (nn_tile_body.h) on 16 lanes; layers of at most 8 channels take the
 * 8-lane copy (nn_tile_avx512_256.c), where a 16-lane vector would be half empty: on this
 * generation a 512-bit FMA costs two 256-bit ones. */
#define V_LOADN(p, n) _mm512_maskz_loadu_ps(V_MASK_FIRST(n), p)
#define V_STOREN(p, v, n) _mm512_mask_storeu_ps(p, V_MASK_FIRST(n), v)
#define VIDX __m512i
#define V_IDX(i) _mm512_add_epi32(_mm512_set1_epi32((int)(uint32_t)(i)), \
                                  _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))
#define V_ISTOREN(p, v, n) _mm512_mask_storeu_epi32(p, V_MASK_FIRST(n), v)
#define V_IBLEND(m, a, b) _mm512_mask_blend_epi32(m, a, b)
#define V_TAKE(v, m) ((__mmask16)(_mm512_cmp_ps_mask(v, m, _CMP_GT_OQ) | _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q)))
#define TILE_SIZES1 T_SIZES_28 /* 28 accumulators + the weights + a broadcast, of 32 registers */
#define TILE_SIZES2 T_SIZES_14
#define TILE_SETS_SIZES1 T_SIZES_7 /* x 4 sets: 28 accumulators */
#define TILE_SETS_SIZES2 T_SIZES_3
#include "nn_tile_body.h"

static VT void narrow_corr(const nn_tile_job *j, size_t r0, size_t r1, size_t c0, size_t c1) {
    (j->M <= 8 ? nn_tile_avx512_256.corr : tile_corr)(j, r0, r1, c0, c1);
}

static VT void narrow_dw(const nn_tile_job *j, size_t r0, size_t r1, size_t c0, size_t c1, size_t t0, size_t t1) {
    (j->M <= 8 ? nn_tile_avx512_256.dw : tile_dw)(j, r0, r1, c0, c1, t0, t1);
}

static VT void narrow_colsum(float *acc, const float *y, size_t n, size_t stride, size_t M) {
    (M <= 8 ? nn_tile_avx512_256.colsum : tile_colsum)(acc, y, n, stride, M);
}

static VT void narrow_poolmax(const nn_tile_pool *j, size_t oy0, size_t oy1) {
    (j->C <= 8 ? nn_tile_avx512_256.poolmax : tile_poolmax)(j, oy0, oy1);
}

static const nn_tile_ops tile_ops = {"avx512", narrow_corr, narrow_dw, narrow_colsum, narrow_poolmax, tile_actgrad};

const nn_conv_isa nn_conv_isa_avx512 = {
    .name = "avx512",
    .op = {[NN_CONV_FWD_WINOGRAD] = {wino_ws_floats, wino_run},
           [NN_CONV_FWD_PLANAR] = {pl_ws_floats, pl_run},
           [NN_CONV_FWD_BROADCAST] = {bc_ws_floats, bc_run}},
    .tile = &tile_ops,
};

#endif
