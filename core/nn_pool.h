/* nn_pool.h — max and average pooling (windowed, per channel) and global pooling, channels-last.
 *
 * Windowed pooling of x [H, W, C] gives y [OH, OW, C] with no padding and ceil_mode off, exactly
 * torch.nn.functional.max_pool2d / avg_pool2d:
 *   OH = floor((H - size_h) / stride_h) + 1,  OW = floor((W - size_w) / stride_w) + 1,
 *   y[oy, ox, c] = max / mean over ky < size_h, kx < size_w of x[oy*sh + ky, ox*sw + kx, c].
 * A 2-D map [H, W] is C = 1. The average divides by size_h*size_w. NaN behaves as in PyTorch:
 * max pooling propagates NaN (a window holding a NaN gives NaN), the average does too.
 *
 * Global pooling of x [H, W, C] gives y [C]: the mean or the max over all H*W positions of each
 * channel, as torch's adaptive_{avg,max}_pool2d(x, 1). The mean adds every pixel into a double
 * (in fixed pixel chunks, then the chunks in order), so it neither overflows nor loses small
 * values next to big ones, however large the map.
 *
 * Caller owns every buffer; nothing allocates. Big inputs are split over the cores with
 * nn_parallel_for. The fast kernels use AVX-512 at that SIMD level (nn_cpu.h; below it, e.g.
 * NNLAB_SIMD=generic or avx2, the SSE kernels); every path and every thread count gives the
 * same bits. */
#ifndef NN_POOL_H
#define NN_POOL_H

#include <stddef.h>

#include "nn_status.h"

typedef enum nn_pool_kind { NN_POOL_MAX = 0, NN_POOL_AVG } nn_pool_kind;

typedef struct nn_pool_params {
    nn_pool_kind kind;
    size_t size_h, size_w;     /* window, >= 1 */
    size_t stride_h, stride_w; /* >= 1 (the API's default is stride = size) */
} nn_pool_params;

/* "max" | "average" (also "avg", "mean"), case-insensitive. NN_INVALID, field "function". */
nn_code nn_pool_parse(const char *name, nn_pool_kind *out, nn_error *err);
/* Canonical name: "max" or "average". */
const char *nn_pool_name(nn_pool_kind kind);

/* Validate and compute OH, OW. Errors (field): unknown kind ("function"), size 0 ("size"),
 * stride 0 ("stride"), H, W or C == 0 ("input"), window larger than the input ("size"),
 * H*W*C overflowing size_t ("input", NN_TOO_LARGE). */
nn_code nn_pool_output_size(size_t H, size_t W, size_t C, const nn_pool_params *p, size_t *OH,
                            size_t *OW, nn_error *err);

/* The work of a windowed pooling, for a work budget: one operation (a compare or an add) per
 * window element of every output value, OH * OW * C * size_h * size_w. */
double nn_pool_work(size_t OH, size_t OW, size_t C, const nn_pool_params *p);
/* The work of a global pooling: one operation per input value, H * W * C. */
double nn_global_pool_work(size_t H, size_t W, size_t C);

/* Fast windowed pooling (SIMD over channels, both cores for big inputs). Cancellable
 * (nn_cancel.h): NN_CANCELLED, field "cancelled", y unspecified.
 * y: [OH, OW, C] written;  x: [H, W, C]. Same validation as nn_pool_output_size. */
nn_code nn_pool2d_forward(float *y, const float *x, size_t H, size_t W, size_t C,
                          const nn_pool_params *p, nn_error *err);

/* The naive loop nest, the reference for nn_pool2d_forward; same contract. */
nn_code nn_pool2d_naive(float *y, const float *x, size_t H, size_t W, size_t C,
                        const nn_pool_params *p, nn_error *err);

/* Backward: dx [H, W, C] += gradient of the pooling given dy [OH, OW, C] and the forward input
 * x. Max sends each dy to the first maximum of its window (PyTorch's choice; a NaN counts as
 * the maximum); average spreads dy / (size_h*size_w) over the window. Serial. */
nn_code nn_pool2d_backward(float *dx, const float *dy, const float *x, size_t H, size_t W,
                           size_t C, const nn_pool_params *p, nn_error *err);

/* Global pooling: y [C] written; x [H, W, C]. Errors: unknown kind ("function"), zero sizes
 * ("input"), overflow ("input", NN_TOO_LARGE), NN_CANCELLED as nn_pool2d_forward. */
nn_code nn_global_pool_forward(float *y, const float *x, size_t H, size_t W, size_t C,
                               nn_pool_kind kind, nn_error *err);

/* The naive reference for nn_global_pool_forward; same contract. */
nn_code nn_global_pool_naive(float *y, const float *x, size_t H, size_t W, size_t C,
                             nn_pool_kind kind, nn_error *err);

#endif
