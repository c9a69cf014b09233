/* nn_init.h — deterministic weight initialisation from a seed.
 *
 * All three schemes draw uniformly, so only sqrt (correctly rounded in IEEE 754) is involved and
 * the same seed gives the same bits on every machine:
 *   he:      U(-a, a), a = sqrt(6 / fan_in)               (Kaiming uniform, ReLU gain)
 *   xavier:  U(-a, a), a = sqrt(6 / (fan_in + fan_out))   (Glorot uniform)
 *   uniform: U(-a, a), a = 1 / sqrt(fan_in)               (PyTorch's default for Linear/Conv/RNN)
 * For a kernel bank [N, KH, KW, C]: fan_in = KH*KW*C, fan_out = N*KH*KW. For MLP weights
 * [in, out]: fan_in = in, fan_out = out.
 *
 * Two more kinds give exactly what a NumPy notebook draws (nn_mt19937.h), rounded to float32:
 *   numpy_rand:  np.random.rand(...)   U[0, 1)      (no scaling: fan_in and fan_out are unused)
 *   numpy_randn: np.random.randn(...)  N(0, 1)
 * They draw from NumPy's MT19937 seeded as np.random.seed(seed), not from nn_rng: filling a
 * buffer in index order equals NumPy's calls one after another over the same buffer (a bank
 * [N, KH, KW, C] filled at once is N calls randn(KH, KW, C), in order).
 * One normal scheme draws from nn_rng too, the trainable CNN's default (nn_cnn_net.h):
 *   he_normal: N(0, 2 / fan_in)   (torch.nn.init.kaiming_normal_, fan_in mode, ReLU gain)
 * by Marsaglia's polar method (two uniforms per try, the first of the pair kept). It calls
 * log(), so another C library could round a rare value differently in its last bit. */
#ifndef NN_INIT_H
#define NN_INIT_H

#include <stddef.h>

#include "nn_mt19937.h"
#include "nn_rng.h"
#include "nn_status.h"

typedef enum nn_init_kind {
    NN_INIT_HE = 0,
    NN_INIT_XAVIER,
    NN_INIT_UNIFORM,
    NN_INIT_NUMPY_RAND,
    NN_INIT_NUMPY_RANDN,
    NN_INIT_HE_NORMAL,
} nn_init_kind;
#define NN_INIT_LAST NN_INIT_HE_NORMAL

/* Fill w[0..n) with the scheme's distribution, drawing from rng in index order.
 * NN_INVALID (field "init") if fan_in is 0, or for a NumPy kind (see nn_init_fill_numpy). */
nn_code nn_init_fill(float *w, size_t n, size_t fan_in, size_t fan_out, nn_init_kind kind,
                     nn_rng *rng, nn_error *err);
/* The same in double precision (the RNN models train in float64). */
nn_code nn_init_fill_f64(double *w, size_t n, size_t fan_in, size_t fan_out, nn_init_kind kind,
                         nn_rng *rng, nn_error *err);

/* The bound a of U(-a, a) for a uniform scheme, the standard deviation for he_normal (0 for
 * the NumPy kinds). */
double nn_init_bound(nn_init_kind kind, size_t fan_in, size_t fan_out);

/* 1 for numpy_rand and numpy_randn (they draw from an nn_mt19937), else 0. */
int nn_init_is_numpy(nn_init_kind kind);
/* np.random.seed(seed) into mt: NN_INVALID (field "seed") unless 0 <= seed <= 2^32 - 1, the range
 * NumPy accepts. */
nn_code nn_init_numpy_seed(nn_mt19937 *mt, uint64_t seed, nn_error *err);
/* Fill w[0..n) with np.random.rand / np.random.randn draws from mt, in index order, rounded to
 * float32. NN_INVALID (field "init") for a kind that is not a NumPy one. */
nn_code nn_init_fill_numpy(float *w, size_t n, nn_init_kind kind, nn_mt19937 *mt, nn_error *err);

/* "he" | "xavier" | "uniform" | "he_normal" | "numpy_rand" | "numpy_randn" (case-insensitive;
 * "kaiming", "glorot", "kaiming_normal" accepted). */
nn_code nn_init_parse(const char *name, nn_init_kind *out, nn_error *err);
const char *nn_init_name(nn_init_kind kind);

#endif
