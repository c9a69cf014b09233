/* nn_linear.c — the batched linear layer over the nn_tile kernels, and its naive references;
 * see nn_linear.h.
 *
 * As nn_tile jobs: the forward is corr over one row of B pixels (pixel b = row b of x, its
 * taps the in values), the weights padded to whole vectors; dx is corr over the pixels of dy
 * with W^T as the weights, accumulating; dW is dw over the same B pixels, each thread taking
 * its own rows of dW (so nothing needs reducing); db is colsum. */
#include "nn_linear.h"

#include <string.h>

#include "nn_parallel.h"
#include "nn_tile.h"

/* Multiply-adds below which a call stays on one thread (waking the other costs more). */
#define NN_LIN_PAR_MIN 100000.0

static size_t pad16(size_t n) { return (n + NN_TILE_PAD - 1) / NN_TILE_PAD * NN_TILE_PAD; }

static nn_code check(size_t B, size_t in, size_t out, nn_error *err) {
    if (B == 0 || in == 0 || out == 0)
        return nn_fail(err, NN_INVALID, "input", "linear layer sizes must be >= 1 (batch %zu, %zu -> %zu)", B,
                       in, out);
    size_t d1[3] = {B, in, sizeof(float)}, d2[3] = {B, pad16(out), sizeof(float)},
           d3[3] = {pad16(in), pad16(out), sizeof(float)}, t;
    if (nn_size_prod(d1, 3, &t) || nn_size_prod(d2, 3, &t) || nn_size_prod(d3, 3, &t))
        return nn_fail(err, NN_TOO_LARGE, "input", "linear layer %zu -> %zu over %zu rows is too large", in, out, B);
    return NN_OK;
}

nn_code nn_linear_workspace_size(size_t B, size_t in, size_t out, size_t *bytes, nn_error *err) {
    nn_code rc = check(B, in, out, err);
    if (rc) return rc;
    size_t f = in * pad16(out), b = out * pad16(in);
    if (bytes) *bytes = (f > b ? f : b) * sizeof(float);
    return NN_OK;
}

typedef struct lin_ctx {
    const nn_tile_ops *ops;
    nn_tile_job j;
    size_t n; /* dw: the pixels (rows of the batch) every piece sums over */
    int dw;
} lin_ctx;

static void lin_piece(void *ctx, size_t p0, size_t p1, size_t worker) {
    (void)worker;
    const lin_ctx *c = ctx;
    if (c->dw) c->ops->dw(&c->j, 0, 1, 0, c->n, p0, p1);
    else c->ops->corr(&c->j, 0, 1, p0, p1);
}

/* Run c over [0, n) pixels (corr) or taps (dw: disjoint rows of dW), in pieces across the
 * threads if `macs` is worth it. */
static void run(lin_ctx *c, size_t n, double macs) {
    size_t threads = nn_parallel_threads();
    if (macs < NN_LIN_PAR_MIN || threads < 2 || n < 2) {
        lin_piece(c, 0, n, 0);
        return;
    }
    nn_parallel_for(n, (n + threads - 1) / threads, lin_piece, c);
}

static nn_code reserve(nn_workspace *ws, size_t floats, float **out, nn_error *err) {
    nn_code rc = nn_workspace_reserve(ws, floats * sizeof(float), err);
    if (rc) return rc;
    *out = ws->data;
    return NN_OK;
}

nn_code nn_linear_batch_forward(float *y, const float *x, const float *W, const float *b,
                                size_t B, size_t in, size_t out, nn_workspace *ws,
                                nn_error *err) {
    nn_code rc = check(B, in, out, err);
    if (rc) return rc;
    if (!y || !x || !W)
        return nn_fail(err, NN_INVALID, !y ? "output" : !x ? "input" : "weights", "buffers must not be NULL");
    nn_workspace local = {0};
    const float *w = W;
    size_t wld = out;
    if (out % NN_TILE_PAD) { /* the kernels load whole vectors of weights: pad the rows */
        float *wp;
        wld = pad16(out);
        rc = reserve(ws ? ws : &local, in * wld, &wp, err);
        if (rc) return rc;
        for (size_t i = 0; i < in; i++) {
            memcpy(wp + i * wld, W + i * out, out * sizeof *wp);
            memset(wp + i * wld + out, 0, (wld - out) * sizeof *wp);
        }
        w = wp;
    }
    lin_ctx c = {nn_tile_pick(),
                 {.x = x, .xc = in, .y = y, .yc = out, .w = (float *)w, .wld = wld, .bias = b, .M = out,
                  .KH = 1, .L = in, .act = {NN_ACT_IDENTITY, 0.0f}},
                 B, 0};
    run(&c, B, (double)B * (double)in * (double)out);
    nn_workspace_free(&local);
    return NN_OK;
}

