/* nn_conv_batch.c — the batched convolution layer, forward and backward (see nn_conv_batch.h):
 * shapes and workspace, the naive references, and the fast path over the nn_tile kernels.
 *
 * The fast path copies what a unit of work reads into its thread's scratch first, so the
 * kernels never test bounds: the input band zero-padded ([rows][W + 2pw][C]) for the forward
 * and the weight gradient, and for the input gradient the band of dz spread out with sh - 1 /
 * sw - 1 zeros between its rows / columns and a border of KH - 1 - ph / KW - 1 - pw zeros
 * (([rows][W + KW - 1][N]), which turns dx into one stride-1 correlation with the flipped
 * kernels. */
#include "nn_conv_batch.h"

#include <stdlib.h>
#include <string.h>

#include "nn_parallel.h"
#include "nn_tile.h"

/* A batch smaller than this is cut into bands of rows, so small batches still give both cores
 * work; and the weight gradient goes into at most this many partial buffers (fixed, so the
 * sums never depend on the thread count). */
#define NN_CB_UNITS 16

typedef struct cb_plan {
    size_t B, H, W, C, N, KH, KW, OH, OW, sh, sw, ph, pw;
    size_t R;             /* bands per image: units are (image, band) */
    size_t units, groups; /* B * R; partial buffers of the weight gradient */
    size_t threads;
    size_t Np, Cp;        /* N, C padded to NN_TILE_PAD lanes */
    size_t xrow, zrow;    /* floats per padded input row, per spread-out dz row */
    size_t K;             /* KH * KW * C taps of one kernel */
    size_t per_thread;    /* floats of scratch per thread */
    size_t image_in, image_out; /* H*W*C, OH*OW*N */
} cb_plan;

static size_t pad16(size_t n) { return (n + NN_TILE_PAD - 1) / NN_TILE_PAD * NN_TILE_PAD; }

/* Rows [*lo, *hi) of band r of n rows cut into R bands. */
static void band(size_t n, size_t R, size_t r, size_t *lo, size_t *hi) {
    *lo = n * r / R;
    *hi = n * (r + 1) / R;
}

static nn_code cb_plan_make(cb_plan *pl, size_t B, size_t H, size_t W, size_t C, size_t N,
                            size_t KH, size_t KW, const nn_conv_params *p, nn_error *err) {
    size_t OH, OW;
    nn_code rc = nn_conv_output_size(H, W, C, N, KH, KW, p, &OH, &OW, err);
    if (rc) return rc;
    if (B == 0) return nn_fail(err, NN_INVALID, "batch", "batch size must be >= 1");
    size_t R = B >= NN_CB_UNITS ? 1 : (NN_CB_UNITS + B - 1) / B;
    if (R > OH) R = OH;
    *pl = (cb_plan){.B = B, .H = H, .W = W, .C = C, .N = N, .KH = KH, .KW = KW, .OH = OH, .OW = OW,
                    .sh = p->stride_h, .sw = p->stride_w, .ph = p->pad_h, .pw = p->pad_w, .R = R,
                    .units = B * R, .threads = nn_parallel_threads(), .Np = pad16(N),
                    .Cp = pad16(C)};
    pl->groups = pl->units < NN_CB_UNITS ? pl->units : NN_CB_UNITS;
    size_t xband = (OH + R - 1) / R, zband = (H + R - 1) / R; /* rows of a unit's band */
    /* Every size the workspace is made of, overflow-checked once here (nn_conv_output_size
     * checked the single tensors; these multiply them by B, the thread count, padded widths). */
    size_t xrows = (xband - 1) * pl->sh + KH, zrows = zband + KH - 1, xs, zs, t, in_all, out_all, parts;
    size_t d_x[3] = {xrows, W + 2 * pl->pw, C}, d_z[3] = {zrows, W + KW - 1, N}, d_in[2] = {B, H * W * C},
           d_out[2] = {B, OH * OW * N}, d_part[3] = {KH * KW * C + 1, pl->Np, NN_CB_UNITS};
    int bad = nn_size_prod(d_x, 3, &xs) || nn_size_prod(d_z, 3, &zs) || nn_size_prod(d_in, 2, &in_all) ||
              nn_size_prod(d_out, 2, &out_all) || nn_size_prod(d_part, 3, &parts) ||
              nn_size_add(xs + zs, OH * OW * N + 64, &t) || nn_size_mul(t, pl->threads, &t) ||
              nn_size_add(t, out_all, &t) || nn_size_add(t, parts, &t) ||
              nn_size_add(t, KH * KW * (pl->Cp + N) * pl->Np, &t) || nn_size_mul(t, sizeof(float), &t) ||
              nn_size_mul(in_all, sizeof(float), &t);
    if (bad) return nn_fail(err, NN_TOO_LARGE, "input", "a batch of %zu images %zux%zux%zu is too large", B, H, W, C);
    pl->xrow = (W + 2 * pl->pw) * C;
    pl->zrow = (W + KW - 1) * N;
    pl->K = KH * KW * C;
    pl->image_in = H * W * C;
    pl->image_out = OH * OW * N;
    /* whole-image units compute their image's dz themselves, in their scratch: it is still in
     * the cache when the kernels read it (one pass over the batch's dz instead was 40 % of the
     * weight gradient's time) */
    pl->per_thread = pad16(xs > zs ? xs : zs) + (R == 1 ? pad16(pl->image_out) : 0);
    return NN_OK;
}

