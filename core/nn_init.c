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
    }
    return 0.0;
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
    if (fan_in == 0) return nn_fail(err, NN_INVALID, "init", "fan_in must be >= 1");
    double a = nn_init_bound(kind, fan_in, fan_out);
    for (size_t i = 0; i < n; i++) w[i] = (float)draw(rng, kind, a);
    return NN_OK;
}

nn_code nn_init_fill_f64(double *w, size_t n, size_t fan_in, size_t fan_out, nn_init_kind kind,
                         nn_rng *rng, nn_error *err) {
    if (fan_in == 0) return nn_fail(err, NN_INVALID, "init", "fan_in must be >= 1");
    double a = nn_init_bound(kind, fan_in, fan_out);
    for (size_t i = 0; i < n; i++) w[i] = draw(rng, kind, a);
    return NN_OK;
}

nn_code nn_init_parse(const char *name, nn_init_kind *out, nn_error *err) {
    if (!name) return nn_fail(err, NN_INVALID, "init", "init must be a string");
    if (!strcasecmp(name, "he") || !strcasecmp(name, "kaiming")) *out = NN_INIT_HE;
    else if (!strcasecmp(name, "xavier") || !strcasecmp(name, "glorot")) *out = NN_INIT_XAVIER;
    else if (!strcasecmp(name, "uniform")) *out = NN_INIT_UNIFORM;
    else if (!strcasecmp(name, "he_normal") || !strcasecmp(name, "kaiming_normal")) *out = NN_INIT_HE_NORMAL;
    else return nn_fail(err, NN_INVALID, "init", "unknown init '%.40s' (he, xavier, uniform, he_normal)", name);
    return NN_OK;
}

const char *nn_init_name(nn_init_kind kind) {
    switch (kind) {
    case NN_INIT_HE: return "he";
    case NN_INIT_XAVIER: return "xavier";
    case NN_INIT_UNIFORM: return "uniform";
    case NN_INIT_HE_NORMAL: return "he_normal";
    }
    return "?";
}
