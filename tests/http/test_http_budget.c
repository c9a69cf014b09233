/* test_http_budget.c — every request's work, memory and time are bounded before they are
 * spent, and a request's work stops when its client leaves or the server stops (issue 13), on
 * the real daemon:
 * - a ~70-byte /pool over the work budget (a 1x1 image resized to 4096^2, window 2048, stride
 *   1: 3.5e11 flops, 8 CPU-seconds) is a 413 at once;
 * - a /pool computing is cancelled when its client hangs up (the in-flight gauge drops within
 *   0.5 s), and SIGTERM mid-request answers it 503 and exits within 5 s;
 * - a convolution's scratch counts in the memory budget (413 when it alone exceeds it) and a
 *   keep-alive connection does not keep 600 MB of it after its answer;
 * - a training's memory is reserved (413 beyond the budget), a training estimated over
 *   --max-train-seconds is refused with the estimate and the limit (flag, variable, /healthz,
 *   --help), and the largest LSTM step the limits allow is cancelled within 0.5 s of a
 *   hang-up. */
#include <criterion/criterion.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_support.h"

/* The largest pooling (the largest image side, the window that costs most): 3.5e11 flops of
 * work, 18 times the default budget; allowed (--max-work 1e13), 8 CPU-seconds. */
static const char HUGE_POOL[] = "{\"input\": [[[1]]], \"resize\": [4096, 4096], \"size\": 2048, \"stride\": 1}";

static void expect_error(const th_resp *r, long status, const char *field, const char *words) {
    cr_assert_eq(r->status, status, "want %ld, got %ld: %.300s", status, r->status, r->body);
    cJSON *j = th_json(r);
    cJSON *e = cJSON_GetObjectItem(j, "error");
    cr_assert_not_null(e, "%s", r->body);
    if (field) cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(e, "field")), field, "%s", r->body);
    if (words) cr_assert(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(e, "message")), words), "%s", r->body);
    cJSON_Delete(j);
}

/* Wait (up to 5 s) for the gauge to read want after an event at t0: the seconds it took, or
 * the test fails saying `what` went on. */
static double settles(const th_server *s, const char *gauge, double want, const char *what) {
    double t0 = th_now();
    double v = th_wait_metric(s, gauge, want, 5 * th_slow());
    cr_assert_eq(v, want, "%s went on (%s %g)", what, gauge, v);
    return th_now() - t0;
}

/* POST body to path on a raw connection (kept open); returns the socket. */
static int post_raw(const th_server *s, const char *path, const char *body, int keep_alive) {
    int fd = th_connect(s->port);
    char head[320];
    int n = snprintf(head, sizeof head,
                     "POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n%s\r\n", path, strlen(body),
                     keep_alive ? "" : "Connection: close\r\n");
    th_send(fd, head, (size_t)n);
    th_send(fd, body, strlen(body));
    return fd;
}

/* The request posted is in: it holds memory (nothing else here does; not the /metrics GETs, whose
 * in-flight count may lag an answer), and it is computing 0.2 s later. */
static void computing(const th_server *s) {
    cr_assert_gt(th_wait_metric_min(s, "nnlab_memory_reserved_bytes", 1, 5 * th_slow()), 0);
    th_sleep(0.2);
}

Test(budget, pooling_work_is_refused_at_once, .timeout = 60) {
    th_server s;
    th_start(&s, NULL);
    th_resp r;
    cr_assert_eq(th_post_json(&s, "/pool", HUGE_POOL, &r), 0);
    expect_error(&r, 413, "size", "operations counted by their time");
    cr_assert_lt(r.seconds, 1.0 * th_slow(), "answered in %.3f s", r.seconds);
    fprintf(stderr, "budget: the %zu-byte /pool answered 413 in %.1f ms\n", strlen(HUGE_POOL), r.seconds * 1e3);
    th_resp_free(&r);
    cr_assert_eq(th_stop(&s), 0);
}

Test(budget, a_hang_up_cancels_the_computation, .timeout = 60) {
    static const char *const args[] = {"--max-work", "1e13", NULL}; /* allowed: seconds of work */
    th_server s;
    th_start(&s, args);
    int fd = post_raw(&s, "/pool", HUGE_POOL, 0);
    computing(&s);
    close(fd);
    double took = settles(&s, "nnlab_http_requests_in_flight", 1, "the computation");
    cr_assert_lt(took, 0.5 * th_slow(), "it stopped %.3f s after the hang-up", took);
    fprintf(stderr, "budget: /pool stopped %.0f ms after its client hung up\n", took * 1e3);
    cr_assert_eq(th_stop(&s), 0);
}

