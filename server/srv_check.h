/* srv_check.h — POST /check/{conv,pool,mlp}: a student's answer against the reference, and the
 * classic mistake that reproduces it.
 *
 * Each endpoint (srv_check_conv.c, srv_check_pool.c, srv_check_mlp.c) reads the operation's own
 * request (srv_ops.h) plus "answer" and "tolerance", lists the mistakes that could apply to it
 * (candidates: a code, the shape the mistake gives and the work of recomputing it), has the
 * whole work — the reference and every candidate — counted against max_work_flops before
 * anything runs (413 beyond), computes the reference, then hands both to srv_check_finish:
 *
 *   1. the answer is compared with the reference when their shapes agree once dimensions of
 *      size 1 are dropped ([254, 254] answers [254, 254, 1]); an element is right when
 *      |got - expected| <= atol + rtol * |expected|. Defaults: rtol = SRV_CHECK_RTOL and
 *      atol = SRV_CHECK_ATOL * max(1, max |expected|) (docs/check.md says why);
 *      "tolerance": {"atol", "rtol"} in the request replaces them (atol then fixed);
 *   2. a failing answer is compared with every candidate whose shape agrees with the answer's,
 *      under the same rule (with the candidate's values as the expected ones); each candidate
 *      that reproduces the answer is a diagnosis (one per code, the first variant that
 *      matches). A shape that differs is a diagnosis too ("shape_mismatch"), naming the
 *      mistakes that give that shape;
 *   3. the response: {"pass", "tolerance", "max_abs_error", "max_rel_error", "mismatches",
 *      "elements", "worst": {"index", "expected", "got"}, "expected_shape", "got_shape",
 *      "diagnosis": [{"code", "message"}], "mistakes_tried": [codes], "mismatch_map", "flops",
 *      "elapsed_ms"}. "worst" is the element with the largest |got - expected| (the first of
 *      equals), by its index in the expected shape. The error fields and "worst" are null when
 *      the shapes differ;
 *      "mismatch_map" (only for a failing answer of the right shape) counts the wrong elements
 *      per position of the expected's first two dimensions ([OH, OW] for an [OH, OW, N]
 *      output; [n] holding 0 or 1 for a vector).
 * Only the worst element's expected value is ever returned, never the reference itself. */
#ifndef SRV_CHECK_H
#define SRV_CHECK_H

#include <cJSON.h>
#include <stddef.h>

#include "srv_api.h"
#include "srv_buf.h"
#include "srv_err.h"
#include "srv_tensor.h"

#define SRV_CHECK_RTOL 1e-4
#define SRV_CHECK_ATOL 1e-4 /* times max(1, max |expected|) */
#define SRV_CHECK_MAX_CANDIDATES 24

typedef struct srv_check_cand srv_check_cand;

/* Write what mistake c gives into out [c->shape] (ctx: the endpoint's own context). */
typedef int (*srv_check_fill_fn)(void *ctx, const srv_check_cand *c, float *out, srv_err *e);

struct srv_check_cand {
    const char *code;          /* static: "kernel_flipped" */
    char message[320];         /* what the student did, in words */
    size_t shape[SRV_TENSOR_MAX_DIMS];
    size_t ndim;
    double flops;              /* the work of fill */
    int arg;                   /* a variant for fill (an activation, a padding scheme) */
    srv_check_fill_fn fill;
};

typedef struct srv_check {
    srv_tensor answer;         /* the student's, as float32 */
    double atol, rtol;
    int atol_given;            /* "tolerance.atol" was given: not scaled */
    srv_check_cand cand[SRV_CHECK_MAX_CANDIDATES];
    size_t ncand;
    double flops;              /* the reference's work, plus every candidate's as they are added */
    double t0;                 /* srv_now_ms() at the start */
} srv_check;

/* The keys every check adds to its operation's ("answer", "tolerance"; NULL-terminated). */
extern const char *const srv_check_keys[];

/* "answer" (required, any tensor form) and "tolerance" of req into chk (zeroed first);
 * ref_flops is the work of the reference. */
int srv_check_begin(const srv_limits *lim, const cJSON *req, double ref_flops, srv_check *chk,
                    srv_err *e);

/* Add a candidate mistake (silently ignored beyond SRV_CHECK_MAX_CANDIDATES). The message is a
 * printf format. Returns the candidate, or NULL when full. */
srv_check_cand *srv_check_add(srv_check *chk, const char *code, srv_check_fill_fn fill, int arg,
                              double flops, const size_t *shape, size_t ndim, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 8, 9)))
#endif
    ;

/* 413 naming `field` when the reference plus every candidate exceeds lim->max_work_flops. */
int srv_check_afford(const srv_check *chk, const srv_limits *lim, const char *field, srv_err *e);

/* Compare, diagnose and write the response (see the top of this file). expected [shape]. */
int srv_check_finish(srv_check *chk, void *ctx, const float *expected, const size_t *shape,
                     size_t ndim, const srv_limits *lim, srv_buf *out, srv_err *e);

void srv_check_free(srv_check *chk);

/* Mistakes of layout that any [OH, OW, C] output can have (fills need no recomputation):
 * out [OW, OH, C] = y [OH, OW, C] with H and W swapped; */
void srv_check_transpose_hw(float *out, const float *y, size_t OH, size_t OW, size_t C);
/* out [CH, CW, C] = the answer [CH, CW, C] (a rounded-up output size) with its first OH x OW
 * block replaced by y [OH, OW, C]: what the answer is if only that extra row/column is wrong. */
void srv_check_fill_block(float *out, const float *answer, size_t CH, size_t CW, const float *y,
                          size_t OH, size_t OW, size_t C);

/* The endpoints (srv_endpoints.h's signature). */
int srv_check_conv(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e);
int srv_check_pool(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e);
int srv_check_mlp(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e);

#endif
