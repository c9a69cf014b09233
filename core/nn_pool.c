/* nn_pool.c — windowed and global pooling, channels-last; see nn_pool.h.
 *
 * The fast kernels keep channels innermost: each output pixel reduces its window with vectors
 * across C (AVX-512, 16 channels a vector with a masked tail, when the CPU has it; SSE otherwise),
 * so every load is contiguous.
 * Max pooling reproduces PyTorch's NaN rule `if (v > m || isnan(v)) m = v` exactly, vectorised as
 * m = isnan(v) ? v : maxps(v, m) (maxps returns its second operand when either is NaN, so a NaN
 * already in m stays). Work is split over output rows (windowed) or a FIXED number of pixel
 * chunks (global), so results never depend on the thread count. */
#include "nn_pool.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nn_cancel.h"
#include "nn_cpu.h"
#include "nn_parallel.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#define NN_POOL_SSE 1
#endif
#if defined(NN_CPU_X86) && defined(__x86_64__)
#include <immintrin.h>
#define NN_POOL_AVX512 1
#define T512 __attribute__((target("avx512f,avx512vl")))
#endif

/* Below this many input floats touched, threading costs more than it saves. */
#define PAR_MIN_WORK ((size_t)1 << 15)

/* AVX-512 at that SIMD level (nn_cpu); below it the SSE kernels. Every path sums in the same
 * order, so all give the same bits. */
static int use_avx512(void) {
#ifdef NN_POOL_AVX512
    return nn_cpu_simd() >= NN_SIMD_AVX512;
#else
    return 0;
#endif
}

nn_code nn_pool_parse(const char *name, nn_pool_kind *out, nn_error *err) {
    if (!name) return nn_fail(err, NN_INVALID, "function", "function must be a string");
    if (!strcasecmp(name, "max")) *out = NN_POOL_MAX;
    else if (!strcasecmp(name, "average") || !strcasecmp(name, "avg") || !strcasecmp(name, "mean"))
        *out = NN_POOL_AVG;
    else
        return nn_fail(err, NN_INVALID, "function", "unknown pooling function '%.40s' (max, average)",
                       name);
    return NN_OK;
}

const char *nn_pool_name(nn_pool_kind kind) {
    switch (kind) {
    case NN_POOL_MAX: return "max";
    case NN_POOL_AVG: return "average";
    }
    return "?";
}

static nn_code check_input(size_t H, size_t W, size_t C, nn_error *err) {
    if (H == 0 || W == 0 || C == 0)
        return nn_fail(err, NN_INVALID, "input", "input must not be empty (got %zux%zux%zu)", H, W, C);
    size_t dims[3] = {H, W, C}, n;
    if (nn_size_prod(dims, 3, &n) || n > SIZE_MAX / sizeof(float))
        return nn_fail(err, NN_TOO_LARGE, "input", "input %zux%zux%zu is too large", H, W, C);
    return NN_OK;
}

static int kind_ok(nn_pool_kind k) { return k == NN_POOL_MAX || k == NN_POOL_AVG; }

nn_code nn_pool_output_size(size_t H, size_t W, size_t C, const nn_pool_params *p, size_t *OH,
                            size_t *OW, nn_error *err) {
    if (!p) return nn_fail(err, NN_INVALID, "function", "pooling parameters missing");
    if (!kind_ok(p->kind)) return nn_fail(err, NN_INVALID, "function", "unknown pooling function");
    if (p->size_h == 0 || p->size_w == 0)
        return nn_fail(err, NN_INVALID, "size", "pool size must be >= 1 (got %zux%zu)", p->size_h,
                       p->size_w);
    if (p->stride_h == 0 || p->stride_w == 0)
        return nn_fail(err, NN_INVALID, "stride", "stride must be >= 1 (got %zux%zu)", p->stride_h,
                       p->stride_w);
    nn_code c = check_input(H, W, C, err);
    if (c) return c;
    if (p->size_h > H || p->size_w > W)
        return nn_fail(err, NN_INVALID, "size", "pool window %zux%zu is larger than the %zux%zu input",
                       p->size_h, p->size_w, H, W);
    size_t oh = (H - p->size_h) / p->stride_h + 1, ow = (W - p->size_w) / p->stride_w + 1;
    if (OH) *OH = oh;
    if (OW) *OW = ow;
    return NN_OK;
}