Test(budget, sigterm_mid_request_answers_and_exits_within_5_s, .timeout = 120) {
    static const char *const args[] = {"--max-work", "1e13", NULL};
    th_server s;
    th_start(&s, args);
    int fd = post_raw(&s, "/pool", HUGE_POOL, 0);
    computing(&s);
    double t0 = th_now();
    int code = th_stop(&s);
    double took = th_now() - t0;
    char *ans = th_recv(fd, 1.0);
    close(fd);
    cr_assert_eq(code, 0, "exit code after SIGTERM");
    cr_assert_lt(took, 5.0 * (th_slow() > 1 ? 2 : 1), "SIGTERM took %.2f s to end the daemon", took);
    cr_assert(strncmp(ans, "HTTP/1.1 503", 12) == 0 && strstr(ans, "shutting down"), "%.300s", ans);
    fprintf(stderr, "budget: SIGTERM mid-/pool: answered 503, exited in %.2f s\n", took);
    free(ans);
}

/* A request whose body completes after the stop began (its head came before): it must not start
 * a computation nobody will cancel (the stop cancels the requests computing when it begins). */
Test(budget, a_request_completed_during_the_stop_is_not_computed, .timeout = 120) {
    static const char *const args[] = {"--max-work", "1e13", NULL};
    th_server s;
    th_start(&s, args);
    int fd = th_connect(s.port);
    char head[256];
    int n = snprintf(head, sizeof head, "POST /pool HTTP/1.1\r\nHost: t\r\nContent-Type: "
                     "application/json\r\nContent-Length: %zu\r\n\r\n", strlen(HUGE_POOL));
    th_send(fd, head, (size_t)n);
    th_send(fd, HUGE_POOL, strlen(HUGE_POOL) - 1);
    /* the head is in (the request reserved memory for its body) */
    cr_assert_gt(th_wait_metric_min(&s, "nnlab_memory_reserved_bytes", 1, 5 * th_slow()), 0);
    double t0 = th_now();
    kill(s.pid, SIGTERM);
    th_sleep(0.2); /* the stop has begun (if not yet, the stop cancels the computation) */
    th_send(fd, HUGE_POOL + strlen(HUGE_POOL) - 1, 1);
    char *ans = th_recv(fd, 10 * th_slow());
    int code = th_stop(&s);
    double took = th_now() - t0;
    close(fd);
    cr_assert_eq(code, 0, "exit code after SIGTERM");
    cr_assert(strncmp(ans, "HTTP/1.1 503", 12) == 0 && strstr(ans, "shutting down"), "%.300s", ans);
    cr_assert_lt(took, 5.0 * (th_slow() > 1 ? 2 : 1), "SIGTERM took %.2f s to end the daemon", took);
    fprintf(stderr, "budget: a /pool completed 0.2 s into the stop: answered 503, exited %.2f s "
            "after SIGTERM\n", took);
    free(ans);
}

/* 64x64x3, one 1x64 filter, stride 64, padding [0, 400000]: 12 501 outputs, 621 MB of
 * zero-padded planes (64 stride phases of 12 644 columns per row and channel). */
static char *wide_conv(void) {
    size_t n = 64 * 64 * 3;
    char *b = malloc(2 * n + 256), *p = b;
    p += sprintf(p, "{\"input\": {\"shape\": [64, 64, 3], \"data\": [");
    for (size_t i = 0; i < n; i++) p += sprintf(p, i ? ",1" : "1");
    sprintf(p, "]}, \"filters\": {\"count\": 1, \"size\": [1, 64]}, \"stride\": 64, \"padding\": [0, 400000]}");
    return b;
}

static long rss_kb(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = atol(line + 6);
    fclose(f);
    return kb;
}

/* Read one whole response (headers and Content-Length bytes) from a kept-open socket. */
static char *read_response(int fd, double seconds) {
    size_t cap = 1 << 20, len = 0;
    char *buf = calloc(1, cap);
    double end = th_now() + seconds;
    while (th_now() < end && len + 1 < cap) {
        char *hend = strstr(buf, "\r\n\r\n"), *cl = strstr(buf, "Content-Length: ");
        if (hend && cl && len >= (size_t)(hend + 4 - buf) + (size_t)atol(cl + 16)) break;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        ssize_t k = recv(fd, buf + len, cap - 1 - len, 0);
        if (k <= 0) break;
        len += (size_t)k;
    }
    return buf;
}

