/* nn_rnn_affine.c — the shared affine step's backward; see nn_rnn_affine.h. */
#include "nn_rnn_affine.h"

#include <string.h>

void nn_rnn_affine_backward(double *dxt, double *dhp, double *dw_ih, double *dw_hh, double *db_ih,
                            double *db_hh, const double *da_ih, const double *da_hh,
                            const double *xt, const double *hp, const double *w_ih,
                            const double *w_hh, size_t G, size_t I, size_t H) {
    for (size_t j = 0; j < G; j++) {
        db_ih[j] += da_ih[j];
        db_hh[j] += da_hh[j];
        double *gwi = dw_ih + j * I;
        for (size_t k = 0; k < I; k++) gwi[k] += da_ih[j] * xt[k];
        if (hp) {
            double *gwh = dw_hh + j * H;
            for (size_t k = 0; k < H; k++) gwh[k] += da_hh[j] * hp[k];
        }
    }
    if (dxt)
        for (size_t j = 0; j < G; j++)
            for (size_t k = 0; k < I; k++) dxt[k] += w_ih[j * I + k] * da_ih[j];
    for (size_t j = 0; j < G; j++) {
        const double *wh = w_hh + j * H;
        for (size_t k = 0; k < H; k++) dhp[k] += wh[k] * da_hh[j];
    }
}
