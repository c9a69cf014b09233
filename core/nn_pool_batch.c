/* nn_pool_batch.c — batched pooling forward (with the max's position) and backward; see
 * nn_pool_batch.h. Forwards without argmax are nn_pool.c's fast kernels image by image, with
 * argmax nn_tile's poolmax kernel (SIMD over channels); the backward is a scatter, or plain
 * loops with channels innermost where it finds the maxima again (window_max, also the
 * reference poolmax is tested against). Images are shared out over the threads. */
#include "nn_pool_batch.h"

#include <math.h>
#include <string.h>

#include "nn_cancel.h"
#include "nn_parallel.h"
#include "nn_tile.h"

/* Input floats touched below which a call stays on one thread. */
#define NN_PB_PAR_MIN ((size_t)1 << 16)

typedef struct pb_job {
    float *y, *dx;
    uint32_t *argmax;
    const float *x, *dy;
    const uint32_t *amax;
    size_t H, W, C, OH, OW; /* global pooling: OH = OW = 1 */
    nn_pool_params p;       /* global pooling: the whole map, kind */
} pb_job;

static void for_images(size_t B, size_t image_floats, nn_parallel_fn fn, pb_job *j) {
    if (B * image_floats < NN_PB_PAR_MIN || B < 2 || nn_parallel_threads() < 2) fn(j, 0, B, 0);
    else nn_parallel_for(B, 1, fn, j);
}

/* The max of window (oy, ox) of image x over channels [c0, c0 + n) into m [n], and its
 * positions (indices into the image) into id [n]: PyTorch's rule, `v > m || isnan(v)` takes
 * v, scanning the window row by row. */
static void window_max(const pb_job *j, const float *restrict x, size_t c0, size_t n, size_t oy,
                       size_t ox, float *restrict m, uint32_t *restrict id) {
    const size_t C = j->C, W = j->W;
    const size_t first = (oy * j->p.stride_h * W + ox * j->p.stride_w) * C + c0;
    for (size_t c = 0; c < n; c++) {
        m[c] = -INFINITY;
        id[c] = (uint32_t)(first + c);
    }
    for (size_t ky = 0; ky < j->p.size_h; ky++)
        for (size_t kx = 0; kx < j->p.size_w; kx++) {
            const size_t at = first + (ky * W + kx) * C;
            const float *xp = x + at;
            for (size_t c = 0; c < n; c++) {
                float v = xp[c], cur = m[c];
                uint32_t i = id[c];
                int take = v > cur || v != v;
                m[c] = take ? v : cur;
                id[c] = take ? (uint32_t)(at + c) : i;
            }
        }
}

/* Row by row, looking at the cancel flag every NN_CANCEL_EVERY compared floats. */
static void fwd_argmax(void *ctx, size_t b0, size_t b1, size_t worker) {
    (void)worker;
    const pb_job *j = ctx;
    const nn_tile_ops *ops = nn_tile_pick();
    const size_t in = j->H * j->W * j->C, out = j->OH * j->OW * j->C;
    const size_t row = j->OW * j->p.size_h * j->p.size_w * j->C;
    size_t meter = 0;
    for (size_t b = b0; b < b1; b++) {
        nn_tile_pool t = {j->x + b * in, j->y + b * out, j->argmax + b * out, j->W, j->C, j->OW,
                          j->p.size_h, j->p.size_w, j->p.stride_h, j->p.stride_w};
        for (size_t oy = 0; oy < j->OH; oy++) {
            if (nn_cancel_tick(&meter, row)) return;
            ops->poolmax(&t, oy, oy + 1);
        }
    }
}

static nn_code finish(nn_error *err) {
    return nn_cancelled() ? nn_fail(err, NN_CANCELLED, "cancelled", "pooling was cancelled") : NN_OK;
}

static nn_code check_image(size_t B, size_t H, size_t W, size_t C, const void *argmax, nn_error *err) {
    if (B == 0) return nn_fail(err, NN_INVALID, "batch", "batch size must be >= 1");
    size_t dims[4] = {B, H, W, C}, n;
    if (nn_size_prod(dims, 4, &n) || nn_size_mul(n, sizeof(float), &n))
        return nn_fail(err, NN_TOO_LARGE, "input", "a batch of %zu maps %zux%zux%zu is too large", B, H, W, C);
    if (argmax && H * W * C > UINT32_MAX)
        return nn_fail(err, NN_TOO_LARGE, "input", "map %zux%zux%zu is too large for argmax indices", H, W, C);
    return NN_OK;
}

