/* nn_rng.h — a small deterministic random number generator (xoshiro256**, seeded by splitmix64).
 *
 * Same seed -> same sequence on every machine and compiler: integer arithmetic only, and the
 * float/double conversions take the top 24/53 bits, exactly representable. Everything random in
 * nnlab (filter init, MLP weights, RNN init, adding-problem data) draws from one of these. */
#ifndef NN_RNG_H
#define NN_RNG_H

#include <stdint.h>

typedef struct nn_rng {
    uint64_t s[4];
} nn_rng;

void nn_rng_seed(nn_rng *rng, uint64_t seed);
uint64_t nn_rng_u64(nn_rng *rng);
/* Uniform in [0, 1): 53 random bits / 2^53. */
double nn_rng_uniform(nn_rng *rng);
/* Uniform in [0, 1) as float: 24 random bits / 2^24. */
float nn_rng_uniformf(nn_rng *rng);
/* Uniform integer in [lo, hi] (inclusive), unbiased (rejection sampling). Requires lo <= hi. */
uint64_t nn_rng_range(nn_rng *rng, uint64_t lo, uint64_t hi);

#endif