double nn_pool_work(size_t OH, size_t OW, size_t C, const nn_pool_params *p) {
    return (double)OH * (double)OW * (double)C * (double)p->size_h * (double)p->size_w;
}

double nn_global_pool_work(size_t H, size_t W, size_t C) {
    return (double)H * (double)W * (double)C;
}

/* Output pixels between two looks at the cancel flag: about NN_CANCEL_EVERY operations (the
 * first pixel looks too, so a cancelled call writes nothing). */
static size_t cancel_every(size_t C, const nn_pool_params *p) {
    size_t per = C * p->size_h * p->size_w;
    return per >= NN_CANCEL_EVERY ? 1 : NN_CANCEL_EVERY / per;
}

static nn_code cancelled(nn_error *err) {
    return nn_fail(err, NN_CANCELLED, "cancelled", "pooling was cancelled");
}

/* ---- windowed pooling -------------------------------------------------------------------- */

typedef struct pool_job {
    float *y;
    const float *x;
    size_t W, C, OW;
    nn_pool_params p;
} pool_job;

/* Reduce one window for channels [c0, c0+n) with scalars (the tail, or non-SSE builds). */
static void window_scalar(float *yo, const float *xw, size_t W, size_t C, size_t c0, size_t n,
                          const nn_pool_params *p) {
    float inv = 1.0f / (float)(p->size_h * p->size_w);
    for (size_t c = c0; c < c0 + n; c++) {
        if (p->kind == NN_POOL_MAX) {
            float m = xw[c];
            for (size_t ky = 0; ky < p->size_h; ky++)
                for (size_t kx = 0; kx < p->size_w; kx++) {
                    float v = xw[(ky * W + kx) * C + c];
                    if (v > m || isnan(v)) m = v;
                }
            yo[c] = m;
        } else {
            float s = 0.0f;
            for (size_t ky = 0; ky < p->size_h; ky++)
                for (size_t kx = 0; kx < p->size_w; kx++) s += xw[(ky * W + kx) * C + c];
            yo[c] = s * inv;
        }
    }
}

#ifdef NN_POOL_SSE
static inline __m128 max_nan(__m128 m, __m128 v) {
    __m128 isn = _mm_cmpunord_ps(v, v);
    return _mm_or_ps(_mm_and_ps(isn, v), _mm_andnot_ps(isn, _mm_max_ps(v, m)));
}

/* The three steps of a window for one kind: max starts from the window's first value, the
 * average from 0 and scales at the end, as window_scalar does. */
#define SSE_INLINE static inline __attribute__((always_inline))
SSE_INLINE __m128 sse_init(const float *q, int is_max) { return is_max ? _mm_loadu_ps(q) : _mm_setzero_ps(); }
SSE_INLINE __m128 sse_step(__m128 a, __m128 v, int is_max) { return is_max ? max_nan(a, v) : _mm_add_ps(a, v); }
SSE_INLINE __m128 sse_done(__m128 a, __m128 inv, int is_max) { return is_max ? a : _mm_mul_ps(a, inv); }

/* One output pixel, every channel, for one kind (a constant after inlining): channels in runs
 * of 16, then of 4, then the scalar tail. */
SSE_INLINE void window_sse_kind(float *yo, const float *xw, size_t W, size_t C, const nn_pool_params *p,
                                const int is_max) {
    const size_t kh = p->size_h, kw = p->size_w, rowstep = W * C;
    const __m128 inv = _mm_set1_ps(1.0f / (float)(kh * kw));
    size_t c = 0;
    for (; c + 16 <= C; c += 16) {
        const float *b = xw + c;
        __m128 a0 = sse_init(b, is_max), a1 = sse_init(b + 4, is_max), a2 = sse_init(b + 8, is_max),
               a3 = sse_init(b + 12, is_max);
        for (size_t ky = 0; ky < kh; ky++) {
            const float *r = b + ky * rowstep;
            for (size_t kx = 0; kx < kw; kx++, r += C) {
                a0 = sse_step(a0, _mm_loadu_ps(r), is_max);
                a1 = sse_step(a1, _mm_loadu_ps(r + 4), is_max);
                a2 = sse_step(a2, _mm_loadu_ps(r + 8), is_max);
                a3 = sse_step(a3, _mm_loadu_ps(r + 12), is_max);
            }
        }
        _mm_storeu_ps(yo + c, sse_done(a0, inv, is_max));
        _mm_storeu_ps(yo + c + 4, sse_done(a1, inv, is_max));
        _mm_storeu_ps(yo + c + 8, sse_done(a2, inv, is_max));
        _mm_storeu_ps(yo + c + 12, sse_done(a3, inv, is_max));
    }
    for (; c + 4 <= C; c += 4) {
        const float *b = xw + c;
        __m128 a0 = sse_init(b, is_max);
        for (size_t ky = 0; ky < kh; ky++) {
            const float *r = b + ky * rowstep;
            for (size_t kx = 0; kx < kw; kx++, r += C) a0 = sse_step(a0, _mm_loadu_ps(r), is_max);
        }
        _mm_storeu_ps(yo + c, sse_done(a0, inv, is_max));
    }
    if (c < C) window_scalar(yo, xw, W, C, c, C - c, p);
}

