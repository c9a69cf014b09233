/* nn_conv_avx2.c — the AVX2 + FMA convolution kernels, for x86-64 CPUs without AVX-512 (chosen
 * at run time by nn_conv.c). The same two algorithms as nn_conv_avx512.c with 8-wide vectors
 * and 16 registers: output channels in blocks of 16 (two vectors) with a 6-pixel tile, or one
 * vector with a 12-pixel tile; the N = 1 planar kernel covers 32 output pixels per step; and
 * the shared Winograd body (nn_conv_wino_body.h) with groups of 16 filters (two vectors). */
#include "nn_conv_impl.h"

#ifdef NN_CPU_X86

#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>

#include "nn_parallel.h"

#define T256 __attribute__((target("avx2,fma")))
#define INLINE static inline __attribute__((always_inline))
#define PMAX 12

/* Activations: lane by lane the operations of nn_conv_act1 (nn_conv_impl.h), so the paths agree
 * to the bit. exp(x) for x <= 0, down to the subnormal range: Cephes polynomial, 2^n applied in
 * two halves so each factor stays a normal float and the product rounds once, as scalef and
 * ldexpf do. NaN propagates through the polynomial. */
INLINE T256 __m256 exp_neg(__m256 x) {
    x = _mm256_max_ps(_mm256_set1_ps(-104.0f), x); /* NaN is the 2nd operand: kept */
    __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500E-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507E-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073E-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894E-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459E-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201E-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i n = _mm256_cvtps_epi32(fx);
    __m256i n1 = _mm256_srai_epi32(n, 1), n2 = _mm256_sub_epi32(n, n1);
    __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, _mm256_set1_epi32(127)), 23));
    __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, _mm256_set1_epi32(127)), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

INLINE T256 __m256 vabs(__m256 x) {
    return _mm256_castsi256_ps(_mm256_and_si256(_mm256_castps_si256(x), _mm256_set1_epi32(0x7fffffff)));
}

INLINE T256 __m256 sigmoid_v(__m256 x) {
    __m256 e = exp_neg(_mm256_sub_ps(_mm256_setzero_ps(), vabs(x)));
    __m256 s = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
    __m256 pos = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ);
    return _mm256_blendv_ps(_mm256_mul_ps(e, s), s, pos);
}

INLINE T256 __m256 tanh_v(__m256 x) {
    __m256 ax = vabs(x), z = _mm256_mul_ps(x, x);
    __m256 p = _mm256_set1_ps(-5.70498872745E-3f);
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954E-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531E-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036E-1f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422E-1f));
    __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
    __m256 e = exp_neg(_mm256_mul_ps(_mm256_set1_ps(-2.0f), ax));
    /* (1 - e) * (1 / (1 + e)), not one division: the rounding of nn_conv_tanh1 */
    __m256 t = _mm256_mul_ps(_mm256_sub_ps(_mm256_set1_ps(1.0f), e),
                             _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), e)));
    __m256 big = _mm256_or_ps(t, _mm256_and_ps(x, _mm256_set1_ps(-0.0f)));
    return _mm256_blendv_ps(big, small, _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ));
}

INLINE T256 __m256 act_v(__m256 v, nn_act_kind kind, __m256 slope) {
    switch (kind) {
    case NN_ACT_IDENTITY: return v;
    case NN_ACT_RELU: return _mm256_max_ps(_mm256_setzero_ps(), v); /* NaN: 2nd operand kept */
    case NN_ACT_LEAKY_RELU:
        return _mm256_blendv_ps(v, _mm256_mul_ps(v, slope), _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_LT_OQ));
    case NN_ACT_SIGMOID: return sigmoid_v(v);
    case NN_ACT_TANH: return tanh_v(v);
    }
    return v;
}

