/* nn_loss.h — softmax cross-entropy over a batch of logits, forward and backward fused, as
 * torch.nn.CrossEntropyLoss() (class targets, mean over the batch):
 *   loss = (1/B) sum_b ( log sum_k exp(z[b, k]) - z[b, t_b] )
 *   dlogits[b, k] += (softmax(z[b])[k] - [k == t_b]) / B
 * Stable for any logits: the row's maximum is subtracted before exp, and the sums, the log
 * and the softmax are computed in double (PyTorch's float32 log_softmax rounds more). A NaN
 * or +inf logit makes its row's loss and gradient NaN, as in PyTorch. */
#ifndef NN_LOSS_H
#define NN_LOSS_H

#include <stddef.h>
#include <stdint.h>

#include "nn_status.h"

/* loss:    the mean loss, or NULL
 * dlogits: [B, K] added into, or NULL
 * correct: the number of rows whose first largest logit is the target (torch.argmax), or NULL
 * logits:  [B, K]
 * target:  [B], each in [0, K)
 * Errors (field): B or K == 0 or B*K overflowing ("logits"), NULL logits ("logits") or target
 * ("target"), a target outside [0, K) ("target"). */
nn_code nn_softmax_ce(double *loss, float *dlogits, size_t *correct, const float *logits,
                      const int32_t *target, size_t B, size_t K, nn_error *err);

#endif
