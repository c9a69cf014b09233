/* test_srv_limits.c — every request's work, memory and time are bounded before they are spent,
 * and a cancel stops the work (issue 13), through srv_handle_json / srv_train_* (no socket):
 * - pooling counts in the work budget: a ~60-byte /pool over the budget (a 1x1 image resized
 *   to 4096^2, a 2048 window, stride 1) is a 413 before any pooling; the budget's boundary is
 *   nn_pool_work exactly; /cnn reports and counts its pool layers' work;
 * - a cancel flag set while a request computes ends it with a 503 within milliseconds;
 * - a check's memory (reference, replays, their temporaries and scratch) is reserved before any
 *   of it is computed: over the budget, 413 with nothing computed;
 * - a convolution's scratch is reserved in the memory budget (413 when it alone exceeds the
 *   whole budget: once a 1 GB allocation the budget never saw) and is not kept by the thread
 *   after its request; a CNN's scratch and an MLP's model are counted too;
 * - a training's memory (3.2 GB for 100 000 samples of length 1000 and a test set as large) is
 *   reserved for its lifetime, 413 beyond the whole budget;
 * - a training estimated over max_train_seconds is refused with the estimate and the limit,
 *   and one whose own CPU time passes the limit anyway (a wrong estimate) ends with an error. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check_body.h"
#include "handler_test.h"
#include "ndjson_sink.h"
#include "nn_pool.h"
#include "srv_api.h"
#include "srv_budget.h"
#include "srv_workspace.h"

#define MB ((size_t)1000000)

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static srv_response handle(const srv_limits *lim, const char *ep, const char *body, const atomic_int *cancel) {
    srv_response r;
    srv_handle_json(lim, ep, "application/json", body, strlen(body), cancel, &r);
    return r;
}

/* The error's status and field (ht_expect_error), and its message holds `words`. */
static void expect_error(const srv_response *r, int status, const char *field, const char *words) {
    ht_expect_error(r, status, field);
    cJSON *j = cJSON_Parse(r->body);
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "message"));
    cr_assert(msg && strstr(msg, words), "want \"%s\" in %s", words, r->body);
    cJSON_Delete(j);
}

/* ---- pooling work ---- */

/* The largest pooling: a 1x1 image resized to 4096^2 (the largest side), 2049^2 windows of 2048^2,
 * about 18 times the default budget (3.6e11 flops; 4 CPU-seconds on the portable kernels). */
static const char HUGE_POOL[] = "{\"input\": [[[1]]], \"resize\": [4096, 4096], \"size\": 2048, \"stride\": 1}";

Test(limits, pooling_work_is_counted_before_any_is_done, .timeout = 10) {
    srv_limits lim;
    srv_limits_default(&lim);
    double t0 = now_s();
    srv_response r = handle(&lim, "pool", HUGE_POOL, NULL);
    double took = now_s() - t0;
    expect_error(&r, 413, "size", "operations counted by their time");
    cr_assert_lt(took, 1.0, "answered in %.3f s", took);
    srv_response_free(&r);
    /* each at its exact work and one below: a global pooling of 4x3x1, a 3x3 max window on
     * 4x4x1 with stride 1 (2x2 outputs) */
    nn_pool_params p3 = {NN_POOL_MAX, 3, 3, 1, 1};
    struct { const char *body, *field; double work; } at[] = {
        {"{\"input\": [[[1],[2],[3]],[[4],[5],[6]],[[7],[8],[9]],[[1],[2],[3]]], \"size\": \"global\"}", "input",
         nn_global_pool_work(4, 3, 1)},
        {"{\"input\": [[1,2,3,4],[5,6,7,8],[9,10,11,12],[13,14,15,16]], \"size\": 3, \"stride\": 1}", "size",
         nn_pool_work(2, 2, 1, &p3)},
    };
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        lim.max_work_flops = at[i].work;
        r = handle(&lim, "pool", at[i].body, NULL);
        cr_assert_eq(r.status, 200, "%g operations are within %g: %s", at[i].work, at[i].work, r.body);
        srv_response_free(&r);
        lim.max_work_flops = at[i].work - 1;
        r = handle(&lim, "pool", at[i].body, NULL);
        expect_error(&r, 413, at[i].field, "operations counted by their time");
        srv_response_free(&r);
    }
}

