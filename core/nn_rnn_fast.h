/* nn_rnn_fast.h — the recurrent cells specialised for training on sequence regression: the
 * state starts at zero and the loss sees only the last hidden state. These are the kernels the
 * model (nn_rnn_model.c) runs; nn_elman.h / nn_lstm.h / nn_gru.h are the general reference cells
 * (any h0/c0, a gradient on every h_t, dx; PyTorch's weight layout, libm's exp/tanh) they are
 * tested against (test_rnn_fast.c).
 *
 * What makes them fast: the weights are held TRANSPOSED, weight_ih as w_ihT [I, G*H] and
 * weight_hh as w_hhT [H, G*H] (and so are their gradients), so every matrix-vector product and
 * outer product is an axpy over the G*H contiguous gate rows; activations use the vectorizable
 * exp of nn_rnn_math.h instead of libm calls; no branches inside the loops; an AVX2 build picked
 * at run time and a constant-size build for the assignment's I = 2, H = 6 (bit-identical to the
 * generic one). Same maths and gate order as the reference cells; results agree to ~1e-15.
 * Backward ADDS into the gradients. scratch: NN_RNN_FAST_SCRATCH(H) doubles for every kernel.
 * Each backward can also keep dh_seq [T, H]: dh_seq[t] = dL/dh_t, the gradient reaching hidden
 * state t from everything after it (for the LSTM with c_t as a separate variable: what PyTorch's
 * h_t.grad holds) — the backprop through time computes it anyway; NULL keeps nothing. dh_seq
 * may be the same array as dh_last (row 0 is written last, after dh_last has been read).
 * Cancellable (nn_cancel.h): every 64 time steps the thread's cancel flag is looked at, and
 * once it is set the kernel returns at once, its outputs unspecified (the caller checks
 * nn_cancelled() afterwards). */
#ifndef NN_RNN_FAST_H
#define NN_RNN_FAST_H

#include <stddef.h>

#define NN_RNN_FAST_SCRATCH(H) (16 * (H))

/* Elman: h [T, H] out; x [T, I]; w_ihT [I, H]; w_hhT [H, H]; b_ih, b_hh [H]. */
void nn_rnn_fast_forward(double *h, const double *x, const double *w_ihT, const double *w_hhT,
                         const double *b_ih, const double *b_hh, size_t T, size_t I, size_t H,
                         double *scratch);
/* dh_last [H]: gradient w.r.t. h_{T-1} only; h [T, H] from the forward.
 * dw_ihT [I, H], dw_hhT [H, H], db_ih, db_hh [H] add; dh_seq [T, H] out or NULL. */
void nn_rnn_fast_backward(double *dw_ihT, double *dw_hhT, double *db_ih, double *db_hh,
                          double *dh_seq, const double *dh_last, const double *h, const double *x,
                          const double *w_hhT, size_t T, size_t I, size_t H, double *scratch);

/* LSTM: h, c, tc [T, H] out (tc = tanh(c)); gate [T, 4H] out (activated i, f, g, o);
 * w_ihT [I, 4H]; w_hhT [H, 4H]; b_ih, b_hh [4H]. */
void nn_lstm_fast_forward(double *h, double *c, double *gate, double *tc, const double *x,
                          const double *w_ihT, const double *w_hhT, const double *b_ih,
                          const double *b_hh, size_t T, size_t I, size_t H, double *scratch);
/* dw_ihT [I, 4H], dw_hhT [H, 4H], db_ih, db_hh [4H] add; dh_seq [T, H] out or NULL. */
void nn_lstm_fast_backward(double *dw_ihT, double *dw_hhT, double *db_ih, double *db_hh,
                           double *dh_seq, const double *dh_last, const double *x,
                           const double *h, const double *c, const double *gate,
                           const double *tc, const double *w_hhT, size_t T, size_t I, size_t H,
                           double *scratch);

/* GRU: h [T, H] out; gate [T, 3H] out (activated r, z, n); hn [T, H] out (W_hn h + b_hn);
 * w_ihT [I, 3H]; w_hhT [H, 3H]; b_ih, b_hh [3H]. */
void nn_gru_fast_forward(double *h, double *gate, double *hn, const double *x,
                         const double *w_ihT, const double *w_hhT, const double *b_ih,
                         const double *b_hh, size_t T, size_t I, size_t H, double *scratch);
/* dw_ihT [I, 3H], dw_hhT [H, 3H], db_ih, db_hh [3H] add; dh_seq [T, H] out or NULL. */
void nn_gru_fast_backward(double *dw_ihT, double *dw_hhT, double *db_ih, double *db_hh,
                          double *dh_seq, const double *dh_last, const double *x, const double *h,
                          const double *gate, const double *hn, const double *w_hhT, size_t T,
                          size_t I, size_t H, double *scratch);

#endif