static void window_sse(float *yo, const float *xw, size_t W, size_t C, const nn_pool_params *p) {
    if (p->kind == NN_POOL_MAX) window_sse_kind(yo, xw, W, C, p, 1);
    else window_sse_kind(yo, xw, W, C, p, 0);
}
#endif


#ifdef NN_POOL_AVX512
T512 static inline __m512 max_nan512(__m512 m, __m512 v) {
    return _mm512_mask_mov_ps(_mm512_max_ps(v, m), _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v);
}

/* Output rows [begin, end) with 16 channels per vector (a masked vector for the tail). */
T512 static void pool_rows_512(float *y, const float *x, size_t W, size_t C, size_t OW,
                               const nn_pool_params *p, size_t begin, size_t end) {
    size_t kh = p->size_h, kw = p->size_w, rowstep = W * C;
    __mmask16 tail = (__mmask16)((1u << (C % 16)) - 1);
    __m512 inv = _mm512_set1_ps(1.0f / (float)(kh * kw));
    int is_max = p->kind == NN_POOL_MAX;
    const size_t every = cancel_every(C, p);
    for (size_t oy = begin, n = every - 1; oy < end; oy++) {
        for (size_t ox = 0; ox < OW; ox++) {
            if (__builtin_expect(++n == every, 0)) {
                n = 0;
                if (nn_cancelled()) return;
            }
            const float *xw = x + (oy * p->stride_h * W + ox * p->stride_w) * C;
            float *yo = y + (oy * OW + ox) * C;
            for (size_t c = 0; c < C; c += 16) {
                __mmask16 m = C - c >= 16 ? (__mmask16)0xFFFF : tail;
                __m512 a = is_max ? _mm512_set1_ps(-INFINITY) : _mm512_setzero_ps();
                for (size_t ky = 0; ky < kh; ky++) {
                    const float *r = xw + ky * rowstep + c;
                    for (size_t kx = 0; kx < kw; kx++, r += C) {
                        __m512 v = _mm512_maskz_loadu_ps(m, r);
                        a = is_max ? max_nan512(a, v) : _mm512_add_ps(a, v);
                    }
                }
                if (!is_max) a = _mm512_mul_ps(a, inv);
                _mm512_mask_storeu_ps(yo + c, m, a);
            }
        }
    }
}
#endif

static void pool_rows(void *ctx, size_t begin, size_t end, size_t worker) {
    (void)worker;
    const pool_job *j = ctx;
#ifdef NN_POOL_AVX512
    if (j->C >= 8 && use_avx512()) {
        pool_rows_512(j->y, j->x, j->W, j->C, j->OW, &j->p, begin, end);
        return;
    }
#endif
    size_t W = j->W, C = j->C, OW = j->OW;
    const size_t every = cancel_every(C, &j->p);
    for (size_t oy = begin, n = every - 1; oy < end; oy++) {
        const float *xr = j->x + oy * j->p.stride_h * W * C;
        float *yr = j->y + oy * OW * C;
        for (size_t ox = 0; ox < OW; ox++) {
            if (__builtin_expect(++n == every, 0)) {
                n = 0;
                if (nn_cancelled()) return;
            }
            const float *xw = xr + ox * j->p.stride_w * C;
#ifdef NN_POOL_SSE
            window_sse(yr + ox * C, xw, W, C, &j->p);
#else
            window_scalar(yr + ox * C, xw, W, C, 0, C, &j->p);
#endif
        }
    }
}