/* Workspace layout (floats, each part a multiple of 16): forward: packed weights, then the
 * threads' scratch; backward: flipped weights (if dx is wanted), dz (if the activation is not
 * the identity), the partials, then the threads' scratch. */
static size_t fwd_floats(const cb_plan *pl) { return pl->K * pl->Np + pl->threads * pl->per_thread; }

static size_t part_floats(const cb_plan *pl) { return pl->K * pl->Np + pl->Np; }

static size_t flip_floats(const cb_plan *pl, int want_dx) {
    return want_dx ? pad16(pl->KH * pl->KW * pl->N * pl->Cp) : 0;
}

/* dz of the whole batch, for units that are bands of an image (dx needs the rows of the bands
 * around). */
static size_t dz_floats(const cb_plan *pl, nn_activation act) {
    return act.kind == NN_ACT_IDENTITY || pl->R == 1 ? 0 : pad16(pl->B * pl->image_out);
}

static size_t bwd_floats(const cb_plan *pl, nn_activation act, int want_dx) {
    return flip_floats(pl, want_dx) + dz_floats(pl, act) + pl->groups * part_floats(pl) +
           pl->threads * pl->per_thread;
}

nn_code nn_conv_batch_workspace_size(size_t B, size_t H, size_t W, size_t C, size_t N, size_t KH,
                                     size_t KW, const nn_conv_params *p, size_t *bytes,
                                     nn_error *err) {
    cb_plan pl;
    nn_code rc = cb_plan_make(&pl, B, H, W, C, N, KH, KW, p, err);
    if (rc) return rc;
    size_t f = fwd_floats(&pl), b = bwd_floats(&pl, p->act, 1);
    if (bytes) *bytes = (f > b ? f : b) * sizeof(float);
    return NN_OK;
}

static nn_code reserve(nn_workspace *ws, size_t floats, float **out, nn_error *err) {
    nn_code rc = nn_workspace_reserve(ws, floats * sizeof(float), err);
    if (rc) return rc;
    *out = ws->data;
    return NN_OK;
}

/* ---- the copies units make ---- */

/* Padded input rows [p0, p1) of image x ([H, W, C]) into dst, [p1 - p0][W + 2pw][C]. */
static void pad_rows(const cb_plan *pl, float *dst, const float *x, size_t p0, size_t p1) {
    const size_t C = pl->C, lo = pl->pw * C, mid = pl->W * C;
    for (size_t pr = p0; pr < p1; pr++, dst += pl->xrow) {
        if (pr < pl->ph || pr - pl->ph >= pl->H) {
            memset(dst, 0, pl->xrow * sizeof *dst);
            continue;
        }
        memset(dst, 0, lo * sizeof *dst);
        memcpy(dst + lo, x + (pr - pl->ph) * mid, mid * sizeof *dst);
        memset(dst + lo + mid, 0, (pl->xrow - lo - mid) * sizeof *dst);
    }
}

/* Index t / s if t (which may be negative) is a multiple of s in [0, s*n), else -1. */
static ptrdiff_t spread_index(ptrdiff_t t, size_t s, size_t n) {
    if (t < 0 || (size_t)t % s) return -1;
    return (size_t)t / s < n ? (ptrdiff_t)((size_t)t / s) : -1;
}

