/* nn_gru.c — GRU cell forward and BPTT; see nn_gru.h. */
#include "nn_gru.h"

#include <math.h>
#include <string.h>

#include "nn_rnn_affine.h"

static inline double sigmoid(double a) { return 1.0 / (1.0 + exp(-a)); }

void nn_gru_forward(double *h, double *gate, double *hn, const double *x, const double *h0,
                    const double *w_ih, const double *w_hh, const double *b_ih,
                    const double *b_hh, size_t T, size_t I, size_t H) {
    size_t G = 3 * H;
    for (size_t t = 0; t < T; t++) {
        const double *xt = x + t * I;
        const double *hp = t ? h + (t - 1) * H : h0;
        double *gt = gate + t * G;
        double *hnt = hn + t * H;
        double *ht = h + t * H;
        for (size_t j = 0; j < H; j++) {
            double gi[3], gh[3];
            for (size_t q = 0; q < 3; q++)
                nn_rnn_affine_row(&gi[q], &gh[q], xt, hp, w_ih, w_hh, b_ih, b_hh, q * H + j, I, H);
            double r = sigmoid(gi[0] + gh[0]);
            double z = sigmoid(gi[1] + gh[1]);
            double n = tanh(gi[2] + r * gh[2]);
            gt[j] = r;
            gt[H + j] = z;
            gt[2 * H + j] = n;
            hnt[j] = gh[2];
            ht[j] = (1.0 - z) * n + z * (hp ? hp[j] : 0.0);
        }
    }
}

void nn_gru_backward(double *dx, double *dh0, double *dw_ih, double *dw_hh, double *db_ih,
                     double *db_hh, const double *dh, const double *x, const double *h0,
                     const double *h, const double *gate, const double *hn,
                     const double *w_ih, const double *w_hh, size_t T, size_t I, size_t H,
                     double *scratch) {
    size_t G = 3 * H;
    double *dhn = scratch;            /* [H] dL/dh_t arriving from step t+1 */
    double *dai = scratch + H;        /* [3H] dL/d(input-side pre-activations) */
    double *dah = scratch + 4 * H;    /* [3H] dL/d(hidden-side pre-activations) */
    memset(dhn, 0, H * sizeof *dhn);
    for (size_t t = T; t-- > 0;) {
        const double *gt = gate + t * G;
        const double *hnt = hn + t * H;
        const double *hp = t ? h + (t - 1) * H : h0;
        const double *xt = x + t * I;
        const double *dht = dh + t * H;
        for (size_t j = 0; j < H; j++) {
            double r = gt[j], z = gt[H + j], n = gt[2 * H + j];
            double hpj = hp ? hp[j] : 0.0;
            double dhj = dht[j] + dhn[j];
            double dan = dhj * (1.0 - z) * (1.0 - n * n);
            double daz = dhj * (hpj - n) * z * (1.0 - z);
            double dar = dan * hnt[j] * r * (1.0 - r);
            dai[j] = dar;
            dai[H + j] = daz;
            dai[2 * H + j] = dan;
            dah[j] = dar;
            dah[H + j] = daz;
            dah[2 * H + j] = dan * r;
            dhn[j] = dhj * z; /* the direct path; W_hh^T dah is added below */
        }
        nn_rnn_affine_backward(dx ? dx + t * I : NULL, dhn, dw_ih, dw_hh, db_ih, db_hh, dai, dah,
                               xt, hp, w_ih, w_hh, G, I, H);
    }
    if (dh0)
        for (size_t k = 0; k < H; k++) dh0[k] += dhn[k];
}
