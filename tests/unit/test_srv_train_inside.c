/* test_srv_train_inside.c — what POST /train/{rnn,lstm,gru} shows of the net's inside, without a
 * socket: every epoch line's "gradient_by_step" (the core's probe, to the bit; its length the
 * test set's longest sequence; none with "probe_samples": 0), and "export": "pytorch" — the
 * script in the start line (streamed) or the done object (not streamed), whose RUN and DATA hold
 * exactly the settings, data sets and initial weights the run starts from (nn_rnn_train_begin);
 * bad values and an export over the body limit name their field. That the script trains to
 * the same losses in PyTorch is checked by clients/python/tests/test_rnn_export.py. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler_test.h"
#include "ndjson_sink.h"
#include "npy_test.h"
#include "nn_rnn_train.h"
#include "srv_api.h"

static srv_train_job *prepare(const char *model, const char *body) { return ht_prepare(NULL, model, body); }

static void expect_err(const char *body, int status, const char *field) {
    srv_limits lim;
    srv_limits_default(&lim);
    lim.max_samples = 10000;
    ht_prepare_err(&lim, "lstm", body, status, field);
}

/* The lines of a streamed run of `body` (caller frees lines and *text). */
static int run_lines(const char *model, const char *body, cJSON **lines, int max, char **text) {
    srv_train_job *j = prepare(model, body);
    sink s = {0};
    cr_assert_eq(srv_train_run(j, emit, &s, NULL), 200, "%s", s.buf);
    srv_train_free(j);
    *text = s.buf;
    return parse_lines(s.buf, lines, max);
}

typedef struct {
    double grad[3][32];
    size_t steps, count;
    int epochs;
} core_probe;

static int capture(void *ctx, const nn_rnn_train_event *ev) {
    core_probe *p = ctx;
    if (ev->kind == NN_RNN_TRAIN_EPOCH && ev->grad_by_step) {
        cr_assert_leq(ev->grad_steps, 32);
        memcpy(p->grad[p->epochs++], ev->grad_by_step, ev->grad_steps * sizeof(double));
        p->steps = ev->grad_steps;
        p->count = ev->probe_count;
    }
    return 0;
}

Test(srv_train_inside, epoch_lines_carry_the_gradient_by_step) {
    static const char body[] = "{\"samples\": 40, \"test_samples\": 30, \"min_length\": 5, \"max_length\": 20, "
                               "\"epochs\": 3, \"hidden_size\": 4, \"seed\": 4, \"probe_samples\": 3}";
    cJSON *lines[64];
    char *text;
    int n = run_lines("rnn", body, lines, 64, &text);
    nn_rnn_train_config c;
    nn_rnn_train_config_default(&c);
    c.samples = 40, c.test_samples = 30, c.min_length = 5, c.max_length = 20, c.epochs = 3, c.hidden = 4;
    c.seed = 4, c.probe_samples = 3;
    core_probe want = {0};
    nn_rnn_train_result r;
    cr_assert_eq(nn_rnn_train_run(&c, capture, &want, &r, NULL), NN_OK);
    nn_rnn_train_result_free(&r);
    cr_assert_eq(want.epochs, 3);
    cr_assert_eq(cJSON_GetObjectItem(lines[0], "probe_samples")->valuedouble, 3);
    int epochs = 0;
    for (int i = 0; i < n; i++) {
        const cJSON *g = cJSON_GetObjectItem(lines[i], "gradient_by_step");
        if (strcmp(type_of(lines[i]), "epoch")) {
            cr_assert_null(g, "only epoch lines carry it");
            continue;
        }
        cr_assert(cJSON_IsArray(g));
        cr_assert_eq((size_t)cJSON_GetArraySize(g), want.steps);
        cr_assert_eq(cJSON_GetObjectItem(lines[i], "probe_samples")->valuedouble, want.count);
        for (size_t t = 0; t < want.steps; t++)
            cr_assert_eq(cJSON_GetArrayItem(g, (int)t)->valuedouble, want.grad[epochs][t], "epoch %d step %zu", epochs + 1, t);
        /* An Elman net: the last step gets the most, the first the least. */
        cr_assert_gt(want.grad[epochs][want.steps - 1], want.grad[epochs][0]);
        epochs++;
    }
    cr_assert_eq(epochs, 3);
    cr_assert_eq(want.count, 3);
    for (int i = 0; i < n; i++) cJSON_Delete(lines[i]);
    free(text);
    /* "probe_samples": 0: no probe. */
    n = run_lines("rnn", "{\"samples\": 10, \"test_samples\": 5, \"epochs\": 1, \"probe_samples\": 0}", lines, 64, &text);
    for (int i = 0; i < n; i++) {
        cr_assert_null(cJSON_GetObjectItem(lines[i], "gradient_by_step"));
        cJSON_Delete(lines[i]);
    }
    free(text);
}

