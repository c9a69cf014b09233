/* srv_train_line.c — a training's lines to its client; see srv_train_line.h. */
#include "srv_train_line.h"

#include <stdio.h>

#include "srv_clock.h"
#include "srv_err.h"

void srv_train_send(srv_buf *line, srv_emit_fn emit, void *ctx, int *stopped) {
    srv_buf_putc(line, '\n');
    if (line->oom) *stopped = 1;
    else if (!*stopped && emit(ctx, line->p, line->len)) *stopped = 1;
    line->len = 0;
    if (line->p) line->p[0] = '\0';
}

int srv_train_error(srv_buf *line, srv_emit_fn emit, void *ctx, int stream, int *stopped, int status,
                    const char *code, const char *field, const char *msg, size_t step) {
    if (*stopped) return status;
    if (!stream) {
        srv_response r;
        srv_error(&r, status, code, field, "%s", msg);
        if (r.body && emit(ctx, r.body, r.len)) *stopped = 1;
        srv_response_free(&r);
        return status;
    }
    srv_buf_printf(line, "{\"type\":\"error\",\"status\":%d,\"code\":", status);
    srv_buf_str(line, code ? code : srv_status_code(status));
    srv_buf_puts(line, ",\"message\":");
    srv_buf_str(line, msg);
    if (field) {
        srv_buf_puts(line, ",\"field\":");
        srv_buf_str(line, field);
    }
    if (step) srv_buf_printf(line, ",\"step\":%zu", step);
    srv_buf_putc(line, '}');
    srv_train_send(line, emit, ctx, stopped);
    return status;
}

int srv_train_check(const atomic_int *cancel, int *stopped, double max_seconds, double cpu0, double *checked_ms) {
    if (cancel && atomic_load(cancel)) *stopped = 1;
    if (*stopped) return 1;
    return srv_cpu_over(max_seconds, cpu0, checked_ms) ? 2 : 0;
}

int srv_train_send_done(srv_buf *line, srv_emit_fn emit, void *ctx, int stream, int *stopped) {
    if (stream) {
        srv_train_send(line, emit, ctx, stopped);
        return 200;
    }
    srv_buf_putc(line, '\n');
    if (line->oom)
        return srv_train_error(line, emit, ctx, 0, stopped, 503, NULL, NULL, "out of memory building the response", 0);
    if (emit(ctx, line->p, line->len)) *stopped = 1;
    return 200;
}

int srv_train_status(nn_code rc) {
    return rc == NN_INVALID ? 400 : rc == NN_TOO_LARGE ? 413 : rc == NN_NOMEM ? 503 : 500;
}

void srv_train_over_time_msg(char *msg, size_t n, const char *what, double max_seconds, const char *where,
                             size_t k, size_t of, double est_seconds) {
    snprintf(msg, n, "the %s passed the limit of %g s of computing (--max-train-seconds) %s %zu of %zu "
             "(it was estimated at %.*f s) and was stopped", what, max_seconds, where, k, of,
             est_seconds < 10 ? 1 : 0, est_seconds);
}
