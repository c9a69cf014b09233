/* nn_pool_sep.c — the separable windowed-pooling kernel (nn_pool_sep.h), instantiated from
 * nn_pool_sep_body.h for the portable build (SSE2 on x86-64), AVX2 and AVX-512; nn_cpu_simd()
 * picks one per call. */
#include "nn_pool_sep.h"

#include <math.h>
#include <string.h>

#include "nn_cancel.h"
#include "nn_cpu.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#if defined(NN_CPU_X86) && defined(__x86_64__)
#include <immintrin.h>
#define SEP_X86 1
#endif

/* PyTorch's max-pooling step, m earlier and v later: v if v > m or v is NaN, else m. */
static inline float sep_max1(float m, float v) { return v > m || isnan(v) ? v : m; }

/* Floats of one tile's horizontal results (m * C), and of its stride phases; both live on the
 * stack of the thread running the tile. */
#define SEP_TILE_FLOATS NN_POOL_SEP_MAX_C
#define SEP_PHASE_FLOATS 16384
/* The tile's output rows being combined (one per window an input row lies in) and its
 * horizontal results stay within this many floats (half this core's 1 MiB L2 cache). */
#define SEP_CACHE_FLOATS ((size_t)1 << 17)
/* Fewest floats a call should cover when a tile is narrowed to give every core tiles. */
#define SEP_MIN_FLOATS 64
/* Tiles wanted at least (when the floats allow), so that both cores have work. */
#define SEP_MIN_TILES 8
/* Channels up to which a stride over 1 splits rows into phases (more: output by output, where
 * each window element is already a run of C floats). */
#define SEP_SPLIT_MAX_C 4

/* What nn_pool_sep_count counts, marked where the kernel does it: a call over a run of L floats,
 * k floats combined in a scalar loop (and its output), n pixels split into phases (one call).
 * Nothing in the library; tests/unit/test_pool_sep.c counts with them. */
#ifndef SEP_COUNT_RUN
#define SEP_COUNT_RUN(L) ((void)0)
#define SEP_COUNT_SCALAR(k) ((void)0)
#define SEP_COUNT_SPLIT(n) ((void)0)
#endif

/* The npx pixels (C <= SEP_SPLIT_MAX_C floats each) at src grouped by stride phase: phase q
 * holds pixels q, q + sw, q + 2 sw, ... in order, the phases one after another. Constant-size
 * copies, so that a pixel costs a move or two whatever C is. */
static void sep_split_phases(float *ph, const float *src, size_t npx, size_t C, size_t sw) {
    SEP_COUNT_SPLIT(npx);
    size_t phases = sw < npx ? sw : npx;
#define SEP_SPLIT(K)                                                                           \
    for (size_t q = 0; q < phases; q++)                                                        \
        for (size_t px = q; px < npx; px += sw, ph += (K)) memcpy(ph, src + px * (K), (K) * sizeof *ph)
    switch (C) {
    case 1: SEP_SPLIT(1); return;
    case 2: SEP_SPLIT(2); return;
    case 3: SEP_SPLIT(3); return;
    default: SEP_SPLIT(4); return;
    }
#undef SEP_SPLIT
}

/* ---- the portable instance: SSE2 where the compiler has it, else one float at a time ---- */
#define SFX(name) name##_gen
#define VT
#if defined(__SSE2__)
static inline __m128 sep_maxnan_sse(__m128 m, __m128 v) {
    __m128 isn = _mm_cmpunord_ps(v, v);
    return _mm_or_ps(_mm_and_ps(isn, v), _mm_andnot_ps(isn, _mm_max_ps(v, m)));
}
#define VEC __m128
#define VL 4
#define V_LOADU(p) _mm_loadu_ps(p)
#define V_STOREU(p, v) _mm_storeu_ps(p, v)
#define V_SET1(x) _mm_set1_ps(x)
#define V_ADD(a, b) _mm_add_ps(a, b)
#define V_MUL(a, b) _mm_mul_ps(a, b)
#define V_MAXNAN(a, b) sep_maxnan_sse(a, b)
#else
#define VEC float
#define VL 1
#define V_LOADU(p) (*(p))
#define V_STOREU(p, v) (*(p) = (v))
#define V_SET1(x) (x)
#define V_ADD(a, b) ((a) + (b))
#define V_MUL(a, b) ((a) * (b))
#define V_MAXNAN(a, b) sep_max1(a, b)
#endif
#include "nn_pool_sep_body.h"

#ifdef SEP_X86
/* ---- AVX2 ---- */
#define SFX(name) name##_avx2
#define VT __attribute__((target("avx2")))
VT static inline __m256 sep_maxnan_avx2(__m256 m, __m256 v) {
    return _mm256_blendv_ps(_mm256_max_ps(v, m), v, _mm256_cmp_ps(v, v, _CMP_UNORD_Q));
}
#define VEC __m256
#define VL 8
#define V_LOADU(p) _mm256_loadu_ps(p)
#define V_STOREU(p, v) _mm256_storeu_ps(p, v)
#define V_SET1(x) _mm256_set1_ps(x)
#define V_ADD(a, b) _mm256_add_ps(a, b)
#define V_MUL(a, b) _mm256_mul_ps(a, b)
#define V_MAXNAN(a, b) sep_maxnan_avx2(a, b)
#include "nn_pool_sep_body.h"

