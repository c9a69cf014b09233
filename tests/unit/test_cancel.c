/* test_cancel.c — cooperative cancellation (core/nn_cancel.h): a flag bound to the calling
 * thread stops every long loop of the library within milliseconds — the pool's workers see the
 * caller's binding and start no piece once it is set; windowed and global pooling; every
 * the batched pooling of training and of the gradient endpoints (argmax forward, window
 * scan and scatter backward, global); every
 * convolution kernel (direct, planar, Winograd, on each instruction set the CPU has: each
 * looks at the flag itself, and a single output row as big as the work limit allows is
 * stopped inside); the CNN; training, with the
 * largest LSTM step the server's limits allow (hidden 256, length 1000, 12 samples: 1.6 s)
 * stopped inside backprop-through-time. Each long case would run for seconds to minutes if
 * the flag were ignored; it must return NN_CANCELLED well within CANCEL_S of the flag being
 * set (latency measured from the setting, on a loaded 2-core machine). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nn_cancel.h"
#include "nn_cnn.h"
#include "nn_conv.h"
#include "nn_cpu.h"
#include "nn_parallel.h"
#include "nn_pool.h"
#include "nn_pool_batch.h"
#include "nn_rnn_train.h"

#define CANCEL_S 0.3 /* the bound asserted: the loops look every ~1 ms of work */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A thread that sets *flag after `delay` seconds and records when. */
typedef struct setter {
    atomic_int *flag;
    double delay, set_at;
    pthread_t th;
} setter;

static void *set_later(void *arg) {
    setter *s = arg;
    struct timespec ts = {(time_t)s->delay, (long)((s->delay - (double)(time_t)s->delay) * 1e9)};
    nanosleep(&ts, NULL);
    s->set_at = now_s();
    atomic_store(s->flag, 1);
    return NULL;
}

static void start_setter(setter *s, atomic_int *flag, double delay) {
    s->flag = flag;
    s->delay = delay;
    s->set_at = 0;
    cr_assert_eq(pthread_create(&s->th, NULL, set_later, s), 0);
}

/* Join the setter; the latency from the flag's setting to now. */
static double latency(setter *s) {
    double end = now_s();
    pthread_join(s->th, NULL);
    cr_assert_gt(s->set_at, 0, "returned before the flag was set: the case was too short");
    return end - s->set_at;
}

static float *filled(size_t n) {
    float *p = malloc(n * sizeof *p);
    cr_assert_not_null(p);
    for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    return p;
}

/* ---- the binding and the pool ---- */

typedef struct seen_ctx {
    const atomic_int *want;
    atomic_int calls, wrong;
} seen_ctx;

static void record(void *ctx, size_t begin, size_t end, size_t worker) {
    (void)begin;
    (void)end;
    (void)worker;
    seen_ctx *c = ctx;
    atomic_fetch_add(&c->calls, 1);
    if (nn_cancel_current() != c->want) atomic_fetch_add(&c->wrong, 1);
    struct timespec ts = {0, 2000000}; /* give the other thread time to join */
    nanosleep(&ts, NULL);
}

Test(cancel, bind_returns_the_previous_binding) {
    atomic_int a = 0, b = 1;
    cr_assert_null(nn_cancel_current());
    cr_assert_eq(nn_cancelled(), 0, "no binding: never cancelled");
    cr_assert_null(nn_cancel_bind(&a));
    cr_assert_eq(nn_cancelled(), 0);
    cr_assert_eq(nn_cancel_bind(&b), &a);
    cr_assert_eq(nn_cancelled(), 1);
    size_t meter = 0;
    cr_assert_eq(nn_cancel_tick(&meter, 1), 1, "the first tick looks");
    cr_assert_eq(nn_cancel_tick(&meter, 1), 0, "then only every NN_CANCEL_EVERY units");
    cr_assert_eq(nn_cancel_tick(&meter, NN_CANCEL_EVERY), 1);
    cr_assert_eq(nn_cancel_bind(NULL), &b);
}

