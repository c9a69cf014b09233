/* nn_adding.h — the adding problem, and sets of variable-length sequences.
 *
 * A sample is a sequence of T steps of 2 features (value, marker): values uniform in [0, 1),
 * markers 1 at exactly two distinct positions and 0 elsewhere; the target is the sum of the two
 * marked values. The generator draws, per sample, in this order: T = uniform integer in
 * [min_len, max_len]; the T values; the first marked position a uniform in [0, T-1]; the second
 * b uniform in [0, T-2], shifted up by one if b >= a. Same rng state -> same bytes everywhere.
 *
 * A set stores all samples back to back in ONE allocation: sequence i is the steps
 * x[start[i] .. start[i+1]) (each step 2 doubles) with target y[i]. */
#ifndef NN_ADDING_H
#define NN_ADDING_H

#include <stddef.h>

#include "nn_rng.h"
#include "nn_status.h"

#define NN_ADDING_FEATURES 2

typedef struct nn_seqset {
    size_t count;    /* number of sequences */
    size_t total;    /* total number of steps */
    size_t max_len;  /* longest sequence */
    size_t *start;   /* [count + 1] first step of each sequence; start[count] = total */
    double *x;       /* [total, 2] (value, marker) per step */
    double *y;       /* [count] targets */
    void *block;     /* the single allocation */
} nn_seqset;

/* Generate `count` adding-problem samples. NN_INVALID: count 0 (field "samples"), min_len < 2
 * ("min_length"), max_len < min_len ("max_length"); NN_TOO_LARGE, NN_NOMEM. */
nn_code nn_adding_generate(nn_seqset *set, size_t count, size_t min_len, size_t max_len,
                           nn_rng *rng, nn_error *err);

/* Check a given data set: x [sum(len), 2] (back to back), len [count], y [count].
 * NN_INVALID with field `field` (e.g. "dataset") if an array is missing, count is 0, a length is
 * 0, or a value is not finite (the message names the entry: "dataset[3].x[1][0] is not
 * finite"); NN_TOO_LARGE if the steps' values would not fit in memory's size_t. */
nn_code nn_seqset_check(const double *x, const size_t *len, const double *y, size_t count,
                        const char *field, nn_error *err);

/* Copy a given data set, checked by nn_seqset_check first. */
nn_code nn_seqset_copy(nn_seqset *set, const double *x, const size_t *len, const double *y,
                       size_t count, const char *field, nn_error *err);

void nn_seqset_free(nn_seqset *set);

/* Length of sequence i, and its steps [T, 2]. */
static inline size_t nn_seqset_len(const nn_seqset *s, size_t i) { return s->start[i + 1] - s->start[i]; }
static inline const double *nn_seqset_x(const nn_seqset *s, size_t i) { return s->x + 2 * s->start[i]; }

/* Mean squared error of always predicting `constant` (the baseline uses 1). */
double nn_seqset_constant_mse(const nn_seqset *set, double constant);

#endif
