/* nn_rnn_head.c — linear head and MSE; see nn_rnn_head.h. */
#include "nn_rnn_head.h"

void nn_rnn_head_forward(double *y, const double *h, const double *w, const double *b, size_t H,
                         size_t O) {
    for (size_t o = 0; o < O; o++) {
        double s = 0.0;
        for (size_t k = 0; k < H; k++) s += w[o * H + k] * h[k];
        y[o] = s + b[o];
    }
}

void nn_rnn_head_backward(double *dh, double *dw, double *db, const double *dy, const double *h,
                          const double *w, size_t H, size_t O) {
    for (size_t o = 0; o < O; o++) {
        db[o] += dy[o];
        for (size_t k = 0; k < H; k++) {
            dw[o * H + k] += dy[o] * h[k];
            if (dh) dh[k] += w[o * H + k] * dy[o];
        }
    }
}

double nn_rnn_mse_forward(const double *pred, const double *target, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = pred[i] - target[i];
        s += d * d;
    }
    return n ? s / (double)n : 0.0;
}

void nn_rnn_mse_backward(double *dpred, const double *pred, const double *target, size_t n) {
    for (size_t i = 0; i < n; i++) dpred[i] += 2.0 * (pred[i] - target[i]) / (double)n;
}