Test(limits, cnn_pool_layers_report_and_count_their_work, .timeout = 10) {
    srv_limits lim;
    srv_limits_default(&lim);
    const char *arch = "{\"input\": [[1,2,3,4],[5,6,7,8],[9,10,11,12],[13,14,15,16]], \"architecture\": ["
                       "{\"type\": \"pool\", \"size\": 3, \"stride\": 1}, {\"type\": \"global_pool\"}]}";
    srv_response r = handle(&lim, "cnn", arch, NULL);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cJSON *j = cJSON_Parse(r.body);
    cJSON *layers = cJSON_GetObjectItem(j, "layers");
    nn_pool_params p3 = {NN_POOL_MAX, 3, 3, 1, 1};
    double w0 = nn_pool_work(2, 2, 1, &p3), w1 = nn_global_pool_work(2, 2, 1);
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(layers, 0), "flops")->valuedouble, w0);
    cr_assert_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(layers, 1), "flops")->valuedouble, w1);
    cr_assert_eq(cJSON_GetObjectItem(j, "flops")->valuedouble, w0 + w1);
    cJSON_Delete(j);
    srv_response_free(&r);
    const char *huge = "{\"input\": [[[1]]], \"resize\": [4096, 4096], \"architecture\": ["
                       "{\"type\": \"pool\", \"size\": 2048, \"stride\": 1}, {\"type\": \"global_pool\"}]}";
    double t0 = now_s();
    r = handle(&lim, "cnn", huge, NULL);
    expect_error(&r, 413, "architecture", "flops");
    cr_assert_lt(now_s() - t0, 1.0);
    srv_response_free(&r);
}

/* ---- cancellation ---- */

typedef struct setter {
    atomic_int *flag;
    double delay, set_at;
} setter;

static void *set_later(void *arg) {
    setter *s = arg;
    struct timespec ts = {0, (long)(s->delay * 1e9)};
    nanosleep(&ts, NULL);
    s->set_at = now_s();
    atomic_store(s->flag, 1);
    return NULL;
}

Test(limits, a_cancel_ends_a_request_within_milliseconds, .timeout = 60) {
    srv_limits lim;
    srv_limits_default(&lim);
    lim.max_work_flops = 1e13; /* the same /pool, allowed: it would run for seconds */
    atomic_int flag = 0;
    setter s = {&flag, 0.3, 0};
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, set_later, &s), 0);
    srv_response r = handle(&lim, "pool", HUGE_POOL, &flag);
    double lat = now_s() - s.set_at;
    pthread_join(th, NULL);
    expect_error(&r, 503, NULL, "cancelled");
    cr_assert_lt(lat, 0.3, "stopped %.3f s after the flag", lat);
    srv_response_free(&r);
    /* a cleared flag: the same endpoint works */
    atomic_store(&flag, 0);
    r = handle(&lim, "pool", "{\"input\": [[1,2],[3,4]], \"size\": 2}", &flag);
    cr_assert_eq(r.status, 200, "%s", r.body);
    srv_response_free(&r);
}

/* ---- memory ---- */

/* 64x64x1, one 1x64 filter, stride [1, 64], padding [0, 2^20]: 2.7e8 flops, a 2.1M-value
 * output, and 539 MB of zero-padded planes (64 stride phases of 32913 columns per row). */
#define WIDE_CONV "{\"input\": {\"shape\": [64, 64, 1], \"data\": [%s]}, \"filters\": {\"count\": 1, \"size\": [1, 64], \"seed\": 1}, " \
                  "\"stride\": [1, 64], \"padding\": [0, 1048576]}"

/* A memory budget of `bytes` with a fresh account `a` as this thread's (the request handlers
 * reserve against it); budget_end detaches and releases it. */
static void budget_begin(srv_account *a, size_t bytes) {
    srv_budget_init(bytes);
    *a = (srv_account){0};
    srv_budget_set_current(a);
}

static void budget_end(srv_account *a) {
    srv_budget_set_current(NULL);
    srv_budget_release(a);
}

/* Under a fresh budget of `bytes` (account *a, left attached to this thread), `body` on `ep` is
 * refused at once: 413 on `field`, the message naming the budget. */
static void refused_over_budget(srv_account *a, size_t bytes, const char *ep, const char *body,
                                const char *field, const atomic_int *cancel) {
    srv_limits lim;
    srv_limits_default(&lim);
    budget_begin(a, bytes);
    double t0 = now_s();
    srv_response r = handle(&lim, ep, body, cancel);
    expect_error(&r, 413, field, "budget");
    cr_assert_lt(now_s() - t0, 1.0, "413 at once, not after waiting for room");
    srv_response_free(&r);
}

static char *wide_conv(void) {
    size_t n = 64 * 64;
    char *ones = malloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        ones[2 * i] = '1';
        ones[2 * i + 1] = ',';
    }
    ones[2 * n - 1] = '\0';
    char *b = malloc(strlen(WIDE_CONV) + 2 * n + 1);
    sprintf(b, WIDE_CONV, ones);
    free(ones);
    return b;
}