/* A Python literal "NAME = {...}" of the script: the object text (JSON as nnlabd writes it). */
static cJSON *literal(const char *script, const char *name) {
    char head[32];
    snprintf(head, sizeof head, "\n%s = {", name);
    const char *a = strstr(script, head);
    cr_assert_not_null(a, "no %s in the script", name);
    a += strlen(head) - 1;
    const char *end;
    cJSON *j = cJSON_ParseWithOpts(a, &end, 0);
    cr_assert_not_null(j, "%s is not JSON: %.200s", name, a);
    cr_assert_eq(*end, '\n');
    return j;
}

/* DATA[name] (a .npy tensor) equals v [n] exactly. */
static void same_array(const cJSON *data, const char *name, const double *v, size_t n) {
    size_t shape[8], nd, count;
    double *got = tnpy_read(cJSON_GetObjectItem(data, name), shape, &nd, &count, "float64");
    cr_assert_eq(count, n, "%s: %zu values, want %zu", name, count, n);
    cr_assert_eq(memcmp(got, v, n * sizeof *v), 0, "%s differs", name);
    free(got);
}

static void check_script(const char *script, const nn_rnn_train_config *c) {
    cr_assert_eq(strncmp(script, "#!/usr/bin/env python3\n", 23), 0);
    cr_assert_null(strstr(script, "@nnlab-run@"));
    cr_assert_not_null(strstr(script, "torch.nn.utils.clip_grad_norm_"));
    cJSON *run = literal(script, "RUN"), *data = literal(script, "DATA");
    cr_assert_str_eq(cJSON_GetObjectItem(run, "model")->valuestring, nn_rnn_kind_name(c->model));
    cr_assert_eq(cJSON_GetObjectItem(run, "hidden_size")->valuedouble, c->hidden);
    cr_assert_eq(cJSON_GetObjectItem(run, "batch_size")->valuedouble, c->batch_size);
    cr_assert_eq(cJSON_GetObjectItem(run, "learning_rate")->valuedouble, c->lr);
    cr_assert_eq(cJSON_GetObjectItem(run, "clip")->valuedouble, c->clip);
    nn_seqset train, test;
    nn_rnn_model m;
    cr_assert_eq(nn_rnn_train_begin(c, &train, &test, &m, NULL), NN_OK);
    same_array(data, "train_x", train.x, 2 * train.total);
    same_array(data, "train_y", train.y, train.count);
    same_array(data, "test_x", test.x, 2 * test.total);
    same_array(data, "test_y", test.y, test.count);
    double *len = malloc(test.count * sizeof *len);
    for (size_t i = 0; i < test.count; i++) len[i] = (double)nn_seqset_len(&test, i);
    same_array(data, "test_length", len, test.count);
    free(len);
    for (int p = 0; p < NN_RNN_NPARAMS; p++) {
        double w[512];
        cr_assert_leq(m.numel[p], 512);
        nn_rnn_model_get_param(&m, p, w);
        same_array(data, nn_rnn_param_name(p), w, m.numel[p]);
    }
    cr_assert_eq(cJSON_GetArraySize(data), 6 + NN_RNN_NPARAMS);
    nn_rnn_model_free(&m);
    nn_seqset_free(&train);
    nn_seqset_free(&test);
    cJSON_Delete(run);
    cJSON_Delete(data);
}

