/* test_srv_train.c — the training job protocol without a socket: NDJSON lines in order
 * (start, progress, epoch, done), the non-streaming body, cancellation, divergence, validation
 * errors, determinism, and a run with a given data set and initial weights against PyTorch's
 * trained weights (tests/fixtures/rnn_train.json). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "handler_test.h"
#include "ndjson_sink.h"
#include "nn_rnn_train.h"
#include "rnn_config.h"
#include "srv_api.h"

static srv_train_job *prepare(const char *model, const char *body) { return ht_prepare(NULL, model, body); }

/* The error's message for a rejected body. */
static char *err_message(const char *model, const char *body) {
    srv_limits lim;
    srv_limits_default(&lim);
    srv_response err;
    srv_train_job *j = srv_train_prepare(&lim, model, "application/json", body, strlen(body), &err);
    cr_assert_null(j, "%s accepted", body);
    cJSON *r = cJSON_Parse(err.body);
    char *m = strdup(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "error"), "message")->valuestring);
    cJSON_Delete(r);
    srv_response_free(&err);
    return m;
}

/* Refused with max_samples 10 000: its 413s are checked at that bound. */
static void expect_err(const char *model, const char *body, int status, const char *field) {
    srv_limits lim;
    srv_limits_default(&lim);
    lim.max_samples = 10000;
    ht_prepare_err(&lim, model, body, status, field);
}