nn_code nn_pool_batch_forward(float *y, uint32_t *argmax, const float *x, size_t B, size_t H,
                              size_t W, size_t C, const nn_pool_params *p, nn_error *err) {
    size_t OH, OW;
    nn_code rc = nn_pool_output_size(H, W, C, p, &OH, &OW, err);
    if (rc) return rc;
    rc = check_image(B, H, W, C, argmax, err);
    if (rc) return rc;
    if (!y || !x) return nn_fail(err, NN_INVALID, !y ? "output" : "input", "buffers must not be NULL");
    if (p->kind != NN_POOL_MAX || !argmax) {
        for (size_t b = 0; b < B; b++) {
            rc = nn_pool2d_forward(y + b * OH * OW * C, x + b * H * W * C, H, W, C, p, err);
            if (rc) return rc;
        }
        return NN_OK;
    }
    pb_job j = {.y = y, .argmax = argmax, .x = x, .H = H, .W = W, .C = C, .OH = OH, .OW = OW, .p = *p};
    for_images(B, H * W * C, fwd_argmax, &j);
    return finish(err);
}

/* dx of image b from its argmax (or the window maxima found again from x), or spread evenly. */
static void bwd_images(void *ctx, size_t b0, size_t b1, size_t worker) {
    (void)worker;
    const pb_job *j = ctx;
    const size_t C = j->C, in = j->H * j->W * C, out = j->OH * j->OW * C;
    const float div = (float)(j->p.size_h * j->p.size_w);
    const size_t window = j->p.size_h * j->p.size_w * C;
    size_t meter = 0;
    for (size_t b = b0; b < b1; b++) {
        float *dx = j->dx + b * in;
        const float *dy = j->dy + b * out;
        if (j->p.kind == NN_POOL_MAX && j->amax) {
            if (nn_cancel_tick(&meter, out)) return;
            const uint32_t *id = j->amax + b * out;
            for (size_t o = 0; o < out; o++) dx[id[o]] += dy[o];
            continue;
        }
        for (size_t oy = 0; oy < j->OH; oy++)
            for (size_t ox = 0; ox < j->OW; ox++) {
                if (nn_cancel_tick(&meter, window)) return;
                const float *g = dy + (oy * j->OW + ox) * C;
                if (j->p.kind == NN_POOL_MAX) {
                    float m[64];
                    uint32_t id[64];
                    for (size_t c0 = 0; c0 < C; c0 += 64) { /* 64 channels at a time */
                        size_t n = C - c0 < 64 ? C - c0 : 64;
                        window_max(j, j->x + b * in, c0, n, oy, ox, m, id);
                        for (size_t c = 0; c < n; c++) dx[id[c]] += g[c0 + c];
                    }
                    continue;
                }
                for (size_t ky = 0; ky < j->p.size_h; ky++)
                    for (size_t kx = 0; kx < j->p.size_w; kx++) {
                        float *d = dx + ((oy * j->p.stride_h + ky) * j->W + ox * j->p.stride_w + kx) * C;
                        for (size_t c = 0; c < C; c++) d[c] += g[c] / div; /* torch divides */
                    }
            }
    }
}

/* Per window element, per window row and per output value (a block of 64 channels for the
 * max), in work-budget units (0.02 ns): CPU times of the backward without argmax on one thread,
 * 10 shapes (1 to 128 channels, windows 2x2 to 128x1), the portable and AVX-512 levels alike;
 * the max's compare-and-select chain 2.3-3.9 ns an element plus ~16 ns a window, the average's
 * division 0.82 ns an element (2.6 in a window one column wide, rows apart in memory). */
static const double W_SCAN[2][3] = {{150.0, 0.0, 800.0}, {45.0, 100.0, 0.0}};

double nn_pool_batch_scan_work(size_t OH, size_t OW, size_t C, const nn_pool_params *p) {
    const double *w = W_SCAN[p->kind == NN_POOL_AVG];
    double px = (double)OH * (double)OW, rows = px * (double)p->size_h;
    double blocks = p->kind == NN_POOL_AVG ? (double)C : (double)((C + 63) / 64);
    return w[0] * rows * (double)p->size_w * (double)C + w[1] * rows * (double)C + w[2] * px * blocks;
}

/* The forward with argmax, per window and per block of 8 channels (the SIMD width of nn_tile's
 * 256-bit levels): a fixed cost, higher for a partly filled block (masked loads and stores),
 * plus one per window element. CPU times of 14 shapes (1 to 64 channels, windows 2x2 to 14x14,
 * batches of 64) on one thread, AVX-512 and AVX2 alike, are 0.3-0.95 of this count. */
#define W_ARGMAX_BLOCK 250.0
#define W_ARGMAX_PART 1000.0
#define W_ARGMAX_ELEM 95.0
/* The backward's scatter through argmax, per output value (25-97 measured). */
#define W_SCATTER 100.0

double nn_pool_batch_forward_work(size_t OH, size_t OW, size_t C, const nn_pool_params *p, int argmax) {
    if (p->kind != NN_POOL_MAX || !argmax) return nn_pool_work(OH, OW, C, p);
    double full = (double)(C / 8), part = C % 8 ? 1.0 : 0.0, window = (double)p->size_h * (double)p->size_w;
    double per_window = full * (W_ARGMAX_BLOCK + W_ARGMAX_ELEM * window) + part * (W_ARGMAX_PART + W_ARGMAX_ELEM * window);
    return (double)OH * (double)OW * per_window;
}

