/* test_http_train_cnn.c — POST /train/cnn against the real daemon: a streamed run's lines as
 * NDJSON, a non-streamed run whose weights /cnn then runs (same predictions, top classes by
 * name), errors naming their field, /healthz's data sets before and after the first run,
 * progress lines at least every second, the training slots shared with the recurrent runs,
 * --data-dir / NNLAB_DATA_DIR and the non-retryable 503 of a missing set, and a
 * client that leaves cancelling its run within 0.5 s (streamed or not). */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http_support.h"

static const char SMALL[] = "{\"epochs\": 2, \"train_samples\": 640, \"test_samples\": 200, \"report_every\": 5}";
/* Long enough to still be going when the test hangs up (it is always cancelled). */
static const char LONG_RUN[] = "{\"epochs\": 15, \"report_every\": 5}";

static double wait_gauge(const th_server *s, double want, double seconds);

static const cJSON *fashion_health(cJSON *h) {
    return cJSON_GetObjectItem(cJSON_GetObjectItem(h, "datasets"), "fashion-mnist");
}

typedef struct lines {
    char type[4096][12];
    int n;
    cJSON *done;
} lines;

static int keep(void *ctx, const char *line, size_t len, double t) {
    (void)t;
    lines *l = ctx;
    const char *type;
    cJSON *j = th_line_json(line, len, &type);
    if (l->n < 4096) snprintf(l->type[l->n++], sizeof l->type[0], "%s", type);
    if (!strcmp(type, "done")) l->done = j;
    else cJSON_Delete(j);
    return 0;
}

Test(train_cnn, streamed_run_and_healthz, .timeout = 300) {
    th_server s;
    th_start(&s, NULL);
    th_resp r;
    cr_assert_eq(th_request(&s, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    cJSON *h = th_json(&r);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(fashion_health(h), "available")), "%s", r.body);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(fashion_health(h), "loaded")), "loaded before any use: %s", r.body);
    cJSON_Delete(h);
    th_resp_free(&r);

    static lines l;
    l.n = 0;
    cr_assert_eq(th_stream(&s, "/train/cnn", SMALL, keep, &l), 200);
    cr_assert_str_eq(l.type[0], "start");
    cr_assert_str_eq(l.type[l.n - 1], "done");
    int epochs = 0, progress = 0;
    for (int i = 0; i < l.n; i++) {
        epochs += !strcmp(l.type[i], "epoch");
        progress += !strcmp(l.type[i], "progress");
    }
    cr_assert_eq(epochs, 2);
    cr_assert_geq(progress, 4, "every 5 of 20 steps");
    cr_assert_not_null(l.done);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(l.done, "train_loss")), 2);
    cJSON_Delete(l.done);

    cr_assert_eq(th_request(&s, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    h = th_json(&r);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(fashion_health(h), "loaded")), "%s", r.body);
    cr_assert_eq(cJSON_GetObjectItem(fashion_health(h), "train")->valuedouble, 60000);
    cJSON_Delete(h);
    th_resp_free(&r);
    cr_assert_eq(th_stop(&s), 0);
}

Test(train_cnn, trained_weights_run_in_cnn_with_class_names, .timeout = 300) {
    th_server s;
    th_start(&s, NULL);
    th_resp r;
    cr_assert_eq(th_post_json(&s, "/train/cnn",
                              "{\"epochs\": 1, \"train_samples\": 1280, \"test_samples\": 100, \"stream\": false}", &r),
                 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.content_type, "application/json"), "%s", r.content_type);
    cJSON *done = th_json(&r);
    th_resp_free(&r);
    cr_assert_str_eq(cJSON_GetObjectItem(done, "type")->valuestring, "done");
    const cJSON *ex = cJSON_GetArrayItem(cJSON_GetObjectItem(done, "examples"), 0);
    cJSON *req = cJSON_CreateObject();
    cJSON_AddItemToObject(req, "architecture", cJSON_Duplicate(cJSON_GetObjectItem(done, "weights"), 1));
    cJSON_AddItemToObject(req, "input", cJSON_Duplicate(cJSON_GetObjectItem(ex, "image"), 1));
    cJSON_AddStringToObject(req, "classes", "fashion-mnist");
    char *body = cJSON_PrintUnformatted(req);
    cr_assert_eq(th_post_json(&s, "/cnn", body, &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cJSON *res = th_json(&r);
    const cJSON *top = cJSON_GetObjectItem(res, "top");
    cr_assert_eq(cJSON_GetArraySize(top), 3);
    const cJSON *first = cJSON_GetArrayItem(top, 0);
    cr_assert_eq(cJSON_GetObjectItem(first, "class")->valuedouble, cJSON_GetObjectItem(ex, "predicted")->valuedouble);
    cr_assert_float_eq(cJSON_GetObjectItem(first, "p")->valuedouble, cJSON_GetObjectItem(ex, "p")->valuedouble, 1e-5);
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(first, "name")));
    cJSON_Delete(res);
    th_resp_free(&r);
    free(body);
    cJSON_Delete(req);
    cJSON_Delete(done);
    cr_assert_eq(th_stop(&s), 0);
}

