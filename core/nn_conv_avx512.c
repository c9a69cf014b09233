/* nn_conv_avx512.c — the AVX-512 convolution kernels (compiled for any x86-64 with target
 * attributes, selected at run time by nn_conv.c).
 *
 * Many output channels (N > 1), "pixel-broadcast" direct kernel: weights are repacked to
 * [N/64 blocks][KH*KW*C][64] so one output pixel's channels are up to four 16-wide vectors; a
 * register tile of P pixels x NV vectors (24 accumulators) walks the kernel window, broadcasting
 * one input value per pixel into NV FMAs. Channels-last means each kernel row (KW*C values) is
 * contiguous in the input, so no im2col copy is needed; rows falling in the vertical padding are
 * skipped, and the few tiles touching the horizontal padding gather a zero-padded patch. Bias and
 * activation are fused into the store.
 *
 * One output channel (N = 1), "planar" kernel: the input is first deinterleaved into zero-padded
 * planes, one per (channel, row, stride phase), so 16 consecutive output columns read 16
 * consecutive floats; each tap is one broadcast weight and four FMAs on 64 output pixels.
 *
 * 3x3 stride-1 layers with C <= 4 and whole groups of 64 filters: Winograd F(2x2, 3x3), the body
 * shared with the other paths (nn_conv_wino_body.h), 16 lanes x 4 vectors per filter group.
 *
 * Rows of the output are split across the threads of nn_parallel. */
#include "nn_conv_impl.h"

#ifdef NN_CPU_X86

#include <immintrin.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nn_parallel.h"

#define T512 __attribute__((target("avx512f,avx512vl,fma")))
#define INLINE static inline __attribute__((always_inline))
#define PMAX 24 /* widest pixel tile (NV = 1) */

/* ---- vector activations: lane by lane the operations of nn_conv_act1 (nn_conv_impl.h), so
 * the paths agree to the bit; NaN propagates ---- */

/* exp(x) for x <= 0 (Cephes expf polynomial, ~1 ulp); scalef handles the subnormal range. */
INLINE T512 __m512 exp_neg(__m512 x) {
    x = _mm512_max_ps(_mm512_set1_ps(-104.0f), x); /* NaN is the 2nd operand: kept */
    __m512 fx = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(fx, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(fx, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500E-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507E-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073E-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894E-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459E-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201E-1f));
    __m512 r2 = _mm512_mul_ps(r, r);
    p = _mm512_fmadd_ps(p, r2, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, fx);
}

INLINE T512 __m512 vabs(__m512 x) {
    return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7fffffff)));
}

/* 1/d for d in [1, 2], correctly rounded: the same bits as the 1.0f / d of the other paths
 * (rcp14 plus Newton steps is not, for every d). Measured no slower than rcp14 and one Newton
 * step in the sigmoid tile: the divide overlaps the exp polynomial. */
INLINE T512 __m512 recip12(__m512 d) { return _mm512_div_ps(_mm512_set1_ps(1.0f), d); }

INLINE T512 __m512 sigmoid_v(__m512 x) {
    __m512 e = exp_neg(_mm512_sub_ps(_mm512_setzero_ps(), vabs(x))); /* e^-|x| in (0, 1] */
    __m512 s = recip12(_mm512_add_ps(_mm512_set1_ps(1.0f), e));
    __mmask16 pos = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ);
    return _mm512_mask_blend_ps(pos, _mm512_mul_ps(e, s), s); /* NaN: not pos -> e*s = NaN */
}

INLINE T512 __m512 tanh_v(__m512 x) {
    __m512 ax = vabs(x);
    /* small |x|: odd polynomial (Cephes tanhf) avoids the cancellation in 1 - e */
    __m512 z = _mm512_mul_ps(x, x);
    __m512 p = _mm512_set1_ps(-5.70498872745E-3f);
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(2.06390887954E-2f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-5.37397155531E-2f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.33314422036E-1f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-3.33332819422E-1f));
    __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), x, x);
    /* large |x|: (1 - e) / (1 + e) with e = e^-2|x|, sign restored */
    __m512 e = exp_neg(_mm512_mul_ps(_mm512_set1_ps(-2.0f), ax));
    __m512 t = _mm512_mul_ps(_mm512_sub_ps(_mm512_set1_ps(1.0f), e), recip12(_mm512_add_ps(_mm512_set1_ps(1.0f), e)));
    __m512i sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u));
    __m512 big = _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(t), sign));
    __mmask16 is_small = _mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.625f), _CMP_LT_OQ);
    return _mm512_mask_blend_ps(is_small, big, small);
}

