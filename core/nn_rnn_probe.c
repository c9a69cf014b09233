/* nn_rnn_probe.c — the gradient of the loss at every step of a probe set; see nn_rnn_probe.h. */
#include "nn_rnn_probe.h"

#include <math.h>
#include <string.h>

/* ||g||_2, scaled by the largest |g_j| so that squares of gradients that have vanished to
 * 1e-200 do not underflow to zero. */
static double norm2(const double *g, size_t n) {
    double a = 0.0, s = 0.0;
    for (size_t j = 0; j < n; j++) a = fmax(a, fabs(g[j]));
    if (a == 0.0) return 0.0;
    for (size_t j = 0; j < n; j++) s += (g[j] / a) * (g[j] / a);
    return a * sqrt(s);
}

size_t nn_rnn_probe_select(const nn_seqset *set, size_t n, size_t *idx) {
    size_t k = 0;
    for (size_t i = 0; i < set->count && k < n; i++)
        if (nn_seqset_len(set, i) == set->max_len) idx[k++] = i;
    return k;
}

void nn_rnn_probe_grad_by_step(nn_rnn_model *m, const nn_seqset *set, const size_t *idx,
                               size_t n, double *out) {
    size_t T = nn_seqset_len(set, idx[0]), H = m->hidden;
    memset(out, 0, T * sizeof *out);
    for (size_t k = 0; k < n; k++) {
        const double *x = nn_seqset_x(set, idx[k]);
        double d = nn_rnn_model_forward(m, x, T) - set->y[idx[k]];
        nn_rnn_model_backward_dh(m, x, 2.0 * d);
        for (size_t t = 0; t < T; t++) out[t] += norm2(m->dh + t * H, H);
    }
    for (size_t t = 0; t < T; t++) out[t] /= (double)n;
    nn_rnn_model_zero_grad(m);
}