Test(limits, a_convolutions_scratch_counts_in_the_memory_budget, .timeout = 30) {
    srv_limits lim;
    srv_limits_default(&lim);
    srv_account acct;
    char *body = wide_conv();
    refused_over_budget(&acct, 256 * MB, "conv", body, "filters", NULL);
    srv_budget_release(&acct);
    /* within a larger budget it runs, its scratch is counted while it does, and the thread
     * does not keep it after the request */
    srv_budget_init(4000 * MB);
    srv_response r = handle(&lim, "conv", body, NULL);
    cr_assert_eq(r.status, 200, "%.300s", r.body);
    cr_assert_geq(acct.held, 539 * MB, "scratch reserved: %zu", acct.held);
    cr_assert_leq(srv_workspace_held(), SRV_WORKSPACE_KEEP, "the thread keeps %zu bytes", srv_workspace_held());
    srv_response_free(&r);
    budget_end(&acct);
    free(body);
}

Test(limits, a_cnns_scratch_counts_too, .timeout = 30) {
    srv_account acct;
    /* the same wide layer inside a CNN: tiny model, 539 MB of scratch */
    const char *body = "{\"input\": [[[1]]], \"resize\": [64, 64], \"architecture\": [{\"type\": \"conv\", \"filters\": 1, "
                       "\"size\": [1, 64], \"stride\": [1, 64], \"padding\": [0, 1048576]}, {\"type\": \"global_pool\"}]}";
    refused_over_budget(&acct, 64 * MB, "cnn", body, "architecture", NULL);
    budget_end(&acct);
}

/* What a check will allocate — its reference, the replays of the mistakes its answer's shape
 * allows, their temporaries and scratch — is reserved before any of it is computed: over the
 * whole budget, 413 at once. Shown with the cancel flag already set: had anything been
 * computed first, the computation would have stopped and answered 503. */
Test(limits, an_oversized_check_is_refused_before_any_work, .timeout = 30) {
    srv_limits lim;
    srv_limits_default(&lim);
    srv_account acct;
    char *body = tcb_channels_check();
    atomic_int cancelled = 1;
    /* 5 MB: room for the reference, not for the replays */
    refused_over_budget(&acct, 5 * MB, "check/conv", body, "filters", &cancelled);
    srv_budget_release(&acct);
    /* with room it runs, and its allocations use up exactly what was reserved ahead (the
     * reservation is what the check allocates, not a guess) */
    srv_budget_init(64 * MB);
    srv_response r = handle(&lim, "check/conv", body, NULL);
    cr_assert_eq(r.status, 200, "%.300s", r.body);
    cr_assert(strstr(r.body, "\"pass\":false"), "%.200s", r.body);
    cr_assert_eq(acct.prepaid, 0, "%zu bytes reserved ahead were not used", acct.prepaid);
    srv_response_free(&r);
    budget_end(&acct);
    free(body);
}

Test(limits, an_mlps_model_counts_in_the_memory_budget, .timeout = 30) {
    srv_limits lim;
    srv_limits_default(&lim);
    srv_account acct;
    /* 12 M weights (48 MB) from a 70-byte request */
    const char *body = "{\"input\": [1], \"hidden_layers\": 1, \"hidden_size\": 4000, \"output_size\": 3000}";
    refused_over_budget(&acct, 32 * MB, "mlp", body, "hidden_size", NULL);
    srv_budget_init(100 * MB);
    srv_response r = handle(&lim, "mlp", body, NULL);
    cr_assert_eq(r.status, 200, "%.200s", r.body);
    cr_assert_geq(acct.held, 48 * MB, "the model was reserved: %zu", acct.held);
    srv_response_free(&r);
    budget_end(&acct);
}

static srv_train_job *prepare(const srv_limits *lim, const char *model, const char *body, srv_response *err) {
    return srv_train_prepare(lim, model, "application/json", body, strlen(body), err);
}

Test(limits, a_trainings_memory_is_reserved_for_its_lifetime) {
    srv_limits lim;
    srv_limits_default(&lim);
    lim.max_train_seconds = 1e6; /* memory is what this test is about */
    const char *big = "{\"samples\": 100000, \"test_samples\": 100000, \"min_length\": 1000, \"max_length\": 1000, \"epochs\": 1}";
    srv_budget_init(1000 * MB);
    srv_response err;
    double t0 = now_s();
    srv_train_job *j = prepare(&lim, "rnn", big, &err);
    cr_assert_null(j, "100000 samples of 1000 steps, twice, admitted in a 1 GB budget");
    expect_error(&err, 413, "samples", "MB");
    cr_assert_lt(now_s() - t0, 1.0);
    srv_response_free(&err);
    cr_assert_eq(srv_budget_used(), 0);
    /* with room it is admitted and holds its memory until it is freed */
    srv_budget_init(8000 * MB);
    j = prepare(&lim, "rnn", big, &err);
    cr_assert_not_null(j, "%s", err.body);
    size_t need = srv_train_memory_bytes(j);
    cr_assert_geq(need, (size_t)3200 * MB, "two sets of 1e8 steps of two doubles: %zu", need);
    cr_assert_eq(srv_budget_used(), need);
    srv_train_free(j);
    cr_assert_eq(srv_budget_used(), 0);
}

