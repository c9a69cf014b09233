/* srv_workspace.c — the per-thread convolution scratch and its budget; see srv_workspace.h. */
#include "srv_workspace.h"

#include <pthread.h>
#include <stdlib.h>

#include "srv_budget.h"

/* The workspace lives behind a pthread key so its destructor frees it when a connection thread
 * ends (a bare _Thread_local would leak one buffer per thread). */
static pthread_key_t ws_key;
static pthread_once_t ws_once = PTHREAD_ONCE_INIT;
static int ws_key_ok;

static void ws_destroy(void *p) {
    nn_workspace *ws = p;
    nn_workspace_free(ws);
    free(ws);
}

static void ws_init(void) { ws_key_ok = pthread_key_create(&ws_key, ws_destroy) == 0; }

/* What the current request has reserved for scratch so far: a request that convolves several
 * times (/check) reserves its largest scratch once. Reset by srv_workspace_trim. */
static _Thread_local size_t claimed;

static nn_workspace *thread_workspace(int create) {
    pthread_once(&ws_once, ws_init);
    if (!ws_key_ok) return NULL;
    nn_workspace *ws = pthread_getspecific(ws_key);
    if (!ws && create) {
        ws = calloc(1, sizeof *ws);
        if (!ws) return NULL;
        if (pthread_setspecific(ws_key, ws)) { free(ws); return NULL; }
    }
    return ws;
}

nn_workspace *srv_workspace_get(size_t bytes, const char *field, srv_err *e) {
    /* Counted whether or not the kept pages already cover it: the request holds them now. */
    if (bytes > claimed) {
        if (srv_budget_need(bytes - claimed, field, e)) return NULL;
        claimed = bytes;
    }
    nn_workspace *ws = thread_workspace(1);
    nn_error ne;
    nn_error_clear(&ne);
    if (!ws) {
        srv_fail(e, 503, field, "out of memory for the convolution's scratch");
        return NULL;
    }
    if (bytes && nn_workspace_reserve(ws, bytes, &ne) != NN_OK) {
        srv_fail(e, 503, field, "out of memory for the convolution's scratch (%zu bytes)", bytes);
        return NULL;
    }
    return ws;
}

void srv_workspace_trim(void) {
    claimed = 0;
    nn_workspace *ws = thread_workspace(0);
    if (ws && ws->size > SRV_WORKSPACE_KEEP) nn_workspace_free(ws);
}

size_t srv_workspace_held(void) {
    nn_workspace *ws = thread_workspace(0);
    return ws ? ws->size : 0;
}
