/* nn_adding.c — the adding-problem generator and sequence sets; see nn_adding.h. */
#include "nn_adding.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* One allocation: start [count+1] (size_t), then x [total*2] and y [count] (double). */
static nn_code seqset_alloc(nn_seqset *set, size_t count, size_t total, const char *field,
                            nn_error *err) {
    memset(set, 0, sizeof *set);
    size_t n_start, n_dbl, b_start, b_dbl, bytes;
    if (nn_size_add(count, 1, &n_start) || nn_size_mul(total, NN_ADDING_FEATURES, &n_dbl) ||
        nn_size_add(n_dbl, count, &n_dbl) || nn_size_mul(n_start, sizeof(size_t), &b_start) ||
        nn_size_mul(n_dbl, sizeof(double), &b_dbl) || nn_size_add(b_start, b_dbl, &bytes))
        return nn_fail(err, NN_TOO_LARGE, field, "%s is too large", field);
    /* Keep the doubles aligned after the size_t array. */
    b_start = (b_start + sizeof(double) - 1) / sizeof(double) * sizeof(double);
    if (nn_size_add(b_start, b_dbl, &bytes))
        return nn_fail(err, NN_TOO_LARGE, field, "%s is too large", field);
    char *block = malloc(bytes ? bytes : 1);
    if (!block) return nn_fail(err, NN_NOMEM, field, "out of memory for %s", field);
    set->block = block;
    set->start = (size_t *)block;
    set->x = (double *)(block + b_start);
    set->y = set->x + total * NN_ADDING_FEATURES;
    set->count = count;
    set->total = total;
    return NN_OK;
}

/* Draw one sample into x [T, 2] (may be NULL to only advance the rng) and return its target. */
static double draw_sample(nn_rng *rng, size_t T, double *x) {
    double vals_a = 0.0, vals_b = 0.0;
    for (size_t t = 0; t < T; t++) {
        double v = nn_rng_uniform(rng);
        if (x) {
            x[2 * t] = v;
            x[2 * t + 1] = 0.0;
        }
    }
    size_t a = (size_t)nn_rng_range(rng, 0, T - 1);
    size_t b = (size_t)nn_rng_range(rng, 0, T - 2);
    if (b >= a) b++;
    if (x) {
        x[2 * a + 1] = 1.0;
        x[2 * b + 1] = 1.0;
        vals_a = x[2 * a];
        vals_b = x[2 * b];
    }
    return vals_a + vals_b;
}

nn_code nn_adding_generate(nn_seqset *set, size_t count, size_t min_len, size_t max_len,
                           nn_rng *rng, nn_error *err) {
    memset(set, 0, sizeof *set);
    if (count == 0) return nn_fail(err, NN_INVALID, "samples", "samples must be >= 1");
    if (min_len < 2)
        return nn_fail(err, NN_INVALID, "min_length",
                       "min_length must be >= 2 (two distinct marked positions)");
    if (max_len < min_len)
        return nn_fail(err, NN_INVALID, "max_length",
                       "max_length (%zu) must be >= min_length (%zu)", max_len, min_len);
    /* First pass on a copy of the rng: the exact number of steps, so one allocation fits. */
    nn_rng probe = *rng;
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        size_t T = (size_t)nn_rng_range(&probe, min_len, max_len);
        if (nn_size_add(total, T, &total))
            return nn_fail(err, NN_TOO_LARGE, "samples", "samples * max_length is too large");
        draw_sample(&probe, T, NULL);
    }
    nn_code rc = seqset_alloc(set, count, total, "samples", err);
    if (rc) return rc;
    size_t off = 0;
    for (size_t i = 0; i < count; i++) {
        size_t T = (size_t)nn_rng_range(rng, min_len, max_len);
        set->start[i] = off;
        set->y[i] = draw_sample(rng, T, set->x + NN_ADDING_FEATURES * off);
        off += T;
        if (T > set->max_len) set->max_len = T;
    }
    set->start[count] = off;
    return NN_OK;
}

nn_code nn_seqset_check(const double *x, const size_t *len, const double *y, size_t count,
                        const char *field, nn_error *err) {
    if (!x || !len || !y || count == 0)
        return nn_fail(err, NN_INVALID, field, "%s must hold at least one {x, y} entry", field);
    size_t total = 0;
    for (size_t i = 0; i < count; i++) {
        if (len[i] == 0)
            return nn_fail(err, NN_INVALID, field, "%s[%zu].x must have at least one step",
                           field, i);
        if (nn_size_add(total, len[i], &total) || total > SIZE_MAX / (2 * sizeof(double)))
            return nn_fail(err, NN_TOO_LARGE, field, "%s is too large", field);
    }
    size_t off = 0;
    for (size_t i = 0; i < count; i++) {
        for (size_t t = 0; t < len[i]; t++)
            for (size_t k = 0; k < NN_ADDING_FEATURES; k++)
                if (!isfinite(x[NN_ADDING_FEATURES * (off + t) + k]))
                    return nn_fail(err, NN_INVALID, field, "%s[%zu].x[%zu][%zu] is not finite",
                                   field, i, t, k);
        if (!isfinite(y[i]))
            return nn_fail(err, NN_INVALID, field, "%s[%zu].y is not finite", field, i);
        off += len[i];
    }
    return NN_OK;
}

nn_code nn_seqset_copy(nn_seqset *set, const double *x, const size_t *len, const double *y,
                       size_t count, const char *field, nn_error *err) {
    memset(set, 0, sizeof *set);
    nn_code rc = nn_seqset_check(x, len, y, count, field, err);
    if (rc) return rc;
    size_t total = 0, maxl = 0;
    for (size_t i = 0; i < count; i++) {
        total += len[i];
        if (len[i] > maxl) maxl = len[i];
    }
    rc = seqset_alloc(set, count, total, field, err);
    if (rc) return rc;
    size_t off = 0;
    for (size_t i = 0; i < count; i++) {
        set->start[i] = off;
        off += len[i];
    }
    set->start[count] = off;
    memcpy(set->x, x, total * NN_ADDING_FEATURES * sizeof *x);
    memcpy(set->y, y, count * sizeof *y);
    set->max_len = maxl;
    return NN_OK;
}

void nn_seqset_free(nn_seqset *set) {
    if (!set) return;
    free(set->block);
    memset(set, 0, sizeof *set);
}

double nn_seqset_constant_mse(const nn_seqset *set, double constant) {
    double s = 0.0;
    for (size_t i = 0; i < set->count; i++) {
        double d = constant - set->y[i];
        s += d * d;
    }
    return set->count ? s / (double)set->count : 0.0;
}