double nn_pool_batch_backward_work(size_t OH, size_t OW, size_t C, const nn_pool_params *p, int argmax) {
    if (p->kind == NN_POOL_MAX && argmax) return W_SCATTER * (double)OH * (double)OW * (double)C;
    return nn_pool_batch_scan_work(OH, OW, C, p);
}

nn_code nn_pool_batch_backward(float *dx, const float *dy, const uint32_t *argmax,
                               const float *x, size_t B, size_t H, size_t W, size_t C,
                               const nn_pool_params *p, nn_error *err) {
    size_t OH, OW;
    nn_code rc = nn_pool_output_size(H, W, C, p, &OH, &OW, err);
    if (rc) return rc;
    rc = check_image(B, H, W, C, NULL, err);
    if (rc) return rc;
    if (!dx || !dy) return nn_fail(err, NN_INVALID, !dx ? "output" : "grad_output", "buffers must not be NULL");
    if (p->kind == NN_POOL_MAX && !argmax && !x)
        return nn_fail(err, NN_INVALID, "input", "max pooling's backward needs argmax or the input");
    pb_job j = {.dx = dx, .x = x, .dy = dy, .amax = argmax, .H = H, .W = W, .C = C, .OH = OH, .OW = OW, .p = *p};
    for_images(B, H * W * C, bwd_images, &j);
    return finish(err);
}

/* ---- global pooling: one window covering the whole map ---- */

static nn_code check_global(size_t B, size_t H, size_t W, size_t C, nn_pool_kind kind,
                            const void *argmax, nn_error *err) {
    if (kind != NN_POOL_MAX && kind != NN_POOL_AVG)
        return nn_fail(err, NN_INVALID, "function", "unknown pooling function");
    if (H == 0 || W == 0 || C == 0) return nn_fail(err, NN_INVALID, "input", "input must be non-empty");
    return check_image(B, H, W, C, argmax, err);
}

static pb_job global_job(size_t H, size_t W, size_t C, nn_pool_kind kind) {
    return (pb_job){.H = H, .W = W, .C = C, .OH = 1, .OW = 1, .p = {kind, H, W, 1, 1}};
}

nn_code nn_global_pool_batch_forward(float *y, uint32_t *argmax, const float *x, size_t B,
                                     size_t H, size_t W, size_t C, nn_pool_kind kind,
                                     nn_error *err) {
    nn_code rc = check_global(B, H, W, C, kind, argmax, err);
    if (rc) return rc;
    if (!y || !x) return nn_fail(err, NN_INVALID, !y ? "output" : "input", "buffers must not be NULL");
    if (kind != NN_POOL_MAX || !argmax) {
        for (size_t b = 0; b < B; b++) {
            rc = nn_global_pool_forward(y + b * C, x + b * H * W * C, H, W, C, kind, err);
            if (rc) return rc;
        }
        return NN_OK;
    }
    pb_job j = global_job(H, W, C, kind);
    j.y = y, j.argmax = argmax, j.x = x;
    for_images(B, H * W * C, fwd_argmax, &j);
    return finish(err);
}

nn_code nn_global_pool_batch_backward(float *dx, const float *dy, const uint32_t *argmax,
                                      const float *x, size_t B, size_t H, size_t W, size_t C,
                                      nn_pool_kind kind, nn_error *err) {
    nn_code rc = check_global(B, H, W, C, kind, NULL, err);
    if (rc) return rc;
    if (!dx || !dy) return nn_fail(err, NN_INVALID, !dx ? "output" : "grad_output", "buffers must not be NULL");
    if (kind == NN_POOL_MAX && !argmax && !x)
        return nn_fail(err, NN_INVALID, "input", "max pooling's backward needs argmax or the input");
    pb_job j = global_job(H, W, C, kind);
    j.dx = dx, j.dy = dy, j.amax = argmax, j.x = x;
    for_images(B, H * W * C, bwd_images, &j);
    return finish(err);
}

double nn_global_pool_batch_forward_work(size_t H, size_t W, size_t C, nn_pool_kind kind, int argmax) {
    if (kind != NN_POOL_MAX || !argmax) return nn_global_pool_work(H, W, C);
    pb_job j = global_job(H, W, C, kind);
    return nn_pool_batch_forward_work(1, 1, C, &j.p, argmax);
}

double nn_global_pool_batch_backward_work(size_t H, size_t W, size_t C, nn_pool_kind kind, int argmax) {
    pb_job j = global_job(H, W, C, kind);
    return nn_pool_batch_backward_work(1, 1, C, &j.p, argmax);
}