Test(train_cnn, bad_parameters_are_400_naming_the_field) {
    th_server s;
    th_start(&s, NULL);
    struct { const char *body, *field; long status; } cases[] = {
        {"{\"epochs\": 0}", "epochs", 400},
        {"{\"optimizer\": \"lbfgs\"}", "optimizer", 400},
        {"{\"batch_size\": -3}", "batch_size", 400},
        {"{\"train_samples\": 70000}", "train_samples", 400},
        {"{\"architecture\": [{\"type\": \"pool\", \"size\": 2}]}", "architecture", 400},
        {"{\"dataset\": {\"image\": 1}}", "dataset", 400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        th_resp r;
        cr_assert_eq(th_post_json(&s, "/train/cnn", cases[i].body, &r), 0);
        cr_assert_eq(r.status, cases[i].status, "%s: %s", cases[i].body, r.body);
        cJSON *j = th_json(&r);
        const cJSON *f = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "field");
        cr_assert(cJSON_IsString(f) && !strcmp(f->valuestring, cases[i].field), "%s: %s", cases[i].body, r.body);
        cJSON_Delete(j);
        th_resp_free(&r);
    }
    cr_assert_eq(th_stop(&s), 0);
}

/* ---------------------------------------------------------------- progress at least every second */

typedef struct gaps {
    double last, worst;
    int progress;
    int training; /* between start and the epoch line */
} gaps;

static int time_lines(void *ctx, const char *line, size_t len, double t) {
    gaps *g = ctx;
    int start = strstr(line, "\"type\":\"start\"") != NULL, progress = strstr(line, "\"type\":\"progress\"") != NULL;
    (void)len;
    if (progress && g->training && t - g->last > g->worst) g->worst = t - g->last;
    if (start || progress) g->last = t, g->training = 1;
    else g->training = 0;
    g->progress += progress;
    return 0;
}

/* report_every far beyond the run's steps: every progress line but the last comes from the
 * one-second rule. The gaps are measured at the client, so a loaded machine adds to them. */
Test(train_cnn, progress_at_least_every_second, .timeout = 300) {
    th_server s;
    th_start(&s, NULL);
    gaps g = {0};
    cr_assert_eq(th_stream(&s, "/train/cnn", "{\"epochs\": 1, \"train_samples\": 32000, \"test_samples\": 100,"
                                              " \"report_every\": 1000}", time_lines, &g), 200);
    fprintf(stderr, "progress lines: %d, the longest gap %.3f s\n", g.progress, g.worst);
    cr_assert_geq(g.progress, 3, "only %d progress lines", g.progress);
    cr_assert_leq(g.worst, 1.0 + 0.25 * th_slow(), "a gap of %.3f s between progress lines", g.worst);
    cr_assert_eq(th_stop(&s), 0);
}

/* ---------------------------------------------------------------- one pool of training slots */

/* A child process holds one non-streamed training (killed by the caller). */
static pid_t hold_training(const th_server *s, const char *path, const char *body) {
    pid_t child = fork();
    cr_assert_geq(child, 0);
    if (child == 0) {
        const char *hd[] = {"Content-Type: application/json", NULL};
        th_resp rr;
        (void)th_request_ex(s, "POST", path, hd, body, strlen(body), 0, &rr);
        _exit(0);
    }
    return child;
}

static void expect_busy(const th_server *s, const char *path, const char *body) {
    th_resp r;
    cr_assert_eq(th_post_json(s, path, body, &r), 0);
    cr_assert_eq(r.status, 503, "%s while the other kind held the only slot: %ld %s", path, r.status, r.body);
    cr_assert(strstr(r.body, "\"busy\""), "%s", r.body);
    cr_assert(r.retry_after[0], "503 busy without Retry-After");
    th_resp_free(&r);
}

/* --max-trainings counts CNN and recurrent runs together: with one slot, a CNN run turns a
 * recurrent one away and the other way round. */
