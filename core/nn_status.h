/* nn_status.h — how every core function reports failure.
 *
 * Every fallible core function returns an nn_code and, when given a non-NULL nn_error, fills it
 * with a message that names the problem and the argument ("field") it is about. The library
 * never prints and never exits; the caller decides what to do (the daemon turns an nn_error into
 * the JSON error of the API contract: NN_INVALID -> 400, NN_TOO_LARGE -> 413, NN_NOMEM -> 503). */
#ifndef NN_STATUS_H
#define NN_STATUS_H

#include <stddef.h>
#include <stdint.h>

typedef enum nn_code {
    NN_OK = 0,
    NN_INVALID,   /* an argument is out of its domain (stride 0, channel mismatch, ...) */
    NN_TOO_LARGE, /* sizes overflow size_t or exceed a limit */
    NN_NOMEM,     /* an allocation failed */
    NN_CANCELLED, /* a progress callback asked to stop */
} nn_code;

typedef struct nn_error {
    nn_code code;
    const char *field;  /* static string naming the argument at fault ("stride", "kernel", ...) */
    char message[200];  /* human-readable, e.g. "stride must be >= 1" */
} nn_error;

/* Fill err (if non-NULL) and return code. printf-style message. */
nn_code nn_fail(nn_error *err, nn_code code, const char *field, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Reset err to NN_OK with empty message (err may be NULL). */
void nn_error_clear(nn_error *err);

/* Overflow-checked size arithmetic: return 0 and store the result, or return 1 on overflow. */
static inline int nn_size_mul(size_t a, size_t b, size_t *out) { return __builtin_mul_overflow(a, b, out); }
static inline int nn_size_add(size_t a, size_t b, size_t *out) { return __builtin_add_overflow(a, b, out); }
/* Product of n sizes, overflow-checked; returns 0 on success. */
int nn_size_prod(const size_t *dims, size_t n, size_t *out);

const char *nn_code_name(nn_code code);

#endif
