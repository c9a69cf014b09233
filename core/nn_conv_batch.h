/* nn_conv_batch.h — a convolution layer over a batch of images, forward and backward, for
 * training. Channels-last and batch-major: x [B, H, W, C], kernels k [N, KH, KW, C], bias [N],
 * y [B, OH, OW, N] with nn_conv.h's maths, image by image:
 *   z[b, oy, ox, n] = bias[n] + sum_{ky, kx, c} x[b, oy*sh + ky - ph, ox*sw + kx - pw, c] k[n, ky, kx, c]
 *   y = act(z)      (zero padding; OH = floor((H + 2ph - KH) / sh) + 1, OW likewise)
 *
 * Backward takes dy = dL/dy [B, OH, OW, N] and the forward's output y, and ADDS into the
 * gradients (docs/backward.md derives them):
 *   dz = dy * act'(z), computed from y as PyTorch does (see nn_act_backward_output)
 *   dx[b, iy, ix, c] += sum_{oy, ox, n, ky, kx : iy = oy*sh + ky - ph, ix = ox*sw + kx - pw}
 *                           dz[b, oy, ox, n] k[n, ky, kx, c]
 *     (for stride 1: the full correlation of dz with the flipped kernels, k transposed to
 *      [C, KH, KW, N]; for larger strides the same over dz with sh-1 / sw-1 zeros between rows
 *      and columns)
 *   dk[n, ky, kx, c] += sum_{b, oy, ox} dz[b, oy, ox, n] x[b, oy*sh + ky - ph, ox*sw + kx - pw, c]
 *   db[n]            += sum_{b, oy, ox} dz[b, oy, ox, n]
 * Input pixels no window covers (when (H + 2ph - KH) is not a multiple of sh) get no gradient.
 *
 * The fast functions use the register-tiled kernels of nn_tile.h (AVX-512, AVX2 or portable C,
 * the forward convolution's NNLAB_SIMD rule) over both cores: work is cut into units of an
 * image or a band of rows, the weight gradient of each fixed group of units is summed into its
 * own partial buffer and the partials are added in order at the end. So every SIMD path and
 * every thread count gives the same bits (the bit contract of nn_tile.h). The results agree
 * with the naive references (double accumulation) within float rounding, not to the bit, and
 * the forward may differ in the last bits from nn_conv2d_forward (another summation order).
 *
 * Scratch lives in a caller-kept nn_workspace (nn_conv.h): reserve it once with the size
 * nn_conv_batch_workspace_size gives (or let the first call grow it); nothing else allocates.
 * Errors (field): those of nn_conv_output_size; B == 0 ("batch"); sizes overflowing
 * ("input", NN_TOO_LARGE); a leaky ReLU with a negative slope in backward ("negative_slope":
 * z cannot be told from y then, as in PyTorch's in-place leaky_relu); NULL buffers that the
 * call needs ("output", "input", "kernel", "grad_output"). */
#ifndef NN_CONV_BATCH_H
#define NN_CONV_BATCH_H

#include <stddef.h>

#include "nn_conv.h"
#include "nn_status.h"

/* Bytes of workspace nn_conv_batch_forward and nn_conv_batch_backward need for these shapes
 * with the current thread count (the larger of the two), so a model can reserve it up front. */
nn_code nn_conv_batch_workspace_size(size_t B, size_t H, size_t W, size_t C, size_t N, size_t KH,
                                     size_t KW, const nn_conv_params *p, size_t *bytes,
                                     nn_error *err);

/* y:    [B, OH, OW, N] written (the activation applied)
 * x:    [B, H, W, C]
 * k:    [N, KH, KW, C]
 * bias: [N] or NULL (zero)
 * ws:   scratch kept by the caller (grown if needed), or NULL (allocated and freed inside) */
nn_code nn_conv_batch_forward(float *y, const float *x, const float *k, const float *bias,
                              size_t B, size_t H, size_t W, size_t C, size_t N, size_t KH,
                              size_t KW, const nn_conv_params *p, nn_workspace *ws,
                              nn_error *err);

/* dx: [B, H, W, C] added into, or NULL (not wanted: the first layer)
 * dk: [N, KH, KW, C] added into, or NULL
 * db: [N] added into, or NULL
 * dy: [B, OH, OW, N] the loss's gradient with respect to y
 * y:  [B, OH, OW, N] the forward's output (may be NULL for the identity activation)
 * x:  [B, H, W, C] the forward's input (may be NULL when dk is NULL)
 * k:  [N, KH, KW, C] (may be NULL when dx is NULL) */
nn_code nn_conv_batch_backward(float *dx, float *dk, float *db, const float *dy, const float *y,
                               const float *x, const float *k, size_t B, size_t H, size_t W,
                               size_t C, size_t N, size_t KH, size_t KW, const nn_conv_params *p,
                               nn_workspace *ws, nn_error *err);

/* The naive references (the direct loop nests, double accumulation), same contracts; no
 * workspace. */
nn_code nn_conv_batch_forward_naive(float *y, const float *x, const float *k, const float *bias,
                                    size_t B, size_t H, size_t W, size_t C, size_t N, size_t KH,
                                    size_t KW, const nn_conv_params *p, nn_error *err);
nn_code nn_conv_batch_backward_naive(float *dx, float *dk, float *db, const float *dy,
                                     const float *y, const float *x, const float *k, size_t B,
                                     size_t H, size_t W, size_t C, size_t N, size_t KH, size_t KW,
                                     const nn_conv_params *p, nn_error *err);

#endif