Test(cancel, workers_see_the_callers_flag_and_start_nothing_once_it_is_set) {
    nn_parallel_set_threads(0);
    atomic_int flag = 0;
    seen_ctx c = {.want = &flag};
    nn_cancel_bind(&flag);
    nn_parallel_for(64, 1, record, &c);
    cr_assert_eq(atomic_load(&c.calls), (int)(nn_parallel_threads() * 4 < 64 ? nn_parallel_threads() * 4 : 64));
    cr_assert_eq(atomic_load(&c.wrong), 0, "a piece ran without the caller's binding");
    atomic_store(&flag, 1);
    seen_ctx d = {.want = &flag};
    nn_parallel_for(64, 1, record, &d);
    cr_assert_eq(atomic_load(&d.calls), 0, "pieces started after the cancel");
    nn_cancel_bind(NULL);
    seen_ctx e = {.want = NULL};
    nn_parallel_for(64, 1, record, &e);
    cr_assert_eq(atomic_load(&e.wrong), 0, "a worker kept a stale binding");
}

/* ---- pooling ---- */

/* Each kernel on a shape it takes seconds over: the direct one on 961^2 x 3 outputs of 64x64
 * windows (1.1e10 operations), the separable one on 2049^2 outputs of 2048x2048 windows. */
Test(cancel, windowed_pooling_stops_within_milliseconds, .timeout = 60) {
    static const struct {
        nn_pool_kernel kernel;
        size_t H, W, C, k;
    } runs[] = {{NN_POOL_KERNEL_DIRECT, 1024, 1024, 3, 64}, {NN_POOL_KERNEL_SEPARABLE, 4096, 4096, 1, 2048}};
    const char *paths[] = {"avx512", "sse"};
    for (size_t r = 0; r < 2; r++) {
        size_t H = runs[r].H, W = runs[r].W, C = runs[r].C, OH, OW;
        nn_pool_params p = {NN_POOL_MAX, runs[r].k, runs[r].k, 1, 1};
        cr_assert_eq(nn_pool_output_size(H, W, C, &p, &OH, &OW, NULL), NN_OK);
        float *x = filled(H * W * C), *y = malloc(OH * OW * C * sizeof *y);
        for (int k = 0; k < 2; k++) {
            if (k == 0 && nn_cpu_set_simd(NN_SIMD_AVX512) != NN_SIMD_AVX512) continue;
            if (k == 1) nn_cpu_set_simd(NN_SIMD_GENERIC);
            atomic_int flag = 0;
            setter s;
            nn_cancel_bind(&flag);
            start_setter(&s, &flag, 0.05);
            nn_error err;
            nn_code rc = nn_pool2d_forward_kernel(y, x, H, W, C, &p, runs[r].kernel, &err);
            double lat = latency(&s);
            nn_cancel_bind(NULL);
            cr_assert_eq(rc, NN_CANCELLED, "kernel %zu %s: %s", r, paths[k], nn_code_name(rc));
            cr_assert_str_eq(err.field, "cancelled");
            cr_assert_lt(lat, CANCEL_S, "kernel %zu %s: stopped %.3f s after the flag", r, paths[k], lat);
        }
        nn_cpu_set_simd(NN_SIMD_AUTO);
        /* global pooling: an already-set flag stops it before it reads the map */
        atomic_int set = 1;
        nn_cancel_bind(&set);
        cr_assert_eq(nn_global_pool_forward(y, x, H, W, C, NN_POOL_AVG, NULL), NN_CANCELLED);
        nn_cancel_bind(NULL);
        cr_assert_eq(nn_global_pool_forward(y, x, H, W, C, NN_POOL_AVG, NULL), NN_OK);
        free(x);
        free(y);
    }
}

/* The batched kernels of training and of /pool's gradient: the forward that records argmax and
 * the backward that scans every window again (1024^2 x 3 input, 64x64 windows at stride 1:
 * seconds each) stop within milliseconds; the scatter and the global ones see a flag already
 * set. */
