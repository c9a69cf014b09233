/* test_cnn_default.c — POST /train/cnn with every setting at its default (the default net,
 * SRV_CNN_EPOCHS epochs of the 60 000 Fashion-MNIST training images, batch 32, Adam with its
 * rate halved after each epoch, shuffled, seed 1) reaches at least 90 % on the whole 10 000-image
 * test set. Its wall and CPU time are printed, not asserted (the machine may be busy):
 * docs/training.md has the figures. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "srv_api.h"
#include "srv_train_cnn.h"

static int collect(void *ctx, const char *data, size_t len) {
    cJSON **done = ctx;
    *done = cJSON_ParseWithLength(data, len);
    return 0;
}

Test(cnn_default, reaches_90_percent_on_the_test_set, .timeout = 1200) {
    const char *body = "{\"stream\": false}";
    srv_response err;
    srv_train_job *j = srv_train_prepare(NULL, "cnn", NULL, body, strlen(body), &err);
    cr_assert_not_null(j, "%s", err.body);
    cJSON *done = NULL;
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    cr_assert_eq(srv_train_run(j, collect, &done, NULL), 200);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
    srv_train_free(j);
    cr_assert_not_null(done);
    const cJSON *final = cJSON_GetObjectItem(done, "final");
    double acc = cJSON_GetObjectItem(final, "test_accuracy")->valuedouble;
    double ms = cJSON_GetObjectItem(done, "elapsed_ms")->valuedouble;
    char *curve = cJSON_PrintUnformatted(cJSON_GetObjectItem(done, "test_accuracy"));
    fprintf(stderr, "default /train/cnn: test accuracy %.4f (per epoch %s), %.1f s wall, %.1f s CPU\n", acc, curve,
            ms / 1e3, cpu);
    free(curve);
    cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(done, "test_accuracy")), SRV_CNN_EPOCHS);
    cr_assert_geq(acc, 0.90, "the default net reached %.4f", acc);
    cJSON_Delete(done);
}