INLINE T512 __m512 act_v(__m512 v, nn_act_kind kind, __m512 slope) {
    switch (kind) {
    case NN_ACT_IDENTITY: return v;
    case NN_ACT_RELU: return _mm512_max_ps(_mm512_setzero_ps(), v); /* NaN: 2nd operand kept */
    case NN_ACT_LEAKY_RELU: {
        __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
        return _mm512_mask_mul_ps(v, neg, v, slope);
    }
    case NN_ACT_SIGMOID: return sigmoid_v(v);
    case NN_ACT_TANH: return tanh_v(v);
    }
    return v;
}

/* ---- many output channels: pixel-broadcast tiles ---- */

typedef struct tile_args {
    const float *a;  /* pixel 0, kernel row ky0: a[p*a_pix + r*a_row + j], j < L */
    size_t a_pix, a_row, rows, L;
    const float *w;  /* packed block at kernel row ky0: w[(r*L + j)*NV*16 + v*16 + lane] */
    const float *bias; /* NV*16, zero-padded */
    float *y;        /* pixel 0, first channel of the block; pixel stride N */
    size_t N, npix;  /* pixels actually stored (<= P) */
    __mmask16 last;  /* lanes of the last vector that exist */
    int stream;      /* full, 64-byte aligned vectors: non-temporal stores */
    nn_activation act;
} tile_args;

/* Sigmoid / tanh and store of a finished tile held in buf[p * nv + v]. */
static T512 __attribute__((noinline)) void tile_store_exp(const tile_args *t, const __m512 *buf, int nv) {
    const __m512 slope = _mm512_set1_ps(t->act.negative_slope);
    for (size_t p = 0; p < t->npix; p++) {
        float *y = t->y + p * t->N;
        for (int v = 0; v < nv; v++) {
            __m512 o = t->act.kind == NN_ACT_SIGMOID ? sigmoid_v(buf[p * (size_t)nv + (size_t)v])
                                                     : act_v(buf[p * (size_t)nv + (size_t)v], t->act.kind, slope);
            if (t->stream) _mm512_stream_ps(y + v * 16, o);
            else if (v == nv - 1) _mm512_mask_storeu_ps(y + v * 16, t->last, o);
            else _mm512_storeu_ps(y + v * 16, o);
        }
    }
}

/* LC > 0: the row length L is the compile-time constant LC, so the j loop unrolls completely
 * and every load gets a constant displacement (the 3x3 RGB case spends most of its time in
 * loop overhead otherwise: L = 9). */
INLINE T512 void tile(const tile_args *t, const int P, const int NV, const int LC) {
    __m512 acc[PMAX][4];
#pragma GCC unroll 24
    for (int p = 0; p < P; p++)
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) acc[p][v] = _mm512_load_ps(t->bias + v * 16);
    const size_t stride = (size_t)NV * 16;
    const size_t L = LC > 0 ? (size_t)LC : t->L;
    for (size_t r = 0; r < t->rows; r++) {
        const float *a = t->a + r * t->a_row;
        const float *w = t->w + r * L * stride;
#pragma GCC unroll 9
        for (size_t j = 0; j < L; j++) {
            __m512 wv[4];
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++) wv[v] = _mm512_load_ps(w + j * stride + v * 16);
#pragma GCC unroll 24
            for (int p = 0; p < P; p++) {
                __m512 b = _mm512_set1_ps(a[p * t->a_pix + j]);
#pragma GCC unroll 4
                for (int v = 0; v < NV; v++) acc[p][v] = _mm512_fmadd_ps(b, wv[v], acc[p][v]);
            }
        }
    }
    const nn_act_kind kind = t->act.kind;
    if (kind == NN_ACT_SIGMOID || kind == NN_ACT_TANH) {
        /* exp-based activations need a dozen constant registers: with 24 live accumulators they
         * would spill, so the tile goes through a small buffer and a plain loop instead. */
        __m512 buf[PMAX * 4];
#pragma GCC unroll 24
        for (int p = 0; p < P; p++)
#pragma GCC unroll 4
            for (int v = 0; v < NV; v++) buf[p * NV + v] = acc[p][v];
        tile_store_exp(t, buf, NV);
        return;
    }
    __m512 slope = _mm512_set1_ps(t->act.negative_slope);
