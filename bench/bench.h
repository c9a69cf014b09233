/* bench.h — tiny benchmark harness: run a case repeatedly, print one JSON line.
 *
 *   {"op": "conv", "shape": "256x256x3 k3x3 n1", "impl": "nnlab", "ms_median": 0.41, "gflops": 12.3}
 *
 * (bench_report_stats adds "ms_min" and "gflops_best", from the fastest call.)
 *
 * Header-only; each bench/bench_*.c is its own program run by `make bench`. */
#ifndef NN_BENCH_H
#define NN_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct bench_stats {
    double median, min; /* ms per call */
} bench_stats;

/* Run fn(ctx) `warmup` times, then time `reps` runs (at least 0.3 s worth, at most 200): the
 * median and the fastest, in milliseconds. */
static inline bench_stats bench_run(void (*fn)(void *), void *ctx, int warmup) {
    for (int i = 0; i < warmup; i++) fn(ctx);
    enum { MAXR = 200 };
    double t[MAXR];
    int n = 0;
    double start = bench_now_ms();
    while (n < MAXR && (n < 5 || bench_now_ms() - start < 300.0)) {
        double t0 = bench_now_ms();
        fn(ctx);
        t[n++] = bench_now_ms() - t0;
    }
    qsort(t, (size_t)n, sizeof t[0], bench_cmp_double);
    bench_stats s = {n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]), t[0]};
    return s;
}

static inline double bench_median_ms(void (*fn)(void *), void *ctx, int warmup) {
    return bench_run(fn, ctx, warmup).median;
}

/* Print one result line; flops <= 0 prints "gflops": null. */
static inline void bench_report(const char *op, const char *shape, double ms, double flops) {
    if (flops > 0)
        printf("{\"op\": \"%s\", \"shape\": \"%s\", \"impl\": \"nnlab\", \"ms_median\": %.4f, "
               "\"gflops\": %.2f}\n", op, shape, ms, flops / (ms * 1e6));
    else
        printf("{\"op\": \"%s\", \"shape\": \"%s\", \"impl\": \"nnlab\", \"ms_median\": %.4f, "
               "\"gflops\": null}\n", op, shape, ms);
    fflush(stdout);
}

/* Print one result line with the fastest call too ("ms_min"; "gflops_best" from it). */
static inline void bench_report_stats(const char *op, const char *shape, bench_stats s, double flops) {
    printf("{\"op\": \"%s\", \"shape\": \"%s\", \"impl\": \"nnlab\", \"ms_median\": %.4f, "
           "\"ms_min\": %.4f, ", op, shape, s.median, s.min);
    if (flops > 0)
        printf("\"gflops\": %.2f, \"gflops_best\": %.2f}\n", flops / (s.median * 1e6), flops / (s.min * 1e6));
    else
        printf("\"gflops\": null}\n");
    fflush(stdout);
}

/* ---- comparison benchmarks (bench/compare.py) ---- */

/* One case: measure() times it and prints its one JSON line. */
typedef struct bench_case {
    void (*measure)(const struct bench_case *c);
    void *ctx;
    const char *op, *shape;
} bench_case;

/* Without arguments: measure every case once, in order. With --serve (bench/compare.py, which
 * pairs each case with PyTorch's a fraction of a second apart): print {"cases": ["op|shape",
 * ...]}, then measure the case whose index each line of stdin holds, until end of input. */
static inline int bench_main(const bench_case *cases, size_t n, int argc, char **argv) {
    if (argc < 2) {
        for (size_t i = 0; i < n; i++) cases[i].measure(&cases[i]);
        return 0;
    }
    if (argc != 2 || strcmp(argv[1], "--serve") != 0) {
        fprintf(stderr, "usage: %s [--serve]\n", argv[0]);
        return 2;
    }
    printf("{\"cases\": [");
    for (size_t i = 0; i < n; i++) printf("%s\"%s|%s\"", i ? ", " : "", cases[i].op, cases[i].shape);
    printf("]}\n");
    fflush(stdout);
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        char *end;
        unsigned long i = strtoul(line, &end, 10);
        if (end == line || (*end != '\n' && *end != '\0') || line[0] < '0' || line[0] > '9' || i >= n) {
            fprintf(stderr, "%s: no case %s", argv[0], line);
            return 2;
        }
        cases[i].measure(&cases[i]);
    }
    return 0;
}

#endif
