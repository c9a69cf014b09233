/* nn_conv.h — multi-channel 2-D convolution (cross-correlation, as torch.nn.functional.conv2d),
 * channels-last.
 *
 * One image x [H, W, C] and a bank of N kernel volumes k [N, KH, KW, C] give y [OH, OW, N] with
 *   OH = floor((H + 2*pad_h - KH) / stride_h) + 1,  OW likewise,
 *   y[oy, ox, n] = act(bias[n] + sum_{ky,kx,c} x[oy*sh + ky - ph, ox*sw + kx - pw, c] * k[n, ky, kx, c])
 * with zero padding. A single kernel is N = 1. Caller owns every buffer; the functions never
 * allocate except through the optional workspace. */
#ifndef NN_CONV_H
#define NN_CONV_H

#include <stddef.h>

#include "nn_act.h"
#include "nn_status.h"

typedef struct nn_conv_params {
    size_t stride_h, stride_w; /* >= 1 */
    size_t pad_h, pad_w;       /* zero padding on each side */
    nn_activation act;
} nn_conv_params;

/* A growable scratch buffer that a caller keeps across calls (per model or per thread), so hot
 * paths never allocate fresh pages. Zero-initialise it; release with nn_workspace_free. */
typedef struct nn_workspace {
    void *data;
    size_t size;
} nn_workspace;

/* Make ws hold at least `bytes` (64-byte aligned). NN_NOMEM on failure (ws unchanged). */
nn_code nn_workspace_reserve(nn_workspace *ws, size_t bytes, nn_error *err);
void nn_workspace_free(nn_workspace *ws);

/* Validate shapes and compute the output size. Errors (field): stride 0 ("stride"), kernel
 * dimension 0 ("kernel"), kernel larger than the padded input ("kernel"), zero-sized input
 * ("input"), sizes whose product overflows size_t ("input"/"kernel", NN_TOO_LARGE). */
nn_code nn_conv_output_size(size_t H, size_t W, size_t C, size_t N, size_t KH, size_t KW,
                            const nn_conv_params *p, size_t *OH, size_t *OW, nn_error *err);

/* Bytes of workspace nn_conv2d_forward will use for these shapes (0 when none is needed), so a
 * model can reserve its scratch once up front. Same validation and errors as
 * nn_conv_output_size. */
nn_code nn_conv_workspace_size(size_t H, size_t W, size_t C, size_t N, size_t KH, size_t KW,
                               const nn_conv_params *p, size_t *bytes, nn_error *err);

/* Fast convolution (blocked, SIMD chosen at run time, both cores). 3x3 stride-1 layers with
 * C <= 4 input channels and N a multiple of 64 filters use Winograd F(2x2, 3x3), which rounds
 * differently from the direct sum (within 1e-5 of the float64 reference on unit-scale data,
 * like the rest; about 1.5-2x the direct sum's error on larger data);
 * every SIMD path gives the same bits for the same call either way.
 * y:      [OH, OW, N] output, written
 * x:      [H, W, C]   input
 * k:      [N, KH, KW, C] kernels
 * bias:   [N] or NULL (zero)
 * ws:     scratch reused across calls, or NULL (then allocated and freed inside).
 * Cancellable (nn_cancel.h): NN_CANCELLED, field "cancelled", y unspecified. */
nn_code nn_conv2d_forward(float *y, const float *x, const float *k, const float *bias,
                          size_t H, size_t W, size_t C, size_t N, size_t KH, size_t KW,
                          const nn_conv_params *p, nn_workspace *ws, nn_error *err);

/* The naive direct loop nest, kept as the reference for the fast kernel; same contract. */
nn_code nn_conv2d_naive(float *y, const float *x, const float *k, const float *bias,
                        size_t H, size_t W, size_t C, size_t N, size_t KH, size_t KW,
                        const nn_conv_params *p, nn_error *err);

/* Number of floating-point operations (2 per multiply-add) of a convolution, for reporting. */
double nn_conv_flops(size_t OH, size_t OW, size_t N, size_t KH, size_t KW, size_t C);

#endif
