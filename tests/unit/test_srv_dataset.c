/* test_srv_dataset.c — the daemon's shared Fashion-MNIST: loaded once however many threads ask
 * at the same time, counted once in the memory budget, a clear 503 "dataset_unavailable" (no
 * Retry-After) naming the package when the files are missing (and a retry after they appear), and what /healthz says in each case. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "srv_budget.h"
#include "srv_dataset.h"

static void *fetch(void *arg) {
    srv_err e = {0};
    *(const nn_fashion **)arg = srv_dataset_fashion(&e);
    return NULL;
}

Test(srv_dataset, loaded_once_shared_and_counted_once) {
    srv_budget_init((size_t)1 << 30);
    srv_dataset_set_dir(NULL);
    pthread_t t[4];
    const nn_fashion *got[4] = {0};
    for (int i = 0; i < 4; i++) cr_assert_eq(pthread_create(&t[i], NULL, fetch, &got[i]), 0);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    cr_assert_not_null(got[0], "Fashion-MNIST did not load (install " NN_FASHION_PACKAGE ")");
    for (int i = 1; i < 4; i++) cr_assert_eq(got[i], got[0], "thread %d got another copy", i);
    cr_assert_eq(srv_budget_used(), nn_fashion_bytes());
    srv_err e = {0};
    cr_assert_eq(srv_dataset_fashion(&e), got[0]);
    cr_assert_eq(srv_budget_used(), nn_fashion_bytes(), "a second use counted again");
    cJSON *h = cJSON_CreateObject();
    srv_dataset_health(h);
    const cJSON *fm = cJSON_GetObjectItem(cJSON_GetObjectItem(h, "datasets"), "fashion-mnist");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(fm, "available")));
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(fm, "loaded")));
    cr_assert_eq(cJSON_GetObjectItem(fm, "train")->valuedouble, 60000);
    cr_assert_eq(cJSON_GetObjectItem(fm, "test")->valuedouble, 10000);
    cJSON_Delete(h);
    srv_dataset_reset();
    cr_assert_eq(srv_budget_used(), 0u);
}

Test(srv_dataset, missing_files_name_the_package_and_a_retry_finds_them) {
    srv_budget_init((size_t)1 << 30);
    srv_dataset_set_dir("/nonexistent/fashion");
    srv_err e = {0};
    cr_assert_null(srv_dataset_fashion(&e));
    cr_assert_eq(e.status, 503);
    cr_assert_str_eq(e.code, "dataset_unavailable");
    cr_assert_str_eq(e.field, "dataset");
    /* not "busy": no Retry-After, which would have a client retry for ever */
    srv_response r;
    srv_err_response(&e, &r);
    cr_assert_eq(r.retry_after, 0);
    cr_assert(strstr(r.body, "\"code\":\"dataset_unavailable\""), "%s", r.body);
    srv_response_free(&r);
    cr_assert(strstr(e.message, "apt-get install dataset-fashion-mnist"), "%s", e.message);
    cr_assert(strstr(e.message, "train-images-idx3-ubyte.gz"), "%s", e.message);
    cr_assert(strstr(e.message, "--data-dir"), "%s", e.message);
    cr_assert_eq(srv_budget_used(), 0u, "a failed load kept its reservation");
    cJSON *h = cJSON_CreateObject();
    srv_dataset_health(h);
    const cJSON *fm = cJSON_GetObjectItem(cJSON_GetObjectItem(h, "datasets"), "fashion-mnist");
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(fm, "available")));
    cr_assert_str_eq(cJSON_GetObjectItem(fm, "install")->valuestring, "apt-get install dataset-fashion-mnist");
    cr_assert(strstr(cJSON_GetObjectItem(fm, "reason")->valuestring, "No such file"));
    cJSON_Delete(h);
    srv_dataset_set_dir(NN_FASHION_DIR);
    srv_err e2 = {0};
    cr_assert_not_null(srv_dataset_fashion(&e2), "%s", e2.message);
    srv_dataset_reset();
}

Test(srv_dataset, health_does_not_load) {
    srv_dataset_set_dir(NULL);
    cJSON *h = cJSON_CreateObject();
    srv_dataset_health(h);
    const cJSON *fm = cJSON_GetObjectItem(cJSON_GetObjectItem(h, "datasets"), "fashion-mnist");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(fm, "available")));
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItem(fm, "loaded")));
    cr_assert_str_eq(cJSON_GetObjectItem(fm, "dir")->valuestring, NN_FASHION_DIR);
    cJSON_Delete(h);
}