Test(cancel, batched_pooling_stops_within_milliseconds, .timeout = 120) {
    const size_t H = 1024, W = 1024, C = 3, k = 64, OH = H - k + 1, OW = W - k + 1;
    const nn_pool_params p = {NN_POOL_MAX, k, k, 1, 1};
    float *x = filled(H * W * C), *y = malloc(OH * OW * C * sizeof *y), *dx = calloc(H * W * C, sizeof *dx);
    uint32_t *am = malloc(OH * OW * C * sizeof *am);
    cr_assert(y && dx && am);
    for (int which = 0; which < 2; which++) {
        atomic_int flag = 0;
        setter s;
        nn_cancel_bind(&flag);
        start_setter(&s, &flag, 0.05);
        nn_error err;
        nn_code rc = which ? nn_pool_batch_backward(dx, x, NULL, x, 1, H, W, C, &p, &err)
                           : nn_pool_batch_forward(y, am, x, 1, H, W, C, &p, &err);
        double lat = latency(&s);
        nn_cancel_bind(NULL);
        cr_assert_eq(rc, NN_CANCELLED, "%s: %s", which ? "backward" : "forward", nn_code_name(rc));
        cr_assert_str_eq(err.field, "cancelled");
        cr_assert_lt(lat, CANCEL_S, "%s: stopped %.3f s after the flag", which ? "backward" : "forward", lat);
    }
    memset(am, 0, OH * OW * C * sizeof *am);
    atomic_int set = 1;
    nn_cancel_bind(&set);
    cr_assert_eq(nn_pool_batch_backward(dx, y, am, NULL, 1, H, W, C, &p, NULL), NN_CANCELLED);
    cr_assert_eq(nn_global_pool_batch_forward(y, am, x, 1, H, W, C, NN_POOL_MAX, NULL), NN_CANCELLED);
    cr_assert_eq(nn_global_pool_batch_backward(dx, y, NULL, NULL, 1, H, W, C, NN_POOL_AVG, NULL), NN_CANCELLED);
    nn_cancel_bind(NULL);
    cr_assert_eq(nn_pool_batch_backward(dx, y, am, NULL, 1, H, W, C, &p, NULL), NN_OK);
    free(x);
    free(y);
    free(dx);
    free(am);
}

/* ---- convolution ---- */

/* One convolution that would take a second or more, cancelled after 50 ms. */
static void conv_timed(const char *name, size_t H, size_t W, size_t C, size_t N, size_t KH, size_t KW) {
    nn_conv_params p = {1, 1, 0, 0, {NN_ACT_RELU, 0.01f}};
    size_t OH, OW;
    cr_assert_eq(nn_conv_output_size(H, W, C, N, KH, KW, &p, &OH, &OW, NULL), NN_OK);
    float *x = filled(H * W * C), *k = filled(N * KH * KW * C), *y = malloc(OH * OW * N * sizeof *y);
    cr_assert_not_null(y);
    atomic_int flag = 0;
    setter s;
    nn_workspace ws = {0};
    nn_cancel_bind(&flag);
    start_setter(&s, &flag, 0.05);
    nn_error err;
    nn_code rc = nn_conv2d_forward(y, x, k, NULL, H, W, C, N, KH, KW, &p, &ws, &err);
    double lat = latency(&s);
    nn_cancel_bind(NULL);
    nn_workspace_free(&ws);
    cr_assert_eq(rc, NN_CANCELLED, "%s: %s", name, nn_code_name(rc));
    cr_assert_lt(lat, CANCEL_S, "%s: stopped %.3f s after the flag", name, lat);
    free(x);
    free(k);
    free(y);
}

Test(cancel, convolutions_stop_within_milliseconds, .timeout = 120) {
    conv_timed("direct", 512, 512, 16, 64, 5, 5);  /* 1.3e10 flops */
    conv_timed("planar", 2048, 2048, 3, 1, 31, 31); /* 2.3e10 */
    /* one output row holding all the work (OH = 1, so one thread): stopped inside the row */
    conv_timed("one row", 600, 4096, 1, 4096, 600, 1); /* 2e10 */
}

/* With one thread the pool runs the whole range as one piece, so only the kernel's own checks
 * can stop it: with the flag already set, no output value may be written. */
