/* nn_softmax.h — numerically stable softmax over a vector, as torch.softmax(x, dim=0).
 *
 * p[i] = exp(x[i] - max x) / sum_j exp(x[j] - max x); the max is subtracted so large logits
 * never overflow, and the sum is accumulated in double. A NaN anywhere (or +inf, since
 * inf - inf is NaN) gives NaN everywhere, as in PyTorch. */
#ifndef NN_SOFTMAX_H
#define NN_SOFTMAX_H

#include <stddef.h>

/* p: [n] written; x: [n]. p == x (in place) is allowed. n == 0 does nothing. */
void nn_softmax_forward(float *p, const float *x, size_t n);

/* Backward: dx[i] += p[i] * (dp[i] - sum_j dp[j] p[j]), given the forward output p [n]. */
void nn_softmax_backward(float *dx, const float *dp, const float *p, size_t n);

#endif
