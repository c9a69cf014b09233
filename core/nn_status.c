/* nn_status.c — error filling helpers; see nn_status.h. */
#include "nn_status.h"

#include <stdarg.h>
#include <stdio.h>

nn_code nn_fail(nn_error *err, nn_code code, const char *field, const char *fmt, ...) {
    if (err) {
        err->code = code;
        err->field = field;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return code;
}

void nn_error_clear(nn_error *err) {
    if (!err) return;
    err->code = NN_OK;
    err->field = NULL;
    err->message[0] = '\0';
}

int nn_size_prod(const size_t *dims, size_t n, size_t *out) {
    size_t p = 1;
    for (size_t i = 0; i < n; i++)
        if (nn_size_mul(p, dims[i], &p)) return 1;
    *out = p;
    return 0;
}

const char *nn_code_name(nn_code code) {
    switch (code) {
    case NN_OK: return "ok";
    case NN_INVALID: return "invalid_argument";
    case NN_TOO_LARGE: return "too_large";
    case NN_NOMEM: return "out_of_memory";
    case NN_CANCELLED: return "cancelled";
    }
    return "unknown";
}
