/* test_srv_run.c — POST /run/{rnn,lstm,gru} through srv_handle_json (no socket): on PyTorch's
 * weights and sequences (tests/fixtures/rnn_inside.json) the output, hidden states, gates and
 * the LSTM's cell state equal torch's; a done event's weights go back in as they are (JSON and
 * .npy, the same bits either way); every malformed or oversized request is a 400 / 413 naming
 * its field. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "handler_test.h"
#include "ndjson_sink.h"
#include "npy_test.h"
#include "srv_api.h"

/* got's "data" against the fixture tensor want (same shape), relative 1e-13. */
static void same_tensor(const cJSON *got, const cJSON *want_obj, const char *key, const char *what) {
    size_t shape[8], nd, n;
    double *want = fx_tensor_f64(want_obj, key, shape, &nd, &n);
    const cJSON *sh = cJSON_GetObjectItem(got, "shape"), *data = cJSON_GetObjectItem(got, "data");
    cr_assert_eq(cJSON_GetArraySize(sh), (int)nd, "%s", what);
    for (size_t d = 0; d < nd; d++) cr_assert_eq((size_t)cJSON_GetArrayItem(sh, (int)d)->valuedouble, shape[d], "%s", what);
    cr_assert_eq((size_t)cJSON_GetArraySize(data), n, "%s", what);
    size_t i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, data) {
        cr_assert(fabs(v->valuedouble - want[i]) <= 1e-13 * fmax(1.0, fabs(want[i])), "%s[%zu]: %.17g, torch %.17g",
                  what, i, v->valuedouble, want[i]);
        i++;
    }
    free(want);
}

Test(srv_run, states_and_gates_equal_torch) {
    cJSON *doc = fx_require("rnn_inside.json");
    int seqs = 0;
    for (const cJSON *c = fx_cases(doc); c; c = c->next) {
        const char *model = fx_str(c, "model");
        char ep[16];
        snprintf(ep, sizeof ep, "run/%s", model);
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItem(c, "sequences")) {
            cJSON *req = cJSON_CreateObject();
            cJSON_AddItemToObject(req, "weights", cJSON_Duplicate(cJSON_GetObjectItem(c, "weights"), 1));
            cJSON_AddItemToObject(req, "sequence", cJSON_Duplicate(cJSON_GetObjectItem(s, "x"), 1));
            char *body = cJSON_PrintUnformatted(req);
            cJSON *r = ht_post_ok(NULL, ep, body);
            double out = cJSON_GetObjectItem(r, "output")->valuedouble, want = fx_num(s, "output");
            cr_assert(fabs(out - want) <= 1e-13 * fmax(1.0, fabs(want)), "%s output %.17g torch %.17g", fx_str(c, "name"), out, want);
            cr_assert_str_eq(cJSON_GetObjectItem(r, "model")->valuestring, model);
            cr_assert_eq(cJSON_GetObjectItem(r, "hidden_size")->valuedouble, fx_num(c, "hidden"));
            same_tensor(cJSON_GetObjectItem(r, "hidden"), s, "hidden", "hidden");
            const cJSON *gates = cJSON_GetObjectItem(r, "gates"), *want_g = cJSON_GetObjectItem(s, "gates");
            cr_assert(cJSON_IsObject(gates));
            int ngot = cJSON_GetArraySize(gates), nwant = cJSON_GetArraySize(want_g);
            const cJSON *g;
            cJSON_ArrayForEach(g, want_g) same_tensor(cJSON_GetObjectItem(gates, g->string), want_g, g->string, g->string);
            if (!strcmp(model, "lstm")) {
                same_tensor(cJSON_GetObjectItem(gates, "cell"), s, "cell", "cell");
                cr_assert_eq(ngot, 5);
            } else {
                cr_assert_eq(ngot, nwant, "%s: %d gates", model, ngot);
            }
            cJSON_Delete(r);
            free(body);
            cJSON_Delete(req);
            seqs++;
        }
    }
    cr_assert_eq(seqs, 15);
    cJSON_Delete(doc);
}

/* A small trained net's done event (stream false, output_format as given): the text of its
 * "weights" object exactly as the daemon wrote it (cJSON would print numbers to 15 digits). */
static char *trained(const char *model, const char *format) {
    char body[256];
    snprintf(body, sizeof body, "{\"samples\": 20, \"test_samples\": 5, \"epochs\": 1, \"hidden_size\": 3, "
                                "\"seed\": 2, \"stream\": false, \"output_format\": \"%s\"}", format);
    srv_limits lim;
    srv_limits_default(&lim);
    srv_response err;
    srv_train_job *j = srv_train_prepare(&lim, model, "application/json", body, strlen(body), &err);
    cr_assert_not_null(j, "%s", err.body);
    sink s = {0};
    cr_assert_eq(srv_train_run(j, emit, &s, NULL), 200);
    srv_train_free(j);
    char *a = strstr(s.buf, "\"weights\":"), *b = strstr(s.buf, ",\"elapsed_ms\"");
    cr_assert(a && b && b > a);
    a += strlen("\"weights\":");
    memmove(s.buf, a, (size_t)(b - a));
    s.buf[b - a] = '\0';
    return s.buf;
}