/* Validate a windowed pooling call with its buffers; OH, OW set on success. */
static nn_code check_call(const float *y, const float *x, size_t H, size_t W, size_t C, const nn_pool_params *p,
                          size_t *OH, size_t *OW, nn_error *err) {
    nn_code c = nn_pool_output_size(H, W, C, p, OH, OW, err);
    if (c) return c;
    if (!y || !x) return nn_fail(err, NN_INVALID, "input", "input and output must not be NULL");
    return NN_OK;
}

nn_code nn_pool2d_forward(float *y, const float *x, size_t H, size_t W, size_t C,
                          const nn_pool_params *p, nn_error *err) {
    size_t OH, OW;
    nn_code c = check_call(y, x, H, W, C, p, &OH, &OW, err);
    if (c) return c;
    pool_job j = {y, x, W, C, OW, *p};
    /* Work per output row, in input floats read. */
    size_t row_work = OW * C * p->size_h * p->size_w;
    if (row_work * OH < PAR_MIN_WORK || nn_parallel_threads() < 2) {
        pool_rows(&j, 0, OH, 0);
    } else {
        size_t grain = PAR_MIN_WORK / (row_work ? row_work : 1);
        nn_parallel_for(OH, grain ? grain : 1, pool_rows, &j);
    }
    return nn_cancelled() ? cancelled(err) : NN_OK;
}

nn_code nn_pool2d_naive(float *y, const float *x, size_t H, size_t W, size_t C,
                        const nn_pool_params *p, nn_error *err) {
    size_t OH, OW;
    nn_code c = check_call(y, x, H, W, C, p, &OH, &OW, err);
    if (c) return c;
    for (size_t oy = 0; oy < OH; oy++)
        for (size_t ox = 0; ox < OW; ox++)
            for (size_t ch = 0; ch < C; ch++) {
                float m = -INFINITY;
                double s = 0.0;
                for (size_t ky = 0; ky < p->size_h; ky++)
                    for (size_t kx = 0; kx < p->size_w; kx++) {
                        float v = x[((oy * p->stride_h + ky) * W + ox * p->stride_w + kx) * C + ch];
                        if (v > m || isnan(v)) m = v;
                        s += v;
                    }
                y[(oy * OW + ox) * C + ch] =
                    p->kind == NN_POOL_MAX ? m : (float)(s / (double)(p->size_h * p->size_w));
            }
    return NN_OK;
}

nn_code nn_pool2d_backward(float *dx, const float *dy, const float *x, size_t H, size_t W,
                           size_t C, const nn_pool_params *p, nn_error *err) {
    size_t OH, OW;
    nn_code c = nn_pool_output_size(H, W, C, p, &OH, &OW, err);
    if (c) return c;
    if (!dx || !dy || (!x && p->kind == NN_POOL_MAX))
        return nn_fail(err, NN_INVALID, "input", "gradient buffers must not be NULL");
    float inv = 1.0f / (float)(p->size_h * p->size_w);
    for (size_t oy = 0; oy < OH; oy++)
        for (size_t ox = 0; ox < OW; ox++)
            for (size_t ch = 0; ch < C; ch++) {
                float g = dy[(oy * OW + ox) * C + ch];
                size_t base = (oy * p->stride_h * W + ox * p->stride_w) * C + ch;
                if (p->kind == NN_POOL_MAX) {
                    /* PyTorch's argmax: strictly greater wins, a NaN always wins. */
                    float m = -INFINITY;
                    size_t best = base;
                    for (size_t ky = 0; ky < p->size_h; ky++)
                        for (size_t kx = 0; kx < p->size_w; kx++) {
                            size_t i = base + (ky * W + kx) * C;
                            if (x[i] > m || isnan(x[i])) { m = x[i]; best = i; }
                        }
                    dx[best] += g;
                } else {
                    for (size_t ky = 0; ky < p->size_h; ky++)
                        for (size_t kx = 0; kx < p->size_w; kx++) dx[base + (ky * W + kx) * C] += g * inv;
                }
            }
    return NN_OK;
}

/* ---- global pooling ----------------------------------------------------------------------- */

