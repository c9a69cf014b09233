/* nn_lstm.h — the LSTM cell exactly as torch.nn.LSTM (gate rows stacked i, f, g, o):
 *   [i f g o] = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh     (each block H rows)
 *   i = sigmoid(i), f = sigmoid(f), g = tanh(g), o = sigmoid(o)
 *   c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)
 * forward over a sequence, and backprop-through-time. Backward ADDS into gradients. */
#ifndef NN_LSTM_H
#define NN_LSTM_H

#include <stddef.h>

/* h0, c0 may be NULL (zeros). The cache (c, gate, tc) is what the backward needs. */
void nn_lstm_forward(double *h,          /* [T, H] out */
                     double *c,          /* [T, H] out: cell states */
                     double *gate,       /* [T, 4H] out: activated gates i, f, g, o */
                     double *tc,         /* [T, H] out: tanh(c_t) */
                     const double *x,    /* [T, I] */
                     const double *h0,   /* [H] or NULL */
                     const double *c0,   /* [H] or NULL */
                     const double *w_ih, /* [4H, I] */
                     const double *w_hh, /* [4H, H] */
                     const double *b_ih, /* [4H] */
                     const double *b_hh, /* [4H] */
                     size_t T, size_t I, size_t H);

/* dh: gradient w.r.t. every h_t. dx, dh0, dc0 may be NULL. scratch: [6H]. */
void nn_lstm_backward(double *dx,          /* [T, I] adds, or NULL */
                      double *dh0,         /* [H] adds, or NULL */
                      double *dc0,         /* [H] adds, or NULL */
                      double *dw_ih,       /* [4H, I] adds */
                      double *dw_hh,       /* [4H, H] adds */
                      double *db_ih,       /* [4H] adds */
                      double *db_hh,       /* [4H] adds */
                      const double *dh,    /* [T, H] */
                      const double *x,     /* [T, I] */
                      const double *h0,    /* [H] or NULL */
                      const double *c0,    /* [H] or NULL */
                      const double *h,     /* [T, H] from the forward */
                      const double *c,     /* [T, H] */
                      const double *gate,  /* [T, 4H] */
                      const double *tc,    /* [T, H] */
                      const double *w_ih,  /* [4H, I] */
                      const double *w_hh,  /* [4H, H] */
                      size_t T, size_t I, size_t H,
                      double *scratch);    /* [6H] */

#endif
