/* test_http_rnn.c — the recurrent nets from inside against the real daemon: POST /run/{model}
 * with a trained net's weights (and the limits of --max-length / --max-hidden, counted in the
 * metrics), POST /train/sweep streamed point by point on one training slot (a second training
 * meets 503 under --max-trainings 1; hanging up cancels the sweep), and a training's start line
 * carrying the PyTorch export. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_support.h"

static const cJSON *field_of(const cJSON *j) {
    return cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "field");
}

/* A small GRU's done object (not streamed). */
static cJSON *trained_gru(const th_server *s) {
    th_resp r;
    cr_assert_eq(th_post_json(s, "/train/gru", "{\"samples\": 30, \"test_samples\": 5, \"epochs\": 1, \"max_length\": 5, "
                                                "\"hidden_size\": 4, \"stream\": false, \"seed\": 3}", &r), 0);
    cr_assert_eq(r.status, 200, "%.300s", r.body);
    cJSON *done = th_json(&r);
    th_resp_free(&r);
    return done;
}

static long run_gru(const th_server *s, const cJSON *done, const char *sequence, cJSON **answer) {
    char *w = cJSON_PrintUnformatted(cJSON_GetObjectItem(done, "weights"));
    size_t n = strlen(w) + strlen(sequence) + 64;
    char *body = malloc(n);
    cr_assert_not_null(body);
    snprintf(body, n, "{\"weights\": %s, \"sequence\": %s}", w, sequence);
    th_resp r;
    cr_assert_eq(th_post_json(s, "/run/gru", body, &r), 0);
    long status = r.status;
    *answer = th_json(&r);
    th_resp_free(&r);
    free(body);
    free(w);
    return status;
}

Test(rnn_http, run_a_trained_net_and_its_limits, .timeout = 120) {
    th_server s;
    const char *const args[] = {"--max-length", "5", "--max-hidden", "8", NULL};
    th_start(&s, args);
    cJSON *done = trained_gru(&s), *a;
    cr_assert_eq(run_gru(&s, done, "[[0.5, 1], [0.2, 0], [0.3, 1]]", &a), 200);
    const cJSON *h = cJSON_GetObjectItem(a, "hidden");
    cr_assert_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(h, "shape"), 0)->valuedouble, 3);
    cr_assert_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(h, "shape"), 1)->valuedouble, 4);
    const cJSON *g = cJSON_GetObjectItem(a, "gates");
    cr_assert(cJSON_GetObjectItem(g, "r") && cJSON_GetObjectItem(g, "z") && cJSON_GetObjectItem(g, "n"));
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(a, "output")));
    cJSON_Delete(a);
    cr_assert_eq(run_gru(&s, done, "[[1,0],[1,0],[1,0],[1,0],[1,0],[1,1]]", &a), 413);
    cr_assert_str_eq(field_of(a)->valuestring, "sequence");
    cJSON_Delete(a);
    cr_assert_eq(run_gru(&s, done, "[[1,0,0]]", &a), 400);
    cr_assert_str_eq(field_of(a)->valuestring, "sequence");
    cJSON_Delete(a);
    cr_assert_eq(th_metric(&s, "nnlab_http_requests_total{path=\"/run/gru\",status=\"200\"}"), 1);
    cr_assert_eq(th_metric(&s, "nnlab_http_requests_total{path=\"/run/gru\",status=\"413\"}"), 1);
    th_resp r;
    cr_assert_eq(th_request(&s, "GET", "/run/gru", NULL, NULL, 0, &r), 0);
    cr_assert_eq(r.status, 405);
    th_resp_free(&r);
    cr_assert_eq(th_post_json(&s, "/run/cnn", "{}", &r), 0);
    cr_assert_eq(r.status, 404);
    th_resp_free(&r);
    cJSON_Delete(done);
    cr_assert_eq(th_stop(&s), 0);
}

typedef struct sweep_log {
    int points, progress, lines;
    double first_point, done;
    int hang_up_after;  /* > 0: hang up after this many lines */
    const th_server *s;
    double gauge;       /* trainings active while the sweep runs */
    long other_status;  /* a training asked for while the sweep runs */
} sweep_log;

