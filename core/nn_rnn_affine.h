/* nn_rnn_affine.h — the affine part every recurrent cell shares (nn_elman, nn_lstm, nn_gru):
 *   a = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh   (G rows: H for Elman, 4H for LSTM's gates, 3H
 *   for GRU's, which keeps the two halves apart)
 * one row of it forward, and its backward for one step. Raw double arrays, PyTorch's weight
 * layout. */
#ifndef NN_RNN_AFFINE_H
#define NN_RNN_AFFINE_H

#include <stddef.h>

/* Row j of the two halves: *a = W_ih[j] . x_t + b_ih[j] and *b = W_hh[j] . h_{t-1} + b_hh[j]
 * (b_hh[j] alone when hp is NULL, a zero previous state), each summed from its bias up, in k
 * order (the reference kernels' order, which the fast kernels are tested against). */
static inline void nn_rnn_affine_row(double *a, double *b, const double *xt, const double *hp,
                                     const double *w_ih, const double *w_hh, const double *b_ih,
                                     const double *b_hh, size_t j, size_t I, size_t H) {
    const double *wi = w_ih + j * I;
    double s = b_ih[j];
    for (size_t k = 0; k < I; k++) s += wi[k] * xt[k];
    double u = b_hh[j];
    if (hp) {
        const double *wh = w_hh + j * H;
        for (size_t k = 0; k < H; k++) u += wh[k] * hp[k];
    }
    *a = s;
    *b = u;
}

/* One step's backward through the two halves: given da_ih = dL/d(W_ih x_t + b_ih) and
 * da_hh = dL/d(W_hh h_{t-1} + b_hh) (the same array for Elman and LSTM, which only use their
 * sum), adds into the weight and bias gradients, dxt, and dhp (W_hh^T da_hh, the gradient
 * flowing into h_{t-1}). hp NULL means a zero previous state (no dW_hh contribution). */
void nn_rnn_affine_backward(double *dxt,         /* [I] adds, or NULL */
                            double *dhp,         /* [H] adds */
                            double *dw_ih,       /* [G, I] adds */
                            double *dw_hh,       /* [G, H] adds */
                            double *db_ih,       /* [G] adds */
                            double *db_hh,       /* [G] adds */
                            const double *da_ih, /* [G] */
                            const double *da_hh, /* [G] */
                            const double *xt,    /* [I] */
                            const double *hp,    /* [H] or NULL */
                            const double *w_ih,  /* [G, I] */
                            const double *w_hh,  /* [G, H] */
                            size_t G, size_t I, size_t H);

#endif
