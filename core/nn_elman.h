/* nn_elman.h — the Elman RNN cell (torch.nn.RNN, tanh), forward over a sequence and its
 * backprop-through-time:
 *   h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),  t = 0 .. T-1,  h_{-1} = h0.
 * Raw double arrays, shapes in the signature; backward ADDS into every gradient it is given. */
#ifndef NN_ELMAN_H
#define NN_ELMAN_H

#include <stddef.h>

/* h0 may be NULL (zeros). */
void nn_elman_forward(double *h,          /* [T, H] out: every hidden state */
                      const double *x,    /* [T, I] */
                      const double *h0,   /* [H] or NULL */
                      const double *w_ih, /* [H, I] */
                      const double *w_hh, /* [H, H] */
                      const double *b_ih, /* [H] */
                      const double *b_hh, /* [H] */
                      size_t T, size_t I, size_t H);

/* dh is the gradient of the loss w.r.t. every h_t (as the forward produced them). dx and dh0
 * may be NULL (not wanted); h0 as in the forward. scratch: [2H]. */
void nn_elman_backward(double *dx,          /* [T, I] adds, or NULL */
                       double *dh0,         /* [H] adds, or NULL */
                       double *dw_ih,       /* [H, I] adds */
                       double *dw_hh,       /* [H, H] adds */
                       double *db_ih,       /* [H] adds */
                       double *db_hh,       /* [H] adds */
                       const double *dh,    /* [T, H] */
                       const double *h,     /* [T, H] from the forward */
                       const double *x,     /* [T, I] */
                       const double *h0,    /* [H] or NULL */
                       const double *w_ih,  /* [H, I] */
                       const double *w_hh,  /* [H, H] */
                       size_t T, size_t I, size_t H,
                       double *scratch);    /* [2H] */

#endif