Test(srv_train, stream_protocol_and_values) {
    const char *body = "{\"samples\": 60, \"test_samples\": 20, \"epochs\": 3, \"hidden_size\": 4,"
                       " \"report_every\": 25, \"seed\": 11, \"learning_rate\": 0.01, \"batch_size\": 2}";
    srv_train_job *j = prepare("gru", body);
    cr_assert_eq(srv_train_streaming(j), 1);
    sink s = {0};
    cr_assert_eq(srv_train_run(j, emit, &s, NULL), 200);
    srv_train_free(j);
    cr_assert_eq(s.calls, s.lines, "one line per emit");
    cJSON *lines[64];
    int n = parse_lines(s.buf, lines, 64);
    cr_assert_str_eq(type_of(lines[0]), "start");
    cr_assert_str_eq(cJSON_GetObjectItem(lines[0], "model")->valuestring, "gru");
    cr_assert_eq(cJSON_GetObjectItem(lines[0], "steps_per_epoch")->valuedouble, 30);
    cr_assert_str_eq(type_of(lines[n - 1]), "done");
    int progress = 0, epochs = 0;
    double last_step = 0;
    for (int i = 1; i < n - 1; i++) {
        const char *t = type_of(lines[i]);
        if (!strcmp(t, "progress")) {
            progress++;
            double step = cJSON_GetObjectItem(lines[i], "step")->valuedouble;
            cr_assert_eq(fmod(step, 25), 0.0);
            cr_assert_gt(step, last_step);
            last_step = step;
            cr_assert(isfinite(cJSON_GetObjectItem(lines[i], "loss")->valuedouble));
        } else {
            cr_assert_str_eq(t, "epoch");
            epochs++;
            cr_assert_eq(cJSON_GetObjectItem(lines[i], "epoch")->valuedouble, epochs);
            cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(lines[i], "test_loss")));
            cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(lines[i], "baseline_loss")));
        }
    }
    cr_assert_eq(progress, 90 / 25);
    cr_assert_eq(epochs, 3);
    /* The same run straight through the core gives the same numbers. */
    nn_rnn_train_config cfg = rc_config(NN_RNN_GRU, 60, 20, 3);
    cfg.hidden = 4;
    cfg.seed = 11;
    cfg.lr = 0.01;
    cfg.batch_size = 2;
    nn_rnn_train_result res;
    cr_assert_eq(nn_rnn_train_run(&cfg, NULL, NULL, &res, NULL), NN_OK);
    cJSON *done = lines[n - 1];
    cJSON *tl = cJSON_GetObjectItem(done, "train_loss"), *vl = cJSON_GetObjectItem(done, "test_loss");
    cr_assert_eq(cJSON_GetArraySize(tl), 3);
    for (int e = 0; e < 3; e++) {
        cr_assert_eq(cJSON_GetArrayItem(tl, e)->valuedouble, res.train_loss[e]);
        cr_assert_eq(cJSON_GetArrayItem(vl, e)->valuedouble, res.test_loss[e]);
    }
    cr_assert_eq(cJSON_GetObjectItem(done, "baseline_loss")->valuedouble, res.baseline_test);
    cr_assert_eq(cJSON_GetObjectItem(done, "test_accuracy")->valuedouble, res.test_accuracy);
    cJSON *w = cJSON_GetObjectItem(done, "weights");
    const char *names[] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh", "fc.weight", "fc.bias"};
    for (int p = 0; p < 6; p++) {
        cJSON *t = cJSON_GetObjectItem(w, names[p]);
        cr_assert_not_null(t, "%s", names[p]);
        cJSON *data = cJSON_GetObjectItem(t, "data");
        cr_assert_eq((size_t)cJSON_GetArraySize(data), res.numel[p]);
        for (size_t i = 0; i < res.numel[p]; i++)
            cr_assert_eq(cJSON_GetArrayItem(data, (int)i)->valuedouble, res.weights[p][i], "%s[%zu]", names[p], i);
    }
    size_t want_ih[2] = {12, 2};
    cJSON *sh = cJSON_GetObjectItem(cJSON_GetObjectItem(w, "weight_ih"), "shape");
    cr_assert_eq(cJSON_GetArrayItem(sh, 0)->valuedouble, want_ih[0]);
    /* The test predictions and example sequences, exactly as the core kept them. */
    cJSON *tp = cJSON_GetObjectItem(done, "test_predictions"), *ex = cJSON_GetObjectItem(done, "examples");
    cr_assert_eq((size_t)cJSON_GetArraySize(tp), res.pred_count);
    cr_assert_eq(res.pred_count, 20u);
    for (size_t i = 0; i < res.pred_count; i++) {
        cJSON *o = cJSON_GetArrayItem(tp, (int)i);
        cr_assert_eq(cJSON_GetObjectItem(o, "y")->valuedouble, res.pred_y[i], "test_predictions[%zu].y", i);
        cr_assert_eq(cJSON_GetObjectItem(o, "pred")->valuedouble, res.pred[i], "test_predictions[%zu].pred", i);
    }
    cr_assert_eq((size_t)cJSON_GetArraySize(ex), res.example_count);
    const double *xs = res.example_x;
    for (size_t k = 0; k < res.example_count; k++) {
        cJSON *o = cJSON_GetArrayItem(ex, (int)k), *x = cJSON_GetObjectItem(o, "x");
        cr_assert_eq(cJSON_GetObjectItem(o, "y")->valuedouble, res.pred_y[k]);
        cr_assert_eq(cJSON_GetObjectItem(o, "pred")->valuedouble, res.pred[k]);
        cr_assert_eq((size_t)cJSON_GetArraySize(x), res.example_len[k]);
        for (size_t t = 0; t < res.example_len[k]; t++, xs += 2) {
            cJSON *step = cJSON_GetArrayItem(x, (int)t);
            cr_assert_eq(cJSON_GetArrayItem(step, 0)->valuedouble, xs[0], "examples[%zu].x[%zu]", k, t);
            cr_assert_eq(cJSON_GetArrayItem(step, 1)->valuedouble, xs[1]);
        }
    }
    nn_rnn_train_result_free(&res);
    for (int i = 0; i < n; i++) cJSON_Delete(lines[i]);
    free(s.buf);
}