Test(train_cnn, shares_the_training_slots_with_recurrent_runs, .timeout = 300) {
    th_server s;
    const char *const one[] = {"--max-trainings", "1", NULL};
    th_start(&s, one);
    pid_t child = hold_training(&s, "/train/cnn", "{\"epochs\": 15, \"stream\": false}");
    cr_assert_eq(wait_gauge(&s, 1, 10 * th_slow()), 1);
    expect_busy(&s, "/train/rnn", "{\"epochs\": 1, \"samples\": 10, \"test_samples\": 5}");
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    cr_assert_eq(wait_gauge(&s, 0, 5 * th_slow()), 0);
    child = hold_training(&s, "/train/lstm", "{\"epochs\": 100, \"stream\": false}");
    cr_assert_eq(wait_gauge(&s, 1, 10 * th_slow()), 1);
    expect_busy(&s, "/train/cnn", SMALL);
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    cr_assert_eq(wait_gauge(&s, 0, 5 * th_slow()), 0);
    cr_assert_eq(th_stop(&s), 0);
}

/* ---------------------------------------------------------------- where the data set is */

static void expect_unavailable(const th_server *s) {
    th_resp r;
    cr_assert_eq(th_post_json(s, "/train/cnn", SMALL, &r), 0);
    cr_assert_eq(r.status, 503, "%s", r.body);
    /* Retry-After would have a client wait and retry for ever: a package is missing */
    cr_assert_str_empty(r.retry_after, "Retry-After: %s", r.retry_after);
    cJSON *j = th_json(&r);
    const cJSON *err = cJSON_GetObjectItem(j, "error");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(err, "code")), "dataset_unavailable");
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(err, "field")), "dataset");
    cr_assert(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(err, "message")), "dataset-fashion-mnist"), "%s", r.body);
    cJSON_Delete(j);
    th_resp_free(&r);
    cr_assert_eq(th_request(s, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    j = th_json(&r);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(fashion_health(j), "available")), "%s", r.body);
    cJSON_Delete(j);
    th_resp_free(&r);
}

Test(train_cnn, data_dir_flag_and_env_missing_set_is_not_retryable, .timeout = 120) {
    th_server s;
    const char *const missing[] = {"--data-dir", "/nonexistent/fashion", NULL};
    th_start(&s, missing);
    expect_unavailable(&s);
    cr_assert_eq(th_stop(&s), 0);
    setenv("NNLAB_DATA_DIR", "/nonexistent/env-fashion", 1);
    th_start(&s, NULL);
    unsetenv("NNLAB_DATA_DIR");
    th_resp r;
    cr_assert_eq(th_request(&s, "GET", "/healthz", NULL, NULL, 0, &r), 0);
    cr_assert(strstr(r.body, "/nonexistent/env-fashion"), "NNLAB_DATA_DIR not used: %s", r.body);
    th_resp_free(&r);
    expect_unavailable(&s);
    cr_assert_eq(th_stop(&s), 0);
}

/* ---------------------------------------------------------------- a client that leaves */

static double wait_gauge(const th_server *s, double want, double seconds) {
    double end = th_now() + seconds, v = -1;
    do {
        v = th_metric(s, "nnlab_trainings_active");
        if (v == want) break;
        th_sleep(0.01);
    } while (th_now() < end);
    return v;
}

static int hang_up_after_two(void *ctx, const char *line, size_t len, double t) {
    (void)line;
    (void)len;
    (void)t;
    return ++*(int *)ctx == 2;
}

Test(train_cnn, a_client_that_leaves_cancels_within_half_a_second, .timeout = 300) {
    th_server s;
    th_start(&s, NULL);
    int seen = 0;
    cr_assert_eq(th_stream(&s, "/train/cnn", LONG_RUN, hang_up_after_two, &seen), 200);
    double t0 = th_now();
    cr_assert_eq(wait_gauge(&s, 0, 0.5 * th_slow()), 0, "the run was not cancelled within 0.5 s of the hang-up");
    fprintf(stderr, "train/cnn cancel: gauge back to 0 %.0f ms after the hang-up\n", (th_now() - t0) * 1e3);

    /* not streamed: a client that dies while it waits for the body */
    char body[128];
    snprintf(body, sizeof body, "{\"epochs\": 15, \"stream\": false}");
    pid_t child = fork();
    if (child == 0) {
        const char *hd[] = {"Content-Type: application/json", NULL};
        th_resp rr;
        th_server cs = s;
        (void)th_request_ex(&cs, "POST", "/train/cnn", hd, body, strlen(body), 0, &rr);
        _exit(0);
    }
    cr_assert_eq(wait_gauge(&s, 1, 10 * th_slow()), 1);
    th_sleep(0.3); /* inside the epoch loop by now */
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    t0 = th_now();
    cr_assert_eq(wait_gauge(&s, 0, 0.5 * th_slow()), 0, "the non-streamed run was not cancelled within 0.5 s");
    fprintf(stderr, "train/cnn cancel (not streamed): %.0f ms\n", (th_now() - t0) * 1e3);
    cr_assert_eq(th_stop(&s), 0);
}
