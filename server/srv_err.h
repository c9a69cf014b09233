/* srv_err.h — the validation error that request handlers carry until it becomes the contract's
 * JSON error object ({"error": {"status", "code", "message", "field"}}).
 *
 * Handlers return -1 after srv_fail() has filled the error; the first failure wins, so the field
 * named is the first one found wrong. field is a path into the request: "stride",
 * "architecture[2].size", "weights[0].bias[3]". */
#ifndef SRV_ERR_H
#define SRV_ERR_H

#include "nn_status.h"
#include "srv_api.h"

typedef struct srv_err {
    int status;       /* HTTP status; 0 while no error */
    char field[128];  /* "" for none */
    char message[256];
    char code[32];    /* the contract's code when not the status's own ("" for that) */
} srv_err;

/* Record an error (only if none is recorded yet) and return -1. field may be NULL. */
int srv_fail(srv_err *e, int status, const char *field, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* srv_fail with a code of its own instead of the status's (e.g. 503 "dataset_unavailable":
 * only "busy" asks the client to come back, with Retry-After). Returns -1. */
int srv_fail_code(srv_err *e, int status, const char *code, const char *field, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;

/* A cancelled computation (core/nn_cancel.h): 503 "busy", no field. Returns -1. */
int srv_fail_cancelled(srv_err *e);

/* Record a core library error: NN_INVALID -> 400, NN_TOO_LARGE -> 413, NN_NOMEM and
 * NN_CANCELLED -> 503, anything else -> 500. The core's field is prefixed with `prefix` + "." when prefix is
 * non-empty (e.g. "architecture[1]" + "." + "kernel"). Returns -1. */
int srv_fail_nn(srv_err *e, const nn_error *ne, const char *prefix);

/* The contract's code for a status: 400 invalid_argument, 404 not_found, ... */
const char *srv_status_code(int status);

/* Turn a recorded error into the response (the JSON error object). */
void srv_err_response(const srv_err *e, srv_response *r);

#endif