Test(srv_train, non_stream_body_and_determinism) {
    const char *body = "{\"samples\": 30, \"test_samples\": 10, \"epochs\": 2, \"hidden_size\": 3, \"stream\": false, \"seed\": 5}";
    sink a = {0}, b = {0};
    srv_train_job *j = prepare("lstm", body);
    cr_assert_eq(srv_train_streaming(j), 0);
    cr_assert_eq(srv_train_run(j, emit, &a, NULL), 200);
    srv_train_free(j);
    j = prepare("lstm", body);
    cr_assert_eq(srv_train_run(j, emit, &b, NULL), 200);
    srv_train_free(j);
    cJSON *r = sink_done(&a);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "train_loss")), 2);
    cJSON_Delete(r);
    /* Same request, same bytes (apart from the final elapsed_ms). */
    const char *ea = strstr(a.buf, "\"elapsed_ms\""), *eb = strstr(b.buf, "\"elapsed_ms\"");
    cr_assert_eq(ea - a.buf, eb - b.buf);
    cr_assert_eq(memcmp(a.buf, b.buf, (size_t)(ea - a.buf)), 0);
    free(a.buf);
    free(b.buf);
}

Test(srv_train, cancel_flag_stops_quickly) {
    const char *body = "{\"samples\": 5000, \"epochs\": 50, \"report_every\": 10}";
    srv_train_job *j = prepare("rnn", body);
    atomic_int flag = 0;
    sink s = {0};
    s.cancel_after_lines = 3; /* start + two progress lines */
    s.flag = &flag;
    int status = srv_train_run(j, emit, &s, &flag);
    srv_train_free(j);
    cr_assert_neq(status, 200);
    cr_assert_eq(s.lines, 3, "nothing more is emitted after a cancel (got %d lines)", s.lines);
    free(s.buf);
    /* An emit that refuses (client gone) stops the run too. */
    j = prepare("rnn", body);
    sink t = {0};
    t.refuse_after = 2;
    cr_assert_neq(srv_train_run(j, emit, &t, NULL), 200);
    cr_assert_eq(t.calls, 2);
    srv_train_free(j);
    free(t.buf);
}

Test(srv_train, divergence_reported) {
    const char *body = "{\"dataset\": [{\"x\": [[0.5, 1], [0.2, 1]], \"y\": 1e200}, {\"x\": [[0.1, 1], [0.3, 1]], \"y\": 1e200}],"
                       " \"test_samples\": 4, \"epochs\": 2, \"report_every\": 1}";
    srv_train_job *j = prepare("rnn", body);
    sink s = {0};
    cr_assert_eq(srv_train_run(j, emit, &s, NULL), 400);
    srv_train_free(j);
    cJSON *lines[16];
    int n = parse_lines(s.buf, lines, 16);
    cr_assert_str_eq(type_of(lines[n - 1]), "error");
    cr_assert_not_null(strstr(cJSON_GetObjectItem(lines[n - 1], "message")->valuestring, "diverged at step 1"));
    cr_assert_eq(cJSON_GetObjectItem(lines[n - 1], "step")->valuedouble, 1);
    for (int i = 0; i < n; i++) {
        cr_assert_str_neq(type_of(lines[i]), "done");
        cJSON_Delete(lines[i]);
    }
    cr_assert_null(strstr(s.buf, "NaN"));
    free(s.buf);
    char nb[512];
    snprintf(nb, sizeof nb, "%.*s, \"stream\": false}", (int)strlen(body) - 1, body);
    j = prepare("rnn", nb);
    sink t = {0};
    cr_assert_eq(srv_train_run(j, emit, &t, NULL), 400);
    srv_train_free(j);
    cJSON *r = cJSON_Parse(t.buf);
    cr_assert_not_null(r);
    cJSON *e = cJSON_GetObjectItem(r, "error");
    /* targets of 1e200 make the loss infinite at step 1, before any update: the data set's fault */
    cr_assert_str_eq(cJSON_GetObjectItem(e, "field")->valuestring, "dataset");
    cJSON_Delete(r);
    free(t.buf);
}

