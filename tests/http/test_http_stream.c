/* test_http_stream.c — streamed training against the real daemon: lines arrive while it trains,
 * a client that hangs up cancels its run (the active-trainings gauge drops), several trainings
 * and a /conv run at once, the training cap answers 503 + Retry-After, and SIGTERM ends an
 * open stream with an error line and exit code 0. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http_support.h"

/* A run long enough to still be going when the test acts (it is always cancelled). */
static const char LONG_RUN[] =
    "{\"samples\": 20000, \"test_samples\": 100, \"epochs\": 200, \"report_every\": 200, "
    "\"seed\": 3}";

/* Wait until the gauge reaches want (or the deadline); returns the last value seen. */
static double wait_gauge(const th_server *s, double want, double seconds) {
    return th_wait_metric(s, "nnlab_trainings_active", want, seconds);
}

/* ---------------------------------------------------------------- lines arrive as they happen */

typedef struct arrivals {
    double t[8192];
    char type[8192][12];
    int n;
} arrivals;

static int record(void *ctx, const char *line, size_t len, double t) {
    arrivals *a = ctx;
    const char *type;
    cJSON *j = th_line_json(line, len, &type);
    if (a->n < 8192) {
        a->t[a->n] = t;
        snprintf(a->type[a->n], sizeof a->type[0], "%s", type);
        a->n++;
    }
    cJSON_Delete(j);
    return 0;
}

Test(stream, lines_arrive_while_training, .timeout = 120) {
    th_server s;
    th_start(&s, NULL);
    static arrivals a;
    a.n = 0;
    long st = th_stream(&s, "/train/gru",
                        /* ~0.5 s: long enough to see lines trickle in even when
                         * the machine is busy and the client runs in bursts */
                        "{\"samples\": 40000, \"test_samples\": 200, \"epochs\": 6, "
                        "\"report_every\": 2000, \"seed\": 1}",
                        record, &a);
    cr_assert_eq(st, 200);
    cr_assert_geq(a.n, 6 + 2, "start, epochs, done at least");
    cr_assert_str_eq(a.type[0], "start");
    cr_assert_str_eq(a.type[a.n - 1], "done", "the last line is done");
    int epochs = 0, progress = 0;
    for (int i = 0; i < a.n; i++) {
        epochs += strcmp(a.type[i], "epoch") == 0;
        progress += strcmp(a.type[i], "progress") == 0;
    }
    cr_assert_eq(epochs, 6);
    cr_assert_geq(progress, 6);
    /* Streamed, not buffered: the first epoch's line reached us long before the end of the
     * run (a buffered answer would deliver everything at once). */
    double first_epoch = 0, end = a.t[a.n - 1];
    for (int i = 0; i < a.n; i++)
        if (strcmp(a.type[i], "epoch") == 0) {
            first_epoch = a.t[i];
            break;
        }
    fprintf(stderr, "stream: %d lines, start at %.0f ms, first epoch at %.0f ms, done at %.0f ms\n",
            a.n, a.t[0] * 1e3, first_epoch * 1e3, end * 1e3);
    cr_assert_gt(end - a.t[0], 0.1, "the run is long enough to judge (%.3f s)", end - a.t[0]);
    cr_assert_lt(first_epoch, a.t[0] + 0.5 * (end - a.t[0]),
                 "epoch 1 of 6 arrived at %.3f s of %.3f s", first_epoch, end);
    /* Lines trickle in over the run: many distinct arrival moments, and a good share of the
     * lines before the run's halfway point. */
    int distinct = 1, early = 0;
    for (int i = 1; i < a.n; i++) distinct += a.t[i] - a.t[i - 1] > 0.001;
    for (int i = 0; i < a.n; i++) early += a.t[i] < a.t[0] + 0.5 * (end - a.t[0]);
    cr_assert_geq(distinct, 8, "lines arrived at only %d distinct moments", distinct);
    cr_assert_geq(early * 5, a.n, "only %d of %d lines arrived in the first half", early, a.n);
    cr_assert_eq(th_stop(&s), 0);
}

/* ---------------------------------------------------------------- cancel on disconnect */

typedef struct hangup {
    int after;   /* hang up after this many lines */
    int seen;
    const th_server *s;
    double gauge_while_running;
} hangup;

static int hang_up_after(void *ctx, const char *line, size_t len, double t) {
    (void)line;
    (void)len;
    (void)t;
    hangup *h = ctx;
    if (++h->seen == h->after) {
        h->gauge_while_running = th_metric(h->s, "nnlab_trainings_active");
        return 1;
    }
    return 0;
}