/* Rows [a0, a1) of dz ([OH, OW, N]) spread out into dst, [a1 - a0][W + KW - 1][N]: row a,
 * column q holds dz[(a - (KH-1-ph)) / sh, (q - (KW-1-pw)) / sw] where that divides, else 0. */
static void spread_rows(const cb_plan *pl, float *dst, const float *dz, size_t a0, size_t a1) {
    const size_t N = pl->N, zw = pl->W + pl->KW - 1;
    const ptrdiff_t offy = (ptrdiff_t)pl->KH - 1 - (ptrdiff_t)pl->ph, offx = (ptrdiff_t)pl->KW - 1 - (ptrdiff_t)pl->pw;
    for (size_t a = a0; a < a1; a++, dst += pl->zrow) {
        ptrdiff_t oy = spread_index((ptrdiff_t)a - offy, pl->sh, pl->OH);
        if (oy < 0) {
            memset(dst, 0, pl->zrow * sizeof *dst);
            continue;
        }
        const float *src = dz + (size_t)oy * pl->OW * N;
        if (pl->sw == 1 && offx >= 0) { /* a zero border, the row, a zero border */
            size_t lo = (size_t)offx * N, mid = pl->OW * N, hi = lo + mid < pl->zrow ? lo + mid : pl->zrow;
            memset(dst, 0, lo * sizeof *dst);
            memcpy(dst + lo, src, (hi - lo) * sizeof *dst);
            memset(dst + hi, 0, (pl->zrow - hi) * sizeof *dst);
            continue;
        }
        for (size_t q = 0; q < zw; q++) {
            ptrdiff_t ox = spread_index((ptrdiff_t)q - offx, pl->sw, pl->OW);
            if (ox < 0) memset(dst + q * N, 0, N * sizeof *dst);
            else memcpy(dst + q * N, src + (size_t)ox * N, N * sizeof *dst);
        }
    }
}

/* ---- forward ---- */

typedef struct cb_fwd {
    const cb_plan *pl;
    const nn_tile_ops *ops;
    float *y, *scratch;
    const float *x, *wpack, *bias;
    nn_activation act;
} cb_fwd;

static void fwd_units(void *ctx, size_t u0, size_t u1, size_t worker) {
    const cb_fwd *f = ctx;
    const cb_plan *pl = f->pl;
    float *xs = f->scratch + worker * pl->per_thread;
    for (size_t u = u0; u < u1; u++) {
        size_t b = u / pl->R, o0, o1;
        band(pl->OH, pl->R, u % pl->R, &o0, &o1);
        if (o0 == o1) continue;
        pad_rows(pl, xs, f->x + b * pl->image_in, o0 * pl->sh, (o1 - 1) * pl->sh + pl->KH);
        nn_tile_job j = {.x = xs, .xr = pl->sh * pl->xrow, .xc = pl->sw * pl->C, .xk = pl->xrow,
                         .y = f->y + b * pl->image_out + o0 * pl->OW * pl->N, .yr = pl->OW * pl->N,
                         .yc = pl->N, .w = (float *)f->wpack, .wld = pl->Np, .bias = f->bias,
                         .M = pl->N, .KH = pl->KH, .L = pl->KW * pl->C, .act = f->act};
        f->ops->corr(&j, 0, o1 - o0, 0, pl->OW);
    }
}

/* wp[((ky*KW + kx)*C + c)*Np + n] = k[n, ky, kx, c]; zero for n >= N. */
static void pack_weights(const cb_plan *pl, float *wp, const float *k) {
    memset(wp, 0, pl->K * pl->Np * sizeof *wp);
    for (size_t n = 0; n < pl->N; n++)
        for (size_t t = 0; t < pl->K; t++) wp[t * pl->Np + n] = k[n * pl->K + t];
}

nn_code nn_conv_batch_forward(float *y, const float *x, const float *k, const float *bias,
                              size_t B, size_t H, size_t W, size_t C, size_t N, size_t KH,
                              size_t KW, const nn_conv_params *p, nn_workspace *ws,
                              nn_error *err) {
    cb_plan pl;
    nn_code rc = cb_plan_make(&pl, B, H, W, C, N, KH, KW, p, err);
    if (rc) return rc;
    if (!y) return nn_fail(err, NN_INVALID, "output", "output must not be NULL");
    if (!x) return nn_fail(err, NN_INVALID, "input", "input must not be NULL");
    if (!k) return nn_fail(err, NN_INVALID, "kernel", "kernel must not be NULL");
    nn_workspace local = {0};
    float *w;
    rc = reserve(ws ? ws : &local, fwd_floats(&pl), &w, err);
    if (rc) return rc;
    pack_weights(&pl, w, k);
    cb_fwd f = {&pl, nn_tile_pick(), y, w + pl.K * pl.Np, x, w, bias, p->act};
    nn_parallel_for(pl.units, 1, fwd_units, &f);
    nn_workspace_free(&local);
    return NN_OK;
}