/* Fixed pixel chunks, summed one after another, so the result never depends on the thread
 * count or the SIMD path. 32 of them also give the AVX-512 kernel 4 independent add chains
 * (4 chunks at once): one chain waits 4 cycles per pixel on the previous add. */
#define GP_CHUNKS 32
#define GP_CBLOCK 64  /* channels per pass (partials live on the stack) */

typedef struct gp_job {
    const float *x;
    size_t npix, C, c0, cb;
    nn_pool_kind kind;
    double sum[GP_CHUNKS][GP_CBLOCK];
    float max[GP_CHUNKS][GP_CBLOCK];
} gp_job;

static size_t gp_begin(size_t npix, size_t k) { return npix * k / GP_CHUNKS; }

/* The sum of a chunk, per channel: every pixel added into a double, in order. In double, huge
 * values do not overflow (16 x 16 of 1e38 averages to 1e38) and small ones survive next to big
 * ones ([1, 1e8, 1, -1e8] repeated averages to 0.5); adding runs of pixels in float first was
 * 1.6x faster but lost both. Every path follows exactly this order. */
static double gp_sum(const float *x, size_t C, size_t p0, size_t p1) {
    double a = 0.0;
    for (size_t px = p0; px < p1; px++) a += x[px * C];
    return a;
}

#ifdef NN_POOL_AVX512
/* The sums of gp_four_512: 16 channels of 4 chunks, as 16 chains of 4 doubles. This CPU
 * converts 4 floats at a time (vcvtps2pd ymm, m128) about 1.6x as fast per float as 8 at a
 * time (measured 1.0 against 1.5-1.9 ns per 16 floats), and 16 chains hide the add latency.
 * LOAD(i, q, px) gives channels 4q .. 4q+3 of pixel px of chunk i, as doubles. */
