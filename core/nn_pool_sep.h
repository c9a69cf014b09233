/* nn_pool_sep.h — internal: the separable windowed-pooling kernel, which nn_pool.c runs when its
 * cost (nn_pool_work) is below the direct kernels'.
 *
 * A window's max or sum is a reduction over its rows of reductions over each row's kw columns,
 * and a row's reductions serve every output row whose window holds that row. So, for a tile of
 * consecutive output columns, each input row the windows use is reduced once along x (for every
 * output column of the tile: kw operations each), then combined into each output row that
 * holds it (kh per output). An output costs about kh + kw operations per channel instead of
 * kh * kw, and every operation runs over contiguous floats (the tile's outputs and channels
 * together), so a one-channel image is vectorised too.
 *
 * The horizontal reduction goes either kx-outermost over the tile's outputs as one run of floats
 * (the row split first into its stride phases when stride_w > 1, so that consecutive outputs
 * read consecutive floats; up to 4 channels), or output by output (few outputs per tile, or a
 * stride over 1 with more channels).
 *
 * Order and bits. Within a row the columns are combined in kx order, then the rows into the
 * output in ky order: the window's row-major order, grouped by rows. PyTorch's max step
 * `m = (v > m || isnan(v)) ? v : m` over a row-major scan is associative over consecutive
 * pieces, so max pooling gives exactly the direct kernels' and PyTorch's element: the first
 * maximum in row-major order (which sign a zero maximum has), or the last NaN (its payload).
 * The average adds each row's kw values, then the kh row sums onto +0, then multiplies by
 * 1 / (kh * kw): within (kh + kw + 1) float roundings of the exact mean of |x| (the direct
 * kernels: kh * kw + 1), the same bits on every SIMD level, thread count and tiling (but for
 * which NaN a window holding several gives). */
#ifndef NN_POOL_SEP_H
#define NN_POOL_SEP_H

#include <stddef.h>

#include "nn_pool.h"

/* Channels the kernel takes at most (a tile's results for one output live on the stack). */
#define NN_POOL_SEP_MAX_C 4096

/* How an OW x C output is cut into column tiles (a function of the shape alone). */
typedef struct nn_pool_sep_plan {
    size_t per_tile; /* output columns per tile; the last tile holds the rest */
    size_t tiles;    /* ceil(OW / per_tile) */
    int by_kx;       /* the horizontal pass kx-outermost over the tile (else output by output) */
} nn_pool_sep_plan;

nn_pool_sep_plan nn_pool_sep_plan_for(size_t OW, size_t C, const nn_pool_params *p);

/* The kernel's operations for an OH x OW x C output, counted as the kernel does them (the same
 * count on every SIMD level and thread count; nn_pool_work weighs them). A run of L floats
 * through one call counts L - L % 4 vector floats and L % 4 scalar floats (the portable build's
 * 4-lane split) and one call. */
typedef struct nn_pool_sep_ops {
    double vector;  /* floats combined, copied or filled in runs of 4 */
    double scalar;  /* floats combined one at a time */
    double calls;   /* calls over a run, and outputs of a one-channel row reduced one by one */
    double split;   /* pixels (of at most 4 channels) copied into stride phases */
} nn_pool_sep_ops;

nn_pool_sep_ops nn_pool_sep_count(size_t OH, size_t OW, size_t C, const nn_pool_params *p);

/* Column tiles [t0, t1) of plan, every output row, of y [OH, OW, C] from x [H, W, C] (shapes
 * already validated). Returns nonzero when cancelled (nn_cancel.h), those tiles unspecified. */
int nn_pool_sep_tiles(float *y, const float *x, size_t W, size_t C, size_t OH, size_t OW,
                      const nn_pool_params *p, const nn_pool_sep_plan *plan, size_t t0, size_t t1);

#endif
