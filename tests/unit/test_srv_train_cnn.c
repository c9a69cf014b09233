/* test_srv_train_cnn.c — POST /train/cnn without a socket (srv_train_prepare / srv_train_run):
 * the lines in order with their fields, the body of a non-streamed run, the same bytes for the
 * same request, the trained weights run by /cnn with the same predictions and top classes, an
 * inline data set, given initial weights, cancellation, a refused emit, the missing data set,
 * and every parameter's validation naming its field. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handler_test.h"
#include "ndjson_sink.h"
#include "srv_api.h"
#include "srv_budget.h"
#include "srv_clock.h"
#include "srv_dataset.h"

static srv_train_job *prepare(const char *body) { return ht_prepare(NULL, "cnn", body); }

/* Run a request to the end; returns the output (caller frees o.buf). */
static sink run(const char *body, int want_status) {
    srv_train_job *j = prepare(body);
    sink o = {0};
    cr_assert_eq(srv_train_run(j, emit, &o, NULL), want_status, "%s", o.buf ? o.buf : "");
    srv_train_free(j);
    return o;
}

static cJSON *line_of(const sink *o, const char *type, int nth) {
    const char *p = o->buf;
    for (int seen = 0; p && *p;) {
        const char *nl = strchr(p, '\n');
        cJSON *j = cJSON_ParseWithLength(p, (size_t)(nl - p));
        cr_assert_not_null(j, "not JSON: %.*s", (int)(nl - p), p);
        if (!strcmp(cJSON_GetObjectItem(j, "type")->valuestring, type) && seen++ == nth) return j;
        cJSON_Delete(j);
        p = nl + 1;
    }
    return NULL;
}

static double num(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItem(o, key);
    cr_assert(cJSON_IsNumber(v), "no number %s", key);
    return v->valuedouble;
}

Test(srv_train_cnn, stream_lines_in_order_with_their_fields) {
    sink o = run("{\"epochs\": 2, \"train_samples\": 320, \"test_samples\": 100, \"report_every\": 4}", 200);
    cr_assert_eq(o.calls, o.lines, "one line per emit");
    cJSON *start = line_of(&o, "start", 0), *done = line_of(&o, "done", 0);
    cr_assert_not_null(start);
    cr_assert(!strncmp(o.buf, "{\"type\":\"start\"", 15), "start comes first");
    cr_assert_eq(num(start, "steps_per_epoch"), 10);
    cr_assert_eq(num(start, "parameters") >= 206922, 1);
    cr_assert_str_eq(cJSON_GetObjectItem(start, "dataset")->valuestring, "fashion-mnist");
    const cJSON *layers = cJSON_GetObjectItem(start, "layers");
    cr_assert_eq(cJSON_GetArraySize(layers), 5);
    cr_assert_eq(num(cJSON_GetArrayItem(layers, 0), "params"), 16 * 9 + 16);
    cr_assert_eq(num(cJSON_GetArrayItem(layers, 4), "params"), 1568 * 128 + 128 + 128 * 10 + 10);
    cr_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(start, "classes"), 9)->valuestring, "Ankle boot");
    /* progress every 4 steps: 4, 8 in epoch 1, 12, 16, 20 in epoch 2 (and maybe one on time) */
    int progress = 0;
    for (cJSON *p; (p = line_of(&o, "progress", progress)); progress++) {
        cr_assert(num(p, "loss") > 0 && num(p, "accuracy") >= 0 && num(p, "accuracy") <= 1);
        cr_assert(num(p, "images_per_s") > 0);
        cJSON_Delete(p);
    }
    cr_assert_geq(progress, 5);
    for (int e = 0; e < 2; e++) {
        cJSON *ep = line_of(&o, "epoch", e);
        cr_assert_not_null(ep);
        cr_assert_eq(num(ep, "epoch"), e + 1);
        const cJSON *conf = cJSON_GetObjectItem(ep, "confusion");
        cr_assert_eq(cJSON_GetArraySize(conf), 10);
        double total = 0, diag = 0;
        for (int r = 0; r < 10; r++)
            for (int c = 0; c < 10; c++) {
                double v = cJSON_GetArrayItem(cJSON_GetArrayItem(conf, r), c)->valuedouble;
                total += v;
                if (r == c) diag += v;
            }
        cr_assert_eq(total, 100);
        cr_assert_float_eq(num(ep, "test_accuracy"), diag / 100, 1e-12);
        const cJSON *k = cJSON_GetObjectItem(cJSON_GetObjectItem(ep, "kernels"), "shape");
        cr_assert_eq(cJSON_GetArraySize(k), 4);
        cr_assert_eq(cJSON_GetArrayItem(k, 0)->valuedouble, 16);
        cJSON_Delete(ep);
    }
    cr_assert_not_null(done);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(done, "test_accuracy")), 2);
    cr_assert_float_eq(num(cJSON_GetObjectItem(done, "final"), "test_accuracy"),
                       cJSON_GetArrayItem(cJSON_GetObjectItem(done, "test_accuracy"), 1)->valuedouble, 0);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(done, "examples")), 16);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(done, "weights")), 5);
    cr_assert(o.len > 2 && !strcmp(o.buf + o.len - 2, "}\n"), "the done line ends the stream");
    cJSON_Delete(start);
    cJSON_Delete(done);
    free(o.buf);
}

