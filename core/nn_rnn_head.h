/* nn_rnn_head.h — the linear head on the last hidden state (torch.nn.Linear) and the MSE loss
 * (torch.nn.MSELoss, mean reduction). Backward ADDS into gradients. */
#ifndef NN_RNN_HEAD_H
#define NN_RNN_HEAD_H

#include <stddef.h>

/* y[o] = sum_k w[o, k] h[k] + b[o]. */
void nn_rnn_head_forward(double *y,       /* [O] out */
                         const double *h, /* [H] */
                         const double *w, /* [O, H] */
                         const double *b, /* [O] */
                         size_t H, size_t O);

void nn_rnn_head_backward(double *dh,       /* [H] adds, or NULL */
                          double *dw,       /* [O, H] adds */
                          double *db,       /* [O] adds */
                          const double *dy, /* [O] */
                          const double *h,  /* [H] */
                          const double *w,  /* [O, H] */
                          size_t H, size_t O);

/* mean over n of (pred - target)^2 */
double nn_rnn_mse_forward(const double *pred, const double *target, size_t n);
/* dpred[i] += 2 (pred[i] - target[i]) / n */
void nn_rnn_mse_backward(double *dpred, const double *pred, const double *target, size_t n);

#endif
