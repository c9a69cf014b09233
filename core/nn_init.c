/* nn_init.c — see nn_init.h. */
#include "nn_init.h"

#include <math.h>
#include <strings.h>

double nn_init_bound(nn_init_kind kind, size_t fan_in, size_t fan_out) {
    switch (kind) {
    case NN_INIT_HE: return sqrt(6.0 / (double)fan_in);
    case NN_INIT_XAVIER: return sqrt(6.0 / ((double)fan_in + (double)fan_out));
    case NN_INIT_UNIFORM: return 1.0 / sqrt((double)fan_in);
    }
    return 0.0;
}

nn_code nn_init_fill(float *w, size_t n, size_t fan_in, size_t fan_out, nn_init_kind kind,
                     nn_rng *rng, nn_error *err) {
    if (fan_in == 0) return nn_fail(err, NN_INVALID, "init", "fan_in must be >= 1");
    double a = nn_init_bound(kind, fan_in, fan_out);
    for (size_t i = 0; i < n; i++) w[i] = (float)((2.0 * nn_rng_uniform(rng) - 1.0) * a);
    return NN_OK;
}

nn_code nn_init_fill_f64(double *w, size_t n, size_t fan_in, size_t fan_out, nn_init_kind kind,
                         nn_rng *rng, nn_error *err) {
    if (fan_in == 0) return nn_fail(err, NN_INVALID, "init", "fan_in must be >= 1");
    double a = nn_init_bound(kind, fan_in, fan_out);
    for (size_t i = 0; i < n; i++) w[i] = (2.0 * nn_rng_uniform(rng) - 1.0) * a;
    return NN_OK;
}

nn_code nn_init_parse(const char *name, nn_init_kind *out, nn_error *err) {
    if (!name) return nn_fail(err, NN_INVALID, "init", "init must be a string");
    if (!strcasecmp(name, "he") || !strcasecmp(name, "kaiming")) *out = NN_INIT_HE;
    else if (!strcasecmp(name, "xavier") || !strcasecmp(name, "glorot")) *out = NN_INIT_XAVIER;
    else if (!strcasecmp(name, "uniform")) *out = NN_INIT_UNIFORM;
    else return nn_fail(err, NN_INVALID, "init", "unknown init '%.40s' (he, xavier, uniform)", name);
    return NN_OK;
}

const char *nn_init_name(nn_init_kind kind) {
    switch (kind) {
    case NN_INIT_HE: return "he";
    case NN_INIT_XAVIER: return "xavier";
    case NN_INIT_UNIFORM: return "uniform";
    }
    return "?";
}