/* The trained weights as /cnn's architecture, on each example image: the same class and
 * probability as the done event says, and "top" names it. */
static void check_weights_run_by_cnn(const cJSON *done) {
    const cJSON *w = cJSON_GetObjectItem(done, "weights"), *ex = cJSON_GetObjectItem(done, "examples");
    for (int i = 0; i < 4; i++) {
        const cJSON *e = cJSON_GetArrayItem(ex, i);
        cJSON *req = cJSON_CreateObject();
        cJSON_AddItemToObject(req, "architecture", cJSON_Duplicate(w, 1));
        cJSON_AddItemToObject(req, "input", cJSON_Duplicate(cJSON_GetObjectItem(e, "image"), 1));
        cJSON_AddStringToObject(req, "classes", "fashion-mnist");
        char *body = cJSON_PrintUnformatted(req);
        srv_response r;
        srv_handle_json(NULL, "cnn", "application/json", body, strlen(body), NULL, &r);
        cr_assert_eq(r.status, 200, "%s", r.body);
        cJSON *res = cJSON_Parse(r.body);
        const cJSON *top = cJSON_GetArrayItem(cJSON_GetObjectItem(res, "top"), 0);
        cr_assert_eq(num(top, "class"), num(e, "predicted"), "example %d", i);
        cr_assert_float_eq(num(top, "p"), num(e, "p"), 1e-5, "example %d", i);
        static const char *const names[10] = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                              "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"};
        cr_assert_str_eq(cJSON_GetObjectItem(top, "name")->valuestring, names[(int)num(e, "predicted")]);
        cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(res, "top")), 3);
        cJSON_Delete(res);
        srv_response_free(&r);
        free(body);
        cJSON_Delete(req);
    }
}

Test(srv_train_cnn, non_stream_body_is_the_done_event_and_repeats_exactly) {
    const char *body = "{\"epochs\": 1, \"train_samples\": 256, \"test_samples\": 64, \"stream\": false, \"seed\": 3,"
                       " \"optimizer\": \"sgd\", \"learning_rate\": 0.05}";
    sink a = run(body, 200), b = run(body, 200);
    cJSON *done = sink_done(&a);
    const char *ea = strstr(a.buf, "\"elapsed_ms\""), *eb = strstr(b.buf, "\"elapsed_ms\"");
    cr_assert_eq(ea - a.buf, eb - b.buf, "same request, same length");
    cr_assert_eq(memcmp(a.buf, b.buf, (size_t)(ea - a.buf)), 0, "same request, same bytes");
    check_weights_run_by_cnn(done);
    cJSON_Delete(done);
    free(a.buf);
    free(b.buf);
}

