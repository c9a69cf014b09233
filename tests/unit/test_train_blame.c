/* test_train_blame.c — a training that diverges names the field that caused it: a loss already
 * not finite at step 1, before any update, comes from the given initial weights ("init") or the
 * given data ("dataset"); a loss that becomes non-finite after updates is the learning rate's.
 * The recurrent trainings and /train/cnn alike. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler_test.h"
#include "ndjson_sink.h"
#include "srv_api.h"

/* Run a non-streamed training of `model`; the error object's field (the status must be 400, the
 * code "diverged"). */
static char *model_divergence_field(const char *model, const char *body, char *message, size_t n) {
    srv_train_job *j = ht_prepare(NULL, model, body);
    sink t = {0};
    int status = srv_train_run(j, emit, &t, NULL);
    srv_train_free(j);
    cr_assert_eq(status, 400, "status %d: %s", status, t.buf);
    cJSON *r = cJSON_Parse(t.buf);
    const cJSON *e = cJSON_GetObjectItem(r, "error");
    const char *field = cJSON_GetStringValue(cJSON_GetObjectItem(e, "field"));
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(e, "message"));
    cr_assert(field && msg, "%s", t.buf);
    cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(e, "code")), "diverged", "%s", t.buf);
    snprintf(message, n, "%s", msg);
    char *f = strdup(field);
    cJSON_Delete(r);
    free(t.buf);
    return f;
}

static char *divergence_field(const char *body, char *message, size_t n) {
    return model_divergence_field("rnn", body, message, n);
}

#define BASE "\"hidden_size\": 2, \"samples\": 8, \"test_samples\": 4, \"epochs\": 2, " \
             "\"batch_size\": 4, \"stream\": false, \"seed\": 1"

Test(train_blame, initial_weights_that_overflow_blame_init) {
    char msg[256];
    char *f = divergence_field("{" BASE ", \"init\": {\"fc.weight\": [[1e300, 1e300]]}}", msg, sizeof msg);
    cr_expect_str_eq(f, "init", "%s", msg);
    cr_expect(strstr(msg, "step 1") && strstr(msg, "initial weights"), "%s", msg);
    free(f);
}

Test(train_blame, data_that_overflows_blames_dataset) {
    char msg[256];
    char *f = divergence_field("{\"hidden_size\": 2, \"epochs\": 1, \"stream\": false, \"seed\": 1, "
                               "\"dataset\": [{\"x\": [[0.5, 1], [0.2, 1]], \"y\": 1e200}, "
                               "{\"x\": [[0.1, 1], [0.3, 1]], \"y\": 1e200}]}",
                               msg, sizeof msg);
    cr_expect_str_eq(f, "dataset", "%s", msg);
    free(f);
}

Test(train_blame, a_learning_rate_that_explodes_the_weights_blames_learning_rate) {
    char msg[256];
    char *f = divergence_field("{" BASE ", \"learning_rate\": 1e300, \"clip\": 1e300}", msg, sizeof msg);
    cr_expect_str_eq(f, "learning_rate", "%s", msg);
    free(f);
}

/* /train/cnn: the same rule. Two inline 28x28 images; a net of a 4x4 max pooling and a linear
 * layer, either given as "init" with weights of +-3e38 (the logits overflow at once) or drawn
 * from the seed on images of 3e38 (the same), or images of 1e18 trained at a learning rate of
 * 10 (a loss of about 1e19 at step 1; the first update makes the weights about 1e19 and the
 * logits overflow at step 2). */
static char *cnn_body(double pixel, double weight, double learning_rate) {
    cJSON *req = cJSON_CreateObject(), *ds = cJSON_AddArrayToObject(req, "dataset");
    for (int i = 0; i < 2; i++) {
        cJSON *item = cJSON_CreateObject(), *img = cJSON_AddObjectToObject(item, "image");
        int shape[3] = {28, 28, 1};
        cJSON_AddItemToObject(img, "shape", cJSON_CreateIntArray(shape, 3));
        double px[784];
        for (int p = 0; p < 784; p++) px[p] = (p + i) % 3 ? pixel : 0.0;
        cJSON_AddItemToObject(img, "data", cJSON_CreateDoubleArray(px, 784));
        cJSON_AddNumberToObject(item, "label", i);
        cJSON_AddItemToArray(ds, item);
    }
    cJSON_AddItemToObject(req, "test_dataset", cJSON_Duplicate(ds, 1));
    cJSON *layers = cJSON_AddArrayToObject(req, weight ? "init" : "architecture");
    cJSON *pool = cJSON_CreateObject(), *mlp = cJSON_CreateObject();
    cJSON_AddStringToObject(pool, "type", "pool");
    cJSON_AddNumberToObject(pool, "size", 4);
    cJSON_AddStringToObject(mlp, "type", "mlp");
    cJSON_AddNumberToObject(mlp, "hidden_layers", 0);
    cJSON_AddNumberToObject(mlp, "output_size", 10);
    if (weight) {
        static double w[490], b[10];
        for (int k = 0; k < 490; k++) w[k] = k % 2 ? weight : -weight;
        cJSON *ws = cJSON_AddArrayToObject(mlp, "weights"), *one = cJSON_CreateObject();
        cJSON *wt = cJSON_AddObjectToObject(one, "weight");
        int shape[2] = {49, 10};
        cJSON_AddItemToObject(wt, "shape", cJSON_CreateIntArray(shape, 2));
        cJSON_AddItemToObject(wt, "data", cJSON_CreateDoubleArray(w, 490));
        cJSON_AddItemToObject(one, "bias", cJSON_CreateDoubleArray(b, 10));
        cJSON_AddItemToArray(ws, one);
    }
    cJSON_AddItemToArray(layers, pool);
    cJSON_AddItemToArray(layers, mlp);
    cJSON_AddNumberToObject(req, "epochs", 2);
    cJSON_AddNumberToObject(req, "batch_size", 1);
    cJSON_AddNumberToObject(req, "learning_rate", learning_rate);
    cJSON_AddStringToObject(req, "optimizer", "sgd");
    cJSON_AddFalseToObject(req, "stream");
    char *s = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    return s;
}

static char *cnn_divergence_field(double pixel, double weight, double learning_rate, char *message, size_t n) {
    char *body = cnn_body(pixel, weight, learning_rate);
    char *f = model_divergence_field("cnn", body, message, n);
    free(body);
    return f;
}

Test(train_blame, cnn_initial_weights_that_overflow_blame_init) {
    char msg[256];
    char *f = cnn_divergence_field(0.5, 3e38, 0.01, msg, sizeof msg);
    cr_expect_str_eq(f, "init", "%s", msg);
    cr_expect(strstr(msg, "step 1") && strstr(msg, "initial weights"), "%s", msg);
    free(f);
}

Test(train_blame, cnn_images_that_overflow_blame_dataset) {
    char msg[256];
    char *f = cnn_divergence_field(3e38, 0, 0.01, msg, sizeof msg);
    cr_expect_str_eq(f, "dataset", "%s", msg);
    free(f);
}

Test(train_blame, cnn_a_learning_rate_that_explodes_the_weights_blames_learning_rate) {
    char msg[256];
    char *f = cnn_divergence_field(1e18, 0, 10, msg, sizeof msg);
    cr_expect_str_eq(f, "learning_rate", "%s", msg);
    cr_expect(strstr(msg, "step 1") == NULL, "%s", msg);
    free(f);
}
