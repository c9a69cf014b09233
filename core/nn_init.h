/* nn_init.h — deterministic weight initialisation from a seed.
 *
 * All three schemes draw uniformly, so only sqrt (correctly rounded in IEEE 754) is involved and
 * the same seed gives the same bits on every machine:
 *   he:      U(-a, a), a = sqrt(6 / fan_in)               (Kaiming uniform, ReLU gain)
 *   xavier:  U(-a, a), a = sqrt(6 / (fan_in + fan_out))   (Glorot uniform)
 *   uniform: U(-a, a), a = 1 / sqrt(fan_in)               (PyTorch's default for Linear/Conv/RNN)
 * For a kernel bank [N, KH, KW, C]: fan_in = KH*KW*C, fan_out = N*KH*KW. For MLP weights
 * [in, out]: fan_in = in, fan_out = out.
 * One normal scheme, the trainable CNN's default (nn_cnn_net.h):
 *   he_normal: N(0, 2 / fan_in)   (torch.nn.init.kaiming_normal_, fan_in mode, ReLU gain)
 * drawn by Marsaglia's polar method (two uniforms per try, the first of the pair kept). It calls
 * log(), so another C library could round a rare value differently in its last bit. */
#ifndef NN_INIT_H
#define NN_INIT_H

#include <stddef.h>

#include "nn_rng.h"
#include "nn_status.h"

typedef enum nn_init_kind {
    NN_INIT_HE = 0,
    NN_INIT_XAVIER,
    NN_INIT_UNIFORM,
    NN_INIT_HE_NORMAL,
} nn_init_kind;
#define NN_INIT_LAST NN_INIT_HE_NORMAL

/* Fill w[0..n) with the scheme's distribution, drawing from rng in index order.
 * NN_INVALID (field "init") if fan_in is 0. */
nn_code nn_init_fill(float *w, size_t n, size_t fan_in, size_t fan_out, nn_init_kind kind,
                     nn_rng *rng, nn_error *err);
/* The same in double precision (the RNN models train in float64). */
nn_code nn_init_fill_f64(double *w, size_t n, size_t fan_in, size_t fan_out, nn_init_kind kind,
                         nn_rng *rng, nn_error *err);

/* The bound a of U(-a, a) for a uniform scheme; the standard deviation for he_normal. */
double nn_init_bound(nn_init_kind kind, size_t fan_in, size_t fan_out);

/* "he" | "xavier" | "uniform" | "he_normal" (case-insensitive; "kaiming", "glorot",
 * "kaiming_normal" accepted). */
nn_code nn_init_parse(const char *name, nn_init_kind *out, nn_error *err);
const char *nn_init_name(nn_init_kind kind);

#endif
