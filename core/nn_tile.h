/* nn_tile.h — internal: the register-tiled float32 kernels behind the batched layers used for
 * training (nn_conv_batch, nn_linear, nn_pool_batch), one table per SIMD level: the `tile`
 * member of that level's convolution table (nn_conv_dispatch.h), written once over the
 * convolution's vector interface (nn_tile_body.h). Not part of the public API.
 *
 * Both kernels walk "pixels" (r, c) of a 2-D grid and "taps" (ky, t) of a window; pixel (r, c),
 * tap (ky, t) reads the input value
 *     x[r*xr + c*xc + ky*xk + t]            ky < KH, t < L
 * and M output channels run along the vector lanes:
 *   corr:  y[r*yr + c*yc + m]  (=|+=)  bias[m] + sum_{ky, t} x[...] * w[(ky*L + t)*wld + m]
 *          (=: then the activation; +=: accumulate, no bias, no activation)
 *   dw:    w[(ky*L + t)*wld + m]  +=  sum_{r, c} x[...] * y[r*yr + c*yc + m]
 * A convolution over a zero-padded channels-last input [Hp, Wp, C] is corr with
 * xr = sh*Wp*C, xc = sw*C, xk = Wp*C, L = KW*C: the (kx, c) run of one kernel row is contiguous
 * both in the input and in the packed weights [KH][KW*C][wld]. A linear layer is the same with
 * one row of B pixels and L = in.
 *
 * A third kernel, poolmax, is max pooling that also records where each maximum was.
 *
 * Bit contract: every sum runs in the same order on every path, one fused multiply-add per term
 * (corr: from the bias or the existing output, taps in (ky, t) order; dw: from the existing
 * value, pixels in raster order r, c), so all paths give the same bits; the vector width only
 * changes how many channels go at once. */
#ifndef NN_TILE_H
#define NN_TILE_H

#include <stddef.h>
#include <stdint.h>

#include "nn_act.h"
#include "nn_cpu.h"

/* Sanitizer builds (SAN=1) compile each tile kernel in a few small sizes only: UBSan's checks
 * on the fully unrolled wide tiles took clang minutes per file. Tile sizes never change the
 * results (see the bit contract), only the speed. */
#if defined(__SANITIZE_ADDRESS__)
#define NN_TILE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NN_TILE_SANITIZED 1
#endif
#endif

/* Lanes the packed weights and biases are padded to (the widest vector): wld is a multiple of
 * it and lanes m >= M hold zeros. */
#define NN_TILE_PAD 16

typedef struct nn_tile_job {
    const float *x;        /* input; see above */
    size_t xr, xc, xk;     /* strides of pixel row, pixel column, kernel row (floats) */
    float *y;              /* corr: output; dw: the gradient read (const there) */
    size_t yr, yc;         /* strides of pixel row and column; channels are contiguous */
    float *w;              /* corr: packed weights (read); dw: gradient accumulated into */
    size_t wld;            /* floats between taps in w; corr: a multiple of NN_TILE_PAD */
    const float *bias;     /* corr, not accumulating: [M] or NULL (zero) */
    size_t M, KH, L;       /* channels, kernel rows, taps per kernel row */
    int accumulate;        /* corr: add into y instead of writing bias + sum + activation */
    nn_activation act;     /* corr, not accumulating */
} nn_tile_job;

/* Max pooling of one channels-last image with the maximum's position (nn_pool_batch.h's
 * rule: `v > m || isnan(v)` takes v, windows scanned row by row). */
typedef struct nn_tile_pool {
    const float *x;        /* [H, W, C] */
    float *y;              /* [OH, OW, C] */
    uint32_t *arg;         /* [OH, OW, C]: index into x of each maximum */
    size_t W, C, OW;
    size_t kh, kw, sh, sw; /* window and stride */
} nn_tile_pool;

typedef struct nn_tile_ops {
    const char *name; /* "generic" | "avx2" | "avx512" */
    /* Output pixels r in [r0, r1), c in [c0, c1); all M channels. */
    void (*corr)(const nn_tile_job *j, size_t r0, size_t r1, size_t c0, size_t c1);
    /* Pixels r in [r0, r1), c in [c0, c1) summed into taps t in [t0, t1) of every kernel row. */
    void (*dw)(const nn_tile_job *j, size_t r0, size_t r1, size_t c0, size_t c1, size_t t0,
               size_t t1);
    /* acc[m] += sum_{p < n} y[p*stride + m] for m < M, pixels in order (a bias gradient). */
    void (*colsum)(float *acc, const float *y, size_t n, size_t stride, size_t M);
    /* Output rows [oy0, oy1) of a max pooling with positions. */
    void (*poolmax)(const nn_tile_pool *j, size_t oy0, size_t oy1);
    /* dz[i] = dy[i] * act'(x) from y = act(x): nn_act_grad_output, lane by lane the same
     * operations (so the same bits), for n floats. */
    void (*actgrad)(float *dz, const float *dy, const float *y, size_t n, nn_activation act);
} nn_tile_ops;

/* The table of SIMD level `level`: the `tile` member of that level's convolution table
 * (nn_conv_dispatch.h), else of the nearest level below that has one. */
const nn_tile_ops *nn_tile_ops_at(nn_simd level);

/* The table in use: nn_tile_ops_at(nn_cpu_simd()), the level the forward convolution runs at
 * (NNLAB_SIMD = "generic" | "avx2" | "avx512", nn_cpu.h; tests switch it with
 * nn_cpu_set_simd). */
const nn_tile_ops *nn_tile_pick(void);

#ifdef NN_CPU_X86
/* The AVX-512 level's 8-lane kernels, for layers of at most 8 channels (actgrad: NULL). */
extern const nn_tile_ops nn_tile_avx512_256;
#endif

#endif