Test(srv_train, validation_errors) {
    expect_err("transformer", "{}", 404, NULL);
    expect_err("rnn", "{\"samples\": 0}", 400, "samples");
    expect_err("rnn", "{\"samples\": 2.5}", 400, "samples");
    expect_err("rnn", "{\"samples\": 1e9}", 413, "samples");
    expect_err("rnn", "{\"test_samples\": 20000}", 413, "test_samples");
    expect_err("rnn", "{\"epochs\": 100000}", 413, "epochs");
    expect_err("rnn", "{\"hidden_size\": 100000}", 413, "hidden_size");
    expect_err("rnn", "{\"min_length\": 1}", 400, "min_length");
    expect_err("rnn", "{\"min_length\": 5, \"max_length\": 4}", 400, "max_length");
    expect_err("rnn", "{\"max_length\": 100000}", 413, "max_length");
    expect_err("rnn", "{\"learning_rate\": 0}", 400, "learning_rate");
    expect_err("rnn", "{\"learning_rate\": \"fast\"}", 400, "learning_rate");
    expect_err("rnn", "{\"clip\": -1}", 400, "clip");
    expect_err("rnn", "{\"batch_size\": 0}", 400, "batch_size");
    expect_err("rnn", "{\"samples\": 10, \"batch_size\": 11}", 400, "batch_size");
    expect_err("rnn", "{\"report_every\": 0}", 400, "report_every");
    expect_err("rnn", "{\"stream\": \"yes\"}", 400, "stream");
    expect_err("rnn", "{\"seed\": -4}", 400, "seed");
    expect_err("rnn", "{\"epochs\": 2, \"epochs\": 3}", 400, "epochs");
    expect_err("rnn", "{\"epochs\": 2} x", 400, "body");
    expect_err("rnn", "{\"epoch\": 2}", 400, "epoch");
    expect_err("lstm", "{\"dataset\": []}", 400, "dataset");
    expect_err("lstm", "{\"dataset\": [{\"x\": [[1, 0]], \"y\": 1}, {\"x\": [[1]], \"y\": 1}]}", 400, "dataset[1].x[0]");
    expect_err("lstm", "{\"dataset\": [{\"x\": [[1, 0]]}]}", 400, "dataset[0].y");
    expect_err("lstm", "{\"dataset\": [{\"x\": [[1, \"a\"]], \"y\": 1}]}", 400, "dataset[0].x[0][1]");
    expect_err("gru", "{\"hidden_size\": 3, \"init\": {\"weight_ih\": [[1, 2]]}}", 400, "init.weight_ih");
    expect_err("gru", "{\"init\": {\"weight_xx\": [1]}}", 400, "init.weight_xx");
    expect_err("gru", "{\"init\": [1]}", 400, "init");
    /* Work budget: one step, one test evaluation and the whole run are bounded. */
    expect_err("lstm", "{\"samples\": 10000, \"batch_size\": 10000, \"max_length\": 1000, \"hidden_size\": 256}", 413, "batch_size");
    expect_err("lstm", "{\"test_samples\": 10000, \"max_length\": 1000, \"hidden_size\": 256}", 413, "test_samples");
    expect_err("lstm", "{\"samples\": 10000, \"epochs\": 1000, \"max_length\": 1000, \"hidden_size\": 200, \"test_samples\": 10}", 413, "epochs");
    srv_limits lim;
    srv_limits_default(&lim);
    srv_response err;
    cr_assert_null(srv_train_prepare(&lim, "rnn", "text/html", "{}", 2, &err));
    cr_assert_eq(err.status, 415);
    srv_response_free(&err);
}