/* ---- training time ---- */

Test(limits, a_training_estimated_over_the_limit_is_refused) {
    srv_limits lim;
    srv_limits_default(&lim);
    lim.max_train_seconds = 5;
    srv_response err;
    /* ~275 000 time steps an epoch at ~8 us each: about 45 s for 20 epochs */
    const char *body = "{\"hidden_size\": 64, \"samples\": 5000, \"min_length\": 10, \"max_length\": 100, \"epochs\": 20}";
    srv_train_job *j = prepare(&lim, "lstm", body, &err);
    cr_assert_null(j);
    expect_error(&err, 413, "epochs", "estimated at");
    cr_assert(strstr(err.body, "the limit is 5 s"), "%s", err.body);
    srv_response_free(&err);
    lim.max_train_seconds = 1000;
    j = prepare(&lim, "lstm", body, &err);
    cr_assert_not_null(j, "%s", err.body);
    double est = srv_train_estimate_seconds(j);
    cr_assert(est > 20 && est < 120, "estimate %.1f s", est);
    srv_train_free(j);
    /* the default limit admits the assignment's runs, estimated well under a second */
    srv_limits_default(&lim);
    j = prepare(&lim, "gru", "{}", &err);
    cr_assert_not_null(j, "%s", err.body);
    cr_assert_lt(srv_train_estimate_seconds(j), 1.0);
    srv_train_free(j);
}

/* Run body with the limit at 1.3 times its estimate: one training and one test sample whose
 * lengths (seed 297: 992 and 999 steps) are twice the 501 the estimate assumes for lengths
 * 2..1000, so the run computes about twice its estimate and passes the limit. */
static int run_past_the_estimate(const char *body, sink *out, double *est) {
    srv_limits lim;
    srv_limits_default(&lim);
    srv_response err;
    srv_train_job *j = prepare(&lim, "rnn", body, &err);
    cr_assert_not_null(j, "%s", err.body);
    *est = srv_train_estimate_seconds(j);
    srv_train_free(j);
    lim.max_train_seconds = 1.3 * *est;
    j = prepare(&lim, "rnn", body, &err);
    cr_assert_not_null(j, "admitted at 1.3 x its estimate: %s", err.body);
    int status = srv_train_run(j, emit, out, NULL);
    srv_train_free(j);
    return status;
}

#define PAST_ESTIMATE "{\"samples\": 1, \"test_samples\": 1, \"min_length\": 2, \"max_length\": 1000, " \
                      "\"hidden_size\": 32, \"epochs\": 1000, \"seed\": 297, \"stream\": %s}"

Test(limits, a_run_past_the_limit_ends_with_an_error, .timeout = 60) {
    char body[256];
    double est;
    /* streamed: the last line is the error */
    snprintf(body, sizeof body, PAST_ESTIMATE, "true");
    sink s = {0};
    int status = run_past_the_estimate(body, &s, &est);
    cr_assert_eq(status, 413, "estimate %.2f s: %d %s", est, status, s.buf);
    const char *last = s.buf + s.len - 1;
    while (last > s.buf && last[-1] != '\n') last--;
    cJSON *line = cJSON_Parse(last);
    cr_assert_not_null(line, "%s", last);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(line, "type")), "error", "%s", last);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(line, "code")), "too_large", "%s", last);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(line, "field")), "epochs", "%s", last);
    cr_assert(strstr(last, "passed the limit of") && strstr(last, "estimated at"), "%s", last);
    cr_assert(!strstr(s.buf, "\"done\""), "it did not finish");
    cJSON_Delete(line);
    free(s.buf);
    /* not streamed: the error object is the whole answer */
    snprintf(body, sizeof body, PAST_ESTIMATE, "false");
    sink t = {0};
    status = run_past_the_estimate(body, &t, &est);
    cr_assert_eq(status, 413, "estimate %.2f s: %d %s", est, status, t.buf);
    srv_response fake = {.status = 413, .body = t.buf, .len = t.len};
    expect_error(&fake, 413, "epochs", "passed the limit");
    free(t.buf);
}