Test(srv_train_cnn, given_init_and_no_shuffle_repeat_a_run) {
    sink a = run("{\"epochs\": 1, \"train_samples\": 128, \"test_samples\": 32, \"stream\": false, \"shuffle\": false}", 200);
    cJSON *done = cJSON_Parse(a.buf);
    /* continue from the trained weights: the init is the done event's weights */
    cJSON *req = cJSON_CreateObject();
    cJSON_AddItemToObject(req, "init", cJSON_Duplicate(cJSON_GetObjectItem(done, "weights"), 1));
    cJSON_AddNumberToObject(req, "epochs", 1);
    cJSON_AddNumberToObject(req, "train_samples", 128);
    cJSON_AddNumberToObject(req, "test_samples", 32);
    cJSON_AddFalseToObject(req, "shuffle");
    char *body = cJSON_PrintUnformatted(req);
    sink b = run(body, 200);
    cJSON *start = line_of(&b, "start", 0), *done2 = line_of(&b, "done", 0);
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(start, "given_init")));
    /* the second epoch starts where the first ended: its loss is lower */
    double l1 = cJSON_GetArrayItem(cJSON_GetObjectItem(done, "train_loss"), 0)->valuedouble;
    double l2 = cJSON_GetArrayItem(cJSON_GetObjectItem(done2, "train_loss"), 0)->valuedouble;
    cr_assert_lt(l2, l1);
    cJSON_Delete(start);
    cJSON_Delete(done2);
    cJSON_Delete(done);
    cJSON_Delete(req);
    free(body);
    free(a.buf);
    free(b.buf);
}

/* 40 inline images: tensors [28, 28, 1] of a bright square for label 1, dark for label 0. */
static char *inline_body(void) {
    cJSON *req = cJSON_CreateObject(), *ds = cJSON_AddArrayToObject(req, "dataset");
    for (int i = 0; i < 40; i++) {
        cJSON *item = cJSON_CreateObject(), *img = cJSON_AddObjectToObject(item, "image");
        int shape[3] = {28, 28, 1};
        cJSON_AddItemToObject(img, "shape", cJSON_CreateIntArray(shape, 3));
        float px[784];
        for (int p = 0; p < 784; p++) px[p] = (i % 2) ? ((p / 28) % 14 < 7 ? 0.9f : 0.1f) : 0.05f * (float)(p % 3);
        cJSON_AddItemToObject(img, "data", cJSON_CreateFloatArray(px, 784));
        cJSON_AddNumberToObject(item, "label", i % 2);
        cJSON_AddItemToArray(ds, item);
    }
    cJSON_AddItemToObject(req, "test_dataset", cJSON_Duplicate(ds, 1));
    cJSON_AddNumberToObject(req, "epochs", 3);
    cJSON_AddNumberToObject(req, "batch_size", 8);
    char *body = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    return body;
}

Test(srv_train_cnn, an_inline_data_set_needs_no_files) {
    srv_dataset_set_dir("/nonexistent"); /* the inline sets must not touch Fashion-MNIST */
    char *body = inline_body();
    sink o = run(body, 200);
    cJSON *start = line_of(&o, "start", 0), *done = line_of(&o, "done", 0);
    cr_assert_str_eq(cJSON_GetObjectItem(start, "dataset")->valuestring, "inline");
    cr_assert_eq(num(start, "train_samples"), 40);
    cr_assert_eq(num(cJSON_GetObjectItem(done, "final"), "test_accuracy"), 1.0, "two plain patterns are learnt");
    cJSON_Delete(start);
    cJSON_Delete(done);
    free(body);
    free(o.buf);
}

Test(srv_train_cnn, a_missing_data_set_names_the_package) {
    srv_dataset_set_dir("/nonexistent");
    srv_response err;
    const char *body = "{\"epochs\": 1}";
    cr_assert_null(srv_train_prepare(NULL, "cnn", NULL, body, strlen(body), &err));
    cr_assert_eq(err.status, 503);
    cr_assert(strstr(err.body, "apt-get install dataset-fashion-mnist"), "%s", err.body);
    cr_assert(strstr(err.body, "\"field\":\"dataset\""), "%s", err.body);
    srv_response_free(&err);
}

Test(srv_train_cnn, a_cancel_stops_the_run_and_nothing_follows) {
    srv_train_job *j = prepare("{\"epochs\": 3, \"train_samples\": 6400, \"report_every\": 2}");
    atomic_int flag = 0;
    sink o = {.cancel_after_lines = 3, .flag = &flag};
    cr_assert_eq(srv_train_run(j, emit, &o, &flag), 503);
    srv_train_free(j);
    cr_assert_eq(o.lines, 3, "start + two progress lines, then nothing: %s", o.buf);
    free(o.buf);
}

static void expect_err(const char *body, int status, const char *field) { ht_prepare_err(NULL, "cnn", body, status, field); }