Test(stream, disconnect_cancels_the_run, .timeout = 120) {
    th_server s;
    th_start(&s, NULL);
    hangup h = {.after = 2, .s = &s};
    long st = th_stream(&s, "/train/lstm", LONG_RUN, hang_up_after, &h);
    cr_assert_eq(st, 200);
    cr_assert_eq(h.gauge_while_running, 1, "one training while we listen");
    double t0 = th_now();
    double v = wait_gauge(&s, 0, 1.0 * th_slow());
    cr_assert_eq(v, 0, "the run was not cancelled within a second of the hang-up");
    fprintf(stderr, "cancel: gauge back to 0 %.0f ms after the hang-up\n", (th_now() - t0) * 1e3);
    /* The same for a non-streamed run: give up waiting after a moment. */
    th_resp r;
    char body[256];
    snprintf(body, sizeof body, "%.*s, \"stream\": false}", (int)strlen(LONG_RUN) - 1, LONG_RUN);
    const char *hd[] = {"Content-Type: application/json", NULL};
    pid_t child = fork();
    if (child == 0) { /* a client that times out after 0.5 s */
        th_resp rr;
        th_server cs = s;
        (void)th_request_ex(&cs, "POST", "/train/rnn", hd, body, strlen(body), 0, &rr);
        _exit(0);
    }
    cr_assert_eq(wait_gauge(&s, 1, 5 * th_slow()), 1);
    kill(child, SIGKILL); /* the client dies: its socket closes */
    waitpid(child, NULL, 0);
    cr_assert_eq(wait_gauge(&s, 0, 1.0 * th_slow()), 0, "non-streamed run not cancelled");
    (void)r;
    cr_assert_eq(th_stop(&s), 0);
}

/* ---------------------------------------------------------------- concurrency */

typedef struct bg {
    const th_server *s;
    const char *path;
    atomic_int stop;
    long status;
    int lines;
} bg;

static int until_stopped(void *ctx, const char *line, size_t len, double t) {
    (void)line;
    (void)len;
    (void)t;
    bg *b = ctx;
    b->lines++;
    return atomic_load(&b->stop);
}

static void *bg_train(void *arg) {
    bg *b = arg;
    b->status = th_stream(b->s, b->path, LONG_RUN, until_stopped, b);
    return NULL;
}

Test(stream, conv_and_healthz_answer_while_two_trainings_run, .timeout = 120) {
    th_server s;
    th_start(&s, NULL);
    bg b1 = {.s = &s, .path = "/train/lstm"}, b2 = {.s = &s, .path = "/train/gru"};
    pthread_t t1, t2;
    pthread_create(&t1, NULL, bg_train, &b1);
    pthread_create(&t2, NULL, bg_train, &b2);
    cr_assert_eq(wait_gauge(&s, 2, 10 * th_slow()), 2, "both trainings running");

    size_t len = 0;
    char *png = th_read_file("web/sample.png", &len);
    char *b64 = th_base64((const unsigned char *)png, len);
    char *body = malloc(strlen(b64) + 64);
    sprintf(body, "{\"image\":\"%s\",\"kernel\":\"sobel_x\"}", b64);
    th_resp r;
    cr_assert_eq(th_post_json(&s, "/conv", body, &r), 0);
    cr_assert_eq(r.status, 200, "%.300s", r.body);
    cJSON *j = th_json(&r);
    cJSON *shape = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "output"), "shape");
    cr_assert_eq(cJSON_GetArrayItem(shape, 0)->valuedouble, 254);
    cJSON_Delete(j);
    fprintf(stderr, "concurrency: /conv took %.0f ms with two trainings running\n", r.seconds * 1e3);
    th_resp_free(&r);
    double t[21];
    for (int i = 0; i < 21; i++) {
        cr_assert_eq(th_request(&s, "GET", "/healthz", NULL, NULL, 0, &r), 0);
        cr_assert_eq(r.status, 200);
        t[i] = r.seconds;
        th_resp_free(&r);
    }
    for (int i = 1; i < 21; i++) /* sort */
        for (int k = i; k > 0 && t[k] < t[k - 1]; k--) {
            double tmp = t[k];
            t[k] = t[k - 1];
            t[k - 1] = tmp;
        }
    fprintf(stderr, "concurrency: /healthz median %.1f ms, worst %.1f ms (of 21)\n", t[10] * 1e3,
            t[20] * 1e3);
    /* Milliseconds, though both cores are busy training (the worst case also pays for the
     * scheduler on a shared machine). */
    cr_assert_lt(t[10], 0.02 * th_slow(), "/healthz median %.1f ms while training", t[10] * 1e3);
    cr_assert_lt(t[20], 0.25 * th_slow(), "/healthz worst %.1f ms while training", t[20] * 1e3);
    cr_assert_eq(th_metric(&s, "nnlab_trainings_active"), 2, "both still running");

    atomic_store(&b1.stop, 1);
    atomic_store(&b2.stop, 1);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    cr_assert_eq(b1.status, 200);
    cr_assert_eq(b2.status, 200);
    cr_assert_eq(wait_gauge(&s, 0, 1.0 * th_slow()), 0);
    free(body);
    free(b64);
    free(png);
    cr_assert_eq(th_stop(&s), 0);
}

