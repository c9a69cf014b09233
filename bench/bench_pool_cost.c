/* bench_pool_cost.c — how well the pooling work count (nn_pool_work, the work budget's) predicts
 * the time: for shapes from 1 to 64 channels, small to 2048-wide windows, both kinds, each run
 * on one thread at the portable SIMD level (the level the weights were fitted at) and at the
 * CPU's own, one JSON line: the kernel chosen, its count in convolution-flop units, and
 * "ns_per_unit" (0.02 when the count is exact on the reference machine). A kernel change that
 * moves ns_per_unit away from 0.02 needs the weights in core/nn_pool.c refitted
 * (docs/reliability.md#pooling-work). */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "bench_pool.h"
#include "nn_cpu.h"
#include "nn_parallel.h"
#include "nn_pool.h"
#include "nn_rng.h"

int main(void) {
    static const size_t shapes[][7] = {
        /* H, W, C, kh, kw, sh, sw */
        {1024, 1024, 1, 150, 150, 1, 1}, {1024, 1024, 1, 512, 512, 1, 1}, {1024, 1024, 3, 128, 128, 1, 1},
        {2048, 256, 1, 32, 128, 32, 1},  {512, 512, 16, 100, 100, 1, 1},  {2048, 2048, 1, 300, 300, 3, 5},
        {1024, 1024, 4, 64, 64, 2, 2},   {512, 512, 32, 8, 8, 1, 1},      {512, 512, 64, 3, 3, 1, 1},
        {1024, 1024, 16, 4, 4, 1, 1},    {2048, 2048, 3, 3, 3, 1, 1},     {1024, 1024, 16, 2, 2, 2, 2},
    };
    nn_parallel_set_threads(1);
    nn_rng r;
    nn_rng_seed(&r, 1);
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const size_t *s = shapes[i];
        pool_ctx c = {NULL, NULL, s[0], s[1], s[2], {NN_POOL_MAX, s[3], s[4], s[5], s[6]}};
        size_t OH, OW;
        if (nn_pool_output_size(c.H, c.W, c.C, &c.p, &OH, &OW, NULL)) abort();
        float *x = malloc(c.H * c.W * c.C * sizeof *x), *y = malloc(OH * OW * c.C * sizeof *y);
        if (!x || !y) abort();
        for (size_t k = 0; k < c.H * c.W * c.C; k++) x[k] = nn_rng_uniformf(&r);
        c.x = x;
        c.y = y;
        for (int kind = 0; kind < 2; kind++) {
            c.p.kind = kind ? NN_POOL_AVG : NN_POOL_MAX;
            double units = nn_pool_work(OH, OW, c.C, &c.p);
            const char *kernel =
                nn_pool_kernel_for(OH, OW, c.C, &c.p) == NN_POOL_KERNEL_SEPARABLE ? "separable" : "direct";
            for (int level = 0; level < 2; level++) {
                nn_cpu_set_simd(level ? NN_SIMD_AUTO : NN_SIMD_GENERIC);
                double ms = bench_run(bench_run_pool, &c, 1).min;
                printf("{\"op\": \"pool_cost\", \"shape\": \"%zux%zux%zu k%zux%zu s%zux%zu %s\", "
                       "\"simd\": \"%s\", \"kernel\": \"%s\", \"units\": %.4g, \"ms_min\": %.3f, "
                       "\"ns_per_unit\": %.4f}\n", c.H, c.W, c.C, c.p.size_h, c.p.size_w, c.p.stride_h,
                       c.p.stride_w, kind ? "avg" : "max", nn_cpu_simd_name(nn_cpu_simd()), kernel,
                       units, ms, ms * 1e6 / units);
                fflush(stdout);
            }
        }
        free(x);
        free(y);
    }
    nn_cpu_set_simd(NN_SIMD_AUTO);
    return 0;
}