Test(srv_train_cnn, bad_parameters_name_their_field) {
    expect_err("{\"epochs\": 0}", 400, "epochs");
    expect_err("{\"epochs\": 100000}", 413, "epochs");
    expect_err("{\"epochs\": 1.5}", 400, "epochs");
    expect_err("{\"batch_size\": 0}", 400, "batch_size");
    expect_err("{\"train_samples\": 10, \"batch_size\": 11}", 400, "batch_size");
    expect_err("{\"train_samples\": 60001}", 400, "train_samples");
    expect_err("{\"test_samples\": 0}", 400, "test_samples");
    expect_err("{\"test_samples\": 10001}", 400, "test_samples");
    expect_err("{\"optimizer\": \"rmsprop\"}", 400, "optimizer");
    expect_err("{\"momentum\": 0.5}", 400, "momentum");
    expect_err("{\"optimizer\": \"sgd\", \"momentum\": 1}", 400, "momentum");
    expect_err("{\"learning_rate\": 0}", 400, "learning_rate");
    expect_err("{\"learning_rate\": \"fast\"}", 400, "learning_rate");
    expect_err("{\"lr_decay\": 0}", 400, "lr_decay");
    expect_err("{\"lr_decay\": 1.5}", 400, "lr_decay");
    expect_err("{\"shuffle\": 1}", 400, "shuffle");
    expect_err("{\"seed\": -1}", 400, "seed");
    expect_err("{\"report_every\": 0}", 400, "report_every");
    expect_err("{\"stream\": \"no\"}", 400, "stream");
    expect_err("{\"dropout\": 0.5}", 400, "dropout");
    expect_err("{\"architecture\": [{\"type\": \"mlp\", \"hidden_layers\": 0, \"output_size\": 5}]}", 400, "architecture");
    expect_err("{\"architecture\": [{\"type\": \"conv\", \"filters\": 4, \"size\": 30}]}", 400, "architecture[0].size");
    expect_err("{\"architecture\": [{\"type\": \"mlp\"}], \"init\": [{\"type\": \"mlp\"}]}", 400, "init");
    expect_err("{\"init\": [{\"type\": \"mlp\", \"hidden_layers\": 0}]}", 400, "init");
    expect_err("{\"architecture\": [{\"type\": \"mlp\", \"hidden_size\": 1000000, \"output_size\": 10}]}", 413, "architecture");
    expect_err("{\"dataset\": []}", 400, "dataset");
    expect_err("{\"dataset\": [{\"image\": [[1]], \"label\": 1}]}", 400, "dataset[0].image");
    expect_err("{\"dataset\": [{\"image\": \"@@@\", \"label\": 1}]}", 400, "dataset[0].image");
    expect_err("{\"test_dataset\": [{\"label\": 1}]}", 400, "test_dataset[0].image");
    const char *img = "{\"shape\": [28, 28], \"data\": [";
    char body[16000];
    size_t n = (size_t)snprintf(body, sizeof body, "{\"dataset\": [{\"image\": %s", img);
    for (int i = 0; i < 784; i++) n += (size_t)snprintf(body + n, sizeof body - n, i ? ",0" : "0");
    snprintf(body + n, sizeof body - n, "]}, \"label\": 10}]}");
    expect_err(body, 400, "dataset[0].label");
}

/* The run's memory is reserved while the job lives and given back when it is freed; with the
 * budget taken by someone else the request is refused (503), not run. */
Test(srv_train_cnn, memory_is_reserved_for_the_job_life) {
    char *body = inline_body();
    srv_budget_init((size_t)64 << 20);
    size_t before = srv_budget_used();
    srv_train_job *j = prepare(body);
    size_t held = srv_budget_used() - before;
    cr_assert_gt(held, (size_t)10 << 20, "the default net and its batch (~11 MB) are counted: %zu", held);
    srv_train_free(j);
    cr_assert_eq(srv_budget_used(), before);
    srv_account other = {0};
    cr_assert_eq(srv_budget_reserve(&other, (size_t)60 << 20, 0), 0);
    srv_response err;
    cr_assert_null(srv_train_prepare(NULL, "cnn", NULL, body, strlen(body), &err));
    cr_assert_eq(err.status, 503, "%s", err.body);
    srv_response_free(&err);
    srv_budget_release(&other);
    free(body);
}