#pragma GCC unroll 24
    for (int p = 0; p < P; p++) {
        if ((size_t)p >= t->npix) break;
        float *y = t->y + p * t->N;
#pragma GCC unroll 4
        for (int v = 0; v < NV; v++) {
            __m512 o = act_v(acc[p][v], kind, slope);
            if (t->stream) _mm512_stream_ps(y + v * 16, o);
            else if (v == NV - 1) _mm512_mask_storeu_ps(y + v * 16, t->last, o);
            else _mm512_storeu_ps(y + v * 16, o);
        }
    }
}

#define NV1_L9_PIX 16 /* fewer pixels than the generic 24: no address-register spills */

/* One function per vector count (and for L = 9), so every tile's accumulators live in
 * registers. */
static T512 void tile_nv1(const tile_args *t) { tile(t, 24, 1, 0); }
static T512 void tile_nv2(const tile_args *t) { tile(t, 12, 2, 0); }
static T512 void tile_nv3(const tile_args *t) { tile(t, 8, 3, 0); }
static T512 void tile_nv4(const tile_args *t) { tile(t, 6, 4, 0); }
static T512 void tile_nv1_l9(const tile_args *t) { tile(t, NV1_L9_PIX, 1, 9); }
static T512 void tile_nv2_l9(const tile_args *t) { tile(t, 12, 2, 9); }
static T512 void tile_nv3_l9(const tile_args *t) { tile(t, 8, 3, 9); }
static T512 void tile_nv4_l9(const tile_args *t) { tile(t, 6, 4, 9); }
static const int tile_pix[2][5] = {{0, 24, 12, 8, 6}, {0, NV1_L9_PIX, 12, 8, 6}};
typedef void (*tile_fn)(const tile_args *);
static tile_fn const tile_fns[2][5] = {
    {NULL, tile_nv1, tile_nv2, tile_nv3, tile_nv4},
    {NULL, tile_nv1_l9, tile_nv2_l9, tile_nv3_l9, tile_nv4_l9},
};

typedef struct bcast_plan {
    const nn_conv_job *j;
    const float *wpack; /* blocks of [K][nv*16] */
    const float *bias;  /* [NB*64] zero-padded */
    float *patches;     /* per worker: PMAX * K */
    size_t K, nblocks;
    int stream;
} bcast_plan;

static size_t bcast_ws_floats(const nn_conv_job *j, size_t *wfloats, size_t *bfloats) {
    size_t K = j->KH * j->KW * j->C, npad = (j->N + 15) / 16 * 16, w, b, pt, total;
    if (__builtin_mul_overflow(K, npad, &w)) return SIZE_MAX;
    b = (j->N + 63) / 64 * 64;
    if (__builtin_mul_overflow(K, (size_t)PMAX, &pt) || __builtin_mul_overflow(pt, j->threads, &pt)) return SIZE_MAX;
    if (__builtin_add_overflow(w, b, &total) || __builtin_add_overflow(total, pt, &total)) return SIZE_MAX;
    if (wfloats) *wfloats = w;
    if (bfloats) *bfloats = b;
    return total;
}

