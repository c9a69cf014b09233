/* bench_conv.c — convolution benchmarks plus the machine's measured peak FMA rate.
 *
 * Cases (op / shape strings shared with bench/torch_bench.py):
 *   conv        256x256x3 k3x3 n1 relu        one 3x3 kernel + ReLU
 *   conv_layer  256x256x3 k3x3 n16 sigmoid    16 filters + sigmoid
 *   conv_layer  224x224x3 k3x3 n64 pad1       64 filters, padding 1 (the Winograd path: its
 *                                             "gflops" count the direct convolution's flops)
 *   peak_fma    avx512 1 thread / 2 threads   independent FMA chains, no memory traffic
 *   memset_floor                              writing the 64-filter layer's 12.8 MB output once,
 *                                             with every thread (memset of each one's part)
 * Output and workspace buffers are allocated once and reused, as a model would. */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "nn_conv.h"
#include "nn_cpu.h"
#include "nn_parallel.h"
#include "nn_rng.h"

typedef struct conv_case {
    const char *op, *shape;
    size_t H, W, C, N, K, pad;
    nn_act_kind act;
    float *x, *k, *b, *y;
    nn_workspace ws;
    double flops;
} conv_case;

static void run_conv(void *ctx) {
    conv_case *c = ctx;
    nn_conv_params p = {1, 1, c->pad, c->pad, {c->act, 0.01f}};
    if (nn_conv2d_forward(c->y, c->x, c->k, c->b, c->H, c->W, c->C, c->N, c->K, c->K, &p, &c->ws, NULL)) abort();
}

static float *filled(nn_rng *r, size_t n) {
    float *a = malloc(n * sizeof *a);
    if (!a) abort();
    for (size_t i = 0; i < n; i++) a[i] = 2.0f * nn_rng_uniformf(r) - 1.0f;
    return a;
}

/* ---- peak: 2 FMA ports x 16 lanes x 2 flops per cycle if the core has them ---- */

#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx512f"))) static double fma_loop512(long iters) {
    __m512 a[12], m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps((float)i);
    for (long it = 0; it < iters; it++)
#pragma GCC unroll 12
        for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], m, c);
    float s = 0, out[16];
    for (int i = 0; i < 12; i++) {
        _mm512_storeu_ps(out, a[i]);
        s += out[0];
    }
    return s;
}
#endif

typedef struct peak_arg { long iters; double ms, sink; } peak_arg;

static void *peak_thread(void *p) {
    peak_arg *a = p;
    double t0 = bench_now_ms();
#if defined(__x86_64__)
    a->sink = fma_loop512(a->iters);
#endif
    a->ms = bench_now_ms() - t0;
    return NULL;
}

/* Best of several runs of `threads` threads, each doing iters x 12 FMAs of 16 lanes. */
static double peak_gflops(int threads) {
    enum { MAXT = 64 }; /* nn_parallel's limit */
    const long iters = 4000000;
    double best = 0;
    if (threads > MAXT) threads = MAXT;
    for (int rep = 0; rep < 7; rep++) {
        pthread_t t[MAXT];
        peak_arg a[MAXT];
        double t0 = bench_now_ms();
        for (int i = 0; i < threads; i++) {
            a[i] = (peak_arg){iters, 0, 0};
            pthread_create(&t[i], NULL, peak_thread, &a[i]);
        }
        for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
        double ms = bench_now_ms() - t0;
        double gf = (double)threads * (double)iters * 12 * 16 * 2 / (ms * 1e6);
        if (gf > best) best = gf;
    }
    return best;
}

