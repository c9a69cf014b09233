/* srv_response.c — responses, the contract's error object and the default limits; see srv_api.h
 * and srv_err.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_api.h"
#include "srv_buf.h"
#include "srv_err.h"

void srv_limits_default(srv_limits *lim) {
    lim->max_body_bytes = (size_t)16 << 20;
    lim->max_image_side = 4096;
    lim->max_tensor_elems = (size_t)16 << 20;
    lim->max_work_flops = 2e10; /* ~1-2 s of convolution on one core */
    lim->max_samples = 100000;
    lim->max_epochs = 1000;
    lim->max_length = 1000;
    lim->max_hidden = 256;
    lim->max_trainings = 4;
    lim->max_train_seconds = 180.0;
}

void srv_response_free(srv_response *r) {
    if (!r) return;
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

const char *srv_status_code(int status) {
    switch (status) {
    case 400: return "invalid_argument";
    case 404: return "not_found";
    case 405: return "method_not_allowed";
    case 413: return "too_large";
    case 415: return "unsupported_media_type";
    case 503: return "busy";
    default: return "internal";
    }
}

static void set_error(srv_response *r, int status, const char *code, const char *field,
                      const char *message) {
    srv_buf b = {0};
    srv_buf_printf(&b, "{\"error\":{\"status\":%d,\"code\":", status);
    srv_buf_str(&b, code);
    srv_buf_puts(&b, ",\"message\":");
    srv_buf_str(&b, message);
    if (field && *field) {
        srv_buf_puts(&b, ",\"field\":");
        srv_buf_str(&b, field);
    }
    srv_buf_puts(&b, "}}\n");
    r->status = status;
    r->content_type = "application/json";
    /* seconds: a training slot frees in seconds; other 503s (a missing data set) are not cured by waiting */
    r->retry_after = status == 503 && !strcmp(code, "busy") ? 5 : 0;
    r->body = srv_buf_take(&b, &r->len);
    if (!r->body) {
        /* Out of memory while reporting an error: a static-sized fallback. */
        static const char oom[] =
            "{\"error\":{\"status\":503,\"code\":\"busy\",\"message\":\"out of memory\"}}\n";
        r->status = 503;
        r->retry_after = 1;
        r->body = malloc(sizeof oom);
        r->len = r->body ? sizeof oom - 1 : 0;
        if (r->body) memcpy(r->body, oom, sizeof oom);
    }
}

void srv_error(srv_response *r, int status, const char *code, const char *field,
               const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    srv_verror(r, status, code, field, fmt, ap);
    va_end(ap);
}

void srv_verror(srv_response *r, int status, const char *code, const char *field,
                const char *fmt, va_list ap) {
    char msg[SRV_ERROR_MESSAGE_MAX + 1];
    vsnprintf(msg, sizeof msg, fmt, ap);
    set_error(r, status, code ? code : srv_status_code(status), field, msg);
}

static void vfail(srv_err *e, int status, const char *code, const char *field, const char *fmt,
                  va_list ap) {
    e->status = status;
    snprintf(e->code, sizeof e->code, "%s", code ? code : "");
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    vsnprintf(e->message, sizeof e->message, fmt, ap);
}

int srv_fail(srv_err *e, int status, const char *field, const char *fmt, ...) {
    if (e->status) return -1; /* the first error wins */
    va_list ap;
    va_start(ap, fmt);
    vfail(e, status, NULL, field, fmt, ap);
    va_end(ap);
    return -1;
}

int srv_fail_code(srv_err *e, int status, const char *code, const char *field, const char *fmt, ...) {
    if (e->status) return -1;
    va_list ap;
    va_start(ap, fmt);
    vfail(e, status, code, field, fmt, ap);
    va_end(ap);
    return -1;
}

int srv_fail_nn(srv_err *e, const nn_error *ne, const char *prefix) {
    if (ne->code == NN_CANCELLED) return srv_fail_cancelled(e);
    int status = ne->code == NN_INVALID     ? 400
                 : ne->code == NN_TOO_LARGE ? 413
                 : ne->code == NN_NOMEM     ? 503
                                            : 500;
    char field[128];
    if (prefix && *prefix && ne->field && *ne->field)
        snprintf(field, sizeof field, "%s.%s", prefix, ne->field);
    else if (prefix && *prefix)
        snprintf(field, sizeof field, "%s", prefix);
    else
        snprintf(field, sizeof field, "%s", ne->field ? ne->field : "");
    return srv_fail(e, status, field, "%s", ne->message[0] ? ne->message : nn_code_name(ne->code));
}

int srv_fail_cancelled(srv_err *e) {
    return srv_fail(e, 503, NULL, "the request was cancelled: its client went away or the server is stopping");
}

void srv_err_response(const srv_err *e, srv_response *r) {
    int status = e->status ? e->status : 500;
    set_error(r, status, e->code[0] ? e->code : srv_status_code(status), e->field,
              e->message[0] ? e->message : "internal error");
}