/* "output_format": "npy": the weights and example images come as .npy tensors, and /cnn runs
 * the trained net from them just the same. */
Test(srv_train_cnn, npy_weights_run_by_cnn) {
    sink o = run("{\"epochs\": 1, \"train_samples\": 256, \"test_samples\": 64, \"stream\": false,"
                " \"output_format\": \"npy\"}", 200);
    cJSON *done = cJSON_Parse(o.buf);
    cr_assert_not_null(done);
    const cJSON *k = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(done, "weights"), 0), "kernels");
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(k, "npy")), "kernels as .npy: %.200s", o.buf);
    check_weights_run_by_cnn(done);
    cJSON_Delete(done);
    free(o.buf);
}

/* --max-train-seconds: a run estimated over it is refused (413 naming epochs, with the estimate);
 * a run admitted under it whose thread then computes past it is stopped with an error line.
 * The second case spends the CPU time in the emit callback, which runs on the training thread:
 * 0.4 s of it while the start line is handed over, against a limit of 0.2 s. */
static int burn_on_start(void *ctx, const char *data, size_t len) {
    if (strstr(data, "\"type\":\"start\"")) {
        double t0 = srv_thread_cpu_s();
        while (srv_thread_cpu_s() - t0 < 0.4) {
        }
    }
    return emit(ctx, data, len);
}

Test(srv_train_cnn, the_training_time_limit) {
    srv_limits lim;
    srv_limits_default(&lim);
    srv_response err;
    const char *body = "{\"epochs\": 100}";
    cr_assert_null(srv_train_prepare(&lim, "cnn", NULL, body, strlen(body), &err));
    cr_assert_eq(err.status, 413, "%s", err.body);
    cr_assert(strstr(err.body, "\"field\":\"epochs\"") && strstr(err.body, "estimated at"), "%s", err.body);
    srv_response_free(&err);
    srv_train_job *j = prepare("{}");
    double est = srv_train_estimate_seconds(j);
    cr_assert(est > 15 && est < 60, "the default run is estimated at %.1f CPU-seconds", est);
    srv_train_free(j);

    char *inl = inline_body();
    lim.max_train_seconds = 0.2;
    j = srv_train_prepare(&lim, "cnn", NULL, inl, strlen(inl), &err);
    cr_assert_not_null(j, "%s", err.body);
    cr_assert_lt(srv_train_estimate_seconds(j), 0.2);
    sink o = {0};
    cr_assert_eq(srv_train_run(j, burn_on_start, &o, NULL), 413);
    srv_train_free(j);
    cr_assert(strstr(o.buf, "\"type\":\"error\"") && strstr(o.buf, "passed the limit of 0.2 s"), "%s", o.buf);
    cr_assert(strstr(o.buf, "\"field\":\"epochs\""), "%s", o.buf);
    cr_assert_null(strstr(o.buf, "\"type\":\"done\""));
    free(o.buf);
    free(inl);
}

/* A run's estimate counts pooling at the training kernels' cost: a net that is almost all one
 * 14x14 max pooling over the 28x28 image (C = 1, where the argmax scan costs the most per
 * float) takes, in CPU time, no more than twice its estimate, and not under a fifth of it. /cnn's
 * inference count (the separable kernel) put that layer at a twelfth of its training cost. */
static double process_cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

Test(srv_train_cnn, pooling_is_estimated_at_its_training_cost) {
    srv_train_job *j = prepare("{\"architecture\": [{\"type\": \"pool\", \"function\": \"max\", \"size\": 14,"
                               " \"stride\": 1}, {\"type\": \"mlp\", \"hidden_layers\": 0, \"output_size\": 10}],"
                               " \"epochs\": 1, \"train_samples\": 2048, \"test_samples\": 512, \"stream\": false}");
    double est = srv_train_estimate_seconds(j), t0 = process_cpu_s();
    sink o = {0};
    cr_assert_eq(srv_train_run(j, emit, &o, NULL), 200, "%s", o.buf ? o.buf : "");
    double cpu = process_cpu_s() - t0;
    srv_train_free(j);
    free(o.buf);
    cr_assert(cpu < 2.0 * est && cpu > 0.2 * est, "estimated %.3f CPU-s, took %.3f", est, cpu);
}
