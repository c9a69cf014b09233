/* nn_init.c — see nn_init.h. */
#include "nn_init.h"

#include <math.h>
#include <strings.h>

double nn_init_bound(nn_init_kind kind, size_t fan_in, size_t fan_out) {
    switch (kind) {
    case NN_INIT_HE: return sqrt(6.0 / (double)fan_in);
    case NN_INIT_XAVIER: return sqrt(6.0 / ((double)fan_in + (double)fan_out));
    case NN_INIT_UNIFORM: return 1.0 / sqrt((double)fan_in);
    case NN_INIT_HE_NORMAL: return sqrt(2.0 / (double)fan_in);
    case NN_INIT_NUMPY_RAND:
    case NN_INIT_NUMPY_RANDN: return 0.0;
    }
    return 0.0;
}

int nn_init_is_numpy(nn_init_kind kind) {
    return kind == NN_INIT_NUMPY_RAND || kind == NN_INIT_NUMPY_RANDN;
}

nn_code nn_init_numpy_seed(nn_mt19937 *mt, uint64_t seed, nn_error *err) {
    if (seed > NN_MT19937_SEED_MAX)
        return nn_fail(err, NN_INVALID, "seed",
                       "numpy_rand and numpy_randn need a seed between 0 and 2**32 - 1 (NumPy's range); got %llu",
                       (unsigned long long)seed);
    nn_mt19937_seed(mt, (uint32_t)seed);
    return NN_OK;
}

nn_code nn_init_fill_numpy(float *w, size_t n, nn_init_kind kind, nn_mt19937 *mt, nn_error *err) {
    if (kind == NN_INIT_NUMPY_RAND) nn_mt19937_rand_f32(mt, w, n);
    else if (kind == NN_INIT_NUMPY_RANDN) nn_mt19937_randn_f32(mt, w, n);
    else return nn_fail(err, NN_INVALID, "init", "init '%s' does not draw from NumPy's generator", nn_init_name(kind));
    return NN_OK;
}

/* The NumPy kinds need their own generator: a caller that passes one to the nn_rng fillers has
 * forgotten to dispatch on nn_init_is_numpy. */
static nn_code check_rng_kind(nn_init_kind kind, size_t fan_in, nn_error *err) {
    if (nn_init_is_numpy(kind))
        return nn_fail(err, NN_INVALID, "init", "init '%s' draws from NumPy's MT19937, not nn_rng", nn_init_name(kind));
    if (fan_in == 0) return nn_fail(err, NN_INVALID, "init", "fan_in must be >= 1");
    if ((unsigned)kind > (unsigned)NN_INIT_LAST) return nn_fail(err, NN_INVALID, "init", "unknown init");
    return NN_OK;
}

/* A standard normal draw: Marsaglia's polar method, the first value of the pair. */
static double normal(nn_rng *rng) {
    for (;;) {
        double u = 2.0 * nn_rng_uniform(rng) - 1.0, v = 2.0 * nn_rng_uniform(rng) - 1.0;
        double s = u * u + v * v;
        if (s > 0.0 && s < 1.0) return u * sqrt(-2.0 * log(s) / s);
    }
}

/* One value of the scheme, in double. */
static double draw(nn_rng *rng, nn_init_kind kind, double a) {
    if (kind == NN_INIT_HE_NORMAL) return normal(rng) * a;
    return (2.0 * nn_rng_uniform(rng) - 1.0) * a;
}

nn_code nn_init_fill(float *w, size_t n, size_t fan_in, size_t fan_out, nn_init_kind kind,
                     nn_rng *rng, nn_error *err) {
    nn_code c = check_rng_kind(kind, fan_in, err);
    if (c) return c;
    double a = nn_init_bound(kind, fan_in, fan_out);
    for (size_t i = 0; i < n; i++) w[i] = (float)draw(rng, kind, a);
    return NN_OK;
}

nn_code nn_init_fill_f64(double *w, size_t n, size_t fan_in, size_t fan_out, nn_init_kind kind,
                         nn_rng *rng, nn_error *err) {
    nn_code c = check_rng_kind(kind, fan_in, err);
    if (c) return c;
    double a = nn_init_bound(kind, fan_in, fan_out);
    for (size_t i = 0; i < n; i++) w[i] = draw(rng, kind, a);
    return NN_OK;
}

nn_code nn_init_parse(const char *name, nn_init_kind *out, nn_error *err) {
    if (!name) return nn_fail(err, NN_INVALID, "init", "init must be a string");
    if (!strcasecmp(name, "he") || !strcasecmp(name, "kaiming")) *out = NN_INIT_HE;
    else if (!strcasecmp(name, "xavier") || !strcasecmp(name, "glorot")) *out = NN_INIT_XAVIER;
    else if (!strcasecmp(name, "uniform")) *out = NN_INIT_UNIFORM;
    else if (!strcasecmp(name, "numpy_rand")) *out = NN_INIT_NUMPY_RAND;
    else if (!strcasecmp(name, "numpy_randn")) *out = NN_INIT_NUMPY_RANDN;
    else if (!strcasecmp(name, "he_normal") || !strcasecmp(name, "kaiming_normal")) *out = NN_INIT_HE_NORMAL;
    else return nn_fail(err, NN_INVALID, "init", "unknown init '%.40s' (he, xavier, uniform, he_normal, numpy_rand, numpy_randn)", name);
    return NN_OK;
}

const char *nn_init_name(nn_init_kind kind) {
    switch (kind) {
    case NN_INIT_HE: return "he";
    case NN_INIT_XAVIER: return "xavier";
    case NN_INIT_UNIFORM: return "uniform";
    case NN_INIT_HE_NORMAL: return "he_normal";
    case NN_INIT_NUMPY_RAND: return "numpy_rand";
    case NN_INIT_NUMPY_RANDN: return "numpy_randn";
    }
    return "?";
}