/* A too-small size names the real range (this server's limit), never the 2^53 parsing bound. */
Test(srv_train, range_messages_name_the_real_limits) {
    static const struct { const char *body, *want; } cases[] = {
        {"{\"epochs\": 0}", "epochs must be between 1 and 1000 (got 0)"},
        {"{\"samples\": -3}", "samples must be between 1 and 100000 (got -3)"},
        {"{\"hidden_size\": 0}", "hidden_size must be between 1 and 256 (got 0)"},
        {"{\"min_length\": 1}", "min_length must be between 2 and 1000 (got 1)"},
        {"{\"batch_size\": 0}", "batch_size must be at least 1 (got 0)"},
        {"{\"report_every\": 0}", "report_every must be at least 1 (got 0)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *m = err_message("rnn", cases[i].body);
        cr_assert_str_eq(m, cases[i].want, "%s", cases[i].body);
        cr_assert_null(strstr(m, "9007199254740992"));
        free(m);
    }
}

/* A given data set and initial weights reproduce PyTorch's trained weights. */
Test(srv_train, given_dataset_and_init_match_pytorch) {
    cJSON *fx = fx_require("rnn_train.json");
    int cases = 0;
    for (const cJSON *c = fx_cases(fx); c; c = c->next) {
        const char *model = fx_str(c, "model");
        size_t shape[8], nd, nx;
        double *x = fx_tensor_f64(c, "x", shape, &nd, &nx);
        cJSON *lens = cJSON_GetObjectItem(c, "len"), *ys = cJSON_GetObjectItem(c, "y");
        cJSON *req = cJSON_CreateObject(), *ds = cJSON_AddArrayToObject(req, "dataset");
        size_t off = 0;
        for (int i = 0; i < cJSON_GetArraySize(lens); i++) {
            cJSON *s = cJSON_CreateObject(), *xs = cJSON_AddArrayToObject(s, "x");
            size_t T = (size_t)cJSON_GetArrayItem(lens, i)->valuedouble;
            for (size_t t = 0; t < T; t++, off++) {
                double pair[2] = {x[2 * off], x[2 * off + 1]};
                cJSON_AddItemToArray(xs, cJSON_CreateDoubleArray(pair, 2));
            }
            cJSON_AddNumberToObject(s, "y", cJSON_GetArrayItem(ys, i)->valuedouble);
            cJSON_AddItemToArray(ds, s);
        }
        free(x);
        cJSON_AddItemReferenceToObject(req, "init", cJSON_GetObjectItem(c, "init"));
        cJSON_AddNumberToObject(req, "hidden_size", fx_num(c, "hidden"));
        cJSON_AddNumberToObject(req, "epochs", fx_num(c, "epochs"));
        cJSON_AddNumberToObject(req, "batch_size", fx_num(c, "batch_size"));
        cJSON_AddNumberToObject(req, "learning_rate", fx_num(c, "lr"));
        cJSON_AddNumberToObject(req, "clip", fx_num(c, "clip"));
        cJSON_AddNumberToObject(req, "test_samples", 5);
        cJSON_AddFalseToObject(req, "stream");
        char *body = cJSON_PrintUnformatted(req);
        srv_train_job *j = prepare(model, body);
        sink s = {0};
        cr_assert_eq(srv_train_run(j, emit, &s, NULL), 200, "%s", s.buf);
        srv_train_free(j);
        cJSON *done = cJSON_Parse(s.buf);
        cJSON *w = cJSON_GetObjectItem(done, "weights"), *fin = cJSON_GetObjectItem(c, "final");
        const cJSON *p;
        cJSON_ArrayForEach(p, fin) {
            size_t n, gn = 0;
            double *want = fx_tensor_f64(fin, p->string, shape, &nd, &n);
            cJSON *got = cJSON_GetObjectItem(cJSON_GetObjectItem(w, p->string), "data");
            double *g = malloc(n * sizeof *g);
            const cJSON *v;
            cJSON_ArrayForEach(v, got) g[gn++] = v->valuedouble;
            cr_assert_eq(gn, n, "%s %s", fx_str(c, "name"), p->string);
            double err = fx_max_rel_err_f64(g, want, n, 1e-3);
            cr_assert(err < 1e-6, "%s %s: rel err %g", fx_str(c, "name"), p->string, err);
            free(g);
            free(want);
        }
        cJSON_Delete(done);
        free(s.buf);
        free(body);
        cJSON_Delete(req);
        cases++;
    }
    cr_assert_geq(cases, 3);
    cJSON_Delete(fx);
}
