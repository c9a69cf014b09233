/* srv_params.c — parameters shared by several endpoints: activations, init schemes, the
 * per-thread convolution workspace and the clock. */
#include <pthread.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include "srv_endpoints.h"
#include "srv_json.h"

int srv_parse_activation(const cJSON *obj, const char *base, nn_act_kind def, nn_activation *out,
                         srv_err *e) {
    const char *name;
    char p[128];
    srv_path_key(p, sizeof p, base, "activation");
    out->kind = def;
    out->negative_slope = 0.01f;
    if (srv_json_string_opt(obj, "activation", base, NULL, &name, e)) return -1;
    if (name) {
        nn_error ne;
        nn_error_clear(&ne);
        if (nn_act_parse(name, out, &ne) != NN_OK)
            return srv_fail(e, 400, p, "unknown activation '%.40s' (identity, sigmoid, tanh, relu, leaky_relu)", name);
    }
    double slope;
    if (srv_json_num_opt(obj, "negative_slope", base, 0.01, &slope, e)) return -1;
    out->negative_slope = (float)slope;
    return 0;
}

int srv_parse_init(const cJSON *obj, const char *base, nn_init_kind def, nn_init_kind *out,
                   srv_err *e) {
    const char *name;
    *out = def;
    if (srv_json_string_opt(obj, "init", base, NULL, &name, e)) return -1;
    if (!name) return 0;
    nn_error ne;
    nn_error_clear(&ne);
    if (nn_init_parse(name, out, &ne) != NN_OK) {
        char p[128];
        srv_path_key(p, sizeof p, base, "init");
        return srv_fail(e, 400, p, "unknown init '%.40s' (he, xavier, uniform, he_normal, numpy_rand, numpy_randn)", name);
    }
    return 0;
}

int srv_take_output_format(cJSON *req, int *npy, srv_err *e) {
    const char *f;
    *npy = 0;
    if (srv_json_string_opt(req, "output_format", "", "json", &f, e)) return -1;
    if (!strcasecmp(f, "npy")) *npy = 1;
    else if (strcasecmp(f, "json"))
        return srv_fail(e, 400, "output_format", "output_format must be \"json\" or \"npy\" (got '%.20s')", f);
    cJSON_DeleteItemFromObjectCaseSensitive(req, "output_format");
    return 0;
}

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

nn_workspace *srv_thread_workspace(void) {
    pthread_once(&ws_once, ws_init);
    if (!ws_key_ok) return NULL;
    nn_workspace *ws = pthread_getspecific(ws_key);
    if (!ws) {
        ws = calloc(1, sizeof *ws);
        if (!ws) return NULL;
        if (pthread_setspecific(ws_key, ws)) { free(ws); return NULL; }
    }
    return ws;
}

double srv_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