#define GP_FOUR_SUM_BODY(LOAD)                                                                  \
    __m256d a00 = _mm256_setzero_pd(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00,  \
            a12 = a00, a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00,       \
            a31 = a00, a32 = a00, a33 = a00;                                                   \
    for (size_t px = 0; px < run; px++) {                                                      \
        a00 = _mm256_add_pd(a00, LOAD(0, 0, px));                                              \
        a01 = _mm256_add_pd(a01, LOAD(0, 1, px));                                              \
        a02 = _mm256_add_pd(a02, LOAD(0, 2, px));                                              \
        a03 = _mm256_add_pd(a03, LOAD(0, 3, px));                                              \
        a10 = _mm256_add_pd(a10, LOAD(1, 0, px));                                              \
        a11 = _mm256_add_pd(a11, LOAD(1, 1, px));                                              \
        a12 = _mm256_add_pd(a12, LOAD(1, 2, px));                                              \
        a13 = _mm256_add_pd(a13, LOAD(1, 3, px));                                              \
        a20 = _mm256_add_pd(a20, LOAD(2, 0, px));                                              \
        a21 = _mm256_add_pd(a21, LOAD(2, 1, px));                                              \
        a22 = _mm256_add_pd(a22, LOAD(2, 2, px));                                              \
        a23 = _mm256_add_pd(a23, LOAD(2, 3, px));                                              \
        a30 = _mm256_add_pd(a30, LOAD(3, 0, px));                                              \
        a31 = _mm256_add_pd(a31, LOAD(3, 1, px));                                              \
        a32 = _mm256_add_pd(a32, LOAD(3, 2, px));                                              \
        a33 = _mm256_add_pd(a33, LOAD(3, 3, px));                                              \
    }                                                                                          \
    __m256d a[4][4] = {{a00, a01, a02, a03}, {a10, a11, a12, a13}, {a20, a21, a22, a23},       \
                       {a30, a31, a32, a33}};                                                  \
    for (size_t i = 0; i < 4; i++) /* this chunk's own last pixel, if it has one more */       \
        for (size_t q = 0; q < 4; q++) {                                                       \
            for (size_t px = run; px < p[i + 1] - p[i]; px++)                                  \
                a[i][q] = _mm256_add_pd(a[i][q], LOAD(i, q, px));                              \
            _mm256_mask_storeu_pd(sum[k0 + i] + c + 4 * q, m[q], a[i][q]);                     \
        }

/* Channels c .. c+15 (those below `left` = cb - c) of chunks k0 .. k0+3, rows starting at p[]. */
T512 static void gp_four_sum(const float *base, size_t C, size_t left, const size_t *p, size_t run,
                             double (*sum)[GP_CBLOCK], size_t k0, size_t c) {
    __mmask8 m[4];
    for (size_t q = 0; q < 4; q++)
        m[q] = left >= 4 * q + 4 ? 0xF : left > 4 * q ? (__mmask8)((1u << (left - 4 * q)) - 1) : 0;
    const float *r[4];
    for (size_t i = 0; i < 4; i++) r[i] = base + p[i] * C;
    if (left >= 16) { /* unmasked: the loads fold into the conversions */
#define GP_LD(i, q, px) _mm256_cvtps_pd(_mm_loadu_ps(r[i] + (px) * C + 4 * (q)))
        GP_FOUR_SUM_BODY(GP_LD)
#undef GP_LD
    } else {
#define GP_LD(i, q, px) _mm256_cvtps_pd(_mm_maskz_loadu_ps(m[q], r[i] + (px) * C + 4 * (q)))
        GP_FOUR_SUM_BODY(GP_LD)
#undef GP_LD
    }
}
#undef GP_FOUR_SUM_BODY

/* Chunks k0 .. k0+3 of channels [0, cb) at base (row stride C), interleaved: the same step of
 * each chunk in turn (4 independent add chains), each chunk summed in gp_sum's order or
 * max-reduced (NaN-propagating), exactly as the other paths do. Chunk lengths differ by at most
 * one pixel: a common run, then each chunk's own rest. Accumulators are named (not an array)
 * so that they stay in registers. */
T512 static void gp_four_512(const float *base, size_t C, size_t cb, size_t npix, size_t k0,
                             nn_pool_kind kind, double (*sum)[GP_CBLOCK], float (*mx)[GP_CBLOCK]) {
    size_t p[5], run = SIZE_MAX;
    for (size_t i = 0; i < 5; i++) p[i] = gp_begin(npix, k0 + i);
    for (size_t i = 0; i < 4; i++)
        if (p[i + 1] - p[i] < run) run = p[i + 1] - p[i];
    for (size_t c = 0; c < cb; c += 16) {
        __mmask16 m = cb - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (cb - c)) - 1);
        const float *r0 = base + c + p[0] * C, *r1 = base + c + p[1] * C,
                    *r2 = base + c + p[2] * C, *r3 = base + c + p[3] * C;
        if (kind == NN_POOL_MAX) {
            __m512 a0 = _mm512_set1_ps(-INFINITY), a1 = a0, a2 = a0, a3 = a0;
            for (size_t px = 0; px < run; px++) {
                a0 = max_nan512(a0, _mm512_maskz_loadu_ps(m, r0 + px * C));
                a1 = max_nan512(a1, _mm512_maskz_loadu_ps(m, r1 + px * C));
                a2 = max_nan512(a2, _mm512_maskz_loadu_ps(m, r2 + px * C));
                a3 = max_nan512(a3, _mm512_maskz_loadu_ps(m, r3 + px * C));
            }
            __m512 a[4] = {a0, a1, a2, a3};
            for (size_t i = 0; i < 4; i++) {
                for (size_t px = p[i] + run; px < p[i + 1]; px++)
                    a[i] = max_nan512(a[i], _mm512_maskz_loadu_ps(m, base + c + px * C));
                _mm512_mask_storeu_ps(mx[k0 + i] + c, m, a[i]);
            }
        } else {
            gp_four_sum(base + c, C, cb - c, p, run, sum, k0, c);
        }
    }
}
#endif

