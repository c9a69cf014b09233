/* srv_dataset.c — Fashion-MNIST loaded once and shared; see srv_dataset.h. */
#include "srv_dataset.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "srv_budget.h"

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER; /* guards loading and g_error */
static char g_dir[1024] = NN_FASHION_DIR;
static nn_fashion g_set;
static _Atomic(const nn_fashion *) g_loaded; /* &g_set once loaded: read without the lock */
static srv_account g_account;                 /* the set's bytes in the memory budget */
static char g_error[200];                     /* why the last load failed ("" if none) */

void srv_dataset_set_dir(const char *dir) {
    pthread_mutex_lock(&g_mu);
    snprintf(g_dir, sizeof g_dir, "%s", dir && *dir ? dir : NN_FASHION_DIR);
    g_error[0] = '\0';
    pthread_mutex_unlock(&g_mu);
}

const char *srv_dataset_dir(void) { return g_dir; }

static const char INSTALL[] = "apt-get install " NN_FASHION_PACKAGE;

const nn_fashion *srv_dataset_fashion(srv_err *e) {
    const nn_fashion *fm = atomic_load_explicit(&g_loaded, memory_order_acquire);
    if (fm) return fm;
    pthread_mutex_lock(&g_mu);
    fm = atomic_load_explicit(&g_loaded, memory_order_acquire);
    if (!fm) {
        if (srv_budget_reserve(&g_account, nn_fashion_bytes(), SRV_BUDGET_WAIT_MS) != 0) {
            srv_fail(e, 503, "dataset", "no memory for Fashion-MNIST (%zu MB) right now; retry later",
                     nn_fashion_bytes() >> 20);
        } else {
            nn_error ne;
            nn_error_clear(&ne);
            if (nn_fashion_load(&g_set, g_dir, &ne) == NN_OK) {
                g_error[0] = '\0';
                fm = &g_set;
                atomic_store_explicit(&g_loaded, fm, memory_order_release);
            } else {
                srv_budget_release(&g_account);
                snprintf(g_error, sizeof g_error, "%s", ne.message);
                srv_fail_code(e, 503, SRV_DATASET_UNAVAILABLE, "dataset",
                         "Fashion-MNIST is not available: %.150s. Install it with `%s`, or point "
                         "--data-dir / NNLAB_DATA_DIR at its files",
                         ne.message, INSTALL);
            }
        }
    }
    pthread_mutex_unlock(&g_mu);
    return fm;
}

void srv_dataset_health(cJSON *healthz) {
    cJSON *all = cJSON_AddObjectToObject(healthz, "datasets");
    cJSON *o = all ? cJSON_AddObjectToObject(all, "fashion-mnist") : NULL;
    if (!o) return;
    pthread_mutex_lock(&g_mu);
    const nn_fashion *fm = atomic_load_explicit(&g_loaded, memory_order_acquire);
    size_t train = 0, test = 0;
    nn_error ne;
    nn_error_clear(&ne);
    int ok = fm != NULL;
    if (!ok && !g_error[0]) ok = nn_fashion_probe(g_dir, &train, &test, &ne) == NN_OK;
    cJSON_AddBoolToObject(o, "available", ok);
    if (ok) {
        cJSON_AddBoolToObject(o, "loaded", fm != NULL);
        cJSON_AddNumberToObject(o, "train", (double)(fm ? fm->train.count : train));
        cJSON_AddNumberToObject(o, "test", (double)(fm ? fm->test.count : test));
        cJSON_AddNumberToObject(o, "classes", NN_FASHION_CLASSES);
    } else {
        cJSON_AddStringToObject(o, "reason", g_error[0] ? g_error : ne.message);
        cJSON_AddStringToObject(o, "install", INSTALL);
    }
    cJSON_AddStringToObject(o, "dir", g_dir);
    pthread_mutex_unlock(&g_mu);
}

void srv_dataset_reset(void) {
    pthread_mutex_lock(&g_mu);
    if (atomic_load(&g_loaded)) nn_fashion_free(&g_set);
    atomic_store(&g_loaded, NULL);
    srv_budget_release(&g_account);
    g_error[0] = '\0';
    pthread_mutex_unlock(&g_mu);
}
