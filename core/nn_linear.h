/* nn_linear.h — a fully connected layer over a batch, forward and backward, for training.
 *
 *   y [B, out] = x [B, in] · W [in, out] + b [out]        (W in the API's [in, out] layout;
 *                                                          torch.nn.Linear's weight is W^T)
 * Backward, given dy = dL/dy [B, out], ADDS into:
 *   dx [B, in]  += dy · W^T           dx[b, i] += sum_j dy[b, j] W[i, j]
 *   dW [in, out] += x^T · dy          dW[i, j] += sum_b x[b, i] dy[b, j]
 *   db [out]    += sum_b dy[b, :]
 * (An activation after the layer is separate: nn_act_backward_output.)
 *
 * The fast functions run the register-tiled kernels of nn_tile.h (the batched convolution's:
 * a linear layer is a 1x1 convolution over B pixels), over both cores when the layer is big
 * enough to pay for it; every SIMD path and thread count gives the same bits (each output is
 * one fixed sequence of fused multiply-adds). The scratch (W padded to whole vectors, or W^T)
 * lives in a caller-kept nn_workspace. The naive references accumulate in double.
 * Errors (field): B, in or out == 0 or their products overflowing ("input"; NN_TOO_LARGE for
 * overflow); NULL buffers the call needs ("output", "input", "weights", "grad_output"). */
#ifndef NN_LINEAR_H
#define NN_LINEAR_H

#include <stddef.h>

#include "nn_conv.h"
#include "nn_status.h"

/* Bytes of workspace the fast forward and backward need (the larger). */
nn_code nn_linear_workspace_size(size_t B, size_t in, size_t out, size_t *bytes, nn_error *err);

/* y: [B, out] written; x: [B, in]; W: [in, out]; b: [out] or NULL (zero);
 * ws: kept by the caller (grown if needed), or NULL (allocated and freed inside). */
nn_code nn_linear_batch_forward(float *y, const float *x, const float *W, const float *b,
                                size_t B, size_t in, size_t out, nn_workspace *ws,
                                nn_error *err);

/* dx: [B, in] or NULL; dW: [in, out] or NULL; db: [out] or NULL — each added into.
 * dy: [B, out]; x: [B, in] (may be NULL when dW is NULL); W: [in, out] (may be NULL when dx
 * is NULL). */
nn_code nn_linear_batch_backward(float *dx, float *dW, float *db, const float *dy,
                                 const float *x, const float *W, size_t B, size_t in,
                                 size_t out, nn_workspace *ws, nn_error *err);

/* The naive references, same contracts, no workspace. */
nn_code nn_linear_batch_forward_naive(float *y, const float *x, const float *W, const float *b,
                                      size_t B, size_t in, size_t out, nn_error *err);
nn_code nn_linear_batch_backward_naive(float *dx, float *dW, float *db, const float *dy,
                                       const float *x, const float *W, size_t B, size_t in,
                                       size_t out, nn_error *err);

#endif