static int on_sweep_line(void *ctx, const char *line, size_t len, double t) {
    sweep_log *l = ctx;
    const char *type;
    cJSON *j = th_line_json(line, len, &type);
    if (!strcmp(type, "point") && l->points++ == 0) {
        l->first_point = t;
        l->gauge = th_metric(l->s, "nnlab_trainings_active");
        th_resp r;
        cr_assert_eq(th_post_json(l->s, "/train/rnn", "{\"samples\": 10, \"epochs\": 1, \"stream\": false}", &r), 0);
        l->other_status = r.status;
        th_resp_free(&r);
    }
    l->progress += !strcmp(type, "progress");
    if (!strcmp(type, "done")) l->done = t;
    cJSON_Delete(j);
    return l->hang_up_after && ++l->lines >= l->hang_up_after;
}

Test(rnn_http, sweep_streams_points_on_one_slot, .timeout = 180) {
    th_server s;
    const char *const args[] = {"--max-trainings", "1", NULL};
    th_start(&s, args);
    sweep_log l = {.s = &s};
    long st = th_stream(&s, "/train/sweep", "{\"lengths\": [5, 20, 40], \"samples\": 400, \"test_samples\": 50, "
                                            "\"epochs\": 3, \"seed\": 2}", on_sweep_line, &l);
    cr_assert_eq(st, 200);
    cr_assert_eq(l.points, 9);
    cr_assert_eq(l.progress, 27);
    cr_assert_gt(l.done, 0);
    cr_assert_eq(l.gauge, 1, "the sweep holds one training slot");
    cr_assert_eq(l.other_status, 503, "a training meets the full slot");
    cr_assert_lt(l.first_point, l.done * 0.5, "the first point came at %.3f s of %.3f s", l.first_point, l.done);
    /* Hanging up cancels it: the slot is free again at once. (The slot of a sweep that ended
     * is given back just after its last line: wait for that first.) */
    cr_assert_eq(th_wait_metric(&s, "nnlab_trainings_active", 0, 2 * th_slow()), 0);
    sweep_log h = {.s = &s, .hang_up_after = 3};
    st = th_stream(&s, "/train/sweep", "{\"lengths\": [100, 200], \"epochs\": 50}", on_sweep_line, &h);
    cr_assert_eq(st, 200);
    cr_assert_eq(th_wait_metric(&s, "nnlab_trainings_active", 0, 2 * th_slow()), 0);
    cr_assert_eq(th_stop(&s), 0);
}

static int first_line_only(void *ctx, const char *line, size_t len, double t) {
    (void)t;
    cJSON **out = ctx;
    *out = cJSON_ParseWithLength(line, len);
    return 1;
}

Test(rnn_http, start_line_carries_the_pytorch_script, .timeout = 60) {
    th_server s;
    th_start(&s, NULL);
    cJSON *start = NULL;
    long st = th_stream(&s, "/train/lstm", "{\"samples\": 50, \"epochs\": 2, \"export\": \"pytorch\"}",
                        first_line_only, &start);
    cr_assert_eq(st, 200);
    cr_assert_not_null(start);
    const char *py = cJSON_GetStringValue(cJSON_GetObjectItem(start, "pytorch"));
    cr_assert_not_null(py);
    cr_assert(strstr(py, "RUN = {\"model\": \"lstm\", \"hidden_size\": 6"), "%.300s", strstr(py, "RUN"));
    cr_assert(strstr(py, "torch.nn.LSTM") || strstr(py, "\"lstm\": torch.nn.LSTM"));
    cJSON_Delete(start);
    th_resp r;
    cr_assert_eq(th_post_json(&s, "/train/lstm", "{\"export\": \"onnx\"}", &r), 0);
    cr_assert_eq(r.status, 400);
    cJSON *e = th_json(&r);
    cr_assert_str_eq(field_of(e)->valuestring, "export");
    cJSON_Delete(e);
    th_resp_free(&r);
    cr_assert_eq(th_stop(&s), 0);
}