/* The floor for a store-bound layer: writing its output once (memset of a reused buffer). */
typedef struct fill_case { float *p; size_t n; } fill_case;
static void fill_part_lines(void *ctx, size_t begin, size_t end, size_t worker) {
    (void)worker;
    fill_case *f = ctx; /* [begin, end) in 64-byte lines */
    memset(f->p + 16 * begin, 0, (end - begin) * 16 * sizeof(float));
}
/* With every thread, as the kernels write: one core alone writes ~20 GB/s here, two ~38. */
static void run_fill(void *ctx) {
    fill_case *f = ctx; /* n is a multiple of 16 */
    nn_parallel_for(f->n / 16, 4096, fill_part_lines, f);
}

static void measure_peak(const bench_case *c) {
    printf("{\"op\": \"%s\", \"shape\": \"%s\", \"impl\": \"nnlab\", \"ms_median\": null, \"gflops\": %.1f}\n",
           c->op, c->shape, peak_gflops(*(const int *)c->ctx));
    fflush(stdout);
}

static void measure_fill(const bench_case *c) {
    bench_report(c->op, c->shape, bench_median_ms(run_fill, c->ctx, 5), 0);
}

static void measure_conv(const bench_case *c) {
    conv_case *cc = c->ctx;
    bench_report_stats(c->op, c->shape, bench_run(run_conv, cc, 20), cc->flops);
}

int main(int argc, char **argv) {
    nn_rng r;
    nn_rng_seed(&r, 1);
    bench_case cases[8];
    size_t n = 0;
    int one = 1, all = (int)nn_parallel_threads();
    char peak2[32];
    snprintf(peak2, sizeof peak2, "avx512 %d threads", all);
#if defined(__x86_64__)
    if (nn_cpu_simd_max() == NN_SIMD_AVX512) { /* the hardware's peak, whatever NNLAB_SIMD says */
        cases[n++] = (bench_case){measure_peak, &one, "peak_fma", "avx512 1 thread"};
        cases[n++] = (bench_case){measure_peak, &all, "peak_fma", peak2};
    }
#endif
    fill_case f = {aligned_alloc(64, (size_t)224 * 224 * 64 * sizeof(float)), (size_t)224 * 224 * 64};
    if (!f.p) abort();
    cases[n++] = (bench_case){measure_fill, &f, "memset_floor", "224x224x64 output (12.8 MB)"};
    conv_case convs[] = {
        {.op = "conv", .shape = "256x256x3 k3x3 n1 relu", .H = 256, .W = 256, .C = 3, .N = 1, .K = 3,
         .pad = 0, .act = NN_ACT_RELU},
        {.op = "conv_layer", .shape = "256x256x3 k3x3 n16 sigmoid", .H = 256, .W = 256, .C = 3, .N = 16,
         .K = 3, .pad = 0, .act = NN_ACT_SIGMOID},
        {.op = "conv_layer", .shape = "224x224x3 k3x3 n64 pad1", .H = 224, .W = 224, .C = 3, .N = 64, .K = 3,
         .pad = 1, .act = NN_ACT_IDENTITY},
    };
    for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++) {
        conv_case *c = &convs[i];
        nn_conv_params p = {1, 1, c->pad, c->pad, {c->act, 0.01f}};
        size_t OH, OW;
        if (nn_conv_output_size(c->H, c->W, c->C, c->N, c->K, c->K, &p, &OH, &OW, NULL)) abort();
        c->x = filled(&r, c->H * c->W * c->C);
        c->k = filled(&r, c->N * c->K * c->K * c->C);
        c->b = filled(&r, c->N);
        c->y = aligned_alloc(64, (OH * OW * c->N * sizeof(float) + 63) / 64 * 64);
        if (!c->y) abort();
        c->flops = nn_conv_flops(OH, OW, c->N, c->K, c->K, c->C);
        cases[n++] = (bench_case){measure_conv, c, c->op, c->shape};
    }
    int rc = bench_main(cases, n, argc, argv);
    for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++) {
        conv_case *c = &convs[i];
        free(c->x), free(c->k), free(c->b), free(c->y);
        nn_workspace_free(&c->ws);
    }
    free(f.p);
    return rc;
}
