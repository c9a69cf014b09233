/* nn_mt19937.h — NumPy's legacy random numbers (np.random.seed / rand / randn), bit for bit.
 *
 * A student's notebook draws its kernels with `np.random.seed(s)` and then `np.random.rand(...)`
 * or `np.random.randn(...)`: NumPy's legacy RandomState, a Mersenne Twister (MT19937, Matsumoto
 * and Nishimura 1998) with these exact rules (NumPy 1.17+ keeps them frozen for RandomState):
 *   seed(s), s an integer in [0, 2^32 - 1]: the reference init_genrand —
 *       key[0] = s;  key[i] = 1812433253 * (key[i-1] ^ (key[i-1] >> 30)) + i  (mod 2^32);
 *       the next draw regenerates all 624 words first; the Gaussian cache is emptied.
 *       Any other seed is an error in NumPy ("Seed must be between 0 and 2**32 - 1").
 *   random_sample (rand): a = next32 >> 5, b = next32 >> 6; (a * 2^26 + b) / 2^53, in [0, 1).
 *   gauss (randn): legacy_gauss, the polar Box-Muller method — if a value is cached, return it
 *       and empty the cache; else repeat x1 = 2u1 - 1, x2 = 2u2 - 1, r2 = x1^2 + x2^2 until
 *       0 < r2 < 1 (u from random_sample), f = sqrt(-2 ln(r2) / r2), cache f*x1, return f*x2.
 * A call rand(d0, d1, ...) / randn(...) fills its array in C order, one draw per element, and the
 * cache carries over from one call to the next, so a sequence of calls is one stream of draws:
 * filling a buffer of n values equals any split of it into consecutive calls.
 * The ln and sqrt are the C library's, as NumPy's are (sqrt is exact in IEEE 754; glibc's log is
 * correctly rounded), and the tests compare with values NumPy wrote. */
#ifndef NN_MT19937_H
#define NN_MT19937_H

#include <stddef.h>
#include <stdint.h>

#define NN_MT19937_N 624
#define NN_MT19937_SEED_MAX 0xffffffffull

typedef struct nn_mt19937 {
    uint32_t key[NN_MT19937_N];
    int pos;          /* next word of key; NN_MT19937_N: regenerate first */
    int has_gauss;    /* legacy_gauss's cached second value */
    double gauss;
} nn_mt19937;

/* np.random.seed(seed) for 0 <= seed <= 2^32 - 1 (the caller checks the range). */
void nn_mt19937_seed(nn_mt19937 *mt, uint32_t seed);
/* The next 32-bit output (tempered). */
uint32_t nn_mt19937_next32(nn_mt19937 *mt);
/* One np.random.random_sample() / rand() value in [0, 1). */
double nn_mt19937_random_sample(nn_mt19937 *mt);
/* One np.random.standard_normal() / randn() value (legacy_gauss). */
double nn_mt19937_gauss(nn_mt19937 *mt);

/* np.random.rand(n) / np.random.randn(n) rounded to float32 (what .astype(np.float32) gives):
 * out[0..n) in order. */
void nn_mt19937_rand_f32(nn_mt19937 *mt, float *out, size_t n);
void nn_mt19937_randn_f32(nn_mt19937 *mt, float *out, size_t n);

#endif
