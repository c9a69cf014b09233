/* nn_softmax.c — see nn_softmax.h. */
#include "nn_softmax.h"

#include <math.h>

void nn_softmax_forward(float *p, const float *x, size_t n) {
    if (n == 0) return;
    float mx = x[0];
    int nan = isnan(x[0]);
    for (size_t i = 1; i < n; i++) {
        if (x[i] > mx) mx = x[i];
        nan |= isnan(x[i]);
    }
    if (nan) {
        for (size_t i = 0; i < n; i++) p[i] = NAN;
        return;
    }
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) {
        float e = expf(x[i] - mx); /* x - max <= 0: never overflows; inf - inf gives NaN */
        p[i] = e;
        sum += e;
    }
    for (size_t i = 0; i < n; i++) p[i] = (float)(p[i] / sum);
}

void nn_softmax_backward(float *dx, const float *dp, const float *p, size_t n) {
    double dot = 0.0;
    for (size_t i = 0; i < n; i++) dot += (double)dp[i] * p[i];
    for (size_t i = 0; i < n; i++) dx[i] += p[i] * (float)(dp[i] - dot);
}