static void gp_chunks(void *ctx, size_t begin, size_t end, size_t worker) {
    (void)worker;
    gp_job *j = ctx;
    size_t C = j->C, cb = j->cb;
    const float *base = j->x + j->c0;
#ifdef NN_POOL_AVX512
    if (cb >= 8 && use_avx512()) {
        for (; begin + 4 <= end; begin += 4) {
            if (nn_cancelled()) return;
            gp_four_512(base, C, cb, j->npix, begin, j->kind, j->sum, j->max);
        }
        if (begin == end) return; /* leftover chunks (not with 4-aligned pieces) go below */
    }
#endif
    for (size_t k = begin; k < end; k++) {
        size_t p0 = gp_begin(j->npix, k), p1 = gp_begin(j->npix, k + 1);
        if (nn_cancelled()) return; /* a chunk is at most 1/32 of a bounded map */
        if (j->kind == NN_POOL_MAX) {
            float m[GP_CBLOCK];
            for (size_t c = 0; c < cb; c++) m[c] = -INFINITY;
            for (size_t px = p0; px < p1; px++) {
                const float *r = base + px * C;
                size_t c = 0;
#ifdef NN_POOL_SSE
                for (; c + 4 <= cb; c += 4)
                    _mm_storeu_ps(m + c, max_nan(_mm_loadu_ps(m + c), _mm_loadu_ps(r + c)));
#endif
                for (; c < cb; c++)
                    if (r[c] > m[c] || isnan(r[c])) m[c] = r[c];
            }
            for (size_t c = 0; c < cb; c++) j->max[k][c] = m[c];
        } else {
            size_t c = 0;
#ifdef NN_POOL_SSE
            for (; c + 4 <= cb; c += 4) {
                __m128d lo = _mm_setzero_pd(), hi = lo;
                for (size_t px = p0; px < p1; px++) {
                    __m128 v = _mm_loadu_ps(base + px * C + c);
                    lo = _mm_add_pd(lo, _mm_cvtps_pd(v));
                    hi = _mm_add_pd(hi, _mm_cvtps_pd(_mm_movehl_ps(v, v)));
                }
                _mm_storeu_pd(j->sum[k] + c, lo);
                _mm_storeu_pd(j->sum[k] + c + 2, hi);
            }
#endif
            for (; c < cb; c++) j->sum[k][c] = gp_sum(base + c, C, p0, p1);
        }
    }
}

static nn_code gp_check(const float *y, const float *x, size_t H, size_t W, size_t C,
                        nn_pool_kind kind, nn_error *err) {
    if (!kind_ok(kind)) return nn_fail(err, NN_INVALID, "function", "unknown pooling function");
    nn_code c = check_input(H, W, C, err);
    if (c) return c;
    if (!y || !x) return nn_fail(err, NN_INVALID, "input", "input and output must not be NULL");
    return NN_OK;
}

nn_code nn_global_pool_forward(float *y, const float *x, size_t H, size_t W, size_t C,
                               nn_pool_kind kind, nn_error *err) {
    nn_code code = gp_check(y, x, H, W, C, kind, err);
    if (code) return code;
    gp_job j;
    j.x = x;
    j.npix = H * W;
    j.C = C;
    j.kind = kind;
    int par = j.npix * C >= PAR_MIN_WORK && nn_parallel_threads() > 1;
    for (size_t c0 = 0; c0 < C; c0 += GP_CBLOCK) {
        if (nn_cancelled()) return cancelled(err);
        j.c0 = c0;
        j.cb = C - c0 < GP_CBLOCK ? C - c0 : GP_CBLOCK;
        if (par) nn_parallel_for(GP_CHUNKS, 4, gp_chunks, &j);
        else gp_chunks(&j, 0, GP_CHUNKS, 0);
        for (size_t c = 0; c < j.cb; c++) {
            if (kind == NN_POOL_MAX) {
                float m = j.max[0][c];
                for (size_t k = 1; k < GP_CHUNKS; k++)
                    if (j.max[k][c] > m || isnan(j.max[k][c])) m = j.max[k][c];
                y[c0 + c] = m;
            } else {
                double s = 0.0;
                for (size_t k = 0; k < GP_CHUNKS; k++) s += j.sum[k][c];
                y[c0 + c] = (float)(s / (double)j.npix);
            }
        }
    }
    return nn_cancelled() ? cancelled(err) : NN_OK;
}

nn_code nn_global_pool_naive(float *y, const float *x, size_t H, size_t W, size_t C,
                             nn_pool_kind kind, nn_error *err) {
    nn_code code = gp_check(y, x, H, W, C, kind, err);
    if (code) return code;
    for (size_t c = 0; c < C; c++) {
        float m = -INFINITY;
        double s = 0.0;
        for (size_t i = 0; i < H * W; i++) {
            float v = x[i * C + c];
            if (v > m || isnan(v)) m = v;
            s += v;
        }
        y[c] = kind == NN_POOL_MAX ? m : (float)(s / (double)(H * W));
    }
    return NN_OK;
}