/* Lanes [0, n) of an 8-lane store mask. */
INLINE T256 __m256i lanes(size_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* ---- many output channels: pixel-broadcast tiles (see nn_conv_avx512.c) ---- */

typedef struct tile_args {
    const float *a;
    size_t a_pix, a_row, rows, L;
    const float *w;    /* [(r*L + j)*NV*8 + v*8 + lane] */
    const float *bias; /* NV*8, zero-padded */
    float *y;
    size_t N, npix;
    size_t last;       /* lanes of the last vector that exist (1..8) */
    int stream;
    nn_activation act;
} tile_args;

/* LC > 0: L is the compile-time constant LC (full unroll, constant displacements). */
INLINE T256 void tile(const tile_args *t, const int P, const int NV, const int LC) {
    __m256 acc[PMAX][2];
#pragma GCC unroll 12
    for (int p = 0; p < P; p++)
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) acc[p][v] = _mm256_load_ps(t->bias + v * 8);
    const size_t stride = (size_t)NV * 8;
    const size_t L = LC > 0 ? (size_t)LC : t->L;
    for (size_t r = 0; r < t->rows; r++) {
        const float *a = t->a + r * t->a_row;
        const float *w = t->w + r * L * stride;
#pragma GCC unroll 9
        for (size_t j = 0; j < L; j++) {
            __m256 wv[2];
#pragma GCC unroll 2
            for (int v = 0; v < NV; v++) wv[v] = _mm256_load_ps(w + j * stride + v * 8);
#pragma GCC unroll 12
            for (int p = 0; p < P; p++) {
                __m256 b = _mm256_broadcast_ss(a + p * t->a_pix + j);
#pragma GCC unroll 2
                for (int v = 0; v < NV; v++) acc[p][v] = _mm256_fmadd_ps(b, wv[v], acc[p][v]);
            }
        }
    }
    __m256 slope = _mm256_set1_ps(t->act.negative_slope);
    __m256i last = lanes(t->last);
#pragma GCC unroll 12
    for (int p = 0; p < P; p++) {
        if ((size_t)p >= t->npix) break;
        float *y = t->y + p * t->N;
#pragma GCC unroll 2
        for (int v = 0; v < NV; v++) {
            __m256 o = act_v(acc[p][v], t->act.kind, slope);
            if (t->stream) _mm256_stream_ps(y + v * 8, o);
            else if (v == NV - 1) _mm256_maskstore_ps(y + v * 8, last, o);
            else _mm256_storeu_ps(y + v * 8, o);
        }
    }
}

static T256 void tile_nv1(const tile_args *t) { tile(t, 12, 1, 0); }
static T256 void tile_nv2(const tile_args *t) { tile(t, 6, 2, 0); }
static T256 void tile_nv1_l9(const tile_args *t) { tile(t, 12, 1, 9); }
static T256 void tile_nv2_l9(const tile_args *t) { tile(t, 6, 2, 9); }
static const int tile_pix[3] = {0, 12, 6};
typedef void (*tile_fn)(const tile_args *);
static tile_fn const tile_fns[2][3] = {{NULL, tile_nv1, tile_nv2}, {NULL, tile_nv1_l9, tile_nv2_l9}};

#define BLOCK 16

typedef struct bcast_plan {
    const nn_conv_job *j;
    const float *wpack, *bias;
    float *patches;
    size_t K, nblocks;
    int stream;
} bcast_plan;

static size_t bcast_ws_floats(const nn_conv_job *j, size_t *wfloats, size_t *bfloats) {
    size_t K = j->KH * j->KW * j->C, npad = (j->N + 7) / 8 * 8, w, b, pt, total;
    if (__builtin_mul_overflow(K, npad, &w)) return SIZE_MAX;
    b = (j->N + BLOCK - 1) / BLOCK * BLOCK;
    if (__builtin_mul_overflow(K, (size_t)PMAX, &pt) || __builtin_mul_overflow(pt, j->threads, &pt)) return SIZE_MAX;
    if (__builtin_add_overflow(w, b, &total) || __builtin_add_overflow(total, pt, &total)) return SIZE_MAX;
    if (wfloats) *wfloats = w;
    if (bfloats) *bfloats = b;
    return total;
}

