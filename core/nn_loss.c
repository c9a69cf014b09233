/* nn_loss.c — fused softmax cross-entropy; see nn_loss.h. */
#include "nn_loss.h"

#include <math.h>

nn_code nn_softmax_ce(double *loss, float *dlogits, size_t *correct, const float *logits,
                      const int32_t *target, size_t B, size_t K, nn_error *err) {
    size_t n;
    if (B == 0 || K == 0 || nn_size_mul(B, K, &n) || !logits)
        return nn_fail(err, NN_INVALID, "logits", "logits must be a non-empty [batch, classes] array");
    if (!target) return nn_fail(err, NN_INVALID, "target", "target must not be NULL");
    for (size_t b = 0; b < B; b++)
        if (target[b] < 0 || (size_t)target[b] >= K)
            return nn_fail(err, NN_INVALID, "target", "target[%zu] = %d is not a class index in [0, %zu)", b,
                           (int)target[b], K);
    double total = 0.0;
    size_t right = 0;
    for (size_t b = 0; b < B; b++) {
        const float *z = logits + b * K;
        size_t best = 0;
        for (size_t k = 1; k < K; k++)
            if (z[k] > z[best]) best = k;
        right += best == (size_t)target[b];
        double m = z[best], s = 0.0;
        int nan = 0;
        for (size_t k = 0; k < K; k++) nan |= isnan(z[k]);
        if (nan) m = NAN; /* z[best] is not the max when NaNs hide it */
        for (size_t k = 0; k < K; k++) s += exp((double)z[k] - m); /* +inf - inf: NaN, as torch */
        /* (m - z_t) + log s, not (m + log s) - z_t: next to logits of 1e38 the log would vanish */
        total += (m - z[target[b]]) + log(s);
        if (!dlogits) continue;
        float *d = dlogits + b * K;
        for (size_t k = 0; k < K; k++)
            d[k] += (float)((exp((double)z[k] - m) / s - (k == (size_t)target[b])) / (double)B);
    }
    if (loss) *loss = total / (double)B;
    if (correct) *correct = right;
    return NN_OK;
}