Test(budget, a_convolutions_scratch_is_counted_and_not_kept, .timeout = 120) {
    char *body = wide_conv();
    /* alone over a 256 MB budget: 413 at once (no 503 + Retry-After to retry forever) */
    static const char *const small[] = {"--max-memory", "256000000", NULL};
    th_server s;
    th_start(&s, small);
    th_resp r;
    cr_assert_eq(th_post_json(&s, "/conv", body, &r), 0);
    expect_error(&r, 413, "filters", "budget");
    cr_assert_eq(r.retry_after[0], '\0', "no Retry-After on a 413");
    cr_assert_lt(r.seconds, 1.0 * th_slow());
    th_resp_free(&r);
    cr_assert_eq(th_stop(&s), 0);
    /* within the default budget it runs; the connection stays open and must not keep it */
    th_start(&s, NULL);
    int fd = post_raw(&s, "/conv", "{\"input\": [[1, 2], [3, 4]], \"kernel\": [[1]]}", 1);
    free(read_response(fd, 10 * th_slow()));
    long before = rss_kb(s.pid);
    char head[160];
    int n = snprintf(head, sizeof head, "POST /conv HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n", strlen(body));
    th_send(fd, head, (size_t)n);
    th_send(fd, body, strlen(body));
    char *ans = read_response(fd, 60 * th_slow());
    cr_assert(strncmp(ans, "HTTP/1.1 200", 12) == 0 && strstr(ans, "\"output\""), "%.300s", ans);
    free(ans);
    th_sleep(0.2);
    long after = rss_kb(s.pid);
    fprintf(stderr, "budget: RSS %ld MB before, %ld MB after a 621 MB scratch, connection open\n",
            before / 1000, after / 1000);
    cr_assert_lt(after - before, 100000, "the thread kept %ld kB after its request", after - before);
    close(fd);
    cr_assert_eq(th_stop(&s), 0);
    free(body);
}

Test(budget, a_trainings_memory_is_reserved, .timeout = 60) {
    static const char *const args[] = {"--max-memory", "1000000000", NULL};
    th_server s;
    th_start(&s, args);
    th_resp r;
    cr_assert_eq(th_post_json(&s, "/train/rnn",
                              "{\"samples\": 100000, \"test_samples\": 100000, \"min_length\": 1000, "
                              "\"max_length\": 1000, \"epochs\": 1}", &r), 0);
    expect_error(&r, 413, "samples", "budget");
    cr_assert_lt(r.seconds, 1.0 * th_slow());
    th_resp_free(&r);
    cr_assert_eq(th_metric(&s, "nnlab_memory_reserved_bytes"), 0);
    cr_assert_eq(th_stop(&s), 0);
}

Test(budget, a_training_estimated_over_the_limit_is_refused, .timeout = 60) {
    setenv("NNLAB_MAX_TRAIN_SECONDS", "5", 1); /* the variable; the flag wins over it */
    th_server s;
    th_start(&s, NULL);
    unsetenv("NNLAB_MAX_TRAIN_SECONDS");
    cr_assert_eq(th_health_limit(&s, "max_train_seconds"), 5);
    th_resp r;
    cr_assert_eq(th_post_json(&s, "/train/lstm",
                              "{\"hidden_size\": 64, \"samples\": 5000, \"min_length\": 10, "
                              "\"max_length\": 100, \"epochs\": 20}", &r), 0);
    expect_error(&r, 413, "epochs", "estimated at");
    cr_assert(strstr(r.body, "the limit is 5 s"), "%s", r.body);
    th_resp_free(&r);
    cr_assert_eq(th_stop(&s), 0);
    /* --help documents the flag, its variable and its default */
    char cmd[512];
    const char *bin = getenv("NNLABD_BIN");
    snprintf(cmd, sizeof cmd, "%s --help", bin && *bin ? bin : "build/nnlabd");
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char help[16384];
    size_t n = fread(help, 1, sizeof help - 1, p);
    help[n] = '\0';
    pclose(p);
    const char *line = strstr(help, "--max-train-seconds");
    cr_assert(line && strstr(line, "NNLAB_MAX_TRAIN_SECONDS") && strstr(line, "180"), "%s", help);
}

/* The largest step the limits allow: LSTM, hidden 256, 12 samples of length 1000 in one
 * batch (1.9e10 flops, ~1.6 s on one core). */
static const char BIG_STEP[] = "{\"hidden_size\": 256, \"min_length\": 1000, \"max_length\": 1000, "
                               "\"samples\": 12, \"batch_size\": 12, \"test_samples\": 1, \"epochs\": 1}";

static int hang_up_at_start(void *ctx, const char *line, size_t len, double t) {
    (void)ctx;
    (void)len;
    (void)t;
    cr_assert(strstr(line, "\"start\""), "%s", line);
    th_sleep(0.3); /* inside the first step */
    return 1;
}

Test(budget, the_largest_lstm_step_is_cancelled_within_half_a_second, .timeout = 120) {
    th_server s;
    th_start(&s, NULL);
    long st = th_stream(&s, "/train/lstm", BIG_STEP, hang_up_at_start, NULL);
    cr_assert_eq(st, 200);
    double took = settles(&s, "nnlab_trainings_active", 0, "the run");
    cr_assert_lt(took, 0.5 * th_slow(), "the step stopped %.3f s after the hang-up", took);
    fprintf(stderr, "budget: the largest LSTM step stopped %.0f ms after the hang-up\n", took * 1e3);
    cr_assert_eq(th_stop(&s), 0);
}
