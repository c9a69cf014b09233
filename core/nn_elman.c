/* nn_elman.c — Elman RNN cell forward and BPTT; see nn_elman.h. */
#include "nn_elman.h"

#include <math.h>
#include <string.h>

#include "nn_rnn_affine.h"

void nn_elman_forward(double *h, const double *x, const double *h0, const double *w_ih,
                      const double *w_hh, const double *b_ih, const double *b_hh, size_t T, size_t I,
                      size_t H) {
    for (size_t t = 0; t < T; t++) {
        const double *xt = x + t * I;
        const double *hp = t ? h + (t - 1) * H : h0;
        double *ht = h + t * H;
        for (size_t j = 0; j < H; j++) {
            double a, b;
            nn_rnn_affine_row(&a, &b, xt, hp, w_ih, w_hh, b_ih, b_hh, j, I, H);
            ht[j] = tanh(a + b);
        }
    }
}

void nn_elman_backward(double *dx, double *dh0, double *dw_ih, double *dw_hh, double *db_ih,
                       double *db_hh, const double *dh, const double *h, const double *x,
                       const double *h0, const double *w_ih, const double *w_hh, size_t T, size_t I,
                       size_t H, double *scratch) {
    double *dnext = scratch;    /* [H] gradient flowing into h_{t} from step t+1 */
    double *da = scratch + H;   /* [H] gradient w.r.t. the pre-activation */
    memset(dnext, 0, H * sizeof *dnext);
    for (size_t t = T; t-- > 0;) {
        const double *ht = h + t * H;
        const double *hp = t ? h + (t - 1) * H : h0;
        const double *xt = x + t * I;
        const double *dht = dh + t * H;
        for (size_t j = 0; j < H; j++) da[j] = (dht[j] + dnext[j]) * (1.0 - ht[j] * ht[j]);
        memset(dnext, 0, H * sizeof *dnext);
        nn_rnn_affine_backward(dx ? dx + t * I : NULL, dnext, dw_ih, dw_hh, db_ih, db_hh, da, da,
                               xt, hp, w_ih, w_hh, H, I, H);
    }
    if (dh0)
        for (size_t k = 0; k < H; k++) dh0[k] += dnext[k];
}
