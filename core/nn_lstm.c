/* nn_lstm.c — LSTM cell forward and BPTT; see nn_lstm.h. */
#include "nn_lstm.h"

#include "nn_rnn_affine.h"

#include <math.h>
#include <string.h>

static inline double sigmoid(double a) { return 1.0 / (1.0 + exp(-a)); }

void nn_lstm_forward(double *h, double *c, double *gate, double *tc, const double *x,
                     const double *h0, const double *c0, const double *w_ih, const double *w_hh,
                     const double *b_ih, const double *b_hh, size_t T, size_t I, size_t H) {
    size_t G = 4 * H;
    for (size_t t = 0; t < T; t++) {
        const double *xt = x + t * I;
        const double *hp = t ? h + (t - 1) * H : h0;
        const double *cp = t ? c + (t - 1) * H : c0;
        double *gt = gate + t * G;
        for (size_t j = 0; j < G; j++) {
            double a, b;
            nn_rnn_affine_row(&a, &b, xt, hp, w_ih, w_hh, b_ih, b_hh, j, I, H);
            gt[j] = a + b;
        }
        double *ct = c + t * H, *tct = tc + t * H, *ht = h + t * H;
        for (size_t j = 0; j < H; j++) {
            double i = sigmoid(gt[j]);
            double f = sigmoid(gt[H + j]);
            double g = tanh(gt[2 * H + j]);
            double o = sigmoid(gt[3 * H + j]);
            gt[j] = i;
            gt[H + j] = f;
            gt[2 * H + j] = g;
            gt[3 * H + j] = o;
            ct[j] = (cp ? f * cp[j] : 0.0) + i * g;
            tct[j] = tanh(ct[j]);
            ht[j] = o * tct[j];
        }
    }
}

void nn_lstm_backward(double *dx, double *dh0, double *dc0, double *dw_ih, double *dw_hh,
                      double *db_ih, double *db_hh, const double *dh, const double *x,
                      const double *h0, const double *c0, const double *h, const double *c,
                      const double *gate, const double *tc, const double *w_ih,
                      const double *w_hh, size_t T, size_t I, size_t H, double *scratch) {
    size_t G = 4 * H;
    double *dhn = scratch;        /* [H] dL/dh_{t} arriving from step t+1 */
    double *dcn = scratch + H;    /* [H] dL/dc_{t} arriving from step t+1 */
    double *da = scratch + 2 * H; /* [4H] dL/d(pre-activation gates) */
    memset(dhn, 0, 2 * H * sizeof *dhn);
    for (size_t t = T; t-- > 0;) {
        const double *gt = gate + t * G;
        const double *tct = tc + t * H;
        const double *hp = t ? h + (t - 1) * H : h0;
        const double *cp = t ? c + (t - 1) * H : c0;
        const double *xt = x + t * I;
        const double *dht = dh + t * H;
        for (size_t j = 0; j < H; j++) {
            double i = gt[j], f = gt[H + j], g = gt[2 * H + j], o = gt[3 * H + j];
            double dhj = dht[j] + dhn[j];
            double dcj = dcn[j] + dhj * o * (1.0 - tct[j] * tct[j]);
            double cpj = cp ? cp[j] : 0.0;
            da[j] = dcj * g * i * (1.0 - i);
            da[H + j] = dcj * cpj * f * (1.0 - f);
            da[2 * H + j] = dcj * i * (1.0 - g * g);
            da[3 * H + j] = dhj * tct[j] * o * (1.0 - o);
            dcn[j] = dcj * f;
        }
        memset(dhn, 0, H * sizeof *dhn);
        nn_rnn_affine_backward(dx ? dx + t * I : NULL, dhn, dw_ih, dw_hh, db_ih, db_hh, da, da, xt,
                               hp, w_ih, w_hh, G, I, H);
    }
    if (dh0)
        for (size_t k = 0; k < H; k++) dh0[k] += dhn[k];
    if (dc0)
        for (size_t k = 0; k < H; k++) dc0[k] += dcn[k];
}