/* ---- backward ---- */

typedef struct cb_bwd {
    const cb_plan *pl;
    const nn_tile_ops *ops;
    float *dx, *part, *scratch;
    const float *dz, *x, *wflip, *dy, *y;
    int want_dk, want_db;
    nn_activation act;
} cb_bwd;

static void dz_rows(void *ctx, size_t r0, size_t r1, size_t worker) {
    (void)worker;
    const cb_bwd *bw = ctx;
    size_t row = bw->pl->OW * bw->pl->N;
    bw->ops->actgrad((float *)bw->dz + r0 * row, bw->dy + r0 * row, bw->y + r0 * row, (r1 - r0) * row, bw->act);
}

/* Unit u's share: its output band into the weight and bias gradient partial `part`, its
 * input band of dx. */
static void bwd_unit(const cb_bwd *bw, size_t u, float *part, float *scratch) {
    const cb_plan *pl = bw->pl;
    size_t b = u / pl->R, r = u % pl->R, o0, o1, i0, i1;
    const float *dz = bw->dz + b * pl->image_out;
    if (pl->R == 1 && bw->act.kind != NN_ACT_IDENTITY) {
        float *own = scratch + pl->per_thread - pad16(pl->image_out);
        bw->ops->actgrad(own, bw->dy + b * pl->image_out, bw->y + b * pl->image_out, pl->image_out, bw->act);
        dz = own;
    }
    band(pl->OH, pl->R, r, &o0, &o1);
    if (o1 > o0 && bw->want_dk) {
        pad_rows(pl, scratch, bw->x + b * pl->image_in, o0 * pl->sh, (o1 - 1) * pl->sh + pl->KH);
        nn_tile_job j = {.x = scratch, .xr = pl->sh * pl->xrow, .xc = pl->sw * pl->C, .xk = pl->xrow,
                         .y = (float *)dz + o0 * pl->OW * pl->N, .yr = pl->OW * pl->N, .yc = pl->N,
                         .w = part, .wld = pl->Np, .M = pl->N, .KH = pl->KH, .L = pl->KW * pl->C};
        bw->ops->dw(&j, 0, o1 - o0, 0, pl->OW, 0, j.L);
    }
    if (o1 > o0 && bw->want_db)
        bw->ops->colsum(part + pl->K * pl->Np, dz + o0 * pl->OW * pl->N, (o1 - o0) * pl->OW, pl->N, pl->N);
    band(pl->H, pl->R, r, &i0, &i1);
    if (i1 > i0 && bw->dx) {
        spread_rows(pl, scratch, dz, i0, i1 + pl->KH - 1);
        nn_tile_job j = {.x = scratch, .xr = pl->zrow, .xc = pl->N, .xk = pl->zrow,
                         .y = bw->dx + b * pl->image_in + i0 * pl->W * pl->C, .yr = pl->W * pl->C,
                         .yc = pl->C, .w = (float *)bw->wflip, .wld = pl->Cp, .M = pl->C,
                         .KH = pl->KH, .L = pl->KW * pl->N, .accumulate = 1};
        bw->ops->corr(&j, 0, i1 - i0, 0, pl->W);
    }
}

static void bwd_groups(void *ctx, size_t g0, size_t g1, size_t worker) {
    const cb_bwd *bw = ctx;
    const cb_plan *pl = bw->pl;
    float *scratch = bw->scratch + worker * pl->per_thread;
    for (size_t g = g0; g < g1; g++) {
        float *part = bw->part + g * part_floats(pl);
        size_t u0 = pl->units * g / pl->groups, u1 = pl->units * (g + 1) / pl->groups;
        for (size_t u = u0; u < u1; u++) bwd_unit(bw, u, part, scratch);
    }
}

