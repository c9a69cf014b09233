/* nn_pool_batch.h — pooling over a batch, forward and backward, for training. Channels-last,
 * batch-major: x [B, H, W, C] -> y [B, OH, OW, C] (windowed, nn_pool.h's sizes and rules) or
 * y [B, C] (global).
 *
 * Max pooling sends each output's gradient to the position its forward took the maximum from:
 * the first maximum in the window's scan order (row by row), a NaN counting as the maximum
 * (a later NaN replaces an earlier one), exactly torch's max_pool2d / adaptive_max_pool2d.
 * The forward can record that position (argmax: an index into the image's [H, W, C] floats,
 * one per output) so the backward is a scatter; given argmax == NULL the backward finds it
 * again from x. Overlapping windows (stride < size) add their gradients where they share a
 * maximum. Average pooling spreads dy / (size_h * size_w) over the window; global average
 * pooling dy / (H * W) over the map.
 *
 * Backward ADDS into dx [B, H, W, C] (zero it first for a plain gradient). Work is split over
 * the images (both cores when the batch is big enough); results never depend on the thread
 * count. The per-image references are nn_pool2d_naive / nn_pool2d_backward (nn_pool.h) and
 * nn_global_pool_naive. Errors (field): those of nn_pool_output_size; B == 0 ("batch");
 * an image of more than 2^32 floats with argmax ("input", NN_TOO_LARGE); unknown kind
 * ("function"); NULL buffers ("input", "output", "grad_output"). */
#ifndef NN_POOL_BATCH_H
#define NN_POOL_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "nn_pool.h"
#include "nn_status.h"

/* y: [B, OH, OW, C] written; argmax: [B, OH, OW, C] written (max pooling only), or NULL;
 * x: [B, H, W, C]. */
nn_code nn_pool_batch_forward(float *y, uint32_t *argmax, const float *x, size_t B, size_t H,
                              size_t W, size_t C, const nn_pool_params *p, nn_error *err);

/* The work, for a work budget (nn_pool.h's units: a convolution flop is one), of the backward
 * of one image without argmax: every window scanned again for its maximum, or every window
 * element given its share of the average (scalar loops over OH * OW * size_h * size_w * C
 * elements, measured at 0.8-8 ns an element: far more than the forward's kernels). */
double nn_pool_batch_scan_work(size_t OH, size_t OW, size_t C, const nn_pool_params *p);

/* The work (nn_pool.h's units) of one image's forward and backward through the kernels above,
 * for a training run's estimate: with argmax (training's max pooling) the forward's SIMD
 * window scan and the backward's scatter; without, nn_pool_work's kernel and
 * nn_pool_batch_scan_work's loops. The counts are of the AVX2 and AVX-512 levels; the
 * portable level's window scan is scalar and costs several times more. */
double nn_pool_batch_forward_work(size_t OH, size_t OW, size_t C, const nn_pool_params *p, int argmax);
double nn_pool_batch_backward_work(size_t OH, size_t OW, size_t C, const nn_pool_params *p, int argmax);

/* dx: [B, H, W, C] added into; dy: [B, OH, OW, C]; argmax: the forward's, or NULL (then max
 * pooling needs x: [B, H, W, C]; average pooling needs neither). */
nn_code nn_pool_batch_backward(float *dx, const float *dy, const uint32_t *argmax,
                               const float *x, size_t B, size_t H, size_t W, size_t C,
                               const nn_pool_params *p, nn_error *err);

/* Global pooling: y [B, C] written (the mean or max of each image's channel over its H*W
 * pixels; the mean as nn_global_pool_forward computes it); argmax [B, C] (max only) or NULL. */
nn_code nn_global_pool_batch_forward(float *y, uint32_t *argmax, const float *x, size_t B,
                                     size_t H, size_t W, size_t C, nn_pool_kind kind,
                                     nn_error *err);

/* dx: [B, H, W, C] added into; dy: [B, C]; argmax as above (or NULL: max needs x). */
nn_code nn_global_pool_batch_backward(float *dx, const float *dy, const uint32_t *argmax,
                                      const float *x, size_t B, size_t H, size_t W, size_t C,
                                      nn_pool_kind kind, nn_error *err);

/* The same for global pooling over an [H, W, C] image. */
double nn_global_pool_batch_forward_work(size_t H, size_t W, size_t C, nn_pool_kind kind, int argmax);
double nn_global_pool_batch_backward_work(size_t H, size_t W, size_t C, nn_pool_kind kind, int argmax);

#endif
