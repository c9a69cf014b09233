/* srv_handle.c — srv_handle_json: Content-Type, strict parsing, dispatch to the endpoint with
 * the request's cancel flag bound, and the error object when anything fails; see srv_api.h. */
#include <string.h>

#include "nn_cancel.h"
#include "srv_api.h"
#include "srv_check.h"
#include "srv_endpoints.h"
#include "srv_json.h"
#include "srv_workspace.h"

typedef int (*endpoint_fn)(const srv_limits *, const cJSON *, srv_buf *, srv_err *);

static endpoint_fn find(const char *name) {
    if (!name) return NULL;
    if (strcmp(name, "conv") == 0) return srv_conv;
    if (strcmp(name, "pool") == 0) return srv_pool;
    if (strcmp(name, "mlp") == 0) return srv_mlp;
    if (strcmp(name, "cnn") == 0) return srv_cnn;
    if (strcmp(name, "run/rnn") == 0) return srv_run_rnn;
    if (strcmp(name, "run/lstm") == 0) return srv_run_lstm;
    if (strcmp(name, "run/gru") == 0) return srv_run_gru;
    if (strcmp(name, "check/conv") == 0) return srv_check_conv;
    if (strcmp(name, "check/pool") == 0) return srv_check_pool;
    if (strcmp(name, "check/mlp") == 0) return srv_check_mlp;
    return NULL;
}

void srv_handle_json(const srv_limits *lim, const char *endpoint, const char *content_type,
                     const char *body, size_t len, const atomic_int *cancel, srv_response *out) {
    memset(out, 0, sizeof *out);
    srv_limits defaults;
    if (!lim) {
        srv_limits_default(&defaults);
        lim = &defaults;
    }
    endpoint_fn fn = find(endpoint);
    if (!fn) {
        srv_error(out, 404, "not_found", NULL, "no such endpoint: /%.40s", endpoint ? endpoint : "");
        return;
    }
    srv_err e = {0};
    if (len > lim->max_body_bytes) {
        srv_fail(&e, 413, "body", "the body is %zu bytes; the limit is %zu", len, lim->max_body_bytes);
        srv_err_response(&e, out);
        return;
    }
    if (srv_check_content_type(content_type, &e)) {
        srv_err_response(&e, out);
        return;
    }
    cJSON *req = srv_json_parse(body, len, &e);
    if (!req) {
        srv_err_response(&e, out);
        return;
    }
    srv_buf b = {0};
    int rc = srv_take_output_format(req, &b.npy, &e);
    if (rc == 0) {
        const atomic_int *outer = nn_cancel_bind(cancel);
        rc = fn(lim, req, &b, &e);
        nn_cancel_bind(outer);
        srv_workspace_trim();
    }
    cJSON_Delete(req);
    if (rc == 0 && b.oom) rc = srv_fail(&e, 503, NULL, "out of memory building the response");
    if (rc) {
        srv_buf_free(&b);
        srv_err_response(&e, out);
        return;
    }
    srv_buf_putc(&b, '\n');
    out->body = srv_buf_take(&b, &out->len);
    if (!out->body) {
        srv_error(out, 503, "busy", NULL, "out of memory building the response");
        return;
    }
    out->status = 200;
    out->content_type = "application/json";
    out->retry_after = 0;
}