/* wf[((ky'*KW + kx')*N + n)*Cp + c] = k[n, KH-1-ky', KW-1-kx', c]; zero for c >= C. */
static void flip_weights(const cb_plan *pl, float *wf, const float *k) {
    const size_t N = pl->N, C = pl->C, KH = pl->KH, KW = pl->KW;
    memset(wf, 0, KH * KW * N * pl->Cp * sizeof *wf);
    for (size_t n = 0; n < N; n++)
        for (size_t ky = 0; ky < KH; ky++)
            for (size_t kx = 0; kx < KW; kx++)
                memcpy(wf + (((KH - 1 - ky) * KW + (KW - 1 - kx)) * N + n) * pl->Cp,
                       k + ((n * KH + ky) * KW + kx) * C, C * sizeof *wf);
}

/* dk[n, tap] += sum over groups, in order, of part[g][tap][n]; db likewise. */
static void reduce_partials(const cb_plan *pl, float *dk, float *db, const float *part) {
    const size_t pf = part_floats(pl);
    for (size_t t = 0; t < pl->K + 1; t++) {
        float *dst = t < pl->K ? dk : db;
        if (!dst) continue;
        for (size_t n = 0; n < pl->N; n++) {
            float s = part[t * pl->Np + n];
            for (size_t g = 1; g < pl->groups; g++) s += part[g * pf + t * pl->Np + n];
            dst[t < pl->K ? n * pl->K + t : n] += s;
        }
    }
}

static nn_code bwd_check(const cb_plan *pl, float *dx, float *dk, const float *dy, const float *y,
                         const float *x, const float *k, const nn_conv_params *p, nn_error *err) {
    (void)pl;
    if (p->act.kind == NN_ACT_LEAKY_RELU && !(p->act.negative_slope >= 0.0f))
        return nn_fail(err, NN_INVALID, "negative_slope",
                       "backward needs a leaky ReLU slope >= 0 (got %g)", (double)p->act.negative_slope);
    if (!dy) return nn_fail(err, NN_INVALID, "grad_output", "grad_output must not be NULL");
    if (!y && p->act.kind != NN_ACT_IDENTITY)
        return nn_fail(err, NN_INVALID, "output", "the forward output is needed for the activation's gradient");
    if (dk && !x) return nn_fail(err, NN_INVALID, "input", "input must not be NULL");
    if (dx && !k) return nn_fail(err, NN_INVALID, "kernel", "kernel must not be NULL");
    return NN_OK;
}

nn_code nn_conv_batch_backward(float *dx, float *dk, float *db, const float *dy, const float *y,
                               const float *x, const float *k, size_t B, size_t H, size_t W,
                               size_t C, size_t N, size_t KH, size_t KW, const nn_conv_params *p,
                               nn_workspace *ws, nn_error *err) {
    cb_plan pl;
    nn_code rc = cb_plan_make(&pl, B, H, W, C, N, KH, KW, p, err);
    if (rc) return rc;
    rc = bwd_check(&pl, dx, dk, dy, y, x, k, p, err);
    if (rc) return rc;
    if (!dx && !dk && !db) return NN_OK;
    nn_workspace local = {0};
    float *w;
    rc = reserve(ws ? ws : &local, bwd_floats(&pl, p->act, dx != NULL), &w, err);
    if (rc) return rc;
    float *wflip = w, *dz = wflip + flip_floats(&pl, dx != NULL), *part = dz + dz_floats(&pl, p->act);
    cb_bwd bw = {&pl, nn_tile_pick(), dx, part, part + pl.groups * part_floats(&pl), dz, x, wflip,
                 dy, y, dk != NULL, db != NULL, p->act};
    if (p->act.kind == NN_ACT_IDENTITY || pl.R == 1) bw.dz = dy; /* (R == 1: each unit makes its own) */
    else nn_parallel_for(B * pl.OH, 1, dz_rows, &bw);
    if (dx) flip_weights(&pl, wflip, k);
    if (dk || db) memset(part, 0, pl.groups * part_floats(&pl) * sizeof *part);
    nn_parallel_for(pl.groups, 1, bwd_groups, &bw);
    if (dk || db) reduce_partials(&pl, dk, db, part);
    nn_workspace_free(&local);
    return NN_OK;
}

/* ---- naive references ---- */

