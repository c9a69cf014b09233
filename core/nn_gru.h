/* nn_gru.h — the GRU cell exactly as torch.nn.GRU (gate rows stacked r, z, n):
 *   r = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)
 *   z = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)
 *   n = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn))
 *   h_t = (1 - z) * n + z * h_{t-1}
 * forward over a sequence, and backprop-through-time. Backward ADDS into gradients. */
#ifndef NN_GRU_H
#define NN_GRU_H

#include <stddef.h>

/* h0 may be NULL (zeros). The cache (gate, hn) is what the backward needs. */
void nn_gru_forward(double *h,          /* [T, H] out */
                    double *gate,       /* [T, 3H] out: activated gates r, z, n */
                    double *hn,         /* [T, H] out: W_hn h_{t-1} + b_hn */
                    const double *x,    /* [T, I] */
                    const double *h0,   /* [H] or NULL */
                    const double *w_ih, /* [3H, I] */
                    const double *w_hh, /* [3H, H] */
                    const double *b_ih, /* [3H] */
                    const double *b_hh, /* [3H] */
                    size_t T, size_t I, size_t H);

/* dh: gradient w.r.t. every h_t. dx, dh0 may be NULL. scratch: [7H]. */
void nn_gru_backward(double *dx,          /* [T, I] adds, or NULL */
                     double *dh0,         /* [H] adds, or NULL */
                     double *dw_ih,       /* [3H, I] adds */
                     double *dw_hh,       /* [3H, H] adds */
                     double *db_ih,       /* [3H] adds */
                     double *db_hh,       /* [3H] adds */
                     const double *dh,    /* [T, H] */
                     const double *x,     /* [T, I] */
                     const double *h0,    /* [H] or NULL */
                     const double *h,     /* [T, H] from the forward */
                     const double *gate,  /* [T, 3H] */
                     const double *hn,    /* [T, H] */
                     const double *w_ih,  /* [3H, I] */
                     const double *w_hh,  /* [3H, H] */
                     size_t T, size_t I, size_t H,
                     double *scratch);    /* [7H] */

#endif
