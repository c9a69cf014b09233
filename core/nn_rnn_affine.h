/* nn_rnn_affine.h — the affine part every recurrent cell shares (nn_elman, nn_lstm):
 *   a = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh   (G rows: H for Elman, 4H for LSTM's gates)
 * and its backward for one step. Raw double arrays, PyTorch's weight layout. */
#ifndef NN_RNN_AFFINE_H
#define NN_RNN_AFFINE_H

#include <stddef.h>

/* One step's backward through a: given da = dL/da, adds into the weight and bias gradients and
 * dxt, and WRITES dhp = W_hh^T da (the gradient flowing into h_{t-1}). hp NULL means a zero
 * previous state (no dW_hh contribution). */
void nn_rnn_affine_backward(double *dxt,         /* [I] adds, or NULL */
                            double *dhp,         /* [H] written */
                            double *dw_ih,       /* [G, I] adds */
                            double *dw_hh,       /* [G, H] adds */
                            double *db_ih,       /* [G] adds */
                            double *db_hh,       /* [G] adds */
                            const double *da,    /* [G] */
                            const double *xt,    /* [I] */
                            const double *hp,    /* [H] or NULL */
                            const double *w_ih,  /* [G, I] */
                            const double *w_hh,  /* [G, H] */
                            size_t G, size_t I, size_t H);

#endif
