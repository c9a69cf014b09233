/* test_train_blame.c — a training that diverges names the field that caused it: a loss already
 * not finite at step 1, before any update, comes from the given initial weights ("init") or the
 * given data ("dataset"); a loss that becomes non-finite after updates is the learning rate's. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handler_test.h"
#include "ndjson_sink.h"
#include "srv_api.h"

/* Run a non-streamed training; the error object's field (the status must be 400). */
static char *divergence_field(const char *body, char *message, size_t n) {
    srv_train_job *j = ht_prepare(NULL, "rnn", body);
    sink t = {0};
    int status = srv_train_run(j, emit, &t, NULL);
    srv_train_free(j);
    cr_assert_eq(status, 400, "status %d: %s", status, t.buf);
    cJSON *r = cJSON_Parse(t.buf);
    const cJSON *e = cJSON_GetObjectItem(r, "error");
    const char *field = cJSON_GetStringValue(cJSON_GetObjectItem(e, "field"));
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItem(e, "message"));
    cr_assert(field && msg, "%s", t.buf);
    snprintf(message, n, "%s", msg);
    char *f = strdup(field);
    cJSON_Delete(r);
    free(t.buf);
    return f;
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