nn_code nn_conv_batch_forward_naive(float *y, const float *x, const float *k, const float *bias,
                                    size_t B, size_t H, size_t W, size_t C, size_t N, size_t KH,
                                    size_t KW, const nn_conv_params *p, nn_error *err) {
    cb_plan pl;
    nn_code rc = cb_plan_make(&pl, B, H, W, C, N, KH, KW, p, err);
    if (rc) return rc;
    if (!y || !x) return nn_fail(err, NN_INVALID, !y ? "output" : "input", "buffers must not be NULL");
    for (size_t b = 0; b < B; b++) {
        rc = nn_conv2d_naive(y + b * pl.image_out, x + b * pl.image_in, k, bias, H, W, C, N, KH, KW, p, err);
        if (rc) return rc;
    }
    return NN_OK;
}

/* dz at flat index i of the output: dy * act'(z), from y. */
static float naive_dz(const float *dy, const float *y, size_t i, nn_activation act) {
    float g;
    if (act.kind == NN_ACT_IDENTITY) return dy[i];
    nn_act_grad_output(&g, dy + i, y + i, 1, act);
    return g;
}

/* dx of image b: each input value's gradient gathered from the windows that cover it. */
static void naive_dx(const cb_plan *pl, float *dx, const float *dy, const float *y, const float *k,
                     size_t b, nn_activation act) {
    for (size_t iy = 0; iy < pl->H; iy++)
        for (size_t ix = 0; ix < pl->W; ix++)
            for (size_t c = 0; c < pl->C; c++) {
                double acc = 0.0;
                for (size_t ky = 0; ky < pl->KH; ky++) {
                    ptrdiff_t oy = spread_index((ptrdiff_t)(iy + pl->ph) - (ptrdiff_t)ky, pl->sh, pl->OH);
                    for (size_t kx = 0; oy >= 0 && kx < pl->KW; kx++) {
                        ptrdiff_t ox = spread_index((ptrdiff_t)(ix + pl->pw) - (ptrdiff_t)kx, pl->sw, pl->OW);
                        if (ox < 0) continue;
                        size_t o = b * pl->image_out + ((size_t)oy * pl->OW + (size_t)ox) * pl->N;
                        for (size_t n = 0; n < pl->N; n++)
                            acc += (double)naive_dz(dy, y, o + n, act) *
                                   k[((n * pl->KH + ky) * pl->KW + kx) * pl->C + c];
                    }
                }
                dx[((b * pl->H + iy) * pl->W + ix) * pl->C + c] += (float)acc;
            }
}

/* dk[n, ky, kx, c] (t = (ky*KW + kx)*C + c; t == K: db[n]) over the whole batch. */
static double naive_dk(const cb_plan *pl, const float *dy, const float *y, const float *x, size_t n,
                       size_t t, nn_activation act) {
    size_t ky = t / (pl->KW * pl->C), kx = t / pl->C % pl->KW, c = t % pl->C;
    double acc = 0.0;
    for (size_t b = 0; b < pl->B; b++)
        for (size_t oy = 0; oy < pl->OH; oy++)
            for (size_t ox = 0; ox < pl->OW; ox++) {
                double g = naive_dz(dy, y, b * pl->image_out + (oy * pl->OW + ox) * pl->N + n, act);
                if (t == pl->K) {
                    acc += g;
                    continue;
                }
                size_t iy = oy * pl->sh + ky, ix = ox * pl->sw + kx; /* padded coordinates */
                if (iy < pl->ph || iy - pl->ph >= pl->H || ix < pl->pw || ix - pl->pw >= pl->W) continue;
                acc += g * x[((b * pl->H + iy - pl->ph) * pl->W + ix - pl->pw) * pl->C + c];
            }
    return acc;
}

nn_code nn_conv_batch_backward_naive(float *dx, float *dk, float *db, const float *dy,
                                     const float *y, const float *x, const float *k, size_t B,
                                     size_t H, size_t W, size_t C, size_t N, size_t KH, size_t KW,
                                     const nn_conv_params *p, nn_error *err) {
    cb_plan pl;
    nn_code rc = cb_plan_make(&pl, B, H, W, C, N, KH, KW, p, err);
    if (rc) return rc;
    rc = bwd_check(&pl, dx, dk, dy, y, x, k, p, err);
    if (rc) return rc;
    for (size_t b = 0; dx && b < B; b++) naive_dx(&pl, dx, dy, y, k, b, p->act);
    for (size_t n = 0; n < N; n++) {
        for (size_t t = 0; dk && t < pl.K; t++) dk[n * pl.K + t] += (float)naive_dk(&pl, dy, y, x, n, t, p->act);
        if (db) db[n] += (float)naive_dk(&pl, dy, y, x, n, pl.K, p->act);
    }
    return NN_OK;
}