static T256 void bcast_rows(void *ctx, size_t begin, size_t end, size_t worker) {
    const bcast_plan *pl = ctx;
    const nn_conv_job *j = pl->j;
    const size_t C = j->C, KW = j->KW, KH = j->KH, L = KW * C, K = pl->K, N = j->N;
    float *patch = pl->patches + worker * PMAX * K;
    for (size_t oy = begin; oy < end; oy++) {
        ptrdiff_t iy0;
        size_t ky0, ky1;
        nn_conv_kernel_rows(j, oy, &iy0, &ky0, &ky1);
        size_t rows = ky1 - ky0;
        const float *wblk = pl->wpack;
        for (size_t b = 0; b < pl->nblocks; b++) {
            size_t n0 = b * BLOCK, nb = N - n0 < BLOCK ? N - n0 : BLOCK, nv = (nb + 7) / 8;
            int P = tile_pix[nv];
            tile_args t = {.rows = rows, .L = L, .w = wblk + ky0 * L * nv * 8, .bias = pl->bias + n0,
                           .N = N, .last = nb - (nv - 1) * 8, .stream = pl->stream, .act = j->act};
            for (size_t ox = 0; ox < j->OW; ox += (size_t)P) {
                size_t start = ox, npix = (size_t)P;
                if (ox + (size_t)P > j->OW) {
                    if (j->OW >= (size_t)P) start = j->OW - (size_t)P;
                    else npix = j->OW;
                }
                ptrdiff_t ix0 = (ptrdiff_t)(start * j->sw) - (ptrdiff_t)j->pw;
                ptrdiff_t ixl = (ptrdiff_t)((start + (size_t)P - 1) * j->sw) - (ptrdiff_t)j->pw + (ptrdiff_t)KW;
                t.y = j->y + (oy * j->OW + start) * N + n0;
                t.npix = npix;
                if (rows == 0) {
                    t.a = j->x;
                    t.a_pix = t.a_row = 0;
                } else if (npix == (size_t)P && ix0 >= 0 && ixl <= (ptrdiff_t)j->W) {
                    t.a = j->x + ((size_t)(iy0 + (ptrdiff_t)ky0) * j->W + (size_t)ix0) * C;
                    t.a_pix = j->sw * C;
                    t.a_row = j->W * C;
                } else {
                    nn_conv_gather_patch(j, patch, start, (size_t)P, npix, iy0, ky0, ky1);
                    t.a = patch + ky0 * L;
                    t.a_pix = KH * L;
                    t.a_row = L;
                }
                tile_fns[L == 9][nv](&t);
            }
            wblk += K * nv * 8;
        }
    }
    if (pl->stream) _mm_sfence();
}

static void bcast_run(const nn_conv_job *j) {
    size_t wfloats = 0, bfloats = 0;
    bcast_ws_floats(j, &wfloats, &bfloats);
    const size_t K = j->KH * j->KW * j->C, N = j->N;
    bcast_plan pl = {.j = j, .K = K, .nblocks = (N + BLOCK - 1) / BLOCK};
    pl.stream = nn_conv_streams(j, 8);
    float *w = j->ws;
    pl.wpack = w;
    for (size_t b = 0; b < pl.nblocks; b++) {
        size_t n0 = b * BLOCK, nb = N - n0 < BLOCK ? N - n0 : BLOCK, width = (nb + 7) / 8 * 8;
        for (size_t t = 0; t < K; t++) {
            float *dst = w + t * width;
            for (size_t i = 0; i < width; i++) dst[i] = i < nb ? j->k[(n0 + i) * K + t] : 0.0f;
        }
        w += K * width;
    }
    float *bias = j->ws + wfloats;
    for (size_t i = 0; i < bfloats; i++) bias[i] = (j->bias && i < N) ? j->bias[i] : 0.0f;
    pl.bias = bias;
    pl.patches = bias + bfloats;
    double per_row = (double)j->OW * (double)N * (double)K;
    size_t grain = per_row >= 32768.0 ? 1 : (size_t)(32768.0 / (per_row + 1.0)) + 1;
    nn_parallel_for(j->OH, grain, bcast_rows, &pl);
}

/* ---- one output channel: planar kernel ---- */

typedef struct planar_plan {
    const nn_conv_job *j;
    float *planes;
    size_t Wq;
} planar_plan;

static void planar_fill(void *ctx, size_t begin, size_t end, size_t worker) {
    (void)worker;
    const planar_plan *pl = ctx;
    const nn_conv_job *j = pl->j;
    for (size_t iy = begin; iy < end; iy++)
        for (size_t c = 0; c < j->C; c++)
            for (size_t ph = 0; ph < j->sw; ph++)
                nn_conv_fill_plane_row(pl->planes + ((c * j->H + iy) * j->sw + ph) * pl->Wq,
                                       j->x + iy * j->W * j->C, j->C, c, j->sw, ph, j->pw, j->W, pl->Wq);
}

