/* test_srv_sweep.c — POST /train/sweep without a socket (srv_train_prepare with model "sweep"):
 * the stream (start, a progress line per epoch of every point, a point line per point in order
 * of length then model, done), every point's numbers equal to the same training run straight
 * through the core, the non-streamed answer, cancellation, the defaults, and every bad request
 * a 400 / 413 naming its field. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler_test.h"
#include "ndjson_sink.h"
#include "nn_rnn_train.h"
#include "srv_api.h"
#include "srv_budget.h"

static srv_train_job *prepare_lim(const srv_limits *lim, const char *body, srv_response *err) {
    return srv_train_prepare(lim, "sweep", "application/json", body, strlen(body), err);
}

static srv_train_job *prepare(const char *body) { return ht_prepare(NULL, "sweep", body); }

static void expect_err(const char *body, int status, const char *field) {
    ht_prepare_err(NULL, "sweep", body, status, field);
}

static double num(const cJSON *j, const char *key) {
    const cJSON *v = cJSON_GetObjectItem(j, key);
    cr_assert(cJSON_IsNumber(v), "no number %s", key);
    return v->valuedouble;
}

static const char *str(const cJSON *j, const char *key) {
    const cJSON *v = cJSON_GetObjectItem(j, key);
    cr_assert(cJSON_IsString(v), "no string %s", key);
    return v->valuestring;
}

static const char SMALL[] = "{\"models\": [\"rnn\", \"gru\"], \"lengths\": [4, 7], \"samples\": 30, "
                            "\"test_samples\": 10, \"epochs\": 2, \"hidden_size\": 3, \"seed\": 9}";

Test(srv_sweep, stream_in_order_with_the_core_s_numbers) {
    srv_train_job *j = prepare(SMALL);
    cr_assert_eq(srv_train_streaming(j), 1);
    sink s = {0};
    cr_assert_eq(srv_train_run(j, emit, &s, NULL), 200);
    srv_train_free(j);
    cJSON *lines[64];
    int n = parse_lines(s.buf, lines, 64);
    cr_assert_eq(n, 1 + 4 * 2 + 4 + 1, "start, 8 progress, 4 points, done: %d lines", n);
    cr_assert_str_eq(type_of(lines[0]), "start");
    cr_assert_eq(num(lines[0], "points"), 4);
    cr_assert_eq(num(lines[0], "epochs"), 2);
    const char *order[4] = {"rnn", "gru", "rnn", "gru"};
    const size_t lengths[4] = {4, 4, 7, 7};
    int at = 1;
    for (int p = 0; p < 4; p++) {
        for (int e = 1; e <= 2; e++, at++) {
            cr_assert_str_eq(type_of(lines[at]), "progress");
            cr_assert_str_eq(str(lines[at], "model"), order[p]);
            cr_assert_eq(num(lines[at], "length"), lengths[p]);
            cr_assert_eq(num(lines[at], "epoch"), e);
            cr_assert_eq(num(lines[at], "point"), p + 1);
        }
        const cJSON *pt = lines[at++];
        cr_assert_str_eq(type_of(pt), "point");
        cr_assert_str_eq(str(pt, "model"), order[p]);
        cr_assert_eq(num(pt, "length"), lengths[p]);
        /* The same training through the core. */
        nn_rnn_train_config c;
        nn_rnn_train_config_default(&c);
        nn_rnn_kind_parse(order[p], &c.model, NULL);
        c.min_length = c.max_length = lengths[p];
        c.samples = 30, c.test_samples = 10, c.epochs = 2, c.hidden = 3, c.seed = 9;
        nn_rnn_train_result r;
        cr_assert_eq(nn_rnn_train_run(&c, NULL, NULL, &r, NULL), NN_OK);
        cr_assert_eq(num(pt, "test_loss"), r.test_loss[1]);
        cr_assert_eq(num(pt, "train_loss"), r.train_loss[1]);
        cr_assert_eq(num(pt, "baseline_loss"), r.baseline_test);
        cr_assert_eq(num(pt, "test_accuracy"), r.test_accuracy);
        const cJSON *tl = cJSON_GetObjectItem(pt, "test_losses");
        cr_assert_eq(cJSON_GetArraySize(tl), 2);
        cr_assert_eq(cJSON_GetArrayItem(tl, 0)->valuedouble, r.test_loss[0]);
        nn_rnn_train_result_free(&r);
    }
    cr_assert_str_eq(type_of(lines[at]), "done");
    const cJSON *pts = cJSON_GetObjectItem(lines[at], "points");
    cr_assert_eq(cJSON_GetArraySize(pts), 4);
    cr_assert_eq(num(cJSON_GetArrayItem(pts, 3), "length"), 7);
    cr_assert_eq(num(cJSON_GetArrayItem(pts, 3), "test_loss"), num(lines[at - 1], "test_loss"));
    for (int i = 0; i < n; i++) cJSON_Delete(lines[i]);
    free(s.buf);
}

Test(srv_sweep, not_streamed_the_done_object_is_the_answer) {
    char body[512];
    snprintf(body, sizeof body, "%.*s, \"stream\": false}", (int)strlen(SMALL) - 1, SMALL);
    srv_train_job *j = prepare(body);
    cr_assert_eq(srv_train_streaming(j), 0);
    sink s = {0};
    cr_assert_eq(srv_train_run(j, emit, &s, NULL), 200);
    srv_train_free(j);
    cJSON *r = sink_done(&s);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "points")), 4);
    cJSON_Delete(r);
    free(s.buf);
}