nn_code nn_linear_batch_backward(float *dx, float *dW, float *db, const float *dy,
                                 const float *x, const float *W, size_t B, size_t in,
                                 size_t out, nn_workspace *ws, nn_error *err) {
    nn_code rc = check(B, in, out, err);
    if (rc) return rc;
    if (!dy) return nn_fail(err, NN_INVALID, "grad_output", "grad_output must not be NULL");
    if ((dW && !x) || (dx && !W))
        return nn_fail(err, NN_INVALID, !x ? "input" : "weights", "buffers must not be NULL");
    const nn_tile_ops *ops = nn_tile_pick();
    double macs = (double)B * (double)in * (double)out;
    if (db) ops->colsum(db, dy, B, out, out);
    if (dW) {
        lin_ctx c = {ops, {.x = x, .xc = in, .y = (float *)dy, .yc = out, .w = dW, .wld = out, .M = out,
                           .KH = 1, .L = in}, B, 1};
        run(&c, in, macs);
    }
    if (dx) {
        nn_workspace local = {0};
        float *wt;
        size_t ld = pad16(in);
        rc = reserve(ws ? ws : &local, out * ld, &wt, err);
        if (rc) return rc;
        memset(wt, 0, out * ld * sizeof *wt);
        for (size_t i = 0; i < in; i++)
            for (size_t o = 0; o < out; o++) wt[o * ld + i] = W[i * out + o];
        lin_ctx c = {ops, {.x = dy, .xc = out, .y = dx, .yc = in, .w = wt, .wld = ld, .M = in, .KH = 1,
                           .L = out, .accumulate = 1}, B, 0};
        run(&c, B, macs);
        nn_workspace_free(&local);
    }
    return NN_OK;
}

nn_code nn_linear_batch_forward_naive(float *y, const float *x, const float *W, const float *b,
                                      size_t B, size_t in, size_t out, nn_error *err) {
    nn_code rc = check(B, in, out, err);
    if (rc) return rc;
    if (!y || !x || !W)
        return nn_fail(err, NN_INVALID, !y ? "output" : !x ? "input" : "weights", "buffers must not be NULL");
    for (size_t r = 0; r < B; r++)
        for (size_t o = 0; o < out; o++) {
            double acc = b ? b[o] : 0.0;
            for (size_t i = 0; i < in; i++) acc += (double)x[r * in + i] * W[i * out + o];
            y[r * out + o] = (float)acc;
        }
    return NN_OK;
}

nn_code nn_linear_batch_backward_naive(float *dx, float *dW, float *db, const float *dy,
                                       const float *x, const float *W, size_t B, size_t in,
                                       size_t out, nn_error *err) {
    nn_code rc = check(B, in, out, err);
    if (rc) return rc;
    if (!dy) return nn_fail(err, NN_INVALID, "grad_output", "grad_output must not be NULL");
    if ((dW && !x) || (dx && !W))
        return nn_fail(err, NN_INVALID, !x ? "input" : "weights", "buffers must not be NULL");
    for (size_t o = 0; db && o < out; o++) {
        double acc = 0.0;
        for (size_t r = 0; r < B; r++) acc += dy[r * out + o];
        db[o] += (float)acc;
    }
    for (size_t i = 0; i < in; i++)
        for (size_t o = 0; dW && o < out; o++) {
            double acc = 0.0;
            for (size_t r = 0; r < B; r++) acc += (double)x[r * in + i] * dy[r * out + o];
            dW[i * out + o] += (float)acc;
        }
    for (size_t r = 0; dx && r < B; r++)
        for (size_t i = 0; i < in; i++) {
            double acc = 0.0;
            for (size_t o = 0; o < out; o++) acc += (double)dy[r * out + o] * W[i * out + o];
            dx[r * in + i] += (float)acc;
        }
    return NN_OK;
}