Test(cancel, every_kernel_looks_at_the_flag_itself) {
    static const struct { const char *name; size_t C, N, K; } cases[] = {
        {"direct", 5, 16, 5}, {"planar", 3, 1, 7}, {"winograd", 3, 64, 3}};
    const size_t H = 40, W = 50;
    nn_parallel_set_threads(1);
    atomic_int flag = 1;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t C = cases[c].C, N = cases[c].N, K = cases[c].K, OH = H - K + 1, OW = W - K + 1;
        nn_conv_params p = {1, 1, 0, 0, {NN_ACT_IDENTITY, 0.01f}};
        float *x = filled(H * W * C), *k = filled(N * K * K * C), *y = malloc(OH * OW * N * sizeof *y);
        for (int impl = NN_SIMD_GENERIC; impl <= NN_SIMD_AVX512; impl++) {
            if ((int)nn_cpu_set_simd(impl) != impl) continue;
            for (size_t i = 0; i < OH * OW * N; i++) y[i] = -1e30f;
            nn_cancel_bind(&flag);
            nn_code rc = nn_conv2d_forward(y, x, k, NULL, H, W, C, N, K, K, &p, NULL, NULL);
            nn_cancel_bind(NULL);
            cr_assert_eq(rc, NN_CANCELLED, "%s impl %d", cases[c].name, impl);
            size_t written = 0;
            for (size_t i = 0; i < OH * OW * N; i++) written += y[i] != -1e30f;
            cr_assert_eq(written, 0, "%s impl %d: %zu values computed after the cancel", cases[c].name, impl, written);
            cr_assert_eq(nn_conv2d_forward(y, x, k, NULL, H, W, C, N, K, K, &p, NULL, NULL), NN_OK);
        }
        free(x);
        free(k);
        free(y);
    }
    nn_cpu_set_simd(NN_SIMD_AUTO);
    nn_parallel_set_threads(0);
}

Test(cancel, a_cnn_stops_between_and_inside_layers) {
    nn_layer_spec s[NN_CNN_DEFAULT_LAYERS];
    size_t n = nn_cnn_default_spec(s);
    nn_cnn m;
    nn_error err;
    cr_assert_eq(nn_cnn_create(&m, s, n, 64, 64, 3, 1, 1, &err), NN_OK, "%s", err.message);
    float *x = filled(64 * 64 * 3);
    atomic_int flag = 1;
    nn_cancel_bind(&flag);
    cr_assert_eq(nn_cnn_forward(&m, x, &err), NN_CANCELLED);
    cr_assert_str_eq(err.field, "cancelled");
    atomic_store(&flag, 0);
    cr_assert_eq(nn_cnn_forward(&m, x, &err), NN_OK, "a cleared flag lets it run: %s", err.message);
    nn_cancel_bind(NULL);
    nn_cnn_free(&m);
    free(x);
}

/* ---- training ---- */

Test(cancel, the_largest_lstm_step_stops_inside_backprop_through_time, .timeout = 60) {
    nn_rnn_train_config cfg;
    nn_rnn_train_config_default(&cfg);
    cfg.model = NN_RNN_LSTM;
    cfg.hidden = 256;
    cfg.min_length = cfg.max_length = 1000;
    cfg.samples = 12;
    cfg.batch_size = 12; /* one optimiser step: ~1.6 s, checked only after it without the flag */
    cfg.test_samples = 1;
    cfg.epochs = 1;
    atomic_int flag = 0;
    setter s;
    nn_cancel_bind(&flag);
    start_setter(&s, &flag, 0.2);
    nn_rnn_train_result res;
    nn_error err;
    nn_code rc = nn_rnn_train_run(&cfg, NULL, NULL, &res, &err);
    double lat = latency(&s);
    nn_cancel_bind(NULL);
    cr_assert_eq(rc, NN_CANCELLED, "%s", nn_code_name(rc));
    cr_assert_lt(lat, CANCEL_S, "stopped %.3f s after the flag (the step takes ~1.6 s)", lat);
    nn_rnn_train_result_free(&res);
}