Test(stream, training_cap_answers_503_with_retry_after, .timeout = 120) {
    const char *args[] = {"--max-trainings", "1", NULL};
    th_server s;
    th_start(&s, args);
    bg b1 = {.s = &s, .path = "/train/rnn"};
    pthread_t t1;
    pthread_create(&t1, NULL, bg_train, &b1);
    cr_assert_eq(wait_gauge(&s, 1, 10 * th_slow()), 1);
    th_resp r;
    cr_assert_eq(th_post_json(&s, "/train/gru", "{\"epochs\": 1}", &r), 0);
    cr_assert_eq(r.status, 503);
    cr_assert(atoi(r.retry_after) == 5, "Retry-After: '%s'", r.retry_after);
    cJSON *j = th_json(&r);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"),
                                                               "code")), "busy");
    cJSON_Delete(j);
    th_resp_free(&r);
    atomic_store(&b1.stop, 1);
    pthread_join(t1, NULL);
    cr_assert_eq(wait_gauge(&s, 0, 1.0 * th_slow()), 0);
    /* The slot is free again. */
    cr_assert_eq(th_post_json(&s, "/train/gru",
                              "{\"samples\": 20, \"test_samples\": 5, \"epochs\": 1, "
                              "\"stream\": false}", &r), 0);
    cr_assert_eq(r.status, 200, "%.300s", r.body);
    th_resp_free(&r);
    cr_assert_eq(th_stop(&s), 0);
}

/* ---------------------------------------------------------------- SIGTERM */

typedef struct term {
    th_server *s;
    int seen;
    char last[512];
} term;

static int term_after_first(void *ctx, const char *line, size_t len, double t) {
    (void)t;
    term *tm = ctx;
    snprintf(tm->last, sizeof tm->last, "%.*s", (int)len, line);
    if (++tm->seen == 1) kill(tm->s->pid, SIGTERM);
    return 0;
}

Test(stream, sigterm_ends_streams_with_an_error_line_and_exits_0, .timeout = 120) {
    th_server s;
    th_start(&s, NULL);
    term tm = {.s = &s};
    double t0 = th_now();
    long st = th_stream(&s, "/train/lstm", LONG_RUN, term_after_first, &tm);
    cr_assert_eq(st, 200);
    cr_assert_gt(tm.seen, 1, "a line after the signal");
    cJSON *j = cJSON_Parse(tm.last);
    cr_assert(j, "last line: %s", tm.last);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "type")), "error",
                     "the stream ends with an error line, got %s", tm.last);
    cr_assert_eq(cJSON_GetObjectItem(j, "status")->valuedouble, 503);
    cr_assert(cJSON_GetStringValue(cJSON_GetObjectItem(j, "message")));
    cJSON_Delete(j);
    cr_assert_lt(th_now() - t0, 10 * th_slow(), "the stream ended promptly");
    cr_assert_eq(th_stop(&s), 0, "exit code 0 after SIGTERM");
}

/* A non-streamed run sends nothing until it ends: the inactivity timeout must not cut it. */
Test(stream, non_streamed_run_may_outlast_the_idle_timeout, .timeout = 180) {
    const char *args[] = {"--timeout", "1", NULL};
    th_server s;
    th_start(&s, args);
    th_resp r;
    char body[160]; /* ~3 s here; fewer epochs under the (slower) sanitizer build */
    snprintf(body, sizeof body, "{\"samples\": 5000, \"test_samples\": 100, \"epochs\": %d, "
             "\"stream\": false, \"seed\": 2}", (int)(100 / th_slow()));
    cr_assert_eq(th_post_json(&s, "/train/gru", body, &r), 0);
    cr_assert_eq(r.status, 200, "%.300s", r.body);
    fprintf(stderr, "timeout: a %.1f s non-streamed run with --timeout 1 answered\n", r.seconds);
    cJSON *j = th_json(&r);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "type")), "done");
    cJSON_Delete(j);
    th_resp_free(&r);
    cr_assert_eq(th_stop(&s), 0);
}