static T512 void bcast_rows(void *ctx, size_t begin, size_t end, size_t worker) {
    const bcast_plan *pl = ctx;
    const nn_conv_job *j = pl->j;
    const size_t C = j->C, KW = j->KW, KH = j->KH, L = KW * C, K = pl->K, N = j->N;
    float *patch = pl->patches + worker * PMAX * K;
    for (size_t oy = begin; oy < end; oy++) {
        /* kernel rows inside the input: iy = oy*sh - ph + ky in [0, H) */
        ptrdiff_t iy0;
        size_t ky0, ky1;
        nn_conv_kernel_rows(j, oy, &iy0, &ky0, &ky1);
        size_t rows = ky1 - ky0;
        const float *wblk = pl->wpack;
        for (size_t b = 0; b < pl->nblocks; b++) {
            size_t n0 = b * 64, nb = N - n0 < 64 ? N - n0 : 64, nv = (nb + 15) / 16;
            int P = tile_pix[L == 9][nv];
            tile_fn fn = tile_fns[L == 9][nv];
            size_t rem = nb - (nv - 1) * 16;
            tile_args t = {.rows = rows, .L = L, .w = wblk + ky0 * L * nv * 16, .bias = pl->bias + n0,
                           .N = N, .last = (__mmask16)((1u << rem) - 1), .stream = pl->stream,
                           .act = j->act};
            for (size_t ox = 0; ox < j->OW; ox += (size_t)P) {
                size_t start = ox, npix = (size_t)P;
                if (ox + (size_t)P > j->OW) {
                    if (j->OW >= (size_t)P) start = j->OW - (size_t)P; /* overlap: same values rewritten */
                    else npix = j->OW;
                }
                ptrdiff_t ix0 = (ptrdiff_t)(start * j->sw) - (ptrdiff_t)j->pw;
                ptrdiff_t ixl = (ptrdiff_t)((start + (size_t)P - 1) * j->sw) - (ptrdiff_t)j->pw + (ptrdiff_t)KW;
                t.y = j->y + (oy * j->OW + start) * N + n0;
                t.npix = npix;
                if (rows == 0) {
                    t.a = j->x; /* the window is all padding: only the bias is read */
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
                fn(&t);
            }
            wblk += K * nv * 16;
        }
    }
    if (pl->stream) _mm_sfence(); /* order the non-temporal stores before the pool's "done" */
}

static T512 void bcast_run(const nn_conv_job *j) {
    size_t wfloats = 0, bfloats = 0;
    bcast_ws_floats(j, &wfloats, &bfloats);
    const size_t K = j->KH * j->KW * j->C, N = j->N;
    bcast_plan pl = {.j = j, .K = K, .nblocks = (N + 63) / 64};
    pl.stream = nn_conv_streams(j, 16);
    float *w = j->ws;
    pl.wpack = w;
    /* pack: block b (nv vectors) holds k[n0 + lane][t] at [t][lane] */
    for (size_t b = 0; b < pl.nblocks; b++) {
        size_t n0 = b * 64, nb = N - n0 < 64 ? N - n0 : 64, width = (nb + 15) / 16 * 16;
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
    float *planes; /* [C][H][sw][Wq] */
    size_t Wq;
} planar_plan;

/* The common RGB case (C = 3, stride 1): split 16 pixels into three planes with two
 * permutes per plane instead of 48 scalar moves. */
static T512 void fill_rgb_row(float *d0, float *d1, float *d2, const float *src, size_t pw, size_t W,
                              size_t Wq) {
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

static T512 void planar_fill(void *ctx, size_t begin, size_t end, size_t worker) {
    (void)worker;
    const planar_plan *pl = ctx;
    const nn_conv_job *j = pl->j;
    const size_t C = j->C, sw = j->sw, Wq = pl->Wq;
    for (size_t iy = begin; iy < end; iy++) {
        const float *src = j->x + iy * j->W * C;
        if (C == 3 && sw == 1) {
            fill_rgb_row(pl->planes + (0 * j->H + iy) * Wq, pl->planes + (1 * j->H + iy) * Wq,
                         pl->planes + (2 * j->H + iy) * Wq, src, j->pw, j->W, Wq);
            continue;
        }
        for (size_t c = 0; c < C; c++)
            for (size_t ph = 0; ph < sw; ph++)
                nn_conv_fill_plane_row(pl->planes + ((c * j->H + iy) * sw + ph) * Wq, src, C, c, sw, ph, j->pw,
                               j->W, Wq);
    }
}

static T512 void planar_rows(void *ctx, size_t begin, size_t end, size_t worker) {
    (void)worker;
    const planar_plan *pl = ctx;
    const nn_conv_job *j = pl->j;
    const size_t C = j->C, KW = j->KW, sw = j->sw, Wq = pl->Wq, OW = j->OW;
    const __m512 bias = _mm512_set1_ps(j->bias ? j->bias[0] : 0.0f);
    const __m512 slope = _mm512_set1_ps(j->act.negative_slope);
    for (size_t oy = begin; oy < end; oy++) {
        ptrdiff_t iy0;
        size_t ky0, ky1;
        nn_conv_kernel_rows(j, oy, &iy0, &ky0, &ky1);
        float *yrow = j->y + oy * OW;
        for (size_t ox = 0; ox < OW; ox += 64) {
            __m512 a0 = bias, a1 = bias, a2 = bias, a3 = bias;
            for (size_t ky = ky0; ky < ky1; ky++) {
                size_t iy = (size_t)(iy0 + (ptrdiff_t)ky);
                for (size_t c = 0; c < C; c++) {
                    const float *plane = pl->planes + ((c * j->H + iy) * sw) * Wq + ox;
                    const float *kw = j->k + ky * KW * C + c;
                    for (size_t kx = 0; kx < KW; kx++) {
                        const float *src = plane + (kx % sw) * Wq + kx / sw;
                        __m512 w = _mm512_set1_ps(kw[kx * C]);
                        a0 = _mm512_fmadd_ps(w, _mm512_loadu_ps(src), a0);
                        a1 = _mm512_fmadd_ps(w, _mm512_loadu_ps(src + 16), a1);
                        a2 = _mm512_fmadd_ps(w, _mm512_loadu_ps(src + 32), a2);
                        a3 = _mm512_fmadd_ps(w, _mm512_loadu_ps(src + 48), a3);
                    }
                }
            }
            __m512 acc[4] = {a0, a1, a2, a3};
            for (int v = 0; v < 4; v++) {
                size_t o = ox + (size_t)v * 16;
                if (o >= OW) break;
                size_t left = OW - o;
                __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
                _mm512_mask_storeu_ps(yrow + o, m, act_v(acc[v], j->act.kind, slope));
            }
        }
    }
}

static T512 void planar_run(const nn_conv_job *j) {
    planar_plan pl = {.j = j, .planes = j->ws, .Wq = nn_conv_planar_wq(j)};
    size_t row_in = j->W * j->C, grain_in = row_in ? 16384 / row_in + 1 : 1;
    nn_parallel_for(j->H, grain_in, planar_fill, &pl);
    double per_row = (double)j->OW * (double)(j->KH * j->KW * j->C);
    size_t grain = per_row >= 32768.0 ? 1 : (size_t)(32768.0 / (per_row + 1.0)) + 1;
    nn_parallel_for(j->OH, grain, planar_rows, &pl);
}

/* ---- 3x3 stride 1, few channels, many filters: Winograd (nn_conv_wino_body.h) ---- */

INLINE T512 void wino_put(float *p, __m512 v, int stream) {
    if (stream) _mm512_stream_ps(p, v);
    else _mm512_storeu_ps(p, v);
}

#define WT T512
#define W_FUSED /* M in registers: 0.85x the time of the unfused body (224x224x3, 64 filters) */
#define WV __m512
#define WL 16
#define WNV 4
#define W_LOAD(p) _mm512_load_ps(p)
#define W_LOADU(p) _mm512_loadu_ps(p)
#define W_STORE(p, v) _mm512_store_ps(p, v)
#define W_STOREU(p, v) _mm512_storeu_ps(p, v)
#define W_BCAST(p) _mm512_set1_ps(*(p))
#define W_ZERO() _mm512_setzero_ps()
#define W_ADD(a, b) _mm512_add_ps(a, b)
#define W_SUB(a, b) _mm512_sub_ps(a, b)
#define W_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define W_PUT(p, v, stream) wino_put(p, v, stream)
#define W_ACT(v, act) act_v(v, (act).kind, _mm512_set1_ps((act).negative_slope))
#define W_CAN_STREAM 1
#define W_FENCE() _mm_sfence()
#include "nn_conv_wino_body.h"

/* ---- entry points ---- */

size_t nn_conv_avx512_ws_floats(const nn_conv_job *j) {
    if (nn_conv_wino_applies(j)) return wino_ws_floats(j);
    if (j->N == 1) return nn_conv_planar_ws_floats(j);
    return bcast_ws_floats(j, NULL, NULL);
}

void nn_conv_avx512_run(const nn_conv_job *j) {
    if (nn_conv_wino_applies(j)) wino_run(j);
    else if (j->N == 1) planar_run(j);
    else bcast_run(j);
}

#endif