Test(srv_train_inside, export_holds_the_run_s_data_and_weights) {
    nn_rnn_train_config c;
    nn_rnn_train_config_default(&c);
    c.model = NN_RNN_LSTM;
    c.samples = 25, c.test_samples = 7, c.epochs = 2, c.hidden = 5, c.batch_size = 4, c.seed = 12, c.lr = 0.01;
    static const char body[] = "{\"samples\": 25, \"test_samples\": 7, \"epochs\": 2, \"hidden_size\": 5, "
                               "\"batch_size\": 4, \"seed\": 12, \"learning_rate\": 0.01, \"export\": \"pytorch\"%s}";
    char req[512];
    cJSON *lines[64];
    char *text;
    snprintf(req, sizeof req, body, "");
    int n = run_lines("lstm", req, lines, 64, &text);
    const cJSON *script = cJSON_GetObjectItem(lines[0], "pytorch");
    cr_assert(cJSON_IsString(script), "the start line carries the script");
    check_script(script->valuestring, &c);
    cr_assert_null(cJSON_GetObjectItem(lines[n - 1], "pytorch"));
    for (int i = 0; i < n; i++) cJSON_Delete(lines[i]);
    free(text);
    /* Not streamed: the done object carries it. */
    snprintf(req, sizeof req, body, ", \"stream\": false");
    srv_train_job *j = prepare("lstm", req);
    sink s = {0};
    cr_assert_eq(srv_train_run(j, emit, &s, NULL), 200);
    srv_train_free(j);
    cJSON *done = cJSON_Parse(s.buf);
    cr_assert(cJSON_IsString(cJSON_GetObjectItem(done, "pytorch")));
    check_script(cJSON_GetObjectItem(done, "pytorch")->valuestring, &c);
    cJSON_Delete(done);
    free(s.buf);
}

Test(srv_train_inside, bad_values_name_their_field) {
    expect_err("{\"probe_samples\": -1}", 400, "probe_samples");
    expect_err("{\"probe_samples\": 1.5}", 400, "probe_samples");
    expect_err("{\"probe_samples\": 10001}", 413, "probe_samples");
    expect_err("{\"export\": \"tensorflow\"}", 400, "export");
    expect_err("{\"export\": true}", 400, "export");
    /* 10000 sequences of 1000 steps: 160 MB of data, beyond the 16 MiB body limit. */
    expect_err("{\"samples\": 10000, \"min_length\": 1000, \"max_length\": 1000, \"epochs\": 1, "
               "\"export\": \"pytorch\"}", 413, "export");
}

/* An export's script is counted with the run's memory before the run starts. */
Test(srv_train_inside, export_memory_is_reserved_with_the_run) {
    static const char plain[] = "{\"samples\": 2000, \"min_length\": 50, \"max_length\": 50}";
    static const char with[] = "{\"samples\": 2000, \"min_length\": 50, \"max_length\": 50, \"export\": \"pytorch\"}";
    srv_train_job *a = prepare("gru", plain), *b = prepare("gru", with);
    size_t extra = srv_train_memory_bytes(b) - srv_train_memory_bytes(a);
    /* 3000 sequences of 50 steps: 2.4 MB of float64 values, 3.2 MB as base64, three times over */
    cr_assert_gt(extra, (size_t)9 << 20, "%zu bytes", extra);
    cr_assert_lt(extra, (size_t)12 << 20, "%zu bytes", extra);
    srv_train_free(a);
    srv_train_free(b);
}