static T256 void planar_rows(void *ctx, size_t begin, size_t end, size_t worker) {
    (void)worker;
    const planar_plan *pl = ctx;
    const nn_conv_job *j = pl->j;
    const size_t C = j->C, KW = j->KW, sw = j->sw, Wq = pl->Wq, OW = j->OW;
    const __m256 bias = _mm256_set1_ps(j->bias ? j->bias[0] : 0.0f);
    const __m256 slope = _mm256_set1_ps(j->act.negative_slope);
    for (size_t oy = begin; oy < end; oy++) {
        ptrdiff_t iy0;
        size_t ky0, ky1;
        nn_conv_kernel_rows(j, oy, &iy0, &ky0, &ky1);
        float *yrow = j->y + oy * OW;
        for (size_t ox = 0; ox < OW; ox += 32) {
            __m256 a0 = bias, a1 = bias, a2 = bias, a3 = bias;
            for (size_t ky = ky0; ky < ky1; ky++) {
                size_t iy = (size_t)(iy0 + (ptrdiff_t)ky);
                for (size_t c = 0; c < C; c++) {
                    const float *plane = pl->planes + ((c * j->H + iy) * sw) * Wq + ox;
                    const float *kw = j->k + ky * KW * C + c;
                    for (size_t kx = 0; kx < KW; kx++) {
                        const float *src = plane + (kx % sw) * Wq + kx / sw;
                        __m256 w = _mm256_set1_ps(kw[kx * C]);
                        a0 = _mm256_fmadd_ps(w, _mm256_loadu_ps(src), a0);
                        a1 = _mm256_fmadd_ps(w, _mm256_loadu_ps(src + 8), a1);
                        a2 = _mm256_fmadd_ps(w, _mm256_loadu_ps(src + 16), a2);
                        a3 = _mm256_fmadd_ps(w, _mm256_loadu_ps(src + 24), a3);
                    }
                }
            }
            __m256 acc[4] = {a0, a1, a2, a3};
            for (int v = 0; v < 4; v++) {
                size_t o = ox + (size_t)v * 8;
                if (o >= OW) break;
                _mm256_maskstore_ps(yrow + o, lanes(OW - o), act_v(acc[v], j->act.kind, slope));
            }
        }
    }
}

static void planar_run(const nn_conv_job *j) {
    planar_plan pl = {.j = j, .planes = j->ws, .Wq = nn_conv_planar_wq(j)};
    size_t row_in = j->W * j->C, grain_in = row_in ? 16384 / row_in + 1 : 1;
    nn_parallel_for(j->H, grain_in, planar_fill, &pl);
    double per_row = (double)j->OW * (double)(j->KH * j->KW * j->C);
    size_t grain = per_row >= 32768.0 ? 1 : (size_t)(32768.0 / (per_row + 1.0)) + 1;
    nn_parallel_for(j->OH, grain, planar_rows, &pl);
}

/* ---- 3x3 stride 1, few channels, many filters: Winograd (nn_conv_wino_body.h) ---- */

INLINE T256 void wino_put(float *p, __m256 v, int stream) {
    if (stream) _mm256_stream_ps(p, v);
    else _mm256_storeu_ps(p, v);
}

#define WT T256
#define WV __m256
#define WL 8
#define WNV 2 /* 16 filters a group: C * 2 weight vectors fit the 16 registers */
#define W_LOAD(p) _mm256_load_ps(p)
#define W_LOADU(p) _mm256_loadu_ps(p)
#define W_STORE(p, v) _mm256_store_ps(p, v)
#define W_STOREU(p, v) _mm256_storeu_ps(p, v)
#define W_BCAST(p) _mm256_broadcast_ss(p)
#define W_ZERO() _mm256_setzero_ps()
#define W_ADD(a, b) _mm256_add_ps(a, b)
#define W_SUB(a, b) _mm256_sub_ps(a, b)
#define W_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define W_PUT(p, v, stream) wino_put(p, v, stream)
#define W_ACT(v, act) act_v(v, (act).kind, _mm256_set1_ps((act).negative_slope))
#define W_CAN_STREAM 1
#define W_FENCE() _mm_sfence()
#include "nn_conv_wino_body.h"

size_t nn_conv_avx2_ws_floats(const nn_conv_job *j) {
    if (nn_conv_wino_applies(j)) return wino_ws_floats(j);
    if (j->N == 1) return nn_conv_planar_ws_floats(j);
    return bcast_ws_floats(j, NULL, NULL);
}

void nn_conv_avx2_run(const nn_conv_job *j) {
    if (nn_conv_wino_applies(j)) wino_run(j);
    else if (j->N == 1) planar_run(j);
    else bcast_run(j);
}

#endif
