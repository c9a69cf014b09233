/* nn_mt19937.c — MT19937 with NumPy's legacy seeding and draws; see nn_mt19937.h. */
#include "nn_mt19937.h"

#include <math.h>

/* No fused multiply-add: x1*x1 + x2*x2 must round twice, as in NumPy's build. gcc does not
 * contract in ISO C mode (-std=c11); clang does by default on FMA targets unless told. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define MT_M 397
#define MATRIX_A 0x9908b0dfu
#define UPPER_MASK 0x80000000u
#define LOWER_MASK 0x7fffffffu

void nn_mt19937_seed(nn_mt19937 *mt, uint32_t seed) {
    uint32_t s = seed;
    for (int i = 0; i < NN_MT19937_N; i++) {
        mt->key[i] = s;
        s = 1812433253u * (s ^ (s >> 30)) + (uint32_t)(i + 1);
    }
    mt->pos = NN_MT19937_N;
    mt->has_gauss = 0;
    mt->gauss = 0.0;
}

/* Regenerate all 624 words (the reference genrand's block step). */
static void refill(nn_mt19937 *mt) {
    uint32_t *k = mt->key, y;
    int i;
    for (i = 0; i < NN_MT19937_N - MT_M; i++) {
        y = (k[i] & UPPER_MASK) | (k[i + 1] & LOWER_MASK);
        k[i] = k[i + MT_M] ^ (y >> 1) ^ ((y & 1u) ? MATRIX_A : 0u);
    }
    for (; i < NN_MT19937_N - 1; i++) {
        y = (k[i] & UPPER_MASK) | (k[i + 1] & LOWER_MASK);
        k[i] = k[i + (MT_M - NN_MT19937_N)] ^ (y >> 1) ^ ((y & 1u) ? MATRIX_A : 0u);
    }
    y = (k[NN_MT19937_N - 1] & UPPER_MASK) | (k[0] & LOWER_MASK);
    k[NN_MT19937_N - 1] = k[MT_M - 1] ^ (y >> 1) ^ ((y & 1u) ? MATRIX_A : 0u);
    mt->pos = 0;
}

uint32_t nn_mt19937_next32(nn_mt19937 *mt) {
    if (mt->pos >= NN_MT19937_N) refill(mt);
    uint32_t y = mt->key[mt->pos++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

double nn_mt19937_random_sample(nn_mt19937 *mt) {
    /* The order of the two draws matters: a first (27 bits), then b (26 bits). */
    uint32_t a = nn_mt19937_next32(mt) >> 5;
    uint32_t b = nn_mt19937_next32(mt) >> 6;
    return ((double)a * 67108864.0 + (double)b) / 9007199254740992.0;
}

double nn_mt19937_gauss(nn_mt19937 *mt) {
    if (mt->has_gauss) {
        double v = mt->gauss;
        mt->has_gauss = 0;
        mt->gauss = 0.0;
        return v;
    }
    double x1, x2, r2;
    do {
        x1 = 2.0 * nn_mt19937_random_sample(mt) - 1.0;
        x2 = 2.0 * nn_mt19937_random_sample(mt) - 1.0;
        r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    double f = sqrt(-2.0 * log(r2) / r2);
    mt->gauss = f * x1;
    mt->has_gauss = 1;
    return f * x2;
}

void nn_mt19937_rand_f32(nn_mt19937 *mt, float *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = (float)nn_mt19937_random_sample(mt);
}

void nn_mt19937_randn_f32(nn_mt19937 *mt, float *out, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = (float)nn_mt19937_gauss(mt);
}
