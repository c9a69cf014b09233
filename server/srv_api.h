/* srv_api.h — nnlabd's request -> response logic, independent of HTTP.
 *
 * The HTTP layer (http_*.c) only moves bytes: it reads a body (capped), picks the endpoint from
 * the path, calls one of the functions below, and writes what they return. Everything about the
 * JSON contract (server/openapi.json) — parsing, validation, the error object with its "field",
 * running the core library, building the response — lives behind this header, so unit tests
 * and fuzzers call it without a socket. All functions are thread-safe. */
#ifndef SRV_API_H
#define SRV_API_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>

/* Limits that bound what one request may cost. Defaults from srv_limits_default(); the daemon
 * overrides them from flags / NNLAB_* environment variables. */
typedef struct srv_limits {
    size_t max_body_bytes;     /* 16 MiB: larger bodies get 413 (enforced by the HTTP layer too) */
    size_t max_image_side;     /* 4096: width and height of a decoded image */
    size_t max_tensor_elems;   /* 16 M elements in any input or output tensor */
    double max_work_flops;     /* arithmetic budget of one request, else 413: convolution and
                                  MLP flops (2 per multiply-add) plus the floats of scratch a
                                  convolution fills, pooling its kernel's operations by their time
                                  (nn_pool_work); a training
                                  step and a test-set evaluation each */
    size_t max_samples;        /* training: samples and test_samples each */
    size_t max_epochs;
    size_t max_length;         /* adding-problem sequence length */
    size_t max_hidden;         /* hidden_size */
    size_t max_trainings;      /* concurrent trainings (HTTP layer answers 503 + Retry-After) */
    double max_train_seconds;  /* 180: a training estimated to compute longer (seconds with a
                                  core to itself) gets 413; one whose own CPU time passes it
                                  anyway ends with an error */
} srv_limits;

void srv_limits_default(srv_limits *lim);

/* A complete response. body is malloc'd and owned by the response. */
typedef struct srv_response {
    int status;               /* HTTP status */
    const char *content_type; /* static string */
    char *body;
    size_t len;
    int retry_after;          /* seconds for a Retry-After header, 0 for none */
} srv_response;

void srv_response_free(srv_response *r);

/* Fill r with the contract's error object:
 *   {"error": {"status": S, "code": C, "message": M, "field": F}}   (field omitted when NULL)
 * Codes: "invalid_argument" (400), "not_found" (404), "method_not_allowed" (405),
 * "too_large" (413), "unsupported_media_type" (415), "busy" (503), "internal" (500); NULL code:
 * the status's. M is printf(fmt, ...) cut at SRV_ERROR_MESSAGE_MAX bytes. */
#define SRV_ERROR_MESSAGE_MAX 511
void srv_error(srv_response *r, int status, const char *code, const char *field,
               const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/* srv_error with a va_list (for callers that take their own format and arguments). */
void srv_verror(srv_response *r, int status, const char *code, const char *field,
                const char *fmt, va_list ap)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 0)))
#endif
    ;

/* POST /conv, /pool, /mlp, /cnn, /check/{conv,pool,mlp}, /run/{rnn,lstm,gru}. endpoint is
 * "conv", "pool", "mlp", "cnn", "check/conv", "check/pool", "check/mlp" (srv_check.h),
 * "run/rnn", "run/lstm" or "run/gru"; content_type is
 * the request's header or NULL; body need not be NUL-terminated. Always fills out.
 * cancel (may be NULL) is bound to the computation (core/nn_cancel.h): once another thread sets
 * it — the client went away, the server is stopping — the work stops within milliseconds and
 * the answer is a 503 "busy" saying the request was cancelled. */
void srv_handle_json(const srv_limits *lim, const char *endpoint, const char *content_type,
                     const char *body, size_t len, const atomic_int *cancel, srv_response *out);

/* POST /train/{rnn,lstm,gru,cnn} -------------------------------------------------------------- */
typedef struct srv_train_job srv_train_job;

/* Parse and validate a training request for model "rnn", "lstm", "gru" or "cnn" (the CNN's
 * parameters and admission: srv_train_cnn.h), or a sweep over sequence lengths for model
 * "sweep" (POST /train/sweep, srv_sweep.h). Returns a job, or
 * NULL with *err filled (400/413/415/...). The job owns copies of everything it needs.
 * Admission: one step and one test-set evaluation within max_work_flops; the run's estimated
 * time (srv_train_estimate_seconds) within max_train_seconds; its memory (data sets, model,
 * activations kept for backprop, results) reserved in the memory budget (srv_budget.h) for
 * the job's lifetime — 413 beyond the whole budget, 503 + Retry-After when there is no room. */
srv_train_job *srv_train_prepare(const srv_limits *lim, const char *model,
                                 const char *content_type, const char *body, size_t len,
                                 srv_response *err);

/* 1 if the request asked for NDJSON streaming ("stream": true, the default), else 0. */
int srv_train_streaming(const srv_train_job *job);

/* Called with output as it is produced. Streaming: one complete NDJSON line at a time (ends in
 * '\n'): start, progress, epoch, then done or error. Non-streaming: once, with the whole JSON
 * body. Return nonzero to cancel the run (client gone, server stopping). */
typedef int (*srv_emit_fn)(void *ctx, const char *data, size_t len);

/* Train to the end. *cancel (may be NULL) is bound to the run (core/nn_cancel.h) and checked
 * inside every pass through time, so a cancel takes effect within milliseconds; a cancelled
 * run emits nothing more. A run whose own CPU time passes max_train_seconds ends with an
 * error (413, "too_large", field "epochs"). Returns the HTTP status of the outcome (200, or the error status
 * for a non-streaming run). */
int srv_train_run(srv_train_job *job, srv_emit_fn emit, void *ctx, const atomic_int *cancel);

/* Frees the job and gives back its memory reservation. */
void srv_train_free(srv_train_job *job);

/* The estimated wall time in seconds of a prepared job on one core of the reference machine
 * (see srv_train.c), and the bytes it reserved. */
double srv_train_estimate_seconds(const srv_train_job *job);
size_t srv_train_memory_bytes(const srv_train_job *job);

#endif