/* ---- AVX-512 ---- */
#define SFX(name) name##_512
#define VT __attribute__((target("avx512f,avx512vl")))
VT static inline __m512 sep_maxnan_512(__m512 m, __m512 v) {
    return _mm512_mask_mov_ps(_mm512_max_ps(v, m), _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), v);
}
#define VEC __m512
#define VL 16
#define V_LOADU(p) _mm512_loadu_ps(p)
#define V_STOREU(p, v) _mm512_storeu_ps(p, v)
#define V_SET1(x) _mm512_set1_ps(x)
#define V_ADD(a, b) _mm512_add_ps(a, b)
#define V_MUL(a, b) _mm512_mul_ps(a, b)
#define V_MAXNAN(a, b) sep_maxnan_512(a, b)
#include "nn_pool_sep_body.h"
#endif

int nn_pool_sep_tiles(float *y, const float *x, size_t W, size_t C, size_t OH, size_t OW,
                      const nn_pool_params *p, const nn_pool_sep_plan *plan, size_t t0, size_t t1) {
#ifdef SEP_X86
    switch (nn_cpu_simd()) {
    case NN_SIMD_AVX512: return tiles_512(y, x, W, C, OH, OW, p, plan, t0, t1);
    case NN_SIMD_AVX2: return tiles_avx2(y, x, W, C, OH, OW, p, plan, t0, t1);
    case NN_SIMD_GENERIC: break;
    }
#endif
    return tiles_gen(y, x, W, C, OH, OW, p, plan, t0, t1);
}

/* ---- the plan ----------------------------------------------------------------------------- */

static size_t ceil_div(size_t a, size_t b) { return a / b + (a % b != 0); }

nn_pool_sep_plan nn_pool_sep_plan_for(size_t OW, size_t C, const nn_pool_params *p) {
    const size_t kw = p->size_w, sw = p->stride_w;
    /* An input row lies in up to `active` windows: their output rows and the row's results
     * stay in the cache while the tile goes down the rows. */
    size_t active = p->size_h > p->stride_h ? ceil_div(p->size_h, p->stride_h) : 1;
    size_t floats = SEP_CACHE_FLOATS / (active + 1);
    if (floats > SEP_TILE_FLOATS) floats = SEP_TILE_FLOATS;
    size_t per = floats >= C ? floats / C : 1;
    if (per > OW) per = OW;
    size_t spread = ceil_div(OW, SEP_MIN_TILES); /* narrower, for the other core's sake */
    if (spread < per && spread * C >= SEP_MIN_FLOATS) per = spread;
    int by_kx = per >= 4 && (sw == 1 || C <= SEP_SPLIT_MAX_C);
    if (by_kx && sw > 1) { /* the tile's stride phases must fit their buffer */
        size_t px_max = SEP_PHASE_FLOATS / C;
        size_t fit = px_max >= kw ? (px_max - kw) / sw + 1 : 0;
        if (fit < per) per = fit;
        by_kx = per >= 4;
        if (!by_kx) per = floats >= C ? floats / C : 1; /* output by output: no phases */
        if (per > OW) per = OW;
    }
    nn_pool_sep_plan plan = {per, ceil_div(OW, per), by_kx};
    return plan;
}

/* ---- the count --------------------------------------------------------------------------- */

/* k calls over runs of L floats. */
static void count_runs(nn_pool_sep_ops *o, double k, size_t L) {
    o->vector += k * (double)(L - L % 4);
    o->scalar += k * (double)(L % 4);
    o->calls += k;
}

/* One tile of m outputs, every output row (nn_pool_sep_body.h's tile, step by step). */
static void count_tile(nn_pool_sep_ops *o, size_t OH, size_t C, const nn_pool_params *p,
                       int by_kx, size_t m) {
    const size_t kh = p->size_h, kw = p->size_w, sh = p->stride_h, sw = p->stride_w, n = m * C;
    double oh = (double)OH;
    double used = sh >= kh ? oh * (double)kh : (oh - 1.0) * (double)sh + (double)kh;
    if (by_kx) {
        if (sw > 1) {
            o->split += used * (double)((m - 1) * sw + kw);
            o->calls += used;
        }
        count_runs(o, used * (double)kw, n);
    } else if (C == 1) {
        o->scalar += used * (double)m * (double)(kw - 1);
        o->calls += used * (double)m;
    } else {
        count_runs(o, used * (double)m * (double)kw, C);
    }
    count_runs(o, oh * (double)kh, n); /* each output row takes kh input rows */
    if (p->kind == NN_POOL_AVG) count_runs(o, oh, n); /* scale */
}

nn_pool_sep_ops nn_pool_sep_count(size_t OH, size_t OW, size_t C, const nn_pool_params *p) {
    nn_pool_sep_ops o = {0.0, 0.0, 0.0, 0.0}, t = {0.0, 0.0, 0.0, 0.0};
    nn_pool_sep_plan plan = nn_pool_sep_plan_for(OW, C, p);
    size_t full = OW / plan.per_tile, rest = OW % plan.per_tile;
    count_tile(&t, OH, C, p, plan.by_kx, plan.per_tile);
    o.vector = t.vector * (double)full;
    o.scalar = t.scalar * (double)full;
    o.calls = t.calls * (double)full;
    o.split = t.split * (double)full;
    if (rest) count_tile(&o, OH, C, p, plan.by_kx, rest);
    return o;
}