static cJSON *run_with(const char *model, const char *weights, const char *format) {
    char *body = malloc(strlen(weights) + 256), ep[16];
    cr_assert_not_null(body);
    sprintf(body, "{\"weights\": %s, \"sequence\": [[0.5, 1], [0.25, 0], [0.125, 1], [0.75, 0]], "
                  "\"output_format\": \"%s\"}", weights, format);
    snprintf(ep, sizeof ep, "run/%s", model);
    cJSON *r = ht_post_ok(NULL, ep, body);
    free(body);
    return r;
}

Test(srv_run, done_weights_go_back_in_as_json_and_npy) {
    const char *models[] = {"rnn", "lstm", "gru"};
    for (int k = 0; k < 3; k++) {
        char *dj = trained(models[k], "json"), *dn = trained(models[k], "npy");
        cJSON *rj = run_with(models[k], dj, "json"), *rn = run_with(models[k], dn, "npy");
        cr_assert_eq(cJSON_GetObjectItem(rj, "output")->valuedouble, cJSON_GetObjectItem(rn, "output")->valuedouble);
        cr_assert_eq(cJSON_GetObjectItem(rj, "length")->valuedouble, 4);
        size_t shape[8], nd, n;
        double *h = tnpy_read(cJSON_GetObjectItem(rn, "hidden"), shape, &nd, &n, "float64");
        cr_assert(nd == 2 && shape[0] == 4 && shape[1] == 3);
        const cJSON *v;
        size_t i = 0;
        cJSON_ArrayForEach(v, cJSON_GetObjectItem(cJSON_GetObjectItem(rj, "hidden"), "data")) {
            cr_assert_eq(v->valuedouble, h[i], "%s hidden[%zu]: JSON and npy differ", models[k], i);
            i++;
        }
        cr_assert_eq(i, n);
        free(h);
        int ngates = cJSON_GetArraySize(cJSON_GetObjectItem(rj, "gates"));
        cr_assert_eq(ngates, k == 0 ? 0 : k == 1 ? 5 : 3);
        free(dj);
        free(dn);
        cJSON_Delete(rj);
        cJSON_Delete(rn);
    }
}

Test(srv_run, bad_requests_name_the_field) {
    char *ws = trained("lstm", "json");
    cJSON *w = cJSON_Parse(ws);
    char body[65536];
#define WITH(seq) (snprintf(body, sizeof body, "{\"weights\": %s, \"sequence\": %s}", ws, seq), body)
    ht_post_err(NULL, "run/lstm", "{\"sequence\": [[1, 0]]}", 400, "weights");
    ht_post_err(NULL, "run/lstm", "{\"weights\": [1], \"sequence\": [[1, 0]]}", 400, "weights");
    ht_post_err(NULL, "run/lstm", "{\"weights\": {\"weight_xx\": [1]}, \"sequence\": [[1, 0]]}", 400, "weights.weight_xx");
    ht_post_err(NULL, "run/lstm", "{\"weights\": {}, \"sequence\": [[1, 0]]}", 400, "weights.weight_hh");
    ht_post_err(NULL, "run/gru", WITH("[[1, 0]]"), 400, "weights.weight_hh"); /* LSTM weights: 12 rows, not 3H */
    cJSON *bad = cJSON_Duplicate(w, 1);
    cJSON_ReplaceItemInObject(bad, "bias_ih", cJSON_Parse("[1, 2, 3]"));
    char *bs = cJSON_PrintUnformatted(bad);
    snprintf(body, sizeof body, "{\"weights\": %s, \"sequence\": [[1, 0]]}", bs);
    ht_post_err(NULL, "run/lstm", body, 400, "weights.bias_ih");
    cJSON_ReplaceItemInObject(bad, "bias_ih", cJSON_Duplicate(cJSON_GetObjectItem(w, "bias_ih"), 1));
    cJSON_DeleteItemFromObject(bad, "fc.bias");
    free(bs);
    bs = cJSON_PrintUnformatted(bad);
    snprintf(body, sizeof body, "{\"weights\": %s, \"sequence\": [[1, 0]]}", bs);
    ht_post_err(NULL, "run/lstm", body, 400, "weights.fc.bias");
    ht_post_err(NULL, "run/lstm", WITH("null"), 400, "sequence");
    ht_post_err(NULL, "run/lstm", WITH("[[1, 0, 2]]"), 400, "sequence");
    ht_post_err(NULL, "run/lstm", WITH("[1, 0]"), 400, "sequence");
    ht_post_err(NULL, "run/lstm", WITH("[[1, \"a\"]]"), 400, NULL);
    snprintf(body, sizeof body, "{\"weights\": %s, \"sequence\": [[1, 0]], \"extra\": 1}", ws);
    ht_post_err(NULL, "run/lstm", body, 400, "extra");
    srv_limits lim;
    srv_limits_default(&lim);
    lim.max_length = 3;
    ht_post_err(&lim, "run/lstm", WITH("[[1, 0], [1, 0], [1, 0], [1, 0]]"), 413, "sequence");
    lim.max_length = 1000;
    lim.max_hidden = 2;
    ht_post_err(&lim, "run/lstm", WITH("[[1, 0]]"), 413, "weights.weight_hh");
    lim.max_hidden = 256;
    lim.max_work_flops = 100;
    ht_post_err(&lim, "run/lstm", WITH("[[1, 0], [1, 0]]"), 413, "sequence");
    ht_post_err(NULL, "run/xyz", WITH("[[1, 0]]"), 404, NULL);
#undef WITH
    free(bs);
    cJSON_Delete(bad);
    free(ws);
    cJSON_Delete(w);
}
