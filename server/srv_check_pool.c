/* srv_check_pool.c — POST /check/pool: a student's pooling against /pool's, and the classic
 * mistakes that reproduce it (srv_check.h): the other function, stride 1, the rounded-up output
 * size, H and W swapped. */
#include <string.h>

#include "nn_pool.h"
#include "srv_check.h"
#include "srv_endpoints.h"
#include "srv_ops.h"

typedef struct pool_check {
    srv_pool_op op;
    srv_tensor y;               /* [OH, OW, C] or [C]: the reference */
    const srv_tensor *answer;
} pool_check;

enum { ALT_FUNCTION, ALT_STRIDE1 };

static nn_pool_params alt_params(const srv_pool_op *op, int v) {
    nn_pool_params p = op->p;
    if (v == ALT_FUNCTION) p.kind = p.kind == NN_POOL_MAX ? NN_POOL_AVG : NN_POOL_MAX;
    if (v == ALT_STRIDE1) p.stride_h = p.stride_w = 1;
    return p;
}

/* avg_instead_of_max, max_instead_of_avg, stride_ignored. */
static int params_fill(void *ctx, const srv_check_cand *c, float *out, srv_err *e) {
    const pool_check *pc = ctx;
    nn_pool_params p = alt_params(&pc->op, c->arg);
    return srv_pool_run(&pc->op, &p, out, e);
}

/* transposed: out [OW, OH, C]. */
static int transpose_fill(void *ctx, const srv_check_cand *c, float *out, srv_err *e) {
    (void)c;
    (void)e;
    const pool_check *pc = ctx;
    srv_check_transpose_hw(out, pc->y.data, pc->op.out_shape[0], pc->op.out_shape[1], pc->op.out_shape[2]);
    return 0;
}

/* output_size_ceil: the answer's first OH x OW block must be the reference. */
static int ceil_fill(void *ctx, const srv_check_cand *c, float *out, srv_err *e) {
    (void)e;
    const pool_check *pc = ctx;
    const size_t *y = pc->op.out_shape;
    srv_check_fill_block(out, pc->answer->data, c->shape[0], c->shape[1], pc->y.data, y[0], y[1], y[2]);
    return 0;
}

static void add_function_mistake(srv_check *chk, const srv_pool_op *op) {
    if (op->p.kind == NN_POOL_MAX)
        srv_check_add(chk, "avg_instead_of_max", params_fill, ALT_FUNCTION, op->flops, op->out_shape, op->out_ndim,
                      "Your answer is the average of each window; max pooling keeps the largest value.");
    else
        srv_check_add(chk, "max_instead_of_avg", params_fill, ALT_FUNCTION, op->flops, op->out_shape, op->out_ndim,
                      "Your answer is the largest value of each window; average pooling keeps their mean.");
}

/* The work of the same pooling with stride 1 (its output y). */
static double stride1_flops(const size_t y[3], const nn_pool_params *p) {
    nn_pool_params p1 = *p;
    p1.stride_h = p1.stride_w = 1;
    return nn_pool_work(y[0], y[1], y[2], &p1);
}

static size_t ceil_size(size_t n, size_t k, size_t s) { return (n - k + s - 1) / s + 1; }

static void add_window_mistakes(srv_check *chk, const srv_pool_op *op) {
    const nn_pool_params *p = &op->p;
    const size_t *y = op->out_shape, *x = op->x.shape;
    size_t s[3] = {x[0] - p->size_h + 1, x[1] - p->size_w + 1, x[2]};
    if (p->stride_h > 1 || p->stride_w > 1)
        srv_check_add(chk, "stride_ignored", params_fill, ALT_STRIDE1, stride1_flops(s, p),
                      s, 3, "Your answer moves the window one pixel at a time: with stride (%zu, %zu) it moves "
                      "that many pixels, which gives %zu x %zu outputs, not %zu x %zu.",
                      p->stride_h, p->stride_w, y[0], y[1], s[0], s[1]);
    size_t c[3] = {ceil_size(x[0], p->size_h, p->stride_h), ceil_size(x[1], p->size_w, p->stride_w), y[2]};
    if (c[0] != y[0] || c[1] != y[1])
        srv_check_add(chk, "output_size_ceil", ceil_fill, 0, 0, c, 3,
                      "Your answer has %zu x %zu outputs: the size is floor((n - k) / s) + 1, rounded "
                      "down, which gives %zu x %zu (a window must fit inside the input).", c[0], c[1], y[0], y[1]);
    size_t t[3] = {y[1], y[0], y[2]};
    srv_check_add(chk, "transposed", transpose_fill, 0, 0, t, 3,
                  "Your answer has H and W swapped (transposed): the layout is [H, W, C], rows first.");
}

int srv_check_pool(const srv_limits *lim, const cJSON *req, srv_buf *out, srv_err *e) {
    pool_check pc = {0};
    srv_check chk = {0};
    if (srv_pool_parse(lim, req, srv_check_keys, &pc.op, e)) return -1;
    int rc = -1;
    if (srv_check_begin(lim, req, pc.op.flops, &chk, e)) goto done;
    pc.answer = &chk.answer;
    add_function_mistake(&chk, &pc.op);
    if (!pc.op.global) add_window_mistakes(&chk, &pc.op);
    if (srv_check_afford(&chk, lim, "size", e)) goto done;
    /* the fills write straight into the replay tensor: nothing else to reserve */
    size_t n = 1;
    for (size_t k = 0; k < pc.op.out_ndim; k++) n *= pc.op.out_shape[k];
    if (srv_check_reserve(&chk, lim, n, pc.op.out_shape, pc.op.out_ndim, 0, "size", e)) goto done;
    if (srv_tensor_alloc(&pc.y, pc.op.out_shape, pc.op.out_ndim, lim->max_tensor_elems, "output", e)) goto done;
    if (srv_pool_run(&pc.op, &pc.op.p, pc.y.data, e)) goto done;
    if (srv_check_finite(pc.y.data, pc.y.n, "input", e)) goto done;
    rc = srv_check_finish(&chk, &pc, pc.y.data, pc.y.shape, pc.y.ndim, lim, out, e);
done:
    srv_check_free(&chk);
    srv_pool_op_free(&pc.op);
    srv_tensor_free(&pc.y);
    return rc;
}