Test(srv_sweep, defaults_are_the_lesson) {
    srv_train_job *j = prepare("{}");
    sink s = {0};
    s.refuse_after = 1; /* read the start line, then hang up */
    cr_assert_eq(srv_train_run(j, emit, &s, NULL), 503);
    srv_train_free(j);
    cJSON *start = cJSON_Parse(s.buf);
    cr_assert_not_null(start, "%s", s.buf);
    const cJSON *m = cJSON_GetObjectItem(start, "models"), *l = cJSON_GetObjectItem(start, "lengths");
    cr_assert_eq(cJSON_GetArraySize(m), 3);
    cr_assert_str_eq(cJSON_GetArrayItem(m, 2)->valuestring, "gru");
    const int want[5] = {10, 25, 50, 100, 200};
    cr_assert_eq(cJSON_GetArraySize(l), 5);
    for (int i = 0; i < 5; i++) cr_assert_eq(cJSON_GetArrayItem(l, i)->valuedouble, want[i]);
    cr_assert_eq(num(start, "points"), 15);
    cr_assert_eq(num(start, "samples"), 5000);
    cr_assert_eq(num(start, "epochs"), 20);
    cr_assert_eq(num(start, "batch_size"), 1);
    cr_assert_eq(num(start, "learning_rate"), 0.001);
    cJSON_Delete(start);
    free(s.buf);
}

Test(srv_sweep, cancel_stops_between_steps) {
    srv_train_job *j = prepare("{\"lengths\": [50], \"epochs\": 50}");
    atomic_int flag = 0;
    sink s = {0};
    s.cancel_after_lines = 2; /* start and the first progress line */
    s.flag = &flag;
    cr_assert_eq(srv_train_run(j, emit, &s, &flag), 503);
    srv_train_free(j);
    cr_assert_eq(s.lines, 2, "nothing after the cancel: %s", s.buf);
    free(s.buf);
}

Test(srv_sweep, bad_requests_name_the_field) {
    expect_err("{\"models\": \"rnn\"}", 400, "models");
    expect_err("{\"models\": []}", 400, "models");
    expect_err("{\"models\": [\"rnn\", \"cnn\"]}", 400, "models[1]");
    expect_err("{\"models\": [\"gru\", \"gru\"]}", 400, "models[1]");
    expect_err("{\"lengths\": []}", 400, "lengths");
    expect_err("{\"lengths\": [10, 1]}", 400, "lengths[1]");
    expect_err("{\"lengths\": [10, 2.5]}", 400, "lengths[1]");
    expect_err("{\"lengths\": [10, 1001]}", 413, "lengths[1]");
    expect_err("{\"lengths\": [2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2,2]}", 400, "lengths");
    expect_err("{\"min_length\": 5}", 400, "min_length");
    expect_err("{\"samples\": 0}", 400, "samples");
    expect_err("{\"samples\": 10, \"batch_size\": 11}", 400, "batch_size");
    expect_err("{\"learning_rate\": 0}", 400, "learning_rate");
    expect_err("{\"clip\": -1}", 400, "clip");
    expect_err("{\"epochs\": 1001}", 413, "epochs");
    expect_err("{\"samples\": 100000, \"epochs\": 1000}", 413, "epochs");
    expect_err("{\"lengths\": [1000], \"hidden_size\": 256, \"batch_size\": 100}", 413, "batch_size");
    expect_err("{\"stream\": 1}", 400, "stream");
}

/* The sweep is admitted as a training is: its largest point's memory is claimed for its lifetime
 * (413 beyond the whole budget), and its estimated time must fit max_train_seconds. */
Test(srv_sweep, memory_and_time_are_admitted_first) {
    srv_limits lim;
    srv_limits_default(&lim);
    srv_response err;
    srv_budget_init((size_t)64 << 20);
    srv_train_job *j = prepare_lim(&lim, "{\"lengths\": [10, 200], \"models\": [\"lstm\"]}", &err);
    cr_assert_not_null(j, "%s", err.body);
    size_t held = srv_budget_used();
    cr_assert_gt(held, (size_t)18 << 20, "6000 sequences of 200 steps and their activations: %zu bytes", held);
    srv_train_free(j);
    cr_assert_eq(srv_budget_used(), 0, "given back with the job");
    srv_budget_init((size_t)8 << 20);
    j = prepare_lim(&lim, "{\"lengths\": [10, 200]}", &err);
    cr_assert_null(j);
    cr_assert_eq(err.status, 413, "%s", err.body);
    cr_assert(strstr(err.body, "\"field\":\"samples\""), "%s", err.body);
    srv_response_free(&err);
    srv_budget_init(0);
    lim.max_train_seconds = 5;
    j = prepare_lim(&lim, "{}", &err);
    cr_assert_null(j, "the default sweep is ~20 s of computing");
    cr_assert_eq(err.status, 413);
    cr_assert(strstr(err.body, "\"field\":\"epochs\"") && strstr(err.body, "this sweep is estimated at"), "%s", err.body);
    srv_response_free(&err);
}
