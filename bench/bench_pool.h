/* bench_pool.h — the pooling case shared by the benchmarks that time nn_pool2d_forward
 * (bench_net, bench_pool_cost). Header-only, like bench.h. */
#ifndef NN_BENCH_POOL_H
#define NN_BENCH_POOL_H

#include <stdlib.h>

#include "nn_pool.h"

typedef struct pool_ctx {
    float *y;       /* [Ho, Wo, C] */
    const float *x; /* [H, W, C] */
    size_t H, W, C;
    nn_pool_params p;
} pool_ctx;

/* One pooling forward pass (a bench_run callback); a refused shape aborts the benchmark. */
static inline void bench_run_pool(void *ctx) {
    pool_ctx *c = ctx;
    if (nn_pool2d_forward(c->y, c->x, c->H, c->W, c->C, &c->p, NULL)) abort();
}

#endif
